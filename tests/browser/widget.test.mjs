// The widget in a real browser (Debian's chromium, driven by playwright-core).
//
// Run by `cargo test` (tests/tests/browser/main.rs), which starts the host,
// creates an account and passes:
//   EDGECHAT_BASE       http://127.0.0.1:<port>
//   EDGECHAT_SITE       the account's site key
//   EDGECHAT_TOKEN      its API token
//   EDGECHAT_ARTIFACTS  where screenshots go (tests/artifacts)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
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
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what} did not happen within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

let context, userDataDir;
before(async () => {
  userDataDir = mkdtempSync(join(tmpdir(), "edgechat-chromium-"));
  mkdirSync(artifacts, { recursive: true });
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    viewport: { width: 1100, height: 760 },
  });
});
after(async () => {
  assert.deepEqual(cspViolations, [], "the widget works under the demo page's CSP");
  await context?.close();
  rmSync(userDataDir, { recursive: true, force: true });
});

// Console messages that say the demo page's CSP blocked something.
const cspViolations = [];

async function demoPage() {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await page.goto(`${base}/demo?site=${site}`);
  return page;
}

const launcher = (page) => page.locator("#edgechat-widget .launcher");

test("the demo page shows the launcher", async () => {
  const page = await demoPage();
  await launcher(page).waitFor({ state: "visible", timeout: 15000 });
  assert.equal(await launcher(page).getAttribute("aria-expanded"), "false");
  assert.match(await launcher(page).innerText(), /Chat/);
  await launcher(page).click();
  await page.locator("#edgechat-widget .panel").waitFor({ state: "visible" });
  await page.screenshot({ path: join(artifacts, "widget-open.png") });
  await page.keyboard.press("Escape");
  await page.locator("#edgechat-widget .panel").waitFor({ state: "hidden" });
  await launcher(page).waitFor({ state: "visible" });
  await page.close();
});

test("after a hide override the launcher disappears within its recheck", async () => {
  const page = await demoPage();
  await launcher(page).waitFor({ state: "visible", timeout: 15000 });
  const host = page.locator("#edgechat-widget");
  const recheck = Number(await host.getAttribute("data-recheck"));
  assert.ok(recheck >= 1 && recheck <= 30, `recheck_after_seconds = ${recheck}`);
  const started = Date.now();
  assert.equal((await api("PUT", "/api/v1/visibility", { mode: "hide" })).status, 200);
  try {
    // A generous deadline: the widget rechecks every `recheck` s, and a busy
    // machine may be slow to answer (the time it took is printed).
    await launcher(page).waitFor({ state: "hidden", timeout: (2 * recheck + 30) * 1000 });
    console.log(`launcher hidden ${((Date.now() - started) / 1000).toFixed(1)} s after the override (recheck ${recheck} s)`);
  } finally {
    assert.equal((await api("PUT", "/api/v1/visibility", { mode: "auto" })).status, 200);
    await page.close();
  }
});

test("identify with a wrong hash is refused", async () => {
  assert.equal((await api("PUT", "/api/v1/widget/identity-secret", { secret: "browser-test-identity-secret" })).status, 200);
  const page = await demoPage();
  try {
    await launcher(page).waitFor({ state: "visible", timeout: 15000 });
    const outcome = await page.evaluate(() =>
      window.edgechat.identify({ id: "u-42", email: "jd@example.com", hash: "00".repeat(32) })
        .then(() => "accepted", (e) => e.status));
    assert.equal(outcome, 401);
  } finally {
    await api("DELETE", "/api/v1/widget/identity-secret");
    await page.close();
  }
});

test("a visitor's message reaches the API and the agent's reply reaches the open panel", async (t) => {
  const probe = await fetch(`${base}/v1/widget/conversations`, { method: "OPTIONS" });
  const conversations = await api("GET", "/api/v1/conversations");
  if (conversations.status === 404 || probe.status === 404) {
    t.skip("the conversations components (issue 4) are not served yet");
    return;
  }
  assert.equal((await api("PUT", "/api/v1/agents/alice", { name: "Alice", online: true, available: true })).status < 300, true);
  const page = await demoPage();
  await launcher(page).waitFor({ state: "visible", timeout: 15000 });
  await launcher(page).click();
  const input = page.locator("#edgechat-widget textarea");
  await input.waitFor({ state: "visible" });
  assert.equal(await page.evaluate(() => document.activeElement?.id), "edgechat-widget", "focus moves into the widget");
  const text = `Hello from the browser ${Date.now()}`;
  await input.fill(text);
  await input.press("Enter");

  const conversation = await eventually("the visitor's message in GET /api/v1/conversations", 15000, async () => {
    const page1 = await api("GET", "/api/v1/conversations?limit=50");
    for (const c of page1.body?.items || []) {
      const id = c.id || c.conversation_id;
      const messages = await api("GET", `/api/v1/conversations/${id}/messages`);
      if ((messages.body?.items || []).some((m) => m.text === text)) return id;
    }
    return null;
  });

  const reply = `Hi, Alice here (${Date.now()})`;
  const sent = await api("POST", `/api/v1/conversations/${conversation}/messages`, { agent_id: "alice", text: reply });
  assert.ok(sent.status < 300, JSON.stringify(sent));
  await page.locator("#edgechat-widget .msg.agent", { hasText: reply }).waitFor({ state: "visible", timeout: 35000 });
  await page.screenshot({ path: join(artifacts, "widget-open-chat.png") });

  // A reload keeps the conversation: the history comes back.
  await page.reload();
  await launcher(page).waitFor({ state: "visible", timeout: 15000 });
  await page.evaluate(() => window.edgechat.open());
  await page.locator("#edgechat-widget .msg.agent", { hasText: reply }).waitFor({ state: "visible", timeout: 15000 });
  await page.keyboard.press("Escape");
  await page.locator("#edgechat-widget .panel").waitFor({ state: "hidden" });
  await page.close();
});

test("a visitor id the server refuses is replaced by a freshly minted one", async () => {
  const page = await demoPage();
  try {
    await launcher(page).waitFor({ state: "visible", timeout: 15000 });
    const key = `edgechat:${site}:visitor`;
    const minted = await page.evaluate((k) => JSON.parse(localStorage.getItem(k)), key);
    assert.match(minted, /^vis_[0-9a-f]{56}$/, "the server minted the stored id");
    // As after a signing_key rotation: well-formed, but not signed for us.
    const stale = "vis_" + "0".repeat(56);
    await page.evaluate(([k, v]) => localStorage.setItem(k, JSON.stringify(v)), [key, stale]);
    await page.reload();
    await launcher(page).waitFor({ state: "visible", timeout: 15000 });
    const replaced = await eventually("a new visitor id", 15000, () =>
      page.evaluate((k) => JSON.parse(localStorage.getItem(k)), key)
        .then((v) => (v !== stale ? v : null)));
    assert.match(replaced, /^vis_[0-9a-f]{56}$/);
    assert.notEqual(replaced, minted);
    const answer = await page.evaluate(() => window.edgechat.identify({ id: "u-7" }));
    assert.deepEqual(answer, { verified: false });
  } finally {
    await page.close();
  }
});
