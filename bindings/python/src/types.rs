//! Native classes: the facade's views as frozen Python objects, and the inputs.
//!
//! `__repr__` never shows identity data (names, birth date, matricule): objects end up in logs.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyString;
use segur::ins::KeyStatus;
use segur::{
    AttemptView, AttributesView, DocumentView, ExchangeRow, HistoryView, IdentitySearchView,
    IdentityView, InsView, InsiIdentityView, InsiResultView, RnivEventRow, SegurError, TraitsView,
};

use crate::errors::{invalid_input, to_pyerr};

/// A `str` argument, borrowed: non-`str` → `TypeError`; a lone surrogate (not encodable as UTF-8)
/// → `InsError` (code 100) whose message does not echo the text.
pub(crate) struct Text<'a>(pub &'a str);

impl<'a, 'py> FromPyObject<'a, 'py> for Text<'a> {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match <&'a str as FromPyObject<'a, 'py>>::extract(ob) {
            Ok(s) => Ok(Text(s)),
            // A `str` that cannot be encoded: lone surrogates.
            Err(_) if ob.is_instance_of::<PyString>() => {
                Err(invalid_input("text is not valid Unicode (lone surrogate)"))
            }
            Err(e) => Err(e),
        }
    }
}

impl Text<'_> {
    pub(crate) fn owned(&self) -> String {
        self.0.to_owned()
    }
}

pub(crate) fn opt(t: Option<Text<'_>>) -> Option<String> {
    t.map(|t| t.owned())
}

/// A checked matricule INS (NIR or NIA): 13 characters + 2-digit key.
#[pyclass(frozen, module = "segur")]
pub struct Matricule {
    pub(crate) m: segur::ins::Matricule,
}

#[pymethods]
impl Matricule {
    /// Checks a typed matricule: 13 characters, or 15 with the key; or 13 + `key`.
    #[staticmethod]
    #[pyo3(signature = (matricule, key=None))]
    fn check(matricule: Text<'_>, key: Option<Text<'_>>) -> PyResult<Self> {
        check(matricule.0, key.map(|k| k.0))
    }
    /// 15 characters (number + key).
    #[getter]
    fn matricule(&self) -> String {
        self.m.to_15()
    }
    /// 13 characters.
    #[getter]
    fn number(&self) -> &str {
        self.m.number()
    }
    /// The 2-digit key.
    #[getter]
    fn key(&self) -> String {
        self.m.key_str()
    }
    /// `valid` (given and right) or `computed` (not given).
    #[getter]
    fn key_status(&self) -> &'static str {
        match self.m.key_status() {
            KeyStatus::Valid => "valid",
            KeyStatus::Computed => "computed",
            KeyStatus::Mismatch { .. } => "mismatch",
        }
    }
    fn __repr__(&self) -> String {
        format!("<segur.Matricule key_status={:?}>", self.key_status())
    }
}

pub(crate) fn check(matricule: &str, key: Option<&str>) -> PyResult<Matricule> {
    let m = match key {
        Some(k) => segur::ins::Matricule::parse_with_key(matricule, k),
        None => segur::ins::Matricule::parse(matricule),
    };
    m.map(|m| Matricule { m })
        .map_err(|e| to_pyerr(SegurError::from(e)))
}

/// The four RNIV statuses.
#[pyclass(frozen, eq, hash, module = "segur")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[allow(clippy::upper_case_acronyms)]
pub enum IdentityStatus {
    /// provisoire
    PROV,
    /// récupérée: INS retrieved from INSi, no high-trust document
    RECUP,
    /// validée: high-trust document checked, no INSi retrieval
    VALI,
    /// qualifiée: both; the only status allowing the INS to be exchanged
    QUAL,
}

#[pymethods]
impl IdentityStatus {
    /// PROV, RECUP, VALI, QUAL.
    #[getter]
    fn code(&self) -> &'static str {
        match self {
            IdentityStatus::PROV => "PROV",
            IdentityStatus::RECUP => "RECUP",
            IdentityStatus::VALI => "VALI",
            IdentityStatus::QUAL => "QUAL",
        }
    }
    /// provisoire, récupérée, validée, qualifiée.
    #[getter]
    fn label(&self) -> &'static str {
        match self {
            IdentityStatus::PROV => "provisoire",
            IdentityStatus::RECUP => "récupérée",
            IdentityStatus::VALI => "validée",
            IdentityStatus::QUAL => "qualifiée",
        }
    }
    fn __str__(&self) -> &'static str {
        self.code()
    }
}

