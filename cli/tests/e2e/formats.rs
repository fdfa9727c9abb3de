//! Input formats end to end: the council-style corpus of `tests/formats` (encodings, delimiters,
//! renamed columns) encodes to the same bytes as the UTF-8 CSV of the same records.

use std::path::{Path, PathBuf};

use crate::common::{encode_args, run, text, workspace};

/// The corpus folder.
fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/formats")
}

/// Encodes corpus file `name` with `extra` arguments into `out`; returns the manifest.
fn encode(p: &Path, name: &str, out: &str, extra: &[&str]) -> serde_json::Value {
    let input = corpus().join(name);
    let input = input.to_str().expect("a UTF-8 path");
    let mut args = encode_args(input, out);
    args.extend_from_slice(extra);
    let o = run(p, &args);
    assert!(o.status.success(), "{name}: {}", text(&o));
    let m = std::fs::read_to_string(p.join(format!("{out}.manifest.json"))).expect("manifest");
    serde_json::from_str(&m).expect("manifest JSON")
}

#[test]
fn every_form_of_the_corpus_encodes_to_the_bytes_of_the_utf8_csv() {
    let (_d, p) = workspace();
    let reference = encode(&p, "people.csv", "ref.csv", &[]);
    assert_eq!(reference["input"]["text_encoding"], "utf-8");
    assert_eq!(reference["input"]["delimiter"], ",");
    assert_eq!(reference["counts"]["encoded"], 8);
    let want = std::fs::read(p.join("ref.csv")).unwrap();
    let cases: [(&str, &[&str], &str, &str); 8] = [
        (
            "people-windows-1252.csv",
            &["--encoding", "windows-1252"],
            "windows-1252",
            ",",
        ),
        // Excel's "Unicode text": the byte order mark says UTF-16 whatever was asked.
        (
            "people-excel-unicode.txt",
            &["--delimiter", "tab"],
            "utf-16le",
            "tab",
        ),
        (
            "people-excel-unicode.txt",
            &["--encoding", "utf-16", "--delimiter", "\t"],
            "utf-16le",
            "tab",
        ),
        (
            "people-utf16be.csv",
            &["--encoding", "utf-16be"],
            "utf-16be",
            ",",
        ),
        ("people-semicolon.csv", &["--delimiter", ";"], "utf-8", ";"),
        ("people-pipe.csv", &["--delimiter", "|"], "utf-8", "|"),
        ("people-bom-crlf.csv", &[], "utf-8", ","),
        (
            "people-renamed.csv",
            &["--columns", "COLUMNS_JSON"],
            "utf-8",
            ",",
        ),
    ];
    let columns_json = corpus().join("columns.json");
    for (i, (name, extra, encoding, delimiter)) in cases.into_iter().enumerate() {
        let extra: Vec<&str> = extra
            .iter()
            .map(|a| match *a {
                "COLUMNS_JSON" => columns_json.to_str().unwrap(),
                a => a,
            })
            .collect();
        let out = format!("o{i}.csv");
        let m = encode(&p, name, &out, &extra);
        assert_eq!(m["input"]["text_encoding"], encoding, "{name}");
        assert_eq!(m["input"]["delimiter"], delimiter, "{name}");
        assert_eq!(m["counts"], reference["counts"], "{name}");
        assert_eq!(m["missing"], reference["missing"], "{name}");
        let got = std::fs::read(p.join(&out)).unwrap();
        assert!(got == want, "{name} with {extra:?} encodes to other bytes");
    }
}

#[test]
fn renamed_columns_map_by_file_or_by_argument_and_are_recorded() {
    let (_d, p) = workspace();
    encode(&p, "people.csv", "ref.csv", &[]);
    let want = std::fs::read(p.join("ref.csv")).unwrap();
    let csv_map = corpus().join("columns.csv");
    let m = encode(
        &p,
        "people-renamed.csv",
        "a.csv",
        &["--columns", csv_map.to_str().unwrap()],
    );
    assert_eq!(std::fs::read(p.join("a.csv")).unwrap(), want);
    assert_eq!(m["input"]["column_map"]["first_name"], "Forename");
    let args = [
        "--column",
        "record_id=PersonID",
        "--column",
        "first_name=Forename",
        "--column",
        "last_name=Surname",
        "--column",
        "date_of_birth=DOB",
        "--column",
        "postcode=Post Code",
    ];
    encode(&p, "people-renamed.csv", "b.csv", &args);
    assert_eq!(std::fs::read(p.join("b.csv")).unwrap(), want);
}

