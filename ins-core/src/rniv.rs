//! The RNIV identity model (Référentiel National d'IdentitoVigilance): statuses, attributes,
//! identity documents, and the only door through which an INS may leave: [`QualifiedIdentity`].
//!
//! The status is never set by hand: it is derived from the facts the record holds (an INS
//! retrieved from INSi, a high-trust identity document checked, the douteuse/fictive attributes),
//! so no sequence of operations can yield an inconsistent state (EXI SI 07/08/09):
//!
//! | INS retrieved (INSi) | high-trust document | douteuse or fictive | status       |
//! |----------------------|---------------------|---------------------|--------------|
//! | no                   | no                  | any                 | provisoire   |
//! | yes                  | no                  | no                  | récupérée    |
//! | no                   | yes                 | no                  | validée      |
//! | yes                  | yes                 | no                  | qualifiée    |
//! | —                    | —                   | yes                 | provisoire   |
//!
//! Every change is recorded with when, who and why (RNIV rule 21).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{InsError, Result};
use crate::insi::{InsiIdentity, TraitsQuery};
use crate::matricule::Ins;
use crate::traits::{TraitsComplementaires, TraitsStricts};

/// The four RNIV statuses (EXI SI 07: every identity has exactly one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdentityStatus {
    /// `PROV`: provisoire, the default.
    Provisoire,
    /// `RECUP`: récupérée — INS retrieved from INSi, no high-trust document.
    Recuperee,
    /// `VALI`: validée — high-trust document checked, no INSi retrieval.
    Validee,
    /// `QUAL`: qualifiée — both; the only status that allows exchanging the INS (EXI SI 08).
    Qualifiee,
}

impl IdentityStatus {
    /// The FR Core / RNIV code: PROV, RECUP, VALI, QUAL.
    pub fn code(self) -> &'static str {
        match self {
            IdentityStatus::Provisoire => "PROV",
            IdentityStatus::Recuperee => "RECUP",
            IdentityStatus::Validee => "VALI",
            IdentityStatus::Qualifiee => "QUAL",
        }
    }

    /// The French label.
    pub fn label(self) -> &'static str {
        match self {
            IdentityStatus::Provisoire => "provisoire",
            IdentityStatus::Recuperee => "récupérée",
            IdentityStatus::Validee => "validée",
            IdentityStatus::Qualifiee => "qualifiée",
        }
    }

    /// Reads a code (PROV, RECUP, VALI, QUAL).
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "PROV" => IdentityStatus::Provisoire,
            "RECUP" => IdentityStatus::Recuperee,
            "VALI" => IdentityStatus::Validee,
            "QUAL" => IdentityStatus::Qualifiee,
            _ => return None,
        })
    }
}

/// The RNIV attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Attribute {
    /// `DOUT`: identité douteuse.
    Douteuse,
    /// `FICT`: identité fictive.
    Fictive,
    /// `HOMA`: homonyme avéré.
    Homonyme,
}

impl Attribute {
    /// The code: DOUT, FICT, HOMA.
    pub fn code(self) -> &'static str {
        match self {
            Attribute::Douteuse => "DOUT",
            Attribute::Fictive => "FICT",
            Attribute::Homonyme => "HOMA",
        }
    }
}

/// Which attributes are set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    /// Identité douteuse.
    pub douteuse: bool,
    /// Identité fictive.
    pub fictive: bool,
    /// Homonyme avéré.
    pub homonyme: bool,
}

impl Attributes {
    fn get(&self, a: Attribute) -> bool {
        match a {
            Attribute::Douteuse => self.douteuse,
            Attribute::Fictive => self.fictive,
            Attribute::Homonyme => self.homonyme,
        }
    }
    fn set(&mut self, a: Attribute, v: bool) {
        match a {
            Attribute::Douteuse => self.douteuse = v,
            Attribute::Fictive => self.fictive = v,
            Attribute::Homonyme => self.homonyme = v,
        }
    }
    /// Whether the identity may be sent to INSi or upgraded (EXI SI 09).
    pub fn blocks_upgrade(&self) -> bool {
        self.douteuse || self.fictive
    }
}

