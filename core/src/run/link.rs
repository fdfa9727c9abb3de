//! The one linking entry point, [`link`]: what `pseudolink link` and `pseudolink dedupe`, Python's
//! `link()` and `dedupe()` and C's `pl_link_files*` call.
//!
//! Reads the encoded extracts (checked against their manifests and against each other: the same
//! schema, format version and secret, by key check value compared in constant time), takes those
//! held in memory, or in cleartext mode reads the raw extracts; links them
//! ([`crate::link::link_pool`]); [`Linked::write`] writes the links file and its summary
//! atomically, and the model if asked.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::control::RunControl;
use crate::encode::record::write_csv_cell;
use crate::encode::{EncodedRecord, Encoder};
use crate::error::{Error, Result};
use crate::io::atomic::AtomicFile;
use crate::io::encoded::{read_encoded, EncodedExtract, ReadOptions};
use crate::io::manifest::{FileRecord, Manifest, RunRecord};
use crate::link::clear::read_clear;
use crate::link::model::{ComparisonMode, Model};
use crate::link::pool::{ClearValues, Pool};
use crate::link::{link_pool, LinkOptions, Linkage};
use crate::schema::Schema;
use crate::secret::Secret;

use super::link_summary::{
    summary_path, BandCounts, BlockingSummary, InputSummary, Outputs, RunSummary, Thresholds,
    MAX_LISTED_SKIPPED_BLOCKS, SUMMARY_FORMAT, SUMMARY_FORMAT_VERSION,
};

/// The role of input `i` of `n` in a run summary: `input`, `left`, `right`, `input 3`...
fn role(i: usize, n: usize) -> String {
    match (i, n) {
        (0, 1) => "input".into(),
        (0, _) => "left".into(),
        (1, 2) => "right".into(),
        _ => format!("input {}", i + 1),
    }
}

/// The warning of a run whose schema turns competing links on but whose given model was trained
/// without them (the model decides: they are not weighed).
pub const COMPETITION_NOT_IN_MODEL: &str = "the schema turns competing links on (link.competition) but the model was trained without them: they were not weighed in this run; train a new model to weigh them";

/// The warning a cleartext run's summary carries.
const CLEARTEXT_NOTE: &str = "cleartext mode: the inputs were read in clear; tokens came from an ephemeral secret that was never stored";

/// One input of a linking run.
#[derive(Debug)]
#[non_exhaustive]
pub enum LinkInput {
    /// An encoded extract file, read and checked against its manifest.
    EncodedFile(PathBuf),
    /// An encoded extract held in memory (what the Python binding holds).
    Encoded {
        /// Its name in messages and in the links (`left_source`); `None`: its role in the run
        /// (`input`, `left`, `right`, `input 3`...).
        name: Option<String>,
        /// The file it was read from, if any.
        path: Option<PathBuf>,
        /// The fingerprint of the schema it was encoded under.
        schema_fingerprint: crate::schema::SchemaFingerprint,
        /// Its manifest (absent only when it was read unverified).
        manifest: Option<Box<Manifest>>,
        /// Its records.
        records: Vec<EncodedRecord>,
        /// False when it was read unverified and its manifest was missing or did not match.
        verified: bool,
    },
    /// A raw CSV extract, compared in cleartext.
    ClearFile(PathBuf),
}

impl LinkInput {
    /// The input at `path`: an encoded extract, or with `clear` a raw CSV extract.
    pub fn file(path: impl Into<PathBuf>, clear: bool) -> Self {
        if clear {
            LinkInput::ClearFile(path.into())
        } else {
            LinkInput::EncodedFile(path.into())
        }
    }
}

/// Everything a linking run needs besides the schema and its [`RunControl`]: what [`link`], the
/// one entry point of the CLI, the Python binding and the C library, takes.
#[derive(Default)]
#[non_exhaustive]
pub struct LinkRun {
    /// The inputs, in order: one to deduplicate, two (left, right) or more to link. All
    /// encoded, or all cleartext.
    pub inputs: Vec<LinkInput>,
    /// Thresholds, resolution and guard.
    pub link: LinkOptions,
    /// Use this trained model instead of training one.
    pub model: Option<Model>,
    /// Where the model came from, for the summary (`trained` when none is given).
    pub model_source: Option<String>,
    /// Accept inputs whose manifest is missing or does not match (recorded as a warning).
    pub allow_unverified: bool,
    /// Information Sharing Agreement reference, recorded in the summary.
    pub agreement: Option<String>,
    /// Purpose of processing, recorded in the summary.
    pub purpose: Option<String>,
}

