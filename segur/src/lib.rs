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

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod blocking;
pub mod cda;
pub mod config;
pub mod dmp;
pub mod error;
pub mod journal;
pub mod outbox;
pub mod views;

use std::sync::{Arc, Mutex};

use chrono::Utc;
use segur_ins_core::insi::{InsiClient, StrategyOutcome, TraitsQuery};
use segur_ins_core::traits::{normalize_name, TraitsInput};
use segur_ins_core::{
    IdentityRecord, IdentityStatus, InsError, Matricule, TraitsComplementaires, TraitsStricts,
    TrustPolicy,
};
use segur_net::trace::{Exchange, MemoryTraceSink, Outcome, TraceSink};
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
pub use journal::{DmpDocumentQuery, DmpDocumentRow, DmpDocumentStatus};
pub use journal::{ExchangeQuery, ExchangeRow, Journal, RnivEventRow};
pub use views::*;

pub use segur_ins_core::rniv::Attribute;
pub use segur_ins_core::Field;

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Checks a matricule INS typed by a user (13 characters, or 15 with the key; or 13 + `key`).
pub fn check_matricule(matricule: &str, key: Option<&str>) -> Result<MatriculeInfo> {
    let m = match key {
        Some(k) => Matricule::parse_with_key(matricule, k)?,
        None => Matricule::parse(matricule)?,
    };
    Ok((&m).into())
}

/// Normalises a typed name for INSi (see `segur_ins_core::traits::normalize_name`).
pub fn normalize(field: Field, input: &str, confirm: bool) -> Result<String> {
    Ok(normalize_name(field, input, confirm)?)
}

fn traits_of(
    input: &IdentityInput,
    confirm: bool,
) -> Result<(TraitsStricts, TraitsComplementaires)> {
    let t = TraitsStricts::from_input(
        &TraitsInput {
            nom_naissance: &input.nom_naissance,
            prenoms: &input.prenoms,
            premier_prenom: input.premier_prenom.as_deref(),
            date_naissance: &input.date_naissance,
            sexe: &input.sexe,
            lieu_naissance: input.lieu_naissance.as_deref().filter(|c| !c.is_empty()),
        },
        confirm,
    )?;
    let c = TraitsComplementaires {
        nom_utilise: input.nom_utilise.clone().filter(|s| !s.is_empty()),
        prenom_utilise: input.prenom_utilise.clone().filter(|s| !s.is_empty()),
    };
    Ok((t, c))
}

/// Parses an RNIV attribute name (`douteuse`, `fictive`, `homonyme`, or DOUT/FICT/HOMA).
pub fn parse_attribute(name: &str) -> Result<Attribute> {
    Ok(match name {
        "douteuse" | "DOUT" => Attribute::Douteuse,
        "fictive" | "FICT" => Attribute::Fictive,
        "homonyme" | "HOMA" => Attribute::Homonyme,
        _ => {
            return Err(SegurError::InvalidInput(
                "attribute must be douteuse, fictive or homonyme".into(),
            ))
        }
    })
}