/// Trust level of an identity document type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrustLevel {
    /// Validates the identity (RNIV "dispositif d'identification à haut niveau de confiance").
    Eleve,
    /// Checked, recorded, but does not validate.
    Faible,
}

/// Which identity document types validate an identity. Configurable; the default follows FR Core
/// `FRCoreValueSetModeValidationIdentityINS` (high) and IHE PAM FR ZFD-7 (low) (`ins.md` §3.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustPolicy {
    entries: Vec<(String, TrustLevel)>,
}

impl Default for TrustPolicy {
    fn default() -> Self {
        let high = [
            "CN", "PA", "CS", "eCN", "IN", "AV", "LECV", "AN", "LE", "CC", "CIMS", "ANCV",
        ];
        let low = ["CE", "CM", "PC", "TC", "DC", "AC", "IE"];
        Self {
            entries: high
                .iter()
                .map(|c| ((*c).to_owned(), TrustLevel::Eleve))
                .chain(low.iter().map(|c| ((*c).to_owned(), TrustLevel::Faible)))
                .collect(),
        }
    }
}

impl TrustPolicy {
    /// An empty policy (every type unknown).
    pub fn empty() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
    /// Adds or replaces a document type.
    pub fn set(&mut self, code: &str, level: TrustLevel) {
        match self.entries.iter_mut().find(|(c, _)| c == code) {
            Some(e) => e.1 = level,
            None => self.entries.push((code.to_owned(), level)),
        }
    }
    /// The trust level of a type, if known.
    pub fn level(&self, code: &str) -> Option<TrustLevel> {
        self.entries
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, l)| *l)
    }
    /// Every known type.
    pub fn entries(&self) -> &[(String, TrustLevel)] {
        &self.entries
    }
}

/// An identity document checked by a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityDocument {
    /// Type code (CN, PA...).
    pub code: String,
    /// Its trust level under the policy in force when it was checked.
    pub trust: TrustLevel,
    /// When it was checked.
    pub checked_at: DateTime<Utc>,
    /// Who checked it.
    pub checked_by: String,
}

/// An INS retrieved from INSi, with the traits INSi returned (kept verbatim).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrievedIns {
    /// INSACTIF.
    pub ins: Ins,
    /// INSHISTO.
    pub history: Vec<Ins>,
    /// When INSi returned it.
    pub retrieved_at: DateTime<Utc>,
}

/// What a history entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// The status changed (`from` is None at creation).
    Status {
        /// Old status.
        from: Option<IdentityStatus>,
        /// New status.
        to: IdentityStatus,
    },
    /// An attribute was set or cleared.
    Attribute {
        /// Which.
        attribute: Attribute,
        /// New value.
        value: bool,
    },
    /// An INS was retrieved from INSi.
    InsRetrieved,
    /// The INS was dropped (strict trait edited: RNIV rule 27; identity made douteuse/fictive).
    InsDropped,
    /// Strict traits were edited.
    TraitsEdited,
    /// An identity document was checked.
    DocumentChecked {
        /// Document type code.
        code: String,
    },
}

/// One entry of the RNIV history (rule 21: old, new, when, who, why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (user id or RPPS).
    pub by: String,
    /// Why.
    pub reason: String,
    /// What changed.
    pub change: Change,
}

/// What an operation on a record did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The status change, if any: (old, new).
    pub status: Option<(IdentityStatus, IdentityStatus)>,
    /// Whether the INS was dropped (the host must warn the user and tell its correspondents:
    /// PAM FR A47).
    pub ins_dropped: bool,
}

