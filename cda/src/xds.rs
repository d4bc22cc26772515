//! XDS metadata of a CDA document, from its header (issue #4 point 5; `dmp.md` §5.2–5.3): the
//! typed DocumentEntry that DMP (ITI-41) and XDM (MSSanté) consume.

use serde::Serialize;
use sha1::{Digest, Sha1};

use crate::codes::{Code, Confidentiality, DocumentType, FormatCode};
use crate::level1::TEMPLATE_XDS_SD;
use crate::parse::{ParsedDocument, ParsedPerson};
use crate::vsm::TEMPLATE_VSM;

/// The DocumentEntry metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XdsMetadata {
    /// classCode (TRE_A03 via ASS_X16), when the mapping is known.
    pub class_code: Option<Code>,
    /// typeCode = CDA `code` (JDV_J07).
    pub type_code: Code,
    /// formatCode (ASS_A11): code and scheme.
    pub format_code: Option<Code>,
    /// First confidentialityCode (N/R/V); DMP masking codes are added by the DMP layer.
    pub confidentiality_code: Code,
    /// healthcareFacilityTypeCode (JDV_J02).
    pub healthcare_facility_type_code: Option<Code>,
    /// practiceSettingCode (JDV_J04).
    pub practice_setting_code: Option<Code>,
    /// patientId: the INS as CX `<INS>^^^&<oid>&ISO^NH` (None without INS).
    pub patient_id: Option<String>,
    /// sourcePatientId: the IPP as CX `<IPP>^^^&<oid>&ISO^PI` (or the INS when no other id).
    pub source_patient_id: String,
    /// sourcePatientInfo: `PID-5|NOM^PRENOM^^^^^L`, `PID-7|<birth>`, `PID-8|<sex>`.
    pub source_patient_info: Vec<String>,
    /// authorPerson XCN per author.
    pub author_person: Vec<String>,
    /// authorInstitution XON per author (when an organisation is given).
    pub author_institution: Vec<String>,
    /// authorSpecialty per author (code^display^system).
    pub author_specialty: Vec<String>,
    /// legalAuthenticator XCN.
    pub legal_authenticator: Option<String>,
    /// creationTime (UTC `YYYYMMDDHHMMSS`).
    pub creation_time: String,
    /// serviceStartTime (UTC).
    pub service_start_time: Option<String>,
    /// serviceStopTime (UTC).
    pub service_stop_time: Option<String>,
    /// languageCode.
    pub language_code: String,
    /// title.
    pub title: String,
    /// uniqueId: `root` or `root^extension`.
    pub unique_id: String,
    /// mimeType (`text/xml`).
    pub mime_type: &'static str,
    /// SHA-1 of the document bytes, lowercase hex.
    pub hash: String,
    /// Size in bytes.
    pub size: usize,
}

fn utc(ts: &str) -> String {
    match crate::header::CdaTime::parse_hl7(ts) {
        Some(t) => {
            t.0.with_timezone(&chrono::Utc)
                .format("%Y%m%d%H%M%S")
                .to_string()
        }
        None => ts.to_owned(),
    }
}

fn xcn(p: &ParsedPerson) -> Option<String> {
    let id = p.id.as_ref()?;
    let (family, given) = p
        .name
        .as_ref()
        .map(|n| (n.family.clone(), n.given.clone().unwrap_or_default()))
        .unwrap_or_default();
    let kind = if id.root == crate::codes::OID_IDNAT_PS {
        "IDNPS"
    } else {
        "RI"
    };
    Some(format!(
        "{}^{}^{}^^^^^^&{}&ISO^D^^^{}",
        id.extension.as_deref().unwrap_or_default(),
        family,
        given,
        id.root,
        kind
    ))
}

fn xon(p: &ParsedPerson) -> Option<String> {
    let (id, name) = p.organization.as_ref()?;
    let name = name.clone().unwrap_or_default();
    Some(match id {
        Some(i) => format!(
            "{name}^^^^^&{}&ISO^IDNST^^^{}",
            i.root,
            i.extension.as_deref().unwrap_or_default()
        ),
        None => name,
    })
}

