//! # segur — the front door of the Ségur stack
//!
//! [`Segur`] is built from a configuration ([`Config`]: a TOML file or a builder) and offers the
//! identity slice — matricule check, traits normalisation, identity records with their RNIV
//! statuses and history, INSi searches — while writing every exchange and every RNIV change to
//! the [`journal`] (one SQLite file). The C ABI, Python, Kotlin and Swift surfaces are thin
//! layers over it ([`blocking::BlockingSegur`] owns a tokio runtime for them).
//!
//! Identity records live in the journal, keyed by the host's local identifier: their status is
//! always derived inside the library, so no surface can make an identity qualified by hand.

// `unsafe` only in `runtime` (a lock-free per-process slot, safe across fork()).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod blocking;
pub mod cda;
pub mod config;
pub mod dmp;
pub mod error;
pub mod identity;
pub mod journal;
pub mod outbox;
#[allow(unsafe_code)]
pub mod runtime;
pub mod views;

use std::sync::{Arc, Mutex};

use chrono::Utc;
use segur_ins_core::insi::InsiClient;
use segur_ins_core::{InsError, TrustPolicy};
use segur_net::trace::{Exchange, MemoryTraceSink, TraceSink};
use uuid::Uuid;

pub use cda::{
    cda_integrate, cda_metadata, cda_parse, cda_pdf, BuiltDocument, PdfCopy, VsmRequest,
};
pub use config::{Config, ConfigBuilder, Password};
pub use dmp::{
    DmpAuthorizationView, DmpConsent, DmpEntryView, DmpFindQuery, DmpRetrieved, DmpSendOptions,
    DmpSendView, DmpStatusView, DmpTraitsConfirmation, DmpUpdate,
};
pub use error::{ErrorCode, NotSentReason, Result, SegurError};
pub use identity::{check_matricule, insi_replay, normalize, parse_attribute};
pub use journal::{DmpDocumentQuery, DmpDocumentRow, DmpDocumentStatus};
pub use journal::{ExchangeQuery, ExchangeRow, Journal, RnivEventRow};
pub use views::*;

pub use segur_ins_core::rniv::Attribute;
pub use segur_ins_core::Field;

/// The identity types of the layer below that the surfaces name (a checked [`ins::Matricule`],
/// its [`ins::KeyStatus`], the typed [`ins::InsError`]), re-exported so that a surface depends
/// on the facade alone.
pub mod ins {
    pub use segur_ins_core::rniv::Attribute;
    pub use segur_ins_core::{Field, InsError, KeyStatus, Matricule};
}

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Records into the journal's memory sink and into a trace folder.
struct TeeSink(Arc<MemoryTraceSink>, Arc<dyn TraceSink>);

impl TraceSink for TeeSink {
    fn record(&self, exchange: &Exchange) {
        self.0.record(exchange);
        self.1.record(exchange);
    }
}

/// The installation UUID (`ContexteLPS/Instance`), kept in one place: the journal's meta
/// `instance_uuid`, mirrored in `<journal>.instance` so that a new journal beside it keeps it.
/// A UUID in the configuration (`[lps] instance`, as `segur sandbox` writes) is the host's
/// choice: it is recorded in the journal, and when it replaces another one a warning says so.
/// Every service call uses this one value.
fn installation_uuid(config: &Config, journal: &Journal) -> Result<(Uuid, Option<String>)> {
    let stored = match journal.meta("instance_uuid")? {
        Some(s) => Some(
            Uuid::parse_str(&s)
                .map_err(|_| SegurError::Journal("instance_uuid unreadable".into()))?,
        ),
        None => None,
    };
    let id_file = config.journal_path.with_extension("instance");
    let (uuid, warning) = match (stored, config.lps.instance) {
        (Some(j), None) => return Ok((j, None)),
        (Some(j), Some(c)) if j == c => return Ok((j, None)),
        (Some(j), Some(c)) => (
            c,
            Some(format!(
                "the installation UUID changed from {j} (journal) to {c} ([lps] instance)"
            )),
        ),
        (None, Some(c)) => (c, None),
        (None, None) => (
            std::fs::read_to_string(&id_file)
                .ok()
                .and_then(|s| Uuid::parse_str(s.trim()).ok())
                .unwrap_or_else(Uuid::new_v4),
            None,
        ),
    };
    std::fs::write(&id_file, uuid.to_string())
        .map_err(|e| SegurError::Config(format!("cannot write {}: {e}", id_file.display())))?;
    journal.set_meta("instance_uuid", &uuid.to_string())?;
    if let Some(w) = &warning {
        tracing::warn!(target: "segur", "{w}");
    }
    Ok((uuid, warning))
}

