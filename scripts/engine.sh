#!/usr/bin/env bash
# The Docker engine the tests talk to: one at a time, always on /var/run/docker.sock.
#   bash scripts/engine.sh use debian12   this machine's docker.io (Debian 12: Engine 20.10, API 1.41)
#   bash scripts/engine.sh use debian13   Debian 13's docker.io (Engine 26.1, API 1.45) and containerd,
#                                         unpacked beside the system's packages (not replacing or
#                                         upgrading them) in /opt/fpm-ondemand-test/docker-debian13,
#                                         with its own data-root, exec-root and pid file
#   bash scripts/engine.sh use sid        Debian unstable's docker.io (Engine 28.5) with containerd 2.1, the
#                                         same way, in /opt/fpm-ondemand-test/docker-sid
#   bash scripts/engine.sh install [ENGINE]  only unpacks that engine (debian13 by default; what `use` does first)
#   bash scripts/engine.sh start          starts the engine in use unless one answers (the engine
#                                         restart tests call it after stopping dockerd)
#   bash scripts/engine.sh stop           stops the running dockerd (containers live on: live-restore)
#   bash scripts/engine.sh which          prints the engine in use
# Either engine runs with live-restore; its log goes to /var/log/dockerd.log.
set -euo pipefail
cd "$(dirname "$0")/.."

state=/var/lib/fpm-ondemand-test/engine

in_use() { cat "$state" 2>/dev/null || echo debian12; }
answers() { docker version >/dev/null 2>&1; }
# The Debian suite each unpacked engine comes from.
suite_of() { case $1 in debian13) echo trixie ;; sid) echo sid ;; esac; }
opt_of() { echo "/opt/fpm-ondemand-test/docker-$1"; }

# install ENGINE: fetches docker.io and containerd from ENGINE's Debian suite (a source list of its
# own, so the system's apt state is untouched) and unpacks them into its folder.
install() {
  local engine=$1 opt suite
  opt=$(opt_of "$engine") suite=$(suite_of "$engine")
  [ -x "$opt/usr/sbin/dockerd" ] && [ -x "$opt/usr/bin/containerd" ] && return
  # shellcheck source=scripts/debian-lib.sh
  source scripts/debian-lib.sh
  local apt=/var/cache/fpm-ondemand-test/apt-$engine mirror
  mirror=$(apt_mirror)
  echo "==> fetching docker.io and containerd from Debian $suite ($mirror)"
  rm -rf "$apt" && mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" > "$apt/sources.list"
  local o=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
           -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Debug::NoLocking=1
           -o APT::Sandbox::User=root)
  apt-get "${o[@]}" update -qq
  (cd "$apt/debs" && apt-get "${o[@]}" download docker.io containerd >/dev/null)
  rm -rf "$opt" && mkdir -p "$opt"
  for deb in "$apt"/debs/*.deb; do dpkg -x "$deb" "$opt"; done
  # Their runc needs glibc 2.38: the system's runc (Debian 12's) stays the one used.
  rm -f "$opt/usr/sbin/runc" "$opt/usr/bin/runc"
  "$opt/usr/sbin/dockerd" --version
  "$opt/usr/bin/containerd" --version
}

start() {
  answers && return
  local engine; engine=$(in_use)
  echo "==> starting dockerd: $engine (log: /var/log/dockerd.log)"
  case $engine in
    debian12) setsid dockerd >>/var/log/dockerd.log 2>&1 </dev/null & ;;
    debian13|sid)
      local opt conf=/etc/fpm-ondemand-test/dockerd-$engine.json
      opt=$(opt_of "$engine")
      mkdir -p "$(dirname "$conf")"
      # sid: the containerd image store, the default from Docker 29 on.
      local store='"features": {"containerd-snapshotter": false},'
      [ "$engine" = sid ] && store='"features": {"containerd-snapshotter": true},'
      cat > "$conf" <<JSON
{
  $store
  "live-restore": true,
  "data-root": "/var/lib/fpm-ondemand-test/docker-$engine",
  "exec-root": "/var/run/docker-$engine",
  "pidfile": "/var/run/docker-$engine.pid",
  "init-path": "/usr/bin/docker-init"
}
JSON
      # Its containerd first in PATH; runc is the system's.
      setsid env PATH="$opt/usr/bin:$opt/usr/sbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        "$opt/usr/sbin/dockerd" --config-file "$conf" >>/var/log/dockerd.log 2>&1 </dev/null & ;;
    *) echo "unknown engine $engine in $state" >&2; exit 2 ;;
  esac
  for _ in $(seq 1 60); do answers && break; sleep 0.5; done
  answers || { echo "dockerd ($engine) did not answer within 30 s:" >&2; tail -20 /var/log/dockerd.log >&2; exit 1; }
  echo "    Docker $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
}

stop() {
  local pid; pid=$(pidof dockerd || true)
  [ -z "$pid" ] && return
  kill -TERM $pid
  for _ in $(seq 1 60); do pidof dockerd >/dev/null || return 0; sleep 0.5; done
  echo "dockerd did not stop within 30 s" >&2; exit 1
}

case ${1:-} in
  use)
    case ${2:-} in debian12|debian13|sid) ;; *) echo "usage: $0 use debian12|debian13|sid" >&2; exit 2 ;; esac
    [ "$2" = debian12 ] || install "$2"
    if [ "$(in_use)" != "$2" ] || ! answers; then
      stop
      mkdir -p "$(dirname "$state")" && echo "$2" > "$state"
      start
    fi ;;
  install)
    case ${2:-debian13} in debian13|sid) install "${2:-debian13}" ;; *) echo "usage: $0 install [debian13|sid]" >&2; exit 2 ;; esac ;;
  start) start ;;
  stop) stop ;;
  which) in_use ;;
  *) echo "usage: $0 use debian12|debian13|sid | install [debian13|sid] | start | stop | which" >&2; exit 2 ;;
esac
