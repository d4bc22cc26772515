//! Issue #5 point 7, end to end across the crates, against the sandbox over mutual TLS: a patient
//! qualified through the sandbox INSi (`segur-ins-core`), a VSM built for that patient by
//! `segur-cda`, the DMP client of `segur-dmp`, and after each step the status the manual's
//! dashboard shows, through the facade's view of a DMP entry (`segur::DmpEntryView`):
//! existence (TD0.2) → authorization (TD0.3 AJOUT, consent) → send → find → retrieve → parse
//! (the coded entries are the ones built) → replace (RPLC: the old version "Remplacé") → mask →
//! delete ("Supprimé dans le DMP").
//!
//! Point 8 as seen from the client: a document over 50 MiB refused before any request; the
//! sandbox's `malformed=on` switch (set over HTTP) and a missing MTOM part → typed errors, never a
//! panic.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use segur::DmpEntryView;
use segur_cda::examples;
use segur_cda::header::{InsMode, Patient};
use segur_cda::{Vsm, VsmSummary, VsmVersion};
use segur_dmp::client::{DmpClient, DmpDocument, DmpUser, ReplayReply, ReplayRequest};
use segur_dmp::envelope::{self, RefusalCode};
use segur_dmp::habilitations::{AuthorizationAction, ConsentMode, PatientConsent};
use segur_dmp::patients::{Authorization, DmpStatus};
use segur_dmp::settings::DmpSettings;
use segur_dmp::vihf::{AuthentificationMode, PsId, Role};
use segur_dmp::xds::{self, AvailabilityStatus, DocumentEntry, ErrorCode, Masking};
use segur_dmp::DmpError;
use segur_ins_core::insi::TraitsQuery;
use segur_ins_core::traits::TraitsInput;
use segur_ins_core::{IdentityRecord, QualifiedIdentity, TraitsStricts, TrustPolicy};
use segur_net::http::{HttpsClient, HttpsConfig};
use segur_net::trace::{MemoryTraceSink, NoTrace, Outcome, TraceSink};
use segur_net::NetError;
use segur_sandbox::dmp::Service as SandboxService;
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

/// A general practitioner with no authorization on any seeded DMP.
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

/// ADRUN ZOE as the software gets her: an INSi search on the sandbox, then a high-trust
/// identity document (RNIV: identity "qualifiée"). Her DMP is open and empty.
async fn qualified_zoe(sb: &Sandbox) -> QualifiedIdentity {
    let insi = sb
        .settings()
        .insi_client(sb.dir(), uuid::Uuid::new_v4(), Arc::new(NoTrace))
        .unwrap();
    let traits = TraitsStricts::from_input(
        &TraitsInput {
            nom_naissance: "ADRUN",
            prenoms: "ZOE",
            premier_prenom: None,
            date_naissance: "1975-12-31",
            sexe: "F",
            lieu_naissance: None,
        },
        false,
    )
    .unwrap();
    let reply = insi
        .search_traits(&TraitsQuery::from_traits(&traits))
        .await
        .unwrap();
    let found = reply.identity.expect("INSi finds ADRUN ZOE");
    let mut record = IdentityRecord::new("IPP-ZOE", traits, Default::default(), "e2e");
    record.apply_insi(&found, "e2e").unwrap();
    record
        .add_document("CN", &TrustPolicy::default(), "e2e")
        .unwrap();
    record.qualified().unwrap()
}

/// A VSM of `patient` with the content of the manual's integration screen.
fn vsm_for(patient: &QualifiedIdentity, day: u32) -> Vsm {
    let p = Patient::qualified(patient, examples::IPP_ROOT, InsMode::Sandbox).unwrap();
    Vsm::new(
        examples::header(p, examples::time(2025, 6, day, 10, 0, 0)),
        examples::manual_summary(VsmVersion::default()),
    )
}

