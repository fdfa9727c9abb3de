//! The sinks of an encoding run: the encoded extract (and rejects) written to files, hashed and
//! counted as they are written, by a writer thread; or records (and rejected rows) kept in memory.
//! Nothing appears at a file's path before [`OutputFiles::commit`].

use std::path::Path;

use crate::encode::layout::Layout;
use crate::encode::record::write_csv_cell;
use crate::encode::EncodedRecord;
use crate::error::{Error, Result};
use crate::io::atomic::AtomicFile;
use crate::io::encoded::ExtractFormat;
use crate::io::manifest::{manifest_path, FileRecord, Manifest};
use crate::io::raw::RejectReason;

use super::rows::{CHUNK_ROWS, TASK_ROWS};

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
    /// The pair statistics' sample, when the run kept it
    /// ([`EncodeOptions::keep_sample`](super::EncodeOptions::keep_sample)).
    pub sample: Option<crate::internals::encode::pair_stats::Sampler>,
}

/// Where accepted rows go.
pub(super) enum Sink<'a> {
    /// Encoded rows written to a file of `format`, hashed and counted.
    File {
        out: &'a mut AtomicFile,
        hash: &'a mut blake3::Hasher,
        bytes: &'a mut u64,
        format: ExtractFormat,
    },
    /// Records kept in memory.
    Memory(&'a mut Vec<EncodedRecord>),
}

impl Sink<'_> {
    /// How the caller of a run into this sink sets bad rows aside, for the error of the first
    /// bad row when it does not.
    pub(super) fn remedy(&self) -> &'static str {
        match self {
            Sink::File { .. } => "pass a rejects file",
            Sink::Memory(_) => "keep rejected rows",
        }
    }
}

/// The files of an encoding run to a file, and of an in-memory extract written out: the encoded
/// extract (its header written, its bytes hashed and counted as they are written) and, when
/// asked for, the rejects file. Nothing appears at their paths before [`commit`](Self::commit).
pub(super) struct OutputFiles {
    out: AtomicFile,
    format: ExtractFormat,
    rejects: Option<AtomicFile>,
    hash: blake3::Hasher,
    bytes: u64,
}

impl OutputFiles {
    /// Starts `output` (of the format its name says, [`ExtractFormat::of_output`]; a CSV
    /// extract with the header of `layout`) and `rejects` (with its header).
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
        let format = ExtractFormat::of_output(output);
        let mut hash = blake3::Hasher::new();
        let mut bytes = 0;
        if format == ExtractFormat::Csv {
            let head = header_line(layout);
            hash.update(&head);
            out.write_all(&head)?;
            bytes = head.len() as u64;
        }
        Ok(OutputFiles {
            out,
            format,
            rejects,
            hash,
            bytes,
        })
    }

    /// The format of the extract being written.
    pub(super) fn format(&self) -> ExtractFormat {
        self.format
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
    pub(super) fn sinks(&mut self) -> (Sink<'_>, RejectSink<'_>) {
        let format = self.format;
        let (out, hash, bytes, rejects) = self.files();
        let rejects = rejects.map_or(RejectSink::Fail, RejectSink::File);
        (
            Sink::File {
                out,
                hash,
                bytes,
                format,
            },
            rejects,
        )
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
pub(super) enum RejectSink<'a> {
    /// The first rejected row stops the run.
    Fail,
    /// Rows written to the rejects file.
    File(&'a mut AtomicFile),
    /// Rows kept in memory.
    Keep(&'a mut Vec<RejectedRow>),
}

pub(super) fn header_line(layout: &Layout) -> Vec<u8> {
    let mut head = layout.header().join(",").into_bytes();
    head.push(b'\n');
    head
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

pub(super) fn display_name(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
