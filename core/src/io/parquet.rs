//! Parquet files as raw extracts, read by the `parquet` crate's row reader (no Arrow): the
//! top-level columns are the header, every cell is read as text as a CSV export (pandas'
//! `to_csv`, Spark's CSV writer) would show it:
//!
//! - strings as written; binary columns (old writers store strings without the UTF-8 mark) as
//!   their bytes, a row whose bytes are not UTF-8 rejected as `invalid_utf8`;
//! - integers and decimals as digits; floats whole numbers without a fraction (`9434765919`),
//!   others in their shortest exact form; `true`/`false`;
//! - dates as `yyyy-mm-dd`, timestamps as `yyyy-mm-dd hh:mm:ss` (UTC; the time left out at
//!   midnight), times of day as `hh:mm:ss`;
//! - a null as an empty cell; a nested value (struct, list, map) in the crate's text form.
//!
//! Rows are numbered as the lines of that CSV export: the header is line 1, the first row line 2.

use std::path::Path;

use ::parquet::file::reader::FileReader;
use ::parquet::file::serialized_reader::SerializedFileReader;
use ::parquet::record::reader::RowIter;
use ::parquet::record::Field;
use csv::ByteRecord;

use super::cells::{guarded, CellRows};
use crate::error::{Error, Location, Result};

/// The rows of a Parquet file.
pub(crate) struct ParquetRows {
    path: std::path::PathBuf,
    names: Vec<String>,
    rows: RowIter<'static>,
    /// The line of the next row.
    line: u64,
}

impl ParquetRows {
    /// Opens the Parquet file at `path`.
    pub(crate) fn open(path: &Path) -> Result<ParquetRows> {
        let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
        guarded(path, 1, "Parquet", || {
            let reader = SerializedFileReader::new(file).map_err(|e| {
                Error::input(
                    Location::at(Some(path), 1),
                    format!("not a readable Parquet file: {e}"),
                )
            })?;
            let names = reader
                .metadata()
                .file_metadata()
                .schema_descr()
                .root_schema()
                .get_fields()
                .iter()
                .map(|f| f.name().to_string())
                .collect();
            Ok(ParquetRows {
                path: path.to_path_buf(),
                names,
                rows: RowIter::from_file_into(Box::new(reader)),
                line: 2,
            })
        })
    }
}

impl CellRows for ParquetRows {
    fn names(&self) -> &[String] {
        &self.names
    }

    fn next_row(&mut self, row: &mut ByteRecord) -> Result<Option<u64>> {
        let line = self.line;
        let path = self.path.clone();
        let rows = &mut self.rows;
        let next = guarded(&path, line, "Parquet", || {
            rows.next().transpose().map_err(|e| {
                Error::input(
                    Location::at(Some(&path), line),
                    format!("the Parquet file cannot be read here: {e}"),
                )
            })
        })?;
        let Some(next) = next else {
            return Ok(None);
        };
        guarded(&path, line, "Parquet", || {
            row.clear();
            let mut text = String::new();
            for (_, field) in next.get_column_iter() {
                if let Field::Bytes(b) = field {
                    row.push_field(b.data());
                } else {
                    text.clear();
                    field_text(field, &mut text);
                    row.push_field(text.as_bytes());
                }
            }
            Ok(())
        })?;
        self.line += 1;
        Ok(Some(line))
    }
}

/// Writes the text of `field` as a CSV export shows it into `out` (bytes are handled by the
/// caller).
fn field_text(field: &Field, out: &mut String) {
    use std::fmt::Write;
    let _ = match field {
        Field::Null => Ok(()),
        Field::Bool(b) => write!(out, "{b}"),
        Field::Byte(v) => write!(out, "{v}"),
        Field::Short(v) => write!(out, "{v}"),
        Field::Int(v) => write!(out, "{v}"),
        Field::Long(v) => write!(out, "{v}"),
        Field::UByte(v) => write!(out, "{v}"),
        Field::UShort(v) => write!(out, "{v}"),
        Field::UInt(v) => write!(out, "{v}"),
        Field::ULong(v) => write!(out, "{v}"),
        Field::Float16(v) => float(f64::from(*v), out),
        Field::Float(v) => float(f64::from(*v), out),
        Field::Double(v) => float(*v, out),
        Field::Str(s) => {
            out.push_str(s);
            Ok(())
        }
        Field::Date(days) => date(i64::from(*days), out),
        Field::TimeMillis(ms) => time_of_day(i64::from(*ms) * 1000, out),
        Field::TimeMicros(us) => time_of_day(*us, out),
        Field::TimestampMillis(ms) => timestamp(ms.div_euclid(1000), out),
        Field::TimestampMicros(us) => timestamp(us.div_euclid(1_000_000), out),
        // Decimals as digits (the crate's text form); nested values as the crate writes them.
        other => write!(out, "{other}"),
    };
}

/// A float: a whole number without a fraction, NaN as empty.
fn float(v: f64, out: &mut String) -> std::fmt::Result {
    use std::fmt::Write;
    if v.is_nan() {
        Ok(())
    } else if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
        write!(out, "{}", v as i64)
    } else {
        write!(out, "{v}")
    }
}

/// `yyyy-mm-dd` of a day counted from 1970-01-01.
fn date(days: i64, out: &mut String) -> std::fmt::Result {
    use std::fmt::Write;
    let (y, m, d) = civil_from_days(days);
    write!(out, "{y:04}-{m:02}-{d:02}")
}

/// `yyyy-mm-dd hh:mm:ss` of seconds from 1970-01-01 00:00 UTC, the time left out at midnight.
fn timestamp(secs: i64, out: &mut String) -> std::fmt::Result {
    date(secs.div_euclid(86_400), out)?;
    let in_day = secs.rem_euclid(86_400);
    if in_day != 0 {
        out.push(' ');
        time_of_day(in_day * 1_000_000, out)?;
    }
    Ok(())
}

/// `hh:mm:ss` of microseconds since midnight.
fn time_of_day(us: i64, out: &mut String) -> std::fmt::Result {
    use std::fmt::Write;
    let s = us.div_euclid(1_000_000);
    write!(out, "{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The proleptic Gregorian (year, month, day) of a day counted from 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(field: Field) -> String {
        let mut out = String::new();
        field_text(&field, &mut out);
        out
    }

    #[test]
    fn fields_read_as_a_csv_export_shows_them() {
        let cases = [
            (Field::Str("0123".into()), "0123"),
            (Field::Long(9_434_765_919), "9434765919"),
            (Field::Double(9_434_765_919.0), "9434765919"),
            (Field::Double(0.1), "0.1"),
            (Field::Double(f64::NAN), ""),
            (Field::Bool(true), "true"),
            (Field::Null, ""),
            (Field::Date(16_138), "2014-03-09"),
            (Field::Date(-1), "1969-12-31"),
            (Field::Date(-25_567), "1900-01-01"),
            (Field::TimestampMillis(1_394_323_200_000), "2014-03-09"),
            (
                Field::TimestampMicros(1_394_366_400_000_000),
                "2014-03-09 12:00:00",
            ),
            (Field::TimeMillis(3_723_000), "01:02:03"),
        ];
        for (field, want) in cases {
            assert_eq!(text(field.clone()), want, "{field:?}");
        }
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.parquet");
        std::fs::write(&p, b"PAR1 cut short").unwrap();
        let e = ParquetRows::open(&p).err().unwrap().to_string();
        assert!(
            e.contains("x.parquet") && e.contains("not a readable Parquet file"),
            "{e}"
        );
    }
}
