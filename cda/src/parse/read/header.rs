//! The document element and the CDA header: ids, codes, patient, authors, custodian, legal
//! authenticator, participants, serviceEvent, encompassingEncounter.

use std::borrow::Cow;

use segur_net::xml::XmlEvent;

use super::{CodeRef, Cx, Doc, Encounter, Node, Org, PatientRole, ServiceEvent};
use crate::error::Result;
use crate::header::{InstanceId, PersonName};
use crate::parse::{ParsedPatient, ParsedPerson};

impl<'a> Cx<'a> {
    /// Reads the whole document: the header facts and the body.
    pub(super) fn document(&mut self) -> Result<Doc<'a>> {
        let mut d = Doc::default();
        loop {
            match self.node()? {
                Node::Start(ns, name) => {
                    if ns == self.hl7 && name == "ClinicalDocument" {
                        self.header(&mut d)?;
                    } else {
                        let uri = self.r.namespace_uri(ns).unwrap_or("").to_owned();
                        d.wrong_root = Some((uri, name.to_owned()));
                        // Still read to the end: an XML error anywhere wins.
                        self.skip()?;
                    }
                    break;
                }
                Node::Text(_) => {}
                // Unreachable: the reader refuses a document without a root element.
                Node::End => break,
            }
        }
        // Whatever follows the root must still be well-formed (comments, whitespace).
        while !matches!(self.r.read_event()?, XmlEvent::Eof) {}
        Ok(d)
    }

    pub(super) fn header(&mut self, d: &mut Doc<'a>) -> Result<()> {
        let h = &mut d.h;
        while let Some((hl7, name)) = self.child()? {
            if !hl7 {
                self.skip()?;
                continue;
            }
            match name {
                "templateId" => {
                    if let Some(t) = self.ii_skip()? {
                        h.template_ids.push(t);
                    }
                }
                "id" if h.id.is_none() => {
                    h.id = Some((self.owned("root"), self.owned("extension")));
                    self.skip()?;
                }
                "code" if h.code.is_none() => h.code = Some(self.code_skip()?),
                "title" if h.title.is_none() => h.title = Some(self.deep_text()?),
                "effectiveTime" if h.effective_time.is_none() => {
                    h.effective_time = Some(self.attr_skip("value")?)
                }
                "confidentialityCode" if h.confidentiality.is_none() => {
                    h.confidentiality = Some(self.attr_skip("code")?)
                }
                "languageCode" if h.language.is_none() => {
                    h.language = Some(self.attr_skip("code")?)
                }
                "setId" if h.set_id.is_none() => {
                    h.set_id = Some((self.owned("root"), self.owned("extension")));
                    self.skip()?;
                }
                "versionNumber" if h.version.is_none() => {
                    h.version = Some(self.attr_skip("value")?)
                }
                "recordTarget" if h.record_target.is_none() => {
                    h.record_target = Some(self.record_target()?)
                }
                "author" => {
                    let mut aa = None;
                    let mut time = None;
                    while let Some((hl7, name)) = self.child()? {
                        match (hl7, name) {
                            (true, "assignedAuthor") if aa.is_none() => {
                                aa = Some(self.person("assignedPerson", "representedOrganization")?)
                            }
                            (true, "time") if time.is_none() => {
                                time = Some(self.attr_skip("value")?)
                            }
                            _ => self.skip()?,
                        }
                    }
                    h.authors.push((aa, time.flatten()));
                }
                "custodian" if h.custodian.is_none() => {
                    let mut ac = None;
                    while let Some((hl7, name)) = self.child()? {
                        if hl7 && name == "assignedCustodian" && ac.is_none() {
                            let mut org = None;
                            while let Some((hl7, name)) = self.child()? {
                                if hl7
                                    && name == "representedCustodianOrganization"
                                    && org.is_none()
                                {
                                    org = Some(self.organization()?);
                                } else {
                                    self.skip()?;
                                }
                            }
                            ac = Some(org);
                        } else {
                            self.skip()?;
                        }
                    }
                    h.custodian = Some(ac);
                }
                "legalAuthenticator" if h.legal.is_none() => {
                    let mut ae = None;
                    let mut time = None;
                    while let Some((hl7, name)) = self.child()? {
                        match (hl7, name) {
                            (true, "assignedEntity") if ae.is_none() => {
                                ae = Some(self.person("assignedPerson", "representedOrganization")?)
                            }
                            (true, "time") if time.is_none() => {
                                time = Some(self.attr_skip("value")?)
                            }
                            _ => self.skip()?,
                        }
                    }
                    h.legal = Some((ae, time.flatten()));
                }
                "informationRecipient" => {
                    let mut ir = None;
                    while let Some((hl7, name)) = self.child()? {
                        if hl7 && name == "intendedRecipient" && ir.is_none() {
                            ir = Some(self.person("informationRecipient", "receivedOrganization")?);
                        } else {
                            self.skip()?;
                        }
                    }
                    h.recipients.extend(ir);
                }
                "participant" => {
                    let inf = self.is_attr("typeCode", "INF");
                    let (mut fc, mut ae, mut time) = (None, None, None);
                    while let Some((hl7, name)) = self.child()? {
                        match (hl7, name) {
                            (true, "functionCode") if fc.is_none() => {
                                fc = Some(self.attr_skip("code")?)
                            }
                            (true, "associatedEntity") if ae.is_none() => {
                                ae = Some(self.person("associatedPerson", "scopingOrganization")?)
                            }
                            (true, "time") if time.is_none() => {
                                time = Some(self.child_attr("low", "value")?)
                            }
                            _ => self.skip()?,
                        }
                    }
                    if inf && fc.flatten().as_deref() == Some("PCP") && !h.pcp_found {
                        h.pcp_found = true;
                        h.medecin_traitant = ae.map(|mut p| {
                            p.time = time.flatten();
                            p
                        });
                    }
                }
                "documentationOf" if h.service_event.is_none() => {
                    let mut se = None;
                    while let Some((hl7, name)) = self.child()? {
                        if hl7 && name == "serviceEvent" && se.is_none() {
                            se = Some(self.service_event()?);
                        } else {
                            self.skip()?;
                        }
                    }
                    h.service_event = Some(se);
                }
                "componentOf" if h.encounter.is_none() => {
                    let mut enc = None;
                    while let Some((hl7, name)) = self.child()? {
                        if hl7 && name == "encompassingEncounter" && enc.is_none() {
                            enc = Some(self.encounter()?);
                        } else {
                            self.skip()?;
                        }
                    }
                    h.encounter = Some(enc);
                }
                "relatedDocument" if !h.rplc_found && self.is_attr("typeCode", "RPLC") => {
                    h.rplc_found = true;
                    while let Some((hl7, name)) = self.child()? {
                        if hl7 && name == "parentDocument" && h.replaces.is_none() {
                            h.replaces = Some(self.first_ii()?);
                        } else {
                            self.skip()?;
                        }
                    }
                }
                "component" if d.component.is_none() => d.component = Some(self.component()?),
                _ => self.skip()?,
            }
        }
        Ok(())
    }

    /// Current element: `ii_opt` of its first `id` child.
    pub(super) fn first_ii(&mut self) -> Result<Option<InstanceId>> {
        let mut id = None;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == "id" && id.is_none() {
                id = Some(self.ii_skip()?);
            } else {
                self.skip()?;
            }
        }
        Ok(id.flatten())
    }

    /// Current element (an organisation): first `id` and first `name`.
    pub(super) fn organization(&mut self) -> Result<Org> {
        let (mut id, mut name) = (None, None);
        while let Some((hl7, n)) = self.child()? {
            match (hl7, n) {
                (true, "id") if id.is_none() => id = Some(self.ii_skip()?),
                (true, "name") if name.is_none() => name = Some(self.direct_text()?),
                _ => self.skip()?,
            }
        }
        Ok((id.flatten(), name))
    }

    /// Current element (a role): `person` of the tree path.
    pub(super) fn person(&mut self, person_name: &str, org_name: &str) -> Result<ParsedPerson> {
        let mut p = ParsedPerson::default();
        let (mut id, mut pn, mut code) = (false, false, false);
        while let Some((hl7, name)) = self.child()? {
            if !hl7 {
                self.skip()?;
            } else if name == "id" && !id {
                id = true;
                p.id = self.ii_skip()?;
            } else if name == person_name && !pn {
                pn = true;
                let mut first = true;
                while let Some((hl7, n)) = self.child()? {
                    if hl7 && n == "name" && first {
                        first = false;
                        p.name = Some(self.person_name()?);
                    } else {
                        self.skip()?;
                    }
                }
            } else if name == "code" && !code {
                code = true;
                p.code = self.code_skip()?;
            } else if name == org_name && p.organization.is_none() {
                p.organization = Some(self.organization()?);
            } else {
                self.skip()?;
            }
        }
        Ok(p)
    }

    /// Current element: a `name` (prefix, given, family, suffix; first of each).
    pub(super) fn person_name(&mut self) -> Result<PersonName> {
        let (mut prefix, mut given, mut family, mut suffix) = (None, None, None, None);
        while let Some((hl7, n)) = self.child()? {
            let slot = match (hl7, n) {
                (true, "prefix") => &mut prefix,
                (true, "given") => &mut given,
                (true, "family") => &mut family,
                (true, "suffix") => &mut suffix,
                _ => {
                    self.skip()?;
                    continue;
                }
            };
            if slot.is_none() {
                *slot = Some(self.direct_text()?);
            } else {
                self.skip()?;
            }
        }
        Ok(PersonName {
            prefix,
            given,
            family: family.unwrap_or_default(),
            suffix,
        })
    }

    pub(super) fn record_target(&mut self) -> Result<Option<PatientRole>> {
        let mut pr = None;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == "patientRole" && pr.is_none() {
                let mut role = PatientRole::default();
                while let Some((hl7, name)) = self.child()? {
                    match (hl7, name) {
                        (true, "id") => role.ids.extend(self.ii_skip()?),
                        (true, "patient") if role.patient.is_none() => {
                            role.patient = Some(self.patient()?)
                        }
                        _ => self.skip()?,
                    }
                }
                pr = Some(role);
            } else {
                self.skip()?;
            }
        }
        Ok(pr)
    }

    pub(super) fn patient(&mut self) -> Result<ParsedPatient> {
        let mut p = ParsedPatient::default();
        let (mut name, mut sexe, mut birth, mut place) = (false, false, false, false);
        while let Some((hl7, n)) = self.child()? {
            match (hl7, n) {
                (true, "name") if !name => {
                    name = true;
                    while let Some((_, part)) = self.child()? {
                        let q = self.attr("qualifier");
                        let slot = match (part, q.as_deref()) {
                            ("family", Some("BR")) => &mut p.nom_naissance,
                            ("family", Some("CL")) => &mut p.nom_utilise,
                            ("family", None) if p.nom_naissance.is_none() => &mut p.nom_naissance,
                            ("given", Some("BR")) => &mut p.premier_prenom,
                            ("given", Some("CL")) => &mut p.prenom_utilise,
                            ("given", None) => &mut p.prenoms,
                            _ => {
                                self.skip()?;
                                continue;
                            }
                        };
                        *slot = Some(self.deep_text()?);
                    }
                }
                (true, "administrativeGenderCode") if !sexe => {
                    sexe = true;
                    p.sexe = self.attr_skip("code")?;
                }
                (true, "birthTime") if !birth => {
                    birth = true;
                    p.birth_time = self.attr_skip("value")?;
                }
                (true, "birthplace") if !place => {
                    place = true;
                    p.birth_cog = self.path_text(&["place", "addr", "county"])?;
                }
                _ => self.skip()?,
            }
        }
        Ok(p)
    }

    /// Current element: `child_text` at the end of a path of first children.
    pub(super) fn path_text(&mut self, path: &[&str]) -> Result<Option<String>> {
        let Some((first, rest)) = path.split_first() else {
            return self.direct_text().map(Some);
        };
        let mut out = None;
        let mut seen = false;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == *first && !seen {
                seen = true;
                out = self.path_text(rest)?;
            } else {
                self.skip()?;
            }
        }
        Ok(out)
    }

    /// Current element: a `code` at the end of a path of first children (`child_code`).
    pub(super) fn path_code(&mut self, path: &[&str]) -> Result<Option<CodeRef<'a>>> {
        let Some((first, rest)) = path.split_first() else {
            return self.code_ref_skip();
        };
        let mut out = None;
        let mut seen = false;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == *first && !seen {
                seen = true;
                out = self.path_code(rest)?;
            } else {
                self.skip()?;
            }
        }
        Ok(out)
    }

    pub(super) fn service_event(&mut self) -> Result<ServiceEvent> {
        let mut se = ServiceEvent::default();
        let (mut code, mut time, mut perf) = (false, false, false);
        while let Some((hl7, name)) = self.child()? {
            match (hl7, name) {
                (true, "code") if !code => {
                    code = true;
                    se.code = self.code_skip()?;
                }
                (true, "effectiveTime") if !time => {
                    time = true;
                    let i = self.ivl()?;
                    se.time = (i.low.map(Cow::into_owned), i.high.map(Cow::into_owned));
                }
                (true, "performer") if !perf => {
                    perf = true;
                    se.practice = self
                        .path_code(&[
                            "assignedEntity",
                            "representedOrganization",
                            "standardIndustryClassCode",
                        ])?
                        .map(CodeRef::owned);
                }
                _ => self.skip()?,
            }
        }
        Ok(se)
    }

    pub(super) fn encounter(&mut self) -> Result<Encounter> {
        let mut e = Encounter::default();
        let (mut code, mut loc) = (false, false);
        while let Some((hl7, name)) = self.child()? {
            match (hl7, name) {
                (true, "code") if !code => {
                    code = true;
                    e.code = self.code_skip()?;
                }
                (true, "location") if !loc => {
                    loc = true;
                    e.facility = self
                        .path_code(&["healthCareFacility", "code"])?
                        .map(CodeRef::owned);
                }
                _ => self.skip()?,
            }
        }
        Ok(e)
    }
}
