//! A blocking client owning its tokio runtime, for the C, Python and Kotlin surfaces.

use std::future::Future;

use tokio::runtime::Runtime;

use crate::error::{Result, SegurError};
use crate::views::{Actor, IdentityInput, IdentitySearchView, InsiResultView};
use crate::{Config, Segur};

/// [`Segur`] with a runtime of its own: blocking calls, and `spawn` for completion callbacks.
pub struct BlockingSegur {
    client: Segur,
    runtime: Runtime,
}

impl std::fmt::Debug for BlockingSegur {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.client.fmt(f)
    }
}

impl BlockingSegur {
    /// Opens with a 2-thread runtime.
    pub fn open(config: Config) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("segur-worker")
            .enable_all()
            .build()
            .map_err(|e| SegurError::Internal(format!("cannot start the runtime: {e}")))?;
        // Building the HTTPS client may need a runtime context.
        let client = {
            let _g = runtime.enter();
            Segur::open(config)?
        };
        Ok(Self { client, runtime })
    }

    /// Opens from a TOML file.
    pub fn open_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Self::open(Config::from_file(path)?)
    }

    /// The async client.
    pub fn client(&self) -> &Segur {
        &self.client
    }

    /// The runtime (for completion-callback variants).
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Runs a future to completion; refused on a runtime thread (e.g. inside a completion
    /// callback), where blocking would deadlock.
    pub fn block_on<F: Future>(&self, f: F) -> Result<F::Output> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(SegurError::WouldBlock);
        }
        Ok(self.runtime.block_on(f))
    }

    /// [`Segur::identity_search_insi`], blocking.
    pub fn identity_search_insi(
        &self,
        local_id: &str,
        actor: &Actor,
    ) -> Result<IdentitySearchView> {
        self.block_on(self.client.identity_search_insi(local_id, actor))?
    }

    /// [`Segur::insi_search`], blocking.
    pub fn insi_search(
        &self,
        input: &IdentityInput,
        confirm: bool,
        actor: &Actor,
    ) -> Result<InsiResultView> {
        self.block_on(self.client.insi_search(input, confirm, actor))?
    }
}
