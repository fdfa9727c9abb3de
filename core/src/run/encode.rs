//! Encoding a CSV extract file to file, streaming, in parallel, in bounded memory.
//!
//! A reader thread parses chunks of rows; each chunk is checked (cell counts, UTF-8, record ids)
//! in order, encoded in parallel with rayon, and written in order, so the output is the same bytes
//! whatever the number of threads. Rejected rows go to the rejects file with their line and reason;
//! without a rejects file the first bad row stops the run. `rows_read == encoded + rejected`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

use csv::ByteRecord;
use rayon::prelude::*;
use rustc_hash::FxHashSet;

use crate::encode::record::write_csv_cell;
use crate::encode::{EncodedRecord, Encoder};
use crate::error::{Error, Location, Result};
use crate::io::atomic::AtomicFile;
use crate::io::encoded::HashingReader;
use crate::io::manifest::{
    manifest_path, Counts, FileRecord, Manifest, RunRecord, FORMAT_NAME, FORMAT_VERSION,
};
use crate::io::raw::{LineGuard, RawLayout, RejectReason, Rejection};
use crate::normalise::MissingReason;

/// Rows per chunk handed from the reader to the encoders.
const CHUNK_ROWS: usize = 16_384;
/// Rows per parallel task within a chunk.
const TASK_ROWS: usize = 512;

/// Progress of a run, reported after each chunk.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Bytes of input read so far.
    pub bytes_read: u64,
    /// Rows processed so far.
    pub rows: u64,
}

/// Options of [`encode_file`].
#[derive(Default)]
pub struct EncodeFileOptions<'a> {
    /// Where to write rejected rows; without it the first bad row is an error.
    pub rejects: Option<PathBuf>,
    /// Information Sharing Agreement reference, recorded in the manifest.
    pub agreement: Option<String>,
    /// Purpose of processing, recorded in the manifest.
    pub purpose: Option<String>,
    /// Called after each chunk.
    pub progress: Option<&'a (dyn Fn(Progress) + Sync)>,
    /// Set to stop the run: outputs are removed and [`Error::Cancelled`] returned.
    pub cancel: Option<&'a AtomicBool>,
}

type Chunk = Vec<(u64, ByteRecord)>;

/// What the reader thread sends.
enum Message {
    Rows(Chunk),
    Done {
        input_blake3: String,
        input_bytes: u64,
    },
    Failed(Error),
}

/// Totals gathered while encoding.
struct Tally {
    counts: Counts,
    rejected_by_reason: BTreeMap<String, u64>,
    missing: Vec<BTreeMap<MissingReason, u64>>,
    out_hash: blake3::Hasher,
    out_bytes: u64,
    seen_ids: FxHashSet<u128>,
}

