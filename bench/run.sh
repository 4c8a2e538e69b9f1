#!/usr/bin/env bash
# Benchmarks: every figure beside a baseline measured in the same run on the same machine, as a
# ratio; writes BENCHMARKS.md. Installs what it needs (scripts/setup.sh, GNU time), like the tests.
#   bash bench/run.sh                    everything
#   BENCH_SIZES="10 100" bash bench/run.sh   smaller reaper sizes (default "10 100 1000")
#   BENCH_RUNS=5                          runs per figure (default 5; the 1,000-site baseline runs 3 times)
# Benchmarks report; they never fail the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tests/images.env
source tests/images.env

sizes=${BENCH_SIZES:-10 100 1000}
runs=${BENCH_RUNS:-5}
label=fpm-ondemand.bench=1
work=/var/lib/fpm-ondemand-bench
out=BENCHMARKS.md
results=$(mktemp)

bash scripts/setup.sh >/dev/null
need=(); [ -x /usr/bin/time ] || need+=(time); command -v python3 >/dev/null || need+=(python3-minimal)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
echo "==> building release binaries"
cargo build --release --quiet --workspace
reaper=target/release/fpm-reaper

# Removes the benchmark's containers, in parallel (one by one, 1,000 take half an hour).
remove_all() { docker ps -aq --filter "label=$label" | xargs -r -P 4 -n 50 docker rm -f -v >/dev/null 2>&1 || true; }
cleanup() {
  remove_all
  rm -rf "$work"
}
trap cleanup EXIT
cleanup

ms() { echo $(( ($2 - $1) / 1000000 )); }
# peak_kb CMD...: runs CMD (output discarded) and prints its peak resident memory in kB (GNU time)
peak_kb() { local f; f=$(mktemp); /usr/bin/time -f %M -o "$f" "$@" >/dev/null 2>&1 || true; tail -1 "$f"; rm -f "$f"; }
now() { date +%s%N; }
settle() { sleep 1; }  # a timed run starts on a settled engine, not in the wake of the previous run's requests
# stats "n1 n2 ...": median, min, max
stats() { tr ' ' '\n' <<<"$*" | grep . | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%s %s %s", m, a[1], a[NR]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.1f", a / b }'; }
row() { echo "$*" >> "$results"; }

# ---------------------------------------------------------------- 1. reaper scan
echo "==> 1. reaper scan: fpm-reaper --dry-run vs the shell reaper"
max=0; for n in $sizes; do [ "$n" -gt "$max" ] && max=$n; done
mkdir -p "$work/all"
echo "    creating $max site containers (every other one running)"
site_container() {  # N: conf and container of site benchN; odd N running, even N created
  local name; name=$(printf 'bench%04d' "$1")
  echo "# Amount of time to pause the container after: 20m" > "$work/all/$name.conf"
  if [ $(($1 % 2)) = 1 ]; then
    docker run -d --init --network none --label "$label" --name "$name.fpm" "$BUSYBOX_IMAGE" \
      sh -c 'echo up; exec sleep infinity' >/dev/null
  else
    docker create --network none --label "$label" --name "$name.fpm" "$BUSYBOX_IMAGE" sleep infinity >/dev/null
  fi
}
export -f site_container; export work label BUSYBOX_IMAGE
seq 1 "$max" | xargs -P 8 -n 1 bash -c 'site_container "$0"'
row "## 1. Reaper scan (dry run), against the shell reaper"
row ""
row "Sites with a conf and a container, every other one running (busybox \`sleep\`, one log line). Same conf folder,"
row "same engine, alternating runs one second apart. Wall time in ms (median, min-max of the runs); peak RSS in MB."
row ""
row "| sites | fpm-reaper ms | shell reaper ms | speed-up | fpm-reaper peak RSS | shell peak RSS |"
row "| ---: | ---: | ---: | ---: | ---: | ---: |"
for n in $sizes; do
  d="$work/n$n"; mkdir -p "$d"
  ls "$work/all" | sort | sed -n "1,${n}p" | while read -r f; do ln -sf "$work/all/$f" "$d/$f"; done
  rt=(); st=(); rm_=(); sm=()
  brun=$runs; [ "$n" -ge 1000 ] && brun=3
  for r in $(seq 1 "$runs"); do
    settle
    t0=$(now); m=$(peak_kb "$reaper" --dry-run --format json --conf-dir "$d"); t1=$(now)
    rt+=("$(ms "$t0" "$t1")"); rm_+=("$m")
    if [ "$r" -le "$brun" ]; then
      settle
      t0=$(now); m=$(peak_kb bash bench/shell-reaper.sh "$d"); t1=$(now)
      st+=("$(ms "$t0" "$t1")"); sm+=("$m")
    fi
  done
  read -r rmed rmin rmax <<<"$(stats "${rt[*]}")"
  read -r smed smin smax <<<"$(stats "${st[*]}")"
  read -r rmem _ _ <<<"$(stats "${rm_[*]}")"
  read -r smem _ _ <<<"$(stats "${sm[*]}")"
  echo "    $n sites: fpm-reaper ${rmed} ms, shell ${smed} ms"
  row "| $n | $rmed ($rmin-$rmax) | $smed ($smin-$smax) | $(ratio "$smed" "$rmed")x | $(awk -v k="$rmem" 'BEGIN{printf "%.1f", k/1024}') | $(awk -v k="$smem" 'BEGIN{printf "%.1f", k/1024}') |"