/// A patient identity as the RNIV sees it.
///
/// Serialisable (for storage); on reading, the status is derived again from the facts the record
/// holds, never taken from the stored value.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "StoredRecord", into = "StoredRecord")]
pub struct IdentityRecord {
    local_id: String,
    traits: TraitsStricts,
    complementaires: TraitsComplementaires,
    attributes: Attributes,
    ins: Option<RetrievedIns>,
    documents: Vec<IdentityDocument>,
    status: IdentityStatus,
    history: Vec<HistoryEntry>,
}

/// The stored form of an [`IdentityRecord`].
#[derive(Serialize, Deserialize)]
struct StoredRecord {
    local_id: String,
    traits: TraitsStricts,
    #[serde(default)]
    complementaires: TraitsComplementaires,
    #[serde(default)]
    attributes: Attributes,
    ins: Option<RetrievedIns>,
    #[serde(default)]
    documents: Vec<IdentityDocument>,
    status: IdentityStatus,
    #[serde(default)]
    history: Vec<HistoryEntry>,
}

impl From<IdentityRecord> for StoredRecord {
    fn from(r: IdentityRecord) -> Self {
        Self {
            local_id: r.local_id,
            traits: r.traits,
            complementaires: r.complementaires,
            attributes: r.attributes,
            ins: r.ins,
            documents: r.documents,
            status: r.status,
            history: r.history,
        }
    }
}

impl From<StoredRecord> for IdentityRecord {
    fn from(s: StoredRecord) -> Self {
        let mut r = IdentityRecord {
            local_id: s.local_id,
            traits: s.traits,
            complementaires: s.complementaires,
            attributes: s.attributes,
            ins: s.ins,
            documents: s.documents,
            status: s.status,
            history: s.history,
        };
        // Douteuse and fictive never together; an INS never kept beside them (EXI SI 09).
        if r.attributes.douteuse && r.attributes.fictive {
            r.attributes.fictive = false;
        }
        if r.attributes.blocks_upgrade() {
            r.ins = None;
        }
        r.status = r.derived_status();
        r
    }
}

const EXI_SI_09: &str = "EXI SI 09";

impl IdentityRecord {
    /// Creates a provisoire identity.
    pub fn new(
        local_id: impl Into<String>,
        traits: TraitsStricts,
        complementaires: TraitsComplementaires,
        by: &str,
    ) -> Self {
        let mut r = Self {
            local_id: local_id.into(),
            traits,
            complementaires,
            attributes: Attributes::default(),
            ins: None,
            documents: Vec::new(),
            status: IdentityStatus::Provisoire,
            history: Vec::new(),
        };
        r.log(
            by,
            "création",
            Change::Status {
                from: None,
                to: IdentityStatus::Provisoire,
            },
        );
        r
    }

    fn log(&mut self, by: &str, reason: &str, change: Change) {
        self.history.push(HistoryEntry {
            at: Utc::now(),
            by: by.to_owned(),
            reason: reason.to_owned(),
            change,
        });
    }

    fn derived_status(&self) -> IdentityStatus {
        if self.attributes.blocks_upgrade() {
            return IdentityStatus::Provisoire;
        }
        let high = self.documents.iter().any(|d| d.trust == TrustLevel::Eleve);
        match (self.ins.is_some(), high) {
            (false, false) => IdentityStatus::Provisoire,
            (true, false) => IdentityStatus::Recuperee,
            (false, true) => IdentityStatus::Validee,
            (true, true) => IdentityStatus::Qualifiee,
        }
    }

    fn settle(&mut self, by: &str, reason: &str, mut outcome: Outcome) -> Outcome {
        let new = self.derived_status();
        if new != self.status {
            let old = self.status;
            self.status = new;
            self.log(
                by,
                reason,
                Change::Status {
                    from: Some(old),
                    to: new,
                },
            );
            outcome.status = Some((old, new));
        }
        outcome
    }

    fn drop_ins(&mut self, by: &str, reason: &str) -> bool {
        if self.ins.take().is_some() {
            self.log(by, reason, Change::InsDropped);
            tracing::warn!(
                target: "segur::rniv",
                "INS dropped from a local identity ({reason}); correspondents must be told"
            );
            true
        } else {
            false
        }
    }

