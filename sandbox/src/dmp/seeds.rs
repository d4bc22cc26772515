//! The DMPs the simulator starts with: one per test identity of the INSi simulator
//! ([`crate::insi::seeds::SEEDS`]) except those left without a DMP, with the ANS CI-SIS example
//! documents (`../shared/reference/cda/ExemplesCDA`) stored as they are, their metadata written
//! from their CDA headers and their hash and size computed on the stored bytes.
//!
//! | Patient (INSi seed) | INS (OID) | DMP | Documents | Authorizations | Oppositions |
//! |---|---|---|---|---|---|
//! | PAT-TROIS DOMINIQUE, F, 1979-03-28 (ANS examples) | `279035121518989` (`.10`) | open | VSM (`VSM_1.4_2022.01`), vaccination note (`VAC-NOTE_2023.01`), prescription (`eP-MED-DM_2024.01_PosoStruct`) by `801234567897`; lab report N1 (`DOC_NON_STRUCTURE_CDA-R2-N1`) by `801234534765`, **MASQUE_PS** | `801234567897` AUTORISE, médecin traitant | — |
//! | ADRDEUX LAURENT | `181016322075140` (`.8`) | open | a VSM: the ANS VSM with this patient in `recordTarget` | — | — |
//! | ADRUN ZOE | `275126322074974` | open | — | — | — |
//! | ADRTROIS TOUSSAINT (2B) | `160012B02077713` | **closed** | — | — | — |
//! | ADRTROIS DOMINIQUE (2A) | `297022A02077878` | **none** | | | |
//! | PROVISOIRE MATRICULE (NIA) | `109076322088835` (`.9`) | **none** | | | |
//! | ECETINSI PIERRE-ALAIN | `109076322083489` | open | — | — | **access, every PS** (`INTERDIT`) |
//! | TCHITCHI CATARINA | `236066322083656` | open | — | — | **feeding, every PS** |
//! | CORSE ANTHONY | `180032B02040123` | open | — | `810000000042` **EXPIRE** | — |
//! | NESSI NATHALIE | `277076322082910` | open, DMP given name **RUTH** (differs from INSi: DMP/CONF.01) | — | — | — |
//! | DE VINCI LEONARDO (63220), HERMAN GATIEN, NESSI MICHELANGELO | (their INS) | open | — | — | — |
//! | DE VINCI LEONARDO (Italy) | | **none** | | | |
//!
//! The example documents are read at start from `$SEGUR_REFERENCE_DIR/cda/ExemplesCDA` (default:
//! `../shared/reference` next to the workspace); when absent the DMPs are seeded without
//! documents (a warning is logged).

use std::collections::BTreeMap;
use std::path::PathBuf;

use bytes::Bytes;
use segur_ins_core::matricule::Matricule;
use segur_net::xml::{escape, parse, XmlLimits};

use super::ebrim::{self, PatientId, LCM_NS, RIM_NS};
use super::repository::{register, Submitter};
use super::store::{Db, DmpRecord, Habilitation, OppositionKind, Store, ALL_PS};
use crate::insi::seeds::{Seed, SEEDS};
use crate::SandboxError;

/// The médecin traitant of PAT-TROIS, author of the example VSM (authorized on her DMP).
pub const PS_MEDECIN_TRAITANT: &str = "801234567897";
/// The biologist who wrote PAT-TROIS's lab report, masked to other professionals.
pub const PS_BIOLOGISTE: &str = "801234534765";
/// A professional whose authorization on CORSE ANTHONY's DMP has expired.
pub const PS_EXPIRE: &str = "810000000042";
/// INS of PAT-TROIS DOMINIQUE, the patient of the ANS example documents.
pub const INS_PAT_TROIS: &str = "279035121518989";
/// The test NIR OID.
pub const OID_NIR_TEST: &str = "1.2.250.1.213.1.4.10";
/// uniqueId of the example VSM in PAT-TROIS's DMP.
pub const VSM_UNIQUE_ID: &str = "1.2.250.1.213.1.1.1.13.2022.1.1";
/// uniqueId of the masked lab report in PAT-TROIS's DMP.
pub const LAB_UNIQUE_ID: &str = "1.3.6.1.4.1.19376.1.2.20.12345.1.1";
/// uniqueId of the VSM in ADRDEUX LAURENT's DMP.
pub const ADRDEUX_VSM_UNIQUE_ID: &str = "1.2.250.1.213.1.1.1.13.2022.1.2";
const SOURCE_ID: &str = "1.2.250.1.213.4.1.1.1.9";

