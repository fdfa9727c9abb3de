//! The sources of an encoding run: a CSV file or a table in memory. A source opens its input,
//! maps its columns to the schema, reads it in chunks of rows (a CSV file on a reader thread of
//! its own, each row's UTF-8 checked there once) and, for a CSV file, reads it again from the start
//! when the duplicate record id check asks ([`Reread`]).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, OnceLock};

use csv::ByteRecord;

use crate::encode::Encoder;
use crate::error::{Error, Location, Result};
use crate::io::cells::InputKind;
use crate::io::encoded::HashingReader;
use crate::io::raw::{csv_error, ColumnMap, CsvRow, LineGuard, RawLayout, Rejection};
use crate::io::text::{DecodingReader, TextEncoding};

use super::ids::Reread;
use super::rows::{Chunks, Rows, CHUNK_ROWS};

/// Where the rows of a run come from.
pub(super) trait Source {
    /// The input opened, positioned on its first row.
    type Reader;
    /// Opens the input and maps its columns to the schema.
    fn open(&self) -> Result<(Self::Reader, RawLayout)>;
    /// The input file, if the input is one (for messages).
    fn path(&self) -> Option<&Path>;
    /// The input's name in the manifest.
    fn name(&self) -> String;
    /// Bytes of the input read so far (zero for a table in memory).
    fn bytes_read(&self) -> u64;
    /// The text encoding the input was read in and its delimiter, for the manifest (after
    /// [`open`](Self::open); a table in memory has neither).
    fn text(&self) -> (Option<TextEncoding>, Option<u8>);
    /// The kind of file and the sheet read, when the input is a file of cells rather than CSV
    /// text (after [`open`](Self::open)).
    fn cells(&self) -> (Option<InputKind>, Option<String>) {
        (None, None)
    }
    /// Reads every row from `reader`, mapped by `raw`, and gives them to `chunks` in chunks of
    /// at most [`CHUNK_ROWS`], in order. Returns the keyed hash and size of the whole input (empty
    /// and zero for a table in memory), or `None` when `chunks` stopped the reading.
    fn read<C: Chunks>(
        &self,
        reader: Self::Reader,
        raw: &RawLayout,
        chunks: &mut C,
    ) -> std::result::Result<Option<(String, u64)>, C::Error>;
}

/// A CSV extract file.
pub(super) struct CsvSource<'a> {
    encoder: &'a Encoder,
    path: &'a Path,
    /// Its text form and column mapping, as asked.
    format: &'a InputFormat,
    /// The encoding it is read in (its byte order mark's, else the one asked), once opened.
    encoding: OnceLock<TextEncoding>,
    /// How far the reader thread has got, in bytes.
    bytes_read: AtomicU64,
}

/// How to read a raw input: its text encoding, delimiter and column mapping.
#[derive(Debug, Clone)]
pub(super) struct InputFormat {
    /// The encoding asked for; a byte order mark overrides it.
    pub(super) encoding: TextEncoding,
    /// The delimiter.
    pub(super) delimiter: u8,
    /// The mapping of schema columns to the input's.
    pub(super) columns: ColumnMap,
}

impl Default for InputFormat {
    /// UTF-8, comma-separated, columns named as in the schema.
    fn default() -> Self {
        InputFormat {
            encoding: TextEncoding::Utf8,
            delimiter: b',',
            columns: ColumnMap::new(),
        }
    }
}

/// The CSV reader of a raw input: its bytes hashed with the audit key, decoded to UTF-8 when they
/// are in another encoding, lines bounded.
pub(super) type CsvInput = csv::Reader<TextInput>;

/// The bytes of a raw input, hashed as read and, when it is not UTF-8, decoded to UTF-8 (the
/// hash is of the file's own bytes).
pub(super) enum TextInput {
    /// UTF-8, read as it is.
    Utf8(HashingReader<LineGuard<BufReader<File>>>),
    /// Another encoding, decoded.
    Decoded(LineGuard<DecodingReader<HashingReader<BufReader<File>>>>),
}

impl TextInput {
    /// Bytes of the file read so far.
    pub(super) fn bytes(&self) -> u64 {
        match self {
            TextInput::Utf8(h) => h.bytes(),
            TextInput::Decoded(d) => d.get_ref().get_ref().bytes(),
        }
    }

