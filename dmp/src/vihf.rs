//! The VIHF (*Vecteur d'Identification et d'Habilitation Formelles*): the signed SAML 2.0
//! assertion that every DMP request carries in `soap:Header/wsse:Security` (`dmp.md` §4).
//!
//! It says who asks (the professional's national identifier in `Subject/NameID`, their name,
//! roles from JDV_J65, the structure and its sector of activity), how they were authenticated
//! (`Authentification_Mode` and the SAML `AuthnContext`), why (`purposeofuse`: normal access,
//! *bris de glace*, *centre 15*), for which patient (the INS as an HL7 CX string, only from a
//! [`QualifiedIdentity`], RNIV rule 28), and which software (LPS name, version, DMP homologation
//! number). The structure's signing ("cachet") certificate signs it with an enveloped XML
//! signature (exclusive c14n, RSA-SHA256, the certificate in `KeyInfo`), and its subject DN is
//! the `Issuer`.
//!
//! ```text
//! Vihf::builder() ─ .ps_id() .subject_name() .role() .structure() .secteur_activite()
//!                   .patient() .lps() .authentification_mode() [.specialty() .purpose() ...]
//!                 ─ .build()?             -> Vihf        (every field validated)
//!                 ─ .sign(&signer)?       -> SignedVihf  (XML ready for wsse:Security, its ID)
//! ```
//!
//! The assertion is written in the layout of the IG example (`vihf-example.xml`): SAML elements
//! in the default namespace, HL7 `Role`/`PurposeOfUse` in `urn:hl7-org:v3`, the signature right
//! after `Issuer` (SAML 2.0 core §5.4.1) with the IG's `PrefixList="ds saml #default xsi"`.
//! Every prefix of that list is declared on the `Assertion` itself, so the signature does not
//! depend on the namespaces of the SOAP envelope it is put in (exc-c14n §3 renders listed
//! prefixes inherited from the context).

use std::fmt;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use segur_cda::InsMode;
use segur_ins_core::{Ins, QualifiedIdentity};
use segur_net::dsig::{self, Position, SignOptions, Signer};
use segur_net::xml::escape;

use crate::error::{DmpError, Result};

mod j65;

/// SAML 2.0 assertion namespace.
pub const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// HL7 v3 namespace (`Role`, `PurposeOfUse`, `ConfidentialityCode`).
pub const HL7_NS: &str = "urn:hl7-org:v3";
/// XML Schema instance namespace (`xsi:type="CE"`).
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The `InclusiveNamespaces PrefixList` of the IG example.
pub const PREFIX_LIST: [&str; 4] = ["ds", "saml", "#default", "xsi"];
/// `VIHF_Version` written (IG example, DRIMbox, genVIHF; the IG table says 4.0, `dmp.md` §10).
pub const VIHF_VERSION: &str = "3.0";
/// `Issuer/@Format`: an X.509 subject name.
pub const ISSUER_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName";
/// `Ressource_URN` of the DMP.
pub const RESSOURCE_URN_DMP: &str = "urn:dmp";
/// Code system of `purposeofuse` (TRE_R248-ModeAcces).
pub const PURPOSE_CODE_SYSTEM: &str = "1.2.250.1.213.1.1.4.248";
/// `codeSystemName` of `purposeofuse` (IG example; genVIHF writes "mode acces VIHF 2.0").
pub const PURPOSE_CODE_SYSTEM_NAME: &str = "mode acces VIHF 1.0";
/// TRE_G15 (professions), first role of a health professional.
pub const TRE_G15: &str = "1.2.250.1.71.1.2.7";
/// TRE_R01 (savoir-faire), second role of doctors, dentists and pharmacists.
pub const TRE_R01: &str = "1.2.250.1.71.4.2.5";
/// Code system of the non-professional roles (`AUTOMATE`, `SECRETARIAT_MEDICAL`...).
pub const ROLE_NON_PS: &str = "1.2.250.1.213.1.1.4.6";
/// TRE_R02 (secteur d'activité), the usual code system of `Secteur_Activite`.
pub const TRE_R02: &str = "1.2.250.1.71.4.2.4";
/// Default validity of an assertion (`Conditions/@NotOnOrAfter` - `IssueInstant`).
pub const DEFAULT_VALIDITY: Duration = Duration::minutes(5);
/// Longest validity accepted by [`VihfBuilder::validity`].
pub const MAX_VALIDITY: Duration = Duration::hours(1);

/// SAML attribute names of the DMP profile (`dmp.md` §4).
pub mod names {
    /// `VIHF_Version`.
    pub const VIHF_VERSION: &str = "VIHF_Version";
    /// `Authentification_Mode`.
    pub const AUTHENTIFICATION_MODE: &str = "Authentification_Mode";
    /// `Secteur_Activite`.
    pub const SECTEUR_ACTIVITE: &str = "Secteur_Activite";
    /// The patient (XACML resource-id).
    pub const RESOURCE_ID: &str = "urn:oasis:names:tc:xacml:2.0:resource:resource-id";
    /// `Ressource_URN`.
    pub const RESSOURCE_URN: &str = "Ressource_URN";
    /// The user's name (XSPA subject-id).
    pub const SUBJECT_ID: &str = "urn:oasis:names:tc:xspa:1.0:subject:subject-id";
    /// `Identifiant_Structure`.
    pub const IDENTIFIANT_STRUCTURE: &str = "Identifiant_Structure";
    /// `LPS_Version`.
    pub const LPS_VERSION: &str = "LPS_Version";
    /// `LPS_ID`.
    pub const LPS_ID: &str = "LPS_ID";
    /// `LPS_Nom`.
    pub const LPS_NOM: &str = "LPS_Nom";
    /// `LPS_ID_HOMOLOGATION_DMP`.
    pub const LPS_ID_HOMOLOGATION_DMP: &str = "LPS_ID_HOMOLOGATION_DMP";
    /// The access mode (XSPA purposeofuse).
    pub const PURPOSE_OF_USE: &str = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse";
    /// The user's roles (XACML subject role).
    pub const ROLE: &str = "urn:oasis:names:tc:xacml:2.0:subject:role";
    /// The confidentiality code ("connexion secrète").
    pub const CONFIDENTIALITY_CODE: &str =
        "urn:oasis:names:tc:xspa:1.0:resource:patient:hl7:confidentiality-code";
}

