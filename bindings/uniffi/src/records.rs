//! Records and enums of the surface: the facade's views ([`segur::views`]) with Kotlin/Swift
//! friendly names and enums where the facade uses codes. Conversions only; no logic.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};

use segur::views as v;

use crate::SegurError;

/// Who acts: recorded with every change and exchange.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct Actor {
    /// User identifier in the host software.
    pub user: String,
    /// RPPS of the practitioner, when a practitioner acts.
    #[uniffi(default = None)]
    pub rpps: Option<String>,
    /// FINESS of the structure.
    #[uniffi(default = None)]
    pub finess: Option<String>,
}

impl From<Actor> for v::Actor {
    fn from(a: Actor) -> Self {
        v::Actor {
            user: a.user,
            rpps: a.rpps,
            finess: a.finess,
        }
    }
}

/// Typed identity input (normalised by the library before use).
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct IdentityInput {
    /// Nom de naissance (birth name) as typed.
    pub nom_naissance: String,
    /// Prénoms de naissance (birth first names), space separated.
    pub prenoms: String,
    /// Date de naissance, `YYYY-MM-DD` (date lunaire allowed: `00` day or month).
    pub date_naissance: String,
    /// Sexe: M, F or I.
    pub sexe: String,
    /// Premier prénom when it differs from the first word of `prenoms`.
    #[uniffi(default = None)]
    pub premier_prenom: Option<String>,
    /// Lieu de naissance: COG (code officiel géographique), 5 characters.
    #[uniffi(default = None)]
    pub lieu_naissance: Option<String>,
    /// Nom utilisé (used name).
    #[uniffi(default = None)]
    pub nom_utilise: Option<String>,
    /// Prénom utilisé (used first name).
    #[uniffi(default = None)]
    pub prenom_utilise: Option<String>,
}

impl From<IdentityInput> for v::IdentityInput {
    fn from(i: IdentityInput) -> Self {
        v::IdentityInput {
            nom_naissance: i.nom_naissance,
            prenoms: i.prenoms,
            premier_prenom: i.premier_prenom,
            date_naissance: i.date_naissance,
            sexe: i.sexe,
            lieu_naissance: i.lieu_naissance,
            nom_utilise: i.nom_utilise,
            prenom_utilise: i.prenom_utilise,
        }
    }
}

/// The name fields [`crate::normalize`] knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NameField {
    /// Nom de naissance.
    NomNaissance,
    /// A prénom de naissance.
    Prenom,
    /// Premier prénom de naissance.
    PremierPrenom,
    /// Nom utilisé.
    NomUtilise,
    /// Prénom utilisé.
    PrenomUtilise,
}

impl From<NameField> for segur::Field {
    fn from(f: NameField) -> Self {
        use segur::Field;
        match f {
            NameField::NomNaissance => Field::NomNaissance,
            NameField::Prenom => Field::Prenom,
            NameField::PremierPrenom => Field::PremierPrenom,
            NameField::NomUtilise => Field::NomUtilise,
            NameField::PrenomUtilise => Field::PrenomUtilise,
        }
    }
}

/// RNIV attributes of an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RnivAttribute {
    /// `DOUT`: identité douteuse (doubtful).
    Douteuse,
    /// `FICT`: identité fictive (fictitious).
    Fictive,
    /// `HOMA`: homonyme avéré (proven namesake).
    Homonyme,
}

impl From<RnivAttribute> for segur::Attribute {
    fn from(a: RnivAttribute) -> Self {
        use segur::Attribute;
        match a {
            RnivAttribute::Douteuse => Attribute::Douteuse,
            RnivAttribute::Fictive => Attribute::Fictive,
            RnivAttribute::Homonyme => Attribute::Homonyme,
        }
    }
}

/// RNIV status of an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum IdentityStatus {
    /// `PROV`: provisoire, the default.
    Provisoire,
    /// `RECUP`: récupérée — INS retrieved from INSi, no high-trust document.
    Recuperee,
    /// `VALI`: validée — high-trust document checked, no INSi retrieval.
    Validee,
    /// `QUAL`: qualifiée — both; the only status that allows exchanging the INS.
    Qualifiee,
}

