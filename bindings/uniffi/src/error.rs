//! The one error of the Kotlin/Swift surface, converted from the facade's error in one place.
//!
//! Kotlin sees it as `sealed class SegurException` (UniFFI turns the `Error` suffix into
//! `Exception`), Swift as `enum SegurError: Error`. Every variant carries `code`, the stable
//! number of [`segur::ErrorCode`] (the same numbers as the C ABI and Python), and `reason`, a
//! message without patient identity (the facade's messages never contain names, birth dates or
//! INS; a name to confirm travels only in `proposal`).
//!
//! (The field is `reason`, not `message`: Kotlin exceptions already have a `message`.)

use segur::ErrorCode;

/// An error of the segur library.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SegurError {
    /// (100) Input refused: malformed matricule, trait, date, COG, empty identifier...
    #[error("{reason}")]
    InvalidInput {
        /// Stable code (100).
        code: u32,
        /// What is wrong (no patient data).
        reason: String,
    },
    /// (101) The input holds characters with a standard transliteration (’ → ', Æ → AE,
    /// Œ → OE; CNDA 2.03 case 3): show `proposal`, and call again with `confirm = true`.
    #[error("{reason}")]
    NeedsConfirmation {
        /// Stable code (101).
        code: u32,
        /// Which characters must be transliterated.
        reason: String,
        /// The normalised, transliterated value to confirm.
        proposal: String,
    },
    /// (102) An RNIV rule forbids the operation (EXI SI 09, rules 26/28...).
    #[error("{reason}")]
    RnivRefused {
        /// Stable code (102).
        code: u32,
        /// The rule and what it refuses.
        reason: String,
    },
    /// (103) No record with this identifier.
    #[error("{reason}")]
    NotFound {
        /// Stable code (103).
        code: u32,
        /// What was not found.
        reason: String,
    },
    /// (104) A record with this identifier already exists.
    #[error("{reason}")]
    AlreadyExists {
        /// Stable code (104).
        code: u32,
        /// What exists.
        reason: String,
    },
    /// (105) A document (CDA) is refused: not XML, DOCTYPE, limits, not a `ClinicalDocument`,
    /// a mandatory part missing, a CI-SIS rule broken.
    #[error("{reason}")]
    InvalidDocument {
        /// Stable code (105).
        code: u32,
        /// What is wrong (the element path and rule; no patient data).
        reason: String,
    },
    /// (106) Nothing was sent: a check made before sending refused it (the patient has no DMP,
    /// it is closed, the patient opposed feeding, DMP/CONF.09, or an unconfirmed traits
    /// mismatch, DMP/CONF.01). The document stays in the outbox for a retry.
    #[error("{reason}")]
    NotSent {
        /// Stable code (106).
        code: u32,
        /// Why, as a message (no patient data).
        reason: String,
        /// Why, as data.
        blocked: crate::dmp::DmpFeedBlocked,
        /// For `TraitsMismatch`: the trait codes that differ (`nom_naissance`, `prenoms`,
        /// `sexe`, `date_naissance`), never their values; empty otherwise.
        fields: Vec<String>,
    },
    /// (107) A document or message is over its size limit.
    #[error("{reason}")]
    TooLarge {
        /// Stable code (107).
        code: u32,
        /// What, its size and the limit.
        reason: String,
    },
    /// (200) The service answered with a SOAP fault; its codes are kept.
    #[error("{reason}")]
    ServiceFault {
        /// Stable code (200).
        code: u32,
        /// SOAP subcode, e.g. `siram_40` ("" when absent).
        subcode: String,
        /// Service error code, e.g. `desir_1020`, `insi_24` ("" when absent).
        service_code: String,
        /// The service's message.
        reason: String,
        /// Whether retrying later may succeed (`siram_40`: service unavailable).
        retryable: bool,
    },
    /// (201) The service's reply is invalid or must be refused (RNIV rules 11/12).
    #[error("{reason}")]
    InvalidReply {
        /// Stable code (201).
        code: u32,
        /// What is wrong.
        reason: String,
    },
    /// (202) The service refused the request with its own code (DMP access, opposition, VIHF;
    /// XDS registry errors; `dmp.md`).
    #[error("{reason}")]
    ServiceRefused {
        /// Stable code (202).
        code: u32,
        /// The service's code, e.g. `DMP_ACCES_NON_AUTORISE`, `XDSRegistryError` ("" when
        /// absent).
        subcode: String,
        /// A second code of the service ("" when absent).
        service_code: String,
        /// The service's message.
        reason: String,
        /// Whether retrying later may succeed (registry or repository busy).
        retryable: bool,
    },
    /// (300) Network failure (connect, HTTP).
    #[error("{reason}")]
    Transport {
        /// Stable code (300).
        code: u32,
        /// What failed.
        reason: String,
        /// Whether retrying later may succeed.
        retryable: bool,
    },
    /// (301) A timeout.
    #[error("{reason}")]
    Timeout {
        /// Stable code (301).
        code: u32,
        /// What timed out.
        reason: String,
    },
    /// (302) TLS handshake or certificate failure.
    #[error("{reason}")]
    Tls {
        /// Stable code (302).
        code: u32,
        /// What failed.
        reason: String,
    },
    /// (400) Configuration error (file, credentials, missing setting).
    #[error("{reason}")]
    Config {
        /// Stable code (400).
        code: u32,
        /// What is wrong.
        reason: String,
    },
    /// (500) Journal (SQLite) failure.
    #[error("{reason}")]
    Journal {
        /// Stable code (500).
        code: u32,
        /// What failed.
        reason: String,
    },
    /// (900) Anything else: a bug in the library.
    #[error("{reason}")]
    Internal {
        /// Stable code (900).
        code: u32,
        /// What happened.
        reason: String,
    },
}

