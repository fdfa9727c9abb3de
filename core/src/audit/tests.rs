//! The red team against synthetic extracts whose truth is known: planted leaks must be found
//! (the audit fails), the old default of encoding v2 fails, and the default of encoding v3 is
//! measured as it is.

use rand::{Rng, SeedableRng};

use super::score::Family;
use super::*;
use crate::encode::pair_stats::{household_of, FeatureValues, Features, PairStats};
use crate::encode::Encoder;
use crate::normalise::date::Date;
use crate::Secret;
use pseudolink_synth::{generate, SynthConfig, SynthRecord};

/// The raw values of a record in schema field order.
fn raw_values<'r>(schema: &Schema, r: &'r SynthRecord) -> Vec<&'r str> {
    let all = [
        ("first_name", r.first_name.as_str()),
        ("middle_name", &r.middle_name),
        ("last_name", &r.last_name),
        ("date_of_birth", &r.date_of_birth),
        ("sex", &r.sex),
        ("postcode", &r.postcode),
        ("address_line_1", &r.address_line_1),
        ("nhs_number", &r.nhs_number),
    ];
    schema
        .fields
        .iter()
        .map(|f| {
            all.iter()
                .find(|(c, _)| *c == f.column())
                .map_or("", |x| x.1)
        })
        .collect()
}

/// The pair statistics the manifest of `records` encoded under `schema` would bring.
fn stats_of(schema: &Schema, records: &[SynthRecord]) -> PairStats {
    let secret = Secret::from_bytes(&[42u8; 32]).unwrap();
    let encoder = Encoder::with_today(schema, &secret, Date::new(2026, 1, 1).unwrap());
    let mut scratch = encoder.scratch();
    let features = Features::new(schema);
    let household = schema.household_keys();
    let sampled: Vec<(String, Option<u64>, FeatureValues)> = records
        .iter()
        .map(|r| {
            let raw = raw_values(schema, r);
            let record = encoder
                .encode_fields(&r.record_id, |i| raw.get(i).copied(), &mut scratch)
                .0;
            let normalised: Vec<Option<crate::encode::Value>> = (0..schema.fields.len())
                .map(|i| encoder.normaliser(i).unwrap().normalise(raw[i]).ok())
                .collect();
            let mut f = features.values(&normalised);
            f.blooms = record.blooms.clone();
            (
                r.record_id.clone(),
                household_of(&household, &normalised),
                f,
            )
        })
        .collect();
    PairStats::of_records(
        schema,
        encoder.sample_key(),
        sampled
            .iter()
            .map(|(id, h, f)| (id.as_str(), *h, f.clone())),
    )
}

/// Encodes `records` under `schema` (a fixed secret) with their truth.
fn encode(schema: &Schema, records: &[SynthRecord]) -> (EncodedExtract, Cleartext) {
    let secret = Secret::from_bytes(&[42u8; 32]).unwrap();
    let encoder = Encoder::with_today(schema, &secret, Date::new(2026, 1, 1).unwrap());
    let mut scratch = encoder.scratch();
    let rows: Vec<Vec<&str>> = records.iter().map(|r| raw_values(schema, r)).collect();
    let encoded = records
        .iter()
        .zip(&rows)
        .map(|(r, v)| {
            encoder
                .encode_fields(&r.record_id, |i| v.get(i).copied(), &mut scratch)
                .0
        })
        .collect();
    let truth = Cleartext::from_rows(
        schema,
        records
            .iter()
            .zip(rows.iter().cloned())
            .map(|(r, v)| (r.record_id.as_str(), v)),
        "truth",
    );
    let extract = EncodedExtract {
        path: PathBuf::from("agency_a.encoded.csv"),
        manifest: None,
        records: encoded,
        warnings: Vec::new(),
    };
    (extract, truth)
}

/// Agency A of a synthetic population.
fn agency_a(people: usize, seed: u64) -> Vec<SynthRecord> {
    let mut data = generate(&SynthConfig {
        people,
        seed,
        ..SynthConfig::default()
    })
    .unwrap();
    data.extracts.swap_remove(0).1
}

fn reference_of(schema: &Schema, records: &[SynthRecord]) -> Reference {
    Reference {
        table: Cleartext::from_rows(
            schema,
            records
                .iter()
                .map(|r| (r.record_id.as_str(), raw_values(schema, r))),
            "test reference",
        ),
    }
}

