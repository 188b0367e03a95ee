'use strict';
// The dashboard's Admin section and vhost choice in Debian's headless chromium (see
// dashboard_browser.js), against a Roost started per test or, with ROOST_DASHBOARD_URL,
// a dashboard served in front of RabbitMQ by admin-ui/dev_server.py. Through the UI: add a
// user, grant it permissions in the matrix and log in as it over AMQP (amqplib), change its
// password and tags (the password must survive a tags change), set a user limit, clear the
// permissions and delete it; add, describe, limit and delete a vhost (the limit refuses a
// queue over AMQP); filter the list pages by vhost (the API path changes, the choice
// survives navigation and a reload); make a policy and an operator policy in the editor and
// see the broker apply them to a queue (its policy fields and the queue page), over a
// policy of lower priority that keeps only an exchange; and what a
// management-only user, a policymaker and a user whose tags were taken away see. Every name
// is unique and everything made is removed again, so the file also runs against a shared
// RabbitMQ node.

const crypto = require('node:crypto');
const rf = require('./roost_fixture');
const { api, apiStatus, withDashboard, login, eventually, screenshot, fact, textOf } = require('./dashboard_browser');

const short = (prefix) => `${prefix}-${crypto.randomBytes(3).toString('hex')}`;
const enc = encodeURIComponent;
const mainNav = (page, name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
const adminTab = (page, name) => page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name, exact: true }).click();
const twice = async (button) => { await button.click(); await button.click(); };
// The row of the policy called name in the table (Policies or Operator policies): by its
// Name cell, as other rows may mention the name.
const policyRowOf = (page, table, name) => page.getByRole('table', { name: table }).getByRole('row')
  .filter({ has: page.getByRole('cell', { name, exact: true }) });
// The broker's JSON objects keep its own key order (Roost's sorted, RabbitMQ's not): they
// are compared with their keys sorted.
const sortedKeys = (value) => JSON.parse(JSON.stringify(value, (_key, v) => (v && typeof v === 'object' && !Array.isArray(v)
  ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v)));
const eqJson = (actual, expected, what) => rf.eq(sortedKeys(actual), sortedKeys(expected), what);

// Users and vhosts made through the API for a test, removed afterwards.
async function makeUser(broker, cleanup, { tags = 'management', password = 'pw-1', vhost = '/', prefix = 'dash-user' } = {}) {
  const name = short(prefix);
  await api(broker, 'PUT', `users/${enc(name)}`, { password, tags });
  cleanup(() => apiStatus(broker, 'DELETE', `users/${enc(name)}`));
  if (vhost !== null) await api(broker, 'PUT', `permissions/${enc(vhost)}/${enc(name)}`, { configure: '.*', write: '.*', read: '.*' });
  return { user: name, password };
}

async function makeVhost(broker, cleanup, prefix = 'dash-vh') {
  const name = short(prefix);
  await api(broker, 'PUT', `vhosts/${enc(name)}`, {});
  cleanup(() => apiStatus(broker, 'DELETE', `vhosts/${enc(name)}`));
  return name;
}

// An AMQP login as the user: resolves to the connection, or rejects.
const amqpLogin = (broker, user, password, vhost = '/') => rf.connect({ port: broker.amqpPort, user, password, vhost });

async function refusedLogin(broker, user, password) {
  try {
    const conn = await amqpLogin(broker, user, password);
    await conn.close();
  } catch (e) {
    return e.message;
  }
  throw new Error(`AMQP login of ${user} with password ${password} succeeded`);
}

