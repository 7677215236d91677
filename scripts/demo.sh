#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine (as root): installs what genogate
# needs, builds it, and runs a sample through it.
#
# Today: converts a lab's VEP-annotated VCF (examples/) into a Genomics
# Reporting IG 3.0.0 transaction Bundle, validates the Bundle against the IG
# profiles, and converts it to FHIR XML. As the gateway grows, this script
# grows into starting `genogate serve` on its embedded default and sending
# the VCF through it to an outbox or an EHR.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scripts/setup.sh
out=${GENOGATE_DEMO_OUT:-$here/build/demo}
mkdir -p "$out"
vcf=examples/panel-grch38-vep.vcf

echo "== genogate convert $vcf"
build/genogate convert "$vcf" --from vcf \
  --patient 'urn:oid:2.16.840.1.113883.19.5|DEMO-0001' \
  --accession 'urn:oid:2.16.840.1.113883.19.6|ACC-2026-0001' \
  --lab 'Demo Genomics Laboratory' --source-class germline \
  -o "$out/report.bundle.json"
python3 - "$out/report.bundle.json" <<'PY'
import collections, json, sys
b = json.load(open(sys.argv[1]))
kinds = collections.Counter()
for e in b["entry"]:
    r = e["resource"]
    p = r.get("meta", {}).get("profile", [""])[0].rsplit("/", 1)[-1]
    kinds[f'{r["resourceType"]} ({p})' if p else r["resourceType"]] += 1
print(f'   a {b["type"]} Bundle of {len(b["entry"])} entries (conditional creates):')
for k, n in sorted(kinds.items()):
    print(f"     {n:3d} x {k}")
PY

echo "== genogate validate (R4 + Genomics Reporting IG 3.0.0 profiles)"
set +e
build/genogate validate "$out/report.bundle.json" > "$out/report.outcome.json"
rc=$?
set -e
python3 - "$out/report.outcome.json" <<'PY'
import collections, json, sys
oo = json.load(open(sys.argv[1]))
c = collections.Counter(i["severity"] for i in oo["issue"])
print("   " + ", ".join(f"{n} {s}" for s, n in sorted(c.items())))
PY
if [ $rc != 0 ]; then
  echo "== validation found errors (see $out/report.outcome.json)" >&2
  exit 1
fi

echo "== genogate format --to xml"
build/genogate format "$out/report.bundle.json" --to xml -o "$out/report.bundle.xml"
echo "   wrote $out/report.bundle.xml ($(wc -c < "$out/report.bundle.xml") bytes)"
echo "== done: the report is in $out/"
