#!/bin/bash
# docs/benchmarks.md "Redis store": in one run, redis-benchmark (XADD, EVALSHA of a one-command XADD script and of
# brummerq's send script; unpipelined -P 1 and pipelined -P 16; -c equal to the publishers), then acked WebSocket sends
# (PUBLISHERS publishers, no subscribers, 100-byte payloads, DURATION s each): an in-memory node, one Redis node, two
# Redis nodes (half the publishers on each, two generators at once), with window 1 (unpipelined) and 16, repeated ROUNDS
# times; redis-benchmark again at the end; then medians and ratios. One redis-server without persistence on a free
# loopback port; every process stopped by pid. Build first:
#   dotnet build -c Release src/BrummerQueue.Server && dotnet build -c Release bench/BrummerQueue.Load
# Settings (environment): OUT (/tmp), ROUNDS (3), PUBLISHERS (8), DURATION (10), NODE_ENV (extra environment for the
# nodes, e.g. "DOTNET_ThreadPool_ForceMinWorkerThreads=64"), BEFORE (the brummerq.dll of another build, e.g. the commit
# before a change: then each round also runs one node of it on the Redis store, "before", for a comparison in one run).
cd "$(dirname "$0")/.."
out=${OUT:-/tmp}
rounds=${ROUNDS:-3}
pubs=${PUBLISHERS:-8}
duration=${DURATION:-10}
brummerq=$PWD/src/BrummerQueue.Server/bin/Release/net10.0/brummerq.dll
load=$PWD/bench/BrummerQueue.Load/bin/Release/net10.0/brummerq-load.dll
scripts=$PWD/src/BrummerQueue.Redis/Scripts
free() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port=$(free)
redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no > $out/redis4.log 2>&1 & rpid=$!
for i in $(seq 50); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
payload=$(printf 'x%.0s' $(seq 100))
# One line per benchmark into $out/rb.txt: "<phase> <name> <requests per second>".
rb() { local name=$1 phase=$2; shift 2
  local rps=$(redis-benchmark -p $port -c $pubs -n $1 -P $2 -q "${@:3}" | tr '\r' '\n' | grep -a "per second" | tail -1 | sed 's/.*: \([0-9.]*\) requests per second.*/\1/')
  echo "  $name: $rps/s"; echo "$phase $name $rps" >> $out/rb.txt; }
