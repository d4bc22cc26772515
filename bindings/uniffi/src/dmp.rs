//! The DMP (dossier médical partagé, `dmp.md`) on the Kotlin/Swift surface: records and enums
//! for the facade's DMP views and inputs, and the [`SegurClient`] methods — `async` (Kotlin
//! `suspend`, Swift `async`) for every call to the DMP, synchronous for the journal (the
//! dashboard) and the configuration. Conversions only; the workflow (qualified identity only,
//! outbox before sending, journal) is the facade's.
//!
//! The acting professional is the `practitioner` argument, or when it is `null`/`nil` the
//! `[practitioner]` of the configuration (else a `Config` error).

use std::time::SystemTime;

use crate::records::utc;
use crate::{on_runtime, Result, SegurClient, SegurError};

// ---- the professional ----------------------------------------------------------------------

/// The professional who acts on the DMP: VIHF subject and XDS author (`dmp.md` §3; DMP/AIRS.06:
/// a named professional, never a generic account).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Practitioner {
    /// National id (IdNat_PS): `8` + RPPS, `0` + ADELI...
    pub id_nat: String,
    /// Family name.
    pub nom: String,
    /// First name.
    pub prenom: String,
    /// Profession (TRE_G15, e.g. `10` médecin), or `AUTOMATE`.
    pub profession: String,
    /// Savoir-faire (TRE_R01, e.g. `SM26`), for doctors and pharmacists.
    #[uniffi(default = None)]
    pub specialty: Option<String>,
    /// `DIRECTE` (CPS), `INDIRECTE` (default) or `INDIRECTE_RENFORCEE`.
    #[uniffi(default = None)]
    pub auth_mode: Option<String>,
    /// Purpose of use: `normal` (default), `bris_de_glace`, `centre_15`.
    #[uniffi(default = None)]
    pub purpose: Option<String>,
}

impl From<Practitioner> for segur::Practitioner {
    fn from(p: Practitioner) -> Self {
        segur::Practitioner {
            id_nat: p.id_nat,
            nom: p.nom,
            prenom: p.prenom,
            profession: p.profession,
            specialty: p.specialty,
            auth_mode: p.auth_mode,
            purpose: p.purpose,
        }
    }
}

impl From<segur::Practitioner> for Practitioner {
    fn from(p: segur::Practitioner) -> Self {
        Practitioner {
            id_nat: p.id_nat,
            nom: p.nom,
            prenom: p.prenom,
            profession: p.profession,
            specialty: p.specialty,
            auth_mode: p.auth_mode,
            purpose: p.purpose,
        }
    }
}

// ---- status and authorizations ------------------------------------------------------------

/// Our access to a patient's DMP (TD0.2 `autorisation`, `listAuthorizationByPatient` status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DmpAccess {
    /// `AUTORISE`: we may consult.
    Autorise,
    /// `NON_AUTORISE`: not yet (TD0.3 AJOUT with the patient's consent).
    NonAutorise,
    /// `INTERDIT`: the patient has blocked this professional.
    Interdit,
    /// `EXPIRE`: an earlier authorization has expired.
    Expire,
}

impl DmpAccess {
    /// From the facade's code; an unknown code (impossible today) reads as not authorised.
    fn from_code(code: &str) -> Self {
        match code {
            "AUTORISE" => DmpAccess::Autorise,
            "INTERDIT" => DmpAccess::Interdit,
            "EXPIRE" => DmpAccess::Expire,
            _ => DmpAccess::NonAutorise,
        }
    }
}

/// Why a document may not be sent (checked before sending: nothing leaves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DmpFeedBlocked {
    /// The patient has no DMP.
    NoDmp,
    /// The DMP is closed.
    Closed,
    /// The patient opposed feeding by this professional (DMP/CONF.09).
    FeedingOpposed,
    /// The DMP's traits differ from ours and no user confirmed it (DMP/CONF.01):
    /// [`SegurClient::dmp_confirm_traits`], then a retry.
    TraitsMismatch,
}

