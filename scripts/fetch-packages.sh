#!/usr/bin/env bash
# Fetches the FHIR packages pinned in profiles/fhir-packages.lock into the
# package cache, verifying each tarball's SHA-512 integrity hash.
#
# Cache: $GENOGATE_PACKAGE_CACHE, default ~/.cache/genogate/packages. Each
# package is unpacked to <cache>/<name>#<version>/package/. A package already
# present with a matching .integrity stamp is not fetched again.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${GENOGATE_PACKAGE_CACHE:-$HOME/.cache/genogate/packages}
mkdir -p "$cache"

grep -v '^#' "$here/profiles/fhir-packages.lock" | while IFS=$'\t' read -r name version integrity; do
  [ -n "$name" ] || continue
  dest="$cache/$name#$version"
  if [ -f "$dest/.integrity" ] && [ "$(cat "$dest/.integrity")" = "$integrity" ] \
     && [ -f "$dest/package/package.json" ]; then
    echo "fetch-packages: $name@$version already in the cache"
    continue
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch-packages: fetching $name@$version"
  (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null)
  tgz=$(ls "$tmp"/*.tgz)
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "fetch-packages: integrity mismatch for $name@$version" >&2
    echo "  expected $integrity" >&2
    echo "  got      $got" >&2
    exit 1
  fi
  rm -rf "$dest.partial" && mkdir -p "$dest.partial"
  tar xzf "$tgz" -C "$dest.partial"
  echo "$integrity" > "$dest.partial/.integrity"
  rm -rf "$dest" && mv "$dest.partial" "$dest"
  rm -rf "$tmp"
  trap - EXIT
done
echo "fetch-packages: cache is $cache"
