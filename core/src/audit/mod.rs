//! The red team: how much of an encoded extract could a party without the secret re-identify?
//! (`pseudolink audit`)
//!
//! The attacker is a curious linkage unit or an outsider with the files: it holds one or more
//! encoded extracts, the schema, and public knowledge, a reference population ("another draw of
//! the same population") and dictionaries of candidate values ([`mod@reference`]); an insider also
//! knows the cleartext of some records. It never holds the secret. The audit runs the strongest
//! attacks such a party can mount against every attribute some column reveals, and measures them
//! against the agency's own cleartext (the truth): the share of records whose true normalised
//! value each attack guesses, beyond what a blind guess (the most frequent reference value) gets.
//!
//! The attacks never read column names: `meaning` says, for every column, which attributes
//! its equality determines or suggests, and `columns` turns the extracts into classes of equal
//! cells and packed filters. `docs/attacks.md` describes every attack, its sources and its
//! assumptions:
//!
//! 1. frequency alignment of every column's classes, on the whole file and within groups
//!    (`align`);
//! 2. the same on components bridged through every column that determines the attribute
//!    (`bridges`, `align`);
//! 3. known plaintext on tokens, through bridges and suggesting classes (`known_tokens`);
//! 4. known plaintext on filters: learnt q-gram bits with dictionary lookups, and the nearest
//!    known filter (`known_filters`);
//! 5. pattern mining on filters (`patterns`);
//! 6. graph matching and salt-partition detection (`graph`, `salts`);
//! 7. singling out (`singling`);
//! 8. the pair statistics of the manifests: agreements of sampled pairs that no token shows,
//!    as bridges (`pair_stats`);
//!
//! and what the attacker makes of them together (`infer`). The verdict holds every whole value
//! (a name, the address, the date of birth, the postcode, the NHS number) to at most
//! [`DEFAULT_MAX_WHOLE`] beyond a blind guess and every partial value (an initial, a Soundex
//! code, a year or year and month, a postcode sector, district or area, sex) to
//! [`DEFAULT_MAX_PARTIAL`].

mod align;
mod bridges;
mod classify;
pub(crate) mod cleartext;
pub(crate) mod columns;
mod filters;
mod grams;
mod graph;
mod infer;
mod known_filters;
mod known_tokens;
mod lsh;
pub(crate) mod meaning;
mod pair_stats;
mod patterns;
pub mod reference;
mod report;
mod salts;
pub(crate) mod score;
mod singling;
mod target;
pub(crate) mod values;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::encode::pair_stats::PairStats;
use crate::error::{Error, Result};
use crate::io::encoded::{read_encoded, EncodedExtract, ReadOptions};
use crate::schema::Schema;

use cleartext::Cleartext;
use columns::Columns;
use meaning::Meanings;
use reference::{Dictionary, Reference};
use score::Board;
use target::Target;
use values::Values;

pub use infer::WholeRecord;
pub use pair_stats::PairStatsAttack;
pub use report::{AttributeReport, AuditReport, Measured, Timing, Verdict};
pub use salts::SaltDetection;
pub use singling::{ColumnUniqueness, SinglingOut};

/// Default bound on any whole value: at most this share of records beyond a blind guess.
pub const DEFAULT_MAX_WHOLE: f64 = 0.01;

/// Default bound on any partial value.
pub const DEFAULT_MAX_PARTIAL: f64 = 0.05;

/// Default numbers of known records (an insider's knowledge), one scenario each.
pub const DEFAULT_KNOWN_COUNTS: [usize; 1] = [1000];

/// Default seed of the random choices (known records, LSH, samples).
pub const DEFAULT_SEED: u64 = 16;

/// What an insider knows.
#[derive(Debug, Clone)]
pub enum Known {
    /// Nothing: an outsider.
    Nothing,
    /// The cleartext of this many random records of the audited extract, one scenario each.
    Random(Vec<usize>),
    /// The cleartext of these records (matched to encoded records by record id).
    Table(Cleartext),
}

/// Settings of an audit.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// What insiders know.
    pub known: Known,
    /// Bound on whole values.
    pub max_whole: f64,
    /// Bound on partial values.
    pub max_partial: f64,
    /// Seed of the random choices.
    pub seed: u64,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            known: Known::Random(DEFAULT_KNOWN_COUNTS.to_vec()),
            max_whole: DEFAULT_MAX_WHOLE,
            max_partial: DEFAULT_MAX_PARTIAL,
            seed: DEFAULT_SEED,
        }
    }
}

/// Where the reference population comes from.
#[derive(Debug, Clone)]
pub enum ReferenceInput {
    /// A CSV file with the schema's input columns (read by [`Reference::from_csv`]).
    File(PathBuf),
    /// Rows the caller already has (see [`Reference::from_rows`]): `pseudolink audit`'s
    /// built-in synthetic population, for one.
    Rows(Reference),
}

/// The attacker's public knowledge and the truth, as files (the reference population may be
/// rows in memory).
#[derive(Debug, Clone)]
pub struct AuditFiles {
    /// The encoded extracts (the first is the one audited).
    pub inputs: Vec<PathBuf>,
    /// The cleartext of the first extract.
    pub cleartext: PathBuf,
    /// The reference population.
    pub reference: ReferenceInput,
    /// Dictionaries: `(field, file)`.
    pub dictionaries: Vec<(String, PathBuf)>,
    /// The known records' cleartext (instead of random ones).
    pub known: Option<PathBuf>,
}

