//! `segur_client`: the identity workflow, INSi and the journal.

use std::ffi::c_void;

use facade::blocking::BlockingSegur;
use facade::Attribute;
use facade::{Actor, ExchangeQuery, IdentityInput};

use crate::buf::{json_buf, json_bytes, segur_buf};
use crate::error::{segur_result, set_last_error, Failure};

/// A client: configuration, journal (SQLite), INSi and DMP clients, and its pending `*_async`
/// operations.
///
/// Ownership: Box — created by `segur_client_open`, owned by the caller, freed once with
/// `segur_client_free`. Thread-safety: every function taking a `const segur_client *` may be
/// called from any thread, concurrently; `segur_client_free` must not race with other calls on
/// the same client.
pub struct segur_client {
    pub(crate) inner: BlockingSegur,
}

/// RNIV attributes for `segur_identity_set_attribute` (passed as a `uint32_t`; other values give
/// `SEGUR_RESULT_UNKNOWN_ENUM_VALUE`).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum segur_attribute {
    /// `DOUT`: identité douteuse.
    Douteuse = 1,
    /// `FICT`: identité fictive.
    Fictive = 2,
    /// `HOMA`: homonyme avéré.
    Homonyme = 3,
}

fn attribute_from_u32(v: u32) -> Option<Attribute> {
    Some(match v {
        1 => Attribute::Douteuse,
        2 => Attribute::Fictive,
        3 => Attribute::Homonyme,
        _ => return None,
    })
}

/// Completion callback of the `*_async` functions.
///
/// Called exactly once per operation that was started (the `*_async` function returned
/// `SEGUR_RESULT_OK`), on a library worker thread (or, for `SEGUR_RESULT_CANCELLED`, on the
/// thread freeing the client), possibly concurrently with other callbacks. `data` is borrowed
/// and valid only during the call (NULL on failure; copy what you need, never free it). On
/// failure the last error of the calling thread is set: `segur_last_error_message` and
/// `segur_last_error_details` may be called from inside the callback. Blocking `segur_*` calls
/// made inside the callback return `SEGUR_RESULT_WOULD_BLOCK_IN_CALLBACK`. The callback must not
/// unwind (no C++ exception, no Pascal exception may leave it).
#[allow(non_camel_case_types)]
pub type segur_callback = Option<
    unsafe extern "C" fn(user_data: *mut c_void, code: segur_result, data: *const segur_buf),
>;

/// Calls the callback once: with the result, or `CANCELLED` (or `PANIC`) when dropped unused.
struct Completion {
    callback: unsafe extern "C" fn(*mut c_void, segur_result, *const segur_buf),
    user_data: *mut c_void,
    done: bool,
}

// SAFETY: the caller of a `*_async` function guarantees that `user_data` may be used from the
// library's worker threads (documented in `segur_callback`).
unsafe impl Send for Completion {}

impl Completion {
    fn complete(mut self, r: Result<Vec<u8>, Failure>) {
        self.done = true;
        match r {
            Ok(bytes) => {
                let b = segur_buf::new(bytes);
                // SAFETY: a C function pointer given by the caller; `b` outlives the call.
                unsafe { (self.callback)(self.user_data, segur_result::Ok, &b) };
            }
            Err(f) => {
                let code = f.code;
                set_last_error(f);
                // SAFETY: as above.
                unsafe { (self.callback)(self.user_data, code, std::ptr::null()) };
            }
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if !self.done {
            let f = if std::thread::panicking() {
                Failure::new(segur_result::Panic, "panic in an asynchronous operation")
            } else {
                Failure::new(
                    segur_result::Cancelled,
                    "operation cancelled: the client was freed",
                )
            };
            let code = f.code;
            set_last_error(f);
            // SAFETY: as in `complete`.
            unsafe { (self.callback)(self.user_data, code, std::ptr::null()) };
        }
    }
}

pub(crate) fn start<F>(
    client: &segur_client,
    callback: segur_callback,
    user_data: *mut c_void,
    fut: F,
) -> Result<(), Failure>
where
    F: std::future::Future<Output = Result<Vec<u8>, Failure>> + Send + 'static,
{
    let Some(callback) = callback else {
        return Err(Failure::null("callback"));
    };
    let completion = Completion {
        callback,
        user_data,
        done: false,
    };
    client.inner.spawn(async move {
        let r = fut.await;
        completion.complete(r);
    })?;
    Ok(())
}

/// Opens a client from a TOML configuration file (e.g. the `segur.toml` written by
/// `segur sandbox`): creates or migrates the journal, loads credentials. Every client runs its
/// network work on the library's one runtime (2 threads, started on first use; a forked child
/// gets its own, and must open its own clients: one opened before `fork()` answers
/// `SEGUR_RESULT_CONFIG` in the child).
///
/// `config_path` is UTF-8 (`config_path_len` bytes). On success `*client_out` receives a new
/// client the caller owns and frees with `segur_client_free`. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_client_open(
    config_path: *const u8,
    config_path_len: usize,
    client_out: *mut *mut segur_client,
) -> segur_result {
    ffi_boundary! {
        let path = try_str!(config_path, config_path_len);
        try_out!(client_out);
        let inner = BlockingSegur::open_file(path)?;
        let c = Box::into_raw(Box::new(segur_client { inner }));
        // SAFETY: checked non-NULL.
        unsafe { *client_out = c };
        Ok(())
    }
}

