#!/usr/bin/env bash
# Builds genogate (Release) and prints the benchmark figures of bench/.
# Close other work on the machine first: the figures are wall-clock.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scripts/setup.sh --no-build
GENOGATE_BUILD_DIR=$here/build-release scripts/build.sh -DCMAKE_BUILD_TYPE=Release
shopt -s nullglob
for b in build-release/bench/*_bench; do
  # server_bench is a pair of servers that server_figures.sh drives.
  [ "$(basename "$b")" = server_bench ] && continue
  echo "== $(basename "$b")"
  "$b"
done
echo "== server_figures.sh"
bench/server_figures.sh build-release