impl LinkRun {
    /// A run over `inputs` with the default options.
    pub fn new(inputs: Vec<LinkInput>) -> Self {
        LinkRun {
            inputs,
            ..LinkRun::default()
        }
    }

    /// Uses the trained model in the file at `path` (as `pseudolink link --save-model` writes
    /// it) instead of training one; the summary names the file as the model's source.
    pub fn model_file(mut self, path: &Path) -> Result<Self> {
        self.model = Some(Model::read(path)?);
        self.model_source = Some(path.display().to_string());
        Ok(self)
    }
}

/// The outcome of [`link`]: the [`Linkage`] and what its run summary needs besides (the inputs,
/// their warnings, who ran it when). [`Linked::write`] writes the links file and its summary.
#[derive(Debug)]
pub struct Linked {
    schema: Schema,
    linkage: Linkage,
    comparison: ComparisonMode,
    inputs: Vec<InputSummary>,
    warnings: Vec<String>,
    run: RunRecord,
    model_source: String,
}

impl Linked {
    /// The scored, resolved links.
    pub fn linkage(&self) -> &Linkage {
        &self.linkage
    }

    /// The scored, resolved links, taken out of the run.
    pub fn into_linkage(self) -> Linkage {
        self.linkage
    }

    /// Warnings about the inputs (accepted unverified, without pair statistics...), as the run
    /// summary lists them first. The summary adds those about the run itself (see
    /// [`Linked::summary`]).
    pub fn input_warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The inputs, in order, as the summary records them.
    pub fn inputs(&self) -> &[InputSummary] {
        &self.inputs
    }

    /// Who ran it, where, when, under which agreement.
    pub fn run_record(&self) -> &RunRecord {
        &self.run
    }

    /// The run summary, with `links` the links file written (its default when none was) and
    /// `model_file` the model file written, if any.
    pub fn summary(&self, links: FileRecord, model_file: Option<String>) -> RunSummary {
        let mut warnings = self.warnings.clone();
        if self.comparison == ComparisonMode::Clear {
            warnings.push(CLEARTEXT_NOTE.to_string());
        }
        build_summary(
            &self.schema,
            &self.linkage,
            SummaryParts {
                comparison: self.comparison,
                inputs: self.inputs.clone(),
                model_source: self.model_source.clone(),
                links,
                model_file,
                warnings,
                run: self.run.clone(),
            },
        )
    }

    /// Writes the links file `output`, its summary `output.summary.json` and, if asked, the model
    /// used to `save_model`: all or nothing (each is written under a temporary name and renamed
    /// into place only when all were written). Returns the summary, whose timings end with
    /// `writing`.
    pub fn write(&self, output: &Path, save_model: Option<&Path>) -> Result<RunSummary> {
        let write_started = std::time::Instant::now();
        let write_cpu = crate::link::process_cpu_seconds();
        let (links_out, links_file) = write_links_uncommitted(&self.linkage, output)?;
        let model_out = match save_model {
            Some(p) => {
                let mut f = AtomicFile::create(p)?;
                let mut json = self.linkage.model.to_json();
                json.push('\n');
                f.write_all(json.as_bytes())?;
                Some(f)
            }
            None => None,
        };
        let writing = crate::link::StageTime {
            stage: "writing".into(),
            seconds: write_started.elapsed().as_secs_f64(),
            cpu_seconds: crate::link::process_cpu_seconds()
                .zip(write_cpu)
                .map(|(b, a)| b - a),
        };
        let mut summary = self.summary(links_file, save_model.map(|p| p.display().to_string()));
        summary.timings.push(writing);
        let summary_out = write_summary_uncommitted(&summary, output)?;
        commit_all(
            std::iter::once(links_out)
                .chain(model_out)
                .chain(std::iter::once(summary_out)),
        )?;
        Ok(summary)
    }
}

