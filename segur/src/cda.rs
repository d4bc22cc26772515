//! Documents (CDA R2) through the facade: build a VSM for a recorded patient (its INS only when
//! the identity is qualifiée, RNIV rule 28), parse a received document for selective
//! integration, derive its XDS metadata, render its PDF copy.

use segur_cda::{
    Author, CdaTime, Confidentiality, DocumentType, Encounter, Header, Informant, InsMode,
    InstanceId, MedecinTraitant, Organization, Patient, Professional, Recipient, ServiceEvent, Vsm,
};
use segur_ins_core::insi::Environment;

/// The document model of the layer below, re-exported so that a surface depends on the facade
/// alone: what [`cda_parse`] returns, its items and codes, and the typed CDA error.
pub use segur_cda::{parse::Body, CdaError, Code, Item, ItemId, ItemKind};
pub use segur_cda::{ParsedDocument, VsmSummary, XdsMetadata};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SegurError};
use crate::Segur;

/// What building a VSM needs besides the patient: the summary and the document context. The
/// JSON form is the one of `cli/examples/vsm-request.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VsmRequest {
    /// Patient local identifier (IPP) in the journal.
    pub patient: String,
    /// OID of the IPP assigning authority.
    pub ipp_root: String,
    /// Title (default "Synthèse médicale").
    #[serde(default)]
    pub title: Option<String>,
    /// N, R or V (default N).
    #[serde(default)]
    pub confidentiality: Option<Confidentiality>,
    /// Version number (default 1).
    #[serde(default)]
    pub version_number: Option<u32>,
    /// setId (default: a new one).
    #[serde(default)]
    pub set_id: Option<InstanceId>,
    /// Id of the version this one replaces (RPLC).
    #[serde(default)]
    pub replaces: Option<InstanceId>,
    /// Authors.
    pub authors: Vec<Author>,
    /// Informants.
    #[serde(default)]
    pub informants: Vec<Informant>,
    /// Custodian.
    pub custodian: Organization,
    /// Recipients.
    #[serde(default)]
    pub recipients: Vec<Recipient>,
    /// Legal authenticator.
    pub legal_authenticator: Professional,
    /// Médecin traitant.
    #[serde(default)]
    pub medecin_traitant: Option<MedecinTraitant>,
    /// serviceEvent.
    pub service_event: ServiceEvent,
    /// encompassingEncounter.
    pub encounter: Encounter,
    /// The content.
    pub summary: VsmSummary,
}

/// A built document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BuiltDocument {
    /// The CDA XML.
    pub xml: String,
    /// Document id (`root` or `root^extension`).
    pub id: String,
    /// setId.
    pub set_id: String,
    /// Whether the INS was written (the identity is qualifiée).
    pub with_ins: bool,
}

/// A PDF copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfCopy {
    /// The PDF.
    pub pdf: Vec<u8>,
    /// The MSSanté file name `<date>_<type>_<NOM>_<prénom>.pdf`.
    pub file_name: String,
}

impl Segur {
    /// Builds a VSM for a recorded patient. The INS is written only for a qualifiée identity;
    /// test OIDs are accepted in the sandbox environment only.
    pub fn cda_vsm_build(&self, req: VsmRequest) -> Result<BuiltDocument> {
        let record = self.identity_record(&req.patient)?;
        let mode = match self.config().environment {
            Environment::Sandbox => InsMode::Sandbox,
            _ => InsMode::Production,
        };
        let (patient, with_ins) = match record.qualified() {
            Ok(q) => (Patient::qualified(&q, &req.ipp_root, mode)?, true),
            Err(_) => (Patient::local(&record, &req.ipp_root), false),
        };
        let now = CdaTime::now();
        let header = Header {
            id: InstanceId::generate(),
            set_id: req.set_id.unwrap_or_else(InstanceId::generate),
            version: req.version_number.unwrap_or(1),
            doc_type: DocumentType::synthese(),
            title: req.title.unwrap_or_else(|| "Synthèse médicale".into()),
            effective_time: now,
            confidentiality: req.confidentiality.unwrap_or_default(),
            patient,
            authors: req.authors,
            informants: req.informants,
            custodian: req.custodian,
            recipients: req.recipients,
            legal_authenticator: (req.legal_authenticator, now),
            medecin_traitant: req.medecin_traitant,
            service_event: req.service_event,
            encounter: req.encounter,
            replaces: req.replaces,
        };
        let (id, set_id) = (header.id.to_xds(), header.set_id.to_xds());
        let xml = Vsm::new(header, req.summary).to_xml()?;
        Ok(BuiltDocument {
            xml,
            id,
            set_id,
            with_ins,
        })
    }

    /// [`Segur::cda_vsm_build`] from the request's JSON.
    pub fn cda_vsm_build_json(&self, json: &str) -> Result<BuiltDocument> {
        let req: VsmRequest = serde_json::from_str(json)
            .map_err(|e| SegurError::InvalidInput(format!("VSM request: {}", json_error(&e))))?;
        self.cda_vsm_build(req)
    }
}

/// A JSON error without the offending value (it may be patient identity): serde's message is kept
/// only when it names a field, else the category and position.
pub(crate) fn json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    if msg.starts_with("missing field")
        || msg.starts_with("unknown field")
        || msg.starts_with("duplicate field")
    {
        msg
    } else {
        format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        )
    }
}

/// Parses a received CDA (level 1 or VSM) into the typed model, every item with a stable id.
pub fn cda_parse(xml: &[u8]) -> Result<ParsedDocument> {
    Ok(segur_cda::parse(xml)?)
}

/// The items chosen on the integration screen, as a VSM summary (exactly the selection).
pub fn cda_integrate(xml: &[u8], selection: &[String]) -> Result<VsmSummary> {
    let doc = segur_cda::parse(xml)?;
    let ids: Vec<segur_cda::ItemId> = selection.iter().cloned().map(segur_cda::ItemId).collect();
    for id in &ids {
        if !doc.items.iter().any(|i| &i.id == id) {
            return Err(SegurError::InvalidInput(format!(
                "no item {:?} in this document",
                id.0
            )));
        }
    }
    Ok(doc.integrate(&ids))
}

/// XDS metadata derived from the header (for the DMP and XDM).
pub fn cda_metadata(xml: &[u8]) -> Result<XdsMetadata> {
    Ok(segur_cda::metadata(xml)?)
}

/// The PDF copy of a document (level 1: its own PDF; VSM: its narrative) with the MSSanté file
/// name.
pub fn cda_pdf(xml: &[u8]) -> Result<PdfCopy> {
    let doc = segur_cda::parse(xml)?;
    let (pdf, file_name) = segur_cda::pdf::pdf_copy(&doc)?;
    Ok(PdfCopy { pdf, file_name })
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_errors_never_quote_values() {
        let e =
            serde_json::from_str::<super::VsmRequest>(r#"{"patient": 12, "ipp_root": "ADRDEUX"}"#)
                .unwrap_err();
        let m = super::json_error(&e);
        assert!(!m.contains("12") || m.contains("line"), "{m}");
        let e = serde_json::from_str::<u32>(r#""ADRDEUX""#).unwrap_err();
        assert!(!super::json_error(&e).contains("ADRDEUX"));
        let e = serde_json::from_str::<super::VsmRequest>("{}").unwrap_err();
        assert!(super::json_error(&e).starts_with("missing field"));
    }
}
