#!/usr/bin/env bash
# The surfaces (CLI, C ABI, Python, UniFFI) reach the protocol crates only through the facade
# `segur` (DESIGN.md §2): none of them may depend on segur-net, segur-ins-core, segur-cda or
# segur-dmp (or a later protocol crate), in any dependency kind. The CLI and the surfaces' tests
# may use segur-sandbox (the simulated services). Read from `cargo metadata`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo metadata --format-version 1 --no-deps --offline 2>/dev/null >"${TMPDIR:-/tmp}/segur-metadata.$$.json" ||
    cargo metadata --format-version 1 --no-deps >"${TMPDIR:-/tmp}/segur-metadata.$$.json"
trap 'rm -f "${TMPDIR:-/tmp}/segur-metadata.$$.json"' EXIT
python3 - "${TMPDIR:-/tmp}/segur-metadata.$$.json" <<'PY'
import json, sys
meta = json.load(open(sys.argv[1]))
surfaces = {"segur-cli", "segur-ffi", "segur-py", "segur-uniffi"}
# Every workspace crate below the facade except the sandbox: the protocol layers.
allowed = {"segur", "segur-sandbox"}
workspace = {p["name"] for p in meta["packages"]}
protocol = {n for n in workspace if n.startswith("segur-") and n not in allowed | surfaces
            and n != "segur-tests"}
passed = failed = 0
for p in meta["packages"]:
    if p["name"] not in surfaces:
        continue
    bad = sorted({(d["name"], d["kind"] or "normal") for d in p["dependencies"]
                  if d["name"] in protocol})
    if bad:
        failed += 1
        for name, kind in bad:
            print(f"FAIL {p['name']}: {kind} dependency on protocol crate {name} "
                  f"(use what the facade `segur` re-exports)")
    else:
        passed += 1
        print(f"ok   {p['name']}: depends on the facade only")
missing = surfaces - workspace
for m in sorted(missing):
    failed += 1
    print(f"FAIL surface {m} not found in the workspace")
print(f"segur-check: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