/// Frees a client: its pending `*_async` operations are cancelled (their callbacks receive
/// `SEGUR_RESULT_CANCELLED` before this returns) and the journal is closed. NULL is accepted.
///
/// Must be called once, after every other call on this client has returned. When called from a
/// completion callback, the shutdown completes on a background thread.
#[no_mangle]
pub extern "C" fn segur_client_free(client: *mut segur_client) {
    ffi_boundary! { default = ();
        if client.is_null() {
            return;
        }
        // SAFETY: a pointer from `segur_client_open`, freed once (documented contract).
        let c = unsafe { Box::from_raw(client) };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Dropping a runtime from one of its own threads would panic.
            std::thread::spawn(move || drop(c));
        } else {
            drop(c);
        }
    }
}

/// Creates a provisoire identity from typed traits.
///
/// `local_id` (the host's identifier, UTF-8), `input_json` (`IdentityInput` JSON), `actor_json`
/// (`Actor` JSON) must not be NULL. Without `confirm`, a transliteration to confirm gives
/// `SEGUR_RESULT_NEEDS_CONFIRMATION` (proposal in the error details). On success
/// `*identity_out` receives the `IdentityView` JSON in a new `segur_buf` (caller frees).
/// Thread-safe.
#[no_mangle]
pub extern "C" fn segur_identity_create(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    input_json: *const u8,
    input_json_len: usize,
    confirm: bool,
    actor_json: *const u8,
    actor_json_len: usize,
    identity_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let input = try_json!(IdentityInput, input_json, input_json_len);
        let actor = try_json!(Actor, actor_json, actor_json_len);
        try_out!(identity_out);
        let v = c.inner.client().identity_create(id, &input, confirm, &actor)?;
        let b = json_buf(&v)?;
        // SAFETY: checked non-NULL.
        unsafe { *identity_out = b };
        Ok(())
    }
}

/// The identity record `local_id` (`SEGUR_RESULT_NOT_FOUND` when none).
///
/// On success `*identity_out` receives the `IdentityView` JSON in a new `segur_buf` (caller
/// frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_identity_get(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    identity_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        try_out!(identity_out);
        let v = c.inner.client().identity_get(id)?;
        let b = json_buf(&v)?;
        // SAFETY: checked non-NULL.
        unsafe { *identity_out = b };
        Ok(())
    }
}

/// Edits the strict traits and the traits complémentaires of an identity (RNIV rule 26: refused
/// for a récupérée/qualifiée identity unless `confirm_downgrade`; rule 27: the INS is then
/// dropped). `reason` (UTF-8) is recorded in the history.
///
/// On success `*identity_out` receives the `IdentityView` JSON in a new `segur_buf` (caller
/// frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_identity_edit_traits(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    input_json: *const u8,
    input_json_len: usize,
    confirm: bool,
    confirm_downgrade: bool,
    reason: *const u8,
    reason_len: usize,
    actor_json: *const u8,
    actor_json_len: usize,
    identity_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let input = try_json!(IdentityInput, input_json, input_json_len);
        let why = try_str!(reason, reason_len);
        let actor = try_json!(Actor, actor_json, actor_json_len);
        try_out!(identity_out);
        let v = c
            .inner
            .client()
            .identity_edit_traits(id, &input, confirm, confirm_downgrade, why, &actor)?;
        let b = json_buf(&v)?;
        // SAFETY: checked non-NULL.
        unsafe { *identity_out = b };
        Ok(())
    }
}

/// Records a checked identity document (`code`: CN, PA...); with a high-trust document a
/// récupérée identity becomes qualifiée, a provisoire one validée.
///
/// On success `*identity_out` receives the `IdentityView` JSON in a new `segur_buf` (caller
/// frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_identity_add_document(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    code: *const u8,
    code_len: usize,
    actor_json: *const u8,
    actor_json_len: usize,
    identity_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let doc = try_str!(code, code_len);
        let actor = try_json!(Actor, actor_json, actor_json_len);
        try_out!(identity_out);
        let v = c.inner.client().identity_add_document(id, doc, &actor)?;
        let b = json_buf(&v)?;
        // SAFETY: checked non-NULL.
        unsafe { *identity_out = b };
        Ok(())
    }
}

/// Sets (`value` true) or clears an RNIV attribute (`attribute`: a `segur_attribute` value;
/// unknown → `SEGUR_RESULT_UNKNOWN_ENUM_VALUE`). `reason` (UTF-8) is recorded.
///
/// On success `*identity_out` receives the `IdentityView` JSON in a new `segur_buf` (caller
/// frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_identity_set_attribute(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    attribute: u32,
    value: bool,
    reason: *const u8,
    reason_len: usize,
    actor_json: *const u8,
    actor_json_len: usize,
    identity_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let a = try_enum!(attribute_from_u32, attribute);
        let why = try_str!(reason, reason_len);
        let actor = try_json!(Actor, actor_json, actor_json_len);
        try_out!(identity_out);
        let v = c.inner.client().identity_set_attribute(id, a, value, why, &actor)?;
        let b = json_buf(&v)?;
        // SAFETY: checked non-NULL.
        unsafe { *identity_out = b };
        Ok(())
    }
}

