// The shape the list pages share (queues, exchanges, connections, channels): a header with
// the vhost choice and a name filter, a live table of what the API lists for the chosen
// vhost, and optionally a form to add one.

import { append } from './dom.js';
import { header, tools } from './page.js';
import { vhostFilter, currentVhost } from './vhost_filter.js';

// load(vhost): the API call ('' lists every vhost); draw(list, filter, reload): the table;
// createForm(vhostNames, vhost, reload): the form to add one, whose 'vhost' select (absent
// when there is one vhost) then follows the choice.
export async function vhostListPage(ctx, app, { title, load, draw, placeholder, createForm }) {
  const names = await app.vhostNames();
  let vhost = currentVhost(names);
  const list = ctx.filteredLive(() => load(vhost), draw, placeholder);
  const create = createForm ? createForm(names, vhost, list.refresh) : null;
  const chooser = vhostFilter(names, vhost, (chosen) => {
    vhost = chosen;
    if (chosen && create?.elements.vhost) create.elements.vhost.value = chosen;
    list.refresh();
  });
  append(ctx.main, header(title, tools(chooser, list.box)), list.el, create);
}
