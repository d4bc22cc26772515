//! The SOAP 1.2 envelope of every DMP request, and the reading of the DMP's replies.
//!
//! Requests (`dmp.md` §1, DRIMbox `BaseRequest.java`): SOAP 1.2, WS-Addressing 1.0 header blocks
//! `wsa:MessageID` (`urn:uuid:…`), `wsa:To` (the service URL) and `wsa:Action` with
//! `soap:mustUnderstand="true"`, then `wsse:Security` holding the signed VIHF **verbatim**: the
//! assertion's bytes are inserted as they were signed, never re-serialised (a re-serialisation
//! could change what exclusive c14n sees and break the signature).
//!
//! Replies: a SOAP fault whose `Subcode/Value` is one of the DMP refusal codes
//! (`docs/dmp-wire.md` "DMP refusals") becomes [`DmpError::Refused`]; any other fault becomes
//! [`DmpError::Fault`]; otherwise the body's payload element is returned.

use segur_net::soap::{self, Content, WSA_NS, WSSE_NS};
use segur_net::xml::{self, Element, Node, XmlLimits};
use uuid::Uuid;

use crate::error::{DmpError, Result};
pub use crate::refusal::RefusalCode;

/// The DMP web services, appended to the base URL `…/si-dmp-server/v2/services` (`dmp.md` §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// `/patients`: TD0.2 (existence test, access status).
    Patients,
    /// `/habilitations`: TD0.3 (authorisations).
    Habilitations,
    /// `/registry`: ITI-18 stored queries, ITI-57 updates.
    Registry,
    /// `/repository`: ITI-41 provide and register, ITI-43 retrieve.
    Repository,
}

impl Service {
    /// The path segment appended to the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Service::Patients => "patients",
            Service::Habilitations => "habilitations",
            Service::Registry => "registry",
            Service::Repository => "repository",
        }
    }

    /// `<base>/<path>`, without doubling the slash.
    pub fn url(self, base: &str) -> String {
        format!("{}/{}", base.trim_end_matches('/'), self.path())
    }
}

/// `wsa:Action` of TD0.2 (`dmp.md` §2).
pub const ACTION_TD02: &str = "urn:hl7-org:v3:PRPA_IN201307UV02";
/// `wsa:Action` of TD0.3 `setAuthorization` (`dmp.md` §2).
pub const ACTION_SET_AUTHORIZATION: &str =
    "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization";
/// `wsa:Action` of `listAuthorizationByPatient` (`dmp.md` §2).
pub const ACTION_LIST_AUTHORIZATIONS: &str =
    "urn:si-dmp-habilitations:HabilitationsEndPoint:listAuthorizationByPatient";
/// `wsa:Action` of ITI-41 (ITI TF-2b 3.41.5).
pub const ACTION_ITI41: &str = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b";
/// `wsa:Action` of ITI-18 (ITI TF-2a 3.18.5).
pub const ACTION_ITI18: &str = "urn:ihe:iti:2007:RegistryStoredQuery";
/// `wsa:Action` of ITI-43 (ITI TF-2b 3.43.5).
pub const ACTION_ITI43: &str = "urn:ihe:iti:2007:RetrieveDocumentSet";
/// `wsa:Action` of ITI-57 (ITI TF-2b 3.57.5).
pub const ACTION_ITI57: &str = "urn:ihe:iti:2010:UpdateDocumentSet";

/// The WS-Addressing and WS-Security header of one request.
#[derive(Debug, Clone, Copy)]
pub struct RequestHeader<'a> {
    /// `wsa:MessageID`, written `urn:uuid:<id>`.
    pub message_id: Uuid,
    /// `wsa:To`: the full service URL.
    pub to: &'a str,
    /// `wsa:Action`.
    pub action: &'a str,
    /// The signed VIHF assertion, exactly as signed (an XML declaration or BOM in front of it is
    /// dropped; nothing else is touched).
    pub vihf: &'a str,
}

/// The signed assertion without a leading BOM, XML declaration and surrounding whitespace:
/// what can be inserted inside `wsse:Security`. Fails when what remains does not start with an
/// element or contains a DOCTYPE.
pub fn vihf_fragment(signed: &str) -> Result<&str> {
    let mut s = signed.trim_start_matches('\u{feff}').trim();
    if s.starts_with("<?xml") {
        let end = s.find("?>").ok_or_else(|| DmpError::Invalid {
            field: "VIHF",
            detail: "unterminated XML declaration".into(),
        })?;
        s = s.get(end + 2..).unwrap_or_default().trim();
    }
    if !s.starts_with('<') || s.starts_with("<?") || s.starts_with("<!") {
        return Err(DmpError::Invalid {
            field: "VIHF",
            detail: "does not start with the assertion element".into(),
        });
    }
    if s.contains("<!DOCTYPE") {
        return Err(DmpError::Invalid {
            field: "VIHF",
            detail: "a DOCTYPE is not allowed".into(),
        });
    }
    Ok(s)
}

