//! Refusals, the types [`DmpError`](crate::DmpError) carries: the DMP's refusal codes
//! ([`RefusalCode`], read from SOAP faults and registry errors) and the local reasons not to
//! feed after TD0.2 ([`FeedBlocked`], with the [`TraitsMismatch`] of DMP/CONF.01).
//!
//! They depend on nothing else in the crate, so that `error` does not depend on the modules
//! that return errors; [`envelope`](crate::envelope) and [`patients`](crate::patients)
//! re-export them where they are read.

use std::fmt;

/// A DMP refusal code (`docs/dmp-wire.md` "DMP refusals" [I]), carried as a SOAP fault subcode
/// by `/patients` and `/habilitations` and as a registry `errorCode` by the XDS services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalCode {
    /// `DMP_VIHF_INVALIDE`: VIHF missing, badly signed, untrusted, expired or incomplete.
    VihfInvalide,
    /// `DMP_INEXISTANT`: no DMP for this INS.
    Inexistant,
    /// `DMP_FERME`: the DMP is closed.
    Ferme,
    /// `DMP_ACCES_NON_AUTORISE`: consultation or update without authorisation.
    AccesNonAutorise,
    /// `DMP_OPPOSITION`: the patient opposed access or feeding by this professional.
    Opposition,
    /// `DMP_PATIENT_DIFFERENT`: the VIHF resource-id and the metadata patientId differ.
    PatientDifferent,
}

impl RefusalCode {
    /// Every code, for tests and tables.
    pub const ALL: [RefusalCode; 6] = [
        RefusalCode::VihfInvalide,
        RefusalCode::Inexistant,
        RefusalCode::Ferme,
        RefusalCode::AccesNonAutorise,
        RefusalCode::Opposition,
        RefusalCode::PatientDifferent,
    ];

    /// The code as on the wire.
    pub fn code(self) -> &'static str {
        match self {
            RefusalCode::VihfInvalide => "DMP_VIHF_INVALIDE",
            RefusalCode::Inexistant => "DMP_INEXISTANT",
            RefusalCode::Ferme => "DMP_FERME",
            RefusalCode::AccesNonAutorise => "DMP_ACCES_NON_AUTORISE",
            RefusalCode::Opposition => "DMP_OPPOSITION",
            RefusalCode::PatientDifferent => "DMP_PATIENT_DIFFERENT",
        }
    }

    /// What the code means (`docs/dmp-wire.md`), for users and traces.
    pub fn description(self) -> &'static str {
        match self {
            RefusalCode::VihfInvalide => {
                "VIHF missing, badly signed, untrusted, expired or incomplete"
            }
            RefusalCode::Inexistant => "the patient has no DMP",
            RefusalCode::Ferme => "the patient's DMP is closed",
            RefusalCode::AccesNonAutorise => "access without the patient's authorisation",
            RefusalCode::Opposition => "the patient opposed access or feeding by this professional",
            RefusalCode::PatientDifferent => "the VIHF patient and the metadata patientId differ",
        }
    }

    /// Reads a code (a QName prefix such as `dmp:` is ignored); `None` when unknown.
    pub fn from_code(code: &str) -> Option<Self> {
        let t = code.trim();
        let local = t.rsplit_once(':').map_or(t, |(_, l)| l);
        Self::ALL.into_iter().find(|c| c.code() == local)
    }
}

impl fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A strict trait that differs between the DMP and our identity (DMP/CONF.01).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum TraitField {
    /// Nom de naissance.
    NomNaissance,
    /// Prénoms (neither the whole list nor the first one matches).
    Prenoms,
    /// Sexe.
    Sexe,
    /// Date de naissance.
    DateNaissance,
}

impl TraitField {
    /// The field's name, for messages and traces.
    pub fn name(self) -> &'static str {
        match self {
            TraitField::NomNaissance => "nom de naissance",
            TraitField::Prenoms => "prénoms",
            TraitField::Sexe => "sexe",
            TraitField::DateNaissance => "date de naissance",
        }
    }

    /// A stable machine code (`nom_naissance`, `prenoms`, `sexe`, `date_naissance`), for
    /// journals and bindings.
    pub fn code(self) -> &'static str {
        match self {
            TraitField::NomNaissance => "nom_naissance",
            TraitField::Prenoms => "prenoms",
            TraitField::Sexe => "sexe",
            TraitField::DateNaissance => "date_naissance",
        }
    }

    /// Reads [`TraitField::code`] (or [`TraitField::name`]).
    pub fn from_code(code: &str) -> Option<Self> {
        [
            TraitField::NomNaissance,
            TraitField::Prenoms,
            TraitField::Sexe,
            TraitField::DateNaissance,
        ]
        .into_iter()
        .find(|f| f.code() == code.trim() || f.name() == code.trim())
    }
}

/// The DMP's traits differ from ours (DMP/CONF.01): to show the user and record; feeding stops
/// until the user confirms it
/// ([`TraitsAcknowledgement`](crate::patients::TraitsAcknowledgement)). The values are not
/// repeated here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TraitsMismatch {
    /// The fields that differ (never empty).
    pub fields: Vec<TraitField>,
}

impl TraitsMismatch {
    /// The fields as a set (sorted, no repeats): two mismatches are the same when these are.
    pub fn field_set(&self) -> Vec<TraitField> {
        let mut f = self.fields.clone();
        f.sort_unstable();
        f.dedup();
        f
    }
}

impl fmt::Display for TraitsMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the DMP's traits differ from ours: ")?;
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(field.name())?;
        }
        Ok(())
    }
}

/// Why a document may not be sent after TD0.2 (checked locally, before any ITI-41).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum FeedBlocked {
    /// The patient has no DMP.
    NoDmp,
    /// The DMP is closed.
    Closed,
    /// The patient opposed feeding by this professional (DMP/CONF.09).
    FeedingOpposed,
    /// The DMP's traits differ from ours and no
    /// [`TraitsAcknowledgement`](crate::patients::TraitsAcknowledgement) of exactly this
    /// mismatch was given (DMP/CONF.01: stop feeds until confirmed).
    TraitsMismatch(TraitsMismatch),
}

impl FeedBlocked {
    /// A stable machine code: `no_dmp`, `closed`, `feeding_opposed`, `traits_mismatch`.
    pub fn code(&self) -> &'static str {
        match self {
            FeedBlocked::NoDmp => "no_dmp",
            FeedBlocked::Closed => "closed",
            FeedBlocked::FeedingOpposed => "feeding_opposed",
            FeedBlocked::TraitsMismatch(_) => "traits_mismatch",
        }
    }
}

impl fmt::Display for FeedBlocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeedBlocked::NoDmp => f.write_str("the patient has no DMP"),
            FeedBlocked::Closed => f.write_str("the patient's DMP is closed"),
            FeedBlocked::FeedingOpposed => f.write_str(
                "the patient opposed feeding of the DMP by this professional (DMP/CONF.09)",
            ),
            FeedBlocked::TraitsMismatch(m) => {
                write!(f, "{m}; confirm them before feeding (DMP/CONF.01)")
            }
        }
    }
}
