'use strict';
// The dashboard (admin-ui/static) in a real browser: Debian's chromium, headless, driven by
// playwright-core against a Roost started with --http-port 0. Logs in, declares an exchange
// and a queue, binds them, publishes with amqplib and watches the depth change, gets the
// message, unbinds (also bindings whose routing keys hold every kind of character), all
// through the UI; checks that names are shown as text (no script
// runs for a queue called <img src=x onerror=...>), that a forged cross-site POST without
// the Authorization header changes nothing, that failures show the broker's reason, that
// connections can be closed, that a classic queue's messages can be browsed, filtered,
// deleted and moved, and that a phone-sized window does not scroll sideways. Saves a screenshot of every page (see dashboard_browser.js for where).

const crypto = require('node:crypto');
const rf = require('./roost_fixture');
const { api, withDashboard, eventually, screenshot, fact, textOf } = require('./dashboard_browser');

const short = (prefix) => `${prefix}.${crypto.randomBytes(3).toString('hex')}`;
const nav = (page, name) => page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
const nameCell = (page, name) => page.getByRole('link', { name, exact: true });

rf.test('login checks the credentials and keeps them in sessionStorage, not cookies', async () => {
  await withDashboard(async ({ broker, page, context }) => {
    await page.goto(`${broker.url}/#/queues`);
    await page.getByLabel('Username').fill('guest');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('Wrong username or password.').waitFor();
    rf.eq(await page.evaluate(() => sessionStorage.getItem('roost.authorization')), null, 'stored header after a failed login');
    await screenshot(page, 'login');
    await page.getByLabel('Password').fill('guest');
    await page.getByRole('button', { name: 'Log in' }).click();
    // back on the page asked for before logging in
    await page.getByRole('heading', { name: 'Queues' }).waitFor();
    rf.eq(await page.evaluate(() => sessionStorage.getItem('roost.authorization')),
      `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'stored Authorization header');
    rf.eq(await context.cookies(), [], 'cookies');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').waitFor();
    rf.eq(await page.evaluate(() => sessionStorage.length), 0, 'sessionStorage entries after logout');
  }, { loggedIn: false });
});

rf.test('a cross-site form post (no Authorization header) changes nothing', async () => {
  await withDashboard(async ({ broker }) => {
    const q = short('dash.csrf');
    await api(broker, 'PUT', `queues/%2F/${q}`, { durable: false, auto_delete: false, arguments: {} });
    // what a form on another site can send: a simple POST, no custom headers, no cookies
    const body = JSON.stringify({ routing_key: q, payload: 'forged', payload_encoding: 'string', properties: {} });
    const res = await fetch(`${broker.url}/api/exchanges/%2F/amq.default/publish`, {
      method: 'POST', body, headers: { 'Content-Type': 'text/plain' },
    });
    rf.eq(res.status, 401, 'status of an unauthenticated publish');
    const bind = await fetch(`${broker.url}/api/bindings/%2F/e/amq.fanout/q/${q}`, {
      method: 'POST', body: 'routing_key=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    rf.eq(bind.status, 401, 'status of an unauthenticated bind');
    const ch = await rf.channel(await rf.connect({ port: broker.amqpPort }));
    rf.eq((await ch.checkQueue(q)).messageCount, 0, 'messages in the queue');
    rf.eq(await api(broker, 'GET', `queues/%2F/${q}/bindings`).then((l) => l.filter((b) => b.source !== '').length), 0, 'bindings made');
    await ch.deleteQueue(q);
  }, { loggedIn: false });
});

rf.test('declare, bind, publish, watch the depth, get and unbind through the UI', async () => {
  await withDashboard(async ({ broker, page }) => {
    const ex = short('dash.x');
    const q = short('dash.q');
    await screenshot(page, 'overview-empty');

    // exchange
    await nav(page, 'Exchanges');
    const exForm = page.getByRole('form', { name: 'Add an exchange' });
    await exForm.getByLabel('Name').fill(ex);
    await exForm.getByLabel('Type').selectOption('topic');
    await exForm.getByRole('button', { name: 'Add exchange' }).click();
    await nameCell(page, ex).waitFor();
    rf.eq((await api(broker, 'GET', `exchanges/%2F/${encodeURIComponent(ex)}`)).type, 'topic', 'declared exchange type');

    // queue with an argument
    await nav(page, 'Queues');
    const qForm = page.getByRole('form', { name: 'Add a queue' });
    await qForm.getByLabel('Name').fill(q);
    await qForm.getByRole('button', { name: '+ Add argument' }).click();
    await qForm.getByLabel('Argument key').fill('x-max-length');
    await qForm.getByLabel('Argument value').fill('1000');
    await qForm.getByLabel('Argument type').selectOption('Number');
    await qForm.getByRole('button', { name: 'Add queue' }).click();
    await nameCell(page, q).waitFor();
    const declared = await api(broker, 'GET', `queues/%2F/${encodeURIComponent(q)}`);
    rf.eq(declared.arguments, { 'x-max-length': 1000 }, 'queue arguments');

    // bind from the queue's page
    await nameCell(page, q).click();
    await page.getByRole('heading', { name: q }).waitFor();
    await eventually(async () => (await textOf(fact(page, 'Ready'))) === '0', 'Ready 0 before publishing');
    const bindForm = page.getByRole('form', { name: 'Add binding' });
    await bindForm.getByLabel('From exchange').fill(ex);
    await bindForm.getByLabel('Routing key').fill('orders.*');
    await bindForm.getByRole('button', { name: 'Bind' }).click();
    const bindingRow = page.getByRole('row').filter({ hasText: 'orders.*' });
    await bindingRow.waitFor();
    const bound = await api(broker, 'GET', `exchanges/%2F/${encodeURIComponent(ex)}/bindings/source`);
    rf.eq(bound.map((b) => [b.destination, b.routing_key]), [[q, 'orders.*']], 'bindings after Bind');

    // the routing view draws the exchange and the queue
    await nav(page, 'Bindings');
    const graph = page.getByRole('img', { name: 'How exchanges route to queues' });
    await graph.waitFor();
    const titles = await graph.locator('title').allTextContents();
    for (const want of [`exchange ${ex}`, `queue ${q}`, `${ex} → queue ${q}: orders.*`]) {
      rf.assert(titles.includes(want), `routing graph has '${want}': ${JSON.stringify(titles)}`);
    }
    await screenshot(page, 'bindings');

    // publish with amqplib; the depth shown changes
    const conn = await rf.connect({ port: broker.amqpPort });
    const ch = await rf.confirmChannel(conn);
    for (let i = 0; i < 3; i++) ch.publish(ex, 'orders.new', Buffer.from(`message ${i}`));
    await ch.waitForConfirms();
    await page.goto(`${broker.url}/#/queues/%2F/${encodeURIComponent(q)}`);
    await eventually(async () => (await textOf(fact(page, 'Ready'))) === '3', 'Ready 3 on the queue page');
    await nav(page, 'Overview');
    await page.locator('.tiles').waitFor();
    await screenshot(page, 'overview');
    await nav(page, 'Queues');
    const row = page.getByRole('row').filter({ has: nameCell(page, q) });
    await eventually(async () => (await textOf(row.locator('td[data-label="Ready"]'))) === '3', 'Ready 3 in the queue list');
    await screenshot(page, 'queues');

    // publish a test message from the exchange's page
    await nameCell(page, q).click();
    await page.getByRole('link', { name: ex }).click();
    const pubForm = page.getByRole('form', { name: 'Publish a message' });
    await pubForm.getByLabel('Routing key').fill('orders.ui');
    await pubForm.getByLabel('Payload').fill('from the dashboard');
    await pubForm.getByRole('button', { name: 'Publish' }).click();
    await page.getByText('Message published and routed').waitFor();
    await screenshot(page, 'exchange');

    // get two messages off the queue through the UI
    await page.goto(`${broker.url}/#/queues/%2F/${encodeURIComponent(q)}`);
    await eventually(async () => (await textOf(fact(page, 'Ready'))) === '4', 'Ready 4 after the UI publish');
    const getForm = page.getByRole('form', { name: 'Get messages' });
    await getForm.getByLabel('Messages').fill('2');
    await getForm.getByLabel('Mode').selectOption('ack_requeue_false');
    await getForm.getByRole('button', { name: 'Get messages' }).click();
    const payloads = page.locator('.payload');
    await eventually(async () => (await payloads.count()) === 2, 'two messages shown');
    rf.eq(await payloads.allTextContents(), ['message 0', 'message 1'], 'payloads got through the UI');
    await eventually(async () => (await textOf(fact(page, 'Ready'))) === '2', 'Ready 2 after taking two');
    await screenshot(page, 'queue');
    const left = await ch.get(q, { noAck: true });
    rf.eq(left.content.toString(), 'message 2', 'next message left in the queue');
    const purge = page.getByRole('button', { name: 'Purge' });
    await purge.click();
    await purge.click();
    await page.getByText(`Queue '${q}' purged`).waitFor();
    rf.eq(await ch.get(q, { noAck: true }), false, 'basic.get after Purge (the UI-published message is gone)');

    // unbind (two clicks: the button asks again instead of a native dialog)
    const unbind = page.getByRole('row').filter({ hasText: 'orders.*' }).getByRole('button');
    await unbind.click();
    await unbind.click();
    await page.getByText('Binding removed').waitFor();
    await page.getByRole('row').filter({ hasText: 'orders.*' }).waitFor({ state: 'detached' });
    rf.eq(await api(broker, 'GET', `exchanges/%2F/${encodeURIComponent(ex)}/bindings/source`), [], 'bindings after Unbind');

    // delete both through the UI
    const delQ = page.getByRole('button', { name: 'Delete queue' });
    await delQ.click();
    await delQ.click();
    await page.getByRole('heading', { name: 'Queues' }).waitFor();
    await page.goto(`${broker.url}/#/exchanges/%2F/${encodeURIComponent(ex)}`);
    const delX = page.getByRole('button', { name: 'Delete exchange' });
    await delX.click();
    await delX.click();
    await page.getByRole('heading', { name: 'Exchanges' }).waitFor();
    const queueNames = (await api(broker, 'GET', 'queues')).map((x) => x.name);
    const exchangeNames = (await api(broker, 'GET', 'exchanges')).map((x) => x.name);
    rf.assert(!queueNames.includes(q) && !exchangeNames.includes(ex), 'queue and exchange deleted');
  }, {});
}, { timeout: 150000 });

rf.test('a stream shows its offsets, segments, consumers with their lag, and tracked offsets', async () => {
  await withDashboard(async ({ broker, page }) => {
    const st = short('dash.st');
    const conn = await rf.connect({ port: broker.amqpPort });
    const ch = await rf.confirmChannel(conn);
    await ch.assertQueue(st, { durable: true, arguments: { 'x-queue-type': 'stream', 'x-stream-max-segment-size-bytes': 100 } });
    for (let i = 0; i < 10; i++) ch.sendToQueue(st, Buffer.from(`event ${i} `.padEnd(40, '.')));
    await ch.waitForConfirms();
    // A consumer with 4 unacked deliveries from offset 2: next offset 6, 4 messages behind.
    const reader = await rf.channel(conn);
    await reader.prefetch(4);
    let got = 0;
    await reader.consume(st, () => { got += 1; }, { consumerTag: 'reader', arguments: { 'x-stream-offset': 2 } });
    await eventually(async () => got === 4, 'four deliveries');
    await page.goto(`${broker.url}/#/queues/%2F/${encodeURIComponent(st)}`);
    await page.getByRole('heading', { name: st }).waitFor();
    await eventually(async () => (await textOf(fact(page, 'Type'))) === 'stream', 'Type stream');
    const card = page.locator('[data-card="stream"]');
    await eventually(async () => (await textOf(fact(card, 'Last offset'))) === '9', 'last offset 9');
    rf.eq(await textOf(fact(card, 'First offset')), '0', 'first offset');
    rf.eq(Number(await textOf(fact(card, 'Segments'))) >= 4, true, 'segments of 100 bytes');
    const row = card.getByRole('row').filter({ hasText: 'reader' });
    await eventually(async () => (await textOf(row.locator('td[data-label="Lag (messages)"]'))) === '4', 'lag 4');
    rf.eq(await textOf(row.locator('td[data-label="Next offset"]')), '6', 'next offset');
    // As RabbitMQ: a stream's deliveries are credit, not unacknowledged messages.
    rf.eq([await textOf(fact(page, 'Unacknowledged')), await textOf(fact(page, 'Total'))], ['0', '10'], 'counts');
    rf.eq(await page.getByRole('button', { name: 'Purge' }).count(), 0, 'no purge for a stream');
    rf.eq(await page.getByRole('form', { name: 'Get messages' }).count(), 0, 'no get for a stream');
    // Browsing from an offset, a page at a time, consumes nothing.
    const browse = page.getByRole('form', { name: 'Browse stream' });
    await browse.getByLabel('From offset').fill('3');
    await browse.getByLabel('Messages').fill('2');
    await browse.getByRole('button', { name: 'Browse' }).click();
    const shown = browse.locator('article.message h3');
    await eventually(async () => (await shown.allTextContents()).join() === 'Offset 3,Offset 4', 'offsets 3 and 4');
    rf.eq((await browse.locator('pre.payload').first().textContent()).startsWith('event 3 '), true, 'payload');
    await browse.getByRole('button', { name: 'Next page' }).click();
    await eventually(async () => (await shown.allTextContents()).join() === 'Offset 5,Offset 6', 'the next page');
    await screenshot(page, 'stream');
    rf.eq(await textOf(fact(page, 'Total')), '10', 'browsing removed nothing');
    await conn.close();
  });
});

rf.test("a classic queue's messages are browsed, filtered, paged, deleted and moved from its page", async () => {
  await withDashboard(async ({ broker, page }) => {
    const q = short('dash.msgs');
    const target = short('dash.msgs.to');
    const dlx = short('dash.msgs.dlx');
    const conn = await rf.connect({ port: broker.amqpPort });
    const ch = await rf.confirmChannel(conn);
    await ch.assertQueue(q, { durable: false });
    await ch.assertQueue(target, { durable: false });
    await ch.assertQueue(dlx, { durable: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': q } });
    for (let i = 0; i < 6; i++) {
      ch.sendToQueue(q, Buffer.from(`order ${i}`), { messageId: `m${i}`, headers: { tenant: i % 2 ? 'globex' : 'acme' } });
    }
    ch.sendToQueue(dlx, Buffer.from('order 6'), { messageId: 'm6' });
    await ch.waitForConfirms();
    // Rejected from the other queue: it arrives last, with an x-death entry.
    const rejected = await ch.get(dlx);
    rf.assert(rejected, 'a message to reject in the dead-lettering queue');
    ch.nack(rejected, false, false);
    // The first one stays unacked with this consumer.
    const holder = await rf.channel(conn);
    await holder.prefetch(1);
    let held = 0;
    await holder.consume(q, () => { held += 1; }, { consumerTag: 'holder' });
    await eventually(async () => held === 1, 'one delivery held unacked');
    const queued = async (name) => (await api(broker, 'GET', `queues/%2F/${encodeURIComponent(name)}/messages?state=ready`))
      .messages.map((m) => m.payload);
    await eventually(async () => (await queued(q)).length === 6, 'the dead-lettered message in the queue');

    await page.goto(`${broker.url}/#/queues/%2F/${encodeURIComponent(q)}`);
    await page.getByRole('heading', { name: q }).waitFor();
    const browse = page.getByRole('form', { name: 'Browse messages' });
    rf.eq(await browse.getAttribute('data-card'), 'messages', 'the card');
    const messagesTable = browse.getByRole('table', { name: 'Queue messages' });
    const column = (label) => messagesTable.locator(`td[data-label="${label}"]`).allTextContents();
    const payloadsShown = async (want, what) => {
      await eventually(async () => JSON.stringify(await column('Payload')) === JSON.stringify(want), what);
    };
    const row = (payload) => messagesTable.getByRole('row')
      .filter({ has: page.locator('td[data-label="Payload"]', { hasText: new RegExp(`^${payload}$`) }) });
    await browse.getByRole('button', { name: 'Browse' }).click();
    const all = ['order 0', 'order 1', 'order 2', 'order 3', 'order 4', 'order 5', 'order 6'];
    await payloadsShown(all, 'every message, the unacked one first');
    rf.eq(await column('State'), ['unacked', ...Array(6).fill('ready')], 'states');
    rf.eq(await column('Position'), ['0', '1', '2', '3', '4', '5', '6'], 'positions');
    rf.eq(await column('Dead-lettered'), [...Array(6).fill(''), 'rejected'], 'x-death reasons');
    rf.eq(await row('order 0').getByRole('checkbox').count(), 0, 'a box on the unacked row');
    rf.eq(await messagesTable.getByRole('checkbox').count(), 6, 'boxes on the ready rows');

    await browse.getByLabel('State').selectOption('unacked');
    await browse.getByRole('button', { name: 'Browse' }).click();
    await payloadsShown(['order 0'], 'only the unacked message');
    rf.eq(await browse.getByRole('button', { name: 'Next page' }).isDisabled(), true, 'Next page at the end');

    await browse.getByLabel('State').selectOption('all');
    await browse.getByLabel('Filter').fill('header.tenant=acme');
    await browse.getByRole('button', { name: 'Browse' }).click();
    await payloadsShown(['order 0', 'order 2', 'order 4'], 'the messages of tenant acme');
    await browse.getByLabel('Filter').fill('tenant=acme');
    await browse.getByRole('button', { name: 'Browse' }).click();
    await eventually(async () => (await textOf(browse.getByRole('alert'))).includes("unknown filter 'tenant'"), 'the reason for a bad filter');

    await browse.getByLabel('Filter').fill('');
    await browse.getByLabel('Messages', { exact: true }).fill('4');
    await browse.getByRole('button', { name: 'Browse' }).click();
    await payloadsShown(all.slice(0, 4), 'the first page');
    const next = browse.getByRole('button', { name: 'Next page' });
    rf.eq(await next.isDisabled(), false, 'Next page before the end');
    await next.click();
    await payloadsShown(all.slice(4), 'the second page');
    await eventually(async () => next.isDisabled(), 'Next page disabled at the end');
    rf.eq(await queued(q), all.slice(1), 'browsing changed nothing');

    await browse.getByLabel('Messages', { exact: true }).fill('20');
    await browse.getByRole('button', { name: 'Browse' }).click();
    await payloadsShown(all, 'every message again');
    await row('order 1').getByRole('checkbox').check();
    await row('order 2').getByRole('checkbox').check();
    await browse.getByRole('button', { name: 'Delete selected' }).click();
    await browse.getByRole('button', { name: 'Really delete selected?' }).click();
    await page.getByText('2 messages deleted', { exact: true }).waitFor();
    await payloadsShown(['order 0', 'order 3', 'order 4', 'order 5', 'order 6'], 'what is left after the delete');

    await row('order 4').getByRole('checkbox').check();
    await browse.getByLabel('Move to queue').fill(target);
    await browse.getByRole('button', { name: 'Move selected to queue' }).click();
    await page.getByText(`1 message moved to '${target}'`, { exact: true }).waitFor();
    await payloadsShown(['order 0', 'order 3', 'order 5', 'order 6'], 'what is left after the move');
    await eventually(async () => (await textOf(fact(page, 'Ready'))) === '3', 'Ready 3 after the delete and the move');
    await row('order 5').getByRole('checkbox').check();
    await screenshot(page, 'queue-messages');

    rf.eq(await queued(q), ['order 3', 'order 5', 'order 6'], 'ready messages left in the queue');
    const moved = (await api(broker, 'GET', `queues/%2F/${encodeURIComponent(target)}/messages`)).messages;
    rf.eq(moved.map((m) => [m.payload, m.properties.message_id, m.properties.headers.tenant]), [['order 4', 'm4', 'acme']],
      'the moved message in the target queue');
    await conn.close();
  });
}, { timeout: 90000 });

// The Unbind button sends the listed properties_key through encodeURIComponent; every
// kind of routing-key character must survive that and the API's reading of it (RabbitMQ
// decodes the segment twice: see test_admin_api.py).
rf.test('unbind through the UI whatever characters the routing key has', async () => {
  await withDashboard(async ({ broker, page }) => {
    const ex = short('dash.keys.x');
    const q = short('dash.keys.q');
    await api(broker, 'PUT', `exchanges/%2F/${ex}`, { type: 'topic', durable: false, auto_delete: false, arguments: {} });
    await api(broker, 'PUT', `queues/%2F/${q}`, { durable: false, auto_delete: false, arguments: {} });
    const bindings = ['a.*', 'a.#', 'a b', 'a/b', 'a%b', 'a+b', '%2A', 'a~b', 'é.日本', ''].map((key) => [key, {}]);
    bindings.push(['k', { 'x-k': 'v' }]);
    for (const [key, args] of bindings) await api(broker, 'POST', `bindings/%2F/e/${ex}/q/${q}`, { routing_key: key, arguments: args });
    const described = (key, args) => `${JSON.stringify(key)} ${JSON.stringify(args)}`;
    const bound = async () => (await api(broker, 'GET', `bindings/%2F/e/${ex}/q/${q}`)).map((b) => described(b.routing_key, b.arguments)).sort();
    let left = bindings.map(([key, args]) => described(key, args)).sort();
    rf.eq(await bound(), left, 'bindings made');

    await page.goto(`${broker.url}/#/queues/%2F/${encodeURIComponent(q)}`);
    const exactly = (text) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    const cell = (label, text) => page.locator(`td[data-label="${label}"]`, { hasText: exactly(text) });
    for (const [key, args] of bindings) {
      const row = page.getByRole('table', { name: 'Bindings' }).getByRole('row')
        .filter({ has: cell('Routing key', key) })
        .filter({ has: cell('Arguments', Object.keys(args).length ? JSON.stringify(args) : '') });
      await row.getByRole('button', { name: 'Unbind' }).click();
      await row.getByRole('button', { name: 'Really unbind?' }).click();
      const outcome = await eventually(async () => {
        const error = page.locator('.toast-error');
        if (await error.count()) return `error toast: ${await error.first().textContent()}`;
        return (await row.count()) === 0 && 'row gone';
      }, `unbinding ${described(key, args)}`);
      rf.eq(outcome, 'row gone', `unbinding ${described(key, args)}`);
      left = left.filter((b) => b !== described(key, args));
      rf.eq(await bound(), left, `bindings after unbinding ${described(key, args)}`);
    }
    await api(broker, 'DELETE', `queues/%2F/${q}`);
    await api(broker, 'DELETE', `exchanges/%2F/${ex}`);
  });
}, { timeout: 90000 });

rf.test('names are shown as text, never run as HTML', async () => {
  await withDashboard(async ({ broker, page, events }) => {
    const evil = `<img src=x onerror="window.__xss=1;alert(1)">${rf.uniq('q')}`;
    const evilEx = `<b onmouseover=alert(2)>x</b>${rf.uniq('x')}`;
    const conn = await rf.connect({ port: broker.amqpPort });
    const ch = await rf.channel(conn);
    await ch.assertExchange(evilEx, 'direct', { durable: false });
    await ch.assertQueue(evil, { durable: false });
    await ch.bindQueue(evil, evilEx, '<script>alert(3)</script>');
    await ch.sendToQueue(evil, Buffer.from('<img src=y onerror=alert(4)>'));
    const pages = [['#/', 'xss-overview'], ['#/queues', 'xss-queues'], ['#/exchanges', 'xss-exchanges'],
      ['#/bindings', 'xss-bindings'], [`#/queues/%2F/${encodeURIComponent(evil)}`, 'xss-queue'],
      [`#/exchanges/%2F/${encodeURIComponent(evilEx)}`, 'xss-exchange']];
    for (const [hash, shot] of pages) {
      await page.goto(`${broker.url}/${hash}`);
      await page.locator('main .live[aria-busy="false"], main .tiles').first().waitFor();
      if (hash.startsWith('#/queues/')) {
        await page.getByRole('heading', { name: evil }).waitFor();
        await page.getByRole('button', { name: 'Get messages' }).click();
        await page.locator('.payload').getByText('<img src=y onerror=alert(4)>').waitFor();
      } else if (hash === '#/bindings' || hash.startsWith('#/exchanges/')) {
        await page.locator('td code').getByText('<script>alert(3)</script>', { exact: true }).first().waitFor();
      } else if (hash !== '#/exchanges') {
        await page.getByRole('link', { name: evil, exact: true }).first().waitFor();
      } else {
        await page.getByText(evilEx, { exact: true }).first().waitFor();
      }
      await screenshot(page, shot);
      rf.eq(await page.locator('main img, main b, main script').count(), 0, `elements made from names on ${hash}`);
      rf.eq(await page.evaluate(() => window.__xss), undefined, `window.__xss on ${hash}`);
    }
    rf.eq(events.dialogs, [], 'dialogs');
    await ch.deleteQueue(evil);
    await ch.deleteExchange(evilEx);
  });
});

rf.test("a refused action shows the broker's reason in the form", async () => {
  await withDashboard(async ({ broker, page }) => {
    const q = short('dash.durable');
    await api(broker, 'PUT', `queues/%2F/${encodeURIComponent(q)}`, { durable: true, auto_delete: false, arguments: {} });
    await page.goto(`${broker.url}/#/queues`);
    const qForm = page.getByRole('form', { name: 'Add a queue' });
    await qForm.getByLabel('Name').fill(q);
    await qForm.getByLabel('Durable').uncheck();
    await qForm.getByRole('button', { name: 'Add queue' }).click();
    const error = qForm.getByRole('alert');
    await error.waitFor();
    const text = await textOf(error);
    rf.assert(text.includes("inequivalent arg 'durable'"), `form error shows the reason: ${text}`);
    await screenshot(page, 'queue-error');
    // an argument that is not a number never reaches the broker
    await qForm.getByLabel('Name').fill(short('dash.bad'));
    await qForm.getByRole('button', { name: '+ Add argument' }).click();
    await qForm.getByLabel('Argument key').fill('x-max-length');
    await qForm.getByLabel('Argument value').fill('lots');
    await qForm.getByLabel('Argument type').selectOption('Number');
    await qForm.getByRole('button', { name: 'Add queue' }).click();
    await eventually(async () => (await textOf(error)).includes("argument x-max-length: 'lots' is not a number"), 'argument error');
    await api(broker, 'DELETE', `queues/%2F/${encodeURIComponent(q)}`);
  });
});

rf.test('connections and channels are listed and a connection can be closed', async () => {
  await withDashboard(async ({ broker, page }) => {
    const conn = await rf.connect({ port: broker.amqpPort });
    const ch = await rf.channel(conn);
    await ch.prefetch(7);
    const closed = new Promise((resolve) => conn.on('close', resolve));
    await page.goto(`${broker.url}/#/channels`);
    const chRow = page.getByRole('row').filter({ has: page.locator('td[data-label="Prefetch"]', { hasText: /^7$/ }) });
    await chRow.waitFor();
    await screenshot(page, 'channels');
    await nav(page, 'Connections');
    const rows = page.getByRole('row').filter({ has: page.locator('td[data-label="Channels"]') });
    await eventually(async () => (await rows.count()) === 1, 'one connection listed');
    await screenshot(page, 'connections');
    const close = rows.first().getByRole('button', { name: 'Close' });
    await close.click();
    await close.click();
    const err = await Promise.race([closed, rf.sleep(10000).then(() => 'timeout')]);
    rf.assert(err !== 'timeout', 'amqplib saw the connection close');
    rf.assert(err && /320/.test(String(err.message || err)), `closed with 320 CONNECTION_FORCED: ${err && err.message}`);
    await eventually(async () => (await rows.count()) === 0, 'no connection listed after closing');
    await page.getByText('No clients are connected.').waitFor();
  });
});

rf.test('a phone-sized window shows every page without sideways scrolling', async () => {
  await withDashboard(async ({ broker, page }) => {
    const long = encodeURIComponent(`a.rather.long.queue.name.for.a.phone.${short('q')}`);
    await api(broker, 'PUT', `queues/%2F/${long}`, { durable: false, auto_delete: false, arguments: {} });
    for (const [hash, shot] of [['#/', 'phone-overview'], ['#/queues', 'phone-queues'], ['#/exchanges', 'phone-exchanges'],
      ['#/bindings', 'phone-bindings'], ['#/connections', 'phone-connections'], ['#/scheduled', 'phone-scheduled']]) {
      await page.goto(`${broker.url}/${hash}`);
      await page.locator('main .live[aria-busy="false"], main .tiles').first().waitFor();
      await screenshot(page, shot);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      rf.assert(overflow <= 0, `${hash} is ${overflow}px wider than the window`);
    }
    await api(broker, 'DELETE', `queues/%2F/${long}`);
  }, { viewport: { width: 390, height: 844 } });
});

rf.main({ fileBroker: false });
