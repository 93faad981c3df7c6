#!/usr/bin/env bash
# A busy day of a city hotline, on the simulated clock, through the real
# services (CURVE, durable commits): ORDERS work orders (default 50,000)
# posted and dispatched to 20 streets, every order's clocks running (take,
# contact and completion: a warning and a breach each). Prints
#   - the end-to-end rate: events posted until workflow has applied them all;
#   - the cost of a clock sweep against the number of open orders: the claim
#     of due steps (subject_clock_claim, rolled back) with nothing due and
#     with 200 due, at 1,000, 10,000 and ORDERS open orders;
#   - the firing of every take clock at once (a warning and a breach per
#     order, each with its history row and notice): steps a second.
# Uses a database of its own ("rectify_bench_hotline", made anew) and its own
# services on ports 73xx, stopped at the end.
#   scripts/bench-hotline.sh [ORDERS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
orders=${1:-50000}
[ "$orders" -ge 10000 ] || { echo "bench-hotline: ORDERS must be 10000 or more" >&2; exit 2; }
scripts/build.sh
base=$(scripts/pg-start.sh)
psql "$base" -qc "DROP DATABASE IF EXISTS rectify_bench_hotline" -c "CREATE DATABASE rectify_bench_hotline"
export RECTIFY_DB="$base dbname=rectify_bench_hotline"
export RECTIFY_LOG_LEVEL=${RECTIFY_LOG_LEVEL:-error} RECTIFY_SIM_CLOCK=true RECTIFY_TIMER_INTERVAL_MS=100
export RECTIFY_RATE_PER_S=1000000 RECTIFY_RATE_BURST=1000000
export RECTIFY_KEYS_DIR="$top/var/bench-hotline/keys" RECTIFY_KEY_FILE="$top/var/bench-hotline/clients"
export RECTIFY_INTAKE_BIND=tcp://127.0.0.1:7301 RECTIFY_WORKFLOW_BIND=tcp://127.0.0.1:7302 \
       RECTIFY_NOTIFY_BIND=tcp://127.0.0.1:7303 RECTIFY_INTAKE_LOG_PUB=tcp://127.0.0.1:7311 \
       RECTIFY_WORKFLOW_LOG_PUB=tcp://127.0.0.1:7312 RECTIFY_NOTIFY_LOG_PUB=tcp://127.0.0.1:7313
ctl=build/services/rectifyctl
work=var/bench-hotline
rm -rf "$work" && mkdir -p "$RECTIFY_KEY_FILE" var/log
$ctl migrate >/dev/null
$ctl key service >/dev/null
$ctl key new --unit admin --name "benchmark as admin" --out "$RECTIFY_KEY_FILE/admin.key_secret" >/dev/null
pids=()
for svc in intake workflow notify; do
  RECTIFY_DB="$RECTIFY_DB user=rectify_$svc" \
    build/services/rectify-$svc </dev/null >/dev/null 2>>var/log/bench-hotline-$svc.log &
  pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true' EXIT
sleep 1
sql() { psql "$RECTIFY_DB" -qAtc "$1"; }

# the hotline and 20 streets, each with its key
{
  echo '{"unit":"admin","register_unit":{"code":"hotline","name":"12345","role":"HOTLINE"}}'
  for s in $(seq 1 20); do
    echo "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"street-$s\",\"name\":\"street $s\",\"role\":\"UNIT\"}}"
  done
} | $ctl post - >/dev/null
$ctl key new --unit hotline --name "benchmark hotline" --out "$RECTIFY_KEY_FILE/hotline.key_secret" >/dev/null
$ctl clock set 2022-03-01T00:00:00Z >/dev/null
now_ms=$(sql "SELECT (extract(epoch FROM (SELECT at FROM sim_clock)) * 1000)::bigint")