/// People with first names drawn from 20 names with Zipf weights (the r-th has weight 1/r) and
/// dates of birth from 1950 to 2020: the setting frequency attacks are made for.
fn zipf_people(n: usize, seed: u64) -> Vec<SynthRecord> {
    const NAMES: [&str; 20] = [
        "oliver", "amelia", "george", "isla", "harry", "ava", "noah", "mia", "jack", "ivy", "leo",
        "lily", "arthur", "isabella", "muhammad", "rosie", "oscar", "sophia", "charlie", "grace",
    ];
    let total: f64 = (1..=NAMES.len()).map(|r| 1.0 / r as f64).sum();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let mut pick = rng.gen::<f64>() * total;
            let mut name = NAMES[0];
            for (r, n) in NAMES.iter().enumerate() {
                pick -= 1.0 / (r + 1) as f64;
                if pick <= 0.0 {
                    name = n;
                    break;
                }
            }
            SynthRecord {
                record_id: format!("R{seed}-{i}"),
                first_name: name.to_string(),
                middle_name: String::new(),
                last_name: String::new(),
                date_of_birth: format!(
                    "{}-{:02}-{:02}",
                    rng.gen_range(1950..2021),
                    rng.gen_range(1..13),
                    rng.gen_range(1..29)
                ),
                sex: String::new(),
                postcode: String::new(),
                address_line_1: String::new(),
                nhs_number: String::new(),
            }
        })
        .collect()
}

fn schema(json: &str) -> Schema {
    Schema::from_json(json).unwrap()
}

fn run(
    schema: &Schema,
    records: &[SynthRecord],
    reference: &Reference,
    dictionaries: &[Dictionary],
    known: Known,
) -> AuditReport {
    let (extract, truth) = encode(schema, records);
    let stats = stats_of(schema, records);
    let options = AuditOptions {
        known,
        ..AuditOptions::default()
    };
    audit_with_stats(
        schema,
        &[&extract],
        &[Some(&stats)],
        &truth,
        reference,
        dictionaries,
        &options,
    )
}

fn beyond(report: &AuditReport, attribute: &str, family: Family, k: Option<usize>) -> f64 {
    report
        .result(attribute, family, k)
        .unwrap_or_else(|| {
            panic!(
                "no {family:?} on {attribute} (k {k:?}):\n{}",
                report.render()
            )
        })
        .beyond_blind
}

/// The strongest attack on `attribute` that uses no known record.
fn strongest_unknowing(report: &AuditReport, attribute: &str) -> f64 {
    report.attribute(attribute).map_or(0.0, |a| {
        a.results
            .iter()
            .filter(|m| m.k.is_none())
            .map(|m| m.beyond_blind)
            .fold(0.0, f64::max)
    })
}

#[test]
fn an_unsalted_name_token_is_found() {
    let s = schema(
        r#"{ "version": 1, "record_id": "record_id", "fields": [
            { "name": "first_name", "kind": "name" },
            { "name": "date_of_birth", "kind": "date" } ] }"#,
    );
    let reference = reference_of(&s, &zipf_people(20_000, 2));
    let report = run(&s, &zipf_people(3000, 1), &reference, &[], Known::Nothing);
    let found = beyond(&report, "first_name", Family::FrequencyAlignment, None);
    assert!(found > 0.3, "{found}\n{}", report.render());
    assert!(!report.verdict.pass);
    assert!(report.render().contains("verdict: FAIL"));
    // Salted with the whole date of birth, the same names are no longer recovered.
    let salted = schema(
        r#"{ "version": 1, "record_id": "record_id", "fields": [
            { "name": "first_name", "kind": "name", "salt": "date_of_birth" },
            { "name": "date_of_birth", "kind": "date" } ] }"#,
    );
    let reference = reference_of(&salted, &zipf_people(20_000, 2));
    let report = run(
        &salted,
        &zipf_people(3000, 1),
        &reference,
        &[],
        Known::Nothing,
    );
    let strongest = report
        .attribute("first_name")
        .unwrap()
        .strongest
        .clone()
        .unwrap();
    assert!(strongest.beyond_blind < 0.01, "{}", report.render());
}

