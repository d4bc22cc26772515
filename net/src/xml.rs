//! Hardened XML reading and small writing helpers.
//!
//! Every message that comes from the network (or from a file a user hands us) is read through
//! [`parse`], which enforces, before and while parsing:
//! - a size limit ([`XmlLimits::max_bytes`], 1 MiB by default: the INSi replies are a few KiB);
//! - UTF-8 only: the bytes must be valid UTF-8 and an `encoding` declaration, if present, must say
//!   UTF-8;
//! - no DOCTYPE at all, hence no entity declarations, no external entities, no entity expansion;
//! - a nesting depth limit and a node count limit;
//! - namespace awareness: elements are identified by (namespace URI, local name), never by prefix.
//!
//! The result is a small owned tree ([`Element`]) navigated by namespace and local name, in any
//! order, which is what the national services' replies require (prefixes and element order vary
//! between the CNDA files and the live services).

use std::borrow::Cow;
use std::sync::Arc;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use crate::error::{NetError, Result};

/// Limits applied by [`parse`].
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
        let mut texts = self.children.iter().filter_map(|n| match n {
            Node::Text(t) => Some(t.as_str()),
            Node::Element(_) => None,
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

fn path_of(stack: &[Element]) -> String {
    if stack.is_empty() {
        return "/".to_owned();
    }
    let mut p = String::new();
    for e in stack {
        p.push('/');
        p.push_str(&e.name);
    }
    p
}

/// Parses `input` into a tree under the given limits. See the module documentation.
pub fn parse(input: &[u8], limits: &XmlLimits) -> Result<Element> {
    let text = check_input(input, limits)?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(false);
    reader.config_mut().check_end_names = true;
    reader.config_mut().expand_empty_elements = false;

    let mut namespaces: Vec<Arc<str>> = Vec::new();
    let mut intern = |uri: &[u8]| -> Result<Arc<str>> {
        if let Some(found) = namespaces.iter().find(|n| n.as_bytes() == uri) {
            return Ok(found.clone());
        }
        let s = std::str::from_utf8(uri)
            .map_err(|_| NetError::XmlEncoding("namespace URI is not UTF-8".into()))?;
        let arc: Arc<str> = Arc::from(s);
        namespaces.push(arc.clone());
        Ok(arc)
    };

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut nodes = 0usize;

    loop {
        let position = reader.buffer_position();
        let (resolved, event) =
            reader
                .read_resolved_event()
                .map_err(|e| NetError::XmlMalformed {
                    position,
                    path: path_of(&stack),
                    detail: e.to_string(),
                })?;
        let element_ns = match (&event, resolved) {
            (Event::Start(_) | Event::Empty(_), ResolveResult::Bound(ns)) => {
                Some(Some(intern(ns.as_ref())?))
            }
            (Event::Start(_) | Event::Empty(_), ResolveResult::Unbound) => Some(None),
            (Event::Start(_) | Event::Empty(_), ResolveResult::Unknown(p)) => {
                return Err(NetError::XmlMalformed {
                    position,
                    path: path_of(&stack),
                    detail: format!("undeclared prefix {:?}", String::from_utf8_lossy(&p)),
                })
            }
            _ => None,
        };
        let malformed = |detail: String, stack: &[Element]| NetError::XmlMalformed {
            position,
            path: path_of(stack),
            detail,
        };
        match event {
            Event::DocType(_) => return Err(NetError::XmlDoctype),
            Event::Decl(decl) => {
                if let Some(Ok(enc)) = decl.encoding() {
                    if !enc.eq_ignore_ascii_case(b"utf-8") && !enc.eq_ignore_ascii_case(b"utf8") {
                        return Err(NetError::XmlEncoding(format!(
                            "declared encoding {:?}",
                            String::from_utf8_lossy(&enc)
                        )));
                    }
                }
            }
            Event::Start(ref start) | Event::Empty(ref start) => {
                let is_empty = matches!(event, Event::Empty(_));
                if root.is_some() {
                    return Err(malformed("content after the root element".into(), &stack));
                }
                if stack.len() >= limits.max_depth {
                    return Err(NetError::XmlTooDeep {
                        path: path_of(&stack),
                        limit: limits.max_depth,
                    });
                }
                nodes += 1;
                if nodes > limits.max_nodes {
                    return Err(malformed(
                        format!("more than {} nodes", limits.max_nodes),
                        &stack,
                    ));
                }
                let ns = element_ns.flatten();
                let name = std::str::from_utf8(start.local_name().as_ref())
                    .map_err(|_| malformed("element name is not UTF-8".into(), &stack))?
                    .to_owned();
                let mut attributes = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| malformed(e.to_string(), &stack))?;
                    let key = attr.key;
                    if key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (ares, alocal) = reader.resolve_attribute(key);
                    let ans = match ares {
                        ResolveResult::Bound(ns) => Some(intern(ns.as_ref())?),
                        ResolveResult::Unbound => None,
                        ResolveResult::Unknown(p) => {
                            return Err(malformed(
                                format!(
                                    "undeclared attribute prefix {:?}",
                                    String::from_utf8_lossy(&p)
                                ),
                                &stack,
                            ))
                        }
                    };
                    let aname = std::str::from_utf8(alocal.as_ref())
                        .map_err(|_| malformed("attribute name is not UTF-8".into(), &stack))?
                        .to_owned();
                    let value = attr
                        .unescape_value()
                        .map_err(|e| malformed(e.to_string(), &stack))?
                        .into_owned();
                    attributes.push(Attribute {
                        ns: ans,
                        name: aname,
                        value,
                    });
                }
                let element = Element {
                    ns,
                    name,
                    attributes,
                    children: Vec::new(),
                };
                if is_empty {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(Node::Element(element)),
                        None => root = Some(element),
                    }
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(malformed("unexpected end tag".into(), &stack));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(done)),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                if stack.is_empty() {
                    if t.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    return Err(malformed("text outside the root element".into(), &stack));
                }
                let s = t.decode().map_err(|e| malformed(e.to_string(), &stack))?;
                push_text(&mut stack, &s, &mut nodes, limits)?;
            }
            Event::GeneralRef(r) => {
                if stack.is_empty() {
                    return Err(malformed(
                        "reference outside the root element".into(),
                        &stack,
                    ));
                }
                let name = r.decode().map_err(|e| malformed(e.to_string(), &stack))?;
                let resolved: String = if let Some(ch) = r
                    .resolve_char_ref()
                    .map_err(|e| malformed(e.to_string(), &stack))?
                {
                    ch.to_string()
                } else {
                    match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(s) => s.to_owned(),
                        None => {
                            return Err(malformed(format!("undeclared entity &{name};"), &stack))
                        }
                    }
                };
                push_text(&mut stack, &resolved, &mut nodes, limits)?;
            }
            Event::CData(c) => {
                if stack.is_empty() {
                    return Err(malformed("CDATA outside the root element".into(), &stack));
                }
                let s = std::str::from_utf8(&c)
                    .map_err(|_| malformed("CDATA is not UTF-8".into(), &stack))?;
                push_text(&mut stack, s, &mut nodes, limits)?;
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => {
                if let Some(open) = stack.last() {
                    let _ = open;
                    return Err(NetError::XmlTruncated {
                        path: path_of(&stack),
                    });
                }
                return root.ok_or_else(|| NetError::XmlMalformed {
                    position,
                    path: "/".into(),
                    detail: "no root element".into(),
                });
            }
        }
    }
}

fn push_text(stack: &mut [Element], s: &str, nodes: &mut usize, limits: &XmlLimits) -> Result<()> {
    let appends = matches!(
        stack.last().and_then(|p| p.children.last()),
        Some(Node::Text(_))
    );
    if !appends {
        *nodes += 1;
        if *nodes > limits.max_nodes {
            return Err(NetError::XmlMalformed {
                position: 0,
                path: path_of(stack),
                detail: format!("more than {} nodes", limits.max_nodes),
            });
        }
    }
    let Some(parent) = stack.last_mut() else {
        return Ok(());
    };
    match parent.children.last_mut() {
        Some(Node::Text(prev)) => prev.push_str(s),
        _ => parent.children.push(Node::Text(s.to_owned())),
    }
    Ok(())
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
}
