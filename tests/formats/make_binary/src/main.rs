//! Writes `people.xlsx` and `people.parquet` of tests/formats from `people.csv`, as a council's
//! staff (Excel) and data team (Parquet) would hold the same records; both must encode to the
//! same bytes as `people.csv` (cli/tests/e2e/formats.rs). The output is the same bytes at every
//! run (fixed creation time; no clock read).
//!
//! - `people.xlsx`: sheet `People` first, then a sheet `Notes`; text cells as written; the
//!   dates written as ISO text in the CSV are real Excel dates shown `dd/mm/yyyy`, the others
//!   text as written; NHS numbers are numbers shown with the format `0000000000`.
//! - `people.parquet`: strings (`middle_name` with nulls), `date_of_birth` a DATE column,
//!   `nhs_number` an optional INT64, snappy-compressed as Spark and pyarrow write by default.

use std::error::Error;
use std::path::Path;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut reader = csv::Reader::from_path(here.join("people.csv"))?;
    let header: Vec<String> = reader.headers()?.iter().map(String::from).collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(String::from).collect()))
        .collect::<std::result::Result<_, _>>()?;
    std::fs::write(here.join("people.xlsx"), xlsx(&header, &rows)?)?;
    std::fs::write(here.join("people.parquet"), parquet(&header, &rows)?)?;
    Ok(())
}

/// `yyyy-mm-dd` as numbers, if `s` is one.
fn iso_date(s: &str) -> Option<(u16, u8, u8)> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || parts.next().is_some() {
        return None;
    }
    Some((y.parse().ok()?, m.parse().ok()?, d.parse().ok()?))
}

/// `dd/mm/yyyy` or `yyyy-mm-dd` as days from 1970-01-01.
fn days(s: &str) -> Option<i32> {
    let (y, m, d) = iso_date(s).or_else(|| {
        let mut p = s.split('/');
        let (d, m, y) = (p.next()?, p.next()?, p.next()?);
        Some((y.parse().ok()?, m.parse().ok()?, d.parse().ok()?))
    })?;
    // H. Hinnant's days_from_civil.
    let (y, m, d) = (i64::from(y) - i64::from(m <= 2), i64::from(m), i64::from(d));
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i32::try_from(era * 146_097 + doe - 719_468).ok()
}

fn xlsx(header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let created = ExcelDateTime::parse_from_str("2026-01-01T00:00:00Z")?;
    book.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let nhs = Format::new().set_num_format("0000000000");
    let sheet = book.add_worksheet().set_name("People")?;
    for (c, name) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, name)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, (name, cell)) in header.iter().zip(row).enumerate() {
            let c = c as u16;
            match (name.as_str(), cell.as_str()) {
                (_, "") => {}
                ("date_of_birth", s) if iso_date(s).is_some() => {
                    let (y, m, d) = iso_date(s).ok_or("a date")?;
                    sheet.write_datetime_with_format(
                        r,
                        c,
                        ExcelDateTime::from_ymd(y, m, d)?,
                        &date,
                    )?;
                }
                ("nhs_number", s) => {
                    sheet.write_number_with_format(r, c, s.parse::<f64>()?, &nhs)?;
                }
                (_, s) => {
                    sheet.write_string(r, c, s)?;
                }
            }
        }
    }
    let notes = book.add_worksheet().set_name("Notes")?;
    notes.write_string(
        0,
        0,
        "Extract of 1 December 2026 for the data sharing agreement",
    )?;
    Ok(book.save_to_buffer()?)
}

fn parquet(header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut fields = String::new();
    for name in header {
        fields.push_str(&match name.as_str() {
            "record_id" => format!("REQUIRED BYTE_ARRAY {name} (STRING);"),
            "date_of_birth" => format!("OPTIONAL INT32 {name} (DATE);"),
            "nhs_number" => format!("OPTIONAL INT64 {name};"),
            _ => format!("OPTIONAL BYTE_ARRAY {name} (STRING);"),
        });
    }
    let schema = Arc::new(parse_message_type(&format!(
        "message people {{ {fields} }}"
    ))?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by("pseudolink tests/formats/make_binary".into())
            .build(),
    );
    let mut out = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut out, schema, props)?;
    let mut group = writer.next_row_group()?;
    for (c, name) in header.iter().enumerate() {
        let cells: Vec<&str> = rows.iter().map(|r| r[c].as_str()).collect();
        let defs: Vec<i16> = cells.iter().map(|s| i16::from(!s.is_empty())).collect();
        let present = cells.iter().filter(|s| !s.is_empty());
        let mut col = group.next_column()?.ok_or("a column")?;
        let required = name == "record_id";
        let defs = (!required).then_some(&defs[..]);
        match name.as_str() {
            "date_of_birth" => {
                let v: Vec<i32> = present
                    .map(|s| days(s).ok_or("a date"))
                    .collect::<std::result::Result<_, _>>()?;
                col.typed::<Int32Type>().write_batch(&v, defs, None)?;
            }
            "nhs_number" => {
                let v: Vec<i64> = present
                    .map(|s| s.parse())
                    .collect::<std::result::Result<_, _>>()?;
                col.typed::<Int64Type>().write_batch(&v, defs, None)?;
            }
            _ => {
                let v: Vec<ByteArray> = present.map(|s| ByteArray::from(*s)).collect();
                col.typed::<ByteArrayType>().write_batch(&v, defs, None)?;
            }
        }
        col.close()?;
    }
    group.close()?;
    writer.close()?;
    Ok(out)
}
