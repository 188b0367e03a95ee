'use strict';
// Shared fixture + tiny test runner for Roost's node integration tests.
//
//   const rf = require('./roost_fixture');
//   rf.test('name', async () => { const conn = await rf.connect(); ... });
//   rf.main();
//
// The runner starts one broker per test file
// ($ROOST_BIN --bind 127.0.0.1 --amqp-port 0 --data-dir <tmp> --log-level info), waits
// (bounded) for "listening amqp 127.0.0.1 <port>" on its stdout, runs the tests in order
// (each bounded by a timeout), then stops the broker by PID (SIGTERM, bounded wait,
// SIGKILL) and fails if it crashed or exited non-zero.  With ROOST_EXTERNAL_PORT=<port>
// nothing is started; the tests run against 127.0.0.1:<port> (e.g. real RabbitMQ).
// The last line printed is "N passed, M failed"; the exit status is non-zero on failure.
// Arguments: substrings; only tests whose name contains one of them run.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const crypto = require('node:crypto');

const HOST = '127.0.0.1';
const STARTUP_TIMEOUT_MS = 10000;
const SHUTDOWN_TIMEOUT_MS = 10000;
const TEST_TIMEOUT_MS = 60000;
const TOTAL_TIMEOUT_MS = 270000;

const tests = [];
const tracked = [];
let broker = null;
let currentTest = null;

function test(name, fn, opts = {}) {
  tests.push({ name, fn, timeout: opts.timeout || TEST_TIMEOUT_MS });
}

function uniq(prefix = 't') {
  return `${prefix}.${currentTest || 'x'}.${crypto.randomBytes(5).toString('hex')}`;
}

function port() {
  return broker.port;
}

class Broker {
  constructor() {
    this.proc = null;
    this.port = null;
    this.pid = null;
    this.tmpdir = null;
    this.stderrPath = null;
    this.external = false;
    this.exitCode = undefined; // undefined while running
    this.exitSignal = null;
    this.stdoutLines = [];
  }

