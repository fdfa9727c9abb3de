//! Excel workbooks (`.xlsx`) as raw extracts, read by calamine: one sheet (the first, or the one
//! named), its first non-empty row the header, every cell read as text as a CSV export would show
//! it:
//!
//! - text as written (leading zeros, spaces and all);
//! - whole numbers without a fraction (`9434765919`, not `9434765919.0`), others in their
//!   shortest exact form (`0.1`); a whole number formatted with zeros only (`00000`, Excel's
//!   way of keeping leading zeros on a number) padded as shown (`00123`);
//! - a date as `yyyy-mm-dd` (with ` hh:mm:ss` when it has a time of day), whatever its display
//!   format: a short date's display depends on the PC's locale (`09/03/2014` in the UK,
//!   `3/9/2014` in the US), its value does not, and the date normaliser reads both;
//! - `TRUE`/`FALSE`, and errors as Excel shows them (`#N/A`); an empty cell is empty.
//!
//! Rows are numbered as the spreadsheet numbers them, so a rejected row's line is the row to
//! look at in Excel.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Range, Reader, StyleRange, Xlsx};
use csv::ByteRecord;

use super::cells::{guarded, CellRows};
use crate::error::{Error, Location, Result};

/// The rows of one sheet of a workbook.
pub(crate) struct SheetRows {
    /// The sheet's name.
    sheet: String,
    names: Vec<String>,
    range: Range<Data>,
    styles: StyleRange,
    /// The next row to read, relative to the range.
    next: usize,
    /// The spreadsheet row number (1-based) of the range's first row, the header.
    first_row: u64,
}

impl SheetRows {
    /// Opens sheet `sheet` (the first if `None`) of the workbook at `path`.
    pub(crate) fn open(path: &Path, sheet: Option<&str>) -> Result<SheetRows> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
        guarded(path, 1, "Excel", || Self::from_bytes(path, bytes, sheet))
    }

    fn from_bytes(path: &Path, bytes: Vec<u8>, sheet: Option<&str>) -> Result<SheetRows> {
        let whole = || Location {
            file: Some(path.to_path_buf()),
            ..Location::default()
        };
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
            Error::input(
                whole(),
                format!("not a readable Excel .xlsx workbook ({e}); if it opens in Excel, save it again as an Excel Workbook (.xlsx) or as CSV UTF-8"),
            )
        })?;
        let sheets = book.sheet_names();
        let name = match sheet {
            Some(s) => sheets.iter().find(|n| *n == s).cloned().ok_or_else(|| {
                Error::input(
                    whole(),
                    format!(
                        "no sheet '{s}' in the workbook (its sheets: {})",
                        quoted(&sheets)
                    ),
                )
            })?,
            None => sheets
                .first()
                .cloned()
                .ok_or_else(|| Error::input(whole(), "the workbook has no sheets"))?,
        };
        let unreadable = |e: calamine::XlsxError| {
            Error::input(whole(), format!("sheet '{name}' cannot be read: {e}"))
        };
        let range = book.worksheet_range(&name).map_err(unreadable)?;
        let Some((top, _)) = range.start() else {
            return Err(Error::input(
                Location::at(Some(path), 1),
                format!("sheet '{name}' is empty: expected a header row"),
            ));
        };
        // Only the number formats are used (zero-padded whole numbers): a workbook whose styles
        // cannot be read is read without them.
        let styles = book
            .worksheet_style(&name)
            .unwrap_or_else(|_| StyleRange::empty());
        let mut rows = SheetRows {
            sheet: name,
            names: Vec::new(),
            range,
            styles,
            next: 0,
            first_row: u64::from(top) + 1,
        };
        let mut header = ByteRecord::new();
        rows.read(0, &mut header);
        rows.names = header
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        rows.next = 1;
        Ok(rows)
    }

    /// Reads row `r` of the range into `row`.
    fn read(&self, r: usize, row: &mut ByteRecord) {
        row.clear();
        let (top, left) = self.range.start().unwrap_or((0, 0));
        let mut text = String::new();
        for c in 0..self.range.width() {
            text.clear();
            if let Some(cell) = self.range.get((r, c)) {
                let at = (top + r as u32, left + c as u32);
                cell_text(cell, || self.zero_padding(at), &mut text);
            }
            row.push_field(text.as_bytes());
        }
    }

    /// The width of the cell at `at`'s zero-padded number format (`00000`: 5), if it has one.
    fn zero_padding(&self, at: (u32, u32)) -> Option<usize> {
        let code = &self.styles.get(at)?.number_format.as_ref()?.format_code;
        (code.len() > 1 && code.bytes().all(|b| b == b'0')).then_some(code.len())
    }
}

