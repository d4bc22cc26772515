//! `segur demo dmp`: starts the sandbox in-process (INSi and DMP simulators) and walks the
//! manual's DMP workflow through the facade: qualify the patient's INS, TD0.2, authorization with
//! the patient's consent, send a VSM built by the CDA crate, find it, retrieve and parse it for
//! integration, replace it with a new version, mask it, delete it — and the dashboard after each
//! step ("Accessible dans le DMP", "Supprimé dans le DMP").

use std::path::{Path, PathBuf};

use segur::{
    Actor, DmpConsent, DmpDocumentQuery, DmpFindQuery, DmpSendOptions, DmpUpdate, ExchangeQuery,
    IdentityInput, Segur, SegurError,
};
use segur_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;

use crate::output::Out;

fn step(out: &Out, n: u32, title: &str) {
    if !out.json {
        println!("\n== {n}. {title}");
    }
}

fn say(out: &Out, s: impl AsRef<str>) {
    if !out.json {
        println!("   {}", s.as_ref());
    }
}

pub async fn dmp(out: &Out, dir: Option<PathBuf>) -> u8 {
    let temporary = dir.is_none();
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("segur-demo-dmp-{}", uuid::Uuid::new_v4()))
    });
    let result = walk(out, &dir).await;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    match result {
        Ok(()) => 0,
        Err(e) => out.fail(&format!("{:?}", e.code()), &e.to_string()),
    }
}

fn vsm_request(
    local_id: &str,
    version: u32,
    set_id: Option<&str>,
    replaces: Option<&str>,
) -> String {
    let mut req: serde_json::Value =
        serde_json::from_str(include_str!("../examples/vsm-request.json")).unwrap_or_default();
    req["patient"] = local_id.into();
    req["version_number"] = version.into();
    if let (Some(set_id), Some(replaces)) = (set_id, replaces) {
        req["set_id"] = json!({ "root": set_id });
        req["replaces"] = json!({ "root": replaces });
    }
    req.to_string()
}

