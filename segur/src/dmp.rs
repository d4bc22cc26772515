//! The DMP through the facade: the patient is a *local* identity record of the journal (only a
//! qualified one reaches the DMP, RNIV rule 28), the acting professional a [`Practitioner`], and
//! every call is journaled — request, response, duration and outcome, failures included — in the
//! same transaction as its effect on the DMP outbox (`journal` `dmp_documents`), which feeds the
//! manual's "Tableau de bord des échanges MSSanté et DMP".
//!
//! A document given to [`Segur::dmp_send`] is stored in the outbox *before* the network call, so a
//! crash or a failure never loses it; [`Segur::dmp_retry`] sends it again.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use segur_cda::{Code, DocumentType};
use segur_dmp::client::{DmpClient, DmpDocument, DmpUser};
use segur_dmp::habilitations::{AuthorizationAction, ConsentMode, PatientConsent};
use segur_dmp::patients::{
    DmpStatus, FeedBlocked, TraitField, TraitsAcknowledgement, TraitsMismatch,
};
use segur_dmp::vihf::{AuthentificationMode, PsId, PurposeOfUse, Role};
use segur_dmp::xds::{
    AvailabilityStatus, DmpConfidentiality, DocumentEntry, Masking, Outcome as XdsOutcome,
    Visibility,
};
use segur_dmp::DmpError;
use segur_ins_core::QualifiedIdentity;
use segur_net::trace::{Exchange, MemoryTraceSink, Outcome, TraceSink};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SegurError};
use crate::journal::{
    DmpDocumentQuery, DmpDocumentRow, DmpDocumentStatus, DmpDocumentUpdate, NewDmpDocument,
    NewExchange,
};
use crate::views::Practitioner;
use crate::Segur;

// ---- views ----------------------------------------------------------------------------------

/// TD0.2: the patient's DMP as the DMP sees it, and what we may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DmpStatusView {
    /// A DMP exists for the INS.
    pub exists: bool,
    /// It is closed.
    pub closed: bool,
    /// Our access: `AUTORISE`, `NON_AUTORISE`, `INTERDIT` (the patient opposed), `EXPIRE`;
    /// None without a DMP.
    pub authorization: Option<String>,
    /// The patient opposed feeding by this professional (DMP/CONF.09).
    pub feeding_opposed: bool,
    /// We are the patient's médecin traitant DMP.
    pub medecin_traitant: bool,
    /// A document may be sent.
    pub can_feed: bool,
    /// Why not, when it may not (`no_dmp`, `closed`, `feeding_opposed`, `traits_mismatch`).
    pub feed_blocked: Option<String>,
    /// Documents may be consulted with purpose `normal`.
    pub can_consult: bool,
    /// The fields whose value differs between the DMP and our identity (DMP/CONF.01: shown to the
    /// user; the values themselves are not repeated here). Feeding stops until the user confirms
    /// them ([`Segur::dmp_confirm_traits`]).
    pub traits_mismatch: Vec<String>,
    /// The mismatch above was confirmed by a user (DMP/CONF.01): feeding goes on.
    #[serde(default)]
    pub traits_confirmed: bool,
}

impl From<&DmpStatus> for DmpStatusView {
    /// The view without any confirmation of a traits mismatch.
    fn from(s: &DmpStatus) -> Self {
        Self::with_blocked(s, s.check_feed().err(), false)
    }
}

impl DmpStatusView {
    /// The view given the stored confirmation of a traits mismatch, if any (DMP/CONF.01).
    fn acknowledged(
        s: &DmpStatus,
        patient: &QualifiedIdentity,
        ack: Option<&TraitsAcknowledgement>,
    ) -> Self {
        let confirmed = s
            .traits_mismatch()
            .zip(ack)
            .is_some_and(|(m, a)| a.covers(patient, m));
        Self::with_blocked(s, s.check_feed_acknowledged(patient, ack).err(), confirmed)
    }

    fn with_blocked(s: &DmpStatus, blocked: Option<FeedBlocked>, confirmed: bool) -> Self {
        let blocked = blocked.map(|b| b.code().to_owned());
        match s {
            DmpStatus::NoDmp => Self {
                exists: false,
                closed: false,
                authorization: None,
                feeding_opposed: false,
                medecin_traitant: false,
                can_feed: false,
                feed_blocked: blocked,
                can_consult: false,
                traits_mismatch: Vec::new(),
                traits_confirmed: false,
            },
            DmpStatus::Exists {
                closed,
                authorization,
                feeding_opposed,
                medecin_traitant,
                traits_mismatch,
                ..
            } => Self {
                exists: true,
                closed: *closed,
                authorization: Some(authorization.code().to_owned()),
                feeding_opposed: *feeding_opposed,
                medecin_traitant: *medecin_traitant,
                can_feed: blocked.is_none(),
                feed_blocked: blocked,
                can_consult: s.can_consult(),
                traits_mismatch: traits_mismatch
                    .iter()
                    .flat_map(|m| m.fields.iter().map(|f| f.name().to_owned()))
                    .collect(),
                traits_confirmed: confirmed,
            },
        }
    }
}

