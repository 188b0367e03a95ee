'use strict';
// Access control through amqplib: what an amqplib user sees of refused logins and vhosts,
// every row of the access-control table with the class and method ids of the channel.close,
// the default exchange, topic permissions, user_id, the user channel limit, deleted users
// and connection.updateSecret. Users, vhosts and permissions are set up through the
// management HTTP API on RabbitMQ's paths, so the file runs against RabbitMQ too.
const crypto = require('node:crypto');
const rf = require('./roost_fixture');

const { test, connect, eq, assert, waitFor } = rf;

const LOGIN_REFUSED = 'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. ' +
  'For details see the broker logfile.';
const DEFAULT_EXCHANGE = 'ACCESS_REFUSED - operation not permitted on the default exchange';

function shortName(prefix) {
  return `${prefix}-${crypto.randomBytes(5).toString('hex')}`;
}

// ------------------------------------------------------------------ management API setup

async function api(method, path, body) {
  const res = await fetch(`http://${rf.HOST}:${rf.httpPort()}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path} -> ${res.status} ${text.slice(0, 300)}`);
  return text;
}

const q = encodeURIComponent;

// Users and vhosts of one test; remove() deletes them (call it in finally).
class Accounts {
  constructor() {
    this.users = new Map();
    this.vhosts = [];
  }

  async user(tags = '') {
    const name = shortName('u');
    const password = `pw-${name}`;
    await api('PUT', `/api/users/${q(name)}`, { password, tags });
    this.users.set(name, password);
    return name;
  }

  async vhost() {
    const name = shortName('v');
    await api('PUT', `/api/vhosts/${q(name)}`, {});
    this.vhosts.push(name);
    return name;
  }

  permit(user, vhost, configure, write, read) {
    return api('PUT', `/api/permissions/${q(vhost)}/${q(user)}`, { configure, write, read });
  }

  topic(user, vhost, exchange, write, read) {
    return api('PUT', `/api/topic-permissions/${q(vhost)}/${q(user)}`, { exchange, write, read });
  }

  userLimit(user, name, value) {
    return api('PUT', `/api/user-limits/${q(user)}/${q(name)}`, { value });
  }

  connect(user, vhost = '/') {
    return connect({ user, password: this.users.get(user), vhost });
  }

  async remove() {
    for (const u of this.users.keys()) await api('DELETE', `/api/users/${q(u)}`).catch(() => {});
    for (const v of this.vhosts) await api('DELETE', `/api/vhosts/${q(v)}`).catch(() => {});
  }
}

async function withAccounts(fn) {
  const acc = new Accounts();
  try {
    await fn(acc);
  } finally {
    await acc.remove();
  }
}

// ------------------------------------------------------------------ expectations

function noAccess(kind, name, vhost, user) {
  return `ACCESS_REFUSED - access to ${kind} '${name}' in vhost '${vhost}' refused for user '${user}'`;
}

// amqplib.connect must fail; returns its error.
async function connectRefused(opts) {
  try {
    await connect(opts);
  } catch (e) {
    return e;
  }
  throw new Error(`the broker accepted ${JSON.stringify(opts)}`);
}

// Run act(ch) on a new channel of conn; the broker must close the channel with code, text and
// the ids of the method that broke the rule.
async function refused(conn, act, code, text, classId, methodId) {
  const ch = await conn.createConfirmChannel();
  const errors = [];
  ch.on('error', (e) => errors.push(e));
  // The operation's own promise may reject or (a publish) never settle: the close is what counts.
  Promise.resolve().then(() => act(ch)).catch(() => {});
  await waitFor(() => errors.length > 0, `channel.close after ${act}`, 10000);
  const e = errors[0];
  eq(e.code, code, `reply code (${e.message})`);
  assert(e.message.includes(`with message "${rf.amqpReplyText(text)}"`), `${e.message} lacks ${JSON.stringify(text)}`);
  eq([e.classId, e.methodId], [classId, methodId], `class/method ids (${e.message})`);
}

async function allowed(conn, act) {
  const ch = await conn.createConfirmChannel();
  const result = await act(ch);
  await ch.close();
  return result;
}

// A publish on a confirm channel that waits for the broker's ack (a refusal closes the channel instead).
function publish(exchange, key, body = 'm', options = {}) {
  return async (ch) => {
    await new Promise((resolve, reject) => {
      ch.publish(exchange, key, Buffer.from(body), options, (err) => (err ? reject(err) : resolve()));
    });
  };
}

