//! Reading any received CDA R2 document (level 1 or VSM) into a typed model for selective
//! integration (issue #4 point 4).
//!
//! Input goes through the hardened reader `segur_net::xml::XmlReader` (no DOCTYPE or entity
//! declarations, size/depth/node limits, UTF-8 only); reading is namespace-aware and
//! order-insensitive, and fills the model in one pass over the reader's events, with no tree in
//! between (issue #4 point 10; how it keeps the tree path's semantics: `parse/read/`, and the
//! tests below check it against that path, kept in `parse/tree.rs`). Mandatory header parts
//! missing → [`CdaError::Missing`](crate::CdaError::Missing) naming the path. Every entry
//! becomes an [`Item`] with a stable [`ItemId`]; entries we do not model are kept as raw XML in
//! [`ItemKind::Autre`] items, and the whole document is kept in [`ParsedDocument::root`], so
//! nothing is lost. [`ParsedDocument::integrate`] returns exactly the items chosen on the
//! manual's selection screen as a [`VsmSummary`].

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use segur_net::xml::{Element, Node, XmlLimits};
use serde::Serialize;

use crate::codes::{Code, Confidentiality};
use crate::error::Result;
use crate::header::{CdaTime, InstanceId, PersonName};
use crate::vsm::*;

mod read;
#[cfg(test)]
mod tree;

/// The HL7 v3 namespace.
pub const NS: &str = "urn:hl7-org:v3";
pub(crate) const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Limits for received CDA documents: 16 MiB (level 1 PDFs in base64), depth 64, 200 000 nodes.
pub fn cda_limits() -> XmlLimits {
    XmlLimits {
        max_bytes: 16 * 1024 * 1024,
        max_depth: 64,
        max_nodes: 200_000,
    }
}

/// A stable item id: `<block>:<entry id>` (or the position when the entry has no id); the same
/// document always yields the same ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ItemId(pub String);

/// The block of the manual's integration screen an item belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ItemKind {
    /// Pathologies en cours.
    Pathologie,
    /// Antécédents médicaux.
    AntecedentMedical,
    /// Antécédents chirurgicaux.
    AntecedentChirurgical,
    /// Allergies.
    Allergie,
    /// Antécédents familiaux.
    AntecedentFamilial,
    /// Facteurs de risque professionnels.
    FacteurRisqueProfessionnel,
    /// Habitus / mode de vie.
    Habitus,
    /// Points de vigilance.
    PointDeVigilance,
    /// Traitements au long cours.
    Traitement,
    /// Autres (anything else, kept raw).
    Autre,
}

/// The typed content of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // a few dozen items per document: boxing buys nothing
pub enum ItemContent {
    /// Pathologie or antécédent médical.
    Problem(Problem),
    /// Antécédent chirurgical.
    Procedure(Procedure),
    /// Allergy.
    Allergy(Allergy),
    /// Family history.
    Family(FamilyHistory),
    /// Habitus.
    Habitus(Habitus),
    /// Treatment.
    Treatment(Treatment),
    /// A non-coded line.
    Text(TextItem),
    /// An entry we do not model, as raw XML.
    Raw(String),
}

/// One selectable item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Stable id.
    pub id: ItemId,
    /// Block.
    pub kind: ItemKind,
    /// Label to show.
    pub label: String,
    /// Main code, if coded.
    pub code: Option<Code>,
    /// Content.
    pub content: ItemContent,
}

/// A person of the header (author, legal authenticator, médecin traitant...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParsedPerson {
    /// `id` (RPPS IdNat `8…` under `1.2.250.1.71.4.2.1` for a professional).
    pub id: Option<InstanceId>,
    /// Name.
    pub name: Option<PersonName>,
    /// Profession / specialty.
    pub code: Option<Code>,
    /// Organisation id (IdNat_Struct) and name.
    pub organization: Option<(Option<InstanceId>, Option<String>)>,
    /// Time (author/time, legalAuthenticator/time, participant/time/low).
    pub time: Option<String>,
}

