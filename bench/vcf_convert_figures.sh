#!/usr/bin/env bash
# VCF -> FHIR end to end: generates a VCF with bench/gen_vcf.py (default
# 1,000,000 records: SNVs, indels, MNVs, multi-allelic sites, VEP CSQ on a
# third, ClinVar on a tenth), converts it with `genogate convert --ndjson`
# (plain, then gzip) and prints records/s, MB/s of input and peak RSS.
#
# usage: bench/vcf_convert_figures.sh [GENOGATE] [RECORDS]
#   GENOGATE defaults to build-release/genogate (scripts/bench.sh builds it).
#   The output (~5 GB of NDJSON for 1M records) goes to a temporary folder
#   under $TMPDIR and is removed. records/s is given per wall-clock second
#   and per CPU second (user + system): on a shared machine the latter is
#   the per-core figure.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build-release/genogate}
records=${2:-1000000}
[[ -x $bin ]] || { echo "no genogate binary at $bin" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt install time)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/genogate-vcf-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 "$here/bench/gen_vcf.py" "$records" "$work/in.vcf"
gzip -1 -c "$work/in.vcf" >"$work/in.vcf.gz"

run() {  # label input
  local label=$1 input=$2
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$bin" convert "$input" \
    --from vcf --patient 'urn:oid:1.2.3|P-1' --accession 'urn:oid:1.2.4|A-1' \
    --lab 'Bench Lab' --source-class germline --ndjson -o "$work/out.ndjson"
  local in_bytes out_bytes lines
  in_bytes=$(stat -c %s "$input")
  out_bytes=$(stat -c %s "$work/out.ndjson")
  lines=$(wc -l <"$work/out.ndjson")
  rm -f "$work/out.ndjson"
  read -r wall user sys rss_kb <"$work/time"
  awk -v l="$label" -v n="$records" -v ib="$in_bytes" -v ob="$out_bytes" \
      -v lines="$lines" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss_kb" '
    BEGIN {
      cpu = u + s
      printf "%-5s %d records, %.1f MB in, %.1f MB out (%d resources)\n",
             l, n, ib / 1e6, ob / 1e6, lines
      printf "      wall %.1f s: %.0f records/s, %.1f MB/s in\n",
             w, n / w, ib / 1e6 / w
      printf "      CPU  %.1f s (user %.1f + sys %.1f): %.0f records/s, %.1f MB/s in\n",
             cpu, u, s, n / cpu, ib / 1e6 / cpu
      printf "      peak RSS %.1f MB\n", r / 1024
    }'
}

echo "== genogate convert --ndjson ($(basename "$bin"), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
run plain "$work/in.vcf"
run gzip "$work/in.vcf.gz"
