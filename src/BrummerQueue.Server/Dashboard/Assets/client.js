// brummerq browser client — an ES module served by brummerq at /__brummer_ws__/client.js.
//
//   import { connect } from 'http://127.0.0.1:8080/__brummer_ws__/client.js';
//   const queue = connect();                       // ws://<the server that served this file>/__brummer_ws__
//   const sub = queue.subscribe('events', (message) => console.log(message.payload));
//   await queue.send('events', { hello: 'world' });
//
// Protocol: SPEC.md section 3 (JSON text frames, envelope {type, id?, data?}). Behaviour where the
// spec is silent (reconnect, resume, queuing while disconnected) is described in docs/browser-client.md.

/** @typedef {'connecting' | 'open' | 'reconnecting' | 'closed'} ConnectionStatus */

/**
 * A message as brummerq stores it.
 * @typedef {object} QueueMessage
 * @property {string} id            Unique, time-ordered id (UUIDv7).
 * @property {string} channel       The channel it was sent to.
 * @property {number} seq           Per-channel sequence number, from 1, increasing in send order.
 * @property {string} type          Message type, "message" unless the sender chose one.
 * @property {*} payload            Any JSON value.
 * @property {string} timestamp     When it was stored, RFC 3339 UTC with milliseconds.
 * @property {number} ttl           Time to live in seconds; 0 = never expires.
 * @property {string | null} expires_at When it expires, or null.
 * @property {string} [reply_to]    Request/reply: the channel to answer on (set by `request` and MCP `queue_request`).
 * @property {string} [correlation_id] Request/reply: a reply carries its request's id here.
 */

/**
 * Options of {@link connect}.
 * @typedef {object} ConnectOptions
 * @property {string} [url]   WebSocket URL. Default: `/__brummer_ws__` on the server that served this module
 *                            (ws: or wss: after the scheme of the module's URL).
 * @property {string} [token] The server's `--token`, sent as the `token` query parameter. Default none.
 * @property {boolean} [batch] When true (default) the socket asks for batched frames (`?batch=1`): the server packs
 *   the pushes and replies queued for it into one frame, a JSON array. False: one message per frame.
 * @property {(status: ConnectionStatus, detail: StatusDetail) => void} [onStatus]
 *                            Called on every status change.
 * @property {(gap: Gap) => void} [onGap] Called when a subscription resumed (after a reconnect, or with `sinceSeq`) and
 *                            the server said `recovered: false`: messages after the last one the page saw are missing
 *                            (the channel's epoch changed, or they were consumed, evicted or expired). A subscription's
 *                            own `onGap` takes precedence. Default: console.warn.
 * @property {(error: BrummerError) => void} [onError] Called for `error` frames that answer no request
 *                            (for example a frame sent without an id), for a connection that ended badly
 *                            (code `connection_failed`) and for a refused connection (code `refused`). Default: console.warn.
 * @property {boolean} [queueWhileDisconnected] When true (default) requests made while the socket is down wait
 *                            for the next connection; when false they reject at once with code `not_connected`.
 * @property {number} [maxQueued]        Most requests waiting for a connection. Default 1000; beyond it requests reject with `queue_overflow`.
 * @property {number} [requestTimeoutMs] How long a request may wait for its reply (including time queued). Default 30000.
 * @property {number} [initialDelayMs]   First reconnect delay. Default 250.
 * @property {number} [maxDelayMs]       Cap of the reconnect delay. Default 10000.
 * @property {number} [stableAfterMs]    A connection resets the back-off only once it has stayed open this long; one that
 *                                       closes sooner counts as a failed attempt. Default 5000.
 * @property {number} [heartbeatMs]      Interval of `ping` frames; a ping unanswered for this long drops the connection
 *                                       and reconnects. 0 disables. Default 20000.
 * @property {typeof WebSocket} [WebSocket] WebSocket constructor (for tests or non-browser runtimes). Default globalThis.WebSocket.
 */

/**
 * The second argument of `onStatus`.
 * @typedef {object} StatusDetail
 * @property {number} attempt  Failed attempts since the last stable connection.
 * @property {number} [delayMs] For `reconnecting` after a close: the wait before the next attempt.
 * @property {number} [code]    For a close: its code (1006 = no close frame, e.g. the server is down or refused the handshake).
 * @property {string} [reason]  For a close: its reason, as sent by the server ('' when none).
 * @property {number} [openMs]  For a close of a connection that had opened: how long it was open.
 * @property {BrummerError} [error] For `closed` after a refusal: the error (code `refused`).
 */

