//! Golden vectors: one JSON file (`tests/vectors/encode.json`) of inputs, a test secret and the
//! exact encoded rows, produced by `gen-vectors` and checked by the Rust, Python and C tests.
//!
//! The top level holds the default schema (`Schema::example()`, format version 2) and its
//! cases, the shape every reader knows; `schemas` holds the same inputs encoded under further
//! schemas: the version 1 default translated (`Schema::example_v1()`: salted tokens, level and
//! blocking tokens, salted field filters) and a schema of every transform and filter option
//! the two defaults leave out (`tests/vectors/schema-every-kind.json`). Each case also lists its
//! normalised values, so that `tests/tests/golden.rs` can re-derive every cell from the
//! definitions with the `blake3` crate alone.
//!
//! Any change to normalisation or encoding shows up as a diff in that file; regenerate it with
//! `make vectors` only when the change is intended (and bump the encoding version if old and new
//! encodings must never be mixed).

use std::collections::BTreeMap;

pub mod fuzz;

use pseudolink::internals::normalise::date::Date;
use pseudolink::{Encoder, Result, Schema, Secret};
use serde::{Deserialize, Serialize};

/// The secret of the golden vectors. A test fixture, never to be used for real data.
pub const TEST_SECRET_HEX: &str =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// The date the vectors treat as today (dates after it are implausible).
pub const VECTOR_TODAY: (u16, u8, u8) = (2026, 1, 1);

/// The default schema of format version 1 as written (`Schema::example_v1()` is its translation;
/// the core keeps the text private).
pub const EXAMPLE_V1_SCHEMA_JSON: &str = include_str!("../../core/src/schema/example_v1.json");

/// The schema of every transform and filter option the two example schemas leave out.
pub const EVERY_KIND_SCHEMA_JSON: &str = include_str!("../vectors/schema-every-kind.json");

/// The golden-vector file.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Vectors {
    /// What this file is.
    pub comment: String,
    /// The encoding version (part of every key derivation).
    pub encoding_version: u32,
    /// The test secret, hex.
    pub secret_hex: String,
    /// Its key check value.
    pub key_check_value: String,
    /// The schema used (the bundled example), as JSON text.
    pub schema_json: String,
    /// Its fingerprint.
    pub schema_fingerprint: String,
    /// The date used as today.
    pub today: String,
    /// The header of the encoded extract.
    pub header: String,
    /// The cases.
    pub cases: Vec<Case>,
    /// The same inputs under further schemas.
    pub schemas: Vec<Suite>,
}

/// The vectors' inputs encoded under one more schema.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Suite {
    /// A short name (`example_v1`).
    pub name: String,
    /// What the schema covers.
    pub comment: String,
    /// The schema as written (format version 1 or 2).
    pub schema_json: String,
    /// The schema as pseudolink holds it (format version 2; a version 1 schema translated),
    /// pretty JSON with defaults filled in.
    pub translated_json: String,
    /// Its fingerprint.
    pub schema_fingerprint: String,
    /// The header of the encoded extract.
    pub header: String,
    /// The cases (the same inputs as the top level's).
    pub cases: Vec<Case>,
}

/// One record and its expected encoding.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Case {
    /// What the case exercises.
    pub note: String,
    /// Input values in the schema's input-column order, record id first.
    pub values: Vec<String>,
    /// The encoded CSV row (no newline).
    pub row: String,
    /// Fields treated as missing, with the reason.
    pub missing: BTreeMap<String, String>,
    /// The canonical text of every field that has a value (dates `YYYY-MM-DD`, postcodes
    /// `CV1 2AB`, sex `m` or `f`): what the tokens and filters are built from.
    pub normalised: BTreeMap<String, String>,
}

