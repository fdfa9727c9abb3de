//! `pseudolink evaluate`.

use std::path::PathBuf;

use pseudolink::link::evaluate::{curve, evaluate, read_links, read_truth, write_curve};
use pseudolink::Result;

/// Arguments of `pseudolink evaluate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The links file written by `pseudolink link` or `dedupe`.
    #[arg(long)]
    pub links: PathBuf,
    /// The true pairs (CSV with columns left_id,right_id).
    #[arg(long)]
    pub truth: PathBuf,
    /// Write the precision-recall curve over the probability threshold to this CSV.
    #[arg(long)]
    pub curve: Option<PathBuf>,
    /// Treat pairs as unordered (for deduplication, where either record may come first).
    #[arg(long)]
    pub unordered: bool,
}

/// Runs the evaluate command: prints precision, recall, F1 and the counts as JSON.
pub fn run(args: &Args) -> Result<()> {
    let links = read_links(&args.links)?;
    let truth = read_truth(&args.truth)?;
    let e = evaluate(&links, &truth, args.unordered);
    println!("{}", serde_json::to_string_pretty(&e).unwrap_or_default());
    if let Some(path) = &args.curve {
        write_curve(path, &curve(&links, &truth, args.unordered))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
