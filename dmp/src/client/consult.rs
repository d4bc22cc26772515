//! Consultation: ITI-18 stored queries (FindDocuments, GetDocuments, the latest VSM, documents
//! new since a date) and ITI-43 retrieval, size and hash checked.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use segur_cda::DocumentType;
use segur_ins_core::QualifiedIdentity;

use super::{registry_outcome, sha1_hex, Acting, Call, DmpClient};
use crate::envelope::{self, Service};
use crate::error::{DmpError, Result};
use crate::xds::{
    DocumentEntry, DocumentRef, DocumentRequest, FindDocuments, GetDocuments, QueryResponse,
    RetrieveRequest, RetrieveResponse, ReturnType, StoredQuery,
};

/// A retrieved document and its metadata.
#[derive(Debug, Clone)]
pub struct Retrieved {
    /// The DocumentEntry (ITI-18).
    pub entry: DocumentEntry,
    /// The document bytes (ITI-43), size and hash checked against the entry.
    pub content: Bytes,
    /// The MIME type the repository gave.
    pub mime_type: String,
}

impl DmpClient {
    /// A FindDocuments query for this patient (current documents), to refine and pass to
    /// [`DmpClient::find`].
    pub fn find_query(patient: &QualifiedIdentity) -> FindDocuments {
        FindDocuments::new(&patient.ins().to_cx_xds())
    }

