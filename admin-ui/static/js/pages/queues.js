// Queues: every queue with its depth, rates and consumers, a name filter, and a form to
// declare one with arguments.

import { h } from '../dom.js';
import { table, badges, byName } from '../table.js';
import { field, text, check, form, argumentsEditor, select, dangerButton, QUEUE_ARGUMENTS } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { count, rate, statRate } from '../format.js';
import { queueLink } from '../links.js';
import { vhostListPage } from '../list_page.js';
import { queues, declareQueue, deleteQueue } from '../resources.js';

export const QUEUE_FEATURES = [
  ['durable', 'D', 'durable'], ['auto_delete', 'AD', 'auto-delete'], ['exclusive', 'Excl', 'exclusive'],
];

function queueTable(list, filter, reload) {
  const rows = list.filter((q) => q.name.toLowerCase().includes(filter)).sort(byName);
  const many = new Set(list.map((q) => q.vhost)).size > 1;
  return table([
    many && { title: 'Vhost', cell: (q) => q.vhost },
    { title: 'Name', cell: (q) => queueLink(q.vhost, q.name) },
    { title: 'Type', cell: (q) => q.type || 'classic' },
    { title: 'Features', cell: (q) => badges(q, QUEUE_FEATURES) },
    { title: 'State', cell: (q) => q.state || 'running' },
    { title: 'Ready', num: true, cell: (q) => count(q.messages_ready) },
    { title: 'Unacked', num: true, cell: (q) => count(q.messages_unacknowledged) },
    { title: 'Total', num: true, cell: (q) => count(q.messages) },
    { title: 'Incoming', num: true, cell: (q) => rate(statRate(q, 'publish')) },
    { title: 'Deliver / get', num: true, cell: (q) => rate(statRate(q, 'deliver_get')) },
    { title: 'Consumers', num: true, cell: (q) => count(q.consumers) },
    { title: '', cell: (q) => dangerButton('Delete', async () => {
      if (await attempt('Delete', () => deleteQueue(q.vhost, q.name))) { ok(`Queue '${q.name}' deleted`); reload(); }
    }) },
  ].filter(Boolean), rows, {
    label: 'Queues',
    empty: filter ? 'No queue matches the filter.' : 'No queues yet. Declare one below or from a client.',
  });
}

function createForm(vhosts, chosen, onCreated) {
  const vhost = select('vhost', vhosts, chosen || '/');
  const name = text('name', { required: true, placeholder: 'e.g. orders' });
  const args = argumentsEditor(QUEUE_ARGUMENTS, 'queue-args');
  return form({
    label: 'Add a queue',
    submit: 'Add queue',
    children: [
      vhosts.length > 1 ? field('Virtual host', vhost) : null,
      field('Name', name),
      h('div', { class: 'checks' }, check('Durable', 'durable', true), check('Auto-delete', 'auto_delete')),
      args.el,
    ],
    onSubmit: async (f) => {
      const props = { durable: f.durable.checked, auto_delete: f.auto_delete.checked, arguments: args.value() };
      await declareQueue(vhost.value || '/', name.value, props);
      onCreated();
      return `Queue '${name.value}' declared`;
    },
    done: (f) => { f.name.value = ''; },
  });
}

export function render(ctx, _params, app) {
  return vhostListPage(ctx, app, { title: 'Queues', load: queues, draw: queueTable, createForm });
}
