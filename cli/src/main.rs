//! `segur`: the Ségur stack from the shell.
//!
//! Human output by default, `--json` for machines. Exit codes: 0 ok, 1 failed, 2 bad usage.

mod cda_cmd;
mod demo;
mod demo_dmp;
mod dmp_cmd;
mod insi_cmd;
mod journal_cmd;
mod output;
mod sandbox_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use output::Out;

/// The Ségur numérique stack: INS, INSi, CDA documents, the DMP (and soon MSSanté,
/// e-prescription).
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
    /// The patient's DMP (Mon espace santé): existence, authorizations, send, find, retrieve,
    /// mask, delete.
    #[command(subcommand)]
    Dmp(DmpCommand),
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

impl NetArgs {
    /// Opens the facade from `--config` (journal, installation UUID, credentials), with the
    /// trace folder of `--trace-dir`: every command that reaches a service goes through it.
    pub(crate) fn open(&self) -> Result<segur::Segur, segur::SegurError> {
        use segur::SegurError;
        let mut config = segur::Config::from_file(&self.config).map_err(|e| match e {
            SegurError::Config(m) if !self.config.exists() => SegurError::Config(format!(
                "{m} (run `segur sandbox` to get one for the sandbox)"
            )),
            e => e,
        })?;
        config.trace_dir = self.trace_dir.clone();
        segur::Segur::open(config)
    }
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

#[derive(Args, Debug, Clone)]
struct PatientArgs {
    /// The patient's INS (15 characters): a qualified identity of the journal.
    ins: String,
    /// Purpose of use: normal (default), bris_de_glace, centre_15.
    #[arg(long)]
    purpose: Option<String>,
    #[command(flatten)]
    net: NetArgs,
}

#[derive(Args, Debug, Clone)]
struct DocArgs {
    /// The patient's INS (15 characters): a qualified identity of the journal.
    ins: String,
    /// The document's uniqueId.
    unique_id: String,
    /// Purpose of use: normal (default), bris_de_glace, centre_15.
    #[arg(long)]
    purpose: Option<String>,
    #[command(flatten)]
    net: NetArgs,
}

#[derive(Subcommand, Debug)]
enum DmpCommand {
    /// Record a qualified identity (INSi search + a checked identity document), so that the DMP
    /// commands can name the patient by INS.
    Qualify {
        /// The patient's identifier in your software (IPP).
        local_id: String,
        /// Nom de naissance.
        #[arg(long)]
        nom: String,
        /// Prénoms de naissance, space separated.
        #[arg(long)]
        prenoms: String,
        /// Sexe: M or F.
        #[arg(long)]
        sexe: String,
        /// Date de naissance, YYYY-MM-DD.
        #[arg(long)]
        naissance: String,
        /// Lieu de naissance (COG).
        #[arg(long)]
        cog: Option<String>,
        /// The high-trust identity document checked (CN, PA, TS...).
        #[arg(long, default_value = "CN")]
        document: String,
        #[command(flatten)]
        net: NetArgs,
    },
    /// TD0.2: does the patient have a DMP, is it closed, are we authorised.
    Status(PatientArgs),
    /// TD0.3 AJOUT: authorise us on the patient's DMP (the patient's explicit consent is needed).
    Authorize {
        #[command(flatten)]
        patient: PatientArgs,
        /// The patient's explicit consent, required: `--consent` (given orally) or
        /// `--consent ecrit|representant_legal`.
        #[arg(long, num_args = 0..=1, default_missing_value = "oral", value_name = "MODE")]
        consent: Option<String>,
    },
    /// TD0.3 SUPPRESSION: remove our authorization.
    Revoke(PatientArgs),
    /// Who is authorised on the patient's DMP.
    Authorizations(PatientArgs),
    /// DMP/CONF.01: confirm the traits mismatch TD0.2 reports (checked against the patient's
    /// identity), so that feeding goes on; a different mismatch later needs a new confirmation.
    ConfirmTraits(PatientArgs),
    /// Send a CDA document (TD0.2 first; refused locally when there is no DMP, it is closed or
    /// the patient opposed feeding). The patient is the document's INS.
    Send {
        /// The CDA file.
        file: PathBuf,
        /// Mask it to other professionals (MASQUE_PS).
        #[arg(long)]
        mask_ps: bool,
        /// Invisible to the patient (INVISIBLE_PATIENT).
        #[arg(long)]
        invisible_patient: bool,
        /// Invisible to the legal representatives (INVISIBLE_REPRESENTANTS_LEGAUX).
        #[arg(long)]
        invisible_legal_reps: bool,
        /// uniqueId of the earlier version this one replaces (RPLC).
        #[arg(long)]
        replaces: Option<String>,
        /// Purpose of use: normal (default), bris_de_glace, centre_15.
        #[arg(long)]
        purpose: Option<String>,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Send again a document whose send failed (kept in the journal's outbox).
    Retry {
        /// The document's uniqueId.
        unique_id: String,
        #[command(flatten)]
        net: NetArgs,
    },
    /// ITI-18: the patient's documents (current ones by default).
    Find {
        #[command(flatten)]
        patient: PatientArgs,
        /// Document type code (JDV_J07: SYNTH, 11488-4...); repeatable.
        #[arg(long = "type")]
        types: Vec<String>,
        /// Created on or after (YYYY-MM-DD or RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Created before (YYYY-MM-DD or RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Status: approved, deprecated, archived, deleted; repeatable.
        #[arg(long)]
        status: Vec<String>,
        /// Author's national id.
        #[arg(long)]
        author: Option<String>,
    },
    /// ITI-43: retrieve a document.
    Get {
        #[command(flatten)]
        doc: DocArgs,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// ITI-57: delete a document (TD3.3c).
    Delete(DocArgs),
    /// ITI-57: mask a document to other professionals (TD3.3a).
    Mask(DocArgs),
    /// ITI-57: unmask a document (TD3.3a).
    Unmask(DocArgs),
    /// ITI-57: archive a document (TD3.3d).
    Archive(DocArgs),
    /// The documents sent from here and their status ("Accessible dans le DMP"...).
    Dashboard {
        /// Only this status: pending, accessible, failed, replaced, deleted, archived.
        #[arg(long)]
        status: Option<String>,
        /// Client configuration.
        #[arg(long, default_value = "segur.toml")]
        config: PathBuf,
    },
}

fn date_arg(
    s: &Option<String>,
    what: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    let Some(s) = s else { return Ok(None) };
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&chrono::Utc)));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| format!("--{what} must be YYYY-MM-DD or RFC 3339"))
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
    /// The DMP workflow against the sandbox: qualify, TD0.2, authorize, send a VSM, find,
    /// retrieve and parse, replace, mask, delete, dashboard.
    Dmp {
        /// Keep the sandbox files in this folder (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

async fn dmp(out: &Out, c: DmpCommand) -> u8 {
    fn target(p: &PatientArgs) -> dmp_cmd::Target<'_> {
        dmp_cmd::Target {
            ins: &p.ins,
            purpose: p.purpose.as_deref(),
            net: &p.net,
        }
    }
    fn doc_target(d: &DocArgs) -> dmp_cmd::Target<'_> {
        dmp_cmd::Target {
            ins: &d.ins,
            purpose: d.purpose.as_deref(),
            net: &d.net,
        }
    }
    match c {
        DmpCommand::Qualify {
            local_id,
            nom,
            prenoms,
            sexe,
            naissance,
            cog,
            document,
            net,
        } => {
            dmp_cmd::qualify(
                out,
                dmp_cmd::QualifyInput {
                    local_id: &local_id,
                    nom: &nom,
                    prenoms: &prenoms,
                    sexe: &sexe,
                    naissance: &naissance,
                    cog: cog.as_deref(),
                    document: &document,
                },
                &net,
            )
            .await
        }
        DmpCommand::Status(p) => dmp_cmd::status(out, target(&p)).await,
        DmpCommand::Authorize { patient, consent } => match consent {
            Some(consent) => dmp_cmd::authorize(out, target(&patient), &consent, false).await,
            None => {
                out.fail(
                    "invalid_input",
                    "the patient's explicit consent is needed (manual: « l'accord explicite du patient est nécessaire »): add --consent",
                );
                2
            }
        },
        DmpCommand::Revoke(p) => dmp_cmd::authorize(out, target(&p), "", true).await,
        DmpCommand::Authorizations(p) => dmp_cmd::authorizations(out, target(&p)).await,
        DmpCommand::ConfirmTraits(p) => dmp_cmd::confirm_traits(out, target(&p)).await,
        DmpCommand::Send {
            file,
            mask_ps,
            invisible_patient,
            invisible_legal_reps,
            replaces,
            purpose,
            net,
        } => {
            let options = segur::DmpSendOptions {
                mask_ps,
                invisible_patient,
                invisible_legal_representatives: invisible_legal_reps,
                replaces,
            };
            dmp_cmd::send(out, &file, options, purpose.as_deref(), &net).await
        }
        DmpCommand::Retry { unique_id, net } => dmp_cmd::retry(out, &unique_id, &net).await,
        DmpCommand::Find {
            patient,
            types,
            since,
            until,
            status,
            author,
        } => {
            let (since, until) = match (date_arg(&since, "since"), date_arg(&until, "until")) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => return out.fail("invalid_input", &e),
            };
            let q = segur::DmpFindQuery {
                type_codes: types,
                since,
                until,
                statuses: status,
                author,
            };
            dmp_cmd::find(out, target(&patient), q).await
        }
        DmpCommand::Get { doc, output } => {
            dmp_cmd::get(out, doc_target(&doc), &doc.unique_id, output).await
        }
        DmpCommand::Delete(d) => {
            dmp_cmd::update(out, doc_target(&d), &d.unique_id, segur::DmpUpdate::Delete).await
        }
        DmpCommand::Mask(d) => {
            dmp_cmd::update(out, doc_target(&d), &d.unique_id, segur::DmpUpdate::Mask).await
        }
        DmpCommand::Unmask(d) => {
            dmp_cmd::update(out, doc_target(&d), &d.unique_id, segur::DmpUpdate::Unmask).await
        }
        DmpCommand::Archive(d) => {
            dmp_cmd::update(out, doc_target(&d), &d.unique_id, segur::DmpUpdate::Archive).await
        }
        DmpCommand::Dashboard { status, config } => {
            dmp_cmd::dashboard(out, status.as_deref(), &config)
        }
    }
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
    // The library's one runtime (the sandbox and demo servers run there too).
    let code = segur::runtime::block_on(async move {
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
                insi_cmd::insi_replay(&out, &response)
            }
            Command::Cda(CdaCommand::Vsm(VsmCommand::Build {
                request,
                output,
                config,
            })) => cda_cmd::vsm_build(&out, &request, &config, &output),
            Command::Cda(CdaCommand::Parse { file }) => cda_cmd::parse(&out, &file),
            Command::Cda(CdaCommand::Pdf { file, output }) => cda_cmd::pdf(&out, &file, output),
            Command::Cda(CdaCommand::Metadata { file }) => cda_cmd::metadata(&out, &file),
            Command::Dmp(c) => dmp(&out, c).await,
            Command::Journal(JournalCommand::Query(f)) => journal_cmd::query(&out, &f),
            Command::Journal(JournalCommand::Export { filter, csv }) => {
                journal_cmd::export(&out, &filter, &csv)
            }
            Command::Sandbox(a) => {
                sandbox_cmd::sandbox(&out, a.dir, a.port_base, a.insi_outage).await
            }
            Command::Demo(DemoCommand::Ins { dir }) => demo::ins(&out, dir).await,
            Command::Demo(DemoCommand::Dmp { dir }) => demo_dmp::dmp(&out, dir).await,
        }
    });
    match code {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
