//! The CI-SIS en-tête (header) of every CDA R2 document: model and writer.
//!
//! Rules (`cda.md` §2, StrucMin `ASIP-STRUCT-MIN-StrucMin.sch`): realmCode `FR`; typeId
//! `POCD_HD000040`; templateIds HL7 France + CI-SIS + the volet's; `id`, `setId`,
//! `versionNumber`; `code` from JDV_J07; `effectiveTime` with seconds and UTC offset;
//! `confidentialityCode` N/R/V only; `languageCode fr-FR`; recordTarget with the INS only from a
//! [`QualifiedIdentity`] and then all the INS traits (BR/CL names, birth date, sex, COG); author
//! with RPPS IdNat (`8` + RPPS under `1.2.250.1.71.4.2.1`); custodian; legalAuthenticator;
//! informationRecipient per recipient (LGC.DOC.05); participant médecin traitant (PCP);
//! documentationOf/serviceEvent with performer and practice setting; componentOf/
//! encompassingEncounter with healthcare facility type; relatedDocument RPLC.

use chrono::{DateTime, FixedOffset, NaiveDate};
use segur_ins_core::{IdentityRecord, Ins, QualifiedIdentity, Sexe};
use serde::{Deserialize, Serialize};

use crate::codes::{Code, Confidentiality, DocumentType, OID_IDNAT_PS, OID_IDNAT_STRUCT};
use crate::error::{CdaError, Result};
use crate::patient_block::PdfPatient;
use crate::write::Xml;

/// HL7 France templateId.
pub const TEMPLATE_HL7_FRANCE: &str = "2.16.840.1.113883.2.8.2.1";
/// CI-SIS templateId.
pub const TEMPLATE_CI_SIS: &str = "1.2.250.1.213.1.1.1.1";

/// A point in time written as `YYYYMMDDHHMMSS±ZZZZ` (seconds and UTC offset, `cda.md` §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CdaTime(pub DateTime<FixedOffset>);

impl CdaTime {
    /// The HL7 TS string.
    pub fn to_hl7(&self) -> String {
        self.0.format("%Y%m%d%H%M%S%z").to_string()
    }
    /// Now, in the local offset of Paris approximated by the machine's local offset.
    pub fn now() -> Self {
        Self(chrono::Local::now().fixed_offset())
    }
    /// Parses an HL7 TS with at least the date (`YYYYMMDD[HH[MM[SS]]][±ZZZZ]`); missing parts
    /// are zero, a missing offset is UTC.
    pub fn parse_hl7(s: &str) -> Option<Self> {
        let s = s.trim();
        let (main, off) = match s.find(['+', '-']) {
            Some(i) => (&s[..i], Some(&s[i..])),
            None => (s, None),
        };
        let main = main.split('.').next().unwrap_or(main);
        if main.len() < 8 || main.len() > 14 || !main.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut full = String::from(main);
        while full.len() < 14 {
            full.push('0');
        }
        let offset = match off {
            None => "+0000",
            Some(o) if o.len() == 5 && o[1..].bytes().all(|b| b.is_ascii_digit()) => o,
            Some(_) => return None,
        };
        DateTime::parse_from_str(&format!("{full}{offset}"), "%Y%m%d%H%M%S%z")
            .ok()
            .map(Self)
    }
}

/// An instance identifier (`II`): root (OID or UUID) and optional extension.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InstanceId {
    /// The root.
    pub root: String,
    /// The extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
}

