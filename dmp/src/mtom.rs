//! MTOM/XOP packaging of SOAP 1.2 messages (`dmp.md` §3; W3C XOP 1.0, SOAP MTOM, RFC 2387
//! `multipart/related`, RFC 2046 §5.1 boundaries, RFC 2392 `cid:` URLs).
//!
//! ITI-41 requests and ITI-43 responses carry their documents as binary MIME parts referenced from
//! the SOAP envelope by `<xop:Include href="cid:…"/>`. [`build`] writes such a message; [`parse`]
//! reads one (or a plain `application/soap+xml` body) into its root part and attachments.
//!
//! The `Content-Type` parameters are parsed with the `mime` crate and each part's header block
//! with `httparse`. The body is split by hand over bytes: the usual multipart crates (`multer`)
//! are asynchronous and built for `multipart/form-data` (they expect `Content-Disposition`), while
//! MTOM parts are binary, carry only `Content-ID`/`Content-Type`, and must be bounded in size
//! before anything is copied.

use bytes::Bytes;
use memchr::memmem;

use crate::error::{DmpError, Result};

/// Largest document accepted in a DMP exchange (issue #5 point 8): 50 MiB.
pub const MAX_DOCUMENT_SIZE: usize = 50 * 1024 * 1024;

/// XOP include namespace (`dmp.md` §2).
pub const XOP_NS: &str = "http://www.w3.org/2004/08/xop/include";

/// Content type of an MTOM root part (XOP 1.0 §4.1, SOAP 1.2 MTOM).
pub const XOP_ROOT_CONTENT_TYPE: &str =
    "application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"";

/// A binary part to send with the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Content-ID without angle brackets, as referenced by `cid:` in the envelope (RFC 2392).
    pub content_id: String,
    /// MIME type of the part (`text/xml`, `application/pdf`...).
    pub content_type: String,
    /// The bytes, sent as `Content-Transfer-Encoding: binary`.
    pub body: Bytes,
}

/// One part of a received multipart message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Content-ID without angle brackets (empty when the part has none).
    pub content_id: String,
    /// The part's `Content-Type` header as received (empty when absent).
    pub content_type: String,
    /// The decoded bytes (`base64` transfer encoding undone).
    pub body: Bytes,
}

/// A received message: the root part (the SOAP envelope) and the other parts in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multipart {
    /// The root part (`start` parameter, or the first part).
    pub root: Part,
    /// Every other part.
    pub parts: Vec<Part>,
}

impl Multipart {
    /// The part whose Content-ID is `cid` (without angle brackets, already percent-decoded).
    pub fn part(&self, cid: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.content_id == cid)
    }

    /// Resolves an `xop:Include/@href` (`cid:` URL, percent-encoded per RFC 2392) to its part.
    pub fn resolve(&self, href: &str) -> Result<&Part> {
        let cid = cid_from_href(href)?;
        self.part(&cid)
            .ok_or_else(|| DmpError::Mtom(format!("missing referenced part <{cid}>")))
    }
}

/// Limits applied by [`parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MtomLimits {
    /// Largest accepted message body.
    pub max_total: usize,
    /// Largest accepted part other than the root (after transfer decoding): a document over it
    /// is refused with [`DmpError::TooLarge`]. The root (the envelope, which may hold inline
    /// base64) is bounded by `max_total` only.
    pub max_part: usize,
    /// Most parts accepted.
    pub max_parts: usize,
}

impl Default for MtomLimits {
    fn default() -> Self {
        Self {
            max_total: 2 * MAX_DOCUMENT_SIZE + 16 * 1024 * 1024,
            max_part: MAX_DOCUMENT_SIZE,
            max_parts: 64,
        }
    }
}

/// The Content-ID of an `href` such as `cid:doc1%40segur` (RFC 2392: `cid:` + percent-encoded
/// `addr-spec`).
pub fn cid_from_href(href: &str) -> Result<String> {
    let href = href.trim();
    let rest = href
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("cid:"))
        .and_then(|_| href.get(4..))
        .ok_or_else(|| DmpError::Mtom("xop:Include href is not a cid: URL".into()))?;
    percent_encoding::percent_decode_str(rest)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| DmpError::Mtom("cid: URL is not UTF-8 once decoded".into()))
}

