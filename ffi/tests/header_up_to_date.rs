//! `include/segur.h` and `include/schema/*.json` are generated artefacts, checked in: this test
//! regenerates them in memory (cbindgen as a library, pinned =0.29.4; schemars) and fails when
//! the checked-in copies are stale. `SEGUR_BLESS=1` rewrites them.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bless() -> bool {
    std::env::var_os("SEGUR_BLESS").is_some_and(|v| v == "1")
}

/// Compares `path` with `want`; rewrites it under `SEGUR_BLESS=1`.
fn check(path: &Path, want: &str) {
    let have = std::fs::read_to_string(path).unwrap_or_default();
    if have == want {
        return;
    }
    if bless() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, want).expect("write");
        eprintln!("blessed {}", path.display());
        return;
    }
    panic!(
        "{} is stale: run `SEGUR_BLESS=1 scripts/check-header` and commit the result",
        path.display()
    );
}

fn generate_header() -> String {
    let crate_dir = env!("CARGO_MANIFEST_DIR");
    let mut config =
        cbindgen::Config::from_file(Path::new(crate_dir).join("cbindgen.toml")).expect("config");
    config.after_includes = Some(format!(
        "\n#define SEGUR_VERSION_MAJOR {maj}\n#define SEGUR_VERSION_MINOR {min}\n\
         #define SEGUR_VERSION_PATCH {pat}\n\
         /** (MAJOR << 16) | (MINOR << 8) | PATCH */\n\
         #define SEGUR_VERSION_NUMBER (({maj} << 16) | ({min} << 8) | {pat})\n",
        maj = env!("CARGO_PKG_VERSION_MAJOR"),
        min = env!("CARGO_PKG_VERSION_MINOR"),
        pat = env!("CARGO_PKG_VERSION_PATCH"),
    ));
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("utf-8 header")
}

#[test]
fn header_up_to_date() {
    check(&root().join("include/segur.h"), &generate_header());
}

#[test]
fn schemas_up_to_date() {
    let dir = root().join("include/schema");
    let schemas = segur::schema::json_schemas();
    for (name, text) in &schemas {
        check(&dir.join(name), text);
    }
    // No stray schema files.
    let names: Vec<_> = schemas.iter().map(|(n, _)| n.to_string()).collect();
    for e in std::fs::read_dir(&dir).expect("include/schema") {
        let n = e.expect("entry").file_name().to_string_lossy().into_owned();
        assert!(
            names.contains(&n),
            "include/schema/{n} is not generated any more"
        );
    }
}

#[test]
fn version_macros_match() {
    let h = generate_header();
    assert!(h.contains(&format!(
        "#define SEGUR_VERSION_MINOR {}",
        env!("CARGO_PKG_VERSION_MINOR")
    )));
    assert_eq!(segur::segur_abi_version(), 1);
}
