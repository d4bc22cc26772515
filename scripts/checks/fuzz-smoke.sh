#!/usr/bin/env bash
# Check (run by scripts/test): a short, bounded, coverage-guided fuzzing run of every target in
# fuzz/fuzz_targets, on the STABLE toolchain.
#
# cargo-fuzz needs nightly only for `-Zsanitizer=address`; the SanitizerCoverage instrumentation
# that guides libFuzzer is reachable on stable through `-Cpasses=sancov-module` and
# `-Cllvm-args=-sanitizer-coverage-*` (the same flags cargo-fuzz passes, minus ASan: the code
# under test is safe Rust, what we hunt for is panics, overflows, runaway recursion).
# Seeds: every XML file under $SEGUR_REFERENCE/insi/examples (CDA targets: the VSM and
# VAC-NOTE examples of $SEGUR_REFERENCE/cda/ExemplesCDA). The run is deterministic for a
# given build (-seed=1, -runs bounded, wall-clock capped). A crash fails the check; the input
# is kept in $CARGO_TARGET_DIR/fuzz-artifacts/ and printed as base64.
#
# Knobs: SEGUR_FUZZ_RUNS (default 300000 per target), SEGUR_FUZZ_SECONDS (cap, default 60).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/segur/target}
REFERENCE=${SEGUR_REFERENCE:-$ROOT/../shared/reference}
RUNS=${SEGUR_FUZZ_RUNS:-300000}
SECONDS_CAP=${SEGUR_FUZZ_SECONDS:-60}
HOST=$(rustc -vV | sed -n 's/^host: //p')

# A separate target dir: different RUSTFLAGS would otherwise invalidate the main build cache.
FUZZ_TARGET_DIR="$CARGO_TARGET_DIR/fuzz-stable"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# --target keeps RUSTFLAGS off build scripts and proc-macros, as cargo-fuzz does.
CARGO_TARGET_DIR="$FUZZ_TARGET_DIR" cargo build --release --manifest-path fuzz/Cargo.toml \
    --target "$HOST" --bins
unset RUSTFLAGS

WORK=$(mktemp -d "${TMPDIR:-/tmp}/segur-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ARTIFACTS="$CARGO_TARGET_DIR/fuzz-artifacts"
mkdir -p "$ARTIFACTS"

status=0
for src in fuzz/fuzz_targets/*.rs; do
    target=$(basename "$src" .rs)
    corpus="$WORK/$target"
    mkdir -p "$corpus"
    case $target in
        cda_*) seeds="$REFERENCE/cda/ExemplesCDA" pattern='[VS]*.xml' extra="-max_len=70000" ;;
        dmp_*) seeds="$REFERENCE/xds/examples" pattern='*.xml' extra="-max_len=70000" ;;
        *) seeds="$REFERENCE/insi/examples" pattern='*.xml' extra="" ;;
    esac
    if [ -d "$seeds" ]; then
        while IFS= read -r -d '' f; do
            rel=${f#"$seeds/"}
            cp "$f" "$corpus/${rel//\//_}"
        done < <(find "$seeds" -name "$pattern" -print0)
    else
        echo "warning: no seeds ($seeds missing)" >&2
    fi
    echo "--- fuzzing $target: $(ls "$corpus" | wc -l) seeds, $RUNS runs max, ${SECONDS_CAP}s max"
    if "$FUZZ_TARGET_DIR/$HOST/release/$target" "$corpus" -seed=1 -runs="$RUNS" \
        -max_total_time="$SECONDS_CAP" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 $extra \
        -artifact_prefix="$ARTIFACTS/$target-" >"$WORK/$target.log" 2>&1; then
        grep -E "DONE|^stat::number_of_executed_units" "$WORK/$target.log" || true
    else
        status=1
        tail -n 40 "$WORK/$target.log"
        for a in "$ARTIFACTS/$target"-*; do
            [ -f "$a" ] || continue
            echo "crash input $a (base64):"
            base64 -w 0 "$a" | head -c 4000
            echo
        done
    fi
done
exit $status
