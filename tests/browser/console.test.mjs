// The console as an analyst uses it, in headless Chromium (Debian's), against a running
// `vigil serve --demo`: log in, open the demo incident, confirm an action and see its new state.
// Screenshots go to $ARTIFACTS (default /artifacts).
//
//   VIGIL_URL=http://127.0.0.1:8080 VIGIL_PASSWORD=... node --test console.test.mjs

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = (process.env.VIGIL_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
const user = process.env.VIGIL_USER || "admin";
const password = process.env.VIGIL_PASSWORD;
const artifacts = process.env.ARTIFACTS || "/artifacts";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
// The demo replays a tenant when the server starts; give it time to land in the store.
const incidentWait = Number(process.env.VIGIL_INCIDENT_WAIT_MS || 180000);

let browser, page, profileDir;

const shot = (name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

before(async () => {
  assert.ok(password, "set VIGIL_PASSWORD to the admin password");
  mkdirSync(artifacts, { recursive: true });
  profileDir = mkdtempSync(join(tmpdir(), "vigil-chromium-"));
  // A persistent context is how playwright takes a fresh --user-data-dir.
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  page = browser.pages()[0] || (await browser.newPage());
  // Declining asks for confirmation; this test only confirms, but never hang on a dialog.
  page.on("dialog", (d) => d.accept());
});

after(async () => {
  await browser?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

test("an unauthenticated visitor is sent to the login page, and a wrong password is refused", async () => {
  await page.goto(`${url}/`);
  assert.match(new URL(page.url()).pathname, /^\/login/);
  await page.fill('input[name="username"]', user);
  await page.fill('input[name="password"]', "wrong password");
  await page.click('button[type="submit"]');
  await page.waitForSelector(".flash.error");
  assert.match(await page.textContent(".flash.error"), /Wrong user name or password/);
  await shot("01-login-refused");
});

test("the analyst logs in and sees the incident queue ranked by score", async () => {
  await page.fill('input[name="username"]', user);
  await page.fill('input[name="password"]', password);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${url}/`);
  const deadline = Date.now() + incidentWait;
  while ((await page.locator("table.queue tbody tr").count()) === 0) {
    assert.ok(Date.now() < deadline, "the demo incident reached the queue in time");
    await page.waitForTimeout(2000);
    await page.reload();
  }
  const scores = await page.locator("table.queue .score").allTextContents();
  const numbers = scores.map(Number);
  assert.deepEqual(numbers, [...numbers].sort((a, b) => b - a), "ranked by score");
  await shot("02-queue");
});

test("the demo incident shows one timeline lane per account, reasons, infrastructure and actions", async () => {
  await page.click("table.queue tbody tr:first-child a.title");
  await page.waitForSelector("svg.timeline");
  const title = await page.textContent("h1");
  assert.match(title, /Multi-account compromise/, "the reference attack is one multi-account incident");
  const lanes = await page.locator("svg.timeline .lane-label").allTextContents();
  const accounts = lanes.filter((l) => l.includes("@"));
  assert.ok(accounts.length >= 3, `three accounts, one lane each: ${lanes}`);
  assert.ok((await page.locator("svg.timeline circle").count()) >= 5, "marks on the timeline");
  assert.ok((await page.locator("table.breaches tbody tr").count()) > 0, "breaches listed");
  const reasons = await page.locator("table.breaches tbody tr td:last-child").allTextContents();
  assert.ok(reasons.some((r) => r.trim().length > 20), "breaches carry a reason a person reads");
  assert.ok((await page.locator("dl.infra dd").count()) > 0, "attacker infrastructure listed");
  await shot("03-incident");
});

test("confirming a pending action records the decision and shows its new state", async () => {
  const row = page.locator('table.actions tr[data-state="pending"]').first();
  const id = (await row.getAttribute("id")).replace(/^action-/, "");
  await row.locator('button[data-action="confirm"]').click();
  await page.waitForLoadState("load");
  const after = page.locator(`#action-${id}`);
  assert.equal(await after.getAttribute("data-state"), "confirmed");
  assert.match(await after.textContent(), new RegExp(`confirmed by ${user}`));
  assert.match(await page.textContent("ul.decisions"), /confirm/);
  await after.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(artifacts, "04-action-confirmed.png") });
  // The API says the same, with who decided.
  const api = await page.evaluate(async (id) => (await fetch(`/api/v1/actions/${id}`)).json(), id);
  assert.equal(api.state, "confirmed");
  assert.equal(api.decided_by, user);
});

test("the account page shows the pattern of life with an hour-of-week heat map", async () => {
  await page.click("section.card a.chip[href^='/accounts/']");
  await page.waitForSelector("svg.heatmap");
  assert.equal(await page.locator("svg.heatmap rect").count(), 168, "7 days x 24 hours");
  assert.ok((await page.locator("table.bars tr").count()) > 0, "countries, networks, clients");
  assert.ok((await page.locator("table.recent tbody tr").count()) > 0, "recent activity");
  await shot("05-account");
});

test("search by IP finds the incident, and the models page shows the autonomy switches", async () => {
  await page.goBack();
  const ip = await page.locator("dl.infra a.chip").first().textContent();
  await page.fill('form.search input[name="q"]', ip.trim());
  await page.press('form.search input[name="q"]', "Enter");
  await page.waitForSelector("table.queue tbody tr");
  assert.match(await page.textContent("table.queue"), /Multi-account compromise/);
  await page.goto(`${url}/models`);
  assert.ok((await page.locator("form.autonomy select").count()) > 0, "autonomy switches for admins");
  await shot("06-models");
});