impl SegurError {
    /// A (900) internal error.
    pub(crate) fn internal(reason: impl Into<String>) -> Self {
        SegurError::Internal {
            code: ErrorCode::Internal as u32,
            reason: reason.into(),
        }
    }

    /// The stable code of the error.
    pub fn code(&self) -> u32 {
        match self {
            SegurError::InvalidInput { code, .. }
            | SegurError::NeedsConfirmation { code, .. }
            | SegurError::RnivRefused { code, .. }
            | SegurError::NotFound { code, .. }
            | SegurError::AlreadyExists { code, .. }
            | SegurError::InvalidDocument { code, .. }
            | SegurError::NotSent { code, .. }
            | SegurError::TooLarge { code, .. }
            | SegurError::ServiceFault { code, .. }
            | SegurError::InvalidReply { code, .. }
            | SegurError::ServiceRefused { code, .. }
            | SegurError::Transport { code, .. }
            | SegurError::Timeout { code, .. }
            | SegurError::Tls { code, .. }
            | SegurError::Config { code, .. }
            | SegurError::Journal { code, .. }
            | SegurError::Internal { code, .. } => *code,
        }
    }
}

/// The one conversion from the facade's error.
impl From<segur::SegurError> for SegurError {
    fn from(e: segur::SegurError) -> Self {
        let kind = e.code();
        let code = kind as u32;
        let reason = e.to_string();
        match kind {
            ErrorCode::InvalidInput => SegurError::InvalidInput { code, reason },
            ErrorCode::NeedsConfirmation => SegurError::NeedsConfirmation {
                code,
                reason,
                proposal: e.proposal().unwrap_or_default().to_owned(),
            },
            ErrorCode::RnivRefused => SegurError::RnivRefused { code, reason },
            ErrorCode::NotFound => SegurError::NotFound { code, reason },
            ErrorCode::AlreadyExists => SegurError::AlreadyExists { code, reason },
            ErrorCode::InvalidDocument => SegurError::InvalidDocument { code, reason },
            ErrorCode::NotSent => {
                let why = e.not_sent_reason();
                SegurError::NotSent {
                    code,
                    reason,
                    blocked: why
                        .as_ref()
                        .map_or(crate::dmp::DmpFeedBlocked::FeedingOpposed, |r| {
                            crate::dmp::DmpFeedBlocked::from_code(r.code())
                        }),
                    fields: why.map(|r| r.fields().to_vec()).unwrap_or_default(),
                }
            }
            ErrorCode::TooLarge => SegurError::TooLarge { code, reason },
            ErrorCode::ServiceFault => {
                let (subcode, service_code) = e.service_codes().unwrap_or(("", ""));
                SegurError::ServiceFault {
                    code,
                    subcode: subcode.to_owned(),
                    service_code: service_code.to_owned(),
                    retryable: e.is_retryable(),
                    reason,
                }
            }
            ErrorCode::InvalidReply => SegurError::InvalidReply { code, reason },
            ErrorCode::ServiceRefused => {
                let (subcode, service_code) = e.service_codes().unwrap_or(("", ""));
                SegurError::ServiceRefused {
                    code,
                    subcode: subcode.to_owned(),
                    service_code: service_code.to_owned(),
                    retryable: e.is_retryable(),
                    reason,
                }
            }
            ErrorCode::Transport => SegurError::Transport {
                code,
                retryable: e.is_retryable(),
                reason,
            },
            ErrorCode::Timeout => SegurError::Timeout { code, reason },
            ErrorCode::Tls => SegurError::Tls { code, reason },
            ErrorCode::Config => SegurError::Config { code, reason },
            ErrorCode::Journal => SegurError::Journal { code, reason },
            // WouldBlock cannot happen here (this surface never blocks on the runtime); should
            // it ever, it is a bug of this crate.
            ErrorCode::Internal | ErrorCode::WouldBlock => SegurError::Internal { code, reason },
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = SegurError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_stable_numbers() {
        let e: SegurError = segur::SegurError::NotFound { what: "identity" }.into();
        assert_eq!(e.code(), 103);
        assert!(matches!(e, SegurError::NotFound { .. }));
        let e: SegurError = segur::SegurError::InvalidInput("x".into()).into();
        assert_eq!(e.code(), 100);
        let e: SegurError = segur::SegurError::WouldBlock.into();
        assert_eq!(e.code(), 901);
        assert!(matches!(e, SegurError::Internal { .. }));
        let e: SegurError =
            segur::SegurError::Cda(segur::error::CdaError::NotVsm("templateId")).into();
        assert_eq!(e.code(), 105);
        assert!(matches!(e, SegurError::InvalidDocument { .. }), "{e:?}");
    }

    #[test]
    fn not_sent_carries_its_reason_as_data() {
        use segur::error::{FeedBlocked, TraitField, TraitsMismatch};
        let blocked = FeedBlocked::TraitsMismatch(TraitsMismatch {
            fields: vec![TraitField::DateNaissance, TraitField::Prenoms],
        });
        let e: SegurError = segur::SegurError::Dmp(segur::error::DmpError::NotSent(blocked)).into();
        match e {
            SegurError::NotSent {
                code,
                blocked,
                fields,
                ..
            } => {
                assert_eq!(code, 106);
                assert_eq!(blocked, crate::dmp::DmpFeedBlocked::TraitsMismatch);
                assert_eq!(fields, vec!["prenoms", "date_naissance"]);
            }
            other => panic!("unexpected {other:?}"),
        }
        let e: SegurError =
            segur::SegurError::Dmp(segur::error::DmpError::NotSent(FeedBlocked::NoDmp)).into();
        assert!(matches!(
            e,
            SegurError::NotSent {
                blocked: crate::dmp::DmpFeedBlocked::NoDmp,
                ref fields,
                ..
            } if fields.is_empty()
        ));
    }

    #[test]
    fn confirmation_carries_the_proposal_not_the_message() {
        let e: SegurError =
            segur::normalize(segur::Field::NomNaissance, "D\u{2019}\u{00C6}ION", false)
                .unwrap_err()
                .into();
        match e {
            SegurError::NeedsConfirmation {
                code,
                reason,
                proposal,
            } => {
                assert_eq!(code, 101);
                assert_eq!(proposal, "D'AEION");
                assert!(!reason.contains("AEION"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
