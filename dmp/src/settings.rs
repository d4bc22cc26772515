//! The DMP client settings (`[dmp]` of `segur.toml`), and building a client from them.
//!
//! ```toml
//! [dmp]
//! endpoint = "https://127.0.0.1:18444/si-dmp-server/v2/services"   # services are appended
//! trust_anchors = "ca/trust-anchors.pem"       # relative to the file's folder
//! pkcs12 = "client/dmp-auth.p12"               # ORG authentication certificate (mutual TLS)
//! pkcs12_password_env = "SEGUR_DMP_PKCS12_PASSWORD"   # or pkcs12_password = "…"
//! signing_pkcs12 = "client/signature.p12"      # ORG signature certificate (VIHF, XAdES)
//! signing_pkcs12_password = "sandbox"          # or signing_pkcs12_password_env = "…"
//! sender_oid = "1.2.250.1.213.1.4.999.1"       # our LPS / installation OID (TD0.2 sender)
//! source_id = "1.2.250.1.213.1.4.999.1"        # XDS sourceId of our submission sets
//! timeout_secs = 60
//! max_document_bytes = 52428800                # 50 MiB
//! test_ins = true                              # sandbox / CNDA: accept test INS OIDs
//! [dmp.structure]
//! id_nat = "3499999999"                        # Identifiant_Structure
//! name = "Cabinet du Dr MEDIONI"
//! secteur_activite = "SA07"                    # JDV_J61 code (system 1.2.250.1.71.4.2.4)
//! [dmp.lps]
//! name = "segur"
//! version = "0.1.0"
//! homologation = "SEGUR-DMP-SANDBOX"           # LPS_ID_HOMOLOGATION_DMP (CNDA)
//! ```
//!
//! Sources: `dmp.md` §1 (two ORG certificates: authentication and signature; trust store =
//! IGC-Santé), §4 (VIHF attributes).

use std::path::{Path, PathBuf};
use std::time::Duration;

use segur_net::http::HttpsConfig;
use segur_net::tls::{ClientIdentity, TrustAnchors};
use serde::{Deserialize, Serialize};

use crate::error::{DmpError, Result};
use crate::vihf::SecteurActivite;

/// Default largest document accepted or sent: 50 MiB (issue #5 point 8).
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 50 * 1024 * 1024;

/// The health structure on whose behalf the software acts (VIHF `Identifiant_Structure`,
/// `Secteur_Activite`; `dmp.md` §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructureSettings {
    /// The structure's national id (IdNat_Struct).
    pub id_nat: String,
    /// The structure's name.
    pub name: String,
    /// Secteur d'activité code from JDV_J61 (e.g. `SA07`), or `code^system`.
    pub secteur_activite: String,
}

impl StructureSettings {
    /// `Secteur_Activite` as the VIHF carries it (`dmp.md` §4): a TRE_R02 code (`SA07`), or
    /// `code^system`.
    pub fn secteur(&self) -> Result<SecteurActivite> {
        let c = self.secteur_activite.trim();
        match c.split_once('^') {
            Some((code, system)) => SecteurActivite::new(code, system),
            None => SecteurActivite::tre_r02(c),
        }
    }
}

/// The software's DMP identity (VIHF `LPS_Nom`, `LPS_Version`, `LPS_ID_HOMOLOGATION_DMP`,
/// optional `LPS_ID`; `dmp.md` §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LpsDmpSettings {
    /// Software name.
    pub name: String,
    /// Software version.
    pub version: String,
    /// DMP homologation number given by the CNDA.
    pub homologation: String,
    /// `LPS_ID` (optional installation id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// `[dmp]`: how to reach the DMP and who we are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmpSettings {
    /// Base URL of the services, e.g. `https://…/si-dmp-server/v2/services`; `/patients`,
    /// `/habilitations`, `/registry`, `/repository` are appended.
    pub endpoint: String,
    /// PEM file of the CA certificates to trust for the server (IGC-Santé; the sandbox CA).
    pub trust_anchors: PathBuf,
    /// PKCS#12 of the ORG authentication certificate (mutual TLS).
    pub pkcs12: PathBuf,
    /// Its password in clear (sandbox only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs12_password: Option<String>,
    /// Name of the environment variable holding its password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs12_password_env: Option<String>,
    /// PKCS#12 of the ORG signature certificate (VIHF and XAdES signatures).
    pub signing_pkcs12: PathBuf,
    /// Its password in clear (sandbox only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_pkcs12_password: Option<String>,
    /// Name of the environment variable holding its password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_pkcs12_password_env: Option<String>,
    /// Our LPS / installation OID: TD0.2 `sender/device/id@root` and root of our message ids.
    pub sender_oid: String,
    /// XDS `sourceId` of our submission sets (an OID).
    pub source_id: String,
    /// The structure.
    pub structure: StructureSettings,
    /// The software.
    pub lps: LpsDmpSettings,
    /// Whole-exchange timeout in seconds (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// Connection timeout in seconds (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_secs: Option<u64>,
    /// Largest document sent or retrieved, in bytes (default 50 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_document_bytes: Option<usize>,
    /// Accept the test and demonstration INS OIDs (`1.2.250.1.213.1.4.10` / `.11`) in the VIHF:
    /// sandbox and CNDA test platforms only (default false: production).
    #[serde(default)]
    pub test_ins: bool,
}

