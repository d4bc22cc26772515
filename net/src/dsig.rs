//! XML signatures ([XMLDSig 1.0]): enveloped RSA signatures over one element, as the VIHF
//! (`dmp.md` §4) and other SAML assertions need them.
//!
//! - [`Signer`]: anything that signs bytes with RSASSA-PKCS1-v1_5 SHA-256 and shows its X.509
//!   certificate, so that a CPS card can be plugged in later; [`Pkcs12Signer`] is the software
//!   one (the structure's "signature" ORG certificate, `signature.p12`, `dmp.md` §1).
//! - [`sign_enveloped`]: signs the element carrying `ID="x"` with an enveloped `ds:Signature`
//!   (exclusive c14n of `SignedInfo`, transforms enveloped-signature + exclusive c14n with an
//!   `InclusiveNamespaces PrefixList`, SHA-256 digest, RSA-SHA256, the certificate in
//!   `KeyInfo/X509Data`), put where the caller says (SAML: right after `saml:Issuer`, SAML 2.0
//!   core §5.4.1).
//! - [`verify_enveloped`]: checks such a signature wherever the element sits (e.g. the VIHF
//!   inside the `wsse:Security` header of a whole SOAP envelope), refusing duplicate IDs
//!   (signature wrapping), any transform other than enveloped-signature and c14n, more than one
//!   reference, and a reference that is not the element itself. SHA-1 digests and RSA-SHA1 are
//!   accepted for verification only, and flagged ([`VerifiedSignature::uses_sha1`]).
//!
//! The certificate found in `KeyInfo` is returned, **not** validated: the caller checks it
//! against its trust anchors (IGC-Santé, or the sandbox CA).
//!
//! [XMLDSig 1.0]: https://www.w3.org/TR/xmldsig-core/

use std::fmt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{self as rs, RsaKeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION;

use crate::c14n::{self, Document, ElementRef, ElementSpan, Method, Subset};
use crate::error::{NetError, Result};
use crate::tls::ClientIdentity;
use crate::xml::XmlLimits;

/// Namespace of XMLDSig 1.0 (`ds`).
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The enveloped-signature transform (XMLDSig §6.6.4).
pub const ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 6931 §2.3.2).
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// RSASSA-PKCS1-v1_5 with SHA-384 (RFC 6931 §2.3.2).
pub const RSA_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384";
/// RSASSA-PKCS1-v1_5 with SHA-512 (RFC 6931 §2.3.2).
pub const RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
/// RSASSA-PKCS1-v1_5 with SHA-1 (XMLDSig §6.4.2): verification only.
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
/// SHA-256 digest (XML Encryption §5.7.2).
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
/// SHA-384 digest (RFC 6931 §2.1.3).
pub const SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#sha384";
/// SHA-512 digest (XML Encryption §5.7.4).
pub const SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";
/// SHA-1 digest (XMLDSig §6.2.1): verification only.
pub const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

// ---- algorithms -----------------------------------------------------------------------------

/// A reference digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// SHA-1 (legacy, verification only).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// The algorithm of a `DigestMethod` URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Some(match uri {
            SHA1 => Self::Sha1,
            SHA256 => Self::Sha256,
            SHA384 => Self::Sha384,
            SHA512 => Self::Sha512,
            _ => return None,
        })
    }

    /// The `DigestMethod` URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::Sha1 => SHA1,
            Self::Sha256 => SHA256,
            Self::Sha384 => SHA384,
            Self::Sha512 => SHA512,
        }
    }

    fn digest(self, data: &[u8]) -> ring::digest::Digest {
        let alg = match self {
            Self::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha256 => &ring::digest::SHA256,
            Self::Sha384 => &ring::digest::SHA384,
            Self::Sha512 => &ring::digest::SHA512,
        };
        ring::digest::digest(alg, data)
    }
}

/// A `SignatureMethod` (RSASSA-PKCS1-v1_5 only: the IGC-Santé keys are RSA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// RSA-SHA1 (legacy, verification only; DRIMbox/OpenSAML still use it, `dmp.md` §4).
    RsaSha1,
    /// RSA-SHA256.
    RsaSha256,
    /// RSA-SHA384.
    RsaSha384,
    /// RSA-SHA512.
    RsaSha512,
}

impl SignatureAlgorithm {
    /// The algorithm of a `SignatureMethod` URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Some(match uri {
            RSA_SHA1 => Self::RsaSha1,
            RSA_SHA256 => Self::RsaSha256,
            RSA_SHA384 => Self::RsaSha384,
            RSA_SHA512 => Self::RsaSha512,
            _ => return None,
        })
    }

    /// The `SignatureMethod` URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::RsaSha1 => RSA_SHA1,
            Self::RsaSha256 => RSA_SHA256,
            Self::RsaSha384 => RSA_SHA384,
            Self::RsaSha512 => RSA_SHA512,
        }
    }

    fn verification(self) -> &'static rs::RsaParameters {
        match self {
            Self::RsaSha1 => &rs::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            Self::RsaSha256 => &rs::RSA_PKCS1_2048_8192_SHA256,
            Self::RsaSha384 => &rs::RSA_PKCS1_2048_8192_SHA384,
            Self::RsaSha512 => &rs::RSA_PKCS1_2048_8192_SHA512,
        }
    }
}

