//! JSON Schemas of the JSON documents crossing the C ABI (published in `include/schema/`).
//!
//! Not published: the VSM request of `segur_cda_vsm_build` (format of
//! `cli/examples/vsm-request.json`) and the outputs of `segur_cda_parse`, `segur_cda_integrate`
//! and `segur_cda_metadata`: they are the serde form of `segur-cda` types that have no JSON
//! Schema derive.

use facade::{
    Actor, BuiltDocument, ExchangeQuery, ExchangeRow, IdentityInput, IdentitySearchView,
    IdentityView, InsiResultView, MatriculeInfo,
};

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
    ];
    all.into_iter()
        .map(|(name, s)| {
            let mut text = serde_json::to_string_pretty(&s).unwrap_or_default();
            text.push('\n');
            (name, text)
        })
        .collect()
}
