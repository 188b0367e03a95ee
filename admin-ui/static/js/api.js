// Transport for the management API (RabbitMQ's paths and JSON): every request carries the
// Authorization header, JSON in and out, and a failure becomes an ApiError holding the
// broker's {"error", "reason"} so pages can show the reason as the broker worded it.

import { authorization } from './auth.js';

export class ApiError extends Error {
  constructor(status, error, reason) {
    super(reason || error || `HTTP ${status}`);
    this.status = status;
    this.error = error;
    this.reason = reason;
  }

  // A 401 comes in two kinds. A failed login ("not_authorized", "Login failed", or no body
  // at all) means the stored credentials are no good: the app goes back to the login page.
  // An authorisation refusal ("not_authorised" with "Not administrator user", "Access
  // refused.", ...) means this user may not do that one thing: the page says so and the
  // session goes on.
  get refused() {
    return this.status === 401 && this.error === 'not_authorised';
  }
}

// Path segment: vhost '/' becomes %2F, as the API expects.
export const seg = (value) => encodeURIComponent(value);

async function errorFrom(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    return new ApiError(response.status, body.error, body.reason);
  } catch {
    return new ApiError(response.status, response.statusText, text.trim() || `${response.status} ${response.statusText}`);
  }
}

// opts.auth overrides the stored header (the login form tries credentials before keeping them);
// opts.headers adds headers (X-Reason when closing connections).
export async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  const auth = opts.auth || authorization();
  if (auth) headers.Authorization = auth;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`/api/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', `cannot reach the broker (${e.message})`);
  }
  if (!response.ok) {
    const err = await errorFrom(response);
    if (response.status === 401 && !opts.auth) {
      window.dispatchEvent(new CustomEvent(err.refused ? 'roost:refused' : 'roost:unauthorized'));
    }
    throw err;
  }
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const put = (path, body) => request('PUT', path, body);
export const post = (path, body) => request('POST', path, body);
export const del = (path, opts) => request('DELETE', path, undefined, opts);
