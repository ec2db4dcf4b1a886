// Measures, in headless Chromium, how fast a streamed answer reaches the screen: the time from
// pressing Enter to the first words on screen, and for every token the model writes the lag
// from the moment the model wrote it to the moment it is on screen. The model is a fake
// OpenAI-compatible server started here, writing one token every TOKEN_MS (50) ms; point the
// server's OPENAI_BASE_URL at http://127.0.0.1:<model port>/v1 (./scripts/bench does).
// Both clocks are the machine's wall clock (performance.timeOrigin + performance.now()).
// FIRST_TOKEN_MS (0) is how long the model thinks before each reply, as a real one does (600 ms
// is realistic for a hosted model). TOOL_FIRST=1 makes it call get_relevant_docs before it
// answers, whatever it was given: the tool-first loop every run took before search-first, one
// model round more; without it, it answers from the search results the run hands it.
// Usage: node bench/stream-lag.js <app url> <model port> [runs] [tokens per answer]
const http = require("http");
const { chromium } = require("@playwright/test");

const base = process.argv[2];
const modelPort = Number(process.argv[3]);
const runs = Number(process.argv[4] ?? 5);
const tokens = Number(process.argv[5] ?? 40);
const TOKEN_MS = Number(process.env.TOKEN_MS ?? 50);
const FIRST_TOKEN_MS = Number(process.env.FIRST_TOKEN_MS ?? 0);
const TOOL_FIRST = process.env.TOOL_FIRST === "1";
let rounds = 0;

const now = () => performance.timeOrigin + performance.now();
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const round = (x) => Math.round(x * 10) / 10;

// When each token of the current answer was written (index → ms).
let written = [];

const model = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const request = JSON.parse(body || "{}");
    const chunk = (delta, finish = null) =>
      `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    if (!request.tools) {
      // A title.
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: "Bench title" }, finish_reason: "stop" }] }));
      return;
    }
    rounds += 1;
    const messages = request.messages ?? [];
    if (TOOL_FIRST && messages[messages.length - 1]?.role !== "tool") {
      setTimeout(() => {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const call = { index: 0, id: `call_${rounds}`, type: "function",
          function: { name: "get_relevant_docs", arguments: JSON.stringify({ query: "buttons" }) } };
        res.write(chunk({ tool_calls: [call] }));
        res.write(chunk({}, "tool_calls"));
        res.end("data: [DONE]\n\n");
      }, FIRST_TOKEN_MS);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    written = [];
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      if (i < tokens) {
        written[i] = now();
        res.write(chunk({ content: `tok${i} ` }));
        i += 1;
        setTimeout(next, TOKEN_MS);
        return;
      }
      res.write(chunk({}, "stop"));
      res.end("data: [DONE]\n\n");
    };
    setTimeout(next, FIRST_TOKEN_MS);
  });
});

(async () => {
  await new Promise((ok) => model.listen(modelPort, "127.0.0.1", ok));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const firstText = [];
  const lag = [];
  for (let r = 0; r < runs; r++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(base + "/");
    await page.locator('body[data-hydrated="true"]').waitFor();
    // In the page: when Enter went down, and when each token first showed on screen (in the
    // answer being written or, if it came too late for that, in the stored answer).
    await page.evaluate(() => {
      const stamp = () => performance.timeOrigin + performance.now();
      window.__seen = {};
      document.addEventListener("keydown", (e) => {
        if (e.key === "Enter") window.__enter = stamp();
      }, true);
      new MutationObserver(() => {
        const t = stamp();
        for (const el of document.querySelectorAll('article[data-kind="Writing"], article[data-kind="Assistant"]')) {
          for (const m of el.textContent.matchAll(/tok(\d+)/g)) {
            if (!(m[1] in window.__seen)) window.__seen[m[1]] = t;
          }
        }
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    const box = page.getByRole("textbox", { name: "Message" });
    await box.fill(`Bench question ${r}: how do buttons work?`);
    await box.press("Enter");
    await page.locator('article[data-kind="Assistant"]').first().waitFor({ timeout: 60_000 });
    const { seen, enter } = await page.evaluate(() => ({ seen: window.__seen, enter: window.__enter }));
    const shown = Object.keys(seen).length;
    if (shown !== tokens) throw new Error(`run ${r}: ${shown} of ${tokens} tokens seen`);
    firstText.push(Math.min(...Object.values(seen)) - enter);
    for (let i = 0; i < tokens; i++) lag.push(seen[i] - written[i]);
    await context.close();
  }
  await browser.close();
  model.close();
  console.log(
    JSON.stringify({
      runs,
      tokens_per_answer: tokens,
      token_every_ms: TOKEN_MS,
      first_token_ms: FIRST_TOKEN_MS,
      tool_first: TOOL_FIRST,
      model_rounds_per_answer: round(rounds / runs),
      enter_to_first_text_ms: { p50: round(pct(firstText, 50)), max: round(Math.max(...firstText)) },
      token_to_screen_ms: {
        p50: round(pct(lag, 50)),
        p95: round(pct(lag, 95)),
        max: round(Math.max(...lag)),
      },
    }),
  );
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
