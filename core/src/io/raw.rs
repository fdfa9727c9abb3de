//! Reading raw (cleartext) CSV extracts: header mapping and per-row checks.
//!
//! Columns are found by header name in any order; columns the schema does not use are ignored and
//! reported; schema fields whose column is absent are treated as missing in every row. A row is
//! rejected (never silently dropped) when it has the wrong number of cells, a cell the schema reads
//! is not valid UTF-8, its record id is empty, or its record id was already seen.

use std::collections::HashSet;
use std::path::Path;

use csv::ByteRecord;

use crate::error::{Error, Location, Result};
use crate::schema::Schema;

/// Why a row was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RejectReason {
    /// More or fewer cells than the header.
    WrongFieldCount,
    /// The record id cell is empty.
    EmptyRecordId,
    /// The record id was already used by an earlier row (the first one is kept).
    DuplicateRecordId,
    /// A cell is not valid UTF-8 (e.g. a Latin-1 or Windows-1252 export).
    InvalidUtf8,
    /// A cell holds a NUL byte or is longer than [`MAX_CELL_BYTES`].
    BadCell,
}

/// Longest cell accepted, in bytes (longer cells reject their row).
pub const MAX_CELL_BYTES: usize = 4096;

impl RejectReason {
    /// The reason code written to the rejects file and the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::WrongFieldCount => "wrong_field_count",
            RejectReason::EmptyRecordId => "empty_record_id",
            RejectReason::DuplicateRecordId => "duplicate_record_id",
            RejectReason::InvalidUtf8 => "invalid_utf8",
            RejectReason::BadCell => "bad_cell",
        }
    }
}

/// A rejected row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 1-based line where the row starts.
    pub line: u64,
    /// Why.
    pub reason: RejectReason,
    /// The column concerned, if one.
    pub field: Option<String>,
    /// A sentence for people.
    pub message: String,
}

/// Where the schema's columns are in one input file.
#[derive(Debug, Clone)]
pub struct RawLayout {
    /// Number of cells per row (the header's).
    pub width: usize,
    /// Index of the record id column.
    pub id: usize,
    /// Index of each schema field's column, `None` if absent.
    pub fields: Vec<Option<usize>>,
    /// Header names, for messages.
    pub names: Vec<String>,
    /// Columns in the file the schema does not use.
    pub ignored: Vec<String>,
    /// Schema fields with no column in the file.
    pub absent: Vec<String>,
}

impl RawLayout {
    /// Maps the header row of `file` onto `schema`.
    pub fn from_header(
        schema: &Schema,
        header: &ByteRecord,
        file: Option<&Path>,
    ) -> Result<RawLayout> {
        let mut names = Vec::with_capacity(header.len());
        for (i, cell) in header.iter().enumerate() {
            let cell = if i == 0 {
                cell.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(cell)
            } else {
                cell
            };
            let name = std::str::from_utf8(cell).map_err(|_| {
                Error::input(
                    Location::at(file, 1),
                    format!(
                        "header cell {} is not valid UTF-8; save the file as UTF-8",
                        i + 1
                    ),
                )
            })?;
            names.push(name.to_string());
        }
        RawLayout::from_names(schema, names, file)
    }

