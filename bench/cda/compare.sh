#!/usr/bin/env bash
# Issue #4 point 10, both sides in one run: the criterion bench (segur_cda::parse of the ANS VSM
# example, the hardened segur-net reader alone (events, trees), a bare quick-xml tag scan of the
# same bytes), the same Rust
# functions timed best-of interleaved batches (steadier on a busy machine), then Python lxml +
# XPath extracting the same fields, and the ratios.
#   bench/cda/compare.sh [extra criterion args]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
PY="${SEGUR_VENV:-$HOME/.cache/segur/venv}/bin/python"
cargo bench -p segur-cda --bench cda -- "$@" 2>&1 | grep -E '^[a-z0-9_]+( +time:|$)|^ +time:' || true
mkdir -p "$CARGO_TARGET_DIR/criterion"
SEGUR_BENCH_MIN=1 cargo bench -p segur-cda --bench cda 2>/dev/null | grep 'best of' \
    | tee "$CARGO_TARGET_DIR/criterion/segur_best_of.txt"
"$PY" bench/cda/lxml_compare.py
