//! `segur.Client`: the facade client, with the GIL released around every blocking call and
//! `*_async` variants returning asyncio awaitables.

use std::future::Future;
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyString;
use segur::{ExchangeQuery, Segur, SegurError};
use tokio::runtime::Runtime;

use crate::cda::{BuiltDocument, Request};
use crate::errors::{invalid_input, to_pyerr};
use crate::types::{
    opt, Actor, Exchange, Identity, IdentityInput, IdentitySearch, InsiResult, RnivEvent, Text,
};

/// One tokio runtime per process, shared by every client and by pyo3-async-runtimes (so the
/// `*_async` futures run where the sync ones do).
static RUNTIME: OnceLock<Runtime> = OnceLock::new();

fn runtime() -> Result<&'static Runtime, SegurError> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let built = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("segur-py")
        .enable_all()
        .build()
        .map_err(|e| SegurError::Internal(format!("cannot start the runtime: {e}")))?;
    let rt = RUNTIME.get_or_init(|| built);
    // Err only when already set, to this same runtime.
    let _ = pyo3_async_runtimes::tokio::init_with_runtime(rt);
    Ok(rt)
}

/// Runs `f` with the GIL released (it must not touch Python objects).
pub(crate) fn detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> Result<T, SegurError> + Send,
) -> PyResult<T> {
    py.detach(f).map_err(to_pyerr)
}

/// Blocks on a future with the GIL released; refused on a runtime thread (would deadlock).
fn block_on<T: Send>(
    py: Python<'_>,
    fut: impl Future<Output = Result<T, SegurError>> + Send,
) -> PyResult<T> {
    detached(py, || {
        let rt = runtime()?;
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(SegurError::WouldBlock);
        }
        rt.block_on(fut)
    })
}

/// Wraps a facade future as an asyncio awaitable.
fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, SegurError>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    runtime().map_err(to_pyerr)?;
    pyo3_async_runtimes::tokio::future_into_py(py, async move { fut.await.map_err(to_pyerr) })
}