// ------------------------------------------------------------------ tests

test('refused logins: the same 403 for a wrong password and an unknown user', async () => {
  await withAccounts(async (acc) => {
    const user = await acc.user();
    await acc.permit(user, '/', '.*', '.*', '.*');
    for (const [who, password] of [[user, 'wrong'], [shortName('nobody'), 'wrong']]) {
      const e = await connectRefused({ user: who, password });
      eq(e.message, `Handshake terminated by server: 403 (ACCESS-REFUSED) with message "${LOGIN_REFUSED}"`,
        `amqplib's error for ${who}`);
    }
    await acc.connect(user);
  });
});

test('refused vhosts: amqplib sees a connection.close instead of open-ok', async () => {
  await withAccounts(async (acc) => {
    const user = await acc.user();
    const vh = await acc.vhost();
    for (const vhost of [vh, shortName('no-such-vhost')]) {
      const e = await connectRefused({ user, password: acc.users.get(user), vhost });
      eq(e.message, 'Expected ConnectionOpenOk; got <ConnectionClose channel:0>', `amqplib's error for ${vhost}`);
    }
  });
});

test('the access-control table, with the class and method of each refusal', async () => {
  await withAccounts(async (acc) => {
    const vh = await acc.vhost();
    const user = await acc.user();
    await acc.permit('guest', vh, '.*', '.*', '.*');
    await acc.permit(user, vh, '^c', '^w', '^(cr|r)\\.');
    const admin = await (await connect({ vhost: vh })).createChannel();
    for (const x of ['r.x', 'w.x', 'cr.x']) await admin.assertExchange(x, 'direct', { durable: false });
    for (const name of ['r.q', 'w.q']) await admin.assertQueue(name, { durable: false });
    const conn = await acc.connect(user, vh);
    const no = (kind, name) => noAccess(kind, name, vh, user);
    const rows = [
      // [what, act, code, text, class, method]
      ['exchange.declare', (ch) => ch.assertExchange('x.new', 'direct'), 403, no('exchange', 'x.new'), 40, 10],
      ['exchange.declare with an alternate exchange: read on it',
        (ch) => ch.assertExchange('c.ae', 'direct', { alternateExchange: 'w.ae' }), 403, no('exchange', 'c.ae'),
        40, 10],
      ['exchange.declare with an alternate exchange: write on that',
        (ch) => ch.assertExchange('cr.ae', 'direct', { alternateExchange: 'r.ae' }), 403, no('exchange', 'r.ae'),
        40, 10],
      ['exchange.declare of the default exchange', (ch) => ch.assertExchange('', 'direct'), 403, DEFAULT_EXCHANGE,
        40, 10],
      ['queue.declare', (ch) => ch.assertQueue('x.q'), 403, no('queue', 'x.q'), 50, 10],
      ['queue.declare with a dead-letter exchange: read on it',
        (ch) => ch.assertQueue('c.dlx', { deadLetterExchange: 'w.dlx' }), 403, no('queue', 'c.dlx'), 50, 10],
      ['queue.declare with a dead-letter exchange: write on that',
        (ch) => ch.assertQueue('cr.dlx', { deadLetterExchange: 'r.dlx' }), 403, no('exchange', 'r.dlx'), 50, 10],
      ['queue.declare of an amq.* name', (ch) => ch.assertQueue('amq.q'), 403,
        "ACCESS_REFUSED - queue name 'amq.q' contains reserved prefix 'amq.*'", 50, 10],
      ['exchange.delete', (ch) => ch.deleteExchange('r.x'), 403, no('exchange', 'r.x'), 40, 20],
      ['exchange.delete of amq.direct', (ch) => ch.deleteExchange('amq.direct'), 403,
        `ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '${vh}' not allowed`, 40, 20],
      ['queue.delete', (ch) => ch.deleteQueue('r.q'), 403, no('queue', 'r.q'), 50, 40],
      ['queue.bind: write on the queue', (ch) => ch.bindQueue('r.q', 'r.x', 'k'), 403, no('queue', 'r.q'), 50, 20],
      ['queue.bind: read on the exchange', (ch) => ch.bindQueue('w.q', 'w.x', 'k'), 403, no('exchange', 'w.x'), 50, 20],
      ['queue.bind to the default exchange', (ch) => ch.bindQueue('w.q', '', 'k'), 403, DEFAULT_EXCHANGE, 50, 20],
      ['queue.unbind', (ch) => ch.unbindQueue('r.q', 'r.x', 'k'), 403, no('queue', 'r.q'), 50, 50],
      ['exchange.bind: write on the destination', (ch) => ch.bindExchange('r.x', 'cr.x', 'k'), 403,
        no('exchange', 'r.x'), 40, 30],
      ['exchange.bind: read on the source', (ch) => ch.bindExchange('w.x', 'w.x', 'k'), 403,
        no('exchange', 'w.x'), 40, 30],
      ['exchange.unbind', (ch) => ch.unbindExchange('w.x', 'w.x', 'k'), 403, no('exchange', 'w.x'), 40, 40],
      ['basic.publish', publish('r.x', 'k'), 403, no('exchange', 'r.x'), 60, 40],
      ['basic.publish to the default exchange', publish('', 'w.q'), 403, no('exchange', 'amq.default'), 60, 40],
      ['basic.get', (ch) => ch.get('w.q'), 403, no('queue', 'w.q'), 60, 70],
      ['basic.consume', (ch) => ch.consume('w.q', () => {}), 403, no('queue', 'w.q'), 60, 20],
      ['queue.purge', (ch) => ch.purgeQueue('w.q'), 403, no('queue', 'w.q'), 50, 30],
    ];
    for (const [what, act, code, text, classId, methodId] of rows) {
      try {
        await refused(conn, act, code, text, classId, methodId);
      } catch (e) {
        throw new Error(`${what}: ${e.message}`);
      }
    }
    // And what the same permissions allow.
    await allowed(conn, (ch) => ch.assertExchange('c.x', 'direct'));
    await allowed(conn, (ch) => ch.assertExchange('cr.ae', 'direct', { alternateExchange: 'w.ae' }));
    await allowed(conn, (ch) => ch.assertQueue('c.q'));
    await allowed(conn, (ch) => ch.assertQueue('cr.dlx', { deadLetterExchange: 'w.dlx' }));
    await allowed(conn, (ch) => ch.checkQueue('w.q'));  // passive: no permission needed
    await allowed(conn, (ch) => ch.bindQueue('w.q', 'r.x', 'k'));
    await allowed(conn, (ch) => ch.bindExchange('w.x', 'r.x', 'k'));
    await allowed(conn, publish('w.x', 'k'));
    await allowed(conn, (ch) => ch.get('r.q'));
    await allowed(conn, (ch) => ch.deleteQueue('c.none'));
  });
});

