//! What the encoders share: row checks and totals, rejected rows, the parallel encoding step and
//! the manifest.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::encode::layout::Layout;
use crate::encode::message;
use crate::encode::pair_stats::{SampleLimits, SampledRecord, Sampler};
use crate::encode::record::write_csv_cell;
use crate::encode::record::BATCH_ROWS;
use crate::encode::{EncodedRecord, Encoder};
use crate::error::{Error, Location, Result};
use crate::io::atomic::AtomicFile;
use crate::io::manifest::{
    manifest_path, Counts, FileRecord, InputRecord, Manifest, RunRecord, FORMAT_NAME,
    FORMAT_VERSION,
};
use crate::io::raw::{CsvRow, RawLayout, RejectReason, Rejection};
use crate::normalise::MissingReason;
use crate::secret::DerivedKey;

use super::ids::IdCheck;

/// Rows per chunk handed from the reader to the encoders.
pub(super) const CHUNK_ROWS: usize = 16_384;
/// Rows per parallel task within a chunk.
pub(super) const TASK_ROWS: usize = 512;

/// Header of the rejects file.
pub const REJECTS_HEADER: &str = "line,reason,field,message,record_id";

/// A row that was set aside, as written to the rejects file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// 1-based line where the row starts (for an in-memory table: its position + 2, the line it
    /// would have in a CSV export with a header).
    pub line: u64,
    /// Why.
    pub reason: RejectReason,
    /// The column concerned, if one.
    pub field: Option<String>,
    /// A sentence for people.
    pub message: String,
    /// The row's record id as read (possibly empty).
    pub record_id: String,
}

impl RejectedRow {
    /// The row of the rejects file (with its newline).
    pub fn csv_row(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(self.line.to_string().as_bytes());
        out.push(b',');
        out.extend_from_slice(self.reason.as_str().as_bytes());
        out.push(b',');
        write_csv_cell(self.field.as_deref().unwrap_or(""), &mut out);
        out.push(b',');
        write_csv_cell(&self.message, &mut out);
        out.push(b',');
        write_csv_cell(&self.record_id, &mut out);
        out.push(b'\n');
        out
    }
}

/// An encoded extract held in memory.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The encoded records, in input order.
    pub records: Vec<EncodedRecord>,
    /// The rows set aside, in input order.
    pub rejected: Vec<RejectedRow>,
    /// The manifest. Its `output` is empty until the extract is written by [`write_encoded`](super::write_encoded).
    pub manifest: Manifest,
}

/// Where accepted rows go.
pub(super) enum Sink<'a> {
    /// Encoded CSV rows written to a file, hashed and counted.
    File {
        out: &'a mut AtomicFile,
        hash: &'a mut blake3::Hasher,
        bytes: &'a mut u64,
    },
    /// Records kept in memory.
    Memory(&'a mut Vec<EncodedRecord>),
}

/// The files of an encoding run to a file, and of an in-memory extract written out: the encoded
/// extract (its header written, its bytes hashed and counted as they are written) and, when
/// asked for, the rejects file. Nothing appears at their paths before [`commit`](Self::commit).
pub(super) struct OutputFiles {
    out: AtomicFile,
    rejects: Option<AtomicFile>,
    hash: blake3::Hasher,
    bytes: u64,
}

impl OutputFiles {
    /// Starts `output` (with the header of `layout`) and `rejects` (with its header).
    pub(super) fn create(
        layout: &Layout,
        output: &Path,
        rejects: Option<&Path>,
    ) -> Result<OutputFiles> {
        let mut out = AtomicFile::create(output)?;
        let rejects = match rejects {
            Some(p) => {
                let mut f = AtomicFile::create(p)?;
                f.write_all(REJECTS_HEADER.as_bytes())?;
                f.write_all(b"\n")?;
                Some(f)
            }
            None => None,
        };
        let head = header_line(layout);
        let mut hash = blake3::Hasher::new();
        hash.update(&head);
        out.write_all(&head)?;
        Ok(OutputFiles {
            out,
            rejects,
            hash,
            bytes: head.len() as u64,
        })
    }

    /// The extract being written with its hash and length so far, and the rejects file.
    pub(super) fn files(
        &mut self,
    ) -> (
        &mut AtomicFile,
        &mut blake3::Hasher,
        &mut u64,
        Option<&mut AtomicFile>,
    ) {
        (
            &mut self.out,
            &mut self.hash,
            &mut self.bytes,
            self.rejects.as_mut(),
        )
    }

