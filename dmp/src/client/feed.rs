//! Feeding (ITI-41 with MTOM): TD0.2 first or a [`FeedPermit`] for a batch, the RPLC look-up
//! of the replaced version, and the reconciliation of a send whose answer was lost (the
//! registry already holds the uniqueId: same size and hash is a success).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::Utc;
use segur_cda::Code;
use segur_ins_core::QualifiedIdentity;

use super::{registry_outcome, sha1_hex, Acting, Call, DmpClient, DmpUser};
use crate::envelope::{self, Service};
use crate::error::{DmpError, Result};
use crate::patients::DmpStatus;
use crate::xds::{
    self, DmpConfidentiality, DocumentEntry, DocumentSubmission, Masking, ProvideAndRegister,
    RegistryResponse, Visibility,
};

/// A document to send with [`DmpClient::send`]: its CDA bytes (sent, hashed and sized exactly as
/// given) and the DMP options.
#[derive(Debug, Clone)]
pub struct DmpDocument {
    bytes: Bytes,
    /// Derived from `bytes` by [`DmpDocument::parse`] (else at send time).
    metadata: Option<Arc<segur_cda::XdsMetadata>>,
    confidentiality: DmpConfidentiality,
    replaces: Option<String>,
    content_type: Code,
}

impl DmpDocument {
    /// A document, visible to all, new (no replacement), contentTypeCode `07` [I].
    pub fn new(cda: impl Into<Bytes>) -> Self {
        Self {
            bytes: cda.into(),
            metadata: None,
            confidentiality: DmpConfidentiality::VISIBLE,
            replaces: None,
            content_type: default_content_type(),
        }
    }

    /// As [`DmpDocument::new`], deriving the XDS metadata from the CDA header now (once: `send`
    /// reuses it), for a caller that needs them before sending (an outbox keyed by uniqueId).
    pub fn parse(cda: impl Into<Bytes>) -> std::result::Result<Self, segur_cda::CdaError> {
        let mut document = Self::new(cda);
        document.metadata = Some(Arc::new(segur_cda::metadata(&document.bytes)?));
        Ok(document)
    }

    /// The XDS metadata, when derived by [`DmpDocument::parse`].
    pub fn metadata(&self) -> Option<&segur_cda::XdsMetadata> {
        self.metadata.as_deref()
    }

    /// Masked to professionals (`MASQUE_PS`, `dmp.md` §5.4).
    pub fn masked_to_professionals(mut self) -> Self {
        self.confidentiality.masking = Masking::MaskedToProfessionals;
        self
    }

    /// Visibility to the patient and legal representatives (`INVISIBLE_PATIENT`,
    /// `INVISIBLE_REPRESENTANTS_LEGAUX`).
    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.confidentiality.visibility = visibility;
        self
    }

    /// Replaces the earlier version whose uniqueId is `unique_id` (RPLC, TD2.1b/2.2b).
    pub fn replacing(mut self, unique_id: impl Into<String>) -> Self {
        self.replaces = Some(unique_id.into());
        self
    }

    /// The submission set's contentTypeCode (JDV_J59; `dmp.md` §5.4).
    pub fn content_type(mut self, code: Code) -> Self {
        self.content_type = code;
        self
    }

    /// The CDA bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
}

/// Code system of the submission-set contentTypeCode (TRE_R209-TypeActivite, JDV_J59).
pub const CONTENT_TYPE_SYSTEM: &str = "1.2.250.1.213.2.2";

/// contentTypeCode `07` (PV1-2 `O`, an outpatient consultation) — [I] the IG's proposed mapping
/// (`dmp.md` §5.4); the display name is our assumption.
pub fn default_content_type() -> Code {
    Code::new("07", CONTENT_TYPE_SYSTEM, "Consultation externe")
}