/// The inputs of the vectors: (note, values in input-column order).
pub fn inputs() -> Vec<(&'static str, [&'static str; 9])> {
    vec![
        (
            "plain ASCII record",
            [
                "v01",
                "John",
                "Paul",
                "Smith",
                "2014-03-09",
                "M",
                "CV1 2AB",
                "12 High Street",
                "9434765919",
            ],
        ),
        (
            "same person, other formats",
            [
                "v02",
                "  JOHN ",
                "",
                "SMITH",
                "09/03/2014",
                "Male",
                "cv12ab",
                "12 High St",
                "943 476 5919",
            ],
        ),
        (
            "two-digit year, day-first",
            [
                "v03",
                "john",
                "",
                "smith",
                "9/3/14",
                "1",
                "CV1  2AB",
                "12 high st.",
                "943-476-5919",
            ],
        ),
        (
            "month name",
            [
                "v04",
                "Mr John",
                "",
                "Smith",
                "9 Mar 2014",
                "m",
                "CV1 2AB",
                "",
                "",
            ],
        ),
        (
            "month abbreviation with dashes",
            [
                "v05",
                "John",
                "",
                "Smith",
                "09-Mar-2014",
                "M",
                "CV1 2AB",
                "",
                "",
            ],
        ),
        (
            "compact date",
            [
                "v06", "John", "", "Smith", "20140309", "M", "CV1 2AB", "", "",
            ],
        ),
        (
            "diacritics",
            [
                "v07",
                "Zoë",
                "Renée",
                "Łukasiewicz",
                "2010-12-31",
                "F",
                "B33 8TH",
                "Flat 3, 45 Far Gosford Street",
                "",
            ],
        ),
        (
            "letters that do not decompose",
            [
                "v08",
                "Øyvind",
                "",
                "Strauß",
                "1980-02-29",
                "2",
                "W1A 1AA",
                "",
                "",
            ],
        ),
        (
            "apostrophe and hyphen",
            [
                "v09",
                "Siobhán",
                "",
                "O'Neil-Smith",
                "1975-07-04",
                "F",
                "M1 1AE",
                "",
                "",
            ],
        ),
        (
            "mojibake",
            [
                "v10",
                "JosÃ©",
                "",
                "MÃ¼ller",
                "2001-01-01",
                "M",
                "EC1A 1BB",
                "",
                "",
            ],
        ),
        (
            "impossible date",
            [
                "v11",
                "Anna",
                "",
                "Nowak",
                "31/02/2014",
                "F",
                "CV3 4FJ",
                "",
                "",
            ],
        ),
        (
            "implausible date (future)",
            [
                "v12",
                "Anna",
                "",
                "Nowak",
                "2099-01-01",
                "F",
                "CV3 4FJ",
                "",
                "",
            ],
        ),
        (
            "implausible date (before 1900)",
            [
                "v13",
                "Anna",
                "",
                "Nowak",
                "1850-01-01",
                "F",
                "CV3 4FJ",
                "",
                "",
            ],
        ),
        (
            "invalid postcode",
            [
                "v14",
                "Anna",
                "",
                "Nowak",
                "2000-01-01",
                "F",
                "CV99 ZZZZ",
                "",
                "",
            ],
        ),
        (
            "invalid NHS check digit",
            [
                "v15",
                "Anna",
                "",
                "Nowak",
                "2000-01-01",
                "F",
                "CV3 4FJ",
                "",
                "9434765918",
            ],
        ),
        (
            "NHS placeholder",
            [
                "v16",
                "Anna",
                "",
                "Nowak",
                "2000-01-01",
                "F",
                "CV3 4FJ",
                "",
                "0000000000",
            ],
        ),
        (
            "sex unknown codes",
            [
                "v17",
                "Sam",
                "",
                "Taylor",
                "2005-05-05",
                "9",
                "CV3 4FJ",
                "",
                "",
            ],
        ),
        (
            "sex unrecognised",
            [
                "v18",
                "Sam",
                "",
                "Taylor",
                "2005-05-05",
                "Q",
                "CV3 4FJ",
                "",
                "",
            ],
        ),
        (
            "all fields empty but the id",
            ["v19", "", "", "", "", "", "", "", ""],
        ),
        (
            "non-Latin script",
            [
                "v20",
                "محمد",
                "",
                "王",
                "1990-10-10",
                "M",
                "CV2 1AA",
                "",
                "",
            ],
        ),
        (
            "record id needing CSV quotes",
            [
                "v21,\"x\"",
                "Amy",
                "",
                "Lee",
                "2012-12-12",
                "F",
                "CV5 6GH",
                "",
                "",
            ],
        ),
        (
            "day and month swapped twin of v01",
            [
                "v22",
                "John",
                "Paul",
                "Smith",
                "2014-09-03",
                "M",
                "CV1 2AB",
                "12 High Street",
                "9434765919",
            ],
        ),
        (
            "long names: only the first 15 characters are left out in turn (deletions)",
            [
                "v23",
                "Maximiliananton",
                "",
                "Wolfeschlegelsteinhausen",
                "1999-11-30",
                "M",
                "SW1A 1AA",
                "Flat 12, 221b Baker Street",
                "",
            ],
        ),
        (
            "one-letter names (a deletion is empty); day equal to month (its own swap)",
            ["v24", "A", "J", "B", "2003-10-10", "F", "CV1 2AB", "", ""],
        ),
        (
            "doubled letters (equal deletions listed once); an address without a number",
            [
                "v25",
                "Anna",
                "",
                "Llewellyn",
                "2001-11-01",
                "F",
                "CV2 1AA",
                "The Old Rectory, Church Lane",
                "",
            ],
        ),
        (
            "one edit from v01 in the first name (deletion sets share a value)",
            [
                "v26",
                "Jon",
                "Paul",
                "Smith",
                "2014-03-09",
                "M",
                "CV1 2AB",
                "12 High Street",
                "9434765919",
            ],
        ),
        (
            "one digit from v01 in the date of birth (digit masks share a value)",
            [
                "v27",
                "John",
                "Paul",
                "Smith",
                "2014-03-08",
                "M",
                "CV1 2AB",
                "12 High Street",
                "9434765919",
            ],
        ),
        (
            "v01 with a flat number before the address (same number and street)",
            [
                "v28",
                "John",
                "Paul",
                "Smith",
                "2014-03-09",
                "M",
                "CV1 2AB",
                "Flat 3, 12 High Street",
                "9434765919",
            ],
        ),
        (
            "v01 with first and last names exchanged (one key group: crosswise tokens)",
            [
                "v29",
                "Smith",
                "Paul",
                "John",
                "2014-03-09",
                "M",
                "CV1 2AB",
                "12 High Street",
                "9434765919",
            ],
        ),
        (
            "v01 known by a nickname (Jack for John: nickname sets share a value)",
            [
                "v30",
                "Jack",
                "Paul",
                "Smith",
                "2014-03-09",
                "M",
                "CV1 2AB",
                "12 High Street",
                "9434765919",
            ],
        ),
    ]
}

