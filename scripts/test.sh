#!/usr/bin/env bash
# The project's test command. On a fresh Debian machine (as root) it installs and starts what the
# tests need (scripts/setup.sh: Docker engine, test images), then checks formatting and lints and
# runs every test against the real daemons.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# Leftovers of an interrupted earlier run.
old=$(docker ps -aq --filter label=fpm-ondemand.test=1)
[ -z "$old" ] || docker rm -f -v $old >/dev/null

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "==> the waker links no Docker client (it never talks to Docker)"
if cargo tree -p fpm-waker -e normal -i bollard >/dev/null 2>&1; then
  echo "fpm-waker depends on bollard: keep fpm-shared's docker feature off for it" >&2
  cargo tree -p fpm-waker -e normal -i bollard >&2
  exit 1
fi
echo "==> cargo test"
cargo test --workspace
# Restart or freeze the Docker engine, so they run alone, after everything else.
echo "==> cargo test: Docker engine restarted or hung under the watcher and the reaper"
cargo test -p fpm-watcher --test engine_restart -- --ignored --test-threads 1
cargo test -p fpm-reaper --test engine_faults -- --ignored --test-threads 1
