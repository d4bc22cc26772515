//! Real TLS handshakes on 127.0.0.1: what must work, and every refusal the client and the
//! server must make, with the error the caller gets.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use segur_net::http::{handler_fn, Handler, HttpReply, HttpsClient, HttpsConfig, HttpsServer};
use segur_net::tls::{client_config, server_config, ClientIdentity, TrustAnchors};
use segur_net::NetError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---- a throw-away PKI --------------------------------------------------------------------

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    der: CertificateDer<'static>,
}

#[derive(Clone, Copy)]
enum Validity {
    Current,
    Expired,
}

struct Leaf {
    chain: Vec<CertificateDer<'static>>,
    key_der: Vec<u8>,
}

impl Leaf {
    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
    fn identity(&self) -> ClientIdentity {
        ClientIdentity::new(self.chain.clone(), self.key()).unwrap()
    }
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "FR");
    dn.push(DnType::OrganizationName, "SEGUR TEST");
    dn.push(DnType::CommonName, cn);
    dn
}

impl Ca {
    fn new(cn: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2045, 1, 1);
        let der = params.self_signed(&key).unwrap().der().clone();
        Self { params, key, der }
    }

    fn anchors(&self) -> TrustAnchors {
        TrustAnchors::from_der(vec![self.der.clone()]).unwrap()
    }

    fn issue(
        &self,
        cn: &str,
        sans: &[&str],
        eku: ExtendedKeyUsagePurpose,
        validity: Validity,
    ) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name = dn(cn);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![eku];
        params.use_authority_key_identifier_extension = true;
        let (nb, na) = match validity {
            Validity::Current => (date_time_ymd(2020, 1, 1), date_time_ymd(2044, 1, 1)),
            Validity::Expired => (date_time_ymd(2015, 1, 1), date_time_ymd(2020, 1, 1)),
        };
        params.not_before = nb;
        params.not_after = na;
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        Leaf {
            chain: vec![cert.der().clone()],
            key_der: key.serialize_der(),
        }
    }

    fn server_leaf(&self, sans: &[&str], validity: Validity) -> Leaf {
        self.issue(
            "server",
            sans,
            ExtendedKeyUsagePurpose::ServerAuth,
            validity,
        )
    }

    fn client_leaf(&self, cn: &str, validity: Validity) -> Leaf {
        self.issue(cn, &[], ExtendedKeyUsagePurpose::ClientAuth, validity)
    }
}

// ---- servers and clients -----------------------------------------------------------------

fn counting_echo(calls: Arc<AtomicUsize>) -> Handler {
    handler_fn(move |req| {
        let calls = Arc::clone(&calls);
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            let cn_seen = if req.peer_certificates.is_empty() {
                "no-client-cert"
            } else {
                "client-cert"
            };
            HttpReply::new(
                200,
                "application/soap+xml; charset=utf-8",
                format!("{cn_seen}:{}", String::from_utf8_lossy(&req.body)),
            )
        }
    })
}

async fn start(
    leaf: &Leaf,
    client_ca: Option<&Ca>,
    max_request_bytes: usize,
    handler: Handler,
) -> HttpsServer {
    let tls = server_config(
        leaf.chain.clone(),
        leaf.key(),
        client_ca.map(|c| c.anchors()).as_ref(),
    )
    .unwrap();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    HttpsServer::bind(addr, tls, max_request_bytes, handler)
        .await
        .unwrap()
}

fn client(trusted: &Ca, identity: Option<&ClientIdentity>, config: HttpsConfig) -> HttpsClient {
    HttpsClient::new(client_config(&trusted.anchors(), identity).unwrap(), config)
}

fn url(server_addr: SocketAddr) -> String {
    format!("https://127.0.0.1:{}/ws", server_addr.port())
}

async fn post(client: &HttpsClient, url: &str) -> Result<segur_net::http::HttpResponse, NetError> {
    client
        .post(
            url,
            "application/soap+xml; charset=utf-8",
            &[("SOAPAction", "urn:test")],
            Bytes::from_static(b"<hello/>"),
        )
        .await
}

