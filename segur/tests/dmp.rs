//! The DMP through the facade, against the sandbox: a qualified identity of the journal, the
//! default practitioner of `segur.toml`, every call journaled, the outbox and its dashboard
//! statuses ("Accessible dans le DMP", "Supprimé dans le DMP"), documents never lost.

use segur::{
    Actor, DmpConsent, DmpDocumentQuery, DmpDocumentStatus, DmpFindQuery, DmpSendOptions,
    DmpUpdate, ErrorCode, ExchangeQuery, IdentityInput, NotSentReason, Practitioner, Segur,
};
use segur_sandbox::{Sandbox, SandboxOptions};

fn actor() -> Actor {
    Actor::user("dr.test")
}

async fn setup() -> (Sandbox, tempfile::TempDir, Segur) {
    let dir = tempfile::tempdir().unwrap();
    let sb = Sandbox::start(SandboxOptions::new(dir.path().join("sb")))
        .await
        .unwrap();
    let segur = Segur::open_file(sb.settings_path()).unwrap();
    (sb, dir, segur)
}

/// Creates and qualifies an identity (INSi of the sandbox, then an identity card).
async fn qualified(
    segur: &Segur,
    local_id: &str,
    nom: &str,
    prenoms: &str,
    sexe: &str,
    date: &str,
) {
    let input = IdentityInput {
        nom_naissance: nom.into(),
        prenoms: prenoms.into(),
        date_naissance: date.into(),
        sexe: sexe.into(),
        ..Default::default()
    };
    segur
        .identity_create(local_id, &input, false, &actor())
        .unwrap();
    let s = segur
        .identity_search_insi(local_id, &actor())
        .await
        .unwrap();
    assert_eq!(s.result.code, "00", "{local_id}");
    let v = segur
        .identity_add_document(local_id, "CN", &actor())
        .unwrap();
    assert_eq!(v.status, "QUAL");
}

fn vsm(segur: &Segur, local_id: &str) -> Vec<u8> {
    let mut req: serde_json::Value =
        serde_json::from_str(include_str!("../../cli/examples/vsm-request.json")).unwrap();
    req["patient"] = local_id.into();
    segur
        .cda_vsm_build_json(&req.to_string())
        .unwrap()
        .xml
        .into_bytes()
}

fn me(segur: &Segur) -> Practitioner {
    segur
        .default_practitioner()
        .cloned()
        .expect("[practitioner] in the sandbox's segur.toml")
}

/// TD0.3 AJOUT with an oral consent (consultation and ITI-57 need it in the sandbox).
async fn authorize(segur: &Segur, local_id: &str, who: &Practitioner) {
    let consent = DmpConsent {
        mode: "oral".into(),
        collected_at: None,
    };
    segur.dmp_authorize(local_id, who, &consent).await.unwrap();
}

