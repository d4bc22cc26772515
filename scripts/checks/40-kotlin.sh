#!/usr/bin/env bash
# Check (run by scripts/test): the Kotlin bindings, compiled and tested on the JVM.
#
#   1. cargo build -p segur-uniffi            -> $CARGO_TARGET_DIR/debug/libsegur_uniffi.so
#      (and the CLI, for the sandbox, when SEGUR_BIN is not set)
#   2. uniffi-bindgen (the workspace's, same uniffi version) generates fr/segur/segur_uniffi.kt
#      into $CARGO_TARGET_DIR/kotlin/generated-sources/uniffi (never checked in)
#   3. mvn test in bindings/kotlin (Maven output in $CARGO_TARGET_DIR/kotlin): JUnit 5 tests that
#      start `segur sandbox` and call the library through JNA, coroutines for the suspend calls;
#      the CDA tests read cli/examples/vsm-request.json and the ANS examples of
#      $SEGUR_REFERENCE/cda/ExemplesCDA (default <repo>/../shared/reference)
#
# The first run downloads Kotlin, JNA, kotlinx-coroutines, JUnit and the Maven plugins into
# ~/.m2 (Maven Central; SEGUR_M2_REPO=<dir> uses another local repository); later runs need no
# network. Last line:
#   segur-check: N passed, M failed     (JUnit tests from surefire's reports, plus one for
#                                        docs/readme-kotlin.md quoting Example.kt verbatim)
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/segur/target}
mkdir -p "$CARGO_TARGET_DIR"
CARGO_TARGET_DIR=$(cd "$CARGO_TARGET_DIR" && pwd)

PROFILE=debug
LIB_DIR="$CARGO_TARGET_DIR/$PROFILE"
LIB="$LIB_DIR/libsegur_uniffi.so"
BUILD_DIR="$CARGO_TARGET_DIR/kotlin"
GEN_DIR="$BUILD_DIR/generated-sources/uniffi"
REPORTS="$BUILD_DIR/surefire-reports"

fail() {
    echo "40-kotlin: $*" >&2
    echo "segur-check: 0 passed, 1 failed"
    exit 1
}

command -v mvn >/dev/null || fail "mvn not found (apt-get install maven)"
command -v java >/dev/null || fail "java not found (JDK 17+)"

echo "+ cargo build -p segur-uniffi"
cargo build -q -p segur-uniffi || fail "cargo build -p segur-uniffi failed"
[ -f "$LIB" ] || fail "$LIB not built"

if [ -z "${SEGUR_BIN:-}" ] || [ ! -x "$SEGUR_BIN" ]; then
    echo "+ cargo build -p segur-cli (SEGUR_BIN not set)"
    cargo build -q -p segur-cli || fail "cargo build -p segur-cli failed"
    SEGUR_BIN="$CARGO_TARGET_DIR/debug/segur"
fi
export SEGUR_BIN
echo "SEGUR_BIN=$SEGUR_BIN"
REFERENCE=${SEGUR_REFERENCE:-$ROOT/../shared/reference}
REFERENCE=$(cd "$REFERENCE" 2>/dev/null && pwd || echo "$REFERENCE")
echo "SEGUR_REFERENCE=$REFERENCE"
# Without it the test reading the ANS examples is skipped (counted in "skipped").
[ -d "$REFERENCE" ] || echo "warning: $REFERENCE does not exist (set SEGUR_REFERENCE)" >&2

echo "+ uniffi-bindgen generate --language kotlin --out-dir $GEN_DIR"
rm -rf "$GEN_DIR"
mkdir -p "$GEN_DIR"
# From the crate's folder, so that its uniffi.toml (package fr.segur) applies.
(cd bindings/uniffi && cargo run -q -p uniffi-bindgen -- generate --no-format \
    --library "$LIB" --language kotlin --out-dir "$GEN_DIR") ||
    fail "uniffi-bindgen failed"
[ -f "$GEN_DIR/fr/segur/segur_uniffi.kt" ] || fail "no fr/segur/segur_uniffi.kt generated"

rm -rf "$REPORTS"
MVN=(mvn -B -q --no-transfer-progress -f bindings/kotlin/pom.xml
    -Dsegur.lib.dir="$LIB_DIR" -Dsegur.generated.dir="$GEN_DIR" -Dsegur.build.dir="$BUILD_DIR"
    -Dsegur.vsm.request="$ROOT/cli/examples/vsm-request.json" -Dsegur.reference="$REFERENCE"
    -Dmaven.wagon.http.retryHandler.count=3 ${SEGUR_M2_REPO:+-Dmaven.repo.local=$SEGUR_M2_REPO})
echo "+ ${MVN[*]} test"
# mvn_test: Maven's own output, minus the colour codes Maven 3.8 prints even in batch mode.
mvn_test() {
    "${MVN[@]}" test 2>&1 | sed 's/\x1b\[[0-9;]*m//g'
    return "${PIPESTATUS[0]}"
}
start=$(date +%s)
mvn_test
rc=$?
if [ $rc -ne 0 ] && ! compgen -G "$REPORTS/*.txt" >/dev/null; then
    # Nothing ran: most often a download that failed on a cold ~/.m2. One more try.
    echo "40-kotlin: mvn failed before any test ran; retrying once" >&2
    mvn_test
    rc=$?
fi
echo "mvn test: exit $rc in $(($(date +%s) - start))s"

# Surefire's per-class summaries: "Tests run: N, Failures: F, Errors: E, Skipped: S, ..."
total=0 failures=0 errors=0 skipped=0
shopt -s nullglob
for f in "$REPORTS"/*.txt; do
    read -r n fl er sk < <(sed -n 's/^Tests run: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\), Skipped: \([0-9]*\).*/\1 \2 \3 \4/p' "$f" | head -n 1)
    total=$((total + ${n:-0})) failures=$((failures + ${fl:-0}))
    errors=$((errors + ${er:-0})) skipped=$((skipped + ${sk:-0}))
    if [ "${fl:-0}" -ne 0 ] || [ "${er:-0}" -ne 0 ]; then
        echo "---- $(basename "$f")"
        cat "$f"
    fi
done
shopt -u nullglob
failed=$((failures + errors))
passed=$((total - failed - skipped))

# The README quotes the quickstart that ExampleTest runs: verbatim.
EXAMPLE=bindings/kotlin/src/main/kotlin/fr/segur/example/Example.kt
if perl -0ne 'print $1 if /```kotlin\n(.*?)```/s' docs/readme-kotlin.md 2>/dev/null | cmp -s - "$EXAMPLE"; then
    passed=$((passed + 1))
else
    echo "40-kotlin: docs/readme-kotlin.md does not quote $EXAMPLE verbatim" >&2
    failed=$((failed + 1))
fi
if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
    echo "40-kotlin: mvn failed before or outside the tests (compilation, dependency download?)" >&2
    failed=1
fi
echo "Kotlin JUnit: $total run, $failures failures, $errors errors, $skipped skipped"
echo "segur-check: $passed passed, $failed failed"
[ $failed -eq 0 ]