fn invalid(field: &'static str, detail: impl Into<String>) -> DmpError {
    DmpError::Invalid {
        field,
        detail: detail.into(),
    }
}

/// Text for an attribute value or element content: non-empty after trimming, no control
/// character, at most `max` characters.
fn checked_text(field: &'static str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(invalid(field, "empty"));
    }
    if v.chars().count() > max {
        return Err(invalid(field, format!("longer than {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(invalid(field, "control character"));
    }
    Ok(v.to_owned())
}

fn is_oid(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()))
}

// ---- enumerations ---------------------------------------------------------------------------

/// `Authentification_Mode`: how the user was authenticated (`dmp.md` §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthentificationMode {
    /// `DIRECTE`: the user's own CPS card (or e-CPS).
    Directe,
    /// `INDIRECTE`: the structure vouches for a user it authenticated locally (its
    /// authentication certificate on the TLS link).
    Indirecte,
    /// `INDIRECTE_RENFORCEE`: indirect with strong local authentication (AIR mode).
    IndirecteRenforcee,
}

impl AuthentificationMode {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Directe => "DIRECTE",
            Self::Indirecte => "INDIRECTE",
            Self::IndirecteRenforcee => "INDIRECTE_RENFORCEE",
        }
    }

    /// The default `AuthnContextClassRef` of the mode.
    pub fn default_authn_context(self) -> AuthnContext {
        match self {
            Self::Directe => AuthnContext::SmartcardPki,
            Self::Indirecte => AuthnContext::Unspecified,
            Self::IndirecteRenforcee => AuthnContext::MobileTwoFactorUnregistered,
        }
    }

    /// Whether `ctx` is consistent with the mode [I: `dmp.md` §4 lists the classes seen in the
    /// IG example, DRIMbox, genVIHF and a C# sample; SEL-MP-037 is not public].
    pub fn allows(self, ctx: AuthnContext) -> bool {
        use AuthnContext::*;
        match self {
            Self::Directe => matches!(ctx, SmartcardPki),
            Self::Indirecte => matches!(ctx, Unspecified | TlsClient | PasswordProtectedTransport),
            Self::IndirecteRenforcee => {
                matches!(ctx, MobileTwoFactorUnregistered | MobileTwoFactorContract)
            }
        }
    }
}

/// `AuthnStatement/AuthnContext/AuthnContextClassRef` (SAML 2.0 authentication context classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthnContext {
    /// `unspecified` (IG example, indirect mode).
    Unspecified,
    /// `TLSClient` (DRIMbox, indirect mode).
    TlsClient,
    /// `PasswordProtectedTransport` (local password over TLS, indirect mode).
    PasswordProtectedTransport,
    /// `SmartcardPKI` (CPS card, direct mode).
    SmartcardPki,
    /// `MobileTwoFactorUnregistered` (Pro Santé Connect e-CPS, genVIHF).
    MobileTwoFactorUnregistered,
    /// `MobileTwoFactorContract`.
    MobileTwoFactorContract,
}

impl AuthnContext {
    /// The class URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::Unspecified => "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified",
            Self::TlsClient => "urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient",
            Self::PasswordProtectedTransport => {
                "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
            }
            Self::SmartcardPki => "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
            Self::MobileTwoFactorUnregistered => {
                "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered"
            }
            Self::MobileTwoFactorContract => {
                "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
            }
        }
    }
}

/// `purposeofuse`: the access mode (TRE_R248-ModeAcces, `dmp.md` §4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum PurposeOfUse {
    /// `normal`: access within the professional's authorisation.
    #[default]
    Normal,
    /// `bris_de_glace`: emergency access ("bris de glace").
    BrisDeGlace,
    /// `centre_15`: access by the SAMU regulation centre.
    Centre15,
}

impl PurposeOfUse {
    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::BrisDeGlace => "bris_de_glace",
            Self::Centre15 => "centre_15",
        }
    }

    /// The display name ("Accès normal" is the IG's; the two others are [I]).
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Normal => "Accès normal",
            Self::BrisDeGlace => "Accès en mode bris de glace",
            Self::Centre15 => "Accès en mode centre de régulation",
        }
    }
}

// ---- coded values ---------------------------------------------------------------------------

/// A role of the user (`urn:oasis:names:tc:xacml:2.0:subject:role`): a concept of JDV_J65
/// SubjectRole DMP, the only way to build one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Role {
    code: &'static str,
    code_system: &'static str,
    display_name: &'static str,
}

/// Code systems of JDV_J65 that name what the user is (first role); the others qualify it
/// (savoir-faire, CNOP section, function...: second role).
const FIRST_ROLE_SYSTEMS: [&str; 6] = [
    TRE_G15,
    ROLE_NON_PS,               // AUTOMATE, SECRETARIAT_MEDICAL...
    "1.2.250.1.213.1.6.1.107", // autres professionnels (PAERPA, MAIA, social...)
    "1.2.250.1.213.1.6.1.109", // usage de titre (ostéopathe, psychologue...)
    "1.2.250.1.213.1.6.1.4",   // professions du social
    "1.2.250.1.213.1.6.1.140", // acteur caractérisé par son rôle
];

impl Role {
    /// The JDV_J65 concept `code` in `code_system`.
    pub fn from_j65(code: &str, code_system: &str) -> Result<Self> {
        j65::CONCEPTS
            .iter()
            .find(|(c, s, _)| *c == code.trim() && *s == code_system.trim())
            .map(|(code, code_system, display_name)| Role {
                code,
                code_system,
                display_name,
            })
            .ok_or_else(|| invalid("role", "not a concept of JDV_J65-SubjectRole-DMP"))
    }

    /// A profession of TRE_G15 (`10` Médecin, `21` Pharmacien, `60` Infirmier...).
    pub fn profession(code: &str) -> Result<Self> {
        Self::from_j65(code, TRE_G15)
    }

    /// A savoir-faire of TRE_R01 (`SM26` Qualifié en médecine générale...).
    pub fn savoir_faire(code: &str) -> Result<Self> {
        Self::from_j65(code, TRE_R01)
    }

    /// `AUTOMATE`: automated processing (the IG example).
    pub fn automate() -> Self {
        Role {
            code: "AUTOMATE",
            code_system: ROLE_NON_PS,
            display_name: "Automate",
        }
    }

