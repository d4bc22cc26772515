//! One exchange to record (a call to a service, from its trace), the journal's input row.

use chrono::{DateTime, Utc};

/// One exchange to record.
#[derive(Debug, Clone, Default)]
pub struct NewExchange {
    /// When it started.
    pub at: DateTime<Utc>,
    /// `insi`, later `dmp`, `mssante`...
    pub channel: String,
    /// WSDL operation or verb.
    pub operation: String,
    /// wsa:MessageID / Message-ID.
    pub message_id: String,
    /// Practitioner RPPS.
    pub practitioner: Option<String>,
    /// Structure FINESS.
    pub structure: Option<String>,
    /// Patient local id.
    pub patient_local_id: Option<String>,
    /// INS (15 characters).
    pub ins: Option<String>,
    /// Whether that INS belonged to a qualified identity.
    pub ins_qualified: bool,
    /// Document type code.
    pub document_type: Option<String>,
    /// Document unique id.
    pub document_id: Option<String>,
    /// `ok`, `not_found`, `multiple`, `fault`, `failed`.
    pub status: String,
    /// CR or fault codes.
    pub result_code: Option<String>,
    /// Error message (never patient identity).
    pub error: Option<String>,
    /// Duration.
    pub duration_ms: f64,
    /// HTTP status.
    pub http_status: Option<u16>,
    /// Full request.
    pub request: Vec<u8>,
    /// Full response.
    pub response: Option<Vec<u8>>,
}

impl NewExchange {
    /// The exchange a client traced, with its journal status and code (each service reads its
    /// own outcome codes); the caller adds who, which patient and which document.
    pub fn from_trace(
        x: &segur_net::trace::Exchange,
        status: String,
        code: Option<String>,
    ) -> Self {
        Self {
            at: x.started_at,
            channel: x.service.to_owned(),
            operation: x.operation.clone(),
            message_id: x.message_id.clone(),
            error: match &x.outcome {
                segur_net::trace::Outcome::Failed(e) => Some(e.clone()),
                _ => None,
            },
            status,
            result_code: code,
            duration_ms: x.duration.as_secs_f64() * 1000.0,
            http_status: x.http_status,
            request: x.request.to_vec(),
            response: x.response.as_ref().map(|r| r.to_vec()),
            ..Self::default()
        }
    }
}
