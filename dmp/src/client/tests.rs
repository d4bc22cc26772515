//! The client in replay mode: requests, refusals, traces.

use super::*;
use crate::patients::{self, FeedBlocked};
use crate::settings::{DmpSettings, LpsDmpSettings, StructureSettings};
use crate::xds::{
    AvailabilityStatus, DmpConfidentiality, DocumentEntry, ErrorCode, QueryResponse, RegistryError,
    RegistryObjects, RetrieveResponse, RetrievedDocument, ReturnType,
};
use chrono::DateTime;
use segur_net::soap::{self, SOAP12_NS, WSA_NS, WSSE_NS};
use segur_net::trace::MemoryTraceSink;
use std::sync::{Mutex, OnceLock};

/// A self-signed RSA-2048 "cachet" signer (generated once).
fn signer() -> Arc<dyn Signer> {
    static S: OnceLock<Arc<segur_net::dsig::Pkcs12Signer>> = OnceLock::new();
    S.get_or_init(|| {
        use rsa::pkcs8::EncodePrivateKey as _;
        use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let key = rsa::PrivateKey::new(&mut rand::rngs::SysRng, 2048).unwrap();
        let der = key.to_pkcs8_der().unwrap().as_bytes().to_vec();
        let pkcs8 = PrivatePkcs8KeyDer::from(der.clone());
        let kp =
            rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::default();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "CACHET TEST");
        let cert = params.self_signed(&kp).unwrap();
        let id = ClientIdentity::new(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)),
        )
        .unwrap();
        Arc::new(segur_net::dsig::Pkcs12Signer::from_identity(&id).unwrap())
    })
    .clone()
}

fn settings() -> DmpSettings {
    DmpSettings {
        endpoint: "https://127.0.0.1:9/si-dmp-server/v2/services/".into(),
        trust_anchors: "a.pem".into(),
        pkcs12: "a.p12".into(),
        pkcs12_password: Some("x".into()),
        pkcs12_password_env: None,
        signing_pkcs12: "s.p12".into(),
        signing_pkcs12_password: Some("x".into()),
        signing_pkcs12_password_env: None,
        sender_oid: "1.2.250.1.999.1".into(),
        source_id: "1.2.250.1.999.1.2".into(),
        structure: StructureSettings {
            id_nat: "3499999999".into(),
            name: "Cabinet".into(),
            secteur_activite: "SA07".into(),
        },
        lps: LpsDmpSettings {
            name: "segur".into(),
            version: "0.1.0".into(),
            homologation: "H".into(),
            id: None,
        },
        timeout_secs: None,
        connect_timeout_secs: None,
        max_document_bytes: None,
        test_ins: true,
    }
}

fn user() -> DmpUser {
    DmpUser {
        ps_id: vihf::PsId::rpps("01234567897").unwrap(),
        nom: "MEDIONI".into(),
        prenom: "Stéphane".into(),
        role: vihf::Role::profession("10").unwrap(),
        specialty: Some(vihf::Role::savoir_faire("SM26").unwrap()),
        auth_mode: vihf::AuthentificationMode::Indirecte,
    }
}

fn patient() -> QualifiedIdentity {
    segur_cda::examples::qualified_patient()
}

type Answer = Box<dyn Fn(&str, &[u8]) -> ReplayReply + Send + Sync>;

/// Records every request and answers with `answer(action, body)`.
struct Canned {
    seen: Mutex<Vec<(Service, String, Bytes)>>,
    answer: Answer,
}

impl Responder for Canned {
    fn respond(&self, r: &ReplayRequest<'_>) -> ReplayReply {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push((r.service, r.action.to_owned(), r.body.clone()));
        }
        (self.answer)(r.action, r.body)
    }
}

impl Canned {
    fn actions(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, a, _)| a.clone())
            .collect()
    }
}

