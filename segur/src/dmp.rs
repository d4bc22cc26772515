//! The DMP through the facade: the patient is a *local* identity record of the journal (only a
//! qualified one reaches the DMP, RNIV rule 28), the acting professional a [`Practitioner`], and
//! every call is journaled — request, response, duration and outcome, failures included — in the
//! same transaction as its effect on the DMP's rows of the outbox (journal table `outbox`,
//! [`crate::outbox`]), which feeds the manual's "Tableau de bord des échanges MSSanté et DMP".
//!
//! A document given to [`Segur::dmp_send`] is committed to the outbox *before* the network call,
//! so a crash or a failure never loses it; [`Segur::dmp_retry`] sends it again, after reconciling
//! an attempt whose answer was lost (`send`).
//!
//! Modules: `views` (what the surfaces see), `parse` (host input into `segur_dmp` types), `send`
//! (the outbox workflow: send, retry, reconcile, dashboard); the other workflows (TD0.2, TD0.3,
//! ITI-18/43/57) are here.

mod parse;
mod send;
mod views;

pub use views::*;

use chrono::{DateTime, Utc};
use segur_dmp::client::{DmpClient, DmpUser};
use segur_dmp::habilitations::AuthorizationAction;
use segur_dmp::patients::{TraitField, TraitsAcknowledgement, TraitsMismatch};
use segur_dmp::vihf::PurposeOfUse;
use segur_dmp::xds::Masking;
use segur_dmp::DmpError;
use segur_ins_core::QualifiedIdentity;
use segur_net::trace::Exchange;

use crate::error::{Result, SegurError};
use crate::journal::{DmpDocumentStatus, DmpDocumentUpdate, NewExchange};
use crate::views::Practitioner;
use crate::Segur;
pub(crate) use parse::dmp_user;
use parse::{
    availability, consent_of, journal_status, outcome_warnings, stored_codes,
    stored_confidentiality, type_code,
};

/// What one facade call knows of its context, to journal its exchanges.
struct CallContext<'a> {
    local_id: &'a str,
    ins: String,
    practitioner: String,
    structure: Option<String>,
    document_type: Option<String>,
    document_id: Option<String>,
}

impl CallContext<'_> {
    fn rows(&self, exchanges: &[Exchange]) -> Vec<NewExchange> {
        exchanges
            .iter()
            .map(|x| {
                let (status, code) = journal_status(x);
                NewExchange {
                    practitioner: Some(self.practitioner.clone()),
                    structure: self.structure.clone(),
                    patient_local_id: Some(self.local_id.to_owned()),
                    ins: Some(self.ins.clone()),
                    ins_qualified: true,
                    document_type: self.document_type.clone(),
                    document_id: self.document_id.clone(),
                    ..NewExchange::from_trace(x, status, code)
                }
            })
            .collect()
    }
}

// ---- the facade ------------------------------------------------------------------------------

impl Segur {
    /// The DMP client (configured by `[dmp]`).
    fn dmp_client(&self) -> Result<&DmpClient> {
        self.check_process()?;
        self.inner.dmp.as_ref().ok_or_else(|| {
            SegurError::Config("the DMP is not configured (no [dmp] section)".into())
        })
    }

    /// The professional acting by default (`[practitioner]` of the configuration).
    pub fn default_practitioner(&self) -> Option<&Practitioner> {
        self.inner.config.practitioner.as_ref()
    }

    /// The local id of the qualified identity whose INS is `ins` (15 characters): how the CLI
    /// and hosts that key DMP work by INS find the record. Errors: [`SegurError::NotFound`] when
    /// no qualified record has it, [`SegurError::InvalidInput`] when several do (duplicates to
    /// merge first).
    pub fn identity_by_ins(&self, ins: &str) -> Result<String> {
        let m = segur_ins_core::Matricule::parse(ins.trim())?;
        let mut ids = self.inner.journal.qualified_with_ins(&m.to_15())?;
        match ids.len() {
            0 => Err(SegurError::NotFound {
                what: "qualified identity with this INS",
            }),
            1 => Ok(ids.remove(0)),
            _ => Err(SegurError::InvalidInput(
                "several qualified identities share this INS: merge the duplicates first".into(),
            )),
        }
    }

    fn qualified(&self, local_id: &str) -> Result<QualifiedIdentity> {
        Ok(self.identity_record(local_id)?.qualified()?)
    }

