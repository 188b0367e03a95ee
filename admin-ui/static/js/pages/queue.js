// One queue: its numbers, which policy and operator policy apply and what they add up to,
// the dead letters it holds and redriving them where they died (queue_redrive.js), the
// bindings that feed it (add / remove), get messages, browse its messages to delete or
// move chosen ones (queue_messages.js), purge and delete. A stream (type "stream") shows
// its offsets, segments and size, where each consumer is and how far behind, and the
// offsets kept for tracking consumers; it has no get and no purge (the broker refuses
// both, as RabbitMQ does), but it can be browsed from an offset or a time without
// consuming anything, a page at a time.

import { h, fill, append } from '../dom.js';
import { badges, table } from '../table.js';
import { field, select, form, dangerButton } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { count, rate, statRate, bytes, time } from '../format.js';
import { header } from '../page.js';
import { bindingsTable, bindingForm, argumentsText } from '../bindings_ui.js';
import { QUEUE_FEATURES } from './queues.js';
import { messagesForm } from './queue_messages.js';
import { redriveCard } from './queue_redrive.js';
import { queue, queueBindings, purgeQueue, deleteQueue, getMessages, browseStream, exchanges } from '../resources.js';

function facts(q) {
  const rows = [
    ['Virtual host', q.vhost],
    ['Type', q.type || 'classic'],
    ['Features', badges(q, QUEUE_FEATURES)],
    ['Arguments', h('code', null, argumentsText(q.arguments) || 'none')],
    ['State', q.state || 'running'],
    ['Consumers', count(q.consumers)],
    ['Ready', count(q.messages_ready)],
    ['Unacknowledged', count(q.messages_unacknowledged)],
    ['Total', count(q.messages)],
    ['Incoming', rate(statRate(q, 'publish'))],
    ['Deliver / get', rate(statRate(q, 'deliver_get'))],
    ['Acknowledge', rate(statRate(q, 'ack'))],
    ['Policy', q.policy || 'none'],
    ['Operator policy', q.operator_policy || 'none'],
    ['Effective policy definition', definitionText(q.effective_policy_definition)],
  ];
  return h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', { 'data-fact': k }, v)]));
}

function streamFacts(q) {
  const rows = [
    ['First offset', count(q.first_offset)],
    ['Last offset', q.last_offset === null ? 'none (empty)' : count(q.last_offset)],
    ['Segments', count(q.segments)],
    ['Size', bytes(q.stream_bytes)],
  ];
  return [
    h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', { 'data-fact': k }, v)])),
    h('h3', null, 'Consumers'),
    table([
      { title: 'Consumer tag', cell: (c) => c.consumer_tag },
      { title: 'Next offset', num: true, cell: (c) => count(c.offset) },
      { title: 'Lag (messages)', num: true, cell: (c) => count(c.lag) },
      { title: 'Prefetch', num: true, cell: (c) => count(c.prefetch_count) },
    ], q.consumer_details || [], { empty: 'No consumer reads this stream.', label: 'Stream consumers' }),
    h('h3', null, 'Tracked offsets'),
    table([
      { title: 'Consumer tag', cell: (t) => t.consumer_tag },
      { title: 'Last acknowledged offset', num: true, cell: (t) => count(t.offset) },
    ], q.tracked_offsets || [], { empty: 'No consumer tracks its offset here.', label: 'Tracked offsets' }),
  ];
}

// The keys that apply after the policy and the operator policy were merged (as the broker
// worked them out: the lower of the two limits, and so on), one per line.
function definitionText(definition) {
  const entries = Object.entries(definition || {});
  if (!entries.length) return 'none';
  return h('ul', { class: 'plain' }, entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) =>
    h('li', null, h('code', null, `${k}: ${JSON.stringify(v)}`))));
}

// A message as get and browse show it; `place` is what sets it apart (its queue facts or its offset).
function message(m, title, place) {
  const props = Object.entries(m.properties || {});
  return h('article', { class: 'message' },
    h('h3', null, title),
    h('dl', { class: 'facts' },
      place.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
      h('dt', null, 'Exchange'), h('dd', null, m.exchange === '' ? '(AMQP default)' : m.exchange),
      h('dt', null, 'Routing key'), h('dd', null, h('code', null, m.routing_key)),
      props.map(([k, v]) => [h('dt', null, k), h('dd', null, h('code', null, typeof v === 'object' ? JSON.stringify(v) : String(v)))]),
      h('dt', null, 'Payload'), h('dd', null, `${bytes(m.payload_bytes)}, ${m.payload_encoding}`)),
    h('pre', { class: 'payload' }, m.payload));
}

