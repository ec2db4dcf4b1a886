import { test, expect } from "./fixtures/chat-page";
import { budgetPort } from "../playwright.config";

test("a spent daily budget is explained in the conversation", async ({ chat }) => {
  chat.expectedConsole.push(/status of 429 \(Too Many Requests\)/);
  await chat.open(`http://127.0.0.1:${budgetPort}/`);
  // The first question fits in the budget (nothing was spent yet); its answer spends it.
  await chat.ask("show code for the widget");
  await chat.waitForAnswer();
  await chat.ask("And another one?");
  await expect(chat.errors().last()).toContainText("You have used today's share of the assistant");
  await expect(chat.errors().last()).toContainText("midnight UTC");
  await expect(chat.thinking).toHaveCount(0);
  // The refused question was not stored: a reload shows one question.
  await chat.page.reload();
  await chat.hydrated();
  await expect(chat.questions()).toHaveCount(1);
});

test("a long thread shows its newest 50 items and loads earlier ones on demand", async ({ chat, page }) => {
  await chat.open("/");
  const api = page.request;
  const thread = await (await api.post("/api/paste-assistant-thread", { data: {} })).json();
  for (let i = 0; i < 30; i++) {
    const sent = await api.post("/api/paste-assistant-message", {
      data: { threadId: thread.id, message: `Question ${i} about buttons` },
    });
    expect(sent.status()).toBe(200);
    const { run } = await sent.json();
    await expect
      .poll(async () => (await (await api.get(`/api/paste-assistant-thread/${thread.id}/run/${run.id}`)).json()).status, {
        timeout: 10_000,
        intervals: [50],
      })
      .toBe("completed");
  }
  await chat.open(`/t/${thread.id}`);
  const bubbles = chat.log.locator("article");
  await expect(bubbles).toHaveCount(50);
  await expect(chat.questions().first()).toContainText("Question 5 about buttons");
  await chat.page.getByRole("button", { name: "Load earlier messages (10 more)" }).click();
  await expect(bubbles).toHaveCount(60);
  await expect(chat.questions().first()).toContainText("Question 0 about buttons");
  await expect(chat.page.getByRole("button", { name: /Load earlier/ })).toHaveCount(0);
});
