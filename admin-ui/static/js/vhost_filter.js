// The virtual host the list pages show: "all" or one vhost the user can see. Kept in
// sessionStorage so moving between pages keeps it, and mirrored into the hash
// (#/queues?vhost=shop) so a reload or a copied link shows the same thing; app.js reads
// ?vhost= back when a page opens. The pages use it in the API path (/api/queues/{vhost}),
// so the broker does the filtering.

import { h } from './dom.js';
import { field } from './forms.js';

const KEY = 'roost.vhost';
const ALL = '';

function chosenVhost() {
  return sessionStorage.getItem(KEY) || ALL;
}

export function chooseVhost(vhost) {
  if (vhost) sessionStorage.setItem(KEY, vhost); else sessionStorage.removeItem(KEY);
}

// Writes the choice into the hash without a hashchange (which would reload the page).
function reflect(vhost) {
  const [path] = location.hash.split('?');
  const next = vhost ? `${path}?vhost=${encodeURIComponent(vhost)}` : path;
  if (next !== location.hash) history.replaceState(null, '', next);
}

// The choice for a page, given the vhosts the user can see: a vhost that is gone (deleted,
// or the user lost its permissions) falls back to all.
export function currentVhost(names) {
  let vhost = chosenVhost();
  if (vhost && !names.includes(vhost)) {
    vhost = ALL;
    chooseVhost(ALL);
  }
  reflect(vhost);
  return vhost;
}

// The "Virtual host" select for a page header: onChange(vhost) after the choice is kept.
// all: false leaves out "All", for a page whose API answers for one vhost at a time.
export function vhostFilter(names, selected, onChange, { all = true } = {}) {
  const select = h('select', { name: 'vhost-filter' },
    all && h('option', { value: ALL, selected: selected === ALL }, 'All'),
    names.map((n) => h('option', { value: n, selected: n === selected }, n)));
  select.addEventListener('change', () => {
    chooseVhost(select.value);
    reflect(select.value);
    onChange(select.value);
  });
  return field('Virtual host', select);
}
