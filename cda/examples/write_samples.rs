//! Writes the conformance set of issue #4 point 7 into a folder (used by
//! `scripts/checks/50-cda-validate.sh`): `cargo run -p segur-cda --example write_samples DIR`.
//! When the ANS VSM example is found (`$SEGUR_SHARED` or `../shared`), its round trip
//! (parse → model → build) is written too, as `30-ans-vsm-roundtrip.xml`.
fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "cda-samples".into());
    let dir = std::path::Path::new(&dir);
    std::fs::create_dir_all(dir).expect("create dir");
    for (name, xml) in segur_cda::examples::conformance_documents() {
        std::fs::write(dir.join(name), xml).expect("write");
    }
    let shared = std::env::var("SEGUR_SHARED").unwrap_or_else(|_| "../shared".into());
    let ans = std::path::Path::new(&shared).join("reference/cda/ExemplesCDA/VSM_1.4_2022.01.xml");
    if let Ok(bytes) = std::fs::read(&ans) {
        let parsed = segur_cda::parse(&bytes).expect("ANS example parses");
        let xml = segur_cda::examples::rebuild_vsm(&parsed)
            .and_then(|v| v.to_xml())
            .expect("ANS example rebuilds");
        std::fs::write(dir.join("30-ans-vsm-roundtrip.xml"), xml).expect("write");
    } else {
        eprintln!(
            "ANS example not found at {}: round trip not written",
            ans.display()
        );
    }
}
