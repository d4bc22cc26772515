//! The facade against the sandbox: identity workflow, journal, queries, CSV, and a journal that
//! survives `kill -9`.

use std::process::Command;
use std::time::Duration;

use segur::journal::NewExchange;
use segur::{
    Actor, Config, ErrorCode, ExchangeQuery, IdentityInput, Journal, Password, Segur, SegurError,
};
use segur_sandbox::{Sandbox, SandboxOptions};

fn input(nom: &str, prenoms: &str, sexe: &str, date: &str) -> IdentityInput {
    IdentityInput {
        nom_naissance: nom.into(),
        prenoms: prenoms.into(),
        date_naissance: date.into(),
        sexe: sexe.into(),
        ..Default::default()
    }
}

fn doctor() -> Actor {
    Actor {
        user: "dr.house".into(),
        rpps: Some("10101010101".into()),
        finess: Some("750000001".into()),
    }
}

async fn setup() -> (Sandbox, tempfile::TempDir, Segur) {
    let dir = tempfile::tempdir().unwrap();
    let sb = Sandbox::start(SandboxOptions::new(dir.path().join("sb")))
        .await
        .unwrap();
    let segur = Segur::open_file(sb.settings_path()).unwrap();
    (sb, dir, segur)
}

#[tokio::test]
async fn identity_workflow_is_journaled() {
    let (sb, _dir, segur) = setup().await;
    let v = segur
        .identity_create(
            "IPP-1",
            &input("Adrdeux", "Laurent", "M", "1981-01-01"),
            false,
            &doctor(),
        )
        .unwrap();
    assert_eq!(v.status, "PROV");
    assert!(matches!(
        segur.identity_create(
            "IPP-1",
            &input("X", "Y", "M", "1981-01-01"),
            false,
            &doctor()
        ),
        Err(SegurError::AlreadyExists { .. })
    ));
    let s = segur
        .identity_search_insi("IPP-1", &doctor())
        .await
        .unwrap();
    assert_eq!(s.result.code, "00");
    assert_eq!(s.identity.status, "RECUP");
    assert!(s.identity.ins.is_some());
    assert!(s.identity.transmissible_ins.is_none(), "rule 28");
    let v = segur
        .identity_add_document("IPP-1", "CN", &doctor())
        .unwrap();
    assert_eq!(v.status, "QUAL");
    assert_eq!(
        v.transmissible_ins.unwrap().matricule.matricule,
        "181016322075140"
    );

    // Journal: one INSi exchange with context; RNIV events.
    let rows = segur.exchanges(&ExchangeQuery::default()).unwrap();
    assert_eq!(rows.len(), 1);
    let x = &rows[0];
    assert_eq!(x.channel, "insi");
    assert_eq!(x.status, "ok");
    assert_eq!(x.practitioner.as_deref(), Some("10101010101"));
    assert_eq!(x.structure.as_deref(), Some("750000001"));
    assert_eq!(x.patient_local_id.as_deref(), Some("IPP-1"));
    assert_eq!(x.ins.as_deref(), Some("181016322075140"));
    assert_eq!(x.request_sha256.len(), 64);
    let (req, resp) = segur.journal().payload(x.id).unwrap().unwrap();
    assert!(String::from_utf8(req).unwrap().contains("RECSANSVITALE"));
    assert!(String::from_utf8(resp.unwrap())
        .unwrap()
        .contains("RESULTAT"));
    let events = segur.journal().rniv_events(Some("IPP-1")).unwrap();
    let statuses: Vec<_> = events
        .iter()
        .filter(|e| e.change == "status")
        .map(|e| e.to_status.clone().unwrap())
        .collect();
    assert_eq!(statuses, ["PROV", "RECUP", "QUAL"]);
    assert!(events
        .iter()
        .all(|e| !e.actor.is_empty() && !e.reason.is_empty()));

    // Failures are journaled too.
    segur
        .identity_create(
            "IPP-2",
            &input("Houilles", "Pierre Paul Jacques", "M", "1993-01-27"),
            false,
            &doctor(),
        )
        .unwrap();
    let s = segur
        .identity_search_insi("IPP-2", &doctor())
        .await
        .unwrap();
    assert_eq!(s.result.code, "01");
    assert_eq!(s.identity.status, "PROV");
    sb.insi_faults().set_outage(true);
    let e = segur
        .identity_search_insi("IPP-2", &doctor())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ServiceFault);
    assert_eq!(e.service_codes(), Some(("siram_40", "desir_1020")));
    assert!(e.is_retryable());
    let faults = segur
        .exchanges(&ExchangeQuery {
            status: Some("fault".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(faults.len(), 1);
    assert_eq!(
        faults[0].result_code.as_deref(),
        Some("siram_40/desir_1020")
    );

    // Queries by patient, practitioner, channel, status and dates; CSV.
    let q = |q: ExchangeQuery| segur.exchanges(&q).unwrap().len();
    assert_eq!(
        q(ExchangeQuery {
            patient_local_id: Some("IPP-2".into()),
            ..Default::default()
        }),
        5
    );
    assert_eq!(
        q(ExchangeQuery {
            practitioner: Some("10101010101".into()),
            ..Default::default()
        }),
        6
    );
    assert_eq!(
        q(ExchangeQuery {
            practitioner: Some("other".into()),
            ..Default::default()
        }),
        0
    );
    assert_eq!(
        q(ExchangeQuery {
            channel: Some("insi".into()),
            status: Some("not_found".into()),
            ..Default::default()
        }),
        4
    );
    let now = chrono::Utc::now();
    assert_eq!(
        q(ExchangeQuery {
            from: Some(now - chrono::Duration::hours(1)),
            to: Some(now + chrono::Duration::hours(1)),
            ..Default::default()
        }),
        6
    );
    assert_eq!(
        q(ExchangeQuery {
            to: Some(now - chrono::Duration::hours(1)),
            ..Default::default()
        }),
        0
    );
    let mut csv = Vec::new();
    let n = segur
        .journal()
        .export_csv(&ExchangeQuery::default(), &mut csv)
        .unwrap();
    assert_eq!(n, 6);
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(csv.lines().count(), 7);
    assert!(csv.starts_with("id,at,channel,operation,message_id,practitioner"));
}

#[tokio::test]
async fn rniv_rules_through_the_facade() {
    let (_sb, _dir, segur) = setup().await;
    let a = doctor();
    segur
        .identity_create(
            "IPP-D",
            &input("Adrdeux", "Laurent", "M", "1981-01-01"),
            false,
            &a,
        )
        .unwrap();
    segur
        .identity_set_attribute(
            "IPP-D",
            segur::parse_attribute("douteuse").unwrap(),
            true,
            "doute",
            &a,
        )
        .unwrap();
    let e = segur.identity_search_insi("IPP-D", &a).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::RnivRefused);
    assert!(
        segur
            .exchanges(&ExchangeQuery::default())
            .unwrap()
            .is_empty(),
        "never reached INSi"
    );

    segur
        .identity_create(
            "IPP-Q",
            &input("Adrdeux", "Laurent", "M", "1981-01-01"),
            false,
            &a,
        )
        .unwrap();
    segur.identity_search_insi("IPP-Q", &a).await.unwrap();
    segur.identity_add_document("IPP-Q", "PA", &a).unwrap();
    let edit = input("Adrdeuxx", "Laurent", "M", "1981-01-01");
    let e = segur
        .identity_edit_traits("IPP-Q", &edit, false, false, "typo", &a)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::RnivRefused);
    let v = segur
        .identity_edit_traits("IPP-Q", &edit, false, true, "typo", &a)
        .unwrap();
    assert_eq!(v.status, "VALI");
    assert!(v.ins.is_none());
    let e = segur
        .identity_create(
            "IPP-C",
            &input("D’ÆION", "CŒUR", "M", "1987-01-01"),
            false,
            &a,
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NeedsConfirmation);
    assert_eq!(e.proposal(), Some("D'AEION"));
    assert_eq!(
        segur.identity_get("nope").unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        segur
            .identity_add_document("IPP-Q", "XX", &a)
            .unwrap_err()
            .code(),
        ErrorCode::RnivRefused
    );
}

