// What a page gets from the router: its <main>, timers that stop when the user navigates
// away, and live() for sections that reload from the API on an interval.

import { h, fill } from './dom.js';
import { filterBox } from './table.js';
import { refusal } from './access.js';

export const REFRESH_MS = 5000;

export class PageContext {
  constructor(main) {
    this.main = main;
    // { name, tags } of the logged-in user (from /api/whoami), set by app.js before the
    // page renders; null on the login page.
    this.me = null;
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
  // the user's pointer. Returns { el, refresh } for reloading after a change. Only the
  // latest refresh fills the section, so an answer about what the page showed before
  // (another vhost) never replaces a newer one. A refused call (401 "Not administrator
  // user", ...) shows the broker's reason as a notice.
  live(load, render) {
    const el = h('div', { class: 'live', 'aria-busy': 'true' }, h('p', { class: 'empty' }, 'Loading…'));
    let latest = 0;
    const refresh = async () => {
      if (el.querySelector('.armed')) return;
      const mine = ++latest;
      try {
        const data = await load();
        if (!this.closed && mine === latest) fill(el, render(data));
      } catch (e) {
        if (this.closed || mine !== latest) return;
        fill(el, e.refused ? refusal(e, this.me) : h('p', { class: 'form-error', role: 'alert' }, `Could not load: ${e.message}`));
      }
      if (mine === latest) el.setAttribute('aria-busy', 'false');
    };
    refresh();
    this.every(REFRESH_MS, refresh);
    return { el, refresh };
  }

  // A live list with a name filter: draw(list, filter, reload) makes the table from what
  // load() answered, and typing in the box redraws it without asking the API again.
  // Returns { el, box, refresh }; the page puts the box in its header.
  filteredLive(load, draw, placeholder) {
    let filter = '';
    let latest = [];
    const section = this.live(async () => { latest = await load(); return latest; },
      (list) => draw(list, filter, section.refresh));
    const box = filterBox((f) => { filter = f; fill(section.el, draw(latest, filter, section.refresh)); }, placeholder);
    return { ...section, box };
  }
}

export function header(title, ...extra) {
  return h('div', { class: 'page-head' }, h('h1', null, title), extra);
}

// The controls at the right of a list page's header (vhost choice, name filter).
export function tools(...controls) {
  return h('div', { class: 'page-tools' }, controls);
}
