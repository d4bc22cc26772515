//! XML canonicalization: Canonical XML 1.0 and Exclusive XML Canonicalization 1.0.
//!
//! - [Canonical XML 1.0] (`REC-xml-c14n-20010315`, with or without comments): used by the
//!   XAdES submission-set signature of the DMP (`dmp.md` §6) and by DRIMbox for the CDA bytes
//!   (`dmp.md` §3).
//! - [Exclusive XML Canonicalization 1.0] (`xml-exc-c14n#`, with or without comments, with an
//!   `InclusiveNamespaces PrefixList`): used by the VIHF signature (`dmp.md` §4) and by every
//!   SAML/WS-Security signature.
//!
//! The input is read by the project's one tokenizer ([`crate::xml`], same hardening: no DOCTYPE
//! hence no entity other than the five predefined ones, size, depth and node limits, UTF-8 only)
//! into a small tree ([`Document`]) that keeps what canonicalization needs and the other trees
//! drop: prefixes, namespace declarations, comments and processing instructions, byte spans. The
//! XML processor's normalisations are applied (XML 1.0 §2.11 line ends, §3.3.3 attribute values;
//! every attribute is CDATA since there is no DTD).
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

use crate::error::Result;
use crate::xml::XmlLimits;

mod read;
mod render;
#[cfg(test)]
mod tests;
mod tree;

pub use tree::{Document, ElementId, ElementRef, ElementSpan, Subset};

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
/// (fails with [`crate::NetError::XmlIdNotFound`] or [`crate::NetError::DuplicateId`]).
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