/// The patient's consent to our authorization on their DMP (TD0.3 AJOUT; the manual: "l'accord
/// explicite du patient est nécessaire").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DmpConsent {
    /// How it was given: `oral`, `ecrit`, `representant_legal`.
    pub mode: String,
    /// When it was collected (default: now). Never in the future.
    #[serde(default)]
    pub collected_at: Option<DateTime<Utc>>,
}

/// An authorization on the patient's DMP (`listAuthorizationByPatient`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DmpAuthorizationView {
    /// The professional's national id.
    pub id_nat: String,
    /// Name.
    pub nom: Option<String>,
    /// First name.
    pub prenom: Option<String>,
    /// `AUTORISE`, `NON_AUTORISE`, `INTERDIT`, `EXPIRE`.
    pub status: String,
    /// Start (DMP local time, ISO 8601).
    pub from: Option<String>,
    /// End.
    pub to: Option<String>,
}

/// Options of [`Segur::dmp_send`] (`dmp.md` §5.4: confidentiality codes after N/R/V).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DmpSendOptions {
    /// Masked to other professionals (`MASQUE_PS`).
    #[serde(default)]
    pub mask_ps: bool,
    /// Invisible to the patient (`INVISIBLE_PATIENT`), e.g. until an announcement visit.
    #[serde(default)]
    pub invisible_patient: bool,
    /// Invisible to the legal representatives (`INVISIBLE_REPRESENTANTS_LEGAUX`).
    #[serde(default)]
    pub invisible_legal_representatives: bool,
    /// uniqueId of the earlier version this one replaces (RPLC).
    #[serde(default)]
    pub replaces: Option<String>,
}

/// What [`Segur::dmp_send`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DmpSendView {
    /// The document's uniqueId.
    pub unique_id: String,
    /// The submission set's uniqueId.
    pub submission_set_unique_id: String,
    /// Dashboard status (`accessible`).
    pub status: DmpDocumentStatus,
    /// Its label ("Accessible dans le DMP").
    pub status_label: String,
    /// The registry's answer was a partial success.
    pub partial: bool,
    /// Registry warnings or partial-success errors (codes).
    pub warnings: Vec<String>,
    /// The DMP's traits differ from ours on these fields (DMP/CONF.01; sent because a user
    /// confirmed exactly this mismatch).
    pub traits_mismatch: Vec<String>,
    /// The DMP already held this very document (same uniqueId, size and hash): an earlier send
    /// whose answer was lost; it was not registered again.
    #[serde(default)]
    pub already_registered: bool,
    /// The entryUUID in the registry, when known (always when `already_registered`).
    #[serde(default)]
    pub entry_uuid: Option<String>,
}

/// A confirmation of a traits mismatch recorded by [`Segur::dmp_confirm_traits`]
/// (DMP/CONF.01).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DmpTraitsConfirmation {
    /// The trait codes confirmed (`nom_naissance`, `prenoms`, `sexe`, `date_naissance`).
    pub fields: Vec<String>,
    /// Who confirmed (national id).
    pub practitioner: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Criteria of [`Segur::dmp_find`] (ITI-18 FindDocuments); all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DmpFindQuery {
    /// Document type codes (JDV_J07, e.g. `SYNTH`, `11488-4`).
    #[serde(default)]
    pub type_codes: Vec<String>,
    /// Created at or after.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Created before.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// Statuses: `approved` (default), `deprecated`, `archived`, `deleted`.
    #[serde(default)]
    pub statuses: Vec<String>,
    /// Author national id.
    #[serde(default)]
    pub author: Option<String>,
}

/// A document entry of the patient's DMP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DmpEntryView {
    /// uniqueId.
    pub unique_id: String,
    /// entryUUID (changes with every metadata version).
    pub entry_uuid: String,
    /// `approved`, `deprecated`, `archived`, `deleted` (or the URN received).
    pub status: String,
    /// Dashboard label ("Accessible dans le DMP", "Supprimé dans le DMP"...).
    pub status_label: String,
    /// typeCode.
    pub type_code: Option<String>,
    /// Its display name.
    pub type_display: Option<String>,
    /// classCode.
    pub class_code: Option<String>,
    /// formatCode.
    pub format_code: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// creationTime (UTC).
    pub creation_time: Option<DateTime<Utc>>,
    /// serviceStartTime as given (DTM).
    pub service_start_time: Option<String>,
    /// First author (XCN).
    pub author: Option<String>,
    /// Every confidentiality code.
    pub confidentiality: Vec<String>,
    /// Masked to professionals.
    pub masked: bool,
    /// Invisible to the patient.
    pub invisible_patient: bool,
    /// Size in bytes.
    pub size: Option<u64>,
    /// MIME type.
    pub mime_type: String,
    /// repositoryUniqueId.
    pub repository_unique_id: Option<String>,
}

/// Status code and dashboard label of an entry (JDV_J52; the manual's "Statut Envoi").
fn status_code(s: &Option<AvailabilityStatus>) -> (String, String) {
    let (code, label) = match s {
        None | Some(AvailabilityStatus::Approved) => ("approved", "Accessible dans le DMP"),
        Some(AvailabilityStatus::Deprecated) => ("deprecated", "Remplacé dans le DMP"),
        Some(AvailabilityStatus::Archived) => ("archived", "Archivé dans le DMP"),
        Some(AvailabilityStatus::Deleted) => ("deleted", "Supprimé dans le DMP"),
        Some(AvailabilityStatus::Other(o)) => return (o.clone(), o.clone()),
    };
    (code.to_owned(), label.to_owned())
}

