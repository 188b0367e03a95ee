// Admin → one user: its tags (set), password (change), limits (max-connections,
// max-channels), the vhosts it has permissions in, and delete.
//
// The API's PUT /api/users/{name} replaces the user, and one without password or
// password_hash leaves it with no password (RabbitMQ 3.10 and Roost), so setting the tags
// sends the stored hash back, and changing the password sends the current tags.

import { h, fill, append } from '../dom.js';
import { field, form, dangerButton } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { adminPage, permissionsTable } from '../admin.js';
import { tagList, tagsPicker, tagBadges } from '../tags.js';
import { limitsForm } from '../limits.js';
import { basicHeader, remember } from '../auth.js';
import { user, putUser, deleteUser, permissions } from '../resources.js';

function facts(u, perms) {
  return [
    h('dl', { class: 'facts' },
      h('dt', null, 'Tags'), h('dd', { 'data-fact': 'Tags' }, tagBadges(u.tags)),
      h('dt', null, 'Password'), h('dd', { 'data-fact': 'Password' }, u.password_hash ? `set (${u.hashing_algorithm || 'hashed'})` : 'none')),
    permissionsTable(perms.filter((p) => p.user === u.name), 'vhost',
      'No permissions in any virtual host: the user cannot open an AMQP connection.'),
  ];
}

function tagsForm(name, initial, onSaved) {
  const tags = tagsPicker(initial, 'user-tags');
  return form({
    label: 'Set tags',
    submit: 'Save tags',
    children: [tags.el, h('p', { class: 'hint' },
      'management: the dashboard and API for its own vhosts; monitoring: sees everything; policymaker: policies; administrator: everything.')],
    onSubmit: async () => {
      const current = await user(name);
      const body = { tags: tags.value().join(',') };
      // keep the password: without a hash the PUT would clear it
      if (current.password_hash) {
        body.password_hash = current.password_hash;
        body.hashing_algorithm = current.hashing_algorithm;
      }
      await putUser(name, body);
      onSaved();
      return `Tags of '${name}' saved`;
    },
  });
}

function passwordForm(name, isMe, onSaved) {
  const password = h('input', { type: 'password', name: 'new-password', autocomplete: 'new-password', required: true });
  const again = h('input', { type: 'password', name: 'repeat-password', autocomplete: 'new-password', required: true });
  return form({
    label: 'Change password',
    submit: 'Change password',
    children: h('div', { class: 'row' }, field('New password', password), field('Repeat it', again)),
    onSubmit: async () => {
      if (password.value !== again.value) throw new Error('The two passwords differ.');
      const current = await user(name);
      await putUser(name, { password: password.value, tags: tagList(current.tags).join(',') });
      // the dashboard's own login changed: keep the session working
      if (isMe) remember(name, basicHeader(name, password.value));
      onSaved();
      return `Password of '${name}' changed`;
    },
    done: (f) => { f.reset(); },
  });
}

export async function render(ctx, { name }, app) {
  if (!adminPage(ctx, 'users', name, h('span', { class: 'kind' }, 'user'), h('a', { href: '#/admin/users', class: 'back' }, '← all users'))) return;
  const isMe = name === ctx.me?.name;
  const details = ctx.live(async () => [await user(name), await permissions()], ([u, perms]) => facts(u, perms));
  const rest = h('div', { class: 'stack' });
  append(ctx.main, h('section', { class: 'card' }, h('h2', null, 'Details'), details.el,
    h('div', { class: 'actions' }, isMe ? h('span', { class: 'muted' }, 'This is you: log in as another administrator to delete it.')
      : dangerButton('Delete user', async () => {
        if (await attempt('Delete', () => deleteUser(name))) { ok(`User '${name}' deleted`); app.navigate('#/admin/users'); }
      }))), rest);
  const u = await user(name).catch(() => null);
  if (!u) return; // the details section shows why (no such user, refused)
  const saved = () => { details.refresh(); if (isMe) app.meChanged(); };
  const limits = await limitsForm('user', name);
  if (!ctx.closed) fill(rest, tagsForm(name, u.tags, saved), passwordForm(name, isMe, saved), limits);
}
