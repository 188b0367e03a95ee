// Connections: who is connected, from where, with what client, and a close button (the
// client gets connection.close 320 CONNECTION_FORCED with the reason).

import { h } from '../dom.js';
import { table } from '../table.js';
import { dangerButton } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { count, byteRate, time } from '../format.js';
import { vhostListPage } from '../list_page.js';
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

export function render(ctx, _params, app) {
  return vhostListPage(ctx, app, { title: 'Connections', load: connections, draw: connectionTable, placeholder: 'Filter by name' });
}