impl DmpFeedBlocked {
    /// From the facade's code (`no_dmp`, `closed`, `feeding_opposed`, `traits_mismatch`); an
    /// unknown code reads as the patient's opposition, never as "may send".
    pub(crate) fn from_code(code: &str) -> Self {
        match code {
            "no_dmp" => DmpFeedBlocked::NoDmp,
            "closed" => DmpFeedBlocked::Closed,
            "traits_mismatch" => DmpFeedBlocked::TraitsMismatch,
            _ => DmpFeedBlocked::FeedingOpposed,
        }
    }
}

/// TD0.2: the patient's DMP as the DMP sees it, and what the professional may do.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DmpStatus {
    /// A DMP exists for the INS.
    pub exists: bool,
    /// It is closed.
    pub closed: bool,
    /// Our access; none without a DMP.
    pub authorization: Option<DmpAccess>,
    /// The patient opposed feeding by this professional (DMP/CONF.09).
    pub feeding_opposed: bool,
    /// We are the patient's médecin traitant DMP.
    pub medecin_traitant: bool,
    /// A document may be sent.
    pub can_feed: bool,
    /// Why not, when it may not.
    pub feed_blocked: Option<DmpFeedBlocked>,
    /// Documents may be consulted (purpose `normal`).
    pub can_consult: bool,
    /// Fields whose value differs between the DMP and our identity (DMP/CONF.01: show them;
    /// feeding stops until a user confirms them, [`SegurClient::dmp_confirm_traits`]).
    pub traits_mismatch: Vec<String>,
    /// That mismatch was confirmed: feeding goes on.
    pub traits_confirmed: bool,
}

impl From<segur::DmpStatusView> for DmpStatus {
    fn from(s: segur::DmpStatusView) -> Self {
        DmpStatus {
            exists: s.exists,
            closed: s.closed,
            authorization: s.authorization.as_deref().map(DmpAccess::from_code),
            feeding_opposed: s.feeding_opposed,
            medecin_traitant: s.medecin_traitant,
            can_feed: s.can_feed,
            feed_blocked: s.feed_blocked.as_deref().map(DmpFeedBlocked::from_code),
            can_consult: s.can_consult,
            traits_mismatch: s.traits_mismatch,
            traits_confirmed: s.traits_confirmed,
        }
    }
}

/// How the patient gave consent to our authorization (TD0.3 AJOUT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DmpConsentMode {
    /// Orally.
    Oral,
    /// In writing.
    Ecrit,
    /// By the patient's legal representative.
    RepresentantLegal,
}

/// The patient's consent to our authorization on their DMP (TD0.3 AJOUT; recorded in the
/// journal).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DmpConsent {
    /// How it was given.
    pub mode: DmpConsentMode,
    /// When it was collected (default: now). Never in the future.
    #[uniffi(default = None)]
    pub collected_at: Option<SystemTime>,
}

impl TryFrom<DmpConsent> for segur::DmpConsent {
    type Error = SegurError;

    fn try_from(c: DmpConsent) -> Result<Self> {
        let mode = match c.mode {
            DmpConsentMode::Oral => "oral",
            DmpConsentMode::Ecrit => "ecrit",
            DmpConsentMode::RepresentantLegal => "representant_legal",
        };
        Ok(segur::DmpConsent {
            mode: mode.to_owned(),
            collected_at: c.collected_at.map(utc).transpose()?,
        })
    }
}

/// An authorization on the patient's DMP (`listAuthorizationByPatient`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DmpAuthorization {
    /// The professional's national id.
    pub id_nat: String,
    /// Name.
    pub nom: Option<String>,
    /// First name.
    pub prenom: Option<String>,
    /// Status.
    pub status: DmpAccess,
    /// Start (DMP local time, ISO 8601).
    pub valid_from: Option<String>,
    /// End.
    pub valid_to: Option<String>,
}

impl From<segur::DmpAuthorizationView> for DmpAuthorization {
    fn from(a: segur::DmpAuthorizationView) -> Self {
        DmpAuthorization {
            status: DmpAccess::from_code(&a.status),
            id_nat: a.id_nat,
            nom: a.nom,
            prenom: a.prenom,
            valid_from: a.from,
            valid_to: a.to,
        }
    }
}

// ---- sending ------------------------------------------------------------------------------

