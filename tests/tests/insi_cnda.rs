//! Client ↔ sandbox over real mutual TLS, for every CNDA case of the INSi test book that the
//! public material describes (2.03–2.08, 3.05), plus the fault paths.

use std::time::Duration;

use segur_ins_core::insi::{CarteVitaleQuery, CodeCr, TraitsQuery};
use segur_ins_core::traits::TraitsInput;
use segur_ins_core::{
    IdentityRecord, IdentityStatus, InsError, InsOid, KeyStatus, Matricule, TraitsStricts,
    TrustPolicy,
};
use segur_net::trace::Outcome;
use segur_tests::start_sandbox;

fn query(nom: &str, prenoms: &str, sexe: &str, date: &str, cog: Option<&str>) -> TraitsQuery {
    let t = TraitsStricts::from_input(
        &TraitsInput {
            nom_naissance: nom,
            prenoms,
            premier_prenom: None,
            date_naissance: date,
            sexe,
            lieu_naissance: cog,
        },
        false,
    )
    .expect("valid traits");
    TraitsQuery::from_traits(&t)
}

#[tokio::test]
async fn cnda_2_03_characters() {
    let sb = start_sandbox().await;
    let (client, trace) = sb.client();
    // Case 1: apostrophes and hyphen accepted and sent as typed (normalised).
    let q = query(
        "D'Artagnan de l'Hérault",
        "Pierre-Alain",
        "M",
        "2001-06-17",
        Some("63220"),
    );
    assert_eq!(q.nom_naissance, "D'ARTAGNAN DE L'HERAULT");
    let r = client.search_traits(&q).await.unwrap();
    assert_eq!(r.code, CodeCr::NotFound, "call accepted by the service");
    let sent = String::from_utf8(trace.exchanges()[0].request.to_vec()).unwrap();
    assert!(
        sent.contains("<ins:NomNaissance>D&apos;ARTAGNAN DE L&apos;HERAULT</ins:NomNaissance>")
            || sent.contains("<ins:NomNaissance>D'ARTAGNAN DE L'HERAULT</ins:NomNaissance>")
    );
    // Case 2: Corsican COG 2B020.
    let r = client
        .search_traits(&query(
            "ADRTROIS",
            "TOUSSAINT",
            "M",
            "1960-01-01",
            Some("2B020"),
        ))
        .await
        .unwrap();
    let id = r.identity.unwrap();
    assert_eq!(id.ins().matricule.to_15(), "160012B02077713");
    assert_eq!(
        id.traits().lieu_naissance.as_ref().unwrap().as_str(),
        "2B020"
    );
    // Case 3: typographic apostrophe and ligatures refused before any call.
    let calls = trace.exchanges().len();
    let e = TraitsStricts::from_input(
        &TraitsInput {
            nom_naissance: "D’ÆION",
            prenoms: "CŒUR",
            premier_prenom: None,
            date_naissance: "1987-01-01",
            sexe: "M",
            lieu_naissance: Some("2B020"),
        },
        false,
    )
    .unwrap_err();
    assert!(matches!(e, InsError::NeedsConfirmation { ref proposal, .. } if proposal == "D'AEION"));
    assert_eq!(trace.exchanges().len(), calls, "no call was made");
}

#[tokio::test]
async fn cnda_2_04_history_and_2_08_corsica() {
    let sb = start_sandbox().await;
    let (client, _) = sb.client();
    let r = client
        .search_traits(&query("ECETINSI", "PIERRE-ALAIN", "M", "2009-07-14", None))
        .await
        .unwrap();
    let id = r.identity.unwrap();
    assert_eq!(id.ins().matricule.to_15(), "109076322083489");
    assert_eq!(id.history().len(), 2);
    assert_eq!(id.history()[0].matricule.to_15(), "209076322083439");
    assert_eq!(id.traits().liste_prenoms(), "PIERRE-ALAIN MURIEL FLORIANT");
    assert_eq!(id.traits().premier_prenom, "PIERRE-ALAIN");

    let r = client
        .search_traits(&query("CORSE", "ANTHONY", "M", "1980-03-02", None))
        .await
        .unwrap();
    let id = r.identity.unwrap();
    assert_eq!(id.ins().matricule.to_15(), "180032B02040123");
    assert_eq!(&id.history()[0], id.ins(), "history = active");

    // 2.08 case 2: a wrong key in the history is kept and flagged, never refused.
    let r = client
        .search_traits(&query("HERMAN", "GATIEN", "M", "1981-03-24", None))
        .await
        .unwrap();
    let id = r.identity.unwrap();
    assert!(id.ins().matricule.key_is_valid());
    assert_eq!(
        id.history()[1].matricule.key_status(),
        KeyStatus::Mismatch { expected: 26 }
    );
    assert_eq!(id.history()[1].matricule.key_str(), "10");
}

