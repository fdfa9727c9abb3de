//! Tests of the linker: against the all-pairs oracle ([`reference`]) on random small inputs, and
//! of each comparison level, blocking, the u estimates, training, models and term frequencies on
//! purpose-built ones.

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
use crate::encode::{EncodedRecord, Encoder, Layout, Value};
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
pub(super) struct Inputs {
    pub(super) pool: Pool,
    records: Vec<EncodedRecord>,
    sources: Vec<u16>,
    /// Per record, its normalised values.
    values: Vec<Vec<Option<Value>>>,
    /// Per source, its pair statistics (as its manifest would bring them).
    pub(super) stats: Vec<PairStats>,
}

/// Encodes `sources` under `schema` (cleartext mode: with the normalised values attached, as
/// `run::link` does).
pub(super) fn inputs(schema: &Schema, sources: &[Vec<Row>], clear: bool) -> Inputs {
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
            enc.sample_key(),
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

pub(super) fn options(stats: &[PairStats]) -> LinkOptions {
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
    link_pool(
        schema,
        pool,
        clear,
        options(&inputs.stats),
        &RunControl::new(),
    )
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
    // The run kept exactly the pairs reaching the review threshold, with their weights (and, when
    // the model weighs competing links, each one's standing weight, found here by brute force).
    let review = options(&[]).review_threshold;
    let reaching: Vec<usize> = (0..candidates.len())
        .filter(|&i| probability::probability(weights[i]) >= review)
        .collect();
    let mut adjusted = weights.clone();
    if let Some(c) = linkage.model.competition.as_ref() {
        assert!(!linkage.pool.is_dedupe());
        let pool = &linkage.pool;
        let mut sums = [[0.5f64; 2]; 3];
        for &i in &reaching {
            let (a, b) = unpack_pair(candidates[i].0);
            let (mut others, mut higher) = (false, false);
            for &j in reaching.iter().filter(|&&j| j != i) {
                let (x, y) = unpack_pair(candidates[j].0);
                let rival = [(a, pool.source(b)), (b, pool.source(a))]
                    .iter()
                    .any(|&(r, s)| {
                        (x == r && pool.source(y) == s) || (y == r && pool.source(x) == s)
                    });
                others |= rival;
                higher |= rival && weights[j] > weights[i];
            }
            let standing = match (others, higher) {
                (false, _) => competition::Standing::Alone,
                (true, false) => competition::Standing::Ahead,
                (true, true) => competition::Standing::Outranked,
            };
            let k = competition::Standing::ALL
                .iter()
                .position(|s| *s == standing)
                .unwrap();
            let p = probability::probability(weights[i]);
            sums[k][0] += p;
            sums[k][1] += 1.0 - p;
            adjusted[i] += c.weight(standing);
        }
        // Trained here: each standing's m and u are its share of the summed probabilities.
        let total = |x: usize| sums.iter().map(|s| s[x]).sum::<f64>();
        for (level, s) in c.levels.iter().zip(&sums) {
            assert!((level.m - s[0] / total(0)).abs() < 1e-9, "{level:?}");
            assert!((level.u - s[1] / total(1)).abs() < 1e-9, "{level:?}");
        }
    }
    let kept: Vec<(u64, f64)> = linkage
        .review_pairs
        .iter()
        .copied()
        .zip(linkage.review_weights.iter().copied())
        .collect();
    let want_kept: Vec<(u64, f64)> = reaching
        .iter()
        .map(|&i| (candidates[i].0, adjusted[i]))
        .collect();
    assert_eq!(kept.len(), want_kept.len());
    for ((p, w), (q, v)) in kept.iter().zip(&want_kept) {
        assert_eq!(p, q);
        assert!((w - v).abs() < 1e-9, "pair {p}: weight {w}, oracle {v}");
    }
    // The links: resolution of the oracle's scored pairs.
    let pairs: Vec<u64> = want.iter().map(|(a, b)| pack_pair(*a, *b)).collect();
    let (kept_pairs, kept_weights): (Vec<u64>, Vec<f64>) = want_kept.into_iter().unzip();
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
                members.contains(&a)
                    && members.contains(&b)
                    && probability::probability(**w) < review
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
    let reused = link_pool(schema, again.pool, clear, given, &RunControl::new()).unwrap();
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
            base_with(&[(FIRST, "Margaret")]),
            base_with(&[(FIRST, "Peggy")]),
            "first_name",
            "nickname",
            "nickname",
        ),
        (
            base_with(&[(FIRST, "Robert")]),
            base_with(&[(FIRST, "Rupard")]),
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
            base_with(&[(FIRST, "Zebedee"), (MIDDLE, "Kate")]),
            "first_name",
            "else",
            "else",
        ),
        // ... and with none: the first name of one cannot be compared with the middle name of
        // the other.
        (
            BASE,
            base_with(&[(FIRST, "Zebedee")]),
            "first_name",
            "else (not seen: middle_as_first)",
            "else (not seen: middle_as_first)",
        ),
        // Another last name: the initials (held with the last name and the date) are not seen
        // in the encodings; in cleartext they are.
        (
            BASE,
            base_with(&[(FIRST, "Zebedee"), (MIDDLE, "Kate"), (LAST, "Jones")]),
            "first_name",
            "else (not seen: initial)",
            "else",
        ),
        // Same initial, nothing closer (Alice and Anna: no edit, Soundex or Jaro-Winkler).
        (
            BASE,
            base_with(&[(FIRST, "Alice")]),
            "first_name",
            "initial",
            "initial",
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
        // The digit masks are hashed with the first name and the last name, and with the first
        // name and the postcode: a date that differs is seen not to be one digit away when
        // one of the two pairs of keys agrees (the postcode here) ...
        (
            BASE,
            base_with(&[(DOB, "1990-01-02")]),
            "date_of_birth",
            "else",
            "else",
        ),
        // ... and not seen otherwise (no token holds the last name without the date of birth).
        (
            BASE,
            base_with(&[(DOB, "1990-01-02"), (POSTCODE, "M1 1AE")]),
            "date_of_birth",
            "else (not seen: one_digit)",
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
        // Nor the rule joining on it, nor the crossed rule.
        j["link"]["blocking"]
            .as_array_mut()
            .unwrap()
            .retain(|x| x != &rule && x.get("cross").is_none());
    });
    assert!(Comparator::new(&no_cross_token, false).is_err());
    // (schema, a, b, cleartext, comparison, level)
    let cases: Vec<(&Schema, Fields, Fields, bool, &str, &str)> = vec![
        // No middle name on either side: middle_as_first alone is not seen (was `unknown`).
        (
            &example,
            BASE,
            base_with(&[(FIRST, "Zebedee")]),
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

/// The extracts of a synthetic population of `people` (two agencies), with the data.
pub(super) fn synth_sources(
    people: usize,
    seed: u64,
) -> (pseudolink_synth::SynthData, Vec<Vec<Row>>) {
    use pseudolink_synth::{generate, SynthConfig};
    let data = generate(&SynthConfig {
        people,
        seed,
        ..SynthConfig::default()
    })
    .unwrap();
    let sources = data
        .extracts
        .iter()
        .map(|(_, records)| {
            records
                .iter()
                .map(|r| {
                    [
                        r.record_id.clone(),
                        r.first_name.clone(),
                        r.middle_name.clone(),
                        r.last_name.clone(),
                        r.date_of_birth.clone(),
                        r.sex.clone(),
                        r.postcode.clone(),
                        r.address_line_1.clone(),
                        r.nhs_number.clone(),
                    ]
                })
                .collect()
        })
        .collect();
    (data, sources)
}

pub(super) fn linked(schema: &Schema, sources: &[Vec<Row>], clear: bool) -> Linkage {
    let mut inputs = inputs(schema, sources, clear);
    match link(schema, &mut inputs, clear) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    }
}

fn comparison_index(comparator: &Comparator, name: &str) -> usize {
    match comparator.rules().iter().position(|r| r.name == name) {
        Some(i) => i,
        None => panic!("no comparison {name}"),
    }
}

#[test]
fn household_u_is_used_exactly_when_the_location_says_one_household() {
    let schema = Schema::example();
    for clear in [false, true] {
        let linkage = linked(&schema, &synth_sources(200, 3).1, clear);
        let comparator = &linkage.comparator;
        let model = &linkage.model;
        assert!(model.training.household_pairs > 0);
        // Household u that differ from u, so that taking one for the other shows.
        let differ = model
            .comparisons
            .iter()
            .flat_map(|c| &c.levels)
            .filter(|l| l.u_household.is_some_and(|h| (h - l.u).abs() > 0.01))
            .count();
        assert!(differ >= 5, "{differ}");
        let location = comparison_index(comparator, "location");
        let mut both = [0usize; 2];
        for (p, levels, weight) in linkage.candidates() {
            let (a, _) = unpack_pair(p);
            let at = level_name(&comparator.rules()[location], levels[location]);
            let one = at == "same" || at == "same_building";
            both[usize::from(one)] += 1;
            let contributions = linkage.scorer().contributions(comparator, &levels, a);
            let mut total = linkage.scorer().prior_weight();
            for (c, x) in contributions.iter().enumerate() {
                total += x.weight;
                let cm = &model.comparisons[c];
                let Some(m) = x.m else {
                    assert!(!x.household && x.u.is_none() && x.weight == 0.0);
                    continue;
                };
                assert_eq!(
                    x.household,
                    cm.household && one,
                    "{} at {at}",
                    cm.comparison
                );
                let lm = cm.levels.iter().find(|l| l.level == x.level).unwrap();
                let u = if x.household {
                    lm.u_household.unwrap()
                } else {
                    lm.u
                };
                assert_eq!((x.m, x.u), (Some(lm.m), Some(u)), "{}", cm.comparison);
                assert!((x.weight - (m / u).log2()).abs() < 1e-12);
            }
            assert!((total - weight).abs() < 1e-9);
        }
        assert!(both[0] > 0 && both[1] > 0, "{both:?}");
    }
}

/// The atomic levels of comparison `c` whose sum an unseen-level `else` is, as indices.
fn atomic_members(comparator: &Comparator, c: usize, level: usize) -> Vec<usize> {
    let rule = &comparator.rules()[c];
    (0..=rule.tested)
        .filter(|i| rule.members[level] & (1u64 << i) != 0)
        .collect()
}

#[test]
fn u_from_pair_statistics_sums_the_atomic_levels_of_an_unseen_level_else() {
    // No household comparison, so that no random pair is left out as one person recorded twice
    // (random rows of few values often agree at some level on every name and the date).
    let schema = schema_with(|j| {
        for c in j["link"]["comparisons"].as_array_mut().unwrap() {
            c.as_object_mut().unwrap().remove("household");
        }
    });
    let inputs = inputs(&schema, &random_sources(11, &[60, 50], None), false);
    let comparator = Comparator::new(&schema, false).unwrap();
    let stats: Vec<&PairStats> = inputs.stats.iter().collect();
    let u = sample::UEstimate::from_pair_stats(&schema, &comparator, &stats).unwrap();
    assert_eq!(u.pairs, 60 * 59 / 2 + 50 * 49 / 2);
    let mut unseen_levels = 0;
    for (c, rule) in comparator.rules().iter().enumerate() {
        let atomic: f64 = (0..=rule.tested).map(|i| u.u[c][i]).sum();
        assert!((atomic - 1.0).abs() < 1e-9, "{}", rule.name);
        for l in rule.tested + 1..rule.levels.len() {
            unseen_levels += 1;
            let parts = atomic_members(&comparator, c, l);
            assert!(parts.len() >= 2 && parts.contains(&rule.tested));
            let sum: f64 = parts.iter().map(|&i| u.u[c][i]).sum();
            assert!(
                (u.u[c][l] - sum).abs() < 1e-12,
                "{} {}",
                rule.name,
                rule.level_names[l]
            );
            if let Some(h) = &u.u_household[c] {
                let sum: f64 = parts.iter().map(|&i| h[i]).sum();
                assert!((h[l] - sum).abs() < 1e-12);
            }
        }
    }
    assert!(unseen_levels > 5);
    // The date of birth's atomic levels, counted from the patterns by hand: pairs where both
    // records have a date, by the first of exact, swapped, one digit that agrees (pseudo-count
    // of half a pair each).
    let dob = comparison_index(&comparator, "date_of_birth");
    let mut counts = [0u64; 4];
    for s in &inputs.stats {
        let bit = |name: &str| 1u128 << s.features.iter().position(|n| n == name).unwrap();
        let keys = [
            bit("date_of_birth"),
            bit("date_of_birth.unordered"),
            bit("date_of_birth.digit_masks"),
        ];
        for p in &s.random {
            if p.bits() & bit("present:date_of_birth") == 0 {
                continue;
            }
            let level = keys.iter().position(|k| p.bits() & k != 0).unwrap_or(3);
            counts[level] += p.count;
        }
    }
    let total: f64 = counts.iter().map(|c| (*c as f64).max(0.5)).sum();
    for (i, c) in counts.iter().enumerate() {
        assert!(
            ((*c as f64).max(0.5) / total - u.u[dob][i]).abs() < 1e-12,
            "{i}"
        );
    }
    assert!(counts.iter().all(|c| *c > 0), "{counts:?}");
}

/// The atomic level a pair's comparison is at by the oracle, as an agency counts it with every
/// level seen: the level that holds, or `else` (also for `unknown` and an unseen-level `else`);
/// `None` when missing.
fn atomic_level(comparator: &Comparator, c: usize, name: &str) -> Option<usize> {
    let rule = &comparator.rules()[c];
    match name {
        reference::MISSING => None,
        _ => Some(
            rule.level_names
                .iter()
                .take(rule.tested)
                .position(|n| n == name)
                .unwrap_or(rule.tested),
        ),
    }
}

#[test]
fn cleartext_u_counts_every_sampled_pair_as_the_agencies_do() {
    let schema = Schema::example();
    let (_, sources) = synth_sources(200, 5);
    let mut inputs = inputs(&schema, &sources, true);
    inputs.pool.prepare(&schema);
    let comparator = Comparator::new(&schema, true).unwrap();
    // Fewer than the sources' pairs: a sample.
    let n = 4000;
    let u = sample::UEstimate::from_random_pairs(&inputs.pool, &comparator, n, 7, None).unwrap();
    let oracle = inputs.oracle(&schema, true);
    let mut counts: Vec<Vec<f64>> = comparator
        .rules()
        .iter()
        .map(|r| vec![0.0; r.tested + 1])
        .collect();
    for p in sample::sample_within_sources(&inputs.pool, n, 7) {
        let (a, b) = unpack_pair(p);
        for (c, name) in oracle.levels(a, b).iter().enumerate() {
            if let Some(l) = atomic_level(&comparator, c, name) {
                counts[c][l] += 1.0;
            }
        }
    }
    for (c, rule) in comparator.rules().iter().enumerate() {
        let total: f64 = counts[c].iter().map(|x| x.max(0.5)).sum();
        for l in 0..rule.levels.len() {
            let want: f64 = atomic_members(&comparator, c, l)
                .iter()
                .map(|&i| counts[c][i].max(0.5) / total)
                .sum();
            let want = want.clamp(1e-6, 1.0 - 1e-6);
            assert!(
                (u.u[c][l] - want).abs() < 1e-12,
                "{} {}: u {}, oracle {want}",
                rule.name,
                rule.level_names[l],
                u.u[c][l]
            );
        }
    }
}

#[test]
fn household_pairs_of_one_person_recorded_twice_are_left_out() {
    let schema = Schema::example();
    let one = |id, first, dob, sex, address| {
        row(id, [first, "", "Smith", dob, sex, "CV1 2AB", address, ""])
    };
    let household = vec![
        one("h1", "Anna", "1980-05-05", "F", "1 High St"),
        // Anna again, with a typo: a duplicate, not a second person of the household.
        one("h2", "Ana", "1980-05-05", "F", "1 High St"),
        one("h3", "Ben", "2010-01-01", "M", "1 High St"),
        row(
            "x1",
            [
                "Omar",
                "",
                "Khan",
                "1970-01-01",
                "M",
                "B1 1AA",
                "9 Elm Rd",
                "",
            ],
        ),
    ];
    let others = vec![
        row(
            "y1",
            ["Li", "", "Wu", "1971-02-03", "F", "CV3 4CD", "2 Low Rd", ""],
        ),
        row(
            "y2",
            [
                "Jon",
                "",
                "Bell",
                "1972-03-04",
                "M",
                "CV5 6EF",
                "3 Mill Lane",
                "",
            ],
        ),
    ];
    let sources = [household, others];
    for clear in [false, true] {
        let mut inputs = inputs(&schema, &sources, clear);
        let comparator = Comparator::new(&schema, clear).unwrap();
        let u = if clear {
            inputs.pool.prepare(&schema);
            sample::UEstimate::from_random_pairs(&inputs.pool, &comparator, 1000, 0, None)
        } else {
            let stats: Vec<&PairStats> = inputs.stats.iter().collect();
            assert_eq!(inputs.stats[0].household_pairs, 3);
            sample::UEstimate::from_pair_stats(&schema, &comparator, &stats)
        }
        .unwrap();
        // Of the three pairs of the household, (h1, h2) is one person.
        assert_eq!(u.household_pairs, 2, "cleartext: {clear}");
        // It is left out of the random pairs too: the only two records sharing a date of birth,
        // so exact dates get the pseudo-count of half a pair against the 6 pairs of `else`.
        let dob = comparison_index(&comparator, "date_of_birth");
        assert!(
            (u.u[dob][0] / u.u[dob][3] - 0.5 / 6.0).abs() < 1e-12,
            "cleartext: {clear}: {:?}",
            u.u[dob]
        );
        if !clear {
            assert_eq!(u.pairs, 4 * 3 / 2 + 1 - 1);
        }
        // Both others differ in the date of birth: exact 0, swapped 0, one digit 0, else 2, with
        // half a pair each for the three never seen.
        let dob = comparison_index(&comparator, "date_of_birth");
        let h = u.u_household[dob].as_ref().unwrap();
        assert!((h[0] - 0.5 / 3.5).abs() < 1e-12, "{h:?}");
        assert!((h[3] - 2.0 / 3.5).abs() < 1e-12, "{h:?}");
    }
}

#[test]
fn runs_are_reproducible() {
    let mut schema = Schema::example();
    schema.link.u_sample_pairs = 3000;
    let (_, sources) = synth_sources(200, 5);
    for clear in [false, true] {
        let (x, y) = (
            linked(&schema, &sources, clear),
            linked(&schema, &sources, clear),
        );
        assert_eq!(x.model, y.model);
        assert_eq!(x.review_pairs, y.review_pairs);
        assert_eq!(x.review_weights, y.review_weights);
        assert_eq!(x.links, y.links);
        assert!(!x.links.is_empty());
        if clear {
            // Fewer pairs sampled than the sources hold: another seed, another sample.
            let mut other = schema.clone();
            other.link.seed = 1;
            let z = linked(&other, &sources, clear);
            assert_ne!(z.model.comparisons, x.model.comparisons);
        }
    }
}

/// Every pair the tasks of `b` enumerate, in order.
fn enumerated(b: &block::Blocking, pool: &Pool) -> Vec<u64> {
    let mut out = Vec::new();
    for t in b.plan.tasks() {
        b.plan
            .for_each_pair(pool, t, |x, _, y, _| out.push(pack_pair(x, y)));
    }
    out
}

#[test]
fn a_token_set_rule_forms_a_pair_sharing_several_elements_once() {
    let schema = schema_with(|j| {
        j["link"]["blocking"] = serde_json::json!([["first_name.deletions", "date_of_birth"]]);
    });
    let left = vec![row("a", BASE)];
    let right = vec![
        row("b", BASE),                             // every element shared
        row("c", base_with(&[(FIRST, "Ana")])),     // one element shared
        row("d", base_with(&[(FIRST, "Zebedee")])), // none
    ];
    let mut one = inputs(&schema, &[left.clone(), right.clone()], false);
    one.pool.prepare(&schema);
    let set = match Layout::new(&schema).tokens
        [schema.token_index(&schema.link.blocking[0].keys).unwrap()]
    .slot
    {
        crate::encode::layout::Slot::Set(s) => s,
        other => panic!("{other:?}"),
    };
    let (a, b) = (&one.records[0].sets[set], &one.records[1].sets[set]);
    assert_eq!(a, b);
    assert!(a.len() >= 4, "{a:?}");
    let blocking = block::candidate_pairs(&schema, &one.pool, None).unwrap();
    assert_eq!(
        enumerated(&blocking, &one.pool),
        vec![pack_pair(0, 1), pack_pair(0, 2)]
    );
    // Deduplicating three identical records and a near one: each pair once.
    let rows: Vec<Row> = [&left[..], &right[..]].concat();
    let mut dedupe = inputs(
        &schema,
        &[[rows.clone(), vec![row("e", BASE)]].concat()],
        false,
    );
    dedupe.pool.prepare(&schema);
    let blocking = block::candidate_pairs(&schema, &dedupe.pool, None).unwrap();
    let mut got = enumerated(&blocking, &dedupe.pool);
    let n = got.len();
    got.sort_unstable();
    got.dedup();
    assert_eq!(got.len(), n, "a pair formed twice");
    let want: Vec<u64> = [(0, 1), (0, 2), (0, 4), (1, 2), (1, 4), (2, 4)]
        .iter()
        .map(|(x, y)| pack_pair(*x, *y))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn oversized_blocks_are_skipped_and_reported_and_the_next_rule_forms_their_pairs() {
    // Rule 0 (postcode and first name) puts everyone in one block, too large; rule 1 (first
    // name and date of birth) forms the pairs sharing a date of birth, each once.
    let mut schema = schema_with(|j| {
        j["link"]["blocking"] =
            serde_json::json!([["postcode", "first_name"], ["first_name", "date_of_birth"]]);
    });
    schema.link.max_block_size = 4;
    let dobs = ["1990-01-02", "1991-02-03", "1992-03-04"];
    let rows = |prefix: &str, n: usize| -> Vec<Row> {
        (0..n)
            .map(|i| {
                row(
                    &format!("{prefix}{i}"),
                    base_with(&[(DOB, dobs[i % 3]), (NHS, "")]),
                )
            })
            .collect()
    };
    let sources = [rows("a", 6), rows("b", 3)];
    let mut inputs = inputs(&schema, &sources, false);
    inputs.pool.prepare(&schema);
    let b = block::candidate_pairs(&schema, &inputs.pool, None).unwrap();
    assert_eq!((b.rules[0].blocks, b.rules[0].skipped_blocks), (1, 1));
    assert_eq!(b.skipped.len(), 1);
    assert_eq!(b.skipped[0].rule, "postcode+first_name");
    assert_eq!(b.skipped[0].sizes, vec![6, 3]);
    let mut want: Vec<u64> = Vec::new();
    for x in 0..6u32 {
        for y in 0..3u32 {
            if x % 3 == y {
                want.push(pack_pair(x, 6 + y));
            }
        }
    }
    let mut got = enumerated(&b, &inputs.pool);
    got.sort_unstable();
    assert_eq!(got, want);
    let linkage = link(&schema, &mut inputs, false).unwrap();
    assert_eq!(linkage.blocking.candidate_pairs, want.len() as u64);
    assert_eq!(linkage.blocking.rules[0].new_pairs, 0);
    assert_eq!(linkage.blocking.rules[1].new_pairs, want.len() as u64);
    for x in 0..6 {
        for y in 6..9 {
            let e = linkage
                .explain(&linkage.pool.record(x).id, &linkage.pool.record(y).id)
                .unwrap();
            assert_eq!(e.candidate, want.contains(&pack_pair(x, y)));
        }
    }
    // Within the limit the block is compared: every pair, once, by rule 0.
    schema.link.max_block_size = 6;
    let mut inputs = self::inputs(&schema, &sources, false);
    inputs.pool.prepare(&schema);
    let b = block::candidate_pairs(&schema, &inputs.pool, None).unwrap();
    assert_eq!(b.rules[0].skipped_blocks, 0);
    assert_eq!(enumerated(&b, &inputs.pool).len(), 18);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn large_blocks_cut_into_slices_give_the_same_pairs(seed in any::<u64>(), nl in 1usize..30, nr in 1usize..30, task in 1u64..40) {
        // A rule on the sex (blocks of hundreds of pairs) before the default rules.
        let schema = schema_with(|j| {
            j["tokens"].as_array_mut().unwrap().push(serde_json::json!(["sex"]));
            j["link"]["blocking"].as_array_mut().unwrap().insert(1, serde_json::json!(["sex"]));
        });
        let mut inputs = inputs(&schema, &random_sources(seed, &[nl, nr], None), false);
        inputs.pool.prepare(&schema);
        let whole = block::candidate_pairs(&schema, &inputs.pool, None).unwrap();
        let cut = block::candidate_pairs_in_tasks_of(&schema, &inputs.pool, None, task).unwrap();
        prop_assert!(cut.plan.tasks().len() >= whole.plan.tasks().len());
        if whole.plan.tasks().iter().any(|t| t.blocks.len() == 1 && t.pairs > task) {
            prop_assert!(cut.plan.tasks().iter().any(|t| t.first.is_some()));
        }
        let (a, b) = (enumerated(&whole, &inputs.pool), enumerated(&cut, &inputs.pool));
        prop_assert_eq!(&a, &b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        sorted.dedup();
        prop_assert_eq!(sorted.len(), a.len());
        let want: Vec<u64> = inputs
            .oracle(&schema, false)
            .candidates()
            .into_iter()
            .map(|(x, y)| pack_pair(x, y))
            .collect();
        prop_assert_eq!(sorted, want);
    }
}

/// Links `sources` with `model` given.
fn link_with_model(
    schema: &Schema,
    sources: &[Vec<Row>],
    clear: bool,
    model: model::Model,
) -> Result<Linkage> {
    let inputs = inputs(schema, sources, clear);
    let options = LinkOptions {
        model: Some(model),
        ..options(&inputs.stats)
    };
    link_pool(schema, inputs.pool, clear, options, &RunControl::new())
}

#[test]
fn models_round_trip_and_are_refused_when_they_do_not_fit() {
    let schema = Schema::example();
    let (_, sources) = synth_sources(200, 5);
    let linkage = linked(&schema, &sources, false);
    assert!(!linkage.links.is_empty());
    let json = linkage.model.to_json();
    let model = model::Model::from_json(&json).unwrap();
    assert_eq!(model, linkage.model);
    // The model given: the same pairs, weights and links, with nothing trained.
    let reused = link_with_model(&schema, &sources, false, model.clone()).unwrap();
    assert!(linkage.trained && !reused.trained);
    assert_eq!(reused.review_pairs, linkage.review_pairs);
    assert_eq!(reused.review_weights, linkage.review_weights);
    assert_eq!(reused.links, linkage.links);
    assert_eq!(
        reused.blocking.candidate_pairs,
        linkage.blocking.candidate_pairs
    );
    let refused = |schema: &Schema, clear: bool, model: &model::Model| -> String {
        match link_with_model(schema, &sources, clear, model.clone()) {
            Err(Error::Model(m)) => m,
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("a model that does not fit was used"),
        }
    };
    // Another encoding.
    let other = schema_with(|j| {
        j["tokens"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!(["sex"]));
    });
    assert_ne!(other.fingerprint(), schema.fingerprint());
    assert!(refused(&other, false, &model).contains("schema"));
    // Another mode.
    assert!(refused(&schema, true, &model).contains("mode"));
    // Other comparisons (the same encoding): one left out, or a level renamed.
    let fewer = schema_with(|j| {
        j["link"]["comparisons"].as_array_mut().unwrap().pop();
    });
    assert_eq!(fewer.fingerprint(), schema.fingerprint());
    assert!(refused(&fewer, false, &model).contains("comparisons"));
    let renamed = schema_with(|j| {
        j["link"]["comparisons"][0]["levels"][1]["name"] = serde_json::json!("typo");
    });
    assert!(refused(&renamed, false, &model).contains("comparisons"));
    // An older format version.
    let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
    old["format_version"] = serde_json::json!(2);
    let e = model::Model::from_json(&old.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("version 2") && e.contains("train a new model"),
        "{e}"
    );
}

#[test]
fn term_frequencies_make_a_common_value_count_for_less_in_cleartext() {
    let schema = schema_with(|j| {
        j["link"]["comparisons"][2]["term_frequency"] = serde_json::json!(true);
    });
    // Ten Smiths and one Quinlan on each side; each pair one postcode, different addresses (one
    // household would not be weighed by frequency).
    let person = |id: String, last: &str, i: usize, street: &str| -> Row {
        let first = [
            "anna", "omar", "li", "priya", "jon", "kate", "mary", "ben", "zoe", "raj", "sam",
        ];
        let dob = format!("19{:02}-0{}-1{}", 60 + i, 1 + i % 9, i % 10);
        let address = format!("{} {street}", i + 1);
        let postcode = format!("CV{} 2AB", 1 + i % 7);
        [
            id,
            first[i].into(),
            String::new(),
            last.into(),
            dob,
            "F".into(),
            postcode,
            address,
            String::new(),
        ]
    };
    let side = |prefix: &str, street: &str| -> Vec<Row> {
        let mut rows: Vec<Row> = (0..10)
            .map(|i| person(format!("{prefix}{i}"), "Smith", i, street))
            .collect();
        rows.push(person(format!("{prefix}q"), "Quinlan", 10, street));
        rows
    };
    let sources = [side("a", "High St"), side("b", "Mill Lane")];
    let linkage = linked(&schema, &sources, true);
    let last = comparison_index(&linkage.comparator, "last_name");
    assert!(linkage.model.comparisons[last].term_frequency);
    let smith = linkage.explain("a0", "b0").unwrap();
    let quinlan = linkage.explain("aq", "bq").unwrap();
    let (s, q) = (&smith.comparisons[last], &quinlan.comparisons[last]);
    assert_eq!((s.level.as_str(), q.level.as_str()), ("exact", "exact"));
    assert!(s.term_frequency_adjusted && q.term_frequency_adjusted);
    assert!((s.u.unwrap() - 20.0 / 22.0).abs() < 1e-6, "{s:?}");
    assert!((q.u.unwrap() - 2.0 / 22.0).abs() < 1e-6, "{q:?}");
    assert_eq!(s.m, q.m);
    assert!(q.weight > s.weight + 3.0, "{} vs {}", q.weight, s.weight);
    for e in [&smith, &quinlan] {
        let standing = e.competition.as_ref().map_or(0.0, |c| c.weight);
        let total: f64 =
            e.prior_weight + e.comparisons.iter().map(|c| c.weight).sum::<f64>() + standing;
        assert!((total - e.match_weight).abs() < 1e-9);
    }
    // Encoded extracts hold no token of a last name alone: nothing to count.
    let encoded = linked(&schema, &sources, false);
    assert!(!encoded.model.comparisons[last].term_frequency);
    let e = encoded.explain("a0", "b0").unwrap();
    assert!(!e.comparisons[last].term_frequency_adjusted);
}

#[test]
fn cancel_stops_the_run() {
    let schema = Schema::example();
    let sources = random_sources(5, &[20, 20], None);
    for clear in [false, true] {
        let flag = std::sync::atomic::AtomicBool::new(true);
        let inputs = inputs(&schema, &sources, clear);
        let err = link_pool(
            &schema,
            inputs.pool,
            clear,
            options(&inputs.stats),
            &RunControl::new().cancel(&flag),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Cancelled), "{err}");
        // Cancelled halfway, once the model is being trained.
        let flag = std::sync::atomic::AtomicBool::new(false);
        let stages = std::sync::Mutex::new(Vec::new());
        let progress = |p: Progress| {
            stages.lock().unwrap().push(p.stage);
            if p.stage == "EM" {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        };
        let inputs = self::inputs(&schema, &sources, clear);
        let err = link_pool(
            &schema,
            inputs.pool,
            clear,
            options(&inputs.stats),
            &RunControl::new().cancel(&flag).progress(&progress),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Cancelled), "{err}");
        let stages = stages.into_inner().unwrap();
        assert!(
            stages.contains(&"EM") && !stages.contains(&"resolving"),
            "{stages:?}"
        );
    }
}

#[test]
fn sessions_finding_more_matches_than_the_inputs_hold_are_left_out() {
    use super::em::{Patterns, UTable};
    use std::collections::HashMap;
    let schema = Schema::example();
    let comparator = Comparator::new(&schema, false).unwrap();
    let sizes: Vec<usize> = comparator.rules().iter().map(|r| r.tested + 1).collect();
    let all = |level: &dyn Fn(usize) -> u8| -> Vec<u8> { (0..sizes.len()).map(level).collect() };
    let exact = all(&|_| 0);
    let dob = comparison_index(&comparator, "date_of_birth");
    let first = comparison_index(&comparator, "first_name");
    // Agreeing on the first name and date of birth only; else (index `tested`) elsewhere.
    let only_rule = all(&|f| {
        if f == dob || f == first {
            0
        } else {
            (sizes[f] - 1) as u8
        }
    });
    // Rule 0 (nhs_number): 50 pairs agreeing on everything. Rule 1 (first_name+date_of_birth):
    // 100 such pairs among 10,000 that agree on those two only.
    let mut counts = HashMap::new();
    counts.insert((exact.clone(), 1u64), 50u64);
    counts.insert((exact, 2u64), 100u64);
    counts.insert((only_rule, 2u64), 10_000u64);
    let patterns = Patterns::from_counts(sizes.len(), counts);
    let u: Vec<Vec<f64>> = comparator
        .rules()
        .iter()
        .map(|r| {
            let n = r.levels.len();
            let mut l = vec![0.001; n];
            l[r.tested] = 1.0 - 0.001 * r.tested as f64;
            l
        })
        .collect();
    let run = |max_matches: f64| {
        train::train(
            &schema,
            &comparator,
            &patterns,
            &UTable::plain(&u),
            1_000_000,
            max_matches,
            |_| 0.01,
        )
    };
    let used = |t: &train::Trained| -> Vec<bool> { t.sessions.iter().map(|s| s.used).collect() };
    let everything = run(f64::INFINITY);
    assert_eq!(used(&everything), vec![true, true, true]);
    // The second session finds about 100 matches: more than 75 is implausible, so it is left
    // out, and its comparisons keep the first session's estimates.
    let guarded = run(75.0);
    assert_eq!(used(&guarded), vec![true, false, true]);
    assert!(guarded.sessions[1].comparisons_estimated.is_empty());
    assert!((guarded.sessions[1].lambda * 10_100.0 - 100.0).abs() < 5.0);
    assert_ne!(guarded.fit.m, everything.fit.m);
    // When no session is plausible, all are used rather than none.
    let none = run(1.0);
    assert_eq!(used(&none), vec![true, true, true]);
    assert_eq!(none.fit, everything.fit);
}

/// F1 of the match-band links of `linkage` against the true pairs of sources 0 and 1.
fn f1_of(linkage: &Linkage, data: &pseudolink_synth::SynthData) -> f64 {
    let truth: std::collections::HashSet<(String, String)> =
        data.true_pairs(0, 1).into_iter().collect();
    let found: Vec<(String, String)> = linkage
        .links
        .iter()
        .filter(|l| l.band == Band::Match)
        .map(|l| {
            (
                linkage.record_id(l.left).to_string(),
                linkage.record_id(l.right).to_string(),
            )
        })
        .collect();
    let tp = found.iter().filter(|p| truth.contains(*p)).count() as f64;
    2.0 * tp / (found.len() as f64 + truth.len() as f64)
}

#[test]
fn competing_links_are_estimated_saved_and_reused() {
    let (data, sources) = synth_sources(3000, 23);
    let plain = schema_with(|j| j["link"]["competition"] = serde_json::json!(false));
    let schema = schema_with(|j| j["link"]["competition"] = serde_json::json!(true));
    assert_eq!(schema, Schema::example(), "on in the default schema");
    assert_eq!(schema.fingerprint(), plain.fingerprint());
    assert_ne!(schema.link_fingerprint(), plain.link_fingerprint());
    let without = linked(&plain, &sources, false);
    assert!(without.model.competition.is_none());
    let with = linked(&schema, &sources, false);
    let c = with.model.competition.clone().expect("estimated");
    assert_eq!(c.pairs, with.review_pairs.len() as u64);
    assert!(c.weight(competition::Standing::Outranked) < c.weight(competition::Standing::Alone));
    // Same candidates and model otherwise; every weight moved by its standing's weight.
    assert_eq!(with.review_pairs, without.review_pairs);
    assert_eq!(with.model.comparisons, without.model.comparisons);
    let standings =
        competition::standings(&with.pool, &without.review_pairs, &without.review_weights);
    for ((w, v), s) in with
        .review_weights
        .iter()
        .zip(&without.review_weights)
        .zip(standings)
    {
        assert!((w - v - c.weight(s)).abs() < 1e-9);
    }
    // Explanations show the standing and add its weight; below the review threshold, none.
    let id = |l: &Linkage, i: u32| l.pool.record(i).id.clone();
    for (k, (&p, &w)) in with
        .review_pairs
        .iter()
        .zip(&with.review_weights)
        .enumerate()
    {
        if k % 50 != 0 {
            continue;
        }
        let (a, b) = unpack_pair(p);
        let e = with.explain(&id(&with, a), &id(&with, b)).unwrap();
        let shown = e
            .competition
            .as_ref()
            .expect("a review pair has a standing");
        assert_eq!(shown.standing, with.review_standings[k].name());
        assert!(
            (e.match_weight - w).abs() < 1e-9,
            "{} against {w}",
            e.match_weight
        );
        assert!(e.to_string().contains("(competing links)"));
        let e = without.explain(&id(&with, a), &id(&with, b)).unwrap();
        assert!(e.competition.is_none());
    }
    let (f_with, f_without) = (f1_of(&with, &data), f1_of(&without, &data));
    assert!(f_with >= f_without - 0.002, "{f_with} against {f_without}");
    // Saved and given back: the same weights and links.
    let model = model::Model::from_json(&with.model.to_json()).unwrap();
    assert_eq!(model.competition, with.model.competition);
    let reused = link_with_model(&schema, &sources, false, model.clone()).unwrap();
    assert_eq!(reused.review_weights, with.review_weights);
    assert_eq!(reused.links, with.links);
    // Spark's scorer takes the setting and such a model (distributed.rs tests its answers).
    for (s, m) in [
        (&schema, None),
        (&plain, Some(&model)),
        (&plain, Some(&without.model)),
    ] {
        assert!(distributed::PairScorer::new(s, m).is_ok());
    }
}

#[test]
fn lambda_lands_near_the_true_number_of_matches() {
    let (data, sources) = synth_sources(2000, 17);
    let schema = Schema::example();
    let truth = data.true_pairs(0, 1).len() as f64;
    let linkage = linked(&schema, &sources, false);
    let implied = linkage.model.training.implied_matches;
    assert!(
        (implied - truth).abs() < 0.03 * truth,
        "{implied} matches implied, {truth} true"
    );
    let lambda = linkage.model.lambda;
    let possible = (sources[0].len() * sources[1].len()) as f64;
    let candidate = linkage.model.training.candidate_matches.unwrap_or(f64::NAN);
    assert!((lambda * possible - candidate).abs() < 1.0);
}

#[test]
fn implied_matches_count_the_matches_blocking_misses() {
    // Two blocking rules only: a true pair without both NHS numbers whose surname or date of
    // birth differs shares no blocking token, and is never compared.
    let schema = schema_with(|j| {
        j["link"]["blocking"] = serde_json::json!([["nhs_number"], ["last_name", "date_of_birth"]]);
    });
    let (data, sources) = synth_sources(2000, 17);
    let truth = data.true_pairs(0, 1);
    let linkage = linked(&schema, &sources, false);
    let formed = truth
        .iter()
        .filter(|(l, r)| linkage.explain(l, r).is_ok_and(|e| e.candidate))
        .count() as f64;
    let truth = truth.len() as f64;
    let t = &linkage.model.training;
    let (candidate, share) = (
        t.candidate_matches.unwrap_or(f64::NAN),
        t.blocking_formed_share.unwrap_or(f64::NAN),
    );
    let shown = format!(
        "{truth} true pairs, {formed} formed; implied {candidate:.1} among the candidates, share formed {share:.4}, {:.1} in all",
        t.implied_matches
    );
    // Blocking misses a known share, which the matches among the candidates leave out...
    assert!(formed < 0.92 * truth, "{shown}");
    assert!(candidate < 0.94 * truth, "{shown}");
    // ...and the model's estimate of it puts it back.
    assert!((share - formed / truth).abs() < 0.02, "{shown}");
    assert!((t.implied_matches - truth).abs() < 0.03 * truth, "{shown}");
    assert!((t.implied_matches * share - candidate).abs() < 1e-6 * truth);
    assert!(
        t.blocking_formed_assumptions.is_empty(),
        "{:?}",
        t.blocking_formed_assumptions
    );
}

#[test]
fn with_threshold_never_puts_the_review_threshold_above_the_match_threshold() {
    let review = |t: f64| LinkOptions::with_threshold(t).review_threshold;
    assert_eq!(review(0.9), DEFAULT_REVIEW_THRESHOLD);
    assert_eq!(review(DEFAULT_REVIEW_THRESHOLD), DEFAULT_REVIEW_THRESHOLD);
    assert_eq!(review(0.3), 0.3);
    assert_eq!(review(0.0), 0.0);
    // Not probabilities: left for validation to refuse.
    assert_eq!(review(-0.1), -0.1);
    assert!(review(f64::NAN) == DEFAULT_REVIEW_THRESHOLD);
    let refused = |t: f64| LinkOptions::with_threshold(t).validate().is_err();
    assert!(!refused(0.9) && !refused(0.3) && !refused(0.0) && !refused(1.0));
    assert!(refused(1.5) && refused(-0.1) && refused(f64::NAN) && refused(f64::INFINITY));
}