/// Options of [`SegurClient::dmp_send`] (`dmp.md` §5.4: confidentiality codes after N/R/V).
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct DmpSendOptions {
    /// Masked to other professionals (`MASQUE_PS`).
    #[uniffi(default = false)]
    pub mask_ps: bool,
    /// Invisible to the patient (`INVISIBLE_PATIENT`), e.g. until an announcement visit.
    #[uniffi(default = false)]
    pub invisible_patient: bool,
    /// Invisible to the legal representatives (`INVISIBLE_REPRESENTANTS_LEGAUX`).
    #[uniffi(default = false)]
    pub invisible_legal_representatives: bool,
    /// uniqueId of the earlier version this one replaces (RPLC).
    #[uniffi(default = None)]
    pub replaces: Option<String>,
}

impl From<DmpSendOptions> for segur::DmpSendOptions {
    fn from(o: DmpSendOptions) -> Self {
        segur::DmpSendOptions {
            mask_ps: o.mask_ps,
            invisible_patient: o.invisible_patient,
            invisible_legal_representatives: o.invisible_legal_representatives,
            replaces: o.replaces,
        }
    }
}

/// The status of a document sent from here (the manual's "Statut Envoi").
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DmpDocumentStatus {
    /// Stored, the send has not completed.
    Pending,
    /// Accepted by the DMP ("Accessible dans le DMP").
    Accessible,
    /// The last attempt failed; kept for a retry.
    Failed,
    /// Replaced by a newer version (RPLC).
    Replaced,
    /// Deleted in the DMP (TD3.3c).
    Deleted,
    /// Archived in the DMP (TD3.3d).
    Archived,
}

impl From<segur::DmpDocumentStatus> for DmpDocumentStatus {
    fn from(s: segur::DmpDocumentStatus) -> Self {
        use segur::DmpDocumentStatus as S;
        match s {
            S::Pending => DmpDocumentStatus::Pending,
            S::Accessible => DmpDocumentStatus::Accessible,
            S::Failed => DmpDocumentStatus::Failed,
            S::Replaced => DmpDocumentStatus::Replaced,
            S::Deleted => DmpDocumentStatus::Deleted,
            S::Archived => DmpDocumentStatus::Archived,
        }
    }
}

impl From<DmpDocumentStatus> for segur::DmpDocumentStatus {
    fn from(s: DmpDocumentStatus) -> Self {
        use segur::DmpDocumentStatus as S;
        match s {
            DmpDocumentStatus::Pending => S::Pending,
            DmpDocumentStatus::Accessible => S::Accessible,
            DmpDocumentStatus::Failed => S::Failed,
            DmpDocumentStatus::Replaced => S::Replaced,
            DmpDocumentStatus::Deleted => S::Deleted,
            DmpDocumentStatus::Archived => S::Archived,
        }
    }
}

/// What [`SegurClient::dmp_send`] and [`SegurClient::dmp_retry`] did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DmpSendResult {
    /// The document's uniqueId.
    pub unique_id: String,
    /// The submission set's uniqueId.
    pub submission_set_unique_id: String,
    /// Outbox status (`Accessible`).
    pub status: DmpDocumentStatus,
    /// Its label ("Accessible dans le DMP").
    pub status_label: String,
    /// The registry answered PartialSuccess.
    pub partial: bool,
    /// Registry warnings or partial-success error codes.
    pub warnings: Vec<String>,
    /// Fields whose value differs between the DMP and our identity (DMP/CONF.01, confirmed).
    pub traits_mismatch: Vec<String>,
    /// The DMP already held this very document (an earlier send whose answer was lost): it
    /// was not registered again.
    pub already_registered: bool,
    /// entryUUID in the registry, when known.
    pub entry_uuid: Option<String>,
}

impl From<segur::DmpSendView> for DmpSendResult {
    fn from(s: segur::DmpSendView) -> Self {
        DmpSendResult {
            unique_id: s.unique_id,
            submission_set_unique_id: s.submission_set_unique_id,
            status: s.status.into(),
            status_label: s.status_label,
            partial: s.partial,
            warnings: s.warnings,
            traits_mismatch: s.traits_mismatch,
            already_registered: s.already_registered,
            entry_uuid: s.entry_uuid,
        }
    }
}

// ---- consulting ---------------------------------------------------------------------------

