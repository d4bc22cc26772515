//! The DMP outbox and dashboard (the DMP rows of the generic `outbox`, schema v4; table
//! `dmp_documents` in v2-v3): every document handed to the DMP with its current state, as the manual's "Tableau de bord des échanges MSSanté et DMP" shows
//! it ("Accessible dans le DMP", "Supprimé dans le DMP", "En échec").

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{rfc3339, Journal, NewExchange};
use crate::error::{Result, SegurError};
use crate::outbox::{next_attempt, Channel, OutboxState};
use crate::outbox::{NewOutboxItem, OutboxItem};

/// Where a document handed to the DMP stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DmpDocumentStatus {
    /// Stored locally, the send has not completed yet (a crash here leaves it to retry).
    Pending,
    /// Accepted by the DMP (ITI-41 Success).
    Accessible,
    /// The last send attempt failed; the document is kept for a retry.
    Failed,
    /// Replaced by a newer version (RPLC).
    Replaced,
    /// Deleted in the DMP (TD3.3c).
    Deleted,
    /// Archived in the DMP (TD3.3d).
    Archived,
}

impl DmpDocumentStatus {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accessible => "accessible",
            Self::Failed => "failed",
            Self::Replaced => "replaced",
            Self::Deleted => "deleted",
            Self::Archived => "archived",
        }
    }
    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "pending" => Self::Pending,
            "accessible" => Self::Accessible,
            "failed" => Self::Failed,
            "replaced" => Self::Replaced,
            "deleted" => Self::Deleted,
            "archived" => Self::Archived,
            _ => return None,
        })
    }
    /// The dashboard label (manual: "Statut Envoi").
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "En cours d'envoi",
            Self::Accessible => "Accessible dans le DMP",
            Self::Failed => "En échec",
            Self::Replaced => "Remplacé dans le DMP",
            Self::Deleted => "Supprimé dans le DMP",
            Self::Archived => "Archivé dans le DMP",
        }
    }
}

/// A new document in the outbox.
#[derive(Debug, Clone)]
pub struct NewDmpDocument<'a> {
    /// XDS uniqueId.
    pub unique_id: &'a str,
    /// The patient's local id.
    pub patient_local_id: &'a str,
    /// The INS it is sent under (15 characters).
    pub ins: &'a str,
    /// The acting practitioner's national id.
    pub practitioner: Option<&'a str>,
    /// typeCode.
    pub document_type: Option<&'a str>,
    /// Title.
    pub title: Option<&'a str>,
    /// Confidentiality codes sent (N/R/V then DMP codes).
    pub confidentiality: &'a [String],
    /// uniqueId of the version it replaces.
    pub replaces: Option<&'a str>,
    /// The exact bytes sent.
    pub document: &'a [u8],
}

/// A row of the DMP dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DmpDocumentRow {
    /// XDS uniqueId.
    pub unique_id: String,
    /// Patient local id.
    pub patient_local_id: String,
    /// INS.
    pub ins: String,
    /// Practitioner national id.
    pub practitioner: Option<String>,
    /// typeCode.
    pub document_type: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Status.
    pub status: DmpDocumentStatus,
    /// Dashboard label of the status.
    pub status_label: String,
    /// Confidentiality codes in force.
    pub confidentiality: Vec<String>,
    /// uniqueId of the version it replaces.
    pub replaces: Option<String>,
    /// entryUUID in the registry (when known).
    pub entry_uuid: Option<String>,
    /// First stored (RFC 3339 UTC).
    pub created_at: String,
    /// Last change (RFC 3339 UTC).
    pub updated_at: String,
    /// Last error (never patient identity).
    pub last_error: Option<String>,
    /// Why the last attempt was refused before sending (`no_dmp`, `closed`, `feeding_opposed`,
    /// `traits_mismatch`): the patient is blocked until it changes (DMP/CONF.01, CONF.09).
    #[serde(default)]
    pub not_sent_reason: Option<String>,
    /// For `traits_mismatch`: the fields that differ (`prenoms`, `sexe`...), to confirm
    /// (DMP/CONF.01); never the values.
    #[serde(default)]
    pub traits_mismatch: Vec<String>,
}

