#!/usr/bin/env bash
# Stops the private PostgreSQL cluster of var/pg (if it runs).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
data="$top/var/pg/data"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -s "$data/PG_VERSION" ] || exit 0
if [ "$(id -u)" -eq 0 ]; then
  runuser -u rectify -- "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
else
  "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
fi
