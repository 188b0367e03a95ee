// One function per management API call the dashboard makes, named for what it does.
// Paths and bodies follow RabbitMQ's management API (Roost's admin API mirrors it).

import { get, put, post, del, seg } from './api.js';

const q = (vhost, name) => `queues/${seg(vhost)}/${seg(name)}`;
// The default exchange is "" in bodies but amq.default in paths.
const pathName = (exchange) => (exchange === '' ? 'amq.default' : exchange);
const x = (vhost, name) => `exchanges/${seg(vhost)}/${seg(pathName(name))}`;

export const whoami = (auth) => get('whoami', { auth });
export const overview = () => get('overview');
export const nodes = () => get('nodes');
export const vhosts = () => get('vhosts');

// List calls take an optional vhost: '' (or nothing) lists every vhost the user may see,
// a name uses the vhost's own path (/api/queues/{vhost}, /api/vhosts/{vhost}/connections).
const inVhost = (what, vhost) => (vhost ? `${what}/${seg(vhost)}` : what);

export const queues = (vhost) => get(inVhost('queues', vhost));
export const queue = (vhost, name) => get(q(vhost, name));
export const declareQueue = (vhost, name, props) => put(q(vhost, name), props);
export const deleteQueue = (vhost, name) => del(q(vhost, name));
export const purgeQueue = (vhost, name) => del(`${q(vhost, name)}/contents`);
// ackmode: ack_requeue_true (peek) or ack_requeue_false (take them off the queue)
export const getMessages = (vhost, name, count, ackmode) =>
  post(`${q(vhost, name)}/get`, { count, ackmode, encoding: 'auto', truncate: 50000 });
export const queueBindings = (vhost, name) => get(`${q(vhost, name)}/bindings`);
// A stream's messages without consuming: { offset } or { fromTime } (ms since the epoch), at most limit.
export const browseStream = (vhost, name, { offset, fromTime, limit }) => {
  const query = new URLSearchParams({ limit: String(limit), truncate: '50000' });
  if (offset !== undefined) query.set('offset', String(offset));
  if (fromTime !== undefined) query.set('from_time', String(fromTime));
  return get(`${q(vhost, name)}/messages?${query}`);
};

// A classic queue's messages without taking them; conditions: [[name, value]], the filter's
// query parameters (routing_key, header.<name>, ...).
export const browseMessages = (vhost, name, { state, conditions, offset, limit }) => {
  const query = new URLSearchParams({ state, offset: String(offset), limit: String(limit), truncate: '50000' });
  for (const [key, value] of conditions) query.append(key, value);
  return get(`${q(vhost, name)}/messages?${query}`);
};
export const deleteMessages = (vhost, name, ids) => post(`${q(vhost, name)}/messages/delete`, { ids });
export const moveMessages = (vhost, name, ids, queue) => post(`${q(vhost, name)}/messages/move`, { ids, queue });

// Redriving a queue's dead letters back where they died (Roost's): what it holds to redrive
// and the latest run; body picks { origin_queue, reason, max, max_rate } or { queue } (all to one queue).
export const redrive = (vhost, name) => get(`${q(vhost, name)}/redrive`);
export const startRedrive = (vhost, name, body) => post(`${q(vhost, name)}/redrive`, body);
export const cancelRedrive = (vhost, name) => del(`${q(vhost, name)}/redrive`);

// Messages delaying exchanges hold back (Roost's), by due time: the vhost's, or one
// exchange's (which also narrows by_exchange and due_within); conditions as browseMessages'.
export const scheduled = (vhost, { exchange, conditions = [], offset = 0, limit }) => {
  const query = new URLSearchParams({ offset: String(offset), limit: String(limit), truncate: '50000' });
  for (const [key, value] of conditions) query.append(key, value);
  return get(`scheduled/${seg(vhost)}${exchange ? `/${seg(exchange)}` : ''}?${query}`);
};
// pick: { ids } or { filter }; when: { due_at } (ms since the epoch) or { delay } (ms from now).
export const cancelScheduled = (vhost, pick) => post(`scheduled/${seg(vhost)}/cancel`, pick);
export const releaseScheduled = (vhost, pick) => post(`scheduled/${seg(vhost)}/release`, pick);
export const rescheduleScheduled = (vhost, pick, when) => post(`scheduled/${seg(vhost)}/reschedule`, { ...pick, ...when });

