//! Parquet extracts hold the records of the CSV ones, under the same manifest checks.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::read_records;
use super::write::ParquetWriter;
use crate::encode::layout::{Layout, Slot};
use crate::encode::{Bloom, EncodedRecord, Token};
use crate::error::Error;
use crate::io::encoded::{read_encoded, ExtractFormat, ReadOptions};
use crate::run::{encode_csv, encode_file, write_encoded, EncodeOptions, Rejects, RunControl};
use crate::{Encoder, Schema, Secret};

/// The example schema with two filters (the example has none): names salted with the date of
/// birth, and the address.
fn bloom_schema() -> Schema {
    let json = Schema::example_json();
    let body = json.trim_end().strip_suffix('}').unwrap();
    let json = format!(
        r#"{body}, "filters": [
        {{ "name": "names", "bits": 256, "q": 2, "context": ["date_of_birth"],
           "fields": [ {{ "field": "first_name", "hashes": 10 }}, {{ "field": "last_name", "hashes": 10 }} ] }},
        {{ "name": "address", "bits": 512, "q": 2,
           "fields": [ {{ "field": "address_line_1", "hashes": 10 }} ] }} ] }}"#
    );
    Schema::from_json(&json).unwrap()
}

/// Writes `records` of `layout` to `path` in row groups of `group_rows`.
fn write(path: &Path, layout: &Layout, records: &[EncodedRecord], group_rows: usize) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = ParquetWriter::new(layout, file, path).unwrap();
    w.group_rows = group_rows;
    for chunk in records.chunks(5) {
        w.push(chunk).unwrap();
    }
    w.finish().unwrap();
}

/// A synthetic population's first agency encoded into `dir` as `a.csv` and `a.parquet`.
fn encoded_pair(dir: &Path, people: usize) -> (Encoder, PathBuf, PathBuf) {
    let data = pseudolink_synth::generate(&pseudolink_synth::SynthConfig {
        people,
        seed: 5,
        ..pseudolink_synth::SynthConfig::default()
    })
    .unwrap();
    pseudolink_synth::write(&data, &dir.join("data")).unwrap();
    let encoder = Encoder::new(&bloom_schema(), &Secret::from_bytes(&[7u8; 32]).unwrap());
    let input = dir.join("data").join("agency_a.csv");
    let options = EncodeOptions {
        rejects: Rejects::File(dir.join("rejects.csv")),
        ..EncodeOptions::default()
    };
    let (csv, parquet) = (dir.join("a.csv"), dir.join("a.parquet"));
    for out in [&csv, &parquet] {
        encode_file(&encoder, &input, out, &options, &RunControl::default()).unwrap();
    }
    (encoder, csv, parquet)
}

#[test]
fn an_extract_encoded_to_parquet_reads_back_as_the_csv_one() {
    let dir = tempfile::tempdir().unwrap();
    let (encoder, csv, parquet) = encoded_pair(dir.path(), 300);
    assert_eq!(
        ExtractFormat::of_file(&parquet).unwrap(),
        ExtractFormat::Parquet
    );
    assert_eq!(ExtractFormat::of_file(&csv).unwrap(), ExtractFormat::Csv);
    let schema = encoder.schema();
    let a = read_encoded(&csv, schema, ReadOptions::default()).unwrap();
    let b = read_encoded(&parquet, schema, ReadOptions::default()).unwrap();
    assert!(a.records.len() > 200);
    assert_eq!(a.records, b.records);
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);
    let (ma, mb) = (a.manifest.unwrap(), b.manifest.unwrap());
    assert_eq!(ma.counts, mb.counts);
    assert_eq!(ma.columns, mb.columns);
    assert_eq!(ma.pair_stats, mb.pair_stats);
    let bytes = std::fs::read(&parquet).unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
    assert_eq!(mb.output.bytes, bytes.len() as u64);
    assert_eq!(mb.output.blake3, blake3::hash(&bytes).to_hex().to_string());

    // The same records written from memory are the same bytes.
    let options = EncodeOptions {
        rejects: Rejects::Keep,
        ..EncodeOptions::default()
    };
    let input = dir.path().join("data").join("agency_a.csv");
    let none = RunControl::default();
    let encoded = encode_csv(&encoder, &input, &options, &none).unwrap();
    let again = dir.path().join("again.PQ");
    let written = write_encoded(
        &encoded.records,
        &encoded.rejected,
        &encoded.manifest,
        encoder.layout(),
        &again,
        None,
        &none,
    )
    .unwrap();
    assert_eq!(std::fs::read(&again).unwrap(), bytes);
    assert_eq!(written.output.blake3, mb.output.blake3);
}

#[test]
fn row_groups_and_nulls_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (encoder, csv, _) = encoded_pair(dir.path(), 120);
    let records = read_encoded(&csv, encoder.schema(), ReadOptions::default())
        .unwrap()
        .records;
    let layout = encoder.layout();
    assert!(layout
        .columns
        .iter()
        .any(|c| matches!(c.slot, Slot::Set(_))));
    assert_eq!(layout.n_blooms, 2);
    assert!(records.iter().any(|r| r.blooms[1].is_none()));
    for group_rows in [1, 7, records.len(), records.len() + 1] {
        let p = dir.path().join(format!("g{group_rows}.parquet"));
        write(&p, layout, &records, group_rows);
        assert_eq!(read_records(&p, layout).unwrap(), records, "{group_rows}");
    }
}

