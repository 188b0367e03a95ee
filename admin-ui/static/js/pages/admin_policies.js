// Admin → Policies: the policies and (for administrators) operator policies of the chosen
// vhost or of all, each with the queues and exchanges it applies to, and the editor.
//
// Which objects a policy applies to: the broker's own answer where the listing has it (the
// `policy` / `operator_policy` fields of queues, `policy` of exchanges), else worked out
// here as the broker does: the pattern searched in the name, apply-to, and of the matching
// policies of a kind the one with the highest priority (ties: the name that sorts first, as
// Roost; RabbitMQ's tie order is internal). Browser regular expressions are ECMAScript, the
// broker's are PCRE; a pattern only PCRE understands is shown as not matching anything here.

import { h, append } from '../dom.js';
import { table } from '../table.js';
import { dangerButton } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { queueLink, exchangeLink } from '../links.js';
import { adminPage } from '../admin.js';
import { isAdministrator } from '../access.js';
import { tools } from '../page.js';
import { vhostFilter, currentVhost } from '../vhost_filter.js';
import { policyEditor, KIND_LABELS } from '../policy_editor.js';
import { policies, deletePolicy, queues, exchanges } from '../resources.js';

const FIELD = { policies: 'policy', 'operator-policies': 'operator_policy' };
const TITLES = { policies: 'Policies', 'operator-policies': 'Operator policies' };
const MAX_SHOWN = 12;

function compile(pattern) {
  try { return new RegExp(pattern); } catch { return null; }
}

const appliesTo = (p, type) => (p['apply-to'] || 'all') === 'all' || p['apply-to'] === `${type}s`;

// Objects ({ type, vhost, name, obj }) a policy's pattern and apply-to select. Operator
// policies act on queues only; the default exchange takes no policy.
function candidates(p, kind, objects) {
  const re = compile(p.pattern);
  if (!re) return [];
  return objects.filter((o) => o.vhost === p.vhost && o.name !== '' && appliesTo(p, o.type)
    && (kind === 'policies' || o.type === 'queue') && re.test(o.name));
}

// The name of the policy of this kind in force on o: the broker's field when listed.
function winner(o, kind, list) {
  const listed = o.obj[FIELD[kind]];
  if (listed !== undefined) return listed || null;
  if (o.type === 'exchange' && kind === 'operator-policies') return null;
  const matching = list.filter((p) => candidates(p, kind, [o]).length)
    .sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0) || a.name.localeCompare(b.name));
  return matching[0]?.name ?? null;
}

function objectLink(o) {
  return [h('span', { class: 'muted' }, `${o.type} `), o.type === 'queue' ? queueLink(o.vhost, o.name) : exchangeLink(o.vhost, o.name)];
}

function appliesCell(p, kind, list, objects) {
  if (!compile(p.pattern)) return h('span', { class: 'muted' }, 'pattern not understood by the browser');
  const matched = candidates(p, kind, objects);
  const won = matched.filter((o) => winner(o, kind, list) === p.name);
  const lost = matched.filter((o) => winner(o, kind, list) !== p.name);
  const items = won.slice(0, MAX_SHOWN).map((o) => h('li', null, objectLink(o)));
  if (won.length > MAX_SHOWN) items.push(h('li', { class: 'muted' }, `and ${won.length - MAX_SHOWN} more`));
  return [
    won.length ? h('ul', { class: 'plain applies' }, items) : h('span', { class: 'muted' }, 'nothing yet'),
    lost.length ? h('p', { class: 'hint' }, `Also matches ${lost.length} where another wins: `,
      lost.slice(0, MAX_SHOWN).map((o, i) => [i ? ', ' : '', o.name, ` (${winner(o, kind, list) || 'none'})`])) : null,
  ];
}

function definitionCell(definition) {
  return h('ul', { class: 'plain' }, Object.entries(definition || {}).map(([k, v]) => h('li', null, h('code', null, `${k}: ${JSON.stringify(v)}`))));
}

function policyTable(kind, list, objects, { many, onEdit, reload }) {
  const rows = [...list].sort((a, b) => a.vhost.localeCompare(b.vhost) || (b.priority ?? 0) - (a.priority ?? 0) || a.name.localeCompare(b.name));
  return table([
    many && { title: 'Vhost', cell: (p) => p.vhost },
    { title: 'Name', cell: (p) => p.name },
    { title: 'Pattern', cell: (p) => h('code', null, p.pattern) },
    { title: 'Apply to', cell: (p) => p['apply-to'] || 'all' },
    { title: 'Priority', num: true, cell: (p) => String(p.priority ?? 0) },
    { title: 'Definition', cell: (p) => definitionCell(p.definition) },
    { title: 'Applies to', cell: (p) => appliesCell(p, kind, list, objects) },
    { title: '', cell: (p) => h('div', { class: 'actions' },
      h('button', { type: 'button', on: { click: () => onEdit(kind, p) } }, 'Edit'),
      dangerButton('Delete', async () => {
        if (await attempt('Delete', () => deletePolicy(kind, p.vhost, p.name))) { ok(`${KIND_LABELS[kind]} '${p.name}' deleted`); reload(); }
      })) },
  ].filter(Boolean), rows, {
    label: TITLES[kind],
    empty: kind === 'policies' ? 'No policies. Add one below.' : 'No operator policies.',
  });
}

export async function render(ctx, _params, app) {
  const names = await app.vhostNames();
  let vhost = currentVhost(names);
  const admin = isAdministrator(ctx.me);
  const kinds = admin ? ['policies', 'operator-policies'] : ['policies'];
  let objects = [];
  const chooser = vhostFilter(names, vhost, (v) => { vhost = v; editor.setVhost(v); lists.refresh(); });
  if (!adminPage(ctx, 'policies', 'Policies', tools(chooser))) return;

  // The policies of each kind, and the queues and exchanges they may apply to, of the
  // chosen vhost (or all).
  const load = async () => {
    const [qs, xs, ...perKind] = await Promise.all([queues(vhost), exchanges(vhost), ...kinds.map((k) => policies(k, vhost))]);
    objects = [...qs.map((o) => ({ type: 'queue', vhost: o.vhost, name: o.name, obj: o })),
      ...xs.map((o) => ({ type: 'exchange', vhost: o.vhost, name: o.name, obj: o }))];
    return perKind;
  };
  const lists = ctx.live(load, (perKind) => kinds.map((kind, i) => h('section', { class: 'card' },
    h('h2', null, TITLES[kind]),
    policyTable(kind, perKind[i], objects, {
      many: !vhost && new Set(perKind[i].map((p) => p.vhost)).size > 1,
      onEdit: (k, p) => editor.edit(k, p),
      reload: lists.refresh,
    }))));
  const editor = policyEditor({
    vhosts: names,
    mayOperator: admin,
    exchangesIn: (v) => objects.filter((o) => o.type === 'exchange' && o.vhost === v).map((o) => o.name),
    onSaved: lists.refresh,
  });
  editor.setVhost(vhost);
  lists.el.classList.add('stack');
  append(ctx.main,
    h('p', { class: 'muted' }, 'A policy sets queue and exchange options by name pattern, without redeclaring anything; an operator policy caps them (the lower value wins).'),
    lists.el,
    editor.el);
}
