//! The one error type of `segur-cda`.
//!
//! Messages never contain patient identity: they name the element path, the rule and the field.

use segur_net::NetError;

/// Everything that can fail in `segur-cda`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CdaError {
    /// The XML itself was refused by the hardened reader (DOCTYPE, size, depth, encoding, syntax).
    #[error("XML refused: {0}")]
    Xml(#[from] NetError),
    /// The root element is not `{urn:hl7-org:v3}ClinicalDocument`.
    #[error(
        "root element must be {{urn:hl7-org:v3}}ClinicalDocument, found {{{namespace}}}{name}"
    )]
    WrongRoot {
        /// Namespace URI found ("" when none).
        namespace: String,
        /// Local name found.
        name: String,
    },
    /// A mandatory element or attribute is missing (CI-SIS en-tête / volet rule).
    #[error("{path}: missing {what}")]
    Missing {
        /// Element path (namespace-free), e.g. `/ClinicalDocument/recordTarget/patientRole`.
        path: String,
        /// What is missing (element or `@attribute`).
        what: &'static str,
    },
    /// An element or attribute is present but its value is not allowed.
    #[error("{path}: invalid value ({rule})")]
    Invalid {
        /// Element path.
        path: String,
        /// The rule broken.
        rule: &'static str,
    },
    /// A code is not in the value set required here.
    #[error("code {code:?} is not in value set {value_set}")]
    NotInValueSet {
        /// The code given.
        code: String,
        /// Value set name and OID.
        value_set: &'static str,
    },
    /// The INS may not be written in this mode (RNIV rule 28 / test OIDs outside sandbox mode).
    #[error("INS refused: {0}")]
    InsRefused(&'static str),
    /// A builder input is missing or inconsistent.
    #[error("{field}: {detail}")]
    Input {
        /// The input field.
        field: &'static str,
        /// What is wrong.
        detail: &'static str,
    },
    /// The document is not a VSM (wrong templateId / code) where a VSM is required.
    #[error("not a VSM: {0}")]
    NotVsm(&'static str),
    /// The VSM summary JSON could not be read.
    #[error("VSM summary JSON: {0}")]
    Json(String),
    /// Rendering the PDF copy failed.
    #[error("PDF: {0}")]
    Pdf(String),
}

/// Result alias.
pub type Result<T, E = CdaError> = std::result::Result<T, E>;