/// The `href` for a Content-ID (percent-encodes what RFC 2392 does not allow verbatim).
pub fn href_for_cid(cid: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'#')
        .add(b'?')
        .add(b'/')
        .add(b'\\')
        .add(b'[')
        .add(b']')
        .add(b'{')
        .add(b'}')
        .add(b'|')
        .add(b'^')
        .add(b'`');
    format!("cid:{}", percent_encoding::utf8_percent_encode(cid, SET))
}

/// Removes what would break a header line or a quoted parameter.
fn header_safe(s: &str, quoted: bool) -> String {
    s.chars()
        .filter(|c| !(matches!(c, '\r' | '\n' | '<' | '>') || quoted && matches!(c, '"' | '\\')))
        .collect()
}

/// Builds an MTOM/XOP message from a SOAP 1.2 `envelope` and its `attachments` (`dmp.md` §3):
/// returns the HTTP `Content-Type` (`multipart/related; type="application/xop+xml"; start=…;
/// start-info="application/soap+xml"; action=…`) and the body. Content-IDs and types are written
/// without CR, LF or angle brackets (a header cannot be injected through them).
pub fn build(envelope: &[u8], action: &str, attachments: &[Attachment]) -> (String, Vec<u8>) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let root_cid = format!("root.{id}@segur");
    let mut boundary = format!("MIMEBoundary_{id}");
    // A random 128-bit boundary cannot be in the content but check, as RFC 2046 requires.
    while std::iter::once(envelope)
        .chain(attachments.iter().map(|a| a.body.as_ref()))
        .any(|b| memmem::find(b, boundary.as_bytes()).is_some())
    {
        boundary = format!("MIMEBoundary_{}", uuid::Uuid::new_v4().simple());
    }
    let content_type = format!(
        "multipart/related; boundary=\"{boundary}\"; type=\"application/xop+xml\"; \
         start=\"<{root_cid}>\"; start-info=\"application/soap+xml\"; action=\"{}\"",
        header_safe(action, true)
    );
    let size = envelope.len()
        + attachments
            .iter()
            .map(|a| a.body.len() + 256)
            .sum::<usize>();
    let mut out = Vec::with_capacity(size + 512);
    let part = |out: &mut Vec<u8>, ct: &str, cid: &str, body: &[u8]| {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\nContent-Type: ");
        out.extend_from_slice(ct.as_bytes());
        out.extend_from_slice(b"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <");
        out.extend_from_slice(cid.as_bytes());
        out.extend_from_slice(b">\r\n\r\n");
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    };
    part(&mut out, XOP_ROOT_CONTENT_TYPE, &root_cid, envelope);
    for a in attachments {
        let ct = if a.content_type.trim().is_empty() {
            "application/octet-stream".to_owned()
        } else {
            header_safe(&a.content_type, false)
        };
        part(&mut out, &ct, &header_safe(&a.content_id, false), &a.body);
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    (content_type, out)
}

/// Parses a received message: `multipart/related` (MTOM/XOP) or a plain SOAP body
/// (`application/soap+xml`, `text/xml`, `application/xop+xml`), whose root is then the whole body.
///
/// Errors: no boundary, missing root part, duplicate Content-ID, truncated message (closing
/// boundary missing), malformed part headers, unknown transfer encoding ([`DmpError::Mtom`]);
/// a message or part over `limits` ([`DmpError::TooLarge`]).
pub fn parse(content_type: &str, body: &[u8], limits: &MtomLimits) -> Result<Multipart> {
    if body.len() > limits.max_total {
        return Err(DmpError::TooLarge {
            what: "MTOM message",
            size: body.len(),
            limit: limits.max_total,
        });
    }
    let mime: mime::Mime = content_type
        .trim()
        .parse()
        .map_err(|_| DmpError::Mtom("unreadable Content-Type".into()))?;
    if mime.type_() != mime::MULTIPART {
        let essence = mime.essence_str().to_ascii_lowercase();
        let single = matches!(
            essence.as_str(),
            "application/soap+xml" | "text/xml" | "application/xop+xml"
        );
        if !single {
            return Err(DmpError::Mtom(format!("unexpected Content-Type {essence}")));
        }
        return Ok(Multipart {
            root: Part {
                content_id: String::new(),
                content_type: content_type.trim().to_owned(),
                body: Bytes::copy_from_slice(body),
            },
            parts: Vec::new(),
        });
    }
    if mime.subtype() != "related" {
        return Err(DmpError::Mtom(format!(
            "multipart/{} where multipart/related was expected",
            mime.subtype()
        )));
    }
    let boundary = mime
        .get_param(mime::BOUNDARY)
        .map(|b| b.as_str().to_owned())
        .filter(|b| !b.is_empty() && b.len() <= 200)
        .ok_or_else(|| DmpError::Mtom("no boundary parameter in Content-Type".into()))?;
    let start = mime
        .get_param("start")
        .map(|s| strip_angles(s.as_str()).to_owned());
    let mut parts = split(body, &boundary, limits)?;
    let root_index = match &start {
        Some(cid) => parts
            .iter()
            .position(|p| &p.content_id == cid)
            .ok_or_else(|| DmpError::Mtom(format!("missing root part <{cid}>")))?,
        None if parts.is_empty() => return Err(DmpError::Mtom("no part at all".into())),
        None => 0,
    };
    let root = parts.remove(root_index);
    // The root may be larger (inline base64); every other part is a document.
    for p in &parts {
        check_part_size(p.body.len(), limits.max_part)?;
    }
    Ok(Multipart { root, parts })
}