test('the default exchange needs write on amq.default', async () => {
  await withAccounts(async (acc) => {
    const vh = await acc.vhost();
    const user = await acc.user();
    await acc.permit('guest', vh, '.*', '.*', '.*');
    const admin = await (await connect({ vhost: vh })).createChannel();
    await admin.assertQueue('q', { durable: false });
    const conn = await acc.connect(user, vh).catch(async () => null);
    assert(conn === null, 'no permissions yet: the vhost is refused');
    await acc.permit(user, vh, '', '', '');
    const c = await acc.connect(user, vh);
    await refused(c, publish('', 'q'), 403, noAccess('exchange', 'amq.default', vh, user), 60, 40);
    await acc.permit(user, vh, '', '^amq\\.default$', '');
    await allowed(c, publish('', 'q', 'via amq.default'));
    const m = await admin.get('q', { noAck: true });
    eq(m && m.content.toString(), 'via amq.default', 'routed');
  });
});

test('topic permissions: publish and bind, {username} and {vhost} expanded', async () => {
  await withAccounts(async (acc) => {
    const vh = await acc.vhost();
    const user = await acc.user();
    await acc.permit(user, vh, '.*', '.*', '.*');
    await acc.topic(user, vh, 'amq.topic', '^{username}\\.', '^{vhost}\\.');
    const conn = await acc.connect(user, vh);
    await allowed(conn, publish('amq.topic', `${user}.x`));
    await refused(conn, publish('amq.topic', `${vh}.x`), 403,
      `ACCESS_REFUSED - access to topic '${vh}.x' in exchange 'amq.topic' in vhost '${vh}' refused for user '${user}'`,
      60, 40);
    await allowed(conn, async (ch) => {
      await ch.assertQueue('tq', { durable: false });
      await ch.bindQueue('tq', 'amq.topic', `${vh}.#`);
    });
    await refused(conn, (ch) => ch.bindQueue('tq', 'amq.topic', `${user}.#`), 403,
      `ACCESS_REFUSED - access to topic '${user}.#' in exchange 'amq.topic' in vhost '${vh}' refused for user ` +
      `'${user}'`,
      50, 20);
  });
});

