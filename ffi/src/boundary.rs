//! The C boundary: the one macro every export goes through, and the early-return helpers it
//! offers (rustls-ffi discipline).
//!
//! [`ffi_boundary!`] runs an export's body under `catch_unwind`:
//! - fallible form `ffi_boundary! { ...; Ok(()) }`: the body returns `Result<(), Failure>`; a
//!   failure sets the thread-local last error and returns its code; a panic sets it and returns
//!   `SEGUR_RESULT_PANIC`;
//! - `ffi_boundary! { keep_last_error; ... }`: the same, without touching the last error (for
//!   the functions that read it);
//! - `ffi_boundary! { default = D; ... }`: for infallible exports, `D` on panic.
//!
//! Inside a body, the early-return macros [`try_ref!`], [`try_out!`], [`try_bytes!`],
//! [`try_str!`], [`try_json!`] and [`try_enum!`] check a pointer, a byte string, a UTF-8 string,
//! a JSON document or an enumeration number and `return Err(..)` with the right code. Outputs are written last, only
//! on success.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::de::DeserializeOwned;

use crate::error::{segur_result, set_last_error, Failure};

/// Wraps the body of every `extern "C"` function (see the module documentation).
#[macro_export]
#[doc(hidden)]
macro_rules! ffi_boundary {
    (default = $d:expr; $($body:tt)*) => {
        $crate::boundary::run_default($d, move || { $($body)* })
    };
    (keep_last_error; $($body:tt)*) => {
        $crate::boundary::run_result(false, move || -> ::std::result::Result<(), $crate::error::Failure> { $($body)* })
    };
    ($($body:tt)*) => {
        $crate::boundary::run_result(true, move || -> ::std::result::Result<(), $crate::error::Failure> { $($body)* })
    };
}

/// `&T` from a `*const T`, or `return Err(NULL_PARAMETER)`.
#[macro_export]
#[doc(hidden)]
macro_rules! try_ref {
    ($p:ident) => {
        // SAFETY: the caller passes NULL or a pointer it got from this library and has not freed.
        match unsafe { $p.as_ref() } {
            Some(r) => r,
            None => return Err($crate::error::Failure::null(stringify!($p))),
        }
    };
}

/// Checks that an output pointer is not NULL, or `return Err(NULL_PARAMETER)`.
#[macro_export]
#[doc(hidden)]
macro_rules! try_out {
    ($p:ident) => {
        if $p.is_null() {
            return Err($crate::error::Failure::null(stringify!($p)));
        }
    };
}

/// `&[u8]` from `(const uint8_t *, size_t)` (any bytes, NUL included), or
/// `return Err(NULL_PARAMETER)`.
#[macro_export]
#[doc(hidden)]
macro_rules! try_bytes {
    ($p:ident, $len:ident) => {
        $crate::boundary::bytes_from(stringify!($p), $p, $len)?
    };
}

/// `&str` from `(const uint8_t *, size_t)`, or `return Err(NULL_PARAMETER | INVALID_UTF8)`.
#[macro_export]
#[doc(hidden)]
macro_rules! try_str {
    ($p:ident, $len:ident) => {
        $crate::boundary::str_from(stringify!($p), $p, $len)?
    };
}

/// A value of type `$t` from a JSON `(const uint8_t *, size_t)`, or `return Err(..)`.
#[macro_export]
#[doc(hidden)]
macro_rules! try_json {
    ($t:ty, $p:ident, $len:ident) => {
        $crate::boundary::json_from::<$t>(stringify!($p), stringify!($t), $p, $len)?
    };
}

/// A known enumeration value from a `uint32_t`, or `return Err(UNKNOWN_ENUM_VALUE)`.
#[macro_export]
#[doc(hidden)]
macro_rules! try_enum {
    ($conv:expr, $v:ident) => {
        match $conv($v) {
            Some(x) => x,
            None => {
                return Err($crate::error::Failure::new(
                    $crate::error::segur_result::UnknownEnumValue,
                    format!("{} = {} is not a known value", stringify!($v), $v),
                ))
            }
        }
    };
}

/// Runs a fallible body under the panic boundary.
pub fn run_result(record: bool, f: impl FnOnce() -> Result<(), Failure>) -> segur_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => segur_result::Ok,
        Ok(Err(failure)) => {
            let code = failure.code;
            if record {
                set_last_error(failure);
            }
            code
        }
        Err(payload) => {
            if record {
                set_last_error(Failure::new(
                    segur_result::Panic,
                    format!("panic: {}", panic_message(&payload)),
                ));
            }
            segur_result::Panic
        }
    }
}

/// Runs an infallible body under the panic boundary: `default` on panic.
pub fn run_default<T>(default: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(default)
}

pub(crate) fn panic_message(payload: &Box<dyn Any + Send>) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

/// Borrows `len` bytes at `ptr` (NULL refused).
pub(crate) fn bytes_from<'a>(name: &str, ptr: *const u8, len: usize) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    if len > isize::MAX as usize {
        return Err(Failure::new(
            segur_result::InvalidInput,
            format!("{name}: length too large"),
        ));
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`, valid during the call.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows a UTF-8 string (NULL refused, UTF-8 validated).
pub(crate) fn str_from<'a>(name: &str, ptr: *const u8, len: usize) -> Result<&'a str, Failure> {
    let b = bytes_from(name, ptr, len)?;
    std::str::from_utf8(b).map_err(|e| {
        Failure::new(
            segur_result::InvalidUtf8,
            format!("{name}: invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })
}

/// Parses a JSON argument. The message names the position and the kind of error, never the
/// values (they may be patient identity).
pub(crate) fn json_from<T: DeserializeOwned>(
    name: &str,
    type_name: &str,
    ptr: *const u8,
    len: usize,
) -> Result<T, Failure> {
    let s = str_from(name, ptr, len)?;
    serde_json::from_str(s).map_err(|e| {
        use serde_json::error::Category;
        let what = match e.classify() {
            Category::Data => {
                let m = e.to_string();
                // "missing field `x`" / "unknown field `x`" name fields, not values.
                if m.starts_with("missing field") || m.starts_with("unknown field") {
                    m.split(" at line").next().unwrap_or("").to_owned()
                } else {
                    format!("does not match the {type_name} schema")
                }
            }
            Category::Eof => "unexpected end of JSON".to_owned(),
            Category::Syntax | Category::Io => "malformed JSON".to_owned(),
        };
        Failure::new(
            segur_result::InvalidJson,
            format!(
                "{name} ({type_name}): {what} at line {} column {}",
                e.line(),
                e.column()
            ),
        )
    })
}