#[tokio::test]
async fn instance_uuid_is_created_once() {
    let (sb, _dir, segur) = setup().await;
    let first = segur.instance();
    drop(segur);
    let again = Segur::open_file(sb.settings_path()).unwrap();
    assert_eq!(again.instance(), first);
    // The builder, with the password from a callback.
    let s = sb.settings();
    let cfg = Config::builder()
        .software("MonLogiciel", "4.2", &s.lps.idam)
        .insi_endpoint(&s.insi.endpoint)
        .trust_anchors(sb.files().trust_anchors.clone())
        .pkcs12(
            sb.files().client_p12.clone(),
            Password::Callback(std::sync::Arc::new(|| Some("sandbox".to_owned()))),
        )
        .journal(sb.dir().join("other.sqlite"))
        .build()
        .unwrap();
    let other = Segur::open(cfg).unwrap();
    assert_ne!(other.instance(), first);
    let r = other
        .insi_search(
            &input("Corse", "Anthony", "M", "1980-03-02"),
            false,
            &doctor(),
        )
        .await
        .unwrap();
    assert_eq!(r.code, "00");
    assert_eq!(
        Config::builder().build().unwrap_err().code(),
        ErrorCode::Config
    );
}

// ---- kill -9 -----------------------------------------------------------------------------