/// Writes a whole request envelope around `body` (the inner XML of `soap:Body`). The envelope
/// declares prefixed namespaces only (`soap`, `wsa`, `wsse`), so the inserted VIHF and body keep
/// the namespaces they declare themselves.
pub fn write_request(header: &RequestHeader<'_>, body: &str) -> Result<String> {
    let vihf = vihf_fragment(header.vihf)?;
    let mut h = String::with_capacity(vihf.len() + 512);
    h.push_str("<wsa:MessageID>urn:uuid:");
    h.push_str(&header.message_id.to_string());
    h.push_str("</wsa:MessageID>");
    xml::push_text_element(&mut h, "wsa:To", header.to);
    h.push_str("<wsa:Action soap:mustUnderstand=\"true\">");
    h.push_str(&xml::escape(header.action));
    h.push_str("</wsa:Action><wsse:Security>");
    h.push_str(vihf);
    h.push_str("</wsse:Security>");
    let mut out = String::with_capacity(h.len() + body.len() + 256);
    soap::write_envelope(&mut out, &[("wsa", WSA_NS), ("wsse", WSSE_NS)], &h, body);
    Ok(out)
}

/// The HTTP `Content-Type` of a plain (non-MTOM) SOAP 1.2 request with its action
/// (SOAP 1.2 Part 2 §7.1.4, RFC 3902).
pub fn content_type(action: &str) -> String {
    format!("{}; action=\"{}\"", soap::SOAP12_CONTENT_TYPE, action)
}

/// A reply's SOAP header and payload.
#[derive(Debug, Clone)]
pub struct Reply {
    /// `soap:Header`, if any.
    pub header: Option<Element>,
    /// The first element of `soap:Body`.
    pub payload: Element,
}

impl Reply {
    /// The reply's `wsa:Action`, if given.
    pub fn action(&self) -> Option<String> {
        self.header
            .as_ref()
            .and_then(|h| h.child_text(WSA_NS, "Action"))
    }
    /// The reply's `wsa:RelatesTo`, if given.
    pub fn relates_to(&self) -> Option<String> {
        self.header
            .as_ref()
            .and_then(|h| h.child_text(WSA_NS, "RelatesTo"))
    }
}

/// Reads a SOAP 1.2 reply: the payload, or the fault as an error ([`fault_error`]).
pub fn read_reply(input: &[u8], limits: &XmlLimits) -> Result<Reply> {
    let env = soap::parse_envelope(input, limits)?;
    if let Content::Fault(f) = env.content()? {
        return Err(fault_error(f));
    }
    let payload = env
        .body
        .children
        .into_iter()
        .find_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
        .ok_or_else(|| DmpError::Malformed("empty soap:Body".into()))?;
    Ok(Reply {
        header: env.header,
        payload,
    })
}

/// Maps a SOAP fault to an error: the first subcode that is a DMP refusal code gives
/// [`DmpError::Refused`] (`docs/dmp-wire.md`), anything else [`DmpError::Fault`].
pub fn fault_error(f: soap::Fault) -> DmpError {
    let reason = bounded(&f.reason);
    match f.subcodes.iter().find_map(|s| RefusalCode::from_code(s)) {
        Some(code) => DmpError::Refused { code, reason },
        None => DmpError::Fault {
            code: f.code,
            subcodes: f.subcodes,
            reason,
        },
    }
}

