//! Identity traits (traits stricts and traits complémentaires) and the normalisation of typed
//! input before an INSi call.
//!
//! Traits returned by INSi are stored verbatim ([`TraitsStricts::from_insi`] never re-normalises);
//! only what a user types goes through [`normalize_name`].

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::error::{Field, InsError, Result};

/// Sexe: M, F, or I (indéterminé). INSi itself only returns M or F.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sexe {
    /// Masculin.
    M,
    /// Féminin.
    F,
    /// Indéterminé.
    I,
}

impl Sexe {
    /// Parses `M`, `F` or `I` (case-insensitive, surrounding spaces ignored).
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim() {
            "M" | "m" => Ok(Sexe::M),
            "F" | "f" => Ok(Sexe::F),
            "I" | "i" => Ok(Sexe::I),
            other => Err(InsError::Sexe(other.chars().count())),
        }
    }

    /// The one-letter code.
    pub fn as_str(self) -> &'static str {
        match self {
            Sexe::M => "M",
            Sexe::F => "F",
            Sexe::I => "I",
        }
    }
}

impl fmt::Display for Sexe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A birth date as a "date lunaire": the raw `YYYY-MM-DD` string (which may hold a `00` or out of
/// range day or month, e.g. day 31–35 for an unknown day) plus the calendar date when it is one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DateNaissance {
    raw: String,
    calendar: Option<NaiveDate>,
}

impl DateNaissance {
    /// Reads a date lunaire `YYYY-MM-DD` (digits only; day and month may be out of range).
    pub fn parse(raw: &str) -> Result<Self> {
        let raw = raw.trim();
        let b = raw.as_bytes();
        let shape = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape {
            return Err(InsError::BirthDate("expected YYYY-MM-DD"));
        }
        // Date lunaire: day 00 (unknown) to 35 (31–35: unknown day of week 1–5, IHE PAM FR ZFD-1).
        if &raw[8..10] > "35" {
            return Err(InsError::BirthDate("day above 35"));
        }
        let calendar = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok();
        Ok(Self {
            raw: raw.to_owned(),
            calendar,
        })
    }

    /// From a calendar date.
    pub fn from_calendar(date: NaiveDate) -> Self {
        Self {
            raw: date.format("%Y-%m-%d").to_string(),
            calendar: Some(date),
        }
    }

    /// The raw string, as typed or received.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The calendar date, when the raw string is one.
    pub fn calendar(&self) -> Option<NaiveDate> {
        self.calendar
    }

    /// Whether the day or the month is `00` (RNIV rules 11/12 refuse such INSi replies).
    pub fn has_zero_day_or_month(&self) -> bool {
        &self.raw[5..7] == "00" || &self.raw[8..10] == "00"
    }
}

/// What a COG designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CogKind {
    /// A commune of metropolitan France (departments 01–95, Corsica excluded).
    Metropole,
    /// A commune of Corsica (`2A`/`2B`).
    Corse,
    /// A commune of an overseas department or collectivity (`97x`, `98x`).
    OutreMer,
    /// A foreign country (`99` + country code).
    Etranger,
    /// `99999`: unknown birthplace.
    Inconnu,
}

/// A birthplace as a 5-character code officiel géographique (INSEE).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cog(String);

impl Cog {
    /// Validates a COG: 5 characters, digits, or `2A`/`2B` followed by 3 digits.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 5 {
            return Err(InsError::Cog("must have 5 characters"));
        }
        let corsica = b[0] == b'2' && matches!(b[1].to_ascii_uppercase(), b'A' | b'B');
        let ok = b
            .iter()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || (i == 1 && corsica && c.is_ascii_alphabetic()));
        if !ok {
            return Err(InsError::Cog("only digits, or 2A/2B followed by 3 digits"));
        }
        if &b[..2] == b"00" || (&b[..2] == b"20" && !corsica) {
            return Err(InsError::Cog(
                "department 00 and 20 do not exist (Corsica is 2A/2B)",
            ));
        }
        Ok(Self(s.to_ascii_uppercase()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the code designates.
    pub fn kind(&self) -> CogKind {
        let b = self.0.as_bytes();
        match (b[0], b[1]) {
            (b'2', b'A' | b'B') => CogKind::Corse,
            (b'9', b'7' | b'8') => CogKind::OutreMer,
            (b'9', b'9') if &self.0 == "99999" => CogKind::Inconnu,
            (b'9', b'9') => CogKind::Etranger,
            _ => CogKind::Metropole,
        }
    }
}

impl TryFrom<String> for Cog {
    type Error = InsError;
    fn try_from(s: String) -> Result<Self> {
        Cog::parse(&s)
    }
}

impl From<Cog> for String {
    fn from(c: Cog) -> String {
        c.0
    }
}

/// The traits stricts (strict identity traits) of the RNIV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraitsStricts {
    /// Nom de naissance.
    pub nom_naissance: String,
    /// Liste des prénoms de naissance, in order.
    pub prenoms: Vec<String>,
    /// Premier prénom de naissance (the first of the list unless the civil status says
    /// otherwise, e.g. a compound first name written with a space).
    pub premier_prenom: String,
    /// Date de naissance.
    pub date_naissance: DateNaissance,
    /// Sexe.
    pub sexe: Sexe,
    /// Lieu de naissance (COG); may be unknown locally before an INSi call.
    pub lieu_naissance: Option<Cog>,
}

