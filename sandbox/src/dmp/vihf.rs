//! Checks of the VIHF, the SAML 2.0 assertion every DMP request carries in `wsse:Security`
//! (`dmp.md` §4): structure, mandatory attributes, validity times, enveloped XML signature, and the
//! signer certificate (issued by the sandbox PKI, a signing certificate, named by `Issuer`).
//!
//! Every refusal is a [`VihfError`] that names the missing or invalid element or attribute, never
//! its value; the services answer it as `DMP_VIHF_INVALIDE` (`docs/dmp-wire.md`).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use segur_net::dsig::{verify_enveloped_with, VerifyOptions};
use segur_net::soap::{Envelope, WSSE_NS};
use segur_net::xml::{Element, XmlLimits};
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::ebrim::{PatientId, HL7_NS};

/// SAML 2.0 assertion namespace.
pub const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// `subject-id` attribute name (XSPA).
pub const SUBJECT_ID: &str = "urn:oasis:names:tc:xspa:1.0:subject:subject-id";
/// `role` attribute name (XACML).
pub const ROLE: &str = "urn:oasis:names:tc:xacml:2.0:subject:role";
/// `purposeofuse` attribute name (XSPA).
pub const PURPOSE_OF_USE: &str = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse";
/// `resource-id` attribute name (XACML): the patient's INS as a CX string.
pub const RESOURCE_ID: &str = "urn:oasis:names:tc:xacml:2.0:resource:resource-id";
/// Code system of the access modes (TRE_R248-ModeAcces).
pub const PURPOSE_SYSTEM: &str = "1.2.250.1.213.1.1.4.248";
/// The INS OIDs accepted in `resource-id`: NIR, NIA, test NIR, test NIA (`ins.md`).
pub const INS_OIDS: [&str; 4] = [
    "1.2.250.1.213.1.4.8",
    "1.2.250.1.213.1.4.9",
    "1.2.250.1.213.1.4.10",
    "1.2.250.1.213.1.4.11",
];
/// Clock skew tolerated on the validity times.
const SKEW_MINUTES: i64 = 5;
/// Oldest `IssueInstant` accepted when the assertion has no `NotOnOrAfter` [I].
const MAX_AGE_HOURS: i64 = 24;

/// Access mode of the request (`purposeofuse`, TRE_R248).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurposeOfUse {
    /// `normal`: access under the professional's authorization.
    Normal,
    /// `bris_de_glace`: emergency access.
    BrisDeGlace,
    /// `centre_15`: SAMU regulation.
    Centre15,
}

/// How the structure authenticated the user (`Authentification_Mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// CPS card.
    Directe,
    /// The structure's certificate vouches for the user.
    Indirecte,
    /// AIR mode.
    IndirecteRenforcee,
}

/// A VIHF that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vihf {
    /// `Assertion/@ID`.
    pub assertion_id: String,
    /// `Subject/NameID`: the professional's national identifier.
    pub ps_id: String,
    /// `subject-id`: "Nom Prénom".
    pub subject_id: String,
    /// `Identifiant_Structure`.
    pub structure: String,
    /// `Secteur_Activite` (`code^system`).
    pub secteur: String,
    /// `role` values as (code, codeSystem).
    pub roles: Vec<(String, String)>,
    /// `purposeofuse`.
    pub purpose: PurposeOfUse,
    /// `resource-id`: the patient.
    pub patient: PatientId,
    /// `Authentification_Mode`.
    pub auth_mode: AuthMode,
    /// `LPS_Nom`.
    pub lps_nom: String,
    /// `LPS_Version`.
    pub lps_version: String,
    /// `LPS_ID_HOMOLOGATION_DMP`.
    pub homologation: String,
    /// The signer certificate (DER).
    pub signer: Vec<u8>,
}