impl IdentityStatus {
    /// From the facade's code. An unknown code (impossible today) reads as the most restrictive
    /// status, never as qualifiée.
    fn from_code(code: &str) -> Self {
        match code {
            "RECUP" => IdentityStatus::Recuperee,
            "VALI" => IdentityStatus::Validee,
            "QUAL" => IdentityStatus::Qualifiee,
            _ => IdentityStatus::Provisoire,
        }
    }
}

/// Where the key of a matricule came from and whether it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum KeyStatus {
    /// The key given matches the number.
    Valid,
    /// No key was given; it was computed.
    Computed,
    /// The key received does not match (received matricules are flagged, never refused).
    Mismatch,
}

/// A checked matricule INS.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MatriculeInfo {
    /// 15 characters (number + key).
    pub matricule: String,
    /// 13 characters.
    pub number: String,
    /// 2 digits.
    pub key: String,
    /// Where the key came from.
    pub key_status: KeyStatus,
    /// The right key, when the key received mismatches.
    pub expected_key: Option<String>,
}

impl From<v::MatriculeInfo> for MatriculeInfo {
    fn from(m: v::MatriculeInfo) -> Self {
        let key_status = match m.key_status.as_str() {
            "valid" => KeyStatus::Valid,
            "computed" => KeyStatus::Computed,
            _ => KeyStatus::Mismatch,
        };
        MatriculeInfo {
            matricule: m.matricule,
            number: m.number,
            key: m.key,
            key_status,
            expected_key: m.expected_key,
        }
    }
}

/// An INS: matricule and OID.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Ins {
    /// The matricule INS.
    pub matricule: MatriculeInfo,
    /// OID of the matricule (NIR, NIA...).
    pub oid: String,
}

impl From<v::InsView> for Ins {
    fn from(i: v::InsView) -> Self {
        Ins {
            matricule: i.matricule.into(),
            oid: i.oid,
        }
    }
}

/// Strict traits (traits stricts) as normalised for INSi.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Traits {
    /// Nom de naissance.
    pub nom_naissance: String,
    /// Prénoms de naissance.
    pub prenoms: Vec<String>,
    /// Premier prénom de naissance.
    pub premier_prenom: String,
    /// M, F or I.
    pub sexe: String,
    /// Date de naissance (date lunaire), `YYYY-MM-DD`.
    pub date_naissance: String,
    /// Lieu de naissance (COG).
    pub lieu_naissance: Option<String>,
}

impl From<v::TraitsView> for Traits {
    fn from(t: v::TraitsView) -> Self {
        Traits {
            nom_naissance: t.nom_naissance,
            prenoms: t.prenoms,
            premier_prenom: t.premier_prenom,
            sexe: t.sexe,
            date_naissance: t.date_naissance,
            lieu_naissance: t.lieu_naissance,
        }
    }
}

/// RNIV attributes set on an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Attributes {
    /// Douteuse.
    pub douteuse: bool,
    /// Fictive.
    pub fictive: bool,
    /// Homonyme.
    pub homonyme: bool,
}

/// An identity document checked.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Document {
    /// Type code (CN, PA...).
    pub code: String,
    /// Trust level: `eleve` or `faible`.
    pub trust: String,
    /// When (RFC 3339).
    pub checked_at: String,
    /// Who.
    pub checked_by: String,
}

/// One entry of the RNIV history of an identity.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HistoryEntry {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
    /// `status`, `attribute`, `ins_retrieved`, `ins_dropped`, `traits_edited`,
    /// `document_checked`.
    pub change: String,
    /// Old status, for status changes (none for the creation).
    pub from_status: Option<IdentityStatus>,
    /// New status, for status changes.
    pub to_status: Option<IdentityStatus>,
    /// Attribute or document code, when relevant.
    pub detail: Option<String>,
}

/// An identity record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Identity {
    /// Local identifier (IPP).
    pub local_id: String,
    /// RNIV status.
    pub status: IdentityStatus,
    /// provisoire, récupérée, validée, qualifiée.
    pub status_label: String,
    /// RNIV attributes.
    pub attributes: Attributes,
    /// Strict traits.
    pub traits: Traits,
    /// Nom utilisé.
    pub nom_utilise: Option<String>,
    /// Prénom utilisé.
    pub prenom_utilise: Option<String>,
    /// The INS retrieved from INSi, for display (récupérée or qualifiée).
    pub ins: Option<Ins>,
    /// INS history (INSHISTO).
    pub ins_history: Vec<Ins>,
    /// The INS that may be transmitted: present only for a qualifiée identity (RNIV rule 28).
    pub transmissible_ins: Option<Ins>,
    /// Identity documents checked.
    pub documents: Vec<Document>,
    /// RNIV history (rule 21).
    pub history: Vec<HistoryEntry>,
}