/// What a seeded identity has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Closed,
    NoDmp,
}

/// The 15-character INS of an INSi seed (key computed when the seed has none).
pub fn ins_of(seed: &Seed) -> String {
    let key = if seed.active.key.is_empty() {
        Matricule::received(seed.active.number, None)
            .map(|m| m.key_str())
            .unwrap_or_default()
    } else {
        seed.active.key.to_owned()
    };
    format!("{}{key}", seed.active.number)
}

fn state_of(seed: &Seed) -> State {
    match (seed.nom, seed.liste_prenom, seed.cog) {
        ("ADRTROIS", "TOUSSAINT", _) => State::Closed,
        ("ADRTROIS", "DOMINIQUE", _) | ("PROVISOIRE", _, _) | ("DE VINCI", _, "99127") => {
            State::NoDmp
        }
        _ => State::Open,
    }
}

/// A coded value: (code, codingScheme, displayName).
type Code = (&'static str, &'static str, &'static str);

struct SeedDoc {
    file: &'static str,
    unique_id: &'static str,
    title: &'static str,
    type_code: Code,
    class_code: Code,
    format_code: Code,
    practice: Code,
    facility: Code,
    /// UTC DTM.
    creation: &'static str,
    service_start: &'static str,
    service_stop: Option<&'static str>,
    author: &'static str,
    author_id: &'static str,
    institution: &'static str,
    specialty: &'static str,
    masked: bool,
}

const AMBULATOIRE: Code = ("AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire");
const CABINET: Code = ("SA07", "1.2.250.1.71.4.2.4", "Cabinet individuel");
const LOINC: &str = "2.16.840.1.113883.6.1";
const CLASS_SYSTEM: &str = "1.2.250.1.213.1.1.4.1";
const GENERALISTE: &str =
    "G15_10/SM26^Médecin - Qualifié en Médecine Générale (SM)^1.2.250.1.213.1.1.4.5";

/// The ANS example documents (values from their CDA headers; times converted to UTC).
const PAT_TROIS_DOCS: &[SeedDoc] = &[
    SeedDoc {
        file: "VSM_1.4_2022.01.xml",
        unique_id: VSM_UNIQUE_ID,
        title: "Synthèse Médicale",
        type_code: ("SYNTH", "1.2.250.1.213.1.1.4.12", "Synthèse"),
        class_code: ("11", CLASS_SYSTEM, "Synthèse"),
        format_code: (
            "urn:asip:ci-sis:vsm:2012",
            "1.2.250.1.213.1.1.4.2.282",
            "Volet de synthèse médicale",
        ),
        practice: (
            "ETABLISSEMENT",
            "1.2.250.1.213.1.1.4.9",
            "Etablissement de santé",
        ),
        facility: ("SA04", "1.2.250.1.71.4.2.4", "Etablissement privé non PSPH"),
        creation: "20200312101700",
        service_start: "20200312101700",
        service_stop: None,
        author: "801234567897^MEDIONI^Stéphane^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
        author_id: PS_MEDECIN_TRAITANT,
        institution: "Centre de soins le Belvédère^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^2801234567",
        specialty: GENERALISTE,
        masked: false,
    },
    SeedDoc {
        file: "VAC-NOTE_2023.01.xml",
        unique_id: "1.2.250.1.213.1.1.1.46.2023.1.1",
        title: "NOTE DE VACCINATION",
        type_code: ("87273-9", LOINC, "Note de vaccination"),
        class_code: ("52", CLASS_SYSTEM, "Certificat, déclaration"),
        format_code: (
            "urn:asip:ci-sis:vac-note:2021",
            "1.2.250.1.213.1.1.4.2.282",
            "Note de vaccination",
        ),
        practice: AMBULATOIRE,
        facility: CABINET,
        creation: "20210409143500",
        service_start: "20210409143500",
        service_stop: None,
        author: "801234567897^MULLER^Charles^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
        author_id: PS_MEDECIN_TRAITANT,
        institution: "Cabinet Médical du Dr MULLER^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750803447",
        specialty: GENERALISTE,
        masked: false,
    },
    SeedDoc {
        file: "DOC_NON_STRUCTURE_CDA-R2-N1.xml",
        unique_id: LAB_UNIQUE_ID,
        title: "Compte rendu d'examens biologiques",
        type_code: ("11502-2", LOINC, "CR d'examens biologiques"),
        class_code: ("10", CLASS_SYSTEM, "Compte rendu"),
        format_code: (
            "urn:ihe:iti:xds-sd:pdf:2008",
            "1.3.6.1.4.1.19376.1.2.3",
            "Document à corps non structuré en Pdf/A-1",
        ),
        practice: AMBULATOIRE,
        facility: CABINET,
        creation: "20210401124745",
        service_start: "20210104124700",
        service_stop: Some("20210104125500"),
        author: "801234534765^CAMPARINI^Marcel^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
        author_id: PS_BIOLOGISTE,
        institution: "Laboratoire des charmes^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1120459876",
        specialty: "G15_10/SM03^Médecin - Biologie médicale (SM)^1.2.250.1.213.1.1.4.5",
        masked: true,
    },
    SeedDoc {
        file: "eP-MED-DM_2024.01_PosoStruct.xml",
        unique_id: "1.2.250.1.213.1.1.1.39.2024.2.1",
        title: "Prescription de médicaments et/ou de dispositifs médicaux",
        type_code: ("57833-6", LOINC, "Prescription de produits de santé"),
        class_code: ("42", CLASS_SYSTEM, "Prescription"),
        format_code: (
            "urn:ihe:pharm:pre:2010",
            "1.3.6.1.4.1.19376.1.2.3",
            "Prescription",
        ),
        practice: AMBULATOIRE,
        facility: CABINET,
        creation: "20231201083000",
        service_start: "20231201081000",
        service_stop: Some("20240730081000"),
        author: "801234567897^PIOU^Romain^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
        author_id: PS_MEDECIN_TRAITANT,
        institution: "Cabinet du DR Pierre JOLI^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750512345",
        specialty: GENERALISTE,
        masked: false,
    },
];

/// The reference data folder: `$SEGUR_REFERENCE_DIR`, else `../shared/reference` next to the
/// workspace this crate was built in.
pub fn reference_dir() -> PathBuf {
    std::env::var_os("SEGUR_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/reference"
            ))
        })
}