#[tokio::test]
async fn cnda_2_05_nia() {
    let sb = start_sandbox().await;
    let (client, _) = sb.client();
    let r = client
        .search_traits(&query("PROVISOIRE", "MATRICULE", "M", "2009-07-01", None))
        .await
        .unwrap();
    let id = r.identity.unwrap();
    assert_eq!(id.ins().oid, InsOid::Nia);
    assert_eq!(id.ins().matricule.to_15(), "109076322088835");
}

#[tokio::test]
async fn cnda_2_06_homonyms_resolved_by_cog() {
    let sb = start_sandbox().await;
    let (client, _) = sb.client();
    let without = query("DE VINCI", "LEONARDO", "M", "2014-02-01", None);
    assert_eq!(
        client.search_traits(&without).await.unwrap().code,
        CodeCr::Multiple
    );
    let with = query("DE VINCI", "LEONARDO", "M", "2014-02-01", Some("63220"));
    // The strategy sends no COG first, gets 02, then retries with the COG.
    let o = client.search_strategy(&with).await.unwrap();
    assert_eq!(o.reply.code, CodeCr::Found);
    assert_eq!(o.attempts.len(), 2);
    assert_eq!(o.attempts[0].code, CodeCr::Multiple);
    assert!(o.attempts[1].with_cog);
}

#[tokio::test]
async fn cnda_2_07_first_names_strategy() {
    let sb = start_sandbox().await;
    let (client, trace) = sb.client();
    // Case 1: all names → 01, OLA → 01, CATARINA → 00 (stop).
    let o = client
        .search_strategy(&query(
            "TCHITCHI",
            "OLA CATARINA BELLA",
            "F",
            "1936-06-21",
            None,
        ))
        .await
        .unwrap();
    let codes: Vec<_> = o
        .attempts
        .iter()
        .map(|a| a.code.code().to_owned())
        .collect();
    assert_eq!(codes, ["01", "01", "00"]);
    assert_eq!(o.attempts[2].prenoms, ["CATARINA"]);
    assert_eq!(
        o.reply.identity.unwrap().ins().matricule.to_15(),
        "236066322083656"
    );
    assert_eq!(trace.exchanges().len(), 3, "every call traced");
    // Case 2: 01 whatever the names: all, then each of the three.
    let o = client
        .search_strategy(&query(
            "HOUILLES",
            "PIERRE PAUL JACQUES",
            "M",
            "1993-01-27",
            None,
        ))
        .await
        .unwrap();
    assert_eq!(o.reply.code, CodeCr::NotFound);
    assert_eq!(o.attempts.len(), 4);
}

#[tokio::test]
async fn cnda_3_05_case_3_traits_returned_differ() {
    let sb = start_sandbox().await;
    let (client, _) = sb.client();
    let q = query("NESSI", "RUTH", "F", "1977-07-14", None);
    let r = client.search_traits(&q).await.unwrap();
    let id = r.identity.unwrap();
    // INSi's traits are kept verbatim: the first name is NATHALIE, not the RUTH we sent.
    assert_eq!(id.traits().premier_prenom, "NATHALIE");
    let local = TraitsStricts::from_input(
        &TraitsInput {
            nom_naissance: "NESSI",
            prenoms: "RUTH",
            premier_prenom: None,
            date_naissance: "1977-07-14",
            sexe: "F",
            lieu_naissance: None,
        },
        false,
    )
    .unwrap();
    let mut record = IdentityRecord::new("IPP-NESSI", local, Default::default(), "u");
    record.apply_insi(&id, "u").unwrap();
    assert_eq!(record.traits().premier_prenom, "NATHALIE");
    assert_eq!(record.status(), IdentityStatus::Recuperee);
    record
        .add_document("CN", &TrustPolicy::default(), "u")
        .unwrap();
    assert_eq!(
        record.qualified().unwrap().ins().matricule.to_15(),
        "277076322082910"
    );
}

#[tokio::test]
async fn carte_vitale_operation() {
    let sb = start_sandbox().await;
    let (client, _) = sb.client();
    let q = CarteVitaleQuery {
        matricule_individu: Matricule::parse("181016322075140").unwrap(),
        matricule_od: None,
        nom_naissance: Some("ADRDEUX".into()),
        date_naissance: "1981-01-01".into(),
        rang_naissance: "1".into(),
    };
    let r = client.search_vitale(&q).await.unwrap();
    assert_eq!(r.code, CodeCr::Found);
}

