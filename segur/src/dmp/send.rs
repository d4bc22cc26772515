//! Sending to the DMP through the outbox ([`crate::outbox`], channel `dmp`, items keyed by the
//! document's uniqueId): the document is committed to the journal before any network call,
//! claimed for an attempt, sent (TD0.2 then ITI-41), and settled with the attempt's exchanges. An
//! attempt that died before its answer reached the journal (a crash, `kill -9`) leaves the item
//! `sending`; the next attempt first reconciles it with GetDocuments ([`DmpReconciler`]), so a
//! document is never registered twice, and the client itself recognises a registry's
//! `XDSDuplicateUniqueIdInRegistry` for the same bytes (the answer lost in transit).

use segur_dmp::client::DmpDocument;
use segur_dmp::xds::{DmpConfidentiality, Masking, Visibility};
use segur_dmp::DmpError;
use segur_ins_core::QualifiedIdentity;

use super::parse::{
    dmp_document, dmp_user, outcome_warnings, stored_codes, stored_confidentiality,
};
use super::{CallContext, DmpSendOptions, DmpSendView, DmpStatusView};
use crate::error::{Result, SegurError};
use crate::journal::{
    apply_dmp_update, ClaimOutcome, DmpDocumentQuery, DmpDocumentRow, DmpDocumentStatus,
    DmpDocumentUpdate, NewDmpDocument, NewExchange, OutboxClaim, OutboxItem, Settle,
};
use crate::outbox::{crashpoint, Channel, Reconcile, Reconciled, Reconciliation};
use crate::views::Practitioner;
use crate::Segur;

/// The DMP's [`Reconcile`]: ITI-18 GetDocuments by uniqueId; a current entry of the same size
/// and SHA-1 hash (ITI TF-3 §4.2.3.2.4) means the lost attempt was registered.
pub(crate) struct DmpReconciler<'a> {
    segur: &'a Segur,
    who: &'a Practitioner,
    patient: &'a QualifiedIdentity,
    ctx: &'a CallContext<'a>,
}

impl Reconcile for DmpReconciler<'_> {
    async fn reconcile(&self, item: &OutboxItem) -> Reconciliation {
        let unknown = |exchanges| Reconciliation {
            outcome: Reconciled::Unknown,
            exchanges,
        };
        let Ok((user, purpose)) = dmp_user(self.who) else {
            return unknown(Vec::new());
        };
        let (uid, bytes) = (item.item_id.clone(), item.payload.clone());
        let p = self.patient.clone();
        let Ok((out, xs)) = self
            .segur
            .traced(|c| async move {
                c.registered_copy(user.acting(purpose), &p, &uid, &bytes)
                    .await
            })
            .await
        else {
            return unknown(Vec::new());
        };
        let exchanges = self.ctx.rows(&xs);
        let Ok(found) = out else {
            return unknown(exchanges);
        };
        Reconciliation {
            outcome: match found {
                Some(e) => Reconciled::Delivered {
                    remote_id: Some(e.entry_uuid),
                },
                None => Reconciled::NotDelivered,
            },
            exchanges,
        }
    }
}

/// The stored not-sent reason of an error (`traits_mismatch:prenoms sexe`).
fn stored_reason(e: &SegurError) -> Option<String> {
    e.not_sent_reason().map(|r| match &r {
        crate::NotSentReason::TraitsMismatch { fields } => {
            format!("{}:{}", r.code(), fields.join(" "))
        }
        _ => r.code().to_owned(),
    })
}

/// The view of a document found already delivered (stored as sent, or reconciled).
fn delivered_view(unique_id: &str, entry_uuid: Option<String>) -> DmpSendView {
    DmpSendView {
        unique_id: unique_id.to_owned(),
        submission_set_unique_id: String::new(),
        status: DmpDocumentStatus::Accessible,
        status_label: DmpDocumentStatus::Accessible.label().to_owned(),
        partial: false,
        warnings: Vec::new(),
        traits_mismatch: Vec::new(),
        already_registered: true,
        entry_uuid,
    }
}

