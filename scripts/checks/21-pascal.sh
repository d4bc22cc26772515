#!/usr/bin/env bash
# Check (run by scripts/test): the Free Pascal binding bindings/pascal/Segur.pas.
#
#   sync     ffi/tests/pascal_in_sync.rs: the imports of Segur.pas == the functions of segur.h
#            (generated section up to date, same parameter counts)
#   compile  fpc -Mdelphi bindings/pascal/tests/segur_test.lpr (linked with libsegur.so; the unit
#            SyncObjs comes from the Debian package fp-units-fcl)
#   run      segur_test against a sandbox: every assertion counts as one test (identity, INSi,
#            journal; CDA: VSM from cli/examples/vsm-request.json, parse, integrate, metadata,
#            PDF, the ANS example $SEGUR_REFERENCE/cda/ExemplesCDA/VSM_1.4_2022.01.xml; DMP;
#            the *Async calls: Value, errors, OnComplete, several in flight, WaitFor, cancel)
# Last line: "segur-check: N passed, M failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/segur/target}
LIBDIR=$CARGO_TARGET_DIR/debug
REFERENCE=${SEGUR_REFERENCE:-$ROOT/../shared/reference}
P=0
F=0
pass() { P=$((P + 1)); echo "ok - $*"; }
fail() { F=$((F + 1)); echo "FAILED - $*"; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/segur-pascal.XXXXXX")
SANDBOX_PID=
cleanup() {
    if [ -n "$SANDBOX_PID" ]; then kill "$SANDBOX_PID" 2>/dev/null; wait "$SANDBOX_PID" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
finish() { echo "segur-check: $P passed, $F failed"; [ "$F" -eq 0 ]; exit $?; }

command -v fpc >/dev/null || { fail "fpc not installed (apt-get install fp-compiler fp-units-fcl)"; finish; }
if cargo build -q -p segur-ffi; then pass "cargo build -p segur-ffi"; else fail "cargo build -p segur-ffi"; finish; fi
if cargo test -q -p segur-ffi --test pascal_in_sync >"$WORK/sync.out" 2>&1; then
    pass "Segur.pas imports in sync with segur.h"
else
    cat "$WORK/sync.out"
    fail "Segur.pas imports in sync with segur.h"
fi
mkdir -p "$WORK/units"
if fpc -Mdelphi -vew -Fubindings/pascal -Fl"$LIBDIR" -FU"$WORK/units" -o"$WORK/segur_test" \
    bindings/pascal/tests/segur_test.lpr >"$WORK/fpc.out" 2>&1; then
    pass "fpc -Mdelphi segur_test.lpr"
else
    cat "$WORK/fpc.out"
    fail "fpc -Mdelphi segur_test.lpr"
    finish
fi

BIN=${SEGUR_BIN:-}
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
    cargo build -q -p segur-cli || { fail "cargo build -p segur-cli"; finish; }
    BIN=$CARGO_TARGET_DIR/debug/segur
fi
"$BIN" sandbox --dir "$WORK/sandbox" --port-base 0 >"$WORK/sandbox.log" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 1 300); do
    grep -q '^ready' "$WORK/sandbox.log" 2>/dev/null && break
    kill -0 "$SANDBOX_PID" 2>/dev/null || break
    sleep 0.2
done
if grep -q '^ready' "$WORK/sandbox.log"; then pass "sandbox started"; else cat "$WORK/sandbox.log"; fail "sandbox started"; finish; fi

LD_LIBRARY_PATH=$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} timeout 300 \
    "$WORK/segur_test" "$WORK/sandbox/segur.toml" "p$$-$(date +%s)" \
    "$ROOT/cli/examples/vsm-request.json" "$REFERENCE/cda/ExemplesCDA/VSM_1.4_2022.01.xml" >"$WORK/test.out" 2>&1
rc=$?
grep -v '^ok ' "$WORK/test.out"
read -r tp tf < <(sed -n 's/^pascal: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$WORK/test.out")
P=$((P + ${tp:-0}))
F=$((F + ${tf:-0}))
if [ $rc -ne 0 ] && [ "${tf:-0}" -eq 0 ]; then fail "segur_test exited with status $rc (crash or unhandled exception)"; fi
finish
