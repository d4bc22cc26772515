//! Documents (CDA R2) of the surface: building a VSM for a recorded patient (a
//! [`SegurClient`] method: it reads the journal) and the stateless functions on a received
//! document (parse, selective integration, XDS metadata, PDF copy).
//!
//! The received-document model of the facade is large and still growing; the records here carry
//! what a host screen needs (header essentials, the selectable items), and `json` strings carry
//! the full serde form (the same JSON as the CLI and Python), so nothing is lost and the surface
//! does not break when the model gains fields.

use segur::cda::Body;

use crate::{Result, SegurClient, SegurError};

/// A coded value (`CD`/`CE`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CdaCode {
    /// The code.
    pub code: String,
    /// The code system OID.
    pub system: String,
    /// The display name.
    pub display: String,
    /// The code system name (`LOINC`, `CIM10`...), when given.
    pub system_name: Option<String>,
}

impl From<segur::cda::Code> for CdaCode {
    fn from(c: segur::cda::Code) -> Self {
        CdaCode {
            code: c.code,
            system: c.system,
            display: c.display,
            system_name: c.system_name,
        }
    }
}

/// A built document.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BuiltDocument {
    /// The CDA XML.
    pub xml: String,
    /// Document id (XDS form: `root` or `root^extension`).
    pub id: String,
    /// setId (XDS form).
    pub set_id: String,
    /// Whether the INS was written (only for a qualifiée identity, RNIV rule 28).
    pub with_ins: bool,
}

impl From<segur::BuiltDocument> for BuiltDocument {
    fn from(b: segur::BuiltDocument) -> Self {
        BuiltDocument {
            xml: b.xml,
            id: b.id,
            set_id: b.set_id,
            with_ins: b.with_ins,
        }
    }
}

/// The block of the integration screen an item belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CdaItemKind {
    /// Pathologies en cours.
    Pathologie,
    /// Antécédents médicaux.
    AntecedentMedical,
    /// Antécédents chirurgicaux.
    AntecedentChirurgical,
    /// Allergies.
    Allergie,
    /// Antécédents familiaux.
    AntecedentFamilial,
    /// Facteurs de risque professionnels.
    FacteurRisqueProfessionnel,
    /// Habitus / mode de vie.
    Habitus,
    /// Points de vigilance.
    PointDeVigilance,
    /// Traitements au long cours.
    Traitement,
    /// Anything else (kept raw in `json`).
    Autre,
}

impl From<segur::cda::ItemKind> for CdaItemKind {
    fn from(k: segur::cda::ItemKind) -> Self {
        use segur::cda::ItemKind as K;
        match k {
            K::Pathologie => CdaItemKind::Pathologie,
            K::AntecedentMedical => CdaItemKind::AntecedentMedical,
            K::AntecedentChirurgical => CdaItemKind::AntecedentChirurgical,
            K::Allergie => CdaItemKind::Allergie,
            K::AntecedentFamilial => CdaItemKind::AntecedentFamilial,
            K::FacteurRisqueProfessionnel => CdaItemKind::FacteurRisqueProfessionnel,
            K::Habitus => CdaItemKind::Habitus,
            K::PointDeVigilance => CdaItemKind::PointDeVigilance,
            K::Traitement => CdaItemKind::Traitement,
            K::Autre => CdaItemKind::Autre,
        }
    }
}

/// One selectable item of a received document (its typed content is in [`ParsedCda::json`]).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CdaItem {
    /// Stable id (`<block>:<entry id>`): what [`cda_integrate`] takes.
    pub id: String,
    /// Block.
    pub kind: CdaItemKind,
    /// Label to show.
    pub label: String,
    /// Main code, if coded.
    pub code: Option<CdaCode>,
}

/// The INS found in a received document (a received INS is not a qualified identity).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReceivedIns {
    /// The matricule as written (`id/@extension`; "" when absent).
    pub matricule: String,
    /// The OID (`id/@root`: NIR, NIA or a test OID).
    pub oid: String,
}

/// A received document, parsed: the header essentials, the selectable items, and the whole
/// model as JSON.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ParsedCda {
    /// Title.
    pub title: String,
    /// Document type (`code`, JDV_J07).
    pub type_code: CdaCode,
    /// Document id (XDS form).
    pub id: String,
    /// setId (XDS form).
    pub set_id: String,
    /// versionNumber.
    pub version: u32,
    /// effectiveTime (HL7 TS, as written).
    pub effective_time: String,
    /// Confidentiality: N, R or V.
    pub confidentiality: String,
    /// VSM model (`2013`, `2023.01`), when the VSM templateId is present.
    pub vsm_version: Option<String>,
    /// Level 1 (non-XML body): its media type (`application/pdf`...); none for a structured body.
    pub media_type: Option<String>,
    /// The patient's INS, when the document carries one.
    pub patient_ins: Option<ReceivedIns>,
    /// Every selectable item, in document order.
    pub items: Vec<CdaItem>,
    /// The full parsed model (header, body, items with their content) as JSON.
    pub json: String,
}

impl TryFrom<segur::cda::ParsedDocument> for ParsedCda {
    type Error = SegurError;

