// What every Admin page starts with: the check of the user's tags, the section's tabs and
// the page header; and the permissions table the user and vhost pages share.

import { h, append } from './dom.js';
import { table } from './table.js';
import { header } from './page.js';
import { ADMIN_PAGES, adminPagesFor, notAvailable } from './access.js';

function tabs(me, current) {
  return h('nav', { class: 'tabs', 'aria-label': 'Admin' }, adminPagesFor(me).map(([key, label, href]) =>
    h('a', { href, 'aria-current': key === current ? 'page' : null }, label)));
}

// Starts the Admin page `key`: appends the tabs the user's tags allow and the header, and
// returns the header (for controls made afterwards). When the tags do not allow the page
// it says why and returns null: the broker would refuse its calls with 401 "Not
// administrator user" anyway.
export function adminPage(ctx, key, title, ...extra) {
  const [, label, , may, needs] = ADMIN_PAGES.find(([k]) => k === key);
  if (!may(ctx.me)) {
    append(ctx.main, header(label), notAvailable(ctx.me, `${label}: this page needs ${needs}`));
    return null;
  }
  const head = header(title, ...extra);
  append(ctx.main, tabs(ctx.me, key), head);
  return head;
}

// The permissions of one user in each vhost (by 'vhost'), or of each user in one vhost
// (by 'user'), and a link to the matrix where they are changed.
export function permissionsTable(perms, by, empty) {
  const rows = [...perms].sort((a, b) => a[by].localeCompare(b[by]));
  return [
    h('h3', null, 'Permissions'),
    table([
      { title: by === 'vhost' ? 'Virtual host' : 'User', cell: (p) => p[by] },
      ...['configure', 'write', 'read'].map((kind) =>
        ({ title: kind[0].toUpperCase() + kind.slice(1), cell: (p) => h('code', null, p[kind]) })),
    ], rows, { label: 'Permissions', empty }),
    h('p', null, h('a', { href: '#/admin/permissions' }, 'Edit permissions in the matrix →')),
  ];
}
