#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz/ and runs each for
# SECONDS (default 20) on its seed corpus in fuzz/corpus/<target>/. Fails if a
# target crashes, leaks or times out.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# ccache: hash paths relative to the checkout, so clones in other folders
# (CI's fresh clone) reuse the cache.
export CCACHE_BASEDIR=$here CCACHE_NOHASHDIR=1
secs=${1:-20}
dir=$here/build-fuzz
CC=clang CXX=clang++ cmake -S "$here" -B "$dir" -G Ninja \
  -DGENOGATE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$dir" -j "$(nproc)" --target fuzzers
shopt -s nullglob
found=0
for bin in "$dir"/fuzz/*_fuzz; do
  name=$(basename "$bin")
  found=1
  corpus=$here/fuzz/corpus/$name
  work=$(mktemp -d)
  seeds=()
  [ -d "$corpus" ] && seeds=("$corpus")
  echo "fuzz: $name for ${secs}s"
  (cd "$work" && "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=0 "$work" "${seeds[@]}" 2>"$work/log") || {
    tail -n 40 "$work/log" >&2
    echo "fuzz: $name FAILED (artifacts in $work)" >&2
    exit 1
  }
  grep -E 'Done [0-9]+ runs' "$work/log" | sed "s/^/fuzz: $name: /" || true
  rm -rf "$work"
done
[ $found = 1 ] || echo "fuzz: no targets yet"
