//! # segur-uniffi — Kotlin and Swift bindings of segur
//!
//! A thin layer (proc-macros only) over the facade crate [`segur`]: it converts types and errors
//! and calls the facade; no protocol logic lives here.
//!
//! - [`check_matricule`], [`normalize`], [`version`]: top-level functions.
//! - [`SegurClient`]: opened from a TOML configuration; synchronous methods for the local
//!   operations (identity records in the journal), `async` methods for INSi searches — Kotlin
//!   `suspend fun`, Swift `async throws`.
//! - Documents (CDA R2): [`SegurClient::cda_vsm_build`] builds a VSM for a recorded patient;
//!   [`cda_parse`], [`cda_integrate`], [`cda_metadata_json`], [`cda_pdf`] work on a received
//!   document (synchronous, no state).
//! - The DMP (`dmp.md`): `async` [`SegurClient::dmp_status`], [`SegurClient::dmp_authorize`],
//!   [`SegurClient::dmp_send`], [`SegurClient::dmp_find`], [`SegurClient::dmp_get`],
//!   [`SegurClient::dmp_update`]... for a qualifiée identity of the journal, acting as a
//!   [`Practitioner`] (default: the configuration's `[practitioner]`); the synchronous
//!   [`SegurClient::dmp_dashboard`] reads the outbox.
//! - [`SegurError`]: the one error (Kotlin `SegurException`), with the stable codes of
//!   [`segur::ErrorCode`].
//!
//! ## Runtime
//!
//! The library runs its network work on its one runtime ([`segur::runtime`]: 2 worker threads,
//! created on first use, a new one in a forked child). An `async` method spawns the facade's
//! future there and awaits its completion, so the foreign executor (Kotlin coroutines, Swift
//! tasks) only waits: no other runtime is involved.
//! Cancelling the foreign coroutine stops the wait, not the search: a search that has started
//! runs to its end and is journaled (every INSi call must be traceable).
//!
//! Panics never cross the boundary: UniFFI catches them in every export (Kotlin
//! `InternalException`), and a panic inside a spawned search comes back as
//! [`SegurError::Internal`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cda;
mod dmp;
mod error;
mod records;

use std::future::Future;
use std::sync::Arc;

pub use cda::*;
pub use dmp::*;
pub use error::{Result, SegurError};
pub use records::*;

uniffi::setup_scaffolding!();

/// Runs `f` on the library's one runtime ([`segur::runtime`]) and awaits it from any executor.
async fn on_runtime<T, F>(f: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    segur::runtime::run(async move { Ok(f.await) }).await?
}

/// The library version.
#[uniffi::export]
pub fn version() -> String {
    segur::VERSION.to_owned()
}

/// Checks a matricule INS typed by a user: 13 characters, or 15 with the key; or 13 and `key`.
/// A wrong key is an error (`InvalidInput`).
#[uniffi::export]
pub fn check_matricule(matricule: String, key: Option<String>) -> Result<MatriculeInfo> {
    Ok(segur::check_matricule(&matricule, key.as_deref())?.into())
}

/// Normalises a typed name for INSi (upper case, accents dropped, separators checked). With
/// `confirm` false, characters that need a transliteration (’, Æ, Œ) make it fail with
/// `NeedsConfirmation` carrying the proposal; call again with `confirm` true to accept it.
#[uniffi::export]
pub fn normalize(field: NameField, input: String, confirm: bool) -> Result<String> {
    Ok(segur::normalize(field.into(), &input, confirm)?)
}

/// The segur client: identity records (journaled, RNIV statuses derived by the library) and
/// INSi searches. Thread-safe; share one per configuration.
#[derive(Debug, uniffi::Object)]
pub struct SegurClient {
    inner: segur::Segur,
}

#[uniffi::export]
impl SegurClient {
    /// Opens from a TOML configuration file (e.g. the `segur.toml` written by
    /// `segur sandbox`): the journal is created or migrated, the INSi client is built.
    #[uniffi::constructor]
    pub fn open(config_path: String) -> Result<Arc<Self>> {
        // Building the HTTPS client needs a runtime context.
        let _guard = segur::runtime::get()?.enter();
        let inner = segur::Segur::open_file(&config_path)?;
        Ok(Arc::new(SegurClient { inner }))
    }

