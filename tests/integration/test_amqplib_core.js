'use strict';
// Core behaviour through amqplib's promise API: work queue, routing, mandatory returns,
// publisher confirms, basic.get, prefetch, cancel, exclusive queues, 404/406 errors.
const crypto = require('node:crypto');
const rf = require('./roost_fixture');

const { test, connect, channel, confirmChannel, uniq, eq, assert, waitFor, sleep, expectError } = rf;

test('work queue: 3 competing consumers, 3000 messages, manual acks', async () => {
  const n = 3000;
  const q = uniq('work');
  const setupConn = await connect();
  const setup = await channel(setupConn);
  await setup.assertQueue(q, { durable: false, autoDelete: false });
  const got = [[], [], []];
  for (let i = 0; i < 3; i++) {
    const ch = await channel(await connect());
    await ch.prefetch(20);
    await ch.consume(q, (msg) => {
      assert(!msg.fields.redelivered, 'unexpected redelivery');
      got[i].push(msg.content.toString());
      ch.ack(msg);
    }, { noAck: false });
  }
  const pub = await confirmChannel(await connect());
  for (let i = 0; i < n; i++) {
    pub.sendToQueue(q, Buffer.from(`job-${String(i).padStart(5, '0')}`));
  }
  await pub.waitForConfirms();
  await waitFor(() => got.reduce((s, g) => s + g.length, 0) >= n, `${n} deliveries`, 60000);
  await sleep(200);
  const all = got.flat();
  eq(all.length, n, 'total deliveries');
  eq(new Set(all).size, n, 'distinct deliveries');
  const counts = got.map((g) => g.length);
  console.log(`#   per-consumer counts: ${JSON.stringify(counts)}`);
  for (let i = 0; i < 3; i++) {
    assert(got[i].length >= n / 20, `consumer ${i} got only ${got[i].length} (${counts})`);
    eq(got[i], [...got[i]].sort(), `consumer ${i} order`);
  }
  const ok = await setup.checkQueue(q);
  eq([ok.messageCount, ok.consumerCount], [0, 3]);
  await setup.deleteQueue(q);
});

// basic.get retried while empty: RabbitMQ applies requeues asynchronously
async function getEventually(ch, q, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await ch.get(q, { noAck: true });
    if (m !== false || Date.now() > deadline) return m;
    await sleep(10);
  }
}

async function routeSetup(kind, bindings, args) {
  const conn = await connect();
  const ch = await confirmChannel(conn);
  const x = uniq(kind);
  await ch.assertExchange(x, kind, { durable: false, autoDelete: false, arguments: args });
  const queues = {};
  for (const [label, key, bargs] of bindings) {
    if (!queues[label]) {
      queues[label] = (await ch.assertQueue('', { exclusive: true })).queue;
    }
    await ch.bindQueue(queues[label], x, key, bargs);
  }
  let n = 0;
  const route = async (key, headers) => {
    const body = `m${++n}`;
    ch.publish(x, key, Buffer.from(body), { headers });
    await ch.waitForConfirms();
    const hit = [];
    for (const label of Object.keys(queues).sort()) {
      for (;;) {
        const m = await ch.get(queues[label], { noAck: true });
        if (m === false) break;
        eq(m.content.toString(), body, `stale message in ${label}`);
        hit.push(label);
      }
    }
    return hit;
  };
  return { ch, x, route };
}

test('topic routing', async () => {
  const { ch, x, route } = await routeSetup('topic', [
    ['orange', '*.orange.*'], ['rabbit', '*.*.rabbit'], ['lazy', 'lazy.#'], ['all', '#'], ['one', '*'],
  ]);
  eq(await route('quick.orange.rabbit'), ['all', 'orange', 'rabbit']);
  eq(await route('lazy.orange.elephant'), ['all', 'lazy', 'orange']);
  eq(await route('lazy.brown.fox'), ['all', 'lazy']);
  eq(await route('quick.orange.male.rabbit'), ['all']);
  eq(await route('lazy'), ['all', 'lazy', 'one']);
  eq(await route(''), ['all']);
  await ch.deleteExchange(x);
});

