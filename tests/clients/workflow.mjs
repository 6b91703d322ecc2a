// The seed's workflow, driven by a real TypeScript MCP client against a running brummerq:
// initialize, list tools, queue_subscribe on a channel, a WebSocket client (as a browser would) sends to it,
// a blocking queue_receive gets it with the payload, queue_send answers on another channel, which the
// WebSocket client receives. Prints one JSON line on stdout with what each step saw; exits 1 on failure
// (with {"ok":false,"error":...}). Run by tests/BrummerQueue.Server.Tests/Clients/TypeScriptClientTests.cs.
//
// usage: node workflow.mjs '<json config>'
//   {"client":"sdk132"|"sdk117"|"client2", "pin":"2026-07-28"?,            which package; client2 may pin a revision
//    "transport":"http", "url":"http://127.0.0.1:P/mcp", "wsUrl":"ws://127.0.0.1:P/__brummer_ws__"}
//   {"client":..., "transport":"stdio", "command":"dotnet", "args":["brummerq.dll","mcp","--port","P"], "wsUrl":...}
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const config = JSON.parse(process.argv[2] ?? '{}');
const packageVersion = name => JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url))).version;
const deadline = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms).unref());

async function loadClient() {
  switch (config.client) {
    case 'sdk132':
    case 'sdk117': {
      const pkg = config.client;
      const { Client } = await import(`${pkg}/client/index.js`);
      const { StreamableHTTPClientTransport } = await import(`${pkg}/client/streamableHttp.js`);
      const { StdioClientTransport } = await import(`${pkg}/client/stdio.js`);
      return { Client, StreamableHTTPClientTransport, StdioClientTransport, version: packageVersion(pkg), options: {} };
    }
    case 'client2': {
      const { Client, StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
      const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
      const options = config.pin ? { versionNegotiation: { mode: { pin: config.pin } } } : {};
      return { Client, StreamableHTTPClientTransport, StdioClientTransport, version: packageVersion('@modelcontextprotocol/client'), options };
    }
    default:
      throw new Error(`config.client must be sdk132, sdk117 or client2, not ${JSON.stringify(config.client)}`);
  }
}

/** Records the protocolVersion of the initialize result (or server/discover) as it passes the transport. */
function watchProtocolVersion(transport, seen) {
  let handler;
  Object.defineProperty(transport, 'onmessage', {
    configurable: true,
    get: () => handler,
    set: value => {
      handler = value && ((message, extra) => {
        const version = message?.result?.protocolVersion;
        if (typeof version === 'string') seen.push(version);
        return value(message, extra);
      });
    },
  });
}

/** A tool result's JSON: structuredContent, else the first text block parsed; a tool error throws. */
function toolJson(name, result) {
  const text = result.content?.find(c => c.type === 'text')?.text;
  if (result.isError) throw new Error(`${name} returned an error: ${text}`);
  return result.structuredContent ?? JSON.parse(text);
}

/** A WebSocket client like the browser's: connects (retrying while the server comes up) and reads frames. */
async function openSocket(url) {
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      const socket = new WebSocket(url);
      const frames = [];
      const waiters = [];
      socket.on('message', data => {
        const frame = JSON.parse(data.toString());
        const waiter = waiters.findIndex(w => w.match(frame));
        if (waiter >= 0) waiters.splice(waiter, 1)[0].resolve(frame);
        else frames.push(frame);
      });
      await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject); });
      const next = (match, what) => {
        const queued = frames.findIndex(match);
        if (queued >= 0) return Promise.resolve(frames.splice(queued, 1)[0]);
        return Promise.race([new Promise(resolve => waiters.push({ match, resolve })), deadline(20_000, what)]);
      };
      return { socket, next, send: frame => socket.send(JSON.stringify(frame)) };
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise(resolve => setTimeout(resolve, 100));
    }
  }
}

async function main() {
  const { Client, StreamableHTTPClientTransport, StdioClientTransport, version, options } = await loadClient();
  const transport = config.transport === 'stdio'
    ? new StdioClientTransport({ command: config.command, args: config.args, env: { ...process.env }, stderr: 'inherit' })
    : new StreamableHTTPClientTransport(new URL(config.url));
  const versions = [];
  watchProtocolVersion(transport, versions);
  const client = new Client({ name: `brummerq-test-${config.client}`, version: '1.0.0' }, options);
  const result = { ok: false, client: config.client, sdkVersion: version, transport: config.transport };
  try {
    await Promise.race([client.connect(transport), deadline(30_000, 'connect')]);
    result.protocolVersion = client.getNegotiatedProtocolVersion?.() ?? versions.at(-1) ?? null;
    result.serverName = client.getServerVersion()?.name ?? null;
    result.tools = (await client.listTools()).tools.map(t => t.name).sort();

    const inbox = `ts-events-${randomUUID()}`;
    const replies = `ts-replies-${randomUUID()}`;
    const browser = await openSocket(config.wsUrl);
    browser.send({ type: 'queue_subscribe', id: 'sub', data: { channel: replies } });
    await browser.next(f => f.type === 'subscribed', 'the browser subscription to the reply channel');

    const subscribed = toolJson('queue_subscribe', await client.callTool({ name: 'queue_subscribe', arguments: { channel: inbox } }));
    result.subscribedChannel = subscribed.channel;
    const receiving = client.callTool({ name: 'queue_receive', arguments: { subscription_id: subscribed.subscription_id, blocking: true, timeout: 30 } });
    const event = { form: 'signup', email: 'ada@example.com', tags: ['new', 'ünïcødé'], n: 1 };
    browser.send({ type: 'queue_message', id: 'event', data: { channel: inbox, type: 'form_submitted', payload: event } });
    result.browserAck = (await browser.next(f => f.type === 'ack' || f.type === 'error', 'the ack of the browser send')).type;
    const received = toolJson('queue_receive', await receiving);
    const message = received.messages?.[0];
    result.received = message ? { channel: message.channel, type: message.type, payload: message.payload, count: received.count } : null;

    const reply = { to: message?.payload?.email, text: 'Welcome, Ada!' };
    const sent = toolJson('queue_send', await client.callTool({ name: 'queue_send', arguments: { channel: replies, type: 'reply', payload: reply, ttl: 300 } }));
    result.deliveredTo = sent.delivered_to;
    const pushed = await browser.next(f => f.type === 'queue_message', 'the reply pushed to the browser');
    result.browserGot = { channel: pushed.data.message.channel, type: pushed.data.message.type, payload: pushed.data.message.payload };

    // The README's mistake: the client must hand the refusal to the model as a tool error, not throw.
    const refused = await client.callTool({ name: 'queue_send', arguments: { channel: replies, ttl: 1.5 } });
    result.refusal = { isError: refused.isError === true, text: refused.content?.find(c => c.type === 'text')?.text ?? null };

    toolJson('queue_unsubscribe', await client.callTool({ name: 'queue_unsubscribe', arguments: { subscription_id: subscribed.subscription_id } }));
    browser.socket.close();
    result.ok = true;
  } catch (error) {
    result.error = `${error?.name ?? 'Error'}: ${error?.message ?? error}`;
  } finally {
    await client.close().catch(() => {});
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(result.ok ? 0 : 1);
}

await main();
