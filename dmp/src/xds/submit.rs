//! ITI-41 Provide and Register Document Set-b (`xdsb:ProvideAndRegisterDocumentSetRequest`;
//! ITI TF-2b §3.41, `dmp.md` §2–3, §5, §6; TD2 "alimentation").
//!
//! One submission set, its documents (from the CDA crate's [`XdsMetadata`]), optionally the
//! replacement of earlier versions (RPLC to their entryUUID) and the submission-set signature
//! registered as its own DocumentEntry with a `signs` association. The body is written with the
//! documents as `xop:Include` parts ([`ProvideAndRegister::to_message`], for MTOM) or inline in
//! base64 ([`ProvideAndRegister::to_inline_xml`]).

use base64::Engine as _;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use segur_cda::{Code, XdsMetadata};
use segur_net::dsig::Signer;
use segur_net::xml::Element;
use sha1::Digest as _;

use super::confidentiality::{DmpConfidentiality, HL7_CONFIDENTIALITY_SYSTEM};
use super::ebrim::{attr, RimWriter};
use super::entry::{format_dtm, DocumentEntry, EntryContext, RegistryObjects, SubmissionSet};
use super::ids::*;
use super::xades::{self, ManifestItem};
use crate::error::{DmpError, Result};
use crate::mtom::{href_for_cid, Attachment, Multipart, MAX_DOCUMENT_SIZE};

/// A document to submit: its DocumentEntry, its bytes, and the entry it replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSubmission {
    /// The DocumentEntry (its `entry_uuid` is reassigned by [`ProvideAndRegister::new`]).
    pub entry: DocumentEntry,
    /// The document bytes, exactly as hashed in the metadata.
    pub content: Bytes,
    /// entryUUID of the version this document replaces (RPLC, `dmp.md` §5.4; obtained by
    /// ITI-18 GetDocuments/FindDocuments).
    pub replaces: Option<String>,
}

fn sha1_hex(bytes: &[u8]) -> String {
    sha1::Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl DocumentSubmission {
    /// A document from its metadata and bytes, with the DMP masking/visibility codes. Refuses
    /// bytes that are not those the metadata was computed on (hash and size must match what is
    /// sent, `dmp.md` §3) and documents over 50 MiB.
    pub fn new(meta: &XdsMetadata, content: Bytes, dmp: DmpConfidentiality) -> Result<Self> {
        if content.len() > MAX_DOCUMENT_SIZE {
            return Err(DmpError::TooLarge {
                what: "document",
                size: content.len(),
                limit: MAX_DOCUMENT_SIZE,
            });
        }
        if meta.size != content.len() || !meta.hash.eq_ignore_ascii_case(&sha1_hex(&content)) {
            return Err(DmpError::Invalid {
                field: "hash",
                detail: "the metadata hash and size are not those of the document bytes".into(),
            });
        }
        Ok(Self {
            entry: DocumentEntry::from_metadata(meta, "Document", dmp, Vec::new())?,
            content,
            replaces: None,
        })
    }

    /// This document replaces the entry `entry_uuid` (RPLC).
    pub fn replacing(mut self, entry_uuid: &str) -> Self {
        self.replaces = Some(entry_uuid.to_owned());
        self
    }

    /// Adds eventCodeList codes (e.g. the prescription sub-types, `erx.md`).
    pub fn with_event_codes(mut self, codes: Vec<Code>) -> Self {
        self.entry.event_codes.extend(codes);
        self
    }
}

/// A body and the parts its `xop:Include`s reference, ready for [`mtom::build`](crate::mtom::build).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XdsMessage {
    /// The body element (no XML declaration), to place in `soap:Body`.
    pub body: String,
    /// The attachments, in reference order.
    pub attachments: Vec<Attachment>,
}

/// The signature document registered with the submission (`dmp.md` §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureDocument {
    /// Its DocumentEntry.
    pub entry: DocumentEntry,
    /// The `ds:Signature` document.
    pub content: Bytes,
}

/// An ITI-41 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvideAndRegister {
    /// The submission set.
    pub submission_set: SubmissionSet,
    /// The documents.
    pub documents: Vec<DocumentSubmission>,
    /// The submission-set signature, once [`sign`](Self::sign)ed.
    pub signature: Option<SignatureDocument>,
}

const SIGNATURE_ENTRY_ID: &str = "Signature01";

impl ProvideAndRegister {
    /// A submission of `documents` under `submission_set`. Assigns the symbolic entry ids
    /// (`Document01`…) and checks what the registry would refuse: no document, a patientId that
    /// differs from the submission set's (`XDSPatientIdDoesNotMatch`), a uniqueId used twice.
    pub fn new(
        submission_set: SubmissionSet,
        mut documents: Vec<DocumentSubmission>,
    ) -> Result<Self> {
        if documents.is_empty() {
            return Err(DmpError::Invalid {
                field: "documents",
                detail: "a submission needs at least one document".into(),
            });
        }
        for (i, d) in documents.iter_mut().enumerate() {
            if d.entry.patient_id != submission_set.patient_id {
                return Err(DmpError::Invalid {
                    field: "patientId",
                    detail: format!("document {} and the submission set differ", i + 1),
                });
            }
            d.entry.entry_uuid = format!("Document{:02}", i + 1);
        }
        for (i, d) in documents.iter().enumerate() {
            if documents[..i]
                .iter()
                .any(|o| o.entry.unique_id == d.entry.unique_id)
            {
                return Err(DmpError::Invalid {
                    field: "uniqueId",
                    detail: format!("document {} repeats an earlier uniqueId", i + 1),
                });
            }
        }
        Ok(Self {
            submission_set,
            documents,
            signature: None,
        })
    }

