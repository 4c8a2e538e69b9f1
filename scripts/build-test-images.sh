#!/usr/bin/env bash
# Builds the images the tests need, without any registry (none can be reached here):
#   fpm-ondemand-test/busybox:1  FROM scratch + Debian's busybox-static: small site containers.
#   fpm-ondemand-test/host:3     a debootstrap of Debian bookworm with systemd, dbus, nginx,
#                                php-fpm, polkitd (the waker's start rule) and wrk (the benchmarks' load): systemd runs as
#                                PID 1 in it, php-fpm serves site containers.
#   fpm-ondemand-test/wordpress:1 the same root plus Debian's wordpress (served from /var/www) and
#                                mariadb-server: a real PHP application and its database.
# Idempotent: an image that exists is kept; the debootstrap folder is cached between runs.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=tests/images.env
source tests/images.env
busybox_image=$BUSYBOX_IMAGE host_image=$HOST_IMAGE wordpress_image=$WORDPRESS_IMAGE
cache=${FPM_TEST_CACHE:-/var/cache/fpm-ondemand-test}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

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

host_root() {
  local root=$cache/bookworm
  if [ ! -x "$root/lib/systemd/systemd" ] || [ ! -x "$root/usr/sbin/php-fpm8.2" ] \
    || [ ! -x "$root/usr/bin/wrk" ] || [ ! -x "$root/usr/lib/polkit-1/polkitd" ]; then
    rm -rf "$root"
    mkdir -p "$cache"
    echo "debootstrap bookworm into $root (about a minute)"
    debootstrap --variant=minbase \
      --include=systemd,systemd-sysv,dbus,libpam-systemd,polkitd,nginx-light,php8.2-fpm,libfcgi-bin,curl,procps,iproute2,wrk \
      bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 \
      || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  fi
}

build_host() {
  local root=$cache/bookworm
  host_root
  # The docker CLI, as on a real host (Debian's needs only libc), and nothing started by default.
  install -m 0755 /usr/bin/docker "$root/usr/bin/docker"
  rm -f "$root/etc/systemd/system/multi-user.target.wants/nginx.service" \
        "$root/etc/systemd/system/multi-user.target.wants/php8.2-fpm.service"
  # (docker import takes no STOPSIGNAL: the tests run it with --stop-signal SIGRTMIN+3)
  tar -C "$root" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' \
    -c 'ENV container=docker' - "$host_image" >/dev/null
}

build_wordpress() {
  local root=$cache/wordpress
  if [ ! -e "$root/usr/share/wordpress/xmlrpc.php" ] || [ ! -x "$root/usr/sbin/mariadbd" ] \
    || [ ! -e "$root/etc/php/8.2/mods-available/xml.ini" ]; then
    host_root
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
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' - "$wordpress_image" >/dev/null
}

for pair in "busybox:$busybox_image" "host:$host_image" "wordpress:$wordpress_image"; do
  kind=${pair%%:*} image=${pair#*:}
  if have "$image"; then echo "image $image present"; else "build_$kind"; echo "built $image"; fi
done
