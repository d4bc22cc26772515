//! XDS.b messages of the DMP (`dmp.md` §2, §5, §6; IHE ITI TF-2/TF-3):
//!
//! - [`submit`]: ITI-41 Provide and Register (submission set, document entries, RPLC, masking
//!   codes, `xdsb:Document` as `xop:Include`), with the submission-set signature of [`xades`].
//! - [`query`]: ITI-18 Registry Stored Query (FindDocuments, GetDocuments, FindSubmissionSets) and
//!   its `AdhocQueryResponse`.
//! - [`retrieve`]: ITI-43 Retrieve Document Set, request and response (MTOM or inline).
//! - [`update`]: ITI-57 Update Document Set (deletion, archiving, masking and visibility).
//! - [`response`]: `rs:RegistryResponse`, statuses and typed registry errors.
//! - [`entry`]: the registry objects (DocumentEntry, SubmissionSet, Association) with their
//!   ebRIM writer and reader; [`confidentiality`]: the DMP masking and visibility codes;
//!   [`ids`]: the IHE UUIDs and URNs; `ebrim`: schema-order writing helpers.
//!
//! Every body written here is validated in `tests/xds_schema.rs` against the ebRS 3.0 / XDS.b
//! schemas of `../shared/reference/xds`.

pub mod confidentiality;
mod ebrim;
pub mod entry;
pub mod ids;
pub mod query;
pub mod response;
pub mod retrieve;
pub mod submit;
pub mod update;
pub mod xades;

pub use confidentiality::{DmpConfidentiality, DmpConfidentialityCode, Masking, Visibility};
pub use ebrim::{MAX_FREE_FORM_TEXT, MAX_LONG_NAME};
pub use entry::{
    Association, AssociationType, Author, AvailabilityStatus, DocumentEntry, EntryContext,
    RegistryObjects, SubmissionSet,
};
pub use query::{
    DocumentRef, FindDocuments, FindSubmissionSets, GetDocuments, QueryResponse, ReturnType,
    StoredQuery,
};
pub use response::{
    ErrorCode, Outcome, RegistryError, RegistryErrors, RegistryResponse, ResponseStatus, Severity,
};
pub use retrieve::{DocumentRequest, RetrieveRequest, RetrieveResponse, RetrievedDocument};
pub use submit::{
    DocumentSubmission, ProvideAndRegister, SignatureDocument, Submission, XdsMessage,
};
pub use update::{StatusChange, UpdateDocumentSet, UpdateOperation};

#[cfg(test)]
mod robustness {
    //! Random bytes and mutated responses never panic any reader (issue #5 point 8).
    use super::*;
    use crate::mtom::{self, MtomLimits};
    use proptest::prelude::*;
    use segur_net::xml::{parse, XmlLimits};

    fn samples() -> Vec<Vec<u8>> {
        let e = RegistryError {
            code: ErrorCode::XdsRegistryError,
            context: "x".into(),
            location: Some("y".into()),
            severity: Severity::Warning,
        };
        let mut failure = RegistryResponse::failure(vec![e]);
        failure.request_id = Some("r".into());
        let entry = DocumentEntry {
            entry_uuid: "urn:uuid:1".into(),
            unique_id: "1.2".into(),
            patient_id: "p".into(),
            confidentiality_codes: vec![segur_cda::Code::new("N", "2.16.840.1.113883.5.25", "")],
            authors: vec![Author {
                person: Some("a".into()),
                ..Default::default()
            }],
            version: Some("1".into()),
            ..Default::default()
        };
        let q = QueryResponse {
            response: RegistryResponse::success(),
            objects: RegistryObjects {
                documents: vec![entry],
                ..Default::default()
            },
            total_result_count: Some(1),
        };
        let r = RetrieveResponse {
            response: RegistryResponse::success(),
            documents: vec![RetrievedDocument {
                home_community_id: None,
                repository_unique_id: "1".into(),
                document_unique_id: "2".into(),
                mime_type: "text/xml".into(),
                content: bytes::Bytes::from_static(b"<a/>"),
            }],
        };
        vec![
            failure.to_xml().into_bytes(),
            q.to_xml(ReturnType::LeafClass).unwrap().into_bytes(),
            q.to_xml(ReturnType::ObjectRef).unwrap().into_bytes(),
            r.to_xml(false).0.into_bytes(),
            StoredQuery::FindDocuments(FindDocuments::new("p"))
                .to_xml(ReturnType::LeafClass)
                .unwrap()
                .into_bytes(),
        ]
    }

    fn all_readers(data: &[u8]) {
        let _ = RegistryResponse::parse(data);
        let _ = QueryResponse::parse(data);
        let m = mtom::Multipart {
            root: mtom::Part {
                content_id: String::new(),
                content_type: String::new(),
                body: bytes::Bytes::copy_from_slice(data),
            },
            parts: Vec::new(),
        };
        let _ = RetrieveResponse::parse(&m);
        let _ = Submission::parse(&m);
        if let Ok(el) = parse(data, &XmlLimits::default()) {
            let _ = StoredQuery::read(&el);
            let _ = UpdateDocumentSet::read(&el);
            let _ = RetrieveRequest::read(&el);
            let _ = RegistryObjects::read(&el);
        }
        let _ = query::parse_values(&String::from_utf8_lossy(data));
        let _ = xades::check_manifest(data, &[]);
        for ct in [
            "multipart/related; boundary=B; start=\"<r>\"",
            "multipart/related; boundary=\"MIMEBoundary_x\"",
            "application/soap+xml",
        ] {
            let _ = mtom::parse(ct, data, &MtomLimits::default());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            all_readers(&data);
        }

        #[test]
        fn mutated_responses(
            which in 0usize..5,
            cuts in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
            truncate in any::<usize>(),
        ) {
            let mut data = samples()[which].clone();
            for (at, b) in cuts {
                if !data.is_empty() {
                    let i = at % data.len();
                    data[i] = b;
                }
            }
            let keep = if data.is_empty() { 0 } else { truncate % (data.len() + 1) };
            all_readers(&data[..keep]);
            all_readers(&data);
        }

        #[test]
        fn mutated_mtom(cut in any::<usize>(), flip in any::<usize>()) {
            let atts = [mtom::Attachment {
                content_id: "d@x".into(),
                content_type: "text/xml".into(),
                body: bytes::Bytes::from_static(b"<doc/>"),
            }];
            let (ct, mut body) = mtom::build(&samples()[3], ids::ACTION_ITI43_RESPONSE, &atts);
            let i = flip % body.len();
            body[i] ^= 0x20;
            let keep = cut % (body.len() + 1);
            let _ = mtom::parse(&ct, &body[..keep], &MtomLimits::default());
            if let Ok(m) = mtom::parse(&ct, &body, &MtomLimits::default()) {
                let _ = RetrieveResponse::parse(&m);
            }
        }
    }
}
