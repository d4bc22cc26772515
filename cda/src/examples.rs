//! Example content for tests, benchmarks and demos: the ANS test patient (INS of test,
//! `1.2.250.1.213.1.4.10`, hence [`InsMode::Sandbox`]), the doctor of the ANS examples, and the
//! VSM content of the EHR manual's integration screen (issue #4 point 7).
//!
//! Behind the `testing` feature: [`qualified`] forges an INSi answer
//! ([`InsiIdentity::forged_for_tests`]), which shipped code must never do (RNIV rule 28).

#![allow(clippy::field_reassign_with_default)] // the examples read better block by block

use chrono::{FixedOffset, NaiveDate, TimeZone};
use segur_ins_core::insi::InsiIdentity;
use segur_ins_core::{
    Cog, DateNaissance, IdentityRecord, Ins, InsOid, Matricule, QualifiedIdentity, Sexe,
    TraitsStricts, TrustPolicy,
};

use crate::codes::Confidentiality;
use crate::codes::{Code, DocumentType, CCAM, CIM10, CIP, CIS, EDQM, LOINC, ROLE_CODE, SNOMED_CT};
use crate::header::*;
use crate::level1::Level1Document;
use crate::pdf;
use crate::vsm::*;

/// The IPP domain OID of the examples.
pub const IPP_ROOT: &str = "1.2.3.4.567.8.9.10";