impl From<&DocumentEntry> for DmpEntryView {
    fn from(e: &DocumentEntry) -> Self {
        let (status, status_label) = status_code(&e.status);
        let conf = segur_dmp::xds::DmpConfidentiality::from_codes(&e.confidentiality_codes);
        Self {
            unique_id: e.unique_id.clone(),
            entry_uuid: e.entry_uuid.clone(),
            status,
            status_label,
            type_code: e.type_code.as_ref().map(|c| c.code.clone()),
            type_display: e.type_code.as_ref().map(|c| c.display.clone()),
            class_code: e.class_code.as_ref().map(|c| c.code.clone()),
            format_code: e.format_code.as_ref().map(|c| c.code.clone()),
            title: e.title.clone(),
            creation_time: e.creation_time_utc(),
            service_start_time: e.service_start_time.clone(),
            author: e.authors.iter().find_map(|a| a.person.clone()),
            confidentiality: e
                .confidentiality_codes
                .iter()
                .map(|c| c.code.clone())
                .collect(),
            masked: conf.masking == Masking::MaskedToProfessionals,
            invisible_patient: !conf.visibility.patient,
            size: e.size,
            mime_type: e.mime_type.clone(),
            repository_unique_id: e.repository_unique_id.clone(),
        }
    }
}

/// A document retrieved from the DMP (ITI-43), size and hash checked against its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmpRetrieved {
    /// Its entry.
    pub entry: DmpEntryView,
    /// The bytes.
    pub content: Vec<u8>,
}

/// An ITI-57 change of [`Segur::dmp_update`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DmpUpdate {
    /// TD3.3a: mask to professionals.
    Mask,
    /// TD3.3a: unmask.
    Unmask,
    /// TD3.3b: make invisible to the patient.
    HideFromPatient,
    /// TD3.3b: make visible to the patient again.
    ShowToPatient,
    /// TD3.3c: delete.
    Delete,
    /// TD3.3d: archive.
    Archive,
}

impl DmpUpdate {
    /// Parses `mask`, `unmask`, `hide_from_patient`, `show_to_patient`, `delete`, `archive`.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "mask" => Self::Mask,
            "unmask" => Self::Unmask,
            "hide_from_patient" => Self::HideFromPatient,
            "show_to_patient" => Self::ShowToPatient,
            "delete" => Self::Delete,
            "archive" => Self::Archive,
            _ => {
                return Err(SegurError::InvalidInput(
                    "update must be mask, unmask, hide_from_patient, show_to_patient, delete or archive".into(),
                ))
            }
        })
    }
    fn operation(self) -> &'static str {
        match self {
            Self::Mask => "mask",
            Self::Unmask => "unmask",
            Self::HideFromPatient => "hide_from_patient",
            Self::ShowToPatient => "show_to_patient",
            Self::Delete => "delete",
            Self::Archive => "archive",
        }
    }
}

// ---- conversions ------------------------------------------------------------------------------

fn invalid(e: DmpError) -> SegurError {
    SegurError::Dmp(e)
}

/// The acting user and purpose from a [`Practitioner`].
pub(crate) fn dmp_user(p: &Practitioner) -> Result<(DmpUser, PurposeOfUse)> {
    let ps_id = PsId::idnat(&p.id_nat).map_err(invalid)?;
    let role = if p.profession.eq_ignore_ascii_case("AUTOMATE") {
        Role::automate()
    } else {
        Role::profession(p.profession.trim()).map_err(invalid)?
    };
    let specialty = match p.specialty.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(Role::savoir_faire(s).map_err(invalid)?),
    };
    let auth_mode = match p.auth_mode.as_deref().map(str::trim) {
        None | Some("") | Some("INDIRECTE") => AuthentificationMode::Indirecte,
        Some("DIRECTE") => AuthentificationMode::Directe,
        Some("INDIRECTE_RENFORCEE") => AuthentificationMode::IndirecteRenforcee,
        Some(_) => {
            return Err(SegurError::InvalidInput(
                "auth_mode must be DIRECTE, INDIRECTE or INDIRECTE_RENFORCEE".into(),
            ))
        }
    };
    let purpose = match p.purpose.as_deref().map(str::trim) {
        None | Some("") | Some("normal") => PurposeOfUse::Normal,
        Some("bris_de_glace") => PurposeOfUse::BrisDeGlace,
        Some("centre_15") => PurposeOfUse::Centre15,
        Some(_) => {
            return Err(SegurError::InvalidInput(
                "purpose must be normal, bris_de_glace or centre_15".into(),
            ))
        }
    };
    if p.nom.trim().is_empty() || p.prenom.trim().is_empty() {
        return Err(SegurError::InvalidInput(
            "practitioner nom and prenom are required (VIHF subject-id)".into(),
        ));
    }
    Ok((
        DmpUser {
            ps_id,
            nom: p.nom.trim().to_owned(),
            prenom: p.prenom.trim().to_owned(),
            role,
            specialty,
            auth_mode,
        },
        purpose,
    ))
}