fn read_example(file: &str) -> Option<Vec<u8>> {
    let path = reference_dir().join("cda/ExemplesCDA").join(file);
    match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::warn!(file, error = %e, "DMP sandbox: example document not found, not seeded");
            None
        }
    }
}

fn classification(out: &mut String, scheme: &str, object: &str, code: &Code) {
    let (c, system, display) = code;
    out.push_str(&format!(
        "<rim:Classification id=\"{}\" classificationScheme=\"{scheme}\" classifiedObject=\"{object}\" nodeRepresentation=\"{}\"><rim:Slot name=\"codingScheme\"><rim:ValueList><rim:Value>{}</rim:Value></rim:ValueList></rim:Slot><rim:Name><rim:LocalizedString value=\"{}\"/></rim:Name></rim:Classification>",
        ebrim::new_uuid_urn(),
        escape(c),
        escape(system),
        escape(display)
    ));
}

fn slot(out: &mut String, name: &str, value: &str) {
    out.push_str(&format!(
        "<rim:Slot name=\"{name}\"><rim:ValueList><rim:Value>{}</rim:Value></rim:ValueList></rim:Slot>",
        escape(value)
    ));
}

fn external_id(out: &mut String, scheme: &str, object: &str, value: &str, name: &str) {
    out.push_str(&format!(
        "<rim:ExternalIdentifier id=\"{}\" identificationScheme=\"{scheme}\" registryObject=\"{object}\" value=\"{}\"><rim:Name><rim:LocalizedString value=\"{name}\"/></rim:Name></rim:ExternalIdentifier>",
        ebrim::new_uuid_urn(),
        escape(value)
    ));
}

