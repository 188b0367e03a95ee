'use strict';
// AMQPS with amqplib (amqps:// trusting the test CA; EXTERNAL is pika's, in test_tls.py) and
// the dashboard over HTTPS in Debian's headless chromium. The CA and certificates are made
// with openssl when the file starts (tls_certs.py); the file's broker has AMQPS and HTTPS on
// port 0 beside the plain listeners.

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const rf = require('./roost_fixture');
const { api, eventually, login, openBrowser, expectCleanPage } = require('./dashboard_browser');

const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roost-tls-js-'));
process.on('exit', () => fs.rmSync(certDir, { recursive: true, force: true }));
const certs = JSON.parse(execFileSync('/usr/bin/python3', [path.join(__dirname, 'tls_certs.py'), certDir],
  { timeout: 30000 }).toString());
const trustTestCa = { ca: [fs.readFileSync(certs.ca)], servername: 'localhost' };

// An external broker (ROOST_EXTERNAL_PORT) has no TLS listeners of ours.
function tlsTest(name, fn) {
  rf.test(name, async () => {
    if (process.env.ROOST_EXTERNAL_PORT) rf.skip('needs roost started with the test certificates');
    await fn();
  });
}

tlsTest('amqplib over amqps:// publishes and consumes, beside a plain connection', async () => {
  const tls = await rf.connect({ tls: trustTestCa });
  const plain = await rf.connect();
  const ch = await rf.channel(tls);
  // Not exclusive: the plain connection inspects it below (RabbitMQ answers 405 to that for an exclusive queue).
  const q = (await ch.assertQueue('', { exclusive: false, autoDelete: true })).queue;
  const body = Buffer.alloc(100000, 7); // several TLS records
  const received = [];
  await ch.consume(q, (m) => received.push(m.content), { noAck: true });
  for (let i = 0; i < 20; i++) ch.sendToQueue(q, body);
  // the plain side sees the same queue
  const plainCh = await rf.channel(plain);
  await rf.waitFor(() => received.length === 20, '20 messages back over TLS');
  rf.assert(received.every((b) => b.equals(body)), 'bodies came back intact');
  rf.eq((await plainCh.checkQueue(q)).consumerCount, 1, 'consumers seen from the plain connection');
});

tlsTest('amqplib refuses a server it cannot verify (no CA given)', async () => {
  let err = null;
  try {
    await rf.connect({ tls: { servername: 'localhost' } });
  } catch (e) {
    err = e;
  }
  rf.assert(err && /certificate/i.test(err.message), `expected a certificate error, got ${err && err.message}`);
});

tlsTest('the dashboard over HTTPS logs in and lists the TLS connection', async () => {
  const httpsUrl = `https://localhost:${rf.listeningPort('https')}`;
  const tls = await rf.connect({ tls: trustTestCa });
  const ch = await rf.channel(tls);
  const q = rf.uniq('tls');
  await ch.assertQueue(q, { exclusive: true });
  // The browser does not know the test CA: playwright lets it past the warning.
  const b = await openBrowser(undefined, { ignoreHTTPSErrors: true });
  try {
    await login(b.page, { url: httpsUrl });
    rf.eq(await b.page.evaluate(() => location.protocol), 'https:', 'page protocol');
    await b.page.goto(`${httpsUrl}/#/queues`);
    await b.page.getByRole('link', { name: q, exact: true }).waitFor();
    // one TLS connection: this test's (the first test's may still be going away)
    await eventually(async () => (await api({ url: `http://${rf.HOST}:${rf.httpPort()}` }, 'GET', 'connections'))
      .filter((c) => c.ssl).length === 1, 'one TLS connection listed by the API');
    expectCleanPage(b.events);
  } finally {
    await b.close();
  }
});

rf.main({
  brokerArgs: ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--amqps-port', '0', '--https-port', '0'],
});
