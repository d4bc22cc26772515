//! `segur ins …`, `segur insi …`, `segur sandbox`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use segur_ins_core::insi::{
    InsiClient, InsiIdentity, InsiReply, Settings, StrategyOutcome, TraitsQuery,
};
use segur_ins_core::traits::{normalize_name, TraitsInput};
use segur_ins_core::{Field, Ins, InsError, KeyStatus, Matricule, TraitsStricts};
use segur_net::trace::{DirTraceSink, NoTrace, TraceSink};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::output::Out;
use crate::NetArgs;

/// A short machine name for an error.
pub(crate) fn error_kind(e: &InsError) -> &'static str {
    match e {
        InsError::MatriculeLength { .. }
        | InsError::MatriculeCharacter { .. }
        | InsError::MatriculeKey { .. }
        | InsError::NotAnInsOid(_) => "matricule",
        InsError::NeedsConfirmation { .. } => "needs_confirmation",
        InsError::EmptyTrait(_)
        | InsError::TraitCharacter { .. }
        | InsError::TraitFormat { .. }
        | InsError::BirthDate(_)
        | InsError::Sexe(_)
        | InsError::Cog(_) => "traits",
        InsError::Rniv { .. } => "rniv",
        InsError::Net(_) => "transport",
        InsError::InsiFault { .. } => "insi_fault",
        InsError::InsiReply { .. } | InsError::InsiReplyRefused { .. } => "insi_reply",
        InsError::Config(_) => "config",
        _ => "other",
    }
}

pub(crate) fn fail(out: &Out, e: &InsError) -> u8 {
    if out.json {
        let mut err = json!({"kind": error_kind(e), "message": e.to_string()});
        match e {
            InsError::InsiFault {
                soap_code,
                subcode,
                code,
                severity,
                reason,
            } => {
                err["soap_code"] = json!(soap_code);
                err["subcode"] = json!(subcode);
                err["code"] = json!(code);
                err["severity"] = json!(severity);
                err["reason"] = json!(reason);
            }
            InsError::NeedsConfirmation {
                proposal,
                characters,
                field,
            } => {
                err["proposal"] = json!(proposal);
                err["characters"] = json!(characters);
                err["field"] = json!(field.to_string());
            }
            _ => {}
        }
        out.json(&json!({"ok": false, "error": err}));
        1
    } else {
        out.fail(error_kind(e), &e.to_string())
    }
}

fn key_status(m: &Matricule) -> Value {
    match m.key_status() {
        KeyStatus::Valid => json!("valid"),
        KeyStatus::Computed => json!("computed"),
        KeyStatus::Mismatch { expected } => {
            json!({"mismatch": {"expected": format!("{expected:02}")}})
        }
    }
}

pub(crate) fn ins_json(ins: &Ins) -> Value {
    json!({
        "matricule": ins.matricule.to_15(),
        "number": ins.matricule.number(),
        "key": ins.matricule.key_str(),
        "key_status": key_status(&ins.matricule),
        "oid": ins.oid.as_str(),
    })
}

pub(crate) fn traits_json(t: &TraitsStricts) -> Value {
    json!({
        "nom_naissance": t.nom_naissance,
        "prenoms": t.prenoms,
        "premier_prenom": t.premier_prenom,
        "sexe": t.sexe.as_str(),
        "date_naissance": t.date_naissance.raw(),
        "lieu_naissance": t.lieu_naissance.as_ref().map(|c| c.as_str()),
    })
}

fn identity_json(id: &InsiIdentity) -> Value {
    json!({
        "ins": ins_json(id.ins()),
        "history": id.history().iter().map(ins_json).collect::<Vec<_>>(),
        "traits": traits_json(id.traits()),
    })
}

fn reply_json(r: &InsiReply) -> Value {
    json!({
        "code": r.code.code(),
        "libelle": r.libelle,
        "identity": r.identity.as_ref().map(identity_json),
    })
}

pub(crate) fn print_reply_human(r: &InsiReply) {
    println!("CR {} {}", r.code.code(), r.libelle);
    if let Some(id) = &r.identity {
        let t = id.traits();
        println!("  Nom de naissance   {}", t.nom_naissance);
        println!("  Prénoms            {}", t.liste_prenoms());
        println!("  Premier prénom     {}", t.premier_prenom);
        println!("  Sexe               {}", t.sexe);
        println!("  Date de naissance  {}", t.date_naissance.raw());
        println!(
            "  Lieu (COG)         {}",
            t.lieu_naissance.as_ref().map_or("", |c| c.as_str())
        );
        print_ins("  INS actif         ", id.ins());
        for h in id.history() {
            print_ins("  INS historique    ", h);
        }
    }
}

