//! `pseudolink audit`: what could an attacker with this encoded extract and a public list of
//! name frequencies re-identify?

use std::path::PathBuf;
use std::process::ExitCode;

use pseudolink::audit::public::PublicNames;
use pseudolink::audit::{audit_file, AuditOptions, DEFAULT_MAX_RISK};
use pseudolink::{Error, Result, Schema};

/// Exit code when the risk is above `--max-risk` (documented in docs/cli.md).
pub const EXIT_RISK_ABOVE_LIMIT: u8 = 9;

/// Arguments of `pseudolink audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The encoded extract to audit (its manifest is checked when present).
    #[arg(long, required_unless_present = "export_names")]
    pub input: Option<PathBuf>,
    /// The schema file it was encoded with.
    #[arg(long, required_unless_present = "export_names")]
    pub schema: Option<PathBuf>,
    /// The attacker's public list of name frequencies (CSV with columns kind,name,count and
    /// optionally group); default: the built-in list (names of an independent synthetic
    /// population).
    #[arg(long)]
    pub names: Option<PathBuf>,
    /// The cleartext extract that was encoded (the agency's own file): the attack is then also
    /// measured against the true names. Nothing of it is printed.
    #[arg(long)]
    pub cleartext: Option<PathBuf>,
    /// Fail (exit 9) when more than this share of records could be re-identified by name.
    #[arg(long, default_value_t = DEFAULT_MAX_RISK)]
    pub max_risk: f64,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write the built-in public name list to this CSV file and stop.
    #[arg(long, conflicts_with_all = ["input", "schema", "names", "cleartext"])]
    pub export_names: Option<PathBuf>,
}

/// Runs the audit command; the exit code is 0 on PASS and 9 on FAIL.
pub fn run(args: &Args) -> Result<ExitCode> {
    if let Some(path) = &args.export_names {
        let list = PublicNames::synthetic()?;
        std::fs::write(path, list.to_csv()).map_err(|e| Error::io("write", path, e))?;
        println!("wrote the built-in public name list to {}", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(input), Some(schema)) = (&args.input, &args.schema) else {
        return Err(Error::Invalid("audit needs --input and --schema".into()));
    };
    if !(0.0..=1.0).contains(&args.max_risk) {
        return Err(Error::Invalid(format!(
            "--max-risk must be between 0 and 1, not {}",
            args.max_risk
        )));
    }
    let schema = Schema::from_file(schema)?;
    let names = match &args.names {
        Some(p) => PublicNames::from_csv(p)?,
        None => PublicNames::synthetic()?,
    };
    let options = AuditOptions {
        names,
        max_risk: args.max_risk,
    };
    let report = audit_file(input, &schema, args.cleartext.as_deref(), &options)?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.render());
    }
    Ok(if report.pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_RISK_ABOVE_LIMIT)
    })
}