/**
 * Options of {@link BrummerClient#subscribe}.
 * @typedef {object} SubscribeOptions
 * @property {number} [sinceSeq]   Deliver the retained backlog after this seq first (0 = everything retained).
 *                                 Default: only messages sent after the subscription is made.
 * @property {string} [epoch]    The epoch `sinceSeq` belongs to (a `Subscription.epoch` the page kept, e.g. in
 *                                 localStorage): if the channel's epoch is another one, the whole backlog of the current
 *                                 epoch is delivered instead and `onGap` is called. Needs `sinceSeq`.
 * @property {(gap: Gap) => void} [onGap] Called when a resume of this subscription is not exact (see {@link Gap});
 *                                 default: the client's `onGap`.
 * @property {number} [bufferSize] The server-side buffer, 1–10000 (server default 100). A full buffer drops its oldest message.
 * @property {number} [iteratorBufferSize] For the async-iterator form: messages held in the page before the oldest
 *                                 is dropped (counted in `dropped`). Default 1000.
 */

/**
 * What `onGap` gets: a subscription resumed, and the server said messages after the last one the page saw are missing
 * (`recovered: false`, SPEC.md section 1 "Resume"). What is still retained has been (or is being) delivered.
 * @typedef {object} Gap
 * @property {Subscription} subscription The subscription.
 * @property {string} channel         Its channel.
 * @property {string} epoch           The channel's epoch now.
 * @property {string | null} previousEpoch The epoch the page resumed from (null if none was known).
 * @property {boolean} epochChanged   True when the channel was made again (removed by cleanup, or the server restarted):
 *                                    seqs start again at 1 and the whole retained backlog of the new epoch is delivered.
 * @property {number} lastSeq         The last seq the page had seen in `previousEpoch` (0 if none).
 * @property {boolean} [pattern]      True for a wildcard subscription (`app.>`) made again after a reconnect: a pattern
 *                                    spans channels and cannot resume, so messages sent meanwhile may be missing
 *                                    (`epoch` and `previousEpoch` are null, `lastSeq` 0).
 */

/**
 * An error reply from the server (`error {code, message}`) or a client-side failure. Errors about a
 * closed connection (`disconnected`, `connection_failed`, `refused`) also carry `closeCode` and `closeReason`.
 */
export class BrummerError extends Error {
  /**
   * @param {string} code  Server error code (e.g. `invalid_argument`) or a client code:
   *                       `not_connected`, `disconnected`, `timeout`, `closed`, `queue_overflow`,
   *                       `connection_failed`, `refused`.
   * @param {string} message Human-readable explanation.
   * @param {{closeCode?: number, closeReason?: string}} [close] The close that caused it, if any.
   */
  constructor(code, message, close = undefined) {
    super(message);
    this.name = 'BrummerError';
    this.code = code;
    if (close) {
      this.closeCode = close.closeCode;
      this.closeReason = close.closeReason;
    }
  }
}

/** Close codes that report a fault (protocol error, unsupported or invalid data, policy, too big, server error). */
const FAULT_CLOSE_CODES = new Set([1002, 1003, 1007, 1008, 1009, 1010, 1011, 1015]);

/** Close codes 4400–4499: the server refused this client (e.g. 4401 token); retrying the same way cannot help. */
function isRefusal(code) {
  return code >= 4400 && code <= 4499;
}

/** `close 1008 "rate limit exceeded"` */
function describeClose(code, reason) {
  return reason ? `close ${code} "${reason}"` : `close ${code}`;
}

/**
 * Opens a client. The connection is made at once and kept up until {@link BrummerClient#close}.
 * @param {ConnectOptions} [options]
 * @returns {BrummerClient}
 */
export function connect(options = {}) {
  return new BrummerClient(options);
}