// ---- signers --------------------------------------------------------------------------------

/// Signs with an RSA key and shows the matching X.509 certificate: a software key
/// ([`Pkcs12Signer`]) or, later, a CPS card.
pub trait Signer: Send + Sync {
    /// The signing certificate, DER.
    fn certificate_der(&self) -> &[u8];

    /// An RSASSA-PKCS1-v1_5 SHA-256 signature of `data` (RFC 8017 §8.2), as many bytes as the
    /// modulus.
    fn sign_rsa_sha256(&self, data: &[u8]) -> Result<Vec<u8>>;

    /// The certificate subject as an RFC 4514 string (last RDN first, e.g.
    /// `CN=SEGUR SANDBOX CACHET,OU=...,O=...,C=FR`): the SAML `Issuer` of the VIHF
    /// (`dmp.md` §4, format `X509SubjectName`).
    fn subject_dn(&self) -> Result<String> {
        subject_dn_of(self.certificate_der())
    }
}

/// The RFC 4514 subject of a DER certificate.
pub fn subject_dn_of(cert_der: &[u8]) -> Result<String> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(cert_der).map_err(|e| NetError::Certificate {
            context: "signing certificate".into(),
            detail: e.to_string(),
        })?;
    Ok(crate::tls::rfc4514(cert.subject()))
}

/// The RSAPublicKey (RFC 8017 A.1.1) of a certificate, or why it cannot be used.
fn rsa_public_key(cert_der: &[u8], context: &str) -> Result<Vec<u8>> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(cert_der).map_err(|e| NetError::Certificate {
            context: context.to_owned(),
            detail: e.to_string(),
        })?;
    let spki = cert.public_key();
    if spki.algorithm.algorithm != OID_PKCS1_RSAENCRYPTION {
        return Err(NetError::UnsupportedAlgorithm {
            what: "public key (RSA required)",
            uri: key_kind(&spki.algorithm.algorithm.to_id_string()),
        });
    }
    Ok(spki.subject_public_key.data.to_vec())
}

fn key_kind(oid: &str) -> String {
    match oid {
        "1.2.840.10045.2.1" => "EC (id-ecPublicKey)".to_owned(),
        "1.3.101.112" => "Ed25519".to_owned(),
        other => format!("OID {other}"),
    }
}

/// A software RSA signer from a PKCS#12 archive (the structure's signing "cachet" ORG
/// certificate, `dmp.md` §1), signing with `ring`.
pub struct Pkcs12Signer {
    chain: Vec<CertificateDer<'static>>,
    key: RsaKeyPair,
    rng: SystemRandom,
}

impl fmt::Debug for Pkcs12Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs12Signer")
            .field("subject", &self.subject_dn().ok())
            .field("key", &"<private>")
            .finish()
    }
}

impl Pkcs12Signer {
    /// Opens a PKCS#12 archive (see [`ClientIdentity::from_pkcs12`] for the errors); a key that
    /// is not RSA is refused with [`NetError::UnsupportedAlgorithm`].
    pub fn from_pkcs12(der: &[u8], password: &str) -> Result<Self> {
        Self::from_identity(&ClientIdentity::from_pkcs12(der, password)?)
    }

    /// Reads a PKCS#12 file (see [`Pkcs12Signer::from_pkcs12`]).
    pub fn from_pkcs12_file(path: impl AsRef<Path>, password: &str) -> Result<Self> {
        Self::from_identity(&ClientIdentity::from_pkcs12_file(path, password)?)
    }

    /// Uses an identity already loaded (certificate chain and its private key).
    pub fn from_identity(identity: &ClientIdentity) -> Result<Self> {
        let leaf = identity
            .chain()
            .first()
            .ok_or_else(|| NetError::Pkcs12("no certificate".to_owned()))?;
        let public = rsa_public_key(leaf.as_ref(), "signing certificate")?;
        let key = match identity.private_key() {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => {
                return Err(NetError::UnsupportedAlgorithm {
                    what: "private key (RSA required)",
                    uri: "SEC1 EC key".to_owned(),
                })
            }
        }
        .map_err(|e| NetError::PrivateKey(format!("RSA signing key refused: {e}")))?;
        if key.public().as_ref() != public.as_slice() {
            return Err(NetError::PrivateKey(
                "the private key does not match the signing certificate".to_owned(),
            ));
        }
        Ok(Self {
            chain: identity.chain().to_vec(),
            key,
            rng: SystemRandom::new(),
        })
    }

    /// The certificate chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }
}