/// A recorded confirmation of a traits mismatch (DMP/CONF.01), schema v3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DmpTraitsAckRow {
    /// When (RFC 3339 UTC).
    pub at: String,
    /// Patient local id.
    pub patient_local_id: String,
    /// The confirming practitioner's national id.
    pub practitioner: String,
    /// The trait codes confirmed (`nom_naissance`, `prenoms`, `sexe`, `date_naissance`).
    pub fields: Vec<String>,
}

/// Filters of [`Journal::dmp_documents`]; all optional, combined with AND.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DmpDocumentQuery {
    /// Patient local id.
    pub patient_local_id: Option<String>,
    /// Practitioner national id.
    pub practitioner: Option<String>,
    /// Status.
    pub status: Option<DmpDocumentStatus>,
    /// Created from (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Created before (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// At most this many rows, newest first (default 1000).
    pub limit: Option<u32>,
}

/// A state change of an outbox document, with the exchanges that caused it.
#[derive(Debug, Clone, Default)]
pub struct DmpDocumentUpdate<'a> {
    /// New status (None: unchanged).
    pub status: Option<DmpDocumentStatus>,
    /// New entryUUID.
    pub entry_uuid: Option<&'a str>,
    /// New confidentiality codes.
    pub confidentiality: Option<&'a [String]>,
    /// Error of the attempt (None clears it).
    pub error: Option<&'a str>,
    /// Why a check before sending refused it, as stored (`traits_mismatch:prenoms sexe`);
    /// None clears it.
    pub not_sent_reason: Option<&'a str>,
}

impl Journal {
    /// Commits a document to the DMP outbox (`pending`) before it is sent. Storing the same
    /// uniqueId again (a retry) keeps the row as it is; the bytes must be identical, else
    /// [`SegurError::InvalidInput`].
    pub fn dmp_outbox_put(&self, d: &NewDmpDocument<'_>) -> Result<()> {
        let meta = DmpMeta {
            ins: d.ins.to_owned(),
            document_type: d.document_type.map(str::to_owned),
            title: d.title.map(str::to_owned),
            confidentiality: d.confidentiality.join(" "),
            replaces: d.replaces.map(str::to_owned),
            entry_uuid: None,
        };
        self.outbox_put(&NewOutboxItem {
            channel: Channel::Dmp,
            item_id: d.unique_id,
            patient_local_id: Some(d.patient_local_id),
            practitioner: d.practitioner,
            meta: serde_json::to_value(&meta)
                .map_err(|e| SegurError::Internal(format!("DMP metadata: {e}")))?,
            payload: d.document,
        })?;
        Ok(())
    }

