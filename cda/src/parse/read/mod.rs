//! The single pass behind [`parse_with_limits`](super::parse_with_limits): the typed model is
//! filled straight from the hardened reader's events (`segur_net::xml::XmlReader`), without
//! building a tree first.
//!
//! How the tree path's semantics are kept in one pass:
//! - "the first child named X": each reader takes the first such child and skips the others;
//!   every fact is collected first and checked once the whole document has been read, in the
//!   order the rules are listed (so an XML error anywhere wins over a missing part, and the
//!   first missing part reported is the same);
//! - narrative references (`text/reference/@value="#id"`) may point anywhere in the structured
//!   body, forward included: the text of every element with an `ID` is recorded while reading
//!   (runs of the input, joined only when a reference asks for them) and labels are resolved
//!   at the end;
//! - a section's kind comes from its templateIds, which the schema puts before its entries; if a
//!   templateId shows up after the entries or narrative it should have governed, the section is
//!   read again from a [`Mark`](segur_net::xml::Mark) with its final kind;
//! - an entry that turns out not to be modelled is re-read from its
//!   [`Mark`](segur_net::xml::Mark) and serialised exactly as the tree path did
//!   ([`ItemContent::Raw`]).
//!
//! Here: the reading context (`Cx`) and the facts collected while reading. The reader's
//! methods, by part: `cursor.rs` (navigation over the pull reader, attributes, small readers),
//! `header.rs` (the document element and the header), `body.rs` (body and sections),
//! `entries.rs` (clinical statements), `finish.rs` (the checks and items once all is read).

use std::borrow::Cow;
use std::collections::HashMap;

use segur_net::xml::{NsId, XmlLimits, XmlReader, XML_NS};

use super::{
    ItemContent, ItemKind, ParsedDocument, ParsedPatient, ParsedPerson, SourceTree, NS, XSI,
};
use crate::codes::Code;
use crate::error::Result;
use crate::header::InstanceId;

mod body;
mod cursor;
mod entries;
mod finish;
mod header;

/// `@value` of the first `reference` child of a `text` / `originalText` element.
type Ref<'a> = Option<Cow<'a, str>>;

/// Parses a received CDA document in one pass (see the module documentation).
pub(super) fn parse(input: &[u8], limits: &XmlLimits) -> Result<ParsedDocument> {
    let mut r = XmlReader::new(input, limits)?;
    let src = r.source();
    if src.len() >= u32::MAX as usize {
        // Same bound as the tree reader (its arena indexes the input with u32).
        return Err(segur_net::NetError::XmlTooLarge {
            size: src.len(),
            limit: u32::MAX as usize - 1,
        }
        .into());
    }
    let hl7 = r.namespace_id(NS);
    let xsi = r.namespace_id(XSI);
    let xml = r.namespace_id(XML_NS);
    let mut cx = Cx {
        r,
        hl7,
        xsi,
        xml,
        n: Nar {
            log: Vec::with_capacity(256),
            captures: 0,
            ids: HashMap::with_capacity(64),
            spans: Vec::with_capacity(64),
            open_ids: Vec::with_capacity(16),
            depth: 0,
            in_body: false,
            replaying: false,
        },
    };
    let doc = cx.document()?;
    let outcome = cx.finish(doc);
    outcome.map(|(header, vsm_version, body, items)| ParsedDocument {
        header,
        vsm_version,
        body,
        items,
        root: SourceTree::new(src, limits),
    })
}

/// The reading context: the reader, the namespaces compared by id, and the narrative record.
struct Cx<'a> {
    r: XmlReader<'a>,
    hl7: NsId,
    xsi: NsId,
    xml: NsId,
    /// The narrative record and the reading position.
    n: Nar<'a>,
}