    /// The submission set's RegistryPackage as written in the body, and the writer to continue.
    fn submission_set_xml(&self) -> Result<RimWriter> {
        let mut w = RimWriter::with_capacity(8192);
        self.submission_set.write(&mut w, EntryContext::Submit)?;
        Ok(w)
    }

    /// Signs the submission set (`dmp.md` §6) with `signer` at `signing_time`, and adds the
    /// signature document as a DocumentEntry (classCode Digital Signature, typeCode E1762,
    /// formatCode xmldsig, eventCode Source, languageCode `art`). \[I\] Its healthcareFacilityType,
    /// practiceSetting and sourcePatientId are those of the first document; its service times
    /// the signing time.
    pub fn sign(&mut self, signer: &dyn Signer, signing_time: DateTime<Utc>) -> Result<()> {
        self.signature = None;
        let ss = self.submission_set_xml()?;
        let ss_c14n = xades::canonical_fragment(&ss.out, "rim", RIM_NS)?;
        let unique_id = new_oid();
        let docs: Vec<ManifestItem<'_>> = self
            .documents
            .iter()
            .map(|d| ManifestItem {
                unique_id: &d.entry.unique_id,
                bytes: &d.content,
            })
            .collect();
        let xml = xades::sign_submission_set(
            &format!("Signature-{}", uuid::Uuid::new_v4().simple()),
            ManifestItem {
                unique_id: &self.submission_set.unique_id,
                bytes: &ss_c14n,
            },
            &docs,
            signer,
            signing_time,
        )?;
        let first = self.documents.first().map(|d| &d.entry);
        let now = format_dtm(&signing_time);
        let entry = DocumentEntry {
            entry_uuid: SIGNATURE_ENTRY_ID.into(),
            object_type: Some(DE_OBJECT_TYPE.into()),
            unique_id,
            patient_id: self.submission_set.patient_id.clone(),
            mime_type: "text/xml".into(),
            title: Some("Signature du lot de soumission".into()),
            class_code: Some(Code::new(SIGNATURE_CLASS_CODE, "URN", "Digital Signature")),
            type_code: Some(Code::new(SIGNATURE_TYPE_CODE, "ASTM", "Full Document")),
            format_code: Some(Code::new(
                SIGNATURE_FORMAT_CODE,
                "URN",
                "Default Signature Style",
            )),
            confidentiality_codes: vec![Code::new("N", HL7_CONFIDENTIALITY_SYSTEM, "Normal")],
            event_codes: vec![Code::new(PURPOSE_SOURCE, PURPOSE_SYSTEM, "Source")],
            healthcare_facility_type_code: first
                .and_then(|e| e.healthcare_facility_type_code.clone()),
            practice_setting_code: first.and_then(|e| e.practice_setting_code.clone()),
            authors: self.submission_set.authors.clone(),
            creation_time: Some(now.clone()),
            service_start_time: Some(now.clone()),
            service_stop_time: Some(now),
            language_code: Some("art".into()),
            source_patient_id: first.and_then(|e| e.source_patient_id.clone()),
            hash: Some(sha1_hex(&xml)),
            size: Some(xml.len() as u64),
            ..Default::default()
        };
        self.signature = Some(SignatureDocument {
            entry,
            content: Bytes::from(xml),
        });
        Ok(())
    }

    /// Every (entry, bytes) sent, documents first then the signature.
    fn parts(&self) -> impl Iterator<Item = (&DocumentEntry, &Bytes)> {
        self.documents
            .iter()
            .map(|d| (&d.entry, &d.content))
            .chain(self.signature.iter().map(|s| (&s.entry, &s.content)))
    }

