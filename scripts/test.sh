#!/usr/bin/env bash
# Installs what is needed, builds twice (plain, and with AddressSanitizer +
# UndefinedBehaviorSanitizer), starts the private PostgreSQL, runs every
# test on both builds, runs the unit tests under valgrind, checks
# docker-compose.yml, and stops PostgreSQL again.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

scripts/install-deps.sh

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" >/dev/null
echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRECTIFY_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null

trap 'scripts/pg-stop.sh' EXIT
RECTIFY_DB=$(scripts/pg-start.sh)
export RECTIFY_DB

echo "== tests, plain build"
ctest --test-dir build --output-on-failure
echo "== tests, sanitizer build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure

echo "== unit tests under valgrind"
for t in test_config test_log test_pgarr test_pbjson test_intake_check test_bus; do
  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --trace-children=yes build/tests/$t --jobs 1 >/dev/null 2>build/valgrind-$t.log \
    || { cat build/valgrind-$t.log; echo "valgrind: $t failed"; exit 1; }
  echo "valgrind: $t clean"
done

echo "== docker-compose.yml"
docker-compose -f docker-compose.yml config -q
echo "docker-compose config: ok"
