// The policy editor: kind (policy or operator policy), vhost, name, pattern, apply-to,
// priority, and the definition as one typed input per known key (numbers, the three
// overflow modes, exchange names) plus a JSON box for any other key. Keys that do not
// apply to the chosen apply-to are disabled; an operator policy offers only the keys
// RabbitMQ allows in one. It PUTs /api/{policies,operator-policies}/{vhost}/{name}.

import { h, fill } from './dom.js';
import { field, text, select, form } from './forms.js';
import { putPolicy } from './resources.js';

// [key, input type, hint, applies to ('queues' | 'exchanges')]
const POLICY_KEYS = [
  ['message-ttl', 'number', 'Milliseconds a message may wait in the queue.', 'queues'],
  ['expires', 'number', 'Milliseconds unused before the queue is deleted.', 'queues'],
  ['max-length', 'number', 'Messages the queue holds at most.', 'queues'],
  ['max-length-bytes', 'number', 'Bytes of message bodies the queue holds at most.', 'queues'],
  ['overflow', ['drop-head', 'reject-publish', 'reject-publish-dlx'], 'What happens at the limit (default drop-head).', 'queues'],
  ['dead-letter-exchange', 'exchange', 'Where expired, rejected and dropped messages go.', 'queues'],
  ['dead-letter-routing-key', 'text', 'Routing key for dead letters (default: their own).', 'queues'],
  ['delivery-limit', 'number', 'Redeliveries before a message is dead-lettered or dropped.', 'queues'],
  ['alternate-exchange', 'exchange', 'Where messages that no binding routes go.', 'exchanges'],
];
const OPERATOR_KEYS = ['message-ttl', 'expires', 'max-length', 'max-length-bytes', 'delivery-limit'];
export const KIND_LABELS = { policies: 'Policy', 'operator-policies': 'Operator policy' };
const APPLY_TO = [['all', 'Queues and exchanges'], ['queues', 'Queues'], ['exchanges', 'Exchanges']];

