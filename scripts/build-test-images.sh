#!/usr/bin/env bash
# Builds the images the tests need, without any registry (none can be reached here):
#   fpm-ondemand-test/busybox:1  FROM scratch + Debian's busybox-static: small site containers.
#   fpm-ondemand-test/host:8     a debootstrap of Debian bookworm with systemd, dbus, nginx,
#                                php-fpm, polkitd (the waker's start rule), wrk (the benchmarks' load),
#                                man-db (the package test's `man`), logrotate, socat and cron (the shell-script
#                                host the migration test builds first): systemd runs as
#                                PID 1 in it, php-fpm serves site containers.
#   fpm-ondemand-test/wordpress:1 the same root plus Debian's wordpress (served from /var/www) and
#                                mariadb-server: a real PHP application and its database.
#   fpm-ondemand-test/php-*:1    php-fpm images as hosts run them (Debian's layout, the official
#                                images' layout, that layout with Alpine's www-data 82:82), made
#                                from the host image: what `site add` is tested with.
# Idempotent: an image that exists is kept; the debootstrap folder is cached between runs.
# --sandbox: only the busybox and host images (what scripts/sandbox.sh runs).
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=tests/images.env
source tests/images.env
busybox_image=$BUSYBOX_IMAGE host_image=$HOST_IMAGE host13_image=$HOST_IMAGE_DEBIAN13
wordpress_image=$WORDPRESS_IMAGE
php_debian_image=$PHP_DEBIAN_IMAGE php_official_image=$PHP_OFFICIAL_IMAGE
php_alpine_ids_image=$PHP_ALPINE_IDS_IMAGE
cache=${FPM_TEST_CACHE:-/var/cache/fpm-ondemand-test}
# shellcheck source=scripts/debian-lib.sh
source scripts/debian-lib.sh
mirror=$(apt_mirror)

have() { docker image inspect "$1" >/dev/null 2>&1; }

build_busybox() {
  local bb=/bin/busybox root   # from busybox-static: one static binary, runs FROM scratch
  [ -x "$bb" ] || { echo "$bb is missing (apt-get install busybox-static)" >&2; exit 1; }
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  chmod 1777 "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$busybox_image" >/dev/null
  rm -rf "$root"
}

# host_root SUITE PHP: a debootstrap of Debian SUITE (bookworm, trixie) with systemd, dbus, polkitd,
# nginx, phpPHP-fpm, wrk, man-db (the package test reads a man page), logrotate (it rotates the
# package's log), python3 (Ansible's modules run with it), socat and cron (the old host of the
# migration test), cached in $cache/SUITE.
host_root() {
  local suite=$1 php=$2 root=$cache/$1
  if [ ! -x "$root/lib/systemd/systemd" ] || [ ! -x "$root/usr/sbin/php-fpm$php" ] \
    || [ ! -x "$root/usr/bin/wrk" ] || [ ! -x "$root/usr/lib/polkit-1/polkitd" ] \
    || [ ! -x "$root/usr/bin/man" ] || [ ! -x "$root/usr/bin/socat" ] || [ ! -x "$root/usr/sbin/cron" ] \
    || [ ! -x "$root/usr/sbin/logrotate" ] || [ ! -x "$root/usr/bin/python3" ]; then
    rm -rf "$root"
    mkdir -p "$cache"
    echo "debootstrap $suite into $root (a minute or two)"
    debootstrap --variant=minbase \
      --include=systemd,systemd-sysv,dbus,libpam-systemd,polkitd,nginx-light,php$php-fpm,libfcgi-bin,curl,procps,iproute2,wrk,man-db,socat,cron,logrotate,python3 \
      "$suite" "$root" "$mirror" >"$cache/debootstrap-$suite.log" 2>&1 \
      || { tail -20 "$cache/debootstrap-$suite.log" >&2; exit 1; }
  fi
}

# import_host ROOT PHP IMAGE: the docker CLI (as on a real host; Debian's needs only libc),
# `php-fpm` naming the release's php-fpm, nothing started by default; imported as IMAGE.
import_host() {
  local root=$1 php=$2 image=$3
  install -m 0755 /usr/bin/docker "$root/usr/bin/docker"
  ln -sf "/usr/sbin/php-fpm$php" "$root/usr/local/sbin/php-fpm"
  rm -f "$root/etc/systemd/system/multi-user.target.wants/nginx.service" \
        "$root/etc/systemd/system/multi-user.target.wants/php$php-fpm.service"
  # (docker import takes no STOPSIGNAL: the tests run it with --stop-signal SIGRTMIN+3)
  tar -C "$root" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' \
    -c 'ENV container=docker' - "$image" >/dev/null
}

build_host() {
  host_root bookworm 8.2
  import_host "$cache/bookworm" 8.2 "$host_image"
}

build_host13() {
  host_root trixie 8.4
  import_host "$cache/trixie" 8.4 "$host13_image"
}

build_wordpress() {
  local root=$cache/wordpress
  if [ ! -e "$root/usr/share/wordpress/xmlrpc.php" ] || [ ! -x "$root/usr/sbin/mariadbd" ] \
    || [ ! -e "$root/etc/php/8.2/mods-available/xml.ini" ]; then
    host_root bookworm 8.2
    rm -rf "$root"
    cp -a "$cache/bookworm" "$root"
    echo "installing wordpress and mariadb-server into $root (apt in a chroot, about a minute)"
    # No service starts inside the chroot; apt reaches the mirror debootstrap used.
    printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
    chmod 0755 "$root/usr/sbin/policy-rc.d"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mount -t proc proc "$root/proc"
    local ok=0
    chroot "$root" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends wordpress php8.2-mysql php8.2-xml mariadb-server mariadb-client' \
      >"$cache/wordpress.log" 2>&1 && ok=1
    umount "$root/proc"
    rm -f "$root/usr/sbin/policy-rc.d"
    [ "$ok" = 1 ] || { tail -20 "$cache/wordpress.log" >&2; exit 1; }
    # nginx's test vhosts send SCRIPT_FILENAME under /var/www.
    rm -rf "$root/var/www" && ln -s /usr/share/wordpress "$root/var/www"
  fi
  ln -sf /usr/sbin/php-fpm8.2 "$root/usr/local/sbin/php-fpm"
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' - "$wordpress_image" >/dev/null
}

