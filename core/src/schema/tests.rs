use super::*;

fn example_value() -> serde_json::Value {
    serde_json::from_str(Schema::example_json()).unwrap()
}

fn error_path(value: &serde_json::Value) -> String {
    match Schema::from_json(&value.to_string()) {
        Err(Error::Schema { path, .. }) => path,
        other => panic!("expected a schema error, got {other:?}"),
    }
}

#[test]
fn example_is_valid_and_round_trips() {
    let s = Schema::example();
    assert_eq!(s.fields.len(), 8);
    assert_eq!(
        s.input_columns(),
        vec![
            "record_id",
            "first_name",
            "middle_name",
            "last_name",
            "date_of_birth",
            "sex",
            "postcode",
            "address_line_1",
            "nhs_number"
        ]
    );
    let again = Schema::from_json(&s.to_json_pretty()).unwrap();
    assert_eq!(s, again);
    assert_eq!(s.fingerprint().as_str().len(), 32);
}

/// The default schema's promise (docs/security.md): apart from the NHS number, no token holds a
/// single key, so the linkage unit never sees one value alone.
#[test]
fn every_default_token_but_the_nhs_number_holds_two_keys_or_more() {
    let s = Schema::example();
    for t in &s.tokens {
        if t.keys == ["nhs_number"] {
            continue;
        }
        assert!(t.keys.len() >= 2, "{:?} holds one key", t.keys);
    }
    // Every blocking rule is one of the token columns.
    for r in &s.link.blocking {
        assert!(s.token_index(&r.keys).is_some(), "{:?}", r.keys);
    }
}

#[test]
fn the_fingerprint_covers_the_encoding_not_the_linkage_settings() {
    let s = Schema::example();
    let mut v = example_value();
    v["description"] = "something else".into();
    v["link"]["max_block_size"] = 50.into();
    v["link"]["comparisons"][0]["levels"][1]["name"] = "one_typo".into();
    v["link"]["blocking"] = serde_json::json!([["nhs_number"]]);
    let relinked = Schema::from_json(&v.to_string()).unwrap();
    assert_eq!(relinked.fingerprint(), s.fingerprint());
    assert_ne!(relinked.link_fingerprint(), s.link_fingerprint());
    let mut v = example_value();
    v["tokens"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!(["first_name", "sex"]));
    assert_ne!(
        Schema::from_json(&v.to_string()).unwrap().fingerprint(),
        s.fingerprint()
    );
    let mut v = example_value();
    v["fields"][3]["normalise"]["century_pivot"] = 30.into();
    assert_ne!(
        Schema::from_json(&v.to_string()).unwrap().fingerprint(),
        s.fingerprint()
    );
}

#[test]
fn keys_parse_with_the_transforms_of_their_kind() {
    let s = Schema::example();
    let k = s.parse_key("date_of_birth.year").unwrap();
    assert_eq!(k.transform, Some(Transform::Year));
    assert_eq!(s.fields[k.field].name, "date_of_birth");
    assert_eq!(s.key_name(k), "date_of_birth.year");
    assert!(s.parse_key("date_of_birth.sector").is_none());
    assert!(s.parse_key("first_name.deletions").unwrap().is_set());
    assert!(s.parse_key("nope").is_none());
    assert!(s.parse_key("first_name.colour").is_none());
    // Field values imply their transforms, not the other way round.
    let (dob, year) = (s.parse_key("date_of_birth").unwrap(), k);
    assert!(year.implied_by(dob) && !dob.implied_by(year));
}

#[test]
fn tokens_of_one_signature_are_hashed_in_one_order() {
    let s = Schema::example();
    let first = s
        .token_index(&["first_name".into(), "date_of_birth".into()])
        .unwrap();
    let last = s
        .token_index(&["last_name".into(), "date_of_birth".into()])
        .unwrap();
    let a = s.token_keys(first);
    let b = s.token_keys(last);
    assert_eq!(s.signature(&a), s.signature(&b));
    // Listed either way round, the same column.
    assert_eq!(
        s.token_index(&["date_of_birth".into(), "first_name".into()]),
        Some(first)
    );
}