/// The patient as received (a received INS is not a qualified identity).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParsedPatient {
    /// Every `patientRole/id`.
    pub ids: Vec<InstanceId>,
    /// Nom de naissance (`family qualifier="BR"`).
    pub nom_naissance: Option<String>,
    /// Prénoms (`given` without qualifier).
    pub prenoms: Option<String>,
    /// Premier prénom (`given qualifier="BR"`).
    pub premier_prenom: Option<String>,
    /// Nom utilisé (`family qualifier="CL"`).
    pub nom_utilise: Option<String>,
    /// Prénom utilisé (`given qualifier="CL"`).
    pub prenom_utilise: Option<String>,
    /// `administrativeGenderCode/@code`.
    pub sexe: Option<String>,
    /// `birthTime/@value`.
    pub birth_time: Option<String>,
    /// `birthplace/place/addr/county` (COG).
    pub birth_cog: Option<String>,
}

impl ParsedPatient {
    /// The id whose root is an INS OID (`1.2.250.1.213.1.4.8/9/10/11`).
    pub fn ins(&self) -> Option<&InstanceId> {
        self.ids.iter().find(|i| {
            matches!(
                i.root.as_str(),
                "1.2.250.1.213.1.4.8"
                    | "1.2.250.1.213.1.4.9"
                    | "1.2.250.1.213.1.4.10"
                    | "1.2.250.1.213.1.4.11"
            )
        })
    }
}

/// The header as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedHeader {
    /// templateIds (root, extension).
    pub template_ids: Vec<InstanceId>,
    /// Document id.
    pub id: InstanceId,
    /// Document type.
    pub code: Code,
    /// Title.
    pub title: String,
    /// effectiveTime (raw TS).
    pub effective_time: String,
    /// N/R/V.
    pub confidentiality: Confidentiality,
    /// languageCode.
    pub language: Option<String>,
    /// setId.
    pub set_id: InstanceId,
    /// versionNumber.
    pub version: u32,
    /// The patient.
    pub patient: ParsedPatient,
    /// Authors.
    pub authors: Vec<ParsedPerson>,
    /// Custodian organisation (id, name).
    pub custodian: (Option<InstanceId>, Option<String>),
    /// Legal authenticator.
    pub legal_authenticator: ParsedPerson,
    /// Recipients.
    pub recipients: Vec<ParsedPerson>,
    /// Médecin traitant (participant INF/PCP).
    pub medecin_traitant: Option<ParsedPerson>,
    /// serviceEvent code.
    pub service_event_code: Option<Code>,
    /// serviceEvent effectiveTime low/high.
    pub service_event_time: (Option<String>, Option<String>),
    /// Practice setting (performer's `standardIndustryClassCode`).
    pub practice_setting: Option<Code>,
    /// healthCareFacility code.
    pub facility_type: Option<Code>,
    /// encompassingEncounter code.
    pub encounter_code: Option<Code>,
    /// relatedDocument RPLC parent id.
    pub replaces: Option<InstanceId>,
}

/// What the body is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Body {
    /// Level 1: media type and decoded bytes.
    NonXml {
        /// `text/@mediaType`.
        media_type: String,
        /// Decoded content.
        #[serde(skip)]
        data: Vec<u8>,
    },
    /// Structured body (level 3).
    Structured,
}

/// A parsed document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedDocument {
    /// The header.
    pub header: ParsedHeader,
    /// VSM model when the VSM templateId is present.
    pub vsm_version: Option<VsmVersion>,
    /// The body.
    pub body: Body,
    /// Every selectable item, in document order.
    pub items: Vec<Item>,
    /// The whole received document (nothing lost): its XML verbatim, and the owned tree built
    /// from it on first use (`doc.root.child(..)`, `&*doc.root`).
    #[serde(skip)]
    pub root: SourceTree,
}

/// A received document kept verbatim; dereferences to its owned [`Element`] tree, built (with
/// the same limits, from the same bytes that already parsed) the first time it is needed, so
/// that reading the typed model does not pay for a tree nobody asked for.
#[derive(Clone)]
pub struct SourceTree {
    xml: Arc<str>,
    limits: XmlLimits,
    tree: OnceLock<Element>,
}

impl SourceTree {
    pub(crate) fn new(xml: &str, limits: &XmlLimits) -> Self {
        Self {
            xml: Arc::from(xml),
            limits: *limits,
            tree: OnceLock::new(),
        }
    }

