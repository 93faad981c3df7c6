#!/usr/bin/env bash
# Benchmarks the three services on the private PostgreSQL (durable commits):
# end-to-end throughput, intake's answer latency at 2,000 events/s (also
# right after a burst and while workflow restarts), the memory of intake and
# workflow while the next service is stopped and how fast the backlog drains
# after, and the resident memory of each idle service. Uses a database of its own
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
export RECTIFY_LOG_LEVEL=${RECTIFY_LOG_LEVEL:-warn}
# CURVE as deployed (RECTIFY_ALLOW_PLAIN=true to compare): the services' keys
# and a key for each unit the benchmark posts as, in a folder of its own. The
# per-key rate limit (rate_per_s, default 2,000/s) would measure the policy,
# not the services: it is raised here unless set.
export RECTIFY_ALLOW_PLAIN=${RECTIFY_ALLOW_PLAIN:-false}
export RECTIFY_RATE_PER_S=${RECTIFY_RATE_PER_S:-1000000} RECTIFY_RATE_BURST=${RECTIFY_RATE_BURST:-1000000}
export RECTIFY_KEYS_DIR="$top/var/bench/keys" RECTIFY_KEY_FILE="$top/var/bench/clients"
# ports of their own, so a running demo is not disturbed
export RECTIFY_INTAKE_BIND=tcp://127.0.0.1:7201 RECTIFY_WORKFLOW_BIND=tcp://127.0.0.1:7202 \
       RECTIFY_NOTIFY_BIND=tcp://127.0.0.1:7203 RECTIFY_INTAKE_LOG_PUB=tcp://127.0.0.1:7211 \
       RECTIFY_WORKFLOW_LOG_PUB=tcp://127.0.0.1:7212 RECTIFY_NOTIFY_LOG_PUB=tcp://127.0.0.1:7213
mkdir -p var/log
build/services/rectifyctl migrate >/dev/null
rm -rf var/bench
if [ "$RECTIFY_ALLOW_PLAIN" != true ]; then
  mkdir -p "$RECTIFY_KEY_FILE"
  build/services/rectifyctl key service >/dev/null
  build/services/rectifyctl key new --unit admin --name "benchmark as admin" \
    --out "$RECTIFY_KEY_FILE/admin.key_secret" >/dev/null
fi
pids=()
names=(intake workflow notify)
# each service as its own role (the owner migrated above)
for svc in "${names[@]}"; do
  RECTIFY_DB="$RECTIFY_DB user=rectify_$svc" \
    build/services/rectify-$svc </dev/null >/dev/null 2>>var/log/bench-$svc.log &
  pids+=($!)
done
trap 'kill -CONT "${pids[@]}" 2>/dev/null; kill -TERM "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true' EXIT
sleep 1
if [ "$RECTIFY_ALLOW_PLAIN" != true ]; then
  # a key is made for a registered unit only: the admin registers the units
  # first (the ids rectify-bench uses, so its own registration is a DUPLICATE)
  printf '%s\n' \
    '{"event_id":"00000000-0000-4000-8000-000000000001","unit":"admin","register_unit":{"code":"bench-office","name":"bench-office","role":"INSPECTION_OFFICE"}}' \
    '{"event_id":"00000000-0000-4000-8000-000000000002","unit":"admin","register_unit":{"code":"bench-unit","name":"bench-unit","role":"UNIT"}}' |
    build/services/rectifyctl post - >/dev/null
  build/services/rectifyctl key new --unit bench-office --name "benchmark as bench-office" \
    --out "$RECTIFY_KEY_FILE/bench-office.key_secret" >/dev/null
fi
sql() { psql "$RECTIFY_DB" -qAtc "$1"; }
kb() { awk '/^Rss:/ {print $2}' /proc/"$1"/smaps_rollup; }
# the p99 figure of a rectify-bench run's output
p99() { sed -n 's|^ack latency p50/p99/max: *[0-9.]* / \([0-9.]*\) / .*|\1|p' "$1"; }

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
build/services/rectify-bench --events 20000 --rate 2000 | tee var/log/bench-lat.txt
echo "   goal: p99 under 10 ms (ARCHITECTURE.md), 20 ms (issue 7): measured $(p99 var/log/bench-lat.txt) ms"

echo "== latency right after a burst: $events events acknowledged, then 20000 at 2000/s at once"
build/services/rectify-bench --events "$events" --acks-only | sed -n 's/^acknowledged/burst: acknowledged/p'
build/services/rectify-bench --events 20000 --rate 2000 --acks-only | tee var/log/bench-lat.txt
echo "   goal: p99 under 20 ms right after a burst: measured $(p99 var/log/bench-lat.txt) ms"
until [ "$(sql "SELECT count(*) FROM outbox")" = 0 ]; do sleep 0.5; done

echo "== latency while workflow restarts (kill -9 after 3 s, started again at once)"
build/services/rectify-bench --events 20000 --rate 2000 --acks-only >var/log/bench-lat.txt &
bench=$!
sleep 3
kill -KILL "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true
RECTIFY_DB="$RECTIFY_DB user=rectify_workflow" \
  build/services/rectify-workflow </dev/null >/dev/null 2>>var/log/bench-workflow.log &
pids[1]=$!
wait "$bench"
cat var/log/bench-lat.txt
echo "   goal: p99 under 20 ms while workflow restarts: measured $(p99 var/log/bench-lat.txt) ms"
until [ "$(sql "SELECT count(*) FROM outbox")" = 0 ]; do sleep 0.5; done

# Stops service $1 (an index of pids) for a while, posts $2 events, samples
# the RSS of the service before it ($3) meanwhile, then lets it go on and
# times how fast the backlog drains.
stopped() {
  local stop=$1 n=$2 watch=$3 idle max=0 r
  idle=$(kb "${pids[$watch]}")
  kill -STOP "${pids[$stop]}"
  build/services/rectify-bench --events "$n" --acks-only >/dev/null &
  local bench=$! t_end=$((SECONDS + 25))
  while [ $SECONDS -lt $t_end ]; do
    r=$(kb "${pids[$watch]}"); [ "$r" -gt "$max" ] && max=$r
    sleep 0.2
  done
  wait "$bench"
  local backlog t0 t1
  backlog=$(sql "SELECT count(*) FROM outbox")
  t0=$(date +%s.%N)
  kill -CONT "${pids[$stop]}"
  until [ "$(sql "SELECT count(*) FROM outbox")" = 0 ]; do sleep 0.1; done
  t1=$(date +%s.%N)
  sleep 3 # idle: memory given back
  printf '  %-8s stopped 25 s: %s RSS idle %d kB, at most %d kB while stopped (+%d kB), %d kB after\n' \
    "${names[$stop]}" "${names[$watch]}" "$idle" "$max" $((max - idle)) "$(kb "${pids[$watch]}")"
  awk -v n="$backlog" -v a="$t0" -v b="$t1" \
    'BEGIN {printf "  backlog of %d rows drained in %.2f s: %.0f rows/s\n", n, b - a, n / (b - a)}'
}
echo "== memory while the next service is stopped, and the backlog's drain after"
echo "   goal: within a few MB of idle; the drain at least the normal end-to-end rate"
stopped 1 30000 0
stopped 2 30000 1
echo "== resident memory, idle, after load"
rss