/// Encodes the CSV at `input` into `output` (and `output.manifest.json`). Returns the manifest.
///
/// Nothing appears at `output`, its manifest or the rejects path unless the whole run succeeds.
pub fn encode_file(
    encoder: &Encoder,
    input: &Path,
    output: &Path,
    options: &EncodeFileOptions<'_>,
) -> Result<Manifest> {
    let mut run = RunRecord::start(options.agreement.clone(), options.purpose.clone());
    crate::io::raw::refuse_non_csv(input)?;
    let file = File::open(input).map_err(|e| Error::io("read", input, e))?;
    let hashing = HashingReader::new(
        LineGuard::new(BufReader::with_capacity(1 << 20, file)),
        encoder.audit_hasher(),
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(hashing);
    let mut header = ByteRecord::new();
    let got = reader
        .read_byte_record(&mut header)
        .map_err(|e| csv_error(input, &e))?;
    if !got {
        return Err(Error::input(
            Location::at(Some(input), 1),
            "the file is empty: expected a header row",
        ));
    }
    let raw = RawLayout::from_header(encoder.schema(), &header, Some(input))?;

    let mut out = AtomicFile::create(output)?;
    let mut rejects = match &options.rejects {
        Some(p) => {
            let mut f = AtomicFile::create(p)?;
            f.write_all(b"line,reason,field,message,record_id\n")?;
            Some(f)
        }
        None => None,
    };
    let mut head = encoder.layout().header().join(",").into_bytes();
    head.push(b'\n');
    let mut tally = Tally {
        counts: Counts::default(),
        rejected_by_reason: BTreeMap::new(),
        missing: vec![BTreeMap::new(); encoder.schema().fields.len()],
        out_hash: blake3::Hasher::new(),
        out_bytes: head.len() as u64,
        seen_ids: FxHashSet::default(),
    };
    tally.out_hash.update(&head);
    out.write_all(&head)?;

    let bytes_read = AtomicU64::new(0);
    let (tx, rx) = mpsc::sync_channel::<Message>(2);
    let (input_blake3, input_bytes) = std::thread::scope(|scope| -> Result<(String, u64)> {
        // The receiver lives in this closure, so an early return (a bad row, a cancel) drops it
        // before the scope waits for the reader: the reader's next send then fails and it stops,
        // instead of blocking for ever on a full channel (a deadlock, found by the bad-input
        // corpus on a million-row file).
        let rx = rx;
        let bytes_read = &bytes_read;
        scope.spawn(move || read_chunks(&mut reader, input, bytes_read, &tx));
        for message in rx.iter() {
            let chunk = match message {
                Message::Rows(c) => c,
                Message::Done {
                    input_blake3,
                    input_bytes,
                } => return Ok((input_blake3, input_bytes)),
                Message::Failed(e) => return Err(e),
            };
            if options.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(Error::Cancelled);
            }
            let accepted = check_chunk(&chunk, &raw, input, &mut tally, rejects.as_mut())?;
            let parts = encode_rows(encoder, &raw, &accepted);
            for (buf, miss) in parts {
                tally.out_hash.update(&buf);
                tally.out_bytes += buf.len() as u64;
                out.write_all(&buf)?;
                for (total, part) in tally.missing.iter_mut().zip(miss) {
                    for (reason, n) in part {
                        *total.entry(reason).or_default() += n;
                    }
                }
            }
            tally.counts.encoded += accepted.len() as u64;
            if let Some(p) = options.progress {
                p(Progress {
                    bytes_read: bytes_read.load(Ordering::Relaxed),
                    rows: tally.counts.rows_read,
                });
            }
        }
        Err(Error::input(
            Location::at(Some(input), 0),
            "reading stopped unexpectedly",
        ))
    })?;
    debug_assert_eq!(
        tally.counts.rows_read,
        tally.counts.encoded + tally.counts.rejected
    );

    run.finish();
    let schema = encoder.schema();
    let manifest = Manifest {
        format: FORMAT_NAME.to_string(),
        format_version: FORMAT_VERSION,
        encoding_version: crate::secret::ENCODING_VERSION,
        library_version: crate::VERSION.to_string(),
        schema_fingerprint: schema.fingerprint(),
        key_check_value: encoder.check_value().to_string(),
        columns: encoder
            .layout()
            .header()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        input: FileRecord {
            path: display_name(input),
            bytes: input_bytes,
            blake3: input_blake3,
        },
        output: FileRecord {
            path: display_name(output),
            bytes: tally.out_bytes,
            blake3: tally.out_hash.finalize().to_hex().to_string(),
        },
        rejects: options.rejects.as_deref().map(display_name),
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
        ignored_columns: raw.ignored.clone(),
        absent_columns: raw.absent.clone(),
        run,
    };
    let mut manifest_file = AtomicFile::create(&manifest_path(output))?;
    manifest_file.write_all(manifest.to_json().as_bytes())?;
    manifest_file.write_all(b"\n")?;
    if let Some(r) = rejects {
        r.commit()?;
    }
    out.commit()?;
    manifest_file.commit()?;
    Ok(manifest)
}

fn display_name(p: &Path) -> String {
    p.display().to_string()
}

fn read_chunks(
    reader: &mut csv::Reader<HashingReader<LineGuard<BufReader<File>>>>,
    input: &Path,
    bytes_read: &AtomicU64,
    tx: &mpsc::SyncSender<Message>,
) {
    let mut chunk = Vec::with_capacity(CHUNK_ROWS);
    loop {
        let mut row = ByteRecord::with_capacity(256, 16);
        match reader.read_byte_record(&mut row) {
            Ok(true) => {
                let line = row.position().map(|p| p.line()).unwrap_or(0);
                chunk.push((line, row));
                if chunk.len() == CHUNK_ROWS {
                    bytes_read.store(reader.get_ref().bytes(), Ordering::Relaxed);
                    if tx.send(Message::Rows(std::mem::take(&mut chunk))).is_err() {
                        return;
                    }
                }
            }
            Ok(false) => {
                bytes_read.store(reader.get_ref().bytes(), Ordering::Relaxed);
                if tx.send(Message::Rows(chunk)).is_err() {
                    return;
                }
                let (input_blake3, input_bytes) = reader.get_ref().finish();
                let _ = tx.send(Message::Done {
                    input_blake3,
                    input_bytes,
                });
                return;
            }
            Err(e) => {
                let _ = tx.send(Message::Failed(csv_error(input, &e)));
                return;
            }
        }
    }
}

