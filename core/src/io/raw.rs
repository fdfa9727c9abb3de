//! Reading raw (cleartext) CSV extracts: header mapping and per-row checks.
//!
//! Columns are found by header name in any order; columns the schema does not use are ignored and
//! reported; schema fields whose column is absent are treated as missing in every row. A row is
//! rejected (never silently dropped) when it has the wrong number of cells, a cell the schema reads
//! is not valid UTF-8, its record id is empty, or its record id was already seen.
//!
//! One defect is never a mere rejection: a row that runs over several lines *and* has the wrong
//! number of cells, the mark of an unbalanced quote ([`RejectReason::UnbalancedQuote`]). The lines
//! it swallowed held rows that can no longer be told apart or counted, so the whole file is
//! refused ([`RejectReason::is_fatal`]).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use csv::{ByteRecord, StringRecord};

use crate::error::{Error, Location, Result};
use crate::schema::Schema;

/// A row read from a CSV file: as text when all of its cells are valid UTF-8 (checked once,
/// as it is read), otherwise as bytes (a column the schema does not read may hold anything).
#[derive(Debug, Clone)]
pub enum CsvRow {
    /// Every cell is valid UTF-8.
    Text(StringRecord),
    /// Some cell is not valid UTF-8.
    Bytes(ByteRecord),
}

impl Default for CsvRow {
    fn default() -> Self {
        CsvRow::Bytes(ByteRecord::new())
    }
}

impl CsvRow {
    /// The row as text when it is valid UTF-8, otherwise as bytes.
    pub fn from_bytes(row: ByteRecord) -> CsvRow {
        match StringRecord::from_byte_record(row) {
            Ok(text) => CsvRow::Text(text),
            Err(e) => CsvRow::Bytes(e.into_byte_record()),
        }
    }

    /// The row's memory, to read the next row into.
    pub fn into_bytes(self) -> ByteRecord {
        match self {
            CsvRow::Text(text) => text.into_byte_record(),
            CsvRow::Bytes(bytes) => bytes,
        }
    }