/// What the dashboard shows for each document: every version the registry holds for these
/// uniqueIds (ITI-18 FindDocuments over the four statuses), as the facade's entry view.
async fn dashboard(
    c: &DmpClient,
    me: &DmpUser,
    p: &QualifiedIdentity,
    unique_ids: &[&str],
) -> BTreeMap<String, Vec<DmpEntryView>> {
    let q = DmpClient::find_query(p).statuses(&[
        AvailabilityStatus::Approved,
        AvailabilityStatus::Deprecated,
        AvailabilityStatus::Archived,
        AvailabilityStatus::Deleted,
    ]);
    let mut out: BTreeMap<String, Vec<DmpEntryView>> = BTreeMap::new();
    for e in c.find(me, p, q).await.unwrap() {
        if unique_ids.contains(&e.unique_id.as_str()) {
            out.entry(e.unique_id.clone())
                .or_default()
                .push(DmpEntryView::from(&e));
        }
    }
    out
}

/// The one current (Approved) entry of `unique_id` in a default FindDocuments.
async fn current(
    c: &DmpClient,
    me: &DmpUser,
    p: &QualifiedIdentity,
    unique_id: &str,
) -> Option<DocumentEntry> {
    let found = c.find(me, p, DmpClient::find_query(p)).await.unwrap();
    let mut it = found.into_iter().filter(|e| e.unique_id == unique_id);
    let first = it.next();
    assert!(it.next().is_none(), "one current version at most");
    first
}

fn labels(views: &[DmpEntryView]) -> Vec<&str> {
    views.iter().map(|v| v.status_label.as_str()).collect()
}

