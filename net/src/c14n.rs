//! XML canonicalization: Canonical XML 1.0 and Exclusive XML Canonicalization 1.0.
//!
//! - [Canonical XML 1.0] (`REC-xml-c14n-20010315`, with or without comments): used by the
//!   XAdES submission-set signature of the DMP (`dmp.md` §6) and by DRIMbox for the CDA bytes
//!   (`dmp.md` §3).
//! - [Exclusive XML Canonicalization 1.0] (`xml-exc-c14n#`, with or without comments, with an
//!   `InclusiveNamespaces PrefixList`): used by the VIHF signature (`dmp.md` §4) and by every
//!   SAML/WS-Security signature.
//!
//! The input is read from raw bytes into a small tree that keeps what canonicalization needs and
//! [`crate::xml`] drops: prefixes, namespace declarations, comments and processing instructions.
//! The same hardening applies (no DOCTYPE hence no entity other than the five predefined ones,
//! size, depth and node limits, UTF-8 only), then the XML processor's normalisations (XML 1.0
//! §2.11 line ends, §3.3.3 attribute values; every attribute is CDATA since there is no DTD).
//!
//! What can be canonicalised: the whole document, or the subtree of one element (found by its
//! `ID`/`Id`/`id` attribute, with the namespace context of its ancestors applied per each
//! algorithm's rules), optionally without one descendant element (the enveloped-signature
//! transform, XMLDSig §6.6.4). Output rules (C14N 1.0 §2.3, §4): UTF-8, attributes sorted by
//! namespace URI then local name after the namespace declarations sorted by prefix, superfluous
//! declarations removed, empty elements written as start-end pairs, `&amp; &lt; &gt; &#xD;` in
//! text, `&amp; &lt; &quot; &#x9; &#xA; &#xD;` in attribute values, CDATA sections replaced by
//! their (escaped) text, no XML declaration, whitespace outside the document element dropped.
//!
//! [Canonical XML 1.0]: https://www.w3.org/TR/2001/REC-xml-c14n-20010315
//! [Exclusive XML Canonicalization 1.0]: https://www.w3.org/TR/2002/REC-xml-exc-c14n-20020718/

use std::borrow::Cow;
use std::fmt;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::error::{NetError, Result};
use crate::xml::{check_input, XmlLimits, MAX_ATTRIBUTES, XML_NS};

/// Algorithm URI of Canonical XML 1.0 without comments (C14N 1.0 §2.1).
pub const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
/// Algorithm URI of Canonical XML 1.0 with comments (C14N 1.0 §2.1).
pub const C14N_WITH_COMMENTS: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
/// Algorithm URI of Exclusive XML Canonicalization 1.0 without comments (exc-c14n §2).
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// Algorithm URI of Exclusive XML Canonicalization 1.0 with comments (exc-c14n §2).
pub const EXC_C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
/// Namespace of the `InclusiveNamespaces` element (exc-c14n §2.1): the algorithm URI itself.
pub const EXC_C14N_NS: &str = EXC_C14N;
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// A canonicalization algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// Canonical XML 1.0 (inclusive): every namespace in scope is rendered on the apex element,
    /// and the `xml:*` attributes of its ancestors are inherited (C14N 1.0 §2.4).
    Inclusive {
        /// Keep comments (`#WithComments`).
        with_comments: bool,
    },
    /// Exclusive XML Canonicalization 1.0: only visibly utilised namespaces are rendered
    /// (exc-c14n §3), except the prefixes of the `InclusiveNamespaces PrefixList`, which follow
    /// the inclusive rules.
    Exclusive {
        /// Keep comments (`#WithComments`).
        with_comments: bool,
        /// The `PrefixList`, `""` standing for `#default`.
        inclusive_prefixes: Vec<String>,
    },
}

impl Method {
    /// Exclusive c14n without comments and with this `PrefixList` (`"#default"` or `""` for the
    /// default namespace).
    pub fn exclusive(prefixes: &[&str]) -> Self {
        Method::Exclusive {
            with_comments: false,
            inclusive_prefixes: prefixes
                .iter()
                .map(|p| if *p == "#default" { "" } else { *p }.to_owned())
                .collect(),
        }
    }

    /// The method named by an algorithm URI, with the `PrefixList` of an `InclusiveNamespaces`
    /// child for the exclusive ones (ignored for the inclusive ones, which have no parameter).
    pub fn from_uri(uri: &str, prefix_list: Option<&str>) -> Option<Self> {
        let prefixes = || prefix_list.map(parse_prefix_list).unwrap_or_default();
        match uri {
            C14N => Some(Method::Inclusive {
                with_comments: false,
            }),
            C14N_WITH_COMMENTS => Some(Method::Inclusive {
                with_comments: true,
            }),
            EXC_C14N => Some(Method::Exclusive {
                with_comments: false,
                inclusive_prefixes: prefixes(),
            }),
            EXC_C14N_WITH_COMMENTS => Some(Method::Exclusive {
                with_comments: true,
                inclusive_prefixes: prefixes(),
            }),
            _ => None,
        }
    }

    /// The algorithm URI.
    pub fn uri(&self) -> &'static str {
        match self {
            Method::Inclusive {
                with_comments: false,
            } => C14N,
            Method::Inclusive {
                with_comments: true,
            } => C14N_WITH_COMMENTS,
            Method::Exclusive {
                with_comments: false,
                ..
            } => EXC_C14N,
            Method::Exclusive {
                with_comments: true,
                ..
            } => EXC_C14N_WITH_COMMENTS,
        }
    }

    /// Whether comments are kept.
    pub fn with_comments(&self) -> bool {
        match self {
            Method::Inclusive { with_comments } | Method::Exclusive { with_comments, .. } => {
                *with_comments
            }
        }
    }

    /// The same method without comments (XMLDSig §4.3.3.3: a same-document reference selects a
    /// node-set without comments).
    pub fn without_comments(&self) -> Self {
        let mut m = self.clone();
        match &mut m {
            Method::Inclusive { with_comments } | Method::Exclusive { with_comments, .. } => {
                *with_comments = false;
            }
        }
        m
    }

    /// The `PrefixList` attribute value (`#default` for the default namespace), for the
    /// exclusive methods with a non-empty list.
    pub fn prefix_list(&self) -> Option<String> {
        match self {
            Method::Exclusive {
                inclusive_prefixes, ..
            } if !inclusive_prefixes.is_empty() => Some(
                inclusive_prefixes
                    .iter()
                    .map(|p| if p.is_empty() { "#default" } else { p.as_str() })
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        }
    }
}

/// Splits an `InclusiveNamespaces PrefixList` (whitespace-separated, `#default` for the default
/// namespace, exc-c14n §3) into prefixes, `""` standing for `#default`.
pub fn parse_prefix_list(list: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in list.split_ascii_whitespace() {
        let p = if p == "#default" { "" } else { p };
        if !out.iter().any(|q| q == p) {
            out.push(p.to_owned());
        }
    }
    out
}

