/* rag_service web chat. Embed with one tag (no build step, nothing loaded from elsewhere):
 *   <script src="https://rag.example.com/widget.js" data-key="rsk_..." defer></script>
 * data-key: a widget key (rag-admin keys create --role customer --name helpcenter --origin https://help.example.com)
 * optional: data-api (the service's address; default: where this file came from), data-title,
 *           data-lang ("de" or "en"; default: the page's <html lang>).
 * It opens a visitor session (a key of its own for this browser), streams answers with their
 * sources, hands the conversation to a person on request and sends thumbs up/down as feedback. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__ragWidget) return;
  window.__ragWidget = true;
  var WIDGET_KEY = script.getAttribute("data-key") || "";
  var API = (script.getAttribute("data-api") || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  var pageLang = (script.getAttribute("data-lang") || document.documentElement.lang || "").toLowerCase();
  var LANG = pageLang.slice(0, 2) === "de" ? "de" : "en";
  var TEXT = {
    de: {
      open: "Hilfe-Chat öffnen", title: "Hilfe-Chat", close: "Chat schließen",
      notice: "Sie chatten mit einem KI-Assistenten. Er antwortet nur aus unseren Hilfeartikeln und nennt seine Quellen.",
      label: "Ihre Frage", placeholder: "Frage eingeben …", send: "Senden",
      human: "Mit einem Menschen sprechen", sources: "Quellen", back: "Zurück zum Chat",
      up: "Hilfreich", down: "Nicht hilfreich", thanks: "Danke für Ihr Feedback.",
      busy: "Gerade sind viele Anfragen offen. Bitte versuchen Sie es in {s} Sekunden noch einmal.",
      failed: "Das hat nicht geklappt. Bitte versuchen Sie es noch einmal.",
      handedOver: "Ein Mitarbeiter übernimmt das Gespräch.", you: "Sie", bot: "Assistent",
      passage: "Textstelle", page: "Seite", noKey: "Der Chat ist nicht eingerichtet (data-key fehlt)."
    },
    en: {
      open: "Open help chat", title: "Help chat", close: "Close chat",
      notice: "You are chatting with an AI assistant. It answers only from our help articles and names its sources.",
      label: "Your question", placeholder: "Type a question …", send: "Send",
      human: "Talk to a person", sources: "Sources", back: "Back to the chat",
      up: "Helpful", down: "Not helpful", thanks: "Thank you for your feedback.",
      busy: "Many requests are open right now. Please try again in {s} seconds.",
      failed: "That did not work. Please try again.",
      handedOver: "A member of our team will take over the conversation.", you: "You", bot: "Assistant",
      passage: "Passage", page: "page", noKey: "The chat is not set up (data-key is missing)."
    }
  }[LANG];
  var STORE = "rag-widget:" + API + ":" + WIDGET_KEY.slice(0, 12);
  var state = load();

  function load() {
    var s = {};
    try { s = JSON.parse(localStorage.getItem(STORE) || "{}"); } catch (e) { s = {}; }
    var t = {};
    try { t = JSON.parse(sessionStorage.getItem(STORE) || "{}"); } catch (e) { t = {}; }
    // the visitor key lasts (localStorage); the conversation and its transcript last as long as the tab
    return { visitor: s.visitor || null, conversation: t.conversation || null,
      turns: Array.isArray(t.turns) ? t.turns : [] };
  }
  function save() {
    try {
      localStorage.setItem(STORE, JSON.stringify({ visitor: state.visitor }));
      sessionStorage.setItem(STORE, JSON.stringify({ conversation: state.conversation, turns: state.turns.slice(-40) }));
    } catch (e) { /* private mode: the chat works, it is just not kept */ }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;",
    "background:#1f4fd1;color:#fff;font-size:15px;cursor:pointer;box-shadow:0 4px 16px rgba(0,0,0,.25)}",
    ".panel{position:fixed;right:20px;bottom:20px;z-index:2147483001;width:min(380px,calc(100vw - 24px));",
    "height:min(600px,calc(100vh - 40px));display:flex;flex-direction:column;background:#fff;color:#1b1b1b;",
    "border-radius:12px;box-shadow:0 8px 32px rgba(0,0,0,.3);overflow:hidden;font-size:14px;line-height:1.45}",
    ".panel[hidden],.launcher[hidden],.view[hidden]{display:none}",
    "header{background:#1f4fd1;color:#fff;padding:10px 12px;display:flex;align-items:center;gap:8px}",
    "header h2{flex:1;margin:0;font-size:16px}",
    ".icon{background:transparent;border:0;color:inherit;font-size:20px;cursor:pointer;padding:2px 8px;border-radius:6px}",
    ".notice{margin:0;padding:8px 12px;background:#eef3ff;color:#1b2a55;font-size:12.5px;border-bottom:1px solid #d8e0f5}",
    ".view{flex:1;display:flex;flex-direction:column;min-height:0}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px}",
    ".msg{max-width:88%;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}",
    ".user{align-self:flex-end;background:#1f4fd1;color:#fff}",
    ".assistant{align-self:flex-start;background:#f1f2f4}",
    ".system{align-self:center;background:#fff7e0;color:#5a4500;font-size:13px}",
    ".cite{color:#1f4fd1;font-weight:600;text-decoration:underline;cursor:pointer}",
    ".sources{margin:6px 0 0;padding:0;list-style:none;font-size:12.5px}",
    ".sources a{color:#1f4fd1}",
    ".rate{display:flex;gap:6px;margin-top:6px}",
    ".rate button{border:1px solid #c9ced6;background:#fff;border-radius:14px;padding:2px 10px;cursor:pointer;font-size:13px}",
    ".rate button[aria-pressed=true]{background:#1f4fd1;color:#fff;border-color:#1f4fd1}",
    "form{display:flex;gap:6px;padding:8px;border-top:1px solid #e3e5e8}",
    "textarea{flex:1;resize:none;border:1px solid #c9ced6;border-radius:8px;padding:8px;font-size:14px;height:42px}",
    ".send{border:0;border-radius:8px;background:#1f4fd1;color:#fff;padding:0 14px;cursor:pointer;font-size:14px}",
    ".human{margin:0 8px 8px;border:1px solid #1f4fd1;background:#fff;color:#1f4fd1;border-radius:8px;padding:7px;",
    "cursor:pointer;font-size:13.5px}",
    ".passage{flex:1;overflow-y:auto;padding:14px}",
    ".passage h3{margin:0 0 4px;font-size:15px}.passage p{white-space:pre-wrap}",
    ".source{color:#555;font-size:12px;margin:0 0 8px}",
    ":focus-visible{outline:3px solid #ffbf47;outline-offset:2px}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}"
  ].join("");

  var host = el("div", { "data-rag-widget": "" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("style", { text: CSS }));
  var launcher = el("button", { class: "launcher", type: "button", "aria-haspopup": "dialog", text: TEXT.title,
    "aria-label": TEXT.open, onclick: open });
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": TEXT.title });
  var input = el("textarea", { id: "q", rows: "1", maxlength: "2000", placeholder: TEXT.placeholder });
  var form = el("form", { onsubmit: function (e) { e.preventDefault(); ask(); } }, [
    el("label", { for: "q", class: "sr", text: TEXT.label }), input,
    el("button", { class: "send", type: "submit", text: TEXT.send })
  ]);
  var human = el("button", { class: "human", type: "button", text: TEXT.human, onclick: handOff });
  var chatView = el("div", { class: "view" }, [log, form, human]);
  var passageTitle = el("h3", { tabindex: "-1" });
  var passageSource = el("p", { class: "source" });
  var passageText = el("p");
  var backButton = el("button", { class: "human", type: "button", text: TEXT.back, onclick: showChat });
  var passageView = el("div", { class: "view", hidden: "" }, [
    el("div", { class: "passage", role: "region", "aria-label": TEXT.passage }, [passageTitle, passageSource, passageText]),
    backButton
  ]);
  var closeButton = el("button", { class: "icon", type: "button", "aria-label": TEXT.close, text: "×", onclick: close });
  var panel = el("div", { class: "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "rag-title",
    lang: LANG, hidden: "" }, [
    el("header", {}, [el("h2", { id: "rag-title", text: script.getAttribute("data-title") || TEXT.title }), closeButton]),
    el("p", { class: "notice", text: TEXT.notice }),
    chatView, passageView
  ]);
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); passageView.hidden ? close() : showChat(); }
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); ask(); }
  });
  root.appendChild(launcher);
  root.appendChild(panel);
  (document.body || document.documentElement).appendChild(host);
  state.turns.forEach(function (t) { render(t); });

  function open() {
    panel.hidden = false; launcher.hidden = true; input.focus();
    if (!WIDGET_KEY) say(TEXT.noKey);
  }
  function close() { panel.hidden = true; launcher.hidden = false; launcher.focus(); }
  function showChat() { passageView.hidden = true; chatView.hidden = false; input.focus(); }
  function showPassage(c) {
    passageTitle.textContent = "[" + c.n + "] " + c.title;
    passageSource.textContent = c.source + (c.page ? " · " + TEXT.page + " " + c.page : "");
    passageText.textContent = c.text;
    chatView.hidden = true; passageView.hidden = false; passageTitle.focus();
  }
  function say(text) { log.appendChild(el("div", { class: "msg system", role: "status", text: text })); scroll(); }
  function scroll() { log.scrollTop = log.scrollHeight; }

  // the answer's text with each [n] as a link to its passage
  function fill(node, text, citations) {
    node.textContent = "";
    var byN = {};
    (citations || []).forEach(function (c) { byN[c.n] = c; });
    text.split(/(\[\d+\])/).forEach(function (part) {
      var m = /^\[(\d+)\]$/.exec(part);
      if (m && byN[m[1]]) {
        var c = byN[m[1]];
        node.appendChild(el("a", { class: "cite", href: "#", role: "button", "aria-label": TEXT.passage + " " + c.n + ": " + c.title,
          text: part, onclick: function (e) { e.preventDefault(); showPassage(c); } }));
      } else if (part) {
        node.appendChild(document.createTextNode(part));
      }
    });
  }

  function render(turn) {
    if (turn.role === "user") {
      log.appendChild(el("div", { class: "msg user", "aria-label": TEXT.you, text: turn.text }));
      return null;
    }
    if (turn.role === "system") { say(turn.text); return null; }
    var body = el("div");
    var box = el("div", { class: "msg assistant", "aria-label": TEXT.bot }, [body]);
    log.appendChild(box);
    finish(turn, box, body);
    scroll();
    return { box: box, body: body };
  }

  function finish(turn, box, body) {
    fill(body, turn.text, turn.citations);
    if (turn.citations && turn.citations.length) {
      var list = el("ul", { class: "sources", "aria-label": TEXT.sources });
      turn.citations.forEach(function (c) {
        list.appendChild(el("li", {}, [el("a", { href: "#", text: "[" + c.n + "] " + c.title,
          onclick: function (e) { e.preventDefault(); showPassage(c); } })]));
      });
      box.appendChild(list);
    }
    if (turn.answerId && turn.action === "answer") {
      var up = el("button", { type: "button", "aria-pressed": String(turn.rating === "up"), text: TEXT.up });
      var down = el("button", { type: "button", "aria-pressed": String(turn.rating === "down"), text: TEXT.down });
      up.addEventListener("click", function () { rate(turn, "up", up, down); });
      down.addEventListener("click", function () { rate(turn, "down", down, up); });
      box.appendChild(el("div", { class: "rate", role: "group", "aria-label": TEXT.up + " / " + TEXT.down }, [up, down]));
    }
  }

  function session() {
    if (state.visitor) return Promise.resolve(state.visitor);
    return fetch(API + "/v1/widget/session", { method: "POST", headers: { Authorization: "Bearer " + WIDGET_KEY } })
      .then(function (r) {
        if (!r.ok) throw r;
        return r.json();
      })
      .then(function (s) { state.visitor = s.key; state.conversation = null; save(); return s.key; });
  }

  // a call with the visitor key; an expired or revoked one is replaced once
  function call(path, body, retried) {
    return session().then(function (key) {
      return fetch(API + path, { method: "POST", body: JSON.stringify(body),
        headers: { Authorization: "Bearer " + key, "Content-Type": "application/json" } });
    }).then(function (r) {
      if (r.status === 401 && !retried) { state.visitor = null; save(); return call(path, body, true); }
      return r;
    });
  }

  function problem(r) {
    if (r && r.status === 429) {
      var s = parseInt(r.headers.get("Retry-After") || "5", 10);
      say(TEXT.busy.replace("{s}", String(s)));
    } else {
      say(TEXT.failed);
    }
  }

  var busy = false;
  function ask() {
    var question = input.value.trim();
    if (!question || busy || !WIDGET_KEY) return;
    busy = true;
    input.value = "";
    var mine = { role: "user", text: question };
    state.turns.push(mine); render(mine); save();
    var turn = { role: "assistant", text: "", citations: [], answerId: null, action: null, rating: null };
    var view = render(turn);
    view.box.setAttribute("aria-busy", "true");
    var body = { messages: [{ role: "user", content: question }], stream: true };
    if (state.conversation) body.conversation_id = state.conversation;
    call("/v1/chat/completions", body).then(function (r) {
      if (!r.ok || !r.body) throw r;
      turn.answerId = r.headers.get("X-Answer-Id");
      var reader = r.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          buffer += decoder.decode(chunk.value, { stream: true });
          var lines = buffer.split("\n");
          buffer = lines.pop();
          lines.forEach(function (line) {
            if (line.slice(0, 6) !== "data: " || line === "data: [DONE]") return;
            var event = JSON.parse(line.slice(6));
            if (event.error) { say(TEXT.failed); return; }
            var choice = (event.choices || [])[0] || {};
            if (choice.delta && choice.delta.content) {
              turn.text += choice.delta.content;
              view.body.textContent = turn.text;
              scroll();
            }
            if (event.rag) {
              turn.action = event.rag.action;
              turn.answerId = event.rag.answer_id || turn.answerId;
              state.conversation = event.rag.conversation_id || state.conversation;
              turn.citations = event.citations || [];
            }
          });
          return pump();
        });
      }
      return pump();
    }).then(function () {
      view.box.removeAttribute("aria-busy");
      finish(turn, view.box, view.body);
      state.turns.push(turn); save(); scroll();
    }).catch(function (r) {
      view.box.remove();
      problem(r);
    }).then(function () { busy = false; input.focus(); });
  }

  function rate(turn, rating, pressed, other) {
    call("/v1/feedback", { answer_id: turn.answerId, rating: rating }).then(function (r) {
      if (!r.ok) throw r;
      turn.rating = rating; save();
      pressed.setAttribute("aria-pressed", "true"); other.setAttribute("aria-pressed", "false");
      say(TEXT.thanks);
    }).catch(problem);
  }

  function handOff() {
    if (busy || !WIDGET_KEY) return;
    if (!state.conversation) { // nothing asked yet: the request itself is the first message
      input.value = TEXT.human;
      ask();
      return;
    }
    busy = true;
    call("/v1/conversations/" + encodeURIComponent(state.conversation) + "/handoff", { language: LANG })
      .then(function (r) {
        if (!r.ok) throw r;
        return r.json();
      }).then(function (h) {
        var note = { role: "system", text: h.message || TEXT.handedOver };
        state.turns.push(note); render(note); save();
      }).catch(problem)
      .then(function () { busy = false; });
  }
})();
