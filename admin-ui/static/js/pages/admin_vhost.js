// Admin → one virtual host: description and tags (edit), limits (max-connections,
// max-queues), who has permissions in it, and delete.

import { h, fill, append } from '../dom.js';
import { field, text, form, dangerButton } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { count } from '../format.js';
import { adminPage, permissionsTable } from '../admin.js';
import { tagList, tagBadges } from '../tags.js';
import { limitsForm } from '../limits.js';
import { vhost, putVhost, deleteVhost, permissions } from '../resources.js';

const descriptionOf = (v) => v.description ?? v.metadata?.description ?? '';
const tagsOf = (v) => tagList(v.tags ?? v.metadata?.tags);

function facts(v, perms) {
  return [
    h('dl', { class: 'facts' },
      h('dt', null, 'Description'), h('dd', { 'data-fact': 'Description' }, descriptionOf(v) || '–'),
      h('dt', null, 'Tags'), h('dd', { 'data-fact': 'Tags' }, tagBadges(tagsOf(v))),
      h('dt', null, 'Messages'), h('dd', { 'data-fact': 'Messages' }, count(v.messages))),
    permissionsTable(perms.filter((p) => p.vhost === v.name), 'user', 'Nobody has permissions here yet.'),
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
  const v = await vhost(name).catch(() => null);
  if (!v) return; // the details section shows why (no such vhost, refused)
  const limits = await limitsForm('vhost', name);
  if (!ctx.closed) fill(rest, editForm(name, v, () => details.refresh()), limits);
}
