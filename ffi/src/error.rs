//! Result codes, the internal failure type, and the thread-local last error.

use std::cell::RefCell;
use std::ffi::c_char;

use facade::{ErrorCode, NotSentReason, SegurError};
use serde::Serialize;

/// The result of every fallible function: `SEGUR_RESULT_OK` (0) or an error code.
///
/// Emitted in C as `typedef uint32_t segur_result;` plus one constant per code. The numbers are
/// stable: never renumbered, never reused (a retired code stays here as a reserved comment).
/// 1–99 are errors of the C boundary itself; 100 and above are the facade's `ErrorCode` numbers.
/// Functions that *receive* a code from C (`segur_result_str`) take a `uint32_t`, never this type.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum segur_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 2,
    /// A caller buffer was too small (the required size is reported).
    InsufficientSize = 3,
    /// A JSON argument was malformed or did not match its schema.
    InvalidJson = 4,
    /// An enumeration argument had a value this library does not know.
    UnknownEnumValue = 5,
    /// A Rust panic was caught at the boundary (a bug: please report it).
    Panic = 6,
    /// An asynchronous operation was cancelled (its client was freed first).
    Cancelled = 7,
    /// Input refused: a malformed matricule, trait, date, COG...
    InvalidInput = 100,
    /// Input holds characters with a standard transliteration to confirm (see the proposal).
    NeedsConfirmation = 101,
    /// An RNIV rule forbids the operation.
    RnivRefused = 102,
    /// No such record.
    NotFound = 103,
    /// A record with this identifier exists.
    AlreadyExists = 104,
    /// A document (CDA) is malformed or breaks a CI-SIS rule (wrong root, DOCTYPE, missing
    /// element, value outside its value set...).
    InvalidDocument = 105,
    /// Nothing was sent: a check made before sending refused it (no DMP, DMP closed, the patient
    /// opposed feeding: DMP/CONF.09). The document stays in the outbox.
    NotSent = 106,
    /// A document or message is over its size limit.
    TooLarge = 107,
    /// The service answered with a SOAP fault (see the subcode and service code).
    ServiceFault = 200,
    /// The service's reply is invalid or refused.
    InvalidReply = 201,
    /// The service refused the request with its own codes (DMP access refused, opposition, VIHF
    /// rejected; XDS registry errors): see the subcode.
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
    /// Anything else (a bug).
    Internal = 900,
    /// A blocking call was made on a library worker thread (inside a completion callback).
    WouldBlockInCallback = 901,
}

/// Every code.
const ALL_RESULTS: [segur_result; 26] = [
    segur_result::Ok,
    segur_result::NullParameter,
    segur_result::InvalidUtf8,
    segur_result::InsufficientSize,
    segur_result::InvalidJson,
    segur_result::UnknownEnumValue,
    segur_result::Panic,
    segur_result::Cancelled,
    segur_result::InvalidInput,
    segur_result::NeedsConfirmation,
    segur_result::RnivRefused,
    segur_result::NotFound,
    segur_result::AlreadyExists,
    segur_result::InvalidDocument,
    segur_result::NotSent,
    segur_result::TooLarge,
    segur_result::ServiceFault,
    segur_result::InvalidReply,
    segur_result::ServiceRefused,
    segur_result::Transport,
    segur_result::Timeout,
    segur_result::Tls,
    segur_result::Config,
    segur_result::Journal,
    segur_result::Internal,
    segur_result::WouldBlockInCallback,
];

