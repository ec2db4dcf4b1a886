// A slow OpenAI-compatible chat completions server for the browser tests: it answers after a
// delay, and refuses with 401 when the question asks it to fail. No dependencies.
const http = require("http");

const port = Number(process.env.FAKE_MODEL_PORT ?? 3212);
const delayMs = Number(process.env.FAKE_MODEL_DELAY_MS ?? 4000);

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
      if (last.includes("please fail")) {
        send(401, { error: { message: "Invalid API Key", type: "authentication_error", code: 401 } });
        return;
      }
      const content = request.tools ? "Slow answer from the **fake model**." : "Slow title";
      setTimeout(() => {
        send(200, {
          id: "chatcmpl-e2e",
          object: "chat.completion",
          model: request.model,
          choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
          usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
        });
      }, request.tools ? delayMs : 0);
    });
  })
  .listen(port, "127.0.0.1");