/** Default WebSocket URL: /__brummer_ws__ on the origin that served this module. */
function defaultUrl() {
  const url = new URL('/__brummer_ws__', import.meta.url);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/**
 * A connection to brummerq that reconnects by itself. Every method may be called at any time;
 * see `queueWhileDisconnected` for what happens while the socket is down.
 */
export class BrummerClient {
  /** @param {ConnectOptions} options */
  constructor(options = {}) {
    this._options = {
      queueWhileDisconnected: true,
      maxQueued: 1000,
      requestTimeoutMs: 30000,
      initialDelayMs: 250,
      maxDelayMs: 10000,
      stableAfterMs: 5000,
      heartbeatMs: 20000,
      ...options,
    };
    const url = new URL(this._options.url ?? defaultUrl());
    if (this._options.token) {
      url.searchParams.set('token', this._options.token);
    }
    // Batched frames: the server packs what is queued for this socket (pushes, replies) into one frame, a JSON array.
    if (this._options.batch !== false) {
      url.searchParams.set('batch', '1');
    }
    /** The WebSocket URL in use. */
    this.url = url.toString();
    /** @type {ConnectionStatus} */
    this.status = 'connecting';
    /** The `connected` greeting of the current (or last) connection: `{server, version, client_id, ...}`. */
    this.server = null;
    /** The last close: `{code, reason, wasClean, openMs}` (openMs: how long it had been open, when it had), or null. */
    this.lastClose = null;
    this._WebSocket = this._options.WebSocket ?? globalThis.WebSocket;
    this._socket = null;
    this._open = false;
    this._closed = false;
    this._attempt = 0;
    this._openedAt = 0;
    this._closedError = null;
    this._nextId = 1;
    /** @type {Map<string, {resolve: Function, reject: Function, timer: any, sent: boolean}>} requests awaiting a reply, by id */
    this._pending = new Map();
    /** @type {Array<{id: string, frame: string}>} requests waiting for a connection, in order */
    this._queued = [];
    /** @type {Set<Subscription>} */
    this._subscriptions = new Set();
    /** @type {Map<string, Subscription>} by the server's subscription_id on the current connection */
    this._bySubscriptionId = new Map();
    this._reconnectTimer = null;
    this._heartbeatTimer = null;
    this._openWaiters = [];
    this._openSocket();
  }

  /**
   * Sends a message and resolves once the server has stored it.
   * @param {string} channel
   * @param {*} [payload] Any JSON value. Default null.
   * @param {{type?: string, ttl?: number, replyTo?: string, correlationId?: string}} [options] `ttl` in whole seconds
   *        (server default 3600; 0 = never expires); `replyTo`/`correlationId` set the message's `reply_to`/`correlation_id`.
   * @returns {Promise<{message_id: string, seq: number, channel: string, delivered_to?: number}>} the server's `ack`.
   */
  send(channel, payload = null, options = {}) {
    const data = { channel, payload };
    if (options.type !== undefined) data.type = options.type;
    if (options.ttl !== undefined) data.ttl = options.ttl;
    if (options.replyTo !== undefined) data.reply_to = options.replyTo;
    if (options.correlationId !== undefined) data.correlation_id = options.correlationId;
    return this._request('queue_message', data);
  }

  /**
   * Asks and waits (docs/protocol.md "Request/reply"): sends `payload` to `channel` as a request with a private reply
   * channel and resolves with the first reply message (its `payload` is the answer). Rejects with a `BrummerError` of code
   * `timeout` when no reply came within `timeout` seconds, and of code `reply_error` (with `.reply`, the message) when the
   * responder answered with `type: "error"` (what {@link BrummerClient#respond} sends when its handler throws).
   * @param {string} channel
   * @param {*} [payload] Any JSON value. Default null.
   * @param {{type?: string, timeout?: number}} [options] `timeout` in seconds, more than 0 and at most 300 (default 30).
   * @returns {Promise<QueueMessage>} the reply, with `correlation_id` = the request's id.
   */
  async request(channel, payload = null, options = {}) {
    const data = { channel, payload };
    if (options.type !== undefined) data.type = options.type;
    if (options.timeout !== undefined) data.timeout = options.timeout;
    const waitMs = ((options.timeout ?? 30) * 1000) + this._options.requestTimeoutMs;
    const { message } = await this._request('queue_request', data, waitMs);
    if (message.type === 'error') {
      const error = new BrummerError('reply_error', message.payload?.message ?? 'the responder failed');
      error.reply = message;
      throw error;
    }
    return message;
  }

  /**
   * Answers every request sent to `channel` (a message with `reply_to`, e.g. from `request` or MCP `queue_request`):
   * subscribes, calls `handler(payload, message)` and sends what it returns (or resolves to) to the request's `reply_to`
   * with `correlation_id` = the request's id and type `reply`. When the handler throws or rejects, the reply has type
   * `error` and payload `{ message, code? }`. Messages without `reply_to` are skipped. When several responders race, the
   * first reply wins and the others' are refused by the server (`not_found`), which is ignored here.
   * @param {string} channel
   * @param {(payload: *, message: QueueMessage) => *} handler
   * @param {SubscribeOptions} [options]
   * @returns {Subscription} unsubscribe it to stop answering.
   */
  respond(channel, handler, options) {
    return this.subscribe(channel, async (message) => {
      if (!message.reply_to) return;
      const reply = { channel: message.reply_to, correlation_id: message.id };
      try {
        reply.payload = (await handler(message.payload, message)) ?? null;
        reply.type = 'reply';
      } catch (error) {
        reply.type = 'error';
        reply.payload = { message: String(error?.message ?? error) };
        if (typeof error?.code === 'string') reply.payload.code = error.code;
      }
      try {
        await this._request('queue_message', reply);
      } catch (error) {
        if (error?.code !== 'not_found') this._reportError(error);
      }
    }, options);
  }

  /**
   * Takes messages from a channel's backlog (removing them unless `peek`).
   * @param {string} channel
   * @param {{limit?: number, blocking?: boolean, timeout?: number, peek?: boolean, ackTimeout?: number}} [options]
   *        `limit` 1–1000 (default 10); `blocking` waits up to `timeout` seconds (default 30) for a first message.
   *        `ackTimeout` (1–3600 s) leases the messages instead: confirm each with `ack` in time, or it is redelivered
   *        (also when this connection drops: leases belong to it).
   * @returns {Promise<{messages: QueueMessage[], count: number}>}
   */
  receive(channel, options = {}) {
    const data = { channel };
    for (const key of ['limit', 'blocking', 'timeout', 'peek']) {
      if (options[key] !== undefined) data[key] = options[key];
    }
    if (options.ackTimeout !== undefined) data.ack_timeout = options.ackTimeout;
    const waitMs = options.blocking ? ((options.timeout ?? 30) * 1000) + this._options.requestTimeoutMs : undefined;
    return this._request('queue_receive', data, waitMs);
  }

  /**
   * Subscribes to a channel. With a callback every message is passed to it; without one the returned
   * subscription is an async iterator (`for await (const m of queue.subscribe('ch'))`).
   * The subscription survives reconnects: it is made again with `since_seq` = the last seq it saw and the epoch
   * that seq belongs to; when the server says the resume is not exact, `onGap` is called.
   * `channel` may be a wildcard pattern: `*` one token, `>` the rest (`app.>`); each message names its channel. A
   * pattern cannot resume: after a reconnect it is made again and `onGap` is called with `pattern: true`.
   * @param {string} channel
   * @param {((message: QueueMessage, info: {dropped: number, subscription: Subscription}) => void) | SubscribeOptions} [callback]
   * @param {SubscribeOptions} [options]
   * @returns {Subscription}
   */
  subscribe(channel, callback, options) {
    if (typeof callback !== 'function') {
      options = callback ?? options;
      callback = undefined;
    }
    const subscription = new Subscription(this, channel, callback, options ?? {});
    this._subscriptions.add(subscription);
    if (this._open) {
      this._resubscribe(subscription);
    }
    return subscription;
  }

  /**
   * Acknowledges messages leased by `receive(channel, {ackTimeout})` on this connection: they are removed for good.
   * @param {string} channel
   * @param {string[]} ids message ids (1–1000)
   * @returns {Promise<{acked: number, not_leased: string[]}>} ids not leased to this connection are listed, not refused.
   */
  ack(channel, ids) {
    return this._request('queue_ack', { channel, message_ids: ids });
  }

  /** Sends `ping` and resolves with the round-trip time in milliseconds. */
  async ping() {
    const started = performance.now();
    await this._request('ping');
    return performance.now() - started;
  }

  /** Resolves when the client is connected (at once if it is). Rejects if the client is closed. */
  opened() {
    if (this._open) return Promise.resolve(this.server);
    if (this._closed) return Promise.reject(this._closedError ?? new BrummerError('closed', 'the client is closed'));
    return new Promise((resolve, reject) => this._openWaiters.push({ resolve, reject }));
  }

  /** Closes the connection for good: pending requests reject with `closed`, subscriptions end. */
  close() {
    this._shutDown(null, { attempt: this._attempt });
  }

  /**
   * Ends the client for good, by `close()` (error null) or a refusal by the server: pending requests
   * and `opened()` reject with the error (or `closed`), subscriptions end (iterators throw the error).
   */
  _shutDown(error, detail) {
    if (this._closed) return;
    this._closed = true;
    this._closedError = error;
    clearTimeout(this._reconnectTimer);
    this._stopHeartbeat();
    const reason = () => error ?? new BrummerError('closed', 'the client is closed');
    for (const [id, request] of this._pending) {
      this._pending.delete(id);
      clearTimeout(request.timer);
      request.reject(reason());
    }
    this._queued.length = 0;
    for (const waiter of this._openWaiters.splice(0)) waiter.reject(reason());
    for (const subscription of this._subscriptions) {
      if (error) subscription._fail(error);
      else subscription._end();
    }
    this._subscriptions.clear();
    this._bySubscriptionId.clear();
    if (this._socket) {
      this._socket.close(1000, 'client closed');
    }
    this._setStatus('closed', detail);
  }

  // ---- connection ----

  _openSocket() {
    this._setStatus(this._attempt === 0 ? 'connecting' : 'reconnecting', { attempt: this._attempt });
    let socket;
    try {
      socket = new this._WebSocket(this.url);
    } catch (error) {
      this._scheduleReconnect({ reason: String(error) });
      return;
    }
    this._socket = socket;
    socket.onmessage = (event) => this._onFrame(socket, event.data);
    socket.onclose = (event) => this._onClose(socket, event);
    // onerror is always followed by onclose, where the reconnect happens.
    socket.onerror = () => {};
  }

  _onClose(socket, event) {
    if (socket !== this._socket) return;
    this._socket = null;
    const wasOpen = this._open;
    this._open = false;
    this._stopHeartbeat();
    this._bySubscriptionId.clear();
    for (const subscription of this._subscriptions) subscription._serverId = null;
    const code = event.code;
    const reason = event.reason ?? '';
    const openMs = wasOpen ? Math.round(performance.now() - this._openedAt) : undefined;
    this.lastClose = { code, reason, wasClean: event.wasClean ?? false, openMs };
    const close = { closeCode: code, closeReason: reason };
    // A request already on the wire may or may not have been carried out: it is not repeated.
    this._failSent(`the connection closed before the reply (${describeClose(code, reason)})`, close);
    if (this._closed) return;
    if (isRefusal(code)) {
      const error = new BrummerError('refused', `the server refused the connection (${describeClose(code, reason)}); not retrying`, close);
      this._reportError(error);
      this._shutDown(error, { attempt: this._attempt, code, reason, openMs, error });
      return;
    }
    const shortLived = openMs === undefined || openMs < this._options.stableAfterMs;
    if (!shortLived) {
      // Only a connection that stayed up starts the back-off again: one that dies right after
      // opening (a message this browser cannot take, a rate limit hit at once) must not turn into
      // a tight reconnect loop.
      this._attempt = 0;
    }
    if (FAULT_CLOSE_CODES.has(code) || (wasOpen && shortLived && code !== 1000 && code !== 1001)) {
      const after = wasOpen ? ` ${openMs} ms after it opened` : '';
      this._reportError(new BrummerError('connection_failed', `the connection ended with ${describeClose(code, reason)}${after}; reconnecting with back-off`, close));
    }
    this._scheduleReconnect({ code, reason, openMs });
  }

  _reportError(error) {
    try {
      if (this._options.onError) this._options.onError(error);
      else console.warn('brummerq:', error.code, error.message);
    } catch (thrown) {
      console.error('brummerq: onError threw', thrown);
    }
  }

  _scheduleReconnect(detail) {
    if (this._closed) return;
    // Capped exponential back-off with "equal jitter": half the step is fixed, half random.
    const step = Math.min(this._options.maxDelayMs, this._options.initialDelayMs * (2 ** this._attempt));
    const delayMs = Math.round((step / 2) + (Math.random() * step / 2));
    this._attempt += 1;
    this._setStatus('reconnecting', { attempt: this._attempt, delayMs, ...detail });
    this._reconnectTimer = setTimeout(() => this._openSocket(), delayMs);
  }

  _onConnected(greeting) {
    this.server = greeting;
    this._open = true;
    this._openedAt = performance.now();
    this._setStatus('open', { attempt: this._attempt });
    for (const waiter of this._openWaiters.splice(0)) waiter.resolve(greeting);
    // Each resumes from (epoch, last seq): the server says whether anything is missing, a restart included (new epochs).
    for (const subscription of this._subscriptions) {
      this._resubscribe(subscription);
    }
    for (const { id, frame } of this._queued.splice(0)) {
      const request = this._pending.get(id);
      if (request) {
        request.sent = true;
        this._socket.send(frame);
      }
    }
    this._startHeartbeat();
  }

  _startHeartbeat() {
    const interval = this._options.heartbeatMs;
    if (!interval) return;
    const socket = this._socket;
    this._heartbeatTimer = setInterval(() => {
      const id = `hb-${this._nextId++}`;
      const timer = setTimeout(() => {
        this._pending.delete(id);
        if (socket !== this._socket) return;
        // A dead link may take long to finish the closing handshake: give up on it now.
        socket.close(4000, 'heartbeat timeout');
        this._onClose(socket, { code: 4000, reason: 'heartbeat timeout' });
      }, interval);
      this._pending.set(id, { resolve: () => clearTimeout(timer), reject: () => clearTimeout(timer), timer, sent: true });
      socket.send(JSON.stringify({ type: 'ping', id }));
    }, interval);
  }

  _stopHeartbeat() {
    clearInterval(this._heartbeatTimer);
    this._heartbeatTimer = null;
  }

  _setStatus(status, detail) {
    this.status = status;
    try {
      this._options.onStatus?.(status, detail);
    } catch (error) {
      console.error('brummerq: onStatus threw', error);
    }
  }

  // ---- requests ----

  _request(type, data, timeoutMs) {
    if (this._closed) return Promise.reject(this._closedError ?? new BrummerError('closed', 'the client is closed'));
    if (!this._open && !this._options.queueWhileDisconnected) {
      return Promise.reject(new BrummerError('not_connected', `not connected to ${this.url}`));
    }
    if (!this._open && this._queued.length >= this._options.maxQueued) {
      return Promise.reject(new BrummerError('queue_overflow', `${this._queued.length} requests already wait for a connection`));
    }
    const id = String(this._nextId++);
    const frame = JSON.stringify(data === undefined ? { type, id } : { type, id, data });
    return new Promise((resolve, reject) => {
      const wait = timeoutMs ?? this._options.requestTimeoutMs;
      const timer = setTimeout(() => {
        this._pending.delete(id);
        this._queued = this._queued.filter((queued) => queued.id !== id);
        reject(new BrummerError('timeout', `no reply to ${type} within ${wait} ms`));
      }, wait);
      this._pending.set(id, { resolve, reject, timer, sent: this._open });
      if (this._open) {
        this._socket.send(frame);
      } else {
        this._queued.push({ id, frame });
      }
    });
  }

  /** Rejects the requests already on the wire with `disconnected`; queued ones wait for the next connection. */
  _failSent(message, close) {
    for (const [id, request] of this._pending) {
      if (!request.sent) continue;
      this._pending.delete(id);
      clearTimeout(request.timer);
      request.reject(new BrummerError('disconnected', message, close));
    }
  }

  _onFrame(socket, text) {
    if (socket !== this._socket) return;
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      console.warn('brummerq: ignoring a frame that is not JSON', text);
      return;
    }
    // A batched frame is an array of messages, in order.
    for (const frame of Array.isArray(parsed) ? parsed : [parsed]) {
      if (socket !== this._socket) return;
      this._onMessage(frame);
    }
  }

  _onMessage(frame) {
    const data = frame.data ?? {};
    if (frame.type === 'connected') {
      this._onConnected(data);
      return;
    }
    if (frame.type === 'queue_message' && frame.id === undefined) {
      this._onPush(data);
      return;
    }
    if (frame.type === 'unsubscribed' && frame.id === undefined) {
      this._onEndedByServer(data.subscription_id);
      return;
    }
    if (frame.id !== undefined && this._pending.has(String(frame.id))) {
      const request = this._pending.get(String(frame.id));
      this._pending.delete(String(frame.id));
      clearTimeout(request.timer);
      if (frame.type === 'error') {
        request.reject(new BrummerError(data.code ?? 'error', data.message ?? 'error'));
      } else {
        request.resolve(data);
      }
      return;
    }
    if (frame.type === 'error') {
      this._reportError(new BrummerError(data.code ?? 'error', data.message ?? 'error'));
    }
  }

  _onPush(data) {
    const subscription = this._bySubscriptionId.get(data.subscription_id);
    if (subscription) {
      subscription._deliver(data.message, data.dropped ?? 0);
    } else if (data.subscription_id) {
      // Pushes may race ahead of the `subscribed` reply; hold them until it arrives.
      const early = this._early ?? (this._early = new Map());
      if (!early.has(data.subscription_id) && early.size >= 16) early.delete(early.keys().next().value);
      const list = early.get(data.subscription_id) ?? [];
      list.push(data);
      early.set(data.subscription_id, list.slice(-1000));
    }
  }

  /**
   * The server ended a subscription this page did not unsubscribe (cleanup, or another client
   * unsubscribed it by id): the page still wants the channel, so it is made again, resuming after
   * the last seq seen.
   */
  _onEndedByServer(subscriptionId) {
    const subscription = this._bySubscriptionId.get(subscriptionId);
    if (!subscription) return;
    this._bySubscriptionId.delete(subscriptionId);
    subscription._serverId = null;
    this._resubscribe(subscription);
  }

  /**
   * (Re)makes a subscription on the current connection, resuming from its (epoch, last seq).
   * @param {Subscription} subscription
   */
  async _resubscribe(subscription) {
    const socket = this._socket;
    try {
      const data = { channel: subscription.channel };
      const since = subscription._resumeFrom();
      if (since !== undefined) {
        data.since_seq = since;
        if (subscription._epoch) data.epoch = subscription._epoch;
      }
      if (subscription._options.bufferSize !== undefined) data.buffer_size = subscription._options.bufferSize;
      const reply = await this._request('queue_subscribe', data);
      if (socket !== this._socket || !this._subscriptions.has(subscription)) {
        if (socket === this._socket) this._request('queue_unsubscribe', { subscription_id: reply.subscription_id }).catch(() => {});
        return;
      }
      subscription._serverId = reply.subscription_id;
      this._bySubscriptionId.set(reply.subscription_id, subscription);
      const gap = subscription._onSubscribed(reply, since !== undefined);
      subscription._markReady();
      if (gap) this._reportGap(subscription, gap);
      const early = this._early?.get(reply.subscription_id);
      if (early) {
        this._early.delete(reply.subscription_id);
        for (const push of early) subscription._deliver(push.message, push.dropped ?? 0);
      }
    } catch (error) {
      if (error.code === 'disconnected' || error.code === 'closed') return; // made again on the next connection
      subscription._fail(error);
    }
  }

  _reportGap(subscription, gap) {
    try {
      const handler = subscription._options.onGap ?? this._options.onGap;
      if (handler) handler(gap);
      else console.warn(`brummerq: resumed ${gap.channel} with a gap:`, gap.pattern ? 'a pattern cannot resume; messages sent while disconnected are missing' : gap.epochChanged ? 'the channel was made again (new epoch)' : 'messages after the last one seen were consumed, evicted or expired');
    } catch (thrown) {
      console.error('brummerq: onGap threw', thrown);
    }
  }

  _removeSubscription(subscription) {
    this._subscriptions.delete(subscription);
    const id = subscription._serverId;
    if (id) {
      this._bySubscriptionId.delete(id);
      if (this._open) return this._request('queue_unsubscribe', { subscription_id: id }).then(() => {}, () => {});
    }
    return Promise.resolve();
  }
}

