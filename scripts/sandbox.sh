#!/usr/bin/env bash
# A ready-made sandbox of the whole request path on one machine: three demo sites (Debian's
# php-fpm in containers on the real Docker engine) behind nginx, systemd's waker sockets, the
# waker, the watcher and the reaper, in a real systemd host (PID 1 in a container).
#   bash scripts/sandbox.sh          bring it up and show a cold and a warm request, the reaper, the watcher
#   bash scripts/sandbox.sh --down   tear it down
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/host-lib.sh
profile=sandbox
source scripts/host-lib.sh

host=fpm-sandbox-host
root=/var/lib/fpm-ondemand-sandbox
sites=(blog shop wiki)
label=fpm-ondemand.sandbox=1

down() {
  local ids
  ids=$(docker ps -aq --filter "label=$label" 2>/dev/null || true)
  [ -z "$ids" ] || docker rm -f -v $ids >/dev/null
  rm -rf "$root"
  echo "sandbox removed"
}
if [ "${1:-}" = --down ]; then down; exit 0; fi

# The build needs no Docker and the setup mostly waits on the network: both at once.
mkdir -p target
echo "==> building fpm-ondemand, fpm-reaper, fpm-watcher, fpm-waker while the engine and image are set up"
build_tools >target/sandbox-build.log 2>&1 &
build=$!
bash scripts/setup.sh --sandbox
wait $build || { cat target/sandbox-build.log >&2; echo "the build failed (target/sandbox-build.log)" >&2; exit 1; }
down >/dev/null

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
in_host() { docker exec "$host" "$@"; }
get() {  # site vhost-kind
  in_host curl -s -m 40 -H "Host: $1.$2" -w '   [HTTP %{http_code} in %{time_total}s]\n' http://127.0.0.1:8080/index.php
}

prepare_root "$root"
for s in "${sites[@]}"; do
  window=20m; [ "$s" = shop ] && window=5s
  echo "# Amount of time to pause the container after: $window" > "$root/on-demand/$s.conf"
  sed "s/SITE/$s/g" deploy/nginx/fpm-upstream.conf.template >> "$root/nginx.conf"
  sed "s/SITE/$s/g" tests/fixtures/nginx-fast-vhost.conf.template >> "$root/nginx.conf"
  php_site "$s" "$label" "$root"
done

say "booting systemd in $host (nginx, units, binaries)"
boot_site_host "$host" "$label" "$root"
in_host systemctl start nginx.service fpm-watcher.service
for s in "${sites[@]}"; do in_host systemctl start "fpm-waker@$s.socket"; done
echo "sites: ${sites[*]} (containers created, not running: every site sleeps)"

say "a cold request to blog: systemd wakes fpm-waker, which starts blog.fpm and proxies"
get blog test
say "a warm request to blog (through the waker)"
get blog test
say "a warm request to blog.fast (nginx upstream: php-fpm.sock first, waker socket as backup)"
get blog fast
say "waking shop (window 5s), then waiting 6 s"
get shop test
sleep 6
say "fpm-reaper --dry-run   (the audit: changes nothing)"
in_host fpm-reaper --dry-run || true
say "fpm-reaper             (what cron runs: stops idle sites through systemd)"
in_host fpm-reaper || true
say "fpm-ondemand site list; fpm-ondemand status"
in_host fpm-ondemand site list || true
in_host fpm-ondemand status || true
say "docker stop blog.fpm behind systemd's back; the watcher mirrors it"
docker stop blog.fpm >/dev/null
sleep 0.5
in_host systemctl is-active fpm@blog.service || true
in_host journalctl -u fpm-watcher -o cat --no-pager | tail -2
say "and the next request to blog wakes it again"
get blog test

cat <<EOT

Poke at it:
  docker exec $host curl -s -H 'Host: wiki.test' http://127.0.0.1:8080/index.php   # wake wiki
  docker exec $host fpm-reaper --dry-run --format json
  docker exec $host fpm-ondemand status
  docker exec $host journalctl -u 'fpm-waker@*' -u fpm-watcher -f                 # follow the logs
  docker exec -it $host bash                                                      # a shell on the host
  edit $root/on-demand/*.conf (line 1 is the idle window; try "20" to see a clear error)
Tear it down:
  bash scripts/sandbox.sh --down
EOT
