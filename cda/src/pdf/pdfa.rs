//! PDF/A-1b plumbing: the sRGB ICC profile of the OutputIntent, the XMP metadata packet and the
//! date forms of the Info dictionary and of XMP (which PDF/A requires to agree).

use chrono::{DateTime, Datelike, FixedOffset, Timelike};

/// `OutputConditionIdentifier` of the OutputIntent.
pub const SRGB_IDENTIFIER: &str = "sRGB IEC61966-2.1";

/// An ICC **version 2.1** display (`mntr`) RGB→XYZ matrix/TRC profile for sRGB (IEC 61966-2-1),
/// generated here: PDF/A-1 (ISO 19005-1 §6.2.2) admits only ICC profiles up to ICC.1:1998-09
/// (version 2.x), so the v4 profiles shipped by crates cannot be used for PDF/A-1b.
///
/// Colorants are the sRGB primaries Bradford-adapted to D50 (as in the IEC/HP profile), the
/// media white point is D65 (v2 convention) and the three TRCs share one 1024-entry `curv` of the
/// sRGB transfer function.
pub fn srgb_v2_icc() -> Vec<u8> {
    fn s15(v: f64) -> [u8; 4] {
        ((v * 65536.0).round() as i32).to_be_bytes()
    }
    fn xyz(x: f64, y: f64, z: f64) -> Vec<u8> {
        let mut t = b"XYZ \0\0\0\0".to_vec();
        for v in [x, y, z] {
            t.extend(s15(v));
        }
        t
    }
    fn text(s: &str) -> Vec<u8> {
        let mut t = b"text\0\0\0\0".to_vec();
        t.extend(s.as_bytes());
        t.push(0);
        t
    }
    fn desc(s: &str) -> Vec<u8> {
        let mut t = b"desc\0\0\0\0".to_vec();
        t.extend((s.len() as u32 + 1).to_be_bytes());
        t.extend(s.as_bytes());
        t.push(0);
        t.extend([0u8; 4]); // Unicode language code
        t.extend([0u8; 4]); // Unicode count
        t.extend([0u8; 2]); // ScriptCode code
        t.push(0); // ScriptCode count
        t.extend([0u8; 67]);
        t
    }
    let mut curve = b"curv\0\0\0\0".to_vec();
    curve.extend(1024u32.to_be_bytes());
    for i in 0..1024 {
        let x = i as f64 / 1023.0;
        let y = if x <= 0.04045 {
            x / 12.92
        } else {
            ((x + 0.055) / 1.055).powf(2.4)
        };
        curve.extend(((y * 65535.0).round() as u16).to_be_bytes());
    }
    // (signature, data); identical data is written once and shared.
    let tags: Vec<(&[u8; 4], Vec<u8>)> = vec![
        (b"desc", desc(SRGB_IDENTIFIER)),
        (b"cprt", text("No copyright, use freely")),
        (b"wtpt", xyz(0.9505, 1.0, 1.0890)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve.clone()),
        (b"gTRC", curve.clone()),
        (b"bTRC", curve),
    ];
    let table_len = 4 + 12 * tags.len();
    let mut data: Vec<u8> = Vec::new();
    let mut entries: Vec<(&[u8; 4], u32, u32)> = Vec::new();
    let mut written: Vec<(Vec<u8>, u32)> = Vec::new();
    for (sig, bytes) in &tags {
        let off = match written.iter().find(|(b, _)| b == bytes) {
            Some((_, off)) => *off,
            None => {
                while !data.len().is_multiple_of(4) {
                    data.push(0);
                }
                let off = (128 + table_len + data.len()) as u32;
                data.extend(bytes);
                written.push((bytes.clone(), off));
                off
            }
        };
        entries.push((sig, off, bytes.len() as u32));
    }
    while !data.len().is_multiple_of(4) {
        data.push(0);
    }
    let size = (128 + table_len + data.len()) as u32;
    let mut h = Vec::with_capacity(size as usize);
    h.extend(size.to_be_bytes());
    h.extend([0u8; 4]); // preferred CMM
    h.extend([0x02, 0x10, 0x00, 0x00]); // version 2.1.0
    h.extend(b"mntr");
    h.extend(b"RGB ");
    h.extend(b"XYZ ");
    for v in [2024u16, 1, 1, 0, 0, 0] {
        h.extend(v.to_be_bytes());
    }
    h.extend(b"acsp");
    h.extend([0u8; 4]); // platform
    h.extend([0u8; 4]); // flags
    h.extend([0u8; 4]); // manufacturer
    h.extend([0u8; 4]); // model
    h.extend([0u8; 8]); // attributes
    h.extend(0u32.to_be_bytes()); // perceptual
    for v in [0.9642, 1.0, 0.8249] {
        h.extend(s15(v)); // PCS illuminant D50
    }
    h.extend([0u8; 4]); // creator
    h.extend([0u8; 44]); // profile id (v4 only) + reserved
    debug_assert_eq!(h.len(), 128);
    h.extend((tags.len() as u32).to_be_bytes());
    for (sig, off, len) in entries {
        h.extend(sig);
        h.extend(off.to_be_bytes());
        h.extend(len.to_be_bytes());
    }
    h.extend(data);
    h
}

