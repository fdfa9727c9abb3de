//! The checks behind every fuzz target (`fuzz/fuzz_targets/*.rs` are one-line wrappers).
//!
//! Each check takes arbitrary bytes, drives one part of pseudolink with them and panics when an
//! invariant breaks: not only "no panic", but idempotent normalisers, deterministic encoding,
//! `rows_read == encoded + rejected`, one-to-one links, clusters that partition the records, and
//! no output file left behind by a failed run. They live here, in the normal workspace, so that
//! `cargo test` runs every committed seed and every past crash input through them
//! (`tests/tests/fuzz_inputs.rs`), and the fuzz workspace stays a thin, separately built shell.
//!
//! A failing input can be replayed without the fuzzer:
//! `cargo test -p pseudolink-tests --test fuzz_inputs` after copying it to
//! `fuzz/regressions/<target>/`, or `cargo fuzz run <target> <file>`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pseudolink::internals::encode::layout::{Layout, Slot};
use pseudolink::internals::encode::pair_stats::{FeatureValues, Features, PairStats, PatternCount};
use pseudolink::internals::encode::{Bloom, EncodedRecord, Token};
use pseudolink::internals::link_pool;
use pseudolink::internals::normalise::date::{normalise_date, Date, DateOptions};
use pseudolink::internals::normalise::name::{normalise_name, NameOptions};
use pseudolink::internals::normalise::nhs::{nhs_check_digit_valid, normalise_nhs_number};
use pseudolink::internals::normalise::postcode::normalise_postcode;
use pseudolink::internals::normalise::sex::normalise_sex;
use pseudolink::internals::normalise::text::normalise_text;
use pseudolink::internals::Pool;
use pseudolink::io::encoded::{parse_row, read_encoded, ReadOptions};
use pseudolink::io::manifest::{
    manifest_path, Counts, FileRecord, InputRecord, Manifest, RunRecord, FORMAT_NAME,
    FORMAT_VERSION,
};
use pseudolink::link::{Band, LinkOptions};
use pseudolink::run::{encode_file, EncodeOptions, Rejects, RunControl};
use pseudolink::schema::FieldKind;
use pseudolink::{Encoder, Error, Schema, Secret};

use crate::{TEST_SECRET_HEX, VECTOR_TODAY};

mod c_api;
pub use c_api::c_api;

/// A fuzz check: arbitrary bytes in, a panic when an invariant breaks.
pub type Check = fn(&[u8]);

/// Every fuzz target, by name (the name of its file in `fuzz/fuzz_targets/` and of its corpus
/// folder), with its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("schema", schema),
    ("raw_csv", raw_csv),
    ("raw_cells", raw_cells),
    ("encode_record", encode_record),
    ("norm_name", norm_name),
    ("norm_date", norm_date),
    ("norm_postcode", norm_postcode),
    ("norm_nhs", norm_nhs),
    ("norm_sex", norm_sex),
    ("norm_text", norm_text),
    ("encoded_reader", encoded_reader),
    ("link", link),
    ("c_api", c_api),
    ("dice", dice),
];

/// The check of the target called `name`.
pub fn check(name: &str) -> Option<Check> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// Reads bytes off the front of the fuzz input; past its end it gives zeros and empty strings,
/// so every input, even an empty one, is a complete test.
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// Wraps `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    /// The next byte (0 at the end).
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    /// The next `n` bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }

    /// A string of up to `max` bytes, its length taken from the next byte (lossy UTF-8).
    pub fn string(&mut self, max: usize) -> String {
        let n = usize::from(self.byte()) % (max + 1);
        String::from_utf8_lossy(self.take(n)).into_owned()
    }
}

fn today() -> Date {
    let (y, m, d) = VECTOR_TODAY;
    Date::new(y, m, d).expect("the vector date is valid")
}

fn secret() -> Secret {
    Secret::from_hex(TEST_SECRET_HEX).expect("the test secret is valid")
}

/// The encoder of the example schema and the test secret, with the vectors' fixed "today".
pub fn example_encoder() -> &'static Encoder {
    static ENCODER: OnceLock<Encoder> = OnceLock::new();
    ENCODER.get_or_init(|| Encoder::with_today(&Schema::example(), &secret(), today()))
}

/// The encoder of the version 1 default schema translated (`Schema::example_v1()`: salted
/// tokens and filters, which the default schema no longer has), as [`example_encoder`].
pub fn example_v1_encoder() -> &'static Encoder {
    static ENCODER: OnceLock<Encoder> = OnceLock::new();
    ENCODER.get_or_init(|| Encoder::with_today(&Schema::example_v1(), &secret(), today()))
}

/// A private folder for one file-based check, removed when it is dropped (a folder kept for the
/// whole process was never removed: statics are not dropped at exit).
fn scratch_dir() -> tempfile::TempDir {
    // In memory where the system offers it: the pipeline syncs its outputs to disk, which on
    // a real disk would dominate every execution.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    };
    dir.expect("a temporary folder")
}

/// Files in `dir` whose name says they are a partial output.
fn partial_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(".partial"))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Schema

/// Values a mutation may put anywhere in the example schema.
fn odd_json(b: &mut Bytes<'_>) -> serde_json::Value {
    use serde_json::json;
    match b.byte() % 16 {
        0 => json!(null),
        1 => json!(0),
        2 => json!(-1),
        3 => json!(1e308),
        4 => json!(u64::MAX),
        5 => json!(""),
        6 => json!(true),
        7 => json!([]),
        8 => json!({}),
        9 => json!(0.5),
        10 => json!(4294967296u64),
        11 => json!("first_name"),
        12 => json!("date_of_birth.year"),
        13 => json!(1),
        14 => json!(65),
        _ => serde_json::Value::String(b.string(12)),
    }
}

