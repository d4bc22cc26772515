//! ebRIM 3.0 writing and reading helpers (OASIS regrep-rim-3.0, `xds/wsdl/schema/ebRS30/rim.xsd`).
//!
//! Writers emit schema order — `Slot*, Name?, Description?, VersionInfo?, Classification*,
//! ExternalIdentifier*` — with the `rim:` prefix (declared by the message's root element) and
//! refuse values longer than the schema allows (`LongName` 256, `FreeFormText` 1024) instead of
//! sending an invalid message. Readers go by namespace and local name in any order (the ANS XDM
//! examples, for one, put `Name` before `Slot`).

use segur_cda::Code;
use segur_net::xml::{escape, Element};

use super::ids::RIM_NS;
use crate::error::{DmpError, Result};

/// ebRIM `LongName` (Slot values, nodeRepresentation, ExternalIdentifier values, ids).
pub const MAX_LONG_NAME: usize = 256;
/// ebRIM `FreeFormText` (LocalizedString values: title, comments, display names).
pub const MAX_FREE_FORM_TEXT: usize = 1024;

/// Refuses a value over `max` characters, naming the field (never the value).
pub(crate) fn check_len(field: &'static str, value: &str, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n > max {
        return Err(DmpError::Invalid {
            field,
            detail: format!("{n} characters, over the ebRIM limit of {max}"),
        });
    }
    Ok(())
}

/// Appends ` name="escaped value"`.
pub(crate) fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    out.push_str(&escape(value));
    out.push('"');
}

/// Writes ebRIM fragments into a string; numbers the Classification and ExternalIdentifier ids.
#[derive(Debug, Default)]
pub(crate) struct RimWriter {
    /// The XML written so far.
    pub out: String,
    next: u32,
}

