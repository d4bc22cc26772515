//! The one error type of `segur-net`.
//!
//! Messages name what went wrong and where (a file, a phase, an element path), never the payload:
//! XML text content may carry patient identity, so it is never copied into an error.

use std::time::Duration;

/// Everything that can fail in transport, credentials, XML or SOAP handling.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    // ---- credentials and TLS -------------------------------------------------------------
    /// A file (certificate, key, PKCS#12, trust anchors) could not be read.
    #[error("cannot read {what} at {path}: {source}")]
    ReadFile {
        /// What the file was meant to hold ("PKCS#12 file", "trust anchors"...).
        what: &'static str,
        /// The path as given.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No usable certificate was found where trust anchors were expected.
    #[error("no trust anchor found in {0}")]
    NoTrustAnchor(String),
    /// A certificate could not be parsed or used.
    #[error("invalid certificate ({context}): {detail}")]
    Certificate {
        /// Which certificate ("trust anchor 2", "client certificate"...).
        context: String,
        /// What is wrong.
        detail: String,
    },
    /// A PKCS#12 file could not be opened (bad password, MAC failure, no key, unsupported cipher).
    #[error("PKCS#12: {0}")]
    Pkcs12(String),
    /// A private key could not be parsed or is of an unsupported kind.
    #[error("private key: {0}")]
    PrivateKey(String),
    /// rustls refused to build a configuration (e.g. the key does not match the certificate).
    #[error("TLS configuration: {0}")]
    TlsConfig(String),

    // ---- HTTP transport ------------------------------------------------------------------
    /// The endpoint URL is not a valid `https://` URL.
    #[error("invalid endpoint URL {url:?}: {detail}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The TCP connection could not be established.
    #[error("cannot connect to {endpoint}: {detail}")]
    Connect {
        /// host:port.
        endpoint: String,
        /// The underlying error.
        detail: String,
    },
    /// The TLS handshake failed (unknown CA, expired certificate, wrong host name, client
    /// certificate refused by the peer...).
    #[error("TLS handshake with {endpoint} failed: {detail}")]
    TlsHandshake {
        /// host:port.
        endpoint: String,
        /// rustls' description of the failure.
        detail: String,
    },
    /// A phase of the exchange took longer than configured.
    #[error("timed out after {after:?} while {phase}")]
    Timeout {
        /// "connecting", "waiting for the response"...
        phase: &'static str,
        /// The configured limit.
        after: Duration,
    },
    /// The HTTP exchange failed after the connection was established.
    #[error("HTTP exchange with {endpoint} failed: {detail}")]
    Http {
        /// host:port.
        endpoint: String,
        /// The underlying error.
        detail: String,
    },
    /// The server answered with a status that carries no SOAP envelope.
    #[error("HTTP status {status} from {endpoint}")]
    HttpStatus {
        /// host:port.
        endpoint: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The response body exceeded the configured limit; the rest was not read.
    #[error("response larger than the {limit}-byte limit")]
    ResponseTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// A server could not be started (bind failure...).
    #[error("server: {0}")]
    Server(String),

    // ---- XML -----------------------------------------------------------------------------
    /// The document is larger than the configured limit.
    #[error("XML document of {size} bytes exceeds the {limit}-byte limit")]
    XmlTooLarge {
        /// Size of the input.
        size: usize,
        /// Limit in force.
        limit: usize,
    },
    /// Elements are nested deeper than the configured limit.
    #[error("XML nesting deeper than {limit} levels at {path}")]
    XmlTooDeep {
        /// Element path where the limit was hit.
        path: String,
        /// Limit in force.
        limit: usize,
    },
    /// A DOCTYPE (and therefore any entity declaration) was found: refused, to rule out entity
    /// expansion and external entity attacks.
    #[error("DOCTYPE and entity declarations are refused")]
    XmlDoctype,
    /// The document is not UTF-8 (by its declaration or its bytes).
    #[error("XML must be UTF-8: {0}")]
    XmlEncoding(String),
    /// The document is not well-formed.
    #[error("malformed XML at byte {position} (in {path}): {detail}")]
    XmlMalformed {
        /// Byte offset in the input.
        position: u64,
        /// Element path at that point.
        path: String,
        /// What the parser reported.
        detail: String,
    },
    /// The document ended before its root element was closed.
    #[error("XML truncated: {path} not closed")]
    XmlTruncated {
        /// The innermost element left open.
        path: String,
    },

    // ---- SOAP ----------------------------------------------------------------------------
    /// The message is well-formed XML but not a SOAP 1.2 envelope as expected.
    #[error("not a SOAP 1.2 message: {0}")]
    NotSoap(String),

    // ---- XML canonicalization and signature (c14n, dsig) ---------------------------------
    /// No element carries this `ID`/`Id`/`id` (a signature reference that points nowhere).
    #[error("no element with ID {id:?}")]
    XmlIdNotFound {
        /// The ID looked for (an XML identifier, never patient data).
        id: String,
    },
    /// Several elements carry the same ID: refused, since an XML signature checker could be
    /// made to verify one copy while the application reads another (signature wrapping).
    #[error("{count} elements carry the ID {id:?} (refused: possible signature wrapping)")]
    DuplicateId {
        /// The ID.
        id: String,
        /// How many elements carry it.
        count: usize,
    },
    /// The digest of a signature reference does not match the signed content (XMLDSig §3.2.1).
    #[error("XML signature: digest mismatch for reference {uri:?}")]
    DigestMismatch {
        /// The reference URI.
        uri: String,
    },
    /// The signature value does not verify with the key of the certificate (XMLDSig §3.2.2).
    #[error("XML signature: the signature value does not verify")]
    BadSignature,
    /// An algorithm (canonicalization, transform, digest, signature, key) is not supported.
    #[error("XML signature: unsupported {what} {uri:?}")]
    UnsupportedAlgorithm {
        /// Which algorithm slot ("digest method", "transform", "key"...).
        what: &'static str,
        /// The algorithm URI (or key type).
        uri: String,
    },
    /// The signature carries no `KeyInfo/X509Data/X509Certificate`.
    #[error("XML signature: no KeyInfo/X509Data/X509Certificate")]
    MissingKeyInfo,
    /// The signature reference does not designate the expected element.
    #[error("XML signature: no reference to {expected:?} (found {found:?})")]
    ReferenceNotFound {
        /// The URI expected (`#` + the element ID).
        expected: String,
        /// The reference URIs found.
        found: Vec<String>,
    },
    /// The `ds:Signature` is missing or malformed (names the element or part).
    #[error("XML signature: {0}")]
    SignatureStructure(String),
    /// Signing failed (the signer refused, the key is unusable, or the input cannot be signed).
    #[error("XML signing: {0}")]
    Signing(String),
}

/// Result alias of this crate.
pub type Result<T, E = NetError> = std::result::Result<T, E>;
