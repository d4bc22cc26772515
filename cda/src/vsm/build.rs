//! Writing the VSM body: the 3 top sections (and the optional PDF copy of 2023.01), each
//! sub-section's narrative generated from its entries, every coded entry pointing at its
//! narrative through `text/reference` and `originalText/reference` (`cda.md` §3.2, §3.3; the
//! structure of the ANS example `VSM_1.4_2022.01.xml`).

use base64::Engine;
use chrono::NaiveDate;

use super::model::*;
use crate::codes::{Code, CIM10, CIS, LOINC, SNOMED_CT};
use crate::error::{CdaError, Result};
use crate::header::{hl7_date, Header, TemplateId};
use crate::write::Xml;

/// VSM volet templateId.
pub const TEMPLATE_VSM: &str = "1.2.250.1.213.1.1.1.13";

/// A VSM ready to be written: header + summary (+ the PDF copy, 2023.01 only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vsm {
    /// The header; `doc_type` and the serviceEvent code are forced to the VSM's.
    pub header: Header,
    /// The content.
    pub summary: VsmSummary,
    /// PDF copy (FR-Document-PDF-copie section, VSM 2023.01 only).
    pub pdf_copy: Option<Vec<u8>>,
}

fn uuid() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string().to_uppercase()
}

fn date_fr(d: &Option<NaiveDate>) -> String {
    d.map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|| "-".into())
}

fn ivl(
    x: &mut Xml,
    name: &str,
    xsi: bool,
    low: &Option<NaiveDate>,
    high: Option<&Option<NaiveDate>>,
) {
    if xsi {
        x.open(name, &[("xsi:type", "IVL_TS")]);
    } else {
        x.open(name, &[]);
    }
    match low {
        Some(d) => x.empty("low", &[("value", &hl7_date(d))]),
        None => x.empty("low", &[("nullFlavor", "UNK")]),
    }
    if let Some(h) = high {
        match h {
            Some(d) => x.empty("high", &[("value", &hl7_date(d))]),
            None => x.empty("high", &[("nullFlavor", "UNK")]),
        }
    }
    x.close(name);
}

fn reference(x: &mut Xml, parent: &str, id: &str) {
    x.open(parent, &[]);
    x.empty("reference", &[("value", &format!("#{id}"))]);
    x.close(parent);
}

fn coded_ref(x: &mut Xml, name: &str, c: &Code, extra: &[(&str, &str)], ref_id: &str) {
    x.code_with(name, c, extra, |x| reference(x, "originalText", ref_id));
}

fn section_start(x: &mut Xml, templates: &[&str], code: (&str, &str), title: &str) {
    x.open("component", &[]);
    x.open("section", &[]);
    x.templates(templates);
    x.empty("id", &[("root", &uuid())]);
    x.empty(
        "code",
        &[
            ("code", code.0),
            ("displayName", code.1),
            ("codeSystem", LOINC),
            ("codeSystemName", "LOINC"),
        ],
    );
    x.text("title", &[], title);
}

fn section_end(x: &mut Xml) {
    x.close("section");
    x.close("component");
}

/// A narrative table: header cells, then rows of cells; a cell is (content ID or "", text).
fn table(x: &mut Xml, head: &[&str], rows: &[Vec<(String, String)>]) {
    x.open("text", &[]);
    x.open("table", &[("border", "0")]);
    if !head.is_empty() {
        x.open("thead", &[]);
        x.open("tr", &[]);
        for h in head {
            x.text("th", &[], h);
        }
        x.close("tr");
        x.close("thead");
    }
    x.open("tbody", &[]);
    for r in rows {
        x.open("tr", &[]);
        for (id, t) in r {
            if id.is_empty() {
                x.text("td", &[], t);
            } else {
                x.open("td", &[]);
                x.text("content", &[("ID", id)], t);
                x.close("td");
            }
        }
        x.close("tr");
    }
    x.close("tbody");
    x.close("table");
    x.close("text");
}

fn cell(t: &str) -> (String, String) {
    (String::new(), t.to_owned())
}
fn idcell(id: &str, t: &str) -> (String, String) {
    (id.to_owned(), t.to_owned())
}

fn check_system(c: &Code, system: &str, field: &'static str, detail: &'static str) -> Result<()> {
    if c.system != system {
        return Err(CdaError::Input { field, detail });
    }
    Ok(())
}

