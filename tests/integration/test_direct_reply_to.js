'use strict';
// Request/reply with amqplib, the RPC pattern as amqplib's own examples write it: with a
// server-named reply queue, and with Direct Reply-to (consume amq.rabbitmq.reply-to with
// noAck, publish requests with replyTo amq.rabbitmq.reply-to).  correlationId and replyTo
// pass through; concurrent calls each get their own reply; the 406 rules of the pseudo-queue
// (see test_direct_reply_to.py for the full list, checked against RabbitMQ 3.10).
const rf = require('./roost_fixture');

const { test, uniq, eq, assert, waitFor } = rf;
const PSEUDO = 'amq.rabbitmq.reply-to';

// An RPC server: uppercases the body, answers to replyTo with the request's correlationId.
async function startServer(conn) {
  const ch = await rf.channel(conn);
  const q = (await ch.assertQueue(uniq('rpc'), { exclusive: true })).queue;
  const seen = [];
  await ch.consume(q, (m) => {
    seen.push(m.properties.replyTo);
    ch.sendToQueue(m.properties.replyTo, Buffer.from(m.content.toString().toUpperCase()),
      { correlationId: m.properties.correlationId });
    ch.ack(m);
  });
  return { q, seen };
}

async function rpcCalls(ch, replyQueue, serverQueue, n) {
  const replies = new Map();
  await ch.consume(replyQueue, (m) => { replies.set(m.properties.correlationId, m); }, { noAck: true });
  for (let i = 0; i < n; i++) {
    ch.sendToQueue(serverQueue, Buffer.from(`call-${i}`), { correlationId: `id-${i}`, replyTo: replyQueue });
  }
  await waitFor(() => replies.size === n, `${n} replies`);
  for (let i = 0; i < n; i++) eq(replies.get(`id-${i}`).content.toString(), `CALL-${i}`);
  return replies;
}

test('RPC with a server-named reply queue', async () => {
  const server = await startServer(await rf.connect());
  const ch = await rf.channel(await rf.connect());
  const replyQueue = (await ch.assertQueue('', { exclusive: true })).queue;
  await rpcCalls(ch, replyQueue, server.q, 20);
  assert(server.seen.every((r) => r === replyQueue), 'replyTo untouched');
});

test('RPC with Direct Reply-to', async () => {
  const server = await startServer(await rf.connect());
  const ch = await rf.channel(await rf.connect());
  const replies = await rpcCalls(ch, PSEUDO, server.q, 100);
  const address = server.seen[0];
  assert(address.startsWith(`${PSEUDO}.`) && address.length > PSEUDO.length + 10, `address ${address}`);
  assert(server.seen.every((r) => r === address), 'one address per channel');
  for (const m of replies.values()) {
    eq(m.fields.exchange, '');
    eq(m.fields.routingKey, address);
    eq(m.fields.redelivered, false);
  }
});

test('Direct Reply-to needs noAck', async () => {
  const ch = await rf.channel(await rf.connect());
  await rf.expectError(ch.consume(PSEUDO, () => {}, { noAck: false }), 406,
    'PRECONDITION_FAILED - reply consumer cannot acknowledge');
});

test('a request with replyTo amq.rabbitmq.reply-to needs the reply consumer first', async () => {
  const conn = await rf.connect();
  const server = await startServer(conn);
  const ch = await rf.channel(conn);
  ch.sendToQueue(server.q, Buffer.from('x'), { replyTo: PSEUDO });
  await rf.expectError(ch.checkQueue(server.q), 406, 'PRECONDITION_FAILED - fast reply consumer does not exist');
});

test('a reply to a requester that has gone is dropped, or returned when mandatory', async () => {
  const conn = await rf.connect();
  const server = await startServer(conn);
  const requester = await rf.connect();
  const rch = await rf.channel(requester);
  await rch.consume(PSEUDO, () => {}, { noAck: true });
  rch.sendToQueue(server.q, Buffer.from('hello'), { replyTo: PSEUDO });
  await waitFor(() => server.seen.length === 1, 'the request');
  await requester.close();
  const pub = await rf.confirmChannel(conn);
  const returned = [];
  pub.on('return', (m) => returned.push(m));
  await new Promise((resolve, reject) => pub.publish('', server.seen[0], Buffer.from('late'), { mandatory: true },
    (err) => (err ? reject(err) : resolve())));
  await waitFor(() => returned.length === 1, 'basic.return');
  eq(returned[0].fields.replyCode, 312);
  eq(returned[0].content.toString(), 'late');
});

rf.main();