    /// The row as bytes.
    pub fn bytes(&self) -> &ByteRecord {
        match self {
            CsvRow::Text(text) => text.as_byte_record(),
            CsvRow::Bytes(bytes) => bytes,
        }
    }
}

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
    /// A row runs over several lines and has the wrong number of cells: a quote opened in it is
    /// not closed where it should be, so the following lines were read into one cell. Fatal: see
    /// [`is_fatal`](Self::is_fatal).
    UnbalancedQuote,
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
            RejectReason::UnbalancedQuote => "unbalanced_quote",
        }
    }

    /// Whether a row rejected for this reason stops the run even when a rejects file was given:
    /// true for [`UnbalancedQuote`](Self::UnbalancedQuote), whose swallowed lines would otherwise
    /// be lost without being counted.
    pub fn is_fatal(self) -> bool {
        matches!(self, RejectReason::UnbalancedQuote)
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
        Self::from_header_mapped(schema, header, &ColumnMap::new(), file)
    }

    /// Maps the header row of `file` onto `schema`, the schema's columns named in `columns`
    /// found under the names it gives them.
    pub fn from_header_mapped(
        schema: &Schema,
        header: &ByteRecord,
        columns: &ColumnMap,
        file: Option<&Path>,
    ) -> Result<RawLayout> {
        let mut names = Vec::with_capacity(header.len());
        for (i, cell) in header.iter().enumerate() {
            let cell = if i == 0 {
                cell.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(cell)
            } else {
                cell
            };
            if cell.contains(&0) {
                return Err(Error::input(
                    Location::at(file, 1),
                    "the header holds NUL bytes: the file is probably UTF-16 without a byte order mark (give its encoding: utf-16), or not text at all",
                ));
            }
            let name = std::str::from_utf8(cell).map_err(|_| {
                Error::input(
                    Location::at(file, 1),
                    format!(
                        "header cell {} is not valid UTF-8: give the file's encoding (e.g. windows-1252) or save it as UTF-8",
                        i + 1
                    ),
                )
            })?;
            names.push(name.to_string());
        }
        RawLayout::from_names_mapped(schema, names, columns, file)
    }

    /// Maps column names (a CSV header, or the columns of an in-memory table) onto `schema`
    /// (names are trimmed; a name given twice is an error), the schema's columns named in
    /// `columns` found under the names it gives them. A mapping of a column the schema does not have, or to a column the
    /// input does not have, is an error listing what there is.
    pub fn from_names_mapped(
        schema: &Schema,
        names: Vec<String>,
        columns: &ColumnMap,
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
        check_column_map(schema, &names, columns, file)?;
        let input_column = |col: &str| columns.get(col).map_or(col, String::as_str).to_string();
        let find = |col: &str| {
            let col = input_column(col);
            names.iter().position(|n| *n == col)
        };
        let id = find(&schema.record_id).ok_or_else(|| {
            let looked_for = input_column(&schema.record_id);
            let mut hint = header_hint(&names, &looked_for);
            if hint.is_empty() {
                hint = format!(
                    "; if the ids are in another column, map it: --column {0}=<column> (Python columns={{'{0}': '<column>'}})",
                    schema.record_id
                );
            }
            Error::input(
                loc().field(looked_for.clone()),
                format!(
                    "no record id column '{looked_for}' in the header (found: {}){hint}",
                    names.join(", "),
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

    /// Checks one row: cell count (and an unbalanced quote), UTF-8 and size of the cells read, a non-empty record id.
    pub fn check_row(&self, row: &ByteRecord, line: u64) -> std::result::Result<(), Rejection> {
        // One validation of the whole row instead of one per cell: the row is valid UTF-8 and
        // every cell starts on a character boundary exactly when every cell is valid UTF-8.
        let whole_row_utf8 = std::str::from_utf8(row.as_slice()).is_ok()
            && row
                .iter()
                .all(|cell| cell.first().is_none_or(|b| (*b as i8) >= -0x40));
        let whole = Some(row.as_slice());
        self.check_cells_inner(row.len(), |c| row.get(c), line, whole, whole_row_utf8)
    }

    /// [`check_row`](Self::check_row) of a [`CsvRow`]: a row read as text is not checked for
    /// UTF-8 again.
    pub fn check_csv_row(&self, row: &CsvRow, line: u64) -> std::result::Result<(), Rejection> {
        match row {
            CsvRow::Text(text) => {
                let bytes = text.as_byte_record();
                let whole = Some(bytes.as_slice());
                self.check_cells_inner(bytes.len(), |c| bytes.get(c), line, whole, true)
            }
            CsvRow::Bytes(bytes) => self.check_row(bytes, line),
        }
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
        self.check_cells_inner(cells, cell, line, None, false)
    }

    /// [`check_cells`](Self::check_cells); `whole`: every cell's bytes one after the other, when
    /// they are at hand; `utf8_checked`: every cell is known to be valid UTF-8.
    fn check_cells_inner<'c>(
        &self,
        cells: usize,
        cell: impl Fn(usize) -> Option<&'c [u8]>,
        line: u64,
        whole: Option<&[u8]>,
        utf8_checked: bool,
    ) -> std::result::Result<(), Rejection> {
        let reject = |reason, field: Option<usize>, message: String| Rejection {
            line,
            reason,
            field: field.and_then(|i| self.names.get(i).cloned()),
            message,
        };
        if cells != self.width {
            let breaks: u64 = (0..cells)
                .filter_map(&cell)
                .map(|c| c.iter().filter(|&&b| b == b'\n').count() as u64)
                .sum();
            if breaks > 0 {
                return Err(reject(
                    RejectReason::UnbalancedQuote,
                    None,
                    format!(
                        "the row starting on line {line} runs to line {} and has {} cells where the header has {}: a quote (\") in it is not closed where it should be, so the lines after it were read as one cell and their rows cannot be counted; fix the quoting (the whole file is refused)",
                        line + breaks,
                        cells,
                        self.width
                    ),
                ));
            }
            return Err(reject(
                RejectReason::WrongFieldCount,
                None,
                format!("{} cells where the header has {}", cells, self.width),
            ));
        }
        // A row shorter than the cell limit and without a NUL byte passes both checks in every
        // cell: one search of the whole row instead of one per cell.
        let clean = whole.is_some_and(|w| w.len() <= MAX_CELL_BYTES && !w.contains(&0));
        let columns = std::iter::once(Some(self.id))
            .chain(self.fields.iter().copied())
            .flatten();
        for col in columns.filter(|_| !(clean && utf8_checked)) {
            let cell = cell(col).unwrap_or_default();
            if !clean && cell.len() > MAX_CELL_BYTES {
                return Err(reject(
                    RejectReason::BadCell,
                    Some(col),
                    format!(
                        "cell of {} bytes is longer than the limit of {MAX_CELL_BYTES}",
                        cell.len()
                    ),
                ));
            }
            if !clean && cell.contains(&0) {
                return Err(reject(
                    RejectReason::BadCell,
                    Some(col),
                    "cell holds a NUL byte".into(),
                ));
            }
            if utf8_checked {
                continue;
            }
            if let Err(e) = std::str::from_utf8(cell) {
                return Err(reject(
                    RejectReason::InvalidUtf8,
                    Some(col),
                    format!(
                        "not valid UTF-8 at byte {} (is the file Latin-1 or Windows-1252? give its encoding, e.g. --encoding windows-1252, or save it as UTF-8)",
                        e.valid_up_to() + 1
                    ),
                ));
            }
        }
        let id = cell(self.id)
            .and_then(|c| std::str::from_utf8(c).ok())
            .unwrap_or("");
        if trim_id(id).is_empty() {
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
        trim_id(self.cell(row, self.id))
    }

    /// [`cell`](Self::cell) of a [`CsvRow`] (a row read as text is not checked again).
    pub fn csv_cell<'r>(&self, row: &'r CsvRow, col: usize) -> &'r str {
        match row {
            CsvRow::Text(text) => text.get(col).unwrap_or(""),
            CsvRow::Bytes(bytes) => self.cell(bytes, col),
        }
    }

    /// [`record_id`](Self::record_id) of a [`CsvRow`].
    pub fn csv_record_id<'r>(&self, row: &'r CsvRow) -> &'r str {
        trim_id(self.csv_cell(row, self.id))
    }
}