    /// Records the exchanges of a DMP operation and, in the same transaction, the resulting state
    /// of the outbox documents concerned. Returns the exchange row ids.
    pub fn dmp_commit(
        &self,
        exchanges: &[NewExchange],
        updates: &[(&str, DmpDocumentUpdate<'_>)],
    ) -> Result<Vec<i64>> {
        self.with_exchanges(exchanges, |tx, _| {
            for (unique_id, u) in updates {
                apply_dmp_update(tx, unique_id, u)?;
            }
            Ok(())
        })
    }

    /// Records a TD0.3 authorization change with its exchanges, in one transaction (the
    /// patient's consent, for AJOUT: when and how it was collected).
    pub fn dmp_consent(
        &self,
        exchanges: &[NewExchange],
        patient_local_id: &str,
        practitioner: &str,
        action: &str,
        consent: Option<(&str, DateTime<Utc>)>,
    ) -> Result<Vec<i64>> {
        self.with_exchanges(exchanges, |tx, ids| {
        tx.execute(
            "INSERT INTO dmp_consents(at, patient_local_id, practitioner, action, mode, collected_at, exchange_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                rfc3339(&Utc::now()),
                patient_local_id,
                practitioner,
                action,
                consent.map(|c| c.0),
                consent.map(|c| rfc3339(&c.1)),
                ids.last()
            ],
        )?;
        Ok(())
        })
    }

    /// The recorded TD0.3 changes of a patient: (at, practitioner, action, consent mode,
    /// collected at), oldest first.
    #[allow(clippy::type_complexity)]
    pub fn dmp_consents(
        &self,
        patient_local_id: &str,
    ) -> Result<Vec<(String, String, String, Option<String>, Option<String>)>> {
        let conn = self.lock()?;
        let mut st = conn.prepare(
            "SELECT at, practitioner, action, mode, collected_at FROM dmp_consents WHERE patient_local_id = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([patient_local_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Records a DMP/CONF.01 confirmation of a traits mismatch (the trait codes confirmed) with
    /// the TD0.2 exchanges that showed it, in one transaction.
    pub fn dmp_traits_ack(
        &self,
        exchanges: &[NewExchange],
        patient_local_id: &str,
        practitioner: &str,
        fields: &[&str],
        at: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        self.with_exchanges(exchanges, |tx, ids| {
        tx.execute(
            "INSERT INTO dmp_traits_acks(at, patient_local_id, practitioner, fields, exchange_id) VALUES(?1, ?2, ?3, ?4, ?5)",
            params![
                rfc3339(&at),
                patient_local_id,
                practitioner,
                fields.join(" "),
                ids.last()
            ],
        )?;
        Ok(())
        })
    }

    /// The most recent traits confirmation of a patient (DMP/CONF.01), if any.
    pub fn dmp_traits_ack_latest(&self, patient_local_id: &str) -> Result<Option<DmpTraitsAckRow>> {
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                "SELECT at, patient_local_id, practitioner, fields FROM dmp_traits_acks WHERE patient_local_id = ?1 ORDER BY id DESC LIMIT 1",
                [patient_local_id],
                |r| {
                    let fields: String = r.get(3)?;
                    Ok(DmpTraitsAckRow {
                        at: r.get(0)?,
                        patient_local_id: r.get(1)?,
                        practitioner: r.get(2)?,
                        fields: fields.split_whitespace().map(str::to_owned).collect(),
                    })
                },
            )
            .optional()?)
    }

    /// One outbox document with its bytes.
    pub fn dmp_document(&self, unique_id: &str) -> Result<Option<(DmpDocumentRow, Vec<u8>)>> {
        self.outbox_item(Channel::Dmp, unique_id)?
            .map(|item| Ok((dmp_row(&item)?, item.payload)))
            .transpose()
    }

    /// The DMP dashboard: documents matching `q`, newest first.
    pub fn dmp_documents(&self, q: &DmpDocumentQuery) -> Result<Vec<DmpDocumentRow>> {
        let mut sql = format!("{SELECT_ROW} FROM outbox WHERE channel = 'dmp'");
        let mut args: Vec<String> = Vec::new();
        let mut filter = |col: &str, op: &str, v: Option<String>| {
            if let Some(v) = v {
                args.push(v);
                sql.push_str(&format!(" AND {col} {op} ?{}", args.len()));
            }
        };
        filter("patient_local_id", "=", q.patient_local_id.clone());
        filter("practitioner", "=", q.practitioner.clone());
        filter("created_at", ">=", q.from.as_ref().map(rfc3339));
        filter("created_at", "<", q.to.as_ref().map(rfc3339));
        if let Some(status) = q.status {
            let states: Vec<String> = status
                .states()
                .iter()
                .map(|s| format!("'{}'", s.code()))
                .collect();
            sql.push_str(&format!(" AND state IN ({})", states.join(", ")));
        }
        sql.push_str(&format!(
            " ORDER BY created_at DESC, item_id LIMIT {}",
            q.limit.unwrap_or(1000)
        ));
        let conn = self.lock()?;
        let mut st = conn.prepare(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            let meta: String = r.get(5)?;
            Ok(RawRow {
                unique_id: r.get(0)?,
                patient_local_id: r.get(1)?,
                practitioner: r.get(2)?,
                state: r.get(3)?,
                not_sent_reason: r.get(4)?,
                meta,
                created_at: r.get(6)?,
                updated_at: r.get(7)?,
                last_error: r.get(8)?,
            })
        })?;
        rows.map(|r| r.map_err(SegurError::from).and_then(|r| r.row()))
            .collect()
    }
}

