//! The DMP (dossier médical partagé, `dmp.md`) classes of the `segur` package: the acting
//! professional ([`Practitioner`]), the inputs ([`DmpConsent`], [`DmpSendOptions`],
//! [`DmpFindQuery`], [`DmpUpdate`]) and the facade's views ([`DmpStatus`], [`DmpAuthorization`],
//! [`DmpSendResult`], [`DmpEntry`], [`DmpDocumentRow`]) as frozen Python objects. The client
//! methods that use them are in [`crate::client`]; every DMP call is journaled by the facade.
//!
//! `__repr__` never shows patient data (INS, names, document titles).

use chrono::{DateTime, Utc};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString, PyTuple};
use segur::{Segur, SegurError};

use crate::cda::BuiltDocument;
use crate::errors::{invalid_input, to_pyerr};
use crate::types::instant;
use crate::types::{opt, Text};

/// `True`/`False` as Python spells them (for `__repr__`).
fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// An optional string as `repr` shows it: quoted, or `None`.
fn py_opt(o: &Option<String>) -> String {
    o.as_ref()
        .map_or_else(|| "None".to_owned(), |s| format!("{s:?}"))
}

// ---- the professional ----------------------------------------------------------------------

/// The professional who acts on the DMP: VIHF subject and XDS author (`dmp.md` §3; DMP/AIRS.06:
/// a named professional, never a generic account).
#[pyclass(frozen, eq, get_all, module = "segur")]
#[derive(Clone, PartialEq, Eq)]
pub struct Practitioner {
    /// National id (IdNat_PS): `8` + RPPS, `0` + ADELI...
    pub id_nat: String,
    /// Family name.
    pub nom: String,
    /// First name.
    pub prenom: String,
    /// Profession (TRE_G15, e.g. `10` médecin), or `AUTOMATE`.
    pub profession: String,
    /// Savoir-faire (TRE_R01, e.g. `SM26`).
    pub specialty: Option<String>,
    /// `DIRECTE` (CPS), `INDIRECTE` (default) or `INDIRECTE_RENFORCEE`.
    pub auth_mode: Option<String>,
    /// Purpose of use: `normal` (default), `bris_de_glace`, `centre_15`.
    pub purpose: Option<String>,
}

#[pymethods]
impl Practitioner {
    #[new]
    #[pyo3(signature = (id_nat, nom, prenom, profession, *, specialty=None, auth_mode=None,
        purpose=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        id_nat: Text<'_>,
        nom: Text<'_>,
        prenom: Text<'_>,
        profession: Text<'_>,
        specialty: Option<Text<'_>>,
        auth_mode: Option<Text<'_>>,
        purpose: Option<Text<'_>>,
    ) -> Self {
        Self {
            id_nat: id_nat.owned(),
            nom: nom.owned(),
            prenom: prenom.owned(),
            profession: profession.owned(),
            specialty: opt(specialty),
            auth_mode: opt(auth_mode),
            purpose: opt(purpose),
        }
    }

    /// The same professional acting with another purpose of use (`normal`, `bris_de_glace`,
    /// `centre_15`; checked when the DMP is called).
    fn with_purpose(&self, purpose: Text<'_>) -> Self {
        Self {
            purpose: Some(purpose.owned()),
            ..self.clone()
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "<segur.Practitioner id_nat={:?} profession={:?}>",
            self.id_nat, self.profession
        )
    }
}

impl From<&Practitioner> for segur::Practitioner {
    fn from(p: &Practitioner) -> Self {
        segur::Practitioner {
            id_nat: p.id_nat.clone(),
            nom: p.nom.clone(),
            prenom: p.prenom.clone(),
            profession: p.profession.clone(),
            specialty: p.specialty.clone(),
            auth_mode: p.auth_mode.clone(),
            purpose: p.purpose.clone(),
        }
    }
}

