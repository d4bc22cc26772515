//! The hardened tokenizer loop (one pass over the bytes, eight at a time where it can: [`lex`])
//! and the [`Sink`] it hands elements, ends and text runs to.

use std::borrow::Cow;
use std::sync::Arc;

use super::lex;
use super::{XmlLimits, MAX_ATTRIBUTES, XMLNS_NS, XML_NS};
use crate::error::{NetError, Result};

/// Checks size and encoding of `input` and returns it as text, a UTF-8 BOM removed.
pub fn check_input<'a>(input: &'a [u8], limits: &XmlLimits) -> Result<&'a str> {
    if input.len() > limits.max_bytes {
        return Err(NetError::XmlTooLarge {
            size: input.len(),
            limit: limits.max_bytes,
        });
    }
    if input.starts_with(&[0xFE, 0xFF]) || input.starts_with(&[0xFF, 0xFE]) {
        return Err(NetError::XmlEncoding("UTF-16 byte order mark".into()));
    }
    let input = input.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(input);
    // simdutf8 (SIMD) decides; std only re-runs on failure, for the position in the error.
    match simdutf8::basic::from_utf8(input) {
        Ok(text) => Ok(text),
        Err(_) => std::str::from_utf8(input).map_err(|e| {
            NetError::XmlEncoding(format!("invalid UTF-8 at byte {}", e.valid_up_to()))
        }),
    }
}

/// An attribute as the tokenizer hands it to a sink.
#[derive(Debug, Clone)]
pub(crate) struct AttrData<'a> {
    /// Namespace id (0: none).
    pub(crate) ns: u32,
    /// Local name.
    pub(crate) name: &'a str,
    /// Normalised value (XML 1.0 §3.3.3).
    pub(crate) value: Cow<'a, str>,
}

/// The markup as written, for a sink that wants it ([`Sink::LEXICAL`]: canonicalization).
#[derive(Debug)]
pub(crate) enum Lexical<'t, 'a> {
    /// A start tag (instead of [`Sink::start`]).
    Start(StartTag<'t, 'a>),
    /// An end tag (instead of [`Sink::end`]): its offsets, of its `<` and just after its `>`.
    End { start: usize, end: usize },
    /// A comment (between `<!--` and `-->`), inside or outside the root element.
    Comment(&'a str),
    /// A processing instruction other than the XML declaration: its target and its data (from
    /// the first non-white-space character after the target).
    Pi { target: &'a str, data: &'a str },
}

/// A start tag as written (see [`Lexical::Start`]).
#[derive(Debug)]
pub(crate) struct StartTag<'t, 'a> {
    /// Qualified name as written.
    pub(crate) qname: &'a str,
    /// Prefix of the element name (`""` when there is none).
    pub(crate) prefix: &'a str,
    /// Namespace id of the element (0: none).
    pub(crate) ns: u32,
    /// Local name.
    pub(crate) local: &'a str,
    /// Whether it is an empty-element tag (no [`Lexical::End`] follows).
    pub(crate) empty: bool,
    /// Namespace declarations in document order: prefix (`""` for `xmlns`) and namespace id (0
    /// undeclares the default namespace).
    pub(crate) declarations: &'t [(&'a str, u32)],
    /// Attributes other than namespace declarations (to be taken), in document order.
    pub(crate) attrs: &'t mut Vec<AttrData<'a>>,
    /// Prefixes of `attrs` as written (`""` when there is none), in the same order.
    pub(crate) attr_prefixes: &'t [&'a str],
    /// Offset of the `<`.
    pub(crate) start: usize,
    /// Offset just after the `>` (or `/>`).
    pub(crate) content_start: usize,
}