type Edit = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn impossible_settings_are_refused_with_their_path() {
    let cases: Vec<(&str, Edit)> = vec![
        ("version", Box::new(|v| v["version"] = 7.into())),
        (
            "fields[1].name",
            Box::new(|v| v["fields"][1]["name"] = "first_name".into()),
        ),
        (
            "fields[1].name",
            Box::new(|v| v["fields"][1]["name"] = "Middle Name".into()),
        ),
        (
            "fields[1].column",
            Box::new(|v| v["fields"][1]["column"] = "record_id".into()),
        ),
        (
            "fields[3].normalise.drop_titles",
            Box::new(|v| v["fields"][3]["normalise"]["drop_titles"] = true.into()),
        ),
        (
            "tokens[0][1]",
            Box::new(|v| {
                v["tokens"][0] = serde_json::json!(["first_name", "date_of_birth.sector"])
            }),
        ),
        (
            "tokens[0]",
            Box::new(|v| v["tokens"][0] = serde_json::json!(["first_name", "first_name"])),
        ),
        (
            "tokens[0]",
            Box::new(|v| {
                v["tokens"][0] =
                    serde_json::json!(["first_name.deletions", "date_of_birth.digit_masks"])
            }),
        ),
        (
            "tokens[1]",
            Box::new(|v| v["tokens"][1] = serde_json::json!(["date_of_birth", "first_name"])),
        ),
        (
            "tokens[0]",
            Box::new(|v| v["tokens"][0] = serde_json::json!([])),
        ),
        (
            "household[0]",
            Box::new(|v| v["household"][0] = "postcode.year".into()),
        ),
        (
            "link.comparisons[0].levels[0]",
            Box::new(|v| {
                v["link"]["comparisons"][0]["levels"][0] =
                    serde_json::json!({"name": "exact", "keys": ["first_name"], "dice": 0.9})
            }),
        ),
        (
            "link.comparisons[0].levels[0].keys[0]",
            Box::new(|v| {
                v["link"]["comparisons"][0]["levels"][0]["keys"] = serde_json::json!(["nope"])
            }),
        ),
        (
            "link.comparisons[0].levels[1].name",
            Box::new(|v| v["link"]["comparisons"][0]["levels"][1]["name"] = "exact".into()),
        ),
        (
            "link.comparisons[0].levels[0].name",
            Box::new(|v| v["link"]["comparisons"][0]["levels"][0]["name"] = "else".into()),
        ),
        (
            "link.comparisons[0].levels[5].cross",
            Box::new(|v| {
                v["link"]["comparisons"][0]["levels"][5]["cross"] =
                    serde_json::json!(["first_name", "postcode"])
            }),
        ),
        (
            "link.comparisons[1].name",
            Box::new(|v| v["link"]["comparisons"][1]["name"] = "first_name".into()),
        ),
        (
            "link.comparisons[0].levels[2].similarity.threshold",
            Box::new(|v| {
                v["link"]["comparisons"][0]["levels"][2]["similarity"]["threshold"] = 1.5.into()
            }),
        ),
        (
            "link.blocking[1]",
            Box::new(|v| v["link"]["blocking"][1] = serde_json::json!(["first_name", "sex"])),
        ),
        (
            "link.blocking[1].cross",
            Box::new(|v| {
                v["link"]["blocking"][1] = serde_json::json!({"keys": ["first_name", "date_of_birth"],
                    "cross": ["last_name", "first_name"]})
            }),
        ),
        (
            "link.blocking[1].cross",
            Box::new(|v| {
                v["link"]["blocking"][1] = serde_json::json!({"keys": ["first_name", "date_of_birth"],
                    "cross": ["first_name", "postcode"]})
            }),
        ),
        (
            "link.blocking[1].cross",
            Box::new(|v| {
                v["link"]["blocking"][1] = serde_json::json!({"keys": ["first_name.soundex", "date_of_birth"],
                    "cross": ["first_name.soundex", "middle_name.soundex"]})
            }),
        ),
        (
            "link.household.levels[0]",
            Box::new(|v| v["link"]["household"]["levels"][0] = "nowhere".into()),
        ),
        (
            "link.comparisons[0].household",
            Box::new(|v| v["link"]["household"] = serde_json::Value::Null),
        ),
        (
            "link.training_rules[0]",
            Box::new(|v| v["link"]["training_rules"] = serde_json::json!(["nope"])),
        ),
        (
            "link.max_block_size",
            Box::new(|v| v["link"]["max_block_size"] = 1.into()),
        ),
        (
            "filters[0].bits",
            Box::new(|v| {
                v["filters"] = serde_json::json!([{"name": "names", "bits": 100,
                    "fields": [{"field": "first_name", "hashes": 5}]}])
            }),
        ),
        (
            "filters[0].fields[0].field",
            Box::new(|v| {
                v["filters"] = serde_json::json!([{"name": "names", "bits": 128,
                    "fields": [{"field": "date_of_birth", "hashes": 5}]}])
            }),
        ),
        (
            "filters[0].context[0]",
            Box::new(|v| {
                v["filters"] = serde_json::json!([{"name": "names", "bits": 128,
                    "fields": [{"field": "first_name", "hashes": 5}],
                    "context": ["date_of_birth.digit_masks"]}])
            }),
        ),
    ];
    for (expected, mutate) in cases {
        let mut v = example_value();
        mutate(&mut v);
        assert_eq!(error_path(&v), expected, "mutation for {expected}");
    }
}

#[test]
fn unknown_keys_and_wrong_types_are_refused_with_their_path() {
    let mut v = example_value();
    v["link"]["comparisons"][0]["levels"][0]["colour"] = "red".into();
    assert_eq!(error_path(&v), "link.comparisons[0].levels[0].colour");
    let mut v = example_value();
    v["surprise"] = 1.into();
    assert_eq!(error_path(&v), "surprise");
    let mut v = example_value();
    v["fields"][3]["kind"] = "colour".into();
    assert_eq!(error_path(&v), "fields[3].kind");
}

