// Connections: who is connected, from where, with what client, and a close button (the
// client gets connection.close 320 CONNECTION_FORCED with the reason).

import { h, append } from '../dom.js';
import { table, filterBox } from '../table.js';
import { dangerButton } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { count, byteRate, time } from '../format.js';
import { header, tools } from '../page.js';
import { vhostFilter, currentVhost } from '../vhost_filter.js';
import { connections, closeConnection } from '../resources.js';

function client(c) {
  const p = c.client_properties || {};
  return [p.product, p.version].filter(Boolean).join(' ') || '–';
}

function connectionTable(list, filter, reload) {
  const rows = list.filter((c) => c.name.toLowerCase().includes(filter)).sort((a, b) => a.name.localeCompare(b.name));
  return table([
    { title: 'Name', cell: (c) => c.name },
    { title: 'User', cell: (c) => c.user },
    { title: 'Vhost', cell: (c) => c.vhost },
    { title: 'Client', cell: client },
    { title: 'Protocol', cell: (c) => h('span', { class: 'nowrap' }, c.protocol || '–') },
    { title: 'Channels', num: true, cell: (c) => count(c.channels) },
    { title: 'State', cell: (c) => c.state || '–' },
    { title: 'From client', num: true, cell: (c) => byteRate(c.recv_oct_details?.rate) },
    { title: 'To client', num: true, cell: (c) => byteRate(c.send_oct_details?.rate) },
    { title: 'Connected', cell: (c) => time(c.connected_at) },
    { title: '', cell: (c) => dangerButton('Close', async () => {
      if (await attempt('Close', () => closeConnection(c.name))) { ok(`Connection ${c.name} closed`); reload(); }
    }) },
  ], rows, {
    label: 'Connections',
    empty: filter ? 'No connection matches the filter.' : 'No clients are connected.',
  });
}

export async function render(ctx, _params, app) {
  const names = await app.vhostNames();
  let vhost = currentVhost(names);
  let filter = '';
  let latest = [];
  const live = ctx.live(async () => { latest = await connections(vhost); return latest; }, (list) => connectionTable(list, filter, () => live.refresh()));
  const chooser = vhostFilter(names, vhost, (v) => { vhost = v; live.refresh(); });
  append(ctx.main,
    header('Connections', tools(chooser, filterBox((f) => { filter = f; live.el.replaceChildren(connectionTable(latest, filter, () => live.refresh())); }, 'Filter by name'))),
    live.el);
}
