//! The submission-set signature (`dmp.md` §6; IHE DSG detached signature, XAdES 1.1.1
//! qualifying properties): a standalone `ds:Signature` document, sent as its own DocumentEntry
//! with a `signs` association to the submission set.
//!
//! Structure: `SignedInfo` references `#IHEManifest` (Type `…#Manifest`) and the XAdES
//! `SignedProperties` (Type `http://uri.etsi.org/01903/v1.1.1#SignedProperties`);
//! `ds:Object/ds:Manifest Id="IHEManifest"` holds one Reference per document
//! (`URI="urn:oid:<DocumentEntry.uniqueId>"`, digest of the bytes sent) and one for the submission
//! set (`URI="urn:oid:<SubmissionSet.uniqueId>"`); `ds:Object/ds:SignatureProperties` holds
//! `purposeOfSignature` = `1.2.840.10065.1.12.1.14` (Source); `ds:Object/QualifyingProperties`
//! holds SigningTime, SigningCertificate (CertDigest + IssuerSerial) and SignaturePolicyImplied.
//!
//! Algorithms (choice, `dmp.md` §6 \[?\]): exclusive c14n (`SignedInfo` and both references, as
//! the VIHF), SHA-256 digests, RSA-SHA256 — where DRIMbox uses inclusive c14n with comments and
//! SHA-1. \[I\] The manifest digest of a document is over its bytes as sent (no transform); the
//! submission set's is over the exclusive c14n of its `rim:RegistryPackage` as sent.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use segur_net::c14n::{self, Method};
use segur_net::dsig::{Signer, DSIG_NS, RSA_SHA256, SHA256};
use segur_net::xml::{escape, Element, XmlLimits};
use sha2::{Digest, Sha256};

use super::ebrim::attr;
use super::ids::PURPOSE_SOURCE;
use crate::error::{DmpError, Result};

/// XAdES 1.1.1 namespace (`dmp.md` §6).
pub const XADES_NS: &str = "http://uri.etsi.org/01903/v1.1.1#";
/// Reference type of the XAdES SignedProperties (XAdES 1.1.1 §6.2.1).
pub const SIGNED_PROPERTIES_TYPE: &str = "http://uri.etsi.org/01903/v1.1.1#SignedProperties";
/// Reference type of a manifest (XMLDSig §5.1).
pub const MANIFEST_TYPE: &str = "http://www.w3.org/2000/09/xmldsig#Manifest";
/// Id of the manifest (IHE DSG).
pub const MANIFEST_ID: &str = "IHEManifest";
/// Id of the XAdES SignedProperties.
pub const SIGNED_PROPERTIES_ID: &str = "S0-SignedProperties";

fn limits() -> XmlLimits {
    XmlLimits {
        max_bytes: 4 * 1024 * 1024,
        ..XmlLimits::default()
    }
}

fn exclusive() -> Method {
    Method::exclusive(&[])
}

/// Base64 SHA-256.
fn digest(bytes: &[u8]) -> String {
    B64.encode(Sha256::digest(bytes))
}

/// What the manifest references: `urn:oid:<uniqueId>` and the bytes digested.
#[derive(Debug, Clone, Copy)]
pub struct ManifestItem<'a> {
    /// The uniqueId (an OID; `root^extension` uniqueIds are written as given).
    pub unique_id: &'a str,
    /// The bytes whose SHA-256 is recorded.
    pub bytes: &'a [u8],
}

/// The exclusive c14n of a `rim:RegistryPackage` fragment written with the `rim:` prefix
/// undeclared (as in the ITI-41 body): what the manifest digests for the submission set.
pub(crate) fn canonical_fragment(fragment: &str, prefix: &str, ns: &str) -> Result<Vec<u8>> {
    let open = format!("<{prefix}:");
    let rest = fragment.strip_prefix(open.as_str()).ok_or_else(|| {
        DmpError::Signature("fragment to digest does not start with its element".into())
    })?;
    let name_end = rest
        .find([' ', '>', '/'])
        .ok_or_else(|| DmpError::Signature("fragment to digest is not an element".into()))?;
    let (name, tail) = rest.split_at(name_end);
    let standalone = format!("<{prefix}:{name} xmlns:{prefix}=\"{ns}\"{tail}");
    Ok(c14n::canonicalize(
        standalone.as_bytes(),
        &exclusive(),
        &limits(),
    )?)
}

