//! Documents (CDA R2): the built VSM as a native class, the received-document functions
//! (`cda_parse`, `cda_integrate`, `cda_metadata`, `cda_pdf`) returning the facade's serde
//! model as plain Python objects (`dict`, `list`, `str`, `int`, `float`, `bool`, `None`), and
//! the conversions between Python objects and JSON values.
//!
//! The XML is borrowed, not copied, for `bytes` and `str` (both immutable), copied for a
//! `bytearray`; reading, integrating and rendering run with the GIL released.

use std::borrow::Cow;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple,
};
use segur::SegurError;
use serde::Serialize;
use serde_json::{Map, Number, Value};

use crate::errors::invalid_input;
use crate::runtime::detached;
use crate::types::Text;

/// Deepest nesting accepted in a request (serde_json's own limit when reading text).
const MAX_DEPTH: usize = 128;

/// A CDA document as given: `bytes` or `str` (borrowed), `bytearray` (copied: it may change
/// while the GIL is released). Anything else → `TypeError`.
pub(crate) struct Xml<'a>(Cow<'a, [u8]>);

impl<'a, 'py> FromPyObject<'a, 'py> for Xml<'a> {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if ob.is_instance_of::<PyString>() {
            return Ok(Xml(Cow::Borrowed(ob.extract::<Text<'a>>()?.0.as_bytes())));
        }
        if ob.is_instance_of::<PyBytes>() {
            // Immutable: borrowed for as long as the argument.
            return Ok(Xml(ob.extract::<Cow<'a, [u8]>>()?));
        }
        if let Ok(b) = ob.cast::<PyByteArray>() {
            return Ok(Xml(Cow::Owned(b.to_vec())));
        }
        Err(PyTypeError::new_err(format!(
            "xml must be bytes, bytearray or str, not {}",
            ob.get_type().name()?
        )))
    }
}

impl Xml<'_> {
    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A facade model as a JSON value (built with the GIL released).
fn json<T: Serialize>(v: &T) -> Result<Value, SegurError> {
    serde_json::to_value(v).map_err(|e| SegurError::Internal(format!("serialising: {e}")))
}

/// A JSON value as Python objects.
pub(crate) fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let list = PyList::empty(py);
            for x in a {
                list.append(to_py(py, x)?)?;
            }
            list.into_any()
        }
        Value::Object(o) => {
            let dict = PyDict::new(py);
            for (k, x) in o {
                dict.set_item(k, to_py(py, x)?)?;
            }
            dict.into_any()
        }
    })
}