  async start() {
    const ext = process.env.ROOST_EXTERNAL_PORT;
    if (ext) {
      this.external = true;
      this.port = parseInt(ext, 10);
      return this;
    }
    const bin = process.env.ROOST_BIN || path.resolve(__dirname, '..', '..', 'build', 'broker', 'roost');
    if (!fs.existsSync(bin)) throw new Error(`broker binary not found: ${bin} (set ROOST_BIN or ROOST_EXTERNAL_PORT)`);
    this.tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'roost-it-js-'));
    const dataDir = path.join(this.tmpdir, 'data');
    fs.mkdirSync(dataDir);
    this.stderrPath = path.join(this.tmpdir, 'broker.stderr.log');
    const errFd = fs.openSync(this.stderrPath, 'w');
    this.proc = spawn(bin, ['--bind', HOST, '--amqp-port', '0', '--data-dir', dataDir, '--log-level', 'info'],
                      { stdio: ['ignore', 'pipe', errFd] });
    fs.closeSync(errFd);
    this.pid = this.proc.pid;
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
    });
    this.port = await new Promise((resolve, reject) => {
      let done = false;
      const finish = (err, value) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(err); else resolve(value);
      };
      const timer = setTimeout(() => finish(new Error(
        `broker did not print 'listening amqp ${HOST} <port>' within ${STARTUP_TIMEOUT_MS} ms`)), STARTUP_TIMEOUT_MS);
      // keep draining stdout for the broker's whole life
      const rl = readline.createInterface({ input: this.proc.stdout });
      rl.on('line', (line) => {
        this.stdoutLines.push(line);
        const parts = line.trim().split(/\s+/);
        if (parts.length === 4 && parts[0] === 'listening' && parts[1] === 'amqp' && parts[2] === HOST) {
          const p = parseInt(parts[3], 10);
          if (p > 0) finish(null, p);
        }
      });
      this.proc.on('error', (e) => finish(e));
      this.exited.then(() => finish(new Error(
        `broker exited (status ${this.exitCode}, signal ${this.exitSignal}) before listening; stdout=${JSON.stringify(this.stdoutLines)}`)));
    }).catch((e) => {
      this.kill();
      this.dumpLogs();
      this.cleanup();
      throw e;
    });
    return this;
  }

  alive() {
    return this.external || (this.proc !== null && this.exitCode === undefined);
  }

  kill() {
    if (this.proc && this.exitCode === undefined) {
      try { process.kill(this.pid, 'SIGKILL'); } catch (e) { /* already gone */ }
    }
  }

  async stop() {
    const problems = [];
    if (this.external || !this.proc) return problems;
    if (this.exitCode !== undefined) {
      problems.push(`broker died during the tests (status ${this.exitCode}, signal ${this.exitSignal})`);
      return problems;
    }
    process.kill(this.pid, 'SIGTERM');
    let timer;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise((r) => { timer = setTimeout(() => r(true), SHUTDOWN_TIMEOUT_MS); }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      problems.push(`broker did not exit within ${SHUTDOWN_TIMEOUT_MS} ms of SIGTERM; sent SIGKILL`);
      this.kill();
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000))]);
    } else if (this.exitCode !== 0) {
      problems.push(`broker exited with status ${this.exitCode} signal ${this.exitSignal} after SIGTERM (expected 0)`);
    }
    return problems;
  }

  dumpLogs(maxLines = 300) {
    if (!this.stderrPath || !fs.existsSync(this.stderrPath)) return;
    const lines = fs.readFileSync(this.stderrPath, 'utf8').split('\n');
    console.log(`----- broker stderr (${this.stderrPath}, last ${Math.min(maxLines, lines.length)} of ${lines.length} lines) -----`);
    console.log(lines.slice(-maxLines).join('\n'));
    console.log('----- end of broker stderr -----');
  }

  cleanup() {
    if (this.tmpdir) {
      fs.rmSync(this.tmpdir, { recursive: true, force: true });
      this.tmpdir = null;
    }
  }
}

// ------------------------------------------------------------------ client helpers

function amqplib() {
  return require('amqplib');
}

// An amqplib connection closed automatically after the test.  Errors are recorded on
// conn.errors instead of crashing the process.
async function connect(opts = {}) {
  const { user = 'guest', password = 'guest', vhost = '/', heartbeat = 60 } = opts;
  const url = `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${HOST}:${broker.port}/` +
              `${encodeURIComponent(vhost)}?heartbeat=${heartbeat}&frameMax=131072`;
  const conn = await amqplib().connect(url, { timeout: 10000 });
  conn.errors = [];
  conn.closedByServer = null;
  conn.on('error', (e) => conn.errors.push(e));
  conn.on('close', (e) => { conn.closedByServer = e || null; conn.isClosed = true; });
  tracked.push(conn);
  return conn;
}

function watchChannel(ch) {
  ch.errors = [];
  ch.isClosed = false;
  ch.on('error', (e) => ch.errors.push(e));
  ch.on('close', () => { ch.isClosed = true; });
  return ch;
}

async function channel(conn) {
  return watchChannel(await conn.createChannel());
}

async function confirmChannel(conn) {
  return watchChannel(await conn.createConfirmChannel());
}

function amqpReplyText(text) {
  // RabbitMQ cuts reply texts longer than 255 bytes to 252 bytes + '...'
  const b = Buffer.from(text, 'utf8');
  return b.length > 255 ? Buffer.concat([b.subarray(0, 252), Buffer.from('...')]).toString('utf8') : text;
}

