#!/usr/bin/env bash
# The demo: installs what is needed, builds, starts the private PostgreSQL
# and the three services, and runs seed 001's whole campaign through them
# (上海市城市管理行政执法局 after 市委第六巡视组's round): the units, the round
# and its 4 aspects and 11 problems, the plan of 32 items and 99 measures
# (imported from the unit's spreadsheet), then 486 lifecycle events: progress,
# submissions, write-offs, one rejection, decisions on long-term items,
# accountability, institutions and a look-back that finds one relapse. It ends
# with the ledger and the bulletin, whose figures match the seed's.
#
# The demo database (rectify_demo) is made anew each run. The services keep
# running afterwards; scripts/stop.sh stops them and PostgreSQL.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

echo "== install and build"
scripts/build.sh
echo "== private PostgreSQL, database rectify_demo"
scripts/services.sh stop
base=$(scripts/pg-start.sh)
psql "$base" -qc "DROP DATABASE IF EXISTS rectify_demo" -c "CREATE DATABASE rectify_demo" 2>/dev/null
export RECTIFY_DB="$base dbname=rectify_demo"
echo "$RECTIFY_DB"
echo "== services (on a simulated clock, so that the demo can move through time)"
export RECTIFY_SIM_CLOCK=true RECTIFY_TIMER_INTERVAL_MS=100
scripts/services.sh start

ctl=build/services/rectifyctl
round=2020-sh-xs6-cgzf
demo=deploy/demo
mkdir -p var/log
rm -f var/log/demo-progress.jsonl

# CURVE, as in production: every system posts with a key of its unit (here
# one folder of certificates, one per unit: rectifyctl post picks the one of
# each event's unit), and the log streams need an on-call key
export RECTIFY_KEYS_DIR="$top/var/keys" RECTIFY_KEY_FILE="$top/var/keys/demo-clients"
rm -rf "$RECTIFY_KEY_FILE" var/keys/demo-oncall.key_secret
mkdir -p -m 0700 "$RECTIFY_KEY_FILE"
keys_for() { # a key for each unit of the files, where it has none yet
  for unit in $(grep -ho '"unit": *"[^"]*"' "$@" | cut -d'"' -f4 | sort -u); do
    [ -f "$RECTIFY_KEY_FILE/$unit.key_secret" ] ||
      $ctl key new --unit "$unit" --name "demo system of $unit" \
        --out "$RECTIFY_KEY_FILE/$unit.key_secret" >/dev/null
  done
}
$ctl key new --oncall --name "demo on-call admin" --out var/keys/demo-oncall.key_secret >/dev/null
$ctl key new --unit admin --name "demo administrator" --out "$RECTIFY_KEY_FILE/admin.key_secret" >/dev/null
echo "keys: the services', an on-call admin's, and one per posting unit (rectifyctl key list)"

# follow the live logs while the campaign runs: errors and warnings only
RECTIFY_KEY_FILE=var/keys/demo-oncall.key_secret \
  build/services/rectify-tail --level warn --timeout-ms 600000 >var/log/demo-tail.txt &
tail_pid=$!
sleep 0.3

# Posts a file and says how it went: one line per event goes to var/log.
post() {
  local name=$1
  local out="var/log/demo-$name.jsonl"
  if $ctl post "$demo/seed001-$name.jsonl" >"$out"; then
    echo "$(wc -l <"$out") events posted from seed001-$name.jsonl, all applied"
  else
    echo "seed001-$name.jsonl: some events were refused:"
    grep -v '"outcome":"applied"' "$out" | head -n 20
    return 1
  fi
}

echo "== the campaign"
$ctl clock set 2021-02-01T00:00:00Z >/dev/null
post units
keys_for "$demo"/seed001-*.jsonl
post round
$ctl clock set 2021-02-02T00:00:00Z >/dev/null
$ctl import --round "$round" --unit sh-cgzf --on 2021-02-02 "$demo/seed001-plan.csv"
# The units post their progress day by day, as it happens: the simulated
# clock moves to each day before that day's events (an event dated after
# today is refused), and the clocks fire on their own days in between.
days=$(grep -o '"on_date": "[0-9-]*"' "$demo/seed001-progress.jsonl" | cut -d'"' -f4 | sort -u)
ndays=0
for day in $days; do
  $ctl clock set "${day}T00:00:00Z" >/dev/null
  grep -F "\"on_date\": \"$day\"" "$demo/seed001-progress.jsonl" >"var/log/demo-day.jsonl"
  $ctl post var/log/demo-day.jsonl >>"var/log/demo-progress.jsonl" \
    || { echo "events of $day were refused:"; grep -v '"outcome":"applied"' var/log/demo-progress.jsonl | head; exit 1; }
  ndays=$((ndays + 1))
done
echo "$(wc -l <var/log/demo-progress.jsonl) events of $ndays days posted from seed001-progress.jsonl, all applied"

echo
echo "== rectifyctl item --round $round 1.2.2  (the item the look-back reopened)"
$ctl item --round "$round" 1.2.2 | tail -n 6
echo
echo "== rectifyctl ledger --round $round --track long_term"
$ctl ledger --round "$round" --track long_term
echo
echo "== rectifyctl bulletin --round $round --as-of 2021-07-31  (seed 001's figures)"
$ctl bulletin --round "$round" --as-of 2021-07-31
echo
echo "== after the look-back of 2021-10-20: rectifyctl bulletin --as-of 2021-11-30, the text"
$ctl bulletin --round "$round" --as-of 2021-11-30 | sed -n '/^截至/p'
echo
echo "== simulated time: the clock moves from 2021-02-01 to 2021-12-27"
$ctl clock set 2021-12-27T00:00:00Z
sleep 3
psql "$RECTIFY_DB" -qAt -F ' ' -c "SELECT '   ', count(*), action FROM task_history
    WHERE actor = 'clock' GROUP BY action ORDER BY action"
echo "   (look-backs fall due 90 days after each write-off; the long-term tasks owed"
echo "    a progress report every 30 days after their last one in July)"
echo
echo "== then day by day to 2022-01-09: what the clocks did"
for day in 2021-12-28 2021-12-29 2021-12-30 2021-12-31 2022-01-01 2022-01-02 2022-01-03 \
           2022-01-04 2022-01-05 2022-01-06 2022-01-07 2022-01-08 2022-01-09; do
  $ctl clock advance 1d >/dev/null
  sleep 0.4
  psql "$RECTIFY_DB" -qAt -F ' ' -c "
    SELECT '$day', h.task_id, h.action, '(' || h.reason || ')' FROM task_history h
     WHERE h.actor = 'clock' AND h.effective_on = '$day'
    UNION ALL
    SELECT '$day', n.unit, n.kind, n.body FROM notification n
     WHERE n.kind IN ('weekly_report', 'monthly_report')
       AND n.subject LIKE '%' || ('$day'::date - 1)::text
     ORDER BY 2, 3"
done
echo
echo "== rectifyctl report weekly --round $round --as-of 2022-01-09"
$ctl report weekly --round "$round" --as-of 2022-01-09
echo
kill "$tail_pid" 2>/dev/null || true
echo "== warnings and errors the services logged (rectify-tail --level warn), the last 15"
if [ -s var/log/demo-tail.txt ]; then tail -n 15 var/log/demo-tail.txt; else echo "(none)"; fi
echo
echo "== rectifyctl status"
$ctl status
echo
echo "The services are still running on $RECTIFY_DB:"
echo "follow them with build/services/rectify-tail, query with $ctl ledger|item|bulletin,"
echo "stop everything with scripts/stop.sh."
