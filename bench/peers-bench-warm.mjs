// perf14: first 5 s against the steady rate, from peers-bench JSON (node peers-bench-warm.mjs RESULTS_DIR); see docs/benchmarks.md
// perf14: per run, delivered per second (thousands) for the first 10 s, first 5 s / steady (s 5..end) ratio, RSS
import { readFileSync, readdirSync } from 'node:fs';
for (const dir of process.argv.slice(2)) {
  const rows = {};
  for (const f of readdirSync(dir).filter((x) => /^[a-z]+-[a-z]+-\d+\.json$/.test(x))) {
    const r = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
    const d = r.per_second.map((x) => x.delivered);
    const n = Math.floor(r.duration_s);
    const first = d.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
    const steady = d.slice(5, n).reduce((a, b) => a + b, 0) / (n - 5);
    const cpu = r.per_second.map((x) => x.server_cpu);
    const per = (a, b) => (1e6 * cpu.slice(a, b).reduce((x, y) => x + y, 0)) / d.slice(a, b).reduce((x, y) => x + y, 0);
    const cpuTxt = `server µs/delivery first 5 s ${per(0, 5).toFixed(2)} steady ${per(5, n).toFixed(2)}`;
    (rows[r.label.split('-').slice(0, 2).join('-')] ??= []).push(`${r.label}: ${d.slice(0, 10).map((x) => Math.round(x / 1000)).join(' ')} | first 5 s ${Math.round(first / 1000)}k / steady ${Math.round(steady / 1000)}k = ${(first / steady).toFixed(2)} | ${cpuTxt} | rss ${(r.server_rss_bytes / 1048576).toFixed(0)} MiB`);
  }
  for (const k of Object.keys(rows).sort()) for (const line of rows[k].sort()) console.log(line);
}
