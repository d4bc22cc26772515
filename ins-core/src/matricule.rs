//! The matricule INS (NIR or NIA) and the INS OIDs.
//!
//! A matricule is 13 characters — sex (1), year (2), month (2), birthplace (5: department or
//! `2A`/`2B` + commune, or `99` + country), order (3) — followed by a 2-digit key,
//! key = 97 − (N mod 97), where N is the 13 characters read as a number after `2A` → `19` and
//! `2B` → `18` at positions 6–7. NIR and NIA share the structure and are told apart by the OID
//! only (`ins.md` §2.1).

use std::fmt;
use std::str::FromStr;

use crate::error::{InsError, Result};

/// Where the key of a matricule came from and whether it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyStatus {
    /// The key given matches the number.
    Valid,
    /// No key was given; it was computed.
    Computed,
    /// The key given does not match. Only possible for a matricule *received* from INSi or a
    /// document: official material contains wrong keys (CNDA 2.08 case 2), so it is kept as
    /// received and flagged, never refused.
    Mismatch {
        /// The key the number calls for.
        expected: u8,
    },
}

/// A matricule INS: 13 characters and a 2-digit key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Matricule {
    chars: [u8; 13],
    key: u8,
    status: KeyStatus,
}

impl fmt::Debug for Matricule {
    /// Never prints the number (privacy): only the key status.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matricule")
            .field("number", &"<redacted>")
            .field("status", &self.status)
            .finish()
    }
}

const EXPECT_DIGIT: &str = "expected a digit";
const EXPECT_CORSICA: &str = "expected a digit, or 2A/2B at positions 6-7";

/// Validates the 13 characters; lowercase `a`/`b` of Corsica are upper-cased.
fn check_number(input: &[u8]) -> Result<[u8; 13]> {
    let mut out = [0u8; 13];
    for (i, &b) in input.iter().enumerate() {
        let ok = match i {
            6 => {
                let c = b.to_ascii_uppercase();
                if b.is_ascii_digit() {
                    true
                } else if (c == b'A' || c == b'B') && input[5] == b'2' {
                    out[i] = c;
                    continue;
                } else {
                    false
                }
            }
            _ => b.is_ascii_digit(),
        };
        if !ok {
            return Err(InsError::MatriculeCharacter {
                position: i + 1,
                found: char_at(input, i),
                expected: if i == 6 { EXPECT_CORSICA } else { EXPECT_DIGIT },
            });
        }
        out[i] = b;
    }
    Ok(out)
}

fn char_at(input: &[u8], i: usize) -> char {
    // Input comes from a &str, but may be cut inside a multi-byte character: report U+FFFD.
    std::str::from_utf8(&input[i..])
        .ok()
        .and_then(|s| s.chars().next())
        .unwrap_or('\u{FFFD}')
}

/// Computes the key of 13 validated characters.
fn compute_key(chars: &[u8; 13]) -> u8 {
    let mut n: u64 = 0;
    for (i, &c) in chars.iter().enumerate() {
        let d = match (i, c) {
            (5, b'2') if chars[6] == b'A' || chars[6] == b'B' => 1,
            (6, b'A') => 9,
            (6, b'B') => 8,
            _ => u64::from(c - b'0'),
        };
        n = n * 10 + d;
    }
    (97 - (n % 97)) as u8
}

