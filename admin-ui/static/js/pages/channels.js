// Channels: each open channel with its mode, prefetch, unacked messages, consumers and rates,
// and a button that closes the channel's connection (the API closes connections, not
// single channels).

import { table } from '../table.js';
import { dangerButton } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { count, rate, statRate } from '../format.js';
import { vhostListPage } from '../list_page.js';
import { channels, closeConnection } from '../resources.js';

function mode(c) {
  return [c.confirm && 'confirm', c.transactional && 'transactional'].filter(Boolean).join(', ') || '–';
}

function channelTable(list, filter, reload) {
  const rows = list.filter((c) => c.name.toLowerCase().includes(filter)).sort((a, b) => a.name.localeCompare(b.name));
  return table([
    // the name is "<connection name> (<channel number>)"
    { title: 'Channel', cell: (c) => c.name },
    { title: 'User', cell: (c) => c.user },
    { title: 'Vhost', cell: (c) => c.vhost },
    { title: 'Mode', cell: mode },
    { title: 'State', cell: (c) => c.state || '–' },
    { title: 'Prefetch', num: true, cell: (c) => count(c.prefetch_count) },
    { title: 'Unacked', num: true, cell: (c) => count(c.messages_unacknowledged) },
    { title: 'Consumers', num: true, cell: (c) => count(c.consumer_count) },
    { title: 'Publish', num: true, cell: (c) => rate(statRate(c, 'publish')) },
    { title: 'Deliver / get', num: true, cell: (c) => rate(statRate(c, 'deliver_get')) },
    { title: 'Ack', num: true, cell: (c) => rate(statRate(c, 'ack')) },
    { title: '', cell: (c) => (c.connection_details?.name ? dangerButton('Close connection', async () => {
      const name = c.connection_details.name;
      if (await attempt('Close', () => closeConnection(name))) { ok(`Connection ${name} closed`); reload(); }
    }, 'Really close?') : null) },
  ], rows, {
    label: 'Channels',
    empty: filter ? 'No channel matches the filter.' : 'No channels are open.',
  });
}

export function render(ctx, _params, app) {
  return vhostListPage(ctx, app, { title: 'Channels', load: channels, draw: channelTable, placeholder: 'Filter by name' });
}