/// FR-Liste-des-problemes + FR-Probleme.
fn problem_entry(x: &mut Xml, p: &Problem, ref_id: &str, active: bool) -> Result<()> {
    check_system(
        &p.code,
        CIM10,
        "problem.code",
        "a problem is coded in CIM-10 (2.16.840.1.113883.6.3)",
    )?;
    let id = p.id.clone().unwrap_or_else(uuid);
    x.open("entry", &[]);
    x.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
    x.templates(&[
        "2.16.840.1.113883.10.20.1.27",
        "1.3.6.1.4.1.19376.1.5.3.1.4.5.1",
        "1.3.6.1.4.1.19376.1.5.3.1.4.5.2",
        "1.2.250.1.213.1.1.3.39",
    ]);
    x.empty("id", &[("root", &id)]);
    x.empty("code", &[("nullFlavor", "NA")]);
    let completed = !active || p.end.is_some();
    x.empty(
        "statusCode",
        &[("code", if completed { "completed" } else { "active" })],
    );
    let high = if completed { Some(&p.end) } else { None };
    ivl(x, "effectiveTime", false, &p.start, high);
    x.open(
        "entryRelationship",
        &[("typeCode", "SUBJ"), ("inversionInd", "false")],
    );
    x.open(
        "observation",
        &[
            ("classCode", "OBS"),
            ("moodCode", "EVN"),
            ("negationInd", "false"),
        ],
    );
    x.templates(&[
        "2.16.840.1.113883.10.20.1.28",
        "1.3.6.1.4.1.19376.1.5.3.1.4.5",
        "1.2.250.1.213.1.1.3.37",
    ]);
    x.empty("id", &[("root", &id)]);
    x.code(
        "code",
        &Code::named(
            "282291009",
            SNOMED_CT,
            "interprétation diagnostique",
            "SNOMED CT",
        ),
    );
    reference(x, "text", ref_id);
    x.empty("statusCode", &[("code", "completed")]);
    ivl(
        x,
        "effectiveTime",
        false,
        &p.start,
        if completed { Some(&p.end) } else { None },
    );
    coded_ref(
        x,
        "value",
        &with_name(&p.code, "CIM10"),
        &[("xsi:type", "CD")],
        ref_id,
    );
    x.close("observation");
    x.close("entryRelationship");
    x.close("act");
    x.close("entry");
    Ok(())
}

fn with_name(c: &Code, name: &str) -> Code {
    let mut c = c.clone();
    if c.system_name.is_none() {
        c.system_name = Some(name.to_owned());
    }
    c
}

/// FR-Reference-interne (reason), in an `entryRelationship typeCode="RSON"`.
fn reason(x: &mut Xml, c: &Code, ref_id: &str) {
    x.open("entryRelationship", &[("typeCode", "RSON")]);
    x.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
    x.templates(&["1.3.6.1.4.1.19376.1.5.3.1.4.4.1", "1.2.250.1.213.1.1.3.36"]);
    x.empty("id", &[("root", &uuid())]);
    coded_ref(x, "code", &with_name(c, "CIM10"), &[], ref_id);
    x.close("act");
    x.close("entryRelationship");
}

/// The free-text posology carried as a patient instruction, if any: [`Posology::text`] when it
/// has something to show (a blank text would resolve to nothing on the way back).
fn instruction(p: &Posology) -> Option<&str> {
    p.text.as_deref().filter(|t| !t.trim().is_empty())
}

/// FR-Instructions-au-patient (IHE PCC Patient Medication Instructions
/// `1.3.6.1.4.1.19376.1.5.3.1.4.3`, CCD `2.16.840.1.113883.10.20.1.49`, CI-SIS
/// `1.2.250.1.213.1.1.3.33`) in a FR-Traitement: `entryRelationship SUBJ inversionInd="true"`,
/// `act ACT/INT`, code `PINSTRUCT` (IHEActCode), `text/reference` to the narrative posology,
/// `statusCode completed` (schematrons `E_instructionsPatient_int/_fr`, `E_medications_fr`; the
/// ANS eP-MED-DM example's form).
fn patient_instructions(x: &mut Xml, ref_id: &str) {
    x.open(
        "entryRelationship",
        &[("typeCode", "SUBJ"), ("inversionInd", "true")],
    );
    x.open("act", &[("classCode", "ACT"), ("moodCode", "INT")]);
    x.templates(&[
        "2.16.840.1.113883.10.20.1.49",
        TEMPLATE_PATIENT_INSTRUCTIONS,
        "1.2.250.1.213.1.1.3.33",
    ]);
    x.code(
        "code",
        &Code::named(
            "PINSTRUCT",
            "1.3.6.1.4.1.19376.1.5.3.2",
            "Instructions au patient",
            "IHEActCode",
        ),
    );
    reference(x, "text", ref_id);
    x.empty("statusCode", &[("code", "completed")]);
    x.close("act");
    x.close("entryRelationship");
}

impl Vsm {
    /// A VSM from a header and a summary.
    pub fn new(mut header: Header, summary: VsmSummary) -> Self {
        header.doc_type = crate::codes::DocumentType::synthese();
        header.service_event.code = Some(Code::named(
            "34117-2",
            LOINC,
            "Historique et clinique",
            "LOINC",
        ));
        if header.title.trim().is_empty() {
            header.title = "Synthèse médicale".into();
        }
        Self {
            header,
            summary,
            pdf_copy: None,
        }
    }

    /// Adds the PDF copy section (VSM 2023.01 only).
    pub fn with_pdf_copy(mut self, pdf: Vec<u8>) -> Self {
        self.pdf_copy = Some(pdf);
        self
    }

    /// The XDS formatCode.
    pub fn format_code(&self) -> crate::codes::FormatCode {
        crate::codes::FormatCode::Vsm
    }

