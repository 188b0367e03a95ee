// A classic queue's messages, read without taking them: those a channel holds unacked
// first, then the ready ones in delivery order, filtered by conditions typed as
// name=value, a page at a time. Selected ready messages can be deleted or moved to another
// queue. Unacked ones have no box: the broker leaves them alone (it counts them skipped).

import { h, fill } from '../dom.js';
import { table } from '../table.js';
import { field, text, select, form, dangerButton } from '../forms.js';
import { attempt, ok, fail } from '../notify.js';
import { count, bytes } from '../format.js';
import { queues, browseMessages, deleteMessages, moveMessages } from '../resources.js';

// "routing_key=order.paid header.tenant=acme"; a value with spaces goes in double quotes
// (body_contains="out of stock"). The broker checks the names: it answers an unknown one
// with its reason, which the form shows. The Scheduled page's filter is typed the same way.
export function conditionsOf(typed) {
  const pair = /([^\s=]+)=(?:"([^"]*)"|([^\s"]*))(?:\s+|$)/y;
  const rest = typed.trim();
  const conditions = [];
  while (pair.lastIndex < rest.length) {
    const at = pair.lastIndex;
    const m = pair.exec(rest);
    if (!m) throw new Error(`'${rest.slice(at).split(/\s/)[0]}' is not name=value`);
    conditions.push([m[1], m[2] ?? m[3]]);
  }
  return conditions;
}

const PREVIEW_CHARS = 80;

export function preview(m) {
  if (m.payload_encoding === 'base64') return `${bytes(m.payload_bytes)} binary`;
  const payload = m.payload ?? '';
  return payload.length > PREVIEW_CHARS ? `${payload.slice(0, PREVIEW_CHARS)}…` : payload;
}

// x_death comes most recent first.
function died(m) {
  const last = m.x_death?.[0];
  return last ? h('span', { title: `from ${last.queue}, ${last.count} times` }, last.reason) : '';
}

const selectBox = (m) => m.state === 'ready'
  && h('input', { type: 'checkbox', name: 'message', value: m.id, 'aria-label': `Select message ${m.id}` });
const stateOf = (m) => (m.state === 'unacked' ? h('span', { title: `${m.channel}, consumer ${m.consumer_tag}` }, 'unacked') : m.state);

const COLUMNS = [
  { title: '', cell: selectBox },
  { title: 'Id', num: true, cell: (m) => m.id },
  { title: 'State', cell: stateOf },
  { title: 'Position', num: true, cell: (m) => count(m.position) },
  { title: 'Routing key', cell: (m) => h('code', null, m.routing_key) },
  { title: 'Redelivered', cell: (m) => (m.redelivered ? 'yes' : 'no') },
  { title: 'Delivery count', num: true, cell: (m) => count(m.delivery_count) },
  { title: 'Payload', cell: preview },
  { title: 'Dead-lettered', cell: died },
];

// Why some selected messages were not deleted or moved; the notice names only those that happened.
const NOT_DONE = [['skipped_unacked', 'unacknowledged'], ['skipped_gone', 'no longer in the queue'],
  ['unroutable', 'unroutable'], ['refused', 'refused by a full queue']];

function outcome(answer, verb, where = '') {
  const n = answer[verb];
  const notDone = NOT_DONE.filter(([key]) => answer[key]).map(([key, why]) => `${count(answer[key])} ${why}`);
  return `${count(n)} ${n === 1 ? 'message' : 'messages'} ${verb}${where}${notDone.length ? `; not ${verb}: ${notDone.join(', ')}` : ''}`;
}

export function messagesForm(vhost, name, onChanged) {
  const state = select('state', [['all', 'All'], ['ready', 'Ready'], ['unacked', 'Unacknowledged']]);
  const filter = text('filter', { placeholder: 'routing_key=order.paid header.tenant=acme' });
  const howMany = h('input', { type: 'number', name: 'limit', min: 1, max: 1000, value: 20 });
  const output = h('div', { class: 'messages', 'aria-live': 'polite' });
  const next = h('button', { type: 'button', hidden: true }, 'Next page');
  const targets = h('datalist', { id: 'message-targets' });
  const target = text('target_queue', { list: 'message-targets', placeholder: 'queue name' });
  // Only suggestions: without them the name is typed in full.
  queues(vhost).then((list) => fill(targets, list.filter((q) => q.name !== name).map((q) => h('option', { value: q.name }))))
    .catch(() => {});
  // The browse on screen: Next page goes on from it and an action shows it again.
  let shown = null;
  let nextOffset = 0;

  const selected = () => [...output.querySelectorAll('input[name="message"]:checked')].map((box) => box.value);
  // Runs a delete or move on the selected messages, says what came of it, and shows the page again.
  const onSelected = (what, action) => async () => {
    const ids = selected();
    if (!ids.length) { fail(`${what}: select some messages first`); return; }
    let said;
    if (!(await attempt(what, async () => { said = await action(ids); }))) return;
    ok(said);
    onChanged();
    await attempt('Browse', () => show(shown));
  };
  const remove = dangerButton('Delete selected', onSelected('Delete', async (ids) =>
    outcome(await deleteMessages(vhost, name, ids), 'deleted')));
  const move = h('button', { type: 'button', on: { click: onSelected('Move', async (ids) => {
    const to = target.value;
    return outcome(await moveMessages(vhost, name, ids, to), 'moved', ` to '${to}'`);
  }) } }, 'Move selected to queue');
  // A plain div: hidden works on it (fieldset's display rule would win over the attribute).
  const selection = h('div', { hidden: true }, h('fieldset', null, h('legend', { class: 'field-label' }, 'Selected messages'),
    h('div', { class: 'row' }, field('Move to queue', target)), h('div', { class: 'actions' }, remove, move)));

  const show = async (browse) => {
    const page = await browseMessages(vhost, name, browse);
    shown = browse;
    nextOffset = page.next_offset;
    fill(output, table(COLUMNS, page.messages, {
      label: 'Queue messages',
      // A filtered page stops after a bounded scan, so it can come back empty before the end.
      empty: page.at_end ? 'No messages here.' : 'None found in this stretch of the queue: Next page reads on.',
    }));
    next.hidden = false;
    next.disabled = page.at_end;
    selection.hidden = !page.messages.some((m) => m.state === 'ready');
  };
  next.addEventListener('click', () => attempt('Browse', () => show({ ...shown, offset: nextOffset })));

  const el = form({
    label: 'Browse messages',
    submit: 'Browse',
    children: [
      targets,
      field('Filter', filter, 'name=value, space-separated: routing_key, exchange, message_id, correlation_id, type, ' +
        'app_id, user_id, content_type, header.<name>, has_header, body_contains, body_json.<a.b>, ' +
        'min_delivery_count, redelivered, death_reason, death_queue. A value with spaces in "double quotes".'),
      h('div', { class: 'row' }, field('State', state), field('Messages', howMany)),
    ],
    onSubmit: () => show({ state: state.value, conditions: conditionsOf(filter.value), offset: 0, limit: Number(howMany.value) || 20 }),
  });
  el.dataset.card = 'messages';
  el.append(output, h('div', { class: 'actions' }, next), selection);
  return el;
}
