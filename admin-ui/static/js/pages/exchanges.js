// Exchanges: the list with type, features and rates, a name filter, and a form to declare one.

import { h } from '../dom.js';
import { table, badges, byName } from '../table.js';
import { field, text, check, select, form, argumentsEditor, dangerButton, EXCHANGE_ARGUMENTS } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { rate, statRate } from '../format.js';
import { exchangeLink } from '../links.js';
import { vhostListPage } from '../list_page.js';
import { exchanges, declareExchange, deleteExchange } from '../resources.js';

export const EXCHANGE_TYPES = ['direct', 'fanout', 'topic', 'headers'];
export const EXCHANGE_FEATURES = [
  ['durable', 'D', 'durable'], ['auto_delete', 'AD', 'auto-delete'], ['internal', 'I', 'internal'],
];

// Built-in exchanges (the default one and amq.*) cannot be deleted.
const builtIn = (x) => x.name === '' || x.name.startsWith('amq.');

function exchangeTable(list, filter, reload) {
  const rows = list.filter((x) => x.name.toLowerCase().includes(filter)).sort(byName);
  const many = new Set(list.map((x) => x.vhost)).size > 1;
  return table([
    many && { title: 'Vhost', cell: (x) => x.vhost },
    { title: 'Name', cell: (x) => exchangeLink(x.vhost, x.name) },
    { title: 'Type', cell: (x) => x.type },
    { title: 'Features', cell: (x) => badges(x, EXCHANGE_FEATURES) },
    { title: 'In', num: true, cell: (x) => rate(statRate(x, 'publish_in')) },
    { title: 'Out', num: true, cell: (x) => rate(statRate(x, 'publish_out')) },
    { title: '', cell: (x) => (builtIn(x) ? null : dangerButton('Delete', async () => {
      if (await attempt('Delete', () => deleteExchange(x.vhost, x.name))) { ok(`Exchange '${x.name}' deleted`); reload(); }
    })) },
  ].filter(Boolean), rows, {
    label: 'Exchanges',
    empty: filter ? 'No exchange matches the filter.' : 'No exchanges.',
  });
}

function createForm(vhosts, chosen, onCreated) {
  const vhost = select('vhost', vhosts, chosen || '/');
  const name = text('name', { required: true, placeholder: 'e.g. orders' });
  const type = select('type', EXCHANGE_TYPES, 'direct');
  const args = argumentsEditor(EXCHANGE_ARGUMENTS, 'exchange-args');
  return form({
    label: 'Add an exchange',
    submit: 'Add exchange',
    children: [
      vhosts.length > 1 ? field('Virtual host', vhost) : null,
      h('div', { class: 'row' }, field('Name', name), field('Type', type)),
      h('div', { class: 'checks' }, check('Durable', 'durable', true), check('Auto-delete', 'auto_delete'), check('Internal', 'internal')),
      args.el,
    ],
    onSubmit: async (f) => {
      await declareExchange(vhost.value || '/', name.value, {
        type: type.value, durable: f.durable.checked, auto_delete: f.auto_delete.checked,
        internal: f.internal.checked, arguments: args.value(),
      });
      onCreated();
      return `Exchange '${name.value}' declared`;
    },
    done: (f) => { f.name.value = ''; },
  });
}

export function render(ctx, _params, app) {
  return vhostListPage(ctx, app, { title: 'Exchanges', load: exchanges, draw: exchangeTable, createForm });
}
