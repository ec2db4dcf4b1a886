import { test, expect, expectAccessible, screenshot } from "./fixtures/chat-page";

test("the empty state has no serious accessibility problems", async ({ chat, page }) => {
  await chat.open();
  const disclaimer = page.locator(".disclaimer");
  await expect(disclaimer).toContainText("Experimental.");
  await expect(disclaimer).toContainText("can be wrong");
  await expect(disclaimer).toContainText("stored on this assistant's server");
  await expectAccessible(page);
  await screenshot(page, "empty-state");
});

test("a conversation has no serious accessibility problems", async ({ chat, page }) => {
  await chat.answerTo("How do I deploy with Postgres?");
  await chat.ask("Which environment variables configure the server?");
  await chat.waitForAnswer(2);
  await expectAccessible(page);
  await screenshot(page, "conversation");
});

test("everything works from the keyboard alone", async ({ chat, page }) => {
  await chat.open();
  // The composer has focus on arrival: type and send.
  await expect(chat.messageBox).toBeFocused();
  await page.keyboard.type("What is a thread?");
  await page.keyboard.press("Enter");
  await chat.waitForAnswer();
  await expect(page).toHaveURL(/\/t\//);
  const first = page.url();
  // The shortcut starts a new thread with the composer focused.
  await page.keyboard.press("Control+Shift+O");
  await expect(page).toHaveURL(/\/$/);
  await expect(chat.messageBox).toBeFocused();
  await page.keyboard.type("What is a run?");
  await page.keyboard.press("Enter");
  await chat.waitForAnswer();
  // Tab from the New thread button reaches the threads; Enter opens one and focus goes back
  // to the composer.
  await chat.newThreadButton.focus();
  await page.keyboard.press("Tab");
  const focused = page.locator(":focus");
  await expect(focused).toHaveAttribute("href", /\/t\//);
  await page.keyboard.press("Tab");
  await expect(focused).toHaveAccessibleName("Rename thread");
  await page.keyboard.press("Tab");
  await expect(focused).toHaveAccessibleName("Delete thread");
  await page.keyboard.press("Tab");
  await expect(focused).toHaveAttribute("href", new URL(first).pathname);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(first);
  await expect(chat.messageBox).toBeFocused();
  // Focus rings are visible.
  await chat.newThreadButton.focus();
  await page.keyboard.press("Tab");
  const outline = await focused.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).toBe("solid");
});

test.describe("in dark mode", () => {
  test.use({ colorScheme: "dark" });
  test("the theme is dark and still accessible", async ({ chat, page }) => {
    await chat.answerTo("How do I deploy with Postgres?");
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe("rgb(18, 28, 45)");
    await expectAccessible(page);
    await screenshot(page, "dark-mode");
  });
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 375, height: 740 } });
  test("the sidebar is a drawer and nothing overflows", async ({ chat, page }) => {
    await chat.answerTo("How do I deploy with Postgres?");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(overflow).toBeLessThanOrEqual(375);
    await expect(chat.threads).toBeHidden();
    const menu = page.getByRole("button", { name: "Threads" });
    await expect(menu).toHaveAttribute("aria-expanded", "false");
    await menu.click();
    await expect(menu).toHaveAttribute("aria-expanded", "true");
    await expect(chat.threads).toBeVisible();
    await expect(chat.newThreadButton).toBeFocused();
    await expectAccessible(page);
    await screenshot(page, "mobile-drawer");
    // Escape closes it and focus returns to the menu button.
    await page.keyboard.press("Escape");
    await expect(chat.threads).toBeHidden();
    await expect(menu).toBeFocused();
    // Picking a thread closes the drawer.
    await menu.click();
    await chat.newThreadButton.click();
    await expect(chat.threads).toBeHidden();
    await menu.click();
    await chat.threadItems().first().getByRole("link").click();
    await expect(chat.threads).toBeHidden();
    await expect(chat.answers()).toHaveCount(1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  });
});

test("?q= in the URL fills the composer and waits for the person to send it", async ({ chat, page }) => {
  await page.goto("/?q=How%20do%20I%20deploy%20with%20Postgres%3F");
  await chat.hydrated();
  const input = page.getByRole("textbox", { name: "Message" });
  await expect(input).toHaveValue("How do I deploy with Postgres?");
  await expect(input).toBeFocused();
  // A link from anywhere must not ask in the visitor's name: nothing is sent by itself.
  await expect(chat.questions()).toHaveCount(0);
  await expect(chat.threadItems()).toHaveCount(0);
  await page.keyboard.press("Enter");
  await expect(chat.questions().first()).toContainText("How do I deploy with Postgres?");
  await chat.waitForAnswer();
  await expect(page).toHaveURL(/\/t\/thread_/);
  await expect(chat.threadItems()).toHaveCount(1);
});
