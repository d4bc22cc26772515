//! The export table of `libsegur.so` is exactly the functions of `include/segur.h`
//! (`nm -D --defined-only`, `segur_*` symbols).

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

/// `target/<profile>/libsegur.so`, next to the `deps/` folder of this test binary.
fn cdylib() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?;
    let so = dir.join("libsegur.so");
    so.exists().then_some(so)
}

#[test]
fn exports_match_header() {
    if !cfg!(target_os = "linux") {
        eprintln!("skipped: export check implemented with nm on Linux");
        return;
    }
    let Some(so) = cdylib() else {
        panic!("libsegur.so not found next to the test binary: run `cargo build -p segur-ffi`");
    };
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
        .expect("nm");
    assert!(out.status.success(), "nm failed");
    let exported: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|n| n.starts_with("segur_"))
        .map(str::to_owned)
        .collect();
    let declared: BTreeSet<String> = common::header_functions(&common::header())
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert!(declared.len() >= 20, "header parsing found {declared:?}");
    assert_eq!(
        exported,
        declared,
        "export table != header ({})",
        so.display()
    );
}
