// Hash links to detail pages; names are URI-encoded so any queue or exchange name round-trips.

import { h } from './dom.js';

const enc = encodeURIComponent;

export const queueHref = (vhost, name) => `#/queues/${enc(vhost)}/${enc(name)}`;
export const exchangeHref = (vhost, name) => `#/exchanges/${enc(vhost)}/${enc(name)}`;

// The default exchange has the empty name; RabbitMQ's UI shows it as (AMQP default).
export function exchangeLabel(name) {
  return name === '' ? '(AMQP default)' : name;
}

export function exchangeLink(vhost, name) {
  return h('a', { href: exchangeHref(vhost, name), class: name === '' ? 'default-exchange' : null }, exchangeLabel(name));
}

export function queueLink(vhost, name) {
  return h('a', { href: queueHref(vhost, name) }, name);
}

export function destinationLink(b) {
  return b.destination_type === 'exchange' ? exchangeLink(b.vhost, b.destination) : queueLink(b.vhost, b.destination);
}