rf.test('users: add, grant in the matrix, log in over AMQP, change password and tags, limit, clear, delete', async () => {
  await withDashboard(async ({ broker, page, cleanup }) => {
    const name = short('dash-alice');
    cleanup(() => apiStatus(broker, 'DELETE', `users/${enc(name)}`));
    const prefix = `${name}.`;

    await mainNav(page, 'Admin');
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    const addForm = page.getByRole('form', { name: 'Add a user' });
    await addForm.getByLabel('Username').fill(name);
    await addForm.getByLabel('Password').fill('first-pw');
    await addForm.getByLabel('management', { exact: true }).check();
    await addForm.getByLabel('Other tags').fill('ops-team');
    await addForm.getByRole('button', { name: 'Add user' }).click();
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });
    await row.waitFor();
    rf.eq((await api(broker, 'GET', `users/${enc(name)}`)).tags.slice().sort(), ['management', 'ops-team'], 'tags of the new user');
    rf.assert((await textOf(row.locator('td[data-label="Virtual hosts"]'))) === 'no permissions', 'new user listed without permissions');
    await screenshot(page, 'admin-users');

    // no permissions yet: the broker refuses the AMQP login to '/'
    await refusedLogin(broker, name, 'first-pw');

    // grant in the matrix: configure only for the user's own names
    await adminTab(page, 'Permissions');
    await page.getByRole('button', { name: `Permissions of ${name} in /`, exact: true }).click();
    const editor = page.getByRole('form', { name: `Permissions of ${name} in /` });
    await editor.getByLabel('configure').fill(`^${prefix.replace('.', '\\.')}`);
    await editor.getByLabel('write').fill('.*');
    await editor.getByLabel('read').fill('.*');
    await editor.getByRole('button', { name: 'Grant permissions' }).click();
    await page.getByText(`Permissions of '${name}' in '/' saved`).waitFor();
    const granted = (await api(broker, 'GET', 'permissions')).filter((p) => p.user === name);
    eqJson(granted, [{ user: name, vhost: '/', configure: `^${prefix.replace('.', '\\.')}`, write: '.*', read: '.*' }], 'permissions after the matrix edit');
    const cell = page.getByRole('button', { name: `Permissions of ${name} in /`, exact: true });
    await eventually(async () => (await textOf(cell)).includes(`^${prefix.replace('.', '\\.')}`), 'the cell shows the configure pattern');
    await screenshot(page, 'admin-permissions');

    // the user logs in over AMQP and the pattern holds
    const conn = await amqpLogin(broker, name, 'first-pw');
    const ch = await rf.channel(conn);
    await ch.assertQueue(`${prefix}own`, { exclusive: true });
    const other = await rf.channel(conn);
    await rf.expectError(other.assertQueue(short('dash-not-mine'), { exclusive: true }), 403);
    await conn.close();

    // its page: change the password, then the tags (the password must survive that)
    await adminTab(page, 'Users');
    await page.getByRole('link', { name, exact: true }).click();
    await page.getByRole('heading', { name }).waitFor();
    const pwForm = page.getByRole('form', { name: 'Change password' });
    await pwForm.getByLabel('New password').fill('second-pw');
    await pwForm.getByLabel('Repeat it').fill('second-pw');
    await pwForm.getByRole('button', { name: 'Change password' }).click();
    await page.getByText(`Password of '${name}' changed`).waitFor();
    await refusedLogin(broker, name, 'first-pw');
    await (await amqpLogin(broker, name, 'second-pw')).close();

    const tagsForm = page.getByRole('form', { name: 'Set tags' });
    await tagsForm.getByLabel('monitoring', { exact: true }).check();
    await tagsForm.getByLabel('Other tags').fill('');
    await tagsForm.getByRole('button', { name: 'Save tags' }).click();
    await page.getByText(`Tags of '${name}' saved`).waitFor();
    rf.eq((await api(broker, 'GET', `users/${enc(name)}`)).tags.slice().sort(), ['management', 'monitoring'], 'tags after Save tags');
    await (await amqpLogin(broker, name, 'second-pw')).close();
    const whoami = await api(broker, 'GET', 'whoami', undefined, { user: name, password: 'second-pw' });
    rf.eq(whoami.tags.slice().sort(), ['management', 'monitoring'], 'whoami of the user after the tags change');
    await eventually(async () => (await textOf(fact(page, 'Tags'))).includes('monitoring'), 'Tags fact shows monitoring');

    // a user limit
    const limits = page.getByRole('form', { name: 'Limits' });
    await limits.locator('input[name="max-connections"]').fill('3');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await page.getByText('Limits saved').waitFor();
    eqJson(await api(broker, 'GET', `user-limits/${enc(name)}`), [{ user: name, value: { 'max-connections': 3 } }], 'user limits');
    await screenshot(page, 'admin-user');

    // clear the permissions in the matrix
    await adminTab(page, 'Permissions');
    await page.getByRole('button', { name: `Permissions of ${name} in /`, exact: true }).click();
    await twice(page.getByRole('form', { name: `Permissions of ${name} in /` }).getByRole('button', { name: 'Clear permissions' }));
    await page.getByText(`Permissions of '${name}' in '/' cleared`).waitFor();
    rf.eq((await api(broker, 'GET', 'permissions')).filter((p) => p.user === name), [], 'permissions after Clear');
    await eventually(async () => (await textOf(page.getByRole('button', { name: `Permissions of ${name} in /`, exact: true }))) === 'none', 'the cell shows none');

    // delete the user from the list
    await adminTab(page, 'Users');
    await twice(page.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) }).getByRole('button', { name: 'Delete' }));
    await page.getByText(`User '${name}' deleted`).waitFor();
    rf.eq((await apiStatus(broker, 'GET', `users/${enc(name)}`)).status, 404, 'GET of the deleted user');
  });
}, { timeout: 120000 });