    /// Warnings about the configuration (certificate name, expiry).
    pub fn warnings(&self) -> Vec<String> {
        self.inner.warnings()
    }

    /// The installation UUID sent to the services (`ContexteLPS/Instance`).
    pub fn instance(&self) -> String {
        self.inner.instance().to_string()
    }

    /// Creates a provisoire identity from typed traits. With `confirm` false, a name needing a
    /// transliteration fails with `NeedsConfirmation` carrying the proposal.
    pub fn identity_create(
        &self,
        local_id: String,
        input: IdentityInput,
        confirm: bool,
        actor: Actor,
    ) -> Result<Identity> {
        Ok(self
            .inner
            .identity_create(&local_id, &input.into(), confirm, &actor.into())?
            .into())
    }

    /// The identity record with this local identifier (`NotFound` when there is none).
    pub fn identity_get(&self, local_id: String) -> Result<Identity> {
        Ok(self.inner.identity_get(&local_id)?.into())
    }

    /// Edits the strict traits and the traits complémentaires. For a récupérée or qualifiée
    /// identity the edit is refused (`RnivRefused`, rule 26) unless `confirm_downgrade`; the INS
    /// is then dropped (rule 27).
    pub fn identity_edit_traits(
        &self,
        local_id: String,
        input: IdentityInput,
        confirm: bool,
        confirm_downgrade: bool,
        reason: String,
        actor: Actor,
    ) -> Result<Identity> {
        Ok(self
            .inner
            .identity_edit_traits(
                &local_id,
                &input.into(),
                confirm,
                confirm_downgrade,
                &reason,
                &actor.into(),
            )?
            .into())
    }

    /// Records a checked identity document (CN, PA...): a high-trust document makes the
    /// identity validée, or qualifiée when its INS was retrieved.
    pub fn identity_add_document(
        &self,
        local_id: String,
        code: String,
        actor: Actor,
    ) -> Result<Identity> {
        Ok(self
            .inner
            .identity_add_document(&local_id, &code, &actor.into())?
            .into())
    }

    /// Sets or clears an RNIV attribute.
    pub fn identity_set_attribute(
        &self,
        local_id: String,
        attribute: RnivAttribute,
        value: bool,
        reason: String,
        actor: Actor,
    ) -> Result<Identity> {
        Ok(self
            .inner
            .identity_set_attribute(&local_id, attribute.into(), value, &reason, &actor.into())?
            .into())
    }

    /// Searches INSi for a recorded identity (CNDA 2.07 strategy) and applies a `00` result
    /// (→ récupérée, or qualifiée with a high-trust document). Every call is journaled.
    pub async fn identity_search_insi(
        &self,
        local_id: String,
        actor: Actor,
    ) -> Result<IdentitySearchResult> {
        let client = self.inner.clone();
        let actor = actor.into();
        on_runtime(async move { Ok(client.identity_search_insi(&local_id, &actor).await?.into()) })
            .await
    }

    /// Searches INSi with typed traits, without a record (journaled without patient).
    pub async fn insi_search(
        &self,
        input: IdentityInput,
        confirm: bool,
        actor: Actor,
    ) -> Result<InsiResult> {
        let client = self.inner.clone();
        let input = input.into();
        let actor = actor.into();
        on_runtime(async move { Ok(client.insi_search(&input, confirm, &actor).await?.into()) })
            .await
    }

    /// Exchanges of the journal, newest first.
    pub fn exchanges(&self, query: ExchangeQuery) -> Result<Vec<ExchangeRow>> {
        Ok(self
            .inner
            .exchanges(&query.try_into()?)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matricule_and_errors() {
        let m = check_matricule("181016322075140".into(), None).unwrap();
        assert_eq!(m.key_status, KeyStatus::Valid);
        let e = check_matricule("181016322075141".into(), None).unwrap_err();
        assert!(
            matches!(e, SegurError::InvalidInput { code: 100, .. }),
            "{e:?}"
        );
        let e = check_matricule(String::new(), None).unwrap_err();
        assert_eq!(e.code(), 100);
    }

    #[test]
    fn open_missing_config_is_a_config_error() {
        let e = SegurClient::open("/nonexistent/segur.toml".into()).unwrap_err();
        assert!(matches!(e, SegurError::Config { code: 400, .. }), "{e:?}");
    }
}
