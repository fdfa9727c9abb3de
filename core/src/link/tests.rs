//! Tests of the linker against the all-pairs oracle, and of each comparison level.

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::compare::{level_name, Comparator, MISSING};
use super::pool::{pack_pair, unpack_pair, ClearValues, Pool};
use super::reference;
use super::resolve::ScoredPairs;
use super::*;
use crate::encode::{EncodedRecord, Encoder};
use crate::normalise::date::Date;
use crate::schema::{BlockingRule, Schema};
use crate::Secret;

type Row = [String; 9];

fn encoder(schema: &Schema) -> Encoder {
    let secret = Secret::from_bytes(&[9u8; 32]).unwrap();
    Encoder::with_today(schema, &secret, Date::new(2026, 1, 1).unwrap())
}

fn encode_rows(enc: &Encoder, rows: &[Row]) -> (Vec<EncodedRecord>, Vec<Option<Box<str>>>) {
    let mut scratch = enc.scratch();
    let mut records = Vec::new();
    let mut values = Vec::new();
    for row in rows {
        records.push(enc.encode_values(row, &mut scratch).unwrap().0);
        for (i, raw) in row.iter().skip(1).enumerate() {
            let v = enc
                .normaliser(i)
                .and_then(|n| n.normalise(raw).ok())
                .map(|v| Box::<str>::from(&*v.canonical()));
            values.push(v);
        }
    }
    (records, values)
}

fn pool_of(schema: &Schema, sources: &[Vec<Row>], clear: bool) -> Pool {
    let enc = encoder(schema);
    let mut all_values = Vec::new();
    let mut srcs = Vec::new();
    for (s, rows) in sources.iter().enumerate() {
        let (records, values) = encode_rows(&enc, rows);
        all_values.extend(values);
        srcs.push((format!("s{s}"), records));
    }
    let mut pool = Pool::new(srcs, enc.layout().n_blooms).unwrap();
    pool.prepare(schema);
    if clear {
        pool.with_clear(ClearValues {
            n_fields: schema.fields.len(),
            values: all_values,
        })
        .unwrap()
    } else {
        pool
    }
}

/// A valid NHS number (modulus 11) from nine digits, if the check digit exists.
fn nhs(nine: u64) -> Option<String> {
    let digits: Vec<u32> = format!("{nine:09}")
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| d * (10 - i as u32))
        .sum();
    let check = (11 - sum % 11) % 11;
    (check != 10).then(|| format!("{nine:09}{check}"))
}

fn random_rows(rng: &mut ChaCha8Rng, prefix: &str, n: usize, sex: Option<&str>) -> Vec<Row> {
    const FIRST: &[&str] = &[
        "anna", "ana", "hannah", "john", "jon", "omar", "priya", "li", "mohammed", "muhammad",
    ];
    const MIDDLE: &[&str] = &["", "k", "marie", "kate"];
    const LAST: &[&str] = &["smith", "smyth", "khan", "patel", "brown", "browne", "li"];
    const DOB: &[&str] = &[
        "2014-03-09",
        "2014-09-03",
        "2014-03-10",
        "1990-01-02",
        "1990-02-01",
        "1985-07-11",
        "2001-12-05",
        "",
    ];
    const SEX: &[&str] = &["F", "M", ""];
    const POSTCODE: &[&str] = &["CV1 2AB", "CV1 2AD", "CV1 5XY", "CV3 4CD", "B1 1AA", ""];
    const ADDRESS: &[&str] = &["1 high st", "1 high street", "2 low rd", "3 mill lane", ""];
    let nhs_numbers: Vec<String> = [943476591u64, 401023213, 123456789, 0]
        .iter()
        .filter_map(|n| nhs(*n))
        .collect();
    let pick = |rng: &mut ChaCha8Rng, xs: &[&str]| xs[rng.gen_range(0..xs.len())].to_string();
    (0..n)
        .map(|i| {
            let (mut first, mut last) = (pick(rng, FIRST), pick(rng, LAST));
            if rng.gen_bool(0.15) {
                std::mem::swap(&mut first, &mut last);
            }
            let nhs_number = if rng.gen_bool(0.5) {
                nhs_numbers[rng.gen_range(0..nhs_numbers.len())].clone()
            } else {
                String::new()
            };
            [
                format!("{prefix}{i}"),
                first,
                pick(rng, MIDDLE),
                last,
                pick(rng, DOB),
                sex.map_or_else(|| pick(rng, SEX), str::to_string),
                pick(rng, POSTCODE),
                pick(rng, ADDRESS),
                nhs_number,
            ]
        })
        .collect()
}

fn options() -> LinkOptions {
    LinkOptions {
        threshold: 0.9,
        review_threshold: 0.3,
        ..LinkOptions::default()
    }
}

