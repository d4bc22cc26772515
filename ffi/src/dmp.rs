//! The DMP (Mon espace santé) through the C ABI: status (TD0.2), authorization with the patient's
//! consent (TD0.3), send through the journal's outbox (ITI-41), retry, find (ITI-18), latest
//! VSM, retrieve (ITI-43), updates (ITI-57) and the dashboard (`dmp.md` §2, §5.4).
//!
//! The patient is the *local id* of an identity record of the journal: only a qualifiée identity
//! reaches the DMP (RNIV rule 28: `SEGUR_RESULT_RNIV_REFUSED` otherwise). The acting professional
//! is a `Practitioner` JSON (`include/schema/practitioner.json`: VIHF subject, `dmp.md` §4), or
//! NULL for the `[practitioner]` of the configuration (`SEGUR_RESULT_CONFIG` when there is none).
//! Every network call is journaled. Errors of the DMP keep its codes in the error details:
//! `SEGUR_RESULT_SERVICE_REFUSED` (202) with the DMP or registry code as `subcode`
//! (`DMP_ACCES_NON_AUTORISE`, `XDSRegistryError`...), `SEGUR_RESULT_SERVICE_FAULT` (200) with the
//! SOAP fault codes, `SEGUR_RESULT_NOT_SENT` (106) when a check made before sending refused it
//! (no DMP, DMP closed, opposition: DMP/CONF.09, unconfirmed traits mismatch: DMP/CONF.01), its
//! reason as data in the details' `reason` member; `SEGUR_RESULT_TOO_LARGE` (107). A traits
//! mismatch is confirmed with `segur_dmp_confirm_traits`.
//!
//! The network calls block; `segur_dmp_status`, `segur_dmp_send` and `segur_dmp_find` also have
//! `*_async` variants (see `segur_callback`).

use std::ffi::c_void;

use facade::{
    DmpConsent, DmpDocumentQuery, DmpEntryView, DmpFindQuery, DmpSendOptions, DmpUpdate,
    Practitioner,
};
use serde::{Deserialize, Serialize};

use crate::boundary::json_from;
use crate::buf::{json_buf, json_bytes, segur_buf};
use crate::client::{segur_callback, segur_client, start};
use crate::error::{segur_result, Failure};

/// Our access to the patient's DMP after `segur_dmp_authorize` or `segur_dmp_revoke`
/// (`include/schema/dmp_access.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DmpAccess {
    /// `AUTORISE`, `NON_AUTORISE`, `INTERDIT` (the patient opposed), `EXPIRE`; null when the DMP
    /// did not say.
    pub authorization: Option<String>,
}

/// What `segur_dmp_update` reports (`include/schema/dmp_update_result.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DmpUpdateResult {
    /// Registry warning codes (ITI-57 success with warnings or partial success); usually empty.
    pub warnings: Vec<String>,
}

/// The practitioner of a call: the JSON given, or the configured default when NULL.
fn practitioner(c: &segur_client, ptr: *const u8, len: usize) -> Result<Practitioner, Failure> {
    if ptr.is_null() {
        return c
            .inner
            .client()
            .default_practitioner()
            .cloned()
            .ok_or_else(|| {
                Failure::new(
                    segur_result::Config,
                    "practitioner_json is NULL and the configuration has no [practitioner]",
                )
            });
    }
    json_from("practitioner_json", "Practitioner", ptr, len)
}

/// Writes `b` to `*out` (checked non-NULL by the caller).
fn put(out: *mut *mut segur_buf, b: *mut segur_buf) {
    // SAFETY: every caller checked `out` non-NULL with `try_out!`.
    unsafe { *out = b };
}

/// TD0.2: whether the patient has a DMP, whether it is closed, our authorization, whether we may
/// feed (DMP/CONF.09) and consult it, the traits that differ (DMP/CONF.01). Journaled. Blocking:
/// returns `SEGUR_RESULT_WOULD_BLOCK_IN_CALLBACK` when called from a completion callback.
///
/// `local_id` (UTF-8) names a qualifiée identity; `practitioner_json` is a `Practitioner` JSON
/// or NULL (the configured default; then `practitioner_json_len` is ignored). On success
/// `*status_out` receives the `DmpStatusView` JSON (`include/schema/dmp_status_view.json`) in a
/// new `segur_buf` (caller frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_dmp_status(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    status_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        try_out!(status_out);
        let v = c.inner.block_on(c.inner.client().dmp_status(id, &who))??;
        put(status_out, json_buf(&v)?);
        Ok(())
    }
}

