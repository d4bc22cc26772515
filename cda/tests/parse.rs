//! Issue #4 points 4 and 8: parsing the ANS VSM example and our own documents into the typed
//! model, stable item ids, integrate(selection), versioning, round trip without losing any coded
//! entry, and bad input → typed errors, never a panic.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use segur_cda::examples::*;
use segur_cda::parse::{self, Body, ItemKind};
use segur_cda::*;
use segur_net::xml::{Element, Node};

mod common;

fn reference(name: &str) -> Option<Vec<u8>> {
    let base = std::env::var_os("SEGUR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    std::fs::read(base.join("reference/cda/ExemplesCDA").join(name)).ok()
}

/// Every (code, codeSystem) under the structured body's entries.
fn coded(doc: &Element) -> BTreeSet<(String, String)> {
    fn walk(e: &Element, inside_entry: bool, out: &mut BTreeSet<(String, String)>) {
        let inside = inside_entry || e.name == "entry";
        if inside {
            if let (Some(c), Some(s)) = (e.attr("code"), e.attr("codeSystem")) {
                out.insert((c.to_owned(), s.to_owned()));
            }
        }
        for n in &e.children {
            if let Node::Element(c) = n {
                walk(c, inside, out);
            }
        }
    }
    let mut s = BTreeSet::new();
    walk(doc, false, &mut s);
    s
}

#[test]
fn ans_vsm_example_parses_into_the_manual_blocks() {
    let Some(bytes) = reference("VSM_1.4_2022.01.xml") else {
        eprintln!("SKIPPED: reference absent");
        return;
    };
    let d = parse::parse(&bytes).unwrap();
    assert_eq!(d.vsm_version, Some(VsmVersion::V2013));
    assert_eq!(d.header.code.code, "SYNTH");
    assert_eq!(d.header.version, 1);
    assert_eq!(
        d.header.patient.ins().unwrap().extension.as_deref(),
        Some("279035121518989")
    );
    assert_eq!(
        d.header.patient.premier_prenom.as_deref(),
        Some("DOMINIQUE")
    );
    assert_eq!(d.header.patient.birth_cog.as_deref(), Some("51215"));
    assert!(d.header.medecin_traitant.is_some());
    let count = |k| d.items_of(k).count();
    assert_eq!(count(ItemKind::Pathologie), 2);
    assert_eq!(count(ItemKind::AntecedentMedical), 2);
    assert_eq!(count(ItemKind::AntecedentChirurgical), 1);
    assert_eq!(count(ItemKind::Allergie), 1);
    assert_eq!(count(ItemKind::AntecedentFamilial), 1);
    assert_eq!(count(ItemKind::Habitus), 2);
    assert_eq!(count(ItemKind::FacteurRisqueProfessionnel), 1);
    assert_eq!(count(ItemKind::PointDeVigilance), 3);
    assert_eq!(count(ItemKind::Traitement), 2);
    assert_eq!(count(ItemKind::Autre), 0);
    let labels: Vec<&str> = d.items.iter().map(|i| i.label.as_str()).collect();
    for l in [
        "Pyélonéphrite aiguë",
        "Infarctus transmural inférieur",
        "PARACETAMOL",
        "Angine de poitrine instable",
        "Anémie drépanocytaire",
        "Consommation tabagique",
        "ECG Hémibloc antérieur gauche",
        "PLAVIX 75mg, comprimé pelliculé",
    ] {
        assert!(
            labels.iter().any(|x| x.starts_with(l)),
            "{l} not in {labels:?}"
        );
    }
    // Stable ids: unique, and the same on a second parse.
    let ids: BTreeSet<_> = d.items.iter().map(|i| i.id.clone()).collect();
    assert_eq!(ids.len(), d.items.len());
    let again = parse::parse(&bytes).unwrap();
    assert_eq!(
        d.items.iter().map(|i| &i.id).collect::<Vec<_>>(),
        again.items.iter().map(|i| &i.id).collect::<Vec<_>>()
    );
}

#[test]
fn integrate_returns_exactly_the_selection() {
    let xml = manual_vsm(VsmVersion::V2013).to_xml().unwrap();
    let d = parse::parse(xml.as_bytes()).unwrap();
    let pick: Vec<_> = d
        .items
        .iter()
        .filter(|i| {
            matches!(i.kind, ItemKind::Allergie | ItemKind::Traitement)
                && !i.label.starts_with("COUMADINE")
        })
        .map(|i| i.id.clone())
        .collect();
    let s = d.integrate(&pick);
    assert_eq!(s.allergies.len(), 1);
    assert_eq!(s.traitements.len(), 1);
    assert_eq!(s.traitements[0].cis.code, "63564053");
    assert_eq!(s.traitements[0].ald, Some(true));
    assert_eq!(s.item_count(), 2);
    // Everything selected = the summary we wrote.
    let all = d.vsm_summary();
    let orig = manual_summary(VsmVersion::V2013);
    assert_eq!(all.item_count(), orig.item_count());
    assert_eq!(all.pathologies[1].code, orig.pathologies[1].code);
    assert_eq!(
        all.antecedents_medicaux[0].end,
        orig.antecedents_medicaux[0].end
    );
    assert_eq!(all.habitus[0].value, orig.habitus[0].value);
    assert_eq!(all.antecedents_familiaux[0].relation.code, "MTH");
}

#[test]
fn ans_example_round_trip_keeps_every_coded_entry() {
    let Some(bytes) = reference("VSM_1.4_2022.01.xml") else {
        eprintln!("SKIPPED: reference absent");
        return;
    };
    let with_instructions =
        common::ans_vsm_with_instructions(std::str::from_utf8(&bytes).unwrap()).into_bytes();
    for (input, texts) in [
        (bytes, [None, None]),
        (with_instructions, [Some("1 cp/j"), Some("1 cp le soir")]),
    ] {
        let d = parse::parse(&input).unwrap();
        let rebuilt = rebuild_vsm(&d).unwrap().to_xml().unwrap();
        let d2 = parse::parse(rebuilt.as_bytes()).unwrap();
        let before = coded(&d.root);
        let after = coded(&d2.root);
        let lost: Vec<_> = before.difference(&after).collect();
        assert!(lost.is_empty(), "coded entries lost: {lost:?}");
        assert_eq!(d.items.len(), d2.items.len());
        // The posology (free text included) survives too.
        let posologies = |d: &parse::ParsedDocument| {
            d.vsm_summary()
                .traitements
                .into_iter()
                .map(|t| t.posology)
                .collect::<Vec<_>>()
        };
        let (p1, p2) = (posologies(&d), posologies(&d2));
        assert_eq!(p1, p2);
        let got: Vec<Option<&str>> = p1.iter().map(|p| p.text.as_deref()).collect();
        assert_eq!(got, texts);
    }
}

/// Every treatment of every VSM of the conformance set keeps its posology (free text included)
/// through build → parse → build → parse (the manual's own VSM against its model: the unit test
/// `posology_text_comes_back_from_the_patient_instruction`).
#[test]
fn conformance_set_keeps_every_posology() {
    let mut texts = 0;
    for (name, xml) in conformance_documents() {
        let d = parse::parse(xml.as_bytes()).unwrap();
        if d.vsm_version.is_none() {
            continue;
        }
        let s = d.vsm_summary();
        let mut again = s.clone();
        again.version = d.vsm_version.unwrap_or_default();
        let xml2 = Vsm::new(header(patient(), time(2024, 1, 2, 3, 4, 5)), again)
            .to_xml()
            .unwrap();
        let s2 = parse::parse(xml2.as_bytes()).unwrap().vsm_summary();
        let pos = |s: &VsmSummary| {
            s.traitements
                .iter()
                .map(|t| t.posology.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(pos(&s), pos(&s2), "{name}");
        texts += s
            .traitements
            .iter()
            .filter(|t| t.posology.text.is_some())
            .count();
    }
    assert!(texts >= 10, "{texts} posology texts in the conformance set");
}

#[test]
fn level1_round_trip() {
    let p = Patient::qualified(&qualified_patient(), IPP_ROOT, InsMode::Sandbox).unwrap();
    let pdf = pdf::render_text_pdf("CR", &p.pdf_patient(), &["x".into()]).unwrap();
    let doc = Level1Document::cr_consultation(header(p, time(2024, 1, 2, 3, 4, 5)), pdf.clone());
    let d = parse::parse(doc.to_xml().unwrap().as_bytes()).unwrap();
    assert_eq!(d.header.code.code, "11488-4");
    assert_eq!(d.header.effective_time, "20240102030405+0100");
    match d.body {
        Body::NonXml { media_type, data } => {
            assert_eq!(media_type, "application/pdf");
            assert_eq!(data, pdf);
        }
        _ => panic!("level 1 expected"),
    }
    assert!(d.items.is_empty());
}

#[test]
fn versions_and_duplicates() {
    let v1 = manual_vsm(VsmVersion::V2013);
    let mut v2 = manual_vsm(VsmVersion::V2013);
    v2.header.set_id = v1.header.set_id.clone();
    v2.header.version = 2;
    v2.header.replaces = Some(v1.header.id.clone());
    let p1 = parse::parse(v1.to_xml().unwrap().as_bytes())
        .unwrap()
        .header;
    let p2 = parse::parse(v2.to_xml().unwrap().as_bytes())
        .unwrap()
        .header;
    assert_eq!(p2.replaces.as_ref(), Some(&p1.id));
    assert_eq!(compare_versions(&p2, &p1), VersionDecision::Replaces);
    assert_eq!(compare_versions(&p1, &p2), VersionDecision::Older);
    assert_eq!(compare_versions(&p1, &p1), VersionDecision::Duplicate);
    let other = parse::parse(manual_vsm(VsmVersion::V2023).to_xml().unwrap().as_bytes())
        .unwrap()
        .header;
    assert_eq!(compare_versions(&other, &p1), VersionDecision::Unrelated);
    // RPLC with version 1 is refused at build time.
    let mut bad = manual_vsm(VsmVersion::V2013);
    bad.header.replaces = Some(v1.header.id.clone());
    assert!(matches!(
        bad.to_xml(),
        Err(CdaError::Input {
            field: "replaces",
            ..
        })
    ));
}

fn manual_xml() -> String {
    manual_vsm(VsmVersion::V2013).to_xml().unwrap()
}

#[test]
fn bad_input_gives_typed_errors_naming_the_element() {
    let ok = manual_xml();
    // DOCTYPE / entities.
    let doctype = ok.replacen(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"boom\">]>",
        1,
    );
    assert!(matches!(
        parse::parse(doctype.as_bytes()),
        Err(CdaError::Xml(segur_net::NetError::XmlDoctype))
    ));
    // Wrong namespace, wrong root.
    let wrong_ns = ok.replacen("xmlns=\"urn:hl7-org:v3\"", "xmlns=\"urn:other\"", 1);
    assert!(matches!(
        parse::parse(wrong_ns.as_bytes()),
        Err(CdaError::WrongRoot { namespace, .. }) if namespace == "urn:other"
    ));
    assert!(matches!(
        parse::parse(b"<Document xmlns=\"urn:hl7-org:v3\"/>"),
        Err(CdaError::WrongRoot { name, .. }) if name == "Document"
    ));
    // Missing mandatory header parts.
    for (cut, what) in [
        ("<setId ", "setId"),
        ("<versionNumber ", "versionNumber"),
        ("<custodian>", "custodian"),
        ("<legalAuthenticator>", "legalAuthenticator"),
        ("<recordTarget>", "recordTarget"),
    ] {
        let broken = remove_element(&ok, cut);
        match parse::parse(broken.as_bytes()) {
            Err(CdaError::Missing { what: w, path }) => {
                assert_eq!(w, what);
                assert!(path.starts_with("/ClinicalDocument"), "{path}");
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    // INS without its BR first name (StrucMin INS rule).
    let no_br = ok.replacen("<given qualifier=\"BR\">DOMINIQUE</given>", "", 1);
    assert!(matches!(
        parse::parse(no_br.as_bytes()),
        Err(CdaError::Missing {
            what: "name/given[@qualifier='BR']",
            ..
        })
    ));
    // MASQUE_PS is XDS metadata, never a CDA confidentialityCode.
    let masque = ok.replacen(
        "confidentialityCode code=\"N\"",
        "confidentialityCode code=\"MASQUE_PS\"",
        1,
    );
    assert!(matches!(
        parse::parse(masque.as_bytes()),
        Err(CdaError::Invalid { .. })
    ));
    // Limits: size and depth.
    let small = segur_net::xml::XmlLimits {
        max_bytes: 1000,
        ..parse::cda_limits()
    };
    assert!(matches!(
        parse::parse_with_limits(ok.as_bytes(), &small),
        Err(CdaError::Xml(segur_net::NetError::XmlTooLarge { .. }))
    ));
    let deep = format!(
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">{}{}</ClinicalDocument>",
        "<a>".repeat(100),
        "</a>".repeat(100)
    );
    assert!(matches!(
        parse::parse(deep.as_bytes()),
        Err(CdaError::Xml(segur_net::NetError::XmlTooDeep { .. }))
    ));
}

/// Removes the first element starting with `start` (up to its end tag or `/>`).
fn remove_element(xml: &str, start: &str) -> String {
    let i = xml.find(start).unwrap();
    let name: String = start[1..]
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .collect();
    let rest = &xml[i..];
    let self_closing = rest.find("/>").unwrap();
    let first_gt = rest.find('>').unwrap();
    let end = if first_gt == self_closing + 1 {
        i + self_closing + 2
    } else {
        i + rest.find(&format!("</{name}>")).unwrap() + name.len() + 3
    };
    format!("{}{}", &xml[..i], &xml[end..])
}

#[test]
fn truncated_and_mutated_inputs_never_panic() {
    let ok = manual_xml().into_bytes();
    proptest::proptest!(proptest::test_runner::Config::with_cases(300), |(cut in 0usize..ok.len(), flip in 0usize..ok.len(), byte in 0u8..=255)| {
        let _ = parse::parse(&ok[..cut]);
        let mut m = ok.clone();
        m[flip] = byte;
        if let Ok(d) = parse::parse(&m) {
            let ids: Vec<_> = d.items.iter().map(|i| i.id.clone()).collect();
            let _ = d.integrate(&ids);
            let _ = XdsMetadata::from_document(&d, &m);
            let _ = pdf::pdf_copy(&d);
        }
    });
}
