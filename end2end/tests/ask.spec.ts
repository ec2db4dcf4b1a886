import { test, expect } from "./fixtures/chat-page";

test("a person asks a question and reads the answer from the docs", async ({ chat, page }) => {
  // A slow network keeps the run visibly pending for a moment.
  await page.route(/\/api\/send_message/, async (route) => {
    await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });
  await chat.open();
  await expect(page.getByRole("heading", { name: "Ask the docs" })).toBeVisible();
  await chat.ask("How do I deploy with Postgres?");
  // The message shows at once, with a thinking bubble while the run is active.
  await expect(chat.questions().first()).toContainText("How do I deploy with Postgres?");
  await expect(chat.thinking).toBeVisible();
  await expect(chat.sendButton).toBeDisabled();
  await chat.waitForAnswer();
  const answer = chat.answers().first();
  await expect(answer).toContainText("Here is what the docs say");
  // Markdown is rendered: headings with links to the docs pages.
  const link = answer.getByRole("link").first();
  await expect(link).toHaveAttribute("href", /^\/docs\//);
  await expect(link).toHaveAttribute("target", "_blank");
  await expect(page).toHaveURL(/\/t\/thread_/);
  // The composer works again.
  await chat.messageBox.fill("And SQLite?");
  await expect(chat.sendButton).toBeEnabled();
});

test("an example question starts a thread", async ({ chat }) => {
  await chat.open();
  await chat.page.getByRole("button", { name: "How do I set up Paste Assistant on my machine?" }).click();
  await expect(chat.questions().first()).toContainText("How do I set up Paste Assistant");
  await chat.waitForAnswer();
  await expect(chat.answers().first()).toContainText("Setting up Paste Assistant");
});

test("a second question in the same thread gets its own answer", async ({ chat }) => {
  await chat.open();
  await chat.ask("What is the offline model?");
  await chat.waitForAnswer(1);
  await chat.ask("How are sessions kept private?");
  await chat.waitForAnswer(2);
  await expect(chat.questions()).toHaveCount(2);
  await expect(chat.threadItems()).toHaveCount(1);
});

test("a message the server refuses shows its error and the composer works again", async ({ chat }) => {
  chat.expectedConsole.push(/status of 400 \(Bad Request\)/);
  await chat.open();
  await chat.ask("x".repeat(2001));
  await expect(chat.errors().first()).toContainText("longer than the limit");
  // The empty thread made for the refused message is removed again.
  await expect(chat.threadItems()).toHaveCount(0);
  await chat.ask("What is a run?");
  await chat.waitForAnswer(1);
  await expect(chat.errors()).toHaveCount(0);
});
