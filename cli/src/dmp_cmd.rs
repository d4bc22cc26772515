//! `segur dmp …`: the patient's DMP through the facade. The patient is named by INS and must be a
//! *qualified* identity of the journal (RNIV rule 28): `segur dmp qualify` records one. The acting
//! professional is the `[practitioner]` of the configuration (override with `--purpose` for a
//! bris de glace). Every exchange is journaled; `--trace-dir` also writes each SOAP message.

use std::path::{Path, PathBuf};

use segur::{
    Actor, DmpConsent, DmpDocumentQuery, DmpDocumentStatus, DmpFindQuery, DmpSendOptions,
    DmpUpdate, IdentityInput, Practitioner, Segur, SegurError,
};
use serde_json::{json, Value};

use crate::output::Out;
use crate::NetArgs;

fn open(net: &NetArgs) -> Result<Segur, SegurError> {
    net.open()
}

fn practitioner(segur: &Segur, purpose: Option<&str>) -> Result<Practitioner, SegurError> {
    let mut p = segur.default_practitioner().cloned().ok_or_else(|| {
        SegurError::Config(
            "no [practitioner] in the configuration (the acting professional)".into(),
        )
    })?;
    if let Some(purpose) = purpose {
        p.purpose = Some(purpose.to_owned());
    }
    Ok(p)
}

fn fail(out: &Out, e: &SegurError) -> u8 {
    if out.json {
        let codes = e.service_codes().map(|(a, b)| json!([a, b]));
        let reason = e.not_sent_reason().map(|r| to_json(&r));
        out.json(&json!({
            "ok": false,
            "error": {"kind": e.code(), "code": e.code() as u32, "message": e.to_string(), "service_codes": codes, "reason": reason}
        }));
    } else {
        eprintln!("error: {e}");
    }
    1
}

