#!/usr/bin/env bash
# kernel.sh — benchmark the bizosaas HTTP kernel against nginx on this
# machine. Run by hand (never by CI):
#
#   bench/kernel.sh            # full run, ~2 minutes
#
# Settings (environment): BENCH_DURATION (wrk duration, default 10s),
# BENCH_IDLE_CONNS (idle keep-alive connections to hold, default 10000),
# BENCH_STARTUP_RUNS (default 7), BENCH_SKIP_PG=1 (skip the PostgreSQL row).
#
# What it measures:
#   1. GET /version: bizosaas (SQLite, access log off, N = nproc I/O threads)
#      vs nginx (worker_processes N, access_log off) serving the exact same
#      body bytes as a static file with the same Content-Type; wrk -t2 with
#      64 and 256 connections; req/s, p50, p99 and the ratios.
#   2. Idle RSS of bizosaas after start, and the RSS growth for
#      BENCH_IDLE_CONNS idle keep-alive connections (bench/lib/hold.mjs).
#   3. Start-up time: spawn to first 200 on /livez, fresh data dir, median.
#   4. A database-touching GET (GET /api/v1/auth/tenants/{id}, super_admin)
#      on SQLite and on PostgreSQL (a temporary cluster, scripts/pg-start.sh).
# The Markdown report goes to stdout and bench/results/kernel-<date>.md;
# progress goes to stderr. Everything started here is stopped here, by pid.
set -euo pipefail

cd "$(dirname "$0")/.."
root="$(pwd)"
bin="$root/build/bizosaas"

duration="${BENCH_DURATION:-10s}"
idle_conns="${BENCH_IDLE_CONNS:-10000}"
startup_runs="${BENCH_STARTUP_RUNS:-7}"
secret="bench-jwt-secret-0123456789abcdef0123456789abcdef"
nthreads="$(nproc)"
# Other load on the machine skews every number: it goes into the report.
loadavg_start="$(cut -d' ' -f1-3 /proc/loadavg)"

# shellcheck source=bench/lib/common.sh
. bench/lib/common.sh
# 10,000 idle connections need file descriptors on both ends.
bench_prepare kernel.sh
fd_limit="$(ulimit -n)"
if ((idle_conns + 200 > fd_limit)); then
    idle_conns=$((fd_limit - 200))
    say "file descriptor limit $fd_limit: holding only $idle_conns idle connections"
fi

tmp="$(mktemp -d /tmp/bizosaas-bench.XXXXXX)"
# nginx workers and PostgreSQL run as other users and must reach their files.
chmod 0755 "$tmp"
bz_pids=()
hold_pid=""
nginx_prefix=""
pg_dir=""

cleanup() {
    local pid
    if [[ -n "$hold_pid" ]]; then kill -TERM "$hold_pid" 2>/dev/null || true; fi
    for pid in "${bz_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${bz_pids[@]}" $hold_pid; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "$nginx_prefix" && -f "$nginx_prefix/nginx.pid" ]]; then
        kill -QUIT "$(cat "$nginx_prefix/nginx.pid")" 2>/dev/null || true
        sleep 0.5
    fi
    if [[ -n "$pg_dir" ]]; then scripts/pg-stop.sh "$pg_dir" >/dev/null 2>&1 || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# wait_http URL — until it answers 200 (30 s).
wait_http() {
    for _ in $(seq 1 600); do
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" == 200 ]]; then return 0; fi
        sleep 0.05
    done
    echo "kernel.sh: $1 never answered 200" >&2
    return 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# start_bz NAME DB_URL [ARGS...] — sets bz_pid and bz_port.
start_bz() {
    local name="$1" db="$2"
    shift 2
    local dir="$tmp/bz-$name"
    mkdir -p "$dir"
    bz_port="$(free_port)"
    # setsid: its own session (CPU group) like the daemonized nginx; see bench/gateway.sh
    BIZOSAAS_LISTEN="127.0.0.1:$bz_port" BIZOSAAS_DATA_DIR="$dir" BIZOSAAS_DATABASE_URL="$db" \
        BIZOSAAS_ACCESS_LOG=false BIZOSAAS_THREADS="$nthreads" BIZOSAAS_JWT_SECRET="$secret" \
        BIZOSAAS_LOG_LEVEL=warn setsid "$bin" serve "$@" >"$dir/stdout.log" 2>"$dir/stderr.log" &
    bz_pid=$!
    bz_pids+=("$bz_pid")
    if ! wait_http "http://127.0.0.1:$bz_port/readyz"; then
        cat "$dir/stderr.log" >&2
        exit 1
    fi
}

stop_bz() {
    kill -TERM "$1"
    wait "$1" || true
    local keep=() p
    for p in "${bz_pids[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
    bz_pids=("${keep[@]}")
}


# run_wrk LABEL CONNS URL [wrk args...] — appends a table row and sets
# last_rps / last_p50 / last_p99.
rows=()
run_wrk() {
    local label="$1" conns="$2" url="$3"
    shift 3
    local out="$tmp/wrk-$RANDOM.txt"
    say "wrk $label -c$conns $url"
    wrk -t2 -c"$conns" -d"$duration" --latency "$@" "$url" >"$out" 2>&1
    last_rps="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")"
    last_p50="$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")"
    last_p99="$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")"
    local non2xx sockerr
    non2xx="$(awk -F': ' '/Non-2xx or 3xx responses/ {print $2}' "$out")"
    sockerr="$(awk -F'Socket errors: ' '/Socket errors/ {print $2}' "$out")"
    local errs="${non2xx:-0}"
    [[ -n "$sockerr" ]] && errs="$errs; socket: $sockerr"
    rows+=("| $label | $conns | $last_rps | $last_p50 | $last_p99 | $errs |")
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