rf.test('vhosts: add with description and tags, set a limit the broker enforces, delete', async () => {
  await withDashboard(async ({ broker, page, cleanup }) => {
    const name = short('dash-shop');
    cleanup(() => apiStatus(broker, 'DELETE', `vhosts/${enc(name)}`));
    await page.goto(`${broker.url}/#/admin/vhosts`);
    const addForm = page.getByRole('form', { name: 'Add a virtual host' });
    await addForm.getByLabel('Name').fill(name);
    await addForm.getByLabel('Description').fill('the shop');
    await addForm.getByLabel('Tags').fill('eu, prod');
    await addForm.getByRole('button', { name: 'Add virtual host' }).click();
    await page.getByRole('link', { name, exact: true }).waitFor();
    const made = await api(broker, 'GET', `vhosts/${enc(name)}`);
    rf.eq([made.description, made.tags], ['the shop', ['eu', 'prod']], 'description and tags of the new vhost');
    await screenshot(page, 'admin-vhosts');

    // the vhost appears in the list pages' vhost choice without a reload
    await mainNav(page, 'Queues');
    await page.getByRole('combobox', { name: 'Virtual host' }).first().locator(`option[value="${name}"]`).waitFor({ state: 'attached' });

    // its page: a queue limit, which the broker then enforces over AMQP
    await page.goto(`${broker.url}/#/admin/vhosts/${enc(name)}`);
    await page.getByRole('heading', { name }).waitFor();
    const limits = page.getByRole('form', { name: 'Limits' });
    await limits.locator('input[name="max-queues"]').fill('2');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await page.getByText('Limits saved').waitFor();
    eqJson(await api(broker, 'GET', `vhost-limits/${enc(name)}`), [{ vhost: name, value: { 'max-queues': 2 } }], 'vhost limits');
    await eventually(async () => (await textOf(limits.locator('p.muted'))).includes('max-queues: 2'), 'limits summary');
    await screenshot(page, 'admin-vhost');
    const conn = await amqpLogin(broker, 'guest', 'guest', name);
    const ch = await rf.channel(conn);
    await ch.assertQueue('one', { exclusive: true });
    await ch.assertQueue('two', { exclusive: true });
    await rf.expectError(ch.assertQueue('three', { exclusive: true }), 406);
    await conn.close();

    // clearing it: an empty box
    await limits.locator('input[name="max-queues"]').fill('');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await eventually(async () => (await api(broker, 'GET', `vhost-limits/${enc(name)}`)).length === 0, 'no vhost limits after clearing');

    // delete it from its page
    await twice(page.getByRole('button', { name: 'Delete virtual host' }));
    await page.getByRole('heading', { name: 'Virtual hosts' }).waitFor();
    rf.eq((await apiStatus(broker, 'GET', `vhosts/${enc(name)}`)).status, 404, 'GET of the deleted vhost');
    await page.getByRole('link', { name, exact: true }).waitFor({ state: 'detached' });
  });
}, { timeout: 90000 });