fn client(
    answer: impl Fn(&str, &[u8]) -> ReplayReply + Send + Sync + 'static,
) -> (DmpClient, Arc<Canned>, Arc<MemoryTraceSink>) {
    let canned = Arc::new(Canned {
        seen: Mutex::new(Vec::new()),
        answer: Box::new(answer),
    });
    let trace = Arc::new(MemoryTraceSink::new());
    let c = DmpClient::builder(settings())
        .signer(signer())
        .replay(canned.clone())
        .trace(trace.clone())
        .build()
        .unwrap();
    (c, canned, trace)
}

fn soap_reply(status: u16, body: &str) -> ReplayReply {
    let mut s = String::new();
    soap::write_envelope(&mut s, &[], "", body);
    ReplayReply {
        status,
        content_type: "application/soap+xml; charset=utf-8".into(),
        body: Bytes::from(s),
    }
}

/// A TD0.2 answer echoing the request's queryId.
fn td02(request: &[u8], dmp: Option<(&str, &str)>) -> ReplayReply {
    let env = soap::parse_envelope(request, &XmlLimits::default()).unwrap();
    let soap::Content::Payload(p) = env.content().unwrap() else {
        panic!("fault in request")
    };
    let qid = p
        .child(patients::HL7_NS, "controlActProcess")
        .and_then(|c| c.child(patients::HL7_NS, "queryByParameter"))
        .and_then(|q| q.child(patients::HL7_NS, "queryId"))
        .and_then(|q| q.attr("extension"))
        .unwrap()
        .to_owned();
    let (code, subject) = match dmp {
        None => ("NF", String::new()),
        Some((status, etat)) => (
            "OK",
            format!(
                r#"<subject><registrationEvent><statusCode code="{status}"/>
                <subject1><patient><id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>
                <patientPerson><name><given>DOMINIQUE</given><family qualifier="BR">PAT-TROIS</family></name>
                <administrativeGenderCode code="F"/><birthTime value="19790328"/></patientPerson></patient></subject1>
                <e:etatAcces xmlns:e="urn:si-dmp:td02" {etat}/></registrationEvent></subject>"#
            ),
        ),
    };
    soap_reply(
        200,
        &format!(
            r#"<PRPA_IN201308UV02 xmlns="urn:hl7-org:v3"><acknowledgement><typeCode code="AA"/></acknowledgement>
            <controlActProcess>{subject}<queryAck><queryId extension="{qid}"/><queryResponseCode code="{code}"/></queryAck></controlActProcess></PRPA_IN201308UV02>"#
        ),
    )
}

const OPEN: &str = r#"autorisation="AUTORISE" oppositionAlimentation="false""#;

fn vsm() -> Bytes {
    Bytes::from(
        segur_cda::examples::manual_vsm(segur_cda::VsmVersion::default())
            .to_xml()
            .unwrap(),
    )
}

fn entry(unique_id: &str, content: &[u8], status: AvailabilityStatus) -> DocumentEntry {
    let meta = segur_cda::metadata(&vsm()).unwrap();
    let mut e = DocumentEntry::from_metadata(
        &meta,
        "urn:uuid:0b0f3f5c-7a84-4f7e-9a53-3c1b3e0e0001",
        DmpConfidentiality::VISIBLE,
        Vec::new(),
    )
    .unwrap();
    e.unique_id = unique_id.into();
    e.status = Some(status);
    e.repository_unique_id = Some("1.2.250.1.213.4.1.1.1".into());
    e.size = Some(content.len() as u64);
    e.hash = Some(
        sha1::Sha1::digest(content)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    );
    e
}

fn query_reply(entries: Vec<DocumentEntry>) -> ReplayReply {
    let q = QueryResponse {
        response: RegistryResponse::success(),
        objects: RegistryObjects {
            documents: entries,
            ..Default::default()
        },
        total_result_count: None,
    };
    soap_reply(200, &q.to_xml(ReturnType::LeafClass).unwrap())
}