/// `segur_dmp_status` with a completion callback: returns at once, arguments copied. Returns
/// `SEGUR_RESULT_OK` when the operation started: `callback` (not NULL) is then called exactly
/// once with `user_data` and the `DmpStatusView` JSON (see `segur_callback`). On any other result
/// the callback is never called. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_dmp_status_async(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    callback: segur_callback,
    user_data: *mut c_void,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len).to_owned();
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        let segur = c.inner.client().clone();
        start(c, callback, user_data, async move {
            let v = segur.dmp_status(&id, &who).await?;
            json_bytes(&v)
        })
    }
}

/// DMP/CONF.01: a TD0.2 now, and the practitioner's confirmation of the traits mismatch it
/// reports, recorded in the journal; `segur_dmp_send` and `segur_dmp_retry` then send for this
/// patient as long as TD0.2 reports exactly this mismatch (a different one needs a new
/// confirmation). Blocking.
///
/// `practitioner_json` may be NULL (configured default). On success `*confirmation_out`
/// receives the `DmpTraitsConfirmation` JSON (`{"fields":["prenoms"],"practitioner":"…",
/// "at":"…"}`, `include/schema/dmp_traits_confirmation.json`) in a new `segur_buf` (caller
/// frees). `SEGUR_RESULT_INVALID_INPUT` when TD0.2 reports no mismatch. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_dmp_confirm_traits(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    confirmation_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        try_out!(confirmation_out);
        let v = c.inner.block_on(c.inner.client().dmp_confirm_traits(id, &who))??;
        put(confirmation_out, json_buf(&v)?);
        Ok(())
    }
}

/// TD0.3 AJOUT: authorizes the practitioner on the patient's DMP with the patient's consent
/// (`consent_json`: `DmpConsent`, `{"mode":"oral"|"ecrit"|"representant_legal",
/// "collected_at":null|RFC 3339}`; recorded in the journal with the exchange). Blocking.
///
/// `practitioner_json` may be NULL (configured default). On success `*access_out` receives the
/// `DmpAccess` JSON (`{"authorization":"AUTORISE"}`, `include/schema/dmp_access.json`) in a new
/// `segur_buf` (caller frees). An unknown consent mode gives `SEGUR_RESULT_INVALID_INPUT`.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn segur_dmp_authorize(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    consent_json: *const u8,
    consent_json_len: usize,
    access_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        let consent = try_json!(DmpConsent, consent_json, consent_json_len);
        try_out!(access_out);
        let authorization = c
            .inner
            .block_on(c.inner.client().dmp_authorize(id, &who, &consent))??;
        put(access_out, json_buf(&DmpAccess { authorization })?);
        Ok(())
    }
}

/// TD0.3 SUPPRESSION: removes the practitioner's authorization on the patient's DMP. Blocking.
///
/// `practitioner_json` may be NULL (configured default). On success `*access_out` receives the
/// `DmpAccess` JSON in a new `segur_buf` (caller frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_dmp_revoke(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    access_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        try_out!(access_out);
        let authorization = c.inner.block_on(c.inner.client().dmp_revoke(id, &who))??;
        put(access_out, json_buf(&DmpAccess { authorization })?);
        Ok(())
    }
}

/// `listAuthorizationByPatient`: the professionals authorized on the patient's DMP. Blocking.
///
/// `practitioner_json` may be NULL (configured default). On success `*authorizations_out`
/// receives a JSON array of `DmpAuthorizationView` (`include/schema/dmp_authorizations.json`) in
/// a new `segur_buf` (caller frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_dmp_authorizations(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    authorizations_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        try_out!(authorizations_out);
        let v = c.inner.block_on(c.inner.client().dmp_authorizations(id, &who))??;
        put(authorizations_out, json_buf(&v)?);
        Ok(())
    }
}

/// Sends a CDA document (`cda`, `cda_len` bytes: e.g. the XML of `segur_cda_vsm_build`) to the
/// patient's DMP: TD0.2, then ITI-41 (`dmp.md` §2, §5). The document is stored in the journal's
/// outbox first: it is never lost, and a failed send can be retried with `segur_dmp_retry`.
/// Blocking.
///
/// `options_json` is a `DmpSendOptions` JSON (`{}` for none; `mask_ps`, `invisible_patient`,
/// `invisible_legal_representatives`, `replaces`: `dmp.md` §5.4). `practitioner_json` may be NULL
/// (configured default). Refused before sending: `SEGUR_RESULT_NOT_SENT` (no DMP, closed,
/// opposition); over the DMP's size limit: `SEGUR_RESULT_TOO_LARGE`; not a CDA:
/// `SEGUR_RESULT_INVALID_DOCUMENT`. On success `*sent_out` receives the `DmpSendView` JSON
/// (`include/schema/dmp_send_view.json`) in a new `segur_buf` (caller frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_dmp_send(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    cda: *const u8,
    cda_len: usize,
    options_json: *const u8,
    options_json_len: usize,
    sent_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        let doc = try_bytes!(cda, cda_len);
        let options = try_json!(DmpSendOptions, options_json, options_json_len);
        try_out!(sent_out);
        let v = c
            .inner
            .block_on(c.inner.client().dmp_send(id, &who, doc, &options))??;
        put(sent_out, json_buf(&v)?);
        Ok(())
    }
}

