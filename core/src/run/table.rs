//! Encoding an in-memory table (the Python binding's DataFrames, Arrow tables and lists of dicts).

use std::sync::atomic::Ordering;

use crate::encode::Encoder;
use crate::error::{Error, Result};
use crate::io::manifest::{FileRecord, RunRecord};
use crate::io::raw::RawLayout;

use super::encode::{EncodeOptions, Progress};
use super::ids::IdCheck;
use super::rows::{
    build_manifest, encode_parallel, Buffers, Check, Encoded, IdHashes, Read, Rejects, RowAccess,
    Tally, CHUNK_ROWS, MEMORY_HINT,
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
    let raw = RawLayout::from_names(encoder.schema(), names.to_vec(), None)?;
    let mut tally = Tally::new(encoder.schema().fields.len());
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    let mut check = Check {
        raw: &raw,
        input: None,
        rejects: if options.keep_rejected {
            Rejects::Keep(&mut rejected)
        } else {
            Rejects::Fail
        },
        keep_hint: MEMORY_HINT,
        ids: IdCheck::unbounded(),
    };
    let mut line = 1u64;
    let mut id_hashes = IdHashes::default();
    for batch in batches {
        let n = batch.rows();
        let mut start = 0;
        while start < n {
            if options.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
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
                let verdict = raw.check_cells(names.len(), cell, line);
                let raw_id = || batch.cell(raw.id, row).unwrap_or("").to_string();
                if tally.admit(&mut check, verdict, (id, *hash), line, raw_id)? {
                    accepted.push(row);
                }
            }
            let rows = TableRows { raw: &raw, batch };
            let parts = encode_parallel(encoder, &rows, &accepted, false, &Buffers::default());
            for part in parts {
                tally.add_missing(part.missing);
                records.extend(part.records);
            }
            tally.counts.encoded += accepted.len() as u64;
            if let Some(p) = options.progress {
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
    run.finish();
    let read = Read {
        tally,
        raw,
        input: FileRecord {
            path: input_name.to_string(),
            bytes: 0,
            blake3: String::new(),
        },
    };
    let manifest = build_manifest(encoder, run, read, FileRecord::default(), None);
    Ok(Encoded {
        records,
        rejected,
        manifest,
    })
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