// RabbitMQ escapes HTML in a policy's refusal ("&lt;&lt;\"5\"&gt;&gt; is not a valid
// message TTL"); shown as text, the characters it meant read better.
function unescapeHtml(textValue) {
  return textValue.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

function keyInput(key, type) {
  if (Array.isArray(type)) return select(key, [['', '(not set)'], ...type]);
  // no min: the broker checks the value and its reason is shown
  if (type === 'number') return h('input', { type: 'number', name: key, step: 1 });
  return text(key, type === 'exchange' ? { list: 'policy-exchanges' } : {});
}

// vhosts: names offered; mayOperator: show the kind choice (administrators only);
// exchangesIn(vhost): exchange names for the dead-letter / alternate exchange boxes;
// onSaved() after a successful PUT.
export function policyEditor({ vhosts, mayOperator, exchangesIn, onSaved }) {
  const kind = select('kind', Object.entries(KIND_LABELS), 'policies');
  const vhost = select('vhost', vhosts, vhosts.includes('/') ? '/' : vhosts[0]);
  const name = text('name', { required: true, placeholder: 'e.g. job-limits' });
  const pattern = text('pattern', { required: true, placeholder: 'e.g. ^jobs\\.' });
  const applyTo = select('apply-to', APPLY_TO, 'all');
  const priority = h('input', { type: 'number', name: 'priority', value: 0, step: 1 });
  const inputs = new Map(POLICY_KEYS.map(([key, type]) => [key, keyInput(key, type)]));
  const fields = new Map(POLICY_KEYS.map(([key, , hint]) => [key, field(key, inputs.get(key), hint)]));
  const other = h('textarea', { name: 'other-keys', rows: 2, placeholder: '{"key": "value"}' });
  const exchangeList = h('datalist', { id: 'policy-exchanges' });

  // Operator policies take only some keys; apply-to leaves the others without effect.
  const sync = () => {
    const operator = kind.value === 'operator-policies';
    for (const [key, , , target] of POLICY_KEYS) {
      fields.get(key).hidden = operator && !OPERATOR_KEYS.includes(key);
      inputs.get(key).disabled = applyTo.value !== 'all' && applyTo.value !== target;
    }
  };
  [kind, applyTo].forEach((el) => el.addEventListener('change', sync));
  // The exchange names offered are filled in when an exchange box gets the focus, from
  // what the page last listed in the chosen vhost.
  for (const [key, type] of POLICY_KEYS) {
    if (type !== 'exchange') continue;
    inputs.get(key).addEventListener('focus', () =>
      fill(exchangeList, exchangesIn(vhost.value).filter((n) => n !== '').map((n) => h('option', { value: n }))));
  }

  const definition = () => {
    const out = {};
    for (const [key, type] of POLICY_KEYS) {
      const input = inputs.get(key);
      if (input.disabled || fields.get(key).hidden || input.value.trim() === '') continue;
      if (type === 'number') {
        const n = Number(input.value);
        if (!Number.isInteger(n)) throw new Error(`${key}: '${input.value}' is not a whole number`);
        out[key] = n;
      } else {
        out[key] = input.value;
      }
    }
    if (other.value.trim()) {
      let extra;
      try { extra = JSON.parse(other.value); } catch (e) { throw new Error(`Other keys: not JSON (${e.message})`); }
      if (!extra || typeof extra !== 'object' || Array.isArray(extra)) throw new Error('Other keys: a JSON object, as {"key": "value"}');
      Object.assign(out, extra);
    }
    if (!Object.keys(out).length) throw new Error('Set at least one key of the definition.');
    return out;
  };

  const el = form({
    label: 'Add or update a policy',
    submit: 'Save policy',
    children: [
      exchangeList,
      h('div', { class: 'row' },
        mayOperator ? field('Kind', kind, 'Operator policies cap what users set (administrators only).') : null,
        field('Virtual host', vhost), field('Name', name, 'An existing name is replaced.')),
      h('div', { class: 'row' },
        field('Pattern', pattern, 'A regular expression searched in queue / exchange names: ^ and $ anchor it.'),
        field('Apply to', applyTo),
        field('Priority', priority, 'The matching policy with the highest priority applies, alone.')),
      h('fieldset', { class: 'definition' }, h('legend', { class: 'field-label' }, 'Definition'),
        h('div', { class: 'row' }, [...fields.values()]),
        field('Other keys (JSON)', other)),
    ],
    onSubmit: async () => {
      const body = { pattern: pattern.value, definition: definition(), priority: Number(priority.value || 0), 'apply-to': applyTo.value };
      try {
        await putPolicy(kind.value, vhost.value, name.value, body);
      } catch (e) {
        throw new Error(unescapeHtml(e.message));
      }
      onSaved();
      return `${KIND_LABELS[kind.value]} '${name.value}' saved in '${vhost.value}'`;
    },
  });
  sync();

  return {
    el,
    // Fills the form with a listed policy to change it.
    edit(policyKind, p) {
      kind.value = policyKind;
      if (![...vhost.options].some((o) => o.value === p.vhost)) vhost.append(h('option', { value: p.vhost }, p.vhost));
      vhost.value = p.vhost;
      name.value = p.name;
      pattern.value = p.pattern;
      applyTo.value = p['apply-to'] || 'all';
      priority.value = p.priority ?? 0;
      const rest = { ...(p.definition || {}) };
      for (const [key] of POLICY_KEYS) {
        inputs.get(key).value = key in rest ? String(rest[key]) : '';
        delete rest[key];
      }
      other.value = Object.keys(rest).length ? JSON.stringify(rest) : '';
      sync();
      el.scrollIntoView({ block: 'start' });
      pattern.focus();
    },
    // Starts the form in a vhost (the page's choice).
    setVhost(v) {
      if (v && [...vhost.options].some((o) => o.value === v)) vhost.value = v;
    },
  };
}
