#!/usr/bin/env bash
# Builds the Debian package fpm-ondemand into target/debian/ with cargo-deb (installed from
# crates.io when missing): release binaries, then man pages and shell completions generated from
# the binaries' clap definitions (deploy/debian, fpm-manpages), then the .deb.
#   bash scripts/package.sh                   fpm-ondemand_VERSION-1_amd64.deb (this machine's arch)
#   bash scripts/package.sh --arch arm64      fpm-ondemand_VERSION-1_arm64.deb, cross-built with
#                                             Debian's cross toolchain (installed when missing, as
#                                             root) and rustup's aarch64 target (.cargo/config.toml)
#   bash scripts/package.sh --deb-version V   the same with version V (the upgrade test builds a newer one)
set -euo pipefail
cd "$(dirname "$0")/.."

args=() arch=$(dpkg --print-architecture)
native=$arch
while [ $# -gt 0 ]; do
  case $1 in
    --deb-version) args+=(--deb-version "$2"); shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    *) echo "usage: $0 [--arch amd64|arm64] [--deb-version VERSION]" >&2; exit 2 ;;
  esac
done

target=()
if [ "$arch" != "$native" ]; then
  case $arch in
    arm64) triple=aarch64-unknown-linux-gnu gnu=aarch64-linux-gnu ;;
    *) echo "$0: cannot cross-build for $arch (arm64 can be)" >&2; exit 2 ;;
  esac
  if ! command -v "$gnu-gcc" >/dev/null || [ ! -d "/usr/$gnu/lib" ]; then
    [ "$(id -u)" = 0 ] || { echo "$0: needs gcc-$gnu and libc6-dev-$arch-cross (apt-get install them as root)" >&2; exit 1; }
    echo "==> installing Debian's cross toolchain for $arch"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "gcc-$gnu" "libc6-dev-$arch-cross" >/dev/null
  fi
  if ! rustup target list --installed | grep -qx "$triple"; then
    echo "==> rustup target add $triple"
    rustup target add "$triple"
  fi
  target=(--target "$triple")
fi

if ! cargo deb --version >/dev/null 2>&1; then
  echo "==> installing cargo-deb (crates.io)"
  cargo install --locked --quiet cargo-deb
fi
echo "==> release build ($arch)"
cargo build --release --quiet "${target[@]}" -p fpm-reaper -p fpm-watcher -p fpm-waker -p fpm-ondemand
# The man pages and completions are written by this machine's build of fpm-manpages.
cargo build --release --quiet -p fpm-ondemand-deb
rm -rf deploy/debian/generated
target/release/fpm-manpages deploy/debian/generated
echo "==> cargo deb ($arch)"
rm -f target/debian/fpm-ondemand_*_"$arch".deb
cargo deb --no-build -p fpm-ondemand-deb "${target[@]}" "${args[@]}"
