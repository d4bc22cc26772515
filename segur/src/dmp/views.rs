//! The DMP's views and requests as every surface sees them (one definition each, DESIGN §3): the
//! patient's DMP status (TD0.2), authorizations (TD0.3), send options and results, the query and
//! entries of ITI-18, an ITI-57 change.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use segur_dmp::patients::{DmpStatus, FeedBlocked, TraitsAcknowledgement};
use segur_dmp::xds::{AvailabilityStatus, DocumentEntry, Masking};
use segur_ins_core::QualifiedIdentity;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SegurError};
use crate::journal::DmpDocumentStatus;
#[allow(unused_imports)] // doc links
use crate::Segur;

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
    pub(super) fn acknowledged(
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
    pub(super) fn operation(self) -> &'static str {
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