/// The traits complémentaires (used name and first name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraitsComplementaires {
    /// Nom utilisé.
    pub nom_utilise: Option<String>,
    /// Prénom utilisé.
    pub prenom_utilise: Option<String>,
}

/// Raw typed input for [`TraitsStricts::from_input`].
#[derive(Debug, Clone, Default)]
pub struct TraitsInput<'a> {
    /// Nom de naissance as typed.
    pub nom_naissance: &'a str,
    /// Prénoms de naissance as typed, space separated.
    pub prenoms: &'a str,
    /// Premier prénom when it differs from the first word of `prenoms` (compound with space).
    pub premier_prenom: Option<&'a str>,
    /// `YYYY-MM-DD`.
    pub date_naissance: &'a str,
    /// M, F or I.
    pub sexe: &'a str,
    /// COG, optional.
    pub lieu_naissance: Option<&'a str>,
}

impl TraitsStricts {
    /// Builds traits from typed input, normalising names ([`normalize_name`]). With `confirm`
    /// false, transliterations (’ Æ Œ) are refused with [`InsError::NeedsConfirmation`].
    pub fn from_input(input: &TraitsInput<'_>, confirm: bool) -> Result<Self> {
        let nom_naissance = normalize_name(Field::NomNaissance, input.nom_naissance, confirm)?;
        let liste = normalize_name(Field::Prenom, input.prenoms, confirm)?;
        let prenoms: Vec<String> = liste.split(' ').map(str::to_owned).collect();
        let premier_prenom = match input.premier_prenom {
            Some(p) => {
                let p = normalize_name(Field::PremierPrenom, p, confirm)?;
                if !liste.starts_with(&p) {
                    return Err(InsError::TraitFormat {
                        field: Field::PremierPrenom,
                        detail: "must be the beginning of the list of prénoms",
                    });
                }
                p
            }
            None => prenoms[0].clone(),
        };
        Ok(Self {
            nom_naissance,
            prenoms,
            premier_prenom,
            date_naissance: DateNaissance::parse(input.date_naissance)?,
            sexe: Sexe::parse(input.sexe)?,
            lieu_naissance: input.lieu_naissance.map(Cog::parse).transpose()?,
        })
    }

    /// Traits as returned by INSi, verbatim: `liste_prenoms` split on spaces, first name = its
    /// first token (`ins.md` §1.6). No normalisation is applied.
    pub fn from_insi(
        nom_naissance: &str,
        liste_prenoms: &str,
        sexe: Sexe,
        date_naissance: DateNaissance,
        lieu_naissance: Option<Cog>,
    ) -> Self {
        let prenoms: Vec<String> = liste_prenoms
            .split(' ')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        Self {
            nom_naissance: nom_naissance.to_owned(),
            premier_prenom: prenoms.first().cloned().unwrap_or_default(),
            prenoms,
            date_naissance,
            sexe,
            lieu_naissance,
        }
    }

    /// The prénoms joined by spaces (INSi `ListePrenom`).
    pub fn liste_prenoms(&self) -> String {
        self.prenoms.join(" ")
    }
}

