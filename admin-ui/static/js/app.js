// The dashboard shell: hash routes to page modules, the navigation, login / logout, and the
// per-page context that stops a page's timers when the user moves on.

import { h, fill } from './dom.js';
import { PageContext } from './page.js';
import { authorization, currentUser, forget } from './auth.js';
import { vhosts, whoami } from './resources.js';
import { adminPagesFor } from './access.js';
import { chooseVhost } from './vhost_filter.js';
import * as login from './pages/login.js';
import * as overview from './pages/overview.js';
import * as exchangesPage from './pages/exchanges.js';
import * as exchangePage from './pages/exchange.js';
import * as queuesPage from './pages/queues.js';
import * as queuePage from './pages/queue.js';
import * as scheduledPage from './pages/scheduled.js';
import * as bindingsPage from './pages/bindings.js';
import * as connectionsPage from './pages/connections.js';
import * as channelsPage from './pages/channels.js';
import * as adminIndex from './pages/admin_index.js';
import * as adminUsers from './pages/admin_users.js';
import * as adminUser from './pages/admin_user.js';
import * as adminVhosts from './pages/admin_vhosts.js';
import * as adminVhost from './pages/admin_vhost.js';
import * as adminPermissions from './pages/admin_permissions.js';
import * as adminPolicies from './pages/admin_policies.js';