/// RFC 4514 issuer name and decimal serial number of a DER certificate (XMLDSig §4.4.4).
fn issuer_serial(cert_der: &[u8]) -> Result<(String, String)> {
    use x509_parser::der_parser::asn1_rs::ToDer as _;
    use x509_parser::oid_registry as oids;
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| DmpError::Signature(format!("signing certificate unreadable: {e}")))?;
    let names = [
        (oids::OID_X509_COMMON_NAME, "CN"),
        (oids::OID_X509_LOCALITY_NAME, "L"),
        (oids::OID_X509_STATE_OR_PROVINCE_NAME, "ST"),
        (oids::OID_X509_ORGANIZATION_NAME, "O"),
        (oids::OID_X509_ORGANIZATIONAL_UNIT, "OU"),
        (oids::OID_X509_COUNTRY_NAME, "C"),
        (oids::OID_X509_STREET_ADDRESS, "STREET"),
        (oids::OID_DOMAIN_COMPONENT, "DC"),
    ];
    let mut rdns: Vec<String> = Vec::new();
    for rdn in cert.issuer().iter() {
        let mut parts = Vec::new();
        for atv in rdn.iter() {
            let ty = names
                .iter()
                .find(|(oid, _)| oid == atv.attr_type())
                .map_or_else(|| atv.attr_type().to_id_string(), |(_, s)| (*s).to_owned());
            let value = match atv.as_str() {
                Ok(s) => escape_rfc4514(s),
                Err(_) => {
                    let der = atv.attr_value().to_der_vec().unwrap_or_default();
                    format!(
                        "#{}",
                        der.iter().map(|b| format!("{b:02x}")).collect::<String>()
                    )
                }
            };
            parts.push(format!("{ty}={value}"));
        }
        rdns.push(parts.join("+"));
    }
    rdns.reverse();
    Ok((rdns.join(","), cert.tbs_certificate.serial.to_string()))
}