impl InstanceId {
    /// `root` alone.
    pub fn root(root: &str) -> Self {
        Self {
            root: root.to_owned(),
            extension: None,
        }
    }
    /// `root` + `extension`.
    pub fn new(root: &str, extension: &str) -> Self {
        Self {
            root: root.to_owned(),
            extension: Some(extension.to_owned()),
        }
    }
    /// A fresh OID `2.25.<uuid as integer>` (ITU-T X.667), usable as a document id, set id and
    /// XDS uniqueId (≤ 64 characters).
    pub fn generate() -> Self {
        Self::root(&format!("2.25.{}", uuid::Uuid::new_v4().as_u128()))
    }
    /// XDS form: `root` or `root^extension`.
    pub fn to_xds(&self) -> String {
        match &self.extension {
            Some(e) => format!("{}^{}", self.root, e),
            None => self.root.clone(),
        }
    }
    fn write(&self, x: &mut Xml, name: &str) {
        match &self.extension {
            Some(e) => x.empty(name, &[("root", &self.root), ("extension", e)]),
            None => x.empty(name, &[("root", &self.root)]),
        }
    }
}

/// A postal address (`AD`), French parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    /// `houseNumber`.
    pub house_number: Option<String>,
    /// `streetName`.
    pub street_name: Option<String>,
    /// `unitID` (staircase, building).
    pub unit_id: Option<String>,
    /// `postalCode`.
    pub postal_code: Option<String>,
    /// `city`.
    pub city: Option<String>,
    /// `country`.
    pub country: Option<String>,
}

impl Address {
    fn write(&self, x: &mut Xml) {
        x.open("addr", &[]);
        for (n, v) in [
            ("houseNumber", &self.house_number),
            ("streetName", &self.street_name),
            ("unitID", &self.unit_id),
            ("postalCode", &self.postal_code),
            ("city", &self.city),
            ("country", &self.country),
        ] {
            if let Some(v) = v {
                x.text(n, &[], v);
            }
        }
        x.close("addr");
    }
}

fn write_addr(x: &mut Xml, a: &Option<Address>) {
    match a {
        Some(a) => a.write(x),
        None => x.empty("addr", &[("nullFlavor", "NASK")]),
    }
}

/// A telecom (`TEL`): `tel:…`, `mailto:…`, `fax:…` and an optional use (`H`, `WP`, `MC`...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Telecom {
    /// URL value.
    pub value: String,
    /// Use code.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_code: Option<String>,
}

fn write_telecoms(x: &mut Xml, t: &[Telecom], null_if_empty: bool) {
    if t.is_empty() && null_if_empty {
        x.empty("telecom", &[("nullFlavor", "NASK")]);
    }
    for t in t {
        match &t.use_code {
            Some(u) => x.empty("telecom", &[("value", &t.value), ("use", u)]),
            None => x.empty("telecom", &[("value", &t.value)]),
        }
    }
}

/// A person's name: civilité (prefix, JDV_J245), given name, family name, titre (suffix, J246).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PersonName {
    /// Civilité (`M`, `MME`).
    pub prefix: Option<String>,
    /// Prénom.
    pub given: Option<String>,
    /// Nom.
    pub family: String,
    /// Titre (`DR`, `PR`).
    pub suffix: Option<String>,
}

impl PersonName {
    fn write(&self, x: &mut Xml) {
        x.open("name", &[]);
        if let Some(p) = &self.prefix {
            x.text("prefix", &[], p);
        }
        if let Some(g) = &self.given {
            x.text("given", &[], g);
        }
        x.text("family", &[], &self.family);
        if let Some(s) = &self.suffix {
            x.text("suffix", &[], s);
        }
        x.close("name");
    }
    /// "Prénom NOM".
    pub fn display(&self) -> String {
        match &self.given {
            Some(g) => format!("{g} {}", self.family),
            None => self.family.clone(),
        }
    }
}

/// An organisation (structure): IdNat_Struct, name, telecoms, address, practice setting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Organization {
    /// IdNat_Struct (extension under `1.2.250.1.71.4.2.2`, e.g. `1` + FINESS or `3` + SIRET).
    pub id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Telecoms.
    pub telecoms: Vec<Telecom>,
    /// Address.
    pub addr: Option<Address>,
    /// Cadre d'exercice (JDV_J04 practiceSettingCode), written as `standardIndustryClassCode`
    /// where the schema allows it.
    pub practice_setting: Option<Code>,
}

