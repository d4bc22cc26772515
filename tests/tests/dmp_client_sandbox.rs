//! The DMP client against the sandbox's DMP simulator, over real mutual TLS with a signed VIHF
//! (issue #5 points 2–5, 7): existence → authorization (with consent) → send a VSM built by
//! `segur-cda` → find → retrieve → parse → replace with a new version → mask → delete; and the
//! refusals: no DMP, closed DMP, opposition to feeding (blocked locally, no ITI-41 sent),
//! consultation without authorization and access forbidden by the patient (refused by the
//! sandbox), traits that differ (DMP/CONF.01).

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use segur_cda::examples;
use segur_cda::header::{InsMode, Patient};
use segur_cda::{Vsm, VsmVersion};
use segur_dmp::client::{DmpClient, DmpDocument, DmpUser};
use segur_dmp::envelope::{RefusalCode, ACTION_ITI41};
use segur_dmp::habilitations::{AuthorizationAction, ConsentMode, PatientConsent};
use segur_dmp::patients::{
    Authorization, DmpStatus, FeedBlocked, TraitField, TraitsAcknowledgement,
};
use segur_dmp::settings::DmpSettings;
use segur_dmp::vihf::{AuthentificationMode, PsId, PurposeOfUse, Role};
use segur_dmp::xds::{AvailabilityStatus, DmpConfidentialityCode, Masking};
use segur_dmp::DmpError;
use segur_ins_core::insi::TraitsQuery;
use segur_ins_core::traits::TraitsInput;
use segur_ins_core::{IdentityRecord, QualifiedIdentity, TraitsStricts, TrustPolicy};
use segur_net::trace::{DirTraceSink, MemoryTraceSink, NoTrace, Outcome, TraceSink};
use segur_sandbox::{Sandbox, SandboxOptions};

/// The sandbox's own `[dmp]` settings (those of its `segur.toml`).
fn settings(sb: &Sandbox) -> DmpSettings {
    let mut s = sb.dmp_settings();
    s.timeout_secs = Some(30);
    s
}

async fn start() -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::tempdir().unwrap();
    let sb = Sandbox::start(SandboxOptions::new(dir.path().join("sandbox")))
        .await
        .unwrap();
    (dir, sb)
}

fn client(sb: &Sandbox, trace: Arc<dyn TraceSink>) -> DmpClient {
    DmpClient::from_settings(&settings(sb), Path::new("/"), trace).unwrap()
}

/// A general practitioner not yet authorised on any seeded DMP.
fn doctor() -> DmpUser {
    DmpUser {
        ps_id: PsId::rpps("10000001239").unwrap(),
        nom: "TEST".into(),
        prenom: "Camille".into(),
        role: Role::profession("10").unwrap(),
        specialty: Some(Role::savoir_faire("SM26").unwrap()),
        auth_mode: AuthentificationMode::Indirecte,
    }
}

/// A qualified identity the way the software gets one: INSi (the sandbox's) then a high-trust
/// identity document.
async fn qualify(
    sb: &Sandbox,
    nom: &str,
    prenoms: &str,
    sexe: &str,
    date: &str,
) -> QualifiedIdentity {
    let insi = sb
        .settings()
        .insi_client(sb.dir(), uuid::Uuid::new_v4(), Arc::new(NoTrace))
        .unwrap();
    let traits = TraitsStricts::from_input(
        &TraitsInput {
            nom_naissance: nom,
            prenoms,
            premier_prenom: None,
            date_naissance: date,
            sexe,
            lieu_naissance: None,
        },
        false,
    )
    .unwrap();
    let reply = insi
        .search_traits(&TraitsQuery::from_traits(&traits))
        .await
        .unwrap();
    let found = reply.identity.expect("identity found by INSi");
    let mut record = IdentityRecord::new(format!("IPP-{nom}"), traits, Default::default(), "t");
    record.apply_insi(&found, "t").unwrap();
    record
        .add_document("CN", &TrustPolicy::default(), "t")
        .unwrap();
    record.qualified().unwrap()
}

/// A VSM for `patient`, created at `at` (2025: more recent than the seeded one of 2022).
fn vsm_for(patient: &QualifiedIdentity, day: u32) -> Vsm {
    let p = Patient::qualified(patient, examples::IPP_ROOT, InsMode::Sandbox).unwrap();
    Vsm::new(
        examples::header(p, examples::time(2025, 6, day, 10, 0, 0)),
        examples::manual_summary(VsmVersion::default()),
    )
}

