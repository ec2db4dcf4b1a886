import { test, expect, expectAccessible, screenshot } from "./fixtures/chat-page";
import { adminToken } from "../playwright.config";

test("a reader's 'Not helpful' reaches the docs team's Feedback page", async ({ chat, page }) => {
  // A reader asks and rates the answer "Not helpful", saying why.
  const answer = await chat.answerTo("How do I run the tests on Postgres?");
  await answer.getByRole("button", { name: "Not helpful" }).click();
  await answer.getByRole("radio", { name: "Wrong" }).check();
  await answer.getByRole("textbox", { name: "Anything else?" }).fill("It points at SQLite, not Postgres.");
  await answer.getByRole("button", { name: "Send feedback" }).click();
  await expect(answer.getByRole("status")).toContainText("Thanks");

  // The team signs in with the token (the form answers 401 until then).
  chat.expectedConsole.push(/status of 401/);
  await page.goto("/admin");
  await expect(page.getByRole("heading", { name: "Paste Assistant for the docs team" })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, "admin-sign-in");
  await page.getByLabel("Admin token").fill("not the token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("not the admin token");
  await page.getByLabel("Admin token").fill(adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();

  // The overview: a chart people can look at, and the counts.
  await expect(page.getByRole("heading", { name: "Overview", level: 1 })).toBeVisible();
  await expect(page.getByRole("img", { name: "Questions per day, last 30 days" })).toBeVisible();
  await expect(page.locator(".counts")).toContainText("Not helpful");
  await expectAccessible(page);
  await screenshot(page, "admin-overview");

  // Feedback: the reader's rating with the question, the reason and the words.
  const nav = page.getByRole("navigation", { name: "Admin" });
  await nav.getByRole("link", { name: "Feedback" }).click();
  await expect(page.getByRole("heading", { name: "Feedback", level: 1 })).toBeVisible();
  const rated = page.locator("article.rated", { hasText: "How do I run the tests on Postgres?" });
  await expect(rated).toContainText("Not helpful (Wrong)");
  await expect(rated).toContainText("It points at SQLite, not Postgres.");
  await rated.getByText("Answer and sources").click();
  await expect(rated.locator(".answer")).not.toBeEmpty();
  await expectAccessible(page);
  await screenshot(page, "admin-feedback");

  // Its conversation, read-only, with the run's tool calls.
  await rated.getByRole("link", { name: "How do I run the tests on Postgres?" }).click();
  await expect(page.getByText("Rated: Not helpful (Wrong)")).toBeVisible();
  await expect(page.locator("details.run").first()).toContainText("Run");
  await page.locator("details.run summary").first().click();
  await expect(page.locator("details.run").first()).toContainText("get_relevant_docs");
  await expectAccessible(page);
  await screenshot(page, "admin-conversation");

  // The other views.
  for (const [link, heading] of [
    ["Questions", "Questions"],
    ["Not covered", "Not covered"],
    ["Pages", "Pages"],
  ]) {
    await nav.getByRole("link", { name: link }).click();
    await expect(page.getByRole("heading", { name: heading, level: 1 })).toBeVisible();
    await expectAccessible(page);
    await screenshot(page, `admin-${link.toLowerCase().replace(" ", "-")}`);
  }
  await nav.getByRole("link", { name: "Questions" }).click();
  await page.getByRole("searchbox", { name: "Search questions" }).fill("tests on Postgres");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.locator("table.questions tbody tr")).toHaveCount(1);

  // Signing out ends it.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByLabel("Admin token")).toBeVisible();
});