impl Organization {
    fn write(&self, x: &mut Xml, name: &str, with_setting: bool) {
        x.open(name, &[]);
        if let Some(id) = &self.id {
            x.empty("id", &[("root", OID_IDNAT_STRUCT), ("extension", id)]);
        }
        if let Some(n) = &self.name {
            x.text("name", &[], n);
        }
        write_telecoms(x, &self.telecoms, false);
        if let Some(a) = &self.addr {
            a.write(x);
        }
        if with_setting {
            if let Some(s) = &self.practice_setting {
                x.code("standardIndustryClassCode", s);
            }
        }
        x.close(name);
    }
}

/// A health professional identified by RPPS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Professional {
    /// RPPS number (11 digits); written as IdNat `8` + RPPS under `1.2.250.1.71.4.2.1`.
    pub rpps: String,
    /// Name.
    pub name: PersonName,
    /// Profession / specialty (JDV_J01, e.g. `G15_10/SM26` in `1.2.250.1.213.1.1.4.5`).
    pub profession: Option<Code>,
    /// Address.
    pub addr: Option<Address>,
    /// Telecoms.
    pub telecoms: Vec<Telecom>,
    /// Organisation.
    pub organization: Option<Organization>,
}

impl Professional {
    /// The IdNat (`8` + RPPS).
    pub fn idnat(&self) -> String {
        format!("8{}", self.rpps)
    }
    fn check(&self, field: &'static str) -> Result<()> {
        if self.rpps.len() != 11 || !self.rpps.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CdaError::Input {
                field,
                detail: "RPPS must have 11 digits",
            });
        }
        if self.name.family.trim().is_empty() {
            return Err(CdaError::Input {
                field,
                detail: "family name is required",
            });
        }
        Ok(())
    }
    /// Writes an `assignedAuthor`/`assignedEntity`-like role body (id, code, addr, telecom,
    /// person, organisation).
    fn write_role(&self, x: &mut Xml, person: &str, org: &str, with_setting: bool) {
        x.empty(
            "id",
            &[("root", OID_IDNAT_PS), ("extension", &self.idnat())],
        );
        if let Some(c) = &self.profession {
            x.code("code", c);
        }
        write_addr(x, &self.addr);
        write_telecoms(x, &self.telecoms, true);
        x.open(person, &[]);
        self.name.write(x);
        x.close(person);
        if let Some(o) = &self.organization {
            o.write(x, org, with_setting);
        }
    }
}

/// Whether test INS OIDs may be written (RNIV: test identities never leave a test environment).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum InsMode {
    /// Production: only `1.2.250.1.213.1.4.8` (INS-NIR) and `.9` (INS-NIA); the test and
    /// demonstration OIDs `.10` / `.11` are refused.
    #[default]
    Production,
    /// Sandbox / test: the test and demonstration OIDs `.10` / `.11` are also accepted (the ANS
    /// examples and the INSi test identities use `.10`).
    Sandbox,
}

/// The patient (recordTarget/patientRole). The INS can only come from a [`QualifiedIdentity`]
/// (RNIV rule 28): [`Patient::qualified`]; [`Patient::local`] writes the IPP alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    ins: Option<Ins>,
    ipp: InstanceId,
    nom_naissance: String,
    prenoms: String,
    premier_prenom: String,
    nom_utilise: Option<String>,
    prenom_utilise: Option<String>,
    sexe: Sexe,
    date_naissance: String,
    lieu_naissance: Option<String>,
    /// Birth city name (optional, beside the COG).
    pub birth_city: Option<String>,
    /// Address.
    pub addr: Option<Address>,
    /// Telecoms.
    pub telecoms: Vec<Telecom>,
}

