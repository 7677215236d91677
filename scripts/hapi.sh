#!/usr/bin/env bash
# The test EHR for end-to-end tests: a HAPI FHIR JPA server (R4, in-memory H2)
# built from tests/hapi/ (see tests/hapi/README.md).
#
#   scripts/hapi.sh build              build tests/hapi/target/genogate-test-ehr.jar
#                                      (skipped when the jar is newer than the sources)
#   scripts/hapi.sh start PORT DIR     build if needed, start the server on 127.0.0.1:PORT
#                                      in the background, wait until /fhir/metadata answers,
#                                      print the FHIR base URL; pid and logs go into DIR
#   scripts/hapi.sh stop DIR           stop the server started with DIR (TERM, then KILL)
#   scripts/hapi.sh smoke BASE_URL     smoke-test a running server; exits non-zero on failure
#
# Environment:
#   GENOGATE_HAPI_JAVA_OPTS      JVM options (default sized for 2 cores / 24 GB, see below)
#   GENOGATE_HAPI_START_TIMEOUT  seconds to wait for start (default 300)
#   GENOGATE_HAPI_STOP_TIMEOUT   seconds between TERM and KILL (default 30)
#   GENOGATE_HAPI_PERSIST=1      keep the H2 database in DIR/h2 instead of in memory
#   GENOGATE_HAPI_ARGS           extra Spring arguments, e.g. --genogate.ehr.strict-parsing=false
#   GENOGATE_PACKAGE_CACHE       FHIR package cache (default ~/.cache/genogate/packages);
#                                smoke posts Genomics Reporting IG examples from it
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
app="$here/tests/hapi"
jar="$app/target/genogate-test-ehr.jar"

die() { echo "hapi: $*" >&2; exit 1; }
log() { echo "hapi: $*" >&2; }

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required but not installed"; }

