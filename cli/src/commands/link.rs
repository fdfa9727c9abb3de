//! `pseudolink link` and `pseudolink dedupe`.

use std::path::PathBuf;

use pseudolink::control::{Progress, RunControl};
use pseudolink::link::DEFAULT_CLUSTER_SUPPORT;
use pseudolink::link::{LinkOptions, DEFAULT_REVIEW_THRESHOLD, DEFAULT_THRESHOLD};
use pseudolink::run::{self as core_run, summary_path, LinkInput, LinkRun, RunSummary};
use pseudolink::{Error, Result, Schema};

use super::progress::{cancel_flag, stage_bar};

/// Options shared by `link` and `dedupe`.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// The schema file (JSON) the extracts were encoded with.
    #[arg(long)]
    pub schema: PathBuf,
    /// The links file to write (CSV); its summary goes to OUTPUT.summary.json.
    #[arg(long)]
    pub output: PathBuf,
    /// Pairs at or above this match probability are links.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Pairs at or above this match probability that are not links go to clerical review.
    #[arg(long, default_value_t = DEFAULT_REVIEW_THRESHOLD)]
    pub review_threshold: f64,
    /// Use this trained model (JSON) instead of training one.
    #[arg(long, conflicts_with = "save_model")]
    pub model: Option<PathBuf>,
    /// Write the trained model (JSON) here.
    #[arg(long)]
    pub save_model: Option<PathBuf>,
    /// The inputs are raw (cleartext) CSV extracts, normalised and compared with string
    /// similarities; nothing is encoded to disk.
    #[arg(long)]
    pub clear: bool,
    /// Accept encoded extracts whose manifest is missing or does not match (recorded in the summary).
    #[arg(long)]
    pub allow_unverified: bool,
    /// Print the per-field contributions to the match weight of the pair LEFT_ID,RIGHT_ID
    /// (repeatable).
    #[arg(long, value_name = "LEFT_ID,RIGHT_ID")]
    pub explain: Vec<String>,
    /// Clustering guard: merge two clusters only if more than this share of the pairs across
    /// them scored at or above the review threshold (0 = plain single linkage).
    #[arg(long, default_value_t = DEFAULT_CLUSTER_SUPPORT)]
    pub cluster_support: f64,
    /// Information Sharing Agreement reference, recorded in the summary.
    #[arg(long)]
    pub agreement: Option<String>,
    /// Purpose of processing, recorded in the summary.
    #[arg(long)]
    pub purpose: Option<String>,
}

/// Arguments of `pseudolink link`.
#[derive(Debug, clap::Args)]
pub struct LinkArgs {
    /// The left encoded extract (with its manifest beside it).
    #[arg(long, requires = "right", conflicts_with = "input")]
    pub left: Option<PathBuf>,
    /// The right encoded extract.
    #[arg(long, requires = "left")]
    pub right: Option<PathBuf>,
    /// Link several extracts together (repeat: --input A --input B --input C).
    #[arg(long)]
    pub input: Vec<PathBuf>,
    /// Strict one-to-one assignment (two extracts known to be free of duplicates).
    #[arg(long)]
    pub one_to_one: bool,
    #[command(flatten)]
    pub common: Common,
}

/// Arguments of `pseudolink dedupe`.
#[derive(Debug, clap::Args)]
pub struct DedupeArgs {
    /// The encoded extract to deduplicate.
    #[arg(long)]
    pub input: PathBuf,
    #[command(flatten)]
    pub common: Common,
}

/// Runs `pseudolink link`.
pub fn link(args: &LinkArgs) -> Result<()> {
    let inputs = match (&args.left, &args.right) {
        (Some(l), Some(r)) => vec![l.clone(), r.clone()],
        _ => args.input.clone(),
    };
    if inputs.len() < 2 {
        return Err(Error::Invalid(
            "give --left and --right, or at least two --input extracts (use `pseudolink dedupe` for one)".into(),
        ));
    }
    run(inputs, args.one_to_one, &args.common)
}

/// Runs `pseudolink dedupe`.
pub fn dedupe(args: &DedupeArgs) -> Result<()> {
    run(vec![args.input.clone()], false, &args.common)
}