fn bytes(vsm: &Vsm) -> Bytes {
    Bytes::from(vsm.to_xml().unwrap())
}

#[tokio::test]
async fn end_to_end_existence_authorization_send_find_retrieve_replace_mask_delete() {
    let (tmp, sb) = start().await;
    let traces = tmp.path().join("traces");
    let mem = Arc::new(MemoryTraceSink::new());
    let dir_sink: Arc<dyn TraceSink> = Arc::new(DirTraceSink::new(&traces).unwrap());
    struct Both(Arc<MemoryTraceSink>, Arc<dyn TraceSink>);
    impl TraceSink for Both {
        fn record(&self, e: &segur_net::trace::Exchange) {
            self.0.record(e);
            self.1.record(e);
        }
    }
    let c = client(&sb, Arc::new(Both(mem.clone(), dir_sink)));
    let me = doctor();
    let patient = examples::qualified_patient();

    // 1. Existence: an open DMP, not yet authorised; the traits agree (DMP/CONF.01).
    let st = c.status(&me, &patient).await.unwrap();
    match &st {
        DmpStatus::Exists {
            closed,
            authorization,
            feeding_opposed,
            traits_mismatch,
            ..
        } => {
            assert!(!closed && !feeding_opposed);
            assert_eq!(*authorization, Authorization::NonAutorise);
            assert_eq!(*traits_mismatch, None);
        }
        DmpStatus::NoDmp => panic!("PAT-TROIS has a DMP"),
    }
    // Consultation without authorization: refused by the DMP.
    match c.find(&me, &patient, DmpClient::find_query(&patient)).await {
        Err(DmpError::Refused { code, .. }) => assert_eq!(code, RefusalCode::AccesNonAutorise),
        other => panic!("{other:?}"),
    }

    // 2. Authorization, with the patient's consent.
    let consent = PatientConsent::new(chrono::Utc::now(), ConsentMode::Oral).unwrap();
    let set = c
        .set_authorization(&me, &patient, AuthorizationAction::Ajout(consent))
        .await
        .unwrap();
    assert_eq!(set.authorization, Some(Authorization::Authorise));
    assert!(c.status(&me, &patient).await.unwrap().can_consult());
    let list = c.list_authorizations(&me, &patient).await.unwrap();
    assert!(list
        .iter()
        .any(|a| a.id_nat == "810000001239" && a.statut == Authorization::Authorise));

    // 3. Send a VSM built by segur-cda.
    let v1 = vsm_for(&patient, 2);
    let v1_id = v1.header.id.to_xds();
    let v1_bytes = bytes(&v1);
    let receipt = c
        .send(&me, &patient, &DmpDocument::new(v1_bytes.clone()))
        .await
        .unwrap();
    assert_eq!(receipt.unique_id, v1_id);
    assert!(receipt.replaced_entry_uuid.is_none());

    // 4. Find it, and the documents new since a date.
    let found = c
        .find(&me, &patient, DmpClient::find_query(&patient))
        .await
        .unwrap();
    assert!(found.iter().any(|e| e.unique_id == v1_id), "sent VSM found");
    let since = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let new = c.new_since(&me, &patient, since).await.unwrap();
    assert!(new.iter().any(|e| e.unique_id == v1_id));
    assert!(new
        .iter()
        .all(|e| e.creation_time_utc().is_none_or(|t| t >= since)));

    // 5. Retrieve and parse with segur-cda.
    let got = c.retrieve(&me, &patient, &v1_id).await.unwrap();
    assert!(got.content == v1_bytes, "the bytes sent come back");
    let parsed = segur_cda::parse(&got.content).unwrap();
    assert_eq!(parsed.header.id.to_xds(), v1_id);

    // 6. Replace with a new version (RPLC).
    let mut v2 = vsm_for(&patient, 3);
    v2.header.set_id = v1.header.set_id.clone();
    v2.header.version = 2;
    v2.header.replaces = Some(v1.header.id.clone());
    let v2_id = v2.header.id.to_xds();
    let receipt = c
        .send(
            &me,
            &patient,
            &DmpDocument::new(bytes(&v2)).replacing(&v1_id),
        )
        .await
        .unwrap();
    assert!(receipt.replaced_entry_uuid.is_some());
    let found = c
        .find(&me, &patient, DmpClient::find_query(&patient))
        .await
        .unwrap();
    assert!(found.iter().any(|e| e.unique_id == v2_id));
    assert!(
        !found.iter().any(|e| e.unique_id == v1_id),
        "the replaced version is no longer current"
    );

    // 7. Mask to professionals (TD3.3a), then unmask, then delete (TD3.3c).
    c.mask(&me, &patient, &v2_id).await.unwrap();
    let entry = c
        .find(&me, &patient, DmpClient::find_query(&patient))
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.unique_id == v2_id)
        .expect("still current after masking");
    assert_eq!(
        entry.dmp_confidentiality().masking,
        Masking::MaskedToProfessionals
    );
    assert!(entry
        .confidentiality_codes
        .iter()
        .any(|c| DmpConfidentialityCode::from_code(c) == Some(DmpConfidentialityCode::MasquePs)));
    c.unmask(&me, &patient, &v2_id).await.unwrap();
    c.delete(&me, &patient, &v2_id).await.unwrap();
    let found = c
        .find(&me, &patient, DmpClient::find_query(&patient))
        .await
        .unwrap();
    assert!(!found.iter().any(|e| e.unique_id == v2_id), "deleted");
    let versions = c
        .get_documents(&me, &patient, std::slice::from_ref(&v2_id))
        .await
        .unwrap();
    assert!(versions
        .iter()
        .any(|e| e.status == Some(AvailabilityStatus::Deleted)));

    // Every exchange was traced, request and response, and written as files.
    let ex = mem.exchanges();
    assert!(ex.len() >= 15, "{} exchanges", ex.len());
    assert!(ex
        .iter()
        .all(|e| e.response.is_some() && e.service == "dmp"));
    let ops: Vec<&str> = ex.iter().map(|e| e.operation.as_str()).collect();
    for op in [
        "TD0.2",
        "TD0.3 setAuthorization",
        "ITI-41",
        "ITI-18 FindDocuments",
        "ITI-43",
        "ITI-57",
    ] {
        assert!(ops.contains(&op), "{op} traced");
    }
    assert_eq!(
        ex[1].outcome,
        Outcome::Fault("DMP_ACCES_NON_AUTORISE".into())
    );
    let files = std::fs::read_dir(&traces).unwrap().count();
    assert_eq!(files, 2 * ex.len());

    sb.shutdown().await;
}

