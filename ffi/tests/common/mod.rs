//! Reading `include/segur.h` in tests: the function declarations cbindgen writes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One C function declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CFn {
    /// Return type, e.g. `segur_result`, `const char *`, `void`.
    pub ret: String,
    /// Name.
    pub name: String,
    /// (type, name) of each parameter.
    pub params: Vec<(String, String)>,
}

/// The `segur_*` functions declared in the header, in order.
pub fn header_functions(header: &str) -> Vec<CFn> {
    let lines: Vec<&str> = header.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let top = !l.starts_with([' ', '/', '#', '}', '\t']) && !l.starts_with("typedef");
        if top && l.contains("segur_") && l.contains('(') {
            let mut decl = String::from(l);
            while !decl.contains(");") && i + 1 < lines.len() {
                i += 1;
                decl.push(' ');
                decl.push_str(lines[i].trim());
            }
            out.push(parse_decl(&decl));
        }
        i += 1;
    }
    out
}

fn parse_decl(decl: &str) -> CFn {
    let open = decl.find('(').expect("(");
    let close = decl.rfind(')').expect(")");
    let head = decl[..open].trim();
    let split = head.rfind([' ', '*']).expect("return type");
    let name = head[split + 1..].to_owned();
    let ret = head[..split + 1].trim().to_owned();
    let args = decl[open + 1..close].trim();
    let params = if args == "void" || args.is_empty() {
        Vec::new()
    } else {
        args.split(',')
            .map(|p| {
                let p = p.trim();
                let s = p.rfind([' ', '*']).expect("param");
                (p[..s + 1].trim().to_owned(), p[s + 1..].to_owned())
            })
            .collect()
    };
    CFn { ret, name, params }
}

/// The header text.
pub fn header() -> String {
    std::fs::read_to_string(root().join("include/segur.h")).expect("include/segur.h")
}
