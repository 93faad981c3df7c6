#!/usr/bin/env bash
# The fault suite. Runs the three services (as built in build/) on a database
# of their own, over ipc:// endpoints in a temporary folder, and loads them
# with rectify-fault-client (lifecycle chains with unique ids, re-sent until
# answered, poison events mixed in) in phases; during each phase's load it
# does one kind of harm at random moments: kill -9 of a service and a
# restart, an immediate restart of PostgreSQL, SIGSTOP of a service for a
# while; every 200 ms it samples each service's resident memory. After each
# phase it waits for the pipeline to drain and checks, against the database:
# nothing acknowledged is lost or applied twice, workflow applied in the order
# intake accepted, every frame was answered, the outboxes are empty, each
# poison was refused or rejected as it should be, memory stayed bounded.
# Prints a table; exits 1 on any violation, 2 when it could not run.
#
#   scripts/faults.sh [--short|--long] [--events N] [--rate R] [--faults K]
#                     [--stop-s S] [--no-poison] [--poison-every K]
#                     [--poison-kinds KIND,...]
#                     [--phases LIST] [--rss-slack-mb M] [--seed N]
#                     [--keep-going] [--build DIR] [--keep]
#
# A phase after which the pipeline did not drain ends the run (what follows
# would only count the same stall again) unless --keep-going is given.
# Other RECTIFY_* settings in the environment (RECTIFY_RESEND_TIMEOUT_MS,
# RECTIFY_BATCH_MAX, ...) reach the services.
#
# PostgreSQL: RECTIFY_DB (key=value form) names the server where it creates
# its database; without it, the private cluster of var/pg (started if need
# be, and stopped again). The immediate restart is done only to the private
# cluster of this checkout; on another server that phase is skipped, and
# says so.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

usage() {
  sed -n '/^#   scripts/,/^#$/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# --- options -----------------------------------------------------------------
mode=short
poison_kinds=""
events="" rate="" faults="" stop_s="" poison_every="" phases="" seed=""
rss_slack_mb=64
build="$top/build"
keep=false
keep_going=false
while [ $# -gt 0 ]; do
  case "$1" in
    --short) mode=short ;;
    --long) mode=long ;;
    --events) events=$2; shift ;;
    --rate) rate=$2; shift ;;
    --faults) faults=$2; shift ;;
    --stop-s) stop_s=$2; shift ;;
    --no-poison) poison_every=0 ;;
    --poison-every) poison_every=$2; shift ;;
    --poison-kinds) poison_kinds=$2; shift ;;
    --phases) phases=$2; shift ;;
    --rss-slack-mb) rss_slack_mb=$2; shift ;;
    --seed) seed=$2; shift ;;
    --build) build=$2; shift ;;
    --keep) keep=true ;;
    --keep-going) keep_going=true ;;
    -h|--help) usage ;;
    *) echo "faults: unknown option $1" >&2; usage ;;
  esac
  shift
done
if [ "$mode" = short ]; then
  : "${events:=1600}" "${rate:=400}" "${faults:=1}" "${stop_s:=2}"
  give_up_ms=20000 stall_s=10 drain_max_s=60
else
  : "${events:=24000}" "${rate:=600}" "${faults:=4}" "${stop_s:=6}"
  give_up_ms=60000 stall_s=30 drain_max_s=300
fi
: "${poison_every:=40}"
: "${phases:=baseline kill-intake kill-workflow kill-notify pg-restart stop-intake stop-workflow stop-notify}"
: "${seed:=$(( $(date +%s) % 100000 ))}"
for n in "$events" "$rate" "$faults" "$stop_s" "$poison_every" "$rss_slack_mb" "$seed"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "faults: \"$n\" is not a number" >&2; exit 2; }
done
RANDOM=$seed
phases=${phases//,/ }
for phase in $phases; do
  case "$phase" in
    baseline|kill-intake|kill-workflow|kill-notify|pg-restart|stop-intake|stop-workflow|stop-notify) ;;
    *) echo "faults: unknown phase $phase" >&2; usage ;;
  esac