#[tokio::test]
async fn refusals_no_dmp_closed_opposition_unauthorized_and_traits_mismatch() {
    let (_tmp, sb) = start().await;
    let mem = Arc::new(MemoryTraceSink::new());
    let c = client(&sb, mem.clone());
    let me = doctor();

    // No DMP: status says so, and a send stops before any ITI-41.
    let no_dmp = qualify(&sb, "ADRTROIS", "DOMINIQUE", "F", "1997-02-26").await;
    assert_eq!(c.status(&me, &no_dmp).await.unwrap(), DmpStatus::NoDmp);
    let doc = DmpDocument::new(bytes(&vsm_for(&no_dmp, 2)));
    match c.send(&me, &no_dmp, &doc).await {
        Err(DmpError::NotSent(b)) => assert_eq!(b, FeedBlocked::NoDmp),
        other => panic!("{other:?}"),
    }

    // Closed DMP.
    let closed = qualify(&sb, "ADRTROIS", "TOUSSAINT", "M", "1960-01-01").await;
    let st = c.status(&me, &closed).await.unwrap();
    assert!(
        matches!(st, DmpStatus::Exists { closed: true, .. }),
        "{st:?}"
    );
    match c
        .send(&me, &closed, &DmpDocument::new(bytes(&vsm_for(&closed, 2))))
        .await
    {
        Err(DmpError::NotSent(b)) => assert_eq!(b, FeedBlocked::Closed),
        other => panic!("{other:?}"),
    }

    // Opposition to feeding (DMP/CONF.09): blocked locally.
    let opposed = qualify(&sb, "TCHITCHI", "CATARINA", "F", "1936-06-21").await;
    let st = c.status(&me, &opposed).await.unwrap();
    assert!(
        matches!(
            st,
            DmpStatus::Exists {
                feeding_opposed: true,
                ..
            }
        ),
        "{st:?}"
    );
    match c
        .send(
            &me,
            &opposed,
            &DmpDocument::new(bytes(&vsm_for(&opposed, 2))),
        )
        .await
    {
        Err(DmpError::NotSent(b)) => assert_eq!(b, FeedBlocked::FeedingOpposed),
        other => panic!("{other:?}"),
    }
    assert!(
        !mem.exchanges().iter().any(|e| e.operation == "ITI-41"),
        "no ITI-41 was sent for the three refusals"
    );

    // Consultation without authorization: refused by the DMP; bris de glace gets through.
    let zoe = qualify(&sb, "ADRUN", "ZOE", "F", "1975-12-31").await;
    match c.find(&me, &zoe, DmpClient::find_query(&zoe)).await {
        Err(DmpError::Refused { code, .. }) => assert_eq!(code, RefusalCode::AccesNonAutorise),
        other => panic!("{other:?}"),
    }
    match c.retrieve(&me, &zoe, "1.2.3.4").await {
        Err(DmpError::Refused { code, .. }) => assert_eq!(code, RefusalCode::AccesNonAutorise),
        other => panic!("{other:?}"),
    }
    let emergency = c
        .find(
            me.acting(PurposeOfUse::BrisDeGlace),
            &zoe,
            DmpClient::find_query(&zoe),
        )
        .await
        .unwrap();
    assert!(emergency.is_empty());
    // Feeding needs no authorization (Ségur: no TD0.3 just to feed).
    let receipt = c
        .send(&me, &zoe, &DmpDocument::new(bytes(&vsm_for(&zoe, 4))))
        .await
        .unwrap();
    assert!(!receipt.unique_id.is_empty());

    // Access forbidden by the patient: INTERDIT, and AJOUT refused.
    let forbidden = qualify(
        &sb,
        "ECETINSI",
        "PIERRE-ALAIN MURIEL FLORIANT",
        "M",
        "2009-07-14",
    )
    .await;
    let st = c.status(&me, &forbidden).await.unwrap();
    assert!(
        matches!(
            st,
            DmpStatus::Exists {
                authorization: Authorization::Interdit,
                ..
            }
        ),
        "{st:?}"
    );
    let consent = PatientConsent::now(ConsentMode::Oral);
    match c
        .set_authorization(&me, &forbidden, AuthorizationAction::Ajout(consent))
        .await
    {
        Err(DmpError::Refused { code, .. }) => assert_eq!(code, RefusalCode::Opposition),
        other => panic!("{other:?}"),
    }

    // The DMP knows NESSI NATHALIE as RUTH: reported, field named, value not repeated.
    let nessi = qualify(&sb, "NESSI", "NATHALIE", "F", "1977-07-14").await;
    let st = c.status(&me, &nessi).await.unwrap();
    let m = st.traits_mismatch().expect("DMP/CONF.01 mismatch");
    assert_eq!(m.fields, vec![TraitField::Prenoms]);
    assert!(!m.to_string().contains("RUTH"));
    // DMP/CONF.01: feeding stops until the user confirms exactly this mismatch.
    let nessi_doc = DmpDocument::new(bytes(&vsm_for(&nessi, 5)));
    match c.send(&me, &nessi, &nessi_doc).await {
        Err(DmpError::NotSent(FeedBlocked::TraitsMismatch(got))) => assert_eq!(&got, m),
        other => panic!("{other:?}"),
    }
    let ack = TraitsAcknowledgement::new(&nessi, m, me.ps_id.as_str(), chrono::Utc::now());
    let r = c
        .send(
            me.acting(PurposeOfUse::Normal).confirming(&ack),
            &nessi,
            &nessi_doc,
        )
        .await
        .unwrap();
    assert!(r.already_registered.is_none());
    assert_eq!(
        sb.dmp()
            .store()
            .read(|db| db.entries_by_unique_id(&r.unique_id))
            .unwrap()
            .len(),
        1
    );

    // Traces: failures included, no patient identity in outcomes.
    let ex = mem.exchanges();
    assert!(ex
        .iter()
        .any(|e| e.outcome == Outcome::Fault("DMP_OPPOSITION".into())));
    for e in &ex {
        if let Outcome::Fault(m) | Outcome::Failed(m) = &e.outcome {
            for secret in ["ADRUN", "ZOE", "NESSI", "2751263220749"] {
                assert!(!m.contains(secret));
            }
        }
    }
    assert!(!ex
        .iter()
        .any(|e| e.operation == "ITI-41" && e.outcome != Outcome::Ok));
    let _ = ACTION_ITI41;
    sb.shutdown().await;
}

