'use strict';
// The dashboard's pages for Roost's message repair APIs in Debian's headless chromium (see
// dashboard_browser.js): a queue's dead letters redriven to where they died from its page
// (the breakdown by origin, a run's progress, a paced run cancelled), and the Scheduled page
// (delayed messages by due time, per exchange and due window; cancel, release and
// reschedule). Neither API exists in RabbitMQ: with ROOST_DASHBOARD_URL the tests skip.

const crypto = require('node:crypto');
const rf = require('./roost_fixture');
const { api, withDashboard, eventually, screenshot, fact, textOf } = require('./dashboard_browser');

const short = (prefix) => `${prefix}.${crypto.randomBytes(3).toString('hex')}`;
const enc = encodeURIComponent;
const roostOnly = (what) => { if (process.env.ROOST_DASHBOARD_URL) rf.skip(`${what} is Roost's`); };
const HOUR = 3600 * 1000;
const ready = async (broker, name) => (await api(broker, 'GET', `queues/%2F/${enc(name)}`)).messages_ready;

// Takes n messages off queue and rejects them without requeueing: they are dead-lettered.
async function reject(ch, queue, n) {
  for (let i = 0; i < n; i++) {
    const m = await ch.get(queue);
    rf.assert(m, `message ${i} to reject in ${queue}`);
    ch.nack(m, false, false);
  }
}