/// Receives the tree as the tokenizer validates it.
pub(crate) trait Sink<'a> {
    /// Whether the sink also takes the markup as written ([`Sink::lexical`]); comments and
    /// processing instructions then count as nodes. A constant: the other sinks pay nothing.
    const LEXICAL: bool = false;
    /// Whether the sink takes text runs now (they are checked and counted either way).
    #[inline(always)]
    fn wants_text(&self) -> bool {
        true
    }
    /// The markup as written (only when [`Sink::LEXICAL`], and then instead of [`Sink::start`]
    /// and [`Sink::end`]).
    #[inline(always)]
    fn lexical(&mut self, _: Lexical<'_, 'a>) {}
    /// A check of the sink's own failed: the tokenizer stops there with this detail (only
    /// asked when [`Sink::LEXICAL`]).
    #[inline(always)]
    fn take_error(&mut self) -> Option<String> {
        None
    }
    /// A start tag (an empty-element tag is not followed by [`Sink::end`]); a lexical sink is
    /// handed it by [`Sink::lexical`] instead.
    #[inline(always)]
    fn start(
        &mut self,
        _namespaces: &[Cow<'a, str>],
        _ns: u32,
        _name: &'a str,
        _attrs: &mut Vec<AttrData<'a>>,
        _empty: bool,
    ) {
    }
    /// An end tag; a lexical sink is handed it by [`Sink::lexical`] instead.
    #[inline(always)]
    fn end(&mut self) {}
    /// `append`: the previous sibling is a text run this one continues. Borrowed text is as
    /// written (a text run or a CDATA section); owned text is a resolved reference.
    fn text(&mut self, text: Cow<'a, str>, append: bool);
}

/// An open element: its local name (for error paths), its qualified name (for the end tag)
/// and the bindings length before its declarations.
#[derive(Debug, Clone, Copy)]
struct Open<'a> {
    name: &'a str,
    qname: &'a str,
    mark: usize,
}

