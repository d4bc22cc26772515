#!/usr/bin/env bash
# Check (run by scripts/test): the C ABI from C and C++ against a sandbox.
#
#   build        cargo build -p segur-ffi (debug: libsegur.so, libsegur.a)
#   exports      nm -D --defined-only libsegur.so segur_* == functions of include/segur.h
#   pkg-config   segur.pc produced from include/segur.pc.in for the build tree, used to build
#   compile      gcc -std=c99 -Wall -Wextra -Werror -pedantic: smoke.c, example.c;
#                g++ -std=c++17 -Wall -Wextra -Werror: -fsyntax-only and a linked run
#   smoke        ffi/tests/c/smoke.c against the sandbox: every assertion counts as one test
#                (identity, INSi, journal; CDA: a VSM built from cli/examples/vsm-request.json for
#                a qualifiée identity, parsed, integrated, metadata, PDF; the ANS example
#                $SEGUR_REFERENCE/cda/ExemplesCDA/VSM_1.4_2022.01.xml parsed)
#   example      the docs/readme-c.md example (also linked statically with libsegur.a)
#   valgrind     smoke.c under valgrind --leak-check=full --errors-for-leak-kinds=definite
#                (ffi/tests/c/valgrind.supp: ring's AES-GCM assembly false positive only)
# The sandbox is `$SEGUR_BIN sandbox` (else the debug CLI, built here), started and stopped here.
# Last line: "segur-check: N passed, M failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/segur/target}
LIBDIR=$CARGO_TARGET_DIR/debug
REFERENCE=${SEGUR_REFERENCE:-$ROOT/../shared/reference}
VSM_REQUEST=$ROOT/cli/examples/vsm-request.json
ANS_VSM=$REFERENCE/cda/ExemplesCDA/VSM_1.4_2022.01.xml
P=0
F=0
pass() { P=$((P + 1)); echo "ok - $*"; }
fail() { F=$((F + 1)); echo "FAILED - $*"; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/segur-c-abi.XXXXXX")
SANDBOX_PID=
cleanup() {
    if [ -n "$SANDBOX_PID" ]; then kill "$SANDBOX_PID" 2>/dev/null; wait "$SANDBOX_PID" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
finish() { echo "segur-check: $P passed, $F failed"; [ "$F" -eq 0 ]; exit $?; }

# check NAME CMD... : one test = the command's exit status (output shown on failure).
check() {
    local name=$1
    shift
    if "$@" >"$WORK/out" 2>&1; then pass "$name"; else cat "$WORK/out"; fail "$name"; fi
}

# ---- build and sandbox ------------------------------------------------------------------
if cargo build -q -p segur-ffi; then pass "cargo build -p segur-ffi"; else fail "cargo build -p segur-ffi"; finish; fi
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
CONFIG=$WORK/sandbox/segur.toml
export LD_LIBRARY_PATH=$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# ---- exports ----------------------------------------------------------------------------
awk '/^[^ \t#\/}]/ && !/^typedef/ && match($0, /segur_[a-z0-9_]+\(/) { print substr($0, RSTART, RLENGTH - 1) }' \
    include/segur.h | sort >"$WORK/declared"
nm -D --defined-only "$LIBDIR/libsegur.so" | awk '$3 ~ /^segur_/ { print $3 }' | sort >"$WORK/exported"
if [ -s "$WORK/declared" ] && diff -u "$WORK/declared" "$WORK/exported"; then
    pass "exports == header ($(wc -l <"$WORK/declared") functions)"
else
    fail "exports == header"
fi

# ---- pkg-config -------------------------------------------------------------------------
mkdir -p "$WORK/pc"
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
sed -e "s|@PREFIX@|$ROOT|" -e "s|@LIBDIR@|$LIBDIR|" -e "s|@INCLUDEDIR@|$ROOT/include|" \
    -e "s|@VERSION@|$VERSION|" include/segur.pc.in >"$WORK/pc/segur.pc"
if command -v pkg-config >/dev/null; then
    PC_FLAGS=$(PKG_CONFIG_PATH=$WORK/pc pkg-config --cflags --libs segur)
else
    PC_FLAGS="-I$ROOT/include -L$LIBDIR -lsegur" # same as segur.pc
fi
[ -n "$PC_FLAGS" ] && pass "segur.pc: $PC_FLAGS" || fail "segur.pc"

# ---- compile ----------------------------------------------------------------------------
CFLAGS=(-std=c99 -Wall -Wextra -Werror -pedantic -g)
# shellcheck disable=SC2086
check "gcc -pedantic smoke.c" gcc "${CFLAGS[@]}" ffi/tests/c/smoke.c $PC_FLAGS -pthread -o "$WORK/smoke"
# shellcheck disable=SC2086
check "gcc -pedantic example.c (pkg-config flags)" gcc "${CFLAGS[@]}" ffi/tests/c/example.c $PC_FLAGS -o "$WORK/example"
check "gcc example.c static (libsegur.a)" gcc "${CFLAGS[@]}" -Iinclude ffi/tests/c/example.c \
    "$LIBDIR/libsegur.a" -lpthread -ldl -lm -o "$WORK/example-static"
check "g++ -std=c++17 -fsyntax-only segur.h" g++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only \
    -Iinclude ffi/tests/c/cpp_compile.cpp
check "g++ -std=c++17 build cpp_compile.cpp" g++ -std=c++17 -Wall -Wextra -Werror -Iinclude \
    ffi/tests/c/cpp_compile.cpp -L"$LIBDIR" -lsegur -o "$WORK/cpp_compile"

# ---- run --------------------------------------------------------------------------------
[ -x "$WORK/cpp_compile" ] && check "C++ program runs" "$WORK/cpp_compile"
TAG="c$$-$(date +%s)"
if [ -x "$WORK/smoke" ]; then
    timeout 300 "$WORK/smoke" "$CONFIG" "$TAG-1" "$VSM_REQUEST" "$ANS_VSM" >"$WORK/smoke.out" 2>&1
    rc=$?
    grep -v '^ok ' "$WORK/smoke.out"
    read -r sp sf < <(sed -n 's/^smoke: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$WORK/smoke.out")
    P=$((P + ${sp:-0}))
    F=$((F + ${sf:-0}))
    if [ $rc -ne 0 ] && [ "${sf:-0}" -eq 0 ]; then fail "smoke exited with status $rc (crash?)"; fi
    echo "smoke: ${sp:-0} assertions passed, ${sf:-0} failed"
fi
[ -x "$WORK/example" ] && check "example runs" "$WORK/example" "$CONFIG"
[ -x "$WORK/example-static" ] && check "static example runs" "$WORK/example-static" "$CONFIG"
if [ -x "$WORK/smoke" ]; then
    if command -v valgrind >/dev/null; then
        if timeout 900 valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
            --suppressions=ffi/tests/c/valgrind.supp "$WORK/smoke" "$CONFIG" "$TAG-2" "$VSM_REQUEST" "$ANS_VSM" >"$WORK/vg.out" 2>&1; then
            pass "valgrind smoke.c: 0 errors, 0 definite leaks"
        else
            grep -v '^ok ' "$WORK/vg.out" | tail -60
            fail "valgrind smoke.c"
        fi
    else
        fail "valgrind not installed"
    fi
fi
finish
