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
jobs=$(nproc 2>/dev/null || echo 2)

scripts/install-deps.sh
echo "== build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" >/dev/null
echo "== private PostgreSQL, database rectify_demo"
scripts/services.sh stop
base=$(scripts/pg-start.sh)
psql "$base" -qc "DROP DATABASE IF EXISTS rectify_demo" -c "CREATE DATABASE rectify_demo" 2>/dev/null
export RECTIFY_DB="$base dbname=rectify_demo"
echo "$RECTIFY_DB"
echo "== services"
scripts/services.sh start

ctl=build/services/rectifyctl
round=2020-sh-xs6-cgzf
demo=deploy/demo
mkdir -p var/log

# follow the live logs while the campaign runs: errors and warnings only
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
post units
post round
$ctl import --round "$round" --unit sh-cgzf --on 2021-02-02 "$demo/seed001-plan.csv"
post progress
sleep 0.5
kill "$tail_pid" 2>/dev/null || true

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
echo "== warnings and errors the services logged (rectify-tail --level warn)"
if [ -s var/log/demo-tail.txt ]; then cat var/log/demo-tail.txt; else echo "(none)"; fi
echo
echo "== rectifyctl status"
$ctl status
echo
echo "The services are still running on $RECTIFY_DB:"
echo "follow them with build/services/rectify-tail, query with $ctl ledger|item|bulletin,"
echo "stop everything with scripts/stop.sh."