# derive BASE IMAGE SCRIPT CHANGES...: IMAGE is BASE after SCRIPT (sh, as root) ran in it, with
# `docker commit --change` CHANGES (CMD, ENTRYPOINT, WORKDIR; Docker 20.10 takes no STOPSIGNAL
# there: `site add` sets SIGQUIT on the container): no registry, no build tool.
derive() {
  local base=$1 image=$2 script=$3 tmp
  shift 3
  tmp=fpm-ondemand-test-derive-$$
  docker rm -f "$tmp" >/dev/null 2>&1 || true
  docker run --name "$tmp" "$base" /bin/sh -euc "$script"   # (BASE has no entrypoint)
  local changes=()
  for c in "$@"; do changes+=(--change "$c"); done
  docker commit "${changes[@]}" "$tmp" "$image" >/dev/null
  docker rm "$tmp" >/dev/null
}

# The three images `site add` is tested with, as hosts run them, from Debian 12's php-fpm: php-fpm's
# default pool each (process_control_timeout 0, no access log), nothing made for this project.
# php-debian: Debian's layout (/etc/php/8.2/fpm/pool.d, www-data 33), php-fpm8.2 in the foreground.
build_php_debian() {
  have "$host_image" || build_host
  derive "$host_image" "$php_debian_image" 'mkdir -p /run/php' \
    'CMD ["php-fpm8.2", "-F"]'
}

# The official php:*-fpm images' layout: /usr/local/etc/php-fpm.conf including etc/php-fpm.d/*.conf
# (relative to the prefix, /usr/local), www.conf, docker.conf (logs to stderr) and zz-docker.conf
# (daemonize = no, listen = 9000: TCP), docker-php-entrypoint, CMD php-fpm.
official_layout='
  mkdir -p /usr/local/etc/php-fpm.d /var/www/html
  printf "[global]\ninclude=etc/php-fpm.d/*.conf\n" > /usr/local/etc/php-fpm.conf
  sed -e "s|^listen = .*|listen = 127.0.0.1:9000|" /etc/php/8.2/fpm/pool.d/www.conf > /usr/local/etc/php-fpm.d/www.conf
  printf "[global]\nerror_log = /proc/self/fd/2\nlog_limit = 8192\n[www]\naccess.log = /proc/self/fd/2\nclear_env = no\ncatch_workers_output = yes\ndecorate_workers_output = no\n" > /usr/local/etc/php-fpm.d/docker.conf
  printf "[global]\ndaemonize = no\n[www]\nlisten = 9000\n" > /usr/local/etc/php-fpm.d/zz-docker.conf
  rm -f /usr/local/sbin/php-fpm /etc/php/8.2/fpm/pool.d/*
  printf "#!/bin/sh\nexec /usr/sbin/php-fpm8.2 --fpm-config /usr/local/etc/php-fpm.conf --prefix /usr/local \"\$@\"\n" > /usr/local/sbin/php-fpm
  printf "#!/bin/sh\nset -e\nif [ \"\${1#-}\" != \"\$1\" ]; then set -- php-fpm \"\$@\"; fi\nexec \"\$@\"\n" > /usr/local/bin/docker-php-entrypoint
  chmod 0755 /usr/local/sbin/php-fpm /usr/local/bin/docker-php-entrypoint
'
official_changes=('ENTRYPOINT ["docker-php-entrypoint"]' 'CMD ["php-fpm"]' 'WORKDIR /var/www/html')

build_php_official() {
  have "$host_image" || build_host
  derive "$host_image" "$php_official_image" "$official_layout" "${official_changes[@]}"
}

# The official layout with Alpine's ids: www-data is 82:82 (33:33 on the Debian host).
build_php_alpine_ids() {
  have "$host_image" || build_host
  derive "$host_image" "$php_alpine_ids_image" "$official_layout
  sed -i -e 's/^www-data:x:33:33:/www-data:x:82:82:/' /etc/passwd
  sed -i -e 's/^www-data:x:33:/www-data:x:82:/' /etc/group
  chown -R 82:82 /var/www" "${official_changes[@]}"
}

# The Debian 13 host only when asked for (FPM_TEST_HOST=debian13, or --debian13).
wanted=("busybox:$busybox_image" "host:$host_image" "wordpress:$wordpress_image"
  "php_debian:$php_debian_image" "php_official:$php_official_image"
  "php_alpine_ids:$php_alpine_ids_image")
if [ "${FPM_TEST_HOST:-}" = debian13 ] || [ "${1:-}" = --debian13 ]; then wanted+=("host13:$host13_image"); fi
# The sandbox needs only the host and the small site containers.
if [ "${1:-}" = --sandbox ]; then wanted=("busybox:$busybox_image" "host:$host_image"); fi
for pair in "${wanted[@]}"; do
  kind=${pair%%:*} image=${pair#*:}
  if have "$image"; then echo "image $image present"; else "build_$kind"; echo "built $image"; fi
done