/// Reads and checks the inputs of `run` (encoded extracts against their manifests and each
/// other: the same schema, format, encoding version and secret; or raw CSV extracts, encoded in
/// memory under an ephemeral secret for cleartext comparison) and links them
/// ([`crate::link::link_pool`]), told and cancelled through `control`. Writes nothing: see
/// [`Linked::write`].
///
/// The one linking entry point: `pseudolink link` and `dedupe`, Python's `link()` and
/// `dedupe()`, and C's `pl_link_files*` all call it, so all give the same links and summary.
pub fn link(schema: &Schema, run: LinkRun, control: &RunControl<'_>) -> Result<Linked> {
    let mut record = RunRecord::start(run.agreement.clone(), run.purpose.clone());
    if run.inputs.is_empty() {
        return Err(Error::Invalid("no input to link".into()));
    }
    run.link.validate()?;
    let started = std::time::Instant::now();
    let cpu_started = crate::link::process_cpu_seconds();
    let n = run.inputs.len();
    let clear = run
        .inputs
        .iter()
        .any(|i| matches!(i, LinkInput::ClearFile(_)));
    if clear
        && run
            .inputs
            .iter()
            .any(|i| !matches!(i, LinkInput::ClearFile(_)))
    {
        return Err(Error::Invalid(
            "cleartext and encoded extracts cannot be linked together: encode the cleartext ones first".into(),
        ));
    }
    let mut warnings = Vec::new();
    let mut inputs = Vec::with_capacity(n);
    let mut sources: Vec<(String, Vec<EncodedRecord>)> = Vec::with_capacity(n);
    let mut clear_values = None;
    let mut pair_stats = Vec::new();
    if clear {
        let secret = Secret::generate()?;
        let encoder = Encoder::new(schema, &secret);
        drop(secret);
        let keys = crate::link::compare::Comparator::new(schema, true)?
            .keys()
            .to_vec();
        let paths: Vec<&PathBuf> = run
            .inputs
            .iter()
            .filter_map(|i| match i {
                LinkInput::ClearFile(p) => Some(p),
                _ => None,
            })
            .collect();
        let read: Vec<_> = paths
            .par_iter()
            .map(|p| read_clear(p, &encoder, &keys))
            .collect::<Result<_>>()?;
        let mut values = Vec::new();
        let mut features = Vec::new();
        for (i, (path, x)) in paths.iter().zip(read).enumerate() {
            inputs.push(InputSummary::cleartext(
                role(i, n),
                path,
                x.bytes,
                x.blake3,
                x.records.len() as u64,
            ));
            values.extend(x.values);
            features.extend(x.features);
            sources.push((path.display().to_string(), x.records));
        }
        let household = schema
            .household_keys()
            .iter()
            .filter_map(|k| keys.iter().position(|x| x == k))
            .collect();
        clear_values = Some(ClearValues {
            n_fields: schema.fields.len(),
            values,
            features,
            household,
        });
    } else {
        let read_options = ReadOptions {
            allow_unverified: run.allow_unverified,
        };
        // Files are read in parallel; extracts in memory are taken as they are.
        let mut extracts: Vec<(EncodedExtract, bool, Option<String>)> = run
            .inputs
            .into_par_iter()
            .enumerate()
            .map(|(i, input)| -> Result<(EncodedExtract, bool, Option<String>)> {
                match input {
                    LinkInput::EncodedFile(p) => {
                        let x = read_encoded(&p, schema, read_options)?;
                        let verified = x.manifest.is_some() && x.warnings.is_empty();
                        Ok((x, verified, None))
                    }
                    LinkInput::Encoded {
                        name,
                        path,
                        schema_fingerprint,
                        manifest,
                        records,
                        verified,
                    } => {
                        let name = name.unwrap_or_else(|| role(i, n));
                        if schema_fingerprint != schema.fingerprint() {
                            return Err(Error::Mismatch(format!(
                                "{name} was encoded under schema {schema_fingerprint} but this run uses schema {}: link with the schema the agencies encoded with",
                                schema.fingerprint()
                            )));
                        }
                        let x = EncodedExtract {
                            path: path.unwrap_or_else(|| PathBuf::from(&name)),
                            manifest: manifest.map(|m| *m),
                            records,
                            warnings: Vec::new(),
                        };
                        Ok((x, verified, Some(name)))
                    }
                    LinkInput::ClearFile(p) => Err(Error::Invalid(format!(
                        "{} is a cleartext input among encoded ones",
                        p.display()
                    ))),
                }
            })
            .collect::<Result<_>>()?;
        let unverified = run.allow_unverified || extracts.iter().any(|(_, verified, _)| !*verified);
        let bare: Vec<EncodedExtract> = extracts
            .iter()
            .map(|(x, _, _)| EncodedExtract {
                path: x.path.clone(),
                manifest: x.manifest.clone(),
                records: Vec::new(),
                warnings: Vec::new(),
            })
            .collect();
        check_compatible(&bare, unverified, &mut warnings)?;
        let layout = crate::encode::Layout::new(schema);
        // Source names declared in manifests, with the extract's path.
        let mut named: Vec<(String, String)> = Vec::new();
        for (i, (x, verified, name)) in extracts.drain(..).enumerate() {
            warnings.extend(x.warnings.iter().cloned());
            let m = x.manifest.as_ref();
            match m.and_then(|m| m.pair_stats.clone()) {
                Some(stats) => pair_stats.push(stats),
                None => warnings.push(format!(
                    "{} brings no pair statistics (no manifest): u comes from the other extracts'",
                    x.path.display()
                )),
            }
            // A file by its manifest's record of it; an extract held in memory, never written,
            // by the size and BLAKE3 its file would have.
            let file = match (m, &name) {
                (Some(m), _) if !m.output.blake3.is_empty() => FileRecord {
                    path: x.path.display().to_string(),
                    ..m.output.clone()
                },
                (_, Some(name)) => {
                    let (bytes, blake3) = super::write::encoded_fingerprint(&x.records, &layout);
                    FileRecord {
                        path: format!("<in-memory extract {name}>"),
                        bytes,
                        blake3,
                    }
                }
                _ => FileRecord {
                    path: x.path.display().to_string(),
                    ..FileRecord::default()
                },
            };
            inputs.push(InputSummary::encoded(
                role(i, n),
                file,
                x.records.len() as u64,
                m,
                verified,
            ));
            // The agency's name for its extract (`encode --source`), else the caller's name or
            // the path.
            let declared = m.and_then(|m| m.source.clone());
            if let Some(d) = &declared {
                if let Some(other) = named.iter().find(|(s, _)| s == d) {
                    return Err(Error::Invalid(format!(
                        "{} and {} were both encoded with the source name '{d}': each extract linked must come from its own source (to find one agency's duplicates, deduplicate its extract)",
                        other.1,
                        x.path.display()
                    )));
                }
                named.push((d.clone(), x.path.display().to_string()));
            }
            let source = declared
                .or(name)
                .unwrap_or_else(|| x.path.display().to_string());
            sources.push((source, x.records));
        }
        if run.allow_unverified {
            warnings.push(
                "--allow-unverified: inputs were accepted without a matching manifest check"
                    .to_string(),
            );
        }
    }
    let read_took = started.elapsed();
    control.record("reading", read_took);
    let read_seconds = read_took.as_secs_f64();
    let read_cpu = crate::link::process_cpu_seconds()
        .zip(cpu_started)
        .map(|(b, a)| b - a);
    let layout = crate::encode::Layout::new(schema);
    let mut pool = Pool::new(sources, layout.n_blooms)?;
    if let Some(c) = clear_values {
        pool = pool.with_clear(c)?;
    }
    let model_source = match (&run.model, run.model_source) {
        (None, _) => "trained".to_string(),
        (Some(_), Some(s)) => s,
        (Some(_), None) => "given".to_string(),
    };
    let mut link_options = run.link;
    link_options.model = run.model;
    link_options.pair_stats = pair_stats;
    let mut linkage = link_pool(schema, pool, clear, link_options, control)?;
    linkage.timings.insert(
        0,
        crate::link::StageTime {
            stage: "reading".into(),
            seconds: read_seconds,
            cpu_seconds: read_cpu,
        },
    );
    record.finish();
    Ok(Linked {
        schema: schema.clone(),
        linkage,
        comparison: if clear {
            ComparisonMode::Clear
        } else {
            ComparisonMode::Encoded
        },
        inputs,
        warnings,
        run: record,
        model_source,
    })
}

