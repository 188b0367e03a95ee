// A classic queue's dead letters (Roost's redrive): what it holds that was dead-lettered, by
// the queue it died in and why, a button per origin that sends those back where they died
// (paced by an optional rate), and the latest run's progress with Cancel while it runs. The
// card shows only when there is something to redrive or a run to show, so it stays out of
// the way on other queues and on a broker without the API (RabbitMQ answers 404).

import { h, fill } from '../dom.js';
import { table } from '../table.js';
import { field } from '../forms.js';
import { attempt, ok } from '../notify.js';
import { count, rate, time } from '../format.js';
import { exchangeLabel, queueLink } from '../links.js';
import { tools } from '../page.js';
import { redrive, startRedrive, cancelRedrive } from '../resources.js';

// A run can be over in moments: while one runs, its progress is read every second (the
// card's usual refresh is the page's 5 s).
const POLL_MS = 1000;

const messages = (n, complete = true) => `${count(n)}${complete ? '' : '+'} ${n === 1 ? 'message' : 'messages'}`;

// A run picks dead letters by origin queue and reason, not by exchange: rows that differ
// only in the exchange are one button, so its count is what the run will move.
function byOrigin(origins) {
  const merged = new Map();
  for (const o of origins) {
    const key = JSON.stringify([o.queue, o.reason]);
    const row = merged.get(key) || { queue: o.queue, reason: o.reason, exchanges: [], messages: 0 };
    row.exchanges.push(exchangeLabel(o.exchange));
    row.messages += o.messages;
    merged.set(key, row);
  }
  return [...merged.values()].sort((a, b) => a.queue.localeCompare(b.queue) || a.reason.localeCompare(b.reason));
}

// What a run was asked to do, in words.
function scope(run) {
  const parts = [
    run.reason && `reason ${run.reason}`,
    run.origin_queue && `from ${run.origin_queue}`,
    run.queue ? `to queue ${run.queue}` : run.exchange !== undefined && `to exchange ${exchangeLabel(run.exchange)}`,
    run.max && `at most ${messages(run.max)}`,
    run.max_rate && `at ${rate(run.max_rate)}`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'every dead letter, back where it died';
}

function progress(run, onCancel) {
  const rows = [
    ['State', run.state],
    ['Redriven', scope(run)],
    ['Moved', count(run.moved)],
    ['Unroutable', count(run.unroutable)],
    ['Refused', count(run.refused)],
    ['No longer in the queue', count(run.skipped_gone)],
    ['Started', time(run.started_at)],
    ['Finished', time(run.finished_at)],
  ];
  return [
    h('h3', { class: 'spaced' }, 'Latest redrive'),
    h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', { 'data-fact': k }, v)])),
    run.state === 'running' && h('div', { class: 'actions' }, h('button', { type: 'button', on: { click: onCancel } }, 'Cancel')),
  ];
}

// onChanged: after a run ends, so the page's counts follow.
export function redriveCard(ctx, vhost, name, onChanged) {
  const maxRate = h('input', { type: 'number', name: 'max_rate', min: 1, placeholder: 'as fast as they go' });
  // In the card's head, outside the refreshed part: a refresh neither clears nor blurs what is typed.
  const rateField = field('Max rate (messages/s)', maxRate);
  const runEl = h('div', { 'aria-live': 'polite' });
  const card = h('section', { class: 'card', 'data-card': 'redrive', hidden: true },
    h('div', { class: 'section-head' }, h('h2', null, 'Dead letters'), tools(rateField)));
  let running = false;

  const start = (o) => async (e) => {
    const body = { origin_queue: o.queue, reason: o.reason };
    if (maxRate.value) body.max_rate = Number(maxRate.value);
    e.target.disabled = true;
    if (await attempt('Redrive', () => startRedrive(vhost, name, body))) {
      ok(`Redriving ${o.reason} messages to '${o.queue}'`);
    }
    section.refresh();
  };
  const cancel = async () => {
    if (await attempt('Cancel', () => cancelRedrive(vhost, name))) ok('Redrive cancelled');
    section.refresh();
  };

  // The run's progress has its own place after the breakdown: filled here, from the same answer.
  const draw = (data) => {
    const wasRunning = running;
    running = data.run?.state === 'running';
    if (wasRunning && !running) onChanged();
    card.hidden = !data.run && !data.dead_lettered;
    rateField.hidden = !data.dead_lettered;
    fill(runEl, data.run && progress(data.run, cancel));
    if (!data.dead_lettered) return h('p', { class: 'empty' }, 'No dead-lettered messages left in this queue.');
    return [
      h('p', { class: 'muted' }, `${messages(data.dead_lettered, data.complete)} in this queue were dead-lettered`,
        data.complete ? '.' : ' (counted in its first 10,000 ready messages).'),
      table([
        { title: 'Origin queue', cell: (o) => queueLink(vhost, o.queue) },
        { title: 'Reason', cell: (o) => o.reason },
        { title: 'Exchange', cell: (o) => o.exchanges.join(', ') },
        { title: 'Messages', num: true, cell: (o) => `${count(o.messages)}${data.complete ? '' : '+'}` },
        { title: '', cell: (o) => h('button', { type: 'button', disabled: running, on: { click: start(o) } },
          `Redrive ${messages(o.messages, data.complete)} to ${o.queue}`) },
      ], byOrigin(data.origins), { label: 'Dead letters by origin' }),
    ];
  };
  const section = ctx.live(() => redrive(vhost, name), draw);
  card.append(section.el, runEl);
  ctx.every(POLL_MS, () => { if (running) section.refresh(); });
  return card;
}
