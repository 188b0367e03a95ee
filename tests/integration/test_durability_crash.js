'use strict';
// Crash safety of publisher confirms with amqplib: publishers stream persistent,
// sequence-numbered messages on confirm channels (createConfirmChannel) into a durable queue;
// the test kills the broker with SIGKILL 0.5-2 s (random) after the stream started, restarts
// it on the same data dir and drains the queue.  Every confirmed message (per-message
// callback with err === null, or a resolved waitForConfirms) must come back exactly once and
// in publish order; unconfirmed ones may or may not.  Prints "confirmed=N recovered=M".
// ROOST_CRASH_SEED=<int> replays a run's random delays (each run prints its seed).
const crypto = require('node:crypto');
const rf = require('./roost_fixture');

const { test, uniq, eq, assert, sleep } = rf;

const SEED = process.env.ROOST_CRASH_SEED ? parseInt(process.env.ROOST_CRASH_SEED, 10) : crypto.randomInt(1 << 30);
let rngState = SEED >>> 0;
function random() { // mulberry32
  rngState = (rngState + 0x6D2B79F5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const MAX_MESSAGES = 400000; // per publisher; the kill comes long before

class Publisher {
  // mode 'callbacks': up to `window` unconfirmed messages in flight, tracked by callbacks;
  // mode 'batches': publish `window` messages, await waitForConfirms(), repeat.
  constructor(port, queue, label, mode, window) {
    Object.assign(this, { port, queue, label, mode, window });
    this.published = 0;
    this.confirmed = new Set();
    this.nacked = new Set();
    this.lost = new Set(); // callback error 'channel closed' etc.
    this.batchesConfirmed = 0;
    this.closed = false;
    this.wakeup = null;
  }

  body(seq) {
    const head = `${this.label}:${String(seq).padStart(10, '0')}:`;
    return Buffer.from(head.padEnd(64, '.'));
  }

  async open() {
    this.conn = await rf.connect({ port: this.port });
    this.ch = await rf.confirmChannel(this.conn);
    const closed = () => { this.closed = true; this.wake(); };
    this.ch.on('close', closed);
    this.conn.on('close', closed);
    this.ch.on('drain', () => this.wake());
    let started;
    this.streaming = new Promise((r) => { started = r; });
    this.started = started;
  }

  wake() {
    const w = this.wakeup;
    this.wakeup = null;
    if (w) w();
  }

  waitWake() {
    return new Promise((r) => { this.wakeup = r; });
  }

  publishOne() {
    const seq = ++this.published;
    const ok = this.ch.publish('', this.queue, this.body(seq), { persistent: true }, (err) => {
      if (err === null) this.confirmed.add(seq);
      else if (/nack/i.test(err.message)) this.nacked.add(seq);
      else this.lost.add(seq);
      this.wake();
    });
    this.started();
    return ok;
  }

  inFlight() {
    return this.published - this.confirmed.size - this.nacked.size - this.lost.size;
  }

  async run() {
    try {
      while (!this.closed && this.published < MAX_MESSAGES) {
        if (this.mode === 'callbacks') {
          if (this.inFlight() >= this.window) {
            await this.waitWake();
            continue;
          }
          if (!this.publishOne()) await this.waitWake(); // write buffer full: wait for 'drain'
        } else {
          for (let i = 0; i < this.window && !this.closed; i++) this.publishOne();
          await this.ch.waitForConfirms();
          this.batchesConfirmed++;
        }
      }
    } catch (e) {
      // the crash: publish on a closed channel throws, waitForConfirms rejects
      if (!this.closed && !/closed/i.test(String(e && e.message))) this.error = e;
    }
  }
}

async function drain(port, queue) {
  const conn = await rf.connect({ port });
  const ch = await rf.channel(conn);
  const n = (await ch.checkQueue(queue)).messageCount;
  const got = [];
  const t0 = Date.now();
  await ch.consume(queue, (msg) => { got.push(msg.content); }, { noAck: true });
  await rf.waitFor(() => got.length >= n, `${n} messages from ${queue}`, 60000);
  const rate = n / Math.max((Date.now() - t0) / 1000, 1e-3);
  eq((await ch.checkQueue(queue)).messageCount, 0, 'queue empty after the drain');
  await conn.close();
  return { n, got, rate };
}

async function crashRound(specs, args = []) {
  let b = await rf.startBroker({ args });
  const setup = await rf.connect({ port: b.port });
  const q = uniq('q-crash');
  await (await rf.channel(setup)).assertQueue(q, { durable: true });
  await setup.close();
  const pubs = specs.map(([mode, window], i) => new Publisher(b.port, q, `p${i}`, mode, window));
  for (const p of pubs) await p.open();
  const runs = pubs.map((p) => p.run());
  for (const p of pubs) {
    await Promise.race([p.streaming, sleep(10000).then(() => { throw new Error(`${p.label} did not start streaming`); })]);
  }
  const delay = 500 + random() * 1500;
  await sleep(delay); // the random crash moment is the point of this test
  const atKill = pubs.map((p) => p.published);
  await b.kill9();
  const finished = await Promise.race([Promise.all(runs).then(() => true), sleep(15000).then(() => false)]);
  assert(finished, 'publishers still running 15 s after the crash');
  for (const p of pubs) {
    assert(!p.error, `${p.label} failed: ${p.error && p.error.stack}`);
    assert(p.confirmed.size > 0, `${p.label} had no confirm before the kill (${delay.toFixed(0)} ms in)`);
  }

  const t0 = Date.now();
  b = await rf.restartBroker(b, { kill: true });
  const restartS = (Date.now() - t0) / 1000;
  const line = await b.recoveredLine();
  assert(line !== null, "no stderr line containing 'recovered' after the restart");
  console.log(`#   ${line.trim()}`);
  const { n, got, rate } = await drain(b.port, q);

  const byLabel = new Map(pubs.map((p) => [p.label, p]));
  const seen = new Map(pubs.map((p) => [p.label, []]));
  for (const body of got) {
    const parts = body.toString().split(':');
    const p = byLabel.get(parts[0]);
    assert(parts.length === 3 && p, `unexpected message ${body.toString().slice(0, 40)}`);
    const seq = parseInt(parts[1], 10);
    assert(body.equals(p.body(seq)), `body of ${p.label} seq ${seq} damaged`);
    assert(seq >= 1 && seq <= p.published, `${p.label} seq ${seq} was never published (${p.published})`);
    seen.get(p.label).push(seq);
  }
  const totalConfirmed = pubs.reduce((s, p) => s + p.confirmed.size, 0);
  console.log(`#   seed=${SEED} delay=${delay.toFixed(0)}ms publishers=${JSON.stringify(specs)} ` +
              `published=${JSON.stringify(pubs.map((p) => p.published))} (at kill ${JSON.stringify(atKill)}) ` +
              `nacked=${JSON.stringify(pubs.map((p) => p.nacked.size))} restart=${restartS.toFixed(2)}s ` +
              `drain=${rate.toFixed(0)} msg/s`);
  console.log(`confirmed=${totalConfirmed} recovered=${n}`);
  for (const p of pubs) {
    const seqs = seen.get(p.label);
    const counts = new Map();
    for (const s of seqs) counts.set(s, (counts.get(s) || 0) + 1);
    const missing = [...p.confirmed].filter((s) => !counts.has(s)).sort((a, b2) => a - b2);
    assert(missing.length === 0, `${p.label}: ${missing.length} confirmed messages missing after the crash, e.g. ${missing.slice(0, 10)}`);
    const dup = [...p.confirmed].filter((s) => counts.get(s) > 1);
    assert(dup.length === 0, `${p.label}: confirmed messages recovered more than once: ${dup.slice(0, 10)}`);
    const order = seqs.filter((s) => p.confirmed.has(s));
    for (let i = 1; i < order.length; i++) {
      assert(order[i - 1] < order[i], `${p.label}: confirmed messages out of publish order at ${order[i - 1]}, ${order[i]}`);
    }
    const extra = [...counts.keys()].filter((s) => !p.confirmed.has(s)).length;
    if (extra) console.log(`#   ${p.label}: ${extra} unconfirmed messages were recovered too (allowed)`);
  }
  const m = /(\d+) messages\b/.exec(line);
  if (m) eq(parseInt(m[1], 10), n, 'messages in the recovery line (one durable queue)');
}

test('crash: one publisher, per-message callbacks, window 1000', async () => {
  await crashRound([['callbacks', 1000]]);
}, { timeout: 90000 });

test('crash: one publisher, batches of 200 with waitForConfirms', async () => {
  await crashRound([['batches', 200]]);
}, { timeout: 90000 });

test('crash: two publishers on separate connections (callbacks window 50, batches of 500)', async () => {
  await crashRound([['callbacks', 50], ['batches', 500]]);
}, { timeout: 90000 });

console.log(`# ROOST_CRASH_SEED=${SEED}`);
rf.main({ fileBroker: false });