done

echo "    one container logging 500 MB inside its window"
docker rm -f -v bench0001.fpm >/dev/null
docker run -d --init --label "$label" --name bench0001.fpm "$BUSYBOX_IMAGE" \
  sh -c 'l=$(printf %01023d 0); yes "$l" | head -c 524288000; echo LAST; exec sleep infinity' >/dev/null
until [ "$(docker logs --tail 1 bench0001.fpm 2>&1)" = LAST ]; do sleep 1; done
d="$work/big"; mkdir -p "$d"; ln -sf "$work/all/bench0001.conf" "$d/"
rmem=$(peak_kb "$reaper" --dry-run --conf-dir "$d")
t0=$(now); smem=$(peak_kb bash bench/shell-reaper.sh "$d"); t1=$(now)
row ""
row "Peak memory with one container that logged 500 MB inside its window: fpm-reaper $(awk -v k="$rmem" 'BEGIN{printf "%.1f", k/1024}') MB,"
row "shell reaper $(awk -v k="$smem" 'BEGIN{printf "%.1f", k/1024}') MB (its \`docker logs --since\` read the whole window, $(ms "$t0" "$t1") ms)."
row ""
remove_all

# ---------------------------------------------------------------- 2-4. the request path
echo "==> bringing up the sandbox stack (scripts/sandbox.sh) for the request-path figures"
bash scripts/sandbox.sh >/dev/null 2>&1
host=fpm-sandbox-host
in_host() { docker exec "$host" "$@"; }
sock=/var/lib/fpm-ondemand-sandbox/sockets/wiki/php-fpm.sock

echo "==> 2. warm request path (wrk)"
warm_secs=${BENCH_WARM_SECONDS:-10}
cat bench/warm/nginx-warm.conf >> /var/lib/fpm-ondemand-sandbox/nginx.conf
for u in fpm-bench-proxyd.socket fpm-bench-proxyd.service; do docker cp "bench/warm/$u" "$host:/etc/systemd/system/$u"; done
in_host systemctl daemon-reload
in_host systemctl start fpm-bench-proxyd.socket
in_host systemctl reload nginx
# wrk_run VHOST: "requests/s p50-ms p99-ms errors" of one wrk run through nginx
wrk_run() {
  in_host wrk -t2 -c16 -d"${warm_secs}s" --latency -H "Host: $1" http://127.0.0.1:8080/index.php | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Non-2xx/ { err += $NF } /Socket errors/ { err += 1 }
    END { printf "%d %.3f %.3f %d", rps, p50, p99, err }'
}
variants=(direct test proxyd fast)
declare -A wrps wp50 wp99 werr
for v in "${variants[@]}"; do  # warm every path (the waker and the proxy start on first use)
  in_host curl -s -o /dev/null -m 40 -H "Host: wiki.$v" http://127.0.0.1:8080/index.php
