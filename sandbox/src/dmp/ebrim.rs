//! ebRIM 3.0 helpers shared by the registry and the repository: namespaces, the IHE UUIDs
//! (ITI TF-3 4.2.5, `dmp.md` §5.1), reading slots, classifications and external identifiers from
//! received metadata, writing an owned XML tree back out, and the HL7 v2 string formats of XDS
//! (CX patient identifiers, `code^^^scheme` coded values).

use std::collections::BTreeMap;
use std::sync::Arc;

use segur_net::xml::{escape, Attribute, Element, Node, XML_NS};

/// ebRIM 3.0 namespace.
pub const RIM_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
/// ebRS 3.0 registry services namespace.
pub const RS_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0";
/// ebRS 3.0 life cycle management namespace.
pub const LCM_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0";
/// ebRS 3.0 query namespace.
pub const QUERY_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0";
/// IHE XDS.b namespace.
pub const XDSB_NS: &str = "urn:ihe:iti:xds-b:2007";
/// XOP include namespace.
pub const XOP_NS: &str = "http://www.w3.org/2004/08/xop/include";
/// XML Schema instance namespace.
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// HL7 v3 namespace.
pub const HL7_NS: &str = "urn:hl7-org:v3";

/// `RegistryResponse/@status` values (ebRS 3.0, ITI TF-3 4.2.4.1).
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success";
/// Failure status.
pub const STATUS_FAILURE: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure";
/// Partial success (ITI-43 when some documents were found, ITI TF-2b 3.43.4.2.3).
pub const STATUS_PARTIAL: &str = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess";
/// Severity of a `RegistryError` that fails the request.
pub const SEVERITY_ERROR: &str = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error";

/// Availability status Approved.
pub const APPROVED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved";
/// Availability status Deprecated.
pub const DEPRECATED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated";
/// DMP availability status Archived (JDV_J52, `dmp.md` §5.4).
pub const ARCHIVED: &str = "urn:asip:ci-sis:2010:StatusType:Archived";
/// DMP availability status Deleted (JDV_J52, `dmp.md` §5.4).
pub const DELETED: &str = "urn:asip:ci-sis:2010:StatusType:Deleted";

/// DocumentEntry objectType, stable document (ITI TF-3 4.2.5.2).
pub const DE_STABLE: &str = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1";
/// DocumentEntry objectType, on-demand document (not supported by the DMP).
pub const DE_ON_DEMAND: &str = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248";
/// SubmissionSet classification node.
pub const SS_NODE: &str = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd";
/// DocumentEntry author classification scheme.
pub const DE_AUTHOR: &str = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d";
/// SubmissionSet author classification scheme.
pub const SS_AUTHOR: &str = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d";
/// classCode scheme.
pub const CLASS_CODE: &str = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a";
/// confidentialityCode scheme.
pub const CONF_CODE: &str = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f";
/// eventCodeList scheme.
pub const EVENT_CODE: &str = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4";
/// formatCode scheme.
pub const FORMAT_CODE: &str = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d";
/// healthcareFacilityTypeCode scheme.
pub const HCF_CODE: &str = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1";
/// practiceSettingCode scheme.
pub const PRACTICE_CODE: &str = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead";
/// typeCode scheme.
pub const TYPE_CODE: &str = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983";
/// SubmissionSet contentTypeCode scheme.
pub const CONTENT_TYPE_CODE: &str = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500";
/// DocumentEntry patientId identification scheme.
pub const DE_PATIENT_ID: &str = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427";
/// DocumentEntry uniqueId identification scheme.
pub const DE_UNIQUE_ID: &str = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab";
/// SubmissionSet patientId identification scheme.
pub const SS_PATIENT_ID: &str = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446";
/// SubmissionSet uniqueId identification scheme.
pub const SS_UNIQUE_ID: &str = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8";
/// SubmissionSet sourceId identification scheme.
pub const SS_SOURCE_ID: &str = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832";

/// HasMember association type.
pub const HAS_MEMBER: &str = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember";
/// Replacement association type (ITI TF-3 4.2.2.2).
pub const RPLC: &str = "urn:ihe:iti:2007:AssociationType:RPLC";
/// Digital signature association type (IHE DSG).
pub const SIGNS: &str = "urn:ihe:iti:2007:AssociationType:signs";
/// Availability status update association type (ITI-57, ITI TF-2b 3.57.4.1.3.3.1).
pub const UPDATE_AVAILABILITY: &str = "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus";

/// DMP confidentiality codes system (`dmp.md` §5.4).
pub const DMP_CONF_SYSTEM: &str = "1.2.250.1.213.1.1.4.13";
/// Masked to professionals other than the author (`dmp.md` §5.4).
pub const MASQUE_PS: &str = "MASQUE_PS";

