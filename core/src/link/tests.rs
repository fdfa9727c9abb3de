//! Tests of the linker: against the all-pairs oracle ([`reference`]) on random small inputs, and
//! of each comparison level on purpose-built pairs.

use std::collections::BTreeSet;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::compare::{level_name, Comparator};
use super::pool::{pack_pair, unpack_pair, ClearValues, Pool};
use super::reference::Oracle;
use super::resolve::ScoredPairs;
use super::*;
use crate::encode::pair_stats::{household_of, Features, PairStats};
use crate::encode::{EncodedRecord, Encoder, Value};
use crate::normalise::date::Date;
use crate::schema::Schema;
use crate::Secret;

/// A raw input row: the record id, then the example schema's eight fields.
type Row = [String; 9];

fn encoder(schema: &Schema) -> Encoder {
    let secret = Secret::from_bytes(&[9u8; 32]).unwrap();
    Encoder::with_today(schema, &secret, Date::new(2026, 1, 1).unwrap())
}

/// What a test links: the pool (not prepared), and beside it what the oracle and the u estimate
/// read.
struct Inputs {
    pool: Pool,
    records: Vec<EncodedRecord>,
    sources: Vec<u16>,
    /// Per record, its normalised values.
    values: Vec<Vec<Option<Value>>>,
    /// Per source, its pair statistics (as its manifest would bring them).
    stats: Vec<PairStats>,
}