# Orders $1 .. $2: a post_order and a dispatch each (two events).
orders_file() {
  awk -v from="$1" -v to="$2" -v ms="$now_ms" 'BEGIN {
    split("noise garbage illegal-building", cat, " ")
    for (i = from; i <= to; i++) {
      printf "{\"unit\":\"hotline\",\"post_order\":{\"order_id\":\"B%07d\",\"received_ms\":%d,", i, ms
      printf "\"channel\":\"PHONE\",\"caller_hash\":\"%064x\",\"address\":\"road %d\",", i, i % 5000
      printf "\"category\":\"%s\",\"text\":\"complaint %d\",\"urgency\":\"NORMAL\"}}\n", cat[i % 3 + 1], i
      printf "{\"unit\":\"hotline\",\"move_order\":{\"order_id\":\"B%07d\",\"step\":\"DISPATCH\",", i
      printf "\"unit\":\"street-%d\"}}\n", i % 20 + 1
    }
  }' >"$work/orders.jsonl"
}

# Posts orders $1 .. $2 and waits until workflow has applied every event.
post_orders() {
  orders_file "$1" "$2"
  local n t0 t1
  n=$(wc -l <"$work/orders.jsonl")
  t0=$(date +%s.%N)
  $ctl post --no-wait "$work/orders.jsonl" >"$work/acks.jsonl"
  # every event is stored once acknowledged; workflow has applied them all
  # when intake's outbox to it is empty (a cheap query: counting wf_event
  # every few milliseconds would cost the database more than the load)
  until [ "$(sql "SELECT count(*) FROM outbox WHERE dest = 'workflow'")" = 0 ]; do sleep 0.2; done
  t1=$(date +%s.%N)
  local refused
  refused=$(sql "SELECT count(*) FROM wf_event WHERE outcome = 'refused'")
  [ "$refused" = 0 ] || { echo "bench-hotline: $refused events refused"; sql "SELECT code, message FROM wf_event WHERE outcome = 'refused' LIMIT 3"; exit 1; }
  awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN {printf "  %d events (orders %s) applied in %.2f s: %.0f events/s end to end\n", n, "'"$1..$2"'", b - a, n / (b - a)}'
}

# The claim of a sweep at now + $1 minutes, in a transaction rolled back:
# how many steps it finds and how long it takes (best of 5).
sweep() {
  local at
  at=$(sql "SELECT (SELECT at FROM sim_clock) + interval '$1 minutes'")
  for _ in 1 2 3 4 5; do
    psql "$RECTIFY_DB" -qAt -v ON_ERROR_STOP=1 <<SQL
\\timing on
BEGIN;
SELECT count(*) FROM subject_clock_claim('$at', 200);
ROLLBACK;
SQL
  done | awk '/^[0-9]+$/ {n=$1} /^Time:/ {t=$2; if (best == "" || t < best) best = t}
              END {printf "%d steps, %.3f ms", n, best}'
}

report_sweeps() {
  local open
  open=$(sql "SELECT count(*) FROM work_order WHERE status NOT IN ('closed')")
  local pending
  pending=$(sql "SELECT count(*) FROM subject_clock WHERE fired_at IS NULL AND cancelled_at IS NULL")
  printf '  %6d open orders, %7d pending steps: sweep with nothing due: %s; with 200 due: %s\n' \
    "$open" "$pending" "$(sweep 0)" "$(sweep 17)"
}

echo "== a busy day: $orders work orders, posted and dispatched (CURVE, durable commits)"
post_orders 1 1000
report_sweeps
post_orders 1001 10000
report_sweeps
post_orders 10001 "$orders"
report_sweeps

echo "== every take clock at once: the clock moves 25 minutes ($orders warnings and $orders breaches)"
t0=$(date +%s.%N)
$ctl clock advance 25m >/dev/null
want=$((2 * orders))
until [ "$(sql "SELECT count(*) FROM subject_clock WHERE fired_at IS NULL AND cancelled_at IS NULL
                AND held_minutes IS NULL AND due_at <= (SELECT at FROM sim_clock)")" = 0 ]; do
  sleep 0.2
done
t1=$(date +%s.%N)
awk -v n="$want" -v a="$t0" -v b="$t1" 'BEGIN {printf "  %d steps fired in %.2f s: %.0f steps/s (each a history row and a notice, in one transaction per 200)\n", n, b - a, n / (b - a)}'
echo "  breaches recorded: $(sql "SELECT count(*) FROM subject_breach") (one per order and clock)"