fn parse_key(key: &[u8]) -> Option<u8> {
    match key {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

impl Matricule {
    /// Parses a matricule **typed by a user**: 13 characters (the key is then computed) or 15
    /// (the key is checked and a mismatch refused). Spaces are ignored.
    pub fn parse(input: &str) -> Result<Self> {
        let mut buf = [0u8; 15];
        let mut len = 0usize;
        for &b in input.as_bytes() {
            if b == b' ' {
                continue;
            }
            if len == 15 {
                return Err(InsError::MatriculeLength {
                    found: input.chars().filter(|c| *c != ' ').count(),
                });
            }
            buf[len] = b;
            len += 1;
        }
        match len {
            13 => Self::with_key(&buf[..13], None, false),
            15 => Self::with_key(&buf[..13], Some(&buf[13..15]), false),
            _ => Err(InsError::MatriculeLength {
                found: input.chars().filter(|c| *c != ' ').count(),
            }),
        }
    }

    /// Parses 13 characters typed by a user with a separate key (refused when it mismatches).
    pub fn parse_with_key(number: &str, key: &str) -> Result<Self> {
        let number = number.trim();
        if number.len() != 13 {
            return Err(InsError::MatriculeLength {
                found: number.chars().count(),
            });
        }
        Self::with_key(number.as_bytes(), Some(key.trim().as_bytes()), false)
    }

    /// Reads a matricule **received** from INSi or a document: the number must be well formed,
    /// but a wrong key is kept and flagged ([`KeyStatus::Mismatch`]); a missing key is computed.
    pub fn received(number: &str, key: Option<&str>) -> Result<Self> {
        let number = number.trim();
        if number.len() != 13 {
            return Err(InsError::MatriculeLength {
                found: number.chars().count(),
            });
        }
        Self::with_key(number.as_bytes(), key.map(|k| k.trim().as_bytes()), true)
    }

    fn with_key(number: &[u8], key: Option<&[u8]>, lenient: bool) -> Result<Self> {
        let chars = check_number(number)?;
        let expected = compute_key(&chars);
        let Some(key) = key else {
            return Ok(Self {
                chars,
                key: expected,
                status: KeyStatus::Computed,
            });
        };
        let Some(given) = parse_key(key) else {
            return Err(InsError::MatriculeKey {
                expected,
                found: String::from_utf8_lossy(key).into_owned(),
            });
        };
        if given == expected {
            Ok(Self {
                chars,
                key: given,
                status: KeyStatus::Valid,
            })
        } else if lenient {
            Ok(Self {
                chars,
                key: given,
                status: KeyStatus::Mismatch { expected },
            })
        } else {
            Err(InsError::MatriculeKey {
                expected,
                found: format!("{given:02}"),
            })
        }
    }

    /// The 13 characters.
    pub fn number(&self) -> &str {
        // Only ASCII digits and A/B are ever stored.
        std::str::from_utf8(&self.chars).unwrap_or("")
    }

    /// The key as kept (received keys are kept even when they mismatch).
    pub fn key(&self) -> u8 {
        self.key
    }

    /// The key as 2 characters.
    pub fn key_str(&self) -> String {
        format!("{:02}", self.key)
    }

    /// Whether and how the key was checked.
    pub fn key_status(&self) -> KeyStatus {
        self.status
    }

    /// Whether the key matches the number (true for computed keys).
    pub fn key_is_valid(&self) -> bool {
        !matches!(self.status, KeyStatus::Mismatch { .. })
    }

    /// The 15-character form (number + key), as always sent (PAM FR p.36).
    pub fn to_15(&self) -> String {
        let mut s = String::with_capacity(15);
        s.push_str(self.number());
        s.push_str(&self.key_str());
        s
    }

    /// Writes the 15-character form into a buffer without allocating.
    pub fn write_15(&self, out: &mut [u8; 15]) {
        out[..13].copy_from_slice(&self.chars);
        out[13] = b'0' + self.key / 10;
        out[14] = b'0' + self.key % 10;
    }

    /// Sex digit (position 1): 1 or 2, 3/4/7/8 for temporary numbers.
    pub fn sex_digit(&self) -> u8 {
        self.chars[0] - b'0'
    }
}

impl fmt::Display for Matricule {
    /// The 15-character form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.number())?;
        write!(f, "{:02}", self.key)
    }
}

/// Serialised as `{"number": "<13>", "key": "<2>"}`; read back leniently (a stored matricule
/// keeps the key it was received with, flagged when wrong).
impl serde::Serialize for Matricule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Matricule", 2)?;
        st.serialize_field("number", self.number())?;
        st.serialize_field("key", &self.key_str())?;
        st.end()
    }
}

impl<'de> serde::Deserialize<'de> for Matricule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Raw {
            number: String,
            key: Option<String>,
        }
        let raw = Raw::deserialize(d)?;
        Matricule::received(&raw.number, raw.key.as_deref()).map_err(serde::de::Error::custom)
    }
}

