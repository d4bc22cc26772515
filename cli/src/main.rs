//! `segur`: the Ségur stack from the shell.
//!
//! Human output by default, `--json` for machines. Exit codes: 0 ok, 1 failed, 2 bad usage.

mod cda_cmd;
mod demo;
mod insi_cmd;
mod journal_cmd;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use output::Out;

/// The Ségur numérique stack: INS, INSi, and (soon) DMP, MSSanté, e-prescription.
#[derive(Parser, Debug)]
#[command(name = "segur", version, about, propagate_version = true)]
struct Cli {
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Matricule INS and identity traits (offline).
    #[command(subcommand)]
    Ins(InsCommand),
    /// The INSi téléservice.
    #[command(subcommand)]
    Insi(InsiCommand),
    /// CDA R2 documents: build a VSM, parse, PDF copy, XDS metadata.
    #[command(subcommand)]
    Cda(CdaCommand),
    /// The journal of exchanges and RNIV changes (dashboards, exports).
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Run the loopback simulators of the national services until interrupted.
    Sandbox(SandboxArgs),
    /// Guided demonstrations against the built-in sandbox.
    #[command(subcommand)]
    Demo(DemoCommand),
}

#[derive(Subcommand, Debug)]
enum InsCommand {
    /// Check a matricule INS typed by a user (13 characters, or 15 with the key).
    Check {
        /// The matricule, with or without its key.
        matricule: String,
        /// The key, when given separately.
        #[arg(long)]
        key: Option<String>,
    },
    /// Normalise typed traits for INSi (upper case, no diacritics, INSi alphabet).
    Normalize {
        /// Nom de naissance.
        #[arg(long)]
        nom: String,
        /// Prénoms de naissance, space separated.
        #[arg(long)]
        prenoms: Option<String>,
        /// Accept the proposed transliterations (’ → ', Æ → AE, Œ → OE).
        #[arg(long)]
        confirm: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub(crate) struct NetArgs {
    /// Client configuration (as written by `segur sandbox`).
    #[arg(long, default_value = "segur.toml")]
    pub config: PathBuf,
    /// Write each SOAP request and response to this folder.
    #[arg(long)]
    pub trace_dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum InsiCommand {
    /// Search an INS by identity traits (CNDA 2.07 first-names strategy).
    Search {
        /// Nom de naissance.
        #[arg(long)]
        nom: String,
        /// Prénoms de naissance, space separated, in civil-status order.
        #[arg(long)]
        prenoms: String,
        /// Sexe: M or F.
        #[arg(long)]
        sexe: String,
        /// Date de naissance, YYYY-MM-DD.
        #[arg(long)]
        naissance: String,
        /// Lieu de naissance (COG, 5 characters).
        #[arg(long)]
        cog: Option<String>,
        /// Accept the proposed transliterations.
        #[arg(long)]
        confirm: bool,
        /// One call with exactly these traits, no strategy.
        #[arg(long)]
        single: bool,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Parse a raw INSi response (CNDA "injection" tests).
    Replay {
        /// The SOAP response file.
        response: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum CdaCommand {
    /// Volet de Synthèse Médicale.
    #[command(subcommand)]
    Vsm(VsmCommand),
    /// Parse a received CDA (level 1 or VSM) into the typed model with item ids.
    Parse {
        /// The CDA file.
        file: PathBuf,
    },
    /// Render a CDA to PDF (level 1: its PDF; VSM: its narrative), INS DataMatrix included.
    Pdf {
        /// The CDA file.
        file: PathBuf,
        /// Output file (default: the MSSanté name `<date>_<type>_<NOM>_<prénom>.pdf`).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// XDS metadata derived from the header.
    Metadata {
        /// The CDA file.
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum VsmCommand {
    /// Build a VSM from a request (summary + document context, see cli/examples/vsm-request.json).
    Build {
        /// The request JSON.
        request: PathBuf,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
        /// Client configuration (the patient is looked up in its journal).
        #[arg(long, default_value = "segur.toml")]
        config: PathBuf,
    },
}

#[derive(Args, Debug, Clone)]
pub(crate) struct JournalFilter {
    /// Client configuration (the journal is the one it names).
    #[arg(long, default_value = "segur.toml")]
    pub config: PathBuf,
    /// Patient local identifier.
    #[arg(long)]
    pub patient: Option<String>,
    /// Practitioner RPPS.
    #[arg(long)]
    pub practitioner: Option<String>,
    /// Channel (insi...).
    #[arg(long)]
    pub channel: Option<String>,
    /// Status (ok, not_found, multiple, fault, failed).
    #[arg(long)]
    pub status: Option<String>,
    /// From this date or time (YYYY-MM-DD or RFC 3339), inclusive.
    #[arg(long)]
    pub since: Option<String>,
    /// Until this date or time (YYYY-MM-DD or RFC 3339), exclusive.
    #[arg(long)]
    pub until: Option<String>,
    /// At most this many rows (newest first).
    #[arg(long)]
    pub limit: Option<u32>,
}

#[derive(Subcommand, Debug)]
enum JournalCommand {
    /// List exchanges.
    Query(JournalFilter),
    /// Export exchanges as CSV.
    Export {
        #[command(flatten)]
        filter: JournalFilter,
        /// Output file ("-" for standard output).
        #[arg(long, default_value = "-")]
        csv: PathBuf,
    },
}

#[derive(Args, Debug)]
struct SandboxArgs {
    /// Folder for the test PKI and the client configuration.
    #[arg(long, default_value = "sandbox-data")]
    dir: PathBuf,
    /// First port (INSi listens on it); 0 picks free ports.
    #[arg(long, default_value_t = 18443)]
    port_base: u16,
    /// Start with the INSi outage simulated (siram_40); switch it at run time with
    /// `POST /sandbox/insi/faults` `outage=on|off`.
    #[arg(long)]
    insi_outage: bool,
}

#[derive(Subcommand, Debug)]
enum DemoCommand {
    /// Walk an identity from provisoire to qualifiée against the sandbox.
    Ins {
        /// Keep the sandbox files in this folder (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SEGUR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let out = Out { json: cli.json };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Ins(InsCommand::Check { matricule, key }) => {
                insi_cmd::ins_check(&out, &matricule, key.as_deref())
            }
            Command::Ins(InsCommand::Normalize {
                nom,
                prenoms,
                confirm,
            }) => insi_cmd::ins_normalize(&out, &nom, prenoms.as_deref(), confirm),
            Command::Insi(InsiCommand::Search {
                nom,
                prenoms,
                sexe,
                naissance,
                cog,
                confirm,
                single,
                net,
            }) => {
                insi_cmd::insi_search(
                    &out,
                    insi_cmd::SearchInput {
                        nom: &nom,
                        prenoms: &prenoms,
                        sexe: &sexe,
                        naissance: &naissance,
                        cog: cog.as_deref(),
                        confirm,
                        single,
                    },
                    &net,
                )
                .await
            }
            Command::Insi(InsiCommand::Replay { response }) => {
                insi_cmd::insi_replay(&out, &response).await
            }
            Command::Cda(CdaCommand::Vsm(VsmCommand::Build {
                request,
                output,
                config,
            })) => cda_cmd::vsm_build(&out, &request, &config, &output),
            Command::Cda(CdaCommand::Parse { file }) => cda_cmd::parse(&out, &file),
            Command::Cda(CdaCommand::Pdf { file, output }) => cda_cmd::pdf(&out, &file, output),
            Command::Cda(CdaCommand::Metadata { file }) => cda_cmd::metadata(&out, &file),
            Command::Journal(JournalCommand::Query(f)) => journal_cmd::query(&out, &f),
            Command::Journal(JournalCommand::Export { filter, csv }) => {
                journal_cmd::export(&out, &filter, &csv)
            }
            Command::Sandbox(a) => insi_cmd::sandbox(&out, a.dir, a.port_base, a.insi_outage).await,
            Command::Demo(DemoCommand::Ins { dir }) => demo::ins(&out, dir).await,
        }
    });
    ExitCode::from(code)
}