/// Reads everything and audits (the manifests are checked when present).
pub fn audit_files(
    schema: &Schema,
    files: &AuditFiles,
    options: &AuditOptions,
) -> Result<AuditReport> {
    let start = Instant::now();
    if files.inputs.is_empty() {
        return Err(Error::Invalid(
            "audit needs at least one encoded extract".into(),
        ));
    }
    let extracts = files
        .inputs
        .iter()
        .map(|p| {
            read_encoded(
                p,
                schema,
                ReadOptions {
                    allow_unverified: true,
                },
            )
        })
        .collect::<Result<Vec<EncodedExtract>>>()?;
    let truth = Cleartext::read(&files.cleartext, schema, true)?;
    let read;
    let reference = match &files.reference {
        ReferenceInput::File(p) => {
            read = Reference::from_csv(p, schema)?;
            &read
        }
        ReferenceInput::Rows(r) => r,
    };
    let dictionaries = files
        .dictionaries
        .iter()
        .map(|(f, p)| Dictionary::read(schema, f, p))
        .collect::<Result<Vec<_>>>()?;
    let mut options = options.clone();
    if let Some(p) = &files.known {
        options.known = Known::Table(Cleartext::read(p, schema, true)?);
    }
    let refs: Vec<&EncodedExtract> = extracts.iter().collect();
    let mut report = audit(schema, &refs, &truth, reference, &dictionaries, &options);
    report.timings.insert(
        0,
        Timing {
            step: "reading the files".into(),
            seconds: start.elapsed().as_secs_f64() - report.total_seconds,
        },
    );
    report.total_seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

fn path_of(p: &Path) -> String {
    p.display().to_string()
}

/// Audits extracts already in memory: `extracts[0]` is the audited one and `truth` its
/// cleartext; the others are more of what the attacker holds.
pub fn audit(
    schema: &Schema,
    extracts: &[&EncodedExtract],
    truth: &Cleartext,
    reference: &Reference,
    dictionaries: &[Dictionary],
    options: &AuditOptions,
) -> AuditReport {
    let stats: Vec<Option<&PairStats>> = extracts
        .iter()
        .map(|e| e.manifest.as_ref().and_then(|m| m.pair_stats.as_ref()))
        .collect();
    audit_with_stats(
        schema,
        extracts,
        &stats,
        truth,
        reference,
        dictionaries,
        options,
    )
}

/// As [`audit`], with the pair statistics of each extract given (those of its manifest, or
/// computed for an extract in memory).
pub(crate) fn audit_with_stats(
    schema: &Schema,
    extracts: &[&EncodedExtract],
    stats: &[Option<&PairStats>],
    truth: &Cleartext,
    reference: &Reference,
    dictionaries: &[Dictionary],
    options: &AuditOptions,
) -> AuditReport {
    let start = Instant::now();
    let mut timings = Vec::new();
    let mut lap = Instant::now();
    let mut time = |step: &str, timings: &mut Vec<Timing>| {
        timings.push(Timing {
            step: step.to_string(),
            seconds: lap.elapsed().as_secs_f64(),
        });
        lap = Instant::now();
    };
    let meanings = Meanings::new(schema);
    let columns = Columns::new(&meanings, extracts);
    let mut values = Values::new(
        schema,
        &meanings,
        &columns,
        Some(truth),
        reference,
        dictionaries,
    );
    let knowns = match &options.known {
        Known::Nothing => Vec::new(),
        Known::Random(counts) => {
            let mut counts = counts.clone();
            counts.sort_unstable();
            counts.dedup();
            counts
                .iter()
                .filter(|&&k| k > 0)
                .map(|&k| values.known_sample(k, options.seed))
                .collect()
        }
        Known::Table(t) => vec![values.known_from(t, &columns)],
    };
    time("columns, values and known records", &mut timings);
    let (mut extra, salt_detection) = salts::detect(&meanings, &columns, &values, options.seed);
    time("salt-partition detection", &mut timings);
    let (from_stats, pair_stats) = pair_stats::attack(schema, &meanings, &columns, &values, stats);
    extra.edges.extend(from_stats.edges);
    time("pair statistics", &mut timings);
    let target = Target::new(schema, &meanings, &columns, &values, &knowns, &extra);
    time("bridges and groups", &mut timings);
    let mut board = Board::default();
    align::run(&target, &mut board);
    time("frequency alignment (1, 2)", &mut timings);
    known_tokens::run(&target, &mut board);
    time("known plaintext on tokens (3)", &mut timings);
    known_filters::run(&target, &mut board);
    time("known plaintext on filters (4)", &mut timings);
    patterns::run(&target, &mut board);
    time("pattern mining (5)", &mut timings);
    graph::run(&target, &mut board);
    time("graph matching (6)", &mut timings);
    let whole = infer::run(&target, &mut board);
    time("combined and inference", &mut timings);
    let singling = singling::measure(&target);
    time("singling out (7)", &mut timings);
    board.picks.clear();
    let mut report = report::build(report::Parts {
        schema,
        inputs: extracts.iter().map(|e| path_of(&e.path)).collect(),
        target: &target,
        board: &board,
        whole,
        singling,
        salt_detection,
        pair_stats,
        reference: reference.source().to_string(),
        options,
        warnings: extracts
            .iter()
            .flat_map(|e| e.warnings.iter().cloned())
            .collect(),
    });
    report.timings = timings;
    report.total_seconds = start.elapsed().as_secs_f64();
    report
}

#[cfg(test)]
mod tests;
