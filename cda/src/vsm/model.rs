//! The VSM content as a host fills it in (and as the CLI reads it from JSON): one list per block
//! of the manual's integration screen.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::Code;

/// Which VSM model to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VsmVersion {
    /// VSM 2013 ("1.4"): templateId extension `201310`; the médecin traitant participant is
    /// mandatory; exactly the 3 top sections (closed model: no PDF copy section).
    #[default]
    #[serde(rename = "2013")]
    V2013,
    /// VSM 2023.01: templateId extension `2023.01`; the PCP participant is no longer required; an
    /// optional FR-Document-PDF-copie section may follow the 3 sections.
    #[serde(rename = "2023.01")]
    V2023,
}

impl VsmVersion {
    /// The templateId extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::V2013 => "201310",
            Self::V2023 => "2023.01",
        }
    }
}

/// A problem (pathologie en cours, antécédent médical): CIM-10 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable id of the entry (UUID or OID); generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Label shown (narrative).
    pub label: String,
    /// CIM-10 code (`2.16.840.1.113883.6.3`).
    pub code: Code,
    /// Start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    /// End.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
}

/// A surgical history item: a CCAM act (`1.2.250.1.215.300.1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    /// Stable id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Label.
    pub label: String,
    /// CCAM code.
    pub code: Code,
    /// Date of the act.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// Reason (CIM-10), written as FR-Reference-interne.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Code>,
}

/// Clinical status of an allergy (FR-Statut-du-probleme, `2.16.840.1.113883.4.642.4.1373`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClinicalStatus {
    /// active.
    Active,
    /// inactive.
    Inactive,
    /// resolved.
    Resolved,
}

impl ClinicalStatus {
    /// (code, display).
    pub fn code(self) -> (&'static str, &'static str) {
        match self {
            Self::Active => ("active", "Actif"),
            Self::Inactive => ("inactive", "Inactif"),
            Self::Resolved => ("resolved", "Résolu"),
        }
    }
    /// From the code.
    pub fn from_code(c: &str) -> Option<Self> {
        match c {
            "active" => Some(Self::Active),
            "inactive" => Some(Self::Inactive),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

/// An allergy or hypersensitivity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allergy {
    /// Stable id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Type (SNOMED CT, e.g. `416098002` allergie médicamenteuse); default from the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Code>,
    /// Agent label (e.g. `PARACETAMOL`).
    pub agent_label: String,
    /// Agent code: CIS (`1.2.250.1.213.2.3.1`) for a medicine, or a substance code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Code>,
    /// Reaction (clinical manifestation) label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction_label: Option<String>,
    /// Reaction code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<Code>,
    /// Since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    /// Clinical status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ClinicalStatus>,
}

/// A family history item: relation (HL7 RoleCode, e.g. `MTH` Mère) + CIM-10 problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyHistory {
    /// Stable id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Relation (`2.16.840.1.113883.5.111`).
    pub relation: Code,
    /// Sex of the relative (`relatedSubject/subject/administrativeGenderCode`, HL7
    /// AdministrativeGender), optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation_gender: Option<Code>,
    /// Problem label.
    pub label: String,
    /// CIM-10 code.
    pub code: Code,
}

/// The value of a habitus observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HabitusValue {
    /// A quantity (`PQ`), e.g. 25 `{pack}/a`.
    Quantity {
        /// Value.
        value: String,
        /// UCUM unit.
        unit: String,
    },
    /// A coded value (`CD`), e.g. SNOMED `398705004` Cannabis.
    Coded(Code),
    /// Free text (`ST`).
    Text(String),
}

/// A habitus / mode de vie item (FR-Habitus): tabac `74011-8`, alcool `74013-4`, drogues
/// `11343-1`, or another LOINC code of JDV_SocialHistoryCodes_CISIS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Habitus {
    /// Stable id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The observation code (LOINC).
    pub code: Code,
    /// Label of the observation (e.g. "Consommation tabagique").
    pub label: String,
    /// The value.
    pub value: HabitusValue,
    /// Text of the value as shown (e.g. "Consommation de cannabis occasionnelle").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_label: Option<String>,
}

impl Habitus {
    /// Consommation tabagique in pack-years (`74011-8`, `{pack}/a`).
    pub fn tabac(pack_years: u32) -> Self {
        Self {
            id: None,
            code: Code::named(
                "74011-8",
                crate::codes::LOINC,
                "Consommation tabagique",
                "LOINC",
            ),
            label: "Consommation tabagique".into(),
            value: HabitusValue::Quantity {
                value: pack_years.to_string(),
                unit: "{pack}/a".into(),
            },
            value_label: None,
        }
    }
    /// Consommation d'alcool in glasses per day (`74013-4`, `{verre}/d`).
    pub fn alcool(glasses_per_day: u32) -> Self {
        Self {
            id: None,
            code: Code::named(
                "74013-4",
                crate::codes::LOINC,
                "Consommation d'alcool",
                "LOINC",
            ),
            label: "Consommation d'alcool".into(),
            value: HabitusValue::Quantity {
                value: glasses_per_day.to_string(),
                unit: "{verre}/d".into(),
            },
            value_label: None,
        }
    }
    /// Consommation de drogue (`11343-1`) with a SNOMED CT substance.
    pub fn drogue(substance: Code, text: &str) -> Self {
        Self {
            id: None,
            code: Code::named(
                "11343-1",
                crate::codes::LOINC,
                "Consommation de drogue non médicales",
                "LOINC",
            ),
            label: "Consommation de drogue".into(),
            value: HabitusValue::Coded(substance),
            value_label: Some(text.to_owned()),
        }
    }
}

