// How the TypeScript SDK's request timeout meets brummerq's progress keep-alive: a blocking queue_receive on a quiet
// channel, called with a client-side timeout shorter than the wait, with or without resetTimeoutOnProgress. Prints
// one JSON line: {"ok":true,"outcome":"result"|"timeout","elapsedMs":N,"progress":N,"count":N?,"error":"..."?}.
// Run by tests/BrummerQueue.Server.Tests/Clients/TypeScriptKeepAliveTests.cs.
//
// usage: node keepalive.mjs '<json config>'
//   {"command":"dotnet","args":["brummerq.dll","mcp","--port","P"],"env":{"BRUMMERQ_TEST_PROGRESS_INTERVAL_MS":"300"},
//    "requestTimeoutMs":2000,"waitSeconds":5,"reset":true}
import { Client } from 'sdk132/client/index.js';
import { StdioClientTransport } from 'sdk132/client/stdio.js';

const config = JSON.parse(process.argv[2] ?? '{}');
const client = new Client({ name: 'brummerq-keepalive-test', version: '1.0.0' });
const transport = new StdioClientTransport({
  command: config.command,
  args: config.args,
  env: { ...process.env, ...(config.env ?? {}) },
  stderr: 'ignore',
});

try {
  await client.connect(transport);
  let progress = 0;
  const started = Date.now();
  try {
    const result = await client.callTool(
      { name: 'queue_receive', arguments: { channel: 'quiet', blocking: true, timeout: config.waitSeconds } },
      undefined,
      { timeout: config.requestTimeoutMs, resetTimeoutOnProgress: config.reset, onprogress: () => { progress++; } });
    console.log(JSON.stringify({ ok: true, outcome: 'result', elapsedMs: Date.now() - started, progress, count: result.structuredContent?.count }));
  } catch (error) {
    console.log(JSON.stringify({ ok: true, outcome: 'timeout', elapsedMs: Date.now() - started, progress, error: String(error?.message ?? error) }));
  }
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error) }));
  process.exitCode = 1;
} finally {
  await client.close().catch(() => {});
}