impl segur_result {
    /// Every code, for tests and documentation.
    pub fn all() -> &'static [segur_result] {
        &ALL_RESULTS
    }

    /// The code for a number received from C; `None` when unknown.
    pub fn from_u32(code: u32) -> Option<Self> {
        ALL_RESULTS.into_iter().find(|c| *c as u32 == code)
    }

    /// snake_case name, as in the error details JSON.
    pub fn name(self) -> &'static str {
        self.texts().0
    }

    /// (snake_case name, NUL-terminated description).
    fn texts(self) -> (&'static str, &'static std::ffi::CStr) {
        match self {
            Self::Ok => ("ok", c"ok"),
            Self::NullParameter => ("null_parameter", c"a required pointer was NULL"),
            Self::InvalidUtf8 => ("invalid_utf8", c"a string was not valid UTF-8"),
            Self::InsufficientSize => ("insufficient_size", c"the buffer is too small"),
            Self::InvalidJson => (
                "invalid_json",
                c"malformed JSON or JSON not matching its schema",
            ),
            Self::UnknownEnumValue => ("unknown_enum_value", c"unknown enumeration value"),
            Self::Panic => ("panic", c"internal panic caught at the C boundary"),
            Self::Cancelled => ("cancelled", c"operation cancelled"),
            Self::InvalidInput => ("invalid_input", c"invalid input"),
            Self::NeedsConfirmation => (
                "needs_confirmation",
                c"transliteration to confirm (see the proposal)",
            ),
            Self::RnivRefused => ("rniv_refused", c"refused by an RNIV rule"),
            Self::NotFound => ("not_found", c"not found"),
            Self::AlreadyExists => ("already_exists", c"already exists"),
            Self::InvalidDocument => (
                "invalid_document",
                c"malformed document or CI-SIS rule broken",
            ),
            Self::NotSent => (
                "not_sent",
                c"not sent: refused by a check made before sending",
            ),
            Self::TooLarge => ("too_large", c"over the size limit"),
            Self::ServiceFault => ("service_fault", c"the service answered with a fault"),
            Self::InvalidReply => ("invalid_reply", c"the service's reply is invalid"),
            Self::ServiceRefused => (
                "service_refused",
                c"the service refused the request (see the subcode)",
            ),
            Self::Transport => ("transport", c"network failure"),
            Self::Timeout => ("timeout", c"timeout"),
            Self::Tls => ("tls", c"TLS or certificate failure"),
            Self::Config => ("config", c"configuration error"),
            Self::Journal => ("journal", c"journal (SQLite) failure"),
            Self::Internal => ("internal", c"internal error"),
            Self::WouldBlockInCallback => (
                "would_block_in_callback",
                c"blocking call refused inside a completion callback",
            ),
        }
    }

    pub(crate) fn c_description(self) -> *const c_char {
        self.texts().1.as_ptr()
    }
}

impl From<ErrorCode> for segur_result {
    fn from(c: ErrorCode) -> Self {
        match c {
            ErrorCode::InvalidInput => Self::InvalidInput,
            ErrorCode::NeedsConfirmation => Self::NeedsConfirmation,
            ErrorCode::RnivRefused => Self::RnivRefused,
            ErrorCode::NotFound => Self::NotFound,
            ErrorCode::AlreadyExists => Self::AlreadyExists,
            ErrorCode::InvalidDocument => Self::InvalidDocument,
            ErrorCode::NotSent => Self::NotSent,
            ErrorCode::TooLarge => Self::TooLarge,
            ErrorCode::ServiceFault => Self::ServiceFault,
            ErrorCode::InvalidReply => Self::InvalidReply,
            ErrorCode::ServiceRefused => Self::ServiceRefused,
            ErrorCode::Transport => Self::Transport,
            ErrorCode::Timeout => Self::Timeout,
            ErrorCode::Tls => Self::Tls,
            ErrorCode::Config => Self::Config,
            ErrorCode::Journal => Self::Journal,
            ErrorCode::Internal => Self::Internal,
            ErrorCode::WouldBlock => Self::WouldBlockInCallback,
        }
    }
}

/// A failed call: the code and what `segur_last_error_details` reports. Messages never hold
/// patient identity; the proposal (a spelling to confirm) is a field, not part of the message.
#[derive(Debug, Clone)]
pub struct Failure {
    pub(crate) code: segur_result,
    pub(crate) message: String,
    pub(crate) subcode: Option<String>,
    pub(crate) service_code: Option<String>,
    pub(crate) proposal: Option<String>,
    /// Boxed: keeps `Failure` (the `Err` of every boundary helper) small.
    pub(crate) reason: Option<Box<NotSentReason>>,
    pub(crate) retryable: bool,
}