/// First names salted by year and month of birth, with (or without) the unsalted blocking
/// token of first name and year that `block.first_name_year` is today.
fn bridged_schema(with_block: bool) -> Schema {
    let blocking = if with_block {
        r#"[ { "name": "first_name_year", "keys": ["first_name", "date_of_birth.year"] } ]"#
    } else {
        "[]"
    };
    schema(&format!(
        r#"{{ "version": 1, "record_id": "record_id", "fields": [
            {{ "name": "first_name", "kind": "name", "salt": "date_of_birth.year_month",
               "levels": ["initial"] }},
            {{ "name": "date_of_birth", "kind": "date", "token": false,
               "levels": ["year_month", "year"] }} ],
          "blocking": {blocking} }}"#
    ))
}

#[test]
fn an_unsalted_blocking_token_bridging_a_salted_name_is_found() {
    let people = zipf_people(4000, 3);
    let mut results = Vec::new();
    for with_block in [false, true] {
        let s = bridged_schema(with_block);
        let reference = reference_of(&s, &zipf_people(20_000, 4));
        let report = run(&s, &people, &reference, &[], Known::Random(vec![300]));
        let bridged = strongest_unknowing(&report, "first_name");
        let known = beyond(&report, "first_name", Family::KnownBridged, Some(300));
        results.push((bridged, known, report));
    }
    let (without, with) = (&results[0], &results[1]);
    // The blocking token is a bridge for the first name and its initial.
    assert!(with
        .2
        .attribute("first_name")
        .unwrap()
        .results
        .iter()
        .any(|m| m.family == Family::BridgedAlignment
            && m.columns
                .contains(&"first_name+date_of_birth.year".to_string())));
    // It turns month-of-birth classes into year-of-birth classes: far more is recovered.
    assert!(with.0 > 0.1, "bridged {}\n{}", with.0, with.2.render());
    assert!(with.1 > 0.05, "known {}\n{}", with.1, with.2.render());
    assert!(
        with.0 > 2.0 * without.0 + 0.02,
        "{} vs {}",
        with.0,
        without.0
    );
    assert!(with.1 > 2.0 * without.1, "{} vs {}", with.1, without.1);
    assert!(!with.2.verdict.pass);
}

#[test]
fn an_unsalted_address_filter_falls_to_known_plaintext() {
    let s = schema(
        r#"{ "version": 1, "record_id": "record_id", "fields": [
            { "name": "address_line_1", "kind": "text", "token": false,
              "bloom": { "bits": 1024, "q": 2, "hashes": 10 } },
            { "name": "date_of_birth", "kind": "date" } ] }"#,
    );
    let people = agency_a(3000, 21);
    // The register: every address of the city (the clean population).
    let data = generate(&SynthConfig {
        people: 3000,
        seed: 21,
        coverage: 1.0,
        error_rate: 0.0,
        ..SynthConfig::default()
    })
    .unwrap();
    let normaliser = &cleartext::normalisers(&s)[0];
    let mut values: Vec<crate::encode::Value> = data.extracts[0]
        .1
        .iter()
        .filter_map(|r| normaliser.normalise(&r.address_line_1).ok())
        .collect();
    values.sort_by(|a, b| a.canonical().cmp(&b.canonical()));
    values.dedup();
    let register = Dictionary {
        field: 0,
        values,
        source: "register".into(),
    };
    let reference = reference_of(&s, &agency_a(3000, 22));
    let report = run(
        &s,
        &people,
        &reference,
        &[register],
        Known::Random(vec![1000]),
    );
    let found = beyond(
        &report,
        "address_line_1",
        Family::KnownFilterLookup,
        Some(1000),
    );
    assert!(found > 0.5, "{found}\n{}", report.render());
    let m = report
        .result("address_line_1", Family::KnownFilterLookup, Some(1000))
        .unwrap();
    assert!(m.precision > 0.95, "{}", report.render());
    assert!(!report.verdict.pass);
}

/// The default schema of encoding v3 with one more token (a planted leak).
fn default_with_token(keys: &[&str]) -> Schema {
    let mut value: serde_json::Value = serde_json::from_str(Schema::example_json()).unwrap();
    value["tokens"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!(keys));
    Schema::from_json(&value.to_string()).unwrap()
}

/// Whether the verdict names `attribute` among its failures.
fn fails_on(report: &AuditReport, attribute: &str) -> bool {
    report
        .verdict
        .failures
        .iter()
        .any(|f| f.starts_with(&format!("{attribute} ")))
}

