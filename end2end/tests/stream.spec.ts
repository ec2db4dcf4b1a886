import { test, expect } from "./fixtures/chat-page";
import { slowPort } from "../playwright.config";

const slowApp = `http://127.0.0.1:${slowPort}`;

test("the answer grows on screen while it is written", async ({ chat }) => {
  await chat.open(`${slowApp}/`);
  await chat.ask("Please stream slowly");
  const writing = chat.page.locator('article[data-kind="Writing"]');
  await expect(writing).toContainText("Streaming answers");
  // Words are on screen while the run still goes: no finished answer yet, the text grows.
  await expect(chat.answers()).toHaveCount(0);
  await expect(writing).toHaveAttribute("aria-busy", "true");
  const early = (await writing.innerText()).length;
  await expect.poll(async () => (await writing.innerText()).length).toBeGreaterThan(early);
  await expect(writing.locator("strong")).toHaveText("arrive word by word");
  // Then the stored answer takes its place, announced once.
  await chat.waitForAnswer();
  await expect(chat.answers().first()).toContainText("This one takes a few seconds on purpose.");
  await expect(writing).toHaveCount(0);
  await expect(chat.announcements).toContainText("This one takes a few seconds on purpose.");
});

test("Stop halts an answer mid-way and keeps what was written", async ({ chat }) => {
  await chat.open(`${slowApp}/`);
  await chat.ask("Please stream slowly, then stop");
  const writing = chat.page.locator('article[data-kind="Writing"]');
  await expect(writing).toContainText("Streaming answers");
  await chat.page.getByRole("button", { name: "Stop" }).click();
  await expect(chat.errors().first()).toContainText("The answer was stopped.");
  await expect(chat.answers().first()).toContainText("Streaming answers");
  await expect(chat.answers().first()).not.toContainText("on purpose");
  await expect(chat.thinking).toHaveCount(0);
});

test("when the stream cannot be opened the poll still brings the answer", async ({ chat, page }) => {
  let refused = 0;
  await page.route("**/events?render=html", (route) => {
    refused += 1;
    return route.abort();
  });
  chat.expectedConsole.push(/events\?render=html/, /ERR_FAILED/);
  await chat.open(`${slowApp}/`);
  await chat.ask("Please stream slowly, without the stream");
  await chat.waitForAnswer();
  await expect(chat.answers().first()).toContainText("This one takes a few seconds on purpose.");
  expect(refused).toBeGreaterThan(0);
});