/// Checks the blocked linker against the oracle on the pairs `expected` (all pairs, or those
/// sharing a block).
fn check_against_oracle(schema: &Schema, pool: Pool, clear: bool, all_pairs_expected: bool) {
    let oracle_pairs: Vec<u64> = reference::all_pairs(&pool)
        .into_iter()
        .filter(|(a, b)| all_pairs_expected || reference::shares_block(schema, &pool, *a, *b))
        .map(|(a, b)| pack_pair(a, b))
        .collect();
    let linkage = match link_pool(schema, pool, clear, options(), None, None) {
        Ok(l) => l,
        Err(Error::Invalid(m)) if oracle_pairs.is_empty() => {
            assert!(m.contains("no candidate pair"), "{m}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    // Every candidate pair, once, with the oracle's comparison vector and weight.
    let candidates = linkage.candidates();
    let got_pairs: Vec<u64> = candidates.iter().map(|c| c.0).collect();
    assert_eq!(got_pairs, oracle_pairs);
    assert_eq!(linkage.blocking.candidate_pairs, oracle_pairs.len() as u64);
    let mut weights = Vec::new();
    for (p, levels, weight) in &candidates {
        let (a, b) = unpack_pair(*p);
        let want = reference::levels(schema, &linkage.pool, clear, a, b);
        assert_eq!(
            levels,
            &want,
            "pair {} / {}",
            linkage.pool.record(a).id,
            linkage.pool.record(b).id
        );
        let w = reference::weight(schema, &linkage.model, &linkage.pool, clear, &want, a);
        assert!((w - weight).abs() < 1e-9, "weight {w} vs {weight}");
        weights.push(w);
    }
    // The run kept exactly the pairs reaching the review threshold, with their weights.
    let reaching: Vec<(u64, f64)> = candidates
        .iter()
        .filter(|c| model::probability(c.2) >= options().review_threshold)
        .map(|c| (c.0, c.2))
        .collect();
    let kept: Vec<(u64, f64)> = linkage
        .review_pairs
        .iter()
        .copied()
        .zip(linkage.review_weights.iter().copied())
        .collect();
    assert_eq!(kept, reaching);
    let scored = ScoredPairs {
        pairs: &oracle_pairs,
        weights: &weights,
    };
    let (links, _) = resolve_links(&linkage.pool, scored, &options(), &|_| Vec::new());
    let key = |l: &Link| (l.left, l.right, l.band, l.cluster);
    assert_eq!(
        links.iter().map(key).collect::<Vec<_>>(),
        linkage.links.iter().map(key).collect::<Vec<_>>()
    );
}

fn covering_schema() -> Schema {
    let mut schema = Schema::example();
    schema.blocking = vec![BlockingRule {
        name: "everyone".into(),
        keys: vec!["sex".into()],
    }];
    schema.link.u_sample_pairs = 10_000;
    schema
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn blocked_linker_equals_the_all_pairs_oracle(seed in any::<u64>(), nl in 1usize..14, nr in 1usize..14) {
        let schema = covering_schema();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let left = random_rows(&mut rng, "a", nl, Some("F"));
        let right = random_rows(&mut rng, "b", nr, Some("F"));
        check_against_oracle(&schema, pool_of(&schema, &[left, right], false), false, true);
    }

    #[test]
    fn cleartext_linker_equals_the_oracle(seed in any::<u64>(), nl in 1usize..10, nr in 1usize..10) {
        let schema = covering_schema();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let left = random_rows(&mut rng, "a", nl, Some("F"));
        let right = random_rows(&mut rng, "b", nr, Some("F"));
        check_against_oracle(&schema, pool_of(&schema, &[left, right], true), true, true);
    }

    #[test]
    fn dedupe_and_many_sources_equal_the_oracle(seed in any::<u64>(), n in 2usize..16) {
        let schema = covering_schema();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let one = random_rows(&mut rng, "a", n, Some("F"));
        check_against_oracle(&schema, pool_of(&schema, &[one], false), false, true);
        let sources: Vec<Vec<Row>> = ["a", "b", "c"].iter().map(|p| random_rows(&mut rng, p, n / 2 + 1, Some("F"))).collect();
        check_against_oracle(&schema, pool_of(&schema, &sources, false), false, true);
    }

    #[test]
    fn real_blocking_gives_exactly_the_pairs_sharing_a_block(seed in any::<u64>(), nl in 1usize..20, nr in 1usize..20) {
        let mut schema = Schema::example();
        schema.link.u_sample_pairs = 10_000;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let left = random_rows(&mut rng, "a", nl, None);
        let right = random_rows(&mut rng, "b", nr, None);
        check_against_oracle(&schema, pool_of(&schema, &[left, right], false), false, false);
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

/// The level name of each compared field of one pair of rows.
fn levels_of(schema: &Schema, a: Row, b: Row, clear: bool) -> Vec<(String, String)> {
    let pool = pool_of(schema, &[vec![a], vec![b]], clear);
    let cmp = Comparator::new(schema, clear).unwrap();
    let mut v = vec![0u8; cmp.n_fields()];
    cmp.compare(&pool, 0, 1, &mut v);
    cmp.fields()
        .iter()
        .zip(&v)
        .map(|(f, l)| (f.name.clone(), level_name(f, *l)))
        .collect()
}

fn level<'a>(levels: &'a [(String, String)], field: &str) -> &'a str {
    &levels.iter().find(|(f, _)| f == field).unwrap().1
}

const BASE: [&str; 8] = [
    "Anna",
    "",
    "Smith",
    "2014-03-09",
    "F",
    "CV1 2AB",
    "1 High St",
    "9434765919",
];

#[test]
fn every_comparison_level() {
    // Unsalted names: the default salts them with the year and month of birth, so a swapped date
    // (below) would make the names disagree too; that is checked at the end.
    let salted = Schema::example();
    let mut schema = salted.clone();
    for f in &mut schema.fields {
        f.salt = None;
    }
    let same = levels_of(&schema, row("a", BASE), row("b", BASE), false);
    for f in [
        "first_name",
        "last_name",
        "date_of_birth",
        "sex",
        "postcode",
        "address_line_1",
        "nhs_number",
    ] {
        assert_eq!(level(&same, f), "exact", "{f}");
    }
    assert_eq!(level(&same, "middle_name"), "missing");

    let mut other = BASE;
    other[0] = "Ana"; // a Dice band, not exact
    other[3] = "2014-09-03"; // day and month swapped
    other[5] = "CV1 2AD"; // same sector
    other[6] = "1 Hihg St"; // a typo
    other[7] = "";
    let l = levels_of(&schema, row("a", BASE), row("b", other), false);
    assert!(level(&l, "first_name").starts_with("dice>="), "{l:?}");
    assert_eq!(level(&l, "date_of_birth"), "swapped");
    assert_eq!(level(&l, "postcode"), "sector");
    assert!(level(&l, "address_line_1").starts_with("dice>="), "{l:?}");
    assert_eq!(level(&l, "nhs_number"), "missing");

    let mut other = BASE;
    other[3] = "2014-03-21"; // same year and month
    other[5] = "CV1 5XY"; // same district
    other[4] = "M";
    let l = levels_of(&schema, row("a", BASE), row("b", other), false);
    assert_eq!(level(&l, "date_of_birth"), "year_month");
    assert_eq!(level(&l, "postcode"), "district");
    assert_eq!(level(&l, "sex"), "else");

    let mut other = BASE;
    other[3] = "2014-11-21"; // same year
    let l = levels_of(&schema, row("a", BASE), row("b", other), false);
    assert_eq!(level(&l, "date_of_birth"), "year");

    // Names recorded the other way round: crosswise on both name fields.
    let mut a = BASE;
    a[0] = "Priya";
    a[2] = "Patel";
    let mut b = BASE;
    b[0] = "Patel";
    b[2] = "Priya";
    let l = levels_of(&schema, row("a", a), row("b", b), false);
    assert_eq!(level(&l, "first_name"), "crosswise");
    assert_eq!(level(&l, "last_name"), "crosswise");
    // Salted (the default), crosswise still works within one month of birth...
    let l = levels_of(&salted, row("a", a), row("b", b), false);
    assert_eq!(level(&l, "first_name"), "crosswise");
    // ... but under a different month of birth salted names are not compared at all: their
    // tokens could never agree and their filters are noise.
    let mut c = BASE;
    c[3] = "2014-09-03";
    let l = levels_of(&salted, row("a", BASE), row("b", c), false);
    assert_eq!(level(&l, "first_name"), "salts differ", "{l:?}");
    assert_eq!(level(&l, "last_name"), "salts differ", "{l:?}");
    assert_eq!(level(&l, "middle_name"), "missing", "missing comes first");
    assert_eq!(level(&l, "date_of_birth"), "swapped");
    assert_eq!(
        level(&l, "address_line_1"),
        "exact",
        "unsalted fields are compared"
    );
    // Cleartext mode compares the names themselves, which the salt does not change: not gated.
    let l = levels_of(&salted, row("a", BASE), row("b", c), true);
    assert_eq!(level(&l, "first_name"), "jaro_winkler>=0.94", "{l:?}");
    assert_eq!(level(&l, "last_name"), "jaro_winkler>=0.94", "{l:?}");

    // Completely different values fall to else.
    let mut b = BASE;
    b[0] = "Xavier";
    b[2] = "Quentin";
    b[3] = "1950-01-01";
    b[5] = "B1 1AA";
    b[6] = "99 Elm Road";
    let l = levels_of(&schema, row("a", BASE), row("b", b), false);
    for f in [
        "first_name",
        "last_name",
        "date_of_birth",
        "postcode",
        "address_line_1",
    ] {
        assert_eq!(level(&l, f), "else", "{f}");
    }
}

#[test]
fn middle_name_initial_level_and_cleartext_bands() {
    let schema = Schema::example();
    let mut a = BASE;
    a[1] = "Kate";
    let mut b = BASE;
    b[1] = "Karl";
    let l = levels_of(&schema, row("a", a), row("b", b), false);
    assert_eq!(level(&l, "middle_name"), "initial");
    // Cleartext: Jaro-Winkler bands instead of Dice.
    let mut b = BASE;
    b[0] = "Ann";
    let l = levels_of(&schema, row("a", BASE), row("b", b), true);
    assert!(
        level(&l, "first_name").starts_with("jaro_winkler>="),
        "{l:?}"
    );
}

#[test]
fn dice_bands_follow_the_filters_and_the_bound_skips_only_hopeless_pairs() {
    let schema = Schema::example();
    let cmp = Comparator::new(&schema, false).unwrap();
    let f = &cmp.fields()[0];
    let names = [
        "anna",
        "ana",
        "annabel",
        "hannah",
        "jo",
        "bartholomew",
        "an",
    ];
    for x in names {
        for y in names {
            let mut a = BASE;
            a[0] = x;
            let mut b = BASE;
            b[0] = y;
            let pool = pool_of(&schema, &[vec![row("a", a)], vec![row("b", b)]], false);
            let got = f.compare(&pool, 0, 1);
            let fa = pool.record(0).blooms[0].as_ref().unwrap();
            let fb = pool.record(1).blooms[0].as_ref().unwrap();
            let d = fa.dice(fb);
            let want = if x == y {
                0
            } else {
                match [0.9, 0.75, 0.6].iter().position(|t| d >= *t) {
                    Some(k) => k as u8 + 1,
                    None => {
                        // Below every band: not exact, not a band; soundex/initial are not
                        // compared for first names, crosswise needs the last name: else.
                        assert!(got >= 4, "{x} {y} {d} -> {got}");
                        got
                    }
                }
            };
            assert_eq!(got, want, "{x} vs {y}: dice {d}");
            assert_ne!(got, MISSING);
        }
    }
}

#[test]
fn u_sample_is_reproducible_and_uses_every_pair_when_few() {
    let schema = Schema::example();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let left = random_rows(&mut rng, "a", 300, None);
    let right = random_rows(&mut rng, "b", 300, None);
    let pool = pool_of(&schema, &[left, right], false);
    let cmp = Comparator::new(&schema, false).unwrap();
    let a = sample::estimate_u(&pool, &cmp, 5_000, 11, None).unwrap();
    let b = sample::estimate_u(&pool, &cmp, 5_000, 11, None).unwrap();
    let c = sample::estimate_u(&pool, &cmp, 5_000, 12, None).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.pairs, 5_000);
    let all = sample::estimate_u(&pool, &cmp, 1_000_000, 11, None).unwrap();
    assert_eq!(all.pairs, 90_000);
    for levels in &a.u {
        assert!((levels.iter().sum::<f64>() - 1.0).abs() < 1e-6);
    }
    // Every sampled pair crosses the sources.
    for p in sample::sample_pairs(&pool, 1000, 5) {
        let (x, y) = unpack_pair(p);
        assert!(pool.pair_allowed(x, y));
    }
}

#[test]
fn oversized_blocks_are_skipped_and_reported() {
    let mut schema = Schema::example();
    schema.blocking = vec![BlockingRule {
        name: "sex".into(),
        keys: vec!["sex".into()],
    }];
    schema.link.max_block_size = 3;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let left = random_rows(&mut rng, "a", 5, Some("F"));
    let right = random_rows(&mut rng, "b", 2, Some("F"));
    let pool = pool_of(&schema, &[left, right], false);
    let count = |b: &block::Blocking| -> usize {
        let mut n = 0;
        for t in b.plan.tasks() {
            b.plan.for_each_pair(&pool, t, |_, _, _, _| n += 1);
        }
        n
    };
    let b = block::candidate_pairs(&schema, &pool, None).unwrap();
    assert_eq!(count(&b), 0);
    assert_eq!(b.rules[0].skipped_blocks, 1);
    assert_eq!(b.skipped[0].sizes, vec![5, 2]);
    // Within the limit, every pair of the block is formed once.
    schema.link.max_block_size = 5;
    let b = block::candidate_pairs(&schema, &pool, None).unwrap();
    assert_eq!(count(&b), 10);
    assert_eq!(b.rules[0].pairs, 10);
}

#[test]
fn models_round_trip_and_are_refused_for_another_schema() {
    let schema = covering_schema();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let left = random_rows(&mut rng, "a", 30, Some("F"));
    let right = random_rows(&mut rng, "b", 30, Some("F"));
    let pool = pool_of(&schema, &[left.clone(), right.clone()], false);
    let linkage = link_pool(&schema, pool, false, options(), None, None).unwrap();
    let json = linkage.model.to_json();
    let model = model::Model::from_json(&json).unwrap();
    assert_eq!(model, linkage.model);
    // Models saved before sessions recorded `used` still read, as used.
    let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
    for s in old["training"]["sessions"].as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("used").unwrap();
    }
    assert_eq!(model::Model::from_json(&old.to_string()).unwrap(), model);
    let pool = pool_of(&schema, &[left.clone(), right.clone()], false);
    let reused = link_pool(
        &schema,
        pool,
        false,
        LinkOptions {
            model: Some(model.clone()),
            ..options()
        },
        None,
        None,
    )
    .unwrap();
    assert!(!reused.trained);
    assert_eq!(reused.review_pairs, linkage.review_pairs);
    assert_eq!(reused.review_weights, linkage.review_weights);
    assert_eq!(reused.links, linkage.links);
    let mut other = schema.clone();
    other.link.seed = 99;
    let pool = pool_of(&other, &[left, right], false);
    let err = link_pool(
        &other,
        pool,
        false,
        LinkOptions {
            model: Some(model),
            ..options()
        },
        None,
        None,
    )
    .unwrap_err();
    assert!(matches!(err, Error::Model(_)), "{err}");
}

#[test]
fn term_frequency_makes_common_values_count_for_less() {
    // Unsalted names: a field compared within a salt is not adjusted.
    let mut schema = covering_schema();
    for f in &mut schema.fields {
        f.salt = None;
    }
    // Ten Smiths and one Quinlan on each side.
    let mut left = Vec::new();
    let mut right = Vec::new();
    for i in 0..10 {
        let mut v = BASE;
        v[3] = "1990-01-02";
        left.push(row(&format!("a{i}"), v));
        right.push(row(&format!("b{i}"), v));
    }
    let mut q = BASE;
    q[2] = "Quinlan";
    q[3] = "1990-01-02"; // the same salt as the Smiths
    left.push(row("aq", q));
    right.push(row("bq", q));
    let pool = pool_of(&schema, &[left, right], false);
    let linkage = link_pool(&schema, pool, false, options(), None, None).unwrap();
    let smith = linkage.explain("a0", "b0").unwrap();
    let quinlan = linkage.explain("aq", "bq").unwrap();
    let w = |e: &Explanation| {
        e.fields
            .iter()
            .find(|c| c.field == "last_name")
            .unwrap()
            .clone()
    };
    assert!(w(&smith).term_frequency_adjusted && w(&quinlan).term_frequency_adjusted);
    assert!((w(&smith).u.unwrap() - 20.0 / 22.0).abs() < 1e-6);
    assert!((w(&quinlan).u.unwrap() - 2.0 / 22.0).abs() < 1e-6);
    assert!(w(&quinlan).weight > w(&smith).weight);
    // The explanation adds up.
    let total: f64 = smith.prior_weight + smith.fields.iter().map(|c| c.weight).sum::<f64>();
    assert!((total - smith.match_weight).abs() < 1e-9);
    assert!(linkage.explain("a0", "nope").is_err());
}

#[test]
fn cancel_stops_the_run() {
    let schema = covering_schema();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let left = random_rows(&mut rng, "a", 5, Some("F"));
    let pool = pool_of(&schema, &[left.clone(), left], false);
    let flag = std::sync::atomic::AtomicBool::new(true);
    let err = link_pool(&schema, pool, false, options(), None, Some(&flag)).unwrap_err();
    assert!(matches!(err, Error::Cancelled));
}

#[test]
fn training_rules_default_to_rules_without_location_keys_and_are_checked() {
    let schema = Schema::example();
    let names: Vec<&str> = schema
        .training_rule_indices()
        .into_iter()
        .map(|i| schema.blocking[i].name.as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "nhs_number",
            "dob",
            "first_name_year",
            "last_name_year",
            "name_soundex"
        ]
    );
    let mut json: serde_json::Value = serde_json::from_str(Schema::example_json()).unwrap();
    json["link"]["training_rules"] = serde_json::json!(["dob"]);
    let chosen = Schema::from_json(&json.to_string()).unwrap();
    assert_eq!(chosen.training_rule_indices(), vec![1]);
    json["link"]["training_rules"] = serde_json::json!(["nope"]);
    let err = Schema::from_json(&json.to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("link.training_rules[0]"), "{err}");
}