/// `datetime` (with a time zone) or RFC 3339 `str` → UTC instant.
fn instant(v: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<DateTime<Utc>>> {
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

/// A client of the Ségur services (INSi...) and of the journal, opened from a TOML file.
#[pyclass(frozen, module = "segur")]
pub struct Client {
    inner: Segur,
    actor: segur::Actor,
}

impl Client {
    fn actor(&self, actor: Option<PyRef<'_, Actor>>) -> segur::Actor {
        actor.map_or_else(|| self.actor.clone(), |a| (&*a).into())
    }
}

#[pymethods]
impl Client {
    /// Opens the client from a configuration file (e.g. the `segur.toml` written by
    /// `segur sandbox`). `actor` is the default actor of every call (default user "segur-py").
    #[staticmethod]
    #[pyo3(signature = (config_path, *, actor=None))]
    fn open(
        py: Python<'_>,
        config_path: PathBuf,
        actor: Option<PyRef<'_, Actor>>,
    ) -> PyResult<Self> {
        let actor = actor.map_or_else(|| segur::Actor::user("segur-py"), |a| (&*a).into());
        let inner = detached(py, || {
            let rt = runtime()?;
            // Building the HTTPS client may need a runtime context.
            let _g = rt.enter();
            Segur::open_file(&config_path)
        })?;
        Ok(Self { inner, actor })
    }

    /// The installation UUID (ContexteLPS/Instance).
    #[getter]
    fn instance(&self) -> String {
        self.inner.instance().to_string()
    }

    /// Creates a provisoire identity; with `confirm` false, a transliteration to confirm raises
    /// `NeedsConfirmation`.
    #[pyo3(signature = (local_id, traits, *, confirm=false, actor=None))]
    fn identity_create(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        traits: PyRef<'_, IdentityInput>,
        confirm: bool,
        actor: Option<PyRef<'_, Actor>>,
    ) -> PyResult<Identity> {
        let (id, input, actor) = (local_id.owned(), (&*traits).into(), self.actor(actor));
        detached(py, || {
            self.inner
                .identity_create(&id, &input, confirm, &actor)?
                .try_into()
        })
    }

    /// The identity record (`NotFoundError` when there is none).
    fn identity_get(&self, py: Python<'_>, local_id: Text<'_>) -> PyResult<Identity> {
        let id = local_id.owned();
        detached(py, || self.inner.identity_get(&id)?.try_into())
    }

    /// Edits the traits; for a récupérée/qualifiée identity, `confirm_downgrade` is required
    /// (RNIV rule 26) and the INS is then dropped.
    #[pyo3(signature = (local_id, traits, *, reason, confirm=false, confirm_downgrade=false, actor=None))]
    #[allow(clippy::too_many_arguments)]
    fn identity_edit_traits(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        traits: PyRef<'_, IdentityInput>,
        reason: Text<'_>,
        confirm: bool,
        confirm_downgrade: bool,
        actor: Option<PyRef<'_, Actor>>,
    ) -> PyResult<Identity> {
        let (id, input, reason, actor) = (
            local_id.owned(),
            (&*traits).into(),
            reason.owned(),
            self.actor(actor),
        );
        detached(py, || {
            self.inner
                .identity_edit_traits(&id, &input, confirm, confirm_downgrade, &reason, &actor)?
                .try_into()
        })
    }

    /// Records a checked identity document (`CN`, `PA`...).
    #[pyo3(signature = (local_id, code, *, actor=None))]
    fn identity_add_document(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        code: Text<'_>,
        actor: Option<PyRef<'_, Actor>>,
    ) -> PyResult<Identity> {
        let (id, code, actor) = (local_id.owned(), code.owned(), self.actor(actor));
        detached(py, || {
            self.inner
                .identity_add_document(&id, &code, &actor)?
                .try_into()
        })
    }

    /// Sets (or clears, `value=False`) an RNIV attribute: `douteuse`, `fictive`, `homonyme`.
    #[pyo3(signature = (local_id, attribute, value=true, *, reason, actor=None))]
    fn identity_set_attribute(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        attribute: Text<'_>,
        value: bool,
        reason: Text<'_>,
        actor: Option<PyRef<'_, Actor>>,
    ) -> PyResult<Identity> {
        let attribute = segur::parse_attribute(attribute.0).map_err(to_pyerr)?;
        let (id, reason, actor) = (local_id.owned(), reason.owned(), self.actor(actor));
        detached(py, || {
            self.inner
                .identity_set_attribute(&id, attribute, value, &reason, &actor)?
                .try_into()
        })
    }

    /// Searches INSi for a recorded identity and applies a `00` result (→ RECUP or QUAL).
    /// Blocking; the GIL is released while waiting.
    #[pyo3(signature = (local_id, *, actor=None))]
    fn identity_search_insi(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        actor: Option<PyRef<'_, Actor>>,
    ) -> PyResult<IdentitySearch> {
        let (id, actor, c) = (local_id.owned(), self.actor(actor), self.inner.clone());
        block_on(py, async move {
            c.identity_search_insi(&id, &actor).await?.try_into()
        })
    }

    /// `identity_search_insi`, as an awaitable.
    #[pyo3(signature = (local_id, *, actor=None))]
    fn identity_search_insi_async<'py>(
        &self,
        py: Python<'py>,
        local_id: Text<'_>,
        actor: Option<PyRef<'_, Actor>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (id, actor, c) = (local_id.owned(), self.actor(actor), self.inner.clone());
        awaitable(py, async move {
            IdentitySearch::try_from(c.identity_search_insi(&id, &actor).await?)
        })
    }

    /// Searches INSi with typed traits, without a record (journaled without patient).
    /// Blocking; the GIL is released while waiting.
    #[pyo3(signature = (traits, *, confirm=false, actor=None))]
    fn insi_search(
        &self,
        py: Python<'_>,
        traits: PyRef<'_, IdentityInput>,
        confirm: bool,
        actor: Option<PyRef<'_, Actor>>,
    ) -> PyResult<InsiResult> {
        let input: segur::IdentityInput = (&*traits).into();
        let (actor, c) = (self.actor(actor), self.inner.clone());
        block_on(py, async move {
            Ok(c.insi_search(&input, confirm, &actor).await?.into())
        })
    }

    /// `insi_search`, as an awaitable.
    #[pyo3(signature = (traits, *, confirm=false, actor=None))]
    fn insi_search_async<'py>(
        &self,
        py: Python<'py>,
        traits: PyRef<'_, IdentityInput>,
        confirm: bool,
        actor: Option<PyRef<'_, Actor>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let input: segur::IdentityInput = (&*traits).into();
        let (actor, c) = (self.actor(actor), self.inner.clone());
        awaitable(py, async move {
            Ok(InsiResult::from(
                c.insi_search(&input, confirm, &actor).await?,
            ))
        })
    }

    /// Exchanges of the journal, newest first; filters combined with AND. `since` (inclusive)
    /// and `until` (exclusive): aware `datetime` or RFC 3339 `str`. `limit` defaults to 1000.
    #[pyo3(signature = (*, patient_local_id=None, practitioner=None, channel=None, status=None,
        since=None, until=None, limit=None))]
    #[allow(clippy::too_many_arguments)]
    fn exchanges(
        &self,
        py: Python<'_>,
        patient_local_id: Option<Text<'_>>,
        practitioner: Option<Text<'_>>,
        channel: Option<Text<'_>>,
        status: Option<Text<'_>>,
        since: Option<&Bound<'_, PyAny>>,
        until: Option<&Bound<'_, PyAny>>,
        limit: Option<u32>,
    ) -> PyResult<Vec<Exchange>> {
        let q = ExchangeQuery {
            patient_local_id: opt(patient_local_id),
            practitioner: opt(practitioner),
            channel: opt(channel),
            status: opt(status),
            from: instant(since, "since")?,
            to: instant(until, "until")?,
            limit,
        };
        detached(py, || {
            Ok(self
                .inner
                .exchanges(&q)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// The exchanges matching the same filters as `exchanges`, as CSV text (header + rows).
    #[pyo3(signature = (*, patient_local_id=None, practitioner=None, channel=None, status=None,
        since=None, until=None, limit=None))]
    #[allow(clippy::too_many_arguments)]
    fn export_csv(
        &self,
        py: Python<'_>,
        patient_local_id: Option<Text<'_>>,
        practitioner: Option<Text<'_>>,
        channel: Option<Text<'_>>,
        status: Option<Text<'_>>,
        since: Option<&Bound<'_, PyAny>>,
        until: Option<&Bound<'_, PyAny>>,
        limit: Option<u32>,
    ) -> PyResult<String> {
        let q = ExchangeQuery {
            patient_local_id: opt(patient_local_id),
            practitioner: opt(practitioner),
            channel: opt(channel),
            status: opt(status),
            from: instant(since, "since")?,
            to: instant(until, "until")?,
            limit,
        };
        detached(py, || {
            let mut out = Vec::new();
            self.inner.journal().export_csv(&q, &mut out)?;
            String::from_utf8(out)
                .map_err(|_| SegurError::Journal("CSV export is not UTF-8".into()))
        })
    }

    /// RNIV events (oldest first), of one patient or of everyone.
    #[pyo3(signature = (patient_local_id=None))]
    fn rniv_events(
        &self,
        py: Python<'_>,
        patient_local_id: Option<Text<'_>>,
    ) -> PyResult<Vec<RnivEvent>> {
        let id = opt(patient_local_id);
        detached(py, || {
            Ok(self
                .inner
                .journal()
                .rniv_events(id.as_deref())?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// Builds a VSM (synthèse médicale, CDA R2) for a recorded patient from a request: a `dict`
    /// or its JSON `str` (the format of `cli/examples/vsm-request.json`; `patient` is the local
    /// id). The INS is written only when the identity is qualifiée (`with_ins`). A malformed
    /// request raises `InsError`, an unknown patient `NotFoundError`.
    fn cda_vsm_build(&self, py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<BuiltDocument> {
        let request = Request::extract(request)?;
        detached(py, || request.build(&self.inner))
    }

    fn __repr__(&self) -> String {
        format!("<segur.Client instance={}>", self.inner.instance())
    }
}
