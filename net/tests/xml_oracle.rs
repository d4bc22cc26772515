//! The hardened tokenizer of `segur_net::xml` against an independent XML reader (`roxmltree`):
//! every XML file of `../shared/reference` (2,000+ schemas, WSDLs, schematrons, CDA and SOAP
//! examples), then thousands of damaged variants of some of them. Both must accept or refuse
//! the same documents and, when they accept, give the same tree (namespace URIs, local names,
//! attributes, text); see `oracle/mod.rs` for the comparison and the deliberate differences.

mod oracle;

use std::path::{Path, PathBuf};

use oracle::agree;

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference")
}

fn reference_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| matches!(x, "xml" | "xsd" | "wsdl" | "sch" | "xsl"))
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&reference_dir(), &mut out);
    out.sort();
    out
}

#[test]
fn every_reference_file_reads_as_roxmltree_reads_it() {
    let files = reference_files();
    assert!(files.len() > 1000, "reference files: {}", files.len());
    let mut accepted = 0;
    let mut failures = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        match agree(&bytes) {
            Ok(true) => accepted += 1,
            Ok(false) => {}
            Err(e) => failures.push(format!("{}: {e}", f.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Nearly all of them are well-formed UTF-8 XML.
    assert!(
        accepted * 10 > files.len() * 9,
        "{accepted}/{}",
        files.len()
    );
}

/// A small deterministic generator (xorshift64*), so that a failure names a reproducible case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Damages `seed` once: a byte deleted, inserted or replaced (from the bytes that matter to
/// XML), a short range deleted or a slice duplicated.
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    const ALPHABET: &[u8] = b"<>/=\"'&;:!?-[]x #\n";
    let mut v = seed.to_vec();
    let at = rng.below(v.len());
    let byte = ALPHABET[rng.below(ALPHABET.len())];
    match rng.below(5) {
        0 => {
            v.remove(at);
        }
        1 => v.insert(at, byte),
        2 => v[at] = byte,
        3 => {
            let end = (at + 1 + rng.below(10)).min(v.len());
            v.drain(at..end);
        }
        _ => {
            let end = (at + 1 + rng.below(24)).min(v.len());
            let part = v[at..end].to_vec();
            let to = rng.below(v.len());
            v.splice(to..to, part);
        }
    }
    v
}

#[test]
fn damaged_documents_are_accepted_or_refused_as_roxmltree_does() {
    let dir = reference_dir();
    let mut seeds: Vec<Vec<u8>> = [
        "insi/examples/sapa-connecteur-java/TEST_2.04_cas2.xml",
        "xds/examples/iti18request.xml",
    ]
    .iter()
    .filter_map(|p| std::fs::read(dir.join(p)).ok())
    .collect();
    seeds.push(
        br#"<?xml version="1.0" encoding="UTF-8"?>
<!-- c --><r xmlns="urn:x" xmlns:p="urn:p" p:a="1&amp;2" b='&#233;&#x41;'>
  <p:c>t&lt;u<![CDATA[<raw> & ]]>v<?pi data?>w</p:c>
  <d xmlns=""><e/>x&gt;y</d><f  g = "h" />
</r>
"#
        .to_vec(),
    );
    assert!(seeds.len() >= 2, "seed files missing");
    let mut rng = Rng(std::env::var("XML_ORACLE_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x5E6A_0001_D1FF_E4E7));
    let (mut both_ok, mut both_err) = (0, 0);
    let mut failures = Vec::new();
    for round in 0..std::env::var("XML_ORACLE_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(6000)
    {
        let seed = &seeds[round % seeds.len()];
        let mut doc = mutate(seed, &mut rng);
        if rng.below(3) == 0 {
            doc = mutate(&doc, &mut rng);
        }
        if doc.windows(6).any(|w| w == b":xmlns") {
            // roxmltree takes any attribute named `xmlns`, whatever its prefix (`p:xmlns="…"`),
            // for a namespace declaration and drops it; such damage says nothing of ours.
            continue;
        }
        match agree(&doc) {
            Ok(true) => both_ok += 1,
            Ok(false) => both_err += 1,
            Err(e) if failures.len() < 5 => failures.push(format!(
                "{e}\n{}",
                String::from_utf8_lossy(&doc)
                    .chars()
                    .take(400)
                    .collect::<String>()
            )),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n----\n"));
    // The damage is varied enough to exercise both sides.
    assert!(both_ok > 500 && both_err > 500, "{both_ok} / {both_err}");
}
