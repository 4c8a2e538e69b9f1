# Shared by scripts/sandbox.sh and scripts/load.sh (sourced, run from the repository root):
# a systemd host in a container with the project's units and release binaries, and php-fpm site
# containers from the same image.

host_image=fpm-ondemand-test/host:3

# The project's files on a host, as "repository-file:path-in-host" (tests/src/host.rs lists the
# same for the tests): every unit, the sysusers, tmpfiles and polkit files, the nginx snippet.
project_files() {
  local u
  for u in deploy/systemd/* cron/fpm-reaper.service cron/fpm-reaper.timer; do
    echo "$PWD/$u:/etc/systemd/system/${u##*/}"
  done
  echo "$PWD/deploy/sysusers.d/fpm-ondemand.conf:/etc/sysusers.d/fpm-ondemand.conf"
  echo "$PWD/deploy/tmpfiles.d/fpm-ondemand.conf:/etc/tmpfiles.d/fpm-ondemand.conf"
  echo "$PWD/deploy/polkit/50-fpm-waker.rules:/etc/polkit-1/rules.d/50-fpm-waker.rules"
  echo "$PWD/deploy/nginx/fpm-waker.conf:/etc/nginx/snippets/fpm-waker.conf"
}

# boot_host NAME LABEL [docker run options...]: starts systemd as PID 1 in NAME with the
# project's files and target/release's binaries mounted in, waits until systemd runs, and installs
# (the waker's user, the socket folders, the nosymfollow mount of /run/docker-apps).
boot_host() {
  local name=$1 label=$2 mounts=() b f
  shift 2
  for b in fpm-reaper fpm-watcher fpm-waker; do mounts+=(-v "$PWD/target/release/$b:/usr/local/bin/$b:ro"); done
  while read -r f; do mounts+=(-v "$f:ro"); done < <(project_files)
  docker run -d --name "$name" --label "$label" --cap-add=ALL --cap-drop=SYS_RESOURCE \
    --security-opt seccomp=unconfined --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp --stop-signal SIGRTMIN+3 -e container=docker \
    -v /var/run/docker.sock:/var/run/docker.sock "${mounts[@]}" "$@" "$host_image" /lib/systemd/systemd >/dev/null
  until docker exec "$name" systemctl is-system-running 2>/dev/null | grep -qE 'running|degraded'; do sleep 0.5; done
  docker exec "$name" systemd-sysusers
  docker exec "$name" systemd-tmpfiles --create /etc/tmpfiles.d/fpm-ondemand.conf
  docker exec "$name" systemctl start fpm-socket-folders.service
}

# php_site SITE LABEL ROOT: creates (not starts) SITE.fpm, Debian's php-fpm serving ROOT/www on
# ROOT/sockets/SITE/php-fpm.sock with the pool of ROOT/php-site.conf.
php_site() {
  local site=$1 label=$2 root=$3
  mkdir -p "$root/sockets/$site"
  docker create --name "$site.fpm" --label "$label" --hostname "$site" --stop-signal SIGQUIT \
    -v "$root/sockets/$site:/run/php-sock" -v "$root/php-site.conf:/etc/php-site.conf:ro" \
    -v "$root/www:/var/www:ro" "$host_image" php-fpm8.2 -F -y /etc/php-site.conf >/dev/null
}

# prepare_root ROOT: the folder a site host and its php-fpm containers share: the conf folder,
# the socket folders, the demo script, the php-fpm pool, nginx's vhosts and the config.
prepare_root() {
  local root=$1
  mkdir -p "$root/on-demand" "$root/sockets" "$root/www"
  cp tests/fixtures/index.php "$root/www/"
  cp tests/fixtures/php-site.conf "$root/php-site.conf"
  cp tests/fixtures/nginx-vhosts.conf "$root/nginx.conf"
  printf 'conf_dir = "%s/on-demand"\n' "$root" > "$root/config.toml"
}

# boot_site_host NAME LABEL ROOT [docker run options...]: boot_host with ROOT's conf folder,
# config, socket folders and nginx vhosts mounted where the units and nginx expect them.
boot_site_host() {
  local name=$1 label=$2 root=$3
  shift 3
  boot_host "$name" "$label" -v "$root/on-demand:$root/on-demand" \
    -v "$root/config.toml:/etc/fpm-ondemand/config.toml:ro" -v "$root/sockets:/run/docker-apps" \
    -v "$root/nginx.conf:/etc/nginx/sites-enabled/default:ro" "$@"
}
