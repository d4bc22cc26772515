//! SOAP 1.2 envelopes and faults (W3C SOAP 1.2 Part 1 §5, §5.4 for faults).
//!
//! Writing is string based: the protocol crates write their header blocks and body with the
//! helpers of [`crate::xml`], and [`write_envelope`] wraps them. Reading goes through the hardened
//! [`crate::xml::parse`]; [`Envelope::content`] tells a payload from a fault.

use crate::error::{NetError, Result};
use crate::xml::{self, Element, XmlLimits};

/// Namespace of the SOAP 1.2 envelope.
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// Namespace of the SOAP 1.1 envelope (recognised only to refuse it clearly).
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// Namespace of WS-Addressing 1.0.
pub const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";
/// Namespace of WS-Security 1.0 (`wsse`).
pub const WSSE_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// HTTP content type of SOAP 1.2 messages (SOAP 1.2 Part 2 §7.1.4), without the `action`
/// parameter.
pub const SOAP12_CONTENT_TYPE: &str = "application/soap+xml; charset=utf-8";

/// A parsed SOAP 1.2 envelope.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// `soap:Header`, when present.
    pub header: Option<Element>,
    /// `soap:Body`.
    pub body: Element,
}

/// What a SOAP body carries.
#[derive(Debug)]
pub enum Content<'a> {
    /// The first (and, in document/literal, only) child of the body.
    Payload(&'a Element),
    /// A `soap:Fault`.
    Fault(Fault),
}

/// A SOAP 1.2 fault (Part 1 §5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Local part of `Code/Value`: `Sender`, `Receiver`, `VersionMismatch`...
    pub code: String,
    /// Local parts of the nested `Subcode/Value`s, outermost first (e.g. `siram_40`).
    pub subcodes: Vec<String>,
    /// The first `Reason/Text`.
    pub reason: String,
    /// `Detail`, kept whole for the service crate to read.
    pub detail: Option<Element>,
}

/// Local part of a QName text value such as `soap:Sender`.
fn local_part(qname: &str) -> &str {
    let t = qname.trim();
    t.rsplit_once(':').map_or(t, |(_, l)| l)
}

/// Parses a SOAP 1.2 envelope under the given limits.
pub fn parse_envelope(input: &[u8], limits: &XmlLimits) -> Result<Envelope> {
    let root = xml::parse(input, limits)?;
    Envelope::from_element(root)
}

impl Envelope {
    /// Checks the root element and splits header and body.
    pub fn from_element(root: Element) -> Result<Self> {
        if root.name == "Envelope" && root.namespace() == SOAP11_NS {
            return Err(NetError::NotSoap(
                "SOAP 1.1 envelope where SOAP 1.2 is required".into(),
            ));
        }
        if !root.is(SOAP12_NS, "Envelope") {
            return Err(NetError::NotSoap(format!(
                "root element is {{{}}}{}, expected soap12:Envelope",
                root.namespace(),
                root.name
            )));
        }
        let mut header = None;
        let mut body = None;
        for node in root.children {
            match node {
                xml::Node::Element(e) if e.is(SOAP12_NS, "Header") && body.is_none() => {
                    header = Some(e)
                }
                xml::Node::Element(e) if e.is(SOAP12_NS, "Body") && body.is_none() => {
                    body = Some(e)
                }
                xml::Node::Element(e) => {
                    return Err(NetError::NotSoap(format!(
                        "unexpected element {{{}}}{} in Envelope",
                        e.namespace(),
                        e.name
                    )))
                }
                xml::Node::Text(t) if t.trim().is_empty() => {}
                xml::Node::Text(_) => {
                    return Err(NetError::NotSoap("text directly inside Envelope".into()))
                }
            }
        }
        let body = body.ok_or_else(|| NetError::NotSoap("no Body in Envelope".into()))?;
        Ok(Self { header, body })
    }

    /// The body's payload or fault.
    pub fn content(&self) -> Result<Content<'_>> {
        let first = self
            .body
            .elements()
            .next()
            .ok_or_else(|| NetError::NotSoap("empty Body".into()))?;
        if first.is(SOAP12_NS, "Fault") {
            return Ok(Content::Fault(Fault::from_element(first)?));
        }
        Ok(Content::Payload(first))
    }

    /// A header block by namespace and local name.
    pub fn header_block(&self, ns: &str, name: &str) -> Option<&Element> {
        self.header.as_ref().and_then(|h| h.child(ns, name))
    }
}

impl Fault {
    /// Reads a `soap12:Fault` element.
    pub fn from_element(fault: &Element) -> Result<Self> {
        let code_el = fault
            .child(SOAP12_NS, "Code")
            .ok_or_else(|| NetError::NotSoap("Fault without Code".into()))?;
        let code = code_el
            .child_text(SOAP12_NS, "Value")
            .ok_or_else(|| NetError::NotSoap("Fault/Code without Value".into()))?;
        let mut subcodes = Vec::new();
        let mut cur = code_el.child(SOAP12_NS, "Subcode");
        while let Some(sc) = cur {
            if let Some(v) = sc.child_text(SOAP12_NS, "Value") {
                subcodes.push(local_part(&v).to_owned());
            }
            cur = sc.child(SOAP12_NS, "Subcode");
            if subcodes.len() > 16 {
                break;
            }
        }
        let reason = fault
            .child(SOAP12_NS, "Reason")
            .and_then(|r| r.child_text(SOAP12_NS, "Text"))
            .unwrap_or_default();
        Ok(Self {
            code: local_part(&code).to_owned(),
            subcodes,
            reason,
            detail: fault.child(SOAP12_NS, "Detail").cloned(),
        })
    }
}

