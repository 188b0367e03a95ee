// Data tables: columns described once, rows from API objects, an empty state that says what
// would be here and how to get some, and a wrapper that scrolls sideways on narrow screens.

import { h } from './dom.js';

// columns: [{ title, cell: (row) => node|string, num: true for right-aligned numbers }]
export function table(columns, rows, { empty = 'Nothing here yet.', label } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  const head = h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.title)));
  const body = rows.map((row) =>
    h('tr', null, columns.map((c) => h('td', { class: c.num ? 'num' : null, 'data-label': c.title },
      h('span', { class: 'cell' }, c.cell(row))))));
  return h('div', { class: 'table-wrap' },
    h('table', { 'aria-label': label }, h('thead', null, head), h('tbody', null, body)));
}

// Small feature badges (durable, auto-delete, ...) as RabbitMQ's UI shows them.
export function badges(obj, names) {
  return names.filter(([key]) => obj[key]).map(([, text, title]) => h('span', { class: 'badge', title }, text));
}

export function byName(a, b) {
  return a.vhost === b.vhost ? a.name.localeCompare(b.name) : a.vhost.localeCompare(b.vhost);
}

// A text box that filters the rows of a list page by name (substring, case-insensitive).
export function filterBox(onChange, placeholder = 'Filter by name') {
  return h('input', {
    type: 'search', class: 'filter', placeholder, 'aria-label': placeholder,
    on: { input: (e) => onChange(e.target.value.toLowerCase()) },
  });
}
