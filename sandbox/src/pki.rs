//! A throw-away test PKI mirroring the IGC-Santé chain.
//!
//! ```text
//! TEST AC RACINE IGC-SANTE ELEMENTAIRE                      (root CA, self-signed)
//! └── TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS           (intermediate CA, pathlen 0)
//!     ├── localhost                                         (server: DNS localhost, 127.0.0.1, ::1)
//!     ├── INSI-AUTO, OU=499999999, O=SEGUR SANDBOX          (client: "ORG" software certificate)
//!     └── SEGUR SANDBOX CACHET, OU=1499999999               (signature "cachet" ORG certificate, RSA)
//! ```
//!
//! **Key algorithms.** The CAs, the server and the TLS client certificates use ECDSA P-256 with
//! SHA-256: rcgen cannot generate RSA keys with its `ring` backend. The signing ("cachet")
//! certificate, which signs the VIHF and the XAdES submission-set signature (`dmp.md` §1, §4,
//! §6) with RSA-SHA256 like the real IGC-Santé ORG certificates, has an RSA-2048 key generated
//! with the `rsa` crate and loaded into rcgen as PKCS#8.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use segur_net::tls::{ClientIdentity, TrustAnchors};

/// Subject CN of the test root CA.
pub const ROOT_CN: &str = "TEST AC RACINE IGC-SANTE ELEMENTAIRE";
/// Subject CN of the test intermediate CA.
pub const INTERMEDIATE_CN: &str = "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS";
/// Subject CN of the default client certificate.
pub const CLIENT_CN: &str = "INSI-AUTO";
/// Organisation of every sandbox certificate.
pub const ORGANIZATION: &str = "SEGUR SANDBOX";
/// Organisational unit of the client certificates (a test FINESS-like identifier).
pub const CLIENT_OU: &str = "499999999";
/// Subject CN of the default signing ("cachet") certificate.
pub const SIGNING_CN: &str = "SEGUR SANDBOX CACHET";
/// Organisational unit of the signing certificate: the structure's national identifier
/// (IdNat_Struct: `1` + the test FINESS [`CLIENT_OU`]).
pub const SIGNING_OU: &str = "1499999999";
/// RSA modulus size of the signing certificate (as the IGC-Santé ORG certificates).
pub const SIGNING_RSA_BITS: usize = 2048;

/// Errors of the test PKI.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// rcgen could not build or sign a certificate.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// The requested validity period is unusable.
    #[error("invalid validity period: {0}")]
    Validity(String),
    /// A PKCS#12 archive could not be written.
    #[error("PKCS#12: {0}")]
    Pkcs12(String),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The generated material was refused by the TLS layer.
    #[error("TLS: {0}")]
    Tls(#[from] segur_net::NetError),
    /// An RSA key could not be generated or encoded.
    #[error("RSA key generation: {0}")]
    RsaKey(String),
}

/// One issued certificate with its private key (and what is needed to issue more from it).
pub struct Issued {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PKCS#8 PEM.
    pub key_pem: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    params: CertificateParams,
    key: KeyPair,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("subject", &self.params.distinguished_name)
            .field("key", &"<private>")
            .finish()
    }
}

impl Issued {
    /// The certificate as a rustls/pki-types value.
    pub fn certificate(&self) -> CertificateDer<'static> {
        CertificateDer::from(self.cert_der.clone())
    }

    /// The private key (PKCS#8 DER).
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

/// The files written by [`TestPki::write_to`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiFiles {
    /// `ca/trust-anchors.pem`: root then intermediate.
    pub trust_anchors: PathBuf,
    /// `ca/root.pem`.
    pub root: PathBuf,
    /// `server/chain.pem`: server certificate then intermediate.
    pub server_chain: PathBuf,
    /// `server/key.pem` (owner-only).
    pub server_key: PathBuf,
    /// `client/insi-auto.p12`: client key, certificate and intermediate (owner-only).
    pub client_p12: PathBuf,
    /// `client/insi-auto.pem`: client certificate then intermediate.
    pub client_cert: PathBuf,
    /// `client/insi-auto.key.pem` (owner-only).
    pub client_key: PathBuf,
    /// `client/signature.p12`: the RSA signing ("cachet") key, its certificate and the
    /// intermediate (owner-only; same password as the client PKCS#12).
    pub signature_pkcs12: PathBuf,
}

