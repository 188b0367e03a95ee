// Admin → Permissions: a matrix of users × virtual hosts, each cell showing the configure /
// write / read patterns (or none); choosing a cell opens an editor below it to set or
// clear them. Then topic permissions: every (user, vhost, exchange) with its write / read
// patterns, set per exchange and cleared per user and vhost (the API's DELETE clears all
// of a user's topic permissions in a vhost at once).

import { h, fill, append } from '../dom.js';
import { table } from '../table.js';
import { field, text, select, form, dangerButton } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { adminPage } from '../admin.js';
import {
  users, vhosts, permissions, setPermissions, clearPermissions,
  topicPermissions, setTopicPermissions, clearTopicPermissions,
} from '../resources.js';

const KINDS = [['configure', 'Configure'], ['write', 'Write'], ['read', 'Read']];

async function load() {
  const [us, vs, perms, topics] = await Promise.all([users(), vhosts(), permissions(), topicPermissions()]);
  return {
    users: us.map((u) => u.name).sort(),
    vhosts: vs.map((v) => v.name).sort(),
    perms,
    topics,
  };
}

const find = (perms, userName, vhostName) => perms.find((p) => p.user === userName && p.vhost === vhostName);

function cellText(p) {
  if (!p) return h('span', { class: 'muted' }, 'none');
  return h('span', { class: 'perm' }, KINDS.map(([k]) => h('span', { class: 'perm-line' },
    h('span', { class: 'perm-kind' }, k[0]), ' ', h('code', null, p[k] === '' ? '(nothing)' : p[k]))));
}

// The matrix: a row per user, a column per vhost; every cell is a button.
function matrix(data, selected, onPick) {
  if (!data.users.length || !data.vhosts.length) return h('p', { class: 'empty' }, 'No users or no virtual hosts.');
  const head = h('tr', null, h('th', { scope: 'col' }, 'User \\ vhost'), data.vhosts.map((v) => h('th', { scope: 'col' }, v)));
  const rows = data.users.map((u) => h('tr', null, h('th', { scope: 'row' }, u), data.vhosts.map((v) => {
    const p = find(data.perms, u, v);
    const isSelected = selected && selected.user === u && selected.vhost === v;
    return h('td', { 'data-label': v, class: p ? 'has-perm' : null },
      h('button', {
        type: 'button', class: `cell-button${isSelected ? ' selected' : ''}`, 'aria-label': `Permissions of ${u} in ${v}`,
        'aria-pressed': isSelected ? 'true' : 'false', on: { click: () => onPick(u, v) },
      }, cellText(p)));
  })));
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'matrix', 'aria-label': 'Permissions matrix' }, h('thead', null, head), h('tbody', null, rows)));
}

// Set / clear one cell. Empty patterns are allowed (they grant nothing).
function cellEditor(userName, vhostName, current, onChanged) {
  const inputs = KINDS.map(([k]) => text(k, { value: current ? current[k] : '.*', 'aria-label': k }));
  const el = form({
    label: `Permissions of ${userName} in ${vhostName}`,
    submit: current ? 'Save permissions' : 'Grant permissions',
    children: [
      h('p', { class: 'hint' }, 'Regular expressions matched against resource names: .* is everything, an empty one is nothing, ^app\\. only names starting with "app.".'),
      h('div', { class: 'row' }, KINDS.map(([, label], i) => field(label, inputs[i]))),
    ],
    onSubmit: async () => {
      const body = Object.fromEntries(KINDS.map(([k], i) => [k, inputs[i].value]));
      await setPermissions(vhostName, userName, body);
      onChanged();
      return `Permissions of '${userName}' in '${vhostName}' saved`;
    },
  });
  if (current) {
    el.querySelector('.actions').append(dangerButton('Clear permissions', async () => {
      if (await attempt('Clear', () => clearPermissions(vhostName, userName))) {
        ok(`Permissions of '${userName}' in '${vhostName}' cleared`);
        onChanged();
      }
    }));
  }
  return el;
}

