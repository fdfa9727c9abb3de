//! `pseudolink link`, `dedupe` and `evaluate` end to end.

#![allow(clippy::unwrap_used)] // helpers of the tests below

use std::path::Path;

use crate::common::{csv_of, run, text, workspace, write_secret};

const FIRST: &[&str] = &[
    "Anna", "Omar", "Priya", "John", "Mary", "Mohammed", "Sofia", "Liam", "Grace", "Ethan",
    "Chloe", "Noah", "Amelia", "Jacob", "Ava", "Oliver", "Isla", "Harry", "Zara", "Leo",
];
const LAST: &[&str] = &[
    "Smith", "Khan", "Patel", "Brown", "Jones", "Williams", "Taylor", "Davies", "Evans", "Thomas",
    "Roberts", "Walker", "Wright", "Hughes", "Edwards", "Green", "Hall", "Wood", "Clarke",
    "Jackson", "Hill", "Moore", "Ali", "Begum", "Wilson",
];

fn nhs(nine: u64) -> String {
    let digits: Vec<u64> = format!("{nine:09}")
        .chars()
        .map(|c| u64::from(c.to_digit(10).expect("a digit")))
        .collect();
    let sum: u64 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| d * (10 - i as u64))
        .sum();
    let check = (11 - sum % 11) % 11;
    if check == 10 {
        String::new()
    } else {
        format!("{nine:09}{check}")
    }
}

/// One person's record, as agency `side` ('a' or 'b') holds it; b's copies carry errors.
fn person(i: usize, side: char) -> Vec<String> {
    let mut first = FIRST[i % FIRST.len()].to_string();
    let mut last = LAST[(i * 7 + i / 20) % LAST.len()].to_string();
    let (y, m, d) = (1950 + (i * 13) % 70, 1 + (i * 5) % 12, 1 + (i * 3) % 28);
    let mut dob = format!("{y:04}-{m:02}-{d:02}");
    let sex = if i.is_multiple_of(2) { "F" } else { "M" };
    let letters = b"ABDEFGHJLNPQRSTUWXYZ";
    let mut postcode = format!(
        "CV{} {}{}{}",
        1 + i % 9,
        i % 10,
        letters[i % 20] as char,
        letters[(i / 20) % 20] as char
    );
    let address = format!("{} {} Road", 1 + i % 150, LAST[(i * 3) % LAST.len()]);
    let mut nhs_number = if i.is_multiple_of(3) {
        nhs(400_000_000 + i as u64 * 7919)
    } else {
        String::new()
    };
    if side == 'b' {
        if i % 5 == 1 {
            first.remove(1); // typo
        }
        if i % 7 == 2 && d <= 12 {
            dob = format!("{y:04}-{d:02}-{m:02}"); // day and month swapped
        }
        if i % 6 == 3 {
            postcode = String::new();
        }
        if i % 11 == 4 {
            std::mem::swap(&mut first, &mut last);
        }
        if i % 4 == 1 {
            nhs_number = String::new();
        }
    }
    vec![
        format!("{side}{i}"),
        first,
        String::new(),
        last,
        dob,
        sex.to_string(),
        postcode,
        address,
        nhs_number,
    ]
}

/// Writes a.csv (300 people), b.csv (the 3 in 4 of them b knows, with errors, plus 40 others)
/// and truth.csv.
fn write_population(p: &Path) {
    let a: Vec<Vec<String>> = (0..300).map(|i| person(i, 'a')).collect();
    let b: Vec<Vec<String>> = (0..340)
        .filter(|i| i % 4 != 0)
        .map(|i| person(i, 'b'))
        .collect();
    std::fs::write(p.join("a.csv"), csv_of(&a)).expect("write a.csv");
    std::fs::write(p.join("b.csv"), csv_of(&b)).expect("write b.csv");
    let mut truth = String::from("left_id,right_id\n");
    for i in (0..300).filter(|i| i % 4 != 0) {
        truth.push_str(&format!("a{i},b{i}\n"));
    }
    std::fs::write(p.join("truth.csv"), truth).expect("write truth.csv");
}

