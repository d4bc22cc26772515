//! `cli/examples/vsm-request.json` is the request of the EHR manual's VSM (built from
//! `segur_cda::examples`); `SEGUR_BLESS=1` rewrites it.

use segur_cda::examples;
use segur_cda::VsmVersion;
use serde_json::json;

#[test]
fn example_request_is_current() {
    let at = examples::time(2024, 3, 12, 11, 20, 0);
    let h = examples::header(examples::local_patient(), at);
    let want = json!({
        "patient": "IPP-0001",
        "ipp_root": "1.2.250.1.213.1.1.9.99999",
        "title": "Synthèse médicale",
        "confidentiality": "N",
        "authors": h.authors,
        "informants": h.informants,
        "custodian": h.custodian,
        "recipients": h.recipients,
        "legal_authenticator": h.legal_authenticator.0,
        "medecin_traitant": h.medecin_traitant,
        "service_event": h.service_event,
        "encounter": h.encounter,
        "summary": examples::manual_summary(VsmVersion::V2023),
    });
    let text = serde_json::to_string_pretty(&want).unwrap() + "\n";
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/examples/vsm-request.json");
    if std::env::var_os("SEGUR_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap_or_default(),
        text,
        "run with SEGUR_BLESS=1"
    );
}
