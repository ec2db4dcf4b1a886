import * as fs from "fs";
import * as path from "path";
import { test, expect } from "./fixtures/chat-page";

// The README's screenshot: made here, on every Playwright run, so it shows the app as it is.
// Commit `docs/images/conversation.png` when the app's look changes.
test("the README's screenshot shows an answer with its sources", async ({ chat, page }) => {
  await page.setViewportSize({ width: 1200, height: 760 });
  await chat.answerTo("How do I embed the widget on my docs site?");
  const answer = page.locator('article[data-kind="Assistant"]').last();
  await expect(answer.locator("nav.sources a").first()).toBeVisible();
  // The answer's reveal has ended and it is in view: the picture shows it whole.
  await page.waitForFunction(() =>
    document.getAnimations().every((a) => a.playState !== "running" || a.effect?.getComputedTiming().iterations === Infinity),
  );
  await expect(answer).toBeInViewport();
  const file = path.join(__dirname, "..", "..", "docs", "images", "conversation.png");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file });
  expect(fs.statSync(file).size).toBeGreaterThan(20_000);
});
