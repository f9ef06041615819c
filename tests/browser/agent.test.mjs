// The agent page in a real browser (Debian's chromium, driven by
// playwright-core), beside a visitor's widget in a browser of its own.
//
// Run by `cargo test` (tests/tests/browser/main.rs) with EDGECHAT_BASE,
// EDGECHAT_SITE, EDGECHAT_TOKEN and EDGECHAT_ARTIFACTS, as widget.test.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.EDGECHAT_BASE;
const site = process.env.EDGECHAT_SITE;
const token = process.env.EDGECHAT_TOKEN;
const artifacts = process.env.EDGECHAT_ARTIFACTS || join(process.cwd(), "artifacts");
if (!base || !site || !token) {
  throw new Error("run through `cargo test --test browser` (EDGECHAT_BASE, EDGECHAT_SITE, EDGECHAT_TOKEN)");
}

async function api(method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function eventually(what, timeoutMs, check) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what} did not happen within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

let browser;
const problems = [];
function watch(page, who) {
  page.on("pageerror", (e) => problems.push(`${who} page error: ${e.message}`));
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) problems.push(`${who} CSP: ${m.text()}`);
  });
  return page;
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
});
after(async () => {
  await browser?.close();
  assert.deepEqual(problems, [], "no script errors and no CSP violations");
});

// Whether the page is wider than its viewport (a layout break).
const overflows = (page) =>
  page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);