fn strip_angles(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(s)
        .trim()
}

/// Position just past a line end at `at` (CRLF or bare LF, after optional transport padding).
fn line_end(body: &[u8], mut at: usize) -> Option<usize> {
    while matches!(body.get(at), Some(b' ' | b'\t')) {
        at += 1;
    }
    match (body.get(at), body.get(at + 1)) {
        (Some(b'\r'), Some(b'\n')) => Some(at + 2),
        (Some(b'\n'), _) => Some(at + 1),
        _ => None,
    }
}

/// Splits the body on `--boundary` delimiters (RFC 2046 §5.1.1), tolerating bare-LF line ends.
fn split(body: &[u8], boundary: &str, limits: &MtomLimits) -> Result<Vec<Part>> {
    let dash = format!("--{boundary}");
    let delim = format!("\n--{boundary}");
    let finder = memmem::Finder::new(delim.as_bytes());
    // First delimiter: at the very start, or after a preamble.
    let mut pos = if body.starts_with(dash.as_bytes()) {
        dash.len()
    } else {
        finder
            .find(body)
            .map(|i| i + delim.len())
            .ok_or_else(|| DmpError::Mtom("boundary not found in the body".into()))?
    };
    let mut parts: Vec<Part> = Vec::new();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Ok(parts); // close delimiter; the epilogue is ignored
        }
        let start =
            line_end(body, pos).ok_or_else(|| DmpError::Mtom("malformed boundary line".into()))?;
        if parts.len() >= limits.max_parts {
            return Err(DmpError::Mtom(format!(
                "more than {} parts",
                limits.max_parts
            )));
        }
        let rest = body.get(start..).unwrap_or_default();
        let next = finder
            .find(rest)
            .ok_or_else(|| DmpError::Mtom("truncated message: closing boundary missing".into()))?;
        let mut content = rest.get(..next).unwrap_or_default();
        if content.last() == Some(&b'\r') {
            content = content.get(..content.len() - 1).unwrap_or_default();
        }
        let part = read_part(content, parts.len(), limits)?;
        if !part.content_id.is_empty() && parts.iter().any(|p| p.content_id == part.content_id) {
            return Err(DmpError::Mtom(format!(
                "duplicate Content-ID <{}>",
                part.content_id
            )));
        }
        parts.push(part);
        pos = start + next + delim.len();
    }
}

