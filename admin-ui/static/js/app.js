// The dashboard shell: hash routes to page modules, the navigation, login / logout, and the
// per-page context that stops a page's timers when the user moves on.

import { h, fill } from './dom.js';
import { PageContext } from './page.js';
import { authorization, currentUser, forget } from './auth.js';
import { vhosts } from './resources.js';
import * as login from './pages/login.js';
import * as overview from './pages/overview.js';
import * as exchangesPage from './pages/exchanges.js';
import * as exchangePage from './pages/exchange.js';
import * as queuesPage from './pages/queues.js';
import * as queuePage from './pages/queue.js';
import * as bindingsPage from './pages/bindings.js';
import * as connectionsPage from './pages/connections.js';
import * as channelsPage from './pages/channels.js';

// [pattern, page, nav section, title]; (.+) segments are URI-decoded into params.
const ROUTES = [
  [/^#\/?$/, overview, 'overview', 'Overview'],
  [/^#\/exchanges$/, exchangesPage, 'exchanges', 'Exchanges'],
  [/^#\/exchanges\/([^/]+)\/([^/]*)$/, exchangePage, 'exchanges', 'Exchange'],
  [/^#\/queues$/, queuesPage, 'queues', 'Queues'],
  [/^#\/queues\/([^/]+)\/([^/]+)$/, queuePage, 'queues', 'Queue'],
  [/^#\/bindings$/, bindingsPage, 'bindings', 'Bindings'],
  [/^#\/connections$/, connectionsPage, 'connections', 'Connections'],
  [/^#\/channels$/, channelsPage, 'channels', 'Channels'],
];
const NAV = [
  ['overview', 'Overview', '#/'], ['exchanges', 'Exchanges', '#/exchanges'], ['queues', 'Queues', '#/queues'],
  ['bindings', 'Bindings', '#/bindings'], ['connections', 'Connections', '#/connections'], ['channels', 'Channels', '#/channels'],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const userBox = document.getElementById('user');
let context = null;
let vhostCache = null;

const app = {
  navigate(hash) {
    if (location.hash === hash) show(); else location.hash = hash;
  },
  loggedIn() {
    vhostCache = null;
    const target = sessionStorage.getItem('roost.after-login') || '#/';
    sessionStorage.removeItem('roost.after-login');
    app.navigate(target);
  },
  // Names of the virtual hosts, for the forms; '/' when the API cannot list them.
  async vhostNames() {
    if (!vhostCache) vhostCache = vhosts().then((l) => l.map((v) => v.name).sort()).catch(() => ['/']);
    return vhostCache;
  },
};

function renderChrome(section) {
  fill(nav, NAV.map(([key, label, href]) =>
    h('a', { href, 'aria-current': key === section ? 'page' : null }, label)));
  fill(userBox, currentUser() ? [h('span', { class: 'who' }, currentUser()),
    h('button', { type: 'button', class: 'link', on: { click: logout } }, 'Log out')] : null);
}

function logout() {
  forget();
  app.navigate('#/login');
}

function show() {
  if (context) context.close();
  main.replaceChildren();
  context = new PageContext(main);
  const hash = location.hash || '#/';
  if (hash === '#/login' || !authorization()) {
    if (hash !== '#/login') sessionStorage.setItem('roost.after-login', hash);
    document.body.classList.add('logged-out');
    renderChrome(null);
    document.title = 'Log in · Roost';
    login.render(context, {}, app);
    return;
  }
  document.body.classList.remove('logged-out');
  const route = ROUTES.find(([pattern]) => pattern.test(hash));
  if (!route) {
    renderChrome(null);
    main.append(h('h1', null, 'Not found'), h('p', null, 'No such page. ', h('a', { href: '#/' }, 'Go to the overview.')));
    return;
  }
  const [pattern, page, section, title] = route;
  const [vhost, name] = pattern.exec(hash).slice(1).map(decodeURIComponent);
  renderChrome(section);
  document.title = `${name ?? title} · Roost`;
  Promise.resolve(page.render(context, { vhost, name }, app)).catch((e) => {
    main.append(h('p', { class: 'form-error', role: 'alert' }, `This page failed to load: ${e.message}`));
  });
}

window.addEventListener('hashchange', show);
window.addEventListener('roost:unauthorized', () => {
  if (!authorization()) return;
  forget();
  sessionStorage.setItem('roost.after-login', location.hash);
  app.navigate('#/login');
});
show();
