//! `pseudolink audit`: the red team. What could a party without the secret, holding these
//! encoded extracts, a public reference population and perhaps the cleartext of some records,
//! re-identify? Measured against the agency's own cleartext.

use std::path::PathBuf;
use std::process::ExitCode;

use pseudolink::audit::reference::default_reference_csv;
use pseudolink::audit::{
    audit_files, AuditFiles, AuditOptions, Known, DEFAULT_MAX_PARTIAL, DEFAULT_MAX_WHOLE,
    DEFAULT_SEED,
};
use pseudolink::{Error, Result, Schema};

/// Exit code when an attack is above its bound (documented in docs/cli.md).
pub const EXIT_RISK_ABOVE_LIMIT: u8 = 9;

/// Arguments of `pseudolink audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// An encoded extract the attacker holds; the first is the one audited. Its manifest is
    /// read when present and attacked too (its pair statistics place a sample of records and
    /// reveal agreements that no token shows). Repeat for more extracts (bridges work across
    /// them).
    #[arg(long, required_unless_present = "export_reference")]
    pub input: Vec<PathBuf>,
    /// The schema file they were encoded with.
    #[arg(long, required_unless_present = "export_reference")]
    pub schema: Option<PathBuf>,
    /// The cleartext extract that was encoded into the first --input (the agency's own file):
    /// every attack is measured against it. Nothing of it is printed.
    #[arg(long, required_unless_present = "export_reference")]
    pub cleartext: Option<PathBuf>,
    /// What an insider knows: the cleartext of these records (a CSV file like the cleartext,
    /// matched by record id).
    #[arg(long, conflicts_with = "known_count")]
    pub known: Option<PathBuf>,
    /// What an insider knows: this many random records of the cleartext (seeded); several
    /// numbers separated by commas give one scenario each (e.g. 200,1000,5000); 0 for none.
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    pub known_count: Vec<usize>,
    /// The attacker's reference population: cleartext rows with the schema's input columns
    /// ("another draw of the same population"); default: the built-in synthetic one.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Candidate values of a field for the filter attacks, as FIELD=FILE (one value per line,
    /// or a CSV with a column named like the field; e.g. a public address register); default:
    /// the reference's distinct values. Repeatable.
    #[arg(long, value_name = "FIELD=FILE")]
    pub dictionary: Vec<String>,
    /// Bound on any whole value (a name, the address, date of birth, postcode, NHS number):
    /// share of records re-identified beyond a blind guess.
    #[arg(long, default_value_t = DEFAULT_MAX_WHOLE)]
    pub max_whole: f64,
    /// Bound on any partial value (initial, Soundex, year, year and month, postcode sector,
    /// district or area, sex).
    #[arg(long, default_value_t = DEFAULT_MAX_PARTIAL)]
    pub max_partial: f64,
    /// Seed of the random choices (known records, samples).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write the built-in reference population to this CSV file and stop.
    #[arg(long, conflicts_with_all = ["input", "schema", "cleartext", "reference"])]
    pub export_reference: Option<PathBuf>,
}

/// Runs the audit command; the exit code is 0 when every attack is within its bound and 9
/// otherwise.
pub fn run(args: &Args) -> Result<ExitCode> {
    if let Some(path) = &args.export_reference {
        let csv = default_reference_csv()?;
        std::fs::write(path, csv).map_err(|e| Error::io("write", path, e))?;
        println!(
            "wrote the built-in reference population to {}",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(schema), Some(cleartext)) = (&args.schema, &args.cleartext) else {
        return Err(Error::Invalid(
            "audit measures every attack against the truth: give --input, --schema and --cleartext (the file that was encoded)".into(),
        ));
    };
    if args.input.is_empty() {
        return Err(Error::Invalid("audit needs at least one --input".into()));
    }
    for (name, bound) in [
        ("--max-whole", args.max_whole),
        ("--max-partial", args.max_partial),
    ] {
        if !(0.0..=1.0).contains(&bound) {
            return Err(Error::Invalid(format!(
                "{name} must be between 0 and 1, not {bound}"
            )));
        }
    }
    let dictionaries = args
        .dictionary
        .iter()
        .map(|d| match d.split_once('=') {
            Some((field, file)) if !field.is_empty() && !file.is_empty() => {
                Ok((field.to_string(), PathBuf::from(file)))
            }
            _ => Err(Error::Invalid(format!(
                "--dictionary takes FIELD=FILE, not '{d}'"
            ))),
        })
        .collect::<Result<Vec<_>>>()?;
    let schema = Schema::from_file(schema)?;
    let files = AuditFiles {
        inputs: args.input.clone(),
        cleartext: cleartext.clone(),
        reference: args.reference.clone(),
        dictionaries,
        known: args.known.clone(),
    };
    let counts: Vec<usize> = args
        .known_count
        .iter()
        .copied()
        .filter(|&k| k > 0)
        .collect();
    let options = AuditOptions {
        known: if counts.is_empty() {
            Known::Nothing
        } else {
            Known::Random(counts)
        },
        max_whole: args.max_whole,
        max_partial: args.max_partial,
        seed: args.seed,
    };
    let report = audit_files(&schema, &files, &options)?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.render());
    }
    Ok(if report.verdict.pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_RISK_ABOVE_LIMIT)
    })
}