impl RimWriter {
    /// A writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
            next: 0,
        }
    }

    /// A fresh symbolic id `prefix` + number (unique within the message).
    pub fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{:02}", self.next)
    }

    /// `<rim:Slot name=…><rim:ValueList><rim:Value>…`, one Value per item.
    pub fn slot<S: AsRef<str>>(
        &mut self,
        field: &'static str,
        name: &str,
        values: &[S],
    ) -> Result<()> {
        check_len(field, name, MAX_LONG_NAME)?;
        self.out.push_str("<rim:Slot");
        attr(&mut self.out, "name", name);
        self.out.push_str("><rim:ValueList>");
        for v in values {
            let v = v.as_ref();
            check_len(field, v, MAX_LONG_NAME)?;
            segur_net::xml::push_text_element(&mut self.out, "rim:Value", v);
        }
        self.out.push_str("</rim:ValueList></rim:Slot>");
        Ok(())
    }

    /// A slot with one value, when there is one.
    pub fn slot_opt(&mut self, field: &'static str, name: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => self.slot(field, name, &[v]),
            None => Ok(()),
        }
    }

    /// `<rim:Name>` or `<rim:Description>` with one LocalizedString.
    pub fn localized(&mut self, field: &'static str, element: &str, text: &str) -> Result<()> {
        check_len(field, text, MAX_FREE_FORM_TEXT)?;
        self.out.push('<');
        self.out.push_str(element);
        self.out.push_str("><rim:LocalizedString");
        attr(&mut self.out, "xml:lang", "fr-FR");
        attr(&mut self.out, "charset", "UTF-8");
        attr(&mut self.out, "value", text);
        self.out.push_str("/></");
        self.out.push_str(element);
        self.out.push('>');
        Ok(())
    }

    /// A coded Classification: `nodeRepresentation` = code, Slot `codingScheme` = system, Name =
    /// display name (ITI TF-3 §4.2.3.1.2, `dmp.md` §5.2).
    pub fn coded(
        &mut self,
        field: &'static str,
        scheme: &str,
        object: &str,
        code: &Code,
    ) -> Result<()> {
        check_len(field, &code.code, MAX_LONG_NAME)?;
        if code.code.is_empty() || code.system.is_empty() {
            return Err(DmpError::Invalid {
                field,
                detail: "code and coding scheme are required".into(),
            });
        }
        let id = self.id("cl");
        self.out.push_str("<rim:Classification");
        attr(&mut self.out, "classificationScheme", scheme);
        attr(&mut self.out, "classifiedObject", object);
        attr(&mut self.out, "id", &id);
        attr(&mut self.out, "nodeRepresentation", &code.code);
        self.out.push('>');
        self.slot(field, "codingScheme", &[&code.system])?;
        let display = if code.display.is_empty() {
            &code.code
        } else {
            &code.display
        };
        self.localized(field, "rim:Name", display)?;
        self.out.push_str("</rim:Classification>");
        Ok(())
    }

    /// An author Classification (`nodeRepresentation=""`, slots authorPerson, authorInstitution,
    /// authorRole, authorSpecialty, authorTelecommunication; ITI TF-3 §4.2.3.1.4).
    pub fn author(&mut self, scheme: &str, object: &str, author: &super::Author) -> Result<()> {
        let id = self.id("cl");
        self.out.push_str("<rim:Classification");
        attr(&mut self.out, "classificationScheme", scheme);
        attr(&mut self.out, "classifiedObject", object);
        attr(&mut self.out, "id", &id);
        attr(&mut self.out, "nodeRepresentation", "");
        self.out.push('>');
        if let Some(p) = &author.person {
            self.slot("authorPerson", "authorPerson", &[p])?;
        }
        for (name, values) in [
            ("authorInstitution", &author.institutions),
            ("authorRole", &author.roles),
            ("authorSpecialty", &author.specialties),
            ("authorTelecommunication", &author.telecommunications),
        ] {
            if !values.is_empty() {
                self.slot("author", name, values)?;
            }
        }
        self.out.push_str("</rim:Classification>");
        Ok(())
    }

    /// A Classification by node (the SubmissionSet marker).
    pub fn node(&mut self, node: &str, object: &str) {
        let id = self.id("cl");
        self.out.push_str("<rim:Classification");
        attr(&mut self.out, "classificationNode", node);
        attr(&mut self.out, "classifiedObject", object);
        attr(&mut self.out, "id", &id);
        self.out.push_str("/>");
    }

    /// An ExternalIdentifier with its Name (ITI TF-3 §4.2.3.2.12/.26).
    pub fn external_id(
        &mut self,
        field: &'static str,
        scheme: &str,
        object: &str,
        value: &str,
        name: &str,
    ) -> Result<()> {
        check_len(field, value, MAX_LONG_NAME)?;
        if value.trim().is_empty() {
            return Err(DmpError::Invalid {
                field,
                detail: "empty".into(),
            });
        }
        let id = self.id("ei");
        self.out.push_str("<rim:ExternalIdentifier");
        attr(&mut self.out, "id", &id);
        attr(&mut self.out, "identificationScheme", scheme);
        attr(&mut self.out, "registryObject", object);
        attr(&mut self.out, "value", value);
        self.out.push('>');
        self.localized(field, "rim:Name", name)?;
        self.out.push_str("</rim:ExternalIdentifier>");
        Ok(())
    }

    /// An Association with its slots.
    pub fn association(
        &mut self,
        id: &str,
        kind: &str,
        source: &str,
        target: &str,
        slots: &[(&str, &str)],
    ) -> Result<()> {
        self.out.push_str("<rim:Association");
        attr(&mut self.out, "associationType", kind);
        attr(&mut self.out, "id", id);
        attr(&mut self.out, "sourceObject", source);
        attr(&mut self.out, "targetObject", target);
        if slots.is_empty() {
            self.out.push_str("/>");
            return Ok(());
        }
        self.out.push('>');
        for (name, value) in slots {
            self.slot("association slot", name, &[value])?;
        }
        self.out.push_str("</rim:Association>");
        Ok(())
    }
}

// ---- Reading ---------------------------------------------------------------------------------