#[test]
fn sessions_finding_more_matches_than_the_inputs_hold_are_left_out() {
    use super::em::Patterns;
    use std::collections::HashMap;
    let schema = Schema::example();
    let comparator = Comparator::new(&schema, false).unwrap();
    let sizes: Vec<usize> = comparator.fields().iter().map(|f| f.levels.len()).collect();
    let all = |level: &dyn Fn(usize) -> u8| -> Vec<u8> { (0..sizes.len()).map(level).collect() };
    let exact = all(&|_| 0);
    let dob = comparator
        .fields()
        .iter()
        .position(|f| f.name == "date_of_birth")
        .unwrap();
    let only_dob = all(&|f| if f == dob { 0 } else { (sizes[f] - 1) as u8 });
    // Rule 0 (nhs_number): 50 pairs agreeing on everything. Rule 1 (dob): 100 such pairs among
    // 10,000 that agree on the date of birth only.
    let mut counts = HashMap::new();
    counts.insert((exact.clone(), 1u64), 50u64);
    counts.insert((exact, 2u64), 100u64);
    counts.insert((only_dob, 2u64), 10_000u64);
    let patterns = Patterns::from_counts(sizes.len(), counts);
    let u: Vec<Vec<f64>> = sizes
        .iter()
        .map(|n| {
            let mut l = vec![0.001; *n];
            l[n - 1] = 1.0 - 0.001 * (*n - 1) as f64;
            l
        })
        .collect();
    let run = |max_matches: f64| {
        train::train(
            &schema,
            &comparator,
            &patterns,
            &u,
            1_000_000,
            max_matches,
            |_| 0.01,
        )
    };
    let used = |t: &train::Trained| -> Vec<bool> { t.sessions.iter().map(|s| s.used).collect() };
    let everything = run(f64::INFINITY);
    assert_eq!(used(&everything), vec![true, true, true]);
    // The dob session finds about 100 matches: more than 75 is implausible, so it is left out.
    let guarded = run(75.0);
    assert_eq!(used(&guarded), vec![true, false, true]);
    assert!(guarded.sessions[1].fields_estimated.is_empty());
    assert!((guarded.sessions[1].lambda * 10_100.0 - 100.0).abs() < 5.0);
    assert!(guarded.fit.lambda * 1e6 < 60.0, "{}", guarded.fit.lambda);
    // When no session is plausible, all are used rather than none.
    let none = run(1.0);
    assert_eq!(used(&none), vec![true, true, true]);
    assert_eq!(none.fit, everything.fit);
}

