#!/usr/bin/env bash
# Builds genogate (Release) and prints the benchmark figures of bench/.
# Close other work on the machine first: the figures are wall-clock.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scripts/setup.sh --no-build
# Warnings are not errors here: GCC 12 at -O3 reports -Wrestrict false
# positives in std::string code that -O2 builds do not.
GENOGATE_BUILD_DIR=$here/build-release scripts/build.sh \
  -DCMAKE_BUILD_TYPE=Release -DGENOGATE_WERROR=OFF
shopt -s nullglob
for b in build-release/bench/*_bench; do
  echo "== $(basename "$b")"
  "$b"
done
