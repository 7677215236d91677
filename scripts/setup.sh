#!/usr/bin/env bash
# Installs what genogate needs to build and test on Debian 12 (run as root),
# fetches the pinned FHIR packages, and builds build/genogate.
#
#   scripts/setup.sh            Debian packages + FHIR packages + build
#   scripts/setup.sh --no-build Debian packages + FHIR packages only
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=1
[ "${1:-}" = "--no-build" ] && build=0

debs=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libboost1.81-dev rapidjson-dev libxml2-dev libssl-dev zlib1g-dev
  libhiredis-dev libre2-dev libcli11-dev libfmt-dev libyaml-cpp-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  redis-server nodejs npm openssl curl jq python3 python3-yaml unzip wrk
  openjdk-17-jdk-headless maven
)
missing=()
for p in "${debs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Node.js and npm may come from elsewhere than Debian on a developer machine.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<< "${missing[*]:-}"
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "setup: run as root to install Debian packages" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

"$here/scripts/fetch-packages.sh"
# helm, for the chart tests (tests/deploy).
"$here/scripts/fetch-helm.sh" >/dev/null

if [ $build = 1 ]; then
  "$here/scripts/build.sh"
fi
