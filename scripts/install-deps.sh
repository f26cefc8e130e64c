#!/usr/bin/env bash
# install-deps.sh — install the Debian packages bizosaas needs to build, test
# and benchmark. Idempotent: when every package is already installed it does
# not touch apt at all, so test.sh can call it on every run.
#
# Usage: scripts/install-deps.sh [--verbose]
set -euo pipefail

verbose=0
for arg in "$@"; do
    case "$arg" in
        --verbose | -v) verbose=1 ;;
        --quiet | -q) verbose=0 ;;
        -h | --help)
            echo "usage: $0 [--quiet|--verbose]"
            exit 0
            ;;
        *)
            echo "install-deps.sh: unknown argument: $arg" >&2
            exit 2
            ;;
    esac
done

packages=(
    build-essential cmake pkg-config
    libuv1-dev libjansson-dev libsqlite3-dev libpq-dev libhiredis-dev
    libcurl4-openssl-dev libsodium-dev libssl-dev libcmocka-dev zlib1g-dev
    postgresql redis-server nginx-light wrk
    clang libclang-rt-14-dev valgrind
    chromium procps curl ca-certificates
)
# This machine may carry a NodeSource nodejs that conflicts with Debian's npm:
# only ask apt for Node when there is no node at all.
if ! command -v node >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

missing=()
for pkg in "${packages[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    [[ $verbose -eq 1 ]] && echo "install-deps.sh: all packages present"
    exit 0
fi

sudo_cmd=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo_cmd=(sudo)
    else
        echo "install-deps.sh: not root and no sudo; cannot install: ${missing[*]}" >&2
        exit 1
    fi
fi

echo "install-deps.sh: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_quiet=(-qq)
[[ $verbose -eq 1 ]] && apt_quiet=()
"${sudo_cmd[@]}" apt-get "${apt_quiet[@]}" update
"${sudo_cmd[@]}" apt-get "${apt_quiet[@]}" install -y --no-install-recommends "${missing[@]}"