done

client="$build/tests/fault/rectify-fault-client"
for bin in "$client" "$build"/services/rectify-{intake,workflow,notify}; do
  [ -x "$bin" ] || { echo "faults: $bin is missing; build first (scripts/build.sh)" >&2; exit 2; }
done
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
psql_bin=$(command -v psql || echo "$pgbin/psql")

# --- state and cleanup ----------------------------------------------------------
work=$(mktemp -d /tmp/rectify-faults.XXXXXX)
declare -A pid=()
services=(intake workflow notify)
sampler=""
db="" base="" started_pg=false failed=false

# True while the process runs (a child that exited stays a zombie until
# reaped, and kill -0 would still succeed).
alive() {
  local state
  state=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [ "$state" != Z ]
}

cleanup() {
  local rc=$?
  set +e
  [ $rc -eq 0 ] || failed=true
  rm -f "$work/sampling"
  [ -n "$sampler" ] && wait "$sampler" 2>/dev/null
  for svc in "${services[@]}"; do
    p=${pid[$svc]:-}
    [ -n "$p" ] || continue
    kill -CONT "$p" 2>/dev/null
    kill -TERM "$p" 2>/dev/null
  done
  for svc in "${services[@]}"; do
    p=${pid[$svc]:-}
    [ -n "$p" ] || continue
    for _ in $(seq 1 100); do alive "$p" || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  if [ -n "$db" ] && ! $keep; then
    "$psql_bin" "$base" -Atqc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  fi
  $started_pg && scripts/pg-stop.sh
  if $keep || $failed; then
    echo "faults: logs, client output and samples kept in $work" >&2
    $keep && [ -n "$db" ] && echo "faults: database kept: $base dbname=$db" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- PostgreSQL ---------------------------------------------------------------------
pgdata="$top/var/pg/data"
as_owner() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then as_owner() { runuser -u rectify -- "$@"; }; fi
private=false
if [ -z "${RECTIFY_DB:-}" ]; then
  if ! [ -s "$pgdata/PG_VERSION" ] || ! as_owner "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    started_pg=true
  fi
  base=$(scripts/pg-start.sh)
  private=true
else
  base=$RECTIFY_DB
  [[ "$base" == *"host=$top/var/pg/run"* ]] && private=true
fi
db="rectify_fault_$$"
"$psql_bin" "$base" -Atqc "CREATE DATABASE $db" >/dev/null
conn="$base dbname=$db"
sql() { "$psql_bin" "$conn" -X -Atq -v ON_ERROR_STOP=1 "$@"; }

pg_restart() {
  as_owner "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w -t 60 -l "$top/var/pg/server.log" \
    restart >/dev/null
}

# --- the services ---------------------------------------------------------------------
unset RECTIFY_CONFIG
# other RECTIFY_* settings in the environment reach the services too. CURVE
# as deployed: the services' keys in $work/keys, a key for each unit the
# client posts as in $work/clients (the client sends each event with its
# unit's); the per-key rate limit is raised, since the load is one system's
# posting as fast as the phase asks, not a misbehaving one
export RECTIFY_DB="$conn" RECTIFY_ALLOW_PLAIN=false RECTIFY_LOG_LEVEL=${RECTIFY_LOG_LEVEL:-warn} \
  RECTIFY_KEYS_DIR="$work/keys" RECTIFY_KEY_FILE="$work/clients" \
  RECTIFY_RATE_PER_S=${RECTIFY_RATE_PER_S:-1000000} RECTIFY_RATE_BURST=${RECTIFY_RATE_BURST:-1000000} \
  RECTIFY_RESEND_TIMEOUT_MS=${RECTIFY_RESEND_TIMEOUT_MS:-2000} \
  RECTIFY_INTAKE_BIND="ipc://$work/intake.sock" RECTIFY_WORKFLOW_BIND="ipc://$work/workflow.sock" \
  RECTIFY_NOTIFY_BIND="ipc://$work/notify.sock" RECTIFY_INTAKE_LOG_PUB="ipc://$work/intake.log.sock" \
  RECTIFY_WORKFLOW_LOG_PUB="ipc://$work/workflow.log.sock" \
  RECTIFY_NOTIFY_LOG_PUB="ipc://$work/notify.log.sock"

# the owner migrates; each service connects as its own role (090_roles.sql)
"$build/services/rectifyctl" migrate >/dev/null
mkdir -p "$work/clients"
"$build/services/rectifyctl" key service >/dev/null
# Makes a key for each unit named (registered by then) in $work/clients.
unit_keys() {
  local unit
  for unit in "$@"; do
    "$build/services/rectifyctl" key new --unit "$unit" --name "fault suite as $unit" \
      --out "$work/clients/$unit.key_secret" >/dev/null
  done
}
unit_keys admin

# Starts a service and waits until it has bound its socket (it connects and
# checks the schema first); exits the suite if it does not come up.
start_svc() {
  local svc=$1
  rm -f "$work/$svc.sock"
  RECTIFY_DB="$conn user=rectify_$svc" \
    "$build/services/rectify-$svc" </dev/null >/dev/null 2>>"$work/$svc.log" &
  pid[$svc]=$!
  echo "${pid[$svc]}" >"$work/$svc.pid"
  local until=$(( SECONDS + 60 ))
  until [ -S "$work/$svc.sock" ]; do
    if ! alive "${pid[$svc]}" || [ $SECONDS -ge $until ]; then
      echo "faults: rectify-$svc did not come up; the end of its log:" >&2
      tail -n 20 "$work/$svc.log" >&2
      failed=true
      exit 2
    fi
    sleep 0.05
  done
}

# Every 200 ms: "microseconds service kB" for each running service.
sample_rss() {
  local t svc p k v _
  while [ -e "$work/sampling" ]; do
    t=${EPOCHREALTIME/./}
    for svc in "${services[@]}"; do
      p=$(cat "$work/$svc.pid" 2>/dev/null) || continue
      while read -r k v _; do
        if [ "$k" = VmRSS: ]; then echo "$t $svc $v"; break; fi
      done 2>/dev/null <"/proc/$p/status" || true
    done
    sleep 0.2
  done >>"$work/rss.log"
}

# Highest sample of a service between two times (microseconds), in kB.
max_rss() {
  awk -v s="$2" -v e="$3" -v n="$1" '$2 == n && $1 >= s && $1 <= e && $3 > m {m = $3}
    END {print m + 0}' "$work/rss.log"
}

# Waits until nothing is in flight: outboxes empty, every stored event has an
# outcome, no delivery pending. Returns 1 when that state stops moving for
# stall_s seconds or drain_max_s pass; drain_state says where it stopped and
# drain_why which of the two.
drain_state="" drain_why=""
drain() {
  local last="" since=$SECONDS start=$SECONDS
  while :; do
    drain_state=$(sql -c "SELECT (SELECT count(*) FROM outbox) || ' ' ||
        (SELECT count(*) FROM intake_event i
          WHERE NOT EXISTS (SELECT 1 FROM wf_event w WHERE w.event_id = i.event_id)) || ' ' ||
        (SELECT count(*) FROM delivery WHERE status = 'pending')" 2>/dev/null) \
      || drain_state="no answer from the database"
    [ "$drain_state" = "0 0 0" ] && return 0
    if [ "$drain_state" != "$last" ]; then last=$drain_state; since=$SECONDS; fi
    if [ $(( SECONDS - since )) -ge $stall_s ]; then
      drain_why="stalled: no progress for ${stall_s}s"
      return 1
    fi
    if [ $(( SECONDS - start )) -ge $drain_max_s ]; then
      drain_why="still draining after ${drain_max_s}s"
      return 1
    fi
    sleep 0.2
  done
}

# A random number of milliseconds in [lo, hi).
rand_ms() { echo $(( $1 + (RANDOM * 32768 + RANDOM) % ($2 - $1) )); }
sleep_ms() { sleep "$(printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )))"; }

# Does the phase's harm up to $faults times at random moments while the
# client (pid $2) runs; sets injected to how many times it landed.
injected=0
inject() {
  local fault=$1 cpid=$2 k span svc
  injected=0
  [ "$fault" = baseline ] && return 0
  # the load lasts about events/rate seconds: spread the faults over it
  span=$(( events * 1000 / (rate > 0 ? rate : 1000) * 2 / (faults + 1) * 8 / 10 ))
  [ $span -gt 400 ] || span=400
  for (( k = 0; k < faults; k++ )); do
    sleep_ms "$(rand_ms 200 "$span")"
    kill -0 "$cpid" 2>/dev/null || break
    svc=${fault#*-}
    if [ "$fault" != pg-restart ] && ! alive "${pid[$svc]}"; then
      break # it died by itself: check_alive reports it
    fi
    case "$fault" in
      kill-*)
        kill -KILL "${pid[$svc]}" 2>/dev/null || true
        wait "${pid[$svc]}" 2>/dev/null || true
        echo "$(date +%T) kill -9 $svc" >>"$work/faults.log"
        sleep_ms "$(rand_ms 0 1000)"
        start_svc "$svc"
        ;;
      stop-*)
        kill -STOP "${pid[$svc]}"
        echo "$(date +%T) SIGSTOP $svc for ${stop_s}s" >>"$work/faults.log"
        sleep "$stop_s"
        kill -CONT "${pid[$svc]}"
        ;;
      pg-restart)
        echo "$(date +%T) pg_ctl restart -m immediate" >>"$work/faults.log"
        pg_restart
        ;;
    esac
    injected=$(( injected + 1 ))
  done
}

