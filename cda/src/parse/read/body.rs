//! The body: the non-XML body (level 1) or the structured body, its sections (read again from a
//! mark when a late templateId changes their kind), narrative rows, and the entries that are not
//! modelled, kept raw.

use std::borrow::Cow;

use base64::Engine;
use segur_net::xml::{Mark, XmlEvent};

use super::{
    Class, CodeRef, Component, Cx, Extra, Label, Node, Pending, Row, Rows, SectionOut, Statement,
    Templates,
};
use crate::error::Result;
use crate::parse::{ItemContent, ItemKind};
use crate::vsm::*;

impl<'a> Cx<'a> {
    /// The first `component` of the document: its first `nonXMLBody` and `structuredBody`.
    pub(super) fn component(&mut self) -> Result<Component<'a>> {
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
    pub(super) fn all_direct_text(&mut self) -> Result<Cow<'a, str>> {
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

    pub(super) fn structured_body(&mut self, sections: &mut Vec<SectionOut<'a>>) -> Result<()> {
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
    pub(super) fn section(&mut self, pos: String, forced: Option<Class>) -> Result<SectionOut<'a>> {
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

    pub(super) fn row_items(&self, kind: ItemKind, rows: Rows<'a>, items: &mut Vec<Pending<'a>>) {
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
    pub(super) fn rows(&mut self) -> Result<Rows<'a>> {
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
    pub(super) fn row(&mut self, need_td: bool) -> Result<Option<Row<'a>>> {
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
    pub(super) fn entry(
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
    pub(super) fn raw(
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
    pub(super) fn raw_xml(&self, mark: &Mark<'a>) -> Result<String> {
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
}
