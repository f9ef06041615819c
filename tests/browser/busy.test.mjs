// The widget when the server is busy: a long-poll refused with a 503 and
// `Retry-After` makes the widget come back when told, not hammer the
// server, and the chat carries on once a slot is free.
//
// Run by `cargo test --test browser` with a host whose per-account waiting
// budget is one long-poll (EDGECHAT_BASE, EDGECHAT_SITE, EDGECHAT_TOKEN).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.EDGECHAT_BASE;
const site = process.env.EDGECHAT_SITE;
const token = process.env.EDGECHAT_TOKEN;
if (!base || !site || !token) {
  throw new Error("run through `cargo test --test browser` (EDGECHAT_BASE, EDGECHAT_SITE, EDGECHAT_TOKEN)");
}

async function call(method, path, body, bearer = token) {
  const response = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

let context, userDataDir;
before(async () => {
  userDataDir = mkdtempSync(join(tmpdir(), "edgechat-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
after(async () => {
  await context?.close();
  rmSync(userDataDir, { recursive: true, force: true });
});

test("a widget turned away by a busy server comes back after Retry-After and gets its reply", async () => {
  assert.ok((await call("PUT", "/api/v1/agents/alice", { name: "Alice", online: true, available: true })).status < 300);
  // Another visitor's chat holds the account's only waiting slot.
  const visitor = (await call("POST", "/v1/widget/visitors", { site })).body.visitor;
  const other = (await call("POST", "/v1/widget/conversations", { site, visitor })).body;
  const tail = (await call("GET", `/v1/widget/conversations/${other.conversation_id}/messages`, null, other.visitor_token)).body;
  const holder = call("GET", `/v1/widget/conversations/${other.conversation_id}/messages?cursor=${tail.next_cursor}&wait=30`,
    null, other.visitor_token);

  const page = await context.newPage();
  const polls = [];
  page.on("response", (r) => {
    if (/\/v1\/widget\/conversations\/[^/]+\/messages\?/.test(r.url())) polls.push(r.status());
  });
  await page.goto(`${base}/demo?site=${site}`);
  const widget = page.locator("#edgechat-widget");
  await widget.locator(".launcher").click();
  const input = widget.locator("textarea");
  await input.fill("Anyone there?");
  await input.press("Enter");

  // Turned away: the widget took the server's Retry-After.
  await page.waitForFunction(() =>
    document.querySelector("#edgechat-widget")?.getAttribute("data-poll-retry") === "10", null, { timeout: 30000 });
  assert.ok(polls.includes(503), `polls: ${polls}`);

  // The other chat gets a reply and frees the slot; the widget's next poll
  // waits for real and shows the agent's answer.
  const conversations = await call("GET", "/api/v1/conversations?limit=10");
  const mine = conversations.body.items.map((c) => c.id).find((id) => id !== other.conversation_id);
  assert.ok((await call("POST", `/api/v1/conversations/${other.conversation_id}/messages`, { agent_id: "alice", text: "one moment" })).status < 300);
  assert.equal((await holder).status, 200);
  assert.ok((await call("POST", `/api/v1/conversations/${mine}/messages`, { agent_id: "alice", text: "Alice here" })).status < 300);
  await widget.locator(".msg.agent", { hasText: "Alice here" }).waitFor({ state: "visible", timeout: 45000 });
  // It came back when told, not every few seconds: a 10 s Retry-After
  // (±25%) leaves room for few refused polls before the slot freed.
  assert.ok(polls.filter((s) => s === 503).length <= 3, `polls: ${polls}`);
  assert.ok(!polls.includes(500), `polls: ${polls}`);
  await page.close();
});
