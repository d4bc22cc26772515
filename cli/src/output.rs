//! Output helpers: human text or JSON.

use serde_json::Value;

/// Output mode.
pub struct Out {
    /// JSON instead of text.
    pub json: bool,
}

impl Out {
    /// Prints a JSON document (in JSON mode).
    pub fn json(&self, v: &Value) {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    }

    /// Prints an error (JSON `{"error": ...}` or `error: ...` on stderr) and returns exit code 1.
    pub fn fail(&self, kind: &str, msg: &str) -> u8 {
        if self.json {
            self.json(&serde_json::json!({"ok": false, "error": {"kind": kind, "message": msg}}));
        } else {
            eprintln!("error: {msg}");
        }
        1
    }
}
