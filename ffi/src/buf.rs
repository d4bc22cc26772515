//! `segur_buf`: bytes owned by the library, handed to C.

use serde::Serialize;

use crate::error::{segur_result, Failure};

/// Bytes owned by the library (JSON, CSV...): read them with `segur_buf_data` and
/// `segur_buf_len`, free them with `segur_buf_free`.
///
/// Ownership: Box — one owner, the caller that received it. Immutable: reading it from several
/// threads at once is safe; freeing it while another thread reads it is not. The data is followed
/// by a NUL byte not counted in the length, so JSON and CSV can be used as C strings.
pub struct segur_buf {
    /// The bytes plus a trailing NUL.
    bytes: Vec<u8>,
}

impl segur_buf {
    /// A buffer holding `bytes`.
    pub fn new(mut bytes: Vec<u8>) -> Self {
        bytes.push(0);
        Self { bytes }
    }

    /// The bytes (without the trailing NUL).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.bytes.len().saturating_sub(1)]
    }

    /// Into a raw pointer for C.
    pub(crate) fn into_raw(self) -> *mut segur_buf {
        Box::into_raw(Box::new(self))
    }
}

/// A new `segur_buf` holding the JSON of `value`.
pub(crate) fn json_buf<T: Serialize>(value: &T) -> Result<*mut segur_buf, Failure> {
    Ok(segur_buf::new(json_bytes(value)?).into_raw())
}

pub(crate) fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, Failure> {
    serde_json::to_vec(value).map_err(|e| {
        Failure::new(
            segur_result::Internal,
            format!("cannot serialise the result: {e}"),
        )
    })
}

/// The first byte of `buf` (followed by `segur_buf_len(buf)` bytes and a NUL); NULL when `buf`
/// is NULL.
///
/// Borrowed: valid until `segur_buf_free(buf)`. Thread-safe for concurrent reads.
#[no_mangle]
pub extern "C" fn segur_buf_data(buf: *const segur_buf) -> *const u8 {
    ffi_boundary! { default = std::ptr::null();
        // SAFETY: NULL or a live buffer from this library.
        match unsafe { buf.as_ref() } {
            Some(b) => b.bytes.as_ptr(),
            None => std::ptr::null(),
        }
    }
}

/// The number of bytes in `buf` (the trailing NUL not counted); 0 when `buf` is NULL.
///
/// Thread-safe for concurrent reads.
#[no_mangle]
pub extern "C" fn segur_buf_len(buf: *const segur_buf) -> usize {
    ffi_boundary! { default = 0;
        // SAFETY: NULL or a live buffer from this library.
        unsafe { buf.as_ref() }.map_or(0, |b| b.as_bytes().len())
    }
}

/// Frees a buffer returned by this library. NULL is accepted (no-op).
///
/// Must not be called twice with the same value, nor while another thread reads the buffer.
/// Never free a `const segur_buf *` borrowed by a callback.
#[no_mangle]
pub extern "C" fn segur_buf_free(buf: *mut segur_buf) {
    ffi_boundary! { default = ();
        if !buf.is_null() {
            // SAFETY: a pointer from `segur_buf::into_raw`, freed once (documented contract).
            drop(unsafe { Box::from_raw(buf) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_terminated() {
        let b = segur_buf::new(b"abc".to_vec()).into_raw();
        assert_eq!(segur_buf_len(b), 3);
        let p = segur_buf_data(b);
        // SAFETY: 3 bytes + NUL.
        assert_eq!(unsafe { *p.add(3) }, 0);
        segur_buf_free(b);
        segur_buf_free(std::ptr::null_mut());
        assert_eq!(segur_buf_len(std::ptr::null()), 0);
    }
}