fn finish(out: &Out, r: Result<(Value, String), SegurError>) -> u8 {
    match r {
        Ok((v, text)) => {
            if out.json {
                out.json(&v);
            } else {
                println!("{text}");
            }
            0
        }
        Err(e) => fail(out, &e),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Common arguments of the patient commands.
pub struct Target<'a> {
    pub ins: &'a str,
    pub purpose: Option<&'a str>,
    pub net: &'a NetArgs,
}

async fn with_patient<F, Fut>(out: &Out, t: &Target<'_>, f: F) -> u8
where
    F: FnOnce(Segur, String, Practitioner) -> Fut,
    Fut: std::future::Future<Output = Result<(Value, String), SegurError>>,
{
    let r = async {
        let segur = open(t.net)?;
        let local_id = segur.identity_by_ins(t.ins)?;
        let who = practitioner(&segur, t.purpose)?;
        f(segur, local_id, who).await
    }
    .await;
    finish(out, r)
}

/// `segur dmp qualify`: records a qualified identity (INSi search + a checked high-trust
/// document), so that the DMP commands can name the patient by INS.
pub struct QualifyInput<'a> {
    pub local_id: &'a str,
    pub nom: &'a str,
    pub prenoms: &'a str,
    pub sexe: &'a str,
    pub naissance: &'a str,
    pub cog: Option<&'a str>,
    pub document: &'a str,
}

pub async fn qualify(out: &Out, q: QualifyInput<'_>, net: &NetArgs) -> u8 {
    let r = async {
        let segur = open(net)?;
        let actor = Actor::user("segur-cli");
        if segur.identity_get(q.local_id).is_err() {
            let input = IdentityInput {
                nom_naissance: q.nom.into(),
                prenoms: q.prenoms.into(),
                sexe: q.sexe.into(),
                date_naissance: q.naissance.into(),
                lieu_naissance: q.cog.map(str::to_owned),
                ..Default::default()
            };
            segur.identity_create(q.local_id, &input, false, &actor)?;
        }
        let search = segur.identity_search_insi(q.local_id, &actor).await?;
        let v = segur.identity_add_document(q.local_id, q.document, &actor)?;
        let text = match &v.transmissible_ins {
            Some(i) => format!(
                "{}: {} ({}), INS {} — may be sent to the DMP",
                q.local_id, v.status_label, v.status, i.matricule.matricule
            ),
            None => format!(
                "{}: {} ({}), INSi code {} — not qualified, the DMP is out of reach",
                q.local_id, v.status_label, v.status, search.result.code
            ),
        };
        Ok((json!({"ok": true, "identity": to_json(&v)}), text))
    }
    .await;
    finish(out, r)
}

pub async fn status(out: &Out, t: Target<'_>) -> u8 {
    with_patient(out, &t, |s, id, who| async move {
        let st = s.dmp_status(&id, &who).await?;
        let text = if !st.exists {
            "No DMP for this patient.".to_owned()
        } else {
            let mut t = format!(
                "DMP {}; our access: {}; feeding: {}; consulting: {}",
                if st.closed { "closed" } else { "open" },
                st.authorization.as_deref().unwrap_or("-"),
                if st.can_feed {
                    "allowed"
                } else {
                    st.feed_blocked.as_deref().unwrap_or("blocked")
                },
                if st.can_consult {
                    "allowed"
                } else {
                    "not authorised"
                },
            );
            if st.medecin_traitant {
                t.push_str("; médecin traitant");
            }
            if !st.traits_mismatch.is_empty() {
                t.push_str(&format!(
                    "\nwarning (DMP/CONF.01): the DMP's traits differ from ours on: {}",
                    st.traits_mismatch.join(", ")
                ));
                t.push_str(if st.traits_confirmed {
                    " (confirmed: feeding goes on)"
                } else {
                    "\nfeeding is stopped until you check the identity and confirm: segur dmp confirm-traits <INS>"
                });
            }
            t
        };
        Ok((json!({"ok": true, "status": to_json(&st)}), text))
    })
    .await
}

/// `segur dmp confirm-traits <INS>`: DMP/CONF.01 confirmation of the mismatch TD0.2 reports.
pub async fn confirm_traits(out: &Out, t: Target<'_>) -> u8 {
    with_patient(out, &t, |s, id, who| async move {
        let c = s.dmp_confirm_traits(&id, &who).await?;
        let text = format!(
            "Traits mismatch confirmed by {} ({}); documents of this patient will be sent (segur dmp retry for those refused).",
            c.practitioner,
            c.fields.join(", ")
        );
        Ok((json!({"ok": true, "confirmation": to_json(&c)}), text))
    })
    .await
}

pub async fn authorize(out: &Out, t: Target<'_>, consent: &str, revoke: bool) -> u8 {
    let consent = consent.to_owned();
    with_patient(out, &t, |s, id, who| async move {
        let a = if revoke {
            s.dmp_revoke(&id, &who).await?
        } else {
            s.dmp_authorize(
                &id,
                &who,
                &DmpConsent {
                    mode: consent,
                    collected_at: None,
                },
            )
            .await?
        };
        let text = format!(
            "{} done; our access is now {}",
            if revoke { "SUPPRESSION" } else { "AJOUT" },
            a.as_deref().unwrap_or("(not given)")
        );
        Ok((json!({"ok": true, "authorization": a}), text))
    })
    .await
}

pub async fn authorizations(out: &Out, t: Target<'_>) -> u8 {
    with_patient(out, &t, |s, id, who| async move {
        let list = s.dmp_authorizations(&id, &who).await?;
        let mut text = format!("{} authorization(s)", list.len());
        for a in &list {
            text.push_str(&format!(
                "\n  {} {} {}: {}",
                a.id_nat,
                a.nom.as_deref().unwrap_or(""),
                a.prenom.as_deref().unwrap_or(""),
                a.status
            ));
        }
        Ok((json!({"ok": true, "authorizations": to_json(&list)}), text))
    })
    .await
}

pub async fn send(
    out: &Out,
    file: &Path,
    options: DmpSendOptions,
    purpose: Option<&str>,
    net: &NetArgs,
) -> u8 {
    let r = async {
        let cda = std::fs::read(file).map_err(|e| {
            SegurError::InvalidInput(format!("cannot read {}: {e}", file.display()))
        })?;
        let meta = segur::cda_metadata(&cda)?;
        let ins = meta
            .patient_id
            .as_deref()
            .and_then(|cx| cx.split('^').next())
            .ok_or_else(|| {
                SegurError::InvalidInput(
                    "the document carries no INS: it cannot go to the DMP".into(),
                )
            })?
            .to_owned();
        let segur = open(net)?;
        let local_id = segur.identity_by_ins(&ins)?;
        let who = practitioner(&segur, purpose)?;
        let v = segur.dmp_send(&local_id, &who, &cda, &options).await?;
        let mut text = format!("{}: {}", v.unique_id, v.status_label);
        if !v.warnings.is_empty() {
            text.push_str(&format!(" (warnings: {})", v.warnings.join(", ")));
        }
        Ok((json!({"ok": true, "sent": to_json(&v)}), text))
    }
    .await;
    finish(out, r)
}

pub async fn retry(out: &Out, unique_id: &str, net: &NetArgs) -> u8 {
    let r = async {
        let segur = open(net)?;
        let who = practitioner(&segur, None)?;
        let v = segur.dmp_retry(unique_id, &who).await?;
        let mut text = format!("{}: {}", v.unique_id, v.status_label);
        if v.already_registered {
            text.push_str(" (already registered by an earlier send whose answer was lost)");
        }
        Ok((json!({"ok": true, "sent": to_json(&v)}), text))
    }
    .await;
    finish(out, r)
}

fn entries_text(list: &[segur::DmpEntryView]) -> String {
    let mut text = format!("{} document(s)", list.len());
    for e in list {
        text.push_str(&format!(
            "\n  {}  {}  {}  {}{}  {}",
            e.creation_time
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            e.type_code.as_deref().unwrap_or("?"),
            e.title.as_deref().unwrap_or(""),
            e.status_label,
            if e.masked { " (masqué aux PS)" } else { "" },
            e.unique_id
        ));
    }
    text
}

pub async fn find(out: &Out, t: Target<'_>, q: DmpFindQuery) -> u8 {
    with_patient(out, &t, |s, id, who| async move {
        let list = s.dmp_find(&id, &who, &q).await?;
        let text = entries_text(&list);
        Ok((json!({"ok": true, "documents": to_json(&list)}), text))
    })
    .await
}

pub async fn get(out: &Out, t: Target<'_>, unique_id: &str, output: PathBuf) -> u8 {
    let unique_id = unique_id.to_owned();
    with_patient(out, &t, |s, id, who| async move {
        let r = s.dmp_get(&id, &who, &unique_id).await?;
        std::fs::write(&output, &r.content).map_err(|e| {
            SegurError::InvalidInput(format!("cannot write {}: {e}", output.display()))
        })?;
        let text = format!(
            "{} ({} bytes, {}) written to {}",
            unique_id,
            r.content.len(),
            r.entry.type_display.as_deref().unwrap_or("document"),
            output.display()
        );
        Ok((json!({"ok": true, "file": output, "bytes": r.content.len(), "entry": to_json(&r.entry)}), text))
    })
    .await
}

pub async fn update(out: &Out, t: Target<'_>, unique_id: &str, update: DmpUpdate) -> u8 {
    let unique_id = unique_id.to_owned();
    with_patient(out, &t, |s, id, who| async move {
        let warnings = s.dmp_update(&id, &who, &unique_id, update).await?;
        let text = format!(
            "{unique_id}: {} done",
            serde_json::to_value(update)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        );
        Ok((
            json!({"ok": true, "unique_id": unique_id, "warnings": warnings}),
            text,
        ))
    })
    .await
}

pub fn dashboard(out: &Out, status: Option<&str>, config: &Path) -> u8 {
    let r = (|| {
        let segur = Segur::open_file(config)?;
        let status = match status {
            Some(s) => Some(DmpDocumentStatus::from_code(s).ok_or_else(|| {
                SegurError::InvalidInput(
                    "status must be pending, accessible, failed, replaced, deleted or archived"
                        .into(),
                )
            })?),
            None => None,
        };
        let rows = segur.dmp_dashboard(&DmpDocumentQuery {
            status,
            ..Default::default()
        })?;
        let mut text = format!("{} document(s) sent to the DMP", rows.len());
        for r in &rows {
            text.push_str(&format!(
                "\n  {}  {}  {}  {}  {}",
                r.created_at.get(..16).unwrap_or(&r.created_at),
                r.patient_local_id,
                r.document_type.as_deref().unwrap_or("?"),
                r.status_label,
                r.unique_id
            ));
            match r.not_sent_reason.as_deref() {
                Some("traits_mismatch") => text.push_str(&format!(
                    "  [blocked, DMP/CONF.01: traits differ ({}); segur dmp confirm-traits]",
                    r.traits_mismatch.join(", ")
                )),
                Some(reason) => text.push_str(&format!("  [not sent: {reason}]")),
                None => {}
            }
        }
        Ok((json!({"ok": true, "documents": to_json(&rows)}), text))
    })();
    finish(out, r)
}
