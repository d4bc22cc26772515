//! Level 1 documents (CDA R2 N1, IHE XDS-SD): a header and a PDF body
//! (`component/nonXMLBody/text mediaType="application/pdf" representation="B64"`), templateId
//! `1.3.6.1.4.1.19376.1.2.20`, formatCode `urn:ihe:iti:xds-sd:pdf:2008` (`cda.md` §1). With N1,
//! only the three templateIds HL7 France + CI-SIS + XDS-SD are written.

use base64::Engine;

use crate::codes::{DocumentType, FormatCode};
use crate::error::{CdaError, Result};
use crate::header::{Header, TemplateId};

/// The IHE XDS-SD templateId of a level 1 document.
pub const TEMPLATE_XDS_SD: &str = "1.3.6.1.4.1.19376.1.2.20";

/// A level 1 document: any JDV_J07 type with a PDF body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level1Document {
    /// The header (its `doc_type` is the document's type).
    pub header: Header,
    /// The PDF (PDF/A recommended).
    pub pdf: Vec<u8>,
}

impl Level1Document {
    /// A level 1 document of the header's type.
    pub fn new(header: Header, pdf: Vec<u8>) -> Self {
        Self { header, pdf }
    }
    /// A level 1 document of the given JDV_J07 type; an empty title becomes the type's display
    /// name.
    pub fn of_type(doc_type: DocumentType, mut header: Header, pdf: Vec<u8>) -> Self {
        header.doc_type = doc_type;
        if header.title.trim().is_empty() {
            header.title = doc_type.display().to_owned();
        }
        Self { header, pdf }
    }
    /// CR de consultation (`11488-4`, manual "Création des courriers types").
    pub fn cr_consultation(header: Header, pdf: Vec<u8>) -> Self {
        Self::of_type(DocumentType::cr_consultation(), header, pdf)
    }
    /// Lettre de liaison (`11490-0`).
    pub fn lettre_de_liaison(header: Header, pdf: Vec<u8>) -> Self {
        Self::of_type(DocumentType::lettre_de_liaison(), header, pdf)
    }
    /// Certificat, déclaration (`CERT_DECL`).
    pub fn certificat(header: Header, pdf: Vec<u8>) -> Self {
        Self::of_type(DocumentType::certificat(), header, pdf)
    }
    /// The XDS formatCode.
    pub fn format_code(&self) -> FormatCode {
        FormatCode::XdsSdPdf
    }
    /// Writes the CDA XML.
    pub fn to_xml(&self) -> Result<String> {
        if !self.pdf.starts_with(b"%PDF-") {
            return Err(CdaError::Input {
                field: "pdf",
                detail: "the body must be a PDF (starts with %PDF-)",
            });
        }
        const T: &[TemplateId] = &[(TEMPLATE_XDS_SD, None)];
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.pdf);
        self.header.write_document(T, 8192 + b64.len(), |x| {
            x.open("component", &[]);
            x.open("nonXMLBody", &[]);
            x.open(
                "text",
                &[("mediaType", "application/pdf"), ("representation", "B64")],
            );
            x.raw(&b64);
            x.raw("</text>");
            // `open` increased the depth; `raw` closing keeps the base64 on one line.
            x.close_raw_depth();
            x.close("nonXMLBody");
            x.close("component");
            Ok(())
        })
    }
}
