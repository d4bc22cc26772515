//! The one error type of the facade, and the stable error codes every surface (C, Python,
//! Kotlin, Swift) maps it to.

/// The typed errors of the layers below that [`SegurError`] carries, re-exported so that a
/// surface can name them (and build them in its tests) through the facade alone.
pub use segur_cda::CdaError;
pub use segur_dmp::patients::{FeedBlocked, TraitField, TraitsMismatch};
pub use segur_dmp::DmpError;
pub use segur_ins_core::InsError;
pub use segur_net::NetError;

/// Stable error categories. The numbers are part of the C ABI: never renumbered, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[repr(u32)]
pub enum ErrorCode {
    /// Input refused: a malformed matricule, trait, date, COG, JSON...
    InvalidInput = 100,
    /// Input holds characters with a standard transliteration to confirm (CNDA 2.03 case 3).
    NeedsConfirmation = 101,
    /// An RNIV rule forbids the operation (EXI SI 09, rules 26/28...).
    RnivRefused = 102,
    /// No such record.
    NotFound = 103,
    /// A record with this identifier exists.
    AlreadyExists = 104,
    /// A document (CDA) is malformed or breaks a CI-SIS rule.
    InvalidDocument = 105,
    /// Nothing was sent: a check made before sending refused it (DMP absent or closed, patient
    /// opposition DMP/CONF.09, unconfirmed traits mismatch DMP/CONF.01); the reason as data:
    /// [`SegurError::not_sent_reason`].
    NotSent = 106,
    /// A document or message is over its size limit.
    TooLarge = 107,
    /// The service answered with a SOAP fault (codes kept).
    ServiceFault = 200,
    /// The service's reply is invalid or refused (rules 11/12).
    InvalidReply = 201,
    /// The service refused the request with its own codes (DMP access, opposition, VIHF; XDS
    /// registry errors).
    ServiceRefused = 202,
    /// Network failure (connect, HTTP).
    Transport = 300,
    /// A timeout.
    Timeout = 301,
    /// TLS handshake or certificate failure.
    Tls = 302,
    /// Configuration error (file, credentials, missing setting).
    Config = 400,
    /// Journal (SQLite) failure.
    Journal = 500,
    /// Anything else.
    Internal = 900,
    /// A blocking call was made where it would deadlock (inside a completion callback).
    WouldBlock = 901,
}

/// Why nothing was sent ([`ErrorCode::NotSent`]): the check made after TD0.2, before any
/// ITI-41 (`dmp.md`; requirements DMP/CONF.01, DMP/CONF.09). Serialized with a `kind` tag.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotSentReason {
    /// The patient has no DMP.
    NoDmp,
    /// The patient's DMP is closed.
    Closed,
    /// The patient opposed feeding by this professional (DMP/CONF.09).
    FeedingOpposed,
    /// The DMP's traits differ from ours and the user has not confirmed exactly this mismatch
    /// (DMP/CONF.01; `Segur::dmp_confirm_traits`).
    TraitsMismatch {
        /// The trait codes that differ (`nom_naissance`, `prenoms`, `sexe`,
        /// `date_naissance`); never the values.
        fields: Vec<String>,
    },
}

impl NotSentReason {
    /// The stable code: `no_dmp`, `closed`, `feeding_opposed`, `traits_mismatch`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoDmp => "no_dmp",
            Self::Closed => "closed",
            Self::FeedingOpposed => "feeding_opposed",
            Self::TraitsMismatch { .. } => "traits_mismatch",
        }
    }

    /// For `traits_mismatch`: the trait codes that differ; empty otherwise.
    pub fn fields(&self) -> &[String] {
        match self {
            Self::TraitsMismatch { fields } => fields,
            _ => &[],
        }
    }
}

impl From<&segur_dmp::patients::FeedBlocked> for NotSentReason {
    fn from(b: &segur_dmp::patients::FeedBlocked) -> Self {
        use segur_dmp::patients::FeedBlocked as B;
        match b {
            B::NoDmp => Self::NoDmp,
            B::Closed => Self::Closed,
            B::FeedingOpposed => Self::FeedingOpposed,
            B::TraitsMismatch(m) => Self::TraitsMismatch {
                fields: m
                    .field_set()
                    .into_iter()
                    .map(|f| f.code().to_owned())
                    .collect(),
            },
        }
    }
}

