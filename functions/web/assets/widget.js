/*! edgechat widget — one tag embeds it:
 * <script src="https://<host>/widget.js" data-site="<site_key>" async></script>
 * Plain JS, no build step. Styles live in a Shadow DOM so that the page's
 * CSS and ours never meet. API: window.edgechat.open(), .close(),
 * .identify({id, email, firstname, lastname, hash}), .on("message", fn).
 */
(function () {
  "use strict";
  if (window.edgechat && window.edgechat.version) return; // loaded twice

  var script = document.currentScript ||
    document.querySelector("script[data-site][src*='widget.js']");
  if (!script) return;
  var site = script.getAttribute("data-site") || "";
  var base = script.getAttribute("data-api") || new URL(script.src, location.href).origin;
  var PREFIX = "edgechat:" + site + ":";

  // --- state kept across pages and reloads -------------------------------
  function load(key) {
    try { return JSON.parse(localStorage.getItem(PREFIX + key)); } catch (e) { return null; }
  }
  function save(key, value) {
    try {
      if (value == null) localStorage.removeItem(PREFIX + key);
      else localStorage.setItem(PREFIX + key, JSON.stringify(value));
    } catch (e) { /* private mode: state lasts for this page only */ }
  }
  // The visitor id is minted by the server (signed for this site) and kept
  // in the browser; a refused one (the server's signing key was rotated)
  // is replaced by a new one.
  var VISITOR_ID = /^vis_[0-9a-f]{56}$/;
  var visitor = load("visitor");
  if (typeof visitor !== "string" || !VISITOR_ID.test(visitor)) visitor = null;
  var minting = null;
  // A visit is a browser session: counted once, on its first page.
  var visit = load("visits") || 0;
  try {
    if (!sessionStorage.getItem(PREFIX + "session")) {
      sessionStorage.setItem(PREFIX + "session", "1");
      visit += 1;
      save("visits", visit);
    }
  } catch (e) { visit = visit || 1; }
  var startedAt = Date.now();
  var conversation = load("conversation"); // {id, token}

  // --- HTTP --------------------------------------------------------------
  function api(method, path, body, token) {
    var headers = {};
    if (body) headers["content-type"] = "application/json";
    if (token) headers.authorization = "Bearer " + token;
    return fetch(base + path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
        if (!response.ok) {
          var error = new Error((data && data.detail) || ("HTTP " + response.status));
          error.status = response.status;
          error.problem = data;
          // A busy server (503) says when to come back.
          error.retryAfter = Number(response.headers.get("retry-after")) || 0;
          throw error;
        }
        return data;
      });
    });
  }
  function visitorId() {
    if (visitor) return Promise.resolve(visitor);
    if (!minting) {
      minting = api("POST", "/v1/widget/visitors", { site: site }).then(function (answer) {
        visitor = answer.visitor;
        save("visitor", visitor);
        if (window.edgechat) window.edgechat.visitor = visitor;
        minting = null;
        return visitor;
      }, function (error) { minting = null; throw error; });
    }
    return minting;
  }
  function visitorRefused(error) {
    var fields = (error.status === 400 && error.problem && error.problem.errors) || [];
    return fields.some(function (f) { return f.field === "visitor"; });
  }
  // Runs call(visitorId); once more with a new id if the server refused it.
  function asVisitor(call) {
    return visitorId().then(call).catch(function (error) {
      if (!visitorRefused(error)) throw error;
      visitor = null;
      save("visitor", null);
      return visitorId().then(call);
    });
  }
  function q(params) {
    return Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
    }).join("&");
  }

  // --- the UI, inside a shadow root ------------------------------------------
  var CSS =
    ":host{all:initial;--p:#1f6feb;--t:#fff;position:fixed;bottom:20px;right:20px;z-index:2147483000;" +
    "font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24}" +
    ":host(.left){right:auto;left:20px}" +
    "*{box-sizing:border-box}" +
    "[hidden]{display:none!important}" +
    ".launcher{display:flex;align-items:center;gap:8px;border:0;border-radius:28px;padding:14px 20px;" +
    "background:var(--p);color:var(--t);font:inherit;font-weight:600;cursor:pointer;box-shadow:0 4px 16px rgba(0,0,0,.2)}" +
    "button:focus-visible,textarea:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}" +
    ".panel{position:absolute;bottom:0;right:0;width:min(360px,calc(100vw - 40px));height:min(520px,calc(100vh - 40px));" +
    "display:flex;flex-direction:column;background:#fff;border-radius:12px;overflow:hidden;box-shadow:0 8px 32px rgba(0,0,0,.25)}" +
    ":host(.left) .panel{right:auto;left:0}" +
    "header{display:flex;align-items:center;justify-content:space-between;padding:12px 16px;background:var(--p);color:var(--t)}" +
    "h2{margin:0;font-size:16px}" +
    ".close{border:0;background:transparent;color:var(--t);font-size:22px;line-height:1;cursor:pointer;padding:4px 8px}" +
    ".log{flex:1;overflow-y:auto;padding:12px 16px;display:flex;flex-direction:column;gap:8px;background:#f6f8fa}" +
    ".msg{margin:0;max-width:80%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}" +
    ".agent,.note{align-self:flex-start;background:#fff;border:1px solid #d0d7de}" +
    ".note{color:#57606a;font-style:italic}" +
    ".visitor{align-self:flex-end;background:var(--p);color:var(--t)}" +
    ".who{display:block;font-size:12px;font-weight:600;color:#57606a}" +
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #d0d7de}" +
    "textarea{flex:1;resize:none;font:inherit;padding:8px;border:1px solid #8c959f;border-radius:8px;height:42px}" +
    ".send{border:0;border-radius:8px;padding:0 14px;background:var(--p);color:var(--t);font:inherit;font-weight:600;cursor:pointer}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}";

  var host = document.createElement("div");
  host.id = "edgechat-widget";
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" + CSS + "</style>" +
    "<button class='launcher' type='button' aria-haspopup='dialog' aria-expanded='false' aria-controls='ec-panel' hidden>" +
    "<span aria-hidden='true'>\u{1F4AC}</span><span class='label'></span></button>" +
    "<div class='panel' id='ec-panel' role='dialog' aria-modal='false' aria-labelledby='ec-title' hidden>" +
    "<header><h2 id='ec-title'></h2><button class='close' type='button' aria-label='Close chat'>\u00D7</button></header>" +
    "<div class='log' role='log' aria-live='polite' aria-relevant='additions'><p class='msg note welcome'></p></div>" +
    "<form><label class='sr' for='ec-input'>Message</label>" +
    "<textarea id='ec-input' rows='1' maxlength='4000' autocomplete='off'></textarea>" +
    "<button class='send' type='submit'>Send</button></form></div>";
  function $(selector) { return root.querySelector(selector); }
  var launcher = $(".launcher"), panel = $(".panel"), log = $(".log"),
    input = $("textarea"), form = $("form");
  var texts = { offline: "" };

  function applyConfig(c) {
    if (!c) return;
    if (c.colors) {
      host.style.setProperty("--p", c.colors.primary);
      host.style.setProperty("--t", c.colors.text);
    }
    var t = c.texts || {};
    texts = t;
    $(".label").textContent = t.launcher || "Chat";
    launcher.setAttribute("aria-label", (t.launcher || "Chat") + " (opens the chat)");
    $("#ec-title").textContent = t.title || "Chat";
    $(".welcome").textContent = t.welcome || "";
    input.placeholder = t.placeholder || "";
    host.className = c.position === "left" ? "left" : "";
  }
  applyConfig({ texts: { launcher: "Chat", title: "Chat" } });

  function note(text) {
    var p = document.createElement("p");
    p.className = "msg note";
    p.textContent = text;
    log.appendChild(p);
    log.scrollTop = log.scrollHeight;
  }

  // --- open / close ----------------------------------------------------------
  var isOpen = false;
  function open() {
    isOpen = true;
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.hidden = true;
    input.focus();
  }
  function close() {
    isOpen = false;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.hidden = !visible;
    if (visible) launcher.focus();
  }
  launcher.addEventListener("click", open);
  $(".close").addEventListener("click", close);
  root.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && isOpen) { e.preventDefault(); close(); }
  });

  // --- visibility: ask, then ask again when the answer can change -------------
  var visible = false, recheckTimer = null;
  function setVisible(v) {
    visible = v;
    host.setAttribute("data-visible", v ? "true" : "false");
    if (!isOpen) launcher.hidden = !v;
    else if (!v && !conversation) close();
  }
  function checkVisibility() {
    clearTimeout(recheckTimer);
    asVisitor(function (id) {
      return api("GET", "/v1/widget/visibility?" + q({
        site: site,
        visitor: id,
        time_on_page: Math.floor((Date.now() - startedAt) / 1000),
        visit: visit
      }));
    }).then(function (answer) {
      setVisible(!!answer.visible);
      host.setAttribute("data-recheck", answer.recheck_after_seconds);
      recheckTimer = setTimeout(checkVisibility, Math.max(1, answer.recheck_after_seconds) * 1000);
    }, function () {
      recheckTimer = setTimeout(checkVisibility, 30000);
    });
  }

  // --- conversation: start on the first message, long-poll replies -----------
  var listeners = { message: [] }, seen = {}, polling = false, pollGeneration = 0;
  var pollFailures = 0;
  function render(m) {
    if (seen[m.id]) return;
    seen[m.id] = true;
    var p = document.createElement("p");
    var who = m.author && m.author.type;
    p.className = "msg " + (who === "visitor" ? "visitor" : "agent");
    // An agent's reply says who wrote it (the name it had then).
    if (who === "agent" && m.author.name) {
      var name = document.createElement("span");
      name.className = "who";
      name.textContent = m.author.name;
      p.appendChild(name);
    }
    p.appendChild(document.createTextNode(m.text));
    log.appendChild(p);
    log.scrollTop = log.scrollHeight;
    listeners.message.forEach(function (fn) {
      try { fn(m); } catch (e) { setTimeout(function () { throw e; }); }
    });
  }
  function forget() {
    conversation = null;
    save("conversation", null);
    pollGeneration += 1;
    polling = false;
  }
  function poll(cursor) {
    if (!conversation) { polling = false; return; }
    var generation = pollGeneration, c = conversation;
    polling = true;
    api("GET", "/v1/widget/conversations/" + encodeURIComponent(c.id) + "/messages?" +
      q({ cursor: cursor || "", wait: 25 }), null, c.token).then(function (page) {
      if (generation !== pollGeneration) return;
      pollFailures = 0;
      (page.items || []).forEach(render);
      poll(page.next_cursor || cursor);
    }, function (error) {
      if (generation !== pollGeneration) return;
      if (error.status === 401 || error.status === 404) { forget(); return; }
      // Come back when the server says (a busy 503's Retry-After), else
      // after 3 s doubling to a minute; spread by ±25% so that the widgets
      // a busy server turned away do not all return at once.
      pollFailures += 1;
      var seconds = error.retryAfter || Math.min(60, 3 * Math.pow(2, pollFailures - 1));
      host.setAttribute("data-poll-retry", String(seconds));
      setTimeout(function () { poll(cursor); }, seconds * 1000 * (0.75 + Math.random() / 2));
    });
  }
  function start(text) {
    return asVisitor(function (id) {
      return api("POST", "/v1/widget/conversations", { site: site, visitor: id, text: text });
    }).then(function (started) {
      conversation = { id: started.conversation_id, token: started.visitor_token };
      save("conversation", conversation);
      pollGeneration += 1;
      poll("");
    });
  }
  function send(text) {
    if (!conversation) return start(text);
    return api("POST", "/v1/widget/conversations/" + encodeURIComponent(conversation.id) + "/messages",
      { text: text }, conversation.token).catch(function (error) {
      // An expired token or a conversation that is gone: start a new one.
      if (error.status === 401 || error.status === 404) { forget(); return start(text); }
      throw error;
    });
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text).catch(function (error) {
      input.value = text;
      note(error.status === 409 || error.status === 410 ? (texts.offline || error.message) : error.message);
    });
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  // --- public API --------------------------------------------------------------
  window.edgechat = {
    version: "1",
    visitor: visitor,
    open: open,
    close: close,
    identify: function (user) {
      return asVisitor(function (id) {
        var body = { site: site, visitor: id };
        ["id", "email", "firstname", "lastname", "hash"].forEach(function (k) {
          if (user && user[k] != null) body[k] = user[k];
        });
        return api("POST", "/v1/widget/identify", body);
      }).then(function (answer) {
        checkVisibility(); // the customer's own override may apply now
        return answer;
      });
    },
    on: function (event, fn) {
      if (!listeners[event]) throw new Error("edgechat.on: unknown event " + event);
      listeners[event].push(fn);
      return function off() {
        listeners[event] = listeners[event].filter(function (f) { return f !== fn; });
      };
    }
  };

  function mount() {
    document.body.appendChild(host);
    api("GET", "/v1/widget/config?" + q({ site: site })).then(applyConfig, function () { /* defaults */ });
    checkVisibility();
    if (conversation) poll(""); // a reload: same conversation, history again
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