/// Normalises a typed name for INSi: upper case, diacritics removed, spaces collapsed; only A–Z,
/// space, hyphen (single or double, `--` for compound birth names) and apostrophe `'` are kept.
///
/// The typographic apostrophe `’` and the ligatures `Æ`/`Œ` are transliterated (`'`, `AE`,
/// `OE`) only when `confirm` is true; otherwise the call fails with
/// [`InsError::NeedsConfirmation`] carrying the proposal (CNDA 2.03 case 3).
pub fn normalize_name(field: Field, input: &str, confirm: bool) -> Result<String> {
    let mut out = String::with_capacity(input.len());
    let mut confirmations: Vec<&'static str> = Vec::new();
    let mut pending_space = false;
    for (pos, orig) in input.chars().enumerate() {
        let position = pos + 1;
        for ch in std::iter::once(orig).nfd() {
            // Combining diacritical marks (after NFD) are dropped.
            if ('\u{0300}'..='\u{036F}').contains(&ch) {
                continue;
            }
            let mapped: &str = match ch {
                'a'..='z' | 'A'..='Z' => {
                    if pending_space && !out.is_empty() {
                        out.push(' ');
                    }
                    pending_space = false;
                    out.push(ch.to_ascii_uppercase());
                    continue;
                }
                ' ' | '\t' | '\u{00A0}' => {
                    pending_space = true;
                    continue;
                }
                '-' => "-",
                '\'' => "'",
                '\u{2019}' => {
                    note(&mut confirmations, "’ → '");
                    "'"
                }
                'Æ' | 'æ' => {
                    note(&mut confirmations, "Æ → AE");
                    "AE"
                }
                'Œ' | 'œ' => {
                    note(&mut confirmations, "Œ → OE");
                    "OE"
                }
                'ß' => {
                    note(&mut confirmations, "ß → SS");
                    "SS"
                }
                _ => {
                    return Err(InsError::TraitCharacter {
                        field,
                        position,
                        found: ch,
                    })
                }
            };
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push_str(mapped);
        }
    }
    if out.is_empty() {
        return Err(InsError::EmptyTrait(field));
    }
    check_separators(field, &out)?;
    if !confirmations.is_empty() && !confirm {
        return Err(InsError::NeedsConfirmation {
            field,
            characters: confirmations.join(", "),
            proposal: out,
        });
    }
    Ok(out)
}

fn note(list: &mut Vec<&'static str>, what: &'static str) {
    if !list.contains(&what) {
        list.push(what);
    }
}

