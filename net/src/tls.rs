//! TLS material and rustls configurations.
//!
//! - [`TrustAnchors`]: the explicit set of CA certificates a peer must chain to (IGC-Santé in
//!   production, the sandbox CA in tests). The operating system's trust store is never used.
//! - [`ClientIdentity`]: a certificate chain and its private key, read from PKCS#12 (software
//!   "ORG" certificate) or PEM.
//! - [`client_config`] / [`server_config`]: rustls configurations with the `ring` provider,
//!   TLS 1.2 and 1.3 only (nothing older can be negotiated).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use x509_parser::asn1_rs::ToDer;
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::{
    Oid, OID_DOMAIN_COMPONENT, OID_USERID, OID_X509_COMMON_NAME, OID_X509_COUNTRY_NAME,
    OID_X509_LOCALITY_NAME, OID_X509_ORGANIZATIONAL_UNIT, OID_X509_ORGANIZATION_NAME,
    OID_X509_STATE_OR_PROVINCE_NAME, OID_X509_STREET_ADDRESS,
};
use x509_parser::x509::X509Name;

use crate::error::{NetError, Result};

/// The crypto provider used everywhere in this crate: rustls' `ring` provider, never a
/// process-global default.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

// ---- trust anchors -----------------------------------------------------------------------

/// An explicit set of trusted CA certificates (never the OS store).
#[derive(Clone)]
pub struct TrustAnchors {
    roots: Arc<RootCertStore>,
    ders: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subjects: Vec<String> = self
            .ders
            .iter()
            .map(|d| parse_cert(d).map_or_else(|| "?".to_owned(), |c| rfc4514(c.subject())))
            .collect();
        f.debug_struct("TrustAnchors")
            .field("subjects", &subjects)
            .finish()
    }
}

impl TrustAnchors {
    /// Reads every `CERTIFICATE` block of a PEM document; `source` names it in errors.
    ///
    /// Fails with [`NetError::NoTrustAnchor`] when there is none, and with
    /// [`NetError::Certificate`] when a block cannot be decoded or used as an anchor.
    pub fn from_pem(pem: &[u8], source: &str) -> Result<Self> {
        let mut ders = Vec::new();
        for (i, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let der = item.map_err(|e| NetError::Certificate {
                context: format!("{source}, certificate {}", i + 1),
                detail: e.to_string(),
            })?;
            ders.push(der);
        }
        if ders.is_empty() {
            return Err(NetError::NoTrustAnchor(source.to_owned()));
        }
        Self::build(ders, source)
    }

    /// Reads a PEM file of CA certificates.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let pem = read_file(path, "trust anchors")?;
        Self::from_pem(&pem, &path.display().to_string())
    }

    /// Uses DER certificates already in memory.
    pub fn from_der(ders: Vec<CertificateDer<'static>>) -> Result<Self> {
        if ders.is_empty() {
            return Err(NetError::NoTrustAnchor("empty certificate list".to_owned()));
        }
        Self::build(ders, "trust anchors")
    }

    fn build(ders: Vec<CertificateDer<'static>>, source: &str) -> Result<Self> {
        let mut roots = RootCertStore::empty();
        for (i, der) in ders.iter().enumerate() {
            roots.add(der.clone()).map_err(|e| NetError::Certificate {
                context: format!("{source}, certificate {}", i + 1),
                detail: e.to_string(),
            })?;
        }
        Ok(Self {
            roots: Arc::new(roots),
            ders,
        })
    }

    /// Number of anchors.
    pub fn len(&self) -> usize {
        self.ders.len()
    }

    /// Whether there is no anchor (never true for a successfully built value).
    pub fn is_empty(&self) -> bool {
        self.ders.is_empty()
    }

    /// The anchors, DER-encoded, in the order they were read.
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.ders
    }

    /// The rustls root store built from the anchors.
    pub fn root_store(&self) -> Arc<RootCertStore> {
        Arc::clone(&self.roots)
    }
}

// ---- client identity ---------------------------------------------------------------------

/// A certificate chain (leaf first) and its private key, presented for mutual TLS.
#[derive(Clone)]
pub struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("subject", &self.subject_dn())
            .field("chain_len", &self.chain.len())
            .field("key", &"<private>")
            .finish()
    }
}