impl Patient {
    /// From a qualified identity: INS + IPP (`ipp_root` = the OID of the facility's IPP domain)
    /// + every INS trait. `mode` decides whether test OIDs are accepted. The birthplace (COG) is
    ///   mandatory with an INS (StrucMin INS rule).
    pub fn qualified(q: &QualifiedIdentity, ipp_root: &str, mode: InsMode) -> Result<Self> {
        let ins = q.ins();
        if !ins.oid.is_ins() {
            return Err(CdaError::InsRefused("not an INS OID"));
        }
        if ins.oid.is_test() && mode == InsMode::Production {
            return Err(CdaError::InsRefused(
                "test/demo INS OID (1.2.250.1.213.1.4.10/.11) outside sandbox mode",
            ));
        }
        let t = q.traits();
        if t.lieu_naissance.is_none() {
            return Err(CdaError::Input {
                field: "lieu_naissance",
                detail: "the birthplace COG is mandatory with an INS",
            });
        }
        let mut p = Self::from_traits(
            t,
            q.complementaires().nom_utilise.clone(),
            q.complementaires().prenom_utilise.clone(),
            InstanceId::new(ipp_root, q.local_id()),
        );
        p.ins = Some(ins.clone());
        Ok(p)
    }

    /// A patient without INS (identity not qualifiée): IPP and traits only.
    pub fn local(record: &IdentityRecord, ipp_root: &str) -> Self {
        Self::from_traits(
            record.traits(),
            record.complementaires().nom_utilise.clone(),
            record.complementaires().prenom_utilise.clone(),
            InstanceId::new(ipp_root, record.local_id()),
        )
    }

    fn from_traits(
        t: &segur_ins_core::TraitsStricts,
        nom_utilise: Option<String>,
        prenom_utilise: Option<String>,
        ipp: InstanceId,
    ) -> Self {
        Self {
            ins: None,
            ipp,
            nom_naissance: t.nom_naissance.clone(),
            prenoms: t.liste_prenoms(),
            premier_prenom: t.premier_prenom.clone(),
            nom_utilise,
            prenom_utilise,
            sexe: t.sexe,
            date_naissance: t.date_naissance.raw().replace('-', ""),
            lieu_naissance: t.lieu_naissance.as_ref().map(|c| c.as_str().to_owned()),
            birth_city: None,
            addr: None,
            telecoms: Vec::new(),
        }
    }

    /// The INS written, if any.
    pub fn ins(&self) -> Option<&Ins> {
        self.ins.as_ref()
    }
    /// The IPP.
    pub fn ipp(&self) -> &InstanceId {
        &self.ipp
    }
    /// Nom de naissance.
    pub fn nom_naissance(&self) -> &str {
        &self.nom_naissance
    }
    /// Premier prénom de naissance.
    pub fn premier_prenom(&self) -> &str {
        &self.premier_prenom
    }
    /// Prénoms de naissance (space separated).
    pub fn prenoms(&self) -> &str {
        &self.prenoms
    }
    /// Sexe.
    pub fn sexe(&self) -> Sexe {
        self.sexe
    }
    /// Birth date `YYYYMMDD`.
    pub fn date_naissance(&self) -> &str {
        &self.date_naissance
    }
    /// Birthplace COG.
    pub fn lieu_naissance(&self) -> Option<&str> {
        self.lieu_naissance.as_deref()
    }
    /// Used family name (or the birth name).
    pub fn nom_utilise(&self) -> &str {
        self.nom_utilise.as_deref().unwrap_or(&self.nom_naissance)
    }
    /// Used first name (or the first birth first name).
    pub fn prenom_utilise(&self) -> &str {
        self.prenom_utilise
            .as_deref()
            .unwrap_or(&self.premier_prenom)
    }

    /// The block printed on a PDF copy (with the INS DataMatrix when an INS is written).
    pub fn pdf_patient(&self) -> PdfPatient {
        PdfPatient {
            nom_naissance: self.nom_naissance.clone(),
            prenoms: self.prenoms.clone(),
            sexe: self.sexe.as_str().to_owned(),
            date_naissance: self.date_naissance.clone(),
            lieu_naissance: self.lieu_naissance.clone(),
            ins: self
                .ins
                .as_ref()
                .map(|i| (i.matricule.to_15(), i.oid.as_str().to_owned())),
        }
    }