/// What is recorded while reading: the text of narrative elements (and of the few others whose
/// text a rule needs), and where the reader is.
struct Nar<'a> {
    /// Text runs read while at least one capture is open (`captures > 0`).
    log: Vec<Cow<'a, str>>,
    captures: u32,
    /// Narrative elements of the structured body by `ID` (the last one in document order wins,
    /// as in a map filled in document order): index in `spans`.
    ids: HashMap<Cow<'a, str>, usize>,
    /// `log` range of each element in `ids`.
    spans: Vec<(usize, usize)>,
    /// Open elements with an `ID`: (depth, index in `spans`).
    open_ids: Vec<(u32, usize)>,
    depth: u32,
    /// Inside the structured body (narrative `ID`s are recorded).
    in_body: bool,
    /// Reading a section again: `ID`s were recorded the first time.
    replaying: bool,
}

/// A node as the typed readers see it.
enum Node<'a> {
    Start(NsId, &'a str),
    Text(Cow<'a, str>),
    End,
}

// ---- Facts collected while reading ------------------------------------------------------------

/// The document as read, before the rules are checked.
#[derive(Default)]
struct Doc<'a> {
    wrong_root: Option<(String, String)>,
    h: HeaderFacts,
    component: Option<Component<'a>>,
}

/// The header's parts, first occurrence of each (inner `None`: the part is there but what the
/// rule needs inside it is not).
#[derive(Default)]
struct HeaderFacts {
    template_ids: Vec<InstanceId>,
    id: Option<(Option<String>, Option<String>)>,
    code: Option<Option<Code>>,
    title: Option<String>,
    effective_time: Option<Option<String>>,
    confidentiality: Option<Option<String>>,
    language: Option<Option<String>>,
    set_id: Option<(Option<String>, Option<String>)>,
    version: Option<Option<String>>,
    record_target: Option<Option<PatientRole>>,
    authors: Vec<(Option<ParsedPerson>, Option<String>)>,
    custodian: Option<Option<Option<Org>>>,
    legal: Option<(Option<ParsedPerson>, Option<String>)>,
    recipients: Vec<ParsedPerson>,
    pcp_found: bool,
    medecin_traitant: Option<ParsedPerson>,
    service_event: Option<Option<ServiceEvent>>,
    encounter: Option<Option<Encounter>>,
    rplc_found: bool,
    replaces: Option<Option<InstanceId>>,
}

#[derive(Default)]
struct PatientRole {
    ids: Vec<InstanceId>,
    patient: Option<ParsedPatient>,
}

#[derive(Default)]
struct ServiceEvent {
    code: Option<Code>,
    time: (Option<String>, Option<String>),
    practice: Option<Code>,
}

#[derive(Default)]
struct Encounter {
    code: Option<Code>,
    facility: Option<Code>,
}

#[derive(Default)]
struct Component<'a> {
    /// First `nonXMLBody`: its first `text` (mediaType, decoded content or None if not base64).
    #[allow(clippy::type_complexity)]
    non_xml: Option<Option<(Option<String>, Option<Vec<u8>>)>>,
    /// First `structuredBody`: its sections.
    structured: Option<Vec<SectionOut<'a>>>,
}

/// What a section gave: its own items, then its sub-sections'.
#[derive(Default)]
struct SectionOut<'a> {
    items: Vec<Pending<'a>>,
    subs: Vec<SectionOut<'a>>,
}

/// What a section is, from its templateIds (the tree path's order of tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Problems(ItemKind),
    Procedures,
    Allergies,
    Habitus,
    Family,
    Treatments,
    Rows(ItemKind),
    /// Our "Autres" list, in the narrative of the first section (rows when it holds a list).
    AutresList,
    /// The PDF copy: nothing to integrate.
    Ignored,
    /// Any other section: its entries are kept raw.
    Unknown,
}

/// The section templateIds that decide a section's kind, in the order they are tested.
const SECTION_TEMPLATES: [&str; 12] = [
    "1.2.250.1.213.1.1.2.132",
    "1.2.250.1.213.1.1.2.134",
    "1.2.250.1.213.1.1.2.136",
    "1.2.250.1.213.1.1.2.137",
    "1.2.250.1.213.1.1.2.141",
    "1.2.250.1.213.1.1.2.139",
    "1.2.250.1.213.1.1.2.143",
    "1.2.250.1.213.1.1.2.74",
    "1.2.250.1.213.1.1.2.150",
    "1.3.6.1.4.1.19376.1.5.3.1.3.27",
    "1.2.250.1.213.1.1.2.29",
    "1.2.250.1.213.1.1.2.243",
];