impl XdsMetadata {
    /// Metadata of a parsed document whose serialized bytes are `bytes` (hash and size are those
    /// of exactly these bytes).
    pub fn from_document(doc: &ParsedDocument, bytes: &[u8]) -> Self {
        let h = &doc.header;
        let p = &h.patient;
        let ins = p.ins();
        let other = p.ids.iter().find(|i| Some(*i) != ins).or(ins);
        let source_patient_id = other
            .map(|i| {
                format!(
                    "{}^^^&{}&ISO^{}",
                    i.extension.as_deref().unwrap_or_default(),
                    i.root,
                    if Some(i) == ins { "NH" } else { "PI" }
                )
            })
            .unwrap_or_default();
        let mut info = Vec::new();
        if let Some(n) = &p.nom_naissance {
            info.push(format!(
                "PID-5|{}^{}^^^^^L",
                n,
                p.premier_prenom
                    .as_deref()
                    .or(p.prenoms.as_deref())
                    .unwrap_or_default()
            ));
        }
        if let Some(b) = &p.birth_time {
            info.push(format!("PID-7|{b}"));
        }
        if let Some(s) = &p.sexe {
            info.push(format!("PID-8|{s}"));
        }
        let format_code = if h.template_ids.iter().any(|t| t.root == TEMPLATE_XDS_SD) {
            Some(FormatCode::XdsSdPdf)
        } else if h.template_ids.iter().any(|t| t.root == TEMPLATE_VSM) {
            Some(FormatCode::Vsm)
        } else {
            None
        }
        .map(|f| Code::new(f.code(), f.scheme(), f.display()));
        let conf = h.confidentiality;
        Self {
            class_code: DocumentType::from_code(&h.code.code)
                .ok()
                .and_then(|t| t.class_code()),
            type_code: h.code.clone(),
            format_code,
            confidentiality_code: Code::new(conf.code(), Confidentiality::SYSTEM, conf.display()),
            healthcare_facility_type_code: h.facility_type.clone(),
            practice_setting_code: h.practice_setting.clone(),
            patient_id: ins.map(|i| {
                format!(
                    "{}^^^&{}&ISO^NH",
                    i.extension.as_deref().unwrap_or_default(),
                    i.root
                )
            }),
            source_patient_id,
            source_patient_info: info,
            author_person: h.authors.iter().filter_map(xcn).collect(),
            author_institution: h.authors.iter().filter_map(xon).collect(),
            author_specialty: h
                .authors
                .iter()
                .filter_map(|a| a.code.as_ref())
                .map(|c| format!("{}^{}^{}", c.code, c.display, c.system))
                .collect(),
            legal_authenticator: xcn(&h.legal_authenticator),
            creation_time: utc(&h.effective_time),
            service_start_time: h.service_event_time.0.as_deref().map(utc),
            service_stop_time: h.service_event_time.1.as_deref().map(utc),
            language_code: h.language.clone().unwrap_or_else(|| "fr-FR".into()),
            title: h.title.clone(),
            unique_id: h.id.to_xds(),
            mime_type: "text/xml",
            hash: Sha1::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            size: bytes.len(),
        }
    }
}

/// Parses `bytes` and returns its XDS metadata.
pub fn metadata(bytes: &[u8]) -> crate::Result<XdsMetadata> {
    let doc = crate::parse::parse(bytes)?;
    Ok(XdsMetadata::from_document(&doc, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::examples::manual_vsm;
    use crate::vsm::VsmVersion;

    #[test]
    fn vsm_metadata() {
        let xml = manual_vsm(VsmVersion::V2013).to_xml().unwrap();
        let m = metadata(xml.as_bytes()).unwrap();
        assert_eq!(m.type_code.code, "SYNTH");
        assert_eq!(m.class_code.unwrap().code, "11");
        assert_eq!(m.format_code.unwrap().code, "urn:asip:ci-sis:vsm:2012");
        assert_eq!(m.confidentiality_code.code, "N");
        assert_eq!(
            m.patient_id.as_deref(),
            Some("279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH")
        );
        assert_eq!(
            m.source_patient_id,
            "1234567890121^^^&1.2.3.4.567.8.9.10&ISO^PI"
        );
        assert_eq!(m.source_patient_info[0], "PID-5|PAT-TROIS^DOMINIQUE^^^^^L");
        assert_eq!(
            m.author_person[0],
            "801234567897^MEDIONI^Stéphane^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
        );
        assert_eq!(
            m.author_institution[0],
            "Centre de soins le Belvédère^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^2801234567"
        );
        assert_eq!(m.creation_time, "20240312101700");
        assert_eq!(m.practice_setting_code.unwrap().code, "AMBULATOIRE");
        assert_eq!(m.healthcare_facility_type_code.unwrap().code, "SA07");
        assert_eq!(m.size, xml.len());
        assert_eq!(m.hash.len(), 40);
    }
}
