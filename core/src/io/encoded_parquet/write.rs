//! Writing encoded records as a Parquet extract, a row group at a time.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use ::parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use ::parquet::column::writer::ColumnWriter;
use ::parquet::data_type::{ByteArray, FixedLenByteArray};
use ::parquet::errors::ParquetError;
use ::parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use ::parquet::file::writer::SerializedFileWriter;
use ::parquet::schema::types::{Type, TypePtr};

use super::{cells, Cell, ROW_GROUP_ROWS};
use crate::encode::layout::{Layout, Slot};
use crate::encode::EncodedRecord;
use crate::error::{Error, Result};
use crate::io::atomic::AtomicFile;

/// The values of one column of the row group being gathered: their bytes one after another,
/// where each ends, and its definition level per row (1: a value, 0: a null).
#[derive(Default)]
struct ColumnBuffer {
    data: Vec<u8>,
    ends: Vec<usize>,
    defs: Vec<i16>,
}

impl ColumnBuffer {
    /// Appends a value (`None`: a null) written by `put`.
    fn push(&mut self, present: bool, put: impl FnOnce(&mut Vec<u8>)) {
        if present {
            put(&mut self.data);
            self.ends.push(self.data.len());
            self.defs.push(1);
        } else {
            self.defs.push(0);
        }
    }

    /// The values gathered, as slices of one buffer (emptying this one).
    fn take_values(&mut self) -> Vec<ByteArray> {
        let data = ByteArray::from(std::mem::take(&mut self.data));
        let mut start = 0;
        let values = self
            .ends
            .iter()
            .map(|&end| {
                let v = data.slice(start, end - start);
                start = end;
                v
            })
            .collect();
        self.ends.clear();
        values
    }
}

/// A Parquet extract being written to `W`: records are gathered column by column and written a
/// row group of [`ROW_GROUP_ROWS`] at a time.
pub(super) struct ParquetWriter<'l, W: Write + Send> {
    writer: SerializedFileWriter<W>,
    layout: &'l Layout,
    columns: Vec<ColumnBuffer>,
    /// Each column's form.
    forms: Vec<Cell>,
    rows: usize,
    /// Rows per row group ([`ROW_GROUP_ROWS`] but in tests).
    pub(super) group_rows: usize,
    /// The file, for errors.
    path: &'l Path,
}

