#!/usr/bin/env bash
# Builds the images the tests need, without any registry: a FROM-scratch busybox image made
# from Debian's busybox-static. Idempotent: an image that exists is kept.
set -euo pipefail

image=fpm-ondemand-test/busybox:1
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "image $image present"
  exit 0
fi
bb=/bin/busybox   # from Debian's busybox-static: one static binary, runs FROM scratch
[ -x "$bb" ] || { echo "$bb is missing (apt-get install busybox-static)" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$image" >/dev/null
echo "built $image"
