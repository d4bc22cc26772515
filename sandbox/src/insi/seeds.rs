//! The identities the INSi simulator knows: the public test identities of the INSi qualification
//! environment and the CNDA cases (`ins.md` §4), with the replies of the CNDA files where one
//! exists (`../shared/reference/insi/examples`).

/// One INS as the service returns it (number and key as strings: some CNDA keys are wrong and
/// are returned as they are).
#[derive(Debug, Clone, Copy)]
pub struct SeedIns {
    /// 13 characters.
    pub number: &'static str,
    /// 2 digits, as returned.
    pub key: &'static str,
    /// OID.
    pub oid: &'static str,
}

/// A seeded identity.
#[derive(Debug, Clone, Copy)]
pub struct Seed {
    /// The CNDA case or origin, for humans.
    pub case: &'static str,
    /// TIQ NomNaissance.
    pub nom: &'static str,
    /// TIQ ListePrenom.
    pub liste_prenom: &'static str,
    /// Other first names the service is known to accept for this identity (CNDA 3.05 case 3:
    /// RUTH → NATHALIE).
    pub also_accepts: &'static [&'static str],
    /// TIQ Sexe.
    pub sexe: &'static str,
    /// TIQ DateNaissance.
    pub date: &'static str,
    /// TIQ LieuNaissance.
    pub cog: &'static str,
    /// INSACTIF.
    pub active: SeedIns,
    /// INSHISTO, in the order returned.
    pub history: &'static [SeedIns],
}

const NIR: &str = "1.2.250.1.213.1.4.8";
const NIA: &str = "1.2.250.1.213.1.4.9";
const NIR_TEST: &str = "1.2.250.1.213.1.4.10";

const fn ins(number: &'static str, key: &'static str, oid: &'static str) -> SeedIns {
    SeedIns { number, key, oid }
}

/// Every seeded identity.
pub const SEEDS: &[Seed] = &[
    Seed {
        case: "INSi sample (SAPA WS_INS2), EHR manual",
        nom: "ADRDEUX",
        liste_prenom: "LAURENT",
        also_accepts: &[],
        sexe: "M",
        date: "1981-01-01",
        cog: "63220",
        active: ins("1810163220751", "40", NIR),
        history: &[],
    },
    Seed {
        case: "INSi smoke test (padoa README)",
        nom: "ADRUN",
        liste_prenom: "ZOE",
        also_accepts: &[],
        sexe: "F",
        date: "1975-12-31",
        cog: "63220",
        active: ins("2751263220749", "74", NIR),
        history: &[],
    },
    Seed {
        case: "CNDA 2.03 case 2 (Corsica 2B)",
        nom: "ADRTROIS",
        liste_prenom: "TOUSSAINT",
        also_accepts: &[],
        sexe: "M",
        date: "1960-01-01",
        cog: "2B020",
        active: ins("160012B020777", "13", NIR),
        history: &[],
    },
    Seed {
        case: "Corsica 2A (padoa live)",
        nom: "ADRTROIS",
        liste_prenom: "DOMINIQUE",
        also_accepts: &[],
        sexe: "F",
        date: "1997-02-26",
        cog: "2A020",
        active: ins("297022A020778", "78", NIR),
        history: &[],
    },
    Seed {
        case: "CNDA 2.04 (INS history)",
        nom: "ECETINSI",
        liste_prenom: "PIERRE-ALAIN MURIEL FLORIANT",
        also_accepts: &[],
        sexe: "M",
        date: "2009-07-14",
        cog: "63220",
        active: ins("1090763220834", "89", NIR),
        history: &[
            ins("2090763220834", "39", NIR),
            ins("2090663220123", "55", NIR),
        ],
    },
    Seed {
        case: "CNDA 2.05 (NIA)",
        nom: "PROVISOIRE",
        liste_prenom: "MATRICULE",
        also_accepts: &[],
        sexe: "M",
        date: "2009-07-01",
        cog: "63220",
        active: ins("1090763220888", "35", NIA),
        history: &[],
    },
    // CNDA 2.06: two identities share the traits; the COG tells them apart. The matricules are
    // made up for the sandbox (valid keys); INSi's are not public.
    Seed {
        case: "CNDA 2.06 (homonyms, COG 63220)",
        nom: "DE VINCI",
        liste_prenom: "LEONARDO",
        also_accepts: &[],
        sexe: "M",
        date: "2014-02-01",
        cog: "63220",
        active: ins("1140263220901", "", NIR),
        history: &[],
    },
    Seed {
        case: "CNDA 2.06 (homonyms, born in Italy)",
        nom: "DE VINCI",
        liste_prenom: "LEONARDO",
        also_accepts: &[],
        sexe: "M",
        date: "2014-02-01",
        cog: "99127",
        active: ins("1140299127001", "", NIR),
        history: &[],
    },
    Seed {
        case: "CNDA 2.07 case 1 (first-names strategy)",
        nom: "TCHITCHI",
        liste_prenom: "CATARINA",
        also_accepts: &[],
        sexe: "F",
        date: "1936-06-21",
        cog: "63220",
        active: ins("2360663220836", "56", NIR),
        history: &[],
    },
    Seed {
        case: "CNDA 2.08 case 1 (Corsica, history = active)",
        nom: "CORSE",
        liste_prenom: "ANTHONY",
        also_accepts: &[],
        sexe: "M",
        date: "1980-03-02",
        cog: "2B020",
        active: ins("180032B020401", "23", NIR),
        history: &[ins("180032B020401", "23", NIR)],
    },
    Seed {
        case: "CNDA 2.08 case 2 (history key wrong in the CNDA file, returned as is)",
        nom: "HERMAN",
        liste_prenom: "GATIEN",
        also_accepts: &[],
        sexe: "M",
        date: "1981-03-24",
        cog: "63220",
        active: ins("1810363220456", "76", NIR),
        history: &[
            ins("1810363220456", "76", NIR),
            ins("2810363220456", "10", NIR),
        ],
    },
    Seed {
        case: "padoa fixture",
        nom: "NESSI",
        liste_prenom: "MICHELANGELO",
        also_accepts: &[],
        sexe: "M",
        date: "2010-08-07",
        cog: "63220",
        active: ins("1100863220830", "60", NIR),
        history: &[],
    },
    Seed {
        case: "CNDA 3.05 case 3 (searched as RUTH, returned as NATHALIE)",
        nom: "NESSI",
        liste_prenom: "NATHALIE",
        also_accepts: &["RUTH"],
        sexe: "F",
        date: "1977-07-14",
        cog: "63220",
        active: ins("2770763220829", "10", NIR),
        history: &[],
    },
    // The patient of the ANS CI-SIS example documents. Sandbox only: the real qualification
    // service returns the production OID (.8); here the test OID (.10) of the examples.
    Seed {
        case: "ANS CI-SIS example documents patient",
        nom: "PAT-TROIS",
        liste_prenom: "DOMINIQUE MARIE-LOUISE",
        also_accepts: &[],
        sexe: "F",
        date: "1979-03-28",
        cog: "51215",
        active: ins("2790351215189", "89", NIR_TEST),
        history: &[],
    },
];
