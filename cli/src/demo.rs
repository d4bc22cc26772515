//! `segur demo ins`: starts the sandbox in-process and walks an identity from provisoire to
//! qualifiée through the facade (`segur::Segur`): each RNIV step, the INSi exchange over mutual
//! TLS, the journal.

use std::path::{Path, PathBuf};

use segur::{Actor, ExchangeQuery, IdentityInput, IdentityView, Segur, SegurError};
use segur_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;

use crate::output::Out;

fn step(out: &Out, n: u32, title: &str) {
    if !out.json {
        println!("\n== {n}. {title}");
    }
}

fn show(out: &Out, before: &str, v: &IdentityView) {
    if out.json {
        return;
    }
    if before == v.status {
        println!("   statut RNIV: {} (inchangé)", v.status_label);
    } else {
        println!(
            "   statut RNIV: {before} → {} ({})",
            v.status, v.status_label
        );
    }
    match &v.transmissible_ins {
        Some(i) => println!(
            "   INS transmissible: {} (OID {})",
            i.matricule.matricule, i.oid
        ),
        None => println!(
            "   INS transmissible: aucun (règle 28: seule une identité qualifiée le transmet)"
        ),
    }
}

pub async fn ins(out: &Out, dir: Option<PathBuf>) -> u8 {
    let temporary = dir.is_none();
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("segur-demo-{}", uuid::Uuid::new_v4()))
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