# Reports a service that exited by itself during the phase, and starts it again.
phase_failed=false
check_alive() {
  local svc st
  phase_failed=false
  for svc in "${services[@]}"; do
    alive "${pid[$svc]}" && continue
    phase_failed=true
    st=0
    wait "${pid[$svc]}" 2>/dev/null || st=$?
    violate "$1: rectify-$svc exited by itself (status $st); see the end of $work/$svc.log"
    start_svc "$svc"
  done
}

# SIGTERM to each service: each must drain and exit 0 within 15 s.
stop_services() {
  local svc st
  for svc in "${services[@]}"; do kill -TERM "${pid[$svc]}" 2>/dev/null || true; done
  for svc in "${services[@]}"; do
    for _ in $(seq 1 150); do alive "${pid[$svc]}" || break; sleep 0.1; done
    if alive "${pid[$svc]}"; then
      violate "rectify-$svc did not stop within 15 s of SIGTERM"
      kill -KILL "${pid[$svc]}" 2>/dev/null || true
    fi
    st=0
    wait "${pid[$svc]}" 2>/dev/null || st=$?
    [ $st -eq 0 ] || violate "rectify-$svc exited with status $st on SIGTERM, not 0"
    pid[$svc]=""
  done
}

# --- the judgement ------------------------------------------------------------------
# Each event the client sent, with what intake and workflow made of it, and
# whether that is what its kind demands (see tests/fault/fault_client.c).
judge_schema() {
  sql <<'SQL'
CREATE TABLE fault_item (
    phase text, kind text, expect text, chain int, step int, event_id uuid, status text,
    code text, attempts int, accept_order bigint, n_accepted int, answers int,
    frame_hex text, round_id text, sock int);
CREATE VIEW fault_judged AS
SELECT f.*, i.seq AS iseq, i.event_type, i.payload = decode(f.frame_hex, 'hex') AS same_bytes,
       w.seq AS wseq, w.outcome,
       CASE f.expect
         WHEN 'applied' THEN f.status IN ('ACCEPTED', 'DUPLICATE') AND w.outcome = 'applied'
         WHEN 'refused' THEN (f.status = 'REJECTED' AND f.code <> '')
                          OR (f.status IN ('ACCEPTED', 'DUPLICATE') AND w.outcome = 'refused')
         WHEN 'rejected' THEN f.status = 'REJECTED' AND f.code <> ''
         WHEN 'answered' THEN (f.status = 'REJECTED' AND f.code <> '')
                           OR (f.status IN ('ACCEPTED', 'DUPLICATE') AND w.outcome IS NOT NULL)
         WHEN 'duplicate' THEN (f.status = 'DUPLICATE' OR (f.status = 'REJECTED' AND f.code <> ''))
                            AND (i.payload = decode(f.frame_hex, 'hex')) IS NOT TRUE
       END IS TRUE AS as_expected
  FROM fault_item f LEFT JOIN intake_event i USING (event_id) LEFT JOIN wf_event w USING (event_id);
SQL
}

