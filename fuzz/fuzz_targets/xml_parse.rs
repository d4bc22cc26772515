//! Fuzzes the hardened XML reader every network message goes through (limits, no DOCTYPE,
//! namespaces, UTF-8 only), in both its forms: the owned tree and the borrowed arena tree. It must
//! never panic, both forms must accept and refuse the same inputs, and both must agree with an
//! independent reader (`roxmltree`, through `net/tests/oracle`): same documents accepted, same
//! trees, but for the differences listed there.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../net/tests/oracle/mod.rs"]
mod oracle;

fuzz_target!(|data: &[u8]| {
    let limits = segur_net::xml::XmlLimits::default();
    let owned = segur_net::xml::parse(data, &limits);
    let borrowed = segur_net::xml::parse_document(data, &limits);
    assert_eq!(owned.is_ok(), borrowed.is_ok(), "both readers agree");
    if let (Ok(o), Ok(b)) = (owned, borrowed) {
        assert_eq!(o, b.root().to_element(), "same tree");
    }
    if let Err(disagreement) = oracle::agree(data) {
        panic!("segur_net::xml and roxmltree disagree: {disagreement}");
    }
});
