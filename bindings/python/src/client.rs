//! `segur.Client`: the facade client, with the GIL released around every blocking call and
//! `*_async` variants returning asyncio awaitables. The DMP methods (`dmp_*`, `dmp.md`) take the
//! acting professional as `practitioner=` (default: the configuration's `[practitioner]`).

use std::path::PathBuf;

use pyo3::prelude::*;
use segur::{DmpDocumentQuery, ExchangeQuery, Segur, SegurError};

use crate::cda::{BuiltDocument, Request};
use crate::dmp::{
    self, acting, Cda, DmpAuthorization, DmpConsent, DmpDocumentRow, DmpEntry, DmpFindQuery,
    DmpSendOptions, DmpSendResult, DmpStatus, Practitioner, Retrieved,
};
use crate::errors::to_pyerr;
use crate::runtime::{awaitable, block_on, detached};
use crate::types::instant;
use crate::types::{
    opt, Actor, Exchange, Identity, IdentityInput, IdentitySearch, InsiResult, RnivEvent, Text,
};

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
            // Building the HTTPS client may need a runtime context.
            let _g = segur::runtime::get()?.enter();
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

    // ---- DMP (dmp.md): the acting professional is `practitioner`, else `[practitioner]` -----

    /// The professional of the configuration's `[practitioner]` (None when absent).
    #[getter]
    fn default_practitioner(&self) -> Option<Practitioner> {
        self.inner.default_practitioner().map(Into::into)
    }

    /// The local id of the qualifiée identity whose INS is `ins` (15 characters).
    /// `NotFoundError` when none has it, `InsError` when several do (duplicates to merge).
    fn identity_by_ins(&self, py: Python<'_>, ins: Text<'_>) -> PyResult<String> {
        let ins = ins.owned();
        detached(py, || self.inner.identity_by_ins(&ins))
    }

    /// TD0.2: the patient's DMP (exists, closed, our authorization, may we feed and consult).
    /// The patient is a qualifiée identity of the journal (else `RnivError`, rule 28).
    #[pyo3(signature = (local_id, *, practitioner=None))]
    fn dmp_status(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<DmpStatus> {
        let (id, who, c) = (
            local_id.owned(),
            acting(&self.inner, practitioner)?,
            self.inner.clone(),
        );
        block_on(py, async move { Ok(c.dmp_status(&id, &who).await?.into()) })
    }

    /// `dmp_status`, as an awaitable.
    #[pyo3(signature = (local_id, *, practitioner=None))]
    fn dmp_status_async<'py>(
        &self,
        py: Python<'py>,
        local_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (id, who, c) = (
            local_id.owned(),
            acting(&self.inner, practitioner)?,
            self.inner.clone(),
        );
        awaitable(py, async move {
            Ok(DmpStatus::from(c.dmp_status(&id, &who).await?))
        })
    }

    /// DMP/CONF.01: a TD0.2 now and the practitioner's confirmation of the traits mismatch it
    /// reports, recorded in the journal; `dmp_send` / `dmp_retry` then send for this patient as
    /// long as TD0.2 reports exactly this mismatch. Returns the trait codes confirmed
    /// (`prenoms`...). `InsError` when there is no mismatch to confirm.
    #[pyo3(signature = (local_id, *, practitioner=None))]
    fn dmp_confirm_traits(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Vec<String>> {
        let (id, who, c) = (
            local_id.owned(),
            acting(&self.inner, practitioner)?,
            self.inner.clone(),
        );
        block_on(py, async move {
            Ok(c.dmp_confirm_traits(&id, &who).await?.fields)
        })
    }

    /// `dmp_confirm_traits`, as an awaitable.
    #[pyo3(signature = (local_id, *, practitioner=None))]
    fn dmp_confirm_traits_async<'py>(
        &self,
        py: Python<'py>,
        local_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (id, who, c) = (
            local_id.owned(),
            acting(&self.inner, practitioner)?,
            self.inner.clone(),
        );
        awaitable(py, async move {
            Ok(c.dmp_confirm_traits(&id, &who).await?.fields)
        })
    }

    /// TD0.3 AJOUT with the patient's consent (recorded in the journal); returns our access
    /// afterwards (`AUTORISE`).
    #[pyo3(signature = (local_id, consent, *, practitioner=None))]
    fn dmp_authorize(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        consent: PyRef<'_, DmpConsent>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Option<String>> {
        let (id, consent) = (local_id.owned(), segur::DmpConsent::from(&*consent));
        let (who, c) = (acting(&self.inner, practitioner)?, self.inner.clone());
        block_on(
            py,
            async move { c.dmp_authorize(&id, &who, &consent).await },
        )
    }

    /// `dmp_authorize`, as an awaitable.
    #[pyo3(signature = (local_id, consent, *, practitioner=None))]
    fn dmp_authorize_async<'py>(
        &self,
        py: Python<'py>,
        local_id: Text<'_>,
        consent: PyRef<'_, DmpConsent>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (id, consent) = (local_id.owned(), segur::DmpConsent::from(&*consent));
        let (who, c) = (acting(&self.inner, practitioner)?, self.inner.clone());
        awaitable(
            py,
            async move { c.dmp_authorize(&id, &who, &consent).await },
        )
    }

    /// TD0.3 SUPPRESSION: removes our authorization; returns our access afterwards.
    #[pyo3(signature = (local_id, *, practitioner=None))]
    fn dmp_revoke(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Option<String>> {
        let (id, who, c) = (
            local_id.owned(),
            acting(&self.inner, practitioner)?,
            self.inner.clone(),
        );
        block_on(py, async move { c.dmp_revoke(&id, &who).await })
    }

    /// `dmp_revoke`, as an awaitable.
    #[pyo3(signature = (local_id, *, practitioner=None))]
    fn dmp_revoke_async<'py>(
        &self,
        py: Python<'py>,
        local_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (id, who, c) = (
            local_id.owned(),
            acting(&self.inner, practitioner)?,
            self.inner.clone(),
        );
        awaitable(py, async move { c.dmp_revoke(&id, &who).await })
    }

    /// `listAuthorizationByPatient`: the authorizations on the patient's DMP.
    #[pyo3(signature = (local_id, *, practitioner=None))]
    fn dmp_authorizations(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Vec<DmpAuthorization>> {
        let (id, who, c) = (
            local_id.owned(),
            acting(&self.inner, practitioner)?,
            self.inner.clone(),
        );
        block_on(py, async move {
            Ok(c.dmp_authorizations(&id, &who)
                .await?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// `dmp_authorizations`, as an awaitable.
    #[pyo3(signature = (local_id, *, practitioner=None))]
    fn dmp_authorizations_async<'py>(
        &self,
        py: Python<'py>,
        local_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (id, who, c) = (
            local_id.owned(),
            acting(&self.inner, practitioner)?,
            self.inner.clone(),
        );
        awaitable(py, async move {
            let list: Vec<DmpAuthorization> = c
                .dmp_authorizations(&id, &who)
                .await?
                .into_iter()
                .map(Into::into)
                .collect();
            Ok(list)
        })
    }

    /// Sends a CDA document (`bytes`, `bytearray`, `str` or a `BuiltDocument`) to the patient's
    /// DMP (TD0.2 then ITI-41). It is stored in the journal's outbox first: never lost; a failed
    /// send raises and can be retried with `dmp_retry`. `NotSentError` when nothing was sent
    /// (no DMP, closed, opposition), `TooLargeError` over the size limit.
    #[pyo3(signature = (local_id, document, options=None, *, practitioner=None))]
    fn dmp_send(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        document: Cda,
        options: Option<PyRef<'_, DmpSendOptions>>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<DmpSendResult> {
        let (id, options) = (local_id.owned(), dmp::send_options(options));
        let (who, c) = (acting(&self.inner, practitioner)?, self.inner.clone());
        block_on(py, async move {
            Ok(c.dmp_send(&id, &who, &document.0, &options).await?.into())
        })
    }

    /// `dmp_send`, as an awaitable.
    #[pyo3(signature = (local_id, document, options=None, *, practitioner=None))]
    fn dmp_send_async<'py>(
        &self,
        py: Python<'py>,
        local_id: Text<'_>,
        document: Cda,
        options: Option<PyRef<'_, DmpSendOptions>>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (id, options) = (local_id.owned(), dmp::send_options(options));
        let (who, c) = (acting(&self.inner, practitioner)?, self.inner.clone());
        awaitable(py, async move {
            Ok(DmpSendResult::from(
                c.dmp_send(&id, &who, &document.0, &options).await?,
            ))
        })
    }

    /// Sends again a document of the outbox whose send failed (or never completed).
    #[pyo3(signature = (unique_id, *, practitioner=None))]
    fn dmp_retry(
        &self,
        py: Python<'_>,
        unique_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<DmpSendResult> {
        let (uid, who, c) = (
            unique_id.owned(),
            acting(&self.inner, practitioner)?,
            self.inner.clone(),
        );
        block_on(py, async move { Ok(c.dmp_retry(&uid, &who).await?.into()) })
    }

    /// `dmp_retry`, as an awaitable.
    #[pyo3(signature = (unique_id, *, practitioner=None))]
    fn dmp_retry_async<'py>(
        &self,
        py: Python<'py>,
        unique_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (uid, who, c) = (
            unique_id.owned(),
            acting(&self.inner, practitioner)?,
            self.inner.clone(),
        );
        awaitable(py, async move {
            Ok(DmpSendResult::from(c.dmp_retry(&uid, &who).await?))
        })
    }

    /// ITI-18 FindDocuments: the patient's documents matching `query` (current ones by
    /// default), newest first.
    #[pyo3(signature = (local_id, query=None, *, practitioner=None))]
    fn dmp_find(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        query: Option<PyRef<'_, DmpFindQuery>>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Vec<DmpEntry>> {
        let (id, q) = (local_id.owned(), dmp::find_query(query));
        let (who, c) = (acting(&self.inner, practitioner)?, self.inner.clone());
        block_on(py, async move {
            Ok(c.dmp_find(&id, &who, &q)
                .await?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// `dmp_find`, as an awaitable.
    #[pyo3(signature = (local_id, query=None, *, practitioner=None))]
    fn dmp_find_async<'py>(
        &self,
        py: Python<'py>,
        local_id: Text<'_>,
        query: Option<PyRef<'_, DmpFindQuery>>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (id, q) = (local_id.owned(), dmp::find_query(query));
        let (who, c) = (acting(&self.inner, practitioner)?, self.inner.clone());
        awaitable(py, async move {
            let found: Vec<DmpEntry> = c
                .dmp_find(&id, &who, &q)
                .await?
                .into_iter()
                .map(Into::into)
                .collect();
            Ok(found)
        })
    }

    /// The most recent current VSM of the patient's DMP (None when there is none).
    #[pyo3(signature = (local_id, *, practitioner=None))]
    fn dmp_latest_vsm(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Option<DmpEntry>> {
        let (id, who, c) = (
            local_id.owned(),
            acting(&self.inner, practitioner)?,
            self.inner.clone(),
        );
        block_on(py, async move {
            Ok(c.dmp_latest_vsm(&id, &who).await?.map(Into::into))
        })
    }

    /// `dmp_latest_vsm`, as an awaitable.
    #[pyo3(signature = (local_id, *, practitioner=None))]
    fn dmp_latest_vsm_async<'py>(
        &self,
        py: Python<'py>,
        local_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (id, who, c) = (
            local_id.owned(),
            acting(&self.inner, practitioner)?,
            self.inner.clone(),
        );
        awaitable(py, async move {
            Ok(c.dmp_latest_vsm(&id, &who).await?.map(DmpEntry::from))
        })
    }

    /// ITI-43: retrieves a document by uniqueId, size and hash checked: `(entry, content)`.
    /// Hand `content` to `cda_parse` for the integration screen.
    #[pyo3(signature = (local_id, unique_id, *, practitioner=None))]
    fn dmp_get(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        unique_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Retrieved> {
        let (id, uid) = (local_id.owned(), unique_id.owned());
        let (who, c) = (acting(&self.inner, practitioner)?, self.inner.clone());
        block_on(
            py,
            async move { Ok(c.dmp_get(&id, &who, &uid).await?.into()) },
        )
    }

    /// `dmp_get`, as an awaitable.
    #[pyo3(signature = (local_id, unique_id, *, practitioner=None))]
    fn dmp_get_async<'py>(
        &self,
        py: Python<'py>,
        local_id: Text<'_>,
        unique_id: Text<'_>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (id, uid) = (local_id.owned(), unique_id.owned());
        let (who, c) = (acting(&self.inner, practitioner)?, self.inner.clone());
        awaitable(py, async move {
            Ok(Retrieved::from(c.dmp_get(&id, &who, &uid).await?))
        })
    }

    /// ITI-57: masks, unmasks, hides from or shows to the patient, deletes or archives a
    /// document (`update`: a `DmpUpdate` or its code); the outbox row follows. Returns the
    /// registry's warning codes.
    #[pyo3(signature = (local_id, unique_id, update, *, practitioner=None))]
    fn dmp_update(
        &self,
        py: Python<'_>,
        local_id: Text<'_>,
        unique_id: Text<'_>,
        update: &Bound<'_, PyAny>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Vec<String>> {
        let (id, uid, u) = (local_id.owned(), unique_id.owned(), dmp::update(update)?);
        let (who, c) = (acting(&self.inner, practitioner)?, self.inner.clone());
        block_on(py, async move { c.dmp_update(&id, &who, &uid, u).await })
    }

    /// `dmp_update`, as an awaitable.
    #[pyo3(signature = (local_id, unique_id, update, *, practitioner=None))]
    fn dmp_update_async<'py>(
        &self,
        py: Python<'py>,
        local_id: Text<'_>,
        unique_id: Text<'_>,
        update: &Bound<'_, PyAny>,
        practitioner: Option<PyRef<'_, Practitioner>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (id, uid, u) = (local_id.owned(), unique_id.owned(), dmp::update(update)?);
        let (who, c) = (acting(&self.inner, practitioner)?, self.inner.clone());
        awaitable(py, async move { c.dmp_update(&id, &who, &uid, u).await })
    }

    /// The DMP dashboard ("Tableau de bord des échanges"): documents sent from here and their
    /// status, newest first. `practitioner` filters on a national id; `status`: a
    /// `DmpDocumentStatus` or its code; `since` (inclusive) / `until` (exclusive): aware
    /// `datetime` or RFC 3339 `str`; `limit` defaults to 1000.
    #[pyo3(signature = (*, patient_local_id=None, practitioner=None, status=None, since=None,
        until=None, limit=None))]
    #[allow(clippy::too_many_arguments)]
    fn dmp_dashboard(
        &self,
        py: Python<'_>,
        patient_local_id: Option<Text<'_>>,
        practitioner: Option<Text<'_>>,
        status: Option<&Bound<'_, PyAny>>,
        since: Option<&Bound<'_, PyAny>>,
        until: Option<&Bound<'_, PyAny>>,
        limit: Option<u32>,
    ) -> PyResult<Vec<DmpDocumentRow>> {
        let q = DmpDocumentQuery {
            patient_local_id: opt(patient_local_id),
            practitioner: opt(practitioner),
            status: status.map(dmp::document_status).transpose()?,
            from: instant(since, "since")?,
            to: instant(until, "until")?,
            limit,
        };
        detached(py, || {
            Ok(self
                .inner
                .dmp_dashboard(&q)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    fn __repr__(&self) -> String {
        format!("<segur.Client instance={}>", self.inner.instance())
    }
}
