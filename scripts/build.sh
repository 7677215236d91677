#!/usr/bin/env bash
# Configures and builds genogate into build/ (or $GENOGATE_BUILD_DIR).
# Extra arguments go to cmake's configure step, e.g. -DGENOGATE_SANITIZE=ON.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# ccache: hash paths relative to the checkout, so clones in other folders
# (CI's fresh clone) reuse the cache.
export CCACHE_BASEDIR=$here CCACHE_NOHASHDIR=1
dir=${GENOGATE_BUILD_DIR:-$here/build}
cmake -S "$here" -B "$dir" -G Ninja "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
