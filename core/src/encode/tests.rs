//! Encoder-level tests through the public [`Encoder`] API: tokens of several keys and their
//! definition, token sets, salted (context) filters, batches, and the CSV round trip.

use proptest::prelude::*;

use super::bloom::BloomBuilder;
use super::layout::Slot;
use super::{Encoder, Token};
use crate::normalise::date::Date;
use crate::schema::Schema;
use crate::Secret;

fn secret() -> Secret {
    Secret::from_bytes(&[9u8; 32]).unwrap()
}

fn today() -> Date {
    Date::new(2026, 1, 1).unwrap()
}

/// A small schema: first and last name in one key group, a date of birth; tokens of each name
/// with the date, the deletions and Soundex of the first name with the date, the date's digit
/// masks and unordered form with the first name, and a filter of both names salted with the
/// date (`filters` replaced by `filter`).
fn schema(filter: &str) -> Schema {
    let json = format!(
        r#"{{
        "version": 2,
        "record_id": "id",
        "fields": [
            {{ "name": "first_name", "kind": "name", "key_group": "name",
               "normalise": {{ "drop_titles": false }} }},
            {{ "name": "last_name", "kind": "name", "key_group": "name",
               "normalise": {{ "drop_titles": false }} }},
            {{ "name": "date_of_birth", "kind": "date" }}
        ],
        "tokens": [
            ["first_name", "date_of_birth"],
            ["last_name", "date_of_birth"],
            ["first_name.deletions", "date_of_birth"],
            ["first_name.soundex", "date_of_birth"],
            ["date_of_birth.digit_masks", "first_name"],
            ["date_of_birth.unordered", "first_name"]
        ]
        {filter}
    }}"#
    );
    match Schema::from_json(&json) {
        Ok(s) => s,
        Err(e) => panic!("{e}\n{json}"),
    }
}

const FILTER: &str = r#", "filters": [ { "name": "names", "bits": 256, "q": 2,
    "fields": [ { "field": "first_name", "hashes": 10 }, { "field": "last_name", "hashes": 10 } ],
    "context": ["date_of_birth"] } ]"#;

fn encode(schema: &Schema, values: [&str; 4]) -> super::EncodedRecord {
    let encoder = Encoder::with_today(schema, &secret(), today());
    let mut scratch = encoder.scratch();
    encoder.encode_values(&values, &mut scratch).unwrap().0
}

/// The token of column `c` (a single-token column).
fn token(schema: &Schema, r: &super::EncodedRecord, c: usize) -> Option<Token> {
    match super::Layout::new(schema).tokens[c].slot {
        Slot::Token(s) => r.tokens[s],
        _ => panic!("column {c} is a set"),
    }
}

/// The set of column `c` (a token-set column).
fn set<'a>(schema: &Schema, r: &'a super::EncodedRecord, c: usize) -> &'a [u64] {
    match super::Layout::new(schema).tokens[c].slot {
        Slot::Set(s) => &r.sets[s],
        _ => panic!("column {c} is not a set"),
    }
}

fn shares(a: &[u64], b: &[u64]) -> bool {
    a.iter().any(|x| b.contains(x))
}

