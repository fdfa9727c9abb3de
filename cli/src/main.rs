//! `pseudolink`: the command-line tool. It only parses arguments, shows progress and maps errors
//! to exit codes; all logic lives in the `pseudolink` core crate.

mod commands;
mod exit;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Privacy-preserving record linkage of person records.
#[derive(Debug, Parser)]
#[command(name = "pseudolink", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a new 256-bit secret to a file (mode 0600); never overwrites.
    Keygen {
        /// The secret file to create.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Print the key check value of a secret, to confirm two parties hold the same one.
    CheckKey {
        /// The secret file.
        #[arg(long)]
        secret_file: PathBuf,
        /// Refuse a secret file that other users can read (exit 5) instead of warning.
        #[arg(long)]
        strict: bool,
    },
    /// Schema tools.
    Schema {
        #[command(subcommand)]
        action: SchemaAction,
    },
    /// Encode a CSV extract with the shared secret.
    Encode(commands::encode::Args),
    /// Link two or more encoded extracts: candidate pairs, model, scores, clusters.
    Link(commands::link::LinkArgs),
    /// Find the records of one person within one encoded extract.
    Dedupe(commands::link::DedupeArgs),
    /// Precision, recall and F1 of a links file against known true pairs.
    Evaluate(commands::evaluate::Args),
    /// Write synthetic agency extracts of one population, with the true pairs.
    Synth(commands::synth::Args),
    /// Red team: what a party without the secret could re-identify from encoded extracts and
    /// their manifests (tokens, filters, pair statistics), measured against the cleartext;
    /// exits 9 when an attack is above --max-whole or --max-partial (docs/attacks.md).
    Audit(commands::audit::Args),
    /// The person index: stable person ids, new records assigned as they come (docs/index.md).
    Index {
        #[command(subcommand)]
        action: commands::index::Action,
    },
    /// Write a self-contained HTML report of a linking run: inputs, data quality, blocking, the
    /// model, match weights, threshold selection, clusters, explained pairs (docs/report.md).
    Report(commands::report::ReportArgs),
    /// Write the clerical review pack of a linking run (review-band pairs with their comparison
    /// levels, no cleartext), or with --apply take the reviewers' decisions back into the links.
    Review(commands::report::ReviewArgs),
}

#[derive(Debug, Subcommand)]
enum SchemaAction {
    /// Print the default schema for UK person records.
    Example,
    /// Validate a schema file and print its fingerprint.
    Check {
        /// The schema file.
        file: PathBuf,
    },
    /// Print a schema of format version 1 in the current format (version 2), as it is read.
    Upgrade {
        /// The schema file.
        file: PathBuf,
    },
}

/// Exit code when standard output is closed early (`pseudolink evaluate ... | head`): what a
/// shell reports for a process ended by SIGPIPE, 128 + 13.
const EXIT_BROKEN_PIPE: i32 = 141;

/// Ends the process quietly when printing to a closed standard output (the reader went away:
/// not an error of ours), and reports any other panic as the default hook does.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(EXIT_BROKEN_PIPE);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen { output } => commands::keygen::run(&output),
        Command::CheckKey {
            secret_file,
            strict,
        } => commands::keygen::check(&secret_file, strict),
        Command::Schema {
            action: SchemaAction::Example,
        } => {
            print!("{}", pseudolink::Schema::example_json());
            Ok(())
        }
        Command::Schema {
            action: SchemaAction::Check { file },
        } => pseudolink::Schema::from_file(&file).map(|s| {
            println!(
                "{}: valid schema, fingerprint {}",
                file.display(),
                s.fingerprint()
            );
        }),
        Command::Schema {
            action: SchemaAction::Upgrade { file },
        } => pseudolink::Schema::from_file(&file).map(|s| {
            println!("{}", s.to_json_pretty());
        }),
        Command::Encode(args) => commands::encode::run(&args),
        Command::Synth(args) => commands::synth::run(&args),
        Command::Link(args) => commands::link::link(&args),
        Command::Dedupe(args) => commands::link::dedupe(&args),
        Command::Evaluate(args) => commands::evaluate::run(&args),
        Command::Index { action } => commands::index::run(&action),
        Command::Report(args) => commands::report::report(&args),
        Command::Review(args) => commands::report::review(&args),
        Command::Audit(args) => {
            return commands::audit::run(&args).unwrap_or_else(|e| exit::report(&e));
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e),
    }
}