/// Reads the headers and body of one part.
fn read_part(raw: &[u8], index: usize, limits: &MtomLimits) -> Result<Part> {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let (consumed, headers) = match httparse::parse_headers(raw, &mut headers) {
        Ok(httparse::Status::Complete((n, h))) => (n, h),
        Ok(httparse::Status::Partial) => {
            return Err(DmpError::Mtom(format!("part {index}: headers truncated")))
        }
        Err(e) => return Err(DmpError::Mtom(format!("part {index}: bad headers ({e})"))),
    };
    let mut part = Part {
        content_id: String::new(),
        content_type: String::new(),
        body: Bytes::new(),
    };
    let mut encoding = String::new();
    for h in headers.iter() {
        let value = std::str::from_utf8(h.value)
            .map_err(|_| DmpError::Mtom(format!("part {index}: header not UTF-8")))?
            .trim();
        if h.name.eq_ignore_ascii_case("Content-ID") {
            part.content_id = strip_angles(value).to_owned();
        } else if h.name.eq_ignore_ascii_case("Content-Type") {
            part.content_type = value.to_owned();
        } else if h.name.eq_ignore_ascii_case("Content-Transfer-Encoding") {
            encoding = value.to_ascii_lowercase();
        }
    }
    let content = raw.get(consumed..).unwrap_or_default();
    let body = match encoding.as_str() {
        "" | "binary" | "8bit" | "7bit" => {
            check_part_size(content.len(), limits.max_total)?;
            Bytes::copy_from_slice(content)
        }
        "base64" => {
            // Decoded size is at most 3/4 of the encoded one: refuse early when clearly over.
            check_part_size(content.len() / 4 * 3, limits.max_total)?;
            let compact: Vec<u8> = content
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            use base64::Engine as _;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(&compact)
                .map_err(|_| DmpError::Mtom(format!("part {index}: invalid base64")))?;
            check_part_size(decoded.len(), limits.max_total)?;
            Bytes::from(decoded)
        }
        other => {
            return Err(DmpError::Mtom(format!(
                "part {index}: unsupported Content-Transfer-Encoding {other}"
            )))
        }
    };
    part.body = body;
    Ok(part)
}