impl From<&segur::Practitioner> for Practitioner {
    fn from(p: &segur::Practitioner) -> Self {
        Self {
            id_nat: p.id_nat.clone(),
            nom: p.nom.clone(),
            prenom: p.prenom.clone(),
            profession: p.profession.clone(),
            specialty: p.specialty.clone(),
            auth_mode: p.auth_mode.clone(),
            purpose: p.purpose.clone(),
        }
    }
}

/// The professional of a call: the one given, else the configuration's `[practitioner]`, else a
/// `ConfigError`.
pub(crate) fn acting(
    segur: &Segur,
    given: Option<PyRef<'_, Practitioner>>,
) -> PyResult<segur::Practitioner> {
    match given {
        Some(p) => Ok((&*p).into()),
        None => segur.default_practitioner().cloned().ok_or_else(|| {
            to_pyerr(SegurError::Config(
                "no practitioner given and no [practitioner] in the configuration".into(),
            ))
        }),
    }
}

// ---- status and authorizations ------------------------------------------------------------

/// TD0.2: the patient's DMP as the DMP sees it, and what the professional may do.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct DmpStatus {
    /// A DMP exists for the INS.
    pub exists: bool,
    /// It is closed.
    pub closed: bool,
    /// Our access: `AUTORISE`, `NON_AUTORISE`, `INTERDIT`, `EXPIRE`; None without a DMP.
    pub authorization: Option<String>,
    /// The patient opposed feeding by this professional (DMP/CONF.09).
    pub feeding_opposed: bool,
    /// We are the patient's médecin traitant DMP.
    pub medecin_traitant: bool,
    /// A document may be sent.
    pub can_feed: bool,
    /// Why not: `no_dmp`, `closed`, `feeding_opposed`, `traits_mismatch`.
    pub feed_blocked: Option<String>,
    /// Documents may be consulted (purpose `normal`).
    pub can_consult: bool,
    /// Fields whose value differs between the DMP and our identity (DMP/CONF.01); feeding stops
    /// until a user confirms them (`Client.dmp_confirm_traits`).
    pub traits_mismatch: Vec<String>,
    /// That mismatch was confirmed (DMP/CONF.01): feeding goes on.
    pub traits_confirmed: bool,
}

impl From<segur::DmpStatusView> for DmpStatus {
    fn from(s: segur::DmpStatusView) -> Self {
        Self {
            exists: s.exists,
            closed: s.closed,
            authorization: s.authorization,
            feeding_opposed: s.feeding_opposed,
            medecin_traitant: s.medecin_traitant,
            can_feed: s.can_feed,
            feed_blocked: s.feed_blocked,
            can_consult: s.can_consult,
            traits_mismatch: s.traits_mismatch,
            traits_confirmed: s.traits_confirmed,
        }
    }
}

#[pymethods]
impl DmpStatus {
    fn __repr__(&self) -> String {
        format!(
            "<segur.DmpStatus exists={} authorization={} can_feed={} can_consult={}>",
            py_bool(self.exists),
            py_opt(&self.authorization),
            py_bool(self.can_feed),
            py_bool(self.can_consult)
        )
    }
}

/// The patient's consent to our authorization on their DMP (TD0.3 AJOUT).
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct DmpConsent {
    /// How it was given: `oral`, `ecrit`, `representant_legal`.
    pub mode: String,
    /// When it was collected (None: now).
    pub collected_at: Option<DateTime<Utc>>,
}

#[pymethods]
impl DmpConsent {
    /// `collected_at`: an aware `datetime` or an RFC 3339 `str`; default now.
    #[new]
    #[pyo3(signature = (mode, *, collected_at=None))]
    fn new(mode: Text<'_>, collected_at: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(Self {
            mode: mode.owned(),
            collected_at: instant(collected_at, "collected_at")?,
        })
    }
    fn __repr__(&self) -> String {
        format!("<segur.DmpConsent mode={:?}>", self.mode)
    }
}

