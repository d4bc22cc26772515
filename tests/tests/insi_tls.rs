//! TLS refusals between the INSi client and the sandbox, each with a real handshake on 127.0.0.1:
//! unknown CA, expired certificates, wrong host name, and the certificate CN check.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{Duration, Utc};
use segur_ins_core::insi::{AuthMode, InsiClient, LpsContext, TraitsQuery};
use segur_ins_core::{InsError, Sexe};
use segur_net::http::{handler_fn, HttpsServer};
use segur_net::tls::{self, ClientIdentity, TrustAnchors};
use segur_net::NetError;
use segur_sandbox::insi::{Faults, InsiSimulator};
use segur_sandbox::pki::TestPki;
use segur_tests::start_sandbox;

fn lps() -> LpsContext {
    LpsContext {
        idam: "SEGURSANDBOX".into(),
        software_name: "segur".into(),
        software_version: "0".into(),
        instance: uuid::Uuid::new_v4(),
        emitter: String::new(),
        auth: AuthMode::SoftwareCertificate,
    }
}

fn q() -> TraitsQuery {
    TraitsQuery {
        nom_naissance: "ADRDEUX".into(),
        prenoms: vec!["LAURENT".into()],
        sexe: Some(Sexe::M),
        date_naissance: "1981-01-01".into(),
        lieu_naissance: None,
    }
}

fn client(url: &str, anchors: TrustAnchors, id: ClientIdentity) -> InsiClient {
    InsiClient::builder(lps())
        .endpoint(url)
        .trust_anchors(anchors)
        .client_identity(id)
        .build()
        .unwrap()
}

fn handshake_detail(e: &InsError) -> String {
    match e {
        InsError::Net(NetError::TlsHandshake { detail, .. }) => detail.clone(),
        other => panic!("expected a TLS handshake error, got {other:?}"),
    }
}

