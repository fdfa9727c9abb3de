//! Reading encoded extracts back (the linkage unit's input), CSV or Parquet
//! ([`ExtractFormat`]), checked against their manifest.

use rustc_hash::FxHashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use csv::ByteRecord;

use crate::encode::layout::{Layout, Slot};
use crate::encode::record::SET_ELEMENT_HEX;
use crate::encode::{Bloom, EncodedRecord, Token};
use crate::error::{Error, Location, Result};
use crate::schema::Schema;

use super::manifest::Manifest;

/// A reader that hashes and counts what passes through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`, hashing with `hasher`.
    pub fn new(inner: R, hasher: blake3::Hasher) -> Self {
        HashingReader {
            inner,
            hasher,
            bytes: 0,
        }
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The hash (hex) and byte count of everything read.
    pub fn finish(&self) -> (String, u64) {
        (self.hasher.finalize().to_hex().to_string(), self.bytes)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(read) = buf.get(..n) {
            self.hasher.update(read);
        }
        self.bytes += n as u64;
        Ok(n)
    }
}

/// An encoded extract in memory.
#[derive(Debug, Clone)]
pub struct EncodedExtract {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its manifest (absent only when reading unverified was allowed).
    pub manifest: Option<Manifest>,
    /// The records, in file order.
    pub records: Vec<EncodedRecord>,
    /// Things a user should know (e.g. the manifest check was skipped).
    pub warnings: Vec<String>,
}

/// How strictly to read an encoded extract.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Read even without a manifest, or with one that does not match the file. Recorded in the
    /// run summary as a warning.
    pub allow_unverified: bool,
}

/// The file format of an encoded extract: CSV text (hex tokens, base64 filters) or Parquet
/// (binary columns, see docs/formats.md). Both hold the same records under the same manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExtractFormat {
    /// CSV text.
    Csv,
    /// A Parquet file.
    Parquet,
}

impl ExtractFormat {
    /// The format of an extract to be written to `path`, told by its name, as raw inputs are:
    /// `.parquet` or `.pq` (any case) is Parquet, any other name CSV.
    pub fn of_output(path: &Path) -> ExtractFormat {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("parquet" | "pq") => ExtractFormat::Parquet,
            _ => ExtractFormat::Csv,
        }
    }

    /// The format of the extract at `path`: Parquet when its name says so or its first bytes
    /// are `PAR1` (a CSV extract starts with its header, `record_id`), else CSV.
    pub fn of_file(path: &Path) -> Result<ExtractFormat> {
        let mut head = Vec::with_capacity(4);
        File::open(path)
            .and_then(|f| f.take(4).read_to_end(&mut head))
            .map_err(|e| Error::io("read", path, e))?;
        if head == b"PAR1" {
            Ok(ExtractFormat::Parquet)
        } else {
            Ok(ExtractFormat::of_output(path))
        }
    }
}

/// Reads and checks the encoded extract at `path` against `schema` and its manifest.
pub fn read_encoded(path: &Path, schema: &Schema, options: ReadOptions) -> Result<EncodedExtract> {
    let mut warnings = Vec::new();
    let manifest = match Manifest::read_for(path) {
        Ok(m) => Some(m),
        Err(e) if options.allow_unverified => {
            if let Some(older) = super::manifest::older_format_of(path) {
                return Err(older);
            }
            warnings.push(format!("manifest not used for {}: {e}", path.display()));
            None
        }
        Err(e) => return Err(e),
    };
    if let Some(m) = &manifest {
        if m.encoding_version != crate::secret::ENCODING_VERSION {
            return Err(Error::Mismatch(format!(
                "{} was encoded by an older pseudolink (encoding version {}); this pseudolink links encoding version {} only, whose tokens resist the attacks described in docs/security.md: ask the agency to encode the extract again from its cleartext with this version (pseudolink encode, or encode_file in Python or C)",
                path.display(),
                m.encoding_version,
                crate::secret::ENCODING_VERSION
            )));
        }
        if m.schema_fingerprint != schema.fingerprint() {
            return Err(Error::Mismatch(format!(
                "{} was encoded under schema {} but this run uses schema {}; link with the schema file the agencies encoded with",
                path.display(),
                m.schema_fingerprint,
                schema.fingerprint()
            )));
        }
    }
    let layout = Layout::new(schema);
    let (records, digest) = match ExtractFormat::of_file(path)? {
        ExtractFormat::Csv => read_csv(path, &layout)?,
        ExtractFormat::Parquet => {
            let (records, digest) = std::thread::scope(|scope| {
                let hashing = scope.spawn(|| hash_file(path));
                let records = super::encoded_parquet::read_records(path, &layout);
                let digest = hashing
                    .join()
                    .unwrap_or_else(|_| Err(Error::Mismatch(altered_message(path))));
                (records, digest)
            });
            let digest = digest?;
            // A file altered after encoding is refused as such, even when it cannot be read.
            if let Some(m) = manifest.as_ref().filter(|_| !options.allow_unverified) {
                if altered(m, &digest.0, digest.1) {
                    return Err(Error::Mismatch(altered_message(path)));
                }
            }
            (records?, digest)
        }
    };
    if let Some(m) = &manifest {
        let (hash, bytes) = digest;
        let problem = if altered(m, &hash, bytes) {
            Some(altered_message(path))
        } else if records.len() as u64 != m.counts.encoded {
            Some(format!(
                "{} holds {} records but its manifest says {}",
                path.display(),
                records.len(),
                m.counts.encoded
            ))
        } else {
            None
        };
        if let Some(p) = problem {
            if options.allow_unverified {
                warnings.push(p);
            } else {
                return Err(Error::Mismatch(p));
            }
        }
    }
    Ok(EncodedExtract {
        path: path.to_path_buf(),
        manifest,
        records,
        warnings,
    })
}