# One line of figures for the phases matched by the LIKE pattern $1.
judge() {
  sql <<SQL
WITH f AS (SELECT * FROM fault_judged WHERE phase LIKE '$1'),
     ids AS (SELECT DISTINCT event_id FROM f WHERE event_id IS NOT NULL),
     -- the notice each type of event the client sends causes when applied
     notices (event_type, notice) AS (VALUES
       ('register_unit', 'unit_registered'), ('open_round', 'round_opened'),
       ('post_problem', 'problem_posted'), ('assign', 'task_assigned'), ('start', 'start'),
       ('report_progress', 'report_progress'), ('submit_write_off', 'submit_write_off'),
       ('write_off', 'write_off'))
SELECT concat_ws(' ',
  count(*),
  count(*) FILTER (WHERE status = 'ACCEPTED'),
  count(*) FILTER (WHERE status = 'DUPLICATE'),
  count(*) FILTER (WHERE status = 'REJECTED'),
  count(*) FILTER (WHERE status = 'UNANSWERED'),
  -- lost: answered as stored, and not stored, or stored and never applied
  count(*) FILTER (WHERE status IN ('ACCEPTED', 'DUPLICATE') AND kind <> 'reused_id'
                     AND (iseq IS NULL OR wseq IS NULL)),
  -- lost too: what is stored under a valid event's id is not what was sent
  count(*) FILTER (WHERE kind IN ('valid', 'setup') AND same_bytes IS FALSE),
  -- and notices: an applied event without the notice its type causes, a
  -- refused one without event_refused; a notice not delivered on the log
  count(*) FILTER (WHERE kind <> 'reused_id' AND NOT EXISTS (
      SELECT 1 FROM notification n WHERE n.event_id = f.event_id
         AND n.kind = CASE WHEN outcome = 'refused' THEN 'event_refused'
                           ELSE (SELECT notice FROM notices WHERE notices.event_type = f.event_type) END)
    AND (outcome = 'refused' OR (outcome = 'applied' AND event_type IN (SELECT event_type FROM notices)))),
  (SELECT count(*) FROM notification n WHERE n.event_id IN (SELECT event_id FROM ids)
      AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.notice_id = n.notice_id
                         AND d.channel = 'log' AND d.status = 'sent')),
  -- doubled: accepted twice; a reused id taking effect; a rejected event stored;
  -- an event changing a task twice or causing one kind of notice twice
  count(*) FILTER (WHERE n_accepted > 1),
  count(*) FILTER (WHERE kind = 'reused_id' AND (status = 'ACCEPTED' OR same_bytes)),
  count(*) FILTER (WHERE status = 'REJECTED' AND same_bytes),
  (SELECT count(*) FROM (SELECT 1 FROM task_history h WHERE h.event_id IN (SELECT event_id FROM ids)
                          GROUP BY h.event_id, h.round_id, h.task_id HAVING count(*) > 1) x),
  (SELECT count(*) FROM (SELECT 1 FROM notification n WHERE n.event_id IN (SELECT event_id FROM ids)
                          GROUP BY n.event_id, n.kind HAVING count(*) > 1) x),
  -- order: intake's answers came on each connection (a unit's key) in the
  -- order of its sequence; workflow
  -- applied each event at intake's place for it; no chain step was refused;
  -- each task's history follows intake's order; each chain's steps too
  (SELECT count(*) FROM (SELECT iseq, lag(iseq) OVER (PARTITION BY phase, sock ORDER BY accept_order) AS prev
                           FROM f WHERE status = 'ACCEPTED' AND iseq IS NOT NULL) x
    WHERE iseq <= prev),
  count(*) FILTER (WHERE wseq <> iseq),
  count(*) FILTER (WHERE kind IN ('valid', 'setup') AND outcome = 'refused'),
  (SELECT count(*) FROM (SELECT i.seq, lag(i.seq) OVER (PARTITION BY h.round_id, h.task_id ORDER BY h.id) AS prev
                           FROM task_history h JOIN intake_event i USING (event_id)
                          WHERE h.event_id IN (SELECT event_id FROM f WHERE kind IN ('valid', 'setup'))) x
    WHERE seq <= prev),
  (SELECT count(*) FROM (SELECT iseq, lag(iseq) OVER (PARTITION BY phase, chain ORDER BY step) AS prev
                           FROM f WHERE kind IN ('valid', 'setup')) x
    WHERE iseq <= prev),
  -- poisons, and valid events not applied
  count(*) FILTER (WHERE kind NOT IN ('valid', 'setup')),
  count(*) FILTER (WHERE kind NOT IN ('valid', 'setup') AND as_expected),
  count(*) FILTER (WHERE kind IN ('valid', 'setup') AND NOT as_expected))