test('fanout routing', async () => {
  const { ch, x, route } = await routeSetup('fanout', [['a', ''], ['b', 'ignored'], ['c', '#']]);
  eq(await route('anything'), ['a', 'b', 'c']);
  eq(await route(''), ['a', 'b', 'c']);
  await ch.deleteExchange(x);
});

test('direct routing', async () => {
  const { ch, x, route } = await routeSetup('direct', [['a', 'k1'], ['b', 'k1'], ['c', 'k2']]);
  eq(await route('k1'), ['a', 'b']);
  eq(await route('k2'), ['c']);
  eq(await route('k3'), []);
  await ch.deleteExchange(x);
});

test('headers routing (x-match all / any)', async () => {
  const { ch, x, route } = await routeSetup('headers', [
    ['all', '', { 'x-match': 'all', format: 'pdf', type: 'report' }],
    ['any', '', { 'x-match': 'any', format: 'pdf', type: 'report' }],
  ]);
  eq(await route('', { format: 'pdf', type: 'report' }), ['all', 'any']);
  eq(await route('', { format: 'pdf', type: 'log' }), ['any']);
  eq(await route('', { format: 'zip' }), []);
  eq(await route('', {}), []);
  await ch.deleteExchange(x);
});

test('mandatory unroutable: basic.return (312 NO_ROUTE) before the confirm', async () => {
  const conn = await connect();
  const ch = await confirmChannel(conn);
  const events = [];
  ch.on('return', (msg) => events.push(['return', msg.fields.replyCode, msg.fields.replyText,
                                        msg.fields.exchange, msg.fields.routingKey, msg.content.toString()]));
  const x = uniq('x');
  await ch.assertExchange(x, 'direct', { autoDelete: false });
  await new Promise((resolve, reject) => {
    ch.publish(x, 'nowhere', Buffer.from('bounce'), { mandatory: true }, (err) => {
      if (err) reject(err);
      events.push(['ack']);
      resolve();
    });
  });
  eq(events, [['return', 312, 'NO_ROUTE', x, 'nowhere', 'bounce'], ['ack']]);
  await ch.deleteExchange(x);
});

test('publisher confirms: every publish acked', async () => {
  const ch = await confirmChannel(await connect());
  const q = (await ch.assertQueue('', { exclusive: true })).queue;
  let acked = 0;
  for (let i = 0; i < 500; i++) {
    ch.sendToQueue(q, Buffer.from(`c${i}`), {}, (err) => { if (!err) acked++; });
  }
  await ch.waitForConfirms();
  eq(acked, 500, 'acked publishes');
  eq((await ch.checkQueue(q)).messageCount, 500);
});

test('basic.get and get-empty', async () => {
  const ch = await confirmChannel(await connect());
  const q = (await ch.assertQueue('', { exclusive: true })).queue;
  eq(await ch.get(q), false, 'get on an empty queue');
  for (const b of ['g0', 'g1', 'g2']) ch.sendToQueue(q, Buffer.from(b));
  await ch.waitForConfirms();
  const m = await ch.get(q, { noAck: false });
  eq([m.content.toString(), m.fields.messageCount, m.fields.redelivered, m.fields.exchange, m.fields.routingKey,
      m.fields.deliveryTag], ['g0', 2, false, '', q, 1]);
  ch.ack(m);
  eq((await ch.get(q, { noAck: true })).content.toString(), 'g1');
  eq((await ch.get(q, { noAck: true })).fields.messageCount, 0);
  eq(await ch.get(q), false);
});

