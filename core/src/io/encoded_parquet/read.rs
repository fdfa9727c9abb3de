//! Reading a Parquet extract's records, column by column, a row group at a time.

use std::path::Path;

use ::parquet::basic::Type as Physical;
use ::parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use ::parquet::data_type::{ByteArray, DataType};
use ::parquet::file::reader::{FileReader, RowGroupReader};
use ::parquet::file::serialized_reader::SerializedFileReader;
use ::parquet::schema::types::SchemaDescriptor;
use rustc_hash::FxHashSet;

use super::{cells, Cell};
use crate::encode::layout::{Layout, Slot};
use crate::encode::{Bloom, EncodedRecord, Token};
use crate::error::{Error, Location, Result};
use crate::io::cells::guarded;

/// Reads the records of the Parquet extract at `path` of `layout`, checking every value as the
/// CSV reader does (record ids present, UTF-8 and distinct; tokens, token sets and filters of
/// their lengths). Errors name the file, the row (as its line in the CSV extract: the first row
/// is line 2) and the column; a file the `parquet` crate cannot read, or panics on, is an input
/// error naming the file.
pub(crate) fn read_records(path: &Path, layout: &Layout) -> Result<Vec<EncodedRecord>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let reader = guarded(path, 1, "Parquet", || {
        SerializedFileReader::new(file).map_err(|e| {
            Error::input(
                Location::at(Some(path), 1),
                format!("not a readable Parquet file (cut short or corrupt?): {e}"),
            )
        })
    })?;
    let columns = cells(layout);
    check_columns(
        path,
        &columns,
        reader.metadata().file_metadata().schema_descr(),
    )?;
    let mut records = Vec::new();
    let mut ids = FxHashSet::default();
    let mut line = 2u64;
    for g in 0..reader.num_row_groups() {
        let first = line;
        let rows = guarded(path, first, "Parquet", || {
            let group = reader
                .get_row_group(g)
                .map_err(|e| unreadable(path, first, &e))?;
            read_group(path, first, layout, &columns, group.as_ref(), &mut records)
        })?;
        let start = records.len() - rows;
        for (k, r) in records.iter().enumerate().skip(start) {
            if !ids.insert(r.id.clone()) {
                return Err(Error::input(
                    Location::at(Some(path), first + (k - start) as u64).field("record_id"),
                    format!("record id '{}' appears twice", r.id),
                ));
            }
        }
        line += rows as u64;
    }
    Ok(records)
}

/// The error of a part of the file that cannot be read.
fn unreadable(path: &Path, line: u64, e: &dyn std::fmt::Display) -> Error {
    Error::input(
        Location::at(Some(path), line),
        format!("the Parquet file cannot be read here (cut short or corrupt?): {e}"),
    )
}

/// Checks that the file's columns are the layout's, in order, each a top-level binary column
/// (of the value's length when it is fixed).
fn check_columns(path: &Path, columns: &[(&str, Cell)], descr: &SchemaDescriptor) -> Result<()> {
    let fields = descr.root_schema().get_fields();
    let found: Vec<&str> = fields.iter().map(|f| f.name()).collect();
    let expected: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    if found != expected {
        return Err(Error::Mismatch(format!(
            "{}: the columns do not match the schema's encoded columns (expected {}, found {})",
            path.display(),
            expected.join(","),
            found.join(",")
        )));
    }
    let at = |name: &str| Location::at(Some(path), 1).field(name);
    if descr.num_columns() != columns.len() || fields.iter().any(|f| !f.is_primitive()) {
        let nested = fields
            .iter()
            .find(|f| !f.is_primitive())
            .map_or("", |f| f.name());
        return Err(Error::input(
            at(nested),
            "a nested column: the columns of an encoded extract are binary values",
        ));
    }
    for (j, (name, cell)) in columns.iter().enumerate() {
        let c = descr.column(j);
        let fits = match (c.physical_type(), cell.fixed()) {
            (Physical::BYTE_ARRAY, _) => true,
            (Physical::FIXED_LEN_BYTE_ARRAY, Some(n)) => usize::try_from(c.type_length()) == Ok(n),
            _ => false,
        };
        if !fits || c.max_rep_level() > 0 {
            let want = match cell.fixed() {
                Some(n) => format!("binary values of {n} bytes"),
                None => "binary values".to_string(),
            };
            return Err(Error::input(
                at(name),
                format!(
                    "the column holds {} values{}; it must hold {want}",
                    c.physical_type(),
                    if c.type_length() > 0 && c.physical_type() == Physical::FIXED_LEN_BYTE_ARRAY {
                        format!(" of {} bytes", c.type_length())
                    } else {
                        String::new()
                    }
                ),
            ));
        }
    }
    Ok(())
}

