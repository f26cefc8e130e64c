#!/usr/bin/env bash
# build.sh — configure and build bizosaas.
#
#   scripts/build.sh            release build (RelWithDebInfo) in build/
#   scripts/build.sh --asan     ASan+UBSan debug build in build-asan/
#   scripts/build.sh --debug    debug build (without sanitizers) in build/
set -euo pipefail

cd "$(dirname "$0")/.."

asan=0
debug=0
for arg in "$@"; do
    case "$arg" in
        --asan) asan=1 ;;
        --debug) debug=1 ;;
        -h | --help)
            echo "usage: $0 [--asan] [--debug]"
            exit 0
            ;;
        *)
            echo "build.sh: unknown argument: $arg" >&2
            exit 2
            ;;
    esac
done

if [[ $asan -eq 1 ]]; then
    dir=build-asan
    flags=(-DBZ_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
else
    dir=build
    if [[ $debug -eq 1 ]]; then
        flags=(-DBZ_SANITIZE=OFF -DCMAKE_BUILD_TYPE=Debug)
    else
        flags=(-DBZ_SANITIZE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo)
    fi
fi

cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
