//! The journal: one SQLite file (WAL, versioned migrations) holding every exchange with a national
//! service, every RNIV change, and the identity records themselves. The Ségur dashboards and work
//! lists are queries over it.
//!
//! ## Schema (version 4)
//!
//! | table | one row per | columns |
//! |---|---|---|
//! | `meta` | setting | `key`, `value` (`instance_uuid`) |
//! | `exchanges` | call to a service (INSi...) | `id`, `at` (RFC 3339 UTC), `channel` (`insi`), `operation`, `message_id`, `practitioner` (RPPS), `structure` (FINESS), `patient_local_id`, `ins` (15 chars), `ins_qualified` (0/1), `document_type`, `document_id`, `status` (`ok`, `not_found`, `multiple`, `fault`, `failed`), `result_code` (CR, `siram_40/desir_1020`...), `error`, `duration_ms`, `http_status`, `request_sha256`, `response_sha256`, `request_bytes`, `response_bytes` |
//! | `exchange_payloads` | exchange | `exchange_id`, `request`, `response` (full SOAP, RNIV rules 37/39) |
//! | `rniv_events` | RNIV change (rule 21) | `id`, `at`, `patient_local_id`, `actor`, `reason`, `change`, `from_status`, `to_status`, `detail` (JSON) |
//! | `identities` | identity record | `local_id`, `status`, `record` (JSON), `updated_at` |
//! | `dmp_consents` (v2) | TD0.3 authorization change | `id`, `at`, `patient_local_id`, `practitioner`, `action` (`AJOUT`/`SUPPRESSION`), `mode` (how the patient's consent was collected), `collected_at`, `exchange_id` |
//! | `outbox` (v4) | item to send, every channel ([`crate::outbox`]) | `channel` (`dmp`, `mss`, `erx`), `item_id` (document uniqueId, Message-ID; the key with `channel`), `state` ([`crate::outbox::OutboxState`]), `patient_local_id`, `practitioner`, `meta` (the channel's JSON; DMP: `ins`, `document_type`, `title`, `confidentiality` codes space-separated, `replaces`, `entry_uuid`), `payload` (the exact bytes), `attempts`, `last_error`, `not_sent_reason` (why a check before sending refused it, e.g. `traits_mismatch:prenoms`), `next_attempt_at` (backoff), `claim_token`, `claimed_at`, `created_at`, `updated_at` |
//! | `dmp_documents` (v2; a view since v4) | document handed to the DMP | the v3 columns over the DMP rows of `outbox`: `unique_id`, `patient_local_id`, `ins`, `practitioner`, `document_type`, `title`, `status` ([`DmpDocumentStatus`]), `confidentiality`, `replaces`, `entry_uuid`, `created_at`, `updated_at`, `last_error`, `document`, `not_sent_reason` |
//! | `dmp_traits_acks` (v3) | DMP/CONF.01 confirmation of a traits mismatch | `id`, `at`, `patient_local_id`, `practitioner`, `fields` (trait codes, space-separated), `exchange_id` (the TD0.2 that showed it) |
//!
//! Every operation writes its exchanges, RNIV events and the new identity state in **one
//! transaction**: a crash (even `kill -9`) leaves either all of it or none of it.
//!
//! A document sent to the DMP is committed to the `outbox` (state `pending`) *before* the
//! network call, claimed (`sending`), then settled (`sent`, `failed`, `refused`) with the
//! exchanges of the attempt: a document accepted by [`crate::Segur::dmp_send`] is never lost,
//! and a failed send can be retried.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use segur_ins_core::rniv::{Change, HistoryEntry};
use segur_ins_core::IdentityRecord;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Result, SegurError};

mod dmp;
pub mod exchange;
mod outbox;
pub use crate::outbox::{ClaimOutcome, NewOutboxItem, OutboxClaim, OutboxItem, Settle};
pub(crate) use dmp::apply_dmp_update;
pub use dmp::{
    DmpDocumentQuery, DmpDocumentRow, DmpDocumentStatus, DmpDocumentUpdate, DmpTraitsAckRow,
    NewDmpDocument,
};
pub use exchange::NewExchange;

