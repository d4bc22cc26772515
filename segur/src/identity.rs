//! Identities through the facade: matricule checks, traits normalisation, identity records with
//! their RNIV statuses and history (kept in the journal, keyed by the host's local id), INSi
//! searches (every call journaled, failures included).

use segur_ins_core::insi::{parse_reply, Attempt, StrategyOutcome, TraitsQuery};
use segur_ins_core::traits::{normalize_name, TraitsInput};
use segur_ins_core::{
    IdentityRecord, IdentityStatus, Matricule, TraitsComplementaires, TraitsStricts,
};
use segur_net::trace::{Exchange, Outcome};
use segur_net::xml::XmlLimits;

use crate::error::{Result, SegurError};
use crate::journal;
use crate::views::{
    Actor, IdentityInput, IdentitySearchView, IdentityView, InsiResultView, MatriculeInfo,
};
use crate::{Attribute, Field, Segur};

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

/// Reads a recorded INSi reply (a whole SOAP envelope, e.g. from a trace folder) as a search
/// result, with the same parser as a live call: a SOAP fault is an error carrying the INSi codes.
/// Nothing is sent and nothing is journaled.
pub fn insi_replay(response: &[u8]) -> Result<InsiResultView> {
    let reply = parse_reply(response, &XmlLimits::default())?;
    Ok((&reply).into())
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
    pub(crate) fn lock(&self) -> Result<std::sync::MutexGuard<'_, ()>> {
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
        let (outcome, exchanges) = self.run_search(&query, false).await;
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
            .map(|i| i.ins().matricule.to_15());
        let rows = self.journal_rows(&exchanges, Some(local_id), ins.as_deref(), qualified, actor);
        self.inner.journal.commit(&rows, Some((&r, h0, false)))?;
        let outcome = outcome?;
        applied?;
        Ok(IdentitySearchView {
            result: (&outcome).into(),
            identity: (&r).into(),
        })
    }

    /// Searches INSi with typed traits (CNDA 2.07 strategy), without a record (journaled
    /// without patient).
    pub async fn insi_search(
        &self,
        input: &IdentityInput,
        confirm: bool,
        actor: &Actor,
    ) -> Result<InsiResultView> {
        self.search_without_record(input, confirm, false, actor)
            .await
    }

    /// One INSi call with typed traits (no CNDA 2.07 strategy: the first names and the COG are
    /// sent as given), without a record; journaled like any other exchange.
    pub async fn insi_search_once(
        &self,
        input: &IdentityInput,
        confirm: bool,
        actor: &Actor,
    ) -> Result<InsiResultView> {
        self.search_without_record(input, confirm, true, actor)
            .await
    }

    async fn search_without_record(
        &self,
        input: &IdentityInput,
        confirm: bool,
        once: bool,
        actor: &Actor,
    ) -> Result<InsiResultView> {
        let (t, _) = traits_of(input, confirm)?;
        let (outcome, exchanges) = self.run_search(&TraitsQuery::from_traits(&t), once).await;
        let ins = outcome
            .as_ref()
            .ok()
            .and_then(|o| o.reply.identity.as_ref())
            .map(|i| i.ins().matricule.to_15());
        let rows = self.journal_rows(&exchanges, None, ins.as_deref(), false, actor);
        self.inner.journal.commit(&rows, None)?;
        Ok((&outcome?).into())
    }

    /// The CNDA 2.07 strategy, or one call (`once`), traced for the journal.
    async fn run_search(
        &self,
        q: &TraitsQuery,
        once: bool,
    ) -> (Result<StrategyOutcome>, Vec<Exchange>) {
        if let Err(e) = self.check_process() {
            return (Err(e), Vec::new());
        }
        let (sink, tee) = self.trace_sinks();
        let client = self.inner.insi.with_trace(tee);
        let outcome = if once {
            client.search_traits(q).await.map(|reply| StrategyOutcome {
                attempts: vec![Attempt {
                    prenoms: q.prenoms.clone(),
                    with_cog: q.lieu_naissance.is_some(),
                    code: reply.code.clone(),
                }],
                reply,
            })
        } else {
            client.search_strategy(q).await
        };
        (outcome.map_err(SegurError::from), sink.exchanges())
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
                let ok = status == "ok";
                journal::NewExchange {
                    practitioner: actor.rpps.clone(),
                    structure: actor.finess.clone(),
                    patient_local_id: patient.map(str::to_owned),
                    ins: ins.filter(|_| ok).map(str::to_owned),
                    ins_qualified: qualified && ok,
                    ..journal::NewExchange::from_trace(x, status, code)
                }
            })
            .collect()
    }
}