impl ClientIdentity {
    /// Opens a PKCS#12 (`.p12` / `.pfx`) archive: the first private key with its certificate
    /// chain.
    ///
    /// Errors ([`NetError::Pkcs12`]) say whether the password is wrong (MAC check failed), the
    /// data is not PKCS#12, the cipher is unsupported, or no key with a matching certificate was
    /// found. An unusable key gives [`NetError::PrivateKey`].
    pub fn from_pkcs12(der: &[u8], password: &str) -> Result<Self> {
        use p12_keystore::error::Error as P12;
        let store = p12_keystore::KeyStore::from_pkcs12(
            der,
            password,
            p12_keystore::Pkcs12ImportPolicy::Strict,
        )
        .map_err(|e| {
            NetError::Pkcs12(match e {
                P12::MacError(_) => {
                    "wrong password or corrupted file (MAC verification failed)".to_owned()
                }
                P12::UnpadError | P12::InvalidPrivateKey => {
                    "cannot decrypt the contents (wrong password?)".to_owned()
                }
                P12::DerError(e) => format!("not a valid PKCS#12 archive ({e})"),
                P12::InvalidVersion => "not a PKCS#12 v3 archive".to_owned(),
                P12::UnsupportedEncryptionScheme
                | P12::UnsupportedMacAlgorithm
                | P12::UnsupportedContentType
                | P12::UnsupportedCertificateType => {
                    format!("unsupported content: {e}")
                }
                other => other.to_string(),
            })
        })?;
        let (_, key_chain) = store.private_key_chain().ok_or_else(|| {
            NetError::Pkcs12("no private key with a matching certificate found".to_owned())
        })?;
        let chain: Vec<CertificateDer<'static>> = key_chain
            .certs()
            .iter()
            .map(|c| CertificateDer::from(c.as_der().to_vec()))
            .collect();
        if chain.is_empty() {
            return Err(NetError::Pkcs12(
                "the private key has no certificate".to_owned(),
            ));
        }
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_chain.key().as_der().to_vec()));
        Self::new(chain, key)
    }

    /// Reads a PKCS#12 file (see [`ClientIdentity::from_pkcs12`]).
    pub fn from_pkcs12_file(path: impl AsRef<Path>, password: &str) -> Result<Self> {
        let der = read_file(path.as_ref(), "PKCS#12 file")?;
        Self::from_pkcs12(&der, password)
    }

    /// Builds an identity from a PEM certificate chain (leaf first) and a PEM private key
    /// (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Self> {
        let chain = certs_from_pem(cert_chain_pem, "client certificate")?;
        let key = key_from_pem(key_pem)?;
        Self::new(chain, key)
    }

    /// Builds an identity from DER values, checking that the key is usable with the `ring`
    /// provider and matches the leaf certificate.
    pub fn new(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<Self> {
        check_certified_key(&chain, &key, "client certificate")?;
        Ok(Self {
            chain,
            key: Arc::new(key),
        })
    }

    /// The certificate chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The private key (e.g. to sign XML with the same identity).
    pub fn private_key(&self) -> &PrivateKeyDer<'static> {
        &self.key
    }

    /// The first common name (CN) of the leaf certificate subject.
    pub fn subject_cn(&self) -> Option<String> {
        let cert = parse_cert(self.chain.first()?)?;
        first_attr(cert.subject(), &OID_X509_COMMON_NAME)
    }

    /// The leaf certificate subject as an RFC 4514 string (e.g. `CN=INSI-AUTO,OU=499999999,...`).
    pub fn subject_dn(&self) -> Option<String> {
        let cert = parse_cert(self.chain.first()?)?;
        Some(rfc4514(cert.subject()))
    }

    /// The first organizational unit (OU) of the leaf certificate subject.
    pub fn subject_ou(&self) -> Option<String> {
        let cert = parse_cert(self.chain.first()?)?;
        first_attr(cert.subject(), &OID_X509_ORGANIZATIONAL_UNIT)
    }

    /// The end of validity of the leaf certificate.
    pub fn not_after(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let cert = parse_cert(self.chain.first()?)?;
        chrono::DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
    }

    /// The start of validity of the leaf certificate.
    pub fn not_before(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let cert = parse_cert(self.chain.first()?)?;
        chrono::DateTime::from_timestamp(cert.validity().not_before.timestamp(), 0)
    }
}

// ---- configurations ----------------------------------------------------------------------

/// Lowest TLS version accepted. Nothing below TLS 1.2 can be configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsVersion {
    /// TLS 1.2 and 1.3.
    #[default]
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

/// Options of the rustls configurations built here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TlsOptions {
    /// Lowest accepted version (default TLS 1.2).
    pub min_version: TlsVersion,
}

