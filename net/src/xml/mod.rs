//! Hardened XML reading and small writing helpers.
//!
//! Every message that comes from the network (or from a file a user hands us) is read by one
//! tokenizer loop, our own (one pass over the bytes, eight at a time where it can: `lex`), that
//! enforces, before and while parsing:
//! - a size limit ([`XmlLimits::max_bytes`], 1 MiB by default: the INSi replies are a few KiB);
//! - UTF-8 only: the bytes must be valid UTF-8 and an `encoding` declaration, if present, must say
//!   UTF-8;
//! - no DOCTYPE at all, hence no entity declarations, no external entities, no entity expansion:
//!   only character references (legal XML characters) and the five predefined entities;
//! - a nesting depth limit, a node count limit and at most [`MAX_ATTRIBUTES`] attributes per
//!   element; duplicate attributes and `<` in attribute values refused;
//! - well-formedness (XML 1.0 §2–§4): names, one root, end tags matching their start tag
//!   exactly, quoted attribute values, no `--` in comments, no `]]>` in text, a well-formed XML
//!   declaration only before the root;
//! - namespace awareness (Namespaces in XML 1.0): elements are identified by (namespace URI,
//!   local name), never by prefix; undeclared prefixes and reserved bindings refused.
//!
//! Attribute values are normalised as XML 1.0 §3.3.3 requires (white space to spaces). Text is
//! handed out exactly as written (line ends not normalised, XML 1.0 §2.11): CDA narrative is
//! mixed content and callers trim. Characters below U+0020 other than white space are refused in
//! names and attribute values but not in text (the one XML 1.0 `Char` rule not checked there: it
//! would cost a second look at every byte).
//!
//! `tests/xml_oracle.rs` holds this reader to an independent one (`roxmltree`) on every XML file
//! of the reference data and on thousands of damaged variants: same documents accepted, same
//! trees; the few places where XML 1.0 is stricter than `roxmltree` are listed there.
//!
//! Two representations come out of that loop:
//! - [`parse_document`] → [`Document`], a compact tree that borrows from the input: one arena of
//!   nodes linked by index, names and text as `&str` slices of the input (an owned string only
//!   where a reference had to be resolved or text runs joined), namespaces interned as small
//!   indices, child elements also linked past the text runs. Navigated through [`ElementRef`]
//!   handles (`Copy`) with the same methods as [`Element`]. The fast path (received CDA).
//! - [`parse`] → [`Element`], a small owned tree (one `String` per name, attribute and text),
//!   convenient when the tree must outlive the input.
//!
//! And [`XmlReader`] hands out the same loop's events one by one (start tag with its resolved
//! namespace and attributes, end tag, text), with no tree at all, for readers that fill their
//! own model in a single pass; a [`Mark`] lets such a reader read one element again.
//!
//! Both are navigated by namespace and local name, in any order, which is what the national
//! services' replies require (prefixes and element order vary between the CNDA files and the live
//! services). Text is kept exactly (whitespace-only runs included: CDA narrative is mixed content).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::error::{NetError, Result};

mod lex;

/// The namespace bound to the `xml` prefix (Namespaces in XML 1.0 §3).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";
/// Most attributes (namespace declarations included) accepted on one element.
pub const MAX_ATTRIBUTES: usize = 64;

/// Limits applied by [`parse`] and [`parse_document`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted element nesting.
    pub max_depth: usize,
    /// Largest accepted number of elements and text nodes.
    pub max_nodes: usize,
}

impl Default for XmlLimits {
    fn default() -> Self {
        Self {
            max_bytes: 1024 * 1024,
            max_depth: 64,
            max_nodes: 100_000,
        }
    }
}

// ---- Owned tree ----------------------------------------------------------------------------

/// A node of the tree: an element or a text run (CDATA included, entities resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Character data.
    Text(String),
}

/// An attribute, identified by namespace (None for unprefixed attributes) and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Namespace URI of a prefixed attribute.
    pub ns: Option<Arc<str>>,
    /// Local name.
    pub name: String,
    /// Unescaped value.
    pub value: String,
}

/// An element with its namespace URI, local name, attributes and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Namespace URI (None when the element is in no namespace).
    pub ns: Option<Arc<str>>,
    /// Local name (without prefix).
    pub name: String,
    /// Attributes other than namespace declarations.
    pub attributes: Vec<Attribute>,
    /// Children in document order.
    pub children: Vec<Node>,
}

impl Element {
    /// Whether this element has the given namespace URI and local name.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.name == name && self.ns.as_deref() == Some(ns)
    }

    /// The namespace URI, or "" when there is none.
    pub fn namespace(&self) -> &str {
        self.ns.as_deref().unwrap_or("")
    }

    /// Child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element with this namespace and local name.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, name))
    }

    /// Every child element with this namespace and local name.
    pub fn children_named<'s>(
        &'s self,
        ns: &'s str,
        name: &'s str,
    ) -> impl Iterator<Item = &'s Element> + 's {
        self.elements().filter(move |e| e.is(ns, name))
    }

    /// The concatenated direct text content (child elements are skipped).
    pub fn text(&self) -> Cow<'_, str> {
        concat(self.children.iter().filter_map(|n| match n {
            Node::Text(t) => Some(t.as_str()),
            Node::Element(_) => None,
        }))
    }

    /// The text of the first child element with this namespace and local name, trimmed.
    pub fn child_text(&self, ns: &str, name: &str) -> Option<String> {
        self.child(ns, name).map(|e| e.text().trim().to_owned())
    }

    /// The value of an unprefixed attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.ns.is_none() && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// Whether the element has any child element.
    pub fn has_element_children(&self) -> bool {
        self.elements().next().is_some()
    }
}

fn concat<'t>(mut texts: impl Iterator<Item = &'t str>) -> Cow<'t, str> {
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

// ---- Borrowed arena tree -------------------------------------------------------------------

const NONE: u32 = u32::MAX;

/// `Span::len` of a string kept in `Document::owned` (at index `start`).
const OWNED: u32 = u32::MAX;
/// `NodeData::ns` of a text node.
const TEXT: u32 = u32::MAX;