    /// The keyed hash (hex) and size of the whole file, once read.
    pub(super) fn finish(&self) -> (String, u64) {
        match self {
            TextInput::Utf8(h) => h.finish(),
            TextInput::Decoded(d) => d.get_ref().get_ref().finish(),
        }
    }
}

impl Read for TextInput {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            TextInput::Utf8(r) => r.read(buf),
            TextInput::Decoded(r) => r.read(buf),
        }
    }
}

impl<'a> CsvSource<'a> {
    /// The CSV file at `path`, read as `format` says, its bytes hashed with `encoder`'s audit key
    /// and its header mapped to `encoder`'s schema.
    pub(super) fn new(encoder: &'a Encoder, path: &'a Path, format: &'a InputFormat) -> Self {
        CsvSource {
            encoder,
            path,
            format,
            encoding: OnceLock::new(),
            bytes_read: AtomicU64::new(0),
        }
    }

    /// Opens the CSV at `input` and maps its header: the reader positioned on the first row. The
    /// encoding pass and the duplicate id check's second reading both read through it, so they see the
    /// same rows.
    pub(super) fn open_csv(&self) -> Result<(CsvInput, RawLayout)> {
        let (encoder, input) = (self.encoder, self.path);
        let head = crate::io::raw::refuse_non_csv(input)?;
        let encoding = self.format.encoding.for_file(&head);
        let _ = self.encoding.set(encoding);
        let file = File::open(input).map_err(|e| Error::io("read", input, e))?;
        let buffered = BufReader::with_capacity(1 << 20, file);
        let text = if encoding == TextEncoding::Utf8 {
            TextInput::Utf8(HashingReader::new(
                LineGuard::new(buffered),
                encoder.audit_hasher(),
            ))
        } else {
            TextInput::Decoded(LineGuard::new(DecodingReader::new(
                HashingReader::new(buffered, encoder.audit_hasher()),
                encoding,
            )))
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.format.delimiter)
            .from_reader(text);
        let mut header = ByteRecord::new();
        let got = reader
            .read_byte_record(&mut header)
            .map_err(|e| csv_error(input, &e))?;
        if !got {
            return Err(Error::input(
                Location::at(Some(input), 1),
                "the file is empty: expected a header row",
            ));
        }
        let raw = RawLayout::from_header_mapped(
            encoder.schema(),
            &header,
            &self.format.columns,
            Some(input),
        )?;
        Ok((reader, raw))
    }
}

impl Source for CsvSource<'_> {
    type Reader = CsvInput;

    fn open(&self) -> Result<(CsvInput, RawLayout)> {
        self.open_csv()
    }

    fn path(&self) -> Option<&Path> {
        Some(self.path)
    }

    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn text(&self) -> (Option<TextEncoding>, Option<u8>) {
        (self.encoding.get().copied(), Some(self.format.delimiter))
    }

    fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    fn read<C: Chunks>(
        &self,
        mut reader: CsvInput,
        raw: &RawLayout,
        chunks: &mut C,
    ) -> std::result::Result<Option<(String, u64)>, C::Error> {
        let (tx, rx) = mpsc::sync_channel::<Message>(2);
        let (input, bytes_read) = (self.path, &self.bytes_read);
        std::thread::scope(|scope| {
            // The receivers belong to this closure and the thread it starts, so returning early
            // (an error, a cancel) drops them: the reader's next send fails instead of blocking
            // the scope's join forever.
            let rx = rx;
            // Read chunks come back to the reader to be filled again: no allocation per row.
            let (back_tx, back_rx) = mpsc::sync_channel::<Chunk>(CHUNKS);
            scope.spawn(move || read_chunks(&mut reader, input, bytes_read, &tx, &back_rx));
            for message in rx.iter() {
                let chunk = match message {
                    Message::Rows(c) => c,
                    Message::Done {
                        input_blake3,
                        input_bytes,
                    } => return Ok(Some((input_blake3, input_bytes))),
                    Message::Failed(e) => return Err(e.into()),
                };
                let go_on = chunks.take(&CsvChunk { raw, rows: &chunk })?;
                let _ = back_tx.send(chunk);
                if !go_on {
                    return Ok(None);
                }
            }
            Ok(None)
        })
    }
}