/// Separators must sit between letters: `^[A-Z]+((-{1,2}|[' ])[A-Z]+)*$` (the form INSi
/// accepts, cf. CNDA 2.03 case 1 `D'ARTAGNAN DE L'HERAULT`).
fn check_separators(field: Field, s: &str) -> Result<()> {
    let b = s.as_bytes();
    if !b[0].is_ascii_uppercase() || !b[b.len() - 1].is_ascii_uppercase() {
        return Err(InsError::TraitFormat {
            field,
            detail: "must begin and end with a letter",
        });
    }
    let mut run = 0usize;
    let mut run_kind = 0u8;
    for &c in b {
        if c.is_ascii_uppercase() {
            run = 0;
            continue;
        }
        if run > 0 && !(run_kind == b'-' && c == b'-' && run == 1) {
            return Err(InsError::TraitFormat {
                field,
                detail: "separators must stand alone between letters (a double hyphen is allowed)",
            });
        }
        run += 1;
        run_kind = c;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cnda_2_03_case_1_apostrophes_accepted() {
        assert_eq!(
            normalize_name(Field::NomNaissance, "D'Artagnan de l'Hérault", false).unwrap(),
            "D'ARTAGNAN DE L'HERAULT"
        );
        assert_eq!(
            normalize_name(Field::Prenom, "Pierre-Alain", false).unwrap(),
            "PIERRE-ALAIN"
        );
    }

    #[test]
    fn cnda_2_03_case_2_corsican_cog() {
        let t = TraitsStricts::from_input(
            &TraitsInput {
                nom_naissance: "Adrtrois",
                prenoms: "Toussaint",
                date_naissance: "1960-01-01",
                sexe: "M",
                lieu_naissance: Some("2b020"),
                ..Default::default()
            },
            false,
        )
        .unwrap();
        assert_eq!(t.lieu_naissance.as_ref().unwrap().as_str(), "2B020");
        assert_eq!(t.lieu_naissance.unwrap().kind(), CogKind::Corse);
    }

    #[test]
    fn cnda_2_03_case_3_refused_then_confirmed() {
        let e = normalize_name(Field::NomNaissance, "D’ÆION", false).unwrap_err();
        match &e {
            InsError::NeedsConfirmation {
                characters,
                proposal,
                ..
            } => {
                assert_eq!(proposal, "D'AEION");
                assert!(characters.contains("’ → '") && characters.contains("Æ → AE"));
            }
            other => panic!("{other:?}"),
        }
        assert!(!e.to_string().contains("AEION"), "no identity in messages");
        let e = normalize_name(Field::Prenom, "CŒUR", false).unwrap_err();
        assert!(
            matches!(e, InsError::NeedsConfirmation { ref proposal, .. } if proposal == "COEUR")
        );
        assert_eq!(
            normalize_name(Field::NomNaissance, "D’ÆION", true).unwrap(),
            "D'AEION"
        );
    }

    #[test]
    fn diacritics_case_and_spaces() {
        assert_eq!(
            normalize_name(Field::NomNaissance, "  éloïse   de  la  Forêt ", false).unwrap(),
            "ELOISE DE LA FORET"
        );
        assert_eq!(
            normalize_name(Field::NomNaissance, "Martin--Durand", false).unwrap(),
            "MARTIN--DURAND"
        );
        assert_eq!(
            normalize_name(Field::NomNaissance, "Çelik", false).unwrap(),
            "CELIK"
        );
    }

    #[test]
    fn refusals_are_precise() {
        assert!(matches!(
            normalize_name(Field::NomNaissance, "DUP0NT", false),
            Err(InsError::TraitCharacter {
                position: 4,
                found: '0',
                ..
            })
        ));
        assert!(matches!(
            normalize_name(Field::NomNaissance, "   ", false),
            Err(InsError::EmptyTrait(Field::NomNaissance))
        ));
        for bad in ["-DUPONT", "DUPONT'", "A---B", "A -B", "A'-B"] {
            assert!(
                matches!(
                    normalize_name(Field::NomNaissance, bad, false),
                    Err(InsError::TraitFormat { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn dates_and_cogs() {
        let d = DateNaissance::parse("1936-06-21").unwrap();
        assert_eq!(d.calendar(), NaiveDate::from_ymd_opt(1936, 6, 21));
        let lunar = DateNaissance::parse("1980-00-33").unwrap();
        assert!(lunar.calendar().is_none() && lunar.has_zero_day_or_month());
        assert!(DateNaissance::parse("21/06/1936").is_err());
        assert!(DateNaissance::parse("1981-13-45").is_err());
        assert!(DateNaissance::parse("1981-13-35").is_ok());
        assert!(DateNaissance::parse("1936-6-21").is_err());
        assert_eq!(Cog::parse("97411").unwrap().kind(), CogKind::OutreMer);
        assert_eq!(Cog::parse("99109").unwrap().kind(), CogKind::Etranger);
        assert_eq!(Cog::parse("99999").unwrap().kind(), CogKind::Inconnu);
        assert_eq!(Cog::parse("63220").unwrap().kind(), CogKind::Metropole);
        assert!(Cog::parse("6322").is_err());
        assert!(Cog::parse("2C020").is_err());
        assert!(Cog::parse("20020").is_err());
        assert!(Sexe::parse("X").is_err());
    }

    #[test]
    fn insi_traits_verbatim() {
        let t = TraitsStricts::from_insi(
            "ECETINSI",
            "PIERRE-ALAIN MURIEL FLORIANT",
            Sexe::M,
            DateNaissance::parse("2009-07-14").unwrap(),
            Some(Cog::parse("63220").unwrap()),
        );
        assert_eq!(t.premier_prenom, "PIERRE-ALAIN");
        assert_eq!(t.prenoms.len(), 3);
        assert_eq!(t.liste_prenoms(), "PIERRE-ALAIN MURIEL FLORIANT");
    }

    proptest::proptest! {
        #[test]
        fn normalised_output_is_always_in_the_insi_alphabet(s in "\\PC{0,40}", confirm in proptest::bool::ANY) {
            if let Ok(n) = normalize_name(Field::NomNaissance, &s, confirm) {
                proptest::prop_assert!(n.bytes().all(|b| b.is_ascii_uppercase() || b == b' ' || b == b'-' || b == b'\''));
                // Idempotent.
                proptest::prop_assert_eq!(normalize_name(Field::NomNaissance, &n, false).unwrap(), n);
            }
        }
    }
}