fn print_ins(label: &str, ins: &Ins) {
    let flag = match ins.matricule.key_status() {
        KeyStatus::Mismatch { expected } => format!("  (clé incorrecte: attendue {expected:02})"),
        _ => String::new(),
    };
    println!(
        "{label} {} clé {}  OID {}{flag}",
        ins.matricule.number(),
        ins.matricule.key_str(),
        ins.oid
    );
}

pub fn ins_check(out: &Out, matricule: &str, key: Option<&str>) -> u8 {
    let parsed = match key {
        Some(k) => Matricule::parse_with_key(matricule, k),
        None => Matricule::parse(matricule),
    };
    match parsed {
        Ok(m) => {
            if out.json {
                out.json(&json!({
                    "ok": true,
                    "matricule": m.to_15(),
                    "number": m.number(),
                    "key": m.key_str(),
                    "key_status": key_status(&m),
                }));
            } else {
                let how = match m.key_status() {
                    KeyStatus::Computed => "clé calculée",
                    _ => "clé vérifiée",
                };
                println!("{} {}  ({how})", m.number(), m.key_str());
            }
            0
        }
        Err(e) => fail(out, &e),
    }
}

pub fn ins_normalize(out: &Out, nom: &str, prenoms: Option<&str>, confirm: bool) -> u8 {
    let r = normalize_name(Field::NomNaissance, nom, confirm).and_then(|n| {
        let p = prenoms
            .map(|p| normalize_name(Field::Prenom, p, confirm))
            .transpose()?;
        Ok((n, p))
    });
    match r {
        Ok((n, p)) => {
            if out.json {
                let prenoms: Vec<&str> = p
                    .as_deref()
                    .map(|p| p.split(' ').collect())
                    .unwrap_or_default();
                out.json(&json!({"ok": true, "nom_naissance": n, "prenoms": prenoms}));
            } else {
                println!("Nom de naissance  {n}");
                if let Some(p) = p {
                    println!("Prénoms           {p}");
                }
            }
            0
        }
        Err(e @ InsError::NeedsConfirmation { .. }) if !out.json => {
            if let InsError::NeedsConfirmation { proposal, .. } = &e {
                eprintln!("error: {e}");
                eprintln!("proposed: {proposal}   (run again with --confirm to accept)");
            }
            1
        }
        Err(e) => fail(out, &e),
    }
}

/// Loads `segur.toml`; the installation UUID is taken from it or kept in `instance.uuid` beside it.
pub(crate) fn load_settings(path: &Path) -> Result<(Settings, PathBuf, Uuid), InsError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        InsError::Config(format!(
            "cannot read {}: {e} (run `segur sandbox` to get one for the sandbox)",
            path.display()
        ))
    })?;
    let settings: Settings =
        toml::from_str(&text).map_err(|e| InsError::Config(format!("{}: {e}", path.display())))?;
    let base = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let base = if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    };
    let instance = match settings.lps.instance {
        Some(i) => i,
        None => instance_uuid(&base.join("instance.uuid"))?,
    };
    Ok((settings, base, instance))
}

fn instance_uuid(path: &Path) -> Result<Uuid, InsError> {
    if let Ok(s) = std::fs::read_to_string(path) {
        if let Ok(u) = Uuid::parse_str(s.trim()) {
            return Ok(u);
        }
    }
    let u = Uuid::new_v4();
    std::fs::write(path, u.to_string())
        .map_err(|e| InsError::Config(format!("cannot write {}: {e}", path.display())))?;
    Ok(u)
}

pub(crate) fn trace_sink(dir: Option<&Path>) -> Result<Arc<dyn TraceSink>, InsError> {
    Ok(match dir {
        Some(d) => Arc::new(DirTraceSink::new(d)?),
        None => Arc::new(NoTrace),
    })
}

pub struct SearchInput<'a> {
    pub nom: &'a str,
    pub prenoms: &'a str,
    pub sexe: &'a str,
    pub naissance: &'a str,
    pub cog: Option<&'a str>,
    pub confirm: bool,
    pub single: bool,
}

