#!/usr/bin/env bash
# test.sh — THE test command: everything CI runs, in order, stopping at the
# first failing suite.
#
#   1. install missing Debian packages (scripts/install-deps.sh)
#   2. build release (build/) and ASan+UBSan (build-asan/)
#   3. start a throwaway PostgreSQL and Redis on free loopback ports
#   4. unit tests: ctest (release), valgrind on each build/test_*, ctest (ASan)
#   5. API tests (node --test tests/api/) for {release, asan} x {sqlite, pg}
#   6. browser tests (tests/e2e) and `bizosaas spec check`, when present
#
# The last line is "N passed, 0 failed" counting suites; CI reads it. Only the
# processes this script started are stopped (by pidfile / pg_ctl), never by
# name.
set -euo pipefail

cd "$(dirname "$0")/.."
root="$(pwd)"

passed=0
failed=0
current=""

banner() {
    printf '\n==== %s ====\n' "$*"
}

# run_suite NAME CMD... — run one suite; count it, or stop everything.
run_suite() {
    local name="$1"
    shift
    current="$name"
    banner "suite: $name"
    if "$@"; then
        passed=$((passed + 1))
        echo "---- suite passed: $name"
    else
        local rc=$?
        failed=$((failed + 1))
        echo "---- suite FAILED: $name (exit $rc)" >&2
        echo "test.sh: stopping at the first failing suite: $name" >&2
        current=""
        echo "$passed passed, $failed failed"
        exit 1
    fi
    current=""
}

# setup STEP CMD... — a step that is not a suite (deps, builds, services):
# a failure stops everything with a clear message.
setup() {
    local name="$1"
    shift
    banner "$name"
    if ! "$@"; then
        echo "test.sh: setup step failed: $name" >&2
        echo "$passed passed, 1 failed"
        exit 1
    fi
}

free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# with_db URL NAME — URL with its database (path) replaced by NAME.
with_db() {
    printf '%s\n' "$1" | sed -E "s#^([a-z]+://[^/?]*)(/[^?]*)?#\\1/$2#"
}

tmp=""
pg_dir=""
redis_dir=""
cleanup() {
    local rc=$?
    if [[ -n "$current" && $rc -ne 0 ]]; then
        echo "test.sh: interrupted during suite: $current" >&2
    fi
    if [[ -n "$redis_dir" ]]; then
        scripts/redis-stop.sh "$redis_dir" || true
    fi
    if [[ -n "$pg_dir" ]]; then
        scripts/pg-stop.sh "$pg_dir" || true
    fi
    if [[ -n "$tmp" ]]; then
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

setup "dependencies" scripts/install-deps.sh
setup "build (release)" scripts/build.sh
setup "build (asan)" scripts/build.sh --asan

banner "services"
tmp="$(mktemp -d /tmp/bizosaas-test.XXXXXX)"
# PostgreSQL runs as the postgres user, which must be able to reach its dir.
chmod 0755 "$tmp"
pg_dir="$tmp/pg"
redis_dir="$tmp/redis"
mkdir -p "$pg_dir" "$redis_dir"

pg_port="$(free_port)"
if ! pg_out="$(scripts/pg-start.sh "$pg_dir" "$pg_port")"; then
    echo "test.sh: setup step failed: PostgreSQL (scripts/pg-start.sh)" >&2
    echo "$passed passed, 1 failed"
    exit 1
fi
pg_app_url="$(printf '%s\n' "$pg_out" | sed -n 1p)"
pg_admin_url="$(printf '%s\n' "$pg_out" | sed -n 2p)"
if [[ -z "$pg_app_url" || -z "$pg_admin_url" ]]; then
    echo "test.sh: scripts/pg-start.sh did not print two URLs" >&2
    exit 1
fi
pg_api_url="$(with_db "$pg_app_url" bizosaas)"
export BIZOSAAS_TEST_PG_URL BIZOSAAS_TEST_PG_ADMIN_URL BIZOSAAS_TEST_PG_DIR BIZOSAAS_TEST_REDIS_URL
BIZOSAAS_TEST_PG_URL="$(with_db "$pg_app_url" bizosaas_test)"
BIZOSAAS_TEST_PG_ADMIN_URL="$(with_db "$pg_admin_url" bizosaas_test)"
BIZOSAAS_TEST_PG_DIR="$pg_dir"
echo "postgresql: $pg_dir on port $pg_port"

redis_port="$(free_port)"
if ! BIZOSAAS_TEST_REDIS_URL="$(scripts/redis-start.sh "$redis_dir" "$redis_port")"; then
    echo "test.sh: setup step failed: Redis (scripts/redis-start.sh)" >&2
    echo "$passed passed, 1 failed"
    exit 1
fi
echo "redis: $BIZOSAAS_TEST_REDIS_URL"

# Sanitizer runtime options: fail hard and loud.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_valgrind() {
    local t found=0
    for t in build/test_*; do
        [[ -x "$t" && -f "$t" ]] || continue
        found=1
        echo "-- valgrind $t"
        valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
            --track-origins=yes "$t" || return 1
    done
    if [[ $found -eq 0 ]]; then
        echo "no unit test executables in build/" >&2
        return 1
    fi
}

# Node test runner flags: one file at a time (they start servers and the
# database-fault file stops PostgreSQL); a hung test fails after 3 minutes;
# a file whose tests are done exits even if a failed test left a handle open.
node_test=(node --test --test-concurrency=1 --test-timeout=180000 --test-force-exit)

# api_tests BIN DB — the Node API suite against one binary and one database.
api_tests() {
    BIZOSAAS_BIN="$root/$1" BIZOSAAS_TEST_DB="$2" "${node_test[@]}" tests/api/
}

run_suite "unit (release, ctest)" ctest --test-dir build --output-on-failure
run_suite "unit (release, valgrind)" run_valgrind
run_suite "unit (asan, ctest)" ctest --test-dir build-asan --output-on-failure
run_suite "api (release, sqlite)" api_tests build/bizosaas sqlite
run_suite "api (release, postgresql)" api_tests build/bizosaas "$pg_api_url"
run_suite "api (asan, sqlite)" api_tests build-asan/bizosaas sqlite
run_suite "api (asan, postgresql)" api_tests build-asan/bizosaas "$pg_api_url"

if [[ -d tests/e2e ]] && compgen -G "tests/e2e/*.test.mjs" >/dev/null; then
    if [[ -f tests/e2e/package.json ]]; then
        banner "npm ci (tests/e2e)"
        npm ci --prefix tests/e2e --no-audit --no-fund
    fi
    e2e() {
        BIZOSAAS_BIN="$root/build/bizosaas" BIZOSAAS_TEST_DB=sqlite "${node_test[@]}" tests/e2e/
    }
    run_suite "e2e (browser)" e2e
fi

if [[ -d openspec ]]; then
    run_suite "spec check" ./build/bizosaas spec check
fi

banner "summary"
echo "$passed passed, $failed failed"
