#!/usr/bin/env bash
# Starts the HAPI FHIR test EHR on a free loopback port, runs a command
# against it with GENOGATE_TEST_EHR_URL set, and always stops it.
# The EHR keeps its H2 database in a file (GENOGATE_HAPI_PERSIST=1) and the
# command gets its directory as GENOGATE_TEST_EHR_DIR, so a test can stop
# and start it again (scripts/hapi.sh stop|start) without losing data.
#
#   scripts/e2e-ehr.sh smoke          the harness's own smoke test
#   scripts/e2e-ehr.sh -- CMD ARGS    any command (e.g. ctest -L e2e)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
cleanup() { "$here/scripts/hapi.sh" stop "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
export GENOGATE_HAPI_PERSIST=1
base=$("$here/scripts/hapi.sh" start "$port" "$dir")
export GENOGATE_TEST_EHR_URL=$base GENOGATE_TEST_EHR_DIR=$dir
echo "e2e: test EHR at $base"
if [ "${1:-}" = smoke ]; then
  "$here/scripts/hapi.sh" smoke "$base"
else
  [ "${1:-}" = -- ] && shift
  "$@"
fi
