// What the logged-in user may do, from the tags /api/whoami reports, following RabbitMQ's
// rules: administrator does everything (users, vhosts, permissions, limits, policies);
// policymaker adds policies in the vhosts it has permissions in; monitoring and management
// see no Admin section. The broker decides in the end: a page whose call is refused shows
// the broker's reason (refusal() below) instead of failing.

import { h } from './dom.js';

// Tags RabbitMQ's management plugin knows, offered in the user forms.
export const KNOWN_TAGS = ['administrator', 'monitoring', 'policymaker', 'management', 'impersonator'];

// Tags come as a list (RabbitMQ 3.9+, Roost) or as one "a,b" string (older RabbitMQ).
export function tagList(tags) {
  if (Array.isArray(tags)) return tags.filter(Boolean);
  return String(tags || '').split(',').map((t) => t.trim()).filter(Boolean);
}

export const isAdministrator = (me) => tagList(me?.tags).includes('administrator');
export const mayEditPolicies = (me) => isAdministrator(me) || tagList(me?.tags).includes('policymaker');

// Admin pages, in navigation order: [key, label, href, who may open it].
export const ADMIN_PAGES = [
  ['users', 'Users', '#/admin/users', isAdministrator],
  ['vhosts', 'Virtual hosts', '#/admin/vhosts', isAdministrator],
  ['permissions', 'Permissions', '#/admin/permissions', isAdministrator],
  ['policies', 'Policies', '#/admin/policies', mayEditPolicies],
];

export function adminPagesFor(me) {
  return ADMIN_PAGES.filter(([, , , may]) => may(me));
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