/// Reads the records of the CSV extract at `path` of `layout`; returns them with the file's
/// BLAKE3 (hex) and size.
fn read_csv(path: &Path, layout: &Layout) -> Result<(Vec<EncodedRecord>, (String, u64))> {
    let file = File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut hashing = HashingReader::new(
        super::raw::LineGuard::new(BufReader::with_capacity(1 << 20, file)),
        blake3::Hasher::new(),
    );
    let mut records = Vec::new();
    {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&mut hashing);
        let mut row = ByteRecord::new();
        let loc = |line: u64| Location::at(Some(path), line);
        let read = |reader: &mut csv::Reader<_>, row: &mut ByteRecord| -> Result<bool> {
            reader
                .read_byte_record(row)
                .map_err(|e| super::raw::csv_error(path, &e))
        };
        if !read(&mut reader, &mut row)? {
            return Err(Error::input(
                loc(1),
                "the file is empty: an encoded extract starts with a header",
            ));
        }
        let expected = layout.header();
        let got: Vec<String> = row
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        if got != expected {
            return Err(Error::Mismatch(format!(
                "{}: the header does not match the schema's encoded columns (expected {}, found {})",
                path.display(),
                expected.join(","),
                got.join(",")
            )));
        }
        let mut ids = FxHashSet::default();
        while read(&mut reader, &mut row)? {
            let line = row.position().map(|p| p.line()).unwrap_or(0);
            let record = parse_row(layout, &row)
                .map_err(|(field, msg)| Error::input(loc(line).field(field), msg))?;
            if !ids.insert(record.id.clone()) {
                return Err(Error::input(
                    loc(line).field("record_id"),
                    format!("record id '{}' appears twice", record.id),
                ));
            }
            records.push(record);
        }
    }
    Ok((records, hashing.finish()))
}

/// Whether the file of BLAKE3 `hash` and size `bytes` is not the one `manifest` describes.
fn altered(manifest: &Manifest, hash: &str, bytes: u64) -> bool {
    hash != manifest.output.blake3 || bytes != manifest.output.bytes
}

/// The refusal of an extract that does not match its manifest.
fn altered_message(path: &Path) -> String {
    format!(
        "{} does not match its manifest (size or hash differs): it was altered or truncated after encoding",
        path.display()
    )
}

/// The BLAKE3 (hex) and size of the file at `path`.
fn hash_file(path: &Path) -> Result<(String, u64)> {
    let mut file = File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io("read", path, e)),
        };
        hasher.update(buf.get(..n).unwrap_or_default());
        bytes += n as u64;
    }
    Ok((hasher.finalize().to_hex().to_string(), bytes))
}

/// Parses one data row of an encoded extract. Errors name the column.
pub fn parse_row(
    layout: &Layout,
    row: &ByteRecord,
) -> std::result::Result<EncodedRecord, (String, String)> {
    if row.len() != layout.columns.len() + 1 {
        return Err((
            "record_id".into(),
            format!(
                "{} cells where the header has {} (truncated row?)",
                row.len(),
                layout.columns.len() + 1
            ),
        ));
    }
    let id = std::str::from_utf8(row.get(0).unwrap_or_default()).map_err(|_| {
        (
            "record_id".to_string(),
            "record id is not valid UTF-8".to_string(),
        )
    })?;
    if id.is_empty() {
        return Err(("record_id".into(), "empty record id".into()));
    }
    let mut record = EncodedRecord {
        id: id.to_string(),
        tokens: vec![None; layout.n_tokens],
        sets: vec![Vec::new(); layout.n_sets],
        blooms: vec![None; layout.n_blooms],
    };
    for (col, cell) in layout.columns.iter().zip(row.iter().skip(1)) {
        if cell.is_empty() {
            continue;
        }
        match col.slot {
            Slot::Token(i) => {
                let t = Token::from_hex(cell).ok_or_else(|| {
                    (
                        col.name.clone(),
                        "not a token (32 hex characters)".to_string(),
                    )
                })?;
                record.tokens[i] = Some(t);
            }
            Slot::Set(i) => {
                record.sets[i] = parse_set(cell).ok_or_else(|| {
                    (
                        col.name.clone(),
                        format!(
                            "not a token set (distinct tokens of {SET_ELEMENT_HEX} hex characters in ascending order)"
                        ),
                    )
                })?;
            }
            Slot::Bloom { index, bits } => {
                let b = Bloom::from_base64(cell, bits).ok_or_else(|| {
                    (
                        col.name.clone(),
                        format!("not a base64 Bloom filter of {bits} bits"),
                    )
                })?;
                record.blooms[index] = Some(b);
            }
        }
    }
    Ok(record)
}

/// Parses a token-set cell: tokens of `SET_ELEMENT_HEX` hex characters, strictly ascending.
pub fn parse_set(cell: &[u8]) -> Option<Vec<u64>> {
    if !cell.len().is_multiple_of(SET_ELEMENT_HEX) {
        return None;
    }
    let mut out: Vec<u64> = Vec::with_capacity(cell.len() / SET_ELEMENT_HEX);
    for chunk in cell.chunks(SET_ELEMENT_HEX) {
        let mut bytes = [0u8; 8];
        for (b, pair) in bytes.iter_mut().zip(chunk.chunks(2)) {
            let hi = crate::secret::hex_value(pair[0])?;
            let lo = crate::secret::hex_value(pair[1])?;
            *b = (hi << 4) | lo;
        }
        let v = u64::from_le_bytes(bytes);
        if out.last().is_some_and(|&last| last >= v) {
            return None;
        }
        out.push(v);
    }
    Some(out)
}