/// The sandbox PKI: root → intermediate → server and client certificates.
pub struct TestPki {
    /// The root CA.
    pub root: Issued,
    /// The intermediate CA, issuer of every end-entity certificate.
    pub intermediate: Issued,
    /// The server certificate (`localhost`, `127.0.0.1`, `::1`).
    pub server: Issued,
    /// The client certificate, CN `INSI-AUTO`.
    pub client: Issued,
    /// The RSA signing ("cachet") certificate, CN `SEGUR SANDBOX CACHET`.
    pub signing: Issued,
    /// The folder the PKI was written to, if any (set by [`TestPki::generate_in`]).
    pub dir: Option<PathBuf>,
}

impl fmt::Debug for TestPki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestPki")
            .field("client", &self.client)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl TestPki {
    /// Generates a fresh PKI, every certificate valid from one day ago to three years from now.
    pub fn generate() -> Result<Self, PkiError> {
        let now = Utc::now();
        let not_before = now - chrono::Duration::days(1);
        let not_after = now + chrono::Duration::days(3 * 365);

        let root = {
            let key = KeyPair::generate()?;
            let mut params = ca_params(ROOT_CN, BasicConstraints::Unconstrained);
            set_validity(&mut params, not_before, not_after)?;
            let cert = params.self_signed(&key)?;
            finish(params, key, cert)
        };
        let intermediate = {
            let key = KeyPair::generate()?;
            let mut params = ca_params(INTERMEDIATE_CN, BasicConstraints::Constrained(0));
            params.use_authority_key_identifier_extension = true;
            set_validity(&mut params, not_before, not_after)?;
            let cert = params.signed_by(&key, &root.issuer())?;
            finish(params, key, cert)
        };
        let server = issue_server_with(
            &intermediate,
            &["localhost", "127.0.0.1", "::1"],
            not_before,
            not_after,
        )?;
        let client = issue_client_with(&intermediate, CLIENT_CN, not_before, not_after)?;
        let signing = issue_signing_with(&intermediate, SIGNING_CN, not_before, not_after)?;
        Ok(Self {
            root,
            intermediate,
            server,
            client,
            signing,
            dir: None,
        })
    }

    /// [`TestPki::generate`] then [`TestPki::write_to`] `dir`, remembering `dir`.
    pub fn generate_in(dir: &Path, p12_password: &str) -> Result<(Self, PkiFiles), PkiError> {
        let mut pki = Self::generate()?;
        let files = pki.write_to(dir, p12_password)?;
        pki.dir = Some(dir.to_path_buf());
        Ok((pki, files))
    }

    /// Issues another client certificate (O `SEGUR SANDBOX`, OU `499999999`, clientAuth) from
    /// the intermediate CA, e.g. `INSI-MANU` or an expired one.
    pub fn issue_client(
        &self,
        cn: &str,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<Issued, PkiError> {
        issue_client_with(&self.intermediate, cn, not_before, not_after)
    }

    /// Issues another signing ("cachet") certificate from the intermediate CA: RSA-2048 key,
    /// O `SEGUR SANDBOX`, OU [`SIGNING_OU`], key usage digitalSignature + nonRepudiation, no
    /// extended key usage (`dmp.md` §1: the `signature.p12` that signs the VIHF and the XAdES).
    pub fn issue_signing(
        &self,
        cn: &str,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<Issued, PkiError> {
        issue_signing_with(&self.intermediate, cn, not_before, not_after)
    }

    /// Issues another server certificate (serverAuth) for `dns_names` (IP addresses accepted)
    /// from the intermediate CA; the CN is the first name.
    pub fn issue_server(
        &self,
        dns_names: &[&str],
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<Issued, PkiError> {
        issue_server_with(&self.intermediate, dns_names, not_before, not_after)
    }

    /// The root and intermediate CAs as trust anchors.
    pub fn trust_anchors(&self) -> Result<TrustAnchors, PkiError> {
        Ok(TrustAnchors::from_der(vec![
            self.root.certificate(),
            self.intermediate.certificate(),
        ])?)
    }

    /// An end-entity certificate followed by the intermediate CA.
    pub fn chain_of(&self, issued: &Issued) -> Vec<CertificateDer<'static>> {
        vec![issued.certificate(), self.intermediate.certificate()]
    }

    /// A client identity (certificate chain and key) for an issued client certificate.
    pub fn client_identity(&self, issued: &Issued) -> Result<ClientIdentity, PkiError> {
        Ok(ClientIdentity::new(
            self.chain_of(issued),
            issued.private_key(),
        )?)
    }

    /// A server configuration presenting [`TestPki::server`] and requiring a client certificate
    /// issued by this PKI.
    pub fn server_tls(&self) -> Result<Arc<rustls::ServerConfig>, PkiError> {
        let anchors = self.trust_anchors()?;
        Ok(segur_net::tls::server_config(
            self.chain_of(&self.server),
            self.server.private_key(),
            Some(&anchors),
        )?)
    }

    /// A PKCS#12 archive of `issued` (key, certificate, intermediate CA), protected by
    /// `password` (PBES2 AES-256-CBC, HMAC-SHA256 MAC: readable by OpenSSL 1.1+ and Java).
    pub fn client_pkcs12(&self, issued: &Issued, password: &str) -> Result<Vec<u8>, PkiError> {
        use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
        let p12 = |e: p12_keystore::error::Error| PkiError::Pkcs12(e.to_string());
        let certs = [
            Certificate::from_der(&issued.cert_der).map_err(p12)?,
            Certificate::from_der(&self.intermediate.cert_der).map_err(p12)?,
        ];
        let key = PrivateKey::from_der(&issued.key.serialize_der()).map_err(p12)?;
        let local_key_id = issued.params.key_identifier(&issued.key);
        let alias = issued
            .params
            .distinguished_name
            .get(&DnType::CommonName)
            .and_then(dn_value_text)
            .unwrap_or_else(|| "client".to_owned())
            .to_lowercase();
        let mut store = KeyStore::new();
        store.add_entry(
            &alias,
            KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id, key, certs)),
        );
        store.writer(password).write().map_err(p12)
    }

    /// Writes the PKI under `dir` (see [`PkiFiles`]); private keys and the PKCS#12 are
    /// owner-only on Unix.
    pub fn write_to(&self, dir: &Path, p12_password: &str) -> Result<PkiFiles, PkiError> {
        let files = PkiFiles {
            trust_anchors: dir.join("ca/trust-anchors.pem"),
            root: dir.join("ca/root.pem"),
            server_chain: dir.join("server/chain.pem"),
            server_key: dir.join("server/key.pem"),
            client_p12: dir.join("client/insi-auto.p12"),
            client_cert: dir.join("client/insi-auto.pem"),
            client_key: dir.join("client/insi-auto.key.pem"),
            signature_pkcs12: dir.join("client/signature.p12"),
        };
        for sub in ["ca", "server", "client"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|source| PkiError::Write { path, source })?;
        }
        let anchors = format!("{}{}", self.root.cert_pem, self.intermediate.cert_pem);
        write_file(&files.trust_anchors, anchors.as_bytes(), false)?;
        write_file(&files.root, self.root.cert_pem.as_bytes(), false)?;
        write_file(
            &dir.join("ca/intermediate.pem"),
            self.intermediate.cert_pem.as_bytes(),
            false,
        )?;
        let server_chain = format!("{}{}", self.server.cert_pem, self.intermediate.cert_pem);
        write_file(&files.server_chain, server_chain.as_bytes(), false)?;
        write_file(&files.server_key, self.server.key_pem.as_bytes(), true)?;
        let p12 = self.client_pkcs12(&self.client, p12_password)?;
        write_file(&files.client_p12, &p12, true)?;
        let client_chain = format!("{}{}", self.client.cert_pem, self.intermediate.cert_pem);
        write_file(&files.client_cert, client_chain.as_bytes(), false)?;
        write_file(&files.client_key, self.client.key_pem.as_bytes(), true)?;
        let p12 = self.client_pkcs12(&self.signing, p12_password)?;
        write_file(&files.signature_pkcs12, &p12, true)?;
        Ok(files)
    }
}

