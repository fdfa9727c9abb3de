//! The run report (`pseudolink report`): one self-contained HTML file about a linking run, and the
//! clerical review pack (`pseudolink review`).
//!
//! A report is made from what a run leaves behind: the links file, its run summary
//! (`LINKS.csv.summary.json`, which holds the model), the inputs' manifests (found by the paths
//! the summary records), optionally known true pairs, and optionally explanations of chosen pairs
//! (which need the records again: [`relink`] re-scores the run with the summary's model). It
//! reads nothing from the network and the page it writes loads nothing: its charts are inline
//! SVG drawn by plotters, and a Content-Security-Policy forbids every fetch and script.
//!
//! ```
//! use pseudolink::report::{Report, ReportInput};
//! # fn summary() -> pseudolink::run::RunSummary { unimplemented!() }
//! # fn run() -> pseudolink::Result<()> {
//! # if true { return Ok(()); }
//! let input = ReportInput {
//!     summary: summary(),        // from the links file's summary
//!     links: Vec::new(),         // `report::read_link_rows("links.csv")`
//!     manifests: Vec::new(),     // one per input, when found
//!     truth: None,
//!     explanations: Vec::new(),
//!     notes: Vec::new(),
//! };
//! let html = Report::new(input).to_html()?;
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! # Ok(()) }
//! # run().unwrap();
//! ```
//!
//! `docs/report.md` describes every section.

mod chart;
mod html;
mod links;
mod review;
mod sections;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::control::RunControl;
use crate::error::{Error, Location, Result};
use crate::io::manifest::Manifest;
use crate::link::evaluate::{read_truth, Pair};
use crate::link::model::ComparisonMode;
use crate::link::{Explanation, LinkOptions, Linkage};
use crate::run::{link, LinkInput, LinkRun};
use crate::run::{summary_path, RunSummary};
use crate::schema::Schema;

pub use links::{read_link_rows, rows_of, write_link_rows, LinkRow};
pub use review::{apply_decisions, review_rows, write_review, Decision, DecisionCounts, ReviewRow};

/// What a report is made of.
#[derive(Debug, Clone)]
pub struct ReportInput {
    /// The run summary (with the model).
    pub summary: RunSummary,
    /// The rows of the links file.
    pub links: Vec<LinkRow>,
    /// The manifest of each input of the summary, in order, where it was found.
    pub manifests: Vec<Option<Manifest>>,
    /// Known true pairs, for threshold selection against the truth.
    pub truth: Option<BTreeSet<Pair>>,
    /// Pairs to draw as waterfalls.
    pub explanations: Vec<Explanation>,
    /// Sentences about how the report was made (manifests not found...), shown in it.
    pub notes: Vec<String>,
}

/// A run report, ready to be written as HTML.
#[derive(Debug, Clone)]
pub struct Report {
    input: ReportInput,
    generated_at: String,
}

impl Report {
    /// A report of `input`, stamped with the current time.
    pub fn new(input: ReportInput) -> Report {
        Report {
            input,
            generated_at: crate::timestamp::now_rfc3339(),
        }
    }

    /// The whole report: one HTML document that loads nothing.
    pub fn to_html(&self) -> Result<String> {
        html::document(&self.input, &self.generated_at)
    }

    /// The report's headline sections (run facts, match-weight distribution, threshold
    /// selection) as an HTML fragment, for a notebook cell.
    pub fn summary_html(&self) -> Result<String> {
        html::fragment(&self.input)
    }

    /// Writes the report to `path` (atomically, mode 0600 like every output).
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::io::atomic::write_atomic(path, self.to_html()?.as_bytes())
    }
}

/// What `pseudolink report` reads.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// The links file; its summary is `LINKS.summary.json`.
    pub links: PathBuf,
    /// Known true pairs (CSV `left_id,right_id`).
    pub truth: Option<PathBuf>,
    /// Pairs (left id, right id) to explain with a waterfall; needs `schema`.
    pub explain: Vec<(String, String)>,
    /// The schema of the run (needed only to explain pairs).
    pub schema: Option<Schema>,
}

/// Reads the run summary beside the links file at `links`.
pub fn read_summary(links: &Path) -> Result<RunSummary> {
    let path = summary_path(links);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::input(
                Location {
                    file: Some(path.clone()),
                    ..Location::default()
                },
                format!(
                    "the run summary of {} is missing: `pseudolink link` writes it beside the links file",
                    links.display()
                ),
            )
        } else {
            Error::io("read", &path, e)
        }
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Error::input(
            Location {
                file: Some(path.clone()),
                line: Some(e.line() as u64),
                field: None,
            },
            format!("not a run summary of this version of pseudolink: {e}"),
        )
    })
}

/// Where an input of the summary is: its path as recorded if it exists, else the same relative
/// path from the links file's folder (a run made in another working directory).
pub fn resolve_input(recorded: &str, links: &Path) -> Option<PathBuf> {
    let p = PathBuf::from(recorded);
    if p.exists() {
        return Some(p);
    }
    let beside = links.parent()?.join(p.file_name()?);
    beside.exists().then_some(beside)
}