    /// Writes the CDA XML.
    pub fn to_xml(&self) -> Result<String> {
        let s = &self.summary;
        let v = s.version;
        if v == VsmVersion::V2013 && self.header.medecin_traitant.is_none() {
            return Err(CdaError::Input {
                field: "medecin_traitant",
                detail: "VSM 2013 requires exactly one médecin traitant participant (PCP)",
            });
        }
        if v == VsmVersion::V2013 && self.pdf_copy.is_some() {
            return Err(CdaError::Input {
                field: "pdf_copy",
                detail: "the VSM 2013 model is closed to its 3 sections: no PDF copy section",
            });
        }
        let templates: [TemplateId; 1] = [(TEMPLATE_VSM, Some(v.extension()))];
        let cap =
            12_000 + 2_500 * s.item_count() + self.pdf_copy.as_ref().map_or(0, |p| p.len() * 4 / 3);
        self.header.write_document(&templates, cap, |x| {
            x.open("component", &[]);
            x.open("structuredBody", &[]);
            self.section_pathologies(x)?;
            self.section_vigilance(x);
            self.section_traitements(x)?;
            if let Some(pdf) = &self.pdf_copy {
                pdf_copy_section(x, pdf)?;
            }
            x.close("structuredBody");
            x.close("component");
            Ok(())
        })
    }

