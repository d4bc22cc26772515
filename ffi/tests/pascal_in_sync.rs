//! `bindings/pascal/Segur.pas` imports every `segur_*` function of `include/segur.h` with the same
//! parameters: its import section (between the `BEGIN GENERATED` / `END GENERATED` markers) is
//! generated from the header here and compared; `SEGUR_BLESS=1` rewrites it.

mod common;

use common::{header, header_functions, root, CFn};

const BEGIN: &str = "{ BEGIN GENERATED from include/segur.h by ffi/tests/pascal_in_sync.rs: do not edit, run SEGUR_BLESS=1 cargo test -p segur-ffi --test pascal_in_sync }";
const END: &str = "{ END GENERATED }";

fn pascal_type(c: &str) -> String {
    let t = match c {
        "segur_result" => "TSegurResult",
        "const char *" | "char *" => "PAnsiChar",
        "uint32_t" => "Cardinal",
        "const uint8_t *" | "uint8_t *" => "PByte",
        "size_t" => "NativeUInt",
        "size_t *" => "PNativeUInt",
        "uint32_t *" => "PCardinal",
        "bool" => "Boolean",
        "segur_buf **" => "PPSegurBuf",
        "const segur_buf *" | "segur_buf *" => "PSegurBuf",
        "segur_client **" => "PPSegurClient",
        "const segur_client *" | "segur_client *" => "PSegurClient",
        "segur_callback" => "TSegurCallback",
        "void *" => "Pointer",
        other => panic!("no Pascal type for C type `{other}`: extend pascal_type()"),
    };
    t.to_owned()
}

fn pascal_decl(f: &CFn) -> String {
    let params = f
        .params
        .iter()
        .map(|(t, n)| format!("{n}: {}", pascal_type(t)))
        .collect::<Vec<_>>()
        .join("; ");
    let params = if params.is_empty() {
        String::new()
    } else {
        format!("({params})")
    };
    if f.ret == "void" {
        format!("procedure {}{params}; cdecl; external SEGUR_LIB;", f.name)
    } else {
        format!(
            "function {}{params}: {}; cdecl; external SEGUR_LIB;",
            f.name,
            pascal_type(&f.ret)
        )
    }
}

/// `NAME = value` of every enum constant and `#define SEGUR_*` number in the header.
fn constants(h: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for l in h.lines() {
        let t = l.trim();
        if let Some(rest) = t.strip_prefix("#define SEGUR_") {
            let mut it = rest.splitn(2, ' ');
            let (n, v) = (it.next().unwrap_or(""), it.next().unwrap_or("").trim());
            if !n.is_empty() && v.chars().all(|c| c.is_ascii_digit()) && !v.is_empty() {
                out.push((format!("SEGUR_{n}"), v.to_owned()));
            }
        } else if t.starts_with("SEGUR_") && t.ends_with(',') && t.contains(" = ") {
            let body = t.trim_end_matches(',');
            let (n, v) = body.split_once(" = ").expect("enum constant");
            out.push((n.to_owned(), v.to_owned()));
        }
    }
    out
}

fn generate() -> String {
    let h = header();
    let mut s = String::new();
    s.push_str(BEGIN);
    s.push_str("\n\nconst\n");
    for (n, v) in constants(&h) {
        s.push_str(&format!("  {n} = Cardinal({v});\n"));
    }
    s.push('\n');
    for f in header_functions(&h) {
        s.push_str(&pascal_decl(&f));
        s.push('\n');
    }
    s.push('\n');
    s.push_str(END);
    s
}

#[test]
fn pascal_imports_in_sync() {
    let path = root().join("bindings/pascal/Segur.pas");
    let text = std::fs::read_to_string(&path).expect("bindings/pascal/Segur.pas");
    let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else {
        panic!("markers not found in {}", path.display());
    };
    let have = &text[b..e + END.len()];
    let want = generate();
    if have == want {
        return;
    }
    if std::env::var_os("SEGUR_BLESS").is_some_and(|v| v == "1") {
        let new = format!("{}{}{}", &text[..b], want, &text[e + END.len()..]);
        std::fs::write(&path, new).expect("write Segur.pas");
        return;
    }
    panic!("Segur.pas imports are out of sync with segur.h: SEGUR_BLESS=1 cargo test -p segur-ffi --test pascal_in_sync");
}

#[test]
fn every_function_imported_with_same_arity() {
    // Independent of the generator: count the parameters of each import in Segur.pas.
    let text =
        std::fs::read_to_string(root().join("bindings/pascal/Segur.pas")).expect("Segur.pas");
    for f in header_functions(&header()) {
        let decl = text
            .lines()
            .find(|l| {
                let l = l.trim_start();
                (l.starts_with("function ") || l.starts_with("procedure "))
                    && l.contains("external SEGUR_LIB")
                    && l.split([' ', '(', ':', ';']).nth(1) == Some(f.name.as_str())
            })
            .unwrap_or_else(|| panic!("{} is not imported in Segur.pas", f.name));
        let n = match (decl.find('('), decl.find(')')) {
            (Some(a), Some(b)) => decl[a + 1..b].split(';').count(),
            _ => 0,
        };
        assert_eq!(n, f.params.len(), "{}: parameter count", f.name);
    }
}