struct Inner {
    config: Config,
    journal: Journal,
    insi: InsiClient,
    dmp: Option<segur_dmp::client::DmpClient>,
    trace_dir_sink: Option<Arc<dyn TraceSink>>,
    instance: Uuid,
    policy: TrustPolicy,
    /// Serialises read-modify-write of identity records.
    records: Mutex<()>,
    /// The process that opened it (its connections are refused in a forked child).
    owner: runtime::OwnerProcess,
    /// Set when the configuration replaced the journal's installation UUID.
    instance_warning: Option<String>,
}

/// The client. Cheap to clone; share it.
#[derive(Clone)]
pub struct Segur {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Segur {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segur")
            .field("environment", &self.inner.config.environment)
            .field("journal", &self.inner.journal.path())
            .finish_non_exhaustive()
    }
}

impl Segur {
    /// Opens from a TOML configuration file.
    pub fn open_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Self::open(Config::from_file(path)?)
    }

    /// Opens: the journal (created and migrated), the installation UUID (created once, kept in
    /// `<journal>.instance`), the INSi client.
    pub fn open(config: Config) -> Result<Self> {
        let journal = Journal::open(&config.journal_path)?;
        let (instance, instance_warning) = installation_uuid(&config, &journal)?;
        let settings = config.insi_settings(instance)?;
        let base = config
            .journal_path
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let insi = settings.insi_client(&base, instance, Arc::new(segur_net::trace::NoTrace))?;
        let dmp = match &config.dmp {
            Some(d) => Some(segur_dmp::client::DmpClient::from_settings(
                d,
                &base,
                Arc::new(segur_net::trace::NoTrace),
            )?),
            None => None,
        };
        let trace_dir_sink = match &config.trace_dir {
            Some(d) => {
                Some(Arc::new(segur_net::trace::DirTraceSink::new(d)?) as Arc<dyn TraceSink>)
            }
            None => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                journal,
                insi,
                dmp,
                trace_dir_sink,
                instance,
                policy: TrustPolicy::default(),
                records: Mutex::new(()),
                owner: runtime::OwnerProcess::current(),
                instance_warning,
            }),
        })
    }

    /// A memory sink for the journal, and the sink to hand to a client: the same, or a tee into
    /// the trace folder when one is configured.
    pub(crate) fn trace_sinks(&self) -> (Arc<MemoryTraceSink>, Arc<dyn TraceSink>) {
        let sink = Arc::new(MemoryTraceSink::new());
        let tee: Arc<dyn TraceSink> = match &self.inner.trace_dir_sink {
            Some(dir) => Arc::new(TeeSink(sink.clone(), dir.clone())),
            None => sink.clone(),
        };
        (sink, tee)
    }

    /// Refused in a forked child: what the parent opened (HTTPS connections, the SQLite
    /// journal) belongs to the parent; the child opens a client of its own.
    pub fn check_process(&self) -> Result<()> {
        runtime::check_process(self.inner.owner)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.inner.journal
    }
    /// The installation UUID sent in `ContexteLPS/Instance`.
    pub fn instance(&self) -> Uuid {
        self.inner.instance
    }
    /// Warnings about the configuration (certificate CN, expiry).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = self.inner.insi.warnings().to_vec();
        w.extend(self.inner.instance_warning.iter().cloned());
        if let Some(d) = &self.inner.dmp {
            w.extend(d.warnings().iter().cloned());
        }
        w
    }

    /// Exchanges of the journal.
    pub fn exchanges(&self, q: &ExchangeQuery) -> Result<Vec<ExchangeRow>> {
        self.inner.journal.exchanges(q)
    }

    /// The trust policy of identity documents.
    pub fn trust_policy(&self) -> &TrustPolicy {
        &self.inner.policy
    }

    /// Now, for callers that stamp their own events.
    pub fn now() -> String {
        Utc::now().to_rfc3339()
    }
}

impl From<InsError> for Box<SegurError> {
    fn from(e: InsError) -> Self {
        Box::new(SegurError::Ins(e))
    }
}