/// Everything that can fail in the facade.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SegurError {
    /// From the identity crate (matricule, traits, RNIV, INSi).
    #[error(transparent)]
    Ins(#[from] InsError),
    /// From the document crate (CDA).
    #[error(transparent)]
    Cda(#[from] segur_cda::CdaError),
    /// From the DMP crate.
    #[error(transparent)]
    Dmp(#[from] segur_dmp::DmpError),
    /// Configuration.
    #[error("configuration: {0}")]
    Config(String),
    /// The journal.
    #[error("journal: {0}")]
    Journal(String),
    /// A record was not found.
    #[error("no {what} with this identifier")]
    NotFound {
        /// What was looked for ("identity").
        what: &'static str,
    },
    /// A record already exists.
    #[error("an {what} with this identifier already exists")]
    AlreadyExists {
        /// What ("identity").
        what: &'static str,
    },
    /// Invalid input at the surface (JSON...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A blocking call from a runtime thread (e.g. a completion callback).
    #[error("blocking call refused on a runtime thread (inside a completion callback?)")]
    WouldBlock,
    /// Internal error (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for SegurError {
    fn from(e: rusqlite::Error) -> Self {
        SegurError::Journal(e.to_string())
    }
}

impl From<NetError> for SegurError {
    fn from(e: NetError) -> Self {
        SegurError::Ins(InsError::Net(e))
    }
}

impl SegurError {
    /// The stable category.
    pub fn code(&self) -> ErrorCode {
        match self {
            SegurError::Ins(e) => match e {
                InsError::NeedsConfirmation { .. } => ErrorCode::NeedsConfirmation,
                InsError::Rniv { .. } => ErrorCode::RnivRefused,
                InsError::InsiFault { .. } => ErrorCode::ServiceFault,
                InsError::InsiReply { .. } | InsError::InsiReplyRefused { .. } => {
                    ErrorCode::InvalidReply
                }
                InsError::Config(_) => ErrorCode::Config,
                InsError::Net(n) => net_code(n),
                _ => ErrorCode::InvalidInput,
            },
            SegurError::Dmp(e) => {
                use segur_dmp::DmpError as D;
                match e {
                    D::Net(n) => net_code(n),
                    D::Invalid { .. } => ErrorCode::InvalidInput,
                    D::Signature(_) | D::Config(_) => ErrorCode::Config,
                    D::TooLarge { .. } => ErrorCode::TooLarge,
                    D::Refused { .. } | D::Registry(_) | D::Rejected { .. } => {
                        ErrorCode::ServiceRefused
                    }
                    D::Fault { .. } => ErrorCode::ServiceFault,
                    D::NotSent(_) => ErrorCode::NotSent,
                    D::DocumentNotFound { .. } => ErrorCode::NotFound,
                    D::DuplicateDiffers { .. } => ErrorCode::AlreadyExists,
                    _ => ErrorCode::InvalidReply,
                }
            }
            SegurError::Cda(e) => match e {
                segur_cda::CdaError::InsRefused(_) => ErrorCode::RnivRefused,
                segur_cda::CdaError::Input { .. } | segur_cda::CdaError::Json(_) => {
                    ErrorCode::InvalidInput
                }
                segur_cda::CdaError::Pdf(_) => ErrorCode::Internal,
                _ => ErrorCode::InvalidDocument,
            },
            SegurError::Config(_) => ErrorCode::Config,
            SegurError::Journal(_) => ErrorCode::Journal,
            SegurError::NotFound { .. } => ErrorCode::NotFound,
            SegurError::AlreadyExists { .. } => ErrorCode::AlreadyExists,
            SegurError::InvalidInput(_) => ErrorCode::InvalidInput,
            SegurError::Internal(_) => ErrorCode::Internal,
            SegurError::WouldBlock => ErrorCode::WouldBlock,
        }
    }

    /// For a service fault or refusal: (SOAP subcode or DMP/registry code, service code), e.g.
    /// ("siram_40", "desir_1020"), ("DMP_ACCES_NON_AUTORISE", ""), ("XDSRegistryError", "").
    pub fn service_codes(&self) -> Option<(&str, &str)> {
        match self {
            SegurError::Ins(InsError::InsiFault { subcode, code, .. }) => Some((subcode, code)),
            SegurError::Dmp(segur_dmp::DmpError::Refused { code, .. }) => Some((code.code(), "")),
            SegurError::Dmp(segur_dmp::DmpError::Registry(errors)) => {
                errors.0.first().map(|e| (e.code.as_str(), ""))
            }
            SegurError::Dmp(segur_dmp::DmpError::Fault { code, subcodes, .. }) => Some((
                subcodes
                    .first()
                    .map(String::as_str)
                    .unwrap_or(code.as_str()),
                code.as_str(),
            )),
            _ => None,
        }
    }

    /// For [`ErrorCode::NotSent`]: why nothing was sent, as data.
    pub fn not_sent_reason(&self) -> Option<NotSentReason> {
        match self {
            SegurError::Dmp(segur_dmp::DmpError::NotSent(b)) => Some(b.into()),
            _ => None,
        }
    }

    /// For a confirmation request: the proposed spelling.
    pub fn proposal(&self) -> Option<&str> {
        match self {
            SegurError::Ins(InsError::NeedsConfirmation { proposal, .. }) => Some(proposal),
            _ => None,
        }
    }

    /// Whether retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            SegurError::Ins(e) => e.is_retryable(),
            SegurError::Dmp(segur_dmp::DmpError::Net(
                NetError::Timeout { .. } | NetError::Connect { .. },
            )) => true,
            SegurError::Dmp(segur_dmp::DmpError::Registry(e)) => e.0.iter().any(|r| {
                matches!(
                    r.code,
                    segur_dmp::xds::ErrorCode::XdsRegistryBusy
                        | segur_dmp::xds::ErrorCode::XdsRepositoryBusy
                        | segur_dmp::xds::ErrorCode::XdsRepositoryOutOfResources
                        | segur_dmp::xds::ErrorCode::XdsRegistryOutOfResources
                )
            }),
            _ => false,
        }
    }
}

