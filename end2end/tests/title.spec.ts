import { test, expect } from "./fixtures/chat-page";

test("the first message gives the thread a title in the sidebar", async ({ chat }) => {
  await chat.answerTo("How do I configure the session secret?");
  const item = chat.threadItems().first();
  await expect(item).toContainText("Configure session secret");
  await expect(item).not.toContainText("New thread");
  // The date is in the person's locale (en-US here), the machine-readable one in datetime.
  await expect(item.locator("time")).toHaveText(/^[A-Z][a-z]{2} \d{1,2}, \d{4}$/);
  await expect(item.locator("time")).toHaveAttribute("datetime", /^\d{4}-\d{2}-\d{2}$/);
});

test.describe("in a German browser", () => {
  test.use({ locale: "de-DE" });
  test("thread dates follow the locale", async ({ chat }) => {
    await chat.answerTo("What is a thread?");
    await expect(chat.threadItems().first().locator("time")).toHaveText(/^\d{2}\.\d{2}\.\d{4}$/);
  });
});