    /// The document's XML as received (a UTF-8 BOM removed).
    pub fn xml(&self) -> &str {
        &self.xml
    }

    /// The owned tree.
    pub fn element(&self) -> &Element {
        self.tree.get_or_init(|| {
            // These bytes parsed under these limits already: the fallback is unreachable.
            segur_net::xml::parse(self.xml.as_bytes(), &self.limits).unwrap_or_else(|_| Element {
                ns: None,
                name: String::new(),
                attributes: Vec::new(),
                children: Vec::new(),
            })
        })
    }
}

impl Deref for SourceTree {
    type Target = Element;
    fn deref(&self) -> &Element {
        self.element()
    }
}

impl PartialEq for SourceTree {
    fn eq(&self, other: &Self) -> bool {
        self.xml == other.xml
    }
}

impl fmt::Debug for SourceTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceTree({} bytes of XML)", self.xml.len())
    }
}

/// All text below an element, whitespace collapsed.
pub(crate) fn deep_text(e: &Element) -> String {
    fn walk(e: &Element, out: &mut String) {
        for n in &e.children {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Element(c) => walk(c, out),
            }
        }
    }
    let mut s = String::new();
    walk(e, &mut s);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Appends `t` to `out` with whitespace collapsed, as if every text run below an element were
/// concatenated and then split on whitespace (`space`: a separator is pending).
pub(crate) fn push_words(t: &str, out: &mut String, space: &mut bool) {
    if t.starts_with(char::is_whitespace) {
        *space = true;
    }
    for (i, w) in t.split_whitespace().enumerate() {
        if (i > 0 || *space) && !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
        *space = false;
    }
    if t.ends_with(char::is_whitespace) {
        *space = true;
    }
}

/// Serialises an element back to XML (used for raw items).
pub fn to_xml(e: &Element) -> String {
    fn w(e: &Element, out: &mut String, ns_decl: bool) {
        out.push('<');
        out.push_str(&e.name);
        if ns_decl {
            out.push_str(
                " xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
            );
        }
        for a in &e.attributes {
            out.push(' ');
            if a.ns.as_deref() == Some(XSI) {
                out.push_str("xsi:");
            } else if a.ns.as_deref() == Some("http://www.w3.org/XML/1998/namespace") {
                out.push_str("xml:");
            }
            out.push_str(&a.name);
            out.push_str("=\"");
            out.push_str(&segur_net::xml::escape(&a.value));
            out.push('"');
        }
        if e.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in &e.children {
            match c {
                Node::Text(t) => out.push_str(&segur_net::xml::escape(t)),
                Node::Element(c) => w(c, out, false),
            }
        }
        out.push_str("</");
        out.push_str(&e.name);
        out.push('>');
    }
    let mut s = String::new();
    w(e, &mut s, true);
    s
}

/// Parses a received CDA document.
pub fn parse(input: &[u8]) -> Result<ParsedDocument> {
    parse_with_limits(input, &cda_limits())
}

/// Parses with explicit limits.
pub fn parse_with_limits(input: &[u8], limits: &XmlLimits) -> Result<ParsedDocument> {
    read::parse(input, limits)
}