/// Searches INSi for a recorded identity (CNDA 2.07 strategy) and applies a `00` result; every
/// call is journaled. Blocking: returns `SEGUR_RESULT_WOULD_BLOCK_IN_CALLBACK` when called from
/// a completion callback.
///
/// On success `*search_out` receives the `IdentitySearchView` JSON (`{result, identity}`) in a
/// new `segur_buf` (caller frees). A CR 01/02 is a success (see `result.code`). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_identity_search_insi(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    actor_json: *const u8,
    actor_json_len: usize,
    search_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let actor = try_json!(Actor, actor_json, actor_json_len);
        try_out!(search_out);
        let v = c.inner.identity_search_insi(id, &actor)?;
        let b = json_buf(&v)?;
        // SAFETY: checked non-NULL.
        unsafe { *search_out = b };
        Ok(())
    }
}

/// `segur_identity_search_insi` with a completion callback: returns at once. Arguments are
/// copied before it returns.
///
/// Returns `SEGUR_RESULT_OK` when the operation started: `callback` (not NULL) is then called
/// exactly once with `user_data` and the `IdentitySearchView` JSON (see `segur_callback`). On
/// any other result the callback is never called. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_identity_search_insi_async(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    actor_json: *const u8,
    actor_json_len: usize,
    callback: segur_callback,
    user_data: *mut c_void,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len).to_owned();
        let actor = try_json!(Actor, actor_json, actor_json_len);
        let segur = c.inner.client().clone();
        start(c, callback, user_data, async move {
            let v = segur.identity_search_insi(&id, &actor).await?;
            json_bytes(&v)
        })
    }
}

/// Searches INSi with typed traits (`input_json`: `IdentityInput` JSON), without a record;
/// journaled without patient. Blocking: returns `SEGUR_RESULT_WOULD_BLOCK_IN_CALLBACK` when
/// called from a completion callback.
///
/// On success `*result_out` receives the `InsiResultView` JSON in a new `segur_buf` (caller
/// frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_insi_search(
    client: *const segur_client,
    input_json: *const u8,
    input_json_len: usize,
    confirm: bool,
    actor_json: *const u8,
    actor_json_len: usize,
    result_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let input = try_json!(IdentityInput, input_json, input_json_len);
        let actor = try_json!(Actor, actor_json, actor_json_len);
        try_out!(result_out);
        let v = c.inner.insi_search(&input, confirm, &actor)?;
        let b = json_buf(&v)?;
        // SAFETY: checked non-NULL.
        unsafe { *result_out = b };
        Ok(())
    }
}

/// `segur_insi_search` with a completion callback (same contract as
/// `segur_identity_search_insi_async`; the callback receives the `InsiResultView` JSON).
#[no_mangle]
pub extern "C" fn segur_insi_search_async(
    client: *const segur_client,
    input_json: *const u8,
    input_json_len: usize,
    confirm: bool,
    actor_json: *const u8,
    actor_json_len: usize,
    callback: segur_callback,
    user_data: *mut c_void,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let input = try_json!(IdentityInput, input_json, input_json_len);
        let actor = try_json!(Actor, actor_json, actor_json_len);
        let segur = c.inner.client().clone();
        start(c, callback, user_data, async move {
            let v = segur.insi_search(&input, confirm, &actor).await?;
            json_bytes(&v)
        })
    }
}

/// Exchanges of the journal matching `query_json` (`ExchangeQuery` JSON; `{}` for all, newest
/// first, at most 1000).
///
/// On success `*rows_out` receives a JSON array of `ExchangeRow` in a new `segur_buf` (caller
/// frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_journal_query(
    client: *const segur_client,
    query_json: *const u8,
    query_json_len: usize,
    rows_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let q = try_json!(ExchangeQuery, query_json, query_json_len);
        try_out!(rows_out);
        let rows = c.inner.client().exchanges(&q)?;
        let b = json_buf(&rows)?;
        // SAFETY: checked non-NULL.
        unsafe { *rows_out = b };
        Ok(())
    }
}

/// The exchanges matching `query_json` (`ExchangeQuery` JSON) as CSV (header line + one line
/// per exchange, UTF-8).
///
/// On success `*csv_out` receives the CSV in a new `segur_buf` (caller frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_journal_export_csv(
    client: *const segur_client,
    query_json: *const u8,
    query_json_len: usize,
    csv_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let q = try_json!(ExchangeQuery, query_json, query_json_len);
        try_out!(csv_out);
        let mut bytes = Vec::new();
        c.inner.client().journal().export_csv(&q, &mut bytes)?;
        let b = segur_buf::new(bytes).into_raw();
        // SAFETY: checked non-NULL.
        unsafe { *csv_out = b };
        Ok(())
    }
}
