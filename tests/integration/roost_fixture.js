'use strict';
// Shared fixture + tiny test runner for Roost's node integration tests.
//
//   const rf = require('./roost_fixture');
//   rf.test('name', async () => { const conn = await rf.connect(); ... });
//   rf.main();
//
// The runner starts one broker per test file
// ($ROOST_BIN --bind 127.0.0.1 --amqp-port 0 --http-port 0 --data-dir <tmp> --log-level info),
// waits (bounded) for "listening amqp 127.0.0.1 <port>" and "listening http 127.0.0.1 <port>"
// on its stdout (broker.port, broker.httpPort; with TLS flags also "listening amqps|https",
// in broker.listening), runs the tests in order
// (each bounded by a timeout), then stops the broker by PID (SIGTERM, bounded wait,
// SIGKILL) and fails if it crashed or exited non-zero.  With ROOST_EXTERNAL_PORT=<port>
// nothing is started; the tests run against 127.0.0.1:<port> (e.g. real RabbitMQ).
// The last line printed is "N passed, M failed"; the exit status is non-zero on failure.
// Arguments: substrings; only tests whose name contains one of them run.
//
// Restart / durability tests call rf.main({ fileBroker: false }) and start their own brokers:
//   let b = await rf.startBroker();                  // fresh temp data dir ({ dataDir, args })
//   const conn = await rf.connect({ port: b.port });
//   b = await rf.restartBroker(b);                   // SIGTERM, wait, must exit 0; same data dir
//   b = await rf.restartBroker(b, { kill: true });   // SIGKILL by PID, wait; same data dir
// Brokers a test started are stopped after it (SIGTERM + exit-status check if it passed,
// SIGKILL otherwise, stderr printed on failure); their temp data dirs are removed
// (ROOST_KEEP_DATA=1 keeps them).  With ROOST_EXTERNAL_PORT such tests are skipped.

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
const testBrokers = []; // brokers started by the current test (startBroker / restartBroker)
const testDirs = [];    // temp data dirs made for the current test (newDataDir)
const liveBrokers = new Set(); // every broker process not known to have exited

class SkipTest extends Error {}

function skip(reason) {
  throw new SkipTest(reason);
}

function test(name, fn, opts = {}) {
  tests.push({ name, fn, timeout: opts.timeout || TEST_TIMEOUT_MS });
}

function uniq(prefix = 't') {
  return `${prefix}.${currentTest || 'x'}.${crypto.randomBytes(5).toString('hex')}`;
}

function port() {
  return broker.port;
}

function httpPort() {
  return broker.httpPort;
}

// The port of one of the file's broker's listeners ('amqps', 'https', ...).
function listeningPort(protocol) {
  return broker.listening[protocol];
}

class Broker {
  // opts.dataDir: use this data dir (the caller owns it); default a fresh one in the temp dir.
  // opts.args: extra command-line arguments.
  constructor(opts = {}) {
    this.dataDir = opts.dataDir || null;
    this.extraArgs = opts.args || [];
    this.readyMs = null; // spawn to "listening" line
    this.killed = false;
    this.stopped = null; // problems, once stop() ran
    this.proc = null;
    this.port = null;
    this.httpPort = null;
    this.listening = {}; // protocol -> port, from the "listening" lines ('amqps', 'https', ...)
    this.pid = null;
    this.tmpdir = null;
    this.stderrPath = null;
    this.external = false;
    this.exitCode = undefined; // undefined while running
    this.exitSignal = null;
    this.stdoutLines = [];
  }

  // The listeners the command line asks for (the last --amqp-port wins, as in roost): amqp
  // unless -1, amqps with a certificate, https with --https-port, always http.
  expectedListeners() {
    const args = ['--amqp-port', '0', ...this.extraArgs];
    const amqpPorts = args.filter((a, i) => i > 0 && args[i - 1] === '--amqp-port');
    const expected = ['http'];
    if (amqpPorts[amqpPorts.length - 1] !== '-1') expected.push('amqp');
    if (args.includes('--tls-cert')) expected.push('amqps');
    if (args.includes('--https-port')) expected.push('https');
    return expected;
  }

