#!/usr/bin/env bash
# Starts a private PostgreSQL cluster under var/pg of the project, listening
# only on a Unix socket in var/pg/run, and creates the database "rectify".
# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# ordinary user "rectify" (created if missing). Safe to run twice.
# Prints the connection string; var/pg/env holds it as RECTIFY_DB=...
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
pgdir="$top/var/pg"
data="$pgdir/data"
run="$pgdir/run"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg-start: PostgreSQL server not installed (scripts/install-deps.sh)" >&2; exit 1; }

owner=$(id -un)
as_owner() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
  owner=rectify
  id -u "$owner" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"
  as_owner() { runuser -u "$owner" -- "$@"; }
fi

mkdir -p "$pgdir"
if [ "$(id -u)" -eq 0 ]; then chown "$owner" "$pgdir"; fi
# every folder above the cluster must be searchable by its owner: a clone
# under /root, say, is not; as root, open the way (search only, not reading)
if ! as_owner test -x "$pgdir"; then
  if [ "$(id -u)" -eq 0 ]; then
    d=$(dirname "$pgdir")
    while [ "$d" != "/" ]; do
      if [ -z "$(find "$d" -maxdepth 0 -perm -o+x)" ]; then
        echo "pg-start: letting $owner pass through $d (chmod o+x)" >&2
        chmod o+x "$d"
      fi
      d=$(dirname "$d")
    done
  fi
  if ! as_owner test -x "$pgdir"; then
    echo "pg-start: user $owner cannot reach $pgdir; make its parent folders searchable (chmod o+x)" >&2
    exit 1
  fi
fi

if [ ! -s "$data/PG_VERSION" ]; then
  as_owner mkdir -p "$data" "$run"
  as_owner "$bin/initdb" -D "$data" -U rectify -A trust -E UTF8 --locale=C.UTF-8 >"$pgdir/initdb.log" 2>&1 \
    || { cat "$pgdir/initdb.log" >&2; exit 1; }
  cat >>"$data/postgresql.conf" <<CONF
# private cluster of the Rectify project
listen_addresses = ''
unix_socket_directories = '$run'
unix_socket_permissions = 0777
synchronous_commit = on
fsync = on
max_connections = 100
shared_buffers = 128MB
logging_collector = off
CONF
fi
as_owner mkdir -p "$run"

if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  as_owner "$bin/pg_ctl" -D "$data" -l "$pgdir/server.log" -w -t 60 start >/dev/null \
    || { tail -n 20 "$pgdir/server.log" >&2; exit 1; }
fi

conn="host=$run dbname=rectify user=rectify"
if ! "$bin/psql" "host=$run dbname=postgres user=rectify" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'rectify'" | grep -q 1; then
  "$bin/createdb" -h "$run" -U rectify rectify
fi
echo "RECTIFY_DB='$conn'" >"$pgdir/env"
echo "$conn"