    fn try_from(doc: segur::cda::ParsedDocument) -> Result<Self> {
        let json = to_json(&doc)?;
        let h = doc.header;
        let vsm_version = doc
            .vsm_version
            .and_then(|v| serde_json::to_value(v).ok())
            .and_then(|v| v.as_str().map(str::to_owned));
        let media_type = match doc.body {
            Body::NonXml { media_type, .. } => Some(media_type),
            Body::Structured => None,
        };
        let patient_ins = h.patient.ins().map(|i| ReceivedIns {
            matricule: i.extension.clone().unwrap_or_default(),
            oid: i.root.clone(),
        });
        Ok(ParsedCda {
            title: h.title,
            type_code: h.code.into(),
            id: h.id.to_xds(),
            set_id: h.set_id.to_xds(),
            version: h.version,
            effective_time: h.effective_time,
            confidentiality: h.confidentiality.code().to_owned(),
            vsm_version,
            media_type,
            patient_ins,
            items: doc
                .items
                .into_iter()
                .map(|i| CdaItem {
                    id: i.id.0,
                    kind: i.kind.into(),
                    label: i.label,
                    code: i.code.map(Into::into),
                })
                .collect(),
            json,
        })
    }
}

/// The PDF copy of a document.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PdfCopy {
    /// The PDF.
    pub pdf: Vec<u8>,
    /// The MSSanté file name `<date>_<type>_<NOM>_<prénom>.pdf`.
    pub file_name: String,
}

/// Serialises a facade value; a failure is a bug of the model, not of the input.
fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| SegurError::internal(format!("JSON: {e}")))
}

#[uniffi::export]
impl SegurClient {
    /// Builds a VSM (volet de synthèse médicale) for a recorded patient from a request JSON (the
    /// format of `cli/examples/vsm-request.json`; its `patient` is the local id). The INS is
    /// written only when the identity is qualifiée. Malformed request: `InvalidInput`; unknown
    /// patient: `NotFound`.
    pub fn cda_vsm_build(&self, request_json: String) -> Result<BuiltDocument> {
        Ok(self.inner.cda_vsm_build_json(&request_json)?.into())
    }
}

/// Parses a received CDA (level 1 or VSM). Refused documents (not XML, DOCTYPE, not a
/// `ClinicalDocument`, a mandatory part missing): `InvalidDocument`.
#[uniffi::export]
pub fn cda_parse(xml: Vec<u8>) -> Result<ParsedCda> {
    segur::cda_parse(&xml)?.try_into()
}

/// The items chosen on the integration screen (ids of [`CdaItem`]) as a VSM summary, in JSON
/// (the `summary` of a VSM request). An id not in the document: `InvalidInput`.
#[uniffi::export]
pub fn cda_integrate(xml: Vec<u8>, selection: Vec<String>) -> Result<String> {
    to_json(&segur::cda_integrate(&xml, &selection)?)
}

/// The XDS metadata of a document (DocumentEntry: classCode, typeCode, patientId with the INS,
/// uniqueId, hash...), in JSON.
#[uniffi::export]
pub fn cda_metadata_json(xml: Vec<u8>) -> Result<String> {
    to_json(&segur::cda_metadata(&xml)?)
}

/// The PDF copy of a document (level 1: its own PDF; VSM: its narrative rendered) with the
/// MSSanté file name.
#[uniffi::export]
pub fn cda_pdf(xml: Vec<u8>) -> Result<PdfCopy> {
    let copy = segur::cda_pdf(&xml)?;
    Ok(PdfCopy {
        pdf: copy.pdf,
        file_name: copy.file_name,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn reference_vsm() -> Option<Vec<u8>> {
        let dir = std::env::var_os("SEGUR_REFERENCE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference")
            });
        std::fs::read(dir.join("cda/ExemplesCDA/VSM_1.4_2022.01.xml")).ok()
    }

    #[test]
    fn refused_documents_are_invalid_document() {
        for bad in [
            &b"<html/>"[..],
            b"<!DOCTYPE x [<!ENTITY e \"e\">]><ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>",
            b"not xml",
        ] {
            let e = cda_parse(bad.to_vec()).unwrap_err();
            assert!(
                matches!(e, SegurError::InvalidDocument { code: 105, .. }),
                "{e:?}"
            );
        }
    }

    #[test]
    fn reference_vsm_parses_integrates_and_renders() {
        let xml = reference_vsm()
            .expect("VSM_1.4_2022.01.xml not found in SEGUR_REFERENCE or ../shared/reference");
        let doc = cda_parse(xml.clone()).unwrap();
        assert!(!doc.items.is_empty());
        assert!(doc.vsm_version.is_some());
        assert!(doc.json.starts_with('{'));
        let ids: Vec<String> = doc.items.iter().take(2).map(|i| i.id.clone()).collect();
        let summary = cda_integrate(xml.clone(), ids).unwrap();
        assert!(summary.starts_with('{'));
        let e = cda_integrate(xml.clone(), vec!["nope:0".into()]).unwrap_err();
        assert_eq!(e.code(), 100);
        assert!(cda_metadata_json(xml.clone())
            .unwrap()
            .contains("unique_id"));
        let pdf = cda_pdf(xml).unwrap();
        assert!(pdf.pdf.starts_with(b"%PDF-"));
        assert!(pdf.file_name.ends_with(".pdf"));
    }
}