test("an agent opens a minted link, answers the visitor live and closes the chat", async () => {
  const agents = [
    { id: "alice", name: "Alice Martin", online: true, available: true },
    { id: "bob", name: "Bob Stone", online: true, available: false },
  ];
  assert.equal((await api("PUT", "/api/v1/agents", { agents })).status, 200);

  // The visitor, in a browser of their own, starts a chat in the widget.
  const visitorContext = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const visitor = watch(await visitorContext.newPage(), "visitor");
  await visitor.goto(`${base}/demo?site=${site}`);
  const launcher = visitor.locator("#edgechat-widget .launcher");
  await launcher.waitFor({ state: "visible", timeout: 15000 });
  await launcher.click();
  const question = `Hi, where is my order? (${Date.now()})`;
  const input = visitor.locator("#edgechat-widget textarea");
  await input.fill(question);
  await input.press("Enter");
  const conversation = await eventually("the visitor's chat in the API", 15000, async () => {
    const feed = await api("GET", "/api/v1/conversations?limit=50");
    for (const c of feed.body?.items || []) {
      const messages = await api("GET", `/api/v1/conversations/${c.id}/messages`);
      if ((messages.body?.items || []).some((m) => m.text === question)) return c;
    }
    return null;
  });
  const tagged = await api("PUT", `/api/v1/customers/${conversation.customer_id}`, {
    firstname: "Jane", lastname: "Doe", email: "jane.doe@example.com", id: 4711, labels: ["vip", "returning"],
  });
  assert.ok(tagged.status < 300, JSON.stringify(tagged));

  // The backend mints a link; the agent opens it in another browser.
  const minted = await api("POST", "/api/v1/agent-links", { agent_id: "alice", conversation_id: conversation.id });
  assert.equal(minted.status, 201, JSON.stringify(minted));
  const agentContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const agent = watch(await agentContext.newPage(), "agent");
  await agent.goto(minted.body.url);
  assert.equal(new URL(agent.url()).pathname, `/agent/conversations/${conversation.id}`, "the link lands on the chat");
  assert.ok(!agent.url().includes("token="), "no token in the address after joining");
  const cookies = await agentContext.cookies(base);
  const session = cookies.find((c) => c.name === "edgechat_agent");
  assert.ok(session, JSON.stringify(cookies));
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Lax");
  assert.equal(await agent.evaluate(() => document.cookie), "", "scripts cannot read the session");

  // History, tags, who is signed in.
  const log = agent.locator("#log");
  await log.locator(".msg.visitor", { hasText: question }).waitFor({ timeout: 15000 });
  await agent.locator("#customer", { hasText: "Jane Doe" }).waitFor();
  await agent.locator("#customer", { hasText: "jane.doe@example.com" }).waitFor();
  await agent.locator("#customer", { hasText: "4711" }).waitFor();
  await agent.locator("#labels li", { hasText: "vip" }).waitFor();
  await agent.locator("#me-name", { hasText: "Alice Martin" }).waitFor();
  await agent.locator("#chat-title", { hasText: "Jane Doe" }).waitFor();
  assert.equal(await agent.evaluate(() => document.activeElement?.id), "reply-text", "the reply box has the focus");

  // The agent replies with the keyboard; the visitor's open widget shows
  // it with the agent's name.
  const answer = `Hello Jane, Alice here: it ships today (${Date.now()})`;
  await agent.keyboard.type(answer);
  await agent.keyboard.press("Enter");
  await log.locator(".msg.agent", { hasText: answer }).waitFor({ timeout: 15000 });
  const shown = visitor.locator("#edgechat-widget .msg.agent", { hasText: answer });
  await shown.waitFor({ state: "visible", timeout: 35000 });
  assert.equal(await shown.locator(".who").innerText(), "Alice Martin");
  await visitor.screenshot({ path: join(artifacts, "widget-agent-reply.png") });
  const messages = await api("GET", `/api/v1/conversations/${conversation.id}/messages`);
  const reply = messages.body.items.find((m) => m.text === answer);
  assert.deepEqual(reply.author, { type: "agent", id: "alice", name: "Alice Martin" });

  // The visitor writes; the agent page shows it (the time it took is printed).
  const followUp = `Great, thanks! (${Date.now()})`;
  await input.fill(followUp);
  const sent = Date.now();
  await input.press("Enter");
  await log.locator(".msg.visitor", { hasText: followUp }).waitFor({ timeout: 15000 });
  console.log(`the visitor's message reached the agent page ${Date.now() - sent} ms after Enter`);

  // Laptop and phone: readable, nothing wider than the screen.
  assert.equal(await overflows(agent), false, "no overflow at 1280 px");
  await agent.screenshot({ path: join(artifacts, "agent-page-1280.png") });
  await agent.setViewportSize({ width: 390, height: 844 });
  assert.equal(await overflows(agent), false, "no overflow at 390 px");
  await agent.screenshot({ path: join(artifacts, "agent-page-390.png"), fullPage: true });
  await agent.setViewportSize({ width: 360, height: 740 });
  assert.equal(await overflows(agent), false, "no overflow at 360 px");
  await agent.setViewportSize({ width: 1280, height: 800 });

  // Closing from the page is what the API shows.
  await agent.locator("#close").click();
  await agent.locator("#status", { hasText: "Closed" }).waitFor();
  const closed = await api("GET", `/api/v1/conversations/${conversation.id}`);
  assert.equal(closed.body.status, "closed");

  // Hand over to Bob: a new link for him, shown to copy.
  await agent.locator("#handover-agent").selectOption("bob");
  await agent.locator("#handover button[type=submit]").click();
  const handedOver = agent.locator("#handover-url");
  await handedOver.waitFor({ state: "visible" });
  assert.match(await handedOver.inputValue(), /\/agent\/join\?token=v1\./);
  const afterHandover = await api("GET", `/api/v1/conversations/${conversation.id}`);
  assert.equal(afterHandover.body.assignee_id, "bob");

  // Logging out ends the session: the page says so and the API refuses it.
  await agent.locator("#logout").click();
  await agent.locator("#banner", { hasText: "logged out" }).waitFor();
  const status = await agent.evaluate(async (id) =>
    (await fetch(`/agent/api/conversations/${id}`)).status, conversation.id);
  assert.equal(status, 401);

  // A used link is a page for a person, not JSON.
  const reused = await agentContext.newPage();
  const response = await reused.goto(minted.body.url);
  assert.equal(response.status(), 410);
  await reused.locator("h1", { hasText: "already been used" }).waitFor();

  await agentContext.close();
  await visitorContext.close();
});