impl IdentityStatus {
    fn parse(code: &str) -> Result<Self, SegurError> {
        Ok(match code {
            "PROV" => IdentityStatus::PROV,
            "RECUP" => IdentityStatus::RECUP,
            "VALI" => IdentityStatus::VALI,
            "QUAL" => IdentityStatus::QUAL,
            _ => return Err(SegurError::Internal("unknown identity status".into())),
        })
    }
}

/// Who acts: recorded with every change and exchange.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct Actor {
    /// User identifier in the host software.
    pub user: String,
    /// RPPS of the practitioner.
    pub rpps: Option<String>,
    /// FINESS of the structure.
    pub finess: Option<String>,
}

#[pymethods]
impl Actor {
    #[new]
    #[pyo3(signature = (user, *, rpps=None, finess=None))]
    fn new(user: Text<'_>, rpps: Option<Text<'_>>, finess: Option<Text<'_>>) -> Self {
        Self {
            user: user.owned(),
            rpps: opt(rpps),
            finess: opt(finess),
        }
    }
    fn __repr__(&self) -> String {
        format!("<segur.Actor user={:?}>", self.user)
    }
}

impl From<&Actor> for segur::Actor {
    fn from(a: &Actor) -> Self {
        segur::Actor {
            user: a.user.clone(),
            rpps: a.rpps.clone(),
            finess: a.finess.clone(),
        }
    }
}

/// Typed identity traits, as entered (normalised by the library before use).
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct IdentityInput {
    /// Nom de naissance.
    pub nom_naissance: String,
    /// Prénoms de naissance, space separated.
    pub prenoms: String,
    /// YYYY-MM-DD.
    pub date_naissance: String,
    /// M, F or I.
    pub sexe: String,
    /// Premier prénom, when it differs from the first word of `prenoms`.
    pub premier_prenom: Option<String>,
    /// COG (code officiel géographique).
    pub lieu_naissance: Option<String>,
    /// Nom utilisé.
    pub nom_utilise: Option<String>,
    /// Prénom utilisé.
    pub prenom_utilise: Option<String>,
}

#[pymethods]
impl IdentityInput {
    #[new]
    #[pyo3(signature = (nom_naissance, prenoms, date_naissance, sexe, *, premier_prenom=None,
        lieu_naissance=None, nom_utilise=None, prenom_utilise=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        nom_naissance: Text<'_>,
        prenoms: Text<'_>,
        date_naissance: Text<'_>,
        sexe: Text<'_>,
        premier_prenom: Option<Text<'_>>,
        lieu_naissance: Option<Text<'_>>,
        nom_utilise: Option<Text<'_>>,
        prenom_utilise: Option<Text<'_>>,
    ) -> Self {
        Self {
            nom_naissance: nom_naissance.owned(),
            prenoms: prenoms.owned(),
            date_naissance: date_naissance.owned(),
            sexe: sexe.owned(),
            premier_prenom: opt(premier_prenom),
            lieu_naissance: opt(lieu_naissance),
            nom_utilise: opt(nom_utilise),
            prenom_utilise: opt(prenom_utilise),
        }
    }
    fn __repr__(&self) -> &'static str {
        "<segur.IdentityInput>"
    }
}

impl From<&IdentityInput> for segur::IdentityInput {
    fn from(i: &IdentityInput) -> Self {
        segur::IdentityInput {
            nom_naissance: i.nom_naissance.clone(),
            prenoms: i.prenoms.clone(),
            premier_prenom: i.premier_prenom.clone(),
            date_naissance: i.date_naissance.clone(),
            sexe: i.sexe.clone(),
            lieu_naissance: i.lieu_naissance.clone(),
            nom_utilise: i.nom_utilise.clone(),
            prenom_utilise: i.prenom_utilise.clone(),
        }
    }
}

/// Strict traits (traits stricts), normalised.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct Traits {
    /// Nom de naissance.
    pub nom_naissance: String,
    /// Prénoms de naissance.
    pub prenoms: Vec<String>,
    /// Premier prénom de naissance.
    pub premier_prenom: String,
    /// M, F, I.
    pub sexe: String,
    /// YYYY-MM-DD (date lunaire).
    pub date_naissance: String,
    /// COG.
    pub lieu_naissance: Option<String>,
}

impl From<TraitsView> for Traits {
    fn from(t: TraitsView) -> Self {
        Self {
            nom_naissance: t.nom_naissance,
            prenoms: t.prenoms,
            premier_prenom: t.premier_prenom,
            sexe: t.sexe,
            date_naissance: t.date_naissance,
            lieu_naissance: t.lieu_naissance,
        }
    }
}

#[pymethods]
impl Traits {
    fn __repr__(&self) -> &'static str {
        "<segur.Traits>"
    }
}