struct Inner {
    config: Config,
    journal: Journal,
    insi: InsiClient,
    dmp: Option<segur_dmp::client::DmpClient>,
    dmp_trace: Option<Arc<dyn TraceSink>>,
    instance: Uuid,
    policy: TrustPolicy,
    /// Serialises read-modify-write of identity records.
    records: Mutex<()>,
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

/// A short status and code for the journal, from a search result.
fn journal_status(x: &Exchange) -> (String, Option<String>) {
    match &x.outcome {
        Outcome::Ok => ("ok".into(), Some("00".into())),
        Outcome::Fault(c) if c == "CR 01" => ("not_found".into(), Some("01".into())),
        Outcome::Fault(c) if c == "CR 02" => ("multiple".into(), Some("02".into())),
        Outcome::Fault(c) => ("fault".into(), Some(c.clone())),
        Outcome::Failed(_) => ("failed".into(), None),
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
        let instance = match journal.meta("instance_uuid")? {
            Some(s) => Uuid::parse_str(&s)
                .map_err(|_| SegurError::Journal("instance_uuid unreadable".into()))?,
            None => {
                let id_file = config.journal_path.with_extension("instance");
                let u = std::fs::read_to_string(&id_file)
                    .ok()
                    .and_then(|s| Uuid::parse_str(s.trim()).ok())
                    .unwrap_or_else(Uuid::new_v4);
                std::fs::write(&id_file, u.to_string()).map_err(|e| {
                    SegurError::Config(format!("cannot write {}: {e}", id_file.display()))
                })?;
                journal.set_meta("instance_uuid", &u.to_string())?;
                u
            }
        };
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
        let dmp_trace = match &config.dmp_trace_dir {
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
                dmp_trace,
                instance,
                policy: TrustPolicy::default(),
                records: Mutex::new(()),
            }),
        })
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
        if let Some(d) = &self.inner.dmp {
            w.extend(d.warnings().iter().cloned());
        }
        w
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, ()>> {
        self.inner
            .records
            .lock()
            .map_err(|_| SegurError::Internal("records lock poisoned".into()))
    }

    fn load(&self, local_id: &str) -> Result<IdentityRecord> {
        self.inner
            .journal
            .identity(local_id)?
            .ok_or(SegurError::NotFound { what: "identity" })
    }

    /// Applies `f` to a stored record and commits the record and its new history in one
    /// transaction.
    fn update(
        &self,
        local_id: &str,
        f: impl FnOnce(&mut IdentityRecord) -> Result<()>,
    ) -> Result<IdentityView> {
        let _g = self.lock()?;
        let mut r = self.load(local_id)?;
        let h0 = r.history().len();
        f(&mut r)?;
        self.inner.journal.commit(&[], Some((&r, h0, false)))?;
        Ok((&r).into())
    }

    /// Creates a provisoire identity from typed traits (normalised; with `confirm` false, a
    /// transliteration to confirm is an error carrying the proposal).
    pub fn identity_create(
        &self,
        local_id: &str,
        input: &IdentityInput,
        confirm: bool,
        actor: &Actor,
    ) -> Result<IdentityView> {
        if local_id.trim().is_empty() {
            return Err(SegurError::InvalidInput("local_id is empty".into()));
        }
        let (t, c) = traits_of(input, confirm)?;
        let r = IdentityRecord::new(local_id, t, c, &actor.user);
        let _g = self.lock()?;
        self.inner.journal.commit(&[], Some((&r, 0, true)))?;
        Ok((&r).into())
    }

    /// The identity record itself (for the document crates: `record.qualified()` is the only
    /// way to an INS that may be transmitted).
    pub fn identity_record(&self, local_id: &str) -> Result<IdentityRecord> {
        self.load(local_id)
    }

    /// The identity record.
    pub fn identity_get(&self, local_id: &str) -> Result<IdentityView> {
        Ok((&self.load(local_id)?).into())
    }

    /// Edits the strict traits (rule 26: refused for a récupérée/qualifiée identity unless
    /// `confirm_downgrade`; rule 27: then the INS is dropped) and the traits complémentaires.
    pub fn identity_edit_traits(
        &self,
        local_id: &str,
        input: &IdentityInput,
        confirm: bool,
        confirm_downgrade: bool,
        reason: &str,
        actor: &Actor,
    ) -> Result<IdentityView> {
        let (t, c) = traits_of(input, confirm)?;
        self.update(local_id, |r| {
            r.edit_traits(t, &actor.user, reason, confirm_downgrade)?;
            r.edit_complementaires(c);
            Ok(())
        })
    }

    /// Records a checked identity document (CN, PA, ...).
    pub fn identity_add_document(
        &self,
        local_id: &str,
        code: &str,
        actor: &Actor,
    ) -> Result<IdentityView> {
        let policy = self.inner.policy.clone();
        self.update(local_id, |r| {
            r.add_document(code, &policy, &actor.user)?;
            Ok(())
        })
    }

    /// Sets or clears an RNIV attribute.
    pub fn identity_set_attribute(
        &self,
        local_id: &str,
        attribute: Attribute,
        value: bool,
        reason: &str,
        actor: &Actor,
    ) -> Result<IdentityView> {
        self.update(local_id, |r| {
            r.set_attribute(attribute, value, &actor.user, reason)?;
            Ok(())
        })
    }

    /// Searches INSi for a recorded identity (CNDA 2.07 strategy) and applies a `00` result
    /// (→ récupérée or qualifiée). Every call is journaled, failures included.
    pub async fn identity_search_insi(
        &self,
        local_id: &str,
        actor: &Actor,
    ) -> Result<IdentitySearchView> {
        let query = self.load(local_id)?.insi_query()?;
        let (outcome, exchanges) = self.run_search(&query).await;
        let _g = self.lock()?;
        let mut r = self.load(local_id)?;
        let h0 = r.history().len();
        let applied = match &outcome {
            Ok(o) => match &o.reply.identity {
                Some(found) => r.apply_insi(found, &actor.user).map(|_| ()),
                None => Ok(()),
            },
            Err(_) => Ok(()),
        };
        let qualified = r.status() == IdentityStatus::Qualifiee;
        let ins = outcome
            .as_ref()
            .ok()
            .and_then(|o| o.reply.identity.as_ref())
            .map(|i| i.ins.matricule.to_15());
        let rows = self.journal_rows(&exchanges, Some(local_id), ins.as_deref(), qualified, actor);
        self.inner.journal.commit(&rows, Some((&r, h0, false)))?;
        let outcome = outcome?;
        applied?;
        Ok(IdentitySearchView {
            result: (&outcome).into(),
            identity: (&r).into(),
        })
    }

    /// Searches INSi with typed traits, without a record (journaled without patient).
    pub async fn insi_search(
        &self,
        input: &IdentityInput,
        confirm: bool,
        actor: &Actor,
    ) -> Result<InsiResultView> {
        let (t, _) = traits_of(input, confirm)?;
        let (outcome, exchanges) = self.run_search(&TraitsQuery::from_traits(&t)).await;
        let ins = outcome
            .as_ref()
            .ok()
            .and_then(|o| o.reply.identity.as_ref())
            .map(|i| i.ins.matricule.to_15());
        let rows = self.journal_rows(&exchanges, None, ins.as_deref(), false, actor);
        self.inner.journal.commit(&rows, None)?;
        Ok((&outcome?).into())
    }

    async fn run_search(&self, q: &TraitsQuery) -> (Result<StrategyOutcome>, Vec<Exchange>) {
        let sink = Arc::new(MemoryTraceSink::new());
        let client = self
            .inner
            .insi
            .with_trace(sink.clone() as Arc<dyn TraceSink>);
        let outcome = client.search_strategy(q).await.map_err(SegurError::from);
        (outcome, sink.exchanges())
    }

    fn journal_rows(
        &self,
        exchanges: &[Exchange],
        patient: Option<&str>,
        ins: Option<&str>,
        qualified: bool,
        actor: &Actor,
    ) -> Vec<journal::NewExchange> {
        exchanges
            .iter()
            .map(|x| {
                let (status, code) = journal_status(x);
                journal::NewExchange {
                    at: x.started_at,
                    channel: x.service.to_owned(),
                    operation: x.operation.clone(),
                    message_id: x.message_id.clone(),
                    practitioner: actor.rpps.clone(),
                    structure: actor.finess.clone(),
                    patient_local_id: patient.map(str::to_owned),
                    ins: if status == "ok" {
                        ins.map(str::to_owned)
                    } else {
                        None
                    },
                    ins_qualified: qualified && status == "ok",
                    document_type: None,
                    document_id: None,
                    error: match &x.outcome {
                        Outcome::Failed(e) => Some(e.clone()),
                        _ => None,
                    },
                    status,
                    result_code: code,
                    duration_ms: x.duration.as_secs_f64() * 1000.0,
                    http_status: x.http_status,
                    request: x.request.to_vec(),
                    response: x.response.as_ref().map(|r| r.to_vec()),
                }
            })
            .collect()
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
