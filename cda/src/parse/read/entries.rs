//! The entries: problems, observations, procedures, allergies, habitus, family history,
//! treatments (medications, devices) and their parts.

use std::borrow::Cow;

use segur_net::xml::Mark;

use super::finish::ivl_dates;
use super::{
    Agent, CodeRef, CodedName, Cx, Dose, Extra, IdRef, Ivl, Label, Material, Obs, Pending, TextRef,
    TreatmentAct, Value, ALD_TEMPLATE, STATUS_TEMPLATE,
};
use crate::codes::Code;
use crate::error::Result;
use crate::parse::{ItemContent, ItemKind};
use crate::vsm::*;

impl<'a> Cx<'a> {
    pub(super) fn problem(
        &mut self,
        kind: ItemKind,
        pos: &str,
        i: usize,
        mark: &Mark<'a>,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let mut time: Option<Ivl<'a>> = None;
        let mut rel: Option<Option<Obs<'a>>> = None;
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "effectiveTime") if time.is_none() => {
                    time = Some(cx.ivl()?);
                    true
                }
                (true, "entryRelationship") if rel.is_none() => {
                    let obs = cx.first_observation()?;
                    rel = Some(obs);
                    true
                }
                _ => false,
            })
        })?;
        let Some(obs) = rel.flatten() else {
            return self.raw(s, pos, i, mark, items);
        };
        let Some(Some(code)) = obs
            .value
            .as_ref()
            .map(|v| v.coded.code.as_ref().map(CodeRef::to_code))
        else {
            return self.raw(s, pos, i, mark, items);
        };
        let (start, end) = ivl_dates(obs.time.as_ref().or(time.as_ref()));
        let label = obs.label_with(obs.value.as_ref().map(|v| &v.coded));
        items.push(Pending {
            kind,
            key: s.id.map_or_else(|| format!("{pos}/{i}"), |id| id.xds()),
            code: Some(code.clone()),
            content: ItemContent::Problem(Problem {
                id: obs.s.id.as_ref().map(IdRef::xds),
                label: String::new(),
                code,
                start,
                end,
            }),
            label,
            extra: Extra::None,
        });
        Ok(())
    }

    /// Current element: an observation (id, code, text, value, effectiveTime, templateIds,
    /// participant agent, nested observations).
    /// Current element: a relationship (`entryRelationship`, `component`); its first
    /// `observation` read, everything else skipped.
    pub(super) fn first_observation(&mut self) -> Result<Option<Obs<'a>>> {
        let mut obs = None;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == "observation" && obs.is_none() {
                obs = Some(self.observation()?);
            } else {
                self.skip()?;
            }
        }
        Ok(obs)
    }

    pub(super) fn observation(&mut self) -> Result<Obs<'a>> {
        let mut value: Option<Value<'a>> = None;
        let mut time: Option<Ivl<'a>> = None;
        let (mut status_template, mut ald_template) = (false, false);
        let mut agent: Option<Option<Agent<'a>>> = None;
        let mut status: Option<Option<Cow<'a, str>>> = None;
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "value") if value.is_none() => {
                    value = Some(cx.value()?);
                    true
                }
                (true, "effectiveTime") if time.is_none() => {
                    time = Some(cx.ivl()?);
                    true
                }
                (true, "templateId") => {
                    match cx.attr("root").as_deref() {
                        Some(STATUS_TEMPLATE) => status_template = true,
                        Some(ALD_TEMPLATE) => ald_template = true,
                        _ => {}
                    }
                    false
                }
                (true, "participant") if agent.is_none() => {
                    agent = Some(cx.agent()?);
                    true
                }
                (true, "entryRelationship") => {
                    let obs = cx.first_observation()?;
                    // The status: the value code of the first one that is a status.
                    if let Some(o) = obs.filter(|o| o.status_template && status.is_none()) {
                        status = Some(o.value.and_then(|v| v.coded.code).map(|c| c.code));
                    }
                    true
                }
                _ => false,
            })
        })?;
        Ok(Obs {
            s,
            value,
            time,
            status_template,
            ald_template,
            agent,
            status: status.flatten(),
        })
    }

    /// Current element: an `act`: `child_code(act, "code")`.
    pub(super) fn act_code(&mut self) -> Result<Option<CodeRef<'a>>> {
        let mut code: Option<Option<CodeRef<'a>>> = None;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == "code" && code.is_none() {
                code = Some(self.code_ref_skip()?);
            } else {
                self.skip()?;
            }
        }
        Ok(code.flatten())
    }

    /// Current element: a `value` (coded part, `xsi:type`, `@value`, `@unit`, its text).
    pub(super) fn value(&mut self) -> Result<Value<'a>> {
        let xsi_type = self.r.attr_ns(self.xsi, "type");
        let has_code = self.attr("code").is_some();
        let value = self.attr("value");
        let unit = self.attr("unit");
        // Its text is kept (habitus free-text values): recorded like narrative.
        self.n.captures += 1;
        let start = self.n.log.len();
        let coded = self.coded();
        self.n.captures -= 1;
        Ok(Value {
            coded: coded?,
            xsi_type,
            has_code,
            value,
            unit,
            text: (start, self.n.log.len()),
        })
    }

    /// Current element: a `participant`: `participantRole/playingEntity` code and name.
    pub(super) fn agent(&mut self) -> Result<Option<Agent<'a>>> {
        self.coded_name("participantRole", "playingEntity")
    }

    /// The first `outer/inner` child pair of the current element, with the first `code` and
    /// `name` of `inner` (`participantRole/playingEntity`, `manufacturedProduct/
    /// manufacturedMaterial`); other children skipped.
    pub(super) fn coded_name(&mut self, outer: &str, inner: &str) -> Result<Option<CodedName<'a>>> {
        let mut out = None;
        let mut seen_outer = false;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == outer && !seen_outer {
                seen_outer = true;
                let mut seen_inner = false;
                while let Some((hl7, name)) = self.child()? {
                    if hl7 && name == inner && !seen_inner {
                        seen_inner = true;
                        let mut v = CodedName::default();
                        let (mut code, mut n) = (false, false);
                        while let Some((hl7, name)) = self.child()? {
                            match (hl7, name) {
                                (true, "code") if !code => {
                                    code = true;
                                    v.code = Some(self.coded()?);
                                }
                                (true, "name") if !n => {
                                    n = true;
                                    v.name = Some(self.direct_text()?);
                                }
                                _ => self.skip()?,
                            }
                        }
                        out = Some(v);
                    } else {
                        self.skip()?;
                    }
                }
            } else {
                self.skip()?;
            }
        }
        Ok(out)
    }

    pub(super) fn procedure(
        &mut self,
        pos: &str,
        i: usize,
        mark: &Mark<'a>,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let mut time: Option<Ivl<'a>> = None;
        let mut reason: Option<CodeRef<'a>> = None;
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "effectiveTime") if time.is_none() => {
                    time = Some(cx.ivl()?);
                    true
                }
                (true, "entryRelationship") => {
                    let r = cx.rson_reason()?;
                    if reason.is_none() {
                        reason = r;
                    }
                    true
                }
                _ => false,
            })
        })?;
        let Some(code) = s
            .code
            .as_ref()
            .and_then(|c| c.code.as_ref())
            .map(CodeRef::to_code)
        else {
            return self.raw(s, pos, i, mark, items);
        };
        let label = s.label_with(s.code.as_ref());
        let id = s.id.as_ref().map(IdRef::xds);
        items.push(Pending {
            kind: ItemKind::AntecedentChirurgical,
            key: id.clone().unwrap_or_else(|| format!("{pos}/{i}")),
            code: Some(code.clone()),
            content: ItemContent::Procedure(Procedure {
                id,
                label: String::new(),
                code,
                date: ivl_dates(time.as_ref()).0,
                reason: reason.map(CodeRef::owned),
            }),
            label,
            extra: Extra::None,
        });
        Ok(())
    }

    /// Current element: an `entryRelationship`: the code of its first `act` when it is a
    /// reason (`typeCode="RSON"`).
    pub(super) fn rson_reason(&mut self) -> Result<Option<CodeRef<'a>>> {
        if !self.is_attr("typeCode", "RSON") {
            self.skip()?;
            return Ok(None);
        }
        let mut code: Option<Option<CodeRef<'a>>> = None;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == "act" && code.is_none() {
                code = Some(self.act_code()?);
            } else {
                self.skip()?;
            }
        }
        Ok(code.flatten())
    }

    pub(super) fn allergy(
        &mut self,
        pos: &str,
        i: usize,
        mark: &Mark<'a>,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let mut all: Vec<Obs<'a>> = Vec::new();
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "entryRelationship") => {
                    let obs = cx.first_observation()?;
                    all.extend(obs);
                    true
                }
                _ => false,
            })
        })?;
        if all.is_empty() {
            return self.raw(s, pos, i, mark, items);
        }
        for (j, obs) in all.into_iter().enumerate() {
            let agent_code = obs.agent.as_ref().and_then(|a| a.as_ref()?.code.as_ref());
            let agent_ref = agent_code.and_then(|c| c.code.as_ref());
            let agent = agent_ref.map(CodeRef::to_code);
            let name = obs.agent.as_ref().and_then(|a| a.as_ref()?.name.clone());
            let status = obs.status.as_deref().and_then(ClinicalStatus::from_code);
            let id = obs.s.id.as_ref().map(IdRef::xds);
            let key = id
                .clone()
                .or_else(|| s.id.as_ref().map(|a| format!("{}/{j}", a.xds())))
                .unwrap_or_else(|| format!("{pos}/{i}/{j}"));
            let kind = obs
                .s
                .code
                .as_ref()
                .and_then(|c| c.code.as_ref())
                .map(CodeRef::to_code);
            let (reaction, reaction_ref) = match obs.value {
                Some(v) => (v.coded.code.map(CodeRef::owned), v.coded.orig),
                None => (None, None),
            };
            items.push(Pending {
                kind: ItemKind::Allergie,
                key,
                code: agent.clone(),
                label: Label::Agent {
                    orig: agent_code.and_then(|c| c.orig.clone()),
                    display: agent_ref.map(|a| a.display.clone().unwrap_or_default()),
                    name,
                },
                content: ItemContent::Allergy(Allergy {
                    id,
                    kind,
                    agent_label: String::new(),
                    agent,
                    reaction_label: None,
                    reaction,
                    start: ivl_dates(obs.time.as_ref()).0,
                    status,
                }),
                extra: Extra::Reaction(reaction_ref),
            });
        }
        Ok(())
    }

    pub(super) fn habitus(
        &mut self,
        pos: &str,
        i: usize,
        mark: &Mark<'a>,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let mut value: Option<Value<'a>> = None;
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "value") if value.is_none() => {
                    value = Some(cx.value()?);
                    true
                }
                _ => false,
            })
        })?;
        let Some(code) = s
            .code
            .as_ref()
            .and_then(|c| c.code.as_ref())
            .map(CodeRef::to_code)
        else {
            return self.raw(s, pos, i, mark, items);
        };
        let label = s.label_with(s.code.as_ref());
        let mut text_value = None;
        let value_ref = value.as_ref().and_then(|v| v.coded.orig.clone());
        let hv = match &value {
            Some(v) if v.xsi_type.as_deref() == Some("PQ") => HabitusValue::Quantity {
                value: v.value.as_deref().unwrap_or_default().to_owned(),
                unit: v.unit.as_deref().unwrap_or("1").to_owned(),
            },
            Some(v) if matches!(v.xsi_type.as_deref(), Some("CD" | "CE")) && v.has_code => {
                HabitusValue::Coded(
                    v.coded
                        .code
                        .as_ref()
                        .map_or_else(|| code.clone(), CodeRef::to_code),
                )
            }
            Some(v) => {
                text_value = Some((v.coded.orig.clone(), v.text));
                HabitusValue::Text(String::new())
            }
            None => HabitusValue::Text(String::new()),
        };
        let id = s.id.as_ref().map(IdRef::xds);
        items.push(Pending {
            kind: ItemKind::Habitus,
            key: id.clone().unwrap_or_else(|| format!("{pos}/{i}")),
            code: Some(code.clone()),
            content: ItemContent::Habitus(Habitus {
                id,
                code,
                label: String::new(),
                value: hv,
                value_label: None,
            }),
            label,
            extra: Extra::Habitus {
                text_value,
                value_label: value_ref,
            },
        });
        Ok(())
    }

    pub(super) fn family(
        &mut self,
        pos: &str,
        i: usize,
        mark: &Mark<'a>,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let mut subject: Option<(Option<Code>, Option<Code>)> = None;
        let mut all: Vec<Obs<'a>> = Vec::new();
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "subject") if subject.is_none() => {
                    subject = Some(cx.related_subject()?);
                    true
                }
                (true, "component") => {
                    let obs = cx.first_observation()?;
                    all.extend(obs);
                    true
                }
                _ => false,
            })
        })?;
        let (relation, gender) = subject.unwrap_or_default();
        let mut any = false;
        for (j, obs) in all.into_iter().enumerate() {
            let code = obs.value.as_ref().and_then(|v| v.coded.code.as_ref());
            let (Some(rel), Some(code)) = (relation.clone(), code.map(CodeRef::to_code)) else {
                continue;
            };
            any = true;
            let label = obs.label_with(obs.value.as_ref().map(|v| &v.coded));
            let id = obs.s.id.as_ref().map(IdRef::xds);
            items.push(Pending {
                kind: ItemKind::AntecedentFamilial,
                key: id.clone().unwrap_or_else(|| format!("{pos}/{i}/{j}")),
                code: Some(code.clone()),
                content: ItemContent::Family(FamilyHistory {
                    id,
                    relation: rel,
                    relation_gender: gender.clone(),
                    label: String::new(),
                    code,
                }),
                label,
                extra: Extra::None,
            });
        }
        if !any {
            return self.raw(s, pos, i, mark, items);
        }
        Ok(())
    }

    /// Current element: an organizer's `subject`: `relatedSubject` code and
    /// `subject/administrativeGenderCode`.
    pub(super) fn related_subject(&mut self) -> Result<(Option<Code>, Option<Code>)> {
        let mut out = (None, None);
        let mut rs = false;
        while let Some((hl7, name)) = self.child()? {
            if hl7 && name == "relatedSubject" && !rs {
                rs = true;
                let (mut code, mut subject) = (false, false);
                while let Some((hl7, name)) = self.child()? {
                    match (hl7, name) {
                        (true, "code") if !code => {
                            code = true;
                            out.0 = self.code_skip()?;
                        }
                        (true, "subject") if !subject => {
                            subject = true;
                            out.1 = self
                                .path_code(&["administrativeGenderCode"])?
                                .map(CodeRef::owned);
                        }
                        _ => self.skip()?,
                    }
                }
            } else {
                self.skip()?;
            }
        }
        Ok(out)
    }

    pub(super) fn treatment(
        &mut self,
        pos: &str,
        i: usize,
        mark: &Mark<'a>,
        items: &mut Vec<Pending<'a>>,
    ) -> Result<()> {
        let mut material: Option<Option<Material<'a>>> = None;
        let mut times: Vec<Ivl<'a>> = Vec::new();
        let mut dose: Option<Dose<'a>> = None;
        let mut route: Option<Option<CodeRef<'a>>> = None;
        let mut reason: Option<CodeRef<'a>> = None;
        let mut ald: Option<Option<bool>> = None;
        let mut instruction: Option<Option<TextRef<'a>>> = None;
        let s = self.statement(|cx, hl7, name| {
            Ok(match (hl7, name) {
                (true, "consumable") if material.is_none() => {
                    material = Some(cx.material()?);
                    true
                }
                (true, "effectiveTime") => {
                    times.push(cx.ivl()?);
                    true
                }
                (true, "doseQuantity") if dose.is_none() => {
                    let mut d = Dose {
                        value: cx.attr("value"),
                        unit: cx.attr("unit"),
                        low: None,
                    };
                    while let Some((hl7, name)) = cx.child()? {
                        if hl7 && name == "low" && d.low.is_none() {
                            d.low = Some((cx.attr("value"), cx.attr("unit")));
                        }
                        cx.skip()?;
                    }
                    dose = Some(d);
                    true
                }
                (true, "routeCode") if route.is_none() => {
                    route = Some(cx.code_ref_skip()?);
                    true
                }
                (true, "entryRelationship") => {
                    let rson = cx.is_attr("typeCode", "RSON");
                    let (mut obs, mut act) = (false, false);
                    while let Some((hl7, name)) = cx.child()? {
                        match (hl7, name) {
                            (true, "observation") if !obs => {
                                obs = true;
                                let o = cx.observation()?;
                                if ald.is_none() && o.ald_template {
                                    ald = Some(o.value.and_then(|v| v.value).map(|v| v == "true"));
                                }
                            }
                            (true, "act") if !act => {
                                act = true;
                                let a = cx.treatment_act()?;
                                if rson && reason.is_none() {
                                    reason = a.code;
                                }
                                if a.instruction && instruction.is_none() {
                                    instruction = Some(a.text);
                                }
                            }
                            _ => cx.skip()?,
                        }
                    }
                    true
                }
                _ => false,
            })
        })?;
        let Some(mm) = material.flatten() else {
            return self.raw(s, pos, i, mark, items);
        };
        let Some(cis_el) = mm.code else {
            return self.raw(s, pos, i, mark, items);
        };
        let Some(cis) = cis_el.code.as_ref().map(CodeRef::to_code) else {
            return self.raw(s, pos, i, mark, items);
        };
        let label = s.label_with(Some(&cis_el));
        let (start, end) = ivl_dates(times.iter().find(|t| t.has_low_high));
        let period = times
            .iter()
            .find_map(|t| t.period.as_ref())
            .and_then(|(v, u)| {
                Some((
                    v.as_deref()?.to_owned(),
                    u.as_deref().unwrap_or("d").to_owned(),
                ))
            });
        let (dv, du) = match dose {
            Some(Dose { low: Some(l), .. }) => l,
            Some(Dose { value, unit, .. }) => (value, unit),
            None => (None, None),
        };
        let id = s.id.as_ref().map(IdRef::xds);
        items.push(Pending {
            kind: ItemKind::Traitement,
            key: id.clone().unwrap_or_else(|| format!("{pos}/{i}")),
            code: Some(cis.clone()),
            content: ItemContent::Treatment(Treatment {
                id,
                label: String::new(),
                cis,
                cip13: cis_el.translation.map(CodeRef::owned),
                name: mm.name.filter(|n| !n.is_empty()),
                start,
                end,
                posology: Posology {
                    dose: dv.map(Cow::into_owned),
                    unit: du.map(Cow::into_owned),
                    period,
                    text: None,
                },
                route: route.flatten().map(CodeRef::owned),
                reason: reason.map(CodeRef::owned),
                ald: ald.flatten(),
            }),
            label,
            extra: match instruction.flatten() {
                Some(t) => Extra::Instruction(t),
                None => Extra::None,
            },
        });
        Ok(())
    }

    /// Current element: an `act` under a treatment's `entryRelationship`: its first `code`,
    /// whether it is a patient instruction ([`TEMPLATE_PATIENT_INSTRUCTIONS`]) and its first
    /// `text` (reference and own text, recorded like narrative).
    pub(super) fn treatment_act(&mut self) -> Result<TreatmentAct<'a>> {
        let mut a = TreatmentAct {
            code: None,
            instruction: false,
            text: None,
        };
        let mut code = false;
        while let Some((hl7, name)) = self.child()? {
            match (hl7, name) {
                (true, "code") if !code => {
                    code = true;
                    a.code = self.code_ref_skip()?;
                }
                (true, "templateId") => {
                    a.instruction |= self.is_attr("root", TEMPLATE_PATIENT_INSTRUCTIONS);
                    self.skip()?;
                }
                (true, "text") if a.text.is_none() => {
                    self.n.captures += 1;
                    let start = self.n.log.len();
                    let r = self.reference();
                    self.n.captures -= 1;
                    a.text = Some((r?, (start, self.n.log.len())));
                }
                _ => self.skip()?,
            }
        }
        Ok(a)
    }

    /// Current element: `consumable`: `manufacturedProduct/manufacturedMaterial` code and name.
    pub(super) fn material(&mut self) -> Result<Option<Material<'a>>> {
        self.coded_name("manufacturedProduct", "manufacturedMaterial")
    }
}
