#!/usr/bin/env bash
# The crawler's pass over 100 sleeping sites (every site's index once, in random order, within
# 10 s) with and without a budget of awake sites (max_awake 20, min_awake_secs 3, min_idle_secs 5,
# wait_secs 20), each on a fresh test stack: the budget's pass beside the baseline without it,
# same run. Runs the ignored test watcher/tests/budget.rs::bench_crawler_with_and_without_the_budget
# (release build).
#   bash bench/budget.sh [RESULTS-FILE]     appends a Markdown section (default: stdout)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/dev/stdout}
# The test stack takes the three tools from the test binary's folder: build them all first.
cargo build --release --quiet -p fpm-reaper -p fpm-watcher -p fpm-waker -p fpm-ondemand
table=$(cargo test -q --release -p fpm-watcher --test budget bench_crawler_with_and_without_the_budget \
  -- --ignored --nocapture --test-threads 1 2>/dev/null | grep '^|')
{
  echo "## 8. A crawler over 100 sleeping sites, with and without the budget"
  echo
  echo "A crawler requests each of 100 sleeping sites once, in random order, one every 100 ms, through"
  echo "nginx and the wakers; without a budget (the baseline) and with \`max_awake = 20\` (\`max_starting = 4\`,"
  echo "\`min_awake_secs = 3\`, \`min_idle_secs = 5\`, \`wait_secs = 20\`). Site containers running sampled"
  echo "every 100 ms; memory is the machine's MemAvailable at its lowest against just before the pass (it"
  echo "counts everything on the machine, the stopping and starting containers too); the wait is curl's"
  echo "time to the whole answer (a 503 comes after the 20 s wait)."
  echo
  echo "$table"
  echo
} >> "$out"
