import { test, expect } from "./fixtures/chat-page";

test("deleting a thread removes it", async ({ chat, page }) => {
  await chat.open();
  await chat.ask("What is a thread?");
  await chat.waitForAnswer();
  await expect(chat.threadItems()).toHaveCount(1);
  await chat.threads.getByRole("button", { name: "Delete thread" }).click();
  await expect(chat.threadItems()).toHaveCount(0);
  await expect(page).toHaveURL(/\/$/);
  await page.reload();
  await chat.hydrated();
  await expect(chat.threadItems()).toHaveCount(0);
});

test("Backspace on a focused thread deletes it", async ({ chat }) => {
  await chat.open();
  await chat.ask("What is a run step?");
  await chat.waitForAnswer();
  await chat.newThreadButton.click();
  await chat.ask("What is the docs search?");
  await chat.waitForAnswer();
  await expect(chat.threadItems()).toHaveCount(2);
  const older = chat.threadItems().nth(1).getByRole("link");
  const title = await older.textContent();
  await older.focus();
  await older.press("Backspace");
  await expect(chat.threadItems()).toHaveCount(1);
  await expect(chat.threads).not.toContainText(title ?? "");
});
