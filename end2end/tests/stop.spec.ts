import { test, expect } from "./fixtures/chat-page";
import { slowPort } from "../playwright.config";

const slowApp = `http://127.0.0.1:${slowPort}`;

test("Stop cancels an answer that is still being written", async ({ chat }) => {
  await chat.open(`${slowApp}/`);
  await expect(chat.page.getByText("fake-slow-model")).toBeVisible();
  await chat.ask("What takes so long?");
  const stop = chat.page.getByRole("button", { name: "Stop" });
  await expect(stop).toBeVisible();
  await expect(chat.sendButton).toBeDisabled();
  await stop.click();
  await expect(chat.errors().first()).toContainText("The answer was stopped.");
  await expect(stop).toHaveCount(0);
  await expect(chat.thinking).toHaveCount(0);
  await chat.messageBox.fill("Next question");
  await expect(chat.sendButton).toBeEnabled();
});

test("a failed run shows its error and the next message works", async ({ chat }) => {
  await chat.open(`${slowApp}/`);
  await chat.ask("please fail");
  await expect(chat.errors().first()).toContainText("OPENAI_API_KEY");
  await expect(chat.thinking).toHaveCount(0);
  await chat.ask("Now answer slowly");
  await expect(chat.answers().first()).toContainText("Slow answer from the fake model", { timeout: 20_000 });
  await expect(chat.questions()).toHaveCount(2);
});