/// What [`DmpClient::send`] did.
#[derive(Debug, Clone)]
pub struct SendReceipt {
    /// The TD0.2 answer that allowed the send (with any traits mismatch, DMP/CONF.01).
    pub status: DmpStatus,
    /// The document's uniqueId.
    pub unique_id: String,
    /// The submission set's uniqueId.
    pub submission_set_unique_id: String,
    /// entryUUID of the replaced version (RPLC), if any.
    pub replaced_entry_uuid: Option<String>,
    /// Success (with warnings) or partial success.
    pub outcome: xds::Outcome,
    /// Set when the registry already held this very document (same uniqueId, size and SHA-1
    /// hash): an earlier send whose answer was lost (ITI TF-3 `XDSDuplicateUniqueIdInRegistry`
    /// on the retry). Its entryUUID; nothing was registered again.
    pub already_registered: Option<String>,
}

/// A TD0.2 answer that allows feeding one patient's DMP by one professional (the DMP exists,
/// is open, no opposition to feeding, traits matching or their mismatch confirmed: DMP/CONF.01,
/// DMP/CONF.09), for [`FeedPermit::MAX_AGE`].
/// Only [`DmpClient::feed_permit`] makes one; [`DmpClient::send_with_permit`] uses it to send a
/// batch of documents for that patient with one TD0.2. Its `Debug` shows no patient identity.
#[derive(Clone)]
pub struct FeedPermit {
    status: DmpStatus,
    patient_cx: String,
    ps_id: String,
    obtained_at: Instant,
}

impl FeedPermit {
    /// How long a permit may be used [I]: the Ségur rule asks for a TD0.2 "at least once
    /// before feeding" (DMP/CONF.01) without a period; 15 minutes bounds a batch or a
    /// consultation session so that a DMP closed or an opposition recorded meanwhile is seen.
    pub const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

    /// The TD0.2 answer.
    pub fn status(&self) -> &DmpStatus {
        &self.status
    }

    /// Time since the TD0.2 answer.
    pub fn age(&self) -> std::time::Duration {
        self.obtained_at.elapsed()
    }

    /// Usable by `user` for `patient` now.
    fn check(&self, user: &DmpUser, patient: &QualifiedIdentity) -> Result<()> {
        let refuse = |detail: &str| {
            Err(DmpError::Invalid {
                field: "feed permit",
                detail: detail.to_owned(),
            })
        };
        if self.patient_cx != patient.ins().to_cx_xds() {
            return refuse("obtained for another patient");
        }
        if self.ps_id != user.ps_id.as_str() {
            return refuse("obtained by another professional");
        }
        if self.age() > Self::MAX_AGE {
            return refuse("older than FeedPermit::MAX_AGE: TD0.2 again");
        }
        Ok(())
    }
}

impl std::fmt::Debug for FeedPermit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedPermit")
            .field("age", &self.age())
            .finish_non_exhaustive()
    }
}

/// A document checked locally, ready for ITI-41.
struct Prepared {
    unique_id: String,
    patient_cx: String,
    submission: DocumentSubmission,
}

