#!/usr/bin/env bash
# Check (run by scripts/test), issue #4 point 6: the PDF copies are PDF/A-1b, validated by
# veraPDF (greenfield, from Maven Central, org.verapdf.apps:greenfield-apps, pinned below).
# PDFs checked: `segur cda pdf` of every document of the CDA conformance set (VSMs: their
# narrative; level 1 documents: their own PDF, made by segur_cda::pdf::render_text_pdf) and of
# the ANS VSM round trip, plus the accented samples of cda/tests/pdf.rs. One PDF = one check.
# Needs java and mvn (the polyglot machine has both); veraPDF's jars are cached in ~/.m2 and its
# classpath in $SEGUR_VERAPDF_HOME (default ~/.cache/segur/verapdf).
# Last line: "segur-check: N passed, M failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/segur/target}
VERAPDF_VERSION=1.28.2
VP_HOME=${SEGUR_VERAPDF_HOME:-$HOME/.cache/segur/verapdf}/$VERAPDF_VERSION
FLAVOUR=1b

fail() { echo "$*"; echo "segur-check: 0 passed, 1 failed"; exit 1; }

# ---- veraPDF classpath (resolved once with Maven) ----
for tool in java mvn; do
    command -v "$tool" >/dev/null || fail "$tool not found: veraPDF cannot run"
done
if [ ! -s "$VP_HOME/classpath.txt" ]; then
    mkdir -p "$VP_HOME"
    cat >"$VP_HOME/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>segur.checks</groupId><artifactId>verapdf-runner</artifactId><version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.verapdf.apps</groupId><artifactId>greenfield-apps</artifactId>
      <version>$VERAPDF_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
    if ! (cd "$VP_HOME" && mvn -q -B dependency:build-classpath -Dmdep.outputFile=cp.tmp \
        -Dmdep.includeScope=runtime >mvn.log 2>&1); then
        tail -20 "$VP_HOME/mvn.log"
        fail "could not resolve org.verapdf.apps:greenfield-apps:$VERAPDF_VERSION"
    fi
    # The classpath holds greenfield-apps itself and all it depends on.
    grep -q "greenfield-apps-$VERAPDF_VERSION.jar" "$VP_HOME/cp.tmp" || fail "bad classpath"
    mv "$VP_HOME/cp.tmp" "$VP_HOME/classpath.txt"
fi
veracli() { java -cp "$(cat "$VP_HOME/classpath.txt")" org.verapdf.apps.GreenfieldCliWrapper "$@"; }

# ---- the PDFs ----
WORK=$(mktemp -d "${TMPDIR:-/tmp}/segur-pdfa.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/xml" "$WORK/pdf"
cargo run -q -p segur-cda --example write_samples -- "$WORK/xml" >/dev/null ||
    fail "write_samples failed"
SEGUR=${SEGUR_BIN:-}
if [ -z "$SEGUR" ] || [ ! -x "$SEGUR" ]; then
    cargo build -q -p segur-cli || fail "segur-cli does not build"
    SEGUR=$CARGO_TARGET_DIR/debug/segur
fi
made=0
for x in "$WORK"/xml/*.xml; do
    b=$(basename "$x" .xml)
    if "$SEGUR" cda pdf "$x" -o "$WORK/pdf/$b.pdf" >/dev/null 2>"$WORK/err"; then
        made=$((made + 1))
    else
        echo "segur cda pdf $b.xml failed: $(head -c 300 "$WORK/err")"
    fi
done
SEGUR_PDF_OUT="$WORK/pdf" cargo test -q -p segur-cda --test pdf write_samples_when_asked \
    >/dev/null 2>&1 || echo "cda/tests/pdf.rs samples not written"
n_xml=$(ls "$WORK"/xml/*.xml | wc -l)
n_pdf=$(ls "$WORK"/pdf/*.pdf 2>/dev/null | wc -l)
echo "documents: $n_xml CDA -> $made PDF copies; $n_pdf PDFs in all"
[ "$n_pdf" -gt 0 ] || fail "no PDF produced"

# ---- veraPDF, one run over all of them ----
out=$(veracli --flavour "$FLAVOUR" --format text -v "$WORK"/pdf/*.pdf 2>&1)
echo "$out" | grep -E '^(PASS|FAIL) |^  FAIL ' | sed "s#$WORK/pdf/##"
passed=$(echo "$out" | grep -c "^PASS .* $FLAVOUR\$")
failed=$(echo "$out" | grep -c '^FAIL ')
missing=$((n_pdf - passed - failed))
if [ "$missing" -gt 0 ]; then
    echo "$out" | tail -20
    failed=$((failed + missing))
fi
# Control: veraPDF must reject a variant with object streams (PDF 1.5, not PDF/A-1).
first=$(ls "$WORK"/pdf/*.pdf | head -1)
if ! command -v qpdf >/dev/null || ! qpdf --object-streams=generate "$first" "$WORK/control.pdf"; then
    echo "control: qpdf missing or failed (apt-get install qpdf): a missing tool is a failure"
    failed=$((failed + 1))
else
    control=$(veracli --flavour "$FLAVOUR" --format text "$WORK/control.pdf" 2>&1)
    if grep -q '^FAIL ' <<<"$control"; then
        echo "control: veraPDF rejects the object-stream variant of $(basename "$first")"
        passed=$((passed + 1))
    else
        echo "control: veraPDF did NOT reject a non-PDF/A-1 file"
        failed=$((failed + 1))
    fi
fi
# A CDA whose copy could not be written counts as a failure too.
failed=$((failed + n_xml - made))
echo "veraPDF $VERAPDF_VERSION, flavour PDF/A-$FLAVOUR"
echo "segur-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
