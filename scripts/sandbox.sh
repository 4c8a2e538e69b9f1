#!/usr/bin/env bash
# A ready-made sandbox: three demo sites on the real Docker engine, a real systemd host (PID 1 in a
# container) with the project's units and binaries, and the reaper's audit and acting run.
#   bash scripts/sandbox.sh          bring it up and show the reaper at work
#   bash scripts/sandbox.sh --down   tear it down
set -euo pipefail
cd "$(dirname "$0")/.."

host=fpm-sandbox-host
confs=/var/lib/fpm-ondemand-sandbox/on-demand
sites=(demo-busy demo-idle demo-asleep)
label=fpm-ondemand.sandbox=1

down() {
  local ids
  ids=$(docker ps -aq --filter "label=$label" 2>/dev/null || true)
  [ -z "$ids" ] || docker rm -f -v $ids >/dev/null
  rm -rf "$(dirname "$confs")"
  echo "sandbox removed"
}
if [ "${1:-}" = --down ]; then down; exit 0; fi

bash scripts/setup.sh
echo "==> building fpm-reaper (release)"
cargo build --release --quiet -p fpm-reaper
down >/dev/null

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
in_host() { docker exec "$host" "$@"; }

mkdir -p "$confs"
header() { echo "# Amount of time to pause the container after: $1"; }
run_site() {  # name window script
  header "$2" > "$confs/$1.conf"
  docker run -d --init --name "$1.fpm" --label "$label" fpm-ondemand-test/busybox:1 sh -c "$3" >/dev/null
}
run_site demo-busy 20s 'while true; do echo "GET /index.php 200"; sleep 1; done'
run_site demo-idle 5s 'echo "GET /index.php 200"; exec sleep infinity'
run_site demo-asleep 5s 'exec sleep infinity'
docker stop demo-asleep.fpm >/dev/null
header "20" > "$confs/demo-broken.conf"     # a unit is missing: reported, the others still handled

say "booting systemd in $host"
docker run -d --name "$host" --label "$label" --cap-add=ALL --cap-drop=SYS_RESOURCE \
  --security-opt seccomp=unconfined --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
  --tmpfs /run --tmpfs /run/lock --tmpfs /tmp --stop-signal SIGRTMIN+3 -e container=docker \
  -v /var/run/docker.sock:/var/run/docker.sock -v "$confs:$confs" \
  -v "$PWD/target/release/fpm-reaper:/usr/local/bin/fpm-reaper:ro" \
  -v "$PWD/deploy/systemd/fpm@.service:/etc/systemd/system/fpm@.service:ro" \
  fpm-ondemand-test/host:1 /lib/systemd/systemd >/dev/null
until in_host systemctl is-system-running 2>/dev/null | grep -qE 'running|degraded'; do sleep 0.5; done
printf 'conf_dir = "%s"\n' "$confs" > /tmp/fpm-sandbox-config.toml
docker cp /tmp/fpm-sandbox-config.toml "$host:/etc/fpm-ondemand-config.toml" >/dev/null
in_host mkdir -p /etc/fpm-ondemand
in_host mv /etc/fpm-ondemand-config.toml /etc/fpm-ondemand/config.toml
in_host systemctl start fpm@demo-busy.service fpm@demo-idle.service

say "waiting 6 s so demo-idle passes its 5 s window"
sleep 6
say "fpm-reaper --dry-run   (audit: changes nothing)"
in_host fpm-reaper --dry-run || true
say "fpm-reaper             (what cron runs: stops idle sites through systemd)"
in_host fpm-reaper || true
say "afterwards"
for s in "${sites[@]}"; do
  printf '%-12s %-26s %-9s container=%s\n' "$s" "fpm@$s.service" \
    "$(in_host systemctl is-active "fpm@$s.service" || true)" \
    "$(docker inspect --format '{{.State.Status}}' "$s.fpm")"
done

cat <<EOT

Poke at it:
  docker exec -it $host bash                      # a shell on the systemd host
  docker exec $host fpm-reaper --dry-run --format json
  docker exec $host systemctl start fpm@demo-idle.service   # wake a site, then reap it again
  ls $confs                                       # the conf files; edit line 1 to change a window
Tear it down:
  bash scripts/sandbox.sh --down
EOT
