#!/usr/bin/env bash
# fuzz.sh — build a parser's libFuzzer harness and run it.
#
#   scripts/fuzz.sh [seconds]          the HTTP request parser (default 30 s)
#   scripts/fuzz.sh spec [seconds]     the OpenSpec spec parser
#   scripts/fuzz.sh csv [seconds]      the CRM's CSV reader and writer
#   scripts/fuzz.sh cms [seconds]      the CMS's rich-text HTML sanitizer
#
# Builds tests/fuzz/fuzz_http_parse.c with clang -fsanitize=fuzzer,address,
# undefined (straight from the sources: the parser needs no other module),
# copies the seed corpus tests/fuzz/corpus/http/ to a temporary directory so
# the checked-in seeds stay small, and runs the fuzzer on it. Exits non-zero
# if the fuzzer finds a crash, a sanitizer report or a broken invariant; the
# input that did it is saved under $FUZZ_ARTIFACTS (default
# build-fuzz/artifacts/) — replay it with:
#   <binary printed below> <artifact>
# Only the temporary directory this script made is removed.
set -euo pipefail

cd "$(dirname "$0")/.."

target=http
if [[ "${1:-}" == "spec" || "${1:-}" == "http" || "${1:-}" == "csv" || "${1:-}" == "cms" ]]; then
    target="$1"
    shift
fi
secs="${1:-30}"
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [[ "$secs" -eq 0 ]]; then
    echo "usage: $0 [seconds]   (a positive integer, default 30)" >&2
    exit 2
fi
if ! command -v clang >/dev/null; then
    echo "fuzz.sh: clang is required (apt-get install clang)" >&2
    exit 2
fi

artifacts="${FUZZ_ARTIFACTS:-build-fuzz/artifacts}"
mkdir -p "$artifacts" build-fuzz

if [[ "$target" == "spec" ]]; then
    bin="build-fuzz/fuzz_spec_parse"
    clang -std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -Isrc -Isrc/kernel -Isrc/store tests/fuzz/fuzz_spec_parse.c src/spec/parse.c \
        src/kernel/str.c src/kernel/alloc.c -o "$bin"
    corpus="$(mktemp -d /tmp/bizosaas-fuzz-spec.XXXXXX)"
    trap 'rm -rf "$corpus"' EXIT
    set +e
    "$bin" -max_total_time="$secs" -max_len=16384 -artifact_prefix="$artifacts/" \
        "$corpus" tests/fixtures/openspec/parse openspec/specs/backend
    rc=$?
    set -e
    [[ $rc -eq 0 ]] && echo "fuzz.sh: no crash in ${secs}s" || echo "fuzz.sh: FAILED (exit $rc)" >&2
    exit "$rc"
fi
if [[ "$target" == "csv" ]]; then
    bin="build-fuzz/fuzz_crm_csv"
    clang -std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
        -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -Isrc -Isrc/kernel tests/fuzz/fuzz_crm_csv.c src/contexts/crm/csv.c \
        src/kernel/str.c src/kernel/alloc.c -o "$bin"
    corpus="$(mktemp -d /tmp/bizosaas-fuzz-csv.XXXXXX)"
    trap 'rm -rf "$corpus"' EXIT
    printf 'name,email\r\n"a ""b""",x@y.z\r\n"multi\nline",\n' >"$corpus/seed1"
    set +e
    "$bin" -max_total_time="$secs" -max_len=4096 -artifact_prefix="$artifacts/" "$corpus"
    rc=$?
    set -e
    [[ $rc -eq 0 ]] && echo "fuzz.sh: no crash in ${secs}s" || echo "fuzz.sh: FAILED (exit $rc)" >&2
    exit "$rc"
fi
if [[ "$target" == "cms" ]]; then
    bin="build-fuzz/fuzz_cms_sanitize"
    clang -std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -Isrc/kernel tests/fuzz/fuzz_cms_sanitize.c src/contexts/cms/sanitize.c \
        src/kernel/str.c src/kernel/alloc.c -o "$bin"
    corpus="$(mktemp -d /tmp/bizosaas-fuzz-cms.XXXXXX)"
    trap 'rm -rf "$corpus"' EXIT
    set +e
    "$bin" -max_total_time="$secs" -max_len=8192 -artifact_prefix="$artifacts/" \
        "$corpus" tests/fuzz/corpus/cms
    rc=$?
    set -e
    [[ $rc -eq 0 ]] && echo "fuzz.sh: no crash in ${secs}s" || echo "fuzz.sh: FAILED (exit $rc)" >&2
    exit "$rc"
fi
bin="build-fuzz/fuzz_http_parse"

tmp="$(mktemp -d /tmp/bizosaas-fuzz.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

clang -std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
    -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Isrc/kernel \
    tests/fuzz/fuzz_http_parse.c src/kernel/http_parse.c src/kernel/str.c src/kernel/alloc.c \
    src/kernel/err.c \
    -o "$bin"
echo "fuzz.sh: built $bin"

mkdir "$tmp/corpus"
cp tests/fuzz/corpus/http/* "$tmp/corpus/"

# Tokens that are hard to guess byte by byte (libFuzzer dictionary syntax).
cat >"$tmp/http.dict" <<'EOF'
"\x0d\x0a"
"\x0d\x0a\x0d\x0a"
" HTTP/1.1\x0d\x0a"
" HTTP/1.0\x0d\x0a"
"GET "
"POST "
"OPTIONS * "
"http://"
"https://"
"Host: "
"Content-Length: "
"Transfer-Encoding: chunked"
"Transfer-Encoding: "
"chunked"
"Connection: close"
"Connection: keep-alive"
"Expect: 100-continue"
"Expect: "
"\x0d\x0a0\x0d\x0a\x0d\x0a"
";ext=\"v\""
"ffffffffffffffff"
"9223372036854775807"
"9223372036854775808"
EOF

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

set +e
"$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -dict="$tmp/http.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
    "$tmp/corpus"
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
    echo "fuzz.sh: FAILED (exit $rc); reproducer in $artifacts/, replay: $bin <file>" >&2
    exit "$rc"
fi
echo "fuzz.sh: no crash in ${secs}s"
