#!/usr/bin/env bash
# site.sh — the marketing site's speed: a published CMS page rendered by
# bizosaas (SQLite, the seeded demo site) against nginx serving the very
# same HTML bytes as a static file, side by side, with wrk.
#
#   bench/site.sh                      10 s per run, 64 connections
#   BENCH_DURATION=30s BENCH_CONNS=256 bench/site.sh
#   BENCH_PATH=/blog bench/site.sh     another page of the demo site
#
# Rows: bizosaas with its page cache (the default), bizosaas with the cache
# off (BIZOSAAS_CMS_PAGE_CACHE_ENTRIES=0: every request renders from the
# database), nginx static. Both servers get as many workers / I/O threads as
# there are cores, access logs off. The client shares the machine: record the
# load average with the numbers. Only the processes this script started are
# stopped (by pid); its temporary directory is removed.
set -euo pipefail

cd "$(dirname "$0")/.."
root="$(pwd)"
bin="$root/build/bizosaas"
duration="${BENCH_DURATION:-10s}"
conns="${BENCH_CONNS:-64}"
path="${BENCH_PATH:-/about}"
nthreads="$(nproc)"
loadavg_start="$(cut -d' ' -f1-3 /proc/loadavg)"

# shellcheck source=bench/lib/common.sh
. bench/lib/common.sh
bench_prepare site.sh

tmp="$(mktemp -d /tmp/bizosaas-bench-site.XXXXXX)"
chmod 0755 "$tmp"
bz_pid=""
nginx_prefix=""
cleanup() {
    if [[ -n "$bz_pid" ]]; then kill -TERM "$bz_pid" 2>/dev/null || true; wait "$bz_pid" 2>/dev/null || true; fi
    if [[ -n "$nginx_prefix" && -f "$nginx_prefix/nginx.pid" ]]; then
        kill -QUIT "$(cat "$nginx_prefix/nginx.pid")" 2>/dev/null || true
        sleep 0.5
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_http() {
    for _ in $(seq 1 600); do
        [[ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" == 200 ]] && return 0
        sleep 0.05
    done
    echo "site.sh: $1 never answered 200" >&2
    return 1
}
rows=()
run_wrk() {
    local label="$1" url="$2" out="$tmp/wrk-$RANDOM.txt"
    say "wrk $label -c$conns $url"
    wrk -t2 -c"$conns" -d"$duration" --latency "$url" >"$out" 2>&1
    last_rps="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")"
    local p50 p99 non2xx
    p50="$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")"
    p99="$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")"
    non2xx="$(awk -F': ' '/Non-2xx or 3xx responses/ {print $2}' "$out")"
    rows+=("| $label | $conns | $last_rps | $p50 | $p99 | ${non2xx:-0} |")
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

start_bz() {
    local name="$1"
    shift
    local dir="$tmp/bz-$name"
    mkdir -p "$dir"
    bz_port="$(free_port)"
    # setsid: its own session (CPU group) like the daemonized nginx; see bench/gateway.sh
    setsid env "$@" BIZOSAAS_LISTEN="127.0.0.1:$bz_port" BIZOSAAS_DATA_DIR="$dir" \
        BIZOSAAS_DATABASE_URL="sqlite:$dir/bizosaas.db" BIZOSAAS_ACCESS_LOG=false \
        BIZOSAAS_THREADS="$nthreads" BIZOSAAS_LOG_LEVEL=warn \
        "$bin" serve >"$dir/stdout.log" 2>"$dir/stderr.log" &
    bz_pid=$!
    wait_http "http://127.0.0.1:$bz_port/readyz" || { cat "$dir/stderr.log" >&2; exit 1; }
}
stop_bz() { kill -TERM "$bz_pid"; wait "$bz_pid" || true; bz_pid=""; }

say "bizosaas (SQLite, $nthreads I/O threads, page cache on)"
start_bz cache
url="http://127.0.0.1:$bz_port$path"
ctype="$(curl -s -o "$tmp/page.html" -w '%{content_type}' "$url")"
bytes="$(stat -c %s "$tmp/page.html")"
grep -q '<title>' "$tmp/page.html" || { echo "site.sh: $path is not a rendered page" >&2; exit 1; }
run_wrk "bizosaas GET $path (page cache)" "$url"
bz_rps="$last_rps"
stop_bz

say "bizosaas (page cache off)"
start_bz nocache BIZOSAAS_CMS_PAGE_CACHE_ENTRIES=0
run_wrk "bizosaas GET $path (no cache: render per request)" "http://127.0.0.1:$bz_port$path"
bzn_rps="$last_rps"
stop_bz

say "nginx ($nthreads workers)"
nginx_prefix="$tmp/nginx"
mkdir -p "$nginx_prefix/html"
cp "$tmp/page.html" "$nginx_prefix/html/page.html"
chmod -R a+rX "$nginx_prefix"
nginx_port="$(free_port)"
sed -e "s#@WORKERS@#$nthreads#g" -e "s#@PREFIX@#$nginx_prefix#g" -e "s#@PORT@#$nginx_port#g" \
    -e "s#@CONTENT_TYPE@#$ctype#g" -e "s#@PATH@#$path#g" bench/site.nginx.conf.in >"$nginx_prefix/nginx.conf"
/usr/sbin/nginx -p "$nginx_prefix" -c "$nginx_prefix/nginx.conf" -e "$nginx_prefix/error.log"
wait_http "http://127.0.0.1:$nginx_port$path"
cmp -s "$tmp/page.html" <(curl -s "http://127.0.0.1:$nginx_port$path") || {
    echo "site.sh: nginx does not serve the same bytes" >&2
    exit 1
}
run_wrk "nginx static $path (same bytes)" "http://127.0.0.1:$nginx_port$path"
ng_rps="$last_rps"

{
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "Machine: $nthreads cores; load average before the run: $loadavg_start; after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "Page: $path, $bytes bytes of HTML ($ctype); wrk -t2 -c$conns -d$duration"
    echo
    echo "| test | connections | req/s | p50 ms | p99 ms | non-2xx |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "| ratio | value | target |"
    echo "| --- | ---: | --- |"
    echo "| bizosaas (page cache) / nginx | $(ratio "$bz_rps" "$ng_rps") | >= 0.5 |"
    echo "| bizosaas (no cache) / nginx | $(ratio "$bzn_rps" "$ng_rps") | — |"
}