impl ParsedDocument {
    /// The items of one block.
    pub fn items_of(&self, kind: ItemKind) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(move |i| i.kind == kind)
    }

    /// Exactly the chosen items, as a [`VsmSummary`] (unknown ids are ignored; raw "autres"
    /// items become text lines with their label).
    pub fn integrate(&self, selection: &[ItemId]) -> VsmSummary {
        let mut s = VsmSummary {
            version: self.vsm_version.unwrap_or_default(),
            ..Default::default()
        };
        for it in self.items.iter().filter(|i| selection.contains(&i.id)) {
            match (&it.content, it.kind) {
                (ItemContent::Problem(p), ItemKind::Pathologie) => s.pathologies.push(p.clone()),
                (ItemContent::Problem(p), _) => s.antecedents_medicaux.push(p.clone()),
                (ItemContent::Procedure(p), _) => s.antecedents_chirurgicaux.push(p.clone()),
                (ItemContent::Allergy(a), _) => s.allergies.push(a.clone()),
                (ItemContent::Family(f), _) => s.antecedents_familiaux.push(f.clone()),
                (ItemContent::Habitus(h), _) => s.habitus.push(h.clone()),
                (ItemContent::Treatment(t), _) => s.traitements.push(t.clone()),
                (ItemContent::Text(t), ItemKind::FacteurRisqueProfessionnel) => {
                    s.facteurs_risque_professionnels.push(t.clone())
                }
                (ItemContent::Text(t), ItemKind::PointDeVigilance) => {
                    s.points_de_vigilance.push(t.clone())
                }
                (ItemContent::Text(t), _) => s.autres.push(t.clone()),
                (ItemContent::Raw(_), _) => s.autres.push(TextItem {
                    id: None,
                    text: it.label.clone(),
                }),
            }
        }
        s
    }

    /// Every item (the "select all" of the integration screen).
    pub fn vsm_summary(&self) -> VsmSummary {
        let all: Vec<ItemId> = self.items.iter().map(|i| i.id.clone()).collect();
        self.integrate(&all)
    }

    /// The effective time as [`CdaTime`].
    pub fn effective_time(&self) -> Option<CdaTime> {
        CdaTime::parse_hl7(&self.header.effective_time)
    }
}

/// What to do with a received document given the one already stored for the same patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum VersionDecision {
    /// A different document (other setId): keep both.
    Unrelated,
    /// The same document id: a duplicate, ignore it.
    Duplicate,
    /// Same setId, higher versionNumber: the received one replaces the stored one.
    Replaces,
    /// Same setId, lower or equal versionNumber: an older version never overwrites a newer one.
    Older,
}