    /// The host's local identifier (IPP).
    pub fn local_id(&self) -> &str {
        &self.local_id
    }
    /// The current status.
    pub fn status(&self) -> IdentityStatus {
        self.status
    }
    /// The attributes.
    pub fn attributes(&self) -> Attributes {
        self.attributes
    }
    /// The strict traits (INSi's, verbatim, once an INS has been retrieved).
    pub fn traits(&self) -> &TraitsStricts {
        &self.traits
    }
    /// The traits complémentaires.
    pub fn complementaires(&self) -> &TraitsComplementaires {
        &self.complementaires
    }
    /// The INS retrieved from INSi, for display only: to transmit it, use [`Self::qualified`].
    pub fn retrieved_ins(&self) -> Option<&RetrievedIns> {
        self.ins.as_ref()
    }
    /// The checked identity documents.
    pub fn documents(&self) -> &[IdentityDocument] {
        &self.documents
    }
    /// The full history (rule 21).
    pub fn history(&self) -> &[HistoryEntry] {
        &self.history
    }

    /// The INSi query for this identity. Refused for a douteuse or fictive identity (EXI SI 09).
    pub fn insi_query(&self) -> Result<TraitsQuery> {
        if self.attributes.blocks_upgrade() {
            return Err(InsError::Rniv {
                rule: EXI_SI_09,
                detail: "an identité douteuse or fictive cannot be sent to INSi",
            });
        }
        Ok(TraitsQuery::from_traits(&self.traits))
    }

    /// Records an INSi result (CR 00): the INS is kept with INSi's traits, verbatim, replacing the
    /// local strict traits; provisoire → récupérée, validée → qualifiée. Refused for a douteuse or
    /// fictive identity (EXI SI 09).
    pub fn apply_insi(&mut self, found: &InsiIdentity, by: &str) -> Result<Outcome> {
        if self.attributes.blocks_upgrade() {
            return Err(InsError::Rniv {
                rule: EXI_SI_09,
                detail: "an identité douteuse or fictive cannot take an INSi result",
            });
        }
        self.traits = found.traits().clone();
        self.ins = Some(RetrievedIns {
            ins: found.ins().clone(),
            history: found.history().to_vec(),
            retrieved_at: Utc::now(),
        });
        self.log(by, "téléservice INSi", Change::InsRetrieved);
        Ok(self.settle(by, "téléservice INSi", Outcome::default()))
    }

    /// Records a checked identity document. A high-trust one validates the identity
    /// (provisoire → validée, récupérée → qualifiée), unless it is douteuse or fictive, in which
    /// case the document is recorded and the status stays provisoire (EXI SI 09). Unknown types
    /// are refused.
    pub fn add_document(&mut self, code: &str, policy: &TrustPolicy, by: &str) -> Result<Outcome> {
        let trust = policy.level(code).ok_or(InsError::Rniv {
            rule: "RNIV identity documents",
            detail: "unknown identity document type (not in the trust policy)",
        })?;
        self.documents.push(IdentityDocument {
            code: code.to_owned(),
            trust,
            checked_at: Utc::now(),
            checked_by: by.to_owned(),
        });
        self.log(
            by,
            "contrôle d'un justificatif d'identité",
            Change::DocumentChecked {
                code: code.to_owned(),
            },
        );
        Ok(self.settle(by, "justificatif d'identité", Outcome::default()))
    }

