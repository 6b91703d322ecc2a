// The live dashboard served at /. Channel list, totals and subscriptions are polled from
// /api/channels, /api/stats and /healthz (whose instance_id tells a restarted server); the tail and
// the send form go through the browser client, like any other page.
import { connect } from '/__brummer_ws__/client.js';
import { RateHistory, SERIES, createRateChart, drawRateChart } from '/dashboard/chart.js';

const POLL_MS = 1000;
const TAIL_ROWS = 200;
const TAIL_BACKLOG = 50;
const CHANNEL_NAME = /^[A-Za-z0-9._\-:/]{1,128}$/;
const MAX_TTL = 604800;
// At most this many channels keep a rate history for the channel view (first come, first kept).
const MAX_CHANNEL_HISTORIES = 1000;
// A subscription unread for longer than this (and with no reader waiting) is shown as unread.
const UNREAD_AFTER_MS = 60_000;

// A server started with --token needs it: open the dashboard once as /?token=..., it is kept for the tab.
const TOKEN_KEY = 'brummerq.token';
const params = new URLSearchParams(location.search);
if (params.has('token')) {
  sessionStorage.setItem(TOKEN_KEY, params.get('token'));
  params.delete('token');
  history.replaceState(null, '', location.pathname + (params.size > 0 ? `?${params}` : ''));
}
let token = sessionStorage.getItem(TOKEN_KEY) || undefined;

const $ = (selector) => document.querySelector(selector);
const connection = $('#connection');
const pollError = $('#poll-error');
const channelsBody = $('#channels tbody');
const noChannels = $('#no-channels');
const tokenNeeded = $('#token-needed');
const tokenForm = $('#token-form');
const tail = $('#tail');
const tailInfo = $('#tail-info');
const pauseButton = $('#tail-pause');
const clearButton = $('#tail-clear');
const form = $('#send-form');
const sendResult = $('#send-result');
const subscriptionsBody = $('#subscriptions tbody');
const noSubscriptions = $('#no-subscriptions');
const totalChart = createRateChart('rate-total', 'all channels');
$('#activity').append(totalChart);
const channelChart = createRateChart('rate-channel', 'this channel');
channelChart.hidden = true;
channelChart.dataset.figures = '';
$('#tail-panel .toolbar').before(channelChart);

// The socket is opened only once the API has answered with the token in hand (a server with
// --token closes a socket without it with 4401, which ends the client). `generation` retires the
// status callbacks of a closed client.
let queue = null;
let generation = 0;

// The badge says what the page knows: `unreachable` while the API does not answer, `store unavailable`
// while the server answers that its store does not (then every figure is greyed out as stale), else the
// socket's status. `socketStatus` is the client's last status.
let socketStatus = { status: 'connecting', detail: {} };
let unreachableSince = null;
let storeProblem = null;

function setBadge(status, text = status, title = '') {
  connection.dataset.status = status;
  connection.textContent = text;
  connection.title = title;
}

function showConnection() {
  if (connection.dataset.status === 'token') return;
  if (unreachableSince !== null && storeProblem !== null) {
    setBadge('store', 'store unavailable', `the server answers, its store does not: ${storeProblem}`);
    return;
  }
  if (unreachableSince !== null) {
    setBadge('unreachable', 'unreachable', `no answer from the server since ${localTime(unreachableSince).textContent}; retrying every second`);
    return;
  }
  const { status, detail } = socketStatus;
  const title = status === 'reconnecting' && detail.attempt ? `live connection: attempt ${detail.attempt} to reconnect` : '';
  setBadge(status, status, title);
}

function markStale(stale) {
  for (const element of document.querySelectorAll('[data-figures]')) element.classList.toggle('stale', stale);
}

// The server's instance_id as the socket last saw it: a new one means a restart.
let socketInstance;

function openSocket() {
  const mine = ++generation;
  queue = connect({
    token,
    onStatus(status, detail) {
      if (mine !== generation) return;
      socketStatus = { status, detail };
      showConnection();
      if (status === 'open' && queue?.server) {
        $('#server-version').textContent = queue.server.version ? `v${queue.server.version}` : '';
        // Called before the client subscribes again, so the divider comes before the new server's messages.
        const instance = queue.server.instance_id;
        if (socketInstance !== undefined && instance !== socketInstance && selected) {
          addTailRow(notice('server restarted, earlier messages are gone', 'divider'));
        }
        socketInstance = instance;
      }
    },
  });
}