impl From<&DmpConsent> for segur::DmpConsent {
    fn from(c: &DmpConsent) -> Self {
        segur::DmpConsent {
            mode: c.mode.clone(),
            collected_at: c.collected_at,
        }
    }
}

/// An authorization on the patient's DMP (`listAuthorizationByPatient`).
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct DmpAuthorization {
    /// The professional's national id.
    pub id_nat: String,
    /// Name.
    pub nom: Option<String>,
    /// First name.
    pub prenom: Option<String>,
    /// `AUTORISE`, `NON_AUTORISE`, `INTERDIT`, `EXPIRE`.
    pub status: String,
    /// Start (DMP local time, ISO 8601).
    pub valid_from: Option<String>,
    /// End.
    pub valid_to: Option<String>,
}

impl From<segur::DmpAuthorizationView> for DmpAuthorization {
    fn from(a: segur::DmpAuthorizationView) -> Self {
        Self {
            id_nat: a.id_nat,
            nom: a.nom,
            prenom: a.prenom,
            status: a.status,
            valid_from: a.from,
            valid_to: a.to,
        }
    }
}

#[pymethods]
impl DmpAuthorization {
    fn __repr__(&self) -> String {
        format!(
            "<segur.DmpAuthorization id_nat={:?} status={:?}>",
            self.id_nat, self.status
        )
    }
}

// ---- sending ------------------------------------------------------------------------------

/// Options of `Client.dmp_send` (`dmp.md` §5.4: confidentiality codes after N/R/V).
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone, Default)]
pub struct DmpSendOptions {
    /// Masked to other professionals (`MASQUE_PS`).
    pub mask_ps: bool,
    /// Invisible to the patient (`INVISIBLE_PATIENT`).
    pub invisible_patient: bool,
    /// Invisible to the legal representatives (`INVISIBLE_REPRESENTANTS_LEGAUX`).
    pub invisible_legal_representatives: bool,
    /// uniqueId of the earlier version this one replaces (RPLC).
    pub replaces: Option<String>,
}

#[pymethods]
impl DmpSendOptions {
    #[new]
    #[pyo3(signature = (*, mask_ps=false, invisible_patient=false,
        invisible_legal_representatives=false, replaces=None))]
    fn new(
        mask_ps: bool,
        invisible_patient: bool,
        invisible_legal_representatives: bool,
        replaces: Option<Text<'_>>,
    ) -> Self {
        Self {
            mask_ps,
            invisible_patient,
            invisible_legal_representatives,
            replaces: opt(replaces),
        }
    }
    fn __repr__(&self) -> String {
        format!(
            "<segur.DmpSendOptions mask_ps={} invisible_patient={} \
             invisible_legal_representatives={} replaces={}>",
            py_bool(self.mask_ps),
            py_bool(self.invisible_patient),
            py_bool(self.invisible_legal_representatives),
            py_opt(&self.replaces)
        )
    }
}

/// The facade's options (defaults when none are given).
pub(crate) fn send_options(o: Option<PyRef<'_, DmpSendOptions>>) -> segur::DmpSendOptions {
    let o = o.map(|o| (*o).clone()).unwrap_or_default();
    segur::DmpSendOptions {
        mask_ps: o.mask_ps,
        invisible_patient: o.invisible_patient,
        invisible_legal_representatives: o.invisible_legal_representatives,
        replaces: o.replaces,
    }
}

/// A CDA document to send: `bytes`, `bytearray`, `str` or a `BuiltDocument` (copied: it is
/// stored in the outbox and sent with the GIL released).
pub(crate) struct Cda(pub(crate) Vec<u8>);

