//! INSi searches against the sandbox over mutual TLS, with connection reuse, 32 in flight.
//! Target (issue #2): ≥ 3,000 requests/s on a 2-core machine. See BENCHMARKS.md.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use segur_ins_core::insi::TraitsQuery;
use segur_ins_core::Sexe;
use segur_tests::start_sandbox;

const CONCURRENCY: u64 = 32;

fn throughput(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sb = rt.block_on(start_sandbox());
    let (client, _) = sb.client();
    let q = TraitsQuery {
        nom_naissance: "ADRDEUX".into(),
        prenoms: vec!["LAURENT".into()],
        sexe: Some(Sexe::M),
        date_naissance: "1981-01-01".into(),
        lieu_naissance: None,
    };
    // Warm the pool: open the connections once.
    rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..CONCURRENCY {
            let (client, q) = (client.clone(), q.clone());
            set.spawn(async move { client.search_traits(&q).await.map(|_| ()) });
        }
        while let Some(r) = set.join_next().await {
            r.expect("task").expect("search");
        }
    });
    let mut g = c.benchmark_group("insi_sandbox");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("search_mtls_32_concurrent", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                let mut set = tokio::task::JoinSet::new();
                for t in 0..CONCURRENCY {
                    let n = iters / CONCURRENCY + u64::from(t < iters % CONCURRENCY);
                    let (client, q) = (client.clone(), q.clone());
                    set.spawn(async move {
                        for _ in 0..n {
                            client.search_traits(&q).await.expect("search");
                        }
                    });
                }
                while let Some(r) = set.join_next().await {
                    r.expect("task");
                }
                start.elapsed()
            })
        })
    });
    g.finish();
    eprintln!(
        "connections opened by the client pool: {}",
        sb.sandbox.insi_connections()
    );
}

criterion_group!(benches, throughput);
criterion_main!(benches);