/// The DMP's metadata of an outbox item (`outbox.meta`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct DmpMeta {
    /// The INS it is sent under.
    pub ins: String,
    /// typeCode.
    #[serde(default)]
    pub document_type: Option<String>,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Confidentiality codes, space-separated (N/R/V then the DMP codes).
    #[serde(default)]
    pub confidentiality: String,
    /// uniqueId of the version it replaces.
    #[serde(default)]
    pub replaces: Option<String>,
    /// entryUUID in the registry, when known.
    #[serde(default)]
    pub entry_uuid: Option<String>,
}

impl DmpDocumentStatus {
    /// The dashboard status of an outbox state (`sending` shows as pending, `refused` as
    /// failed: the row's `not_sent_reason` says why).
    pub fn of(state: OutboxState) -> Self {
        match state {
            OutboxState::Pending | OutboxState::Sending => Self::Pending,
            OutboxState::Sent => Self::Accessible,
            OutboxState::Failed | OutboxState::Refused => Self::Failed,
            OutboxState::Replaced => Self::Replaced,
            OutboxState::Deleted => Self::Deleted,
            OutboxState::Archived => Self::Archived,
        }
    }
    /// The outbox states shown as this status.
    pub fn states(self) -> &'static [OutboxState] {
        match self {
            Self::Pending => &[OutboxState::Pending, OutboxState::Sending],
            Self::Accessible => &[OutboxState::Sent],
            Self::Failed => &[OutboxState::Failed, OutboxState::Refused],
            Self::Replaced => &[OutboxState::Replaced],
            Self::Deleted => &[OutboxState::Deleted],
            Self::Archived => &[OutboxState::Archived],
        }
    }
}

/// Applies a DMP state change to an outbox row inside `tx` (no-op for an unknown uniqueId: a
/// document not sent from here).
pub(crate) fn apply_dmp_update(
    tx: &rusqlite::Transaction<'_>,
    unique_id: &str,
    u: &DmpDocumentUpdate<'_>,
) -> Result<()> {
    let state = u.status.map(|s| match s {
        DmpDocumentStatus::Pending => OutboxState::Pending,
        DmpDocumentStatus::Accessible => OutboxState::Sent,
        DmpDocumentStatus::Failed if u.not_sent_reason.is_some() => OutboxState::Refused,
        DmpDocumentStatus::Failed => OutboxState::Failed,
        DmpDocumentStatus::Replaced => OutboxState::Replaced,
        DmpDocumentStatus::Deleted => OutboxState::Deleted,
        DmpDocumentStatus::Archived => OutboxState::Archived,
    });
    let Some(item) = super::outbox::item_in(tx, Channel::Dmp, unique_id)? else {
        return Ok(());
    };
    let mut meta: DmpMeta = serde_json::from_value(item.meta)
        .map_err(|e| SegurError::Journal(format!("DMP metadata unreadable: {e}")))?;
    if let Some(e) = u.entry_uuid {
        meta.entry_uuid = Some(e.to_owned());
    }
    if let Some(c) = u.confidentiality {
        meta.confidentiality = c.join(" ");
    }
    let now = Utc::now();
    let next = match state {
        Some(OutboxState::Failed) => Some(rfc3339(&next_attempt(now, item.attempts))),
        Some(_) => None,
        None => item.next_attempt_at,
    };
    tx.execute(
        "UPDATE outbox SET
            state = COALESCE(?2, state),
            meta = ?3,
            last_error = ?4,
            not_sent_reason = ?5,
            next_attempt_at = ?6,
            claim_token = CASE WHEN ?2 IS NULL THEN claim_token ELSE NULL END,
            updated_at = ?7
         WHERE channel = 'dmp' AND item_id = ?1",
        params![
            unique_id,
            state.map(OutboxState::code),
            serde_json::to_string(&meta)
                .map_err(|e| SegurError::Internal(format!("DMP metadata: {e}")))?,
            u.error,
            u.not_sent_reason,
            next,
            rfc3339(&now)
        ],
    )?;
    Ok(())
}

const SELECT_ROW: &str = "SELECT item_id, patient_local_id, practitioner, state, not_sent_reason, meta, created_at, updated_at, last_error";