test('properties and headers round trip', async () => {
  const conn = await connect();
  const ch = await confirmChannel(conn);
  const q = (await ch.assertQueue('', { exclusive: true })).queue;
  const props = {
    contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, priority: 5,
    correlationId: 'corr', replyTo: 'reply', expiration: '600000', messageId: 'mid', timestamp: 1700000000,
    type: 'kind', userId: 'guest', appId: 'node', clusterId: 'cid',
    headers: { s: 'str', n: 42, neg: -3, f: 1.5, b: true, nested: { a: 'b' }, arr: [1, 'two'], big: 2 ** 40 },
  };
  ch.sendToQueue(q, Buffer.from('{}'), props);
  await ch.waitForConfirms();
  const m = await ch.get(q, { noAck: true });
  for (const k of Object.keys(props)) {
    if (k === 'clusterId') continue; // amqplib does not expose cluster-id on receive
    eq(m.properties[k], props[k], `property ${k}`);
  }
});

test('1 MiB and empty bodies intact', async () => {
  const ch = await confirmChannel(await connect());
  const q = (await ch.assertQueue('', { exclusive: true })).queue;
  const big = crypto.randomBytes(1024 * 1024);
  ch.sendToQueue(q, big);
  ch.sendToQueue(q, Buffer.alloc(0));
  await ch.waitForConfirms();
  assert((await ch.get(q, { noAck: true })).content.equals(big), 'large body corrupted');
  eq((await ch.get(q, { noAck: true })).content.length, 0, 'empty body');
});

test('prefetch honoured', async () => {
  const conn = await connect();
  const ch = await channel(conn);
  const q = (await ch.assertQueue('', { exclusive: true })).queue;
  for (let i = 0; i < 20; i++) ch.sendToQueue(q, Buffer.from(`p${i}`));
  await ch.prefetch(4);
  const got = [];
  await ch.consume(q, (msg) => got.push(msg));
  await waitFor(() => got.length === 4, '4 deliveries');
  await sleep(300);
  eq(got.length, 4, 'deliveries with prefetch 4 and no acks');
  ch.ack(got[1], true); // acks the first two
  await waitFor(() => got.length === 6, '2 more deliveries');
  await sleep(300);
  eq(got.length, 6);
});

test('cancel stops deliveries; server-generated consumer tag', async () => {
  const conn = await connect();
  const ch = await channel(conn);
  const q = (await ch.assertQueue('', { exclusive: true })).queue;
  const got = [];
  const { consumerTag } = await ch.consume(q, (msg) => got.push(msg.content.toString()), { noAck: true });
  assert(consumerTag.startsWith('amq.ctag-'), `server-generated tag ${consumerTag}`);
  ch.sendToQueue(q, Buffer.from('before'));
  await waitFor(() => got.length === 1, 'delivery');
  const ok = await ch.cancel(consumerTag);
  eq(ok.consumerTag, consumerTag);
  ch.sendToQueue(q, Buffer.from('after'));
  await sleep(300);
  eq(got, ['before']);
  eq((await ch.checkQueue(q)).messageCount, 1);
});

test('consumer cancelled by server when its queue is deleted', async () => {
  const conn = await connect();
  const ch = await channel(conn);
  const q = uniq('q');
  await ch.assertQueue(q, { autoDelete: false });
  const got = [];
  await ch.consume(q, (msg) => got.push(msg));
  const other = await channel(await connect());
  await other.deleteQueue(q);
  await waitFor(() => got.length === 1, 'cancel notification');
  eq(got[0], null, 'amqplib signals basic.cancel with a null message');
});

test('nack requeue redelivers in order with redelivered flag', async () => {
  const ch = await confirmChannel(await connect());
  const q = (await ch.assertQueue('', { exclusive: true })).queue;
  for (const b of ['a', 'b', 'c']) ch.sendToQueue(q, Buffer.from(b));
  await ch.waitForConfirms();
  const msgs = [await ch.get(q), await ch.get(q), await ch.get(q)];
  ch.nack(msgs[2], true, true);
  const again = [];
  for (let i = 0; i < 3; i++) again.push(await getEventually(ch, q));
  eq(again.map((m) => [m.content.toString(), m.fields.redelivered]), [['a', true], ['b', true], ['c', true]]);
});

