//! Issue #5 point 10: ITI-41 submissions of a ~60 KB VSM (built by `segur-cda`) to the sandbox
//! DMP over mutual TLS, from one pooled `DmpClient`, N submissions in flight, client and
//! in-process sandbox on the same cores. Target: ≥ 300 submissions/s on the 2-core machine.
//!
//! Two paths are measured:
//! - `send`: what `DmpClient::send` does for each document — TD0.2 (the Ségur rule before
//!   feeding), then ITI-41: two requests, three RSA signatures (two VIHFs and the XAdES);
//! - `iti41`: `DmpClient::send_with_permit` on one TD0.2 obtained before the batch — ITI-41
//!   only, what the issue counts (one request, two RSA signatures).
//!
//! Every submission is a new document (fresh uniqueId: the registry refuses duplicates) and must
//! succeed. Printed per path and concurrency: submissions/s (best and median round), latency
//! percentiles, and the process CPU time per submission (client and sandbox together), which
//! other work on the machine disturbs less than the rate.
//!
//! `cargo bench -p segur-tests --bench dmp_throughput`; environment: `SEGUR_BENCH_ROUNDS`
//! (default 3) rounds of `SEGUR_BENCH_SECS` (default 4) per configuration, interleaved;
//! `SEGUR_BENCH_INFLIGHT` (default `8,16,32`), `SEGUR_BENCH_MODES` (default `iti41,send`),
//! `SEGUR_BENCH_WORKERS` (tokio worker threads, default 2). Without `--bench` (`cargo test
//! --all-targets`): one round of 1 s, 2 in flight, as a smoke test.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use segur_cda::examples;
use segur_cda::InstanceId;
use segur_dmp::client::{DmpClient, DmpDocument, DmpUser, FeedPermit};
use segur_dmp::settings::DmpSettings;
use segur_dmp::vihf::{AuthentificationMode, PsId, Role};
use segur_ins_core::QualifiedIdentity;
use segur_net::trace::NoTrace;
use segur_sandbox::Sandbox;

/// The size the issue names: a 60 KB VSM.
const TARGET_BYTES: usize = 60 * 1024;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The sandbox's own `[dmp]` settings (those of its `segur.toml`).
fn settings(sb: &Sandbox) -> DmpSettings {
    let mut s = sb.dmp_settings();
    s.timeout_secs = Some(60);
    s
}

fn doctor() -> DmpUser {
    DmpUser {
        ps_id: PsId::rpps("10000001239").expect("rpps"),
        nom: "TEST".into(),
        prenom: "Camille".into(),
        role: Role::profession("10").expect("role"),
        specialty: Some(Role::savoir_faire("SM26").expect("role")),
        auth_mode: AuthentificationMode::Indirecte,
    }
}

/// A VSM of the example patient built by `segur-cda` with enough entries to reach
/// [`TARGET_BYTES`]; each copy gets a fresh document id (the only difference).
struct Template {
    xml: String,
    id_attr: String,
}

impl Template {
    fn new() -> Self {
        let mut n = 10;
        loop {
            let vsm = examples::large_vsm(n);
            let xml = vsm.to_xml().expect("VSM");
            if xml.len() >= TARGET_BYTES {
                let id_attr = format!("root=\"{}\"", vsm.header.id.root);
                assert!(vsm.header.id.extension.is_none());
                assert_eq!(xml.matches(&id_attr).count(), 1, "the document id once");
                eprintln!(
                    "VSM: {} entries, {} bytes ({:.1} KiB)",
                    vsm.summary.item_count(),
                    xml.len(),
                    xml.len() as f64 / 1024.0
                );
                return Self { xml, id_attr };
            }
            n += 2;
        }
    }

    /// The VSM with a new document id (a new XDS uniqueId).
    fn fresh(&self) -> DmpDocument {
        let id = InstanceId::generate();
        let xml = self
            .xml
            .replacen(&self.id_attr, &format!("root=\"{}\"", id.root), 1);
        DmpDocument::new(Bytes::from(xml))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// `DmpClient::send`: TD0.2 + ITI-41.
    Send,
    /// `DmpClient::send_with_permit`: ITI-41 only.
    Iti41,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Send => "send (TD0.2 + ITI-41)",
            Mode::Iti41 => "ITI-41 only (send_with_permit)",
        }
    }
}

struct Shared {
    client: DmpClient,
    user: DmpUser,
    patient: QualifiedIdentity,
    permit: FeedPermit,
    template: Template,
}

/// Submits for `duration` with `inflight` tasks; returns (submissions, elapsed, latencies).
async fn run(
    shared: &Arc<Shared>,
    mode: Mode,
    inflight: usize,
    duration: Duration,
) -> (usize, Duration, Vec<Duration>) {
    let start = Instant::now();
    let deadline = start + duration;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..inflight {
        let s = shared.clone();
        set.spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let doc = s.template.fresh();
                let t = Instant::now();
                let r = match mode {
                    Mode::Send => s.client.send(&s.user, &s.patient, &doc).await,
                    Mode::Iti41 => {
                        s.client
                            .send_with_permit(&s.user, &s.patient, &doc, &s.permit)
                            .await
                    }
                };
                let receipt = r.expect("submission accepted");
                assert!(matches!(
                    receipt.outcome,
                    segur_dmp::xds::Outcome::Success { .. }
                ));
                lat.push(t.elapsed());
            }
            lat
        });
    }
    let mut all = Vec::new();
    while let Some(r) = set.join_next().await {
        all.extend(r.expect("task"));
    }
    (all.len(), start.elapsed(), all)
}

