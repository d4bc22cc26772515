#!/usr/bin/env bash
# Check (run by scripts/test): the Python wheel `segur` (bindings/python).
#
# Builds the abi3 wheel with maturin, installs it into a FRESH venv with the pinned tools of
# bindings/python/requirements-dev.txt, runs pytest on bindings/python/tests against the
# installed wheel (the tests start `segur sandbox` themselves: SEGUR_BIN, else the CLI found in
# $CARGO_TARGET_DIR/{release,debug}, built here if missing), then `mypy.stubtest segur._segur`.
# Last line: "segur-check: N passed, M failed" = pytest's counts + 1 for stubtest.
#
# Knobs: SEGUR_PYTHON (interpreter, default python3), SEGUR_PY_KEEP=1 keeps the work folder.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/segur/target}
PY=${SEGUR_PYTHON:-python3}
PKG="$ROOT/bindings/python"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/segur-py.XXXXXX")
[ "${SEGUR_PY_KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
finish() {
    echo "segur-check: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}
step() { printf '\n--- %s\n' "$*"; }

step "fresh venv $WORK/venv ($("$PY" --version 2>&1))"
if ! "$PY" -m venv "$WORK/venv" ||
    ! "$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check -r "$PKG/requirements-dev.txt"; then
    echo "venv set-up failed" >&2
    failed=1
    finish
fi
VPY="$WORK/venv/bin/python"

step "maturin build --release"
if ! "$WORK/venv/bin/maturin" build --release -m "$PKG/Cargo.toml" -o "$WORK/dist"; then
    failed=1
    finish
fi
if ! "$VPY" -m pip install -q --disable-pip-version-check "$WORK"/dist/segur-*.whl; then
    failed=1
    finish
fi

if [ -z "${SEGUR_BIN:-}" ]; then
    for c in "$CARGO_TARGET_DIR/release/segur" "$CARGO_TARGET_DIR/debug/segur"; do
        if [ -x "$c" ]; then SEGUR_BIN=$c; break; fi
    done
    if [ -z "${SEGUR_BIN:-}" ]; then
        step "cargo build -p segur-cli (no SEGUR_BIN)"
        cargo build -p segur-cli && SEGUR_BIN="$CARGO_TARGET_DIR/debug/segur"
    fi
fi
export SEGUR_BIN=${SEGUR_BIN:-}
echo "SEGUR_BIN=$SEGUR_BIN"

step "pytest (installed wheel)"
# Run from the work folder so that nothing from the source tree shadows the installed package.
(cd "$WORK" && "$VPY" -m pytest -q -p no:cacheprovider -c "$PKG/pyproject.toml" --rootdir "$PKG" \
    --junitxml "$WORK/junit.xml" "$PKG/tests")
rc=$?
if [ -f "$WORK/junit.xml" ]; then
    read -r p f < <("$VPY" - "$WORK/junit.xml" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
k = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - k, f)
PYEOF
    )
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); fi
else
    failed=$((failed + 1))
fi

step "mypy.stubtest segur._segur"
if (cd "$WORK" && "$VPY" -m mypy.stubtest segur._segur --allowlist "$PKG/stubtest-allowlist.txt"); then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi
finish
