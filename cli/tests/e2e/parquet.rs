//! Parquet encoded extracts end to end (`encode --output x.parquet`): `link`, `dedupe`, `audit`
//! and `index` read them as they read CSV extracts, with the same answers and checks.

use std::path::Path;

use crate::common::{encode_args, run, text, workspace};

/// A workspace with a synthetic population (`synth/`) and agencies A and B encoded to CSV
/// (`a.enc.csv`, `b.enc.csv`) and to Parquet (`a.enc.parquet`, `b.enc.pq`).
fn encoded() -> (tempfile::TempDir, std::path::PathBuf) {
    let (d, p) = workspace();
    let out = run(
        &p,
        &["synth", "--people", "400", "--seed", "4", "--out", "synth"],
    );
    assert!(out.status.success(), "{}", text(&out));
    for (input, output) in [
        ("synth/agency_a.csv", "a.enc.csv"),
        ("synth/agency_a.csv", "a.enc.parquet"),
        ("synth/agency_b.csv", "b.enc.csv"),
        ("synth/agency_b.csv", "b.enc.pq"),
    ] {
        let out = run(&p, &encode_args(input, output));
        assert!(out.status.success(), "{output}: {}", text(&out));
    }
    (d, p)
}

fn read(p: &Path, name: &str) -> Vec<u8> {
    std::fs::read(p.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json(p: &Path, name: &str) -> serde_json::Value {
    serde_json::from_slice(&read(p, name)).expect("JSON")
}

/// Runs `link` of `left` and `right` into `output`; returns the run's output.
fn link(p: &Path, left: &str, right: &str, output: &str) -> std::process::Output {
    let args = [
        "link", "--schema", "s.json", "--left", left, "--right", right, "--output", output,
    ];
    run(p, &args)
}

#[test]
fn parquet_extracts_link_dedupe_and_index_as_the_csv_ones() {
    let (_d, p) = encoded();
    let parquet = read(&p, "a.enc.parquet");
    assert!(parquet.starts_with(b"PAR1") && parquet.ends_with(b"PAR1"));
    // The same manifest but for the file it describes.
    let (mc, mp) = (
        json(&p, "a.enc.csv.manifest.json"),
        json(&p, "a.enc.parquet.manifest.json"),
    );
    for key in [
        "counts",
        "columns",
        "key_check_value",
        "schema_fingerprint",
        "missing",
    ] {
        assert_eq!(mc[key], mp[key], "{key}");
    }
    assert_eq!(mp["output"]["path"], "a.enc.parquet");
    assert_eq!(mp["output"]["bytes"], parquet.len());

    let out = link(&p, "a.enc.csv", "b.enc.csv", "links-csv.csv");
    assert!(out.status.success(), "{}", text(&out));
    let want = read(&p, "links-csv.csv");
    assert!(want.len() > 1000);
    for (left, right) in [("a.enc.parquet", "b.enc.pq"), ("a.enc.csv", "b.enc.pq")] {
        let out = link(&p, left, right, "links.csv");
        assert!(out.status.success(), "{left} {right}: {}", text(&out));
        assert!(read(&p, "links.csv") == want, "{left} {right}: other links");
        let summary = json(&p, "links.csv.summary.json");
        assert_eq!(summary["inputs"][1]["file"]["path"], right, "{summary}");
    }

    for input in ["b.enc.csv", "b.enc.pq"] {
        let output = format!("dups-{input}.csv");
        let args = [
            "dedupe", "--schema", "s.json", "--input", input, "--output", &output,
        ];
        let out = run(&p, &args);
        assert!(out.status.success(), "{}", text(&out));
    }
    assert_eq!(
        read(&p, "dups-b.enc.csv.csv"),
        read(&p, "dups-b.enc.pq.csv")
    );

    for (a, b, dir) in [
        ("a.enc.csv", "b.enc.csv", "idx-csv"),
        ("a.enc.parquet", "b.enc.pq", "idx-pq"),
    ] {
        let args = [
            "index", "create", "--schema", "s.json", "--input", a, "--input", b, "--source", "a",
            "--source", "b", "--output", dir,
        ];
        let out = run(&p, &args);
        assert!(out.status.success(), "{}", text(&out));
        let export = format!("{dir}.csv");
        let args = ["index", "export", "--index", dir, "--output", &export];
        let out = run(&p, &args);
        assert!(out.status.success(), "{}", text(&out));
    }
    assert_eq!(read(&p, "idx-csv.csv"), read(&p, "idx-pq.csv"));
}

#[test]
fn audit_reads_a_parquet_extract_as_the_csv_one() {
    let (_d, p) = encoded();
    let mut reports = Vec::new();
    for input in ["a.enc.csv", "a.enc.parquet"] {
        let args = [
            "audit",
            "--input",
            input,
            "--schema",
            "s.json",
            "--cleartext",
            "synth/agency_a.csv",
            "--reference",
            "synth/agency_b.csv",
            "--known-count",
            "50",
            "--json",
        ];
        let out = run(&p, &args);
        assert!(matches!(out.status.code(), Some(0 | 9)), "{}", text(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        reports.push((report["attributes"].clone(), report["verdict"].clone()));
    }
    assert_eq!(reports[0], reports[1]);
}

#[test]
fn an_altered_or_cut_parquet_extract_is_refused() {
    let (_d, p) = encoded();
    let bytes = read(&p, "a.enc.parquet");
    let manifest = read(&p, "a.enc.parquet.manifest.json");
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x20;
    for (name, content) in [
        ("flipped.parquet", flipped.as_slice()),
        ("cut.parquet", &bytes[..bytes.len() * 2 / 3]),
    ] {
        std::fs::write(p.join(name), content).unwrap();
        std::fs::write(p.join(format!("{name}.manifest.json")), &manifest).unwrap();
        let out = link(&p, name, "b.enc.pq", "x.csv");
        assert_eq!(out.status.code(), Some(6), "{name}: {}", text(&out));
        let says = text(&out);
        assert!(
            says.contains(name) && says.contains("does not match its manifest"),
            "{says}"
        );
        assert!(!says.contains("panicked"), "{says}");
        assert!(!p.join("x.csv").exists());
    }
    // Unverified, the cut file is unreadable: an input error naming it, not a panic.
    let args = [
        "link",
        "--schema",
        "s.json",
        "--left",
        "cut.parquet",
        "--right",
        "b.enc.pq",
        "--output",
        "x.csv",
        "--allow-unverified",
    ];
    let out = run(&p, &args);
    let says = text(&out);
    assert_eq!(out.status.code(), Some(3), "{says}");
    assert!(
        says.contains("cut.parquet") && says.contains("Parquet"),
        "{says}"
    );
    assert!(!says.contains("panicked"), "{says}");
}
