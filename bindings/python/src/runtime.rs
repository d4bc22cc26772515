//! The bridge to the library's one runtime ([`segur::runtime`]): blocking calls with the GIL
//! released, and asyncio awaitables that run on the same runtime (after `os.fork()`, on the
//! child's own).

use std::future::Future;
use std::pin::Pin;

use pyo3::prelude::*;
use pyo3_async_runtimes::{generic, TaskLocals};
use segur::SegurError;

use crate::errors::to_pyerr;

/// The library's one runtime ([`segur::runtime`]) as a runtime of pyo3-async-runtimes, so the
/// `*_async` awaitables run where the blocking calls do — and, after `os.fork()`, on the
/// child's own runtime.
struct SegurRuntime;

tokio::task_local! {
    static TASK_LOCALS: TaskLocals;
}

impl generic::Runtime for SegurRuntime {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // `awaitable` has checked that the runtime starts: this is the same one.
        segur::runtime::get()
            .expect("runtime checked by awaitable")
            .spawn(fut)
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        segur::runtime::get()
            .expect("runtime checked by awaitable")
            .spawn_blocking(f)
    }
}

impl generic::ContextExt for SegurRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        Box::pin(TASK_LOCALS.scope(locals, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS.try_with(|l| l.clone()).ok()
    }
}

/// Runs `f` with the GIL released (it must not touch Python objects).
pub(crate) fn detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> Result<T, SegurError> + Send,
) -> PyResult<T> {
    py.detach(f).map_err(to_pyerr)
}

/// Blocks on a future with the GIL released; refused on a runtime thread (would deadlock).
pub(crate) fn block_on<T: Send>(
    py: Python<'_>,
    fut: impl Future<Output = Result<T, SegurError>> + Send,
) -> PyResult<T> {
    detached(py, || segur::runtime::block_on(fut)?)
}

/// Wraps a facade future as an asyncio awaitable.
pub(crate) fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, SegurError>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    segur::runtime::get().map_err(to_pyerr)?;
    generic::future_into_py::<SegurRuntime, _, T>(py, async move { fut.await.map_err(to_pyerr) })
}
