/*
 * Paste Assistant widget: one tag on any page adds a launcher button that opens the assistant
 * in a panel.
 *
 *   <script src="https://ASSISTANT/widget.js" data-title="Ask the docs" async></script>
 *
 * Attributes: data-title (launcher and panel title), data-accent (a #hex colour),
 * data-position ("right", the default, or "left"), data-open ("true" opens it at load).
 *
 * The launcher and panel live in a shadow root whose host resets every inherited style,
 * so the page's CSS cannot reach them and theirs cannot reach the page; the assistant itself
 * runs in an iframe on its own /embed page. The iframe is created on first open, so pages
 * that never open the widget load nothing else. Escape (in the panel or inside the iframe)
 * closes it and focus returns to the launcher; closing hides the iframe, so reopening keeps
 * the conversation.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__pasteAssistantWidget) return;
  window.__pasteAssistantWidget = true;

  var origin = new URL(script.src, window.location.href).origin;
  var data = script.dataset;
  var title = (data.title || "Ask the docs").slice(0, 60);
  var accent = /^#[0-9a-fA-F]{3}([0-9a-fA-F]{3}([0-9a-fA-F]{2})?)?$/.test(data.accent || "")
    ? data.accent
    : "#0263e0";
  var side = data.position === "left" ? "left" : "right";

  // A custom element, so the page's rules for div, section... do not match it either.
  var host = document.createElement("paste-assistant-widget");
  var root = host.attachShadow({ mode: "open" });

  var style = document.createElement("style");
  style.textContent =
    // !important in a shadow root's :host beats the page's !important rules for the host.
    ":host{all:initial!important;position:fixed!important;" + side + ":20px!important;" +
    "bottom:20px!important;z-index:2147483000!important;display:block!important}" +
    ".root{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:16px;" +
    "line-height:1.4;letter-spacing:normal;word-spacing:normal;text-transform:none;" +
    "font-style:normal;font-weight:400;color:#121c2d;text-align:left}" +
    ".launcher{all:unset;box-sizing:border-box;display:flex;align-items:center;gap:8px;cursor:pointer;" +
    "font:inherit;font-weight:600;letter-spacing:normal;" +
    "padding:12px 18px;border-radius:999px;background:var(--accent);color:#fff;font-weight:600;" +
    "box-shadow:0 6px 24px rgba(0,0,0,.25)}" +
    ".launcher:focus-visible,.close:focus-visible{outline:3px solid var(--accent);outline-offset:3px}" +
    ".panel{box-sizing:border-box;position:fixed;" + side + ":20px;bottom:20px;width:400px;" +
    "height:min(640px,calc(100vh - 40px));max-width:calc(100vw - 40px);display:flex;" +
    "flex-direction:column;background:#fff;color:#121c2d;border-radius:14px;overflow:hidden;" +
    "box-shadow:0 12px 48px rgba(0,0,0,.3)}" +
    ".panel[hidden]{display:none}" +
    ".head{display:flex;align-items:center;justify-content:space-between;gap:8px;padding:10px 14px;" +
    "background:var(--accent);color:#fff;font-weight:700}" +
    ".close{all:unset;cursor:pointer;font-family:inherit;font-size:22px;line-height:1;padding:2px 8px;border-radius:6px}" +
    "iframe{flex:1;width:100%;border:0;background:#fff}" +
    "@media (max-width:480px){.panel{" + side + ":0;bottom:0;width:100vw;max-width:100vw;" +
    "height:100vh;height:100dvh;border-radius:0}}";
  var wrap = document.createElement("div");
  wrap.className = "root";
  wrap.style.setProperty("--accent", accent);

  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "launcher";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "paste-assistant-panel");
  launcher.textContent = title;

  var panel = document.createElement("div");
  panel.className = "panel";
  panel.id = "paste-assistant-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);

  var head = document.createElement("div");
  head.className = "head";
  var heading = document.createElement("span");
  heading.textContent = title;
  var close = document.createElement("button");
  close.type = "button";
  close.className = "close";
  close.setAttribute("aria-label", "Close " + title);
  close.textContent = "\u00d7"; // the multiplication sign, escaped: the script stays ASCII
  head.appendChild(heading);
  head.appendChild(close);
  panel.appendChild(head);

  wrap.appendChild(launcher);
  wrap.appendChild(panel);
  root.appendChild(style);
  root.appendChild(wrap);

  var frame = null;
  var loaded = false;
  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.addEventListener("load", function () {
        loaded = true;
      });
      frame.title = title;
      frame.src = origin + "/embed?accent=" + encodeURIComponent(accent);
      frame.setAttribute("allow", "clipboard-write");
      panel.appendChild(frame);
    }
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    frame.focus();
    // A loaded page moves focus to its composer; a loading one does so by itself.
    if (loaded) frame.contentWindow.postMessage("paste-assistant:focus", origin);
  }
  function shut() {
    if (panel.hidden) return;
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", open);
  close.addEventListener("click", shut);
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape") shut();
  });
  window.addEventListener("message", function (event) {
    if (!frame || event.source !== frame.contentWindow || event.origin !== origin) return;
    if (event.data && event.data.type === "paste-assistant:close") shut();
  });

  function mount() {
    document.body.appendChild(host);
    if (data.open === "true") open();
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