/// A time in Paris winter time.
pub fn time(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> CdaTime {
    CdaTime(
        FixedOffset::east_opt(3600)
            .expect("offset")
            .with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .expect("valid time"),
    )
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The ANS example patient PAT-TROIS DOMINIQUE MARIE-LOUISE (INS-NIR of test), qualified
/// (INSi reply + a high-trust identity document).
pub fn qualified_patient() -> QualifiedIdentity {
    qualified(
        "1234567890121",
        "2790351215189",
        "89",
        "PAT-TROIS",
        "DOMINIQUE MARIE-LOUISE",
        Sexe::F,
        "1979-03-28",
        "51215",
    )
}

/// A qualified test identity from its parts (INS OID of test).
#[allow(clippy::too_many_arguments)]
pub fn qualified(
    ipp: &str,
    nir13: &str,
    key: &str,
    nom: &str,
    prenoms: &str,
    sexe: Sexe,
    naissance: &str,
    cog: &str,
) -> QualifiedIdentity {
    let traits = TraitsStricts::from_insi(
        nom,
        prenoms,
        sexe,
        DateNaissance::parse(naissance).expect("date"),
        Some(Cog::parse(cog).expect("cog")),
    );
    let mut r = IdentityRecord::new(ipp, traits.clone(), Default::default(), "examples");
    r.apply_insi(
        &InsiIdentity::forged_for_tests(
            Ins {
                matricule: Matricule::received(nir13, Some(key)).expect("matricule"),
                oid: InsOid::NirTest,
            },
            vec![],
            traits,
        ),
        "examples",
    )
    .expect("insi");
    r.add_document("CN", &TrustPolicy::default(), "examples")
        .expect("document");
    r.qualified().expect("qualified")
}

/// The address of the ANS examples' practice.
pub fn cabinet_addr() -> Address {
    Address {
        house_number: Some("3".into()),
        street_name: Some("Rue Petit Pont".into()),
        postal_code: Some("75005".into()),
        city: Some("PARIS".into()),
        ..Default::default()
    }
}

/// The organisation of the ANS examples.
pub fn organisation() -> Organization {
    Organization {
        id: Some("2801234567".into()),
        name: Some("Centre de soins le Belvédère".into()),
        telecoms: vec![Telecom {
            value: "tel:0147150000".into(),
            use_code: Some("WP".into()),
        }],
        addr: Some(cabinet_addr()),
        practice_setting: None,
    }
}

/// Dr Stéphane MEDIONI, médecin généraliste (RPPS of the ANS examples).
pub fn medecin() -> Professional {
    Professional {
        rpps: "01234567897".into(),
        name: PersonName {
            prefix: Some("M".into()),
            given: Some("Stéphane".into()),
            family: "MEDIONI".into(),
            suffix: Some("DR".into()),
        },
        profession: Some(Code::named(
            "G15_10/SM26",
            "1.2.250.1.213.1.1.4.5",
            "Médecin - Qualifié en Médecine Générale (SM)",
            "RPPS",
        )),
        addr: Some(cabinet_addr()),
        telecoms: vec![Telecom {
            value: "tel:0147150000".into(),
            use_code: Some("WP".into()),
        }],
        organization: Some(organisation()),
    }
}

/// A complete header for the patient (type and title set by the document constructors).
pub fn header(patient: Patient, at: CdaTime) -> Header {
    let doc = medecin();
    Header {
        id: InstanceId::generate(),
        set_id: InstanceId::generate(),
        version: 1,
        doc_type: crate::codes::DocumentType::synthese(),
        title: String::new(),
        effective_time: at,
        confidentiality: Default::default(),
        patient,
        authors: vec![Author {
            time: at,
            professional: doc.clone(),
            function_code: Some(Code::new(
                "PCP",
                "2.16.840.1.113883.5.88",
                "Médecin traitant",
            )),
        }],
        informants: vec![
            Informant {
                kind: InformantKind::PersonneAPrevenir,
                relation: Some(Code::new("SIS", ROLE_CODE, "Soeur")),
                name: PersonName {
                    given: Some("Sophie".into()),
                    family: "NESSI".into(),
                    ..Default::default()
                },
                telecoms: vec![Telecom {
                    value: "tel:0647150100".into(),
                    use_code: Some("MC".into()),
                }],
                addr: None,
            },
            Informant {
                kind: InformantKind::PersonneDeConfiance,
                relation: Some(Code::new("SIS", ROLE_CODE, "Soeur")),
                name: PersonName {
                    given: Some("Sophie".into()),
                    family: "NESSI".into(),
                    ..Default::default()
                },
                telecoms: vec![],
                addr: None,
            },
        ],
        custodian: organisation(),
        recipients: vec![Recipient {
            rpps: Some("10003541547".into()),
            name: Some(PersonName {
                given: Some("Jean".into()),
                family: "CARDIO".into(),
                suffix: Some("DR".into()),
                ..Default::default()
            }),
            telecoms: vec![Telecom {
                value: "mailto:jean.cardio@test.mssante.fr".into(),
                use_code: None,
            }],
            organization: None,
        }],
        legal_authenticator: (doc.clone(), at),
        medecin_traitant: Some(MedecinTraitant {
            professional: doc.clone(),
            since: time(2020, 3, 12, 11, 20, 0),
        }),
        service_event: ServiceEvent {
            code: None,
            start: at,
            end: None,
            performer: doc.clone(),
            practice_setting: Code::new("AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire"),
        },
        encounter: Encounter {
            code: None,
            start: None,
            end: Some(at),
            responsible: Some(doc),
            facility_type: Code::new("SA07", "1.2.250.1.71.4.2.4", "Cabinet individuel"),
            location_name: Some("Centre de soins le Belvédère".into()),
        },
        replaces: None,
    }
}

/// The VSM content shown in the EHR manual's integration screen (issue #4 point 7).
pub fn manual_summary(version: VsmVersion) -> VsmSummary {
    let cim = |c: &str, d: &str| Code::named(c, CIM10, d, "CIM10");
    VsmSummary {
        version,
        pathologies: vec![
            Problem {
                id: None,
                label: "Accident ischémique cérébral transitoire".into(),
                code: cim("G45.9", "Accident ischémique cérébral transitoire, sans précision"),
                start: date(2019, 8, 11),
                end: None,
            },
            Problem {
                id: None,
                label: "Angine de poitrine instable".into(),
                code: cim("I20.0", "Angine de poitrine instable"),
                start: date(2019, 8, 11),
                end: None,
            },
        ],
        antecedents_medicaux: vec![
            Problem {
                id: None,
                label: "Pyélonéphrite aiguë".into(),
                code: cim("N10", "Pyélonéphrite aiguë"),
                start: date(2018, 4, 22),
                end: date(2018, 4, 30),
            },
            Problem {
                id: None,
                label: "Infarctus transmural inférieur".into(),
                code: cim(
                    "I21.1",
                    "Infarctus transmural aigu du myocarde, de la paroi inférieure",
                ),
                start: date(2018, 1, 14),
                end: date(2018, 1, 25),
            },
        ],
        antecedents_chirurgicaux: vec![Procedure {
            id: None,
            label: "Dilatation intraluminale de 2 vaisseaux coronaires avec pose d'endoprothèse"
                .into(),
            code: Code::named(
                "DDAF004",
                CCAM,
                "Dilatation intraluminale de 2 vaisseaux coronaires avec pose d'endoprothèse, par voie artérielle transcutanée",
                "CCAM",
            ),
            date: date(2018, 1, 14),
            reason: Some(cim(
                "I21.1",
                "Infarctus transmural aigu du myocarde, de la paroi inférieure",
            )),
        }],
        allergies: vec![Allergy {
            id: None,
            kind: None,
            agent_label: "PARACETAMOL".into(),
            agent: Some(Code::named("60234100", CIS, "PARACETAMOL", "CIS")),
            reaction_label: None,
            reaction: None,
            start: date(2018, 6, 3),
            status: Some(ClinicalStatus::Inactive),
        }],
        antecedents_familiaux: vec![FamilyHistory {
            id: None,
            relation: Code::named("MTH", ROLE_CODE, "Mère", "RoleCode"),
            relation_gender: Some(Code::new("F", crate::codes::ADMINISTRATIVE_GENDER, "Féminin")),
            label: "Anémie drépanocytaire".into(),
            code: cim("D57.1", "Anémie à hématies falciformes sans crises"),
        }],
        facteurs_risque_professionnels: vec![
            "Exposition à l'amiante à contrôler (architecte, visites de chantier)".into(),
        ],
        habitus: vec![
            Habitus::tabac(25),
            Habitus::drogue(
                Code::named("398705004", SNOMED_CT, "Cannabis", "SNOMED CT"),
                "Consommation de cannabis occasionnelle",
            ),
        ],
        points_de_vigilance: vec![
            "ECG Hémibloc antérieur gauche".into(),
            "Echodoppler VG non dilaté, trouble de la relaxation du VG".into(),
        ],
        traitements: vec![
            Treatment {
                id: None,
                label: "PLAVIX 75 mg, comprimé pelliculé".into(),
                cis: Code::named("63564053", CIS, "PLAVIX 75 mg, comprimé pelliculé", "CIS"),
                cip13: Some(Code::named(
                    "3400938022209",
                    CIP,
                    "PLAVIX 75 mg, comprimé pelliculé, plaquette(s) thermoformée(s) PVC PVDC aluminium de 30 comprimé(s)",
                    "CIP",
                )),
                name: Some("PLAVIX 75 mg".into()),
                start: date(2019, 8, 11),
                end: None,
                posology: Posology {
                    dose: Some("1".into()),
                    unit: Some("{tablet}".into()),
                    period: Some(("1".into(), "d".into())),
                    text: Some("1 cp/j".into()),
                },
                route: Some(Code::named("20053000", EDQM, "Voie orale", "EDQM")),
                reason: Some(cim("I20.0", "Angine de poitrine instable")),
                ald: Some(true),
            },
            Treatment {
                id: None,
                label: "COUMADINE 5 mg, comprimé sécable".into(),
                cis: Code::named("63245753", CIS, "COUMADINE 5mg, comprimé sécable", "CIS"),
                cip13: Some(Code::named(
                    "3400935693099",
                    CIP,
                    "COUMADINE 5mg, comprimé sécable, plaquette(s) thermoformée(s) PVC-aluminium de 30 comprimé(s)",
                    "CIP",
                )),
                name: Some("COUMADINE 5mg".into()),
                start: date(2019, 8, 11),
                end: None,
                posology: Posology {
                    dose: Some("1".into()),
                    unit: Some("{tablet}".into()),
                    period: Some(("1".into(), "d".into())),
                    text: None,
                },
                route: Some(Code::named("20053000", EDQM, "Voie orale", "EDQM")),
                reason: Some(cim(
                    "G45.9",
                    "Accident ischémique cérébral transitoire, sans précision",
                )),
                ald: Some(false),
            },
        ],
        autres: vec![],
    }
}

/// The manual's VSM as a complete document (sandbox mode: test INS).
pub fn manual_vsm(version: VsmVersion) -> Vsm {
    let p = Patient::qualified(&qualified_patient(), IPP_ROOT, InsMode::Sandbox)
        .expect("qualified test patient in sandbox mode");
    Vsm::new(
        header(p, time(2024, 3, 12, 11, 17, 0)),
        manual_summary(version),
    )
}

/// The qualified test patient as written in the sandbox mode.
pub fn patient() -> Patient {
    Patient::qualified(&qualified_patient(), IPP_ROOT, InsMode::Sandbox).expect("example")
}

/// A patient without INS (identity not qualifiée).
pub fn local_patient() -> Patient {
    let t = TraitsStricts::from_insi(
        "MARTIN",
        "LUC PIERRE",
        Sexe::M,
        DateNaissance::parse("1950-07-01").expect("example"),
        None,
    );
    Patient::local(
        &IdentityRecord::new("IPP-77", t, Default::default(), "t"),
        IPP_ROOT,
    )
}

fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, day)
}

