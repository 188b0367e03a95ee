'use strict';
// A deep durable queue across a graceful restart, with amqplib: 200,000 persistent 16-byte
// messages published with confirms (window of 1000 in flight), restart, queue.declare-ok
// must count 200,000, then all of them are drained in order (prefetch 1000, multiple acks),
// and after one more restart the queue is empty (the acks were durable).  Prints the publish
// rate, the restart times and the drain rate.
const rf = require('./roost_fixture');

const { test, uniq, eq, assert, waitFor } = rf;

const N = 200000;
const WINDOW = 1000;
const PREFETCH = 1000;
const ACK_EVERY = 500;
const TAIL = Buffer.from('roost-dq');

function body(seq) {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(BigInt(seq), 0);
  TAIL.copy(b, 8);
  return b;
}

async function publishAll(ch, q) {
  let published = 0;
  let confirmed = 0;
  let failed = null;
  let wake = null;
  const wakeUp = () => { const w = wake; wake = null; if (w) w(); };
  ch.on('drain', wakeUp);
  ch.on('close', () => { failed = failed || new Error('channel closed while publishing'); wakeUp(); });
  while (published < N && !failed) {
    if (published - confirmed >= WINDOW) {
      await new Promise((r) => { wake = r; });
      continue;
    }
    const seq = published++;
    const ok = ch.publish('', q, body(seq), { persistent: true }, (err) => {
      if (err) failed = failed || new Error(`message ${seq} not confirmed: ${err.message}`);
      else confirmed++;
      wakeUp();
    });
    if (!ok) await new Promise((r) => { wake = r; });
  }
  await ch.waitForConfirms();
  if (failed) throw failed;
  eq(confirmed, N, 'confirmed messages');
}

test('200,000 persistent messages survive a restart and drain in order', async () => {
  let b = await rf.startBroker();
  let conn = await rf.connect({ port: b.port });
  const ch = await rf.confirmChannel(conn);
  const q = uniq('q-deep');
  await ch.assertQueue(q, { durable: true });
  let t0 = Date.now();
  await publishAll(ch, q);
  const publishS = (Date.now() - t0) / 1000;
  console.log(`#   published and confirmed ${N} in ${publishS.toFixed(2)} s: ${(N / publishS).toFixed(0)} msg/s`);
  eq((await ch.checkQueue(q)).messageCount, N, 'messages before the restart');
  await conn.close();

  t0 = Date.now();
  b = await rf.restartBroker(b);
  const restartS = (Date.now() - t0) / 1000;
  console.log(`#   restart: ${restartS.toFixed(2)} s from SIGTERM to listening (new process ${(b.readyMs / 1000).toFixed(2)} s to listening)`);
  const line = await b.recoveredLine();
  assert(line !== null, "no stderr line containing 'recovered' after the restart");
  console.log(`#   ${line.trim()}`);
  const m = /(\d+) messages\b/.exec(line);
  if (m) eq(parseInt(m[1], 10), N, 'messages in the recovery line');

  conn = await rf.connect({ port: b.port });
  const cch = await rf.channel(conn);
  const ok = await cch.assertQueue(q, { durable: true });
  eq([ok.messageCount, ok.consumerCount], [N, 0], 'declare-ok after the restart');
  await cch.prefetch(PREFETCH);
  let next = 0;
  let bad = null;
  let acked = 0;
  t0 = Date.now();
  await cch.consume(q, (msg) => {
    if (!bad) {
      const seq = Number(msg.content.readBigUInt64BE(0));
      if (msg.content.length !== 16 || !msg.content.subarray(8).equals(TAIL)) bad = `message ${next}: body ${msg.content.toString('hex')}`;
      else if (seq !== next) bad = `out of order: got ${seq}, expected ${next}`;
      else if (msg.fields.redelivered) bad = `message ${seq} redelivered after a graceful restart`;
    }
    next++;
    if (next % ACK_EVERY === 0 || next === N) {
      cch.ack(msg, true);
      acked = next;
    }
  }, { noAck: false });
  await waitFor(() => bad !== null || next >= N, `${N} deliveries`, 80000);
  if (bad) throw new Error(bad);
  const drainS = (Date.now() - t0) / 1000;
  console.log(`#   drained ${N} in ${drainS.toFixed(2)} s: ${(N / drainS).toFixed(0)} msg/s (prefetch ${PREFETCH}, ack every ${ACK_EVERY})`);
  eq(acked, N, 'acked');
  eq((await cch.checkQueue(q)).messageCount, 0, 'ready messages after the drain');
  await conn.close(); // the broker has every ack before the connection closes

  t0 = Date.now();
  b = await rf.restartBroker(b);
  console.log(`#   second restart: ${((Date.now() - t0) / 1000).toFixed(2)} s`);
  conn = await rf.connect({ port: b.port });
  eq((await (await rf.channel(conn)).checkQueue(q)).messageCount, 0, 'acked messages after another restart');
}, { timeout: 150000 });

rf.main({ fileBroker: false });
