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
}

/// Shorthand for results of this crate.
pub type Result<T, E = DmpError> = std::result::Result<T, E>;
