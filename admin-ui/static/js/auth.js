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

export function forget() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(USER_KEY);
}
