// Pieces the Admin pages share: the section's tabs and the tag check in front of every
// page, the tags picker, and the limits form used by the user and vhost pages.

import { h, fill } from './dom.js';
import { field, text, form } from './forms.js';
import { header } from './page.js';
import { ADMIN_PAGES, KNOWN_TAGS, adminPagesFor, tagList } from './access.js';

function tabs(me, current) {
  return h('nav', { class: 'tabs', 'aria-label': 'Admin' }, adminPagesFor(me).map(([key, label, href]) =>
    h('a', { href, 'aria-current': key === current ? 'page' : null }, label)));
}

// Starts an Admin page: the tabs the user's tags allow and the page header. Returns false
// (after saying why) when the tags do not allow this page; the broker would refuse its
// calls with 401 "Not administrator user" anyway.
export function adminPage(ctx, key, title, ...extra) {
  const [, label, , may] = ADMIN_PAGES.find(([k]) => k === key);
  if (!may(ctx.me)) {
    const tags = tagList(ctx.me?.tags);
    ctx.main.append(header(label), h('div', { class: 'notice', role: 'alert' },
      h('strong', null, 'Not available to this user. '),
      `${label} need${label.endsWith('s') ? '' : 's'} the administrator tag${key === 'policies' ? ' (or policymaker)' : ''}; `,
      `user '${ctx.me?.name ?? '?'}' has ${tags.length ? `the tags ${tags.join(', ')}` : 'no tags'}.`));
    return false;
  }
  ctx.main.append(tabs(ctx.me, key), header(title, ...extra));
  return true;
}

// Checkboxes for the tags RabbitMQ knows and a text box for any others (comma-separated).
// value() is the list of tags.
export function tagsPicker(selected = [], idPrefix = 'tags') {
  const chosen = new Set(tagList(selected));
  const boxes = KNOWN_TAGS.map((tag) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: `${idPrefix}-${tag}`, value: tag, checked: chosen.has(tag) }), ' ', tag));
  const other = text(`${idPrefix}-other`, { placeholder: 'other tags, comma-separated',
    value: [...chosen].filter((t) => !KNOWN_TAGS.includes(t)).join(', ') });
  const el = h('fieldset', { class: 'tags' }, h('legend', { class: 'field-label' }, 'Tags'),
    h('div', { class: 'checks' }, boxes), field('Other tags', other));
  return {
    el,
    value() {
      const known = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
      return [...new Set([...known, ...tagList(other.value)])];
    },
  };
}

export function tagBadges(tags) {
  const list = tagList(tags);
  return list.length ? list.map((t) => h('span', { class: 'badge' }, t)) : h('span', { class: 'muted' }, 'none');
}

// limits: [[name, hint]]; current: { name: value } as the API lists it. An empty box
// clears the limit; a number sets it. Saving sends only what changed.
export function limitsForm({ label, limits, current, set, clear, onSaved }) {
  const inputs = limits.map(([name]) => h('input', {
    type: 'number', name, min: 0, step: 1, placeholder: 'no limit', value: current[name] ?? '',
  }));
  const summary = h('p', { class: 'muted' });
  const describe = (values) => fill(summary, limits.map(([name]) => `${name}: ${values[name] ?? 'no limit'}`).join(' · '));
  describe(current);
  return form({
    label,
    submit: 'Save limits',
    children: [summary, h('div', { class: 'row' },
      limits.map(([name, hint], i) => field(name, inputs[i], hint)))],
    onSubmit: async () => {
      const changes = [];
      limits.forEach(([name], i) => {
        const raw = inputs[i].value.trim();
        const was = current[name];
        if (raw === '' && was !== undefined) changes.push(() => clear(name));
        if (raw !== '') {
          const n = Number(raw);
          if (!Number.isInteger(n)) throw new Error(`${name}: '${raw}' is not a whole number`);
          if (n !== was) changes.push(() => set(name, n));
        }
      });
      if (!changes.length) return 'No limit changed';
      for (const change of changes) await change();
      const saved = await onSaved();
      current = saved;
      describe(saved);
      return 'Limits saved';
    },
  });
}

// { name: value } from a limits listing ([{ user | vhost, value: {...} }]) for one object.
export function limitsOf(list, key, name) {
  return (list || []).find((l) => l[key] === name)?.value || {};
}

export function limitsText(values) {
  const entries = Object.entries(values || {});
  return entries.length ? entries.map(([k, v]) => `${k}: ${v}`).join(', ') : '–';
}