/// Why a VIHF is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VihfError {
    /// A mandatory element or attribute is missing or empty.
    #[error("VIHF: {0} missing")]
    Missing(&'static str),
    /// An element or attribute has a value outside the profile.
    #[error("VIHF: invalid {0}")]
    Invalid(&'static str),
    /// The assertion is no longer valid.
    #[error("VIHF expired")]
    Expired,
    /// The assertion is not valid yet.
    #[error("VIHF not yet valid")]
    NotYetValid,
    /// The XML signature does not verify.
    #[error("VIHF signature: {0}")]
    Signature(String),
    /// The signer certificate is not acceptable.
    #[error("VIHF signer: {0}")]
    Signer(&'static str),
}

impl VihfError {
    /// The French `codeContext` / fault reason.
    pub fn reason(&self) -> String {
        match self {
            Self::Missing(what) => format!("VIHF invalide : {what} absent"),
            Self::Invalid(what) => format!("VIHF invalide : {what} incorrect"),
            Self::Expired => "VIHF invalide : assertion expirée".into(),
            Self::NotYetValid => "VIHF invalide : assertion pas encore valide".into(),
            Self::Signature(_) => "VIHF invalide : signature invalide".into(),
            Self::Signer(why) => format!("VIHF invalide : certificat de signature refusé ({why})"),
        }
    }
}

/// The certificates the sandbox trusts as VIHF signers' issuers (DER): the test root (self-signed)
/// and the intermediate CA of the sandbox PKI.
#[derive(Debug, Clone, Default)]
pub struct TrustedCas {
    /// Self-signed roots.
    pub roots: Vec<Vec<u8>>,
    /// Intermediate CAs (each must chain to a root).
    pub intermediates: Vec<Vec<u8>>,
}

/// Signer certificates already found to chain to the [`TrustedCas`], so that the CA signatures
/// (two ECDSA verifications per VIHF) are checked once per certificate, not once per request
/// (issue #5 point 10). Keyed by the SHA-256 of the certificate; an entry keeps the validity
/// window of the CAs of its chain, checked at every use. Bounded: cleared when full.
#[derive(Debug, Default)]
pub struct ChainCache {
    verified: Mutex<HashMap<[u8; 32], (i64, i64)>>,
}

impl ChainCache {
    /// Most certificates remembered.
    const MAX_ENTRIES: usize = 1024;

    fn lookup(&self, key: &[u8; 32], at: i64) -> bool {
        let map = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .is_some_and(|&(not_before, not_after)| not_before <= at && at <= not_after)
    }

    fn remember(&self, key: [u8; 32], window: (i64, i64)) {
        let mut map = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, window);
    }
}

/// Checks the VIHF of a request. `raw` is the envelope exactly as received (the signature is
/// verified over those bytes), `env` the parsed envelope, `now` the current time.
pub fn check(
    raw: &[u8],
    env: &Envelope,
    trust: &TrustedCas,
    limits: &XmlLimits,
    now: DateTime<Utc>,
) -> Result<Vihf, VihfError> {
    check_cached(raw, env, trust, &ChainCache::default(), limits, now)
}

/// [`check`], remembering in `chains` the signer certificates found to chain to `trust`.
pub fn check_cached(
    raw: &[u8],
    env: &Envelope,
    trust: &TrustedCas,
    chains: &ChainCache,
    limits: &XmlLimits,
    now: DateTime<Utc>,
) -> Result<Vihf, VihfError> {
    let security = env
        .header_block(WSSE_NS, "Security")
        .ok_or(VihfError::Missing("wsse:Security"))?;
    let a = security
        .child(SAML_NS, "Assertion")
        .ok_or(VihfError::Missing("saml:Assertion"))?;
    if a.attr("Version") != Some("2.0") {
        return Err(VihfError::Invalid("Assertion/@Version"));
    }
    let assertion_id = a
        .attr("ID")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(VihfError::Missing("Assertion/@ID"))?
        .to_owned();
    let issue = a
        .attr("IssueInstant")
        .ok_or(VihfError::Missing("Assertion/@IssueInstant"))?;
    let issue = parse_time(issue).ok_or(VihfError::Invalid("Assertion/@IssueInstant"))?;
    let issuer = a
        .child_text(SAML_NS, "Issuer")
        .filter(|s| !s.is_empty())
        .ok_or(VihfError::Missing("Issuer"))?;
    let ps_id = a
        .child(SAML_NS, "Subject")
        .and_then(|s| s.child_text(SAML_NS, "NameID"))
        .filter(|s| !s.is_empty())
        .ok_or(VihfError::Missing("Subject/NameID"))?;
    let authn = a
        .child(SAML_NS, "AuthnStatement")
        .ok_or(VihfError::Missing("AuthnStatement"))?;
    if authn.attr("AuthnInstant").and_then(parse_time).is_none() {
        return Err(VihfError::Missing("AuthnStatement/@AuthnInstant"));
    }
    if authn
        .child(SAML_NS, "AuthnContext")
        .and_then(|c| c.child_text(SAML_NS, "AuthnContextClassRef"))
        .filter(|s| !s.is_empty())
        .is_none()
    {
        return Err(VihfError::Missing("AuthnContextClassRef"));
    }
    check_times(a, issue, now)?;

    let attrs = a
        .child(SAML_NS, "AttributeStatement")
        .ok_or(VihfError::Missing("AttributeStatement"))?;
    let text = |name: &'static str| -> Result<String, VihfError> {
        attribute_value(attrs, &[name])
            .map(|v| v.text().trim().to_owned())
            .filter(|s| !s.is_empty())
            .ok_or(VihfError::Missing(name))
    };
    let version = text("VIHF_Version")?;
    if version != "3.0" && version != "4.0" {
        return Err(VihfError::Invalid("VIHF_Version"));
    }
    let structure = text("Identifiant_Structure")?;
    let secteur = text("Secteur_Activite")?;
    if !secteur
        .split_once('^')
        .is_some_and(|(c, s)| !c.is_empty() && !s.is_empty())
    {
        return Err(VihfError::Invalid("Secteur_Activite"));
    }
    let subject_id = text(SUBJECT_ID).map_err(|_| VihfError::Missing("subject-id"))?;
    let roles = roles(attrs)?;
    let purpose = purpose(attrs)?;
    let resource = text(RESOURCE_ID).map_err(|_| VihfError::Missing("resource-id"))?;
    let patient = PatientId::parse(&resource)
        .filter(|p| INS_OIDS.contains(&p.oid.as_str()))
        .ok_or(VihfError::Invalid("resource-id"))?;
    if text("Ressource_URN")? != "urn:dmp" {
        return Err(VihfError::Invalid("Ressource_URN"));
    }
    let lps_nom = text("LPS_Nom")?;
    let lps_version = text("LPS_Version")?;
    let homologation = text("LPS_ID_HOMOLOGATION_DMP")?;
    // genVIHF spells the name `Authentification_mode` (dmp.md §4): both are read.
    let mode = attribute_value(attrs, &["Authentification_Mode", "Authentification_mode"])
        .map(|v| v.text().trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or(VihfError::Missing("Authentification_Mode"))?;
    let auth_mode = match mode.as_str() {
        "DIRECTE" => AuthMode::Directe,
        "INDIRECTE" => AuthMode::Indirecte,
        "INDIRECTE_RENFORCEE" => AuthMode::IndirecteRenforcee,
        _ => return Err(VihfError::Invalid("Authentification_Mode")),
    };

    let signer = verify_signature(raw, &assertion_id, limits)?;
    check_signer(&signer, trust, chains, &issuer, now)?;
    Ok(Vihf {
        assertion_id,
        ps_id,
        subject_id,
        structure,
        secteur,
        roles,
        purpose,
        patient,
        auth_mode,
        lps_nom,
        lps_version,
        homologation,
        signer,
    })
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `IssueInstant` not in the future; `Conditions/@NotBefore` and `@NotOnOrAfter` when present
/// (SAML 2.0 core §2.5.1.2); without `NotOnOrAfter`, an assertion older than 24 hours is refused
/// [I].
fn check_times(a: &Element, issue: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), VihfError> {
    let skew = Duration::minutes(SKEW_MINUTES);
    if issue > now + skew {
        return Err(VihfError::NotYetValid);
    }
    let conditions = a.child(SAML_NS, "Conditions");
    let bound = |name: &'static str| -> Result<Option<DateTime<Utc>>, VihfError> {
        match conditions.and_then(|c| c.attr(name)) {
            None => Ok(None),
            Some(v) => parse_time(v)
                .map(Some)
                .ok_or(VihfError::Invalid("Conditions")),
        }
    };
    if bound("NotBefore")?.is_some_and(|nb| nb > now + skew) {
        return Err(VihfError::NotYetValid);
    }
    match bound("NotOnOrAfter")? {
        Some(na) if na <= now - skew => Err(VihfError::Expired),
        Some(_) => Ok(()),
        None if issue < now - Duration::hours(MAX_AGE_HOURS) => Err(VihfError::Expired),
        None => Ok(()),
    }
}

/// The first `AttributeValue` of the first `Attribute` with one of these names.
fn attribute_value<'a>(attrs: &'a Element, names: &[&str]) -> Option<&'a Element> {
    attrs
        .children_named(SAML_NS, "Attribute")
        .find(|a| a.attr("Name").is_some_and(|n| names.contains(&n)))
        .and_then(|a| a.child(SAML_NS, "AttributeValue"))
}

