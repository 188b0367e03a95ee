// Short-lived messages after an action: errors show the broker's reason (ApiError.message),
// successes confirm what happened. One live region so screen readers announce them too.

import { h } from './dom.js';

function region() {
  let el = document.getElementById('toasts');
  if (!el) {
    el = h('div', { id: 'toasts', class: 'toasts', 'aria-live': 'polite' });
    document.body.append(el);
  }
  return el;
}

function show(kind, text, ms) {
  const toast = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  region().append(toast);
  setTimeout(() => toast.remove(), ms);
}

export const ok = (text) => show('ok', text, 4000);
export const fail = (text) => show('error', text, 9000);

// Runs an action, reporting failure with the broker's reason; returns true when it worked.
export async function attempt(what, action) {
  try {
    await action();
    return true;
  } catch (e) {
    fail(`${what} failed: ${e.message}`);
    return false;
  }
}