  async start() {
    const ext = process.env.ROOST_EXTERNAL_PORT;
    if (ext) {
      this.external = true;
      this.port = parseInt(ext, 10);
      this.httpPort = parseInt(process.env.ROOST_EXTERNAL_HTTP_PORT || '15672', 10);
      return this;
    }
    const bin = process.env.ROOST_BIN || path.resolve(__dirname, '..', '..', 'build', 'broker', 'roost');
    if (!fs.existsSync(bin)) throw new Error(`broker binary not found: ${bin} (set ROOST_BIN or ROOST_EXTERNAL_PORT)`);
    this.tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'roost-it-js-'));
    let dataDir = this.dataDir;
    if (!dataDir) {
      dataDir = path.join(this.tmpdir, 'data');
      fs.mkdirSync(dataDir);
    }
    this.stderrPath = path.join(this.tmpdir, 'broker.stderr.log');
    const errFd = fs.openSync(this.stderrPath, 'w');
    const t0 = Date.now();
    this.proc = spawn(bin, ['--bind', HOST, '--amqp-port', '0', '--http-port', '0', '--data-dir', dataDir,
                            '--log-level', 'info',
                            ...this.extraArgs],
                      { stdio: ['ignore', 'pipe', errFd] });
    fs.closeSync(errFd);
    this.pid = this.proc.pid;
    liveBrokers.add(this);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        liveBrokers.delete(this);
        resolve();
      });
    });
    const expected = this.expectedListeners();
    this.port = await new Promise((resolve, reject) => {
      let done = false;
      const finish = (err, value) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(err); else resolve(value);
      };
      const timer = setTimeout(() => finish(new Error(
        `broker did not print 'listening ${expected.join('|')} ${HOST} <port>' within ${STARTUP_TIMEOUT_MS} ms`)),
      STARTUP_TIMEOUT_MS);
      // keep draining stdout for the broker's whole life
      const rl = readline.createInterface({ input: this.proc.stdout });
      rl.on('line', (line) => {
        this.stdoutLines.push(line);
        const parts = line.trim().split(/\s+/);
        // Ready once every listener the command line asks for is announced.
        if (parts.length === 4 && parts[0] === 'listening' && parts[2] === HOST) {
          const p = parseInt(parts[3], 10);
          if (p > 0) this.listening[parts[1]] = p;
          this.httpPort = this.listening.http || null;
          if (expected.every((name) => this.listening[name])) finish(null, this.listening.amqp || null);
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
    this.readyMs = Date.now() - t0;
    return this;
  }

  // Crash it: SIGKILL by PID and wait (bounded) for the exit. A later stop() reports nothing.
  async kill9() {
    if (this.external || !this.proc) throw new Error('cannot kill an external broker');
    this.killed = true;
    if (this.stopped === null) this.stopped = [];
    this.kill();
    let timer;
    await Promise.race([this.exited, new Promise((r) => { timer = setTimeout(r, 5000); })]);
    clearTimeout(timer);
    if (this.exitCode === undefined) throw new Error(`broker pid ${this.pid} still running 5 s after SIGKILL`);
  }

  stderrText() {
    if (!this.stderrPath || !fs.existsSync(this.stderrPath)) return '';
    return fs.readFileSync(this.stderrPath, 'utf8');
  }

  // The stderr line containing "recovered" (startup recovery summary), or null; polls the
  // log (bounded): the broker may write it just after it started listening.
  async recoveredLine(timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.stderrText().split('\n').find((l) => l.includes('recovered'));
      if (line !== undefined) return line;
      if (Date.now() > deadline || !this.alive()) return null;
      await sleep(50);
    }
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
    if (this.stopped) return this.stopped;
    const problems = [];
    if (this.external || !this.proc) return problems;
    this.stopped = problems;
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
// conn.errors instead of crashing the process.  opts.tls (node's TLS options: ca, cert,
// key, servername) connects with amqps:// to the broker's amqps port instead.
async function connect(opts = {}) {
  const { user = 'guest', password = 'guest', vhost = '/', heartbeat = 60 } = opts;
  // opts.port: a broker started by startBroker()
  const port = opts.port || (opts.tls ? broker.listening.amqps : broker.port);
  const url = `${opts.tls ? 'amqps' : 'amqp'}://${encodeURIComponent(user)}:${encodeURIComponent(password)}@` +
              `${HOST}:${port}/${encodeURIComponent(vhost)}?heartbeat=${heartbeat}&frameMax=131072`;
  const conn = await amqplib().connect(url, { timeout: 10000, ...(opts.tls || {}) });
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

// ------------------------------------------------------------------ restartable brokers

// A fresh empty directory, removed after the current test (ROOST_KEEP_DATA=1 keeps it).
function newDataDir(prefix = 'roost-data-js-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  testDirs.push(d);
  return d;
}

// Start a broker of the current test on opts.dataDir (default: a fresh temp dir) with
// opts.args; skips the test with ROOST_EXTERNAL_PORT.  The class is looked up through
// module.exports, so a harness may substitute another (e.g. a private RabbitMQ node).
async function startBroker(opts = {}) {
  if (process.env.ROOST_EXTERNAL_PORT) skip('needs a broker it can restart (ROOST_EXTERNAL_PORT is set)');
  const dataDir = opts.dataDir || newDataDir();
  const b = new module.exports.Broker({ dataDir, args: opts.args || [] });
  testBrokers.push(b);
  await b.start();
  return b;
}

// Stop b gracefully (SIGTERM, wait, must exit 0) or with opts.kill by SIGKILL, then start a
// new broker on the same data dir (new port). opts.args default: b's.
async function restartBroker(b, opts = {}) {
  if (opts.kill) {
    await b.kill9();
  } else {
    const problems = await b.stop();
    if (problems.length) throw new Error(`graceful stop before restart: ${problems.join('; ')}`);
  }
  return startBroker({ dataDir: b.dataDir, args: opts.args || b.extraArgs });
}

async function stopBrokerClean(b) {
  const problems = await b.stop();
  if (problems.length) throw new Error(`broker stop: ${problems.join('; ')}`);
}

async function finishTestBrokers(testOk) {
  const problems = [];
  for (const b of testBrokers) {
    if (testOk && b.stopped === null && b.proc) problems.push(...await b.stop());
  }
  if (problems.length || !testOk) {
    for (const b of testBrokers) {
      console.log(`# broker pid ${b.pid} on port ${b.port} (data dir ${b.dataDir}):`);
      b.dumpLogs(80);
    }
  }
  while (testBrokers.length) {
    const b = testBrokers.shift();
    b.kill();
    if (b.exited) await Promise.race([b.exited, sleep(5000)]);
    b.cleanup();
  }
  const keep = process.env.ROOST_KEEP_DATA === '1';
  while (testDirs.length) {
    const d = testDirs.pop();
    if (keep) console.log(`# kept data dir ${d}`);
    else fs.rmSync(d, { recursive: true, force: true });
  }
  return problems;
}

function killAllBrokers() {
  for (const b of liveBrokers) b.kill();
  if (process.env.ROOST_KEEP_DATA !== '1') {
    for (const d of testDirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ runner

// opts.fileBroker === false: start no broker for the file (tests use startBroker());
// opts.brokerArgs: extra command-line arguments of the file's broker (TLS flags, say);
// opts.totalTimeoutMs: limit for the whole file.
async function main(opts = {}) {
  const fileBroker = opts.fileBroker !== false;
  const totalTimeoutMs = opts.totalTimeoutMs || TOTAL_TIMEOUT_MS;
  const filters = process.argv.slice(2);
  const selected = filters.length ? tests.filter((t) => filters.some((f) => t.name.includes(f))) : tests;
  try {
    require.resolve('amqplib');
  } catch (e) {
    console.log('FAIL  amqplib not found: run "npm ci" in tests/ (NODE_PATH should point to tests/node_modules)');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  broker = fileBroker ? new Broker({ args: opts.brokerArgs || [] }) : null;
  const watchdog = setTimeout(() => {
    console.log(`\nWATCHDOG: test file exceeded ${totalTimeoutMs} ms; killing broker and exiting`);
    if (broker) {
      broker.kill();
      broker.dumpLogs();
      broker.cleanup();
    }
    for (const b of testBrokers) { b.kill(); b.dumpLogs(80); b.cleanup(); }
    killAllBrokers();
    console.log('0 passed, 1 failed');
    process.exit(3);
  }, totalTimeoutMs);
  process.on('exit', () => { if (broker) broker.kill(); killAllBrokers(); });
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => {
      if (broker) { broker.kill(); broker.cleanup(); }
      killAllBrokers();
      process.exit(4);
    });
  }
  // a stray error event from a client library must fail the current test, not the process
  let stray = null;
  process.on('uncaughtException', (e) => { stray = e; });
  process.on('unhandledRejection', (e) => { stray = e; });

  if (broker) {
    try {
      await broker.start();
    } catch (e) {
      console.log(`FAIL  broker start: ${e.message}`);
      console.log('0 passed, 1 failed');
      clearTimeout(watchdog);
      process.exit(1);
    }
    console.log(`# ${broker.external ? 'external broker' : `roost pid ${broker.pid}`} on ${HOST}:${broker.port}, ${selected.length} tests`);
  } else {
    console.log(`# ${process.env.ROOST_BIN || 'build/test/app/roost'}; each test starts its own brokers, ${selected.length} tests`);
  }
  let passed = 0;
  let failed = 0;
  let skipped = 0;
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
    if (testBrokers.length || testDirs.length) {
      const problems = await finishTestBrokers(!error || error instanceof SkipTest);
      if (problems.length && !error) error = new Error(`after the test: ${problems.join('; ')}`);
    }
    if (!error && broker && !broker.alive()) error = new Error(`broker process died (status ${broker.exitCode}, signal ${broker.exitSignal})`);
    const dt = ((Date.now() - t0) / 1000).toFixed(2);
    if (error instanceof SkipTest) {
      skipped++;
      console.log(`skip  ${t.name}: ${error.message}`);
    } else if (error) {
      failed++;
      failures.push(t.name);
      console.log(`FAIL  ${t.name} (${dt}s)\n${error && error.stack ? error.stack : error}`);
    } else {
      passed++;
      console.log(`ok    ${t.name} (${dt}s)`);
    }
    if (broker && !broker.alive()) {
      console.log('broker is gone; not running the remaining tests');
      failed += selected.length - passed - failed - skipped;
      break;
    }
  }
  currentTest = null;
  if (broker) {
    const problems = await broker.stop();
    for (const p of problems) {
      failed++;
      failures.push('broker shutdown');
      console.log(`FAIL  broker shutdown: ${p}`);
    }
    if (failures.length && !broker.external) broker.dumpLogs();
    broker.cleanup();
  }
  clearTimeout(watchdog);
  if (failures.length) console.log(`failed: ${failures.join(', ')}`);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed ? 1 : 0);
}

module.exports = {
  HOST, test, main, uniq, port, httpPort, listeningPort, connect, channel, confirmChannel, expectError, sleep, waitFor,
  assert, eq, amqpReplyText,
  Broker, SkipTest, skip, newDataDir, startBroker, restartBroker, stopBrokerClean,
};