/// The example schema with a record-level filter of the three names (compared in two Dice bands)
/// instead of their field-level filters, as `benches/hardening.sh`'s `record` variant.
fn record_filter_schema() -> Schema {
    let mut schema = Schema::example();
    for f in schema
        .fields
        .iter_mut()
        .filter(|f| f.name.ends_with("_name"))
    {
        if let Some(c) = f.compare.as_mut() {
            c.dice.clear();
        }
    }
    let json = r#"{ "bits": 1024, "q": 2,
        "fields": [ { "field": "first_name", "hashes": 10 }, { "field": "middle_name", "hashes": 6 },
                    { "field": "last_name", "hashes": 10 } ],
        "compare": { "dice": [0.9, 0.7] } }"#;
    schema.record_bloom = Some(serde_json::from_str(json).unwrap());
    schema
}

#[test]
fn the_record_level_filter_is_compared_in_its_dice_bands() {
    let schema = record_filter_schema();
    let cmp = Comparator::new(&schema, false).unwrap();
    let record = cmp.fields().iter().find(|f| f.name == "record").unwrap();
    assert_eq!(record.levels.len(), 3, "two Dice bands and else");
    let names = ["first_name", "middle_name", "last_name"];
    assert_eq!(
        record.sources,
        names
            .iter()
            .map(|n| schema.field_index(n).unwrap())
            .collect::<Vec<_>>()
    );
    let same = levels_of(&schema, row("a", BASE), row("b", BASE), false);
    assert_eq!(level(&same, "record"), "dice>=0.9");
    let mut typo = BASE;
    typo[2] = "Smyth";
    let close = levels_of(&schema, row("a", BASE), row("b", typo), false);
    assert_ne!(level(&close, "record"), "dice>=0.9");
    let mut other = BASE;
    other[0] = "Zebedee";
    other[2] = "Okonkwo-Baptiste";
    let far = levels_of(&schema, row("a", BASE), row("b", other), false);
    assert_eq!(level(&far, "record"), "else");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn with_a_record_level_filter_the_blocked_linker_equals_the_oracle(seed in any::<u64>(), nl in 1usize..12, nr in 1usize..12) {
        let mut schema = record_filter_schema();
        schema.blocking = covering_schema().blocking;
        schema.link.u_sample_pairs = 10_000;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let left = random_rows(&mut rng, "a", nl, Some("F"));
        let right = random_rows(&mut rng, "b", nr, Some("F"));
        check_against_oracle(&schema, pool_of(&schema, &[left, right], false), false, true);
    }
}