/// Encodes `sources` under `schema` (cleartext mode: with the normalised values attached, as
/// `run::link` does).
fn inputs(schema: &Schema, sources: &[Vec<Row>], clear: bool) -> Inputs {
    let enc = encoder(schema);
    let mut scratch = enc.scratch();
    let features = Features::new(schema);
    let household = schema.household_keys();
    let (mut records, mut source_of, mut values, mut stats, mut srcs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (s, rows) in sources.iter().enumerate() {
        let mut recs = Vec::new();
        let mut sampled = Vec::new();
        for row in rows {
            let record = enc.encode_values(row, &mut scratch).unwrap().0;
            let normalised: Vec<Option<Value>> = (0..schema.fields.len())
                .map(|i| enc.normaliser(i).unwrap().normalise(&row[i + 1]).ok())
                .collect();
            let mut f = features.values(&normalised);
            f.blooms = record.blooms.clone();
            sampled.push((row[0].clone(), household_of(&household, &normalised), f));
            recs.push(record);
            values.push(normalised);
            source_of.push(s as u16);
        }
        stats.push(PairStats::of_records(
            schema,
            sampled
                .iter()
                .map(|(id, h, f)| (id.as_str(), *h, f.clone())),
        ));
        records.extend(recs.iter().cloned());
        srcs.push((format!("s{s}"), recs));
    }
    let mut pool = Pool::new(srcs, enc.layout().n_blooms).unwrap();
    if clear {
        let keys = Comparator::new(schema, true).unwrap().keys().to_vec();
        let features = Features::for_keys(schema, keys.clone());
        pool = pool
            .with_clear(ClearValues {
                n_fields: schema.fields.len(),
                values: values
                    .iter()
                    .flatten()
                    .map(|v| v.as_ref().map(|v| Box::<str>::from(&*v.canonical())))
                    .collect(),
                features: values.iter().map(|v| features.values(v)).collect(),
                household: household
                    .iter()
                    .filter_map(|k| keys.iter().position(|x| x == k))
                    .collect(),
            })
            .unwrap();
    }
    Inputs {
        pool,
        records,
        sources: source_of,
        values,
        stats,
    }
}

impl Inputs {
    fn oracle<'a>(&'a self, schema: &'a Schema, clear: bool) -> Oracle<'a> {
        Oracle::new(
            schema,
            &self.records,
            &self.sources,
            clear.then_some(&self.values[..]),
        )
    }
}

fn options(stats: &[PairStats]) -> LinkOptions {
    LinkOptions {
        threshold: 0.9,
        review_threshold: 0.3,
        pair_stats: stats.to_vec(),
        ..LinkOptions::default()
    }
}

/// Links `inputs` (moving its pool out).
fn link(schema: &Schema, inputs: &mut Inputs, clear: bool) -> Result<Linkage> {
    let pool = std::mem::replace(
        &mut inputs.pool,
        Pool::new(vec![(String::new(), vec![])], 0)?,
    );
    link_pool(schema, pool, clear, options(&inputs.stats), None, None)
}

/// A schema from the example's JSON, changed by `edit`.
fn schema_with(edit: impl FnOnce(&mut serde_json::Value)) -> Schema {
    let mut json: serde_json::Value = serde_json::from_str(Schema::example_json()).unwrap();
    edit(&mut json);
    match Schema::from_json(&json.to_string()) {
        Ok(s) => s,
        Err(e) => panic!("test schema: {e}"),
    }
}

/// The example with a token of `sex` alone and one blocking rule on it: with every record of one
/// sex, every pair is a candidate, so the comparisons are checked on every pair. The last name
/// is weighed by term frequency (in cleartext mode).
fn covering_schema() -> Schema {
    schema_with(|j| {
        j["tokens"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!(["sex"]));
        j["link"]["blocking"] = serde_json::json!([["sex"]]);
        j["link"]["comparisons"][2]["term_frequency"] = serde_json::json!(true);
    })
}

/// Adds two filters and a Dice level for each: the first and last names salted with the year
/// of birth (a level of the first name), and the last name alone (a level of the last name).
fn add_filters(j: &mut serde_json::Value) {
    j["filters"] = serde_json::json!([
        { "name": "names", "bits": 256, "q": 2, "context": ["date_of_birth.year"],
          "fields": [ { "field": "first_name", "hashes": 12 }, { "field": "last_name", "hashes": 8 } ] },
        { "name": "surname", "bits": 128, "q": 2,
          "fields": [ { "field": "last_name", "hashes": 10 } ] }
    ]);
    let comparisons = j["link"]["comparisons"].as_array_mut().unwrap();
    let levels = |c: &mut serde_json::Value| c["levels"].as_array_mut().unwrap().clone();
    let mut first = levels(&mut comparisons[0]);
    first.insert(
        2,
        serde_json::json!({ "name": "dice>=0.7", "filter": "names", "dice": 0.7 }),
    );
    comparisons[0]["levels"] = serde_json::Value::Array(first);
    let mut last = levels(&mut comparisons[2]);
    last.push(serde_json::json!({ "name": "dice>=0.6", "filter": "surname", "dice": 0.6 }));
    comparisons[2]["levels"] = serde_json::Value::Array(last);
}

/// Values of each field drawn from short lists full of near misses (one edit, the same soundex,
/// names exchanged, dates swapped or a digit apart, one building, one sector), so that every
/// level is reached.
const VALUES: [&[&str]; 8] = [
    &[
        "anna", "ana", "hannah", "robert", "rupert", "priya", "patel", "kate", "mary", "li",
    ],
    &["", "", "kate", "mary", "anna"],
    &[
        "smith", "smyth", "patel", "priya", "khan", "li", "robert", "",
    ],
    &[
        "2014-03-09",
        "2014-09-03",
        "2014-03-08",
        "1990-01-02",
        "1990-02-01",
        "1985-07-11",
        "",
    ],
    &["F", "M", ""],
    &["CV1 2AB", "CV1 2AD", "CV1 5XY", "B1 1AA", ""],
    &[
        "1 high st",
        "1 high street",
        "flat 2, 1 high st",
        "2 low rd",
        "",
    ],
    &["9434765919", "4010232137", ""],
];

/// `n` random rows with ids `prefix0`, `prefix1`...: each a copy of one of `people` whose fields
/// are each replaced, one time in four, by another value of [`VALUES`] (or left out). `sex` fixes
/// the sex.
fn random_rows(
    rng: &mut ChaCha8Rng,
    people: &[[&'static str; 8]],
    prefix: &str,
    n: usize,
    sex: Option<&str>,
) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let person = &people[rng.gen_range(0..people.len())];
            let mut out: Row = Default::default();
            out[0] = format!("{prefix}{i}");
            for (f, values) in VALUES.iter().enumerate() {
                out[f + 1] = if rng.gen_bool(0.25) {
                    values[rng.gen_range(0..values.len())]
                } else if rng.gen_bool(0.05) {
                    ""
                } else {
                    person[f]
                }
                .to_string();
            }
            if let Some(s) = sex {
                out[5] = s.to_string();
            }
            out
        })
        .collect()
}

