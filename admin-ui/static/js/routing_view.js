// Draws how exchanges route to queues as an SVG graph: exchanges in columns by how many
// exchange-to-exchange hops lead to them, queues in the last column, one curve per binding
// labelled with its routing key. A binding that skips columns passes through an invisible
// slot in each column it crosses (as in layered graph drawing), so it never runs behind an
// unrelated box. Order in each column follows the average row of its sources (one
// barycentre pass), which removes most crossings in typical topologies.

import { s, h } from './dom.js';
import { exchangeHref, queueHref, exchangeLabel } from './links.js';

const BOX_W = 190;
const BOX_H = 30;
const ROW_GAP = 16;
const COL_GAP = 170;
const MAX_CHARS = 24;
const BACK_ARC = 24; // how far below the boxes bindings that close a cycle curve

const id = (type, name) => `${type}:${name}`;
const short = (name) => (name.length > MAX_CHARS ? `${name.slice(0, MAX_CHARS - 1)}…` : name);

// Returns { columns: [[node]], edges: [{ binding, path: [node, ...dummies, node] }] }.
function layout(bindings) {
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

  const all = [...nodes.values()];
  const edges = bindings.map((binding, i) => {
    const from = nodes.get(id('exchange', binding.source));
    const to = nodes.get(id(binding.destination_type, binding.destination));
    const path = [from];
    for (let layer = from.layer + 1; layer < to.layer; layer++) {
      const dummy = { key: `dummy:${i}:${layer}`, dummy: true, name: '', layer, sources: [path[path.length - 1]] };
      all.push(dummy);
      path.push(dummy);
    }
    path.push(to);
    return { binding, path };
  });
  for (const n of nodes.values()) n.sources = [];
  for (const { path } of edges) for (let k = 1; k < path.length; k++) if (!path[k].dummy) path[k].sources.push(path[k - 1]);

  const columns = [];
  for (const n of all) (columns[n.layer] ||= []).push(n);
  const centre = (n) => (n.sources.length ? n.sources.reduce((sum, src) => sum + (src.row ?? 0), 0) / n.sources.length : 0);
  columns.forEach((col, i) => {
    col.sort((a, b) => (i > 0 ? centre(a) - centre(b) : 0) || a.name.localeCompare(b.name));
    col.forEach((n, row) => { n.row = row; });
  });
  return { columns: columns.filter(Boolean), edges };
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

const curveBetween = ([x1, y1], [x2, y2], bend) => [[x1, y1], [x1 + bend, y1], [x2 - bend, y2], [x2, y2]];

// One binding: an S-curve per gap, straight through the slots of skipped columns, the key
// written in the gap just before the destination.
function edge({ binding, path }, pos, bottom) {
  const centreY = (n) => pos.get(n.key).y + BOX_H / 2;
  const label = binding.routing_key === '' ? '(empty key)' : binding.routing_key;
  const first = path[0];
  const last = path[path.length - 1];
  let d;
  let labelAt;
  if (last.layer <= first.layer) {
    // a binding back to an exchange in the same or an earlier column (a cycle): an arc
    // under the drawing, bottom of the source to bottom of the destination
    const from = [pos.get(first.key).x + BOX_W / 2, pos.get(first.key).y + BOX_H];
    const to = [pos.get(last.key).x + BOX_W / 2 + 12, pos.get(last.key).y + BOX_H];
    const curve = [from, [from[0], bottom], [to[0], bottom], to];
    d = `M${curve[0]} C${curve[1]} ${curve[2]} ${curve[3]}`;
    labelAt = bezier(curve, 0.5);
  } else {
    let at = [pos.get(first.key).x + BOX_W, centreY(first)];
    d = `M${at}`;
    for (const n of path.slice(1)) {
      const curve = curveBetween(at, [pos.get(n.key).x, centreY(n)], COL_GAP / 2);
      d += ` C${curve[1]} ${curve[2]} ${curve[3]}`;
      labelAt = pointAtX(curve, curve[3][0] - COL_GAP / 2);
      at = [pos.get(n.key).x + BOX_W, centreY(n)];
      if (n.dummy) d += ` L${at}`;
    }
  }
  return s('g', { class: 'edge' },
    s('title', null, `${exchangeLabel(binding.source)} → ${binding.destination_type} ${binding.destination}: ${label}`),
    s('path', { d, 'marker-end': 'url(#arrow)' }),
    s('text', { x: labelAt[0], y: labelAt[1] - 4, 'text-anchor': 'middle' }, short(label)));
}

// bindings: of one vhost. Returns an element (SVG in a scroll box, or an empty state).
export function routingView(bindings, vhost) {
  if (!bindings.length) return h('p', { class: 'empty' }, 'No bindings to draw. Bind a queue to an exchange below.');
  const { columns, edges } = layout(bindings);
  const rows = Math.max(...columns.map((c) => c.length));
  const width = columns.length * BOX_W + (columns.length - 1) * COL_GAP + 2;
  const backEdges = edges.some((e) => e.path[e.path.length - 1].layer <= e.path[0].layer);
  const boxesBottom = rows * (BOX_H + ROW_GAP) + ROW_GAP;
  const height = boxesBottom + (backEdges ? 2 * BACK_ARC : 0);
  const pos = new Map();
  columns.forEach((col, c) => {
    const offset = ((rows - col.length) * (BOX_H + ROW_GAP)) / 2;
    col.forEach((n, r) => pos.set(n.key, { x: 1 + c * (BOX_W + COL_GAP), y: ROW_GAP + offset + r * (BOX_H + ROW_GAP) }));
  });
  const svg = s('svg', { class: 'routing', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'How exchanges route to queues' },
    s('defs', null, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
      s('path', { d: 'M0,0 L10,5 L0,10 z' }))),
    edges.map((e) => edge(e, pos, boxesBottom + BACK_ARC)),
    columns.flat().filter((n) => !n.dummy).map((n) => nodeBox(n, pos.get(n.key).x, pos.get(n.key).y, vhost)));
  return h('div', { class: 'routing-wrap' }, svg);
}
