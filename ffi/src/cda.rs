//! Documents (CDA R2): build a VSM for a recorded patient, parse a received document, select
//! items for integration, derive XDS metadata, render the PDF copy.
//!
//! XML crosses as bytes (`const uint8_t *xml, size_t xml_len`): the document's own encoding
//! declaration applies, it need not be NUL-free nor NUL-terminated. A malformed document, a
//! DOCTYPE, a wrong root element or a broken CI-SIS rule gives `SEGUR_RESULT_INVALID_DOCUMENT`.
//!
//! JSON out: `BuiltDocument` has a schema (`include/schema/built_document.json`); the parsed
//! document, the VSM summary and the XDS metadata are the serde form of the `segur-cda` types
//! `ParsedDocument`, `VsmSummary` and `XdsMetadata` (no published schema: those types have no
//! JSON Schema derive).

use facade::{BuiltDocument, VsmRequest};

use crate::buf::{json_buf, segur_buf};
use crate::client::segur_client;
use crate::error::segur_result;

/// Builds a VSM (Volet de Synthèse Médicale 2023.01) for a patient recorded in the journal.
///
/// `request_json` is the request (UTF-8 JSON, the format of `cli/examples/vsm-request.json`:
/// `patient` is the local id of a recorded identity, plus `ipp_root`, authors, custodian,
/// legal authenticator, service event, encounter and the `summary`). The INS is written only
/// when the identity is qualifiée (RNIV rule 28); otherwise the document carries the IPP only.
/// Malformed JSON or JSON not matching the request gives `SEGUR_RESULT_INVALID_JSON`; an
/// unknown patient `SEGUR_RESULT_NOT_FOUND`; a request breaking a CI-SIS rule
/// `SEGUR_RESULT_INVALID_INPUT` or `SEGUR_RESULT_INVALID_DOCUMENT`.
///
/// On success `*document_out` receives the `BuiltDocument` JSON (`{xml, id, set_id, with_ins}`,
/// `include/schema/built_document.json`) and `*xml_out` the CDA XML itself (UTF-8, ready to
/// send), each in a new `segur_buf` the caller frees with `segur_buf_free`; on failure neither
/// is written. No pointer may be NULL. Does not block on the network. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_cda_vsm_build(
    client: *const segur_client,
    request_json: *const u8,
    request_json_len: usize,
    document_out: *mut *mut segur_buf,
    xml_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        try_out!(document_out);
        try_out!(xml_out);
        let req = try_json!(VsmRequest, request_json, request_json_len);
        let built: BuiltDocument = c.inner.client().cda_vsm_build(req)?;
        let doc = json_buf(&built)?;
        let xml = segur_buf::new(built.xml.into_bytes()).into_raw();
        // SAFETY: both checked non-NULL.
        unsafe {
            *document_out = doc;
            *xml_out = xml;
        }
        Ok(())
    }
}

/// Parses a received CDA (level 1 or VSM) into the typed model: header (patient as received —
/// a received INS is not a qualified identity), VSM version, body kind, and every selectable
/// item with a stable id (`<block>:<entry id>`, the same for the same document).
///
/// `xml` (`xml_len` bytes) must not be NULL. On success `*parsed_out` receives the JSON of
/// `ParsedDocument` (serde form; a level 1 body's bytes are not included: use `segur_cda_pdf`)
/// in a new `segur_buf` the caller frees with `segur_buf_free`. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_cda_parse(
    xml: *const u8,
    xml_len: usize,
    parsed_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let x = try_bytes!(xml, xml_len);
        try_out!(parsed_out);
        let doc = facade::cda_parse(x)?;
        let b = json_buf(&doc)?;
        // SAFETY: checked non-NULL.
        unsafe { *parsed_out = b };
        Ok(())
    }
}

/// Selective integration: the items of a received document chosen by the user, as a VSM
/// summary holding exactly that selection.
///
/// `xml` (`xml_len` bytes) and `selection_json` (a UTF-8 JSON array of item ids, as given by
/// `segur_cda_parse`, e.g. `["pathologies:…","traitements:…"]`) must not be NULL. An id that is
/// not in the document gives `SEGUR_RESULT_INVALID_INPUT`. On success `*summary_out` receives
/// the JSON of `VsmSummary` (serde form, the `summary` of a VSM request) in a new `segur_buf`
/// the caller frees with `segur_buf_free`. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_cda_integrate(
    xml: *const u8,
    xml_len: usize,
    selection_json: *const u8,
    selection_json_len: usize,
    summary_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let x = try_bytes!(xml, xml_len);
        let ids = try_json!(Vec<String>, selection_json, selection_json_len);
        try_out!(summary_out);
        let summary = facade::cda_integrate(x, &ids)?;
        let b = json_buf(&summary)?;
        // SAFETY: checked non-NULL.
        unsafe { *summary_out = b };
        Ok(())
    }
}

