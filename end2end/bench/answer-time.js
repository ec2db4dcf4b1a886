// Measures, against a running server, the time from pressing Enter to the answer on screen
// with the offline model, and the page's time to interactive (hydrated). Prints a JSON summary.
// Usage: node bench/answer-time.js http://127.0.0.1:3220 [runs]
const { chromium } = require("@playwright/test");

const base = process.argv[2] ?? "http://127.0.0.1:3220";
const runs = Number(process.argv[3] ?? 10);
const questions = [
  "How do I deploy with Postgres?",
  "What is the offline model?",
  "Which environment variables configure the server?",
  "How do sessions work?",
  "How do I run the tests?",
];

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const answer = [];
  const interactive = [];
  const embed = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(base + "/");
    await page.locator('body[data-hydrated="true"]').waitFor();
    interactive.push(Date.now() - t0);
    const box = page.getByRole("textbox", { name: "Message" });
    await box.fill(questions[i % questions.length]);
    const t1 = Date.now();
    await box.press("Enter");
    await page.locator('article[data-kind="Assistant"]').first().waitFor();
    answer.push(Date.now() - t1);
    // The widget's page, in the same browser session.
    const t2 = Date.now();
    await page.goto(base + "/embed");
    await page.locator('body[data-hydrated="true"]').waitFor();
    embed.push(Date.now() - t2);
    await context.close();
  }
  await browser.close();
  console.log(
    JSON.stringify({
      runs,
      time_to_interactive_ms: { p50: pct(interactive, 50), max: Math.max(...interactive) },
      embed_time_to_interactive_ms: { p50: pct(embed, 50), max: Math.max(...embed) },
      question_to_answer_ms: { p50: pct(answer, 50), p95: pct(answer, 95), max: Math.max(...answer) },
    }),
  );
})();
