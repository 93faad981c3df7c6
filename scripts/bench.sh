#!/usr/bin/env bash
# Benchmarks the three services on the private PostgreSQL (durable commits):
# end-to-end throughput, intake's answer latency at 2,000 events/s, and the
# resident memory of each idle service. Uses a database of its own
# ("rectify_bench", made anew) and its own services, stopped at the end.
#   scripts/bench.sh [EVENTS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
events=${1:-50000}
scripts/build.sh
base=$(scripts/pg-start.sh)
psql "$base" -qc "DROP DATABASE IF EXISTS rectify_bench" -c "CREATE DATABASE rectify_bench"
export RECTIFY_DB="$base dbname=rectify_bench"
export RECTIFY_ALLOW_PLAIN=true RECTIFY_LOG_LEVEL=${RECTIFY_LOG_LEVEL:-warn}
# ports of their own, so a running demo is not disturbed
export RECTIFY_INTAKE_BIND=tcp://127.0.0.1:7201 RECTIFY_WORKFLOW_BIND=tcp://127.0.0.1:7202 \
       RECTIFY_NOTIFY_BIND=tcp://127.0.0.1:7203 RECTIFY_INTAKE_LOG_PUB=tcp://127.0.0.1:7211 \
       RECTIFY_WORKFLOW_LOG_PUB=tcp://127.0.0.1:7212 RECTIFY_NOTIFY_LOG_PUB=tcp://127.0.0.1:7213
mkdir -p var/log
pids=()
for svc in intake workflow notify; do
  build/services/rectify-$svc </dev/null >/dev/null 2>>var/log/bench-$svc.log &
  pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true' EXIT
sleep 1

# resident memory: RSS counts shared library pages too; PSS shares them out
# among the processes using them; private dirty is what the service itself wrote
rss() {
  printf '  %-9s %9s %9s %14s\n' service RSS PSS "private dirty"
  local names=(intake workflow notify)
  for i in 0 1 2; do
    awk -v n="${names[$i]}" '/^Rss:/ {r=$2} /^Pss:/ {p=$2} /^Private_Dirty:/ {d=$2}
      END {printf "  %-9s %6d kB %6d kB %11d kB\n", n, r, p, d}' /proc/"${pids[$i]}"/smaps_rollup
  done
}
echo "== resident memory, idle, before load (log_level=$RECTIFY_LOG_LEVEL)"
rss
echo "== throughput: $events events, as fast as they go"
build/services/rectify-bench --events "$events"
echo "== latency: 20000 events at 2000 events/s"
build/services/rectify-bench --events 20000 --rate 2000
sleep 1
echo "== resident memory, idle, after load"
rss