rf.test('the vhost choice filters the list pages through the API path and survives navigation', async () => {
  await withDashboard(async ({ broker, page, cleanup }) => {
    const vhost = await makeVhost(broker, cleanup);
    const inRoot = short('dash-root-q');
    const inVhost = short('dash-vh-q');
    await api(broker, 'PUT', `queues/%2F/${inRoot}`, { durable: false, auto_delete: false, arguments: {} });
    cleanup(() => apiStatus(broker, 'DELETE', `queues/%2F/${inRoot}`));
    await api(broker, 'PUT', `queues/${enc(vhost)}/${inVhost}`, { durable: false, auto_delete: false, arguments: {} });
    const requests = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));

    // the vhost was made after login: a reload of the page picks it up
    await page.goto(`${broker.url}/#/queues`);
    await page.reload();
    const choice = page.locator('.page-head').getByRole('combobox', { name: 'Virtual host' });
    await page.getByRole('link', { name: inRoot, exact: true }).waitFor();
    await page.getByRole('link', { name: inVhost, exact: true }).waitFor();
    rf.eq(await choice.inputValue(), '', 'choice before choosing (all)');

    await choice.selectOption(vhost);
    await page.getByRole('link', { name: inRoot, exact: true }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: inVhost, exact: true }).waitFor();
    await eventually(() => requests.includes(`/api/queues/${enc(vhost)}`), `GET /api/queues/${vhost}`);
    rf.eq(await page.evaluate(() => location.hash), `#/queues?vhost=${enc(vhost)}`, 'hash after choosing');
    await screenshot(page, 'queues-vhost');

    // other list pages keep the choice and ask the vhost's path
    await mainNav(page, 'Exchanges');
    await page.getByRole('heading', { name: 'Exchanges' }).waitFor();
    await page.getByRole('link', { name: 'amq.topic', exact: true }).waitFor();
    rf.eq(await choice.inputValue(), vhost, 'choice on the exchanges page');
    await eventually(() => requests.includes(`/api/exchanges/${enc(vhost)}`), `GET /api/exchanges/${vhost}`);
    rf.eq(await page.locator('th', { hasText: /^Vhost$/ }).count(), 0, 'no Vhost column with one vhost shown');
    for (const [navName, path] of [['Bindings', `/api/bindings/${enc(vhost)}`], ['Connections', `/api/vhosts/${enc(vhost)}/connections`], ['Channels', `/api/vhosts/${enc(vhost)}/channels`]]) {
      await mainNav(page, navName);
      await page.getByRole('heading', { name: navName, exact: true }).waitFor();
      await eventually(() => requests.includes(path), `GET ${path}`);
      rf.eq(await choice.inputValue(), vhost, `choice on the ${navName} page`);
    }

    // a reload keeps it; choosing All brings the other vhost back
    await mainNav(page, 'Queues');
    await page.reload();
    await page.getByRole('link', { name: inVhost, exact: true }).waitFor();
    rf.eq(await choice.inputValue(), vhost, 'choice after a reload');
    rf.eq(await page.getByRole('link', { name: inRoot, exact: true }).count(), 0, 'queue of / hidden after a reload');
    await choice.selectOption('');
    await page.getByRole('link', { name: inRoot, exact: true }).waitFor();
    rf.eq(await page.evaluate(() => location.hash), '#/queues', 'hash after choosing All');
  });
}, { timeout: 90000 });

