//! `segur cda vsm build|parse|pdf|metadata`, through the facade.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::output::Out;

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn done(out: &Out, r: Result<serde_json::Value, String>, kind: &str) -> u8 {
    match r {
        Ok(v) => {
            if out.json {
                out.json(&v);
            } else if let Some(s) = v.get("message").and_then(|m| m.as_str()) {
                println!("{s}");
            }
            0
        }
        Err(e) => out.fail(kind, &e),
    }
}

pub fn vsm_build(out: &Out, request: &Path, config: &Path, output: &Path) -> u8 {
    let r = (|| {
        let text = String::from_utf8(read(request)?)
            .map_err(|_| format!("{} is not UTF-8", request.display()))?;
        let segur = segur::Segur::open_file(config).map_err(|e| e.to_string())?;
        let doc = segur.cda_vsm_build_json(&text).map_err(|e| e.to_string())?;
        write(output, doc.xml.as_bytes())?;
        Ok(json!({
            "ok": true,
            "file": output,
            "bytes": doc.xml.len(),
            "id": doc.id,
            "set_id": doc.set_id,
            "ins": doc.with_ins,
            "message": format!(
                "VSM written to {} ({} bytes){}",
                output.display(),
                doc.xml.len(),
                if doc.with_ins { "" } else { " — without INS: the identity is not qualifiée" }
            ),
        }))
    })();
    done(out, r, "cda")
}

pub fn parse(out: &Out, file: &Path) -> u8 {
    let r = (|| {
        let doc = segur::cda_parse(&read(file)?).map_err(|e| e.to_string())?;
        if out.json {
            return serde_json::to_value(&doc).map_err(|e| e.to_string());
        }
        let mut lines = vec![format!(
            "{} — {} (version {})",
            doc.header.title, doc.header.code.code, doc.header.version
        )];
        for item in &doc.items {
            lines.push(format!("  [{}] {:?}: {}", item.id.0, item.kind, item.label));
        }
        Ok(json!({ "message": lines.join("\n") }))
    })();
    done(out, r, "cda")
}

pub fn metadata(out: &Out, file: &Path) -> u8 {
    let r = (|| {
        let m = segur::cda_metadata(&read(file)?).map_err(|e| e.to_string())?;
        let v = serde_json::to_value(&m).map_err(|e| e.to_string())?;
        if out.json {
            return Ok(v);
        }
        Ok(json!({ "message": serde_json::to_string_pretty(&v).unwrap_or_default() }))
    })();
    done(out, r, "cda")
}

pub fn pdf(out: &Out, file: &Path, output: Option<PathBuf>) -> u8 {
    let r = (|| {
        let segur::PdfCopy {
            pdf: bytes,
            file_name: name,
        } = segur::cda_pdf(&read(file)?).map_err(|e| e.to_string())?;
        let path = output.unwrap_or_else(|| PathBuf::from(&name));
        write(&path, &bytes)?;
        Ok(json!({
            "ok": true,
            "file": path,
            "name": name,
            "bytes": bytes.len(),
            "message": format!("PDF written to {} ({} bytes)", path.display(), bytes.len()),
        }))
    })();
    done(out, r, "cda")
}
