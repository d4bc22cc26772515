//! The child process of the kill -9 test (`tests/tests/outbox_kill.rs`): feeds the documents of a
//! folder to the DMP through the facade, picking up where the journal says a previous (killed)
//! run left off. Built with `segur`'s `testing` feature: `SEGUR_TEST_CRASHPOINT=<name>:<n>`
//! aborts it at a named point of the outbox.
//!
//! Usage: `outbox_feeder <segur.toml> <documents folder> <local id> <max attempts, 0 = all>`.
//! The folder holds `uids.txt` (one uniqueId a line) and `<i>.xml` for line `i` (from 0).
//! Prints `ready` once the journal is open. Exit codes: 0 every document is accessible;
//! 3 the attempt budget is spent; 4 documents remain (errors); 2 bad usage or setup failure.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use segur::{DmpDocumentStatus, DmpSendOptions, Segur};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, settings, docs, local_id, max] = args.as_slice() else {
        eprintln!("usage: outbox_feeder <segur.toml> <documents folder> <local id> <max>");
        return ExitCode::from(2);
    };
    let max: usize = max.parse().unwrap_or(0);
    let docs = PathBuf::from(docs);
    let Ok(uids) = std::fs::read_to_string(docs.join("uids.txt")) else {
        eprintln!("no uids.txt");
        return ExitCode::from(2);
    };
    let segur = match Segur::open_file(settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("open: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(who) = segur.default_practitioner().cloned() else {
        eprintln!("no [practitioner]");
        return ExitCode::from(2);
    };
    println!("ready");
    let _ = std::io::stdout().flush();
    let mut attempts = 0;
    let mut left = 0;
    for (i, uid) in uids.lines().enumerate() {
        let row = match segur.journal().dmp_document(uid) {
            Ok(r) => r.map(|(row, _)| row.status),
            Err(e) => {
                eprintln!("journal: {e}");
                return ExitCode::from(2);
            }
        };
        if row == Some(DmpDocumentStatus::Accessible) {
            continue;
        }
        if max > 0 && attempts == max {
            return ExitCode::from(3);
        }
        attempts += 1;
        let sent = match row {
            None => {
                let Ok(cda) = std::fs::read(docs.join(format!("{i}.xml"))) else {
                    eprintln!("cannot read document {i}");
                    return ExitCode::from(2);
                };
                segur
                    .dmp_send(local_id, &who, &cda, &DmpSendOptions::default())
                    .await
            }
            Some(_) => segur.dmp_retry(uid, &who).await,
        };
        if let Err(e) = sent {
            eprintln!("document {i}: {e}");
            left += 1;
        }
    }
    if left > 0 {
        ExitCode::from(4)
    } else {
        ExitCode::SUCCESS
    }
}