impl Failure {
    pub(crate) fn new(code: segur_result, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            subcode: None,
            service_code: None,
            proposal: None,
            reason: None,
            retryable: false,
        }
    }

    pub(crate) fn null(what: &str) -> Self {
        Self::new(segur_result::NullParameter, format!("{what} is NULL"))
    }

    /// The code.
    pub fn code(&self) -> segur_result {
        self.code
    }
}

impl From<SegurError> for Failure {
    fn from(e: SegurError) -> Self {
        let (subcode, service_code) = match e.service_codes() {
            // A DMP refusal or registry error has no separate service code ("" from the facade).
            Some((s, c)) => (
                Some(s.to_owned()).filter(|s| !s.is_empty()),
                Some(c.to_owned()).filter(|c| !c.is_empty()),
            ),
            None => (None, None),
        };
        Self {
            code: e.code().into(),
            message: e.to_string(),
            subcode,
            service_code,
            proposal: e.proposal().map(str::to_owned),
            reason: e.not_sent_reason().map(Box::new),
            retryable: e.is_retryable(),
        }
    }
}

/// The JSON of `segur_last_error_details` (schema `include/schema/error_details.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ErrorDetails {
    /// The `segur_result` number (0 when no call failed on this thread yet).
    pub code: u32,
    /// snake_case name of the code (`needs_confirmation`...).
    pub name: String,
    /// Human-readable message (English, never patient identity).
    pub message: String,
    /// SOAP fault subcode for a service fault (e.g. `siram_40`); for a service refusal the
    /// DMP or XDS registry code (e.g. `DMP_ACCES_NON_AUTORISE`, `XDSRegistryError`).
    pub subcode: Option<String>,
    /// Service-specific code for a service fault (e.g. `desir_1020`; the SOAP fault code of a
    /// DMP fault); null for a DMP refusal.
    pub service_code: Option<String>,
    /// For `needs_confirmation`: the proposed spelling to confirm.
    pub proposal: Option<String>,
    /// For `not_sent` (106): why nothing was sent, `{"kind": "no_dmp" | "closed" |
    /// "feeding_opposed" | "traits_mismatch", "fields": [...]}` (`fields`, for
    /// `traits_mismatch` only: the trait codes that differ, `nom_naissance`, `prenoms`, `sexe`,
    /// `date_naissance`; confirm with `segur_dmp_confirm_traits`, DMP/CONF.01); null otherwise.
    #[serde(default)]
    pub reason: Option<NotSentReason>,
    /// Whether retrying later may succeed.
    pub retryable: bool,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<Failure>> = const { RefCell::new(None) };
}

/// Records the failure of the current call on this thread.
pub(crate) fn set_last_error(f: Failure) {
    LAST_ERROR.with(|l| *l.borrow_mut() = Some(f));
}

/// The details of the last failure on this thread (code 0 when none).
pub(crate) fn last_error_details() -> ErrorDetails {
    LAST_ERROR.with(|l| match &*l.borrow() {
        Some(f) => ErrorDetails {
            code: f.code as u32,
            name: f.code.name().to_owned(),
            message: f.message.clone(),
            subcode: f.subcode.clone(),
            service_code: f.service_code.clone(),
            proposal: f.proposal.clone(),
            reason: f.reason.as_deref().cloned(),
            retryable: f.retryable,
        },
        None => ErrorDetails {
            code: 0,
            name: "ok".into(),
            message: String::new(),
            subcode: None,
            service_code: None,
            proposal: None,
            reason: None,
            retryable: false,
        },
    })
}

/// The message of the last failure on this thread ("" when none).
pub(crate) fn last_error_message() -> String {
    LAST_ERROR.with(|l| {
        l.borrow()
            .as_ref()
            .map(|f| f.message.clone())
            .unwrap_or_default()
    })
}
