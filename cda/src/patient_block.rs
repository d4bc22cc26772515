//! The patient block printed at the top of a PDF copy. Its own module so that the header (which
//! makes one from the patient it writes) does not depend on the PDF writer, which reads parsed
//! documents, whose model uses the header's types: header → here ← pdf → parse → header.

/// The patient block printed at the top of a copy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PdfPatient {
    /// Nom de naissance.
    pub nom_naissance: String,
    /// Prénoms de naissance.
    pub prenoms: String,
    /// Sexe (M/F/I).
    pub sexe: String,
    /// Birth date `YYYYMMDD`.
    pub date_naissance: String,
    /// Birthplace COG.
    pub lieu_naissance: Option<String>,
    /// Matricule INS (15 characters) and its OID, only for a qualified identity.
    pub ins: Option<(String, String)>,
}
