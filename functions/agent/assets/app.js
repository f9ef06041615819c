/* edgechat agent page: one conversation, live.
 * Plain JS, no build step. Everything the server sends is put in the page
 * with textContent, never as HTML. Changes carry the session's CSRF token
 * (the browser adds Origin); the session cookie is HttpOnly.
 */
(function () {
  "use strict";

  function meta(name) {
    var m = document.querySelector('meta[name="' + name + '"]');
    return m ? m.getAttribute("content") : "";
  }
  var conversationId = meta("edgechat-conversation");
  var csrf = meta("edgechat-csrf");
  var base = "/agent/api/conversations/" + encodeURIComponent(conversationId);
  function $(id) { return document.getElementById(id); }

  var state = { me: null, customer: null, conversation: null, seen: {}, ended: false };

  // --- HTTP ------------------------------------------------------------------
  function call(method, path, body) {
    var headers = {};
    if (method !== "GET") headers["x-edgechat-csrf"] = csrf;
    if (body) headers["content-type"] = "application/json";
    return fetch(path, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
        if (!response.ok) {
          var error = new Error((data && data.detail) || ("HTTP " + response.status));
          error.status = response.status;
          error.retryAfter = Number(response.headers.get("retry-after")) || 0;
          if (response.status === 401) sessionEnded(error.message);
          throw error;
        }
        return data;
      });
    });
  }

  function banner(text, isError) {
    var b = $("banner");
    b.textContent = text;
    b.className = "banner" + (isError ? " error" : "");
    b.hidden = !text;
  }

  function sessionEnded(why) {
    if (state.ended) return;
    state.ended = true;
    banner(why || "Your session has ended. Open a new agent link to continue.", true);
    Array.prototype.forEach.call(document.querySelectorAll("button, textarea, select, input"), function (el) {
      el.disabled = true;
    });
  }

  // --- rendering ---------------------------------------------------------------
  function customerName(c) {
    if (!c) return "";
    return [c.firstname, c.lastname].filter(Boolean).join(" ") || c.email || "";
  }

  function formatTime(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return iso;
    var sameDay = d.toDateString() === new Date().toDateString();
    return sameDay
      ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
      : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  function authorLabel(m) {
    var a = m.author || {};
    if (a.type === "visitor") return customerName(state.customer) || "Visitor";
    if (a.type === "agent") {
      var name = a.name || a.id;
      return state.me && a.id === state.me.id ? name + " (you)" : name;
    }
    return "edgechat";
  }

  function renderMessage(m) {
    if (state.seen[m.id]) return;
    state.seen[m.id] = true;
    var log = $("log");
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    var li = document.createElement("li");
    li.className = "msg " + ((m.author && m.author.type) || "system");
    li.setAttribute("data-seq", m.seq);
    var who = document.createElement("div");
    who.className = "who";
    var strong = document.createElement("strong");
    strong.textContent = authorLabel(m);
    var time = document.createElement("time");
    time.dateTime = m.created_at;
    time.title = m.created_at;
    time.textContent = formatTime(m.created_at);
    who.appendChild(strong);
    who.appendChild(time);
    var text = document.createElement("p");
    text.className = "text";
    text.textContent = m.text;
    li.appendChild(who);
    li.appendChild(text);
    // Keep the order by seq even if a reply's answer and the poll race.
    var after = null;
    Array.prototype.some.call(log.children, function (el) {
      if (Number(el.getAttribute("data-seq")) > m.seq) { after = el; return true; }
      return false;
    });
    log.insertBefore(li, after);
    if (atBottom || (m.author && m.author.type === "agent")) log.scrollTop = log.scrollHeight;
  }

  function fact(dl, term, value) {
    if (value == null || value === "") return;
    var dt = document.createElement("dt");
    dt.textContent = term;
    var dd = document.createElement("dd");
    dd.textContent = String(value);
    dl.appendChild(dt);
    dl.appendChild(dd);
  }

  function renderCustomer(c, conversation) {
    var dl = $("customer");
    dl.textContent = "";
    fact(dl, "Name", c && [c.firstname, c.lastname].filter(Boolean).join(" "));
    fact(dl, "Email", c && c.email);
    fact(dl, "External id", c && c.id);
    fact(dl, "Customer", conversation.customer_id);
    var identity = conversation.identity;
    if (identity && !identity.verified) fact(dl, "Says it is", identity.external_id || identity.email || "(unverified)");
    var labels = $("labels");
    labels.textContent = "";
    ((c && c.labels) || []).forEach(function (label) {
      var li = document.createElement("li");
      li.textContent = label;
      labels.appendChild(li);
    });
    if (!c || !(c.labels || []).length) {
      var none = document.createElement("li");
      none.className = "none muted";
      none.textContent = "No labels";
      labels.appendChild(none);
    }
  }

  function renderConversation(view) {
    state.conversation = view;
    var closed = view.status === "closed";
    var status = $("status");
    status.textContent = closed ? "Closed" : "Open";
    status.className = "badge" + (closed ? " closed" : "");
    $("close").hidden = closed;
    $("reopen").hidden = !closed;
    $("assignee").textContent = view.assignee_id ? "Assigned to " + agentName(view.assignee_id) : "Not assigned";
  }

  var agentNames = {};
  function agentName(id) { return agentNames[id] || id; }

  function renderAgents(agents) {
    var select = $("handover-agent");
    select.textContent = "";
    agents.forEach(function (a) {
      agentNames[a.id] = a.name;
      if (state.me && a.id === state.me.id) return;
      var option = document.createElement("option");
      option.value = a.id;
      option.textContent = a.name + (a.online ? (a.available ? " (available)" : " (online)") : " (offline)");
      select.appendChild(option);
    });
    var none = !select.options.length;
    select.disabled = none;
    $("handover").querySelector("button").disabled = none;
  }

  function load() {
    return call("GET", base).then(function (data) {
      state.me = data.agent;
      state.customer = data.customer;
      $("me-name").textContent = data.agent.name;
      var who = customerName(data.customer) || "Visitor";
      $("chat-title").textContent = "Chat with " + who;
      document.title = who + " · edgechat";
      renderAgents(data.agents || []);
      renderCustomer(data.customer, data.conversation);
      renderConversation(data.conversation);
    });
  }

  // --- live messages: long-poll, like the widget ---------------------------------
  var failures = 0;
  function poll(cursor) {
    if (state.ended) return;
    call("GET", base + "/messages?cursor=" + encodeURIComponent(cursor || "") + "&wait=25").then(function (page) {
      failures = 0;
      var fromVisitor = false;
      (page.items || []).forEach(function (m) {
        if (m.author && m.author.type === "visitor" && !state.seen[m.id]) fromVisitor = true;
        renderMessage(m);
      });
      // A visitor message may have reopened the conversation.
      if (fromVisitor && state.conversation && state.conversation.status === "closed") load();
      poll(page.next_cursor || cursor);
    }, function (error) {
      if (state.ended) return;
      failures += 1;
      var seconds = error.retryAfter || Math.min(30, Math.pow(2, failures));
      setTimeout(function () { poll(cursor); }, seconds * 1000 * (0.75 + Math.random() / 2));
    });
  }

  // --- actions -------------------------------------------------------------------
  var text = $("reply-text");
  $("reply").addEventListener("submit", function (e) {
    e.preventDefault();
    var value = text.value.trim();
    if (!value || state.ended) return;
    text.value = "";
    call("POST", base + "/messages", { text: value }).then(function (message) {
      banner("");
      renderMessage(message);
    }, function (error) {
      text.value = value;
      if (error.status !== 401) banner("The reply was not sent: " + error.message, true);
    });
  });
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("reply").requestSubmit();
    }
  });

  function statusAction(path, done) {
    call("POST", base + path).then(function (view) {
      banner("");
      renderConversation(view);
      done();
    }, function (error) {
      if (error.status !== 401) banner(error.message, true);
    });
  }
  $("close").addEventListener("click", function () {
    statusAction("/close", function () { $("reopen").focus(); });
  });
  $("reopen").addEventListener("click", function () {
    statusAction("/reopen", function () { $("close").focus(); });
  });

  $("handover").addEventListener("submit", function (e) {
    e.preventDefault();
    var agent = $("handover-agent").value;
    if (!agent) return;
    call("POST", base + "/handover", { agent_id: agent }).then(function (minted) {
      banner("");
      $("handover-name").textContent = agentName(minted.agent_id);
      $("handover-expires").textContent = formatTime(minted.expires_at);
      $("handover-url").value = minted.url;
      $("handover-result").hidden = false;
      $("handover-url").focus();
      $("handover-url").select();
      load();
    }, function (error) {
      if (error.status !== 401) banner("Hand over failed: " + error.message, true);
    });
  });
  $("copy").addEventListener("click", function () {
    var url = $("handover-url").value;
    var done = function () { banner("The link is copied. Send it to your colleague; it logs in once."); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(done, function () { $("handover-url").select(); });
    } else {
      $("handover-url").select();
    }
  });

  $("logout").addEventListener("click", function () {
    call("POST", "/agent/logout").then(function () {
      sessionEnded("You are logged out. Open a new agent link to sign in again.");
      $("banner").className = "banner";
    }, function () { /* 401: already over, the banner says so */ });
  });

  load().then(function () { poll(""); text.focus(); }, function (error) {
    if (error.status !== 401) banner("The conversation could not be loaded: " + error.message, true);
  });
})();