impl FromStr for Matricule {
    type Err = InsError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// The OID of the authority that assigned an INS (`ins.md` §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", from = "String")]
pub enum InsOid {
    /// `1.2.250.1.213.1.4.8`: INS-NIR (production).
    Nir,
    /// `1.2.250.1.213.1.4.9`: INS-NIA (attente).
    Nia,
    /// `1.2.250.1.213.1.4.10`: INS-NIR of test.
    NirTest,
    /// `1.2.250.1.213.1.4.11`: INS-NIR of démonstration.
    NirDemo,
    /// Any other OID, kept as received.
    Unknown(String),
}

impl InsOid {
    /// The dotted OID.
    pub fn as_str(&self) -> &str {
        match self {
            InsOid::Nir => "1.2.250.1.213.1.4.8",
            InsOid::Nia => "1.2.250.1.213.1.4.9",
            InsOid::NirTest => "1.2.250.1.213.1.4.10",
            InsOid::NirDemo => "1.2.250.1.213.1.4.11",
            InsOid::Unknown(s) => s,
        }
    }

    /// Reads an OID; unknown ones are kept.
    pub fn from_oid(oid: &str) -> Self {
        match oid.trim() {
            "1.2.250.1.213.1.4.8" => InsOid::Nir,
            "1.2.250.1.213.1.4.9" => InsOid::Nia,
            "1.2.250.1.213.1.4.10" => InsOid::NirTest,
            "1.2.250.1.213.1.4.11" => InsOid::NirDemo,
            other => InsOid::Unknown(other.to_owned()),
        }
    }

    /// Whether this is one of the four INS OIDs.
    pub fn is_ins(&self) -> bool {
        !matches!(self, InsOid::Unknown(_))
    }

    /// Whether this OID marks test or demonstration identities.
    pub fn is_test(&self) -> bool {
        matches!(self, InsOid::NirTest | InsOid::NirDemo)
    }

    /// The assigning authority name used in HL7 v2 CX (`ASIP-SANTE-INS-NIR` / `-NIA`).
    pub fn hl7_authority(&self) -> &'static str {
        match self {
            InsOid::Nia => "ASIP-SANTE-INS-NIA",
            _ => "ASIP-SANTE-INS-NIR",
        }
    }
}

impl fmt::Display for InsOid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<InsOid> for String {
    fn from(o: InsOid) -> String {
        o.as_str().to_owned()
    }
}

impl From<String> for InsOid {
    fn from(s: String) -> InsOid {
        InsOid::from_oid(&s)
    }
}

/// An INS: a matricule and the OID of its assigning authority.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Ins {
    /// The matricule.
    pub matricule: Matricule,
    /// The OID.
    pub oid: InsOid,
}

impl Ins {
    /// HL7 v2 CX: `<15>^^^ASIP-SANTE-INS-NIR&<oid>&ISO^INS` (IHE PAM FR, Annex N).
    pub fn to_cx_hl7v2(&self) -> String {
        format!(
            "{}^^^{}&{}&ISO^INS",
            self.matricule.to_15(),
            self.oid.hl7_authority(),
            self.oid.as_str()
        )
    }