/// A `lcm:SubmitObjectsRequest` registering one document for `patient` (ITI-41 metadata, as
/// an LPS would send it, `dmp.md` §5).
fn submission(doc: &SeedDoc, unique_id: &str, patient: &PatientId) -> String {
    let cx = patient.to_cx();
    let mut o = String::with_capacity(8192);
    o.push_str(&format!(
        "<lcm:SubmitObjectsRequest xmlns:lcm=\"{LCM_NS}\" xmlns:rim=\"{RIM_NS}\"><rim:RegistryObjectList>"
    ));
    // Submission set.
    o.push_str("<rim:RegistryPackage id=\"SubmissionSet01\">");
    slot(&mut o, "submissionTime", doc.creation);
    o.push_str("<rim:Name><rim:LocalizedString value=\"");
    o.push_str(&escape(doc.title));
    o.push_str("\"/></rim:Name>");
    o.push_str(&format!(
        "<rim:Classification id=\"{}\" classifiedObject=\"SubmissionSet01\" classificationNode=\"{}\"/>",
        ebrim::new_uuid_urn(),
        ebrim::SS_NODE
    ));
    o.push_str(&format!(
        "<rim:Classification id=\"{}\" classificationScheme=\"{}\" classifiedObject=\"SubmissionSet01\" nodeRepresentation=\"\">",
        ebrim::new_uuid_urn(),
        ebrim::SS_AUTHOR
    ));
    slot(&mut o, "authorInstitution", doc.institution);
    slot(&mut o, "authorPerson", doc.author);
    slot(&mut o, "authorSpecialty", doc.specialty);
    o.push_str("</rim:Classification>");
    classification(
        &mut o,
        ebrim::CONTENT_TYPE_CODE,
        "SubmissionSet01",
        &doc.facility,
    );
    external_id(
        &mut o,
        ebrim::SS_PATIENT_ID,
        "SubmissionSet01",
        &cx,
        "XDSSubmissionSet.patientId",
    );
    external_id(
        &mut o,
        ebrim::SS_SOURCE_ID,
        "SubmissionSet01",
        SOURCE_ID,
        "XDSSubmissionSet.sourceId",
    );
    external_id(
        &mut o,
        ebrim::SS_UNIQUE_ID,
        "SubmissionSet01",
        &format!("2.25.{}", uuid::Uuid::new_v4().as_u128()),
        "XDSSubmissionSet.uniqueId",
    );
    o.push_str("</rim:RegistryPackage>");
    // Document entry.
    o.push_str(&format!(
        "<rim:ExtrinsicObject id=\"Document01\" mimeType=\"text/xml\" objectType=\"{}\">",
        ebrim::DE_STABLE
    ));
    slot(&mut o, "creationTime", doc.creation);
    slot(&mut o, "languageCode", "fr-FR");
    slot(&mut o, "legalAuthenticator", doc.author);
    slot(&mut o, "serviceStartTime", doc.service_start);
    if let Some(stop) = doc.service_stop {
        slot(&mut o, "serviceStopTime", stop);
    }
    slot(
        &mut o,
        "sourcePatientId",
        "1234567890121^^^&1.2.3.4.567.8.9.10&ISO^PI",
    );
    o.push_str("<rim:Name><rim:LocalizedString value=\"");
    o.push_str(&escape(doc.title));
    o.push_str("\"/></rim:Name>");
    o.push_str(&format!(
        "<rim:Classification id=\"{}\" classificationScheme=\"{}\" classifiedObject=\"Document01\" nodeRepresentation=\"\">",
        ebrim::new_uuid_urn(),
        ebrim::DE_AUTHOR
    ));
    slot(&mut o, "authorInstitution", doc.institution);
    slot(&mut o, "authorPerson", doc.author);
    slot(&mut o, "authorSpecialty", doc.specialty);
    o.push_str("</rim:Classification>");
    classification(&mut o, ebrim::CLASS_CODE, "Document01", &doc.class_code);
    classification(
        &mut o,
        ebrim::CONF_CODE,
        "Document01",
        &("N", "2.16.840.1.113883.5.25", "Normal"),
    );
    if doc.masked {
        classification(
            &mut o,
            ebrim::CONF_CODE,
            "Document01",
            &(
                ebrim::MASQUE_PS,
                ebrim::DMP_CONF_SYSTEM,
                "Masqué aux professionnels de santé",
            ),
        );
    }
    classification(&mut o, ebrim::FORMAT_CODE, "Document01", &doc.format_code);
    classification(&mut o, ebrim::HCF_CODE, "Document01", &doc.facility);
    classification(&mut o, ebrim::PRACTICE_CODE, "Document01", &doc.practice);
    classification(&mut o, ebrim::TYPE_CODE, "Document01", &doc.type_code);
    external_id(
        &mut o,
        ebrim::DE_PATIENT_ID,
        "Document01",
        &cx,
        "XDSDocumentEntry.patientId",
    );
    external_id(
        &mut o,
        ebrim::DE_UNIQUE_ID,
        "Document01",
        unique_id,
        "XDSDocumentEntry.uniqueId",
    );
    o.push_str("</rim:ExtrinsicObject>");
    o.push_str(&format!(
        "<rim:Association id=\"as01\" associationType=\"{}\" sourceObject=\"SubmissionSet01\" targetObject=\"Document01\">",
        ebrim::HAS_MEMBER
    ));
    slot(&mut o, "SubmissionSetStatus", "Original");
    o.push_str("</rim:Association></rim:RegistryObjectList></lcm:SubmitObjectsRequest>");
    o
}

