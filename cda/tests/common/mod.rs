//! Shared by the integration tests: the ANS VSM example as another LPS would send it with its
//! posologies as IHE PCC patient instructions (FR-Instructions-au-patient).

/// The ANS VSM example (`VSM_1.4_2022.01.xml`) with a FR-Instructions-au-patient entry in each
/// treatment, in the ANS eP-MED-DM example's form: PLAVIX's refers to its narrative posology
/// cell (given the `ID` `med-001-poso`), COUMADINE's has its text inline (no reference). Their
/// texts: `"1 cp/j"` and `"1 cp le soir"`.
pub fn ans_vsm_with_instructions(ans: &str) -> String {
    let instruction = |text: &str| {
        format!(
            r#"<entryRelationship typeCode="SUBJ" inversionInd="true">
                <act classCode="ACT" moodCode="INT">
                  <templateId root="2.16.840.1.113883.10.20.1.49"/>
                  <templateId root="1.3.6.1.4.1.19376.1.5.3.1.4.3"/>
                  <templateId root="1.2.250.1.213.1.1.3.33"/>
                  <code code="PINSTRUCT" codeSystem="1.3.6.1.4.1.19376.1.5.3.2"
                    codeSystemName="IHEActCode"/>
                  <text>{text}</text>
                  <statusCode code="completed"/>
                </act>
              </entryRelationship>"#
        )
    };
    let cell = "<td>1 cp/j</td>";
    assert_eq!(ans.matches(cell).count(), 2, "ANS example changed");
    let xml = ans.replacen(
        cell,
        r#"<td><content ID="med-001-poso">1 cp/j</content></td>"#,
        1,
    );
    let mut parts = xml.split("</consumable>");
    let (Some(a), Some(b), Some(c), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        panic!("ANS example changed: two treatments expected");
    };
    format!(
        "{a}</consumable>{}{b}</consumable>{}{c}",
        instruction(r##"<reference value="#med-001-poso"/>"##),
        instruction("1 cp le soir"),
    )
}