    /// XDS patientId CX: `<15>^^^&<oid>&ISO^NH` (DMP).
    pub fn to_cx_xds(&self) -> String {
        format!("{}^^^&{}&ISO^NH", self.matricule.to_15(), self.oid.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Key vectors of `ins.md` §2.3 (correct keys) and the NIRs of the exchanges dashboard of
    /// the EHR manual (13 characters, keys computed independently).
    const VALID: &[(&str, u8)] = &[
        ("1810163220751", 40),
        ("1090763220834", 89),
        ("2090763220834", 39),
        ("2090663220123", 55),
        ("1090763220888", 35),
        ("180032B020401", 23),
        ("297022A020778", 78),
        ("160012B020777", 13),
        ("2360663220836", 56),
        ("2751263220749", 74),
        ("1100863220830", 60),
        ("2770763220829", 10),
        ("2790351215189", 89),
        ("253072B073004", 70),
        ("253072A073004", 43),
        // EHR manual, "Tableau de Bord des Echanges"
        ("1500604755469", 74),
        ("1481155302710", 2),
        ("1710563220117", 64),
        ("2840495326149", 38),
        ("1920252269294", 62),
        ("2650255443714", 76),
    ];

    /// Official material with wrong keys: (number, key printed, key expected).
    const BAD: &[(&str, &str, u8)] = &[
        ("1810363220456", "60", 76),
        ("2810363220456", "10", 26),
        ("2600588154002", "44", 33),
        ("2760375106693", "80", 26),
        ("2800175056016", "18", 35),
    ];

    #[test]
    fn key_vectors() {
        for (n, k) in VALID {
            let m = Matricule::parse(n).unwrap();
            assert_eq!(m.key(), *k, "{n}");
            assert_eq!(m.key_status(), KeyStatus::Computed);
            let full = format!("{n}{k:02}");
            let m2 = Matricule::parse(&full).unwrap();
            assert_eq!(m2.key_status(), KeyStatus::Valid);
            assert_eq!(m2.to_15(), full);
            assert_eq!(m2.to_string(), full);
            let mut buf = [0u8; 15];
            m2.write_15(&mut buf);
            assert_eq!(&buf, full.as_bytes());
        }
    }

    #[test]
    fn wrong_keys_refused_when_typed_flagged_when_received() {
        for (n, given, expected) in BAD {
            let e = Matricule::parse(&format!("{n}{given}")).unwrap_err();
            assert!(
                matches!(e, InsError::MatriculeKey { expected: x, .. } if x == *expected),
                "{e}"
            );
            assert_eq!(
                e.to_string(),
                format!("matricule INS key mismatch: expected {expected:02}, got {given}")
            );
            let r = Matricule::received(n, Some(given)).unwrap();
            assert_eq!(
                r.key_status(),
                KeyStatus::Mismatch {
                    expected: *expected
                }
            );
            assert_eq!(r.key_str(), *given, "kept as received");
            assert!(!r.key_is_valid());
        }
    }

    #[test]
    fn precise_errors() {
        assert!(matches!(
            Matricule::parse("181016322075"),
            Err(InsError::MatriculeLength { found: 12 })
        ));
        assert!(matches!(
            Matricule::parse("18101632207514012"),
            Err(InsError::MatriculeLength { found: 17 })
        ));
        let e = Matricule::parse("1810X63220751").unwrap_err();
        assert!(matches!(
            e,
            InsError::MatriculeCharacter {
                position: 5,
                found: 'X',
                ..
            }
        ));
        // 'A' at position 7 is only valid after a '2' (Corsica).
        assert!(matches!(
            Matricule::parse("180031A020401"),
            Err(InsError::MatriculeCharacter { position: 7, .. })
        ));
        assert!(matches!(
            Matricule::parse("180032C020401"),
            Err(InsError::MatriculeCharacter { position: 7, .. })
        ));
        assert!(matches!(
            Matricule::parse_with_key("1810163220751", "4x"),
            Err(InsError::MatriculeKey { expected: 40, .. })
        ));
        assert!(matches!(
            Matricule::parse("18101632207é5"),
            Err(InsError::MatriculeLength { .. } | InsError::MatriculeCharacter { .. })
        ));
        // Lower-case Corsica and spaces.
        assert_eq!(
            Matricule::parse("1 80 03 2b 020 401 23").unwrap().to_15(),
            "180032B02040123"
        );
    }

    #[test]
    fn debug_never_shows_the_number() {
        let m = Matricule::parse("1810163220751").unwrap();
        assert!(!format!("{m:?}").contains("181016"));
    }

    #[test]
    fn oids_and_cx() {
        assert_eq!(InsOid::from_oid("1.2.250.1.213.1.4.8"), InsOid::Nir);
        assert_eq!(InsOid::from_oid("1.2.250.1.213.1.4.9"), InsOid::Nia);
        assert_eq!(InsOid::from_oid("1.2.250.1.213.1.4.10"), InsOid::NirTest);
        assert_eq!(InsOid::from_oid("1.2.250.1.213.1.4.11"), InsOid::NirDemo);
        assert_eq!(
            InsOid::from_oid("1.2.250.1.213.1.4.2"),
            InsOid::Unknown("1.2.250.1.213.1.4.2".into())
        );
        let ins = Ins {
            matricule: Matricule::parse("181016322075140").unwrap(),
            oid: InsOid::Nir,
        };
        assert_eq!(
            ins.to_cx_hl7v2(),
            "181016322075140^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS"
        );
        assert_eq!(
            ins.to_cx_xds(),
            "181016322075140^^^&1.2.250.1.213.1.4.8&ISO^NH"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_string_never_panics(s in "\\PC{0,20}") {
            let _ = Matricule::parse(&s);
            let _ = Matricule::received(&s, Some("12"));
        }

        #[test]
        fn computed_key_always_validates(n in "[12][0-9]{4}(2A|2B|[0-9]{2})[0-9]{6}") {
            let m = Matricule::parse(&n).unwrap();
            let again = Matricule::parse(&m.to_15()).unwrap();
            proptest::prop_assert_eq!(again.key_status(), KeyStatus::Valid);
        }
    }
}
