use super::*;

fn example_value() -> serde_json::Value {
    serde_json::from_str(EXAMPLE_JSON).unwrap()
}

fn error_path(value: &serde_json::Value) -> String {
    match Schema::from_json(&value.to_string()) {
        Err(Error::Schema { path, .. }) => path,
        other => panic!("expected a schema error, got {other:?}"),
    }
}

#[test]
fn the_version_1_example_is_valid_and_translates() {
    let v1 = Schema::from_json(EXAMPLE_JSON).unwrap();
    let v2 = v1.to_v2().unwrap();
    assert_eq!(v2.version, crate::schema::SCHEMA_VERSION);
    // Salted names: their tokens hold the salt; blocking rules became tokens of their keys.
    let names: Vec<String> = v2.tokens.iter().map(|t| t.name()).collect();
    assert!(
        names.contains(&"first_name+date_of_birth.year_month".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"first_name+date_of_birth.year".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"nhs_number".to_string()));
    assert_eq!(v2.link.blocking.len(), v1.blocking.len());
    // Each compared field is a comparison with the same levels; filters keep their salt.
    let first = &v2.link.comparisons[0];
    assert_eq!(first.name, "first_name");
    let levels: Vec<&str> = first.levels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        levels,
        [
            "exact",
            "dice>=0.9",
            "dice>=0.75",
            "dice>=0.6",
            "jaro_winkler>=0.94",
            "jaro_winkler>=0.88",
            "jaro_winkler>=0.8",
            "crosswise"
        ]
    );
    assert_eq!(v2.filters[0].context, vec!["date_of_birth.year_month"]);
    // Training rules: the version 1 default left out postcode rules.
    let train = v2.link.training_rules.clone().unwrap();
    assert!(!train.iter().any(|r| r.contains("postcode")), "{train:?}");
    // And the translation is a valid schema of the current version.
    let again = crate::schema::Schema::from_json(&v2.to_json_pretty()).unwrap();
    assert_eq!(again.fingerprint(), v2.fingerprint());
    assert_eq!(crate::schema::Schema::example_v1(), v2);
}

#[test]
fn unknown_keys_are_refused_with_their_path() {
    let mut v = example_value();
    v["fields"][2]["bloom"]["colour"] = "red".into();
    assert_eq!(error_path(&v), "fields[2].bloom.colour");
    let mut v = example_value();
    v["surprise"] = 1.into();
    assert_eq!(error_path(&v), "surprise");
}

#[test]
fn wrong_types_are_refused_with_their_path() {
    let mut v = example_value();
    v["fields"][0]["bloom"]["bits"] = "many".into();
    assert_eq!(error_path(&v), "fields[0].bloom.bits");
    let mut v = example_value();
    v["fields"][3]["kind"] = "colour".into();
    assert_eq!(error_path(&v), "fields[3].kind");
}

type Edit = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn impossible_settings_are_refused_with_their_path() {
    let cases: Vec<(&str, Edit)> = vec![
        ("version", Box::new(|v| v["version"] = 3.into())),
        (
            "fields[0].bloom.bits",
            Box::new(|v| v["fields"][0]["bloom"]["bits"] = 100.into()),
        ),
        (
            "fields[0].bloom.q",
            Box::new(|v| v["fields"][0]["bloom"]["q"] = 0.into()),
        ),
        (
            "fields[3].levels[0]",
            Box::new(|v| v["fields"][3]["levels"][0] = "sector".into()),
        ),
        (
            "fields[0].compare.dice[1]",
            Box::new(|v| v["fields"][0]["compare"]["dice"][1] = 0.95.into()),
        ),
        (
            "fields[0].compare.dice[0]",
            Box::new(|v| v["fields"][0]["compare"]["dice"][0] = 1.5.into()),
        ),
        (
            "fields[0].compare.cross_with",
            Box::new(|v| v["fields"][0]["compare"]["cross_with"] = "postcode".into()),
        ),
        (
            "fields[1].name",
            Box::new(|v| v["fields"][1]["name"] = "first_name".into()),
        ),
        (
            "fields[1].name",
            Box::new(|v| v["fields"][1]["name"] = "Middle Name".into()),
        ),
        (
            "fields[3].compare.levels[0]",
            Box::new(|v| {
                v["fields"][3]["levels"] = serde_json::json!(["year"]);
                v["fields"][3]["compare"]["levels"] = serde_json::json!(["swapped"]);
            }),
        ),
        (
            "blocking[1].keys[0]",
            Box::new(|v| v["blocking"][1]["keys"][0] = "date_of_birth.sector".into()),
        ),
        (
            "blocking[1].name",
            Box::new(|v| v["blocking"][1]["name"] = "nhs_number".into()),
        ),
        (
            "fields[4].bloom",
            Box::new(|v| v["fields"][4]["bloom"] = serde_json::json!({"bits": 64, "hashes": 2})),
        ),
        (
            "fields[6].compare.dice",
            Box::new(|v| {
                v["fields"][6]["bloom"] = serde_json::Value::Null;
            }),
        ),
        (
            "fields[4]",
            Box::new(|v| {
                v["fields"][4]["token"] = false.into();
            }),
        ),
        (
            "fields[1].column",
            Box::new(|v| v["fields"][1]["column"] = "record_id".into()),
        ),
        (
            "link.max_block_size",
            Box::new(|v| v["link"]["max_block_size"] = 1.into()),
        ),
        (
            "fields[0].normalise.drop_titles",
            Box::new(|v| v["fields"][3]["normalise"]["drop_titles"] = true.into()),
        ),
    ];
    for (expected, mutate) in cases {
        let mut v = example_value();
        mutate(&mut v);
        let got = error_path(&v);
        // The drop_titles case reports the date field's path.
        let expected = if expected.ends_with("drop_titles") {
            "fields[3].normalise.drop_titles"
        } else {
            expected
        };
        assert_eq!(got, expected, "mutation for {expected}");
    }
}