/**
 * One subscription, kept across reconnects. Returned by {@link BrummerClient#subscribe}.
 * Iterate it with `for await` when it was made without a callback.
 */
export class Subscription {
  constructor(client, channel, callback, options) {
    this._client = client;
    /** The channel subscribed to. */
    this.channel = channel;
    this._callback = callback;
    this._options = options;
    this._serverId = null;
    // A resume asked for with `sinceSeq` starts from there: it is the last seq the page had seen (the server replays after it).
    this._lastSeq = options.sinceSeq ?? 0;
    this._epoch = options.epoch ?? null;
    this._recovered = null;
    this._pattern = /[*>]/.test(channel);
    this._ended = false;
    /** Messages lost so far: dropped by the server's buffer or by the iterator's buffer. */
    this.dropped = 0;
    this._buffer = [];
    this._waiters = [];
    this._error = null;
    this.ready = new Promise((resolve, reject) => {
      this._resolveReady = resolve;
      this._rejectReady = reject;
    });
    // An unobserved `ready` rejection is reported through the iterator or `error` instead.
    this.ready.catch(() => {});
  }

  /** The server's subscription_id on the current connection (it changes after a reconnect), or null. */
  get id() {
    return this._serverId;
  }

  /** The seq of the newest message delivered (0 before the first): where a resume starts. */
  get lastSeq() {
    return this._lastSeq;
  }