impl Signer for Pkcs12Signer {
    fn certificate_der(&self) -> &[u8] {
        self.chain.first().map_or(&[], |c| c.as_ref())
    }

    fn sign_rsa_sha256(&self, data: &[u8]) -> Result<Vec<u8>> {
        let mut sig = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(&rs::RSA_PKCS1_SHA256, &self.rng, data, &mut sig)
            .map_err(|_| NetError::Signing("RSA signature failed".to_owned()))?;
        Ok(sig)
    }
}

// ---- signing --------------------------------------------------------------------------------

/// Where the `ds:Signature` goes inside the signed element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position<'a> {
    /// First child.
    FirstChild,
    /// Right after the first child element with this namespace and local name (SAML 2.0 core
    /// §5.4.1 wants it after `saml:Issuer`).
    After {
        /// Namespace URI of the sibling.
        ns: &'a str,
        /// Local name of the sibling.
        local: &'a str,
    },
    /// Last child.
    LastChild,
}

/// Options of [`sign_enveloped`].
#[derive(Debug, Clone)]
pub struct SignOptions<'a> {
    /// The `InclusiveNamespaces PrefixList` of the reference's exclusive c14n transform
    /// (`"#default"` for the default namespace); empty: no `InclusiveNamespaces` element.
    pub prefix_list: &'a [&'a str],
    /// Where the signature goes.
    pub position: Position<'a>,
    /// Limits for reading the input.
    pub limits: XmlLimits,
}

impl Default for SignOptions<'_> {
    fn default() -> Self {
        Self {
            prefix_list: &[],
            position: Position::FirstChild,
            limits: XmlLimits::default(),
        }
    }
}

/// C14N attribute escaping (the `SignedInfo` below is written directly in canonical form).
fn push_attr(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// Signs the element whose `ID`/`Id`/`id` is `element_id` with an enveloped signature (module
/// documentation) and returns the whole document with the `ds:Signature` inserted. Nothing
/// else of the input changes (no whitespace is added), so the digest taken before insertion is
/// the one a verifier computes after the enveloped-signature transform.
pub fn sign_enveloped(
    xml: &str,
    element_id: &str,
    signer: &dyn Signer,
    options: &SignOptions<'_>,
) -> Result<String> {
    let doc = Document::parse(xml.as_bytes(), &options.limits)?;
    let el = doc.element_by_id(element_id)?;
    if el.elements().any(|c| c.is(DSIG_NS, "Signature")) {
        return Err(NetError::Signing(format!(
            "element {:?} already has a ds:Signature child",
            el.qname()
        )));
    }
    for p in options.prefix_list {
        let ok = !p.is_empty()
            && (*p == "#default"
                || p.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')));
        if !ok {
            return Err(NetError::Signing(format!(
                "invalid prefix {p:?} in the PrefixList"
            )));
        }
    }
    let span = el.span();
    let at = match options.position {
        _ if span.content_start == span.end => {
            return Err(NetError::Signing(
                "the signed element is an empty-element tag".to_owned(),
            ))
        }
        Position::FirstChild => span.content_start,
        Position::LastChild => span.content_end,
        Position::After { ns, local } => {
            el.child(ns, local)
                .ok_or_else(|| {
                    NetError::Signing(format!(
                        "no {{{ns}}}{local} child to put the signature after"
                    ))
                })?
                .span()
                .end
        }
    };

    let method = Method::exclusive(options.prefix_list);
    let canonical = doc.canonicalize(Subset::Element(el.id()), None, &method);
    let digest = B64.encode(DigestAlgorithm::Sha256.digest(&canonical));

    // SignedInfo, written in its exclusive canonical form so that it is signed as is.
    let mut si = String::with_capacity(1024);
    si.push_str("<ds:SignedInfo xmlns:ds=\"");
    si.push_str(DSIG_NS);
    si.push_str("\"><ds:CanonicalizationMethod Algorithm=\"");
    si.push_str(c14n::EXC_C14N);
    si.push_str("\"></ds:CanonicalizationMethod><ds:SignatureMethod Algorithm=\"");
    si.push_str(RSA_SHA256);
    si.push_str("\"></ds:SignatureMethod><ds:Reference URI=\"#");
    push_attr(&mut si, element_id);
    si.push_str("\"><ds:Transforms><ds:Transform Algorithm=\"");
    si.push_str(ENVELOPED_SIGNATURE);
    si.push_str("\"></ds:Transform><ds:Transform Algorithm=\"");
    si.push_str(c14n::EXC_C14N);
    si.push_str("\">");
    if let Some(list) = method.prefix_list() {
        si.push_str("<ec:InclusiveNamespaces xmlns:ec=\"");
        si.push_str(c14n::EXC_C14N_NS);
        si.push_str("\" PrefixList=\"");
        push_attr(&mut si, &list);
        si.push_str("\"></ec:InclusiveNamespaces>");
    }
    si.push_str("</ds:Transform></ds:Transforms><ds:DigestMethod Algorithm=\"");
    si.push_str(SHA256);
    si.push_str("\"></ds:DigestMethod><ds:DigestValue>");
    si.push_str(&digest);
    si.push_str("</ds:DigestValue></ds:Reference></ds:SignedInfo>");

    let signature = B64.encode(signer.sign_rsa_sha256(si.as_bytes())?);
    let cert = B64.encode(signer.certificate_der());

    let src = doc.source();
    let (before, after) = (src.get(..at), src.get(at..));
    let (Some(before), Some(after)) = (before, after) else {
        return Err(NetError::Signing("insertion point out of range".to_owned()));
    };
    let mut out = String::with_capacity(src.len() + si.len() + signature.len() + cert.len() + 256);
    out.push_str(before);
    out.push_str("<ds:Signature xmlns:ds=\"");
    out.push_str(DSIG_NS);
    out.push_str("\">");
    out.push_str(&si);
    out.push_str("<ds:SignatureValue>");
    out.push_str(&signature);
    out.push_str("</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>");
    out.push_str(&cert);
    out.push_str("</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>");
    out.push_str(after);
    Ok(out)
}

// ---- verification ---------------------------------------------------------------------------

/// Options of [`verify_enveloped_with`].
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    /// Limits for reading the input.
    pub limits: XmlLimits,
    /// Accept SHA-1 digests and RSA-SHA1 (flagged in the result). Default: true.
    pub allow_sha1: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            limits: XmlLimits::default(),
            allow_sha1: true,
        }
    }
}

