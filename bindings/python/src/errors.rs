//! The exception tree of the `segur` package and the one conversion from [`SegurError`].
//!
//! ```text
//! SegurError(Exception)                       code 900/901 (internal, would block) + root
//! ├── InsError(SegurError, ValueError)         100 invalid input
//! │   └── NeedsConfirmation(InsError)          101 .proposal
//! ├── RnivError(SegurError)                    102 an RNIV rule refuses the operation
//! ├── NotFoundError(SegurError, LookupError)   103
//! ├── AlreadyExistsError(SegurError)           104
//! ├── DocumentError(SegurError, ValueError)    105 a CDA document refused (XML, CI-SIS rule)
//! ├── NotSentError(SegurError)                 106 nothing sent: .reason (NO_DMP, CLOSED,
//! │                                                FEEDING_OPPOSED, TRAITS_MISMATCH), .fields
//! ├── TooLargeError(SegurError, ValueError)    107 a document over its size limit
//! ├── ServiceError(SegurError)                 a service's answer (.subcode, .service_code)
//! │   ├── InsiError(ServiceError)              200 INSi SOAP fault, 201 invalid reply; .cr
//! │   ├── DmpError(ServiceError)               200 DMP SOAP fault, 201 invalid reply
//! │   └── ServiceRefusedError(ServiceError)    202 refused with the service's code (DMP access,
//! │                                                opposition, VIHF, XDS registry errors)
//! ├── TransportError(SegurError, ConnectionError)   300
//! │   ├── TimeoutError(TransportError, builtins.TimeoutError)  301
//! │   └── TlsError(TransportError)                           302
//! ├── ConfigError(SegurError)                  400
//! └── JournalError(SegurError)                 500
//! ```
//!
//! Every instance has `code` (the stable number of `segur::ErrorCode`) and `retryable`; the
//! classes carry defaults, so `raise segur.InsError("...")` from Python code works too. The
//! classes are built with `type(name, bases, dict)` at import: `create_exception!` takes a single
//! base, and several classes also derive from a built-in exception.
//! Messages are the facade's, which never contain patient identity.

