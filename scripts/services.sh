#!/usr/bin/env bash
# Starts or stops the three services in the background, against the private
# PostgreSQL (var/pg/env) unless RECTIFY_DB is set (key=value form, the
# owner's connection). Logs go to var/log/. Before starting, the owner
# migrates (rectifyctl migrate); each service then connects as its own role
# (user=rectify_intake, rectify_workflow, rectify_notify: 090_roles.sql).
# CURVE is on unless RECTIFY_ALLOW_PLAIN=true: the services' key pairs are
# made in var/keys (RECTIFY_KEYS_DIR) where missing (rectifyctl key service).
#   scripts/services.sh start|stop
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
run="$top/var/run"
logs="$top/var/log"
mkdir -p "$run" "$logs"

stop() {
  for svc in intake workflow notify; do
    pidfile="$run/$svc.pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  done
}

start() {
  stop
  if [ -z "${RECTIFY_DB:-}" ]; then
    # shellcheck disable=SC1091
    . "$top/var/pg/env"
    export RECTIFY_DB
  fi
  export RECTIFY_ALLOW_PLAIN=${RECTIFY_ALLOW_PLAIN:-false}
  export RECTIFY_KEYS_DIR=${RECTIFY_KEYS_DIR:-$top/var/keys}
  "$top/build/services/rectifyctl" migrate >/dev/null
  if [ "$RECTIFY_ALLOW_PLAIN" != true ]; then
    "$top/build/services/rectifyctl" key service >/dev/null
  fi
  for svc in intake workflow notify; do
    RECTIFY_DB="$RECTIFY_DB user=rectify_$svc" \
      "$top/build/services/rectify-$svc" </dev/null >/dev/null 2>>"$logs/$svc.log" &
    echo $! >"$run/$svc.pid"
  done
  sleep 0.5
  for svc in intake workflow notify; do
    if ! kill -0 "$(cat "$run/$svc.pid")" 2>/dev/null; then
      echo "services: rectify-$svc did not start; the end of var/log/$svc.log:" >&2
      tail -n 5 "$logs/$svc.log" >&2
      exit 1
    fi
  done
  echo "services: intake, workflow and notify running (logs in var/log/)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/services.sh start|stop" >&2; exit 2 ;;
esac
