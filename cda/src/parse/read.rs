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
//!   read again from a [`Mark`] with its final kind;
//! - an entry that turns out not to be modelled is re-read from its [`Mark`] and serialised
//!   exactly as the tree path did ([`ItemContent::Raw`]).

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine;
use chrono::NaiveDate;
use segur_net::xml::{Attributes, Mark, NsId, Visitor, XmlEvent, XmlLimits, XmlReader, XML_NS};

use super::{
    push_words, Body, Item, ItemContent, ItemId, ItemKind, ParsedDocument, ParsedHeader,
    ParsedPatient, ParsedPerson, SourceTree, NS, XSI,
};
use crate::codes::{Code, Confidentiality};
use crate::error::{CdaError, Result};
use crate::header::{InstanceId, PersonName};
use crate::vsm::*;

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

impl<'a> Nar<'a> {
    /// Records an element with an `ID` that just started (narrative target).
    fn record(&mut self, id: Cow<'a, str>) {
        let slot = self.spans.len();
        self.spans.push((self.log.len(), self.log.len()));
        self.ids.insert(id, slot);
        self.open_ids.push((self.depth, slot));
        self.captures += 1;
    }

    /// An element ends.
    #[inline(always)]
    fn end(&mut self) {
        if let Some(&(d, slot)) = self.open_ids.last().filter(|_| !self.replaying) {
            if d == self.depth {
                self.open_ids.pop();
                if let Some(s) = self.spans.get_mut(slot) {
                    s.1 = self.log.len();
                }
                self.captures -= 1;
            }
        }
        self.depth -= 1;
    }
}

/// Skipping: nothing to read, but the narrative is recorded as usual.
impl<'a> Visitor<'a> for Nar<'a> {
    #[inline(always)]
    fn wants_text(&self) -> bool {
        self.captures > 0
    }

    #[inline(always)]
    fn start(&mut self, _: NsId, _: &'a str, attributes: Attributes<'_, 'a>) {
        self.depth += 1;
        if self.in_body && !self.replaying {
            if let Some(id) = attributes.get("ID") {
                self.record(id);
            }
        }
    }

    #[inline(always)]
    fn text(&mut self, text: Cow<'a, str>) {
        self.log.push(text);
    }

    #[inline(always)]
    fn end(&mut self) {
        Nar::end(self);
    }
}

