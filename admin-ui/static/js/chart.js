// A live line chart drawn by hand on <canvas>: a few series sampled over time, y axis scaled
// to the visible maximum, legend with the latest values (DOM text, not canvas, so it is
// readable and selectable). Redraws on resize at the device's pixel ratio.

import { h } from './dom.js';
import { axis } from './format.js';

const PAD = { left: 44, right: 10, top: 10, bottom: 22 };

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

// series: [{ key, label, color }]; samples: shared array of { t, values: {key: number} } so a
// page can keep history across visits; format: legend value formatter; windowMs: time span.
export function lineChart({ title, series, samples, format, windowMs }) {
  const canvas = h('canvas', { role: 'img', 'aria-label': title });
  const legendValues = new Map();
  const legend = h('ul', { class: 'legend' }, series.map((s) => {
    const value = h('span', { class: 'legend-value' }, '–');
    legendValues.set(s.key, value);
    return h('li', null, h('span', { class: 'swatch', style: { background: s.color } }), s.label, ' ', value);
  }));
  const el = h('figure', { class: 'card chart' }, h('figcaption', null, title), canvas, legend);

  function draw() {
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const g = canvas.getContext('2d');
    g.scale(ratio, ratio);
    const styles = getComputedStyle(el);
    const ink = styles.getPropertyValue('--muted').trim() || '#666';
    const rule = styles.getPropertyValue('--rule').trim() || '#ddd';
    const now = Date.now();
    const t0 = now - windowMs;
    const visible = samples.filter((p) => p.t >= t0);
    let max = 0;
    for (const p of visible) for (const s of series) max = Math.max(max, p.values[s.key] || 0);
    max = niceMax(max);
    const plotW = width - PAD.left - PAD.right;
    const plotH = height - PAD.top - PAD.bottom;
    const xOf = (t) => PAD.left + ((t - t0) / windowMs) * plotW;
    const yOf = (v) => PAD.top + plotH - (v / max) * plotH;

    g.font = '11px system-ui, sans-serif';
    g.fillStyle = ink;
    g.strokeStyle = rule;
    g.lineWidth = 1;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      const y = Math.round(yOf(v)) + 0.5;
      g.beginPath(); g.moveTo(PAD.left, y); g.lineTo(width - PAD.right, y); g.stroke();
      g.fillText(axis(v), PAD.left - 6, y);
    }
    g.textAlign = 'center';
    g.textBaseline = 'top';
    const minutes = windowMs / 60000;
    for (let m = 0; m <= minutes; m++) {
      g.fillText(m === minutes ? 'now' : `-${minutes - m}m`, xOf(t0 + m * 60000), height - PAD.bottom + 6);
    }
    g.lineWidth = 2;
    g.lineJoin = 'round';
    for (const s of series) {
      g.strokeStyle = s.color;
      g.beginPath();
      visible.forEach((p, i) => {
        const x = xOf(p.t);
        const y = yOf(p.values[s.key] || 0);
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    }
    const last = samples[samples.length - 1];
    for (const s of series) legendValues.get(s.key).textContent = last ? format(last.values[s.key] || 0) : '–';
  }

  new ResizeObserver(draw).observe(canvas);
  return { el, draw };
}