/// Compares a received header with a stored one (same setId + higher versionNumber replaces;
/// an older version never overwrites a newer one; same id = duplicate).
pub fn compare_versions(received: &ParsedHeader, stored: &ParsedHeader) -> VersionDecision {
    if received.id == stored.id {
        VersionDecision::Duplicate
    } else if received.set_id != stored.set_id {
        VersionDecision::Unrelated
    } else if received.version > stored.version {
        VersionDecision::Replaces
    } else {
        VersionDecision::Older
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ANS example (when the reference files are there) and every document of our
    /// conformance set (the VSMs and level 1 documents the crate builds).
    fn corpus() -> Vec<(String, Vec<u8>)> {
        let base = std::env::var("SEGUR_SHARED")
            .unwrap_or_else(|_| format!("{}/../../shared", env!("CARGO_MANIFEST_DIR")));
        let mut out = Vec::new();
        if let Ok(dir) = std::fs::read_dir(format!("{base}/reference/cda/ExemplesCDA")) {
            let mut files: Vec<_> = dir.filter_map(|e| Some(e.ok()?.path())).collect();
            files.sort();
            for f in files
                .into_iter()
                .filter(|f| f.extension().is_some_and(|x| x == "xml"))
            {
                let bytes = std::fs::read(&f).expect("reference file");
                out.push((f.display().to_string(), bytes));
            }
        }
        for (name, xml) in crate::examples::conformance_documents() {
            out.push((name, xml.into_bytes()));
        }
        out
    }

    /// The one-pass reader and the tree path give the same document, or the same error.
    fn check_same(what: &str, bytes: &[u8]) {
        let new = parse(bytes);
        let old = tree::parse_with_limits(bytes, &cda_limits());
        match (&new, &old) {
            (Ok(a), Ok(b)) => {
                if a != b {
                    let (a, b) = (format!("{a:#?}"), format!("{b:#?}"));
                    let at = a.lines().zip(b.lines()).position(|(x, y)| x != y);
                    let line = |s: &str, i: usize| s.lines().nth(i).unwrap_or("").to_owned();
                    let i = at.unwrap_or(0);
                    panic!(
                        "{what}: documents differ at line {i}:\n new: {}\n old: {}",
                        line(&a, i),
                        line(&b, i)
                    );
                }
            }
            (Err(a), Err(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{what}"),
            _ => panic!("{what}: new {new:?}\nold {old:?}"),
        }
    }

    #[test]
    fn one_pass_reader_matches_the_tree_path_on_every_example() {
        let docs = corpus();
        assert!(docs.len() >= 16, "{} documents", docs.len());
        let mut items = 0;
        for (name, bytes) in &docs {
            check_same(name, bytes);
            items += parse(bytes).map(|d| d.items.len()).unwrap_or(0);
        }
        assert!(items > 200, "{items} items");
    }

    /// One element of a document: byte ranges of the whole element and of its start tag's name.
    #[derive(Clone, Copy)]
    struct El {
        start: usize,
        end: usize,
        name: (usize, usize),
        attrs_end: usize,
        parent: Option<usize>,
    }

    fn elements(bytes: &[u8]) -> Vec<El> {
        use quick_xml::events::Event;
        let mut r = quick_xml::Reader::from_reader(bytes);
        let mut out: Vec<El> = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        loop {
            let before = r.buffer_position() as usize;
            let ev = r.read_event().expect("well-formed corpus");
            let after = r.buffer_position() as usize;
            match ev {
                Event::Start(ref s) | Event::Empty(ref s) => {
                    let empty = matches!(ev, Event::Empty(_));
                    let n = s.name().as_ref().len();
                    out.push(El {
                        start: before,
                        end: after,
                        name: (before + 1, before + 1 + n),
                        attrs_end: after - if empty { 2 } else { 1 },
                        parent: open.last().copied(),
                    });
                    if !empty {
                        open.push(out.len() - 1);
                    }
                }
                Event::End(_) => {
                    if let Some(i) = open.pop() {
                        out[i].end = after;
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    /// `xml` with every attribute value (namespace declarations aside) changed, so that
    /// "the first such child" and "the last one" read differently.
    fn alter(xml: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(xml.len() + 64);
        for (i, &b) in xml.iter().enumerate() {
            out.push(b);
            if b == b'"' && i > 0 && xml[i - 1] == b'=' {
                let name_start = xml[..i - 1]
                    .iter()
                    .rposition(|&c| c == b' ' || c == b'\n' || c == b'\t')
                    .map_or(0, |p| p + 1);
                let in_tag = xml[..i].iter().rposition(|&c| c == b'<')
                    > xml[..i].iter().rposition(|&c| c == b'>');
                if in_tag && !xml[name_start..].starts_with(b"xmlns") {
                    out.push(b'Z');
                }
            }
        }
        out
    }

    /// `xml` with a letter added to every text run (the same `ID`s, other text).
    fn other_text(xml: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(xml.len() + 64);
        for (i, &b) in xml.iter().enumerate() {
            out.push(b);
            if b == b'>' && i + 1 < xml.len() {
                out.push(b'Q');
            }
        }
        out
    }

    /// Attributes with every value (namespace declarations aside) emptied.
    fn empty_values(attrs: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(attrs.len());
        let mut i = 0;
        while i < attrs.len() {
            let b = attrs[i];
            out.push(b);
            i += 1;
            if b == b'=' && matches!(attrs.get(i), Some(b'"' | b'\'')) {
                let q = attrs[i];
                let name_start = out[..out.len() - 1]
                    .iter()
                    .rposition(|&c| c == b' ' || c == b'\n' || c == b'\t')
                    .map_or(0, |p| p + 1);
                let end = attrs[i + 1..]
                    .iter()
                    .position(|&c| c == q)
                    .map_or(attrs.len(), |p| i + 1 + p);
                if out[name_start..].starts_with(b"xmlns") {
                    out.extend_from_slice(&attrs[i..=end.min(attrs.len() - 1)]);
                } else {
                    out.extend_from_slice(&[q, q]);
                }
                i = end + 1;
            }
        }
        out
    }

    /// Structural mutations of one element: removed, doubled, moved first or last among its
    /// siblings (templateIds after entries, references before their targets...), attributes
    /// dropped, renamed, emptied.
    fn mutations(bytes: &[u8], els: &[El], i: usize) -> Vec<(&'static str, Vec<u8>)> {
        let e = els[i];
        let cat = |parts: &[&[u8]]| parts.concat();
        let whole = &bytes[e.start..e.end];
        let altered = alter(whole);
        let mut out = vec![
            ("remove", cat(&[&bytes[..e.start], &bytes[e.end..]])),
            ("double", cat(&[&bytes[..e.end], whole, &bytes[e.end..]])),
            (
                "altered copy after",
                cat(&[&bytes[..e.end], &altered, &bytes[e.end..]]),
            ),
            (
                "altered copy before",
                cat(&[&bytes[..e.start], &altered, &bytes[e.start..]]),
            ),
            (
                "copy with other text after",
                cat(&[&bytes[..e.end], &other_text(whole), &bytes[e.end..]]),
            ),
            (
                "values emptied",
                cat(&[
                    &bytes[..e.name.1],
                    &empty_values(&bytes[e.name.1..e.attrs_end]),
                    &bytes[e.attrs_end..],
                ]),
            ),
            (
                "wrapped",
                cat(&[
                    &bytes[..e.start],
                    b"<paragraph>",
                    whole,
                    b"</paragraph>",
                    &bytes[e.end..],
                ]),
            ),
            (
                "no attributes",
                cat(&[&bytes[..e.name.1], &bytes[e.attrs_end..]]),
            ),
            (
                "renamed",
                cat(&[&bytes[..e.name.1], b"x", &bytes[e.name.1..]]),
            ),
        ];
        if let Some(p) = e.parent {
            let p = els[p];
            let siblings: Vec<&El> = els.iter().filter(|s| s.parent == e.parent).collect();
            if let (Some(first), Some(last)) = (siblings.first(), siblings.last()) {
                let (f, l) = (first.start, last.end);
                if e.start != f {
                    out.push((
                        "moved first",
                        cat(&[&bytes[..f], whole, &bytes[f..e.start], &bytes[e.end..]]),
                    ));
                }
                if e.end != l && l <= p.end {
                    out.push((
                        "moved last",
                        cat(&[&bytes[..e.start], &bytes[e.end..l], whole, &bytes[l..]]),
                    ));
                }
            }
        }
        if bytes[e.attrs_end] == b'>' {
            let inner_end = e.end - (e.name.1 - e.name.0) - 3;
            out.push((
                "emptied",
                cat(&[&bytes[..e.attrs_end + 1], &bytes[inner_end..]]),
            ));
        }
        out
    }

    /// The two paths agree on systematically damaged documents: every element of the smaller
    /// documents (a spread of them in the larger ones) removed, doubled, moved, stripped,
    /// renamed, emptied — wrong-order headers, missing parts, templateIds after entries, etc.
    #[test]
    fn one_pass_reader_matches_the_tree_path_on_mutated_documents() {
        let mut checked = 0;
        // Each kind of element (parent name, name) at least once, in the smallest document that
        // has it (documents under 150 kB), and a spread of the others (test time).
        let mut kinds = std::collections::HashSet::new();
        let mut docs = corpus();
        docs.sort_by_key(|(_, b)| b.len());
        for (name, bytes) in docs {
            let els = elements(&bytes);
            let local = |e: &El| {
                let n = &bytes[e.name.0..e.name.1];
                n.rsplit(|&c| c == b':').next().unwrap_or(n).to_vec()
            };
            let stride = els.len() / (600_000 / bytes.len()).clamp(4, 60) + 1;
            let picked: Vec<usize> = (0..els.len())
                .filter(|&i| {
                    let parent = els[i].parent.map(|p| local(&els[p])).unwrap_or_default();
                    (bytes.len() < 150_000 && kinds.insert((parent, local(&els[i]))))
                        || i % stride == 0
                })
                .collect();
            for i in picked {
                for (how, m) in mutations(&bytes, &els, i) {
                    check_same(&format!("{name} element {i} {how}"), &m);
                    checked += 1;
                }
            }
        }
        assert!(checked > 2000, "{checked}");
    }

    #[test]
    fn one_pass_reader_matches_the_tree_path_on_flipped_bytes() {
        let ok = crate::examples::manual_vsm(VsmVersion::V2023)
            .to_xml()
            .unwrap()
            .into_bytes();
        proptest::proptest!(proptest::test_runner::Config::with_cases(400), |(flip in 0usize..ok.len(), byte in 0u8..=255, cut in 0usize..ok.len())| {
            let mut m = ok.clone();
            m[flip] = byte;
            check_same("flipped", &m);
            check_same("cut", &ok[..cut]);
        });
    }

    /// A section whose templateIds come after its entries and narrative is read again with its
    /// final kind (and a reference to narrative further down the document resolves).
    #[test]
    fn late_template_ids_and_forward_references() {
        let xml = crate::examples::manual_vsm(VsmVersion::V2013)
            .to_xml()
            .unwrap();
        let before = parse(xml.as_bytes()).unwrap();
        // Move every section's templateIds to the end of the section.
        let mut moved = xml.clone();
        let mut from = 0;
        while let Some(s) = moved[from..].find("<section>").map(|i| i + from) {
            let end = s + moved[s..].find("</section>").unwrap();
            let body = &moved[s + 9..end];
            let mut tids = String::new();
            let mut rest = String::new();
            let mut depth = 0i32;
            let mut k = 0;
            while k < body.len() {
                let b = &body[k..];
                if depth == 0 && b.starts_with("<templateId ") {
                    let e = b.find("/>").unwrap() + 2;
                    tids.push_str(&b[..e]);
                    k += e;
                    continue;
                }
                if b.starts_with("<section>") {
                    depth += 1;
                } else if b.starts_with("</section>") {
                    depth -= 1;
                }
                let c = b.chars().next().unwrap();
                rest.push(c);
                k += c.len_utf8();
            }
            moved = format!("{}<section>{rest}{tids}{}", &moved[..s], &moved[end..]);
            from = s + 9;
        }
        assert_ne!(moved, xml);
        check_same("late templateIds", moved.as_bytes());
        let after = parse(moved.as_bytes()).unwrap();
        let ids = |d: &ParsedDocument| d.items.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&after), ids(&before));
        assert!(after.items.iter().all(|i| i.kind != ItemKind::Autre));
    }

    /// `Posology::text` goes out as a FR-Instructions-au-patient entry and comes back, the same
    /// through both paths: exactly when set, `None` when not; a reference that resolves to
    /// nothing falls back to the act's own text; only the PCC templateId marks the act; the first
    /// instruction wins; and every damage to the instruction reads the same in both paths.
    #[test]
    fn posology_text_comes_back_from_the_patient_instruction() {
        let posologies = |d: &ParsedDocument| -> Vec<Posology> {
            d.vsm_summary()
                .traitements
                .into_iter()
                .map(|t| t.posology)
                .collect()
        };
        for version in [VsmVersion::V2013, VsmVersion::V2023] {
            let vsm = crate::examples::manual_vsm(version);
            let xml = vsm.to_xml().unwrap();
            check_same("posology", xml.as_bytes());
            let got = posologies(&parse(xml.as_bytes()).unwrap());
            let want: Vec<Posology> = vsm
                .summary
                .traitements
                .iter()
                .map(|t| t.posology.clone())
                .collect();
            assert_eq!(got, want);
            assert_eq!(got[0].text.as_deref(), Some("1 cp/j"));
            assert_eq!(got[1].text, None);
        }
        let xml = crate::examples::manual_vsm(VsmVersion::V2013)
            .to_xml()
            .unwrap();
        let reference = r##"<reference value="#med-1-poso"/>"##;
        assert_eq!(xml.matches(reference).count(), 1);
        let text_of = |doc: &str| {
            check_same("posology variant", doc.as_bytes());
            posologies(&parse(doc.as_bytes()).unwrap())
                .first()
                .and_then(|p| p.text.clone())
        };
        // Unresolvable reference: the act's own text, whitespace collapsed; none: no text.
        let own = xml.replace(
            reference,
            r##"<reference value="#nowhere"/> 2 cp <content>le  soir</content>"##,
        );
        assert_eq!(text_of(&own).as_deref(), Some("2 cp le soir"));
        let inline = xml.replace(reference, "1/2 cp le matin");
        assert_eq!(text_of(&inline).as_deref(), Some("1/2 cp le matin"));
        let dangling = xml.replace(reference, r##"<reference value="#nowhere"/>"##);
        assert_eq!(text_of(&dangling), None);
        // The CCD and CI-SIS templateIds alone do not make an instruction.
        let pcc = r#"<templateId root="1.3.6.1.4.1.19376.1.5.3.1.4.3"/>"#;
        assert_eq!(xml.matches(pcc).count(), 1);
        assert_eq!(text_of(&xml.replace(pcc, "")), None);
        // The PCC templateId after the text still counts (order-insensitive).
        let at = xml.find(pcc).unwrap();
        let stat = at + xml[at..].find("<statusCode").unwrap();
        let late = format!(
            "{}{}{pcc}{}",
            &xml[..at],
            &xml[at + pcc.len()..stat],
            &xml[stat..]
        );
        assert_eq!(text_of(&late).as_deref(), Some("1 cp/j"));
        // First instruction wins (a second one, pointing at the product label, is ignored).
        let er = xml[..at].rfind("<entryRelationship").unwrap();
        let er_end = er + xml[er..].find("</entryRelationship>").unwrap() + 20;
        let second = xml[er..er_end].replace("#med-1-poso", "#med-1-pdt");
        let doubled = format!("{}{second}{}", &xml[..er_end], &xml[er_end..]);
        assert_eq!(text_of(&doubled).as_deref(), Some("1 cp/j"));
        let swapped = format!("{}{second}{}", &xml[..er], &xml[er..]);
        assert_eq!(
            text_of(&swapped).as_deref(),
            Some("PLAVIX 75 mg, comprimé pelliculé")
        );
        // Every element of the instruction and of the narrative cell, damaged every way.
        let bytes = xml.as_bytes();
        let els = elements(bytes);
        let cell = xml.find(r#"ID="med-1-poso""#).unwrap();
        let mut checked = 0;
        for i in 0..els.len() {
            let e = els[i];
            if (e.start >= er && e.end <= er_end) || (e.start < cell && e.end > cell) {
                for (how, m) in mutations(bytes, &els, i) {
                    check_same(&format!("instruction element {i} {how}"), &m);
                    checked += 1;
                }
            }
        }
        assert!(checked > 60, "{checked}");
    }

    /// Rows of a narrative: keys from an `ID` on a cell or inside it (not deeper), `tr` only
    /// with a direct `td`, `item`s, empty rows skipped but counted; "autres" only from a list
    /// directly in the first section's narrative.
    #[test]
    fn narrative_rows_corner_cases() {
        let xml = crate::examples::manual_vsm(VsmVersion::V2013)
            .to_xml()
            .unwrap();
        let vig = xml.find("1.2.250.1.213.1.1.2.150").unwrap();
        let (t0, t1) = (
            vig + xml[vig..].find("<text>").unwrap(),
            vig + xml[vig..].find("</text>").unwrap() + 7,
        );
        let rows = r#"<text><table><tbody>
            <tr><th>head</th></tr>
            <tr><td ID="a">on the cell</td></tr>
            <tr><td><content ID="b">inside the cell</content></td></tr>
            <tr><td><content><content ID="c">too deep</content></content></td></tr>
            <tr><td> </td></tr>
            <tr><paragraph><td>not a direct cell</td></paragraph></tr>
            </tbody></table>
            <list><item>one <content ID="i">item</content></item><item>two</item></list></text>"#;
        let doc = format!("{}{rows}{}", &xml[..t0], &xml[t1..]);
        check_same("rows", doc.as_bytes());
        let d = parse(doc.as_bytes()).unwrap();
        let keys: Vec<&str> = d
            .items_of(ItemKind::PointDeVigilance)
            .map(|i| i.id.0.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "vigilance:a",
                "vigilance:b",
                "vigilance:ligne-3",
                "vigilance:i",
                "vigilance:ligne-6"
            ]
        );
        // "Autres": a list directly in the narrative gives rows, a nested one does not.
        let first = xml.find("<title>Pathologie en cours, antécédents").unwrap();
        let title_end = first + xml[first..].find("</title>").unwrap() + 8;
        for (narrative, n) in [
            ("<text><list><item>autre chose</item></list></text>", 1),
            (
                "<text><paragraph><list><item>autre chose</item></list></paragraph></text>",
                0,
            ),
        ] {
            let doc = format!("{}{narrative}{}", &xml[..title_end], &xml[title_end..]);
            check_same("autres", doc.as_bytes());
            let d = parse(doc.as_bytes()).unwrap();
            assert_eq!(d.items_of(ItemKind::Autre).count(), n, "{narrative}");
        }
    }
}