fn at() -> CdaTime {
    time(2024, 5, 2, 9, 30, 15)
}

/// The conformance set of issue #4 point 7: 12 varied VSMs (the manual's content, both models,
/// PDF copy, empty, allergies, treatments, habitus, family history, RPLC, no INS, 200 entries,
/// confidentiality V) and 4 level 1 documents: (file name, XML).
pub fn conformance_documents() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut push = |name: &str, xml: String| out.push((name.to_owned(), xml));

    // 1-2. The manual's content, both models.
    push(
        "01-vsm2013-manual.xml",
        manual_vsm(VsmVersion::V2013).to_xml().expect("example"),
    );
    push(
        "02-vsm2023-manual.xml",
        manual_vsm(VsmVersion::V2023).to_xml().expect("example"),
    );
    // 3. 2023.01 with its PDF copy section.
    let v = manual_vsm(VsmVersion::V2023);
    let pdf = pdf::render_text_pdf(
        "Synthèse médicale",
        &v.header.patient.pdf_patient(),
        &["Pathologie en cours : Angine de poitrine instable".into()],
    )
    .expect("example");
    push(
        "03-vsm2023-pdfcopy.xml",
        v.with_pdf_copy(pdf).to_xml().expect("example"),
    );
    // 4. Empty VSM 2013 (no items at all).
    let mut s = VsmSummary::default();
    push(
        "04-vsm2013-empty.xml",
        Vsm::new(header(patient(), at()), s.clone())
            .to_xml()
            .expect("example"),
    );
    // 5. Allergies only: substance agent (non CIS), coded reaction, active; 2023, no PCP.
    s.version = VsmVersion::V2023;
    s.allergies = vec![
        Allergy {
            id: None,
            kind: Some(Code::named(
                "419199007",
                SNOMED_CT,
                "allergie à une substance",
                "SNOMED CT",
            )),
            agent_label: "Arachide".into(),
            agent: Some(Code::named("256349002", SNOMED_CT, "Arachide", "SNOMED CT")),
            reaction_label: Some("Urticaire".into()),
            reaction: Some(Code::named(
                "126485001",
                SNOMED_CT,
                "Urticaire",
                "SNOMED CT",
            )),
            start: d(2001, 1, 1),
            status: Some(ClinicalStatus::Active),
        },
        Allergy {
            id: None,
            kind: None,
            agent_label: "Pénicilline".into(),
            agent: None,
            reaction_label: None,
            reaction: None,
            start: None,
            status: None,
        },
    ];
    let mut h = header(patient(), at());
    h.medecin_traitant = None;
    push(
        "05-vsm2023-allergies.xml",
        Vsm::new(h, s.clone()).to_xml().expect("example"),
    );
    // 6. Treatments only, minimal (no CIP, route, reason, ALD, period, dates); 2013.
    let mut s = VsmSummary::default();
    s.traitements = vec![Treatment {
        id: None,
        label: "DOLIPRANE 1000 mg, comprimé".into(),
        cis: Code::named("60234100", CIS, "DOLIPRANE 1000 mg, comprimé", "CIS"),
        cip13: None,
        name: None,
        start: None,
        end: None,
        posology: Default::default(),
        route: None,
        reason: None,
        ald: None,
    }];
    push(
        "06-vsm2013-traitement-minimal.xml",
        Vsm::new(header(patient(), at()), s)
            .to_xml()
            .expect("example"),
    );
    // 7. Habitus (alcool, texte), facteurs professionnels, autres; 2013.
    let mut s = VsmSummary::default();
    s.habitus = vec![
        Habitus::alcool(2),
        Habitus::tabac(10),
        Habitus {
            id: None,
            code: Code::named("73985-4", LOINC, "Exercice physique", "LOINC"),
            label: "Exercice physique".into(),
            value: HabitusValue::Text("Marche 30 min par jour".into()),
            value_label: None,
        },
    ];
    s.facteurs_risque_professionnels =
        vec!["Travail de nuit".into(), "Port de charges lourdes".into()];
    s.autres = vec!["Vit seul, aide à domicile deux fois par semaine".into()];
    push(
        "07-vsm2013-habitus-autres.xml",
        Vsm::new(header(patient(), at()), s)
            .to_xml()
            .expect("example"),
    );
    // 8. Family history with several relations, problems without dates; 2023.
    let mut s = VsmSummary {
        version: VsmVersion::V2023,
        ..Default::default()
    };
    s.antecedents_familiaux = vec![
        FamilyHistory {
            id: None,
            relation: Code::named("FTH", ROLE_CODE, "Père", "RoleCode"),
            relation_gender: None,
            label: "Diabète de type 2".into(),
            code: Code::named(
                "E11.9",
                CIM10,
                "Diabète sucré de type 2, sans complication",
                "CIM10",
            ),
        },
        FamilyHistory {
            id: None,
            relation: Code::named("BRO", ROLE_CODE, "Frère", "RoleCode"),
            relation_gender: None,
            label: "Infarctus du myocarde".into(),
            code: Code::named(
                "I21.9",
                CIM10,
                "Infarctus aigu du myocarde, sans précision",
                "CIM10",
            ),
        },
    ];
    s.pathologies = vec![Problem {
        id: None,
        label: "Hypertension artérielle".into(),
        code: Code::named(
            "I10",
            CIM10,
            "Hypertension essentielle (primitive)",
            "CIM10",
        ),
        start: None,
        end: None,
    }];
    push(
        "08-vsm2023-familiaux.xml",
        Vsm::new(header(patient(), at()), s)
            .to_xml()
            .expect("example"),
    );
    // 9. New version (RPLC) of the manual's VSM, confidentiality R.
    let first = manual_vsm(VsmVersion::V2013);
    let mut v2 = manual_vsm(VsmVersion::V2013);
    v2.header.set_id = first.header.set_id.clone();
    v2.header.version = 2;
    v2.header.replaces = Some(first.header.id.clone());
    v2.header.confidentiality = Confidentiality::R;
    push("09-vsm2013-rplc-v2.xml", v2.to_xml().expect("example"));
    // 10. Patient without INS (identity not qualified), 2023, no médecin traitant.
    let mut h = header(local_patient(), at());
    h.medecin_traitant = None;
    push(
        "10-vsm2023-sans-ins.xml",
        Vsm::new(h, manual_summary(VsmVersion::V2023))
            .to_xml()
            .expect("example"),
    );
    // 11. A large VSM: 200 entries.
    push(
        "11-vsm2013-200-entries.xml",
        large_vsm(200).to_xml().expect("example"),
    );
    // 12. Confidentiality V, two authors, two recipients.
    let mut v = manual_vsm(VsmVersion::V2023);
    v.header.confidentiality = Confidentiality::V;
    let mut second = v.header.authors[0].clone();
    second.professional.rpps = "10003541547".into();
    second.professional.name.family = "CARDIO".into();
    second.function_code = None;
    v.header.authors.push(second);
    let mut r2 = v.header.recipients[0].clone();
    r2.rpps = None;
    r2.organization = Some(organisation());
    v.header.recipients.push(r2);
    push("12-vsm2023-v-2-auteurs.xml", v.to_xml().expect("example"));

    // Level 1 documents.
    let p = patient();
    let body = |t: &str, pp: &Patient| {
        pdf::render_text_pdf(t, &pp.pdf_patient(), &["Texte du document.".to_owned()])
            .expect("example")
    };
    push(
        "21-n1-cr-consultation.xml",
        Level1Document::cr_consultation(header(p.clone(), at()), body("CR de consultation", &p))
            .to_xml()
            .expect("example"),
    );
    push(
        "22-n1-lettre-liaison.xml",
        Level1Document::lettre_de_liaison(header(p.clone(), at()), body("Lettre de liaison", &p))
            .to_xml()
            .expect("example"),
    );
    push(
        "23-n1-certificat.xml",
        Level1Document::certificat(header(p.clone(), at()), body("Certificat", &p))
            .to_xml()
            .expect("example"),
    );
    let lp = local_patient();
    let mut h = header(lp.clone(), at());
    h.medecin_traitant = None;
    h.informants.clear();
    h.recipients.clear();
    push(
        "24-n1-cr-bio-sans-ins.xml",
        Level1Document::of_type(
            DocumentType::from_code("11502-2").expect("example"),
            h,
            body("CR d'examens biologiques", &lp),
        )
        .to_xml()
        .expect("example"),
    );
    out
}