/// What a run summary holds that only the caller of the linking engine knows.
struct SummaryParts {
    /// Encoded extracts or cleartext.
    pub comparison: ComparisonMode,
    /// The inputs, in order (the first is "left").
    pub inputs: Vec<InputSummary>,
    /// `trained`, or where the model came from.
    pub model_source: String,
    /// The links file written.
    pub links: FileRecord,
    /// The model file written, if any.
    pub model_file: Option<String>,
    /// Warnings about the inputs; those about the run (EM, skipped blocks) are added.
    pub warnings: Vec<String>,
    /// Who ran it, where, when (finished), under which agreement.
    pub run: RunRecord,
}

/// The run summary of `linkage` (what is written beside a links file).
fn build_summary(schema: &Schema, linkage: &Linkage, parts: SummaryParts) -> RunSummary {
    let mut warnings = parts.warnings;
    if !linkage.model.training.em_converged && linkage.trained {
        warnings.push(format!(
            "EM did not converge in some session ({} iterations in all, at most {} each); the model may be poor",
            linkage.model.training.em_iterations, linkage.model.training.em_max_iterations
        ));
    }
    if schema.link.competition && linkage.model.competition.is_none() && !linkage.pool.is_dedupe() {
        warnings.push(COMPETITION_NOT_IN_MODEL.to_string());
    }
    if !linkage.blocking.skipped.is_empty() {
        warnings.push(format!(
            "{} blocks larger than max_block_size ({}) were skipped; their pairs were not compared unless another rule formed them",
            linkage.blocking.skipped.len(),
            schema.link.max_block_size
        ));
    }
    let (matches, reviews) = linkage.band_counts();
    RunSummary {
        format: SUMMARY_FORMAT.into(),
        format_version: SUMMARY_FORMAT_VERSION,
        library_version: crate::VERSION.into(),
        mode: if linkage.pool.is_dedupe() {
            "dedupe"
        } else {
            "link"
        }
        .into(),
        comparison: parts.comparison,
        schema_fingerprint: schema.fingerprint(),
        inputs: parts.inputs,
        blocking: BlockingSummary {
            max_block_size: schema.link.max_block_size as u64,
            rules: linkage.blocking.rules.clone(),
            candidate_pairs: linkage.blocking.candidate_pairs,
            skipped_blocks: linkage.blocking.skipped.len() as u64,
            largest_skipped: largest_skipped(linkage),
        },
        model_source: parts.model_source,
        model: linkage.model.clone(),
        thresholds: Thresholds {
            match_: linkage.threshold,
            review: linkage.review_threshold,
        },
        resolution: linkage.resolution.clone(),
        counts: BandCounts {
            links: matches + reviews,
            match_: matches,
            review: reviews,
        },
        outputs: Outputs {
            links: parts.links,
            model: parts.model_file,
        },
        timings: linkage.timings.clone(),
        warnings,
        run: parts.run,
    }
}