/// Canonicalises a whole document.
pub fn canonicalize(xml: &[u8], method: &Method, limits: &XmlLimits) -> Result<Vec<u8>> {
    let doc = Document::parse(xml, limits)?;
    let mut out = Vec::with_capacity(xml.len());
    doc.canonicalize_into(Subset::Document, None, method, &mut out);
    Ok(out)
}

/// Canonicalises the subtree of the one element whose `ID`, `Id` or `id` attribute is `id`
/// (fails with [`NetError::XmlIdNotFound`] or [`NetError::DuplicateId`]).
pub fn canonicalize_by_id(
    xml: &[u8],
    id: &str,
    method: &Method,
    limits: &XmlLimits,
) -> Result<Vec<u8>> {
    let doc = Document::parse(xml, limits)?;
    let el = doc.element_by_id(id)?;
    let mut out = Vec::with_capacity(xml.len());
    doc.canonicalize_into(Subset::Element(el.id()), None, method, &mut out);
    Ok(out)
}

// ---- The tree --------------------------------------------------------------------------------

const NONE: u32 = u32::MAX;
/// Namespace id of the `xml` prefix (ids start at 1; 0 means "no namespace").
const XML_ID: u32 = 1;

/// The handle of an element of a [`Document`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ElementId(u32);

/// Byte offsets of an element in [`Document::source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElementSpan {
    /// The `<` of the start tag.
    pub start: usize,
    /// Just after the `>` of the start tag (equals `end` for an empty-element tag).
    pub content_start: usize,
    /// The `<` of the end tag (equals `end` for an empty-element tag).
    pub content_end: usize,
    /// Just after the end tag.
    pub end: usize,
}

#[derive(Debug)]
enum Child<'a> {
    Element(u32),
    Text(Cow<'a, str>),
    Comment(Cow<'a, str>),
    Pi { target: &'a str, data: Cow<'a, str> },
}

#[derive(Debug)]
struct Attr<'a> {
    qname: &'a str,
    local: &'a str,
    ns: u32,
    value: Cow<'a, str>,
}

#[derive(Debug)]
struct Elem<'a> {
    qname: &'a str,
    prefix: &'a str,
    local: &'a str,
    ns: u32,
    /// Namespace declarations: prefix (`""` for the default one) and namespace id (0 undeclares
    /// the default namespace).
    decls: Vec<(&'a str, u32)>,
    attrs: Vec<Attr<'a>>,
    children: Vec<Child<'a>>,
    parent: u32,
    span: ElementSpan,
}

/// A parsed document, kept with everything canonicalization needs (prefixes, namespace
/// declarations, comments, processing instructions, byte spans).
pub struct Document<'a> {
    src: &'a str,
    /// Namespace URIs; id n is `namespaces[n - 1]`, id 1 is the `xml` namespace.
    namespaces: Vec<Cow<'a, str>>,
    elements: Vec<Elem<'a>>,
    /// Comments and processing instructions outside the document element, and the root.
    top: Vec<Child<'a>>,
    root: u32,
}

impl fmt::Debug for Document<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the content: it may carry patient identity.
        f.debug_struct("Document")
            .field("bytes", &self.src.len())
            .field("elements", &self.elements.len())
            .finish_non_exhaustive()
    }
}

/// What to canonicalise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subset {
    /// The whole document (with the comments and processing instructions around the root).
    Document,
    /// The subtree of one element (a same-document reference `#id`).
    Element(ElementId),
}

impl<'a> Document<'a> {
    /// Reads a document under `limits` (size, depth, node count), refusing DOCTYPE, non-UTF-8
    /// input, undeclared prefixes and any entity other than the predefined ones.
    pub fn parse(input: &'a [u8], limits: &XmlLimits) -> Result<Self> {
        let src = check_input(input, limits)?;
        Builder::new(src, limits).run()
    }

    /// The input text (a UTF-8 byte order mark removed); [`ElementSpan`] offsets index it.
    pub fn source(&self) -> &'a str {
        self.src
    }

    /// The document element.
    pub fn root(&self) -> ElementRef<'_, 'a> {
        ElementRef {
            doc: self,
            id: self.root,
        }
    }

    /// The element of this handle.
    ///
    /// A handle from another document gives the root (never a panic).
    pub fn element(&self, id: ElementId) -> ElementRef<'_, 'a> {
        let id = if (id.0 as usize) < self.elements.len() {
            id.0
        } else {
            self.root
        };
        ElementRef { doc: self, id }
    }

    /// The one element whose unprefixed `ID`, `Id` or `id` attribute equals `id`.
    ///
    /// More than one such element is refused ([`NetError::DuplicateId`]): a signature checker
    /// that picked the first one could be fooled by a wrapped copy (XML signature wrapping).
    pub fn element_by_id(&self, id: &str) -> Result<ElementRef<'_, 'a>> {
        let mut found = None;
        let mut count = 0usize;
        for (i, e) in self.elements.iter().enumerate() {
            let has = e.attrs.iter().any(|a| {
                a.ns == 0 && matches!(a.local, "ID" | "Id" | "id") && a.value.as_ref() == id
            });
            if has {
                count += 1;
                found = Some(i as u32);
            }
        }
        match (found, count) {
            (Some(i), 1) => Ok(ElementRef { doc: self, id: i }),
            (None, _) => Err(NetError::XmlIdNotFound { id: id.to_owned() }),
            (Some(_), count) => Err(NetError::DuplicateId {
                id: id.to_owned(),
                count,
            }),
        }
    }

    fn ns_str(&self, id: u32) -> &str {
        match id {
            0 => "",
            n => self
                .namespaces
                .get(n as usize - 1)
                .map(|c| c.as_ref())
                .unwrap_or(""),
        }
    }

    /// Appends the canonical form of `subset` to `out`, leaving out the subtree of `exclude`
    /// (the enveloped-signature transform, XMLDSig §6.6.4) when given.
    pub fn canonicalize_into(
        &self,
        subset: Subset,
        exclude: Option<ElementId>,
        method: &Method,
        out: &mut Vec<u8>,
    ) {
        let mut w = Writer {
            doc: self,
            exclusive: match method {
                Method::Inclusive { .. } => None,
                Method::Exclusive {
                    inclusive_prefixes, ..
                } => Some(inclusive_prefixes.as_slice()),
            },
            comments: method.with_comments(),
            exclude: exclude.map_or(NONE, |e| e.0),
            scope: Vec::new(),
            rendered: Vec::new(),
            out,
        };
        match subset {
            Subset::Element(apex) => {
                let apex = self.element(apex).id;
                // The namespace context of the apex: its ancestors' declarations, outermost
                // first.
                let mut chain = Vec::new();
                let mut p = self.elements[apex as usize].parent;
                while p != NONE {
                    chain.push(p);
                    p = self.elements[p as usize].parent;
                }
                for &a in chain.iter().rev() {
                    w.scope.extend_from_slice(&self.elements[a as usize].decls);
                }
                if apex != w.exclude {
                    w.subtree(apex);
                }
            }
            Subset::Document => {
                let mut after_root = false;
                for child in &self.top {
                    match child {
                        Child::Element(root) => {
                            if *root != w.exclude {
                                w.subtree(*root);
                            }
                            after_root = true;
                        }
                        Child::Comment(_) | Child::Pi { .. } => {
                            if matches!(child, Child::Comment(_)) && !w.comments {
                                continue;
                            }
                            if after_root {
                                w.out.push(b'\n');
                            }
                            w.leaf(child);
                            if !after_root {
                                w.out.push(b'\n');
                            }
                        }
                        Child::Text(_) => {}
                    }
                }
            }
        }
    }

    /// The canonical form of `subset` (see [`Document::canonicalize_into`]).
    pub fn canonicalize(
        &self,
        subset: Subset,
        exclude: Option<ElementId>,
        method: &Method,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.src.len());
        self.canonicalize_into(subset, exclude, method, &mut out);
        out
    }
}

