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
echo "==> cargo test"
cargo test --workspace
# Restarts the Docker engine, so it runs alone, after everything else.
echo "==> cargo test: Docker engine restart under the watcher"
cargo test -p fpm-watcher --test engine_restart -- --ignored