  /** The channel epoch `lastSeq` belongs to (from the last `subscribed` reply), or null before the first. Keep it with `lastSeq` to resume later. */
  get epoch() {
    return this._epoch;
  }

  /** The last `subscribed` reply's `recovered`: true or false after a resume, null when it was made without one. */
  get recovered() {
    return this._recovered;
  }

  /** Ends the subscription on the server and locally. Resolves when the server confirmed (or the socket is down). */
  unsubscribe() {
    if (this._ended) return Promise.resolve();
    this._end();
    return this._client._removeSubscription(this);
  }

  /** @returns {AsyncIterator<QueueMessage>} */
  [Symbol.asyncIterator]() {
    return {
      next: () => {
        if (this._buffer.length > 0) return Promise.resolve({ value: this._buffer.shift(), done: false });
        if (this._error) return Promise.reject(this._error);
        if (this._ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => this._waiters.push({ resolve, reject }));
      },
      return: async () => {
        await this.unsubscribe();
        return { value: undefined, done: true };
      },
    };
  }

  /** The since_seq of the next queue_subscribe (undefined = only new messages). */
  _resumeFrom() {
    if (this._pattern) return undefined; // seqs are per channel: the server refuses since_seq with a pattern
    if (this._lastSeq > 0 || this._resumeFromStart) return this._lastSeq;
    if (this._options.sinceSeq !== undefined) return this._options.sinceSeq;
    if (this._firstRequestMs !== undefined && this._everSubscribed) {
      // Subscribed for new messages only and none arrived before the drop: replay what is retained
      // and skip what was stored before the first subscribe request (same clock on loopback).
      this._skipBeforeMs = this._firstRequestMs;
      return 0;
    }
    this._firstRequestMs ??= Date.now();
    return undefined;
  }