fn tls_detail(err: &NetError) -> &str {
    match err {
        NetError::TlsHandshake { detail, .. } => detail,
        other => panic!("expected TlsHandshake, got {other:?}"),
    }
}

/// A standard setup: one CA for both sides, mutual TLS required.
struct Setup {
    ca: Ca,
    server: HttpsServer,
    calls: Arc<AtomicUsize>,
}

async fn mutual_setup() -> Setup {
    let ca = Ca::new("TEST CA");
    let calls = Arc::new(AtomicUsize::new(0));
    let leaf = ca.server_leaf(&["localhost", "127.0.0.1"], Validity::Current);
    let server = start(
        &leaf,
        Some(&ca),
        64 * 1024,
        counting_echo(Arc::clone(&calls)),
    )
    .await;
    Setup { ca, server, calls }
}

// ---- what must work ----------------------------------------------------------------------

#[tokio::test]
async fn mutual_tls_post_works_and_reuses_the_connection() {
    let s = mutual_setup().await;
    let id = s.ca.client_leaf("INSI-AUTO", Validity::Current).identity();
    let c = client(&s.ca, Some(&id), HttpsConfig::default());
    let u = url(s.server.local_addr());
    for i in 0..50 {
        let r = post(&c, &u)
            .await
            .unwrap_or_else(|e| panic!("post {i}: {e}"));
        assert_eq!(r.status, 200);
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/soap+xml; charset=utf-8")
        );
        assert_eq!(&r.body[..], b"client-cert:<hello/>");
    }
    assert_eq!(s.calls.load(Ordering::SeqCst), 50);
    assert_eq!(
        s.server.connections_accepted(),
        1,
        "keep-alive must reuse the connection"
    );
    s.server.shutdown().await;
}

#[tokio::test]
async fn non_2xx_statuses_are_returned_not_raised() {
    let ca = Ca::new("TEST CA");
    let leaf = ca.server_leaf(&["127.0.0.1"], Validity::Current);
    let server = start(
        &leaf,
        None,
        1024,
        handler_fn(|_| async { HttpReply::new(500, "application/soap+xml", "<fault/>") }),
    )
    .await;
    let c = client(&ca, None, HttpsConfig::default());
    let r = post(&c, &url(server.local_addr())).await.unwrap();
    assert_eq!(r.status, 500);
    assert_eq!(&r.body[..], b"<fault/>");
}