impl From<v::IdentityView> for Identity {
    fn from(i: v::IdentityView) -> Self {
        Identity {
            local_id: i.local_id,
            status: IdentityStatus::from_code(&i.status),
            status_label: i.status_label,
            attributes: Attributes {
                douteuse: i.attributes.douteuse,
                fictive: i.attributes.fictive,
                homonyme: i.attributes.homonyme,
            },
            traits: i.traits.into(),
            nom_utilise: i.nom_utilise,
            prenom_utilise: i.prenom_utilise,
            ins: i.ins.map(Into::into),
            ins_history: i.ins_history.into_iter().map(Into::into).collect(),
            transmissible_ins: i.transmissible_ins.map(Into::into),
            documents: i
                .documents
                .into_iter()
                .map(|d| Document {
                    code: d.code,
                    trust: d.trust,
                    checked_at: d.checked_at,
                    checked_by: d.checked_by,
                })
                .collect(),
            history: i
                .history
                .into_iter()
                .map(|h| HistoryEntry {
                    at: h.at,
                    by: h.by,
                    reason: h.reason,
                    change: h.change,
                    from_status: h.from_status.as_deref().map(IdentityStatus::from_code),
                    to_status: h.to_status.as_deref().map(IdentityStatus::from_code),
                    detail: h.detail,
                })
                .collect(),
        }
    }
}

/// The identity INSi returned.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InsiIdentity {
    /// Active INS (INSACTIF).
    pub ins: Ins,
    /// INS history (INSHISTO).
    pub history: Vec<Ins>,
    /// Traits as returned (TIQ), verbatim.
    pub traits: Traits,
}

/// One INSi call of a search (CNDA 2.07 strategy).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Attempt {
    /// First names sent.
    pub prenoms: Vec<String>,
    /// Whether the COG was sent.
    pub with_cog: bool,
    /// CR of this call.
    pub code: String,
}

/// The result of an INSi search.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InsiResult {
    /// CR: `00` one identity, `01` none, `02` several.
    pub code: String,
    /// LibelleCR.
    pub libelle: String,
    /// The identity, with CR `00`.
    pub identity: Option<InsiIdentity>,
    /// The calls made.
    pub attempts: Vec<Attempt>,
}

impl From<v::InsiResultView> for InsiResult {
    fn from(r: v::InsiResultView) -> Self {
        InsiResult {
            code: r.code,
            libelle: r.libelle,
            identity: r.identity.map(|i| InsiIdentity {
                ins: i.ins.into(),
                history: i.history.into_iter().map(Into::into).collect(),
                traits: i.traits.into(),
            }),
            attempts: r
                .attempts
                .into_iter()
                .map(|a| Attempt {
                    prenoms: a.prenoms,
                    with_cog: a.with_cog,
                    code: a.code,
                })
                .collect(),
        }
    }
}

/// The outcome of searching INSi for a recorded identity.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IdentitySearchResult {
    /// The INSi result.
    pub result: InsiResult,
    /// The identity after the result was applied.
    pub identity: Identity,
}

impl From<v::IdentitySearchView> for IdentitySearchResult {
    fn from(s: v::IdentitySearchView) -> Self {
        IdentitySearchResult {
            result: s.result.into(),
            identity: s.identity.into(),
        }
    }
}

/// Filters of [`crate::SegurClient::exchanges`]; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct ExchangeQuery {
    /// Patient local id.
    #[uniffi(default = None)]
    pub patient_local_id: Option<String>,
    /// RPPS.
    #[uniffi(default = None)]
    pub practitioner: Option<String>,
    /// Channel (`insi`...).
    #[uniffi(default = None)]
    pub channel: Option<String>,
    /// Status (`ok`, `not_found`, `multiple`, `fault`, `failed`).
    #[uniffi(default = None)]
    pub status: Option<String>,
    /// From (inclusive).
    #[uniffi(default = None)]
    pub from: Option<SystemTime>,
    /// To (exclusive).
    #[uniffi(default = None)]
    pub to: Option<SystemTime>,
    /// At most this many rows, newest first (default 1000).
    #[uniffi(default = None)]
    pub limit: Option<u32>,
}