    /// Sets or clears an attribute. Douteuse and fictive never go together; setting either drops
    /// the INS and keeps the identity provisoire (EXI SI 09).
    pub fn set_attribute(
        &mut self,
        attribute: Attribute,
        value: bool,
        by: &str,
        reason: &str,
    ) -> Result<Outcome> {
        if self.attributes.get(attribute) == value {
            return Ok(Outcome::default());
        }
        if value
            && ((attribute == Attribute::Douteuse && self.attributes.fictive)
                || (attribute == Attribute::Fictive && self.attributes.douteuse))
        {
            return Err(InsError::Rniv {
                rule: "RNIV attributes",
                detail: "an identity cannot be both douteuse and fictive",
            });
        }
        self.attributes.set(attribute, value);
        self.log(by, reason, Change::Attribute { attribute, value });
        let mut outcome = Outcome::default();
        if value && attribute != Attribute::Homonyme {
            outcome.ins_dropped = self.drop_ins(by, reason);
        }
        Ok(self.settle(by, reason, outcome))
    }

    /// Edits the strict traits. Those of a récupérée or qualifiée identity are locked (RNIV rule
    /// 26): the edit is refused unless `confirm_downgrade` is true, in which case the INS is
    /// dropped and the identity downgraded (rule 27: récupérée → provisoire, qualifiée →
    /// validée), and [`Outcome::ins_dropped`] tells the host to warn the user.
    pub fn edit_traits(
        &mut self,
        traits: TraitsStricts,
        by: &str,
        reason: &str,
        confirm_downgrade: bool,
    ) -> Result<Outcome> {
        if traits == self.traits {
            return Ok(Outcome::default());
        }
        let mut outcome = Outcome::default();
        if self.ins.is_some() {
            if !confirm_downgrade {
                return Err(InsError::Rniv {
                    rule: "RNIV rule 26",
                    detail: "the strict traits of an identity with an INS retrieved from INSi are locked; confirm the downgrade to edit them",
                });
            }
            outcome.ins_dropped = self.drop_ins(by, reason);
        }
        self.traits = traits;
        self.log(by, reason, Change::TraitsEdited);
        Ok(self.settle(by, reason, outcome))
    }

    /// Edits the traits complémentaires (never locked).
    pub fn edit_complementaires(&mut self, c: TraitsComplementaires) {
        self.complementaires = c;
    }

    /// The identity as allowed to leave the process with its INS (RNIV rule 28, EXI SI 08):
    /// only a qualifiée identity.
    pub fn qualified(&self) -> Result<QualifiedIdentity> {
        match (&self.ins, self.status) {
            (Some(r), IdentityStatus::Qualifiee) => Ok(QualifiedIdentity {
                local_id: self.local_id.clone(),
                ins: r.ins.clone(),
                history: r.history.clone(),
                traits: self.traits.clone(),
                complementaires: self.complementaires.clone(),
            }),
            _ => Err(InsError::Rniv {
                rule: "RNIV rule 28",
                detail: "only a qualifiée identity may transmit its INS",
            }),
        }
    }
}

/// A qualified identity: the only type from which an INS can be sent (RNIV rule 28). It can only
/// be obtained from [`IdentityRecord::qualified`]; the crates that transmit an INS (CDA, DMP,
/// MSSanté) require it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifiedIdentity {
    local_id: String,
    ins: Ins,
    history: Vec<Ins>,
    traits: TraitsStricts,
    complementaires: TraitsComplementaires,
}

