//! Encoding a CSV extract file to file, streaming, in parallel, in bounded memory; or into memory
//! (what the Python binding returns), with the same checks, encodings and manifest.
//!
//! A reader thread parses chunks of rows; each chunk is checked (cell counts, UTF-8, record ids)
//! in order, encoded in parallel with rayon, and written in order, so the output is the same bytes
//! whatever the number of threads. Rejected rows go to the rejects file (or are kept in memory)
//! with their line and reason; otherwise the first bad row stops the run.
//! `rows_read == encoded + rejected`.
//!
//! [`write_encoded`](super::write_encoded) writes an in-memory result as exactly the bytes [`encode_file`] would have
//! written for the same input.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

use csv::ByteRecord;

use crate::encode::Encoder;
use crate::error::{Error, Location, Result};
use crate::io::atomic::WRITE_BACK_STEP;
use crate::io::encoded::HashingReader;
use crate::io::manifest::{FileRecord, Manifest, RunRecord};
use crate::io::raw::{CsvRow, LineGuard, RawLayout};

use super::ids::{IdCheck, Rescan, DEFAULT_ID_MEMORY};
use super::rows::{
    build_manifest, display_name, encode_parallel, input_record, write_parts, Buffers, Check,
    CsvRows, Encoded, IdHashes, OutputFiles, Read, Rejects, Sink, Tally, CHUNK_ROWS, FILE_HINT,
    MEMORY_HINT,
};

/// Progress of a run, reported after each chunk (and, while the duplicate record id check reads
/// the input a second time, every 65,536 rows of that reading and once at its end).
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes of input read so far (zero for in-memory tables).
    pub bytes_read: u64,
    /// Rows processed so far.
    pub rows: u64,
    /// Whether the duplicate record id check went to disk: its ids outgrew
    /// [`EncodeFileOptions::id_memory`], so the input was read a second time.
    pub ids_on_disk: bool,
    /// While the duplicate record id check reads the input a second time (when it goes to disk,
    /// part way through the run): how far that reading has got, in bytes of the input; zero the
    /// rest of the time. Encoding waits meanwhile, so a progress bar can show this reading.
    pub id_scan_bytes: u64,
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
    /// Memory budget of the duplicate record id check, in bytes; `None` for
    /// [`DEFAULT_ID_MEMORY`] (64 MiB, about 1.8 million distinct ids). Past it the check reads the
    /// input a second time and sorts id hashes on disk, in bounded memory, with the same result.
    pub id_memory: Option<usize>,
    /// Folder of the check's temporary files when it goes to disk; `None` for the output's
    /// folder. They are anonymous (removed when closed, even on a crash) and hold id hashes and
    /// row numbers, 24 bytes per row.
    pub temp_dir: Option<PathBuf>,
}

