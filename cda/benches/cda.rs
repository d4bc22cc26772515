//! Issue #4 point 10: parsing the ANS VSM example into the typed model vs a bare quick-xml tag
//! scan of the same bytes, and building + serialising a VSM of 200 entries.
//! `cargo bench -p segur-cda --bench cda`; the lxml side: `bench/cda/lxml_compare.py`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn ans_example() -> Vec<u8> {
    let base = std::env::var("SEGUR_SHARED")
        .unwrap_or_else(|_| format!("{}/../../shared", env!("CARGO_MANIFEST_DIR")));
    std::fs::read(format!(
        "{base}/reference/cda/ExemplesCDA/VSM_1.4_2022.01.xml"
    ))
    .expect("ANS VSM example")
}

fn quick_xml_scan(bytes: &[u8]) -> usize {
    let mut r = quick_xml::Reader::from_reader(bytes);
    let mut n = 0;
    loop {
        match r.read_event() {
            Ok(quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_)) => n += 1,
            Ok(quick_xml::events::Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    n
}

fn benches(c: &mut Criterion) {
    let bytes = ans_example();
    c.bench_function("cda_parse_ans_vsm_typed_model", |b| {
        b.iter(|| segur_cda::parse(black_box(&bytes)).unwrap())
    });
    c.bench_function("segur_net_xml_tree_only", |b| {
        b.iter(|| {
            segur_net::xml::parse(black_box(&bytes), &segur_cda::parse::cda_limits()).unwrap()
        })
    });
    c.bench_function("quick_xml_bare_scan_ans_vsm", |b| {
        b.iter(|| quick_xml_scan(black_box(&bytes)))
    });
    let vsm = segur_cda::examples::large_vsm(200);
    c.bench_function("vsm_build_serialise_200_entries", |b| {
        b.iter(|| black_box(&vsm).to_xml().unwrap())
    });
}

criterion_group!(cda, benches);
criterion_main!(cda);
