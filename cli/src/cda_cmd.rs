//! `segur cda vsm build|parse|pdf|metadata`.

use std::path::{Path, PathBuf};

use segur_cda::{
    Author, CdaTime, Confidentiality, DocumentType, Encounter, Header, Informant, InsMode,
    InstanceId, MedecinTraitant, Organization, Patient, Professional, Recipient, ServiceEvent, Vsm,
    VsmSummary,
};
use segur_ins_core::insi::Environment;
use serde::Deserialize;
use serde_json::json;

use crate::output::Out;

/// What `segur cda vsm build` reads: the summary and the document context. The patient is a
/// local identifier of the journal named by `--config`: its INS is written only if the identity
/// is qualifiée (RNIV rule 28), with the test OIDs allowed in the sandbox environment only.
#[derive(Debug, Deserialize)]
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

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn done(out: &Out, r: Result<serde_json::Value, String>, kind: &str) -> u8 {
    match r {
        Ok(v) => {
            if out.json {
                out.json(&v);
            } else if let Some(s) = v.get("message").and_then(|m| m.as_str()) {
                println!("{s}");
            }
            0
        }
        Err(e) => out.fail(kind, &e),
    }
}

pub fn vsm_build(out: &Out, request: &Path, config: &Path, output: &Path) -> u8 {
    let r = (|| {
        let req: VsmRequest = serde_json::from_slice(&read(request)?)
            .map_err(|e| format!("{}: {e}", request.display()))?;
        let segur = segur::Segur::open_file(config).map_err(|e| e.to_string())?;
        let record = segur
            .identity_record(&req.patient)
            .map_err(|e| e.to_string())?;
        let mode = match segur.config().environment {
            Environment::Sandbox => InsMode::Sandbox,
            _ => InsMode::Production,
        };
        let (patient, with_ins) = match record.qualified() {
            Ok(q) => (
                Patient::qualified(&q, &req.ipp_root, mode).map_err(|e| e.to_string())?,
                true,
            ),
            Err(_) => (Patient::local(&record, &req.ipp_root), false),
        };
        let now = CdaTime::now();
        let version = req.version_number.unwrap_or(1);
        let header = Header {
            id: InstanceId::generate(),
            set_id: req.set_id.unwrap_or_else(InstanceId::generate),
            version,
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
        let xml = Vsm::new(header, req.summary)
            .to_xml()
            .map_err(|e| e.to_string())?;
        write(output, xml.as_bytes())?;
        Ok(json!({
            "ok": true,
            "file": output,
            "bytes": xml.len(),
            "ins": with_ins,
            "message": format!(
                "VSM written to {} ({} bytes){}",
                output.display(),
                xml.len(),
                if with_ins { "" } else { " — without INS: the identity is not qualifiée" }
            ),
        }))
    })();
    done(out, r, "cda")
}

pub fn parse(out: &Out, file: &Path) -> u8 {
    let r = (|| {
        let doc = segur_cda::parse(&read(file)?).map_err(|e| e.to_string())?;
        if out.json {
            return serde_json::to_value(&doc).map_err(|e| e.to_string());
        }
        let mut lines = vec![format!(
            "{} — {} (version {})",
            doc.header.title, doc.header.code.code, doc.header.version
        )];
        for item in &doc.items {
            lines.push(format!("  [{}] {:?}: {}", item.id.0, item.kind, item.label));
        }
        Ok(json!({ "message": lines.join("\n") }))
    })();
    done(out, r, "cda")
}

pub fn metadata(out: &Out, file: &Path) -> u8 {
    let r = (|| {
        let m = segur_cda::metadata(&read(file)?).map_err(|e| e.to_string())?;
        let v = serde_json::to_value(&m).map_err(|e| e.to_string())?;
        if out.json {
            return Ok(v);
        }
        Ok(json!({ "message": serde_json::to_string_pretty(&v).unwrap_or_default() }))
    })();
    done(out, r, "cda")
}

pub fn pdf(out: &Out, file: &Path, output: Option<PathBuf>) -> u8 {
    let r = (|| {
        let doc = segur_cda::parse(&read(file)?).map_err(|e| e.to_string())?;
        let (bytes, name) = segur_cda::pdf::pdf_copy(&doc).map_err(|e| e.to_string())?;
        let path = output.unwrap_or_else(|| PathBuf::from(&name));
        write(&path, &bytes)?;
        Ok(json!({
            "ok": true,
            "file": path,
            "name": name,
            "bytes": bytes.len(),
            "message": format!("PDF written to {} ({} bytes)", path.display(), bytes.len()),
        }))
    })();
    done(out, r, "cda")
}
