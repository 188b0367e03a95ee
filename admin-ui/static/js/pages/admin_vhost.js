// Admin → one virtual host: description and tags (edit), limits (max-connections,
// max-queues), who has permissions in it, and delete.

import { h, fill, append } from '../dom.js';
import { table } from '../table.js';
import { field, text, form, dangerButton } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { count } from '../format.js';
import { adminPage, tagBadges, limitsForm, limitsOf } from '../admin.js';
import { tagList } from '../access.js';
import { vhost, putVhost, deleteVhost, vhostLimits, setVhostLimit, clearVhostLimit, permissions } from '../resources.js';

export const VHOST_LIMITS = [
  ['max-connections', 'Client connections to this vhost at once.'],
  ['max-queues', 'Queues that may exist in this vhost.'],
];

const descriptionOf = (v) => v.description ?? v.metadata?.description ?? '';
const tagsOf = (v) => tagList(v.tags ?? v.metadata?.tags);

function facts(v, perms) {
  const here = perms.filter((p) => p.vhost === v.name).sort((a, b) => a.user.localeCompare(b.user));
  return [
    h('dl', { class: 'facts' },
      h('dt', null, 'Description'), h('dd', { 'data-fact': 'Description' }, descriptionOf(v) || '–'),
      h('dt', null, 'Tags'), h('dd', { 'data-fact': 'Tags' }, tagBadges(tagsOf(v))),
      h('dt', null, 'Messages'), h('dd', { 'data-fact': 'Messages' }, count(v.messages))),
    h('h3', null, 'Permissions'),
    table([
      { title: 'User', cell: (p) => p.user },
      { title: 'Configure', cell: (p) => h('code', null, p.configure) },
      { title: 'Write', cell: (p) => h('code', null, p.write) },
      { title: 'Read', cell: (p) => h('code', null, p.read) },
    ], here, { label: 'Permissions', empty: 'Nobody has permissions here yet.' }),
    h('p', null, h('a', { href: '#/admin/permissions' }, 'Edit permissions in the matrix →')),
  ];
}

function editForm(name, v, onSaved) {
  const description = text('description', { value: descriptionOf(v) });
  const tags = text('tags', { value: tagsOf(v).join(', '), placeholder: 'comma-separated' });
  return form({
    label: 'Description and tags',
    submit: 'Save',
    children: h('div', { class: 'row' }, field('Description', description), field('Tags', tags)),
    onSubmit: async () => {
      await putVhost(name, { description: description.value, tags: tagList(tags.value).join(',') });
      onSaved();
      return `Virtual host '${name}' saved`;
    },
  });
}

export async function render(ctx, { name }, app) {
  if (!adminPage(ctx, 'vhosts', name, h('span', { class: 'kind' }, 'virtual host'),
    h('a', { href: '#/admin/vhosts', class: 'back' }, '← all virtual hosts'))) return;
  const details = ctx.live(async () => [await vhost(name), await permissions()], ([v, perms]) => facts(v, perms));
  const rest = h('div', { class: 'stack' });
  append(ctx.main, h('section', { class: 'card' }, h('h2', null, 'Details'), details.el,
    h('div', { class: 'actions' }, dangerButton('Delete virtual host', async () => {
      if (await attempt('Delete', () => deleteVhost(name))) {
        ok(`Virtual host '${name}' deleted`);
        app.vhostsChanged();
        app.navigate('#/admin/vhosts');
      }
    }))), rest);
  let v;
  let limits;
  try {
    [v, limits] = await Promise.all([vhost(name), vhostLimits(name)]);
  } catch {
    return; // the details section shows why
  }
  if (ctx.closed) return;
  fill(rest,
    editForm(name, v, () => details.refresh()),
    limitsForm({
      label: 'Limits',
      limits: VHOST_LIMITS,
      current: limitsOf(limits, 'vhost', name),
      set: (limit, value) => setVhostLimit(name, limit, value),
      clear: (limit) => clearVhostLimit(name, limit),
      onSaved: async () => limitsOf(await vhostLimits(name), 'vhost', name),
    }));
}
