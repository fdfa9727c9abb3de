//! Encoder-level tests of the hardening options: salting, folding, balancing and the record-level
//! filter, through the public [`Encoder`] API.

use proptest::prelude::*;

use super::bloom::BloomBuilder;
use super::{Bloom, Encoder, Token};
use crate::normalise::date::Date;
use crate::normalise::MissingReason;
use crate::schema::Schema;
use crate::Secret;

fn secret() -> Secret {
    Secret::from_bytes(&[9u8; 32]).unwrap()
}

fn today() -> Date {
    Date::new(2026, 1, 1).unwrap()
}

/// A small schema: first and last name (salted or not) and a date of birth.
fn schema(extra_first: &str, record_bloom: &str) -> Schema {
    let json = format!(
        r#"{{
        "version": 1,
        "record_id": "id",
        "fields": [
            {{ "name": "first_name", "kind": "name", "key_group": "name",
               "bloom": {{ "bits": 256, "q": 2, "hashes": 10 }}, "levels": ["soundex"] {extra_first} }},
            {{ "name": "last_name", "kind": "name", "bloom": {{ "bits": 256, "q": 2, "hashes": 10 }} }},
            {{ "name": "date_of_birth", "kind": "date", "levels": ["year"] }}
        ]
        {record_bloom}
    }}"#
    );
    match Schema::from_json(&json) {
        Ok(s) => s,
        Err(e) => panic!("{e}\n{json}"),
    }
}

fn encode(
    schema: &Schema,
    values: [&str; 4],
) -> (super::EncodedRecord, Vec<Option<MissingReason>>) {
    let encoder = Encoder::with_today(schema, &secret(), today());
    let mut scratch = encoder.scratch();
    encoder.encode_values(&values, &mut scratch).unwrap()
}

fn first_token(schema: &Schema, name: &str, dob: &str) -> Option<Token> {
    let (r, _) = encode(schema, ["r", name, "x", dob]);
    r.tokens[0]
}