/// Every `rim:Slot` child: (name, values).
pub(crate) fn slots(el: &Element) -> impl Iterator<Item = (&str, Vec<String>)> {
    el.children_named(RIM_NS, "Slot").filter_map(|s| {
        let name = s.attr("name")?;
        let values = s
            .child(RIM_NS, "ValueList")
            .map(|vl| {
                vl.children_named(RIM_NS, "Value")
                    .map(|v| v.text().trim().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        Some((name, values))
    })
}

/// The values of the slot `name` (empty when absent).
pub(crate) fn slot_values(el: &Element, name: &str) -> Vec<String> {
    slots(el)
        .filter(|(n, _)| *n == name)
        .flat_map(|(_, v)| v)
        .collect()
}

/// The first value of the slot `name`.
pub(crate) fn slot_first(el: &Element, name: &str) -> Option<String> {
    slot_values(el, name).into_iter().next()
}

/// The first LocalizedString value of `Name` or `Description`.
pub(crate) fn localized(el: &Element, element: &str) -> Option<String> {
    el.child(RIM_NS, element)?
        .child(RIM_NS, "LocalizedString")?
        .attr("value")
        .map(str::to_owned)
}

/// A coded Classification read back into a [`Code`].
pub(crate) fn read_code(classification: &Element) -> Code {
    let code = classification
        .attr("nodeRepresentation")
        .unwrap_or_default();
    let system = slot_first(classification, "codingScheme").unwrap_or_default();
    let display = localized(classification, "Name").unwrap_or_default();
    Code::new(code, &system, &display)
}

/// An author Classification read back.
pub(crate) fn read_author(classification: &Element) -> super::Author {
    super::Author {
        person: slot_first(classification, "authorPerson"),
        institutions: slot_values(classification, "authorInstitution"),
        roles: slot_values(classification, "authorRole"),
        specialties: slot_values(classification, "authorSpecialty"),
        telecommunications: slot_values(classification, "authorTelecommunication"),
    }
}

/// Whether an attribute names this URN, ignoring whitespace (UUIDs never contain any; some
/// producers wrap long attribute values).
pub(crate) fn is_urn(value: Option<&str>, urn: &str) -> bool {
    value.is_some_and(|v| {
        v.chars()
            .filter(|c| !c.is_ascii_whitespace())
            .eq(urn.chars())
    })
}

/// Every Classification child with this scheme.
pub(crate) fn classifications<'e>(
    el: &'e Element,
    scheme: &'e str,
) -> impl Iterator<Item = &'e Element> + 'e {
    el.children_named(RIM_NS, "Classification")
        .filter(move |c| is_urn(c.attr("classificationScheme"), scheme))
}

/// The value of the ExternalIdentifier with this scheme.
pub(crate) fn external_id(el: &Element, scheme: &str) -> Option<String> {
    el.children_named(RIM_NS, "ExternalIdentifier")
        .find(|e| is_urn(e.attr("identificationScheme"), scheme))
        .and_then(|e| e.attr("value"))
        .map(|v| v.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_escapes_and_bounds() {
        let mut w = RimWriter::default();
        w.slot("t", "x", &["a<&\"'b"]).unwrap();
        assert_eq!(
            w.out,
            "<rim:Slot name=\"x\"><rim:ValueList><rim:Value>a&lt;&amp;&quot;&apos;b</rim:Value></rim:ValueList></rim:Slot>"
        );
        let long = "é".repeat(257);
        let e = w.slot("title", "x", &[long.as_str()]).unwrap_err();
        assert!(e.to_string().contains("257 characters"));
        assert!(!e.to_string().contains('é'));
        assert!(w.slot("t", "x", &["é".repeat(256)]).is_ok());
        assert!(w.localized("t", "rim:Name", &"a".repeat(1025)).is_err());
        let c = Code::new("", "1.2", "x");
        assert!(w.coded("classCode", "s", "o", &c).is_err());
        assert!(w.external_id("uniqueId", "s", "o", " ", "n").is_err());
    }
}