fn dn_value_text(v: &rcgen::DnValue) -> Option<String> {
    match v {
        rcgen::DnValue::Utf8String(s) => Some(s.clone()),
        rcgen::DnValue::PrintableString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

fn dn(cn: &str, ou: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "FR");
    dn.push(DnType::OrganizationName, ORGANIZATION);
    dn.push(DnType::OrganizationalUnitName, ou);
    dn.push(DnType::CommonName, cn);
    dn
}

fn ca_params(cn: &str, constraints: BasicConstraints) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(cn, "IGC-SANTE TEST");
    params.is_ca = IsCa::Ca(constraints);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn issue_client_with(
    ca: &Issued,
    cn: &str,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<Issued, PkiError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(cn, CLIENT_OU);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, not_before, not_after)?;
    let cert = params.signed_by(&key, &ca.issuer())?;
    Ok(finish(params, key, cert))
}

/// A fresh RSA key pair (`rsa` crate, operating-system RNG) handed to rcgen as PKCS#8 for
/// RSA-SHA256 (rcgen's `ring` backend signs with RSA keys but cannot generate them).
fn rsa_key_pair(bits: usize) -> Result<KeyPair, PkiError> {
    use rsa::pkcs8::EncodePrivateKey as _;
    let key = rsa::PrivateKey::new(&mut rand::rngs::SysRng, bits)
        .map_err(|e| PkiError::RsaKey(e.to_string()))?;
    let der = key
        .to_pkcs8_der()
        .map_err(|e| PkiError::RsaKey(e.to_string()))?;
    let pkcs8 = PrivatePkcs8KeyDer::from(der.as_bytes().to_vec());
    Ok(KeyPair::from_pkcs8_der_and_sign_algo(
        &pkcs8,
        &rcgen::PKCS_RSA_SHA256,
    )?)
}