/// The set of [`SECTION_TEMPLATES`] a section has (bit i: the i-th).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Templates(u16);

impl Templates {
    fn add(&mut self, root: &str) {
        if let Some(i) = SECTION_TEMPLATES.iter().position(|t| *t == root) {
            self.0 |= 1 << i;
        }
    }
}

impl Class {
    /// The tree path's order of tests.
    fn of(t: Templates) -> Self {
        let has = |i: u16| t.0 & (1 << i) != 0;
        if has(0) {
            Class::Problems(ItemKind::Pathologie)
        } else if has(1) {
            Class::Problems(ItemKind::AntecedentMedical)
        } else if has(2) {
            Class::Procedures
        } else if has(3) {
            Class::Allergies
        } else if has(4) {
            Class::Habitus
        } else if has(5) {
            Class::Family
        } else if has(6) {
            Class::Treatments
        } else if has(7) {
            Class::Rows(ItemKind::FacteurRisqueProfessionnel)
        } else if has(8) || has(9) {
            Class::Rows(ItemKind::PointDeVigilance)
        } else if has(10) {
            Class::AutresList
        } else if has(11) {
            Class::Ignored
        } else {
            Class::Unknown
        }
    }

    fn has_rows(self) -> bool {
        matches!(self, Class::Rows(_) | Class::AutresList)
    }
}

/// An organisation: first `id` and first `name`.
type Org = (Option<InstanceId>, Option<String>);

/// A row of a narrative: its text range in the log and its key (an `ID`).
type Row<'a> = ((usize, usize), Option<Cow<'a, str>>);

/// The rows of a section's narrative.
#[derive(Default)]
struct Rows<'a> {
    /// Text range and key of each row.
    rows: Vec<Row<'a>>,
    /// The narrative has a `list` child.
    has_list: bool,
}

/// An item before its label is resolved and its id made unique.
struct Pending<'a> {
    kind: ItemKind,
    key: String,
    code: Option<Code>,
    content: ItemContent,
    label: Label<'a>,
    extra: Extra<'a>,
}

/// How an item's label is found once the whole narrative is known.
enum Label<'a> {
    Known(String),
    /// `text/reference` of the statement, else `originalText/reference` of the coded element,
    /// else its `@displayName`.
    Spec {
        text: Ref<'a>,
        orig: Ref<'a>,
        display: Option<Cow<'a, str>>,
    },
    /// An allergy's agent: its display name, else its `originalText`, else its `name`.
    Agent {
        orig: Ref<'a>,
        display: Option<Cow<'a, str>>,
        name: Option<String>,
    },
}

/// Other narrative-dependent fields.
enum Extra<'a> {
    None,
    /// An allergy's reaction label (`value/originalText`).
    Reaction(Ref<'a>),
    /// A habitus free-text value (`value/originalText`, else the value's own text) and the
    /// value's label.
    Habitus {
        text_value: Option<(Ref<'a>, (usize, usize))>,
        value_label: Ref<'a>,
    },
    /// A treatment's patient instruction (`Posology::text`): the `text` of the act.
    Instruction(TextRef<'a>),
}

/// A `text` element: its first `reference/@value` and the `log` range of its own text.
type TextRef<'a> = (Ref<'a>, (usize, usize));

/// An `act` under a treatment's `entryRelationship` (reason or patient instruction).
struct TreatmentAct<'a> {
    code: Option<CodeRef<'a>>,
    /// Has the PCC patient-instructions templateId.
    instruction: bool,
    /// The first `text` child.
    text: Option<TextRef<'a>>,
}

/// `code_of` as slices of the input (an owned [`Code`] only for what goes in the model).
#[derive(Clone)]
struct CodeRef<'a> {
    code: Cow<'a, str>,
    system: Option<Cow<'a, str>>,
    display: Option<Cow<'a, str>>,
    system_name: Option<Cow<'a, str>>,
}