let channels = [];
let selected = null;
let subscription = null;
let paused = false;

// ---- totals and channel list ----

const numberFormat = new Intl.NumberFormat('en-US');
const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

function formatStat(name, value) {
  if (value === undefined || value === null) return '–';
  if (name === 'total_bytes') return formatBytes(value);
  if (name === 'uptime_seconds') return formatDuration(value);
  // 12.3M fits a card; the exact figure is in the card's tooltip.
  return value >= 1e6 ? compactFormat.format(value) : numberFormat.format(value);
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(1)} GiB`;
}

// Short enough for a stat card: 42s, 4m 17s, 2h 13m, 3d 4h.
function formatDuration(seconds) {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

// Times are shown in the viewer's time zone; the tooltip has the UTC time the server wrote.
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const dayFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

/** A <time> showing `value` (an RFC 3339 string or a Date) as local time, with the UTC time as its title. */
function localTime(value, { milliseconds = false } = {}) {
  const date = value instanceof Date ? value : new Date(value);
  const element = document.createElement('time');
  element.dateTime = date.toISOString();
  let text = clockFormat.format(date);
  if (milliseconds) text += `.${String(date.getMilliseconds()).padStart(3, '0')}`;
  if (date.toDateString() !== new Date().toDateString()) text = `${dayFormat.format(date)} ${text}`;
  element.textContent = text;
  element.title = `${date.toISOString().replace('T', ' ').replace('Z', '')} UTC`;
  return element;
}

/** "42s", "4m", "2h 13m": how far `ms` (Unix ms) is from now, before or after. */
function since(ms) {
  return formatDuration(Math.abs(Date.now() - ms) / 1000).replace(/ 0s$/, '');
}

/** The API refused the request for want of the right token (401). */
class TokenRefused extends Error {}

/** The server answers but its store does not (503: e.g. Redis lost); `message` is the server's reason. */
class StoreUnavailable extends Error {}

async function getJson(path) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { headers, cache: 'no-store' });
  } catch {
    throw new Error('the server does not answer (stopped, or not reachable from this browser)');
  }
  if (response.status === 401) throw new TokenRefused(path);
  if (response.status === 503) {
    // /healthz says {status, reason}; the API's problem+json says {detail}.
    const body = await response.json().catch(() => ({}));
    throw new StoreUnavailable(body.reason ?? body.detail ?? `${path}: HTTP 503`);
  }
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

let pollTimer = null;

// Rates: one history for the totals, one per channel (for the channel view); `statsInstance` is the
// instance_id of the server whose counters they continue.
const totalHistory = new RateHistory();
const channelHistories = new Map();
let statsInstance;

async function poll() {
  pollTimer = null;
  try {
    const [list, stats, health] = await Promise.all([getJson('/api/channels'), getJson('/api/stats'), getJson('/healthz')]);
    if (!queue) openSocket();
    channels = Array.isArray(list) ? list : (list.channels ?? []);
    renderChannels();
    showStats(stats);
    recordRates(stats, health.instance_id);
    renderSubscriptions(stats.subscriptions ?? []);
    pollError.hidden = true;
    unreachableSince = null;
    storeProblem = null;
    markStale(false);
  } catch (error) {
    if (error instanceof TokenRefused) {
      // One clear state and no more requests until a token is given.
      needToken();
      return;
    }
    unreachableSince ??= new Date();
    storeProblem = error instanceof StoreUnavailable ? error.message : null;
    // No rate is averaged over the outage: the charts show a gap and start again from the next answer.
    totalHistory.restart();
    for (const history of channelHistories.values()) history.restart();
    if (storeProblem !== null) {
      pollError.replaceChildren(`store unavailable since `, localTime(unreachableSince), `: the figures are from then (${storeProblem})`);
    } else {
      pollError.replaceChildren(`no answer since `, localTime(unreachableSince), `: the figures are from then (${error.message})`);
    }
    pollError.hidden = false;
    markStale(true);
  }
  showConnection();
  pollTimer = setTimeout(poll, POLL_MS);
}

function recordRates(stats, instance) {
  const now = Date.now();
  if (statsInstance !== undefined && instance !== statsInstance) {
    totalHistory.restart();
    for (const history of channelHistories.values()) history.restart();
  }
  statsInstance = instance;
  totalHistory.add(now, Object.fromEntries(SERIES.map(({ name, total }) => [name, stats[total] ?? 0])));
  for (const [name, figures] of Object.entries(stats.channels ?? {})) {
    let history = channelHistories.get(name);
    if (!history) {
      if (channelHistories.size >= MAX_CHANNEL_HISTORIES) continue;
      history = new RateHistory();
      channelHistories.set(name, history);
    }
    history.add(now, Object.fromEntries(SERIES.map(({ name: series, channel }) => [series, figures[channel] ?? 0])));
  }
  for (const name of channelHistories.keys()) {
    if (!(name in (stats.channels ?? {}))) channelHistories.delete(name);
  }
  drawRateChart(totalChart, totalHistory, now);
  drawChannelChart(now);
}

function drawChannelChart(now = Date.now()) {
  channelChart.hidden = !selected || isPattern(selected);
  if (channelChart.hidden) return;
  channelChart.querySelector('svg').setAttribute('aria-label', `${selected}: messages per second`);
  drawRateChart(channelChart, channelHistories.get(selected), now);
}

const OWNER_NAMES = { mcp_session: 'MCP session', websocket: 'WebSocket', none: 'none' };

/**
 * One row per open subscription: who owns it, when it was last read, what it holds, and when the idle
 * limit ends it. A subscription nobody has read for a while (a client that left without ending its
 * session) is marked `unread`.
 */
function renderSubscriptions(subscriptions) {
  noSubscriptions.hidden = subscriptions.length > 0;
  subscriptionsBody.parentElement.hidden = subscriptions.length === 0;
  const now = Date.now();
  subscriptionsBody.replaceChildren(...subscriptions.map((subscription) => {
    const row = document.createElement('tr');
    const lastRead = Date.parse(subscription.last_read_at);
    row.classList.toggle('unread', !subscription.reading && now - lastRead > UNREAD_AFTER_MS);
    row.classList.toggle('selected', subscription.channel === selected);
    row.dataset.channel = subscription.channel;
    if (subscription.id) row.dataset.subscription = subscription.id;
    const cell = (...content) => {
      const td = document.createElement('td');
      td.append(...content);
      row.append(td);
      return td;
    };
    row.append(nameCell(subscription.channel));
    cell(OWNER_NAMES[subscription.owner] ?? subscription.owner).title = subscription.id ? `subscription ${subscription.id}` : 'id known only to its maker';
    cell(localTime(subscription.created_at));
    cell(localTime(subscription.last_read_at), muted(` ${since(lastRead)} ago`)).className = 'last-read';
    cell(numberFormat.format(subscription.buffered)).className = 'num';
    cell(numberFormat.format(subscription.dropped)).className = 'num';
    const ends = subscription.idle_expires_at;
    if (subscription.reading) cell('being read now').className = 'ends';
    else cell(localTime(ends), muted(` in ${since(Date.parse(ends))}`)).className = 'ends';
    return row;
  }));
}

function muted(text) {
  return Object.assign(document.createElement('span'), { className: 'muted', textContent: text });
}

function showStats(stats) {
  for (const element of document.querySelectorAll('[data-stat]')) {
    const value = stats?.[element.dataset.stat];
    element.textContent = formatStat(element.dataset.stat, value);
    element.title = value === undefined || value === null ? '' : `${element.dataset.stat}: ${value}`;
  }
}

function needToken() {
  generation++;
  queue?.close();
  queue = null;
  subscription = null;
  selected = null;
  channels = [];
  renderChannels();
  renderSubscriptions([]);
  showStats(null);
  tail.replaceChildren();
  tailInfo.textContent = '';
  pauseButton.disabled = true;
  clearButton.disabled = true;
  $('#tail-channel').textContent = '— select a channel';
  pollError.hidden = true;
  setBadge('token', 'token needed');
  const code = (text) => Object.assign(document.createElement('code'), { textContent: text });
  $('#token-message').replaceChildren(...(token
    ? ['This server refused the token of this tab. Open this page as ', code('/?token=<token>'), ' with the server\'s ', code('--token'), ', or enter it here:']
    : ['This server needs a token (it was started with ', code('--token'), '). Open this page as ', code('/?token=<token>'), ', or enter it here:']));
  noChannels.hidden = true;
  tokenNeeded.hidden = false;
  form.querySelector('button[type=submit]').disabled = true;
}

tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const value = tokenForm.elements.token.value.trim();
  if (!value) return;
  token = value;
  sessionStorage.setItem(TOKEN_KEY, token);
  tokenForm.reset();
  tokenNeeded.hidden = true;
  form.querySelector('button[type=submit]').disabled = false;
  setBadge('connecting');
  clearTimeout(pollTimer);
  poll();
});

// ---- channel filter: part of a name, or a wildcard pattern (`*` one token, `>` the rest; docs/protocol.md) ----

const filterForm = $('#channel-filter');
let filter = '';

function isPattern(text) {
  return /[*>]/.test(text);
}

/** The server's rule (Core's ChannelPattern.Matches), for showing which channels a pattern follows. */
function patternMatches(pattern, name) {
  const p = pattern.split('.');
  const n = name.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return n.length > i;
    if (i >= n.length || (p[i] !== '*' && p[i] !== n[i])) return false;
  }
  return p.length === n.length;
}

function shown(name) {
  if (!filter) return true;
  return isPattern(filter) ? patternMatches(filter, name) : name.includes(filter);
}

filterForm.elements.filter.addEventListener('input', () => {
  filter = filterForm.elements.filter.value.trim();
  renderChannels();
});

filterForm.addEventListener('submit', (event) => {
  event.preventDefault();
  // A pattern is tailed as one wildcard subscription (channels made later included); a name part tails its first match.
  const target = isPattern(filter) ? filter : channels.find((channel) => shown(channel.name))?.name;
  if (target) selectChannel(target);
});

function renderChannels() {
  noChannels.hidden = channels.length > 0 || !tokenNeeded.hidden;
  const rows = channels.filter((channel) => shown(channel.name)).map((channel) => {
    const row = document.createElement('tr');
    row.dataset.channel = channel.name;
    row.classList.toggle('selected', channel.name === selected);
    row.append(nameCell(channel.name));
    for (const [value, className] of [
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

/**
 * A channel name that wraps only after `/`, `.` or `:` (each part between them stays whole); a part
 * wider than the column is cut with an ellipsis, and the full name is the cell's tooltip.
 */
function nameCell(name) {
  const cell = document.createElement('td');
  cell.className = 'name';
  cell.title = name;
  name.split(/(?<=[/.:])/).forEach((part, index) => {
    if (index > 0) cell.append(document.createElement('wbr'));
    const span = document.createElement('span');
    span.textContent = part;
    cell.append(span);
  });
  return cell;
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
  if (!isPattern(name)) form.elements.channel.value ||= name;
  renderChannels();
  drawChannelChart();
  const lastSeq = channels.find((channel) => channel.name === name)?.last_seq ?? 0;
  tailInfo.textContent = 'subscribing…';
  // A pattern spans channels and cannot replay a backlog (since_seq is per channel): it shows new messages only.
  subscription = queue.subscribe(name, onTailMessage, isPattern(name) ? { bufferSize: 1000 } : {
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
  item.dataset.channel = message.channel;
  const meta = document.createElement('div');
  meta.className = 'meta';
  for (const [text, className] of [
    ...(isPattern(selected) ? [[message.channel, 'channel']] : []),
    [`#${message.seq}`, 'seq'],
    [message.type, 'type'],
    [localTime(message.timestamp, { milliseconds: true }), 'time'],
    [message.ttl === 0 ? 'no expiry' : `ttl ${message.ttl} s`, 'ttl'],
  ]) {
    const span = document.createElement('span');
    span.className = className;
    span.append(text);
    meta.append(span);
  }
  const payload = document.createElement('pre');
  payload.className = 'payload';
  payload.textContent = JSON.stringify(message.payload, null, 2);
  item.append(meta, payload);
  addTailRow(item);
}

function notice(text, className = 'notice') {
  const item = document.createElement('li');
  item.className = className;
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
  if (!queue) {
    sendResult.className = 'bad';
    sendResult.textContent = 'not connected to the server yet';
    return;
  }
  try {
    const ack = await queue.send(values.channel, payload, options);
    sendResult.className = 'ok';
    sendResult.textContent = `stored in ${ack.channel} as seq ${ack.seq}`;
    if (!selected) selectChannel(values.channel);
  } catch (error) {
    sendResult.className = 'bad';
    // The client's message may start with the code already; say it once. An outage is not a refusal.
    const text = error.message?.startsWith(`${error.code}: `) ? error.message.slice(error.code.length + 2) : error.message;
    sendResult.textContent = error.code === 'store_unavailable' ? `not sent, the store is unavailable: ${text}` : `refused (${error.code}): ${text}`;
  }
});

poll();
