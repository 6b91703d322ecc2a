// The live dashboard served at /. Channel list and totals are polled from /api/channels and
// /api/stats; the tail and the send form go through the browser client, like any other page.
import { connect } from '/__brummer_ws__/client.js';

const POLL_MS = 1000;
const TAIL_ROWS = 200;
const TAIL_BACKLOG = 50;
const CHANNEL_NAME = /^[A-Za-z0-9._\-:/]{1,128}$/;
const MAX_TTL = 604800;

// A server started with --token needs it: open the dashboard once as /?token=..., it is kept for the tab.
const params = new URLSearchParams(location.search);
if (params.has('token')) {
  sessionStorage.setItem('brummerq.token', params.get('token'));
  params.delete('token');
  history.replaceState(null, '', location.pathname + (params.size > 0 ? `?${params}` : ''));
}
const token = sessionStorage.getItem('brummerq.token') ?? undefined;

const $ = (selector) => document.querySelector(selector);
const connection = $('#connection');
const pollError = $('#poll-error');
const channelsBody = $('#channels tbody');
const tail = $('#tail');
const tailInfo = $('#tail-info');
const pauseButton = $('#tail-pause');
const clearButton = $('#tail-clear');
const form = $('#send-form');
const sendResult = $('#send-result');

// Declared first: onStatus runs during connect(), before the assignment completes.
let queue = null;
queue = connect({
  token,
  onStatus(status, detail) {
    connection.dataset.status = status;
    connection.textContent = status === 'reconnecting' && detail.delayMs !== undefined
      ? `reconnecting (attempt ${detail.attempt})`
      : status;
    if (status === 'open' && queue?.server) {
      $('#server-version').textContent = queue.server.version ? `v${queue.server.version}` : '';
    }
  },
});

let channels = [];
let selected = null;
let subscription = null;
let paused = false;

// ---- totals and channel list ----

const numberFormat = new Intl.NumberFormat('en-US');

