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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use ::parquet::data_type::{ByteArray, ByteArrayType};
    use ::parquet::file::properties::WriterProperties;
    use ::parquet::file::writer::SerializedFileWriter;
    use ::parquet::schema::parser::parse_message_type;

    use crate::run::{encode_file, EncodeOptions, Rejects, RunControl};
    use crate::{Encoder, Schema, Secret};

    /// Rows with a bad one of each kind: an empty id (line 4) and a repeated one (line 5).
    const ROWS: [[&str; 3]; 4] = [
        ["a1", "John", "2014-03-09"],
        ["a2", "Zoë", "9/3/14"],
        ["", "Nobody", "2000-01-01"],
        ["a1", "Dup", "2000-01-01"],
    ];
    const HEADER: [&str; 3] = ["record_id", "first_name", "date_of_birth"];

    fn encoder() -> Encoder {
        Encoder::new(&Schema::example(), &Secret::from_bytes(&[3u8; 32]).unwrap())
    }

    /// Encodes `input` with a rejects file; returns the extract, the rejects and the manifest.
    fn encode(dir: &Path, input: &Path, tag: &str) -> (Vec<u8>, String, crate::io::Manifest) {
        let out = dir.join(format!("{tag}.out.csv"));
        let rejects = dir.join(format!("{tag}.rejects.csv"));
        let options = EncodeOptions {
            rejects: Rejects::File(rejects.clone()),
            ..EncodeOptions::default()
        };
        let m = encode_file(&encoder(), input, &out, &options, &RunControl::default()).unwrap();
        let rejects = std::fs::read_to_string(rejects).unwrap();
        (std::fs::read(out).unwrap(), rejects, m)
    }

    fn csv_file(dir: &Path) -> PathBuf {
        let mut text = HEADER.join(",") + "\n";
        for r in ROWS {
            text += &(r.join(",") + "\n");
        }
        let p = dir.join("in.csv");
        std::fs::write(&p, text).unwrap();
        p
    }

    fn parquet_file(dir: &Path) -> PathBuf {
        let fields: String = HEADER
            .iter()
            .map(|n| format!("OPTIONAL BYTE_ARRAY {n} (STRING);"))
            .collect();
        let schema = Arc::new(parse_message_type(&format!("message m {{ {fields} }}")).unwrap());
        let p = dir.join("in.parquet");
        let file = std::fs::File::create(&p).unwrap();
        let props = Arc::new(WriterProperties::builder().build());
        let mut writer = SerializedFileWriter::new(file, schema, props).unwrap();
        let mut group = writer.next_row_group().unwrap();
        for c in 0..HEADER.len() {
            let cells: Vec<&str> = ROWS.iter().map(|r| r[c]).collect();
            // The empty id is a null, as a data frame writes a missing value.
            let defs: Vec<i16> = cells.iter().map(|s| i16::from(!s.is_empty())).collect();
            let values: Vec<ByteArray> = cells
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| ByteArray::from(*s))
                .collect();
            let mut col = group.next_column().unwrap().unwrap();
            col.typed::<ByteArrayType>()
                .write_batch(&values, Some(&defs), None)
                .unwrap();
            col.close().unwrap();
        }
        group.close().unwrap();
        writer.close().unwrap();
        p
    }

    /// A workbook made by hand (as small as Excel reads): the header on row 3 of sheet `Data`,
    /// the rows after it, one blank row between the first two.
    fn xlsx_file(dir: &Path) -> PathBuf {
        let cell = |r: usize, c: usize, v: &str| {
            let col = char::from(b'A' + c as u8);
            format!("<c r=\"{col}{r}\" t=\"inlineStr\"><is><t>{v}</t></is></c>")
        };
        let mut rows = String::new();
        let mut write_row = |r: usize, cells: &[&str]| {
            let cs: String = cells
                .iter()
                .enumerate()
                .filter(|(_, v)| !v.is_empty())
                .map(|(c, v)| cell(r, c, v))
                .collect();
            rows += &format!("<row r=\"{r}\">{cs}</row>");
        };
        write_row(3, &HEADER);
        write_row(4, &ROWS[0]);
        for (k, r) in ROWS.iter().enumerate().skip(1) {
            write_row(k + 5, r);
        }
        let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let pkg = "http://schemas.openxmlformats.org/package/2006/relationships";
        let parts = [
            ("[Content_Types].xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>".to_string()),
            ("_rels/.rels", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"{pkg}\"><Relationship Id=\"rId1\" Type=\"{rel}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>")),
            ("xl/workbook.xml", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"{main}\" xmlns:r=\"{rel}\"><sheets><sheet name=\"Data\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>")),
            ("xl/_rels/workbook.xml.rels", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"{pkg}\"><Relationship Id=\"rId1\" Type=\"{rel}/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>")),
            ("xl/worksheets/sheet1.xml", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"{main}\"><sheetData>{rows}</sheetData></worksheet>")),
        ];
        let p = dir.join("in.xlsx");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&p).unwrap());
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, text) in parts {
            zip.start_file(name, stored).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        p
    }

    #[test]
    fn a_parquet_file_gives_the_extract_rejects_and_counts_of_its_csv() {
        let dir = tempfile::tempdir().unwrap();
        let (want, want_rejects, want_m) = encode(dir.path(), &csv_file(dir.path()), "csv");
        let (got, rejects, m) = encode(dir.path(), &parquet_file(dir.path()), "pq");
        assert_eq!(got, want);
        assert_eq!(rejects, want_rejects);
        assert!(rejects.contains("\n4,empty_record_id,"), "{rejects}");
        assert!(rejects.contains("\n5,duplicate_record_id,"), "{rejects}");
        assert_eq!(m.counts, want_m.counts);
        assert_eq!(m.missing, want_m.missing);
        assert_eq!(m.input.format.as_deref(), Some("parquet"));
        assert_eq!(m.input.text_encoding, None);
    }

    #[test]
    fn a_workbook_rejects_rows_by_their_spreadsheet_row_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let (_, _, want_m) = encode(dir.path(), &csv_file(dir.path()), "csv");
        let (_, rejects, m) = encode(dir.path(), &xlsx_file(dir.path()), "xlsx");
        // Header on row 3, a blank row 5 (a row of empty cells: an empty id, as in its CSV
        // export), the empty id on row 7 and the repeated one on row 8.
        let lines: Vec<&str> = rejects.lines().skip(1).collect();
        assert_eq!(lines.len(), 3, "{rejects}");
        assert!(lines[0].starts_with("5,empty_record_id,"), "{rejects}");
        assert!(lines[1].starts_with("7,empty_record_id,"), "{rejects}");
        assert!(lines[2].starts_with("8,duplicate_record_id,"), "{rejects}");
        assert_eq!(m.counts.encoded, want_m.counts.encoded);
        assert_eq!(m.input.sheet.as_deref(), Some("Data"));
    }
}
