// Overview: totals, live charts of message rates and queued messages (sampled from
// /api/overview every 2 s; the history lives as long as the tab, so it survives page
// changes), the deepest queues, and in a cluster each node's replication (from the
// leader's /api/nodes).

import { h, fill, append } from '../dom.js';
import { lineChart } from '../chart.js';
import { table } from '../table.js';
import { count, rate, statRate } from '../format.js';
import { queueLink } from '../links.js';
import { header } from '../page.js';
import { tagList } from '../tags.js';
import { overview, queues, nodes } from '../resources.js';

const SAMPLE_MS = 2000;
const WINDOW_MS = 5 * 60000;
const rateSamples = [];
const depthSamples = [];

const RATE_SERIES = [
  { key: 'publish', label: 'Publish', color: '#2f6fde' },
  { key: 'deliver_get', label: 'Deliver / get', color: '#1a9a5b' },
  { key: 'ack', label: 'Acknowledge', color: '#d08a12' },
];
const DEPTH_SERIES = [
  { key: 'ready', label: 'Ready', color: '#2f6fde' },
  { key: 'unacked', label: 'Unacknowledged', color: '#c2413b' },
];

function record(samples, values) {
  const t = Date.now();
  samples.push({ t, values });
  while (samples.length && samples[0].t < t - WINDOW_MS) samples.shift();
}

function tile(label, value, href) {
  const body = [h('span', { class: 'tile-value' }, count(value)), h('span', { class: 'tile-label' }, label)];
  return href ? h('a', { class: 'tile', href }, body) : h('div', { class: 'tile' }, body);
}

function tiles(o) {
  const t = o.object_totals || {};
  const q = o.queue_totals || {};
  return h('div', { class: 'tiles' },
    tile('Connections', t.connections, '#/connections'), tile('Channels', t.channels, '#/channels'),
    tile('Exchanges', t.exchanges, '#/exchanges'), tile('Queues', t.queues, '#/queues'),
    tile('Consumers', t.consumers), tile('Ready', q.messages_ready), tile('Unacked', q.messages_unacknowledged));
}

function deepest(list) {
  const rows = [...list].sort((a, b) => (b.messages || 0) - (a.messages || 0)).slice(0, 8);
  const max = Math.max(1, ...rows.map((r) => r.messages || 0));
  return table([
    { title: 'Queue', cell: (r) => queueLink(r.vhost, r.name) },
    { title: 'Messages', num: true, cell: (r) => count(r.messages) },
    { title: 'Depth', cell: (r) => h('span', { class: 'bar', style: { '--fill': `${((r.messages || 0) / max) * 100}%` } }) },
    { title: 'In', num: true, cell: (r) => rate(statRate(r, 'publish')) },
    { title: 'Out', num: true, cell: (r) => rate(statRate(r, 'deliver_get')) },
  ], rows, { empty: 'No queues yet. Declare one on the Queues page or from a client.', label: 'Deepest queues' });
}

// The leader and each follower: how far its store has got, how far behind it is, and
// whether confirms wait for it (in sync). Nothing outside a cluster.
function cluster(node) {
  const r = node?.replication;
  if (!r) return null;
  const state = (f) => (!f.connected ? 'disconnected' : f.in_sync ? 'in sync' : 'catching up');
  const rows = [{ node_id: node.node_id, role: 'leader', position: r.position, lag: 0, state: 'in sync' },
    ...r.followers.map((f) => ({ ...f, role: 'follower', state: state(f) }))];
  return h('div', { class: 'card', 'data-section': 'cluster' },
    h('h2', null, 'Cluster'),
    h('p', { class: 'muted' }, `${node.cluster_name} · epoch ${node.epoch} · in sync: ${r.in_sync_replicas.join(', ')}`),
    table([
      { title: 'Node', cell: (n) => n.node_id },
      { title: 'Role', cell: (n) => n.role },
      { title: 'Position', num: true, cell: (n) => count(n.position) },
      { title: 'Lag (batches)', num: true, cell: (n) => count(n.lag) },
      { title: 'State', cell: (n) => n.state },
    ], rows, { label: 'Cluster nodes' }));
}

function about(o) {
  const version = o.product_version || o.rabbitmq_version;
  const product = o.product_name || (o.rabbitmq_version ? 'RabbitMQ' : 'Roost');
  const listeners = (o.listeners || []).map((l) => `${l.protocol} ${l.ip_address}:${l.port}`).join(', ');
  return h('p', { class: 'muted about' }, `${product} ${version || ''}`, o.node ? ` · node ${o.node}` : '',
    listeners ? ` · ${listeners}` : '');
}

export function render(ctx) {
  // /api/nodes is for monitoring users (as RabbitMQ's): others see the overview without the cluster.
  const monitors = tagList(ctx.me?.tags).some((t) => t === 'administrator' || t === 'monitoring');
  const summary = h('div', null, h('p', { class: 'empty' }, 'Loading…'));
  const rates = lineChart({ title: 'Message rates', series: RATE_SERIES, samples: rateSamples, format: rate, windowMs: WINDOW_MS });
  const depth = lineChart({ title: 'Queued messages', series: DEPTH_SERIES, samples: depthSamples, format: count, windowMs: WINDOW_MS });
  const queueTable = h('div', { class: 'card' }, h('h2', null, 'Deepest queues'), h('div'));
  const clusterCard = h('div');
  const footer = h('div');
  append(ctx.main, header('Overview'), summary, clusterCard, h('div', { class: 'charts' }, rates.el, depth.el), queueTable,
    footer);

  async function sample() {
    try {
      const [o, list, nodeList] = await Promise.all([overview(), queues(), monitors ? nodes() : []]);
      if (ctx.closed) return;
      record(rateSamples, Object.fromEntries(RATE_SERIES.map((s) => [s.key, statRate(o, s.key) || 0])));
      record(depthSamples, { ready: o.queue_totals?.messages_ready || 0, unacked: o.queue_totals?.messages_unacknowledged || 0 });
      fill(summary, tiles(o));
      fill(queueTable.lastChild, deepest(list));
      fill(footer, about(o));
      fill(clusterCard, cluster(nodeList[0]));
      rates.draw();
      depth.draw();
    } catch (e) {
      fill(summary, h('p', { class: 'form-error', role: 'alert' }, `Could not load the overview: ${e.message}`));
    }
  }
  sample();
  ctx.every(SAMPLE_MS, sample);
}