/// An element of a [`Document`].
#[derive(Clone, Copy)]
pub struct ElementRef<'d, 'a> {
    doc: &'d Document<'a>,
    id: u32,
}

impl fmt::Debug for ElementRef<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ElementRef")
            .field("name", &self.e().qname)
            .field("ns", &self.namespace())
            .finish()
    }
}

impl<'d, 'a> ElementRef<'d, 'a> {
    fn e(&self) -> &'d Elem<'a> {
        &self.doc.elements[self.id as usize]
    }

    /// The handle, for [`Document::canonicalize_into`].
    pub fn id(self) -> ElementId {
        ElementId(self.id)
    }

    /// The qualified name as written.
    pub fn qname(self) -> &'d str {
        self.e().qname
    }

    /// The prefix (`""` when there is none).
    pub fn prefix(self) -> &'d str {
        self.e().prefix
    }

    /// The local name.
    pub fn local_name(self) -> &'d str {
        self.e().local
    }

    /// The namespace URI (None when the element is in no namespace).
    pub fn namespace(self) -> Option<&'d str> {
        match self.e().ns {
            0 => None,
            n => Some(self.doc.ns_str(n)),
        }
    }

    /// Whether this element has this namespace URI and local name.
    pub fn is(self, ns: &str, local: &str) -> bool {
        self.e().local == local && self.namespace() == Some(ns)
    }

    /// The normalised value of an unprefixed attribute.
    pub fn attr(self, name: &str) -> Option<&'d str> {
        self.e()
            .attrs
            .iter()
            .find(|a| a.ns == 0 && a.local == name)
            .map(|a| a.value.as_ref())
    }

    /// The parent element.
    pub fn parent(self) -> Option<ElementRef<'d, 'a>> {
        match self.e().parent {
            NONE => None,
            p => Some(ElementRef {
                doc: self.doc,
                id: p,
            }),
        }
    }

    /// Child elements in document order.
    pub fn elements(self) -> impl Iterator<Item = ElementRef<'d, 'a>> + 'd {
        let doc = self.doc;
        self.e().children.iter().filter_map(move |c| match c {
            Child::Element(id) => Some(ElementRef { doc, id: *id }),
            _ => None,
        })
    }

    /// The first child element with this namespace URI and local name.
    pub fn child(self, ns: &str, local: &str) -> Option<ElementRef<'d, 'a>> {
        self.elements().find(|e| e.is(ns, local))
    }

    /// The direct text content (CDATA included, references resolved, comments skipped).
    pub fn text(self) -> Cow<'d, str> {
        let mut texts = self.e().children.iter().filter_map(|c| match c {
            Child::Text(t) => Some(t.as_ref()),
            _ => None,
        });
        match (texts.next(), texts.next()) {
            (None, _) => Cow::Borrowed(""),
            (Some(one), None) => Cow::Borrowed(one),
            (Some(a), Some(b)) => {
                let mut s = String::from(a);
                s.push_str(b);
                texts.for_each(|t| s.push_str(t));
                Cow::Owned(s)
            }
        }
    }

    /// The namespace URI bound to `prefix` (`""`: the default namespace) where this element is.
    pub fn lookup_namespace(self, prefix: &str) -> Option<&'d str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        let mut cur = Some(self);
        while let Some(e) = cur {
            if let Some((_, id)) = e.e().decls.iter().find(|(p, _)| *p == prefix) {
                return (*id != 0).then(|| self.doc.ns_str(*id));
            }
            cur = e.parent();
        }
        None
    }

    /// Byte offsets of the element in [`Document::source`].
    pub fn span(self) -> ElementSpan {
        self.e().span
    }
}

// ---- Reading --------------------------------------------------------------------------------

/// `part` (a sub-slice of `src`, as quick-xml hands out when reading from a `&str`) as a slice
/// of `src`, without validating UTF-8 again.
fn sub<'a>(src: &'a str, part: &[u8]) -> Option<&'a str> {
    let start = (part.as_ptr() as usize).checked_sub(src.as_ptr() as usize)?;
    src.get(start..start.checked_add(part.len())?)
}

/// XML 1.0 §2.2 `Char`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// XML 1.0 §2.11: `\r\n` and lone `\r` become `\n`.
fn normalize_eol(s: &str) -> Cow<'_, str> {
    if !s.contains('\r') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Resolves a reference body (between `&` and `;`): a character reference or one of the five
/// predefined entities (no DTD, so nothing else exists).
fn resolve_ref(name: &str) -> std::result::Result<char, String> {
    let c = if let Some(hex) = name.strip_prefix("#x") {
        u32::from_str_radix(hex, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| format!("invalid character reference &{name};"))?
    } else if let Some(dec) = name.strip_prefix('#') {
        dec.parse::<u32>()
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| format!("invalid character reference &{name};"))?
    } else {
        match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => return Err(format!("undeclared entity &{name};")),
        }
    };
    if !is_xml_char(c) {
        return Err(format!(
            "character reference &{name}; is not an XML character"
        ));
    }
    Ok(c)
}

/// XML 1.0 §3.3.3 for a CDATA attribute: line ends normalised, each literal whitespace
/// character replaced by a space, references resolved.
fn normalize_attr(raw: &str) -> std::result::Result<Cow<'_, str>, String> {
    if !raw
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'\t' | b'\n' | b'\r'))
    {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => return Err("'<' in an attribute value".into()),
            '&' => {
                let end = rest
                    .find(';')
                    .ok_or_else(|| "unterminated reference in an attribute value".to_owned())?;
                out.push(resolve_ref(&rest[1..end])?);
                rest = &rest[end + 1..];
                continue;
            }
            '\r' => {
                out.push(' ');
                if rest.as_bytes().get(1) == Some(&b'\n') {
                    rest = &rest[1..];
                }
            }
            '\t' | '\n' => out.push(' '),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    Ok(Cow::Owned(out))
}

