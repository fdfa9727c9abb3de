//! An encoding run as a one-way pipeline: a **source** (a CSV file, or a table in memory) read in
//! chunks of rows; the **checks** of each row in order (the duplicate record id check handed the
//! source's second reading when it may go to disk); the **encoder**, in parallel; a **sink** (the
//! extract's file, written by a writer thread while the next chunk is encoded, or records in
//! memory). The output is the same bytes whatever the number of threads, and
//! `rows_read == encoded + rejected`.
//!
//! Rejected rows go to the rejects file (or are kept in memory) with their line and reason;
//! otherwise the first bad row stops the run. Nothing appears at a run's output paths unless the
//! whole run succeeds. [`write_encoded`](super::write_encoded) writes an in-memory result as
//! exactly the bytes [`encode_file`] would have written for the same input.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use crate::encode::pair_stats::Sampler;
use crate::encode::{EncodedRecord, Encoder};
use crate::error::{Error, Location, Result};
use crate::io::atomic::WRITE_BACK_STEP;
use crate::io::cells::InputKind;
use crate::io::encoded::ExtractFormat;
use crate::io::encoded_parquet::write_chunks;
use crate::io::manifest::{
    FileRecord, InputRecord, Manifest, RunRecord, FORMAT_NAME, FORMAT_VERSION,
};
use crate::io::raw::RawLayout;

use super::cell_source::CellSource;
use super::check::{Checks, Stop, Tally};
use super::encoder::encode_parallel;
use super::ids::{IdCheck, DEFAULT_ID_MEMORY};
use super::options::{EncodeOptions, Rejects};
use super::rows::{Chunks, Rows};
use super::sink::{write_parts, Buffers, Encoded, OutputFiles, RejectSink, Sink};
use super::source::{CsvSource, InputFormat, Source, TableSource, TextColumns};
use crate::control::{Progress, RunControl};

/// The stage's name in [`Timings`](super::Timings).
const ENCODING: &str = "encoding";
/// The stage's name in [`Timings`](super::Timings).
const PAIR_STATS: &str = "pair statistics";
/// The stage's name in [`Timings`](super::Timings).
const WRITING: &str = "writing";

/// Encodes the raw extract at `input` into `output` (and `output.manifest.json`). Returns the
/// manifest.
///
/// The input is CSV text, an Excel workbook (`.xlsx`: the sheet of `options.sheet`, else the
/// first) or a Parquet file, told by its name ([`InputKind::of_file`]); a workbook or
/// Parquet file is read as a CSV export of it would be (see [`crate::io::cells`]), its record ids
/// checked in memory (`options.id_memory` and `options.temp_dir` are for CSV files).
///
/// Rejected rows go to the file of `options.rejects` ([`Rejects::File`]), or the first one is an
/// error ([`Rejects::Fail`]); [`Rejects::Keep`] is refused. Nothing appears at `output`, its
/// manifest or the rejects path unless the whole run succeeds.
pub fn encode_file(
    encoder: &Encoder,
    input: &Path,
    output: &Path,
    options: &EncodeOptions,
    control: &RunControl<'_>,
) -> Result<Manifest> {
    let rejects = file_rejects(options)?;
    let temp_dir = match &options.temp_dir {
        Some(d) if d.is_dir() => d.clone(),
        Some(d) => {
            return Err(Error::Invalid(format!(
                "the folder for temporary files {} does not exist or is not a folder",
                d.display()
            )))
        }
        None => match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        },
    };
    let kind = InputKind::of_file(input)?;
    if kind != InputKind::Csv {
        let source = cell_source(encoder, input, kind, options)?;
        // A workbook is held in memory whole, and the ids of a file of cells are checked there.
        let ids = IdCheck::unbounded();
        return to_file(encoder, &source, ids, output, rejects, options, control);
    }
    let format = input_format(options, input)?;
    let source = CsvSource::new(encoder, input, &format);
    let budget = options.id_memory.unwrap_or(DEFAULT_ID_MEMORY);
    let ids = IdCheck::bounded(budget, temp_dir, &source, *control);
    to_file(encoder, &source, ids, output, rejects, options, control)
}

