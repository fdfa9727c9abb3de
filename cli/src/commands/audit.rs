//! `pseudolink audit`: the red team. What could a party without the secret, holding these
//! encoded extracts, a public reference population and perhaps the cleartext of some records,
//! re-identify? Measured against the agency's own cleartext.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use pseudolink::audit::reference::Reference;
use pseudolink::audit::{
    audit_files, AuditFiles, AuditOptions, Known, ReferenceInput, DEFAULT_MAX_PARTIAL,
    DEFAULT_MAX_WHOLE, DEFAULT_SEED,
};
use pseudolink::{Error, Result, Schema};
use pseudolink_synth::{generate, SynthConfig, SynthRecord, RECORD_HEADER};

/// Exit code when an attack is above its bound (documented in docs/cli.md).
pub const EXIT_RISK_ABOVE_LIMIT: u8 = 9;

/// Seed of the built-in reference population (never the benchmarks' seed).
pub const REFERENCE_SEED: u64 = 0x005e_ed0f_7075_6c69;
/// People in the built-in reference population (its agency A holds about 70% of them).
pub const REFERENCE_PEOPLE: usize = 100_000;

/// Agency A's records of a synthetic population of `people` (seed `seed`).
fn synthetic_records(people: usize, seed: u64) -> Result<Vec<SynthRecord>> {
    let mut data = generate(&SynthConfig {
        people,
        seed,
        ..SynthConfig::default()
    })
    .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(data.extracts.swap_remove(0).1)
}

/// The cells of a synthetic record, in the order of [`RECORD_HEADER`].
fn cells(r: &SynthRecord) -> [&str; 9] {
    [
        &r.record_id,
        &r.first_name,
        &r.middle_name,
        &r.last_name,
        &r.date_of_birth,
        &r.sex,
        &r.postcode,
        &r.address_line_1,
        &r.nhs_number,
    ]
}

/// Agency A's extract of a synthetic population of `people` with seed `seed`, normalised by
/// `schema`: the attacker's "another draw of the same population", with the same kinds of
/// errors as the extracts it stands for.
pub fn synthetic_reference(schema: &Schema, people: usize, seed: u64) -> Result<Reference> {
    let records = synthetic_records(people, seed)?;
    let source = format!(
        "built-in: agency A of a synthetic population of {people} (seed {seed:#x}), {} rows",
        records.len()
    );
    Reference::from_rows(schema, &RECORD_HEADER, records.iter().map(cells), &source)
}

/// The built-in reference population as CSV text (the synthetic extract's own columns), for
/// `--export-reference`.
fn builtin_reference_csv() -> Result<String> {
    let records = synthetic_records(REFERENCE_PEOPLE, REFERENCE_SEED)?;
    let mut out = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let io = |e: csv::Error| Error::Invalid(format!("cannot write the reference: {e}"));
        // The header comes from the record's field names, which are RECORD_HEADER.
        for r in &records {
            w.serialize(r).map_err(io)?;
        }
        w.flush()
            .map_err(|e| Error::Invalid(format!("cannot write the reference: {e}")))?;
    }
    String::from_utf8(out).map_err(|e| Error::Invalid(e.to_string()))
}

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
        let csv = builtin_reference_csv()?;
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
    let start = Instant::now();
    let files = AuditFiles {
        inputs: args.input.clone(),
        cleartext: cleartext.clone(),
        reference: match &args.reference {
            Some(path) => ReferenceInput::File(path.clone()),
            None => ReferenceInput::Rows(synthetic_reference(
                &schema,
                REFERENCE_PEOPLE,
                REFERENCE_SEED,
            )?),
        },
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
    let built = start.elapsed().as_secs_f64();
    let mut report = audit_files(&schema, &files, &options)?;
    // Making the built-in reference is part of reading the inputs, as reading a --reference
    // file is.
    if let Some(reading) = report.timings.first_mut() {
        reading.seconds += built;
    }
    report.total_seconds += built;
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

#[cfg(test)]
mod tests {
    use pseudolink::internals::encode::Value;

    use super::*;

    #[test]
    fn the_synthetic_reference_is_deterministic_and_normalised() {
        let schema = Schema::example();
        let a = synthetic_reference(&schema, 500, 3).unwrap();
        let b = synthetic_reference(&schema, 500, 3).unwrap();
        assert_eq!(a.table.rows, b.table.rows);
        assert!(a.table.len() > 250);
        let named = a.table.rows.iter().filter(|r| r[0].is_some()).count();
        assert!(named * 10 > a.table.len() * 9);
        for r in &a.table.rows {
            if let Some(Value::Text(t)) = &r[0] {
                assert_eq!(t, &t.to_lowercase());
            }
        }
        assert!(a
            .source()
            .starts_with("built-in: agency A of a synthetic population of 500"));
    }
}