const queued = (m, i) => message(m, `Message ${i + 1}`, [
  ['Redelivered', m.redelivered ? 'yes' : 'no'], ['Left in queue', count(m.message_count)]]);
const streamed = (m) => message(m, `Offset ${m.offset}`, [['Appended', time(m.appended_at)]]);

// Browsing a stream from an offset or a time; "Next page" goes on from the last message shown.
function browseForm(vhost, name) {
  const output = h('div', { class: 'messages', 'aria-live': 'polite' });
  const offset = h('input', { type: 'number', name: 'offset', min: 0, placeholder: 'first' });
  const from = h('input', { type: 'datetime-local', name: 'from_time', step: 1 });
  const howMany = h('input', { type: 'number', name: 'limit', min: 1, max: 1000, value: 20 });
  const next = h('button', { type: 'button', hidden: true }, 'Next page');
  let nextOffset = 0;
  const show = async (where) => {
    const page = await browseStream(vhost, name, { ...where, limit: Number(howMany.value) || 20 });
    nextOffset = page.next_offset;
    fill(output, page.messages.length ? page.messages.map(streamed)
      : h('p', { class: 'empty' }, 'No message there yet.'));
    next.hidden = !page.messages.length;
  };
  next.addEventListener('click', () => show({ offset: nextOffset }));
  const el = form({
    label: 'Browse stream',
    submit: 'Browse',
    children: [h('div', { class: 'row' }, field('From offset', offset), field('or from time', from),
      field('Messages', howMany))],
    onSubmit: () => show(from.value ? { fromTime: new Date(from.value).getTime() }
      : { offset: offset.value === '' ? undefined : Number(offset.value) }),
  });
  el.append(output, h('div', { class: 'actions' }, next));
  return el;
}

function getForm(vhost, name, onGot) {
  const output = h('div', { class: 'messages', 'aria-live': 'polite' });
  const howMany = h('input', { type: 'number', name: 'count', min: 1, max: 1000, value: 1 });
  const mode = select('ackmode', [
    ['ack_requeue_true', 'Look only (requeue)'],
    ['ack_requeue_false', 'Take them (ack, removes from queue)'],
  ]);
  const el = form({
    label: 'Get messages',
    submit: 'Get messages',
    children: [h('div', { class: 'row' }, field('Messages', howMany), field('Mode', mode))],
    onSubmit: async () => {
      const got = await getMessages(vhost, name, Number(howMany.value) || 1, mode.value);
      fill(output, got.length ? got.map(queued) : h('p', { class: 'empty' }, 'The queue is empty.'));
      onGot();
    },
  });
  el.append(output);
  return el;
}

export async function render(ctx, { vhost, name }, app) {
  const bindingsLive = ctx.live(() => queueBindings(vhost, name),
    (list) => bindingsTable(list, { hide: 'destination', onRemoved: () => bindingsLive.refresh() }));
  const first = await queue(vhost, name);
  const isStream = first.type === 'stream';
  const factsLive = ctx.live(() => queue(vhost, name), facts);
  const streamLive = isStream ? ctx.live(() => queue(vhost, name), streamFacts) : null;
  const exchangeNames = (await exchanges(vhost).catch(() => [])).map((x) => x.name);
  const danger = h('div', { class: 'actions' },
    !isStream && dangerButton('Purge', async () => {
      if (await attempt('Purge', () => purgeQueue(vhost, name))) { ok(`Queue '${name}' purged`); factsLive.refresh(); }
    }),
    dangerButton('Delete queue', async () => {
      if (await attempt('Delete', () => deleteQueue(vhost, name))) { ok(`Queue '${name}' deleted`); app.navigate('#/queues'); }
    }));
  append(ctx.main,
    header(name, h('span', { class: 'kind' }, isStream ? 'stream' : 'queue'),
      h('a', { href: '#/queues', class: 'back' }, '← all queues')),
    h('section', { class: 'card' }, h('h2', null, 'Details'), factsLive.el, danger),
    !isStream && redriveCard(ctx, vhost, name, () => factsLive.refresh()),
    isStream && h('section', { class: 'card', 'data-card': 'stream' }, h('h2', null, 'Stream'), streamLive.el),
    h('section', { class: 'card' }, h('h2', null, 'Bindings'), bindingsLive.el),
    bindingForm({ fixed: { vhost, destinationType: 'queue', destination: name }, exchanges: exchangeNames, onAdded: () => bindingsLive.refresh() }),
    isStream ? browseForm(vhost, name)
      : [getForm(vhost, name, () => factsLive.refresh()), messagesForm(vhost, name, () => factsLive.refresh())]);
}