async fn walk(out: &Out, dir: &Path) -> Result<(), SegurError> {
    step(
        out,
        1,
        "Sandbox: INSi et DMP simulés sur 127.0.0.1 (TLS mutuel, PKI de test)",
    );
    let sandbox = Sandbox::start(SandboxOptions::new(dir))
        .await
        .map_err(|e| SegurError::Config(e.to_string()))?;
    let segur = Segur::open_file(sandbox.settings_path())?;
    let who = segur
        .default_practitioner()
        .cloned()
        .ok_or_else(|| SegurError::Config("no [practitioner] in segur.toml".into()))?;
    say(out, format!("INSi: {}", sandbox.insi_url()));
    say(out, format!("DMP:  {}", sandbox.dmp_url()));
    say(
        out,
        format!(
            "professionnel: Dr {} {} ({})",
            who.prenom, who.nom, who.id_nat
        ),
    );

    step(
        out,
        2,
        "Identité qualifiée (INSi + pièce d'identité): seule une INS qualifiée va au DMP",
    );
    let actor = Actor::user("secretariat");
    segur.identity_create(
        "IPP-PT3",
        &IdentityInput {
            nom_naissance: "PAT-TROIS".into(),
            prenoms: "DOMINIQUE MARIE-LOUISE".into(),
            date_naissance: "1979-03-28".into(),
            sexe: "F".into(),
            ..Default::default()
        },
        false,
        &actor,
    )?;
    segur.identity_search_insi("IPP-PT3", &actor).await?;
    let q = segur.identity_add_document("IPP-PT3", "CN", &actor)?;
    say(
        out,
        format!(
            "{} → INS {}",
            q.status_label,
            q.transmissible_ins
                .as_ref()
                .map(|i| i.matricule.matricule.as_str())
                .unwrap_or("-")
        ),
    );

    step(out, 3, "TD0.2: test d'existence du DMP et de nos droits");
    let st = segur.dmp_status("IPP-PT3", &who).await?;
    say(
        out,
        format!(
            "DMP {}, accès: {}, alimentation: {}, consultation: {}",
            if st.closed { "fermé" } else { "ouvert" },
            st.authorization.as_deref().unwrap_or("-"),
            if st.can_feed { "possible" } else { "bloquée" },
            if st.can_consult {
                "possible"
            } else {
                "non autorisée"
            }
        ),
    );

    step(
        out,
        4,
        "TD0.3: autorisation d'accès, avec l'accord explicite du patient (tracé)",
    );
    let a = segur
        .dmp_authorize(
            "IPP-PT3",
            &who,
            &DmpConsent {
                mode: "oral".into(),
                collected_at: None,
            },
        )
        .await?;
    say(out, format!("accès: {}", a.as_deref().unwrap_or("-")));

    step(
        out,
        5,
        "Envoi du VSM construit par segur-cda (ITI-41, MTOM, lot signé XAdES)",
    );
    let v1 = segur.cda_vsm_build_json(&vsm_request("IPP-PT3", 1, None, None))?;
    let sent = segur
        .dmp_send(
            "IPP-PT3",
            &who,
            v1.xml.as_bytes(),
            &DmpSendOptions::default(),
        )
        .await?;
    say(
        out,
        format!(
            "{} ({} octets): {}",
            sent.unique_id,
            v1.xml.len(),
            sent.status_label
        ),
    );

    step(
        out,
        6,
        "ITI-18: y a-t-il un VSM, et de quand ? Puis les documents du DMP",
    );
    if let Some(latest) = segur.dmp_latest_vsm("IPP-PT3", &who).await? {
        say(
            out,
            format!(
                "dernier VSM: {} du {}",
                latest.unique_id,
                latest
                    .creation_time
                    .map(|t| t.format("%d/%m/%Y %H:%M").to_string())
                    .unwrap_or_default()
            ),
        );
    }
    let docs = segur
        .dmp_find("IPP-PT3", &who, &DmpFindQuery::default())
        .await?;
    for d in &docs {
        say(
            out,
            format!(
                "{:<10} {:<45} {}{}",
                d.type_code.as_deref().unwrap_or("?"),
                d.title.as_deref().unwrap_or(""),
                d.status_label,
                if d.masked { " (masqué aux PS)" } else { "" }
            ),
        );
    }

    step(
        out,
        7,
        "ITI-43: récupération et lecture pour l'intégration sélective",
    );
    let got = segur.dmp_get("IPP-PT3", &who, &sent.unique_id).await?;
    let parsed = segur::cda_parse(&got.content)?;
    let summary = parsed.vsm_summary();
    say(
        out,
        format!(
            "{} octets, identiques à l'envoi: {}; éléments intégrables: {} pathologies, {} allergies, {} traitements",
            got.content.len(),
            got.content == v1.xml.as_bytes(),
            summary.pathologies.len(),
            summary.allergies.len(),
            summary.traitements.len()
        ),
    );

    step(out, 8, "Nouvelle version du VSM (remplacement RPLC)");
    let v2 =
        segur.cda_vsm_build_json(&vsm_request("IPP-PT3", 2, Some(&v1.set_id), Some(&v1.id)))?;
    let sent2 = segur
        .dmp_send(
            "IPP-PT3",
            &who,
            v2.xml.as_bytes(),
            &DmpSendOptions {
                replaces: Some(sent.unique_id.clone()),
                ..Default::default()
            },
        )
        .await?;
    say(
        out,
        format!(
            "{} remplace {}: {}",
            sent2.unique_id, sent.unique_id, sent2.status_label
        ),
    );

    step(
        out,
        9,
        "ITI-57: masquage aux professionnels, puis suppression",
    );
    segur
        .dmp_update("IPP-PT3", &who, &sent2.unique_id, DmpUpdate::Mask)
        .await?;
    say(out, "masqué aux autres professionnels (MASQUE_PS)");
    segur
        .dmp_update("IPP-PT3", &who, &sent2.unique_id, DmpUpdate::Delete)
        .await?;
    say(out, "supprimé (urn:asip:ci-sis:2010:StatusType:Deleted)");

    step(out, 10, "Tableau de bord des échanges DMP, et journal");
    let board = segur.dmp_dashboard(&DmpDocumentQuery::default())?;
    for r in &board {
        say(
            out,
            format!(
                "{}  {}  {}  DMP  {}",
                r.created_at.get(..16).unwrap_or(&r.created_at),
                r.patient_local_id,
                r.document_type.as_deref().unwrap_or("?"),
                r.status_label
            ),
        );
    }
    let rows = segur.exchanges(&ExchangeQuery {
        channel: Some("dmp".into()),
        ..Default::default()
    })?;
    say(
        out,
        format!(
            "{} échanges DMP journalisés (requête et réponse complètes)",
            rows.len()
        ),
    );
    if out.json {
        out.json(&json!({
            "ok": true,
            "dmp": sandbox.dmp_url(),
            "status": st,
            "sent": [sent, sent2],
            "documents": docs,
            "dashboard": board,
            "exchanges": rows.len(),
        }));
    } else {
        println!("\ndémonstration DMP terminée");
    }
    drop(segur);
    sandbox.shutdown().await;
    Ok(())
}
