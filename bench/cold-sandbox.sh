#!/usr/bin/env bash
# What sandboxing costs the two units spawned on a cold request (fpm-waker@ and fpm@): a cold
# request's first byte with each variant of both units, the variants alternating run by run,
# beside `systemd-analyze security`'s exposure of each. Needs the sandbox (scripts/sandbox.sh),
# which bench/run.sh brings up; run alone it brings it up too.
#   bash bench/cold-sandbox.sh [RESULTS-FILE]     appends a Markdown section (default: stdout)
# Variants: before (the units as they were before tenant isolation, commit $before: both root,
# no sandbox, the waker starting fpm@ itself), unsandboxed (deploy/systemd without the sandbox
# section), shipped (deploy/systemd as is), +mountns (shipped + the options that build a mount
# namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/dev/stdout}
runs=${BENCH_COLD_RUNS:-9}
host=fpm-sandbox-host
in_host() { docker exec "$host" "$@"; }
docker exec "$host" true 2>/dev/null || bash scripts/sandbox.sh >/dev/null 2>&1

units=(fpm@.service fpm-waker@.service)
variants=(${BENCH_COLD_VARIANTS:-before unsandboxed shipped +mountns})
before=8142b55
mountns='ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid'
stage=$(mktemp -d)
bound=0  # 1 while a variant's units are bound over the shipped ones (umount pops exactly those)
unbind() {
  local u
  if [ "$bound" = 1 ]; then for u in "${units[@]}"; do in_host umount "/etc/systemd/system/$u"; done; fi
  bound=0
}
trap 'rm -rf "$stage"; unbind; in_host systemctl daemon-reload || true' EXIT
for v in "${variants[@]}"; do
  mkdir -p "$stage/$v"
  for u in "${units[@]}"; do
    case $v in
      # (the binaries lived in /usr/local/bin then; they are in /usr/bin now)
      before) git show "$before:deploy/systemd/$u" | sed 's#/usr/local/bin/#/usr/bin/#g' ;;
      unsandboxed) sed '/^# Sandbox/,$d' "deploy/systemd/$u" ;;
      shipped) cat "deploy/systemd/$u" ;;
      +mountns) cat "deploy/systemd/$u"; echo "$mountns" ;;
    esac > "$stage/$v/$u"
  done
done
docker cp "$stage/." "$host:/root/bench-units"

# use VARIANT: binds that variant's units over the shipped ones and reloads systemd
use() {
  local u
  unbind
  for u in "${units[@]}"; do in_host mount --bind "/root/bench-units/$1/$u" "/etc/systemd/system/$u"; done
  bound=1
  in_host systemctl daemon-reload
}
exposure() { in_host systemd-analyze security --no-pager "$1" | awk '/Overall exposure level/ {print $(NF-2)}'; }
stats() { tr ' ' '\n' <<<"$*" | grep . | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%s %s %s", m, a[1], a[NR]}'; }

declare -A cold waker_exp fpm_exp
for v in "${variants[@]}"; do
  use "$v"
  waker_exp[$v]=$(exposure fpm-waker@wiki.service)
  fpm_exp[$v]=$(exposure fpm@wiki.service)
done
for r in $(seq 1 "$runs"); do
  for v in "${variants[@]}"; do
    use "$v"
    in_host systemctl stop fpm-waker@wiki.service fpm@wiki.service 2>/dev/null
    sleep 0.5
    t=$(in_host curl -s -o /dev/null -w '%{time_starttransfer} %{http_code}' -H 'Host: wiki.test' http://127.0.0.1:8080/index.php)
    [ "${t#* }" = 200 ] || { echo "variant $v: HTTP ${t#* }" >&2; exit 1; }
    cold[$v]+="$(awk -v t="${t% *}" 'BEGIN{printf "%d", t*1000}') "
  done
  echo "    cold-start run $r: $(for v in "${variants[@]}"; do printf '%s=%sms ' "$v" "$(echo ${cold[$v]} | awk '{print $NF}')"; done)"
done
in_host systemctl stop fpm-waker@wiki.service fpm@wiki.service 2>/dev/null

read -r base _ _ <<<"$(stats "${cold[before]}")"
{
  echo "## 5. What sandboxing costs a cold start"
  echo ""
  echo "The two units spawned on a cold request, fpm-waker@ and fpm@, in four variants (both units alike),"
  echo "alternating run by run, $runs runs each: a cold request to wiki through nginx and the waker, first byte, ms,"
  echo "median (min-max); exposure from \`systemd-analyze security\` (0 locked down, 10 unsafe). Since the"
  echo "tenant-isolation change the socket's first connection starts fpm@ beside the waker (\`Wants=\`), so the"
  echo "waker's own start-up and sandbox are off the cold path; fpm@'s are on it."
  echo ""
  echo "| variant | cold start ms | vs before | exposure fpm-waker@ | exposure fpm@ |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  declare -A name=([before]="before (both root, no sandbox; the waker starts fpm@)" [unsandboxed]="shipped units without their sandbox"
    [shipped]="**shipped**" [+mountns]="shipped + mount-namespace options")
  for v in "${variants[@]}"; do
    read -r med min max <<<"$(stats "${cold[$v]}")"
    echo "| ${name[$v]} | $med ($min-$max) | $(awk -v a="$med" -v b="$base" 'BEGIN{printf "%+d", a-b}') | ${waker_exp[$v]} | ${fpm_exp[$v]} |"
  done
  echo ""
} >> "$out"
