//! The outbox, one for every channel (DESIGN §3 "Outbox"): an item to send (a DMP document, later
//! an MSSanté message or an e-prescription) is first committed to the journal, then *claimed* for
//! an attempt, then *settled* with the exchanges of that attempt, in one transaction each. A crash
//! (even `kill -9`) at any point leaves the item in the journal, in a state from which a retry
//! finds its way:
//!
//! ```text
//!            put            claim                 settle
//!   (none) ──────▶ pending ──────▶ sending ──┬──▶ sent ──▶ replaced | deleted | archived
//!                     ▲               │      ├──▶ failed   (retryable, after a backoff)
//!                     │               │      └──▶ refused  (a check refused it: needs a user)
//!                     │     claim     ▼
//!                     └── failed | refused | sending (left by a crash: answer unknown)
//! ```
//!
//! Keys are (channel, the item's own unique id: the document uniqueId, the Message-ID), so putting
//! the same item twice is a no-op and a service that saw it once recognises it. An item claimed
//! while it was still `sending` (the previous attempt's answer never reached the journal) is first
//! *reconciled* with the service by its channel ([`Reconcile`]: the DMP looks the uniqueId up with
//! GetDocuments) before it is sent again.
//!
//! The journal side (table `outbox`, schema v4) is in `journal::outbox`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::journal::exchange::NewExchange;

/// A channel of the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The DMP (ITI-41); items keyed by the document's XDS uniqueId.
    Dmp,
    /// MSSanté — declared for what comes next, **not yet wired**: no workflow puts items here
    /// yet; items will be keyed by Message-ID.
    Mss,
    /// The e-prescription — declared for what comes next, **not yet wired**; items will be keyed
    /// by the prescription's unique id.
    Erx,
}

impl Channel {
    /// Stored code (`dmp`, `mss`, `erx`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Dmp => "dmp",
            Self::Mss => "mss",
            Self::Erx => "erx",
        }
    }
    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "dmp" => Self::Dmp,
            "mss" => Self::Mss,
            "erx" => Self::Erx,
            _ => return None,
        })
    }
}

/// Where an outbox item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Committed, no attempt under way.
    Pending,
    /// Claimed by an attempt; if no attempt is running any more (a crash), its answer is unknown
    /// and the next claim reconciles it first.
    Sending,
    /// The service accepted it (DMP: "Accessible dans le DMP").
    Sent,
    /// The last attempt failed (transport, fault, service error); retried after a backoff.
    Failed,
    /// A check before sending refused it (DMP/CONF.01, CONF.09): not retried automatically,
    /// a user must act (confirm the traits, the patient lifts an opposition...).
    Refused,
    /// Sent, then replaced by a newer version (DMP RPLC).
    Replaced,
    /// Sent, then deleted at the service (DMP TD3.3c).
    Deleted,
    /// Sent, then archived at the service (DMP TD3.3d).
    Archived,
}

impl OutboxState {
    /// Every state.
    pub const ALL: [Self; 8] = [
        Self::Pending,
        Self::Sending,
        Self::Sent,
        Self::Failed,
        Self::Refused,
        Self::Replaced,
        Self::Deleted,
        Self::Archived,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Refused => "refused",
            Self::Replaced => "replaced",
            Self::Deleted => "deleted",
            Self::Archived => "archived",
        }
    }
    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
    /// An attempt may claim an item in this state (`sending` only by taking it over).
    pub fn claimable(self) -> bool {
        matches!(
            self,
            Self::Pending | Self::Sending | Self::Failed | Self::Refused
        )
    }
    /// The service holds the item (sent, and possibly changed since).
    pub fn delivered(self) -> bool {
        matches!(
            self,
            Self::Sent | Self::Replaced | Self::Deleted | Self::Archived
        )
    }
}

/// How long a `sending` claim is honoured before a scan of due items takes it over (an attempt
/// lasting longer is presumed dead: the process crashed). An explicit retry takes it over at once.
pub const CLAIM_LEASE: Duration = Duration::from_secs(120);

/// The wait before the next automatic attempt after `attempts` failed ones: 30 s, doubling, at
/// most one hour.
pub fn backoff(attempts: u32) -> Duration {
    let base = 30u64;
    let exp = attempts.saturating_sub(1).min(7);
    Duration::from_secs((base << exp).min(3600))
}

/// When the next automatic attempt is due after `attempts` failed ones, from `now`.
pub fn next_attempt(now: DateTime<Utc>, attempts: u32) -> DateTime<Utc> {
    now + chrono::Duration::from_std(backoff(attempts)).unwrap_or(chrono::Duration::hours(1))
}

/// What a channel found out about an item whose previous attempt ended without an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciled {
    /// The service holds it: settle it as sent without sending it again; the service's own id
    /// for it (DMP entryUUID) when known.
    Delivered {
        /// The service's id (DMP: entryUUID).
        remote_id: Option<String>,
    },
    /// The service does not hold it: send it.
    NotDelivered,
    /// The service could not be asked (an error, no right to consult): send it, relying on the
    /// channel's own idempotency (DMP: `XDSDuplicateUniqueIdInRegistry`, then GetDocuments).
    Unknown,
}

/// The answer of [`Reconcile::reconcile`] and the exchanges it took (journaled with the item's
/// next state).
#[derive(Debug, Clone)]
pub struct Reconciliation {
    /// What was found.
    pub outcome: Reconciled,
    /// The exchanges of the look-up.
    pub exchanges: Vec<NewExchange>,
}

