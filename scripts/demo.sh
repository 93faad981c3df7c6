#!/usr/bin/env bash
# The demo: installs what is needed, builds, starts the private PostgreSQL
# and the three services, posts seed 001's inspection round (one round, four
# aspects, eleven feedback problems), and shows what each service did.
# The services keep running afterwards; scripts/stop.sh stops them and
# PostgreSQL.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

scripts/install-deps.sh
echo "== build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" >/dev/null
echo "== private PostgreSQL"
RECTIFY_DB=$(scripts/pg-start.sh)
export RECTIFY_DB
echo "$RECTIFY_DB"
echo "== services"
scripts/services.sh start

ctl=build/services/rectifyctl
demo=deploy/demo/seed001-round.jsonl
events=$(grep -vc '^#' "$demo")

# follow the notification service's live log while posting
build/services/rectify-tail --service notify --count "$events" --timeout-ms 15000 >var/log/demo-tail.txt &
tail_pid=$!
sleep 0.5

echo "== rectifyctl post $demo"
status=0
$ctl post "$demo" || status=$?

echo "== waiting for workflow and notification"
psql_q() { psql "$RECTIFY_DB" -Atqc "$1"; }
for _ in $(seq 1 100); do
  done_n=$(psql_q "SELECT count(*) FROM delivery d JOIN notification n USING (notice_id)
                   WHERE d.status = 'sent'")
  [ "$done_n" -ge "$events" ] && break
  sleep 0.1
done
wait "$tail_pid" || true

echo "== what the notification service said (rectify-tail --service notify)"
if [ -s var/log/demo-tail.txt ]; then
  cat var/log/demo-tail.txt
else
  echo "(nothing new: these events were posted before, so every answer was DUPLICATE)"
fi
echo
echo "== rectifyctl status"
$ctl status
echo
echo "== the round and its feedback problems, as workflow holds them"
psql "$RECTIFY_DB" -qP pager=off -c "SELECT round_id, group_name, target_unit, onsite_from, onsite_to,
        feedback_date FROM inspection_round" \
  -c "SELECT problem_id AS \"#\", left(aspect, 16) || '…' AS aspect, title FROM feedback_problem
      ORDER BY problem_id"
echo "The services are still running: follow them with build/services/rectify-tail,"
echo "post more with $ctl post FILE, stop everything with scripts/stop.sh."
exit "$status"
