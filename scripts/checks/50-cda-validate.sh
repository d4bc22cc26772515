#!/usr/bin/env bash
# Check (run by scripts/test), issue #4 point 7: writes the CDA conformance set (12 VSMs incl.
# the EHR manual's content, 2013 and 2023.01, and 4 level 1 documents; segur_cda::examples::
# conformance_documents) and the ANS VSM example re-built from its parse, then validates them
# ALL IN ONE ../shared/tools/cda-validate command (XSD + StrucMin + IHE + CI-SIS + the volet
# schematron chosen by templateId). Last line: "segur-check: N passed, M failed" (N, M = checks).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/segur/target}
SHARED=${SEGUR_SHARED:-$ROOT/../shared}
VENV=${SEGUR_VENV:-$HOME/.cache/segur/venv}
PY="$VENV/bin/python"
if [ ! -x "$PY" ]; then
    echo "venv $VENV absent"; echo "segur-check: 0 passed, 1 failed"; exit 1
fi
"$PY" -c 'import lxml, saxonche' 2>/dev/null || "$PY" -m pip install -q -r "$SHARED/tools/requirements.txt"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/segur-cda.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if ! cargo run -q -p segur-cda --example write_samples -- "$WORK"; then
    echo "segur-check: 0 passed, 1 failed"; exit 1
fi
out=$("$PY" "$SHARED/tools/cda-validate" "$WORK"/*.xml 2>&1)
status=$?
echo "$out" | grep -E '^== |ERROR|FAIL' || true
last=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
echo "documents: $(ls "$WORK"/*.xml | wc -l); cda-validate: ${last:-no summary} (exit $status)"
passed=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
failed=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
passed=${passed:-0}; failed=${failed:-1}
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "segur-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
