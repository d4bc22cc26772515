//! The one error type of `segur-ins-core`.
//!
//! Messages never contain patient identity (names, birth date, matricule): they name the field,
//! the position and the rule. Where a caller needs the offending value (e.g. the transliteration
//! to confirm), it is in a field of the variant, not in the message.

use segur_net::NetError;

/// Which identity field an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Nom de naissance (birth name).
    NomNaissance,
    /// A prénom de naissance (birth first name).
    Prenom,
    /// Premier prénom de naissance (first birth first name).
    PremierPrenom,
    /// Nom utilisé (used name).
    NomUtilise,
    /// Prénom utilisé (used first name).
    PrenomUtilise,
    /// Date de naissance.
    DateNaissance,
    /// Sexe.
    Sexe,
    /// Lieu de naissance (code officiel géographique).
    LieuNaissance,
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Field::NomNaissance => "nom de naissance",
            Field::Prenom => "prénom de naissance",
            Field::PremierPrenom => "premier prénom de naissance",
            Field::NomUtilise => "nom utilisé",
            Field::PrenomUtilise => "prénom utilisé",
            Field::DateNaissance => "date de naissance",
            Field::Sexe => "sexe",
            Field::LieuNaissance => "lieu de naissance (COG)",
        })
    }
}

/// Everything that can fail in `segur-ins-core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InsError {
    // ---- matricule INS -------------------------------------------------------------------
    /// The matricule does not have 13 characters (15 with the key).
    #[error("matricule INS must have 13 characters, or 15 with its key; got {found}")]
    MatriculeLength {
        /// Number of characters found (spaces removed).
        found: usize,
    },
    /// A character is not allowed at this position.
    #[error(
        "matricule INS: character {found:?} at position {position} is not allowed ({expected})"
    )]
    MatriculeCharacter {
        /// 1-based position.
        position: usize,
        /// The character found.
        found: char,
        /// What is allowed there.
        expected: &'static str,
    },
    /// The key given does not match the number (typed input only; received matricules are
    /// flagged instead).
    #[error("matricule INS key mismatch: expected {expected:02}, got {found}")]
    MatriculeKey {
        /// Key computed from the 13 characters.
        expected: u8,
        /// Key as given.
        found: String,
    },
    /// The OID is not an INS OID where one is required.
    #[error("OID {0} is not an INS OID (1.2.250.1.213.1.4.8/9/10/11)")]
    NotAnInsOid(String),

    // ---- traits --------------------------------------------------------------------------
    /// A mandatory trait is empty.
    #[error("{0} is empty")]
    EmptyTrait(Field),
    /// A character cannot be used in a trait sent to INSi.
    #[error("{field}: character {found:?} at position {position} is not allowed (only A-Z, space, hyphen and apostrophe)")]
    TraitCharacter {
        /// The field.
        field: Field,
        /// 1-based position in the input.
        position: usize,
        /// The character.
        found: char,
    },
    /// Separators misplaced (leading/trailing, three hyphens, apostrophe next to a space...).
    #[error("{field}: {detail}")]
    TraitFormat {
        /// The field.
        field: Field,
        /// What is wrong.
        detail: &'static str,
    },
    /// The input holds characters that INSi refuses but that have a standard transliteration
    /// (typographic apostrophe → `'`, Æ → AE, Œ → OE; CNDA 2.03 case 3). The caller may show
    /// `proposal` and call again with confirmation.
    #[error(
        "{field}: {characters} must be transliterated; confirm to accept the proposed spelling"
    )]
    NeedsConfirmation {
        /// The field.
        field: Field,
        /// The characters concerned, e.g. "’ → ', Æ → AE".
        characters: String,
        /// The normalised, transliterated value the caller may confirm.
        proposal: String,
    },
    /// The birth date is not a valid "date lunaire" `YYYY-MM-DD`.
    #[error("date de naissance: {0}")]
    BirthDate(&'static str),
    /// The sex code is not M, F or I.
    #[error("sexe must be M, F or I; got a {0}-character value")]
    Sexe(usize),
    /// The COG is not a 5-character code officiel géographique.
    #[error("lieu de naissance: {0}")]
    Cog(&'static str),

    // ---- RNIV ----------------------------------------------------------------------------
    /// An RNIV rule forbids the operation.
    #[error("{rule}: {detail}")]
    Rniv {
        /// The rule, e.g. "EXI SI 09" or "RNIV rule 26".
        rule: &'static str,
        /// What was refused and why.
        detail: &'static str,
    },

    // ---- INSi ----------------------------------------------------------------------------
    /// Transport, TLS, XML or SOAP-level failure.
    #[error(transparent)]
    Net(#[from] NetError),
    /// INSi answered with a SOAP fault (`siram_*`, `desir_*`, `insi_*` codes kept).
    #[error("INSi fault {subcode} / {code} ({severity}): {reason}")]
    InsiFault {
        /// SOAP Code/Value local part: Sender or Receiver.
        soap_code: String,
        /// `siram_NN` subcode ("" when absent).
        subcode: String,
        /// `siram:Erreur/@code` (`desir_550`, `insi_24`...; "" when absent).
        code: String,
        /// `siram:Erreur/@severite`.
        severity: String,
        /// `Reason/Text`, the user message of the service.
        reason: String,
    },
    /// The reply does not follow `INSi_RESULTAT_INS.xsd` where it matters.
    #[error("INSi reply invalid at {path}: {detail}")]
    InsiReply {
        /// Element path.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The reply is well-formed but must be refused by the RNIV (rules 11/12: `00` day or
    /// month, empty name, first name or sex).
    #[error("INSi reply refused ({rule}): {detail}")]
    InsiReplyRefused {
        /// The rule.
        rule: &'static str,
        /// What is wrong.
        detail: &'static str,
    },
    /// The client configuration is incomplete or inconsistent.
    #[error("INSi configuration: {0}")]
    Config(String),
}

impl InsError {
    /// Whether retrying later may succeed (`siram_40` outage, timeouts, connection failures).
    pub fn is_retryable(&self) -> bool {
        match self {
            InsError::InsiFault { subcode, .. } => subcode == "siram_40",
            InsError::Net(NetError::Timeout { .. } | NetError::Connect { .. }) => true,
            _ => false,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = InsError> = std::result::Result<T, E>;
