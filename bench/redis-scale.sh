#!/bin/bash
# docs/benchmarks.md "Two nodes, each with a CPU budget": do two Redis nodes deliver more than one when each node has
# CPU of its own? On a 2-core machine the generators, Redis and the nodes share both cores, so a node cannot get a core
# of its own; instead each node runs in its own cgroup (v1 cpu controller, root) with a quota of QUOTA of one core
# (default 0.25), as a node on a small machine of its own would. Then, ROUNDS times (default 3) for window 1 and 16:
# 8 publishers on one node, and 4 + 4 on two nodes at once (two generators), 100-byte payloads, DURATION s (10), no
# subscribers; medians and two/one per round. Build first as for bench/redis-load.sh. OUT (/tmp/redis-scale).
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/redis-scale}; mkdir -p $out
rounds=${ROUNDS:-3}; duration=${DURATION:-10}; quota=${QUOTA:-0.25}
cg=/sys/fs/cgroup/cpu
if ! mkdir -p $cg/bq-node1 $cg/bq-node2 2>/dev/null; then echo "needs a writable cgroup v1 cpu controller at $cg (root)"; exit 1; fi
# A 10 ms period: a node that used its share waits at most until the next 10 ms, not 100 ms.
for g in bq-node1 bq-node2; do echo 10000 > $cg/$g/cpu.cfs_period_us; python3 -c "print(int($quota*10000))" > $cg/$g/cpu.cfs_quota_us; done
brummerq=$PWD/src/BrummerQueue.Server/bin/Release/net10.0/brummerq.dll
load=$PWD/bench/BrummerQueue.Load/bin/Release/net10.0/brummerq-load.dll
free() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port=$(free)
redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no > $out/redis.log 2>&1 & rpid=$!
for i in $(seq 50); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
# A node started inside its cgroup (the shell joins it, then becomes the node).
node() { sh -c "echo \$\$ > $cg/$2/cgroup.procs; exec dotnet $brummerq serve --port $1 --max-frames-per-second 100000 --store redis --redis 127.0.0.1:$port" > $out/node-$1.log 2>&1 & echo $!; }
wait_node() { for i in $(seq 100); do curl -sf http://127.0.0.1:$1/healthz >/dev/null && return; sleep 0.2; done; echo "node $1 not healthy"; }
lg() { dotnet $load --url http://127.0.0.1:$1 --server-pid $2 --subscribers 0 --duration $duration --payload-bytes 100 --window $3 --publishers $4 --json $5 > /dev/null; }
n1=$(free); p1=$(node $n1 bq-node1); n2=$(free); p2=$(node $n2 bq-node2)
wait_node $n1; wait_node $n2
rm -f $out/s-*.json
for r in $(seq $rounds); do
  for w in 1 16; do
    echo "-- round $r, window $w: one node (8 publishers); $(uptime)"
    lg $n1 $p1 $w 8 $out/s-one-w$w-r$r.json; redis-cli -p $port FLUSHALL > /dev/null
    echo "-- round $r, window $w: two nodes (4 + 4 publishers); $(uptime)"
    lg $n1 $p1 $w 4 $out/s-two-a-w$w-r$r.json & a=$!
    lg $n2 $p2 $w 4 $out/s-two-b-w$w-r$r.json; wait $a; redis-cli -p $port FLUSHALL > /dev/null
  done
done
kill $p1 $p2 $rpid; wait
rmdir $cg/bq-node1 $cg/bq-node2 2>/dev/null
python3 - "$out" "$rounds" "$duration" "$quota" <<'PY'
import json, statistics, sys
out, rounds, duration, quota = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
load = lambda f: json.load(open(f'{out}/{f}'))
print(f'== acked WebSocket sends/s, each node limited to {quota} of a core; median of {rounds} rounds')
for w in (1, 16):
    one = [load(f's-one-w{w}-r{r}.json') for r in range(1, rounds + 1)]
    two = [(load(f's-two-a-w{w}-r{r}.json'), load(f's-two-b-w{w}-r{r}.json')) for r in range(1, rounds + 1)]
    o = [d['sent_per_second'] for d in one]
    t = [a['sent_per_second'] + b['sent_per_second'] for a, b in two]
    oc = [d['server_cpu_seconds'] for d in one]
    tc = [a['server_cpu_seconds'] + b['server_cpu_seconds'] for a, b in two]
    errors = sum(d['send_errors'] for d in one) + sum(a['send_errors'] + b['send_errors'] for a, b in two)
    print(f'  window {w:2}: one node {", ".join(str(round(x)) for x in o)}; median {round(statistics.median(o))}; node cpu s {statistics.median(oc):.1f}')
    print(f'  window {w:2}: two nodes {", ".join(str(round(x)) for x in t)}; median {round(statistics.median(t))}; nodes cpu s {statistics.median(tc):.1f}')
    print(f'  window {w:2}: two/one per round: {", ".join(f"{b / a:.2f}" for a, b in zip(o, t))}; send errors {errors}')
PY
