// Bindings: a drawing of how exchanges route to queues (one per virtual host), every
// binding in a table (remove), and a form to add one between any exchange and queue or
// exchange. The vhost choice of the list pages applies.

import { h, fill, append } from '../dom.js';
import { filterBox } from '../table.js';
import { check } from '../forms.js';
import { header, tools } from '../page.js';
import { vhostFilter, currentVhost } from '../vhost_filter.js';
import { bindingsTable, bindingForm } from '../bindings_ui.js';
import { routingView } from '../routing_view.js';
import { bindings, exchanges, queues } from '../resources.js';

// One drawing per vhost that has bindings to draw; a heading names the vhost when there
// are several.
function drawings(list) {
  const byVhost = new Map();
  for (const b of list) byVhost.set(b.vhost, [...(byVhost.get(b.vhost) || []), b]);
  if (byVhost.size <= 1) return routingView(list, list[0]?.vhost ?? '/');
  return [...byVhost.keys()].sort().map((v) =>
    h('div', { class: 'routing-vhost' }, h('h3', null, `Virtual host ${v}`), routingView(byVhost.get(v), v)));
}

export async function render(ctx, _params, app) {
  const vhostNames = await app.vhostNames();
  let vhost = currentVhost(vhostNames);
  let filter = '';
  let showDefault = false;
  let latest = [];
  const visible = () => latest.filter((b) => showDefault || b.source !== '');
  const matches = (b) => [b.source, b.destination, b.routing_key].some((v) => v.toLowerCase().includes(filter));
  const drawing = h('div');
  const draw = () => {
    fill(drawing, drawings(visible()));
    return bindingsTable(visible().filter(matches), {
      onRemoved: () => live.refresh(),
      showVhost: new Set(latest.map((b) => b.vhost)).size > 1,
      empty: filter ? 'No binding matches the filter.' : 'No bindings yet.',
    });
  };
  const live = ctx.live(async () => { latest = await bindings(vhost); return latest; }, draw);
  const rerender = () => fill(live.el, draw());
  const defaultToggle = check('Show the default exchange', 'show_default');
  defaultToggle.querySelector('input').addEventListener('change', (e) => { showDefault = e.target.checked; rerender(); });

  const formSlot = h('div');
  const loadForm = async () => {
    const [xs, qs] = await Promise.all([exchanges(vhost).catch(() => []), queues(vhost).catch(() => [])]);
    const sorted = (list) => list.map((o) => ({ vhost: o.vhost, name: o.name })).sort((a, b) => a.name.localeCompare(b.name));
    if (ctx.closed) return;
    fill(formSlot, bindingForm({ fixed: vhost ? { vhost } : {}, vhosts: vhostNames, exchanges: sorted(xs), queues: sorted(qs), onAdded: () => live.refresh() }));
  };
  const chooser = vhostFilter(vhostNames, vhost, (v) => { vhost = v; live.refresh(); loadForm(); });
  await loadForm();

  append(ctx.main,
    header('Bindings', tools(chooser)),
    h('section', { class: 'card' }, h('h2', null, 'Routing'), h('div', { class: 'checks' }, defaultToggle), drawing),
    h('section', { class: 'card' }, h('div', { class: 'section-head' }, h('h2', null, 'All bindings'),
      filterBox((f) => { filter = f; rerender(); }, 'Filter by exchange, queue or key')), live.el),
    formSlot);
}
