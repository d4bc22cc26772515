//! The one tokio runtime of the library, shared by the blocking facade ([`crate::blocking`]), the
//! C ABI, Python and Kotlin/Swift: two worker threads named `segur-worker`, created on first use.
//!
//! **fork().** A child process has none of its parent's threads, so the parent's runtime cannot
//! run anything there (its workers are gone, its reactor is the parent's epoll). The runtime is
//! therefore per process: [`get`] notices a new process id and builds a fresh runtime for the
//! child (the parent's copy is leaked, never dropped: dropping it would wait for threads that do
//! not exist). What was opened in the parent — a [`crate::Segur`] with its HTTPS connections
//! and SQLite journal — is refused in the child with a clear error ([`check_process`]); the
//! child opens its own.

use std::future::Future;
use std::sync::atomic::{AtomicPtr, Ordering};

use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

use crate::error::{Result, SegurError};

/// The runtime of one process.
struct Slot {
    pid: u32,
    runtime: Runtime,
}

/// The current process's runtime. An installed slot is never freed (one per process that used
/// the library: the first, plus one per forked child that did).
static CURRENT: AtomicPtr<Slot> = AtomicPtr::new(std::ptr::null_mut());

/// The library's runtime for this process (built on first use, and again in a forked child).
pub fn get() -> Result<&'static Runtime> {
    let pid = std::process::id();
    let seen = CURRENT.load(Ordering::Acquire);
    // SAFETY: a non-null pointer in CURRENT was installed below and is never freed.
    if let Some(slot) = unsafe { seen.as_ref() } {
        if slot.pid == pid {
            return Ok(&slot.runtime);
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("segur-worker")
        .enable_all()
        .build()
        .map_err(|e| SegurError::Internal(format!("cannot start the runtime: {e}")))?;
    let fresh = Box::into_raw(Box::new(Slot { pid, runtime }));
    match CURRENT.compare_exchange(seen, fresh, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: installed, so never freed from now on.
        Ok(_) => Ok(unsafe { &(*fresh).runtime }),
        Err(winner) => {
            // Another thread of this process installed one first: stop ours without waiting (it
            // never ran anything) and use theirs.
            // SAFETY: `fresh` was not installed, so it is ours alone; `winner` is installed.
            unsafe { Box::from_raw(fresh) }
                .runtime
                .shutdown_background();
            match unsafe { winner.as_ref() } {
                Some(w) if w.pid == pid => Ok(&w.runtime),
                _ => Err(SegurError::Internal(
                    "runtime set-up raced with fork()".into(),
                )),
            }
        }
    }
}

/// Runs a future to completion on the library's runtime, from a thread that is not one of its
/// workers (a C, Python or JNI caller). Refused on a runtime thread (e.g. in a completion
/// callback), where blocking would deadlock.
pub fn block_on<F: Future>(f: F) -> Result<F::Output> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(SegurError::WouldBlock);
    }
    Ok(get()?.block_on(f))
}

/// Spawns a future on the library's runtime.
pub fn spawn<F>(f: F) -> Result<JoinHandle<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Ok(get()?.spawn(f))
}

/// Runs `f` on the library's runtime and awaits it from any executor (Kotlin coroutines, Swift
/// tasks, asyncio): the foreign executor only waits. A panic comes back as
/// [`SegurError::Internal`].
pub async fn run<T, F>(f: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    match spawn(f)?.await {
        Ok(r) => r,
        Err(e) if e.is_panic() => Err(SegurError::Internal("the operation panicked".into())),
        Err(_) => Err(SegurError::Internal("the operation was cancelled".into())),
    }
}

/// The process that opened something (a client, a journal), to refuse its use after fork().
#[derive(Debug, Clone, Copy)]
pub(crate) struct OwnerProcess(u32);

impl OwnerProcess {
    /// The current process.
    pub(crate) fn current() -> Self {
        Self(std::process::id())
    }
}

/// Refuses to use in a forked child what its parent opened: its HTTPS connections and SQLite
/// connection belong to the parent (SQLite: "do not carry an open database across fork()").
pub(crate) fn check_process(owner: OwnerProcess) -> Result<()> {
    if owner.0 == std::process::id() {
        Ok(())
    } else {
        Err(SegurError::Config(
            "this client was opened before fork(): open a new client in the child process".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_runtime_per_process() {
        let a = get().unwrap() as *const Runtime;
        let b = std::thread::spawn(|| get().unwrap() as *const Runtime as usize)
            .join()
            .unwrap();
        assert_eq!(a as usize, b);
        assert_eq!(block_on(async { 41 + 1 }).unwrap(), 42);
    }

    #[test]
    fn blocking_inside_the_runtime_is_refused() {
        let r = block_on(async { block_on(async {}).map(|_| ()) }).unwrap();
        assert!(matches!(r, Err(SegurError::WouldBlock)));
    }

    #[test]
    fn run_reports_panics() {
        let r: Result<()> = block_on(run(async { panic!("boom") })).unwrap();
        assert!(matches!(r, Err(SegurError::Internal(m)) if m.contains("panicked")));
    }

    #[test]
    fn a_handle_from_another_process_is_refused() {
        assert!(check_process(OwnerProcess::current()).is_ok());
        let e = check_process(OwnerProcess(std::process::id().wrapping_add(1))).unwrap_err();
        assert!(e.to_string().contains("fork()"), "{e}");
    }
}