done
for r in $(seq 1 "$runs"); do
  for v in "${variants[@]}"; do
    read -r rps p50 p99 err <<<"$(wrk_run "wiki.$v")"
    wrps[$v]+="$rps "; wp50[$v]+="$p50 "; wp99[$v]+="$p99 "; werr[$v]=$(( ${werr[$v]:-0} + err ))
  done
  echo "    run $r: $(for v in "${variants[@]}"; do printf '%s ' "$v=$(echo ${wrps[$v]} | awk '{print $NF}')/s"; done)"
done
read -r drps _ _ <<<"$(stats "${wrps[direct]}")"
read -r dp50 _ _ <<<"$(stats "${wp50[direct]}")"
row "## 2. Warm request path (wrk through nginx)"
row ""
row "wrk (2 threads, 16 connections, ${warm_secs} s a run, $runs runs per path, paths alternating) through nginx to"
row "site wiki's php-fpm container (4 static children, \`index.php\` echoes one line), all on this machine."
row "Requests per second and latency: median of the runs (min-max). Ratios against (a)."
row ""
row "| path | requests/s | vs (a) | p50 ms | p50 added | p99 ms | failed requests |"
row "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
declare -A wname=([direct]="(a) php-fpm.sock directly (baseline)" [test]="(b) through fpm-waker"
  [proxyd]="(c) through systemd-socket-proxyd" [fast]="(d) upstream with waker backup")
for v in "${variants[@]}"; do
  read -r rmed rmin rmax <<<"$(stats "${wrps[$v]}")"
  read -r pmed pmin pmax <<<"$(stats "${wp50[$v]}")"
  read -r qmed qmin qmax <<<"$(stats "${wp99[$v]}")"
  row "| ${wname[$v]} | $rmed ($rmin-$rmax) | $(awk -v a="$rmed" -v b="$drps" 'BEGIN{printf "%.3f", a/b}') | $pmed ($pmin-$pmax) | $(awk -v a="$pmed" -v b="$dp50" 'BEGIN{printf "%+.3f", a-b}') | $qmed ($qmin-$qmax) | ${werr[$v]} |"
done
row ""

