#!/usr/bin/env bash
# Delivery figures in one run (scripts/bench.sh calls it):
#   * deliveries/s to a local file:// sink and to the HAPI test EHR, through
#     MemoryQueue workers and through the real path (RedisQueue +
#     DeliveryService), from bench/delivery_bench;
#   * queue operations/s (bench/queue_bench: genogate's queue next to
#     redis-benchmark on its own redis-server);
#   * redis-benchmark on the same redis-server delivery_bench used, right
#     after it, for the raw Redis figures beside genogate's enqueues/s.
#
#   bench/delivery_figures.sh [BUILD_DIR=build-release] [JOBS=200]
#
# Needs redis-server, redis-benchmark, and what scripts/e2e-ehr.sh needs
# (java; the HAPI test EHR is built on first use). With GENOGATE_TEST_EHR_URL
# already set, that EHR is used instead of starting one.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build-release}
jobs=${2:-200}
for b in delivery_bench queue_bench; do
  [ -x "$build/bench/$b" ] || { echo "delivery_figures: no $build/bench/$b (build it first)" >&2; exit 2; }
done

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
  --appendfsync always --save '' --logfile "$dir/redis.log" --daemonize yes \
  --pidfile "$dir/redis.pid"
cleanup() {
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

echo "== delivery_bench (redis-server :$port, appendfsync always; HAPI test EHR)"
export GENOGATE_BENCH_REDIS_URL="redis://127.0.0.1:$port/0"
if [ -n "${GENOGATE_TEST_EHR_URL:-}" ]; then
  "$build/bench/delivery_bench" "$jobs"
else
  "$here/scripts/e2e-ehr.sh" -- "$build/bench/delivery_bench" "$jobs"
fi

echo "== redis-benchmark on the same redis-server (appendfsync always)"
redis-benchmark -p "$port" -q -c 1 -n 2000 -d 8192 -t set,lpush 2>/dev/null | tr '\r' '\n' | grep 'per second' | sed 's/^/  -c 1  /'
redis-benchmark -p "$port" -q -c 1 -n 2000 XADD benchstream '*' f v 2>/dev/null | tr '\r' '\n' | grep 'per second' | sed 's/^/  -c 1  /'
redis-benchmark -p "$port" -q -c 50 -n 100000 -d 8192 -t set,lpush 2>/dev/null | tr '\r' '\n' | grep 'per second' | sed 's/^/  -c 50 /'

echo "== queue_bench (genogate queue operations beside redis-benchmark)"
"$build/bench/queue_bench"