    /// Maps column names (a CSV header, or the columns of an in-memory table) onto `schema`.
    /// Names are trimmed; a name given twice is an error.
    pub fn from_names(
        schema: &Schema,
        names: Vec<String>,
        file: Option<&Path>,
    ) -> Result<RawLayout> {
        let loc = || Location::at(file, 1);
        let names: Vec<String> = names.into_iter().map(|n| n.trim().to_string()).collect();
        let mut seen = HashSet::new();
        for n in &names {
            if !n.is_empty() && !seen.insert(n.as_str()) {
                return Err(Error::input(
                    loc().field(n.clone()),
                    format!("the header names column '{n}' twice"),
                ));
            }
        }
        let find = |col: &str| names.iter().position(|n| n == col);
        let id = find(&schema.record_id).ok_or_else(|| {
            Error::input(
                loc().field(schema.record_id.clone()),
                format!(
                    "no record id column '{}' in the header (found: {})",
                    schema.record_id,
                    names.join(", ")
                ),
            )
        })?;
        let fields: Vec<Option<usize>> = schema.fields.iter().map(|f| find(f.column())).collect();
        let used: HashSet<usize> = fields.iter().flatten().copied().chain([id]).collect();
        let ignored = names
            .iter()
            .enumerate()
            .filter(|(i, _)| !used.contains(i))
            .map(|(_, n)| n.clone())
            .collect();
        let absent = schema
            .fields
            .iter()
            .zip(&fields)
            .filter(|(_, c)| c.is_none())
            .map(|(f, _)| f.column().to_string())
            .collect();
        Ok(RawLayout {
            width: names.len(),
            id,
            fields,
            names,
            ignored,
            absent,
        })
    }

    /// Checks one row: cell count, UTF-8 and size of the cells read, a non-empty record id.
    pub fn check_row(&self, row: &ByteRecord, line: u64) -> std::result::Result<(), Rejection> {
        self.check_cells(row.len(), |c| row.get(c), line)
    }

    /// Checks one row given as `cells` cells, `cell(i)` being the bytes of cell `i` (`None` for a
    /// null, which counts as empty): the checks of [`check_row`](Self::check_row), for rows that
    /// do not come from a CSV file.
    pub fn check_cells<'c>(
        &self,
        cells: usize,
        cell: impl Fn(usize) -> Option<&'c [u8]>,
        line: u64,
    ) -> std::result::Result<(), Rejection> {
        let reject = |reason, field: Option<usize>, message: String| Rejection {
            line,
            reason,
            field: field.and_then(|i| self.names.get(i).cloned()),
            message,
        };
        if cells != self.width {
            return Err(reject(
                RejectReason::WrongFieldCount,
                None,
                format!("{} cells where the header has {}", cells, self.width),
            ));
        }
        for col in std::iter::once(Some(self.id))
            .chain(self.fields.iter().copied())
            .flatten()
        {
            let cell = cell(col).unwrap_or_default();
            if cell.len() > MAX_CELL_BYTES {
                return Err(reject(
                    RejectReason::BadCell,
                    Some(col),
                    format!(
                        "cell of {} bytes is longer than the limit of {MAX_CELL_BYTES}",
                        cell.len()
                    ),
                ));
            }
            if cell.contains(&0) {
                return Err(reject(
                    RejectReason::BadCell,
                    Some(col),
                    "cell holds a NUL byte".into(),
                ));
            }
            if let Err(e) = std::str::from_utf8(cell) {
                return Err(reject(
                    RejectReason::InvalidUtf8,
                    Some(col),
                    format!(
                        "not valid UTF-8 at byte {} (is the file Latin-1 or Windows-1252? save it as UTF-8)",
                        e.valid_up_to() + 1
                    ),
                ));
            }
        }
        let id = cell(self.id)
            .and_then(|c| std::str::from_utf8(c).ok())
            .unwrap_or("");
        if id.trim().is_empty() {
            return Err(reject(
                RejectReason::EmptyRecordId,
                Some(self.id),
                "the record id is empty".into(),
            ));
        }
        Ok(())
    }

    /// Cell `col` of a row that passed [`check_row`](Self::check_row), as text.
    pub fn cell<'r>(&self, row: &'r ByteRecord, col: usize) -> &'r str {
        row.get(col)
            .and_then(|c| std::str::from_utf8(c).ok())
            .unwrap_or("")
    }

    /// The record id of a checked row (trimmed).
    pub fn record_id<'r>(&self, row: &'r ByteRecord) -> &'r str {
        self.cell(row, self.id).trim()
    }
}
