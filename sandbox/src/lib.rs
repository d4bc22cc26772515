//! # segur-sandbox — loopback simulators of the national health services
//!
//! Same wire format as the real services, on 127.0.0.1, over mutual TLS with a test PKI
//! generated at start ([`pki`]) that mirrors the IGC-Santé chain (root → intermediate → server and
//! client certificates). [`Sandbox::start`] writes the PKI and a ready client configuration
//! (`segur.toml`) into a folder, then serves:
//!
//! - INSi ([`insi`]) at `https://127.0.0.1:<port>/lps`;
//! - the DMP ([`dmp`]) at `https://127.0.0.1:<port>/si-dmp-server/v2/services/{registry,
//!   repository,patients,habilitations}`, its state in `dmp.sqlite` in the same folder.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod dmp;
pub mod insi;
pub mod pki;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use segur_ins_core::insi::{Environment, InsiSettings, LpsSettings, Settings};
use segur_net::http::{handler_fn, HttpsServer};

use dmp::vihf::TrustedCas;
use dmp::{DmpFaults, DmpSimulator};
use insi::{Faults, InsiSimulator};
use pki::{PkiError, PkiFiles, TestPki};

/// The CNDA authorisation number the sandbox accepts by default.
pub const SANDBOX_IDAM: &str = "SEGURSANDBOX";
/// The password of the client PKCS#12 file the sandbox writes.
pub const SANDBOX_P12_PASSWORD: &str = "sandbox";
/// The acting practitioner written to `segur.toml` (`[practitioner]`, read by the `segur` facade
/// and CLI): a general practitioner with a valid test RPPS, not yet authorised on any seeded DMP.
pub const SANDBOX_PRACTITIONER_TOML: &str = r#"# The professional acting by default (CLI, demo): VIHF subject, XDS author.
[practitioner]
id_nat = "810000001239"          # 8 + RPPS
nom = "TEST"
prenom = "Camille"
profession = "10"                # TRE_G15: Médecin
specialty = "SM26"               # TRE_R01: Qualifié en médecine générale
auth_mode = "INDIRECTE"
"#;

/// The `[dmp]` settings of the sandbox for a DMP base URL, paths relative to the sandbox folder:
/// mutual TLS with the INSi client certificate, VIHF and XAdES signed with `client/signature.p12`,
/// test INS OIDs accepted.
pub fn sandbox_dmp_settings(endpoint: &str) -> segur_dmp::settings::DmpSettings {
    use segur_dmp::settings::{DmpSettings, LpsDmpSettings, StructureSettings};
    DmpSettings {
        endpoint: endpoint.to_owned(),
        trust_anchors: PathBuf::from("ca/trust-anchors.pem"),
        pkcs12: PathBuf::from("client/insi-auto.p12"),
        pkcs12_password: Some(SANDBOX_P12_PASSWORD.to_owned()),
        pkcs12_password_env: None,
        signing_pkcs12: PathBuf::from("client/signature.p12"),
        signing_pkcs12_password: Some(SANDBOX_P12_PASSWORD.to_owned()),
        signing_pkcs12_password_env: None,
        sender_oid: "1.2.250.1.999.1.1".into(),
        source_id: "1.2.250.1.999.1.1.2".into(),
        structure: StructureSettings {
            id_nat: "1499999999".into(),
            name: "Cabinet du Dr TEST".into(),
            secteur_activite: "SA07".into(),
        },
        lps: LpsDmpSettings {
            name: "segur".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            homologation: "SEGUR-DMP-SANDBOX".into(),
            id: None,
        },
        timeout_secs: Some(30),
        connect_timeout_secs: None,
        max_document_bytes: None,
        test_ins: true,
    }
}

/// Largest request body the simulators read.
const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// The one error type of the sandbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// Generating or writing the test PKI failed.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// A server could not start.
    #[error(transparent)]
    Net(#[from] segur_net::NetError),
    /// The DMP simulator's SQLite store failed.
    #[error("DMP sandbox store: {0}")]
    Store(String),
    /// Writing the client configuration failed.
    #[error("cannot write {path}: {detail}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
}

