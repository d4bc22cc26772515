//! The two trees built by the tokenizer loop: [`Element`], a small owned tree, and
//! [`Document`], a compact arena tree that borrows from its input (see the module documentation
//! of [`crate::xml`]).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::tokenizer::{check_input, tokenize, AttrData, Sink};
use super::XmlLimits;
use crate::error::{NetError, Result};

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

/// The texts joined, borrowed when there is at most one.
pub(crate) fn concat<'t>(mut texts: impl Iterator<Item = &'t str>) -> Cow<'t, str> {
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

// ---- Builders -------------------------------------------------------------------------------

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
