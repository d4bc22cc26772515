//! The one error type of `segur-dmp`.
//!
//! Messages name what is wrong and where (an element, a part, a code), never patient identity.

/// Everything that can fail in building, sending or reading a DMP exchange.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DmpError {
    /// Transport, TLS, XML or SOAP failure from `segur-net`.
    #[error(transparent)]
    Net(#[from] segur_net::NetError),
    /// An input given by the caller is invalid (names the field and the rule).
    #[error("invalid {field}: {detail}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// Signing the VIHF or the submission set failed.
    #[error("signature: {0}")]
    Signature(String),
    /// A response could not be understood (names the element or part).
    #[error("malformed DMP response: {0}")]
    Malformed(String),
    /// A MIME multipart (MTOM/XOP) message is malformed or misses a part.
    #[error("MTOM: {0}")]
    Mtom(String),
    /// A document or message is larger than allowed.
    #[error("{what} is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The DMP refused the request with one of its codes (`docs/dmp-wire.md` "DMP refusals"):
    /// a SOAP fault subcode (`/patients`, `/habilitations`) or a registry error code (XDS).
    #[error("refused by the DMP: {code}: {reason}")]
    Refused {
        /// The DMP code.
        code: crate::refusal::RefusalCode,
        /// The service's explanation (`Reason/Text` or `codeContext`), bounded.
        reason: String,
    },
    /// A SOAP 1.2 fault whose subcodes hold no DMP refusal code (SOAP 1.2 Part 1 §5.4).
    #[error("SOAP fault {code} {subcodes:?}: {reason}")]
    Fault {
        /// `Code/Value` local part (`Sender`, `Receiver`...).
        code: String,
        /// `Subcode/Value` local parts, outermost first.
        subcodes: Vec<String>,
        /// `Reason/Text`, bounded.
        reason: String,
    },
    /// Refused locally after TD0.2: nothing was sent (no DMP, closed, DMP/CONF.09 opposition, or
    /// an unconfirmed DMP/CONF.01 traits mismatch).
    #[error("not sent: {0}")]
    NotSent(crate::refusal::FeedBlocked),
    /// The service answered but did not accept the request (HL7v3 acknowledgement other than
    /// AA, TD0.3 status other than OK).
    #[error("{operation} not accepted: {status}")]
    Rejected {
        /// The operation (`TD0.2`, `setAuthorization`...).
        operation: &'static str,
        /// The status or code returned (no patient data).
        status: String,
    },
    /// The settings or credentials are incomplete or inconsistent.
    #[error("DMP configuration: {0}")]
    Config(String),
    /// The registry already holds another document under this uniqueId (ITI-41 answered
    /// `XDSDuplicateUniqueIdInRegistry` or `XDSNonIdentical*`, and GetDocuments shows a
    /// different size or hash, or no current entry): nothing was registered.
    #[error("the DMP already holds a different document with uniqueId {unique_id}")]
    DuplicateDiffers {
        /// The document's uniqueId (an OID, not patient data).
        unique_id: String,
    },
    /// No document with this uniqueId in the patient's DMP (RPLC, ITI-57, ITI-43).
    #[error("no document {unique_id} in the DMP")]
    DocumentNotFound {
        /// The document's uniqueId (an OID, not patient data).
        unique_id: String,
    },
    /// The registry or repository answered Failure (ITI TF-3 §4.2.4): its errors, typed
    /// (`xds::response`); the message lists the codes only.
    #[error("XDS request failed: {0}")]
    Registry(crate::xds::RegistryErrors),
}

/// Shorthand for results of this crate.
pub type Result<T, E = DmpError> = std::result::Result<T, E>;