/// Audits agency A of 3,000 people against a reference of 10,000 others, with 500 known.
fn suite(s: &Schema) -> AuditReport {
    let people = agency_a(3000, 11);
    let reference = reference_of(s, &agency_a(10_000, 99));
    run(s, &people, &reference, &[], Known::Random(vec![500]))
}

#[test]
fn a_token_on_the_first_name_alone_fails_the_audit() {
    let report = suite(&default_with_token(&["first_name"]));
    assert!(!report.verdict.pass, "{}", report.render());
    assert!(
        fails_on(&report, "first_name"),
        "{:?}",
        report.verdict.failures
    );
    // Alone, the token shows every first name's frequency (the tail of this population's names
    // is long, so the whole-file alignment gets little beyond a blind guess)...
    let found = beyond(&report, "first_name", Family::FrequencyAlignment, None);
    assert!(found > 0.005, "{found}\n{}", report.render());
    // ... and one known record gives away the first name of everyone of that name.
    let known = beyond(&report, "first_name", Family::KnownBridged, Some(500));
    assert!(known > 0.3, "{known}\n{}", report.render());
    assert!(report.render().contains("verdict: FAIL"));
}

#[test]
fn an_unsalted_soundex_token_fails_the_audit() {
    let report = suite(&default_with_token(&["last_name.soundex"]));
    assert!(!report.verdict.pass, "{}", report.render());
    assert!(
        fails_on(&report, "last_name.soundex"),
        "{:?}",
        report.verdict.failures
    );
    let found = beyond(
        &report,
        "last_name.soundex",
        Family::FrequencyAlignment,
        None,
    );
    assert!(found > 0.03, "{found}\n{}", report.render());
    let known = beyond(
        &report,
        "last_name.soundex",
        Family::KnownBridged,
        Some(500),
    );
    assert!(known > 0.3, "{known}\n{}", report.render());
}

#[test]
fn an_unsalted_postcode_token_fails_the_audit() {
    let report = suite(&default_with_token(&["postcode"]));
    assert!(!report.verdict.pass, "{}", report.render());
    assert!(
        fails_on(&report, "postcode"),
        "{:?}",
        report.verdict.failures
    );
    // An insider's known records name every record of their postcode.
    let known = beyond(&report, "postcode", Family::KnownBridged, Some(500));
    assert!(known > 0.01, "{known}\n{}", report.render());
}

#[test]
fn the_old_default_schema_fails() {
    let report = suite(&Schema::example_v1());
    assert!(!report.verdict.pass, "{}", report.render());
    // Names bridged across months of birth by the unsalted blocking tokens.
    assert!(
        fails_on(&report, "first_name.initial"),
        "{:?}",
        report.verdict.failures
    );
}

#[test]
fn the_default_schema_passes_with_a_fourteenth_of_the_file_known() {
    // Issue 16's criterion is 1,000 known records of a city extract (14,310 to 151,114 records:
    // 7% or less). Here 150 of about 2,100 records (7%): every attack, every value, within its
    // bound.
    let s = Schema::example();
    let people = agency_a(3000, 11);
    let reference = reference_of(&s, &agency_a(10_000, 99));
    let report = run(&s, &people, &reference, &[], Known::Random(vec![150]));
    assert!(report.verdict.pass, "{}", report.render());
}

