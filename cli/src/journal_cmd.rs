//! `segur journal query|export`.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use segur::{Config, ExchangeQuery, Journal};
use serde_json::json;

use crate::output::Out;
use crate::JournalFilter;

fn parse_when(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .ok_or_else(|| format!("invalid date {s:?}"));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| format!("invalid date {s:?}: expected YYYY-MM-DD or RFC 3339"))
}

fn open(f: &JournalFilter) -> Result<(Journal, ExchangeQuery), String> {
    let config = Config::from_file(&f.config).map_err(|e| e.to_string())?;
    let journal = Journal::open(&config.journal_path).map_err(|e| e.to_string())?;
    let q = ExchangeQuery {
        patient_local_id: f.patient.clone(),
        practitioner: f.practitioner.clone(),
        channel: f.channel.clone(),
        status: f.status.clone(),
        from: f.since.as_deref().map(parse_when).transpose()?,
        to: f.until.as_deref().map(parse_when).transpose()?,
        limit: f.limit,
    };
    Ok((journal, q))
}

pub fn query(out: &Out, f: &JournalFilter) -> u8 {
    let (journal, q) = match open(f) {
        Ok(x) => x,
        Err(e) => return out.fail("journal", &e),
    };
    match journal.exchanges(&q) {
        Ok(rows) => {
            if out.json {
                out.json(&json!({"ok": true, "exchanges": rows}));
            } else {
                println!(
                    "{:<24} {:<7} {:<32} {:<10} {:<12} {:<15} {:<10}",
                    "date", "canal", "opération", "patient", "statut", "INS", "code"
                );
                for r in &rows {
                    println!(
                        "{:<24} {:<7} {:<32} {:<10} {:<12} {:<15} {:<10}",
                        r.at,
                        r.channel,
                        r.operation,
                        r.patient_local_id.as_deref().unwrap_or("-"),
                        r.status,
                        r.ins.as_deref().unwrap_or("-"),
                        r.result_code.as_deref().unwrap_or("-")
                    );
                }
                println!("{} échange(s)", rows.len());
            }
            0
        }
        Err(e) => out.fail("journal", &e.to_string()),
    }
}

pub fn export(out: &Out, f: &JournalFilter, csv: &Path) -> u8 {
    let (journal, q) = match open(f) {
        Ok(x) => x,
        Err(e) => return out.fail("journal", &e),
    };
    let result = if csv.as_os_str() == "-" {
        journal.export_csv(&q, std::io::stdout().lock())
    } else {
        match std::fs::File::create(csv) {
            Ok(file) => journal.export_csv(&q, file),
            Err(e) => return out.fail("io", &format!("cannot write {}: {e}", csv.display())),
        }
    };
    match result {
        Ok(n) => {
            if csv.as_os_str() != "-" {
                if out.json {
                    out.json(&json!({"ok": true, "rows": n, "file": csv}));
                } else {
                    eprintln!("{n} échange(s) écrits dans {}", csv.display());
                }
            }
            0
        }
        Err(e) => out.fail("journal", &e.to_string()),
    }
}