test('user_id: the user itself, or anyone for an impersonator', async () => {
  await withAccounts(async (acc) => {
    const plain = await acc.user();
    const impersonator = await acc.user('impersonator');
    for (const u of [plain, impersonator]) await acc.permit(u, '/', '.*', '.*', '.*');
    const conn = await acc.connect(plain);
    await allowed(conn, publish('amq.direct', 'k', 'm', { userId: plain }));
    await refused(conn, publish('amq.direct', 'k', 'm', { userId: 'guest' }), 406,
      `PRECONDITION_FAILED - user_id property set to 'guest' but authenticated user was '${plain}'`, 60, 40);
    await allowed(await acc.connect(impersonator), publish('amq.direct', 'k', 'm', { userId: 'guest' }));
  });
});

test('user max-channels closes the connection that asks for one more', async () => {
  await withAccounts(async (acc) => {
    const user = await acc.user();
    await acc.permit(user, '/', '.*', '.*', '.*');
    await acc.userLimit(user, 'max-channels', 1);
    const first = await acc.connect(user);
    await first.createChannel();
    const second = await acc.connect(user);
    let err = null;
    try {
      await second.createChannel();
    } catch (e) {
      err = e;
    }
    assert(err !== null, 'the second channel was opened');
    await waitFor(() => second.isClosed, 'the connection to close');
    const closed = second.errors[0] || second.closedByServer;
    eq(closed.code, 530, `code (${closed.message})`);
    eq(closed.message, `Connection closed: 530 (NOT-ALLOWED) with message "NOT_ALLOWED - number of channels opened ` +
      `for user '${user}' has reached the maximum allowed user limit of (1)"`, 'message');
    assert(!first.isClosed, 'the connection holding the channel stays open');
  });
});

test('deleting a user closes its connections with 320', async () => {
  await withAccounts(async (acc) => {
    const user = await acc.user();
    await acc.permit(user, '/', '.*', '.*', '.*');
    const conn = await acc.connect(user);
    await api('DELETE', `/api/users/${q(user)}`);
    acc.users.delete(user);
    await waitFor(() => conn.isClosed, 'the connection to close');
    const e = conn.errors[0] || conn.closedByServer;
    eq(e.code, 320, `code (${e.message})`);
    eq(e.message, 'Connection closed: 320 (CONNECTION-FORCED) with message ' +
      `"CONNECTION_FORCED - user '${user}' is deleted"`, 'message');
  });
});

// The password: accepted, and the connection goes on. Another secret: Roost closes the
// connection with RabbitMQ's code and text for a refused secret; RabbitMQ 3.10's internal
// user database accepts any secret, so against RabbitMQ it is accepted (README).
test('connection.updateSecret: the password is accepted, another secret closes the connection', async () => {
  await withAccounts(async (acc) => {
    const user = await acc.user();
    await acc.permit(user, '/', '.*', '.*', '.*');
    const conn = await acc.connect(user);
    assert(typeof conn.updateSecret === 'function', 'amqplib has connection.updateSecret');
    const ch = await conn.createConfirmChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await conn.updateSecret(Buffer.from(acc.users.get(user)), 'rotation');
    await new Promise((resolve, reject) => {
      ch.sendToQueue(queue, Buffer.from('after'), {}, (e) => (e ? reject(e) : resolve()));
    });
    const m = await ch.get(queue, { noAck: true });
    eq(m && m.content.toString(), 'after', 'round trip after updateSecret');
    const other = await acc.connect(user);
    if (process.env.ROOST_EXTERNAL_PORT) {
      await other.updateSecret(Buffer.from('not-the-password'), 'rotation');
    } else {
      // amqplib leaves the update's promise pending when the connection closes instead.
      let answered = false;
      other.updateSecret(Buffer.from('not-the-password'), 'rotation').then(() => { answered = true; }, () => {});
      await waitFor(() => other.closedByServer, 'connection close');
      eq(other.closedByServer.code, 530, `code (${other.closedByServer.message})`);
      assert(other.closedByServer.message.includes('NOT_ALLOWED - New secret was refused by one of the backends'),
        other.closedByServer.message);
      assert(!answered, 'a wrong secret was accepted');
    }
    // The password itself has not changed.
    const e = await connectRefused({ user, password: 'not-the-password' });
    assert(e.message.includes(LOGIN_REFUSED), e.message);
  });
});

rf.main();