/// Encodes the raw extract at `input` (CSV, `.xlsx` or Parquet, as for [`encode_file`]) into memory: the same checks, encodings and manifest as
/// [`encode_file`], with the manifest's `output` left empty until [`write_encoded`](super::write_encoded).
/// Rejected rows are kept ([`Rejects::Keep`]) or the first one is an error ([`Rejects::Fail`]);
/// a rejects file, and the id check's options (the ids are checked in memory), are refused.
pub fn encode_csv(
    encoder: &Encoder,
    input: &Path,
    options: &EncodeOptions,
    control: &RunControl<'_>,
) -> Result<Encoded> {
    if options.id_memory.is_some() || options.temp_dir.is_some() {
        return Err(Error::Invalid(
            "the id check's memory budget and folder for temporary files apply to CSV files encoded to a file: the ids of an extract encoded into memory are checked in memory".into(),
        ));
    }
    let kind = InputKind::of_file(input)?;
    if kind != InputKind::Csv {
        let source = cell_source(encoder, input, kind, options)?;
        return to_memory(encoder, &source, options, control);
    }
    let format = input_format(options, input)?;
    to_memory(
        encoder,
        &CsvSource::new(encoder, input, &format),
        options,
        control,
    )
}

/// Encodes an in-memory table given as column `names` and batches of equal-width columns.
///
/// Columns are matched to the schema by name as in a CSV header; a null cell is an empty value.
/// Rows are numbered as lines of the equivalent CSV file (the first row is line 2). `input_name`
/// is recorded as the manifest's input path (there is no file, so its size and hash are empty).
/// Options as for [`encode_csv`].
pub fn encode_table<B: TextColumns>(
    encoder: &Encoder,
    names: &[String],
    batches: &[B],
    input_name: &str,
    options: &EncodeOptions,
    control: &RunControl<'_>,
) -> Result<Encoded> {
    refuse_id_options_for_tables(options)?;
    refuse_csv_options_for_tables(options)?;
    let source = TableSource {
        encoder,
        names,
        batches,
        input_name,
        columns: &options.columns,
    };
    to_memory(encoder, &source, options, control)
}

/// Encodes an in-memory table (as [`encode_table`] reads it) into `output` and
/// `output.manifest.json`, rows written while the next ones are encoded, as [`encode_file`]
/// does for a CSV file: the same bytes and manifest as [`encode_table`] then
/// [`write_encoded`](super::write_encoded), without keeping the records. Rejected rows as for
/// [`encode_file`]. `options.id_memory` and `options.temp_dir` are for CSV files and refused here
/// (a table in memory has its ids checked in memory). Nothing appears at `output`, its manifest or
/// the rejects path unless the whole run succeeds.
pub fn encode_table_file<B: TextColumns>(
    encoder: &Encoder,
    names: &[String],
    batches: &[B],
    input_name: &str,
    output: &Path,
    options: &EncodeOptions,
    control: &RunControl<'_>,
) -> Result<Manifest> {
    refuse_id_options_for_tables(options)?;
    let rejects = file_rejects(options)?;
    refuse_csv_options_for_tables(options)?;
    let source = TableSource {
        encoder,
        names,
        batches,
        input_name,
        columns: &options.columns,
    };
    let ids = IdCheck::unbounded();
    to_file(encoder, &source, ids, output, rejects, options, control)
}

fn refuse_id_options_for_tables(options: &EncodeOptions) -> Result<()> {
    if options.id_memory.is_some() || options.temp_dir.is_some() {
        return Err(Error::Invalid(
            "the id check's memory budget and folder for temporary files apply to CSV files: the ids of a table in memory are checked in memory".into(),
        ));
    }
    Ok(())
}