    /// The qualified patient, the acting user and purpose, and the journal context of one call.
    fn call<'a>(
        &self,
        local_id: &'a str,
        who: &Practitioner,
    ) -> Result<(QualifiedIdentity, DmpUser, PurposeOfUse, CallContext<'a>)> {
        let patient = self.qualified(local_id)?;
        let (user, purpose) = dmp_user(who)?;
        let ctx = self.context(local_id, who, &patient);
        Ok((patient, user, purpose, ctx))
    }

    fn context<'a>(
        &self,
        local_id: &'a str,
        who: &Practitioner,
        q: &QualifiedIdentity,
    ) -> CallContext<'a> {
        CallContext {
            local_id,
            ins: q.ins().matricule.to_15(),
            practitioner: who.id_nat.clone(),
            structure: self
                .inner
                .config
                .dmp
                .as_ref()
                .map(|d| d.structure.id_nat.clone()),
            document_type: None,
            document_id: None,
        }
    }

    /// Runs a client call with a trace of its own, returns its result and exchanges.
    async fn traced<T, F, Fut>(
        &self,
        f: F,
    ) -> Result<(std::result::Result<T, DmpError>, Vec<Exchange>)>
    where
        F: FnOnce(DmpClient) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, DmpError>>,
    {
        let client = self.dmp_client()?;
        let (sink, tee) = self.trace_sinks();
        let client = client.with_trace(tee);
        let out = f(client).await;
        Ok((out, sink.exchanges()))
    }

    /// TD0.2: does the patient (a qualified identity of the journal) have a DMP, is it closed,
    /// may we feed and consult it. Journaled.
    pub async fn dmp_status(&self, local_id: &str, who: &Practitioner) -> Result<DmpStatusView> {
        let (patient, user, purpose, ctx) = self.call(local_id, who)?;
        let p = patient.clone();
        let (out, xs) = self
            .traced(|c| async move { c.status(user.acting(purpose), &p).await })
            .await?;
        self.inner.journal.dmp_commit(&ctx.rows(&xs), &[])?;
        let ack = self.traits_ack(local_id, &patient)?;
        Ok(DmpStatusView::acknowledged(&out?, &patient, ack.as_ref()))
    }

    /// DMP/CONF.01 "alert and stop feeds on mismatch until confirmed": a TD0.2 now, and the
    /// user's confirmation of the traits mismatch it reports, recorded in the journal (table
    /// `dmp_traits_acks`, with the TD0.2 exchange). [`Segur::dmp_send`] and
    /// [`Segur::dmp_retry`] then send for this patient as long as TD0.2 reports exactly this
    /// mismatch; a different one needs a new confirmation. [`SegurError::InvalidInput`] when
    /// TD0.2 reports no mismatch (nothing to confirm).
    pub async fn dmp_confirm_traits(
        &self,
        local_id: &str,
        who: &Practitioner,
    ) -> Result<DmpTraitsConfirmation> {
        let (patient, user, purpose, ctx) = self.call(local_id, who)?;
        let (out, xs) = self
            .traced(|c| async move { c.status(user.acting(purpose), &patient).await })
            .await?;
        let rows = ctx.rows(&xs);
        let status = match out {
            Ok(s) => s,
            Err(e) => {
                self.inner.journal.dmp_commit(&rows, &[])?;
                return Err(e.into());
            }
        };
        let Some(m) = status.traits_mismatch() else {
            self.inner.journal.dmp_commit(&rows, &[])?;
            return Err(SegurError::InvalidInput(
                "the DMP's traits match the local identity: nothing to confirm".into(),
            ));
        };
        let fields: Vec<&str> = m.field_set().into_iter().map(TraitField::code).collect();
        let at = Utc::now();
        self.inner
            .journal
            .dmp_traits_ack(&rows, local_id, &who.id_nat, &fields, at)?;
        tracing::info!(fields = ?fields, "DMP/CONF.01: traits mismatch confirmed");
        Ok(DmpTraitsConfirmation {
            fields: fields.into_iter().map(str::to_owned).collect(),
            practitioner: who.id_nat.clone(),
            at,
        })
    }

    /// The stored confirmation of a traits mismatch for this patient, as the client takes it.
    fn traits_ack(
        &self,
        local_id: &str,
        patient: &QualifiedIdentity,
    ) -> Result<Option<TraitsAcknowledgement>> {
        let Some(row) = self.inner.journal.dmp_traits_ack_latest(local_id)? else {
            return Ok(None);
        };
        let fields = row
            .fields
            .iter()
            .map(|f| TraitField::from_code(f))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| SegurError::Journal("unknown trait code in dmp_traits_acks".into()))?;
        let at = DateTime::parse_from_rfc3339(&row.at)
            .map(|t| t.to_utc())
            .map_err(|_| SegurError::Journal("bad date in dmp_traits_acks".into()))?;
        Ok(Some(TraitsAcknowledgement::new(
            patient,
            &TraitsMismatch { fields },
            row.practitioner,
            at,
        )))
    }

    /// TD0.3 AJOUT: authorizes the practitioner on the patient's DMP, with the patient's consent
    /// (recorded in the journal with the exchange). Returns our access status afterwards.
    pub async fn dmp_authorize(
        &self,
        local_id: &str,
        who: &Practitioner,
        consent: &DmpConsent,
    ) -> Result<Option<String>> {
        let consent = consent_of(consent)?;
        let mode = consent.mode().code();
        let at = consent.collected_at();
        self.set_authorization(
            local_id,
            who,
            AuthorizationAction::Ajout(consent),
            Some((mode, at)),
        )
        .await
    }

    /// TD0.3 SUPPRESSION: removes the practitioner's authorization.
    pub async fn dmp_revoke(&self, local_id: &str, who: &Practitioner) -> Result<Option<String>> {
        self.set_authorization(local_id, who, AuthorizationAction::Suppression, None)
            .await
    }

    async fn set_authorization(
        &self,
        local_id: &str,
        who: &Practitioner,
        action: AuthorizationAction,
        consent: Option<(&str, DateTime<Utc>)>,
    ) -> Result<Option<String>> {
        let (patient, user, purpose, ctx) = self.call(local_id, who)?;
        let name = match &action {
            AuthorizationAction::Ajout(_) => "AJOUT",
            AuthorizationAction::Suppression => "SUPPRESSION",
        };
        let (out, xs) = self
            .traced(|c| async move {
                c.set_authorization(user.acting(purpose), &patient, action)
                    .await
            })
            .await?;
        let rows = ctx.rows(&xs);
        match &out {
            Ok(_) => {
                self.inner
                    .journal
                    .dmp_consent(&rows, local_id, &who.id_nat, name, consent)?;
            }
            Err(_) => {
                self.inner.journal.dmp_commit(&rows, &[])?;
            }
        }
        Ok(out?.authorization.map(|a| a.code().to_owned()))
    }

    /// `listAuthorizationByPatient`.
    pub async fn dmp_authorizations(
        &self,
        local_id: &str,
        who: &Practitioner,
    ) -> Result<Vec<DmpAuthorizationView>> {
        let (patient, user, purpose, ctx) = self.call(local_id, who)?;
        let (out, xs) = self
            .traced(|c| async move { c.list_authorizations(user.acting(purpose), &patient).await })
            .await?;
        self.inner.journal.dmp_commit(&ctx.rows(&xs), &[])?;
        Ok(out?
            .into_iter()
            .map(|a| DmpAuthorizationView {
                id_nat: a.id_nat,
                nom: a.nom,
                prenom: a.prenom,
                status: a.statut.code().to_owned(),
                from: a.debut.map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string()),
                to: a.fin.map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string()),
            })
            .collect())
    }

    /// ITI-18 FindDocuments: the patient's documents matching `q` (current ones by default).
    pub async fn dmp_find(
        &self,
        local_id: &str,
        who: &Practitioner,
        q: &DmpFindQuery,
    ) -> Result<Vec<DmpEntryView>> {
        let patient = self.qualified(local_id)?;
        let (user, purpose) = dmp_user(who)?;
        let mut query = DmpClient::find_query(&patient);
        for t in &q.type_codes {
            query = query.type_code(type_code(t)?);
        }
        if !q.statuses.is_empty() {
            let statuses = q
                .statuses
                .iter()
                .map(|s| availability(s))
                .collect::<Result<Vec<_>>>()?;
            query = query.statuses(&statuses);
        }
        if q.since.is_some() || q.until.is_some() {
            query = query.created_between(q.since, q.until);
        }
        if let Some(a) = &q.author {
            query = query.author_person(&format!("{}^%", a.trim()));
        }
        let ctx = self.context(local_id, who, &patient);
        let (out, xs) = self
            .traced(|c| async move { c.find(user.acting(purpose), &patient, query).await })
            .await?;
        self.inner.journal.dmp_commit(&ctx.rows(&xs), &[])?;
        let mut entries: Vec<DmpEntryView> = out?.iter().map(Into::into).collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.creation_time));
        Ok(entries)
    }

    /// "Is there a VSM, and of when": the most recent current VSM of the patient's DMP.
    pub async fn dmp_latest_vsm(
        &self,
        local_id: &str,
        who: &Practitioner,
    ) -> Result<Option<DmpEntryView>> {
        let (patient, user, purpose, ctx) = self.call(local_id, who)?;
        let (out, xs) = self
            .traced(|c| async move { c.latest_vsm(user.acting(purpose), &patient).await })
            .await?;
        self.inner.journal.dmp_commit(&ctx.rows(&xs), &[])?;
        Ok(out?.as_ref().map(Into::into))
    }

    /// ITI-43: retrieves a document of the patient's DMP by uniqueId (size and hash checked).
    /// Hand the bytes to [`crate::cda_parse`] for the integration screen.
    pub async fn dmp_get(
        &self,
        local_id: &str,
        who: &Practitioner,
        unique_id: &str,
    ) -> Result<DmpRetrieved> {
        let (patient, user, purpose, mut ctx) = self.call(local_id, who)?;
        ctx.document_id = Some(unique_id.to_owned());
        let uid = unique_id.to_owned();
        let (out, xs) = self
            .traced(|c| async move { c.retrieve(user.acting(purpose), &patient, &uid).await })
            .await?;
        self.inner.journal.dmp_commit(&ctx.rows(&xs), &[])?;
        let r = out?;
        Ok(DmpRetrieved {
            entry: (&r.entry).into(),
            content: r.content.to_vec(),
        })
    }

    /// ITI-57: masks, unmasks, changes visibility, deletes or archives a document of the
    /// patient's DMP; the outbox row (when the document was sent from here) follows.
    pub async fn dmp_update(
        &self,
        local_id: &str,
        who: &Practitioner,
        unique_id: &str,
        update: DmpUpdate,
    ) -> Result<Vec<String>> {
        let (patient, user, purpose, mut ctx) = self.call(local_id, who)?;
        ctx.document_id = Some(unique_id.to_owned());
        let uid = unique_id.to_owned();
        let (out, xs) = self
            .traced(|c| async move {
                let who = user.acting(purpose);
                match update {
                    DmpUpdate::Mask => c.mask(who, &patient, &uid).await,
                    DmpUpdate::Unmask => c.unmask(who, &patient, &uid).await,
                    // Only the patient's visibility changes; the codes in force in the registry
                    // (INVISIBLE_REPRESENTANTS_LEGAUX, MASQUE_PS) are kept.
                    DmpUpdate::HideFromPatient | DmpUpdate::ShowToPatient => {
                        c.set_patient_visibility(
                            who,
                            &patient,
                            &uid,
                            update == DmpUpdate::ShowToPatient,
                        )
                        .await
                    }
                    DmpUpdate::Delete => c.delete(who, &patient, &uid).await,
                    DmpUpdate::Archive => c.archive(who, &patient, &uid).await,
                }
            })
            .await?;
        let rows = ctx.rows(&xs);
        match &out {
            Ok(_) => {
                let status = match update {
                    DmpUpdate::Delete => Some(DmpDocumentStatus::Deleted),
                    DmpUpdate::Archive => Some(DmpDocumentStatus::Archived),
                    _ => None,
                };
                let conf = self.inner.journal.dmp_document(unique_id)?.map(|(row, _)| {
                    let mut conf = stored_confidentiality(&row.confidentiality);
                    match update {
                        DmpUpdate::Mask => conf.masking = Masking::MaskedToProfessionals,
                        DmpUpdate::Unmask => conf.masking = Masking::NotMasked,
                        DmpUpdate::HideFromPatient => conf.visibility.patient = false,
                        DmpUpdate::ShowToPatient => conf.visibility.patient = true,
                        DmpUpdate::Delete | DmpUpdate::Archive => {}
                    }
                    let first = row.confidentiality.first().map(String::as_str);
                    stored_codes(first.unwrap_or("N"), conf)
                });
                self.inner.journal.dmp_commit(
                    &rows,
                    &[(
                        unique_id,
                        DmpDocumentUpdate {
                            status,
                            confidentiality: conf.as_deref(),
                            ..Default::default()
                        },
                    )],
                )?;
            }
            Err(_) => {
                self.inner.journal.dmp_commit(&rows, &[])?;
            }
        }
        let outcome = out?;
        tracing::debug!(operation = update.operation(), "DMP update done");
        Ok(outcome_warnings(&outcome).1)
    }
}
