//! `segur demo ins`: starts the sandbox in-process and walks an identity from provisoire to
//! qualifiée, showing each RNIV step and the trace of the INSi exchange.

use std::path::PathBuf;
use std::sync::Arc;

use segur_ins_core::rniv::{Attribute, Outcome};
use segur_ins_core::traits::TraitsInput;
use segur_ins_core::{IdentityRecord, InsError, TraitsStricts, TrustPolicy};
use segur_net::trace::{MemoryTraceSink, TraceSink};
use segur_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;

use crate::insi_cmd::{fail, ins_json, load_settings, print_reply_human, traits_json};
use crate::output::Out;

fn step(out: &Out, n: u32, title: &str) {
    if !out.json {
        println!("\n== {n}. {title}");
    }
}

fn show_outcome(out: &Out, record: &IdentityRecord, o: &Outcome) {
    if out.json {
        return;
    }
    match o.status {
        Some((from, to)) => println!("   statut RNIV: {} → {}", from.label(), to.label()),
        None => println!("   statut RNIV: {} (inchangé)", record.status().label()),
    }
    if o.ins_dropped {
        println!("   ⚠ INS supprimé de l'identité locale: prévenir les correspondants");
    }
}

pub async fn ins(out: &Out, dir: Option<PathBuf>) -> u8 {
    match run(out, dir).await {
        Ok(()) => 0,
        Err(e) => fail(out, &e),
    }
}

async fn run(out: &Out, dir: Option<PathBuf>) -> Result<(), InsError> {
    let temporary = dir.is_none();
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("segur-demo-{}", uuid::Uuid::new_v4()))
    });
    let result = walk(out, &dir).await;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn walk(out: &Out, dir: &std::path::Path) -> Result<(), InsError> {
    step(
        out,
        1,
        "Sandbox: INSi simulé sur 127.0.0.1 (TLS mutuel, PKI de test)",
    );
    let sandbox = Sandbox::start(SandboxOptions::new(dir))
        .await
        .map_err(|e| InsError::Config(e.to_string()))?;
    if !out.json {
        println!("   INSi: {}", sandbox.insi_url());
        println!(
            "   configuration client: {}",
            sandbox.settings_path().display()
        );
    }
    let trace = Arc::new(MemoryTraceSink::new());
    let (settings, base, instance) = load_settings(sandbox.settings_path())?;
    let client = settings.insi_client(&base, instance, trace.clone() as Arc<dyn TraceSink>)?;

    step(out, 2, "Saisie de l'identité (traits normalisés pour INSi)");
    let traits = TraitsStricts::from_input(
        &TraitsInput {
            nom_naissance: "Adrdeux",
            prenoms: "Laurent",
            premier_prenom: None,
            date_naissance: "1981-01-01",
            sexe: "M",
            lieu_naissance: None,
        },
        false,
    )?;
    let mut record = IdentityRecord::new("IPP-0001", traits, Default::default(), "secretariat");
    if !out.json {
        let t = record.traits();
        println!(
            "   {} {} {} {} → statut {}",
            t.nom_naissance,
            t.liste_prenoms(),
            t.sexe,
            t.date_naissance.raw(),
            record.status().label()
        );
    }

    step(
        out,
        3,
        "Appel du téléservice INSi (rechercherInsAvecTraitsIdentite)",
    );
    let found = client.search_identity(&record).await?;
    if !out.json {
        print_reply_human(&found.reply);
    }
    let identity = found.reply.identity.as_ref().ok_or(InsError::Config(
        "the sandbox did not find the demo identity".into(),
    ))?;
    let o = record.apply_insi(identity, "dr-rpps-10101010101")?;
    show_outcome(out, &record, &o);
    if !out.json {
        println!(
            "   INS transmissible ? {}",
            if record.qualified().is_ok() {
                "oui"
            } else {
                "non (règle 28: identité non qualifiée)"
            }
        );
    }

    step(
        out,
        4,
        "Contrôle d'une pièce d'identité à haut niveau de confiance (CNI)",
    );
    let o = record.add_document("CN", &TrustPolicy::default(), "dr-rpps-10101010101")?;
    show_outcome(out, &record, &o);
    let qualified = record.qualified()?;
    if !out.json {
        println!(
            "   INS transmissible: {} (OID {})",
            qualified.ins().to_cx_xds(),
            qualified.ins().oid
        );
    }

    step(out, 5, "Garde-fous RNIV");
    let mut doubtful = IdentityRecord::new(
        "IPP-0002",
        record.traits().clone(),
        Default::default(),
        "secretariat",
    );
    doubtful.set_attribute(
        Attribute::Douteuse,
        true,
        "secretariat",
        "homonymie suspectée",
    )?;
    let refused = client.search_identity(&doubtful).await;
    if !out.json {
        println!(
            "   identité douteuse → appel INSi refusé: {}",
            refused
                .as_ref()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        );
    }
    let mut edited = record.traits().clone();
    edited.nom_naissance = "ADRDEUXX".into();
    let locked = record
        .clone()
        .edit_traits(edited, "secretariat", "faute de frappe", false);
    if !out.json {
        println!(
            "   modification d'un trait strict → {}",
            locked
                .as_ref()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        );
    }

    step(
        out,
        6,
        "Historique RNIV (règle 21) et trace des échanges (règles 37/39)",
    );
    let exchanges = trace.exchanges();
    if out.json {
        out.json(&json!({
            "ok": true,
            "insi": sandbox.insi_url(),
            "status": record.status().code(),
            "ins": ins_json(qualified.ins()),
            "traits": traits_json(record.traits()),
            "history": record.history(),
            "exchanges": exchanges.iter().map(|x| json!({
                "operation": x.operation,
                "message_id": x.message_id,
                "duration_ms": x.duration.as_secs_f64() * 1000.0,
                "http_status": x.http_status,
                "request_bytes": x.request.len(),
                "response_bytes": x.response.as_ref().map(|r| r.len()),
                "outcome": format!("{:?}", x.outcome),
            })).collect::<Vec<_>>(),
        }));
    } else {
        for h in record.history() {
            println!(
                "   {}  {:<20} {:<45} {:?}",
                h.at.format("%H:%M:%S%.3f"),
                h.by,
                h.reason,
                h.change
            );
        }
        for x in &exchanges {
            println!(
                "   {} {} HTTP {} en {:.1} ms: requête {} octets, réponse {} octets, {:?}",
                x.operation,
                x.message_id,
                x.http_status.map_or("-".to_string(), |s| s.to_string()),
                x.duration.as_secs_f64() * 1000.0,
                x.request.len(),
                x.response.as_ref().map_or(0, |r| r.len()),
                x.outcome
            );
        }
        if let Some(x) = exchanges.first() {
            println!(
                "\n   requête SOAP envoyée:\n{}",
                String::from_utf8_lossy(&x.request)
            );
        }
        println!(
            "\nstatut final: {} — démonstration terminée",
            record.status().label()
        );
    }
    sandbox.shutdown().await;
    Ok(())
}