proptest! {
    #[test]
    fn salting_keeps_equal_inputs_equal_and_separates_salts(
        name in "q[a-z]{1,11}",
        y1 in 1920u16..2025,
        y2 in 1920u16..2025,
    ) {
        let salted = schema(r#", "salt": "date_of_birth.year""#, "");
        let d1 = format!("{y1}-01-01");
        let d2 = format!("{y2}-06-30");
        let a = first_token(&salted, &name, &d1);
        prop_assert!(a.is_some());
        prop_assert_eq!(a, first_token(&salted, &name, &d1));
        // Same year, other day: the salt is the year only, so the token is equal.
        prop_assert_eq!(a, first_token(&salted, &name, &format!("{y1}-12-31")));
        if y1 != y2 {
            prop_assert_ne!(a, first_token(&salted, &name, &d2));
        }
        // Never equal to the unsalted token.
        let plain = schema("", "");
        prop_assert_ne!(a, first_token(&plain, &name, &d1));
    }
}

#[test]
fn salting_covers_the_filter_and_level_tokens_too() {
    let salted = schema(r#", "salt": "date_of_birth.year""#, "");
    let (a, _) = encode(&salted, ["r", "oliver", "smith", "2015-01-01"]);
    let (b, _) = encode(&salted, ["r", "oliver", "smith", "2016-01-01"]);
    assert_ne!(a.tokens[1], b.tokens[1], "soundex level token");
    let (fa, fb) = (a.blooms[0].clone().unwrap(), b.blooms[0].clone().unwrap());
    assert!(fa.dice(&fb) < 0.4, "{}", fa.dice(&fb));
    // The unsalted last name is unaffected.
    assert_eq!(a.blooms[1], b.blooms[1]);
}

#[test]
fn a_missing_salt_writes_nothing_of_the_salted_field() {
    let salted = schema(r#", "salt": "date_of_birth.year""#, "");
    let (r, outcomes) = encode(&salted, ["r", "oliver", "smith", ""]);
    assert_eq!(outcomes[0], Some(MissingReason::SaltMissing));
    assert_eq!(outcomes[2], Some(MissingReason::Empty));
    assert_eq!(r.tokens[0], None);
    assert_eq!(r.tokens[1], None);
    assert_eq!(r.blooms[0], None);
    assert!(
        r.blooms[1].is_some(),
        "the unsalted last name is still encoded"
    );
    // The same encoder reused for a record with a salt writes the filter again.
    let encoder = Encoder::with_today(&salted, &secret(), today());
    let mut scratch = encoder.scratch();
    let (_, o1) = encoder
        .encode_values(&["a", "oliver", "smith", ""], &mut scratch)
        .unwrap();
    let (r2, o2) = encoder
        .encode_values(&["b", "oliver", "smith", "2015-01-01"], &mut scratch)
        .unwrap();
    assert_eq!(o1[0], Some(MissingReason::SaltMissing));
    assert_eq!(o2[0], None);
    assert!(r2.blooms[0].is_some());
}

const RECORD: &str = r#", "record_bloom": {
    "bits": 512, "q": 2, "balanced": true,
    "fields": [ { "field": "first_name", "hashes": 8 }, { "field": "last_name", "hashes": 8 } ],
    "compare": { "dice": [0.9] } }"#;

#[test]
fn record_level_filter_of_identical_records_has_dice_one() {
    let s = schema("", RECORD);
    let layout = super::Layout::new(&s);
    let slot = layout.record_bloom.unwrap();
    assert_eq!(
        layout
            .header()
            .iter()
            .filter(|c| **c == "record.bloom")
            .count(),
        1
    );
    let (a, _) = encode(&s, ["a", "Oliver", "Smith", "2015-01-01"]);
    let (b, _) = encode(&s, ["b", "OLIVER", "smith", "1990-01-01"]);
    let (c, _) = encode(&s, ["c", "Priya", "Kaur", "2015-01-01"]);
    let (fa, fb, fc) = (
        a.blooms[slot].clone().unwrap(),
        b.blooms[slot].clone().unwrap(),
        c.blooms[slot].clone().unwrap(),
    );
    assert_eq!(fa.bits(), 1024);
    assert_eq!(fa.count_ones(), 512, "balanced");
    assert_eq!(fa.dice(&fb), 1.0);
    assert!(fa.dice(&fc) < 0.95, "{}", fa.dice(&fc));
}

#[test]
fn record_level_filter_keeps_fields_apart_and_is_missing_only_when_all_are() {
    let s = schema("", &RECORD.replace(r#""balanced": true,"#, ""));
    let slot = super::Layout::new(&s).record_bloom.unwrap();
    // The same name as first or as last name sets different bits (per-field keys).
    let (a, _) = encode(&s, ["a", "morgan", "", ""]);
    let (b, _) = encode(&s, ["b", "", "morgan", ""]);
    let (fa, fb) = (
        a.blooms[slot].clone().unwrap(),
        b.blooms[slot].clone().unwrap(),
    );
    assert!(fa.dice(&fb) < 0.4, "{}", fa.dice(&fb));
    let (none, _) = encode(&s, ["n", "", "", "2015-01-01"]);
    assert_eq!(none.blooms[slot], None);
    // The record filter is the union of the fields' q-gram bits.
    let (both, _) = encode(&s, ["c", "morgan", "morgan", ""]);
    let fboth: Bloom = both.blooms[slot].clone().unwrap();
    for i in 0..fboth.bits() {
        assert_eq!(fboth.get(i), fa.get(i) || fb.get(i));
    }
}

#[test]
fn hardened_extracts_round_trip_through_csv() {
    let s = schema(
        r#", "salt": "date_of_birth.year""#,
        &RECORD.replace(
            r#""balanced": true"#,
            r#""balanced": true, "xor_fold": true"#,
        ),
    );
    let layout = super::Layout::new(&s);
    let (r, _) = encode(&s, ["a", "Oliver", "Smith", "2015-01-01"]);
    let mut row = Vec::new();
    r.write_csv_row(&layout, &mut row);
    let record = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(row.as_slice())
        .byte_records()
        .next()
        .unwrap()
        .unwrap();
    let back = crate::io::encoded::parse_row(&layout, &record).unwrap();
    assert_eq!(back, r);
}

proptest! {
    /// Encoding records as one batch (their messages hashed side by side, the file pipeline's
    /// way) gives exactly what encoding them one at a time gives, for salted, folded, balanced
    /// and record-level filters, and filters whose q-grams are hashed one by one (more positions
    /// than one hash holds, 960 bits).
    #[test]
    fn a_batch_encodes_like_records_one_at_a_time(
        rows in proptest::collection::vec(
            ("[a-zA-Zé' -]{0,12}", "[a-zA-Z -]{0,14}", proptest::option::of((1950u32..2020, 1u32..=12, 1u32..=28))),
            0..40,
        ),
        variant in 0usize..4,
    ) {
        let salted = r#", "salt": "date_of_birth.year""#;
        let (extra, record) = match variant {
            0 => ("", ""),
            1 | 2 => (salted, RECORD),
            _ => ("", RECORD),
        };
        let mut s = schema(extra, record);
        let spec = |bits, q, hashes, hardened| crate::schema::BloomSpec {
            bits, q, hashes, xor_fold: hardened, balanced: hardened,
        };
        match variant {
            2 => s.fields[0].bloom = Some(spec(960, 3, 20, false)),
            3 => s.fields[0].bloom = Some(spec(256, 2, 10, true)),
            _ => {}
        }
        let encoder = Encoder::with_today(&s, &secret(), today());
        let values: Vec<[String; 4]> = rows
            .iter()
            .enumerate()
            .map(|(i, (first, last, dob))| {
                let dob = dob.map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")).unwrap_or_default();
                [format!("r{i}"), first.clone(), last.clone(), dob]
            })
            .collect();
        // Each record with fresh working memory: nothing of one record (a text buffer, a
        // filter) may reach the next in the batch.
        let one_by_one: Vec<_> = values
            .iter()
            .map(|v| encoder.encode_values(v, &mut encoder.scratch()).unwrap())
            .collect();
        let mut records = vec![super::EncodedRecord::default(); values.len()];
        let mut outcomes = vec![Vec::new(); values.len()];
        encoder.encode_batch_into(
            |k| values[k][0].as_str(),
            |k, i| Some(values[k][i + 1].as_str()),
            &mut encoder.scratch(),
            &mut records,
            &mut outcomes,
        );
        for (k, (record, outcome)) in one_by_one.into_iter().enumerate() {
            prop_assert_eq!(&records[k], &record, "record {}", k);
            prop_assert_eq!(&outcomes[k], &outcome, "record {}", k);
        }
    }
}

proptest! {
    /// Blocking-key tokens follow their definition (each part's length, 4 bytes little-endian,
    /// then its text, all of it tokenised under the rule's key), for inputs of one block and
    /// longer, and for rules of up to five parts.
    #[test]
    fn blocking_keys_follow_the_definition(
        first in "[a-z]{1,40}",
        last in "[a-z]{1,40}",
        year in 1920u16..2025,
    ) {
        let json = r#"{
            "version": 1,
            "record_id": "id",
            "fields": [
                { "name": "first_name", "kind": "name", "levels": ["soundex"],
                  "normalise": { "drop_titles": false } },
                { "name": "last_name", "kind": "name", "normalise": { "drop_titles": false } },
                { "name": "date_of_birth", "kind": "date", "levels": ["year"] }
            ],
            "blocking": [
                { "name": "short", "keys": ["date_of_birth.year"] },
                { "name": "pair", "keys": ["first_name", "last_name"] },
                { "name": "five", "keys": ["first_name", "last_name", "date_of_birth",
                                          "date_of_birth.year", "first_name.soundex"] }
            ]
        }"#;
        // Titles are kept, so that a generated name such as "dr" stays a name.
        let schema = Schema::from_json(json).unwrap();
        let dob = format!("{year}-02-03");
        let (record, _) = encode(&schema, ["r", &first, &last, &dob]);
        let soundex = crate::encode::levels::soundex(&first).unwrap();
        let year = year.to_string();
        let rules: [(&str, Vec<&str>); 3] = [
            ("short", vec![&year]),
            ("pair", vec![&first, &last]),
            ("five", vec![&first, &last, &dob, &year, &soundex]),
        ];
        let layout = super::Layout::new(&schema);
        for ((name, parts), slot) in rules.iter().zip(&layout.blocks) {
            let mut input = Vec::new();
            for p in parts {
                input.extend_from_slice(&(p.len() as u32).to_le_bytes());
                input.extend_from_slice(p.as_bytes());
            }
            let want = Token::of(&secret().derive_key("block", name), &input);
            prop_assert_eq!(record.tokens[*slot], Some(want), "rule {}", name);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Unsalted filters, whose ASCII q-grams come from the encoder's q-gram tables when the
    /// table can be built (q of 1 or 2, positions in one hash, at most 2 MiB), equal the filter
    /// of the reference builder on every path: tables of 2- and 4-byte positions, no table
    /// (q = 3, too many positions, too long), values with and without other characters, in a
    /// field's own filter and in a record-level filter.
    #[test]
    fn unsalted_filters_equal_the_reference_builder(
        values in proptest::collection::vec("[a-z0-9 ]{0,30}|[a-zé0-9 \u{7f}]{0,12}|\\PC{0,10}", 1..6),
        q in 1u8..=3,
        hashes in 1u16..=20,
        bits in prop_oneof![Just(64u32), Just(960), Just(1024), Just(2048)],
    ) {
        let json = format!(
            r#"{{
            "version": 1,
            "record_id": "id",
            "fields": [
                {{ "name": "address", "kind": "text",
                   "bloom": {{ "bits": {bits}, "q": {q}, "hashes": {hashes} }} }}
            ],
            "record_bloom": {{ "bits": {bits}, "q": {q},
                "fields": [ {{ "field": "address", "hashes": {hashes} }} ],
                "compare": {{ "dice": [0.9] }} }}
        }}"#
        );
        let schema = Schema::from_json(&json).unwrap();
        let encoder = Encoder::with_today(&schema, &secret(), today());
        let layout = super::Layout::new(&schema);
        let (field_slot, record_slot) = (layout.fields[0].bloom.unwrap(), layout.record_bloom.unwrap());
        let field_key = secret().derive_key("bloom", "address");
        let record_key = secret().derive_key("record bloom", "address");
        let record_spec = schema.record_bloom.as_ref().unwrap().bloom_for(&schema.record_bloom.as_ref().unwrap().fields[0]);
        let mut scratch = encoder.scratch();
        let rows: Vec<[&str; 2]> = values.iter().map(|v| ["r", v.as_str()]).collect();
        let mut records = vec![super::EncodedRecord::default(); rows.len()];
        let mut outcomes = vec![Vec::new(); rows.len()];
        encoder.encode_batch_into(|_| "r", |k, _| Some(rows[k][1]), &mut scratch, &mut records, &mut outcomes);
        for (value, record) in values.iter().zip(&records) {
            let Ok(normalised) = encoder.normaliser(0).unwrap().normalise(value) else {
                prop_assert_eq!(&record.blooms[field_slot], &None);
                continue;
            };
            let text = normalised.canonical();
            let field = BloomBuilder::new(&field_key, schema.fields[0].bloom.unwrap()).build(&text);
            prop_assert_eq!(record.blooms[field_slot].as_ref(), Some(&field), "{:?}", value);
            let whole = BloomBuilder::new(&record_key, record_spec).build(&text);
            prop_assert_eq!(record.blooms[record_slot].as_ref(), Some(&whole), "{:?}", value);
        }
    }
}
