//! A journal written by the v3 release (fixture `fixtures/journal-v3`, see its README) opened by
//! this version: migrated to v4 on open, every DMP document found in the generic outbox with the
//! right state and the same bytes, the dashboard unchanged, the v3 `dmp_documents` shape kept as
//! a view, and a second open applying nothing.

use segur::journal::Journal;
use segur::outbox::{Channel, OutboxState};
use segur::{DmpDocumentQuery, DmpDocumentStatus};
use sha2::{Digest, Sha256};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/journal-v3");

#[test]
fn a_v3_journal_of_the_previous_release_moves_into_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    std::fs::copy(format!("{FIXTURE}/journal-v3.sqlite"), &path).unwrap();
    let expected: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURE}/expected.json")).unwrap())
            .unwrap();
    assert_eq!(expected.len(), 6);

    let j = Journal::open(&path).unwrap();
    assert_eq!(j.schema_version().unwrap(), 4);
    assert!(j.integrity_ok().unwrap());
    for e in &expected {
        let uid = e["unique_id"].as_str().unwrap();
        let v3 = e["v3_status"].as_str().unwrap();
        let item = j.outbox_item(Channel::Dmp, uid).unwrap().unwrap();
        let (row, bytes) = j.dmp_document(uid).unwrap().unwrap();
        assert_eq!(
            format!("{:x}", Sha256::digest(&item.payload)),
            e["sha256"],
            "{uid}"
        );
        assert_eq!(bytes, item.payload);
        assert_eq!(
            row.patient_local_id,
            e["patient_local_id"].as_str().unwrap()
        );
        // The dashboard shows what v3 showed.
        assert_eq!(row.status.code(), v3, "{uid}");
        // The outbox state says more: a refusal waits for a user; a v3 `pending` was marked so
        // right before its network call, so its outcome is unknown: reconciled when claimed.
        let state = match (v3, row.not_sent_reason.as_deref()) {
            ("accessible", _) => OutboxState::Sent,
            ("pending", _) => OutboxState::Sending,
            ("failed", Some("feeding_opposed")) => OutboxState::Refused,
            ("failed", None) => OutboxState::Failed,
            ("replaced", _) => OutboxState::Replaced,
            ("deleted", _) => OutboxState::Deleted,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(item.state, state, "{uid}");
        assert_eq!(row.ins.len(), 15);
        assert_eq!(row.document_type.as_deref(), Some("SYNTH"));
    }
    // The masked replacement kept its codes and what it replaces.
    let (replacement, _) = j
        .dmp_document(expected[1]["unique_id"].as_str().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(replacement.confidentiality, ["N", "MASQUE_PS"]);
    assert_eq!(
        replacement.replaces.as_deref(),
        expected[0]["unique_id"].as_str()
    );
    // The failed send kept its error; a day later (backoff and claim lease elapsed) the due list
    // has it and the interrupted one, never the refusal.
    let (failed, _) = j
        .dmp_document(expected[3]["unique_id"].as_str().unwrap())
        .unwrap()
        .unwrap();
    assert!(failed.last_error.is_some());
    let mut due = j
        .outbox_due(
            Channel::Dmp,
            chrono::Utc::now() + chrono::Duration::days(1),
            100,
        )
        .unwrap();
    due.sort();
    let mut want = vec![
        expected[3]["unique_id"].as_str().unwrap().to_owned(),
        expected[5]["unique_id"].as_str().unwrap().to_owned(),
    ];
    want.sort();
    assert_eq!(due, want);
    // Dashboard filters work on the mapped states.
    let failed_rows = j
        .dmp_documents(&DmpDocumentQuery {
            status: Some(DmpDocumentStatus::Failed),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(failed_rows.len(), 2);
    assert_eq!(
        j.dmp_documents(&DmpDocumentQuery::default()).unwrap().len(),
        6
    );
    // Exchanges are untouched.
    assert_eq!(j.exchanges(&Default::default()).unwrap().len(), 15);
    drop(j);

    // The v3 shape is still readable, as a view.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM dmp_documents WHERE status IN ('accessible', 'replaced', 'deleted', 'failed', 'pending')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 6);
    drop(conn);
    // A second open applies nothing more.
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.schema_version().unwrap(), 4);
    assert_eq!(
        j.dmp_documents(&DmpDocumentQuery::default()).unwrap().len(),
        6
    );
}