rf.test('a policy and an operator policy made in the editor apply to a queue, shown on its page', async () => {
  await withDashboard(async ({ broker, page, cleanup }) => {
    const id = crypto.randomBytes(3).toString('hex');
    const q = `pol.${id}.jobs`;
    const other = `nopol.${id}`;
    const policy = `dash-limits-${id}`;
    const cap = `dash-cap-${id}`;
    for (const name of [q, other]) {
      await api(broker, 'PUT', `queues/%2F/${name}`, { durable: false, auto_delete: false, arguments: {} });
      cleanup(() => apiStatus(broker, 'DELETE', `queues/%2F/${name}`));
    }
    const exchange = `pol.${id}.events`;
    await api(broker, 'PUT', `exchanges/%2F/${exchange}`, { type: 'fanout', durable: false, auto_delete: false, arguments: {} });
    cleanup(() => apiStatus(broker, 'DELETE', `exchanges/%2F/${exchange}`));
    // a policy of lower priority on the same names, for queues and exchanges: it loses the
    // queue to the editor's policy and keeps the exchange
    const loser = `dash-loser-${id}`;
    await api(broker, 'PUT', `policies/%2F/${loser}`, { pattern: `^pol\\.${id}\\.`, 'apply-to': 'all', priority: 0, definition: { 'max-length-bytes': 1000 } });
    cleanup(() => apiStatus(broker, 'DELETE', `policies/%2F/${loser}`));
    cleanup(() => apiStatus(broker, 'DELETE', `policies/%2F/${policy}`));
    cleanup(() => apiStatus(broker, 'DELETE', `operator-policies/%2F/${cap}`));

    await page.goto(`${broker.url}/#/admin/policies`);
    const editor = page.getByRole('form', { name: 'Add or update a policy' });
    const input = (name) => editor.locator(`[name="${name}"]`);
    await input('vhost').selectOption('/');
    await input('name').fill(policy);
    await input('pattern').fill(`^pol\\.${id}\\.`);
    await input('apply-to').selectOption('queues');
    rf.assert(await editor.locator('input[name="alternate-exchange"]').isDisabled(), 'alternate-exchange disabled for apply-to queues');
    await input('priority').fill('1');
    await editor.locator('input[name="max-length"]').fill('5');
    await editor.locator('input[name="message-ttl"]').fill('60000');
    await editor.locator('select[name="overflow"]').selectOption('reject-publish');
    await editor.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText(`Policy '${policy}' saved in '/'`).waitFor();
    const stored = await api(broker, 'GET', `policies/%2F/${policy}`);
    eqJson([stored.pattern, stored['apply-to'], stored.priority, stored.definition],
      [`^pol\\.${id}\\.`, 'queues', 1, { 'max-length': 5, 'message-ttl': 60000, overflow: 'reject-publish' }], 'policy as stored');

    // an operator policy with a lower max-length: the lower value wins
    await input('kind').selectOption('operator-policies');
    rf.assert(await editor.locator('select[name="overflow"]').isHidden(), 'overflow hidden for operator policies');
    await input('name').fill(cap);
    await input('priority').fill('0');
    await editor.locator('input[name="max-length"]').fill('3');
    await editor.locator('input[name="message-ttl"]').fill('');
    await editor.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText(`Operator policy '${cap}' saved in '/'`).waitFor();
    eqJson((await api(broker, 'GET', `operator-policies/%2F/${cap}`)).definition, { 'max-length': 3 }, 'operator policy definition');

    // the broker applies both to the queue (RabbitMQ: within its 5 s statistics interval)
    const want = { 'max-length': 3, 'message-ttl': 60000, overflow: 'reject-publish' };
    await eventually(async () => {
      const got = await api(broker, 'GET', `queues/%2F/${q}`);
      return got.policy === policy && got.operator_policy === cap && JSON.stringify(sortedKeys(got.effective_policy_definition)) === JSON.stringify(sortedKeys(want));
    }, 'policy fields of the queue', 20000);
    const untouched = await api(broker, 'GET', `queues/%2F/${other}`);
    rf.eq([untouched.policy ?? null, untouched.operator_policy ?? null], [null, null], 'policy fields of a queue the patterns miss');

    // the policy's row names the queue it applies to, not the other one
    const policyRow = policyRowOf(page, 'Policies', policy);
    await policyRow.locator('td[data-label="Applies to"]').getByRole('link', { name: q, exact: true }).waitFor();
    rf.eq(await policyRow.locator('td[data-label="Applies to"]').getByRole('link', { name: other, exact: true }).count(), 0, 'the other queue in Applies to');
    // the loser's row: the exchange is its, the queue is named as won by the other
    const loserCell = policyRowOf(page, 'Policies', loser).locator('td[data-label="Applies to"]');
    await loserCell.getByRole('link', { name: exchange, exact: true }).waitFor();
    rf.eq(await loserCell.getByRole('link', { name: q, exact: true }).count(), 0, 'the queue linked in the loser\'s Applies to');
    rf.assert((await textOf(loserCell)).includes(`Also matches 1 where another wins: ${q} (${policy})`), `loser's Applies to: ${await textOf(loserCell)}`);
    await screenshot(page, 'admin-policies');

    // the queue page shows which won and what applies
    await page.goto(`${broker.url}/#/queues/%2F/${enc(q)}`);
    await eventually(async () => (await textOf(fact(page, 'Policy'))) === policy, 'Policy on the queue page');
    rf.eq(await textOf(fact(page, 'Operator policy')), cap, 'Operator policy on the queue page');
    rf.eq(await fact(page, 'Effective policy definition').locator('li').allTextContents(),
      ['max-length: 3', 'message-ttl: 60000', 'overflow: "reject-publish"'], 'effective definition on the queue page');
    await screenshot(page, 'queue-policy');
    await page.goto(`${broker.url}/#/exchanges/%2F/${enc(exchange)}`);
    await eventually(async () => (await textOf(fact(page, 'Policy'))) === loser, 'Policy on the exchange page');

    // edit: the form takes the listed values, a change is stored
    await page.goto(`${broker.url}/#/admin/policies`);
    await policyRow.getByRole('button', { name: 'Edit' }).click();
    rf.eq(await input('pattern').inputValue(), `^pol\\.${id}\\.`, 'pattern filled in by Edit');
    rf.eq(await input('kind').inputValue(), 'policies', 'kind set back by Edit');
    rf.eq(await editor.locator('input[name="max-length"]').inputValue(), '5', 'max-length filled in by Edit');
    await editor.locator('input[name="max-length"]').fill('7');
    await editor.getByRole('button', { name: 'Save policy' }).click();
    await eventually(async () => (await api(broker, 'GET', `policies/%2F/${policy}`)).definition['max-length'] === 7, 'max-length 7 stored');

    // a refused definition shows the broker's reason
    await editor.locator('input[name="message-ttl"]').fill('-1');
    await editor.getByRole('button', { name: 'Save policy' }).click();
    await eventually(async () => (await textOf(editor.getByRole('alert'))).includes('-1 is not a valid message TTL'), 'refusal shown');

    // delete both through the UI
    await twice(policyRow.getByRole('button', { name: 'Delete' }));
    await page.getByText(`Policy '${policy}' deleted`).waitFor();
    const capRow = policyRowOf(page, 'Operator policies', cap);
    await twice(capRow.getByRole('button', { name: 'Delete' }));
    await page.getByText(`Operator policy '${cap}' deleted`).waitFor();
    rf.eq([(await apiStatus(broker, 'GET', `policies/%2F/${policy}`)).status, (await apiStatus(broker, 'GET', `operator-policies/%2F/${cap}`)).status],
      [404, 404], 'GET of the deleted policies');
  });
}, { timeout: 120000 });

