#!/usr/bin/env bash
# The project's test command. On a fresh Debian machine (as root) it installs and starts what the
# tests need (scripts/setup.sh: Docker engine, test images), then checks formatting and lints and
# runs every test against the real daemons.
#   bash scripts/test.sh                     the default: this machine's Docker (Debian 12: 20.10) and a
#                                            Debian 12 systemd test host, every test
#   bash scripts/test.sh --engine debian13   every test against Debian 13's Docker 26, unpacked beside the
#                                            system's (scripts/engine.sh); this machine's engine is back after
#   bash scripts/test.sh --engine sid        every test against Debian unstable's Docker 28.5 with containerd
#                                            2.1 and its image store (Docker 29's default), the same way
#   bash scripts/test.sh --host debian13     the end-to-end tests (waker/tests/e2e.rs) on a Debian 13
#                                            systemd host (systemd 257, nginx 1.26, php-fpm 8.4)
#   bash scripts/test.sh --matrix            what CI (.ci/run) runs: the default (the oldest engine), then
#                                            --engine sid (the newest), then --engine debian13 --host debian13
#                                            (Debian 13's engine and host for the end-to-end tests); every test
#                                            against Debian 13's engine (--engine debian13) is a hand run
set -euo pipefail
cd "$(dirname "$0")/.."

engine=debian12 host=debian12
while [ $# -gt 0 ]; do
  case $1 in
    --engine) engine=$2; shift 2 ;;
    --host) host=$2; shift 2 ;;
    --matrix)
      bash "$0"
      bash "$0" --engine sid
      exec bash "$0" --engine debian13 --host debian13 ;;
    *) echo "usage: $0 [--engine debian12|debian13|sid] [--host debian12|debian13] | --matrix" >&2; exit 2 ;;
  esac
done
case $engine/$host in debian12/debian12|debian13/debian12|sid/debian12|debian12/debian13|debian13/debian13|sid/debian13) ;;
  *) echo "$0: --engine takes debian12, debian13 or sid; --host debian12 or debian13" >&2; exit 2 ;; esac
export FPM_TEST_HOST=$host
trap 'echo "==> $0 --engine $engine --host $host: $SECONDS s"' EXIT

bash scripts/setup.sh
if [ "$engine" != debian12 ]; then
  trap 'bash scripts/engine.sh use debian12; echo "==> $0 --engine $engine --host $host: $SECONDS s"' EXIT
  bash scripts/engine.sh use "$engine"
  bash scripts/build-test-images.sh
fi
[ "$host" = debian12 ] || bash scripts/build-test-images.sh --debian13
echo "==> engine: Docker $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})'), test host: $host"
if [ "$(docker info --format '{{.LiveRestoreEnabled}}')" != true ]; then
  echo "$0: the Docker engine runs without live-restore, which the engine-restart tests need (the systemd" >&2
  echo "test hosts must outlive a dockerd restart). Add \"live-restore\": true to /etc/docker/daemon.json and" >&2
  echo "restart dockerd, on a machine whose containers may be restarted; scripts/setup.sh does it only for" >&2
  echo "an engine it starts or installs itself." >&2
  exit 2
fi

# Leftovers of an interrupted earlier run.
old=$(docker ps -aq --filter label=fpm-ondemand.test=1)
[ -z "$old" ] || docker rm -f -v $old >/dev/null

# The Debian package, which the package test installs in a fresh systemd host; in the default
# pass the arm64 package too (cross-built; deploy/debian/tests/arm64.rs runs it under qemu-user).
bash scripts/package.sh
[ "$engine/$host" != debian12/debian12 ] || bash scripts/package.sh --arch arm64
if [ "$host" != debian12 ]; then
  echo "==> cargo test: the end-to-end, package and migration tests on a $host systemd host"
  # The hosts mount every tool's debug build (a test builds only its own crate's binaries).
  cargo build --workspace --quiet
  cargo test -p fpm-waker --test e2e
  cargo test -p fpm-ondemand-deb --test package --test migration
  exit 0
fi
if [ "$engine" = debian12 ]; then
  echo "==> cargo fmt --check"
  cargo fmt --all -- --check
  echo "==> cargo clippy"
  cargo clippy --workspace --all-targets --quiet -- -D warnings
  echo "==> no function over 60 lines outside tests (clippy.toml's too-many-lines-threshold)"
  cargo clippy --workspace --lib --bins --quiet -- -D warnings -D clippy::too_many_lines
  echo "==> lintian on the packages, amd64 and arm64 (errors fail; the warnings left are listed in docs/install.md)"
  lintian --fail-on error target/debian/fpm-ondemand_*.deb
  echo "==> the waker links no Docker client (it never talks to Docker)"
  if cargo tree -p fpm-waker -e normal -i bollard >/dev/null 2>&1; then
    echo "fpm-waker depends on bollard: it must not depend on fpm-docker" >&2
    cargo tree -p fpm-waker -e normal -i bollard >&2
    exit 1
  fi
  echo "==> fpm-ondemand depends on the libraries, not on the daemon"
  if cargo tree -p fpm-ondemand -e normal -i fpm-watcher >/dev/null 2>&1; then
    echo "fpm-ondemand depends on fpm-watcher: move what it needs into a library crate" >&2
    cargo tree -p fpm-ondemand -e normal -i fpm-watcher >&2
    exit 1
  fi
fi
echo "==> cargo test"
# Every test binary runs even when one fails, so that one failure hides no other.
cargo test --workspace --no-fail-fast
if [ "$engine" = debian12 ]; then
  # What the engine does not change, once: the arm64 package under qemu, the Ansible role.
  echo "==> cargo test: the arm64 package under qemu-user, the Ansible role on two hosts"
  cargo test -p fpm-ondemand-deb --test arm64 --test ansible -- --ignored
fi
# Restart or freeze the Docker engine, so they run alone, after everything else.
echo "==> cargo test: Docker engine restarted or hung under the watcher and the reaper"
cargo test -p fpm-watcher --test engine_restart -- --ignored --test-threads 1
cargo test -p fpm-reaper --test engine_faults -- --ignored --test-threads 1