impl TlsOptions {
    fn versions(&self) -> &'static [&'static SupportedProtocolVersion] {
        static BOTH: [&SupportedProtocolVersion; 2] =
            [&rustls::version::TLS13, &rustls::version::TLS12];
        static ONLY13: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        match self.min_version {
            TlsVersion::Tls12 => &BOTH,
            TlsVersion::Tls13 => &ONLY13,
        }
    }
}

/// A client configuration trusting only `anchors`, presenting `identity` when the server asks
/// for a certificate (TLS 1.2 and 1.3).
pub fn client_config(
    anchors: &TrustAnchors,
    identity: Option<&ClientIdentity>,
) -> Result<Arc<ClientConfig>> {
    client_config_with(anchors, identity, &TlsOptions::default())
}

/// [`client_config`] with explicit [`TlsOptions`].
pub fn client_config_with(
    anchors: &TrustAnchors,
    identity: Option<&ClientIdentity>,
    options: &TlsOptions,
) -> Result<Arc<ClientConfig>> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(options.versions())
        .map_err(config_error)?
        .with_root_certificates(anchors.root_store());
    let config = match identity {
        Some(id) => builder
            .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
            .map_err(config_error)?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// A server configuration presenting `chain` (leaf first) with `key`.
///
/// With `client_auth` set, a client certificate chaining to those anchors is mandatory;
/// with `None`, no client certificate is requested.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_auth: Option<&TrustAnchors>,
) -> Result<Arc<ServerConfig>> {
    server_config_with(chain, key, client_auth, &TlsOptions::default())
}

/// [`server_config`] with explicit [`TlsOptions`].
pub fn server_config_with(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_auth: Option<&TrustAnchors>,
    options: &TlsOptions,
) -> Result<Arc<ServerConfig>> {
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(options.versions())
        .map_err(config_error)?;
    let builder = match client_auth {
        Some(anchors) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(anchors.root_store(), provider)
                    .build()
                    .map_err(|e| NetError::TlsConfig(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder.with_single_cert(chain, key).map_err(config_error)?;
    Ok(Arc::new(config))
}

/// Reads a server certificate chain (leaf first) and its private key from PEM.
pub fn server_identity_from_pem(
    chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let chain = certs_from_pem(chain_pem, "server certificate")?;
    let key = key_from_pem(key_pem)?;
    check_certified_key(&chain, &key, "server certificate")?;
    Ok((chain, key))
}

// ---- helpers -----------------------------------------------------------------------------

fn config_error(e: rustls::Error) -> NetError {
    NetError::TlsConfig(e.to_string())
}

fn read_file(path: &Path, what: &'static str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| NetError::ReadFile {
        what,
        path: path.display().to_string(),
        source,
    })
}

fn certs_from_pem(pem: &[u8], context: &str) -> Result<Vec<CertificateDer<'static>>> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| NetError::Certificate {
            context: context.to_owned(),
            detail: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(NetError::Certificate {
            context: context.to_owned(),
            detail: "no CERTIFICATE block in PEM".to_owned(),
        });
    }
    Ok(chain)
}

fn key_from_pem(pem: &[u8]) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| NetError::PrivateKey(e.to_string()))
}

