import { test, expect } from "./fixtures/chat-page";
import { slowPort } from "../playwright.config";

const slowApp = `http://127.0.0.1:${slowPort}`;
const longQuestion = Array.from({ length: 40 }, (_, i) => `Line ${i + 1} of a long question`).join("\n");

test("the newest answer is revealed and announced; the question is not", async ({ chat }) => {
  await chat.answerTo("How do I deploy with Postgres?");
  const answer = chat.answers().first();
  await expect(answer).toHaveClass(/reveal/);
  const animation = await answer.evaluate((el) => getComputedStyle(el).animationName);
  expect(animation).toBe("reveal");
  await expect(chat.announcements).toContainText("Here is what the docs say");
  await expect(chat.announcements).not.toContainText("How do I deploy with Postgres?");
  // Answers loaded with the page are neither revealed nor announced again.
  await chat.page.reload();
  await chat.hydrated();
  await expect(chat.answers().first()).not.toHaveClass(/reveal/);
  await expect(chat.announcements).toHaveText("");
});

test.describe("with reduced motion", () => {
  test.use({ reducedMotion: "reduce" });
  test("the reveal is off", async ({ chat }) => {
    await chat.answerTo("What is a thread?");
    const answer = chat.answers().first();
    await expect(answer).toHaveClass(/reveal/);
    expect(await answer.evaluate((el) => getComputedStyle(el).animationName)).toBe("none");
  });
});

test("auto-scroll follows the answer unless the person scrolled up: then Jump to latest", async ({ chat, page }) => {
  await page.setViewportSize({ width: 1000, height: 600 });
  await chat.open(`${slowApp}/`);
  const scroller = page.locator(".messages");
  const atEnd = () =>
    scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 48);
  await chat.ask(longQuestion);
  await chat.waitForAnswer(1);
  expect(await atEnd()).toBe(true);
  // Scrolled up while the next answer is written: the view stays, a button appears.
  await chat.ask(longQuestion);
  await expect(chat.thinking).toBeVisible();
  // Once the sent message has been scrolled into view, the person scrolls up to read.
  await expect.poll(atEnd).toBe(true);
  await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
  await expect.poll(() => scroller.evaluate((el) => el.scrollTop)).toBe(0);
  await chat.waitForAnswer(2);
  const jump = page.getByRole("button", { name: /Jump to latest/ });
  await expect(jump).toBeVisible();
  expect(await scroller.evaluate((el) => el.scrollTop)).toBeLessThan(50);
  await jump.click();
  await expect(jump).toHaveCount(0);
  await expect.poll(atEnd).toBe(true);
});