    /// The code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The code system OID.
    pub fn code_system(&self) -> &'static str {
        self.code_system
    }

    /// The display name of JDV_J65.
    pub fn display_name(&self) -> &'static str {
        self.display_name
    }

    /// Whether this role names what the user is (a first role), rather than qualifying it.
    pub fn is_first_role(&self) -> bool {
        FIRST_ROLE_SYSTEMS.contains(&self.code_system)
    }
}

/// `Secteur_Activite`: `code^codeSystem` (JDV_J61, e.g. `SA07^1.2.250.1.71.4.2.4` cabinet
/// individuel).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecteurActivite {
    code: String,
    code_system: String,
}

impl SecteurActivite {
    /// A TRE_R02 sector: `SA` and two digits (`SA07`, `SA41`...). JDV_J61 itself is not in
    /// `../shared/reference` (`dmp.md` §10), so only the form is checked.
    pub fn tre_r02(code: &str) -> Result<Self> {
        let code = code.trim();
        let ok = code.len() == 4
            && code.starts_with("SA")
            && code[2..].bytes().all(|b| b.is_ascii_digit());
        if !ok {
            return Err(invalid(
                "Secteur_Activite",
                "a TRE_R02 code is SA and two digits",
            ));
        }
        Self::new(code, TRE_R02)
    }

    /// Any `code` of the code system `code_system` (an OID).
    pub fn new(code: &str, code_system: &str) -> Result<Self> {
        let code = code.trim();
        if code.is_empty()
            || code.len() > 32
            || !code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return Err(invalid(
                "Secteur_Activite",
                "code: 1 to 32 of [A-Za-z0-9_.-]",
            ));
        }
        if !is_oid(code_system.trim()) {
            return Err(invalid("Secteur_Activite", "code system is not an OID"));
        }
        Ok(Self {
            code: code.to_owned(),
            code_system: code_system.trim().to_owned(),
        })
    }

    /// `code^codeSystem`.
    pub fn value(&self) -> String {
        format!("{}^{}", self.code, self.code_system)
    }
}

/// The `confidentiality-code` attribute, sent only for a "connexion secrète" to the DMP
/// (`dmp.md` §4): an HL7 CE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConfidentialityCode {
    code: String,
    code_system: String,
    display_name: String,
}

impl ConfidentialityCode {
    /// A coded value (`code_system` an OID).
    pub fn new(code: &str, code_system: &str, display_name: &str) -> Result<Self> {
        let code = checked_text("confidentiality-code", code, 64)?;
        if !is_oid(code_system.trim()) {
            return Err(invalid("confidentiality-code", "code system is not an OID"));
        }
        Ok(Self {
            code,
            code_system: code_system.trim().to_owned(),
            display_name: checked_text("confidentiality-code", display_name, 128)?,
        })
    }

    /// "Connexion secrète" [I: value not public (SEL-MP-037); HL7 Confidentiality `R`
    /// restricted, `2.16.840.1.113883.5.25`, the system of the CDA confidentialityCode].
    pub fn connexion_secrete() -> Self {
        Self {
            code: "R".to_owned(),
            code_system: "2.16.840.1.113883.5.25".to_owned(),
            display_name: "Connexion secrète".to_owned(),
        }
    }
}

/// The user's national identifier (`Subject/NameID`): IdNat_PS. DMP/AIRS.06: always the
/// authenticated user's own RPPS/ADELI-based identifier, never a generic one.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PsId(String);

impl fmt::Debug for PsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PsId").field(&self.0).finish()
    }
}

fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

fn is_generic(body: &str) -> bool {
    let mut bytes = body.bytes();
    match bytes.next() {
        None => true,
        Some(first) => bytes.all(|b| b == first),
    }
}

impl PsId {
    /// `8` + the 11-digit RPPS number (its last digit a Luhn key).
    pub fn rpps(rpps: &str) -> Result<Self> {
        let r = rpps.trim();
        if r.len() != 11 || !r.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("Subject/NameID", "an RPPS number has 11 digits"));
        }
        if !luhn_ok(r) {
            return Err(invalid("Subject/NameID", "RPPS Luhn key is wrong"));
        }
        if is_generic(r) {
            return Err(invalid(
                "Subject/NameID",
                "generic identifier (DMP/AIRS.06)",
            ));
        }
        Ok(Self(format!("8{r}")))
    }

    /// `0` + the 9-character ADELI number.
    pub fn adeli(adeli: &str) -> Result<Self> {
        let a = adeli.trim();
        if a.len() != 9
            || !a
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'A' | b'B'))
        {
            return Err(invalid(
                "Subject/NameID",
                "an ADELI number has 9 characters",
            ));
        }
        if is_generic(a) {
            return Err(invalid(
                "Subject/NameID",
                "generic identifier (DMP/AIRS.06)",
            ));
        }
        Ok(Self(format!("0{a}")))
    }

    /// An IdNat_PS already prefixed (`8…` RPPS, `0…` ADELI, `3<structure>/<id>` staff of a
    /// structure, `1`/`2`/`4`/`5`/`6`…), checked for form only: 2 to 64 of `[A-Za-z0-9/]`,
    /// not a single repeated character.
    pub fn idnat(idnat: &str) -> Result<Self> {
        let v = idnat.trim();
        if v.len() < 2
            || v.len() > 64
            || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'/')
            || !v.bytes().next().is_some_and(|b| b.is_ascii_digit())
        {
            return Err(invalid(
                "Subject/NameID",
                "IdNat_PS: a type digit then 1 to 63 of [A-Za-z0-9/]",
            ));
        }
        if let Some(rpps) = v.strip_prefix('8') {
            return Self::rpps(rpps);
        }
        if is_generic(v.get(1..).unwrap_or_default()) {
            return Err(invalid(
                "Subject/NameID",
                "generic identifier (DMP/AIRS.06)",
            ));
        }
        Ok(Self(v.to_owned()))
    }

    /// The identifier as written in `NameID`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The software that issues the VIHF (`LPS_*` attributes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lps {
    /// `LPS_Nom`.
    pub nom: String,
    /// `LPS_Version`.
    pub version: String,
    /// `LPS_ID_HOMOLOGATION_DMP`: the CNDA homologation number.
    pub id_homologation_dmp: String,
    /// `LPS_ID` (optional): identifier of the installation.
    pub id: Option<String>,
}