rf.test("a queue's dead letters are redriven to where they died from its page", async () => {
  roostOnly('redrive');
  await withDashboard(async ({ broker, page }) => {
    const origin = short('dash.orders');
    const dlq = short('dash.dlq');
    const conn = await rf.connect({ port: broker.amqpPort });
    const ch = await rf.confirmChannel(conn);
    await ch.assertQueue(dlq, { durable: false });
    await ch.assertQueue(origin, { durable: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
    for (let i = 0; i < 5; i++) ch.sendToQueue(origin, Buffer.from(`order ${i}`));
    await ch.waitForConfirms();
    await reject(ch, origin, 5);
    await eventually(async () => (await ready(broker, dlq)) === 5, 'five dead letters in the DLQ');

    // A queue without dead letters has no card.
    await page.goto(`${broker.url}/#/queues/%2F/${enc(origin)}`);
    const card = page.locator('[data-card="redrive"]');
    await card.locator('.live[aria-busy="false"]').waitFor({ state: 'attached' });
    rf.eq(await card.isVisible(), false, 'the card on a queue without dead letters');

    await page.goto(`${broker.url}/#/queues/%2F/${enc(dlq)}`);
    await page.getByRole('heading', { name: dlq }).waitFor();
    await card.waitFor();
    const origins = card.getByRole('table', { name: 'Dead letters by origin' });
    const column = (label) => origins.locator(`td[data-label="${label}"]`).allTextContents();
    await origins.waitFor();
    rf.eq([await column('Origin queue'), await column('Reason'), await column('Exchange'), await column('Messages')],
      [[origin], ['rejected'], ['(AMQP default)'], ['5']], 'the breakdown');
    const button = card.getByRole('button', { name: `Redrive 5 messages to ${origin}`, exact: true });
    await button.click();
    await eventually(async () => (await ready(broker, origin)) === 5, 'five messages back in the origin queue');
    await eventually(async () => (await textOf(fact(card, 'State'))) === 'finished', 'the run finished on the card');
    rf.eq(await textOf(fact(card, 'Moved')), '5', 'moved');
    rf.eq(await textOf(fact(card, 'Redriven')), `reason rejected, from ${origin}`, 'what was redriven');
    await card.getByText('No dead-lettered messages left in this queue.').waitFor();
    await eventually(async () => (await textOf(fact(page, 'Ready'))) === '0', "the DLQ's Ready after the run");
    rf.eq(await ready(broker, dlq), 0, 'messages left in the DLQ');
    await screenshot(page, 'queue-redrive');

    // Dead-lettered again with five more; a run paced at one a second is cancelled partway: the rest stays.
    for (let i = 5; i < 10; i++) ch.sendToQueue(origin, Buffer.from(`order ${i}`));
    await ch.waitForConfirms();
    await reject(ch, origin, 10);
    await card.getByLabel('Max rate (messages/s)').fill('1');
    await card.getByRole('button', { name: `Redrive 10 messages to ${origin}`, exact: true }).click();
    const cancel = card.getByRole('button', { name: 'Cancel', exact: true });
    await cancel.waitFor();
    rf.eq(await textOf(fact(card, 'Redriven')), `reason rejected, from ${origin}, at 1/s`, 'what is redriven');
    rf.eq(await card.getByRole('button', { name: /^Redrive / }).isDisabled(), true, 'redrive buttons while one runs');
    // Three counts seen within 4.5 s: read every second while it runs (the usual refresh, every 5 s, shows two at most).
    const seen = new Set();
    await eventually(async () => {
      if ((await textOf(fact(card, 'State'))) === 'running') seen.add(await textOf(fact(card, 'Moved')));
      return seen.size >= 3;
    }, 'progress while it runs', 4500);
    await cancel.click();
    await eventually(async () => (await textOf(fact(card, 'State'))) === 'cancelled', 'the run cancelled on the card');
    const moved = Number(await textOf(fact(card, 'Moved')));
    rf.assert(moved >= 2 && moved < 10, `moved ${moved} of 10 before the cancel`);
    rf.eq([await ready(broker, origin), await ready(broker, dlq)], [moved, 10 - moved], 'origin and DLQ after the cancel');
    await card.getByRole('button', { name: `Redrive ${10 - moved} messages to ${origin}`, exact: true }).waitFor();
    rf.eq(await cancel.count(), 0, 'Cancel once the run stopped');
    // Without the toasts, which sit over the card's head.
    await eventually(async () => (await page.locator('.toast').count()) === 0, 'the toasts gone');
    await screenshot(page, 'queue-redrive-cancelled');
    await conn.close();
  });
}, { timeout: 60000 });

rf.test('the Scheduled page lists delayed messages by due time and cancels, releases and reschedules them', async () => {
  roostOnly('the schedule API');
  await withDashboard(async ({ broker, page }) => {
    const x = short('dash.later');
    const other = short('dash.sooner');
    const q = short('dash.due');
    const conn = await rf.connect({ port: broker.amqpPort });
    const ch = await rf.confirmChannel(conn);
    for (const name of [x, other]) {
      await ch.assertExchange(name, 'x-delayed-message', { durable: false, arguments: { 'x-delayed-type': 'direct' } });
      await ch.bindQueue((await ch.assertQueue(q, { durable: false })).queue, name, 'k');
    }
    // Published out of order: the page lists them by due time.
    const held = (exchange, id, ms) => ch.publish(exchange, 'k', Buffer.from(`payload ${id}`), { messageId: id, headers: { 'x-delay': ms } });
    held(x, 'two', 2 * HOUR);
    held(x, 'one', HOUR);
    held(x, 'three', 3 * HOUR);
    held(other, 'half', HOUR / 2);
    await ch.waitForConfirms();

    await page.getByRole('navigation').getByRole('link', { name: 'Scheduled', exact: true }).click();
    await page.getByRole('heading', { name: 'Scheduled', exact: true }).waitFor();
    rf.eq(await page.getByLabel('Virtual host').locator('option').allTextContents(), ['/'], 'vhosts to choose (no "All")');
    const list = page.getByRole('form', { name: 'Scheduled messages' });
    const messages = list.getByRole('table', { name: 'Scheduled messages' });
    const column = (label) => messages.locator(`td[data-label="${label}"]`).allTextContents();
    const listed = async (want, what) => {
      await eventually(async () => (await column('Message id')).join() === want.join(), what);
    };
    await listed(['half', 'one', 'two', 'three'], 'every message, by due time');
    rf.eq(await column('Due'), ['in 30 min', 'in 1 h', 'in 2 h', 'in 3 h'], 'when they fall due');
    rf.eq(await column('Exchange'), [other, x, x, x], 'exchanges');
    rf.eq([await column('Routing key'), await column('Queues')], [Array(4).fill('k'), Array(4).fill(q)], 'routing keys and queues');
    rf.eq(await column('Payload'), ['payload half', 'payload one', 'payload two', 'payload three'], 'payloads');
    const api1 = (await api(broker, 'GET', 'scheduled/%2F')).messages[1];
    rf.eq((await column('Due at'))[1], await page.evaluate((ms) => new Date(ms).toLocaleString(), api1.due_at), 'due time shown');

    const summary = page.locator('[data-card="schedule"]');
    const cells = (table, label) => summary.getByRole('table', { name: table }).locator(`td[data-label="${label}"]`).allTextContents();
    rf.eq([await cells('Scheduled by exchange', 'Exchange'), await cells('Scheduled by exchange', 'Messages'),
      await cells('Scheduled by exchange', 'Next due')].map((c) => c.join()),
    [[x, other].sort().join(), (x < other ? ['3', '1'] : ['1', '3']).join(), (x < other ? ['in 1 h', 'in 30 min'] : ['in 30 min', 'in 1 h']).join()],
    'per exchange');
    rf.eq(await cells('Due within', 'Messages'), ['0', '2', '4', '0'], 'due within a minute, an hour, a day, later');

    // Narrowed to one exchange by clicking it, then a page of two at a time.
    await summary.getByRole('button', { name: x, exact: true }).click();
    await listed(['one', 'two', 'three'], "the exchange's messages");
    rf.eq(await list.getByLabel('Exchange').inputValue(), x, 'the exchange chosen');
    await list.getByLabel('Messages', { exact: true }).fill('2');
    await list.getByRole('button', { name: 'Show' }).click();
    await listed(['one', 'two'], 'the first page');
    await list.getByRole('button', { name: 'Next page' }).click();
    await listed(['three'], 'the second page');
    rf.eq(await list.getByRole('button', { name: 'Next page' }).isDisabled(), true, 'Next page at the end');
    await list.getByLabel('Messages', { exact: true }).fill('20');
    await list.getByRole('button', { name: 'Show' }).click();
    await listed(['one', 'two', 'three'], "the exchange's messages again");
    const row = (id) => messages.getByRole('row').filter({ has: page.locator('td[data-label="Message id"]', { hasText: new RegExp(`^${id}$`) }) });
    await row('two').getByRole('checkbox').check();
    await screenshot(page, 'scheduled');

    await list.getByRole('button', { name: 'Cancel selected' }).click();
    await list.getByRole('button', { name: 'Really cancel selected?' }).click();
    await page.getByText('1 message cancelled', { exact: true }).waitFor();
    await listed(['one', 'three'], 'what is left after the cancel');
    await eventually(async () => (await cells('Scheduled by exchange', 'Messages')).join() === (x < other ? '2,1' : '1,2'), 'the summary after the cancel');

    await row('one').getByRole('checkbox').check();
    await list.getByRole('button', { name: 'Release selected now' }).click();
    await page.getByText('1 message released', { exact: true }).waitFor();
    await eventually(async () => (await ready(broker, q)) === 1, 'the released message in its queue');
    await listed(['three'], 'what is left after the release');

    await row('three').getByRole('checkbox').check();
    await list.getByLabel('Reschedule to (seconds from now)').fill(String(10 * 3600));
    const before = Date.now();
    await list.getByRole('button', { name: 'Reschedule selected' }).click();
    await page.getByText('1 message rescheduled, due in 10 h', { exact: true }).waitFor();
    await eventually(async () => (await column('Due')).join() === 'in 10 h', 'the new due time shown');
    const left = (await api(broker, 'GET', 'scheduled/%2F')).messages;
    rf.eq(left.map((m) => [m.properties.message_id, m.exchange]), [['half', other], ['three', x]], 'scheduled messages left');
    const due = left[1].due_at;
    rf.assert(due >= before + 10 * HOUR && due <= Date.now() + 10 * HOUR, `rescheduled to ${due}, ten hours after ${before}`);
    rf.eq((await ch.get(q, { noAck: true })).content.toString(), 'payload one', 'the released message');
    await conn.close();
  });
}, { timeout: 60000 });

rf.main({ fileBroker: false });