fn roles(attrs: &Element) -> Result<Vec<(String, String)>, VihfError> {
    let mut out = Vec::new();
    for attr in attrs
        .children_named(SAML_NS, "Attribute")
        .filter(|a| a.attr("Name") == Some(ROLE))
    {
        for v in attr.children_named(SAML_NS, "AttributeValue") {
            let role = v.child(HL7_NS, "Role").ok_or(VihfError::Invalid("role"))?;
            match (role.attr("code"), role.attr("codeSystem")) {
                (Some(c), Some(s)) if !c.trim().is_empty() && !s.trim().is_empty() => {
                    out.push((c.trim().to_owned(), s.trim().to_owned()))
                }
                _ => return Err(VihfError::Invalid("role")),
            }
        }
    }
    if out.is_empty() {
        return Err(VihfError::Missing("role"));
    }
    Ok(out)
}

fn purpose(attrs: &Element) -> Result<PurposeOfUse, VihfError> {
    let p = attribute_value(attrs, &[PURPOSE_OF_USE])
        .ok_or(VihfError::Missing("purposeofuse"))?
        .child(HL7_NS, "PurposeOfUse")
        .ok_or(VihfError::Invalid("purposeofuse"))?;
    if p.attr("codeSystem").map(str::trim) != Some(PURPOSE_SYSTEM) {
        return Err(VihfError::Invalid("purposeofuse"));
    }
    match p.attr("code").map(str::trim) {
        Some("normal") => Ok(PurposeOfUse::Normal),
        Some("bris_de_glace") => Ok(PurposeOfUse::BrisDeGlace),
        Some("centre_15") => Ok(PurposeOfUse::Centre15),
        _ => Err(VihfError::Invalid("purposeofuse")),
    }
}

