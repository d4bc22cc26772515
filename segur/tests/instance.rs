//! One installation UUID (`ContexteLPS/Instance`): the journal's, sent in every INSi request; a
//! configured `[lps] instance` is recorded in the journal, with a warning when it replaces one.

use segur::{Actor, Config, ExchangeQuery, IdentityInput, Segur};
use segur_sandbox::{Sandbox, SandboxOptions};

fn adrdeux() -> IdentityInput {
    IdentityInput {
        nom_naissance: "ADRDEUX".into(),
        prenoms: "LAURENT".into(),
        date_naissance: "1981-01-01".into(),
        sexe: "M".into(),
        ..Default::default()
    }
}

/// The sandbox's `segur.toml` with `[lps] instance` set and a journal of its own.
fn config_with_instance(sb: &Sandbox, name: &str, instance: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(sb.settings_path()).unwrap();
    let mut out = String::new();
    let mut in_lps = false;
    for line in text.lines() {
        if line.starts_with('[') {
            if in_lps {
                out.push_str(&format!("instance = \"{instance}\"\n"));
            }
            in_lps = line == "[lps]";
        }
        if !(in_lps && line.starts_with("instance")) {
            out.push_str(line);
            out.push('\n');
        }
    }
    let text = out;
    assert!(text.contains(instance), "[lps] section in segur.toml");
    let text = format!("{text}\n[journal]\npath = \"{name}.sqlite\"\n");
    let path = sb.dir().join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn the_journal_instance_is_sent_to_insi() {
    let dir = tempfile::tempdir().unwrap();
    let sb = Sandbox::start(SandboxOptions::new(dir.path().join("sb")))
        .await
        .unwrap();
    let segur = Segur::open_file(sb.settings_path()).unwrap();
    let r = segur
        .insi_search(&adrdeux(), false, &Actor::user("t"))
        .await
        .unwrap();
    assert_eq!(r.code, "00");
    let rows = segur.exchanges(&ExchangeQuery::default()).unwrap();
    assert!(!rows.is_empty());
    let want = segur.instance().to_string();
    for row in &rows {
        let payload = segur.journal().payload(row.id).unwrap().expect("payload");
        let text = String::from_utf8(payload.0).unwrap();
        assert!(text.contains(&want), "Instance {want} in the INSi request");
    }

    // A configured instance is recorded by a new journal, and sent...
    let chosen = "6f1c2b9e-3d4a-4e5f-8a7b-0c1d2e3f4a5b";
    let path = config_with_instance(&sb, "adopted", chosen);
    let adopted = Segur::open_file(&path).unwrap();
    assert_eq!(adopted.instance().to_string(), chosen);
    assert!(adopted.warnings().is_empty(), "{:?}", adopted.warnings());
    drop(adopted);
    // ...without a configured one, the journal's is kept...
    let text = std::fs::read_to_string(&path).unwrap();
    let bare: String = text
        .lines()
        .filter(|l| !l.starts_with("instance"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, bare).unwrap();
    assert_eq!(
        Segur::open_file(&path).unwrap().instance().to_string(),
        chosen
    );
    // ...and replacing it is the host's explicit choice, with a warning.
    let other = "00000000-0000-4000-8000-000000000001";
    std::fs::write(&path, text.replace(chosen, other)).unwrap();
    let replaced = Segur::open(Config::from_file(&path).unwrap()).unwrap();
    assert_eq!(replaced.instance().to_string(), other);
    assert!(
        replaced.warnings().iter().any(|w| w.contains("changed")),
        "{:?}",
        replaced.warnings()
    );
}
