//! Encoding an in-memory table (the Python binding's DataFrames, Arrow tables and lists of dicts).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use crate::encode::Encoder;
use crate::error::{Error, Result};
use crate::io::atomic::WRITE_BACK_STEP;
use crate::io::manifest::{FileRecord, Manifest, RunRecord};
use crate::io::raw::RawLayout;

use super::encode::{EncodeFileOptions, EncodeOptions, Progress};
use super::ids::IdCheck;
use super::rows::{
    build_manifest, encode_parallel, input_record, write_parts, Buffers, Check, Encoded, IdHashes,
    OutputFiles, Read, Rejects, RowAccess, Sink, Tally, CHUNK_ROWS, FILE_HINT, MEMORY_HINT,
};

/// One batch of an in-memory table: equal-length columns of text cells.
///
/// Bindings implement it over their own column storage (Arrow arrays, lists of strings) so the
/// core reads the cells where they are.
pub trait TextColumns: Sync {
    /// Number of rows.
    fn rows(&self) -> usize;
    /// The cell at `column`, `row`; `None` for a null (treated as empty).
    fn cell(&self, column: usize, row: usize) -> Option<&str>;
}

/// Encodes an in-memory table given as column `names` and batches of equal-width columns.
///
/// Columns are matched to the schema by name as in a CSV header; a null cell is an empty value.
/// Rows are numbered as lines of the equivalent CSV file (the first row is line 2). `input_name`
/// is recorded as the manifest's input path (there is no file, so its size and hash are empty).
pub fn encode_table<B: TextColumns>(
    encoder: &Encoder,
    names: &[String],
    batches: &[B],
    input_name: &str,
    options: &EncodeOptions<'_>,
) -> Result<Encoded> {
    let mut run = RunRecord::start(options.agreement.clone(), options.purpose.clone());
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    let read = {
        let rejects = if options.keep_rejected {
            Rejects::Keep(&mut rejected)
        } else {
            Rejects::Fail
        };
        let table = Table {
            names,
            batches,
            input_name,
        };
        let sink = &mut Sink::Memory(&mut records);
        table.read(
            encoder,
            sink,
            rejects,
            MEMORY_HINT,
            options.progress,
            options.cancel,
        )?
    };
    run.finish();
    let manifest = build_manifest(
        encoder,
        run,
        read,
        FileRecord::default(),
        None,
        options.cancel,
    )?;
    Ok(Encoded {
        records,
        rejected,
        manifest,
    })
}

/// Encodes an in-memory table (as [`encode_table`] reads it) into `output` and
/// `output.manifest.json`, rows written while the next ones are encoded, as
/// [`encode_file`](super::encode_file) does for a CSV file: the same bytes and manifest as
/// [`encode_table`] then [`write_encoded`](super::write_encoded), without keeping the records.
/// Rejected rows go to `options.rejects`, or the first one is an error. `options.id_memory` and
/// `options.temp_dir` are for CSV files and refused here (a table in memory has its ids checked
/// in memory). Nothing appears at `output`, its manifest or the rejects path unless the whole
/// run succeeds.
pub fn encode_table_file<B: TextColumns>(
    encoder: &Encoder,
    names: &[String],
    batches: &[B],
    input_name: &str,
    output: &Path,
    options: &EncodeFileOptions<'_>,
) -> Result<Manifest> {
    if options.id_memory.is_some() || options.temp_dir.is_some() {
        return Err(Error::Invalid(
            "the id check's memory budget and folder for temporary files apply to CSV files: the ids of a table in memory are checked in memory".into(),
        ));
    }
    let mut run = RunRecord::start(options.agreement.clone(), options.purpose.clone());
    let mut files = OutputFiles::create(encoder.layout(), output, options.rejects.as_deref())?;
    let read = {
        let (mut sink, rejects) = files.sinks();
        let table = Table {
            names,
            batches,
            input_name,
        };
        table.read(
            encoder,
            &mut sink,
            rejects,
            FILE_HINT,
            options.progress,
            options.cancel,
        )?
    };
    run.finish();
    files.finish(
        encoder,
        run,
        read,
        output,
        options.rejects.as_deref(),
        options.cancel,
    )
}