    fn write(&self, x: &mut Xml) {
        x.open("recordTarget", &[]);
        x.open("patientRole", &[]);
        if let Some(ins) = &self.ins {
            x.empty(
                "id",
                &[
                    ("root", ins.oid.as_str()),
                    ("extension", &ins.matricule.to_15()),
                ],
            );
        }
        self.ipp.write(x, "id");
        if let Some(a) = &self.addr {
            a.write(x);
        }
        write_telecoms(x, &self.telecoms, false);
        x.open("patient", &[("classCode", "PSN")]);
        x.open("name", &[]);
        x.text("family", &[("qualifier", "BR")], &self.nom_naissance);
        x.text("given", &[], &self.prenoms);
        x.text("given", &[("qualifier", "BR")], &self.premier_prenom);
        if let Some(n) = &self.nom_utilise {
            x.text("family", &[("qualifier", "CL")], n);
        }
        if let Some(n) = &self.prenom_utilise {
            x.text("given", &[("qualifier", "CL")], n);
        }
        x.close("name");
        let (code, display) = match self.sexe {
            Sexe::M => ("M", "Masculin"),
            Sexe::F => ("F", "Féminin"),
            Sexe::I => ("U", "Inconnu"),
        };
        x.empty(
            "administrativeGenderCode",
            &[
                ("code", code),
                ("displayName", display),
                ("codeSystem", crate::codes::ADMINISTRATIVE_GENDER),
            ],
        );
        x.empty("birthTime", &[("value", &self.date_naissance)]);
        if self.lieu_naissance.is_some() || self.birth_city.is_some() {
            x.open("birthplace", &[]);
            x.open("place", &[]);
            x.open("addr", &[]);
            if let Some(c) = &self.lieu_naissance {
                x.text("county", &[], c);
            }
            if let Some(c) = &self.birth_city {
                x.text("city", &[], c);
            }
            x.close("addr");
            x.close("place");
            x.close("birthplace");
        }
        x.close("patient");
        x.close("patientRole");
        x.close("recordTarget");
    }
}

/// An author of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// When the author wrote/validated the content.
    pub time: CdaTime,
    /// The professional.
    pub professional: Professional,
    /// Functional role (JDV_J47), e.g. `PCP` médecin traitant.
    #[serde(default)]
    pub function_code: Option<Code>,
}

/// Kind of informant (`relatedEntity/@classCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InformantKind {
    /// `ECON`: personne à prévenir en cas d'urgence.
    PersonneAPrevenir,
    /// `NOK`: personne de confiance.
    PersonneDeConfiance,
}

/// An informant: personne à prévenir or personne de confiance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Informant {
    /// Kind.
    pub kind: InformantKind,
    /// Relation to the patient (HL7 RoleCode, e.g. `SIS` Soeur).
    #[serde(default)]
    pub relation: Option<Code>,
    /// Name.
    pub name: PersonName,
    /// Telecoms.
    #[serde(default)]
    pub telecoms: Vec<Telecom>,
    /// Address.
    #[serde(default)]
    pub addr: Option<Address>,
}

/// A recipient of the document (`informationRecipient`, LGC.DOC.05: one per recipient).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Recipient {
    /// RPPS when the recipient is a professional.
    pub rpps: Option<String>,
    /// Name.
    pub name: Option<PersonName>,
    /// Telecoms (e.g. the MSSanté address as `mailto:`).
    pub telecoms: Vec<Telecom>,
    /// Organisation.
    pub organization: Option<Organization>,
}

/// The médecin traitant (participant `INF` / functionCode `PCP`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedecinTraitant {
    /// The doctor.
    pub professional: Professional,
    /// Since when (`time/low`).
    pub since: CdaTime,
}

