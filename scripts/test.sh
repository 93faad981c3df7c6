#!/usr/bin/env bash
# Installs what is needed, builds twice (plain, and with AddressSanitizer +
# UndefinedBehaviorSanitizer), starts the private PostgreSQL, runs every
# test, runs the unit tests under valgrind, fuzzes the decoders, checks
# docker-compose.yml, and stops PostgreSQL.
#
# Which build runs what (CI must finish in 15 minutes on 2 cores): the unit
# tests run on both builds and under valgrind; the integration tests (the
# real services) run on the sanitizer build, so every service of every test
# runs under ASan and UBSan; the fault suite (kill -9, a PostgreSQL restart,
# a flood) runs on the plain build, as deployed.
set -euo pipefail
start=$SECONDS
phase() { echo "== $* (at $((SECONDS - start)) s)"; }
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

scripts/check-paths.sh
phase "install and build (RelWithDebInfo)"
scripts/build.sh
phase "build (AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRECTIFY_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null

trap 'scripts/pg-stop.sh' EXIT
RECTIFY_DB=$(scripts/pg-start.sh)
export RECTIFY_DB

phase "unit tests and the fault suite, plain build"
ctest --test-dir build --output-on-failure -L 'unit|fault'
phase "unit and integration tests, sanitizer build"
# Criterion runs each test in a worker process, and the services run as
# processes of their own: reports go to files, and any file fails the run.
san="$top/build-asan/sanitizer-reports"
rm -rf "$san" && mkdir -p "$san"
ASAN_OPTIONS=detect_leaks=1:log_path=$san/asan \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$san/ubsan \
  ctest --test-dir build-asan --output-on-failure
if [ -n "$(ls -A "$san")" ]; then
  cat "$san"/* | head -n 200
  echo "sanitizers: reports above"
  exit 1
fi
echo "sanitizers: no reports"

phase "unit tests under valgrind (two at a time)"
# every process (Criterion's workers too) reports into its own file; a
# worker that ends in abort() (a test of it) leaves Criterion's own buffers
# "possibly lost": only definite leaks and errors count
valgrind_one() {
  local t=$1
  rm -f build/valgrind-$t.*
  if ! valgrind -q --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite \
      --error-exitcode=99 --trace-children=yes --log-file="build/valgrind-$t.%p" \
      build/tests/$t --jobs 1 >/dev/null 2>&1; then
    cat build/valgrind-$t.*; echo "valgrind: $t failed"; return 1
  fi
  if grep -l . build/valgrind-$t.* >/dev/null 2>&1; then
    cat build/valgrind-$t.*; echo "valgrind: $t reported errors"; return 1
  fi
  echo "valgrind: $t clean"
}
export -f valgrind_one
# (test_sinks is left out: it tests the tests' own webhook and SMTP sinks)
printf '%s\n' test_config test_log test_pgarr test_pbjson test_intake_check test_bus test_ids \
  test_table test_plan_csv test_money test_text test_seen test_refusal |
  xargs -P 2 -I{} bash -c 'valgrind_one {}'

phase "fuzzing the decoders (libFuzzer, 10 s each)"
CC=clang-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECTIFY_FUZZ=ON \
  -DRECTIFY_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_envelope fuzz_pbjson fuzz_plan_csv >/dev/null
for t in envelope pbjson plan_csv; do
  work="build-fuzz/corpus-$t"
  rm -rf "$work" && mkdir -p "$work" && cp tests/fuzz/corpus/$t/* "$work"/ 2>/dev/null || true
  if ! build-fuzz/tests/fuzz/fuzz_$t -max_total_time=10 -max_len=4096 "$work" \
        >"build-fuzz/fuzz-$t.log" 2>&1; then
    tail -n 40 "build-fuzz/fuzz-$t.log"
    echo "fuzz: $t found a failure"
    exit 1
  fi
  echo "fuzz: $t $(grep -o 'DONE.*' "build-fuzz/fuzz-$t.log" | head -n 1)"
done

phase "docker-compose.yml"
docker-compose -f docker-compose.yml config -q
echo "docker-compose config: ok"
phase "done"