#[test]
fn salted_fields_carry_no_weight_when_the_salts_differ() {
    // Same names, dates of birth a month apart: the names are salted with the year and month of
    // birth, so their tokens differ. Without the gate they would count as strong disagreement.
    let schema = covering_schema();
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let mut left = random_rows(&mut rng, "a", 40, Some("F"));
    let mut right = random_rows(&mut rng, "b", 40, Some("F"));
    let mut a = BASE;
    a[3] = "1990-01-02";
    let mut b = BASE;
    b[3] = "1990-02-02";
    left.push(row("x", a));
    right.push(row("y", b));
    let pool = pool_of(&schema, &[left, right], false);
    let linkage = link_pool(&schema, pool, false, options(), None, None).unwrap();
    let e = linkage.explain("x", "y").unwrap();
    for name in ["first_name", "last_name"] {
        let c = e.fields.iter().find(|c| c.field == name).unwrap();
        assert_eq!(c.level, "salts differ", "{name}");
        assert_eq!((c.m, c.u, c.weight), (None, None, 0.0), "{name}");
    }
    let text = e.to_string();
    assert!(text.contains("not compared: salts differ"), "{text}");
    // The model records the salt of each gated field, and not of the others.
    let salt_of = |f: &str| {
        linkage
            .model
            .fields
            .iter()
            .find(|m| m.field == f)
            .unwrap()
            .salt
            .clone()
    };
    assert_eq!(
        salt_of("first_name").as_deref(),
        Some("date_of_birth.year_month")
    );
    assert_eq!(salt_of("address_line_1"), None);
    let samples = &linkage.model.training.equal_salt_samples;
    assert_eq!(samples.len(), 1);
    assert_eq!(samples[0].salt, "date_of_birth.year_month");
    assert!(samples[0].sampled_pairs > 0 && samples[0].possible_pairs >= samples[0].sampled_pairs);
    assert!(linkage.model.training.salted_u_corrections >= 1);
    // Fields compared within a salt are not term-frequency adjusted.
    let first = linkage
        .model
        .fields
        .iter()
        .find(|m| m.field == "first_name")
        .unwrap();
    assert!(!first.term_frequency);
}

