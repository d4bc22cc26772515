#!/usr/bin/env bash
# Side-by-side INSi client CPU per call: segur (criterion) vs Python zeep with the official WSDL.
# Usage: bench/compare-insi.sh   (from the repository root; ../shared/reference beside it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/segur/target}
REF=${SEGUR_REFERENCE:-$PWD/../shared/reference}
VENV=${SEGUR_VENV:-$HOME/.cache/segur/venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r bench/requirements.txt
fi
echo "== segur (Rust): build + serialise request, parse CNDA TEST_2.04_cas2 reply"
cargo bench -q -p segur-ins-core --bench identity -- --warm-up-time 2 --measurement-time 5 insi_client_cpu 2>/dev/null |
    grep -E "^insi|time:"
echo "== zeep $("$VENV/bin/python" -c 'import zeep; print(zeep.__version__)') with DESIR_ICIR_EXP_1.5.0.wsdl: same work"
"$VENV/bin/python" bench/insi_zeep.py --reference "$REF" --iterations 3000