/// The rejects file of a run to a file.
fn file_rejects(options: &EncodeOptions) -> Result<Option<&Path>> {
    match &options.rejects {
        Rejects::Fail => Ok(None),
        Rejects::File(p) => Ok(Some(p)),
        Rejects::Keep => Err(Error::Invalid(
            "rejected rows are kept in memory only by runs into memory: give a rejects file instead".into(),
        )),
    }
}

/// Runs `source` to the file `output` (and its manifest, and `rejects`).
fn to_file<S: Source>(
    encoder: &Encoder,
    source: &S,
    ids: IdCheck<'_>,
    output: &Path,
    rejects: Option<&Path>,
    options: &EncodeOptions,
    control: &RunControl<'_>,
) -> Result<Manifest> {
    if options.keep_sample {
        return Err(Error::Invalid(
            "the pair statistics' sample is kept only by runs into memory: a run to a file counts it into the manifest".into(),
        ));
    }
    let mut files = OutputFiles::create(encoder.layout(), output, rejects)?;
    let (manifest, _) = {
        let (sink, reject_sink) = files.sinks();
        run_to_manifest(encoder, source, ids, sink, reject_sink, options, control)?
    };
    control.time(WRITING, || files.commit(manifest, output, rejects))
}

/// Runs `source` through the stages into `sink` and `reject_sink`, timed, and builds the
/// manifest (its output record is filled in when the files are committed).
fn run_to_manifest<S: Source>(
    encoder: &Encoder,
    source: &S,
    ids: IdCheck<'_>,
    sink: Sink<'_>,
    reject_sink: RejectSink<'_>,
    options: &EncodeOptions,
    control: &RunControl<'_>,
) -> Result<(Manifest, Option<Sampler>)> {
    if let Some(name) = &options.source {
        check_source_name(name)?;
    }
    let mut run = RunRecord::start(options.agreement.clone(), options.purpose.clone());
    let mut read = control.time(ENCODING, || {
        run_pipeline(encoder, source, ids, sink, reject_sink, control)
    })?;
    run.finish();
    let sample = options
        .keep_sample
        .then(|| std::mem::replace(&mut read.tally.sampler, Sampler::new()));
    let mut manifest = control.time(PAIR_STATS, || {
        build_manifest(encoder, run, read, sample.is_none(), control)
    })?;
    manifest.source = options.source.clone();
    manifest.input.column_map = options.columns.clone();
    Ok((manifest, sample))
}

/// Refuses a source name that is empty, longer than 64 characters or holds control characters.
fn check_source_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.trim() != name || name.chars().count() > 64 {
        return Err(Error::Invalid(format!(
            "source name '{}' must be 1 to 64 characters without spaces around it",
            name.escape_default()
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "source name '{}' holds a control character",
            name.escape_default()
        )));
    }
    Ok(())
}

/// Runs `source` into memory.
fn to_memory<S: Source>(
    encoder: &Encoder,
    source: &S,
    options: &EncodeOptions,
    control: &RunControl<'_>,
) -> Result<Encoded> {
    let keep = match &options.rejects {
        Rejects::Fail => false,
        Rejects::Keep => true,
        Rejects::File(_) => {
            return Err(Error::Invalid(
                "a rejects file is for runs to a file: keep rejected rows in memory instead, and write them with the extract (write_encoded)".into(),
            ))
        }
    };
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    let (manifest, sample) = {
        let reject_sink = if keep {
            RejectSink::Keep(&mut rejected)
        } else {
            RejectSink::Fail
        };
        let sink = Sink::Memory(&mut records);
        let ids = IdCheck::unbounded();
        run_to_manifest(encoder, source, ids, sink, reject_sink, options, control)?
    };
    Ok(Encoded {
        records,
        rejected,
        manifest,
        sample,
    })
}

/// What reading an input gave: the totals, the column mapping and the input's record.
struct Read {
    tally: Tally,
    raw: RawLayout,
    input: InputRecord,
}

