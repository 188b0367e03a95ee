'use strict';
// Dead-lettering, TTL and length limits through amqplib: reject/nack to a dead-letter
// exchange with x-death checked field by field, per-message TTL into a DLX, max-length
// drop-head with reason maxlen, reject-publish nacks in confirm mode. Checked against
// RabbitMQ 3.10 (x-last-death-* is Roost's addition, as in RabbitMQ 3.13).
const rf = require('./roost_fixture');

const { test, connect, channel, confirmChannel, uniq, eq, assert, sleep } = rf;

async function setup(ch, args) {
  const target = uniq('dead');
  const src = uniq('src');
  await ch.assertQueue(target, { exclusive: true });
  await ch.assertQueue(src, {
    exclusive: true,
    arguments: Object.assign({ 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': target }, args),
  });
  return { src, target };
}

// basic.get, retried (bounded) while the queue is empty: RabbitMQ dead-letters asynchronously.
async function getEventually(ch, q, noAck = true) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const msg = await ch.get(q, { noAck });
    if (msg !== false) return msg;
    assert(Date.now() < deadline, `nothing arrived in ${q}`);
    await sleep(10);
  }
}

test('reject and nack(requeue=false) go to the dead-letter exchange', async () => {
  const ch = await channel(await connect());
  const { src, target } = await setup(ch, {});
  ch.sendToQueue(src, Buffer.from('one'), { expiration: '60000', headers: { a: 'b' } });
  ch.sendToQueue(src, Buffer.from('two'));
  const first = await getEventually(ch, src, false);
  ch.reject(first, false);
  const second = await getEventually(ch, src, false);
  ch.nack(second, false, false);
  const d1 = await getEventually(ch, target);
  const d2 = await getEventually(ch, target);
  eq(d1.content.toString(), 'one');
  eq(d2.content.toString(), 'two');
  eq(d1.properties.expiration, undefined, 'expiration removed');
  const h = d1.properties.headers;
  eq(h.a, 'b');
  const death = h['x-death'][0];
  eq(death.count, 1);
  eq(death.reason, 'rejected');
  eq(death.queue, src);
  eq(death.exchange, '');
  eq(death['routing-keys'], [src]);
  eq(death['original-expiration'], '60000');
  assert(Math.abs(death.time.value - Date.now() / 1000) < 60, `time ${JSON.stringify(death.time)}`);
  eq(h['x-first-death-queue'], src);
  eq(h['x-first-death-reason'], 'rejected');
  eq(h['x-first-death-exchange'], '');
  if (!process.env.ROOST_EXTERNAL_PORT) eq(h['x-last-death-reason'], 'rejected');
  eq(d2.properties.headers['x-death'][0]['original-expiration'], undefined);
});

test('per-message TTL dead-letters with reason expired', async () => {
  const ch = await channel(await connect());
  const { src, target } = await setup(ch, {});
  ch.sendToQueue(src, Buffer.from('soon'), { expiration: '100' });
  const m = await getEventually(ch, target);
  eq(m.content.toString(), 'soon');
  eq(m.properties.headers['x-death'][0].reason, 'expired');
  eq(m.properties.headers['x-death'][0]['original-expiration'], '100');
  eq((await ch.checkQueue(src)).messageCount, 0);
});

test('max-length drop-head dead-letters the oldest with reason maxlen', async () => {
  const ch = await channel(await connect());
  const { src, target } = await setup(ch, { 'x-max-length': 1 });
  ch.sendToQueue(src, Buffer.from('old'));
  ch.sendToQueue(src, Buffer.from('new'));
  const m = await getEventually(ch, target);
  eq(m.content.toString(), 'old');
  eq(m.properties.headers['x-death'][0].reason, 'maxlen');
  eq((await getEventually(ch, src)).content.toString(), 'new');
});

test('reject-publish nacks confirm-mode publishers', async () => {
  const conn = await connect();
  const ch = await confirmChannel(conn);
  const q = uniq('full');
  await ch.assertQueue(q, { exclusive: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
  const outcome = (body) => new Promise((resolve) => ch.sendToQueue(q, Buffer.from(body), {}, (err) => resolve(err ? 'nack' : 'ack')));
  eq(await outcome('a'), 'ack');
  eq(await outcome('b'), 'nack');
  eq((await ch.checkQueue(q)).messageCount, 1);
});

rf.main();