/// The names of a comparison vector.
fn names(comparator: &Comparator, levels: &[u8]) -> Vec<String> {
    comparator
        .rules()
        .iter()
        .zip(levels)
        .map(|(r, l)| level_name(r, *l))
        .collect()
}

/// Links `sources` under `schema` and checks the run against the oracle: the same candidate
/// pairs (and the same counts per rule), the same comparison vectors, the same weights, the
/// same pairs kept for review and the same links.
fn check_against_oracle(schema: &Schema, sources: &[Vec<Row>], clear: bool) {
    let mut inputs = inputs(schema, sources, clear);
    let want: Vec<(u32, u32)> = inputs
        .oracle(schema, clear)
        .candidates()
        .into_iter()
        .collect();
    let linkage = match link(schema, &mut inputs, clear) {
        Ok(l) => l,
        Err(Error::Invalid(m)) if want.is_empty() => {
            assert!(m.contains("no candidate pair"), "{m}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let oracle = inputs.oracle(schema, clear);
    let candidates = linkage.candidates();
    let got: Vec<(u32, u32)> = candidates.iter().map(|c| unpack_pair(c.0)).collect();
    assert_eq!(got, want, "candidate pairs");
    assert_eq!(linkage.blocking.candidate_pairs, want.len() as u64);
    let mut before = BTreeSet::new();
    for (r, count) in linkage.blocking.rules.iter().enumerate() {
        let pairs = oracle.rule_pairs(r);
        let blocks = oracle.blocks(r);
        let new = pairs.difference(&before).count() as u64;
        assert_eq!(count.new_pairs, new, "new pairs of {}", count.rule);
        assert_eq!(
            count.blocks,
            blocks.len() as u64,
            "blocks of {}",
            count.rule
        );
        let skipped = blocks.iter().filter(|b| b.2).count() as u64;
        assert_eq!(
            count.skipped_blocks, skipped,
            "skipped blocks of {}",
            count.rule
        );
        let set_rule = schema.link.blocking[r]
            .keys
            .iter()
            .any(|k| schema.parse_key(k).is_some_and(|k| k.is_set()));
        if set_rule {
            // Known: a set rule counts a pair once per element it shares (see the report).
            assert!(count.pairs >= pairs.len() as u64, "pairs of {}", count.rule);
        } else {
            assert_eq!(count.pairs, pairs.len() as u64, "pairs of {}", count.rule);
        }
        before.extend(pairs);
    }
    let mut weights = Vec::new();
    for (p, levels, weight) in &candidates {
        let (a, b) = unpack_pair(*p);
        let want = oracle.levels(a, b);
        let ids = (&linkage.pool.record(a).id, &linkage.pool.record(b).id);
        assert_eq!(names(&linkage.comparator, levels), want, "pair {ids:?}");
        let w = oracle.weight(&linkage.model, a, &want);
        assert!(
            (w - weight).abs() < 1e-9,
            "pair {ids:?}: weight {weight}, oracle {w}"
        );
        weights.push(w);
    }
    // The run kept exactly the pairs reaching the review threshold, with their weights.
    let review = options(&[]).review_threshold;
    let reaching: Vec<(u64, f64)> = candidates
        .iter()
        .filter(|c| model::probability(c.2) >= review)
        .map(|c| (c.0, c.2))
        .collect();
    let kept: Vec<(u64, f64)> = linkage
        .review_pairs
        .iter()
        .copied()
        .zip(linkage.review_weights.iter().copied())
        .collect();
    assert_eq!(kept, reaching);
    // The links: resolution of the oracle's scored pairs.
    let pairs: Vec<u64> = want.iter().map(|(a, b)| pack_pair(*a, *b)).collect();
    let (kept_pairs, kept_weights): (Vec<u64>, Vec<f64>) = pairs
        .iter()
        .zip(&weights)
        .filter(|(_, w)| model::probability(**w) >= review)
        .map(|(p, w)| (*p, *w))
        .unzip();
    let scored = ScoredPairs {
        pairs: &kept_pairs,
        weights: &kept_weights,
    };
    let inside = |members: &[u32]| -> Vec<(u64, f64)> {
        pairs
            .iter()
            .zip(&weights)
            .filter(|(p, w)| {
                let (a, b) = unpack_pair(**p);
                members.contains(&a) && members.contains(&b) && model::probability(**w) < review
            })
            .map(|(p, w)| (*p, *w))
            .collect()
    };
    let (links, _) = resolve_links(&linkage.pool, scored, &options(&[]), &inside);
    let key = |l: &Link| (l.left, l.right, l.band, l.cluster);
    assert_eq!(
        links.iter().map(key).collect::<Vec<_>>(),
        linkage.links.iter().map(key).collect::<Vec<_>>(),
        "links"
    );
    // With the model given, one pass compares and scores: the same pairs, weights and links.
    let again = self::inputs(schema, sources, clear);
    let given = LinkOptions {
        model: Some(linkage.model.clone()),
        ..options(&[])
    };
    let reused = link_pool(schema, again.pool, clear, given, None, None).unwrap();
    assert_eq!(reused.review_pairs, linkage.review_pairs);
    assert_eq!(reused.review_weights, linkage.review_weights);
    assert_eq!(reused.links, linkage.links);
}

/// Random sources of `sizes` records, copies of about half as many people (see
/// [`random_rows`]), all of one sex when `sex` is given.
fn random_sources(seed: u64, sizes: &[usize], sex: Option<&str>) -> Vec<Vec<Row>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n: usize = sizes.iter().sum::<usize>() / 2 + 1;
    let people: Vec<[&str; 8]> = (0..n)
        .map(|_| std::array::from_fn(|f| VALUES[f][rng.gen_range(0..VALUES[f].len())]))
        .collect();
    sizes
        .iter()
        .enumerate()
        .map(|(s, n)| {
            let prefix = ((b'a' + s as u8) as char).to_string();
            random_rows(&mut rng, &people, &prefix, *n, sex)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20))]

    #[test]
    fn the_linker_equals_the_oracle_on_every_pair(seed in any::<u64>(), nl in 2usize..12, nr in 2usize..12, clear in any::<bool>()) {
        let schema = covering_schema();
        check_against_oracle(&schema, &random_sources(seed, &[nl, nr], Some("F")), clear);
    }

    #[test]
    fn the_linker_equals_the_oracle_deduplicating(seed in any::<u64>(), n in 2usize..16, clear in any::<bool>()) {
        let schema = covering_schema();
        check_against_oracle(&schema, &random_sources(seed, &[n], Some("F")), clear);
    }

    #[test]
    fn the_linker_equals_the_oracle_on_three_sources(seed in any::<u64>(), n in 2usize..8, clear in any::<bool>()) {
        let schema = covering_schema();
        check_against_oracle(&schema, &random_sources(seed, &[n, n + 1, 3], Some("F")), clear);
    }

    #[test]
    fn the_linker_equals_the_oracle_with_filters(seed in any::<u64>(), nl in 2usize..10, nr in 2usize..10, clear in any::<bool>()) {
        let schema = schema_with(|j| {
            add_filters(j);
            j["tokens"].as_array_mut().unwrap().push(serde_json::json!(["sex"]));
            j["link"]["blocking"] = serde_json::json!([["sex"]]);
        });
        check_against_oracle(&schema, &random_sources(seed, &[nl, nr], Some("F")), clear);
    }

    #[test]
    fn the_linker_equals_the_oracle_under_the_default_blocking(seed in any::<u64>(), nl in 2usize..20, nr in 2usize..20, clear in any::<bool>()) {
        // Eleven rules, two of them on token sets (deletions and digit masks).
        let schema = schema_with(|j| {
            j["link"]["blocking"].as_array_mut().unwrap().insert(2, serde_json::json!(["first_name.deletions", "date_of_birth"]));
        });
        check_against_oracle(&schema, &random_sources(seed, &[nl, nr], None), clear);
    }

    #[test]
    fn the_linker_equals_the_oracle_with_filters_and_small_blocks(seed in any::<u64>(), n in 2usize..16, clear in any::<bool>()) {
        let schema = schema_with(|j| {
            add_filters(j);
            j["link"]["max_block_size"] = serde_json::json!(3);
        });
        check_against_oracle(&schema, &random_sources(seed, &[n, n, 4], None), clear);
    }
}

fn row(id: &str, v: [&str; 8]) -> Row {
    let mut r: Row = Default::default();
    r[0] = id.to_string();
    for (o, x) in r.iter_mut().skip(1).zip(v) {
        *o = x.to_string();
    }
    r
}

/// The level (by name) of each comparison for the pair of rows `a` and `b`, as the comparator
/// gives it; the oracle must say the same.
fn pair_levels(schema: &Schema, a: [&str; 8], b: [&str; 8], clear: bool) -> Vec<(String, String)> {
    let mut inputs = inputs(schema, &[vec![row("a", a)], vec![row("b", b)]], clear);
    inputs.pool.prepare(schema);
    let comparator = Comparator::new(schema, clear).unwrap();
    let mut v = vec![0u8; comparator.n_fields()];
    comparator.compare(&inputs.pool, 0, 1, &mut v);
    let got = names(&comparator, &v);
    assert_eq!(got, inputs.oracle(schema, clear).levels(0, 1), "oracle");
    comparator
        .rules()
        .iter()
        .map(|r| r.name.clone())
        .zip(got)
        .collect()
}

fn level<'a>(levels: &'a [(String, String)], comparison: &str) -> &'a str {
    &levels.iter().find(|(c, _)| c == comparison).unwrap().1
}