/// RFC 4514 §2.4 escaping.
fn escape_rfc4514(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let last = s.chars().count().saturating_sub(1);
    for (i, c) in s.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn reference(out: &mut String, uri: &str, kind: Option<&str>, transform: bool, digest: &str) {
    out.push_str("<ds:Reference");
    if let Some(t) = kind {
        attr(out, "Type", t);
    }
    attr(out, "URI", uri);
    out.push('>');
    if transform {
        out.push_str("<ds:Transforms><ds:Transform");
        attr(out, "Algorithm", c14n::EXC_C14N);
        out.push_str("></ds:Transform></ds:Transforms>");
    }
    out.push_str("<ds:DigestMethod");
    attr(out, "Algorithm", SHA256);
    out.push_str("></ds:DigestMethod><ds:DigestValue>");
    out.push_str(digest);
    out.push_str("</ds:DigestValue></ds:Reference>");
}

/// Builds and signs the submission-set signature document (see the module documentation).
/// `signature_id` is the `ds:Signature/@Id` (an XML NCName); `submission_set` is the submission
/// set's uniqueId and the canonical bytes of its RegistryPackage; `documents` the documents of
/// the submission.
pub fn sign_submission_set(
    signature_id: &str,
    submission_set: ManifestItem<'_>,
    documents: &[ManifestItem<'_>],
    signer: &dyn Signer,
    signing_time: DateTime<Utc>,
) -> Result<Vec<u8>> {
    if signature_id.is_empty()
        || !signature_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || signature_id.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
    {
        return Err(DmpError::Invalid {
            field: "signature Id",
            detail: "must be an XML NCName".into(),
        });
    }
    let cert = signer.certificate_der();
    let (issuer, serial) = issuer_serial(cert)?;

    // The objects, written in canonical form (start-end pairs, no superfluous declarations).
    let mut manifest = String::with_capacity(512 + 256 * documents.len());
    manifest.push_str("<ds:Object><ds:Manifest");
    attr(&mut manifest, "Id", MANIFEST_ID);
    manifest.push('>');
    for d in documents {
        reference(
            &mut manifest,
            &format!("urn:oid:{}", d.unique_id),
            None,
            false,
            &digest(d.bytes),
        );
    }
    reference(
        &mut manifest,
        &format!("urn:oid:{}", submission_set.unique_id),
        None,
        false,
        &digest(submission_set.bytes),
    );
    manifest.push_str("</ds:Manifest></ds:Object>");

    let mut props = String::with_capacity(1024);
    props.push_str("<ds:Object><xades:QualifyingProperties");
    attr(&mut props, "Target", &format!("#{signature_id}"));
    props.push_str("><xades:SignedProperties");
    attr(&mut props, "Id", SIGNED_PROPERTIES_ID);
    props.push_str("><xades:SignedSignatureProperties><xades:SigningTime>");
    props.push_str(&signing_time.to_rfc3339_opts(SecondsFormat::Secs, true));
    props.push_str("</xades:SigningTime><xades:SigningCertificate><xades:Cert><xades:CertDigest><ds:DigestMethod");
    attr(&mut props, "Algorithm", SHA256);
    props.push_str("></ds:DigestMethod><ds:DigestValue>");
    props.push_str(&digest(cert));
    props.push_str("</ds:DigestValue></xades:CertDigest><xades:IssuerSerial><ds:X509IssuerName>");
    props.push_str(&escape(&issuer));
    props.push_str("</ds:X509IssuerName><ds:X509SerialNumber>");
    props.push_str(&serial);
    props.push_str(
        "</ds:X509SerialNumber></xades:IssuerSerial></xades:Cert></xades:SigningCertificate>",
    );
    props.push_str("<xades:SignaturePolicyIdentifier><xades:SignaturePolicyImplied></xades:SignaturePolicyImplied></xades:SignaturePolicyIdentifier>");
    props.push_str("</xades:SignedSignatureProperties></xades:SignedProperties></xades:QualifyingProperties></ds:Object>");

    let mut purpose = String::with_capacity(256);
    purpose.push_str("<ds:Object><ds:SignatureProperties><ds:SignatureProperty");
    attr(&mut purpose, "Id", "purposeOfSignature");
    attr(&mut purpose, "Target", &format!("#{signature_id}"));
    purpose.push('>');
    purpose.push_str(PURPOSE_SOURCE);
    purpose.push_str("</ds:SignatureProperty></ds:SignatureProperties></ds:Object>");

    let assemble = |signed_info: &str, value: &str| {
        let mut s = String::with_capacity(
            signed_info.len() + manifest.len() + props.len() + purpose.len() + 4096,
        );
        s.push_str("<ds:Signature");
        attr(&mut s, "xmlns:ds", DSIG_NS);
        attr(&mut s, "xmlns:xades", XADES_NS);
        attr(&mut s, "Id", signature_id);
        s.push('>');
        s.push_str(signed_info);
        s.push_str("<ds:SignatureValue>");
        s.push_str(value);
        s.push_str("</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>");
        s.push_str(&B64.encode(cert));
        s.push_str("</ds:X509Certificate></ds:X509Data></ds:KeyInfo>");
        s.push_str(&props);
        s.push_str(&purpose);
        s.push_str(&manifest);
        s.push_str("</ds:Signature>");
        s
    };

    // Digests of the two referenced elements, in the document's own context.
    let draft = assemble("", "");
    let m = c14n::canonicalize_by_id(draft.as_bytes(), MANIFEST_ID, &exclusive(), &limits())?;
    let p = c14n::canonicalize_by_id(
        draft.as_bytes(),
        SIGNED_PROPERTIES_ID,
        &exclusive(),
        &limits(),
    )?;
    let mut signed_info = String::with_capacity(1024);
    signed_info.push_str("<ds:SignedInfo><ds:CanonicalizationMethod");
    attr(&mut signed_info, "Algorithm", c14n::EXC_C14N);
    signed_info.push_str("></ds:CanonicalizationMethod><ds:SignatureMethod");
    attr(&mut signed_info, "Algorithm", RSA_SHA256);
    signed_info.push_str("></ds:SignatureMethod>");
    reference(
        &mut signed_info,
        &format!("#{MANIFEST_ID}"),
        Some(MANIFEST_TYPE),
        true,
        &digest(&m),
    );
    reference(
        &mut signed_info,
        &format!("#{SIGNED_PROPERTIES_ID}"),
        Some(SIGNED_PROPERTIES_TYPE),
        true,
        &digest(&p),
    );
    signed_info.push_str("</ds:SignedInfo>");
    // Exclusive c14n of SignedInfo depends only on what it uses: its standalone form.
    let si = canonical_fragment(&signed_info, "ds", DSIG_NS)?;
    let value = signer
        .sign_rsa_sha256(&si)
        .map_err(|e| DmpError::Signature(format!("submission set: {e}")))?;
    Ok(assemble(&signed_info, &B64.encode(value)).into_bytes())
}

/// Checks the manifest of a signature document against the objects it should reference: every
/// `urn:oid:` given must be referenced with the SHA-256 (or SHA-1) of its bytes, and nothing
/// else referenced (what a receiver does after the XMLDSig core validation, which leaves
/// manifests to the application, XMLDSig §5.1).
pub fn check_manifest(signature: &[u8], expected: &[ManifestItem<'_>]) -> Result<()> {
    let root = segur_net::xml::parse(signature, &limits())?;
    if !root.is(DSIG_NS, "Signature") {
        return Err(DmpError::Signature("not a ds:Signature document".into()));
    }
    let manifest: Option<&Element> = root
        .children_named(DSIG_NS, "Object")
        .filter_map(|o| o.child(DSIG_NS, "Manifest"))
        .find(|m| m.attr("Id") == Some(MANIFEST_ID));
    let manifest = manifest.ok_or_else(|| DmpError::Signature("no IHEManifest".into()))?;
    let refs: Vec<&Element> = manifest.children_named(DSIG_NS, "Reference").collect();
    if refs.len() != expected.len() {
        return Err(DmpError::Signature(format!(
            "manifest has {} references, {} expected",
            refs.len(),
            expected.len()
        )));
    }
    for item in expected {
        let uri = format!("urn:oid:{}", item.unique_id);
        let r = refs
            .iter()
            .find(|r| r.attr("URI") == Some(uri.as_str()))
            .ok_or_else(|| DmpError::Signature(format!("manifest does not reference {uri}")))?;
        let alg = r
            .child(DSIG_NS, "DigestMethod")
            .and_then(|d| d.attr("Algorithm"))
            .unwrap_or_default();
        let value = r.child_text(DSIG_NS, "DigestValue").unwrap_or_default();
        let computed = match alg {
            SHA256 => digest(item.bytes),
            segur_net::dsig::SHA1 => B64.encode(<sha1::Sha1 as sha1::Digest>::digest(item.bytes)),
            _ => return Err(DmpError::Signature("unsupported manifest digest".into())),
        };
        if computed != value {
            return Err(DmpError::Signature(format!(
                "manifest digest mismatch for {uri}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4514_escaping() {
        assert_eq!(escape_rfc4514("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape_rfc4514(" #x "), "\\ #x\\ ");
        assert_eq!(escape_rfc4514("#x"), "\\#x");
    }

    #[test]
    fn fragment_gets_its_namespace() {
        let c = canonical_fragment("<rim:A id=\"x\"><rim:B/></rim:A>", "rim", "urn:r").unwrap();
        assert_eq!(
            String::from_utf8(c).unwrap(),
            "<rim:A xmlns:rim=\"urn:r\" id=\"x\"><rim:B></rim:B></rim:A>"
        );
        assert!(canonical_fragment("<x:A/>", "rim", "urn:r").is_err());
    }
}