    /// ITI-18 FindDocuments (TD3.1) with the multi-criteria `query`. Its patientId must be the
    /// patient's INS (or empty: it is then filled in).
    pub async fn find<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        mut query: FindDocuments,
    ) -> Result<Vec<DocumentEntry>> {
        let cx = patient.ins().to_cx_xds();
        if query.patient_id.trim().is_empty() {
            query.patient_id = cx;
        } else if query.patient_id != cx {
            return Err(DmpError::Invalid {
                field: "$XDSDocumentEntryPatientId",
                detail: "is not the patient's INS".into(),
            });
        }
        let body = StoredQuery::FindDocuments(query).to_xml(ReturnType::LeafClass)?;
        self.query(who.into(), patient, "ITI-18 FindDocuments", body)
            .await
    }

    /// ITI-18 GetDocuments by uniqueId (every metadata version the registry returns).
    pub async fn get_documents<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_ids: &[String],
    ) -> Result<Vec<DocumentEntry>> {
        let body = StoredQuery::GetDocuments(GetDocuments {
            documents: DocumentRef::UniqueIds(unique_ids.to_vec()),
            home_community_id: None,
        })
        .to_xml(ReturnType::LeafClass)?;
        let cx = patient.ins().to_cx_xds();
        let entries = self
            .query(who.into(), patient, "ITI-18 GetDocuments", body)
            .await?;
        // A registry must not return another patient's entries; refuse them if it does.
        if entries.iter().any(|e| e.patient_id != cx) {
            return Err(DmpError::Malformed(
                "GetDocuments returned an entry of another patient".into(),
            ));
        }
        Ok(entries)
    }

    /// "Is there a VSM, and of when": the most recent current VSM (typeCode `SYNTH`) entry.
    pub async fn latest_vsm<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
    ) -> Result<Option<DocumentEntry>> {
        let q = Self::find_query(patient).type_code(DocumentType::synthese().to_code());
        let entries = self.find(who, patient, q).await?;
        Ok(entries
            .into_iter()
            .filter(|e| e.status.is_none() || e.is_approved())
            .max_by_key(|e| e.creation_time_utc()))
    }

    /// "Documents new since a date": current documents created at or after `since`
    /// ([I] `$XDSDocumentEntryCreationTimeFrom`: the registry filters on creationTime), most
    /// recent first.
    pub async fn new_since<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        since: DateTime<Utc>,
    ) -> Result<Vec<DocumentEntry>> {
        let q = Self::find_query(patient).created_between(Some(since), None);
        let mut entries = self.find(who, patient, q).await?;
        entries.retain(|e| e.creation_time_utc().is_none_or(|t| t >= since));
        entries.sort_by_key(|e| std::cmp::Reverse(e.creation_time_utc()));
        Ok(entries)
    }

    // ---- ITI-43 --------------------------------------------------------------------------

    /// Retrieves a document by uniqueId (TD3.2): GetDocuments for its metadata, then ITI-43.
    pub async fn retrieve<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_id: &str,
    ) -> Result<Retrieved> {
        let who = who.into();
        let entry = self.current_entry(who, patient, unique_id).await?;
        self.retrieve_entry(who, patient, &entry).await
    }

    /// Retrieves the document of an entry read by ITI-18 (ITI-43). The bytes must be within the
    /// size limit and match the entry's size and hash when the registry gave them.
    pub async fn retrieve_entry<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        entry: &DocumentEntry,
    ) -> Result<Retrieved> {
        if entry.patient_id != patient.ins().to_cx_xds() {
            return Err(DmpError::Invalid {
                field: "DocumentEntry patientId",
                detail: "is not the patient's INS".into(),
            });
        }
        let body = RetrieveRequest {
            documents: vec![DocumentRequest::for_entry(entry)?],
        }
        .to_xml()?;
        let max = self.inner.id.max_document_bytes;
        let unique_id = entry.unique_id.clone();
        let doc = self
            .call(
                who.into(),
                Call::soap(
                    "ITI-43",
                    Service::Repository,
                    envelope::ACTION_ITI43,
                    body,
                    patient,
                ),
                |r| {
                    let resp = RetrieveResponse::read(&r.reply.payload, Some(&r.message))?;
                    registry_outcome(&resp.response)?;
                    resp.documents
                        .into_iter()
                        .find(|d| d.document_unique_id == unique_id)
                        .ok_or_else(|| DmpError::DocumentNotFound {
                            unique_id: unique_id.clone(),
                        })
                },
            )
            .await?;
        let size = doc.content.len();
        if size > max {
            return Err(DmpError::TooLarge {
                what: "retrieved document",
                size,
                limit: max,
            });
        }
        if entry.size.is_some_and(|s| s != size as u64) {
            return Err(DmpError::Malformed(
                "the retrieved document's size differs from its metadata".into(),
            ));
        }
        if let Some(h) = &entry.hash {
            if !h.trim().eq_ignore_ascii_case(&sha1_hex(&doc.content)) {
                return Err(DmpError::Malformed(
                    "the retrieved document's hash differs from its metadata".into(),
                ));
            }
        }
        Ok(Retrieved {
            entry: entry.clone(),
            content: doc.content,
            mime_type: doc.mime_type,
        })
    }

    async fn query(
        &self,
        who: Acting<'_>,
        patient: &QualifiedIdentity,
        operation: &'static str,
        body: String,
    ) -> Result<Vec<DocumentEntry>> {
        self.call(
            who,
            Call::soap(
                operation,
                Service::Registry,
                envelope::ACTION_ITI18,
                body,
                patient,
            ),
            |r| {
                let q = QueryResponse::read(&r.reply.payload)?;
                registry_outcome(&q.response)?;
                Ok(q.objects.documents)
            },
        )
        .await
    }

    /// The current (Approved) version of the document `unique_id`.
    pub(super) async fn current_entry(
        &self,
        who: Acting<'_>,
        patient: &QualifiedIdentity,
        unique_id: &str,
    ) -> Result<DocumentEntry> {
        let entries = self
            .get_documents(who, patient, &[unique_id.to_owned()])
            .await?;
        entries
            .into_iter()
            .filter(|e| e.unique_id == unique_id)
            .find(|e| e.status.is_none() || e.is_approved())
            .ok_or_else(|| DmpError::DocumentNotFound {
                unique_id: unique_id.to_owned(),
            })
    }
}
