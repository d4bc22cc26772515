//! Replay of the CNDA example responses of `../shared/reference/insi/examples` (the CNDA
//! "injection" tests), and bad input: malformed, truncated, oversized, DOCTYPE, wrong namespace,
//! non-UTF-8 replies → typed errors, never a panic.

use segur_ins_core::insi::{parse_reply, AuthMode, CodeCr, InsiClient, LpsContext, TraitsQuery};
use segur_ins_core::{InsError, InsOid, KeyStatus};
use segur_net::xml::XmlLimits;
use segur_net::NetError;
use segur_tests::reference_dir;

fn example(path: &str) -> Vec<u8> {
    let p = reference_dir().join("insi/examples").join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn lps() -> LpsContext {
    LpsContext {
        idam: "TESTIDAM0001".into(),
        software_name: "segur-tests".into(),
        software_version: "1".into(),
        instance: uuid::Uuid::new_v4(),
        emitter: String::new(),
        auth: AuthMode::SoftwareCertificate,
    }
}

fn q() -> TraitsQuery {
    TraitsQuery {
        nom_naissance: "X".into(),
        prenoms: vec!["Y".into()],
        sexe: None,
        date_naissance: "2000-01-01".into(),
        lieu_naissance: None,
    }
}

async fn replay(bytes: Vec<u8>) -> Result<segur_ins_core::insi::InsiReply, InsError> {
    let c = InsiClient::builder(lps()).replay(bytes).build().unwrap();
    c.search_traits(&q()).await
}

#[tokio::test]
async fn every_cnda_example_replays() {
    // (file, CR, active matricule, OID, history count)
    type Case = (
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<InsOid>,
        usize,
    );
    let cases: &[Case] = &[
        ("sapa-connecteur-java/REP_CR01.xml", "01", None, None, 0),
        ("padoa-tlsi-ins/REP_CR01.xml", "01", None, None, 0),
        (
            "sapa-connecteur-java/TEST_2.04_cas2.xml",
            "00",
            Some("109076322083489"),
            Some(InsOid::Nir),
            2,
        ),
        // padoa's copy puts DateDeb/DateFin before IdIndividu: read in any order.
        (
            "padoa-tlsi-ins/TEST_2.04_cas2.xml",
            "00",
            Some("109076322083489"),
            Some(InsOid::Nir),
            2,
        ),
        (
            "sapa-connecteur-java/TEST_2.05.xml",
            "00",
            Some("109076322088835"),
            Some(InsOid::Nia),
            0,
        ),
        (
            "padoa-tlsi-ins/TEST_2.05.xml",
            "00",
            Some("109076322088835"),
            Some(InsOid::Nia),
            0,
        ),
        (
            "sapa-connecteur-java/TEST_2.08_cas1.xml",
            "00",
            Some("180032B02040123"),
            Some(InsOid::Nir),
            1,
        ),
        (
            "padoa-tlsi-ins/TEST_2.08_cas1.xml",
            "00",
            Some("180032B02040123"),
            Some(InsOid::Nir),
            1,
        ),
        (
            "sapa-connecteur-java/TEST_2.08_cas2.xml",
            "00",
            None,
            Some(InsOid::Nir),
            2,
        ),
        (
            "padoa-tlsi-ins/TEST_2.08_cas2.xml",
            "00",
            None,
            Some(InsOid::Nir),
            2,
        ),
        (
            "sapa-connecteur-java/TEST_3.05_cas3.xml",
            "00",
            Some("277076322082910"),
            Some(InsOid::Nir),
            0,
        ),
        (
            "sapa-connecteur-java/TEST_1.10.xml",
            "00",
            Some("109076322083489"),
            Some(InsOid::Nia),
            0,
        ),
    ];
    for (file, cr, matricule, oid, histo) in cases {
        let r = replay(example(file))
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(r.code.code(), *cr, "{file}");
        if *cr == "00" {
            let id = r.identity.as_ref().unwrap();
            if let Some(m) = matricule {
                assert_eq!(id.ins().matricule.to_15(), *m, "{file}");
            }
            assert_eq!(Some(&id.ins().oid), oid.as_ref(), "{file}");
            assert_eq!(id.history().len(), *histo, "{file}");
            assert!(!id.traits().nom_naissance.is_empty());
        } else {
            assert!(r.identity.is_none());
            assert_eq!(r.code, CodeCr::NotFound);
        }
    }
}

#[tokio::test]
async fn wrong_keys_in_cnda_2_08_case_2_are_flagged() {
    let r = replay(example("sapa-connecteur-java/TEST_2.08_cas2.xml"))
        .await
        .unwrap();
    let id = r.identity.unwrap();
    let flagged = std::iter::once(id.ins())
        .chain(id.history().iter())
        .filter(|i| matches!(i.matricule.key_status(), KeyStatus::Mismatch { .. }))
        .count();
    assert!(flagged >= 1, "at least one wrong key kept and flagged");
}

fn limits() -> XmlLimits {
    XmlLimits::default()
}

#[test]
fn bad_input_gets_typed_errors() {
    let good = example("sapa-connecteur-java/TEST_2.04_cas2.xml");
    // Truncated at every length: never a panic, always an error.
    for cut in (0..good.len()).step_by(7) {
        assert!(
            parse_reply(&good[..cut], &limits()).is_err(),
            "cut at {cut}"
        );
    }
    // Over 1 MiB.
    let mut big = good.clone();
    big.extend(std::iter::repeat_n(b' ', 1024 * 1024));
    assert!(matches!(
        parse_reply(&big, &limits()),
        Err(InsError::Net(NetError::XmlTooLarge { .. }))
    ));
    // DOCTYPE / entities (billion laughs).
    let doctype = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>&lol2;</soap:Body></soap:Envelope>"#;
    assert!(matches!(
        parse_reply(doctype, &limits()),
        Err(InsError::Net(NetError::XmlDoctype))
    ));
    // Wrong namespaces: SOAP 1.1, and RESULTAT in the wrong namespace.
    let soap11 = String::from_utf8(good.clone()).unwrap().replace(
        "http://www.w3.org/2003/05/soap-envelope",
        "http://schemas.xmlsoap.org/soap/envelope/",
    );
    assert!(matches!(
        parse_reply(soap11.as_bytes(), &limits()),
        Err(InsError::Net(NetError::NotSoap(_)))
    ));
    let wrong_ns = String::from_utf8(good.clone())
        .unwrap()
        .replace("http://www.cnamts.fr/INSiResultat", "urn:other");
    assert!(matches!(
        parse_reply(wrong_ns.as_bytes(), &limits()),
        Err(InsError::InsiReply { .. })
    ));
    // Non-UTF-8.
    let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe9</a>";
    assert!(matches!(
        parse_reply(latin1, &limits()),
        Err(InsError::Net(NetError::XmlEncoding(_)))
    ));
    let utf16 = [0xFF, 0xFE, b'<', 0];
    assert!(matches!(
        parse_reply(&utf16, &limits()),
        Err(InsError::Net(NetError::XmlEncoding(_)))
    ));
    // Garbage.
    assert!(parse_reply(b"HTTP/1.1 502 Bad Gateway", &limits()).is_err());
    assert!(parse_reply(b"", &limits()).is_err());
}

#[test]
fn mutated_examples_never_panic() {
    // A cheap deterministic mutation fuzz over every example (the cargo-fuzz target under fuzz/
    // does the same with coverage guidance).
    let dir = reference_dir().join("insi/examples");
    let mut seed: u64 = 0x5eed;
    for sub in ["sapa-connecteur-java", "padoa-tlsi-ins"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("xml") {
                continue;
            }
            let base = std::fs::read(&path).unwrap();
            for _ in 0..300 {
                let mut m = base.clone();
                for _ in 0..4 {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let i = (seed as usize) % m.len().max(1);
                    match seed % 3 {
                        0 => m[i] = (seed >> 8) as u8,
                        1 => {
                            m.remove(i);
                        }
                        _ => m.insert(i, b"<>&\"'/"[(seed >> 16) as usize % 6]),
                    }
                }
                let _ = parse_reply(&m, &limits());
            }
        }
    }
}