/// Python objects (dict with `str` keys, list, tuple, str, int, float, bool, None) as a JSON
/// value. Another type → `TypeError`; a lone surrogate, a non-finite float, an int beyond 64
/// bits or a too deep (or cyclic) structure → `InsError`.
pub(crate) fn from_py(ob: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(invalid_input("request nested too deeply (or cyclic)"));
    }
    if ob.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: bool is a subclass of int.
    if let Ok(b) = ob.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if ob.is_instance_of::<PyInt>() {
        if let Ok(i) = ob.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = ob.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(invalid_input("integer out of the 64-bit range"));
    }
    if let Ok(f) = ob.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| invalid_input("a float must be finite"));
    }
    if ob.is_instance_of::<PyString>() {
        return Ok(Value::String(ob.extract::<Text<'_>>()?.owned()));
    }
    if let Ok(d) = ob.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, x) in d.iter() {
            if !k.is_instance_of::<PyString>() {
                return Err(PyTypeError::new_err(format!(
                    "dict keys must be str, not {}",
                    k.get_type().name()?
                )));
            }
            map.insert(k.extract::<Text<'_>>()?.owned(), from_py(&x, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if ob.is_instance_of::<PyList>() || ob.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for x in ob.try_iter()? {
            out.push(from_py(&x?, depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    Err(PyTypeError::new_err(format!(
        "unsupported type in a request: {} (dict, list, tuple, str, int, float, bool or None)",
        ob.get_type().name()?
    )))
}

/// A VSM request: a `dict` (converted here) or its JSON `str`.
pub(crate) enum Request {
    Json(String),
    Value(Value),
}

impl Request {
    pub(crate) fn extract(ob: &Bound<'_, PyAny>) -> PyResult<Self> {
        if ob.is_instance_of::<PyString>() {
            return Ok(Request::Json(ob.extract::<Text<'_>>()?.owned()));
        }
        if ob.is_instance_of::<PyDict>() {
            return Ok(Request::Value(from_py(ob, 0)?));
        }
        Err(PyTypeError::new_err(format!(
            "request must be a dict or a JSON str, not {}",
            ob.get_type().name()?
        )))
    }

    /// Builds the document (call with the GIL released).
    pub(crate) fn build(self, segur: &segur::Segur) -> Result<BuiltDocument, SegurError> {
        let doc = match self {
            Request::Json(text) => segur.cda_vsm_build_json(&text)?,
            Request::Value(v) => {
                let req: segur::VsmRequest = serde_json::from_value(v)
                    .map_err(|e| SegurError::InvalidInput(format!("VSM request: {e}")))?;
                segur.cda_vsm_build(req)?
            }
        };
        Ok(doc.into())
    }
}

/// A built CDA document (VSM).
#[pyclass(frozen, get_all, module = "segur")]
pub struct BuiltDocument {
    /// The CDA XML.
    pub xml: String,
    /// Document id (`root` or `root^extension`, the XDS form).
    pub id: String,
    /// setId (XDS form).
    pub set_id: String,
    /// Whether the INS was written (only when the identity is qualifiée, RNIV rule 28).
    pub with_ins: bool,
}

impl From<segur::BuiltDocument> for BuiltDocument {
    fn from(d: segur::BuiltDocument) -> Self {
        Self {
            xml: d.xml,
            id: d.id,
            set_id: d.set_id,
            with_ins: d.with_ins,
        }
    }
}

#[pymethods]
impl BuiltDocument {
    fn __repr__(&self) -> String {
        format!(
            "<segur.BuiltDocument id={:?} with_ins={}>",
            self.id,
            if self.with_ins { "True" } else { "False" }
        )
    }
}

/// Parses a received CDA R2 document (level 1 or VSM) into its typed model, as a `dict`:
/// `header`, `vsm_version`, `body`, and `items` (every selectable entry, in document order:
/// `id` (stable), `kind`, `label`, `code`, `content`). Raises `DocumentError` (code 105) for a
/// refused or non-CDA document. The GIL is released while parsing.
#[pyfunction]
pub(crate) fn cda_parse<'py>(py: Python<'py>, xml: Xml<'_>) -> PyResult<Bound<'py, PyAny>> {
    let v = detached(py, || json(&segur::cda_parse(xml.bytes())?))?;
    to_py(py, &v)
}

/// The items chosen on the integration screen (their `id`s from `cda_parse`), as a VSM summary
/// `dict` holding exactly that selection. An unknown id raises `InsError` (code 100).
#[pyfunction]
pub(crate) fn cda_integrate<'py>(
    py: Python<'py>,
    xml: Xml<'_>,
    selection: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    if selection.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "selection must be a list of str (item ids), not a str",
        ));
    }
    let mut ids = Vec::new();
    for id in selection.try_iter()? {
        ids.push(id?.extract::<Text<'_>>()?.owned());
    }
    let v = detached(py, || json(&segur::cda_integrate(xml.bytes(), &ids)?))?;
    to_py(py, &v)
}

/// XDS metadata derived from the document header (for the DMP and XDM), as a `dict`
/// (`patient_id` is the INS as CX when the document carries one).
#[pyfunction]
pub(crate) fn cda_metadata<'py>(py: Python<'py>, xml: Xml<'_>) -> PyResult<Bound<'py, PyAny>> {
    let v = detached(py, || json(&segur::cda_metadata(xml.bytes())?))?;
    to_py(py, &v)
}

/// The PDF copy of a document (level 1: its own PDF; VSM: its narrative) and its MSSanté file
/// name `<date>_<type>_<NOM>_<prénom>.pdf`, as `(pdf, file_name)`. The GIL is released while
/// rendering.
#[pyfunction]
pub(crate) fn cda_pdf<'py>(
    py: Python<'py>,
    xml: Xml<'_>,
) -> PyResult<(Bound<'py, PyBytes>, String)> {
    let copy = detached(py, || segur::cda_pdf(xml.bytes()))?;
    Ok((PyBytes::new(py, &copy.pdf), copy.file_name))
}
