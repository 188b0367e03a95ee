// Number, rate, size and time formatting for tables and charts.

const number = new Intl.NumberFormat('en-US');
const compact = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function count(n) {
  return n === undefined || n === null ? '–' : number.format(n);
}

export function rate(n) {
  if (n === undefined || n === null) return '–';
  return `${compact.format(n)}/s`;
}

// Short axis labels: 1200 -> 1.2k.
const fine = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export function axis(n) {
  if (n >= 1e6) return `${compact.format(n / 1e6)}M`;
  if (n >= 1e3) return `${compact.format(n / 1e3)}k`;
  return fine.format(n);
}

export function bytes(n) {
  if (n === undefined || n === null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${compact.format(n)} ${units[i]}`;
}

export function time(ms) {
  if (!ms) return '–';
  return new Date(ms).toLocaleString();
}

// How far ahead a time is: "in 40 s", "in 5 min", "in 2 h", "in 3.5 days"; "now" once it
// is due (a scheduled message due now is on its way to its queues).
export function fromNow(ms, now = Date.now()) {
  const seconds = Math.round((ms - now) / 1000);
  if (seconds <= 0) return 'now';
  if (seconds < 60) return `in ${seconds} s`;
  if (Math.round(seconds / 60) < 60) return `in ${Math.round(seconds / 60)} min`;
  if (seconds / 3600 < 23.95) return `in ${compact.format(seconds / 3600)} h`;
  const days = compact.format(seconds / 86400);
  return `in ${days} ${days === '1' ? 'day' : 'days'}`;
}

// RabbitMQ nests rates as message_stats.<name>_details.rate.
export function statRate(obj, name) {
  return obj?.message_stats?.[`${name}_details`]?.rate ?? obj?.[`${name}_details`]?.rate;
}

export function byteRate(n) {
  return n === undefined || n === null ? '–' : `${bytes(n)}/s`;
}