/// A signature that verified: who signed (the certificate, not yet validated against trust
/// anchors) and what (the element).
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// The ID of the signed element.
    pub element_id: String,
    /// The signer's certificate from `KeyInfo`, DER (to be checked against trust anchors).
    pub certificate: Vec<u8>,
    /// The `SignatureMethod`.
    pub signature_algorithm: SignatureAlgorithm,
    /// The reference's `DigestMethod`.
    pub digest_algorithm: DigestAlgorithm,
    /// Where the signed element is in the input: read exactly that element, not another one
    /// found by name (signature wrapping).
    pub element_span: ElementSpan,
}

impl fmt::Debug for VerifiedSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedSignature")
            .field("element_id", &self.element_id)
            .field("signer", &self.subject_dn().ok())
            .field("signature_algorithm", &self.signature_algorithm)
            .field("digest_algorithm", &self.digest_algorithm)
            .finish()
    }
}

impl VerifiedSignature {
    /// The signer's subject, RFC 4514.
    pub fn subject_dn(&self) -> Result<String> {
        subject_dn_of(&self.certificate)
    }

    /// Whether SHA-1 was used (digest or signature): legacy, accepted for verification only.
    pub fn uses_sha1(&self) -> bool {
        self.signature_algorithm == SignatureAlgorithm::RsaSha1
            || self.digest_algorithm == DigestAlgorithm::Sha1
    }
}

/// Verifies the enveloped signature of the element whose `ID`/`Id`/`id` is `element_id`,
/// wherever it is in `xml` (the document element, or e.g. a SAML assertion inside the
/// `wsse:Security` header of a SOAP envelope). Default [`VerifyOptions`].
pub fn verify_enveloped(xml: &[u8], element_id: &str) -> Result<VerifiedSignature> {
    verify_enveloped_with(xml, element_id, &VerifyOptions::default())
}

/// [`verify_enveloped`] with explicit options.
pub fn verify_enveloped_with(
    xml: &[u8],
    element_id: &str,
    options: &VerifyOptions,
) -> Result<VerifiedSignature> {
    let doc = Document::parse(xml, &options.limits)?;
    verify_enveloped_in(&doc, element_id, options)
}

fn structure(detail: impl Into<String>) -> NetError {
    NetError::SignatureStructure(detail.into())
}

fn b64_decode(text: &str, what: &str) -> Result<Vec<u8>> {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    B64.decode(compact)
        .map_err(|_| structure(format!("{what} is not valid base64")))
}

fn algorithm<'d>(el: ElementRef<'d, '_>) -> Result<&'d str> {
    el.attr("Algorithm")
        .ok_or_else(|| structure(format!("{} without Algorithm", el.local_name())))
}

/// The c14n method of a `CanonicalizationMethod` or `Transform` element.
fn c14n_method(el: ElementRef<'_, '_>, what: &'static str) -> Result<Method> {
    let uri = algorithm(el)?;
    let prefixes = el
        .child(c14n::EXC_C14N_NS, "InclusiveNamespaces")
        .and_then(|i| i.attr("PrefixList"));
    Method::from_uri(uri, prefixes).ok_or_else(|| NetError::UnsupportedAlgorithm {
        what,
        uri: uri.to_owned(),
    })
}