#[tokio::test]
async fn faults_are_typed_and_keep_their_codes() {
    let sb = start_sandbox().await;
    let (client, trace) = sb.client();
    // Empty sex → insi_24.
    let mut q = query("ADRDEUX", "LAURENT", "M", "1981-01-01", None);
    q.sexe = None;
    match client.search_traits(&q).await {
        Err(InsError::InsiFault { code, subcode, .. }) => {
            assert_eq!(code, "insi_24");
            assert_eq!(subcode, "siram_100");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(trace.exchanges()[0].outcome, Outcome::Fault(ref c) if c.contains("insi_24")));
    // Outage → siram_40, retryable.
    sb.sandbox.insi_faults().set_outage(true);
    let e = client
        .search_traits(&query("ADRDEUX", "LAURENT", "M", "1981-01-01", None))
        .await
        .unwrap_err();
    assert!(
        matches!(e, InsError::InsiFault { ref subcode, ref code, .. } if subcode == "siram_40" && code == "desir_1020")
    );
    assert!(e.is_retryable());
    sb.sandbox.insi_faults().set_outage(false);

    // Unknown IDAM → siram_100 / desir_550.
    let mut settings = sb.sandbox.settings().clone();
    settings.lps.idam = "UNKNOWNIDAM0".into();
    let other = settings
        .insi_client(
            sb.sandbox.dir(),
            uuid::Uuid::new_v4(),
            std::sync::Arc::new(segur_net::trace::NoTrace),
        )
        .unwrap();
    let e = other
        .search_traits(&query("ADRDEUX", "LAURENT", "M", "1981-01-01", None))
        .await
        .unwrap_err();
    assert!(
        matches!(e, InsError::InsiFault { ref code, .. } if code == "desir_550"),
        "{e:?}"
    );
    assert!(!e.is_retryable());
    assert!(!e.to_string().contains("ADRDEUX"), "no identity in errors");
}

#[tokio::test]
async fn timeout_is_a_typed_retryable_error() {
    let sb = start_sandbox().await;
    let mut settings = sb.sandbox.settings().clone();
    settings.insi.timeout_secs = Some(1);
    let client = settings
        .insi_client(
            sb.sandbox.dir(),
            uuid::Uuid::new_v4(),
            std::sync::Arc::new(segur_net::trace::NoTrace),
        )
        .unwrap();
    sb.sandbox.insi_faults().set_delay(Duration::from_secs(3));
    let e = client
        .search_traits(&query("ADRDEUX", "LAURENT", "M", "1981-01-01", None))
        .await
        .unwrap_err();
    assert!(
        matches!(e, InsError::Net(segur_net::NetError::Timeout { .. })),
        "{e:?}"
    );
    assert!(e.is_retryable());
}

#[tokio::test]
async fn douteuse_identity_never_reaches_insi() {
    let sb = start_sandbox().await;
    let (client, trace) = sb.client();
    let t = TraitsStricts::from_input(
        &TraitsInput {
            nom_naissance: "ADRDEUX",
            prenoms: "LAURENT",
            premier_prenom: None,
            date_naissance: "1981-01-01",
            sexe: "M",
            lieu_naissance: None,
        },
        false,
    )
    .unwrap();
    let mut r = IdentityRecord::new("IPP", t, Default::default(), "u");
    r.set_attribute(segur_ins_core::rniv::Attribute::Fictive, true, "u", "test")
        .unwrap();
    assert!(matches!(
        client.search_identity(&r).await,
        Err(InsError::Rniv {
            rule: "EXI SI 09",
            ..
        })
    ));
    assert!(trace.exchanges().is_empty());
}

#[tokio::test]
async fn connections_are_reused() {
    let sb = start_sandbox().await;
    let (client, _) = sb.client();
    let q = query("ADRDEUX", "LAURENT", "M", "1981-01-01", None);
    for _ in 0..20 {
        client.search_traits(&q).await.unwrap();
    }
    assert_eq!(sb.sandbox.insi_connections(), 1);
}

#[tokio::test]
async fn outage_switch_over_http() {
    use segur_net::http::HttpsClient;
    use segur_net::tls;
    let sb = start_sandbox().await;
    let pki = sb.sandbox.pki();
    let http = HttpsClient::new(
        tls::client_config(
            &pki.trust_anchors().unwrap(),
            Some(&pki.client_identity(&pki.client).unwrap()),
        )
        .unwrap(),
        Default::default(),
    );
    let control = sb
        .sandbox
        .insi_url()
        .replace("/lps", "/sandbox/insi/faults");
    let r = http
        .post(
            &control,
            "text/plain",
            &[],
            bytes::Bytes::from_static(b"outage=on"),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("outage=on"));
    let (client, _) = sb.client();
    let e = client
        .search_traits(&query("ADRDEUX", "LAURENT", "M", "1981-01-01", None))
        .await
        .unwrap_err();
    assert!(matches!(e, InsError::InsiFault { ref subcode, .. } if subcode == "siram_40"));
    let r = http
        .post(
            &control,
            "text/plain",
            &[],
            bytes::Bytes::from_static(b"outage=off"),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(client
        .search_traits(&query("ADRDEUX", "LAURENT", "M", "1981-01-01", None))
        .await
        .is_ok());
    let r = http
        .post(
            &control,
            "text/plain",
            &[],
            bytes::Bytes::from_static(b"bogus"),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 400);
}
