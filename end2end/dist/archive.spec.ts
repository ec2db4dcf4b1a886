import { test, expect } from "../tests/fixtures/chat-page";

// The archive's executable alone: its own page, assets and guide, nothing from the build tree.
test("the unpacked executable answers a question from its own guide, with sources", async ({ chat, page }) => {
  const answer = await chat.answerTo("How do I embed the widget on my docs site?");
  await expect(answer).toContainText("widget");
  const sources = answer.locator("nav.sources a");
  await expect(sources.first()).toBeVisible();
  await expect(sources.filter({ hasText: "Embedding the assistant on a docs site" })).toHaveCount(1);
  // A source opens the guide page the executable serves itself.
  const href = await sources.first().getAttribute("href");
  expect(href).toMatch(/^\/docs\//);
  const guide = await page.request.get(href!);
  expect(guide.status()).toBe(200);
});

test("the page's assets come from inside the executable, compressed", async ({ page, request }) => {
  const wasm = await request.get("/pkg/paste-assistant.wasm", { headers: { "accept-encoding": "br" } });
  expect(wasm.status()).toBe(200);
  expect(wasm.headers()["content-type"]).toBe("application/wasm");
  expect(wasm.headers()["content-encoding"]).toBe("br");
  const etag = wasm.headers()["etag"];
  const again = await request.get("/pkg/paste-assistant.wasm", {
    headers: { "accept-encoding": "br", "if-none-match": etag },
  });
  expect(again.status()).toBe(304);
  // gzip: the plain file, compressed on the fly at a better level than the build's .gz.
  const gz = await request.get("/pkg/paste-assistant.wasm", { headers: { "accept-encoding": "gzip" } });
  expect(gz.headers()["content-encoding"]).toBe("gzip");
  const widget = await request.get("/widget.js");
  expect(widget.status()).toBe(200);
  expect(await widget.text()).toContain("paste-assistant");
  await page.goto("/");
  await page.locator('body[data-hydrated="true"]').waitFor();
});