/// Options of the in-memory encoders [`encode_csv`] and [`encode_table`](super::encode_table).
#[derive(Default)]
pub struct EncodeOptions<'a> {
    /// Keep rejected rows in [`Encoded::rejected`]; without it the first bad row is an error.
    pub keep_rejected: bool,
    /// Information Sharing Agreement reference, recorded in the manifest.
    pub agreement: Option<String>,
    /// Purpose of processing, recorded in the manifest.
    pub purpose: Option<String>,
    /// Called after each chunk.
    pub progress: Option<&'a (dyn Fn(Progress) + Sync)>,
    /// Set to stop the run: [`Error::Cancelled`] is returned.
    pub cancel: Option<&'a AtomicBool>,
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
    let bytes_read = AtomicU64::new(0);
    let ids = IdCheck::bounded(Rescan {
        encoder,
        input,
        temp_dir,
        budget: options.id_memory.unwrap_or(DEFAULT_ID_MEMORY),
        cancel: options.cancel,
        progress: options.progress,
        bytes_read: &bytes_read,
    });
    let mut run = RunRecord::start(options.agreement.clone(), options.purpose.clone());
    let mut files = OutputFiles::create(encoder.layout(), output, options.rejects.as_deref())?;
    let read = {
        let (mut sink, rejects) = files.sinks();
        read_csv(
            encoder,
            input,
            &mut sink,
            rejects,
            ids,
            FILE_HINT,
            (options.progress, &bytes_read),
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

/// Encodes the CSV at `input` into memory: the same checks, encodings and manifest as
/// [`encode_file`], with the manifest's `output` left empty until [`write_encoded`](super::write_encoded).
pub fn encode_csv(encoder: &Encoder, input: &Path, options: &EncodeOptions<'_>) -> Result<Encoded> {
    let mut run = RunRecord::start(options.agreement.clone(), options.purpose.clone());
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    let read = {
        let mut sink = Sink::Memory(&mut records);
        let rejects = if options.keep_rejected {
            Rejects::Keep(&mut rejected)
        } else {
            Rejects::Fail
        };
        read_csv(
            encoder,
            input,
            &mut sink,
            rejects,
            IdCheck::unbounded(),
            MEMORY_HINT,
            (options.progress, &AtomicU64::new(0)),
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

type Chunk = Vec<(u64, CsvRow)>;

/// What the reader thread sends.
enum Message {
    Rows(Chunk),
    Done {
        input_blake3: String,
        input_bytes: u64,
    },
    Failed(Error),
}

/// The CSV reader of a raw input: its bytes hashed with the audit key, lines bounded.
pub(super) type CsvInput = csv::Reader<HashingReader<LineGuard<BufReader<File>>>>;

/// Opens the CSV at `input` and maps its header: the reader positioned on the first row. The
/// encoding pass and the duplicate id scan ([`super::ids`]) both read through it, so they see the
/// same rows.
pub(super) fn open_csv(encoder: &Encoder, input: &Path) -> Result<(CsvInput, RawLayout)> {
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
    Ok((reader, raw))
}

/// Reads, checks and encodes the CSV at `input`, sending accepted rows to `sink`.
#[allow(clippy::too_many_arguments)]
fn read_csv(
    encoder: &Encoder,
    input: &Path,
    sink: &mut Sink<'_>,
    rejects: Rejects<'_>,
    ids: IdCheck<'_>,
    keep_hint: &'static str,
    (progress, bytes_read): (Option<&(dyn Fn(Progress) + Sync)>, &AtomicU64),
    cancel: Option<&AtomicBool>,
) -> Result<Read> {
    let (mut reader, raw) = open_csv(encoder, input)?;
    let mut tally = Tally::new(encoder.schema().fields.len());
    let mut check = Check {
        raw: &raw,
        input: Some(input),
        rejects,
        keep_hint,
        ids,
    };
    let to_file = matches!(sink, Sink::File { .. });

    let buffers = Buffers::default();
    let (tx, rx) = mpsc::sync_channel::<Message>(2);
    // Encoded CSV goes to a writer thread that hashes and writes it while the next chunk is
    // encoded; records for memory are kept here.
    let (file_sink, mut records) = match sink {
        Sink::File { out, hash, bytes } => (Some((out, hash, bytes)), None),
        Sink::Memory(records) => (None, Some(&mut **records)),
    };
    let (input_blake3, input_bytes) = std::thread::scope(|scope| -> Result<(String, u64)> {
        // The receivers belong to this closure and the threads it starts, so returning early
        // (an error, a cancel) drops them: the reader's next send fails instead of blocking the
        // scope's join forever, and the writer sees the end of its channel.
        let rx = rx;
        let buffers = &buffers;
        // Read chunks come back to the reader to be filled again: no allocation per row.
        let (back_tx, back_rx) = mpsc::sync_channel::<Chunk>(CHUNKS);
        scope.spawn(move || read_chunks(&mut reader, input, bytes_read, &tx, &back_rx));
        let (wtx, wrx) = mpsc::sync_channel::<Vec<Vec<u8>>>(2);
        let writer = file_sink.map(|(out, hash, bytes)| {
            scope.spawn(move || write_parts(wrx, out, hash, bytes, buffers, WRITE_BACK_STEP))
        });
        let mut done = None;
        let mut id_hashes = IdHashes::default();
        for message in rx.iter() {
            let chunk = match message {
                Message::Rows(c) => c,
                Message::Done {
                    input_blake3,
                    input_bytes,
                } => {
                    done = Some((input_blake3, input_bytes));
                    break;
                }
                Message::Failed(e) => return Err(e),
            };
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(Error::Cancelled);
            }
            let mut accepted = Vec::with_capacity(chunk.len());
            let ids: Vec<&str> = chunk
                .iter()
                .map(|(_, row)| raw.csv_record_id(row))
                .collect();
            let hashes = id_hashes.of(&ids);
            for (((line_no, row), id), hash) in chunk.iter().zip(&ids).zip(hashes) {
                let verdict = raw.check_csv_row(row, *line_no);
                let raw_id = || {
                    row.bytes()
                        .get(raw.id)
                        .map(String::from_utf8_lossy)
                        .unwrap_or_default()
                        .into_owned()
                };
                if tally.admit(&mut check, verdict, (id, *hash), *line_no, raw_id)? {
                    accepted.push(row);
                }
            }
            let rows = CsvRows { raw: &raw };
            let limits = tally.sampler.limits();
            let parts = encode_parallel(encoder, &rows, &accepted, to_file, buffers, limits);
            let encoded = accepted.len() as u64;
            drop(accepted);
            let _ = back_tx.send(chunk);
            let csv = tally.take_parts(parts, records.as_deref_mut());
            if to_file && wtx.send(csv).is_err() {
                break; // the writer failed: its error is returned below
            }
            tally.counts.encoded += encoded;
            if let Some(p) = progress {
                p(Progress {
                    bytes_read: bytes_read.load(Ordering::Relaxed),
                    rows: tally.counts.rows_read,
                    ids_on_disk: check.ids.on_disk(),
                    id_scan_bytes: 0,
                });
            }
        }
        drop(wtx);
        if let Some(writer) = writer {
            match writer.join() {
                Ok(result) => result?,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done.ok_or_else(|| {
            Error::input(Location::at(Some(input), 0), "reading stopped unexpectedly")
        })
    })?;
    check.ids.check_input(&input_blake3, input_bytes)?;
    drop(check);
    Ok(Read {
        tally,
        raw,
        input: input_record(encoder, &display_name(input), input_bytes, input_blake3),
    })
}

/// Chunks of rows in the file pipeline: one being read, two waiting, one being checked and
/// encoded.
const CHUNKS: usize = 4;

fn read_chunks(
    reader: &mut CsvInput,
    input: &Path,
    bytes_read: &AtomicU64,
    tx: &mpsc::SyncSender<Message>,
    recycled: &mpsc::Receiver<Chunk>,
) {
    // A new chunk until there are `CHUNKS`, then one that has been encoded, its records
    // refilled in place; `None` when the encoding has stopped.
    let mut made = 0;
    let mut next_chunk = || {
        if made < CHUNKS {
            made += 1;
            Some(Vec::with_capacity(CHUNK_ROWS))
        } else {
            recycled.recv().ok()
        }
    };
    let Some(mut chunk) = next_chunk() else {
        return;
    };
    let mut n = 0;
    let mut spare = ByteRecord::new();
    loop {
        if n == chunk.len() {
            chunk.push((0, CsvRow::default()));
        }
        let Some((line, row)) = chunk.get_mut(n) else {
            return;
        };
        // The row's memory is read into (`spare` holds its place meanwhile, so that nothing
        // is allocated), then UTF-8 is checked here, on the reader's thread, once for the row.
        let mut bytes = std::mem::replace(row, CsvRow::Bytes(spare)).into_bytes();
        let read = reader.read_byte_record(&mut bytes);
        *line = bytes.position().map(|p| p.line()).unwrap_or(0);
        spare = std::mem::replace(row, CsvRow::from_bytes(bytes)).into_bytes();
        match read {
            Ok(true) => {
                n += 1;
                if n == CHUNK_ROWS {
                    chunk.truncate(n);
                    bytes_read.store(reader.get_ref().bytes(), Ordering::Relaxed);
                    if tx.send(Message::Rows(chunk)).is_err() {
                        return;
                    }
                    let Some(next) = next_chunk() else {
                        return;
                    };
                    chunk = next;
                    n = 0;
                }
            }
            Ok(false) => {
                chunk.truncate(n);
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

fn csv_error(input: &Path, e: &csv::Error) -> Error {
    crate::io::raw::csv_error(input, e)
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