impl Segur {
    /// Sends a CDA document to the patient's DMP (TD0.2 then ITI-41; `segur_dmp` refuses locally,
    /// with [`crate::ErrorCode::NotSent`], when there is no DMP, it is closed, or the patient
    /// opposed feeding). The document is committed to the journal's outbox first: it is never
    /// lost and a failed send can be retried with [`Segur::dmp_retry`]. Sending a document the
    /// outbox already holds as sent sends nothing (`already_registered`).
    pub async fn dmp_send(
        &self,
        local_id: &str,
        who: &Practitioner,
        cda: &[u8],
        options: &DmpSendOptions,
    ) -> Result<DmpSendView> {
        let patient = self.qualified(local_id)?;
        let parsed = DmpDocument::parse(cda.to_vec())?;
        let meta = parsed
            .metadata()
            .ok_or_else(|| SegurError::Internal("document parsed without metadata".into()))?;
        let max = self.dmp_client()?.max_document_bytes();
        if cda.len() > max {
            return Err(SegurError::Dmp(DmpError::TooLarge {
                what: "document",
                size: cda.len(),
                limit: max,
            }));
        }
        let conf = DmpConfidentiality {
            masking: if options.mask_ps {
                Masking::MaskedToProfessionals
            } else {
                Masking::NotMasked
            },
            visibility: Visibility {
                patient: !options.invisible_patient,
                legal_representatives: !options.invisible_legal_representatives,
            },
        };
        let document = dmp_document(parsed.clone(), conf, options.replaces.as_deref());
        let conf = stored_codes(&meta.confidentiality_code.code, conf);
        self.inner.journal.dmp_outbox_put(&NewDmpDocument {
            unique_id: &meta.unique_id,
            patient_local_id: local_id,
            ins: &patient.ins().matricule.to_15(),
            practitioner: Some(&who.id_nat),
            document_type: Some(&meta.type_code.code),
            title: Some(&meta.title),
            confidentiality: &conf,
            replaces: options.replaces.as_deref(),
            document: cda,
        })?;
        self.send_stored(
            local_id,
            who,
            &patient,
            &meta.unique_id,
            &meta.type_code.code,
            document,
            options.replaces.as_deref(),
        )
        .await
    }

    /// Sends again a document of the outbox whose send failed, was refused, or never completed
    /// (an attempt still marked as sending is taken over: reconciled with the DMP first).
    pub async fn dmp_retry(&self, unique_id: &str, who: &Practitioner) -> Result<DmpSendView> {
        let (row, bytes) =
            self.inner
                .journal
                .dmp_document(unique_id)?
                .ok_or(SegurError::NotFound {
                    what: "DMP document",
                })?;
        if !matches!(
            row.status,
            DmpDocumentStatus::Failed | DmpDocumentStatus::Pending
        ) {
            return Err(SegurError::InvalidInput(format!(
                "the document is {} (only a failed or pending send is retried)",
                row.status.code()
            )));
        }
        let patient = self.qualified(&row.patient_local_id)?;
        let document = dmp_document(
            DmpDocument::new(bytes),
            stored_confidentiality(&row.confidentiality),
            row.replaces.as_deref(),
        );
        let local_id = row.patient_local_id.clone();
        self.send_stored(
            &local_id,
            who,
            &patient,
            unique_id,
            row.document_type.as_deref().unwrap_or_default(),
            document,
            row.replaces.as_deref(),
        )
        .await
    }

