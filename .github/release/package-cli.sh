#!/usr/bin/env bash
# Packages one built `ebhook` for a release: OUT/ebhook-VERSION-TARGET.tar.gz holding
# ebhook-VERSION-TARGET/{ebhook, README.md, LICENSE if any}, and its .sha256 (sha256sum -c).
# The name is what [package.metadata.binstall] in Cargo.toml points cargo-binstall at.
# Runs the same locally: .github/release/package-cli.sh target/release/ebhook \
#   x86_64-unknown-linux-gnu 0.1.0 dist
set -euo pipefail
if [ "$#" -ne 4 ]; then
  echo "usage: $0 BINARY TARGET VERSION OUT_DIR" >&2
  exit 2
fi
binary=$1 target=$2 version=$3 out=$4
root="$(cd "$(dirname "$0")/../.." && pwd)"
name="ebhook-${version}-${target}"
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
mkdir -p "$staging/$name" "$out"
install -m 0755 "$binary" "$staging/$name/ebhook"
cp "$root/README.md" "$staging/$name/"
if [ -f "$root/LICENSE" ]; then cp "$root/LICENSE" "$staging/$name/"; fi
# Same bytes for the same inputs: sorted names, fixed owner and time.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00Z' \
  -C "$staging" -czf "$out/$name.tar.gz" "$name"
(cd "$out" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
echo "$out/$name.tar.gz"
