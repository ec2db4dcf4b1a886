import { test, expect } from "./fixtures/chat-page";

test("deleting a thread hides it at once and removes it after the undo time", async ({ chat, page }) => {
  await chat.answerTo("What is a thread?");
  await expect(chat.threadItems()).toHaveCount(1);
  await chat.threads.getByRole("button", { name: "Delete thread" }).click();
  await expect(chat.threadItems()).toHaveCount(0);
  await expect(page).toHaveURL(/\/$/);
  const toast = page.getByRole("status").filter({ hasText: "Deleted" });
  await expect(toast).toContainText("Deleted “");
  await expect(toast.getByRole("button", { name: "Undo" })).toBeVisible();
  // Once the undo time is over, it is gone for good.
  await expect(toast).toHaveCount(0, { timeout: 10_000 });
  await page.reload();
  await chat.hydrated();
  await expect(chat.threadItems()).toHaveCount(0);
});

test("Undo brings a deleted thread back", async ({ chat, page }) => {
  // The page's clock, so the undo time can be passed without waiting it out.
  await page.clock.install();
  await chat.answerTo("What is a run?");
  const title = (await chat.threadItems().first().locator(".thread-title").textContent()) ?? "";
  await chat.threads.getByRole("button", { name: "Delete thread" }).click();
  await expect(chat.threadItems()).toHaveCount(0);
  await page.getByRole("button", { name: "Undo" }).click();
  await expect(chat.threadItems()).toHaveCount(1);
  await expect(chat.threadItems().first()).toContainText(title);
  // Still there after the undo time and a reload.
  await page.clock.fastForward(7_000);
  await page.reload();
  await chat.hydrated();
  await expect(chat.threadItems()).toHaveCount(1);
});

test("a deletion waiting for its undo time still happens when the page is left", async ({ chat, page }) => {
  await chat.answerTo("What is a message?");
  await chat.threads.getByRole("button", { name: "Delete thread" }).click();
  await expect(chat.threadItems()).toHaveCount(0);
  await page.reload();
  await chat.hydrated();
  await expect
    .poll(async () => {
      await page.reload();
      await chat.hydrated();
      return chat.threadItems().count();
    })
    .toBe(0);
});

test("Backspace on a focused thread deletes it", async ({ chat }) => {
  await chat.answerTo("What is a run step?");
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
  // Focus lands somewhere useful, not on the removed item.
  await expect(chat.newThreadButton).toBeFocused();
});