/// XDS availability status of a document entry (ITI TF-3 4.2.3.2.2; JDV_J52).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DmpAvailability {
    /// Current.
    Approved,
    /// Replaced by a newer version.
    Deprecated,
    /// Archived.
    Archived,
    /// Deleted.
    Deleted,
}

impl DmpAvailability {
    fn code(self) -> &'static str {
        match self {
            DmpAvailability::Approved => "approved",
            DmpAvailability::Deprecated => "deprecated",
            DmpAvailability::Archived => "archived",
            DmpAvailability::Deleted => "deleted",
        }
    }
}

/// Criteria of [`SegurClient::dmp_find`] (ITI-18 FindDocuments); all optional, combined with
/// AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct DmpFindQuery {
    /// Document type codes (JDV_J07, e.g. `SYNTH`, `11488-4`).
    #[uniffi(default = [])]
    pub type_codes: Vec<String>,
    /// Created at or after.
    #[uniffi(default = None)]
    pub since: Option<SystemTime>,
    /// Created before.
    #[uniffi(default = None)]
    pub until: Option<SystemTime>,
    /// Statuses (default: `Approved` only).
    #[uniffi(default = [])]
    pub statuses: Vec<DmpAvailability>,
    /// Author national id.
    #[uniffi(default = None)]
    pub author: Option<String>,
}

impl TryFrom<DmpFindQuery> for segur::DmpFindQuery {
    type Error = SegurError;

    fn try_from(q: DmpFindQuery) -> Result<Self> {
        Ok(segur::DmpFindQuery {
            type_codes: q.type_codes,
            since: q.since.map(utc).transpose()?,
            until: q.until.map(utc).transpose()?,
            statuses: q.statuses.iter().map(|s| s.code().to_owned()).collect(),
            author: q.author,
        })
    }
}

/// A document entry of the patient's DMP (XDS DocumentEntry).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DmpEntry {
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
    /// creationTime.
    pub creation_time: Option<SystemTime>,
    /// serviceStartTime as given (HL7 DTM).
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

impl From<segur::DmpEntryView> for DmpEntry {
    fn from(e: segur::DmpEntryView) -> Self {
        DmpEntry {
            unique_id: e.unique_id,
            entry_uuid: e.entry_uuid,
            status: e.status,
            status_label: e.status_label,
            type_code: e.type_code,
            type_display: e.type_display,
            class_code: e.class_code,
            format_code: e.format_code,
            title: e.title,
            creation_time: e.creation_time.map(SystemTime::from),
            service_start_time: e.service_start_time,
            author: e.author,
            confidentiality: e.confidentiality,
            masked: e.masked,
            invisible_patient: e.invisible_patient,
            size: e.size,
            mime_type: e.mime_type,
            repository_unique_id: e.repository_unique_id,
        }
    }
}

/// A document retrieved from the DMP (ITI-43), size and hash checked against its entry.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DmpRetrieved {
    /// Its entry.
    pub entry: DmpEntry,
    /// The bytes (hand them to [`crate::cda_parse`]).
    pub content: Vec<u8>,
}

/// An ITI-57 change of [`SegurClient::dmp_update`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
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

impl From<DmpUpdate> for segur::DmpUpdate {
    fn from(u: DmpUpdate) -> Self {
        use segur::DmpUpdate as U;
        match u {
            DmpUpdate::Mask => U::Mask,
            DmpUpdate::Unmask => U::Unmask,
            DmpUpdate::HideFromPatient => U::HideFromPatient,
            DmpUpdate::ShowToPatient => U::ShowToPatient,
            DmpUpdate::Delete => U::Delete,
            DmpUpdate::Archive => U::Archive,
        }
    }
}

// ---- the dashboard ------------------------------------------------------------------------

/// Filters of [`SegurClient::dmp_dashboard`]; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct DmpDocumentQuery {
    /// Patient local id.
    #[uniffi(default = None)]
    pub patient_local_id: Option<String>,
    /// Practitioner national id.
    #[uniffi(default = None)]
    pub practitioner: Option<String>,
    /// Status.
    #[uniffi(default = None)]
    pub status: Option<DmpDocumentStatus>,
    /// Created from (inclusive).
    #[uniffi(default = None)]
    pub from: Option<SystemTime>,
    /// Created before (exclusive).
    #[uniffi(default = None)]
    pub to: Option<SystemTime>,
    /// At most this many rows, newest first (default 1000).
    #[uniffi(default = None)]
    pub limit: Option<u32>,
}

