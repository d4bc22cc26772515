//! The DMP through the facade, against the sandbox: a qualified identity of the journal, the
//! default practitioner of `segur.toml`, every call journaled, the outbox and its dashboard
//! statuses ("Accessible dans le DMP", "Supprimé dans le DMP"), documents never lost.

use segur::{
    Actor, DmpConsent, DmpDocumentQuery, DmpDocumentStatus, DmpFindQuery, DmpSendOptions,
    DmpUpdate, ErrorCode, ExchangeQuery, IdentityInput, Practitioner, Segur,
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
