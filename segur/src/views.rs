//! Plain data crossing the surfaces (JSON in C/Delphi, classes in Python, records in Kotlin and
//! Swift). Each has a JSON Schema (schemars) published in `include/`.

use schemars::JsonSchema;
use segur_ins_core::insi::{InsiIdentity, InsiReply, StrategyOutcome};
use segur_ins_core::rniv::{Change, TrustLevel};
use segur_ins_core::{IdentityRecord, Ins, KeyStatus, Matricule, TraitsStricts};
use serde::{Deserialize, Serialize};

/// Who acts: recorded with every change and exchange.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Actor {
    /// User identifier in the host software.
    pub user: String,
    /// RPPS of the practitioner, when a practitioner acts.
    #[serde(default)]
    pub rpps: Option<String>,
    /// FINESS of the structure.
    #[serde(default)]
    pub finess: Option<String>,
}

impl Actor {
    /// An actor by user id only.
    pub fn user(user: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            ..Self::default()
        }
    }
}

/// A checked matricule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MatriculeInfo {
    /// 15 characters (number + key).
    pub matricule: String,
    /// 13 characters.
    pub number: String,
    /// 2 digits.
    pub key: String,
    /// `valid` (given and right), `computed` (not given), `mismatch` (received, wrong).
    pub key_status: String,
    /// The right key when it mismatches.
    pub expected_key: Option<String>,
}

impl From<&Matricule> for MatriculeInfo {
    fn from(m: &Matricule) -> Self {
        let (status, expected) = match m.key_status() {
            KeyStatus::Valid => ("valid", None),
            KeyStatus::Computed => ("computed", None),
            KeyStatus::Mismatch { expected } => ("mismatch", Some(format!("{expected:02}"))),
        };
        Self {
            matricule: m.to_15(),
            number: m.number().to_owned(),
            key: m.key_str(),
            key_status: status.to_owned(),
            expected_key: expected,
        }
    }
}

/// An INS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InsView {
    /// Matricule details.
    #[serde(flatten)]
    pub matricule: MatriculeInfo,
    /// OID.
    pub oid: String,
}

impl From<&Ins> for InsView {
    fn from(i: &Ins) -> Self {
        Self {
            matricule: (&i.matricule).into(),
            oid: i.oid.as_str().to_owned(),
        }
    }
}

/// Strict traits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TraitsView {
    /// Nom de naissance.
    pub nom_naissance: String,
    /// Prénoms de naissance.
    pub prenoms: Vec<String>,
    /// Premier prénom de naissance.
    pub premier_prenom: String,
    /// M, F, I.
    pub sexe: String,
    /// Date lunaire YYYY-MM-DD.
    pub date_naissance: String,
    /// COG.
    pub lieu_naissance: Option<String>,
}

impl From<&TraitsStricts> for TraitsView {
    fn from(t: &TraitsStricts) -> Self {
        Self {
            nom_naissance: t.nom_naissance.clone(),
            prenoms: t.prenoms.clone(),
            premier_prenom: t.premier_prenom.clone(),
            sexe: t.sexe.as_str().to_owned(),
            date_naissance: t.date_naissance.raw().to_owned(),
            lieu_naissance: t.lieu_naissance.as_ref().map(|c| c.as_str().to_owned()),
        }
    }
}

/// Typed identity input (normalised before use).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IdentityInput {
    /// Nom de naissance as typed.
    pub nom_naissance: String,
    /// Prénoms de naissance, space separated.
    pub prenoms: String,
    /// Premier prénom when it differs from the first word of `prenoms`.
    #[serde(default)]
    pub premier_prenom: Option<String>,
    /// YYYY-MM-DD.
    pub date_naissance: String,
    /// M, F or I.
    pub sexe: String,
    /// COG.
    #[serde(default)]
    pub lieu_naissance: Option<String>,
    /// Nom utilisé.
    #[serde(default)]
    pub nom_utilise: Option<String>,
    /// Prénom utilisé.
    #[serde(default)]
    pub prenom_utilise: Option<String>,
}

/// An identity document checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DocumentView {
    /// Type code (CN, PA...).
    pub code: String,
    /// `eleve` or `faible`.
    pub trust: String,
    /// When.
    pub checked_at: String,
    /// Who.
    pub checked_by: String,
}

/// One RNIV history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryView {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
    /// `status`, `attribute`, `ins_retrieved`, `ins_dropped`, `traits_edited`,
    /// `document_checked`.
    pub change: String,
    /// Old status code, for status changes.
    pub from_status: Option<String>,
    /// New status code, for status changes.
    pub to_status: Option<String>,
    /// Attribute or document code, when relevant.
    pub detail: Option<String>,
}

/// RNIV attributes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AttributesView {
    /// Douteuse.
    pub douteuse: bool,
    /// Fictive.
    pub fictive: bool,
    /// Homonyme.
    pub homonyme: bool,
}

/// An identity record as the host sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IdentityView {
    /// Local identifier (IPP).
    pub local_id: String,
    /// PROV, RECUP, VALI, QUAL.
    pub status: String,
    /// provisoire, récupérée, validée, qualifiée.
    pub status_label: String,
    /// Attributes.
    pub attributes: AttributesView,
    /// Strict traits.
    pub traits: TraitsView,
    /// Nom utilisé.
    pub nom_utilise: Option<String>,
    /// Prénom utilisé.
    pub prenom_utilise: Option<String>,
    /// The INS retrieved from INSi, for display (récupérée or qualifiée).
    pub ins: Option<InsView>,
    /// INSHISTO.
    pub ins_history: Vec<InsView>,
    /// The INS that may be transmitted: present only for a qualifiée identity (RNIV rule 28).
    pub transmissible_ins: Option<InsView>,
    /// Identity documents.
    pub documents: Vec<DocumentView>,
    /// RNIV history (rule 21).
    pub history: Vec<HistoryView>,
}