    /// Where a run sends accepted and rejected rows.
    pub(super) fn sinks(&mut self) -> (Sink<'_>, Rejects<'_>) {
        let (out, hash, bytes, rejects) = self.files();
        let rejects = rejects.map_or(Rejects::Fail, Rejects::File);
        (Sink::File { out, hash, bytes }, rejects)
    }

    /// Writes the manifest of the finished run beside `output` and puts every file in place.
    pub(super) fn finish(
        self,
        encoder: &Encoder,
        run: RunRecord,
        read: Read,
        output: &Path,
        rejects: Option<&Path>,
        cancel: Option<&AtomicBool>,
    ) -> Result<Manifest> {
        let manifest = build_manifest(encoder, run, read, FileRecord::default(), None, cancel)?;
        self.commit(manifest, output, rejects)
    }

    /// Records the extract written to `output` (its size and hash) and the `rejects` path in
    /// `manifest`, writes it beside `output` and puts every file in place.
    pub(super) fn commit(
        self,
        mut manifest: Manifest,
        output: &Path,
        rejects: Option<&Path>,
    ) -> Result<Manifest> {
        manifest.output = FileRecord {
            path: display_name(output),
            bytes: self.bytes,
            blake3: self.hash.finalize().to_hex().to_string(),
        };
        manifest.rejects = rejects.map(display_name);
        let mut manifest_file = AtomicFile::create(&manifest_path(output))?;
        manifest_file.write_all(manifest.to_json().as_bytes())?;
        manifest_file.write_all(b"\n")?;
        if let Some(r) = self.rejects {
            r.commit()?;
        }
        self.out.commit()?;
        manifest_file.commit()?;
        Ok(manifest)
    }
}

/// Where rejected rows go.
pub(super) enum Rejects<'a> {
    /// The first rejected row stops the run.
    Fail,
    /// Rows written to the rejects file.
    File(&'a mut AtomicFile),
    /// Rows kept in memory.
    Keep(&'a mut Vec<RejectedRow>),
}

/// What the row checks need besides the totals.
pub(super) struct Check<'a> {
    pub(super) raw: &'a RawLayout,
    pub(super) input: Option<&'a Path>,
    pub(super) rejects: Rejects<'a>,
    /// How the caller keeps rejected rows, for the error of the first bad row.
    pub(super) keep_hint: &'static str,
    /// The duplicate record id check.
    pub(super) ids: IdCheck<'a>,
}

/// Hint in errors of [`encode_file`](super::encode_file).
pub(super) const FILE_HINT: &str = "pass a rejects file";
/// Hint in errors of the in-memory encoders.
pub(super) const MEMORY_HINT: &str = "keep rejected rows";

/// Totals gathered while encoding.
pub(super) struct Tally {
    pub(super) counts: Counts,
    pub(super) rejected_by_reason: BTreeMap<String, u64>,
    pub(super) missing: Vec<BTreeMap<MissingReason, u64>>,
    /// The pair statistics' samples, offered in input order.
    pub(super) sampler: Sampler,
}

impl Tally {
    pub(super) fn new(fields: usize) -> Self {
        Tally {
            counts: Counts::default(),
            rejected_by_reason: BTreeMap::new(),
            missing: vec![BTreeMap::new(); fields],
            sampler: Sampler::new(),
        }
    }

    /// Counts one row read at `line` and records its verdict (adding the duplicate-id check).
    /// Returns whether the row is accepted; errors when a row is rejected and rejects are not
    /// kept. `id` is the row's trimmed record id and `hash` its [`id_hash`]; `raw_id` gives the
    /// id as read for the rejects.
    pub(super) fn admit(
        &mut self,
        check: &mut Check<'_>,
        verdict: std::result::Result<(), Rejection>,
        (id, hash): (&str, u128),
        line: u64,
        raw_id: impl FnOnce() -> String,
    ) -> Result<bool> {
        self.counts.rows_read += 1;
        let raw = check.raw;
        let r = match verdict {
            Ok(()) if check.ids.first_use(hash, self.counts.rows_read, line)? => return Ok(true),
            Ok(()) => Rejection {
                line,
                reason: RejectReason::DuplicateRecordId,
                field: raw.names.get(raw.id).cloned(),
                message: format!("record id '{id}' was already used by an earlier row"),
            },
            Err(r) => r,
        };
        self.counts.rejected += 1;
        *self
            .rejected_by_reason
            .entry(r.reason.as_str().to_string())
            .or_default() += 1;
        let row = |r: Rejection| RejectedRow {
            line: r.line,
            reason: r.reason,
            field: r.field,
            message: r.message,
            record_id: raw_id(),
        };
        match &mut check.rejects {
            Rejects::File(f) if !r.reason.is_fatal() => f.write_all(&row(r).csv_row())?,
            Rejects::Keep(v) if !r.reason.is_fatal() => v.push(row(r)),
            _ => {
                let mut loc = Location::at(check.input, r.line);
                loc.field = r.field.clone();
                // A fatal rejection (an unclosed quote swallowing later rows) refuses the file
                // whatever the rejects setting: its rows cannot be counted.
                let what_to_do = if r.reason.is_fatal() {
                    String::new()
                } else {
                    format!(
                        "; fix the row, or {} to set such rows aside and count them",
                        check.keep_hint
                    )
                };
                return Err(Error::input(
                    loc,
                    format!("{} ({}){what_to_do}", r.message, r.reason.as_str()),
                ));
            }
        }
        Ok(false)
    }

