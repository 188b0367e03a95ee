// Admin → Virtual hosts: every vhost with its description, tags, limits and messages; add
// one (name, description, tags); delete one (the broker closes its connections and removes
// everything in it). Limits and edits are on the vhost's own page (admin_vhost.js).

import { h, append } from '../dom.js';
import { table } from '../table.js';
import { field, text, form, dangerButton } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { count } from '../format.js';
import { adminPage } from '../admin.js';
import { tagList, tagBadges } from '../tags.js';
import { limitsOf, limitsText } from '../limits.js';
import { tools } from '../page.js';
import { vhosts, vhostLimits, putVhost, deleteVhost } from '../resources.js';

const vhostHref = (name) => `#/admin/vhosts/${encodeURIComponent(name)}`;

async function load() {
  const [list, limits] = await Promise.all([vhosts(), vhostLimits()]);
  return list.map((v) => ({ ...v, limitValues: limitsOf(limits, 'vhost', v.name) }));
}

function vhostTable(list, filter, reload) {
  const rows = list.filter((v) => v.name.toLowerCase().includes(filter)).sort((a, b) => a.name.localeCompare(b.name));
  return table([
    { title: 'Name', cell: (v) => h('a', { href: vhostHref(v.name) }, v.name) },
    { title: 'Description', cell: (v) => v.description || v.metadata?.description || '' },
    { title: 'Tags', cell: (v) => tagBadges(v.tags ?? v.metadata?.tags) },
    { title: 'Limits', cell: (v) => limitsText(v.limitValues) },
    { title: 'Messages', num: true, cell: (v) => count(v.messages) },
    { title: '', cell: (v) => dangerButton('Delete', async () => {
      if (await attempt('Delete', () => deleteVhost(v.name))) { ok(`Virtual host '${v.name}' deleted`); reload(); }
    }) },
  ], rows, { label: 'Virtual hosts', empty: filter ? 'No virtual host matches the filter.' : 'No virtual hosts.' });
}

function createForm(onCreated) {
  const name = text('name', { required: true, placeholder: 'e.g. shop' });
  const description = text('description');
  const tags = text('tags', { placeholder: 'comma-separated' });
  return form({
    label: 'Add a virtual host',
    submit: 'Add virtual host',
    children: h('div', { class: 'row' }, field('Name', name), field('Description', description), field('Tags', tags)),
    onSubmit: async () => {
      await putVhost(name.value, { description: description.value, tags: tagList(tags.value).join(',') });
      onCreated();
      return `Virtual host '${name.value}' added (you get full permissions in it)`;
    },
    done: (f) => { f.reset(); },
  });
}

export function render(ctx, _params, app) {
  const head = adminPage(ctx, 'vhosts', 'Virtual hosts');
  if (!head) return;
  // the vhost choice of the list pages offers what exists
  const changed = () => { app.vhostsChanged(); list.refresh(); };
  const list = ctx.filteredLive(load, (vhosts, filter) => vhostTable(vhosts, filter, changed));
  head.append(tools(list.box));
  append(ctx.main, list.el, createForm(changed));
}
