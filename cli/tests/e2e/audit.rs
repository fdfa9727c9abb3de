//! `pseudolink audit` end to end: the red team's exit codes, options and JSON.

use crate::common::{encode_args, run, text, workspace};

/// A workspace with a synthetic population (`synth/`) and agency A encoded (`a.enc.csv`).
fn encoded() -> (tempfile::TempDir, std::path::PathBuf) {
    let (d, p) = workspace();
    let out = run(
        &p,
        &["synth", "--people", "400", "--seed", "9", "--out", "synth"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = run(&p, &encode_args("synth/agency_a.csv", "a.enc.csv"));
    assert!(out.status.success(), "{}", text(&out));
    (d, p)
}

/// `audit` of `a.enc.csv` with agency B as the reference population, then `extra`.
fn audit(p: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "audit",
        "--input",
        "a.enc.csv",
        "--schema",
        "s.json",
        "--cleartext",
        "synth/agency_a.csv",
        "--reference",
        "synth/agency_b.csv",
    ];
    args.extend_from_slice(extra);
    run(p, &args)
}

#[test]
fn the_default_schema_fails_with_exit_9_and_passes_with_loose_bounds() {
    let (_d, p) = encoded();
    let out = audit(&p, &["--known-count", "50,100", "--json"]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["verdict"]["pass"], false);
    let known: Vec<u64> = report["known"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["k"].as_u64().unwrap())
        .collect();
    assert_eq!(known, [50, 100]);
    let attributes = report["attributes"].as_array().unwrap();
    let names: Vec<&str> = attributes
        .iter()
        .map(|a| a["attribute"].as_str().unwrap())
        .collect();
    for want in [
        "first_name",
        "first_name.initial",
        "date_of_birth.year",
        "address_line_1",
    ] {
        assert!(names.contains(&want), "{want}: {names:?}");
    }
    assert!(report["timings"].as_array().unwrap().len() > 5);
    // Text, and bounds that nothing exceeds.
    let out = audit(&p, &["--max-whole", "1", "--max-partial", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("verdict: PASS"));
}

#[test]
fn known_records_from_a_file_and_dictionaries() {
    // Dictionaries serve the filter attacks: the default schema has no filter, so this test
    // adds an unsalted address filter (what the old default had) before encoding.
    let (_d, p) = workspace();
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("s.json")).unwrap()).unwrap();
    schema["filters"] = serde_json::json!([{
        "name": "address",
        "fields": [{ "field": "address_line_1", "hashes": 20 }],
        "context": [],
        "bits": 512
    }]);
    std::fs::write(p.join("s.json"), schema.to_string()).unwrap();
    let out = run(
        &p,
        &["synth", "--people", "400", "--seed", "9", "--out", "synth"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = run(&p, &encode_args("synth/agency_a.csv", "a.enc.csv"));
    assert!(out.status.success(), "{}", text(&out));
    // The insider knows the first 30 records of the cleartext.
    let clear = std::fs::read_to_string(p.join("synth/agency_a.csv")).unwrap();
    let known: String = clear.lines().take(31).map(|l| format!("{l}\n")).collect();
    std::fs::write(p.join("known.csv"), known).unwrap();
    let addresses: String = clear
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(7))
        .map(|a| format!("{a}\n"))
        .collect();
    std::fs::write(p.join("register.txt"), addresses).unwrap();
    let out = audit(
        &p,
        &[
            "--known",
            "known.csv",
            "--dictionary",
            "address_line_1=register.txt",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["known"][0]["k"], 30);
    let dictionaries = report["dictionaries"].as_array().unwrap();
    assert!(dictionaries
        .iter()
        .any(|d| d.as_str().unwrap().contains("register.txt")));
}

#[test]
fn usage_errors_exit_2() {
    let (_d, p) = encoded();
    let out = run(&p, &["audit", "--input", "a.enc.csv", "--schema", "s.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    for bad in [
        &["--dictionary", "address_line_1"][..],
        &["--dictionary", "colour=x.txt"],
        &["--max-whole", "2"],
        &["--known-count", "many"],
    ] {
        let out = audit(&p, bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out));
    }
}

#[test]
fn the_reference_population_can_be_exported() {
    let (_d, p) = workspace();
    let out = run(&p, &["audit", "--export-reference", "reference.csv"]);
    assert!(out.status.success(), "{}", text(&out));
    let csv = std::fs::read_to_string(p.join("reference.csv")).unwrap();
    assert!(csv.starts_with("record_id,first_name,middle_name,last_name,date_of_birth"));
    assert!(csv.lines().count() > 50_000);
}