/// A string of the document: `src[start..start + len]`, or `owned[start]` when `len == OWNED`.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

/// One node of the arena (36 bytes).
#[derive(Debug, Clone)]
struct NodeData {
    /// Element: namespace id (0: none; n: `namespaces[n - 1]`); text node: TEXT.
    ns: u32,
    /// Element: local name; text node: the text.
    s: Span,
    /// Element: its attributes, `attrs[.0 .. .1]`.
    attrs: (u32, u32),
    /// First child (elements only), or NONE.
    first_child: u32,
    /// Next sibling, or NONE.
    next: u32,
    /// First child element (elements only), or NONE: element walks skip the text runs.
    first_el: u32,
    /// Next sibling element, or NONE.
    next_el: u32,
}

/// An attribute in the arena (20 bytes).
#[derive(Debug, Clone)]
struct DocAttr {
    ns: u32,
    name: Span,
    value: Span,
}

/// An attribute as the tokenizer hands it to a sink.
#[derive(Debug, Clone)]
struct AttrData<'a> {
    ns: u32,
    name: &'a str,
    value: Cow<'a, str>,
}

/// A parsed document borrowing from its input (see the module documentation): all nodes in one
/// arena, names and text as slices of the input, namespaces interned.
#[derive(Debug, Clone)]
pub struct Document<'a> {
    src: &'a str,
    namespaces: Vec<Cow<'a, str>>,
    nodes: Vec<NodeData>,
    attrs: Vec<DocAttr>,
    /// Text runs and values where a reference was resolved (or text runs were joined).
    owned: Vec<String>,
    root: u32,
}

impl<'a> Document<'a> {
    /// Parses `input` under the given limits; same checks as [`parse`].
    pub fn parse(input: &'a [u8], limits: &XmlLimits) -> Result<Self> {
        parse_document(input, limits)
    }

    /// The root element.
    pub fn root(&self) -> ElementRef<'_> {
        ElementRef {
            doc: self,
            id: self.root,
        }
    }

    /// The input text (a UTF-8 BOM removed).
    pub fn source(&self) -> &'a str {
        self.src
    }

    /// Number of nodes (elements and text runs).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The interned id of a namespace URI, if the document uses it.
    fn ns_id(&self, uri: &str) -> Option<u32> {
        self.namespaces
            .iter()
            .position(|n| n == uri)
            .map(|i| i as u32 + 1)
    }

    fn s(&self, sp: Span) -> &str {
        if sp.len == OWNED {
            self.owned.get(sp.start as usize).map_or("", String::as_str)
        } else {
            let start = sp.start as usize;
            self.src.get(start..start + sp.len as usize).unwrap_or("")
        }
    }

    fn ns_str(&self, id: u32) -> Option<&str> {
        match id {
            0 => None,
            n => self.namespaces.get(n as usize - 1).map(|c| &**c),
        }
    }
}

/// A handle on an element of a [`Document`] (cheap to copy).
#[derive(Clone, Copy)]
pub struct ElementRef<'d> {
    doc: &'d Document<'d>,
    id: u32,
}

/// A node of a [`Document`]: an element or a text run (CDATA included, entities resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRef<'d> {
    /// A child element.
    Element(ElementRef<'d>),
    /// Character data.
    Text(&'d str),
}

/// An attribute of an [`ElementRef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeRef<'d> {
    /// Namespace URI of a prefixed attribute.
    pub ns: Option<&'d str>,
    /// Local name.
    pub name: &'d str,
    /// Unescaped value.
    pub value: &'d str,
}

impl PartialEq for ElementRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.doc, other.doc) && self.id == other.id
    }
}
impl Eq for ElementRef<'_> {}

impl fmt::Debug for ElementRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ElementRef({{{}}}{})", self.namespace(), self.name())
    }
}

/// Iterator over the children of an [`ElementRef`].
#[derive(Clone)]
pub struct Children<'d> {
    doc: &'d Document<'d>,
    next: u32,
}

impl<'d> Iterator for Children<'d> {
    type Item = NodeRef<'d>;
    fn next(&mut self) -> Option<NodeRef<'d>> {
        let id = self.next;
        let n = self.doc.nodes.get(id as usize)?;
        self.next = n.next;
        Some(if n.ns == TEXT {
            NodeRef::Text(self.doc.s(n.s))
        } else {
            NodeRef::Element(ElementRef { doc: self.doc, id })
        })
    }
}

/// Iterator over the child elements of an [`ElementRef`], optionally filtered by name.
#[derive(Clone)]
pub struct Elements<'d, 's> {
    doc: &'d Document<'d>,
    next: u32,
    /// (namespace id, local name) filter.
    filter: Option<(u32, &'s str)>,
}

impl<'d> Iterator for Elements<'d, '_> {
    type Item = ElementRef<'d>;
    fn next(&mut self) -> Option<ElementRef<'d>> {
        loop {
            let id = self.next;
            let n = self.doc.nodes.get(id as usize)?;
            self.next = n.next_el;
            {
                match self.filter {
                    Some((fns, fname))
                        if n.ns != fns
                            || n.s.len as usize != fname.len()
                            || self.doc.s(n.s) != fname => {}
                    _ => return Some(ElementRef { doc: self.doc, id }),
                }
            }
        }
    }
}

impl<'d> ElementRef<'d> {
    fn first_el(self) -> u32 {
        match self.doc.nodes.get(self.id as usize) {
            Some(n) if n.ns != TEXT => n.first_el,
            _ => NONE,
        }
    }

    fn parts(self) -> (&'d str, u32, (u32, u32), u32) {
        match self.doc.nodes.get(self.id as usize) {
            Some(n) if n.ns != TEXT => (self.doc.s(n.s), n.ns, n.attrs, n.first_child),
            _ => ("", 0, (0, 0), NONE),
        }
    }

    /// The document this element belongs to.
    pub fn document(self) -> &'d Document<'d> {
        self.doc
    }

