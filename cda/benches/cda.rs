//! Issue #4 point 10: parsing the ANS VSM example into the typed model vs a bare quick-xml tag
//! scan of the same bytes (and, in between, the hardened reader alone: its events, and the trees
//! it builds), and building + serialising a VSM of 200 entries.
//! `cargo bench -p segur-cda --bench cda`; both sides in one run with the lxml + XPath figure and
//! the ratios: `bench/cda/compare.sh`. `SEGUR_BENCH_MIN=1` (or a name): interleaved best-of timing
//! instead of criterion, steadier on a busy machine.

use criterion::{criterion_group, Criterion};
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

/// The hardened pull reader alone (every check, no tree, no model): start tags counted.
fn reader_events(bytes: &[u8], limits: &segur_net::xml::XmlLimits) -> usize {
    let mut r = segur_net::xml::XmlReader::new(bytes, limits).unwrap();
    let mut n = 0;
    loop {
        match r.read_event().unwrap() {
            segur_net::xml::XmlEvent::Start { .. } => n += 1,
            segur_net::xml::XmlEvent::Eof => break,
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
    c.bench_function("segur_net_xml_document_only", |b| {
        b.iter(|| {
            segur_net::xml::parse_document(black_box(&bytes), &segur_cda::parse::cda_limits())
                .unwrap()
                .node_count()
        })
    });
    c.bench_function("segur_net_xml_tree_only", |b| {
        b.iter(|| {
            segur_net::xml::parse(black_box(&bytes), &segur_cda::parse::cda_limits()).unwrap()
        })
    });
    c.bench_function("segur_net_xml_reader_events", |b| {
        b.iter(|| reader_events(black_box(&bytes), &segur_cda::parse::cda_limits()))
    });
    c.bench_function("quick_xml_bare_scan_ans_vsm", |b| {
        b.iter(|| quick_xml_scan(black_box(&bytes)))
    });
    let vsm = segur_cda::examples::large_vsm(200);
    c.bench_function("vsm_build_serialise_200_entries", |b| {
        b.iter(|| black_box(&vsm).to_xml().unwrap())
    });
}

/// `SEGUR_BENCH_MIN=1`: the same functions interleaved, best batch of each (robust to a busy
/// machine, where criterion's wall-clock medians wander), printed as `name µs`.
fn interleaved_min() {
    let bytes = ans_example();
    let limits = segur_cda::parse::cda_limits();
    type Bench<'b> = (&'static str, Box<dyn Fn() + 'b>);
    let fns: Vec<Bench<'_>> = vec![
        (
            "cda_parse_ans_vsm_typed_model",
            Box::new(|| drop(black_box(segur_cda::parse(black_box(&bytes)).unwrap()))),
        ),
        (
            "segur_net_xml_document_only",
            Box::new(|| {
                black_box(
                    segur_net::xml::parse_document(black_box(&bytes), &limits)
                        .unwrap()
                        .node_count(),
                );
            }),
        ),
        (
            "segur_net_xml_reader_events",
            Box::new(|| {
                black_box(reader_events(black_box(&bytes), &limits));
            }),
        ),
        (
            "quick_xml_bare_scan_ans_vsm",
            Box::new(|| {
                black_box(quick_xml_scan(black_box(&bytes)));
            }),
        ),
    ];
    // `SEGUR_BENCH_MIN=<name>` runs that function only (e.g. under `perf stat`).
    let only = std::env::var("SEGUR_BENCH_MIN").unwrap_or_default();
    let fns: Vec<_> = fns
        .into_iter()
        .filter(|(n, _)| only.len() < 2 || n.contains(only.as_str()))
        .collect();
    let mut best = vec![f64::MAX; fns.len()];
    for _ in 0..300 {
        for (i, (_, f)) in fns.iter().enumerate() {
            let t = std::time::Instant::now();
            for _ in 0..10 {
                f();
            }
            best[i] = best[i].min(t.elapsed().as_secs_f64() / 10.0 * 1e6);
        }
    }
    for ((name, _), b) in fns.iter().zip(&best) {
        println!("{name:32} {b:9.1} µs (best of 300 interleaved batches)");
    }
}

criterion_group!(cda, benches);

fn main() {
    if std::env::var_os("SEGUR_BENCH_MIN").is_some() {
        return interleaved_min();
    }
    cda();
    Criterion::default().configure_from_args().final_summary();
}