#[test]
fn a_missing_id_column_lists_the_header_and_says_how_to_map_it() {
    let (_d, p) = workspace();
    let input = corpus().join("people-renamed.csv");
    let o = run(&p, &encode_args(input.to_str().unwrap(), "o.csv"));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("people-renamed.csv, line 1, field 'record_id'"),
        "{t}"
    );
    assert!(
        t.contains("(found: PersonID, Forename, middle_name, Surname, DOB"),
        "{t}"
    );
    assert!(t.contains("--column record_id=<column>"), "{t}");
    // A field's column absent: encoded as missing, and the output says how to map it.
    let mut args = encode_args(input.to_str().unwrap(), "o.csv");
    args.extend(["--column", "record_id=PersonID"]);
    let o = run(&p, &args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("--column first_name=<its column>"),
        "{}",
        text(&o)
    );
}

#[test]
fn bad_mappings_encodings_and_delimiters_are_refused_clearly() {
    let (_d, p) = workspace();
    let input = corpus().join("people-renamed.csv");
    let input = input.to_str().unwrap();
    let cases: [(&[&str], i32, &str); 6] = [
        (
            &["--column", "record_id=Nope"],
            3,
            "maps 'record_id' to 'Nope', which is not in the header (found: PersonID,",
        ),
        (
            &["--column", "forename=Forename"],
            2,
            "'forename', which is not a column of the schema",
        ),
        (
            &["--column", "first_name"],
            2,
            "is not SCHEMA_COLUMN=INPUT_COLUMN",
        ),
        (
            &["--column", "first_name=A", "--column", "first_name=B"],
            2,
            "maps 'first_name' twice",
        ),
        (
            &["--encoding", "ebcdic"],
            2,
            "unknown text encoding 'ebcdic'",
        ),
        (&["--delimiter", ":"], 2, "unknown delimiter ':'"),
    ];
    for (extra, code, says) in cases {
        let mut args = encode_args(input, "o.csv");
        args.extend_from_slice(extra);
        let o = run(&p, &args);
        assert_eq!(o.status.code(), Some(code), "{extra:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{extra:?}: {}", text(&o));
        assert!(!p.join("o.csv").exists());
    }
}

#[test]
fn windows_1252_read_as_utf8_is_rejected_with_the_hint_to_give_the_encoding() {
    let (_d, p) = workspace();
    let input = corpus().join("people-windows-1252.csv");
    let o = run(&p, &encode_args(input.to_str().unwrap(), "o.csv"));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("people-windows-1252.csv, line 2, field 'first_name'"),
        "{t}"
    );
    assert!(
        t.contains("give its encoding, e.g. --encoding windows-1252"),
        "{t}"
    );
}