/// `segur_dmp_send` with a completion callback: returns at once; the document and the other
/// arguments are copied before it returns. Same contract as `segur_dmp_status_async`; the
/// callback receives the `DmpSendView` JSON.
#[no_mangle]
pub extern "C" fn segur_dmp_send_async(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    cda: *const u8,
    cda_len: usize,
    options_json: *const u8,
    options_json_len: usize,
    callback: segur_callback,
    user_data: *mut c_void,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len).to_owned();
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        let doc = try_bytes!(cda, cda_len).to_vec();
        let options = try_json!(DmpSendOptions, options_json, options_json_len);
        let segur = c.inner.client().clone();
        start(c, callback, user_data, async move {
            let v = segur.dmp_send(&id, &who, &doc, &options).await?;
            json_bytes(&v)
        })
    }
}

/// Sends again a document of the outbox (`unique_id`, UTF-8) whose send failed or never
/// completed. Blocking.
///
/// `practitioner_json` may be NULL (configured default). A document already accepted gives
/// `SEGUR_RESULT_INVALID_INPUT`, an unknown one `SEGUR_RESULT_NOT_FOUND`. On success `*sent_out`
/// receives the `DmpSendView` JSON in a new `segur_buf` (caller frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_dmp_retry(
    client: *const segur_client,
    unique_id: *const u8,
    unique_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    sent_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let uid = try_str!(unique_id, unique_id_len);
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        try_out!(sent_out);
        let v = c.inner.block_on(c.inner.client().dmp_retry(uid, &who))??;
        put(sent_out, json_buf(&v)?);
        Ok(())
    }
}

/// ITI-18 FindDocuments: the patient's documents matching `query_json` (`DmpFindQuery` JSON,
/// `{}` for the current ones: `type_codes`, `since`, `until`, `statuses`, `author`), newest
/// first. Blocking.
///
/// `practitioner_json` may be NULL (configured default). Without authorization the DMP refuses:
/// `SEGUR_RESULT_SERVICE_REFUSED`, subcode `DMP_ACCES_NON_AUTORISE`. On success `*entries_out`
/// receives a JSON array of `DmpEntryView` (`include/schema/dmp_entries.json`) in a new
/// `segur_buf` (caller frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_dmp_find(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    query_json: *const u8,
    query_json_len: usize,
    entries_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        let q = try_json!(DmpFindQuery, query_json, query_json_len);
        try_out!(entries_out);
        let v = c.inner.block_on(c.inner.client().dmp_find(id, &who, &q))??;
        put(entries_out, json_buf(&v)?);
        Ok(())
    }
}

/// `segur_dmp_find` with a completion callback (same contract as `segur_dmp_status_async`; the
/// callback receives the JSON array of `DmpEntryView`).
#[no_mangle]
pub extern "C" fn segur_dmp_find_async(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    query_json: *const u8,
    query_json_len: usize,
    callback: segur_callback,
    user_data: *mut c_void,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len).to_owned();
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        let q = try_json!(DmpFindQuery, query_json, query_json_len);
        let segur = c.inner.client().clone();
        start(c, callback, user_data, async move {
            let v = segur.dmp_find(&id, &who, &q).await?;
            json_bytes(&v)
        })
    }
}

/// "Is there a VSM, and of when": the most recent current VSM of the patient's DMP. Blocking.
///
/// `practitioner_json` may be NULL (configured default). On success `*entry_out` receives the
/// `DmpEntryView` JSON, or `null` when the DMP holds no VSM
/// (`include/schema/dmp_latest_vsm.json`), in a new `segur_buf` (caller frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_dmp_latest_vsm(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    entry_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        try_out!(entry_out);
        let v: Option<DmpEntryView> =
            c.inner.block_on(c.inner.client().dmp_latest_vsm(id, &who))??;
        put(entry_out, json_buf(&v)?);
        Ok(())
    }
}