export const exchanges = (vhost) => get(inVhost('exchanges', vhost));
export const exchange = (vhost, name) => get(x(vhost, name));
export const declareExchange = (vhost, name, props) => put(x(vhost, name), props);
export const deleteExchange = (vhost, name) => del(x(vhost, name));
export const publish = (vhost, name, message) => post(`${x(vhost, name)}/publish`, message);
export const bindingsFrom = (vhost, name) => get(`${x(vhost, name)}/bindings/source`);
export const bindingsTo = (vhost, name) => get(`${x(vhost, name)}/bindings/destination`);

export const bindings = (vhost) => get(inVhost('bindings', vhost));
const kind = (destinationType) => (destinationType === 'exchange' ? 'e' : 'q');
export const addBinding = (vhost, source, destinationType, destination, routingKey, args) =>
  post(`bindings/${seg(vhost)}/e/${seg(pathName(source))}/${kind(destinationType)}/${seg(destination)}`,
       { routing_key: routingKey, arguments: args });
// b: a binding as listed by the API; properties_key names it (routing key + arguments hash).
export const removeBinding = (b) =>
  del(`bindings/${seg(b.vhost)}/e/${seg(pathName(b.source))}/${kind(b.destination_type)}/${seg(b.destination)}/${seg(b.properties_key)}`);

export const connections = (vhost) => get(vhost ? `vhosts/${seg(vhost)}/connections` : 'connections');
export const closeConnection = (name) =>
  del(`connections/${seg(name)}`, { headers: { 'X-Reason': 'Closed from the Roost dashboard' } });
// The API cannot close a single channel (RabbitMQ's has no DELETE /api/channels/{name}):
// the channels page closes the channel's connection.
export const channels = (vhost) => get(vhost ? `vhosts/${seg(vhost)}/channels` : 'channels');

// Users. PUT replaces the whole user: a PUT without password or password_hash leaves the
// user with no password (RabbitMQ 3.10 and Roost alike), so changing only the tags sends
// the stored hash back.
const u = (name) => `users/${seg(name)}`;
export const users = () => get('users');
export const user = (name) => get(u(name));
export const putUser = (name, body) => put(u(name), body);
export const deleteUser = (name) => del(u(name));

export const vhost = (name) => get(`vhosts/${seg(name)}`);
export const putVhost = (name, body) => put(`vhosts/${seg(name)}`, body);
export const deleteVhost = (name) => del(`vhosts/${seg(name)}`);

export const permissions = () => get('permissions');
export const setPermissions = (vhostName, userName, body) => put(`permissions/${seg(vhostName)}/${seg(userName)}`, body);
export const clearPermissions = (vhostName, userName) => del(`permissions/${seg(vhostName)}/${seg(userName)}`);
export const topicPermissions = () => get('topic-permissions');
export const setTopicPermissions = (vhostName, userName, body) => put(`topic-permissions/${seg(vhostName)}/${seg(userName)}`, body);
// Clears every topic permission of the user in the vhost: the API has no per-exchange delete.
export const clearTopicPermissions = (vhostName, userName) => del(`topic-permissions/${seg(vhostName)}/${seg(userName)}`);

// Limits: lists of { user | vhost, value: { "max-connections": N, ... } }.
export const userLimits = (name) => get(name === undefined ? 'user-limits' : `user-limits/${seg(name)}`);
export const setUserLimit = (name, limit, value) => put(`user-limits/${seg(name)}/${seg(limit)}`, { value });
export const clearUserLimit = (name, limit) => del(`user-limits/${seg(name)}/${seg(limit)}`);
export const vhostLimits = (name) => get(name === undefined ? 'vhost-limits' : `vhost-limits/${seg(name)}`);
export const setVhostLimit = (name, limit, value) => put(`vhost-limits/${seg(name)}/${seg(limit)}`, { value });
export const clearVhostLimit = (name, limit) => del(`vhost-limits/${seg(name)}/${seg(limit)}`);

// Policies and operator policies: kind is 'policies' or 'operator-policies' (the path).
// A body is { pattern, definition, priority, 'apply-to' }.
export const policies = (kind, vhostName) => get(inVhost(kind, vhostName));
export const putPolicy = (kind, vhostName, name, body) => put(`${kind}/${seg(vhostName)}/${seg(name)}`, body);
export const deletePolicy = (kind, vhostName, name) => del(`${kind}/${seg(vhostName)}/${seg(name)}`);
