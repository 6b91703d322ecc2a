// Messages per second for the dashboard: rates computed from the deltas of successive stats
// readings, drawn as a small SVG line chart. Our own ~100 lines instead of a charting library:
// three lines over a few minutes need no more, and the dashboard has no build step and no CDN.

/** The series drawn, in legend order: stats counter (total / per channel) and colour variable. */
export const SERIES = [
  { name: 'sent', total: 'messages_sent', channel: 'sent' },
  { name: 'delivered', total: 'messages_delivered', channel: 'delivered' },
  { name: 'consumed', total: 'messages_consumed', channel: 'consumed' },
];

/** How much history a chart shows: 3 minutes of (about) one sample per second. */
export const WINDOW_MS = 3 * 60 * 1000;

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 600;
const HEIGHT = 100;

/**
 * Rates per second of one set of counters (the totals, or one channel). `add` takes the counters of
 * a reading; the first reading, and one after a restart (a counter went down), only set the baseline.
 */
export class RateHistory {
  constructor() {
    /** @type {Array<{from: number, at: number, sent: number, delivered: number, consumed: number}>} rates over [from, at], oldest first */
    this.samples = [];
    this._last = null;
  }

  /** @param {number} at reading time, ms @param {{sent: number, delivered: number, consumed: number}} counters */
  add(at, counters) {
    const last = this._last;
    this._last = { at, ...counters };
    if (!last || at <= last.at) return;
    const seconds = (at - last.at) / 1000;
    const sample = { from: last.at, at };
    for (const { name } of SERIES) {
      const delta = (counters[name] ?? 0) - (last[name] ?? 0);
      if (delta < 0) return; // the counters started again: a new server; this reading is the new baseline
      sample[name] = delta / seconds;
    }
    this.samples.push(sample);
    while (this.samples.length > 0 && this.samples[0].at < at - WINDOW_MS) this.samples.shift();
  }

  /** Forgets the baseline (the server restarted): the next reading starts the rates again. */
  restart() {
    this._last = null;
  }

  /** True when every sample in the window is zero (nothing to draw but a flat line). */
  isIdle() {
    return this.samples.every((sample) => SERIES.every(({ name }) => sample[name] === 0));
  }
}

/**
 * Draws `history` into `figure` (a <figure> holding an <svg> and a legend), for the window that ends
 * at `now`. Each line is a <polyline data-series="sent|delivered|consumed"> whose `data-peak` is its
 * highest rate in the window and whose `data-points` is how many samples it has (each drawn as a level step over its interval).
 */
export function drawRateChart(figure, history, now) {
  const svg = figure.querySelector('svg');
  const samples = history?.samples ?? [];
  const peak = Math.max(1, ...samples.flatMap((sample) => SERIES.map(({ name }) => sample[name])));
  const scale = niceCeiling(peak);
  const x = (at) => Math.max(0, ((at - (now - WINDOW_MS)) / WINDOW_MS) * WIDTH).toFixed(1);
  // One unit clear of the top and bottom edges, so that a line at 0 or at the top stays visible.
  const y = (rate) => HEIGHT - 1 - ((rate / scale) * (HEIGHT - 2));
  for (const { name } of SERIES) {
    let line = svg.querySelector(`polyline[data-series="${name}"]`);
    if (!line) {
      line = document.createElementNS(SVG, 'polyline');
      line.dataset.series = name;
      svg.append(line);
    }
    // A step for each sample, level over the interval it measured: one sample is already a line.
    line.setAttribute('points', samples.map((sample) => {
      const level = y(sample[name]).toFixed(1);
      return `${x(sample.from)},${level} ${x(sample.at)},${level}`;
    }).join(' '));
    line.dataset.points = String(samples.length);
    line.dataset.peak = String(Math.max(0, ...samples.map((sample) => sample[name])));
  }
  figure.querySelector('.chart-scale').textContent = `${formatRate(scale)}/s`;
  const latest = samples.at(-1);
  for (const { name } of SERIES) {
    const value = figure.querySelector(`.legend [data-series="${name}"] .rate`);
    if (value) value.textContent = latest ? `${formatRate(latest[name])}/s` : '–';
  }
}

/** Builds the empty chart: svg with a baseline, the scale label, and a legend with the current rates. */
export function createRateChart(id, label) {
  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.id = id;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${label}: messages per second over the last ${WINDOW_MS / 60000} minutes`);
  for (const fraction of [0, 0.5]) {
    const grid = document.createElementNS(SVG, 'line');
    grid.setAttribute('x1', '0');
    grid.setAttribute('x2', String(WIDTH));
    grid.setAttribute('y1', String(HEIGHT * fraction));
    grid.setAttribute('y2', String(HEIGHT * fraction));
    grid.setAttribute('class', 'grid');
    svg.append(grid);
  }
  const caption = document.createElement('figcaption');
  const scale = Object.assign(document.createElement('span'), { className: 'chart-scale' });
  const span = Object.assign(document.createElement('span'), { className: 'chart-span muted', textContent: `last ${WINDOW_MS / 60000} min` });
  const legend = Object.assign(document.createElement('span'), { className: 'legend' });
  for (const { name } of SERIES) {
    const item = document.createElement('span');
    item.dataset.series = name;
    item.append(Object.assign(document.createElement('i'), { className: 'swatch' }), `${name} `, Object.assign(document.createElement('b'), { className: 'rate', textContent: '–' }));
    legend.append(item);
  }
  caption.append(legend, span, scale);
  figure.append(svg, caption);
  return figure;
}

/** The smallest of 1, 2, 5 × 10^n at or above `value`: a round top for the scale. */
function niceCeiling(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((top) => top >= value);
}

function formatRate(rate) {
  if (rate >= 100) return Math.round(rate).toLocaleString();
  return String(Math.round(rate * 10) / 10);
}