// [pattern, page, nav section, title, param names]; captured segments are URI-decoded
// into params (by default { vhost, name }). A ?query after the path is not part of the match.
const ROUTES = [
  [/^#\/?$/, overview, 'overview', 'Overview'],
  [/^#\/exchanges$/, exchangesPage, 'exchanges', 'Exchanges'],
  [/^#\/exchanges\/([^/]+)\/([^/]*)$/, exchangePage, 'exchanges', 'Exchange'],
  [/^#\/queues$/, queuesPage, 'queues', 'Queues'],
  [/^#\/queues\/([^/]+)\/([^/]+)$/, queuePage, 'queues', 'Queue'],
  [/^#\/scheduled$/, scheduledPage, 'scheduled', 'Scheduled'],
  [/^#\/bindings$/, bindingsPage, 'bindings', 'Bindings'],
  [/^#\/connections$/, connectionsPage, 'connections', 'Connections'],
  [/^#\/channels$/, channelsPage, 'channels', 'Channels'],
  [/^#\/admin$/, adminIndex, 'admin', 'Admin'],
  [/^#\/admin\/users$/, adminUsers, 'admin', 'Users'],
  [/^#\/admin\/users\/([^/]+)$/, adminUser, 'admin', 'User', ['name']],
  [/^#\/admin\/vhosts$/, adminVhosts, 'admin', 'Virtual hosts'],
  [/^#\/admin\/vhosts\/([^/]+)$/, adminVhost, 'admin', 'Virtual host', ['name']],
  [/^#\/admin\/permissions$/, adminPermissions, 'admin', 'Permissions'],
  [/^#\/admin\/policies$/, adminPolicies, 'admin', 'Policies'],
];
const NAV = [
  ['overview', 'Overview', '#/'], ['exchanges', 'Exchanges', '#/exchanges'], ['queues', 'Queues', '#/queues'],
  ['scheduled', 'Scheduled', '#/scheduled'], ['bindings', 'Bindings', '#/bindings'], ['connections', 'Connections', '#/connections'],
  ['channels', 'Channels', '#/channels'],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const userBox = document.getElementById('user');
let context = null;
let vhostCache = null;
let meCache = null; // promise of /api/whoami for the stored credentials
let me = null;      // its answer, once known
let section = null; // the navigation entry of the page shown

const app = {
  navigate(hash) {
    if (location.hash === hash) show(); else location.hash = hash;
  },
  loggedIn() {
    vhostCache = null;
    meCache = null;
    me = null;
    const target = sessionStorage.getItem('roost.after-login') || '#/';
    sessionStorage.removeItem('roost.after-login');
    app.navigate(target);
  },
  // Names of the virtual hosts the user can see, for the forms and the vhost choice; '/'
  // when the API cannot list them.
  async vhostNames() {
    if (!vhostCache) vhostCache = vhosts().then((l) => l.map((v) => v.name).sort()).catch(() => ['/']);
    return vhostCache;
  },
  // After a vhost was created or deleted.
  vhostsChanged() {
    vhostCache = null;
  },
  // After the logged-in user's own tags changed.
  meChanged() {
    meCache = null;
  },
  // { name, tags } of the logged-in user, asked once per login; the tags decide which
  // Admin pages are offered (the broker still checks every call).
  async me() {
    if (!meCache) {
      meCache = whoami().then((answer) => { me = answer; return answer; })
        .catch(() => { meCache = null; return { name: currentUser(), tags: [] }; });
    }
    return meCache;
  },
};

function renderChrome(current) {
  section = current;
  const links = [...NAV];
  if (me && adminPagesFor(me).length) links.push(['admin', 'Admin', '#/admin']);
  fill(nav, links.map(([key, label, href]) =>
    h('a', { href, 'aria-current': key === section ? 'page' : null }, label)));
  fill(userBox, currentUser() ? [h('span', { class: 'who' }, currentUser()),
    h('button', { type: 'button', class: 'link', on: { click: logout } }, 'Log out')] : null);
}

function logout() {
  forget();
  meCache = null;
  me = null;
  vhostCache = null;
  app.navigate('#/login');
}

async function show() {
  if (context) context.close();
  main.replaceChildren();
  const hash = location.hash || '#/';
  if (hash === '#/login' || !authorization()) {
    context = new PageContext(main);
    if (hash !== '#/login') sessionStorage.setItem('roost.after-login', hash);
    document.body.classList.add('logged-out');
    renderChrome(null);
    document.title = 'Log in · Roost';
    login.render(context, {}, app);
    return;
  }
  document.body.classList.remove('logged-out');
  const [path, query] = splitHash(hash);
  const vhostParam = new URLSearchParams(query).get('vhost');
  if (vhostParam !== null) chooseVhost(vhostParam);
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  renderChrome(route ? route[2] : null);
  const ctx = new PageContext(main);
  context = ctx;
  ctx.me = await app.me();
  if (ctx.closed) return; // the user moved on while whoami was answered
  renderChrome(route ? route[2] : null);
  if (!route) {
    main.append(h('h1', null, 'Not found'), h('p', null, 'No such page. ', h('a', { href: '#/' }, 'Go to the overview.')));
    return;
  }
  const [pattern, page, , title, names = ['vhost', 'name']] = route;
  const values = pattern.exec(path).slice(1).map(decodeURIComponent);
  const params = Object.fromEntries(names.map((n, i) => [n, values[i]]));
  document.title = `${params.name ?? title} · Roost`;
  Promise.resolve(page.render(ctx, params, app)).catch((e) => {
    if (!ctx.closed) main.append(h('p', { class: 'form-error', role: 'alert' }, `This page failed to load: ${e.message}`));
  });
}

// '#/queues?vhost=shop' -> ['#/queues', 'vhost=shop']. Names in paths are URI-encoded, so
// the first '?' starts the query.
function splitHash(hash) {
  const at = hash.indexOf('?');
  return at < 0 ? [hash, ''] : [hash.slice(0, at), hash.slice(at + 1)];
}

window.addEventListener('hashchange', show);
// A refused call may mean the user's tags changed since they were read: read them again,
// so the navigation offers what they allow now.
// (A refused whoami during the check is not checked again.)
let rechecking = false;
window.addEventListener('roost:refused', async () => {
  if (rechecking) return;
  rechecking = true;
  try {
    const before = JSON.stringify(me?.tags);
    meCache = null;
    await app.me();
    if (JSON.stringify(me?.tags) !== before) renderChrome(section);
  } finally {
    rechecking = false;
  }
});
window.addEventListener('roost:unauthorized', () => {
  if (!authorization()) return;
  forget();
  meCache = null;
  me = null;
  vhostCache = null;
  sessionStorage.setItem('roost.after-login', location.hash);
  app.navigate('#/login');
});
show();
