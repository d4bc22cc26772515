//! R3, "a crash never loses or duplicates a document" (DESIGN §3 Outbox), with `kill -9`: a child
//! process (`src/bin/outbox_feeder.rs`) feeds 200 documents (distinct uniqueIds) to the sandbox
//! DMP through the facade; it is killed again and again — with SIGKILL at random times while it
//! sends, and aborted at named points of the outbox (`SEGUR_TEST_CRASHPOINT`, `segur`'s `testing`
//! feature): inside the SQLite transactions that commit a document, claim it and settle it, and
//! between the ITI-41 answer and the state update — at least 20 times; each restart retries what
//! the journal holds as pending or failed. At the end: every document is in the registry exactly
//! once, every one is `sent` in the outbox with its exact bytes, and `PRAGMA integrity_check` is
//! `ok`.
//!
//! Cost is kept down per document, not in numbers: one VSM is built and its uniqueId rewritten
//! 200 times (no CDA or PDF generation per document).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use segur::outbox::{Channel, OutboxState};
use segur::{Actor, DmpConsent, IdentityInput, Segur};
use segur_sandbox::{Sandbox, SandboxOptions};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const DOCUMENTS: usize = 200;
const MIN_KILLS: usize = 20;
const LOCAL_ID: &str = "IPP-AZ";
const CRASHPOINTS: [&str; 4] = [
    "outbox.put",
    "outbox.claim",
    "dmp.answered",
    "outbox.settle",
];

/// xorshift64*: enough randomness for kill times, reproducible from the printed seed
/// (`OUTBOX_KILL_SEED` to replay).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// ADRUN ZOE, qualified (sandbox INSi, then an identity card), and our authorization on her
/// DMP (ITI-18 GetDocuments, the reconciliation of a lost attempt, needs it).
async fn patient(segur: &Segur) {
    let actor = Actor::user("dr.test");
    let input = IdentityInput {
        nom_naissance: "ADRUN".into(),
        prenoms: "ZOE".into(),
        date_naissance: "1975-12-31".into(),
        sexe: "F".into(),
        ..Default::default()
    };
    segur
        .identity_create(LOCAL_ID, &input, false, &actor)
        .unwrap();
    let s = segur.identity_search_insi(LOCAL_ID, &actor).await.unwrap();
    assert_eq!(s.result.code, "00");
    segur.identity_add_document(LOCAL_ID, "CN", &actor).unwrap();
    let who = segur.default_practitioner().cloned().unwrap();
    let consent = DmpConsent {
        mode: "oral".into(),
        collected_at: None,
    };
    segur.dmp_authorize(LOCAL_ID, &who, &consent).await.unwrap();
}

/// 200 VSM of the patient: one built by the facade, its uniqueId replaced by a fresh `2.25.`
/// OID in each copy. Written as `<i>.xml` with `uids.txt`.
fn documents(segur: &Segur, dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut req: serde_json::Value =
        serde_json::from_str(include_str!("../../cli/examples/vsm-request.json")).unwrap();
    req["patient"] = LOCAL_ID.into();
    let xml = segur.cda_vsm_build_json(&req.to_string()).unwrap().xml;
    let uid = segur_cda::metadata(xml.as_bytes()).unwrap().unique_id;
    std::fs::create_dir_all(dir).unwrap();
    let docs: Vec<(String, Vec<u8>)> = (0..DOCUMENTS)
        .map(|_| {
            let new = format!("2.25.{}", uuid::Uuid::new_v4().as_u128());
            (new.clone(), xml.replace(&uid, &new).into_bytes())
        })
        .collect();
    for (i, (u, d)) in docs.iter().enumerate() {
        assert_eq!(&segur_cda::metadata(d).unwrap().unique_id, u);
        std::fs::write(dir.join(format!("{i}.xml")), d).unwrap();
    }
    let uids: Vec<&str> = docs.iter().map(|(u, _)| u.as_str()).collect();
    std::fs::write(dir.join("uids.txt"), uids.join("\n") + "\n").unwrap();
    docs
}

/// How a round of the child ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// Killed (SIGKILL) or aborted (a crash point).
    Killed,
    /// Exit code.
    Exited(i32),
}

