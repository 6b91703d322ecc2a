// perf14: warm-window medians and ratios (node peers-bench-ratios.mjs RESULTS_DIR [WINDOW_INDEX]); see docs/benchmarks.md
// perf14: warm-window medians and ratios per scenario from a peers-bench results dir
import { readFileSync, readdirSync } from 'node:fs';
const dir = process.argv[2]; const w = +(process.argv[3] ?? 1);
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
const runs = readdirSync(dir).filter((x) => /^[a-z]+-[a-z]+-\d+\.json$/.test(x)).map((f) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')));
const by = {};
for (const r of runs) { const [sc, sys] = r.label.split('-'); ((by[sc] ??= {})[sys] ??= []).push(r); }
console.log('| scenario | system | runs | delivered/s warm (median; min–max) | server µs per delivery, warm (median) | generator µs per delivery, warm (median) | RSS at end (median) | lost / dup / server-reported dropped (sum) |');
console.log('|---|---|---:|---|---:|---:|---:|---|');
const out = {};
for (const sc of Object.keys(by).sort()) {
  for (const sys of ['old', 'oldb', 'bq', 'bqb', 'nats', 'sio']) {
    const rs = by[sc][sys]; if (!rs) continue;
    const ws = rs.map((r) => r.windows[w]); const span = ws[0].to_s - ws[0].from_s;
    const d = ws.map((x) => x.delivered_per_s);
    const cpu = med(ws.filter((x) => x.server_cpu_s > 0).map((x) => (1e6 * x.server_cpu_s) / (x.delivered_per_s * span)));
    const gen = med(ws.map((x) => (1e6 * x.gen_cpu_s) / (x.delivered_per_s * span)));
    (out[sc] ??= {})[sys] = { d: med(d), cpu };
    console.log(`| (${sc}) | ${sys} | ${rs.length} | ${Math.round(med(d) / 1000)}k; ${Math.round(Math.min(...d) / 1000)}–${Math.round(Math.max(...d) / 1000)}k | ${cpu.toFixed(2)} | ${gen.toFixed(2)} | ${(med(rs.map((r) => r.server_rss_bytes)) / 1048576).toFixed(0)} MiB | ${rs.reduce((a, r) => a + r.lost, 0)} / ${rs.reduce((a, r) => a + r.duplicates, 0)} / ${rs.reduce((a, r) => a + (r.server_reported_dropped ?? 0), 0)} |`);
  }
}
console.log('\n| scenario | brummerq ÷ NATS (before unbatched / before batched / now batched) | brummerq ÷ Socket.IO (same three) | server CPU per delivery ÷ NATS\'s (same three) |');
console.log('|---|---|---|---|');
for (const sc of Object.keys(out).sort()) {
  const o = out[sc]; const f = (x) => x.toFixed(2);
  const r = (k, b) => (o[k] && o[b] ? f(o[k].d / o[b].d) : '–');
  const c = (k) => (o[k] && o.nats ? f(o[k].cpu / o.nats.cpu) : '–');
  console.log(`| (${sc}) | ${r('old', 'nats')} / ${r('oldb', 'nats')} / **${r('bqb', 'nats')}** | ${r('old', 'sio')} / ${r('oldb', 'sio')} / **${r('bqb', 'sio')}** | ${c('old')} / ${c('oldb')} / **${c('bqb')}** |`);
}
