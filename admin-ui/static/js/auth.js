// The Basic credentials of the logged-in user. Kept in sessionStorage (gone when the tab
// closes) and sent as an Authorization header by api.js; the dashboard never uses cookies,
// so a cross-site form post carries no credentials and cannot change anything.

const KEY = 'roost.authorization';
const USER_KEY = 'roost.user';

function base64Utf8(text) {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes));
}

export function basicHeader(user, password) {
  return `Basic ${base64Utf8(`${user}:${password}`)}`;
}

export function authorization() {
  return sessionStorage.getItem(KEY);
}

export function currentUser() {
  return sessionStorage.getItem(USER_KEY);
}

export function remember(user, header) {
  sessionStorage.setItem(KEY, header);
  sessionStorage.setItem(USER_KEY, user);
}

// Logging out forgets every roost.* entry: the credentials and what the pages kept (the
// chosen vhost), so the next user of the tab starts clean.
export function forget() {
  for (const key of Object.keys(sessionStorage)) if (key.startsWith('roost.')) sessionStorage.removeItem(key);
}
