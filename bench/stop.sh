#!/usr/bin/env bash
# What a drained stop costs: how long `systemctl stop fpm@wiki.service` (drain, then php-fpm's
# graceful stop) takes idle and under load, beside `docker stop` alone (no drain, the baseline) in
# the same conditions, with the requests each loses; and how long a request that arrives during
# the stop waits (held by the waker until the next start) against a plain cold start. Needs the
# sandbox (scripts/sandbox.sh), which bench/run.sh brings up; run alone it brings it up too.
#   bash bench/stop.sh [RESULTS-FILE]     appends a Markdown section (default: stdout)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/dev/stdout}
runs=${BENCH_STOP_RUNS:-7}
host=fpm-sandbox-host
root=/var/lib/fpm-ondemand-sandbox
in_host() { docker exec "$host" "$@"; }
docker exec "$host" true 2>/dev/null || bash scripts/sandbox.sh >/dev/null 2>&1
stats() { tr ' ' '\n' <<<"$*" | grep . | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%s %s %s", m, a[1], a[NR]}'; }

# A request that takes 300 ms in php, as the load.
printf '<?php usleep((int)($_GET["ms"] ?? 300) * 1000); echo "ok\\n";\n' > "$root/www/slow.php"
url='http://127.0.0.1:8080/slow.php?ms=300'

# ms CMD...: runs CMD in the host and prints how long it took in ms
ms_in_host() { in_host bash -c 't0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 ))' _ "$@"; }
wake() { in_host curl -s -o /dev/null -H 'Host: wiki.test' "$url"; sleep 0.3; }
# load on|off: 8 clients in a loop through the waker (more than php-fpm's 4 workers)
load() {
  if [ "$1" = on ]; then
    in_host rm -f /tmp/stop-load /tmp/load.codes
    in_host bash -c "for k in 1 2 3 4 5 6 7 8; do (while [ ! -e /tmp/stop-load ]; do
      curl -s -m 60 -o /dev/null -w '%{http_code}\n' -H 'Host: wiki.test' '$url' >> /tmp/load.codes; done) & done" &
    sleep 1
  else
    in_host touch /tmp/stop-load
    wait
    sleep 1
  fi
}
last() { awk '{print $NF}' <<<"$1"; }
failed() { in_host sh -c 'grep -vc "^200$" /tmp/load.codes || true'; }

declare -A t lost
held=(); cold=()
for r in $(seq 1 "$runs"); do
  wake; t[idle]+="$(ms_in_host systemctl stop fpm@wiki.service) "
  wake; t[idle_base]+="$(ms_in_host docker stop -t 30 wiki.fpm) "; sleep 0.5
  wake; load on; t[load]+="$(ms_in_host systemctl stop fpm@wiki.service) "; load off; lost[load]=$(( ${lost[load]:-0} + $(failed) ))
  wake; load on; t[load_base]+="$(ms_in_host docker stop -t 30 wiki.fpm) "; load off; lost[load_base]=$(( ${lost[load_base]:-0} + $(failed) ))
  sleep 0.5
  # a request arriving 50 ms into a stop under load: held, then served by the next start
  wake; load on
  in_host systemctl stop --no-block fpm@wiki.service; sleep 0.05
  held+=("$(in_host curl -s -o /dev/null -w '%{time_total}' -H 'Host: wiki.test' "$url" | awk '{printf "%d", $1 * 1000}')")
  load off
  # the same request as a plain cold start
  in_host systemctl stop fpm-waker@wiki.service fpm@wiki.service 2>/dev/null; sleep 0.5
  cold+=("$(in_host curl -s -o /dev/null -w '%{time_total}' -H 'Host: wiki.test' "$url" | awk '{printf "%d", $1 * 1000}')")
  in_host systemctl stop fpm@wiki.service
  echo "    stop run $r: idle $(last "${t[idle]}") ms (docker stop $(last "${t[idle_base]}")), loaded $(last "${t[load]}") ms (docker stop $(last "${t[load_base]}")), held ${held[-1]} ms, cold ${cold[-1]} ms"
done
rm -f "$root/www/slow.php"

row() { read -r m a b <<<"$(stats "$2")"; echo "| $1 | $m ($a-$b) | $3 |"; }
{
  echo "## 6. What a drained stop costs"
  echo ""
  echo "\`systemctl stop fpm@wiki.service\` (drain: php-fpm.sock moved aside, php-fpm's backlog emptied; then"
  echo "php-fpm's graceful stop), against \`docker stop\` alone (what a stop was before the drain) in the same"
  echo "conditions, $runs runs each, alternating. Under load: 8 clients in a loop through nginx and the waker, each"
  echo "request 300 ms in php (php-fpm has 4 workers, so requests wait in its backlog). ms, median (min-max);"
  echo "requests that got no 200 during all the runs of that kind."
  echo ""
  echo "| stop | ms | requests lost |"
  echo "| --- | ---: | ---: |"
  row "idle, drained (\`systemctl stop\`)" "${t[idle]}" "-"
  row "idle, \`docker stop\` alone (baseline)" "${t[idle_base]}" "-"
  row "under load, drained (\`systemctl stop\`)" "${t[load]}" "${lost[load]}"
  row "under load, \`docker stop\` alone (baseline)" "${t[load_base]}" "${lost[load_base]}"
  echo ""
  echo "A request arriving 50 ms into a drained stop under load waits at the waker until the next start:"
  read -r hm ha hb <<<"$(stats "${held[*]}")"; read -r cm ca cb <<<"$(stats "${cold[*]}")"
  echo "$hm ms ($ha-$hb) to its answer, against $cm ms ($ca-$cb) for the same request as a plain cold start"
  echo "(difference at the median: $(( ${hm%.*} - ${cm%.*} )) ms; the held request waits out the rest of the stop, but"
  echo "finds the waker already running)."
  echo ""
} >> "$out"