impl Reread for CsvSource<'_> {
    fn path(&self) -> &Path {
        self.path
    }

    fn can_reread(&self) -> Result<bool> {
        std::fs::metadata(self.path)
            .map(|m| m.is_file())
            .map_err(|e| Error::io("read", self.path, e))
    }

    fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    fn reread(
        &self,
        row: &mut dyn FnMut(&RawLayout, &ByteRecord) -> Result<()>,
    ) -> Result<Option<(String, u64)>> {
        let (mut reader, raw) = self.open_csv()?;
        let mut record = ByteRecord::new();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => row(&raw, &record)?,
                Ok(false) => return Ok(Some(reader.get_ref().finish())),
                // The run's own reading stops at the same place with this error, if the file is
                // unchanged.
                Err(_) => return Ok(None),
            }
        }
    }
}

/// A chunk of CSV rows with their lines.
pub(super) struct CsvChunk<'c> {
    pub(super) raw: &'c RawLayout,
    pub(super) rows: &'c [(u64, CsvRow)],
}

impl Rows for CsvChunk<'_> {
    fn count(&self) -> usize {
        self.rows.len()
    }
    fn line(&self, k: usize) -> u64 {
        self.rows[k].0
    }
    fn id(&self, k: usize) -> &str {
        self.raw.csv_record_id(&self.rows[k].1)
    }
    fn raw_id(&self, k: usize) -> String {
        self.rows[k]
            .1
            .bytes()
            .get(self.raw.id)
            .map(String::from_utf8_lossy)
            .unwrap_or_default()
            .into_owned()
    }
    fn check(&self, k: usize) -> std::result::Result<(), Rejection> {
        let (line, row) = &self.rows[k];
        self.raw.check_csv_row(row, *line)
    }
    fn field(&self, k: usize, i: usize) -> Option<&str> {
        self.raw
            .fields
            .get(i)
            .copied()
            .flatten()
            .map(|c| self.raw.csv_cell(&self.rows[k].1, c))
    }
}

type Chunk = Vec<(u64, CsvRow)>;

/// What the reader thread sends.
enum Message {
    Rows(Chunk),
    Done {
        input_blake3: String,
        input_bytes: u64,
    },
    Failed(Error),
}

/// Chunks of rows in the file pipeline: one being read, two waiting, one being checked and
/// encoded.
const CHUNKS: usize = 4;

fn read_chunks(
    reader: &mut CsvInput,
    input: &Path,
    bytes_read: &AtomicU64,
    tx: &mpsc::SyncSender<Message>,
    recycled: &mpsc::Receiver<Chunk>,
) {
    // A new chunk until there are `CHUNKS`, then one that has been encoded, its records
    // refilled in place; `None` when the encoding has stopped.
    let mut made = 0;
    let mut next_chunk = || {
        if made < CHUNKS {
            made += 1;
            Some(Vec::with_capacity(CHUNK_ROWS))
        } else {
            recycled.recv().ok()
        }
    };
    let Some(mut chunk) = next_chunk() else {
        return;
    };
    let mut n = 0;
    let mut spare = ByteRecord::new();
    loop {
        if n == chunk.len() {
            chunk.push((0, CsvRow::default()));
        }
        let Some((line, row)) = chunk.get_mut(n) else {
            return;
        };
        // The row's memory is read into (`spare` holds its place meanwhile, so that nothing
        // is allocated), then UTF-8 is checked here, on the reader's thread, once for the row.
        let mut bytes = std::mem::replace(row, CsvRow::Bytes(spare)).into_bytes();
        let read = reader.read_byte_record(&mut bytes);
        *line = bytes.position().map(|p| p.line()).unwrap_or(0);
        spare = std::mem::replace(row, CsvRow::from_bytes(bytes)).into_bytes();
        match read {
            Ok(true) => {
                n += 1;
                if n == CHUNK_ROWS {
                    chunk.truncate(n);
                    bytes_read.store(reader.get_ref().bytes(), Ordering::Relaxed);
                    if tx.send(Message::Rows(chunk)).is_err() {
                        return;
                    }
                    let Some(next) = next_chunk() else {
                        return;
                    };
                    chunk = next;
                    n = 0;
                }
            }
            Ok(false) => {
                chunk.truncate(n);
                bytes_read.store(reader.get_ref().bytes(), Ordering::Relaxed);
                if tx.send(Message::Rows(chunk)).is_err() {
                    return;
                }
                let (input_blake3, input_bytes) = reader.get_ref().finish();
                let _ = tx.send(Message::Done {
                    input_blake3,
                    input_bytes,
                });
                return;
            }
            Err(e) => {
                let _ = tx.send(Message::Failed(csv_error(input, &e)));
                return;
            }
        }
    }
}