fn consent_of(c: &DmpConsent) -> Result<PatientConsent> {
    let mode = match c.mode.trim() {
        "oral" | "ORAL" => ConsentMode::Oral,
        "ecrit" | "ECRIT" => ConsentMode::Ecrit,
        "representant_legal" | "REPRESENTANT_LEGAL" => ConsentMode::RepresentantLegal,
        _ => {
            return Err(SegurError::InvalidInput(
                "consent mode must be oral, ecrit or representant_legal".into(),
            ))
        }
    };
    PatientConsent::new(c.collected_at.unwrap_or_else(Utc::now), mode).map_err(invalid)
}

fn type_code(code: &str) -> Result<Code> {
    Ok(DocumentType::from_code(code.trim())
        .map_err(|_| SegurError::InvalidInput("unknown document type code (JDV_J07)".into()))?
        .to_code())
}

fn availability(s: &str) -> Result<AvailabilityStatus> {
    Ok(match s.trim() {
        "approved" => AvailabilityStatus::Approved,
        "deprecated" => AvailabilityStatus::Deprecated,
        "archived" => AvailabilityStatus::Archived,
        "deleted" => AvailabilityStatus::Deleted,
        _ => {
            return Err(SegurError::InvalidInput(
                "status must be approved, deprecated, archived or deleted".into(),
            ))
        }
    })
}

/// The confidentiality codes stored in the outbox: the CDA's N/R/V, then the DMP codes
/// (`segur_dmp`'s order).
fn stored_codes(first: &str, conf: DmpConfidentiality) -> Vec<String> {
    std::iter::once(first.to_owned())
        .chain(conf.codes().into_iter().map(|c| c.code().to_owned()))
        .collect()
}

/// The DMP confidentiality the stored codes express.
fn stored_confidentiality(codes: &[String]) -> DmpConfidentiality {
    let codes: Vec<Code> = codes.iter().map(|c| Code::new(c, "", "")).collect();
    DmpConfidentiality::from_codes(&codes)
}

/// A document to hand to the client.
fn dmp_document(
    document: DmpDocument,
    conf: DmpConfidentiality,
    replaces: Option<&str>,
) -> DmpDocument {
    let mut document = document.visibility(conf.visibility);
    if conf.masking == Masking::MaskedToProfessionals {
        document = document.masked_to_professionals();
    }
    if let Some(r) = replaces {
        document = document.replacing(r);
    }
    document
}

fn outcome_warnings(o: &XdsOutcome) -> (bool, Vec<String>) {
    match o {
        XdsOutcome::Success { warnings } => (
            false,
            warnings
                .iter()
                .map(|w| w.code.as_str().to_owned())
                .collect(),
        ),
        XdsOutcome::PartialSuccess { errors } => (
            true,
            errors.iter().map(|w| w.code.as_str().to_owned()).collect(),
        ),
    }
}

/// Journal status and code of one DMP exchange.
fn journal_status(x: &Exchange) -> (String, Option<String>) {
    match &x.outcome {
        Outcome::Ok => ("ok".into(), None),
        Outcome::Fault(c) => ("fault".into(), Some(c.clone())),
        Outcome::Failed(_) => ("failed".into(), None),
    }
}

/// What one facade call knows of its context, to journal its exchanges.
struct CallContext<'a> {
    local_id: &'a str,
    ins: String,
    practitioner: String,
    structure: Option<String>,
    document_type: Option<String>,
    document_id: Option<String>,
}

impl CallContext<'_> {
    fn rows(&self, exchanges: &[Exchange]) -> Vec<NewExchange> {
        exchanges
            .iter()
            .map(|x| {
                let (status, code) = journal_status(x);
                NewExchange {
                    at: x.started_at,
                    channel: x.service.to_owned(),
                    operation: x.operation.clone(),
                    message_id: x.message_id.clone(),
                    practitioner: Some(self.practitioner.clone()),
                    structure: self.structure.clone(),
                    patient_local_id: Some(self.local_id.to_owned()),
                    ins: Some(self.ins.clone()),
                    ins_qualified: true,
                    document_type: self.document_type.clone(),
                    document_id: self.document_id.clone(),
                    error: match &x.outcome {
                        Outcome::Failed(e) => Some(e.clone()),
                        _ => None,
                    },
                    status,
                    result_code: code,
                    duration_ms: x.duration.as_secs_f64() * 1000.0,
                    http_status: x.http_status,
                    request: x.request.to_vec(),
                    response: x.response.as_ref().map(|r| r.to_vec()),
                }
            })
            .collect()
    }
}

/// Records into the journal's memory sink and into a trace folder.
struct Tee(Arc<MemoryTraceSink>, Arc<dyn TraceSink>);

impl TraceSink for Tee {
    fn record(&self, exchange: &Exchange) {
        self.0.record(exchange);
        self.1.record(exchange);
    }
}

// ---- the facade ------------------------------------------------------------------------------

impl Segur {
    /// The DMP client (configured by `[dmp]`).
    fn dmp_client(&self) -> Result<&DmpClient> {
        self.inner.dmp.as_ref().ok_or_else(|| {
            SegurError::Config("the DMP is not configured (no [dmp] section)".into())
        })
    }

    /// The professional acting by default (`[practitioner]` of the configuration).
    pub fn default_practitioner(&self) -> Option<&Practitioner> {
        self.inner.config.practitioner.as_ref()
    }