/// Resolves `p` against `base` unless absolute.
pub(crate) fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn password(clear: &Option<String>, env: &Option<String>, what: &str) -> Result<String> {
    if let Some(var) = env {
        return std::env::var(var).map_err(|_| {
            DmpError::Config(format!(
                "environment variable {var} ({what} password) is not set"
            ))
        });
    }
    clear
        .clone()
        .ok_or_else(|| DmpError::Config(format!("no {what} password")))
}

fn is_oid(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty()
        && s.split('.').all(|arc| {
            !arc.is_empty()
                && arc.bytes().all(|b| b.is_ascii_digit())
                && (arc == "0" || !arc.starts_with('0'))
        })
        && s.contains('.')
}

impl DmpSettings {
    /// Checks what can be checked without reading files: an `https://` endpoint, OIDs, and
    /// non-empty identities.
    pub fn validate(&self) -> Result<()> {
        if !self.endpoint.trim().starts_with("https://") {
            return Err(DmpError::Config(
                "[dmp] endpoint must be an https:// URL".into(),
            ));
        }
        for (name, v) in [
            ("sender_oid", &self.sender_oid),
            ("source_id", &self.source_id),
        ] {
            if !is_oid(v) {
                return Err(DmpError::Config(format!("[dmp] {name} is not an OID")));
            }
        }
        for (name, v) in [
            ("structure.id_nat", &self.structure.id_nat),
            ("structure.name", &self.structure.name),
            (
                "structure.secteur_activite",
                &self.structure.secteur_activite,
            ),
            ("lps.name", &self.lps.name),
            ("lps.version", &self.lps.version),
            ("lps.homologation", &self.lps.homologation),
        ] {
            if v.trim().is_empty() {
                return Err(DmpError::Config(format!("[dmp] {name} is empty")));
            }
        }
        self.structure.secteur()?;
        if self.max_document_bytes == Some(0) {
            return Err(DmpError::Config("[dmp] max_document_bytes is 0".into()));
        }
        Ok(())
    }

    /// The largest document size in force.
    pub fn max_document_bytes(&self) -> usize {
        self.max_document_bytes
            .unwrap_or(DEFAULT_MAX_DOCUMENT_BYTES)
    }

    /// HTTP settings: timeouts, and a response limit of the largest document, base64-grown
    /// (in case a reply is not MTOM-optimised), plus 1 MiB of metadata.
    pub fn http_config(&self) -> HttpsConfig {
        let max = self.max_document_bytes();
        HttpsConfig {
            connect_timeout: Duration::from_secs(self.connect_timeout_secs.unwrap_or(10)),
            request_timeout: Duration::from_secs(self.timeout_secs.unwrap_or(60)),
            max_response_bytes: max.saturating_add(max / 3).saturating_add(1024 * 1024),
            ..HttpsConfig::default()
        }
    }

    /// The trust anchors (`base_dir`: the settings file's folder).
    pub fn trust_anchors(&self, base_dir: &Path) -> Result<TrustAnchors> {
        Ok(TrustAnchors::from_pem_file(resolve(
            base_dir,
            &self.trust_anchors,
        ))?)
    }

    /// The authentication identity (mutual TLS).
    pub fn auth_identity(&self, base_dir: &Path) -> Result<ClientIdentity> {
        let pw = password(
            &self.pkcs12_password,
            &self.pkcs12_password_env,
            "authentication PKCS#12",
        )?;
        Ok(ClientIdentity::from_pkcs12_file(
            resolve(base_dir, &self.pkcs12),
            &pw,
        )?)
    }