/// CPU time used by this process so far (user + system, `/proc/self/stat`; Linux), so that the
/// cost per submission is known even when other work shares the cores.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    // USER_HZ is 100 on Linux x86_64.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// What the rounds of one configuration measured.
#[derive(Default)]
struct Stats {
    /// (submissions/s, cores used) per round.
    rounds: Vec<(f64, f64)>,
    latencies: Vec<Duration>,
    count: usize,
    cpu: f64,
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --all-targets` (debug build) one short
    // round checks that the bench still works.
    let full = std::env::args().any(|a| a == "--bench");
    let secs: u64 = env_or("SEGUR_BENCH_SECS", if full { 4 } else { 1 });
    let rounds: usize = env_or("SEGUR_BENCH_ROUNDS", if full { 3 } else { 1 });
    let workers: usize = env_or("SEGUR_BENCH_WORKERS", 2);
    let inflight: Vec<usize> = std::env::var("SEGUR_BENCH_INFLIGHT")
        .unwrap_or_else(|_| if full { "8,16,32" } else { "2" }.into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let modes: Vec<Mode> = std::env::var("SEGUR_BENCH_MODES")
        .unwrap_or_else(|_| "iti41,send".into())
        .split(',')
        .filter_map(|m| match m.trim() {
            "send" => Some(Mode::Send),
            "iti41" => Some(Mode::Iti41),
            _ => None,
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = rt
        .block_on(Sandbox::start(segur_sandbox::SandboxOptions::new(
            dir.path(),
        )))
        .expect("sandbox");
    let client = DmpClient::from_settings(&settings(&sb), Path::new("/"), Arc::new(NoTrace))
        .expect("client");
    let user = doctor();
    let patient = examples::qualified_patient();
    let permit = rt
        .block_on(client.feed_permit(&user, &patient))
        .expect("TD0.2: the example patient's DMP is open");
    let shared = Arc::new(Shared {
        client,
        user,
        patient,
        permit,
        template: Template::new(),
    });
    // Warm-up: open the pool's connections, fill the caches.
    if full {
        rt.block_on(run(&shared, Mode::Iti41, 32, Duration::from_secs(1)));
    }
    // Rounds interleave the configurations, so that other work on the machine (compilations)
    // hits them alike; the best round is the figure least disturbed by it.
    let configs: Vec<(Mode, usize)> = modes
        .iter()
        .flat_map(|&m| inflight.iter().map(move |&n| (m, n)))
        .collect();
    let mut stats: Vec<Stats> = configs.iter().map(|_| Stats::default()).collect();
    for _ in 0..rounds {
        for (&(mode, n), st) in configs.iter().zip(stats.iter_mut()) {
            let cpu0 = process_cpu();
            let (count, elapsed, lat) =
                rt.block_on(run(&shared, mode, n, Duration::from_secs(secs)));
            let cpu = process_cpu()
                .zip(cpu0)
                .map(|(b, a)| b.saturating_sub(a).as_secs_f64())
                .unwrap_or(f64::NAN);
            let rate = count as f64 / elapsed.as_secs_f64();
            st.rounds.push((rate, cpu / elapsed.as_secs_f64()));
            st.latencies.extend(lat);
            st.count += count;
            st.cpu += cpu;
        }
    }
    println!(
        "{:31} {:>4} {:>6} {:>6} {:>5} {:>6} {:>6} {:>6} {:>6} {:>7}",
        "path", "in", "best/s", "cores", "med/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "CPU ms"
    );
    for (&(mode, n), st) in configs.iter().zip(stats.iter_mut()) {
        st.latencies.sort_unstable();
        let mut rates: Vec<(f64, f64)> = st.rounds.clone();
        rates.sort_by(|a, b| a.0.total_cmp(&b.0));
        let best = rates.last().copied().unwrap_or((0.0, 0.0));
        let median = rates.get(rates.len() / 2).map_or(0.0, |r| r.0);
        println!(
            "{:31} {:>4} {:>6.0} {:>6.2} {:>5.0} {:>6.1} {:>6.1} {:>6.1} {:>6.1} {:>7.2}",
            mode.name(),
            n,
            best.0,
            best.1,
            median,
            pct(&st.latencies, 0.5),
            pct(&st.latencies, 0.9),
            pct(&st.latencies, 0.99),
            pct(&st.latencies, 1.0),
            st.cpu * 1e3 / st.count.max(1) as f64,
        );
    }
    println!(
        "best/s: the best of {rounds} rounds of {secs} s (cores: CPU used by the process in that \
         round); med/s: their median; latencies over all rounds; CPU ms: process CPU (client + \
         sandbox) per submission"
    );
    let stored = sb
        .dmp()
        .store()
        .read(|db| {
            db.entries_for_patient(&shared.patient.ins().to_cx_xds())
                .map(|v| v.len())
        })
        .expect("store");
    eprintln!("DocumentEntries stored for the patient (seeded + submitted, 2 per submission with the XAdES): {stored}");
    rt.block_on(sb.shutdown());
}
