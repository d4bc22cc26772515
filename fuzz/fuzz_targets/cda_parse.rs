//! Fuzz target for the CDA parser (issue #4 point 8).
//! Seeds: `$SEGUR_REFERENCE/cda/ExemplesCDA/{VSM,VAC-NOTE}*.xml`. It must never panic; on a parsed document it
//! also exercises the item extraction, `integrate`, the XDS metadata and the PDF copy.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = segur_cda::parse(data) {
        let ids: Vec<_> = doc.items.iter().map(|i| i.id.clone()).collect();
        let _ = doc.integrate(&ids);
        let _ = segur_cda::XdsMetadata::from_document(&doc, data);
        let _ = segur_cda::pdf::pdf_copy(&doc);
    }
});
