//! ITI-43 Retrieve Document Set (`xdsb:RetrieveDocumentSetRequest` / `Response`; ITI TF-2b §3.43,
//! `dmp.md` §2 TD3.2). The response's documents come as `xop:Include` parts of an MTOM message
//! or inline in base64; both are resolved here, each bounded by [`MAX_DOCUMENT_SIZE`].

use base64::Engine as _;
use bytes::Bytes;
use segur_net::xml::{escape, Element, XmlLimits};

use super::ebrim::attr;
use super::ids::*;
use super::response::{payload, RegistryResponse};
use crate::error::{DmpError, Result};
use crate::mtom::{href_for_cid, Attachment, Multipart, MAX_DOCUMENT_SIZE};

/// Limits for an ITI-43 root part: inline base64 documents make it large.
pub const RETRIEVE_RESPONSE_LIMITS: XmlLimits = XmlLimits {
    max_bytes: MAX_DOCUMENT_SIZE / 3 * 4 * 2 + 1024 * 1024,
    max_depth: 64,
    max_nodes: 100_000,
};

/// One document to retrieve (`DocumentRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRequest {
    /// `HomeCommunityId` (cross-community only).
    pub home_community_id: Option<String>,
    /// `RepositoryUniqueId` (the DocumentEntry's repositoryUniqueId slot).
    pub repository_unique_id: String,
    /// `DocumentUniqueId` (the DocumentEntry's uniqueId).
    pub document_unique_id: String,
}

impl DocumentRequest {
    /// The request for a DocumentEntry read by ITI-18 (fails without repositoryUniqueId).
    pub fn for_entry(entry: &super::DocumentEntry) -> Result<Self> {
        Ok(Self {
            home_community_id: entry.home_community_id.clone(),
            repository_unique_id: entry
                .repository_unique_id
                .clone()
                .ok_or(DmpError::Invalid {
                    field: "repositoryUniqueId",
                    detail: "the DocumentEntry has none".into(),
                })?,
            document_unique_id: entry.unique_id.clone(),
        })
    }
}

/// An ITI-43 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveRequest {
    /// The documents (at least one).
    pub documents: Vec<DocumentRequest>,
}

fn text_element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

impl RetrieveRequest {
    /// The `xdsb:RetrieveDocumentSetRequest` body.
    pub fn to_xml(&self) -> Result<String> {
        if self.documents.is_empty() {
            return Err(DmpError::Invalid {
                field: "DocumentRequest",
                detail: "at least one document is required".into(),
            });
        }
        let mut out = String::with_capacity(256 + 200 * self.documents.len());
        out.push_str("<xdsb:RetrieveDocumentSetRequest");
        attr(&mut out, "xmlns:xdsb", XDSB_NS);
        out.push('>');
        for d in &self.documents {
            for (field, v) in [
                ("RepositoryUniqueId", &d.repository_unique_id),
                ("DocumentUniqueId", &d.document_unique_id),
            ] {
                super::ebrim::check_len(field, v, super::MAX_LONG_NAME)?;
                if v.trim().is_empty() {
                    return Err(DmpError::Invalid {
                        field,
                        detail: "empty".into(),
                    });
                }
            }
            out.push_str("<xdsb:DocumentRequest>");
            if let Some(h) = &d.home_community_id {
                text_element(&mut out, "xdsb:HomeCommunityId", h);
            }
            text_element(&mut out, "xdsb:RepositoryUniqueId", &d.repository_unique_id);
            text_element(&mut out, "xdsb:DocumentUniqueId", &d.document_unique_id);
            out.push_str("</xdsb:DocumentRequest>");
        }
        out.push_str("</xdsb:RetrieveDocumentSetRequest>");
        Ok(out)
    }

    /// Reads a request back (the repository side).
    pub fn read(el: &Element) -> Result<Self> {
        if !el.is(XDSB_NS, "RetrieveDocumentSetRequest") {
            return Err(DmpError::Malformed(format!(
                "{} where RetrieveDocumentSetRequest was expected",
                el.name
            )));
        }
        let documents = el
            .children_named(XDSB_NS, "DocumentRequest")
            .map(|d| {
                let get = |n: &str| {
                    d.child_text(XDSB_NS, n)
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| DmpError::Malformed(format!("DocumentRequest without {n}")))
                };
                Ok(DocumentRequest {
                    home_community_id: d.child_text(XDSB_NS, "HomeCommunityId"),
                    repository_unique_id: get("RepositoryUniqueId")?,
                    document_unique_id: get("DocumentUniqueId")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { documents })
    }
}

/// A retrieved document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrievedDocument {
    /// `HomeCommunityId`.
    pub home_community_id: Option<String>,
    /// `RepositoryUniqueId`.
    pub repository_unique_id: String,
    /// `DocumentUniqueId`.
    pub document_unique_id: String,
    /// `mimeType`.
    pub mime_type: String,
    /// The bytes.
    pub content: Bytes,
}

/// An ITI-43 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveResponse {
    /// Status and errors (`XDSDocumentUniqueIdError`... per missing document on partial success).
    pub response: RegistryResponse,
    /// The documents returned.
    pub documents: Vec<RetrievedDocument>,
}

