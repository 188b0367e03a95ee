// Bindings: a drawing of how exchanges route to queues, every binding in a table (remove),
// and a form to add one between any exchange and queue or exchange.

import { h, fill, append } from '../dom.js';
import { filterBox, byName } from '../table.js';
import { field, select, check } from '../forms.js';
import { header } from '../page.js';
import { bindingsTable, bindingForm } from '../bindings_ui.js';
import { routingView } from '../routing_view.js';
import { bindings, exchanges, queues } from '../resources.js';

export async function render(ctx, _params, app) {
  const vhostNames = await app.vhostNames();
  let vhost = vhostNames.includes('/') ? '/' : vhostNames[0];
  let filter = '';
  let showDefault = false;
  let latest = [];
  const visible = () => latest.filter((b) => b.vhost === vhost && (showDefault || b.source !== ''));
  const matches = (b) => [b.source, b.destination, b.routing_key].some((v) => v.toLowerCase().includes(filter));
  const drawing = h('div');
  const draw = () => {
    fill(drawing, routingView(visible(), vhost));
    return bindingsTable(visible().filter(matches), { onRemoved: () => live.refresh(), empty: filter ? 'No binding matches the filter.' : 'No bindings yet.' });
  };
  const live = ctx.live(async () => { latest = await bindings(); return latest; }, draw);
  const rerender = () => fill(live.el, draw());
  const defaultToggle = check('Show the default exchange', 'show_default');
  defaultToggle.querySelector('input').addEventListener('change', (e) => { showDefault = e.target.checked; rerender(); });
  const vhostSelect = select('vhost', vhostNames, vhost);
  vhostSelect.addEventListener('change', () => { vhost = vhostSelect.value; rerender(); });

  const formSlot = h('div');
  const loadForm = async () => {
    const [xs, qs] = await Promise.all([exchanges().catch(() => []), queues().catch(() => [])]);
    const names = (list) => list.filter((o) => o.vhost === vhost).sort(byName).map((o) => o.name);
    fill(formSlot, bindingForm({ fixed: { vhost }, exchanges: names(xs), queues: names(qs), onAdded: () => live.refresh() }));
  };
  vhostSelect.addEventListener('change', loadForm);
  await loadForm();

  append(ctx.main, 
    header('Bindings', vhostNames.length > 1 ? field('Virtual host', vhostSelect) : null),
    h('section', { class: 'card' }, h('h2', null, 'Routing'), h('div', { class: 'checks' }, defaultToggle), drawing),
    h('section', { class: 'card' }, h('div', { class: 'section-head' }, h('h2', null, 'All bindings'),
      filterBox((f) => { filter = f; rerender(); }, 'Filter by exchange, queue or key')), live.el),
    formSlot);
}