# ---------------------------------------------------------------------------------------------
cmd_build() {
  need mvn
  need java
  if [ -f "$jar" ] && [ -z "$(find "$app/pom.xml" "$app/src" -newer "$jar" -print -quit)" ]; then
    log "build: $jar is up to date"
    return 0
  fi
  log "build: mvn package in tests/hapi (a first build downloads ~400 MB into ~/.m2)"
  local t0=$SECONDS
  # Maven writes to stdout; keep stdout for the base URL that start prints.
  (cd "$app" && mvn -q -B -Dstyle.color=never package -DskipTests) >&2 || die "build failed"
  [ -f "$jar" ] || die "build did not produce $jar"
  log "build: done in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------------------------------------
pid_of() { # DIR -> pid of our server, if it is running
  local f="$1/hapi.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # Guard against a recycled pid: it must still be our jar.
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'genogate-test-ehr\.jar' || return 1
  echo "$pid"
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

show_logs() {
  local dir="$1"
  echo "---- $dir/hapi.log (tail)" >&2
  tail -n 40 "$dir/hapi.log" >&2 2>/dev/null || true
  echo "---- $dir/hapi.out (tail)" >&2
  tail -n 20 "$dir/hapi.out" >&2 2>/dev/null || true
}

_start_dir=
abort_start() {
  local rc=$?
  if [ -n "$_start_dir" ]; then
    log "start: failed, stopping the server"
    GENOGATE_HAPI_STOP_TIMEOUT=10 cmd_stop "$_start_dir" || true
  fi
  exit "$rc"
}

cmd_start() {
  [ $# -eq 2 ] || usage
  local port="$1" dir="$2"
  [[ "$port" =~ ^[0-9]+$ ]] || die "start: PORT must be a number, got '$port'"
  need curl
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local pid
  if pid=$(pid_of "$dir"); then die "start: already running from $dir (pid $pid)"; fi
  port_in_use "$port" && die "start: port $port on 127.0.0.1 is already in use"
  cmd_build

  # 2 cores, 24 GB shared: a fixed 1.5 GB heap is plenty for an in-memory test EHR.
  # C1 only (TieredStopAtLevel=1) starts faster; SerialGC avoids GC threads on 2 cores.
  local java_opts=${GENOGATE_HAPI_JAVA_OPTS:--Xms256m -Xmx1536m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC}
  local -a args=(--server.port="$port" --server.address=127.0.0.1
                 --logging.file.name="$dir/hapi.log")
  if [ "${GENOGATE_HAPI_PERSIST:-0}" = 1 ]; then
    args+=(--genogate.ehr.db-dir="$dir/h2")
  fi
  # shellcheck disable=SC2206  # word splitting of the user's extra arguments is intended
  args+=(${GENOGATE_HAPI_ARGS:-})

  rm -f "$dir/hapi.log" "$dir/hapi.out"
  local t0=$SECONDS
  # shellcheck disable=SC2086  # java_opts is a list of options
  java $java_opts -jar "$jar" "${args[@]}" </dev/null >"$dir/hapi.out" 2>&1 &
  pid=$!
  echo "$pid" > "$dir/hapi.pid"
  # Whatever ends this function before the server answers also ends the server.
  _start_dir=$dir
  trap abort_start EXIT
  trap 'exit 130' INT TERM

  local base="http://127.0.0.1:$port/fhir" timeout=${GENOGATE_HAPI_START_TIMEOUT:-300} code
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$dir/hapi.pid"
      show_logs "$dir"
      die "start: the server exited during start-up"
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/metadata" || true)
    [ "$code" = 200 ] && break
    if [ $((SECONDS - t0)) -ge "$timeout" ]; then
      show_logs "$dir"
      die "start: no answer from $base/metadata within $timeout s"
    fi
    sleep 1
  done
  _start_dir=
  trap - EXIT INT TERM
  log "start: up in $((SECONDS - t0)) s (pid $pid, logs in $dir)"
  echo "$base"
}

# ---------------------------------------------------------------------------------------------
cmd_stop() {
  [ $# -eq 1 ] || usage
  local dir="$1" pid timeout=${GENOGATE_HAPI_STOP_TIMEOUT:-30} t0=$SECONDS
  if ! pid=$(pid_of "$dir"); then
    rm -f "$dir/hapi.pid"
    log "stop: no server running from $dir"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if [ $((SECONDS - t0)) -ge "$timeout" ]; then
      log "stop: pid $pid ignored TERM for $timeout s, sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.5
  done
  kill -0 "$pid" 2>/dev/null && die "stop: pid $pid is still running"
  rm -f "$dir/hapi.pid"
  log "stop: stopped pid $pid"
}

# ---------------------------------------------------------------------------------------------
# smoke helpers
fail() { echo "hapi smoke: FAIL: $*" >&2; exit 1; }
ok() { echo "hapi smoke: ok: $*" >&2; }

# post_tx FILE OUT -> prints the HTTP status; the body goes to OUT
post_tx() {
  curl -s -o "$2" -w '%{http_code}' --max-time 120 \
    -H 'Content-Type: application/fhir+json' -H 'Accept: application/fhir+json' \
    -X POST --data-binary "@$1" "$base" || echo 000
}

# expect_status WHAT CODE WANT BODY
expect_status() {
  [ "$2" = "$3" ] && return 0
  echo "---- response body:" >&2
  head -c 2000 "$4" >&2 || true
  echo >&2
  fail "$1: HTTP $2, expected $3"
}

cmd_smoke() {
  [ $# -eq 1 ] || usage
  need curl
  need jq
  base="${1%/}"
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064  # expand tmp now
  trap "rm -rf '$tmp'" EXIT

  local code
  code=$(curl -s -o "$tmp/meta.json" -w '%{http_code}' --max-time 30 "$base/metadata" || echo 000)
  expect_status "GET metadata" "$code" 200 "$tmp/meta.json"
  [ "$(jq -r .fhirVersion "$tmp/meta.json")" = 4.0.1 ] || fail "metadata: fhirVersion is not 4.0.1"
  ok "metadata ($(jq -r '.software.name + " " + .software.version' "$tmp/meta.json"))"

  # A fresh identifier per run, so the first POST creates and the second matches even
  # when the smoke test is repeated against the same server.
  local sys="urn:oid:2.16.840.1.113883.3.9999.1" val
  val="12345-$(date +%s)-$$"
  local ident="$sys|$val"

  # 1. Patient (conditional create) + Observation referencing it by urn:uuid.
  jq -n --arg sys "$sys" --arg val "$val" --arg ine "identifier=$sys|$val" '{
    resourceType: "Bundle", type: "transaction", entry: [
      { fullUrl: "urn:uuid:0e0b6a5c-1c1e-4c1e-9f55-6f2b7c9e0a01",
        resource: { resourceType: "Patient",
                    identifier: [{ system: $sys, value: $val }],
                    name: [{ family: "Smoke", given: ["Genogate"] }] },
        request: { method: "POST", url: "Patient", ifNoneExist: $ine } },
      { fullUrl: "urn:uuid:0e0b6a5c-1c1e-4c1e-9f55-6f2b7c9e0a02",
        resource: { resourceType: "Observation", status: "final",
                    code: { coding: [{ system: "http://loinc.org", code: "69548-6",
                                       display: "Genetic variant assessment" }] },
                    subject: { reference: "urn:uuid:0e0b6a5c-1c1e-4c1e-9f55-6f2b7c9e0a01" },
                    valueCodeableConcept: { coding: [{ system: "http://loinc.org",
                                                       code: "LA9633-4", display: "Present" }] } },
        request: { method: "POST", url: "Observation" } } ] }' > "$tmp/tx1.json"

  code=$(post_tx "$tmp/tx1.json" "$tmp/r1.json")
  expect_status "transaction #1" "$code" 200 "$tmp/r1.json"
  local s1 s2 p1 p2 obs subj
  s1=$(jq -r '.entry[0].response.status' "$tmp/r1.json")
  [[ "$s1" == 201* ]] || fail "transaction #1: Patient entry answered '$s1', expected 201"
  [[ "$(jq -r '.entry[1].response.status' "$tmp/r1.json")" == 201* ]] \
    || fail "transaction #1: Observation entry was not created"
  p1=$(jq -r '.entry[0].response.location | sub("/_history/.*"; "")' "$tmp/r1.json")
  obs=$(jq -r '.entry[1].response.location | sub("/_history/.*"; "")' "$tmp/r1.json")
  subj=$(curl -s --max-time 30 "$base/$obs" | jq -r '.subject.reference')
  [ "$subj" = "$p1" ] || fail "urn:uuid reference: $obs subject is '$subj', expected '$p1'"
  ok "transaction #1: Patient 201 ($p1), Observation 201, urn:uuid reference resolved"

  # 2. The identical bundle again: the Patient matches (200), nothing is duplicated.
  code=$(post_tx "$tmp/tx1.json" "$tmp/r2.json")
  expect_status "transaction #2" "$code" 200 "$tmp/r2.json"
  s2=$(jq -r '.entry[0].response.status' "$tmp/r2.json")
  [[ "$s2" == 200* ]] || fail "transaction #2: Patient entry answered '$s2', expected 200"
  p2=$(jq -r '.entry[0].response.location | sub("/_history/.*"; "")' "$tmp/r2.json")
  [ "$p2" = "$p1" ] || fail "transaction #2: Patient matched $p2, expected $p1"
  code=$(curl -s -o "$tmp/search.json" -w '%{http_code}' --max-time 30 -G "$base/Patient" \
    --data-urlencode "identifier=$ident" || echo 000)
  expect_status "search Patient?identifier" "$code" 200 "$tmp/search.json"
  [ "$(jq '[.entry[]? | select(.resource.resourceType == "Patient")] | length' "$tmp/search.json")" = 1 ] \
    || fail "search Patient?identifier=$ident: expected exactly one Patient, got $(jq '.total' "$tmp/search.json")"
  # The same search with a raw '|' (server.tomcat.relaxed-query-chars).
  code=$(curl -s -o "$tmp/search2.json" -w '%{http_code}' --max-time 30 "$base/Patient?identifier=$ident" || echo 000)
  expect_status "search Patient?identifier with a raw |" "$code" 200 "$tmp/search2.json"
  [ "$(jq '.total' "$tmp/search2.json")" = 1 ] || fail "search with a raw '|' did not find exactly one Patient"
  ok "transaction #2: Patient 200 (same $p2); Patient?identifier finds exactly one"

  # 3. A conditional reference, as genogate's bundles reference the patient.
  jq -n --arg ref "Patient?identifier=$ident" '{
    resourceType: "Bundle", type: "transaction", entry: [
      { fullUrl: "urn:uuid:0e0b6a5c-1c1e-4c1e-9f55-6f2b7c9e0a03",
        resource: { resourceType: "Observation", status: "final",
                    code: { coding: [{ system: "http://loinc.org", code: "69548-6" }] },
                    subject: { reference: $ref } },
        request: { method: "POST", url: "Observation" } } ] }' > "$tmp/tx3.json"
  code=$(post_tx "$tmp/tx3.json" "$tmp/r3.json")
  expect_status "transaction with a conditional reference" "$code" 200 "$tmp/r3.json"
  obs=$(jq -r '.entry[0].response.location | sub("/_history/.*"; "")' "$tmp/r3.json")
  subj=$(curl -s --max-time 30 "$base/$obs" | jq -r '.subject.reference')
  [ "$subj" = "$p1" ] || fail "conditional reference: $obs subject is '$subj', expected '$p1'"
  ok "conditional reference Patient?identifier=... resolved to $p1"

  # 4. An invalid resource is rejected with an OperationOutcome.
  jq '.entry[0].resource.status = "finished"' "$tmp/tx3.json" > "$tmp/bad.json"
  code=$(post_tx "$tmp/bad.json" "$tmp/r4.json")
  expect_status "transaction with an invalid Observation.status" "$code" 400 "$tmp/r4.json"
  [ "$(jq -r '.resourceType + "/" + .issue[0].severity' "$tmp/r4.json")" = OperationOutcome/error ] \
    || fail "invalid resource: the answer is not an OperationOutcome with an error issue"
  ok "invalid Observation.status rejected: 400 OperationOutcome"

  smoke_ig "$tmp"
  echo "hapi smoke: all checks passed against $base" >&2
}

# Genomics Reporting IG 3.0.0 examples (no GenomicStudy): an IG transaction bundle as is, and
# the "cgexample" collection turned into a transaction of PUTs together with a plain Procedure
# and every example resource they reference.
smoke_ig() {
  local tmp="$1" code
  local cache=${GENOGATE_PACKAGE_CACHE:-$HOME/.cache/genogate/packages}
  local ex="$cache/hl7.fhir.uv.genomics-reporting#3.0.0/package/example"
  if [ ! -d "$ex" ]; then
    echo "hapi smoke: skipped: IG examples (no $ex; scripts/fetch-packages.sh fetches them)" >&2
    return 0
  fi

  local f="$ex/Bundle-bundle-oncology-report-example.json"
  [ -f "$f" ] || fail "IG example missing: $f"
  code=$(post_tx "$f" "$tmp/ig1.json")
  expect_status "IG Bundle-bundle-oncology-report-example" "$code" 200 "$tmp/ig1.json"
  jq -e '[.entry[].response.status | select(test("^20[01]") | not)] | length == 0' "$tmp/ig1.json" >/dev/null \
    || fail "IG Bundle-bundle-oncology-report-example: an entry was not 200/201"
  ok "IG oncology report transaction: $(jq -r '[.entry[].response.status] | group_by(.) | map("\(length)x \(.[0])") | join(", ")' "$tmp/ig1.json")"

  jq -c '.entry[].resource' "$ex/Bundle-bundle-cgexample.json" > "$tmp/ig.ndjson"
  jq -c . "$ex/Procedure-SequencingProcedure.json" >> "$tmp/ig.ndjson"
  local round have want missing r
  for round in 1 2 3 4 5; do
    have=$(jq -r '"\(.resourceType)/\(.id)"' "$tmp/ig.ndjson" | sort -u)
    want=$(jq -r '.. | objects | select(has("reference")) | .reference | strings
                  | select(test("^[A-Za-z]+/[A-Za-z0-9.-]+$"))' "$tmp/ig.ndjson" | sort -u)
    missing=$(comm -13 <(echo "$have") <(echo "$want"))
    [ -n "$missing" ] || break
    for r in $missing; do
      f="$ex/${r%%/*}-${r#*/}.json"
      [ -f "$f" ] || fail "IG examples: no file for referenced $r"
      jq -c . "$f" >> "$tmp/ig.ndjson"
    done
  done
  jq -s '{ resourceType: "Bundle", type: "transaction",
           entry: [ .[] | { fullUrl: "\(.resourceType)/\(.id)", resource: .,
                            request: { method: "PUT", url: "\(.resourceType)/\(.id)" } } ] }' \
    "$tmp/ig.ndjson" > "$tmp/ig2-tx.json"
  code=$(post_tx "$tmp/ig2-tx.json" "$tmp/ig2.json")
  expect_status "IG cgexample + Procedure as a transaction" "$code" 200 "$tmp/ig2.json"
  jq -e '[.entry[].response.status | select(test("^20[01]") | not)] | length == 0' "$tmp/ig2.json" >/dev/null \
    || fail "IG cgexample transaction: an entry was not 200/201"
  ok "IG cgexample + Procedure as PUTs ($(jq -r '[.[].resourceType] | group_by(.) | map("\(length) \(.[0])") | join(", ")' <(jq -s . "$tmp/ig.ndjson"))): $(jq -r '[.entry[].response.status] | group_by(.) | map("\(length)x \(.[0])") | join(", ")' "$tmp/ig2.json")"
}

# ---------------------------------------------------------------------------------------------
[ $# -ge 1 ] || usage
sub="$1"
shift
case "$sub" in
  build) [ $# -eq 0 ] || usage; cmd_build ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  smoke) cmd_smoke "$@" ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
