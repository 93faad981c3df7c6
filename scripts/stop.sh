#!/usr/bin/env bash
# Stops the services the demo started, then the private PostgreSQL.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/services.sh" stop
"$top/scripts/pg-stop.sh"
echo "stopped"