#[test]
fn the_default_schema_is_measured_as_it_is() {
    // The truth at this scale: no attack without known records gets anything beyond its bound,
    // but 500 known records (a quarter of the file) give away the whole values of the records
    // bridged to them (same person, same household, same name and postcode...), above the 1%
    // bound: the default FAILS here. (At 20,000 and 150,000 people with 200 to 5,000 known,
    // docs/attacks.md.)
    let report = suite(&Schema::example());
    for a in &report.attributes {
        let unknowing = strongest_unknowing(&report, &a.attribute);
        assert!(
            unknowing <= a.bound,
            "{} {unknowing}\n{}",
            a.attribute,
            report.render()
        );
    }
    assert!(!report.verdict.pass, "{}", report.render());
    for f in &report.verdict.failures {
        assert!(f.contains("with 500 known records"), "{f}");
    }
    for failing in ["first_name", "last_name", "date_of_birth", "postcode"] {
        assert!(fails_on(&report, failing), "{:?}", report.verdict.failures);
        let known = beyond(&report, failing, Family::Combined, Some(500));
        assert!(known < 0.05, "{failing} {known}\n{}", report.render());
    }
    // Partial values stay within their bound even so.
    assert!(report
        .verdict
        .failures
        .iter()
        .all(|f| f.contains("(whole)")));
    // The pair statistics are attack surface: the attacker places the random sample by the
    // unkeyed hash of the ids, and finds agreements no token shows (sex, mostly), all true.
    let p = &report.pair_stats[0];
    assert_eq!(p.placed_records, p.random_records);
    assert!(p.skipped.is_none());
    assert_eq!(p.consistent_profiles, p.profiles, "{p:?}");
    assert!(p.revealed_pairs > 0, "{p:?}");
    assert!(p.truly_agree.unwrap() > 0.99, "{p:?}");
    assert!(p.revealed.iter().any(|(a, _)| a == "sex"), "{p:?}");
}
#[test]
fn the_report_is_deterministic_and_names_no_value() {
    let s = Schema::example();
    let people = agency_a(800, 5);
    let reference = reference_of(&s, &agency_a(3000, 6));
    let mut a = run(&s, &people, &reference, &[], Known::Random(vec![50, 100]));
    let mut b = run(&s, &people, &reference, &[], Known::Random(vec![100, 50]));
    for r in [&mut a, &mut b] {
        r.timings.clear();
        r.total_seconds = 0.0;
    }
    assert_eq!(a, b);
    let text = (a.render() + &a.to_json()).to_lowercase();
    for p in &people {
        for v in [&p.first_name, &p.last_name, &p.address_line_1] {
            let v = v.trim().to_lowercase();
            if v.len() >= 4 && !["road", "lane", "close", "street"].contains(&v.as_str()) {
                assert!(!text.contains(&format!(" {v} ")), "the report shows '{v}'");
            }
        }
    }
    assert_eq!(a.known.iter().map(|k| k.k).collect::<Vec<_>>(), [50, 100]);
}

#[test]
fn several_extracts_bridge_across_and_only_the_first_is_measured() {
    let s = bridged_schema(true);
    let people = zipf_people(2000, 7);
    let others = zipf_people(2000, 8);
    let reference = reference_of(&s, &zipf_people(10_000, 9));
    let (a, truth) = encode(&s, &people);
    let (b, _) = encode(&s, &others);
    let options = AuditOptions {
        known: Known::Nothing,
        ..AuditOptions::default()
    };
    let alone = audit(&s, &[&a], &truth, &reference, &[], &options);
    let both = audit(&s, &[&a, &b], &truth, &reference, &[], &options);
    assert_eq!(both.records, 4000);
    assert_eq!(both.audited, 2000);
    assert_eq!(alone.audited, 2000);
    let m = both.attribute("first_name").unwrap();
    assert_eq!(m.records, 2000);
}

#[test]
fn same_salt_pairs_are_found_where_no_column_shows_the_salt() {
    // First names salted by the date of birth, whose only column is its swapped token, which
    // days after the 12th do not have: no column shows the salt.
    let s = schema(
        r#"{ "version": 1, "record_id": "record_id", "fields": [
            { "name": "first_name", "kind": "name", "token": false,
              "salt": "date_of_birth",
              "bloom": { "bits": 512, "q": 2, "hashes": 15 } },
            { "name": "date_of_birth", "kind": "date", "token": false,
              "levels": ["swapped"] } ] }"#,
    );
    // Few dates of birth, so that similar names share a salt often enough.
    let mut people = zipf_people(3000, 12);
    for (i, p) in people.iter_mut().enumerate() {
        p.date_of_birth = format!("{}-{:02}-20", 2010 + i % 5, i % 6 + 1);
    }
    let reference = reference_of(&s, &zipf_people(5000, 13));
    let report = run(&s, &people, &reference, &[], Known::Nothing);
    let d = &report.salt_detection[0];
    assert!(!d.not_needed);
    assert!(d.pairs > 100, "{d:?}");
    assert!(d.truly_same_salt.unwrap() > 0.9, "{d:?}");
    assert!(d.bridges.contains(&"date_of_birth".to_string()), "{d:?}");
}