    fn section_pathologies(&self, x: &mut Xml) -> Result<()> {
        let s = &self.summary;
        section_start(
            x,
            &["1.2.250.1.213.1.1.2.29"],
            ("46612-8", "Conclusions de synthèse"),
            "Pathologie en cours, antécédents, allergies et facteurs de risques",
        );
        let has_11 = !(s.pathologies.is_empty()
            && s.antecedents_medicaux.is_empty()
            && s.antecedents_chirurgicaux.is_empty()
            && s.allergies.is_empty());
        let has_12 = !(s.habitus.is_empty()
            && s.facteurs_risque_professionnels.is_empty()
            && s.antecedents_familiaux.is_empty());
        if !s.autres.is_empty() {
            x.open("text", &[]);
            {
                x.text("paragraph", &[], "Autres");
                x.open("list", &[]);
                for (i, a) in s.autres.iter().enumerate() {
                    let id = a.id.clone().unwrap_or_else(|| format!("autre-{}", i + 1));
                    x.open("item", &[]);
                    x.text("content", &[("ID", &id)], &a.text);
                    x.close("item");
                }
                x.close("list");
            }
            x.close("text");
        }
        // Both sub-sections are mandatory (ANS rule
        // S_pathologieAntecedentsAllergiesFacteursDeRiques_ANS.sch), even when empty.
        {
            section_start(
                x,
                &["1.2.250.1.213.1.1.2.30"],
                ("34117-2", "Historique et physique"),
                "Pathologies en cours, antécédents et allergies",
            );
            if !has_11 {
                x.open("text", &[]);
                x.text("paragraph", &[], "Non renseigné");
                x.close("text");
            }
            if !s.pathologies.is_empty() {
                self.problems(x, true)?;
            }
            if !s.antecedents_medicaux.is_empty() {
                self.problems(x, false)?;
            }
            if !s.antecedents_chirurgicaux.is_empty() {
                self.procedures(x)?;
            }
            if !s.allergies.is_empty() {
                self.allergies(x)?;
            }
            section_end(x);
        }
        {
            section_start(
                x,
                &["1.2.250.1.213.1.1.2.31"],
                (
                    "57207-3",
                    "Facteurs de risque présents ou passés affectant l'état de santé et/ou une circonstance",
                ),
                "Facteurs de risque",
            );
            if !has_12 {
                x.open("text", &[]);
                x.text("paragraph", &[], "Non renseigné");
                x.close("text");
            }
            if !s.habitus.is_empty() {
                self.habitus(x)?;
            }
            if !s.facteurs_risque_professionnels.is_empty() {
                section_start(
                    x,
                    &[
                        "1.3.6.1.4.1.19376.1.5.3.1.1.5.3.1",
                        "1.2.250.1.213.1.1.2.74",
                    ],
                    ("10161-8", "Facteurs de risques professionnels"),
                    "Facteurs de risques professionnels",
                );
                let rows: Vec<_> = s
                    .facteurs_risque_professionnels
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        vec![idcell(
                            &t.id.clone().unwrap_or_else(|| format!("frp-{}", i + 1)),
                            &t.text,
                        )]
                    })
                    .collect();
                table(x, &["Facteur de risque professionnel"], &rows);
                section_end(x);
            }
            if !s.antecedents_familiaux.is_empty() {
                self.family(x)?;
            }
            section_end(x);
        }
        section_end(x);
        Ok(())
    }

    fn problems(&self, x: &mut Xml, active: bool) -> Result<()> {
        let (list, templates, code, title, prefix): (_, &[&str], _, _, _) = if active {
            (
                &self.summary.pathologies,
                &[
                    "2.16.840.1.113883.10.20.1.11",
                    "1.3.6.1.4.1.19376.1.5.3.1.3.6",
                    "1.2.250.1.213.1.1.2.132",
                ],
                ("11450-4", "Liste des problèmes actifs"),
                "Pathologie en cours",
                "patho",
            )
        } else {
            (
                &self.summary.antecedents_medicaux,
                &["1.3.6.1.4.1.19376.1.5.3.1.3.8", "1.2.250.1.213.1.1.2.134"],
                ("11348-0", "Antécédents médicaux"),
                "Antécédents médicaux",
                "atcd-med",
            )
        };
        section_start(x, templates, code, title);
        let rows: Vec<_> = list
            .iter()
            .enumerate()
            .map(|(i, p)| {
                vec![
                    cell(&date_fr(&p.start)),
                    cell(&date_fr(&p.end)),
                    idcell(&format!("{prefix}-{}", i + 1), &p.label),
                    cell(&p.code.code),
                ]
            })
            .collect();
        table(x, &["Début", "Fin", title, "Code CIM-10"], &rows);
        for (i, p) in list.iter().enumerate() {
            problem_entry(x, p, &format!("{prefix}-{}", i + 1), active)?;
        }
        section_end(x);
        Ok(())
    }

    fn procedures(&self, x: &mut Xml) -> Result<()> {
        section_start(
            x,
            &[
                "2.16.840.1.113883.10.20.1.12",
                "1.3.6.1.4.1.19376.1.5.3.1.3.11",
                "1.3.6.1.4.1.19376.1.5.3.1.3.12",
                "1.2.250.1.213.1.1.2.136",
            ],
            ("47519-4", "Historique des actes"),
            "Antécédents chirurgicaux",
        );
        let list = &self.summary.antecedents_chirurgicaux;
        let rows: Vec<_> = list
            .iter()
            .enumerate()
            .map(|(i, p)| {
                vec![
                    cell(&date_fr(&p.date)),
                    idcell(&format!("acte-{}", i + 1), &p.label),
                    cell(&p.code.code),
                    match &p.reason {
                        Some(r) => idcell(&format!("acte-{}-motif", i + 1), &r.display),
                        None => cell("-"),
                    },
                ]
            })
            .collect();
        table(
            x,
            &["Date", "Antécédent chirurgical", "Code CCAM", "Motif"],
            &rows,
        );
        for (i, p) in list.iter().enumerate() {
            check_system(
                &p.code,
                crate::codes::CCAM,
                "procedure.code",
                "a surgical act is coded in CCAM (1.2.250.1.215.300.1)",
            )?;
            let rid = format!("acte-{}", i + 1);
            x.open("entry", &[]);
            x.open("procedure", &[("classCode", "PROC"), ("moodCode", "EVN")]);
            x.templates(&[
                "1.3.6.1.4.1.19376.1.5.3.1.4.19",
                "2.16.840.1.113883.10.20.1.29",
                "1.2.250.1.213.1.1.3.62",
            ]);
            x.empty("id", &[("root", &p.id.clone().unwrap_or_else(uuid))]);
            x.code("code", &with_name(&p.code, "CCAM"));
            reference(x, "text", &rid);
            x.empty("statusCode", &[("code", "completed")]);
            match &p.date {
                Some(d) => x.empty("effectiveTime", &[("value", &hl7_date(d))]),
                None => x.empty("effectiveTime", &[("nullFlavor", "UNK")]),
            }
            if let Some(r) = &p.reason {
                reason(x, r, &format!("{rid}-motif"));
            }
            x.close("procedure");
            x.close("entry");
        }
        section_end(x);
        Ok(())
    }

    fn allergies(&self, x: &mut Xml) -> Result<()> {
        section_start(
            x,
            &[
                "2.16.840.1.113883.10.20.1.2",
                "1.3.6.1.4.1.19376.1.5.3.1.3.13",
                "1.2.250.1.213.1.1.2.137",
            ],
            ("48765-2", "Allergies et hypersensibilités"),
            "Allergies et hypersensibilités",
        );
        let list = &self.summary.allergies;
        let kind = |a: &Allergy| -> Code {
            a.kind.clone().unwrap_or_else(|| match &a.agent {
                Some(c) if c.system == CIS => Code::named(
                    "416098002",
                    SNOMED_CT,
                    "allergie médicamenteuse",
                    "SNOMED CT",
                ),
                _ => Code::named(
                    "419199007",
                    SNOMED_CT,
                    "allergie à une substance",
                    "SNOMED CT",
                ),
            })
        };
        let rows: Vec<_> = list
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let n = i + 1;
                vec![
                    cell(&date_fr(&a.start)),
                    idcell(&format!("allergie-{n}-type"), &kind(a).display),
                    idcell(&format!("allergie-{n}-agent"), &a.agent_label),
                    idcell(
                        &format!("allergie-{n}-reaction"),
                        a.reaction_label
                            .as_deref()
                            .or(a.reaction.as_ref().map(|r| r.display.as_str()))
                            .unwrap_or("-"),
                    ),
                    idcell(
                        &format!("allergie-{n}-statut"),
                        a.status.map(|s| s.code().1).unwrap_or("-"),
                    ),
                ]
            })
            .collect();
        table(x, &["Date", "Type", "Agent", "Réaction", "Statut"], &rows);
        for (i, a) in list.iter().enumerate() {
            let n = i + 1;
            x.open("entry", &[]);
            x.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
            x.templates(&[
                "2.16.840.1.113883.10.20.1.27",
                "1.3.6.1.4.1.19376.1.5.3.1.4.5.1",
                "1.3.6.1.4.1.19376.1.5.3.1.4.5.3",
                "1.2.250.1.213.1.1.3.40",
            ]);
            x.empty("id", &[("root", &uuid())]);
            x.empty("code", &[("nullFlavor", "NA")]);
            x.empty("statusCode", &[("code", "active")]);
            ivl(x, "effectiveTime", false, &None, None);
            x.open(
                "entryRelationship",
                &[("typeCode", "SUBJ"), ("inversionInd", "false")],
            );
            x.open(
                "observation",
                &[
                    ("classCode", "OBS"),
                    ("moodCode", "EVN"),
                    ("negationInd", "false"),
                ],
            );
            x.templates(&[
                "2.16.840.1.113883.10.20.1.18",
                "2.16.840.1.113883.10.20.1.28",
                "1.3.6.1.4.1.19376.1.5.3.1.4.5",
                "1.3.6.1.4.1.19376.1.5.3.1.4.6",
                "1.2.250.1.213.1.1.3.41",
            ]);
            x.empty("id", &[("root", &a.id.clone().unwrap_or_else(uuid))]);
            x.code("code", &kind(a));
            reference(x, "text", &format!("allergie-{n}-type"));
            x.empty("statusCode", &[("code", "completed")]);
            ivl(x, "effectiveTime", true, &a.start, None);
            let rref = format!("allergie-{n}-reaction");
            match &a.reaction {
                Some(r) => coded_ref(x, "value", r, &[("xsi:type", "CD")], &rref),
                None => {
                    x.open("value", &[("xsi:type", "CD")]);
                    reference(x, "originalText", &rref);
                    x.close("value");
                }
            }
            x.open("participant", &[("typeCode", "CSM")]);
            x.open("participantRole", &[("classCode", "MANU")]);
            x.open("playingEntity", &[("classCode", "MMAT")]);
            let aref = format!("allergie-{n}-agent");
            match &a.agent {
                Some(c) => coded_ref(x, "code", c, &[], &aref),
                None => {
                    x.open("code", &[("nullFlavor", "UNK")]);
                    reference(x, "originalText", &aref);
                    x.close("code");
                }
            }
            x.text("name", &[], &a.agent_label);
            x.close("playingEntity");
            x.close("participantRole");
            x.close("participant");
            if let Some(st) = a.status {
                x.open(
                    "entryRelationship",
                    &[("typeCode", "REFR"), ("inversionInd", "false")],
                );
                x.open(
                    "observation",
                    &[
                        ("classCode", "OBS"),
                        ("moodCode", "EVN"),
                        ("negationInd", "false"),
                    ],
                );
                x.templates(&[
                    "2.16.840.1.113883.10.20.1.50",
                    "2.16.840.1.113883.10.20.1.57",
                    "1.3.6.1.4.1.19376.1.5.3.1.4.1.1",
                    "1.2.250.1.213.1.1.3.30",
                ]);
                x.code("code", &Code::named("33999-4", LOINC, "Status", "LOINC"));
                reference(x, "text", &format!("allergie-{n}-statut"));
                x.empty("statusCode", &[("code", "completed")]);
                let (c, d) = st.code();
                x.empty(
                    "value",
                    &[
                        ("xsi:type", "CE"),
                        ("code", c),
                        ("displayName", d),
                        ("codeSystem", "2.16.840.1.113883.4.642.4.1373"),
                    ],
                );
                x.close("observation");
                x.close("entryRelationship");
            }
            x.close("observation");
            x.close("entryRelationship");
            x.close("act");
            x.close("entry");
        }
        section_end(x);
        Ok(())
    }

    fn habitus(&self, x: &mut Xml) -> Result<()> {
        section_start(
            x,
            &[
                "2.16.840.1.113883.10.20.1.15",
                "1.3.6.1.4.1.19376.1.5.3.1.3.16",
                "1.3.6.1.4.1.19376.1.5.3.1.3.16.1",
                "1.2.250.1.213.1.1.2.141",
            ],
            ("29762-2", "Habitus, Mode de vie"),
            "Mode de vie",
        );
        let list = &self.summary.habitus;
        let value_text = |h: &Habitus| -> String {
            if let Some(t) = &h.value_label {
                return t.clone();
            }
            match &h.value {
                HabitusValue::Quantity { value, unit } => format!("{value} {unit}"),
                HabitusValue::Coded(c) => c.display.clone(),
                HabitusValue::Text(t) => t.clone(),
            }
        };
        let rows: Vec<_> = list
            .iter()
            .enumerate()
            .map(|(i, h)| {
                vec![
                    idcell(&format!("habitus-{}", i + 1), &h.label),
                    idcell(&format!("habitus-{}-valeur", i + 1), &value_text(h)),
                ]
            })
            .collect();
        table(x, &["Type", "Observation"], &rows);
        for (i, h) in list.iter().enumerate() {
            check_system(
                &h.code,
                LOINC,
                "habitus.code",
                "a habitus is coded in LOINC",
            )?;
            let rid = format!("habitus-{}", i + 1);
            x.open("entry", &[]);
            x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
            x.templates(&[
                "2.16.840.1.113883.10.20.1.33",
                "1.3.6.1.4.1.19376.1.5.3.1.4.13",
                "1.3.6.1.4.1.19376.1.5.3.1.4.13.4",
                "1.2.250.1.213.1.1.3.52",
            ]);
            x.empty("id", &[("root", &h.id.clone().unwrap_or_else(uuid))]);
            x.code("code", &h.code);
            reference(x, "text", &rid);
            x.empty("statusCode", &[("code", "completed")]);
            x.empty("effectiveTime", &[("nullFlavor", "NA")]);
            match &h.value {
                HabitusValue::Quantity { value, unit } => x.empty(
                    "value",
                    &[("xsi:type", "PQ"), ("value", value), ("unit", unit)],
                ),
                HabitusValue::Coded(c) => coded_ref(
                    x,
                    "value",
                    c,
                    &[("xsi:type", "CD")],
                    &format!("{rid}-valeur"),
                ),
                HabitusValue::Text(t) => x.text("value", &[("xsi:type", "ST")], t),
            }
            x.close("observation");
            x.close("entry");
        }
        section_end(x);
        Ok(())
    }

    fn family(&self, x: &mut Xml) -> Result<()> {
        section_start(
            x,
            &[
                "2.16.840.1.113883.10.20.1.4",
                "1.3.6.1.4.1.19376.1.5.3.1.3.14",
                "1.3.6.1.4.1.19376.1.5.3.1.3.15",
                "1.2.250.1.213.1.1.2.139",
            ],
            ("10157-6", "Historique des pathologies familiales"),
            "Antécédents familiaux",
        );
        let list = &self.summary.antecedents_familiaux;
        let rows: Vec<_> = list
            .iter()
            .enumerate()
            .map(|(i, f)| {
                vec![
                    idcell(&format!("atcd-fam-{}-sujet", i + 1), &f.relation.display),
                    idcell(&format!("atcd-fam-{}", i + 1), &f.label),
                    cell(&f.code.code),
                ]
            })
            .collect();
        table(x, &["Lien de parenté", "Antécédent", "Code CIM-10"], &rows);
        for (i, f) in list.iter().enumerate() {
            check_system(&f.code, CIM10, "family.code", "coded in CIM-10")?;
            let rid = format!("atcd-fam-{}", i + 1);
            x.open("entry", &[]);
            x.open(
                "organizer",
                &[("classCode", "CLUSTER"), ("moodCode", "EVN")],
            );
            x.templates(&[
                "2.16.840.1.113883.10.20.1.23",
                "1.3.6.1.4.1.19376.1.5.3.1.4.15",
                "1.2.250.1.213.1.1.3.59",
            ]);
            x.empty("statusCode", &[("code", "completed")]);
            x.open("subject", &[("typeCode", "SBJ")]);
            x.templates(&["1.3.6.1.4.1.19376.1.5.3.1.4.15.2", "1.2.250.1.213.1.1.3.60"]);
            x.open("relatedSubject", &[("classCode", "PRS")]);
            coded_ref(
                x,
                "code",
                &with_name(&f.relation, "RoleCode"),
                &[],
                &format!("{rid}-sujet"),
            );
            if let Some(g) = &f.relation_gender {
                x.open("subject", &[]);
                x.code("administrativeGenderCode", g);
                x.close("subject");
            }
            x.close("relatedSubject");
            x.close("subject");
            x.open("component", &[("typeCode", "COMP")]);
            x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
            x.templates(&[
                "2.16.840.1.113883.10.20.1.22",
                "1.3.6.1.4.1.19376.1.5.3.1.4.13",
                "1.3.6.1.4.1.19376.1.5.3.1.4.13.3",
                "1.2.250.1.213.1.1.3.51",
            ]);
            x.empty("id", &[("root", &f.id.clone().unwrap_or_else(uuid))]);
            x.code(
                "code",
                &Code::named(
                    "282291009",
                    SNOMED_CT,
                    "interprétation diagnostique",
                    "SNOMED CT",
                ),
            );
            reference(x, "text", &rid);
            x.empty("statusCode", &[("code", "completed")]);
            x.empty("effectiveTime", &[("nullFlavor", "UNK")]);
            coded_ref(
                x,
                "value",
                &with_name(&f.code, "CIM10"),
                &[("xsi:type", "CD")],
                &rid,
            );
            x.close("observation");
            x.close("component");
            x.close("organizer");
            x.close("entry");
        }
        section_end(x);
        Ok(())
    }

    fn section_vigilance(&self, x: &mut Xml) {
        section_start(
            x,
            &["1.3.6.1.4.1.19376.1.5.3.1.3.27", "1.2.250.1.213.1.1.2.150"],
            ("30954-2", "Résultats d'examens"),
            "Points de vigilance",
        );
        let list = &self.summary.points_de_vigilance;
        if list.is_empty() {
            x.open("text", &[]);
            x.text("paragraph", &[], "Aucun point de vigilance");
            x.close("text");
        } else {
            let rows: Vec<_> = list
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    vec![idcell(
                        &t.id
                            .clone()
                            .unwrap_or_else(|| format!("vigilance-{}", i + 1)),
                        &t.text,
                    )]
                })
                .collect();
            table(x, &["Point de vigilance"], &rows);
        }
        section_end(x);
    }

    fn section_traitements(&self, x: &mut Xml) -> Result<()> {
        section_start(
            x,
            &["1.2.250.1.213.1.1.2.32"],
            ("18776-5", "Plan de traitement"),
            "Traitement au long cours",
        );
        let list = &self.summary.traitements;
        if list.is_empty() {
            x.open("text", &[]);
            x.text("paragraph", &[], "Aucun traitement au long cours");
            x.close("text");
            section_end(x);
            return Ok(());
        }
        x.open("component", &[]);
        x.open("section", &[]);
        x.templates(&[
            "2.16.840.1.113883.10.20.1.8",
            "1.3.6.1.4.1.19376.1.5.3.1.3.19",
            "1.2.250.1.213.1.1.2.143",
        ]);
        x.empty("id", &[("root", &uuid())]);
        x.code(
            "code",
            &Code::named("10160-0", LOINC, "Traitements", "LOINC"),
        );
        x.text("title", &[], "Traitements");
        let rows: Vec<_> = list
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let n = i + 1;
                vec![
                    cell(&date_fr(&t.start)),
                    cell(&date_fr(&t.end)),
                    idcell(&format!("med-{n}-pdt"), &t.label),
                    match instruction(&t.posology) {
                        Some(_) => idcell(&format!("med-{n}-poso"), &t.posology.display()),
                        None => cell(&t.posology.display()),
                    },
                    match &t.route {
                        Some(r) => idcell(&format!("med-{n}-voie"), &r.display),
                        None => cell("-"),
                    },
                    match &t.reason {
                        Some(r) => idcell(&format!("med-{n}-motif"), &r.display),
                        None => cell("-"),
                    },
                    match t.ald {
                        Some(b) => idcell(&format!("med-{n}-ald"), if b { "Oui" } else { "Non" }),
                        None => cell("-"),
                    },
                ]
            })
            .collect();
        table(
            x,
            &[
                "Date de début",
                "Date de fin",
                "Médicament",
                "Posologie",
                "Voie",
                "Motif",
                "ALD",
            ],
            &rows,
        );
        for (i, t) in list.iter().enumerate() {
            check_system(
                &t.cis,
                CIS,
                "treatment.cis",
                "FR-Produit-de-sante requires a CIS code (1.2.250.1.213.2.3.1)",
            )?;
            let n = i + 1;
            x.open("entry", &[("typeCode", "DRIV")]);
            x.open(
                "substanceAdministration",
                &[("classCode", "SBADM"), ("moodCode", "EVN")],
            );
            x.templates(&[
                "2.16.840.1.113883.10.20.1.24",
                "1.3.6.1.4.1.19376.1.5.3.1.4.7",
                "1.2.250.1.213.1.1.3.42",
                "1.3.6.1.4.1.19376.1.5.3.1.4.7.1",
            ]);
            x.empty("id", &[("root", &t.id.clone().unwrap_or_else(uuid))]);
            x.code(
                "code",
                &Code::named("DRUG", "2.16.840.1.113883.5.4", "Médicament", "HL7:ActCode"),
            );
            reference(x, "text", &format!("med-{n}-pdt"));
            x.empty("statusCode", &[("code", "completed")]);
            ivl(x, "effectiveTime", true, &t.start, Some(&t.end));
            if let Some((v, u)) = &t.posology.period {
                x.open(
                    "effectiveTime",
                    &[("xsi:type", "PIVL_TS"), ("operator", "A")],
                );
                x.empty("period", &[("value", v), ("unit", u)]);
                x.close("effectiveTime");
            }
            if let Some(r) = &t.route {
                coded_ref(
                    x,
                    "routeCode",
                    &with_name(r, "EDQM"),
                    &[],
                    &format!("med-{n}-voie"),
                );
            }
            if let Some(d) = &t.posology.dose {
                let unit = t.posology.unit.as_deref().unwrap_or("1");
                x.open("doseQuantity", &[]);
                x.empty("low", &[("value", d), ("unit", unit)]);
                x.empty("high", &[("value", d), ("unit", unit)]);
                x.close("doseQuantity");
            }
            x.open("consumable", &[]);
            x.open("manufacturedProduct", &[]);
            x.templates(&[
                "2.16.840.1.113883.10.20.1.53",
                "1.3.6.1.4.1.19376.1.5.3.1.4.7.2",
                "1.2.250.1.213.1.1.3.43",
            ]);
            x.open("manufacturedMaterial", &[]);
            x.code_with("code", &with_name(&t.cis, "CIS"), &[], |x| {
                reference(x, "originalText", &format!("med-{n}-pdt"));
                if let Some(c) = &t.cip13 {
                    x.code("translation", &with_name(c, "CIP"));
                }
            });
            x.text("name", &[], t.name.as_deref().unwrap_or(&t.label));
            x.close("manufacturedMaterial");
            x.close("manufacturedProduct");
            x.close("consumable");
            if let Some(r) = &t.reason {
                reason(x, r, &format!("med-{n}-motif"));
            }
            if instruction(&t.posology).is_some() {
                patient_instructions(x, &format!("med-{n}-poso"));
            }
            if let Some(b) = t.ald {
                x.open("entryRelationship", &[("typeCode", "COMP")]);
                x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
                x.templates(&[
                    "1.3.6.1.4.1.19376.1.5.3.1.4.13",
                    "1.2.250.1.213.1.1.3.48",
                    "1.2.250.1.213.1.1.3.48.13",
                ]);
                x.empty("id", &[("root", &uuid())]);
                x.code(
                    "code",
                    &Code::named(
                        "MED-574",
                        "1.2.250.1.213.1.1.4.322",
                        "En rapport avec une ALD",
                        "TA_ASIP",
                    ),
                );
                reference(x, "text", &format!("med-{n}-ald"));
                x.empty("statusCode", &[("code", "completed")]);
                // IHE simple observation: effectiveTime required (nullFlavor when unknown).
                match &t.start {
                    Some(d) => x.empty("effectiveTime", &[("value", &hl7_date(d))]),
                    None => x.empty("effectiveTime", &[("nullFlavor", "UNK")]),
                }
                x.empty(
                    "value",
                    &[
                        ("xsi:type", "BL"),
                        ("value", if b { "true" } else { "false" }),
                    ],
                );
                x.close("observation");
                x.close("entryRelationship");
            }
            x.close("substanceAdministration");
            x.close("entry");
        }
        section_end(x);
        section_end(x);
        Ok(())
    }
}

