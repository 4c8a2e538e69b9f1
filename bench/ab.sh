#!/usr/bin/env bash
# Before and after in one run, for a change that must not make a figure worse: this tree's
# fpm-reaper and fpm-watcher against another revision's, alternating, on the same engine and sandbox.
#   bash bench/ab.sh REV [RUNS]     RUNS a side (default 15)
# Prints, for each, the median (min-max) in ms and the ratio this/REV: the reaper's dry-run scan of
# 100 sites (BENCHMARKS.md section 1), the watcher's reaction to an out-of-band `docker stop`
# (section 4), and a cold start through a running waker, which has its site started again after a
# stop (section 3; REV's waker with REV's polkit rule where REV has one). Builds REV in a worktree
# under /var/cache/fpm-ondemand-bench-ab.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tests/images.env
source tests/images.env
rev=${1:?usage: bench/ab.sh REV [RUNS]} runs=${2:-15}
label=fpm-ondemand.bench-ab=1 work=/var/lib/fpm-ondemand-bench-ab host=fpm-sandbox-host
old=/var/cache/fpm-ondemand-bench-ab/$(git rev-parse --short "$rev")

bash scripts/setup.sh >/dev/null
echo "==> building this tree and $rev (release)"
cargo build --release --quiet -p fpm-reaper -p fpm-watcher -p fpm-waker -p fpm-ondemand
if [ ! -x "$old/target/release/fpm-waker" ]; then
  rm -rf "$old"; git worktree add -f -q --detach "$old" "$rev"
  (cd "$old" && cargo build --release --quiet -p fpm-reaper -p fpm-watcher -p fpm-waker)
fi
cleanup() { docker ps -aq --filter "label=$label" | xargs -r docker rm -f -v >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
cleanup
now() { date +%s%N; }
stats() { tr ' ' '\n' <<<"$*" | grep . | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%s (%s-%s)", m, a[1], a[NR]}'; }
median() { tr ' ' '\n' <<<"$*" | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
report() {  # NAME NEW... -- OLD...
  local name=$1 new=() olds=(); shift
  while [ "$1" != -- ]; do new+=("$1"); shift; done; shift; olds=("$@")
  printf '%-34s this %-22s %s %-22s ratio %s\n' "$name" "$(stats "${new[*]}")" "$rev" "$(stats "${olds[*]}")" \
    "$(awk -v a="$(median "${new[*]}")" -v b="$(median "${olds[*]}")" 'BEGIN{printf "%.3f", a/b}')"
}

echo "==> reaper: dry-run scan of 100 sites, $runs runs a side"
mkdir -p "$work"
for n in $(seq 1 100); do
  name=$(printf 'ab%03d' "$n")
  echo "# Amount of time to pause the container after: 20m" > "$work/$name.conf"
  if [ $((n % 2)) = 1 ]; then
    docker run -d --init --network none --label "$label" --name "$name.fpm" "$BUSYBOX_IMAGE" sh -c 'echo up; exec sleep infinity' >/dev/null
  else
    docker create --network none --label "$label" --name "$name.fpm" "$BUSYBOX_IMAGE" sleep infinity >/dev/null
  fi
done
new_r=() old_r=()
for _ in $(seq 1 "$runs"); do
  for side in new old; do
    bin=target/release/fpm-reaper; [ $side = old ] && bin=$old/target/release/fpm-reaper
    sleep 1; t0=$(now); "$bin" --dry-run --conf-dir "$work" >/dev/null 2>&1 || true; t1=$(now)
    ms=$(( (t1 - t0) / 1000000 )); if [ $side = new ]; then new_r+=("$ms"); else old_r+=("$ms"); fi
  done
done
report "reaper scan, 100 sites (ms)" "${new_r[@]}" -- "${old_r[@]}"

echo "==> watcher: out-of-band docker stop to fpm@ marked inactive, $runs runs a side"
docker exec "$host" true 2>/dev/null || bash scripts/sandbox.sh >/dev/null 2>&1
docker cp "$old/target/release/fpm-watcher" "$host:/usr/lib/fpm-watcher.ab-old" >/dev/null
in_host() { docker exec "$host" "$@"; }
over=0
use() {  # new|old: the fpm-watcher the units run (old: bound over this tree's), then a fresh daemon
  if [ "$over" = 1 ]; then in_host umount /usr/bin/fpm-watcher; over=0; fi
  if [ "$1" = old ]; then in_host mount --bind /usr/lib/fpm-watcher.ab-old /usr/bin/fpm-watcher; over=1; fi
  in_host systemctl restart fpm-watcher.service; sleep 1
}
react() {
  in_host curl -s -o /dev/null -H 'Host: wiki.test' http://127.0.0.1:8080/index.php
  sleep 0.3
  local since die line evs
  since=$(date +%s)
  docker stop wiki.fpm >/dev/null
  evs=$(docker events --since "$since" --until "$(date +%s.%N)" --filter container=wiki.fpm --format '{{.Action}} {{.TimeNano}}')
  die=$(awk '$1 == "die" {t = $2} END {print t}' <<<"$evs")
  for _ in $(seq 1 50); do
    line=$(in_host journalctl -u fpm-watcher -o short-iso-precise --no-pager --since "@$since" | grep 'mark fpm unit inactive' | grep 'site=wiki' | tail -1 || true)
    [ -n "$line" ] && break; sleep 0.1
  done
  awk -v a="$die" -v b="$(date -d "$(awk '{print $1}' <<<"$line")" +%s%N)" 'BEGIN{printf "%.1f", (b-a)/1e6}'
}
new_w=() old_w=()
for _ in $(seq 1 "$runs"); do
  use new; new_w+=("$(react)")
  use old; old_w+=("$(react)")
done
use new
report "watcher reaction (ms)" "${new_w[@]}" -- "${old_w[@]}"

echo "==> waker: a request to a site stopped under its running waker, to the answer, $runs runs a side"
docker cp "$old/target/release/fpm-waker" "$host:/usr/lib/fpm-waker.ab-old" >/dev/null
rule=deploy/polkit/50-fpm-waker.rules
if [ -f "$old/$rule" ]; then docker cp "$old/$rule" "$host:/etc/polkit-1/rules.d/50-fpm-waker.rules"; fi
waker_over=0
use_waker() {  # new|old: the fpm-waker the next waker of wiki runs
  in_host systemctl stop fpm-waker@wiki.service
  if [ "$waker_over" = 1 ]; then in_host umount /usr/bin/fpm-waker; waker_over=0; fi
  if [ "$1" = old ]; then in_host mount --bind /usr/lib/fpm-waker.ab-old /usr/bin/fpm-waker; waker_over=1; fi
}
cold() {  # wakes the waker and the site, stops the site under it, then times one request
  in_host curl -s -o /dev/null -H 'Host: wiki.test' http://127.0.0.1:8080/index.php
  in_host systemctl stop fpm@wiki.service
  sleep 0.5
  in_host curl -s -o /dev/null -w '%{time_total}' -H 'Host: wiki.test' http://127.0.0.1:8080/index.php \
    | awk '{printf "%.1f", $1 * 1000}'
}
new_c=() old_c=()
for _ in $(seq 1 "$runs"); do
  use_waker new; new_c+=("$(cold)")
  use_waker old; old_c+=("$(cold)")
done
use_waker new
in_host rm -f /etc/polkit-1/rules.d/50-fpm-waker.rules
report "cold start through the waker (ms)" "${new_c[@]}" -- "${old_c[@]}"