/// ITI-43: retrieves the document `unique_id` (UTF-8) of the patient's DMP, its size and hash
/// checked against its entry. Blocking.
///
/// `practitioner_json` may be NULL (configured default). A uniqueId the DMP does not know gives
/// `SEGUR_RESULT_NOT_FOUND`. On success `*entry_out` receives the `DmpEntryView` JSON
/// (`include/schema/dmp_entry_view.json`) and `*content_out` the document's bytes (binary: use
/// `segur_buf_len`; hand a CDA to `segur_cda_parse`), each in a new `segur_buf` the caller frees;
/// on failure neither is written. Thread-safe.
#[no_mangle]
pub extern "C" fn segur_dmp_get(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    unique_id: *const u8,
    unique_id_len: usize,
    entry_out: *mut *mut segur_buf,
    content_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        let uid = try_str!(unique_id, unique_id_len);
        try_out!(entry_out);
        try_out!(content_out);
        let r = c.inner.block_on(c.inner.client().dmp_get(id, &who, uid))??;
        let entry = json_buf(&r.entry)?;
        put(entry_out, entry);
        put(content_out, segur_buf::new(r.content).into_raw());
        Ok(())
    }
}

/// ITI-57: changes a document of the patient's DMP. `update` (UTF-8) is one of `mask`, `unmask`
/// (TD3.3a), `hide_from_patient`, `show_to_patient` (TD3.3b), `delete` (TD3.3c), `archive`
/// (TD3.3d); any other value gives `SEGUR_RESULT_INVALID_INPUT`. The outbox row of a document
/// sent from here follows (dashboard). Blocking.
///
/// `practitioner_json` may be NULL (configured default). On success `*result_out` receives the
/// `DmpUpdateResult` JSON (`{"warnings":[...]}`, `include/schema/dmp_update_result.json`) in a
/// new `segur_buf` (caller frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_dmp_update(
    client: *const segur_client,
    local_id: *const u8,
    local_id_len: usize,
    practitioner_json: *const u8,
    practitioner_json_len: usize,
    unique_id: *const u8,
    unique_id_len: usize,
    update: *const u8,
    update_len: usize,
    result_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let id = try_str!(local_id, local_id_len);
        let who = practitioner(c, practitioner_json, practitioner_json_len)?;
        let uid = try_str!(unique_id, unique_id_len);
        let change = DmpUpdate::parse(try_str!(update, update_len))?;
        try_out!(result_out);
        let warnings = c
            .inner
            .block_on(c.inner.client().dmp_update(id, &who, uid, change))??;
        put(result_out, json_buf(&DmpUpdateResult { warnings })?);
        Ok(())
    }
}

/// The DMP dashboard ("Tableau de bord des échanges"): the documents sent from here and where
/// they stand ("Accessible dans le DMP", "En échec", "Supprimé dans le DMP"...), newest first.
/// Reads the journal only (no network).
///
/// `query_json` is a `DmpDocumentQuery` JSON (`include/schema/dmp_document_query.json`; `{}` for
/// all, at most 1000). On success `*rows_out` receives a JSON array of `DmpDocumentRow`
/// (`include/schema/dmp_document_rows.json`) in a new `segur_buf` (caller frees). Thread-safe.
#[no_mangle]
pub extern "C" fn segur_dmp_dashboard(
    client: *const segur_client,
    query_json: *const u8,
    query_json_len: usize,
    rows_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let q = try_json!(DmpDocumentQuery, query_json, query_json_len);
        try_out!(rows_out);
        let rows = c.inner.client().dmp_dashboard(&q)?;
        put(rows_out, json_buf(&rows)?);
        Ok(())
    }
}