fn path_of(open: &[Open<'_>]) -> String {
    if open.is_empty() {
        return "/".to_owned();
    }
    let mut p = String::new();
    for o in open {
        p.push('/');
        p.push_str(o.name);
    }
    p
}

/// The hardened tokenizer: reads the input in one pass, byte by byte where it must and eight
/// bytes at a time where it can ([`lex`]), checking well-formedness (XML 1.0 §2.1: one root,
/// matching end tags, quoted and unique attributes, references §4.1) and namespaces (Namespaces
/// in XML 1.0 §3–§6) on the way, and hands elements, ends and text runs to a [`Sink`].
pub(super) struct Tokenizer<'a> {
    pub(super) src: &'a str,
    /// Offset in `src` of the next byte to read.
    pos: usize,
    pub(super) limits: XmlLimits,
    /// Interned namespace URIs; id n is `namespaces[n - 1]`, id 1 is the `xml` namespace.
    pub(super) namespaces: Vec<Cow<'a, str>>,
    /// In-scope prefix bindings (prefix, namespace id; 0 undeclares a default namespace).
    pub(super) bindings: Vec<(&'a str, u32)>,
    open: Vec<Open<'a>>,
    pub(super) attrs: Vec<AttrData<'a>>,
    /// Prefixes of `attrs`, resolved once every declaration of the tag is known.
    attr_prefixes: Vec<&'a str>,
    /// Attribute names of the current tag (duplicate check).
    keys: Vec<&'a str>,
    /// An element was started (an XML declaration may only come before).
    root_seen: bool,
    root_done: bool,
    nodes: usize,
    last_text: bool,
    /// Offset of the markup or text being read, for errors.
    position: u64,
    /// The last start tag: its offset in `src` and the bindings length before its declarations.
    pub(super) last_start: (usize, usize),
    /// `bindings` as shared by [`Mark`](super::Mark)s, until they change.
    pub(super) bindings_shared: Option<Arc<[(&'a str, u32)]>>,
}

impl<'a> Tokenizer<'a> {
    pub(super) fn new(
        src: &'a str,
        base: usize,
        limits: XmlLimits,
        namespaces: Vec<Cow<'a, str>>,
        bindings: Vec<(&'a str, u32)>,
    ) -> Self {
        Self {
            src,
            pos: base,
            limits,
            namespaces,
            bindings,
            open: Vec::with_capacity(32),
            attrs: Vec::with_capacity(8),
            attr_prefixes: Vec::with_capacity(8),
            keys: Vec::with_capacity(8),
            root_seen: base > 0,
            root_done: false,
            nodes: 0,
            last_text: false,
            position: base as u64,
            last_start: (base, 0),
            bindings_shared: None,
        }
    }

    #[cold]
    fn malformed(&self, detail: impl Into<String>) -> NetError {
        NetError::XmlMalformed {
            position: self.position,
            path: path_of(&self.open),
            detail: detail.into(),
        }
    }

    /// `src[from..to]`; both are offsets of ASCII bytes (or the end), so always on character
    /// boundaries.
    #[inline(always)]
    fn slice(&self, from: usize, to: usize) -> Result<&'a str> {
        self.src
            .get(from..to)
            .ok_or_else(|| self.malformed("not on a character boundary"))
    }

    /// Drops the bindings declared by the element that ends.
    #[inline(always)]
    fn unbind(&mut self, mark: usize) {
        if mark < self.bindings.len() {
            self.bindings.truncate(mark);
            self.bindings_shared = None;
        }
    }

    #[inline(always)]
    fn count_node(&mut self) -> Result<()> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(self.malformed(format!("more than {} nodes", self.limits.max_nodes)));
        }
        Ok(())
    }

    pub(super) fn intern(&mut self, uri: Cow<'a, str>) -> u32 {
        match self.namespaces.iter().position(|n| *n == uri) {
            Some(i) => i as u32 + 1,
            None => {
                self.namespaces.push(uri);
                self.namespaces.len() as u32
            }
        }
    }

    #[inline(always)]
    fn lookup(&self, prefix: &str) -> Option<u32> {
        let found = if prefix.is_empty() {
            // The common case (default namespace): no string comparison at all.
            self.bindings.iter().rev().find(|(p, _)| p.is_empty())
        } else if prefix == "xml" {
            return Some(1);
        } else {
            self.bindings
                .iter()
                .rev()
                .find(|(p, _)| p.len() == prefix.len() && p.as_bytes() == prefix.as_bytes())
        };
        found.map(|(_, id)| *id)
    }

    /// Reads the attributes of a start tag from `i` (just after the element name) up to and
    /// including its `>` or `/>` (`(S Name S? '=' S? AttValue)* S? '/'? '>'`, XML 1.0 §3.1):
    /// namespace declarations go to the bindings, other attributes to `self.attrs` with their
    /// prefix in `self.attr_prefixes`. Values are slices of the input unless a reference had to
    /// be resolved; `<` in a value and duplicate names are refused. Returns the offset after the
    /// tag and whether it was an empty-element tag.
    #[inline(always)]
    fn attributes(&mut self, mut i: usize) -> Result<(usize, bool)> {
        let src = self.src;
        let b = src.as_bytes();
        self.keys.clear();
        loop {
            let w = i;
            while b.get(i).is_some_and(|&c| lex::ws(c)) {
                i += 1;
            }
            match b.get(i) {
                Some(b'>') => return Ok((i + 1, false)),
                Some(b'/') => {
                    if b.get(i + 1) == Some(&b'>') {
                        return Ok((i + 2, true));
                    }
                    return Err(self.malformed("'/' not followed by '>' in a start tag"));
                }
                None => return Err(self.malformed("start tag not closed")),
                Some(_) => {}
            }
            if i == w {
                return Err(self.malformed("attributes must be separated by whitespace"));
            }
            self.attribute(&mut i)?;
        }
    }

    /// Reads one attribute from `*i` (its first name byte) to after its closing quote.
    #[inline(always)]
    fn attribute(&mut self, i: &mut usize) -> Result<()> {
        let src = self.src;
        let b = src.as_bytes();
        let k0 = *i;
        if !b.get(k0).is_some_and(|&c| lex::name_start(c)) {
            return Err(self.malformed("attribute name expected"));
        }
        let mut j = lex::name_end(b, k0);
        let key = self.slice(k0, j)?;
        while b.get(j).is_some_and(|&c| lex::ws(c)) {
            j += 1;
        }
        if b.get(j) != Some(&b'=') {
            return Err(self.malformed(format!("attribute {key:?} without a value")));
        }
        j += 1;
        while b.get(j).is_some_and(|&c| lex::ws(c)) {
            j += 1;
        }
        let quote = match b.get(j) {
            Some(q @ (b'"' | b'\'')) => *q,
            _ => return Err(self.malformed(format!("attribute {key:?}: value not quoted"))),
        };
        let v0 = j + 1;
        // The closing quote, or a byte that needs a closer look before it.
        let mut end = lex::value_end(b, v0, quote);
        let special = b.get(end).is_some_and(|&c| c != quote);
        if special {
            end = lex::find3(b, end, quote, quote, quote);
        }
        if end >= b.len() {
            return Err(self.malformed(format!("attribute {key:?}: value not closed")));
        }
        let value = self.slice(v0, end)?;
        *i = end + 1;
        let value: Cow<'a, str> = if !special {
            Cow::Borrowed(value)
        } else if value.contains('<') {
            return Err(self.malformed(format!("attribute {key:?}: '<' in value")));
        } else {
            lex::attr_value(value).map_err(|e| self.malformed(format!("attribute {key:?}: {e}")))?
        };
        if self
            .keys
            .iter()
            .any(|k| k.len() == key.len() && k.as_bytes() == key.as_bytes())
        {
            return Err(self.malformed(format!("duplicate attribute {key:?}")));
        }
        if self.keys.len() == MAX_ATTRIBUTES {
            // Bounds the (quadratic) duplicate check on hostile input.
            return Err(self.malformed(format!(
                "more than {MAX_ATTRIBUTES} attributes on one element"
            )));
        }
        self.keys.push(key);
        let (prefix, name) = self.split_qname(key)?;
        if prefix.is_empty() && name == "xmlns" {
            if value == XML_NS || value == XMLNS_NS {
                return Err(self.malformed("reserved namespace as default namespace"));
            }
            let id = if value.is_empty() {
                0
            } else {
                self.intern(value)
            };
            self.bindings.push(("", id));
            self.bindings_shared = None;
        } else if prefix == "xmlns" {
            let ok = match name {
                "xml" => value == XML_NS,
                "xmlns" => false,
                _ => !value.is_empty() && value != XML_NS && value != XMLNS_NS,
            };
            if !ok {
                return Err(self.malformed(format!("invalid namespace declaration {key:?}")));
            }
            let id = self.intern(value);
            self.bindings.push((name, id));
            self.bindings_shared = None;
        } else {
            self.attr_prefixes.push(prefix);
            self.attrs.push(AttrData { ns: 0, name, value });
        }
        Ok(())
    }

    /// Splits a qualified name (Namespaces in XML 1.0 §4: `Prefix ':' LocalPart`, each an
    /// NCName, without colon) into prefix (empty if none) and local part.
    #[inline(always)]
    fn split_qname(&self, qname: &'a str) -> Result<(&'a str, &'a str)> {
        let Some(c) = lex::colon_in(self.src, qname) else {
            return Ok(("", qname));
        };
        match (qname.get(..c), qname.get(c + 1..)) {
            (Some(p), Some(n))
                if n.as_bytes().first().is_some_and(|&c| lex::name_start(c))
                    && !n.contains(':') =>
            {
                Ok((p, n))
            }
            _ => Err(self.malformed(format!("invalid qualified name {qname:?}"))),
        }
    }

    /// Reads the start tag at `self.pos` (`<` then a name start): its namespace id, local name
    /// and whether it is an empty-element tag (attributes in `self.attrs`). The bindings an
    /// empty-element tag declared are dropped unless `keep` (then by the caller).
    #[inline(always)]
    fn start(&mut self, keep: bool) -> Result<(u32, &'a str, bool)> {
        if self.root_done {
            return Err(self.malformed("content after the root element"));
        }
        if self.open.len() >= self.limits.max_depth {
            return Err(NetError::XmlTooDeep {
                path: path_of(&self.open),
                limit: self.limits.max_depth,
            });
        }
        self.count_node()?;
        let b = self.src.as_bytes();
        let n0 = self.pos + 1;
        if !b.get(n0).is_some_and(|&c| lex::name_start(c)) {
            return Err(self.malformed("'<' not followed by an element name"));
        }
        let n1 = lex::name_end(b, n0);
        let qname = self.slice(n0, n1)?;
        let mark = self.bindings.len();
        self.attrs.clear();
        self.attr_prefixes.clear();
        let (after, empty) = self.attributes(n1)?;
        let (prefix, name) = self.split_qname(qname)?;
        let ns = match self.lookup(prefix) {
            Some(id) => id,
            None if prefix.is_empty() => 0,
            None => return Err(self.malformed(format!("undeclared prefix {prefix:?}"))),
        };
        for i in 0..self.attrs.len() {
            let prefix = self.attr_prefixes[i];
            if !prefix.is_empty() {
                let ns = self.lookup(prefix).filter(|id| *id != 0).ok_or_else(|| {
                    self.malformed(format!("undeclared attribute prefix {prefix:?}"))
                })?;
                self.attrs[i].ns = ns;
                // Namespaces in XML 1.0 §6.3: no two attributes with the same expanded name
                // (two prefixes bound to one URI).
                let name = self.attrs[i].name;
                if self.attrs[..i].iter().any(|a| a.ns == ns && a.name == name) {
                    return Err(self.malformed(format!(
                        "duplicate attribute {{{}}}{name}",
                        self.namespaces.get(ns as usize - 1).map_or("", |u| u)
                    )));
                }
            }
        }
        self.pos = after;
        self.root_seen = true;
        self.last_text = false;
        self.last_start = (self.position as usize, mark);
        if empty {
            if !keep {
                self.unbind(mark);
            }
            self.root_done = self.open.is_empty();
        } else {
            self.open.push(Open { name, qname, mark });
        }
        Ok((ns, name, empty))
    }

    /// Reads the end tag at `self.pos` (`</`): it must close the innermost open element.
    #[inline(always)]
    fn end(&mut self) -> Result<()> {
        let b = self.src.as_bytes();
        let n0 = self.pos + 2;
        let n1 = lex::name_end(b, n0);
        let mut i = n1;
        while b.get(i).is_some_and(|&c| lex::ws(c)) {
            i += 1;
        }
        if b.get(i) != Some(&b'>') {
            return Err(self.malformed("end tag not closed"));
        }
        let qname = self.slice(n0, n1)?;
        let Some(open) = self.open.last() else {
            return Err(self.malformed("unexpected end tag"));
        };
        if open.qname != qname {
            return Err(self.malformed(format!(
                "end tag </{qname}> does not close <{}>",
                open.qname
            )));
        }
        let mark = open.mark;
        self.open.pop();
        self.unbind(mark);
        self.last_text = false;
        self.root_done = self.open.is_empty();
        self.pos = i + 1;
        Ok(())
    }

    /// Counts a text run: `true` when it continues the previous one.
    #[inline(always)]
    fn text(&mut self) -> Result<bool> {
        let append = self.last_text;
        if !append {
            self.count_node()?;
        }
        self.last_text = true;
        Ok(append)
    }

    /// Reads `<!…`: a comment, CDATA (handed out as text: `Some`) or a refused DOCTYPE.
    #[cold]
    fn bang(&mut self) -> Result<Option<&'a str>> {
        let b = self.src.as_bytes();
        let at = self.pos;
        let rest = b.get(at..).unwrap_or_default();
        if rest.starts_with(b"<!--") {
            // XML 1.0 §2.5: no `--` inside a comment (the first `--` must close it).
            let end = lex::find_seq(b, at + 4, b"--")
                .ok_or_else(|| self.malformed("comment not closed"))?;
            if b.get(end + 2) != Some(&b'>') {
                return Err(self.malformed("'--' inside a comment"));
            }
            self.pos = end + 3;
            return Ok(None);
        }
        if rest.starts_with(b"<![CDATA[") {
            if self.open.is_empty() {
                return Err(self.malformed("CDATA outside the root element"));
            }
            let end = lex::find_seq(b, at + 9, b"]]>")
                .ok_or_else(|| self.malformed("CDATA section not closed"))?;
            let text = self.slice(at + 9, end)?;
            self.pos = end + 3;
            return Ok(Some(text));
        }
        if rest
            .get(2..9)
            .is_some_and(|k| k.eq_ignore_ascii_case(b"DOCTYPE"))
        {
            return Err(NetError::XmlDoctype);
        }
        Err(self.malformed("markup declaration other than a comment or CDATA"))
    }

    /// Reads `<?…?>`: a processing instruction (skipped) or the XML declaration (its encoding
    /// must be UTF-8).
    #[cold]
    fn pi(&mut self) -> Result<()> {
        let b = self.src.as_bytes();
        let at = self.pos;
        let end = lex::find_seq(b, at + 2, b"?>")
            .ok_or_else(|| self.malformed("processing instruction not closed"))?;
        let t1 = lex::name_end(b, at + 2).min(end);
        let target = self.slice(at + 2, t1)?;
        if target.is_empty() || !b.get(t1).is_some_and(|&c| lex::ws(c) || c == b'?') {
            return Err(self.malformed("processing instruction without a valid target"));
        }
        if target.eq_ignore_ascii_case("xml") {
            // XML 1.0 §2.8: only at the start; the reserved name is refused elsewhere.
            if target != "xml" || self.root_seen {
                return Err(self.malformed("XML declaration after the start of the document"));
            }
            let decl = self.slice(t1, end)?;
            if let Some(enc) = lex::xml_decl(decl).map_err(|e| self.malformed(e))? {
                if !enc.eq_ignore_ascii_case("utf-8") && !enc.eq_ignore_ascii_case("utf8") {
                    return Err(NetError::XmlEncoding(format!("declared encoding {enc:?}")));
                }
            }
        }
        self.pos = end + 2;
        Ok(())
    }

    /// The processing instruction just read from `at` (its target and its data), unless it was
    /// the XML declaration, for a lexical sink.
    #[cold]
    fn pi_parts(&self, at: usize) -> Result<Option<(&'a str, &'a str)>> {
        let t1 = lex::name_end(self.src.as_bytes(), at + 2);
        let target = self.slice(at + 2, t1)?;
        if target == "xml" {
            return Ok(None);
        }
        let data = self.slice(t1.min(self.pos - 2), self.pos - 2)?;
        Ok(Some((
            target,
            data.trim_start_matches([' ', '\t', '\r', '\n']),
        )))
    }

    /// Counts a comment or processing instruction as a node, for a lexical sink.
    #[cold]
    fn markup_node(&mut self) -> Result<()> {
        self.count_node()?;
        self.last_text = false;
        Ok(())
    }

    /// The start tag just read, as written, for a lexical sink.
    #[cold]
    fn start_tag(&mut self, ns: u32, local: &'a str, empty: bool) -> StartTag<'_, 'a> {
        let (start, mark) = self.last_start;
        let src = self.src;
        let qname = src
            .get(start + 1..lex::name_end(src.as_bytes(), start + 1))
            .unwrap_or("");
        let prefix = match lex::colon_in(src, qname) {
            Some(c) => qname.get(..c).unwrap_or(""),
            None => "",
        };
        StartTag {
            qname,
            prefix,
            ns,
            local,
            empty,
            attrs: &mut self.attrs,
            declarations: self.bindings.get(mark..).unwrap_or_default(),
            attr_prefixes: &self.attr_prefixes,
            start,
            content_start: self.pos,
        }
    }

    /// At the end of the input: every element closed and a root read.
    #[cold]
    fn eof(&self) -> Result<bool> {
        if !self.open.is_empty() {
            return Err(NetError::XmlTruncated {
                path: path_of(&self.open),
            });
        }
        if !self.root_done {
            return Err(self.malformed("no root element"));
        }
        Ok(false)
    }

    /// Reads up to the next element, end tag or text run, checking everything on the way, and
    /// hands it to `sink`; `false` at the end of the document.
    #[inline(always)]
    pub(super) fn step<S: Sink<'a>>(&mut self, sink: &mut S) -> Result<bool> {
        let b = self.src.as_bytes();
        loop {
            let at = self.pos;
            self.position = at as u64;
            let Some(&c) = b.get(at) else {
                return self.eof();
            };
            if c == b'<' {
                match b.get(at + 1) {
                    Some(b'/') => {
                        self.end()?;
                        if S::LEXICAL {
                            sink.lexical(Lexical::End {
                                start: at,
                                end: self.pos,
                            });
                        } else {
                            sink.end();
                        }
                        return Ok(true);
                    }
                    Some(b'!') => {
                        if let Some(text) = self.bang()? {
                            let append = self.text()?;
                            if sink.wants_text() {
                                sink.text(Cow::Borrowed(text), append);
                                return Ok(true);
                            }
                        } else if S::LEXICAL {
                            // A comment: `<!--` at `at`, `-->` just before `self.pos`.
                            self.markup_node()?;
                            sink.lexical(Lexical::Comment(self.slice(at + 4, self.pos - 3)?));
                            return Ok(true);
                        }
                    }
                    Some(b'?') => {
                        self.pi()?;
                        if S::LEXICAL {
                            if let Some((target, data)) = self.pi_parts(at)? {
                                self.markup_node()?;
                                sink.lexical(Lexical::Pi { target, data });
                                return Ok(true);
                            }
                        }
                    }
                    _ => {
                        let (ns, name, empty) = self.start(S::LEXICAL)?;
                        if S::LEXICAL {
                            sink.lexical(Lexical::Start(self.start_tag(ns, name, empty)));
                            if empty {
                                self.unbind(self.last_start.1);
                            }
                        } else {
                            sink.start(&self.namespaces, ns, name, &mut self.attrs, empty);
                        }
                        return Ok(true);
                    }
                }
            } else if c == b'&' {
                if self.open.is_empty() {
                    return Err(self.malformed("reference outside the root element"));
                }
                let (end, resolved) = lex::reference(b, at).map_err(|e| self.malformed(e))?;
                self.pos = end;
                let append = self.text()?;
                if sink.wants_text() {
                    let mut s = String::with_capacity(4);
                    resolved.push_to(&mut s);
                    sink.text(Cow::Owned(s), append);
                    return Ok(true);
                }
            } else {
                let mut end = lex::text_end(b, at);
                while b.get(end) == Some(&b']') {
                    if b.get(end..end + 3) == Some(b"]]>") {
                        return Err(self.malformed("']]>' in text"));
                    }
                    end = lex::text_end(b, end + 1);
                }
                self.pos = end;
                if self.open.is_empty() {
                    if b.get(at..end)
                        .unwrap_or_default()
                        .iter()
                        .all(|&c| lex::ws(c))
                    {
                        continue;
                    }
                    return Err(self.malformed("text outside the root element"));
                }
                let append = self.text()?;
                if sink.wants_text() {
                    sink.text(Cow::Borrowed(self.slice(at, end)?), append);
                    return Ok(true);
                }
            }
        }
    }
}

/// Reads the whole of `src` into `sink` and returns the interned namespace URIs (id n is
/// `[n - 1]`, id 1 the `xml` namespace).
pub(crate) fn tokenize<'a, S: Sink<'a>>(
    src: &'a str,
    limits: &XmlLimits,
    sink: &mut S,
) -> Result<Vec<Cow<'a, str>>> {
    let mut t = Tokenizer::new(src, 0, *limits, vec![Cow::Borrowed(XML_NS)], Vec::new());
    while t.step(sink)? {
        if S::LEXICAL {
            if let Some(detail) = sink.take_error() {
                return Err(t.malformed(detail));
            }
        }
    }
    Ok(t.namespaces)
}