/// Writes the summary beside `output` under its temporary name; the caller commits it.
fn write_summary_uncommitted(summary: &RunSummary, output: &Path) -> Result<AtomicFile> {
    let mut json = serde_json::to_string_pretty(summary).unwrap_or_default();
    json.push('\n');
    let mut f = AtomicFile::create(&summary_path(output))?;
    f.write_all(json.as_bytes())?;
    Ok(f)
}

fn largest_skipped(linkage: &Linkage) -> Vec<crate::link::block::SkippedBlock> {
    let mut all = linkage.blocking.skipped.clone();
    all.sort_by(|a, b| {
        b.sizes
            .iter()
            .sum::<u64>()
            .cmp(&a.sizes.iter().sum::<u64>())
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| b.sizes.cmp(&a.sizes))
    });
    all.truncate(MAX_LISTED_SKIPPED_BLOCKS);
    all
}

/// Refuses extracts that disagree on format version, schema fingerprint, encoding version or key
/// check value. Inputs without a manifest (allowed unverified) cannot be checked: a warning says so.
fn check_compatible(
    extracts: &[EncodedExtract],
    allow_unverified: bool,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let with: Vec<&EncodedExtract> = extracts.iter().filter(|x| x.manifest.is_some()).collect();
    for x in extracts.iter().filter(|x| x.manifest.is_none()) {
        if allow_unverified {
            warnings.push(format!(
                "{} has no usable manifest: its schema, format and key check value could not be confirmed",
                x.path.display()
            ));
        }
    }
    let Some(first) = with.first() else {
        return Ok(());
    };
    let Some(fm) = first.manifest.as_ref() else {
        return Ok(());
    };
    for other in with.iter().skip(1) {
        let Some(om) = other.manifest.as_ref() else {
            continue;
        };
        let (a, b) = (first.path.display(), other.path.display());
        if fm.format_version != om.format_version {
            return Err(Error::Mismatch(format!(
                "{a} is encoded-extract format version {} but {b} is version {}: re-encode both with the same pseudolink version",
                fm.format_version, om.format_version
            )));
        }
        if fm.schema_fingerprint != om.schema_fingerprint {
            return Err(Error::Mismatch(format!(
                "{a} was encoded under schema {} but {b} under schema {}: both agencies must encode with the same schema file",
                fm.schema_fingerprint, om.schema_fingerprint
            )));
        }
        if fm.encoding_version != om.encoding_version {
            return Err(Error::Mismatch(format!(
                "{a} uses encoding version {} but {b} uses {}: re-encode both with the same pseudolink version",
                fm.encoding_version, om.encoding_version
            )));
        }
        if fm.key_check_value != om.key_check_value {
            return Err(Error::Mismatch(format!(
                "{a} was encoded with key check value {} but {b} with {}: both agencies must encode with the same secret",
                fm.key_check_value, om.key_check_value
            )));
        }
    }
    Ok(())
}