impl CodeRef<'_> {
    fn to_code(&self) -> Code {
        Code {
            code: self.code.as_ref().to_owned(),
            system: self.system.as_deref().unwrap_or_default().to_owned(),
            display: self.display.as_deref().unwrap_or_default().to_owned(),
            system_name: self.system_name.as_deref().map(str::to_owned),
        }
    }

    fn owned(self) -> Code {
        Code {
            code: self.code.into_owned(),
            system: self.system.map(Cow::into_owned).unwrap_or_default(),
            display: self.display.map(Cow::into_owned).unwrap_or_default(),
            system_name: self.system_name.map(Cow::into_owned),
        }
    }
}

/// An instance identifier as slices of the input.
struct IdRef<'a> {
    root: Cow<'a, str>,
    extension: Option<Cow<'a, str>>,
}

impl IdRef<'_> {
    /// `entry_id` of the tree path: `root^extension` (`InstanceId::to_xds`).
    fn xds(&self) -> String {
        match &self.extension {
            Some(e) => format!("{}^{e}", self.root),
            None => self.root.as_ref().to_owned(),
        }
    }
}

/// A coded element.
#[derive(Default, Clone)]
struct Coded<'a> {
    code: Option<CodeRef<'a>>,
    display: Option<Cow<'a, str>>,
    orig: Ref<'a>,
    translation: Option<CodeRef<'a>>,
}

/// The first `id`, `code` and `text` of a clinical statement.
#[derive(Default)]
struct Statement<'a> {
    /// The first `id` (`entry_id`: its `root^extension`).
    id: Option<IdRef<'a>>,
    code: Option<Coded<'a>>,
    text: Ref<'a>,
}

impl<'a> Statement<'a> {
    /// `label(e, coded)` of the tree path.
    fn label_with(&self, coded: Option<&Coded<'a>>) -> Label<'a> {
        Label::Spec {
            text: self.text.clone(),
            orig: coded.and_then(|c| c.orig.clone()),
            display: coded.and_then(|c| c.display.clone()),
        }
    }
}

struct Obs<'a> {
    s: Statement<'a>,
    value: Option<Value<'a>>,
    time: Option<Ivl<'a>>,
    /// Has the FR-Statut-du-probleme templateId.
    status_template: bool,
    /// Has the ALD templateId (FR-Traitement: en rapport avec une ALD).
    ald_template: bool,
    agent: Option<Option<Agent<'a>>>,
    /// `@code` of the value of the first nested observation that is a status.
    status: Option<Cow<'a, str>>,
}

/// templateId of a clinical status observation (FR-Statut-du-probleme).
const STATUS_TEMPLATE: &str = "1.2.250.1.213.1.1.3.30";
/// templateId of the "en rapport avec une ALD" observation of a treatment.
const ALD_TEMPLATE: &str = "1.2.250.1.213.1.1.3.48.13";

impl<'a> Obs<'a> {
    fn label_with(&self, coded: Option<&Coded<'a>>) -> Label<'a> {
        self.s.label_with(coded)
    }
}

struct Value<'a> {
    coded: Coded<'a>,
    xsi_type: Option<Cow<'a, str>>,
    has_code: bool,
    value: Option<Cow<'a, str>>,
    unit: Option<Cow<'a, str>>,
    text: (usize, usize),
}

/// A coded thing with its name: an allergy agent (`playingEntity`) or a medicine
/// (`manufacturedMaterial`).
#[derive(Default)]
struct CodedName<'a> {
    code: Option<Coded<'a>>,
    name: Option<String>,
}

type Agent<'a> = CodedName<'a>;
type Material<'a> = CodedName<'a>;

struct Dose<'a> {
    value: Option<Cow<'a, str>>,
    unit: Option<Cow<'a, str>>,
    #[allow(clippy::type_complexity)]
    low: Option<(Option<Cow<'a, str>>, Option<Cow<'a, str>>)>,
}

/// An interval (`IVL_TS`, `PIVL_TS`).
#[derive(Default)]
struct Ivl<'a> {
    value: Option<Cow<'a, str>>,
    low: Option<Cow<'a, str>>,
    high: Option<Cow<'a, str>>,
    has_low_high: bool,
    #[allow(clippy::type_complexity)]
    period: Option<(Option<Cow<'a, str>>, Option<Cow<'a, str>>)>,
}
