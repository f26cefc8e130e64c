# common.sh — sourced by the shell benchmarks (gateway.sh, kernel.sh,
# site.sh) after they cd to the repository root and set $bin.

say() { printf '[bench] %s\n' "$*" >&2; }

# bench_prepare NAME — the tools every bench needs (NAME for the message),
# the release build when missing, no BIZOSAAS_* variable inherited (the
# server refuses unknown ones) and as many file descriptors as allowed.
bench_prepare() {
    local tool
    for tool in wrk curl node /usr/sbin/nginx; do
        command -v "$tool" >/dev/null 2>&1 || {
            echo "$1: $tool is missing (run scripts/install-deps.sh)" >&2
            exit 1
        }
    done
    if [[ ! -x "$bin" ]]; then
        say "building release"
        scripts/build.sh >&2
    fi
    while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^BIZOSAAS_' || true)
    local hard
    hard="$(ulimit -Hn)"
    if [[ "$hard" == unlimited ]]; then ulimit -n 65536; else ulimit -n "$hard"; fi
}

free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# to_ms VALUE — a wrk latency (850.00us, 1.20ms, 2.00s, 1.5m) in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.1f", v * 60000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
        else printf "?" }'
}