/// documentationOf/serviceEvent: the act documented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEvent {
    /// Act code (the VSM forces `34117-2`).
    #[serde(default)]
    pub code: Option<Code>,
    /// Start.
    pub start: CdaTime,
    /// End.
    #[serde(default)]
    pub end: Option<CdaTime>,
    /// Performer (with an organisation).
    pub performer: Professional,
    /// Cadre d'exercice (JDV_J04, e.g. `AMBULATOIRE` in `1.2.250.1.213.1.1.4.9`): written as the
    /// performer organisation's `standardIndustryClassCode` (1..1, StrucMin).
    pub practice_setting: Code,
}

/// componentOf/encompassingEncounter: the care context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encounter {
    /// Type of encounter (JDV_J142, e.g. `EXTERNE`).
    #[serde(default)]
    pub code: Option<Code>,
    /// Start.
    #[serde(default)]
    pub start: Option<CdaTime>,
    /// End.
    #[serde(default)]
    pub end: Option<CdaTime>,
    /// Responsible professional.
    #[serde(default)]
    pub responsible: Option<Professional>,
    /// Healthcare facility type (JDV_J02 `healthCareFacility/code`, e.g. `SA07` cabinet).
    pub facility_type: Code,
    /// Facility name.
    #[serde(default)]
    pub location_name: Option<String>,
}

/// The whole header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Document id.
    pub id: InstanceId,
    /// Id shared by all versions.
    pub set_id: InstanceId,
    /// Version number (≥ 1).
    pub version: u32,
    /// Document type (JDV_J07).
    pub doc_type: DocumentType,
    /// Title.
    pub title: String,
    /// Creation time.
    pub effective_time: CdaTime,
    /// N/R/V.
    pub confidentiality: Confidentiality,
    /// The patient.
    pub patient: Patient,
    /// Authors (≥ 1).
    pub authors: Vec<Author>,
    /// Informants.
    pub informants: Vec<Informant>,
    /// Custodian organisation (with its IdNat_Struct).
    pub custodian: Organization,
    /// Recipients.
    pub recipients: Vec<Recipient>,
    /// Legal authenticator and time of signature.
    pub legal_authenticator: (Professional, CdaTime),
    /// Médecin traitant.
    pub medecin_traitant: Option<MedecinTraitant>,
    /// The act documented.
    pub service_event: ServiceEvent,
    /// The care context.
    pub encounter: Encounter,
    /// The id of the earlier version this one replaces (relatedDocument RPLC).
    pub replaces: Option<InstanceId>,
}

/// The templateIds of a volet: (root, extension).
pub type TemplateId = (&'static str, Option<&'static str>);

impl Header {
    /// Checks the header's own rules before writing.
    pub fn check(&self) -> Result<()> {
        if self.version == 0 {
            return Err(CdaError::Input {
                field: "version",
                detail: "versionNumber must be ≥ 1",
            });
        }
        if self.replaces.is_some() && self.version < 2 {
            return Err(CdaError::Input {
                field: "replaces",
                detail: "a replacement (RPLC) must have versionNumber ≥ 2",
            });
        }
        if self.title.trim().is_empty() {
            return Err(CdaError::Input {
                field: "title",
                detail: "title is required",
            });
        }
        if self.authors.is_empty() {
            return Err(CdaError::Input {
                field: "authors",
                detail: "at least one author",
            });
        }
        for a in &self.authors {
            a.professional.check("author")?;
        }
        self.legal_authenticator.0.check("legal_authenticator")?;
        self.service_event
            .performer
            .check("service_event.performer")?;
        if let Some(m) = &self.medecin_traitant {
            m.professional.check("medecin_traitant")?;
        }
        if self.custodian.id.is_none() {
            return Err(CdaError::Input {
                field: "custodian",
                detail: "the custodian needs its IdNat_Struct",
            });
        }
        if self.encounter.start.is_none() && self.encounter.end.is_none() {
            return Err(CdaError::Input {
                field: "encounter",
                detail: "encompassingEncounter/effectiveTime needs low or high",
            });
        }
        Ok(())
    }

