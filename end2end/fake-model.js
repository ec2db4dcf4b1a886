// A slow OpenAI-compatible chat completions server for the browser tests: it answers after a
// delay, and refuses with 401 when the question asks it to fail. Some questions get special
// answers at once: "show code" (a code block, a table, a link), "xss" (hostile markup) and
// "fail once" (401 the first time that question is asked, an answer after); "stream slowly" is
// streamed a word every 250 ms. Asked with `stream: true`, every answer is streamed (SSE).
// No dependencies.
const http = require("http");

const port = Number(process.env.FAKE_MODEL_PORT ?? 3212);
const delayMs = Number(process.env.FAKE_MODEL_DELAY_MS ?? 4000);
const failedOnce = new Set();

const CODE_ANSWER = [
  "Install it with:",
  "",
  "```bash",
  "npm install @twilio-paste/core",
  "```",
  "",
  "| Option | Default |",
  "|---|---|",
  "| `size` | `default` |",
  "",
  "See [the setup guide](https://example.com/setup).",
].join("\n");

// Every way untrusted Markdown could try to run script in the page.
const XSS_ANSWER = [
  "<script>window.__xss = 'script'</script>",
  "<img src=x onerror=\"window.__xss = 'img'\">",
  "<svg onload=\"window.__xss = 'svg'\"><circle r=1 /></svg>",
  "<iframe src=\"javascript:window.top.__xss = 'iframe'\"></iframe>",
  "<a href=\"javascript:window.__xss = 'a'\">html link</a>",
  "[markdown link](javascript:window.__xss='md')",
  "![image](javascript:window.__xss='image')",
  "<div onmouseover=\"window.__xss = 'hover'\" style=\"position:fixed;inset:0\">cover</div>",
  "<details open ontoggle=\"window.__xss = 'toggle'\">x</details>",
  "```\"><img src=x onerror=\"window.__xss='lang'\">",
  "code",
  "```",
].join("\n\n");

http
  .createServer((req, res) => {
    if (req.method === "GET") {
      res.writeHead(200).end("ok");
      return;
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const request = JSON.parse(body || "{}");
      const messages = request.messages ?? [];
      const last = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
      const send = (status, payload) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(payload));
      };
      // Asked for a stream, it streams (a few words a chunk, `pieceMs` apart), as OpenAI does.
      const reply = (content, pieceMs = 0) => {
        if (!request.stream) {
          return send(200, {
            id: "chatcmpl-e2e",
            object: "chat.completion",
            model: request.model,
            choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
            usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
          });
        }
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const chunk = (delta, finish = null) =>
          `data: ${JSON.stringify({ object: "chat.completion.chunk", model: request.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        const pieces = content.match(/\S+\s*/g) ?? [content];
        let i = 0;
        const next = () => {
          if (res.destroyed) return;
          if (i < pieces.length) {
            res.write(chunk({ content: pieces[i++] }));
            return pieceMs ? setTimeout(next, pieceMs) : next();
          }
          res.write(chunk({}, "stop"));
          res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 } })}\n\n`);
          res.end("data: [DONE]\n\n");
        };
        next();
      };
      if (request.tools && last.includes("stream slowly")) {
        return reply(
          "Streaming answers **arrive word by word** while the model writes them, so you can start reading before the answer is complete. This one takes a few seconds on purpose.",
          250,
        );
      }
      if (request.tools && last.includes("show code")) return reply(CODE_ANSWER);
      if (request.tools && last.includes("xss")) return reply(XSS_ANSWER);
      if (request.tools && last.includes("fail once")) {
        if (!failedOnce.has(last)) {
          failedOnce.add(last);
          send(503, { error: { message: "The model is overloaded", type: "server_error" } });
          return;
        }
        return reply("Answered on the **second** try.");
      }
      if (last.includes("please fail")) {
        send(401, { error: { message: "Invalid API Key", type: "authentication_error", code: 401 } });
        return;
      }
      const content = request.tools ? "Slow answer from the **fake model**." : "Slow title";
      setTimeout(() => reply(content), request.tools ? delayMs : 0);
    });
  })
  .listen(port, "127.0.0.1");