/// An INS: matricule + OID.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct Ins {
    /// 15 characters.
    pub matricule: String,
    /// 13 characters.
    pub number: String,
    /// 2 digits.
    pub key: String,
    /// `valid`, `computed` or `mismatch`.
    pub key_status: String,
    /// OID (NIR 1.2.250.1.213.1.4.8, NIA ...9, test ...10/11).
    pub oid: String,
}

impl From<InsView> for Ins {
    fn from(i: InsView) -> Self {
        Self {
            matricule: i.matricule.matricule,
            number: i.matricule.number,
            key: i.matricule.key,
            key_status: i.matricule.key_status,
            oid: i.oid,
        }
    }
}

#[pymethods]
impl Ins {
    fn __repr__(&self) -> String {
        format!("<segur.Ins oid={:?}>", self.oid)
    }
}

/// RNIV attributes.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct Attributes {
    /// Identité douteuse.
    pub douteuse: bool,
    /// Identité fictive.
    pub fictive: bool,
    /// Homonyme.
    pub homonyme: bool,
}

impl From<AttributesView> for Attributes {
    fn from(a: AttributesView) -> Self {
        Self {
            douteuse: a.douteuse,
            fictive: a.fictive,
            homonyme: a.homonyme,
        }
    }
}

#[pymethods]
impl Attributes {
    fn __repr__(&self) -> String {
        format!(
            "<segur.Attributes douteuse={} fictive={} homonyme={}>",
            self.douteuse, self.fictive, self.homonyme
        )
    }
}

/// An identity document checked.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct Document {
    /// CN, PA...
    pub code: String,
    /// `eleve` or `faible`.
    pub trust: String,
    /// RFC 3339.
    pub checked_at: String,
    /// Who.
    pub checked_by: String,
}

impl From<DocumentView> for Document {
    fn from(d: DocumentView) -> Self {
        Self {
            code: d.code,
            trust: d.trust,
            checked_at: d.checked_at,
            checked_by: d.checked_by,
        }
    }
}

/// One RNIV history entry.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct HistoryEntry {
    /// RFC 3339.
    pub at: String,
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
    /// `status`, `attribute`, `ins_retrieved`, `ins_dropped`, `traits_edited`,
    /// `document_checked`.
    pub change: String,
    /// Old status code (status changes).
    pub from_status: Option<String>,
    /// New status code (status changes).
    pub to_status: Option<String>,
    /// Attribute or document code.
    pub detail: Option<String>,
}

impl From<HistoryView> for HistoryEntry {
    fn from(h: HistoryView) -> Self {
        Self {
            at: h.at,
            by: h.by,
            reason: h.reason,
            change: h.change,
            from_status: h.from_status,
            to_status: h.to_status,
            detail: h.detail,
        }
    }
}

/// An identity record.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
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
    /// INSHISTO.
    pub ins_history: Vec<Ins>,
    /// The INS that may be transmitted: only for a qualifiée identity (RNIV rule 28).
    pub transmissible_ins: Option<Ins>,
    /// Identity documents checked.
    pub documents: Vec<Document>,
    /// RNIV history.
    pub history: Vec<HistoryEntry>,
}

impl TryFrom<IdentityView> for Identity {
    type Error = SegurError;
    fn try_from(v: IdentityView) -> Result<Self, SegurError> {
        Ok(Self {
            status: IdentityStatus::parse(&v.status)?,
            local_id: v.local_id,
            status_label: v.status_label,
            attributes: v.attributes.into(),
            traits: v.traits.into(),
            nom_utilise: v.nom_utilise,
            prenom_utilise: v.prenom_utilise,
            ins: v.ins.map(Into::into),
            ins_history: v.ins_history.into_iter().map(Into::into).collect(),
            transmissible_ins: v.transmissible_ins.map(Into::into),
            documents: v.documents.into_iter().map(Into::into).collect(),
            history: v.history.into_iter().map(Into::into).collect(),
        })
    }
}

#[pymethods]
impl Identity {
    fn __repr__(&self) -> String {
        format!(
            "<segur.Identity local_id={:?} status={}>",
            self.local_id,
            self.status.code()
        )
    }
}

/// The identity INSi returned.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct InsiIdentity {
    /// INSACTIF.
    pub ins: Ins,
    /// INSHISTO.
    pub history: Vec<Ins>,
    /// Traits as INSi returned them.
    pub traits: Traits,
}

impl From<InsiIdentityView> for InsiIdentity {
    fn from(i: InsiIdentityView) -> Self {
        Self {
            ins: i.ins.into(),
            history: i.history.into_iter().map(Into::into).collect(),
            traits: i.traits.into(),
        }
    }
}

/// One INSi call of a search.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct Attempt {
    /// First names sent.
    pub prenoms: Vec<String>,
    /// Whether the COG was sent.
    pub with_cog: bool,
    /// CR.
    pub code: String,
}