FROM f;
SQL
}

violations=()
violate() { violations+=("$1"); }
rows=()
# One line of the table.
row() { printf '%-14s %6s %7s %8s %5s %8s %10s %5s %7s %7s %7s %5s %5s %5s  %s\n' "$@"; }

# Reads judge's figures for the phases matching $1 into ev, acc, ... and sums
# them up into lost, doubled, order_bad and order.
figures() {
  read -r ev acc dup rej unans lost altered nmissing nundelivered dacc dreuse drej dhist dnote \
          oack oseq orefused ohist ochain pois pois_ok valid_bad <<<"$(judge "$1")"
  doubled=$(( dacc + dreuse + drej + dhist + dnote ))
  order_bad=$(( oack + oseq + orefused + ohist + ochain ))
  lost=$(( lost + altered + nmissing + nundelivered ))
  order=yes
  [ "$order_bad" -eq 0 ] || order="NO($order_bad)"
}

# Loads a phase's client output, judges it, and adds its row to the table.
check_phase() {
  local phase=$1 fault=$2 t0=$3 t1=$4 client_line=$5 drained=$6
  sql -c "\\copy fault_item FROM '$work/$phase.tsv'"
  figures "$phase"
  local result=ok
  $phase_failed && result=FAIL
  local p="$phase:"
  [ "$unans" -eq 0 ] || { violate "$p $unans events never answered (every frame must be)"; result=FAIL; }
  [ "$lost" -eq 0 ] || { violate "$p $lost lost: $(( lost - altered - nmissing - nundelivered )) acknowledged events not stored or without an outcome when the drain ended, $altered stored other than sent, $nmissing events without their notice, $nundelivered notices not delivered"; result=FAIL; }
  if [ "$doubled" -ne 0 ]; then
    violate "$p doubled: $dacc accepted twice, $dreuse reused ids taking effect, $drej rejected but stored, $dhist task changes twice, $dnote notices twice"
    result=FAIL
  fi
  if [ "$order_bad" -ne 0 ]; then
    violate "$p order: $oack answers out of intake's order, $oseq applied at another place, $orefused chain steps refused, $ohist task histories out of order, $ochain chains out of order"
    result=FAIL
  fi
  [ "$valid_bad" -eq 0 ] || { violate "$p $valid_bad valid events not accepted and applied"; result=FAIL; }
  [ "$pois_ok" -eq "$pois" ] || { violate "$p $(( pois - pois_ok )) of $pois poison events not answered as they must be (see the poison table)"; result=FAIL; }
  local stray
  stray=$(grep -o 'stray=[0-9]*' <<<"$client_line" | awk -F= '{s += $2} END {print s + 0}')
  [ "${stray:-0}" -eq 0 ] || { violate "$p $stray answers for ids never sent"; result=FAIL; }
  [ "$drained" = yes ] || { violate "$p the pipeline did not drain, $drain_why (outbox rows, events without outcome, pending deliveries: $drain_state)"; result=FAIL; }
  if [ "$fault" != baseline ] && [ "$injected" -eq 0 ]; then
    violate "$p the fault never landed during the load (the load ended first)"; result=FAIL
  fi
  local rss=() svc m
  for svc in "${services[@]}"; do
    m=$(max_rss "$svc" "$t0" "$t1")
    rss+=("$(( m / 1024 ))")
    if [ "$m" -gt $(( ${idle[$svc]} + rss_slack_mb * 1024 )) ]; then
      violate "$p $svc reached $m kB resident; idle it was ${idle[$svc]} kB, the bound is +$rss_slack_mb MB"
      result=FAIL
    fi
  done
  local landed=-
  [ "$fault" = baseline ] || landed="$injected/$faults"
  rows+=("$(row "$phase" "$landed" "$ev" "$acc" "$dup" "$rej" "$unans" "$lost" "$doubled" \
            "$order" "$pois_ok/$pois" "${rss[0]}" "${rss[1]}" "${rss[2]}" "$result")")
  echo "${rows[-1]}" >&2
}

