//! Code tables and coded values: the document type (JDV_J07), confidentiality (N/R/V), the XDS
//! class code (ASS_X16) and format code (ASS_A11), and the OIDs of the code systems used.

mod jdv_j07;

use serde::{Deserialize, Serialize};

use crate::error::{CdaError, Result};

/// LOINC.
pub const LOINC: &str = "2.16.840.1.113883.6.1";
/// SNOMED CT.
pub const SNOMED_CT: &str = "2.16.840.1.113883.6.96";
/// CIM-10 (ICD-10).
pub const CIM10: &str = "2.16.840.1.113883.6.3";
/// CCAM (since Feb 2025; was `1.2.250.1.213.2.5`), `cda.md` §3.3 FR-Acte.
pub const CCAM: &str = "1.2.250.1.215.300.1";
/// CIS (code identifiant de spécialité), `cda.md` §3.3 FR-Produit-de-sante.
pub const CIS: &str = "1.2.250.1.213.2.3.1";
/// CIP13 (code identifiant de présentation).
pub const CIP: &str = "1.2.250.1.213.2.3.2";
/// EDQM standard terms (routes of administration).
pub const EDQM: &str = "0.4.0.127.0.16.1.1.2.1";
/// HL7 RoleCode (family relations).
pub const ROLE_CODE: &str = "2.16.840.1.113883.5.111";
/// HL7 AdministrativeGender.
pub const ADMINISTRATIVE_GENDER: &str = "2.16.840.1.113883.5.1";
/// TRE_A05 (SYNTH, CERT_DECL...).
pub const TRE_A05: &str = "1.2.250.1.213.1.1.4.12";
/// RPPS IdNat root of a professional (`8` + RPPS), `cda.md` §2 author.
pub const OID_IDNAT_PS: &str = "1.2.250.1.71.4.2.1";
/// IdNat_Struct root of a structure, `cda.md` §2 author/representedOrganization.
pub const OID_IDNAT_STRUCT: &str = "1.2.250.1.71.4.2.2";

/// A coded value (`CD`/`CE`): code, code system OID, display name, optional code system name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Code {
    /// The code.
    pub code: String,
    /// The code system OID.
    pub system: String,
    /// The display name.
    pub display: String,
    /// The code system name (e.g. `LOINC`), optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_name: Option<String>,
}

impl Code {
    /// A code without code system name.
    pub fn new(code: &str, system: &str, display: &str) -> Self {
        Self {
            code: code.to_owned(),
            system: system.to_owned(),
            display: display.to_owned(),
            system_name: None,
        }
    }
    /// A code with a code system name.
    pub fn named(code: &str, system: &str, display: &str, system_name: &str) -> Self {
        Self {
            system_name: Some(system_name.to_owned()),
            ..Self::new(code, system, display)
        }
    }
}

/// A document type from JDV_J07-XdsTypeCode-CISIS (`1.2.250.1.213.1.1.5.471`): the
/// `ClinicalDocument/code` (StrucMin: code, codeSystem and displayName present, from JDV_J07).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocumentType {
    code: &'static str,
    system: &'static str,
    display: &'static str,
}

impl DocumentType {
    /// Looks a type code up in JDV_J07 (the code alone identifies the concept).
    pub fn from_code(code: &str) -> Result<Self> {
        jdv_j07::JDV_J07
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|&(code, system, display)| Self {
                code,
                system,
                display,
            })
            .ok_or_else(|| CdaError::NotInValueSet {
                code: code.to_owned(),
                value_set: "JDV_J07-XdsTypeCode-CISIS (1.2.250.1.213.1.1.5.471)",
            })
    }
    /// `SYNTH` — Synthèse (the VSM).
    pub fn synthese() -> Self {
        Self::from_code("SYNTH").expect("SYNTH is in JDV_J07")
    }
    /// `11488-4` — CR ou fiche de consultation ou de visite.
    pub fn cr_consultation() -> Self {
        Self::from_code("11488-4").expect("11488-4 is in JDV_J07")
    }
    /// `11490-0` — Lettre de liaison à la sortie d'un établissement de soins.
    pub fn lettre_de_liaison() -> Self {
        Self::from_code("11490-0").expect("11490-0 is in JDV_J07")
    }
    /// `CERT_DECL` — Certificat, déclaration.
    pub fn certificat() -> Self {
        Self::from_code("CERT_DECL").expect("CERT_DECL is in JDV_J07")
    }
    /// The code.
    pub fn code(&self) -> &'static str {
        self.code
    }
    /// The code system OID.
    pub fn system(&self) -> &'static str {
        self.system
    }
    /// The display name.
    pub fn display(&self) -> &'static str {
        self.display
    }
    /// As a [`Code`].
    pub fn to_code(&self) -> Code {
        Code::new(self.code, self.system, self.display)
    }
    /// Every concept of JDV_J07, in value-set order.
    pub fn all() -> impl Iterator<Item = DocumentType> {
        jdv_j07::JDV_J07
            .iter()
            .map(|&(code, system, display)| Self {
                code,
                system,
                display,
            })
    }
    /// The DMP class code (TRE_A03) of this type through ASS_X16-CorrespondanceType-Classe-DMP
    /// (`1.2.250.1.213.1.1.5.587`), for the types whose mapping is recorded in `cda.md` §1; other
    /// types return `None` (the ASS_X16 data file is not in the reference set).
    pub fn class_code(&self) -> Option<Code> {
        let (c, d) = match self.code {
            "SYNTH" | "60591-5" => ("11", "Synthèse"),
            "11488-4" | "11490-0" => ("10", "Compte rendu"),
            "CERT_DECL" | "87273-9" => ("52", "Certificat, déclaration"),
            "57833-6" => ("42", "Prescription"),
            _ => return None,
        };
        Some(Code::new(c, "1.2.250.1.213.1.1.4.1", d))
    }
}

