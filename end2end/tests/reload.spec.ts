import { test, expect } from "./fixtures/chat-page";

test("a reload keeps the thread and its messages", async ({ chat, page }) => {
  await chat.answerTo("Where is data stored?");
  const url = page.url();
  await page.reload();
  await chat.hydrated();
  expect(page.url()).toBe(url);
  await expect(chat.questions().first()).toContainText("Where is data stored?");
  await expect(chat.answers()).toHaveCount(1);
  await expect(chat.threadItems()).toHaveCount(1);
  // Threads are listed newest first; the new-thread button leads back to the empty state.
  await chat.newThreadButton.click();
  await expect(page).toHaveURL(/\/$/);
  await expect(chat.messageBox).toBeFocused();
  await chat.ask("What does the HTTP API offer?");
  await chat.waitForAnswer();
  await expect(chat.threadItems()).toHaveCount(2);
  await expect(chat.threadItems().first()).toContainText("HTTP API");
});