impl DmpClient {
    /// Sends a document (TD2.1/2.2, ITI-41 with MTOM): TD0.2 first — [`DmpError::NotSent`]
    /// without any ITI-41 when there is no DMP, it is closed, the patient opposed feeding
    /// (DMP/CONF.09), or the DMP's traits differ from ours and `who` carries no
    /// [`TraitsAcknowledgement`](crate::patients::TraitsAcknowledgement) of exactly that
    /// mismatch ([`Acting::confirming`], DMP/CONF.01); a replacement finds the earlier
    /// version's entryUUID with GetDocuments (RPLC). The submission set is signed (XAdES,
    /// `dmp.md` §6).
    ///
    /// When the registry answers that the uniqueId is already registered (an earlier send whose
    /// answer was lost), GetDocuments checks what it holds: the same size and SHA-1 hash make
    /// the send a success ([`SendReceipt::already_registered`]); anything else is
    /// [`DmpError::DuplicateDiffers`].
    pub async fn send<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        document: &DmpDocument,
    ) -> Result<SendReceipt> {
        let who = who.into();
        // Everything that can be checked locally is checked before the first request.
        let prepared = self.prepare(patient, document)?;
        let permit = self.feed_permit(who, patient).await?;
        self.submit(who, patient, document, prepared, &permit).await
    }

    /// TD0.2, kept as a [`FeedPermit`] for sending several documents of this patient with
    /// [`DmpClient::send_with_permit`] (DMP/CONF.01: "TD0.2 at least once before feeding").
    /// [`DmpError::NotSent`] when there is no DMP, it is closed, the patient opposed
    /// feeding (DMP/CONF.09), or the traits differ and `who` does not confirm exactly that
    /// mismatch (DMP/CONF.01, [`Acting::confirming`]).
    pub async fn feed_permit<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
    ) -> Result<FeedPermit> {
        let who = who.into();
        let status = self.status(who, patient).await?;
        status
            .check_feed_acknowledged(patient, who.traits_ack)
            .map_err(DmpError::NotSent)?;
        Ok(FeedPermit {
            status,
            patient_cx: patient.ins().to_cx_xds(),
            ps_id: who.user.ps_id.as_str().to_owned(),
            obtained_at: Instant::now(),
        })
    }

    /// Sends a document as [`DmpClient::send`] does, but on a TD0.2 answer obtained earlier for
    /// the same patient and professional ([`DmpClient::feed_permit`], at most
    /// [`FeedPermit::MAX_AGE`] old) instead of a TD0.2 before each document: what an EHR
    /// sending a batch for one patient does. A permit of another patient or professional, or
    /// too old, is refused ([`DmpError::Invalid`], field `feed permit`) before any request.
    pub async fn send_with_permit<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        document: &DmpDocument,
        permit: &FeedPermit,
    ) -> Result<SendReceipt> {
        let who = who.into();
        permit.check(who.user, patient)?;
        let prepared = self.prepare(patient, document)?;
        self.submit(who, patient, document, prepared, permit).await
    }

    /// The local checks of a send (size, CDA metadata, the document's patient) and its
    /// DocumentEntry.
    fn prepare(&self, patient: &QualifiedIdentity, document: &DmpDocument) -> Result<Prepared> {
        let max = self.inner.id.max_document_bytes;
        if document.bytes.len() > max {
            return Err(DmpError::TooLarge {
                what: "document",
                size: document.bytes.len(),
                limit: max,
            });
        }
        let meta =
            match &document.metadata {
                Some(m) => m.clone(),
                None => Arc::new(segur_cda::metadata(&document.bytes).map_err(|e| {
                    DmpError::Invalid {
                        field: "CDA document",
                        detail: e.to_string(),
                    }
                })?),
            };
        let patient_cx = patient.ins().to_cx_xds();
        if meta.patient_id.as_deref() != Some(patient_cx.as_str()) {
            return Err(DmpError::Invalid {
                field: "patientId",
                detail: "the document's INS is not the patient's (DMP_PATIENT_DIFFERENT)".into(),
            });
        }
        let submission =
            DocumentSubmission::new(&meta, document.bytes.clone(), document.confidentiality)?;
        Ok(Prepared {
            unique_id: meta.unique_id.clone(),
            patient_cx,
            submission,
        })
    }

    /// RPLC look-up, then ITI-41, once feeding is allowed by `permit` (checked when it was
    /// made: only [`DmpClient::feed_permit`] makes one).
    async fn submit(
        &self,
        who: Acting<'_>,
        patient: &QualifiedIdentity,
        document: &DmpDocument,
        prepared: Prepared,
        permit: &FeedPermit,
    ) -> Result<SendReceipt> {
        let status = &permit.status;
        let Prepared {
            unique_id,
            patient_cx,
            mut submission,
        } = prepared;
        let mut replaced = None;
        if let Some(uid) = &document.replaces {
            let current = match self.current_entry(who, patient, uid).await {
                Ok(c) => c,
                // The earlier version is no longer current: maybe because this very document
                // replaced it in a send whose answer was lost.
                Err(e @ DmpError::DocumentNotFound { .. }) => {
                    return match self
                        .registered_copy(who, patient, &unique_id, &document.bytes)
                        .await?
                    {
                        Some(entry) => Ok(SendReceipt {
                            status: status.clone(),
                            unique_id,
                            submission_set_unique_id: String::new(),
                            replaced_entry_uuid: None,
                            outcome: xds::Outcome::Success {
                                warnings: Vec::new(),
                            },
                            already_registered: Some(entry.entry_uuid),
                        }),
                        None => Err(e),
                    };
                }
                Err(e) => return Err(e),
            };
            submission = submission.replacing(&current.entry_uuid);
            replaced = Some(current.entry_uuid);
        }
        let ss = self.submission_set(who.user, &patient_cx, document.content_type.clone());
        let ss_unique_id = ss.unique_id.clone();
        let mut pnr = ProvideAndRegister::new(ss, vec![submission])?;
        pnr.sign(self.inner.signer.as_ref(), Utc::now())?;
        let message = pnr.to_message()?;
        let sent = self
            .call(
                who,
                Call {
                    operation: "ITI-41",
                    service: Service::Repository,
                    action: envelope::ACTION_ITI41,
                    body: message.body,
                    attachments: message.attachments,
                    mtom: true,
                    patient,
                },
                |r| registry_outcome(&RegistryResponse::read(&r.reply.payload)?),
            )
            .await;
        let (outcome, already_registered) = match sent {
            Ok(outcome) => (outcome, None),
            Err(DmpError::Registry(errors)) if is_duplicate(&errors) => {
                match self
                    .registered_copy(who, patient, &unique_id, &document.bytes)
                    .await?
                {
                    Some(entry) => (
                        xds::Outcome::Success {
                            warnings: Vec::new(),
                        },
                        Some(entry.entry_uuid),
                    ),
                    None => return Err(DmpError::DuplicateDiffers { unique_id }),
                }
            }
            Err(e) => return Err(e),
        };
        Ok(SendReceipt {
            status: status.clone(),
            unique_id,
            submission_set_unique_id: ss_unique_id,
            replaced_entry_uuid: replaced,
            outcome,
            already_registered,
        })
    }

    /// ITI-18 GetDocuments by uniqueId: the current entry of `unique_id` when it is exactly
    /// `bytes` (same size and SHA-1 hash, ITI TF-3 §4.2.3.2.4), None when the registry holds
    /// nothing current under it or something else. Errors of the query itself are returned.
    /// How a lost ITI-41 answer is reconciled, here and by a journal's outbox.
    pub async fn registered_copy(
        &self,
        who: Acting<'_>,
        patient: &QualifiedIdentity,
        unique_id: &str,
        bytes: &[u8],
    ) -> Result<Option<DocumentEntry>> {
        let entries = self
            .get_documents(who, patient, &[unique_id.to_owned()])
            .await?;
        let size = bytes.len() as u64;
        let hash = sha1_hex(bytes);
        Ok(entries.into_iter().find(|e| {
            e.unique_id == unique_id
                && (e.status.is_none() || e.is_approved())
                && e.size == Some(size)
                && e.hash
                    .as_deref()
                    .is_some_and(|h| h.trim().eq_ignore_ascii_case(&hash))
        }))
    }
}

/// Whether an ITI-41 failure says the uniqueId is already registered (ITI TF-3 §4.2.4.1):
/// identical (`XDSDuplicateUniqueIdInRegistry`) or not (`XDSNonIdenticalHash`/`Size`).
fn is_duplicate(errors: &xds::RegistryErrors) -> bool {
    use xds::ErrorCode as C;
    [
        C::XdsDuplicateUniqueIdInRegistry,
        C::XdsNonIdenticalHash,
        C::XdsNonIdenticalSize,
    ]
    .iter()
    .any(|c| errors.has(c))
}