use pyo3::exceptions::{
    PyConnectionError, PyException, PyLookupError, PyTimeoutError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use segur::{ErrorCode, SegurError};

/// The exception classes, created once per process.
pub(crate) struct Exceptions {
    pub segur: Py<PyType>,
    pub ins: Py<PyType>,
    pub needs_confirmation: Py<PyType>,
    pub rniv: Py<PyType>,
    pub not_found: Py<PyType>,
    pub already_exists: Py<PyType>,
    pub document: Py<PyType>,
    pub not_sent: Py<PyType>,
    pub too_large: Py<PyType>,
    pub service: Py<PyType>,
    pub insi: Py<PyType>,
    pub dmp: Py<PyType>,
    pub refused: Py<PyType>,
    pub transport: Py<PyType>,
    pub timeout: Py<PyType>,
    pub tls: Py<PyType>,
    pub config: Py<PyType>,
    pub journal: Py<PyType>,
}

static EXCEPTIONS: PyOnceLock<Exceptions> = PyOnceLock::new();

fn class<'py>(
    py: Python<'py>,
    name: &str,
    bases: &[Bound<'py, PyType>],
    doc: &str,
    attrs: &[(&str, Bound<'py, PyAny>)],
) -> PyResult<Py<PyType>> {
    let dict = PyDict::new(py);
    dict.set_item("__module__", "segur")?;
    dict.set_item("__doc__", doc)?;
    for (k, v) in attrs {
        dict.set_item(*k, v)?;
    }
    let t = py
        .get_type::<PyType>()
        .call1((name, PyTuple::new(py, bases)?, dict))?;
    Ok(t.cast_into::<PyType>()?.unbind())
}

fn int(py: Python<'_>, code: ErrorCode) -> Bound<'_, PyAny> {
    (code as u32)
        .into_pyobject(py)
        .map_or_else(|e| match e {}, Bound::into_any)
}

fn none(py: Python<'_>) -> Bound<'_, PyAny> {
    py.None().into_bound(py)
}

fn build(py: Python<'_>) -> PyResult<Exceptions> {
    let b = |t: &Py<PyType>| t.bind(py).clone();
    let segur = class(
        py,
        "SegurError",
        &[py.get_type::<PyException>()],
        "Root of every error raised by segur. `code`: the stable error number; `retryable`: \
         whether retrying later may succeed.",
        &[
            ("code", int(py, ErrorCode::Internal)),
            ("retryable", false.into_pyobject(py)?.to_owned().into_any()),
        ],
    )?;
    let ins = class(
        py,
        "InsError",
        &[b(&segur), py.get_type::<PyValueError>()],
        "Input refused: malformed matricule, trait, date, COG, attribute name... (code 100).",
        &[("code", int(py, ErrorCode::InvalidInput))],
    )?;
    let needs_confirmation = class(
        py,
        "NeedsConfirmation",
        &[b(&ins)],
        "The input has characters with a standard transliteration (’ → ', Æ → AE, Œ → OE): show \
         `proposal` and call again with confirm=True (code 101).",
        &[
            ("code", int(py, ErrorCode::NeedsConfirmation)),
            ("proposal", none(py)),
        ],
    )?;
    let rniv = class(
        py,
        "RnivError",
        &[b(&segur)],
        "An RNIV rule forbids the operation (code 102).",
        &[("code", int(py, ErrorCode::RnivRefused))],
    )?;
    let not_found = class(
        py,
        "NotFoundError",
        &[b(&segur), py.get_type::<PyLookupError>()],
        "No record with this identifier (code 103).",
        &[("code", int(py, ErrorCode::NotFound))],
    )?;
    let already_exists = class(
        py,
        "AlreadyExistsError",
        &[b(&segur)],
        "A record with this identifier already exists (code 104).",
        &[("code", int(py, ErrorCode::AlreadyExists))],
    )?;
    let document = class(
        py,
        "DocumentError",
        &[b(&segur), py.get_type::<PyValueError>()],
        "A CDA document is refused: not XML, DOCTYPE or entities, limits, not a ClinicalDocument, \
         missing or invalid CI-SIS element (code 105).",
        &[("code", int(py, ErrorCode::InvalidDocument))],
    )?;
    let not_sent = class(
        py,
        "NotSentError",
        &[b(&segur)],
        "Nothing was sent: a check made before sending refused it. The document stays in the \
         outbox (code 106). `reason` says why, one of the class constants: NO_DMP ('no_dmp', \
         the patient has no DMP), CLOSED ('closed'), FEEDING_OPPOSED ('feeding_opposed', the \
         patient opposed feeding, DMP/CONF.09), TRAITS_MISMATCH ('traits_mismatch', the DMP's \
         traits differ from ours and no user confirmed it, DMP/CONF.01: \
         `Client.dmp_confirm_traits`, then `dmp_retry`). `fields`: for TRAITS_MISMATCH the \
         trait codes that differ ('nom_naissance', 'prenoms', 'sexe', 'date_naissance'), never \
         their values; () otherwise.",
        &[
            ("code", int(py, ErrorCode::NotSent)),
            ("reason", none(py)),
            ("fields", PyTuple::empty(py).into_any()),
            ("NO_DMP", "no_dmp".into_pyobject(py)?.into_any()),
            ("CLOSED", "closed".into_pyobject(py)?.into_any()),
            (
                "FEEDING_OPPOSED",
                "feeding_opposed".into_pyobject(py)?.into_any(),
            ),
            (
                "TRAITS_MISMATCH",
                "traits_mismatch".into_pyobject(py)?.into_any(),
            ),
        ],
    )?;
    let too_large = class(
        py,
        "TooLargeError",
        &[b(&segur), py.get_type::<PyValueError>()],
        "A document or message is over its size limit (code 107).",
        &[("code", int(py, ErrorCode::TooLarge))],
    )?;
    let service = class(
        py,
        "ServiceError",
        &[b(&segur)],
        "A national service answered with a failure. `subcode` and `service_code` are the \
         service's own codes when it gave some (SOAP subcode, DMP or XDS registry code), else \
         None.",
        &[
            ("code", int(py, ErrorCode::ServiceFault)),
            ("subcode", none(py)),
            ("service_code", none(py)),
        ],
    )?;
    let insi = class(
        py,
        "InsiError",
        &[b(&service)],
        "INSi answered with a SOAP fault (code 200: `subcode` e.g. 'siram_100', `service_code` \
         e.g. 'desir_550') or with an invalid reply (code 201). `cr` is the INSi compte-rendu \
         when the failure carries one (None for faults).",
        &[("code", int(py, ErrorCode::ServiceFault)), ("cr", none(py))],
    )?;
    let dmp = class(
        py,
        "DmpError",
        &[b(&service)],
        "The DMP answered with a SOAP fault that carries no DMP code (code 200: `subcode` the \
         first SOAP subcode or the fault code, `service_code` the fault code) or with a reply \
         that cannot be read (code 201).",
        &[("code", int(py, ErrorCode::ServiceFault))],
    )?;
    let refused = class(
        py,
        "ServiceRefusedError",
        &[b(&service)],
        "The service refused the request with its own code (code 202): `subcode` is that code, \
         e.g. 'DMP_ACCES_NON_AUTORISE', 'DMP_OPPOSITION', or an XDS registry error such as \
         'XDSRegistryError'; `service_code` is ''.",
        &[("code", int(py, ErrorCode::ServiceRefused))],
    )?;
    let transport = class(
        py,
        "TransportError",
        &[b(&segur), py.get_type::<PyConnectionError>()],
        "Network failure: connection, HTTP (code 300).",
        &[("code", int(py, ErrorCode::Transport))],
    )?;
    let timeout = class(
        py,
        "TimeoutError",
        &[b(&transport), py.get_type::<PyTimeoutError>()],
        "A timeout (code 301); also a builtins.TimeoutError.",
        &[("code", int(py, ErrorCode::Timeout))],
    )?;
    let tls = class(
        py,
        "TlsError",
        &[b(&transport)],
        "TLS handshake or certificate failure (code 302).",
        &[("code", int(py, ErrorCode::Tls))],
    )?;
    let config = class(
        py,
        "ConfigError",
        &[b(&segur)],
        "Configuration error: file, credentials, missing setting (code 400).",
        &[("code", int(py, ErrorCode::Config))],
    )?;
    let journal = class(
        py,
        "JournalError",
        &[b(&segur)],
        "Journal (SQLite) failure (code 500).",
        &[("code", int(py, ErrorCode::Journal))],
    )?;
    Ok(Exceptions {
        segur,
        ins,
        needs_confirmation,
        rniv,
        not_found,
        already_exists,
        document,
        not_sent,
        too_large,
        service,
        insi,
        dmp,
        refused,
        transport,
        timeout,
        tls,
        config,
        journal,
    })
}

/// The classes (created on first use).
pub(crate) fn exceptions(py: Python<'_>) -> PyResult<&Exceptions> {
    EXCEPTIONS.get_or_try_init(py, || build(py))
}

/// Adds the classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let e = exceptions(py)?;
    for t in [
        &e.segur,
        &e.ins,
        &e.needs_confirmation,
        &e.rniv,
        &e.not_found,
        &e.already_exists,
        &e.document,
        &e.not_sent,
        &e.too_large,
        &e.service,
        &e.insi,
        &e.dmp,
        &e.refused,
        &e.transport,
        &e.timeout,
        &e.tls,
        &e.config,
        &e.journal,
    ] {
        let t = t.bind(py);
        m.add(t.name()?, t)?;
    }
    Ok(())
}

fn instance(py: Python<'_>, e: &SegurError) -> PyResult<PyErr> {
    let x = exceptions(py)?;
    let code = e.code();
    let class = match code {
        ErrorCode::InvalidInput => &x.ins,
        ErrorCode::NeedsConfirmation => &x.needs_confirmation,
        ErrorCode::RnivRefused => &x.rniv,
        ErrorCode::NotFound => &x.not_found,
        ErrorCode::AlreadyExists => &x.already_exists,
        ErrorCode::InvalidDocument => &x.document,
        ErrorCode::NotSent => &x.not_sent,
        ErrorCode::TooLarge => &x.too_large,
        ErrorCode::ServiceFault | ErrorCode::InvalidReply => match e {
            SegurError::Dmp(_) => &x.dmp,
            _ => &x.insi,
        },
        ErrorCode::ServiceRefused => &x.refused,
        ErrorCode::Transport => &x.transport,
        ErrorCode::Timeout => &x.timeout,
        ErrorCode::Tls => &x.tls,
        ErrorCode::Config => &x.config,
        ErrorCode::Journal => &x.journal,
        ErrorCode::Internal | ErrorCode::WouldBlock => &x.segur,
    };
    let v = class.bind(py).call1((e.to_string(),))?;
    v.setattr("code", code as u32)?;
    v.setattr("retryable", e.is_retryable())?;
    if let Some(p) = e.proposal() {
        v.setattr("proposal", p)?;
    }
    if let Some((subcode, service_code)) = e.service_codes() {
        v.setattr("subcode", subcode)?;
        v.setattr("service_code", service_code)?;
    }
    if let Some(r) = e.not_sent_reason() {
        v.setattr("reason", r.code())?;
        v.setattr("fields", PyTuple::new(py, r.fields())?)?;
    }
    Ok(PyErr::from_value(v))
}

/// THE conversion: a facade error to the Python exception of its category.
pub(crate) fn to_pyerr(e: SegurError) -> PyErr {
    Python::attach(|py| instance(py, &e).unwrap_or_else(|failure| failure))
}

/// An input error (code 100) raised by this crate itself.
pub(crate) fn invalid_input(message: impl Into<String>) -> PyErr {
    to_pyerr(SegurError::InvalidInput(message.into()))
}
