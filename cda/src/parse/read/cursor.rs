//! The cursor: the low-level navigation over the pull reader — the next node or child, skipping
//! (with the narrative still recorded), text, the attributes of the start tag just read, and the
//! small readers every part uses (codes, ids, references, intervals, clinical statements).

use std::borrow::Cow;

use segur_net::xml::{Attributes, NsId, Visitor, XmlEvent};

use super::{CodeRef, Coded, Cx, IdRef, Ivl, Nar, Node, Ref, Statement};
use crate::codes::Code;
use crate::error::Result;
use crate::header::InstanceId;
use crate::parse::push_words;

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

impl<'a> Cx<'a> {
    /// The next node inside the current element (`End`: the current element is closed).
    #[inline]
    pub(super) fn node(&mut self) -> Result<Node<'a>> {
        self.next(true)
    }

    /// The next node; text only if `text` or while text is being recorded.
    #[inline(always)]
    pub(super) fn next(&mut self, text: bool) -> Result<Node<'a>> {
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
    pub(super) fn record_id(&mut self) {
        if let Some(id) = self.r.attr("ID") {
            self.n.record(id);
        }
    }

    /// The next child element of the current element (text skipped), None at its end.
    #[inline]
    pub(super) fn child(&mut self) -> Result<Option<(bool, &'a str)>> {
        loop {
            match self.next(false)? {
                Node::Start(ns, name) => return Ok(Some((ns == self.hl7, name))),
                Node::Text(_) => {}
                Node::End => return Ok(None),
            }
        }
    }

    /// Reads to the end of the current element.
    pub(super) fn skip(&mut self) -> Result<()> {
        // Pushed from inside the tokenizer loop: the narrative is still recorded.
        Ok(self.r.read_to_end_with(&mut self.n)?)
    }

    /// The direct text of the current element, trimmed (child elements skipped); reads to its
    /// end.
    pub(super) fn direct_text(&mut self) -> Result<String> {
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
    pub(super) fn deep_text(&mut self) -> Result<String> {
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

    pub(super) fn collapse(&self, (start, end): (usize, usize)) -> String {
        let mut out = String::new();
        let mut space = false;
        for t in self.n.log.get(start..end).unwrap_or_default() {
            push_words(t, &mut out, &mut space);
        }
        out
    }

    /// The text of the narrative element a reference points to (`#id`), if not empty.
    pub(super) fn resolve(&self, r: &Ref<'a>) -> Option<String> {
        let id = r.as_deref()?.strip_prefix('#')?;
        let span = *self.n.spans.get(*self.n.ids.get(id)?)?;
        Some(self.collapse(span)).filter(|s| !s.is_empty())
    }

    // ---- Attributes of the start tag just read ------------------------------------------------

    pub(super) fn attr(&self, name: &str) -> Option<Cow<'a, str>> {
        self.r.attr(name)
    }

    pub(super) fn owned(&self, name: &str) -> Option<String> {
        self.r.attr(name).map(Cow::into_owned)
    }

    pub(super) fn is_attr(&self, name: &str, value: &str) -> bool {
        self.r.attr(name).as_deref() == Some(value)
    }

    /// `code_of`: a [`Code`] from `@code` (required), `@codeSystem`, `@displayName`,
    /// `@codeSystemName`.
    pub(super) fn code_here(&self) -> Option<Code> {
        Some(Code {
            code: self.owned("code")?,
            system: self.owned("codeSystem").unwrap_or_default(),
            display: self.owned("displayName").unwrap_or_default(),
            system_name: self.owned("codeSystemName"),
        })
    }

    /// `code_of` without copying: the attributes as slices of the input.
    pub(super) fn code_ref(&self) -> Option<CodeRef<'a>> {
        Some(CodeRef {
            code: self.attr("code")?,
            system: self.attr("codeSystem"),
            display: self.attr("displayName"),
            system_name: self.attr("codeSystemName"),
        })
    }

    /// Current element: `code_ref`, then skipped.
    pub(super) fn code_ref_skip(&mut self) -> Result<Option<CodeRef<'a>>> {
        let c = self.code_ref();
        self.skip()?;
        Ok(c)
    }

    /// An [`InstanceId`] from `@root` (required) and `@extension`.
    pub(super) fn ii_here(&self) -> Option<InstanceId> {
        Some(InstanceId {
            root: self.owned("root")?,
            extension: self.owned("extension"),
        })
    }

    // ---- Small reusable readers ----------------------------------------------------------------

    /// Current element: a coded element whose code is read, then skipped.
    pub(super) fn code_skip(&mut self) -> Result<Option<Code>> {
        let c = self.code_here();
        self.skip()?;
        Ok(c)
    }

    /// Current element: an instance id, then skipped.
    pub(super) fn ii_skip(&mut self) -> Result<Option<InstanceId>> {
        let i = self.ii_here();
        self.skip()?;
        Ok(i)
    }

    /// Current element: one attribute, then skipped.
    pub(super) fn attr_skip(&mut self, name: &str) -> Result<Option<String>> {
        let v = self.owned(name);
        self.skip()?;
        Ok(v)
    }

    /// Current element (`text`, `originalText`): `@value` of its first `reference` child.
    pub(super) fn reference(&mut self) -> Result<Ref<'a>> {
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
    pub(super) fn child_attr(&mut self, name: &str, attr: &str) -> Result<Option<String>> {
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
    pub(super) fn coded(&mut self) -> Result<Coded<'a>> {
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
    pub(super) fn ivl(&mut self) -> Result<Ivl<'a>> {
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
    pub(super) fn statement(
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
}
