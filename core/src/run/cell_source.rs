//! The source of a run over a file of cells (an Excel workbook, a Parquet file): its rows read
//! as text cells ([`crate::io::cells`]) into the chunks a CSV file gives, so that the checks,
//! rejects, line numbers, column mapping and counts are those of a CSV file. The record ids are
//! checked in memory (about 36 bytes per id).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use csv::ByteRecord;

use crate::encode::Encoder;
use crate::error::{Error, Result};
use crate::io::cells::{CellRows, InputKind};
use crate::io::encoded::HashingReader;
use crate::io::raw::{ColumnMap, CsvRow, RawLayout};
use crate::io::text::TextEncoding;

use super::rows::{Chunks, CHUNK_ROWS};
use super::source::{CsvChunk, Source};

/// An Excel workbook or a Parquet file.
pub(super) struct CellSource<'a> {
    pub(super) encoder: &'a Encoder,
    pub(super) path: &'a Path,
    pub(super) kind: InputKind,
    /// The workbook's sheet to read (the first if `None`).
    pub(super) sheet: Option<&'a str>,
    pub(super) columns: &'a ColumnMap,
    /// The sheet read, once opened.
    pub(super) sheet_read: OnceLock<Option<String>>,
    pub(super) bytes_read: AtomicU64,
}

impl<'a> CellSource<'a> {
    /// The file at `path`, of `kind`.
    pub(super) fn new(
        encoder: &'a Encoder,
        path: &'a Path,
        kind: InputKind,
        sheet: Option<&'a str>,
        columns: &'a ColumnMap,
    ) -> Self {
        CellSource {
            encoder,
            path,
            kind,
            sheet,
            columns,
            sheet_read: OnceLock::new(),
            bytes_read: AtomicU64::new(0),
        }
    }

    /// The keyed hash (hex) and size of the file's bytes.
    fn hash(&self) -> Result<(String, u64)> {
        let file = std::fs::File::open(self.path).map_err(|e| Error::io("read", self.path, e))?;
        let mut reader = HashingReader::new(file, self.encoder.audit_hasher());
        std::io::copy(&mut reader, &mut std::io::sink())
            .map_err(|e| Error::io("read", self.path, e))?;
        Ok(reader.finish())
    }
}

impl Source for CellSource<'_> {
    type Reader = Box<dyn CellRows>;

    fn open(&self) -> Result<(Box<dyn CellRows>, RawLayout)> {
        let rows = crate::io::cells::open(self.path, self.kind, self.sheet)?;
        let _ = self.sheet_read.set(rows.sheet().map(str::to_string));
        let raw = RawLayout::from_names_mapped(
            self.encoder.schema(),
            rows.names().to_vec(),
            self.columns,
            Some(self.path),
        )?;
        Ok((rows, raw))
    }

    fn path(&self) -> Option<&Path> {
        Some(self.path)
    }

    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    fn text(&self) -> (Option<TextEncoding>, Option<u8>) {
        (None, None)
    }

    fn cells(&self) -> (Option<InputKind>, Option<String>) {
        (Some(self.kind), self.sheet_read.get().cloned().flatten())
    }

    fn read<C: Chunks>(
        &self,
        mut reader: Box<dyn CellRows>,
        raw: &RawLayout,
        chunks: &mut C,
    ) -> std::result::Result<Option<(String, u64)>, C::Error> {
        let (hash, size) = self.hash()?;
        let mut chunk: Vec<(u64, CsvRow)> = Vec::with_capacity(CHUNK_ROWS);
        let mut record = ByteRecord::new();
        let mut done = false;
        while !done {
            chunk.clear();
            while chunk.len() < CHUNK_ROWS {
                match reader.next_row(&mut record)? {
                    Some(line) => {
                        chunk.push((line, CsvRow::from_bytes(std::mem::take(&mut record))));
                    }
                    None => {
                        done = true;
                        break;
                    }
                }
            }
            // A file of cells is read whole before its rows are (a workbook), or as it goes (a
            // Parquet file, whose pages do not map to bytes read): progress is counted at the end.
            if done {
                self.bytes_read.store(size, Ordering::Relaxed);
            }
            if !chunks.take(&CsvChunk { raw, rows: &chunk })? {
                return Ok(None);
            }
        }
        Ok(Some((hash, size)))
    }
}
