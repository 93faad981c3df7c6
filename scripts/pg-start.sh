#!/usr/bin/env bash
# Starts a private PostgreSQL cluster under var/pg of the project, listening
# only on a Unix socket in var/pg/run, and creates the database "rectify".
# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# ordinary user "rectify" (created if missing). Safe to run twice.
# Prints the owner's connection string; var/pg/env holds it as RECTIFY_DB=...
#
# Who may connect: the socket folder and the socket are the cluster owner's
# alone (mode 0700; root passes anyway), and authentication is peer with the
# map "rectify" (pg_ident.conf): only the OS users who run the project (the
# owner and, when started as root, root) may connect, as the owner role or
# as one of the service roles of migration 090_roles.sql. Any other OS user
# is refused even where it reaches the socket; there is no password.
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

# the OS users that may connect: the owner, and root that starts it
runners=$(id -un)
[ "$owner" = "$runners" ] || runners="$runners $owner"

mkdir -p "$pgdir"
if [ "$(id -u)" -eq 0 ]; then chown "$owner" "$pgdir"; fi
chmod 0700 "$pgdir"
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
  as_owner "$bin/initdb" -D "$data" -U rectify -A peer -E UTF8 --locale=C.UTF-8 >"$pgdir/initdb.log" 2>&1 \
    || { cat "$pgdir/initdb.log" >&2; exit 1; }
  cat >>"$data/postgresql.conf" <<CONF
# private cluster of the Rectify project
listen_addresses = ''
unix_socket_directories = '$run'
synchronous_commit = on
fsync = on
max_connections = 100
shared_buffers = 128MB
logging_collector = off
CONF
fi
# written at every start, so a cluster made before these rules gets them too;
# later lines of postgresql.conf win over the block above
as_owner tee "$data/rectify-access.conf" >/dev/null <<CONF
unix_socket_permissions = 0700
# the statements are short: JIT compilation would cost more than they take
# (a report of an empty month took 3 s compiling, 26 ms without)
jit = off
CONF
grep -q "^include_if_exists = 'rectify-access.conf'" "$data/postgresql.conf" \
  || echo "include_if_exists = 'rectify-access.conf'" | as_owner tee -a "$data/postgresql.conf" >/dev/null
as_owner tee "$data/pg_hba.conf" >/dev/null <<CONF
# Rectify's private cluster (scripts/pg-start.sh writes this file): Unix
# socket only, peer authentication through the map "rectify" of pg_ident.conf
local all all peer map=rectify
CONF
{
  echo "# OS user -> database roles it may connect as (scripts/pg-start.sh writes this file)"
  for u in $runners; do
    for role in rectify rectify_intake rectify_workflow rectify_notify rectify_report; do
      echo "rectify $u $role"
    done
  done
} | as_owner tee "$data/pg_ident.conf" >/dev/null
as_owner mkdir -p "$run"
as_owner chmod 0700 "$run"

if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  as_owner "$bin/pg_ctl" -D "$data" -l "$pgdir/server.log" -w -t 60 start >/dev/null \
    || { tail -n 20 "$pgdir/server.log" >&2; exit 1; }
elif [ "$(as_owner stat -c %a "$run/.s.PGSQL.5432" 2>/dev/null)" != 700 ]; then
  # running with rules from before: the socket's mode needs a restart
  as_owner "$bin/pg_ctl" -D "$data" -l "$pgdir/server.log" -m fast -w -t 60 restart >/dev/null \
    || { tail -n 20 "$pgdir/server.log" >&2; exit 1; }
else
  as_owner "$bin/pg_ctl" -D "$data" reload >/dev/null
fi

conn="host=$run dbname=rectify user=rectify"
if ! "$bin/psql" "host=$run dbname=postgres user=rectify" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'rectify'" | grep -q 1; then
  "$bin/createdb" -h "$run" -U rectify rectify
fi
(umask 077 && echo "RECTIFY_DB='$conn'" >"$pgdir/env")
echo "$conn"
