#!/usr/bin/env bash
# Builds the Debian package fpm-ondemand into target/debian/ with cargo-deb (installed from
# crates.io when missing): release binaries, then man pages and shell completions generated from
# the binaries' clap definitions (deploy/debian, fpm-manpages), then the .deb.
#   bash scripts/package.sh                   fpm-ondemand_VERSION-1_ARCH.deb
#   bash scripts/package.sh --deb-version V   the same with version V (the upgrade test builds a newer one)
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
while [ $# -gt 0 ]; do
  case $1 in
    --deb-version) args+=(--deb-version "$2"); shift 2 ;;
    *) echo "usage: $0 [--deb-version VERSION]" >&2; exit 2 ;;
  esac
done

if ! cargo deb --version >/dev/null 2>&1; then
  echo "==> installing cargo-deb (crates.io)"
  cargo install --locked --quiet cargo-deb
fi
echo "==> release build"
cargo build --release --quiet -p fpm-reaper -p fpm-watcher -p fpm-waker -p fpm-ondemand -p fpm-ondemand-deb
rm -rf deploy/debian/generated
target/release/fpm-manpages deploy/debian/generated
echo "==> cargo deb"
rm -f target/debian/fpm-ondemand_*.deb
cargo deb --no-build -p fpm-ondemand-deb "${args[@]}"
