//! Configuration: a TOML file (the one `segur sandbox` writes, plus an optional `[journal]`) or a
//! builder.
//!
//! ```toml
//! environment = "sandbox"               # sandbox | test | production
//! [lps]
//! name = "MonLogiciel"                  # urn:lps:<name>:<version>
//! version = "4.2"
//! idam = "SEGURSANDBOX"                 # CNDA authorisation number
//! [insi]
//! endpoint = "https://127.0.0.1:18443/lps"   # default for test / production: the national one
//! trust_anchors = "ca/trust-anchors.pem"
//! pkcs12 = "client/insi-auto.p12"
//! pkcs12_password_env = "SEGUR_PKCS12_PASSWORD"   # or pkcs12_password = "…" (sandbox)
//! [journal]
//! path = "segur-journal.sqlite"         # default; relative paths are from the file's folder
//! [dmp]                                 # optional: see segur_dmp::settings::DmpSettings
//! endpoint = "https://127.0.0.1:18444/si-dmp-server/v2/services"
//! # … trust_anchors, pkcs12, signing_pkcs12, structure, lps (written by `segur sandbox`)
//! [practitioner]                        # optional: the professional acting by default (CLI)
//! id_nat = "810000001239"               # 8 + RPPS
//! nom = "TEST"
//! prenom = "Camille"
//! profession = "10"                     # TRE_G15
//! specialty = "SM26"                    # TRE_R01 (doctors, pharmacists)
//! auth_mode = "INDIRECTE"               # DIRECTE | INDIRECTE | INDIRECTE_RENFORCEE
//! ```
//!
//! The installation UUID (`ContexteLPS/Instance`) is created once and kept in
//! `<journal>.instance` beside the journal.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use segur_dmp::settings::DmpSettings;
use segur_ins_core::insi::{Environment, InsiSettings, LpsSettings, Settings};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Result, SegurError};

/// Where the PKCS#12 password comes from.
#[derive(Clone)]
pub enum Password {
    /// In clear (sandbox only).
    Value(String),
    /// From an environment variable.
    Env(String),
    /// Asked to the host each time a client is built (e.g. from a secure store or a prompt).
    Callback(Arc<dyn Fn() -> Option<String> + Send + Sync>),
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Password::Value(_) => "Password::Value(<redacted>)",
            Password::Env(_) => "Password::Env",
            Password::Callback(_) => "Password::Callback",
        })
    }
}

/// `[journal]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct JournalSettings {
    /// SQLite file (default `segur-journal.sqlite` beside the configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

/// The configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// Environment.
    #[serde(default)]
    pub environment: Environment,
    /// Software identity.
    pub lps: LpsSettings,
    /// INSi.
    pub insi: InsiSettings,
    /// Journal.
    #[serde(default)]
    pub journal: JournalSettings,
    /// DMP (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dmp: Option<DmpSettings>,
    /// The professional acting by default (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practitioner: Option<crate::views::Practitioner>,
}

/// A complete configuration, paths resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// Environment.
    pub environment: Environment,
    /// Software identity (`instance` filled from the persisted UUID when absent).
    pub lps: LpsSettings,
    /// INSi endpoint and credentials (paths absolute).
    pub insi: InsiSettings,
    /// PKCS#12 password source.
    pub password: Password,
    /// Journal file.
    pub journal_path: PathBuf,
    /// DMP settings (paths absolute), when configured.
    pub dmp: Option<DmpSettings>,
    /// The professional acting by default, when configured.
    pub practitioner: Option<crate::views::Practitioner>,
    /// Folder where every request and response (INSi, DMP) is also written as a file, besides
    /// the journal; not read from the file, set by the host (CLI `--trace-dir`).
    pub trace_dir: Option<PathBuf>,
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

