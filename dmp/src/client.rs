//! The DMP client: TD0.2, TD0.3, ITI-41/18/43/57 over mutual TLS, one signed VIHF per request,
//! every exchange traced.
//!
//! [`DmpClient`] is cheap to clone and `Send + Sync`. Each method takes the acting user
//! ([`DmpUser`], with a purpose of use: [`Acting`], `normal` by default) and the patient's
//! [`QualifiedIdentity`] (RNIV rule 28: only a qualified identity's INS leaves the process); a
//! fresh VIHF whose `resource-id` is that patient is built and signed for every request
//! (`dmp.md` §4). Every request and response (or failure) goes to the [`TraceSink`] with the
//! operation name, duration and outcome. Errors and logs name fields and codes, never patient
//! identity.
//!
//! Feeding (`send`) follows the Ségur rules: TD0.2 first, and nothing is sent when there is no
//! DMP, when it is closed, or when the patient opposed feeding (DMP/CONF.09); a replacement
//! (RPLC) first finds the entryUUID of the earlier version with ITI-18 GetDocuments. A batch for
//! one patient can rest on one TD0.2: [`DmpClient::feed_permit`] keeps the answer as a
//! [`FeedPermit`] (one patient, one professional, [`FeedPermit::MAX_AGE`]) for
//! [`DmpClient::send_with_permit`].

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use segur_cda::{Code, DocumentType, InsMode};
use segur_ins_core::QualifiedIdentity;
use segur_net::dsig::Signer;
use segur_net::http::{HttpsClient, HttpsConfig};
use segur_net::tls::{self, ClientIdentity, TrustAnchors};
use segur_net::trace::{Exchange, NoTrace, Outcome, TraceSink};
use segur_net::xml::XmlLimits;
use segur_net::NetError;
use sha1::Digest as _;
use uuid::Uuid;

use crate::envelope::{self, RefusalCode, RequestHeader, Service};
use crate::error::{DmpError, Result};
use crate::habilitations::{
    self, AuthorizationAction, AuthorizationEntry, SetAuthorizationOutcome,
};
use crate::mtom::{self, Attachment, MtomLimits, Multipart};
use crate::patients::{self, DmpStatus, Td02Request, TraitsAcknowledgement};
use crate::settings::{DmpSettings, StructureSettings};
use crate::vihf;
use crate::xds::{
    self, Author, DmpConfidentiality, DocumentEntry, DocumentRef, DocumentRequest,
    DocumentSubmission, FindDocuments, GetDocuments, Masking, ProvideAndRegister, QueryResponse,
    RegistryResponse, RetrieveRequest, RetrieveResponse, ReturnType, StatusChange, StoredQuery,
    SubmissionSet, UpdateDocumentSet, Visibility,
};

/// The OID of the national identifiers of health professionals (`dmp.md` §5.3 authorPerson).
pub const OID_IDNAT_PS: &str = "1.2.250.1.71.4.2.1";
/// The OID of the national identifiers of structures (`dmp.md` §5.3 authorInstitution).
pub const OID_IDNAT_STRUCTURE: &str = "1.2.250.1.71.4.2.2";

/// The professional acting (VIHF subject, `dmp.md` §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmpUser {
    /// National id (`Subject/NameID`; DMP/AIRS.06: the user's own, never a generic one).
    pub ps_id: vihf::PsId,
    /// Family name.
    pub nom: String,
    /// First name.
    pub prenom: String,
    /// First role (JDV_J65): the profession (TRE_G15), or `AUTOMATE`.
    pub role: vihf::Role,
    /// Second role: savoir-faire (TRE_R01) for doctors and pharmacists.
    pub specialty: Option<vihf::Role>,
    /// How the user was authenticated (`Authentification_Mode`).
    pub auth_mode: vihf::AuthentificationMode,
}

impl DmpUser {
    /// This user acting with a given purpose of use (`bris_de_glace`, `centre_15`).
    pub fn acting(&self, purpose: vihf::PurposeOfUse) -> Acting<'_> {
        Acting {
            user: self,
            purpose,
            traits_ack: None,
        }
    }

    /// authorPerson XCN: `<IdNat>^<NOM>^<Prénom>^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS`
    /// (`dmp.md` §5.3).
    pub fn xcn(&self) -> String {
        format!(
            "{}^{}^{}^^^^^^&{OID_IDNAT_PS}&ISO^D^^^IDNPS",
            self.ps_id.as_str(),
            self.nom,
            self.prenom
        )
    }

    /// authorSpecialty (`code^display^system`): the second role, else the first.
    fn author_specialty(&self) -> String {
        let r = self.specialty.unwrap_or(self.role);
        format!("{}^{}^{}", r.code(), r.display_name(), r.code_system())
    }
}

/// A user and the purpose of use of one call (VIHF `purposeofuse`, `dmp.md` §4), with the
/// user's confirmation of a traits mismatch when feeding ([`Acting::confirming`]).
#[derive(Debug, Clone, Copy)]
pub struct Acting<'a> {
    /// The user.
    pub user: &'a DmpUser,
    /// The purpose of use.
    pub purpose: vihf::PurposeOfUse,
    /// The confirmation of the traits mismatch TD0.2 reports, if any (DMP/CONF.01): without
    /// one covering exactly that mismatch, [`DmpClient::send`] and
    /// [`DmpClient::feed_permit`] refuse with [`FeedBlocked::TraitsMismatch`](crate::patients::FeedBlocked::TraitsMismatch).
    pub traits_ack: Option<&'a TraitsAcknowledgement>,
}

impl<'a> Acting<'a> {
    /// The same call, with the user's confirmation of a traits mismatch (DMP/CONF.01). It is
    /// used only if it covers exactly the mismatch TD0.2 reports for this patient.
    pub fn confirming(mut self, ack: &'a TraitsAcknowledgement) -> Self {
        self.traits_ack = Some(ack);
        self
    }
}

impl<'a> From<&'a DmpUser> for Acting<'a> {
    /// The user with purpose `normal`.
    fn from(user: &'a DmpUser) -> Self {
        Acting {
            user,
            purpose: vihf::PurposeOfUse::Normal,
            traits_ack: None,
        }
    }
}

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

/// A request as the transport sees it (replay mode).
#[derive(Debug, Clone, Copy)]
pub struct ReplayRequest<'a> {
    /// The service called.
    pub service: Service,
    /// `wsa:Action`.
    pub action: &'a str,
    /// HTTP `Content-Type`.
    pub content_type: &'a str,
    /// The HTTP body.
    pub body: &'a Bytes,
}

/// A canned reply (replay mode).
#[derive(Debug, Clone)]
pub struct ReplayReply {
    /// HTTP status.
    pub status: u16,
    /// HTTP `Content-Type`.
    pub content_type: String,
    /// Body.
    pub body: Bytes,
}