/// Verifies the enveloped signature of the assertion `id` (exclusive c14n, RSA-SHA256, X.509
/// certificate in `KeyInfo`; RSA-SHA1 as DRIMbox signs, `dmp.md` §4) over the received bytes;
/// returns the signer certificate (DER). IDs are unique in the envelope (duplicates are
/// refused), so the signed element is the assertion whose attributes were read.
fn verify_signature(raw: &[u8], id: &str, limits: &XmlLimits) -> Result<Vec<u8>, VihfError> {
    let options = VerifyOptions {
        limits: *limits,
        allow_sha1: true,
    };
    verify_enveloped_with(raw, id, &options)
        .map(|v| v.certificate)
        .map_err(|e| VihfError::Signature(e.to_string()))
}

/// The signer must be an end-entity certificate valid now, issued by the sandbox intermediate
/// (which chains to a sandbox root) or a root, with a signing key usage (digitalSignature or
/// nonRepudiation), not a TLS server certificate, and its subject must be the assertion's
/// `Issuer` (`dmp.md` §4: Issuer = DN of the structure's signing certificate).
fn check_signer(
    der: &[u8],
    trust: &TrustedCas,
    chains: &ChainCache,
    issuer_dn: &str,
    now: DateTime<Utc>,
) -> Result<(), VihfError> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|_| VihfError::Signer("certificat illisible"))?;
    let at = x509_parser::time::ASN1Time::from_timestamp(now.timestamp())
        .map_err(|_| VihfError::Signer("horloge"))?;
    if !cert.validity().is_valid_at(at) {
        return Err(VihfError::Signer("hors période de validité"));
    }
    if cert.is_ca() {
        return Err(VihfError::Signer("certificat d'autorité"));
    }
    let ku = cert
        .key_usage()
        .ok()
        .flatten()
        .ok_or(VihfError::Signer("usage de clé absent"))?
        .value;
    if !(ku.digital_signature() || ku.non_repudiation()) {
        return Err(VihfError::Signer("usage de clé non signature"));
    }
    if let Ok(Some(eku)) = cert.extended_key_usage() {
        let e = eku.value;
        if e.server_auth && !e.client_auth && !e.email_protection && !e.any {
            return Err(VihfError::Signer("certificat serveur"));
        }
    }
    let key: [u8; 32] = Sha256::digest(der).into();
    if !chains.lookup(&key, at.timestamp()) {
        chains.remember(key, chains_to_trust(&cert, trust, at)?);
    }
    if !same_dn(&cert, issuer_dn) {
        return Err(VihfError::Signer("Issuer différent du sujet du certificat"));
    }
    Ok(())
}

