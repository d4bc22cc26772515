//! `cargo run -p uniffi-bindgen -- generate --library <libsegur_uniffi.so> --language kotlin ...`:
//! the UniFFI generator at exactly the workspace's `uniffi` version (bindings and scaffolding
//! must come from the same version, else the checksums do not match at load time).

fn main() {
    uniffi::uniffi_bindgen_main()
}
