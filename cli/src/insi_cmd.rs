//! `segur ins …` and `segur insi …`, through the facade: an INSi search is journaled like any
//! other exchange, with the installation UUID of the journal.

use std::path::Path;

use segur::ins::InsError;
use segur::{
    Actor, Field, IdentityInput, InsView, InsiIdentityView, InsiResultView, MatriculeInfo,
    SegurError,
};
use serde_json::{json, Value};

use crate::output::Out;
use crate::NetArgs;

/// A short machine name for an identity error.
fn ins_error_kind(e: &InsError) -> &'static str {
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

/// A short machine name for an error of the facade.
fn error_kind(e: &SegurError) -> &'static str {
    match e {
        SegurError::Ins(i) => ins_error_kind(i),
        SegurError::Config(_) => "config",
        SegurError::Journal(_) => "journal",
        SegurError::InvalidInput(_) => "input",
        _ => "other",
    }
}

fn fail(out: &Out, e: &SegurError) -> u8 {
    if out.json {
        let mut err = json!({"kind": error_kind(e), "message": e.to_string()});
        match e {
            SegurError::Ins(InsError::InsiFault {
                soap_code,
                subcode,
                code,
                severity,
                reason,
            }) => {
                err["soap_code"] = json!(soap_code);
                err["subcode"] = json!(subcode);
                err["code"] = json!(code);
                err["severity"] = json!(severity);
                err["reason"] = json!(reason);
            }
            SegurError::Ins(InsError::NeedsConfirmation {
                proposal,
                characters,
                field,
            }) => {
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

/// `valid`, `computed`, or `{"mismatch": {"expected": K}}` (a received matricule whose key is
/// wrong).
fn key_status(m: &MatriculeInfo) -> Value {
    match (m.key_status.as_str(), &m.expected_key) {
        ("mismatch", Some(expected)) => json!({"mismatch": {"expected": expected}}),
        (s, _) => json!(s),
    }
}

fn ins_json(ins: &InsView) -> Value {
    json!({
        "matricule": ins.matricule.matricule,
        "number": ins.matricule.number,
        "key": ins.matricule.key,
        "key_status": key_status(&ins.matricule),
        "oid": ins.oid,
    })
}

fn identity_json(id: &InsiIdentityView) -> Value {
    json!({
        "ins": ins_json(&id.ins),
        "history": id.history.iter().map(ins_json).collect::<Vec<_>>(),
        "traits": id.traits,
    })
}

fn print_result_human(r: &InsiResultView) {
    for (i, a) in r.attempts.iter().enumerate() {
        println!(
            "appel {}: prénoms [{}]{} → CR {}",
            i + 1,
            a.prenoms.join(" "),
            if a.with_cog { " + COG" } else { "" },
            a.code
        );
    }
    println!("CR {} {}", r.code, r.libelle);
    if let Some(id) = &r.identity {
        let t = &id.traits;
        println!("  Nom de naissance   {}", t.nom_naissance);
        println!("  Prénoms            {}", t.prenoms.join(" "));
        println!("  Premier prénom     {}", t.premier_prenom);
        println!("  Sexe               {}", t.sexe);
        println!("  Date de naissance  {}", t.date_naissance);
        println!(
            "  Lieu (COG)         {}",
            t.lieu_naissance.as_deref().unwrap_or("")
        );
        print_ins("  INS actif         ", &id.ins);
        for h in &id.history {
            print_ins("  INS historique    ", h);
        }
    }
}

fn print_ins(label: &str, ins: &InsView) {
    let m = &ins.matricule;
    let flag = match &m.expected_key {
        Some(expected) => format!("  (clé incorrecte: attendue {expected})"),
        None => String::new(),
    };
    println!("{label} {} clé {}  OID {}{flag}", m.number, m.key, ins.oid);
}

/// Prints a search result; exit code 0 when an identity was found, 1 otherwise.
fn report(out: &Out, result: Result<InsiResultView, SegurError>) -> u8 {
    match result {
        Ok(r) => {
            let found = r.identity.is_some();
            if out.json {
                out.json(&json!({
                    "ok": found,
                    "code": r.code,
                    "libelle": r.libelle,
                    "identity": r.identity.as_ref().map(identity_json),
                    "attempts": r.attempts,
                }));
            } else {
                print_result_human(&r);
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

pub fn ins_check(out: &Out, matricule: &str, key: Option<&str>) -> u8 {
    match segur::check_matricule(matricule, key) {
        Ok(m) => {
            if out.json {
                out.json(&json!({
                    "ok": true,
                    "matricule": m.matricule,
                    "number": m.number,
                    "key": m.key,
                    "key_status": key_status(&m),
                }));
            } else {
                let how = match m.key_status.as_str() {
                    "computed" => "clé calculée",
                    _ => "clé vérifiée",
                };
                println!("{} {}  ({how})", m.number, m.key);
            }
            0
        }
        Err(e) => fail(out, &e),
    }
}

pub fn ins_normalize(out: &Out, nom: &str, prenoms: Option<&str>, confirm: bool) -> u8 {
    let r = segur::normalize(Field::NomNaissance, nom, confirm).and_then(|n| {
        let p = prenoms
            .map(|p| segur::normalize(Field::Prenom, p, confirm))
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
        Err(SegurError::Ins(e @ InsError::NeedsConfirmation { .. })) if !out.json => {
            if let InsError::NeedsConfirmation { proposal, .. } = &e {
                eprintln!("error: {e}");
                eprintln!("proposed: {proposal}   (run again with --confirm to accept)");
            }
            1
        }
        Err(e) => fail(out, &e),
    }
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
    let traits = IdentityInput {
        nom_naissance: input.nom.into(),
        prenoms: input.prenoms.into(),
        date_naissance: input.naissance.into(),
        sexe: input.sexe.into(),
        lieu_naissance: input.cog.map(str::to_owned),
        ..Default::default()
    };
    let r = async {
        let segur = net.open()?;
        for w in segur.warnings() {
            eprintln!("warning: {w}");
        }
        let actor = Actor::user("segur-cli");
        if input.single {
            segur.insi_search_once(&traits, input.confirm, &actor).await
        } else {
            segur.insi_search(&traits, input.confirm, &actor).await
        }
    }
    .await;
    report(out, r)
}

pub fn insi_replay(out: &Out, path: &Path) -> u8 {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return out.fail("io", &format!("cannot read {}: {e}", path.display())),
    };
    report(out, segur::insi_replay(&bytes))
}