impl TryFrom<ExchangeQuery> for segur::ExchangeQuery {
    type Error = SegurError;

    fn try_from(q: ExchangeQuery) -> Result<Self, SegurError> {
        Ok(segur::ExchangeQuery {
            patient_local_id: q.patient_local_id,
            practitioner: q.practitioner,
            channel: q.channel,
            status: q.status,
            from: q.from.map(utc).transpose()?,
            to: q.to.map(utc).transpose()?,
            limit: q.limit,
        })
    }
}

/// A foreign timestamp as UTC; out of chrono's range (±262,000 years) is an input error, not a
/// panic.
pub(crate) fn utc(t: SystemTime) -> Result<DateTime<Utc>, SegurError> {
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (i64::try_from(d.as_secs()).ok(), d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).ok().map(|s| -s);
            match d.subsec_nanos() {
                0 => (secs, 0),
                n => (secs.and_then(|s| s.checked_sub(1)), 1_000_000_000 - n),
            }
        }
    };
    secs.and_then(|s| DateTime::from_timestamp(s, nanos))
        .ok_or_else(|| SegurError::InvalidInput {
            code: segur::ErrorCode::InvalidInput as u32,
            reason: "date out of range".into(),
        })
}

/// A journaled exchange.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ExchangeRow {
    /// Row id.
    pub id: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Channel.
    pub channel: String,
    /// Operation.
    pub operation: String,
    /// Message id.
    pub message_id: String,
    /// RPPS.
    pub practitioner: Option<String>,
    /// FINESS.
    pub structure: Option<String>,
    /// Patient local id.
    pub patient_local_id: Option<String>,
    /// INS.
    pub ins: Option<String>,
    /// Whether the INS was qualified.
    pub ins_qualified: bool,
    /// Document type.
    pub document_type: Option<String>,
    /// Document unique id.
    pub document_id: Option<String>,
    /// Status (`ok`, `not_found`, `multiple`, `fault`, `failed`).
    pub status: String,
    /// CR / fault codes.
    pub result_code: Option<String>,
    /// Error.
    pub error: Option<String>,
    /// Duration in ms.
    pub duration_ms: f64,
    /// HTTP status.
    pub http_status: Option<u16>,
    /// SHA-256 of the request.
    pub request_sha256: String,
    /// SHA-256 of the response.
    pub response_sha256: Option<String>,
    /// Request size in bytes.
    pub request_bytes: i64,
    /// Response size in bytes.
    pub response_bytes: Option<i64>,
}

impl From<segur::ExchangeRow> for ExchangeRow {
    fn from(r: segur::ExchangeRow) -> Self {
        ExchangeRow {
            id: r.id,
            at: r.at,
            channel: r.channel,
            operation: r.operation,
            message_id: r.message_id,
            practitioner: r.practitioner,
            structure: r.structure,
            patient_local_id: r.patient_local_id,
            ins: r.ins,
            ins_qualified: r.ins_qualified,
            document_type: r.document_type,
            document_id: r.document_id,
            status: r.status,
            result_code: r.result_code,
            error: r.error,
            duration_ms: r.duration_ms,
            http_status: r.http_status,
            request_sha256: r.request_sha256,
            response_sha256: r.response_sha256,
            request_bytes: r.request_bytes,
            response_bytes: r.response_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_convert_or_fail_cleanly() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
        assert_eq!(utc(t).unwrap().timestamp(), 1_700_000_000);
        let before = UNIX_EPOCH - Duration::new(10, 250_000_000);
        let b = utc(before).unwrap();
        assert_eq!(
            (b.timestamp(), b.timestamp_subsec_nanos()),
            (-11, 750_000_000)
        );
        if let Some(far) = UNIX_EPOCH.checked_add(Duration::from_secs(1 << 62)) {
            assert!(matches!(utc(far), Err(SegurError::InvalidInput { .. })));
        }
    }
}
