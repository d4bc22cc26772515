//! The comparison of `segur_net::xml` with `roxmltree`, an independent XML reader, shared by
//! `tests/xml_oracle.rs` and the `xml_parse` fuzz target (`fuzz/`, included with `#[path]`).
//! [`agree`] says whether both accept (`Ok(true)`) or both refuse (`Ok(false)`) a document, and
//! when both accept, whether they give the same tree; `Err` describes a disagreement. The
//! differences we mean to have are listed in `deliberate` (we accept, roxmltree refuses) and
//! `stricter` (we refuse where roxmltree is more lenient than XML 1.0).

use segur_net::xml::{self, Element, Node, XmlLimits};

/// Limits far above the documents compared: only the readers' rules decide.
pub fn limits() -> XmlLimits {
    XmlLimits {
        max_bytes: 64 << 20,
        max_depth: 1024,
        max_nodes: 10_000_000,
    }
}

/// A canonical tree: (namespace, local name, attributes, children), texts merged, comments and
/// processing instructions left out, line ends in text normalised (XML 1.0 §2.11), which
/// `segur_net::xml` leaves to its callers (text is kept exactly, CR LF included).
#[derive(Debug, PartialEq)]
enum Canon {
    El(String, String, Vec<(String, String, String)>, Vec<Canon>),
    Text(String),
}

fn eol(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

fn push(children: &mut Vec<Canon>, c: Canon) {
    if let (Canon::Text(t), Some(Canon::Text(prev))) = (&c, children.last_mut()) {
        prev.push_str(t);
        return;
    }
    children.push(c);
}

fn ours(e: &Element) -> Canon {
    let mut children = Vec::new();
    for n in &e.children {
        match n {
            Node::Element(c) => push(&mut children, ours(c)),
            Node::Text(t) => push(&mut children, Canon::Text(eol(t))),
        }
    }
    Canon::El(
        e.namespace().to_owned(),
        e.name.clone(),
        e.attributes
            .iter()
            .map(|a| {
                (
                    a.ns.as_deref().unwrap_or("").to_owned(),
                    a.name.clone(),
                    a.value.clone(),
                )
            })
            .collect(),
        children,
    )
}

fn theirs(n: roxmltree::Node<'_, '_>) -> Canon {
    let mut children = Vec::new();
    for c in n.children() {
        if c.is_element() {
            push(&mut children, theirs(c));
        } else if c.is_text() {
            push(&mut children, Canon::Text(eol(c.text().unwrap_or(""))));
        }
    }
    Canon::El(
        n.tag_name().namespace().unwrap_or("").to_owned(),
        n.tag_name().name().to_owned(),
        n.attributes()
            .map(|a| {
                (
                    a.namespace().unwrap_or("").to_owned(),
                    a.name().to_owned(),
                    a.value().to_owned(),
                )
            })
            .collect(),
        children,
    )
}

/// Refusals by `roxmltree` of documents we accept on purpose.
fn deliberate(e: &roxmltree::Error) -> bool {
    use roxmltree::Error::*;
    matches!(
        e,
        // An XML declaration after white space or a comment, before the root (seen in the wild:
        // `insi/wsdl/medimail.wsdl`).
        UnexpectedDeclaration(_)
            // Non-ASCII name characters outside the XML name ranges, left to the UTF-8 check.
            | InvalidName(_)
            // Control characters in text, comments and processing instructions (the one XML 1.0
            // `Char` rule not checked there; see the `segur_net::xml` module documentation).
            | NonXmlChar(..)
    )
}

/// Refusals of ours where `roxmltree` is more lenient than XML 1.0.
fn stricter(e: &segur_net::NetError) -> bool {
    use segur_net::NetError::{XmlMalformed, XmlTooDeep, XmlTooLarge};
    // Our limits (depth, size, node count, attributes per element) are policy, not XML.
    if let XmlTooDeep { .. } | XmlTooLarge { .. } = e {
        return true;
    }
    // §2.6 PI: the target is a Name followed by white space or `?>` (roxmltree reads
    // `<?xmlsion=…?>` as a processing instruction); §2.8: the declaration's syntax and values are
    // checked (roxmltree reads a declaration it cannot parse as a processing instruction);
    // Namespaces in XML 1.0 §4: `:a` is no QName (roxmltree takes it as a name); §3: a prefix
    // may not be bound to the empty URI (`xmlns:p=""`, allowed by Namespaces 1.1 only); XML 1.0
    // §3 "Element Type Match" (roxmltree lets `</:r>` close `<r>`) and "Unique Att Spec", which
    // holds for namespace declarations too (roxmltree lets `xmlns` appear twice); §4.1 WFC
    // "Legal Character" (roxmltree accepts `&#xD841;`, a surrogate).
    matches!(e, XmlMalformed { detail, .. }
        if detail.starts_with("more than ")
            || detail == "processing instruction without a valid target"
            || detail.starts_with("XML declaration")
            || detail == "attribute name expected"
            || detail == "'<' not followed by an element name"
            || detail.starts_with("invalid namespace declaration")
            || detail.starts_with("end tag </:")
            || detail.starts_with("duplicate attribute \"xmlns")
            || detail.ends_with("invalid character reference"))
}

/// Compares the two readers on `bytes`; `Err` describes a disagreement.
pub fn agree(bytes: &[u8]) -> Result<bool, String> {
    let mine = xml::parse(bytes, &limits());
    let Ok(text) = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) else {
        return match mine {
            Err(_) => Ok(false),
            Ok(_) => Err("accepted invalid UTF-8".into()),
        };
    };
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: u32::MAX,
    };
    let theirs_doc = roxmltree::Document::parse_with_options(text, opts);
    match (mine, theirs_doc) {
        (Ok(a), Ok(b)) => {
            let (a, b) = (ours(&a), theirs(b.root_element()));
            if a == b {
                Ok(true)
            } else {
                let (a, b) = (format!("{a:?}"), format!("{b:?}"));
                let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
                let around = |s: &str| {
                    s.chars()
                        .skip(
                            s.get(..at)
                                .map_or(0, |p| p.chars().count())
                                .saturating_sub(60),
                        )
                        .take(120)
                        .collect::<String>()
                };
                Err(format!(
                    "different trees at {at}:\n ours   …{}…\n theirs …{}…",
                    around(&a),
                    around(&b)
                ))
            }
        }
        (Err(_), Err(_)) => Ok(false),
        (Ok(_), Err(e)) if deliberate(&e) => Ok(true),
        (Ok(_), Err(e)) => Err(format!("we accept, roxmltree refuses: {e}")),
        // We refuse a document declaring another encoding than UTF-8 (roxmltree reads the text
        // it is given, whatever the declaration says).
        (Err(segur_net::NetError::XmlEncoding(_)), Ok(_)) => Ok(false),
        (Err(e), Ok(_)) if stricter(&e) => Ok(false),
        (Err(e), Ok(_)) => Err(format!("we refuse, roxmltree accepts: {e}")),
    }
}