impl<'a, 'py> FromPyObject<'a, 'py> for Cda {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if ob.is_instance_of::<PyString>() {
            return Ok(Cda(ob.extract::<Text<'_>>()?.0.as_bytes().to_vec()));
        }
        if let Ok(b) = ob.cast::<PyBytes>() {
            return Ok(Cda(b.as_bytes().to_vec()));
        }
        if let Ok(b) = ob.cast::<PyByteArray>() {
            return Ok(Cda(b.to_vec()));
        }
        if let Ok(d) = ob.cast::<BuiltDocument>() {
            return Ok(Cda(d.get().xml.as_bytes().to_vec()));
        }
        Err(PyTypeError::new_err(format!(
            "document must be bytes, bytearray, str or BuiltDocument, not {}",
            ob.get_type().name()?
        )))
    }
}

/// The statuses of a document sent from here (the manual's "Statut Envoi").
#[pyclass(frozen, eq, hash, module = "segur")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum DmpDocumentStatus {
    /// Stored, the send has not completed.
    #[pyo3(name = "PENDING")]
    Pending,
    /// Accepted by the DMP.
    #[pyo3(name = "ACCESSIBLE")]
    Accessible,
    /// The last attempt failed; kept for a retry.
    #[pyo3(name = "FAILED")]
    Failed,
    /// Replaced by a newer version (RPLC).
    #[pyo3(name = "REPLACED")]
    Replaced,
    /// Deleted in the DMP (TD3.3c).
    #[pyo3(name = "DELETED")]
    Deleted,
    /// Archived in the DMP (TD3.3d).
    #[pyo3(name = "ARCHIVED")]
    Archived,
}

impl From<segur::DmpDocumentStatus> for DmpDocumentStatus {
    fn from(s: segur::DmpDocumentStatus) -> Self {
        use segur::DmpDocumentStatus as S;
        match s {
            S::Pending => Self::Pending,
            S::Accessible => Self::Accessible,
            S::Failed => Self::Failed,
            S::Replaced => Self::Replaced,
            S::Deleted => Self::Deleted,
            S::Archived => Self::Archived,
        }
    }
}

impl From<DmpDocumentStatus> for segur::DmpDocumentStatus {
    fn from(s: DmpDocumentStatus) -> Self {
        use segur::DmpDocumentStatus as S;
        match s {
            DmpDocumentStatus::Pending => S::Pending,
            DmpDocumentStatus::Accessible => S::Accessible,
            DmpDocumentStatus::Failed => S::Failed,
            DmpDocumentStatus::Replaced => S::Replaced,
            DmpDocumentStatus::Deleted => S::Deleted,
            DmpDocumentStatus::Archived => S::Archived,
        }
    }
}

#[pymethods]
impl DmpDocumentStatus {
    /// `pending`, `accessible`, `failed`, `replaced`, `deleted`, `archived`.
    #[getter]
    fn code(&self) -> &'static str {
        segur::DmpDocumentStatus::from(*self).code()
    }
    /// The dashboard label ("Accessible dans le DMP"...).
    #[getter]
    fn label(&self) -> &'static str {
        segur::DmpDocumentStatus::from(*self).label()
    }
    fn __str__(&self) -> &'static str {
        self.code()
    }
}

/// A `DmpDocumentStatus` or its code.
pub(crate) fn document_status(ob: &Bound<'_, PyAny>) -> PyResult<segur::DmpDocumentStatus> {
    if let Ok(s) = ob.cast::<DmpDocumentStatus>() {
        return Ok((*s.get()).into());
    }
    if ob.is_instance_of::<PyString>() {
        let code = ob.extract::<Text<'_>>()?;
        return segur::DmpDocumentStatus::from_code(code.0.trim()).ok_or_else(|| {
            invalid_input(
                "status must be pending, accessible, failed, replaced, deleted or archived",
            )
        });
    }
    Err(PyTypeError::new_err(format!(
        "status must be a DmpDocumentStatus or a str, not {}",
        ob.get_type().name()?
    )))
}

