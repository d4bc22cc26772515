//! DMP confidentiality: masking to professionals and visibility to the patient and legal
//! representatives (`dmp.md` §5.2, §5.4; JDV_J08 codes in TRE_A07 `1.2.250.1.213.1.1.4.13`).
//!
//! A DocumentEntry carries 1 to 4 confidentialityCodes: first the CDA's N/R/V, then the DMP codes
//! `MASQUE_PS`, `INVISIBLE_PATIENT`, `INVISIBLE_REPRESENTANTS_LEGAUX`. They are set at submission
//! (ITI-41) and changed by a new metadata version (ITI-57, TD3.3a/b).

use segur_cda::Code;

/// Code system of the DMP confidentiality codes (TRE_A07).
pub const DMP_CONFIDENTIALITY_SYSTEM: &str = "1.2.250.1.213.1.1.4.13";
/// Code system of N/R/V (HL7 Confidentiality).
pub const HL7_CONFIDENTIALITY_SYSTEM: &str = "2.16.840.1.113883.5.25";

/// One DMP confidentiality code (JDV_J08).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DmpConfidentialityCode {
    /// `MASQUE_PS`: masked to health professionals (other than the author).
    MasquePs,
    /// `INVISIBLE_PATIENT`: not visible to the patient.
    InvisiblePatient,
    /// `INVISIBLE_REPRESENTANTS_LEGAUX`: not visible to the patient's legal representatives.
    InvisibleRepresentantsLegaux,
}

impl DmpConfidentialityCode {
    /// Every code, in the order they are written.
    pub const ALL: [Self; 3] = [
        Self::MasquePs,
        Self::InvisiblePatient,
        Self::InvisibleRepresentantsLegaux,
    ];

    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            Self::MasquePs => "MASQUE_PS",
            Self::InvisiblePatient => "INVISIBLE_PATIENT",
            Self::InvisibleRepresentantsLegaux => "INVISIBLE_REPRESENTANTS_LEGAUX",
        }
    }

    /// The JDV_J08 display name.
    pub fn display(self) -> &'static str {
        match self {
            Self::MasquePs => "Masqué aux professionnels de santé",
            Self::InvisiblePatient => "Non visible par le patient",
            Self::InvisibleRepresentantsLegaux => {
                "Non visible par les représentants légaux du patient"
            }
        }
    }

    /// The code from its value (and system, when given).
    pub fn from_code(code: &Code) -> Option<Self> {
        if !code.system.is_empty() && code.system != DMP_CONFIDENTIALITY_SYSTEM {
            return None;
        }
        Self::ALL.into_iter().find(|c| c.code() == code.code)
    }

    /// As a [`Code`].
    pub fn to_code(self) -> Code {
        Code::new(self.code(), DMP_CONFIDENTIALITY_SYSTEM, self.display())
    }
}

/// Masking to health professionals (TD3.3a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Masking {
    /// Visible to the professionals authorised on the DMP.
    #[default]
    NotMasked,
    /// `MASQUE_PS`: masked to professionals other than the author.
    MaskedToProfessionals,
}

/// Visibility to the patient and the legal representatives (TD3.3b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Visibility {
    /// Visible to the patient (false: `INVISIBLE_PATIENT`, e.g. until an announcement visit).
    pub patient: bool,
    /// Visible to the legal representatives (false: `INVISIBLE_REPRESENTANTS_LEGAUX`).
    pub legal_representatives: bool,
}

impl Default for Visibility {
    fn default() -> Self {
        Self {
            patient: true,
            legal_representatives: true,
        }
    }
}

/// The DMP-specific confidentiality of a document (the codes after N/R/V).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DmpConfidentiality {
    /// Masking to professionals.
    pub masking: Masking,
    /// Visibility to the patient and legal representatives.
    pub visibility: Visibility,
}

impl DmpConfidentiality {
    /// Everything visible: no DMP code.
    pub const VISIBLE: Self = Self {
        masking: Masking::NotMasked,
        visibility: Visibility {
            patient: true,
            legal_representatives: true,
        },
    };

    /// The DMP codes this setting writes, in a fixed order.
    pub fn codes(&self) -> Vec<DmpConfidentialityCode> {
        let mut out = Vec::with_capacity(3);
        if self.masking == Masking::MaskedToProfessionals {
            out.push(DmpConfidentialityCode::MasquePs);
        }
        if !self.visibility.patient {
            out.push(DmpConfidentialityCode::InvisiblePatient);
        }
        if !self.visibility.legal_representatives {
            out.push(DmpConfidentialityCode::InvisibleRepresentantsLegaux);
        }
        out
    }

    /// The setting the DMP codes among `codes` express (other codes ignored).
    pub fn from_codes(codes: &[Code]) -> Self {
        let mut s = Self::VISIBLE;
        for c in codes.iter().filter_map(DmpConfidentialityCode::from_code) {
            match c {
                DmpConfidentialityCode::MasquePs => s.masking = Masking::MaskedToProfessionals,
                DmpConfidentialityCode::InvisiblePatient => s.visibility.patient = false,
                DmpConfidentialityCode::InvisibleRepresentantsLegaux => {
                    s.visibility.legal_representatives = false
                }
            }
        }
        s
    }

    /// The full confidentialityCode list: the non-DMP codes of `current` (N/R/V first), then
    /// this setting's DMP codes.
    pub fn apply(&self, current: &[Code]) -> Vec<Code> {
        let mut out: Vec<Code> = current
            .iter()
            .filter(|c| DmpConfidentialityCode::from_code(c).is_none())
            .cloned()
            .collect();
        out.extend(
            self.codes()
                .into_iter()
                .map(DmpConfidentialityCode::to_code),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        let n = Code::new("N", HL7_CONFIDENTIALITY_SYSTEM, "Normal");
        let s = DmpConfidentiality {
            masking: Masking::MaskedToProfessionals,
            visibility: Visibility {
                patient: false,
                legal_representatives: true,
            },
        };
        let all = s.apply(std::slice::from_ref(&n));
        assert_eq!(all.len(), 3);
        assert_eq!(all[0], n);
        assert_eq!(all[1].code, "MASQUE_PS");
        assert_eq!(all[2].code, "INVISIBLE_PATIENT");
        assert_eq!(DmpConfidentiality::from_codes(&all), s);
        // Unmasking drops the DMP codes and keeps N.
        assert_eq!(DmpConfidentiality::VISIBLE.apply(&all), vec![n]);
        // A DMP code value in another system is not a DMP code.
        assert!(DmpConfidentialityCode::from_code(&Code::new("MASQUE_PS", "1.2.3", "")).is_none());
    }
}
