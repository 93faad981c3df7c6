#!/usr/bin/env bash
# The demo: installs what is needed, builds, starts the private PostgreSQL
# and the three services, and runs seed 001's whole campaign through them
# (上海市城市管理行政执法局 after 市委第六巡视组's round): the units, the round
# and its 4 aspects and 11 problems, the plan of 32 items and 99 measures
# (imported from the unit's spreadsheet), then 486 lifecycle events: progress,
# submissions, write-offs, one rejection, decisions on long-term items,
# accountability, institutions and a look-back that finds one relapse. It ends
# with the ledger and the bulletin, whose figures match the seed's. Then a
# day of the 12345 hotline on the work orders' clocks (breaches, a repeat
# case written off) and the month's table per undertaking unit with its cards.
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
echo "== a day of the 12345 hotline in 黄浦区: 2022-01-10, 08:00 to 20:00 in Shanghai (what is open is finished the next morning)"
# deploy/demo/hotline-day.tsv (make_hotline.py): each line is the Shanghai
# time at which the hotline or a street posts the event; the simulated clock
# moves to each time before its events, and the work orders' clocks (take 20
# min, contact 2 h, on site 2 h, reply 1 h) warn and breach on their own
$ctl clock set 2022-01-10T00:00:00Z >/dev/null
$ctl post "$demo/hotline-units.jsonl" >var/log/demo-hotline-units.jsonl
keys_for "$demo/hotline-day.tsv"
rm -f var/log/demo-hotline.jsonl
cut -f1 "$demo/hotline-day.tsv" | sort -u >var/log/demo-slots.txt
while read -r slot; do
  $ctl clock set "$(date -u -d "$slot +0800" +%Y-%m-%dT%H:%M:00Z)" >/dev/null
  grep "^$slot	" "$demo/hotline-day.tsv" | cut -f2- >var/log/demo-slot.jsonl
  $ctl post var/log/demo-slot.jsonl >>var/log/demo-hotline.jsonl \
    || { echo "events of $slot were refused:"; grep -v '"outcome":"applied"' var/log/demo-hotline.jsonl | head; exit 1; }
done <var/log/demo-slots.txt
$ctl clock set 2022-01-11T04:00:00Z >/dev/null
sleep 1
echo "$(wc -l <var/log/demo-hotline.jsonl) events of $(wc -l <var/log/demo-slots.txt) moments posted from hotline-day.tsv, all applied"
echo
echo "== rectifyctl orders --breached  (the last 12)"
$ctl orders --breached | tail -n 12
echo
echo "== rectifyctl order 12345-20220110-0021  (paused while the caller was away)"
$ctl order 12345-20220110-0021 | tail -n 9
echo
echo "== rectifyctl repeats  (one caller, five complaints about one building site)"
$ctl repeats
case_no=$(psql "$RECTIFY_DB" -Atc "SELECT case_no FROM repeat_case WHERE basis = 'place' AND registered_at IS NOT NULL ORDER BY case_no LIMIT 1")
cat >var/log/demo-repeat.jsonl <<JSON
{"unit": "sh-huangpu.team", "handle_repeat_case": {"case_no": $case_no, "action": "ASSIGN_CASE", "unit": "hp-yuyuan", "note": "工地夜间施工反复投诉"}}
{"unit": "hp-yuyuan", "handle_repeat_case": {"case_no": $case_no, "action": "FOLLOW_UP_CASE", "note": "约谈施工单位, 22时后停止施工"}}
{"unit": "sh-huangpu.team", "handle_repeat_case": {"case_no": $case_no, "action": "WRITE_OFF_CASE", "note": "回访投诉人确认, 予以销项"}}
JSON
keys_for var/log/demo-repeat.jsonl
$ctl post var/log/demo-repeat.jsonl >/dev/null
echo "   supervision assigned case $case_no to 豫园街道, which followed up; supervision wrote it off:"
$ctl repeats | tail -n 1
echo
echo "== the month is over (clock 2022-02-01): rectifyctl hotline --month 2022-01"
# advance, not set: setting the clock schedules the periodic reports anew
# from the new time, and January's would never fall due
$ctl clock advance 20d >/dev/null
$ctl clock advance 20h >/dev/null
$ctl clock advance 10m >/dev/null
sleep 2
$ctl hotline --month 2022-01
psql "$RECTIFY_DB" -qAt -F ' ' -c "SELECT '   card sent:', kind, unit FROM notification
    WHERE kind LIKE 'hotline_%_card' ORDER BY unit"
echo
kill "$tail_pid" 2>/dev/null || true
echo "== warnings and errors the services logged (rectify-tail --level warn), the last 15"
if [ -s var/log/demo-tail.txt ]; then tail -n 15 var/log/demo-tail.txt; else echo "(none)"; fi
echo
echo "== rectifyctl status"
$ctl status
echo
echo "The services are still running on $RECTIFY_DB:"
echo "follow them with build/services/rectify-tail, query with $ctl ledger|item|bulletin|orders|hotline,"
echo "stop everything with scripts/stop.sh."