/// Runs the child once: with a crash point, or killed with SIGKILL `kill_after` after it is
/// ready, or (neither) to the end.
async fn round(
    settings: &Path,
    docs: &Path,
    max: usize,
    crashpoint: Option<String>,
    kill_after: Option<Duration>,
) -> End {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_outbox_feeder"));
    cmd.arg(settings)
        .arg(docs)
        .arg(LOCAL_ID)
        .arg(max.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    match &crashpoint {
        Some(c) => cmd.env("SEGUR_TEST_CRASHPOINT", c),
        None => cmd.env_remove("SEGUR_TEST_CRASHPOINT"),
    };
    let mut child = cmd.spawn().expect("outbox_feeder starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let run = async {
        // Ready: the journal is open (a kill before it would only test start-up).
        let _ = lines.next_line().await;
        if let Some(after) = kill_after {
            tokio::select! {
                status = child.wait() => return status.unwrap(),
                _ = tokio::time::sleep(after) => { let _ = child.start_kill(); }
            }
        }
        child.wait().await.unwrap()
    };
    let status = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("a round of the feeder ends within 2 minutes");
    match status.code() {
        Some(c) => End::Exited(c),
        None => End::Killed,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_never_loses_nor_duplicates_a_document() {
    let started = Instant::now();
    let seed = std::env::var("OUTBOX_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("OUTBOX_KILL_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let sb = Sandbox::start(SandboxOptions::new(dir.path().join("sb")))
        .await
        .unwrap();
    let settings = sb.settings_path().to_path_buf();
    let docs_dir = dir.path().join("docs");
    let (docs, journal_path) = {
        let segur = Segur::open_file(&settings).unwrap();
        patient(&segur).await;
        let docs = documents(&segur, &docs_dir);
        (docs, segur.journal().path().to_path_buf())
    };

    // Kill rounds: crash points (each name in turn, at its 1st..4th hit) and SIGKILL at a random
    // time, alternately; each round may attempt at most 6 documents, so the 200 outlast the kills.
    let mut kills = 0;
    let mut by_point = std::collections::BTreeMap::<&str, usize>::new();
    let mut rounds = 0;
    let mut done = false;
    while kills < MIN_KILLS && rounds < 80 {
        let end = if rounds % 2 == 0 {
            let point = CRASHPOINTS[(rounds / 2) % CRASHPOINTS.len()];
            let n = 1 + rng.below(4);
            let end = round(&settings, &docs_dir, 6, Some(format!("{point}:{n}")), None).await;
            if end == End::Killed {
                *by_point.entry(point).or_default() += 1;
            }
            end
        } else {
            let after = Duration::from_millis(rng.below(400));
            round(&settings, &docs_dir, 6, None, Some(after)).await
        };
        rounds += 1;
        match end {
            End::Killed => kills += 1,
            End::Exited(0) => {
                done = true;
                break;
            }
            End::Exited(3 | 4) => {}
            End::Exited(c) => panic!("the feeder failed (exit {c})"),
        }
    }
    eprintln!("{kills} kills in {rounds} rounds; crash points hit: {by_point:?}");
    assert!(kills >= MIN_KILLS, "only {kills} kills");
    assert!(
        by_point.len() == CRASHPOINTS.len(),
        "every crash point was hit: {by_point:?}"
    );
    assert!(!done, "the kills came before the end of the feed");

    // Restart and retry until every document is sent.
    let mut last = End::Killed;
    for _ in 0..5 {
        last = round(&settings, &docs_dir, 0, None, None).await;
        if last == End::Exited(0) {
            break;
        }
    }
    assert_eq!(last, End::Exited(0), "the feed completes after the kills");

    // 0 lost, 0 duplicated: each uniqueId exactly once in the registry, `sent` in the outbox with
    // its exact bytes; the journal intact.
    let segur = Segur::open_file(&settings).unwrap();
    let journal = segur.journal();
    assert_eq!(journal.path(), journal_path);
    assert!(journal.integrity_ok().unwrap(), "PRAGMA integrity_check");
    for (uid, bytes) in &docs {
        let entries = sb
            .dmp()
            .store()
            .read(|db| db.entries_by_unique_id(uid))
            .unwrap();
        assert_eq!(entries.len(), 1, "{uid} is in the registry exactly once");
        assert_eq!(
            entries[0].status,
            "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
        );
        let item = journal.outbox_item(Channel::Dmp, uid).unwrap().unwrap();
        assert_eq!(item.state, OutboxState::Sent, "{uid}");
        assert_eq!(&item.payload, bytes, "{uid}");
    }
    assert_eq!(
        journal.outbox_counts(Channel::Dmp).unwrap(),
        vec![(OutboxState::Sent, DOCUMENTS as u64)]
    );
    // The attempts killed after their ITI-41 answer were reconciled (GetDocuments), not sent
    // twice.
    let lookups = segur
        .exchanges(&segur::ExchangeQuery {
            channel: Some("dmp".into()),
            limit: Some(100_000),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .filter(|x| x.operation == "ITI-18 GetDocuments")
        .count();
    assert!(
        lookups >= by_point.get("dmp.answered").copied().unwrap_or(0),
        "{lookups} GetDocuments for {by_point:?}"
    );
    let elapsed = started.elapsed();
    eprintln!("kill -9 test: {kills} kills, {rounds} rounds, {elapsed:?}");
    drop(segur);
    sb.shutdown().await;
}