#[test]
fn u_of_a_salted_field_is_taken_among_pairs_with_equal_salts() {
    // Two first names, half each, on two months of birth: among random pairs with equal months the
    // exact name agrees half of the time; among all random pairs (different salts never agree) a
    // quarter of the time. The gated u must be the former.
    let schema = Schema::example();
    let mut left = Vec::new();
    let mut right = Vec::new();
    for i in 0..40 {
        let mut v = BASE;
        v[0] = if i % 2 == 0 { "Anna" } else { "Zebedee" };
        v[3] = if (i / 2) % 2 == 0 {
            "1990-01-02"
        } else {
            "1991-07-09"
        };
        left.push(row(&format!("a{i}"), v));
        right.push(row(&format!("b{i}"), v));
    }
    let pool = pool_of(&schema, &[left, right], false);
    let cmp = Comparator::new(&schema, false).unwrap();
    let u = sample::estimate_u(&pool, &cmp, 1_000_000, 3, None).unwrap();
    assert_eq!(u.pairs, 1600, "every pair");
    assert_eq!(u.salts.len(), 1);
    assert_eq!(u.salts[0].sampled_pairs, 800, "every pair with equal salts");
    assert_eq!(u.salts[0].possible_pairs, 800);
    let first = cmp
        .fields()
        .iter()
        .position(|f| f.name == "first_name")
        .unwrap();
    // 400 of the 800 equal-salt pairs agree exactly (with the pseudo-counts).
    let levels = cmp.fields()[first].levels.len() as f64;
    let want = (400.0 + 0.5) / (800.0 + 0.5 * levels);
    assert!(
        (u.u[first][0] - want).abs() < 1e-12,
        "{} vs {want}",
        u.u[first][0]
    );
    // Unsalted fields keep the u of all random pairs: the address agrees on every pair.
    let address = cmp
        .fields()
        .iter()
        .position(|f| f.name == "address_line_1")
        .unwrap();
    let levels = cmp.fields()[address].levels.len() as f64;
    assert!((u.u[address][0] - 1600.5 / (1600.0 + 0.5 * levels)).abs() < 1e-12);
    // Dedupe: the same rule within one source.
    let rows: Vec<Row> = (0..6)
        .map(|i| {
            let mut v = BASE;
            v[3] = if i < 3 { "1990-01-02" } else { "1991-07-09" };
            row(&format!("d{i}"), v)
        })
        .collect();
    let pool = pool_of(&schema, &[rows], false);
    let u = sample::estimate_u(&pool, &cmp, 1_000_000, 3, None).unwrap();
    assert_eq!((u.pairs, u.salts[0].sampled_pairs), (15, 6));
}

