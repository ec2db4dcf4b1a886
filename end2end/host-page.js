// A docs site on another site than the assistant, for the widget's browser tests: served from
// http://127.0.0.1:HOST_PORT, it embeds widget.js from http://localhost:ASSISTANT_PORT. Its CSS
// is deliberately hostile, to show that it does not reach the widget. No dependencies.
const http = require("http");

const port = Number(process.env.HOST_PORT ?? 3213);
const assistant = process.env.ASSISTANT_URL ?? "http://localhost:3210";

// `?title=…&accent=…&position=…&open=…` become the script tag's data-* attributes.
const attribute = (name, value) =>
  value === null ? "" : ` data-${name}="${value.replace(/[^\w #-]/g, "")}"`;

const page = (query) => `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Example docs site</title>
<style>
  * { font-family: "Comic Sans MS", cursive !important; letter-spacing: 3px; }
  button { background: rgb(255, 0, 0) !important; color: rgb(255, 255, 0) !important; font-size: 40px !important; }
  div, * { border: 5px dashed rgb(0, 128, 0); }
  iframe { display: none; }
</style>
</head>
<body>
<main>
  <h1>Example docs</h1>
  <p>A page of some other site that embeds the assistant.</p>
  <button id="host-button" type="button">A button of the host page</button>
</main>
<script src="${assistant}/widget.js"${attribute("title", query.get("title") ?? "Ask the docs")}${attribute("accent", query.get("accent") ?? "#0263e0")}${attribute("position", query.get("position"))}${attribute("open", query.get("open"))} async></script>
</body>
</html>`;

http
  .createServer((req, res) => {
    if (req.url === "/healthz") return res.writeHead(200).end("ok");
    const query = new URL(req.url, "http://host").searchParams;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page(query));
  })
  .listen(port, "127.0.0.1");