// ---- Reading --------------------------------------------------------------------------------

/// The values of the first `rim:Slot` named `name` among the direct children of `el`.
pub fn slot_values(el: &Element, name: &str) -> Option<Vec<String>> {
    el.children_named(RIM_NS, "Slot")
        .find(|s| s.attr("name") == Some(name))
        .map(|s| {
            s.child(RIM_NS, "ValueList")
                .map(|vl| {
                    vl.children_named(RIM_NS, "Value")
                        .map(|v| v.text().trim().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        })
}

/// The first value of a slot, when non-empty.
pub fn slot_value(el: &Element, name: &str) -> Option<String> {
    slot_values(el, name)
        .and_then(|v| v.into_iter().next())
        .filter(|v| !v.is_empty())
}

/// The direct `rim:Classification` children with this scheme.
pub fn classifications<'e>(el: &'e Element, scheme: &'e str) -> impl Iterator<Item = &'e Element> {
    el.children_named(RIM_NS, "Classification")
        .filter(move |c| c.attr("classificationScheme") == Some(scheme))
}

/// The coded values (`code^^^codingScheme`) of the classifications with this scheme.
pub fn coded(el: &Element, scheme: &str) -> Vec<String> {
    classifications(el, scheme)
        .filter_map(|c| {
            let code = c.attr("nodeRepresentation")?.trim();
            if code.is_empty() {
                return None;
            }
            let system = slot_value(c, "codingScheme").unwrap_or_default();
            Some(format!("{code}^^^{system}"))
        })
        .collect()
}

/// The value of the `rim:ExternalIdentifier` child with this identification scheme.
pub fn external_id(el: &Element, scheme: &str) -> Option<String> {
    el.children_named(RIM_NS, "ExternalIdentifier")
        .find(|x| x.attr("identificationScheme") == Some(scheme))
        .and_then(|x| x.attr("value"))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The first `LocalizedString/@value` of `rim:Name`.
pub fn name_of(el: &Element) -> Option<String> {
    el.child(RIM_NS, "Name")
        .and_then(|n| n.child(RIM_NS, "LocalizedString"))
        .and_then(|l| l.attr("value"))
        .map(str::to_owned)
}

/// A patient identifier in the HL7 v2 CX form `id^^^&oid&ISO[^type]` (ITI TF-3 4.2.3.1.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientId {
    /// CX.1, the identifier (the 15-character INS for the DMP).
    pub id: String,
    /// CX.4.2, the assigning authority OID.
    pub oid: String,
}

impl PatientId {
    /// Parses `id^^^&oid&ISO[^type]`; `None` when the assigning authority is not an ISO OID.
    pub fn parse(cx: &str) -> Option<Self> {
        let mut comps = cx.trim().split('^');
        let id = comps.next()?.trim();
        let authority = comps.nth(2)?;
        let mut sub = authority.split('&');
        let _namespace = sub.next()?;
        let oid = sub.next()?.trim();
        let kind = sub.next()?;
        if id.is_empty() || oid.is_empty() || kind != "ISO" {
            return None;
        }
        Some(Self {
            id: id.to_owned(),
            oid: oid.to_owned(),
        })
    }

    /// The CX form with identifier type `NH` (`dmp.md` §5.3).
    pub fn to_cx(&self) -> String {
        format!("{}^^^&{}&ISO^NH", self.id, self.oid)
    }
}

/// Splits a coded query value `code^^codingScheme` into (code, scheme) (ITI TF-2a 3.18.4.1.2.3.4:
/// the CE form, scheme in the third component). `code^^^scheme`, seen in some implementations, is
/// accepted too.
pub fn split_coded(v: &str) -> (&str, &str) {
    match v.split_once("^^") {
        Some((c, s)) => (c.trim(), s.trim_start_matches('^').trim()),
        None => (v.trim(), ""),
    }
}

#[cfg(test)]
mod coded_tests {
    use super::split_coded;

    #[test]
    fn coded_values_in_both_forms() {
        assert_eq!(
            split_coded("SYNTH^^1.2.250.1.213.1.1.4.12"),
            ("SYNTH", "1.2.250.1.213.1.1.4.12")
        );
        assert_eq!(
            split_coded("SYNTH^^^1.2.250.1.213.1.1.4.12"),
            ("SYNTH", "1.2.250.1.213.1.1.4.12")
        );
        assert_eq!(split_coded("SYNTH"), ("SYNTH", ""));
    }
}

/// CX.1 / XCN.1 of an HL7 v2 string: the part before the first `^`.
pub fn first_component(v: &str) -> &str {
    v.split('^').next().unwrap_or("").trim()
}

// ---- Editing --------------------------------------------------------------------------------

/// Sets (or adds) an unprefixed attribute.
pub fn set_attr(el: &mut Element, name: &str, value: &str) {
    match el
        .attributes
        .iter_mut()
        .find(|a| a.ns.is_none() && a.name == name)
    {
        Some(a) => value.clone_into(&mut a.value),
        None => el.attributes.push(Attribute {
            ns: None,
            name: name.to_owned(),
            value: value.to_owned(),
        }),
    }
}

/// A new element in the rim namespace.
pub fn rim_element(name: &str, attrs: &[(&str, &str)]) -> Element {
    Element {
        ns: Some(Arc::from(RIM_NS)),
        name: name.to_owned(),
        attributes: attrs
            .iter()
            .map(|(n, v)| Attribute {
                ns: None,
                name: (*n).to_owned(),
                value: (*v).to_owned(),
            })
            .collect(),
        children: Vec::new(),
    }
}

/// A `rim:Slot` with its values.
pub fn rim_slot(name: &str, values: &[&str]) -> Element {
    let mut slot = rim_element("Slot", &[("name", name)]);
    let mut list = rim_element("ValueList", &[]);
    for v in values {
        let mut value = rim_element("Value", &[]);
        value.children.push(Node::Text((*v).to_owned()));
        list.children.push(Node::Element(value));
    }
    slot.children.push(Node::Element(list));
    slot
}

/// Replaces the slot named `name` (or inserts it after the existing slots: `Slot` comes first in
/// `RegistryObjectType`, ebRIM 3.0 rim.xsd).
pub fn put_slot(el: &mut Element, name: &str, values: &[&str]) {
    let slot = rim_slot(name, values);
    if let Some(existing) = el.children.iter_mut().find_map(|n| match n {
        Node::Element(e) if e.is(RIM_NS, "Slot") && e.attr("name") == Some(name) => Some(e),
        _ => None,
    }) {
        *existing = slot;
        return;
    }
    let at = el
        .children
        .iter()
        .rposition(|n| matches!(n, Node::Element(e) if e.is(RIM_NS, "Slot")))
        .map_or(0, |i| i + 1);
    el.children.insert(at, Node::Element(slot));
}

/// Sets `rim:VersionInfo/@versionName` at its place in `RegistryObjectType` (after `Slot`,
/// `Name`, `Description`; before `Classification` and `ExternalIdentifier`).
pub fn put_version(el: &mut Element, version: u32) {
    el.children
        .retain(|n| !matches!(n, Node::Element(e) if e.is(RIM_NS, "VersionInfo")));
    let at = el
        .children
        .iter()
        .rposition(|n| {
            matches!(n, Node::Element(e) if e.is(RIM_NS, "Slot") || e.is(RIM_NS, "Name") || e.is(RIM_NS, "Description"))
        })
        .map_or(0, |i| i + 1);
    let v = rim_element("VersionInfo", &[("versionName", &version.to_string())]);
    el.children.insert(at, Node::Element(v));
}

/// Inserts a `rim:Classification` child before the first `ExternalIdentifier` (or at the end).
pub fn insert_classification(el: &mut Element, classification: Element) {
    let at = el
        .children
        .iter()
        .position(|n| matches!(n, Node::Element(e) if e.is(RIM_NS, "ExternalIdentifier")))
        .unwrap_or(el.children.len());
    el.children.insert(at, Node::Element(classification));
}

/// Rewrites, anywhere in `el`, the reference attributes (`id`, `lid`, `classifiedObject`,
/// `registryObject`, `sourceObject`, `targetObject`) found in `map`.
pub fn remap_ids(el: &mut Element, map: &BTreeMap<String, String>) {
    for a in el.attributes.iter_mut().filter(|a| a.ns.is_none()) {
        if matches!(
            a.name.as_str(),
            "id" | "lid" | "classifiedObject" | "registryObject" | "sourceObject" | "targetObject"
        ) {
            if let Some(new) = map.get(&a.value) {
                new.clone_into(&mut a.value);
            }
        }
    }
    for n in el.children.iter_mut() {
        if let Node::Element(c) = n {
            remap_ids(c, map);
        }
    }
}

/// Every `id` attribute value anywhere in `el`.
pub fn collect_ids(el: &Element, out: &mut Vec<String>) {
    if let Some(id) = el.attr("id") {
        out.push(id.to_owned());
    }
    for c in el.elements() {
        collect_ids(c, out);
    }
}

/// Whether `id` is a `urn:uuid:` identifier (ITI TF-3 4.1.12.1: other ids are symbolic and get
/// a UUID from the registry).
pub fn is_uuid_urn(id: &str) -> bool {
    id.strip_prefix("urn:uuid:")
        .is_some_and(|u| uuid::Uuid::parse_str(u).is_ok())
}

/// A fresh `urn:uuid:` identifier.
pub fn new_uuid_urn() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

// ---- Writing --------------------------------------------------------------------------------

fn known_prefix(uri: &str) -> Option<&'static str> {
    Some(match uri {
        RIM_NS => "rim",
        RS_NS => "rs",
        LCM_NS => "lcm",
        QUERY_NS => "query",
        XDSB_NS => "xdsb",
        XSI_NS => "xsi",
        HL7_NS => "hl7",
        XOP_NS => "xop",
        _ => return None,
    })
}

fn collect_namespaces(el: &Element, out: &mut Vec<String>) {
    let mut add = |ns: &Option<Arc<str>>| {
        if let Some(ns) = ns.as_deref() {
            if ns != XML_NS && !out.iter().any(|o| o == ns) {
                out.push(ns.to_owned());
            }
        }
    };
    add(&el.ns);
    for a in &el.attributes {
        add(&a.ns);
    }
    for c in el.elements() {
        collect_namespaces(c, out);
    }
}

/// Writes `el` as a standalone XML fragment: every namespace it uses is declared on its root
/// element with a fixed prefix (`rim`, `xsi`, `hl7`...) or `nsN`; no default namespace is used, so
/// unqualified elements stay in no namespace.
pub fn write_fragment(out: &mut String, el: &Element) {
    let mut uris = Vec::new();
    collect_namespaces(el, &mut uris);
    let mut bindings: Vec<(String, String)> = Vec::with_capacity(uris.len());
    for (i, uri) in uris.into_iter().enumerate() {
        let prefix = known_prefix(&uri)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("ns{i}"));
        bindings.push((uri, prefix));
    }
    write_element(out, el, &bindings, true);
}

fn prefix_of<'b>(bindings: &'b [(String, String)], ns: &str) -> &'b str {
    bindings
        .iter()
        .find(|(u, _)| u == ns)
        .map_or("", |(_, p)| p.as_str())
}

