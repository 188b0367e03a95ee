// #/admin: opens the first Admin page the user's tags allow, or says why there is none.

import { append } from '../dom.js';
import { header } from '../page.js';
import { adminPagesFor, notAvailable } from '../access.js';

export function render(ctx) {
  const pages = adminPagesFor(ctx.me);
  if (pages.length) {
    location.replace(pages[0][2]);
    return;
  }
  append(ctx.main, header('Admin'),
    notAvailable(ctx.me, 'The Admin section needs the administrator tag (policies: administrator or policymaker)'));
}
