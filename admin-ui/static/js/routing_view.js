// Draws how exchanges route to queues as an SVG graph: exchanges in columns by how many
// exchange-to-exchange hops lead to them, queues in the last column, one curve per binding
// labelled with its routing key. Node order in each column follows the average position of
// its sources (one barycentre pass), which removes most crossings in typical topologies.

import { s, h } from './dom.js';
import { exchangeHref, queueHref, exchangeLabel } from './links.js';

const BOX_W = 190;
const BOX_H = 30;
const ROW_GAP = 16;
const COL_GAP = 170;
const MAX_CHARS = 24;

const id = (type, name) => `${type}:${name}`;
const short = (name) => (name.length > MAX_CHARS ? `${name.slice(0, MAX_CHARS - 1)}…` : name);

function layers(bindings) {
  const nodes = new Map();
  const add = (type, name) => {
    const key = id(type, name);
    if (!nodes.has(key)) nodes.set(key, { key, type, name, layer: 0, sources: [] });
    return nodes.get(key);
  };
  for (const b of bindings) {
    const src = add('exchange', b.source);
    add(b.destination_type, b.destination).sources.push(src);
  }
  // Longest path over exchange-to-exchange bindings; the bound keeps cycles finite.
  const exchanges = [...nodes.values()].filter((n) => n.type === 'exchange');
  for (let round = 0; round < exchanges.length; round++) {
    let changed = false;
    for (const n of exchanges) {
      const want = Math.max(0, ...n.sources.map((src) => src.layer + 1));
      if (want > n.layer && want < exchanges.length) { n.layer = want; changed = true; }
    }
    if (!changed) break;
  }
  const lastExchangeLayer = Math.max(0, ...exchanges.map((n) => n.layer));
  for (const n of nodes.values()) if (n.type === 'queue') n.layer = lastExchangeLayer + 1;
  const columns = [];
  for (const n of nodes.values()) (columns[n.layer] ||= []).push(n);
  columns.forEach((col, i) => {
    col.sort((a, b) => a.name.localeCompare(b.name));
    if (i > 0) {
      const centre = (n) => (n.sources.length ? n.sources.reduce((sum, src) => sum + (src.row ?? 0), 0) / n.sources.length : 0);
      col.sort((a, b) => centre(a) - centre(b) || a.name.localeCompare(b.name));
    }
    col.forEach((n, row) => { n.row = row; });
  });
  return columns.filter(Boolean);
}

function nodeBox(n, x, y, vhost) {
  const label = n.type === 'exchange' ? exchangeLabel(n.name) : n.name;
  const href = n.type === 'exchange' ? exchangeHref(vhost, n.name) : queueHref(vhost, n.name);
  return s('a', { href, class: `node node-${n.type}` },
    s('title', null, `${n.type} ${label}`),
    s('rect', { x, y, width: BOX_W, height: BOX_H, rx: n.type === 'exchange' ? 15 : 4 }),
    s('text', { x: x + 12, y: y + BOX_H / 2, 'dominant-baseline': 'central' }, short(label)));
}

function bezier([p0, p1, p2, p3], t) {
  const u = 1 - t;
  const at = (i) => u * u * u * p0[i] + 3 * u * u * t * p1[i] + 3 * u * t * t * p2[i] + t * t * t * p3[i];
  return [at(0), at(1)];
}

// The point of a left-to-right curve at horizontal position x (x grows with t: bisection).
function pointAtX(curve, x) {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 24; i++) {
    const mid = (lo + hi) / 2;
    if (bezier(curve, mid)[0] < x) lo = mid; else hi = mid;
  }
  return bezier(curve, lo);
}

// bindings: of one vhost. Returns an element (SVG in a scroll box, or an empty state).
export function routingView(bindings, vhost) {
  if (!bindings.length) return h('p', { class: 'empty' }, 'No bindings to draw. Bind a queue to an exchange below.');
  const columns = layers(bindings);
  const rows = Math.max(...columns.map((c) => c.length));
  const width = columns.length * BOX_W + (columns.length - 1) * COL_GAP + 2;
  const height = rows * (BOX_H + ROW_GAP) + ROW_GAP;
  const pos = new Map();
  columns.forEach((col, c) => {
    const offset = ((rows - col.length) * (BOX_H + ROW_GAP)) / 2;
    col.forEach((n, r) => pos.set(n.key, { x: 1 + c * (BOX_W + COL_GAP), y: ROW_GAP + offset + r * (BOX_H + ROW_GAP) }));
  });
  const edges = bindings.map((b) => {
    const a = pos.get(id('exchange', b.source));
    const z = pos.get(id(b.destination_type, b.destination));
    const x1 = a.x + BOX_W; const y1 = a.y + BOX_H / 2;
    const x2 = z.x; const y2 = z.y + BOX_H / 2;
    const back = x2 <= x1; // a binding to an exchange in the same or an earlier column
    const bend = back ? 80 : (x2 - x1) / 2;
    const curve = [[x1, y1], [x1 + bend, y1], [x2 - bend, y2], [x2, y2]];
    const d = `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
    const label = b.routing_key === '' ? '(empty key)' : b.routing_key;
    // The label sits in the gap just before the destination, so an edge that skips a
    // column does not hide its key behind that column's boxes.
    const [lx, ly] = back ? bezier(curve, 0.5) : pointAtX(curve, x2 - COL_GAP / 2);
    return s('g', { class: 'edge' },
      s('title', null, `${exchangeLabel(b.source)} → ${b.destination_type} ${b.destination}: ${label}`),
      s('path', { d, 'marker-end': 'url(#arrow)' }),
      s('text', { x: lx, y: ly - 4, 'text-anchor': 'middle' }, short(label)));
  });
  const svg = s('svg', { class: 'routing', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'How exchanges route to queues' },
    s('defs', null, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
      s('path', { d: 'M0,0 L10,5 L0,10 z' }))),
    edges,
    columns.flat().map((n) => nodeBox(n, pos.get(n.key).x, pos.get(n.key).y, vhost)));
  return h('div', { class: 'routing-wrap' }, svg);
}
