//! Fuzzes the DMP response readers (issue #5 point 8): MTOM/XOP multipart parsing and the ebRS
//! readers behind it — `rs:RegistryResponse` (ITI-41/57), `query:AdhocQueryResponse` (ITI-18),
//! `RetrieveDocumentSetResponse` with `xop:Include` resolution (ITI-43). It must never panic.
//! The first byte picks the Content-Type; the rest is the HTTP body.
//! Seeds: `$SEGUR_REFERENCE/xds/examples/*.xml` and messages written by `segur_dmp::xds`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use segur_dmp::mtom::{self, MtomLimits};
use segur_dmp::xds::{QueryResponse, RegistryResponse, RetrieveResponse, Submission};

const CONTENT_TYPES: [&str; 4] = [
    "application/soap+xml; charset=utf-8",
    "multipart/related; boundary=B; type=\"application/xop+xml\"; start=\"<root>\"",
    "multipart/related; boundary=\"MIMEBoundary_x\"; type=\"application/xop+xml\"",
    "multipart/related; boundary=--; start=\"<0.1>\"",
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let ct = CONTENT_TYPES[first as usize % CONTENT_TYPES.len()];
    let limits = MtomLimits {
        max_total: 1 << 20,
        max_part: 1 << 19,
        max_parts: 16,
    };
    if let Ok(m) = mtom::parse(ct, body, &limits) {
        let _ = RetrieveResponse::parse(&m);
        let _ = Submission::parse(&m);
        let _ = RegistryResponse::parse(&m.root.body);
        let _ = QueryResponse::parse(&m.root.body);
        for p in &m.parts {
            let _ = m.resolve(&format!("cid:{}", p.content_id));
        }
    }
    let _ = RegistryResponse::parse(body);
    let _ = QueryResponse::parse(body);
});
