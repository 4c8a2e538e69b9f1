#!/usr/bin/env bash
# The watcher's memory as the sites it knows grow from the sandbox's 3 to 1,000 and their metrics
# fill (a wake, a replay, a refusal and a reaper stop told for every site, then all of it again),
# beside its memory with the 3 sites (the baseline, same run); and what one scrape of /metrics
# costs then. Needs the sandbox (scripts/sandbox.sh), which bench/run.sh brings up; run alone it
# brings it up too.
#   bash bench/watcher-metrics.sh [RESULTS-FILE]     appends a Markdown section (default: stdout)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/dev/stdout}
extra=${BENCH_EXTRA_SITES:-997}
RECONCILE=$(sed -n 's/^pub const RECONCILE_AT_ONCE: usize = \([0-9]*\);/\1/p' watcher/src/daemon.rs)
host=fpm-sandbox-host
root=/var/lib/fpm-ondemand-sandbox
in_host() { docker exec "$host" "$@"; }
docker exec "$host" true 2>/dev/null || bash scripts/sandbox.sh >/dev/null 2>&1

rss() { in_host ps -o rss= -C fpm-watcher | head -1 | tr -d ' '; }
scrape() { in_host curl -s -o /dev/null -w '%{size_download} %{time_total}' http://127.0.0.1:9747/metrics; }
# restart: the watcher again, timed to READY (its startup reconcile of every site); prints ms
restart() {
  local t0 t1
  t0=$(date +%s%N); in_host systemctl restart fpm-watcher.service; t1=$(date +%s%N)
  sleep 1; scrape >/dev/null
  echo $(( (t1 - t0) / 1000000 ))
}
# events ROUND: the four events for every extra site, as the waker and the reaper send them
events() {
  in_host bash -c 'for i in $(seq 1 '"$extra"'); do
    for e in "{\"event\":\"wake\",\"site\":\"bench$i\",\"held_seconds\":0.4}" "{\"event\":\"replay\",\"site\":\"bench$i\"}" \
             "{\"event\":\"refusal\",\"site\":\"bench$i\",\"reason\":\"start_timeout\"}" "{\"event\":\"reaper_stopping\",\"site\":\"bench$i\"}"; do
      printf %s "$e" | socat -u - UNIX-SENDTO:/run/fpm-ondemand/events.sock
    done
  done'
  sleep 1
}
cleanup() {
  in_host bash -c 'systemctl stop $(for i in $(seq 1 '"$extra"'); do echo fpm-waker@bench$i.socket; done)' || true
  rm -f "$root"/on-demand/bench*.conf
  restart >/dev/null
}
trap cleanup EXIT

restart >/dev/null
base_ms=$(restart)
base=$(rss)
for i in $(seq 1 "$extra"); do
  echo "# Amount of time to pause the container after: 20m" > "$root/on-demand/bench$i.conf"
done
# As on a real host, every site's waker socket listens (systemd starts them at boot): timed too,
# systemd's own cost.
t0=$(date +%s%N)
in_host bash -c 'systemctl start $(for i in $(seq 1 '"$extra"'); do echo fpm-waker@bench$i.socket; done)'
sockets_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
known_ms=$(restart)
known=$(rss)
events; first=$(rss)
events; second=$(rss)
read -r bytes secs <<<"$(scrape)"
wakes=$(in_host curl -s http://127.0.0.1:9747/metrics | grep -c '^fpm_ondemand_wakes_total{' || true)
sites=$((extra + 3))

mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
{
  echo "## 7. Watcher memory with $sites sites and their metrics"
  echo ""
  echo "Resident memory of fpm-watcher (ps rss) in the sandbox host, against the same watcher with the"
  echo "sandbox's 3 sites (the baseline, same run); the extra sites have confs but no container, so every"
  echo "reconcile looks each one up in Docker and systemd. Then each of them is told a wake, a replay, a"
  echo "refusal and a reaper stop through the events socket (4 datagrams a site), twice over."
  echo ""
  echo "| watcher | resident memory | ratio to 3 sites |"
  echo "| --- | --- | --- |"
  echo "| 3 sites (baseline) | $(mb "$base") MB | 1.00 |"
  echo "| $sites sites, after the startup reconcile | $(mb "$known") MB | $(ratio "$known" "$base") |"
  echo "| $sites sites, after the first round of events ($wakes sites with a wakes series) | $(mb "$first") MB | $(ratio "$first" "$base") |"
  echo "| $sites sites, after the second round (same series: flat) | $(mb "$second") MB | $(ratio "$second" "$base") |"
  echo ""
  echo "Restart to READY (the startup reconcile looks at every site, $RECONCILE at once): $known_ms ms with $sites sites,"
  echo "$base_ms ms with 3 (ratio $(ratio "$known_ms" "$base_ms")). Starting the extra sites' waker sockets before (systemd"
  echo "alone, one \`systemctl start\` for all, as at boot) took $sockets_ms ms, $((sockets_ms / extra)) ms a socket: a host on which"
  echo "the watcher must re-arm every socket (one start job each) takes at least that long to be ready."
  echo ""
  echo "One scrape of /metrics then: $bytes bytes in $(awk -v s="$secs" 'BEGIN{printf "%.1f", s*1000}') ms (curl in the host)."
  echo ""
} >> "$out"