function topicTable(list, reload) {
  const rows = [...list].sort((a, b) => a.user.localeCompare(b.user) || a.vhost.localeCompare(b.vhost) || a.exchange.localeCompare(b.exchange));
  return table([
    { title: 'User', cell: (t) => t.user },
    { title: 'Virtual host', cell: (t) => t.vhost },
    { title: 'Exchange', cell: (t) => t.exchange },
    { title: 'Write', cell: (t) => h('code', null, t.write) },
    { title: 'Read', cell: (t) => h('code', null, t.read) },
    { title: '', cell: (t) => dangerButton('Clear', async () => {
      if (await attempt('Clear', () => clearTopicPermissions(t.vhost, t.user))) { ok(`Topic permissions of '${t.user}' in '${t.vhost}' cleared`); reload(); }
    }, 'Clear all of this user here?') },
  ], rows, { label: 'Topic permissions', empty: 'No topic permissions: topic exchanges check only the write / read permissions above.' });
}

function topicForm(data, onSet) {
  const userSel = select('user', data.users);
  const vhostSel = select('vhost', data.vhosts, data.vhosts.includes('/') ? '/' : data.vhosts[0]);
  const exchange = text('exchange', { value: 'amq.topic', required: true });
  const write = text('write', { value: '.*' });
  const read = text('read', { value: '.*' });
  return form({
    label: 'Set topic permissions',
    submit: 'Set topic permissions',
    children: [
      h('p', { class: 'hint' }, 'For topic exchanges: write is matched against the routing key of a publish, read against the binding key of a bind.'),
      h('div', { class: 'row' }, field('User', userSel), field('Virtual host', vhostSel), field('Exchange', exchange)),
      h('div', { class: 'row' }, field('Write', write), field('Read', read)),
    ],
    onSubmit: async () => {
      await setTopicPermissions(vhostSel.value, userSel.value, { exchange: exchange.value, write: write.value, read: read.value });
      onSet();
      return `Topic permissions of '${userSel.value}' on '${exchange.value}' set`;
    },
  });
}

export function render(ctx) {
  if (!adminPage(ctx, 'permissions', 'Permissions')) return;
  let selected = null; // { user, vhost } being edited
  let latest = null;
  let shown = null; // the permissions the editor was opened with, as JSON
  let topicNames = null;
  const editorSlot = h('div');
  const topicFormSlot = h('div');
  const currentOf = (data) => (selected ? find(data.perms, selected.user, selected.vhost) : undefined);
  const openEditor = () => {
    if (!selected || !latest) { fill(editorSlot); return; }
    const current = currentOf(latest);
    shown = JSON.stringify(current || null);
    fill(editorSlot, cellEditor(selected.user, selected.vhost, current, () => grid.refresh()));
  };
  const draw = (data) => {
    latest = data;
    // rebuilt only when the users or vhosts it offers changed
    const names = JSON.stringify([data.users, data.vhosts]);
    if (names !== topicNames) {
      topicNames = names;
      fill(topicFormSlot, data.users.length && data.vhosts.length ? topicForm(data, () => grid.refresh()) : null);
    }
    return [
      matrix(data, selected, (u, v) => { selected = { user: u, vhost: v }; fill(grid.el, draw(latest)); openEditor(); }),
      h('h2', { class: 'spaced' }, 'Topic permissions'),
      topicTable(data.topics, () => grid.refresh()),
    ];
  };
  // Every reload redraws the matrix; the editor is redrawn only when its cell changed
  // under it (saved, cleared, or changed elsewhere), so typing in it is not lost to the
  // 5 s refresh.
  const grid = ctx.live(load, (data) => {
    const out = draw(data);
    if (selected && JSON.stringify(currentOf(data) || null) !== shown) openEditor();
    return out;
  });
  append(ctx.main,
    h('p', { class: 'muted' }, 'Choose a cell to grant, change or clear what a user may do in a virtual host (c: configure, w: write, r: read).'),
    h('section', { class: 'card' }, grid.el),
    editorSlot,
    topicFormSlot);
}