/// What `Client.dmp_send` / `dmp_retry` did.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct DmpSendResult {
    /// The document's uniqueId.
    pub unique_id: String,
    /// The submission set's uniqueId.
    pub submission_set_unique_id: String,
    /// Outbox status (`ACCESSIBLE`).
    pub status: DmpDocumentStatus,
    /// Its label.
    pub status_label: String,
    /// The registry answered PartialSuccess.
    pub partial: bool,
    /// Registry warnings or partial-success error codes.
    pub warnings: Vec<String>,
    /// Fields whose value differs between the DMP and our identity (DMP/CONF.01, confirmed).
    pub traits_mismatch: Vec<String>,
    /// The DMP already held this very document (an earlier send whose answer was lost): it
    /// was not registered again.
    pub already_registered: bool,
    /// entryUUID in the registry, when known.
    pub entry_uuid: Option<String>,
}

impl From<segur::DmpSendView> for DmpSendResult {
    fn from(s: segur::DmpSendView) -> Self {
        Self {
            unique_id: s.unique_id,
            submission_set_unique_id: s.submission_set_unique_id,
            status: s.status.into(),
            status_label: s.status_label,
            partial: s.partial,
            warnings: s.warnings,
            traits_mismatch: s.traits_mismatch,
            already_registered: s.already_registered,
            entry_uuid: s.entry_uuid,
        }
    }
}

#[pymethods]
impl DmpSendResult {
    fn __repr__(&self) -> String {
        format!(
            "<segur.DmpSendResult unique_id={:?} status={}>",
            self.unique_id,
            self.status.code()
        )
    }
}

// ---- consulting ---------------------------------------------------------------------------

/// Criteria of `Client.dmp_find` (ITI-18 FindDocuments); all optional, combined with AND.
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone, Default)]
pub struct DmpFindQuery {
    /// Document type codes (JDV_J07, e.g. `SYNTH`, `11488-4`).
    pub type_codes: Vec<String>,
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// Created before.
    pub until: Option<DateTime<Utc>>,
    /// `approved` (default), `deprecated`, `archived`, `deleted`.
    pub statuses: Vec<String>,
    /// Author national id.
    pub author: Option<String>,
}

#[pymethods]
impl DmpFindQuery {
    /// `type_codes`, `statuses`: iterables of `str`; `since`, `until`: aware `datetime` or
    /// RFC 3339 `str`.
    #[new]
    #[pyo3(signature = (*, type_codes=None, since=None, until=None, statuses=None, author=None))]
    fn new(
        type_codes: Option<&Bound<'_, PyAny>>,
        since: Option<&Bound<'_, PyAny>>,
        until: Option<&Bound<'_, PyAny>>,
        statuses: Option<&Bound<'_, PyAny>>,
        author: Option<Text<'_>>,
    ) -> PyResult<Self> {
        Ok(Self {
            type_codes: texts(type_codes, "type_codes")?,
            since: instant(since, "since")?,
            until: instant(until, "until")?,
            statuses: texts(statuses, "statuses")?,
            author: opt(author),
        })
    }
    fn __repr__(&self) -> String {
        format!(
            "<segur.DmpFindQuery type_codes={:?} statuses={:?}>",
            self.type_codes, self.statuses
        )
    }
}

/// The facade's query (everything current when none is given).
pub(crate) fn find_query(q: Option<PyRef<'_, DmpFindQuery>>) -> segur::DmpFindQuery {
    let q = q.map(|q| (*q).clone()).unwrap_or_default();
    segur::DmpFindQuery {
        type_codes: q.type_codes,
        since: q.since,
        until: q.until,
        statuses: q.statuses,
        author: q.author,
    }
}

/// An iterable of `str` (not a `str` itself) as strings.
fn texts(ob: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<String>> {
    let Some(ob) = ob else { return Ok(Vec::new()) };
    if ob.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an iterable of str, not a str"
        )));
    }
    let mut out = Vec::new();
    for x in ob.try_iter()? {
        out.push(x?.extract::<Text<'_>>()?.owned());
    }
    Ok(out)
}