/// A VSM with `n` entries spread over the blocks.
pub fn large_vsm(n: usize) -> Vsm {
    let mut v = manual_vsm(VsmVersion::V2013);
    let base = v.summary.clone();
    let mut s = VsmSummary::default();
    let mut i = 0;
    while s.item_count() < n {
        match i % 5 {
            0 => s.pathologies.push(base.pathologies[i % 2].clone()),
            1 => s
                .antecedents_medicaux
                .push(base.antecedents_medicaux[i % 2].clone()),
            2 => s.traitements.push(base.traitements[i % 2].clone()),
            3 => s.allergies.push(base.allergies[0].clone()),
            _ => s
                .points_de_vigilance
                .push(base.points_de_vigilance[i % 2].clone()),
        }
        i += 1;
    }
    v.summary = s;
    v
}

/// Re-builds a received VSM (parse → model → build), for the round-trip test of the ANS example:
/// the parsed patient is qualified here as a TEST identity (its INS must be a test INS, sandbox
/// mode), the parsed summary is written with the example header's professionals.
pub fn rebuild_vsm(doc: &crate::parse::ParsedDocument) -> crate::Result<Vsm> {
    let p = &doc.header.patient;
    let ins = p.ins().ok_or(crate::CdaError::InsRefused(
        "no INS in the received document",
    ))?;
    let nir = ins.extension.clone().unwrap_or_default();
    if nir.len() != 15 || !nir.is_ascii() {
        return Err(crate::CdaError::InsRefused(
            "INS extension must have 15 characters",
        ));
    }
    let bt = p.birth_time.clone().unwrap_or_default();
    let birth = match (bt.get(0..4), bt.get(4..6), bt.get(6..8)) {
        (Some(a), Some(m), Some(j)) => format!("{a}-{m}-{j}"),
        _ => {
            return Err(crate::CdaError::Input {
                field: "birthTime",
                detail: "YYYYMMDD expected",
            })
        }
    };
    let q = qualified(
        "IPP-ROUNDTRIP",
        &nir[..13],
        &nir[13..],
        p.nom_naissance.as_deref().unwrap_or_default(),
        p.prenoms.as_deref().unwrap_or_default(),
        Sexe::parse(p.sexe.as_deref().unwrap_or("I")).unwrap_or(Sexe::I),
        &birth,
        p.birth_cog.as_deref().unwrap_or("99999"),
    );
    let patient = Patient::qualified(&q, IPP_ROOT, InsMode::Sandbox)?;
    let at = doc.effective_time().unwrap_or_else(CdaTime::now);
    let mut h = header(patient, at);
    h.title = doc.header.title.clone();
    h.confidentiality = doc.header.confidentiality;
    let mut summary = doc.vsm_summary();
    summary.version = doc.vsm_version.unwrap_or_default();
    Ok(Vsm::new(h, summary))
}