/// The eight field values of a row (without its id).
type Fields = [&'static str; 8];

const BASE: Fields = [
    "Anna",
    "",
    "Smith",
    "2014-03-09",
    "F",
    "CV1 2AB",
    "1 High St",
    "9434765919",
];

/// A row of `BASE` with some fields changed.
fn base_with(changes: &[(usize, &'static str)]) -> [&'static str; 8] {
    let mut v = BASE;
    for &(i, x) in changes {
        v[i] = x;
    }
    v
}

const FIRST: usize = 0;
const MIDDLE: usize = 1;
const LAST: usize = 2;
const DOB: usize = 3;
const SEX: usize = 4;
const POSTCODE: usize = 5;
const ADDRESS: usize = 6;
const NHS: usize = 7;

#[test]
fn every_level_of_the_default_schema_is_reached() {
    let schema = Schema::example();
    // Premises of the cleartext cases: two edits apart, yet similar.
    let jw = |a: &str, b: &str| strsim::jaro_winkler(a, b);
    assert!(jw("katharine", "katherina") >= 0.9 && jw("richardson", "richerdsan") >= 0.9);
    assert!(jw("robert", "rupert") < 0.9 && jw("1 high st", "1 hihg st") >= 0.9);
    // (a, b, comparison, level encoded, level in cleartext)
    let cases: Vec<(Fields, Fields, &str, &str, &str)> = vec![
        (BASE, BASE, "first_name", "exact", "exact"),
        (BASE, BASE, "middle_name", "missing", "missing"),
        (BASE, BASE, "last_name", "exact", "exact"),
        (BASE, BASE, "date_of_birth", "exact", "exact"),
        (BASE, BASE, "sex", "exact", "exact"),
        (BASE, BASE, "location", "same", "same"),
        (BASE, BASE, "nhs_number", "exact", "exact"),
        (
            BASE,
            base_with(&[(FIRST, "Ana")]),
            "first_name",
            "one_edit",
            "one_edit",
        ),
        (
            base_with(&[(FIRST, "Robert")]),
            base_with(&[(FIRST, "Rupert")]),
            "first_name",
            "soundex",
            "soundex",
        ),
        (
            base_with(&[(FIRST, "Katharine")]),
            base_with(&[(FIRST, "Katherina")]),
            "first_name",
            "soundex",
            "jaro_winkler>=0.9",
        ),
        (
            base_with(&[(FIRST, "Priya"), (LAST, "Patel")]),
            base_with(&[(FIRST, "Patel"), (LAST, "Priya")]),
            "first_name",
            "crosswise",
            "crosswise",
        ),
        (
            base_with(&[(FIRST, "Priya"), (LAST, "Patel")]),
            base_with(&[(FIRST, "Patel"), (LAST, "Priya")]),
            "last_name",
            "crosswise",
            "crosswise",
        ),
        (
            base_with(&[(FIRST, "Kate")]),
            base_with(&[(FIRST, "Mary"), (MIDDLE, "Kate")]),
            "first_name",
            "middle_as_first",
            "middle_as_first",
        ),
        // Different first names with a middle name on one side: every level seen.
        (
            BASE,
            base_with(&[(FIRST, "Zebedee"), (MIDDLE, "Kate"), (LAST, "Jones")]),
            "first_name",
            "else",
            "else",
        ),
        // ... and with none: the first name of one cannot be compared with the middle name of
        // the other.
        (
            BASE,
            base_with(&[(FIRST, "Zebedee"), (LAST, "Jones")]),
            "first_name",
            "else (not seen: middle_as_first)",
            "else (not seen: middle_as_first)",
        ),
        // No first name on either side, last names on both: nothing of the first name seen.
        (
            base_with(&[(FIRST, "")]),
            base_with(&[(FIRST, ""), (LAST, "Jones")]),
            "first_name",
            "unknown",
            "unknown",
        ),
        (
            base_with(&[(MIDDLE, "Kate")]),
            base_with(&[(MIDDLE, "Kate")]),
            "middle_name",
            "exact",
            "exact",
        ),
        (
            base_with(&[(MIDDLE, "Kate")]),
            base_with(&[(MIDDLE, "Katie")]),
            "middle_name",
            "one_edit",
            "one_edit",
        ),
        (
            base_with(&[(MIDDLE, "Katharine")]),
            base_with(&[(MIDDLE, "Katherina")]),
            "middle_name",
            "else",
            "jaro_winkler>=0.9",
        ),
        (
            base_with(&[(MIDDLE, "Kate")]),
            base_with(&[(MIDDLE, "Mary")]),
            "middle_name",
            "else",
            "else",
        ),
        (
            BASE,
            base_with(&[(LAST, "Smyth")]),
            "last_name",
            "one_edit",
            "one_edit",
        ),
        (
            base_with(&[(LAST, "Richardson")]),
            base_with(&[(LAST, "Richerdsan")]),
            "last_name",
            "soundex",
            "jaro_winkler>=0.9",
        ),
        (
            base_with(&[(LAST, "Robert")]),
            base_with(&[(LAST, "Rupert")]),
            "last_name",
            "soundex",
            "soundex",
        ),
        (
            BASE,
            base_with(&[(LAST, "Jones")]),
            "last_name",
            "else",
            "else",
        ),
        (
            BASE,
            base_with(&[(DOB, "2014-09-03")]),
            "date_of_birth",
            "swapped",
            "swapped",
        ),
        // A swapped date still lets the names be compared (through the unordered date).
        (
            BASE,
            base_with(&[(DOB, "2014-09-03")]),
            "first_name",
            "exact",
            "exact",
        ),
        (
            BASE,
            base_with(&[(DOB, "2014-03-08")]),
            "date_of_birth",
            "one_digit",
            "one_digit",
        ),
        (
            BASE,
            base_with(&[(DOB, "1990-01-02")]),
            "date_of_birth",
            "else",
            "else",
        ),
        (
            BASE,
            base_with(&[(DOB, "")]),
            "date_of_birth",
            "missing",
            "missing",
        ),
        (BASE, base_with(&[(SEX, "M")]), "sex", "else", "else"),
        // The sex is only in a token with the last name and date of birth.
        (
            BASE,
            base_with(&[(LAST, "Jones")]),
            "sex",
            "unknown",
            "exact",
        ),
        (
            base_with(&[(ADDRESS, "Flat 3, 45 Far Gosford Street")]),
            base_with(&[(ADDRESS, "45 Far Gosford Street")]),
            "location",
            "same_building",
            "same_building",
        ),
        (
            BASE,
            base_with(&[(POSTCODE, "CV3 4CD")]),
            "location",
            "address",
            "address",
        ),
        (
            BASE,
            base_with(&[(POSTCODE, "B1 1AA"), (ADDRESS, "1 Hihg St")]),
            "location",
            "else",
            "jaro_winkler>=0.9",
        ),
        (
            BASE,
            base_with(&[(ADDRESS, "2 Low Rd")]),
            "location",
            "postcode",
            "postcode",
        ),
        (
            BASE,
            base_with(&[(POSTCODE, "CV1 2AD"), (ADDRESS, "2 Low Rd")]),
            "location",
            "sector",
            "sector",
        ),
        // The sector is only in a token with the date of birth, which differs (swapped: the
        // first name is agreed through the unordered date, and the rest through it).
        (
            BASE,
            base_with(&[
                (POSTCODE, "B1 1AA"),
                (ADDRESS, "2 Low Rd"),
                (DOB, "2014-09-03"),
            ]),
            "location",
            "else (not seen: sector)",
            "else",
        ),
        (
            BASE,
            base_with(&[(NHS, "4010232137")]),
            "nhs_number",
            "else",
            "else",
        ),
        (
            BASE,
            base_with(&[(NHS, "")]),
            "nhs_number",
            "missing",
            "missing",
        ),
    ];
    for clear in [false, true] {
        let comparator = Comparator::new(&schema, clear).unwrap();
        let mut reached: BTreeSet<(String, String)> = BTreeSet::new();
        for (a, b, comparison, encoded, cleartext) in &cases {
            let want = if clear { cleartext } else { encoded };
            let levels = pair_levels(&schema, *a, *b, clear);
            assert_eq!(
                level(&levels, comparison),
                *want,
                "{comparison} of {a:?} and {b:?} (cleartext: {clear})"
            );
            reached.insert((comparison.to_string(), want.to_string()));
        }
        // Every level of every comparison, and its else.
        for rule in comparator.rules() {
            for name in rule.level_names.iter().take(rule.tested + 1) {
                assert!(
                    reached.contains(&(rule.name.clone(), name.clone())),
                    "{} {name} not reached (cleartext: {clear})",
                    rule.name
                );
            }
        }
        for special in ["missing", "unknown"] {
            assert!(reached.iter().any(|(_, l)| l == special));
        }
        assert!(reached
            .iter()
            .any(|(_, l)| l.starts_with("else (not seen: ")));
    }
}

/// Pairs whose levels the comparator once got wrong (see the commits that fixed them).
#[test]
fn levels_the_comparator_once_got_wrong() {
    let with_filters = schema_with(add_filters);
    let example = Schema::example();
    // No token of the last name with the date of birth: the first and last names cannot be
    // compared crosswise in an extract (the schema is refused there), but can in cleartext.
    let no_cross_token = schema_with(|j| {
        let rule = serde_json::json!(["last_name", "date_of_birth"]);
        j["tokens"].as_array_mut().unwrap().retain(|x| x != &rule);
        j["link"]["blocking"]
            .as_array_mut()
            .unwrap()
            .retain(|x| x != &rule);
    });
    assert!(Comparator::new(&no_cross_token, false).is_err());
    // (schema, a, b, cleartext, comparison, level)
    let cases: Vec<(&Schema, Fields, Fields, bool, &str, &str)> = vec![
        // No middle name on either side: middle_as_first alone is not seen (was `unknown`).
        (
            &example,
            BASE,
            base_with(&[(FIRST, "Zebedee"), (LAST, "Jones")]),
            false,
            "first_name",
            "else (not seen: middle_as_first)",
        ),
        // No last name on one side, so no surname filter: its Dice level is not seen, though
        // the names filter of that side holds the last name.
        (
            &with_filters,
            base_with(&[(LAST, "")]),
            BASE,
            false,
            "last_name",
            "else (not seen: exact, one_edit, soundex, dice>=0.6)",
        ),
        // Cleartext: the last names are compared without a date of birth (was `unknown`).
        (
            &example,
            base_with(&[(DOB, "")]),
            base_with(&[(DOB, ""), (LAST, "Jones")]),
            true,
            "last_name",
            "else",
        ),
        // Cleartext: no last name on one side is no last name, whatever its filters hold.
        (
            &with_filters,
            base_with(&[(LAST, "")]),
            BASE,
            true,
            "last_name",
            "else (not seen: exact, one_edit, jaro_winkler>=0.9, soundex, dice>=0.6)",
        ),
        // Cleartext: filters salted with two years of birth are not compared (was `else`).
        (
            &with_filters,
            BASE,
            base_with(&[(FIRST, "Zebedee"), (MIDDLE, "Kate"), (DOB, "1990-03-09")]),
            true,
            "first_name",
            "else (not seen: dice>=0.7)",
        ),
        // Cleartext: a crossed level without two token columns is compared (was `else`).
        (
            &no_cross_token,
            base_with(&[(FIRST, "Priya"), (LAST, "Patel")]),
            base_with(&[(FIRST, "Patel"), (LAST, "Priya")]),
            true,
            "first_name",
            "crosswise",
        ),
    ];
    for (schema, a, b, clear, comparison, want) in cases {
        let levels = pair_levels(schema, a, b, clear);
        assert_eq!(
            level(&levels, comparison),
            want,
            "{a:?} {b:?} cleartext {clear}"
        );
    }
}
