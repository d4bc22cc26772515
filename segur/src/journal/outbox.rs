//! The outbox table (schema v4, `outbox`): one row per item to send, every channel, keyed by
//! (channel, the item's own unique id). See [`crate::outbox`] for the state machine; this is its
//! SQL. Each function is one transaction, and each is idempotent: putting the same item again,
//! settling the same outcome again, or claiming an item already delivered changes nothing.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use super::{rfc3339, Journal, NewExchange};
use crate::error::{Result, SegurError};
use crate::outbox::{
    crashpoint, next_attempt, Channel, ClaimOutcome, NewOutboxItem, OutboxClaim, OutboxItem,
    OutboxState, Settle, CLAIM_LEASE,
};

/// v3 → v4: the generic outbox; the DMP's `dmp_documents` rows move into it (states mapped:
/// `accessible` → `sent`; `failed` with a not-sent reason → `refused`; `pending` → `sending`,
/// since v3 marked a document pending right before its network call, so its outcome is unknown
/// and the next claim reconciles it), and `dmp_documents` becomes a read-only view of the DMP
/// rows in the v3 shape. The DMP metadata is the JSON `meta`: `ins`, `document_type`, `title`,
/// `confidentiality` (codes, space-separated), `replaces`, `entry_uuid`.
pub(super) const MIGRATION_V4: &str = r#"
CREATE TABLE outbox (
    channel TEXT NOT NULL,
    item_id TEXT NOT NULL,
    state TEXT NOT NULL,
    patient_local_id TEXT,
    practitioner TEXT,
    meta TEXT NOT NULL DEFAULT '{}',
    payload BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    not_sent_reason TEXT,
    next_attempt_at TEXT,
    claim_token TEXT,
    claimed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (channel, item_id)
);
CREATE INDEX outbox_due ON outbox(channel, state, next_attempt_at);
CREATE INDEX outbox_patient ON outbox(patient_local_id);
CREATE INDEX outbox_created ON outbox(channel, created_at);
INSERT INTO outbox(channel, item_id, state, patient_local_id, practitioner, meta, payload, attempts,
                   last_error, not_sent_reason, next_attempt_at, claimed_at, created_at, updated_at)
SELECT 'dmp', unique_id,
       CASE status
           WHEN 'accessible' THEN 'sent'
           WHEN 'pending' THEN 'sending'
           WHEN 'failed' THEN CASE WHEN not_sent_reason IS NULL THEN 'failed' ELSE 'refused' END
           ELSE status END,
       patient_local_id, practitioner,
       json_object('ins', ins, 'document_type', document_type, 'title', title,
                   'confidentiality', confidentiality, 'replaces', replaces, 'entry_uuid', entry_uuid),
       document,
       1,
       last_error, not_sent_reason,
       CASE WHEN status = 'failed' AND not_sent_reason IS NULL THEN updated_at END,
       CASE WHEN status = 'pending' THEN updated_at END,
       created_at, updated_at
FROM dmp_documents;
DROP TABLE dmp_documents;
CREATE VIEW dmp_documents AS
SELECT item_id AS unique_id, patient_local_id, json_extract(meta, '$.ins') AS ins, practitioner,
       json_extract(meta, '$.document_type') AS document_type, json_extract(meta, '$.title') AS title,
       CASE state WHEN 'sent' THEN 'accessible' WHEN 'sending' THEN 'pending'
                  WHEN 'refused' THEN 'failed' ELSE state END AS status,
       json_extract(meta, '$.confidentiality') AS confidentiality,
       json_extract(meta, '$.replaces') AS replaces, json_extract(meta, '$.entry_uuid') AS entry_uuid,
       created_at, updated_at, last_error, payload AS document, not_sent_reason
FROM outbox WHERE channel = 'dmp';
"#;

const SELECT_ITEM: &str = "SELECT channel, item_id, state, patient_local_id, practitioner, meta, payload, attempts, last_error, not_sent_reason, next_attempt_at, claimed_at, created_at, updated_at FROM outbox";

fn conversion(col: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, what.into())
}