// ---- the assertion --------------------------------------------------------------------------

/// A validated VIHF, ready to be signed ([`Vihf::sign`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Vihf {
    id: String,
    issue_instant: DateTime<Utc>,
    authn_instant: DateTime<Utc>,
    not_on_or_after: DateTime<Utc>,
    ps_id: PsId,
    subject_name: String,
    roles: Vec<Role>,
    structure: String,
    secteur: SecteurActivite,
    purpose: PurposeOfUse,
    /// The patient INS, CX: never shown by `Debug`.
    resource_id: String,
    lps: Lps,
    mode: AuthentificationMode,
    authn_context: AuthnContext,
    confidentiality: Option<ConfidentialityCode>,
}

impl fmt::Debug for Vihf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vihf")
            .field("id", &self.id)
            .field("issue_instant", &self.issue_instant)
            .field("ps_id", &self.ps_id)
            .field("roles", &self.roles)
            .field("structure", &self.structure)
            .field("purpose", &self.purpose)
            .field("patient", &"<INS>")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Vihf`]; every field is checked by [`VihfBuilder::build`], which names the first
/// missing or invalid one in [`DmpError::Invalid`].
#[derive(Clone, Default)]
pub struct VihfBuilder {
    id: Option<String>,
    issue_instant: Option<DateTime<Utc>>,
    authn_instant: Option<DateTime<Utc>>,
    validity: Option<Duration>,
    ps_id: Option<PsId>,
    subject_name: Option<String>,
    role: Option<Role>,
    specialty: Option<Role>,
    structure: Option<String>,
    secteur: Option<SecteurActivite>,
    purpose: PurposeOfUse,
    patient: Option<(Ins, InsMode)>,
    lps: Option<Lps>,
    mode: Option<AuthentificationMode>,
    authn_context: Option<AuthnContext>,
    confidentiality: Option<ConfidentialityCode>,
}

impl fmt::Debug for VihfBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VihfBuilder")
            .field("ps_id", &self.ps_id)
            .field("patient", &self.patient.as_ref().map(|_| "<INS>"))
            .finish_non_exhaustive()
    }
}

impl VihfBuilder {
    /// `Subject/NameID`: the user's national identifier (required).
    pub fn ps_id(mut self, id: PsId) -> Self {
        self.ps_id = Some(id);
        self
    }

    /// `subject-id`: the user's "NOM Prénom" (for an automaton: software, model, service)
    /// (required).
    pub fn subject_name(mut self, name: &str) -> Self {
        self.subject_name = Some(name.to_owned());
        self
    }

    /// The first role: the profession (TRE_G15), or `AUTOMATE`... (required).
    pub fn role(mut self, role: Role) -> Self {
        self.role = Some(role);
        self
    }

    /// The second role: savoir-faire (TRE_R01) or CNOP section, for doctors, dentists,
    /// pharmacists (optional).
    pub fn specialty(mut self, role: Role) -> Self {
        self.specialty = Some(role);
        self
    }

    /// `Identifiant_Structure`: the structure's IdNat_Struct (required).
    pub fn structure(mut self, idnat: &str) -> Self {
        self.structure = Some(idnat.to_owned());
        self
    }

    /// `Secteur_Activite` (required).
    pub fn secteur_activite(mut self, secteur: SecteurActivite) -> Self {
        self.secteur = Some(secteur);
        self
    }

    /// `purposeofuse` (default: normal).
    pub fn purpose(mut self, purpose: PurposeOfUse) -> Self {
        self.purpose = purpose;
        self
    }

    /// `resource-id`: the patient, from a qualified identity only (RNIV rule 28). In
    /// [`InsMode::Production`] a test or demonstration INS OID is refused (required).
    pub fn patient(mut self, patient: &QualifiedIdentity, mode: InsMode) -> Self {
        self.patient = Some((patient.ins().clone(), mode));
        self
    }

    /// `LPS_*` (required).
    pub fn lps(mut self, lps: Lps) -> Self {
        self.lps = Some(lps);
        self
    }

    /// `Authentification_Mode` (required).
    pub fn authentification_mode(mut self, mode: AuthentificationMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// `AuthnContextClassRef` (default: [`AuthentificationMode::default_authn_context`]); must
    /// be consistent with the mode.
    pub fn authn_context(mut self, ctx: AuthnContext) -> Self {
        self.authn_context = Some(ctx);
        self
    }

    /// The `confidentiality-code` attribute ("connexion secrète", optional).
    pub fn confidentiality_code(mut self, code: ConfidentialityCode) -> Self {
        self.confidentiality = Some(code);
        self
    }

    /// Validity (`NotOnOrAfter` - `IssueInstant`): 1 second to [`MAX_VALIDITY`] (default
    /// [`DEFAULT_VALIDITY`]).
    pub fn validity(mut self, validity: Duration) -> Self {
        self.validity = Some(validity);
        self
    }

    /// `IssueInstant` (default: now), e.g. for reproducible tests.
    pub fn issue_instant(mut self, at: DateTime<Utc>) -> Self {
        self.issue_instant = Some(at);
        self
    }

    /// `AuthnInstant`: when the user was authenticated (default: the issue instant); not after
    /// the issue instant.
    pub fn authn_instant(mut self, at: DateTime<Utc>) -> Self {
        self.authn_instant = Some(at);
        self
    }

    /// `Assertion/@ID` (default: `_` + a random UUID); an XML NCName.
    pub fn assertion_id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }

    /// Checks every field and returns the VIHF.
    pub fn build(self) -> Result<Vihf> {
        let missing = |field: &'static str| invalid(field, "missing");
        let id = match self.id {
            Some(id) => {
                let ok = id
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && id.len() <= 128
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
                if !ok {
                    return Err(invalid("Assertion/@ID", "not an NCName of [A-Za-z0-9_.-]"));
                }
                id
            }
            None => format!("_{}", uuid::Uuid::new_v4()),
        };
        let ps_id = self.ps_id.ok_or_else(|| missing("Subject/NameID"))?;
        let subject_name = checked_text(
            "subject-id",
            &self.subject_name.ok_or_else(|| missing("subject-id"))?,
            256,
        )?;
        let role = self.role.ok_or_else(|| missing("role"))?;
        if !role.is_first_role() {
            return Err(invalid(
                "role",
                "the first role must be a profession (TRE_G15) or AUTOMATE-like",
            ));
        }
        let mut roles = vec![role];
        if let Some(second) = self.specialty {
            if second.is_first_role() {
                return Err(invalid(
                    "role",
                    "the second role qualifies the first (savoir-faire, section)",
                ));
            }
            if role.code_system() == ROLE_NON_PS {
                return Err(invalid(
                    "role",
                    "no second role for a non-professional role",
                ));
            }
            roles.push(second);
        }
        let structure = checked_text(
            "Identifiant_Structure",
            &self
                .structure
                .ok_or_else(|| missing("Identifiant_Structure"))?,
            64,
        )?;
        if structure.chars().any(char::is_whitespace) {
            return Err(invalid("Identifiant_Structure", "whitespace"));
        }
        let secteur = self.secteur.ok_or_else(|| missing("Secteur_Activite"))?;
        let (ins, ins_mode) = self.patient.ok_or_else(|| missing("resource-id"))?;
        if !ins.oid.is_ins() {
            return Err(invalid("resource-id", "not an INS OID"));
        }
        if ins.oid.is_test() && ins_mode == InsMode::Production {
            return Err(invalid(
                "resource-id",
                "test/demo INS OID (1.2.250.1.213.1.4.10/.11) outside sandbox mode",
            ));
        }
        let resource_id = ins.to_cx_xds();
        let lps = self.lps.ok_or_else(|| missing("LPS_Nom"))?;
        let lps = Lps {
            nom: checked_text("LPS_Nom", &lps.nom, 128)?,
            version: checked_text("LPS_Version", &lps.version, 64)?,
            id_homologation_dmp: checked_text(
                "LPS_ID_HOMOLOGATION_DMP",
                &lps.id_homologation_dmp,
                64,
            )?,
            id: lps
                .id
                .map(|id| checked_text("LPS_ID", &id, 128))
                .transpose()?,
        };
        let mode = self.mode.ok_or_else(|| missing("Authentification_Mode"))?;
        let authn_context = self
            .authn_context
            .unwrap_or_else(|| mode.default_authn_context());
        if !mode.allows(authn_context) {
            return Err(invalid(
                "AuthnContextClassRef",
                format!(
                    "{} is not consistent with {}",
                    authn_context.uri(),
                    mode.as_str()
                ),
            ));
        }
        let validity = self.validity.unwrap_or(DEFAULT_VALIDITY);
        if validity < Duration::seconds(1) || validity > MAX_VALIDITY {
            return Err(invalid(
                "Conditions/@NotOnOrAfter",
                "validity must be between 1 second and 1 hour",
            ));
        }
        let issue_instant = self.issue_instant.unwrap_or_else(Utc::now);
        let authn_instant = self.authn_instant.unwrap_or(issue_instant);
        if authn_instant > issue_instant {
            return Err(invalid(
                "AuthnStatement/@AuthnInstant",
                "after the issue instant",
            ));
        }
        let not_on_or_after = issue_instant
            .checked_add_signed(validity)
            .ok_or_else(|| invalid("IssueInstant", "out of range"))?;
        Ok(Vihf {
            id,
            issue_instant,
            authn_instant,
            not_on_or_after,
            ps_id,
            subject_name,
            roles,
            structure,
            secteur,
            purpose: self.purpose,
            resource_id,
            lps,
            mode,
            authn_context,
            confidentiality: self.confidentiality,
        })
    }
}

/// A signed VIHF: the `Assertion` element, to be inserted **verbatim** in `wsse:Security`.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedVihf {
    xml: String,
    id: String,
    not_on_or_after: DateTime<Utc>,
}

impl fmt::Debug for SignedVihf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedVihf")
            .field("id", &self.id)
            .field("bytes", &self.xml.len())
            .field("not_on_or_after", &self.not_on_or_after)
            .finish()
    }
}

impl SignedVihf {
    /// The signed `Assertion` element (no XML declaration).
    pub fn xml(&self) -> &str {
        &self.xml
    }

    /// `Assertion/@ID` (what the DMP verifies the signature against).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// End of validity (`Conditions/@NotOnOrAfter`): build a new one after that.
    pub fn not_on_or_after(&self) -> DateTime<Utc> {
        self.not_on_or_after
    }

    /// The XML.
    pub fn into_xml(self) -> String {
        self.xml
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn attribute(out: &mut String, name: &str, value: &str) {
    out.push_str("<Attribute Name=\"");
    out.push_str(name);
    out.push_str("\"><AttributeValue>");
    out.push_str(&escape(value));
    out.push_str("</AttributeValue></Attribute>");
}

fn ce(
    out: &mut String,
    element: &str,
    code: &str,
    system: &str,
    system_name: Option<&str>,
    display: &str,
) {
    out.push_str("<AttributeValue><");
    out.push_str(element);
    out.push_str(" xmlns=\"");
    out.push_str(HL7_NS);
    out.push_str("\" xsi:type=\"CE\" code=\"");
    out.push_str(&escape(code));
    out.push_str("\" codeSystem=\"");
    out.push_str(&escape(system));
    if let Some(name) = system_name {
        out.push_str("\" codeSystemName=\"");
        out.push_str(&escape(name));
    }
    out.push_str("\" displayName=\"");
    out.push_str(&escape(display));
    out.push_str("\"/></AttributeValue>");
}

impl Vihf {
    /// A builder.
    pub fn builder() -> VihfBuilder {
        VihfBuilder::default()
    }

    /// `Assertion/@ID`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `IssueInstant`.
    pub fn issue_instant(&self) -> DateTime<Utc> {
        self.issue_instant
    }

    /// `Conditions/@NotOnOrAfter`.
    pub fn not_on_or_after(&self) -> DateTime<Utc> {
        self.not_on_or_after
    }

    /// The assertion without signature, `Issuer` = `issuer_dn` (what [`Vihf::sign`] signs).
    pub fn to_unsigned_xml(&self, issuer_dn: &str) -> String {
        let mut x = String::with_capacity(3072);
        x.push_str("<Assertion xmlns=\"");
        x.push_str(SAML_NS);
        x.push_str("\" xmlns:ds=\"");
        x.push_str(dsig::DSIG_NS);
        x.push_str("\" xmlns:saml=\"");
        x.push_str(SAML_NS);
        x.push_str("\" xmlns:xsi=\"");
        x.push_str(XSI_NS);
        x.push_str("\" ID=\"");
        x.push_str(&self.id);
        x.push_str("\" IssueInstant=\"");
        x.push_str(&time(self.issue_instant));
        x.push_str("\" Version=\"2.0\"><Issuer Format=\"");
        x.push_str(ISSUER_FORMAT);
        x.push_str("\">");
        x.push_str(&escape(issuer_dn));
        x.push_str("</Issuer><Subject><NameID>");
        x.push_str(&escape(self.ps_id.as_str()));
        x.push_str("</NameID></Subject><Conditions NotBefore=\"");
        x.push_str(&time(self.issue_instant));
        x.push_str("\" NotOnOrAfter=\"");
        x.push_str(&time(self.not_on_or_after));
        x.push_str("\"/><AuthnStatement AuthnInstant=\"");
        x.push_str(&time(self.authn_instant));
        x.push_str("\"><AuthnContext><AuthnContextClassRef>");
        x.push_str(self.authn_context.uri());
        x.push_str("</AuthnContextClassRef></AuthnContext></AuthnStatement><AttributeStatement>");
        attribute(&mut x, names::VIHF_VERSION, VIHF_VERSION);
        attribute(&mut x, names::AUTHENTIFICATION_MODE, self.mode.as_str());
        attribute(&mut x, names::SECTEUR_ACTIVITE, &self.secteur.value());
        attribute(&mut x, names::RESOURCE_ID, &self.resource_id);
        attribute(&mut x, names::RESSOURCE_URN, RESSOURCE_URN_DMP);
        attribute(&mut x, names::SUBJECT_ID, &self.subject_name);
        attribute(&mut x, names::IDENTIFIANT_STRUCTURE, &self.structure);
        attribute(&mut x, names::LPS_VERSION, &self.lps.version);
        if let Some(id) = &self.lps.id {
            attribute(&mut x, names::LPS_ID, id);
        }
        attribute(&mut x, names::LPS_NOM, &self.lps.nom);
        attribute(
            &mut x,
            names::LPS_ID_HOMOLOGATION_DMP,
            &self.lps.id_homologation_dmp,
        );
        x.push_str("<Attribute Name=\"");
        x.push_str(names::PURPOSE_OF_USE);
        x.push_str("\">");
        ce(
            &mut x,
            "PurposeOfUse",
            self.purpose.code(),
            PURPOSE_CODE_SYSTEM,
            Some(PURPOSE_CODE_SYSTEM_NAME),
            self.purpose.display_name(),
        );
        x.push_str("</Attribute><Attribute Name=\"");
        x.push_str(names::ROLE);
        x.push_str("\">");
        for r in &self.roles {
            ce(&mut x, "Role", r.code, r.code_system, None, r.display_name);
        }
        x.push_str("</Attribute>");
        if let Some(c) = &self.confidentiality {
            x.push_str("<Attribute Name=\"");
            x.push_str(names::CONFIDENTIALITY_CODE);
            x.push_str("\">");
            ce(
                &mut x,
                "ConfidentialityCode",
                &c.code,
                &c.code_system,
                None,
                &c.display_name,
            );
            x.push_str("</Attribute>");
        }
        x.push_str("</AttributeStatement></Assertion>");
        x
    }

    /// Signs the assertion: `Issuer` = the signer's certificate subject (RFC 4514), enveloped
    /// signature right after `Issuer` (exclusive c14n with [`PREFIX_LIST`], RSA-SHA256,
    /// certificate in `KeyInfo`).
    pub fn sign(&self, signer: &dyn Signer) -> Result<SignedVihf> {
        let issuer = signer
            .subject_dn()
            .map_err(|e| DmpError::Signature(format!("signing certificate subject: {e}")))?;
        let unsigned = self.to_unsigned_xml(&issuer);
        let options = SignOptions {
            prefix_list: &PREFIX_LIST,
            position: Position::After {
                ns: SAML_NS,
                local: "Issuer",
            },
            ..Default::default()
        };
        let xml = dsig::sign_enveloped(&unsigned, &self.id, signer, &options)
            .map_err(|e| DmpError::Signature(e.to_string()))?;
        Ok(SignedVihf {
            xml,
            id: self.id.clone(),
            not_on_or_after: self.not_on_or_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segur_ins_core::insi::InsiIdentity;
    use segur_ins_core::{
        Cog, DateNaissance, IdentityRecord, InsOid, Matricule, Sexe, TraitsStricts, TrustPolicy,
    };
    use segur_net::xml::{self, XmlLimits};

    fn qualified(oid: InsOid) -> QualifiedIdentity {
        let traits = TraitsStricts::from_insi(
            "PAT-TROIS",
            "DOMINIQUE",
            Sexe::F,
            DateNaissance::parse("1979-03-28").unwrap(),
            Some(Cog::parse("51215").unwrap()),
        );
        let mut r = IdentityRecord::new("IPP1", traits.clone(), Default::default(), "t");
        r.apply_insi(
            &InsiIdentity::forged_for_tests(
                Ins {
                    matricule: Matricule::received("2790351215189", Some("89")).unwrap(),
                    oid,
                },
                vec![],
                traits,
            ),
            "t",
        )
        .unwrap();
        r.add_document("CN", &TrustPolicy::default(), "t").unwrap();
        r.qualified().unwrap()
    }

    fn lps() -> Lps {
        Lps {
            nom: "SEGUR".into(),
            version: "0.1.0".into(),
            id_homologation_dmp: "HOMOLOG-TEST".into(),
            id: None,
        }
    }

    fn builder() -> VihfBuilder {
        Vihf::builder()
            .ps_id(PsId::rpps("01234567897").unwrap())
            .subject_name("MEDIONI Stéphane")
            .role(Role::profession("10").unwrap())
            .specialty(Role::savoir_faire("SM26").unwrap())
            .structure("1499999999")
            .secteur_activite(SecteurActivite::tre_r02("SA07").unwrap())
            .patient(&qualified(InsOid::NirTest), InsMode::Sandbox)
            .lps(lps())
            .authentification_mode(AuthentificationMode::Indirecte)
    }

    fn field(r: Result<Vihf>) -> &'static str {
        match r {
            Err(DmpError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn j65_table_matches_the_reference() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/reference/dmp/JDV_J65-SubjectRole-DMP.xml"
        );
        let bytes =
            std::fs::read(path).unwrap_or_else(|e| panic!("{path} (../shared/reference): {e}"));
        let limits = XmlLimits::default();
        let root = xml::parse(&bytes, &limits).unwrap();
        let svs = "urn:ihe:iti:svs:2008";
        let list = root
            .child(svs, "ValueSet")
            .and_then(|v| v.child(svs, "ConceptList"))
            .unwrap();
        let concepts: Vec<(String, String, String)> = list
            .children_named(svs, "Concept")
            .map(|c| {
                (
                    c.attr("code").unwrap().to_owned(),
                    c.attr("codeSystem").unwrap().to_owned(),
                    c.attr("displayName").unwrap().to_owned(),
                )
            })
            .collect();
        let ours: Vec<(String, String, String)> = j65::CONCEPTS
            .iter()
            .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
            .collect();
        assert_eq!(ours, concepts);
    }

    #[test]
    fn roles_come_from_j65() {
        let m = Role::profession("10").unwrap();
        assert_eq!(
            (m.code(), m.code_system(), m.display_name()),
            ("10", TRE_G15, "Médecin")
        );
        assert!(m.is_first_role());
        let sm = Role::savoir_faire("SM26").unwrap();
        assert!(!sm.is_first_role());
        assert_eq!(
            Role::automate(),
            Role::from_j65("AUTOMATE", ROLE_NON_PS).unwrap()
        );
        assert!(Role::profession("SM26").is_err());
        assert!(Role::profession("99").is_err());
        assert!(Role::savoir_faire("10").is_err());
        assert!(Role::from_j65("10", "1.2.3").is_err());
    }

    #[test]
    fn ps_ids() {
        assert_eq!(PsId::rpps("01234567897").unwrap().as_str(), "801234567897");
        assert_eq!(
            PsId::rpps(" 99900023138 ").unwrap().as_str(),
            "899900023138"
        );
        assert!(PsId::rpps("01234567890").is_err(), "Luhn");
        assert!(PsId::rpps("0123456789").is_err());
        assert!(PsId::rpps("00000000000").is_err(), "generic");
        assert_eq!(PsId::adeli("751234567").unwrap().as_str(), "0751234567");
        assert!(PsId::adeli("111111111").is_err());
        assert_eq!(
            PsId::idnat("31499999999/ABC12").unwrap().as_str(),
            "31499999999/ABC12"
        );
        assert_eq!(
            PsId::idnat("801234567897").unwrap().as_str(),
            "801234567897"
        );
        assert!(PsId::idnat("812345678901").is_err(), "RPPS Luhn checked");
        assert!(PsId::idnat("X123").is_err());
        assert!(PsId::idnat("3 123").is_err());
        assert!(PsId::idnat("30000").is_err());
    }

    #[test]
    fn secteurs() {
        assert_eq!(
            SecteurActivite::tre_r02("SA07").unwrap().value(),
            "SA07^1.2.250.1.71.4.2.4"
        );
        assert!(SecteurActivite::tre_r02("SA7").is_err());
        assert!(SecteurActivite::tre_r02("XX07").is_err());
        assert!(SecteurActivite::new("SA07", "1.2..3").is_err());
        assert!(SecteurActivite::new("S^A", TRE_R02).is_err());
    }

    #[test]
    fn builds_the_ig_layout() {
        let at = DateTime::parse_from_rfc3339("2024-09-02T13:22:25.789Z")
            .unwrap()
            .with_timezone(&Utc);
        let v = builder()
            .assertion_id("_09cd372d")
            .issue_instant(at)
            .build()
            .unwrap();
        let x = v.to_unsigned_xml("CN=TEST,O=A&B,C=FR");
        assert!(x.starts_with(r#"<Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_09cd372d" IssueInstant="2024-09-02T13:22:25.789Z" Version="2.0"><Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">CN=TEST,O=A&amp;B,C=FR</Issuer><Subject><NameID>801234567897</NameID></Subject><Conditions NotBefore="2024-09-02T13:22:25.789Z" NotOnOrAfter="2024-09-02T13:27:25.789Z"/><AuthnStatement AuthnInstant="2024-09-02T13:22:25.789Z"><AuthnContext><AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified</AuthnContextClassRef></AuthnContext></AuthnStatement>"#), "{x}");
        for part in [
            r#"<Attribute Name="VIHF_Version"><AttributeValue>3.0</AttributeValue></Attribute>"#,
            r#"<Attribute Name="Authentification_Mode"><AttributeValue>INDIRECTE</AttributeValue></Attribute>"#,
            r#"<Attribute Name="Secteur_Activite"><AttributeValue>SA07^1.2.250.1.71.4.2.4</AttributeValue></Attribute>"#,
            r#"<Attribute Name="urn:oasis:names:tc:xacml:2.0:resource:resource-id"><AttributeValue>279035121518989^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH</AttributeValue></Attribute>"#,
            r#"<Attribute Name="Ressource_URN"><AttributeValue>urn:dmp</AttributeValue></Attribute>"#,
            r#"<Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:subject-id"><AttributeValue>MEDIONI Stéphane</AttributeValue></Attribute>"#,
            r#"<Attribute Name="Identifiant_Structure"><AttributeValue>1499999999</AttributeValue></Attribute>"#,
            r#"<Attribute Name="LPS_Nom"><AttributeValue>SEGUR</AttributeValue></Attribute>"#,
            r#"<Attribute Name="LPS_ID_HOMOLOGATION_DMP"><AttributeValue>HOMOLOG-TEST</AttributeValue></Attribute>"#,
            r#"<PurposeOfUse xmlns="urn:hl7-org:v3" xsi:type="CE" code="normal" codeSystem="1.2.250.1.213.1.1.4.248" codeSystemName="mode acces VIHF 1.0" displayName="Accès normal"/>"#,
            r#"<Attribute Name="urn:oasis:names:tc:xacml:2.0:subject:role"><AttributeValue><Role xmlns="urn:hl7-org:v3" xsi:type="CE" code="10" codeSystem="1.2.250.1.71.1.2.7" displayName="Médecin"/></AttributeValue><AttributeValue><Role xmlns="urn:hl7-org:v3" xsi:type="CE" code="SM26" codeSystem="1.2.250.1.71.4.2.5" displayName="Qualifié en médecine générale (SM)"/></AttributeValue></Attribute>"#,
        ] {
            assert!(x.contains(part), "{part}\n{x}");
        }
        assert!(!x.contains("LPS_ID\""));
        assert!(!x.contains("confidentiality-code"));
        // Well-formed and namespace-correct.
        let root = xml::parse(x.as_bytes(), &XmlLimits::default()).unwrap();
        assert!(root.is(SAML_NS, "Assertion"));
        let role = root
            .child(SAML_NS, "AttributeStatement")
            .unwrap()
            .elements()
            .find(|a| a.attr("Name") == Some(names::ROLE))
            .unwrap()
            .child(SAML_NS, "AttributeValue")
            .unwrap()
            .child(HL7_NS, "Role")
            .unwrap()
            .attr("code")
            .map(str::to_owned);
        assert_eq!(role.as_deref(), Some("10"));
        // The INS never shows in Debug output.
        assert!(!format!("{v:?}").contains("279035121518989"));
    }

    #[test]
    fn variants() {
        let v = builder()
            .purpose(PurposeOfUse::BrisDeGlace)
            .authentification_mode(AuthentificationMode::Directe)
            .confidentiality_code(ConfidentialityCode::connexion_secrete())
            .lps(Lps {
                id: Some("inst-1".into()),
                ..lps()
            })
            .build()
            .unwrap();
        let x = v.to_unsigned_xml("CN=X");
        assert!(x.contains(r#"code="bris_de_glace""#));
        assert!(x.contains("SmartcardPKI"));
        assert!(x.contains("<AttributeValue>DIRECTE<"));
        assert!(x.contains(r#"<Attribute Name="LPS_ID"><AttributeValue>inst-1<"#));
        assert!(x.contains(names::CONFIDENTIALITY_CODE));
        let v = builder()
            .role(Role::automate())
            .specialty(Role::savoir_faire("SM26").unwrap())
            .build();
        assert_eq!(field(v), "role");
        let v = VihfBuilder {
            specialty: None,
            ..builder()
        }
        .role(Role::automate())
        .purpose(PurposeOfUse::Centre15)
        .authentification_mode(AuthentificationMode::IndirecteRenforcee)
        .build()
        .unwrap();
        let x = v.to_unsigned_xml("CN=X");
        assert!(x.contains(r#"code="centre_15""#));
        assert!(x.contains("MobileTwoFactorUnregistered"));
        assert!(x.contains(r#"code="AUTOMATE""#));
    }

    #[test]
    fn required_fields_are_named() {
        let cases: Vec<(VihfBuilder, &str)> = vec![
            (
                VihfBuilder {
                    ps_id: None,
                    ..builder()
                },
                "Subject/NameID",
            ),
            (
                VihfBuilder {
                    subject_name: None,
                    ..builder()
                },
                "subject-id",
            ),
            (builder().subject_name("  "), "subject-id"),
            (
                VihfBuilder {
                    role: None,
                    ..builder()
                },
                "role",
            ),
            (builder().role(Role::savoir_faire("SM26").unwrap()), "role"),
            (
                VihfBuilder {
                    structure: None,
                    ..builder()
                },
                "Identifiant_Structure",
            ),
            (builder().structure("14 99"), "Identifiant_Structure"),
            (
                VihfBuilder {
                    secteur: None,
                    ..builder()
                },
                "Secteur_Activite",
            ),
            (
                VihfBuilder {
                    patient: None,
                    ..builder()
                },
                "resource-id",
            ),
            (
                builder().patient(&qualified(InsOid::NirTest), InsMode::Production),
                "resource-id",
            ),
            (
                builder().patient(
                    &qualified(InsOid::Unknown("1.2.3".into())),
                    InsMode::Sandbox,
                ),
                "resource-id",
            ),
            (
                VihfBuilder {
                    lps: None,
                    ..builder()
                },
                "LPS_Nom",
            ),
            (
                builder().lps(Lps {
                    version: String::new(),
                    ..lps()
                }),
                "LPS_Version",
            ),
            (
                builder().lps(Lps {
                    id_homologation_dmp: "a\u{7}".into(),
                    ..lps()
                }),
                "LPS_ID_HOMOLOGATION_DMP",
            ),
            (
                VihfBuilder {
                    mode: None,
                    ..builder()
                },
                "Authentification_Mode",
            ),
            (
                builder().authn_context(AuthnContext::SmartcardPki),
                "AuthnContextClassRef",
            ),
            (
                builder()
                    .authentification_mode(AuthentificationMode::Directe)
                    .authn_context(AuthnContext::Unspecified),
                "AuthnContextClassRef",
            ),
            (
                builder().validity(Duration::hours(2)),
                "Conditions/@NotOnOrAfter",
            ),
            (
                builder().validity(Duration::zero()),
                "Conditions/@NotOnOrAfter",
            ),
            (builder().assertion_id("1abc"), "Assertion/@ID"),
            (builder().assertion_id("_a\"b"), "Assertion/@ID"),
            (
                builder()
                    .issue_instant(Utc::now() - Duration::hours(1))
                    .authn_instant(Utc::now()),
                "AuthnStatement/@AuthnInstant",
            ),
        ];
        for (b, expected) in cases {
            let r = b.build();
            let err = r.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
            assert_eq!(field(r), expected, "{err}");
            assert!(!err.contains("279035121518989"), "{err}");
        }
        // Production accepts a production INS.
        builder()
            .patient(&qualified(InsOid::Nir), InsMode::Production)
            .build()
            .unwrap();
    }

    #[test]
    fn defaults() {
        let v = builder().build().unwrap();
        assert!(v.id().starts_with('_'));
        assert_eq!(v.id().len(), 37);
        assert_eq!(v.not_on_or_after() - v.issue_instant(), DEFAULT_VALIDITY);
        assert!((Utc::now() - v.issue_instant()).num_seconds().abs() < 5);
        assert_ne!(builder().build().unwrap().id(), v.id());
    }
}
