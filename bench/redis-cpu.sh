#!/bin/bash
# docs/benchmarks.md "After SendAsync": CPU microseconds per acknowledged send of redis-server, one Redis node and the
# load generator (utime + stime from /proc/<pid>/stat) in three runs (8 publishers, 10 s, window WINDOW, default 1), then the send
# script's time inside Redis (INFO commandstats). Build first as for bench/redis-load.sh; OUT (/tmp/redis-cpu).
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/redis-cpu}; mkdir -p $out
free() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu() { awk '{print ($14+$15)/100}' /proc/$1/stat; }
port=$(free); redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no > $out/redis.log 2>&1 & rpid=$!
for i in $(seq 50); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
n=$(free); dotnet src/BrummerQueue.Server/bin/Release/net10.0/brummerq.dll serve --port $n --max-frames-per-second 100000 --store redis --redis 127.0.0.1:$port > $out/node.log 2>&1 & np=$!
for i in $(seq 100); do curl -sf http://127.0.0.1:$n/healthz >/dev/null && break; sleep 0.2; done
for r in 1 2 3; do
  r0=$(cpu $rpid); n0=$(cpu $np)
  dotnet bench/BrummerQueue.Load/bin/Release/net10.0/brummerq-load.dll --url http://127.0.0.1:$n --server-pid $np --subscribers 0 --duration 10 --payload-bytes 100 --window ${WINDOW:-1} --publishers 8 --json $out/r$r.json > /dev/null 2>&1 & lp=$!
  sleep 1; l0=$(cpu $lp); sleep 8; l1=$(cpu $lp); wait $lp
  r1=$(cpu $rpid); n1=$(cpu $np)
  python3 -c "
import json; d=json.load(open('$out/r$r.json')); s=d['sent_per_second']*10
print(f'round $r: acked/s {d[\"sent_per_second\"]:.0f}; cpu us per send: redis {1e6*($r1-$r0)/s:.0f}, node {1e6*($n1-$n0)/s:.0f}, generator {1e6*($l1-$l0)/(d[\"sent_per_second\"]*8):.0f}; load {open(\"/proc/loadavg\").read().split()[0]}')"
  redis-cli -p $port FLUSHALL > /dev/null
done
redis-cli -p $port INFO commandstats | grep -E "evalsha|publish"
kill $np $rpid; wait