/// A record of `layout` from random parts.
fn record(layout: &Layout, id: usize, seed: &[u8]) -> EncodedRecord {
    let byte = |i: usize| seed.get(i % seed.len().max(1)).copied().unwrap_or(0);
    let mut r = EncodedRecord {
        id: format!("r{id}, \"é\""),
        tokens: vec![None; layout.n_tokens],
        sets: vec![Vec::new(); layout.n_sets],
        blooms: vec![None; layout.n_blooms],
    };
    for (k, col) in layout.columns.iter().enumerate() {
        if byte(k) % 3 == 0 {
            continue; // missing
        }
        match col.slot {
            Slot::Token(i) => r.tokens[i] = Some(Token([byte(k + id); 16])),
            Slot::Set(i) => {
                let mut set: Vec<u64> = (0..usize::from(byte(k) % 5))
                    .map(|j| u64::from(byte(j + id)) << (j * 8))
                    .collect();
                set.sort_unstable();
                set.dedup();
                r.sets[i] = set;
            }
            Slot::Bloom { index, bits } => {
                let mut b = Bloom::empty(bits);
                for w in b.0.iter_mut() {
                    *w = u64::from(byte(k + id)) * 0x0101_0101_0101_0101;
                }
                r.blooms[index] = Some(b);
            }
        }
    }
    r
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn written_records_read_back_equal(
        seeds in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 1..30),
        group_rows in 1usize..12,
    ) {
        let layout = Layout::new(&bloom_schema());
        let records: Vec<EncodedRecord> =
            seeds.iter().enumerate().map(|(i, s)| record(&layout, i, s)).collect();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.parquet");
        write(&p, &layout, &records, group_rows);
        prop_assert_eq!(read_records(&p, &layout).unwrap(), records);
    }
}

#[test]
fn an_altered_or_cut_extract_is_refused_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (encoder, _, parquet) = encoded_pair(dir.path(), 60);
    let schema = encoder.schema();
    let bytes = std::fs::read(&parquet).unwrap();
    let manifest = crate::io::manifest_path(&parquet);
    let check = |name: &str, content: &[u8]| -> (Error, Error) {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        std::fs::copy(&manifest, crate::io::manifest_path(&p)).unwrap();
        let verified = read_encoded(&p, schema, ReadOptions::default()).unwrap_err();
        let unverified = read_encoded(
            &p,
            schema,
            ReadOptions {
                allow_unverified: true,
            },
        );
        (verified, unverified.err().unwrap_or(Error::Cancelled))
    };
    // A byte of a value changed: the manifest's hash catches it.
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 1;
    let (e, _) = check("flipped.parquet", &flipped);
    assert!(matches!(e, Error::Mismatch(_)), "{e}");
    assert!(e.to_string().contains("does not match its manifest"), "{e}");
    // Cut short anywhere: refused as altered, or unverified as unreadable, never a panic.
    for cut in [4, 8, bytes.len() / 3, bytes.len() - 9, bytes.len() - 1] {
        let (e, unverified) = check("cut.parquet", &bytes[..cut]);
        assert!(matches!(e, Error::Mismatch(_)), "{cut}: {e}");
        assert!(
            matches!(unverified, Error::Input { .. })
                && unverified.to_string().contains("cut.parquet"),
            "{cut}: {unverified}"
        );
    }
    // Garbage after the magic bytes, under a .csv name: read as Parquet, an input error.
    let (_, unverified) = check("garbage.csv", b"PAR1 not really a parquet file PAR1");
    assert!(matches!(unverified, Error::Input { .. }), "{unverified}");
}

#[test]
fn bad_values_and_columns_name_the_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(&bloom_schema());
    let mut records: Vec<EncodedRecord> = (0..5).map(|i| record(&layout, i, &[1, 2])).collect();
    records[3].id = records[1].id.clone();
    let p = dir.path().join("dup.parquet");
    write(&p, &layout, &records, 2);
    let e = read_records(&p, &layout).unwrap_err().to_string();
    assert!(
        e.contains("dup.parquet, line 5, field 'record_id'") && e.contains("appears twice"),
        "{e}"
    );
    records[3].id.clear();
    write(&p, &layout, &records, 2);
    let e = read_records(&p, &layout).unwrap_err().to_string();
    assert!(e.contains("line 5") && e.contains("empty record id"), "{e}");
    // Another schema's extract: its columns are named.
    let mut other = bloom_schema();
    other.filters.pop();
    let other_layout = Layout::new(&other);
    write(&p, &other_layout, &[record(&other_layout, 0, &[1])], 2);
    let e = read_records(&p, &layout).unwrap_err();
    assert!(matches!(e, Error::Mismatch(_)), "{e}");
    assert!(e.to_string().contains("the columns do not match"), "{e}");
}
