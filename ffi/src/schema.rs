//! JSON Schemas of the JSON documents crossing the C ABI (published in `include/schema/`).
//!
//! Not published: the VSM request of `segur_cda_vsm_build` (format of
//! `cli/examples/vsm-request.json`) and the outputs of `segur_cda_parse`, `segur_cda_integrate`
//! and `segur_cda_metadata`: they are the serde form of `segur-cda` types that have no JSON
//! Schema derive.

use facade::{
    Actor, BuiltDocument, DmpAuthorizationView, DmpConsent, DmpDocumentQuery, DmpDocumentRow,
    DmpEntryView, DmpFindQuery, DmpSendOptions, DmpSendView, DmpStatusView, DmpTraitsConfirmation,
    ExchangeQuery, ExchangeRow, IdentityInput, IdentitySearchView, IdentityView, InsiResultView,
    MatriculeInfo, Practitioner,
};

use crate::dmp::{DmpAccess, DmpUpdateResult};
use crate::error::ErrorDetails;

/// `(file name, schema JSON)` of every document, pretty-printed with a final newline.
pub fn json_schemas() -> Vec<(&'static str, String)> {
    let all = [
        ("identity_input.json", schemars::schema_for!(IdentityInput)),
        ("actor.json", schemars::schema_for!(Actor)),
        ("identity_view.json", schemars::schema_for!(IdentityView)),
        (
            "identity_search_view.json",
            schemars::schema_for!(IdentitySearchView),
        ),
        (
            "insi_result_view.json",
            schemars::schema_for!(InsiResultView),
        ),
        ("matricule_info.json", schemars::schema_for!(MatriculeInfo)),
        ("exchange_query.json", schemars::schema_for!(ExchangeQuery)),
        (
            "exchange_rows.json",
            schemars::schema_for!(Vec<ExchangeRow>),
        ),
        ("error_details.json", schemars::schema_for!(ErrorDetails)),
        ("built_document.json", schemars::schema_for!(BuiltDocument)),
        // DMP (`segur_dmp_*`): inputs.
        ("practitioner.json", schemars::schema_for!(Practitioner)),
        ("dmp_consent.json", schemars::schema_for!(DmpConsent)),
        (
            "dmp_send_options.json",
            schemars::schema_for!(DmpSendOptions),
        ),
        ("dmp_find_query.json", schemars::schema_for!(DmpFindQuery)),
        (
            "dmp_document_query.json",
            schemars::schema_for!(DmpDocumentQuery),
        ),
        // DMP: outputs.
        ("dmp_status_view.json", schemars::schema_for!(DmpStatusView)),
        ("dmp_access.json", schemars::schema_for!(DmpAccess)),
        (
            "dmp_authorizations.json",
            schemars::schema_for!(Vec<DmpAuthorizationView>),
        ),
        ("dmp_send_view.json", schemars::schema_for!(DmpSendView)),
        (
            "dmp_traits_confirmation.json",
            schemars::schema_for!(DmpTraitsConfirmation),
        ),
        ("dmp_entries.json", schemars::schema_for!(Vec<DmpEntryView>)),
        ("dmp_entry_view.json", schemars::schema_for!(DmpEntryView)),
        (
            "dmp_latest_vsm.json",
            schemars::schema_for!(Option<DmpEntryView>),
        ),
        (
            "dmp_update_result.json",
            schemars::schema_for!(DmpUpdateResult),
        ),
        (
            "dmp_document_rows.json",
            schemars::schema_for!(Vec<DmpDocumentRow>),
        ),
    ];
    all.into_iter()
        .map(|(name, s)| {
            let mut text = serde_json::to_string_pretty(&s).unwrap_or_default();
            text.push('\n');
            (name, text)
        })
        .collect()
}