/// What is read: the table and the name it goes by in the manifest.
struct Table<'t, B> {
    names: &'t [String],
    batches: &'t [B],
    input_name: &'t str,
}

impl<B: TextColumns> Table<'_, B> {
    /// Checks and encodes every row in order, sending accepted rows to `sink`; to a file, a
    /// writer thread hashes and writes each chunk while the next one is encoded.
    fn read(
        &self,
        encoder: &Encoder,
        sink: &mut Sink<'_>,
        rejects: Rejects<'_>,
        keep_hint: &'static str,
        progress: Option<&(dyn Fn(Progress) + Sync)>,
        cancel: Option<&AtomicBool>,
    ) -> Result<Read> {
        let raw = RawLayout::from_names(encoder.schema(), self.names.to_vec(), None)?;
        let mut tally = Tally::new(encoder.schema().fields.len());
        let mut check = Check {
            raw: &raw,
            input: None,
            rejects,
            keep_hint,
            ids: IdCheck::unbounded(),
        };
        let to_file = matches!(sink, Sink::File { .. });
        let (file_sink, mut records) = match sink {
            Sink::File { out, hash, bytes } => (Some((out, hash, bytes)), None),
            Sink::Memory(records) => (None, Some(&mut **records)),
        };
        let buffers = Buffers::default();
        std::thread::scope(|scope| -> Result<()> {
            let buffers = &buffers;
            let (wtx, wrx) = mpsc::sync_channel::<Vec<Vec<u8>>>(2);
            let writer = file_sink.map(|(out, hash, bytes)| {
                scope.spawn(move || write_parts(wrx, out, hash, bytes, buffers, WRITE_BACK_STEP))
            });
            let mut line = 1u64;
            let mut id_hashes = IdHashes::default();
            'batches: for batch in self.batches {
                let n = batch.rows();
                let mut start = 0;
                while start < n {
                    if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                        return Err(Error::Cancelled);
                    }
                    let end = (start + CHUNK_ROWS).min(n);
                    let mut accepted = Vec::with_capacity(end - start);
                    let ids: Vec<&str> = (start..end)
                        .map(|row| batch.cell(raw.id, row).unwrap_or("").trim())
                        .collect();
                    let hashes = id_hashes.of(&ids);
                    for ((row, id), hash) in (start..end).zip(&ids).zip(hashes) {
                        line += 1;
                        let cell = |c: usize| batch.cell(c, row).map(str::as_bytes);
                        let verdict = raw.check_cells(self.names.len(), cell, line);
                        let raw_id = || batch.cell(raw.id, row).unwrap_or("").to_string();
                        if tally.admit(&mut check, verdict, (id, *hash), line, raw_id)? {
                            accepted.push(row);
                        }
                    }
                    let rows = TableRows { raw: &raw, batch };
                    let limits = tally.sampler.limits();
                    let parts =
                        encode_parallel(encoder, &rows, &accepted, to_file, buffers, limits);
                    let csv = tally.take_parts(parts, records.as_deref_mut());
                    if to_file && wtx.send(csv).is_err() {
                        break 'batches; // the writer failed: its error is returned below
                    }
                    tally.counts.encoded += accepted.len() as u64;
                    if let Some(p) = progress {
                        p(Progress {
                            bytes_read: 0,
                            rows: tally.counts.rows_read,
                            ids_on_disk: false,
                            id_scan_bytes: 0,
                        });
                    }
                    start = end;
                }
            }
            drop(wtx);
            match writer.map(|w| w.join()) {
                Some(Ok(result)) => result,
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => Ok(()),
            }
        })?;
        drop(check);
        Ok(Read {
            tally,
            raw,
            input: input_record(encoder, self.input_name, 0, String::new()),
        })
    }
}

struct TableRows<'a, B> {
    raw: &'a RawLayout,
    batch: &'a B,
}

impl<B: TextColumns> RowAccess for TableRows<'_, B> {
    type Row = usize;
    fn id<'r>(&'r self, row: &'r usize) -> &'r str {
        self.batch.cell(self.raw.id, *row).unwrap_or("").trim()
    }
    fn field<'r>(&'r self, row: &'r usize, i: usize) -> Option<&'r str> {
        self.raw
            .fields
            .get(i)
            .copied()
            .flatten()
            .and_then(|c| self.batch.cell(c, *row))
    }
}
