//! The attack against weak and hardened encodings of synthetic extracts, where the truth is known.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::public::{NameKind, PublicNames};
use super::truth::Truth;
use super::{audit_extract, AuditOptions, AuditReport, DEFAULT_MAX_RISK};
use crate::encode::Encoder;
use crate::io::encoded::EncodedExtract;
use crate::normalise::date::Date;
use crate::schema::Schema;
use crate::synth::{generate, SynthConfig, SynthRecord};
use crate::Secret;

/// The attacker's list: an independent synthetic population (smaller than the built-in one, to
/// keep the tests fast).
fn names() -> &'static PublicNames {
    static NAMES: OnceLock<PublicNames> = OnceLock::new();
    NAMES.get_or_init(|| PublicNames::synthetic_of(20_000, 99).unwrap())
}

/// Encodes agency A of a synthetic population of `people` under `schema` and audits it with
/// the truth known.
fn audit(schema: &Schema, people: usize) -> AuditReport {
    let data = generate(&SynthConfig {
        people,
        seed: 5,
        ..SynthConfig::default()
    })
    .unwrap();
    audit_records(schema, &data.extracts[0].1, names())
}

/// A small population with a small, skewed set of first names: 20 names of the attacker's list
/// with Zipf weights (the r-th name has weight 1/r), which the attacker knows exactly; random
/// dates of birth from 1950 to 2020. The setting frequency attacks are made for.
fn small_population(people: usize) -> (Vec<SynthRecord>, PublicNames) {
    use rand::{Rng, SeedableRng};
    let mut list = PublicNames::default();
    let top: Vec<(String, u64)> = names()
        .ranked(NameKind::First, None, None)
        .into_iter()
        .take(20)
        .enumerate()
        .map(|(r, (name, _))| (name, 10_000 / (r as u64 + 1)))
        .collect();
    for (name, n) in &top {
        list.add(NameKind::First, "", name, *n);
    }
    let total: u64 = top.iter().map(|(_, n)| n).sum();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let records = (0..people)
        .map(|i| {
            let mut pick = rng.gen_range(0..total);
            let name = top
                .iter()
                .find(|(_, n)| {
                    if pick < *n {
                        true
                    } else {
                        pick -= n;
                        false
                    }
                })
                .map_or("", |(name, _)| name.as_str());
            SynthRecord {
                record_id: format!("R{i}"),
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
        .collect();
    (records, list)
}

/// Encodes `records` under `schema` and audits them with the truth known.
fn audit_records(schema: &Schema, records: &[SynthRecord], names: &PublicNames) -> AuditReport {
    let secret = Secret::from_bytes(&[42u8; 32]).unwrap();
    let encoder = Encoder::with_today(schema, &secret, Date::new(2026, 1, 1).unwrap());
    let mut scratch = encoder.scratch();
    let rows: Vec<Vec<&str>> = records
        .iter()
        .map(|r| {
            let all = [
                r.first_name.as_str(),
                &r.middle_name,
                &r.last_name,
                &r.date_of_birth,
                &r.sex,
                &r.postcode,
                &r.address_line_1,
                &r.nhs_number,
            ];
            let header = &crate::synth::RECORD_HEADER[1..];
            schema
                .fields
                .iter()
                .map(|f| {
                    header
                        .iter()
                        .position(|h| *h == f.column())
                        .map_or("", |i| all[i])
                })
                .collect()
        })
        .collect();
    let encoded = records
        .iter()
        .zip(&rows)
        .map(|(r, values)| {
            encoder
                .encode_fields(&r.record_id, |i| values.get(i).copied(), &mut scratch)
                .0
        })
        .collect();
    let truth = Truth::from_rows(
        schema,
        records
            .iter()
            .zip(rows.iter().cloned())
            .map(|(r, v)| (r.record_id.as_str(), v)),
    );
    assert_eq!(truth.len(), records.len());
    let extract = EncodedExtract {
        path: PathBuf::from("agency_a.encoded.csv"),
        manifest: None,
        records: encoded,
        warnings: Vec::new(),
    };
    let options = AuditOptions {
        names: names.clone(),
        max_risk: DEFAULT_MAX_RISK,
    };
    audit_extract(&extract, schema, Some(&truth), &options)
}

fn column<'r>(report: &'r AuditReport, name: &str) -> &'r super::AttackColumn {
    report
        .attacks
        .iter()
        .find(|a| a.column == name)
        .unwrap_or_else(|| panic!("no attack on {name}: {}", report.render()))
}

/// The deliberately weak configuration: an unhardened field-level filter of first names.
fn weak_schema() -> Schema {
    Schema::from_json(
        r#"{ "version": 1, "record_id": "record_id", "fields": [
            { "name": "first_name", "kind": "name", "token": false,
              "bloom": { "bits": 512, "q": 2, "hashes": 15 } },
            { "name": "date_of_birth", "kind": "date" } ] }"#,
    )
    .unwrap()
}