fn encode(p: &Path, input: &str, output: &str, secret: &str) {
    let out = run(
        p,
        &[
            "encode",
            "--schema",
            "s.json",
            "--secret-file",
            secret,
            "--input",
            input,
            "--output",
            output,
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
}

fn encoded_population() -> (tempfile::TempDir, std::path::PathBuf) {
    let (d, p) = workspace();
    write_population(&p);
    encode(&p, "a.csv", "a.enc.csv", "k.hex");
    encode(&p, "b.csv", "b.enc.csv", "k.hex");
    (d, p)
}

fn json(p: &Path, file: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p.join(file)).expect("read JSON file"))
        .expect("valid JSON")
}

fn evaluate(p: &Path, links: &str) -> serde_json::Value {
    let out = run(
        p,
        &[
            "evaluate",
            "--links",
            links,
            "--truth",
            "truth.csv",
            "--curve",
            "curve.csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).expect("evaluate prints JSON")
}

const LINK: &[&str] = &[
    "link",
    "--schema",
    "s.json",
    "--left",
    "a.enc.csv",
    "--right",
    "b.enc.csv",
];

#[test]
fn link_evaluate_explain_and_reuse_a_model() {
    let (_d, p) = encoded_population();
    let mut args = LINK.to_vec();
    args.extend([
        "--output",
        "links.csv",
        "--save-model",
        "m.json",
        "--explain",
        "a1,b1",
    ]);
    let out = run(&p, &args);
    let stdout = text(&out);
    assert!(out.status.success(), "{stdout}");
    // The explanation lists every compared field and the total.
    for f in [
        "first_name",
        "date_of_birth",
        "postcode",
        "nhs_number",
        "match weight",
    ] {
        assert!(stdout.contains(f), "{f} missing from:\n{stdout}");
    }
    let links = std::fs::read_to_string(p.join("links.csv")).unwrap();
    assert!(links.starts_with("left_id,right_id,match_weight,match_probability,band,cluster_id\n"));
    let e = evaluate(&p, "links.csv");
    let f1 = e["f1"].as_f64().unwrap();
    assert!(f1 > 0.9, "{e}");
    assert_eq!(
        e["true_positives"].as_u64().unwrap() + e["false_negatives"].as_u64().unwrap(),
        225
    );
    let curve = std::fs::read_to_string(p.join("curve.csv")).unwrap();
    assert!(curve.starts_with("threshold,precision,recall,f1,"));
    assert!(curve.lines().count() > 2);

    // The summary tells the story.
    let s = json(&p, "links.csv.summary.json");
    assert_eq!(s["mode"], "link");
    assert_eq!(s["inputs"][0]["records"], 300);
    assert_eq!(s["inputs"][1]["records"], 255);
    assert_eq!(s["inputs"][0]["manifest_verified"], true);
    assert_eq!(
        s["inputs"][0]["key_check_value"],
        s["inputs"][1]["key_check_value"]
    );
    assert_eq!(s["model_source"], "trained");
    // λ is the match rate among all 300 x 255 pairs: 225 true pairs.
    let lambda = s["model"]["lambda"].as_f64().unwrap();
    let truth_rate = 225.0 / (300.0 * 255.0);
    assert!(
        lambda > truth_rate / 1.5 && lambda < truth_rate * 1.5,
        "{lambda} vs {truth_rate}"
    );
    assert_eq!(
        s["blocking"]["rules"].as_array().unwrap().len(),
        pseudolink::Schema::example().link.blocking.len()
    );
    assert!(s["blocking"]["candidate_pairs"].as_u64().unwrap() >= 225);
    assert_eq!(s["thresholds"]["match"], 0.9);
    assert!(s["timings"].as_array().unwrap().len() >= 6);
    assert!(
        s["warnings"].as_array().unwrap().is_empty(),
        "{}\n{}",
        s["warnings"],
        s["model"]["training"]
    );
    assert!(s["run"]["started_at"].as_str().unwrap().ends_with('Z'));

    // Reusing the saved model gives the same links.
    let mut args = LINK.to_vec();
    args.extend(["--output", "again.csv", "--model", "m.json"]);
    let out = run(&p, &args);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(p.join("again.csv")).unwrap(), links);
    assert_eq!(json(&p, "again.csv.summary.json")["model_source"], "m.json");
    // The default schema weighs competing links: the explanation shows the standing, the model
    // keeps its weights, and a model without them links without them, saying so.
    assert!(stdout.contains("(competing links)"), "{stdout}");
    let mut model: serde_json::Value = json(&p, "m.json");
    assert!(model["competition"]["levels"].is_array(), "{model}");
    model.as_object_mut().unwrap().remove("competition");
    std::fs::write(p.join("plain.json"), model.to_string()).unwrap();
    let mut args = LINK.to_vec();
    args.extend(["--output", "plain.csv", "--model", "plain.json"]);
    let out = run(&p, &args);
    assert!(out.status.success(), "{}", text(&out));
    let warnings = json(&p, "plain.csv.summary.json")["warnings"].to_string();
    assert!(warnings.contains("trained without them"), "{warnings}");

    // One-to-one never links a record twice.
    let mut args = LINK.to_vec();
    args.extend(["--output", "one.csv", "--one-to-one"]);
    let out = run(&p, &args);
    assert!(out.status.success(), "{}", text(&out));
    let one = std::fs::read_to_string(p.join("one.csv")).unwrap();
    let mut seen = std::collections::HashSet::new();
    for line in one.lines().skip(1).filter(|l| l.contains(",match,")) {
        let cells: Vec<&str> = line.split(',').collect();
        assert!(seen.insert(cells[0].to_string()), "{line}");
        assert!(seen.insert(cells[1].to_string()), "{line}");
    }
    assert!(evaluate(&p, "one.csv")["f1"].as_f64().unwrap() > 0.9);
}

#[test]
fn a_different_secret_is_refused_naming_both_check_values() {
    let (_d, p) = workspace();
    write_population(&p);
    write_secret(&p.join("other.hex"), &"ab".repeat(32));
    encode(&p, "a.csv", "a.enc.csv", "k.hex");
    encode(&p, "b.csv", "b.enc.csv", "other.hex");
    let mut args = LINK.to_vec();
    args.extend(["--output", "links.csv"]);
    let out = run(&p, &args);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    let msg = text(&out);
    assert!(
        msg.contains("key check value") && msg.contains("same secret"),
        "{msg}"
    );
    assert!(!p.join("links.csv").exists());
}

#[test]
fn a_missing_manifest_is_refused_unless_allowed_and_then_recorded() {
    let (_d, p) = encoded_population();
    std::fs::remove_file(p.join("b.enc.csv.manifest.json")).unwrap();
    let mut args = LINK.to_vec();
    args.extend(["--output", "links.csv"]);
    let out = run(&p, &args);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("manifest"), "{}", text(&out));
    args.push("--allow-unverified");
    let out = run(&p, &args);
    assert!(out.status.success(), "{}", text(&out));
    let s = json(&p, "links.csv.summary.json");
    assert_eq!(s["inputs"][1]["manifest_verified"], false);
    let warnings = s["warnings"].to_string();
    assert!(warnings.contains("allow-unverified"), "{warnings}");
    assert!(warnings.contains("b.enc.csv"), "{warnings}");
}

