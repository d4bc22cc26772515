//! Shared helpers of the end-to-end tests: a sandbox in a temporary folder, clients built from
//! the `segur.toml` it writes, the reference data folder, and `xmllint`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use segur_ins_core::insi::InsiClient;
use segur_net::trace::{MemoryTraceSink, TraceSink};
use segur_sandbox::{Sandbox, SandboxOptions};

/// `../shared/reference`, or `$SEGUR_REFERENCE`.
pub fn reference_dir() -> PathBuf {
    if let Ok(p) = std::env::var("SEGUR_REFERENCE") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference")
}

/// A running sandbox with its temporary folder.
pub struct TestSandbox {
    /// The sandbox.
    pub sandbox: Sandbox,
    /// Keeps the folder alive.
    pub dir: tempfile::TempDir,
}

/// Starts a sandbox in a fresh temporary folder.
pub async fn start_sandbox() -> TestSandbox {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(SandboxOptions::new(dir.path()))
        .await
        .expect("sandbox starts");
    TestSandbox { sandbox, dir }
}

impl TestSandbox {
    /// An INSi client from the sandbox's `segur.toml`, tracing into memory.
    pub fn client(&self) -> (InsiClient, Arc<MemoryTraceSink>) {
        let trace = Arc::new(MemoryTraceSink::new());
        let s = self.sandbox.settings();
        let client = s
            .insi_client(
                self.sandbox.dir(),
                uuid::Uuid::new_v4(),
                trace.clone() as Arc<dyn TraceSink>,
            )
            .expect("client");
        (client, trace)
    }
}

/// Validates `xml` against `schema` with xmllint; Err carries xmllint's output.
pub fn xmllint(schema: &Path, xml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, xml).map_err(|e| e.to_string())?;
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(schema)
        .arg(&file)
        .output()
        .map_err(|e| format!("cannot run xmllint (install libxml2-utils): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