/// Where and how to start the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Folder for the PKI and `segur.toml` (created if missing).
    pub dir: PathBuf,
    /// First port: INSi listens on it, the DMP on the next one. 0 picks free ports.
    pub port_base: u16,
    /// Accepted CNDA authorisation numbers.
    pub idams: Vec<String>,
}

impl SandboxOptions {
    /// Options for a folder, free ports, and [`SANDBOX_IDAM`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            port_base: 0,
            idams: vec![SANDBOX_IDAM.to_owned()],
        }
    }
}

/// A running sandbox. Dropping it stops the servers.
pub struct Sandbox {
    pki: TestPki,
    files: PkiFiles,
    insi: HttpsServer,
    faults: Arc<Faults>,
    dmp: HttpsServer,
    dmp_sim: Arc<DmpSimulator>,
    settings: Settings,
    settings_path: PathBuf,
    dir: PathBuf,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("dir", &self.dir)
            .field("insi", &self.insi_url())
            .field("dmp", &self.dmp_url())
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Generates the PKI into `options.dir`, starts the simulators on 127.0.0.1 and writes
    /// `segur.toml` pointing at them. Must be called inside a tokio runtime.
    pub async fn start(options: SandboxOptions) -> Result<Self, SandboxError> {
        std::fs::create_dir_all(&options.dir).map_err(|e| SandboxError::Write {
            path: options.dir.clone(),
            detail: e.to_string(),
        })?;
        let dir = options.dir.canonicalize().unwrap_or(options.dir.clone());
        let (pki, files) = TestPki::generate_in(&dir, SANDBOX_P12_PASSWORD)?;
        let faults = Arc::new(Faults::default());
        let sim = Arc::new(InsiSimulator::new(options.idams.clone(), faults.clone()));
        let handler = handler_fn(move |req| {
            let sim = sim.clone();
            async move { sim.handle(req).await }
        });
        let insi = HttpsServer::bind(
            SocketAddr::from((Ipv4Addr::LOCALHOST, options.port_base)),
            pki.server_tls()?,
            MAX_REQUEST_BYTES,
            handler,
        )
        .await?;
        let dmp_sim = Arc::new(DmpSimulator::open(
            &dir.join("dmp.sqlite"),
            TrustedCas {
                roots: vec![pki.root.cert_der.clone()],
                intermediates: vec![pki.intermediate.cert_der.clone()],
            },
            Arc::new(DmpFaults::default()),
        )?);
        let sim = dmp_sim.clone();
        let handler = handler_fn(move |req| {
            let sim = sim.clone();
            async move { sim.handle(req).await }
        });
        let dmp_port = if options.port_base == 0 {
            0
        } else {
            options.port_base.checked_add(1).ok_or_else(|| {
                segur_net::NetError::Server("no port left after port_base for the DMP".into())
            })?
        };
        let dmp = HttpsServer::bind(
            SocketAddr::from((Ipv4Addr::LOCALHOST, dmp_port)),
            pki.server_tls()?,
            dmp::MAX_REQUEST_BYTES,
            handler,
        )
        .await?;
        let settings = Settings {
            environment: Environment::Sandbox,
            lps: LpsSettings {
                name: "segur".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                idam: options
                    .idams
                    .first()
                    .cloned()
                    .unwrap_or_else(|| SANDBOX_IDAM.to_owned()),
                instance: Some(uuid::Uuid::new_v4()),
                emitter: None,
            },
            insi: InsiSettings {
                endpoint: format!("https://127.0.0.1:{}/lps", insi.local_addr().port()),
                trust_anchors: PathBuf::from("ca/trust-anchors.pem"),
                pkcs12: PathBuf::from("client/insi-auto.p12"),
                pkcs12_password: Some(SANDBOX_P12_PASSWORD.to_owned()),
                pkcs12_password_env: None,
                timeout_secs: Some(30),
            },
        };
        let settings_path = dir.join("segur.toml");
        let dmp_settings = sandbox_dmp_settings(&format!(
            "https://127.0.0.1:{}{}",
            dmp.local_addr().port(),
            dmp::BASE_PATH
        ));
        let toml_error = |e: toml::ser::Error| SandboxError::Write {
            path: settings_path.clone(),
            detail: e.to_string(),
        };
        let text = toml::to_string_pretty(&settings).map_err(toml_error)?;
        #[derive(serde::Serialize)]
        struct DmpSection<'a> {
            dmp: &'a segur_dmp::settings::DmpSettings,
        }
        let dmp_text =
            toml::to_string_pretty(&DmpSection { dmp: &dmp_settings }).map_err(toml_error)?;
        std::fs::write(
            &settings_path,
            format!(
                "# Written by `segur sandbox`: a client configuration for the sandbox.\n{text}\n{dmp_text}\n{SANDBOX_PRACTITIONER_TOML}"
            ),
        )
        .map_err(|e| SandboxError::Write {
            path: settings_path.clone(),
            detail: e.to_string(),
        })?;
        Ok(Self {
            pki,
            files,
            insi,
            faults,
            dmp,
            dmp_sim,
            settings,
            settings_path,
            dir,
        })
    }

    /// The INSi endpoint, `https://127.0.0.1:<port>/lps`.
    pub fn insi_url(&self) -> String {
        self.settings.insi.endpoint.clone()
    }
    /// The INSi server address.
    pub fn insi_addr(&self) -> SocketAddr {
        self.insi.local_addr()
    }
    /// Connections accepted by the INSi server so far (connection reuse checks).
    pub fn insi_connections(&self) -> u64 {
        self.insi.connections_accepted()
    }
    /// Fault switches of the INSi simulator.
    pub fn insi_faults(&self) -> &Arc<Faults> {
        &self.faults
    }
    /// The DMP services base URL, `https://127.0.0.1:<port>/si-dmp-server/v2/services`
    /// (`dmp.md` §1); append `/registry`, `/repository`, `/patients` or `/habilitations`.
    pub fn dmp_url(&self) -> String {
        format!(
            "https://127.0.0.1:{}{}",
            self.dmp.local_addr().port(),
            dmp::BASE_PATH
        )
    }
    /// The client `[dmp]` settings written to `segur.toml`, with absolute paths (ready for
    /// `DmpClient::from_settings`).
    pub fn dmp_settings(&self) -> segur_dmp::settings::DmpSettings {
        let mut s = sandbox_dmp_settings(&self.dmp_url());
        s.trust_anchors = self.dir.join(&s.trust_anchors);
        s.pkcs12 = self.dir.join(&s.pkcs12);
        s.signing_pkcs12 = self.dir.join(&s.signing_pkcs12);
        s
    }
    /// The DMP server address.
    pub fn dmp_addr(&self) -> SocketAddr {
        self.dmp.local_addr()
    }
    /// Fault switches of the DMP simulator (SOAP faults, delay, malformed answers).
    pub fn dmp_faults(&self) -> &Arc<DmpFaults> {
        self.dmp_sim.faults()
    }
    /// The DMP simulator (its store, for tests).
    pub fn dmp(&self) -> &Arc<DmpSimulator> {
        &self.dmp_sim
    }
    /// The client settings written to `segur.toml`.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
    /// Path of `segur.toml`.
    pub fn settings_path(&self) -> &Path {
        &self.settings_path
    }
    /// The sandbox folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The test PKI (to issue more certificates in tests).
    pub fn pki(&self) -> &TestPki {
        &self.pki
    }
    /// The PKI files.
    pub fn files(&self) -> &PkiFiles {
        &self.files
    }
    /// Stops the servers.
    pub async fn shutdown(self) {
        self.insi.shutdown().await;
        self.dmp.shutdown().await;
    }
}
