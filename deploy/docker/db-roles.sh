#!/bin/sh
# Run once by the postgres container of docker-compose.yml when it makes its
# cluster: the service roles, each with its password from the environment
# (.env beside docker-compose.yml, mode 0600, not in the repository).
# Migration 090_roles.sql finds them made and gives them their grants.
set -eu
for r in intake workflow notify report; do
  var=RECTIFY_$(echo "$r" | tr a-z A-Z)_DB_PASSWORD
  eval "pw=\${$var:-}"
  if [ -z "$pw" ]; then
    echo "db-roles: $var is not set (put it in .env beside docker-compose.yml)" >&2
    exit 1
  fi
  echo "CREATE ROLE rectify_$r LOGIN PASSWORD :'pw'" \
    | psql -v ON_ERROR_STOP=1 -q -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v pw="$pw"
done
