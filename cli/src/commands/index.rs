//! `pseudolink index create|add|export|remove|compact`: the person index with stable ids.

use std::path::PathBuf;

use pseudolink::control::Progress;
use pseudolink::index::{
    AddOptions, CreateOptions, PersonIndex, MERGES_FILE, RECENT_BLOCKS_BOUND, RECENT_BLOCKS_LIMIT,
    SPLITS_FILE,
};
use pseudolink::link::model::Model;
use pseudolink::link::{
    LinkOptions, DEFAULT_CLUSTER_SUPPORT, DEFAULT_REVIEW_THRESHOLD, DEFAULT_THRESHOLD,
};
use pseudolink::run::Rejects;
use pseudolink::{Result, Schema};

use super::progress::{cancel_flag, stage_bar};

/// The actions of `pseudolink index`.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Link encoded extracts into a new person index: each cluster gets a stable person id.
    Create(CreateArgs),
    /// Assign the records of a new encoded extract to the index's persons (new ids otherwise).
    Add(AddArgs),
    /// Write every record's person id (source, record_id, person_id).
    Export(ExportArgs),
    /// Withdraw records: they leave no trace in the index.
    Remove(RemoveArgs),
    /// Move the block keys of recent adds into the main table (keeps adds fast; safe any time).
    Compact(CompactArgs),
}

/// Arguments of `pseudolink index compact`.
#[derive(Debug, clap::Args)]
pub struct CompactArgs {
    /// The index folder.
    #[arg(long)]
    pub index: PathBuf,
}

/// Arguments of `pseudolink index create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The schema file (JSON) the extracts were encoded with.
    #[arg(long)]
    pub schema: PathBuf,
    /// A trained model (JSON, from `link --save-model`); trained from the inputs if absent.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// An encoded extract (repeat; one to deduplicate, several to link).
    #[arg(long, required = true)]
    pub input: Vec<PathBuf>,
    /// Source names, one per --input, in order (default: each file's name without .enc.csv).
    #[arg(long)]
    pub source: Vec<String>,
    /// The folder of the new index.
    #[arg(long)]
    pub output: PathBuf,
    /// Pairs at or above this match probability are links.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Pairs at or above this match probability that are not links go to clerical review.
    #[arg(long, default_value_t = DEFAULT_REVIEW_THRESHOLD)]
    pub review_threshold: f64,
    /// Clustering guard (see `pseudolink link --help`).
    #[arg(long, default_value_t = DEFAULT_CLUSTER_SUPPORT)]
    pub cluster_support: f64,
}

/// Arguments of `pseudolink index add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The index folder.
    #[arg(long)]
    pub index: PathBuf,
    /// The new encoded extract (with its manifest beside it).
    #[arg(long)]
    pub input: PathBuf,
    /// Its source name (default: the file's name without .enc.csv).
    #[arg(long)]
    pub source: Option<String>,
    /// Where to write the assignments (CSV).
    #[arg(long)]
    pub output: PathBuf,
    /// Write rows that cannot be added (a record id repeated in the extract, or already in the
    /// index for this source) here (line, reason, field, message, record id) and add the others,
    /// instead of failing on the first.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
}

/// Arguments of `pseudolink index export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The index folder.
    #[arg(long)]
    pub index: PathBuf,
    /// The CSV file to write.
    #[arg(long)]
    pub output: PathBuf,
}

/// Arguments of `pseudolink index remove`.
#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// The index folder.
    #[arg(long)]
    pub index: PathBuf,
    /// The source of the records.
    #[arg(long)]
    pub source: String,
    /// A record id to withdraw (repeatable).
    #[arg(long, required = true)]
    pub record_id: Vec<String>,
}

/// Runs `pseudolink index ...`.
pub fn run(action: &Action) -> Result<()> {
    match action {
        Action::Create(a) => create(a),
        Action::Add(a) => add(a),
        Action::Export(a) => {
            let index = PersonIndex::open(&a.index)?;
            let n = index.write_export(&a.output)?;
            println!("wrote {} ({n} records)", a.output.display());
            Ok(())
        }
        Action::Compact(a) => compact(a),
        Action::Remove(a) => {
            let mut index = PersonIndex::open(&a.index)?;
            let report = index.remove(&a.source, &a.record_id)?;
            println!(
                "removed {} record(s) of {} from {}",
                report.removed,
                a.source,
                a.index.display()
            );
            if !report.splits.is_empty() {
                println!(
                    "{} person(s) no longer held together: splits to review in {}",
                    report.splits.len(),
                    a.index.join(SPLITS_FILE).display()
                );
            }
            Ok(())
        }
    }
}