fn write_qname(out: &mut String, bindings: &[(String, String)], ns: Option<&str>, name: &str) {
    match ns {
        Some(XML_NS) => {
            out.push_str("xml:");
        }
        Some(ns) => {
            out.push_str(prefix_of(bindings, ns));
            out.push(':');
        }
        None => {}
    }
    out.push_str(name);
}

fn write_element(out: &mut String, el: &Element, bindings: &[(String, String)], root: bool) {
    out.push('<');
    write_qname(out, bindings, el.ns.as_deref(), &el.name);
    if root {
        for (uri, prefix) in bindings {
            out.push_str(" xmlns:");
            out.push_str(prefix);
            out.push_str("=\"");
            out.push_str(&escape(uri));
            out.push('"');
        }
    }
    for a in &el.attributes {
        out.push(' ');
        write_qname(out, bindings, a.ns.as_deref(), &a.name);
        out.push_str("=\"");
        out.push_str(&escape(&a.value));
        out.push('"');
    }
    if el.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for n in &el.children {
        match n {
            Node::Element(c) => write_element(out, c, bindings, false),
            Node::Text(t) => out.push_str(&escape(t)),
        }
    }
    out.push_str("</");
    write_qname(out, bindings, el.ns.as_deref(), &el.name);
    out.push('>');
}