/// A record id without the white space around it.
fn trim_id(id: &str) -> &str {
    match (id.as_bytes().first(), id.as_bytes().last()) {
        // Most ids start and end with a visible ASCII character: nothing to trim.
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => id,
        _ => id.trim(),
    }
}

/// A mapping of the schema's columns (the record id and fields' columns) to the input's column
/// names, for an input whose columns are named otherwise (`first_name` -> `forename`): the schema
/// is shared by every agency, their column names are not.
pub type ColumnMap = BTreeMap<String, String>;

/// Checks that every column `columns` maps is the schema's and is mapped to one of `names`.
fn check_column_map(
    schema: &Schema,
    names: &[String],
    columns: &ColumnMap,
    file: Option<&Path>,
) -> Result<()> {
    for (from, to) in columns {
        let known = *from == schema.record_id || schema.fields.iter().any(|f| f.column() == from);
        if !known {
            let mut wanted: Vec<&str> = vec![schema.record_id.as_str()];
            wanted.extend(schema.fields.iter().map(|f| f.column()));
            return Err(Error::Invalid(format!(
                "the column mapping names '{from}', which is not a column of the schema (its columns: {})",
                wanted.join(", ")
            )));
        }
        if !names.iter().any(|n| n == to) {
            return Err(Error::input(
                Location::at(file, 1).field(to.clone()),
                format!(
                    "the column mapping maps '{from}' to '{to}', which is not in the header (found: {})",
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// A column mapping given as `SCHEMA_COLUMN=INPUT_COLUMN` (a command-line argument).
///
/// ```
/// let (from, to) = pseudolink::io::parse_column_arg("first_name=forename").unwrap();
/// assert_eq!((from.as_str(), to.as_str()), ("first_name", "forename"));
/// ```
pub fn parse_column_arg(arg: &str) -> Result<(String, String)> {
    match arg.split_once('=') {
        Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => {
            Ok((from.trim().to_string(), to.trim().to_string()))
        }
        _ => Err(Error::Invalid(format!(
            "column mapping '{arg}' is not SCHEMA_COLUMN=INPUT_COLUMN (e.g. first_name=forename)"
        ))),
    }
}

/// Adds `(from, to)` to `map`; a schema column mapped twice is an error.
pub fn add_column(map: &mut ColumnMap, from: String, to: String) -> Result<()> {
    if let Some(old) = map.get(&from) {
        if *old != to {
            return Err(Error::Invalid(format!(
                "the column mapping maps '{from}' twice: to '{old}' and to '{to}'"
            )));
        }
    }
    map.insert(from, to);
    Ok(())
}

/// The column mapping of an optional mapping file (see [`read_column_map`]) with `more` added to
/// it (see [`add_column`]), as `pseudolink encode --columns FILE --column A=B` builds it.
pub fn column_map_with(file: Option<&Path>, more: &ColumnMap) -> Result<ColumnMap> {
    let mut map = match file {
        Some(path) => read_column_map(path)?,
        None => ColumnMap::new(),
    };
    for (from, to) in more {
        add_column(&mut map, from.clone(), to.clone())?;
    }
    Ok(map)
}

/// Reads a column mapping file: a JSON object `{"first_name": "forename", ...}` (`.json`), or a
/// CSV file whose header is `schema_column,input_column` and each row one mapping.
pub fn read_column_map(path: &Path) -> Result<ColumnMap> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let mut map = ColumnMap::new();
    if is_json {
        let pairs: BTreeMap<String, String> = serde_json::from_str(&text).map_err(|e| {
            Error::input(
                Location::at(Some(path), e.line() as u64),
                format!("not a JSON object of column names to column names: {e}"),
            )
        })?;
        for (from, to) in pairs {
            add_column(&mut map, from, to)?;
        }
        return Ok(map);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    for (k, row) in reader.records().enumerate() {
        let row = row.map_err(|e| csv_error(path, &e))?;
        let line = row.position().map_or(k as u64 + 1, |p| p.line());
        let cells: Vec<&str> = row.iter().map(str::trim).collect();
        if k == 0 {
            let first = cells.first().map(|c| c.trim_start_matches('\u{feff}'));
            let header = cells.len() == 2
                && first == Some("schema_column")
                && cells.get(1) == Some(&"input_column");
            if !header {
                return Err(Error::input(
                    Location::at(Some(path), line),
                    "a column mapping file's header must be 'schema_column,input_column'",
                ));
            }
            continue;
        }
        match cells.as_slice() {
            [] | [""] => {}
            [from, to] if !from.is_empty() && !to.is_empty() => {
                add_column(&mut map, from.to_string(), to.to_string())
                    .map_err(|e| Error::input(Location::at(Some(path), line), e.to_string()))?;
            }
            _ => {
                return Err(Error::input(
                    Location::at(Some(path), line),
                    "expected two cells: the schema's column and the input's column",
                ))
            }
        }
    }
    Ok(map)
}

/// A hint for a header without the record id column: another separator, or another case.
fn header_hint(names: &[String], record_id: &str) -> String {
    if let [only] = names {
        for (sep, what) in [(';', "semicolons"), ('\t', "tabs"), ('|', "vertical bars")] {
            if only.contains(sep) {
                return format!(
                    "; the header is one cell holding {what}: give the file's delimiter (--delimiter '{}', Python delimiter='{}')",
                    sep.escape_default(),
                    sep.escape_default()
                );
            }
        }
    }
    match names.iter().find(|n| n.eq_ignore_ascii_case(record_id)) {
        Some(n) => format!("; column names are case-sensitive: '{n}' is not '{record_id}'"),
        None => String::new(),
    }
}

/// Refuses, with a message saying what to do, a file that is plainly not CSV text: an Excel
/// workbook (by the ZIP or OLE2 signature of `.xlsx` and `.xls`) saved under a `.csv` name.
/// Returns the file's first bytes (at most 4), in which a byte order mark names its encoding.
pub fn refuse_non_csv(input: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut head = [0u8; 4];
    let mut f = std::fs::File::open(input).map_err(|e| Error::io("read", input, e))?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("read", input, e)),
        }
    }
    let head = head.get(..n).unwrap_or_default();
    if head.starts_with(b"PK\x03\x04") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(Error::input(
            Location::at(Some(input), 1),
            "the file is a workbook or archive (an Excel .xlsx or .xls file?), not CSV text; name an .xlsx workbook .xlsx to read it as one, or open it in Excel and save it as 'CSV UTF-8 (comma delimited)'",
        ));
    }
    if head.starts_with(b"PAR1") {
        return Err(Error::input(
            Location::at(Some(input), 1),
            "the file is a Parquet file, not CSV text: name it .parquet to read it as one",
        ));
    }
    Ok(head.to_vec())
}

/// The input error of a CSV reading error in `file`, at its line (an error of the reader itself,
/// such as a line too long, names its line in the message).
pub fn csv_error(file: &Path, e: &csv::Error) -> Error {
    let location = match e.position() {
        Some(p) => Location::at(Some(file), p.line()),
        None => Location {
            file: Some(file.to_path_buf()),
            ..Location::default()
        },
    };
    Error::input(location, format!("malformed CSV: {e}"))
}

/// Longest line accepted in a CSV input, in bytes between two line breaks. A file without line
/// breaks (a binary file, a dump on one line) would otherwise be buffered whole by the CSV reader;
/// a real row, even with a 10 MB cell, is far shorter.
pub const MAX_LINE_BYTES: u64 = 64 << 20;

/// A reader that fails, with an [`std::io::ErrorKind::InvalidData`] error naming the line, once a
/// line grows longer than its limit, so reading any input takes bounded memory.
pub struct LineGuard<R> {
    inner: R,
    max: u64,
    since_break: u64,
    line: u64,
}

impl<R> LineGuard<R> {
    /// Guards `inner` with the limit [`MAX_LINE_BYTES`].
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, MAX_LINE_BYTES)
    }

    /// The reader underneath.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Guards `inner` with the limit `max` bytes.
    pub fn with_limit(inner: R, max: u64) -> Self {
        LineGuard {
            inner,
            max,
            since_break: 0,
            line: 1,
        }
    }
}