    /// Local name (without prefix).
    pub fn name(self) -> &'d str {
        self.parts().0
    }

    /// Namespace URI (None when the element is in no namespace).
    pub fn ns(self) -> Option<&'d str> {
        self.doc.ns_str(self.parts().1)
    }

    /// The namespace URI, or "" when there is none.
    pub fn namespace(self) -> &'d str {
        self.ns().unwrap_or("")
    }

    /// Whether this element has the given namespace URI and local name.
    pub fn is(self, ns: &str, name: &str) -> bool {
        let (n, id, ..) = self.parts();
        n == name && self.doc.ns_str(id) == Some(ns)
    }

    /// Children (elements and text) in document order.
    pub fn children(self) -> Children<'d> {
        Children {
            doc: self.doc,
            next: self.parts().3,
        }
    }

    /// Child elements, in order.
    pub fn elements(self) -> Elements<'d, 'static> {
        Elements {
            doc: self.doc,
            next: self.first_el(),
            filter: None,
        }
    }

    /// Every child element with this namespace and local name.
    pub fn children_named<'s>(self, ns: &str, name: &'s str) -> Elements<'d, 's> {
        match self.doc.ns_id(ns) {
            Some(id) => Elements {
                doc: self.doc,
                next: self.first_el(),
                filter: Some((id, name)),
            },
            None => Elements {
                doc: self.doc,
                next: NONE,
                filter: None,
            },
        }
    }

    /// The first child element with this namespace and local name.
    pub fn child(self, ns: &str, name: &str) -> Option<ElementRef<'d>> {
        self.children_named(ns, name).next()
    }

    /// The concatenated direct text content (child elements are skipped).
    pub fn text(self) -> Cow<'d, str> {
        concat(self.children().filter_map(|n| match n {
            NodeRef::Text(t) => Some(t),
            NodeRef::Element(_) => None,
        }))
    }

    /// The text of the first child element with this namespace and local name, trimmed.
    pub fn child_text(self, ns: &str, name: &str) -> Option<String> {
        self.child(ns, name).map(|e| e.text().trim().to_owned())
    }

    /// Attributes other than namespace declarations, in document order.
    pub fn attributes(self) -> impl ExactSizeIterator<Item = AttributeRef<'d>> + Clone {
        let (_, _, (a, b), _) = self.parts();
        let doc = self.doc;
        doc.attrs[a as usize..b as usize]
            .iter()
            .map(move |x| AttributeRef {
                ns: doc.ns_str(x.ns),
                name: doc.s(x.name),
                value: doc.s(x.value),
            })
    }

    /// The value of an unprefixed attribute.
    pub fn attr(self, name: &str) -> Option<&'d str> {
        let (_, _, (a, b), _) = self.parts();
        let doc = self.doc;
        doc.attrs[a as usize..b as usize]
            .iter()
            .find(|x| x.ns == 0 && x.name.len as usize == name.len() && doc.s(x.name) == name)
            .map(|x| doc.s(x.value))
    }

    /// The value of a namespaced attribute (e.g. `xsi:type`).
    pub fn attr_ns(self, ns: &str, name: &str) -> Option<&'d str> {
        let id = self.doc.ns_id(ns)?;
        let (_, _, (a, b), _) = self.parts();
        let doc = self.doc;
        doc.attrs[a as usize..b as usize]
            .iter()
            .find(|x| x.ns == id && doc.s(x.name) == name)
            .map(|x| doc.s(x.value))
    }

    /// Whether the element has any child element.
    pub fn has_element_children(self) -> bool {
        self.elements().next().is_some()
    }

    /// An owned copy of this element and everything below it.
    pub fn to_element(self) -> Element {
        let mut cache = Vec::new();
        self.to_element_with(&mut cache)
    }

    fn to_element_with(self, cache: &mut Vec<Option<Arc<str>>>) -> Element {
        let (name, ns, _, _) = self.parts();
        let mut arc = |id: u32| -> Option<Arc<str>> { arc_of(cache, id, &self.doc.namespaces) };
        let ns = arc(ns);
        let attributes = self
            .doc
            .attrs
            .get(self.parts().2 .0 as usize..self.parts().2 .1 as usize)
            .unwrap_or_default()
            .iter()
            .map(|a| Attribute {
                ns: arc(a.ns),
                name: self.doc.s(a.name).to_owned(),
                value: self.doc.s(a.value).to_owned(),
            })
            .collect();
        let children = self
            .children()
            .map(|c| match c {
                NodeRef::Element(e) => Node::Element(e.to_element_with(cache)),
                NodeRef::Text(t) => Node::Text(t.to_owned()),
            })
            .collect();
        Element {
            ns,
            name: name.to_owned(),
            attributes,
            children,
        }
    }
}

