//! [`XmlReader`]: the tokenizer loop's events one by one, with no tree; marks to read an element
//! again, and [`Visitor`]s that take the events pushed from inside the loop.

use std::borrow::Cow;
use std::sync::Arc;

use super::tokenizer::{check_input, AttrData, Sink, Tokenizer};
use super::{XmlLimits, XML_NS};
use crate::error::Result;

/// A namespace as interned by an [`XmlReader`]: ids compare in one instruction where URIs would
/// need a string comparison. [`NsId::NONE`] is "no namespace".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct NsId(u32);

impl NsId {
    /// No namespace (an unprefixed name with no default namespace in scope).
    pub const NONE: NsId = NsId(0);
}

/// An event of [`XmlReader::read_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlEvent<'a> {
    /// A start tag (an empty-element tag `<a/>` gives `Start` then `End`); its attributes are
    /// read with [`XmlReader::attr`] and friends until the next event.
    Start {
        /// Namespace of the element.
        ns: NsId,
        /// Local name (without prefix).
        name: &'a str,
    },
    /// The end of the innermost open element.
    End,
    /// A run of character data (CDATA included, references resolved). Consecutive runs (split by
    /// a comment, a processing instruction, a reference or CDATA) are separate events.
    Text(Cow<'a, str>),
    /// The end of the document (returned again on every later call).
    Eof,
}

/// Where a start tag was read, with the namespace bindings in scope there, so that the element
/// can be read again with [`XmlReader::replay`] (e.g. to serialise it once its content showed it
/// is needed).
#[derive(Debug, Clone)]
pub struct Mark<'a> {
    pos: usize,
    bindings: Arc<[(&'a str, u32)]>,
}

/// A pull reader over the same hardened tokenizer as [`parse`] and [`parse_document`] (same
/// checks, same errors, same limits), event by event and without building any tree: for readers
/// that fill their own model in one pass.
///
/// [`parse`]: super::parse
/// [`parse_document`]: super::parse_document
pub struct XmlReader<'a> {
    tok: Tokenizer<'a>,
    /// An empty-element tag was just returned as `Start`: its `End` comes next.
    pending_end: bool,
    /// The last event was a `Start`: its attributes are readable.
    at_start: bool,
}

/// What [`XmlReader::read_to_end_with`] hands the content of an element to: the same events
/// as [`XmlReader::read_event`], pushed instead of pulled (no event is materialised for what
/// the visitor does not look at).
pub trait Visitor<'a> {
    /// Whether text runs are wanted now (they are checked and counted either way).
    fn wants_text(&self) -> bool;
    /// A start tag (an empty-element tag is followed by [`Visitor::end`]).
    fn start(&mut self, ns: NsId, name: &'a str, attributes: Attributes<'_, 'a>);
    /// A text run (only while [`Visitor::wants_text`]).
    fn text(&mut self, text: Cow<'a, str>);
    /// An end tag.
    fn end(&mut self);
}

/// The attributes of a start tag handed to a [`Visitor`].
#[derive(Clone, Copy)]
pub struct Attributes<'r, 'a>(&'r [AttrData<'a>]);

impl<'a> Attributes<'_, 'a> {
    /// The value of an unprefixed attribute.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.0
            .iter()
            .find(|a| a.ns == 0 && a.name.len() == name.len() && a.name == name)
            .map(|a| a.value.clone())
    }
}

/// Drives a [`Visitor`] from the tokenizer to the end of the element being read.
struct Visit<'v, V> {
    visitor: &'v mut V,
    depth: usize,
    done: bool,
}

impl<'a, V: Visitor<'a>> Sink<'a> for Visit<'_, V> {
    #[inline(always)]
    fn wants_text(&self) -> bool {
        self.visitor.wants_text()
    }
    #[inline(always)]
    fn start(
        &mut self,
        _: &[Cow<'a, str>],
        ns: u32,
        name: &'a str,
        attrs: &mut Vec<AttrData<'a>>,
        empty: bool,
    ) {
        self.visitor.start(NsId(ns), name, Attributes(attrs));
        if empty {
            self.visitor.end();
        } else {
            self.depth += 1;
        }
    }
    #[inline(always)]
    fn end(&mut self) {
        self.visitor.end();
        match self.depth.checked_sub(1) {
            Some(d) => self.depth = d,
            None => self.done = true,
        }
    }
    #[inline(always)]
    fn text(&mut self, text: Cow<'a, str>, _: bool) {
        self.visitor.text(text);
    }
}

/// The sink of [`XmlReader`]: keeps the one event just read (attributes stay in the tokenizer).
struct Slot<'a, const TEXT: bool> {
    event: XmlEvent<'a>,
    empty: bool,
}

impl<'a, const TEXT: bool> Sink<'a> for Slot<'a, TEXT> {
    #[inline(always)]
    fn wants_text(&self) -> bool {
        TEXT
    }

    #[inline(always)]
    fn start(
        &mut self,
        _: &[Cow<'a, str>],
        ns: u32,
        name: &'a str,
        _: &mut Vec<AttrData<'a>>,
        empty: bool,
    ) {
        self.event = XmlEvent::Start { ns: NsId(ns), name };
        self.empty = empty;
    }
    #[inline(always)]
    fn end(&mut self) {
        self.event = XmlEvent::End;
    }
    #[inline(always)]
    fn text(&mut self, text: Cow<'a, str>, _: bool) {
        self.event = XmlEvent::Text(text);
    }
}

