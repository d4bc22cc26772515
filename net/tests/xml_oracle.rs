//! The hardened tokenizer of `segur_net::xml` against an independent XML reader (`roxmltree`):
//! every XML file of `../shared/reference` (2,000+ schemas, WSDLs, schematrons, CDA and SOAP
//! examples), then thousands of damaged variants of some of them. Both must accept or refuse
//! the same documents and, when they accept, give the same tree (namespace URIs, local names,
//! attributes, text). The differences we mean to have are listed in `deliberate`.

use std::path::{Path, PathBuf};

use segur_net::xml::{self, Element, Node, XmlLimits};

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference")
}

fn limits() -> XmlLimits {
    XmlLimits {
        max_bytes: 64 << 20,
        max_depth: 1024,
        max_nodes: 10_000_000,
    }
}

/// A canonical tree: (namespace, local name, attributes, children), texts merged, comments and
/// processing instructions left out, line ends in text normalised (XML 1.0 §2.11), which
/// `segur_net::xml` leaves to its callers (text is kept exactly, CR LF included).
#[derive(Debug, PartialEq)]
enum Canon {
    El(String, String, Vec<(String, String, String)>, Vec<Canon>),
    Text(String),
}

fn eol(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

fn push(children: &mut Vec<Canon>, c: Canon) {
    if let (Canon::Text(t), Some(Canon::Text(prev))) = (&c, children.last_mut()) {
        prev.push_str(t);
        return;
    }
    children.push(c);
}

fn ours(e: &Element) -> Canon {
    let mut children = Vec::new();
    for n in &e.children {
        match n {
            Node::Element(c) => push(&mut children, ours(c)),
            Node::Text(t) => push(&mut children, Canon::Text(eol(t))),
        }
    }
    Canon::El(
        e.namespace().to_owned(),
        e.name.clone(),
        e.attributes
            .iter()
            .map(|a| {
                (
                    a.ns.as_deref().unwrap_or("").to_owned(),
                    a.name.clone(),
                    a.value.clone(),
                )
            })
            .collect(),
        children,
    )
}

fn theirs(n: roxmltree::Node<'_, '_>) -> Canon {
    let mut children = Vec::new();
    for c in n.children() {
        if c.is_element() {
            push(&mut children, theirs(c));
        } else if c.is_text() {
            push(&mut children, Canon::Text(eol(c.text().unwrap_or(""))));
        }
    }
    Canon::El(
        n.tag_name().namespace().unwrap_or("").to_owned(),
        n.tag_name().name().to_owned(),
        n.attributes()
            .map(|a| {
                (
                    a.namespace().unwrap_or("").to_owned(),
                    a.name().to_owned(),
                    a.value().to_owned(),
                )
            })
            .collect(),
        children,
    )
}

/// Refusals by `roxmltree` of documents we accept on purpose.
fn deliberate(e: &roxmltree::Error) -> bool {
    use roxmltree::Error::*;
    matches!(
        e,
        // An XML declaration after white space or a comment, before the root (seen in the wild:
        // `insi/wsdl/medimail.wsdl`).
        UnexpectedDeclaration(_)
            // Two prefixes bound to one URI for the same local name: we compare qualified names.
            | DuplicatedAttribute(..)
            // Non-ASCII name characters outside the XML name ranges, left to the UTF-8 check.
            | InvalidName(_)
    )
}

/// Refusals of ours where `roxmltree` is more lenient than XML 1.0.
fn stricter(e: &segur_net::NetError) -> bool {
    // §2.6 PI: the target is a Name followed by white space or `?>` (roxmltree reads
    // `<?xmlsion=…?>` as a processing instruction); §2.8: the declaration's syntax and values are
    // checked (roxmltree reads a declaration it cannot parse as a processing instruction);
    // Namespaces in XML 1.0 §4: `:a` is no QName (roxmltree takes it as a name); §3: a prefix
    // may not be bound to the empty URI (`xmlns:p=""`, allowed by Namespaces 1.1 only); XML 1.0
    // §3 "Element Type Match" (roxmltree lets `</:r>` close `<r>`) and "Unique Att Spec", which
    // holds for namespace declarations too (roxmltree lets `xmlns` appear twice); §4.1 WFC
    // "Legal Character" (roxmltree accepts `&#xD841;`, a surrogate).
    matches!(e, segur_net::NetError::XmlMalformed { detail, .. }
        if detail == "processing instruction without a valid target"
            || detail.starts_with("XML declaration")
            || detail == "attribute name expected"
            || detail == "'<' not followed by an element name"
            || detail.starts_with("invalid namespace declaration")
            || detail.starts_with("end tag </:")
            || detail.starts_with("duplicate attribute \"xmlns")
            || detail.ends_with("invalid character reference"))
}

/// Compares the two readers on `bytes`; `Err` describes a disagreement.
fn agree(bytes: &[u8]) -> Result<bool, String> {
    let mine = xml::parse(bytes, &limits());
    let Ok(text) = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) else {
        return match mine {
            Err(_) => Ok(false),
            Ok(_) => Err("accepted invalid UTF-8".into()),
        };
    };
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: u32::MAX,
    };
    let theirs_doc = roxmltree::Document::parse_with_options(text, opts);
    match (mine, theirs_doc) {
        (Ok(a), Ok(b)) => {
            let (a, b) = (ours(&a), theirs(b.root_element()));
            if a == b {
                Ok(true)
            } else {
                let (a, b) = (format!("{a:?}"), format!("{b:?}"));
                let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
                let around = |s: &str| {
                    s.chars()
                        .skip(
                            s.get(..at)
                                .map_or(0, |p| p.chars().count())
                                .saturating_sub(60),
                        )
                        .take(120)
                        .collect::<String>()
                };
                Err(format!(
                    "different trees at {at}:\n ours   …{}…\n theirs …{}…",
                    around(&a),
                    around(&b)
                ))
            }
        }
        (Err(_), Err(_)) => Ok(false),
        (Ok(_), Err(e)) if deliberate(&e) => Ok(true),
        (Ok(_), Err(e)) => Err(format!("we accept, roxmltree refuses: {e}")),
        // We refuse a document declaring another encoding than UTF-8 (roxmltree reads the text
        // it is given, whatever the declaration says).
        (Err(segur_net::NetError::XmlEncoding(_)), Ok(_)) => Ok(false),
        (Err(e), Ok(_)) if stricter(&e) => Ok(false),
        (Err(e), Ok(_)) => Err(format!("we refuse, roxmltree accepts: {e}")),
    }
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
