#!/usr/bin/env bash
# The baseline: the shell reaper a host runs today (pause-on-demand-containers.sh), as described in
# the operators' notes. For each conf: the window after the first colon of line 1, then
# `docker logs --since WINDOW SITE.fpm`; empty output means idle. With DRY=1 (the benchmark's
# default) it prints what it would stop instead of calling systemctl, like `fpm-reaper --dry-run`.
dir=${1:?usage: shell-reaper.sh CONF_DIR}
for conf in "$dir"/*.conf; do
  site=$(basename "$conf" .conf)
  window=$(head -n 1 "$conf" | cut -d: -f2 | tr -d ' ')
  out=$(docker logs --since "$window" "$site.fpm" 2>&1)
  if [ -z "$out" ]; then
    if [ "${DRY:-1}" = 1 ]; then echo "would stop $site"; else systemctl stop "fpm@$site.service"; fi
  fi
done