impl TryFrom<DmpDocumentQuery> for segur::DmpDocumentQuery {
    type Error = SegurError;

    fn try_from(q: DmpDocumentQuery) -> Result<Self> {
        Ok(segur::DmpDocumentQuery {
            patient_local_id: q.patient_local_id,
            practitioner: q.practitioner,
            status: q.status.map(Into::into),
            from: q.from.map(utc).transpose()?,
            to: q.to.map(utc).transpose()?,
            limit: q.limit,
        })
    }
}

/// A document sent from here, as the DMP dashboard shows it ("Tableau de bord des échanges").
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DmpDocumentRow {
    /// XDS uniqueId.
    pub unique_id: String,
    /// Patient local id.
    pub patient_local_id: String,
    /// INS.
    pub ins: String,
    /// Practitioner national id.
    pub practitioner: Option<String>,
    /// typeCode.
    pub document_type: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Status.
    pub status: DmpDocumentStatus,
    /// Its dashboard label.
    pub status_label: String,
    /// Confidentiality codes in force.
    pub confidentiality: Vec<String>,
    /// uniqueId of the version it replaces.
    pub replaces: Option<String>,
    /// entryUUID in the registry, when known.
    pub entry_uuid: Option<String>,
    /// First stored (RFC 3339 UTC).
    pub created_at: String,
    /// Last change (RFC 3339 UTC).
    pub updated_at: String,
    /// Last error (never patient identity).
    pub last_error: Option<String>,
    /// Why the last attempt was refused before sending; none otherwise.
    pub not_sent_reason: Option<DmpFeedBlocked>,
    /// For `TraitsMismatch`: the trait codes that differ (DMP/CONF.01).
    pub traits_mismatch: Vec<String>,
}

impl From<segur::DmpDocumentRow> for DmpDocumentRow {
    fn from(r: segur::DmpDocumentRow) -> Self {
        DmpDocumentRow {
            unique_id: r.unique_id,
            patient_local_id: r.patient_local_id,
            ins: r.ins,
            practitioner: r.practitioner,
            document_type: r.document_type,
            title: r.title,
            status: r.status.into(),
            status_label: r.status_label,
            confidentiality: r.confidentiality,
            replaces: r.replaces,
            entry_uuid: r.entry_uuid,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_error: r.last_error,
            not_sent_reason: r.not_sent_reason.as_deref().map(DmpFeedBlocked::from_code),
            traits_mismatch: r.traits_mismatch,
        }
    }
}

// ---- the client ---------------------------------------------------------------------------

impl SegurClient {
    /// The facade and the acting professional of a call (the given one, else the
    /// configuration's).
    fn dmp_call(
        &self,
        practitioner: Option<Practitioner>,
    ) -> Result<(segur::Segur, segur::Practitioner)> {
        let who = match practitioner {
            Some(p) => p.into(),
            None => self.inner.default_practitioner().cloned().ok_or_else(|| {
                segur::SegurError::Config(
                    "no practitioner given and no [practitioner] in the configuration".into(),
                )
            })?,
        };
        Ok((self.inner.clone(), who))
    }
}

#[uniffi::export]
impl SegurClient {
    /// The professional of the configuration's `[practitioner]`, if any.
    pub fn default_practitioner(&self) -> Option<Practitioner> {
        self.inner.default_practitioner().cloned().map(Into::into)
    }

    /// The local id of the qualifiée identity whose INS is `ins` (15 characters). `NotFound`
    /// when none has it, `InvalidInput` when several do (duplicates to merge first).
    pub fn identity_by_ins(&self, ins: String) -> Result<String> {
        Ok(self.inner.identity_by_ins(&ins)?)
    }

    /// TD0.2: does the patient (a qualifiée identity of the journal, else `RnivRefused`) have a
    /// DMP, is it closed, may we feed and consult it. Journaled.
    #[uniffi::method(default(practitioner = None))]
    pub async fn dmp_status(
        &self,
        local_id: String,
        practitioner: Option<Practitioner>,
    ) -> Result<DmpStatus> {
        let (c, who) = self.dmp_call(practitioner)?;
        on_runtime(async move { Ok(c.dmp_status(&local_id, &who).await?.into()) }).await
    }

