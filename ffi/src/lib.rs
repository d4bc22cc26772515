//! # segur-ffi — the C ABI of segur (library `segur`, header `include/segur.h`)
//!
//! Conventions (the contract; rustls-ffi discipline):
//! - every fallible function returns a `segur_result` (`SEGUR_RESULT_OK` = 0, stable numbers);
//!   on failure the thread-local last error is set (`segur_last_error_message`,
//!   `segur_last_error_details`); outputs are written **only on success**;
//! - every pointer is NULL-checked (`SEGUR_RESULT_NULL_PARAMETER`); strings come in as
//!   `const uint8_t *ptr, size_t len`, UTF-8, not NUL-terminated, validated; documents (CDA XML)
//!   come in as bytes the same way (any bytes; the XML declares its encoding);
//! - rich data crosses as JSON (schemas in `include/schema/`), returned in `segur_buf` handles
//!   the caller frees with `segur_buf_free` (never with its own allocator);
//! - a panic boundary on every export (`SEGUR_RESULT_PANIC`);
//! - blocking calls plus completion-callback variants (`*_async`) run on the client's runtime.
//!
//! The Rust items of this crate exist for the C ABI only; the rlib is built for tests.

// The exports take raw pointers from C and check them at the boundary (see `boundary.rs`);
// they are `extern "C"` entry points, not a Rust API.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
#![allow(non_camel_case_types)]
#![warn(missing_docs)]

#[macro_use]
pub mod boundary;
pub mod buf;
pub mod cda;
pub mod client;
pub mod dmp;
pub mod error;
pub mod matricule;
pub mod schema;

use std::ffi::c_char;

pub use buf::segur_buf;
pub use client::{segur_attribute, segur_callback, segur_client};
pub use error::{segur_result, ErrorDetails};
pub use matricule::{segur_field, segur_key_status};

use error::{last_error_details, last_error_message};

/// The ABI version this header describes; `segur_abi_version()` of a compatible library returns
/// it. Changes only when the ABI changes incompatibly (then it is a new library).
pub const SEGUR_HEADER_ABI_VERSION: u32 = 1;

/// The library version, NUL-terminated: `"segur-ffi/<version>"`.
///
/// Returns a static string: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_version() -> *const c_char {
    ffi_boundary! { default = std::ptr::null();
        concat!("segur-ffi/", env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    }
}

/// The ABI version (1). Stable forever: wrappers check it when they load the library.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn segur_abi_version() -> u32 {
    SEGUR_HEADER_ABI_VERSION
}

/// A static, NUL-terminated description of a result code; for an unknown number,
/// `"unknown result code"`.
///
/// `code` is a `uint32_t` (any value is accepted). Never free the result. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_result_str(code: u32) -> *const c_char {
    ffi_boundary! { default = c"unknown result code".as_ptr();
        match segur_result::from_u32(code) {
            Some(c) => c.c_description(),
            None => c"unknown result code".as_ptr(),
        }
    }
}

/// Copies the message of the last failed call **on this thread** into `buf` (UTF-8,
/// NUL-terminated; `""` when no call failed yet).
///
/// `*out_len` always receives the size the message needs, NUL included. When `cap` is smaller,
/// returns `SEGUR_RESULT_INSUFFICIENT_SIZE` and writes nothing into `buf`: call again with a
/// buffer of `*out_len` bytes. `buf` and `out_len` must not be NULL (`buf` may point to a
/// 0-byte buffer with `cap` = 0 to query the size). Does not change the last error.
/// Thread-safe (thread-local state).
#[no_mangle]
pub extern "C" fn segur_last_error_message(
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> segur_result {
    ffi_boundary! { keep_last_error;
        try_out!(buf);
        try_out!(out_len);
        let msg = last_error_message();
        let need = msg.len() + 1;
        // SAFETY: out_len checked non-NULL; the caller gives a writable size_t.
        unsafe { *out_len = need };
        if cap < need {
            return Err(error::Failure::new(
                segur_result::InsufficientSize,
                format!("{need} bytes needed"),
            ));
        }
        // SAFETY: buf checked non-NULL; the caller gives `cap` >= need writable bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), msg.len());
            *buf.add(msg.len()) = 0;
        }
        Ok(())
    }
}

/// The details of the last failed call **on this thread**, as JSON (schema
/// `include/schema/error_details.json`): `{code, name, message, subcode, service_code,
/// proposal, reason, retryable}`; `code` is 0 when no call failed yet. `reason` is set for
/// `SEGUR_RESULT_NOT_SENT` only: `{"kind":"no_dmp"|"closed"|"feeding_opposed"|
/// "traits_mismatch","fields":[...]}` (DMP/CONF.01, CONF.09).
///
/// On success `*details_out` receives a new `segur_buf` the caller frees with
/// `segur_buf_free`. Does not change the last error. Thread-safe (thread-local state).
#[no_mangle]
pub extern "C" fn segur_last_error_details(details_out: *mut *mut segur_buf) -> segur_result {
    ffi_boundary! { keep_last_error;
        try_out!(details_out);
        let b = buf::json_buf(&last_error_details())?;
        // SAFETY: checked non-NULL.
        unsafe { *details_out = b };
        Ok(())
    }
}