/// The columns of a dashboard row, before its metadata is read.
struct RawRow {
    unique_id: String,
    patient_local_id: Option<String>,
    practitioner: Option<String>,
    state: String,
    not_sent_reason: Option<String>,
    meta: String,
    created_at: String,
    updated_at: String,
    last_error: Option<String>,
}

impl RawRow {
    fn row(self) -> Result<DmpDocumentRow> {
        let state = OutboxState::from_code(&self.state)
            .ok_or_else(|| SegurError::Journal(format!("unknown outbox state {:?}", self.state)))?;
        let meta: DmpMeta = serde_json::from_str(&self.meta)
            .map_err(|e| SegurError::Journal(format!("DMP metadata unreadable: {e}")))?;
        Ok(build_row(
            self.unique_id,
            self.patient_local_id,
            self.practitioner,
            state,
            self.not_sent_reason,
            meta,
            self.created_at,
            self.updated_at,
            self.last_error,
        ))
    }
}

fn dmp_row(item: &OutboxItem) -> Result<DmpDocumentRow> {
    let meta: DmpMeta = serde_json::from_value(item.meta.clone())
        .map_err(|e| SegurError::Journal(format!("DMP metadata unreadable: {e}")))?;
    Ok(build_row(
        item.item_id.clone(),
        item.patient_local_id.clone(),
        item.practitioner.clone(),
        item.state,
        item.not_sent_reason.clone(),
        meta,
        item.created_at.clone(),
        item.updated_at.clone(),
        item.last_error.clone(),
    ))
}