    pub(super) fn add_missing(&mut self, miss: Vec<BTreeMap<MissingReason, u64>>) {
        for (total, part) in self.missing.iter_mut().zip(miss) {
            for (reason, n) in part {
                *total.entry(reason).or_default() += n;
            }
        }
    }

    /// Takes in the encoded `parts` of a chunk: their counts of values treated as missing, their
    /// records into `records` (when they are kept in memory); returns their CSV buffers (empty
    /// unless they were encoded for a file), in order.
    pub(super) fn take_parts(
        &mut self,
        parts: Vec<Part>,
        mut records: Option<&mut Vec<EncodedRecord>>,
    ) -> Vec<Vec<u8>> {
        let mut csv = Vec::with_capacity(parts.len());
        for part in parts {
            self.add_missing(part.missing);
            for sampled in part.samples {
                self.sampler.offer(sampled);
            }
            if let Some(records) = records.as_mut() {
                records.extend(part.records);
            }
            csv.push(part.csv);
        }
        csv
    }
}

/// What reading an input gave: the totals, the column mapping and the input's record.
pub(super) struct Read {
    pub(super) tally: Tally,
    pub(super) raw: RawLayout,
    pub(super) input: InputRecord,
}

pub(super) fn header_line(layout: &Layout) -> Vec<u8> {
    let mut head = layout.header().join(",").into_bytes();
    head.push(b'\n');
    head
}

pub(super) fn build_manifest(
    encoder: &Encoder,
    run: RunRecord,
    read: Read,
    output: FileRecord,
    rejects: Option<String>,
    cancel: Option<&AtomicBool>,
) -> Result<Manifest> {
    let schema = encoder.schema();
    let Read { tally, raw, input } = read;
    let pair_stats = tally
        .sampler
        .finish(schema, encoder.features(), cancel)
        .ok_or(Error::Cancelled)?;
    debug_assert_eq!(
        tally.counts.rows_read,
        tally.counts.encoded + tally.counts.rejected
    );
    Ok(Manifest {
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
        input,
        output,
        rejects,
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
        pair_stats: Some(pair_stats),
    })
}

/// The record of a cleartext input for a manifest: its size, keyed hash and keyed name.
pub(super) fn input_record(
    encoder: &Encoder,
    name: &str,
    bytes: u64,
    blake3: String,
) -> InputRecord {
    let mut h = encoder.audit_hasher();
    h.update(b"pseudolink input name ");
    h.update(name.as_bytes());
    InputRecord {
        bytes,
        blake3,
        path_keyed: h.finalize().to_hex()[..32].to_string(),
        text_encoding: Some("utf-8".into()),
    }
}

/// Access to the cells of accepted rows, whatever they come from.
pub(super) trait RowAccess: Sync {
    type Row: Sync;
    /// The (trimmed) record id.
    fn id<'r>(&'r self, row: &'r Self::Row) -> &'r str;
    /// The raw value of schema field `i`, `None` when its column is absent or the cell null.
    fn field<'r>(&'r self, row: &'r Self::Row, i: usize) -> Option<&'r str>;
}

pub(super) struct CsvRows<'a> {
    pub(super) raw: &'a RawLayout,
}

impl<'a> RowAccess for CsvRows<'a> {
    type Row = &'a CsvRow;
    fn id<'r>(&'r self, row: &'r Self::Row) -> &'r str {
        self.raw.csv_record_id(row)
    }
    fn field<'r>(&'r self, row: &'r Self::Row, i: usize) -> Option<&'r str> {
        self.raw
            .fields
            .get(i)
            .copied()
            .flatten()
            .map(|c| self.raw.csv_cell(row, c))
    }
}