/// The number of `\n` bytes in `bytes`, counted in byte-wide sums of up to 255 bytes (which
/// the compiler vectorises sixteen or more bytes at a time).
fn count_line_breaks(bytes: &[u8]) -> u64 {
    bytes
        .chunks(255)
        .map(|chunk| {
            let n: u8 = chunk.iter().map(|&b| u8::from(b == b'\n')).sum();
            u64::from(n)
        })
        .sum()
}

impl<R: std::io::Read> std::io::Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let read = buf.get(..n).unwrap_or_default();
        match read.iter().rposition(|&b| b == b'\n') {
            Some(last) => {
                self.line += count_line_breaks(read);
                self.since_break = (n - last - 1) as u64;
            }
            None => self.since_break += n as u64,
        }
        if self.since_break > self.max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "line {} runs past {} bytes without a line break: this is not a CSV extract",
                    self.line, self.max
                ),
            ));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(cells: &[&str]) -> ByteRecord {
        ByteRecord::from(cells.to_vec())
    }

    fn layout(header: &[&str]) -> Result<RawLayout> {
        RawLayout::from_header(&Schema::example(), &record(header), None)
    }

    proptest::proptest! {
        /// The shortcut for ids starting and ending with a visible ASCII character trims what
        /// `str::trim` trims.
        #[test]
        fn ids_are_trimmed_like_str_trim(s in "[ \t\r\n\u{A0}\u{3000}\u{85}a-z~!\x7f\x00-\x1f]{0,6}") {
            proptest::prop_assert_eq!(trim_id(&s), s.trim());
        }

        #[test]
        fn line_breaks_are_counted(bytes in proptest::collection::vec(
            proptest::sample::select(vec![b'\n', b'a', b'\r', 0, 255]), 0..2000,
        )) {
            let want = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            proptest::prop_assert_eq!(count_line_breaks(&bytes), want);
        }

        /// The whole-row UTF-8 check of `check_row` gives the same verdict (and message) as
        /// checking cell by cell, including multi-byte characters split across cells, invalid
        /// and NUL bytes in a column the schema does not use, and cells about the cell limit
        /// long (the whole-row search for NUL bytes).
        #[test]
        fn check_row_agrees_with_checking_each_cell(
            cells in proptest::collection::vec(
                proptest::collection::vec(proptest::prop_oneof![
                    proptest::num::u8::ANY,
                    proptest::sample::select(vec![b'a', 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f]),
                ], 0..6),
                4,
            ),
            long in proptest::option::of((0usize..4, 4085usize..4100)),
        ) {
            let l = layout(&["record_id", "first_name", "other", "last_name"]).unwrap();
            let mut cells = cells;
            cells[0].insert(0, b'r');
            // One cell, maybe one the schema does not use, about the cell limit long, and with
            // it a row longer than the limit.
            if let Some((c, len)) = long {
                cells[c].resize(len, b'a');
            }
            let row = ByteRecord::from(cells.clone());
            let by_row = l.check_row(&row, 2);
            let by_cell = l.check_cells(cells.len(), |c| cells.get(c).map(Vec::as_slice), 2);
            proptest::prop_assert_eq!(&by_row, &by_cell);
            // Read as a `CsvRow` (text when every cell is UTF-8): the same verdict, and the
            // same cells once accepted.
            let csv_row = CsvRow::from_bytes(row.clone());
            proptest::prop_assert_eq!(&l.check_csv_row(&csv_row, 2), &by_row);
            if by_row.is_ok() {
                for c in 0..cells.len() {
                    proptest::prop_assert_eq!(l.csv_cell(&csv_row, c), l.cell(&row, c));
                }
                proptest::prop_assert_eq!(l.csv_record_id(&csv_row), l.record_id(&row));
            }
        }
    }

    /// Found with the bad-input corpus: a quote never closed swallowed the following lines into
    /// one cell, and the row was rejected as one `wrong_field_count` while the rows it swallowed
    /// went uncounted. A multi-line row with the wrong cell count is now fatal.
    #[test]
    fn a_multi_line_row_with_the_wrong_cell_count_is_an_unbalanced_quote() {
        let l = layout(&["record_id", "first_name", "last_name"]).unwrap();
        let r = l
            .check_row(
                &record(&["A2", "Omar,Khan\nA3,Zoe,Brown\nA4,Ian,Jones\n"]),
                3,
            )
            .unwrap_err();
        assert_eq!(r.reason, RejectReason::UnbalancedQuote);
        assert!(r.reason.is_fatal());
        assert!(r.message.contains("runs to line 6"), "{}", r.message);
        // One line, wrong count: an ordinary, counted rejection.
        let r = l.check_row(&record(&["A2", "Omar"]), 3).unwrap_err();
        assert_eq!(r.reason, RejectReason::WrongFieldCount);
        assert!(!r.reason.is_fatal());
        // Several lines, right count: a quoted cell with a line break, accepted.
        assert!(l
            .check_row(&record(&["A2", "Omar", "Flat 2\r\nKhan"]), 3)
            .is_ok());
    }

    /// Found with the bad-input corpus: a UTF-16 file without a byte order mark gave "no record id
    /// column" with NUL characters printed to the terminal.
    #[test]
    fn a_header_with_nul_bytes_is_refused_as_utf16() {
        let e = layout(&["\0r\0e\0c", "x"]).unwrap_err();
        assert!(
            e.to_string().contains("UTF-16 without a byte order mark"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_id_column_hints_at_separators_and_case() {
        let e = layout(&["record_id;first_name;last_name"]).unwrap_err();
        assert!(e.to_string().contains("holding semicolons"), "{e}");
        let e = layout(&["Record_ID", "first_name"]).unwrap_err();
        assert!(e.to_string().contains("case-sensitive: 'Record_ID'"), "{e}");
        let e = layout(&["id", "first_name"]).unwrap_err();
        assert!(
            e.to_string()
                .contains("(found: id, first_name); if the ids are in another column, map it: --column record_id=<column>"),
            "{e}"
        );
    }

    #[test]
    fn workbooks_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&[u8], &str); 2] = [
            (b"PK\x03\x04\x14\x00", "Excel .xlsx"),
            (b"\xD0\xCF\x11\xE0\xA1\xB1", "Excel .xlsx"),
        ];
        for (bytes, says) in cases {
            let p = dir.path().join("x.csv");
            std::fs::write(&p, bytes).unwrap();
            let e = refuse_non_csv(&p).unwrap_err();
            assert!(e.to_string().contains(says), "{e}");
        }
        // UTF-16 is read (decoded), its byte order mark returned to name the encoding.
        for ok in [&b""[..], b"P", b"record_id\n", b"\xFF\xFEr\0"] {
            let p = dir.path().join("ok.csv");
            std::fs::write(&p, ok).unwrap();
            assert_eq!(refuse_non_csv(&p).unwrap(), &ok[..ok.len().min(4)]);
        }
    }

    #[test]
    fn a_line_longer_than_the_limit_stops_the_reader_and_names_the_line() {
        use std::io::Read;
        let mut ok = LineGuard::with_limit(&b"ab\ncdef\ngh\n"[..], 4);
        let mut all = Vec::new();
        ok.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 11);
        let data = b"header\nrow\n0123456789".to_vec();
        let mut bad = LineGuard::with_limit(&data[..], 4);
        let e = bad.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("line 3 runs past 4 bytes"), "{e}");
    }
}