# ---- bizosaas on SQLite -----------------------------------------------------
say "starting bizosaas (SQLite, $nthreads threads)"
start_bz sqlite "sqlite:$tmp/bz-sqlite/bizosaas.db"
sqlite_pid="$bz_pid"
sqlite_port="$bz_port"
sleep 1
idle_rss="$(rss_kb "$sqlite_pid")"

version_ct="$(curl -s -o "$tmp/version.body" -w '%{content_type}' "http://127.0.0.1:$sqlite_port/version")"

run_wrk "bizosaas GET /version" 64 "http://127.0.0.1:$sqlite_port/version"
bz64_rps="$last_rps" bz64_p99="$last_p99"
run_wrk "bizosaas GET /version" 256 "http://127.0.0.1:$sqlite_port/version"
bz256_rps="$last_rps" bz256_p99="$last_p99"

token="$(node bench/lib/token.mjs "$secret")"
create_tenant() {
    curl -s -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d "{\"name\":\"Bench\",\"slug\":\"bench-$RANDOM$RANDOM\"}" "$1/api/v1/auth/tenants" |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(!j.id){console.error(s);process.exit(1)}console.log(j.id)})'
}
tenant_id="$(create_tenant "http://127.0.0.1:$sqlite_port")"
run_wrk "bizosaas GET tenant (SQLite)" 64 "http://127.0.0.1:$sqlite_port/api/v1/auth/tenants/$tenant_id" \
    -H "Authorization: Bearer $token"

say "holding $idle_conns idle keep-alive connections"
before_rss="$(rss_kb "$sqlite_pid")"
node bench/lib/hold.mjs "$sqlite_port" "$idle_conns" >"$tmp/hold.out" 2>&1 &
hold_pid=$!
for _ in $(seq 1 1200); do
    grep -q '^held' "$tmp/hold.out" && break
    kill -0 "$hold_pid" 2>/dev/null || break
    sleep 0.1
done
sleep 1
held_line="$(grep '^held' "$tmp/hold.out" || echo "held 0 failed ?")"
held="$(awk '{print $2}' <<<"$held_line")"
held_failed="$(awk '{print $4}' <<<"$held_line")"
after_rss="$(rss_kb "$sqlite_pid")"
kill -TERM "$hold_pid" 2>/dev/null || true
wait "$hold_pid" 2>/dev/null || true
hold_pid=""
growth_kb=$((after_rss - before_rss))
per_conn="$(awk -v g="$growth_kb" -v n="$held" 'BEGIN { if (n > 0) printf "%.0f", g * 1024 / n; else printf "n/a" }')"
stop_bz "$sqlite_pid"

# ---- nginx peer -------------------------------------------------------------
say "starting nginx ($nthreads workers)"
nginx_prefix="$tmp/nginx"
mkdir -p "$nginx_prefix/html"
cp "$tmp/version.body" "$nginx_prefix/html/version"
chmod -R a+rX "$nginx_prefix"
nginx_port="$(free_port)"
sed -e "s#@WORKERS@#$nthreads#g" -e "s#@PREFIX@#$nginx_prefix#g" -e "s#@PORT@#$nginx_port#g" \
    -e "s#@CONTENT_TYPE@#$version_ct#g" bench/nginx/kernel.conf.in >"$nginx_prefix/nginx.conf"