fn check_certified_key(
    chain: &[CertificateDer<'static>],
    key: &PrivateKeyDer<'static>,
    context: &str,
) -> Result<()> {
    let leaf = chain.first().ok_or_else(|| NetError::Certificate {
        context: context.to_owned(),
        detail: "empty certificate chain".to_owned(),
    })?;
    if parse_cert(leaf).is_none() {
        return Err(NetError::Certificate {
            context: context.to_owned(),
            detail: "not a valid X.509 certificate".to_owned(),
        });
    }
    rustls::sign::CertifiedKey::from_der(chain.to_vec(), key.clone_key(), &provider()).map_err(
        |e| match e {
            rustls::Error::InconsistentKeys(_) => {
                NetError::PrivateKey(format!("the private key does not match the {context}"))
            }
            other => NetError::PrivateKey(other.to_string()),
        },
    )?;
    Ok(())
}

fn parse_cert<'a>(der: &'a CertificateDer<'_>) -> Option<X509Certificate<'a>> {
    x509_parser::parse_x509_certificate(der.as_ref())
        .ok()
        .map(|(_, c)| c)
}

fn first_attr(name: &X509Name<'_>, oid: &Oid<'_>) -> Option<String> {
    name.iter_by_oid(oid)
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}

/// RFC 4514 string of a distinguished name: last RDN first, `,` between RDNs, `+` inside a
/// multi-valued RDN, special characters escaped, non-string values as `#` + hex DER.
pub(crate) fn rfc4514(name: &X509Name<'_>) -> String {
    let short: [(&Oid<'_>, &str); 9] = [
        (&OID_X509_COMMON_NAME, "CN"),
        (&OID_X509_LOCALITY_NAME, "L"),
        (&OID_X509_STATE_OR_PROVINCE_NAME, "ST"),
        (&OID_X509_ORGANIZATION_NAME, "O"),
        (&OID_X509_ORGANIZATIONAL_UNIT, "OU"),
        (&OID_X509_COUNTRY_NAME, "C"),
        (&OID_X509_STREET_ADDRESS, "STREET"),
        (&OID_DOMAIN_COMPONENT, "DC"),
        (&OID_USERID, "UID"),
    ];
    let rdns: Vec<String> = name
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let ty = short
                        .iter()
                        .find(|(oid, _)| *oid == atv.attr_type())
                        .map_or_else(|| atv.attr_type().to_id_string(), |(_, s)| (*s).to_owned());
                    let value = match atv.as_str() {
                        Ok(s) => escape_rfc4514(s),
                        Err(_) => {
                            let der = atv.attr_value().to_der_vec().unwrap_or_default();
                            format!("#{}", hex(&der))
                        }
                    };
                    format!("{ty}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn escape_rfc4514(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let last = s.chars().count().saturating_sub(1);
    for (i, c) in s.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' | ' ' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_certificates_is_no_trust_anchor() {
        let err = TrustAnchors::from_pem(b"nothing here\n", "test.pem").unwrap_err();
        assert!(
            matches!(err, NetError::NoTrustAnchor(ref s) if s == "test.pem"),
            "{err}"
        );
        let err = TrustAnchors::from_der(Vec::new()).unwrap_err();
        assert!(matches!(err, NetError::NoTrustAnchor(_)), "{err}");
    }

    #[test]
    fn garbage_pkcs12_is_refused() {
        let err = ClientIdentity::from_pkcs12(b"definitely not DER", "pw").unwrap_err();
        assert!(matches!(err, NetError::Pkcs12(_)), "{err}");
    }

    #[test]
    fn missing_file_names_path() {
        let err = TrustAnchors::from_pem_file("/nonexistent/anchors.pem").unwrap_err();
        assert!(matches!(err, NetError::ReadFile { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent/anchors.pem"));
    }

    fn self_signed(cn: &str) -> (rcgen::Certificate, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CountryName, "FR");
        dn.push(rcgen::DnType::OrganizationName, "ACME, Inc.");
        dn.push(rcgen::DnType::OrganizationalUnitName, "499999999");
        dn.push(rcgen::DnType::CommonName, cn);
        params.distinguished_name = dn;
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2040, 6, 30);
        (params.self_signed(&key).unwrap(), key)
    }

    #[test]
    fn identity_from_pem_reads_subject() {
        let (cert, key) = self_signed("INSI-AUTO");
        let id = ClientIdentity::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
            .unwrap();
        assert_eq!(id.subject_cn().as_deref(), Some("INSI-AUTO"));
        assert_eq!(id.subject_ou().as_deref(), Some("499999999"));
        assert_eq!(
            id.subject_dn().as_deref(),
            Some("CN=INSI-AUTO,OU=499999999,O=ACME\\, Inc.,C=FR")
        );
        assert_eq!(
            id.not_after().map(|d| d.to_rfc3339()),
            Some("2040-06-30T00:00:00+00:00".to_owned())
        );
        assert_eq!(id.chain().len(), 1);
        // Usable in both configurations.
        let anchors = TrustAnchors::from_pem(cert.pem().as_bytes(), "self").unwrap();
        assert_eq!(anchors.len(), 1);
        assert!(!anchors.is_empty());
        client_config(&anchors, Some(&id)).unwrap();
        let (chain, key) =
            server_identity_from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
                .unwrap();
        server_config(chain, key, Some(&anchors)).unwrap();
    }

    #[test]
    fn mismatched_key_is_refused() {
        let (cert, _) = self_signed("A");
        let (_, other_key) = self_signed("B");
        let err =
            ClientIdentity::from_pem(cert.pem().as_bytes(), other_key.serialize_pem().as_bytes())
                .unwrap_err();
        assert!(matches!(err, NetError::PrivateKey(_)), "{err}");
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_rfc4514(" a,b+c "), "\\ a\\,b\\+c\\ ");
        assert_eq!(escape_rfc4514("#x"), "\\#x");
    }
}