    /// DMP/CONF.01: a TD0.2 now and the practitioner's confirmation of the traits mismatch it
    /// reports, recorded in the journal; `dmp_send` / `dmp_retry` then send for this patient as
    /// long as TD0.2 reports exactly this mismatch. The trait codes confirmed (`prenoms`...);
    /// `InvalidInput` when there is no mismatch.
    #[uniffi::method(default(practitioner = None))]
    pub async fn dmp_confirm_traits(
        &self,
        local_id: String,
        practitioner: Option<Practitioner>,
    ) -> Result<Vec<String>> {
        let (c, who) = self.dmp_call(practitioner)?;
        on_runtime(async move { Ok(c.dmp_confirm_traits(&local_id, &who).await?.fields) }).await
    }

    /// TD0.3 AJOUT with the patient's consent (recorded in the journal): our access afterwards.
    #[uniffi::method(default(practitioner = None))]
    pub async fn dmp_authorize(
        &self,
        local_id: String,
        consent: DmpConsent,
        practitioner: Option<Practitioner>,
    ) -> Result<Option<DmpAccess>> {
        let (c, who) = self.dmp_call(practitioner)?;
        let consent = consent.try_into()?;
        on_runtime(async move {
            let access = c.dmp_authorize(&local_id, &who, &consent).await?;
            Ok(access.as_deref().map(DmpAccess::from_code))
        })
        .await
    }

    /// TD0.3 SUPPRESSION: removes our authorization; our access afterwards.
    #[uniffi::method(default(practitioner = None))]
    pub async fn dmp_revoke(
        &self,
        local_id: String,
        practitioner: Option<Practitioner>,
    ) -> Result<Option<DmpAccess>> {
        let (c, who) = self.dmp_call(practitioner)?;
        on_runtime(async move {
            let access = c.dmp_revoke(&local_id, &who).await?;
            Ok(access.as_deref().map(DmpAccess::from_code))
        })
        .await
    }

    /// `listAuthorizationByPatient`: the authorizations on the patient's DMP.
    #[uniffi::method(default(practitioner = None))]
    pub async fn dmp_authorizations(
        &self,
        local_id: String,
        practitioner: Option<Practitioner>,
    ) -> Result<Vec<DmpAuthorization>> {
        let (c, who) = self.dmp_call(practitioner)?;
        on_runtime(async move {
            Ok(c.dmp_authorizations(&local_id, &who)
                .await?
                .into_iter()
                .map(Into::into)
                .collect())
        })
        .await
    }

    /// Sends a CDA document to the patient's DMP (TD0.2 then ITI-41). It is stored in the
    /// journal's outbox first: never lost; after a failure, [`SegurClient::dmp_retry`] sends it
    /// again. `NotSent` when nothing was sent (no DMP, closed, opposition), `TooLarge` over the
    /// size limit, `ServiceRefused` with the DMP's code.
    #[uniffi::method(default(options = None, practitioner = None))]
    pub async fn dmp_send(
        &self,
        local_id: String,
        cda: Vec<u8>,
        options: Option<DmpSendOptions>,
        practitioner: Option<Practitioner>,
    ) -> Result<DmpSendResult> {
        let (c, who) = self.dmp_call(practitioner)?;
        let options = options.unwrap_or_default().into();
        on_runtime(async move { Ok(c.dmp_send(&local_id, &who, &cda, &options).await?.into()) })
            .await
    }

    /// Sends again a document of the outbox whose send failed (or never completed).
    #[uniffi::method(default(practitioner = None))]
    pub async fn dmp_retry(
        &self,
        unique_id: String,
        practitioner: Option<Practitioner>,
    ) -> Result<DmpSendResult> {
        let (c, who) = self.dmp_call(practitioner)?;
        on_runtime(async move { Ok(c.dmp_retry(&unique_id, &who).await?.into()) }).await
    }