/// Writes a SOAP 1.2 envelope with prefix `soap`: `header` and `body` are the inner XML of
/// `soap:Header` and `soap:Body` (the header is omitted when empty). `extra_ns` are namespace
/// declarations `(prefix, uri)` put on the Envelope.
pub fn write_envelope(out: &mut String, extra_ns: &[(&str, &str)], header: &str, body: &str) {
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"");
    out.push_str(SOAP12_NS);
    out.push('"');
    for (prefix, uri) in extra_ns {
        out.push_str(" xmlns:");
        out.push_str(prefix);
        out.push_str("=\"");
        out.push_str(uri);
        out.push('"');
    }
    out.push('>');
    if !header.is_empty() {
        out.push_str("<soap:Header>");
        out.push_str(header);
        out.push_str("</soap:Header>");
    }
    out.push_str("<soap:Body>");
    out.push_str(body);
    out.push_str("</soap:Body></soap:Envelope>");
}

/// Writes a whole SOAP 1.2 fault envelope. `subcode` is a QName whose prefix must be declared in
/// `extra_ns`; `detail` is the inner XML of `soap:Detail` (omitted when empty).
pub fn write_fault(
    extra_ns: &[(&str, &str)],
    code: &str,
    subcode: Option<&str>,
    reason: &str,
    detail: &str,
) -> String {
    let mut body = String::with_capacity(512);
    body.push_str("<soap:Fault><soap:Code><soap:Value>soap:");
    body.push_str(code);
    body.push_str("</soap:Value>");
    if let Some(sc) = subcode {
        body.push_str("<soap:Subcode><soap:Value>");
        body.push_str(&xml::escape(sc));
        body.push_str("</soap:Value></soap:Subcode>");
    }
    body.push_str("</soap:Code><soap:Reason><soap:Text xml:lang=\"fr\">");
    body.push_str(&xml::escape(reason));
    body.push_str("</soap:Text></soap:Reason>");
    if !detail.is_empty() {
        body.push_str("<soap:Detail>");
        body.push_str(detail);
        body.push_str("</soap:Detail>");
    }
    body.push_str("</soap:Fault>");
    let mut out = String::with_capacity(body.len() + 200);
    write_envelope(&mut out, extra_ns, "", &body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_round_trip() {
        let xml = write_fault(
            &[("siram", "urn:siram")],
            "Receiver",
            Some("siram:siram_40"),
            "Le service est temporairement inaccessible",
            r#"<siram:Erreur code="desir_1020" severite="fatale">x</siram:Erreur>"#,
        );
        let env = parse_envelope(xml.as_bytes(), &XmlLimits::default()).unwrap();
        let Content::Fault(f) = env.content().unwrap() else {
            panic!("expected a fault")
        };
        assert_eq!(f.code, "Receiver");
        assert_eq!(f.subcodes, vec!["siram_40".to_owned()]);
        assert!(f.reason.starts_with("Le service"));
        let d = f.detail.unwrap();
        assert_eq!(
            d.child("urn:siram", "Erreur").unwrap().attr("code"),
            Some("desir_1020")
        );
    }

    #[test]
    fn payload_and_header() {
        let mut s = String::new();
        write_envelope(
            &mut s,
            &[("x", "urn:x")],
            "<x:H>1</x:H>",
            "<x:P><x:Q>2</x:Q></x:P>",
        );
        let env = parse_envelope(s.as_bytes(), &XmlLimits::default()).unwrap();
        assert_eq!(env.header_block("urn:x", "H").unwrap().text(), "1");
        match env.content().unwrap() {
            Content::Payload(p) => assert!(p.is("urn:x", "P")),
            Content::Fault(_) => panic!(),
        }
    }

    #[test]
    fn refusals() {
        let l = XmlLimits::default();
        let e11 = r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>"#;
        assert!(
            matches!(parse_envelope(e11.as_bytes(), &l), Err(NetError::NotSoap(m)) if m.contains("1.1"))
        );
        assert!(matches!(
            parse_envelope(b"<Envelope><Body/></Envelope>", &l),
            Err(NetError::NotSoap(_))
        ));
        let nobody = format!(r#"<s:Envelope xmlns:s="{SOAP12_NS}"/>"#);
        assert!(matches!(
            parse_envelope(nobody.as_bytes(), &l),
            Err(NetError::NotSoap(_))
        ));
        let empty = format!(r#"<s:Envelope xmlns:s="{SOAP12_NS}"><s:Body/></s:Envelope>"#);
        let env = parse_envelope(empty.as_bytes(), &l).unwrap();
        assert!(env.content().is_err());
    }
}
