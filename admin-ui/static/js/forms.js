// Form building blocks: labelled inputs, the arguments editor (x-arguments and binding
// arguments), two-step delete buttons (no native confirm dialogs), and a submit wrapper that
// shows the broker's reason next to the form when an action fails.

import { h, fill } from './dom.js';
import { ok } from './notify.js';

export function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), input,
    hint ? h('small', { class: 'hint' }, hint) : null);
}

export function text(name, opts = {}) {
  return h('input', { type: 'text', name, autocomplete: 'off', spellcheck: 'false', ...opts });
}

export function select(name, options, selected) {
  return h('select', { name }, options.map((o) => {
    const [value, label] = Array.isArray(o) ? o : [o, o];
    return h('option', { value, selected: value === selected }, label);
  }));
}

export function check(label, name, checked = false) {
  return h('label', { class: 'check' }, h('input', { type: 'checkbox', name, checked }), ' ', label);
}

// Converts a typed argument value: "Number" and "Boolean" become JSON numbers / booleans.
function typed(key, raw, type) {
  if (type === 'Number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`argument ${key}: '${raw}' is not a number`);
    return n;
  }
  if (type === 'Boolean') {
    if (raw !== 'true' && raw !== 'false') throw new Error(`argument ${key}: use true or false`);
    return raw === 'true';
  }
  return raw;
}

// suggestions: [[key, type]] offered in a datalist (e.g. x-message-ttl Number).
export function argumentsEditor(suggestions = [], idPrefix = 'args') {
  const listId = `${idPrefix}-keys`;
  const rows = h('div', { class: 'args-rows' });
  const typeOf = new Map(suggestions);
  function addRow() {
    const key = text('arg-key', { placeholder: 'key', list: listId, 'aria-label': 'Argument key' });
    const value = text('arg-value', { placeholder: 'value', 'aria-label': 'Argument value' });
    const type = select('arg-type', ['String', 'Number', 'Boolean']);
    type.setAttribute('aria-label', 'Argument type');
    key.addEventListener('change', () => { if (typeOf.has(key.value)) type.value = typeOf.get(key.value); });
    const row = h('div', { class: 'args-row' }, key, value, type,
      h('button', { type: 'button', class: 'icon', title: 'Remove argument', 'aria-label': 'Remove argument',
                    on: { click: () => row.remove() } }, '×'));
    rows.append(row);
  }
  const el = h('div', { class: 'args' },
    h('span', { class: 'field-label' }, 'Arguments'),
    h('datalist', { id: listId }, suggestions.map(([k]) => h('option', { value: k }))),
    rows,
    h('button', { type: 'button', class: 'link', on: { click: addRow } }, '+ Add argument'));
  return {
    el,
    value() {
      const out = {};
      for (const row of rows.children) {
        const [key, value, type] = row.querySelectorAll('input, select');
        if (!key.value.trim()) continue;
        out[key.value.trim()] = typed(key.value.trim(), value.value, type.value);
      }
      return out;
    },
  };
}

// A delete/close button that asks again on the first click instead of a native dialog.
export function dangerButton(label, action, confirmLabel = `Really ${label.toLowerCase()}?`) {
  let armed = null;
  const button = h('button', { type: 'button', class: 'danger' }, label);
  button.addEventListener('click', async () => {
    if (!armed) {
      button.textContent = confirmLabel;
      button.classList.add('armed');
      armed = setTimeout(() => { armed = null; button.textContent = label; button.classList.remove('armed'); }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    // Disarmed before the action: a live section skips its refresh while a button in it is
    // armed, so the refresh the action asks for (onRemoved) would otherwise wait for the
    // next interval.
    button.classList.remove('armed');
    button.disabled = true;
    try { await action(); } finally {
      button.disabled = false;
      button.textContent = label;
    }
  });
  return button;
}

// A form whose submit runs onSubmit(form); errors appear inside it with the broker's reason.
export function form({ label, children, submit, onSubmit, done }) {
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, submit);
  const el = h('form', { class: 'card form', 'aria-label': label },
    h('h2', null, label), children, error, h('div', { class: 'actions' }, button));
  el.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    button.disabled = true;
    try {
      const message = await onSubmit(el);
      if (message) ok(message);
      if (done) done(el);
    } catch (err) {
      fill(error, err.message);
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

export const QUEUE_ARGUMENTS = [
  ['x-message-ttl', 'Number'], ['x-expires', 'Number'], ['x-max-length', 'Number'],
  ['x-max-length-bytes', 'Number'], ['x-overflow', 'String'], ['x-dead-letter-exchange', 'String'],
  ['x-dead-letter-routing-key', 'String'], ['x-max-priority', 'Number'], ['x-queue-mode', 'String'],
  ['x-single-active-consumer', 'Boolean'],
];
export const EXCHANGE_ARGUMENTS = [['alternate-exchange', 'String']];
export const BINDING_ARGUMENTS = [['x-match', 'String']];
