// The Scheduled page's messages: by due time, narrowed to an exchange and by conditions
// typed as in a queue's Browse messages (name=value), a page at a time, refreshed like
// every list. Selected messages are cancelled, released (due now) or rescheduled some
// seconds from now; the selection survives the refreshes, so it is not lost under the
// user's pointer.

import { h, fill } from '../dom.js';
import { table } from '../table.js';
import { field, text, select, form, dangerButton } from '../forms.js';
import { attempt, ok, fail } from '../notify.js';
import { count, time, fromNow } from '../format.js';
import { exchangeLink, queueLink } from '../links.js';
import { conditionsOf, preview } from './queue_messages.js';
import { scheduled, cancelScheduled, releaseScheduled, rescheduleScheduled } from '../resources.js';

const LIMIT = 20;

const messages = (n, what) => `${count(n)} ${n === 1 ? 'message' : 'messages'} ${what}`;

// vhostOf(): the vhost the page shows; onChanged: after an action (the page's summary follows).
// Returns { el, narrow(exchange), exchangesAre(names), reset() } for the page.
export function scheduledList(ctx, vhostOf, onChanged) {
  const filter = text('filter', { placeholder: 'routing_key=order.paid header.tenant=acme' });
  const exchange = select('exchange', [['', 'All exchanges']]);
  const howMany = h('input', { type: 'number', name: 'limit', min: 1, max: 1000, value: LIMIT });
  const delay = h('input', { type: 'number', name: 'delay', min: 0, placeholder: 'e.g. 3600' });
  let shown = { exchange: '', conditions: [], offset: 0, limit: LIMIT };
  const selected = new Set(); // scheduled ids; pruned to those still listed

  const box = (m) => h('input', {
    type: 'checkbox', name: 'message', value: m.id, checked: selected.has(m.id), 'aria-label': `Select scheduled message ${m.id}`,
    on: { change: (e) => { if (e.target.checked) selected.add(m.id); else selected.delete(m.id); } },
  });
  const queues = (m) => (m.queues.length ? m.queues.map((q, i) => [i ? ', ' : '', queueLink(vhostOf(), q)])
    : h('span', { class: 'muted', title: 'No queue was bound for it when it was published' }, 'none'));
  const columns = [
    { title: '', cell: box },
    { title: 'Due', cell: (m) => fromNow(m.due_at) },
    { title: 'Due at', cell: (m) => time(m.due_at) },
    { title: 'Exchange', cell: (m) => exchangeLink(vhostOf(), m.exchange) },
    { title: 'Routing key', cell: (m) => h('code', null, m.routing_key) },
    { title: 'Queues', cell: queues },
    { title: 'Message id', cell: (m) => m.properties?.message_id ?? '' },
    { title: 'Payload', cell: preview },
  ];

  // Runs an action on the selected messages, says what came of it, and shows the list again.
  const onSelected = (what, action) => async () => {
    const ids = [...selected];
    if (!ids.length) { fail(`${what}: select some messages first`); return; }
    let said;
    if (!(await attempt(what, async () => { said = await action({ ids }); }))) return;
    ok(said);
    selected.clear();
    list.refresh();
    onChanged();
  };
  const cancel = dangerButton('Cancel selected', onSelected('Cancel', async (pick) =>
    messages((await cancelScheduled(vhostOf(), pick)).cancelled, 'cancelled')));
  const release = h('button', { type: 'button', on: { click: onSelected('Release', async (pick) =>
    messages((await releaseScheduled(vhostOf(), pick)).released, 'released')) } }, 'Release selected now');
  const reschedule = h('button', { type: 'button', on: { click: onSelected('Reschedule', async (pick) => {
    if (delay.value === '') throw new Error('give the delay in seconds');
    const ms = Math.round(Number(delay.value) * 1000);
    const n = (await rescheduleScheduled(vhostOf(), pick, { delay: ms })).rescheduled;
    return `${messages(n, 'rescheduled')}, due ${fromNow(Date.now() + ms)}`;
  }) } }, 'Reschedule selected');
  // A plain div: hidden works on it (fieldset's display rule would win over the attribute).
  const actions = h('div', { hidden: true }, h('fieldset', null, h('legend', { class: 'field-label' }, 'Selected messages'),
    h('div', { class: 'row' }, field('Reschedule to (seconds from now)', delay)),
    h('div', { class: 'actions' }, release, reschedule, cancel)));

  const go = (offset) => { shown = { ...shown, offset }; list.refresh(); };
  const draw = (page) => {
    const listed = new Set(page.messages.map((m) => m.id));
    for (const id of selected) if (!listed.has(id)) selected.delete(id);
    actions.hidden = !page.messages.length;
    const range = page.messages.length ? `${count(shown.offset + 1)}–${count(page.next_offset)} of ${count(page.total)}` : '';
    const paging = h('div', { class: 'section-head spaced' }, h('span', { class: 'muted' }, range), h('div', { class: 'actions' },
      h('button', { type: 'button', disabled: !shown.offset, on: { click: () => go(Math.max(0, shown.offset - shown.limit)) } },
        'Previous page'),
      h('button', { type: 'button', disabled: page.next_offset >= page.total, on: { click: () => go(page.next_offset) } },
        'Next page')));
    return [
      table(columns, page.messages, {
        label: 'Scheduled messages',
        empty: shown.offset ? 'No messages this far: Previous page goes back.' : 'No scheduled message here.',
      }),
      (page.messages.length > 0 || shown.offset > 0) && paging,
    ];
  };
  const list = ctx.live(() => scheduled(vhostOf(), shown), draw);

  const el = form({
    label: 'Scheduled messages',
    submit: 'Show',
    children: [
      field('Filter', filter, 'name=value, space-separated, as in a queue\'s Browse messages: routing_key, message_id, ' +
        'correlation_id, header.<name>, has_header, body_contains, body_json.<a.b>, ... A value with spaces in "double quotes".'),
      h('div', { class: 'row' }, field('Exchange', exchange), field('Messages', howMany)),
    ],
    onSubmit: async () => {
      shown = { exchange: exchange.value, conditions: conditionsOf(filter.value), offset: 0, limit: Number(howMany.value) || LIMIT };
      await list.refresh();
    },
  });
  el.dataset.card = 'scheduled';
  el.append(list.el, actions);

  let exchangeNames = '';
  return {
    el,
    narrow(name) {
      exchange.value = name;
      shown = { ...shown, exchange: name, offset: 0 };
      list.refresh();
    },
    // The exchange choice offers those holding messages, and the one chosen even once it holds none.
    exchangesAre(names) {
      const offered = [...new Set([...names, exchange.value].filter(Boolean))].sort();
      if (offered.join('\n') === exchangeNames) return; // unchanged: an open dropdown stays open
      exchangeNames = offered.join('\n');
      const chosen = exchange.value;
      fill(exchange, h('option', { value: '' }, 'All exchanges'), offered.map((n) => h('option', { value: n, selected: n === chosen }, n)));
    },
    reset() {
      exchange.value = '';
      selected.clear();
      shown = { ...shown, exchange: '', offset: 0 };
      list.refresh();
    },
  };
}
