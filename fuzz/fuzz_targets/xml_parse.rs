//! Fuzzes the hardened XML reader every network message goes through (limits, no DOCTYPE,
//! namespaces, UTF-8 only). It must never panic, whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = segur_net::xml::parse(data, &segur_net::xml::XmlLimits::default());
});
