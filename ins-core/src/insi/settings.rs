//! The client settings (`[lps]` and `[insi]` of `segur.toml`), and building a client from them.
//!
//! ```toml
//! environment = "sandbox"          # sandbox | test | production
//! [lps]
//! name = "segur"                   # urn:lps:<name>:<version>
//! version = "0.1.0"
//! idam = "SEGURSANDBOX"            # CNDA authorisation number
//! instance = "3f0c…"               # installation UUID, created once
//! [insi]
//! endpoint = "https://127.0.0.1:18443/lps"
//! trust_anchors = "ca/trust-anchors.pem"     # relative to the file's folder
//! pkcs12 = "client/insi-auto.p12"
//! pkcs12_password_env = "SEGUR_PKCS12_PASSWORD"   # or pkcs12_password = "…"
//! timeout_secs = 30
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use segur_net::http::HttpsConfig;
use segur_net::tls::{ClientIdentity, TrustAnchors};
use segur_net::trace::TraceSink;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AuthMode, InsiClient, LpsContext};
use crate::error::{InsError, Result};

/// Which national environment the endpoints belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Our loopback simulators.
    #[default]
    Sandbox,
    /// The national test (qualification) platforms.
    Test,
    /// Production.
    Production,
}

impl Environment {
    /// The INSi endpoint for software-certificate (mutual TLS) access in this environment
    /// (`ins.md` §1.3); none for the sandbox, whose port is chosen at start.
    pub fn insi_endpoint(self) -> Option<&'static str> {
        match self {
            Environment::Sandbox => None,
            Environment::Test => Some("https://qualiflps-services-ps-tlsm.ameli.fr:443/lps"),
            Environment::Production => Some("https://services-ps-tlsm.ameli.fr:443/lps"),
        }
    }
}

/// `[lps]`: the software's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LpsSettings {
    /// Software name.
    pub name: String,
    /// Software version.
    pub version: String,
    /// CNDA authorisation number.
    pub idam: String,
    /// Installation UUID (created once and kept; the caller persists it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<Uuid>,
    /// `Emetteur`; defaults to the OU of the client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emitter: Option<String>,
}

/// `[insi]`: how to reach INSi.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsiSettings {
    /// Endpoint URL; when empty or absent, the environment's ([`Environment::insi_endpoint`]).
    #[serde(default)]
    pub endpoint: String,
    /// PEM file of the CA certificates to trust for the server.
    pub trust_anchors: PathBuf,
    /// PKCS#12 file of the INSI-AUTO / INSI-MANU certificate.
    pub pkcs12: PathBuf,
    /// The PKCS#12 password, in clear (sandbox only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs12_password: Option<String>,
    /// Name of the environment variable holding the PKCS#12 password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs12_password_env: Option<String>,
    /// Whole-exchange timeout in seconds (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

/// The settings file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Environment.
    #[serde(default)]
    pub environment: Environment,
    /// Software identity.
    pub lps: LpsSettings,
    /// INSi access.
    pub insi: InsiSettings,
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

impl Settings {
    /// The PKCS#12 password: from the environment variable if named, else the clear value.
    pub fn pkcs12_password(&self) -> Result<String> {
        if let Some(var) = &self.insi.pkcs12_password_env {
            return std::env::var(var).map_err(|_| {
                InsError::Config(format!(
                    "environment variable {var} (PKCS#12 password) is not set"
                ))
            });
        }
        self.insi.pkcs12_password.clone().ok_or_else(|| {
            InsError::Config("no PKCS#12 password (pkcs12_password_env or pkcs12_password)".into())
        })
    }

    /// The INSi endpoint: the configured one, else the environment's.
    pub fn endpoint(&self) -> Result<String> {
        if !self.insi.endpoint.trim().is_empty() {
            return Ok(self.insi.endpoint.clone());
        }
        self.environment
            .insi_endpoint()
            .map(str::to_owned)
            .ok_or_else(|| {
                InsError::Config("[insi] endpoint is required in the sandbox environment".into())
            })
    }

    /// Builds an INSi client; relative paths are read from `base_dir` (the settings file's
    /// folder). `instance` is used when the settings have none.
    pub fn insi_client(
        &self,
        base_dir: &Path,
        instance: Uuid,
        trace: Arc<dyn TraceSink>,
    ) -> Result<InsiClient> {
        let anchors = TrustAnchors::from_pem_file(resolve(base_dir, &self.insi.trust_anchors))?;
        let identity = ClientIdentity::from_pkcs12_file(
            resolve(base_dir, &self.insi.pkcs12),
            &self.pkcs12_password()?,
        )?;
        let emitter = self
            .lps
            .emitter
            .clone()
            .or_else(|| identity.subject_ou())
            .unwrap_or_default();
        let lps = LpsContext {
            idam: self.lps.idam.clone(),
            software_name: self.lps.name.clone(),
            software_version: self.lps.version.clone(),
            instance: self.lps.instance.unwrap_or(instance),
            emitter,
            auth: AuthMode::SoftwareCertificate,
        };
        let http = HttpsConfig {
            request_timeout: Duration::from_secs(self.insi.timeout_secs.unwrap_or(30)),
            ..HttpsConfig::default()
        };
        InsiClient::builder(lps)
            .endpoint(self.endpoint()?)
            .trust_anchors(anchors)
            .client_identity(identity)
            .http(http)
            .trace(trace)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(environment: Environment, endpoint: &str) -> Settings {
        Settings {
            environment,
            lps: LpsSettings {
                name: "x".into(),
                version: "1".into(),
                idam: "I".into(),
                instance: None,
                emitter: None,
            },
            insi: InsiSettings {
                endpoint: endpoint.into(),
                trust_anchors: "a.pem".into(),
                pkcs12: "c.p12".into(),
                pkcs12_password: Some("p".into()),
                pkcs12_password_env: None,
                timeout_secs: None,
            },
        }
    }

    #[test]
    fn endpoints_default_per_environment() {
        assert_eq!(
            settings(Environment::Test, "").endpoint().unwrap(),
            "https://qualiflps-services-ps-tlsm.ameli.fr:443/lps"
        );
        assert_eq!(
            settings(Environment::Production, " ").endpoint().unwrap(),
            "https://services-ps-tlsm.ameli.fr:443/lps"
        );
        assert!(settings(Environment::Sandbox, "").endpoint().is_err());
        assert_eq!(
            settings(Environment::Production, "https://other/lps")
                .endpoint()
                .unwrap(),
            "https://other/lps"
        );
    }
}