#[tokio::test]
async fn request_over_the_server_limit_gets_413_without_the_handler() {
    let ca = Ca::new("TEST CA");
    let calls = Arc::new(AtomicUsize::new(0));
    let leaf = ca.server_leaf(&["127.0.0.1"], Validity::Current);
    let server = start(&leaf, None, 16, counting_echo(Arc::clone(&calls))).await;
    let c = client(&ca, None, HttpsConfig::default());
    let r = c
        .post(
            &url(server.local_addr()),
            "text/xml",
            &[],
            Bytes::from(vec![b'x'; 17]),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 413);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let r = c
        .post(
            &url(server.local_addr()),
            "text/xml",
            &[],
            Bytes::from(vec![b'x'; 16]),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
}

// ---- the client refuses the server -------------------------------------------------------

#[tokio::test]
async fn unknown_server_ca_is_refused() {
    let s = mutual_setup().await;
    let other = Ca::new("OTHER CA");
    let id = s.ca.client_leaf("INSI-AUTO", Validity::Current).identity();
    let c = client(&other, Some(&id), HttpsConfig::default());
    let err = post(&c, &url(s.server.local_addr())).await.unwrap_err();
    assert!(tls_detail(&err).contains("UnknownIssuer"), "{err}");
    assert_eq!(s.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn expired_server_certificate_is_refused() {
    let ca = Ca::new("TEST CA");
    let leaf = ca.server_leaf(&["127.0.0.1"], Validity::Expired);
    let server = start(&leaf, None, 1024, counting_echo(Arc::default())).await;
    let c = client(&ca, None, HttpsConfig::default());
    let err = post(&c, &url(server.local_addr())).await.unwrap_err();
    assert!(tls_detail(&err).contains("Expired"), "{err}");
}

#[tokio::test]
async fn wrong_server_name_is_refused() {
    let ca = Ca::new("TEST CA");
    let leaf = ca.server_leaf(&["other.example"], Validity::Current);
    let server = start(&leaf, None, 1024, counting_echo(Arc::default())).await;
    let c = client(&ca, None, HttpsConfig::default());
    let err = post(&c, &url(server.local_addr())).await.unwrap_err();
    assert!(tls_detail(&err).contains("NotValidForName"), "{err}");
    let err = post(
        &c,
        &format!("https://localhost:{}/ws", server.local_addr().port()),
    )
    .await
    .unwrap_err();
    // localhost may resolve to ::1 first (refused) then 127.0.0.1 (wrong name).
    assert!(
        matches!(&err, NetError::TlsHandshake { detail, .. } if detail.contains("NotValidForName"))
            || matches!(err, NetError::Connect { .. }),
        "{err}"
    );
}

// ---- the server refuses the client -------------------------------------------------------

fn assert_client_refused(err: &NetError) {
    match err {
        NetError::TlsHandshake { .. } | NetError::Http { .. } => {}
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn client_certificate_from_unknown_ca_is_refused() {
    let s = mutual_setup().await;
    let rogue = Ca::new("ROGUE CA");
    let id = rogue.client_leaf("INSI-AUTO", Validity::Current).identity();
    let c = client(&s.ca, Some(&id), HttpsConfig::default());
    let err = post(&c, &url(s.server.local_addr())).await.unwrap_err();
    assert_client_refused(&err);
    assert_eq!(
        s.calls.load(Ordering::SeqCst),
        0,
        "handler must not be called"
    );
}

#[tokio::test]
async fn expired_client_certificate_is_refused() {
    let s = mutual_setup().await;
    let id = s.ca.client_leaf("INSI-AUTO", Validity::Expired).identity();
    let c = client(&s.ca, Some(&id), HttpsConfig::default());
    let err = post(&c, &url(s.server.local_addr())).await.unwrap_err();
    assert_client_refused(&err);
    assert_eq!(s.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn missing_client_certificate_is_refused() {
    let s = mutual_setup().await;
    let c = client(&s.ca, None, HttpsConfig::default());
    let err = post(&c, &url(s.server.local_addr())).await.unwrap_err();
    assert_client_refused(&err);
    assert_eq!(s.calls.load(Ordering::SeqCst), 0);
}

// ---- limits, timeouts, transport errors --------------------------------------------------

#[tokio::test]
async fn response_over_the_limit_is_refused() {
    let ca = Ca::new("TEST CA");
    let leaf = ca.server_leaf(&["127.0.0.1"], Validity::Current);
    let server = start(
        &leaf,
        None,
        1024,
        handler_fn(|_| async { HttpReply::new(200, "text/xml", vec![b'a'; 2 * 1_048_576]) }),
    )
    .await;
    let c = client(&ca, None, HttpsConfig::default());
    let err = post(&c, &url(server.local_addr())).await.unwrap_err();
    assert!(
        matches!(err, NetError::ResponseTooLarge { limit: 1_048_576 }),
        "{err}"
    );
}

/// A hand-written TLS server sending a chunked body (no Content-Length): the limit must hold
/// while streaming.
#[tokio::test]
async fn chunked_response_over_the_limit_is_refused() {
    let ca = Ca::new("TEST CA");
    let leaf = ca.server_leaf(&["127.0.0.1"], Validity::Current);
    let tls = server_config(leaf.chain.clone(), leaf.key(), None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let _ = tls.read(&mut buf).await;
        let head =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n";
        tls.write_all(head).await.unwrap();
        let chunk = format!("400\r\n{}\r\n", "b".repeat(0x400));
        for _ in 0..100 {
            if tls.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
        let _ = tls.write_all(b"0\r\n\r\n").await;
    });
    let config = HttpsConfig {
        max_response_bytes: 10_000,
        ..HttpsConfig::default()
    };
    let c = client(&ca, None, config);
    let err = post(&c, &url(addr)).await.unwrap_err();
    assert!(
        matches!(err, NetError::ResponseTooLarge { limit: 10_000 }),
        "{err}"
    );
    task.abort();
}

#[tokio::test]
async fn server_that_never_answers_times_out() {
    let ca = Ca::new("TEST CA");
    let leaf = ca.server_leaf(&["127.0.0.1"], Validity::Current);
    let server = start(
        &leaf,
        None,
        1024,
        handler_fn(|_| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            HttpReply::new(200, "text/xml", "late")
        }),
    )
    .await;
    let config = HttpsConfig {
        request_timeout: Duration::from_millis(300),
        ..HttpsConfig::default()
    };
    let c = client(&ca, None, config);
    let err = post(&c, &url(server.local_addr())).await.unwrap_err();
    assert!(
        matches!(err, NetError::Timeout { after, .. } if after == Duration::from_millis(300)),
        "{err}"
    );
}

#[tokio::test]
async fn closed_port_is_a_connect_error() {
    let ca = Ca::new("TEST CA");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = client(&ca, None, HttpsConfig::default());
    let err = post(&c, &format!("https://127.0.0.1:{port}/ws"))
        .await
        .unwrap_err();
    assert!(matches!(err, NetError::Connect { .. }), "{err}");
}

#[tokio::test]
async fn stopped_server_is_a_connect_error() {
    let ca = Ca::new("TEST CA");
    let leaf = ca.server_leaf(&["127.0.0.1"], Validity::Current);
    let server = start(&leaf, None, 1024, counting_echo(Arc::default())).await;
    let u = url(server.local_addr());
    let c = client(&ca, None, HttpsConfig::default());
    post(&c, &u).await.unwrap();
    server.shutdown().await;
    let fresh = client(&ca, None, HttpsConfig::default());
    let err = post(&fresh, &u).await.unwrap_err();
    assert!(matches!(err, NetError::Connect { .. }), "{err}");
}

#[tokio::test]
async fn plain_http_url_is_invalid() {
    let ca = Ca::new("TEST CA");
    let c = client(&ca, None, HttpsConfig::default());
    for bad in ["http://127.0.0.1:1/ws", "127.0.0.1/ws", "https://"] {
        let err = post(&c, bad).await.unwrap_err();
        assert!(matches!(err, NetError::InvalidUrl { .. }), "{bad}: {err}");
    }
}

// ---- PKCS#12 -----------------------------------------------------------------------------

fn pkcs12(leaf: &Leaf, password: &str) -> Vec<u8> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let certs = leaf
        .chain
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).unwrap());
    let chain = PrivateKeyChain::new(
        b"insi-auto".to_vec(),
        PrivateKey::from_der(&leaf.key_der).unwrap(),
        certs,
    );
    let mut store = KeyStore::new();
    store.add_entry("insi-auto", KeyStoreEntry::PrivateKeyChain(chain));
    store.writer(password).write().unwrap()
}

#[tokio::test]
async fn pkcs12_identity_opens_and_authenticates() {
    let s = mutual_setup().await;
    let leaf = s.ca.client_leaf("INSI-AUTO", Validity::Current);
    let p12 = pkcs12(&leaf, "s3cret");
    let err = ClientIdentity::from_pkcs12(&p12, "wrong").unwrap_err();
    match &err {
        NetError::Pkcs12(msg) => assert!(msg.contains("password"), "{msg}"),
        other => panic!("expected Pkcs12, got {other:?}"),
    }
    let id = ClientIdentity::from_pkcs12(&p12, "s3cret").unwrap();
    assert_eq!(id.subject_cn().as_deref(), Some("INSI-AUTO"));
    assert_eq!(id.chain(), &leaf.chain[..]);
    let c = client(&s.ca, Some(&id), HttpsConfig::default());
    let r = post(&c, &url(s.server.local_addr())).await.unwrap();
    assert_eq!(r.status, 200);
}
