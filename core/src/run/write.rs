//! Writing an in-memory extract as the files [`encode_file`](super::encode_file) writes.

use std::path::Path;
use std::sync::mpsc;

use rayon::prelude::*;

use crate::encode::layout::Layout;
use crate::error::{Error, Result};
use crate::io::atomic::WRITE_BACK_STEP;
use crate::io::encoded::ExtractFormat;
use crate::io::encoded_parquet::write_chunks;
use crate::io::manifest::Manifest;

use crate::encode::EncodedRecord;

use super::rows::{CHUNK_ROWS, TASK_ROWS};
use super::sink::{header_line, write_parts, Buffers, OutputFiles, RejectedRow};
use crate::control::RunControl;

/// Writes an in-memory extract ([`Encoded`](super::Encoded)'s `records`, `rejected` and
/// `manifest`) to `output` (CSV, or Parquet when its name ends `.parquet` or `.pq`) and its
/// manifest beside it (and the rejected rows to `rejects`): the
/// same bytes [`encode_file`](super::encode_file) writes for the same input. Returns the written
/// manifest. Nothing appears unless every file is complete; a cancel through `control` leaves
/// nothing behind and returns [`Error::Cancelled`].
pub fn write_encoded(
    records: &[EncodedRecord],
    rejected: &[RejectedRow],
    manifest: &Manifest,
    layout: &Layout,
    output: &Path,
    rejects: Option<&Path>,
    control: &RunControl<'_>,
) -> Result<Manifest> {
    let cancelled = || control.cancelled();
    let mut files = OutputFiles::create(layout, output, rejects)?;
    if files.format() == ExtractFormat::Parquet {
        let (out, hash, bytes, rejects_file) = files.files();
        if let Some(f) = rejects_file {
            for r in rejected {
                f.write_all(&r.csv_row())?;
            }
        }
        let chunks = records.chunks(CHUNK_ROWS).take_while(|_| !cancelled());
        write_chunks(chunks, layout, out, hash, bytes)?;
        if cancelled() {
            return Err(Error::Cancelled);
        }
        return files.commit(manifest.clone(), output, rejects);
    }
    // Rows are formatted in parallel, chunk by chunk, while a writer thread hashes and writes the
    // previous chunks in order.
    let (tx, rx) = mpsc::sync_channel::<Vec<Vec<u8>>>(2);
    let buffers = Buffers::default();
    let (out, hash, bytes, rejects_file) = files.files();
    if let Some(f) = rejects_file {
        for r in rejected {
            f.write_all(&r.csv_row())?;
        }
    }
    let written = std::thread::scope(|scope| -> Result<bool> {
        let buffers = &buffers;
        let writer =
            scope.spawn(move || write_parts(rx, out, hash, bytes, buffers, WRITE_BACK_STEP));
        let mut complete = true;
        for chunk in records.chunks(CHUNK_ROWS) {
            if cancelled() {
                complete = false;
                break;
            }
            let parts = csv_parts(chunk, layout, buffers);
            if tx.send(parts).is_err() {
                break; // the writer failed: its error is returned below
            }
        }
        drop(tx);
        match writer.join() {
            Ok(result) => result.map(|()| complete),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })?;
    if !written || cancelled() {
        return Err(Error::Cancelled);
    }
    files.commit(manifest.clone(), output, rejects)
}

/// Size and BLAKE3 of the extract file [`write_encoded`] writes for `records`: the fingerprint
/// of an extract held in memory, recorded when it is linked without having been written.
pub fn encoded_fingerprint(records: &[EncodedRecord], layout: &Layout) -> (u64, String) {
    let head = header_line(layout);
    let mut hash = blake3::Hasher::new();
    let mut bytes = head.len() as u64;
    let buffers = Buffers::default();
    hash.update(&head);
    for chunk in records.chunks(CHUNK_ROWS) {
        let parts = csv_parts(chunk, layout, &buffers);
        for buf in parts {
            hash.update(&buf);
            bytes += buf.len() as u64;
            buffers.give(buf);
        }
    }
    (bytes, hash.finalize().to_hex().to_string())
}

/// The CSV rows of `records` (each ending in a newline), rendered in parallel, in parts of
/// [`TASK_ROWS`] records, in order, into buffers from `buffers`.
fn csv_parts(records: &[EncodedRecord], layout: &Layout, buffers: &Buffers) -> Vec<Vec<u8>> {
    records
        .par_chunks(TASK_ROWS)
        .map(|records| {
            let mut buf = buffers.take(records.len() * 1024);
            for r in records {
                r.write_csv_row(layout, &mut buf);
                buf.push(b'\n');
            }
            buf
        })
        .collect()
}