#[test]
fn a_broken_utf16_file_is_refused_naming_its_line() {
    let (_d, p) = workspace();
    let mut bytes = std::fs::read(corpus().join("people-excel-unicode.txt")).unwrap();
    // An unpaired high surrogate in the third line (the second data row's id).
    let third = bytes
        .chunks(2)
        .enumerate()
        .filter(|(_, c)| c == &[b'\n', 0])
        .nth(1)
        .map(|(i, _)| 2 * i + 2)
        .unwrap();
    bytes[third..third + 2].copy_from_slice(&0xD800u16.to_le_bytes());
    std::fs::write(p.join("broken.txt"), bytes).unwrap();
    let o = run(
        &p,
        &[
            encode_args("broken.txt", "o.csv").as_slice(),
            &["--delimiter", "tab"],
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("line 3: the text is not valid utf-16le"),
        "{}",
        text(&o)
    );
    assert!(!p.join("o.csv").exists());
}

#[test]
fn links_name_their_sources_by_the_manifests_source_and_one_name_twice_is_refused() {
    let (_d, p) = workspace();
    for (out, source) in [
        ("a.csv", "council"),
        ("b.csv", "school"),
        ("c.csv", "police"),
        ("d.csv", "council"),
    ] {
        encode(&p, "people.csv", out, &["--source", source]);
    }
    let link = |inputs: &[&str]| {
        let mut args = vec!["link", "--schema", "s.json", "--output", "links.csv"];
        for i in inputs {
            args.extend(["--input", i]);
        }
        run(&p, &args)
    };
    let o = link(&["a.csv", "b.csv", "c.csv"]);
    assert!(o.status.success(), "{}", text(&o));
    let links = std::fs::read_to_string(p.join("links.csv")).unwrap();
    let mut lines = links.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let left = header.iter().position(|c| *c == "left_source").unwrap();
    let right = header.iter().position(|c| *c == "right_source").unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        seen.insert(cells[left].to_string());
        seen.insert(cells[right].to_string());
    }
    let want: std::collections::BTreeSet<String> =
        ["council", "police", "school"].map(String::from).into();
    assert_eq!(seen, want, "{links}");
    let o = link(&["a.csv", "b.csv", "d.csv"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("were both encoded with the source name 'council'"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_bad_source_name_is_refused() {
    let (_d, p) = workspace();
    let input = corpus().join("people.csv");
    let mut args = encode_args(input.to_str().unwrap(), "o.csv");
    args.extend(["--source", " council"]);
    let o = run(&p, &args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("must be 1 to 64 characters"),
        "{}",
        text(&o)
    );
}

#[test]
fn the_workbook_and_the_parquet_file_encode_to_the_bytes_of_the_utf8_csv() {
    let (_d, p) = workspace();
    let reference = encode(&p, "people.csv", "ref.csv", &[]);
    let want = std::fs::read(p.join("ref.csv")).unwrap();
    let cases: [(&str, &[&str], &str, Option<&str>); 3] = [
        ("people.xlsx", &[], "xlsx", Some("People")),
        (
            "people.xlsx",
            &["--sheet", "People"],
            "xlsx",
            Some("People"),
        ),
        ("people.parquet", &[], "parquet", None),
    ];
    for (i, (name, extra, format, sheet)) in cases.into_iter().enumerate() {
        let out = format!("o{i}.csv");
        let m = encode(&p, name, &out, extra);
        assert_eq!(m["input"]["format"], format, "{name}");
        assert_eq!(m["input"]["sheet"].as_str(), sheet, "{name}");
        assert!(m["input"].get("text_encoding").is_none(), "{name}");
        assert_eq!(m["counts"], reference["counts"], "{name}");
        assert_eq!(m["missing"], reference["missing"], "{name}");
        assert_ne!(m["input"]["blake3"], reference["input"]["blake3"], "{name}");
        let got = std::fs::read(p.join(&out)).unwrap();
        assert!(got == want, "{name} with {extra:?} encodes to other bytes");
    }
}

#[test]
fn a_missing_sheet_a_false_workbook_and_text_options_are_refused_clearly() {
    let (_d, p) = workspace();
    std::fs::write(p.join("fake.xlsx"), "record_id\nc1\n").unwrap();
    std::fs::write(p.join("cut.parquet"), b"PAR1\x15\x04\x15").unwrap();
    let xlsx = corpus().join("people.xlsx");
    let xlsx = xlsx.to_str().unwrap();
    let csv = corpus().join("people.csv");
    let csv = csv.to_str().unwrap();
    let cases: [(&str, &[&str], i32, &str); 7] = [
        (
            xlsx,
            &["--sheet", "Nope"],
            3,
            "people.xlsx: no sheet 'Nope' in the workbook (its sheets: 'People', 'Notes')",
        ),
        (
            xlsx,
            &["--sheet", "Notes"],
            3,
            "people.xlsx, line 1, field 'record_id': no record id column",
        ),
        (
            xlsx,
            &["--delimiter", ";"],
            2,
            "a text encoding and a delimiter apply to CSV text",
        ),
        (
            csv,
            &["--sheet", "People"],
            2,
            "a sheet applies to Excel workbooks",
        ),
        (
            "fake.xlsx",
            &[],
            3,
            "fake.xlsx, line 1: the file is named .xlsx but is not an Excel workbook",
        ),
        (
            "cut.parquet",
            &[],
            3,
            "cut.parquet, line 1: not a readable Parquet file",
        ),
        (
            xlsx,
            &["--column", "first_name=Forename"],
            3,
            "maps 'first_name' to 'Forename', which is not in the header",
        ),
    ];
    for (input, extra, code, says) in cases {
        let mut args = encode_args(input, "o.csv");
        args.extend_from_slice(extra);
        let o = run(&p, &args);
        assert_eq!(o.status.code(), Some(code), "{extra:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{input} {extra:?}: {}", text(&o));
        assert!(!p.join("o.csv").exists());
    }
}