/// The XDS metadata of a document, derived from its header (for the DMP and XDM): class, type,
/// format, confidentiality, facility and practice setting codes, patient ids (the INS as
/// `patientId` when present), authors, times, title, unique id.
///
/// `xml` (`xml_len` bytes) must not be NULL. On success `*metadata_out` receives the JSON of
/// `XdsMetadata` (serde form) in a new `segur_buf` the caller frees with `segur_buf_free`.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn segur_cda_metadata(
    xml: *const u8,
    xml_len: usize,
    metadata_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let x = try_bytes!(xml, xml_len);
        try_out!(metadata_out);
        let m = facade::cda_metadata(x)?;
        let b = json_buf(&m)?;
        // SAFETY: checked non-NULL.
        unsafe { *metadata_out = b };
        Ok(())
    }
}

/// The PDF copy of a document (level 1: its own PDF; VSM: its narrative rendered) and its
/// MSSanté file name `<date>_<type>_<NOM>_<prénom>.pdf`.
///
/// `xml` (`xml_len` bytes), `pdf_out` and `file_name_out` must not be NULL. On success
/// `*pdf_out` receives the PDF bytes (binary: use `segur_buf_len`, not `strlen`) and
/// `*file_name_out` the file name (UTF-8 text), each in a new `segur_buf` the caller frees with
/// `segur_buf_free`; on failure neither is written. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_cda_pdf(
    xml: *const u8,
    xml_len: usize,
    pdf_out: *mut *mut segur_buf,
    file_name_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let x = try_bytes!(xml, xml_len);
        try_out!(pdf_out);
        try_out!(file_name_out);
        let copy = facade::cda_pdf(x)?;
        let pdf = segur_buf::new(copy.pdf).into_raw();
        let name = segur_buf::new(copy.file_name.into_bytes()).into_raw();
        // SAFETY: both checked non-NULL.
        unsafe {
            *pdf_out = pdf;
            *file_name_out = name;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &[u8]) -> (segur_result, *mut segur_buf) {
        let mut out = std::ptr::null_mut();
        let r = segur_cda_parse(xml.as_ptr(), xml.len(), &mut out);
        (r, out)
    }

    #[test]
    fn not_a_cda() {
        let (r, out) = parse(b"<foo xmlns=\"urn:x\"/>");
        assert_eq!(r, segur_result::InvalidDocument);
        assert!(out.is_null());
        let (r, out) = parse(b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"e\">]><x>&e;</x>");
        assert_eq!(r, segur_result::InvalidDocument);
        assert!(out.is_null());
        let (r, _) = parse(b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\0</ClinicalDocument>");
        assert_eq!(
            r,
            segur_result::InvalidDocument,
            "an embedded NUL is refused, not a crash"
        );
        let (r, _) = parse(b"");
        assert_eq!(r, segur_result::InvalidDocument);
    }

    #[test]
    fn null_parameters() {
        let mut out = std::ptr::null_mut();
        let mut out2 = std::ptr::null_mut();
        let x = b"<x/>";
        assert_eq!(
            segur_cda_parse(std::ptr::null(), 0, &mut out),
            segur_result::NullParameter
        );
        assert_eq!(
            segur_cda_parse(x.as_ptr(), x.len(), std::ptr::null_mut()),
            segur_result::NullParameter
        );
        assert_eq!(
            segur_cda_integrate(x.as_ptr(), x.len(), std::ptr::null(), 0, &mut out),
            segur_result::NullParameter
        );
        assert_eq!(
            segur_cda_metadata(x.as_ptr(), x.len(), std::ptr::null_mut()),
            segur_result::NullParameter
        );
        assert_eq!(
            segur_cda_pdf(x.as_ptr(), x.len(), &mut out, std::ptr::null_mut()),
            segur_result::NullParameter
        );
        let req = b"{}";
        assert_eq!(
            segur_cda_vsm_build(
                std::ptr::null(),
                req.as_ptr(),
                req.len(),
                &mut out,
                &mut out2
            ),
            segur_result::NullParameter
        );
        assert!(out.is_null() && out2.is_null());
    }

    #[test]
    fn selection_must_be_a_json_array_of_strings() {
        let mut out = std::ptr::null_mut();
        let x = b"<x/>";
        let sel = b"{\"a\":1}";
        assert_eq!(
            segur_cda_integrate(x.as_ptr(), x.len(), sel.as_ptr(), sel.len(), &mut out),
            segur_result::InvalidJson
        );
        assert!(out.is_null());
    }

    #[test]
    fn result_105() {
        assert_eq!(segur_result::InvalidDocument as u32, 105);
        assert_eq!(
            segur_result::from(facade::ErrorCode::InvalidDocument) as u32,
            facade::ErrorCode::InvalidDocument as u32
        );
        assert_eq!(segur_result::InvalidDocument.name(), "invalid_document");
    }
}