/// `confidentialityCode` of the header: only N, R or V (`2.16.840.1.113883.5.25`, value set
/// `2.16.840.1.113883.1.11.10228`). The DMP masking codes (`MASQUE_PS`, `INVISIBLE_PATIENT`...)
/// are XDS metadata, never CDA (`cda.md` §2), so they cannot be expressed here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Confidentiality {
    /// N — Normal.
    #[default]
    N,
    /// R — Restricted.
    R,
    /// V — Very restricted.
    V,
}

impl Confidentiality {
    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            Self::N => "N",
            Self::R => "R",
            Self::V => "V",
        }
    }
    /// The display name.
    pub fn display(self) -> &'static str {
        match self {
            Self::N => "Normal",
            Self::R => "Restreint",
            Self::V => "Très restreint",
        }
    }
    /// Reads N/R/V; anything else (including `MASQUE_PS`) is refused.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "N" => Some(Self::N),
            "R" => Some(Self::R),
            "V" => Some(Self::V),
            _ => None,
        }
    }
    /// The code system OID.
    pub const SYSTEM: &'static str = "2.16.840.1.113883.5.25";
}

/// XDS formatCode of a CDA document, from its volet templateId (ASS_A11 / TRE_A06 / TRE_A11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FormatCode {
    /// `urn:ihe:iti:xds-sd:pdf:2008` (IHE XDS-SD, level 1 PDF), scheme `1.3.6.1.4.1.19376.1.2.3`.
    XdsSdPdf,
    /// `urn:ihe:iti:xds-sd:text:2008`, scheme `1.3.6.1.4.1.19376.1.2.3`.
    XdsSdText,
    /// `urn:asip:ci-sis:vsm:2012` (VSM 2013 and 2023.01), scheme `1.2.250.1.213.1.1.4.2.282`.
    Vsm,
}

impl FormatCode {
    /// The format code.
    pub fn code(self) -> &'static str {
        match self {
            Self::XdsSdPdf => "urn:ihe:iti:xds-sd:pdf:2008",
            Self::XdsSdText => "urn:ihe:iti:xds-sd:text:2008",
            Self::Vsm => "urn:asip:ci-sis:vsm:2012",
        }
    }
    /// Its coding scheme OID.
    pub fn scheme(self) -> &'static str {
        match self {
            Self::XdsSdPdf | Self::XdsSdText => "1.3.6.1.4.1.19376.1.2.3",
            Self::Vsm => "1.2.250.1.213.1.1.4.2.282",
        }
    }
    /// The display name.
    pub fn display(self) -> &'static str {
        match self {
            Self::XdsSdPdf => "Document à corps non structuré en Pdf/A-1",
            Self::XdsSdText => "Document à corps non structuré en texte brut",
            Self::Vsm => "Volet de Synthèse Médicale",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jdv_j07_matches_reference() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/reference/cda/jeuxDeValeurs/JDV_J07_XdsTypeCode_CISIS.xml");
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{} (../shared/reference): {e}", path.display()));
        let root = segur_net::xml::parse(&bytes, &Default::default()).unwrap();
        let ns = "urn:ihe:iti:svs:2008";
        let list = root
            .child(ns, "ValueSet")
            .and_then(|v| v.child(ns, "ConceptList"))
            .unwrap();
        let reference: Vec<(String, String, String)> = list
            .children_named(ns, "Concept")
            .map(|c| {
                (
                    c.attr("code").unwrap().to_owned(),
                    c.attr("codeSystem").unwrap().to_owned(),
                    c.attr("displayName").unwrap().to_owned(),
                )
            })
            .collect();
        let ours: Vec<(String, String, String)> = jdv_j07::JDV_J07
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        assert_eq!(ours, reference);
        assert_eq!(ours.len(), 114);
    }

    #[test]
    fn standard_types() {
        assert_eq!(DocumentType::synthese().system(), TRE_A05);
        assert_eq!(DocumentType::cr_consultation().system(), LOINC);
        assert_eq!(DocumentType::lettre_de_liaison().code(), "11490-0");
        assert_eq!(DocumentType::certificat().code(), "CERT_DECL");
        assert!(DocumentType::from_code("NOPE").is_err());
        assert_eq!(DocumentType::synthese().class_code().unwrap().code, "11");
        assert_eq!(Confidentiality::from_code("MASQUE_PS"), None);
    }
}