/// The encoded cases of every input under `schema`.
fn encode_cases(schema: &Schema, secret: &Secret, today: Date) -> Result<(String, Vec<Case>)> {
    let encoder = Encoder::with_today(schema, secret, today);
    let mut scratch = encoder.scratch();
    let mut cases = Vec::new();
    for (note, values) in inputs() {
        let (record, outcomes) = encoder.encode_values(&values, &mut scratch)?;
        let mut row = Vec::new();
        record.write_csv_row(encoder.layout(), &mut row);
        let missing = schema
            .fields
            .iter()
            .zip(outcomes)
            .filter_map(|(f, o)| o.map(|r| (f.name.clone(), r.as_str().to_string())))
            .collect();
        let normalised = schema
            .fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let value = encoder.normaliser(i)?.normalise(values.get(i + 1)?).ok()?;
                Some((f.name.clone(), value.canonical().to_string()))
            })
            .collect();
        cases.push(Case {
            note: note.to_string(),
            values: values.iter().map(|s| s.to_string()).collect(),
            row: String::from_utf8_lossy(&row).into_owned(),
            missing,
            normalised,
        });
    }
    Ok((encoder.layout().header().join(","), cases))
}

/// Builds the vectors with the current code.
pub fn generate() -> Result<Vectors> {
    let schema = Schema::example();
    let secret = Secret::from_hex(TEST_SECRET_HEX)?;
    let (y, m, d) = VECTOR_TODAY;
    let today =
        Date::new(y, m, d).ok_or_else(|| pseudolink::Error::Invalid("bad vector date".into()))?;
    let (header, cases) = encode_cases(&schema, &secret, today)?;
    let mut schemas = Vec::new();
    for (name, comment, json) in [
        (
            "example_v1",
            "the default schema of format version 1 (Schema::example_v1), translated: tokens salted with the month of birth, level and blocking tokens, salted name filters, an unsalted address filter",
            EXAMPLE_V1_SCHEMA_JSON,
        ),
        (
            "every_kind",
            "every transform and filter option the defaults leave out: postcode area and district, year, swapped date with an initial, tokens of one key and of four, a token set with a long key, several fields in one filter, XOR folding, balancing, q of 1 and 3, 960 bits (4-byte positions), more positions than one hash holds, a filter salted with two keys",
            EVERY_KIND_SCHEMA_JSON,
        ),
    ] {
        let schema = Schema::from_json(json)?;
        if name == "example_v1" && schema != Schema::example_v1() {
            return Err(pseudolink::Error::Invalid(
                "core/src/schema/example_v1.json is not what Schema::example_v1() translates".into(),
            ));
        }
        let (header, cases) = encode_cases(&schema, &secret, today)?;
        schemas.push(Suite {
            name: name.into(),
            comment: comment.into(),
            schema_json: json.into(),
            translated_json: schema.to_json_pretty(),
            schema_fingerprint: schema.fingerprint().to_string(),
            header,
            cases,
        });
    }
    Ok(Vectors {
        comment: "pseudolink golden encoding vectors: generated by `make vectors` (cargo run -p pseudolink-tests --bin gen-vectors); read by the Rust, Python and C tests. The secret is a public test fixture. The top level is the default schema; `schemas` encodes the same inputs under the version 1 default (translated) and a schema of every other transform and filter option.".into(),
        encoding_version: pseudolink::secret::ENCODING_VERSION,
        secret_hex: TEST_SECRET_HEX.into(),
        key_check_value: secret.check_value().to_string(),
        schema_json: Schema::example_json().to_string(),
        schema_fingerprint: schema.fingerprint().to_string(),
        today: today.iso(),
        header,
        cases,
        schemas,
    })
}

/// Path of the vectors file in the repository.
pub fn vectors_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join("encode.json")
}