    /// ITI-18 FindDocuments: the patient's documents matching `query` (current ones by
    /// default), newest first.
    #[uniffi::method(default(query = None, practitioner = None))]
    pub async fn dmp_find(
        &self,
        local_id: String,
        query: Option<DmpFindQuery>,
        practitioner: Option<Practitioner>,
    ) -> Result<Vec<DmpEntry>> {
        let (c, who) = self.dmp_call(practitioner)?;
        let query = query.unwrap_or_default().try_into()?;
        on_runtime(async move {
            Ok(c.dmp_find(&local_id, &who, &query)
                .await?
                .into_iter()
                .map(Into::into)
                .collect())
        })
        .await
    }

    /// The most recent current VSM of the patient's DMP, if any.
    #[uniffi::method(default(practitioner = None))]
    pub async fn dmp_latest_vsm(
        &self,
        local_id: String,
        practitioner: Option<Practitioner>,
    ) -> Result<Option<DmpEntry>> {
        let (c, who) = self.dmp_call(practitioner)?;
        on_runtime(async move { Ok(c.dmp_latest_vsm(&local_id, &who).await?.map(Into::into)) })
            .await
    }

    /// ITI-43: retrieves a document by uniqueId (size and hash checked).
    #[uniffi::method(default(practitioner = None))]
    pub async fn dmp_get(
        &self,
        local_id: String,
        unique_id: String,
        practitioner: Option<Practitioner>,
    ) -> Result<DmpRetrieved> {
        let (c, who) = self.dmp_call(practitioner)?;
        on_runtime(async move {
            let r = c.dmp_get(&local_id, &who, &unique_id).await?;
            Ok(DmpRetrieved {
                entry: r.entry.into(),
                content: r.content,
            })
        })
        .await
    }

    /// ITI-57: masks, unmasks, hides from or shows to the patient, deletes or archives a
    /// document; the outbox row follows. Returns the registry's warning codes.
    #[uniffi::method(default(practitioner = None))]
    pub async fn dmp_update(
        &self,
        local_id: String,
        unique_id: String,
        update: DmpUpdate,
        practitioner: Option<Practitioner>,
    ) -> Result<Vec<String>> {
        let (c, who) = self.dmp_call(practitioner)?;
        on_runtime(async move {
            Ok(c.dmp_update(&local_id, &who, &unique_id, update.into())
                .await?)
        })
        .await
    }

    /// The DMP dashboard ("Tableau de bord des échanges"): documents sent from here and their
    /// status, newest first.
    pub fn dmp_dashboard(&self, query: DmpDocumentQuery) -> Result<Vec<DmpDocumentRow>> {
        Ok(self
            .inner
            .dmp_dashboard(&query.try_into()?)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn codes_read_restrictively() {
        assert_eq!(DmpAccess::from_code("AUTORISE"), DmpAccess::Autorise);
        assert_eq!(DmpAccess::from_code("EXPIRE"), DmpAccess::Expire);
        assert_eq!(DmpAccess::from_code("?"), DmpAccess::NonAutorise);
        assert_eq!(DmpFeedBlocked::from_code("closed"), DmpFeedBlocked::Closed);
        assert_eq!(
            DmpFeedBlocked::from_code("?"),
            DmpFeedBlocked::FeedingOpposed
        );
        assert_eq!(
            DmpFeedBlocked::from_code("traits_mismatch"),
            DmpFeedBlocked::TraitsMismatch
        );
    }

    #[test]
    fn inputs_convert() {
        let c: segur::DmpConsent = DmpConsent {
            mode: DmpConsentMode::RepresentantLegal,
            collected_at: Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
        }
        .try_into()
        .unwrap();
        assert_eq!(c.mode, "representant_legal");
        assert_eq!(c.collected_at.unwrap().timestamp(), 1_700_000_000);
        let q: segur::DmpFindQuery = DmpFindQuery {
            statuses: vec![DmpAvailability::Deleted, DmpAvailability::Approved],
            ..Default::default()
        }
        .try_into()
        .unwrap();
        assert_eq!(q.statuses, ["deleted", "approved"]);
        for s in [DmpDocumentStatus::Pending, DmpDocumentStatus::Archived] {
            let back: DmpDocumentStatus = segur::DmpDocumentStatus::from(s).into();
            assert_eq!(back, s);
        }
    }
}