/// "Is there a VSM, and of when": the helper filters on typeCode `SYNTH` in the ITI-18 query
/// (coded value `code^^scheme`, the HL7 CE form DRIMbox and IPF use).
#[tokio::test]
async fn latest_vsm_is_the_one_just_sent() {
    let (_tmp, sb) = start().await;
    let c = client(&sb, Arc::new(NoTrace));
    let me = doctor();
    let patient = examples::qualified_patient();
    let consent = PatientConsent::now(ConsentMode::Oral);
    c.set_authorization(&me, &patient, AuthorizationAction::Ajout(consent))
        .await
        .unwrap();
    // The seeded DMP already holds the ANS example VSM (2022).
    let seeded = c.latest_vsm(&me, &patient).await.unwrap();
    assert!(seeded.is_some(), "the seeded VSM is found by its typeCode");
    let v = vsm_for(&patient, 5);
    let id = v.header.id.to_xds();
    c.send(&me, &patient, &DmpDocument::new(bytes(&v)))
        .await
        .unwrap();
    let latest = c.latest_vsm(&me, &patient).await.unwrap().unwrap();
    assert_eq!(latest.unique_id, id);
    assert!(latest.creation_time_utc().is_some(), "and of when");
    sb.shutdown().await;
}

#[tokio::test]
async fn transport_failures_are_typed() {
    let (_tmp, sb) = start().await;
    let mem = Arc::new(MemoryTraceSink::new());
    // A wrong trust anchor: the TLS handshake fails, the failure is traced.
    let mut s = settings(&sb);
    let other = segur_sandbox::pki::TestPki::generate().unwrap();
    let pem = _tmp.path().join("other-ca.pem");
    std::fs::write(&pem, &other.root.cert_pem).unwrap();
    s.trust_anchors = pem;
    let c = DmpClient::from_settings(&s, Path::new("/"), mem.clone()).unwrap();
    let r = c.status(&doctor(), &examples::qualified_patient()).await;
    assert!(
        matches!(
            r,
            Err(DmpError::Net(segur_net::NetError::TlsHandshake { .. }))
        ),
        "{r:?}"
    );
    let ex = mem.exchanges();
    assert_eq!(ex.len(), 1);
    assert!(ex[0].response.is_none());
    assert!(matches!(ex[0].outcome, Outcome::Failed(_)));

    // The sandbox's fault switches: a SOAP Receiver fault, a malformed answer, a timeout.
    let mut s = settings(&sb);
    s.timeout_secs = Some(1);
    let mem = Arc::new(MemoryTraceSink::new());
    let c = DmpClient::from_settings(&s, Path::new("/"), mem.clone()).unwrap();
    let (me, p) = (doctor(), examples::qualified_patient());
    sb.dmp_faults().set_soap_fault(true);
    let r = c.status(&me, &p).await;
    assert!(
        matches!(&r, Err(DmpError::Fault { code, .. }) if code == "Receiver"),
        "{r:?}"
    );
    sb.dmp_faults().set_soap_fault(false);
    sb.dmp_faults().set_malformed(true);
    let r = c.find(&me, &p, DmpClient::find_query(&p)).await;
    assert!(
        matches!(
            r,
            Err(DmpError::Net(_) | DmpError::Malformed(_) | DmpError::Mtom(_))
        ),
        "{r:?}"
    );
    sb.dmp_faults().set_malformed(false);
    sb.dmp_faults()
        .set_delay(std::time::Duration::from_millis(2500));
    let r = c.status(&me, &p).await;
    assert!(
        matches!(r, Err(DmpError::Net(segur_net::NetError::Timeout { .. }))),
        "{r:?}"
    );
    sb.dmp_faults().set_delay(std::time::Duration::ZERO);
    assert!(c.status(&me, &p).await.unwrap().exists(), "back to normal");
    let ex = mem.exchanges();
    assert_eq!(ex.len(), 4);
    assert!(matches!(ex[0].outcome, Outcome::Fault(_)));
    assert!(matches!(ex[2].outcome, Outcome::Failed(_)));
    assert_eq!(ex[3].outcome, Outcome::Ok);
    sb.shutdown().await;
}