#[test]
fn the_attack_succeeds_on_an_unhardened_first_name_filter() {
    let (records, list) = small_population(3000);
    let report = audit_records(&weak_schema(), &records, &list);
    let a = column(&report, "first_name.bloom");
    let measured = a.measured_share.unwrap();
    assert!(measured > 0.3, "measured {measured}\n{}", report.render());
    assert!(!report.pass, "{}", report.render());
    // The estimate, made without the truth, also flags it.
    assert!(a.estimated_share > 0.1, "{}", report.render());
    assert!(report.render().contains("verdict: FAIL"));
    // The same population under the default schema: the attack fails.
    let report = audit_records(&Schema::example(), &records, &list);
    for name in ["first_name", "first_name.bloom"] {
        let a = column(&report, name);
        let m = a.measured_share.unwrap();
        assert!(m < DEFAULT_MAX_RISK, "{name}: {m}\n{}", report.render());
    }
    assert!(report.pass, "{}", report.render());
}

#[test]
fn the_attack_fails_on_the_default_schema() {
    let schema = Schema::example();
    let report = audit(&schema, 10_000);
    let mut full = 0;
    for a in report.attacks.iter().filter(|a| a.full_name) {
        full += 1;
        let m = a.measured_share.unwrap();
        assert!(
            m < DEFAULT_MAX_RISK,
            "{}: measured {m}\n{}",
            a.column,
            report.render()
        );
        assert!(a.estimated_share < DEFAULT_MAX_RISK, "{}", report.render());
    }
    assert_eq!(full, 6, "tokens and filters of three names");
    assert!(report.pass, "{}", report.render());
    assert!(report.render().contains("verdict: PASS"));
}

#[test]
fn salting_by_year_month_defeats_what_the_unsalted_default_allows() {
    // The same schema without salts (the encoding before hardening) fails the audit.
    let mut value: serde_json::Value = serde_json::from_str(Schema::example_json()).unwrap();
    for f in value["fields"].as_array_mut().unwrap() {
        if let Some(obj) = f.as_object_mut() {
            obj.remove("salt");
        }
    }
    let unsalted = Schema::from_json(&value.to_string()).unwrap();
    let report = audit(&unsalted, 10_000);
    assert!(!report.pass, "{}", report.render());
    let last = column(&report, "last_name").measured_share.unwrap();
    assert!(last > DEFAULT_MAX_RISK, "{}", report.render());
}

#[test]
fn the_report_is_deterministic_and_names_no_value() {
    let a = audit(&weak_schema(), 1500);
    let b = audit(&weak_schema(), 1500);
    assert_eq!(a, b);
    let text = a.render() + &a.to_json();
    for name in ["oliver", "smith", "jack", "amelia", "muhammad"] {
        assert!(
            !text.to_lowercase().contains(name),
            "the report shows '{name}'"
        );
    }
}