impl<'l, W: Write + Send> ParquetWriter<'l, W> {
    /// Starts the extract of `layout` at `path` (for errors), its bytes going to `out`.
    pub(crate) fn new(layout: &'l Layout, out: W, path: &'l Path) -> Result<Self> {
        let forms: Vec<Cell> = cells(layout).into_iter().map(|(_, c)| c).collect();
        let properties = WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_1_0)
            .set_compression(Compression::UNCOMPRESSED)
            .set_dictionary_enabled(false)
            .set_statistics_enabled(EnabledStatistics::None)
            .build();
        let writer = SerializedFileWriter::new(out, schema(layout, path)?, Arc::new(properties))
            .map_err(|e| write_error(path, e))?;
        Ok(ParquetWriter {
            writer,
            layout,
            columns: forms.iter().map(|_| ColumnBuffer::default()).collect(),
            forms,
            rows: 0,
            group_rows: ROW_GROUP_ROWS,
            path,
        })
    }

    /// Adds `records`, writing a row group each time [`ROW_GROUP_ROWS`] are gathered.
    pub(crate) fn push(&mut self, records: &[EncodedRecord]) -> Result<()> {
        for r in records {
            self.push_one(r);
            if self.rows >= self.group_rows {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn push_one(&mut self, r: &EncodedRecord) {
        let mut columns = self.columns.iter_mut();
        if let Some(ids) = columns.next() {
            ids.push(true, |out| out.extend_from_slice(r.id.as_bytes()));
        }
        for (col, buf) in self.layout.columns.iter().zip(columns) {
            match col.slot {
                Slot::Token(i) => {
                    let t = r.tokens.get(i).and_then(Option::as_ref);
                    buf.push(t.is_some(), |out| {
                        if let Some(t) = t {
                            out.extend_from_slice(&t.0);
                        }
                    });
                }
                Slot::Set(i) => {
                    let set = r.sets.get(i).filter(|s| !s.is_empty());
                    buf.push(set.is_some(), |out| {
                        for v in set.into_iter().flatten() {
                            out.extend_from_slice(&v.to_le_bytes());
                        }
                    });
                }
                Slot::Bloom { index, .. } => {
                    let b = r.blooms.get(index).and_then(Option::as_ref);
                    buf.push(b.is_some(), |out| {
                        for w in b.into_iter().flat_map(|b| b.0.iter()) {
                            out.extend_from_slice(&w.to_le_bytes());
                        }
                    });
                }
            }
        }
        self.rows += 1;
    }

    /// Writes the rows gathered as one row group.
    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let path = self.path;
        let err = |e| write_error(path, e);
        let mut group = self.writer.next_row_group().map_err(err)?;
        for (buf, form) in self.columns.iter_mut().zip(&self.forms) {
            let mut column = group
                .next_column()
                .map_err(err)?
                .ok_or_else(|| err(ParquetError::General("a column is missing".into())))?;
            let values = buf.take_values();
            let defs = (*form != Cell::Text).then_some(buf.defs.as_slice());
            match (column.untyped(), form.fixed()) {
                (ColumnWriter::ByteArrayColumnWriter(w), None) => {
                    w.write_batch(&values, defs, None).map_err(err)?;
                }
                (ColumnWriter::FixedLenByteArrayColumnWriter(w), Some(_)) => {
                    let values: Vec<FixedLenByteArray> =
                        values.into_iter().map(FixedLenByteArray::from).collect();
                    w.write_batch(&values, defs, None).map_err(err)?;
                }
                _ => {
                    return Err(err(ParquetError::General(
                        "a column of another type than its schema's".into(),
                    )))
                }
            }
            buf.defs.clear();
            column.close().map_err(err)?;
        }
        group.close().map_err(err)?;
        self.rows = 0;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the output.
    pub(crate) fn finish(mut self) -> Result<W> {
        self.flush()?;
        let path = self.path;
        self.writer.into_inner().map_err(|e| write_error(path, e))
    }
}

/// The Parquet schema of the extract of `layout` (see the module's documentation).
fn schema(layout: &Layout, path: &Path) -> Result<TypePtr> {
    let err = |e| write_error(path, e);
    let fields = cells(layout)
        .into_iter()
        .map(|(name, cell)| {
            let t = match cell {
                Cell::Text => Type::primitive_type_builder(name, Physical::BYTE_ARRAY)
                    .with_repetition(Repetition::REQUIRED)
                    .with_logical_type(Some(LogicalType::String)),
                Cell::Set => Type::primitive_type_builder(name, Physical::BYTE_ARRAY)
                    .with_repetition(Repetition::OPTIONAL),
                Cell::Token | Cell::Bloom(_) => {
                    let n = cell.fixed().unwrap_or(0);
                    Type::primitive_type_builder(name, Physical::FIXED_LEN_BYTE_ARRAY)
                        .with_repetition(Repetition::OPTIONAL)
                        .with_length(i32::try_from(n).unwrap_or(i32::MAX))
                }
            };
            t.build().map(Arc::new).map_err(err)
        })
        .collect::<Result<Vec<_>>>()?;
    Type::group_type_builder("encoded_extract")
        .with_fields(fields)
        .build()
        .map(Arc::new)
        .map_err(err)
}

/// The error of a failed write of `path`.
fn write_error(path: &Path, e: ParquetError) -> Error {
    let e = match e {
        ParquetError::External(inner) => match inner.downcast::<std::io::Error>() {
            Ok(io) => *io,
            Err(other) => std::io::Error::other(other.to_string()),
        },
        other => std::io::Error::other(other.to_string()),
    };
    Error::io("write", path, e)
}

/// The extract's bytes on their way to its file, hashed and counted as they go.
struct HashingFile<'a> {
    out: &'a mut AtomicFile,
    hash: &'a mut blake3::Hasher,
    bytes: &'a mut u64,
}

impl Write for HashingFile<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write_all(buf).map_err(|e| match e {
            Error::Io { source, .. } => source,
            other => std::io::Error::other(other.to_string()),
        })?;
        self.hash.update(buf);
        *self.bytes += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The writer thread's loop for a Parquet extract: writes each chunk of records from `chunks`
/// in order to `out` (hashing and counting the bytes into `hash` and `bytes`), then the footer.
pub(crate) fn write_chunks<C: AsRef<[EncodedRecord]>>(
    chunks: impl IntoIterator<Item = C>,
    layout: &Layout,
    out: &mut AtomicFile,
    hash: &mut blake3::Hasher,
    bytes: &mut u64,
) -> Result<()> {
    let path = out.path().to_path_buf();
    let file = HashingFile { out, hash, bytes };
    let mut writer = ParquetWriter::new(layout, file, &path)?;
    for chunk in chunks {
        writer.push(chunk.as_ref())?;
    }
    writer.finish().map(|_| ())
}