/// A node as the typed readers see it.
enum Node<'a> {
    Start(NsId, &'a str),
    Text(Cow<'a, str>),
    End,
}

impl<'a> Cx<'a> {
    // ---- Reading primitives ------------------------------------------------------------------

    /// The next node inside the current element (`End`: the current element is closed).
    #[inline]
    fn node(&mut self) -> Result<Node<'a>> {
        self.next(true)
    }

    /// The next node; text only if `text` or while text is being recorded.
    #[inline(always)]
    fn next(&mut self, text: bool) -> Result<Node<'a>> {
        let event = if text || self.n.captures > 0 {
            self.r.read_event()
        } else {
            self.r.read_markup()
        };
        match event? {
            XmlEvent::Start { ns, name } => {
                self.n.depth += 1;
                if self.n.in_body && !self.n.replaying {
                    self.record_id();
                }
                Ok(Node::Start(ns, name))
            }
            XmlEvent::Text(t) => {
                if self.n.captures > 0 {
                    self.n.log.push(t.clone());
                }
                Ok(Node::Text(t))
            }
            XmlEvent::End => {
                self.n.end();
                Ok(Node::End)
            }
            // The reader reports a truncated document as an error before Eof.
            XmlEvent::Eof => Ok(Node::End),
        }
    }

    /// Records the element just started if it has an `ID` (narrative target).
    fn record_id(&mut self) {
        if let Some(id) = self.r.attr("ID") {
            self.n.record(id);
        }
    }

    /// The next child element of the current element (text skipped), None at its end.
    #[inline]
    fn child(&mut self) -> Result<Option<(bool, &'a str)>> {
        loop {
            match self.next(false)? {
                Node::Start(ns, name) => return Ok(Some((ns == self.hl7, name))),
                Node::Text(_) => {}
                Node::End => return Ok(None),
            }
        }
    }

    /// Reads to the end of the current element.
    fn skip(&mut self) -> Result<()> {
        // Pushed from inside the tokenizer loop: the narrative is still recorded.
        Ok(self.r.read_to_end_with(&mut self.n)?)
    }

    /// The direct text of the current element, trimmed (child elements skipped); reads to its
    /// end.
    fn direct_text(&mut self) -> Result<String> {
        let mut one: Option<Cow<'a, str>> = None;
        let mut more = String::new();
        loop {
            match self.node()? {
                Node::Start(..) => self.skip()?,
                Node::Text(t) => match &one {
                    None => one = Some(t),
                    Some(first) => {
                        if more.is_empty() {
                            more.push_str(first);
                        }
                        more.push_str(&t);
                    }
                },
                Node::End => break,
            }
        }
        Ok(if more.is_empty() {
            one.as_deref().unwrap_or("").trim().to_owned()
        } else {
            more.trim().to_owned()
        })
    }

    /// All text below the current element, whitespace collapsed; reads to its end.
    fn deep_text(&mut self) -> Result<String> {
        let mut out = String::new();
        let mut space = false;
        let mut depth = 0u32;
        loop {
            match self.node()? {
                Node::Start(..) => depth += 1,
                Node::Text(t) => push_words(&t, &mut out, &mut space),
                Node::End if depth == 0 => return Ok(out),
                Node::End => depth -= 1,
            }
        }
    }

    fn collapse(&self, (start, end): (usize, usize)) -> String {
        let mut out = String::new();
        let mut space = false;
        for t in self.n.log.get(start..end).unwrap_or_default() {
            push_words(t, &mut out, &mut space);
        }
        out
    }

    /// The text of the narrative element a reference points to (`#id`), if not empty.
    fn resolve(&self, r: &Ref<'a>) -> Option<String> {
        let id = r.as_deref()?.strip_prefix('#')?;
        let span = *self.n.spans.get(*self.n.ids.get(id)?)?;
        Some(self.collapse(span)).filter(|s| !s.is_empty())
    }

    // ---- Attributes of the start tag just read ------------------------------------------------

    fn attr(&self, name: &str) -> Option<Cow<'a, str>> {
        self.r.attr(name)
    }

    fn owned(&self, name: &str) -> Option<String> {
        self.r.attr(name).map(Cow::into_owned)
    }

    fn is_attr(&self, name: &str, value: &str) -> bool {
        self.r.attr(name).as_deref() == Some(value)
    }

    /// `code_of`: a [`Code`] from `@code` (required), `@codeSystem`, `@displayName`,
    /// `@codeSystemName`.
    fn code_here(&self) -> Option<Code> {
        Some(Code {
            code: self.owned("code")?,
            system: self.owned("codeSystem").unwrap_or_default(),
            display: self.owned("displayName").unwrap_or_default(),
            system_name: self.owned("codeSystemName"),
        })
    }

    /// `code_of` without copying: the attributes as slices of the input.
    fn code_ref(&self) -> Option<CodeRef<'a>> {
        Some(CodeRef {
            code: self.attr("code")?,
            system: self.attr("codeSystem"),
            display: self.attr("displayName"),
            system_name: self.attr("codeSystemName"),
        })
    }

    /// Current element: `code_ref`, then skipped.
    fn code_ref_skip(&mut self) -> Result<Option<CodeRef<'a>>> {
        let c = self.code_ref();
        self.skip()?;
        Ok(c)
    }

    /// An [`InstanceId`] from `@root` (required) and `@extension`.
    fn ii_here(&self) -> Option<InstanceId> {
        Some(InstanceId {
            root: self.owned("root")?,
            extension: self.owned("extension"),
        })
    }

    // ---- Small reusable readers ----------------------------------------------------------------

    /// Current element: a coded element whose code is read, then skipped.
    fn code_skip(&mut self) -> Result<Option<Code>> {
        let c = self.code_here();
        self.skip()?;
        Ok(c)
    }

    /// Current element: an instance id, then skipped.
    fn ii_skip(&mut self) -> Result<Option<InstanceId>> {
        let i = self.ii_here();
        self.skip()?;
        Ok(i)
    }

    /// Current element: one attribute, then skipped.
    fn attr_skip(&mut self, name: &str) -> Result<Option<String>> {
        let v = self.owned(name);
        self.skip()?;
        Ok(v)
    }

    /// Current element (`text`, `originalText`): `@value` of its first `reference` child.
    fn reference(&mut self) -> Result<Ref<'a>> {
        let mut found: Option<Ref<'a>> = None;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == "reference" && found.is_none() {
                found = Some(self.attr("value"));
            }
            self.skip()?;
        }
        Ok(found.flatten())
    }

    /// Current element: `@value` of its first child `name` (e.g. `low`), `None` without one.
    fn child_attr(&mut self, name: &str, attr: &str) -> Result<Option<String>> {
        let mut found: Option<Option<String>> = None;
        while let Some((hl7, n)) = self.child()? {
            if hl7 && n == name && found.is_none() {
                found = Some(self.owned(attr));
            }
            self.skip()?;
        }
        Ok(found.flatten())
    }

    /// Current element: a coded element (code, displayName, originalText reference,
    /// first translation).
    fn coded(&mut self) -> Result<Coded<'a>> {
        let mut c = Coded {
            code: self.code_ref(),
            display: self.attr("displayName"),
            ..Coded::default()
        };
        let (mut orig, mut tr) = (false, false);
        while let Some((hl7, name)) = self.child()? {
            match (hl7, name) {
                (true, "originalText") if !orig => {
                    orig = true;
                    c.orig = self.reference()?;
                }
                (true, "translation") if !tr => {
                    tr = true;
                    c.translation = self.code_ref_skip()?;
                }
                _ => self.skip()?,
            }
        }
        Ok(c)
    }

    /// Current element: an interval (`@value`, or `low` / `high`, and `period`).
    fn ivl(&mut self) -> Result<Ivl<'a>> {
        let mut i = Ivl {
            value: self.attr("value"),
            ..Ivl::default()
        };
        let (mut low, mut high) = (false, false);
        while let Some((hl7, name)) = self.child()? {
            match (hl7, name) {
                (true, "low") if !low => {
                    low = true;
                    i.has_low_high = true;
                    i.low = self.attr("value");
                    self.skip()?;
                }
                (true, "high") if !high => {
                    high = true;
                    i.has_low_high = true;
                    i.high = self.attr("value");
                    self.skip()?;
                }
                (true, "period") if i.period.is_none() => {
                    i.period = Some((self.attr("value"), self.attr("unit")));
                    self.skip()?;
                }
                _ => self.skip()?,
            }
        }
        Ok(i)
    }

    /// The common part of a clinical statement: first `id`, `code`, `text` (what a raw item
    /// needs), then `more` for every other child.
    fn statement(
        &mut self,
        mut more: impl FnMut(&mut Self, bool, &'a str) -> Result<bool>,
    ) -> Result<Statement<'a>> {
        let mut s = Statement::default();
        let (mut id, mut code, mut text) = (false, false, false);
        while let Some((hl7, name)) = self.child()? {
            match (hl7, name) {
                (true, "id") if !id => {
                    id = true;
                    s.id = self.attr("root").map(|root| IdRef {
                        root,
                        extension: self.attr("extension"),
                    });
                    self.skip()?;
                }
                (true, "code") if !code => {
                    code = true;
                    s.code = Some(self.coded()?);
                }
                (true, "text") if !text => {
                    text = true;
                    s.text = self.reference()?;
                }
                _ => {
                    if !more(self, hl7, name)? {
                        self.skip()?;
                    }
                }
            }
        }
        Ok(s)
    }

    // ---- The document --------------------------------------------------------------------------

    /// Reads the whole document: the header facts and the body.
    fn document(&mut self) -> Result<Doc<'a>> {
        let mut d = Doc::default();
        loop {
            match self.node()? {
                Node::Start(ns, name) => {
                    if ns == self.hl7 && name == "ClinicalDocument" {
                        self.header(&mut d)?;
                    } else {
                        let uri = self.r.namespace_uri(ns).unwrap_or("").to_owned();
                        d.wrong_root = Some((uri, name.to_owned()));
                        // Still read to the end: an XML error anywhere wins.
                        self.skip()?;
                    }
                    break;
                }
                Node::Text(_) => {}
                // Unreachable: the reader refuses a document without a root element.
                Node::End => break,
            }
        }
        // Whatever follows the root must still be well-formed (comments, whitespace).
        while !matches!(self.r.read_event()?, XmlEvent::Eof) {}
        Ok(d)
    }

    fn header(&mut self, d: &mut Doc<'a>) -> Result<()> {
        let h = &mut d.h;
        while let Some((hl7, name)) = self.child()? {
            if !hl7 {
                self.skip()?;
                continue;
            }
            match name {
                "templateId" => {
                    if let Some(t) = self.ii_skip()? {
                        h.template_ids.push(t);
                    }
                }
                "id" if h.id.is_none() => {
                    h.id = Some((self.owned("root"), self.owned("extension")));
                    self.skip()?;
                }
                "code" if h.code.is_none() => h.code = Some(self.code_skip()?),
                "title" if h.title.is_none() => h.title = Some(self.deep_text()?),
                "effectiveTime" if h.effective_time.is_none() => {
                    h.effective_time = Some(self.attr_skip("value")?)
                }
                "confidentialityCode" if h.confidentiality.is_none() => {
                    h.confidentiality = Some(self.attr_skip("code")?)
                }
                "languageCode" if h.language.is_none() => {
                    h.language = Some(self.attr_skip("code")?)
                }
                "setId" if h.set_id.is_none() => {
                    h.set_id = Some((self.owned("root"), self.owned("extension")));
                    self.skip()?;
                }
                "versionNumber" if h.version.is_none() => {
                    h.version = Some(self.attr_skip("value")?)
                }
                "recordTarget" if h.record_target.is_none() => {
                    h.record_target = Some(self.record_target()?)
                }
                "author" => {
                    let mut aa = None;
                    let mut time = None;
                    while let Some((hl7, name)) = self.child()? {
                        match (hl7, name) {
                            (true, "assignedAuthor") if aa.is_none() => {
                                aa = Some(self.person("assignedPerson", "representedOrganization")?)
                            }
                            (true, "time") if time.is_none() => {
                                time = Some(self.attr_skip("value")?)
                            }
                            _ => self.skip()?,
                        }
                    }
                    h.authors.push((aa, time.flatten()));
                }
                "custodian" if h.custodian.is_none() => {
                    let mut ac = None;
                    while let Some((hl7, name)) = self.child()? {
                        if hl7 && name == "assignedCustodian" && ac.is_none() {
                            let mut org = None;
                            while let Some((hl7, name)) = self.child()? {
                                if hl7
                                    && name == "representedCustodianOrganization"
                                    && org.is_none()
                                {
                                    org = Some(self.organization()?);
                                } else {
                                    self.skip()?;
                                }
                            }
                            ac = Some(org);
                        } else {
                            self.skip()?;
                        }
                    }
                    h.custodian = Some(ac);
                }
                "legalAuthenticator" if h.legal.is_none() => {
                    let mut ae = None;
                    let mut time = None;
                    while let Some((hl7, name)) = self.child()? {
                        match (hl7, name) {
                            (true, "assignedEntity") if ae.is_none() => {
                                ae = Some(self.person("assignedPerson", "representedOrganization")?)
                            }
                            (true, "time") if time.is_none() => {
                                time = Some(self.attr_skip("value")?)
                            }
                            _ => self.skip()?,
                        }
                    }
                    h.legal = Some((ae, time.flatten()));
                }
                "informationRecipient" => {
                    let mut ir = None;
                    while let Some((hl7, name)) = self.child()? {
                        if hl7 && name == "intendedRecipient" && ir.is_none() {
                            ir = Some(self.person("informationRecipient", "receivedOrganization")?);
                        } else {
                            self.skip()?;
                        }
                    }
                    h.recipients.extend(ir);
                }
                "participant" => {
                    let inf = self.is_attr("typeCode", "INF");
                    let (mut fc, mut ae, mut time) = (None, None, None);
                    while let Some((hl7, name)) = self.child()? {
                        match (hl7, name) {
                            (true, "functionCode") if fc.is_none() => {
                                fc = Some(self.attr_skip("code")?)
                            }
                            (true, "associatedEntity") if ae.is_none() => {
                                ae = Some(self.person("associatedPerson", "scopingOrganization")?)
                            }
                            (true, "time") if time.is_none() => {
                                time = Some(self.child_attr("low", "value")?)
                            }
                            _ => self.skip()?,
                        }
                    }
                    if inf && fc.flatten().as_deref() == Some("PCP") && !h.pcp_found {
                        h.pcp_found = true;
                        h.medecin_traitant = ae.map(|mut p| {
                            p.time = time.flatten();
                            p
                        });
                    }
                }
                "documentationOf" if h.service_event.is_none() => {
                    let mut se = None;
                    while let Some((hl7, name)) = self.child()? {
                        if hl7 && name == "serviceEvent" && se.is_none() {
                            se = Some(self.service_event()?);
                        } else {
                            self.skip()?;
                        }
                    }
                    h.service_event = Some(se);
                }
                "componentOf" if h.encounter.is_none() => {
                    let mut enc = None;
                    while let Some((hl7, name)) = self.child()? {
                        if hl7 && name == "encompassingEncounter" && enc.is_none() {
                            enc = Some(self.encounter()?);
                        } else {
                            self.skip()?;
                        }
                    }
                    h.encounter = Some(enc);
                }
                "relatedDocument" if !h.rplc_found && self.is_attr("typeCode", "RPLC") => {
                    h.rplc_found = true;
                    while let Some((hl7, name)) = self.child()? {
                        if hl7 && name == "parentDocument" && h.replaces.is_none() {
                            h.replaces = Some(self.first_ii()?);
                        } else {
                            self.skip()?;
                        }
                    }
                }
                "component" if d.component.is_none() => d.component = Some(self.component()?),
                _ => self.skip()?,
            }
        }
        Ok(())
    }

    /// Current element: `ii_opt` of its first `id` child.
    fn first_ii(&mut self) -> Result<Option<InstanceId>> {
        let mut id = None;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == "id" && id.is_none() {
                id = Some(self.ii_skip()?);
            } else {
                self.skip()?;
            }
        }
        Ok(id.flatten())
    }

    /// Current element (an organisation): first `id` and first `name`.
    fn organization(&mut self) -> Result<Org> {
        let (mut id, mut name) = (None, None);
        while let Some((hl7, n)) = self.child()? {
            match (hl7, n) {
                (true, "id") if id.is_none() => id = Some(self.ii_skip()?),
                (true, "name") if name.is_none() => name = Some(self.direct_text()?),
                _ => self.skip()?,
            }
        }
        Ok((id.flatten(), name))
    }

    /// Current element (a role): `person` of the tree path.
    fn person(&mut self, person_name: &str, org_name: &str) -> Result<ParsedPerson> {
        let mut p = ParsedPerson::default();
        let (mut id, mut pn, mut code) = (false, false, false);
        while let Some((hl7, name)) = self.child()? {
            if !hl7 {
                self.skip()?;
            } else if name == "id" && !id {
                id = true;
                p.id = self.ii_skip()?;
            } else if name == person_name && !pn {
                pn = true;
                let mut first = true;
                while let Some((hl7, n)) = self.child()? {
                    if hl7 && n == "name" && first {
                        first = false;
                        p.name = Some(self.person_name()?);
                    } else {
                        self.skip()?;
                    }
                }
            } else if name == "code" && !code {
                code = true;
                p.code = self.code_skip()?;
            } else if name == org_name && p.organization.is_none() {
                p.organization = Some(self.organization()?);
            } else {
                self.skip()?;
            }
        }
        Ok(p)
    }

    /// Current element: a `name` (prefix, given, family, suffix; first of each).
    fn person_name(&mut self) -> Result<PersonName> {
        let (mut prefix, mut given, mut family, mut suffix) = (None, None, None, None);
        while let Some((hl7, n)) = self.child()? {
            let slot = match (hl7, n) {
                (true, "prefix") => &mut prefix,
                (true, "given") => &mut given,
                (true, "family") => &mut family,
                (true, "suffix") => &mut suffix,
                _ => {
                    self.skip()?;
                    continue;
                }
            };
            if slot.is_none() {
                *slot = Some(self.direct_text()?);
            } else {
                self.skip()?;
            }
        }
        Ok(PersonName {
            prefix,
            given,
            family: family.unwrap_or_default(),
            suffix,
        })
    }

    fn record_target(&mut self) -> Result<Option<PatientRole>> {
        let mut pr = None;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == "patientRole" && pr.is_none() {
                let mut role = PatientRole::default();
                while let Some((hl7, name)) = self.child()? {
                    match (hl7, name) {
                        (true, "id") => role.ids.extend(self.ii_skip()?),
                        (true, "patient") if role.patient.is_none() => {
                            role.patient = Some(self.patient()?)
                        }
                        _ => self.skip()?,
                    }
                }
                pr = Some(role);
            } else {
                self.skip()?;
            }
        }
        Ok(pr)
    }

    fn patient(&mut self) -> Result<ParsedPatient> {
        let mut p = ParsedPatient::default();
        let (mut name, mut sexe, mut birth, mut place) = (false, false, false, false);
        while let Some((hl7, n)) = self.child()? {
            match (hl7, n) {
                (true, "name") if !name => {
                    name = true;
                    while let Some((_, part)) = self.child()? {
                        let q = self.attr("qualifier");
                        let slot = match (part, q.as_deref()) {
                            ("family", Some("BR")) => &mut p.nom_naissance,
                            ("family", Some("CL")) => &mut p.nom_utilise,
                            ("family", None) if p.nom_naissance.is_none() => &mut p.nom_naissance,
                            ("given", Some("BR")) => &mut p.premier_prenom,
                            ("given", Some("CL")) => &mut p.prenom_utilise,
                            ("given", None) => &mut p.prenoms,
                            _ => {
                                self.skip()?;
                                continue;
                            }
                        };
                        *slot = Some(self.deep_text()?);
                    }
                }
                (true, "administrativeGenderCode") if !sexe => {
                    sexe = true;
                    p.sexe = self.attr_skip("code")?;
                }
                (true, "birthTime") if !birth => {
                    birth = true;
                    p.birth_time = self.attr_skip("value")?;
                }
                (true, "birthplace") if !place => {
                    place = true;
                    p.birth_cog = self.path_text(&["place", "addr", "county"])?;
                }
                _ => self.skip()?,
            }
        }
        Ok(p)
    }

    /// Current element: `child_text` at the end of a path of first children.
    fn path_text(&mut self, path: &[&str]) -> Result<Option<String>> {
        let Some((first, rest)) = path.split_first() else {
            return self.direct_text().map(Some);
        };
        let mut out = None;
        let mut seen = false;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == *first && !seen {
                seen = true;
                out = self.path_text(rest)?;
            } else {
                self.skip()?;
            }
        }
        Ok(out)
    }

    /// Current element: a `code` at the end of a path of first children (`child_code`).
    fn path_code(&mut self, path: &[&str]) -> Result<Option<CodeRef<'a>>> {
        let Some((first, rest)) = path.split_first() else {
            return self.code_ref_skip();
        };
        let mut out = None;
        let mut seen = false;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == *first && !seen {
                seen = true;
                out = self.path_code(rest)?;
            } else {
                self.skip()?;
            }
        }
        Ok(out)
    }

    fn service_event(&mut self) -> Result<ServiceEvent> {
        let mut se = ServiceEvent::default();
        let (mut code, mut time, mut perf) = (false, false, false);
        while let Some((hl7, name)) = self.child()? {
            match (hl7, name) {
                (true, "code") if !code => {
                    code = true;
                    se.code = self.code_skip()?;
                }
                (true, "effectiveTime") if !time => {
                    time = true;
                    let i = self.ivl()?;
                    se.time = (i.low.map(Cow::into_owned), i.high.map(Cow::into_owned));
                }
                (true, "performer") if !perf => {
                    perf = true;
                    se.practice = self
                        .path_code(&[
                            "assignedEntity",
                            "representedOrganization",
                            "standardIndustryClassCode",
                        ])?
                        .map(CodeRef::owned);
                }
                _ => self.skip()?,
            }
        }
        Ok(se)
    }

    fn encounter(&mut self) -> Result<Encounter> {
        let mut e = Encounter::default();
        let (mut code, mut loc) = (false, false);
        while let Some((hl7, name)) = self.child()? {
            match (hl7, name) {
                (true, "code") if !code => {
                    code = true;
                    e.code = self.code_skip()?;
                }
                (true, "location") if !loc => {
                    loc = true;
                    e.facility = self
                        .path_code(&["healthCareFacility", "code"])?
                        .map(CodeRef::owned);
                }
                _ => self.skip()?,
            }
        }
        Ok(e)
    }

    // ---- The body ------------------------------------------------------------------------------

    /// The first `component` of the document: its first `nonXMLBody` and `structuredBody`.
    fn component(&mut self) -> Result<Component<'a>> {
        let mut c = Component::default();
        while let Some((hl7, name)) = self.child()? {
            match (hl7, name) {
                (true, "nonXMLBody") if c.non_xml.is_none() => {
                    let mut text = None;
                    while let Some((hl7, name)) = self.child()? {
                        if hl7 && name == "text" && text.is_none() {
                            let media_type = self.owned("mediaType");
                            let b64 = self.is_attr("representation", "B64");
                            let content = self.all_direct_text()?;
                            let data = if b64 {
                                let b64: String =
                                    content.chars().filter(|c| !c.is_whitespace()).collect();
                                base64::engine::general_purpose::STANDARD
                                    .decode(b64.as_bytes())
                                    .ok()
                            } else {
                                Some(content.into_owned().into_bytes())
                            };
                            text = Some((media_type, data));
                        } else {
                            self.skip()?;
                        }
                    }
                    c.non_xml = Some(text);
                }
                (true, "structuredBody") if c.structured.is_none() => {
                    self.n.in_body = true;
                    self.record_id();
                    let mut sections = Vec::new();
                    let body = self.structured_body(&mut sections);
                    self.n.in_body = false;
                    body?;
                    c.structured = Some(sections);
                }
                _ => self.skip()?,
            }
        }
        Ok(c)
    }

    /// The direct text of the current element, untrimmed (`Element::text`).
    fn all_direct_text(&mut self) -> Result<Cow<'a, str>> {
        let mut out: Cow<'a, str> = Cow::Borrowed("");
        loop {
            match self.node()? {
                Node::Start(..) => self.skip()?,
                Node::Text(t) if out.is_empty() => out = t,
                Node::Text(t) => out.to_mut().push_str(&t),
                Node::End => return Ok(out),
            }
        }
    }

    fn structured_body(&mut self, sections: &mut Vec<SectionOut<'a>>) -> Result<()> {
        while let Some((hl7, name)) = self.child()? {
            if !(hl7 && name == "component") {
                self.skip()?;
                continue;
            }
            let mut first = true;
            while let Some((hl7, name)) = self.child()? {
                if hl7 && name == "section" && first {
                    first = false;
                    sections.push(self.section("s".into(), None)?);
                } else {
                    self.skip()?;
                }
            }
        }
        Ok(())
    }

    /// Current element: a section (its own items, then its sub-sections').
    fn section(&mut self, pos: String, forced: Option<Class>) -> Result<SectionOut<'a>> {
        let mark = (forced.is_none() && !self.n.replaying).then(|| self.r.mark());
        let mut out = SectionOut::default();
        let mut templates = Templates::default();
        let mut used: Option<Class> = forced;
        let mut entry = 0usize;
        let mut sub = 0usize;
        let mut text = false;
        let mut rows: Option<Rows<'a>> = None;
        while let Some((hl7, name)) = self.child()? {
            match (hl7, name) {
                (true, "templateId") => {
                    if let Some(root) = self.attr("root") {
                        templates.add(&root);
                    }
                    self.skip()?;
                }
                (true, "entry") => {
                    // The entry's statement: its first child element other than templateId.
                    let mut done = false;
                    while let Some((_, name)) = self.child()? {
                        if done || name == "templateId" {
                            self.skip()?;
                            continue;
                        }
                        done = true;
                        let class = *used.get_or_insert_with(|| Class::of(templates));
                        self.entry(class, &pos, entry, &mut out.items)?;
                        entry += 1;
                    }
                }
                (true, "text") if !text => {
                    text = true;
                    let class = *used.get_or_insert_with(|| Class::of(templates));
                    if class.has_rows() {
                        rows = Some(self.rows()?);
                    } else {
                        self.skip()?;
                    }
                }
                (true, "component") => {
                    let mut first = true;
                    while let Some((hl7, name)) = self.child()? {
                        if hl7 && name == "section" && first && forced.is_none() {
                            first = false;
                            out.subs.push(self.section(format!("{pos}.{sub}"), None)?);
                            sub += 1;
                        } else {
                            self.skip()?;
                        }
                    }
                }
                _ => self.skip()?,
            }
        }
        let class = Class::of(templates);
        if used.is_some_and(|u| u != class) {
            if let Some(mark) = mark {
                // A templateId came after what it governs: read the section again.
                let replay = self.r.replay(&mark);
                let main = std::mem::replace(&mut self.r, replay);
                self.n.replaying = true;
                let depth = self.n.depth;
                let own = match self.node() {
                    Ok(Node::Start(..)) => self.section(pos, Some(class)),
                    Ok(_) => Ok(SectionOut::default()),
                    Err(e) => Err(e),
                };
                self.n.depth = depth;
                self.n.replaying = false;
                self.r = main;
                out.items = own?.items;
                return Ok(out);
            }
        }
        match (class, rows) {
            (Class::Rows(kind), Some(rows)) => self.row_items(kind, rows, &mut out.items),
            (Class::AutresList, Some(rows)) if rows.has_list => {
                self.row_items(ItemKind::Autre, rows, &mut out.items)
            }
            _ => {}
        }
        Ok(out)
    }

    fn row_items(&self, kind: ItemKind, rows: Rows<'a>, items: &mut Vec<Pending<'a>>) {
        for (i, (span, key)) in rows.rows.into_iter().enumerate() {
            let text = self.collapse(span);
            if text.is_empty() {
                continue;
            }
            let key = key.map_or_else(|| format!("ligne-{}", i + 1), Cow::into_owned);
            items.push(Pending {
                kind,
                key,
                code: None,
                content: ItemContent::Text(TextItem {
                    id: None,
                    text: text.clone(),
                }),
                label: Label::Known(text),
                extra: Extra::None,
            });
        }
    }

    /// Current element: a section's `text`; its rows (`tr` with a `td`, `item`), not looking
    /// inside a row for more rows.
    fn rows(&mut self) -> Result<Rows<'a>> {
        let mut rows = Rows::default();
        let mut depth = 0u32;
        loop {
            match self.node()? {
                Node::Start(_, name) => {
                    if depth == 0 && name == "list" {
                        rows.has_list = true;
                    }
                    if name == "tr" || name == "item" {
                        if let Some(row) = self.row(name == "tr")? {
                            rows.rows.push(row);
                        }
                    } else {
                        depth += 1;
                    }
                }
                Node::Text(_) => {}
                Node::End if depth == 0 => return Ok(rows),
                Node::End => depth -= 1,
            }
        }
    }

    /// Current element: a row: its text range and key (first `ID` of a child or grandchild).
    fn row(&mut self, need_td: bool) -> Result<Option<Row<'a>>> {
        let mut key = None;
        let mut td = false;
        self.n.captures += 1;
        let start = self.n.log.len();
        let mut depth = 0u32;
        let done = loop {
            match self.node() {
                Ok(Node::Start(_, name)) => {
                    depth += 1;
                    if depth == 1 && name == "td" {
                        td = true;
                    }
                    if key.is_none() && depth <= 2 {
                        key = self.attr("ID");
                    }
                }
                Ok(Node::Text(_)) => {}
                Ok(Node::End) if depth == 0 => break Ok(()),
                Ok(Node::End) => depth -= 1,
                Err(e) => break Err(e),
            }
        };
        self.n.captures -= 1;
        done?;
        Ok((td || !need_td).then_some(((start, self.n.log.len()), key)))
    }

    /// Current element: an entry's statement, read as `class` says.
    fn entry(
        &mut self,
        class: Class,
        pos: &str,
        i: usize,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let mark = self.r.mark();
        match class {
            Class::Problems(kind) => self.problem(kind, pos, i, &mark, items),
            Class::Procedures => self.procedure(pos, i, &mark, items),
            Class::Allergies => self.allergy(pos, i, &mark, items),
            Class::Habitus => self.habitus(pos, i, &mark, items),
            Class::Family => self.family(pos, i, &mark, items),
            Class::Treatments => self.treatment(pos, i, &mark, items),
            Class::Unknown => {
                let s = self.statement(|_, _, _| Ok(false))?;
                self.raw(s, pos, i, &mark, items)
            }
            Class::Rows(_) | Class::AutresList | Class::Ignored => self.skip(),
        }
    }

    /// An entry kept as raw XML ("autres").
    fn raw(
        &mut self,
        s: Statement<'a>,
        pos: &str,
        i: usize,
        mark: &Mark<'a>,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let xml = self.raw_xml(mark)?;
        let (code, orig, display) = match s.code {
            Some(c) => (c.code.map(CodeRef::owned), c.orig, c.display),
            None => (None, None, None),
        };
        items.push(Pending {
            kind: ItemKind::Autre,
            key: s.id.map_or_else(|| format!("{pos}/{i}"), |id| id.xds()),
            code,
            content: ItemContent::Raw(xml),
            label: Label::Spec {
                text: s.text,
                orig,
                display,
            },
            extra: Extra::None,
        });
        Ok(())
    }

    /// The marked element serialised as the tree path's `to_xml_of` did: local names, the HL7
    /// and xsi declarations on the top element, `xsi:` / `xml:` prefixes on attributes.
    fn raw_xml(&self, mark: &Mark<'a>) -> Result<String> {
        let mut r = self.r.replay(mark);
        let mut out = String::new();
        let mut open: Vec<&'a str> = Vec::new();
        let mut pending = false;
        loop {
            match r.read_event()? {
                XmlEvent::Start { name, .. } => {
                    if pending {
                        out.push('>');
                    }
                    out.push('<');
                    out.push_str(name);
                    if open.is_empty() {
                        out.push_str(
                            " xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
                        );
                    }
                    for (ns, n, v) in r.attributes() {
                        out.push(' ');
                        if ns == self.xsi {
                            out.push_str("xsi:");
                        } else if ns == self.xml {
                            out.push_str("xml:");
                        }
                        out.push_str(n);
                        out.push_str("=\"");
                        out.push_str(&segur_net::xml::escape(v));
                        out.push('"');
                    }
                    open.push(name);
                    pending = true;
                }
                XmlEvent::Text(t) => {
                    if pending {
                        out.push('>');
                        pending = false;
                    }
                    out.push_str(&segur_net::xml::escape(&t));
                }
                XmlEvent::End => {
                    let name = open.pop().unwrap_or_default();
                    if pending {
                        out.push_str("/>");
                        pending = false;
                    } else {
                        out.push_str("</");
                        out.push_str(name);
                        out.push('>');
                    }
                    if open.is_empty() {
                        return Ok(out);
                    }
                }
                XmlEvent::Eof => return Ok(out),
            }
        }
    }

    fn problem(
        &mut self,
        kind: ItemKind,
        pos: &str,
        i: usize,
        mark: &Mark<'a>,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let mut time: Option<Ivl<'a>> = None;
        let mut rel: Option<Option<Obs<'a>>> = None;
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "effectiveTime") if time.is_none() => {
                    time = Some(cx.ivl()?);
                    true
                }
                (true, "entryRelationship") if rel.is_none() => {
                    let obs = cx.first_observation()?;
                    rel = Some(obs);
                    true
                }
                _ => false,
            })
        })?;
        let Some(obs) = rel.flatten() else {
            return self.raw(s, pos, i, mark, items);
        };
        let Some(Some(code)) = obs
            .value
            .as_ref()
            .map(|v| v.coded.code.as_ref().map(CodeRef::to_code))
        else {
            return self.raw(s, pos, i, mark, items);
        };
        let (start, end) = ivl_dates(obs.time.as_ref().or(time.as_ref()));
        let label = obs.label_with(obs.value.as_ref().map(|v| &v.coded));
        items.push(Pending {
            kind,
            key: s.id.map_or_else(|| format!("{pos}/{i}"), |id| id.xds()),
            code: Some(code.clone()),
            content: ItemContent::Problem(Problem {
                id: obs.s.id.as_ref().map(IdRef::xds),
                label: String::new(),
                code,
                start,
                end,
            }),
            label,
            extra: Extra::None,
        });
        Ok(())
    }

    /// Current element: an observation (id, code, text, value, effectiveTime, templateIds,
    /// participant agent, nested observations).
    /// Current element: a relationship (`entryRelationship`, `component`); its first
    /// `observation` read, everything else skipped.
    fn first_observation(&mut self) -> Result<Option<Obs<'a>>> {
        let mut obs = None;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == "observation" && obs.is_none() {
                obs = Some(self.observation()?);
            } else {
                self.skip()?;
            }
        }
        Ok(obs)
    }

    fn observation(&mut self) -> Result<Obs<'a>> {
        let mut value: Option<Value<'a>> = None;
        let mut time: Option<Ivl<'a>> = None;
        let (mut status_template, mut ald_template) = (false, false);
        let mut agent: Option<Option<Agent<'a>>> = None;
        let mut status: Option<Option<Cow<'a, str>>> = None;
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "value") if value.is_none() => {
                    value = Some(cx.value()?);
                    true
                }
                (true, "effectiveTime") if time.is_none() => {
                    time = Some(cx.ivl()?);
                    true
                }
                (true, "templateId") => {
                    match cx.attr("root").as_deref() {
                        Some(STATUS_TEMPLATE) => status_template = true,
                        Some(ALD_TEMPLATE) => ald_template = true,
                        _ => {}
                    }
                    false
                }
                (true, "participant") if agent.is_none() => {
                    agent = Some(cx.agent()?);
                    true
                }
                (true, "entryRelationship") => {
                    let obs = cx.first_observation()?;
                    // The status: the value code of the first one that is a status.
                    if let Some(o) = obs.filter(|o| o.status_template && status.is_none()) {
                        status = Some(o.value.and_then(|v| v.coded.code).map(|c| c.code));
                    }
                    true
                }
                _ => false,
            })
        })?;
        Ok(Obs {
            s,
            value,
            time,
            status_template,
            ald_template,
            agent,
            status: status.flatten(),
        })
    }

    /// Current element: an `act`: `child_code(act, "code")`.
    fn act_code(&mut self) -> Result<Option<CodeRef<'a>>> {
        let mut code: Option<Option<CodeRef<'a>>> = None;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == "code" && code.is_none() {
                code = Some(self.code_ref_skip()?);
            } else {
                self.skip()?;
            }
        }
        Ok(code.flatten())
    }

    /// Current element: a `value` (coded part, `xsi:type`, `@value`, `@unit`, its text).
    fn value(&mut self) -> Result<Value<'a>> {
        let xsi_type = self.r.attr_ns(self.xsi, "type");
        let has_code = self.attr("code").is_some();
        let value = self.attr("value");
        let unit = self.attr("unit");
        // Its text is kept (habitus free-text values): recorded like narrative.
        self.n.captures += 1;
        let start = self.n.log.len();
        let coded = self.coded();
        self.n.captures -= 1;
        Ok(Value {
            coded: coded?,
            xsi_type,
            has_code,
            value,
            unit,
            text: (start, self.n.log.len()),
        })
    }

    /// Current element: a `participant`: `participantRole/playingEntity` code and name.
    fn agent(&mut self) -> Result<Option<Agent<'a>>> {
        self.coded_name("participantRole", "playingEntity")
    }

    /// The first `outer/inner` child pair of the current element, with the first `code` and
    /// `name` of `inner` (`participantRole/playingEntity`, `manufacturedProduct/
    /// manufacturedMaterial`); other children skipped.
    fn coded_name(&mut self, outer: &str, inner: &str) -> Result<Option<CodedName<'a>>> {
        let mut out = None;
        let mut seen_outer = false;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == outer && !seen_outer {
                seen_outer = true;
                let mut seen_inner = false;
                while let Some((hl7, name)) = self.child()? {
                    if hl7 && name == inner && !seen_inner {
                        seen_inner = true;
                        let mut v = CodedName::default();
                        let (mut code, mut n) = (false, false);
                        while let Some((hl7, name)) = self.child()? {
                            match (hl7, name) {
                                (true, "code") if !code => {
                                    code = true;
                                    v.code = Some(self.coded()?);
                                }
                                (true, "name") if !n => {
                                    n = true;
                                    v.name = Some(self.direct_text()?);
                                }
                                _ => self.skip()?,
                            }
                        }
                        out = Some(v);
                    } else {
                        self.skip()?;
                    }
                }
            } else {
                self.skip()?;
            }
        }
        Ok(out)
    }

    fn procedure(
        &mut self,
        pos: &str,
        i: usize,
        mark: &Mark<'a>,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let mut time: Option<Ivl<'a>> = None;
        let mut reason: Option<CodeRef<'a>> = None;
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "effectiveTime") if time.is_none() => {
                    time = Some(cx.ivl()?);
                    true
                }
                (true, "entryRelationship") => {
                    let r = cx.rson_reason()?;
                    if reason.is_none() {
                        reason = r;
                    }
                    true
                }
                _ => false,
            })
        })?;
        let Some(code) = s
            .code
            .as_ref()
            .and_then(|c| c.code.as_ref())
            .map(CodeRef::to_code)
        else {
            return self.raw(s, pos, i, mark, items);
        };
        let label = s.label_with(s.code.as_ref());
        let id = s.id.as_ref().map(IdRef::xds);
        items.push(Pending {
            kind: ItemKind::AntecedentChirurgical,
            key: id.clone().unwrap_or_else(|| format!("{pos}/{i}")),
            code: Some(code.clone()),
            content: ItemContent::Procedure(Procedure {
                id,
                label: String::new(),
                code,
                date: ivl_dates(time.as_ref()).0,
                reason: reason.map(CodeRef::owned),
            }),
            label,
            extra: Extra::None,
        });
        Ok(())
    }

    /// Current element: an `entryRelationship`: the code of its first `act` when it is a
    /// reason (`typeCode="RSON"`).
    fn rson_reason(&mut self) -> Result<Option<CodeRef<'a>>> {
        if !self.is_attr("typeCode", "RSON") {
            self.skip()?;
            return Ok(None);
        }
        let mut code: Option<Option<CodeRef<'a>>> = None;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == "act" && code.is_none() {
                code = Some(self.act_code()?);
            } else {
                self.skip()?;
            }
        }
        Ok(code.flatten())
    }

    fn allergy(
        &mut self,
        pos: &str,
        i: usize,
        mark: &Mark<'a>,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let mut all: Vec<Obs<'a>> = Vec::new();
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "entryRelationship") => {
                    let obs = cx.first_observation()?;
                    all.extend(obs);
                    true
                }
                _ => false,
            })
        })?;
        if all.is_empty() {
            return self.raw(s, pos, i, mark, items);
        }
        for (j, obs) in all.into_iter().enumerate() {
            let agent_code = obs.agent.as_ref().and_then(|a| a.as_ref()?.code.as_ref());
            let agent_ref = agent_code.and_then(|c| c.code.as_ref());
            let agent = agent_ref.map(CodeRef::to_code);
            let name = obs.agent.as_ref().and_then(|a| a.as_ref()?.name.clone());
            let status = obs.status.as_deref().and_then(ClinicalStatus::from_code);
            let id = obs.s.id.as_ref().map(IdRef::xds);
            let key = id
                .clone()
                .or_else(|| s.id.as_ref().map(|a| format!("{}/{j}", a.xds())))
                .unwrap_or_else(|| format!("{pos}/{i}/{j}"));
            let kind = obs
                .s
                .code
                .as_ref()
                .and_then(|c| c.code.as_ref())
                .map(CodeRef::to_code);
            let (reaction, reaction_ref) = match obs.value {
                Some(v) => (v.coded.code.map(CodeRef::owned), v.coded.orig),
                None => (None, None),
            };
            items.push(Pending {
                kind: ItemKind::Allergie,
                key,
                code: agent.clone(),
                label: Label::Agent {
                    orig: agent_code.and_then(|c| c.orig.clone()),
                    display: agent_ref.map(|a| a.display.clone().unwrap_or_default()),
                    name,
                },
                content: ItemContent::Allergy(Allergy {
                    id,
                    kind,
                    agent_label: String::new(),
                    agent,
                    reaction_label: None,
                    reaction,
                    start: ivl_dates(obs.time.as_ref()).0,
                    status,
                }),
                extra: Extra::Reaction(reaction_ref),
            });
        }
        Ok(())
    }

    fn habitus(
        &mut self,
        pos: &str,
        i: usize,
        mark: &Mark<'a>,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let mut value: Option<Value<'a>> = None;
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "value") if value.is_none() => {
                    value = Some(cx.value()?);
                    true
                }
                _ => false,
            })
        })?;
        let Some(code) = s
            .code
            .as_ref()
            .and_then(|c| c.code.as_ref())
            .map(CodeRef::to_code)
        else {
            return self.raw(s, pos, i, mark, items);
        };
        let label = s.label_with(s.code.as_ref());
        let mut text_value = None;
        let value_ref = value.as_ref().and_then(|v| v.coded.orig.clone());
        let hv = match &value {
            Some(v) if v.xsi_type.as_deref() == Some("PQ") => HabitusValue::Quantity {
                value: v.value.as_deref().unwrap_or_default().to_owned(),
                unit: v.unit.as_deref().unwrap_or("1").to_owned(),
            },
            Some(v) if matches!(v.xsi_type.as_deref(), Some("CD" | "CE")) && v.has_code => {
                HabitusValue::Coded(
                    v.coded
                        .code
                        .as_ref()
                        .map_or_else(|| code.clone(), CodeRef::to_code),
                )
            }
            Some(v) => {
                text_value = Some((v.coded.orig.clone(), v.text));
                HabitusValue::Text(String::new())
            }
            None => HabitusValue::Text(String::new()),
        };
        let id = s.id.as_ref().map(IdRef::xds);
        items.push(Pending {
            kind: ItemKind::Habitus,
            key: id.clone().unwrap_or_else(|| format!("{pos}/{i}")),
            code: Some(code.clone()),
            content: ItemContent::Habitus(Habitus {
                id,
                code,
                label: String::new(),
                value: hv,
                value_label: None,
            }),
            label,
            extra: Extra::Habitus {
                text_value,
                value_label: value_ref,
            },
        });
        Ok(())
    }

    fn family(
        &mut self,
        pos: &str,
        i: usize,
        mark: &Mark<'a>,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let mut subject: Option<(Option<Code>, Option<Code>)> = None;
        let mut all: Vec<Obs<'a>> = Vec::new();
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "subject") if subject.is_none() => {
                    subject = Some(cx.related_subject()?);
                    true
                }
                (true, "component") => {
                    let obs = cx.first_observation()?;
                    all.extend(obs);
                    true
                }
                _ => false,
            })
        })?;
        let (relation, gender) = subject.unwrap_or_default();
        let mut any = false;
        for (j, obs) in all.into_iter().enumerate() {
            let code = obs.value.as_ref().and_then(|v| v.coded.code.as_ref());
            let (Some(rel), Some(code)) = (relation.clone(), code.map(CodeRef::to_code)) else {
                continue;
            };
            any = true;
            let label = obs.label_with(obs.value.as_ref().map(|v| &v.coded));
            let id = obs.s.id.as_ref().map(IdRef::xds);
            items.push(Pending {
                kind: ItemKind::AntecedentFamilial,
                key: id.clone().unwrap_or_else(|| format!("{pos}/{i}/{j}")),
                code: Some(code.clone()),
                content: ItemContent::Family(FamilyHistory {
                    id,
                    relation: rel,
                    relation_gender: gender.clone(),
                    label: String::new(),
                    code,
                }),
                label,
                extra: Extra::None,
            });
        }
        if !any {
            return self.raw(s, pos, i, mark, items);
        }
        Ok(())
    }

    /// Current element: an organizer's `subject`: `relatedSubject` code and
    /// `subject/administrativeGenderCode`.
    fn related_subject(&mut self) -> Result<(Option<Code>, Option<Code>)> {
        let mut out = (None, None);
        let mut rs = false;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == "relatedSubject" && !rs {
                rs = true;
                let (mut code, mut subject) = (false, false);
                while let Some((hl7, name)) = self.child()? {
                    match (hl7, name) {
                        (true, "code") if !code => {
                            code = true;
                            out.0 = self.code_skip()?;
                        }
                        (true, "subject") if !subject => {
                            subject = true;
                            out.1 = self
                                .path_code(&["administrativeGenderCode"])?
                                .map(CodeRef::owned);
                        }
                        _ => self.skip()?,
                    }
                }
            } else {
                self.skip()?;
            }
        }
        Ok(out)
    }

    fn treatment(
        &mut self,
        pos: &str,
        i: usize,
        mark: &Mark<'a>,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let mut material: Option<Option<Material<'a>>> = None;
        let mut times: Vec<Ivl<'a>> = Vec::new();
        let mut dose: Option<Dose<'a>> = None;
        let mut route: Option<Option<CodeRef<'a>>> = None;
        let mut reason: Option<CodeRef<'a>> = None;
        let mut ald: Option<Option<bool>> = None;
        let mut instruction: Option<Option<TextRef<'a>>> = None;
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "consumable") if material.is_none() => {
                    material = Some(cx.material()?);
                    true
                }
                (true, "effectiveTime") => {
                    times.push(cx.ivl()?);
                    true
                }
                (true, "doseQuantity") if dose.is_none() => {
                    let mut d = Dose {
                        value: cx.attr("value"),
                        unit: cx.attr("unit"),
                        low: None,
                    };
                    while let Some((hl7, name)) = cx.child()? {
                        if hl7 && name == "low" && d.low.is_none() {
                            d.low = Some((cx.attr("value"), cx.attr("unit")));
                        }
                        cx.skip()?;
                    }
                    dose = Some(d);
                    true
                }
                (true, "routeCode") if route.is_none() => {
                    route = Some(cx.code_ref_skip()?);
                    true
                }
                (true, "entryRelationship") => {
                    let rson = cx.is_attr("typeCode", "RSON");
                    let (mut obs, mut act) = (false, false);
                    while let Some((hl7, name)) = cx.child()? {
                        match (hl7, name) {
                            (true, "observation") if !obs => {
                                obs = true;
                                let o = cx.observation()?;
                                if ald.is_none() && o.ald_template {
                                    ald = Some(o.value.and_then(|v| v.value).map(|v| v == "true"));
                                }
                            }
                            (true, "act") if !act => {
                                act = true;
                                let a = cx.treatment_act()?;
                                if rson && reason.is_none() {
                                    reason = a.code;
                                }
                                if a.instruction && instruction.is_none() {
                                    instruction = Some(a.text);
                                }
                            }
                            _ => cx.skip()?,
                        }
                    }
                    true
                }
                _ => false,
            })
        })?;
        let Some(mm) = material.flatten() else {
            return self.raw(s, pos, i, mark, items);
        };
        let Some(cis_el) = mm.code else {
            return self.raw(s, pos, i, mark, items);
        };
        let Some(cis) = cis_el.code.as_ref().map(CodeRef::to_code) else {
            return self.raw(s, pos, i, mark, items);
        };
        let label = s.label_with(Some(&cis_el));
        let (start, end) = ivl_dates(times.iter().find(|t| t.has_low_high));
        let period = times
            .iter()
            .find_map(|t| t.period.as_ref())
            .and_then(|(v, u)| {
                Some((
                    v.as_deref()?.to_owned(),
                    u.as_deref().unwrap_or("d").to_owned(),
                ))
            });
        let (dv, du) = match dose {
            Some(Dose { low: Some(l), .. }) => l,
            Some(Dose { value, unit, .. }) => (value, unit),
            None => (None, None),
        };
        let id = s.id.as_ref().map(IdRef::xds);
        items.push(Pending {
            kind: ItemKind::Traitement,
            key: id.clone().unwrap_or_else(|| format!("{pos}/{i}")),
            code: Some(cis.clone()),
            content: ItemContent::Treatment(Treatment {
                id,
                label: String::new(),
                cis,
                cip13: cis_el.translation.map(CodeRef::owned),
                name: mm.name.filter(|n| !n.is_empty()),
                start,
                end,
                posology: Posology {
                    dose: dv.map(Cow::into_owned),
                    unit: du.map(Cow::into_owned),
                    period,
                    text: None,
                },
                route: route.flatten().map(CodeRef::owned),
                reason: reason.map(CodeRef::owned),
                ald: ald.flatten(),
            }),
            label,
            extra: match instruction.flatten() {
                Some(t) => Extra::Instruction(t),
                None => Extra::None,
            },
        });
        Ok(())
    }

    /// Current element: an `act` under a treatment's `entryRelationship`: its first `code`,
    /// whether it is a patient instruction ([`TEMPLATE_PATIENT_INSTRUCTIONS`]) and its first
    /// `text` (reference and own text, recorded like narrative).
    fn treatment_act(&mut self) -> Result<TreatmentAct<'a>> {
        let mut a = TreatmentAct {
            code: None,
            instruction: false,
            text: None,
        };
        let mut code = false;
        while let Some((hl7, name)) = self.child()? {
            match (hl7, name) {
                (true, "code") if !code => {
                    code = true;
                    a.code = self.code_ref_skip()?;
                }
                (true, "templateId") => {
                    a.instruction |= self.is_attr("root", TEMPLATE_PATIENT_INSTRUCTIONS);
                    self.skip()?;
                }
                (true, "text") if a.text.is_none() => {
                    self.n.captures += 1;
                    let start = self.n.log.len();
                    let r = self.reference();
                    self.n.captures -= 1;
                    a.text = Some((r?, (start, self.n.log.len())));
                }
                _ => self.skip()?,
            }
        }
        Ok(a)
    }

    /// Current element: `consumable`: `manufacturedProduct/manufacturedMaterial` code and name.
    fn material(&mut self) -> Result<Option<Material<'a>>> {
        self.coded_name("manufacturedProduct", "manufacturedMaterial")
    }

    // ---- The end: checks in the tree path's order, labels, stable ids ------------------------

    #[allow(clippy::type_complexity)]
    fn finish(self, d: Doc<'a>) -> Result<(ParsedHeader, Option<VsmVersion>, Body, Vec<Item>)> {
        if let Some((namespace, name)) = d.wrong_root {
            return Err(CdaError::WrongRoot { namespace, name });
        }
        let header = header(d.h)?;
        let vsm_version = header
            .template_ids
            .iter()
            .find(|t| t.root == TEMPLATE_VSM)
            .map(|t| match t.extension.as_deref() {
                Some("201310") | None => VsmVersion::V2013,
                _ => VsmVersion::V2023,
            });
        let p = "/ClinicalDocument/component";
        let Some(comp) = d.component else {
            return Err(CdaError::Missing {
                path: "/ClinicalDocument".into(),
                what: "component",
            });
        };
        let mut items = Vec::new();
        let body = if let Some(nx) = comp.non_xml {
            let Some((media_type, data)) = nx else {
                return Err(CdaError::Missing {
                    path: format!("{p}/nonXMLBody"),
                    what: "text",
                });
            };
            let Some(media_type) = media_type else {
                return Err(CdaError::Missing {
                    path: format!("{p}/nonXMLBody/text"),
                    what: "mediaType",
                });
            };
            let Some(data) = data else {
                return Err(CdaError::Invalid {
                    path: format!("{p}/nonXMLBody/text"),
                    rule: "representation B64 must hold base64",
                });
            };
            Body::NonXml { media_type, data }
        } else {
            let Some(sections) = comp.structured else {
                return Err(CdaError::Missing {
                    path: p.to_owned(),
                    what: "nonXMLBody or structuredBody",
                });
            };
            fn count(s: &SectionOut<'_>) -> usize {
                s.items.len() + s.subs.iter().map(count).sum::<usize>()
            }
            let n = sections.iter().map(count).sum();
            items.reserve_exact(n);
            let mut seen = HashMap::with_capacity(n);
            for s in sections {
                self.flatten(s, &mut seen, &mut items);
            }
            Body::Structured
        };
        Ok((header, vsm_version, body, items))
    }

    fn flatten(&self, s: SectionOut<'a>, seen: &mut HashMap<String, usize>, items: &mut Vec<Item>) {
        for p in s.items {
            items.push(self.item(p, seen));
        }
        for sub in s.subs {
            self.flatten(sub, seen, items);
        }
    }

    /// The final item: stable id, label resolved in the narrative.
    fn item(&self, p: Pending<'a>, seen: &mut HashMap<String, usize>) -> Item {
        let prefix = match p.kind {
            ItemKind::Pathologie => "pathologie",
            ItemKind::AntecedentMedical => "atcd-medical",
            ItemKind::AntecedentChirurgical => "atcd-chirurgical",
            ItemKind::Allergie => "allergie",
            ItemKind::AntecedentFamilial => "atcd-familial",
            ItemKind::FacteurRisqueProfessionnel => "facteur-pro",
            ItemKind::Habitus => "habitus",
            ItemKind::PointDeVigilance => "vigilance",
            ItemKind::Traitement => "traitement",
            ItemKind::Autre => "autre",
        };
        let base = format!("{prefix}:{}", p.key);
        let id = match seen.get_mut(&base) {
            None => {
                seen.insert(base.clone(), 1);
                base
            }
            Some(n) => {
                *n += 1;
                format!("{base}#{n}")
            }
        };
        let label = match p.label {
            Label::Known(l) => l,
            Label::Spec {
                text,
                orig,
                display,
            } => self
                .resolve(&text)
                .or_else(|| self.resolve(&orig))
                .or_else(|| display.map(Cow::into_owned))
                .unwrap_or_default(),
            Label::Agent {
                orig,
                display,
                name,
            } => match display {
                Some(d) if !d.is_empty() => d.into_owned(),
                display => self
                    .resolve(&orig)
                    .or_else(|| display.map(Cow::into_owned))
                    .or(name)
                    .unwrap_or_default(),
            },
        };
        let mut content = p.content;
        match (&mut content, p.extra) {
            (ItemContent::Problem(x), _) => x.label = label.clone(),
            (ItemContent::Procedure(x), _) => x.label = label.clone(),
            (ItemContent::Family(x), _) => x.label = label.clone(),
            (ItemContent::Treatment(x), extra) => {
                x.label = label.clone();
                if let Extra::Instruction((r, span)) = extra {
                    x.posology.text = self
                        .resolve(&r)
                        .or_else(|| Some(self.collapse(span)).filter(|s| !s.is_empty()));
                }
            }
            (ItemContent::Allergy(a), Extra::Reaction(r)) => {
                a.agent_label = label.clone();
                a.reaction_label = self.resolve(&r).filter(|s| s != "-");
            }
            (
                ItemContent::Habitus(h),
                Extra::Habitus {
                    text_value,
                    value_label,
                },
            ) => {
                h.label = label.clone();
                if let Some((orig, span)) = text_value {
                    h.value = HabitusValue::Text(
                        self.resolve(&orig).unwrap_or_else(|| self.collapse(span)),
                    );
                }
                h.value_label = self.resolve(&value_label).filter(|l| *l != label);
            }
            _ => {}
        }
        Item {
            id: ItemId(id),
            kind: p.kind,
            label,
            code: p.code,
            content,
        }
    }
}