/// The service's explanation, bounded to 300 characters (it is shown to users and logged).
pub(crate) fn bounded(s: &str) -> String {
    let t = s.trim();
    if t.chars().count() <= 300 {
        t.to_owned()
    } else {
        let mut out: String = t.chars().take(300).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segur_net::soap::SOAP12_NS;

    const VIHF: &str = "<saml2:Assertion xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_a\"   Version=\"2.0\"><saml2:Issuer>CN=x,  O=y</saml2:Issuer><Role xmlns=\"urn:hl7-org:v3\" code=\"10\"/></saml2:Assertion>";

    fn header(vihf: &str) -> RequestHeader<'_> {
        RequestHeader {
            message_id: Uuid::from_u128(0x1234),
            to: "https://127.0.0.1:9/si-dmp-server/v2/services/patients",
            action: ACTION_TD02,
            vihf,
        }
    }

    #[test]
    fn request_carries_addressing_and_the_vihf_bytes_verbatim() {
        let with_decl = format!("\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{VIHF}\n");
        let out = write_request(&header(&with_decl), "<x:Q xmlns:x=\"urn:x\"/>").unwrap();
        assert!(out.contains(VIHF), "assertion bytes changed");
        let env = soap::parse_envelope(out.as_bytes(), &XmlLimits::default()).unwrap();
        let h = env.header.as_ref().unwrap();
        assert_eq!(
            h.child_text(WSA_NS, "MessageID").unwrap(),
            "urn:uuid:00000000-0000-0000-0000-000000001234"
        );
        assert_eq!(
            h.child_text(WSA_NS, "To").unwrap(),
            "https://127.0.0.1:9/si-dmp-server/v2/services/patients"
        );
        let action = h.child(WSA_NS, "Action").unwrap();
        assert_eq!(action.text(), ACTION_TD02);
        let mu = action
            .attributes
            .iter()
            .find(|a| a.name == "mustUnderstand")
            .unwrap();
        assert_eq!(mu.ns.as_deref(), Some(SOAP12_NS));
        assert_eq!(mu.value, "true");
        let sec = h.child(WSSE_NS, "Security").unwrap();
        let a = sec
            .child("urn:oasis:names:tc:SAML:2.0:assertion", "Assertion")
            .unwrap();
        // The VIHF's own default namespace is not disturbed by the envelope.
        assert!(a.child("urn:hl7-org:v3", "Role").is_some());
        match env.content().unwrap() {
            Content::Payload(p) => assert!(p.is("urn:x", "Q")),
            Content::Fault(_) => panic!("payload expected"),
        }
    }

    #[test]
    fn bad_vihf_is_refused() {
        for bad in [
            "",
            "  ",
            "text",
            "<?xml version=\"1.0\"",
            "<!DOCTYPE a><a/>",
            "<a><!DOCTYPE b></a>",
        ] {
            assert!(
                matches!(
                    write_request(&header(bad), ""),
                    Err(DmpError::Invalid { field: "VIHF", .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn service_urls() {
        assert_eq!(
            Service::Registry.url("https://h/si-dmp-server/v2/services/"),
            "https://h/si-dmp-server/v2/services/registry"
        );
        assert_eq!(Service::Patients.url("https://h/s"), "https://h/s/patients");
        assert_eq!(
            content_type(ACTION_ITI18),
            "application/soap+xml; charset=utf-8; action=\"urn:ihe:iti:2007:RegistryStoredQuery\""
        );
    }

    #[test]
    fn refusal_codes_round_trip() {
        for c in RefusalCode::ALL {
            assert_eq!(RefusalCode::from_code(c.code()), Some(c));
            assert_eq!(
                RefusalCode::from_code(&format!("dmp:{}", c.code())),
                Some(c)
            );
        }
        assert_eq!(RefusalCode::from_code("DMP_AUTRE"), None);
    }

    #[test]
    fn faults_become_typed_errors() {
        let l = XmlLimits::default();
        let f = soap::write_fault(
            &[("dmp", "urn:si-dmp")],
            "Sender",
            Some("dmp:DMP_FERME"),
            "Le DMP de ce patient est fermé",
            "",
        );
        match read_reply(f.as_bytes(), &l) {
            Err(DmpError::Refused { code, reason }) => {
                assert_eq!(code, RefusalCode::Ferme);
                assert!(reason.starts_with("Le DMP"));
            }
            other => panic!("{other:?}"),
        }
        let f = soap::write_fault(&[("x", "urn:x")], "Receiver", Some("x:Busy"), "r", "");
        match read_reply(f.as_bytes(), &l) {
            Err(DmpError::Fault { code, subcodes, .. }) => {
                assert_eq!(code, "Receiver");
                assert_eq!(subcodes, vec!["Busy".to_owned()]);
            }
            other => panic!("{other:?}"),
        }
        let long = "é".repeat(1000);
        let f = soap::write_fault(&[], "Receiver", None, &long, "");
        match read_reply(f.as_bytes(), &l) {
            Err(DmpError::Fault { reason, .. }) => assert_eq!(reason.chars().count(), 301),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn payload_and_addressing_of_a_reply() {
        let mut s = String::new();
        soap::write_envelope(
            &mut s,
            &[("wsa", WSA_NS)],
            "<wsa:Action>urn:r</wsa:Action><wsa:RelatesTo>urn:uuid:1</wsa:RelatesTo>",
            "\n  <p:R xmlns:p=\"urn:p\"/>",
        );
        let r = read_reply(s.as_bytes(), &XmlLimits::default()).unwrap();
        assert!(r.payload.is("urn:p", "R"));
        assert_eq!(r.action().as_deref(), Some("urn:r"));
        assert_eq!(r.relates_to().as_deref(), Some("urn:uuid:1"));
        assert!(read_reply(b"<a/>", &XmlLimits::default()).is_err());
        assert!(read_reply(b"garbage", &XmlLimits::default()).is_err());
    }
}