/// Whether `cert` is signed by a trusted root, or by a trusted intermediate signed by a root;
/// the validity window (timestamps) common to the CAs of the chain found.
fn chains_to_trust(
    cert: &X509Certificate<'_>,
    trust: &TrustedCas,
    at: x509_parser::time::ASN1Time,
) -> Result<(i64, i64), VihfError> {
    fn parse(der: &[u8]) -> Option<X509Certificate<'_>> {
        X509Certificate::from_der(der).ok().map(|(_, c)| c)
    }
    fn window(cas: &[&X509Certificate<'_>]) -> (i64, i64) {
        let nb = cas
            .iter()
            .map(|c| c.validity().not_before.timestamp())
            .max()
            .unwrap_or(i64::MAX);
        let na = cas
            .iter()
            .map(|c| c.validity().not_after.timestamp())
            .min()
            .unwrap_or(i64::MIN);
        (nb, na)
    }
    let roots: Vec<X509Certificate<'_>> = trust.roots.iter().filter_map(|d| parse(d)).collect();
    let signed_by = |child: &X509Certificate<'_>, ca: &X509Certificate<'_>| {
        child.issuer().as_raw() == ca.subject().as_raw()
            && ca.is_ca()
            && ca.validity().is_valid_at(at)
            && child.verify_signature(Some(ca.public_key())).is_ok()
    };
    if let Some(root) = roots.iter().find(|r| signed_by(cert, r)) {
        return Ok(window(&[root]));
    }
    for der in &trust.intermediates {
        let Some(inter) = parse(der) else { continue };
        if signed_by(cert, &inter) {
            if let Some(root) = roots.iter().find(|r| signed_by(&inter, r)) {
                return Ok(window(&[&inter, root]));
            }
        }
    }
    Err(VihfError::Signer(
        "émetteur inconnu de l'IGC du bac à sable",
    ))
}

/// Short name of an attribute type OID (RFC 4514 §3 and the usual OpenSSL names).
fn attr_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN".into(),
        "2.5.4.6" => "C".into(),
        "2.5.4.7" => "L".into(),
        "2.5.4.8" => "ST".into(),
        "2.5.4.9" => "STREET".into(),
        "2.5.4.10" => "O".into(),
        "2.5.4.11" => "OU".into(),
        "2.5.4.5" => "SERIALNUMBER".into(),
        "1.2.840.113549.1.9.1" => "E".into(),
        "0.9.2342.19200300.100.1.25" => "DC".into(),
        "0.9.2342.19200300.100.1.1" => "UID".into(),
        other => other.to_owned(),
    }
}

fn normalize_key(k: &str) -> String {
    let k = k.trim().to_ascii_uppercase();
    let k = k.strip_prefix("OID.").map(str::to_owned).unwrap_or(k);
    match k.as_str() {
        "EMAILADDRESS" => "E".into(),
        "S" => "ST".into(),
        _ => attr_name(&k),
    }
}

