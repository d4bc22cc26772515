//! Benchmarks of issue #2 (see BENCHMARKS.md):
//! - bulk identity check: parse a typed matricule (key checked) and normalise the typed names,
//!   target ≥ 2 million identities/s on one core;
//! - client CPU per INSi call: build and serialise the request, parse the reply (CNDA
//!   TEST_2.04_cas2, with history), target ≤ 70 µs.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use segur_ins_core::insi::{
    parse_reply, write_request, AuthMode, LpsContext, Operation, RequestIds, TraitsQuery,
};
use segur_ins_core::traits::normalize_name;
use segur_ins_core::{Cog, Field, Matricule, Sexe};
use segur_net::xml::XmlLimits;

/// A mixed population: plain ASCII, accents, apostrophes, Corsican numbers.
fn population() -> Vec<(String, &'static str, &'static str)> {
    let base: &[(&str, &str, &str)] = &[
        ("181016322075140", "Adrdeux", "Laurent"),
        ("275126322074974", "Adrun", "Zoé"),
        ("160012B02077713", "Adrtrois", "Toussaint"),
        (
            "109076322083489",
            "Ecetinsi",
            "Pierre-Alain Muriel Floriant",
        ),
        ("236066322083656", "Tchitchi", "Ola Catarina Bella"),
        ("297022A02077878", "D'Artagnan de l'Hérault", "Dominique"),
        ("277076322082910", "NESSI", "RUTH"),
        ("180032B02040123", "Corse", "Anthony"),
    ];
    let mut v = Vec::with_capacity(1024);
    for i in 0..128 {
        for (m, n, p) in base {
            let _ = i;
            v.push(((*m).to_owned(), *n, *p));
        }
    }
    v
}

fn bulk_identity_check(c: &mut Criterion) {
    let pop = population();
    let mut g = c.benchmark_group("identity");
    g.throughput(Throughput::Elements(pop.len() as u64));
    g.bench_function("bulk_check_parse_key_normalise", |b| {
        b.iter(|| {
            let mut ok = 0usize;
            for (m, nom, prenoms) in &pop {
                let m = Matricule::parse(black_box(m)).expect("valid");
                let n = normalize_name(Field::NomNaissance, black_box(nom), false).expect("nom");
                let p = normalize_name(Field::Prenom, black_box(prenoms), false).expect("prénoms");
                ok += usize::from(m.key_is_valid()) + n.len() + p.len();
            }
            black_box(ok)
        })
    });
    g.finish();
}

fn reference() -> std::path::PathBuf {
    std::env::var("SEGUR_REFERENCE")
        .map(Into::into)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"))
}

fn client_cpu_per_call(c: &mut Criterion) {
    let reply =
        std::fs::read(reference().join("insi/examples/sapa-connecteur-java/TEST_2.04_cas2.xml"))
            .expect("reference reply");
    let lps = LpsContext {
        idam: "SEGURSANDBOX".into(),
        software_name: "segur".into(),
        software_version: "0.1.0".into(),
        instance: uuid::Uuid::new_v4(),
        emitter: "499999999".into(),
        auth: AuthMode::SoftwareCertificate,
    };
    let q = TraitsQuery {
        nom_naissance: "ECETINSI".into(),
        prenoms: vec!["PIERRE-ALAIN".into()],
        sexe: Some(Sexe::M),
        date_naissance: "2009-07-14".into(),
        lieu_naissance: Some(Cog::parse("63220").expect("cog")),
    };
    let limits = XmlLimits::default();
    c.bench_function("insi_client_cpu_per_call_build_serialise_parse", |b| {
        b.iter(|| {
            let req = write_request(Operation::Traits(black_box(&q)), &lps, &RequestIds::new());
            let r = parse_reply(black_box(&reply), &limits).expect("reply");
            black_box((req.len(), r))
        })
    });
}

criterion_group!(benches, bulk_identity_check, client_cpu_per_call);
criterion_main!(benches);