#[test]
fn an_altered_extract_is_refused() {
    let (_d, p) = encoded_population();
    let mut text_b = std::fs::read_to_string(p.join("b.enc.csv")).unwrap();
    text_b.push_str(&text_b.lines().nth(1).unwrap().replacen("b1,", "b999,", 1));
    text_b.push('\n');
    std::fs::write(p.join("b.enc.csv"), text_b).unwrap();
    let mut args = LINK.to_vec();
    args.extend(["--output", "links.csv"]);
    let out = run(&p, &args);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
}

#[test]
fn a_model_of_another_schema_is_refused() {
    let (_d, p) = encoded_population();
    let mut args = LINK.to_vec();
    args.extend(["--output", "links.csv", "--save-model", "m.json"]);
    assert!(run(&p, &args).status.success());
    let mut m = json(&p, "m.json");
    m["schema_fingerprint"] = "0000".into();
    std::fs::write(p.join("m.json"), m.to_string()).unwrap();
    let mut args = LINK.to_vec();
    args.extend(["--output", "again.csv", "--model", "m.json"]);
    let out = run(&p, &args);
    assert_eq!(out.status.code(), Some(8), "{}", text(&out));
}

#[test]
fn cleartext_mode_links_raw_extracts() {
    let (_d, p) = workspace();
    write_population(&p);
    let out = run(
        &p,
        &[
            "link",
            "--schema",
            "s.json",
            "--left",
            "a.csv",
            "--right",
            "b.csv",
            "--clear",
            "--output",
            "links.csv",
            "--explain",
            "a1,b1",
        ],
    );
    let stdout = text(&out);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("jaro_winkler") || stdout.contains("exact"),
        "{stdout}"
    );
    assert!(evaluate(&p, "links.csv")["f1"].as_f64().unwrap() > 0.9);
    let s = json(&p, "links.csv.summary.json");
    assert_eq!(s["comparison"], "clear");
    assert_eq!(s["model"]["comparison"], "clear");
    // No secret is written anywhere.
    for entry in std::fs::read_dir(&p).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains("secret"), "{name}");
    }
}

