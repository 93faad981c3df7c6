#!/usr/bin/env bash
# Benchmarks the reports over a large campaign: a round of MEASURES measures
# (default 1,000,000) under MEASURES/10 items, each with its history
# (assigned, started, and for most of them submitted and written off),
# written straight into a database of its own (rectify_bench_report) by SQL,
# then times `rectifyctl bulletin` (today and a past date) and `ledger --overdue`.
#   scripts/bench-report.sh [MEASURES]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
measures=${1:-1000000}
scripts/build.sh
base=$(scripts/pg-start.sh)
psql "$base" -qc "DROP DATABASE IF EXISTS rectify_bench_report" -c "CREATE DATABASE rectify_bench_report"
export RECTIFY_DB="$base dbname=rectify_bench_report"
build/services/rectifyctl migrate
echo "== loading $measures measures"
time psql "$RECTIFY_DB" -q -v ON_ERROR_STOP=1 -v n="$measures" <<'SQL'
INSERT INTO unit (code, name, parent, role, path) VALUES
  ('office', 'office', NULL, 'inspection_office', '/office/'),
  ('big', 'big', NULL, 'unit', '/big/'),
  ('big.a', 'big.a', 'big', 'unit', '/big/big.a/');
INSERT INTO wf_event (event_id, seq, event_type, unit, outcome)
  VALUES ('00000000-0000-4000-8000-000000000001', 1, 'open_round', 'office', 'applied');
INSERT INTO inspection_round VALUES ('BIG', 'group', 'big', '2021-01-01', '2021-02-01',
  '2021-03-01', 'inspection', '00000000-0000-4000-8000-000000000001');
INSERT INTO feedback_problem (round_id, problem_id, aspect, title, posted_by)
  SELECT 'BIG', p::text, 'aspect ' || (p % 4), 'problem ' || p,
         '00000000-0000-4000-8000-000000000001' FROM generate_series(1, 10) p;
INSERT INTO task (round_id, task_id, kind, problem_id, title, status, lead_leader,
                  responsible_unit, deadline, track, created_by)
  SELECT 'BIG', 'I' || i, 'item', (i % 10 + 1)::text, 'item ' || i,
         CASE WHEN i % 10 = 0 THEN 'in_progress' ELSE 'closed' END, 'leader', 'big.a',
         '2021-06-30', 'fix_now', '00000000-0000-4000-8000-000000000001'
    FROM generate_series(1, :n / 10) i;
INSERT INTO task (round_id, task_id, kind, problem_id, item_id, title, status, lead_leader,
                  responsible_unit, deadline, track, created_by)
  SELECT 'BIG', 'M' || m, 'measure', ((m / 10) % 10 + 1)::text, 'I' || (m / 10 + 1),
         'measure ' || m, CASE WHEN m % 100 = 0 THEN 'in_progress' ELSE 'closed' END, 'leader',
         'big.a', '2021-06-30', 'fix_now', '00000000-0000-4000-8000-000000000001'
    FROM generate_series(0, :n - 1) m;
INSERT INTO task_history (round_id, task_id, event_id, actor, action, from_status, to_status,
                          effective_on)
  SELECT 'BIG', task_id, '00000000-0000-4000-8000-000000000001', 'big', a.action, a.f, a.t,
         date '2021-03-01' + a.d
    FROM task, (VALUES ('assign', 'registered', 'assigned', 0), ('start', 'assigned', 'in_progress', 5),
                       ('submit_write_off', 'in_progress', 'submitted', 60),
                       ('write_off', 'submitted', 'closed', 70)) a(action, f, t, d)
   WHERE round_id = 'BIG' AND (status = 'closed' OR a.d <= 5);
ANALYZE;
SQL
psql "$RECTIFY_DB" -Atc "SELECT count(*) || ' tasks, ' || (SELECT count(*) FROM task_history) || ' history rows' FROM task"
for args in "bulletin --round BIG --json" "bulletin --round BIG --as-of 2021-05-01 --json" \
            "ledger --round BIG --overdue --json"; do
  echo "== rectifyctl $args"
  for run in 1 2 3; do
    /usr/bin/time -f "   %e s wall, %M kB max resident (run $run)" \
      build/services/rectifyctl $args >/tmp/bench-report.out
  done
  grep -o '"rectified": [0-9]*\|"completed": [0-9]*' /tmp/bench-report.out | head -2 | tr '\n' ' '; echo
done
