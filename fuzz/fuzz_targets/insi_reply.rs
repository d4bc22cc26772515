//! Fuzzes the INSi reply parser (SOAP envelope, RESULTAT body, SOAP faults) with arbitrary bytes.
//! It must never panic, whatever the input; errors are the expected outcome for most inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = segur_ins_core::insi::parse_reply(data, &segur_net::xml::XmlLimits::default());
});
