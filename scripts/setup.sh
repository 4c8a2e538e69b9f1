#!/usr/bin/env bash
# Brings a fresh Debian machine (as root) to what the tests and the sandbox need: installs the
# missing packages, starts the Docker engine if it does not answer, and builds the local images.
#   bash scripts/setup.sh            what the tests need
#   bash scripts/setup.sh --sandbox  only what scripts/sandbox.sh needs (no lintian, no Prometheus,
#                                    no arm64 cross toolchain or qemu, only the host and busybox images)
# A Docker engine that already answers is never touched: no /etc/docker/daemon.json written, no
# restart. Only an engine this script starts itself gets live-restore (the engine-restart tests
# need it; scripts/test.sh says how to set it on an engine started otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "$0 needs root (it installs packages and starts dockerd)" >&2; exit 1; }
sandbox=0; [ "${1:-}" = --sandbox ] && sandbox=1

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
/bin/busybox --list >/dev/null 2>&1 || need+=(busybox-static)
if [ $sandbox = 0 ]; then
  command -v lintian >/dev/null || need+=(lintian)
  # Debian's Prometheus and promtool: the metrics and alert tests run them.
  command -v promtool >/dev/null || need+=(prometheus)
  # The arm64 package: Debian's cross toolchain builds it, qemu-user runs its binaries.
  command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
  [ -d /usr/aarch64-linux-gnu/lib ] || need+=(libc6-dev-arm64-cross)
  [ -x /usr/bin/qemu-aarch64-static ] || need+=(qemu-user-static)
  # The Ansible role's test: Debian's ansible (community.docker's connection plugin) and ansible-lint.
  command -v ansible-playbook >/dev/null || need+=(ansible)
  command -v ansible-lint >/dev/null || need+=(ansible-lint)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# live-restore: containers (the systemd test host among them) outlive a dockerd restart, which the
# engine-restart tests perform. Set only on an engine this run starts, or installed a moment ago (apt
# may have started it already; it runs no container yet): an engine that was there before is left
# exactly as it is.
fresh=0; [[ " ${need[*]} " == *" docker.io "* ]] && fresh=1
if [ ! -e /etc/docker/daemon.json ] && { [ $fresh = 1 ] || ! docker version >/dev/null 2>&1; }; then
  mkdir -p /etc/docker
  echo '{ "live-restore": true }' > /etc/docker/daemon.json
  if [ $fresh = 1 ] && docker version >/dev/null 2>&1; then
    echo "==> restarting the Docker engine installed just now, with live-restore"
    if command -v systemctl >/dev/null && systemctl is-active --quiet docker; then systemctl restart docker; else bash scripts/engine.sh stop; fi
  fi
fi

# The engine in use (this machine's unless a test pass switched: scripts/engine.sh).
bash scripts/engine.sh start

echo "==> images"
if [ $sandbox = 1 ]; then bash scripts/build-test-images.sh --sandbox; else bash scripts/build-test-images.sh; fi