/// The output of one parallel task: CSV bytes or records, and the missing-value counts.
pub(super) struct Part {
    pub(super) csv: Vec<u8>,
    pub(super) records: Vec<EncodedRecord>,
    pub(super) missing: Vec<BTreeMap<MissingReason, u64>>,
    /// Records sampled for the pair statistics, in input order.
    pub(super) samples: Vec<SampledRecord>,
}

/// Output buffers handed back by the writer once written, so that encoding fills memory that is
/// already mapped instead of fresh pages (page faults were 6% of encoding).
#[derive(Default)]
pub(super) struct Buffers(std::sync::Mutex<Vec<Vec<u8>>>);

impl Buffers {
    /// Most buffers kept: two chunks' worth.
    const MAX: usize = 2 * CHUNK_ROWS / TASK_ROWS;

    /// An empty buffer of at least `capacity` bytes, a returned one when there is one.
    pub(super) fn take(&self, capacity: usize) -> Vec<u8> {
        let mut v = self
            .0
            .lock()
            .map(|mut pool| pool.pop())
            .ok()
            .flatten()
            .unwrap_or_default();
        v.reserve(capacity);
        v
    }

    /// Hands a written buffer back.
    pub(super) fn give(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        if let Ok(mut pool) = self.0.lock() {
            if pool.len() < Self::MAX {
                pool.push(buffer);
            }
        }
    }
}

/// The writer thread's loop: writes each batch of parts from `parts` to `out` in order, hashing
/// and counting the bytes, and hands the buffers back to `buffers`. Every `step` bytes
/// ([`WRITE_BACK_STEP`](crate::io::atomic::WRITE_BACK_STEP) but in tests) it asks a thread of its own to send the data so far to
/// disk ([`WriteBack`](crate::io::atomic::WriteBack)) and does not wait for it (a request while another is being served is
/// dropped: the next one covers its data). The sync before the rename
/// ([`AtomicFile::commit`]) still makes everything durable.
pub(super) fn write_parts(
    parts: impl IntoIterator<Item = Vec<Vec<u8>>>,
    out: &mut AtomicFile,
    hash: &mut blake3::Hasher,
    bytes: &mut u64,
    buffers: &Buffers,
    step: usize,
) -> Result<()> {
    let write_back = out.write_back()?;
    std::thread::scope(|scope| {
        let (requests, pending) = std::sync::mpsc::sync_channel::<u64>(1);
        let sender = write_back.map(|mut w| {
            scope.spawn(move || -> std::io::Result<()> {
                for written in pending {
                    w.advance(written)?;
                }
                Ok(())
            })
        });
        let mut unsent = 0usize;
        for batch in parts {
            for buf in batch {
                hash.update(&buf);
                *bytes += buf.len() as u64;
                unsent += buf.len();
                out.write_all(&buf)?;
                buffers.give(buf);
            }
            // On its way to disk while the next chunks are encoded, not all at the end.
            if unsent >= step {
                out.flush()?;
                // Full: a request is being served and the next one will cover this data.
                // Disconnected: the sender failed, and its error is returned below.
                let _ = requests.try_send(out.written());
                unsent = 0;
            }
        }
        drop(requests);
        match sender.map(|s| s.join()) {
            Some(Ok(Err(e))) => Err(Error::io("write", out.path(), e)),
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            _ => Ok(()),
        }
    })
}

/// Encodes accepted rows in parallel; the parts come back in input order. With `to_csv` each part
/// holds the CSV rows (as [`EncodedRecord::write_csv_row`] writes them, in a buffer from
/// `buffers`), otherwise the records.
pub(super) fn encode_parallel<A: RowAccess>(
    encoder: &Encoder,
    access: &A,
    rows: &[A::Row],
    to_csv: bool,
    buffers: &Buffers,
    limits: SampleLimits,
) -> Vec<Part> {
    let fields = encoder.schema().fields.len();
    rows.par_chunks(TASK_ROWS)
        .map_init(
            || {
                let mut scratch = encoder.scratch();
                scratch.sample_with(Some(limits));
                scratch
            },
            |scratch, rows| {
                let mut part = Part {
                    csv: if to_csv {
                        buffers.take(rows.len() * 1024)
                    } else {
                        Vec::new()
                    },
                    records: Vec::with_capacity(if to_csv { 0 } else { rows.len() }),
                    missing: vec![BTreeMap::new(); fields],
                    samples: Vec::new(),
                };
                let mut records = vec![EncodedRecord::default(); BATCH_ROWS.min(rows.len())];
                let mut outcomes = vec![Vec::new(); records.len()];
                for batch in rows.chunks(BATCH_ROWS) {
                    let n = batch.len();
                    encoder.encode_batch_into(
                        |k| access.id(&batch[k]),
                        |k, i| access.field(&batch[k], i),
                        scratch,
                        &mut records[..n],
                        &mut outcomes[..n],
                    );
                    for (record, outcomes) in records.iter_mut().zip(&outcomes).take(n) {
                        for (m, o) in part.missing.iter_mut().zip(outcomes) {
                            if let Some(reason) = *o {
                                *m.entry(reason).or_insert(0u64) += 1;
                            }
                        }
                        if to_csv {
                            record.write_csv_row(encoder.layout(), &mut part.csv);
                            part.csv.push(b'\n');
                        } else {
                            part.records.push(std::mem::take(record));
                        }
                    }
                }
                part.samples = scratch.take_samples();
                part
            },
        )
        .collect()
}