impl QualifiedIdentity {
    /// The INS to transmit.
    pub fn ins(&self) -> &Ins {
        &self.ins
    }
    /// The INS history (INSHISTO).
    pub fn ins_history(&self) -> &[Ins] {
        &self.history
    }
    /// The strict traits (INSi's).
    pub fn traits(&self) -> &TraitsStricts {
        &self.traits
    }
    /// The traits complémentaires.
    pub fn complementaires(&self) -> &TraitsComplementaires {
        &self.complementaires
    }
    /// The local identifier (IPP).
    pub fn local_id(&self) -> &str {
        &self.local_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matricule::{InsOid, Matricule};
    use crate::traits::{Cog, DateNaissance, Sexe};

    fn traits() -> TraitsStricts {
        TraitsStricts::from_insi(
            "ADRDEUX",
            "LAURENT",
            Sexe::M,
            DateNaissance::parse("1981-01-01").unwrap(),
            None,
        )
    }

    fn found() -> InsiIdentity {
        InsiIdentity::new(
            Ins {
                matricule: Matricule::received("1810163220751", Some("40")).unwrap(),
                oid: InsOid::Nir,
            },
            vec![],
            TraitsStricts::from_insi(
                "ADRDEUX",
                "LAURENT",
                Sexe::M,
                DateNaissance::parse("1981-01-01").unwrap(),
                Some(Cog::parse("63220").unwrap()),
            ),
        )
    }

    #[test]
    fn provisoire_to_qualifiee_both_orders() {
        let p = TrustPolicy::default();
        let mut a = IdentityRecord::new("IPP1", traits(), Default::default(), "u1");
        assert!(a.qualified().is_err());
        let o = a.apply_insi(&found(), "u1").unwrap();
        assert_eq!(
            o.status,
            Some((IdentityStatus::Provisoire, IdentityStatus::Recuperee))
        );
        assert!(a.qualified().is_err());
        let o = a.add_document("CN", &p, "u1").unwrap();
        assert_eq!(
            o.status,
            Some((IdentityStatus::Recuperee, IdentityStatus::Qualifiee))
        );
        assert_eq!(
            a.qualified().unwrap().ins().matricule.to_15(),
            "181016322075140"
        );
        assert_eq!(
            a.traits().lieu_naissance.as_ref().unwrap().as_str(),
            "63220"
        );

        let mut b = IdentityRecord::new("IPP2", traits(), Default::default(), "u1");
        b.add_document("PA", &p, "u1").unwrap();
        assert_eq!(b.status(), IdentityStatus::Validee);
        b.apply_insi(&found(), "u1").unwrap();
        assert_eq!(b.status(), IdentityStatus::Qualifiee);
        // Rule 21: creation + 2 status changes recorded with who and why.
        let statuses: Vec<_> = b
            .history()
            .iter()
            .filter(|h| matches!(h.change, Change::Status { .. }))
            .collect();
        assert_eq!(statuses.len(), 3);
        assert!(statuses
            .iter()
            .all(|h| h.by == "u1" && !h.reason.is_empty()));
    }

    #[test]
    fn stored_records_round_trip_and_status_is_derived() {
        let mut a = IdentityRecord::new("IPP", traits(), Default::default(), "u");
        a.apply_insi(&found(), "u").unwrap();
        a.add_document("CN", &TrustPolicy::default(), "u").unwrap();
        let json = serde_json::to_string(&a).unwrap();
        let b: IdentityRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(b.status(), IdentityStatus::Qualifiee);
        assert_eq!(b.history().len(), a.history().len());
        assert_eq!(b.qualified().unwrap(), a.qualified().unwrap());
        // A stored status is never trusted: remove the document, keep "QUAL".
        let forged = json.replace("\"documents\":[{", "\"x\":[{");
        let c: IdentityRecord = serde_json::from_str(&forged).unwrap();
        assert_eq!(c.status(), IdentityStatus::Recuperee);
        assert!(c.qualified().is_err());
    }

    #[test]
    fn low_trust_document_does_not_validate() {
        let mut a = IdentityRecord::new("IPP", traits(), Default::default(), "u");
        a.add_document("CE", &TrustPolicy::default(), "u").unwrap();
        assert_eq!(a.status(), IdentityStatus::Provisoire);
        assert!(a.add_document("XYZ", &TrustPolicy::default(), "u").is_err());
    }

    #[test]
    fn douteuse_and_fictive_block_insi_and_upgrade() {
        let p = TrustPolicy::default();
        let mut a = IdentityRecord::new("IPP", traits(), Default::default(), "u");
        a.set_attribute(Attribute::Douteuse, true, "u", "doute")
            .unwrap();
        assert!(matches!(
            a.insi_query(),
            Err(InsError::Rniv {
                rule: "EXI SI 09",
                ..
            })
        ));
        assert!(a.apply_insi(&found(), "u").is_err());
        a.add_document("CN", &p, "u").unwrap();
        assert_eq!(a.status(), IdentityStatus::Provisoire);
        assert!(a.set_attribute(Attribute::Fictive, true, "u", "x").is_err());
        a.set_attribute(Attribute::Douteuse, false, "u", "levée")
            .unwrap();
        assert_eq!(a.status(), IdentityStatus::Validee);
    }

    #[test]
    fn editing_a_locked_trait_downgrades_and_drops_the_ins() {
        let p = TrustPolicy::default();
        let mut a = IdentityRecord::new("IPP", traits(), Default::default(), "u");
        a.apply_insi(&found(), "u").unwrap();
        a.add_document("CN", &p, "u").unwrap();
        let mut t = a.traits().clone();
        t.nom_naissance = "ADRTROIS".into();
        assert!(matches!(
            a.edit_traits(t.clone(), "u", "correction", false),
            Err(InsError::Rniv {
                rule: "RNIV rule 26",
                ..
            })
        ));
        assert_eq!(a.status(), IdentityStatus::Qualifiee);
        let o = a.edit_traits(t, "u", "correction", true).unwrap();
        assert!(o.ins_dropped);
        assert_eq!(
            o.status,
            Some((IdentityStatus::Qualifiee, IdentityStatus::Validee))
        );
        assert!(a.retrieved_ins().is_none() && a.qualified().is_err());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insi,
        Doc(&'static str),
        Attr(Attribute, bool),
        Edit(bool),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Op::Insi),
            prop_oneof![Just("CN"), Just("CE"), Just("PA")].prop_map(Op::Doc),
            (
                prop_oneof![
                    Just(Attribute::Douteuse),
                    Just(Attribute::Fictive),
                    Just(Attribute::Homonyme)
                ],
                any::<bool>()
            )
                .prop_map(|(a, v)| Op::Attr(a, v)),
            any::<bool>().prop_map(Op::Edit),
        ]
    }

