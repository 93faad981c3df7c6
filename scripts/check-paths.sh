#!/usr/bin/env bash
# Fails when a file of the repository names an absolute path of a machine
# (a home or work folder): the repository must build and run anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
if git grep -nE '(^|[^A-Za-z0-9_.])/(work|root|home)/[A-Za-z0-9_.-]' -- . ':!scripts/check-paths.sh'; then
  echo "check-paths: absolute paths of a machine above" >&2
  exit 1
fi
echo "check-paths: no absolute paths of a machine"