/// Checks rows in file order (so the first of two duplicate ids is kept); returns the good ones.
fn check_chunk<'c>(
    chunk: &'c Chunk,
    raw: &RawLayout,
    input: &Path,
    tally: &mut Tally,
    mut rejects: Option<&mut AtomicFile>,
) -> Result<Vec<&'c ByteRecord>> {
    let mut accepted = Vec::with_capacity(chunk.len());
    for (line_no, row) in chunk {
        tally.counts.rows_read += 1;
        let verdict = raw.check_row(row, *line_no).and_then(|()| {
            let id = raw.record_id(row);
            if tally.seen_ids.insert(id_hash(id)) {
                Ok(())
            } else {
                Err(Rejection {
                    line: *line_no,
                    reason: RejectReason::DuplicateRecordId,
                    field: raw.names.get(raw.id).cloned(),
                    message: format!("record id '{id}' was already used by an earlier row"),
                })
            }
        });
        match verdict {
            Ok(()) => accepted.push(row),
            Err(r) => {
                tally.counts.rejected += 1;
                *tally
                    .rejected_by_reason
                    .entry(r.reason.as_str().to_string())
                    .or_default() += 1;
                match rejects.as_deref_mut() {
                    Some(f) if !r.reason.is_fatal() => f.write_all(&rejection_row(&r, raw, row))?,
                    rejects => {
                        let mut loc = Location::at(Some(input), r.line);
                        loc.field = r.field.clone();
                        let what_to_do = if r.reason.is_fatal() || rejects.is_some() {
                            ""
                        } else {
                            "; fix the row, or pass a rejects file to set such rows aside and count them"
                        };
                        return Err(Error::input(
                            loc,
                            format!("{} ({}){what_to_do}", r.message, r.reason.as_str()),
                        ));
                    }
                }
            }
        }
    }
    Ok(accepted)
}

type Part = (Vec<u8>, Vec<BTreeMap<MissingReason, u64>>);

/// Encodes checked rows in parallel; the parts come back in input order.
fn encode_rows(encoder: &Encoder, raw: &RawLayout, rows: &[&ByteRecord]) -> Vec<Part> {
    rows.par_chunks(TASK_ROWS)
        .map_init(
            || encoder.scratch(),
            |scratch, rows| {
                let mut buf = Vec::with_capacity(rows.len() * 1024);
                let mut miss = vec![BTreeMap::new(); raw.fields.len()];
                let mut record = EncodedRecord::default();
                let mut outcomes = Vec::new();
                for row in rows {
                    encoder.encode_fields_into(
                        raw.record_id(row),
                        |i| {
                            raw.fields
                                .get(i)
                                .copied()
                                .flatten()
                                .map(|c| raw.cell(row, c))
                        },
                        scratch,
                        &mut record,
                        &mut outcomes,
                    );
                    for (m, o) in miss.iter_mut().zip(&outcomes) {
                        if let Some(reason) = *o {
                            *m.entry(reason).or_insert(0u64) += 1;
                        }
                    }
                    record.write_csv_row(encoder.layout(), &mut buf);
                    buf.push(b'\n');
                }
                (buf, miss)
            },
        )
        .collect()
}

fn id_hash(id: &str) -> u128 {
    let h = blake3::hash(id.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h.as_bytes()[..16]);
    u128::from_le_bytes(b)
}

fn csv_error(input: &Path, e: &csv::Error) -> Error {
    crate::io::raw::csv_error(input, e)
}

fn rejection_row(r: &Rejection, raw: &RawLayout, row: &ByteRecord) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(r.line.to_string().as_bytes());
    out.push(b',');
    out.extend_from_slice(r.reason.as_str().as_bytes());
    out.push(b',');
    write_csv_cell(r.field.as_deref().unwrap_or(""), &mut out);
    out.push(b',');
    write_csv_cell(&r.message, &mut out);
    out.push(b',');
    let id = row
        .get(raw.id)
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    write_csv_cell(&id, &mut out);
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Schema, Secret};

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
            encode_file(&encoder, &input, &out, &EncodeFileOptions::default())
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
            let options = EncodeFileOptions {
                cancel: Some(&CANCEL),
                ..EncodeFileOptions::default()
            };
            encode_file(&encoder, &input, &out, &options)
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