/// The key of [`id_hash`]: public, as the hashes only stand in for the ids within one run.
fn id_key() -> &'static DerivedKey {
    static KEY: OnceLock<DerivedKey> = OnceLock::new();
    KEY.get_or_init(|| DerivedKey::public("pseudolink record id check"))
}

/// The 128-bit hash by which the duplicate record id check compares ids: the first 16 bytes of
/// keyed BLAKE3 (under a public key) of the id's [`message`].
pub(super) fn id_hash(id: &str) -> u128 {
    hash_prefix(&message::hash(id_key(), id.as_bytes()))
}

/// [`id_hash`] of many ids at once, hashing those of one block side by side (about 11 ns an id
/// instead of 60), with its working memory kept from call to call.
#[derive(Default)]
pub(super) struct IdHashes {
    blocks: Vec<[u8; 64]>,
    hashes: Vec<[u8; 32]>,
    out: Vec<u128>,
}

impl IdHashes {
    /// [`id_hash`] of each of `ids`, in order.
    pub(super) fn of(&mut self, ids: &[&str]) -> &[u128] {
        self.blocks.clear();
        for id in ids {
            // A long id gets a placeholder here and its own hash below.
            self.blocks
                .push(message::one_block(id.as_bytes()).unwrap_or([0; 64]));
        }
        self.hashes.resize(self.blocks.len(), [0; 32]);
        id_key().hash_blocks(&self.blocks, &mut self.hashes);
        self.out.clear();
        for (id, hash) in ids.iter().zip(&self.hashes) {
            self.out.push(if id.len() <= message::ONE_BLOCK_INPUT {
                hash_prefix(hash)
            } else {
                id_hash(id)
            });
        }
        &self.out
    }
}

fn hash_prefix(hash: &[u8; 32]) -> u128 {
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    u128::from_le_bytes(b)
}

pub(super) fn display_name(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn batched_id_hashes_are_the_id_hashes(ids in proptest::collection::vec("\\PC{0,70}", 0..40)) {
            // Ids of one block and longer (over 60 bytes), more than one SIMD group.
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let mut hashes = IdHashes::default();
            hashes.of(&["left from an earlier call"; 50]);
            let expected: Vec<u128> = ids.iter().map(|id| id_hash(id)).collect();
            prop_assert_eq!(hashes.of(&ids), &expected[..]);
        }
    }

    #[test]
    fn parts_are_written_in_order_while_the_file_is_synced() {
        // A sync requested after every batch: the file, its hash and its length are the parts'.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut out = AtomicFile::create(&path).unwrap();
        let batches: Vec<Vec<Vec<u8>>> = (0..200u32)
            .map(|i| {
                vec![
                    format!("{i},").into_bytes(),
                    vec![b'x'; (i as usize * 97) % 3000],
                ]
            })
            .collect();
        let expected: Vec<u8> = batches.iter().flatten().flatten().copied().collect();
        let (mut hash, mut bytes) = (blake3::Hasher::new(), 0u64);
        write_parts(
            batches,
            &mut out,
            &mut hash,
            &mut bytes,
            &Buffers::default(),
            1,
        )
        .unwrap();
        out.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), expected);
        assert_eq!(bytes, expected.len() as u64);
        assert_eq!(hash.finalize(), blake3::hash(&expected));
    }

    #[test]
    fn id_hashes_tell_ids_apart() {
        let ids = ["a", "b", "a ", "", &"x".repeat(61), &"x".repeat(62)];
        let mut hashes = IdHashes::default();
        let distinct: std::collections::HashSet<u128> = hashes.of(&ids).iter().copied().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}