#[test]
fn fields_compared_within_a_salt_are_not_term_frequency_adjusted() {
    // Ten Smiths and one Quinlan on each side, all born in one month.
    let mut left = Vec::new();
    let mut right = Vec::new();
    for i in 0..10 {
        let mut v = BASE;
        v[3] = "1990-01-02";
        left.push(row(&format!("a{i}"), v));
        right.push(row(&format!("b{i}"), v));
    }
    let mut q = BASE;
    q[2] = "Quinlan";
    q[3] = "1990-01-02";
    left.push(row("aq", q));
    right.push(row("bq", q));
    let salted = covering_schema();
    let pool = pool_of(&salted, &[left, right], false);
    let linkage = link_pool(&salted, pool, false, options(), None, None).unwrap();
    let c = linkage.explain("a0", "b0").unwrap();
    let c = c.fields.iter().find(|c| c.field == "last_name").unwrap();
    assert_eq!(c.level, "exact");
    assert!(!c.term_frequency_adjusted);
    let model = linkage
        .model
        .fields
        .iter()
        .find(|m| m.field == "last_name")
        .unwrap();
    assert_eq!(c.u, Some(model.levels[0].u), "the u of exact agreement");
    // In cleartext mode the names are not gated, and keep their adjustment.
    let comparator = Comparator::new(&salted, true).unwrap();
    let last = comparator
        .fields()
        .iter()
        .find(|f| f.name == "last_name")
        .unwrap();
    assert!(last.term_frequency && last.salt.is_none());
}

#[test]
fn u_of_salted_fields_is_corrected_for_the_matches_among_equal_salts() {
    let schema = Schema::example();
    let comparator = Comparator::new(&schema, false).unwrap();
    let sizes: Vec<usize> = comparator.fields().iter().map(|f| f.levels.len()).collect();
    let first = 0;
    assert_eq!(comparator.fields()[first].name, "first_name");
    let dob = comparator
        .fields()
        .iter()
        .position(|f| f.name == "date_of_birth")
        .unwrap();
    // Sampled u: exact first name in 10% of pairs with equal months, else in 90%.
    let mut u: Vec<Vec<f64>> = sizes.iter().map(|n| vec![1.0 / *n as f64; *n]).collect();
    let floor = super::em::P_MIN;
    u[first] = vec![floor; sizes[first]];
    u[first][0] = 0.1;
    *u[first].last_mut().unwrap() = 0.9 - floor * (sizes[first] - 2) as f64;
    // m: matches agree exactly on the first name 80% of the time, and on the date of birth
    // (so on the month) always.
    let mut m = u.clone();
    m[first] = vec![0.0; sizes[first]];
    m[first][0] = 0.8;
    *m[first].last_mut().unwrap() = 0.2;
    m[dob] = vec![0.0; sizes[dob]];
    m[dob][0] = 1.0;
    let slot = comparator.fields()[first].salt_slot().unwrap();
    let sampled = sample::USample {
        u: u.clone(),
        pairs: 1000,
        salts: vec![sample::SaltSample {
            slot,
            salt: "date_of_birth.year_month".into(),
            possible_pairs: 10_000,
            sampled_pairs: 1000,
            match_share: 0.0,
        }],
    };
    // 1,000 matches among 10,000 pairs with equal months: π = 0.1, so
    // u(exact) = (0.1 - 0.1 * 0.8) / 0.9 and u(else) = (0.9 - 0.1 * 0.2) / 0.9.
    let got = sample::corrected_for_matches(&sampled, &schema, &comparator, &m, 1000.0);
    assert!((got.salts[0].match_share - 0.1).abs() < 1e-9);
    let raw: Vec<f64> = u[first]
        .iter()
        .zip(&m[first])
        .map(|(x, y)| ((x - 0.1 * y) / 0.9).max(floor))
        .collect();
    let sum: f64 = raw.iter().sum();
    for (g, r) in got.u[first].iter().zip(&raw) {
        let want = super::em::clamp_probability(r / sum);
        assert!((g - want).abs() < 1e-12, "{g} vs {want}");
    }
    assert!((got.u[first][0] - 0.02 / 0.9 / sum).abs() < 1e-12);
    // Unsalted fields keep their u.
    assert_eq!(got.u[dob], u[dob]);
    // No match: nothing changes.
    let none = sample::corrected_for_matches(&sampled, &schema, &comparator, &m, 0.0);
    for (g, w) in none.u[first].iter().zip(&u[first]) {
        assert!((g - w).abs() < 1e-12);
    }
}

