import { test, expect } from "./fixtures/chat-page";

test("Shift+Enter starts a new line and Enter sends", async ({ chat }) => {
  await chat.open();
  await chat.messageBox.click();
  await chat.messageBox.pressSequentially("First line");
  await chat.messageBox.press("Shift+Enter");
  await chat.messageBox.pressSequentially("second line");
  await expect(chat.messageBox).toHaveValue("First line\nsecond line");
  await expect(chat.questions()).toHaveCount(0);
  await chat.messageBox.press("Enter");
  await expect(chat.questions().first()).toContainText("First line\nsecond line");
  await expect(chat.messageBox).toHaveValue("");
  await chat.waitForAnswer();
});
