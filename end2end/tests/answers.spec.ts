import { test, expect } from "./fixtures/chat-page";
import { slowPort } from "../playwright.config";

const slowApp = `http://127.0.0.1:${slowPort}`;

test("an answer lists the docs pages it used as sources", async ({ chat }) => {
  await chat.answerTo("How do I deploy with Postgres?");
  const sources = chat.answers().first().getByRole("navigation", { name: "Sources" });
  await expect(sources).toBeVisible();
  const links = sources.getByRole("link");
  expect(await links.count()).toBeGreaterThan(0);
  await expect(links.first()).toHaveAttribute("href", /^\/docs\/[^#]+$/);
  await expect(links.first()).toHaveAttribute("target", "_blank");
  await expect(sources.getByRole("link", { name: /Deploy/ })).toHaveCount(1);
});

test("code blocks have a language label and a Copy button; tables and links render", async ({ chat, page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: slowApp });
  await chat.open(`${slowApp}/`);
  await chat.ask("show code please");
  await chat.waitForAnswer();
  const answer = chat.answers().first();
  const block = answer.locator(".code-block");
  await expect(block.locator(".code-lang")).toHaveText("bash");
  await expect(block.locator("pre")).toHaveText("npm install @twilio-paste/core");
  await expect(answer.getByRole("table")).toContainText("Default");
  const link = answer.getByRole("link", { name: "the setup guide" });
  await expect(link).toHaveAttribute("target", "_blank");
  await expect(link).toHaveAttribute("rel", /noopener/);
  const copy = answer.getByRole("button", { name: "Copy bash code" });
  await copy.click();
  await expect(copy).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("npm install @twilio-paste/core\n");
  await expect(copy).toHaveText("Copy", { timeout: 5_000 });
});

test("untrusted Markdown never runs script", async ({ chat, page }) => {
  const dialogs: string[] = [];
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  await chat.open(`${slowApp}/`);
  // The question, the answer and a typed title all carry payloads.
  await chat.ask("xss <img src=x onerror=\"window.__xss='question'\"> <script>window.__xss='q'</script>");
  await chat.waitForAnswer();
  const answer = chat.answers().first();
  await expect(answer).toContainText("markdown link");
  const item = chat.threadItems().first();
  await item.getByRole("button", { name: "Rename thread" }).click();
  const input = page.getByRole("textbox", { name: "Thread title" });
  await input.fill("<img src=x onerror=\"window.__xss='title'\">");
  await input.press("Enter");
  await expect(item).toContainText("<img src=x");
  // Hover and click what could carry a handler or a javascript: URL.
  await answer.hover();
  await answer.getByRole("link", { name: "markdown link" }).click();
  await expect(answer.getByRole("link", { name: "html link" })).toHaveCount(0);
  await page.reload();
  await chat.hydrated();
  await expect(chat.answers().first()).toContainText("markdown link");
  for (const tag of ["script", "img", "svg", "iframe", "details"]) {
    await expect(chat.log.locator(tag), tag).toHaveCount(0);
  }
  for (const link of await chat.log.getByRole("link").all()) {
    expect(await link.getAttribute("href")).not.toMatch(/^\s*javascript:/i);
  }
  expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
  expect(dialogs).toEqual([]);
});

test("a failed answer offers Retry, which asks the same question again", async ({ chat }) => {
  await chat.open(`${slowApp}/`);
  await chat.ask("fail once: what is Paste?");
  const error = chat.errors().first();
  await expect(error).toContainText("could not answer");
  await error.getByRole("button", { name: "Retry" }).click();
  await expect(chat.answers().first()).toContainText("Answered on the second try");
  await expect(chat.errors()).toHaveCount(0);
  await expect(chat.questions()).toHaveCount(1);
});

test("while a run is active the composer keeps its draft", async ({ chat, page }) => {
  // The first message's thread opens at /t/{id} only when the server has answered the send:
  // the draft typed before that must survive the page change.
  await page.route(/\/api\/send_message/, async (route) => {
    await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });
  await chat.open(`${slowApp}/`);
  await chat.ask("Take your time");
  await expect(chat.thinking).toBeVisible();
  await chat.messageBox.fill("My next question");
  await expect(chat.sendButton).toBeDisabled();
  await chat.messageBox.press("Enter");
  await expect(chat.messageBox).toHaveValue("My next question");
  await expect(page).toHaveURL(/\/t\//);
  await expect(chat.messageBox).toHaveValue("My next question");
  await chat.waitForAnswer();
  await expect(chat.messageBox).toHaveValue("My next question");
  await expect(chat.sendButton).toBeEnabled();
});

test("an answer to a question the docs do not cover says so under it", async ({ chat }) => {
  await chat.answerTo("How do I bake sourdough bread?");
  const answer = chat.answers().first();
  await expect(answer).toContainText("The docs don't cover");
  await expect(answer.getByRole("note")).toHaveText("The docs don't cover this question.");
  // A covered question's answer has no notice.
  await chat.ask("How do I deploy with Postgres?");
  await expect(chat.answers()).toHaveCount(2, { timeout: 20_000 });
  await expect(chat.answers().nth(1)).toContainText("Here is what the docs say");
  await expect(chat.answers().nth(1).getByRole("note")).toHaveCount(0);
});
