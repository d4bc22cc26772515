//! The DMP simulator's state: one SQLite file in the sandbox folder (WAL journal,
//! `synchronous=NORMAL`: a simulator, not a production store — a power loss may lose the last
//! transactions, never corrupt the file; statements are kept prepared).
//!
//! Tables: `dmp` (one row per patient record: INS, open/closed, the traits the DMP knows),
//! `opposition` (patient oppositions to access or to feeding, per professional or `*` for all),
//! `habilitation` (TD0.3 authorizations per professional, with the médecin traitant flag),
//! `submission_set`, `document_entry` (XDS metadata, one row per metadata version, with the
//! ebRIM `ExtrinsicObject` as stored), `document` (the repository's bytes) and `association`.
//! Multi-valued fields are stored joined by U+001F (refused in received values).

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension, Params, Row};

use crate::SandboxError;

/// Separator of multi-valued columns.
pub const SEP: char = '\u{1f}';
const SCHEMA_VERSION: &str = "1";

fn db_err(e: rusqlite::Error) -> SandboxError {
    SandboxError::Store(e.to_string())
}

/// Statements prepared once per connection and reused from rusqlite's statement cache (the
/// sandbox takes hundreds of submissions per second: issue #5 point 10).
trait Cached {
    fn cached_query_row<T, P: Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
    fn cached_execute<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
}

impl Cached for Connection {
    fn cached_query_row<T, P: Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
    fn cached_execute<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
}

/// Distinct statements of [`Db`], kept prepared.
const STATEMENT_CACHE: usize = 64;

fn join(v: &[String]) -> String {
    v.join(&SEP.to_string())
}

fn split(s: String) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(SEP).map(str::to_owned).collect()
    }
}

/// A patient's DMP as the simulator knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmpRecord {
    /// The 15-character INS (matricule and key).
    pub ins: String,
    /// The INS OID (`1.2.250.1.213.1.4.8` NIR, `.9` NIA, `.10` test NIR...).
    pub oid: String,
    /// Closed DMP (TD0.2 `statusCode` `terminated`).
    pub closed: bool,
    /// Birth family name.
    pub family: String,
    /// First given name.
    pub given: String,
    /// `M` or `F`.
    pub gender: String,
    /// `YYYYMMDD`.
    pub birth_date: String,
}

/// What a patient opposed (`docs/dmp-wire.md` TD0.2 `etatAcces`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OppositionKind {
    /// Access by the professional (autorisation `INTERDIT`).
    Acces,
    /// Feeding by the professional (DMP/CONF.09).
    Alimentation,
}

impl OppositionKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Acces => "ACCES",
            Self::Alimentation => "ALIMENTATION",
        }
    }
}

/// Every professional, in the `opposition.ps_id` column.
pub const ALL_PS: &str = "*";

/// A TD0.3 authorization of one professional on one DMP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Habilitation {
    /// Professional national identifier (VIHF `NameID`).
    pub ps_id: String,
    /// Family name (from the VIHF `subject-id`).
    pub nom: String,
    /// Given name.
    pub prenom: String,
    /// Start, `YYYYMMDDHHMMSS`.
    pub date_debut: String,
    /// End, when set (`EXPIRE` once past).
    pub date_fin: Option<String>,
    /// The professional is the patient's médecin traitant DMP.
    pub medecin_traitant: bool,
}