# --- the run ----------------------------------------------------------------------------
echo "faults: $mode run, seed $seed; $events events a phase at $rate/s, $faults faults a phase," \
     "SIGSTOP ${stop_s}s, poison every ${poison_every:-0} (0: none); work folder $work" >&2
for svc in "${services[@]}"; do start_svc "$svc"; done
touch "$work/sampling"
sample_rss &
sampler=$!

# the units, their keys and the poison round, then the idle memory
t0=${EPOCHREALTIME/./}
for part in units round; do
  if ! "$client" --setup "$part" --endpoint "ipc://$work/intake.sock" --out "$work/setup-$part.tsv" \
       --phase setup >>"$work/setup.client" 2>&1; then
    cat "$work/setup.client" >&2; failed=true; exit 2
  fi
  drain || { echo "faults: the setup events did not drain ($drain_state)" >&2; failed=true; exit 2; }
  [ "$part" = round ] || unit_keys fault-office fault-unit fault-unit.dept fault-unit.team
done
cat "$work"/setup-{units,round}.tsv >"$work/setup.tsv"
judge_schema
declare -A idle=()
for svc in "${services[@]}"; do
  idle[$svc]=$(awk '/^VmRSS:/ {print $2}' "/proc/${pid[$svc]}/status")
done
injected=0
check_phase setup baseline "$t0" "${EPOCHREALTIME/./}" "$(cat "$work/setup.client")" yes