fn issue_signing_with(
    ca: &Issued,
    cn: &str,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<Issued, PkiError> {
    let key = rsa_key_pair(SIGNING_RSA_BITS)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(cn, SIGNING_OU);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, not_before, not_after)?;
    let cert = params.signed_by(&key, &ca.issuer())?;
    Ok(finish(params, key, cert))
}

fn issue_server_with(
    ca: &Issued,
    names: &[&str],
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<Issued, PkiError> {
    let first = names
        .first()
        .ok_or_else(|| PkiError::Validity("a server certificate needs a name".to_owned()))?;
    let key = KeyPair::generate()?;
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())?;
    params.distinguished_name = dn(first, "SANDBOX SERVICES");
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, not_before, not_after)?;
    let cert = params.signed_by(&key, &ca.issuer())?;
    Ok(finish(params, key, cert))
}

fn finish(params: CertificateParams, key: KeyPair, cert: rcgen::Certificate) -> Issued {
    Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_der: cert.der().to_vec(),
        params,
        key,
    }
}

/// Sets the validity period (whole seconds, UTC). rcgen takes `time::OffsetDateTime`, built here
/// as the Unix epoch plus a duration so that no `time` dependency is needed; years are bounded
/// to 1970..=9999 so the addition cannot overflow.
fn set_validity(
    params: &mut CertificateParams,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<(), PkiError> {
    if not_after <= not_before {
        return Err(PkiError::Validity(format!(
            "not_after ({not_after}) must be later than not_before ({not_before})"
        )));
    }
    let since_epoch = |d: DateTime<Utc>| -> Result<std::time::Duration, PkiError> {
        if !(1970..=9999).contains(&d.year()) {
            return Err(PkiError::Validity(format!(
                "{d} is outside the years 1970 to 9999"
            )));
        }
        u64::try_from(d.timestamp())
            .map(std::time::Duration::from_secs)
            .map_err(|_| PkiError::Validity(format!("{d} is before 1970")))
    };
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + since_epoch(not_before)?;
    params.not_after = epoch + since_epoch(not_after)?;
    Ok(())
}

fn write_file(path: &Path, content: &[u8], private: bool) -> Result<(), PkiError> {
    let err = |source| PkiError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    let mut file = options.open(path).map_err(err)?;
    #[cfg(unix)]
    if private {
        // The file may have existed with wider permissions.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
    }
    #[cfg(not(unix))]
    let _ = private;
    file.write_all(content).map_err(err)?;
    file.flush().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use segur_net::http::{handler_fn, HttpReply, HttpsClient, HttpsConfig, HttpsServer};
    use segur_net::tls::{client_config, server_identity_from_pem};
    use segur_net::NetError;
    use x509_parser::prelude::*;

    fn parse(der: &[u8]) -> X509Certificate<'_> {
        x509_parser::parse_x509_certificate(der).unwrap().1
    }

    fn cn(cert: &X509Certificate<'_>) -> String {
        cert.subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn generate_builds_the_igc_sante_like_chain() {
        let pki = TestPki::generate().unwrap();
        let root = parse(&pki.root.cert_der);
        let inter = parse(&pki.intermediate.cert_der);
        let server = parse(&pki.server.cert_der);
        let client = parse(&pki.client.cert_der);

        assert_eq!(cn(&root), ROOT_CN);
        assert_eq!(root.subject(), root.issuer());
        assert!(root.is_ca());
        assert_eq!(cn(&inter), INTERMEDIATE_CN);
        assert_eq!(inter.issuer(), root.subject());
        let bc = inter.basic_constraints().unwrap().unwrap().value;
        assert!(bc.ca);
        assert_eq!(bc.path_len_constraint, Some(0));

        assert_eq!(cn(&server), "localhost");
        assert_eq!(server.issuer(), inter.subject());
        let san = server.subject_alternative_name().unwrap().unwrap().value;
        let names: Vec<String> = san.general_names.iter().map(|g| g.to_string()).collect();
        assert_eq!(
            names,
            [
                "DNSName(localhost)",
                "IPAddress(7f:00:00:01)",
                "IPAddress(00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:01)"
            ]
        );
        assert!(
            server
                .extended_key_usage()
                .unwrap()
                .unwrap()
                .value
                .server_auth
        );

        assert_eq!(cn(&client), CLIENT_CN);
        assert_eq!(client.issuer(), inter.subject());
        assert!(
            client
                .extended_key_usage()
                .unwrap()
                .unwrap()
                .value
                .client_auth
        );
        let id = pki.client_identity(&pki.client).unwrap();
        assert_eq!(id.subject_ou().as_deref(), Some(CLIENT_OU));
        assert_eq!(
            id.subject_dn().as_deref(),
            Some("CN=INSI-AUTO,OU=499999999,O=SEGUR SANDBOX,C=FR")
        );
        let not_after = id.not_after().unwrap();
        let years = (not_after - Utc::now()).num_days();
        assert!((1090..=1096).contains(&years), "{years}");
        assert!(id.not_before().unwrap() < Utc::now() - chrono::Duration::hours(23));
    }

    /// Time of the PKI generation done at sandbox start (RSA key generation included), printed
    /// with `--nocapture`; fails only if it is absurdly slow (the big-integer crates not
    /// optimised, see the root `Cargo.toml`).
    #[test]
    fn generate_in_timing() {
        let tmp = tempfile::tempdir().unwrap();
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = std::time::Instant::now();
            TestPki::generate_in(tmp.path(), "pw").unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        eprintln!("TestPki::generate_in: {times:?}");
        assert!(times[2] < std::time::Duration::from_secs(5), "{times:?}");
    }

    #[test]
    fn signing_certificate_is_rsa_2048_for_signatures() {
        let pki = TestPki::generate().unwrap();
        let inter = parse(&pki.intermediate.cert_der);
        let cert = parse(&pki.signing.cert_der);
        assert_eq!(cn(&cert), SIGNING_CN);
        assert_eq!(cert.issuer(), inter.subject());
        assert!(!cert.is_ca());
        let spki = cert.public_key();
        assert_eq!(
            spki.algorithm.algorithm,
            x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION
        );
        match spki.parsed().unwrap() {
            x509_parser::public_key::PublicKey::RSA(rsa) => {
                assert_eq!(rsa.key_size(), SIGNING_RSA_BITS)
            }
            other => panic!("not RSA: {other:?}"),
        }
        assert_eq!(
            cert.signature_algorithm.algorithm,
            x509_parser::oid_registry::OID_SIG_ECDSA_WITH_SHA256,
            "issued (signed) by the ECDSA intermediate"
        );
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && ku.non_repudiation());
        assert!(!ku.key_cert_sign() && !ku.key_encipherment());
        assert!(cert.extended_key_usage().unwrap().is_none());
        let id = pki.client_identity(&pki.signing).unwrap();
        assert_eq!(
            id.subject_dn().as_deref(),
            Some("CN=SEGUR SANDBOX CACHET,OU=1499999999,O=SEGUR SANDBOX,C=FR")
        );

        // Another one, with its own key.
        let now = Utc::now();
        let other = pki
            .issue_signing("AUTRE CACHET", now, now + chrono::Duration::days(1))
            .unwrap();
        assert_ne!(
            parse(&other.cert_der).public_key().raw,
            cert.public_key().raw
        );
    }

    #[test]
    fn signature_p12_signs_xml_that_verifies() {
        use segur_net::dsig::{self, Pkcs12Signer, Signer as _};
        let tmp = tempfile::tempdir().unwrap();
        let (pki, files) = TestPki::generate_in(tmp.path(), "pass word!").unwrap();
        assert_eq!(
            files.signature_pkcs12,
            tmp.path().join("client/signature.p12")
        );
        let signer = Pkcs12Signer::from_pkcs12_file(&files.signature_pkcs12, "pass word!").unwrap();
        assert_eq!(signer.certificate_der(), pki.signing.cert_der.as_slice());
        assert_eq!(signer.chain().len(), 2);
        let xml = r#"<a:Doc xmlns:a="urn:a" ID="d1"><a:T>x</a:T></a:Doc>"#;
        let signed =
            dsig::sign_enveloped(xml, "d1", &signer, &dsig::SignOptions::default()).unwrap();
        let v = dsig::verify_enveloped(signed.as_bytes(), "d1").unwrap();
        assert_eq!(v.certificate, pki.signing.cert_der);
        // The ECDSA TLS client certificate cannot sign XML for the DMP.
        let err = Pkcs12Signer::from_pkcs12_file(&files.client_p12, "pass word!").unwrap_err();
        assert!(
            matches!(err, NetError::UnsupportedAlgorithm { .. }),
            "{err}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files.signature_pkcs12)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn bad_validity_is_refused() {
        let pki = TestPki::generate().unwrap();
        let now = Utc::now();
        let err = pki.issue_client("X", now, now).unwrap_err();
        assert!(matches!(err, PkiError::Validity(_)), "{err}");
        let far = DateTime::<Utc>::MAX_UTC;
        let err = pki.issue_client("X", now, far).unwrap_err();
        assert!(matches!(err, PkiError::Validity(_)), "{err}");
        let err = pki
            .issue_server(&[], now, now + chrono::Duration::days(1))
            .unwrap_err();
        assert!(matches!(err, PkiError::Validity(_)), "{err}");
    }

    async fn serve(pki: &TestPki) -> HttpsServer {
        let handler = handler_fn(|req| async move {
            let who = req
                .peer_certificates
                .first()
                .and_then(|c| {
                    x509_parser::parse_x509_certificate(c.as_ref())
                        .ok()
                        .map(|(_, c)| cn(&c))
                })
                .unwrap_or_default();
            HttpReply::new(200, "text/plain", who)
        });
        HttpsServer::bind(
            "127.0.0.1:0".parse().unwrap(),
            pki.server_tls().unwrap(),
            1024,
            handler,
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn mutual_tls_handshake_over_loopback() {
        let pki = TestPki::generate().unwrap();
        let server = serve(&pki).await;
        let anchors = pki.trust_anchors().unwrap();
        let id = pki.client_identity(&pki.client).unwrap();
        let client = HttpsClient::new(
            client_config(&anchors, Some(&id)).unwrap(),
            HttpsConfig::default(),
        );
        for host in ["127.0.0.1", "localhost"] {
            let url = format!("https://{host}:{}/", server.local_addr().port());
            let r = client
                .post(&url, "text/plain", &[], Bytes::from_static(b"hi"))
                .await
                .unwrap();
            assert_eq!(r.status, 200);
            assert_eq!(&r.body[..], CLIENT_CN.as_bytes());
        }

        // An extra client certificate works; an expired one is refused.
        let now = Utc::now();
        let manu = pki
            .issue_client(
                "INSI-MANU",
                now - chrono::Duration::hours(1),
                now + chrono::Duration::days(1),
            )
            .unwrap();
        let id = pki.client_identity(&manu).unwrap();
        let c = HttpsClient::new(
            client_config(&anchors, Some(&id)).unwrap(),
            HttpsConfig::default(),
        );
        let url = format!("https://127.0.0.1:{}/", server.local_addr().port());
        let r = c.post(&url, "text/plain", &[], Bytes::new()).await.unwrap();
        assert_eq!(&r.body[..], b"INSI-MANU");
        let expired = pki
            .issue_client(
                "INSI-OLD",
                now - chrono::Duration::days(30),
                now - chrono::Duration::days(1),
            )
            .unwrap();
        let id = pki.client_identity(&expired).unwrap();
        let c = HttpsClient::new(
            client_config(&anchors, Some(&id)).unwrap(),
            HttpsConfig::default(),
        );
        let err = c
            .post(&url, "text/plain", &[], Bytes::new())
            .await
            .unwrap_err();
        assert!(
            matches!(err, NetError::TlsHandshake { .. } | NetError::Http { .. }),
            "{err}"
        );
    }

    #[tokio::test]
    async fn write_to_produces_readable_files() {
        let tmp = tempfile::tempdir().unwrap();
        let (pki, files) = TestPki::generate_in(tmp.path(), "pass word!").unwrap();
        assert_eq!(pki.dir.as_deref(), Some(tmp.path()));

        let anchors = TrustAnchors::from_pem_file(&files.trust_anchors).unwrap();
        assert_eq!(anchors.len(), 2);
        assert_eq!(TrustAnchors::from_pem_file(&files.root).unwrap().len(), 1);
        let (chain, key) = server_identity_from_pem(
            &std::fs::read(&files.server_chain).unwrap(),
            &std::fs::read(&files.server_key).unwrap(),
        )
        .unwrap();
        assert_eq!(chain.len(), 2);
        let server_tls = segur_net::tls::server_config(chain, key, Some(&anchors)).unwrap();

        let from_p12 = ClientIdentity::from_pkcs12_file(&files.client_p12, "pass word!").unwrap();
        assert_eq!(from_p12.subject_cn().as_deref(), Some(CLIENT_CN));
        assert_eq!(from_p12.chain().len(), 2);
        let err = ClientIdentity::from_pkcs12_file(&files.client_p12, "nope").unwrap_err();
        assert!(matches!(err, NetError::Pkcs12(_)), "{err}");
        let from_pem = ClientIdentity::from_pem(
            &std::fs::read(&files.client_cert).unwrap(),
            &std::fs::read(&files.client_key).unwrap(),
        )
        .unwrap();
        assert_eq!(from_pem.chain(), from_p12.chain());

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in [&files.server_key, &files.client_key, &files.client_p12] {
                let mode = std::fs::metadata(f).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", f.display());
            }
        }

        // The files alone are enough for a mutual TLS exchange.
        let server = HttpsServer::bind(
            "127.0.0.1:0".parse().unwrap(),
            server_tls,
            1024,
            handler_fn(|_| async { HttpReply::new(200, "text/plain", "ok") }),
        )
        .await
        .unwrap();
        let c = HttpsClient::new(
            client_config(&anchors, Some(&from_p12)).unwrap(),
            HttpsConfig::default(),
        );
        let url = format!("https://localhost:{}/", server.local_addr().port());
        let r = c.post(&url, "text/plain", &[], Bytes::new()).await.unwrap();
        assert_eq!(&r.body[..], b"ok");
    }

    #[test]
    fn openssl_reads_the_files() {
        let openssl = Path::new("/usr/bin/openssl");
        assert!(
            openssl.exists(),
            "/usr/bin/openssl not found: apt-get install openssl (scripts/test does)"
        );
        let tmp = tempfile::tempdir().unwrap();
        let (_, files) = TestPki::generate_in(tmp.path(), "s3cret").unwrap();
        let out = std::process::Command::new(openssl)
            .arg("pkcs12")
            .arg("-in")
            .arg(&files.client_p12)
            .args(["-passin", "pass:s3cret", "-nokeys"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("INSI-AUTO"), "{stdout}");
        assert!(stdout.contains(INTERMEDIATE_CN), "{stdout}");
        let out = std::process::Command::new(openssl)
            .arg("pkcs12")
            .arg("-in")
            .arg(&files.client_p12)
            .args(["-passin", "pass:wrong", "-nokeys"])
            .output()
            .unwrap();
        assert!(!out.status.success());

        let dir = tmp.path();
        let out = std::process::Command::new(openssl)
            .arg("pkcs12")
            .arg("-in")
            .arg(&files.signature_pkcs12)
            .args(["-passin", "pass:s3cret", "-nodes"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(SIGNING_CN), "{stdout}");
        assert!(stdout.contains("BEGIN PRIVATE KEY"), "{stdout}");
        let signing_pem = dir.join("signing.pem");
        std::fs::write(&signing_pem, pki_signing_pem(&stdout)).unwrap();
        for (leaf, purpose) in [
            (&files.client_cert, "sslclient"),
            (&files.server_chain, "sslserver"),
            (&signing_pem, "any"),
        ] {
            let out = std::process::Command::new(openssl)
                .arg("verify")
                .arg("-CAfile")
                .arg(&files.root)
                .arg("-untrusted")
                .arg(dir.join("ca/intermediate.pem"))
                .args(["-purpose", purpose])
                .arg(leaf)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// The first certificate of an `openssl pkcs12` dump (the leaf).
    fn pki_signing_pem(dump: &str) -> String {
        let start = dump.find("-----BEGIN CERTIFICATE-----").unwrap();
        let end = dump[start..].find("-----END CERTIFICATE-----").unwrap() + start;
        format!("{}-----END CERTIFICATE-----\n", &dump[start..end])
    }

    /// PKCS#12 files made by OpenSSL (modern and legacy ciphers, RSA 2048 like the real
    /// IGC-Santé ORG certificates) open with `ClientIdentity::from_pkcs12`.
    #[test]
    fn openssl_made_pkcs12_opens() {
        let openssl = Path::new("/usr/bin/openssl");
        assert!(
            openssl.exists(),
            "/usr/bin/openssl not found: apt-get install openssl (scripts/test does)"
        );
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let run = |args: &[&str]| {
            let out = std::process::Command::new(openssl)
                .current_dir(dir)
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "rsa.key",
            "-out",
            "rsa.pem",
            "-days",
            "30",
            "-subj",
            "/C=FR/O=TEST/OU=499999999/CN=INSI-AUTO",
        ]);
        run(&[
            "pkcs12",
            "-export",
            "-inkey",
            "rsa.key",
            "-in",
            "rsa.pem",
            "-out",
            "modern.p12",
            "-passout",
            "pass:pw",
        ]);
        let legacy = std::process::Command::new(openssl)
            .current_dir(dir)
            .args([
                "pkcs12",
                "-export",
                "-legacy",
                "-inkey",
                "rsa.key",
                "-in",
                "rsa.pem",
                "-out",
                "legacy.p12",
                "-passout",
                "pass:pw",
            ])
            .output()
            .unwrap();
        let mut files = vec!["modern.p12"];
        if legacy.status.success() {
            files.push("legacy.p12");
        } else {
            eprintln!(
                "legacy provider unavailable: {}",
                String::from_utf8_lossy(&legacy.stderr)
            );
        }
        for f in files {
            let id = ClientIdentity::from_pkcs12_file(dir.join(f), "pw")
                .unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(id.subject_cn().as_deref(), Some("INSI-AUTO"), "{f}");
            let err = ClientIdentity::from_pkcs12_file(dir.join(f), "bad").unwrap_err();
            assert!(matches!(err, NetError::Pkcs12(_)), "{f}: {err}");
        }
    }
}