    proptest::proptest! {
        /// No sequence of operations yields a transmissible INS from a non-qualified identity.
        #[test]
        fn only_qualified_identities_transmit(ops in proptest::collection::vec(op(), 0..30)) {
            let p = TrustPolicy::default();
            let mut r = IdentityRecord::new("IPP", traits(), Default::default(), "u");
            for (i, o) in ops.into_iter().enumerate() {
                let _ = match o {
                    Op::Insi => r.apply_insi(&found(), "u"),
                    Op::Doc(c) => r.add_document(c, &p, "u"),
                    Op::Attr(a, v) => r.set_attribute(a, v, "u", "test"),
                    Op::Edit(confirm) => {
                        let mut t = r.traits().clone();
                        t.nom_naissance = format!("NOM{}", if i % 2 == 0 { "A" } else { "B" });
                        r.edit_traits(t, "u", "edit", confirm)
                    }
                };
                let a = r.attributes();
                proptest::prop_assert!(!(a.douteuse && a.fictive));
                let transmissible = r.qualified().is_ok();
                proptest::prop_assert_eq!(transmissible, r.status() == IdentityStatus::Qualifiee);
                if transmissible {
                    proptest::prop_assert!(!a.douteuse && !a.fictive);
                    proptest::prop_assert!(r.retrieved_ins().is_some());
                    proptest::prop_assert!(r.documents().iter().any(|d| d.trust == TrustLevel::Eleve));
                }
                if a.douteuse || a.fictive {
                    proptest::prop_assert_eq!(r.status(), IdentityStatus::Provisoire);
                    proptest::prop_assert!(r.insi_query().is_err());
                }
                // Every status change is in the history (rule 21).
                let last = r.history().iter().rev().find_map(|h| match h.change {
                    Change::Status { to, .. } => Some(to),
                    _ => None,
                });
                proptest::prop_assert_eq!(last, Some(r.status()));
            }
        }
    }
}
