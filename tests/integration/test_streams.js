'use strict';
// Stream queues (x-queue-type: stream) through amqplib, as RabbitMQ 3.10's: the declare rules
// and their texts, consuming from "first" / an offset / a timestamp with a prefetch count and
// the x-stream-offset header on every delivery, basic.get refused with 540 (a connection
// error). test_streams.py covers the rest (retention, offsets, acks, the API, Roost's
// filtering and offset tracking).
const rf = require('./roost_fixture');

const { test, connect, channel, confirmChannel, uniq, eq, assert, waitFor, expectError } = rf;

const STREAM = { 'x-queue-type': 'stream' };
const V = "in vhost '/'";

// A durable stream, deleted again after the test (a shared RabbitMQ keeps durable queues).
async function withStream(fn, args = {}) {
  const conn = await connect();
  const ch = await confirmChannel(conn);
  const q = uniq('stream');
  await ch.assertQueue(q, { durable: true, arguments: Object.assign({}, STREAM, args) });
  try {
    await fn(q, ch, conn);
  } finally {
    const cleanup = await channel(await connect());
    await cleanup.deleteQueue(q);
  }
}

// A consumer with prefetch on its own channel; deliveries as { offset, body, msg }.
async function reader(conn, q, offset, prefetch = 50) {
  const ch = await channel(conn);
  await ch.prefetch(prefetch);
  const got = [];
  const args = offset === undefined ? {} : { 'x-stream-offset': offset };
  await ch.consume(q, (msg) => {
    got.push({ offset: msg.properties.headers['x-stream-offset'], body: msg.content.toString(), msg });
    ch.ack(msg);
  }, { arguments: args });
  return got;
}

test('declare: non-durable, exclusive and auto-delete streams are refused, in that order', async () => {
  const conn = await connect();
  const cases = [
    [{ durable: false }, 'non-durable'],
    [{ durable: true, exclusive: true }, 'exclusive-owner'],
    [{ durable: true, autoDelete: true }, 'auto-delete'],
    [{ durable: false, exclusive: true }, 'exclusive-owner'],
    [{ durable: false, exclusive: true, autoDelete: true }, 'auto-delete'],
  ];
  for (const [flags, prop] of cases) {
    const ch = await channel(conn);
    const q = uniq('st');
    await expectError(ch.assertQueue(q, Object.assign({ arguments: STREAM }, flags)), 406,
      `PRECONDITION_FAILED - invalid property '${prop}' for queue '${q}' ${V}`);
  }
  const ch = await channel(conn);
  const q = uniq('qq');
  await expectError(ch.assertQueue(q, { durable: false, arguments: { 'x-queue-type': 'quorum' } }), 406,
    `PRECONDITION_FAILED - invalid property 'non-durable' for queue '${q}' ${V}`);
});

test('declare: unknown queue types, other arguments and redeclaring as classic are refused', async () => {
  const conn = await connect();
  let ch = await channel(conn);
  const bad = uniq('bad');
  await expectError(ch.assertQueue(bad, { durable: true, arguments: { 'x-queue-type': 'foo' } }), 406,
    `PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue '${bad}' ${V}: "unsupported queue type 'foo'"`);
  ch = await channel(conn);
  // amqplib's messageTtl option is x-message-ttl
  await expectError(ch.assertQueue(bad, { durable: true, messageTtl: 1000, arguments: STREAM }), 406,
    `PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue '${bad}' ${V} of queue type rabbit_stream_queue`);
  ch = await channel(conn);
  await expectError(ch.assertQueue(bad, { durable: true, arguments: Object.assign({ 'x-max-age': '10' }, STREAM) }),
    406, `PRECONDITION_FAILED - invalid arg 'x-max-age' for queue '${bad}' ${V}: invalid_max_age`);
  ch = await channel(conn);
  const classic = (await ch.assertQueue(uniq('classic'), { exclusive: true, arguments: { 'x-queue-type': 'classic' } })).queue;
  eq((await ch.checkQueue(classic)).queue, classic);
  await withStream(async (q) => {
    const c = await channel(conn);
    await expectError(c.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'classic' } }), 406,
      `PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue '${q}' ${V}: received 'classic' but current is 'stream'`);
    const again = await (await channel(conn)).assertQueue(q, { durable: true, arguments: STREAM });
    eq([again.queue, again.messageCount, again.consumerCount], [q, 0, 0]);
  });
});

test('consume from first, an offset and a timestamp: every delivery has x-stream-offset', async () => {
  await withStream(async (q, ch, conn) => {
    for (let i = 0; i < 6; i++) {
      ch.sendToQueue(q, Buffer.from(`m${i}`), { headers: { i }, messageId: `id${i}` });
      await ch.waitForConfirms(); // one write (one chunk) per message
    }
    const first = await reader(conn, q, 'first', 2);
    await waitFor(() => first.length === 6, 'six deliveries from first');
    eq(first.map((d) => d.offset), [0, 1, 2, 3, 4, 5]);
    eq(first.map((d) => d.body), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    for (const [i, d] of first.entries()) {
      eq(d.msg.properties.headers, { i, 'x-stream-offset': i });
      eq([d.msg.properties.messageId, d.msg.fields.redelivered, d.msg.fields.exchange, d.msg.fields.routingKey],
        [`id${i}`, false, '', q]);
    }
    const fromFour = await reader(conn, q, 4); // amqplib sends 4 as a signed byte ('b')
    await waitFor(() => fromFour.length === 2, 'two deliveries from offset 4');
    eq(fromFour.map((d) => d.offset), [4, 5]);
    const epoch = await reader(conn, q, { '!': 'timestamp', value: 0 });
    await waitFor(() => epoch.length === 6, 'six deliveries from the epoch');
    eq(epoch.map((d) => d.body), first.map((d) => d.body));
    const last = await reader(conn, q, 'last');
    const next = await reader(conn, q, 'next');
    ch.sendToQueue(q, Buffer.from('late'));
    await ch.waitForConfirms();
    await waitFor(() => last.length === 2 && next.length === 1, 'the late message');
    eq(last.map((d) => d.offset), [5, 6]);
    eq([next[0].offset, next[0].body], [6, 'late']);
  });
});

test('basic.get on a stream closes the connection with 540; consume needs a prefetch', async () => {
  await withStream(async (q, ch) => {
    ch.sendToQueue(q, Buffer.from('x'));
    await ch.waitForConfirms();
    const noQos = await channel(await connect());
    await expectError(noQos.consume(q, () => {}), 406,
      `PRECONDITION_FAILED - consumer prefetch count is not set for 'queue '${q}' ${V}'`);
    const conn = await connect();
    const getter = await channel(conn);
    let rejected = null;
    try {
      await getter.get(q);
    } catch (e) {
      rejected = e;
    }
    assert(rejected, 'basic.get on a stream succeeded');
    await waitFor(() => conn.isClosed, 'the connection closed');
    const closed = conn.errors[0] || conn.closedByServer;
    eq(closed.code, 540, `code (${closed.message})`);
    eq(closed.message, 'Connection closed: 540 (NOT-IMPLEMENTED) with message ' +
      `"NOT_IMPLEMENTED - basic.get not supported by stream queues queue '${q}' ${V}"`);
  });
});

rf.main();