stalled_in=""
client_args=(--endpoint "ipc://$work/intake.sock" --events "$events" --rate "$rate"
             --window 200 --timeout-ms 1000 --give-up-ms "$give_up_ms"
             --poison-every "$poison_every")
[ -z "$poison_kinds" ] || client_args+=(--poison-kinds "$poison_kinds")
for phase in $phases; do
  if [ -n "$stalled_in" ]; then
    rows+=("$(row "$phase" - - - - - - - - - - - - - "not run: the pipeline did not drain in $stalled_in")")
    continue
  fi
  if [ "$phase" = pg-restart ] && ! $private; then
    rows+=("$(row "$phase" - - - - - - - - - - - - - "skipped: RECTIFY_DB is not this checkout's private cluster")")
    continue
  fi
  t0=${EPOCHREALTIME/./}
  "$client" "${client_args[@]}" --phase "$phase" --out "$work/$phase.tsv" \
    >"$work/$phase.client" 2>&1 &
  cpid=$!
  inject "$phase" "$cpid"
  if ! wait "$cpid"; then
    echo "faults: the load client failed in phase $phase:" >&2
    cat "$work/$phase.client" >&2
    failed=true
    exit 2
  fi
  drained=yes
  drain || drained=no
  t1=${EPOCHREALTIME/./}
  check_alive "$phase"
  check_phase "$phase" "$phase" "$t0" "$t1" "$(cat "$work/$phase.client")" "$drained"
  if [ "$drained" = no ] && ! $keep_going; then
    stalled_in=$phase
  fi
done
declare -A after=()
for svc in "${services[@]}"; do
  after[$svc]=$(awk '/^VmRSS:/ {print $2}' "/proc/${pid[$svc]}/status")
done
stop_services
if [ -n "$stalled_in" ]; then
  violate "the run ended after $stalled_in, whose pipeline did not drain (--keep-going runs the other phases all the same)"
fi
figures %
t1=${EPOCHREALTIME/./}
rows+=("$(row all - "$ev" "$acc" "$dup" "$rej" "$unans" "$lost" "$doubled" "$order" \
          "$pois_ok/$pois" "$(( $(max_rss intake 0 "$t1") / 1024 ))" \
          "$(( $(max_rss workflow 0 "$t1") / 1024 ))" "$(( $(max_rss notify 0 "$t1") / 1024 ))" \
          "$([ ${#violations[@]} -eq 0 ] && echo ok || echo FAIL)")")

# --- the report ------------------------------------------------------------------------
echo
echo "Fault suite: $mode, seed $seed, $events events a phase at $rate/s," \
  "$( [ "$poison_every" -gt 0 ] && echo "a poison every $poison_every" || echo "no poison")"
row phase faults events accepted dup rejected unanswered lost doubled order poison \
  "i MB" "w MB" "n MB" result
for r in "${rows[@]}"; do printf '%s\n' "$r"; done
printf 'resident memory idle before the load: intake %d MB, workflow %d MB, notify %d MB (bound +%d MB);' \
  $(( idle[intake] / 1024 )) $(( idle[workflow] / 1024 )) $(( idle[notify] / 1024 )) "$rss_slack_mb"
printf ' at the end: %d, %d, %d MB\n' $(( after[intake] / 1024 )) $(( after[workflow] / 1024 )) \
  $(( after[notify] / 1024 ))
if [ "$poison_every" -gt 0 ]; then
  echo
  echo "Poison events (all phases): kind, sent, as expected, what came back"
  sql -F ' | ' -P footer=off -c "SELECT kind, expect, count(*) AS sent,
        count(*) FILTER (WHERE as_expected) AS as_expected,
        string_agg(DISTINCT status || coalesce(':' || nullif(code, ''), '')
                   || coalesce(' -> ' || outcome, ''), ', ') AS answers
      FROM fault_judged WHERE kind NOT IN ('valid', 'setup') GROUP BY kind, expect ORDER BY kind" \
    | awk -F ' \\| ' '{printf "  %-12s %-10s %5s %5s  %s\n", $1, $2, $3, $4, $5}'
fi
if [ -s "$work/faults.log" ]; then
  echo
  echo "Faults done: $(wc -l <"$work/faults.log") ($(cut -d' ' -f2- "$work/faults.log" | sort | uniq -c | awk '{c=$1; $1=""; printf "%s%s x%d", sep, substr($0, 2), c; sep="; "}'))"
fi
echo
if [ ${#violations[@]} -eq 0 ]; then
  echo "faults: no violation"
  exit 0
fi
echo "faults: ${#violations[@]} violations:"
for v in "${violations[@]}"; do echo "  - $v"; done
failed=true
exit 1