/// `D:YYYYMMDDHHmmSS+HH'mm'` parts for `pdf_writer::Date`.
pub fn pdf_date(t: &DateTime<FixedOffset>) -> pdf_writer::Date {
    let off = t.offset().local_minus_utc() / 60;
    pdf_writer::Date::new(t.year() as u16)
        .month(t.month() as u8)
        .day(t.day() as u8)
        .hour(t.hour() as u8)
        .minute(t.minute() as u8)
        .second(t.second() as u8)
        .utc_offset_hour((off / 60) as i8)
        .utc_offset_minute((off.abs() % 60) as u8)
}

/// The same instant as [`pdf_date`], in XMP form `YYYY-MM-DDThh:mm:ss+hh:mm`.
pub fn xmp_date(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// The XMP packet (uncompressed, as PDF/A-1 §6.7.2 requires) with `pdfaid:part` 1 /
/// `pdfaid:conformance` B and the Info-dictionary equivalents (§6.7.3).
pub fn xmp_packet(
    title: &str,
    creator_tool: &str,
    producer: &str,
    created: &DateTime<FixedOffset>,
    document_id: &str,
) -> Vec<u8> {
    let d = xmp_date(created);
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n\
 <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
  <rdf:Description rdf:about=\"\"\n\
    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n\
    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n\
    xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\"\n\
    xmlns:xmpMM=\"http://ns.adobe.com/xap/1.0/mm/\"\n\
    xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n\
   <dc:format>application/pdf</dc:format>\n\
   <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{title}</rdf:li></rdf:Alt></dc:title>\n\
   <dc:language><rdf:Bag><rdf:li>fr-FR</rdf:li></rdf:Bag></dc:language>\n\
   <xmp:CreateDate>{d}</xmp:CreateDate>\n\
   <xmp:ModifyDate>{d}</xmp:ModifyDate>\n\
   <xmp:MetadataDate>{d}</xmp:MetadataDate>\n\
   <xmp:CreatorTool>{tool}</xmp:CreatorTool>\n\
   <pdf:Producer>{producer}</pdf:Producer>\n\
   <xmpMM:DocumentID>{id}</xmpMM:DocumentID>\n\
   <pdfaid:part>1</pdfaid:part>\n\
   <pdfaid:conformance>B</pdfaid:conformance>\n\
  </rdf:Description>\n\
 </rdf:RDF>\n\
</x:xmpmeta>\n\
<?xpacket end=\"w\"?>",
        title = xml_escape(title),
        tool = xml_escape(creator_tool),
        producer = xml_escape(producer),
        id = xml_escape(document_id),
    )
    .into_bytes()
}