echo "==> 3. cold start"
cold=(); alone=(); seed=()
for r in $(seq 1 "$runs"); do
  in_host systemctl stop fpm-waker@wiki.service fpm@wiki.service 2>/dev/null
  t=$(in_host curl -s -o /dev/null -w '%{time_starttransfer}' -H 'Host: wiki.test' http://127.0.0.1:8080/index.php)
  cold+=("$(awk -v t="$t" 'BEGIN{printf "%d", t*1000}')")
  in_host systemctl stop fpm-waker@wiki.service fpm@wiki.service 2>/dev/null
  # docker start to php-fpm.sock accepting, alone (one process, a connect attempt every 0.5 ms)
  alone+=("$(python3 bench/accepting.py wiki.fpm "$sock")")
  docker stop wiki.fpm >/dev/null
  # the seed-style wait loop
  t0=$(now); docker start wiki.fpm >/dev/null
  for _ in $(seq 1 300); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || { echo "wiki's php-fpm.sock did not appear within 30 s" >&2; exit 1; }
  t1=$(now); seed+=("$(ms "$t0" "$t1")")
  docker stop wiki.fpm >/dev/null
done
read -r cmed cmin cmax <<<"$(stats "${cold[*]}")"
read -r amed amin amax <<<"$(stats "${alone[*]}")"
read -r smed smin smax <<<"$(stats "${seed[*]}")"
row "## 3. Cold start"
row ""
row "Request to a stopped site through nginx and the waker, to its first response byte; beside the same"
row "container's \`docker start\` to php-fpm.sock accepting, measured alone, and the seed-style wait loop"
row "(\`until [ -S sock ]; do sleep 0.1; done\`, which also only sees the file, not a listening socket). ms, median (min-max)."
row ""
row "| path | ms |"
row "| --- | ---: |"
row "| cold request, first byte (fpm-ondemand) | $cmed ($cmin-$cmax) |"
row "| docker start to socket accepting, alone (baseline) | $amed ($amin-$amax) |"
row "| seed-style wait loop | $smed ($smin-$smax) |"
row ""
row "Difference to the baseline at the median: $(awk -v a="$cmed" -v b="$amed" 'BEGIN{print a-b}') ms (target under 10 ms)."
row ""

echo "==> 4. watcher reaction and memory"
react=(); docker_ms=()
for r in $(seq 1 "$runs"); do
  in_host curl -s -o /dev/null -H 'Host: wiki.test' http://127.0.0.1:8080/index.php
  sleep 0.3
  since=$(date +%s)
  docker stop wiki.fpm >/dev/null
  evs=$(docker events --since "$since" --until "$(date +%s.%N)" --filter container=wiki.fpm --format '{{.Action}} {{.TimeNano}}')
  die=$(awk '$1 == "die" {t = $2} END {print t}' <<<"$evs")
  stopped=$(awk '$1 == "stop" {t = $2} END {print t}' <<<"$evs")
  docker_ms+=("$(awk -v a="$die" -v b="$stopped" 'BEGIN{printf "%.1f", (b-a)/1e6}')")
  for _ in $(seq 1 50); do
    line=$(in_host journalctl -u fpm-watcher -o short-iso-precise --no-pager --since "@$since" | grep 'mark fpm unit inactive' | grep 'site=wiki' | tail -1 || true)
    [ -n "$line" ] && break; sleep 0.1
  done
  done_ns=$(date -d "$(echo "$line" | awk '{print $1}')" +%s%N)
  react+=("$(awk -v a="$die" -v b="$done_ns" 'BEGIN{printf "%.1f", (b-a)/1e6}')")
done
read -r wmed wmin wmax <<<"$(stats "${react[*]}")"
read -r dmed dmin dmax <<<"$(stats "${docker_ms[*]}")"
in_host curl -s -o /dev/null -H 'Host: wiki.test' http://127.0.0.1:8080/index.php
wrss=$(in_host ps -o rss= -C fpm-watcher | head -1 || true); wrss=${wrss:-0}
krss=$(in_host ps -o rss= -C fpm-waker | head -1 || true); krss=${krss:-0}
row "## 4. Watcher reaction and memory"
row ""
row "Out-of-band \`docker stop\` (Docker's die event) to \`fpm@SITE.service\` marked inactive (the watcher's log"
row "line; journal time, microsecond precision): $wmed ms median ($wmin-$wmax) over $runs runs (target under 50 ms)."
row ""
row "Baseline, the engine alone: from the same die event to Docker's own stop event (the engine cleans the container"
row "up in between, and answers inspect or stop requests about it only after that): $dmed ms median ($dmin-$dmax)."
row "The watcher's share is the difference: $(awk -v a="$wmed" -v b="$dmed" 'BEGIN{printf "%.1f", a-b}') ms."
row ""
row "Resident memory: fpm-watcher $((wrss / 1024)) MB ($wrss kB), an idle fpm-waker $((krss / 1024)) MB ($krss kB)."
row ""

echo "==> 5. what sandboxing costs a cold start"
BENCH_COLD_RUNS=${BENCH_COLD_RUNS:-31} bash bench/cold-sandbox.sh "$results"
echo "==> 6. what a drained stop costs"
bash bench/stop.sh "$results"
echo "==> 7. watcher memory with 1,000 sites and their metrics"
bash bench/watcher-metrics.sh "$results"
bash scripts/sandbox.sh --down >/dev/null
echo "==> 8. a crawler over 100 sleeping sites, with and without the budget"
bash bench/budget.sh "$results"

# ---------------------------------------------------------------- report
{
  echo "# Benchmarks"
  echo
  echo "Made by \`bash bench/run.sh\` on $(date -u +%Y-%m-%d): $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB,"
  echo "$(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), Docker $(docker version --format '{{.Server.Version}}'),"
  echo "release build. Each figure stands beside a baseline measured in the same run on the same machine."
  echo
  cat "$results"
  cat bench/reading.md
} > "$out"
echo "==> wrote $out"
cat "$out"
