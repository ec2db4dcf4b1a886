import { test, expect } from "./fixtures/chat-page";

test("the first message gives the thread a title in the sidebar", async ({ chat }) => {
  await chat.open();
  await chat.ask("How do I configure the session secret?");
  await chat.waitForAnswer();
  const item = chat.threadItems().first();
  await expect(item).toContainText("Configure session secret");
  await expect(item).not.toContainText("New thread");
  await expect(item.locator("time")).toHaveText(/^\d{4}-\d{2}-\d{2}$/);
});