/// [`verify_enveloped`] on a document already parsed (e.g. a SOAP envelope the caller also
/// reads).
pub fn verify_enveloped_in(
    doc: &Document<'_>,
    element_id: &str,
    options: &VerifyOptions,
) -> Result<VerifiedSignature> {
    let el = doc.element_by_id(element_id)?;
    let mut sigs = el.elements().filter(|e| e.is(DSIG_NS, "Signature"));
    let sig = sigs
        .next()
        .ok_or_else(|| structure("no ds:Signature child in the signed element"))?;
    if sigs.next().is_some() {
        return Err(structure(
            "more than one ds:Signature in the signed element",
        ));
    }

    // Signature ::= SignedInfo SignatureValue KeyInfo? Object* (XMLDSig §4.1).
    let mut parts = sig.elements();
    let signed_info = parts
        .next()
        .filter(|e| e.is(DSIG_NS, "SignedInfo"))
        .ok_or_else(|| structure("ds:SignedInfo missing or not first"))?;
    let signature_value = parts
        .next()
        .filter(|e| e.is(DSIG_NS, "SignatureValue"))
        .ok_or_else(|| structure("ds:SignatureValue missing or misplaced"))?;
    let key_info = parts
        .next()
        .filter(|e| e.is(DSIG_NS, "KeyInfo"))
        .ok_or(NetError::MissingKeyInfo)?;

    // SignedInfo ::= CanonicalizationMethod SignatureMethod Reference+ (XMLDSig §4.3).
    let mut si = signed_info.elements();
    let c14n_el = si
        .next()
        .filter(|e| e.is(DSIG_NS, "CanonicalizationMethod"))
        .ok_or_else(|| structure("ds:CanonicalizationMethod missing or not first"))?;
    let si_method = c14n_method(c14n_el, "canonicalization method")?;
    let sm_el = si
        .next()
        .filter(|e| e.is(DSIG_NS, "SignatureMethod"))
        .ok_or_else(|| structure("ds:SignatureMethod missing or misplaced"))?;
    let sm_uri = algorithm(sm_el)?;
    let signature_algorithm =
        SignatureAlgorithm::from_uri(sm_uri).ok_or_else(|| NetError::UnsupportedAlgorithm {
            what: "signature method",
            uri: sm_uri.to_owned(),
        })?;
    let references: Vec<ElementRef<'_, '_>> = si.collect();
    let expected = format!("#{element_id}");
    let found: Vec<String> = references
        .iter()
        .map(|r| r.attr("URI").unwrap_or_default().to_owned())
        .collect();
    let reference = match references.as_slice() {
        [r] if r.is(DSIG_NS, "Reference") && r.attr("URI") == Some(expected.as_str()) => *r,
        [r] if r.is(DSIG_NS, "Reference") => {
            return Err(NetError::ReferenceNotFound { expected, found })
        }
        [] => return Err(structure("no ds:Reference")),
        _ => {
            return Err(structure(
                "exactly one ds:Reference expected (SAML 2.0 core §5.4.2)",
            ))
        }
    };

    // Reference ::= Transforms? DigestMethod DigestValue (XMLDSig §4.3.3).
    let mut rparts = reference.elements().peekable();
    let mut enveloped = false;
    let mut method: Option<Method> = None;
    if let Some(transforms) = rparts.next_if(|e| e.is(DSIG_NS, "Transforms")) {
        for t in transforms.elements() {
            if !t.is(DSIG_NS, "Transform") {
                return Err(structure("unexpected element in ds:Transforms"));
            }
            let uri = algorithm(t)?;
            if uri == ENVELOPED_SIGNATURE && !enveloped && method.is_none() {
                enveloped = true;
            } else if method.is_none() && Method::from_uri(uri, None).is_some() {
                method = Some(c14n_method(t, "transform")?);
            } else {
                return Err(NetError::UnsupportedAlgorithm {
                    what: "transform (or transform order)",
                    uri: uri.to_owned(),
                });
            }
        }
    }
    let dm_el = rparts
        .next()
        .filter(|e| e.is(DSIG_NS, "DigestMethod"))
        .ok_or_else(|| structure("ds:DigestMethod missing or misplaced"))?;
    let dm_uri = algorithm(dm_el)?;
    let digest_algorithm =
        DigestAlgorithm::from_uri(dm_uri).ok_or_else(|| NetError::UnsupportedAlgorithm {
            what: "digest method",
            uri: dm_uri.to_owned(),
        })?;
    let dv_el = rparts
        .next()
        .filter(|e| e.is(DSIG_NS, "DigestValue"))
        .ok_or_else(|| structure("ds:DigestValue missing or misplaced"))?;
    if !options.allow_sha1
        && (digest_algorithm == DigestAlgorithm::Sha1
            || signature_algorithm == SignatureAlgorithm::RsaSha1)
    {
        return Err(NetError::UnsupportedAlgorithm {
            what: "SHA-1 algorithm (refused by policy)",
            uri: if digest_algorithm == DigestAlgorithm::Sha1 {
                dm_uri.to_owned()
            } else {
                sm_uri.to_owned()
            },
        });
    }

    // The key: KeyInfo/X509Data may carry the signer's chain in any order (xmlsec1 writes the
    // PKCS#12's CA certificates first), so the signer is the certificate whose key verifies the
    // SignedInfo signature (XMLDSig §4.4.4: "the order of certificates is not significant").
    let certificates = key_info
        .elements()
        .filter(|e| e.is(DSIG_NS, "X509Data"))
        .flat_map(|d| d.elements())
        .filter(|e| e.is(DSIG_NS, "X509Certificate"))
        .take(8)
        .map(|e| b64_decode(&e.text(), "X509Certificate"))
        .collect::<Result<Vec<_>>>()?;
    if certificates.is_empty() {
        return Err(NetError::MissingKeyInfo);
    }

    // 1. The signature over the canonical SignedInfo (XMLDSig §3.2.2).
    let canonical_si = doc.canonicalize(Subset::Element(signed_info.id()), None, &si_method);
    let sig_bytes = b64_decode(&signature_value.text(), "SignatureValue")?;
    let mut signer = None;
    let mut first_error = None;
    for cert in certificates {
        match rsa_public_key(&cert, "KeyInfo certificate") {
            Ok(public) => {
                if rs::UnparsedPublicKey::new(signature_algorithm.verification(), &public)
                    .verify(&canonical_si, &sig_bytes)
                    .is_ok()
                {
                    signer = Some(cert);
                    break;
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let certificate = match (signer, first_error) {
        (Some(c), _) => c,
        (None, Some(e)) => return Err(e),
        (None, None) => return Err(NetError::BadSignature),
    };

    // 2. The reference digest (XMLDSig §3.2.1): a same-document reference selects the element
    //    without comments; without a c14n transform the node-set becomes octets by C14N 1.0.
    let method = method
        .unwrap_or(Method::Inclusive {
            with_comments: false,
        })
        .without_comments();
    let exclude = enveloped.then(|| sig.id());
    let canonical = doc.canonicalize(Subset::Element(el.id()), exclude, &method);
    let expected_digest = b64_decode(&dv_el.text(), "DigestValue")?;
    if digest_algorithm.digest(&canonical).as_ref() != expected_digest.as_slice() {
        return Err(NetError::DigestMismatch {
            uri: format!("#{element_id}"),
        });
    }

    Ok(VerifiedSignature {
        element_id: element_id.to_owned(),
        certificate,
        signature_algorithm,
        digest_algorithm,
        element_span: el.span(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

    /// A self-signed RSA-2048 identity (generated once per test run).
    fn rsa_identity() -> &'static ClientIdentity {
        static ID: OnceLock<ClientIdentity> = OnceLock::new();
        ID.get_or_init(|| {
            use rsa::pkcs8::EncodePrivateKey as _;
            let key = rsa::PrivateKey::new(&mut rand::rngs::SysRng, 2048).unwrap();
            let der = key.to_pkcs8_der().unwrap().as_bytes().to_vec();
            let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(der.clone());
            let kp = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)
                .unwrap();
            let mut params = rcgen::CertificateParams::default();
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "TEST CACHET");
            params
                .distinguished_name
                .push(rcgen::DnType::OrganizationName, "T, \"S\"");
            let cert = params.self_signed(&kp).unwrap();
            ClientIdentity::new(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(rustls_pki_types::PrivatePkcs8KeyDer::from(der)),
            )
            .unwrap()
        })
    }

    fn signer() -> Pkcs12Signer {
        Pkcs12Signer::from_identity(rsa_identity()).unwrap()
    }

    const ASSERTION: &str = r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_a1" Version="2.0"><saml:Issuer>CN=X</saml:Issuer><saml:Subject><saml:NameID>8123</saml:NameID></saml:Subject><!-- c --><saml:AttributeStatement><saml:Attribute Name="a&amp;b"><saml:AttributeValue xsi:type="xs:string">1 &lt; 2 &#xD;</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>"#;

    fn sign(xml: &str) -> String {
        sign_enveloped(
            xml,
            "_a1",
            &signer(),
            &SignOptions {
                prefix_list: &["ds", "saml", "#default", "xsi"],
                position: Position::After {
                    ns: SAML,
                    local: "Issuer",
                },
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn signer_found_in_a_chain_in_any_order() {
        // xmlsec1 writes a PKCS#12's CA certificates before the signer's: the certificate that
        // verifies is the signer, wherever it stands.
        let signed = sign(ASSERTION);
        let other = rcgen::generate_simple_self_signed(vec!["ca.test".into()]).unwrap();
        let other_b64 = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(other.cert.der())
        };
        let with_chain = signed.replacen(
            "<ds:X509Data>",
            &format!("<ds:X509Data><ds:X509Certificate>{other_b64}</ds:X509Certificate>"),
            1,
        );
        let v = verify_enveloped(with_chain.as_bytes(), "_a1").unwrap();
        assert_eq!(v.certificate, rsa_identity().chain()[0].to_vec());
        // Only a foreign certificate: refused.
        let start = with_chain
            .find("</ds:X509Certificate><ds:X509Certificate>")
            .unwrap()
            + "</ds:X509Certificate>".len();
        let end = with_chain.find("</ds:X509Data>").unwrap();
        let only_other = format!("{}{}", &with_chain[..start], &with_chain[end..]);
        assert!(verify_enveloped(only_other.as_bytes(), "_a1").is_err());
    }

    #[test]
    fn sign_then_verify() {
        let signed = sign(ASSERTION);
        // Inserted right after Issuer, nothing else changed.
        let start = signed.find("<ds:Signature").unwrap();
        assert!(signed[..start].ends_with("</saml:Issuer>"));
        let end = signed.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        assert_eq!(format!("{}{}", &signed[..start], &signed[end..]), ASSERTION);
        assert!(signed.contains(r#"PrefixList="ds saml #default xsi""#));

        let v = verify_enveloped(signed.as_bytes(), "_a1").unwrap();
        assert_eq!(v.element_id, "_a1");
        assert_eq!(v.certificate, rsa_identity().chain()[0].as_ref());
        assert_eq!(v.signature_algorithm, SignatureAlgorithm::RsaSha256);
        assert_eq!(v.digest_algorithm, DigestAlgorithm::Sha256);
        assert!(!v.uses_sha1());
        assert_eq!(v.element_span.start, 0);
        assert_eq!(v.element_span.end, signed.len());
        assert_eq!(v.subject_dn().unwrap(), r#"O=T\, \"S\",CN=TEST CACHET"#);
        assert_eq!(signer().subject_dn().unwrap(), v.subject_dn().unwrap());
    }

    fn envelope(signed: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns="urn:default" xmlns:ds="urn:not-dsig" xmlns:x="urn:x">
  <soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">{signed}</wsse:Security></soap:Header>
  <soap:Body><x:Req/></soap:Body>
</soap:Envelope>"#
        )
    }

    /// Exclusive c14n makes the signature independent of where the element is put, for every
    /// prefix the element declares itself; a listed prefix (here `#default` and `ds`) bound by
    /// the envelope is rendered and changes the digest, as exc-c14n §3 says.
    #[test]
    fn verifies_inside_an_envelope_with_other_namespaces() {
        let signed = sign_enveloped(
            ASSERTION,
            "_a1",
            &signer(),
            &SignOptions {
                prefix_list: &["saml", "xsi"],
                ..Default::default()
            },
        )
        .unwrap();
        let env = envelope(&signed);
        let v = verify_enveloped(env.as_bytes(), "_a1").unwrap();
        let span = v.element_span;
        assert_eq!(&env[span.start..span.end], signed);

        let listed = sign(ASSERTION);
        verify_enveloped(listed.as_bytes(), "_a1").unwrap();
        assert!(matches!(
            verify_enveloped(envelope(&listed).as_bytes(), "_a1"),
            Err(NetError::DigestMismatch { .. })
        ));
    }

    #[test]
    fn one_byte_changes_are_caught() {
        let signed = sign(ASSERTION);
        // Signed content.
        let bad = signed.replace("<saml:NameID>8123<", "<saml:NameID>8124<");
        assert!(matches!(
            verify_enveloped(bad.as_bytes(), "_a1"),
            Err(NetError::DigestMismatch { .. })
        ));
        // An attribute value of the signed element.
        let bad = signed.replace(r#"Version="2.0""#, r#"Version="2.1""#);
        assert!(matches!(
            verify_enveloped(bad.as_bytes(), "_a1"),
            Err(NetError::DigestMismatch { .. })
        ));
        // The digest value (covered by the signature).
        let dv = signed.find("<ds:DigestValue>").unwrap() + "<ds:DigestValue>".len();
        let mut bad = signed.clone().into_bytes();
        bad[dv] = if bad[dv] == b'A' { b'B' } else { b'A' };
        assert!(matches!(
            verify_enveloped(&bad, "_a1"),
            Err(NetError::BadSignature)
        ));
        // The signature value.
        let sv = signed.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len() + 10;
        let mut bad = signed.clone().into_bytes();
        bad[sv] = if bad[sv] == b'A' { b'B' } else { b'A' };
        assert!(matches!(
            verify_enveloped(&bad, "_a1"),
            Err(NetError::BadSignature)
        ));
        // A comment is not signed content (same-document reference: no comments).
        let ok = signed.replace("<!-- c -->", "<!-- changed -->");
        verify_enveloped(ok.as_bytes(), "_a1").unwrap();
    }

    #[test]
    fn wrapping_and_structure_attacks_are_refused() {
        let signed = sign(ASSERTION);
        // A second element with the same ID (the classic wrapping attack).
        let wrapped = format!(
            "<r>{signed}<saml:Assertion xmlns:saml=\"{SAML}\" ID=\"_a1\"><saml:Issuer>evil</saml:Issuer></saml:Assertion></r>"
        );
        assert!(matches!(
            verify_enveloped(wrapped.as_bytes(), "_a1"),
            Err(NetError::DuplicateId { count: 2, .. })
        ));
        // The reference must be the element itself.
        let moved = signed.replace(r##"URI="#_a1""##, r##"URI="#_other""##);
        assert!(matches!(
            verify_enveloped(moved.as_bytes(), "_a1"),
            Err(NetError::ReferenceNotFound { .. })
        ));
        assert!(matches!(
            verify_enveloped(signed.as_bytes(), "_nope"),
            Err(NetError::XmlIdNotFound { .. })
        ));
        // No KeyInfo.
        let k0 = signed.find("<ds:KeyInfo>").unwrap();
        let k1 = signed.find("</ds:KeyInfo>").unwrap() + "</ds:KeyInfo>".len();
        let nokey = format!("{}{}", &signed[..k0], &signed[k1..]);
        assert!(matches!(
            verify_enveloped(nokey.as_bytes(), "_a1"),
            Err(NetError::MissingKeyInfo)
        ));
        // An XPath transform is not supported.
        let xpath = signed.replace(
            ENVELOPED_SIGNATURE,
            "http://www.w3.org/TR/1999/REC-xpath-19991116",
        );
        assert!(matches!(
            verify_enveloped(xpath.as_bytes(), "_a1"),
            Err(NetError::UnsupportedAlgorithm { .. })
        ));
        // An unknown digest method.
        let md5 = signed.replace(SHA256, "http://www.w3.org/2001/04/xmldsig-more#md5");
        assert!(matches!(
            verify_enveloped(md5.as_bytes(), "_a1"),
            Err(NetError::UnsupportedAlgorithm { .. })
        ));
        // No signature at all.
        assert!(matches!(
            verify_enveloped(ASSERTION.as_bytes(), "_a1"),
            Err(NetError::SignatureStructure(_))
        ));
    }

    #[test]
    fn signing_refusals() {
        let s = signer();
        let opts = SignOptions::default();
        assert!(matches!(
            sign_enveloped(r#"<a ID="x"/>"#, "x", &s, &opts),
            Err(NetError::Signing(_))
        ));
        let signed = sign_enveloped(r#"<a ID="x">t</a>"#, "x", &s, &opts).unwrap();
        assert!(signed.starts_with(r#"<a ID="x"><ds:Signature"#));
        assert!(matches!(
            sign_enveloped(&signed, "x", &s, &opts),
            Err(NetError::Signing(_))
        ));
        let after = SignOptions {
            position: Position::After {
                ns: SAML,
                local: "Issuer",
            },
            ..Default::default()
        };
        assert!(matches!(
            sign_enveloped(r#"<a ID="x">t</a>"#, "x", &s, &after),
            Err(NetError::Signing(_))
        ));
        let bad_list = SignOptions {
            prefix_list: &["a\"b"],
            ..Default::default()
        };
        assert!(matches!(
            sign_enveloped(r#"<a ID="x">t</a>"#, "x", &s, &bad_list),
            Err(NetError::Signing(_))
        ));
        let last = SignOptions {
            position: Position::LastChild,
            ..Default::default()
        };
        let signed = sign_enveloped(r#"<a ID="x"><b/>t</a>"#, "x", &s, &last).unwrap();
        assert!(signed.ends_with("</ds:Signature></a>"), "{signed}");
        verify_enveloped(signed.as_bytes(), "x").unwrap();
    }

    #[test]
    fn non_rsa_keys_are_refused() {
        let kp = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::default()
            .self_signed(&kp)
            .unwrap();
        let id = ClientIdentity::new(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(rustls_pki_types::PrivatePkcs8KeyDer::from(
                kp.serialize_der(),
            )),
        )
        .unwrap();
        let err = Pkcs12Signer::from_identity(&id).unwrap_err();
        assert!(
            matches!(err, NetError::UnsupportedAlgorithm { ref uri, .. } if uri.starts_with("EC")),
            "{err}"
        );
    }

    #[test]
    fn sha1_can_be_refused_by_policy() {
        let signed = sign(ASSERTION).replace(RSA_SHA256, RSA_SHA1);
        let strict = VerifyOptions {
            allow_sha1: false,
            ..Default::default()
        };
        assert!(matches!(
            verify_enveloped_with(signed.as_bytes(), "_a1", &strict),
            Err(NetError::UnsupportedAlgorithm { .. })
        ));
        // Allowed by default, but this one was not made with SHA-1.
        assert!(matches!(
            verify_enveloped(signed.as_bytes(), "_a1"),
            Err(NetError::BadSignature)
        ));
    }
}
