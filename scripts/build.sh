#!/usr/bin/env bash
# Installs what is needed and builds the programs into build/ (RelWithDebInfo).
# Extra arguments go to cmake's configure step.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