/// One version of a DocumentEntry (ITI TF-3 4.2.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRow {
    /// entryUUID (changes with each metadata version).
    pub entry_uuid: String,
    /// logicalID (stable across versions).
    pub logical_id: String,
    /// Metadata version, from 1.
    pub version: u32,
    /// uniqueId.
    pub unique_id: String,
    /// availabilityStatus.
    pub status: String,
    /// patientId (CX).
    pub patient_id: String,
    /// classCode, `code^^^scheme`.
    pub class_code: Vec<String>,
    /// typeCode.
    pub type_code: Vec<String>,
    /// formatCode.
    pub format_code: Vec<String>,
    /// practiceSettingCode.
    pub practice_setting: Vec<String>,
    /// healthcareFacilityTypeCode.
    pub healthcare_facility: Vec<String>,
    /// confidentialityCode (1..n).
    pub confidentiality: Vec<String>,
    /// eventCodeList.
    pub event_codes: Vec<String>,
    /// creationTime (UTC DTM).
    pub creation_time: Option<String>,
    /// serviceStartTime.
    pub service_start: Option<String>,
    /// serviceStopTime.
    pub service_stop: Option<String>,
    /// authorPerson values (XCN).
    pub author_persons: Vec<String>,
    /// The professional who submitted it (VIHF `NameID`).
    pub submitter: String,
    /// SHA-1, lowercase hex.
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
    /// title.
    pub title: String,
    /// mimeType.
    pub mime_type: String,
    /// repositoryUniqueId.
    pub repository_unique_id: String,
    /// entryUUID of the submission set that registered this version.
    pub submission_set: String,
    /// The `rim:ExtrinsicObject` as stored (ids assigned, slots completed).
    pub raw_xml: String,
    /// Registration order.
    pub seq: i64,
}

/// A registered submission set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionSetRow {
    /// entryUUID.
    pub entry_uuid: String,
    /// uniqueId.
    pub unique_id: String,
    /// patientId (CX).
    pub patient_id: String,
    /// sourceId.
    pub source_id: String,
    /// submissionTime (UTC DTM).
    pub submission_time: String,
    /// contentTypeCode, `code^^^scheme`.
    pub content_type: Vec<String>,
    /// authorPerson values.
    pub author_persons: Vec<String>,
    /// availabilityStatus.
    pub status: String,
    /// The `rim:RegistryPackage` as stored.
    pub raw_xml: String,
    /// Registration order.
    pub seq: i64,
}

/// A registered association.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationRow {
    /// entryUUID.
    pub entry_uuid: String,
    /// associationType.
    pub association_type: String,
    /// sourceObject.
    pub source: String,
    /// targetObject.
    pub target: String,
    /// The `rim:Association` as stored.
    pub raw_xml: String,
}

/// The SQLite store (one connection behind a mutex: the sandbox serialises writes anyway).
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

/// Access to the tables, inside [`Store::read`] or a [`Store::write`] transaction.
pub struct Db<'c> {
    c: &'c Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dmp (
  ins TEXT PRIMARY KEY, oid TEXT NOT NULL, closed INTEGER NOT NULL DEFAULT 0,
  family TEXT NOT NULL, given TEXT NOT NULL, gender TEXT NOT NULL, birth_date TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS opposition (
  ins TEXT NOT NULL, ps_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('ACCES', 'ALIMENTATION')),
  PRIMARY KEY (ins, ps_id, kind));
CREATE TABLE IF NOT EXISTS habilitation (
  ins TEXT NOT NULL, ps_id TEXT NOT NULL, nom TEXT NOT NULL, prenom TEXT NOT NULL,
  date_debut TEXT NOT NULL, date_fin TEXT, medecin_traitant INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (ins, ps_id));