pub(crate) fn parse_pair(s: &str) -> Result<(String, String)> {
    match s.split_once(',') {
        Some((l, r)) if !l.trim().is_empty() && !r.trim().is_empty() => {
            Ok((l.trim().to_string(), r.trim().to_string()))
        }
        _ => Err(Error::Invalid(format!(
            "--explain takes LEFT_ID,RIGHT_ID, got '{s}'"
        ))),
    }
}

fn run(inputs: Vec<PathBuf>, one_to_one: bool, c: &Common) -> Result<()> {
    let explain: Vec<(String, String)> = c
        .explain
        .iter()
        .map(|s| parse_pair(s))
        .collect::<Result<_>>()?;
    let schema = Schema::from_file(&c.schema)?;
    let mut run = LinkRun::new(
        inputs
            .into_iter()
            .map(|p| LinkInput::file(p, c.clear))
            .collect(),
    );
    run.link = LinkOptions {
        threshold: c.threshold,
        review_threshold: c.review_threshold,
        one_to_one,
        cluster_support: c.cluster_support,
        ..LinkOptions::default()
    };
    run.allow_unverified = c.allow_unverified;
    run.agreement = c.agreement.clone();
    run.purpose = c.purpose.clone();
    if let Some(p) = &c.model {
        run = run.model_file(p)?;
    }
    let bar = stage_bar();
    let cancel = cancel_flag();
    let progress = |p: Progress| {
        bar.set_message(p.stage);
        bar.set_length(p.total);
        bar.set_position(p.done);
    };
    let control = RunControl::new().cancel(&cancel).progress(&progress);
    let result = core_run::link(&schema, run, &control)
        .and_then(|linked| Ok((linked.write(&c.output, c.save_model.as_deref())?, linked)));
    bar.finish_and_clear();
    let (summary, linked) = result?;
    print_summary(&summary, c);
    for (l, r) in &explain {
        println!("{}", linked.linkage().explain(l, r)?);
    }
    Ok(())
}

fn print_summary(s: &RunSummary, c: &Common) {
    for i in &s.inputs {
        println!(
            "{} {}: {} records{}",
            i.role,
            i.file.path,
            i.records,
            match (&i.key_check_value, i.manifest_verified) {
                (Some(k), true) => format!(", key check value {k}, manifest verified"),
                (Some(k), false) => format!(", key check value {k}, manifest NOT verified"),
                (None, _) => String::new(),
            }
        );
    }
    for r in &s.blocking.rules {
        println!(
            "  rule {}: {} pairs ({} new), {} blocks, {} skipped as too large",
            r.rule, r.pairs, r.new_pairs, r.blocks, r.skipped_blocks
        );
    }
    println!("candidate pairs: {}", s.blocking.candidate_pairs);
    let m = &s.model;
    println!(
        "model ({}): lambda {:.6}, EM {} iterations, {}",
        s.model_source,
        m.lambda,
        m.training.em_iterations,
        if m.training.em_converged {
            "converged"
        } else {
            "NOT converged"
        }
    );
    if let (Some(candidate), Some(share)) = (
        m.training.candidate_matches,
        m.training.blocking_formed_share,
    ) {
        println!(
            "implied matches: {candidate:.0} among the candidate pairs; blocking is estimated to form {:.1}% of matches, so {:.0} in all",
            100.0 * share,
            m.training.implied_matches
        );
    }
    println!(
        "links: {} match, {} review ({}: {} {})",
        s.counts.match_,
        s.counts.review,
        s.resolution.method,
        s.resolution.clusters,
        if s.resolution.method == "clusters" {
            "clusters"
        } else {
            "pairs"
        }
    );
    for w in &s.warnings {
        println!("warning: {w}");
    }
    let timings: Vec<String> = s
        .timings
        .iter()
        .map(|t| format!("{} {:.2} s", t.stage, t.seconds))
        .collect();
    println!("timings: {}", timings.join(", "));
    println!(
        "wrote {} and {}",
        c.output.display(),
        summary_path(&c.output).display()
    );
    if let Some(p) = &c.save_model {
        println!("wrote model {}", p.display());
    }
}
