// What the logged-in user may do, from the tags /api/whoami reports, following RabbitMQ's
// rules: administrator does everything (users, vhosts, permissions, limits, policies);
// policymaker adds policies in the vhosts it has permissions in; monitoring and management
// see no Admin section. The broker decides in the end: a page whose call is refused shows
// the broker's reason (refusal() below) instead of failing.

import { h } from './dom.js';
import { tagList } from './tags.js';

export const isAdministrator = (me) => tagList(me?.tags).includes('administrator');
const mayEditPolicies = (me) => isAdministrator(me) || tagList(me?.tags).includes('policymaker');

// Admin pages, in navigation order: [key, label, href, who may open it, the tags it needs].
export const ADMIN_PAGES = [
  ['users', 'Users', '#/admin/users', isAdministrator, 'the administrator tag'],
  ['vhosts', 'Virtual hosts', '#/admin/vhosts', isAdministrator, 'the administrator tag'],
  ['permissions', 'Permissions', '#/admin/permissions', isAdministrator, 'the administrator tag'],
  ['policies', 'Policies', '#/admin/policies', mayEditPolicies, 'the administrator or policymaker tag'],
];

export function adminPagesFor(me) {
  return ADMIN_PAGES.filter(([, , , may]) => may(me));
}

// Why a page is not offered: what it needs and what the user has.
export function notAvailable(me, needs) {
  const tags = tagList(me?.tags);
  return h('div', { class: 'notice', role: 'alert' },
    h('strong', null, 'Not available to this user. '),
    `${needs}; user '${me?.name ?? '?'}' has ${tags.length ? `the tags ${tags.join(', ')}` : 'no tags'}.`);
}

// What to show when the broker refused a call (401 "Not administrator user", "Access
// refused.", ...): the reason and who is asking, not a broken page. (The tags the
// dashboard knew may be out of date: app.js asks /api/whoami again after a refusal.)
export function refusal(e, me) {
  return h('div', { class: 'notice', role: 'alert' },
    h('strong', null, 'Not allowed. '),
    `The broker refused this for user '${me?.name ?? '?'}': `, h('q', null, e.reason || e.message),
    '. An administrator can change what its tags and permissions allow.');
}
