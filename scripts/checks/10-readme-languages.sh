#!/usr/bin/env bash
# The README's per-language sections are the files docs/readme-{c,pascal,python,kotlin,swift}.md,
# verbatim, between the two "languages" markers. `--fix` rewrites the README from them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
start='<!-- languages: generated from docs/readme-*.md by scripts/checks/10-readme-languages.sh --fix -->'
end='<!-- end languages -->'
want=$(mktemp); trap 'rm -f "$want"' EXIT
{
    printf '%s\n\n' "$start"
    for d in c pascal python kotlin swift; do
        sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "docs/readme-$d.md"
        echo
    done
    printf '\n%s\n' "$end"
} >"$want"
have=$(awk -v s="$start" -v e="$end" '$0==s{on=1} on{print} $0==e{on=0}' README.md)
if [ "$have" == "$(cat "$want")" ]; then
    echo "README language sections match docs/readme-*.md"
    exit 0
fi
if [ "${1:-}" = "--fix" ]; then
    python3 - "$want" <<'PY'
import sys
want = open(sys.argv[1]).read().rstrip("\n")
s = open("README.md").read()
a = s.index("<!-- languages:")
b = s.index("<!-- end languages -->") + len("<!-- end languages -->")
open("README.md", "w").write(s[:a] + want + s[b:])
PY
    echo "README rewritten"
    exit 0
fi
echo "README language sections differ from docs/readme-*.md: run $0 --fix" >&2
diff <(echo "$have") "$want" | head -20 >&2
exit 1