impl<'a> XmlReader<'a> {
    /// Checks size and encoding of `input` (as [`parse`]) and starts reading it.
    ///
    /// [`parse`]: super::parse
    pub fn new(input: &'a [u8], limits: &XmlLimits) -> Result<Self> {
        let src = check_input(input, limits)?;
        Ok(Self {
            tok: Tokenizer::new(src, 0, *limits, vec![Cow::Borrowed(XML_NS)], Vec::new()),
            pending_end: false,
            at_start: false,
        })
    }

    /// The next event. Every check of [`parse`] is made on the way, so a document read to
    /// [`XmlEvent::Eof`] without error is one [`parse`] accepts, and an error is the one it gives.
    ///
    /// [`parse`]: super::parse
    pub fn read_event(&mut self) -> Result<XmlEvent<'a>> {
        self.next::<true>()
    }

    /// The next event other than text: as [`XmlReader::read_event`] (text is still checked and
    /// counted against the limits) for readers that have no use for the text at that point.
    #[inline]
    pub fn read_markup(&mut self) -> Result<XmlEvent<'a>> {
        self.next::<false>()
    }

    #[inline(always)]
    fn next<const TEXT: bool>(&mut self) -> Result<XmlEvent<'a>> {
        if self.pending_end {
            self.pending_end = false;
            self.at_start = false;
            return Ok(XmlEvent::End);
        }
        let mut slot = Slot::<TEXT> {
            event: XmlEvent::Eof,
            empty: false,
        };
        let more = self.tok.step(&mut slot);
        self.at_start = false;
        if !more? {
            return Ok(XmlEvent::Eof);
        }
        if let XmlEvent::Start { .. } = slot.event {
            self.at_start = true;
            self.pending_end = slot.empty;
        }
        Ok(slot.event)
    }

    /// Reads the rest of the element whose start tag was read last (its end tag included),
    /// handing every event to `visitor` from inside the tokenizer loop: cheaper than pulling
    /// events one by one when the reader has little to do with each. Same checks as
    /// [`XmlReader::read_event`].
    pub fn read_to_end_with<V: Visitor<'a>>(&mut self, visitor: &mut V) -> Result<()> {
        self.at_start = false;
        if self.pending_end {
            // An empty-element tag: only its end is left.
            self.pending_end = false;
            visitor.end();
            return Ok(());
        }
        let mut visit = Visit {
            visitor,
            depth: 0,
            done: false,
        };
        while !visit.done && self.tok.step(&mut visit)? {}
        Ok(())
    }

    /// The input text (a UTF-8 BOM removed).
    pub fn source(&self) -> &'a str {
        self.tok.src
    }

    /// The id this reader gives (or will give, once declared) to a namespace URI.
    pub fn namespace_id(&mut self, uri: &'a str) -> NsId {
        NsId(self.tok.intern(Cow::Borrowed(uri)))
    }

    /// The URI of a namespace id (None for [`NsId::NONE`]).
    pub fn namespace_uri(&self, ns: NsId) -> Option<&str> {
        match ns.0 {
            0 => None,
            n => self.tok.namespaces.get(n as usize - 1).map(|c| &**c),
        }
    }

    fn attrs(&self) -> &[AttrData<'a>] {
        if self.at_start {
            &self.tok.attrs
        } else {
            &[]
        }
    }

    /// The value of an unprefixed attribute of the start tag just read.
    pub fn attr(&self, name: &str) -> Option<Cow<'a, str>> {
        self.attrs()
            .iter()
            .find(|a| a.ns == 0 && a.name.len() == name.len() && a.name == name)
            .map(|a| a.value.clone())
    }

    /// The value of a namespaced attribute (e.g. `xsi:type`) of the start tag just read.
    pub fn attr_ns(&self, ns: NsId, name: &str) -> Option<Cow<'a, str>> {
        self.attrs()
            .iter()
            .find(|a| a.ns == ns.0 && ns.0 != 0 && a.name == name)
            .map(|a| a.value.clone())
    }

    /// The attributes of the start tag just read (namespace declarations excluded), in
    /// document order: (namespace, local name, unescaped value).
    pub fn attributes(&self) -> impl ExactSizeIterator<Item = (NsId, &'a str, &Cow<'a, str>)> {
        self.attrs().iter().map(|a| (NsId(a.ns), a.name, &a.value))
    }

    /// A mark on the start tag just read (see [`XmlReader::replay`]); cheap (the namespace
    /// bindings in scope are shared between marks while they do not change).
    pub fn mark(&mut self) -> Mark<'a> {
        let (pos, bound) = self.tok.last_start;
        let tok = &mut self.tok;
        let bindings = if bound == tok.bindings.len() {
            // The element declared nothing: the bindings in scope, shared while they last.
            tok.bindings_shared
                .get_or_insert_with(|| Arc::from(tok.bindings.as_slice()))
                .clone()
        } else {
            Arc::from(tok.bindings.get(..bound).unwrap_or_default())
        };
        Mark { pos, bindings }
    }

    /// A reader of the element marked by `mark` (on this reader) again: its first event is that
    /// element's `Start`; the caller stops at the matching `End`. The bytes were checked by the
    /// first read, under the same limits.
    pub fn replay(&self, mark: &Mark<'a>) -> XmlReader<'a> {
        XmlReader {
            tok: Tokenizer::new(
                self.tok.src,
                mark.pos,
                self.tok.limits,
                self.tok.namespaces.clone(),
                mark.bindings.to_vec(),
            ),
            pending_end: false,
            at_start: false,
        }
    }
}