#[allow(clippy::too_many_arguments)]
fn build_row(
    unique_id: String,
    patient_local_id: Option<String>,
    practitioner: Option<String>,
    state: OutboxState,
    reason: Option<String>,
    meta: DmpMeta,
    created_at: String,
    updated_at: String,
    last_error: Option<String>,
) -> DmpDocumentRow {
    let status = DmpDocumentStatus::of(state);
    let (not_sent_reason, traits_mismatch) = match reason.as_deref().map(|r| r.split_once(':')) {
        Some(Some((code, fields))) => (
            Some(code.to_owned()),
            fields.split_whitespace().map(str::to_owned).collect(),
        ),
        _ => (reason, Vec::new()),
    };
    DmpDocumentRow {
        unique_id,
        patient_local_id: patient_local_id.unwrap_or_default(),
        ins: meta.ins,
        practitioner,
        document_type: meta.document_type,
        title: meta.title,
        status,
        status_label: status.label().to_owned(),
        confidentiality: meta
            .confidentiality
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        replaces: meta.replaces,
        entry_uuid: meta.entry_uuid,
        created_at,
        updated_at,
        last_error,
        not_sent_reason,
        traits_mismatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc<'a>(id: &'a str, bytes: &'a [u8], conf: &'a [String]) -> NewDmpDocument<'a> {
        NewDmpDocument {
            unique_id: id,
            patient_local_id: "P1",
            ins: "279035121518989",
            practitioner: Some("810001234567"),
            document_type: Some("SYNTH"),
            title: Some("VSM"),
            confidentiality: conf,
            replaces: None,
            document: bytes,
        }
    }

    #[test]
    fn outbox_lifecycle_and_dashboard() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path().join("j.sqlite")).unwrap();
        assert_eq!(j.schema_version().unwrap(), 4);
        let conf = vec!["N".to_owned()];
        j.dmp_outbox_put(&doc("1.2.3", b"<doc/>", &conf)).unwrap();
        let (row, bytes) = j.dmp_document("1.2.3").unwrap().unwrap();
        assert_eq!(row.status, DmpDocumentStatus::Pending);
        assert_eq!(bytes, b"<doc/>");
        // A retry with other bytes under the same uniqueId is refused.
        assert!(j.dmp_outbox_put(&doc("1.2.3", b"<other/>", &conf)).is_err());
        let x = NewExchange {
            channel: "dmp".into(),
            operation: "ITI-41".into(),
            status: "ok".into(),
            request: b"req".to_vec(),
            ..Default::default()
        };
        let masked = vec!["N".to_owned(), "MASQUE_PS".to_owned()];
        j.dmp_commit(
            &[x],
            &[(
                "1.2.3",
                DmpDocumentUpdate {
                    status: Some(DmpDocumentStatus::Accessible),
                    entry_uuid: Some("urn:uuid:abc"),
                    confidentiality: Some(&masked),
                    error: None,
                    not_sent_reason: None,
                },
            )],
        )
        .unwrap();
        let rows = j.dmp_documents(&DmpDocumentQuery::default()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status_label, "Accessible dans le DMP");
        assert_eq!(rows[0].confidentiality, masked);
        assert_eq!(rows[0].entry_uuid.as_deref(), Some("urn:uuid:abc"));
        let deleted = DmpDocumentQuery {
            status: Some(DmpDocumentStatus::Deleted),
            ..Default::default()
        };
        assert!(j.dmp_documents(&deleted).unwrap().is_empty());
        assert_eq!(j.exchanges(&Default::default()).unwrap().len(), 1);
        // A refusal before sending is recorded with its reason, cleared by the next attempt.
        j.dmp_commit(
            &[],
            &[(
                "1.2.3",
                DmpDocumentUpdate {
                    status: Some(DmpDocumentStatus::Failed),
                    not_sent_reason: Some("traits_mismatch:prenoms sexe"),
                    ..Default::default()
                },
            )],
        )
        .unwrap();
        let (row, _) = j.dmp_document("1.2.3").unwrap().unwrap();
        assert_eq!(row.not_sent_reason.as_deref(), Some("traits_mismatch"));
        assert_eq!(row.traits_mismatch, vec!["prenoms", "sexe"]);
        j.dmp_commit(&[], &[("1.2.3", DmpDocumentUpdate::default())])
            .unwrap();
        let (row, _) = j.dmp_document("1.2.3").unwrap().unwrap();
        assert_eq!((row.not_sent_reason, row.traits_mismatch.len()), (None, 0));
    }

    #[test]
    fn traits_acks_are_kept_newest_last() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path().join("j.sqlite")).unwrap();
        assert_eq!(j.dmp_traits_ack_latest("P1").unwrap(), None);
        let at = Utc::now();
        j.dmp_traits_ack(&[], "P1", "810001234567", &["prenoms"], at)
            .unwrap();
        j.dmp_traits_ack(&[], "P1", "810001234568", &["prenoms", "sexe"], at)
            .unwrap();
        let a = j.dmp_traits_ack_latest("P1").unwrap().unwrap();
        assert_eq!(a.fields, vec!["prenoms", "sexe"]);
        assert_eq!(a.practitioner, "810001234568");
        assert_eq!(j.dmp_traits_ack_latest("P2").unwrap(), None);
    }

    /// A journal written by the v2 schema (before DMP/CONF.01 confirmations) is upgraded in
    /// place (v3, then v4's generic outbox): its outbox rows are kept and the new tables are
    /// there.
    #[test]
    fn a_v2_journal_is_migrated_to_v4() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.sqlite");
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            for m in &super::super::MIGRATIONS[..2] {
                tx.execute_batch(m).unwrap();
            }
            tx.pragma_update(None, "user_version", 2u32).unwrap();
            tx.execute(
                "INSERT INTO dmp_documents(unique_id, patient_local_id, ins, status, created_at, updated_at, document) VALUES('1.2.3', 'P1', '279035121518989', 'failed', 'x', 'x', X'3C612F3E')",
                [],
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.schema_version().unwrap(), 4);
        let (row, bytes) = j.dmp_document("1.2.3").unwrap().unwrap();
        assert_eq!(
            (row.status, bytes.as_slice()),
            (DmpDocumentStatus::Failed, &b"<a/>"[..])
        );
        assert_eq!(row.not_sent_reason, None);
        j.dmp_traits_ack(&[], "P1", "810001234567", &["prenoms"], Utc::now())
            .unwrap();
        assert!(j.dmp_traits_ack_latest("P1").unwrap().is_some());
        drop(j);
        // Opening again applies nothing more.
        assert_eq!(Journal::open(&path).unwrap().schema_version().unwrap(), 4);
    }
}
