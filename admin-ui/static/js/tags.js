// Tags of users (administrator, management, ...) and of vhosts: read from either form the
// API answers, shown as badges, and chosen in a picker.

import { h } from './dom.js';
import { field, text } from './forms.js';

// User tags RabbitMQ's management plugin knows, offered as checkboxes.
const KNOWN_TAGS = ['administrator', 'monitoring', 'policymaker', 'management', 'impersonator'];

// Tags come as a list (RabbitMQ 3.9+, Roost) or as one "a,b" string (older RabbitMQ, and
// what a text box holds).
export function tagList(tags) {
  if (Array.isArray(tags)) return tags.filter(Boolean);
  return String(tags || '').split(',').map((t) => t.trim()).filter(Boolean);
}

export function tagBadges(tags) {
  const list = tagList(tags);
  return list.length ? list.map((t) => h('span', { class: 'badge' }, t)) : h('span', { class: 'muted' }, 'none');
}

// Checkboxes for the known user tags and a text box for any others (comma-separated).
// value() is the list of tags.
export function tagsPicker(selected = [], idPrefix = 'tags') {
  const chosen = new Set(tagList(selected));
  const boxes = KNOWN_TAGS.map((tag) => h('input', { type: 'checkbox', name: `${idPrefix}-${tag}`, value: tag, checked: chosen.has(tag) }));
  const other = text(`${idPrefix}-other`, { placeholder: 'other tags, comma-separated',
    value: [...chosen].filter((t) => !KNOWN_TAGS.includes(t)).join(', ') });
  const el = h('fieldset', { class: 'tags' }, h('legend', { class: 'field-label' }, 'Tags'),
    h('div', { class: 'checks' }, boxes.map((box) => h('label', { class: 'check' }, box, ' ', box.value))),
    field('Other tags', other));
  return {
    el,
    value: () => [...new Set([...boxes.filter((b) => b.checked).map((b) => b.value), ...tagList(other.value)])],
  };
}
