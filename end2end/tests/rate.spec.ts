import { test, expect, expectAccessible } from "./fixtures/chat-page";

test("a reader rates an answer, says why it did not help, and changes their mind", async ({ chat, page }) => {
  const answer = await chat.answerTo("How do I deploy with Postgres?");
  const helpful = answer.getByRole("button", { name: "Helpful", exact: true });
  const notHelpful = answer.getByRole("button", { name: "Not helpful" });
  await expect(helpful).toHaveAttribute("aria-pressed", "false");
  await expect(notHelpful).toHaveAttribute("aria-pressed", "false");

  // "Not helpful", then what was wrong.
  await notHelpful.click();
  await expect(notHelpful).toHaveAttribute("aria-pressed", "true");
  const why = answer.getByRole("group", { name: "What was wrong? (optional)" });
  await why.getByRole("radio", { name: "Incomplete" }).check();
  await answer.getByRole("textbox", { name: "Anything else?" }).fill("Nothing about connection pools.");
  await expectAccessible(page, 'article[data-kind="Assistant"]');
  await answer.getByRole("button", { name: "Send feedback" }).click();
  await expect(answer.getByRole("status")).toContainText("Thanks");
  await expect(why).toHaveCount(0);

  // Stored: a reload shows the choice, and the API has the reason and the words.
  await page.reload();
  await chat.hydrated();
  await expect(notHelpful).toHaveAttribute("aria-pressed", "true");
  const threadId = new URL(page.url()).pathname.split("/").pop();
  const list = await (await page.request.get(`/api/paste-assistant-messages/${threadId}`)).json();
  const stored = list.data.find((m: { role: string }) => m.role === "assistant");
  expect(stored.metadata.feedback).toBe("down");

  // Changed to "Helpful", then taken back.
  await helpful.click();
  await expect(helpful).toHaveAttribute("aria-pressed", "true");
  await expect(notHelpful).toHaveAttribute("aria-pressed", "false");
  await expect(answer.getByRole("group", { name: "What was wrong? (optional)" })).toHaveCount(0);
  await helpful.click();
  await expect(helpful).toHaveAttribute("aria-pressed", "false");
  await expect
    .poll(async () => {
      const l = await (await page.request.get(`/api/paste-assistant-messages/${threadId}`)).json();
      return l.data.find((m: { role: string }) => m.role === "assistant").metadata.feedback ?? null;
    })
    .toBeNull();
});