rf.test('who sees what: management, policymaker, no tags, and tags taken away while logged in', async () => {
  await withDashboard(async ({ broker, page, cleanup }) => {
    const mgr = await makeUser(broker, cleanup, { tags: 'management', prefix: 'dash-mgr' });
    await login(page, broker, mgr);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queues', exact: true }).waitFor();
    rf.eq(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).count(), 0, 'Admin link for a management user');
    await page.goto(`${broker.url}/#/admin/users`);
    await page.getByRole('alert').filter({ hasText: 'Not available to this user' }).waitFor();
    rf.assert((await textOf(page.getByRole('alert'))).includes(`user '${mgr.user}' has the tags management`), 'the notice names the user and its tags');
    rf.eq(await page.getByRole('table').count(), 0, 'tables shown to a management user on the users page');
    await screenshot(page, 'admin-refused');
    await page.goto(`${broker.url}/#/admin`);
    await page.getByRole('alert').filter({ hasText: 'Not available to this user' }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();

    // a policymaker gets the Policies tab only
    const pm = await makeUser(broker, cleanup, { tags: 'policymaker', prefix: 'dash-pm' });
    await login(page, broker, pm);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true }).click();
    await page.getByRole('heading', { name: 'Policies', level: 1 }).waitFor();
    rf.eq(await page.getByRole('navigation', { name: 'Admin' }).getByRole('link').allTextContents(), ['Policies'], 'Admin tabs of a policymaker');
    const pmEditor = page.getByRole('form', { name: 'Add or update a policy' });
    rf.eq(await pmEditor.locator('[name="kind"]').count(), 0, 'operator policy choice for a policymaker');
    // and may make one in a vhost it has permissions in
    const pmPolicy = short('dash-pm-policy');
    cleanup(() => apiStatus(broker, 'DELETE', `policies/%2F/${pmPolicy}`));
    await pmEditor.locator('[name="name"]').fill(pmPolicy);
    await pmEditor.locator('[name="pattern"]').fill(`^${pmPolicy}$`);
    await pmEditor.locator('input[name="expires"]').fill('600000');
    await pmEditor.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText(`Policy '${pmPolicy}' saved in '/'`).waitFor();
    eqJson((await api(broker, 'GET', `policies/%2F/${pmPolicy}`)).definition, { expires: 600000 }, 'definition of the policymaker\'s policy');
    await page.getByRole('button', { name: 'Log out' }).click();

    // a user without tags may log in over AMQP but not to the dashboard
    const none = await makeUser(broker, cleanup, { tags: '', prefix: 'dash-none' });
    await page.getByLabel('Username').fill(none.user);
    await page.getByLabel('Password').fill(none.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText(`User '${none.user}' may not use the dashboard: Not management user.`).waitFor();
    await (await amqpLogin(broker, none.user, none.password)).close();

    // an administrator whose tags are taken away while logged in: the broker's 401 "Not
    // administrator user" is shown as such, and the session goes on
    const adm = await makeUser(broker, cleanup, { tags: 'administrator', prefix: 'dash-adm' });
    await login(page, broker, adm);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true }).click();
    await page.getByRole('link', { name: adm.user, exact: true }).waitFor();
    const stored = await api(broker, 'GET', `users/${enc(adm.user)}`);
    await api(broker, 'PUT', `users/${enc(adm.user)}`, { tags: 'management', password_hash: stored.password_hash, hashing_algorithm: stored.hashing_algorithm });
    await adminTab(page, 'Permissions');
    const refused = page.getByRole('alert').filter({ hasText: 'Not administrator user' });
    await refused.waitFor();
    rf.assert((await textOf(refused)).includes(`Not allowed. The broker refused this for user '${adm.user}'`), `the refusal reads as one: ${await textOf(refused)}`);
    // the dashboard read the tags again: the Admin link is gone
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true }).waitFor({ state: 'detached' });
    rf.assert(await page.getByRole('button', { name: 'Log out' }).isVisible(), 'still logged in after the refusal');
    rf.eq(await page.evaluate(() => location.hash), '#/admin/permissions', 'still on the page after the refusal');
    await screenshot(page, 'admin-refused-401');
  }, { loggedIn: false });
}, { timeout: 90000 });

rf.test('the Admin pages fit a phone-sized window', async () => {
  await withDashboard(async ({ broker, page, cleanup }) => {
    await makeUser(broker, cleanup, { prefix: 'dash-phone-user-with-a-long-name' });
    for (const [hash, shot] of [['#/admin/users', 'phone-admin-users'], ['#/admin/vhosts', 'phone-admin-vhosts'],
      ['#/admin/permissions', 'phone-admin-permissions'], ['#/admin/policies', 'phone-admin-policies'], ['#/queues', 'phone-queues-vhost']]) {
      await page.goto(`${broker.url}/${hash}`);
      await page.locator('main .live[aria-busy="false"]').first().waitFor();
      await screenshot(page, shot);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      rf.assert(overflow <= 0, `${hash} is ${overflow}px wider than the window`);
    }
  }, { viewport: { width: 390, height: 844 } });
});

rf.main({ fileBroker: false });
