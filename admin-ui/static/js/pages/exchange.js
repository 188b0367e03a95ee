// One exchange: its settings, bindings from it and to it (add / remove), publishing a test
// message, delete.

import { h, append } from '../dom.js';
import { badges } from '../table.js';
import { field, text, select, form, dangerButton } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { rate, statRate } from '../format.js';
import { header } from '../page.js';
import { exchangeLabel } from '../links.js';
import { bindingsTable, bindingForm, argumentsText } from '../bindings_ui.js';
import { EXCHANGE_FEATURES } from './exchanges.js';
import { exchange, bindingsFrom, bindingsTo, deleteExchange, publish, exchanges, queues } from '../resources.js';

function facts(x) {
  const rows = [
    ['Virtual host', x.vhost], ['Type', x.type], ['Features', badges(x, EXCHANGE_FEATURES)],
    ['Arguments', h('code', null, argumentsText(x.arguments) || 'none')],
    ['In', rate(statRate(x, 'publish_in'))], ['Out', rate(statRate(x, 'publish_out'))],
    // the API has the field only on an exchange a policy applies to
    ['Policy', x.policy || 'none'],
  ];
  return h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', { 'data-fact': k }, v)]));
}

// Header lines "name: value" become the message's headers table.
function parseHeaders(textValue) {
  const out = {};
  for (const line of textValue.split('\n')) {
    if (!line.trim()) continue;
    const at = line.indexOf(':');
    if (at < 1) throw new Error(`header line '${line}' is not 'name: value'`);
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function publishForm(vhost, name) {
  const key = text('routing_key', { placeholder: 'routing key' });
  const payload = h('textarea', { name: 'payload', rows: 4, placeholder: 'message body' });
  const mode = select('delivery_mode', [['1', '1 - transient'], ['2', '2 - persistent']], '1');
  const contentType = text('content_type', { placeholder: 'e.g. application/json' });
  const headers = h('textarea', { name: 'headers', rows: 2, placeholder: 'one per line: name: value' });
  return form({
    label: 'Publish a message',
    submit: 'Publish',
    children: [
      field('Routing key', key),
      h('div', { class: 'row' }, field('Delivery mode', mode), field('Content type', contentType)),
      field('Headers', headers),
      field('Payload', payload),
    ],
    onSubmit: async () => {
      const properties = { delivery_mode: Number(mode.value), headers: parseHeaders(headers.value) };
      if (contentType.value) properties.content_type = contentType.value;
      const res = await publish(vhost, name, { properties, routing_key: key.value, payload: payload.value, payload_encoding: 'string' });
      if (!res.routed) throw new Error('Message published but not routed: no binding matched the routing key.');
      return 'Message published and routed';
    },
  });
}

export async function render(ctx, { vhost, name }, app) {
  const factsLive = ctx.live(() => exchange(vhost, name), facts);
  const from = ctx.live(() => bindingsFrom(vhost, name),
    (list) => bindingsTable(list, { hide: 'source', onRemoved: () => from.refresh(), empty: 'Nothing is bound to this exchange: messages published to it are dropped.' }));
  const to = ctx.live(() => bindingsTo(vhost, name),
    (list) => bindingsTable(list, { hide: 'destination', onRemoved: () => to.refresh(), empty: 'No exchange routes into this one.' }));
  const [xs, qs] = await Promise.all([exchanges(vhost).catch(() => []), queues(vhost).catch(() => [])]);
  const inVhost = (list) => list.map((o) => o.name);
  const refreshBoth = () => { from.refresh(); to.refresh(); };
  const isDefault = name === '';
  append(ctx.main, 
    header(exchangeLabel(name), h('span', { class: 'kind' }, 'exchange'), h('a', { href: '#/exchanges', class: 'back' }, '← all exchanges')),
    h('section', { class: 'card' }, h('h2', null, 'Details'), factsLive.el,
      isDefault || name.startsWith('amq.') ? null : h('div', { class: 'actions' }, dangerButton('Delete exchange', async () => {
        if (await attempt('Delete', () => deleteExchange(vhost, name))) { ok(`Exchange '${name}' deleted`); app.navigate('#/exchanges'); }
      }))),
    h('section', { class: 'card' }, h('h2', null, 'Bindings from this exchange'), from.el),
    h('section', { class: 'card' }, h('h2', null, 'Bindings to this exchange'), to.el),
    isDefault ? null : bindingForm({ fixed: { vhost, source: name }, exchanges: inVhost(xs), queues: inVhost(qs), onAdded: refreshBoth }),
    publishForm(vhost, name));
}
