// One function per management API call the dashboard makes, named for what it does.
// Paths and bodies follow RabbitMQ's management API (Roost's admin API mirrors it).

import { get, put, post, del, seg } from './api.js';

const q = (vhost, name) => `queues/${seg(vhost)}/${seg(name)}`;
// The default exchange is "" in bodies but amq.default in paths.
const pathName = (exchange) => (exchange === '' ? 'amq.default' : exchange);
const x = (vhost, name) => `exchanges/${seg(vhost)}/${seg(pathName(name))}`;

export const whoami = (auth) => get('whoami', { auth });
export const overview = () => get('overview');
export const vhosts = () => get('vhosts');

export const queues = () => get('queues');
export const queue = (vhost, name) => get(q(vhost, name));
export const declareQueue = (vhost, name, props) => put(q(vhost, name), props);
export const deleteQueue = (vhost, name) => del(q(vhost, name));
export const purgeQueue = (vhost, name) => del(`${q(vhost, name)}/contents`);
// ackmode: ack_requeue_true (peek) or ack_requeue_false (take them off the queue)
export const getMessages = (vhost, name, count, ackmode) =>
  post(`${q(vhost, name)}/get`, { count, ackmode, encoding: 'auto', truncate: 50000 });
export const queueBindings = (vhost, name) => get(`${q(vhost, name)}/bindings`);

export const exchanges = () => get('exchanges');
export const exchange = (vhost, name) => get(x(vhost, name));
export const declareExchange = (vhost, name, props) => put(x(vhost, name), props);
export const deleteExchange = (vhost, name) => del(x(vhost, name));
export const publish = (vhost, name, message) => post(`${x(vhost, name)}/publish`, message);
export const bindingsFrom = (vhost, name) => get(`${x(vhost, name)}/bindings/source`);
export const bindingsTo = (vhost, name) => get(`${x(vhost, name)}/bindings/destination`);

export const bindings = () => get('bindings');
const kind = (destinationType) => (destinationType === 'exchange' ? 'e' : 'q');
export const addBinding = (vhost, source, destinationType, destination, routingKey, args) =>
  post(`bindings/${seg(vhost)}/e/${seg(pathName(source))}/${kind(destinationType)}/${seg(destination)}`,
       { routing_key: routingKey, arguments: args });
// b: a binding as listed by the API; properties_key names it (routing key + arguments hash).
export const removeBinding = (b) =>
  del(`bindings/${seg(b.vhost)}/e/${seg(pathName(b.source))}/${kind(b.destination_type)}/${seg(b.destination)}/${seg(b.properties_key)}`);

export const connections = () => get('connections');
export const closeConnection = (name) =>
  del(`connections/${seg(name)}`, { headers: { 'X-Reason': 'Closed from the Roost dashboard' } });
// The API cannot close a single channel (RabbitMQ's has no DELETE /api/channels/{name}):
// the channels page closes the channel's connection.
export const channels = () => get('channels');