impl Config {
    /// Reads a TOML configuration file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| SegurError::Config(format!("cannot read {}: {e}", path.display())))?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self::from_toml(&text, base)
    }

    /// Reads TOML text; relative paths are resolved from `base_dir`.
    pub fn from_toml(text: &str, base_dir: &Path) -> Result<Self> {
        let file: ConfigFile =
            toml::from_str(text).map_err(|e| SegurError::Config(e.to_string()))?;
        let mut insi = file.insi;
        insi.trust_anchors = resolve(base_dir, &insi.trust_anchors);
        insi.pkcs12 = resolve(base_dir, &insi.pkcs12);
        let password = match (&insi.pkcs12_password_env, &insi.pkcs12_password) {
            (Some(var), _) => Password::Env(var.clone()),
            (None, Some(v)) => Password::Value(v.clone()),
            (None, None) => {
                return Err(SegurError::Config(
                    "[insi] needs pkcs12_password_env (or pkcs12_password in the sandbox)".into(),
                ))
            }
        };
        let journal_path = resolve(
            base_dir,
            file.journal
                .path
                .as_deref()
                .unwrap_or(Path::new("segur-journal.sqlite")),
        );
        let dmp = file.dmp.map(|mut d| {
            d.trust_anchors = resolve(base_dir, &d.trust_anchors);
            d.pkcs12 = resolve(base_dir, &d.pkcs12);
            d.signing_pkcs12 = resolve(base_dir, &d.signing_pkcs12);
            d
        });
        if let Some(d) = &dmp {
            d.validate()
                .map_err(|e| SegurError::Config(e.to_string()))?;
        }
        Ok(Self {
            environment: file.environment,
            lps: file.lps,
            insi,
            password,
            journal_path,
            dmp,
            practitioner: file.practitioner,
            trace_dir: None,
        })
    }

    /// A builder.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The password, from its source.
    pub fn pkcs12_password(&self) -> Result<String> {
        match &self.password {
            Password::Value(v) => Ok(v.clone()),
            Password::Env(var) => std::env::var(var).map_err(|_| {
                SegurError::Config(format!(
                    "environment variable {var} (PKCS#12 password) is not set"
                ))
            }),
            Password::Callback(f) => {
                f().ok_or_else(|| SegurError::Config("no PKCS#12 password given".into()))
            }
        }
    }

    /// The ins-core settings (absolute paths, clear password resolved now).
    pub(crate) fn insi_settings(&self, instance: Uuid) -> Result<Settings> {
        let mut insi = self.insi.clone();
        insi.pkcs12_password = Some(self.pkcs12_password()?);
        insi.pkcs12_password_env = None;
        let mut lps = self.lps.clone();
        // The one installation UUID, chosen by `Segur::open` (configured or persisted).
        lps.instance = Some(instance);
        Ok(Settings {
            environment: self.environment,
            lps,
            insi,
        })
    }
}

/// Builds a [`Config`] in code.
#[derive(Debug, Default)]
pub struct ConfigBuilder {
    environment: Environment,
    lps: Option<LpsSettings>,
    endpoint: Option<String>,
    trust_anchors: Option<PathBuf>,
    pkcs12: Option<PathBuf>,
    password: Option<Password>,
    timeout_secs: Option<u64>,
    journal_path: Option<PathBuf>,
    dmp: Option<DmpSettings>,
    practitioner: Option<crate::views::Practitioner>,
}

impl ConfigBuilder {
    /// Environment (default sandbox).
    pub fn environment(mut self, e: Environment) -> Self {
        self.environment = e;
        self
    }
    /// Software name, version and CNDA authorisation number.
    pub fn software(mut self, name: &str, version: &str, idam: &str) -> Self {
        self.lps = Some(LpsSettings {
            name: name.into(),
            version: version.into(),
            idam: idam.into(),
            instance: None,
            emitter: None,
        });
        self
    }
    /// INSi endpoint (default: the environment's, see `Environment::insi_endpoint`).
    pub fn insi_endpoint(mut self, url: &str) -> Self {
        self.endpoint = Some(url.into());
        self
    }
    /// PEM file of the trust anchors.
    pub fn trust_anchors(mut self, path: impl Into<PathBuf>) -> Self {
        self.trust_anchors = Some(path.into());
        self
    }
    /// PKCS#12 file and password source.
    pub fn pkcs12(mut self, path: impl Into<PathBuf>, password: Password) -> Self {
        self.pkcs12 = Some(path.into());
        self.password = Some(password);
        self
    }
    /// Whole-exchange timeout.
    pub fn timeout_secs(mut self, s: u64) -> Self {
        self.timeout_secs = Some(s);
        self
    }
    /// Journal file.
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Self {
        self.journal_path = Some(path.into());
        self
    }
    /// DMP settings (absolute paths).
    pub fn dmp(mut self, settings: DmpSettings) -> Self {
        self.dmp = Some(settings);
        self
    }
    /// The professional acting by default.
    pub fn practitioner(mut self, p: crate::views::Practitioner) -> Self {
        self.practitioner = Some(p);
        self
    }
    /// Checks and builds.
    pub fn build(self) -> Result<Config> {
        if let Some(d) = &self.dmp {
            d.validate()
                .map_err(|e| SegurError::Config(e.to_string()))?;
        }
        let missing = |what: &str| SegurError::Config(format!("missing {what}"));
        Ok(Config {
            environment: self.environment,
            lps: self.lps.ok_or_else(|| missing("software identity"))?,
            insi: InsiSettings {
                // Empty: the environment's endpoint (none in the sandbox: checked at open).
                endpoint: self.endpoint.unwrap_or_default(),
                trust_anchors: self.trust_anchors.ok_or_else(|| missing("trust anchors"))?,
                pkcs12: self.pkcs12.ok_or_else(|| missing("PKCS#12 file"))?,
                pkcs12_password: None,
                pkcs12_password_env: None,
                timeout_secs: self.timeout_secs,
            },
            password: self.password.ok_or_else(|| missing("PKCS#12 password"))?,
            journal_path: self.journal_path.ok_or_else(|| missing("journal path"))?,
            dmp: self.dmp,
            practitioner: self.practitioner,
            trace_dir: None,
        })
    }
}
