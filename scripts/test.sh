#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) and runs every test:
# unit and integration tests (ctest), then each libFuzzer target for a short
# bounded time. Exits non-zero on the first failure.
#
# Environment: GENOGATE_FUZZ_SECONDS (default 20) per fuzz target;
# GENOGATE_SKIP_FUZZ=1 to skip the fuzz step (local iteration only).
# Java (for the HAPI FHIR test EHR) and node (FHIR package fetch) come from
# Debian via scripts/setup.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

scripts/setup.sh --no-build
export GENOGATE_PACKAGE_CACHE=${GENOGATE_PACKAGE_CACHE:-$HOME/.cache/genogate/packages}

echo "== build"
scripts/build.sh

echo "== tests"
ctest --test-dir build --output-on-failure --timeout 1500

echo "== test EHR (HAPI FHIR JPA server): smoke, then the end-to-end tests (Ehr*)"
# One HAPI start for both; ctest above ran the Ehr* tests skipped (no EHR).
scripts/e2e-ehr.sh -- bash -c 'scripts/hapi.sh smoke "$GENOGATE_TEST_EHR_URL" &&
  build/tests/genogate_gateway_tests --gtest_brief=1 --gtest_filter="Ehr*" &&
  build/tests/genogate_cli_tests --gtest_brief=1 --gtest_filter="Ehr*"'

if [ "${GENOGATE_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz"
  scripts/fuzz.sh "${GENOGATE_FUZZ_SECONDS:-20}"
fi
echo "== all tests passed"
