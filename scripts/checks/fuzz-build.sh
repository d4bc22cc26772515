#!/usr/bin/env bash
# Check (run by scripts/test): the cargo-fuzz crate in fuzz/ still compiles against the current
# segur-net / segur-ins-core APIs, on the stable toolchain (no nightly needed for `cargo check`:
# libfuzzer-sys builds its C++ part with the system c++ compiler).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/segur/target}
cargo metadata --manifest-path fuzz/Cargo.toml --no-deps --format-version 1 >/dev/null
cargo check --manifest-path fuzz/Cargo.toml --bins