/usr/sbin/nginx -p "$nginx_prefix" -c "$nginx_prefix/nginx.conf" -e "$nginx_prefix/error.log"
wait_http "http://127.0.0.1:$nginx_port/version"
if ! cmp -s "$tmp/version.body" <(curl -s "http://127.0.0.1:$nginx_port/version"); then
    echo "kernel.sh: nginx does not serve the same /version bytes" >&2
    exit 1
fi
run_wrk "nginx static /version" 64 "http://127.0.0.1:$nginx_port/version"
ng64_rps="$last_rps" ng64_p99="$last_p99"
run_wrk "nginx static /version" 256 "http://127.0.0.1:$nginx_port/version"
ng256_rps="$last_rps" ng256_p99="$last_p99"
kill -QUIT "$(cat "$nginx_prefix/nginx.pid")"
for _ in $(seq 1 50); do [[ -f "$nginx_prefix/nginx.pid" ]] || break; sleep 0.1; done
nginx_prefix=""

# ---- start-up time ----------------------------------------------------------
say "start-up time ($startup_runs runs)"
startup_json="$(node bench/lib/startup.mjs "$bin" "$startup_runs")"
startup_median="$(node -pe "JSON.parse(process.argv[1]).median_ms" "$startup_json")"
startup_runs_ms="$(node -pe "JSON.parse(process.argv[1]).runs_ms.join(', ')" "$startup_json")"

# ---- bizosaas on PostgreSQL -------------------------------------------------
pg_note=""
if [[ "${BENCH_SKIP_PG:-0}" == 1 ]]; then
    pg_note="skipped (BENCH_SKIP_PG=1)"
elif [[ ! -x scripts/pg-start.sh ]]; then
    pg_note="skipped (scripts/pg-start.sh missing)"
else
    say "starting PostgreSQL"
    pg_dir="$tmp/pg"
    mkdir -p "$pg_dir"
    pg_url="$(scripts/pg-start.sh "$pg_dir" "$(free_port)" | sed -n 1p)"
    start_bz pg "$pg_url" --migrate
    pg_pid="$bz_pid"
    tenant_id="$(create_tenant "http://127.0.0.1:$bz_port")"
    run_wrk "bizosaas GET tenant (PostgreSQL)" 64 "http://127.0.0.1:$bz_port/api/v1/auth/tenants/$tenant_id" \
        -H "Authorization: Bearer $token"
    stop_bz "$pg_pid"
    scripts/pg-stop.sh "$pg_dir" >/dev/null 2>&1 || true
    pg_dir=""
fi

# ---- report -----------------------------------------------------------------
cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
rev="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
report="$tmp/report.md"
{
    echo "# Kernel benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Machine: ${nthreads} cores (nproc), ${cpu:-unknown CPU}, Linux $(uname -r); commit $rev."
    echo "bizosaas: $nthreads I/O threads, SQLite, access log off. nginx: worker_processes $nthreads, access_log off,"
    echo "serving the same /version bytes (Content-Type: $version_ct) as a static file."
    echo "Load: wrk -t2 -d$duration --latency on the same machine (client and server share the cores)."
    echo "Load average before the run: $loadavg_start (anything above 0.5 means other work skewed these numbers)."
    echo
    echo "| test | connections | req/s | p50 ms | p99 ms | non-2xx / errors |"
    echo "| --- | ---: | ---: | ---: | ---: | --- |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "| ratio (bizosaas / nginx) | 64 connections | 256 connections |"
    echo "| --- | ---: | ---: |"
    echo "| req/s | $(ratio "$bz64_rps" "$ng64_rps") | $(ratio "$bz256_rps" "$ng256_rps") |"
    echo "| p99 latency | $(ratio "$bz64_p99" "$ng64_p99") | $(ratio "$bz256_p99" "$ng256_p99") |"
    echo
    echo "| memory and start-up | value |"
    echo "| --- | ---: |"
    echo "| idle RSS after start | $idle_rss kB |"
    echo "| idle keep-alive connections held | $held (failed: $held_failed) |"
    echo "| RSS growth for them | $growth_kb kB (~$per_conn bytes per connection) |"
    echo "| start to first 200 on /livez (median of $startup_runs, fresh SQLite) | $startup_median ms |"
    echo "| start-up runs | $startup_runs_ms ms |"
    [[ -n "$pg_note" ]] && echo "| PostgreSQL row | $pg_note |"
} >"$report"

mkdir -p bench/results
out="bench/results/kernel-$(date -u '+%Y-%m-%dT%H%M').md"
cp "$report" "$out"
cat "$report"
say "written to $out"
