#!/usr/bin/env bash
# Brings a fresh Debian machine (as root) to what the tests and the sandbox need: installs the
# missing packages, starts the Docker engine if it does not answer, and builds the local images.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "$0 needs root (it installs packages and starts dockerd)" >&2; exit 1; }

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
/bin/busybox --list >/dev/null 2>&1 || need+=(busybox-static)
command -v lintian >/dev/null || need+=(lintian)
# Debian's Prometheus and promtool: the metrics test runs them in the systemd test host.
command -v promtool >/dev/null || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# live-restore: containers (the systemd test host among them) outlive a dockerd restart, which
# the watcher's engine-restart test performs.
mkdir -p /etc/docker
if ! grep -q '"live-restore": *true' /etc/docker/daemon.json 2>/dev/null; then
  [ -s /etc/docker/daemon.json ] && { echo "/etc/docker/daemon.json exists without live-restore; add \"live-restore\": true" >&2; exit 1; }
  echo '{ "live-restore": true }' > /etc/docker/daemon.json
fi
if docker version >/dev/null 2>&1 && [ "$(docker info --format '{{.LiveRestoreEnabled}}')" != true ]; then
  echo "==> restarting dockerd with live-restore"
  kill -TERM "$(pidof dockerd)"
  for _ in $(seq 1 60); do pidof dockerd >/dev/null || break; sleep 0.5; done
fi

# The engine in use (this machine's unless a test pass switched: scripts/engine.sh).
bash scripts/engine.sh start

echo "==> images"
bash scripts/build-test-images.sh