// Await promise; it must reject with an amqplib server error of this code whose message
// contains the exact RabbitMQ reply text.
async function expectError(promise, code, text) {
  let err = null;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  if (!err) throw new Error(`expected error ${code}, operation succeeded`);
  if (err.code !== code) throw new Error(`expected error code ${code}, got ${err.code}: ${err.message}`);
  if (text !== undefined) {
    const want = `with message "${amqpReplyText(text)}"`;
    if (!err.message.includes(want)) throw new Error(`error message ${JSON.stringify(err.message)} lacks ${JSON.stringify(want)}`);
  }
  return err;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(pred, what = 'condition', timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

function eq(a, b, what = '') {
  const ja = JSON.stringify(a);
  const jb = JSON.stringify(b);
  if (ja !== jb) throw new Error(`${what ? what + ': ' : ''}${ja} !== ${jb}`);
}

async function closeTracked() {
  while (tracked.length) {
    const c = tracked.pop();
    if (c.isClosed) continue;
    try {
      await Promise.race([c.close(), sleep(5000)]);
    } catch (e) { /* already closed */ }
  }
}

// ------------------------------------------------------------------ runner

async function main() {
  const filters = process.argv.slice(2);
  const selected = filters.length ? tests.filter((t) => filters.some((f) => t.name.includes(f))) : tests;
  try {
    require.resolve('amqplib');
  } catch (e) {
    console.log('FAIL  amqplib not found: run "npm ci" in tests/ (NODE_PATH should point to tests/node_modules)');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  broker = new Broker();
  const watchdog = setTimeout(() => {
    console.log(`\nWATCHDOG: test file exceeded ${TOTAL_TIMEOUT_MS} ms; killing broker and exiting`);
    broker.kill();
    broker.dumpLogs();
    broker.cleanup();
    console.log('0 passed, 1 failed');
    process.exit(3);
  }, TOTAL_TIMEOUT_MS);
  process.on('exit', () => broker && broker.kill());
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => { broker.kill(); broker.cleanup(); process.exit(4); });
  }
  // a stray error event from a client library must fail the current test, not the process
  let stray = null;
  process.on('uncaughtException', (e) => { stray = e; });
  process.on('unhandledRejection', (e) => { stray = e; });

  try {
    await broker.start();
  } catch (e) {
    console.log(`FAIL  broker start: ${e.message}`);
    console.log('0 passed, 1 failed');
    clearTimeout(watchdog);
    process.exit(1);
  }
  console.log(`# ${broker.external ? 'external broker' : `roost pid ${broker.pid}`} on ${HOST}:${broker.port}, ${selected.length} tests`);
  let passed = 0;
  let failed = 0;
  const failures = [];
  for (const t of selected) {
    currentTest = t.name;
    stray = null;
    const t0 = Date.now();
    let timer;
    let error = null;
    try {
      await Promise.race([
        t.fn(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`test exceeded ${t.timeout} ms`)), t.timeout); }),
      ]);
      if (stray) throw stray;
    } catch (e) {
      error = e;
    } finally {
      clearTimeout(timer);
    }
    await closeTracked();
    if (!error && !broker.alive()) error = new Error(`broker process died (status ${broker.exitCode}, signal ${broker.exitSignal})`);
    const dt = ((Date.now() - t0) / 1000).toFixed(2);
    if (error) {
      failed++;
      failures.push(t.name);
      console.log(`FAIL  ${t.name} (${dt}s)\n${error && error.stack ? error.stack : error}`);
    } else {
      passed++;
      console.log(`ok    ${t.name} (${dt}s)`);
    }
    if (!broker.alive()) {
      console.log('broker is gone; not running the remaining tests');
      failed += selected.length - passed - failed;
      break;
    }
  }
  currentTest = null;
  const problems = await broker.stop();
  for (const p of problems) {
    failed++;
    failures.push('broker shutdown');
    console.log(`FAIL  broker shutdown: ${p}`);
  }
  if (failures.length && !broker.external) broker.dumpLogs();
  broker.cleanup();
  clearTimeout(watchdog);
  if (failures.length) console.log(`failed: ${failures.join(', ')}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

module.exports = {
  HOST, test, main, uniq, port, connect, channel, confirmChannel, expectError, sleep, waitFor,
  assert, eq, amqpReplyText,
};
