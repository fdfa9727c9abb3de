//! What a linking run yields besides its records and model: the output rows ([`Link`], each with
//! its [`Band`]), progress reports, stage timings and the resolution report. A leaf module.

use serde::{Deserialize, Serialize};

/// The band of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// A link: the two records are taken to be the same person.
    Match,
    /// For clerical review.
    Review,
}

impl Band {
    /// `match` or `review`.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Match => "match",
            Band::Review => "review",
        }
    }
}

/// One output row: a scored pair with its band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// Pool index of the first (left) record.
    pub left: u32,
    /// Pool index of the second (right) record.
    pub right: u32,
    /// Match weight.
    pub weight: f64,
    /// Match probability.
    pub probability: f64,
    /// Band.
    pub band: Band,
    /// Cluster number (0 for none).
    pub cluster: u32,
}

/// Time spent in one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTime {
    /// Stage name.
    pub stage: String,
    /// Seconds (wall clock).
    pub seconds: f64,
    /// CPU seconds of the whole process (user and system, every thread) in the stage, where the
    /// system says (Linux): on a shared machine the wall clock measures the others too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<f64>,
}

/// CPU seconds (user and system, all threads) this process has used so far, from
/// `/proc/self/stat` (Linux; its clock ticks are 1/100 s); `None` elsewhere.
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// What resolution did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResolutionReport {
    /// `clusters` or `one_to_one`.
    pub method: String,
    /// Clusters of two or more records (clusters), or accepted pairs (one-to-one).
    pub clusters: u64,
    /// Merges refused by the chaining guard (clusters).
    pub refused_merges: u64,
    /// Pairs at or above the threshold not accepted because a record was already linked
    /// (one-to-one); they are not in the output.
    pub displaced_pairs: u64,
    /// The guard's required share of supported cross pairs (clusters).
    pub cluster_support: f64,
}