/// Answers requests without network (tests, demos, CNDA injection cases).
pub trait Responder: Send + Sync {
    /// The reply to `request`.
    fn respond(&self, request: &ReplayRequest<'_>) -> ReplayReply;
}

impl<F> Responder for F
where
    F: Fn(&ReplayRequest<'_>) -> ReplayReply + Send + Sync,
{
    fn respond(&self, request: &ReplayRequest<'_>) -> ReplayReply {
        self(request)
    }
}

#[derive(Clone)]
enum Transport {
    Https(HttpsClient),
    Replay(Arc<dyn Responder>),
}

/// What the client knows of itself (settings, without credentials).
#[derive(Debug, Clone)]
struct Identity {
    endpoint: String,
    sender_oid: String,
    source_id: String,
    structure: StructureSettings,
    secteur: vihf::SecteurActivite,
    lps: vihf::Lps,
    ins_mode: InsMode,
    max_document_bytes: usize,
}

struct Inner {
    transport: Transport,
    id: Identity,
    signer: Arc<dyn Signer>,
    xml_limits: XmlLimits,
    mtom_limits: MtomLimits,
    warnings: Vec<String>,
}

/// The DMP client. Cheap to clone (one `Arc`), `Send + Sync`; clones share the connection pool.
#[derive(Clone)]
pub struct DmpClient {
    inner: Arc<Inner>,
    trace: Arc<dyn TraceSink>,
}

impl std::fmt::Debug for DmpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmpClient")
            .field("endpoint", &self.inner.id.endpoint)
            .finish_non_exhaustive()
    }
}

/// Builder of [`DmpClient`] (as `InsiClientBuilder`).
pub struct DmpClientBuilder {
    settings: DmpSettings,
    anchors: Option<TrustAnchors>,
    identity: Option<ClientIdentity>,
    signer: Option<Arc<dyn Signer>>,
    http: Option<HttpsConfig>,
    trace: Arc<dyn TraceSink>,
    replay: Option<Arc<dyn Responder>>,
}

impl DmpClientBuilder {
    /// Trust anchors for the server certificate (IGC-Santé; the sandbox CA in tests).
    pub fn trust_anchors(mut self, anchors: TrustAnchors) -> Self {
        self.anchors = Some(anchors);
        self
    }
    /// The ORG authentication certificate (mutual TLS).
    pub fn client_identity(mut self, identity: ClientIdentity) -> Self {
        self.identity = Some(identity);
        self
    }
    /// The signer of the VIHF and XAdES (the ORG signature certificate, or a card).
    pub fn signer(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = Some(signer);
        self
    }
    /// HTTP settings; by default [`DmpSettings::http_config`] (response limit above the largest
    /// document).
    pub fn http(mut self, config: HttpsConfig) -> Self {
        self.http = Some(config);
        self
    }
    /// Where every exchange is recorded.
    pub fn trace(mut self, sink: Arc<dyn TraceSink>) -> Self {
        self.trace = sink;
        self
    }
    /// Replay mode: every request is answered by `responder` (no network; requests are still
    /// built, signed and traced).
    pub fn replay(mut self, responder: Arc<dyn Responder>) -> Self {
        self.replay = Some(responder);
        self
    }

    /// Builds the client: checks the settings, and warns (in [`DmpClient::warnings`] and the
    /// log) about an expired authentication certificate.
    pub fn build(self) -> Result<DmpClient> {
        self.settings.validate()?;
        let signer = self
            .signer
            .ok_or_else(|| DmpError::Config("no signer for the VIHF (signing PKCS#12)".into()))?;
        let http = self.http.unwrap_or_else(|| self.settings.http_config());
        let mut warnings = Vec::new();
        let transport = match self.replay {
            Some(r) => Transport::Replay(r),
            None => {
                let anchors = self
                    .anchors
                    .ok_or_else(|| DmpError::Config("no trust anchors".into()))?;
                let identity = self.identity.ok_or_else(|| {
                    DmpError::Config("no client certificate (ORG authentication)".into())
                })?;
                if let Some(na) = identity.not_after() {
                    if na < Utc::now() {
                        warnings.push(format!("the authentication certificate expired on {na}"));
                    }
                }
                let config = tls::client_config(&anchors, Some(&identity))?;
                Transport::Https(HttpsClient::new(config, http.clone()))
            }
        };
        for w in &warnings {
            tracing::warn!(target: "segur::dmp", "{w}");
        }
        let max_document_bytes = self.settings.max_document_bytes();
        let secteur = self.settings.structure.secteur()?;
        let s = self.settings;
        Ok(DmpClient {
            inner: Arc::new(Inner {
                transport,
                id: Identity {
                    endpoint: s.endpoint.trim().trim_end_matches('/').to_owned(),
                    sender_oid: s.sender_oid.trim().to_owned(),
                    source_id: s.source_id.trim().to_owned(),
                    structure: s.structure,
                    secteur,
                    lps: vihf::Lps {
                        nom: s.lps.name,
                        version: s.lps.version,
                        id_homologation_dmp: s.lps.homologation,
                        id: s.lps.id,
                    },
                    ins_mode: if s.test_ins {
                        InsMode::Sandbox
                    } else {
                        InsMode::Production
                    },
                    max_document_bytes,
                },
                signer,
                xml_limits: XmlLimits {
                    max_bytes: http.max_response_bytes,
                    max_depth: 64,
                    max_nodes: 1_000_000,
                },
                mtom_limits: MtomLimits {
                    max_total: http.max_response_bytes,
                    max_part: max_document_bytes,
                    max_parts: 64,
                },
                warnings,
            }),
            trace: self.trace,
        })
    }
}

/// One request to send.
struct Call<'a> {
    operation: &'static str,
    service: Service,
    action: &'static str,
    body: String,
    attachments: Vec<Attachment>,
    mtom: bool,
    patient: &'a QualifiedIdentity,
}

/// A received reply: the SOAP payload and the multipart message it came in.
struct Received {
    reply: envelope::Reply,
    message: Multipart,
}

impl DmpClient {
    /// A builder from settings (credentials are given to the builder, or use
    /// [`DmpClient::from_settings`]).
    pub fn builder(settings: DmpSettings) -> DmpClientBuilder {
        DmpClientBuilder {
            settings,
            anchors: None,
            identity: None,
            signer: None,
            http: None,
            trace: Arc::new(NoTrace),
            replay: None,
        }
    }

    /// A client from settings, reading the trust anchors and both PKCS#12 files (relative paths
    /// from `base_dir`, the settings file's folder).
    pub fn from_settings(
        settings: &DmpSettings,
        base_dir: &std::path::Path,
        trace: Arc<dyn TraceSink>,
    ) -> Result<DmpClient> {
        let anchors = settings.trust_anchors(base_dir)?;
        let identity = settings.auth_identity(base_dir)?;
        let (p12, pw) = settings.signing_pkcs12(base_dir)?;
        let signer = segur_net::dsig::Pkcs12Signer::from_pkcs12(&p12, &pw)?;
        DmpClient::builder(settings.clone())
            .trust_anchors(anchors)
            .client_identity(identity)
            .signer(Arc::new(signer))
            .trace(trace)
            .build()
    }

    /// The same client (same pool) recording into another sink.
    pub fn with_trace(&self, sink: Arc<dyn TraceSink>) -> DmpClient {
        DmpClient {
            inner: self.inner.clone(),
            trace: sink,
        }
    }