#[test]
fn filters_with_a_context_are_accepted_and_measured() {
    let mut v = example_value();
    v["filters"] = serde_json::json!([{"name": "names", "bits": 1024, "balanced": true,
        "fields": [{"field": "first_name", "hashes": 10}, {"field": "last_name", "hashes": 10}],
        "context": ["date_of_birth"]}]);
    v["link"]["comparisons"][0]["levels"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "names_similar", "filter": "names", "dice": 0.9}));
    let s = Schema::from_json(&v.to_string()).unwrap();
    assert_eq!(s.filters[0].output_bits(), 2048);
    assert_eq!(s.filters[0].column(), "names.bloom");
    assert_ne!(s.fingerprint(), Schema::example().fingerprint());
}

/// Dice levels below 0.5 are refused: the pair statistics record random pairs' Dice only from
/// 0.5 up (`encode::pair_stats::DICE_FLOOR`), so no u could be read for such a level.
#[test]
fn dice_levels_below_one_half_are_refused() {
    let mut v = example_value();
    v["filters"] = serde_json::json!([{"name": "names", "bits": 1024,
        "fields": [{"field": "first_name", "hashes": 10}]}]);
    let levels = v["link"]["comparisons"][0]["levels"]
        .as_array_mut()
        .unwrap();
    levels.push(serde_json::json!({"name": "names_weak", "filter": "names", "dice": 0.45}));
    let err = Schema::from_json(&v.to_string()).unwrap_err().to_string();
    assert!(
        err.contains("link.comparisons[0].levels[") && err.contains("].dice"),
        "{err}"
    );
    assert!(err.contains("threshold 0.45 must be at least 0.5"), "{err}");
    let last = v["link"]["comparisons"][0]["levels"]
        .as_array()
        .unwrap()
        .len()
        - 1;
    v["link"]["comparisons"][0]["levels"][last]["dice"] = serde_json::json!(0.5);
    Schema::from_json(&v.to_string()).unwrap();
}

#[test]
fn invalid_json_is_refused() {
    assert!(matches!(Schema::from_json("{"), Err(Error::Schema { .. })));
    assert!(matches!(Schema::from_json(""), Err(Error::Schema { .. })));
}

/// Found with the bad-input corpus: a schema saved with a byte order mark (Windows editors) was
/// refused as invalid JSON, a non-UTF-8 one was an I/O error (exit 7) instead of a schema error,
/// and a JSON syntax error was reported "at ?".
#[test]
fn schema_files_with_a_bom_are_read_and_other_text_problems_are_schema_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.json");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(Schema::example_json().as_bytes());
    std::fs::write(&p, &bom).unwrap();
    assert_eq!(Schema::from_file(&p).unwrap(), Schema::example());

    std::fs::write(&p, b"{\"version\": 2, \"description\": \"caf\xe9\"}").unwrap();
    match Schema::from_file(&p) {
        Err(Error::Schema { path, message }) => {
            assert_eq!(path, "$");
            assert!(message.contains("not UTF-8"), "{message}");
        }
        other => panic!("expected a schema error, got {other:?}"),
    }

    std::fs::write(&p, b"{\"version\": 2,").unwrap();
    match Schema::from_file(&p) {
        Err(Error::Schema { path, message }) => {
            assert_eq!(path, "$");
            assert!(message.contains("line 1"), "{message}");
        }
        other => panic!("expected a schema error, got {other:?}"),
    }
}

#[test]
fn a_crossed_blocking_rule_is_written_as_an_object_and_named_with_a_bar() {
    let s = Schema::example();
    let rule = s
        .link
        .blocking
        .iter()
        .find(|r| r.cross.is_some())
        .expect("the default crosses first name and surname");
    assert_eq!(rule.name(), "first_name|last_name+date_of_birth");
    assert_eq!(
        rule.crossed_keys().unwrap(),
        vec!["last_name".to_string(), "date_of_birth".to_string()]
    );
    let json = serde_json::to_value(rule).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"keys": ["first_name", "date_of_birth"], "cross": ["first_name", "last_name"]})
    );
    let back: BlockingRule = serde_json::from_value(json).unwrap();
    assert_eq!(&back, rule);
    // A plain rule stays a list of keys.
    let plain = BlockingRule::new(vec!["nhs_number".into()]);
    assert_eq!(
        serde_json::to_value(&plain).unwrap(),
        serde_json::json!(["nhs_number"])
    );
    // Unknown members are refused.
    assert!(serde_json::from_value::<BlockingRule>(
        serde_json::json!({"keys": ["nhs_number"], "cross": ["a", "b"], "x": 1})
    )
    .is_err());
    // Two columns, each named by its index.
    let r = s
        .link
        .blocking
        .iter()
        .position(|r| r.cross.is_some())
        .unwrap();
    let columns = s.blocking_columns(r);
    assert_eq!(columns.len(), 2);
    assert_eq!(
        Some(columns[1]),
        s.token_index(&["last_name".to_string(), "date_of_birth".to_string()])
    );
}