bench() {
  echo "-- redis-benchmark -c $pubs ($1); $(uptime)"
  rb "XADD -P 1" $1 100000 1 XADD rb:s MAXLEN 1000 '*' p $payload
  rb "XADD -P 16" $1 400000 16 XADD rb:s MAXLEN 1000 '*' p $payload
  local sha=$(redis-cli -p $port SCRIPT LOAD "return redis.call('XADD', KEYS[1], 'MAXLEN', '1000', '*', 'p', ARGV[1])")
  rb "EVALSHA xadd -P 1" $1 100000 1 EVALSHA $sha 1 rb:e $payload
  rb "EVALSHA xadd -P 16" $1 400000 16 EVALSHA $sha 1 rb:e $payload
  # brummerq's send script as the store calls it: 8 keys, 9 arguments and one message (plen exp tail), a channel full
  # at 1,000 (each call evicts one); then a batch of 8 messages in one call, as a busy channel's sends go (ops/s x 8).
  local send=$( (cat $scripts/common.lua; echo; cat $scripts/send.lua) | redis-cli -p $port -x SCRIPT LOAD)
  local head="8 b:{rb}:meta b:{rb}:q b:{rb}:x b:{rb}:d b:{rb}:subs b:global b:channels b:subs 1796077440000 1000 268435456 10000 k55umjnq rb b:{rb}: b:notify:3 nodeabcd"
  local msg="102 4102444800000 1796077440000|3600|01a22e8ece3472ae96062888b5fa8057|7|message\"$payload\""
  rb "EVALSHA send -P 1" $1 50000 1 EVALSHA $send $head $msg
  rb "EVALSHA send -P 16" $1 200000 16 EVALSHA $send $head $msg
  rb "EVALSHA send x8 -P 1" $1 20000 1 EVALSHA $send $head $msg $msg $msg $msg $msg $msg $msg $msg
  redis-cli -p $port FLUSHALL > /dev/null
}
wait_node() { for i in $(seq 100); do curl -sf http://127.0.0.1:$1/healthz >/dev/null && return; sleep 0.2; done; echo "node $1 not healthy"; }
node() { env $NODE_ENV dotnet ${DLL:-$brummerq} serve --port $1 --max-frames-per-second 100000 ${@:2} > $out/node-$1.log 2>&1 & echo $!; }
lg() { dotnet $load --url http://127.0.0.1:$1 --server-pid $2 --subscribers 0 --duration $duration --payload-bytes 100 --window $3 --publishers $4 --json $5 > /dev/null; }
show() { python3 -c "
import json,sys
t=0
for f in sys.argv[1:]:
  d=json.load(open(f)); t+=d['sent_per_second']; print('   ', f.split('/')[-1], 'publishers', d['publishers'], 'acked/s', round(d['sent_per_second']), 'send errors', d['send_errors'], 'server cpu s', d['server_cpu_seconds'])
print('    total acked/s', round(t))" "$@"; }
rm -f $out/rb.txt $out/f-*-r*.json
bench before
m=$(free); mp=$(node $m); r1=$(free); rp1=$(node $r1 --store redis --redis 127.0.0.1:$port); r2=$(free); rp2=$(node $r2 --store redis --redis 127.0.0.1:$port)
wait_node $m; wait_node $r1; wait_node $r2
if [ -n "$BEFORE" ]; then b=$(free); bp=$(DLL=$BEFORE node $b --store redis --redis 127.0.0.1:$port); wait_node $b; fi
for r in $(seq $rounds); do
  for w in 1 16; do
    echo "-- round $r, window $w: in-memory, one node, $pubs publishers; $(uptime)"
    lg $m $mp $w $pubs $out/f-mem-w$w-r$r.json; show $out/f-mem-w$w-r$r.json
    echo "-- round $r, window $w: redis, one node, $pubs publishers; $(uptime)"
    lg $r1 $rp1 $w $pubs $out/f-one-w$w-r$r.json; show $out/f-one-w$w-r$r.json; redis-cli -p $port FLUSHALL > /dev/null
    echo "-- round $r, window $w: redis, two nodes, $((pubs / 2)) publishers each at once; $(uptime)"
    lg $r1 $rp1 $w $((pubs / 2)) $out/f-two-a-w$w-r$r.json & a=$!
    lg $r2 $rp2 $w $((pubs / 2)) $out/f-two-b-w$w-r$r.json; wait $a
    show $out/f-two-a-w$w-r$r.json $out/f-two-b-w$w-r$r.json; redis-cli -p $port FLUSHALL > /dev/null
    if [ -n "$BEFORE" ]; then
      echo "-- round $r, window $w: redis, one node of the build before, $pubs publishers; $(uptime)"
      lg $b $bp $w $pubs $out/f-before-w$w-r$r.json; show $out/f-before-w$w-r$r.json; redis-cli -p $port FLUSHALL > /dev/null
    fi
  done
done
bench after
kill $mp $rp1 $rp2 $bp $rpid; wait
python3 - "$out" "$rounds" "$duration" <<'EOF'
import json, os, statistics, sys
out, rounds, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rb = {}
for line in open(f'{out}/rb.txt'):
    phase, rest = line.split(' ', 1)
    name, rps = rest.rsplit(' ', 1)
    rb.setdefault(name, []).append(float(rps))
print('== redis-benchmark (before, after; median)')
for name, v in rb.items():
    print(f'  {name}: {", ".join(str(round(x)) for x in v)}; median {round(statistics.median(v))}')
xadd = statistics.median(rb['XADD -P 1'])
send = statistics.median(rb['EVALSHA send -P 1'])
def acked(kind, w, r):
    files = [f'{out}/f-two-a-w{w}-r{r}.json', f'{out}/f-two-b-w{w}-r{r}.json'] if kind == 'two' else [f'{out}/f-{kind}-w{w}-r{r}.json']
    runs = [json.load(open(f)) for f in files]
    return sum(d['sent_per_second'] for d in runs), sum(d['send_errors'] for d in runs), sum(d['server_cpu_seconds'] for d in runs)
print(f'== acked WebSocket sends/s, median of {rounds} rounds; ratio to the median unpipelined XADD ({round(xadd)}) and send script ({round(send)})')
for w in (1, 16):
    for kind in ('mem', 'one', 'two', 'before'):
        if kind == 'before' and not os.path.exists(f'{out}/f-before-w{w}-r1.json'):
            continue
        runs = [acked(kind, w, r) for r in range(1, rounds + 1)]
        med = statistics.median(x[0] for x in runs)
        cpu = statistics.median(x[2] for x in runs)
        print(f'  window {w:2} {kind}: {", ".join(str(round(x[0])) for x in runs)}; median {round(med)}; errors {sum(x[1] for x in runs)};'
              f' x XADD {med / xadd:.2f}; x send script {med / send:.2f}; server cpu s (median) {cpu:.1f} = {1e6 * cpu / (med * duration):.0f} us/send')
    one = [acked('one', w, r)[0] for r in range(1, rounds + 1)]
    two = [acked('two', w, r)[0] for r in range(1, rounds + 1)]
    print(f'  window {w:2} two/one per round: {", ".join(f"{b / a:.2f}" for a, b in zip(one, two))}')
EOF