pub async fn insi_search(out: &Out, input: SearchInput<'_>, net: &NetArgs) -> u8 {
    let traits = match TraitsStricts::from_input(
        &TraitsInput {
            nom_naissance: input.nom,
            prenoms: input.prenoms,
            premier_prenom: None,
            date_naissance: input.naissance,
            sexe: input.sexe,
            lieu_naissance: input.cog,
        },
        input.confirm,
    ) {
        Ok(t) => t,
        Err(e) => return fail(out, &e),
    };
    let client = match load_settings(&net.config).and_then(|(s, base, instance)| {
        s.insi_client(&base, instance, trace_sink(net.trace_dir.as_deref())?)
    }) {
        Ok(c) => c,
        Err(e) => return fail(out, &e),
    };
    for w in client.warnings() {
        eprintln!("warning: {w}");
    }
    let q = TraitsQuery::from_traits(&traits);
    let result: Result<StrategyOutcome, InsError> = if input.single {
        client.search_traits(&q).await.map(|reply| StrategyOutcome {
            attempts: vec![segur_ins_core::insi::Attempt {
                prenoms: q.prenoms.clone(),
                with_cog: q.lieu_naissance.is_some(),
                code: reply.code.clone(),
            }],
            reply,
        })
    } else {
        client.search_strategy(&q).await
    };
    report(out, &client, result)
}

fn report(out: &Out, _client: &InsiClient, result: Result<StrategyOutcome, InsError>) -> u8 {
    match result {
        Ok(o) => {
            let found = o.reply.identity.is_some();
            if out.json {
                let mut v = reply_json(&o.reply);
                v["ok"] = json!(found);
                v["attempts"] = o
                    .attempts
                    .iter()
                    .map(|a| json!({"prenoms": a.prenoms, "with_cog": a.with_cog, "code": a.code.code()}))
                    .collect::<Vec<_>>()
                    .into();
                out.json(&v);
            } else {
                for (i, a) in o.attempts.iter().enumerate() {
                    println!(
                        "appel {}: prénoms [{}]{} → CR {}",
                        i + 1,
                        a.prenoms.join(" "),
                        if a.with_cog { " + COG" } else { "" },
                        a.code.code()
                    );
                }
                print_reply_human(&o.reply);
            }
            if found {
                0
            } else {
                1
            }
        }
        Err(e) => fail(out, &e),
    }
}

pub async fn insi_replay(out: &Out, path: &Path) -> u8 {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return out.fail("io", &format!("cannot read {}: {e}", path.display())),
    };
    let lps = segur_ins_core::insi::LpsContext {
        idam: "REPLAY".into(),
        software_name: "segur".into(),
        software_version: env!("CARGO_PKG_VERSION").into(),
        instance: Uuid::nil(),
        emitter: String::new(),
        auth: segur_ins_core::insi::AuthMode::SoftwareCertificate,
    };
    let client = match InsiClient::builder(lps).replay(bytes).build() {
        Ok(c) => c,
        Err(e) => return fail(out, &e),
    };
    let q = TraitsQuery {
        nom_naissance: "REPLAY".into(),
        prenoms: vec!["REPLAY".into()],
        sexe: None,
        date_naissance: "2000-01-01".into(),
        lieu_naissance: None,
    };
    let r = client.search_traits(&q).await.map(|reply| StrategyOutcome {
        attempts: vec![],
        reply,
    });
    report(out, &client, r)
}

pub async fn sandbox(out: &Out, dir: PathBuf, port_base: u16, outage: bool) -> u8 {
    let sb = match segur_sandbox::Sandbox::start(segur_sandbox::SandboxOptions {
        port_base,
        ..segur_sandbox::SandboxOptions::new(dir)
    })
    .await
    {
        Ok(s) => s,
        Err(e) => return out.fail("sandbox", &e.to_string()),
    };
    sb.insi_faults().set_outage(outage);
    if out.json {
        out.json(&json!({
            "ok": true,
            "insi": sb.insi_url(),
            "dmp": sb.dmp_url(),
            "config": sb.settings_path(),
            "dir": sb.dir(),
            "idam": sb.settings().lps.idam,
        }));
    } else {
        println!("segur sandbox — simulated national services on 127.0.0.1");
        println!("INSi: {}", sb.insi_url());
        println!(
            "DMP: {}/{{patients,habilitations,registry,repository}}",
            sb.dmp_url()
        );
        println!("client configuration: {}", sb.settings_path().display());
        println!("trust anchors: {}", sb.files().trust_anchors.display());
        println!(
            "client certificate (INSI-AUTO): {} (password {})",
            sb.files().client_p12.display(),
            segur_sandbox::SANDBOX_P12_PASSWORD
        );
        println!(
            "VIHF signing certificate: {}",
            sb.files().signature_pkcs12.display()
        );
        println!("IDAM accepted: {}", sb.settings().lps.idam);
        println!(
            "INSi faults: POST {} with outage=on|off or delay_ms=N",
            sb.insi_url().replace("/lps", "/sandbox/insi/faults")
        );
        println!(
            "DMP faults: POST https://{}/sandbox/dmp/faults with fault=soap|off, delay_ms=N, malformed=on|off or lost_answers=N",
            sb.dmp_addr()
        );
        println!("press Ctrl-C to stop");
    }
    println!("ready");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    sb.shutdown().await;
    0
}