#[test]
fn invalid_json_is_refused() {
    assert!(matches!(Schema::from_json("{"), Err(Error::Schema { .. })));
    assert!(matches!(Schema::from_json(""), Err(Error::Schema { .. })));
}

#[test]
fn parse_key_understands_levels() {
    let s = Schema::from_json(EXAMPLE_JSON).unwrap();
    let k = s.parse_key("date_of_birth.year").unwrap();
    assert_eq!(k.level, Some(Level::Year));
    assert_eq!(s.fields[k.field].name, "date_of_birth");
    assert!(s.parse_key("date_of_birth.sector").is_none());
    assert!(s.parse_key("nope").is_none());
}

#[test]
fn hardening_options_are_validated_with_their_paths() {
    let mut v = example_value();
    v["fields"][1]["salt"] = "date_of_birth.sector".into();
    assert_eq!(error_path(&v), "fields[1].salt");
    let mut v = example_value();
    v["fields"][1]["salt"] = "middle_name".into();
    assert_eq!(error_path(&v), "fields[1].salt");
    // Crosswise-compared fields must share their salt.
    let mut v = example_value();
    v["fields"][0]["salt"] = "date_of_birth.year".into();
    v["fields"][2]["salt"] = serde_json::Value::Null;
    assert_eq!(error_path(&v), "fields[0].compare.cross_with");
    // A salt field may not itself be salted.
    let mut v = example_value();
    v["fields"][3]["salt"] = "sex".into();
    assert_eq!(error_path(&v), "fields[0].salt");
    let mut v = example_value();
    v["fields"][6]["bloom"] = serde_json::json!({ "bits": 64, "hashes": 5, "xor_fold": true });
    assert_eq!(error_path(&v), "fields[6].bloom.xor_fold");
    let mut v = example_value();
    v["fields"][6]["bloom"]["balanced"] = "yes".into();
    assert_eq!(error_path(&v), "fields[6].bloom.balanced");
}

#[test]
fn record_bloom_is_validated_with_its_paths() {
    let good = serde_json::json!({
        "bits": 1024, "balanced": true,
        "fields": [ { "field": "first_name", "hashes": 10 }, { "field": "address_line_1", "hashes": 5 } ],
        "compare": { "dice": [0.9, 0.8] }
    });
    let mut v = example_value();
    v["record_bloom"] = good.clone();
    let s = Schema::from_json(&v.to_string()).unwrap();
    let v2 = s.to_v2().unwrap();
    assert_eq!(v2.filters.last().unwrap().name, "record");
    assert_eq!(v2.filters.last().unwrap().output_bits(), 2048);
    for (path, patch) in [
        ("record_bloom.bits", serde_json::json!({ "bits": 100 })),
        ("record_bloom.fields", serde_json::json!({ "fields": [] })),
        (
            "record_bloom.fields[0].field",
            serde_json::json!({ "fields": [ { "field": "nope", "hashes": 3 } ] }),
        ),
        (
            "record_bloom.fields[0].field",
            serde_json::json!({ "fields": [ { "field": "date_of_birth", "hashes": 3 } ] }),
        ),
        (
            "record_bloom.fields[1].field",
            serde_json::json!({ "fields": [ { "field": "last_name", "hashes": 3 }, { "field": "last_name", "hashes": 3 } ] }),
        ),
        (
            "record_bloom.fields[0].hashes",
            serde_json::json!({ "fields": [ { "field": "last_name", "hashes": 0 } ] }),
        ),
        (
            "record_bloom.compare.dice[1]",
            serde_json::json!({ "compare": { "dice": [0.8, 0.9] } }),
        ),
        (
            "record_bloom.compare.dice",
            serde_json::json!({ "compare": { "dice": [] } }),
        ),
        ("record_bloom.colour", serde_json::json!({ "colour": 1 })),
    ] {
        let mut r = good.clone();
        for (k, val) in patch.as_object().unwrap() {
            r[k] = val.clone();
        }
        let mut v = example_value();
        v["record_bloom"] = r;
        assert_eq!(error_path(&v), path, "{patch}");
    }
    let mut v = example_value();
    v["record_bloom"] = good;
    v["fields"][6]["name"] = "record".into();
    v["fields"][6]["compare"] = serde_json::Value::Null;
    assert_eq!(error_path(&v), "record_bloom");
}