struct Builder<'a> {
    src: &'a str,
    limits: XmlLimits,
    namespaces: Vec<Cow<'a, str>>,
    elements: Vec<Elem<'a>>,
    top: Vec<Child<'a>>,
    /// In-scope declarations (prefix, namespace id).
    scope: Vec<(&'a str, u32)>,
    /// Open elements: id and the scope length before their declarations.
    open: Vec<(u32, usize)>,
    root: u32,
    nodes: usize,
    position: u64,
}

impl<'a> Builder<'a> {
    fn new(src: &'a str, limits: &XmlLimits) -> Self {
        Self {
            src,
            limits: *limits,
            namespaces: vec![Cow::Borrowed(XML_NS)],
            elements: Vec::new(),
            top: Vec::new(),
            scope: Vec::new(),
            open: Vec::new(),
            root: NONE,
            nodes: 0,
            position: 0,
        }
    }

    fn path(&self) -> String {
        if self.open.is_empty() {
            return "/".to_owned();
        }
        let mut p = String::new();
        for (id, _) in &self.open {
            p.push('/');
            p.push_str(self.elements[*id as usize].qname);
        }
        p
    }

    fn malformed(&self, detail: impl Into<String>) -> NetError {
        NetError::XmlMalformed {
            position: self.position,
            path: self.path(),
            detail: detail.into(),
        }
    }