#[test]
fn dedupe_finds_duplicates_within_one_extract() {
    let (_d, p) = workspace();
    // a's 300 people plus b's copies of 60 of them, under other ids, in one file.
    let mut rows: Vec<Vec<String>> = (0..300).map(|i| person(i, 'a')).collect();
    let mut truth = String::from("left_id,right_id\n");
    for i in (0..300).filter(|i| i % 5 == 1) {
        let mut r = person(i, 'b');
        r[0] = format!("d{i}");
        rows.push(r);
        truth.push_str(&format!("a{i},d{i}\n"));
    }
    std::fs::write(p.join("all.csv"), csv_of(&rows)).unwrap();
    std::fs::write(p.join("truth.csv"), truth).expect("write truth.csv");
    encode(&p, "all.csv", "all.enc.csv", "k.hex");
    let out = run(
        &p,
        &[
            "dedupe",
            "--schema",
            "s.json",
            "--input",
            "all.enc.csv",
            "--output",
            "dups.csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = run(
        &p,
        &[
            "evaluate",
            "--links",
            "dups.csv",
            "--truth",
            "truth.csv",
            "--unordered",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(e["f1"].as_f64().unwrap() > 0.9, "{e}");
    assert_eq!(json(&p, "dups.csv.summary.json")["mode"], "dedupe");
}

#[test]
fn evaluate_reports_bad_files_with_file_and_line() {
    let (_d, p) = workspace();
    std::fs::write(
        p.join("links.csv"),
        "left_id,right_id,match_weight,match_probability,band\na,b,1,0.95,match\na,c,1,0.9,maybe\n",
    )
    .unwrap();
    std::fs::write(p.join("truth.csv"), "left_id,right_id\na,b\n").unwrap();
    let out = run(
        &p,
        &["evaluate", "--links", "links.csv", "--truth", "truth.csv"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let msg = text(&out);
    assert!(
        msg.contains("links.csv") && msg.contains("line 3") && msg.contains("band"),
        "{msg}"
    );
}

#[test]
fn three_sources_link_together() {
    let (_d, p) = encoded_population();
    let c: Vec<Vec<String>> = (0..300)
        .filter(|i| i % 3 == 0)
        .map(|i| {
            let mut r = person(i, 'a');
            r[0] = format!("c{i}");
            r
        })
        .collect();
    std::fs::write(p.join("c.csv"), csv_of(&c)).unwrap();
    encode(&p, "c.csv", "c.enc.csv", "k.hex");
    let out = run(
        &p,
        &[
            "link",
            "--schema",
            "s.json",
            "--input",
            "a.enc.csv",
            "--input",
            "b.enc.csv",
            "--input",
            "c.enc.csv",
            "--output",
            "links.csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let links = std::fs::read_to_string(p.join("links.csv")).unwrap();
    assert!(links
        .lines()
        .next()
        .unwrap()
        .ends_with(",left_source,right_source"));
    assert!(links.contains("a3,c3,"), "a3 and c3 are the same person");
}