    /// The signing PKCS#12 bytes and its password.
    pub fn signing_pkcs12(&self, base_dir: &Path) -> Result<(Vec<u8>, String)> {
        let pw = password(
            &self.signing_pkcs12_password,
            &self.signing_pkcs12_password_env,
            "signing PKCS#12",
        )?;
        let path = resolve(base_dir, &self.signing_pkcs12);
        let der = std::fs::read(&path).map_err(|e| {
            DmpError::Config(format!(
                "cannot read the signing PKCS#12 at {}: {e}",
                path.display()
            ))
        })?;
        Ok((der, pw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> DmpSettings {
        DmpSettings {
            endpoint: "https://127.0.0.1:1/si-dmp-server/v2/services".into(),
            trust_anchors: "ca/trust-anchors.pem".into(),
            pkcs12: "client/auth.p12".into(),
            pkcs12_password: Some("p".into()),
            pkcs12_password_env: None,
            signing_pkcs12: "client/signature.p12".into(),
            signing_pkcs12_password: None,
            signing_pkcs12_password_env: Some("SEGUR_TEST_UNSET_VARIABLE_42".into()),
            sender_oid: "1.2.250.1.999.1".into(),
            source_id: "1.2.250.1.999.1.2".into(),
            structure: StructureSettings {
                id_nat: "3499999999".into(),
                name: "Cabinet".into(),
                secteur_activite: "SA07".into(),
            },
            lps: LpsDmpSettings {
                name: "segur".into(),
                version: "0.1.0".into(),
                homologation: "H".into(),
                id: None,
            },
            timeout_secs: None,
            connect_timeout_secs: None,
            max_document_bytes: None,
            test_ins: true,
        }
    }

    #[test]
    fn toml_round_trip_and_defaults() {
        let s = sample();
        let text = toml::to_string_pretty(&s).unwrap();
        assert!(text.contains("[structure]") && text.contains("[lps]"));
        let back: DmpSettings = toml::from_str(&text).unwrap();
        assert_eq!(back, s);
        assert!(s.validate().is_ok());
        assert_eq!(s.max_document_bytes(), 50 * 1024 * 1024);
        let http = s.http_config();
        assert!(http.max_response_bytes > s.max_document_bytes() * 4 / 3);
        assert_eq!(http.request_timeout, Duration::from_secs(60));
        assert_eq!(
            s.structure.secteur().unwrap().value(),
            "SA07^1.2.250.1.71.4.2.4"
        );
        let mut t = s.clone();
        t.structure.secteur_activite = "X1^1.2.3".into();
        assert_eq!(t.structure.secteur().unwrap().value(), "X1^1.2.3");
        t.structure.secteur_activite = "SA7".into();
        assert!(t.validate().is_err());
    }

    #[test]
    fn validation() {
        let mut s = sample();
        s.endpoint = "http://x".into();
        assert!(matches!(s.validate(), Err(DmpError::Config(_))));
        for bad in ["", "1", "1..2", "1.02", "a.b"] {
            let mut s = sample();
            s.sender_oid = bad.into();
            assert!(s.validate().is_err(), "{bad}");
        }
        let mut s = sample();
        s.lps.homologation = " ".into();
        assert!(s.validate().is_err());
        let mut s = sample();
        s.max_document_bytes = Some(0);
        assert!(s.validate().is_err());
    }

    #[test]
    fn passwords_and_files() {
        let s = sample();
        let dir = tempfile::tempdir().unwrap();
        // Unset environment variable: a clear error naming the variable, not the value.
        match s.signing_pkcs12(dir.path()) {
            Err(DmpError::Config(m)) => assert!(m.contains("SEGUR_TEST_UNSET_VARIABLE_42")),
            other => panic!("{other:?}"),
        }
        let mut s = sample();
        s.signing_pkcs12_password_env = None;
        s.signing_pkcs12_password = Some("x".into());
        assert!(matches!(
            s.signing_pkcs12(dir.path()),
            Err(DmpError::Config(_))
        ));
        std::fs::create_dir_all(dir.path().join("client")).unwrap();
        std::fs::write(dir.path().join("client/signature.p12"), b"p12").unwrap();
        let (der, pw) = s.signing_pkcs12(dir.path()).unwrap();
        assert_eq!((der.as_slice(), pw.as_str()), (&b"p12"[..], "x"));
        assert!(s.auth_identity(dir.path()).is_err());
        assert!(s.trust_anchors(dir.path()).is_err());
    }
}