#[test]
fn a_record_level_filter_of_fields_with_one_salt_is_gated_on_it() {
    let schema = record_filter_schema();
    let cmp = Comparator::new(&schema, false).unwrap();
    let record = cmp.fields().iter().find(|f| f.name == "record").unwrap();
    assert_eq!(record.salt.as_deref(), Some("date_of_birth.year_month"));
    let mut other_month = BASE;
    other_month[3] = "2014-04-09";
    let l = levels_of(&schema, row("a", BASE), row("b", other_month), false);
    assert_eq!(level(&l, "record"), "salts differ");
    // With an unsalted field in the filter, the filter is compared whatever the salts.
    let mut mixed = record_filter_schema();
    mixed.fields[1].salt = None;
    let cmp = Comparator::new(&mixed, false).unwrap();
    let record = cmp.fields().iter().find(|f| f.name == "record").unwrap();
    assert_eq!(record.salt, None);
    let l = levels_of(&mixed, row("a", BASE), row("b", other_month), false);
    assert_ne!(level(&l, "record"), "salts differ");
}

#[test]
fn models_of_format_version_1_are_refused_with_the_reason() {
    let schema = covering_schema();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let left = random_rows(&mut rng, "a", 20, Some("F"));
    let right = random_rows(&mut rng, "b", 20, Some("F"));
    let pool = pool_of(&schema, &[left, right], false);
    let linkage = link_pool(&schema, pool, false, options(), None, None).unwrap();
    let mut old: serde_json::Value = serde_json::from_str(&linkage.model.to_json()).unwrap();
    old["format_version"] = serde_json::json!(1);
    let err = model::Model::from_json(&old.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("version 1")
            && err.contains("salted fields")
            && err.contains("train a new model"),
        "{err}"
    );
    // A model whose salts do not match the comparison is refused too.
    let mut other = linkage.model.clone();
    other.fields[0].salt = None;
    let comparator = Comparator::new(&schema, false).unwrap();
    assert!(other.check_fits(&schema, &comparator).is_err());
    assert!(linkage.model.check_fits(&schema, &comparator).is_ok());
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn large_blocks_cut_into_slices_give_the_same_pairs(seed in any::<u64>(), nl in 1usize..30, nr in 1usize..30, task in 1u64..40) {
        let mut schema = Schema::example();
        schema.blocking.insert(1, BlockingRule { name: "sex".into(), keys: vec!["sex".into()] });
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let left = random_rows(&mut rng, "a", nl, None);
        let right = random_rows(&mut rng, "b", nr, None);
        let pool = pool_of(&schema, &[left, right], false);
        let whole = block::candidate_pairs(&schema, &pool, None).unwrap();
        let cut = block::candidate_pairs_in_tasks_of(&schema, &pool, None, task).unwrap();
        prop_assert!(cut.plan.tasks().len() >= whole.plan.tasks().len());
        let (a, b) = (enumerated(&whole, &pool), enumerated(&cut, &pool));
        prop_assert_eq!(&a, &b);
        // Each pair once, and exactly the pairs that share a block.
        let mut sorted = a.clone();
        sorted.sort_unstable();
        sorted.dedup();
        prop_assert_eq!(sorted.len(), a.len());
        let want: Vec<u64> = reference::all_pairs(&pool)
            .into_iter()
            .filter(|(x, y)| reference::shares_block(&schema, &pool, *x, *y))
            .map(|(x, y)| pack_pair(x, y))
            .collect();
        prop_assert_eq!(sorted, want);
    }
}

#[test]
fn a_pair_in_a_skipped_block_of_one_rule_is_formed_by_the_next() {
    // Rule "sex" (all records: one block, too large) and rule "dob" (small blocks): the pairs
    // sharing a date of birth are candidates of "dob", each once, and the others are not.
    let mut schema = Schema::example();
    schema.blocking = vec![
        BlockingRule {
            name: "sex".into(),
            keys: vec!["sex".into()],
        },
        BlockingRule {
            name: "dob".into(),
            keys: vec!["date_of_birth".into()],
        },
    ];
    schema.link.max_block_size = 4;
    schema.link.u_sample_pairs = 1000;
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let left = random_rows(&mut rng, "a", 6, Some("F"));
    let right = random_rows(&mut rng, "b", 6, Some("F"));
    let pool = pool_of(&schema, &[left.clone(), right.clone()], false);
    let b = block::candidate_pairs(&schema, &pool, None).unwrap();
    assert_eq!(b.rules[0].skipped_blocks, 1);
    let layout = crate::encode::Layout::new(&schema);
    let dob = layout.blocks[1];
    let mut want: Vec<u64> = reference::all_pairs(&pool)
        .into_iter()
        .filter(|(x, y)| {
            let (tx, ty) = (pool.record(*x).tokens[dob], pool.record(*y).tokens[dob]);
            tx.is_some() && tx == ty
        })
        .map(|(x, y)| pack_pair(x, y))
        .collect();
    want.sort_unstable();
    let mut got = enumerated(&b, &pool);
    got.sort_unstable();
    assert_eq!(got, want);
    assert!(!want.is_empty());
    // The run agrees, and explain says which pairs were candidates.
    let linkage = link_pool(&schema, pool, false, options(), None, None).unwrap();
    assert_eq!(linkage.blocking.candidate_pairs, want.len() as u64);
    assert_eq!(linkage.blocking.rules[0].new_pairs, 0);
    assert_eq!(linkage.blocking.rules[1].new_pairs, want.len() as u64);
    for (x, y) in reference::all_pairs(&linkage.pool) {
        let e = linkage
            .explain(&linkage.pool.record(x).id, &linkage.pool.record(y).id)
            .unwrap();
        assert_eq!(e.candidate, want.binary_search(&pack_pair(x, y)).is_ok());
    }
}