function formatStat(name, value) {
  if (value === undefined || value === null) return '–';
  if (name === 'total_bytes') return formatBytes(value);
  if (name === 'uptime_seconds') return formatDuration(value);
  return numberFormat.format(value);
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function formatDuration(seconds) {
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

async function getJson(path) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, { headers, cache: 'no-store' });
  if (response.status === 401) throw new Error('this server needs its token: open this page as /?token=<token>');
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function poll() {
  try {
    const [list, stats] = await Promise.all([getJson('/api/channels'), getJson('/api/stats')]);
    channels = Array.isArray(list) ? list : (list.channels ?? []);
    renderChannels();
    for (const element of document.querySelectorAll('[data-stat]')) {
      element.textContent = formatStat(element.dataset.stat, stats[element.dataset.stat]);
    }
    pollError.hidden = true;
  } catch (error) {
    pollError.textContent = `could not load figures: ${error.message}`;
    pollError.hidden = false;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

function renderChannels() {
  $('#no-channels').hidden = channels.length > 0;
  const rows = channels.map((channel) => {
    const row = document.createElement('tr');
    row.dataset.channel = channel.name;
    row.classList.toggle('selected', channel.name === selected);
    for (const [value, className] of [
      [channel.name, 'name'],
      [numberFormat.format(channel.messages), 'num'],
      [numberFormat.format(channel.subscriptions), 'num'],
      [numberFormat.format(channel.last_seq), 'num'],
    ]) {
      const cell = document.createElement('td');
      cell.className = className;
      cell.textContent = value;
      row.append(cell);
    }
    return row;
  });
  channelsBody.replaceChildren(...rows);
}

channelsBody.addEventListener('click', (event) => {
  const row = event.target.closest('tr');
  if (row) selectChannel(row.dataset.channel);
});

// ---- live tail ----

function selectChannel(name) {
  if (name === selected) return;
  selected = name;
  subscription?.unsubscribe();
  tail.replaceChildren();
  paused = false;
  pauseButton.textContent = 'Pause';
  pauseButton.disabled = false;
  clearButton.disabled = false;
  $('#tail-channel').textContent = `— ${name}`;
  form.elements.channel.value ||= name;
  renderChannels();
  const lastSeq = channels.find((channel) => channel.name === name)?.last_seq ?? 0;
  tailInfo.textContent = 'subscribing…';
  subscription = queue.subscribe(name, onTailMessage, {
    sinceSeq: Math.max(0, lastSeq - TAIL_BACKLOG),
    bufferSize: 1000,
  });
  const current = subscription;
  subscription.ready.then(
    () => { if (current === subscription) tailInfo.textContent = 'live'; },
    (error) => { if (current === subscription) tailInfo.textContent = `subscription failed: ${error.message}`; },
  );
}

function onTailMessage(message, { dropped }) {
  if (dropped > 0) addTailRow(notice(`${dropped} message(s) dropped: the tail could not keep up`));
  if (paused) return;
  const item = document.createElement('li');
  item.dataset.seq = message.seq;
  const meta = document.createElement('div');
  meta.className = 'meta';
  for (const [text, className] of [
    [`#${message.seq}`, 'seq'],
    [message.type, 'type'],
    [message.timestamp, 'time'],
    [message.ttl === 0 ? 'no expiry' : `ttl ${message.ttl} s`, 'ttl'],
  ]) {
    const span = document.createElement('span');
    span.className = className;
    span.textContent = text;
    meta.append(span);
  }
  const payload = document.createElement('pre');
  payload.className = 'payload';
  payload.textContent = JSON.stringify(message.payload, null, 2);
  item.append(meta, payload);
  addTailRow(item);
}

function notice(text) {
  const item = document.createElement('li');
  item.className = 'notice';
  item.textContent = text;
  return item;
}

function addTailRow(item) {
  tail.prepend(item);
  while (tail.children.length > TAIL_ROWS) tail.lastElementChild.remove();
}

pauseButton.addEventListener('click', () => {
  paused = !paused;
  pauseButton.textContent = paused ? 'Resume' : 'Pause';
  addTailRow(notice(paused ? 'paused: new messages are not shown' : 'resumed'));
});
clearButton.addEventListener('click', () => tail.replaceChildren());

// ---- send form ----

function validate(values) {
  const errors = {};
  if (!values.channel) errors.channel = 'channel is required';
  else if (!CHANNEL_NAME.test(values.channel)) errors.channel = 'channel must be 1–128 characters from A–Z a–z 0–9 . _ - : /';
  if (values.type.length > 128) errors.type = 'type must be at most 128 characters';
  let payload = null;
  if (values.payload.trim() !== '') {
    try {
      payload = JSON.parse(values.payload);
    } catch (error) {
      errors.payload = `payload is not valid JSON: ${error.message}`;
    }
  }
  let ttl;
  if (values.ttl.trim() !== '') {
    ttl = Number(values.ttl);
    if (!/^\d+$/.test(values.ttl.trim()) || ttl > MAX_TTL) errors.ttl = `ttl must be an integer between 0 and ${MAX_TTL}`;
  }
  return { errors, payload, ttl };
}

function showErrors(errors) {
  for (const element of form.querySelectorAll('.field-error')) {
    const field = element.dataset.for;
    element.textContent = errors[field] ?? '';
    form.elements[field].setAttribute('aria-invalid', errors[field] ? 'true' : 'false');
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const values = Object.fromEntries(['channel', 'type', 'payload', 'ttl'].map((name) => [name, form.elements[name].value]));
  values.channel = values.channel.trim();
  values.type = values.type.trim();
  const { errors, payload, ttl } = validate(values);
  showErrors(errors);
  sendResult.className = '';
  sendResult.textContent = '';
  if (Object.keys(errors).length > 0) return;
  const options = {};
  if (values.type) options.type = values.type;
  if (ttl !== undefined) options.ttl = ttl;
  try {
    const ack = await queue.send(values.channel, payload, options);
    sendResult.className = 'ok';
    sendResult.textContent = `stored in ${ack.channel} as seq ${ack.seq}`;
    if (!selected) selectChannel(values.channel);
  } catch (error) {
    sendResult.className = 'bad';
    sendResult.textContent = `refused (${error.code}): ${error.message}`;
  }
});

poll();