  /**
   * Takes a `subscribed` reply: a new epoch means the channel was made again, so numbering starts over (the server
   * replays the new epoch's whole backlog). Returns the {@link Gap} to report when a resume was not exact, else null.
   */
  _onSubscribed(reply, resumed) {
    if (this._pattern) {
      return this._everSubscribed
        ? { subscription: this, channel: this.channel, epoch: null, previousEpoch: null, epochChanged: false, lastSeq: 0, pattern: true }
        : null;
    }
    const previousEpoch = this._epoch;
    const lastSeq = this._lastSeq;
    const epochChanged = previousEpoch !== null && reply.epoch !== undefined && reply.epoch !== previousEpoch;
    if (epochChanged) {
      this._lastSeq = 0;
      this._resumeFromStart = true;
      this._skipBeforeMs = undefined;
    }
    if (reply.epoch !== undefined) this._epoch = reply.epoch;
    this._recovered = reply.recovered ?? null;
    if (!resumed || reply.recovered !== false) return null;
    return { subscription: this, channel: this.channel, epoch: this._epoch, previousEpoch, epochChanged, lastSeq };
  }

  _markReady() {
    this._everSubscribed = true;
    this._resolveReady(this);
  }

  _deliver(message, dropped) {
    if (this._ended || !message) return;
    if (this._skipBeforeMs !== undefined) {
      if (Date.parse(message.timestamp) < this._skipBeforeMs) return;
      this._skipBeforeMs = undefined;
    }
    // Within one epoch seqs only grow, and a new epoch is learnt from the reply before any push: already seen.
    // (A pattern's messages come from several channels, each with its own seqs, and are never replayed.)
    if (!this._pattern) {
      if (message.seq <= this._lastSeq) return;
      this._lastSeq = message.seq;
    }
    this.dropped += dropped;
    if (this._callback) {
      try {
        this._callback(message, { dropped, subscription: this });
      } catch (error) {
        console.error('brummerq: subscription callback threw', error);
      }
      return;
    }
    const waiter = this._waiters.shift();
    if (waiter) {
      waiter.resolve({ value: message, done: false });
      return;
    }
    this._buffer.push(message);
    const cap = this._options.iteratorBufferSize ?? 1000;
    if (this._buffer.length > cap) {
      this._buffer.shift();
      this.dropped += 1;
    }
  }

  _fail(error) {
    this._error = error;
    this._rejectReady(error);
    this._client._subscriptions.delete(this);
    this._ended = true;
    for (const waiter of this._waiters.splice(0)) waiter.reject(error);
    if (this._callback) console.error(`brummerq: subscription to ${this.channel} failed:`, error.code, error.message);
  }

  _end() {
    this._ended = true;
    this._rejectReady(new BrummerError('closed', 'the subscription ended'));
    for (const waiter of this._waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
  }
}