/// One batch of an in-memory table: equal-length columns of text cells.
///
/// Bindings implement it over their own column storage (Arrow arrays, lists of strings) so the
/// core reads the cells where they are.
pub trait TextColumns: Sync {
    /// Number of rows.
    fn rows(&self) -> usize;
    /// The cell at `column`, `row`; `None` for a null (treated as empty).
    fn cell(&self, column: usize, row: usize) -> Option<&str>;
}

/// A table in memory: column names, batches of columns, and the name it goes by in the manifest.
pub(super) struct TableSource<'t, B> {
    pub(super) encoder: &'t Encoder,
    pub(super) names: &'t [String],
    pub(super) batches: &'t [B],
    pub(super) input_name: &'t str,
    /// The table's names for the schema's columns, where they differ.
    pub(super) columns: &'t ColumnMap,
}

impl<B: TextColumns> Source for TableSource<'_, B> {
    type Reader = ();

    fn open(&self) -> Result<((), RawLayout)> {
        let raw = RawLayout::from_names_mapped(
            self.encoder.schema(),
            self.names.to_vec(),
            self.columns,
            None,
        )?;
        Ok(((), raw))
    }

    fn path(&self) -> Option<&Path> {
        None
    }

    fn name(&self) -> String {
        self.input_name.to_string()
    }

    fn bytes_read(&self) -> u64 {
        0
    }

    fn text(&self) -> (Option<TextEncoding>, Option<u8>) {
        (Some(TextEncoding::Utf8), None)
    }

    fn read<C: Chunks>(
        &self,
        (): (),
        raw: &RawLayout,
        chunks: &mut C,
    ) -> std::result::Result<Option<(String, u64)>, C::Error> {
        // Rows are numbered as lines of the equivalent CSV file: the first is line 2.
        let mut line = 2u64;
        for batch in self.batches {
            let n = batch.rows();
            let mut start = 0;
            while start < n {
                let end = (start + CHUNK_ROWS).min(n);
                let chunk = TableChunk {
                    raw,
                    batch,
                    columns: self.names.len(),
                    start,
                    end,
                    first_line: line,
                };
                if !chunks.take(&chunk)? {
                    return Ok(None);
                }
                line += (end - start) as u64;
                start = end;
            }
        }
        Ok(Some((String::new(), 0)))
    }
}

/// Rows `start..end` of one batch of a table.
struct TableChunk<'c, B> {
    raw: &'c RawLayout,
    batch: &'c B,
    /// Columns of the table.
    columns: usize,
    start: usize,
    end: usize,
    /// The line of row `start`.
    first_line: u64,
}

impl<B: TextColumns> Rows for TableChunk<'_, B> {
    fn count(&self) -> usize {
        self.end - self.start
    }
    fn line(&self, k: usize) -> u64 {
        self.first_line + k as u64
    }
    fn id(&self, k: usize) -> &str {
        self.batch
            .cell(self.raw.id, self.start + k)
            .unwrap_or("")
            .trim()
    }
    fn raw_id(&self, k: usize) -> String {
        self.batch
            .cell(self.raw.id, self.start + k)
            .unwrap_or("")
            .to_string()
    }
    fn check(&self, k: usize) -> std::result::Result<(), Rejection> {
        let row = self.start + k;
        let cell = |c: usize| self.batch.cell(c, row).map(str::as_bytes);
        self.raw.check_cells(self.columns, cell, self.line(k))
    }
    fn field(&self, k: usize, i: usize) -> Option<&str> {
        self.raw
            .fields
            .get(i)
            .copied()
            .flatten()
            .and_then(|c| self.batch.cell(c, self.start + k))
    }
}