test('exclusive queue removed when its connection closes', async () => {
  const owner = await connect();
  const och = await channel(owner);
  const q = (await och.assertQueue('', { exclusive: true })).queue;
  assert(q.startsWith('amq.gen-'), `server-named queue ${q}`);
  const other = await connect();
  const ch = await channel(other);
  await expectError(ch.checkQueue(q), 405);
  await owner.close();
  owner.isClosed = true;
  // RabbitMQ deletes exclusive queues asynchronously after the connection is gone
  const deadline = Date.now() + 5000;
  for (;;) {
    const ch2 = await channel(other);
    try {
      await ch2.checkQueue(q);
    } catch (e) {
      await expectError(Promise.reject(e), 404, `NOT_FOUND - no queue '${q}' in vhost '/'`);
      break;
    }
    assert(Date.now() < deadline, 'exclusive queue still exists 5 s after its connection closed');
    await ch2.close();
    await sleep(20);
  }
});

test('404 errors', async () => {
  const conn = await connect();
  const missing = uniq('missing');
  let ch = await channel(conn);
  await expectError(ch.checkQueue(missing), 404, `NOT_FOUND - no queue '${missing}' in vhost '/'`);
  assert(ch.isClosed, 'channel closed after a channel error');
  ch = await channel(conn);
  await expectError(ch.checkExchange(missing), 404, `NOT_FOUND - no exchange '${missing}' in vhost '/'`);
  ch = await channel(conn);
  ch.publish(missing, 'k', Buffer.from('x'));
  await expectError(ch.assertQueue('', { exclusive: true }), 404, `NOT_FOUND - no exchange '${missing}' in vhost '/'`);
  ch = await confirmChannel(conn);
  const q = (await ch.assertQueue('', { exclusive: true })).queue;
  await expectError(ch.bindQueue(q, missing, 'k'), 404, `NOT_FOUND - no exchange '${missing}' in vhost '/'`);
  eq(conn.errors.length, 0, 'connection errors');
});

test('406 errors', async () => {
  const conn = await connect();
  let ch = await channel(conn);
  const q = uniq('q');
  await ch.assertQueue(q, { durable: false, autoDelete: true });
  await expectError(ch.assertQueue(q, { durable: true, autoDelete: true }), 406,
    `PRECONDITION_FAILED - inequivalent arg 'durable' for queue '${q}' in vhost '/': received 'true' but current is 'false'`);
  ch = await channel(conn);
  const q2 = (await ch.assertQueue('', { exclusive: true })).queue;
  ch.ack({ fields: { deliveryTag: 99 } });
  await expectError(ch.checkQueue(q2), 406, 'PRECONDITION_FAILED - unknown delivery tag 99');
  ch = await confirmChannel(conn);
  ch.sendToQueue(q2, Buffer.from('x'));
  await ch.waitForConfirms();
  await expectError(ch.deleteQueue(q2, { ifEmpty: true }), 406,
    `PRECONDITION_FAILED - queue '${q2}' in vhost '/' not empty`);
  ch = await channel(conn);
  await ch.deleteQueue(q);
});

test('403 reserved names', async () => {
  const conn = await connect();
  const ch = await channel(conn);
  await expectError(ch.assertExchange('amq.foo', 'direct'), 403,
    "ACCESS_REFUSED - exchange name 'amq.foo' contains reserved prefix 'amq.*'");
});

test('bad password refused', async () => {
  let err = null;
  try {
    await connect({ password: 'wrong' });
  } catch (e) {
    err = e;
  }
  assert(err, 'connection with a bad password succeeded');
  assert(/ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN/.test(err.message), err.message);
});

rf.main();