    /// The local id of the qualified identity whose INS is `ins` (15 characters): how the CLI
    /// and hosts that key DMP work by INS find the record. Errors: [`SegurError::NotFound`] when
    /// no qualified record has it, [`SegurError::InvalidInput`] when several do (duplicates to
    /// merge first).
    pub fn identity_by_ins(&self, ins: &str) -> Result<String> {
        let m = segur_ins_core::Matricule::parse(ins.trim())?;
        let mut ids = self.inner.journal.qualified_with_ins(&m.to_15())?;
        match ids.len() {
            0 => Err(SegurError::NotFound {
                what: "qualified identity with this INS",
            }),
            1 => Ok(ids.remove(0)),
            _ => Err(SegurError::InvalidInput(
                "several qualified identities share this INS: merge the duplicates first".into(),
            )),
        }
    }

    fn qualified(&self, local_id: &str) -> Result<QualifiedIdentity> {
        Ok(self.identity_record(local_id)?.qualified()?)
    }

    /// The qualified patient, the acting user and purpose, and the journal context of one call.
    fn call<'a>(
        &self,
        local_id: &'a str,
        who: &Practitioner,
    ) -> Result<(QualifiedIdentity, DmpUser, PurposeOfUse, CallContext<'a>)> {
        let patient = self.qualified(local_id)?;
        let (user, purpose) = dmp_user(who)?;
        let ctx = self.context(local_id, who, &patient);
        Ok((patient, user, purpose, ctx))
    }

    fn context<'a>(
        &self,
        local_id: &'a str,
        who: &Practitioner,
        q: &QualifiedIdentity,
    ) -> CallContext<'a> {
        CallContext {
            local_id,
            ins: q.ins().matricule.to_15(),
            practitioner: who.id_nat.clone(),
            structure: self
                .inner
                .config
                .dmp
                .as_ref()
                .map(|d| d.structure.id_nat.clone()),
            document_type: None,
            document_id: None,
        }
    }

    /// Runs a client call with a trace of its own, returns its result and exchanges.
    async fn traced<T, F, Fut>(
        &self,
        f: F,
    ) -> Result<(std::result::Result<T, DmpError>, Vec<Exchange>)>
    where
        F: FnOnce(DmpClient) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, DmpError>>,
    {
        let sink = Arc::new(MemoryTraceSink::new());
        let tee: Arc<dyn TraceSink> = match &self.inner.dmp_trace {
            Some(dir) => Arc::new(Tee(sink.clone(), dir.clone())),
            None => sink.clone(),
        };
        let client = self.dmp_client()?.with_trace(tee);
        let out = f(client).await;
        Ok((out, sink.exchanges()))
    }

    /// TD0.2: does the patient (a qualified identity of the journal) have a DMP, is it closed,
    /// may we feed and consult it. Journaled.
    pub async fn dmp_status(&self, local_id: &str, who: &Practitioner) -> Result<DmpStatusView> {
        let (patient, user, purpose, ctx) = self.call(local_id, who)?;
        let p = patient.clone();
        let (out, xs) = self
            .traced(|c| async move { c.status(user.acting(purpose), &p).await })
            .await?;
        self.inner.journal.dmp_commit(&ctx.rows(&xs), &[])?;
        let ack = self.traits_ack(local_id, &patient)?;
        Ok(DmpStatusView::acknowledged(&out?, &patient, ack.as_ref()))
    }

    /// DMP/CONF.01 "alert and stop feeds on mismatch until confirmed": a TD0.2 now, and the
    /// user's confirmation of the traits mismatch it reports, recorded in the journal (table
    /// `dmp_traits_acks`, with the TD0.2 exchange). [`Segur::dmp_send`] and
    /// [`Segur::dmp_retry`] then send for this patient as long as TD0.2 reports exactly this
    /// mismatch; a different one needs a new confirmation. [`SegurError::InvalidInput`] when
    /// TD0.2 reports no mismatch (nothing to confirm).
    pub async fn dmp_confirm_traits(
        &self,
        local_id: &str,
        who: &Practitioner,
    ) -> Result<DmpTraitsConfirmation> {
        let (patient, user, purpose, ctx) = self.call(local_id, who)?;
        let (out, xs) = self
            .traced(|c| async move { c.status(user.acting(purpose), &patient).await })
            .await?;
        let rows = ctx.rows(&xs);
        let status = match out {
            Ok(s) => s,
            Err(e) => {
                self.inner.journal.dmp_commit(&rows, &[])?;
                return Err(e.into());
            }
        };
        let Some(m) = status.traits_mismatch() else {
            self.inner.journal.dmp_commit(&rows, &[])?;
            return Err(SegurError::InvalidInput(
                "the DMP's traits match the local identity: nothing to confirm".into(),
            ));
        };
        let fields: Vec<&str> = m.field_set().into_iter().map(TraitField::code).collect();
        let at = Utc::now();
        self.inner
            .journal
            .dmp_traits_ack(&rows, local_id, &who.id_nat, &fields, at)?;
        tracing::info!(fields = ?fields, "DMP/CONF.01: traits mismatch confirmed");
        Ok(DmpTraitsConfirmation {
            fields: fields.into_iter().map(str::to_owned).collect(),
            practitioner: who.id_nat.clone(),
            at,
        })
    }

    /// The stored confirmation of a traits mismatch for this patient, as the client takes it.
    fn traits_ack(
        &self,
        local_id: &str,
        patient: &QualifiedIdentity,
    ) -> Result<Option<TraitsAcknowledgement>> {
        let Some(row) = self.inner.journal.dmp_traits_ack_latest(local_id)? else {
            return Ok(None);
        };
        let fields = row
            .fields
            .iter()
            .map(|f| TraitField::from_code(f))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| SegurError::Journal("unknown trait code in dmp_traits_acks".into()))?;
        let at = DateTime::parse_from_rfc3339(&row.at)
            .map(|t| t.to_utc())
            .map_err(|_| SegurError::Journal("bad date in dmp_traits_acks".into()))?;
        Ok(Some(TraitsAcknowledgement::new(
            patient,
            &TraitsMismatch { fields },
            row.practitioner,
            at,
        )))
    }

    /// TD0.3 AJOUT: authorizes the practitioner on the patient's DMP, with the patient's consent
    /// (recorded in the journal with the exchange). Returns our access status afterwards.
    pub async fn dmp_authorize(
        &self,
        local_id: &str,
        who: &Practitioner,
        consent: &DmpConsent,
    ) -> Result<Option<String>> {
        let consent = consent_of(consent)?;
        let mode = consent.mode().code();
        let at = consent.collected_at();
        self.set_authorization(
            local_id,
            who,
            AuthorizationAction::Ajout(consent),
            Some((mode, at)),
        )
        .await
    }

    /// TD0.3 SUPPRESSION: removes the practitioner's authorization.
    pub async fn dmp_revoke(&self, local_id: &str, who: &Practitioner) -> Result<Option<String>> {
        self.set_authorization(local_id, who, AuthorizationAction::Suppression, None)
            .await
    }

    async fn set_authorization(
        &self,
        local_id: &str,
        who: &Practitioner,
        action: AuthorizationAction,
        consent: Option<(&str, DateTime<Utc>)>,
    ) -> Result<Option<String>> {
        let (patient, user, purpose, ctx) = self.call(local_id, who)?;
        let name = match &action {
            AuthorizationAction::Ajout(_) => "AJOUT",
            AuthorizationAction::Suppression => "SUPPRESSION",
        };
        let (out, xs) = self
            .traced(|c| async move {
                c.set_authorization(user.acting(purpose), &patient, action)
                    .await
            })
            .await?;
        let rows = ctx.rows(&xs);
        match &out {
            Ok(_) => {
                self.inner
                    .journal
                    .dmp_consent(&rows, local_id, &who.id_nat, name, consent)?;
            }
            Err(_) => {
                self.inner.journal.dmp_commit(&rows, &[])?;
            }
        }
        Ok(out?.authorization.map(|a| a.code().to_owned()))
    }

    /// `listAuthorizationByPatient`.
    pub async fn dmp_authorizations(
        &self,
        local_id: &str,
        who: &Practitioner,
    ) -> Result<Vec<DmpAuthorizationView>> {
        let (patient, user, purpose, ctx) = self.call(local_id, who)?;
        let (out, xs) = self
            .traced(|c| async move { c.list_authorizations(user.acting(purpose), &patient).await })
            .await?;
        self.inner.journal.dmp_commit(&ctx.rows(&xs), &[])?;
        Ok(out?
            .into_iter()
            .map(|a| DmpAuthorizationView {
                id_nat: a.id_nat,
                nom: a.nom,
                prenom: a.prenom,
                status: a.statut.code().to_owned(),
                from: a.debut.map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string()),
                to: a.fin.map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string()),
            })
            .collect())
    }

    /// Sends a CDA document to the patient's DMP (TD0.2 then ITI-41; `segur_dmp` refuses locally,
    /// with [`crate::ErrorCode::NotSent`], when there is no DMP, it is closed, or the patient
    /// opposed feeding). The document is stored in the journal's outbox first: it is never lost
    /// and a failed send can be retried with [`Segur::dmp_retry`].
    pub async fn dmp_send(
        &self,
        local_id: &str,
        who: &Practitioner,
        cda: &[u8],
        options: &DmpSendOptions,
    ) -> Result<DmpSendView> {
        let patient = self.qualified(local_id)?;
        let parsed = DmpDocument::parse(cda.to_vec())?;
        let meta = parsed
            .metadata()
            .ok_or_else(|| SegurError::Internal("document parsed without metadata".into()))?;
        let max = self.dmp_client()?.max_document_bytes();
        if cda.len() > max {
            return Err(SegurError::Dmp(DmpError::TooLarge {
                what: "document",
                size: cda.len(),
                limit: max,
            }));
        }
        let conf = DmpConfidentiality {
            masking: if options.mask_ps {
                Masking::MaskedToProfessionals
            } else {
                Masking::NotMasked
            },
            visibility: Visibility {
                patient: !options.invisible_patient,
                legal_representatives: !options.invisible_legal_representatives,
            },
        };
        let document = dmp_document(parsed.clone(), conf, options.replaces.as_deref());
        let conf = stored_codes(&meta.confidentiality_code.code, conf);
        self.inner.journal.dmp_outbox_put(&NewDmpDocument {
            unique_id: &meta.unique_id,
            patient_local_id: local_id,
            ins: &patient.ins().matricule.to_15(),
            practitioner: Some(&who.id_nat),
            document_type: Some(&meta.type_code.code),
            title: Some(&meta.title),
            confidentiality: &conf,
            replaces: options.replaces.as_deref(),
            document: cda,
        })?;
        self.send_stored(
            local_id,
            who,
            &patient,
            &meta.unique_id,
            &meta.type_code.code,
            document,
            options.replaces.as_deref(),
        )
        .await
    }

    /// Sends again a document of the outbox whose send failed (or never completed).
    pub async fn dmp_retry(&self, unique_id: &str, who: &Practitioner) -> Result<DmpSendView> {
        let (row, bytes) =
            self.inner
                .journal
                .dmp_document(unique_id)?
                .ok_or(SegurError::NotFound {
                    what: "DMP document",
                })?;
        if !matches!(
            row.status,
            DmpDocumentStatus::Failed | DmpDocumentStatus::Pending
        ) {
            return Err(SegurError::InvalidInput(format!(
                "the document is {} (only a failed or pending send is retried)",
                row.status.code()
            )));
        }
        let patient = self.qualified(&row.patient_local_id)?;
        let document = dmp_document(
            DmpDocument::new(bytes),
            stored_confidentiality(&row.confidentiality),
            row.replaces.as_deref(),
        );
        let local_id = row.patient_local_id.clone();
        self.send_stored(
            &local_id,
            who,
            &patient,
            unique_id,
            row.document_type.as_deref().unwrap_or_default(),
            document,
            row.replaces.as_deref(),
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_stored(
        &self,
        local_id: &str,
        who: &Practitioner,
        patient: &QualifiedIdentity,
        unique_id: &str,
        document_type: &str,
        document: DmpDocument,
        replaces: Option<&str>,
    ) -> Result<DmpSendView> {
        let (user, purpose) = match dmp_user(who) {
            Ok(u) => u,
            Err(e) => {
                self.fail_outbox(&[], unique_id, &e)?;
                return Err(e);
            }
        };
        let mut ctx = self.context(local_id, who, patient);
        ctx.document_type = Some(document_type.to_owned());
        ctx.document_id = Some(unique_id.to_owned());
        let ack = self.traits_ack(local_id, patient)?;
        let p = patient.clone();
        let (out, xs) = self
            .traced(|c| async move {
                let mut acting = user.acting(purpose);
                if let Some(a) = &ack {
                    acting = acting.confirming(a);
                }
                c.send(acting, &p, &document).await
            })
            .await?;
        let rows = ctx.rows(&xs);
        match out {
            Ok(receipt) => {
                let mut updates = vec![(
                    unique_id,
                    DmpDocumentUpdate {
                        status: Some(DmpDocumentStatus::Accessible),
                        entry_uuid: receipt.already_registered.as_deref(),
                        ..Default::default()
                    },
                )];
                if let Some(old) = replaces {
                    updates.push((
                        old,
                        DmpDocumentUpdate {
                            status: Some(DmpDocumentStatus::Replaced),
                            ..Default::default()
                        },
                    ));
                }
                self.inner.journal.dmp_commit(&rows, &updates)?;
                let (partial, warnings) = outcome_warnings(&receipt.outcome);
                let status: DmpStatusView = (&receipt.status).into();
                Ok(DmpSendView {
                    unique_id: receipt.unique_id,
                    submission_set_unique_id: receipt.submission_set_unique_id,
                    status: DmpDocumentStatus::Accessible,
                    status_label: DmpDocumentStatus::Accessible.label().to_owned(),
                    partial,
                    warnings,
                    traits_mismatch: status.traits_mismatch,
                    already_registered: receipt.already_registered.is_some(),
                    entry_uuid: receipt.already_registered.clone(),
                })
            }
            Err(e) => {
                let e = SegurError::Dmp(e);
                self.fail_outbox(&rows, unique_id, &e)?;
                Err(e)
            }
        }
    }

    fn fail_outbox(&self, rows: &[NewExchange], unique_id: &str, e: &SegurError) -> Result<()> {
        let msg = e.to_string();
        let reason = e.not_sent_reason().map(|r| match &r {
            crate::NotSentReason::TraitsMismatch { fields } => {
                format!("{}:{}", r.code(), fields.join(" "))
            }
            _ => r.code().to_owned(),
        });
        self.inner.journal.dmp_commit(
            rows,
            &[(
                unique_id,
                DmpDocumentUpdate {
                    status: Some(DmpDocumentStatus::Failed),
                    error: Some(&msg),
                    not_sent_reason: reason.as_deref(),
                    ..Default::default()
                },
            )],
        )?;
        Ok(())
    }

    /// ITI-18 FindDocuments: the patient's documents matching `q` (current ones by default).
    pub async fn dmp_find(
        &self,
        local_id: &str,
        who: &Practitioner,
        q: &DmpFindQuery,
    ) -> Result<Vec<DmpEntryView>> {
        let patient = self.qualified(local_id)?;
        let (user, purpose) = dmp_user(who)?;
        let mut query = DmpClient::find_query(&patient);
        for t in &q.type_codes {
            query = query.type_code(type_code(t)?);
        }
        if !q.statuses.is_empty() {
            let statuses = q
                .statuses
                .iter()
                .map(|s| availability(s))
                .collect::<Result<Vec<_>>>()?;
            query = query.statuses(&statuses);
        }
        if q.since.is_some() || q.until.is_some() {
            query = query.created_between(q.since, q.until);
        }
        if let Some(a) = &q.author {
            query = query.author_person(&format!("{}^%", a.trim()));
        }
        let ctx = self.context(local_id, who, &patient);
        let (out, xs) = self
            .traced(|c| async move { c.find(user.acting(purpose), &patient, query).await })
            .await?;
        self.inner.journal.dmp_commit(&ctx.rows(&xs), &[])?;
        let mut entries: Vec<DmpEntryView> = out?.iter().map(Into::into).collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.creation_time));
        Ok(entries)
    }

    /// "Is there a VSM, and of when": the most recent current VSM of the patient's DMP.
    pub async fn dmp_latest_vsm(
        &self,
        local_id: &str,
        who: &Practitioner,
    ) -> Result<Option<DmpEntryView>> {
        let (patient, user, purpose, ctx) = self.call(local_id, who)?;
        let (out, xs) = self
            .traced(|c| async move { c.latest_vsm(user.acting(purpose), &patient).await })
            .await?;
        self.inner.journal.dmp_commit(&ctx.rows(&xs), &[])?;
        Ok(out?.as_ref().map(Into::into))
    }

    /// ITI-43: retrieves a document of the patient's DMP by uniqueId (size and hash checked).
    /// Hand the bytes to [`crate::cda_parse`] for the integration screen.
    pub async fn dmp_get(
        &self,
        local_id: &str,
        who: &Practitioner,
        unique_id: &str,
    ) -> Result<DmpRetrieved> {
        let (patient, user, purpose, mut ctx) = self.call(local_id, who)?;
        ctx.document_id = Some(unique_id.to_owned());
        let uid = unique_id.to_owned();
        let (out, xs) = self
            .traced(|c| async move { c.retrieve(user.acting(purpose), &patient, &uid).await })
            .await?;
        self.inner.journal.dmp_commit(&ctx.rows(&xs), &[])?;
        let r = out?;
        Ok(DmpRetrieved {
            entry: (&r.entry).into(),
            content: r.content.to_vec(),
        })
    }

    /// ITI-57: masks, unmasks, changes visibility, deletes or archives a document of the
    /// patient's DMP; the outbox row (when the document was sent from here) follows.
    pub async fn dmp_update(
        &self,
        local_id: &str,
        who: &Practitioner,
        unique_id: &str,
        update: DmpUpdate,
    ) -> Result<Vec<String>> {
        let (patient, user, purpose, mut ctx) = self.call(local_id, who)?;
        ctx.document_id = Some(unique_id.to_owned());
        let uid = unique_id.to_owned();
        let (out, xs) = self
            .traced(|c| async move {
                let who = user.acting(purpose);
                match update {
                    DmpUpdate::Mask => c.mask(who, &patient, &uid).await,
                    DmpUpdate::Unmask => c.unmask(who, &patient, &uid).await,
                    // Only the patient's visibility changes; the codes in force in the registry
                    // (INVISIBLE_REPRESENTANTS_LEGAUX, MASQUE_PS) are kept.
                    DmpUpdate::HideFromPatient | DmpUpdate::ShowToPatient => {
                        c.set_patient_visibility(
                            who,
                            &patient,
                            &uid,
                            update == DmpUpdate::ShowToPatient,
                        )
                        .await
                    }
                    DmpUpdate::Delete => c.delete(who, &patient, &uid).await,
                    DmpUpdate::Archive => c.archive(who, &patient, &uid).await,
                }
            })
            .await?;
        let rows = ctx.rows(&xs);
        match &out {
            Ok(_) => {
                let status = match update {
                    DmpUpdate::Delete => Some(DmpDocumentStatus::Deleted),
                    DmpUpdate::Archive => Some(DmpDocumentStatus::Archived),
                    _ => None,
                };
                let conf = self.inner.journal.dmp_document(unique_id)?.map(|(row, _)| {
                    let mut conf = stored_confidentiality(&row.confidentiality);
                    match update {
                        DmpUpdate::Mask => conf.masking = Masking::MaskedToProfessionals,
                        DmpUpdate::Unmask => conf.masking = Masking::NotMasked,
                        DmpUpdate::HideFromPatient => conf.visibility.patient = false,
                        DmpUpdate::ShowToPatient => conf.visibility.patient = true,
                        DmpUpdate::Delete | DmpUpdate::Archive => {}
                    }
                    let first = row.confidentiality.first().map(String::as_str);
                    stored_codes(first.unwrap_or("N"), conf)
                });
                self.inner.journal.dmp_commit(
                    &rows,
                    &[(
                        unique_id,
                        DmpDocumentUpdate {
                            status,
                            confidentiality: conf.as_deref(),
                            ..Default::default()
                        },
                    )],
                )?;
            }
            Err(_) => {
                self.inner.journal.dmp_commit(&rows, &[])?;
            }
        }
        let outcome = out?;
        tracing::debug!(operation = update.operation(), "DMP update done");
        Ok(outcome_warnings(&outcome).1)
    }

    /// The DMP dashboard ("Tableau de bord des échanges"): documents sent from here and their
    /// status, newest first.
    pub fn dmp_dashboard(&self, q: &DmpDocumentQuery) -> Result<Vec<DmpDocumentRow>> {
        self.inner.journal.dmp_documents(q)
    }
}
