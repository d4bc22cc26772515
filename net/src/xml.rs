//! Hardened XML reading and small writing helpers.
//!
//! Every message that comes from the network (or from a file a user hands us) is read by one
//! tokenizer loop that enforces, before and while parsing:
//! - a size limit ([`XmlLimits::max_bytes`], 1 MiB by default: the INSi replies are a few KiB);
//! - UTF-8 only: the bytes must be valid UTF-8 and an `encoding` declaration, if present, must say
//!   UTF-8;
//! - no DOCTYPE at all, hence no entity declarations, no external entities, no entity expansion;
//! - a nesting depth limit, a node count limit and at most [`MAX_ATTRIBUTES`] attributes per
//!   element; duplicate attributes and `<` in attribute values refused;
//! - namespace awareness: elements are identified by (namespace URI, local name), never by prefix.
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
//! Both are navigated by namespace and local name, in any order, which is what the national
//! services' replies require (prefixes and element order vary between the CNDA files and the live
//! services). Text is kept exactly (whitespace-only runs included: CDA narrative is mixed content).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::error::{NetError, Result};

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
    std::str::from_utf8(input)
        .map_err(|e| NetError::XmlEncoding(format!("invalid UTF-8 at byte {}", e.valid_up_to())))
}

/// Receives the tree as the tokenizer validates it.
trait Sink<'a> {
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

/// The slice of `src` that `part` (a sub-slice of it, as quick-xml hands out when reading from a
/// `&str`) covers, without validating UTF-8 again; `None` if `part` is not inside `src`.
fn sub<'a>(src: &'a str, part: &[u8]) -> Option<&'a str> {
    let start = (part.as_ptr() as usize).checked_sub(src.as_ptr() as usize)?;
    src.get(start..start.checked_add(part.len())?)
}

fn path_of(open: &[(&str, usize)]) -> String {
    if open.is_empty() {
        return "/".to_owned();
    }
    let mut p = String::new();
    for (name, _) in open {
        p.push('/');
        p.push_str(name);
    }
    p
}

