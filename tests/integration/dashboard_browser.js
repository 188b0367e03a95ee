'use strict';
// Browser side of the dashboard test: Debian's chromium driven headless by playwright-core,
// where the dashboard lives (a Roost started with --http-port 0, or an external URL), plain
// HTTP calls to the management API, and screenshots.
//
// Env: CHROMIUM_BIN (default /usr/bin/chromium); ROOST_DASHBOARD_URL + ROOST_EXTERNAL_PORT to
// test a dashboard already being served (e.g. admin-ui/dev_server.py in front of a private
// RabbitMQ node) instead of starting Roost; ROOST_SCREENSHOT_DIR (default
// <build>/Testing/dashboard next to ROOST_BIN's build, else a temp dir). docs/dashboard.png
// comes from scripts/dashboard-screenshot.js instead (it needs a minute of traffic).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const rf = require('./roost_fixture');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const USER = 'guest';
const PASSWORD = 'guest';

function screenshotDir() {
  let dir = process.env.ROOST_SCREENSHOT_DIR;
  if (!dir && process.env.ROOST_BIN) dir = path.resolve(path.dirname(process.env.ROOST_BIN), '..', 'Testing', 'dashboard');
  if (!dir) dir = path.join(os.tmpdir(), 'roost-dashboard-screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// A broker serving the dashboard: { amqpPort, url }. The fixture starts Roost with
// --http-port 0 and reads the "listening http <host> <port>" line (broker.httpPort).
async function dashboardBroker() {
  if (process.env.ROOST_DASHBOARD_URL) {
    if (!process.env.ROOST_EXTERNAL_PORT) throw new Error('ROOST_DASHBOARD_URL needs ROOST_EXTERNAL_PORT (the AMQP port)');
    return { amqpPort: parseInt(process.env.ROOST_EXTERNAL_PORT, 10), url: process.env.ROOST_DASHBOARD_URL.replace(/\/$/, '') };
  }
  if (process.env.ROOST_EXTERNAL_PORT) rf.skip('an external broker needs ROOST_DASHBOARD_URL (where its dashboard is served)');
  const b = await rf.startBroker();
  return { amqpPort: b.port, url: `http://${rf.HOST}:${b.httpPort}` };
}

// The management API from node, for arranging and checking state beside the UI; as guest
// unless as = { user, password }. apiStatus answers { status, body } instead of throwing.
async function apiStatus(broker, method, apiPath, body, as = {}) {
  const { user = USER, password = PASSWORD } = as;
  const res = await fetch(`${broker.url}/api/${apiPath}`, {
    method,
    headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = text;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON: keep the text */ }
  return { status: res.status, body: parsed };
}

async function api(broker, method, apiPath, body, as) {
  const { status, body: answer } = await apiStatus(broker, method, apiPath, body, as);
  if (status < 200 || status > 299) throw new Error(`${method} /api/${apiPath}: ${status} ${JSON.stringify(answer)}`);
  return answer;
}

// A headless chromium with one page; records dialogs and page errors, which every test
// checks at the end. close() is safe to call twice.
// contextOptions go to playwright's newContext (ignoreHTTPSErrors for a test CA, say).
async function openBrowser(viewport = { width: 1280, height: 800 }, contextOptions = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: scripts/install-deps test installs Debian's chromium`);
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (e) {
    throw new Error('playwright-core not found: run "npm ci" in tests/');
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true, timeout: 30000,
    // root in a container has no user namespaces for chromium's sandbox
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  const context = await browser.newContext({ viewport, ...contextOptions });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const events = { dialogs: [], errors: [] };
  page.on('dialog', (d) => { events.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => events.errors.push(e.message));
  let closed = false;
  return {
    browser, context, page, events,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.race([browser.close(), rf.sleep(10000)]);
    },
  };
}

// Logs in (as guest unless as = { user, password }) and waits for the overview.
async function login(page, broker, as = {}) {
  const { user = USER, password = PASSWORD } = as;
  await page.goto(`${broker.url}/`);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('.tiles').waitFor();
}

// Polls until fn() (async) returns a truthy value; returns it.
async function eventually(fn, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await rf.sleep(100);
  }
}

async function screenshot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  const file = path.join(screenshotDir(), `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

function expectCleanPage(events) {
  rf.eq(events.dialogs, [], 'dialogs the page opened');
  rf.eq(events.errors, [], 'uncaught errors in the page');
}

// Runs body({ broker, page, events, context, cleanup }) with a broker serving the
// dashboard and a browser page logged in as guest (unless loggedIn is false), checks the
// page stayed clean, and closes the browser (the fixture stops a broker it started).
// Callbacks given to cleanup() run afterwards, last first, even when the body failed: an
// external broker (RabbitMQ) is shared, so what a test made must go again.
async function withDashboard(body, { viewport, loggedIn = true } = {}) {
  const broker = await dashboardBroker();
  const b = await openBrowser(viewport);
  const cleanups = [];
  try {
    if (loggedIn) await login(b.page, broker);
    await body({ broker, page: b.page, events: b.events, context: b.context, cleanup: (fn) => cleanups.unshift(fn) });
    expectCleanPage(b.events);
  } finally {
    await b.close();
    for (const fn of cleanups) await fn().catch((e) => console.log(`# cleanup: ${e.message}`));
  }
}

// The <dd> of a details list (dl.facts) whose <dt> is label.
const fact = (page, label) => page.locator(`dd[data-fact="${label}"]`);
const textOf = async (locator) => (await locator.textContent()).trim();

module.exports = {
  api, apiStatus, login, eventually, screenshot, withDashboard, openBrowser, expectCleanPage, fact, textOf, USER, PASSWORD,
};