/// The manifests of the summary's inputs that can be found, with a note for each that cannot.
pub fn find_manifests(summary: &RunSummary, links: &Path) -> (Vec<Option<Manifest>>, Vec<String>) {
    let mut notes = Vec::new();
    let manifests = summary
        .inputs
        .iter()
        .map(|i| {
            if summary.comparison == ComparisonMode::Clear {
                return None;
            }
            match resolve_input(&i.file.path, links) {
                None => {
                    notes.push(format!(
                        "the {} input {} was not found (nor beside the links file): its data quality is not shown",
                        i.role, i.file.path
                    ));
                    None
                }
                Some(p) => match Manifest::read_for(&p) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        notes.push(format!(
                            "the manifest of the {} input could not be read ({e}): its data quality is not shown",
                            i.role
                        ));
                        None
                    }
                },
            }
        })
        .collect();
    (manifests, notes)
}

/// Links the run of `summary` again with its own model, inputs, thresholds and resolution, to
/// have its records for explanations and the review pack. The inputs must be the files the run
/// read (checked by their BLAKE3, as the summary records them), and the run must come out the
/// same (checked by its counts), or this fails with [`Error::Mismatch`].
pub fn relink(summary: &RunSummary, schema: &Schema, links: &Path) -> Result<Linkage> {
    if schema.fingerprint() != summary.schema_fingerprint {
        return Err(Error::Mismatch(format!(
            "the run used schema {} but the schema given is {}: give the schema the run was linked with",
            summary.schema_fingerprint,
            schema.fingerprint()
        )));
    }
    let mut inputs = Vec::with_capacity(summary.inputs.len());
    for i in &summary.inputs {
        let path = resolve_input(&i.file.path, links).ok_or_else(|| {
            Error::input(
                Location {
                    file: Some(PathBuf::from(&i.file.path)),
                    ..Location::default()
                },
                format!(
                    "the {} input of the run is not found (as recorded in {}, nor beside the links file)",
                    i.role,
                    summary_path(links).display()
                ),
            )
        })?;
        inputs.push(match summary.comparison {
            ComparisonMode::Clear => LinkInput::ClearFile(path),
            _ => LinkInput::EncodedFile(path),
        });
    }
    let linked = link(
        schema,
        LinkRun {
            inputs,
            link: LinkOptions {
                threshold: summary.thresholds.match_,
                review_threshold: summary.thresholds.review,
                one_to_one: summary.resolution.method == "one_to_one",
                cluster_support: summary.resolution.cluster_support,
                ..LinkOptions::default()
            },
            model: Some(summary.model.clone()),
            model_source: Some(summary.model_source.clone()),
            allow_unverified: summary.inputs.iter().any(|i| !i.manifest_verified),
            ..LinkRun::default()
        },
        &RunControl::new(),
    )?;
    for (was, now) in summary.inputs.iter().zip(linked.inputs()) {
        if !was.file.blake3.is_empty() && was.file.blake3 != now.file.blake3 {
            return Err(Error::Mismatch(format!(
                "{} is not the file the run linked (its BLAKE3 differs from the run summary's)",
                now.file.path
            )));
        }
    }
    let linkage = linked.into_linkage();
    let (m, r) = linkage.band_counts();
    if (m, r) != (summary.counts.match_, summary.counts.review) {
        return Err(Error::Mismatch(format!(
            "linking again with the run's model gave {m} links and {r} review pairs, but the run had {} and {}",
            summary.counts.match_, summary.counts.review
        )));
    }
    Ok(linkage)
}

/// Reads what [`ReportOptions`] names: the links file, its summary, the inputs' manifests, the
/// truth; explains the pairs asked for (linking again: see [`relink`]).
pub fn load(options: &ReportOptions) -> Result<ReportInput> {
    let summary = read_summary(&options.links)?;
    let links = read_link_rows(&options.links)?;
    let (manifests, notes) = find_manifests(&summary, &options.links);
    let truth = options.truth.as_deref().map(read_truth).transpose()?;
    let explanations = if options.explain.is_empty() {
        Vec::new()
    } else {
        let schema = options.schema.as_ref().ok_or_else(|| {
            Error::Invalid(
                "explaining pairs needs the schema of the run (--schema): their records are compared again".into(),
            )
        })?;
        let linkage = relink(&summary, schema, &options.links)?;
        options
            .explain
            .iter()
            .map(|(l, r)| linkage.explain(l, r))
            .collect::<Result<_>>()?
    };
    Ok(ReportInput {
        summary,
        links,
        manifests,
        truth,
        explanations,
        notes,
    })
}

/// Writes the report of what `options` names to `output`.
pub fn write_report(options: &ReportOptions, output: &Path) -> Result<()> {
    Report::new(load(options)?).write(output)
}

#[cfg(test)]
mod tests;