/// The local id of the qualifiée identity whose INS (matricule, 15 characters; 13 with the key
/// computed) is `ins`: how a host that keys DMP work by INS finds the record. Reads the journal
/// only.
///
/// No qualifiée identity with this INS gives `SEGUR_RESULT_NOT_FOUND`; several (duplicates to
/// merge first) or a malformed INS `SEGUR_RESULT_INVALID_INPUT`. On success `*local_id_out`
/// receives the local id (UTF-8 text, not JSON) in a new `segur_buf` (caller frees).
/// Thread-safe.
#[no_mangle]
pub extern "C" fn segur_identity_by_ins(
    client: *const segur_client,
    ins: *const u8,
    ins_len: usize,
    local_id_out: *mut *mut segur_buf,
) -> segur_result {
    ffi_boundary! {
        let c = try_ref!(client);
        let m = try_str!(ins, ins_len);
        try_out!(local_id_out);
        let id = c.inner.client().identity_by_ins(m)?;
        put(local_id_out, segur_buf::new(id.into_bytes()).into_raw());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_client_and_outputs() {
        let mut out = std::ptr::null_mut();
        let mut out2 = std::ptr::null_mut();
        let id = b"x";
        assert_eq!(
            segur_dmp_status(
                std::ptr::null(),
                id.as_ptr(),
                1,
                std::ptr::null(),
                0,
                &mut out
            ),
            segur_result::NullParameter
        );
        assert_eq!(
            segur_dmp_get(
                std::ptr::null(),
                id.as_ptr(),
                1,
                std::ptr::null(),
                0,
                id.as_ptr(),
                1,
                &mut out,
                &mut out2
            ),
            segur_result::NullParameter
        );
        assert_eq!(
            segur_dmp_dashboard(std::ptr::null(), b"{}".as_ptr(), 2, &mut out),
            segur_result::NullParameter
        );
        assert_eq!(
            segur_identity_by_ins(std::ptr::null(), id.as_ptr(), 1, &mut out),
            segur_result::NullParameter
        );
        assert!(out.is_null() && out2.is_null());
    }

    #[test]
    fn update_names() {
        for (s, ok) in [
            ("mask", true),
            ("unmask", true),
            ("hide_from_patient", true),
            ("show_to_patient", true),
            ("delete", true),
            ("archive", true),
            ("Delete", false),
            ("", false),
        ] {
            assert_eq!(DmpUpdate::parse(s).is_ok(), ok, "{s}");
        }
    }

    #[test]
    fn dmp_result_codes_are_the_facade_numbers() {
        use facade::ErrorCode;
        for (code, r, name) in [
            (ErrorCode::NotSent, segur_result::NotSent, "not_sent"),
            (ErrorCode::TooLarge, segur_result::TooLarge, "too_large"),
            (
                ErrorCode::ServiceRefused,
                segur_result::ServiceRefused,
                "service_refused",
            ),
        ] {
            assert_eq!(segur_result::from(code), r);
            assert_eq!(r as u32, code as u32);
            assert_eq!(segur_result::from_u32(code as u32), Some(r));
            assert_eq!(r.name(), name);
            assert!(segur_result::all().contains(&r));
        }
        assert_eq!(segur_result::NotSent as u32, 106);
        assert_eq!(segur_result::TooLarge as u32, 107);
        assert_eq!(segur_result::ServiceRefused as u32, 202);
    }

    #[test]
    fn the_not_sent_reason_is_in_the_error_details() {
        use facade::error::{DmpError, FeedBlocked, TraitField, TraitsMismatch};
        let e = facade::SegurError::Dmp(DmpError::NotSent(FeedBlocked::TraitsMismatch(
            TraitsMismatch {
                fields: vec![TraitField::Prenoms],
            },
        )));
        crate::error::set_last_error(Failure::from(e));
        let d = serde_json::to_value(crate::error::last_error_details()).unwrap();
        assert_eq!(d["code"], 106);
        assert_eq!(
            d["reason"],
            serde_json::json!({"kind": "traits_mismatch", "fields": ["prenoms"]})
        );
        let e = facade::SegurError::Dmp(DmpError::NotSent(FeedBlocked::Closed));
        crate::error::set_last_error(Failure::from(e));
        let d = serde_json::to_value(crate::error::last_error_details()).unwrap();
        assert_eq!(d["reason"], serde_json::json!({"kind": "closed"}));
        crate::error::set_last_error(Failure::null("x"));
        let d = serde_json::to_value(crate::error::last_error_details()).unwrap();
        assert!(d["reason"].is_null());
        let mut out = std::ptr::null_mut();
        assert_eq!(
            segur_dmp_confirm_traits(
                std::ptr::null(),
                b"x".as_ptr(),
                1,
                std::ptr::null(),
                0,
                &mut out
            ),
            segur_result::NullParameter
        );
        assert!(out.is_null());
    }

    #[test]
    fn views_serialise_as_documented() {
        let a = serde_json::to_string(&DmpAccess {
            authorization: Some("AUTORISE".into()),
        })
        .unwrap_or_default();
        assert_eq!(a, r#"{"authorization":"AUTORISE"}"#);
        let u = serde_json::to_string(&DmpUpdateResult { warnings: vec![] }).unwrap_or_default();
        assert_eq!(u, r#"{"warnings":[]}"#);
    }
}
