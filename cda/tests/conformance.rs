//! Issue #4 point 7: ≥ 10 varied VSMs (with all the EHR manual's content) and level 1 documents,
//! written to a temp dir, checked with xmllint against `CDA_extended.xsd` and validated ALL IN
//! ONE `cda-validate` command (XSD + StrucMin + IHE + CI-SIS + the volet schematron chosen from
//! the templateId): 0 failures.
//!
//! Skipped (with a message) when `../shared` or the validator's venv is absent; set
//! `SEGUR_REQUIRE_CDA_VALIDATE=1` to make that a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use segur_cda::examples::conformance_documents;

mod common;

fn shared() -> PathBuf {
    std::env::var_os("SEGUR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("SEGUR_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/segur/venv")
        });
    venv.join("bin/python")
}

fn skip(why: &str) -> bool {
    if std::env::var_os("SEGUR_REQUIRE_CDA_VALIDATE").is_some() {
        panic!("{why}");
    }
    eprintln!("SKIPPED: {why}");
    true
}

#[test]
fn all_documents_pass_xsd_and_schematrons() {
    let mut docs = conformance_documents();
    assert!(docs.len() >= 16);
    // The ANS VSM example, parsed and re-built (point 7 round trip).
    if let Ok(bytes) = std::fs::read(shared().join("reference/cda/ExemplesCDA/VSM_1.4_2022.01.xml"))
    {
        let parsed = segur_cda::parse(&bytes).unwrap();
        let xml = segur_cda::examples::rebuild_vsm(&parsed)
            .unwrap()
            .to_xml()
            .unwrap();
        docs.push(("30-ans-vsm-roundtrip.xml".into(), xml));
        // The same with its posologies as patient instructions (free text), which the round
        // trip keeps as FR-Instructions-au-patient entries.
        let with = common::ans_vsm_with_instructions(&String::from_utf8_lossy(&bytes));
        let parsed = segur_cda::parse(with.as_bytes()).unwrap();
        let xml = segur_cda::examples::rebuild_vsm(&parsed)
            .unwrap()
            .to_xml()
            .unwrap();
        let texts: Vec<Option<String>> = segur_cda::parse(xml.as_bytes())
            .unwrap()
            .vsm_summary()
            .traitements
            .into_iter()
            .map(|t| t.posology.text)
            .collect();
        assert_eq!(
            texts,
            [Some("1 cp/j".to_owned()), Some("1 cp le soir".to_owned())]
        );
        assert_eq!(xml.matches("PINSTRUCT").count(), 2);
        docs.push(("31-ans-vsm-instructions-roundtrip.xml".into(), xml));
    }
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = docs
        .iter()
        .map(|(n, x)| {
            let p = dir.path().join(n);
            std::fs::write(&p, x).unwrap();
            p
        })
        .collect();
    if let Ok(keep) = std::env::var("SEGUR_CDA_KEEP") {
        for (n, x) in &docs {
            std::fs::create_dir_all(&keep).unwrap();
            std::fs::write(Path::new(&keep).join(n), x).unwrap();
        }
    }
    let shared = shared();
    let xsd = shared.join("reference/cda/infrastructure/cda/CDA_extended.xsd");
    if !xsd.exists() && skip("../shared/reference absent") {
        return;
    }
    // 1. xmllint, every file against the CDA XSD.
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .args(&files)
        .output();
    match out {
        Ok(o) => assert!(
            o.status.success(),
            "xmllint: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            if skip(&format!("xmllint not runnable: {e}")) {
                return;
            }
        }
    }
    // 2. cda-validate, all files in one command, profile `all`.
    let py = venv_python();
    if !py.exists() && skip("validator venv absent") {
        return;
    }
    let o = Command::new(&py)
        .arg(shared.join("tools/cda-validate"))
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    eprintln!("cda-validate: {last}");
    assert!(
        o.status.success() && last.ends_with(" 0 failed"),
        "cda-validate failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
