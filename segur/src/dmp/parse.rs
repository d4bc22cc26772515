//! What a host gives, read into `segur_dmp`'s types: the acting practitioner (VIHF user and
//! purpose), the patient's consent, document type and availability codes, the confidentiality
//! codes kept in the outbox; and back: registry outcomes, journal statuses.

use segur_cda::{Code, DocumentType};
use segur_dmp::client::{DmpDocument, DmpUser};
use segur_dmp::habilitations::{ConsentMode, PatientConsent};
use segur_dmp::vihf::{AuthentificationMode, PsId, PurposeOfUse, Role};
use segur_dmp::xds::{AvailabilityStatus, DmpConfidentiality, Masking, Outcome as XdsOutcome};
use segur_dmp::DmpError;
use segur_net::trace::{Exchange, Outcome};

use super::DmpConsent;
use crate::error::{Result, SegurError};
use crate::views::Practitioner;
use chrono::Utc;

pub(super) fn invalid(e: DmpError) -> SegurError {
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

pub(super) fn consent_of(c: &DmpConsent) -> Result<PatientConsent> {
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

pub(super) fn type_code(code: &str) -> Result<Code> {
    Ok(DocumentType::from_code(code.trim())
        .map_err(|_| SegurError::InvalidInput("unknown document type code (JDV_J07)".into()))?
        .to_code())
}

pub(super) fn availability(s: &str) -> Result<AvailabilityStatus> {
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
pub(super) fn stored_codes(first: &str, conf: DmpConfidentiality) -> Vec<String> {
    std::iter::once(first.to_owned())
        .chain(conf.codes().into_iter().map(|c| c.code().to_owned()))
        .collect()
}

/// The DMP confidentiality the stored codes express.
pub(super) fn stored_confidentiality(codes: &[String]) -> DmpConfidentiality {
    let codes: Vec<Code> = codes.iter().map(|c| Code::new(c, "", "")).collect();
    DmpConfidentiality::from_codes(&codes)
}

/// A document to hand to the client.
pub(super) fn dmp_document(
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

pub(super) fn outcome_warnings(o: &XdsOutcome) -> (bool, Vec<String>) {
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
pub(super) fn journal_status(x: &Exchange) -> (String, Option<String>) {
    match &x.outcome {
        Outcome::Ok => ("ok".into(), None),
        Outcome::Fault(c) => ("fault".into(), Some(c.clone())),
        Outcome::Failed(_) => ("failed".into(), None),
    }
}