/// Appends `<rs:RegistryErrorList>` for these errors (nothing when empty). `rs` must be bound.
pub fn write_error_list(out: &mut String, errors: &[RegistryError]) {
    if errors.is_empty() {
        return;
    }
    out.push_str("<rs:RegistryErrorList highestSeverity=\"");
    out.push_str(SEVERITY_ERROR);
    out.push_str("\">");
    for e in errors {
        out.push_str("<rs:RegistryError errorCode=\"");
        out.push_str(&escape(e.code));
        out.push_str("\" codeContext=\"");
        out.push_str(&escape(&e.context));
        out.push_str("\" severity=\"");
        out.push_str(SEVERITY_ERROR);
        out.push('"');
        if let Some(loc) = &e.location {
            out.push_str(" location=\"");
            out.push_str(&escape(loc));
            out.push('"');
        }
        out.push_str("/>");
    }
    out.push_str("</rs:RegistryErrorList>");
}

/// One `rs:RegistryError` (ebRS 3.0 rs.xsd; codes of ITI TF-3 Table 4.2.4.1-2 and of the DMP,
/// `docs/dmp-wire.md`). The context names the element or rule, never patient identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    /// `errorCode`.
    pub code: &'static str,
    /// `codeContext`, in French for the DMP codes.
    pub context: String,
    /// `location`: the object or parameter concerned.
    pub location: Option<String>,
}