async fn walk(out: &Out, dir: &Path) -> Result<(), SegurError> {
    step(
        out,
        1,
        "Sandbox: INSi simulé sur 127.0.0.1 (TLS mutuel, PKI de test générée)",
    );
    let sandbox = Sandbox::start(SandboxOptions::new(dir))
        .await
        .map_err(|e| SegurError::Config(e.to_string()))?;
    let segur = Segur::open_file(sandbox.settings_path())?;
    if !out.json {
        println!("   INSi: {}", sandbox.insi_url());
        println!("   configuration: {}", sandbox.settings_path().display());
        println!("   journal: {}", segur.journal().path().display());
    }
    let secretariat = Actor::user("secretariat");
    let doctor = Actor {
        user: "dr.martin".into(),
        rpps: Some("10101010101".into()),
        finess: Some("750000001".into()),
    };

    step(out, 2, "Saisie de l'identité (traits normalisés pour INSi)");
    let v = segur.identity_create(
        "IPP-0001",
        &IdentityInput {
            nom_naissance: "Adrdeux".into(),
            prenoms: "Laurent".into(),
            date_naissance: "1981-01-01".into(),
            sexe: "M".into(),
            ..Default::default()
        },
        false,
        &secretariat,
    )?;
    if !out.json {
        let t = &v.traits;
        println!(
            "   {} {} {} {} → statut {}",
            t.nom_naissance,
            t.prenoms.join(" "),
            t.sexe,
            t.date_naissance,
            v.status_label
        );
    }

    step(
        out,
        3,
        "Appel du téléservice INSi (rechercherInsAvecTraitsIdentite)",
    );
    let s = segur.identity_search_insi("IPP-0001", &doctor).await?;
    if !out.json {
        println!("   CR {} {}", s.result.code, s.result.libelle);
        if let Some(id) = &s.result.identity {
            println!(
                "   INSi: {} {} {} {} né(e) à {}",
                id.traits.nom_naissance,
                id.traits.prenoms.join(" "),
                id.traits.sexe,
                id.traits.date_naissance,
                id.traits.lieu_naissance.as_deref().unwrap_or("?")
            );
            println!(
                "   INS actif: {} clé {} OID {}",
                id.ins.matricule.number, id.ins.matricule.key, id.ins.oid
            );
        }
    }
    show(out, &v.status, &s.identity);

    step(
        out,
        4,
        "Contrôle d'une pièce d'identité à haut niveau de confiance (CNI)",
    );
    let q = segur.identity_add_document("IPP-0001", "CN", &doctor)?;
    show(out, &s.identity.status, &q);

    step(out, 5, "Garde-fous RNIV");
    segur.identity_create(
        "IPP-0002",
        &IdentityInput {
            nom_naissance: "ADRDEUX".into(),
            prenoms: "LAURENT".into(),
            date_naissance: "1981-01-01".into(),
            sexe: "M".into(),
            ..Default::default()
        },
        false,
        &secretariat,
    )?;
    segur.identity_set_attribute(
        "IPP-0002",
        segur::parse_attribute("douteuse")?,
        true,
        "homonymie suspectée",
        &secretariat,
    )?;
    let refused = segur.identity_search_insi("IPP-0002", &doctor).await;
    let mut edit = IdentityInput {
        nom_naissance: "ADRDEUXX".into(),
        prenoms: "LAURENT".into(),
        date_naissance: "1981-01-01".into(),
        sexe: "M".into(),
        ..Default::default()
    };
    edit.lieu_naissance = q.traits.lieu_naissance.clone();
    let locked = segur.identity_edit_traits(
        "IPP-0001",
        &edit,
        false,
        false,
        "faute de frappe",
        &secretariat,
    );
    let typo = segur.identity_create(
        "IPP-0003",
        &IdentityInput {
            nom_naissance: "D’ÆION".into(),
            prenoms: "CŒUR".into(),
            date_naissance: "1987-01-01".into(),
            sexe: "M".into(),
            ..Default::default()
        },
        false,
        &secretariat,
    );
    if !out.json {
        let msg = |r: Result<String, SegurError>| match r {
            Ok(s) => s,
            Err(e) => format!("refusé — {e}"),
        };
        println!(
            "   identité douteuse → appel INSi: {}",
            msg(refused.map(|_| "accepté ?!".into()))
        );
        println!(
            "   modification d'un trait strict d'une identité qualifiée → {}",
            msg(locked.map(|_| "accepté ?!".into()))
        );
        let typo = match &typo {
            Ok(_) => "accepté ?!".to_owned(),
            Err(e) => format!(
                "refusé — {e}{}",
                e.proposal()
                    .map(|p| format!(" (proposition: {p})"))
                    .unwrap_or_default()
            ),
        };
        println!("   saisie « D’ÆION » → {typo}");
    }

    step(
        out,
        6,
        "Historique RNIV (règle 21) et journal des échanges (règles 37/39)",
    );
    let rows = segur.exchanges(&ExchangeQuery::default())?;
    if out.json {
        out.json(&json!({
            "ok": true,
            "insi": sandbox.insi_url(),
            "status": q.status,
            "ins": q.transmissible_ins,
            "identity": q,
            "exchanges": rows,
        }));
    } else {
        for h in &q.history {
            println!(
                "   {}  {:<12} {:<40} {}{}",
                &h.at[11..23.min(h.at.len())],
                h.by,
                h.reason,
                h.change,
                match (&h.from_status, &h.to_status) {
                    (Some(f), Some(t)) => format!(" {f} → {t}"),
                    (None, Some(t)) => format!(" → {t}"),
                    _ => h
                        .detail
                        .as_ref()
                        .map(|d| format!(" {d}"))
                        .unwrap_or_default(),
                }
            );
        }
        for r in &rows {
            println!(
                "   journal: {} {} {} patient {} RPPS {} → {} ({}) en {:.1} ms, requête {} octets, SHA-256 {}…",
                r.channel,
                r.operation,
                r.message_id,
                r.patient_local_id.as_deref().unwrap_or("-"),
                r.practitioner.as_deref().unwrap_or("-"),
                r.status,
                r.result_code.as_deref().unwrap_or("-"),
                r.duration_ms,
                r.request_bytes,
                &r.request_sha256[..12]
            );
        }
        if let Some(r) = rows.last() {
            if let Some((req, _)) = segur.journal().payload(r.id)? {
                println!(
                    "\n   requête SOAP envoyée (gardée dans le journal):\n{}",
                    String::from_utf8_lossy(&req)
                );
            }
        }
        println!(
            "\nstatut final: {} — démonstration terminée",
            q.status_label
        );
    }
    drop(segur);
    sandbox.shutdown().await;
    Ok(())
}