/// FR-Document-PDF-copie (`1.2.250.1.213.1.1.2.243`, code `55108-5`, title "Copie du
/// document") with its FR-Document-attache entry (`1.2.250.1.213.1.1.3.18`), rules of
/// `S_documentPDFCopie_ANS.sch` and `E_organizerDocumentAttache_ANS.sch`.
fn pdf_copy_section(x: &mut Xml, pdf: &[u8]) -> Result<()> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(CdaError::Input {
            field: "pdf_copy",
            detail: "not a PDF",
        });
    }
    section_start(
        x,
        &["1.2.250.1.213.1.1.2.243"],
        ("55108-5", "Copie du document"),
        "Copie du document",
    );
    x.open("text", &[]);
    x.open("table", &[("border", "0")]);
    x.open("tbody", &[]);
    x.open("tr", &[]);
    x.open("td", &[]);
    x.empty("renderMultiMedia", &[("referencedObject", "doc-1")]);
    x.close("td");
    x.open("td", &[]);
    x.text("content", &[("ID", "doc-1-type")], "Copie PDF du document");
    x.close("td");
    x.close("tr");
    x.close("tbody");
    x.close("table");
    x.close("text");
    x.open("entry", &[]);
    x.open(
        "organizer",
        &[("classCode", "CLUSTER"), ("moodCode", "EVN")],
    );
    x.templates(&["1.2.250.1.213.1.1.3.18"]);
    x.empty("id", &[("root", &uuid())]);
    x.code(
        "code",
        &Code::named("55107-7", LOINC, "Document attaché", "LOINC"),
    );
    x.empty("statusCode", &[("code", "completed")]);
    x.open("component", &[]);
    x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
    x.templates(&[
        "1.3.6.1.4.1.19376.1.5.3.1.4.13",
        "1.2.250.1.213.1.1.3.48",
        "1.2.250.1.213.1.1.3.48.18",
    ]);
    x.empty("id", &[("root", &uuid())]);
    x.code(
        "code",
        &Code::named("69764-9", LOINC, "Type de document", "LOINC"),
    );
    reference(x, "text", "doc-1-type");
    x.empty("statusCode", &[("code", "completed")]);
    x.empty("effectiveTime", &[("nullFlavor", "NA")]);
    x.code_with(
        "value",
        &Code::named("55108-5", LOINC, "Copie du document", "LOINC"),
        &[("xsi:type", "CD")],
        |_| {},
    );
    x.close("observation");
    x.close("component");
    x.open("component", &[]);
    x.open(
        "observationMedia",
        &[("classCode", "OBS"), ("moodCode", "EVN"), ("ID", "doc-1")],
    );
    x.open(
        "value",
        &[("mediaType", "application/pdf"), ("representation", "B64")],
    );
    x.raw(&base64::engine::general_purpose::STANDARD.encode(pdf));
    x.raw("</value>");
    x.close_raw_depth();
    x.close("observationMedia");
    x.close("component");
    x.close("organizer");
    x.close("entry");
    section_end(x);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A treatment's `Posology::text` is written as a FR-Instructions-au-patient entry whose
    /// `text/reference` points at the narrative posology cell; without text (or blank), neither
    /// the entry nor the cell's `ID` is written and the cell shows `display()`.
    #[test]
    fn posology_text_is_written_as_a_patient_instruction() {
        let mut vsm = crate::examples::manual_vsm(VsmVersion::V2013);
        assert_eq!(
            vsm.summary.traitements[0].posology.text.as_deref(),
            Some("1 cp/j")
        );
        assert_eq!(vsm.summary.traitements[1].posology.text, None);
        let xml = vsm.to_xml().unwrap();
        assert!(xml.contains(r#"<content ID="med-1-poso">1 cp/j</content>"#));
        assert!(!xml.contains("med-2-poso"));
        assert!(xml.contains(&format!(
            "<td>{}</td>",
            vsm.summary.traitements[1].posology.display()
        )));
        let at = xml.find(r#"<entryRelationship typeCode="SUBJ" inversionInd="true">"#);
        let act = &xml[at.unwrap()..];
        let act = &act[..act.find("</entryRelationship>").unwrap()];
        for part in [
            r#"<act classCode="ACT" moodCode="INT">"#,
            r#"<templateId root="2.16.840.1.113883.10.20.1.49"/>"#,
            r#"<templateId root="1.3.6.1.4.1.19376.1.5.3.1.4.3"/>"#,
            r#"<templateId root="1.2.250.1.213.1.1.3.33"/>"#,
            r#"code="PINSTRUCT""#,
            r#"codeSystem="1.3.6.1.4.1.19376.1.5.3.2""#,
            r##"<reference value="#med-1-poso"/>"##,
            r#"<statusCode code="completed"/>"#,
        ] {
            assert!(act.contains(part), "{part} not in {act}");
        }
        assert_eq!(xml.matches("PINSTRUCT").count(), 1);
        // Inside the PLAVIX substanceAdministration, after its consumable.
        let sa = xml.find("63564053").unwrap();
        let consumable = sa + xml[sa..].find("</consumable>").unwrap();
        let end = sa + xml[sa..].find("</substanceAdministration>").unwrap();
        let instr = xml.find("PINSTRUCT").unwrap();
        assert!(consumable < instr && instr < end);
        for blank in ["", "  "] {
            vsm.summary.traitements[0].posology.text = Some(blank.into());
            let xml = vsm.to_xml().unwrap();
            assert!(!xml.contains("PINSTRUCT"));
            assert!(!xml.contains("med-1-poso"));
        }
    }
}
