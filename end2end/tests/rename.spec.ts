import { test, expect } from "./fixtures/chat-page";

test("a thread is renamed inline and keeps its name after a reload", async ({ chat, page }) => {
  await chat.answerTo("How do I configure the model?");
  const item = chat.threadItems().first();
  await item.getByRole("button", { name: "Rename thread" }).click();
  const input = page.getByRole("textbox", { name: "Thread title" });
  await expect(input).toBeFocused();
  await input.fill("Model settings");
  await input.press("Enter");
  await expect(input).toHaveCount(0);
  await expect(item.getByRole("link")).toContainText("Model settings");
  await expect(item.getByRole("link")).toBeFocused();
  await page.reload();
  await chat.hydrated();
  await expect(chat.threadItems().first()).toContainText("Model settings");
});

test("F2 renames, Escape cancels, and an empty title keeps the old one", async ({ chat, page }) => {
  await chat.answerTo("What is the offline model?");
  const link = chat.threadItems().first().getByRole("link");
  await expect(link).not.toContainText("New thread");
  const before = (await link.locator(".thread-title").textContent()) ?? "";
  await link.focus();
  await link.press("F2");
  const input = page.getByRole("textbox", { name: "Thread title" });
  await input.fill("Something else");
  await input.press("Escape");
  await expect(chat.threadItems().first().getByRole("link")).toContainText(before);
  await chat.threadItems().first().getByRole("link").press("F2");
  await input.fill("   ");
  await input.press("Enter");
  await expect(chat.threadItems().first().getByRole("link")).toContainText(before);
});