    fn write(&self, mtom: bool) -> Result<XdsMessage> {
        let mut w = self.submission_set_xml()?;
        let ss_xml = std::mem::take(&mut w.out);
        let ss_id = self.submission_set.entry_uuid.clone();
        let size: usize = self.parts().map(|(_, b)| b.len()).sum();
        w.out
            .reserve(8192 * (self.documents.len() + 1) + if mtom { 0 } else { size / 3 * 4 + 64 });
        w.out.push_str("<xdsb:ProvideAndRegisterDocumentSetRequest");
        attr(&mut w.out, "xmlns:xdsb", XDSB_NS);
        attr(&mut w.out, "xmlns:lcm", LCM_NS);
        attr(&mut w.out, "xmlns:rim", RIM_NS);
        if mtom {
            attr(&mut w.out, "xmlns:xop", XOP_NS);
        }
        w.out
            .push_str("><lcm:SubmitObjectsRequest><rim:RegistryObjectList>");
        w.out.push_str(&ss_xml);
        for (entry, _) in self.parts() {
            entry.write(&mut w, EntryContext::Submit)?;
        }
        let original = [("SubmissionSetStatus", "Original")];
        let mut n = 0;
        let mut assoc =
            |w: &mut RimWriter, kind: &str, source: &str, target: &str, slots: &[(&str, &str)]| {
                n += 1;
                w.association(&format!("Association{n:02}"), kind, source, target, slots)
            };
        for (entry, _) in self.parts() {
            assoc(
                &mut w,
                ASSOC_HAS_MEMBER,
                &ss_id,
                &entry.entry_uuid,
                &original,
            )?;
        }
        for d in &self.documents {
            if let Some(old) = &d.replaces {
                super::ebrim::check_len("RPLC target entryUUID", old, super::MAX_LONG_NAME)?;
                assoc(&mut w, ASSOC_RPLC, &d.entry.entry_uuid, old, &[])?;
            }
        }
        if let Some(s) = &self.signature {
            assoc(&mut w, ASSOC_SIGNS, &s.entry.entry_uuid, &ss_id, &[])?;
        }
        w.out
            .push_str("</rim:RegistryObjectList></lcm:SubmitObjectsRequest>");
        let mut attachments = Vec::new();
        for (i, (entry, bytes)) in self.parts().enumerate() {
            w.out.push_str("<xdsb:Document");
            attr(&mut w.out, "id", &entry.entry_uuid);
            w.out.push('>');
            if mtom {
                let cid = format!("doc{}.{}@segur", i + 1, uuid::Uuid::new_v4().simple());
                w.out.push_str("<xop:Include");
                attr(&mut w.out, "href", &href_for_cid(&cid));
                w.out.push_str("/>");
                attachments.push(Attachment {
                    content_id: cid,
                    content_type: entry.mime_type.clone(),
                    body: bytes.clone(),
                });
            } else {
                w.out
                    .push_str(&base64::engine::general_purpose::STANDARD.encode(bytes));
            }
            w.out.push_str("</xdsb:Document>");
        }
        w.out
            .push_str("</xdsb:ProvideAndRegisterDocumentSetRequest>");
        Ok(XdsMessage {
            body: w.out,
            attachments,
        })
    }

    /// The body with `xop:Include` references and the attachments (MTOM, `dmp.md` §3).
    pub fn to_message(&self) -> Result<XdsMessage> {
        self.write(true)
    }

    /// The body with the documents inline in base64 (the infoset an MTOM message stands for;
    /// what the schema validates).
    pub fn to_inline_xml(&self) -> Result<String> {
        Ok(self.write(false)?.body)
    }
}

/// A received ITI-41 or ITI-57 submission (the registry/repository side): the registry objects
/// and, for ITI-41, the documents by entry id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The objects of the `RegistryObjectList`.
    pub objects: RegistryObjects,
    /// `(ExtrinsicObject id, bytes)` of every `xdsb:Document`.
    pub documents: Vec<(String, Bytes)>,
}

impl Submission {
    /// Reads an `xdsb:ProvideAndRegisterDocumentSetRequest` (documents resolved against `parts`
    /// when they are `xop:Include`s) or an `lcm:SubmitObjectsRequest` (ITI-57).
    pub fn read(el: &Element, parts: Option<&Multipart>) -> Result<Self> {
        let (sor, pnr) = if el.is(XDSB_NS, "ProvideAndRegisterDocumentSetRequest") {
            let sor = el.child(LCM_NS, "SubmitObjectsRequest").ok_or_else(|| {
                DmpError::Malformed("ProvideAndRegister without SubmitObjectsRequest".into())
            })?;
            (sor, Some(el))
        } else if el.is(LCM_NS, "SubmitObjectsRequest") {
            (el, None)
        } else {
            return Err(DmpError::Malformed(format!(
                "{} where a submission was expected",
                el.name
            )));
        };
        let list = sor.child(RIM_NS, "RegistryObjectList").ok_or_else(|| {
            DmpError::Malformed("SubmitObjectsRequest without RegistryObjectList".into())
        })?;
        let objects = RegistryObjects::read(list)?;
        let mut documents = Vec::new();
        if let Some(pnr) = pnr {
            for d in pnr.children_named(XDSB_NS, "Document") {
                let id = d
                    .attr("id")
                    .ok_or_else(|| DmpError::Malformed("xdsb:Document without id".into()))?;
                documents.push((id.to_owned(), super::retrieve::document_content(d, parts)?));
            }
        }
        Ok(Self { objects, documents })
    }

    /// Reads a received ITI-41 message (root part = SOAP envelope or bare body).
    pub fn parse(message: &Multipart) -> Result<Self> {
        let el = super::response::payload(
            &message.root.body,
            &super::retrieve::RETRIEVE_RESPONSE_LIMITS,
        )?;
        Self::read(&el, Some(message))
    }
}