#[tokio::test]
async fn requests_carry_addressing_and_a_signed_vihf_for_the_patient() {
    let (c, canned, trace) = client(|_, body| td02(body, Some(("active", OPEN))));
    let st = c.status(&user(), &patient()).await.unwrap();
    assert!(st.can_consult());
    let seen = canned.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (service, action, body) = &seen[0];
    assert_eq!(
        (*service, action.as_str()),
        (Service::Patients, envelope::ACTION_TD02)
    );
    let env = soap::parse_envelope(body, &XmlLimits::default()).unwrap();
    let h = env.header.as_ref().unwrap();
    assert_eq!(
        h.child_text(WSA_NS, "To").unwrap(),
        "https://127.0.0.1:9/si-dmp-server/v2/services/patients"
    );
    assert!(h
        .child_text(WSA_NS, "MessageID")
        .unwrap()
        .starts_with("urn:uuid:"));
    let assertion = h
        .child(WSSE_NS, "Security")
        .and_then(|s| s.child(vihf::SAML_NS, "Assertion"))
        .unwrap();
    let id = assertion.attr("ID").unwrap();
    // The signature verifies inside the whole envelope: the assertion was not altered.
    let verified = segur_net::dsig::verify_enveloped(body, id).unwrap();
    assert_eq!(verified.element_id, id);
    let text = String::from_utf8_lossy(body);
    assert!(text.contains("279035121518989^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH"));
    assert!(text.contains(">normal<") || text.contains("code=\"normal\""));
    let ex = trace.exchanges();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].operation, "TD0.2");
    assert_eq!(ex[0].outcome, Outcome::Ok);
    assert_eq!(ex[0].request, *body);
    assert!(ex[0].response.is_some());
    let _ = SOAP12_NS;
}

#[tokio::test]
async fn bris_de_glace_is_carried_in_the_vihf() {
    let (c, canned, _) = client(|_, body| td02(body, Some(("active", OPEN))));
    let u = user();
    c.status(u.acting(vihf::PurposeOfUse::BrisDeGlace), &patient())
        .await
        .unwrap();
    let seen = canned.seen.lock().unwrap().clone();
    assert!(String::from_utf8_lossy(&seen[0].2).contains("bris_de_glace"));
}

#[tokio::test]
async fn send_is_refused_locally_without_any_iti41() {
    for (dmp, blocked) in [
        (None, FeedBlocked::NoDmp),
        (Some(("terminated", OPEN)), FeedBlocked::Closed),
        (
            Some((
                "active",
                r#"autorisation="AUTORISE" oppositionAlimentation="true""#,
            )),
            FeedBlocked::FeedingOpposed,
        ),
    ] {
        let (c, canned, trace) = client(move |_, body| td02(body, dmp));
        let r = c.send(&user(), &patient(), &DmpDocument::new(vsm())).await;
        match r {
            Err(DmpError::NotSent(b)) => assert_eq!(b, blocked),
            other => panic!("{other:?}"),
        }
        assert_eq!(canned.actions(), vec![envelope::ACTION_TD02.to_owned()]);
        assert_eq!(trace.exchanges().len(), 1);
    }
}

