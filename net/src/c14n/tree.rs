//! The tree canonicalization reads: elements with their prefixes, namespace declarations as
//! written, attributes, comments, processing instructions and byte spans.

use std::borrow::Cow;
use std::fmt;

use crate::error::{NetError, Result};
use crate::xml::{concat, XML_NS};

pub(super) const NONE: u32 = u32::MAX;
/// Namespace id of the `xml` prefix (ids start at 1; 0 means "no namespace").
pub(super) const XML_ID: u32 = 1;

/// The handle of an element of a [`Document`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ElementId(pub(super) u32);

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

/// A node under an element (or around the root).
#[derive(Debug)]
pub(super) enum Child<'a> {
    Element(u32),
    Text(Cow<'a, str>),
    Comment(Cow<'a, str>),
    Pi { target: &'a str, data: Cow<'a, str> },
}

/// An attribute other than a namespace declaration.
#[derive(Debug)]
pub(super) struct Attr<'a> {
    /// Prefix as written (`""` when there is none).
    pub(super) prefix: &'a str,
    pub(super) local: &'a str,
    pub(super) ns: u32,
    /// Normalised value (XML 1.0 §3.3.3).
    pub(super) value: Cow<'a, str>,
}

/// An element as written.
#[derive(Debug)]
pub(super) struct Elem<'a> {
    pub(super) qname: &'a str,
    pub(super) prefix: &'a str,
    pub(super) local: &'a str,
    pub(super) ns: u32,
    /// Namespace declarations: prefix (`""` for the default one) and namespace id (0 undeclares
    /// the default namespace).
    pub(super) decls: Vec<(&'a str, u32)>,
    pub(super) attrs: Vec<Attr<'a>>,
    pub(super) children: Vec<Child<'a>>,
    pub(super) parent: u32,
    pub(super) span: ElementSpan,
}

/// A parsed document, kept with everything canonicalization needs (prefixes, namespace
/// declarations, comments, processing instructions, byte spans).
pub struct Document<'a> {
    pub(super) src: &'a str,
    /// Namespace URIs; id n is `namespaces[n - 1]`, id 1 is the `xml` namespace.
    pub(super) namespaces: Vec<Cow<'a, str>>,
    pub(super) elements: Vec<Elem<'a>>,
    /// Comments and processing instructions outside the document element, and the root.
    pub(super) top: Vec<Child<'a>>,
    pub(super) root: u32,
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

    pub(super) fn ns_str(&self, id: u32) -> &str {
        match id {
            0 => "",
            n => self
                .namespaces
                .get(n as usize - 1)
                .map(|c| c.as_ref())
                .unwrap_or(""),
        }
    }
}

/// An element of a [`Document`].
#[derive(Clone, Copy)]
pub struct ElementRef<'d, 'a> {
    doc: &'d Document<'a>,
    pub(super) id: u32,
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
        concat(self.e().children.iter().filter_map(|c| match c {
            Child::Text(t) => Some(t.as_ref()),
            _ => None,
        }))
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
