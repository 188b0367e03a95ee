// Scheduled: the messages delaying exchanges (x-delayed-message) hold back in one vhost,
// which Roost's API lists and RabbitMQ's plugin cannot: how many each exchange holds and
// how many fall due within the next minute, hour and day, then the messages by due time,
// filtered and a page at a time; selected ones are cancelled, released now or rescheduled
// (scheduled_list.js). The API answers for one vhost at a time, so the choice has no "All".

import { h, append } from '../dom.js';
import { table } from '../table.js';
import { count, fromNow } from '../format.js';
import { header, tools } from '../page.js';
import { vhostFilter, currentVhost } from '../vhost_filter.js';
import { scheduledList } from './scheduled_list.js';
import { scheduled } from '../resources.js';

// The summary covers the whole vhost whatever the list shows; one message is the least a
// page may hold, and its by_exchange and due_within are what is wanted here.
const SUMMARY_LIMIT = 1;

// Cumulative: a message due within the minute is also due within the hour and the day.
function dueWithin(page) {
  const total = page.by_exchange.reduce((n, e) => n + e.messages, 0);
  const d = page.due_within;
  const rows = [['Next minute', d.minute], ['Next hour', d.hour], ['Next day', d.day], ['Later', total - d.day]];
  return table([
    { title: 'Due within', cell: ([label]) => label },
    { title: 'Messages', num: true, cell: ([, n]) => count(n) },
    { title: 'Share', cell: ([, n]) => h('span', { class: 'bar', style: { '--fill': `${total ? (n / total) * 100 : 0}%` } }) },
  ], rows, { label: 'Due within' });
}

// narrow(exchange): show only that exchange's messages in the list.
function byExchange(page, narrow) {
  return table([
    { title: 'Exchange', cell: (e) => h('button', { type: 'button', class: 'link', title: 'Show only its messages',
      on: { click: () => narrow(e.exchange) } }, e.exchange) },
    { title: 'Messages', num: true, cell: (e) => count(e.messages) },
    { title: 'Next due', cell: (e) => fromNow(e.next_due_at) },
  ], page.by_exchange, {
    label: 'Scheduled by exchange',
    empty: 'Nothing is scheduled here. A message published to an x-delayed-message exchange with an x-delay header waits here until due.',
  });
}

export async function render(ctx, _params, app) {
  const names = await app.vhostNames();
  let vhost = currentVhost(names) || (names.includes('/') ? '/' : names[0] ?? '/');
  const list = scheduledList(ctx, () => vhost, () => summary.refresh());
  const summary = ctx.live(() => scheduled(vhost, { limit: SUMMARY_LIMIT }), (page) => {
    list.exchangesAre(page.by_exchange.map((e) => e.exchange));
    if (!page.by_exchange.length) return byExchange(page, list.narrow); // says how messages get here
    return h('div', { class: 'charts' },
      h('div', null, h('h3', null, 'By exchange'), byExchange(page, list.narrow)),
      h('div', null, h('h3', null, 'Falls due'), dueWithin(page)));
  });
  const chooser = vhostFilter(names, vhost, (chosen) => {
    vhost = chosen;
    list.reset();
    summary.refresh();
  }, { all: false });
  append(ctx.main, header('Scheduled', tools(chooser)),
    h('section', { class: 'card', 'data-card': 'schedule' }, h('h2', null, 'Schedule'), summary.el),
    list.el);
}