    fn count_node(&mut self) -> Result<()> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(self.malformed(format!("more than {} nodes", self.limits.max_nodes)));
        }
        Ok(())
    }

    fn intern(&mut self, uri: Cow<'a, str>) -> u32 {
        match self.namespaces.iter().position(|n| *n == uri) {
            Some(i) => i as u32 + 1,
            None => {
                self.namespaces.push(uri);
                self.namespaces.len() as u32
            }
        }
    }

    fn lookup(&self, prefix: &str) -> Option<u32> {
        if prefix == "xml" {
            return Some(XML_ID);
        }
        self.scope
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .map(|(_, id)| *id)
    }

    fn children(&mut self) -> &mut Vec<Child<'a>> {
        match self.open.last() {
            Some((id, _)) => &mut self.elements[*id as usize].children,
            None => &mut self.top,
        }
    }

    fn push_text(&mut self, text: Cow<'a, str>) -> Result<()> {
        if let Some(c) = text.chars().find(|c| !is_xml_char(*c)) {
            return Err(self.malformed(format!("character U+{:04X} not allowed", c as u32)));
        }
        let merged = match self.children().last_mut() {
            Some(Child::Text(prev)) => {
                prev.to_mut().push_str(&text);
                true
            }
            _ => false,
        };
        if !merged {
            self.count_node()?;
            self.children().push(Child::Text(text));
        }
        Ok(())
    }

    fn split_qname(&self, qname: &'a str) -> Result<(&'a str, &'a str)> {
        match qname.split_once(':') {
            None if !qname.is_empty() => Ok(("", qname)),
            Some((p, l)) if !p.is_empty() && !l.is_empty() && !l.contains(':') => Ok((p, l)),
            _ => Err(self.malformed(format!("invalid qualified name {qname:?}"))),
        }
    }

    /// Reads the attribute part of a start tag (XML 1.0 §3.1), declarations to `decls`.
    #[allow(clippy::type_complexity)]
    fn attributes(
        &mut self,
        raw: &'a str,
    ) -> Result<(Vec<(&'a str, u32)>, Vec<(&'a str, &'a str, Cow<'a, str>)>)> {
        fn ws(c: u8) -> bool {
            matches!(c, b' ' | b'\t' | b'\r' | b'\n')
        }
        let b = raw.as_bytes();
        let n = b.len();
        let mut i = 0;
        let mut decls = Vec::new();
        let mut attrs: Vec<(&'a str, &'a str, Cow<'a, str>)> = Vec::new();
        let mut keys: Vec<&'a str> = Vec::new();
        loop {
            let w = i;
            while i < n && ws(b[i]) {
                i += 1;
            }
            if i == n {
                break;
            }
            if i == w {
                return Err(self.malformed("attributes must be separated by whitespace"));
            }
            let k0 = i;
            while i < n && b[i] != b'=' && !ws(b[i]) {
                i += 1;
            }
            let key = &raw[k0..i];
            while i < n && ws(b[i]) {
                i += 1;
            }
            if i == n || b[i] != b'=' {
                return Err(self.malformed(format!("attribute {key:?} without a value")));
            }
            i += 1;
            while i < n && ws(b[i]) {
                i += 1;
            }
            let quote = match b.get(i) {
                Some(q @ (b'"' | b'\'')) => *q,
                _ => return Err(self.malformed(format!("attribute {key:?}: value not quoted"))),
            };
            i += 1;
            let v0 = i;
            while i < n && b[i] != quote {
                i += 1;
            }
            if i == n {
                return Err(self.malformed(format!("attribute {key:?}: value not closed")));
            }
            let value = normalize_attr(&raw[v0..i])
                .map_err(|e| self.malformed(format!("attribute {key:?}: {e}")))?;
            i += 1;
            if keys.contains(&key) {
                return Err(self.malformed(format!("duplicate attribute {key:?}")));
            }
            if keys.len() == MAX_ATTRIBUTES {
                return Err(self.malformed(format!(
                    "more than {MAX_ATTRIBUTES} attributes on one element"
                )));
            }
            keys.push(key);
            let (prefix, local) = self.split_qname(key)?;
            if prefix.is_empty() && local == "xmlns" {
                if value == XML_NS || value == XMLNS_NS {
                    return Err(self.malformed("reserved namespace as default namespace"));
                }
                let id = if value.is_empty() {
                    0
                } else {
                    self.intern(value)
                };
                decls.push(("", id));
            } else if prefix == "xmlns" {
                let ok = match local {
                    "xml" => value == XML_NS,
                    "xmlns" => false,
                    _ => !value.is_empty() && value != XML_NS && value != XMLNS_NS,
                };
                if !ok {
                    return Err(self.malformed(format!("invalid namespace declaration {key:?}")));
                }
                if local == "xml" {
                    // Allowed and meaningless: never rendered (C14N 1.0 §4.7).
                    continue;
                }
                let id = self.intern(value);
                decls.push((local, id));
            } else {
                attrs.push((key, prefix, value));
            }
        }
        Ok((decls, attrs))
    }

    fn start(&mut self, name: &[u8], attrs_raw: &[u8], empty: bool, after: usize) -> Result<()> {
        if self.root != NONE && self.open.is_empty() {
            return Err(self.malformed("content after the root element"));
        }
        if self.open.len() >= self.limits.max_depth {
            return Err(NetError::XmlTooDeep {
                path: self.path(),
                limit: self.limits.max_depth,
            });
        }
        self.count_node()?;
        let qname = sub(self.src, name).ok_or_else(|| self.malformed("name is not UTF-8"))?;
        let raw =
            sub(self.src, attrs_raw).ok_or_else(|| self.malformed("attributes are not UTF-8"))?;
        let (prefix, local) = self.split_qname(qname)?;
        let (decls, raw_attrs) = self.attributes(raw)?;
        let mark = self.scope.len();
        self.scope.extend_from_slice(&decls);
        let ns = match self.lookup(prefix) {
            Some(id) => id,
            None if prefix.is_empty() => 0,
            None => return Err(self.malformed(format!("undeclared prefix {prefix:?}"))),
        };
        if prefix == "xmlns" {
            return Err(self.malformed("element with the xmlns prefix"));
        }
        let mut attrs = Vec::with_capacity(raw_attrs.len());
        for (qname, prefix, value) in raw_attrs {
            let (ns, local) = if prefix.is_empty() {
                (0, qname)
            } else {
                let id = self.lookup(prefix).filter(|id| *id != 0).ok_or_else(|| {
                    self.malformed(format!("undeclared attribute prefix {prefix:?}"))
                })?;
                (id, &qname[prefix.len() + 1..])
            };
            if attrs
                .iter()
                .any(|a: &Attr<'_>| a.ns == ns && a.local == local)
            {
                return Err(self.malformed(format!("duplicate attribute {{{ns}}}{local}")));
            }
            attrs.push(Attr {
                qname,
                local,
                ns,
                value,
            });
        }
        let start = self.position as usize;
        let id = self.elements.len() as u32;
        let parent = self.open.last().map_or(NONE, |(p, _)| *p);
        self.elements.push(Elem {
            qname,
            prefix,
            local,
            ns,
            decls,
            attrs,
            children: Vec::new(),
            parent,
            span: ElementSpan {
                start,
                content_start: after,
                content_end: after,
                end: after,
            },
        });
        self.children().push(Child::Element(id));
        if self.root == NONE {
            self.root = id;
        }
        if empty {
            self.scope.truncate(mark);
        } else {
            self.open.push((id, mark));
        }
        Ok(())
    }

    fn run(mut self) -> Result<Document<'a>> {
        let mut reader = Reader::from_str(self.src);
        let config = reader.config_mut();
        config.trim_text(false);
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.check_comments = true;
        loop {
            self.position = reader.buffer_position();
            let event = reader
                .read_event()
                .map_err(|e| self.malformed(e.to_string()))?;
            let after = reader.buffer_position() as usize;
            match event {
                Event::Start(ref s) => {
                    self.start(s.name().as_ref(), s.attributes_raw(), false, after)?
                }
                Event::Empty(ref s) => {
                    self.start(s.name().as_ref(), s.attributes_raw(), true, after)?
                }
                Event::End(_) => {
                    let Some((id, mark)) = self.open.pop() else {
                        return Err(self.malformed("unexpected end tag"));
                    };
                    self.scope.truncate(mark);
                    let span = &mut self.elements[id as usize].span;
                    span.content_end = self.position as usize;
                    span.end = after;
                }
                Event::Text(t) => {
                    let raw = t.into_inner();
                    if self.open.is_empty() {
                        if raw
                            .iter()
                            .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                        {
                            continue;
                        }
                        return Err(self.malformed("text outside the root element"));
                    }
                    if raw.is_empty() {
                        continue;
                    }
                    let s = sub(self.src, &raw).ok_or_else(|| self.malformed("text not UTF-8"))?;
                    self.push_text(normalize_eol(s))?;
                }
                Event::GeneralRef(r) => {
                    if self.open.is_empty() {
                        return Err(self.malformed("reference outside the root element"));
                    }
                    let raw = r.into_inner();
                    let name =
                        sub(self.src, &raw).ok_or_else(|| self.malformed("reference not UTF-8"))?;
                    let c = resolve_ref(name).map_err(|e| self.malformed(e))?;
                    self.push_text(Cow::Owned(c.to_string()))?;
                }
                Event::CData(c) => {
                    if self.open.is_empty() {
                        return Err(self.malformed("CDATA outside the root element"));
                    }
                    let raw = c.into_inner();
                    let s = sub(self.src, &raw).ok_or_else(|| self.malformed("CDATA not UTF-8"))?;
                    self.push_text(normalize_eol(s))?;
                }
                Event::Comment(c) => {
                    let raw = c.into_inner();
                    let s =
                        sub(self.src, &raw).ok_or_else(|| self.malformed("comment not UTF-8"))?;
                    if let Some(c) = s.chars().find(|c| !is_xml_char(*c)) {
                        return Err(
                            self.malformed(format!("character U+{:04X} not allowed", c as u32))
                        );
                    }
                    self.count_node()?;
                    let text = normalize_eol(s);
                    self.children().push(Child::Comment(text));
                }
                Event::PI(pi) => {
                    let target = sub(self.src, pi.target())
                        .ok_or_else(|| self.malformed("PI target not UTF-8"))?;
                    if target.is_empty() || target.eq_ignore_ascii_case("xml") {
                        return Err(self.malformed("invalid processing instruction target"));
                    }
                    let content = sub(self.src, pi.content())
                        .ok_or_else(|| self.malformed("PI not UTF-8"))?;
                    let data = content.trim_start_matches([' ', '\t', '\r', '\n']);
                    if data.len() == content.len() && !data.is_empty() {
                        return Err(self.malformed("invalid processing instruction target"));
                    }
                    self.count_node()?;
                    let data = normalize_eol(data);
                    self.children().push(Child::Pi { target, data });
                }
                Event::DocType(_) => return Err(NetError::XmlDoctype),
                Event::Decl(decl) => {
                    if self.position != 0 {
                        return Err(self.malformed("XML declaration not at the start"));
                    }
                    if let Some(Ok(enc)) = decl.encoding() {
                        if !enc.eq_ignore_ascii_case(b"utf-8") && !enc.eq_ignore_ascii_case(b"utf8")
                        {
                            return Err(NetError::XmlEncoding(format!(
                                "declared encoding {:?}",
                                String::from_utf8_lossy(&enc)
                            )));
                        }
                    }
                }
                Event::Eof => {
                    if let Some((id, _)) = self.open.last() {
                        let _ = id;
                        return Err(NetError::XmlTruncated { path: self.path() });
                    }
                    if self.root == NONE {
                        return Err(self.malformed("no root element"));
                    }
                    return Ok(Document {
                        src: self.src,
                        namespaces: self.namespaces,
                        elements: self.elements,
                        top: self.top,
                        root: self.root,
                    });
                }
            }
        }
    }
}

// ---- Writing --------------------------------------------------------------------------------

