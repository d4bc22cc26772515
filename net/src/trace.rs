//! Traces of the exchanges with national services.
//!
//! Every call can be recorded, request and response, through a [`TraceSink`] (RNIV rules 37 and
//! 39, MSSanté traceability). Traces hold patient data: [`DirTraceSink`] writes them owner-only.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use crate::error::{NetError, Result};

/// One exchange with a national service (RNIV rules 37/39, MSSanté traceability).
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The service, e.g. `"insi"`.
    pub service: &'static str,
    /// The operation, e.g. `"rechercherInsAvecTraitsIdentite"`.
    pub operation: String,
    /// The message identifier (WS-Addressing `MessageID`, Message-ID...).
    pub message_id: String,
    /// The URL called.
    pub endpoint: String,
    /// When the request was sent.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// How long the exchange took.
    pub duration: Duration,
    /// The request as sent.
    pub request: Bytes,
    /// The response as received, if any.
    pub response: Option<Bytes>,
    /// The HTTP status, if a response was received.
    pub http_status: Option<u16>,
    /// How it ended.
    pub outcome: Outcome,
}

/// How an exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A normal response.
    Ok,
    /// A fault from the service, with its code (e.g. `"siram_40"`).
    Fault(String),
    /// A transport or protocol failure, described without patient data.
    Failed(String),
}

/// Where exchanges are recorded. Implementations must not panic and must not block for long.
pub trait TraceSink: Send + Sync {
    /// Records one exchange.
    fn record(&self, exchange: &Exchange);
}

impl<T: TraceSink + ?Sized> TraceSink for Arc<T> {
    fn record(&self, exchange: &Exchange) {
        (**self).record(exchange);
    }
}

impl<T: TraceSink + ?Sized> TraceSink for Box<T> {
    fn record(&self, exchange: &Exchange) {
        (**self).record(exchange);
    }
}

/// A sink that records nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrace;

impl TraceSink for NoTrace {
    fn record(&self, _exchange: &Exchange) {}
}

/// Writes each exchange as files in a folder:
/// `<UTC yyyymmddThhmmss.mmm>_<service>_<operation>_<message id>_request.xml` and, when there is
/// a response, `..._response.xml`. Names are sanitised to `[A-Za-z0-9._-]`. Files (and the
/// folder, when created here) are owner-only on Unix. Write failures are logged, never raised.
#[derive(Debug, Clone)]
pub struct DirTraceSink {
    dir: PathBuf,
}

impl DirTraceSink {
    /// Uses `dir`, creating it (and its parents) if needed.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        create_private_dir(&dir).map_err(|source| NetError::ReadFile {
            what: "trace folder",
            path: dir.display().to_string(),
            source,
        })?;
        Ok(Self { dir })
    }

    /// The folder written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The common file name prefix of an exchange (without `_request.xml` / `_response.xml`).
    pub fn file_stem(exchange: &Exchange) -> String {
        format!(
            "{}_{}_{}_{}",
            exchange.started_at.format("%Y%m%dT%H%M%S%.3f"),
            sanitise(exchange.service),
            sanitise(&exchange.operation),
            sanitise(&exchange.message_id),
        )
    }
}

impl TraceSink for DirTraceSink {
    fn record(&self, exchange: &Exchange) {
        let stem = Self::file_stem(exchange);
        let mut files = vec![(format!("{stem}_request.xml"), &exchange.request)];
        if let Some(response) = &exchange.response {
            files.push((format!("{stem}_response.xml"), response));
        }
        for (name, content) in files {
            let path = self.dir.join(&name);
            if let Err(e) = write_private(&path, content) {
                tracing::warn!(path = %path.display(), error = %e, "cannot write exchange trace");
            }
        }
    }
}

/// Keeps exchanges in memory (tests, demos).
#[derive(Debug, Default)]
pub struct MemoryTraceSink {
    exchanges: Mutex<Vec<Exchange>>,
}

impl MemoryTraceSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the exchanges recorded so far, oldest first.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl TraceSink for MemoryTraceSink {
    fn record(&self, exchange: &Exchange) {
        self.exchanges
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(exchange.clone());
    }
}

/// Keeps `[A-Za-z0-9._-]`, replaces anything else with `_`, at most 80 characters, never empty
/// and never a path component like `..`.
fn sanitise(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(80)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.chars().all(|c| c == '.') {
        out = out.replace('.', "_");
        if out.is_empty() {
            out.push('_');
        }
    }
    out
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(content)?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn exchange(response: Option<&'static str>) -> Exchange {
        Exchange {
            service: "insi",
            operation: "rechercherInsAvecTraitsIdentite".to_owned(),
            message_id: "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427".to_owned(),
            endpoint: "https://127.0.0.1:1/insi".to_owned(),
            started_at: chrono::Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap()
                + chrono::Duration::milliseconds(89),
            duration: Duration::from_millis(12),
            request: Bytes::from_static(b"<req/>"),
            response: response.map(|r| Bytes::from_static(r.as_bytes())),
            http_status: response.map(|_| 200),
            outcome: Outcome::Ok,
        }
    }

    #[test]
    fn sanitising() {
        assert_eq!(sanitise("urn:uuid:ab/../c d"), "urn_uuid_ab_.._c_d");
        assert_eq!(sanitise(".."), "__");
        assert_eq!(sanitise(""), "_");
    }

    #[test]
    fn dir_sink_writes_request_and_response() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("traces/sub");
        let sink = DirTraceSink::new(&dir).unwrap();
        sink.record(&exchange(Some("<resp/>")));
        sink.record(&exchange(None));
        let stem = "20250304T050607.089_insi_rechercherInsAvecTraitsIdentite_urn_uuid_1b4e28ba-2fa1-11d2-883f-0016d3cca427";
        let req = fs::read(dir.join(format!("{stem}_request.xml"))).unwrap();
        assert_eq!(req, b"<req/>");
        let resp = fs::read(dir.join(format!("{stem}_response.xml"))).unwrap();
        assert_eq!(resp, b"<resp/>");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join(format!("{stem}_request.xml")))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0);
        }
    }

    #[test]
    fn dir_sink_does_not_panic_when_the_folder_vanishes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("gone");
        let sink = DirTraceSink::new(&dir).unwrap();
        fs::remove_dir(&dir).unwrap();
        sink.record(&exchange(Some("<resp/>")));
    }

    #[test]
    fn memory_and_arc_sinks() {
        let sink = Arc::new(MemoryTraceSink::new());
        let as_dyn: Arc<dyn TraceSink> = sink.clone();
        as_dyn.record(&exchange(None));
        Arc::clone(&sink).record(&exchange(Some("<r/>")));
        NoTrace.record(&exchange(None));
        let got = sink.exchanges();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].http_status, Some(200));
        assert_eq!(got[0].outcome, Outcome::Ok);
    }
}