/// Reads `source`, checks and encodes its rows, sending accepted rows to `sink` and rejected
/// ones to `rejects`; to a file, a writer thread hashes and writes each chunk while the next one
/// is encoded.
fn run_pipeline<S: Source>(
    encoder: &Encoder,
    source: &S,
    ids: IdCheck<'_>,
    sink: Sink<'_>,
    rejects: RejectSink<'_>,
    control: &RunControl<'_>,
) -> Result<Read> {
    let (reader, raw) = source.open()?;
    let remedy = sink.remedy();
    let fields = encoder.schema().fields.len();
    let mut checks = Checks::new(&raw, source.path(), rejects, ids, fields);
    let (file_sink, records) = match sink {
        Sink::File {
            out,
            hash,
            bytes,
            format,
        } => (Some((out, hash, bytes, format)), None),
        Sink::Memory(records) => (None, Some(records)),
    };
    let buffers = Buffers::default();
    let end = std::thread::scope(|scope| -> Result<(String, u64)> {
        let buffers = &buffers;
        let (wtx, wrx) = mpsc::sync_channel::<Vec<Vec<u8>>>(2);
        let (ptx, prx) = mpsc::sync_channel::<Vec<EncodedRecord>>(2);
        let layout = encoder.layout();
        let writer = file_sink.map(|(out, hash, bytes, format)| match format {
            ExtractFormat::Csv => (
                ToFile::Csv(&wtx),
                scope.spawn(move || write_parts(wrx, out, hash, bytes, buffers, WRITE_BACK_STEP)),
            ),
            ExtractFormat::Parquet => (
                ToFile::Parquet(&ptx),
                scope.spawn(move || write_chunks(prx, layout, out, hash, bytes)),
            ),
        });
        let (to_file, writer) = writer.unzip();
        let mut stages = Stages {
            encoder,
            checks: &mut checks,
            records,
            to_file,
            buffers,
            accepted: Vec::new(),
            bytes_read: &|| source.bytes_read(),
            control,
        };
        let end = source.read(reader, &raw, &mut stages);
        drop(stages);
        drop(wtx);
        drop(ptx);
        let end = end.map_err(|stop| stop.into_error(remedy))?;
        if let Some(writer) = writer {
            match writer.join() {
                Ok(result) => result?,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        end.ok_or_else(|| {
            Error::input(
                Location::at(source.path(), 0),
                "reading stopped unexpectedly",
            )
        })
    })?;
    checks.ids.check_input(&end.0, end.1)?;
    let tally = checks.tally;
    let mut input = input_record(encoder, &source.name(), end.1, end.0);
    let (encoding, delimiter) = source.text();
    input.text_encoding = encoding.map(|e| e.as_str().to_string());
    input.delimiter = delimiter.map(crate::io::text::delimiter_name);
    let (kind, sheet) = source.cells();
    input.format = kind.map(|k| k.as_str().to_string());
    input.sheet = sheet;
    Ok(Read { tally, raw, input })
}

/// The writer thread of a run to a file: CSV rows, or records for a Parquet extract.
enum ToFile<'s> {
    /// CSV rows, as parts of bytes.
    Csv(&'s mpsc::SyncSender<Vec<Vec<u8>>>),
    /// Records, a chunk at a time.
    Parquet(&'s mpsc::SyncSender<Vec<EncodedRecord>>),
}

/// The stages after the source, as it gives them its chunks: the checks, the encoder, the sink.
struct Stages<'s, 'a> {
    encoder: &'s Encoder,
    checks: &'s mut Checks<'a>,
    /// The records, when they are kept in memory.
    records: Option<&'s mut Vec<EncodedRecord>>,
    /// The writer thread, when the run writes a file.
    to_file: Option<ToFile<'s>>,
    buffers: &'s Buffers,
    /// Indices of the accepted rows of the chunk, kept from chunk to chunk.
    accepted: Vec<usize>,
    bytes_read: &'s dyn Fn() -> u64,
    control: &'s RunControl<'s>,
}

impl Chunks for Stages<'_, '_> {
    type Error = Stop;

    fn take<R: Rows>(&mut self, rows: &R) -> std::result::Result<bool, Stop> {
        if self.control.cancelled() {
            return Err(Error::Cancelled.into());
        }
        self.accepted.clear();
        self.checks.admit_chunk(rows, &mut self.accepted)?;
        let tally = &mut self.checks.tally;
        let limits = tally.sampler.limits();
        let to_csv = matches!(self.to_file, Some(ToFile::Csv(_)));
        let parts = encode_parallel(
            self.encoder,
            rows,
            &self.accepted,
            to_csv,
            self.buffers,
            limits,
        );
        let mut chunk = Vec::new();
        let kept = match self.to_file {
            Some(ToFile::Parquet(_)) => Some(&mut chunk),
            _ => self.records.as_deref_mut(),
        };
        let csv = tally.take_parts(parts, kept);
        let sent = match self.to_file {
            Some(ToFile::Csv(writer)) => writer.send(csv).is_ok(),
            Some(ToFile::Parquet(writer)) => writer.send(chunk).is_ok(),
            None => true,
        };
        if !sent {
            return Ok(false); // the writer failed: its error is returned
        }
        tally.counts.encoded += self.accepted.len() as u64;
        self.control.report(Progress::encoding(
            (self.bytes_read)(),
            tally.counts.rows_read,
            self.checks.ids.on_disk(),
            0,
        ));
        Ok(true)
    }
}

/// The manifest of a run that read `read`; its pair statistics counted when `count_pairs`.
fn build_manifest(
    encoder: &Encoder,
    run: RunRecord,
    read: Read,
    count_pairs: bool,
    control: &RunControl<'_>,
) -> Result<Manifest> {
    let schema = encoder.schema();
    let Read { tally, raw, input } = read;
    let pair_stats = if count_pairs {
        let stats = tally
            .sampler
            .finish(schema, encoder.features(), control.cancel_flag())
            .ok_or(Error::Cancelled)?;
        Some(stats)
    } else {
        None
    };
    debug_assert_eq!(
        tally.counts.rows_read,
        tally.counts.encoded + tally.counts.rejected
    );
    Ok(Manifest {
        format: FORMAT_NAME.to_string(),
        format_version: FORMAT_VERSION,
        encoding_version: crate::secret::ENCODING_VERSION,
        library_version: crate::VERSION.to_string(),
        source: None,
        schema_fingerprint: schema.fingerprint(),
        key_check_value: encoder.check_value().clone(),
        columns: encoder
            .layout()
            .header()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        input,
        output: FileRecord::default(),
        rejects: None,
        counts: tally.counts,
        rejected_by_reason: tally.rejected_by_reason,
        missing: schema
            .fields
            .iter()
            .zip(tally.missing)
            .map(|(f, m)| {
                (
                    f.name.clone(),
                    m.into_iter()
                        .map(|(r, n)| (r.as_str().to_string(), n))
                        .collect(),
                )
            })
            .collect(),
        ignored_columns: raw.ignored,
        absent_columns: raw.absent,
        run: run.keyed(&encoder.audit_hasher()),
        pair_stats,
    })
}

/// The record of a cleartext input for a manifest: its size, keyed hash and keyed name.
fn input_record(encoder: &Encoder, name: &str, bytes: u64, blake3: String) -> InputRecord {
    let mut h = encoder.audit_hasher();
    h.update(b"pseudolink input name ");
    h.update(name.as_bytes());
    InputRecord {
        bytes,
        blake3,
        path_keyed: h.finalize().to_hex()[..32].to_string(),
        text_encoding: None,
        delimiter: None,
        column_map: Default::default(),
        format: None,
        sheet: None,
    }
}

/// The source of the file of cells at `input`, of `kind`, read as `options` say (a text encoding
/// and a delimiter are refused: its cells are text already).
fn cell_source<'a>(
    encoder: &'a Encoder,
    input: &'a Path,
    kind: InputKind,
    options: &'a EncodeOptions,
) -> Result<CellSource<'a>> {
    if options.encoding != crate::io::text::TextEncoding::Utf8 || options.delimiter.is_some() {
        let what = match kind {
            InputKind::Xlsx => "an Excel workbook",
            _ => "a Parquet file",
        };
        return Err(Error::Invalid(format!(
            "a text encoding and a delimiter apply to CSV text: {} is {what}, whose cells are text already",
            input.display()
        )));
    }
    Ok(CellSource::new(
        encoder,
        input,
        kind,
        options.sheet.as_deref(),
        &options.columns,
    ))
}

/// How to read the CSV input at `input`, from `options`.
fn input_format(options: &EncodeOptions, input: &Path) -> Result<InputFormat> {
    if options.sheet.is_some() {
        return Err(Error::Invalid(format!(
            "a sheet applies to Excel workbooks: {} is CSV text",
            input.display()
        )));
    }
    let delimiter = options.delimiter.unwrap_or(b',');
    if !crate::io::text::DELIMITERS
        .iter()
        .any(|(d, _)| *d == delimiter)
    {
        return Err(Error::Invalid(format!(
            "unknown delimiter '{}': expected one of ',', ';', 'tab' or '|'",
            char::from(delimiter).escape_default()
        )));
    }
    Ok(InputFormat {
        encoding: options.encoding,
        delimiter,
        columns: options.columns.clone(),
    })
}

/// Refuses the options of CSV files (encoding, delimiter) for an in-memory table, whose cells
/// are text already.
fn refuse_csv_options_for_tables(options: &EncodeOptions) -> Result<()> {
    if options.encoding != crate::io::text::TextEncoding::Utf8
        || options.delimiter.is_some()
        || options.sheet.is_some()
    {
        return Err(Error::Invalid(
            "a text encoding and a delimiter apply to CSV files, a sheet to Excel workbooks: the cells of a table are text already".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::rows::CHUNK_ROWS;
    use crate::{Schema, Secret};
    use std::path::PathBuf;
    use std::sync::atomic::AtomicBool;
    use std::sync::mpsc;

    /// Runs `f` on another thread and fails if it takes more than `secs` (a hang would otherwise
    /// hang the test suite).
    fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(secs))
            .expect("finished in time: no deadlock")
    }

    fn big_file(dir: &Path, first_row: &str) -> PathBuf {
        let mut text = String::from("record_id,first_name\n");
        text.push_str(first_row);
        for i in 0..(CHUNK_ROWS * 4) {
            text.push_str(&format!("r{i},Anna\n"));
        }
        let p = dir.join("in.csv");
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Found by the bad-input corpus (1,000,000 empty rows, no rejects file): when a bad row
    /// stopped the run while the reader thread was blocked on a full channel, the run never
    /// ended. The same held for a cancel (Ctrl-C).
    #[test]
    fn a_bad_row_in_a_big_file_stops_the_run_instead_of_deadlocking() {
        let dir = tempfile::tempdir().unwrap();
        let input = big_file(dir.path(), ",no id\n");
        let out = dir.path().join("out.csv");
        let e = within(120, move || {
            let encoder = Encoder::new(&Schema::example(), &Secret::generate().unwrap());
            encode_file(
                &encoder,
                &input,
                &out,
                &EncodeOptions::default(),
                &RunControl::default(),
            )
        })
        .unwrap_err();
        assert!(e.to_string().contains("the record id is empty"), "{e}");
        assert!(!dir.path().join("out.csv").exists());
    }

    #[test]
    fn a_cancelled_run_over_a_big_file_ends_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let input = big_file(dir.path(), "");
        let out = dir.path().join("out.csv");
        let d = dir.path().to_path_buf();
        let e = within(120, move || {
            static CANCEL: AtomicBool = AtomicBool::new(true);
            let encoder = Encoder::new(&Schema::example(), &Secret::generate().unwrap());
            let control = RunControl::new().cancel(&CANCEL);
            encode_file(&encoder, &input, &out, &EncodeOptions::default(), &control)
        })
        .unwrap_err();
        assert!(matches!(e, Error::Cancelled), "{e:?}");
        let left: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("in.csv")]);
    }
}
