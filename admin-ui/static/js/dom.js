// Builds DOM from data without ever parsing data as HTML. Every string child becomes a text
// node and attributes go through setAttribute/properties, so a queue called
// `<img src=x onerror=alert(1)>` is shown as those characters. Nothing here uses innerHTML.

const SVG_NS = 'http://www.w3.org/2000/svg';
const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden']);

function apply(el, attrs) {
  for (const [key, val] of Object.entries(attrs || {})) {
    if (val === undefined || val === null || val === false) continue;
    if (key === 'on') {
      for (const [event, fn] of Object.entries(val)) el.addEventListener(event, fn);
    } else if (key === 'style') {
      // through CSSOM, which a Content-Security-Policy without 'unsafe-inline' still allows
      for (const [prop, v] of Object.entries(val)) el.style.setProperty(prop, v);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, val);
    } else if (PROPERTIES.has(key)) {
      el[key] = val;
    } else {
      el.setAttribute(key, val === true ? '' : String(val));
    }
  }
}

// Appends children to el, skipping null / undefined / false (Node.append would print "null").
export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// h('a', { href: '#/queues', class: 'link' }, 'text', otherNode, [more, nodes])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, ...children);
  return el;
}

export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, ...children);
  return el;
}

// Replaces the children of el.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, ...children);
  return el;
}
