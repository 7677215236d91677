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
  case "$(basename "$b")" in
    delivery_bench | queue_bench) continue ;;  # in delivery_figures.sh
    server_bench) continue ;;  # in server_figures.sh
  esac
  echo "== $(basename "$b")"
  "$b"
done
bench/delivery_figures.sh "$here/build-release"
# End to end: a generated 1,000,000-record VCF to NDJSON (records/s, MB/s,
# peak RSS).
bench/vcf_convert_figures.sh build-release/genogate
echo "== server_figures.sh"
bench/server_figures.sh build-release
# genogate serve end to end: POST /submissions with a small VCF under wrk,
# beside the minimal Beast server (the ceiling).
echo "== submission_figures.sh"
bench/submission_figures.sh build-release
