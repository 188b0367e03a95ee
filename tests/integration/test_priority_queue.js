'use strict';
// Priority queues with amqplib, as its users write them: assertQueue with maxPriority, publish
// with the priority option, a prefetch-1 consumer sees the highest priority first and arrival
// order within one; a message without priority counts as 0 (test_priority_queue.py covers the
// rest: requeue, TTL, paging, restart, argument texts).
const rf = require('./roost_fixture');

const { test, uniq, eq, waitFor } = rf;

test('a consumer receives the highest priority first, FIFO within a priority', async () => {
  const ch = await rf.confirmChannel(await rf.connect());
  const q = (await ch.assertQueue(uniq('prio'), { maxPriority: 5 })).queue;
  const published = [['a', 1], ['b', 5], ['c', undefined], ['d', 3], ['e', 5], ['f', 9], ['g', 0], ['h', 3]];
  for (const [body, priority] of published) ch.sendToQueue(q, Buffer.from(body), { priority });
  await ch.waitForConfirms();
  const got = [];
  await ch.prefetch(1);
  await ch.consume(q, (m) => {
    got.push(m.content.toString());
    ch.ack(m);
  });
  await waitFor(() => got.length === published.length, 'every delivery');
  eq(got.join(''), 'befdhacg');
});

rf.main();