/// An INSi simulator behind a server certificate of our choosing.
async fn server_with(pki: &TestPki, names: &[&str], valid: bool) -> HttpsServer {
    let (nb, na) = if valid {
        (
            Utc::now() - Duration::days(1),
            Utc::now() + Duration::days(30),
        )
    } else {
        (
            Utc::now() - Duration::days(30),
            Utc::now() - Duration::days(1),
        )
    };
    let cert = pki.issue_server(names, nb, na).unwrap();
    let config = tls::server_config(
        pki.chain_of(&cert),
        cert.private_key(),
        Some(&pki.trust_anchors().unwrap()),
    )
    .unwrap();
    let sim = Arc::new(InsiSimulator::new(
        vec!["SEGURSANDBOX".into()],
        Arc::new(Faults::default()),
    ));
    HttpsServer::bind(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        config,
        1 << 20,
        handler_fn(move |r| {
            let sim = sim.clone();
            async move { sim.handle(r).await }
        }),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn unknown_server_ca_is_refused() {
    let sb = start_sandbox().await;
    let pki = sb.sandbox.pki();
    // A production configuration (IGC-Santé anchors) pointed at the sandbox.
    let igc = segur_tests::reference_dir().join("pki");
    let mut pem = std::fs::read(igc.join("ACR-EL.pem")).unwrap();
    pem.extend(std::fs::read(igc.join("ACI-EL-ORG.pem")).unwrap());
    let c = client(
        &sb.sandbox.insi_url(),
        TrustAnchors::from_pem(&pem, "IGC-Santé").unwrap(),
        pki.client_identity(&pki.client).unwrap(),
    );
    let e = c.search_traits(&q()).await.unwrap_err();
    assert!(handshake_detail(&e).contains("UnknownIssuer"), "{e}");
    // A CA with the same names but other keys: the signature does not verify.
    let stranger = TestPki::generate().unwrap();
    let c = client(
        &sb.sandbox.insi_url(),
        stranger.trust_anchors().unwrap(),
        pki.client_identity(&pki.client).unwrap(),
    );
    let e = c.search_traits(&q()).await.unwrap_err();
    assert!(handshake_detail(&e).contains("BadSignature"), "{e}");
}

#[tokio::test]
async fn client_certificate_from_another_ca_is_refused() {
    let sb = start_sandbox().await;
    let pki = sb.sandbox.pki();
    let stranger = TestPki::generate().unwrap();
    let c = client(
        &sb.sandbox.insi_url(),
        pki.trust_anchors().unwrap(),
        stranger.client_identity(&stranger.client).unwrap(),
    );
    let e = c.search_traits(&q()).await.unwrap_err();
    assert!(
        matches!(
            e,
            InsError::Net(NetError::TlsHandshake { .. } | NetError::Http { .. })
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn expired_client_certificate_is_refused_and_warned() {
    let sb = start_sandbox().await;
    let pki = sb.sandbox.pki();
    let expired = pki
        .issue_client(
            "INSI-AUTO",
            Utc::now() - Duration::days(400),
            Utc::now() - Duration::days(2),
        )
        .unwrap();
    let c = client(
        &sb.sandbox.insi_url(),
        pki.trust_anchors().unwrap(),
        pki.client_identity(&expired).unwrap(),
    );
    assert!(c.warnings().iter().any(|w| w.contains("expired")));
    let e = c.search_traits(&q()).await.unwrap_err();
    assert!(
        matches!(
            e,
            InsError::Net(NetError::TlsHandshake { .. } | NetError::Http { .. })
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn expired_server_certificate_is_refused() {
    let pki = TestPki::generate().unwrap();
    let server = server_with(&pki, &["127.0.0.1", "localhost"], false).await;
    let c = client(
        &format!("https://127.0.0.1:{}/lps", server.local_addr().port()),
        pki.trust_anchors().unwrap(),
        pki.client_identity(&pki.client).unwrap(),
    );
    let e = c.search_traits(&q()).await.unwrap_err();
    assert!(handshake_detail(&e).contains("Expired"), "{e}");
}

#[tokio::test]
async fn wrong_host_name_is_refused() {
    let pki = TestPki::generate().unwrap();
    let server = server_with(&pki, &["services-ps-tlsm.ameli.fr"], true).await;
    let c = client(
        &format!("https://127.0.0.1:{}/lps", server.local_addr().port()),
        pki.trust_anchors().unwrap(),
        pki.client_identity(&pki.client).unwrap(),
    );
    let e = c.search_traits(&q()).await.unwrap_err();
    assert!(handshake_detail(&e).contains("NotValidForName"), "{e}");
    // The same server with a matching name works: the refusal was the name, nothing else.
    let ok_server = server_with(&pki, &["127.0.0.1"], true).await;
    let ok = client(
        &format!("https://127.0.0.1:{}/lps", ok_server.local_addr().port()),
        pki.trust_anchors().unwrap(),
        pki.client_identity(&pki.client).unwrap(),
    );
    assert!(ok.search_traits(&q()).await.is_ok());
}

#[tokio::test]
async fn certificate_cn_is_checked() {
    let sb = start_sandbox().await;
    let pki = sb.sandbox.pki();
    let manu = pki
        .issue_client(
            "INSI-MANU",
            Utc::now() - Duration::days(1),
            Utc::now() + Duration::days(10),
        )
        .unwrap();
    let c = client(
        &sb.sandbox.insi_url(),
        pki.trust_anchors().unwrap(),
        pki.client_identity(&manu).unwrap(),
    );
    assert!(c.warnings().is_empty());
    assert!(c.search_traits(&q()).await.is_ok());
    let other = pki
        .issue_client(
            "CABINET-DUPONT",
            Utc::now() - Duration::days(1),
            Utc::now() + Duration::days(10),
        )
        .unwrap();
    let c = client(
        &sb.sandbox.insi_url(),
        pki.trust_anchors().unwrap(),
        pki.client_identity(&other).unwrap(),
    );
    assert!(c.warnings().iter().any(|w| w.contains("DESIR_560")));
}

#[tokio::test]
async fn p12_from_the_sandbox_folder_opens_and_wrong_password_is_typed() {
    let sb = start_sandbox().await;
    let p12 = &sb.sandbox.files().client_p12;
    let id = ClientIdentity::from_pkcs12_file(p12, segur_sandbox::SANDBOX_P12_PASSWORD).unwrap();
    assert_eq!(id.subject_cn().as_deref(), Some("INSI-AUTO"));
    assert!(matches!(
        ClientIdentity::from_pkcs12_file(p12, "wrong"),
        Err(NetError::Pkcs12(_))
    ));
}