impl RegistryError {
    /// An error without location.
    pub fn new(code: &'static str, context: impl Into<String>) -> Self {
        Self {
            code,
            context: context.into(),
            location: None,
        }
    }

    /// An error with a location.
    pub fn at(code: &'static str, context: impl Into<String>, location: impl Into<String>) -> Self {
        Self {
            code,
            context: context.into(),
            location: Some(location.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segur_net::xml::{parse, XmlLimits};

    #[test]
    fn cx_round_trip() {
        let p = PatientId::parse("279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH").unwrap();
        assert_eq!(p.id, "279035121518989");
        assert_eq!(p.oid, "1.2.250.1.213.1.4.10");
        assert_eq!(p.to_cx(), "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH");
        assert!(PatientId::parse("279035121518989").is_none());
        assert!(PatientId::parse("x^^^&1.2&DNS^NH").is_none());
        assert!(PatientId::parse("^^^&1.2&ISO").is_none());
        assert_eq!(split_coded("SYNTH^^^1.2.250"), ("SYNTH", "1.2.250"));
        assert_eq!(split_coded("N"), ("N", ""));
    }

    #[test]
    fn fragment_round_trip_keeps_namespaces() {
        let src = r#"<a:ExtrinsicObject xmlns:a="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" xmlns:x="urn:other" id="D1"><a:Slot name="s"><a:ValueList><a:Value>1 &amp; 2</a:Value></a:ValueList></a:Slot><a:Name><a:LocalizedString xml:lang="fr" value="T&quot;"/></a:Name><x:Ext x:k="v"/><plain/></a:ExtrinsicObject>"#;
        let el = parse(src.as_bytes(), &XmlLimits::default()).unwrap();
        let mut out = String::new();
        write_fragment(&mut out, &el);
        let back = parse(out.as_bytes(), &XmlLimits::default()).unwrap();
        assert_eq!(back, el, "{out}");
        assert!(out.starts_with("<rim:ExtrinsicObject xmlns:rim="), "{out}");
        assert_eq!(slot_value(&back, "s").as_deref(), Some("1 & 2"));
        assert_eq!(name_of(&back).as_deref(), Some("T\""));
    }

    #[test]
    fn editing() {
        let src = format!(
            r#"<rim:ExtrinsicObject xmlns:rim="{RIM_NS}" id="Doc"><rim:Slot name="a"><rim:ValueList><rim:Value>1</rim:Value></rim:ValueList></rim:Slot><rim:Name/><rim:Classification id="c" classifiedObject="Doc" classificationScheme="{CLASS_CODE}" nodeRepresentation="11"><rim:Slot name="codingScheme"><rim:ValueList><rim:Value>1.2.3</rim:Value></rim:ValueList></rim:Slot></rim:Classification><rim:ExternalIdentifier id="e" registryObject="Doc" identificationScheme="{DE_UNIQUE_ID}" value="1.2.3.4"/></rim:ExtrinsicObject>"#
        );
        let mut el = parse(src.as_bytes(), &XmlLimits::default()).unwrap();
        put_slot(&mut el, "hash", &["abc"]);
        put_slot(&mut el, "a", &["2"]);
        put_version(&mut el, 3);
        let mut map = BTreeMap::new();
        map.insert("Doc".to_owned(), "urn:uuid:x".to_owned());
        remap_ids(&mut el, &map);
        let names: Vec<&str> = el.elements().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Slot",
                "Slot",
                "Name",
                "VersionInfo",
                "Classification",
                "ExternalIdentifier"
            ]
        );
        assert_eq!(slot_value(&el, "a").as_deref(), Some("2"));
        assert_eq!(slot_value(&el, "hash").as_deref(), Some("abc"));
        assert_eq!(el.attr("id"), Some("urn:uuid:x"));
        assert_eq!(coded(&el, CLASS_CODE), ["11^^^1.2.3"]);
        assert_eq!(external_id(&el, DE_UNIQUE_ID).as_deref(), Some("1.2.3.4"));
        let c = el.child(RIM_NS, "Classification").unwrap();
        assert_eq!(c.attr("classifiedObject"), Some("urn:uuid:x"));
        assert!(is_uuid_urn(&new_uuid_urn()) && !is_uuid_urn("Doc"));
    }
}
