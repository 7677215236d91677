#!/usr/bin/env bash
# Installs the pinned HL7 FHIRPath.js (package.json + package-lock.json in
# this folder) into node_modules with `npm ci`, unless that exact version is
# already installed. Used by the differential test and the benchmark.
set -euo pipefail
cd "$(dirname "$0")"
want=$(node -p "require('./package-lock.json').packages['node_modules/fhirpath'].version")
have=$(node -p "try { require('./node_modules/fhirpath/package.json').version } catch (e) { '' }")
if [ "$want" != "$have" ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
