// User limits (max-connections, max-channels) and vhost limits (max-connections,
// max-queues): how the API lists them, and the form on the user and vhost pages that sets
// and clears them.

import { h, fill } from './dom.js';
import { field, form } from './forms.js';
import {
  userLimits, setUserLimit, clearUserLimit, vhostLimits, setVhostLimit, clearVhostLimit,
} from './resources.js';

// kind → its API calls and [limit, what it caps].
const KINDS = {
  user: {
    list: userLimits, set: setUserLimit, clear: clearUserLimit,
    limits: [
      ['max-connections', 'Connections the user may have open at once.'],
      ['max-channels', 'Channels the user may have open at once, over all its connections.'],
    ],
  },
  vhost: {
    list: vhostLimits, set: setVhostLimit, clear: clearVhostLimit,
    limits: [
      ['max-connections', 'Client connections to this vhost at once.'],
      ['max-queues', 'Queues that may exist in this vhost.'],
    ],
  },
};

// { limit: value } of one user or vhost from a listing ([{ user | vhost, value: {...} }]).
export function limitsOf(list, kind, name) {
  return (list || []).find((l) => l[kind] === name)?.value || {};
}

export function limitsText(values) {
  const entries = Object.entries(values || {});
  return entries.length ? entries.map(([k, v]) => `${k}: ${v}`).join(', ') : '–';
}

// The "Limits" form of a user or vhost (kind 'user' or 'vhost'), filled with what is set
// now. An empty box clears a limit, a number sets it; saving sends only what changed.
export async function limitsForm(kind, name) {
  const { list, set, clear, limits } = KINDS[kind];
  const load = async () => limitsOf(await list(name), kind, name);
  let current = await load();
  const inputs = limits.map(([limit]) => h('input', {
    type: 'number', name: limit, min: 0, step: 1, placeholder: 'no limit', value: current[limit] ?? '',
  }));
  const summary = h('p', { class: 'muted' });
  const describe = () => fill(summary, limits.map(([limit]) => `${limit}: ${current[limit] ?? 'no limit'}`).join(' · '));
  describe();
  return form({
    label: 'Limits',
    submit: 'Save limits',
    children: [summary, h('div', { class: 'row' }, limits.map(([limit, hint], i) => field(limit, inputs[i], hint)))],
    onSubmit: async () => {
      const changes = limits.map(([limit], i) => {
        const raw = inputs[i].value.trim();
        if (raw === '') return current[limit] === undefined ? null : () => clear(name, limit);
        const value = Number(raw);
        if (!Number.isInteger(value)) throw new Error(`${limit}: '${raw}' is not a whole number`);
        return value === current[limit] ? null : () => set(name, limit, value);
      }).filter(Boolean);
      if (!changes.length) return 'No limit changed';
      for (const change of changes) await change();
      current = await load();
      describe();
      return 'Limits saved';
    },
  });
}