fn arc_of(
    cache: &mut Vec<Option<Arc<str>>>,
    id: u32,
    namespaces: &[Cow<'_, str>],
) -> Option<Arc<str>> {
    if id == 0 {
        return None;
    }
    let i = id as usize - 1;
    if cache.len() <= i {
        cache.resize(i + 1, None);
    }
    Some(
        cache[i]
            .get_or_insert_with(|| Arc::from(&*namespaces[i]))
            .clone(),
    )
}

// ---- The hardened tokenizer loop -------------------------------------------------------------

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

/// Receives the tree as the tokenizer validates it.
trait Sink<'a> {
    /// Whether the sink takes text runs now (they are checked and counted either way).
    #[inline(always)]
    fn wants_text(&self) -> bool {
        true
    }
    fn start(
        &mut self,
        namespaces: &[Cow<'a, str>],
        ns: u32,
        name: &'a str,
        attrs: &mut Vec<AttrData<'a>>,
        empty: bool,
    );
    fn end(&mut self);
    /// `append`: the previous sibling is a text run this one continues.
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
struct Tokenizer<'a> {
    src: &'a str,
    /// Offset in `src` of the next byte to read.
    pos: usize,
    limits: XmlLimits,
    /// Interned namespace URIs; id n is `namespaces[n - 1]`, id 1 is the `xml` namespace.
    namespaces: Vec<Cow<'a, str>>,
    /// In-scope prefix bindings (prefix, namespace id; 0 undeclares a default namespace).
    bindings: Vec<(&'a str, u32)>,
    open: Vec<Open<'a>>,
    attrs: Vec<AttrData<'a>>,
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
    last_start: (usize, usize),
    /// `bindings` as shared by [`Mark`]s, until they change.
    bindings_shared: Option<Arc<[(&'a str, u32)]>>,
}

impl<'a> Tokenizer<'a> {
    fn new(
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

    fn intern(&mut self, uri: Cow<'a, str>) -> u32 {
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
    /// and whether it is an empty-element tag (attributes in `self.attrs`).
    #[inline(always)]
    fn start(&mut self) -> Result<(u32, &'a str, bool)> {
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
            self.unbind(mark);
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
    fn step<S: Sink<'a>>(&mut self, sink: &mut S) -> Result<bool> {
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
                        sink.end();
                        return Ok(true);
                    }
                    Some(b'!') => {
                        if let Some(text) = self.bang()? {
                            let append = self.text()?;
                            if sink.wants_text() {
                                sink.text(Cow::Borrowed(text), append);
                                return Ok(true);
                            }
                        }
                    }
                    Some(b'?') => self.pi()?,
                    _ => {
                        let (ns, name, empty) = self.start()?;
                        sink.start(&self.namespaces, ns, name, &mut self.attrs, empty);
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

fn tokenize<'a, S: Sink<'a>>(
    src: &'a str,
    limits: &XmlLimits,
    sink: &mut S,
) -> Result<Vec<Cow<'a, str>>> {
    let mut t = Tokenizer::new(src, 0, *limits, vec![Cow::Borrowed(XML_NS)], Vec::new());
    while t.step(sink)? {}
    Ok(t.namespaces)
}

// ---- Pull reader -------------------------------------------------------------------------------

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

// ---- Sinks -------------------------------------------------------------------------------------

struct DocBuilder<'a> {
    src: &'a str,
    nodes: Vec<NodeData>,
    attrs: Vec<DocAttr>,
    owned: Vec<String>,
    /// Open elements: (node id, last child id, last child element id).
    stack: Vec<(u32, u32, u32)>,
    root: u32,
}

impl<'a> DocBuilder<'a> {
    fn link(&mut self, id: u32, element: bool) {
        match self.stack.last_mut() {
            Some((parent, last, last_el)) => {
                if *last == NONE {
                    self.nodes[*parent as usize].first_child = id;
                } else {
                    self.nodes[*last as usize].next = id;
                }
                *last = id;
                if element {
                    if *last_el == NONE {
                        self.nodes[*parent as usize].first_el = id;
                    } else {
                        self.nodes[*last_el as usize].next_el = id;
                    }
                    *last_el = id;
                }
            }
            None => self.root = id,
        }
    }

    /// Where `s` lives: a span of the input when borrowed from it (the tokenizer's slices
    /// are), else a new owned string.
    fn span(&mut self, s: Cow<'a, str>) -> Span {
        if let Cow::Borrowed(b) = s {
            if let Some(start) = (b.as_ptr() as usize).checked_sub(self.src.as_ptr() as usize) {
                if start + b.len() <= self.src.len() {
                    // `parse_document` refuses inputs of 4 GiB or more: these fit in u32.
                    return Span {
                        start: start as u32,
                        len: b.len() as u32,
                    };
                }
            }
        }
        self.owned.push(s.into_owned());
        Span {
            start: self.owned.len() as u32 - 1,
            len: OWNED,
        }
    }
}

impl<'a> Sink<'a> for DocBuilder<'a> {
    fn start(
        &mut self,
        _: &[Cow<'a, str>],
        ns: u32,
        name: &'a str,
        attrs: &mut Vec<AttrData<'a>>,
        empty: bool,
    ) {
        let id = self.nodes.len() as u32;
        let a = self.attrs.len() as u32;
        for at in attrs.drain(..) {
            let name = self.span(Cow::Borrowed(at.name));
            let value = self.span(at.value);
            self.attrs.push(DocAttr {
                ns: at.ns,
                name,
                value,
            });
        }
        let s = self.span(Cow::Borrowed(name));
        self.nodes.push(NodeData {
            ns,
            s,
            attrs: (a, self.attrs.len() as u32),
            first_child: NONE,
            next: NONE,
            first_el: NONE,
            next_el: NONE,
        });
        self.link(id, true);
        if !empty {
            self.stack.push((id, NONE, NONE));
        }
    }

    fn end(&mut self) {
        self.stack.pop();
    }

    fn text(&mut self, text: Cow<'a, str>, append: bool) {
        if append {
            if let Some(&(_, last, _)) = self.stack.last() {
                if let Some(prev) = self.nodes.get(last as usize).filter(|n| n.ns == TEXT) {
                    let sp = prev.s;
                    if sp.len == OWNED {
                        if let Some(o) = self.owned.get_mut(sp.start as usize) {
                            o.push_str(&text);
                        }
                    } else {
                        let start = sp.start as usize;
                        let mut joined = String::from(
                            self.src.get(start..start + sp.len as usize).unwrap_or(""),
                        );
                        joined.push_str(&text);
                        let sp = self.span(Cow::Owned(joined));
                        self.nodes[last as usize].s = sp;
                    }
                    return;
                }
            }
        }
        let id = self.nodes.len() as u32;
        let s = self.span(text);
        self.nodes.push(NodeData {
            ns: TEXT,
            s,
            attrs: (0, 0),
            first_child: NONE,
            next: NONE,
            first_el: NONE,
            next_el: NONE,
        });
        self.link(id, false);
    }
}

#[derive(Default)]
struct OwnedBuilder {
    cache: Vec<Option<Arc<str>>>,
    stack: Vec<Element>,
    root: Option<Element>,
}

impl<'a> Sink<'a> for OwnedBuilder {
    fn start(
        &mut self,
        namespaces: &[Cow<'a, str>],
        ns: u32,
        name: &'a str,
        attrs: &mut Vec<AttrData<'a>>,
        empty: bool,
    ) {
        let cache = &mut self.cache;
        let element = Element {
            ns: arc_of(cache, ns, namespaces),
            name: name.to_owned(),
            attributes: attrs
                .drain(..)
                .map(|a| Attribute {
                    ns: arc_of(cache, a.ns, namespaces),
                    name: a.name.to_owned(),
                    value: a.value.into_owned(),
                })
                .collect(),
            children: Vec::new(),
        };
        if empty {
            self.close(element);
        } else {
            self.stack.push(element);
        }
    }

    fn end(&mut self) {
        if let Some(done) = self.stack.pop() {
            self.close(done);
        }
    }

    fn text(&mut self, text: Cow<'a, str>, append: bool) {
        let Some(parent) = self.stack.last_mut() else {
            return;
        };
        match parent.children.last_mut() {
            Some(Node::Text(prev)) if append => prev.push_str(&text),
            _ => parent.children.push(Node::Text(text.into_owned())),
        }
    }
}

impl OwnedBuilder {
    fn close(&mut self, element: Element) {
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(Node::Element(element)),
            None => self.root = Some(element),
        }
    }
}

/// Parses `input` into a [`Document`] borrowing from it. See the module documentation.
pub fn parse_document<'a>(input: &'a [u8], limits: &XmlLimits) -> Result<Document<'a>> {
    let text = check_input(input, limits)?;
    // Roughly one node (element or text run) per 12 bytes and one attribute per 30 bytes in CDA
    // and SOAP: reserving that up front avoids regrowing (and copying) the arenas.
    if text.len() >= u32::MAX as usize {
        return Err(NetError::XmlTooLarge {
            size: text.len(),
            limit: u32::MAX as usize - 1,
        });
    }
    let mut b = DocBuilder {
        src: text,
        owned: Vec::new(),
        nodes: Vec::with_capacity(text.len() / 12 + 8),
        attrs: Vec::with_capacity(text.len() / 30 + 8),
        stack: Vec::with_capacity(32),
        root: NONE,
    };
    let namespaces = tokenize(text, limits, &mut b)?;
    Ok(Document {
        src: text,
        namespaces,
        nodes: b.nodes,
        attrs: b.attrs,
        owned: b.owned,
        root: b.root,
    })
}

/// Parses `input` into an owned tree under the given limits. See the module documentation.
pub fn parse(input: &[u8], limits: &XmlLimits) -> Result<Element> {
    let text = check_input(input, limits)?;
    let mut b = OwnedBuilder::default();
    tokenize(text, limits, &mut b)?;
    b.root.ok_or_else(|| NetError::XmlMalformed {
        position: 0,
        path: "/".into(),
        detail: "no root element".into(),
    })
}

/// Escapes text for element content or a double-quoted attribute value.
pub fn escape(text: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(text)
}

/// Appends `<prefix:name>escaped text</prefix:name>` to `out`.
pub fn push_text_element(out: &mut String, qname: &str, text: &str) {
    out.push('<');
    out.push_str(qname);
    out.push('>');
    out.push_str(&escape(text));
    out.push_str("</");
    out.push_str(qname);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Element> {
        parse(s.as_bytes(), &XmlLimits::default())
    }

    #[test]
    fn namespaces_resolved_whatever_the_prefix() {
        let a = p(r#"<a:R xmlns:a="urn:x"><a:C>1</a:C></a:R>"#).unwrap();
        let b = p(r#"<R xmlns="urn:x"><C>1</C></R>"#).unwrap();
        assert!(a.is("urn:x", "R") && b.is("urn:x", "R"));
        assert_eq!(a.child_text("urn:x", "C").as_deref(), Some("1"));
        assert_eq!(b.child_text("urn:x", "C").as_deref(), Some("1"));
    }

    #[test]
    fn entities_and_cdata() {
        let e = p(r#"<r>a&amp;b&#233;<![CDATA[<x>]]></r>"#).unwrap();
        assert_eq!(e.text(), "a&bé<x>");
    }

    #[test]
    fn doctype_refused() {
        let e = p(r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>"#);
        assert!(matches!(e, Err(NetError::XmlDoctype)), "{e:?}");
    }

    #[test]
    fn unknown_entity_refused() {
        assert!(matches!(
            p("<r>&x;</r>"),
            Err(NetError::XmlMalformed { .. })
        ));
    }

    #[test]
    fn encoding_checks() {
        assert!(matches!(
            p(r#"<?xml version="1.0" encoding="ISO-8859-1"?><r/>"#),
            Err(NetError::XmlEncoding(_))
        ));
        assert!(matches!(
            parse(b"<r>\xe9</r>", &XmlLimits::default()),
            Err(NetError::XmlEncoding(_))
        ));
        assert!(parse(b"\xEF\xBB\xBF<r/>", &XmlLimits::default()).is_ok());
    }

    #[test]
    fn limits() {
        let big = format!("<r>{}</r>", "x".repeat(2000));
        let small = XmlLimits {
            max_bytes: 1000,
            ..XmlLimits::default()
        };
        assert!(matches!(
            parse(big.as_bytes(), &small),
            Err(NetError::XmlTooLarge { .. })
        ));
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(matches!(p(&deep), Err(NetError::XmlTooDeep { .. })));
    }

    #[test]
    fn truncated_and_mismatched() {
        assert!(matches!(
            p("<a><b></b>"),
            Err(NetError::XmlTruncated { .. })
        ));
        assert!(matches!(
            p("<a><b></a>"),
            Err(NetError::XmlMalformed { .. })
        ));
        assert!(matches!(p("<a/><b/>"), Err(NetError::XmlMalformed { .. })));
        assert!(matches!(p(""), Err(NetError::XmlMalformed { .. })));
        assert!(matches!(p("<x:a/>"), Err(NetError::XmlMalformed { .. })));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        proptest::proptest!(|(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300))| {
            let _ = parse(&bytes, &XmlLimits::default());
        });
    }

    #[test]
    fn document_matches_owned_tree() {
        let cases = [
            r#"<a:R xmlns:a="urn:x" xmlns:b="urn:y" b:k="1" k="2"><a:C>1</a:C> <b:D/>t&lt;u</a:R>"#,
            r#"<?xml version="1.0" encoding="UTF-8"?><!-- c --><r xmlns="urn:x"><p>a<b>bold</b> c&amp;d<![CDATA[<x>]]>e<?pi x?>f</p><q xmlns="">n</q></r>"#,
            "<r>\r\n  <s xml:lang=\"fr\" v=\"a&amp;b&#233;\"/>\r\n</r>",
        ];
        for c in cases {
            let owned = p(c).unwrap();
            let doc = parse_document(c.as_bytes(), &XmlLimits::default()).unwrap();
            assert_eq!(doc.root().to_element(), owned, "{c}");
        }
    }

    #[test]
    fn document_navigation() {
        let src = r#"<R xmlns="urn:x" xmlns:xsi="urn:xsi"><C a="1">x<i>y</i>z</C><C a="2"/><D xsi:type="PQ"/></R>"#;
        let doc = parse_document(src.as_bytes(), &XmlLimits::default()).unwrap();
        let r = doc.root();
        assert!(r.is("urn:x", "R"));
        assert_eq!(r.namespace(), "urn:x");
        assert_eq!(r.children_named("urn:x", "C").count(), 2);
        assert_eq!(r.children_named("urn:other", "C").count(), 0);
        let c = r.child("urn:x", "C").unwrap();
        assert_eq!(c.attr("a"), Some("1"));
        assert_eq!(c.text(), "xz");
        assert!(c.has_element_children());
        assert_eq!(r.child_text("urn:x", "C").as_deref(), Some("xz"));
        let d = r.child("urn:x", "D").unwrap();
        assert_eq!(d.attr_ns("urn:xsi", "type"), Some("PQ"));
        assert_eq!(d.attr("type"), None);
        assert_eq!(d.attributes().len(), 1);
        assert!(matches!(c.children().next(), Some(NodeRef::Text("x"))));
    }

    #[test]
    fn document_checks_like_parse() {
        let l = XmlLimits::default();
        let d = |s: &str| parse_document(s.as_bytes(), &l).map(|_| ());
        assert!(matches!(
            d(r#"<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>"#),
            Err(NetError::XmlDoctype)
        ));
        assert!(matches!(
            d("<r>&x;</r>"),
            Err(NetError::XmlMalformed { .. })
        ));
        assert!(matches!(
            d("<a><b></b>"),
            Err(NetError::XmlTruncated { .. })
        ));
        assert!(matches!(d("<x:a/>"), Err(NetError::XmlMalformed { .. })));
        assert!(matches!(
            d(r#"<a p:x="1"/>"#),
            Err(NetError::XmlMalformed { .. })
        ));
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(matches!(d(&deep), Err(NetError::XmlTooDeep { .. })));
        let few = XmlLimits { max_nodes: 3, ..l };
        assert!(parse_document(b"<a><b/>t</a>", &few).is_ok());
        assert!(matches!(
            parse_document(b"<a><b/>t<c/></a>", &few),
            Err(NetError::XmlMalformed { .. })
        ));
        match d("<a><b><c></b></a>") {
            Err(NetError::XmlMalformed { path, .. }) => assert_eq!(path, "/a/b/c"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_document() {
        proptest::proptest!(|(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300))| {
            if let (Ok(d), Ok(e)) = (parse_document(&bytes, &XmlLimits::default()), parse(&bytes, &XmlLimits::default())) {
                proptest::prop_assert_eq!(d.root().to_element(), e);
            }
        });
    }

    /// Rebuilds the owned tree from the pull reader's events (adjacent text runs joined, as
    /// the tree builders do).
    fn tree_from_reader(r: &mut XmlReader<'_>, replay: bool) -> Result<Element> {
        let mut stack: Vec<Element> = Vec::new();
        let mut root = None;
        loop {
            match r.read_event()? {
                XmlEvent::Start { ns, name } => {
                    let arc =
                        |id: NsId, r: &XmlReader<'_>| r.namespace_uri(id).map(Arc::<str>::from);
                    let attributes = r
                        .attributes()
                        .map(|(ans, n, v)| Attribute {
                            ns: arc(ans, r),
                            name: n.to_owned(),
                            value: v.to_string(),
                        })
                        .collect();
                    stack.push(Element {
                        ns: arc(ns, r),
                        name: name.to_owned(),
                        attributes,
                        children: Vec::new(),
                    });
                }
                XmlEvent::End => {
                    let done = stack.pop().expect("balanced");
                    match stack.last_mut() {
                        Some(p) => p.children.push(Node::Element(done)),
                        None => {
                            root = Some(done);
                            if replay {
                                // A replay stops at the marked element's end.
                                break;
                            }
                        }
                    }
                }
                XmlEvent::Text(t) => {
                    let p = stack.last_mut().expect("inside the root");
                    match p.children.last_mut() {
                        Some(Node::Text(prev)) => prev.push_str(&t),
                        _ => p.children.push(Node::Text(t.into_owned())),
                    }
                }
                XmlEvent::Eof => break,
            }
        }
        Ok(root.expect("root"))
    }

    fn pulled(bytes: &[u8], limits: &XmlLimits) -> Result<Element> {
        let mut r = XmlReader::new(bytes, limits)?;
        tree_from_reader(&mut r, false)
    }

    #[test]
    fn reader_events_give_the_same_tree_and_errors() {
        let l = XmlLimits::default();
        let cases = [
            r#"<a:R xmlns:a="urn:x" xmlns:b="urn:y" b:k="1" k="2"><a:C>1</a:C> <b:D/>t&lt;u</a:R>"#,
            r#"<?xml version="1.0" encoding="UTF-8"?><!-- c --><r xmlns="urn:x"><p>a<b>bold</b> c&amp;d<![CDATA[<x>]]>e<?pi x?>f</p><q xmlns="">n</q></r>"#,
            "<r>\r\n  <s xml:lang=\"fr\" v=\"a&amp;b&#233;\" w='x\"y'/>\r\n</r>",
            "<r><![CDATA[]]></r>",
        ];
        for c in cases {
            assert_eq!(pulled(c.as_bytes(), &l).unwrap(), p(c).unwrap(), "{c}");
        }
        for bad in [
            "<a><b></b>",
            "<a><b></a>",
            "<a/><b/>",
            "",
            "<x:a/>",
            r#"<a p:x="1"/>"#,
            r#"<a x="1" x="2"/>"#,
            r#"<a x="<"/>"#,
            r#"<a x="&bad;"/>"#,
            "<r>&x;</r>",
            r#"<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>"#,
        ] {
            let (a, b) = (pulled(bad.as_bytes(), &l), p(bad));
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{bad}");
            assert!(a.is_err(), "{bad}");
        }
        let few = XmlLimits { max_nodes: 3, ..l };
        assert!(pulled(b"<a><b/>t</a>", &few).is_ok());
        assert!(matches!(
            pulled(b"<a><b/>t<c/></a>", &few),
            Err(NetError::XmlMalformed { .. })
        ));
    }

    #[test]
    fn reader_attributes_namespaces_and_empty_tags() {
        let src = r#"<R xmlns="urn:x" xmlns:xsi="urn:xsi"><D xsi:type="PQ" v="a&amp;b"/>t</R>"#;
        let mut r = XmlReader::new(src.as_bytes(), &XmlLimits::default()).unwrap();
        let x = r.namespace_id("urn:x");
        let xsi = r.namespace_id("urn:xsi");
        assert_ne!(x, xsi);
        assert_eq!(
            r.read_event().unwrap(),
            XmlEvent::Start { ns: x, name: "R" }
        );
        assert_eq!(r.attributes().len(), 0);
        assert_eq!(
            r.read_event().unwrap(),
            XmlEvent::Start { ns: x, name: "D" }
        );
        assert_eq!(r.attr_ns(xsi, "type").as_deref(), Some("PQ"));
        assert_eq!(r.attr("type"), None);
        assert_eq!(r.attr("v").as_deref(), Some("a&b"));
        assert_eq!(r.namespace_uri(x), Some("urn:x"));
        assert_eq!(r.namespace_uri(NsId::NONE), None);
        assert_eq!(r.read_event().unwrap(), XmlEvent::End);
        assert_eq!(
            r.attr("v"),
            None,
            "attributes are those of the last start tag only"
        );
        assert_eq!(r.read_event().unwrap(), XmlEvent::Text("t".into()));
        assert_eq!(r.read_event().unwrap(), XmlEvent::End);
        assert_eq!(r.read_event().unwrap(), XmlEvent::Eof);
        assert_eq!(r.read_event().unwrap(), XmlEvent::Eof);
    }

    #[test]
    fn replay_reads_the_marked_element_again() {
        let src = r#"<a:R xmlns:a="urn:x" xmlns:xsi="urn:xsi"><a:S><a:E xsi:type="CD" k="1">x<a:F/>y</a:E></a:S><a:G/></a:R>"#;
        let whole = p(src).unwrap();
        let mut r = XmlReader::new(src.as_bytes(), &XmlLimits::default()).unwrap();
        let mut marks = Vec::new();
        loop {
            match r.read_event().unwrap() {
                XmlEvent::Start { name, .. } => marks.push((name, r.mark())),
                XmlEvent::Eof => break,
                _ => {}
            }
        }
        let find = |e: &Element, n: &str| -> Element {
            fn f(e: &Element, n: &str) -> Option<Element> {
                if e.name == n {
                    return Some(e.clone());
                }
                e.elements().find_map(|c| f(c, n))
            }
            f(e, n).unwrap()
        };
        for (name, m) in &marks {
            let mut again = r.replay(m);
            let e = tree_from_reader(&mut again, true).unwrap();
            assert_eq!(e, find(&whole, name), "{name}");
        }
        assert_eq!(marks.len(), 5);
    }

    #[test]
    fn arbitrary_bytes_reader_agrees_with_parse() {
        proptest::proptest!(|(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300))| {
            let l = XmlLimits::default();
            match (pulled(&bytes, &l), parse(&bytes, &l)) {
                (Ok(a), Ok(b)) => proptest::prop_assert_eq!(a, b),
                (a, b) => proptest::prop_assert_eq!(format!("{a:?}"), format!("{b:?}")),
            }
        });
    }

    #[test]
    fn names_are_checked() {
        let e = p("<a b.c-1=\"1\" x:y=\"2\" xmlns:x=\"urn:x\" d = '3'/>").unwrap();
        let names: Vec<_> = e
            .attributes
            .iter()
            .map(|a| (a.name.as_str(), a.value.as_str()))
            .collect();
        assert_eq!(names, [("b.c-1", "1"), ("y", "2"), ("d", "3")]);
        // XML 1.0 §2.3 Name, Namespaces in XML 1.0 §4 QName.
        for bad in [
            "<a b\u{1}c=\"1\"/>",
            "<a\u{1}/>",
            "<a\"b/>",
            "<1a/>",
            "< a/>",
            "<a 1b=\"1\"/>",
            "<:a/>",
            "<a:/>",
            "<a:b:c xmlns:a=\"urn:x\"/>",
            "<a x:=\"1\"/>",
            "<a></a >x",
            "<a></ a>",
            "<a/ >",
            "<?xml version=\"1.0\"?><a/><?xml version=\"1.0\"?>",
            "<a><?xml version=\"1.0\"?></a>",
            "<a><?=?></a>",
            "<a><!ELEMENT a ANY></a>",
            "<a>&#0;</a>",
            "<a>& b</a>",
            "<a x=\"&#xD800;\"/>",
            "<a x=\"\u{1}\"/>",
            "<a xmlns:p=\"urn:x\" xmlns:q=\"urn:x\" p:x=\"1\" q:x=\"2\"/>",
            "<a><!-- a -- b --></a>",
            "<a><!-- a ---></a>",
            "<a>x]]>y</a>",
            "<a>]]></a>",
        ] {
            assert!(
                matches!(p(bad), Err(NetError::XmlMalformed { .. })),
                "{bad:?}: {:?}",
                p(bad)
            );
        }
        assert!(p("<a></a >").is_ok());
        assert!(p("<a xmlns:p=\"urn:x\" xmlns:q=\"urn:y\" p:x=\"1\" q:x=\"2\" x=\"3\"/>").is_ok());
        assert_eq!(p("<a>x]]y]>z]</a>").unwrap().text(), "x]]y]>z]");
        assert!(p("<a><?pi?><?pi x?></a>").is_ok());
        assert!(p("<é:ü xmlns:é=\"urn:x\" ß=\"1\"/>").is_ok());
        assert!(matches!(
            p("<a b c=\"1\"/>"),
            Err(NetError::XmlMalformed { .. })
        ));
        assert!(matches!(
            p("<a b=\"1\"c=\"2\"/>"),
            Err(NetError::XmlMalformed { .. })
        ));
        assert!(matches!(
            p("<a b=\"1/>"),
            Err(NetError::XmlMalformed { .. })
        ));
    }

    #[test]
    fn read_markup_skips_text_only() {
        let src = "<r>a<b x=\"1\">t</b>&amp;<![CDATA[c]]><c/></r>";
        let l = XmlLimits::default();
        let mut all = XmlReader::new(src.as_bytes(), &l).unwrap();
        let mut markup = XmlReader::new(src.as_bytes(), &l).unwrap();
        let mut want = Vec::new();
        loop {
            match all.read_event().unwrap() {
                XmlEvent::Text(_) => {}
                XmlEvent::Eof => break,
                e => want.push(e),
            }
        }
        let mut got = Vec::new();
        loop {
            match markup.read_markup().unwrap() {
                XmlEvent::Eof => break,
                e @ XmlEvent::Start { name: "b", .. } => {
                    assert_eq!(markup.attr("x").as_deref(), Some("1"));
                    got.push(e);
                }
                e => got.push(e),
            }
        }
        assert_eq!(got, want);
        // Text still counts against the node limit.
        let few = XmlLimits { max_nodes: 2, ..l };
        let mut r = XmlReader::new(b"<r>a<b/></r>", &few).unwrap();
        let err = loop {
            match r.read_markup() {
                Ok(XmlEvent::Eof) => break None,
                Ok(_) => {}
                Err(e) => break Some(e),
            }
        };
        assert!(
            matches!(err, Some(NetError::XmlMalformed { .. })),
            "{err:?}"
        );
    }

    /// Records what a visitor is shown, as pulled events.
    struct Record<'a>(Vec<XmlEvent<'a>>, Vec<Option<String>>, bool);

    impl<'a> Visitor<'a> for Record<'a> {
        fn wants_text(&self) -> bool {
            self.2
        }
        fn start(&mut self, ns: NsId, name: &'a str, attributes: Attributes<'_, 'a>) {
            self.0.push(XmlEvent::Start { ns, name });
            self.1.push(attributes.get("k").map(Cow::into_owned));
        }
        fn text(&mut self, text: Cow<'a, str>) {
            self.0.push(XmlEvent::Text(text));
        }
        fn end(&mut self) {
            self.0.push(XmlEvent::End);
        }
    }

    #[test]
    fn read_to_end_with_pushes_what_read_event_pulls() {
        let src = r#"<r xmlns="urn:x"><a k="1">t<b/>&amp;<c k="2"><d/></c></a><e/>tail</r>"#;
        let l = XmlLimits::default();
        for text in [true, false] {
            let mut pull = XmlReader::new(src.as_bytes(), &l).unwrap();
            let mut push = XmlReader::new(src.as_bytes(), &l).unwrap();
            // Both at <a>.
            for r in [&mut pull, &mut push] {
                assert!(matches!(
                    r.read_event().unwrap(),
                    XmlEvent::Start { name: "r", .. }
                ));
                assert!(matches!(
                    r.read_event().unwrap(),
                    XmlEvent::Start { name: "a", .. }
                ));
            }
            let mut want = Vec::new();
            let mut depth = 0;
            loop {
                match pull.read_event().unwrap() {
                    XmlEvent::Text(_) if !text => {}
                    e @ XmlEvent::Start { .. } => {
                        depth += 1;
                        want.push(e);
                    }
                    XmlEvent::End if depth == 0 => {
                        want.push(XmlEvent::End);
                        break;
                    }
                    XmlEvent::End => {
                        depth -= 1;
                        want.push(XmlEvent::End);
                    }
                    e => want.push(e),
                }
            }
            let mut rec = Record(Vec::new(), Vec::new(), text);
            push.read_to_end_with(&mut rec).unwrap();
            assert_eq!(rec.0, want, "text: {text}");
            assert_eq!(rec.1, [None, Some("2".to_owned()), None]);
            // Both go on from the same place.
            assert_eq!(push.read_event().unwrap(), pull.read_event().unwrap());
        }
        // An empty element: only its end is left.
        let mut r = XmlReader::new(b"<r><e/><f/></r>", &l).unwrap();
        r.read_event().unwrap();
        assert!(matches!(
            r.read_event().unwrap(),
            XmlEvent::Start { name: "e", .. }
        ));
        let mut rec = Record(Vec::new(), Vec::new(), true);
        r.read_to_end_with(&mut rec).unwrap();
        assert_eq!(rec.0, [XmlEvent::End]);
        assert!(matches!(
            r.read_event().unwrap(),
            XmlEvent::Start { name: "f", .. }
        ));
        // Errors inside are the reader's.
        let mut r = XmlReader::new(b"<r><a x='1' x='2'/></r>", &l).unwrap();
        r.read_event().unwrap();
        let mut rec = Record(Vec::new(), Vec::new(), true);
        assert!(matches!(
            r.read_to_end_with(&mut rec),
            Err(NetError::XmlMalformed { .. })
        ));
    }
}