struct Writer<'d, 'a, 'o> {
    doc: &'d Document<'a>,
    /// `Some(PrefixList)` for the exclusive methods.
    exclusive: Option<&'d [String]>,
    comments: bool,
    exclude: u32,
    /// Namespace declarations in scope (prefix, namespace id).
    scope: Vec<(&'d str, u32)>,
    /// Namespace declarations rendered by the output ancestors (prefix, namespace id).
    rendered: Vec<(&'d str, u32)>,
    out: &'o mut Vec<u8>,
}

/// C14N 1.0 §2.3: text nodes.
fn escape_text(s: &str, out: &mut Vec<u8>) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&s.as_bytes()[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&s.as_bytes()[last..]);
}

/// C14N 1.0 §2.3: attribute nodes.
fn escape_attr(s: &str, out: &mut Vec<u8>) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'"' => b"&quot;",
            b'\t' => b"&#x9;",
            b'\n' => b"&#xA;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&s.as_bytes()[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&s.as_bytes()[last..]);
}

impl<'d, 'a, 'o> Writer<'d, 'a, 'o> {
    fn in_scope(&self, prefix: &str) -> Option<u32> {
        self.scope
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .map(|(_, id)| *id)
    }

    fn rendered(&self, prefix: &str) -> Option<u32> {
        self.rendered
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .map(|(_, id)| *id)
    }

    fn leaf(&mut self, child: &Child<'_>) {
        match child {
            Child::Text(t) => escape_text(t, self.out),
            Child::Comment(c) => {
                if self.comments {
                    self.out.extend_from_slice(b"<!--");
                    self.out.extend_from_slice(c.as_bytes());
                    self.out.extend_from_slice(b"-->");
                }
            }
            Child::Pi { target, data } => {
                self.out.extend_from_slice(b"<?");
                self.out.extend_from_slice(target.as_bytes());
                if !data.is_empty() {
                    self.out.push(b' ');
                    self.out.extend_from_slice(data.as_bytes());
                }
                self.out.extend_from_slice(b"?>");
            }
            Child::Element(_) => {}
        }
    }

    /// Writes the start tag of `id` and returns the marks to restore at its end tag.
    fn open(&mut self, id: u32, apex: bool) -> (usize, usize) {
        let doc = self.doc;
        let e = &doc.elements[id as usize];
        let scope_mark = self.scope.len();
        self.scope.extend_from_slice(&e.decls);
        let rendered_mark = self.rendered.len();

        // Candidate prefixes for the namespace axis.
        let mut candidates: Vec<&'d str> = Vec::new();
        fn add<'s>(p: &'s str, c: &mut Vec<&'s str>) {
            if p != "xml" && !c.contains(&p) {
                c.push(p);
            }
        }
        match self.exclusive {
            None => {
                if apex {
                    for (p, _) in self.scope.iter().rev() {
                        add(p, &mut candidates);
                    }
                } else {
                    for (p, _) in &e.decls {
                        add(p, &mut candidates);
                    }
                }
            }
            Some(list) => {
                // Visibly utilised (exc-c14n §3): the element's prefix (the default namespace
                // for an unprefixed element) and the prefixes of its attributes.
                add(e.prefix, &mut candidates);
                for a in &e.attrs {
                    if a.ns != 0 {
                        add(
                            &a.qname[..a.qname.len() - a.local.len() - 1],
                            &mut candidates,
                        );
                    }
                }
                // The PrefixList follows the inclusive rules.
                for p in list {
                    let listed = if apex {
                        self.in_scope(p).is_some() || p.is_empty()
                    } else {
                        e.decls.iter().any(|(d, _)| d == p)
                    };
                    if listed {
                        add(p.as_str(), &mut candidates);
                    }
                }
            }
        }
        let mut to_render: Vec<(&'d str, u32)> = Vec::with_capacity(candidates.len());
        for p in candidates {
            let value = match self.in_scope(p) {
                Some(v) => v,
                None if p.is_empty() => 0,
                None => continue,
            };
            let rendered = self.rendered(p);
            if value == 0 {
                // `xmlns=""` only to undo a non-empty default rendered above.
                if matches!(rendered, Some(r) if r != 0) {
                    to_render.push((p, 0));
                }
            } else if rendered != Some(value) {
                to_render.push((p, value));
            }
        }
        to_render.sort_unstable_by(|a, b| a.0.cmp(b.0));
        self.rendered.extend_from_slice(&to_render);

        let out = &mut *self.out;
        out.push(b'<');
        out.extend_from_slice(e.qname.as_bytes());
        for (p, v) in &to_render {
            if p.is_empty() {
                out.extend_from_slice(b" xmlns=\"");
            } else {
                out.extend_from_slice(b" xmlns:");
                out.extend_from_slice(p.as_bytes());
                out.extend_from_slice(b"=\"");
            }
            escape_attr(doc.ns_str(*v), out);
            out.push(b'"');
        }

        // Attributes sorted by namespace URI then local name (C14N 1.0 §2.2).
        let mut attrs: Vec<(&'d str, &'d str, &'d str, &'d str)> = e
            .attrs
            .iter()
            .map(|a| (doc.ns_str(a.ns), a.local, a.qname, a.value.as_ref()))
            .collect();
        if apex && self.exclusive.is_none() {
            // C14N 1.0 §2.4: the apex inherits the xml:* attributes of its ancestors.
            let mut p = e.parent;
            while p != NONE {
                let anc = &doc.elements[p as usize];
                for a in anc.attrs.iter().filter(|a| a.ns == XML_ID) {
                    if !attrs
                        .iter()
                        .any(|(ns, l, _, _)| *ns == XML_NS && *l == a.local)
                    {
                        attrs.push((XML_NS, a.local, a.qname, a.value.as_ref()));
                    }
                }
                p = anc.parent;
            }
        }
        if attrs.len() > 1 {
            attrs.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        }
        for (_, _, qname, value) in attrs {
            out.push(b' ');
            out.extend_from_slice(qname.as_bytes());
            out.extend_from_slice(b"=\"");
            escape_attr(value, out);
            out.push(b'"');
        }
        out.push(b'>');
        (scope_mark, rendered_mark)
    }

    fn close(&mut self, id: u32, marks: (usize, usize)) {
        let e = &self.doc.elements[id as usize];
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(e.qname.as_bytes());
        self.out.push(b'>');
        self.scope.truncate(marks.0);
        self.rendered.truncate(marks.1);
    }

