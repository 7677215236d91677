#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine (as root): installs what genogate
# needs, builds it, starts the gateway on its embedded default and sends a
# lab's VEP-annotated VCF (examples/) through it end to end.
#
#   1. `genogate serve` starts with a private redis-server (AOF on) in its
#      data directory and one endpoint: a file:// outbox, or the EHR named by
#      GENOGATE_DEMO_EHR (a FHIR base URL, e.g. http://localhost:8080/fhir).
#   2. The VCF is POSTed to /submissions: genogate maps it to a Genomics
#      Reporting IG 3.0.0 transaction Bundle, validates it and queues it
#      (202 + Location).
#   3. The script follows GET /submissions/{id} until the report is
#      delivered, prints its status and where the report went, and stops
#      the gateway (SIGTERM: graceful shutdown).
#
# Output (logs, data, outbox): $GENOGATE_DEMO_OUT, default build/demo.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scripts/setup.sh
out=${GENOGATE_DEMO_OUT:-$here/build/demo}
rm -rf "$out"
mkdir -p "$out/outbox"
vcf=examples/panel-grch38-vep.vcf
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
if [ -n "${GENOGATE_DEMO_EHR:-}" ]; then
  endpoint="ehr=$GENOGATE_DEMO_EHR"
else
  endpoint="outbox=file://$out/outbox"
fi

echo "== genogate serve on $base (embedded Redis in $out/data; endpoint ${endpoint%%=*})"
build/genogate serve --listen "127.0.0.1:$port" --data-dir "$out/data" \
  --endpoint "$endpoint" > "$out/serve.log" 2>&1 &
serve_pid=$!
stop_serve() {
  if kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
}
trap stop_serve EXIT
for _ in $(seq 1 600); do
  if curl -fsS "$base/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$serve_pid" 2>/dev/null; then
    echo "genogate serve stopped; its log:" >&2
    cat "$out/serve.log" >&2
    exit 1
  fi
  sleep 0.2
done
curl -fsS "$base/readyz" >/dev/null

query=$(python3 -c 'import urllib.parse as u; print(u.urlencode({
  "patient": "urn:oid:2.16.840.1.113883.19.5|DEMO-0001",
  "accession": "urn:oid:2.16.840.1.113883.19.6|ACC-2026-0001",
  "lab": "Demo Genomics Laboratory", "source-class": "germline"}))')
echo "== POST /submissions ($vcf, text/x-vcf)"
curl -sS -o "$out/submit.json" -D "$out/submit.headers" \
  -H 'Content-Type: text/x-vcf' --data-binary "@$vcf" \
  "$base/submissions?$query"
status=$(head -1 "$out/submit.headers" | awk '{print $2}')
location=$(grep -i '^location:' "$out/submit.headers" | tr -d '\r' | awk '{print $2}')
echo "   HTTP $status, Location: $location"
if [ "$status" != 202 ]; then
  cat "$out/submit.json" >&2
  exit 1
fi

echo "== GET $location until delivered"
state=""
for _ in $(seq 1 300); do
  curl -fsS "$base$location" -o "$out/status.json"
  state=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(",".join(e["state"] for e in d["endpoints"]))' "$out/status.json")
  case "$state" in
    *delivered*|*dead-lettered*) break ;;
  esac
  sleep 0.2
done
python3 - "$out/status.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f'   submission {d["id"]}: {d["state"]}; {d["variants"]} variants, '
      f'{d["entries"]} bundle entries')
for s in d["stages"]:
    print(f'     {s["time"]}  {s["stage"]}')
for e in d["endpoints"]:
    line = f'   endpoint {e["endpoint"]}: {e["state"]}'
    ids = e.get("resourceIds", [])
    if ids:
        line += f' ({", ".join(ids[:3])}{", ..." if len(ids) > 3 else ""})'
    if e.get("reason"):
        line += f' - {e["reason"]}'
    print(line)
PY
case "$state" in
  *delivered*) ;;
  *) echo "== not delivered (state: $state); see $out/serve.log" >&2; exit 1 ;;
esac
if [ -z "${GENOGATE_DEMO_EHR:-}" ]; then
  for f in "$out"/outbox/*; do
    echo "== the report went to $f ($(wc -c < "$f") bytes)"
  done
else
  echo "== the report went to $GENOGATE_DEMO_EHR"
fi
stop_serve
trap - EXIT
echo "== done (gateway log: $out/serve.log)"