/// Migrations, applied in order; `PRAGMA user_version` = number applied.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE exchanges (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    channel TEXT NOT NULL,
    operation TEXT NOT NULL,
    message_id TEXT NOT NULL,
    practitioner TEXT,
    structure TEXT,
    patient_local_id TEXT,
    ins TEXT,
    ins_qualified INTEGER NOT NULL DEFAULT 0,
    document_type TEXT,
    document_id TEXT,
    status TEXT NOT NULL,
    result_code TEXT,
    error TEXT,
    duration_ms REAL NOT NULL,
    http_status INTEGER,
    request_sha256 TEXT NOT NULL,
    response_sha256 TEXT,
    request_bytes INTEGER NOT NULL,
    response_bytes INTEGER
);
CREATE INDEX exchanges_at ON exchanges(at);
CREATE INDEX exchanges_patient ON exchanges(patient_local_id);
CREATE INDEX exchanges_practitioner ON exchanges(practitioner);
CREATE TABLE exchange_payloads (
    exchange_id INTEGER PRIMARY KEY REFERENCES exchanges(id),
    request BLOB NOT NULL,
    response BLOB
);
CREATE TABLE rniv_events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    patient_local_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    change TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX rniv_events_patient ON rniv_events(patient_local_id);
CREATE TABLE identities (
    local_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    record TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"#,
    r#"
CREATE TABLE dmp_documents (
    unique_id TEXT PRIMARY KEY,
    patient_local_id TEXT NOT NULL,
    ins TEXT NOT NULL,
    practitioner TEXT,
    document_type TEXT,
    title TEXT,
    status TEXT NOT NULL,
    confidentiality TEXT NOT NULL DEFAULT '',
    replaces TEXT,
    entry_uuid TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_error TEXT,
    document BLOB NOT NULL
);
CREATE INDEX dmp_documents_patient ON dmp_documents(patient_local_id);
CREATE INDEX dmp_documents_status ON dmp_documents(status);
CREATE TABLE dmp_consents (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    patient_local_id TEXT NOT NULL,
    practitioner TEXT NOT NULL,
    action TEXT NOT NULL,
    mode TEXT,
    collected_at TEXT,
    exchange_id INTEGER REFERENCES exchanges(id)
);
CREATE INDEX dmp_consents_patient ON dmp_consents(patient_local_id);
"#,
    r#"
ALTER TABLE dmp_documents ADD COLUMN not_sent_reason TEXT;
CREATE TABLE dmp_traits_acks (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    patient_local_id TEXT NOT NULL,
    practitioner TEXT NOT NULL,
    fields TEXT NOT NULL,
    exchange_id INTEGER REFERENCES exchanges(id)
);
CREATE INDEX dmp_traits_acks_patient ON dmp_traits_acks(patient_local_id);
"#,
    outbox::MIGRATION_V4,
];

/// A recorded exchange, as queried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExchangeRow {
    /// Row id.
    pub id: i64,
    /// RFC 3339 UTC.
    pub at: String,
    /// Channel.
    pub channel: String,
    /// Operation.
    pub operation: String,
    /// Message id.
    pub message_id: String,
    /// RPPS.
    pub practitioner: Option<String>,
    /// FINESS.
    pub structure: Option<String>,
    /// Patient local id.
    pub patient_local_id: Option<String>,
    /// INS.
    pub ins: Option<String>,
    /// Whether the INS was qualified.
    pub ins_qualified: bool,
    /// Document type.
    pub document_type: Option<String>,
    /// Document unique id.
    pub document_id: Option<String>,
    /// Status.
    pub status: String,
    /// CR / fault codes.
    pub result_code: Option<String>,
    /// Error.
    pub error: Option<String>,
    /// Duration in ms.
    pub duration_ms: f64,
    /// HTTP status.
    pub http_status: Option<u16>,
    /// SHA-256 of the request.
    pub request_sha256: String,
    /// SHA-256 of the response.
    pub response_sha256: Option<String>,
    /// Request size.
    pub request_bytes: i64,
    /// Response size.
    pub response_bytes: Option<i64>,
}