/// Commits `files` in order; if one fails, removes those already committed, so the outputs appear
/// all together or not at all.
fn commit_all(files: impl IntoIterator<Item = AtomicFile>) -> Result<()> {
    let mut done: Vec<PathBuf> = Vec::new();
    for f in files {
        let path = f.path().to_path_buf();
        if let Err(e) = f.commit() {
            for p in &done {
                let _ = std::fs::remove_file(p);
            }
            return Err(e);
        }
        done.push(path);
    }
    Ok(())
}

/// Writes the links file under its temporary name; the caller commits it.
fn write_links_uncommitted(linkage: &Linkage, path: &Path) -> Result<(AtomicFile, FileRecord)> {
    let pool = &linkage.pool;
    let multi = pool.source_names().len() > 2;
    let mut f = AtomicFile::create(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut bytes = 0u64;
    let mut buf = Vec::with_capacity(1 << 16);
    buf.extend_from_slice(b"left_id,right_id,match_weight,match_probability,band,cluster_id");
    if multi {
        buf.extend_from_slice(b",left_source,right_source");
    }
    buf.push(b'\n');
    for l in &linkage.links {
        write_csv_cell(&pool.record(l.left).id, &mut buf);
        buf.push(b',');
        write_csv_cell(&pool.record(l.right).id, &mut buf);
        buf.extend_from_slice(
            format!(
                ",{:.6},{},{},",
                l.weight,
                round_probability(l.probability),
                l.band.as_str()
            )
            .as_bytes(),
        );
        if l.cluster > 0 {
            buf.extend_from_slice(l.cluster.to_string().as_bytes());
        }
        if multi {
            let name = |i: u32| {
                pool.source_names()
                    .get(usize::from(pool.source(i)))
                    .cloned()
                    .unwrap_or_default()
            };
            buf.push(b',');
            write_csv_cell(&name(l.left), &mut buf);
            buf.push(b',');
            write_csv_cell(&name(l.right), &mut buf);
        }
        buf.push(b'\n');
        if buf.len() >= 1 << 16 {
            hasher.update(&buf);
            bytes += buf.len() as u64;
            f.write_all(&buf)?;
            buf.clear();
        }
    }
    hasher.update(&buf);
    bytes += buf.len() as u64;
    f.write_all(&buf)?;
    let record = FileRecord {
        path: path.display().to_string(),
        bytes,
        blake3: hasher.finalize().to_hex().to_string(),
    };
    Ok((f, record))
}

/// A probability with 12 significant decimals, so the file is stable and readable.
pub(crate) fn round_probability(p: f64) -> String {
    let s = format!("{p:.12}");
    let t = s.trim_end_matches('0');
    let t = t.strip_suffix('.').unwrap_or(t);
    if t.is_empty() {
        "0".into()
    } else {
        t.to_string()
    }
}
