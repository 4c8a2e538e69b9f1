#!/usr/bin/env bash
# Builds the images the tests need, without any registry (none can be reached here):
#   fpm-ondemand-test/busybox:1  FROM scratch + Debian's busybox-static: small site containers.
#   fpm-ondemand-test/host:6     a debootstrap of Debian bookworm with systemd, dbus, nginx,
#                                php-fpm, polkitd (the waker's start rule), wrk (the benchmarks' load),
#                                man-db (the package test's `man`), socat and cron (the shell-script
#                                host the migration test builds first): systemd runs as
#                                PID 1 in it, php-fpm serves site containers.
#   fpm-ondemand-test/wordpress:1 the same root plus Debian's wordpress (served from /var/www) and
#                                mariadb-server: a real PHP application and its database.
# Idempotent: an image that exists is kept; the debootstrap folder is cached between runs.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=tests/images.env
source tests/images.env
busybox_image=$BUSYBOX_IMAGE host_image=$HOST_IMAGE host13_image=$HOST_IMAGE_DEBIAN13
wordpress_image=$WORDPRESS_IMAGE
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
# nginx, phpPHP-fpm, wrk, man-db (the package test reads a man page), socat and cron (the old host of
# the migration test), cached in $cache/SUITE.
host_root() {
  local suite=$1 php=$2 root=$cache/$1
  if [ ! -x "$root/lib/systemd/systemd" ] || [ ! -x "$root/usr/sbin/php-fpm$php" ] \
    || [ ! -x "$root/usr/bin/wrk" ] || [ ! -x "$root/usr/lib/polkit-1/polkitd" ] \
    || [ ! -x "$root/usr/bin/man" ] || [ ! -x "$root/usr/bin/socat" ] || [ ! -x "$root/usr/sbin/cron" ]; then
    rm -rf "$root"
    mkdir -p "$cache"
    echo "debootstrap $suite into $root (a minute or two)"
    debootstrap --variant=minbase \
      --include=systemd,systemd-sysv,dbus,libpam-systemd,polkitd,nginx-light,php$php-fpm,libfcgi-bin,curl,procps,iproute2,wrk,man-db,socat,cron \
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

# The Debian 13 host only when asked for (FPM_TEST_HOST=debian13, or --debian13).
wanted=("busybox:$busybox_image" "host:$host_image" "wordpress:$wordpress_image")
if [ "${FPM_TEST_HOST:-}" = debian13 ] || [ "${1:-}" = --debian13 ]; then wanted+=("host13:$host13_image"); fi
for pair in "${wanted[@]}"; do
  kind=${pair%%:*} image=${pair#*:}
  if have "$image"; then echo "image $image present"; else "build_$kind"; echo "built $image"; fi
done
