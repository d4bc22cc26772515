#!/usr/bin/env bash
# Builds the release cdylib, the benchmark, runs it (10 million calls per function) and prints
# the size of the stripped release libsegur.so.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/segur/target}
REL=$CARGO_TARGET_DIR/release
cargo build -q --release -p segur-ffi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
gcc -O2 -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude bench/c/matricule_bench.c -L"$REL" -lsegur \
    -o "$OUT/matricule_bench"
LD_LIBRARY_PATH=$REL "$OUT/matricule_bench" "${1:-10000000}"
cp "$REL/libsegur.so" "$OUT/libsegur.so"
strip "$OUT/libsegur.so"
echo "libsegur.so (release): $(stat -c %s "$REL/libsegur.so") bytes; stripped: $(stat -c %s "$OUT/libsegur.so") bytes"
