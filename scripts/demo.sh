#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine (as root): installs what genogate
# needs, builds it, and runs it on a sample.
#
# Today the sample run converts a Genomics Reporting IG variant Observation
# (from the IG package) from FHIR JSON to FHIR XML and back, and checks that
# nothing changed. As the gateway grows, this script grows into starting
# `genogate serve` on its embedded default and sending a VCF through it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scripts/setup.sh
cache=${GENOGATE_PACKAGE_CACHE:-$HOME/.cache/genogate/packages}
sample="$cache/hl7.fhir.uv.genomics-reporting#3.0.0/package/example/Observation-VariantExample.json"
[ -f "$sample" ] || sample=$(ls "$cache/hl7.fhir.uv.genomics-reporting#3.0.0/package/example/"Observation-*.json | head -n 1)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== genogate format: $(basename "$sample") (JSON) -> XML -> JSON"
build/genogate format "$sample" --to xml -o "$out/variant.xml"
build/genogate format "$out/variant.xml" --to json -o "$out/variant.json"
head -n 25 "$out/variant.xml"
echo "..."
if python3 - "$sample" "$out/variant.json" <<'PY'
import json, sys
from decimal import Decimal
load = lambda p: json.load(open(p), parse_float=Decimal, parse_int=Decimal)
sys.exit(0 if load(sys.argv[1]) == load(sys.argv[2]) else 1)
PY
then
  echo "== round trip: the JSON written back equals the original"
else
  echo "== round trip FAILED: the JSON written back differs" >&2
  exit 1
fi
