//! The SOAP headers context: who is calling (ContexteLPS, ContexteBAM).

use uuid::Uuid;

/// How the caller authenticates to INSi (`ins.md` §1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Mutual TLS with an IGC-Santé software (ORG) certificate whose CN is `INSI-AUTO`
    /// (unattended calls) or `INSI-MANU` (user-triggered); no `wsse:Security` header.
    SoftwareCertificate,
}

/// The software's identity sent in `ContexteLPS` (version 01_00).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LpsContext {
    /// `IDAM R="4"`: the CNDA authorisation number of the software.
    pub idam: String,
    /// Software name (in `Nom` = `urn:lps:<name>:<version>`).
    pub software_name: String,
    /// Software version (`Version`).
    pub software_version: String,
    /// `Instance`: UUID of this installation, created once and kept.
    pub instance: Uuid,
    /// `Emetteur`: the OU of the INSI-AUTO/INSI-MANU certificate (structure identifier).
    pub emitter: String,
    /// Authentication mode.
    pub auth: AuthMode,
}

impl LpsContext {
    /// `urn:lps:<name>:<version>`.
    pub fn urn(&self) -> String {
        format!("urn:lps:{}:{}", self.software_name, self.software_version)
    }
}