/// Every coded value of a VSM summary, by block: (block, code, code system, display name).
fn coded_items(s: &VsmSummary) -> Vec<(String, String, String, String)> {
    fn walk(block: &str, v: &serde_json::Value, out: &mut Vec<(String, String, String, String)>) {
        match v {
            serde_json::Value::Object(o) => {
                let field = |k: &str| o.get(k).and_then(|x| x.as_str()).map(str::to_owned);
                if let (Some(code), Some(system)) = (field("code"), field("system")) {
                    let display = field("display").unwrap_or_default();
                    out.push((block.to_owned(), code, system, display));
                }
                o.values().for_each(|x| walk(block, x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(block, x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(serde_json::Value::Object(blocks)) = serde_json::to_value(s) {
        for (block, items) in &blocks {
            walk(block, items, &mut out);
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn existence_authorization_send_find_retrieve_parse_replace_mask_delete() {
    let (_tmp, sb) = start().await;
    let mem = Arc::new(MemoryTraceSink::new());
    let c = client(&sb, mem.clone());
    let me = doctor();
    let zoe = qualified_zoe(&sb).await;

    // 1. Existence (TD0.2): an open DMP, not authorised yet, traits in agreement.
    match c.status(&me, &zoe).await.unwrap() {
        DmpStatus::Exists {
            closed,
            authorization,
            feeding_opposed,
            traits_mismatch,
            ..
        } => {
            assert!(!closed && !feeding_opposed);
            assert_eq!(authorization, Authorization::NonAutorise);
            assert!(traits_mismatch.is_none());
        }
        DmpStatus::NoDmp => panic!("ADRUN ZOE has a DMP"),
    }
    // Nothing can be consulted yet.
    match c.find(&me, &zoe, DmpClient::find_query(&zoe)).await {
        Err(DmpError::Refused { code, .. }) => assert_eq!(code, RefusalCode::AccesNonAutorise),
        other => panic!("{other:?}"),
    }

    // 2. Authorization (TD0.3 AJOUT) with the patient's consent.
    let consent = PatientConsent::new(chrono::Utc::now(), ConsentMode::Oral).unwrap();
    let set = c
        .set_authorization(&me, &zoe, AuthorizationAction::Ajout(consent))
        .await
        .unwrap();
    assert_eq!(set.authorization, Some(Authorization::Authorise));
    assert!(c.status(&me, &zoe).await.unwrap().can_consult());
    assert!(
        c.find(&me, &zoe, DmpClient::find_query(&zoe))
            .await
            .unwrap()
            .is_empty(),
        "an empty DMP"
    );

    // 3. Send a VSM built by segur-cda for the qualified patient.
    let v1 = vsm_for(&zoe, 2);
    let v1_id = v1.header.id.to_xds();
    let v1_bytes = Bytes::from(v1.to_xml().unwrap());
    let receipt = c
        .send(&me, &zoe, &DmpDocument::new(v1_bytes.clone()))
        .await
        .unwrap();
    assert_eq!(receipt.unique_id, v1_id);
    assert!(matches!(receipt.outcome, xds::Outcome::Success { .. }));
    let board = dashboard(&c, &me, &zoe, &[&v1_id]).await;
    assert_eq!(labels(&board[&v1_id]), ["Accessible dans le DMP"]);
    let view = &board[&v1_id][0];
    assert!(!view.masked && !view.invisible_patient);
    assert_eq!(view.type_code.as_deref(), Some("SYNTH"));
    assert_eq!(view.size, Some(v1_bytes.len() as u64));

    // 4. Find: the VSM is there, and it is "the latest VSM".
    let e1 = current(&c, &me, &zoe, &v1_id).await.expect("v1 current");
    assert_eq!(e1.patient_id, zoe.ins().to_cx_xds());
    let latest = c.latest_vsm(&me, &zoe).await.unwrap().unwrap();
    assert_eq!(latest.unique_id, v1_id);

    // 5. Retrieve, then parse with segur-cda: the bytes sent, the coded entries built.
    let got = c.retrieve(&me, &zoe, &v1_id).await.unwrap();
    assert!(got.content == v1_bytes, "the bytes sent come back");
    let parsed = segur_cda::parse(&got.content).unwrap();
    assert_eq!(parsed.header.id.to_xds(), v1_id);
    assert_eq!(
        parsed
            .header
            .patient
            .ins()
            .and_then(|i| i.extension.clone()),
        Some(zoe.ins().matricule.to_15())
    );
    let back = parsed.vsm_summary();
    assert_eq!(back.item_count(), v1.summary.item_count());
    // Every coded value built comes back (the writer may add defaults, e.g. an allergy's
    // kind), and exactly those of the bytes sent.
    let built = coded_items(&v1.summary);
    let received = coded_items(&back);
    assert!(built.len() > 20, "{} coded values", built.len());
    let lost: Vec<_> = built.iter().filter(|c| !received.contains(c)).collect();
    assert!(lost.is_empty(), "coded values lost: {lost:?}");
    let added: Vec<_> = received.iter().filter(|c| !built.contains(c)).collect();
    eprintln!("coded values added by the CDA writer: {added:?}");
    let sent = segur_cda::parse(&v1_bytes).unwrap().vsm_summary();
    assert_eq!(received, coded_items(&sent));
    let codes = |d: &segur_cda::ParsedDocument| -> Vec<(String, String)> {
        let mut v: Vec<_> = d
            .items
            .iter()
            .filter_map(|i| i.code.as_ref())
            .map(|c| (c.code.clone(), c.system.clone()))
            .collect();
        v.sort();
        v
    };
    let local = segur_cda::parse(&v1_bytes).unwrap();
    assert!(!codes(&local).is_empty());
    assert_eq!(codes(&parsed), codes(&local));

    // 6. Replace with a new version (RPLC): v1 becomes "Remplacé dans le DMP".
    let mut v2 = vsm_for(&zoe, 3);
    v2.header.set_id = v1.header.set_id.clone();
    v2.header.version = 2;
    v2.header.replaces = Some(v1.header.id.clone());
    let v2_id = v2.header.id.to_xds();
    let v2_bytes = Bytes::from(v2.to_xml().unwrap());
    let receipt = c
        .send(
            &me,
            &zoe,
            &DmpDocument::new(v2_bytes.clone()).replacing(&v1_id),
        )
        .await
        .unwrap();
    assert_eq!(
        receipt.replaced_entry_uuid.as_deref(),
        Some(e1.entry_uuid.as_str())
    );
    let board = dashboard(&c, &me, &zoe, &[&v1_id, &v2_id]).await;
    assert_eq!(labels(&board[&v1_id]), ["Remplacé dans le DMP"]);
    assert_eq!(labels(&board[&v2_id]), ["Accessible dans le DMP"]);
    assert!(current(&c, &me, &zoe, &v1_id).await.is_none());
    assert_eq!(
        c.latest_vsm(&me, &zoe).await.unwrap().unwrap().unique_id,
        v2_id
    );

    // 7. Mask to professionals (ITI-57): a new metadata version carrying MASQUE_PS.
    let before = current(&c, &me, &zoe, &v2_id).await.unwrap();
    c.mask(&me, &zoe, &v2_id).await.unwrap();
    let masked = current(&c, &me, &zoe, &v2_id).await.unwrap();
    assert_ne!(
        masked.entry_uuid, before.entry_uuid,
        "a new metadata version"
    );
    assert_eq!(
        masked.dmp_confidentiality().masking,
        Masking::MaskedToProfessionals
    );
    let board = dashboard(&c, &me, &zoe, &[&v2_id]).await;
    let now = board[&v2_id]
        .iter()
        .find(|v| v.entry_uuid == masked.entry_uuid)
        .unwrap();
    assert_eq!(now.status_label, "Accessible dans le DMP");
    assert!(now.masked);
    assert!(now.confidentiality.iter().any(|c| c.contains("MASQUE_PS")));
    // The document itself is unchanged.
    assert!(c.retrieve(&me, &zoe, &v2_id).await.unwrap().content == v2_bytes);

    // 8. Delete (ITI-57, TD3.3c): "Supprimé dans le DMP", gone from the default search.
    c.delete(&me, &zoe, &v2_id).await.unwrap();
    let board = dashboard(&c, &me, &zoe, &[&v1_id, &v2_id]).await;
    let deleted = board[&v2_id]
        .iter()
        .find(|v| v.entry_uuid == masked.entry_uuid)
        .unwrap();
    assert_eq!(deleted.status_label, "Supprimé dans le DMP");
    assert!(!labels(&board[&v2_id]).contains(&"Accessible dans le DMP"));
    assert_eq!(labels(&board[&v1_id]), ["Remplacé dans le DMP"]);
    assert!(current(&c, &me, &zoe, &v2_id).await.is_none());
    match c.retrieve(&me, &zoe, &v2_id).await {
        Err(DmpError::DocumentNotFound { unique_id }) => assert_eq!(unique_id, v2_id),
        other => panic!("{other:?}"),
    }
    assert!(c.latest_vsm(&me, &zoe).await.unwrap().is_none());

    // Every exchange was traced; only the refused consultation failed.
    let ex = mem.exchanges();
    let failed: Vec<_> = ex.iter().filter(|e| e.outcome != Outcome::Ok).collect();
    assert_eq!(failed.len(), 1, "the refused find only");
    assert_eq!(
        failed[0].outcome,
        Outcome::Fault("DMP_ACCES_NON_AUTORISE".into())
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_document_over_50_mib_is_refused_before_any_request() {
    let (_tmp, sb) = start().await;
    let mem = Arc::new(MemoryTraceSink::new());
    let c = client(&sb, mem.clone());
    let (me, p) = (doctor(), examples::qualified_patient());
    let limit = c.max_document_bytes();
    assert_eq!(limit, 50 * 1024 * 1024);
    let big = DmpDocument::new(Bytes::from(vec![b' '; limit + 1]));
    match c.send(&me, &p, &big).await {
        Err(DmpError::TooLarge { size, limit: l, .. }) => {
            assert_eq!((size, l), (limit + 1, limit))
        }
        other => panic!("{other:?}"),
    }
    assert!(mem.exchanges().is_empty(), "no request at all");
    // The same through a feed permit: one TD0.2, then nothing.
    let permit = c.feed_permit(&me, &p).await.unwrap();
    let r = c.send_with_permit(&me, &p, &big, &permit).await;
    assert!(matches!(r, Err(DmpError::TooLarge { .. })), "{r:?}");
    let ops: Vec<_> = mem.exchanges().into_iter().map(|e| e.operation).collect();
    assert_eq!(ops, ["TD0.2"]);
    sb.shutdown().await;
}

/// Sets the sandbox's fault switches over HTTP (`POST /sandbox/dmp/faults`, same mutual TLS).
async fn switch(sb: &Sandbox, body: &'static str) {
    let s = settings(sb);
    let base = Path::new("/");
    let tls = segur_net::tls::client_config(
        &s.trust_anchors(base).unwrap(),
        Some(&s.auth_identity(base).unwrap()),
    )
    .unwrap();
    let http = HttpsClient::new(tls, HttpsConfig::default());
    let url = format!(
        "https://127.0.0.1:{}{}",
        sb.dmp_addr().port(),
        segur_sandbox::dmp::FAULTS_PATH
    );
    let r = http
        .post(&url, "text/plain", &[], Bytes::from_static(body.as_bytes()))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(String::from_utf8_lossy(&r.body).contains(body));
}

/// A truncated SOAP answer is a typed XML error naming the element path, never the data.
fn assert_unreadable<T: std::fmt::Debug>(what: &str, r: Result<T, DmpError>) {
    match r {
        Err(DmpError::Net(e @ (NetError::XmlMalformed { .. } | NetError::XmlTruncated { .. }))) => {
            let m = e.to_string();
            assert!(
                !m.contains("279035121518989") && !m.contains("PAT-TROIS"),
                "{m}"
            );
        }
        other => panic!("{what}: {other:?}"),
    }
}

#[tokio::test]
async fn the_malformed_switch_gives_typed_errors_never_a_panic() {
    let (_tmp, sb) = start().await;
    let mem = Arc::new(MemoryTraceSink::new());
    let c = client(&sb, mem.clone());
    let me = doctor();
    let p = examples::qualified_patient();
    let consent = PatientConsent::now(ConsentMode::Oral);
    c.set_authorization(&me, &p, AuthorizationAction::Ajout(consent))
        .await
        .unwrap();
    let permit = c.feed_permit(&me, &p).await.unwrap();
    let seeded = segur_sandbox::dmp::seeds::VSM_UNIQUE_ID;
    let seeded_entry = current(&c, &me, &p, seeded).await.unwrap();
    let v = vsm_for(&p, 7);
    let v_id = v.header.id.to_xds();
    let doc = DmpDocument::new(Bytes::from(v.to_xml().unwrap()));

    switch(&sb, "malformed=on").await;
    assert_unreadable("TD0.2", c.status(&me, &p).await);
    assert_unreadable("TD0.3", c.list_authorizations(&me, &p).await);
    assert_unreadable("ITI-18", c.find(&me, &p, DmpClient::find_query(&p)).await);
    assert_unreadable("ITI-18 + ITI-43", c.retrieve(&me, &p, seeded).await);
    // ITI-43 alone: its MTOM answer cut before the closing boundary.
    match c.retrieve_entry(&me, &p, &seeded_entry).await {
        Err(DmpError::Mtom(m)) => assert!(m.contains("truncated"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_unreadable("ITI-18 + ITI-57", c.mask(&me, &p, seeded).await);
    match c.send_with_permit(&me, &p, &doc, &permit).await {
        Err(DmpError::Mtom(m)) => assert!(m.contains("truncated"), "{m}"),
        other => panic!("ITI-41: {other:?}"),
    }
    let ex = mem.exchanges();
    assert!(
        ex[ex.len() - 1].response.is_some(),
        "the garbled answer is traced"
    );
    assert!(matches!(ex[ex.len() - 1].outcome, Outcome::Failed(_)));

    switch(&sb, "malformed=off").await;
    // The answer was lost, not the submission: the DMP registered it. The retry meets
    // XDSDuplicateUniqueIdInRegistry, checks the registry (same size and hash) and reports the
    // document as sent, without registering it twice.
    let registered = current(&c, &me, &p, &v_id).await.expect("registered");
    let r = c.send_with_permit(&me, &p, &doc, &permit).await.unwrap();
    assert_eq!(
        r.already_registered.as_deref(),
        Some(registered.entry_uuid.as_str())
    );
    let ops: Vec<String> = mem
        .exchanges()
        .iter()
        .rev()
        .take(2)
        .map(|e| e.operation.clone())
        .collect();
    assert_eq!(ops, ["ITI-18 GetDocuments", "ITI-41"]);
    assert!(matches!(
        mem.exchanges().iter().rev().nth(1).map(|e| &e.outcome),
        Some(Outcome::Fault(f)) if f.contains("XDSDuplicateUniqueIdInRegistry")
    ));
    assert!(c.status(&me, &p).await.unwrap().exists(), "back to normal");
    sb.shutdown().await;
}

/// Drops every MIME part but the root (the first) from a multipart/related message.
fn without_attachments(content_type: &str, body: &[u8]) -> Vec<u8> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_owned())
        .next()
        .expect("a boundary");
    let delimiter = format!("\r\n--{boundary}");
    let find = |from: usize| {
        body.get(from..).and_then(|rest| {
            rest.windows(delimiter.len())
                .position(|w| w == delimiter.as_bytes())
                .map(|i| i + from)
        })
    };
    // The opening delimiter: at the very start (no preamble) or after a preamble.
    let root_start = if body.starts_with(&delimiter.as_bytes()[2..]) {
        delimiter.len() - 2
    } else {
        find(0).expect("opening delimiter") + delimiter.len()
    };
    let root_end = find(root_start).expect("the delimiter after the root part");
    let mut out = body[..root_end].to_vec();
    out.extend_from_slice(format!("{delimiter}--\r\n").as_bytes());
    out
}

fn sandbox_service(s: envelope::Service) -> SandboxService {
    match s {
        envelope::Service::Registry => SandboxService::Registry,
        envelope::Service::Repository => SandboxService::Repository,
        envelope::Service::Patients => SandboxService::Patients,
        envelope::Service::Habilitations => SandboxService::Habilitations,
    }
}

#[tokio::test]
async fn a_missing_mtom_part_is_a_clear_error_both_ways() {
    let (_tmp, sb) = start().await;
    let sim = sb.dmp().clone();
    // The client talks to the DMP simulator in-process (no TLS); the attachment is taken out
    // of the ITI-41 request on its way in and of the ITI-43 answer on its way out.
    let responder = move |r: &ReplayRequest<'_>| -> ReplayReply {
        let mut body = r.body.to_vec();
        if r.action == envelope::ACTION_ITI41 {
            body = without_attachments(r.content_type, &body);
        }
        let reply = sim.answer(sandbox_service(r.service), r.content_type, &body);
        let mut out = reply.body.to_vec();
        if r.action == envelope::ACTION_ITI43 && reply.content_type.contains("multipart") {
            out = without_attachments(&reply.content_type, &out);
        }
        ReplayReply {
            status: reply.status,
            content_type: reply.content_type,
            body: Bytes::from(out),
        }
    };
    let s = settings(&sb);
    let base = Path::new("/");
    let (p12, pw) = s.signing_pkcs12(base).unwrap();
    let c = DmpClient::builder(s)
        .signer(Arc::new(
            segur_net::dsig::Pkcs12Signer::from_pkcs12(&p12, &pw).unwrap(),
        ))
        .replay(Arc::new(responder))
        .build()
        .unwrap();
    let me = doctor();
    let p = examples::qualified_patient();
    c.set_authorization(
        &me,
        &p,
        AuthorizationAction::Ajout(PatientConsent::now(ConsentMode::Oral)),
    )
    .await
    .unwrap();

    // ITI-41 without its document part: the repository says which document is missing.
    let v = vsm_for(&p, 9);
    let r = c
        .send(&me, &p, &DmpDocument::new(Bytes::from(v.to_xml().unwrap())))
        .await;
    match &r {
        Err(DmpError::Registry(errors)) => {
            // One error per missing part: the CDA and the submission-set signature.
            assert_eq!(errors.0.len(), 2, "{errors:?}");
            assert!(errors
                .0
                .iter()
                .all(|e| e.code == ErrorCode::XdsMissingDocument && e.location.is_some()));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        current(&c, &me, &p, &v.header.id.to_xds()).await.is_none(),
        "nothing stored"
    );

    // ITI-43 answer without its document part: the client names the missing part.
    match c
        .retrieve(&me, &p, segur_sandbox::dmp::seeds::VSM_UNIQUE_ID)
        .await
    {
        Err(DmpError::Mtom(m)) => assert!(m.contains("missing referenced part"), "{m}"),
        other => panic!("{other:?}"),
    }
    sb.shutdown().await;
}