/// templateId of the IHE PCC "Patient Medication Instructions" entry
/// (FR-Instructions-au-patient), which carries [`Posology::text`] in a FR-Traitement
/// (schematrons `E_instructionsPatient_int`, `E_medications_fr`).
pub const TEMPLATE_PATIENT_INSTRUCTIONS: &str = "1.3.6.1.4.1.19376.1.5.3.1.4.3";

/// A posology.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Posology {
    /// Dose per intake (decimal string, e.g. "1").
    pub dose: Option<String>,
    /// Dose unit (UCUM, e.g. `{tablet}`).
    pub unit: Option<String>,
    /// Period between intakes: (value, UCUM unit), e.g. ("1", "d").
    pub period: Option<(String, String)>,
    /// Text shown (e.g. "1 cp/j"); generated from the above when absent. Written as a patient
    /// instruction ([`TEMPLATE_PATIENT_INSTRUCTIONS`]) pointing at the narrative posology cell,
    /// and read back from it (narrative whitespace collapsed).
    pub text: Option<String>,
}

impl Posology {
    /// Text shown in the narrative.
    pub fn display(&self) -> String {
        if let Some(t) = &self.text {
            return t.clone();
        }
        let mut s = String::new();
        if let Some(d) = &self.dose {
            s.push_str(d);
            if let Some(u) = &self.unit {
                s.push(' ');
                s.push_str(u.trim_matches(['{', '}']));
            }
        }
        if let Some((v, u)) = &self.period {
            s.push_str(&format!(" toutes les {v} {u}"));
        }
        if s.is_empty() {
            "-".into()
        } else {
            s
        }
    }
}

/// A long-term treatment (FR-Traitement + FR-Produit-de-sante).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Treatment {
    /// Stable id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Label (e.g. "PLAVIX 75 mg, comprimé pelliculé").
    pub label: String,
    /// CIS code (mandatory in FR-Produit-de-sante, rule `E_produitDeSante_fr.sch`).
    pub cis: Code,
    /// CIP13 presentation code (translation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cip13: Option<Code>,
    /// Short product name (`manufacturedMaterial/name`); the label when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    /// End.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    /// Posology.
    #[serde(default)]
    pub posology: Posology,
    /// Route (EDQM, e.g. `20053000` Voie orale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<Code>,
    /// Reason (CIM-10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Code>,
    /// Prescribed in relation to an ALD (FR-En-rapport-avec-ALD, `MED-574`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ald: Option<bool>,
}

/// A non-coded line (facteur de risque professionnel, point de vigilance, autre).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextItem {
    /// Stable id (the narrative `ID`); generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Text.
    pub text: String,
}

impl From<&str> for TextItem {
    fn from(s: &str) -> Self {
        Self {
            id: None,
            text: s.to_owned(),
        }
    }
}

/// The content of a VSM, one list per block of the integration screen of the EHR manual.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VsmSummary {
    /// Model version.
    pub version: VsmVersion,
    /// Pathologies en cours (FR-Problemes-actifs).
    pub pathologies: Vec<Problem>,
    /// Antécédents médicaux (FR-Antecedents-medicaux).
    pub antecedents_medicaux: Vec<Problem>,
    /// Antécédents chirurgicaux (FR-Antecedents-chirurgicaux, CCAM).
    pub antecedents_chirurgicaux: Vec<Procedure>,
    /// Allergies (FR-Allergies-et-hypersensibilites).
    pub allergies: Vec<Allergy>,
    /// Antécédents familiaux.
    pub antecedents_familiaux: Vec<FamilyHistory>,
    /// Facteurs de risque professionnels (non codés).
    pub facteurs_risque_professionnels: Vec<TextItem>,
    /// Habitus, mode de vie (tabac, alcool, drogues).
    pub habitus: Vec<Habitus>,
    /// Points de vigilance (FR-Resultats-examens-non-code).
    pub points_de_vigilance: Vec<TextItem>,
    /// Traitements au long cours.
    pub traitements: Vec<Treatment>,
    /// Autres (written in the narrative of the first section).
    pub autres: Vec<TextItem>,
}

impl VsmSummary {
    /// Reads a summary from JSON.
    pub fn from_json(json: &str) -> crate::Result<Self> {
        serde_json::from_str(json).map_err(|e| crate::CdaError::Json(e.to_string()))
    }
    /// Number of items in all blocks.
    pub fn item_count(&self) -> usize {
        self.pathologies.len()
            + self.antecedents_medicaux.len()
            + self.antecedents_chirurgicaux.len()
            + self.allergies.len()
            + self.antecedents_familiaux.len()
            + self.facteurs_risque_professionnels.len()
            + self.habitus.len()
            + self.points_de_vigilance.len()
            + self.traitements.len()
            + self.autres.len()
    }
}