/// Per-channel reconciliation of a lost answer: asks the service whether an item whose last
/// attempt left it `sending` arrived. The DMP implementation is `dmp::send::DmpReconciler`
/// (ITI-18 GetDocuments by uniqueId, same size and SHA-1 hash); MSSanté will look the
/// Message-ID up in the sent folder.
pub(crate) trait Reconcile {
    /// Looks the item up at the service. Never fails: an error is [`Reconciled::Unknown`].
    async fn reconcile(&self, item: &OutboxItem) -> Reconciliation;
}

/// Test-only crash points (cargo feature `testing`): `SEGUR_TEST_CRASHPOINT=<name>:<n>` aborts
/// the process the `n`-th time (from 1) the point `name` is reached. Without the feature this is
/// nothing. Points: `outbox.put`, `outbox.claim`, `outbox.settle` (inside their transactions,
/// before the commit), `dmp.answered` (the ITI-41 answer received, before its state is committed).
#[inline]
pub(crate) fn crashpoint(name: &str) {
    #[cfg(feature = "testing")]
    testing::hit(name);
    #[cfg(not(feature = "testing"))]
    let _ = name;
}

#[cfg(feature = "testing")]
mod testing {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    static POINT: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static HITS: AtomicU64 = AtomicU64::new(0);

    pub(super) fn hit(name: &str) {
        let point = POINT.get_or_init(|| {
            let v = std::env::var("SEGUR_TEST_CRASHPOINT").ok()?;
            let (n, count) = v.rsplit_once(':')?;
            Some((n.to_owned(), count.parse().ok()?))
        });
        if let Some((n, count)) = point {
            if n == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *count {
                eprintln!("SEGUR_TEST_CRASHPOINT: aborting at {name}");
                std::process::abort();
            }
        }
    }
}

/// The outbox items of `channel` due for an automatic attempt now: pending, failed with their
/// backoff elapsed, or `sending` for longer than [`CLAIM_LEASE`] (a dead attempt). Refused items
/// wait for a user.
pub fn due(journal: &crate::Journal, channel: Channel, limit: u32) -> Result<Vec<String>> {
    journal.outbox_due(channel, Utc::now(), limit)
}

/// A new item for the outbox.
#[derive(Debug, Clone)]
pub struct NewOutboxItem<'a> {
    /// Channel.
    pub channel: Channel,
    /// The item's own unique id (document uniqueId, Message-ID).
    pub item_id: &'a str,
    /// The patient's local id.
    pub patient_local_id: Option<&'a str>,
    /// The acting professional's national id.
    pub practitioner: Option<&'a str>,
    /// What the channel needs besides the payload to send it again (JSON object).
    pub meta: serde_json::Value,
    /// The exact bytes to send.
    pub payload: &'a [u8],
}

/// An outbox item as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    /// Channel.
    pub channel: Channel,
    /// The item's unique id.
    pub item_id: String,
    /// State.
    pub state: OutboxState,
    /// Patient local id.
    pub patient_local_id: Option<String>,
    /// Practitioner national id.
    pub practitioner: Option<String>,
    /// Per-channel metadata (JSON object).
    pub meta: serde_json::Value,
    /// The bytes.
    pub payload: Vec<u8>,
    /// Attempts claimed so far.
    pub attempts: u32,
    /// The last attempt's error (never patient identity).
    pub last_error: Option<String>,
    /// Why a check before sending refused it (`refused`), e.g. `traits_mismatch:prenoms`.
    pub not_sent_reason: Option<String>,
    /// When the next automatic attempt is due (RFC 3339 UTC).
    pub next_attempt_at: Option<String>,
    /// When the current or last attempt claimed it.
    pub claimed_at: Option<String>,
    /// First stored.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

/// An attempt's hold on an item ([`crate::Journal::outbox_claim`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxClaim {
    /// The item as it was *before* the claim: a `sending` state there means an earlier attempt
    /// ended without an answer, to reconcile ([`Reconcile`]).
    pub item: OutboxItem,
    /// This attempt's token: only it may settle the item as failed.
    pub token: String,
}

/// What [`crate::Journal::outbox_claim`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimOutcome {
    /// The item is this attempt's.
    Claimed(OutboxClaim),
    /// Another attempt holds it (claimed less than [`CLAIM_LEASE`] ago) and no takeover was
    /// asked.
    Busy(OutboxItem),
    /// Nothing to send: the service holds it already (sent, replaced, deleted, archived).
    Delivered(OutboxItem),
}

/// How an attempt ended ([`crate::Journal::outbox_settle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle<'a> {
    /// The service holds it (accepted, or found there by reconciliation).
    Sent,
    /// It failed: `failed` (retried after [`backoff`]) or, with a not-sent
    /// reason, `refused` (waits for a user).
    Failed {
        /// Error (never patient identity).
        error: &'a str,
        /// Why a check before sending refused it.
        not_sent_reason: Option<&'a str>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_backoff_grows_to_an_hour() {
        for s in OutboxState::ALL {
            assert_eq!(OutboxState::from_code(s.code()), Some(s));
        }
        for c in [Channel::Dmp, Channel::Mss, Channel::Erx] {
            assert_eq!(Channel::from_code(c.code()), Some(c));
        }
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(40), Duration::from_secs(3600));
        assert!(OutboxState::Sending.claimable() && !OutboxState::Sent.claimable());
    }
}
