//! The `segur` command: human and JSON output, exit codes 0 / 1 / 2, and the network commands
//! against a sandbox started as a separate process.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

fn segur(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segur"))
        .args(args)
        .output()
        .expect("run segur")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}

fn reference() -> std::path::PathBuf {
    std::env::var("SEGUR_REFERENCE")
        .map(Into::into)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"))
}

#[test]
fn ins_check() {
    let o = segur(&["ins", "check", "1810163220751"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("1810163220751 40"));
    let o = segur(&["ins", "check", "180032B020401", "--key", "23"]);
    assert_eq!(o.status.code(), Some(0));
    let o = segur(&["ins", "check", "181016322075142"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("expected 40, got 42"));
    let o = segur(&["--json", "ins", "check", "1810163220751"]);
    assert_eq!(json(&o)["matricule"], "181016322075140");
    let o = segur(&["--json", "ins", "check", "18101X3220751"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["error"]["kind"], "matricule");
}

#[test]
fn ins_normalize_needs_confirmation() {
    let o = segur(&["ins", "normalize", "--nom", "D’ÆION", "--prenoms", "CŒUR"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--confirm"));
    let o = segur(&["--json", "ins", "normalize", "--nom", "D’ÆION"]);
    assert_eq!(json(&o)["error"]["proposal"], "D'AEION");
    let o = segur(&[
        "--json",
        "ins",
        "normalize",
        "--nom",
        "D’ÆION",
        "--prenoms",
        "CŒUR",
        "--confirm",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    assert_eq!(v["nom_naissance"], "D'AEION");
    assert_eq!(v["prenoms"][0], "COEUR");
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(segur(&["ins", "check"]).status.code(), Some(2));
    assert_eq!(segur(&["nope"]).status.code(), Some(2));
    assert_eq!(
        segur(&["insi", "search", "--nom", "X"]).status.code(),
        Some(2)
    );
    assert_eq!(segur(&["--help"]).status.code(), Some(0));
}

#[test]
fn insi_replay_of_cnda_files() {
    let f = reference().join("insi/examples/sapa-connecteur-java/TEST_2.04_cas2.xml");
    let o = segur(&["--json", "insi", "replay", f.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(v["code"], "00");
    assert_eq!(v["identity"]["ins"]["matricule"], "109076322083489");
    assert_eq!(v["identity"]["history"].as_array().unwrap().len(), 2);
    let f = reference().join("insi/examples/sapa-connecteur-java/REP_CR01.xml");
    let o = segur(&["insi", "replay", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("CR 01"));
    let o = segur(&["insi", "replay", "/nonexistent.xml"]);
    assert_eq!(o.status.code(), Some(1));
}

struct SandboxProcess(Child);
impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sandbox(dir: &Path) -> SandboxProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_segur"))
        .args([
            "sandbox",
            "--dir",
            dir.to_str().unwrap(),
            "--port-base",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sandbox");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut saw_insi = false;
    for line in lines.by_ref() {
        let line = line.unwrap();
        saw_insi |= line.starts_with("INSi: https://127.0.0.1:");
        if line == "ready" {
            break;
        }
    }
    assert!(saw_insi, "the sandbox prints its INSi endpoint");
    SandboxProcess(child)
}

#[test]
fn insi_search_against_the_sandbox_process() {
    let dir = tempfile::tempdir().unwrap();
    let _sb = start_sandbox(dir.path());
    let config = dir.path().join("segur.toml");
    let traces = dir.path().join("traces");
    let o = segur(&[
        "--json",
        "insi",
        "search",
        "--nom",
        "Tchitchi",
        "--prenoms",
        "Ola Catarina Bella",
        "--sexe",
        "F",
        "--naissance",
        "1936-06-21",
        "--config",
        config.to_str().unwrap(),
        "--trace-dir",
        traces.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(v["identity"]["ins"]["matricule"], "236066322083656");
    assert_eq!(v["attempts"].as_array().unwrap().len(), 3);
    // One request and one response file per call.
    let files: Vec<_> = std::fs::read_dir(&traces)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        files.iter().filter(|f| f.ends_with("_request.xml")).count(),
        3,
        "{files:?}"
    );
    assert_eq!(
        files
            .iter()
            .filter(|f| f.ends_with("_response.xml"))
            .count(),
        3,
        "{files:?}"
    );
    // Not found → exit 1; human output.
    let o = segur(&[
        "insi",
        "search",
        "--nom",
        "HOUILLES",
        "--prenoms",
        "PIERRE PAUL JACQUES",
        "--sexe",
        "M",
        "--naissance",
        "1993-01-27",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("CR 01"));
    // Refused locally (CNDA 2.03 case 3) without --confirm.
    let o = segur(&[
        "--json",
        "insi",
        "search",
        "--nom",
        "D’ÆION",
        "--prenoms",
        "CŒUR",
        "--sexe",
        "M",
        "--naissance",
        "1987-01-01",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["error"]["kind"], "needs_confirmation");
    // Missing config → clear error.
    let o = segur(&[
        "insi",
        "search",
        "--nom",
        "A",
        "--prenoms",
        "B",
        "--sexe",
        "M",
        "--naissance",
        "2000-01-01",
        "--config",
        "/nonexistent/segur.toml",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("segur sandbox"));
}

#[test]
fn demo_ins_reaches_qualifiee() {
    let dir = tempfile::tempdir().unwrap();
    let o = segur(&[
        "--json",
        "demo",
        "ins",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(v["status"], "QUAL");
    assert_eq!(v["ins"]["matricule"], "181016322075140");
    assert_eq!(v["exchanges"].as_array().unwrap().len(), 1);
    let o = segur(&["demo", "ins"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("PROV → RECUP"), "{text}");
    assert!(text.contains("RECUP → QUAL"), "{text}");
    // The journal the demo wrote is readable by `segur journal`.
    let config = dir.path().join("segur.toml");
    let o = segur(&[
        "--json",
        "journal",
        "query",
        "--config",
        config.to_str().unwrap(),
        "--status",
        "ok",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(v["exchanges"][0]["patient_local_id"], "IPP-0001");
    assert_eq!(v["exchanges"][0]["practitioner"], "10101010101");
    let csv = dir.path().join("x.csv");
    let o = segur(&[
        "journal",
        "export",
        "--config",
        config.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--since",
        "2020-01-01",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 2);
    let o = segur(&[
        "journal",
        "query",
        "--config",
        config.to_str().unwrap(),
        "--since",
        "yesterday",
    ]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn dmp_commands_against_the_sandbox_process() {
    let dir = tempfile::tempdir().unwrap();
    let _sb = start_sandbox(dir.path());
    let config = dir.path().join("segur.toml");
    let config = config.to_str().unwrap();
    let traces = dir.path().join("dmp-traces");
    let traces = traces.to_str().unwrap();
    let ok = |o: &Output| {
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    const INS: &str = "279035121518989";
    // Not yet a qualified identity of the journal: a clear error.
    let o = segur(&["--json", "dmp", "status", INS, "--config", config]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["error"]["kind"], "not_found");
    let o = segur(&[
        "--json",
        "dmp",
        "qualify",
        "IPP-PT3",
        "--nom",
        "PAT-TROIS",
        "--prenoms",
        "DOMINIQUE MARIE-LOUISE",
        "--sexe",
        "F",
        "--naissance",
        "1979-03-28",
        "--config",
        config,
    ]);
    ok(&o);
    assert_eq!(json(&o)["identity"]["status"], "QUAL");
    let o = segur(&[
        "--json",
        "dmp",
        "status",
        INS,
        "--config",
        config,
        "--trace-dir",
        traces,
    ]);
    ok(&o);
    assert_eq!(json(&o)["status"]["authorization"], "NON_AUTORISE");
    // Every SOAP request and response of the call is written as a file.
    let files: Vec<_> = std::fs::read_dir(traces).unwrap().collect();
    assert_eq!(files.len(), 2, "{files:?}");
    // Consent is required.
    let o = segur(&["dmp", "authorize", INS, "--config", config]);
    assert_eq!(o.status.code(), Some(2));
    ok(&segur(&[
        "dmp",
        "authorize",
        INS,
        "--consent",
        "--config",
        config,
    ]));
    // Build a VSM for the patient, send it masked.
    let request = dir.path().join("vsm.json");
    let mut req: serde_json::Value =
        serde_json::from_str(include_str!("../examples/vsm-request.json")).unwrap();
    req["patient"] = "IPP-PT3".into();
    std::fs::write(&request, req.to_string()).unwrap();
    let vsm = dir.path().join("vsm.xml");
    ok(&segur(&[
        "cda",
        "vsm",
        "build",
        request.to_str().unwrap(),
        "-o",
        vsm.to_str().unwrap(),
        "--config",
        config,
    ]));
    let o = segur(&[
        "--json",
        "dmp",
        "send",
        vsm.to_str().unwrap(),
        "--mask-ps",
        "--config",
        config,
    ]);
    ok(&o);
    let uid = json(&o)["sent"]["unique_id"].as_str().unwrap().to_owned();
    let o = segur(&[
        "--json",
        "dmp",
        "find",
        INS,
        "--type",
        "SYNTH",
        "--since",
        "2020-01-01",
        "--config",
        config,
    ]);
    ok(&o);
    let docs = json(&o)["documents"].as_array().unwrap().clone();
    let mine = docs
        .iter()
        .find(|d| d["unique_id"] == uid.as_str())
        .expect("sent VSM found");
    assert_eq!(mine["masked"], true);
    let out = dir.path().join("got.xml");
    ok(&segur(&[
        "dmp",
        "get",
        INS,
        &uid,
        "-o",
        out.to_str().unwrap(),
        "--config",
        config,
    ]));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&vsm).unwrap());
    ok(&segur(&["dmp", "unmask", INS, &uid, "--config", config]));
    ok(&segur(&["dmp", "delete", INS, &uid, "--config", config]));
    let o = segur(&["--json", "dmp", "dashboard", "--config", config]);
    ok(&o);
    assert_eq!(
        json(&o)["documents"][0]["status_label"],
        "Supprimé dans le DMP"
    );
    // A patient who opposed feeding: nothing is sent, exit 1 with the stable code.
    ok(&segur(&[
        "dmp",
        "qualify",
        "IPP-TC",
        "--nom",
        "TCHITCHI",
        "--prenoms",
        "CATARINA",
        "--sexe",
        "F",
        "--naissance",
        "1936-06-21",
        "--config",
        config,
    ]));
    let o = segur(&[
        "--json",
        "dmp",
        "status",
        "236066322083656",
        "--config",
        config,
    ]);
    ok(&o);
    assert_eq!(json(&o)["status"]["feed_blocked"], "feeding_opposed");
    // DMP/CONF.01: the DMP knows NESSI NATHALIE as RUTH. The send is refused with the reason
    // as data, the document stays in the outbox; once confirmed, retry sends it.
    ok(&segur(&[
        "dmp",
        "qualify",
        "IPP-NN",
        "--nom",
        "NESSI",
        "--prenoms",
        "NATHALIE",
        "--sexe",
        "F",
        "--naissance",
        "1977-07-14",
        "--config",
        config,
    ]));
    const NESSI: &str = "277076322082910";
    let o = segur(&["--json", "dmp", "status", NESSI, "--config", config]);
    ok(&o);
    assert_eq!(
        json(&o)["status"]["traits_confirmed"],
        false,
        "{}",
        json(&o)
    );
    req["patient"] = "IPP-NN".into();
    std::fs::write(&request, req.to_string()).unwrap();
    let vsm_nn = dir.path().join("vsm-nn.xml");
    ok(&segur(&[
        "cda",
        "vsm",
        "build",
        request.to_str().unwrap(),
        "-o",
        vsm_nn.to_str().unwrap(),
        "--config",
        config,
    ]));
    let o = segur(&[
        "--json",
        "dmp",
        "send",
        vsm_nn.to_str().unwrap(),
        "--config",
        config,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = &json(&o)["error"];
    assert_eq!(err["code"], 106, "{err}");
    assert_eq!(err["reason"]["kind"], "traits_mismatch", "{err}");
    assert_eq!(err["reason"]["fields"][0], "prenoms", "{err}");
    let o = segur(&["--json", "dmp", "dashboard", "--config", config]);
    ok(&o);
    let rows = json(&o)["documents"].as_array().unwrap().clone();
    let blocked = rows
        .iter()
        .find(|r| r["ins"] == NESSI)
        .expect("the refused document is kept in the outbox");
    assert_eq!(blocked["not_sent_reason"], "traits_mismatch", "{blocked}");
    let uid = blocked["unique_id"].as_str().unwrap().to_owned();
    ok(&segur(&[
        "--json",
        "dmp",
        "confirm-traits",
        NESSI,
        "--config",
        config,
    ]));
    ok(&segur(&["dmp", "retry", &uid, "--config", config]));
    ok(&segur(&[
        "dmp",
        "authorize",
        NESSI,
        "--consent",
        "--config",
        config,
    ]));
    let o = segur(&[
        "--json", "dmp", "find", NESSI, "--type", "SYNTH", "--config", config,
    ]);
    ok(&o);
    assert_eq!(
        json(&o)["documents"].as_array().map(Vec::len),
        Some(1),
        "{}",
        json(&o)
    );
}

#[test]
fn demo_dmp_walks_the_workflow() {
    let o = segur(&["--json", "demo", "dmp"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(v["dashboard"][0]["status_label"], "Supprimé dans le DMP");
    assert_eq!(v["dashboard"][1]["status_label"], "Remplacé dans le DMP");
}