const CHILD_ENV: &str = "SEGUR_JOURNAL_CHILD";
const BATCH: usize = 3;

/// Child side: writes batches of exchanges forever (until killed).
#[test]
fn journal_writer_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let j = Journal::open(&path).unwrap();
    for n in 0u64.. {
        let batch: Vec<NewExchange> = (0..BATCH)
            .map(|i| NewExchange {
                at: chrono::Utc::now(),
                channel: "insi".into(),
                operation: "rechercherInsAvecTraitsIdentite".into(),
                message_id: format!("batch-{n}-{i}"),
                status: "ok".into(),
                request: vec![b'x'; 2000 + (n as usize % 7) * 100],
                response: Some(vec![b'y'; 1500]),
                ..Default::default()
            })
            .collect();
        j.commit(&batch, None).unwrap();
    }
}

#[test]
fn journal_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    Journal::open(&path).unwrap();
    let exe = std::env::current_exe().unwrap();
    for round in 0..8u64 {
        let mut child = Command::new(&exe)
            .args([
                "journal_writer_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(150 + round * 37));
        // SIGKILL: no destructor, no flush.
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let j = Journal::open(&path).unwrap();
    assert!(j.integrity_ok().unwrap(), "no corrupt file");
    let rows = j
        .exchanges(&ExchangeQuery {
            limit: Some(1_000_000),
            ..Default::default()
        })
        .unwrap();
    assert!(rows.len() >= BATCH, "the children wrote something");
    // Every batch is whole, and every exchange has its payload.
    let mut per_batch = std::collections::HashMap::<String, usize>::new();
    for r in &rows {
        let batch = r.message_id.rsplit_once('-').unwrap().0.to_owned();
        *per_batch.entry(batch).or_default() += 1;
        let (req, resp) = j.payload(r.id).unwrap().expect("payload present");
        assert_eq!(req.len() as i64, r.request_bytes);
        assert_eq!(resp.unwrap().len() as i64, r.response_bytes.unwrap());
    }
    // Batches restart at 0 in each child: count per (child, batch) is a multiple of BATCH.
    assert!(
        per_batch.values().all(|c| c % BATCH == 0),
        "no half-written batch"
    );
}