CREATE TABLE IF NOT EXISTS submission_set (
  entry_uuid TEXT PRIMARY KEY, unique_id TEXT NOT NULL UNIQUE, patient_id TEXT NOT NULL,
  source_id TEXT NOT NULL, submission_time TEXT NOT NULL, content_type TEXT NOT NULL,
  author_persons TEXT NOT NULL, status TEXT NOT NULL, raw_xml TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ss_patient ON submission_set (patient_id);
CREATE TABLE IF NOT EXISTS document_entry (
  entry_uuid TEXT PRIMARY KEY, logical_id TEXT NOT NULL, version INTEGER NOT NULL,
  unique_id TEXT NOT NULL, status TEXT NOT NULL, patient_id TEXT NOT NULL,
  class_code TEXT NOT NULL, type_code TEXT NOT NULL, format_code TEXT NOT NULL,
  practice_setting TEXT NOT NULL, healthcare_facility TEXT NOT NULL,
  confidentiality TEXT NOT NULL, event_codes TEXT NOT NULL,
  creation_time TEXT, service_start TEXT, service_stop TEXT,
  author_persons TEXT NOT NULL, submitter TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL,
  title TEXT NOT NULL, mime_type TEXT NOT NULL, repository_unique_id TEXT NOT NULL,
  submission_set TEXT NOT NULL, raw_xml TEXT NOT NULL, seq INTEGER NOT NULL,
  UNIQUE (logical_id, version));
CREATE INDEX IF NOT EXISTS de_patient ON document_entry (patient_id);
CREATE INDEX IF NOT EXISTS de_unique ON document_entry (unique_id);
CREATE TABLE IF NOT EXISTS document (
  unique_id TEXT PRIMARY KEY, mime_type TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL,
  bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS association (
  entry_uuid TEXT PRIMARY KEY, association_type TEXT NOT NULL, source TEXT NOT NULL,
  target TEXT NOT NULL, raw_xml TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS assoc_source ON association (source);
CREATE INDEX IF NOT EXISTS assoc_target ON association (target);
";

impl Store {
    /// Opens (creating if needed) the store at `path`, WAL journal.
    pub fn open(path: &Path) -> Result<Self, SandboxError> {
        let conn = Connection::open(path).map_err(db_err)?;
        Self::init(conn)
    }

    /// An in-memory store (unit tests).
    pub fn in_memory() -> Result<Self, SandboxError> {
        Self::init(Connection::open_in_memory().map_err(db_err)?)
    }

    fn init(conn: Connection) -> Result<Self, SandboxError> {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db_err)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.execute_batch(SCHEMA).map_err(db_err)?;
        let version: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db_err)?;
        match version.as_deref() {
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?1)",
                    [SCHEMA_VERSION],
                )
                .map_err(db_err)?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(_) => {
                return Err(SandboxError::Store(
                    "the DMP store was written by another sandbox version; delete dmp.sqlite"
                        .into(),
                ))
            }
        }
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// Runs `f` on the tables (no transaction).
    pub fn read<T, E: From<SandboxError>>(
        &self,
        f: impl FnOnce(&Db<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&Db { c: &conn })
    }

    /// Runs `f` in one transaction: committed when `f` succeeds, rolled back otherwise.
    pub fn write<T, E: From<SandboxError>>(
        &self,
        f: impl FnOnce(&Db<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction().map_err(db_err)?;
        let out = f(&Db { c: &tx })?;
        tx.commit().map_err(db_err)?;
        Ok(out)
    }
}

fn entry_from_row(r: &Row<'_>) -> rusqlite::Result<EntryRow> {
    Ok(EntryRow {
        entry_uuid: r.get(0)?,
        logical_id: r.get(1)?,
        version: r.get(2)?,
        unique_id: r.get(3)?,
        status: r.get(4)?,
        patient_id: r.get(5)?,
        class_code: split(r.get(6)?),
        type_code: split(r.get(7)?),
        format_code: split(r.get(8)?),
        practice_setting: split(r.get(9)?),
        healthcare_facility: split(r.get(10)?),
        confidentiality: split(r.get(11)?),
        event_codes: split(r.get(12)?),
        creation_time: r.get(13)?,
        service_start: r.get(14)?,
        service_stop: r.get(15)?,
        author_persons: split(r.get(16)?),
        submitter: r.get(17)?,
        hash: r.get(18)?,
        size: r.get::<_, i64>(19)?.max(0) as u64,
        title: r.get(20)?,
        mime_type: r.get(21)?,
        repository_unique_id: r.get(22)?,
        submission_set: r.get(23)?,
        raw_xml: r.get(24)?,
        seq: r.get(25)?,
    })
}

const ENTRY_COLUMNS: &str = "entry_uuid, logical_id, version, unique_id, status, patient_id, \
    class_code, type_code, format_code, practice_setting, healthcare_facility, confidentiality, \
    event_codes, creation_time, service_start, service_stop, author_persons, submitter, hash, \
    size, title, mime_type, repository_unique_id, submission_set, raw_xml, seq";

fn ss_from_row(r: &Row<'_>) -> rusqlite::Result<SubmissionSetRow> {
    Ok(SubmissionSetRow {
        entry_uuid: r.get(0)?,
        unique_id: r.get(1)?,
        patient_id: r.get(2)?,
        source_id: r.get(3)?,
        submission_time: r.get(4)?,
        content_type: split(r.get(5)?),
        author_persons: split(r.get(6)?),
        status: r.get(7)?,
        raw_xml: r.get(8)?,
        seq: r.get(9)?,
    })
}

const SS_COLUMNS: &str = "entry_uuid, unique_id, patient_id, source_id, submission_time, \
    content_type, author_persons, status, raw_xml, seq";

impl Db<'_> {
    /// A meta value (e.g. `seeded`).
    pub fn meta(&self, key: &str) -> Result<Option<String>, SandboxError> {
        self.c
            .cached_query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(db_err)
    }

    /// Sets a meta value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), SandboxError> {
        self.c
            .cached_execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// The DMP of an INS.
    pub fn dmp(&self, ins: &str) -> Result<Option<DmpRecord>, SandboxError> {
        self.c
            .cached_query_row(
                "SELECT ins, oid, closed, family, given, gender, birth_date FROM dmp WHERE ins = ?1",
                [ins],
                |r| {
                    Ok(DmpRecord {
                        ins: r.get(0)?,
                        oid: r.get(1)?,
                        closed: r.get::<_, i64>(2)? != 0,
                        family: r.get(3)?,
                        given: r.get(4)?,
                        gender: r.get(5)?,
                        birth_date: r.get(6)?,
                    })
                },
            )
            .optional()
            .map_err(db_err)
    }

    /// Creates or replaces a DMP.
    pub fn put_dmp(&self, d: &DmpRecord) -> Result<(), SandboxError> {
        self.c
            .cached_execute(
                "INSERT OR REPLACE INTO dmp (ins, oid, closed, family, given, gender, birth_date)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    d.ins,
                    d.oid,
                    i64::from(d.closed),
                    d.family,
                    d.given,
                    d.gender,
                    d.birth_date
                ],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Records an opposition of the patient (`ps_id` = [`ALL_PS`] for every professional).
    pub fn add_opposition(
        &self,
        ins: &str,
        ps_id: &str,
        kind: OppositionKind,
    ) -> Result<(), SandboxError> {
        self.c
            .cached_execute(
                "INSERT OR IGNORE INTO opposition (ins, ps_id, kind) VALUES (?1, ?2, ?3)",
                params![ins, ps_id, kind.as_str()],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Whether the patient opposed `kind` for this professional (or for all).
    pub fn opposed(
        &self,
        ins: &str,
        ps_id: &str,
        kind: OppositionKind,
    ) -> Result<bool, SandboxError> {
        self.c
            .cached_query_row(
                "SELECT COUNT(*) FROM opposition WHERE ins = ?1 AND kind = ?3
                 AND (ps_id = ?2 OR ps_id = '*')",
                params![ins, ps_id, kind.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(db_err)
    }

    /// The authorization of a professional on a DMP.
    pub fn habilitation(
        &self,
        ins: &str,
        ps_id: &str,
    ) -> Result<Option<Habilitation>, SandboxError> {
        self.c
            .cached_query_row(
                "SELECT ps_id, nom, prenom, date_debut, date_fin, medecin_traitant
                 FROM habilitation WHERE ins = ?1 AND ps_id = ?2",
                [ins, ps_id],
                hab_from_row,
            )
            .optional()
            .map_err(db_err)
    }

    /// Every authorization on a DMP, by start date.
    pub fn habilitations(&self, ins: &str) -> Result<Vec<Habilitation>, SandboxError> {
        let mut st = self
            .c
            .prepare_cached(
                "SELECT ps_id, nom, prenom, date_debut, date_fin, medecin_traitant
                 FROM habilitation WHERE ins = ?1 ORDER BY date_debut, ps_id",
            )
            .map_err(db_err)?;
        let rows = st.query_map([ins], hab_from_row).map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
    }

    /// Creates or replaces an authorization.
    pub fn put_habilitation(&self, ins: &str, h: &Habilitation) -> Result<(), SandboxError> {
        self.c
            .cached_execute(
                "INSERT OR REPLACE INTO habilitation
                 (ins, ps_id, nom, prenom, date_debut, date_fin, medecin_traitant)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    ins,
                    h.ps_id,
                    h.nom,
                    h.prenom,
                    h.date_debut,
                    h.date_fin,
                    i64::from(h.medecin_traitant)
                ],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Removes an authorization; whether there was one.
    pub fn remove_habilitation(&self, ins: &str, ps_id: &str) -> Result<bool, SandboxError> {
        self.c
            .cached_execute(
                "DELETE FROM habilitation WHERE ins = ?1 AND ps_id = ?2",
                [ins, ps_id],
            )
            .map(|n| n > 0)
            .map_err(db_err)
    }

    fn entries_where(&self, clause: &str, arg: &str) -> Result<Vec<EntryRow>, SandboxError> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM document_entry WHERE {clause} ORDER BY seq");
        let mut st = self.c.prepare_cached(&sql).map_err(db_err)?;
        let rows = st.query_map([arg], entry_from_row).map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
    }

    /// Every DocumentEntry version of a patient (CX), in registration order.
    pub fn entries_for_patient(&self, patient_id: &str) -> Result<Vec<EntryRow>, SandboxError> {
        self.entries_where("patient_id = ?1", patient_id)
    }

    /// Every DocumentEntry version with this uniqueId.
    pub fn entries_by_unique_id(&self, unique_id: &str) -> Result<Vec<EntryRow>, SandboxError> {
        self.entries_where("unique_id = ?1", unique_id)
    }

    /// Every version of a logical document, oldest first.
    pub fn entries_by_logical_id(&self, lid: &str) -> Result<Vec<EntryRow>, SandboxError> {
        self.entries_where("logical_id = ?1", lid)
    }

    /// A DocumentEntry version by entryUUID.
    pub fn entry(&self, entry_uuid: &str) -> Result<Option<EntryRow>, SandboxError> {
        Ok(self
            .entries_where("entry_uuid = ?1", entry_uuid)?
            .into_iter()
            .next())
    }

    /// Whether any registry object (entry, submission set, association) has this entryUUID.
    pub fn object_exists(&self, entry_uuid: &str) -> Result<bool, SandboxError> {
        self.c
            .cached_query_row(
                "SELECT (SELECT COUNT(*) FROM document_entry WHERE entry_uuid = ?1)
                      + (SELECT COUNT(*) FROM submission_set WHERE entry_uuid = ?1)
                      + (SELECT COUNT(*) FROM association WHERE entry_uuid = ?1)",
                [entry_uuid],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(db_err)
    }

    fn next_seq(&self) -> Result<i64, SandboxError> {
        let n: Option<String> = self.meta("seq")?;
        let next = n.and_then(|s| s.parse::<i64>().ok()).unwrap_or(0) + 1;
        self.set_meta("seq", &next.to_string())?;
        Ok(next)
    }

    /// Inserts a DocumentEntry version (its `seq` is assigned here).
    pub fn insert_entry(&self, e: &EntryRow) -> Result<(), SandboxError> {
        let seq = self.next_seq()?;
        self.c
            .cached_execute(
                &format!(
                    "INSERT INTO document_entry ({ENTRY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
                     ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, \
                     ?23, ?24, ?25, ?26)"
                ),
                params![
                    e.entry_uuid,
                    e.logical_id,
                    e.version,
                    e.unique_id,
                    e.status,
                    e.patient_id,
                    join(&e.class_code),
                    join(&e.type_code),
                    join(&e.format_code),
                    join(&e.practice_setting),
                    join(&e.healthcare_facility),
                    join(&e.confidentiality),
                    join(&e.event_codes),
                    e.creation_time,
                    e.service_start,
                    e.service_stop,
                    join(&e.author_persons),
                    e.submitter,
                    e.hash,
                    i64::try_from(e.size).unwrap_or(i64::MAX),
                    e.title,
                    e.mime_type,
                    e.repository_unique_id,
                    e.submission_set,
                    e.raw_xml,
                    seq
                ],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Sets the availabilityStatus of an entry version.
    pub fn set_entry_status(&self, entry_uuid: &str, status: &str) -> Result<(), SandboxError> {
        self.c
            .cached_execute(
                "UPDATE document_entry SET status = ?2 WHERE entry_uuid = ?1",
                [entry_uuid, status],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Inserts a submission set (its `seq` is assigned here).
    pub fn insert_submission_set(&self, s: &SubmissionSetRow) -> Result<(), SandboxError> {
        let seq = self.next_seq()?;
        self.c
            .cached_execute(
                &format!(
                    "INSERT INTO submission_set ({SS_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
                     ?7, ?8, ?9, ?10)"
                ),
                params![
                    s.entry_uuid,
                    s.unique_id,
                    s.patient_id,
                    s.source_id,
                    s.submission_time,
                    join(&s.content_type),
                    join(&s.author_persons),
                    s.status,
                    s.raw_xml,
                    seq
                ],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Every submission set of a patient, in registration order.
    pub fn submission_sets_for_patient(
        &self,
        patient_id: &str,
    ) -> Result<Vec<SubmissionSetRow>, SandboxError> {
        let sql =
            format!("SELECT {SS_COLUMNS} FROM submission_set WHERE patient_id = ?1 ORDER BY seq");
        let mut st = self.c.prepare_cached(&sql).map_err(db_err)?;
        let rows = st.query_map([patient_id], ss_from_row).map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
    }

    /// Whether a submission set has this uniqueId.
    pub fn submission_set_unique_id_used(&self, unique_id: &str) -> Result<bool, SandboxError> {
        self.c
            .cached_query_row(
                "SELECT COUNT(*) FROM submission_set WHERE unique_id = ?1",
                [unique_id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(db_err)
    }

    /// Inserts an association.
    pub fn insert_association(&self, a: &AssociationRow) -> Result<(), SandboxError> {
        let seq = self.next_seq()?;
        self.c
            .cached_execute(
                "INSERT INTO association
                 (entry_uuid, association_type, source, target, raw_xml, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    a.entry_uuid,
                    a.association_type,
                    a.source,
                    a.target,
                    a.raw_xml,
                    seq
                ],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Associations whose source or target is `object`.
    pub fn associations_of(&self, object: &str) -> Result<Vec<AssociationRow>, SandboxError> {
        let mut st = self
            .c
            .prepare_cached(
                "SELECT entry_uuid, association_type, source, target, raw_xml FROM association
                 WHERE source = ?1 OR target = ?1 ORDER BY seq",
            )
            .map_err(db_err)?;
        let rows = st
            .query_map([object], |r| {
                Ok(AssociationRow {
                    entry_uuid: r.get(0)?,
                    association_type: r.get(1)?,
                    source: r.get(2)?,
                    target: r.get(3)?,
                    raw_xml: r.get(4)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
    }

    /// The stored document with this uniqueId: (mime type, bytes).
    pub fn document(&self, unique_id: &str) -> Result<Option<(String, Vec<u8>)>, SandboxError> {
        self.c
            .cached_query_row(
                "SELECT mime_type, bytes FROM document WHERE unique_id = ?1",
                [unique_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)
    }

    /// Stores a document's bytes.
    pub fn insert_document(
        &self,
        unique_id: &str,
        mime_type: &str,
        hash: &str,
        bytes: &[u8],
    ) -> Result<(), SandboxError> {
        self.c
            .cached_execute(
                "INSERT INTO document (unique_id, mime_type, hash, size, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    unique_id,
                    mime_type,
                    hash,
                    i64::try_from(bytes.len()).unwrap_or(i64::MAX),
                    bytes
                ],
            )
            .map(|_| ())
            .map_err(db_err)
    }
}

fn hab_from_row(r: &Row<'_>) -> rusqlite::Result<Habilitation> {
    Ok(Habilitation {
        ps_id: r.get(0)?,
        nom: r.get(1)?,
        prenom: r.get(2)?,
        date_debut: r.get(3)?,
        date_fin: r.get(4)?,
        medecin_traitant: r.get::<_, i64>(5)? != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(uuid: &str, uid: &str) -> EntryRow {
        EntryRow {
            entry_uuid: uuid.into(),
            logical_id: uuid.into(),
            version: 1,
            unique_id: uid.into(),
            status: "A".into(),
            patient_id: "P".into(),
            class_code: vec!["11^^^1.2".into()],
            type_code: vec![],
            format_code: vec![],
            practice_setting: vec![],
            healthcare_facility: vec![],
            confidentiality: vec!["N^^^x".into(), "MASQUE_PS^^^y".into()],
            event_codes: vec![],
            creation_time: Some("2020".into()),
            service_start: None,
            service_stop: None,
            author_persons: vec!["1^A".into()],
            submitter: "1".into(),
            hash: "h".into(),
            size: 3,
            title: "t".into(),
            mime_type: "text/xml".into(),
            repository_unique_id: "r".into(),
            submission_set: "s".into(),
            raw_xml: "<x/>".into(),
            seq: 0,
        }
    }

    #[test]
    fn tables_round_trip() {
        let s = Store::in_memory().unwrap();
        s.write(|db| -> Result<(), SandboxError> {
            db.put_dmp(&DmpRecord {
                ins: "1".into(),
                oid: "o".into(),
                closed: false,
                family: "F".into(),
                given: "G".into(),
                gender: "M".into(),
                birth_date: "20000101".into(),
            })?;
            db.add_opposition("1", ALL_PS, OppositionKind::Alimentation)?;
            db.insert_entry(&entry("u1", "uid1"))?;
            db.insert_entry(&entry("u2", "uid2"))?;
            db.insert_document("uid1", "text/xml", "h", b"abc")
        })
        .unwrap();
        s.read(|db| -> Result<(), SandboxError> {
            assert!(db.dmp("1")?.is_some_and(|d| !d.closed));
            assert!(db.opposed("1", "x", OppositionKind::Alimentation)?);
            assert!(!db.opposed("1", "x", OppositionKind::Acces)?);
            let all = db.entries_for_patient("P")?;
            assert_eq!(all.len(), 2);
            assert!(all[0].seq < all[1].seq);
            assert_eq!(all[0].confidentiality.len(), 2);
            assert!(db.object_exists("u2")? && !db.object_exists("u3")?);
            assert_eq!(db.document("uid1")?.unwrap().1, b"abc");
            Ok(())
        })
        .unwrap();
        // A failed transaction leaves nothing behind.
        let r = s.write(|db| -> Result<(), SandboxError> {
            db.insert_entry(&entry("u3", "uid3"))?;
            Err(SandboxError::Store("abort".into()))
        });
        assert!(r.is_err());
        assert!(s.read(|db| db.entry("u3")).unwrap().is_none());
    }
}