fn check_part_size(size: usize, limit: usize) -> Result<()> {
    if size > limit {
        return Err(DmpError::TooLarge {
            what: "MIME part",
            size,
            limit,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn att(cid: &str, body: &[u8]) -> Attachment {
        Attachment {
            content_id: cid.into(),
            content_type: "text/xml".into(),
            body: Bytes::copy_from_slice(body),
        }
    }

    const ENV: &[u8] = b"<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"/>";

    #[test]
    fn round_trip_binary_parts() {
        let binary: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let atts = [
            att("doc1@segur", b"<ClinicalDocument/>\r\n"),
            att("bin@segur", &binary),
            att("empty@segur", b""),
        ];
        let (ct, body) = build(
            ENV,
            "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
            &atts,
        );
        assert!(ct.starts_with("multipart/related; boundary=\""));
        assert!(ct.contains("type=\"application/xop+xml\""));
        assert!(ct.contains("start-info=\"application/soap+xml\""));
        assert!(ct.contains("action=\"urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b\""));
        let m = parse(&ct, &body, &MtomLimits::default()).unwrap();
        assert_eq!(m.root.body.as_ref(), ENV);
        assert!(m.root.content_type.starts_with("application/xop+xml"));
        assert_eq!(m.parts.len(), 3);
        assert_eq!(
            m.part("doc1@segur").unwrap().body.as_ref(),
            b"<ClinicalDocument/>\r\n"
        );
        assert_eq!(m.part("bin@segur").unwrap().body.as_ref(), &binary[..]);
        assert_eq!(m.part("empty@segur").unwrap().body.len(), 0);
        assert_eq!(
            m.resolve("cid:doc1%40segur").unwrap().content_id,
            "doc1@segur"
        );
        assert_eq!(
            m.resolve(&href_for_cid("bin@segur")).unwrap().body.len(),
            5000
        );
    }

    #[test]
    fn plain_soap_body() {
        let m = parse(
            "application/soap+xml; charset=utf-8",
            ENV,
            &MtomLimits::default(),
        )
        .unwrap();
        assert_eq!(m.root.body.as_ref(), ENV);
        assert!(m.parts.is_empty());
        assert!(parse("image/png", ENV, &MtomLimits::default()).is_err());
    }

    fn msg(ct_params: &str, body: &str) -> Result<Multipart> {
        parse(
            &format!("multipart/related; type=\"application/xop+xml\"{ct_params}"),
            body.as_bytes(),
            &MtomLimits::default(),
        )
    }

    fn err(r: Result<Multipart>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn lf_only_and_preamble_and_no_start() {
        // DRIMbox writes bare LF line ends; the root is the first part when start is absent.
        let m = msg(
            "; boundary=B",
            "preamble\n--B\nContent-Type: application/xop+xml\nContent-ID: <0.1>\n\n<a/>\n--B\nContent-ID: <0.2>\nContent-Transfer-Encoding: BASE64\n\naGVs\nbG8=\n--B--",
        )
        .unwrap();
        assert_eq!(m.root.content_id, "0.1");
        assert_eq!(m.root.body.as_ref(), b"<a/>");
        assert_eq!(m.part("0.2").unwrap().body.as_ref(), b"hello");
    }

    #[test]
    fn clear_errors() {
        assert!(err(msg("", "--B\r\n\r\nx\r\n--B--")).contains("no boundary"));
        assert!(err(msg(
            "; boundary=B; start=\"<r>\"",
            "--B\r\nContent-ID: <x>\r\n\r\nx\r\n--B--"
        ))
        .contains("missing root part"));
        assert!(err(msg(
            "; boundary=B",
            "--B\r\nContent-ID: <x>\r\n\r\n1\r\n--B\r\nContent-ID: <x>\r\n\r\n2\r\n--B--"
        ))
        .contains("duplicate Content-ID"));
        assert!(
            err(msg("; boundary=B", "--B\r\nContent-ID: <x>\r\n\r\nabc"))
                .contains("closing boundary")
        );
        assert!(err(msg("; boundary=B", "no delimiter here")).contains("boundary not found"));
        assert!(err(msg(
            "; boundary=B",
            "--B\r\nContent-ID <x>\r\n\r\n1\r\n--B--"
        ))
        .contains("bad headers"));
        assert!(err(msg(
            "; boundary=B",
            "--B\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n1\r\n--B--"
        ))
        .contains("unsupported"));
        assert!(
            err(msg("; boundary=B", "--Bjunk\r\n\r\n1\r\n--B--")).contains("malformed boundary")
        );
        let m = msg("; boundary=B", "--B\r\nContent-ID: <r>\r\n\r\n1\r\n--B--").unwrap();
        assert!(m
            .resolve("cid:nothere")
            .unwrap_err()
            .to_string()
            .contains("missing referenced part"));
        assert!(m.resolve("http://x").is_err());
    }

    #[test]
    fn size_limits() {
        let limits = MtomLimits {
            max_total: 1000,
            max_part: 10,
            max_parts: 2,
        };
        let big = format!(
            "--B\r\nContent-ID: <r>\r\n\r\n1\r\n--B\r\nContent-ID: <d>\r\n\r\n{}\r\n--B--",
            "x".repeat(11)
        );
        let e = parse("multipart/related; boundary=B", big.as_bytes(), &limits).unwrap_err();
        assert!(matches!(
            e,
            DmpError::TooLarge {
                what: "MIME part",
                size: 11,
                ..
            }
        ));
        let e = parse("multipart/related; boundary=B", &[b'-'; 1001], &limits).unwrap_err();
        assert!(matches!(e, DmpError::TooLarge { .. }));
        let three = "--B\r\nContent-ID: <a>\r\n\r\n1\r\n--B\r\nContent-ID: <b>\r\n\r\n2\r\n--B\r\nContent-ID: <c>\r\n\r\n3\r\n--B--";
        assert!(
            parse("multipart/related; boundary=B", three.as_bytes(), &limits)
                .unwrap_err()
                .to_string()
                .contains("more than 2 parts")
        );
        // The 50 MiB rule, with the default limits.
        let doc = vec![b'a'; MAX_DOCUMENT_SIZE + 1];
        let (ct, body) = build(ENV, "a", &[att("d", &doc)]);
        let e = parse(&ct, &body, &MtomLimits::default()).unwrap_err();
        assert!(matches!(e, DmpError::TooLarge { size, .. } if size == MAX_DOCUMENT_SIZE + 1));
    }

    #[test]
    fn no_header_injection() {
        let (ct, body) = build(ENV, "a\"\r\nX: y", &[att("x>\r\nEvil: 1", b"z")]);
        // The quote and CR LF are dropped from the action (the random boundary may itself end in
        // `a`, so look at the action parameter, not for `a"` anywhere).
        assert!(
            !ct.contains('\n') && ct.ends_with("action=\"aX: y\""),
            "{ct}"
        );
        let m = parse(&ct, &body, &MtomLimits::default()).unwrap();
        assert_eq!(m.parts[0].content_id, "xEvil: 1");
    }
}