    /// Writes `<?xml?>`, the `ClinicalDocument` start tag and the header, then `body` (the
    /// `component` element), then the end tag.
    pub(crate) fn write_document(
        &self,
        templates: &[TemplateId],
        capacity: usize,
        body: impl FnOnce(&mut Xml) -> Result<()>,
    ) -> Result<String> {
        self.check()?;
        let mut x = Xml::with_capacity(capacity);
        x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        x.open(
            "ClinicalDocument",
            &[
                ("xmlns", "urn:hl7-org:v3"),
                ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ],
        );
        x.empty("realmCode", &[("code", "FR")]);
        x.empty(
            "typeId",
            &[
                ("root", "2.16.840.1.113883.1.3"),
                ("extension", "POCD_HD000040"),
            ],
        );
        x.templates(&[TEMPLATE_HL7_FRANCE, TEMPLATE_CI_SIS]);
        for (root, ext) in templates {
            match ext {
                Some(e) => x.empty("templateId", &[("root", root), ("extension", e)]),
                None => x.empty("templateId", &[("root", root)]),
            }
        }
        self.id.write(&mut x, "id");
        x.code("code", &self.doc_type.to_code());
        x.text("title", &[], &self.title);
        x.empty("effectiveTime", &[("value", &self.effective_time.to_hl7())]);
        x.empty(
            "confidentialityCode",
            &[
                ("code", self.confidentiality.code()),
                ("displayName", self.confidentiality.display()),
                ("codeSystem", Confidentiality::SYSTEM),
            ],
        );
        x.empty("languageCode", &[("code", "fr-FR")]);
        self.set_id.write(&mut x, "setId");
        x.empty("versionNumber", &[("value", &self.version.to_string())]);
        self.patient.write(&mut x);
        for a in &self.authors {
            x.open("author", &[]);
            if let Some(f) = &a.function_code {
                x.code("functionCode", f);
            }
            x.empty("time", &[("value", &a.time.to_hl7())]);
            x.open("assignedAuthor", &[]);
            a.professional
                .write_role(&mut x, "assignedPerson", "representedOrganization", false);
            x.close("assignedAuthor");
            x.close("author");
        }
        for i in &self.informants {
            x.open("informant", &[]);
            let class = match i.kind {
                InformantKind::PersonneAPrevenir => "ECON",
                InformantKind::PersonneDeConfiance => "NOK",
            };
            x.open("relatedEntity", &[("classCode", class)]);
            if let Some(c) = &i.relation {
                x.code("code", c);
            }
            write_addr(&mut x, &i.addr);
            write_telecoms(&mut x, &i.telecoms, false);
            x.open("relatedPerson", &[]);
            i.name.write(&mut x);
            x.close("relatedPerson");
            x.close("relatedEntity");
            x.close("informant");
        }
        x.open("custodian", &[]);
        x.open("assignedCustodian", &[]);
        let mut c = self.custodian.clone();
        c.practice_setting = None;
        c.write(&mut x, "representedCustodianOrganization", false);
        x.close("assignedCustodian");
        x.close("custodian");
        for r in &self.recipients {
            x.open("informationRecipient", &[]);
            x.open("intendedRecipient", &[]);
            if let Some(rpps) = &r.rpps {
                x.empty(
                    "id",
                    &[("root", OID_IDNAT_PS), ("extension", &format!("8{rpps}"))],
                );
            }
            write_telecoms(&mut x, &r.telecoms, false);
            if let Some(n) = &r.name {
                x.open("informationRecipient", &[]);
                n.write(&mut x);
                x.close("informationRecipient");
            }
            if let Some(o) = &r.organization {
                let mut o = o.clone();
                o.practice_setting = None;
                o.write(&mut x, "receivedOrganization", false);
            }
            x.close("intendedRecipient");
            x.close("informationRecipient");
        }
        let (la, la_time) = &self.legal_authenticator;
        x.open("legalAuthenticator", &[]);
        x.empty("time", &[("value", &la_time.to_hl7())]);
        x.empty("signatureCode", &[("code", "S")]);
        x.open("assignedEntity", &[]);
        la.write_role(&mut x, "assignedPerson", "representedOrganization", true);
        x.close("assignedEntity");
        x.close("legalAuthenticator");
        if let Some(m) = &self.medecin_traitant {
            x.open("participant", &[("typeCode", "INF")]);
            // VSM 1.4 schematron: displayName 'Médecin Traitant' exactly.
            x.empty(
                "functionCode",
                &[
                    ("code", "PCP"),
                    ("displayName", "Médecin Traitant"),
                    ("codeSystem", "2.16.840.1.113883.5.88"),
                ],
            );
            x.open("time", &[("xsi:type", "IVL_TS")]);
            x.empty("low", &[("value", &m.since.to_hl7())]);
            x.close("time");
            x.open("associatedEntity", &[("classCode", "PROV")]);
            let p = &m.professional;
            x.empty("id", &[("root", OID_IDNAT_PS), ("extension", &p.idnat())]);
            if let Some(c) = &p.profession {
                x.code("code", c);
            }
            write_addr(&mut x, &p.addr);
            write_telecoms(&mut x, &p.telecoms, true);
            x.open("associatedPerson", &[]);
            p.name.write(&mut x);
            x.close("associatedPerson");
            if let Some(o) = &p.organization {
                let mut o = o.clone();
                o.practice_setting = None;
                o.write(&mut x, "scopingOrganization", false);
            }
            x.close("associatedEntity");
            x.close("participant");
        }
        let se = &self.service_event;
        x.open("documentationOf", &[]);
        x.open("serviceEvent", &[]);
        if let Some(c) = &se.code {
            x.code("code", c);
        }
        x.open("effectiveTime", &[]);
        x.empty("low", &[("value", &se.start.to_hl7())]);
        if let Some(e) = &se.end {
            x.empty("high", &[("value", &e.to_hl7())]);
        }
        x.close("effectiveTime");
        x.open("performer", &[("typeCode", "PRF")]);
        x.open("assignedEntity", &[]);
        let mut perf = se.performer.clone();
        let mut org = perf
            .organization
            .take()
            .unwrap_or_else(|| self.custodian.clone());
        org.practice_setting = Some(se.practice_setting.clone());
        perf.organization = Some(org);
        perf.write_role(&mut x, "assignedPerson", "representedOrganization", true);
        x.close("assignedEntity");
        x.close("performer");
        x.close("serviceEvent");
        x.close("documentationOf");
        if let Some(parent) = &self.replaces {
            x.open("relatedDocument", &[("typeCode", "RPLC")]);
            x.open("parentDocument", &[]);
            parent.write(&mut x, "id");
            x.close("parentDocument");
            x.close("relatedDocument");
        }
        let e = &self.encounter;
        x.open("componentOf", &[]);
        x.open("encompassingEncounter", &[]);
        if let Some(c) = &e.code {
            x.code("code", c);
        }
        x.open("effectiveTime", &[]);
        if let Some(s) = &e.start {
            x.empty("low", &[("value", &s.to_hl7())]);
        }
        if let Some(s) = &e.end {
            x.empty("high", &[("value", &s.to_hl7())]);
        }
        x.close("effectiveTime");
        if let Some(r) = &e.responsible {
            r.check("encounter.responsible")?;
            x.open("responsibleParty", &[]);
            x.open("assignedEntity", &[]);
            r.write_role(&mut x, "assignedPerson", "representedOrganization", true);
            x.close("assignedEntity");
            x.close("responsibleParty");
        }
        x.open("location", &[]);
        x.open("healthCareFacility", &[]);
        x.code("code", &e.facility_type);
        if let Some(n) = &e.location_name {
            x.open("location", &[]);
            x.text("name", &[], n);
            x.close("location");
        }
        x.close("healthCareFacility");
        x.close("location");
        x.close("encompassingEncounter");
        x.close("componentOf");
        body(&mut x)?;
        x.close("ClinicalDocument");
        x.out.push('\n');
        Ok(x.out)
    }
}

/// A date (day precision) written `YYYYMMDD`.
pub(crate) fn hl7_date(d: &NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}