    /// Writes the subtree of `apex` (iteratively: the depth is bounded by the limits, but the
    /// stack is not the place to find out).
    fn subtree(&mut self, apex: u32) {
        let doc = self.doc;
        let marks = self.open(apex, true);
        let mut stack: Vec<(u32, usize, (usize, usize))> = vec![(apex, 0, marks)];
        while let Some(top) = stack.last_mut() {
            let (id, next, marks) = *top;
            let e = &doc.elements[id as usize];
            match e.children.get(next) {
                Some(child) => {
                    top.1 += 1;
                    match child {
                        Child::Element(c) => {
                            if *c != self.exclude {
                                let m = self.open(*c, false);
                                stack.push((*c, 0, m));
                            }
                        }
                        other => self.leaf(other),
                    }
                }
                None => {
                    self.close(id, marks);
                    stack.pop();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> XmlLimits {
        XmlLimits::default()
    }

    fn c14n(xml: &str, m: &Method) -> String {
        String::from_utf8(canonicalize(xml.as_bytes(), m, &limits()).unwrap()).unwrap()
    }

    fn inc(with_comments: bool) -> Method {
        Method::Inclusive { with_comments }
    }

    fn exc(prefixes: &[&str]) -> Method {
        Method::exclusive(prefixes)
    }

    /// C14N 1.0 §3.1 (PIs, comments, outside of document element), without and with comments.
    #[test]
    fn w3c_3_1_pis_comments_outside_root() {
        let input = "<?xml version=\"1.0\"?>\n\n<?xml-stylesheet   href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n\n<doc>Hello, world!<!-- Comment 1 --></doc>\n\n<?pi-without-data     ?>\n\n<!-- Comment 2 -->\n\n<!-- Comment 3 -->";
        assert_eq!(
            c14n(input, &inc(false)),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!</doc>\n<?pi-without-data?>"
        );
        assert_eq!(
            c14n(input, &inc(true)),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!<!-- Comment 1 --></doc>\n<?pi-without-data?>\n<!-- Comment 2 -->\n<!-- Comment 3 -->"
        );
    }

    /// C14N 1.0 §3.2 (whitespace in document content).
    #[test]
    fn w3c_3_2_whitespace() {
        let input = "<doc>\n   <clean>   </clean>\n   <dirty>   A   B   </dirty>\n   <mixed>\n      A\n      <clean>   </clean>\n      B\n      <dirty>   A   B   </dirty>\n      C\n   </mixed>\n</doc>";
        assert_eq!(c14n(input, &inc(false)), input);
    }

    /// C14N 1.0 §3.3 (start and end tags), without the DTD parts (DOCTYPE is refused here, so
    /// the defaulted attributes of the W3C example are written explicitly).
    #[test]
    fn w3c_3_3_tags() {
        let input = r#"<doc>
   <e1   />
   <e2   ></e2>
   <e3   name = "elem3"   id="elem3"   />
   <e4   name="elem4"   id="elem4"   ></e4>
   <e5 a:attr="out" b:attr="sorted" attr2="all" attr="I'm"
      xmlns:b="http://www.ietf.org"
      xmlns:a="http://www.w3.org"
      xmlns="http://example.org"/>
   <e6 xmlns="" xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="" xmlns:a="http://www.w3.org">
            <e9 xmlns="" xmlns:a="http://www.ietf.org"/>
         </e8>
      </e7>
   </e6>
</doc>"#;
        let expected = r#"<doc>
   <e1></e1>
   <e2></e2>
   <e3 id="elem3" name="elem3"></e3>
   <e4 id="elem4" name="elem4"></e4>
   <e5 xmlns="http://example.org" xmlns:a="http://www.w3.org" xmlns:b="http://www.ietf.org" attr="I'm" attr2="all" b:attr="sorted" a:attr="out"></e5>
   <e6 xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="">
            <e9 xmlns:a="http://www.ietf.org"></e9>
         </e8>
      </e7>
   </e6>
</doc>"#;
        assert_eq!(c14n(input, &inc(false)), expected);
    }

    /// C14N 1.0 §3.4 (character modifications and character references), without the DTD
    /// (normId's whitespace collapsing needs an ID type declaration, not available here).
    #[test]
    fn w3c_3_4_characters() {
        let input = "<doc>\n   <text>First line&#x0d;&#10;Second line</text>\n   <value>&#x32;</value>\n   <compute><![CDATA[value>\"0\" && value<\"10\" ?\"valid\":\"error\"]]></compute>\n   <compute expr='value>\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"'>valid</compute>\n   <norm attr=' &apos;   &#x20;&#13;&#xa;&#9;   &apos; '/>\n</doc>";
        let expected = "<doc>\n   <text>First line&#xD;\nSecond line</text>\n   <value>2</value>\n   <compute>value&gt;\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"</compute>\n   <compute expr=\"value>&quot;0&quot; &amp;&amp; value&lt;&quot;10&quot; ?&quot;valid&quot;:&quot;error&quot;\">valid</compute>\n   <norm attr=\" '    &#xD;&#xA;&#x9;   ' \"></norm>\n</doc>";
        assert_eq!(c14n(input, &inc(false)), expected);
    }

    /// C14N 1.0 §3.5 / §3.6 (UTF-8 kept as is; no entity other than predefined ones).
    #[test]
    fn w3c_3_6_utf8() {
        assert_eq!(
            c14n("<doc>&#169;é</doc>", &inc(false)),
            "<doc>\u{a9}é</doc>"
        );
    }

    /// C14N 1.0 §3.7-like document subset: an element of a document with inherited namespaces
    /// and xml:* attributes (inclusive), and the exclusive form of the same subset.
    #[test]
    fn subset_inherits_context() {
        let input = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org" xml:lang="fr"><n1:elem2 xmlns:n1="http://example.net" xml:space="preserve"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
        let doc = Document::parse(input.as_bytes(), &limits()).unwrap();
        let elem2 = doc.root().elements().next().unwrap();
        let inc =
            String::from_utf8(doc.canonicalize(Subset::Element(elem2.id()), None, &inc(false)))
                .unwrap();
        assert_eq!(
            inc,
            r#"<n1:elem2 xmlns:n0="foo:bar" xmlns:n1="http://example.net" xmlns:n3="ftp://example.org" xml:lang="fr" xml:space="preserve"><n3:stuff></n3:stuff></n1:elem2>"#
        );
        let ex = String::from_utf8(doc.canonicalize(Subset::Element(elem2.id()), None, &exc(&[])))
            .unwrap();
        assert_eq!(
            ex,
            r#"<n1:elem2 xmlns:n1="http://example.net" xml:space="preserve"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
        );
        let ex = String::from_utf8(doc.canonicalize(
            Subset::Element(elem2.id()),
            None,
            &exc(&["n0", "#default"]),
        ))
        .unwrap();
        assert_eq!(
            ex,
            r#"<n1:elem2 xmlns:n0="foo:bar" xmlns:n1="http://example.net" xml:space="preserve"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
        );
    }

    /// exc-c14n §2.2's motivating example: the same signed element in two envelopes gives the
    /// same exclusive form but different inclusive forms.
    #[test]
    fn exclusive_is_independent_of_the_envelope() {
        let a = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
        let b = r#"<n2:pdu xmlns:n1="http://example.com" xmlns:n2="http://foo.example" xml:lang="fr" xml:space="retain"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n2:pdu>"#;
        let sub = |xml: &str, m: &Method| {
            let doc = Document::parse(xml.as_bytes(), &limits()).unwrap();
            let e = doc.root().elements().next().unwrap();
            String::from_utf8(doc.canonicalize(Subset::Element(e.id()), None, m)).unwrap()
        };
        assert_eq!(
            sub(a, &exc(&[])),
            r#"<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
        );
        assert_eq!(sub(a, &exc(&[])), sub(b, &exc(&[])));
        assert_eq!(
            sub(a, &inc(false)),
            r#"<n1:elem2 xmlns:n0="foo:bar" xmlns:n1="http://example.net" xmlns:n3="ftp://example.org" xml:lang="en"><n3:stuff></n3:stuff></n1:elem2>"#
        );
        assert_eq!(
            sub(b, &inc(false)),
            r#"<n1:elem2 xmlns:n1="http://example.net" xmlns:n2="http://foo.example" xml:lang="en" xml:space="retain"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
        );
    }

    #[test]
    fn exclusive_default_namespace_rules() {
        // An unprefixed element under a non-empty default rendered above gets xmlns="".
        let x =
            r#"<a xmlns="urn:a"><b xmlns=""><c/></b><p:d xmlns:p="urn:p"><e xmlns=""/></p:d></a>"#;
        assert_eq!(
            c14n(x, &exc(&[])),
            r#"<a xmlns="urn:a"><b xmlns=""><c></c></b><p:d xmlns:p="urn:p"><e xmlns=""></e></p:d></a>"#
        );
        // Nothing to undo: no xmlns="" at all.
        let x = r#"<p:a xmlns:p="urn:p"><b xmlns=""/></p:a>"#;
        assert_eq!(c14n(x, &exc(&[])), r#"<p:a xmlns:p="urn:p"><b></b></p:a>"#);
        // Unused declarations disappear; attribute prefixes are visibly utilised.
        let x = r#"<p:a xmlns:p="urn:p" xmlns:q="urn:q" xmlns:r="urn:r" r:x="1"><q:b/></p:a>"#;
        assert_eq!(
            c14n(x, &exc(&[])),
            r#"<p:a xmlns:p="urn:p" xmlns:r="urn:r" r:x="1"><q:b xmlns:q="urn:q"></q:b></p:a>"#
        );
        // The PrefixList keeps q on the apex.
        assert_eq!(
            c14n(x, &exc(&["q"])),
            r#"<p:a xmlns:p="urn:p" xmlns:q="urn:q" xmlns:r="urn:r" r:x="1"><q:b></q:b></p:a>"#
        );
    }

    #[test]
    fn enveloped_signature_subtree_is_left_out() {
        let x = r#"<r xmlns="urn:r"><a ID="x" xmlns:s="urn:s"><s:Signature><s:V>1</s:V></s:Signature><b>t</b></a></r>"#;
        let doc = Document::parse(x.as_bytes(), &limits()).unwrap();
        let a = doc.element_by_id("x").unwrap();
        let sig = a.child("urn:s", "Signature").unwrap();
        let out = doc.canonicalize(Subset::Element(a.id()), Some(sig.id()), &exc(&[]));
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"<a xmlns="urn:r" ID="x"><b>t</b></a>"#
        );
        assert_eq!(
            &x[sig.span().start..sig.span().end],
            "<s:Signature><s:V>1</s:V></s:Signature>"
        );
        let b = a.child("urn:r", "b").unwrap();
        assert_eq!(&x[b.span().content_start..b.span().content_end], "t");
    }

    #[test]
    fn ids_must_be_unique_and_present() {
        let x = r#"<r><a ID="x"/><b Id="y"/><c id="y"/></r>"#;
        let doc = Document::parse(x.as_bytes(), &limits()).unwrap();
        assert_eq!(doc.element_by_id("x").unwrap().local_name(), "a");
        assert!(matches!(
            doc.element_by_id("y"),
            Err(NetError::DuplicateId { count: 2, .. })
        ));
        assert!(matches!(
            doc.element_by_id("z"),
            Err(NetError::XmlIdNotFound { .. })
        ));
    }

    #[test]
    fn line_ends_and_escapes() {
        let x = "<a b=\"1\r\n2\t3&#9;&#xD;\">x\r\ny\rz &gt; &#13;</a>";
        assert_eq!(
            c14n(x, &inc(false)),
            "<a b=\"1 2 3&#x9;&#xD;\">x\ny\nz &gt; &#xD;</a>"
        );
    }

    #[test]
    fn hardening() {
        let bad: &[&[u8]] = &[
            b"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>",
            b"<a>&e;</a>",
            b"<p:a/>",
            b"<a p:b='1'/>",
            b"<a b='1' b='2'/>",
            b"<a xmlns:p='urn:x' xmlns:q='urn:x' p:b='1' q:b='2'/>",
            b"<a>",
            b"<a></b>",
            b"<a/><b/>",
            b"<?xml version='1.0' encoding='ISO-8859-1'?><a/>",
            b"<a>\xff</a>",
            b"<a>&#0;</a>",
            b"<a><!-- a -- b --></a>",
            b"<a b='<'/>",
            b"text<a/>",
            b"",
        ];
        for b in bad {
            assert!(
                Document::parse(b, &limits()).is_err(),
                "{}",
                String::from_utf8_lossy(b)
            );
        }
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(matches!(
            Document::parse(deep.as_bytes(), &limits()),
            Err(NetError::XmlTooDeep { .. })
        ));
        let small = XmlLimits {
            max_bytes: 10,
            ..limits()
        };
        assert!(matches!(
            Document::parse(b"<a>0123456789</a>", &small),
            Err(NetError::XmlTooLarge { .. })
        ));
    }

    #[test]
    fn method_uris_round_trip() {
        for uri in [C14N, C14N_WITH_COMMENTS, EXC_C14N, EXC_C14N_WITH_COMMENTS] {
            let m = Method::from_uri(uri, Some("ds  #default xsi ds")).unwrap();
            assert_eq!(m.uri(), uri);
            assert_eq!(m.with_comments(), uri.ends_with("WithComments"));
            assert!(!m.without_comments().with_comments());
        }
        let m = Method::from_uri(EXC_C14N, Some("ds  #default xsi ds")).unwrap();
        assert_eq!(m.prefix_list().as_deref(), Some("ds #default xsi"));
        assert!(Method::from_uri("urn:other", None).is_none());
    }

    #[test]
    fn pi_and_comments_inside() {
        let x = "<a><?p  d ?><!--c--><b/></a>";
        assert_eq!(c14n(x, &inc(false)), "<a><?p d ?><b></b></a>");
        assert_eq!(c14n(x, &inc(true)), "<a><?p d ?><!--c--><b></b></a>");
        let m = Method::Exclusive {
            with_comments: true,
            inclusive_prefixes: vec![],
        };
        assert_eq!(c14n(x, &m), "<a><?p d ?><!--c--><b></b></a>");
    }
}