fn net_code(n: &NetError) -> ErrorCode {
    match n {
        NetError::Timeout { .. } => ErrorCode::Timeout,
        NetError::TlsHandshake { .. }
        | NetError::Certificate { .. }
        | NetError::TlsConfig(_)
        | NetError::NoTrustAnchor(_) => ErrorCode::Tls,
        NetError::Pkcs12(_) | NetError::PrivateKey(_) | NetError::ReadFile { .. } => {
            ErrorCode::Config
        }
        NetError::Connect { .. }
        | NetError::Http { .. }
        | NetError::HttpStatus { .. }
        | NetError::InvalidUrl { .. }
        | NetError::ResponseTooLarge { .. }
        | NetError::Server(_) => ErrorCode::Transport,
        _ => ErrorCode::InvalidReply,
    }
}

/// Result alias of this crate.
pub type Result<T, E = SegurError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use segur_dmp::patients::{FeedBlocked, TraitField, TraitsMismatch};

    #[test]
    fn not_sent_reason_is_data() {
        let e = SegurError::Dmp(segur_dmp::DmpError::NotSent(FeedBlocked::TraitsMismatch(
            TraitsMismatch {
                fields: vec![TraitField::Sexe, TraitField::Prenoms],
            },
        )));
        assert_eq!(e.code(), ErrorCode::NotSent);
        let r = e.not_sent_reason().unwrap();
        assert_eq!(r.code(), "traits_mismatch");
        assert_eq!(r.fields(), ["prenoms", "sexe"]);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"kind": "traits_mismatch", "fields": ["prenoms", "sexe"]})
        );
        let e = SegurError::Dmp(segur_dmp::DmpError::NotSent(FeedBlocked::FeedingOpposed));
        assert_eq!(e.not_sent_reason(), Some(NotSentReason::FeedingOpposed));
        assert!(e.not_sent_reason().unwrap().fields().is_empty());
        assert_eq!(SegurError::WouldBlock.not_sent_reason(), None);
        let e = SegurError::Dmp(segur_dmp::DmpError::DuplicateDiffers {
            unique_id: "1.2".into(),
        });
        assert_eq!(e.code(), ErrorCode::AlreadyExists);
    }
}
