#!/bin/bash
# docs/benchmarks.md "Redis store": redis-benchmark, then acked WebSocket sends (8 publishers, no subscribers,
# 100-byte payloads, 10 s each): an in-memory node, one Redis node, two Redis nodes (4 publishers each, two generators
# at once), with window 1 (unpipelined) and 16; redis-benchmark again at the end. One redis-server without persistence
# on a free loopback port; every process stopped by pid. Build first:
#   dotnet build -c Release src/BrummerQueue.Server && dotnet build -c Release bench/BrummerQueue.Load
cd "$(dirname "$0")/.."
brummerq=$PWD/src/BrummerQueue.Server/bin/Release/net10.0/brummerq.dll
load=$PWD/bench/BrummerQueue.Load/bin/Release/net10.0/brummerq-load.dll
free() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port=$(free)
redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no > ${OUT:-/tmp}/redis4.log 2>&1 & rpid=$!
for i in $(seq 50); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
payload=$(printf 'x%.0s' $(seq 100))
rb() { redis-benchmark -p $port -c 8 -n $1 -P $2 -q "${@:3}" | tr '\r' '\n' | grep -a "per second" | sed 's/xxxx*/<100 B>/'; }
bench() {
  echo "-- redis-benchmark; $(uptime)"
  rb 200000 1 XADD rb:s MAXLEN 1000 '*' p $payload
  rb 400000 16 XADD rb:s MAXLEN 1000 '*' p $payload
  sha=$(redis-cli -p $port SCRIPT LOAD "return redis.call('XADD', KEYS[1], 'MAXLEN', '1000', '*', 'p', ARGV[1])")
  rb 200000 1 EVALSHA $sha 1 rb:e $payload
  rb 400000 16 EVALSHA $sha 1 rb:e $payload
  redis-cli -p $port FLUSHALL > /dev/null
}
wait_node() { for i in $(seq 100); do curl -sf http://127.0.0.1:$1/healthz >/dev/null && return; sleep 0.2; done; echo "node $1 not healthy"; }
node() { dotnet $brummerq serve --port $1 --max-frames-per-second 100000 ${@:2} > ${OUT:-/tmp}/node-$1.log 2>&1 & echo $!; }
report() { python3 -c "
import json,sys
t=0
for f in sys.argv[1:]:
  d=json.load(open(f)); t+=d['sent_per_second']; print('   ', f.split('/')[-1], 'publishers', d['publishers'], 'acked/s', round(d['sent_per_second']), 'send errors', d['send_errors'], 'server cpu s', d['server_cpu_seconds'])
print('  total acked/s', round(t))" "$@"; }
lg() { dotnet $load --url http://127.0.0.1:$1 --server-pid $2 --subscribers 0 --duration 10 --payload-bytes 100 --window $3 --publishers $4 --json $5 > /dev/null; }
bench
m=$(free); mp=$(node $m); r1=$(free); rp1=$(node $r1 --store redis --redis 127.0.0.1:$port); r2=$(free); rp2=$(node $r2 --store redis --redis 127.0.0.1:$port)
wait_node $m; wait_node $r1; wait_node $r2
for w in 1 16; do
  echo "-- window $w: in-memory, one node, 8 publishers; $(uptime)"
  lg $m $mp $w 8 ${OUT:-/tmp}/f-mem-w$w.json; report ${OUT:-/tmp}/f-mem-w$w.json
  echo "-- window $w: redis, one node, 8 publishers; $(uptime)"
  lg $r1 $rp1 $w 8 ${OUT:-/tmp}/f-one-w$w.json; report ${OUT:-/tmp}/f-one-w$w.json; redis-cli -p $port FLUSHALL > /dev/null
  echo "-- window $w: redis, two nodes, 4 publishers each at once; $(uptime)"
  lg $r1 $rp1 $w 4 ${OUT:-/tmp}/f-two-a-w$w.json & a=$!
  lg $r2 $rp2 $w 4 ${OUT:-/tmp}/f-two-b-w$w.json; wait $a
  report ${OUT:-/tmp}/f-two-a-w$w.json ${OUT:-/tmp}/f-two-b-w$w.json; redis-cli -p $port FLUSHALL > /dev/null
done
bench
kill $mp $rp1 $rp2 $rpid; wait