impl From<AttemptView> for Attempt {
    fn from(a: AttemptView) -> Self {
        Self {
            prenoms: a.prenoms,
            with_cog: a.with_cog,
            code: a.code,
        }
    }
}

/// The result of an INSi search.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct InsiResult {
    /// CR: `00` (found), `01` (no identity), `02` (several).
    pub code: String,
    /// LibelleCR.
    pub libelle: String,
    /// The identity (CR 00).
    pub identity: Option<InsiIdentity>,
    /// The calls made (CNDA 2.07 strategy).
    pub attempts: Vec<Attempt>,
}

impl From<InsiResultView> for InsiResult {
    fn from(r: InsiResultView) -> Self {
        Self {
            code: r.code,
            libelle: r.libelle,
            identity: r.identity.map(Into::into),
            attempts: r.attempts.into_iter().map(Into::into).collect(),
        }
    }
}

#[pymethods]
impl InsiResult {
    fn __repr__(&self) -> String {
        format!("<segur.InsiResult code={:?}>", self.code)
    }
}

/// The outcome of searching INSi for a recorded identity.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct IdentitySearch {
    /// The INSi result.
    pub result: InsiResult,
    /// The identity after the result was applied.
    pub identity: Identity,
}

impl TryFrom<IdentitySearchView> for IdentitySearch {
    type Error = SegurError;
    fn try_from(v: IdentitySearchView) -> Result<Self, SegurError> {
        Ok(Self {
            result: v.result.into(),
            identity: v.identity.try_into()?,
        })
    }
}

/// One exchange of the journal.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct Exchange {
    /// Row id.
    pub id: i64,
    /// RFC 3339 UTC.
    pub at: String,
    /// `insi`, ...
    pub channel: String,
    /// Operation.
    pub operation: String,
    /// WS-Addressing MessageID.
    pub message_id: String,
    /// RPPS.
    pub practitioner: Option<String>,
    /// FINESS.
    pub structure: Option<String>,
    /// Patient local id.
    pub patient_local_id: Option<String>,
    /// INS involved.
    pub ins: Option<String>,
    /// Whether that INS was qualified.
    pub ins_qualified: bool,
    /// Document type.
    pub document_type: Option<String>,
    /// Document unique id.
    pub document_id: Option<String>,
    /// `ok`, `not_found`, `multiple`, `fault`, `failed`.
    pub status: String,
    /// CR or fault code.
    pub result_code: Option<String>,
    /// Error text.
    pub error: Option<String>,
    /// Duration.
    pub duration_ms: f64,
    /// HTTP status.
    pub http_status: Option<u16>,
    /// SHA-256 of the request.
    pub request_sha256: String,
    /// SHA-256 of the response.
    pub response_sha256: Option<String>,
    /// Request size.
    pub request_bytes: i64,
    /// Response size.
    pub response_bytes: Option<i64>,
}

impl From<ExchangeRow> for Exchange {
    fn from(r: ExchangeRow) -> Self {
        Self {
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

#[pymethods]
impl Exchange {
    fn __repr__(&self) -> String {
        format!(
            "<segur.Exchange id={} channel={:?} status={:?}>",
            self.id, self.channel, self.status
        )
    }
}

/// A recorded RNIV change.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct RnivEvent {
    /// Row id.
    pub id: i64,
    /// RFC 3339 UTC.
    pub at: String,
    /// Patient local id.
    pub patient_local_id: String,
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: String,
    /// `status`, `attribute`, `ins_retrieved`, `ins_dropped`, `traits_edited`,
    /// `document_checked`.
    pub change: String,
    /// Old status code.
    pub from_status: Option<String>,
    /// New status code.
    pub to_status: Option<String>,
}

impl From<RnivEventRow> for RnivEvent {
    fn from(r: RnivEventRow) -> Self {
        Self {
            id: r.id,
            at: r.at,
            patient_local_id: r.patient_local_id,
            actor: r.actor,
            reason: r.reason,
            change: r.change,
            from_status: r.from_status,
            to_status: r.to_status,
        }
    }
}

/// `datetime` (with a time zone) or RFC 3339 `str` → UTC instant.
pub(crate) fn instant(v: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<DateTime<Utc>>> {
    let Some(v) = v else { return Ok(None) };
    let text = if v.is_instance_of::<PyString>() {
        v.extract::<Text<'_>>()?.owned()
    } else if v.hasattr("isoformat")? {
        v.call_method0("isoformat")?.extract::<Text<'_>>()?.owned()
    } else {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{what} must be a datetime or an RFC 3339 str"
        )));
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| {
            invalid_input(format!(
                "{what}: expected a time-zone aware RFC 3339 instant"
            ))
        })
}
