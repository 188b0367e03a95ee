// The bindings table and the add-binding form, shared by the exchange, queue and bindings
// pages. A binding is (source exchange, destination queue or exchange, routing key,
// arguments); removing one uses its properties_key as the API names it.

import { h } from './dom.js';
import { table } from './table.js';
import { exchangeLink, destinationLink } from './links.js';
import { field, text, select, form, argumentsEditor, dangerButton, BINDING_ARGUMENTS } from './forms.js';
import { attempt, ok } from './notify.js';
import { addBinding, removeBinding } from './resources.js';

export function argumentsText(args) {
  return args && Object.keys(args).length ? JSON.stringify(args) : '';
}

// opts.hide: 'source' or 'destination' (the page's own object); onRemoved: reload;
// showVhost: a Vhost column (lists of several vhosts).
export function bindingsTable(rows, { hide, onRemoved, empty, showVhost } = {}) {
  const columns = [
    showVhost && { title: 'Vhost', cell: (b) => b.vhost },
    hide !== 'source' && { title: 'From', cell: (b) => exchangeLink(b.vhost, b.source) },
    hide !== 'destination' && { title: 'To', cell: (b) => [h('span', { class: 'muted' }, `${b.destination_type} `), destinationLink(b)] },
    { title: 'Routing key', cell: (b) => h('code', null, b.routing_key) },
    { title: 'Arguments', cell: (b) => h('code', null, argumentsText(b.arguments)) },
    { title: '', cell: (b) => (b.source === '' ? h('span', { class: 'muted', title: 'Every queue is bound to the default exchange by its name' }, 'implicit')
      : dangerButton('Unbind', async () => {
        if (await attempt('Unbind', () => removeBinding(b))) { ok('Binding removed'); onRemoved(); }
      })) },
  ].filter(Boolean);
  return table(columns, rows, { empty: empty || 'No bindings.', label: 'Bindings' });
}

// Names offered in a datalist: lists of names, or of API objects ({ vhost, name }) from
// which those of the vhost are taken.
function namesIn(list, vhost) {
  return list.filter((o) => typeof o === 'string' || o.vhost === vhost).map((o) => (typeof o === 'string' ? o : o.name));
}

// fixed: { vhost, source } or { vhost, destinationType, destination } for detail pages;
// on the bindings page { vhost }, or nothing with vhosts (names) to choose from when the
// page shows every vhost. exchanges, queues: names (or API objects) offered.
export function bindingForm({ fixed, vhosts = [], exchanges = [], queues = [], onAdded }) {
  const source = text('source', { required: true, list: 'binding-sources', placeholder: 'exchange name' });
  const vhostChoice = select('vhost', vhosts, vhosts.includes('/') ? '/' : vhosts[0]);
  const vhost = () => fixed.vhost ?? vhostChoice.value;
  const destType = select('destination_type', [['queue', 'Queue'], ['exchange', 'Exchange']]);
  const destination = text('destination', { required: true, list: 'binding-destinations', placeholder: 'queue or exchange name' });
  const key = text('routing_key', { placeholder: 'e.g. orders.*.created' });
  const args = argumentsEditor(BINDING_ARGUMENTS, 'binding-args');
  const destinationNames = () => namesIn(destType.value === 'queue' ? queues : exchanges, vhost());
  const destList = h('datalist', { id: 'binding-destinations' });
  const sourceList = h('datalist', { id: 'binding-sources' });
  const fillLists = () => {
    destList.replaceChildren(...destinationNames().map((n) => h('option', { value: n })));
    sourceList.replaceChildren(...namesIn(exchanges, vhost()).filter((n) => n !== '').map((n) => h('option', { value: n })));
  };
  destType.addEventListener('change', fillLists);
  vhostChoice.addEventListener('change', fillLists);
  fillLists();
  const children = [
    sourceList,
    destList,
    fixed.vhost === undefined ? field('Virtual host', vhostChoice) : null,
    h('div', { class: 'row' },
      fixed.source === undefined ? field('From exchange', source) : null,
      fixed.destination === undefined ? [field('Destination type', destType), field('To', destination)] : null,
      field('Routing key', key, 'Topic: * is one word, # zero or more. Fanout ignores it.')),
    args.el,
  ];
  return form({
    label: 'Add binding',
    submit: 'Bind',
    children,
    onSubmit: async () => {
      const src = fixed.source ?? source.value;
      const type = fixed.destinationType ?? destType.value;
      const dst = fixed.destination ?? destination.value;
      await addBinding(vhost(), src, type, dst, key.value, args.value());
      onAdded();
      return `Bound ${type} '${dst}' to '${src}'`;
    },
  });
}