fn create(a: &CreateArgs) -> Result<()> {
    let schema = Schema::from_file(&a.schema)?;
    let model = a.model.as_deref().map(Model::read).transpose()?;
    let cancel = cancel_flag();
    let started = std::time::Instant::now();
    let bar = stage_bar();
    let progress = |p: Progress| {
        bar.set_message(p.stage);
        bar.set_length(p.total);
        bar.set_position(p.done);
    };
    let result = PersonIndex::create(
        &a.output,
        &schema,
        CreateOptions {
            inputs: a.input.clone(),
            sources: a.source.clone(),
            link: LinkOptions {
                threshold: a.threshold,
                review_threshold: a.review_threshold,
                cluster_support: a.cluster_support,
                ..LinkOptions::default()
            },
            model,
            control: pseudolink::run::RunControl::new()
                .cancel(&cancel)
                .progress(&progress),
        },
    );
    bar.finish_and_clear();
    let (_, report) = result?;
    println!(
        "created {}: {} records of {} persons from {} ({:.2} s)",
        a.output.display(),
        report.records,
        report.persons,
        report.sources.join(", "),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn compact(a: &CompactArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let mut index = PersonIndex::open(&a.index)?;
    let cancel = cancel_flag();
    let bar = stage_bar();
    let progress = |p: Progress| {
        bar.set_message(p.stage);
        bar.set_length(p.total);
        bar.set_position(p.done);
    };
    let result = index.compact(
        &pseudolink::run::RunControl::new()
            .cancel(&cancel)
            .progress(&progress),
    );
    bar.finish_and_clear();
    let report = result?;
    if report.moved == 0 {
        println!(
            "{}: nothing to compact ({} block entries) ({:.2} s)",
            a.index.display(),
            report.blocks,
            started.elapsed().as_secs_f64()
        );
    } else {
        println!(
            "compacted {}: moved {} recent block entries into the main table, now {} ({:.2} s)",
            a.index.display(),
            report.moved,
            report.blocks,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn add(a: &AddArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let mut index = PersonIndex::open(&a.index)?;
    let options = AddOptions {
        source: a.source.clone(),
        rejects: Rejects::from(a.rejects.clone()),
    };
    let report = index.add_file_to(&a.input, &a.output, &options)?;
    let count = |b: &str| {
        report
            .assignments
            .iter()
            .filter(|x| x.band.as_str() == b)
            .count()
    };
    println!(
        "assigned {} records: {} match, {} review, {} new; {} new persons, {} merges, {} persons listed for a split review ({:.2} s)",
        report.assignments.len(),
        count("match"),
        count("review"),
        count("new"),
        report.new_persons,
        report.merges.len(),
        report.splits.len(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "read {} rows from {}: {} assigned + {} rejected = {}",
        report.rows(),
        a.input.display(),
        report.assignments.len(),
        report.rejected.len(),
        report.rows()
    );
    println!("wrote {}", a.output.display());
    if let Some(r) = &a.rejects {
        if !report.rejected.is_empty() {
            println!("  rejected rows are listed in {}", r.display());
        }
    }
    if !report.merges.is_empty() {
        println!("merges logged in {}", a.index.join(MERGES_FILE).display());
    }
    if !report.splits.is_empty() {
        println!(
            "splits to review in {}",
            a.index.join(SPLITS_FILE).display()
        );
    }
    if report.compacted > 0 {
        eprintln!(
            "warning: the index's recent block keys outgrew {RECENT_BLOCKS_LIMIT} entries, so this add compacted it ({} moved); run `pseudolink index compact --index {}` after each add to keep adds fast",
            report.compacted,
            a.index.display()
        );
    } else if report.compact_recommended {
        eprintln!(
            "warning: the index holds {} recent block entries (more than {RECENT_BLOCKS_BOUND}); run `pseudolink index compact --index {}` before the next add",
            report.recent_blocks,
            a.index.display()
        );
    }
    Ok(())
}