/// A document entry of the patient's DMP (XDS DocumentEntry).
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct DmpEntry {
    /// uniqueId.
    pub unique_id: String,
    /// entryUUID (changes with every metadata version).
    pub entry_uuid: String,
    /// `approved`, `deprecated`, `archived`, `deleted` (or the URN received).
    pub status: String,
    /// Dashboard label ("Accessible dans le DMP", "Supprimé dans le DMP"...).
    pub status_label: String,
    /// typeCode.
    pub type_code: Option<String>,
    /// Its display name.
    pub type_display: Option<String>,
    /// classCode.
    pub class_code: Option<String>,
    /// formatCode.
    pub format_code: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// creationTime (aware, UTC).
    pub creation_time: Option<DateTime<Utc>>,
    /// serviceStartTime as given (HL7 DTM).
    pub service_start_time: Option<String>,
    /// First author (XCN).
    pub author: Option<String>,
    /// Every confidentiality code.
    pub confidentiality: Vec<String>,
    /// Masked to professionals.
    pub masked: bool,
    /// Invisible to the patient.
    pub invisible_patient: bool,
    /// Size in bytes.
    pub size: Option<u64>,
    /// MIME type.
    pub mime_type: String,
    /// repositoryUniqueId.
    pub repository_unique_id: Option<String>,
}

impl From<segur::DmpEntryView> for DmpEntry {
    fn from(e: segur::DmpEntryView) -> Self {
        Self {
            unique_id: e.unique_id,
            entry_uuid: e.entry_uuid,
            status: e.status,
            status_label: e.status_label,
            type_code: e.type_code,
            type_display: e.type_display,
            class_code: e.class_code,
            format_code: e.format_code,
            title: e.title,
            creation_time: e.creation_time,
            service_start_time: e.service_start_time,
            author: e.author,
            confidentiality: e.confidentiality,
            masked: e.masked,
            invisible_patient: e.invisible_patient,
            size: e.size,
            mime_type: e.mime_type,
            repository_unique_id: e.repository_unique_id,
        }
    }
}

#[pymethods]
impl DmpEntry {
    fn __repr__(&self) -> String {
        format!(
            "<segur.DmpEntry unique_id={:?} type_code={} status={:?}>",
            self.unique_id,
            py_opt(&self.type_code),
            self.status
        )
    }
}

/// A retrieved document: `(DmpEntry, bytes)` in Python.
pub(crate) struct Retrieved {
    entry: DmpEntry,
    content: Vec<u8>,
}

impl From<segur::DmpRetrieved> for Retrieved {
    fn from(r: segur::DmpRetrieved) -> Self {
        Self {
            entry: r.entry.into(),
            content: r.content,
        }
    }
}

impl<'py> IntoPyObject<'py> for Retrieved {
    type Target = PyTuple;
    type Output = Bound<'py, PyTuple>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let entry = Bound::new(py, self.entry)?.into_any();
        let content = PyBytes::new(py, &self.content).into_any();
        PyTuple::new(py, [entry, content])
    }
}

/// An ITI-57 change of `Client.dmp_update` (TD3.3a-d).
#[pyclass(frozen, eq, hash, module = "segur")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum DmpUpdate {
    /// TD3.3a: mask to professionals.
    #[pyo3(name = "MASK")]
    Mask,
    /// TD3.3a: unmask.
    #[pyo3(name = "UNMASK")]
    Unmask,
    /// TD3.3b: make invisible to the patient.
    #[pyo3(name = "HIDE_FROM_PATIENT")]
    HideFromPatient,
    /// TD3.3b: make visible to the patient again.
    #[pyo3(name = "SHOW_TO_PATIENT")]
    ShowToPatient,
    /// TD3.3c: delete.
    #[pyo3(name = "DELETE")]
    Delete,
    /// TD3.3d: archive.
    #[pyo3(name = "ARCHIVE")]
    Archive,
}