    /// Configuration warnings found at build time.
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }

    /// The base URL of the services.
    pub fn endpoint(&self) -> &str {
        &self.inner.id.endpoint
    }

    /// The largest document sent or retrieved.
    pub fn max_document_bytes(&self) -> usize {
        self.inner.id.max_document_bytes
    }

    // ---- TD0.2, TD0.3 --------------------------------------------------------------------

    /// TD0.2: does the patient have a DMP, is it closed, what is our access status; the DMP's
    /// traits are compared with ours (a mismatch is reported in the status, DMP/CONF.01).
    pub async fn status<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
    ) -> Result<DmpStatus> {
        let query_id = Uuid::new_v4();
        let body = patients::write_request(&Td02Request {
            patient,
            sender_oid: &self.inner.id.sender_oid,
            sender_name: &self.inner.id.lps.nom,
            message_id: Uuid::new_v4(),
            query_id,
            created: Utc::now(),
        });
        let q = query_id.to_string();
        self.call(
            who.into(),
            Call::soap(
                "TD0.2",
                Service::Patients,
                envelope::ACTION_TD02,
                body,
                patient,
            ),
            |r| patients::read_response(&r.reply.payload, Some(&q), patient),
        )
        .await
    }

    /// TD0.3 `setAuthorization`: AJOUT (with the patient's consent, which the caller records) or
    /// SUPPRESSION.
    pub async fn set_authorization<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        action: AuthorizationAction,
    ) -> Result<SetAuthorizationOutcome> {
        let body = habilitations::write_set_authorization(&action);
        self.call(
            who.into(),
            Call::soap(
                "TD0.3 setAuthorization",
                Service::Habilitations,
                envelope::ACTION_SET_AUTHORIZATION,
                body,
                patient,
            ),
            |r| habilitations::read_set_authorization(&r.reply.payload),
        )
        .await
    }

    /// `listAuthorizationByPatient`: who is authorised on the patient's DMP.
    pub async fn list_authorizations<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
    ) -> Result<Vec<AuthorizationEntry>> {
        let body = habilitations::write_list_authorizations();
        self.call(
            who.into(),
            Call::soap(
                "listAuthorizationByPatient",
                Service::Habilitations,
                envelope::ACTION_LIST_AUTHORIZATIONS,
                body,
                patient,
            ),
            |r| habilitations::read_list_authorizations(&r.reply.payload),
        )
        .await
    }

    // ---- ITI-41 --------------------------------------------------------------------------

    /// Sends a document (TD2.1/2.2, ITI-41 with MTOM): TD0.2 first — [`DmpError::NotSent`]
    /// without any ITI-41 when there is no DMP, it is closed, the patient opposed feeding
    /// (DMP/CONF.09), or the DMP's traits differ from ours and `who` carries no
    /// [`TraitsAcknowledgement`] of exactly that mismatch ([`Acting::confirming`],
    /// DMP/CONF.01); a replacement finds the earlier version's entryUUID with GetDocuments
    /// (RPLC). The submission set is signed (XAdES, `dmp.md` §6).
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
                        .already_registered(who, patient, &unique_id, document)
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
                    .already_registered(who, patient, &unique_id, document)
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
    /// `document` (same size and SHA-1 hash, ITI TF-3 §4.2.3.2.4), None when the registry holds
    /// nothing current under it or something else. Errors of the query itself are returned.
    async fn already_registered(
        &self,
        who: Acting<'_>,
        patient: &QualifiedIdentity,
        unique_id: &str,
        document: &DmpDocument,
    ) -> Result<Option<DocumentEntry>> {
        let entries = self
            .get_documents(who, patient, &[unique_id.to_owned()])
            .await?;
        let size = document.bytes.len() as u64;
        let hash = sha1_hex(&document.bytes);
        Ok(entries.into_iter().find(|e| {
            e.unique_id == unique_id
                && (e.status.is_none() || e.is_approved())
                && e.size == Some(size)
                && e.hash
                    .as_deref()
                    .is_some_and(|h| h.trim().eq_ignore_ascii_case(&hash))
        }))
    }

    // ---- ITI-18 --------------------------------------------------------------------------

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

    // ---- ITI-57 --------------------------------------------------------------------------

    /// TD3.3a: masks the document to professionals (`MASQUE_PS`).
    pub async fn mask<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_id: &str,
    ) -> Result<xds::Outcome> {
        self.change_confidentiality(who.into(), patient, unique_id, |c| {
            c.masking = Masking::MaskedToProfessionals
        })
        .await
    }

    /// TD3.3a: unmasks the document.
    pub async fn unmask<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_id: &str,
    ) -> Result<xds::Outcome> {
        self.change_confidentiality(who.into(), patient, unique_id, |c| {
            c.masking = Masking::NotMasked
        })
        .await
    }

    /// TD3.3b: visibility to the patient only (`INVISIBLE_PATIENT` set or cleared); the other
    /// confidentiality codes in force in the registry (`MASQUE_PS`,
    /// `INVISIBLE_REPRESENTANTS_LEGAUX`) are kept.
    pub async fn set_patient_visibility<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_id: &str,
        visible: bool,
    ) -> Result<xds::Outcome> {
        self.change_confidentiality(who.into(), patient, unique_id, |c| {
            c.visibility.patient = visible
        })
        .await
    }

    /// TD3.3b: visibility to the patient and legal representatives (both set as given).
    pub async fn set_visibility<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_id: &str,
        visibility: Visibility,
    ) -> Result<xds::Outcome> {
        self.change_confidentiality(who.into(), patient, unique_id, |c| {
            c.visibility = visibility
        })
        .await
    }

    /// TD3.3c: deletes the document (status `urn:asip:ci-sis:2010:StatusType:Deleted`).
    pub async fn delete<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_id: &str,
    ) -> Result<xds::Outcome> {
        self.change_status(who.into(), patient, unique_id, StatusChange::Delete)
            .await
    }

    /// TD3.3d: archives the document (status `urn:asip:ci-sis:2010:StatusType:Archived`).
    pub async fn archive<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_id: &str,
    ) -> Result<xds::Outcome> {
        self.change_status(who.into(), patient, unique_id, StatusChange::Archive)
            .await
    }

    // ---- internals -----------------------------------------------------------------------

    fn submission_set(
        &self,
        user: &DmpUser,
        patient_cx: &str,
        content_type: Code,
    ) -> SubmissionSet {
        let s = &self.inner.id.structure;
        let author = Author {
            person: Some(user.xcn()),
            institutions: vec![format!(
                "{}^^^^^&{OID_IDNAT_STRUCTURE}&ISO^IDNST^^^{}",
                s.name, s.id_nat
            )],
            roles: Vec::new(),
            specialties: vec![user.author_specialty()],
            telecommunications: Vec::new(),
        };
        SubmissionSet::new(&self.inner.id.source_id, patient_cx, content_type, author)
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
    async fn current_entry(
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

    async fn change_confidentiality(
        &self,
        who: Acting<'_>,
        patient: &QualifiedIdentity,
        unique_id: &str,
        change: impl FnOnce(&mut DmpConfidentiality),
    ) -> Result<xds::Outcome> {
        let current = self.current_entry(who, patient, unique_id).await?;
        let mut conf = current.dmp_confidentiality();
        change(&mut conf);
        let ss = self.submission_set(who.user, &current.patient_id, default_content_type());
        let update = UpdateDocumentSet::confidentiality(ss, &current, conf)?;
        self.update(who, patient, update).await
    }

    async fn change_status(
        &self,
        who: Acting<'_>,
        patient: &QualifiedIdentity,
        unique_id: &str,
        change: StatusChange,
    ) -> Result<xds::Outcome> {
        let entries = self
            .get_documents(who, patient, &[unique_id.to_owned()])
            .await?;
        let original = change.original();
        let current = entries
            .into_iter()
            .filter(|e| e.unique_id == unique_id)
            .find(|e| e.status.as_ref().is_none_or(|s| *s == original))
            .ok_or_else(|| DmpError::DocumentNotFound {
                unique_id: unique_id.to_owned(),
            })?;
        let ss = self.submission_set(who.user, &current.patient_id, default_content_type());
        let update = UpdateDocumentSet::status(ss, &current.entry_uuid, change);
        self.update(who, patient, update).await
    }

    async fn update(
        &self,
        who: Acting<'_>,
        patient: &QualifiedIdentity,
        update: UpdateDocumentSet,
    ) -> Result<xds::Outcome> {
        let body = update.to_xml()?;
        self.call(
            who,
            Call::soap(
                "ITI-57",
                Service::Registry,
                envelope::ACTION_ITI57,
                body,
                patient,
            ),
            |r| registry_outcome(&RegistryResponse::read(&r.reply.payload)?),
        )
        .await
    }

    /// Builds and signs the VIHF of one request (`dmp.md` §4): a fresh assertion whose
    /// `resource-id` is the patient.
    fn vihf(&self, who: Acting<'_>, patient: &QualifiedIdentity) -> Result<String> {
        let id = &self.inner.id;
        let u = who.user;
        let mut b = vihf::Vihf::builder()
            .ps_id(u.ps_id.clone())
            .subject_name(&format!("{} {}", u.nom, u.prenom))
            .role(u.role)
            .structure(&id.structure.id_nat)
            .secteur_activite(id.secteur.clone())
            .purpose(who.purpose)
            .patient(patient, id.ins_mode)
            .lps(id.lps.clone())
            .authentification_mode(u.auth_mode);
        if let Some(s) = u.specialty {
            b = b.specialty(s);
        }
        Ok(b.build()?.sign(self.inner.signer.as_ref())?.into_xml())
    }

    /// Sends one request and parses its reply with `parse`; traces the exchange whatever
    /// happens once a request exists.
    async fn call<T>(
        &self,
        who: Acting<'_>,
        call: Call<'_>,
        parse: impl FnOnce(Received) -> Result<T>,
    ) -> Result<T> {
        let message_id = Uuid::new_v4();
        let url = call.service.url(&self.inner.id.endpoint);
        let vihf = self.vihf(who, call.patient)?;
        let env = envelope::write_request(
            &RequestHeader {
                message_id,
                to: &url,
                action: call.action,
                vihf: &vihf,
            },
            &call.body,
        )?;
        drop(vihf);
        let (content_type, request) = if call.mtom {
            let (ct, body) = mtom::build(env.as_bytes(), call.action, &call.attachments);
            (ct, Bytes::from(body))
        } else {
            (envelope::content_type(call.action), Bytes::from(env))
        };
        let started_at = Utc::now();
        let t0 = Instant::now();
        let (endpoint, sent): (String, Result<(u16, Option<String>, Bytes)>) =
            match &self.inner.transport {
                Transport::Replay(r) => {
                    let reply = r.respond(&ReplayRequest {
                        service: call.service,
                        action: call.action,
                        content_type: &content_type,
                        body: &request,
                    });
                    (
                        "replay".to_owned(),
                        Ok((reply.status, Some(reply.content_type), reply.body)),
                    )
                }
                Transport::Https(client) => (
                    url.clone(),
                    client
                        .post(&url, &content_type, &[], request.clone())
                        .await
                        .map(|r| (r.status, r.content_type, r.body))
                        .map_err(DmpError::from),
                ),
            };
        let (http_status, response, result) = match sent {
            Ok((status, ct, body)) => {
                let parsed = self
                    .read(status, ct.as_deref(), &body, &url)
                    .and_then(parse);
                (Some(status), Some(body), parsed)
            }
            Err(e) => (None, None, Err(e)),
        };
        self.trace.record(&Exchange {
            service: "dmp",
            operation: call.operation.to_owned(),
            message_id: format!("uuid:{message_id}"),
            endpoint,
            started_at,
            duration: t0.elapsed(),
            request,
            response,
            http_status,
            outcome: trace_outcome(&result),
        });
        result
    }

    /// Reads an HTTP reply: MTOM or plain SOAP; SOAP faults (HTTP 400/500) become errors.
    fn read(
        &self,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
        url: &str,
    ) -> Result<Received> {
        let ok_status = matches!(status, 200 | 202);
        if !ok_status && !matches!(status, 400 | 500) {
            return Err(DmpError::Net(NetError::HttpStatus {
                endpoint: url.to_owned(),
                status,
            }));
        }
        let ct = content_type.unwrap_or("application/soap+xml");
        let parsed = mtom::parse(ct, body, &self.inner.mtom_limits).and_then(|message| {
            let reply = envelope::read_reply(&message.root.body, &self.inner.xml_limits)?;
            Ok(Received { reply, message })
        });
        match parsed {
            // A fault is the answer, whatever the status.
            Err(e @ (DmpError::Refused { .. } | DmpError::Fault { .. })) => Err(e),
            Err(_) if !ok_status => Err(DmpError::Net(NetError::HttpStatus {
                endpoint: url.to_owned(),
                status,
            })),
            other => other,
        }
    }
}

impl<'a> Call<'a> {
    fn soap(
        operation: &'static str,
        service: Service,
        action: &'static str,
        body: String,
        patient: &'a QualifiedIdentity,
    ) -> Self {
        Self {
            operation,
            service,
            action,
            body,
            attachments: Vec::new(),
            mtom: false,
            patient,
        }
    }
}

/// A registry response's outcome; a failure carrying a DMP refusal code (`docs/dmp-wire.md`)
/// becomes [`DmpError::Refused`] (the registry's `codeContext` may quote submitted values, so
/// the reason given is the code's description), any other failure [`DmpError::Registry`].
pub fn registry_outcome(response: &RegistryResponse) -> Result<xds::Outcome> {
    match response.outcome() {
        Err(DmpError::Registry(errors)) => {
            let refusal = errors
                .0
                .iter()
                .filter(|e| e.severity == xds::Severity::Error)
                .find_map(|e| RefusalCode::from_code(e.code.as_str()));
            Err(match refusal {
                Some(code) => DmpError::Refused {
                    code,
                    reason: code.description().to_owned(),
                },
                None => DmpError::Registry(errors),
            })
        }
        other => other,
    }
}

/// Lower-case hex SHA-1, the XDS `hash` (ITI TF-3 §4.2.3.2.4).
fn sha1_hex(bytes: &[u8]) -> String {
    sha1::Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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

/// The trace outcome of a call (codes only, no patient data).
fn trace_outcome<T>(result: &Result<T>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(DmpError::Refused { code, .. }) => Outcome::Fault(code.code().to_owned()),
        Err(DmpError::Fault { code, subcodes, .. }) => {
            Outcome::Fault(subcodes.first().unwrap_or(code).clone())
        }
        Err(DmpError::Registry(errors)) => Outcome::Fault(errors.to_string()),
        Err(DmpError::Rejected { status, .. }) => Outcome::Fault(status.clone()),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patients::FeedBlocked;
    use crate::settings::{DmpSettings, LpsDmpSettings, StructureSettings};
    use crate::xds::{
        AvailabilityStatus, ErrorCode, QueryResponse, RegistryError, RegistryObjects,
        RetrievedDocument,
    };
    use segur_net::soap::{self, SOAP12_NS, WSA_NS, WSSE_NS};
    use segur_net::trace::MemoryTraceSink;
    use std::sync::{Mutex, OnceLock};

    /// The sandbox PKI's RSA "cachet" signer (generated once).
    fn signer() -> Arc<dyn Signer> {
        static S: OnceLock<Arc<segur_net::dsig::Pkcs12Signer>> = OnceLock::new();
        S.get_or_init(|| {
            let pki = segur_sandbox::pki::TestPki::generate().unwrap();
            let id = pki.client_identity(&pki.signing).unwrap();
            Arc::new(segur_net::dsig::Pkcs12Signer::from_identity(&id).unwrap())
        })
        .clone()
    }

    fn settings() -> DmpSettings {
        DmpSettings {
            endpoint: "https://127.0.0.1:9/si-dmp-server/v2/services/".into(),
            trust_anchors: "a.pem".into(),
            pkcs12: "a.p12".into(),
            pkcs12_password: Some("x".into()),
            pkcs12_password_env: None,
            signing_pkcs12: "s.p12".into(),
            signing_pkcs12_password: Some("x".into()),
            signing_pkcs12_password_env: None,
            sender_oid: "1.2.250.1.999.1".into(),
            source_id: "1.2.250.1.999.1.2".into(),
            structure: StructureSettings {
                id_nat: "3499999999".into(),
                name: "Cabinet".into(),
                secteur_activite: "SA07".into(),
            },
            lps: LpsDmpSettings {
                name: "segur".into(),
                version: "0.1.0".into(),
                homologation: "H".into(),
                id: None,
            },
            timeout_secs: None,
            connect_timeout_secs: None,
            max_document_bytes: None,
            test_ins: true,
        }
    }

    fn user() -> DmpUser {
        DmpUser {
            ps_id: vihf::PsId::rpps("01234567897").unwrap(),
            nom: "MEDIONI".into(),
            prenom: "Stéphane".into(),
            role: vihf::Role::profession("10").unwrap(),
            specialty: Some(vihf::Role::savoir_faire("SM26").unwrap()),
            auth_mode: vihf::AuthentificationMode::Indirecte,
        }
    }

    fn patient() -> QualifiedIdentity {
        segur_cda::examples::qualified_patient()
    }

    type Answer = Box<dyn Fn(&str, &[u8]) -> ReplayReply + Send + Sync>;

    /// Records every request and answers with `answer(action, body)`.
    struct Canned {
        seen: Mutex<Vec<(Service, String, Bytes)>>,
        answer: Answer,
    }

    impl Responder for Canned {
        fn respond(&self, r: &ReplayRequest<'_>) -> ReplayReply {
            if let Ok(mut seen) = self.seen.lock() {
                seen.push((r.service, r.action.to_owned(), r.body.clone()));
            }
            (self.answer)(r.action, r.body)
        }
    }

    impl Canned {
        fn actions(&self) -> Vec<String> {
            self.seen
                .lock()
                .unwrap()
                .iter()
                .map(|(_, a, _)| a.clone())
                .collect()
        }
    }

    fn client(
        answer: impl Fn(&str, &[u8]) -> ReplayReply + Send + Sync + 'static,
    ) -> (DmpClient, Arc<Canned>, Arc<MemoryTraceSink>) {
        let canned = Arc::new(Canned {
            seen: Mutex::new(Vec::new()),
            answer: Box::new(answer),
        });
        let trace = Arc::new(MemoryTraceSink::new());
        let c = DmpClient::builder(settings())
            .signer(signer())
            .replay(canned.clone())
            .trace(trace.clone())
            .build()
            .unwrap();
        (c, canned, trace)
    }

    fn soap_reply(status: u16, body: &str) -> ReplayReply {
        let mut s = String::new();
        soap::write_envelope(&mut s, &[], "", body);
        ReplayReply {
            status,
            content_type: "application/soap+xml; charset=utf-8".into(),
            body: Bytes::from(s),
        }
    }

    /// A TD0.2 answer echoing the request's queryId.
    fn td02(request: &[u8], dmp: Option<(&str, &str)>) -> ReplayReply {
        let env = soap::parse_envelope(request, &XmlLimits::default()).unwrap();
        let soap::Content::Payload(p) = env.content().unwrap() else {
            panic!("fault in request")
        };
        let qid = p
            .child(patients::HL7_NS, "controlActProcess")
            .and_then(|c| c.child(patients::HL7_NS, "queryByParameter"))
            .and_then(|q| q.child(patients::HL7_NS, "queryId"))
            .and_then(|q| q.attr("extension"))
            .unwrap()
            .to_owned();
        let (code, subject) = match dmp {
            None => ("NF", String::new()),
            Some((status, etat)) => (
                "OK",
                format!(
                    r#"<subject><registrationEvent><statusCode code="{status}"/>
                    <subject1><patient><id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>
                    <patientPerson><name><given>DOMINIQUE</given><family qualifier="BR">PAT-TROIS</family></name>
                    <administrativeGenderCode code="F"/><birthTime value="19790328"/></patientPerson></patient></subject1>
                    <e:etatAcces xmlns:e="urn:si-dmp:td02" {etat}/></registrationEvent></subject>"#
                ),
            ),
        };
        soap_reply(
            200,
            &format!(
                r#"<PRPA_IN201308UV02 xmlns="urn:hl7-org:v3"><acknowledgement><typeCode code="AA"/></acknowledgement>
                <controlActProcess>{subject}<queryAck><queryId extension="{qid}"/><queryResponseCode code="{code}"/></queryAck></controlActProcess></PRPA_IN201308UV02>"#
            ),
        )
    }

    const OPEN: &str = r#"autorisation="AUTORISE" oppositionAlimentation="false""#;

    fn vsm() -> Bytes {
        Bytes::from(
            segur_cda::examples::manual_vsm(segur_cda::VsmVersion::default())
                .to_xml()
                .unwrap(),
        )
    }

    fn entry(unique_id: &str, content: &[u8], status: AvailabilityStatus) -> DocumentEntry {
        let meta = segur_cda::metadata(&vsm()).unwrap();
        let mut e = DocumentEntry::from_metadata(
            &meta,
            "urn:uuid:0b0f3f5c-7a84-4f7e-9a53-3c1b3e0e0001",
            DmpConfidentiality::VISIBLE,
            Vec::new(),
        )
        .unwrap();
        e.unique_id = unique_id.into();
        e.status = Some(status);
        e.repository_unique_id = Some("1.2.250.1.213.4.1.1.1".into());
        e.size = Some(content.len() as u64);
        e.hash = Some(
            sha1::Sha1::digest(content)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        );
        e
    }

    fn query_reply(entries: Vec<DocumentEntry>) -> ReplayReply {
        let q = QueryResponse {
            response: RegistryResponse::success(),
            objects: RegistryObjects {
                documents: entries,
                ..Default::default()
            },
            total_result_count: None,
        };
        soap_reply(200, &q.to_xml(ReturnType::LeafClass).unwrap())
    }

    #[tokio::test]
    async fn requests_carry_addressing_and_a_signed_vihf_for_the_patient() {
        let (c, canned, trace) = client(|_, body| td02(body, Some(("active", OPEN))));
        let st = c.status(&user(), &patient()).await.unwrap();
        assert!(st.can_consult());
        let seen = canned.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        let (service, action, body) = &seen[0];
        assert_eq!(
            (*service, action.as_str()),
            (Service::Patients, envelope::ACTION_TD02)
        );
        let env = soap::parse_envelope(body, &XmlLimits::default()).unwrap();
        let h = env.header.as_ref().unwrap();
        assert_eq!(
            h.child_text(WSA_NS, "To").unwrap(),
            "https://127.0.0.1:9/si-dmp-server/v2/services/patients"
        );
        assert!(h
            .child_text(WSA_NS, "MessageID")
            .unwrap()
            .starts_with("urn:uuid:"));
        let assertion = h
            .child(WSSE_NS, "Security")
            .and_then(|s| s.child(vihf::SAML_NS, "Assertion"))
            .unwrap();
        let id = assertion.attr("ID").unwrap();
        // The signature verifies inside the whole envelope: the assertion was not altered.
        let verified = segur_net::dsig::verify_enveloped(body, id).unwrap();
        assert_eq!(verified.element_id, id);
        let text = String::from_utf8_lossy(body);
        assert!(text.contains("279035121518989^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH"));
        assert!(text.contains(">normal<") || text.contains("code=\"normal\""));
        let ex = trace.exchanges();
        assert_eq!(ex.len(), 1);
        assert_eq!(ex[0].operation, "TD0.2");
        assert_eq!(ex[0].outcome, Outcome::Ok);
        assert_eq!(ex[0].request, *body);
        assert!(ex[0].response.is_some());
        let _ = SOAP12_NS;
    }

    #[tokio::test]
    async fn bris_de_glace_is_carried_in_the_vihf() {
        let (c, canned, _) = client(|_, body| td02(body, Some(("active", OPEN))));
        let u = user();
        c.status(u.acting(vihf::PurposeOfUse::BrisDeGlace), &patient())
            .await
            .unwrap();
        let seen = canned.seen.lock().unwrap().clone();
        assert!(String::from_utf8_lossy(&seen[0].2).contains("bris_de_glace"));
    }

    #[tokio::test]
    async fn send_is_refused_locally_without_any_iti41() {
        for (dmp, blocked) in [
            (None, FeedBlocked::NoDmp),
            (Some(("terminated", OPEN)), FeedBlocked::Closed),
            (
                Some((
                    "active",
                    r#"autorisation="AUTORISE" oppositionAlimentation="true""#,
                )),
                FeedBlocked::FeedingOpposed,
            ),
        ] {
            let (c, canned, trace) = client(move |_, body| td02(body, dmp));
            let r = c.send(&user(), &patient(), &DmpDocument::new(vsm())).await;
            match r {
                Err(DmpError::NotSent(b)) => assert_eq!(b, blocked),
                other => panic!("{other:?}"),
            }
            assert_eq!(canned.actions(), vec![envelope::ACTION_TD02.to_owned()]);
            assert_eq!(trace.exchanges().len(), 1);
        }
    }

    #[tokio::test]
    async fn a_traits_mismatch_stops_feeding_until_exactly_it_is_confirmed() {
        use crate::patients::{TraitField, TraitsMismatch};
        use std::sync::atomic::{AtomicUsize, Ordering};
        // 0: the DMP's first name differs; 1: the sex differs too; 2: traits match.
        let variant = Arc::new(AtomicUsize::new(0));
        let v = variant.clone();
        let (c, canned, _) = client(move |action, body| match action {
            envelope::ACTION_TD02 => {
                let r = td02(body, Some(("active", OPEN)));
                let xml = String::from_utf8(r.body.to_vec()).unwrap();
                let xml = match v.load(Ordering::SeqCst) {
                    0 => xml.replace("<given>DOMINIQUE<", "<given>RUTH<"),
                    1 => xml
                        .replace("<given>DOMINIQUE<", "<given>RUTH<")
                        .replace("code=\"F\"", "code=\"M\""),
                    _ => xml,
                };
                ReplayReply {
                    body: Bytes::from(xml),
                    ..r
                }
            }
            envelope::ACTION_ITI41 => soap_reply(200, &RegistryResponse::success().to_xml()),
            _ => soap_reply(500, "<x/>"),
        });
        let (u, p) = (user(), patient());
        let doc = DmpDocument::new(vsm());
        let mismatch = match c.send(&u, &p, &doc).await {
            Err(DmpError::NotSent(FeedBlocked::TraitsMismatch(m))) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(mismatch.fields, vec![TraitField::Prenoms]);
        assert!(matches!(
            c.feed_permit(&u, &p).await,
            Err(DmpError::NotSent(FeedBlocked::TraitsMismatch(_)))
        ));
        assert!(!canned
            .actions()
            .contains(&envelope::ACTION_ITI41.to_owned()));
        // Confirmed: sent.
        let ack = TraitsAcknowledgement::new(&p, &mismatch, u.ps_id.as_str(), Utc::now());
        let who = Acting::from(&u).confirming(&ack);
        let r = c.send(who, &p, &doc).await.unwrap();
        assert_eq!(r.status.traits_mismatch(), Some(&mismatch));
        let permit = c.feed_permit(who, &p).await.unwrap();
        c.send_with_permit(&u, &p, &doc, &permit).await.unwrap();
        // Another mismatch later: the old confirmation does not cover it.
        variant.store(1, Ordering::SeqCst);
        match c.send(who, &p, &doc).await {
            Err(DmpError::NotSent(FeedBlocked::TraitsMismatch(m))) => {
                assert_eq!(m.field_set(), vec![TraitField::Prenoms, TraitField::Sexe])
            }
            other => panic!("{other:?}"),
        }
        // An acknowledgement of another mismatch (fields) does not help either.
        let wrong = TraitsAcknowledgement::new(
            &p,
            &TraitsMismatch {
                fields: vec![TraitField::Sexe],
            },
            u.ps_id.as_str(),
            Utc::now(),
        );
        assert!(c
            .send(Acting::from(&u).confirming(&wrong), &p, &doc)
            .await
            .is_err());
        // No mismatch: no acknowledgement needed.
        variant.store(2, Ordering::SeqCst);
        c.send(&u, &p, &doc).await.unwrap();
        let sent = canned
            .actions()
            .iter()
            .filter(|a| *a == envelope::ACTION_ITI41)
            .count();
        assert_eq!(sent, 3);
    }

    #[tokio::test]
    async fn a_duplicate_unique_id_is_checked_against_the_registry() {
        let bytes = vsm();
        let doc = DmpDocument::new(bytes.clone());
        let meta = segur_cda::metadata(&bytes).unwrap();
        for (held, expect_ok) in [
            (bytes.clone(), true),
            (Bytes::from_static(b"<other/>"), false),
        ] {
            let e = entry(&meta.unique_id, &held, AvailabilityStatus::Approved);
            let uuid = e.entry_uuid.clone();
            let code = if expect_ok {
                ErrorCode::XdsDuplicateUniqueIdInRegistry
            } else {
                ErrorCode::XdsNonIdenticalHash
            };
            let (c, canned, _) = client(move |action, body| match action {
                envelope::ACTION_TD02 => td02(body, Some(("active", OPEN))),
                envelope::ACTION_ITI41 => soap_reply(
                    200,
                    &RegistryResponse::failure(vec![RegistryError {
                        code: code.clone(),
                        context: "uniqueId déjà enregistré.".into(),
                        location: None,
                        severity: xds::Severity::Error,
                    }])
                    .to_xml(),
                ),
                _ => query_reply(vec![e.clone()]),
            });
            let r = c.send(&user(), &patient(), &doc).await;
            if expect_ok {
                let r = r.unwrap();
                assert_eq!(r.already_registered.as_deref(), Some(uuid.as_str()));
                assert!(matches!(r.outcome, xds::Outcome::Success { .. }));
            } else {
                match r {
                    Err(DmpError::DuplicateDiffers { unique_id }) => {
                        assert_eq!(unique_id, meta.unique_id)
                    }
                    other => panic!("{other:?}"),
                }
            }
            assert_eq!(
                canned.actions(),
                vec![
                    envelope::ACTION_TD02.to_owned(),
                    envelope::ACTION_ITI41.to_owned(),
                    envelope::ACTION_ITI18.to_owned()
                ]
            );
        }
    }

    #[tokio::test]
    async fn a_feed_permit_sends_a_batch_with_one_td02_for_its_patient_and_user_only() {
        let (c, canned, trace) = client(|action, body| match action {
            envelope::ACTION_TD02 => td02(body, Some(("active", OPEN))),
            envelope::ACTION_ITI41 => soap_reply(200, &RegistryResponse::success().to_xml()),
            _ => soap_reply(500, "<x/>"),
        });
        let (u, p) = (user(), patient());
        let permit = c.feed_permit(&u, &p).await.unwrap();
        assert!(permit.status().exists());
        assert!(permit.age() < FeedPermit::MAX_AGE);
        let debug = format!("{permit:?}");
        assert!(!debug.contains("279035121518989") && !debug.contains("PAT-TROIS"));
        for _ in 0..3 {
            let r = c
                .send_with_permit(&u, &p, &DmpDocument::new(vsm()), &permit)
                .await
                .unwrap();
            assert_eq!(&r.status, permit.status());
        }
        let mut expected = vec![envelope::ACTION_TD02.to_owned()];
        expected.extend(std::iter::repeat_n(envelope::ACTION_ITI41.to_owned(), 3));
        assert_eq!(canned.actions(), expected);
        assert_eq!(trace.exchanges().len(), 4);
        // Another patient, another professional: refused before any request.
        let other = segur_cda::examples::qualified(
            "9",
            "1810163220751",
            "40",
            "ADRDEUX",
            "LAURENT",
            segur_ins_core::Sexe::M,
            "1981-01-01",
            "63220",
        );
        let r = c
            .send_with_permit(&u, &other, &DmpDocument::new(vsm()), &permit)
            .await;
        assert!(
            matches!(r, Err(DmpError::Invalid { field: "feed permit", ref detail }) if !detail.contains("1810163220751")),
            "{r:?}"
        );
        let mut colleague = user();
        colleague.ps_id = vihf::PsId::rpps("10000001239").unwrap();
        let r = c
            .send_with_permit(&colleague, &p, &DmpDocument::new(vsm()), &permit)
            .await;
        assert!(
            matches!(
                r,
                Err(DmpError::Invalid {
                    field: "feed permit",
                    ..
                })
            ),
            "{r:?}"
        );
        assert_eq!(canned.actions().len(), 4);
        // No permit where feeding is blocked.
        let (c, canned, _) = client(|_, body| td02(body, Some(("terminated", OPEN))));
        match c.feed_permit(&u, &p).await {
            Err(DmpError::NotSent(b)) => assert_eq!(b, FeedBlocked::Closed),
            other => panic!("{other:?}"),
        }
        assert_eq!(canned.actions(), vec![envelope::ACTION_TD02.to_owned()]);
    }

    #[tokio::test]
    async fn send_with_replacement_finds_the_entry_uuid_then_sends_mtom() {
        let old = entry("1.2.3.4.5", b"old", AvailabilityStatus::Approved);
        let old_uuid = old.entry_uuid.clone();
        let mut deprecated = entry("1.2.3.4.5", b"older", AvailabilityStatus::Deprecated);
        deprecated.entry_uuid = "urn:uuid:0b0f3f5c-7a84-4f7e-9a53-3c1b3e0e0002".into();
        let (c, canned, trace) = client(move |action, body| match action {
            envelope::ACTION_TD02 => td02(body, Some(("active", OPEN))),
            envelope::ACTION_ITI18 => query_reply(vec![deprecated.clone(), old.clone()]),
            envelope::ACTION_ITI41 => soap_reply(200, &RegistryResponse::success().to_xml()),
            _ => soap_reply(500, "<x/>"),
        });
        let doc = DmpDocument::new(vsm())
            .replacing("1.2.3.4.5")
            .masked_to_professionals();
        let receipt = c.send(&user(), &patient(), &doc).await.unwrap();
        assert_eq!(
            receipt.replaced_entry_uuid.as_deref(),
            Some(old_uuid.as_str())
        );
        assert!(matches!(receipt.outcome, xds::Outcome::Success { .. }));
        assert_eq!(
            canned.actions(),
            vec![
                envelope::ACTION_TD02.to_owned(),
                envelope::ACTION_ITI18.to_owned(),
                envelope::ACTION_ITI41.to_owned()
            ]
        );
        let seen = canned.seen.lock().unwrap().clone();
        let iti41 = String::from_utf8_lossy(&seen[2].2).into_owned();
        assert!(iti41.contains("application/xop+xml"), "MTOM root part");
        assert!(iti41.contains("urn:ihe:iti:2007:AssociationType:RPLC"));
        assert!(iti41.contains(&old_uuid));
        assert!(iti41.contains("MASQUE_PS"));
        assert!(iti41.contains("urn:ihe:iti:2007:AssociationType:signs"));
        let ops: Vec<String> = trace
            .exchanges()
            .iter()
            .map(|e| e.operation.clone())
            .collect();
        assert_eq!(ops, vec!["TD0.2", "ITI-18 GetDocuments", "ITI-41"]);
    }

    #[tokio::test]
    async fn replacing_an_unknown_document_sends_nothing() {
        let (c, canned, _) = client(|action, body| match action {
            envelope::ACTION_TD02 => td02(body, Some(("active", OPEN))),
            _ => query_reply(Vec::new()),
        });
        let doc = DmpDocument::new(vsm()).replacing("9.9.9");
        match c.send(&user(), &patient(), &doc).await {
            Err(DmpError::DocumentNotFound { unique_id }) => assert_eq!(unique_id, "9.9.9"),
            other => panic!("{other:?}"),
        }
        assert!(!canned
            .actions()
            .contains(&envelope::ACTION_ITI41.to_owned()));
    }

    #[tokio::test]
    async fn a_document_of_another_patient_is_refused_before_any_call() {
        let (c, canned, _) = client(|_, body| td02(body, Some(("active", OPEN))));
        let other = segur_cda::examples::qualified(
            "9",
            "1810163220751",
            "40",
            "ADRDEUX",
            "LAURENT",
            segur_ins_core::Sexe::M,
            "1981-01-01",
            "63220",
        );
        let r = c.send(&user(), &other, &DmpDocument::new(vsm())).await;
        assert!(
            matches!(
                r,
                Err(DmpError::Invalid {
                    field: "patientId",
                    ..
                })
            ),
            "{r:?}"
        );
        assert!(canned.actions().is_empty());
        let r = c
            .send(&user(), &patient(), &DmpDocument::new(&b"not xml"[..]))
            .await;
        assert!(matches!(r, Err(DmpError::Invalid { .. })));
    }

    #[tokio::test]
    async fn faults_registry_refusals_and_http_errors_are_typed_and_traced() {
        let (c, _, trace) = client(|action, _| match action {
            envelope::ACTION_TD02 => ReplayReply {
                status: 500,
                content_type: "application/soap+xml".into(),
                body: Bytes::from(soap::write_fault(
                    &[("d", "urn:si-dmp")],
                    "Sender",
                    Some("d:DMP_VIHF_INVALIDE"),
                    "VIHF invalide",
                    "",
                )),
            },
            envelope::ACTION_ITI18 => {
                let q = QueryResponse {
                    response: RegistryResponse::failure(vec![RegistryError {
                        code: ErrorCode::Other("DMP_ACCES_NON_AUTORISE".into()),
                        context: "Accès refusé".into(),
                        location: None,
                        severity: xds::Severity::Error,
                    }]),
                    objects: RegistryObjects::default(),
                    total_result_count: None,
                };
                soap_reply(200, &q.to_xml(ReturnType::LeafClass).unwrap())
            }
            _ => ReplayReply {
                status: 503,
                content_type: "text/html".into(),
                body: Bytes::from_static(b"<html>maintenance</html>"),
            },
        });
        let p = patient();
        match c.status(&user(), &p).await {
            Err(DmpError::Refused { code, .. }) => assert_eq!(code, RefusalCode::VihfInvalide),
            other => panic!("{other:?}"),
        }
        match c.find(&user(), &p, DmpClient::find_query(&p)).await {
            Err(DmpError::Refused { code, reason }) => {
                assert_eq!(code, RefusalCode::AccesNonAutorise);
                assert_eq!(reason, code.description());
            }
            other => panic!("{other:?}"),
        }
        match c.list_authorizations(&user(), &p).await {
            Err(DmpError::Net(NetError::HttpStatus { status: 503, .. })) => {}
            other => panic!("{other:?}"),
        }
        let ex = trace.exchanges();
        assert_eq!(ex.len(), 3);
        assert_eq!(ex[0].outcome, Outcome::Fault("DMP_VIHF_INVALIDE".into()));
        assert_eq!(
            ex[1].outcome,
            Outcome::Fault("DMP_ACCES_NON_AUTORISE".into())
        );
        assert!(matches!(ex[2].outcome, Outcome::Failed(_)));
        assert_eq!(ex[2].http_status, Some(503));
        for e in &ex {
            if let Outcome::Failed(m) | Outcome::Fault(m) = &e.outcome {
                assert!(!m.contains("279035121518989") && !m.contains("PAT-TROIS"));
            }
        }
    }

    #[tokio::test]
    async fn find_checks_the_patient_and_helpers_pick_entries() {
        let mut old_vsm = entry("1.1", b"a", AvailabilityStatus::Approved);
        old_vsm.creation_time = Some("20200101120000".into());
        let mut new_vsm = entry("1.2", b"b", AvailabilityStatus::Approved);
        new_vsm.creation_time = Some("20240312101700".into());
        let (c, canned, _) =
            client(move |_, _| query_reply(vec![old_vsm.clone(), new_vsm.clone()]));
        let p = patient();
        let latest = c.latest_vsm(&user(), &p).await.unwrap().unwrap();
        assert_eq!(latest.unique_id, "1.2");
        let since = DateTime::parse_from_rfc3339("2023-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let new = c.new_since(&user(), &p, since).await.unwrap();
        assert_eq!(new.len(), 1);
        let seen = canned.seen.lock().unwrap().clone();
        let q = String::from_utf8_lossy(&seen[0].2).into_owned();
        assert!(q.contains("$XDSDocumentEntryTypeCode") && q.contains("SYNTH"));
        let q = String::from_utf8_lossy(&seen[1].2).into_owned();
        assert!(q.contains("$XDSDocumentEntryCreationTimeFrom"));
        let mut other = DmpClient::find_query(&p);
        other.patient_id = "1^^^&1.2&ISO^NH".into();
        assert!(matches!(
            c.find(&user(), &p, other).await,
            Err(DmpError::Invalid { .. })
        ));
        let mut empty = DmpClient::find_query(&p);
        empty.patient_id.clear();
        assert_eq!(c.find(&user(), &p, empty).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn retrieve_checks_size_and_hash() {
        let content = Bytes::from_static(b"<ClinicalDocument/>");
        let e = entry("1.2.3", &content, AvailabilityStatus::Approved);
        for (served, ok) in [
            (content.clone(), true),
            (Bytes::from_static(b"<Other/>"), false),
        ] {
            let e2 = e.clone();
            let (c, _, _) = client(move |action, _| match action {
                envelope::ACTION_ITI18 => query_reply(vec![e2.clone()]),
                _ => {
                    let r = RetrieveResponse {
                        response: RegistryResponse::success(),
                        documents: vec![RetrievedDocument {
                            home_community_id: None,
                            repository_unique_id: "1.2.250.1.213.4.1.1.1".into(),
                            document_unique_id: "1.2.3".into(),
                            mime_type: "text/xml".into(),
                            content: served.clone(),
                        }],
                    };
                    let (body, atts) = r.to_xml(true);
                    let mut env = String::new();
                    soap::write_envelope(&mut env, &[], "", &body);
                    let (ct, b) = mtom::build(
                        env.as_bytes(),
                        "urn:ihe:iti:2007:RetrieveDocumentSetResponse",
                        &atts,
                    );
                    ReplayReply {
                        status: 200,
                        content_type: ct,
                        body: Bytes::from(b),
                    }
                }
            });
            let r = c.retrieve(&user(), &patient(), "1.2.3").await;
            if ok {
                let r = r.unwrap();
                assert_eq!(r.content, content);
                assert_eq!(r.entry.unique_id, "1.2.3");
            } else {
                assert!(matches!(r, Err(DmpError::Malformed(_))), "{r:?}");
            }
        }
    }

    #[tokio::test]
    async fn updates_target_the_current_version() {
        let current = entry("1.2.3", b"x", AvailabilityStatus::Approved);
        let uuid = current.entry_uuid.clone();
        let (c, canned, _) = client(move |action, _| match action {
            envelope::ACTION_ITI18 => query_reply(vec![current.clone()]),
            _ => soap_reply(200, &RegistryResponse::success().to_xml()),
        });
        let p = patient();
        c.mask(&user(), &p, "1.2.3").await.unwrap();
        c.delete(&user(), &p, "1.2.3").await.unwrap();
        let seen = canned.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 4);
        let mask = String::from_utf8_lossy(&seen[1].2).into_owned();
        assert_eq!(seen[1].1, envelope::ACTION_ITI57);
        assert!(mask.contains("MASQUE_PS") && mask.contains("PreviousVersion"));
        let del = String::from_utf8_lossy(&seen[3].2).into_owned();
        assert!(del.contains("urn:asip:ci-sis:2010:StatusType:Deleted"));
        assert!(del.contains(&uuid));
        // No current version: nothing is sent.
        let (c, canned, _) = client(|_, _| query_reply(Vec::new()));
        assert!(matches!(
            c.archive(&user(), &p, "1.2.3").await,
            Err(DmpError::DocumentNotFound { .. })
        ));
        assert_eq!(canned.actions(), vec![envelope::ACTION_ITI18.to_owned()]);
    }

    #[test]
    fn builder_refusals() {
        assert!(matches!(
            DmpClient::builder(settings()).build(),
            Err(DmpError::Config(_))
        ));
        assert!(matches!(
            DmpClient::builder(settings()).signer(signer()).build(),
            Err(DmpError::Config(_))
        ));
        let mut s = settings();
        s.sender_oid = "x".into();
        assert!(DmpClient::builder(s).signer(signer()).build().is_err());
        fn is_send_sync<T: Send + Sync + Clone>() {}
        is_send_sync::<DmpClient>();
    }

    #[tokio::test]
    async fn futures_can_be_spawned() {
        fn is_send<T: Send>(_: &T) {}
        let (c, _, _) = client(|_, body| td02(body, None));
        let (u, p) = (user(), patient());
        let f = c.status(&u, &p);
        is_send(&f);
        let doc = DmpDocument::new(vsm());
        let g = c.send(&u, &p, &doc);
        is_send(&g);
        let h = c.retrieve(&u, &p, "1.2");
        is_send(&h);
        // And a clone works from another task.
        let c2 = c.clone();
        let st =
            tokio::spawn(async move { c2.status(&user(), &patient()).await.map(|s| s.exists()) })
                .await
                .unwrap()
                .unwrap();
        assert!(!st);
        drop((f, g, h));
    }
}
