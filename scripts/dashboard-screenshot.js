'use strict';
// Regenerates docs/dashboard.png: starts Roost (ROOST_BIN, default build/test/app/roost) on
// free ports with a temp data dir, runs a minute and a half of varying traffic through a small
// topic/fanout topology with amqplib, keeps the overview open in Debian's headless chromium,
// takes a 1280x800 screenshot and stops Roost by PID.
//
//   NODE_PATH=tests/node_modules node scripts/dashboard-screenshot.js [seconds]

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const amqp = require('amqplib');
const { chromium } = require('playwright-core');

const root = path.resolve(__dirname, '..');
const bin = process.env.ROOST_BIN || path.join(root, 'build', 'test', 'broker', 'roost');
const seconds = Number(process.argv[2] || 90);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startRoost(dataDir) {
  const proc = spawn(bin, ['--bind', '127.0.0.1', '--amqp-port', '0', '--http-port', '0', '--data-dir', dataDir],
    { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    const ports = {};
    const timer = setTimeout(() => reject(new Error('roost did not start listening within 10 s')), 10000);
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      const [word, proto, , port] = line.trim().split(/\s+/);
      if (word === 'listening') ports[proto] = Number(port);
      if (ports.amqp && ports.http) { clearTimeout(timer); resolve({ proc, ...ports }); }
    });
    proc.on('exit', (code) => reject(new Error(`roost exited with ${code}`)));
  });
}

async function topology(ch) {
  await ch.assertExchange('orders', 'topic', { durable: true });
  await ch.assertExchange('audit', 'fanout', { durable: true });
  await ch.bindExchange('audit', 'orders', 'orders.#');
  const queues = { 'orders.created': 'orders.*.created', 'orders.shipped': 'orders.*.shipped', billing: 'orders.eu.*' };
  for (const [q, key] of Object.entries(queues)) {
    await ch.assertQueue(q, { durable: true });
    await ch.bindQueue(q, 'orders', key);
  }
  await ch.assertQueue('audit.log', { durable: true });
  await ch.bindQueue('audit.log', 'audit', '');
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roost-screenshot-'));
  const roost = await startRoost(dataDir);
  let browser;
  try {
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${roost.amqp}/`);
    const ch = await conn.createConfirmChannel();
    await topology(ch);
    const consumer = await conn.createChannel();
    await consumer.prefetch(50);
    await consumer.consume('orders.created', (m) => setTimeout(() => consumer.ack(m), 2));
    await consumer.consume('audit.log', (m) => consumer.ack(m));

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`http://127.0.0.1:${roost.http}/`);
    await page.getByLabel('Username').fill('guest');
    await page.getByLabel('Password').fill('guest');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.tiles').waitFor();

    const keys = ['orders.eu.created', 'orders.us.created', 'orders.eu.shipped', 'orders.us.shipped'];
    const t0 = Date.now();
    for (let i = 0; Date.now() - t0 < seconds * 1000;) {
      const burst = Math.round(20 + 15 * Math.sin((Date.now() - t0) / 8000));
      for (let k = 0; k < burst; k++, i++) ch.publish('orders', keys[i % keys.length], Buffer.from(`order ${i}`), { persistent: true });
      await ch.waitForConfirms();
      await sleep(100);
    }
    const out = path.join(root, 'docs', 'dashboard.png');
    await page.screenshot({ path: out });
    console.log(`wrote ${out}`);
    await conn.close();
  } finally {
    if (browser) await browser.close();
    roost.proc.kill('SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
