//! A blocking client over the library's one runtime ([`crate::runtime`]), for the C ABI (and
//! any host without an async executor).

use std::future::Future;
use std::sync::Mutex;

use tokio::task::JoinHandle;

use crate::error::{Result, SegurError};
use crate::views::{Actor, IdentityInput, IdentitySearchView, InsiResultView};
use crate::{runtime, Config, Segur};

/// [`Segur`] with blocking calls, and [`BlockingSegur::spawn`] for completion callbacks. The
/// background work it spawns belongs to it: dropping it cancels what is still pending and waits
/// for it to stop, so no completion runs after the drop returns (except when dropped on a
/// runtime thread, where waiting would deadlock: then the work is only cancelled).
pub struct BlockingSegur {
    client: Segur,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for BlockingSegur {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.client.fmt(f)
    }
}

impl BlockingSegur {
    /// Opens (on the library's runtime: building the HTTPS clients needs its context).
    pub fn open(config: Config) -> Result<Self> {
        let rt = runtime::get()?;
        let client = {
            let _g = rt.enter();
            Segur::open(config)?
        };
        Ok(Self {
            client,
            tasks: Mutex::new(Vec::new()),
        })
    }

    /// Opens from a TOML file.
    pub fn open_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Self::open(Config::from_file(path)?)
    }

    /// The async client.
    pub fn client(&self) -> &Segur {
        &self.client
    }

    /// Runs a future to completion; refused on a runtime thread (e.g. inside a completion
    /// callback), where blocking would deadlock, and in a forked child (open a new client there).
    pub fn block_on<F: Future>(&self, f: F) -> Result<F::Output> {
        self.client.check_process()?;
        runtime::block_on(f)
    }

    /// Spawns background work owned by this client (see the type's doc).
    pub fn spawn<F>(&self, f: F) -> Result<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.client.check_process()?;
        let handle = runtime::spawn(f)?;
        let mut tasks = self
            .tasks
            .lock()
            .map_err(|_| SegurError::Internal("task list lock poisoned".into()))?;
        tasks.retain(|t| !t.is_finished());
        tasks.push(handle);
        Ok(())
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

impl Drop for BlockingSegur {
    fn drop(&mut self) {
        let tasks = match self.tasks.get_mut() {
            Ok(t) => std::mem::take(t),
            Err(p) => std::mem::take(p.into_inner()),
        };
        for t in &tasks {
            t.abort();
        }
        if tasks.is_empty() || self.client.check_process().is_err() {
            return;
        }
        // Wait until every aborted task has dropped its future (and so run its completion).
        let _ = runtime::block_on(async move {
            for t in tasks {
                let _ = t.await;
            }
        });
    }
}