/// The header rules, in the tree path's order (CI-SIS en-tête, StrucMin INS rule).
fn header(h: HeaderFacts) -> Result<ParsedHeader> {
    let at = "/ClinicalDocument";
    let missing = |path: &str, what: &'static str| CdaError::Missing {
        path: path.to_owned(),
        what,
    };
    let Some((root, extension)) = h.id else {
        return Err(missing(at, "id"));
    };
    let id = InstanceId {
        root: root.ok_or_else(|| missing("/ClinicalDocument/id", "root"))?,
        extension,
    };
    let code = h
        .code
        .ok_or_else(|| missing(at, "code"))?
        .ok_or_else(|| missing("/ClinicalDocument/code", "code"))?;
    let title = h.title.ok_or_else(|| missing(at, "title"))?;
    let effective_time = h
        .effective_time
        .ok_or_else(|| missing(at, "effectiveTime"))?
        .ok_or_else(|| missing("/ClinicalDocument/effectiveTime", "value"))?;
    let cc = h
        .confidentiality
        .ok_or_else(|| missing(at, "confidentialityCode"))?
        .ok_or_else(|| missing("/ClinicalDocument/confidentialityCode", "code"))?;
    let confidentiality = Confidentiality::from_code(&cc).ok_or(CdaError::Invalid {
        path: "/ClinicalDocument/confidentialityCode".into(),
        rule: "confidentialityCode must be N, R or V (2.16.840.1.113883.1.11.10228)",
    })?;
    let Some((root, extension)) = h.set_id else {
        return Err(missing(at, "setId"));
    };
    let set_id = InstanceId {
        root: root.ok_or_else(|| missing("/ClinicalDocument/setId", "root"))?,
        extension,
    };
    let version = h
        .version
        .ok_or_else(|| missing(at, "versionNumber"))?
        .ok_or_else(|| missing("/ClinicalDocument/versionNumber", "value"))?
        .trim()
        .parse::<u32>()
        .map_err(|_| CdaError::Invalid {
            path: "/ClinicalDocument/versionNumber".into(),
            rule: "versionNumber/@value must be a positive integer",
        })?;
    let pr = h
        .record_target
        .ok_or_else(|| missing(at, "recordTarget"))?
        .ok_or_else(|| missing("/ClinicalDocument/recordTarget", "patientRole"))?;
    let pat_at = "/ClinicalDocument/recordTarget/patientRole";
    if pr.ids.is_empty() {
        return Err(missing(pat_at, "id"));
    }
    let mut patient = pr.patient.ok_or_else(|| missing(pat_at, "patient"))?;
    patient.ids = pr.ids;
    if patient.ins().is_some() {
        // StrucMin INS rule: all the INS traits are mandatory with an INS.
        let absent = [
            (
                patient.nom_naissance.is_none(),
                "name/family[@qualifier='BR']",
            ),
            (
                patient.premier_prenom.is_none(),
                "name/given[@qualifier='BR']",
            ),
            (patient.prenoms.is_none(), "name/given"),
            (patient.birth_time.is_none(), "birthTime"),
            (patient.sexe.is_none(), "administrativeGenderCode"),
            (patient.birth_cog.is_none(), "birthplace/place/addr/county"),
        ];
        if let Some((_, what)) = absent.iter().find(|(m, _)| *m) {
            return Err(missing(&format!("{pat_at}/patient"), what));
        }
    }
    let mut authors = Vec::new();
    for (aa, time) in h.authors {
        let mut p = aa.ok_or_else(|| missing("/ClinicalDocument/author", "assignedAuthor"))?;
        if p.id.is_none() {
            return Err(missing("/ClinicalDocument/author/assignedAuthor", "id"));
        }
        p.time = time;
        authors.push(p);
    }
    if authors.is_empty() {
        return Err(missing(at, "author"));
    }
    let custodian = h
        .custodian
        .ok_or_else(|| missing(at, "custodian"))?
        .ok_or_else(|| missing("/ClinicalDocument/custodian", "assignedCustodian"))?
        .ok_or_else(|| {
            missing(
                "/ClinicalDocument/custodian/assignedCustodian",
                "representedCustodianOrganization",
            )
        })?;
    let (ae, time) = h.legal.ok_or_else(|| missing(at, "legalAuthenticator"))?;
    let mut legal_authenticator =
        ae.ok_or_else(|| missing("/ClinicalDocument/legalAuthenticator", "assignedEntity"))?;
    legal_authenticator.time = time;
    let se = h
        .service_event
        .ok_or_else(|| missing(at, "documentationOf"))?
        .ok_or_else(|| missing("/ClinicalDocument/documentationOf", "serviceEvent"))?;
    let enc = h
        .encounter
        .ok_or_else(|| missing(at, "componentOf"))?
        .ok_or_else(|| missing("/ClinicalDocument/componentOf", "encompassingEncounter"))?;
    Ok(ParsedHeader {
        template_ids: h.template_ids,
        id,
        code,
        title,
        effective_time,
        confidentiality,
        language: h.language.flatten(),
        set_id,
        version,
        patient,
        authors,
        custodian,
        legal_authenticator,
        recipients: h.recipients,
        medecin_traitant: h.medecin_traitant,
        service_event_code: se.code,
        service_event_time: se.time,
        practice_setting: se.practice,
        facility_type: enc.facility,
        encounter_code: enc.code,
        replaces: h.replaces.flatten(),
    })
}