    /// Claims the stored document, reconciles a lost attempt, sends, settles.
    #[allow(clippy::too_many_arguments)]
    async fn send_stored(
        &self,
        local_id: &str,
        who: &Practitioner,
        patient: &QualifiedIdentity,
        unique_id: &str,
        document_type: &str,
        document: DmpDocument,
        replaces: Option<&str>,
    ) -> Result<DmpSendView> {
        let journal = &self.inner.journal;
        let claim = match journal.outbox_claim(Channel::Dmp, unique_id, true)? {
            Some(ClaimOutcome::Claimed(c)) => c,
            Some(ClaimOutcome::Delivered(item)) => {
                let row = self.dmp_dashboard_row(&item)?;
                return if row.status == DmpDocumentStatus::Accessible {
                    Ok(delivered_view(unique_id, row.entry_uuid))
                } else {
                    Err(SegurError::InvalidInput(format!(
                        "the document is {} in the DMP: not sent again",
                        row.status.code()
                    )))
                };
            }
            Some(ClaimOutcome::Busy(_)) | None => {
                return Err(SegurError::Internal(
                    "the DMP document vanished from the outbox".into(),
                ))
            }
        };
        let (user, purpose) = match dmp_user(who) {
            Ok(u) => u,
            Err(e) => {
                self.fail_claim(&[], &claim, &e)?;
                return Err(e);
            }
        };
        let mut ctx = self.context(local_id, who, patient);
        ctx.document_type = Some(document_type.to_owned());
        ctx.document_id = Some(unique_id.to_owned());

        // The previous attempt died before its answer reached the journal: ask the DMP first.
        let mut earlier = Vec::new();
        if claim.item.state == crate::outbox::OutboxState::Sending {
            let r = DmpReconciler {
                segur: self,
                who,
                patient,
                ctx: &ctx,
            }
            .reconcile(&claim.item)
            .await;
            if let Reconciled::Delivered { remote_id } = r.outcome {
                self.settle_sent(&r.exchanges, &claim, remote_id.as_deref(), replaces)?;
                tracing::info!("DMP: a lost attempt was found registered; not sent again");
                return Ok(delivered_view(unique_id, remote_id));
            }
            earlier = r.exchanges;
        }

        let ack = self.traits_ack(local_id, patient)?;
        let p = patient.clone();
        let (out, xs) = self
            .traced(|c| async move {
                let mut acting = user.acting(purpose);
                if let Some(a) = &ack {
                    acting = acting.confirming(a);
                }
                c.send(acting, &p, &document).await
            })
            .await?;
        crashpoint("dmp.answered");
        let mut rows = earlier;
        rows.extend(ctx.rows(&xs));
        match out {
            Ok(receipt) => {
                self.settle_sent(
                    &rows,
                    &claim,
                    receipt.already_registered.as_deref(),
                    replaces,
                )?;
                let (partial, warnings) = outcome_warnings(&receipt.outcome);
                let status: DmpStatusView = (&receipt.status).into();
                Ok(DmpSendView {
                    unique_id: receipt.unique_id,
                    submission_set_unique_id: receipt.submission_set_unique_id,
                    status: DmpDocumentStatus::Accessible,
                    status_label: DmpDocumentStatus::Accessible.label().to_owned(),
                    partial,
                    warnings,
                    traits_mismatch: status.traits_mismatch,
                    already_registered: receipt.already_registered.is_some(),
                    entry_uuid: receipt.already_registered.clone(),
                })
            }
            Err(e) => {
                let e = SegurError::Dmp(e);
                self.fail_claim(&rows, &claim, &e)?;
                Err(e)
            }
        }
    }

    /// Settles a claim as sent (`accessible`), with the entryUUID when known and the replaced
    /// version (RPLC) marked, in one transaction with the exchanges.
    fn settle_sent(
        &self,
        rows: &[NewExchange],
        claim: &OutboxClaim,
        entry_uuid: Option<&str>,
        replaces: Option<&str>,
    ) -> Result<()> {
        let uid = claim.item.item_id.as_str();
        self.inner
            .journal
            .outbox_settle(rows, claim, Settle::Sent, |tx| {
                apply_dmp_update(
                    tx,
                    uid,
                    &DmpDocumentUpdate {
                        status: Some(DmpDocumentStatus::Accessible),
                        entry_uuid,
                        ..Default::default()
                    },
                )?;
                if let Some(old) = replaces {
                    apply_dmp_update(
                        tx,
                        old,
                        &DmpDocumentUpdate {
                            status: Some(DmpDocumentStatus::Replaced),
                            ..Default::default()
                        },
                    )?;
                }
                Ok(())
            })?;
        Ok(())
    }

    /// Settles a claim as failed (`refused` when a check before sending refused it, with the
    /// reason), in one transaction with the exchanges.
    fn fail_claim(&self, rows: &[NewExchange], claim: &OutboxClaim, e: &SegurError) -> Result<()> {
        let msg = e.to_string();
        let reason = stored_reason(e);
        self.inner.journal.outbox_settle(
            rows,
            claim,
            Settle::Failed {
                error: &msg,
                not_sent_reason: reason.as_deref(),
            },
            |_| Ok(()),
        )?;
        Ok(())
    }

    fn dmp_dashboard_row(&self, item: &OutboxItem) -> Result<DmpDocumentRow> {
        self.inner
            .journal
            .dmp_document(&item.item_id)?
            .map(|(row, _)| row)
            .ok_or(SegurError::NotFound {
                what: "DMP document",
            })
    }

    /// The DMP dashboard ("Tableau de bord des échanges"): documents sent from here and their
    /// status, newest first.
    pub fn dmp_dashboard(&self, q: &DmpDocumentQuery) -> Result<Vec<DmpDocumentRow>> {
        self.inner.journal.dmp_documents(q)
    }
}