proptest! {
    /// A token of several keys is equal exactly when every key is: the same name in another
    /// birth date gives another token.
    #[test]
    fn tokens_agree_only_when_every_key_does(
        name in "q[a-z]{1,11}",
        other in "z[a-z]{1,11}",
        d1 in (1920u16..2025, 1u8..=12, 1u8..=28),
        d2 in (1920u16..2025, 1u8..=12, 1u8..=28),
    ) {
        let s = schema("");
        let date = |(y, m, d): (u16, u8, u8)| format!("{y}-{m:02}-{d:02}");
        let a = encode(&s, ["a", &name, "x", &date(d1)]);
        let b = encode(&s, ["b", &name, "y", &date(d1)]);
        let c = encode(&s, ["c", &name, "x", &date(d2)]);
        let d = encode(&s, ["d", &other, "x", &date(d1)]);
        prop_assert_eq!(token(&s, &a, 0), token(&s, &b, 0));
        prop_assert!(token(&s, &a, 0).is_some());
        prop_assert_eq!(token(&s, &a, 0) == token(&s, &c, 0), d1 == d2);
        prop_assert_ne!(token(&s, &a, 0), token(&s, &d, 0));
        // The last names differ, so do their tokens.
        prop_assert_ne!(token(&s, &a, 1), token(&s, &b, 1));
    }

    /// The deletions of a name share a value with those of any name one edit away (a letter
    /// added, left out, changed, or two neighbours exchanged), always include the name, and
    /// hold the name's length plus one values at most.
    #[test]
    fn deletions_meet_within_one_edit(name in "[a-y]{2,14}", at in 0usize..14, letter in "[a-y]") {
        let s = schema("");
        let dob = "2001-02-03";
        let at = at % name.len();
        let variants = [
            format!("{}{}{}", &name[..at], letter, &name[at..]),
            format!("{}{}", &name[..at], &name[at + 1..]),
            format!("{}{}{}", &name[..at], letter, &name[at + 1..]),
        ];
        let a = encode(&s, ["a", &name, "", dob]);
        let da = set(&s, &a, 2).to_vec();
        prop_assert!(!da.is_empty() && da.len() <= name.len() + 1);
        prop_assert!(da.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
        for v in variants.iter().filter(|v| !v.is_empty()) {
            let b = encode(&s, ["b", v, "", dob]);
            prop_assert!(shares(&da, set(&s, &b, 2)), "{} and {}", name, v);
        }
        // Two neighbours exchanged.
        if name.len() >= 2 {
            let mut swapped: Vec<char> = name.chars().collect();
            swapped.swap(0, 1);
            let swapped: String = swapped.into_iter().collect();
            let b = encode(&s, ["b", &swapped, "", dob]);
            prop_assert!(shares(&da, set(&s, &b, 2)));
        }
        // A name with no letter in common shares nothing.
        let far = encode(&s, ["c", "zzzzzzzzzzzzzzzz", "", dob]);
        prop_assert!(!shares(&da, set(&s, &far, 2)));
    }
}

#[test]
fn dates_one_digit_apart_or_swapped_meet() {
    let s = schema("");
    let a = encode(&s, ["a", "ann", "", "2014-03-09"]);
    let one_digit = encode(&s, ["b", "ann", "", "2016-03-09"]);
    let swapped = encode(&s, ["c", "ann", "", "2014-09-03"]);
    let far = encode(&s, ["d", "ann", "", "2016-04-09"]);
    assert!(shares(set(&s, &a, 4), set(&s, &one_digit, 4)));
    assert!(!shares(set(&s, &a, 4), set(&s, &far, 4)));
    assert_eq!(set(&s, &a, 4).len(), 8);
    // The unordered form is the same for swapped day and month, not for other dates.
    assert_eq!(token(&s, &a, 5), token(&s, &swapped, 5));
    assert_ne!(token(&s, &a, 5), token(&s, &one_digit, 5));
    // Under another first name, nothing meets.
    let other = encode(&s, ["e", "bob", "", "2014-03-09"]);
    assert!(!shares(set(&s, &a, 4), set(&s, &other, 4)));
}

#[test]
fn a_missing_key_leaves_every_token_of_it_empty() {
    let s = schema(FILTER);
    let r = encode(&s, ["a", "ann", "smith", ""]);
    for c in 0..s.tokens.len() {
        match super::Layout::new(&s).tokens[c].slot {
            Slot::Token(_) => assert_eq!(token(&s, &r, c), None, "column {c}"),
            _ => assert!(set(&s, &r, c).is_empty(), "column {c}"),
        }
    }
    // The filter is salted with the date of birth: no date, no filter.
    assert!(r.blooms[0].is_none());
    let full = encode(&s, ["b", "ann", "smith", "2001-02-03"]);
    assert!(full.blooms[0].is_some());
}

/// Columns of one signature (a first name and a last name, each with the date) are hashed
/// alike, so a first name recorded as the last name can be seen; other columns cannot be
/// compared with each other.
#[test]
fn crossed_columns_are_hashed_alike() {
    let s = schema("");
    let a = encode(&s, ["a", "smith", "toby", "2001-02-03"]);
    let b = encode(&s, ["b", "toby", "smith", "2001-02-03"]);
    assert_eq!(token(&s, &a, 0), token(&s, &b, 1));
    assert_eq!(token(&s, &a, 1), token(&s, &b, 0));
    // The Soundex column has another signature: not the first name's token.
    let c = encode(&s, ["c", "S530", "", "2001-02-03"]);
    assert_ne!(token(&s, &a, 3), token(&s, &c, 0));
}

/// A token's input is each key's text after its length (4 bytes, little-endian), in canonical
/// order, hashed under the key of its signature.
#[test]
fn tokens_follow_their_definition() {
    let s = schema("");
    let r = encode(&s, ["a", "ann", "lee", "2001-02-03"]);
    let input = |parts: &[&str]| {
        let mut v = Vec::new();
        for p in parts {
            v.extend_from_slice(&(p.len() as u32).to_le_bytes());
            v.extend_from_slice(p.as_bytes());
        }
        v
    };
    let key = secret().derive_key("token", "date_of_birth:value name:value");
    assert_eq!(
        token(&s, &r, 0),
        Some(Token::of(&key, &input(&["2001-02-03", "ann"])))
    );
    let key = secret().derive_key("token", "date_of_birth:unordered name:value");
    assert_eq!(
        token(&s, &r, 5),
        Some(Token::of(&key, &input(&["2001-02-03", "ann"])))
    );
    // A set: the first 8 bytes of each element's hash.
    let key = secret().derive_key("token", "date_of_birth:value name:deletions");
    let mut want: Vec<u64> = ["ann", "nn", "an"]
        .iter()
        .map(|d| {
            let h = super::message::hash(&key, &input(&["2001-02-03", d]));
            u64::from_le_bytes(h[..8].try_into().unwrap())
        })
        .collect();
    want.sort_unstable();
    want.dedup();
    assert_eq!(set(&s, &r, 2), want.as_slice());
}

#[test]
fn filters_agree_within_one_context_only() {
    let s = schema(FILTER);
    let a = encode(&s, ["a", "oliver", "smith", "2015-01-01"]);
    let b = encode(&s, ["b", "oliver", "smith", "2015-01-01"]);
    let c = encode(&s, ["c", "oliver", "smith", "2016-01-01"]);
    let (fa, fb, fc) = (
        a.blooms[0].as_ref().unwrap(),
        b.blooms[0].as_ref().unwrap(),
        c.blooms[0].as_ref().unwrap(),
    );
    assert_eq!(fa, fb);
    assert!(fa.dice(fc) < 0.6, "another salt: {}", fa.dice(fc));
}

#[test]
fn extracts_round_trip_through_csv() {
    let mut s = schema(FILTER);
    s.filters[0].balanced = true;
    s.filters[0].xor_fold = true;
    let layout = super::Layout::new(&s);
    let r = encode(&s, ["a", "Oliver", "Smith", "2015-01-01"]);
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
    // A set cell out of order or of a wrong length is refused.
    assert!(crate::io::encoded::parse_set(b"0000000000000002000000000000000001").is_none());
    assert!(crate::io::encoded::parse_set(b"02000000000000000100000000000000").is_none());
    assert_eq!(
        crate::io::encoded::parse_set(b"01000000000000000200000000000000"),
        Some(vec![1, 2])
    );
}

proptest! {
    /// Encoding records as one batch (their messages hashed side by side, the file pipeline's
    /// way) gives exactly what encoding them one at a time gives, for tokens, sets and filters
    /// of every kind, including filters whose q-grams are hashed one by one (960 bits).
    #[test]
    fn a_batch_encodes_like_records_one_at_a_time(
        rows in proptest::collection::vec(
            ("[a-zA-Zé' -]{0,12}", "[a-zA-Z -]{0,14}", proptest::option::of((1950u32..2020, 1u32..=12, 1u32..=28))),
            0..40,
        ),
        variant in 0usize..4,
    ) {
        let mut s = schema(if variant == 0 { "" } else { FILTER });
        match variant {
            2 => {
                s.filters[0].bits = 960;
                s.filters[0].q = 3;
                s.filters[0].fields[0].hashes = 20;
            }
            3 => {
                s.filters[0].context.clear();
                s.filters[0].xor_fold = true;
                s.filters[0].balanced = true;
            }
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
        // filter, a set) may reach the next in the batch.
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
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Unsalted filters, whose ASCII q-grams come from the encoder's q-gram tables when the
    /// table can be built (q of 1 or 2, positions in one hash, at most 2 MiB), equal the filter
    /// of the reference builder on every path: tables of 2- and 4-byte positions, no table
    /// (q = 3, too many positions, too long), values with and without other characters.
    #[test]
    fn unsalted_filters_equal_the_reference_builder(
        values in proptest::collection::vec("[a-z0-9 ]{0,30}|[a-zé0-9 \u{7f}]{0,12}|\\PC{0,10}", 1..6),
        q in 1u8..=3,
        hashes in 1u16..=20,
        bits in prop_oneof![Just(64u32), Just(960), Just(1024), Just(2048)],
    ) {
        let json = format!(
            r#"{{
            "version": 2,
            "record_id": "id",
            "fields": [ {{ "name": "address", "kind": "text" }} ],
            "filters": [ {{ "name": "address", "bits": {bits}, "q": {q},
                "fields": [ {{ "field": "address", "hashes": {hashes} }} ] }} ]
        }}"#
        );
        let schema = Schema::from_json(&json).unwrap();
        let encoder = Encoder::with_today(&schema, &secret(), today());
        let key = secret().derive_key("bloom", "address");
        let spec = schema.filters[0].bloom_for(&schema.filters[0].fields[0]);
        let mut scratch = encoder.scratch();
        let rows: Vec<[&str; 2]> = values.iter().map(|v| ["r", v.as_str()]).collect();
        let mut records = vec![super::EncodedRecord::default(); rows.len()];
        let mut outcomes = vec![Vec::new(); rows.len()];
        encoder.encode_batch_into(|_| "r", |k, _| Some(rows[k][1]), &mut scratch, &mut records, &mut outcomes);
        for (value, record) in values.iter().zip(&records) {
            let Ok(normalised) = encoder.normaliser(0).unwrap().normalise(value) else {
                prop_assert_eq!(&record.blooms[0], &None);
                continue;
            };
            let text = normalised.canonical();
            let want = BloomBuilder::new(&key, spec).build(&text);
            prop_assert_eq!(record.blooms[0].as_ref(), Some(&want), "{:?}", value);
        }
    }
}

/// The pair statistics an encoder's sampler collects equal those of every record at once, and
/// their counts add up to every pair of the sample.
#[test]
fn pair_statistics_do_not_depend_on_batches() {
    use super::pair_stats::{PairStats, Sampler};
    let s = Schema::example();
    let encoder = Encoder::with_today(&s, &secret(), today());
    let rows: Vec<[String; 9]> = (0..300)
        .map(|i| {
            [
                format!("r{i}"),
                ["ann", "bob", "cat", "dan"][i % 4].into(),
                String::new(),
                ["lee", "kay"][i % 2].into(),
                format!("200{}-0{}-1{}", i % 7, 1 + i % 9, i % 10),
                ["m", "f"][i % 2].into(),
                format!("CV{} {}AB", 1 + i % 5, i % 10),
                format!("{} high street", i % 40),
                String::new(),
            ]
        })
        .collect();
    // Through the encoder's sampling, in batches of 7.
    let mut sampler = Sampler::new();
    let mut scratch = encoder.scratch();
    for chunk in rows.chunks(7) {
        scratch.sample_with(Some(sampler.limits()));
        let mut records = vec![super::EncodedRecord::default(); chunk.len()];
        let mut outcomes = vec![Vec::new(); chunk.len()];
        encoder.encode_batch_into(
            |k| chunk[k][0].as_str(),
            |k, i| Some(chunk[k][i + 1].as_str()),
            &mut scratch,
            &mut records,
            &mut outcomes,
        );
        for sampled in scratch.take_samples() {
            sampler.offer(sampled);
        }
    }
    let streamed = sampler.finish(&s, encoder.features(), None).unwrap();
    // All at once, from the normalised values.
    let household = s.household_keys();
    let all = PairStats::of_records(
        &s,
        encoder.sample_key(),
        rows.iter().map(|r| {
            let values: Vec<_> = (0..s.fields.len())
                .map(|i| encoder.normaliser(i).unwrap().normalise(&r[i + 1]).ok())
                .collect();
            (
                r[0].as_str(),
                super::pair_stats::household_of(&household, &values),
                encoder.features().values(&values),
            )
        }),
    );
    assert_eq!(streamed, all);
    assert_eq!(all.random_records, 300);
    assert_eq!(all.random_pairs, 300 * 299 / 2);
    assert_eq!(
        all.random.iter().map(|p| p.count).sum::<u64>(),
        all.random_pairs
    );
    assert!(all.household_pairs > 0);
    assert_eq!(all.features.len(), encoder.features().bits());
}

#[test]
fn the_pair_statistics_sample_is_drawn_by_a_keyed_hash_of_the_ids() {
    // Without the secret the linkage unit cannot rank the ids as the encoder does, so it cannot
    // tell which records of an extract larger than the sample were sampled.
    let a = Secret::from_bytes(&[1u8; 32]).unwrap();
    let b = Secret::from_bytes(&[2u8; 32]).unwrap();
    let (ka, kb) = (
        a.derive_key("pair statistics", "sample"),
        b.derive_key("pair statistics", "sample"),
    );
    let ids: Vec<String> = (0..50).map(|i| format!("A{i}")).collect();
    let order = |k: &crate::secret::DerivedKey| {
        let mut v: Vec<(u64, &str)> = ids
            .iter()
            .map(|id| (super::pair_stats::rank_of(k, id), id.as_str()))
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    };
    let unkeyed = {
        let rank = |id: &str| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&blake3::hash(id.as_bytes()).as_bytes()[..8]);
            u64::from_le_bytes(b)
        };
        let mut v: Vec<&str> = ids.iter().map(String::as_str).collect();
        v.sort_unstable_by_key(|id| rank(id));
        v
    };
    assert_eq!(order(&ka), order(&ka));
    assert_ne!(order(&ka), order(&kb));
    assert_ne!(order(&ka), unkeyed);
}