impl From<DmpUpdate> for segur::DmpUpdate {
    fn from(u: DmpUpdate) -> Self {
        use segur::DmpUpdate as U;
        match u {
            DmpUpdate::Mask => U::Mask,
            DmpUpdate::Unmask => U::Unmask,
            DmpUpdate::HideFromPatient => U::HideFromPatient,
            DmpUpdate::ShowToPatient => U::ShowToPatient,
            DmpUpdate::Delete => U::Delete,
            DmpUpdate::Archive => U::Archive,
        }
    }
}

#[pymethods]
impl DmpUpdate {
    /// `mask`, `unmask`, `hide_from_patient`, `show_to_patient`, `delete`, `archive`.
    #[getter]
    fn code(&self) -> &'static str {
        match self {
            DmpUpdate::Mask => "mask",
            DmpUpdate::Unmask => "unmask",
            DmpUpdate::HideFromPatient => "hide_from_patient",
            DmpUpdate::ShowToPatient => "show_to_patient",
            DmpUpdate::Delete => "delete",
            DmpUpdate::Archive => "archive",
        }
    }
    fn __str__(&self) -> &'static str {
        self.code()
    }
}

/// A `DmpUpdate` or its code (`"delete"`...).
pub(crate) fn update(ob: &Bound<'_, PyAny>) -> PyResult<segur::DmpUpdate> {
    if let Ok(u) = ob.cast::<DmpUpdate>() {
        return Ok((*u.get()).into());
    }
    if ob.is_instance_of::<PyString>() {
        return segur::DmpUpdate::parse(ob.extract::<Text<'_>>()?.0.trim()).map_err(to_pyerr);
    }
    Err(PyTypeError::new_err(format!(
        "update must be a DmpUpdate or a str, not {}",
        ob.get_type().name()?
    )))
}

// ---- the dashboard ------------------------------------------------------------------------

/// A document sent from here, as the DMP dashboard shows it ("Tableau de bord des échanges").
#[pyclass(frozen, get_all, module = "segur")]
#[derive(Clone)]
pub struct DmpDocumentRow {
    /// XDS uniqueId.
    pub unique_id: String,
    /// Patient local id.
    pub patient_local_id: String,
    /// INS.
    pub ins: String,
    /// Practitioner national id.
    pub practitioner: Option<String>,
    /// typeCode.
    pub document_type: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Status.
    pub status: DmpDocumentStatus,
    /// Its dashboard label.
    pub status_label: String,
    /// Confidentiality codes in force.
    pub confidentiality: Vec<String>,
    /// uniqueId of the version it replaces.
    pub replaces: Option<String>,
    /// entryUUID in the registry, when known.
    pub entry_uuid: Option<String>,
    /// First stored (RFC 3339 UTC).
    pub created_at: String,
    /// Last change (RFC 3339 UTC).
    pub updated_at: String,
    /// Last error (never patient identity).
    pub last_error: Option<String>,
    /// Why the last attempt was refused before sending (`NotSentError.reason` values), None
    /// otherwise: the patient is blocked until it changes.
    pub not_sent_reason: Option<String>,
    /// For `traits_mismatch`: the trait codes that differ (DMP/CONF.01).
    pub traits_mismatch: Vec<String>,
}

impl From<segur::DmpDocumentRow> for DmpDocumentRow {
    fn from(r: segur::DmpDocumentRow) -> Self {
        Self {
            unique_id: r.unique_id,
            patient_local_id: r.patient_local_id,
            ins: r.ins,
            practitioner: r.practitioner,
            document_type: r.document_type,
            title: r.title,
            status: r.status.into(),
            status_label: r.status_label,
            confidentiality: r.confidentiality,
            replaces: r.replaces,
            entry_uuid: r.entry_uuid,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_error: r.last_error,
            not_sent_reason: r.not_sent_reason,
            traits_mismatch: r.traits_mismatch,
        }
    }
}

#[pymethods]
impl DmpDocumentRow {
    fn __repr__(&self) -> String {
        format!(
            "<segur.DmpDocumentRow unique_id={:?} status={}>",
            self.unique_id,
            self.status.code()
        )
    }
}
