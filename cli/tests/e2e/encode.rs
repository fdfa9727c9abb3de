//! `pseudolink encode` end to end.

use crate::common::{csv_of, encode_args, run, text, workspace};

fn vector_rows() -> Vec<Vec<String>> {
    pseudolink_tests::inputs()
        .iter()
        .map(|(_, v)| v.iter().map(|s| s.to_string()).collect())
        .collect()
}

fn encode(p: &std::path::Path, input: &str, extra: &[&str]) -> std::process::Output {
    let mut args = encode_args(input, "o.csv");
    args.extend_from_slice(extra);
    run(p, &args)
}

#[test]
fn cli_output_equals_the_golden_vectors() {
    let (_d, p) = workspace();
    std::fs::write(p.join("in.csv"), csv_of(&vector_rows())).unwrap();
    let out = encode(&p, "in.csv", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let vectors = pseudolink_tests::generate().unwrap();
    let written = std::fs::read_to_string(p.join("o.csv")).unwrap();
    let mut lines = written.lines();
    assert_eq!(lines.next(), Some(vectors.header.as_str()));
    for case in &vectors.cases {
        assert_eq!(lines.next(), Some(case.row.as_str()), "case {}", case.note);
    }
    assert_eq!(lines.next(), None);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("o.csv.manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["counts"]["rows_read"], vectors.cases.len());
    assert_eq!(manifest["counts"]["encoded"], vectors.cases.len());
    assert_eq!(
        manifest["schema_fingerprint"],
        vectors.schema_fingerprint.as_str()
    );
    assert_eq!(
        manifest["key_check_value"],
        vectors.key_check_value.as_str()
    );
}

#[test]
fn column_order_bom_crlf_and_extra_columns_do_not_change_the_encoding() {
    let (_d, p) = workspace();
    std::fs::write(
        p.join("plain.csv"),
        "record_id,first_name,last_name,date_of_birth\nA1,Zoë,Smith,2014-03-09\n",
    )
    .unwrap();
    std::fs::write(
        p.join("odd.csv"),
        "\u{feff}notes,date_of_birth,last_name,record_id,first_name\r\n\"x, y\",09/03/2014,SMITH,A1,\"Zoë\"\r\n",
    )
    .unwrap();
    assert!(encode(&p, "plain.csv", &[]).status.success());
    let a = std::fs::read_to_string(p.join("o.csv")).unwrap();
    let out = encode(&p, "odd.csv", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("notes"), "ignored column reported");
    let b = std::fs::read_to_string(p.join("o.csv")).unwrap();
    assert_eq!(a, b);
}

#[test]
fn encoding_is_deterministic() {
    let (_d, p) = workspace();
    std::fs::write(p.join("in.csv"), csv_of(&vector_rows())).unwrap();
    assert!(encode(&p, "in.csv", &[]).status.success());
    let a = std::fs::read(p.join("o.csv")).unwrap();
    assert!(encode(&p, "in.csv", &[]).status.success());
    assert_eq!(a, std::fs::read(p.join("o.csv")).unwrap());
}

#[test]
fn bad_rows_fail_the_run_without_a_rejects_file_and_leave_no_output() {
    let (_d, p) = workspace();
    std::fs::write(
        p.join("in.csv"),
        "record_id,first_name\nA1,Ann\nA2\nA3,Bob\n",
    )
    .unwrap();
    let out = encode(&p, "in.csv", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains("in.csv") && msg.contains("line 3"), "{msg}");
    assert!(!p.join("o.csv").exists() && !p.join("o.csv.manifest.json").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&p)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert!(
        leftovers
            .iter()
            .all(|n| !n.to_string_lossy().contains("partial")),
        "{leftovers:?}"
    );
}

#[test]
fn rejected_rows_are_written_with_line_and_reason_and_counted() {
    let (_d, p) = workspace();
    let mut bytes =
        b"record_id,first_name,last_name\nA1,Ann,Lee\nA2\nA1,Dup,Lee\n,No,Id\nA5,".to_vec();
    bytes.extend_from_slice(b"Jos\xe9,Latin1\nA6,Ok,Fine\n");
    std::fs::write(p.join("in.csv"), bytes).unwrap();
    let out = encode(&p, "in.csv", &["--rejects", "r.csv"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("6 rows") && text(&out).contains("2 encoded + 4 rejected = 6"),
        "{}",
        text(&out)
    );
    let rejects = std::fs::read_to_string(p.join("r.csv")).unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines[0], "line,reason,field,message,record_id");
    assert!(lines[1].starts_with("3,wrong_field_count,"), "{rejects}");
    assert!(
        lines[2].starts_with("4,duplicate_record_id,record_id,"),
        "{rejects}"
    );
    assert!(
        lines[3].starts_with("5,empty_record_id,record_id,"),
        "{rejects}"
    );
    assert!(
        lines[4].starts_with("6,invalid_utf8,first_name,"),
        "{rejects}"
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("o.csv.manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["counts"]["rows_read"], 6);
    assert_eq!(m["counts"]["encoded"], 2);
    assert_eq!(m["counts"]["rejected"], 4);
}

#[test]
fn unusable_files_get_clear_errors() {
    let (_d, p) = workspace();
    std::fs::write(p.join("empty.csv"), "").unwrap();
    let out = encode(&p, "empty.csv", &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out).contains("empty"), "{}", text(&out));

    std::fs::write(p.join("noid.csv"), "id,first_name\n1,Ann\n").unwrap();
    let out = encode(&p, "noid.csv", &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out).contains("no record id column 'record_id'"),
        "{}",
        text(&out)
    );

    std::fs::write(
        p.join("dup.csv"),
        "record_id,first_name,first_name\n1,a,b\n",
    )
    .unwrap();
    let out = encode(&p, "dup.csv", &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out).contains("twice"), "{}", text(&out));

    // UTF-16 is decoded (its byte order mark says so), but an odd byte at the end is no
    // UTF-16.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "record_id\n1\n"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        )
        .chain([b'2'])
        .collect();
    std::fs::write(p.join("utf16.csv"), utf16).unwrap();
    let out = encode(&p, "utf16.csv", &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out).contains("line 3: the text is not valid utf-16le"),
        "{}",
        text(&out)
    );

    let out = encode(&p, "missing.csv", &[]);
    assert_eq!(out.status.code(), Some(7));
    assert!(text(&out).contains("missing.csv"), "{}", text(&out));

    std::fs::write(p.join("bad.json"), "{\"version\": 1, \"record_id\": \"id\", \"fields\": [{\"name\": \"a\", \"kind\": \"nope\"}]}").unwrap();
    let out = run(
        &p,
        &[
            "encode",
            "--schema",
            "bad.json",
            "--secret-file",
            "k.hex",
            "--input",
            "noid.csv",
            "--output",
            "o.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(text(&out).contains("fields[0].kind"), "{}", text(&out));
}

#[test]
fn header_only_file_gives_an_empty_extract() {
    let (_d, p) = workspace();
    std::fs::write(p.join("in.csv"), "record_id,first_name\n").unwrap();
    let out = encode(&p, "in.csv", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("0 encoded + 0 rejected = 0"));
    assert_eq!(
        std::fs::read_to_string(p.join("o.csv"))
            .unwrap()
            .lines()
            .count(),
        1
    );
}

#[test]
fn schema_example_is_valid_and_check_prints_the_fingerprint() {
    let (_d, p) = workspace();
    let out = run(&p, &["schema", "example"]);
    assert!(out.status.success());
    std::fs::write(p.join("e.json"), &out.stdout).unwrap();
    let out = run(&p, &["schema", "check", "e.json"]);
    assert!(out.status.success());
    assert!(text(&out).contains(pseudolink::Schema::example().fingerprint().as_str()));
}

/// 100,000 rows whose ids come from 70,000 (about 53,000 distinct), some rows bad for other
/// reasons: with `--id-memory 1` (28,672 ids in memory, runs of 32,768 rows on disk) the id check
/// goes to disk, and the extract, rejects and manifest counts are those of the default run.
#[test]
fn a_small_id_memory_gives_the_same_extract_rejects_and_counts() {
    use std::io::Write;
    let (_d, p) = workspace();
    let mut w = std::io::BufWriter::new(std::fs::File::create(p.join("in.csv")).unwrap());
    writeln!(w, "record_id,sex,date_of_birth").unwrap();
    let mut x: u64 = 7;
    for i in 0..100_000u64 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let id = (x >> 33) % 70_000;
        match i % 97 {
            0 => writeln!(w, "r{id},F").unwrap(),
            1 => writeln!(w, ",F,2001-02-03").unwrap(),
            2 => writeln!(w, " r{id} ,M,1990-01-01").unwrap(),
            _ => writeln!(
                w,
                "r{id},{},19{:02}-0{}-11",
                ["F", "M"][i as usize % 2],
                i % 100,
                i % 9 + 1
            )
            .unwrap(),
        }
    }
    drop(w);
    std::fs::create_dir(p.join("tmp")).unwrap();
    let run_with = |name: &str, extra: &[&str]| {
        let out_name = format!("{name}.csv");
        let rejects = format!("{name}.rejects.csv");
        let mut args = encode_args("in.csv", &out_name);
        args.extend_from_slice(&["--rejects", &rejects]);
        args.extend_from_slice(extra);
        let out = run(&p, &args);
        assert!(out.status.success(), "{}", text(&out));
        let on_disk = text(&out).contains("record ids: more than --id-memory 1 MiB");
        assert_eq!(on_disk, name == "small", "{}", text(&out));
        let mut m: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(p.join(format!("{out_name}.manifest.json"))).unwrap(),
        )
        .unwrap();
        for key in ["run", "output", "rejects"] {
            m.as_object_mut().unwrap().remove(key);
        }
        (
            std::fs::read(p.join(&out_name)).unwrap(),
            std::fs::read(p.join(&rejects)).unwrap(),
            m,
        )
    };
    let default = run_with("default", &[]);
    let small = run_with("small", &["--id-memory", "1", "--temp-dir", "tmp"]);
    let dups = default.2["rejected_by_reason"]["duplicate_record_id"]
        .as_u64()
        .unwrap();
    assert!(dups > 40_000, "{dups}");
    assert!(default.2["counts"]["encoded"].as_u64().unwrap() > 28_672 * 3 / 2);
    assert!(default.0 == small.0, "the extracts differ");
    assert!(default.1 == small.1, "the rejects differ");
    assert_eq!(default.2, small.2);
    // The temporary files are gone.
    assert_eq!(std::fs::read_dir(p.join("tmp")).unwrap().count(), 0);
    // A missing temporary folder, and no memory at all, are usage errors.
    let out = encode(&p, "in.csv", &["--temp-dir", "nowhere"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("nowhere"), "{}", text(&out));
    let out = encode(&p, "in.csv", &["--id-memory", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