/// Every path (object keys and array indices) in `v`, parents before children.
fn json_paths(v: &serde_json::Value, here: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    out.push(here.clone());
    match v {
        serde_json::Value::Object(m) => {
            for (k, child) in m {
                here.push(PathStep::Key(k.clone()));
                json_paths(child, here, out);
                here.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                here.push(PathStep::Index(i));
                json_paths(child, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn at_path<'v>(
    v: &'v mut serde_json::Value,
    path: &[PathStep],
) -> Option<&'v mut serde_json::Value> {
    let mut cur = v;
    for step in path {
        cur = match step {
            PathStep::Key(k) => cur.get_mut(k.as_str())?,
            PathStep::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

/// Schema JSON: parsing and validation never panic; a schema that validates survives a round trip
/// through JSON with the same fingerprint, and can build a layout, an encoder and comparators that
/// encode a record without panicking, and pair statistics of records that agree on every key.
///
/// An input whose first byte is below 128 is the schema text itself; otherwise the rest of the
/// input drives up to eight edits of the example schema (replace, delete or duplicate a value at
/// any path), which reaches the validation rules far faster than raw JSON does.
pub fn schema(data: &[u8]) {
    let mut b = Bytes::new(data);
    let text = if b.byte() < 128 {
        String::from_utf8_lossy(b.rest()).into_owned()
    } else {
        let mut v: serde_json::Value =
            serde_json::from_str(Schema::example_json()).expect("the example is JSON");
        for _ in 0..(b.byte() % 8 + 1) {
            let mut paths = Vec::new();
            json_paths(&v, &mut Vec::new(), &mut paths);
            let pick = usize::from(b.byte()) * 256 + usize::from(b.byte());
            let path = paths[pick % paths.len()].clone();
            let op = b.byte() % 4;
            let new = odd_json(&mut b);
            match (op, path.split_last()) {
                (0, Some((PathStep::Key(k), parent))) => {
                    if let Some(serde_json::Value::Object(m)) = at_path(&mut v, parent) {
                        m.remove(k);
                    }
                }
                (1, Some((PathStep::Index(i), parent))) => {
                    if let Some(serde_json::Value::Array(a)) = at_path(&mut v, parent) {
                        let copy = a[*i].clone();
                        a.push(copy);
                    }
                }
                _ => {
                    if let Some(slot) = at_path(&mut v, &path) {
                        *slot = new;
                    }
                }
            }
        }
        v.to_string()
    };
    let Ok(schema) = Schema::from_json(&text) else {
        return;
    };
    let json = schema.to_json_pretty();
    let again = Schema::from_json(&json).expect("a valid schema's own JSON is valid");
    assert_eq!(again.fingerprint(), schema.fingerprint(), "round trip");
    let layout = Layout::new(&schema);
    assert_eq!(layout.header().len(), layout.columns.len() + 1);
    for clear in [false, true] {
        let _ = pseudolink::internals::check_comparisons(&schema, clear);
    }
    let encoder = Encoder::with_today(&schema, &secret(), today());
    let mut scratch = encoder.scratch();
    let n = schema.fields.len();
    // The pair statistics of records agreeing on every key they have (every pattern bit set).
    let sampled: Vec<(String, FeatureValues)> = ["", "x", "x", "2014-03-09", "2014-03-09"]
        .iter()
        .enumerate()
        .map(|(i, fill)| {
            let values: Vec<_> = (0..n)
                .map(|f| encoder.normaliser(f).and_then(|z| z.normalise(fill).ok()))
                .collect();
            (format!("r{i}"), encoder.features().values(&values))
        })
        .collect();
    let stats = PairStats::of_records(
        &schema,
        encoder.sample_key(),
        sampled.iter().map(|(id, v)| (id.as_str(), None, v.clone())),
    );
    assert_eq!(
        stats.features.len(),
        encoder.features().bits(),
        "one name per pattern bit"
    );
    for fill in ["", "x", "2014-03-09", "CV1 2AB"] {
        let mut values = vec!["id".to_string()];
        values.extend(std::iter::repeat_n(fill.to_string(), n));
        let (record, _) = encoder
            .encode_values(&values, &mut scratch)
            .expect("a full row with an id encodes");
        let mut row = Vec::new();
        record.write_csv_row(encoder.layout(), &mut row);
        let parsed = csv_row(&row);
        assert_eq!(parse_row(encoder.layout(), &parsed).ok(), Some(record));
    }
}

fn csv_row(bytes: &[u8]) -> csv::ByteRecord {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut row = csv::ByteRecord::new();
    match reader.read_byte_record(&mut row) {
        Ok(true) => row,
        other => panic!("a written row reads back as one CSV row: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Raw CSV through the real file pipeline

/// The header of the example schema's raw extract.
pub const EXAMPLE_HEADER: &str =
    "record_id,first_name,middle_name,last_name,date_of_birth,sex,postcode,address_line_1,nhs_number\n";

/// Data rows in a CSV file as the encoder's reader sees them (blank lines are not rows).
fn count_csv_rows(bytes: &[u8]) -> Option<u64> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut row = csv::ByteRecord::new();
    let mut n = 0u64;
    while reader.read_byte_record(&mut row).ok()? {
        n += 1;
    }
    Some(n.saturating_sub(1))
}

/// Arbitrary bytes as an Excel workbook (mode bit 0 clear) or a Parquet file (set), through
/// `encode_file` on a real file (bit 1: with a rejects file): a failure is an input error and
/// leaves no output, manifest, rejects or partial file (a reader's panic is one); a success has
/// `rows_read = encoded + rejected` and an extract that reads back against its manifest.
pub fn raw_cells(data: &[u8]) {
    let mut b = Bytes::new(data);
    let mode = b.byte();
    let scratch = scratch_dir();
    let dir = scratch.path();
    let input = dir.join(if mode & 1 == 0 {
        "raw_cells.in.xlsx"
    } else {
        "raw_cells.in.parquet"
    });
    let output = dir.join("raw_cells.out.csv");
    let rejects_path = dir.join("raw_cells.rejects.csv");
    std::fs::write(&input, b.rest()).expect("write the input");
    let encoder = example_encoder();
    let options = EncodeOptions {
        rejects: Rejects::from((mode & 2 == 2).then(|| rejects_path.clone())),
        ..EncodeOptions::default()
    };
    let result = encode_file(encoder, &input, &output, &options, &RunControl::default());
    assert!(partial_files(dir).is_empty(), "a partial file was left");
    let m = match result {
        Err(e) => {
            assert!(
                matches!(e, Error::Input { .. }),
                "a workbook or Parquet file fails only with an input error: {e:?}"
            );
            for p in [&output, &manifest_path(&output), &rejects_path] {
                assert!(!p.exists(), "{} exists after a failed run", p.display());
            }
            return;
        }
        Ok(m) => m,
    };
    let c = &m.counts;
    assert_eq!(c.rows_read, c.encoded + c.rejected, "{c:?}");
    let back = read_encoded(&output, encoder.schema(), ReadOptions::default())
        .expect("an encoded extract reads back against its manifest");
    assert_eq!(back.records.len() as u64, c.encoded);
}

/// Arbitrary bytes as a raw extract, encoded by [`encode_file`] on a real file: the run either
/// fails with an input error and leaves no output, manifest, rejects or partial file behind, or
/// succeeds with `rows_read == encoded + rejected`, `rows_read` equal to the CSV rows in the file,
/// an output that reads back (checked against its manifest) with exactly `encoded` records, a
/// rejects file with exactly `rejected` rows, and, run a second time, the same bytes; run with
/// a duplicate id check that goes to disk almost at once, the same bytes again.
///
/// First byte: bit 0 puts the example header before the data, bit 1 asks for a rejects file,
/// bit 2 encodes twice and compares, bit 3 encodes again with an id check budget of 64 times the
/// top four bits in bytes (0 to 960: a few ids in memory, then the second reading and the sort on
/// disk, in runs of a few entries merged a few at a time) and compares.
pub fn raw_csv(data: &[u8]) {
    let mut b = Bytes::new(data);
    let mode = b.byte();
    let mut input_bytes = Vec::new();
    if mode & 1 == 1 {
        input_bytes.extend_from_slice(EXAMPLE_HEADER.as_bytes());
    }
    input_bytes.extend_from_slice(b.rest());
    let scratch = scratch_dir();
    let dir = scratch.path();
    let input = dir.join("raw_csv.in.csv");
    let output = dir.join("raw_csv.out.csv");
    let rejects_path = dir.join("raw_csv.rejects.csv");
    let manifest = manifest_path(&output);
    std::fs::write(&input, &input_bytes).expect("write the input");
    let encoder = example_encoder();
    let options = EncodeOptions {
        rejects: Rejects::from((mode & 2 == 2).then(|| rejects_path.clone())),
        ..EncodeOptions::default()
    };
    let control = RunControl::default();
    let result = encode_file(encoder, &input, &output, &options, &control);
    assert!(partial_files(dir).is_empty(), "a partial file was left");
    let m = match result {
        Err(e) => {
            assert!(
                matches!(e, Error::Input { .. }),
                "a raw extract fails only with an input error: {e:?}"
            );
            for p in [&output, &manifest, &rejects_path] {
                assert!(!p.exists(), "{} exists after a failed run", p.display());
            }
            return;
        }
        Ok(m) => m,
    };
    let c = &m.counts;
    assert_eq!(c.rows_read, c.encoded + c.rejected, "{c:?}");
    assert_eq!(
        c.rejected,
        m.rejected_by_reason.values().sum::<u64>(),
        "rejections by reason"
    );
    assert_eq!(Some(c.rows_read), count_csv_rows(&input_bytes), "rows read");
    if options.rejects == Rejects::Fail {
        assert_eq!(c.rejected, 0, "without a rejects file nothing is rejected");
    } else {
        let text = std::fs::read(&rejects_path).expect("the rejects file exists");
        assert_eq!(
            count_csv_rows(&text),
            Some(c.rejected),
            "rows in the rejects file"
        );
    }
    let back = read_encoded(&output, encoder.schema(), ReadOptions::default())
        .expect("an encoded extract reads back against its manifest");
    assert_eq!(back.records.len() as u64, c.encoded);
    if mode & 4 == 4 {
        let first = std::fs::read(&output).expect("read the output");
        let first_rejects = std::fs::read(&rejects_path).ok();
        encode_file(encoder, &input, &output, &options, &control)
            .expect("the second run succeeds too");
        assert_eq!(
            std::fs::read(&output).expect("read the output"),
            first,
            "encoding is deterministic"
        );
        assert_eq!(std::fs::read(&rejects_path).ok(), first_rejects);
    }
    if mode & 8 == 8 {
        let first = std::fs::read(&output).expect("read the output");
        let first_rejects = std::fs::read(&rejects_path).ok();
        let tiny = EncodeOptions {
            rejects: options.rejects.clone(),
            id_memory: Some(usize::from(mode >> 4) * 64),
            ..EncodeOptions::default()
        };
        let spilled = encode_file(encoder, &input, &output, &tiny, &control)
            .expect("the run with the id check on disk succeeds too");
        assert_eq!(
            spilled.counts, m.counts,
            "the same counts with the id check on disk"
        );
        assert_eq!(
            std::fs::read(&output).expect("read the output"),
            first,
            "the same output with the id check on disk"
        );
        assert_eq!(std::fs::read(&rejects_path).ok(), first_rejects);
        assert!(partial_files(dir).is_empty(), "a partial file was left");
    }
}

// ---------------------------------------------------------------------------------------------
// One record at a time

/// Records given as lines of tab-separated values (record id first, nine columns of the example
/// schemas), each encoded under the default schema (tokens of several keys, token sets) and the
/// version 1 default translated (salted tokens and filters): encoding is deterministic (a second
/// encoder from the same secret, and fresh working memory, give the same bytes as working memory
/// reused across records, and the rows encoded as one batch give the same records as one by
/// one), every token set is strictly ascending, and every encoded row reads back as the same
/// record.
pub fn encode_record(data: &[u8]) {
    // Second encoders, built apart from the first from the same schema and secret (once: an
    // encoder of the version 1 schema precomputes its filters' q-gram tables, which would cost
    // more than the rest of an execution).
    static OTHERS: OnceLock<[Encoder; 2]> = OnceLock::new();
    let others = OTHERS.get_or_init(|| {
        [example_encoder(), example_v1_encoder()]
            .map(|e| Encoder::with_today(e.schema(), &secret(), today()))
    });
    let text = String::from_utf8_lossy(data);
    for (encoder, other) in [example_encoder(), example_v1_encoder()].iter().zip(others) {
        encode_record_with(encoder, other, &text);
    }
}

fn encode_record_with(encoder: &Encoder, other: &Encoder, text: &str) {
    let width = encoder.schema().fields.len() + 1;
    let mut reused = encoder.scratch();
    let mut batch_rows = Vec::new();
    let mut one_by_one = Vec::new();
    for line in text.split('\n').take(64) {
        let mut values: Vec<&str> = line.split('\t').collect();
        values.resize(width, "");
        values.truncate(width);
        let got = encoder.encode_values(&values, &mut reused);
        if values[0].trim().is_empty() {
            assert!(matches!(got, Err(Error::Invalid(_))), "empty id refused");
            continue;
        }
        let (record, outcomes) = got.expect("a row of the right width with an id encodes");
        for set in &record.sets {
            assert!(
                set.windows(2).all(|w| w[0] < w[1]),
                "a token set is strictly ascending: {set:?}"
            );
        }
        batch_rows.push(values.clone());
        one_by_one.push((record.clone(), outcomes.clone()));
        assert_eq!(outcomes.len(), width - 1);
        let (fresh, fresh_outcomes) = other
            .encode_values(&values, &mut other.scratch())
            .expect("encodes");
        assert_eq!(
            record, fresh,
            "same record from reused and fresh working memory"
        );
        assert_eq!(outcomes, fresh_outcomes);
        let mut row = Vec::new();
        record.write_csv_row(encoder.layout(), &mut row);
        let mut row2 = Vec::new();
        fresh.write_csv_row(other.layout(), &mut row2);
        assert_eq!(row, row2);
        let parsed = csv_row(&row);
        assert_eq!(
            parse_row(encoder.layout(), &parsed).ok().as_ref(),
            Some(&record),
            "the written row reads back"
        );
    }
    // The same rows as one batch (the file pipeline's way) give the same records.
    let mut records = vec![pseudolink::EncodedRecord::default(); batch_rows.len()];
    let mut outcomes = vec![Vec::new(); batch_rows.len()];
    encoder.encode_batch_into(
        |k| batch_rows[k][0],
        |k, i| batch_rows[k].get(i + 1).copied(),
        &mut reused,
        &mut records,
        &mut outcomes,
    );
    for (k, (record, outcome)) in one_by_one.iter().enumerate() {
        assert_eq!(&records[k], record, "batch record {k} as encoded alone");
        assert_eq!(&outcomes[k], outcome, "batch outcomes {k} as encoded alone");
    }
}

// ---------------------------------------------------------------------------------------------
// Normalisers

/// The example schema's normaliser of the first field of `kind`, applied to `raw`: if it gives a
/// value, normalising that value's canonical string gives the same value again.
fn field_idempotent(kind: FieldKind, raw: &str) {
    let encoder = example_encoder();
    let Some(i) = encoder.schema().fields.iter().position(|f| f.kind == kind) else {
        return;
    };
    let n = encoder.normaliser(i).expect("a normaliser per field");
    if let Ok(v) = n.normalise(raw) {
        let canonical = v.canonical().to_string();
        assert_eq!(
            n.normalise(&canonical),
            Ok(v),
            "normalise(normalise({raw:?}).canonical = {canonical:?}) differs"
        );
    }
}

fn assert_clean_words(s: &str, raw: &str) {
    assert!(!s.is_empty(), "{raw:?} gave an empty value");
    assert_eq!(s, s.trim(), "{raw:?} gave {s:?} with outer space");
    assert!(!s.contains("  "), "{raw:?} gave {s:?} with a double space");
}

/// Names: total, idempotent with and without title dropping, single-spaced output.
pub fn norm_name(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    for drop_titles in [true, false] {
        let opts = NameOptions { drop_titles };
        if let Ok(v) = normalise_name(&raw, &opts) {
            assert_clean_words(&v, &raw);
            assert_eq!(
                normalise_name(&v, &opts).as_ref(),
                Ok(&v),
                "idempotent on {raw:?}"
            );
        }
    }
    field_idempotent(FieldKind::Name, &raw);
}

/// Dates: total; an accepted date is real, inside the plausible range, and reads back from its
/// ISO form; the day-month swap is an involution.
pub fn norm_date(data: &[u8]) {
    let mut b = Bytes::new(data);
    let pivot = b.byte() % 101;
    let raw = String::from_utf8_lossy(b.rest());
    let opts = DateOptions {
        century_pivot: pivot,
        min_year: 1900,
        today: today(),
    };
    if let Ok(d) = normalise_date(&raw, &opts) {
        assert_eq!(Date::new(d.year, d.month, d.day), Some(d), "a real date");
        assert!(d.year >= opts.min_year && d <= opts.today, "plausible: {d}");
        assert_eq!(
            normalise_date(&d.iso(), &opts),
            Ok(d),
            "idempotent on {raw:?}"
        );
        assert_eq!(d.to_string(), d.iso());
        if let Some(s) = d.swapped() {
            assert_eq!(s.swapped(), Some(d), "swap twice");
        }
    }
    field_idempotent(FieldKind::Date, &raw);
}

/// Postcodes: total, idempotent, and the levels are prefixes of the postcode.
pub fn norm_postcode(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    if let Ok(p) = normalise_postcode(&raw) {
        let s = p.as_str();
        assert_eq!(
            normalise_postcode(s).as_ref(),
            Ok(&p),
            "idempotent on {raw:?}"
        );
        assert!(s.is_ascii() && s == s.trim() && s.contains(' '), "{s:?}");
        for part in [p.outward(), p.district(), p.sector(), p.area()] {
            assert!(s.starts_with(part), "{part:?} is not a prefix of {s:?}");
        }
    }
    field_idempotent(FieldKind::Postcode, &raw);
}

/// NHS numbers: total and idempotent; an accepted number passes the check digit; and a valid
/// number built from the input's first nine bytes is never refused, however it is spaced.
pub fn norm_nhs(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    if let Ok(n) = normalise_nhs_number(&raw) {
        assert!(
            nhs_check_digit_valid(&n),
            "{n} from {raw:?} fails its check"
        );
        assert_eq!(normalise_nhs_number(&n).as_ref(), Ok(&n));
    }
    field_idempotent(FieldKind::NhsNumber, &raw);

    let mut b = Bytes::new(data);
    let digits: Vec<u32> = (0..9).map(|_| u32::from(b.byte() % 10)).collect();
    let sum: u32 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return, // no valid number starts with these nine digits
        c => c,
    };
    let number: String = digits
        .iter()
        .chain(std::iter::once(&check))
        .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
        .collect();
    if number.bytes().all(|c| c == number.as_bytes()[0]) {
        return; // placeholder numbers such as 0000000000 are refused by design
    }
    assert!(nhs_check_digit_valid(&number));
    let spaced = format!("{} {} {}", &number[..3], &number[3..6], &number[6..]);
    let dashed = format!("{}-{}-{}", &number[..3], &number[3..6], &number[6..]);
    let padded = format!(" \u{feff}{number}\t");
    for form in [&number, &spaced, &dashed, &padded] {
        assert_eq!(
            normalise_nhs_number(form).as_ref(),
            Ok(&number),
            "valid NHS number {form:?} refused"
        );
    }
}

/// Sex: total and idempotent.
pub fn norm_sex(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    if let Ok(s) = normalise_sex(&raw) {
        assert_eq!(normalise_sex(s.as_str()), Ok(s), "idempotent on {raw:?}");
    }
    field_idempotent(FieldKind::Sex, &raw);
}

/// Free text (address line 1): total, idempotent, single-spaced output.
pub fn norm_text(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    if let Ok(v) = normalise_text(&raw) {
        assert_clean_words(&v, &raw);
        assert_eq!(normalise_text(&v).as_ref(), Ok(&v), "idempotent on {raw:?}");
    }
    field_idempotent(FieldKind::Text, &raw);
}

// ---------------------------------------------------------------------------------------------
// Encoded extracts and manifests

/// A manifest for an extract of `encoder`'s schema with the given bytes and record count.
fn manifest_for(encoder: &Encoder, extract: &[u8], records: u64) -> Manifest {
    Manifest {
        format: FORMAT_NAME.into(),
        format_version: FORMAT_VERSION,
        encoding_version: pseudolink::secret::ENCODING_VERSION,
        library_version: pseudolink::VERSION.into(),
        source: None,
        schema_fingerprint: encoder.schema().fingerprint(),
        key_check_value: encoder.check_value().clone(),
        columns: encoder
            .layout()
            .header()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        input: InputRecord::default(),
        output: FileRecord {
            path: "x.csv".into(),
            bytes: extract.len() as u64,
            blake3: blake3::hash(extract).to_hex().to_string(),
        },
        rejects: None,
        counts: Counts {
            rows_read: records,
            encoded: records,
            rejected: 0,
        },
        rejected_by_reason: BTreeMap::new(),
        missing: BTreeMap::new(),
        ignored_columns: vec![],
        absent_columns: vec![],
        run: RunRecord::default(),
        pair_stats: None,
    }
}

/// The encoded-extract and manifest readers on arbitrary files: they never panic; what they
/// accept has distinct, non-empty record ids, and every record written again reads back as
/// itself (so a token-set cell is accepted only strictly ascending, a filter only of its
/// length); a strict read accepts a file only when it matches its manifest (size, hash and
/// record count), and a file without a manifest only unverified.
///
/// First byte: bits 0-1 the mode: 0, the rest is the extract and there is no manifest; 1, the
/// schema's header, then the rest, with a manifest that matches; 2, the rest is the extract, with
/// a manifest that matches; 3, the next two bytes give the length of an arbitrary manifest, then
/// the extract. Bit 2: the version 1 default translated (filter cells, base64) instead of the
/// default schema (token and token-set cells).
pub fn encoded_reader(data: &[u8]) {
    let mut b = Bytes::new(data);
    let first = b.byte();
    let mode = first % 4;
    let scratch = scratch_dir();
    let dir = scratch.path();
    let path = dir.join("encoded_reader.csv");
    let mpath = manifest_path(&path);
    let encoder = if first & 4 == 4 {
        example_v1_encoder()
    } else {
        example_encoder()
    };
    let schema = encoder.schema();
    let extract: Vec<u8> = match mode {
        0 => b.rest().to_vec(),
        1 => {
            let mut e = encoder.layout().header().join(",").into_bytes();
            e.push(b'\n');
            e.extend_from_slice(b.rest());
            e
        }
        2 => b.rest().to_vec(),
        _ => {
            let n = usize::from(b.byte()) * 256 + usize::from(b.byte());
            std::fs::write(&mpath, b.take(n)).expect("write the manifest");
            b.rest().to_vec()
        }
    };
    std::fs::write(&path, &extract).expect("write the extract");
    let rows = count_csv_rows(&extract);
    if matches!(mode, 1 | 2) {
        let m = manifest_for(encoder, &extract, rows.unwrap_or(0));
        std::fs::write(&mpath, m.to_json()).expect("write the manifest");
    }
    let _ = Manifest::read_for(&path);
    for allow_unverified in [false, true] {
        let got = read_encoded(&path, schema, ReadOptions { allow_unverified });
        match got {
            Ok(x) => {
                let ids: HashSet<&str> = x.records.iter().map(|r| r.id.as_str()).collect();
                assert_eq!(ids.len(), x.records.len(), "distinct ids");
                assert!(!ids.contains(""), "no empty id");
                for r in &x.records {
                    let mut row = Vec::new();
                    r.write_csv_row(encoder.layout(), &mut row);
                    assert_eq!(
                        parse_row(encoder.layout(), &csv_row(&row)).as_ref(),
                        Ok(r),
                        "a record read writes and reads back as itself"
                    );
                }
                if !allow_unverified {
                    let m = x.manifest.as_ref().expect("a strict read has a manifest");
                    assert_eq!(m.output.bytes, extract.len() as u64);
                    assert_eq!(m.counts.encoded, x.records.len() as u64);
                    assert!(x.warnings.is_empty());
                    assert_eq!(Some(x.records.len() as u64), rows, "every row is a record");
                }
            }
            Err(e) => {
                assert!(
                    matches!(e, Error::Input { .. } | Error::Mismatch(_)),
                    "an extract fails only as input or mismatch: {e:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Linking

/// The example schemas with small limits, so tiny pools form oversized blocks and train fast:
/// the default (tokens and token sets, no filter) and the version 1 default translated (salted
/// tokens, filters and Dice levels).
fn link_schema(v1: bool) -> &'static Schema {
    static SCHEMAS: OnceLock<[Schema; 2]> = OnceLock::new();
    let schemas = SCHEMAS.get_or_init(|| {
        [Schema::example(), Schema::example_v1()].map(|mut s| {
            s.link.max_block_size = 5;
            s.link.u_sample_pairs = 500;
            s.link.em_max_iterations = 25;
            s
        })
    });
    &schemas[usize::from(v1)]
}

/// Few distinct 64-bit values, so that sets of different records intersect.
fn arbitrary_set(b: &mut Bytes<'_>, x: u8) -> Vec<u64> {
    let mut set: Vec<u64> = (0..=(x % 3)).map(|_| u64::from(b.byte() % 6)).collect();
    set.sort_unstable();
    set.dedup();
    set
}

fn arbitrary_record(b: &mut Bytes<'_>, layout: &Layout, id: String) -> EncodedRecord {
    let mut tokens = vec![None; layout.n_tokens];
    let mut sets = vec![Vec::new(); layout.n_sets];
    let mut blooms = vec![None; layout.n_blooms];
    for col in &layout.columns {
        let x = b.byte();
        match col.slot {
            Slot::Token(i) => {
                // Few distinct values, so records share tokens and form blocks.
                if !x.is_multiple_of(4) {
                    tokens[i] = Some(Token([x % 5; 16]));
                }
            }
            Slot::Set(i) => {
                if !x.is_multiple_of(4) {
                    sets[i] = arbitrary_set(b, x);
                }
            }
            Slot::Bloom { index, bits } => {
                if !x.is_multiple_of(4) {
                    let mut f = Bloom::empty(bits);
                    for _ in 0..(x % 16) {
                        let pos = u32::from(b.byte()) * 256 + u32::from(b.byte());
                        f.set(pos % bits);
                    }
                    blooms[index] = Some(f);
                }
            }
        }
    }
    EncodedRecord {
        id,
        tokens,
        sets,
        blooms,
    }
}

/// What an agency's sampler would hold for a record: which fields are present, the hashed
/// values of every key its tokens use (few distinct ones, so that pairs agree), its household
/// and its filters.
fn arbitrary_features(
    b: &mut Bytes<'_>,
    features: &Features,
    record: &EncodedRecord,
) -> (Option<u64>, FeatureValues) {
    let present: Vec<bool> = (0..features.fields)
        .map(|_| !b.byte().is_multiple_of(4))
        .collect();
    let keys = features
        .keys
        .iter()
        .map(|k| {
            let x = b.byte();
            if !present.get(k.field).copied().unwrap_or(false) || x.is_multiple_of(4) {
                None
            } else if k.is_set() {
                Some(arbitrary_set(b, x))
            } else {
                Some(vec![u64::from(x % 5)])
            }
        })
        .collect();
    let h = b.byte();
    let household = (h % 2 == 1).then_some(u64::from(h % 8));
    let values = FeatureValues {
        present,
        keys,
        blooms: record
            .blooms
            .iter()
            .take(features.filters)
            .cloned()
            .collect(),
    };
    (household, values)
}

/// Pair statistics as a manifest may bring them: some patterns' bits, Dice hundredths and
/// counts replaced by arbitrary ones (u64::MAX included), and patterns added.
fn tamper(b: &mut Bytes<'_>, stats: &mut PairStats) {
    fn word(b: &mut Bytes<'_>) -> u64 {
        let mut w = [0u8; 8];
        for (o, i) in w.iter_mut().zip(b.take(8)) {
            *o = *i;
        }
        u64::from_le_bytes(w)
    }
    for _ in 0..(b.byte() % 4) {
        let bits = (u128::from(word(b)) << 64) | u128::from(word(b));
        let count = match b.byte() % 4 {
            0 => u64::MAX,
            1 => 0,
            _ => word(b),
        };
        let dice: Vec<u8> = (0..(b.byte() % 3)).map(|_| b.byte()).collect();
        let pattern = PatternCount {
            bits: format!("{bits:x}"),
            dice,
            count,
        };
        let into_household = b.byte() % 2 == 1;
        let list = if into_household {
            &mut stats.household
        } else {
            &mut stats.random
        };
        match usize::from(b.byte()) {
            i if i < list.len() => list[i] = pattern,
            _ => list.push(pattern),
        }
    }
}

/// Linking small arbitrary encoded extracts (one to three sources, up to 24 records each, few
/// distinct tokens and set elements so blocks form and some exceed the limit), with pair
/// statistics computed from arbitrary sampled features of the same records: it succeeds or
/// refuses with an invalid-argument error (nothing to train on, no pair statistics);
/// probabilities are probabilities; pairs join two sources (or one, when deduplicating) and
/// appear once; one-to-one links use each record once; `match` clusters partition the records;
/// and linking again gives the same output.
///
/// First byte: bits 0-2 the number of sources (0: one, 7: three, else two), bit 3 one-to-one,
/// bit 4 link twice and compare, bit 5 the version 1 default schema translated (filters and
/// Dice levels) instead of the default, bit 6 no pair statistics (a refusal), bit 7 pair
/// statistics tampered with as a manifest could bring them (see `tamper`).
pub fn link(data: &[u8]) {
    let mut b = Bytes::new(data);
    let mode = b.byte();
    let n_sources = match mode % 8 {
        0 => 1,
        7 => 3,
        _ => 2,
    };
    let one_to_one = n_sources == 2 && mode & 8 == 8;
    let thresholds = [(0.9, 0.5), (0.5, 0.5), (0.99, 0.0), (0.0, 0.0), (1.0, 0.3)];
    let (threshold, review_threshold) = thresholds[usize::from(b.byte()) % thresholds.len()];
    let cluster_support = [0.0, 0.5, 1.0][usize::from(b.byte() % 3)];
    let schema = link_schema(mode & 32 == 32);
    let layout = Layout::new(schema);
    let features = Features::new(schema);
    let mut sources = Vec::new();
    let mut pair_stats = Vec::new();
    for s in 0..n_sources {
        let n = usize::from(b.byte() % 25);
        let recs: Vec<EncodedRecord> = (0..n)
            .map(|i| arbitrary_record(&mut b, &layout, format!("s{s}r{i}")))
            .collect();
        let sampled: Vec<(Option<u64>, FeatureValues)> = recs
            .iter()
            .map(|r| arbitrary_features(&mut b, &features, r))
            .collect();
        let mut stats = PairStats::of_records(
            schema,
            &secret().derive_key("pair statistics", "sample"),
            recs.iter()
                .zip(sampled)
                .map(|(r, (household, values))| (r.id.as_str(), household, values)),
        );
        if mode & 128 == 128 {
            tamper(&mut b, &mut stats);
        }
        if mode & 64 == 0 {
            pair_stats.push(stats);
        }
        sources.push((format!("source{s}"), recs));
    }
    let options = LinkOptions {
        threshold,
        review_threshold,
        one_to_one,
        cluster_support,
        model: None,
        pair_stats,
    };
    let run = |sources: Vec<(String, Vec<EncodedRecord>)>| {
        let pool = Pool::new(sources, layout.n_blooms).expect("a small pool");
        link_pool(
            schema,
            pool,
            false,
            options.clone(),
            &pseudolink::control::RunControl::new(),
        )
    };
    let linkage = match run(sources.clone()) {
        Ok(l) => l,
        // Documented refusals: no candidate pair to train on, or no pair at all to sample.
        Err(Error::Invalid(_)) => return,
        Err(e) => panic!("linking failed: {e:?}"),
    };
    let pool = linkage.pool();
    let mut seen = HashSet::new();
    let mut cluster_of: HashMap<u32, u32> = HashMap::new();
    let mut used = HashSet::new();
    for l in linkage.links() {
        assert!(l.left < l.right, "left record first");
        assert!((l.right as usize) < pool.len());
        assert!(seen.insert((l.left, l.right)), "pair listed twice");
        assert!((0.0..=1.0).contains(&l.probability), "{}", l.probability);
        assert!(!l.weight.is_nan());
        if n_sources > 1 {
            assert_ne!(
                pool.source(l.left),
                pool.source(l.right),
                "a pair within a source"
            );
        }
        match l.band {
            Band::Review => {
                assert!(l.probability >= review_threshold);
                assert_eq!(l.cluster, 0);
            }
            Band::Match => {
                assert!(l.cluster > 0, "a match has a cluster");
                if one_to_one {
                    assert!(l.probability >= threshold);
                    assert!(used.insert(l.left), "record {} linked twice", l.left);
                    assert!(used.insert(l.right), "record {} linked twice", l.right);
                }
                for r in [l.left, l.right] {
                    let c = *cluster_of.entry(r).or_insert(l.cluster);
                    assert_eq!(c, l.cluster, "record {r} in two clusters");
                }
            }
        }
    }
    let (m, r) = linkage.band_counts();
    assert_eq!((m + r) as usize, linkage.links().len());
    if mode & 16 == 16 {
        let again = run(sources).expect("the same input links again");
        let key = |x: &pseudolink::link::Linkage| -> Vec<(u32, u32, u64, Band, u32)> {
            x.links()
                .iter()
                .map(|l| (l.left, l.right, l.weight.to_bits(), l.band, l.cluster))
                .collect()
        };
        assert_eq!(key(&linkage), key(&again), "linking is deterministic");
    }
}

/// The Dice kernels, the project's only unsafe code (AVX-512 and POPCNT kernels chosen at run
/// time), against the portable reference on arbitrary filters: intersection counts one by one and
/// against a slice, and the thresholded search over a slice and over a
/// [`FilterBlock`](pseudolink::internals::dice::FilterBlock), which must find exactly the pairs, and
/// the coefficients, of testing each pair. Under the address sanitizer a read past a filter fails too.
///
/// Input: words per filter (1 to 20, so 8 and 16 take the fixed-width AVX-512 paths), the
/// threshold (byte / 255), the number of other filters (0 to 63), a mode byte (bit 0: the others
/// are the first filter with sparse bit flips, so that many pass a high threshold; bit 1: one
/// popcount fewer than filters; bit 2: a partial filter at the end of the slice), then the words.
pub fn dice(data: &[u8]) {
    use pseudolink::internals::dice as d;
    let mut bytes = Bytes::new(data);
    let words = usize::from(bytes.byte() % 20) + 1;
    let threshold = f64::from(bytes.byte()) / 255.0;
    let n = usize::from(bytes.byte() % 64);
    let mode = bytes.byte();
    let mut word = || {
        let mut b = [0u8; 8];
        for (o, i) in b.iter_mut().zip(bytes.take(8)) {
            *o = *i;
        }
        u64::from_le_bytes(b)
    };
    let a: Vec<u64> = (0..words).map(|_| word()).collect();
    let mut many: Vec<u64> = (0..n * words)
        .map(|k| {
            if mode & 1 == 1 {
                a[k % words] ^ (word() & word() & word())
            } else {
                word()
            }
        })
        .collect();
    let count_a = d::popcount(&a);
    let mut counts: Vec<u32> = many.chunks_exact(words).map(d::popcount).collect();
    if mode & 2 == 2 {
        counts.pop();
    }
    if mode & 4 == 4 {
        many.extend((0..words - 1).map(|k| a[k]));
    }
    // What each kernel must give: the portable count and the Dice of every pair.
    let both: Vec<u32> = many
        .chunks_exact(words)
        .map(|b| d::intersection_portable(&a, b))
        .collect();
    for (b, want) in many.chunks_exact(words).zip(&both) {
        assert_eq!(d::intersection_count(&a, b), *want, "one pair");
    }
    let mut counted = vec![u32::MAX; n + 1];
    d::intersection_counts(&a, &many, &mut counted);
    assert_eq!(&counted[..n], &both[..], "one against many");
    assert_eq!(counted[n], u32::MAX, "nothing written past the filters");
    let want: Vec<(u32, f64)> = both
        .iter()
        .zip(&counts)
        .enumerate()
        .filter_map(|(j, (&x, &cb))| {
            let coefficient = d::dice(x, count_a, cb);
            (coefficient >= threshold).then_some((j as u32, coefficient))
        })
        .collect();
    let mut got = Vec::new();
    let found = d::dice_at_least(&a, count_a, &many, &counts, threshold, &mut got);
    assert_eq!(found, got.len());
    assert_eq!(got, want, "dice_at_least over a slice");
    // The block takes every whole filter; its popcounts are its own.
    let block = d::FilterBlock::new(&many, words);
    assert_eq!(block.len(), n);
    let want_block: Vec<(u32, f64)> = many
        .chunks_exact(words)
        .zip(&both)
        .enumerate()
        .filter_map(|(j, (b, &x))| {
            let coefficient = d::dice(x, count_a, d::popcount(b));
            (coefficient >= threshold).then_some((j as u32, coefficient))
        })
        .collect();
    got.clear();
    let found = d::dice_at_least_block(&a, count_a, &block, threshold, &mut got);
    assert_eq!(found, got.len());
    assert_eq!(got, want_block, "dice_at_least_block");
}