/// The date of an HL7 TS (its first 8 characters, `%Y%m%d`).
fn date_of(v: Option<&str>) -> Option<NaiveDate> {
    let ymd = v?.get(..8)?;
    match ymd.as_bytes() {
        // The usual all-digit form, without parsing a format string each time.
        d if d.iter().all(u8::is_ascii_digit) => {
            let n = |r: std::ops::Range<usize>| {
                d.get(r)
                    .map(|x| x.iter().fold(0u32, |a, c| a * 10 + u32::from(c - b'0')))
            };
            NaiveDate::from_ymd_opt(i32::try_from(n(0..4)?).ok()?, n(4..6)?, n(6..8)?)
        }
        _ => NaiveDate::parse_from_str(ymd, "%Y%m%d").ok(),
    }
}

/// `ivl_dates` of the tree path: `@value`, else `low` / `high`.
fn ivl_dates(i: Option<&Ivl<'_>>) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let Some(i) = i else { return (None, None) };
    if let Some(v) = &i.value {
        return (date_of(Some(v)), None);
    }
    (date_of(i.low.as_deref()), date_of(i.high.as_deref()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_of_matches_chrono_on_digits_and_more() {
        let chrono = |v: &str| NaiveDate::parse_from_str(v.get(..8)?, "%Y%m%d").ok();
        for v in [
            "20240229",
            "20230229",
            "00000101",
            "99991231",
            "20241301",
            "20240132",
            "2024010",
            "202401011230+0100",
            "2024-1-1",
            "+2024011",
            " 2024011",
            "2024 101",
            "",
            "20240100",
        ] {
            assert_eq!(date_of(Some(v)), chrono(v), "{v}");
        }
        proptest::proptest!(|(v in "[0-9+ -]{6,10}")| {
            proptest::prop_assert_eq!(date_of(Some(&v)), chrono(&v));
        });
    }
}
