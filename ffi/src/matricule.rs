//! Stateless functions: matricule INS check and traits normalisation.

use facade::ins::{Field, KeyStatus, Matricule};
use facade::MatriculeInfo;

use crate::buf::{json_buf, segur_buf};
use crate::error::{segur_result, Failure};

/// The identity fields `segur_normalize` knows. Passed as a `uint32_t`; other values give
/// `SEGUR_RESULT_UNKNOWN_ENUM_VALUE`.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum segur_field {
    /// Nom de naissance (birth name).
    NomNaissance = 1,
    /// A prénom de naissance (birth first name).
    Prenom = 2,
    /// Premier prénom de naissance (first birth first name).
    PremierPrenom = 3,
    /// Nom utilisé (used name).
    NomUtilise = 4,
    /// Prénom utilisé (used first name).
    PrenomUtilise = 5,
}

impl segur_field {
    fn from_u32(v: u32) -> Option<Field> {
        Some(match v {
            1 => Field::NomNaissance,
            2 => Field::Prenom,
            3 => Field::PremierPrenom,
            4 => Field::NomUtilise,
            5 => Field::PrenomUtilise,
            _ => return None,
        })
    }
}

/// The key status `segur_matricule_normalize15` writes (as a `uint32_t`).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum segur_key_status {
    /// The key given matches the number.
    Valid = 1,
    /// No key was given; it was computed.
    Computed = 2,
    /// The key given does not match (only for received matricules; typed ones are refused).
    Mismatch = 3,
}

fn key_status_of(k: KeyStatus) -> segur_key_status {
    match k {
        KeyStatus::Valid => segur_key_status::Valid,
        KeyStatus::Computed => segur_key_status::Computed,
        KeyStatus::Mismatch { .. } => segur_key_status::Mismatch,
    }
}

/// Checks a matricule INS typed by a user: 13 characters (the key is computed) or 15 (the key is
/// checked), spaces ignored; or 13 characters plus a separate 2-digit `key`.
///
/// `matricule` (UTF-8, `matricule_len` bytes) must not be NULL; `key` may be NULL (then
/// `key_len` is ignored). On success `*info_out` receives a new `segur_buf` with the
/// `MatriculeInfo` JSON (`include/schema/matricule_info.json`), freed by the caller with
/// `segur_buf_free`. A wrong key or length gives `SEGUR_RESULT_INVALID_INPUT`. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_matricule_check(
    matricule: *const u8,
    matricule_len: usize,
    key: *const u8,
    key_len: usize,
    info_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let m = try_str!(matricule, matricule_len);
        let k = if key.is_null() { None } else { Some(try_str!(key, key_len)) };
        try_out!(info_out);
        let info: MatriculeInfo = facade::check_matricule(m, k)?;
        let b = json_buf(&info)?;
        // SAFETY: checked non-NULL.
        unsafe { *info_out = b };
        Ok(())
    }
}

/// The fast path: checks a typed matricule (13 or 15 characters, spaces ignored) and writes its
/// 15-character form (number + key, ASCII, **not** NUL-terminated) into `out15`, and its key
/// status (`segur_key_status`: valid or computed) into `*key_status_out`. No allocation on
/// success.
///
/// `matricule`, `out15` (15 writable bytes) and `key_status_out` must not be NULL. Outputs are
/// written only on success. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_matricule_normalize15(
    matricule: *const u8,
    matricule_len: usize,
    out15: *mut u8,
    key_status_out: *mut u32,
) -> segur_result {
    ffi_boundary! {
        let s = try_str!(matricule, matricule_len);
        try_out!(out15);
        try_out!(key_status_out);
        let m = Matricule::parse(s).map_err(|e| Failure::from(facade::SegurError::from(e)))?;
        let mut tmp = [0u8; 15];
        m.write_15(&mut tmp);
        // SAFETY: both checked non-NULL; out15 has 15 writable bytes (documented contract).
        unsafe {
            std::ptr::copy_nonoverlapping(tmp.as_ptr(), out15, 15);
            *key_status_out = key_status_of(m.key_status()) as u32;
        }
        Ok(())
    }
}

/// Normalises a typed name for INSi (upper case, allowed characters, spaces). `field` is a
/// `segur_field` value (unknown → `SEGUR_RESULT_UNKNOWN_ENUM_VALUE`).
///
/// Without `confirm`, characters with a standard transliteration (Æ, ’...) give
/// `SEGUR_RESULT_NEEDS_CONFIRMATION`; the proposed spelling is then in the `proposal` of
/// `segur_last_error_details`. With `confirm`, the proposal is accepted. On success
/// `*normalized_out` receives a new `segur_buf` (UTF-8 text, not JSON) freed with
/// `segur_buf_free`. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_normalize(
    field: u32,
    input: *const u8,
    input_len: usize,
    confirm: bool,
    normalized_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let f = try_enum!(segur_field::from_u32, field);
        let s = try_str!(input, input_len);
        try_out!(normalized_out);
        let n = facade::normalize(f, s, confirm)?;
        let b = segur_buf::new(n.into_bytes()).into_raw();
        // SAFETY: checked non-NULL.
        unsafe { *normalized_out = b };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path() {
        let mut out = [0u8; 15];
        let mut ks = 0u32;
        let m = b"1810163220751";
        let r = segur_matricule_normalize15(m.as_ptr(), m.len(), out.as_mut_ptr(), &mut ks);
        assert_eq!(r, segur_result::Ok);
        assert_eq!(&out, b"181016322075140");
        assert_eq!(ks, segur_key_status::Computed as u32);
        let bad = b"181016322075141";
        let mut out2 = [9u8; 15];
        let r = segur_matricule_normalize15(bad.as_ptr(), bad.len(), out2.as_mut_ptr(), &mut ks);
        assert_eq!(r, segur_result::InvalidInput);
        assert_eq!(out2, [9u8; 15], "nothing written on failure");
    }

    #[test]
    fn unknown_field() {
        let mut out = std::ptr::null_mut();
        let s = b"X";
        let r = segur_normalize(99, s.as_ptr(), 1, false, &mut out);
        assert_eq!(r, segur_result::UnknownEnumValue);
        assert!(out.is_null());
    }
}