/// The example VSM with another patient in `recordTarget` (and another document id).
fn vsm_for(bytes: &[u8], seed: &Seed, ins: &str, unique_id: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let start = text.find("<recordTarget>")?;
    let end = text.find("</recordTarget>")?;
    let first = seed
        .liste_prenom
        .split(' ')
        .next()
        .unwrap_or(seed.liste_prenom);
    let gender = if seed.sexe == "M" {
        "code=\"M\" displayName=\"Masculin\""
    } else {
        "code=\"F\" displayName=\"Féminin\""
    };
    let block = text
        .get(start..end)?
        .replace(
            "extension=\"279035121518989\" root=\"1.2.250.1.213.1.4.10\"",
            &format!("extension=\"{ins}\" root=\"{}\"", seed.active.oid),
        )
        .replace(INS_PAT_TROIS, ins)
        .replace("PAT-TROIS", seed.nom)
        .replace("DOMINIQUE MARIE-LOUISE", seed.liste_prenom)
        .replace("DOMINIQUE", first)
        .replace("code=\"F\" displayName=\"Féminin\"", gender)
        .replace("19790328", &seed.date.replace('-', ""))
        .replace(
            "<county>51215</county>",
            &format!("<county>{}</county>", seed.cog),
        );
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(text.get(..start)?);
    out.push_str(&block);
    out.push_str(text.get(end..)?);
    Some(
        out.replacen(
            &format!("root=\"{VSM_UNIQUE_ID}\""),
            &format!("root=\"{unique_id}\""),
            1,
        )
        .into_bytes(),
    )
}

fn store_doc(
    db: &Db<'_>,
    doc: &SeedDoc,
    unique_id: &str,
    patient: &PatientId,
    bytes: Vec<u8>,
) -> Result<(), SandboxError> {
    let sor_text = submission(doc, unique_id, patient);
    let sor = parse(sor_text.as_bytes(), &XmlLimits::default())
        .map_err(|e| SandboxError::Store(format!("seed metadata: {e}")))?;
    let mut docs = BTreeMap::new();
    docs.insert("Document01".to_owned(), Bytes::from(bytes));
    let who = Submitter {
        patient,
        ps_id: doc.author_id,
    };
    let errors = register(db, &sor, &docs, &who)?;
    if let Some(e) = errors.first() {
        return Err(SandboxError::Store(format!(
            "seed document {} refused: {} {}",
            doc.file, e.code, e.context
        )));
    }
    Ok(())
}

