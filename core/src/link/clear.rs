//! Cleartext mode (`--clear`): raw CSV extracts are normalised with the schema's normalisers and
//! encoded in memory under an ephemeral random secret, which gives the exact, level and blocking
//! tokens; the normalised strings are kept for the string comparators (`compare.clear`). The
//! ephemeral secret lives only in memory for the length of the run and is never written anywhere.
//!
//! Rows are checked as `pseudolink encode` checks them (cell counts, UTF-8, record ids); the first
//! bad row is an error naming its file and line.

use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use csv::ByteRecord;
use rayon::prelude::*;

use crate::encode::pair_stats::{FeatureValues, Features};
use crate::encode::{EncodedRecord, Encoder};
use crate::error::{Error, Location, Result};
use crate::io::raw::RawLayout;
use crate::schema::Key;

/// One cleartext row: its encoding (blocking tokens), its normalised values and its features.
type ClearPart = (EncodedRecord, Vec<Option<Box<str>>>, FeatureValues);

/// One cleartext extract, encoded in memory.
#[derive(Debug, Clone)]
pub struct ClearExtract {
    /// The encoded records, in file order.
    pub records: Vec<EncodedRecord>,
    /// The normalised value of each field of each record (`records.len() * fields` cells).
    pub values: Vec<Option<Box<str>>>,
    /// Per record: its feature values over the keys given to [`read_clear`].
    pub features: Vec<FeatureValues>,
    /// Bytes read.
    pub bytes: u64,
    /// BLAKE3 of the file (hex, unkeyed: the linkage unit holds this cleartext anyway).
    pub blake3: String,
}

/// Reads, normalises and encodes the raw CSV extract at `path` with `encoder`.
pub fn read_clear(path: &Path, encoder: &Encoder, keys: &[Key]) -> Result<ClearExtract> {
    let features = Features::for_keys(encoder.schema(), keys.to_vec());
    crate::io::raw::refuse_non_csv(path)?;
    let file = File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut hashing = crate::io::encoded::HashingReader::new(
        crate::io::raw::LineGuard::new(BufReader::with_capacity(1 << 20, file)),
        blake3::Hasher::new(),
    );
    let mut rows: Vec<(u64, ByteRecord)> = Vec::new();
    let raw = {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&mut hashing);
        let csv_err = |e: csv::Error| crate::io::raw::csv_error(path, &e);
        let mut header = ByteRecord::new();
        if !reader.read_byte_record(&mut header).map_err(csv_err)? {
            return Err(Error::input(
                Location::at(Some(path), 1),
                "the file is empty: expected a header row",
            ));
        }
        let raw = RawLayout::from_header(encoder.schema(), &header, Some(path))?;
        let mut seen = HashSet::new();
        loop {
            let mut row = ByteRecord::new();
            if !reader.read_byte_record(&mut row).map_err(csv_err)? {
                break;
            }
            let line = row.position().map(|p| p.line()).unwrap_or(0);
            raw.check_row(&row, line).map_err(|r| {
                let mut loc = Location::at(Some(path), r.line);
                loc.field = r.field.clone();
                Error::input(loc, format!("{} ({})", r.message, r.reason.as_str()))
            })?;
            let id = raw.record_id(&row).to_string();
            if !seen.insert(id.clone()) {
                return Err(Error::input(
                    Location::at(Some(path), line).field(encoder.schema().record_id.clone()),
                    format!("record id '{id}' appears twice"),
                ));
            }
            rows.push((line, row));
        }
        raw
    };
    let n_fields = encoder.schema().fields.len();
    let parts: Vec<ClearPart> = rows
        .par_chunks(1024)
        .map_init(
            || encoder.scratch(),
            |scratch, chunk| {
                chunk
                    .iter()
                    .map(|(_, row)| {
                        let cell = |i: usize| {
                            raw.fields
                                .get(i)
                                .copied()
                                .flatten()
                                .map(|c| raw.cell(row, c))
                        };
                        let (record, _) = encoder.encode_fields(raw.record_id(row), cell, scratch);
                        let normalised: Vec<Option<crate::encode::Value>> = (0..n_fields)
                            .map(|i| encoder.normaliser(i)?.normalise(cell(i)?).ok())
                            .collect();
                        let values = normalised
                            .iter()
                            .map(|v| v.as_ref().map(|v| Box::<str>::from(&*v.canonical())))
                            .collect();
                        let f = features.values(&normalised);
                        (record, values, f)
                    })
                    .collect::<Vec<_>>()
            },
        )
        .flatten_iter()
        .collect();
    let (bytes_hash, bytes) = hashing.finish();
    let mut records = Vec::with_capacity(parts.len());
    let mut values = Vec::with_capacity(parts.len() * n_fields);
    let mut feature_values = Vec::with_capacity(parts.len());
    for (r, v, f) in parts {
        records.push(r);
        values.extend(v);
        feature_values.push(f);
    }
    Ok(ClearExtract {
        records,
        values,
        features: feature_values,
        bytes,
        blake3: bytes_hash,
    })
}
