//! The run summary written beside a links file (`LINKS.csv.summary.json`): what was read, how
//! candidate pairs were formed, the model, the thresholds, what came out, how long each stage
//! took, warnings, and who ran it when. It holds no record ids and no tokens.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::io::manifest::{FileRecord, Manifest, RunRecord};
use crate::link::block::{RuleCount, SkippedBlock};
use crate::link::model::{ComparisonMode, Model};
use crate::link::{ResolutionReport, StageTime};

/// Value of [`RunSummary::format`].
pub const SUMMARY_FORMAT: &str = "pseudolink-link-summary";
/// Version of the summary format.
pub const SUMMARY_FORMAT_VERSION: u32 = 1;
/// Largest number of skipped blocks listed one by one (all are counted).
pub const MAX_LISTED_SKIPPED_BLOCKS: usize = 100;

/// Path of the summary of the links file at `links`.
pub fn summary_path(links: &Path) -> PathBuf {
    let mut s = links.as_os_str().to_os_string();
    s.push(".summary.json");
    PathBuf::from(s)
}

/// The run summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Always [`SUMMARY_FORMAT`].
    pub format: String,
    /// [`SUMMARY_FORMAT_VERSION`].
    pub format_version: u32,
    /// Version of pseudolink.
    pub library_version: String,
    /// `link` (two or more sources) or `dedupe` (one).
    pub mode: String,
    /// Encoded extracts or cleartext (`--clear`).
    pub comparison: ComparisonMode,
    /// Fingerprint of the schema used.
    pub schema_fingerprint: crate::schema::SchemaFingerprint,
    /// The inputs, in order (the first is "left").
    pub inputs: Vec<InputSummary>,
    /// Blocking.
    pub blocking: BlockingSummary,
    /// Where the model came from: `trained` or the model file.
    pub model_source: String,
    /// The model used.
    pub model: Model,
    /// The thresholds.
    pub thresholds: Thresholds,
    /// Resolution.
    pub resolution: ResolutionReport,
    /// Output rows per band.
    pub counts: BandCounts,
    /// Files written.
    pub outputs: Outputs,
    /// Seconds per stage.
    pub timings: Vec<StageTime>,
    /// Things a reader must know (unverified inputs, EM not converged, skipped blocks...).
    pub warnings: Vec<String>,
    /// Who, where, when, under which agreement.
    pub run: RunRecord,
}

/// One input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSummary {
    /// `left`, `right`, or `input 3` and so on.
    pub role: String,
    /// The file, with its size and BLAKE3.
    pub file: FileRecord,
    /// Records read.
    pub records: u64,
    /// Whether the manifest was present and matched the file (always false in cleartext mode).
    pub manifest_verified: bool,
    /// Schema fingerprint from the manifest.
    pub schema_fingerprint: Option<crate::schema::SchemaFingerprint>,
    /// Key check value from the manifest.
    pub key_check_value: Option<crate::secret::KeyCheckValue>,
    /// File format version from the manifest.
    pub format_version: Option<u32>,
    /// Agreement reference from the manifest.
    pub agreement: Option<String>,
}

impl InputSummary {
    /// The entry of an encoded extract: its file (or, for one held in memory, its name and the
    /// size and BLAKE3 its file would have) and what its manifest says.
    pub fn encoded(
        role: String,
        file: FileRecord,
        records: u64,
        manifest: Option<&Manifest>,
        verified: bool,
    ) -> Self {
        InputSummary {
            role,
            file,
            records,
            manifest_verified: verified,
            schema_fingerprint: manifest.map(|m| m.schema_fingerprint.clone()),
            key_check_value: manifest.map(|m| m.key_check_value.clone()),
            format_version: manifest.map(|m| m.format_version),
            agreement: manifest.and_then(|m| m.run.agreement.clone()),
        }
    }

    /// The entry of a raw (cleartext) extract: its file, no manifest.
    pub fn cleartext(
        role: String,
        path: &std::path::Path,
        bytes: u64,
        blake3: String,
        records: u64,
    ) -> Self {
        InputSummary {
            role,
            file: FileRecord {
                path: path.display().to_string(),
                bytes,
                blake3,
            },
            records,
            manifest_verified: false,
            schema_fingerprint: None,
            key_check_value: None,
            format_version: None,
            agreement: None,
        }
    }
}

/// Blocking counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockingSummary {
    /// The size limit per block and source.
    pub max_block_size: u64,
    /// Per rule, in schema order.
    pub rules: Vec<RuleCount>,
    /// Distinct candidate pairs over all rules.
    pub candidate_pairs: u64,
    /// Blocks skipped as too large.
    pub skipped_blocks: u64,
    /// The largest skipped blocks (at most [`MAX_LISTED_SKIPPED_BLOCKS`]).
    pub largest_skipped: Vec<SkippedBlock>,
}

/// The thresholds used.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Match threshold (probability).
    #[serde(rename = "match")]
    pub match_: f64,
    /// Review threshold (probability).
    pub review: f64,
}

/// Output rows per band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandCounts {
    /// Rows in the links file.
    pub links: u64,
    /// Rows with band `match`.
    #[serde(rename = "match")]
    pub match_: u64,
    /// Rows with band `review`.
    pub review: u64,
}

/// Files written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outputs {
    /// The links file.
    pub links: FileRecord,
    /// The model file, with `--save-model`.
    pub model: Option<String>,
}