/// Seeds the store once, in one transaction (a `seeded` mark is kept in it).
pub fn seed(store: &Store) -> Result<(), SandboxError> {
    store.write(|db| -> Result<(), SandboxError> {
        if db.meta("seeded")?.is_some() {
            return Ok(());
        }
        let mut adrdeux = None;
        for s in SEEDS {
            let ins = ins_of(s);
            let state = state_of(s);
            if state == State::NoDmp {
                continue;
            }
            let given = match (s.nom, s.liste_prenom) {
                ("NESSI", "NATHALIE") => "RUTH".to_owned(),
                _ => s.liste_prenom.split(' ').next().unwrap_or("").to_owned(),
            };
            db.put_dmp(&DmpRecord {
                ins: ins.clone(),
                oid: s.active.oid.to_owned(),
                closed: state == State::Closed,
                family: s.nom.to_owned(),
                given,
                gender: s.sexe.to_owned(),
                birth_date: s.date.replace('-', ""),
            })?;
            match s.nom {
                "PAT-TROIS" => db.put_habilitation(
                    &ins,
                    &Habilitation {
                        ps_id: PS_MEDECIN_TRAITANT.to_owned(),
                        nom: "MEDIONI".into(),
                        prenom: "Stéphane".into(),
                        date_debut: "20200101080000".into(),
                        date_fin: None,
                        medecin_traitant: true,
                    },
                )?,
                "ECETINSI" => db.add_opposition(&ins, ALL_PS, OppositionKind::Acces)?,
                "TCHITCHI" => db.add_opposition(&ins, ALL_PS, OppositionKind::Alimentation)?,
                "CORSE" => db.put_habilitation(
                    &ins,
                    &Habilitation {
                        ps_id: PS_EXPIRE.to_owned(),
                        nom: "EXPIRE".into(),
                        prenom: "Test".into(),
                        date_debut: "20230101080000".into(),
                        date_fin: Some("20240101080000".into()),
                        medecin_traitant: false,
                    },
                )?,
                "ADRDEUX" => adrdeux = Some((s, ins)),
                _ => {}
            }
        }
        let pat_trois = PatientId {
            id: INS_PAT_TROIS.to_owned(),
            oid: OID_NIR_TEST.to_owned(),
        };
        for doc in PAT_TROIS_DOCS {
            if let Some(bytes) = read_example(doc.file) {
                store_doc(db, doc, doc.unique_id, &pat_trois, bytes)?;
            }
        }
        if let (Some((seed, ins)), Some(vsm), Some(doc)) = (
            adrdeux,
            read_example("VSM_1.4_2022.01.xml"),
            PAT_TROIS_DOCS.first(),
        ) {
            if let Some(bytes) = vsm_for(&vsm, seed, &ins, ADRDEUX_VSM_UNIQUE_ID) {
                let patient = PatientId {
                    id: ins,
                    oid: seed.active.oid.to_owned(),
                };
                store_doc(db, doc, ADRDEUX_VSM_UNIQUE_ID, &patient, bytes)?;
            }
        }
        db.set_meta("seeded", "1")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_follow_the_table() {
        let store = Store::in_memory().unwrap();
        seed(&store).unwrap();
        seed(&store).unwrap(); // idempotent
        store
            .read(|db| -> Result<(), SandboxError> {
                let p = db.dmp(INS_PAT_TROIS)?.unwrap();
                assert_eq!((p.family.as_str(), p.given.as_str()), ("PAT-TROIS", "DOMINIQUE"));
                assert_eq!((p.gender.as_str(), p.birth_date.as_str()), ("F", "19790328"));
                let docs = db.entries_for_patient(&format!(
                    "{INS_PAT_TROIS}^^^&{OID_NIR_TEST}&ISO^NH"
                ))?;
                assert_eq!(docs.len(), 4);
                let vsm = docs.iter().find(|d| d.unique_id == VSM_UNIQUE_ID).unwrap();
                let bytes = db.document(VSM_UNIQUE_ID)?.unwrap().1;
                assert_eq!(vsm.size, bytes.len() as u64);
                assert_eq!(vsm.hash, super::super::repository::sha1_hex(&bytes));
                let lab = docs.iter().find(|d| d.unique_id == LAB_UNIQUE_ID).unwrap();
                assert!(super::super::submission::masked_for(lab, "899999999999"));
                assert!(!super::super::submission::masked_for(lab, PS_BIOLOGISTE));
                let closed = SEEDS.iter().find(|s| s.liste_prenom == "TOUSSAINT").unwrap();
                assert!(db.dmp(&ins_of(closed))?.unwrap().closed);
                let none = SEEDS.iter().find(|s| s.cog == "2A020").unwrap();
                assert!(db.dmp(&ins_of(none))?.is_none());
                let adrdeux = SEEDS.iter().find(|s| s.nom == "ADRDEUX").unwrap();
                let ins = ins_of(adrdeux);
                assert_eq!(ins, "181016322075140");
                let bytes = db.document(ADRDEUX_VSM_UNIQUE_ID)?.unwrap().1;
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.contains("extension=\"181016322075140\" root=\"1.2.250.1.213.1.4.8\""));
                assert!(!text.contains("PAT-TROIS"));
                Ok(())
            })
            .unwrap();
    }
}