/// The content of an `xdsb:Document`: an `xop:Include` resolved against `parts`, or base64 text.
pub(crate) fn document_content(doc: &Element, parts: Option<&Multipart>) -> Result<Bytes> {
    if let Some(inc) = doc.child(XOP_NS, "Include") {
        let href = inc
            .attr("href")
            .ok_or_else(|| DmpError::Malformed("xop:Include without href".into()))?;
        let parts = parts.ok_or_else(|| {
            DmpError::Mtom("xop:Include in a message that is not multipart".into())
        })?;
        let part = parts.resolve(href)?;
        if part.body.len() > MAX_DOCUMENT_SIZE {
            return Err(DmpError::TooLarge {
                what: "document",
                size: part.body.len(),
                limit: MAX_DOCUMENT_SIZE,
            });
        }
        return Ok(part.body.clone());
    }
    let text = doc.text();
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if compact.len() / 4 * 3 > MAX_DOCUMENT_SIZE + 3 {
        return Err(DmpError::TooLarge {
            what: "document",
            size: compact.len() / 4 * 3,
            limit: MAX_DOCUMENT_SIZE,
        });
    }
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map(Bytes::from)
        .map_err(|_| DmpError::Malformed("xdsb:Document is neither xop:Include nor base64".into()))
}

impl RetrieveResponse {
    /// Reads an `xdsb:RetrieveDocumentSetResponse` element; `parts` resolves `xop:Include`.
    pub fn read(el: &Element, parts: Option<&Multipart>) -> Result<Self> {
        if !el.is(XDSB_NS, "RetrieveDocumentSetResponse") {
            return Err(DmpError::Malformed(format!(
                "{} where RetrieveDocumentSetResponse was expected",
                el.name
            )));
        }
        let rr = el.child(RS_NS, "RegistryResponse").ok_or_else(|| {
            DmpError::Malformed("RetrieveDocumentSetResponse without RegistryResponse".into())
        })?;
        let response = RegistryResponse::read(rr)?;
        let documents = el
            .children_named(XDSB_NS, "DocumentResponse")
            .map(|d| {
                let get = |n: &str| {
                    d.child_text(XDSB_NS, n)
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| DmpError::Malformed(format!("DocumentResponse without {n}")))
                };
                let doc = d.child(XDSB_NS, "Document").ok_or_else(|| {
                    DmpError::Malformed("DocumentResponse without Document".into())
                })?;
                Ok(RetrievedDocument {
                    home_community_id: d.child_text(XDSB_NS, "HomeCommunityId"),
                    repository_unique_id: get("RepositoryUniqueId")?,
                    document_unique_id: get("DocumentUniqueId")?,
                    mime_type: get("mimeType")?,
                    content: document_content(doc, parts)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            response,
            documents,
        })
    }

    /// Parses a received ITI-43 response: the [`Multipart`] from
    /// [`mtom::parse`](crate::mtom::parse) (its root is the SOAP envelope or the bare body).
    pub fn parse(message: &Multipart) -> Result<Self> {
        let el = payload(&message.root.body, &RETRIEVE_RESPONSE_LIMITS)?;
        Self::read(&el, Some(message))
    }

    /// Writes the response body (the repository side: sandbox and tests). With `mtom`, documents
    /// are `xop:Include`s and returned as attachments; otherwise inline base64.
    pub fn to_xml(&self, mtom: bool) -> (String, Vec<Attachment>) {
        let mut out = String::with_capacity(1024);
        let mut atts = Vec::new();
        out.push_str("<xdsb:RetrieveDocumentSetResponse");
        attr(&mut out, "xmlns:xdsb", XDSB_NS);
        attr(&mut out, "xmlns:rs", RS_NS);
        attr(&mut out, "xmlns:xop", XOP_NS);
        out.push('>');
        out.push_str("<rs:RegistryResponse");
        self.response.write_inner(&mut out);
        out.push_str("</rs:RegistryResponse>");
        for (i, d) in self.documents.iter().enumerate() {
            out.push_str("<xdsb:DocumentResponse>");
            if let Some(h) = &d.home_community_id {
                text_element(&mut out, "xdsb:HomeCommunityId", h);
            }
            text_element(&mut out, "xdsb:RepositoryUniqueId", &d.repository_unique_id);
            text_element(&mut out, "xdsb:DocumentUniqueId", &d.document_unique_id);
            text_element(&mut out, "xdsb:mimeType", &d.mime_type);
            out.push_str("<xdsb:Document>");
            if mtom {
                let cid = format!("doc{}.{}@segur", i + 1, uuid::Uuid::new_v4().simple());
                out.push_str("<xop:Include");
                attr(&mut out, "href", &href_for_cid(&cid));
                out.push_str("/>");
                atts.push(Attachment {
                    content_id: cid,
                    content_type: d.mime_type.clone(),
                    body: d.content.clone(),
                });
            } else {
                out.push_str(&base64::engine::general_purpose::STANDARD.encode(&d.content));
            }
            out.push_str("</xdsb:Document></xdsb:DocumentResponse>");
        }
        out.push_str("</xdsb:RetrieveDocumentSetResponse>");
        (out, atts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mtom::{self, MtomLimits};
    use crate::xds::{ErrorCode, RegistryError, ResponseStatus, Severity};

    fn sample() -> RetrieveResponse {
        RetrieveResponse {
            response: RegistryResponse::success(),
            documents: vec![
                RetrievedDocument {
                    home_community_id: None,
                    repository_unique_id: "1.2.250.1.213.4.1.1.2".into(),
                    document_unique_id: "1.2.3^ext".into(),
                    mime_type: "text/xml".into(),
                    content: Bytes::from_static(b"<ClinicalDocument/>"),
                },
                RetrievedDocument {
                    home_community_id: Some("urn:oid:1.2.3".into()),
                    repository_unique_id: "1.2.250.1.213.4.1.1.2".into(),
                    document_unique_id: "1.2.4".into(),
                    mime_type: "application/pdf".into(),
                    content: Bytes::from((0..=255u8).collect::<Vec<_>>()),
                },
            ],
        }
    }

    #[test]
    fn mtom_and_inline_round_trip() {
        let r = sample();
        let (xml, atts) = r.to_xml(true);
        assert_eq!(atts.len(), 2);
        let env = format!(
            r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>{xml}</s:Body></s:Envelope>"#
        );
        let (ct, body) = mtom::build(env.as_bytes(), ACTION_ITI43_RESPONSE, &atts);
        let m = mtom::parse(&ct, &body, &MtomLimits::default()).unwrap();
        assert_eq!(RetrieveResponse::parse(&m).unwrap(), r);
        let (inline, none) = r.to_xml(false);
        assert!(none.is_empty());
        let m = mtom::parse(
            "application/soap+xml",
            inline.as_bytes(),
            &MtomLimits::default(),
        )
        .unwrap();
        assert_eq!(RetrieveResponse::parse(&m).unwrap(), r);
    }

    #[test]
    fn partial_success_and_missing_part() {
        let mut r = sample();
        r.documents.truncate(1);
        r.response.status = ResponseStatus::PartialSuccess;
        r.response.errors.push(RegistryError {
            code: ErrorCode::XdsDocumentUniqueIdError,
            context: "1.2.4".into(),
            location: Some("1.2.4".into()),
            severity: Severity::Error,
        });
        let (xml, atts) = r.to_xml(true);
        let (ct, body) = mtom::build(xml.as_bytes(), ACTION_ITI43_RESPONSE, &atts);
        let m = mtom::parse(&ct, &body, &MtomLimits::default()).unwrap();
        let back = RetrieveResponse::parse(&m).unwrap();
        assert_eq!(back.response.status, ResponseStatus::PartialSuccess);
        assert_eq!(back.documents.len(), 1);
        // The same message without its attachment: the referenced part is missing.
        let (ct, body) = mtom::build(xml.as_bytes(), ACTION_ITI43_RESPONSE, &[]);
        let m = mtom::parse(&ct, &body, &MtomLimits::default()).unwrap();
        let e = RetrieveResponse::parse(&m).unwrap_err();
        assert!(e.to_string().contains("missing referenced part"), "{e}");
    }

    #[test]
    fn request_round_trip() {
        let q = RetrieveRequest {
            documents: vec![DocumentRequest {
                home_community_id: None,
                repository_unique_id: "1.2.250.1.213.4.1.1.2".into(),
                document_unique_id: "1.2.3".into(),
            }],
        };
        let xml = q.to_xml().unwrap();
        let el = segur_net::xml::parse(xml.as_bytes(), &XmlLimits::default()).unwrap();
        assert_eq!(RetrieveRequest::read(&el).unwrap(), q);
        assert!(RetrieveRequest { documents: vec![] }.to_xml().is_err());
    }
}
