#!/usr/bin/env bash
# HTTP server figures: wrk against genogate's HttpServer (trivial route
# GET /ping, with its router, handler threads, metrics and request logs)
# and, in the same run, against a minimal Beast server (the ceiling on this
# machine). Prints requests/s with p50 and p99 latency for each.
#
#   bench/server_figures.sh [BUILD_DIR]     (default build-release)
#
# Environment: WRK_THREADS (1), WRK_CONNECTIONS (32), WRK_DURATION (10s).
# Loopback only; each run is bounded by WRK_DURATION.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build-release}
bin=$build/bench/server_bench
threads=${WRK_THREADS:-1}
connections=${WRK_CONNECTIONS:-32}
duration=${WRK_DURATION:-10s}
if ! command -v wrk >/dev/null 2>&1; then
  echo "server_figures: wrk is not installed (scripts/setup.sh installs it)" >&2
  exit 1
fi
[ -x "$bin" ] || { echo "server_figures: $bin not built" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; }
trap cleanup EXIT

# run NAME MODE: starts the server, waits for it, runs wrk, prints a line.
run() {
  local name=$1 mode=$2 port out rps p50 p99
  port=$(free_port)
  "$bin" "$mode" "$port" 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/ping" && break
    sleep 0.05
  done
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency \
    "http://127.0.0.1:$port/ping")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then
    echo "server_figures: $name answered non-2xx:" >&2; echo "$out" >&2; exit 1
  fi
  printf '%-34s %10s req/s   p50 %8s   p99 %8s\n' "$name" "$rps" "$p50" "$p99"
}

echo "wrk -t$threads -c$connections -d$duration, GET /ping over loopback keep-alive ($(nproc) cores)"
run "genogate HttpServer (trivial route)" genogate
run "minimal Beast server (ceiling)" minimal
