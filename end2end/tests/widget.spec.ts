import { test, expect, expectAccessible, screenshot } from "./fixtures/chat-page";
import { hostPort } from "../playwright.config";

const hostPage = `http://127.0.0.1:${hostPort}/`;

test("the widget on another site opens, answers, closes and keeps the thread", async ({ chat, page }) => {
  await page.goto(hostPage);
  const launcher = page.getByRole("button", { name: "Ask the docs" });
  await expect(launcher).toBeVisible();
  // The host page's CSS does not reach the widget, and the widget's does not reach the page.
  const launcherStyle = await launcher.evaluate((el) => {
    const s = getComputedStyle(el);
    return { background: s.backgroundColor, size: s.fontSize };
  });
  expect(launcherStyle).toEqual({ background: "rgb(2, 99, 224)", size: "16px" });
  const hostButton = page.locator("#host-button");
  expect(await hostButton.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(255, 0, 0)");

  await launcher.click();
  const dialog = page.getByRole("dialog", { name: "Ask the docs" });
  await expect(dialog).toBeVisible();
  const headStyle = await dialog.getByText("Ask the docs").evaluate((el) => {
    const s = getComputedStyle(el);
    return { font: s.fontFamily.includes("Comic"), spacing: s.letterSpacing };
  });
  expect(headStyle).toEqual({ font: false, spacing: "normal" });
  const hostBorder = await page
    .locator("paste-assistant-widget")
    .evaluate((el) => getComputedStyle(el).borderTopStyle);
  expect(hostBorder).toBe("none");
  const frame = page.frameLocator('iframe[title="Ask the docs"]');
  await frame.locator('body[data-hydrated="true"]').waitFor();
  const box = frame.getByRole("textbox", { name: "Message" });
  await expect(box).toBeFocused();
  await box.fill("How do I deploy with Postgres?");
  await box.press("Enter");
  const answer = frame.locator('article[data-kind="Assistant"]');
  await expect(answer).toContainText("Here is what the docs say", { timeout: 20_000 });
  await expect(frame.getByRole("combobox", { name: "Thread" })).toContainText("Deploy");
  await expectAccessible(page);
  await screenshot(page, "widget");

  // Escape inside the widget closes it; focus returns to the launcher.
  await box.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(launcher).toBeFocused();
  // Reopening keeps the thread.
  await launcher.click();
  await expect(answer).toContainText("Here is what the docs say");

  // A later visit to the host site finds the conversation again: the session cookie works in
  // the cross-site iframe.
  await page.reload();
  await page.getByRole("button", { name: "Ask the docs" }).click();
  await frame.locator('body[data-hydrated="true"]').waitFor();
  await expect(answer).toContainText("Here is what the docs say");
  await expect(frame.getByRole("button", { name: "New" })).toBeEnabled();
  await frame.getByRole("button", { name: "New" }).click();
  await expect(answer).toHaveCount(0);
  await expect(frame.getByRole("heading", { name: "Ask the docs" })).toBeVisible();
  // The close button works too.
  await page.getByRole("button", { name: "Close Ask the docs" }).click();
  await expect(dialog).toBeHidden();
});

test("in the widget, an answer to a question the docs do not cover says so under it", async ({ chat }) => {
  await chat.open("/embed");
  await chat.ask("How do I bake sourdough bread?");
  await chat.waitForAnswer();
  const answer = chat.answers().first();
  await expect(answer).toContainText("The docs don't cover");
  await expect(answer.getByRole("note")).toHaveText("The docs don't cover this question.");
});

test("the embed page is a compact chat with the same components", async ({ chat, page }) => {
  await chat.open("/embed");
  await expect(page.getByRole("combobox", { name: "Thread" })).toBeVisible();
  await expect(chat.threads).toHaveCount(0);
  await chat.ask("What is a thread?");
  await chat.waitForAnswer();
  await expect(page).toHaveURL(/\/embed$/);
  await expectAccessible(page);
});

test("the script tag's attributes set title, accent, position and opening at load", async ({ page }) => {
  await page.goto(`${hostPage}?title=Help%20center&accent=%23a1124f&position=left&open=true`);
  const dialog = page.getByRole("dialog", { name: "Help center" });
  await expect(dialog).toBeVisible();
  const box = await dialog.boundingBox();
  expect(box!.x).toBeLessThan(100);
  const frame = page.frameLocator('iframe[title="Help center"]');
  await frame.locator('body[data-hydrated="true"]').waitFor();
  await expect(frame.locator(".embed")).toHaveAttribute("style", /--accent: #a1124f/);
  await page.getByRole("button", { name: "Close Help center" }).click();
  const launcher = page.getByRole("button", { name: "Help center" });
  await expect(launcher).toBeFocused();
  expect(await launcher.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(161, 18, 79)");
});