struct Tokenizer<'a> {
    src: &'a str,
    limits: XmlLimits,
    /// Interned namespace URIs; id n is `namespaces[n - 1]`, id 1 is the `xml` namespace.
    namespaces: Vec<Cow<'a, str>>,
    /// In-scope prefix bindings (prefix, namespace id; 0 undeclares a default namespace).
    bindings: Vec<(&'a str, u32)>,
    /// Open elements: local name and the bindings length before their declarations.
    open: Vec<(&'a str, usize)>,
    attrs: Vec<AttrData<'a>>,
    /// Prefixes of `attrs`, resolved once every declaration of the tag is known.
    attr_prefixes: Vec<&'a str>,
    /// Attribute names of the current tag (duplicate check).
    keys: Vec<&'a str>,
    root_done: bool,
    nodes: usize,
    last_text: bool,
    position: u64,
}

impl<'a> Tokenizer<'a> {
    fn malformed(&self, detail: impl Into<String>) -> NetError {
        NetError::XmlMalformed {
            position: self.position,
            path: path_of(&self.open),
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

    /// Reads the attribute part of a start tag (`(S Name S? '=' S? AttValue)* S?`, XML 1.0
    /// §3.1): namespace declarations go to the bindings, other attributes to `self.attrs` with
    /// their prefix in `self.attr_prefixes`. Values are slices of the input unless a reference
    /// had to be resolved; `<` in a value and duplicate names are refused.
    fn attributes(&mut self, raw: &'a str) -> Result<()> {
        #[inline]
        fn ws(c: u8) -> bool {
            // XML S: space, tab, CR, LF.
            matches!(c, b' ' | b'\t' | b'\r' | b'\n')
        }
        let b = raw.as_bytes();
        let n = b.len();
        let mut i = 0;
        self.keys.clear();
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
            let mut colon = usize::MAX;
            while i < n && b[i] != b'=' && !ws(b[i]) {
                if b[i] == b':' && colon == usize::MAX {
                    colon = i;
                }
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
            let mut special = false;
            while i < n && b[i] != quote {
                special |= matches!(b[i], b'&' | b'<');
                i += 1;
            }
            if i == n {
                return Err(self.malformed(format!("attribute {key:?}: value not closed")));
            }
            let value = &raw[v0..i];
            i += 1;
            let value: Cow<'a, str> = if !special {
                Cow::Borrowed(value)
            } else if value.contains('<') {
                return Err(self.malformed(format!("attribute {key:?}: '<' in value")));
            } else {
                Cow::Owned(
                    quick_xml::escape::unescape(value)
                        .map_err(|e| self.malformed(e.to_string()))?
                        .into_owned(),
                )
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
            let (prefix, name) = if colon == usize::MAX {
                ("", key)
            } else {
                (&raw[k0..colon], &raw[colon + 1..k0 + key.len()])
            };
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
            } else {
                self.attr_prefixes.push(prefix);
                self.attrs.push(AttrData { ns: 0, name, value });
            }
        }
        Ok(())
    }

    fn start<S: Sink<'a>>(
        &mut self,
        start: &BytesStart<'a>,
        empty: bool,
        sink: &mut S,
    ) -> Result<()> {
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
        let qname = sub(self.src, start.name().as_ref())
            .ok_or_else(|| self.malformed("element name is not UTF-8"))?;
        let mark = self.bindings.len();
        self.attrs.clear();
        self.attr_prefixes.clear();
        let raw = sub(self.src, start.attributes_raw())
            .ok_or_else(|| self.malformed("attributes are not UTF-8"))?;
        self.attributes(raw)?;
        let (prefix, name) = qname.split_once(':').unwrap_or(("", qname));
        let ns = match self.lookup(prefix) {
            Some(id) => id,
            None if prefix.is_empty() => 0,
            None => return Err(self.malformed(format!("undeclared prefix {prefix:?}"))),
        };
        for i in 0..self.attrs.len() {
            let prefix = self.attr_prefixes[i];
            if !prefix.is_empty() {
                self.attrs[i].ns = self.lookup(prefix).filter(|id| *id != 0).ok_or_else(|| {
                    self.malformed(format!("undeclared attribute prefix {prefix:?}"))
                })?;
            }
        }
        sink.start(&self.namespaces, ns, name, &mut self.attrs, empty);
        self.last_text = false;
        if empty {
            self.bindings.truncate(mark);
            self.root_done = self.open.is_empty();
        } else {
            self.open.push((name, mark));
        }
        Ok(())
    }

    fn text<S: Sink<'a>>(&mut self, text: Cow<'a, str>, sink: &mut S) -> Result<()> {
        if !self.last_text {
            self.count_node()?;
        }
        sink.text(text, self.last_text);
        self.last_text = true;
        Ok(())
    }

    fn run<S: Sink<'a>>(mut self, sink: &mut S) -> Result<Vec<Cow<'a, str>>> {
        let mut reader = Reader::from_str(self.src);
        reader.config_mut().trim_text(false);
        reader.config_mut().check_end_names = true;
        reader.config_mut().expand_empty_elements = false;
        loop {
            self.position = reader.buffer_position();
            let event = reader
                .read_event()
                .map_err(|e| self.malformed(e.to_string()))?;
            match event {
                Event::Start(ref s) => self.start(s, false, sink)?,
                Event::Empty(ref s) => self.start(s, true, sink)?,
                Event::End(_) => {
                    let Some((_, mark)) = self.open.pop() else {
                        return Err(self.malformed("unexpected end tag"));
                    };
                    self.bindings.truncate(mark);
                    sink.end();
                    self.last_text = false;
                    self.root_done = self.open.is_empty();
                }
                Event::Text(t) => {
                    let raw = t.into_inner();
                    if self.open.is_empty() {
                        if raw.iter().all(u8::is_ascii_whitespace) {
                            continue;
                        }
                        return Err(self.malformed("text outside the root element"));
                    }
                    if raw.is_empty() {
                        continue;
                    }
                    let s =
                        sub(self.src, &raw).ok_or_else(|| self.malformed("text is not UTF-8"))?;
                    self.text(Cow::Borrowed(s), sink)?;
                }
                Event::GeneralRef(r) => {
                    if self.open.is_empty() {
                        return Err(self.malformed("reference outside the root element"));
                    }
                    let name = r.decode().map_err(|e| self.malformed(e.to_string()))?;
                    let resolved: String = match r
                        .resolve_char_ref()
                        .map_err(|e| self.malformed(e.to_string()))?
                    {
                        Some(ch) => ch.to_string(),
                        None => match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => s.to_owned(),
                            None => {
                                return Err(self.malformed(format!("undeclared entity &{name};")))
                            }
                        },
                    };
                    self.text(Cow::Owned(resolved), sink)?;
                }
                Event::CData(c) => {
                    if self.open.is_empty() {
                        return Err(self.malformed("CDATA outside the root element"));
                    }
                    let raw = c.into_inner();
                    let s =
                        sub(self.src, &raw).ok_or_else(|| self.malformed("CDATA is not UTF-8"))?;
                    self.text(Cow::Borrowed(s), sink)?;
                }
                Event::DocType(_) => return Err(NetError::XmlDoctype),
                Event::Decl(decl) => {
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
                Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => {
                    if !self.open.is_empty() {
                        return Err(NetError::XmlTruncated {
                            path: path_of(&self.open),
                        });
                    }
                    if !self.root_done {
                        return Err(self.malformed("no root element"));
                    }
                    return Ok(self.namespaces);
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
    Tokenizer {
        src,
        limits: *limits,
        namespaces: vec![Cow::Borrowed(XML_NS)],
        bindings: Vec::new(),
        open: Vec::new(),
        attrs: Vec::new(),
        attr_prefixes: Vec::new(),
        keys: Vec::new(),
        root_done: false,
        nodes: 0,
        last_text: false,
        position: 0,
    }
    .run(sink)
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
}
