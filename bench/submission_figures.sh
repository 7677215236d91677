#!/usr/bin/env bash
# Submission figures: wrk drives POST /submissions with a small VCF
# (examples/panel-grch38-vep.vcf, 5 variants; a new accession per request)
# against `genogate serve` (embedded Redis, a file:// outbox endpoint, its
# delivery workers running) and, in the same run, the same requests against
# a minimal Beast server that reads each and answers "ok" (the
# ceiling of HTTP on this machine). Prints submissions/s with p50 and p99
# latency for each.
#
#   bench/submission_figures.sh [BUILD_DIR]     (default build-release)
#
# Environment: WRK_THREADS (1), WRK_CONNECTIONS (8), WRK_DURATION (10s),
# GENOGATE_BENCH_VCF (the VCF to post).
# Loopback only; each run is bounded by WRK_DURATION.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build-release}
genogate=$build/genogate
minimal=$build/bench/server_bench
threads=${WRK_THREADS:-1}
connections=${WRK_CONNECTIONS:-8}
duration=${WRK_DURATION:-10s}
vcf=${GENOGATE_BENCH_VCF:-$here/examples/panel-grch38-vep.vcf}
if ! command -v wrk >/dev/null 2>&1; then
  echo "submission_figures: wrk is not installed (scripts/setup.sh installs it)" >&2
  exit 1
fi
for b in "$genogate" "$minimal"; do
  [ -x "$b" ] || { echo "submission_figures: $b not built" >&2; exit 1; }
done

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

work=$(mktemp -d -t genogate-bench-XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The request: the VCF as the body, a fresh accession per request (so that
# each is a new report, not a new version of one), Content-Type text/x-vcf.
# wrk gives every thread its own Lua state: the accession carries the
# thread's number.
cat >"$work/post.lua" <<EOF
local f = assert(io.open("$vcf", "rb"))
local body = f:read("*a")
f:close()
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
local headers = { ["Content-Type"] = "text/x-vcf" }
function request()
  n = n + 1
  local path = "/submissions?patient=urn:oid:1.2.3%7CBENCH-P"
    .. "&accession=urn:oid:1.2.4%7CBENCH-" .. tid .. "-" .. n
    .. "&lab=Bench%20Lab"
  return wrk.format("POST", path, headers, body)
end
EOF

# figures NAME WRK_OUTPUT: prints one line; fails on non-2xx answers.
figures() {
  local name=$1 out=$2 rps p50 p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then
    echo "submission_figures: $name answered non-2xx:" >&2; echo "$out" >&2; exit 1
  fi
  printf '%-40s %9s submissions/s   p50 %8s   p99 %8s\n' "$name" "$rps" "$p50" "$p99"
}

# 1. genogate serve, embedded Redis, a file:// outbox.
port=$(free_port)
mkdir -p "$work/outbox"
"$genogate" serve --listen "127.0.0.1:$port" --data-dir "$work/data" \
  --endpoint "outbox=file://$work/outbox" 2>"$work/serve.log" &
pid=$!
ready=
for _ in $(seq 600); do
  if curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; then ready=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "submission_figures: genogate serve did not become ready:" >&2
  tail -20 "$work/serve.log" >&2
  exit 1
fi
# One submission first: it must be accepted (202), or the figures mean
# nothing.
code=$(curl -s -o "$work/first.json" -w '%{http_code}' -X POST \
  -H 'Content-Type: text/x-vcf' --data-binary "@$vcf" \
  "http://127.0.0.1:$port/submissions?patient=urn:oid:1.2.3%7CBENCH-P&accession=urn:oid:1.2.4%7CBENCH-0&lab=Bench%20Lab")
if [ "$code" != 202 ]; then
  echo "submission_figures: the first submission answered $code:" >&2
  cat "$work/first.json" >&2
  exit 1
fi

echo "wrk -t$threads -c$connections -d$duration, POST /submissions with $(basename "$vcf") ($(wc -c <"$vcf") bytes) over loopback keep-alive ($(nproc) cores)"
out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency \
  -s "$work/post.lua" "http://127.0.0.1:$port")
figures "genogate serve (map+validate+queue)" "$out"
# What became of them: delivered to the outbox so far, and still queued.
sleep 2
delivered=$(find "$work/outbox" -name '*.json' | wc -l)
queued=$(curl -s "http://127.0.0.1:$port/metrics" |
  awk '/^genogate_queue_jobs\{endpoint="outbox",state="(ready|delayed|in_flight)"\}/ {s += $2} END {print s + 0}')
echo "  (2 s after the run: $delivered delivered to the outbox, $queued still queued)"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

# 2. The ceiling: the minimal Beast server, same requests.
port=$(free_port)
"$minimal" minimal "$port" 2>/dev/null &
pid=$!
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/ping" && break
  sleep 0.05
done
out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency \
  -s "$work/post.lua" "http://127.0.0.1:$port")
figures "minimal Beast server (ceiling)" "$out"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
