// Admin → Users: every user with its tags, limits and the vhosts it has permissions in;
// add a user (name, password, tags); delete one (not the one logged in: that would end the
// session halfway). Changing a user is on its own page (admin_user.js).

import { h, append } from '../dom.js';
import { table } from '../table.js';
import { field, form, dangerButton } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { adminPage } from '../admin.js';
import { tagsPicker, tagBadges } from '../tags.js';
import { limitsOf, limitsText } from '../limits.js';
import { tools } from '../page.js';
import { users, userLimits, permissions, putUser, deleteUser } from '../resources.js';

const userHref = (name) => `#/admin/users/${encodeURIComponent(name)}`;

async function load() {
  const [list, limits, perms] = await Promise.all([users(), userLimits(), permissions()]);
  return list.map((u) => ({
    ...u,
    limitValues: limitsOf(limits, 'user', u.name),
    vhosts: perms.filter((p) => p.user === u.name).map((p) => p.vhost).sort(),
  }));
}

function userTable(list, filter, me, reload) {
  const rows = list.filter((u) => u.name.toLowerCase().includes(filter)).sort((a, b) => a.name.localeCompare(b.name));
  return table([
    { title: 'Name', cell: (u) => h('a', { href: userHref(u.name) }, u.name) },
    { title: 'Tags', cell: (u) => tagBadges(u.tags) },
    // RabbitMQ lists an empty hash for a user made without a password
    { title: 'Password', cell: (u) => (u.password_hash ? 'set' : h('span', { class: 'muted' }, 'none')) },
    { title: 'Virtual hosts', cell: (u) => (u.vhosts.length ? u.vhosts.join(', ') : h('span', { class: 'muted' }, 'no permissions')) },
    { title: 'Limits', cell: (u) => limitsText(u.limitValues) },
    { title: '', cell: (u) => (u.name === me?.name ? h('span', { class: 'muted', title: 'Log in as another administrator to delete this user' }, 'you')
      : dangerButton('Delete', async () => {
        if (await attempt('Delete', () => deleteUser(u.name))) { ok(`User '${u.name}' deleted`); reload(); }
      })) },
  ], rows, { label: 'Users', empty: filter ? 'No user matches the filter.' : 'No users.' });
}

function createForm(onCreated) {
  const name = h('input', { type: 'text', name: 'username', required: true, autocomplete: 'off', spellcheck: 'false' });
  const password = h('input', { type: 'password', name: 'new-password', autocomplete: 'new-password' });
  const tags = tagsPicker([], 'new-user-tags');
  return form({
    label: 'Add a user',
    submit: 'Add user',
    children: [
      h('div', { class: 'row' }, field('Username', name),
        field('Password', password, 'Empty: the user cannot log in with a password.')),
      tags.el,
    ],
    onSubmit: async () => {
      const body = { tags: tags.value().join(',') };
      if (password.value) body.password = password.value;
      await putUser(name.value, body);
      onCreated();
      return `User '${name.value}' added`;
    },
    done: (f) => { f.reset(); },
  });
}

export function render(ctx) {
  const head = adminPage(ctx, 'users', 'Users');
  if (!head) return;
  const list = ctx.filteredLive(load, (users, filter, reload) => userTable(users, filter, ctx.me, reload));
  head.append(tools(list.box));
  append(ctx.main, list.el, createForm(list.refresh));
}