/// Splits an RFC 4514 / OpenSSL-style DN string into (type, value) pairs (`,` or `;` separated,
/// `\` escapes; `+` multi-valued RDNs split too).
fn parse_dn(s: &str) -> Option<Vec<(String, String)>> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push('\\');
                    cur.push(n);
                }
            }
            ',' | ';' | '+' => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    let mut out = Vec::new();
    for p in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let (k, v) = p.split_once('=')?;
        let mut value = String::new();
        let mut it = v.trim().chars();
        while let Some(c) = it.next() {
            if c == '\\' {
                if let Some(n) = it.next() {
                    value.push(n);
                }
            } else {
                value.push(c);
            }
        }
        out.push((normalize_key(k), value.trim().to_lowercase()));
    }
    Some(out)
}

/// Whether the certificate subject and the DN string hold the same attributes (order and case
/// of values ignored).
fn same_dn(cert: &X509Certificate<'_>, dn: &str) -> bool {
    let Some(mut given) = parse_dn(dn) else {
        return false;
    };
    let mut subject: Vec<(String, String)> = Vec::new();
    for rdn in cert.subject().iter() {
        for atv in rdn.iter() {
            let Ok(v) = atv.as_str() else { return false };
            subject.push((
                attr_name(&atv.attr_type().to_id_string()),
                v.trim().to_lowercase(),
            ));
        }
    }
    given.sort();
    subject.sort();
    given == subject
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_cache_holds_successes_within_their_window_and_is_bounded() {
        let c = ChainCache::default();
        let k = [1u8; 32];
        assert!(!c.lookup(&k, 10));
        c.remember(k, (5, 20));
        assert!(c.lookup(&k, 5) && c.lookup(&k, 20));
        assert!(!c.lookup(&k, 4) && !c.lookup(&k, 21));
        for i in 0..2 * ChainCache::MAX_ENTRIES {
            let mut other = [2u8; 32];
            other[..8].copy_from_slice(&(i as u64).to_le_bytes());
            c.remember(other, (0, 1));
        }
        let len = c.verified.lock().unwrap().len();
        assert!(len <= ChainCache::MAX_ENTRIES, "{len}");
    }

    #[test]
    fn dn_strings() {
        let v = parse_dn("C=FR, ST=Paris (75), O=X\\, Y, OU=1, CN=DMP SIGN").unwrap();
        assert_eq!(
            v,
            vec![
                ("C".into(), "fr".into()),
                ("ST".into(), "paris (75)".into()),
                ("O".into(), "x, y".into()),
                ("OU".into(), "1".into()),
                ("CN".into(), "dmp sign".into()),
            ]
        );
        assert_eq!(normalize_key("emailAddress"), "E");
        assert_eq!(normalize_key("OID.2.5.4.3"), "CN");
        assert!(parse_dn("nonsense").is_none());
    }

    #[test]
    fn times() {
        let now = Utc::now();
        let a = |c: &str| {
            segur_net::xml::parse(
                format!(r#"<a:Assertion xmlns:a="{SAML_NS}">{c}</a:Assertion>"#).as_bytes(),
                &segur_net::xml::XmlLimits::default(),
            )
            .unwrap()
        };
        assert!(check_times(&a(""), now, now).is_ok());
        assert_eq!(
            check_times(&a(""), now + Duration::hours(1), now),
            Err(VihfError::NotYetValid)
        );
        assert_eq!(
            check_times(&a(""), now - Duration::hours(25), now),
            Err(VihfError::Expired)
        );
        let past = (now - Duration::hours(1)).to_rfc3339();
        assert_eq!(
            check_times(
                &a(&format!(r#"<a:Conditions NotOnOrAfter="{past}"/>"#)),
                now,
                now
            ),
            Err(VihfError::Expired)
        );
        assert_eq!(
            check_times(&a(r#"<a:Conditions NotBefore="x"/>"#), now, now),
            Err(VihfError::Invalid("Conditions"))
        );
    }
}