/// Reads row group `group` (whose first row is line `first`) onto the end of `records`; returns
/// its number of rows.
fn read_group(
    path: &Path,
    first: u64,
    layout: &Layout,
    columns: &[(&str, Cell)],
    group: &dyn RowGroupReader,
    records: &mut Vec<EncodedRecord>,
) -> Result<usize> {
    let rows = usize::try_from(group.metadata().num_rows())
        .map_err(|_| unreadable(path, first, &"a negative row count"))?;
    let start = records.len();
    for (j, (name, _)) in columns.iter().enumerate() {
        let at = |k: usize| Location::at(Some(path), first + k as u64).field(*name);
        let nullable = group.metadata().column(j).column_descr().max_def_level() > 0;
        let reader = group
            .get_column_reader(j)
            .map_err(|e| unreadable(path, first, &e))?;
        let (values, defs) =
            read_column(reader, rows, nullable).map_err(|e| unreadable(path, first, &e))?;
        let mut values = values.iter();
        if j == 0 {
            records.reserve(rows);
        }
        for k in 0..rows {
            let present = defs.as_ref().is_none_or(|d| d.get(k) == Some(&1));
            let value = if present {
                Some(
                    values
                        .next()
                        .ok_or_else(|| unreadable(path, first, &"values missing"))?,
                )
            } else {
                None
            };
            let value = value.map(ByteArray::data);
            if j == 0 {
                let id = parse_id(value).map_err(|m| Error::input(at(k), m))?;
                records.push(EncodedRecord {
                    id,
                    tokens: vec![None; layout.n_tokens],
                    sets: vec![Vec::new(); layout.n_sets],
                    blooms: vec![None; layout.n_blooms],
                });
                continue;
            }
            let (Some(record), Some(col), Some(value)) =
                (records.get_mut(start + k), layout.columns.get(j - 1), value)
            else {
                continue;
            };
            put(record, col.slot, value).map_err(|m| Error::input(at(k), m))?;
        }
    }
    Ok(rows)
}

/// A record id from its cell.
fn parse_id(value: Option<&[u8]>) -> std::result::Result<String, String> {
    let value = value.unwrap_or_default();
    let id = std::str::from_utf8(value).map_err(|_| "record id is not valid UTF-8".to_string())?;
    if id.is_empty() {
        return Err("empty record id".into());
    }
    Ok(id.to_string())
}

/// Puts the value of `slot` from its bytes into `record`; an empty token set is a missing one.
fn put(record: &mut EncodedRecord, slot: Slot, value: &[u8]) -> std::result::Result<(), String> {
    match slot {
        Slot::Token(i) => {
            let t: [u8; 16] = value
                .try_into()
                .map_err(|_| format!("not a token (16 bytes, not {})", value.len()))?;
            if let Some(out) = record.tokens.get_mut(i) {
                *out = Some(Token(t));
            }
        }
        Slot::Set(i) => {
            let set = parse_set(value).ok_or_else(|| {
                "not a token set (distinct 8-byte tokens in ascending order)".to_string()
            })?;
            if let Some(out) = record.sets.get_mut(i) {
                *out = set;
            }
        }
        Slot::Bloom { index, bits } => {
            let b = Bloom::from_le_bytes(value, bits).ok_or_else(|| {
                format!(
                    "not a Bloom filter of {bits} bits ({} bytes, not {})",
                    bits / 8,
                    value.len()
                )
            })?;
            if let Some(out) = record.blooms.get_mut(index) {
                *out = Some(b);
            }
        }
    }
    Ok(())
}

/// A token set from its bytes: 8 little-endian bytes per element, strictly ascending.
fn parse_set(value: &[u8]) -> Option<Vec<u64>> {
    if !value.len().is_multiple_of(8) {
        return None;
    }
    let mut out: Vec<u64> = Vec::with_capacity(value.len() / 8);
    for chunk in value.chunks_exact(8) {
        let v = u64::from_le_bytes(chunk.try_into().ok()?);
        if out.last().is_some_and(|&last| last >= v) {
            return None;
        }
        out.push(v);
    }
    Some(out)
}

/// The values of a column chunk, and its definition levels when it is nullable (a value where
/// a level is 1).
type ColumnValues<T> = (Vec<T>, Option<Vec<i16>>);

/// The values of a column chunk of `rows` rows (see [`ColumnValues`]).
fn read_column(
    reader: ColumnReader,
    rows: usize,
    nullable: bool,
) -> std::result::Result<ColumnValues<ByteArray>, String> {
    match reader {
        ColumnReader::ByteArrayColumnReader(mut r) => read_all(&mut r, rows, nullable),
        ColumnReader::FixedLenByteArrayColumnReader(mut r) => {
            let (values, defs) = read_all(&mut r, rows, nullable)?;
            Ok((values.into_iter().map(ByteArray::from).collect(), defs))
        }
        _ => Err("a column that is not binary".into()),
    }
}

/// Reads `rows` records of a column: their values and, when `nullable`, their levels.
fn read_all<T: DataType>(
    reader: &mut ColumnReaderImpl<T>,
    rows: usize,
    nullable: bool,
) -> std::result::Result<ColumnValues<T::T>, String> {
    let mut values = Vec::new();
    let mut defs = nullable.then(Vec::new);
    let mut read = 0;
    while read < rows {
        let (records, _, _) = reader
            .read_records(rows - read, defs.as_mut(), None, &mut values)
            .map_err(|e| e.to_string())?;
        if records == 0 {
            break;
        }
        read += records;
    }
    let present = defs
        .as_ref()
        .map_or(read, |d| d.iter().filter(|&&l| l == 1).count());
    if read != rows || values.len() != present {
        return Err(format!(
            "the column holds {read} rows and {} values where the row group has {rows} rows",
            values.len()
        ));
    }
    Ok((values, defs))
}