impl CellRows for SheetRows {
    fn names(&self) -> &[String] {
        &self.names
    }

    fn sheet(&self) -> Option<&str> {
        Some(&self.sheet)
    }

    fn next_row(&mut self, row: &mut ByteRecord) -> Result<Option<u64>> {
        if self.next >= self.range.height() {
            return Ok(None);
        }
        self.read(self.next, row);
        let line = self.first_row + self.next as u64;
        self.next += 1;
        Ok(Some(line))
    }
}

/// Sheet names for a message: `'People', 'Notes'`.
fn quoted(names: &[String]) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    names.join(", ")
}

/// Writes the text of `cell` as a CSV export shows it into `out`; `padding` gives the width of a
/// zero-padded number format of the cell, if it has one.
fn cell_text(cell: &Data, padding: impl Fn() -> Option<usize>, out: &mut String) {
    use std::fmt::Write;
    match cell {
        Data::Empty => {}
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => out.push_str(s),
        Data::Int(i) => match padding() {
            Some(w) if *i >= 0 => {
                let _ = write!(out, "{i:0w$}");
            }
            _ => {
                let _ = write!(out, "{i}");
            }
        },
        Data::Float(f) => {
            if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
                let i = *f as i64;
                match padding() {
                    Some(w) if i >= 0 => {
                        let _ = write!(out, "{i:0w$}");
                    }
                    _ => {
                        let _ = write!(out, "{i}");
                    }
                }
            } else {
                let _ = write!(out, "{f}");
            }
        }
        Data::Bool(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
        Data::Error(e) => {
            let _ = write!(out, "{e}");
        }
        Data::DateTime(d) if d.is_datetime() => {
            let (y, mo, day, h, mi, s, ms) = d.to_ymd_hms_milli();
            let _ = write!(out, "{y:04}-{mo:02}-{day:02}");
            if (h, mi, s, ms) != (0, 0, 0, 0) {
                let _ = write!(out, " {h:02}:{mi:02}:{s:02}");
            }
        }
        Data::DateTime(d) => {
            let _ = write!(out, "{}", d.as_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{CellErrorType, ExcelDateTime, ExcelDateTimeType};

    fn text(cell: Data, padding: Option<usize>) -> String {
        let mut out = String::new();
        cell_text(&cell, || padding, &mut out);
        out
    }

    #[test]
    fn cells_read_as_a_csv_export_shows_them() {
        let date = |v| Data::DateTime(ExcelDateTime::new(v, ExcelDateTimeType::DateTime, false));
        let cases = [
            (Data::String("0123 ".into()), None, "0123 "),
            (Data::Float(9434765919.0), None, "9434765919"),
            (Data::Float(-2.0), None, "-2"),
            (Data::Float(0.1), None, "0.1"),
            (Data::Float(123.0), Some(5), "00123"),
            (Data::Int(7), Some(3), "007"),
            (Data::Int(-7), Some(3), "-7"),
            (Data::Bool(true), None, "TRUE"),
            (Data::Error(CellErrorType::NA), None, "#N/A"),
            (Data::Empty, None, ""),
            // 9 March 2014, and 2 January 1990 at noon.
            (date(41707.0), None, "2014-03-09"),
            (date(32875.5), None, "1990-01-02 12:00:00"),
            (Data::DateTimeIso("2014-03-09".into()), None, "2014-03-09"),
        ];
        for (cell, padding, want) in cases {
            assert_eq!(text(cell.clone(), padding), want, "{cell:?}");
        }
    }

    #[test]
    fn a_file_that_is_not_a_workbook_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.xlsx");
        std::fs::write(&p, b"PK\x03\x04 not really a zip").unwrap();
        let e = SheetRows::open(&p, None).err().unwrap().to_string();
        assert!(
            e.contains("x.xlsx") && e.contains("not a readable Excel .xlsx workbook"),
            "{e}"
        );
    }
}