impl From<&IdentityRecord> for IdentityView {
    fn from(r: &IdentityRecord) -> Self {
        let a = r.attributes();
        Self {
            local_id: r.local_id().to_owned(),
            status: r.status().code().to_owned(),
            status_label: r.status().label().to_owned(),
            attributes: AttributesView {
                douteuse: a.douteuse,
                fictive: a.fictive,
                homonyme: a.homonyme,
            },
            traits: r.traits().into(),
            nom_utilise: r.complementaires().nom_utilise.clone(),
            prenom_utilise: r.complementaires().prenom_utilise.clone(),
            ins: r.retrieved_ins().map(|i| (&i.ins).into()),
            ins_history: r
                .retrieved_ins()
                .map(|i| i.history.iter().map(Into::into).collect())
                .unwrap_or_default(),
            transmissible_ins: r.qualified().ok().map(|q| q.ins().into()),
            documents: r
                .documents()
                .iter()
                .map(|d| DocumentView {
                    code: d.code.clone(),
                    trust: match d.trust {
                        TrustLevel::Eleve => "eleve",
                        TrustLevel::Faible => "faible",
                    }
                    .into(),
                    checked_at: d.checked_at.to_rfc3339(),
                    checked_by: d.checked_by.clone(),
                })
                .collect(),
            history: r
                .history()
                .iter()
                .map(|h| {
                    let (change, from, to, detail) = match &h.change {
                        Change::Status { from, to } => (
                            "status",
                            from.map(|f| f.code().to_owned()),
                            Some(to.code().to_owned()),
                            None,
                        ),
                        Change::Attribute { attribute, value } => (
                            "attribute",
                            None,
                            None,
                            Some(format!("{}={value}", attribute.code())),
                        ),
                        Change::InsRetrieved => ("ins_retrieved", None, None, None),
                        Change::InsDropped => ("ins_dropped", None, None, None),
                        Change::TraitsEdited => ("traits_edited", None, None, None),
                        Change::DocumentChecked { code } => {
                            ("document_checked", None, None, Some(code.clone()))
                        }
                    };
                    HistoryView {
                        at: h.at.to_rfc3339(),
                        by: h.by.clone(),
                        reason: h.reason.clone(),
                        change: change.into(),
                        from_status: from,
                        to_status: to,
                        detail,
                    }
                })
                .collect(),
        }
    }
}

/// The identity INSi returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InsiIdentityView {
    /// INSACTIF.
    pub ins: InsView,
    /// INSHISTO.
    pub history: Vec<InsView>,
    /// TIQ, verbatim.
    pub traits: TraitsView,
}

impl From<&InsiIdentity> for InsiIdentityView {
    fn from(i: &InsiIdentity) -> Self {
        Self {
            ins: i.ins().into(),
            history: i.history().iter().map(Into::into).collect(),
            traits: i.traits().into(),
        }
    }
}

/// One INSi call of a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AttemptView {
    /// First names sent.
    pub prenoms: Vec<String>,
    /// Whether the COG was sent.
    pub with_cog: bool,
    /// CR.
    pub code: String,
}

/// The result of an INSi search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InsiResultView {
    /// CR: 00, 01, 02.
    pub code: String,
    /// LibelleCR.
    pub libelle: String,
    /// The identity, with CR 00.
    pub identity: Option<InsiIdentityView>,
    /// The calls made (CNDA 2.07 strategy).
    pub attempts: Vec<AttemptView>,
}

impl From<&StrategyOutcome> for InsiResultView {
    fn from(o: &StrategyOutcome) -> Self {
        let mut v = InsiResultView::from(&o.reply);
        v.attempts = o
            .attempts
            .iter()
            .map(|a| AttemptView {
                prenoms: a.prenoms.clone(),
                with_cog: a.with_cog,
                code: a.code.code().to_owned(),
            })
            .collect();
        v
    }
}

impl From<&InsiReply> for InsiResultView {
    fn from(r: &InsiReply) -> Self {
        Self {
            code: r.code.code().to_owned(),
            libelle: r.libelle.clone(),
            identity: r.identity.as_ref().map(Into::into),
            attempts: Vec::new(),
        }
    }
}

/// The outcome of searching INSi for a recorded identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IdentitySearchView {
    /// The INSi result.
    pub result: InsiResultView,
    /// The identity after the result was applied.
    pub identity: IdentityView,
}

/// The professional acting on the DMP: VIHF subject (`dmp.md` §4) and XDS author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Practitioner {
    /// National id (IdNat_PS): `8` + RPPS, `0` + ADELI, ... (DMP/AIRS.06: never a generic one).
    pub id_nat: String,
    /// Family name.
    pub nom: String,
    /// First name.
    pub prenom: String,
    /// Profession (TRE_G15, e.g. `10` médecin), or `AUTOMATE`.
    pub profession: String,
    /// Savoir-faire (TRE_R01, e.g. `SM26`), for doctors and pharmacists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specialty: Option<String>,
    /// `DIRECTE` (CPS), `INDIRECTE` (default) or `INDIRECTE_RENFORCEE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<String>,
    /// Purpose of use of the call: `normal` (default), `bris_de_glace`, `centre_15`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}
