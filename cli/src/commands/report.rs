//! `pseudolink report` and `pseudolink review`.

use std::path::PathBuf;

use pseudolink::report::{
    apply_decisions, read_link_rows, read_summary, relink, review_rows, write_link_rows,
    write_report, write_review, ReportOptions,
};
use pseudolink::{Error, Result, Schema};

use super::link::parse_pair;

/// Arguments of `pseudolink report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The links file written by `pseudolink link` or `dedupe` (its summary beside it).
    #[arg(long)]
    pub links: PathBuf,
    /// The HTML file to write.
    #[arg(long)]
    pub output: PathBuf,
    /// Known true pairs (CSV with columns left_id,right_id): precision, recall and F1 by
    /// threshold instead of the model's expectations.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Draw the match weight of the pair LEFT_ID,RIGHT_ID as a waterfall (repeatable; needs
    /// --schema: the run is linked again with its own model).
    #[arg(long, value_name = "LEFT_ID,RIGHT_ID")]
    pub explain: Vec<String>,
    /// The schema file the run was linked with (needed by --explain).
    #[arg(long)]
    pub schema: Option<PathBuf>,
}

/// Runs `pseudolink report`.
pub fn report(args: &ReportArgs) -> Result<()> {
    let explain = args
        .explain
        .iter()
        .map(|s| parse_pair(s))
        .collect::<Result<Vec<_>>>()?;
    let schema = args.schema.as_deref().map(Schema::from_file).transpose()?;
    write_report(
        &ReportOptions {
            links: args.links.clone(),
            truth: args.truth.clone(),
            explain,
            schema,
        },
        &args.output,
    )?;
    println!("{}", args.output.display());
    Ok(())
}

/// Arguments of `pseudolink review`.
#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    /// The links file written by `pseudolink link` or `dedupe` (its summary beside it).
    #[arg(long)]
    pub links: PathBuf,
    /// The file to write: the review pack (CSV), or with --apply the new links file.
    #[arg(long)]
    pub output: PathBuf,
    /// The schema file the run was linked with (to compare the review pairs again); not needed
    /// with --apply.
    #[arg(long, required_unless_present = "apply")]
    pub schema: Option<PathBuf>,
    /// Take the reviewers' decisions (the review pack with its decision column filled in) back
    /// into the links, writing a links file to --output.
    #[arg(long, value_name = "DECISIONS")]
    pub apply: Option<PathBuf>,
}

/// Runs `pseudolink review`.
pub fn review(args: &ReviewArgs) -> Result<()> {
    if args.output == args.links {
        return Err(Error::Invalid(
            "--output must not be the links file itself: write the new links to another file"
                .into(),
        ));
    }
    let summary = read_summary(&args.links)?;
    match (&args.apply, &args.schema) {
        (Some(decisions), _) => {
            let links = read_link_rows(&args.links)?;
            let (rows, c) = apply_decisions(
                &links,
                decisions,
                summary.mode == "dedupe",
                summary.resolution.method == "one_to_one",
            )?;
            write_link_rows(&args.output, &rows)?;
            eprintln!(
                "{} rows in: {} decided match (now links), {} decided non-match (removed), {} still for review; {} rows out",
                c.rows_in, c.matched, c.removed, c.undecided, c.rows_out
            );
            println!("{}", args.output.display());
            Ok(())
        }
        (None, Some(schema)) => {
            let schema = Schema::from_file(schema)?;
            let linkage = relink(&summary, &schema, &args.links)?;
            let rows = review_rows(&linkage);
            let names: Vec<String> = summary
                .model
                .comparisons
                .iter()
                .map(|c| c.comparison.clone())
                .collect();
            write_review(&args.output, &names, &rows)?;
            eprintln!(
                "{} review pairs written; fill in the decision column (match, non-match or empty) and run `pseudolink review --apply`",
                rows.len()
            );
            println!("{}", args.output.display());
            Ok(())
        }
        (None, None) => Err(Error::Invalid(
            "give --schema (to write the review pack) or --apply DECISIONS".into(),
        )),
    }
}
