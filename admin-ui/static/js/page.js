// What a page gets from the router: its <main>, timers that stop when the user navigates
// away, and live() for sections that reload from the API on an interval.

import { h, fill } from './dom.js';

export const REFRESH_MS = 5000;

export class PageContext {
  constructor(main) {
    this.main = main;
    this.timers = [];
    this.closed = false;
  }

  every(ms, fn) {
    this.timers.push(setInterval(() => { if (!this.closed && !document.hidden) fn(); }, ms));
  }

  close() {
    this.closed = true;
    this.timers.forEach(clearInterval);
  }

  // A section filled by render(data) from load(), now and every REFRESH_MS. A refresh is
  // skipped while a two-step delete button in it is armed, so it does not disarm under
  // the user's pointer. Returns { el, refresh } for reloading after a change.
  live(load, render) {
    const el = h('div', { class: 'live', 'aria-busy': 'true' }, h('p', { class: 'empty' }, 'Loading…'));
    const refresh = async () => {
      if (el.querySelector('.armed')) return;
      try {
        const data = await load();
        if (!this.closed) fill(el, render(data));
      } catch (e) {
        if (!this.closed) fill(el, h('p', { class: 'form-error', role: 'alert' }, `Could not load: ${e.message}`));
      }
      el.setAttribute('aria-busy', 'false');
    };
    refresh();
    this.every(REFRESH_MS, refresh);
    return { el, refresh };
  }
}

export function header(title, ...extra) {
  return h('div', { class: 'page-head' }, h('h1', null, title), extra);
}