#[tokio::test]
async fn dmp_workflow_through_the_facade() {
    let (_sb, _dir, segur) = setup().await;
    qualified(
        &segur,
        "IPP-PT",
        "PAT-TROIS",
        "DOMINIQUE MARIE-LOUISE",
        "F",
        "1979-03-28",
    )
    .await;
    let who = me(&segur);

    // TD0.2: a DMP, not yet authorised; feeding allowed, consulting not.
    let st = segur.dmp_status("IPP-PT", &who).await.unwrap();
    assert!(
        st.exists && !st.closed && st.can_feed && !st.can_consult,
        "{st:?}"
    );
    assert_eq!(st.authorization.as_deref(), Some("NON_AUTORISE"));

    // Consulting without authorization is refused by the DMP, and journaled.
    let e = segur
        .dmp_find("IPP-PT", &who, &DmpFindQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ServiceRefused, "{e}");
    assert_eq!(e.service_codes().unwrap().0, "DMP_ACCES_NON_AUTORISE");

    // TD0.3 with the patient's consent, recorded.
    let a = segur
        .dmp_authorize(
            "IPP-PT",
            &who,
            &DmpConsent {
                mode: "oral".into(),
                collected_at: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(a.as_deref(), Some("AUTORISE"));
    let consents = segur.journal().dmp_consents("IPP-PT").unwrap();
    assert_eq!(consents.len(), 1);
    assert_eq!(consents[0].2, "AJOUT");
    assert_eq!(consents[0].3.as_deref(), Some("ORAL"));
    let bad = segur
        .dmp_authorize(
            "IPP-PT",
            &who,
            &DmpConsent {
                mode: "telepathie".into(),
                collected_at: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad.code(), ErrorCode::InvalidInput);

    // Send a VSM built by the facade for this qualified identity.
    let doc = vsm(&segur, "IPP-PT");
    let sent = segur
        .dmp_send("IPP-PT", &who, &doc, &DmpSendOptions::default())
        .await
        .unwrap();
    assert_eq!(sent.status_label, "Accessible dans le DMP");
    let board = segur.dmp_dashboard(&DmpDocumentQuery::default()).unwrap();
    assert_eq!(board.len(), 1);
    assert_eq!(board[0].status, DmpDocumentStatus::Accessible);
    assert_eq!(board[0].unique_id, sent.unique_id);

    // Find: the seeded VSM and ours; the latest VSM is ours.
    let found = segur
        .dmp_find(
            "IPP-PT",
            &who,
            &DmpFindQuery {
                type_codes: vec!["SYNTH".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        found.iter().any(|e| e.unique_id == sent.unique_id),
        "{found:?}"
    );
    assert!(found
        .iter()
        .all(|e| e.type_code.as_deref() == Some("SYNTH")));
    let latest = segur.dmp_latest_vsm("IPP-PT", &who).await.unwrap().unwrap();
    assert_eq!(latest.unique_id, sent.unique_id);

    // Retrieve: the same bytes, and they parse.
    let got = segur
        .dmp_get("IPP-PT", &who, &sent.unique_id)
        .await
        .unwrap();
    assert_eq!(got.content, doc);
    segur::cda_parse(&got.content).unwrap();

    // Mask, then delete: the dashboard follows.
    segur
        .dmp_update("IPP-PT", &who, &sent.unique_id, DmpUpdate::Mask)
        .await
        .unwrap();
    let row = &segur.dmp_dashboard(&DmpDocumentQuery::default()).unwrap()[0];
    assert!(
        row.confidentiality.iter().any(|c| c == "MASQUE_PS"),
        "{row:?}"
    );
    segur
        .dmp_update("IPP-PT", &who, &sent.unique_id, DmpUpdate::Delete)
        .await
        .unwrap();
    let row = &segur.dmp_dashboard(&DmpDocumentQuery::default()).unwrap()[0];
    assert_eq!(row.status_label, "Supprimé dans le DMP");
    let deleted = segur
        .dmp_find(
            "IPP-PT",
            &who,
            &DmpFindQuery {
                statuses: vec!["deleted".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(deleted
        .iter()
        .any(|e| e.unique_id == sent.unique_id && e.status == "deleted"));

    // Every call is journaled on the dmp channel, with practitioner and patient.
    let rows = segur
        .exchanges(&ExchangeQuery {
            channel: Some("dmp".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(rows.len() >= 10, "{}", rows.len());
    assert!(rows
        .iter()
        .all(|r| r.practitioner.as_deref() == Some(who.id_nat.as_str())));
    assert!(rows
        .iter()
        .all(|r| r.patient_local_id.as_deref() == Some("IPP-PT")));
    assert!(
        rows.iter().any(|r| r.status == "fault"),
        "the refused find is journaled"
    );
}

#[tokio::test]
async fn refusals_keep_the_document_and_a_retry_sends_it() {
    let (sb, _dir, segur) = setup().await;
    let who = me(&segur);

    // A patient who opposed feeding: nothing is sent (DMP/CONF.09), the document is kept.
    qualified(&segur, "IPP-TC", "TCHITCHI", "CATARINA", "F", "1936-06-21").await;
    let doc = vsm(&segur, "IPP-TC");
    let e = segur
        .dmp_send("IPP-TC", &who, &doc, &DmpSendOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotSent, "{e}");
    let board = segur.dmp_dashboard(&DmpDocumentQuery::default()).unwrap();
    assert_eq!(board[0].status, DmpDocumentStatus::Failed);
    assert!(board[0].last_error.is_some());
    let rows = segur
        .exchanges(&ExchangeQuery {
            channel: Some("dmp".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(
        rows.iter().all(|r| r.operation == "TD0.2"),
        "no ITI-41 after the opposition"
    );

    // A transport failure: the document stays, failed; once the DMP is back, a retry sends it.
    qualified(&segur, "IPP-AZ", "ADRUN", "ZOE", "F", "1975-12-31").await;
    let doc = vsm(&segur, "IPP-AZ");
    sb.dmp_faults().set_soap_fault(true);
    let e = segur
        .dmp_send("IPP-AZ", &who, &doc, &DmpSendOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ServiceFault, "{e}");
    let uid = segur_cda::metadata(&doc).unwrap().unique_id;
    let (row, bytes) = segur.journal().dmp_document(&uid).unwrap().unwrap();
    assert_eq!(row.status, DmpDocumentStatus::Failed);
    assert_eq!(bytes, doc, "the document is never lost");
    sb.dmp_faults().set_soap_fault(false);
    let sent = segur.dmp_retry(&uid, &who).await.unwrap();
    assert_eq!(sent.status, DmpDocumentStatus::Accessible);

    // An identity that is not qualified never reaches the DMP (RNIV rule 28).
    let input = IdentityInput {
        nom_naissance: "MARTIN".into(),
        prenoms: "PAUL".into(),
        date_naissance: "1970-01-01".into(),
        sexe: "M".into(),
        ..Default::default()
    };
    segur
        .identity_create("IPP-PROV", &input, false, &actor())
        .unwrap();
    let e = segur.dmp_status("IPP-PROV", &who).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::RnivRefused, "{e}");
}

/// DMP/CONF.01: the sandbox DMP knows NESSI NATHALIE as RUTH. Feeding stops (the document is
/// kept, failed, with its reason) until a user confirms the mismatch; a different mismatch later
/// stops it again; a patient without mismatch needs no confirmation.
#[tokio::test]
async fn a_traits_mismatch_stops_feeding_until_confirmed() {
    let (sb, _dir, segur) = setup().await;
    let who = me(&segur);
    qualified(&segur, "IPP-NN", "NESSI", "NATHALIE", "F", "1977-07-14").await;
    let st = segur.dmp_status("IPP-NN", &who).await.unwrap();
    assert_eq!(st.traits_mismatch, vec!["prénoms"]);
    assert_eq!(st.feed_blocked.as_deref(), Some("traits_mismatch"));
    assert!(!st.can_feed && !st.traits_confirmed);

    // Refused: nothing sent, the document kept with its reason; the dashboard shows the patient.
    let doc = vsm(&segur, "IPP-NN");
    let uid = segur_cda::metadata(&doc).unwrap().unique_id;
    let e = segur
        .dmp_send("IPP-NN", &who, &doc, &DmpSendOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotSent, "{e}");
    assert_eq!(
        e.not_sent_reason(),
        Some(NotSentReason::TraitsMismatch {
            fields: vec!["prenoms".into()]
        })
    );
    assert!(!e.to_string().contains("RUTH"));
    let blocked = segur
        .dmp_dashboard(&DmpDocumentQuery {
            status: Some(DmpDocumentStatus::Failed),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0].patient_local_id, "IPP-NN");
    assert_eq!(
        blocked[0].not_sent_reason.as_deref(),
        Some("traits_mismatch")
    );
    assert_eq!(blocked[0].traits_mismatch, vec!["prenoms"]);
    assert!(sb
        .dmp()
        .store()
        .read(|db| db.entries_by_unique_id(&uid))
        .unwrap()
        .is_empty());

    // Confirmed (journaled with its TD0.2): the status says so and the retry sends it.
    let c = segur.dmp_confirm_traits("IPP-NN", &who).await.unwrap();
    assert_eq!(c.fields, vec!["prenoms"]);
    assert_eq!(c.practitioner, who.id_nat);
    let ack = segur
        .journal()
        .dmp_traits_ack_latest("IPP-NN")
        .unwrap()
        .unwrap();
    assert_eq!(ack.fields, vec!["prenoms"]);
    let st = segur.dmp_status("IPP-NN", &who).await.unwrap();
    assert!(st.can_feed && st.traits_confirmed, "{st:?}");
    let sent = segur.dmp_retry(&uid, &who).await.unwrap();
    assert_eq!(sent.status, DmpDocumentStatus::Accessible);
    assert_eq!(sent.traits_mismatch, vec!["prénoms"]);
    let (row, _) = segur.journal().dmp_document(&uid).unwrap().unwrap();
    assert_eq!((row.not_sent_reason, row.last_error), (None, None));

    // The DMP's record changes (the sex differs too): the old confirmation does not cover it.
    let store = sb.dmp().store();
    let ins = row.ins.clone();
    let mut rec = store.read(|db| db.dmp(&ins)).unwrap().unwrap();
    rec.gender = "M".into();
    store.write(|db| db.put_dmp(&rec)).unwrap();
    let doc2 = vsm(&segur, "IPP-NN");
    let e = segur
        .dmp_send("IPP-NN", &who, &doc2, &DmpSendOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        e.not_sent_reason().map(|r| r.fields().to_vec()),
        Some(vec!["prenoms".to_owned(), "sexe".to_owned()])
    );
    segur.dmp_confirm_traits("IPP-NN", &who).await.unwrap();
    let uid2 = segur_cda::metadata(&doc2).unwrap().unique_id;
    assert_eq!(
        segur.dmp_retry(&uid2, &who).await.unwrap().status,
        DmpDocumentStatus::Accessible
    );

    // No mismatch: nothing to confirm, and sending needs no confirmation.
    qualified(&segur, "IPP-AZ", "ADRUN", "ZOE", "F", "1975-12-31").await;
    let e = segur.dmp_confirm_traits("IPP-AZ", &who).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    let doc = vsm(&segur, "IPP-AZ");
    segur
        .dmp_send("IPP-AZ", &who, &doc, &DmpSendOptions::default())
        .await
        .unwrap();
}

/// ITI-41 committed but its answer lost: the send fails, the retry meets
/// XDSDuplicateUniqueIdInRegistry, checks the registry (same size and hash) and marks the
/// document sent without registering it again.
#[tokio::test]
async fn a_lost_answer_does_not_make_a_sent_document_look_unsent() {
    let (sb, _dir, segur) = setup().await;
    let who = me(&segur);
    qualified(&segur, "IPP-AZ", "ADRUN", "ZOE", "F", "1975-12-31").await;
    // [I] checking the registry (ITI-18) needs consultation rights.
    authorize(&segur, "IPP-AZ", &who).await;
    let doc = vsm(&segur, "IPP-AZ");
    let uid = segur_cda::metadata(&doc).unwrap().unique_id;
    sb.dmp_faults().set_lost_answers(1);
    let e = segur
        .dmp_send("IPP-AZ", &who, &doc, &DmpSendOptions::default())
        .await
        .unwrap_err();
    assert_ne!(e.code(), ErrorCode::NotSent, "{e}");
    let (row, _) = segur.journal().dmp_document(&uid).unwrap().unwrap();
    assert_eq!(row.status, DmpDocumentStatus::Failed);
    let in_dmp = || {
        sb.dmp()
            .store()
            .read(|db| db.entries_by_unique_id(&uid))
            .unwrap()
    };
    assert_eq!(in_dmp().len(), 1, "the DMP did register it");
    let sent = segur.dmp_retry(&uid, &who).await.unwrap();
    assert_eq!(sent.status, DmpDocumentStatus::Accessible);
    assert!(sent.already_registered);
    let entries = in_dmp();
    assert_eq!(entries.len(), 1, "exactly one document in the DMP");
    assert_eq!(
        sent.entry_uuid.as_deref(),
        Some(entries[0].entry_uuid.as_str())
    );
    let (row, _) = segur.journal().dmp_document(&uid).unwrap().unwrap();
    assert_eq!(row.status, DmpDocumentStatus::Accessible);
    assert_eq!(row.entry_uuid, sent.entry_uuid);
    let ops: Vec<String> = segur
        .exchanges(&ExchangeQuery {
            channel: Some("dmp".into()),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|r| r.operation)
        .collect();
    assert!(ops.iter().any(|o| o == "ITI-18 GetDocuments"), "{ops:?}");
}

/// Hiding a document from the patient and showing it again keeps the legal representatives'
/// invisibility set at send time (only `INVISIBLE_PATIENT` changes).
#[tokio::test]
async fn patient_visibility_keeps_the_legal_representatives_code() {
    let (_sb, _dir, segur) = setup().await;
    let who = me(&segur);
    qualified(&segur, "IPP-AZ", "ADRUN", "ZOE", "F", "1975-12-31").await;
    let doc = vsm(&segur, "IPP-AZ");
    let uid = segur_cda::metadata(&doc).unwrap().unique_id;
    authorize(&segur, "IPP-AZ", &who).await;
    let opts = DmpSendOptions {
        invisible_legal_representatives: true,
        ..Default::default()
    };
    segur.dmp_send("IPP-AZ", &who, &doc, &opts).await.unwrap();
    let codes = |e: &segur::DmpEntryView| e.confidentiality.clone();
    for (update, patient_hidden) in [
        (DmpUpdate::HideFromPatient, true),
        (DmpUpdate::ShowToPatient, false),
    ] {
        segur
            .dmp_update("IPP-AZ", &who, &uid, update)
            .await
            .unwrap();
        let got = segur.dmp_get("IPP-AZ", &who, &uid).await.unwrap();
        let c = codes(&got.entry);
        assert!(
            c.iter().any(|c| c == "INVISIBLE_REPRESENTANTS_LEGAUX"),
            "{update:?}: {c:?}"
        );
        assert_eq!(
            c.iter().any(|c| c == "INVISIBLE_PATIENT"),
            patient_hidden,
            "{update:?}: {c:?}"
        );
    }
    let (row, _) = segur.journal().dmp_document(&uid).unwrap().unwrap();
    assert!(row
        .confidentiality
        .iter()
        .any(|c| c == "INVISIBLE_REPRESENTANTS_LEGAUX"));
}
