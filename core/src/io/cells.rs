//! Raw extracts that are not CSV text: Excel workbooks (`.xlsx`, `io::sheet`) and
//! Parquet files (`io::parquet`), read as rows of text cells, each cell as a CSV
//! export of the same file would show it, so that the run checks, maps and encodes them exactly
//! as it does the rows of a CSV file.
//!
//! What a file is is told by its name (`.xlsx`, `.parquet`) and checked against its first
//! bytes: a name that promises a kind the bytes do not hold (`x.xlsx` that is not a ZIP archive)
//! is an error saying so, and a workbook or Parquet file under a `.csv` name is refused with the
//! advice to name it for what it is, as it always was (a renamed file is a mistake to point out,
//! not to guess around).

use std::io::Read;
use std::path::Path;

use csv::ByteRecord;

use crate::error::{Error, Location, Result};

/// What kind of file a raw extract is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InputKind {
    /// CSV (or tab-separated) text, in any of the text encodings.
    Csv,
    /// An Excel workbook (`.xlsx`, `.xlsm`): one sheet is read.
    Xlsx,
    /// A Parquet file.
    Parquet,
}

impl InputKind {
    /// The name the manifest records (`csv`, `xlsx`, `parquet`).
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::Csv => "csv",
            InputKind::Xlsx => "xlsx",
            InputKind::Parquet => "parquet",
        }
    }

    /// The kind of the file at `path`, from its name (`.xlsx` or `.xlsm`: a workbook;
    /// `.parquet` or `.pq`: Parquet; any other: CSV text), checked against its first bytes: a
    /// workbook must be a ZIP archive, a Parquet file must start with `PAR1`, else it is an error
    /// saying what the file is not. (A workbook or Parquet file under another name is refused
    /// when it is read as CSV, with the advice to name it for what it is.)
    pub fn of_file(path: &Path) -> Result<InputKind> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let kind = match ext.as_str() {
            "xlsx" | "xlsm" => InputKind::Xlsx,
            "parquet" | "pq" => InputKind::Parquet,
            _ => return Ok(InputKind::Csv),
        };
        let head = read_head(path)?;
        let at = || Location::at(Some(path), 1);
        match kind {
            InputKind::Xlsx if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) => Err(Error::input(
                at(),
                format!("the file is named .{ext} but is an Excel 97-2003 workbook (.xls), which is not read: open it in Excel and save it as an Excel Workbook (.xlsx) or as 'CSV UTF-8 (comma delimited)'"),
            )),
            InputKind::Xlsx if !head.starts_with(b"PK\x03\x04") => Err(Error::input(
                at(),
                format!(
                    "the file is named .{ext} but is not an Excel workbook (it is not a ZIP archive, as every .xlsx is); if it is CSV text, name it .csv"
                ),
            )),
            InputKind::Parquet if !head.starts_with(b"PAR1") => Err(Error::input(
                at(),
                format!(
                    "the file is named .{ext} but is not a Parquet file (it does not start with PAR1); it may be cut short or another kind of file"
                ),
            )),
            kind => Ok(kind),
        }
    }
}

impl std::fmt::Display for InputKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first (at most 8) bytes of the file at `path`.
fn read_head(path: &Path) -> Result<Vec<u8>> {
    let mut head = Vec::with_capacity(8);
    let f = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    f.take(8)
        .read_to_end(&mut head)
        .map_err(|e| Error::io("read", path, e))?;
    Ok(head)
}

/// A raw extract read as rows of text cells: its header, then its rows, each with the line a
/// person finds it on (a spreadsheet's row number; a Parquet row's line in the CSV export, the
/// first row being line 2).
pub(crate) trait CellRows: Send {
    /// The header: the column names, in order.
    fn names(&self) -> &[String];
    /// Reads the next row into `row` (one cell per column; a null is empty) and returns its
    /// line, or `None` at the end.
    fn next_row(&mut self, row: &mut ByteRecord) -> Result<Option<u64>>;
    /// The sheet read, for a workbook.
    fn sheet(&self) -> Option<&str> {
        None
    }
}

/// Opens `path`, of `kind` (not CSV), as rows of text cells; `sheet` names the workbook's sheet
/// to read (the first if `None`; refused for Parquet).
pub(crate) fn open(path: &Path, kind: InputKind, sheet: Option<&str>) -> Result<Box<dyn CellRows>> {
    match kind {
        InputKind::Xlsx => Ok(Box::new(super::sheet::SheetRows::open(path, sheet)?)),
        InputKind::Parquet => {
            if sheet.is_some() {
                return Err(Error::Invalid(format!(
                    "a sheet applies to Excel workbooks: {} is a Parquet file",
                    path.display()
                )));
            }
            Ok(Box::new(super::parquet::ParquetRows::open(path)?))
        }
        InputKind::Csv => Err(Error::Invalid(
            "CSV files are read as text, not as cells".into(),
        )),
    }
}

/// Runs `f`, turning a panic of a file reader (on a file corrupt in a way it did not foresee)
/// into an input error naming the file and the line reached: no input may stop the process.
pub(crate) fn guarded<T>(
    path: &Path,
    line: u64,
    what: &str,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Error::input(
            Location::at(Some(path), line),
            format!("the {what} reader failed on this file: it is corrupt or cut short"),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_by_their_names_and_false_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &[u8], Option<InputKind>, &str); 8] = [
            ("a.csv", b"record_id\n", Some(InputKind::Csv), ""),
            ("a.xlsx", b"PK\x03\x04\x14\0", Some(InputKind::Xlsx), ""),
            ("a.PQ", b"PAR1\x15\x04", Some(InputKind::Parquet), ""),
            ("a.txt", b"PK\x03\x04", Some(InputKind::Csv), ""),
            (
                "a.xlsx",
                b"\xD0\xCF\x11\xE0\xA1\xB1",
                None,
                "save it as an Excel Workbook",
            ),
            (
                "a.xlsx",
                b"record_id\n",
                None,
                "named .xlsx but is not an Excel",
            ),
            ("a.XLSM", b"", None, "named .xlsm but is not an Excel"),
            (
                "a.parquet",
                b"PAR",
                None,
                "named .parquet but is not a Parquet",
            ),
        ];
        for (name, bytes, kind, says) in cases {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            match (InputKind::of_file(&p), kind) {
                (Ok(got), Some(want)) => assert_eq!(got, want, "{name}"),
                (Err(e), None) => {
                    let e = e.to_string();
                    assert!(e.contains(says) && e.contains(name), "{name}: {e}");
                }
                (got, _) => panic!("{name}: {got:?}"),
            }
        }
    }
}