fn read_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxItem> {
    let channel: String = r.get(0)?;
    let state: String = r.get(2)?;
    let meta: String = r.get(5)?;
    Ok(OutboxItem {
        channel: Channel::from_code(&channel)
            .ok_or_else(|| conversion(0, format!("unknown outbox channel {channel:?}")))?,
        item_id: r.get(1)?,
        state: OutboxState::from_code(&state)
            .ok_or_else(|| conversion(2, format!("unknown outbox state {state:?}")))?,
        patient_local_id: r.get(3)?,
        practitioner: r.get(4)?,
        meta: serde_json::from_str(&meta)
            .map_err(|e| conversion(5, format!("outbox meta unreadable: {e}")))?,
        payload: r.get(6)?,
        attempts: r.get(7)?,
        last_error: r.get(8)?,
        not_sent_reason: r.get(9)?,
        next_attempt_at: r.get(10)?,
        claimed_at: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

pub(super) fn item_in(
    tx: &Transaction<'_>,
    channel: Channel,
    id: &str,
) -> Result<Option<OutboxItem>> {
    Ok(tx
        .query_row(
            &format!("{SELECT_ITEM} WHERE channel = ?1 AND item_id = ?2"),
            params![channel.code(), id],
            read_item,
        )
        .optional()?)
}

impl Journal {
    /// Commits an item to the outbox (`pending`) before any attempt to send it. Putting it
    /// again is a no-op returning its current state; other bytes under the same id are refused
    /// ([`SegurError::InvalidInput`]): an id names one content.
    pub fn outbox_put(&self, item: &NewOutboxItem<'_>) -> Result<OutboxState> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        if let Some(existing) = item_in(&tx, item.channel, item.item_id)? {
            if existing.payload != item.payload {
                return Err(SegurError::InvalidInput(
                    "a different content was already sent with this unique id".into(),
                ));
            }
            return Ok(existing.state);
        }
        let now = rfc3339(&Utc::now());
        tx.execute(
            "INSERT INTO outbox(channel, item_id, state, patient_local_id, practitioner, meta, payload, next_attempt_at, created_at, updated_at)
             VALUES(?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?7, ?7, ?7)",
            params![
                item.channel.code(),
                item.item_id,
                item.patient_local_id,
                item.practitioner,
                item.meta.to_string(),
                item.payload,
                now
            ],
        )?;
        crashpoint("outbox.put");
        tx.commit()?;
        Ok(OutboxState::Pending)
    }

    /// Claims an item for an attempt: `pending`, `failed` and `refused` items are taken (state
    /// `sending`, one more attempt); a `sending` one is taken over when its claim is older than
    /// [`CLAIM_LEASE`] or `takeover` is set (an explicit retry of an attempt that died). None
    /// when there is no such item.
    pub fn outbox_claim(
        &self,
        channel: Channel,
        item_id: &str,
        takeover: bool,
    ) -> Result<Option<ClaimOutcome>> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let Some(item) = item_in(&tx, channel, item_id)? else {
            return Ok(None);
        };
        let now = Utc::now();
        if item.state.delivered() {
            return Ok(Some(ClaimOutcome::Delivered(item)));
        }
        if item.state == OutboxState::Sending && !takeover && !lease_expired(&item, now) {
            return Ok(Some(ClaimOutcome::Busy(item)));
        }
        let token = uuid::Uuid::new_v4().to_string();
        tx.execute(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, claim_token = ?3, claimed_at = ?4, updated_at = ?4, next_attempt_at = NULL
             WHERE channel = ?1 AND item_id = ?2",
            params![channel.code(), item_id, token, rfc3339(&now)],
        )?;
        crashpoint("outbox.claim");
        tx.commit()?;
        Ok(Some(ClaimOutcome::Claimed(OutboxClaim { item, token })))
    }

    /// Records the exchanges of an attempt and, in the same transaction, how it ended, then what
    /// `then` writes (the channel's own columns) when the state changed. `Sent` is applied
    /// whoever claimed the item (it is a fact about the service; an item since replaced, deleted
    /// or archived keeps that state); `Failed` only by the claim that still holds it (a stale
    /// attempt never overwrites a newer outcome). Returns whether the state changed.
    pub(crate) fn outbox_settle(
        &self,
        exchanges: &[NewExchange],
        claim: &OutboxClaim,
        settle: Settle<'_>,
        then: impl FnOnce(&Transaction<'_>) -> Result<()>,
    ) -> Result<bool> {
        let mut changed = false;
        let channel = claim.item.channel.code();
        let id = claim.item.item_id.as_str();
        self.with_exchanges(exchanges, |tx, _| {
            let now = Utc::now();
            let n = match settle {
                Settle::Sent => tx.execute(
                    "UPDATE outbox SET state = 'sent', last_error = NULL, not_sent_reason = NULL, next_attempt_at = NULL, claim_token = NULL, updated_at = ?3
                     WHERE channel = ?1 AND item_id = ?2 AND state IN ('pending', 'sending', 'failed', 'refused')",
                    params![channel, id, rfc3339(&now)],
                )?,
                Settle::Failed {
                    error,
                    not_sent_reason,
                } => {
                    let (state, next) = match not_sent_reason {
                        Some(_) => (OutboxState::Refused, None),
                        None => (
                            OutboxState::Failed,
                            Some(rfc3339(&next_attempt(now, claim.item.attempts + 1))),
                        ),
                    };
                    tx.execute(
                        "UPDATE outbox SET state = ?4, last_error = ?5, not_sent_reason = ?6, next_attempt_at = ?7, claim_token = NULL, updated_at = ?8
                         WHERE channel = ?1 AND item_id = ?2 AND state = 'sending' AND claim_token = ?3",
                        params![channel, id, claim.token, state.code(), error, not_sent_reason, next, rfc3339(&now)],
                    )?
                }
            };
            changed = n > 0;
            if changed {
                then(tx)?;
            }
            crashpoint("outbox.settle");
            Ok(())
        })?;
        Ok(changed)
    }

    /// One outbox item.
    pub fn outbox_item(&self, channel: Channel, item_id: &str) -> Result<Option<OutboxItem>> {
        Ok(self
            .lock()?
            .query_row(
                &format!("{SELECT_ITEM} WHERE channel = ?1 AND item_id = ?2"),
                params![channel.code(), item_id],
                read_item,
            )
            .optional()?)
    }

    /// The ids of the items of `channel` due for an automatic attempt at `now`, oldest first:
    /// `pending`, `failed` whose backoff has elapsed, `sending` claimed more than [`CLAIM_LEASE`]
    /// ago.
    pub fn outbox_due(
        &self,
        channel: Channel,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<String>> {
        let stale = now - chrono::Duration::from_std(CLAIM_LEASE).unwrap_or_default();
        let conn = self.lock()?;
        let mut st = conn.prepare(
            "SELECT item_id FROM outbox WHERE channel = ?1 AND (
                 state = 'pending'
              OR (state = 'failed' AND (next_attempt_at IS NULL OR next_attempt_at <= ?2))
              OR (state = 'sending' AND (claimed_at IS NULL OR claimed_at <= ?3)))
             ORDER BY created_at, item_id LIMIT ?4",
        )?;
        let rows = st.query_map(
            params![channel.code(), rfc3339(&now), rfc3339(&stale), limit],
            |r| r.get(0),
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    /// How many items of `channel` are in each state.
    pub fn outbox_counts(&self, channel: Channel) -> Result<Vec<(OutboxState, u64)>> {
        let conn = self.lock()?;
        let mut st = conn.prepare(
            "SELECT state, COUNT(*) FROM outbox WHERE channel = ?1 GROUP BY state ORDER BY state",
        )?;
        let rows = st.query_map([channel.code()], |r| {
            let s: String = r.get(0)?;
            let state = OutboxState::from_code(&s)
                .ok_or_else(|| conversion(0, format!("unknown outbox state {s:?}")))?;
            Ok((state, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

fn lease_expired(item: &OutboxItem, now: DateTime<Utc>) -> bool {
    let Some(at) = item
        .claimed_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
    else {
        return true;
    };
    now.signed_duration_since(at.to_utc())
        .to_std()
        .is_ok_and(|d| d >= CLAIM_LEASE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item<'a>(id: &'a str, payload: &'a [u8]) -> NewOutboxItem<'a> {
        NewOutboxItem {
            channel: Channel::Mss,
            item_id: id,
            patient_local_id: Some("P1"),
            practitioner: None,
            meta: serde_json::json!({"to": "x@example.invalid"}),
            payload,
        }
    }

    #[test]
    fn put_claim_settle_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path().join("j.sqlite")).unwrap();
        assert_eq!(
            j.outbox_put(&item("<m1@x>", b"a")).unwrap(),
            OutboxState::Pending
        );
        assert_eq!(
            j.outbox_put(&item("<m1@x>", b"a")).unwrap(),
            OutboxState::Pending
        );
        assert!(j.outbox_put(&item("<m1@x>", b"b")).is_err());
        assert_eq!(
            j.outbox_due(Channel::Mss, Utc::now(), 10).unwrap(),
            ["<m1@x>"]
        );
        assert!(j
            .outbox_due(Channel::Dmp, Utc::now(), 10)
            .unwrap()
            .is_empty());

        let Some(ClaimOutcome::Claimed(c1)) =
            j.outbox_claim(Channel::Mss, "<m1@x>", false).unwrap()
        else {
            panic!("claimed")
        };
        assert_eq!(c1.item.state, OutboxState::Pending);
        // Held: not claimable again, nor due, without a takeover.
        assert!(matches!(
            j.outbox_claim(Channel::Mss, "<m1@x>", false).unwrap(),
            Some(ClaimOutcome::Busy(_))
        ));
        assert!(j
            .outbox_due(Channel::Mss, Utc::now(), 10)
            .unwrap()
            .is_empty());
        // A takeover (the first attempt died) sees `sending`: to reconcile.
        let Some(ClaimOutcome::Claimed(c2)) = j.outbox_claim(Channel::Mss, "<m1@x>", true).unwrap()
        else {
            panic!("taken over")
        };
        assert_eq!(c2.item.state, OutboxState::Sending);
        // The stale claim cannot record a failure; the current one can.
        let fail = Settle::Failed {
            error: "timeout",
            not_sent_reason: None,
        };
        assert!(!j.outbox_settle(&[], &c1, fail, |_| Ok(())).unwrap());
        assert!(j.outbox_settle(&[], &c2, fail, |_| Ok(())).unwrap());
        let it = j.outbox_item(Channel::Mss, "<m1@x>").unwrap().unwrap();
        assert_eq!((it.state, it.attempts), (OutboxState::Failed, 2));
        assert!(it.next_attempt_at.is_some());
        // Backoff: not due now, due in two hours.
        assert!(j
            .outbox_due(Channel::Mss, Utc::now(), 10)
            .unwrap()
            .is_empty());
        let later = Utc::now() + chrono::Duration::hours(2);
        assert_eq!(j.outbox_due(Channel::Mss, later, 10).unwrap().len(), 1);
        // Sent is a fact, applied once; then the item is delivered, never claimed again.
        let Some(ClaimOutcome::Claimed(c3)) =
            j.outbox_claim(Channel::Mss, "<m1@x>", false).unwrap()
        else {
            panic!("claimed")
        };
        assert!(j.outbox_settle(&[], &c3, Settle::Sent, |_| Ok(())).unwrap());
        assert!(!j.outbox_settle(&[], &c3, Settle::Sent, |_| Ok(())).unwrap());
        assert!(!j.outbox_settle(&[], &c3, fail, |_| Ok(())).unwrap());
        assert!(matches!(
            j.outbox_claim(Channel::Mss, "<m1@x>", true).unwrap(),
            Some(ClaimOutcome::Delivered(_))
        ));
        assert_eq!(
            j.outbox_counts(Channel::Mss).unwrap(),
            vec![(OutboxState::Sent, 1)]
        );
        assert_eq!(j.outbox_claim(Channel::Mss, "<none>", true).unwrap(), None);
    }

    #[test]
    fn a_refusal_waits_for_a_user() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path().join("j.sqlite")).unwrap();
        j.outbox_put(&item("<m2@x>", b"a")).unwrap();
        let Some(ClaimOutcome::Claimed(c)) = j.outbox_claim(Channel::Mss, "<m2@x>", false).unwrap()
        else {
            panic!("claimed")
        };
        let refused = Settle::Failed {
            error: "blocked",
            not_sent_reason: Some("no_dmp"),
        };
        assert!(j.outbox_settle(&[], &c, refused, |_| Ok(())).unwrap());
        let it = j.outbox_item(Channel::Mss, "<m2@x>").unwrap().unwrap();
        assert_eq!(it.state, OutboxState::Refused);
        assert_eq!(it.next_attempt_at, None);
        let later = Utc::now() + chrono::Duration::days(2);
        assert!(j.outbox_due(Channel::Mss, later, 10).unwrap().is_empty());
    }
}