#[tokio::test]
async fn a_traits_mismatch_stops_feeding_until_exactly_it_is_confirmed() {
    use crate::patients::{TraitField, TraitsMismatch};
    use std::sync::atomic::{AtomicUsize, Ordering};
    // 0: the DMP's first name differs; 1: the sex differs too; 2: traits match.
    let variant = Arc::new(AtomicUsize::new(0));
    let v = variant.clone();
    let (c, canned, _) = client(move |action, body| match action {
        envelope::ACTION_TD02 => {
            let r = td02(body, Some(("active", OPEN)));
            let xml = String::from_utf8(r.body.to_vec()).unwrap();
            let xml = match v.load(Ordering::SeqCst) {
                0 => xml.replace("<given>DOMINIQUE<", "<given>RUTH<"),
                1 => xml
                    .replace("<given>DOMINIQUE<", "<given>RUTH<")
                    .replace("code=\"F\"", "code=\"M\""),
                _ => xml,
            };
            ReplayReply {
                body: Bytes::from(xml),
                ..r
            }
        }
        envelope::ACTION_ITI41 => soap_reply(200, &RegistryResponse::success().to_xml()),
        _ => soap_reply(500, "<x/>"),
    });
    let (u, p) = (user(), patient());
    let doc = DmpDocument::new(vsm());
    let mismatch = match c.send(&u, &p, &doc).await {
        Err(DmpError::NotSent(FeedBlocked::TraitsMismatch(m))) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(mismatch.fields, vec![TraitField::Prenoms]);
    assert!(matches!(
        c.feed_permit(&u, &p).await,
        Err(DmpError::NotSent(FeedBlocked::TraitsMismatch(_)))
    ));
    assert!(!canned
        .actions()
        .contains(&envelope::ACTION_ITI41.to_owned()));
    // Confirmed: sent.
    let ack = TraitsAcknowledgement::new(&p, &mismatch, u.ps_id.as_str(), Utc::now());
    let who = Acting::from(&u).confirming(&ack);
    let r = c.send(who, &p, &doc).await.unwrap();
    assert_eq!(r.status.traits_mismatch(), Some(&mismatch));
    let permit = c.feed_permit(who, &p).await.unwrap();
    c.send_with_permit(&u, &p, &doc, &permit).await.unwrap();
    // Another mismatch later: the old confirmation does not cover it.
    variant.store(1, Ordering::SeqCst);
    match c.send(who, &p, &doc).await {
        Err(DmpError::NotSent(FeedBlocked::TraitsMismatch(m))) => {
            assert_eq!(m.field_set(), vec![TraitField::Prenoms, TraitField::Sexe])
        }
        other => panic!("{other:?}"),
    }
    // An acknowledgement of another mismatch (fields) does not help either.
    let wrong = TraitsAcknowledgement::new(
        &p,
        &TraitsMismatch {
            fields: vec![TraitField::Sexe],
        },
        u.ps_id.as_str(),
        Utc::now(),
    );
    assert!(c
        .send(Acting::from(&u).confirming(&wrong), &p, &doc)
        .await
        .is_err());
    // No mismatch: no acknowledgement needed.
    variant.store(2, Ordering::SeqCst);
    c.send(&u, &p, &doc).await.unwrap();
    let sent = canned
        .actions()
        .iter()
        .filter(|a| *a == envelope::ACTION_ITI41)
        .count();
    assert_eq!(sent, 3);
}

#[tokio::test]
async fn a_duplicate_unique_id_is_checked_against_the_registry() {
    let bytes = vsm();
    let doc = DmpDocument::new(bytes.clone());
    let meta = segur_cda::metadata(&bytes).unwrap();
    for (held, expect_ok) in [
        (bytes.clone(), true),
        (Bytes::from_static(b"<other/>"), false),
    ] {
        let e = entry(&meta.unique_id, &held, AvailabilityStatus::Approved);
        let uuid = e.entry_uuid.clone();
        let code = if expect_ok {
            ErrorCode::XdsDuplicateUniqueIdInRegistry
        } else {
            ErrorCode::XdsNonIdenticalHash
        };
        let (c, canned, _) = client(move |action, body| match action {
            envelope::ACTION_TD02 => td02(body, Some(("active", OPEN))),
            envelope::ACTION_ITI41 => soap_reply(
                200,
                &RegistryResponse::failure(vec![RegistryError {
                    code: code.clone(),
                    context: "uniqueId déjà enregistré.".into(),
                    location: None,
                    severity: xds::Severity::Error,
                }])
                .to_xml(),
            ),
            _ => query_reply(vec![e.clone()]),
        });
        let r = c.send(&user(), &patient(), &doc).await;
        if expect_ok {
            let r = r.unwrap();
            assert_eq!(r.already_registered.as_deref(), Some(uuid.as_str()));
            assert!(matches!(r.outcome, xds::Outcome::Success { .. }));
        } else {
            match r {
                Err(DmpError::DuplicateDiffers { unique_id }) => {
                    assert_eq!(unique_id, meta.unique_id)
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            canned.actions(),
            vec![
                envelope::ACTION_TD02.to_owned(),
                envelope::ACTION_ITI41.to_owned(),
                envelope::ACTION_ITI18.to_owned()
            ]
        );
    }
}

#[tokio::test]
async fn a_feed_permit_sends_a_batch_with_one_td02_for_its_patient_and_user_only() {
    let (c, canned, trace) = client(|action, body| match action {
        envelope::ACTION_TD02 => td02(body, Some(("active", OPEN))),
        envelope::ACTION_ITI41 => soap_reply(200, &RegistryResponse::success().to_xml()),
        _ => soap_reply(500, "<x/>"),
    });
    let (u, p) = (user(), patient());
    let permit = c.feed_permit(&u, &p).await.unwrap();
    assert!(permit.status().exists());
    assert!(permit.age() < FeedPermit::MAX_AGE);
    let debug = format!("{permit:?}");
    assert!(!debug.contains("279035121518989") && !debug.contains("PAT-TROIS"));
    for _ in 0..3 {
        let r = c
            .send_with_permit(&u, &p, &DmpDocument::new(vsm()), &permit)
            .await
            .unwrap();
        assert_eq!(&r.status, permit.status());
    }
    let mut expected = vec![envelope::ACTION_TD02.to_owned()];
    expected.extend(std::iter::repeat_n(envelope::ACTION_ITI41.to_owned(), 3));
    assert_eq!(canned.actions(), expected);
    assert_eq!(trace.exchanges().len(), 4);
    // Another patient, another professional: refused before any request.
    let other = segur_cda::examples::qualified(
        "9",
        "1810163220751",
        "40",
        "ADRDEUX",
        "LAURENT",
        segur_ins_core::Sexe::M,
        "1981-01-01",
        "63220",
    );
    let r = c
        .send_with_permit(&u, &other, &DmpDocument::new(vsm()), &permit)
        .await;
    assert!(
        matches!(r, Err(DmpError::Invalid { field: "feed permit", ref detail }) if !detail.contains("1810163220751")),
        "{r:?}"
    );
    let mut colleague = user();
    colleague.ps_id = vihf::PsId::rpps("10000001239").unwrap();
    let r = c
        .send_with_permit(&colleague, &p, &DmpDocument::new(vsm()), &permit)
        .await;
    assert!(
        matches!(
            r,
            Err(DmpError::Invalid {
                field: "feed permit",
                ..
            })
        ),
        "{r:?}"
    );
    assert_eq!(canned.actions().len(), 4);
    // No permit where feeding is blocked.
    let (c, canned, _) = client(|_, body| td02(body, Some(("terminated", OPEN))));
    match c.feed_permit(&u, &p).await {
        Err(DmpError::NotSent(b)) => assert_eq!(b, FeedBlocked::Closed),
        other => panic!("{other:?}"),
    }
    assert_eq!(canned.actions(), vec![envelope::ACTION_TD02.to_owned()]);
}

#[tokio::test]
async fn send_with_replacement_finds_the_entry_uuid_then_sends_mtom() {
    let old = entry("1.2.3.4.5", b"old", AvailabilityStatus::Approved);
    let old_uuid = old.entry_uuid.clone();
    let mut deprecated = entry("1.2.3.4.5", b"older", AvailabilityStatus::Deprecated);
    deprecated.entry_uuid = "urn:uuid:0b0f3f5c-7a84-4f7e-9a53-3c1b3e0e0002".into();
    let (c, canned, trace) = client(move |action, body| match action {
        envelope::ACTION_TD02 => td02(body, Some(("active", OPEN))),
        envelope::ACTION_ITI18 => query_reply(vec![deprecated.clone(), old.clone()]),
        envelope::ACTION_ITI41 => soap_reply(200, &RegistryResponse::success().to_xml()),
        _ => soap_reply(500, "<x/>"),
    });
    let doc = DmpDocument::new(vsm())
        .replacing("1.2.3.4.5")
        .masked_to_professionals();
    let receipt = c.send(&user(), &patient(), &doc).await.unwrap();
    assert_eq!(
        receipt.replaced_entry_uuid.as_deref(),
        Some(old_uuid.as_str())
    );
    assert!(matches!(receipt.outcome, xds::Outcome::Success { .. }));
    assert_eq!(
        canned.actions(),
        vec![
            envelope::ACTION_TD02.to_owned(),
            envelope::ACTION_ITI18.to_owned(),
            envelope::ACTION_ITI41.to_owned()
        ]
    );
    let seen = canned.seen.lock().unwrap().clone();
    let iti41 = String::from_utf8_lossy(&seen[2].2).into_owned();
    assert!(iti41.contains("application/xop+xml"), "MTOM root part");
    assert!(iti41.contains("urn:ihe:iti:2007:AssociationType:RPLC"));
    assert!(iti41.contains(&old_uuid));
    assert!(iti41.contains("MASQUE_PS"));
    assert!(iti41.contains("urn:ihe:iti:2007:AssociationType:signs"));
    let ops: Vec<String> = trace
        .exchanges()
        .iter()
        .map(|e| e.operation.clone())
        .collect();
    assert_eq!(ops, vec!["TD0.2", "ITI-18 GetDocuments", "ITI-41"]);
}

#[tokio::test]
async fn replacing_an_unknown_document_sends_nothing() {
    let (c, canned, _) = client(|action, body| match action {
        envelope::ACTION_TD02 => td02(body, Some(("active", OPEN))),
        _ => query_reply(Vec::new()),
    });
    let doc = DmpDocument::new(vsm()).replacing("9.9.9");
    match c.send(&user(), &patient(), &doc).await {
        Err(DmpError::DocumentNotFound { unique_id }) => assert_eq!(unique_id, "9.9.9"),
        other => panic!("{other:?}"),
    }
    assert!(!canned
        .actions()
        .contains(&envelope::ACTION_ITI41.to_owned()));
}

#[tokio::test]
async fn a_document_of_another_patient_is_refused_before_any_call() {
    let (c, canned, _) = client(|_, body| td02(body, Some(("active", OPEN))));
    let other = segur_cda::examples::qualified(
        "9",
        "1810163220751",
        "40",
        "ADRDEUX",
        "LAURENT",
        segur_ins_core::Sexe::M,
        "1981-01-01",
        "63220",
    );
    let r = c.send(&user(), &other, &DmpDocument::new(vsm())).await;
    assert!(
        matches!(
            r,
            Err(DmpError::Invalid {
                field: "patientId",
                ..
            })
        ),
        "{r:?}"
    );
    assert!(canned.actions().is_empty());
    let r = c
        .send(&user(), &patient(), &DmpDocument::new(&b"not xml"[..]))
        .await;
    assert!(matches!(r, Err(DmpError::Invalid { .. })));
}

#[tokio::test]
async fn faults_registry_refusals_and_http_errors_are_typed_and_traced() {
    let (c, _, trace) = client(|action, _| match action {
        envelope::ACTION_TD02 => ReplayReply {
            status: 500,
            content_type: "application/soap+xml".into(),
            body: Bytes::from(soap::write_fault(
                &[("d", "urn:si-dmp")],
                "Sender",
                Some("d:DMP_VIHF_INVALIDE"),
                "VIHF invalide",
                "",
            )),
        },
        envelope::ACTION_ITI18 => {
            let q = QueryResponse {
                response: RegistryResponse::failure(vec![RegistryError {
                    code: ErrorCode::Other("DMP_ACCES_NON_AUTORISE".into()),
                    context: "Accès refusé".into(),
                    location: None,
                    severity: xds::Severity::Error,
                }]),
                objects: RegistryObjects::default(),
                total_result_count: None,
            };
            soap_reply(200, &q.to_xml(ReturnType::LeafClass).unwrap())
        }
        _ => ReplayReply {
            status: 503,
            content_type: "text/html".into(),
            body: Bytes::from_static(b"<html>maintenance</html>"),
        },
    });
    let p = patient();
    match c.status(&user(), &p).await {
        Err(DmpError::Refused { code, .. }) => assert_eq!(code, RefusalCode::VihfInvalide),
        other => panic!("{other:?}"),
    }
    match c.find(&user(), &p, DmpClient::find_query(&p)).await {
        Err(DmpError::Refused { code, reason }) => {
            assert_eq!(code, RefusalCode::AccesNonAutorise);
            assert_eq!(reason, code.description());
        }
        other => panic!("{other:?}"),
    }
    match c.list_authorizations(&user(), &p).await {
        Err(DmpError::Net(NetError::HttpStatus { status: 503, .. })) => {}
        other => panic!("{other:?}"),
    }
    let ex = trace.exchanges();
    assert_eq!(ex.len(), 3);
    assert_eq!(ex[0].outcome, Outcome::Fault("DMP_VIHF_INVALIDE".into()));
    assert_eq!(
        ex[1].outcome,
        Outcome::Fault("DMP_ACCES_NON_AUTORISE".into())
    );
    assert!(matches!(ex[2].outcome, Outcome::Failed(_)));
    assert_eq!(ex[2].http_status, Some(503));
    for e in &ex {
        if let Outcome::Failed(m) | Outcome::Fault(m) = &e.outcome {
            assert!(!m.contains("279035121518989") && !m.contains("PAT-TROIS"));
        }
    }
}

#[tokio::test]
async fn find_checks_the_patient_and_helpers_pick_entries() {
    let mut old_vsm = entry("1.1", b"a", AvailabilityStatus::Approved);
    old_vsm.creation_time = Some("20200101120000".into());
    let mut new_vsm = entry("1.2", b"b", AvailabilityStatus::Approved);
    new_vsm.creation_time = Some("20240312101700".into());
    let (c, canned, _) = client(move |_, _| query_reply(vec![old_vsm.clone(), new_vsm.clone()]));
    let p = patient();
    let latest = c.latest_vsm(&user(), &p).await.unwrap().unwrap();
    assert_eq!(latest.unique_id, "1.2");
    let since = DateTime::parse_from_rfc3339("2023-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let new = c.new_since(&user(), &p, since).await.unwrap();
    assert_eq!(new.len(), 1);
    let seen = canned.seen.lock().unwrap().clone();
    let q = String::from_utf8_lossy(&seen[0].2).into_owned();
    assert!(q.contains("$XDSDocumentEntryTypeCode") && q.contains("SYNTH"));
    let q = String::from_utf8_lossy(&seen[1].2).into_owned();
    assert!(q.contains("$XDSDocumentEntryCreationTimeFrom"));
    let mut other = DmpClient::find_query(&p);
    other.patient_id = "1^^^&1.2&ISO^NH".into();
    assert!(matches!(
        c.find(&user(), &p, other).await,
        Err(DmpError::Invalid { .. })
    ));
    let mut empty = DmpClient::find_query(&p);
    empty.patient_id.clear();
    assert_eq!(c.find(&user(), &p, empty).await.unwrap().len(), 2);
}

#[tokio::test]
async fn retrieve_checks_size_and_hash() {
    let content = Bytes::from_static(b"<ClinicalDocument/>");
    let e = entry("1.2.3", &content, AvailabilityStatus::Approved);
    for (served, ok) in [
        (content.clone(), true),
        (Bytes::from_static(b"<Other/>"), false),
    ] {
        let e2 = e.clone();
        let (c, _, _) = client(move |action, _| match action {
            envelope::ACTION_ITI18 => query_reply(vec![e2.clone()]),
            _ => {
                let r = RetrieveResponse {
                    response: RegistryResponse::success(),
                    documents: vec![RetrievedDocument {
                        home_community_id: None,
                        repository_unique_id: "1.2.250.1.213.4.1.1.1".into(),
                        document_unique_id: "1.2.3".into(),
                        mime_type: "text/xml".into(),
                        content: served.clone(),
                    }],
                };
                let (body, atts) = r.to_xml(true);
                let mut env = String::new();
                soap::write_envelope(&mut env, &[], "", &body);
                let (ct, b) = mtom::build(
                    env.as_bytes(),
                    "urn:ihe:iti:2007:RetrieveDocumentSetResponse",
                    &atts,
                );
                ReplayReply {
                    status: 200,
                    content_type: ct,
                    body: Bytes::from(b),
                }
            }
        });
        let r = c.retrieve(&user(), &patient(), "1.2.3").await;
        if ok {
            let r = r.unwrap();
            assert_eq!(r.content, content);
            assert_eq!(r.entry.unique_id, "1.2.3");
        } else {
            assert!(matches!(r, Err(DmpError::Malformed(_))), "{r:?}");
        }
    }
}

#[tokio::test]
async fn updates_target_the_current_version() {
    let current = entry("1.2.3", b"x", AvailabilityStatus::Approved);
    let uuid = current.entry_uuid.clone();
    let (c, canned, _) = client(move |action, _| match action {
        envelope::ACTION_ITI18 => query_reply(vec![current.clone()]),
        _ => soap_reply(200, &RegistryResponse::success().to_xml()),
    });
    let p = patient();
    c.mask(&user(), &p, "1.2.3").await.unwrap();
    c.delete(&user(), &p, "1.2.3").await.unwrap();
    let seen = canned.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    let mask = String::from_utf8_lossy(&seen[1].2).into_owned();
    assert_eq!(seen[1].1, envelope::ACTION_ITI57);
    assert!(mask.contains("MASQUE_PS") && mask.contains("PreviousVersion"));
    let del = String::from_utf8_lossy(&seen[3].2).into_owned();
    assert!(del.contains("urn:asip:ci-sis:2010:StatusType:Deleted"));
    assert!(del.contains(&uuid));
    // No current version: nothing is sent.
    let (c, canned, _) = client(|_, _| query_reply(Vec::new()));
    assert!(matches!(
        c.archive(&user(), &p, "1.2.3").await,
        Err(DmpError::DocumentNotFound { .. })
    ));
    assert_eq!(canned.actions(), vec![envelope::ACTION_ITI18.to_owned()]);
}

#[test]
fn builder_refusals() {
    assert!(matches!(
        DmpClient::builder(settings()).build(),
        Err(DmpError::Config(_))
    ));
    assert!(matches!(
        DmpClient::builder(settings()).signer(signer()).build(),
        Err(DmpError::Config(_))
    ));
    let mut s = settings();
    s.sender_oid = "x".into();
    assert!(DmpClient::builder(s).signer(signer()).build().is_err());
    fn is_send_sync<T: Send + Sync + Clone>() {}
    is_send_sync::<DmpClient>();
}

#[tokio::test]
async fn futures_can_be_spawned() {
    fn is_send<T: Send>(_: &T) {}
    let (c, _, _) = client(|_, body| td02(body, None));
    let (u, p) = (user(), patient());
    let f = c.status(&u, &p);
    is_send(&f);
    let doc = DmpDocument::new(vsm());
    let g = c.send(&u, &p, &doc);
    is_send(&g);
    let h = c.retrieve(&u, &p, "1.2");
    is_send(&h);
    // And a clone works from another task.
    let c2 = c.clone();
    let st = tokio::spawn(async move { c2.status(&user(), &patient()).await.map(|s| s.exists()) })
        .await
        .unwrap()
        .unwrap();
    assert!(!st);
    drop((f, g, h));
}