/// A recorded RNIV change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RnivEventRow {
    /// Row id.
    pub id: i64,
    /// RFC 3339 UTC.
    pub at: String,
    /// Patient local id.
    pub patient_local_id: String,
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: String,
    /// What (`status`, `attribute`, `ins_retrieved`, `ins_dropped`, `traits_edited`,
    /// `document_checked`).
    pub change: String,
    /// Old status code.
    pub from_status: Option<String>,
    /// New status code.
    pub to_status: Option<String>,
}

/// Filters of [`Journal::exchanges`]; all optional, combined with AND.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExchangeQuery {
    /// Patient local id.
    pub patient_local_id: Option<String>,
    /// RPPS.
    pub practitioner: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// From (inclusive), RFC 3339.
    pub from: Option<DateTime<Utc>>,
    /// To (exclusive), RFC 3339.
    pub to: Option<DateTime<Utc>>,
    /// At most this many rows, newest first (default 1000).
    pub limit: Option<u32>,
}

/// The full request and (when there is one) response of an exchange.
pub type Payload = (Vec<u8>, Option<Vec<u8>>);

/// The journal.
pub struct Journal {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// SQLite: an open connection must not be carried across fork().
    owner: crate::runtime::OwnerProcess,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn sha256_hex(b: &[u8]) -> String {
    let d = Sha256::digest(b);
    let mut s = String::with_capacity(64);
    for byte in d {
        use std::fmt::Write as _;
        let _ = write!(s, "{byte:02x}");
    }
    s
}

impl Journal {
    /// Opens (creating if needed) and migrates the journal.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                SegurError::Journal(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut conn = Connection::open(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version as usize > MIGRATIONS.len() {
            return Err(SegurError::Journal(format!(
                "journal schema version {version} is newer than this library ({})",
                MIGRATIONS.len()
            )));
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(m)?;
            tx.pragma_update(None, "user_version", (i + 1) as u32)?;
            tx.commit()?;
        }
        Ok(Self {
            conn: Mutex::new(conn),
            path,
            owner: crate::runtime::OwnerProcess::current(),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        // Before the lock: in a forked child it may be held by a thread that does not exist.
        crate::runtime::check_process(self.owner)?;
        self.conn
            .lock()
            .map_err(|_| SegurError::Internal("journal lock poisoned".into()))
    }

    /// The schema version.
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .lock()?
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// `PRAGMA integrity_check` is `ok`.
    pub fn integrity_ok(&self) -> Result<bool> {
        let s: String = self
            .lock()?
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(s == "ok")
    }

    /// A meta value.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .lock()?
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Sets a meta value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.lock()?.execute(
            "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Loads an identity record.
    pub fn identity(&self, local_id: &str) -> Result<Option<IdentityRecord>> {
        let json: Option<String> = self
            .lock()?
            .query_row(
                "SELECT record FROM identities WHERE local_id = ?1",
                [local_id],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| {
            serde_json::from_str(&j)
                .map_err(|e| SegurError::Journal(format!("stored identity unreadable: {e}")))
        })
        .transpose()
    }

    /// The local ids of the *qualified* identity records whose INS (15 characters) is `ins`
    /// (several local records may share an INS: duplicates the host should merge).
    pub fn qualified_with_ins(&self, ins: &str) -> Result<Vec<String>> {
        let conn = self.lock()?;
        let mut st = conn.prepare(
            "SELECT local_id, record FROM identities WHERE status = 'QUAL' ORDER BY local_id",
        )?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (local_id, json) = row?;
            let record: IdentityRecord = serde_json::from_str(&json)
                .map_err(|e| SegurError::Journal(format!("stored identity unreadable: {e}")))?;
            if record
                .qualified()
                .is_ok_and(|q| q.ins().matricule.to_15() == ins)
            {
                out.push(local_id);
            }
        }
        Ok(out)
    }

    /// Records, in one transaction: exchanges, the new RNIV history entries of `record` (those
    /// after `history_from`) and the record itself. With `create`, the record must be new.
    pub fn commit(
        &self,
        exchanges: &[NewExchange],
        record: Option<(&IdentityRecord, usize, bool)>,
    ) -> Result<Vec<i64>> {
        self.with_exchanges(exchanges, |tx, _| {
            let Some((record, history_from, create)) = record else {
                return Ok(());
            };
            let json = serde_json::to_string(record)
                .map_err(|e| SegurError::Internal(format!("identity not serialisable: {e}")))?;
            let now = rfc3339(&Utc::now());
            if create {
                let n = tx.execute(
                    "INSERT OR IGNORE INTO identities(local_id, status, record, updated_at) VALUES(?1, ?2, ?3, ?4)",
                    params![record.local_id(), record.status().code(), json, now],
                )?;
                if n == 0 {
                    return Err(SegurError::AlreadyExists { what: "identity" });
                }
            } else {
                tx.execute(
                    "UPDATE identities SET status = ?2, record = ?3, updated_at = ?4 WHERE local_id = ?1",
                    params![record.local_id(), record.status().code(), json, now],
                )?;
            }
            for h in record.history().iter().skip(history_from) {
                insert_event(tx, record.local_id(), h)?;
            }
            Ok(())
        })
    }

    /// Writes `exchanges`, then what `then` writes (given their row ids), in one transaction: an
    /// exchange and the state it changed are recorded together or not at all. Returns the
    /// exchange row ids.
    pub(crate) fn with_exchanges(
        &self,
        exchanges: &[NewExchange],
        then: impl FnOnce(&rusqlite::Transaction<'_>, &[i64]) -> Result<()>,
    ) -> Result<Vec<i64>> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let mut ids = Vec::with_capacity(exchanges.len());
        for x in exchanges {
            ids.push(insert_exchange(&tx, x)?);
        }
        then(&tx, &ids)?;
        tx.commit()?;
        Ok(ids)
    }

    /// Exchanges matching `q`, newest first.
    pub fn exchanges(&self, q: &ExchangeQuery) -> Result<Vec<ExchangeRow>> {
        let mut sql = String::from("SELECT id, at, channel, operation, message_id, practitioner, structure, patient_local_id, ins, ins_qualified, document_type, document_id, status, result_code, error, duration_ms, http_status, request_sha256, response_sha256, request_bytes, response_bytes FROM exchanges WHERE 1=1");
        let mut args: Vec<String> = Vec::new();
        let mut filter = |col: &str, op: &str, v: Option<String>| {
            if let Some(v) = v {
                args.push(v);
                sql.push_str(&format!(" AND {col} {op} ?{}", args.len()));
            }
        };
        filter("patient_local_id", "=", q.patient_local_id.clone());
        filter("practitioner", "=", q.practitioner.clone());
        filter("channel", "=", q.channel.clone());
        filter("status", "=", q.status.clone());
        filter("at", ">=", q.from.as_ref().map(rfc3339));
        filter("at", "<", q.to.as_ref().map(rfc3339));
        sql.push_str(&format!(
            " ORDER BY at DESC, id DESC LIMIT {}",
            q.limit.unwrap_or(1000)
        ));
        let conn = self.lock()?;
        let mut st = conn.prepare(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok(ExchangeRow {
                id: r.get(0)?,
                at: r.get(1)?,
                channel: r.get(2)?,
                operation: r.get(3)?,
                message_id: r.get(4)?,
                practitioner: r.get(5)?,
                structure: r.get(6)?,
                patient_local_id: r.get(7)?,
                ins: r.get(8)?,
                ins_qualified: r.get(9)?,
                document_type: r.get(10)?,
                document_id: r.get(11)?,
                status: r.get(12)?,
                result_code: r.get(13)?,
                error: r.get(14)?,
                duration_ms: r.get(15)?,
                http_status: r.get(16)?,
                request_sha256: r.get(17)?,
                response_sha256: r.get(18)?,
                request_bytes: r.get(19)?,
                response_bytes: r.get(20)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The full request and response of an exchange.
    pub fn payload(&self, exchange_id: i64) -> Result<Option<Payload>> {
        Ok(self
            .lock()?
            .query_row(
                "SELECT request, response FROM exchange_payloads WHERE exchange_id = ?1",
                [exchange_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// RNIV events of a patient (oldest first), or of everyone.
    pub fn rniv_events(&self, patient_local_id: Option<&str>) -> Result<Vec<RnivEventRow>> {
        let conn = self.lock()?;
        let mut st = conn.prepare(
            "SELECT id, at, patient_local_id, actor, reason, change, from_status, to_status FROM rniv_events
             WHERE ?1 IS NULL OR patient_local_id = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([patient_local_id], |r| {
            Ok(RnivEventRow {
                id: r.get(0)?,
                at: r.get(1)?,
                patient_local_id: r.get(2)?,
                actor: r.get(3)?,
                reason: r.get(4)?,
                change: r.get(5)?,
                from_status: r.get(6)?,
                to_status: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Writes the exchanges matching `q` as CSV (header + one line per exchange); returns the
    /// number of lines written.
    pub fn export_csv(&self, q: &ExchangeQuery, out: impl Write) -> Result<usize> {
        let rows = self.exchanges(q)?;
        let mut w = csv::Writer::from_writer(out);
        for r in &rows {
            w.serialize(r)
                .map_err(|e| SegurError::Journal(format!("CSV: {e}")))?;
        }
        w.flush()
            .map_err(|e| SegurError::Journal(format!("CSV: {e}")))?;
        Ok(rows.len())
    }
}

fn insert_exchange(tx: &rusqlite::Transaction<'_>, x: &NewExchange) -> Result<i64> {
    tx.execute(
        "INSERT INTO exchanges(at, channel, operation, message_id, practitioner, structure, patient_local_id, ins, ins_qualified, document_type, document_id, status, result_code, error, duration_ms, http_status, request_sha256, response_sha256, request_bytes, response_bytes)
         VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        params![
            rfc3339(&x.at),
            x.channel,
            x.operation,
            x.message_id,
            x.practitioner,
            x.structure,
            x.patient_local_id,
            x.ins,
            x.ins_qualified,
            x.document_type,
            x.document_id,
            x.status,
            x.result_code,
            x.error,
            x.duration_ms,
            x.http_status,
            sha256_hex(&x.request),
            x.response.as_deref().map(sha256_hex),
            x.request.len() as i64,
            x.response.as_ref().map(|r| r.len() as i64),
        ],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO exchange_payloads(exchange_id, request, response) VALUES(?1, ?2, ?3)",
        params![id, x.request, x.response],
    )?;
    Ok(id)
}

fn insert_event(tx: &rusqlite::Transaction<'_>, local_id: &str, h: &HistoryEntry) -> Result<()> {
    let (change, from, to) = match &h.change {
        Change::Status { from, to } => (
            "status",
            from.map(|f| f.code().to_owned()),
            Some(to.code().to_owned()),
        ),
        Change::Attribute { .. } => ("attribute", None, None),
        Change::InsRetrieved => ("ins_retrieved", None, None),
        Change::InsDropped => ("ins_dropped", None, None),
        Change::TraitsEdited => ("traits_edited", None, None),
        Change::DocumentChecked { .. } => ("document_checked", None, None),
    };
    let detail = serde_json::to_string(&h.change).unwrap_or_default();
    tx.execute(
        "INSERT INTO rniv_events(at, patient_local_id, actor, reason, change, from_status, to_status, detail) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![rfc3339(&h.at), local_id, h.by, h.reason, change, from, to, detail],
    )?;
    Ok(())
}
