// #/admin: opens the first Admin page the user's tags allow, or says why there is none.

import { h, append } from '../dom.js';
import { header } from '../page.js';
import { adminPagesFor, tagList } from '../access.js';

export function render(ctx) {
  const pages = adminPagesFor(ctx.me);
  if (pages.length) {
    location.replace(pages[0][2]);
    return;
  }
  const tags = tagList(ctx.me?.tags);
  append(ctx.main, header('Admin'), h('div', { class: 'notice', role: 'alert' },
    h('strong', null, 'Not available to this user. '),
    `The Admin section needs the administrator tag (policies: administrator or policymaker); user '${ctx.me?.name ?? '?'}' has `,
    tags.length ? `the tags ${tags.join(', ')}.` : 'no tags.'));
}
