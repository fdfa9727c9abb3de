//! The in-memory encoders and the writer give what `encode_file` gives.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::rows;

use super::*;
use crate::io::raw::RejectReason;
use crate::{Encoder, Error, Schema, Secret};

const CSV: &str = "record_id,first_name,middle_name,last_name,date_of_birth,sex,postcode,address_line_1,nhs_number,notes\n\
a1,John,Paul,Smith,2014-03-09,M,CV1 2AB,12 High Street,9434765919,x\n\
a2,Zoë,,\"O'Neil, Jr\",9/3/14,F,cv12ab,,,y\n\
,Nobody,,Here,2000-01-01,F,,,,\n\
a1,Dup,,Row,2000-01-01,F,,,,\n\
a4,Sam,,Taylor,31/02/2014,9,CV3 4FJ,,,\n";

fn encoder() -> Encoder {
    let secret = Secret::from_bytes(&[3u8; 32]).unwrap();
    Encoder::new(&Schema::example(), &secret)
}

/// The CSV as an in-memory table: strings, with empty cells as nulls.
struct Rows {
    cells: Vec<Vec<Option<String>>>,
}

impl TextColumns for Rows {
    fn rows(&self) -> usize {
        self.cells.len()
    }
    fn cell(&self, column: usize, row: usize) -> Option<&str> {
        self.cells[row][column].as_deref()
    }
}

fn table() -> (Vec<String>, Vec<Rows>) {
    let mut reader = csv::Reader::from_reader(CSV.as_bytes());
    let names = reader.headers().unwrap().iter().map(String::from).collect();
    let cells: Vec<Vec<Option<String>>> = reader
        .records()
        .map(|r| {
            r.unwrap()
                .iter()
                .map(|c| (!c.is_empty()).then(|| c.to_string()))
                .collect()
        })
        .collect();
    // Two batches, to check that lines run on across batches.
    let (a, b) = cells.split_at(2);
    (
        names,
        vec![Rows { cells: a.to_vec() }, Rows { cells: b.to_vec() }],
    )
}

fn without_times(mut m: crate::io::Manifest) -> crate::io::Manifest {
    m.run.started_at.clear();
    m.run.finished_at.clear();
    m
}

/// Asserts that an extract and its rejects file hold the bytes of an expected pair, and that
/// its manifest is the expected one but for the run's times and the files' names.
fn assert_same_files(
    (out, rejects, manifest): (&Path, &Path, &crate::io::Manifest),
    (expected_out, expected_rejects, expected): (&Path, &Path, &crate::io::Manifest),
) {
    assert_eq!(
        std::fs::read(out).unwrap(),
        std::fs::read(expected_out).unwrap()
    );
    assert_eq!(
        std::fs::read(rejects).unwrap(),
        std::fs::read(expected_rejects).unwrap()
    );
    let mut expected = without_times(expected.clone());
    expected.output.path = out.display().to_string();
    expected.rejects = Some(rejects.display().to_string());
    assert_eq!(without_times(manifest.clone()), expected);
}

#[test]
fn encode_csv_then_write_gives_the_bytes_of_encode_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, CSV).unwrap();
    let enc = encoder();
    let cli_out = dir.path().join("cli.csv");
    let cli_rejects = dir.path().join("cli.rejects.csv");
    let options = EncodeOptions {
        rejects: Rejects::File(cli_rejects.clone()),
        ..EncodeOptions::default()
    };
    let none = RunControl::default();
    let cli_manifest = encode_file(&enc, &input, &cli_out, &options, &none).unwrap();

    let options = EncodeOptions {
        rejects: Rejects::Keep,
        ..EncodeOptions::default()
    };
    let encoded = encode_csv(&enc, &input, &options, &none).unwrap();
    assert_eq!(encoded.records.len(), 3);
    assert_eq!(encoded.rejected.len(), 2);
    assert_eq!(
        encoded.manifest.output,
        crate::io::manifest::FileRecord::default()
    );
    let out = dir.path().join("mem.csv");
    let rejects = dir.path().join("mem.rejects.csv");
    let written = write_encoded(
        &encoded.records,
        &encoded.rejected,
        &encoded.manifest,
        enc.layout(),
        &out,
        Some(&rejects),
        &none,
    )
    .unwrap();
    assert_same_files(
        (&out, &rejects, &written),
        (&cli_out, &cli_rejects, &cli_manifest),
    );
    let on_disk = crate::io::Manifest::read_for(&out).unwrap();
    assert_eq!(on_disk, written);
    // The fingerprint of the extract in memory is that of the file it is written to.
    assert_eq!(
        encoded_fingerprint(&encoded.records, enc.layout()),
        (written.output.bytes, written.output.blake3.clone())
    );
}

#[test]
fn tables_encode_like_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, CSV).unwrap();
    let enc = encoder();
    let options = EncodeOptions {
        rejects: Rejects::Keep,
        ..EncodeOptions::default()
    };
    let none = RunControl::default();
    let from_csv = encode_csv(&enc, &input, &options, &none).unwrap();
    let (names, batches) = table();
    let from_table = encode_table(&enc, &names, &batches, "<rows>", &options, &none).unwrap();
    assert_eq!(from_table.records, from_csv.records);
    assert_eq!(from_table.rejected, from_csv.rejected);
    let (t, c) = (&from_table.manifest, &from_csv.manifest);
    assert_eq!(t.counts, c.counts);
    assert_eq!(t.missing, c.missing);
    assert_eq!(t.rejected_by_reason, c.rejected_by_reason);
    assert_eq!(t.ignored_columns, vec!["notes".to_string()]);
    // The input's name is only in the manifest as a keyed hash (the linkage unit reads it).
    assert_eq!(t.input.path_keyed.len(), 32);
    assert_eq!(t.pair_stats, c.pair_stats);
    assert!(!serde_json::to_string(t).unwrap().contains("<rows>"));
    let reasons: Vec<RejectReason> = from_table.rejected.iter().map(|r| r.reason).collect();
    assert_eq!(
        reasons,
        [RejectReason::EmptyRecordId, RejectReason::DuplicateRecordId]
    );
    assert_eq!(from_table.rejected[0].line, 4);
    assert_eq!(from_table.rejected[1].line, 5);
}

/// A run that keeps its sample leaves the pair statistics out of the manifest, and the sample
/// counts to the statistics the run would have written. A run to a file refuses to keep it.
#[test]
fn a_kept_sample_counts_to_the_manifests_pair_statistics() {
    let enc = encoder();
    let none = RunControl::default();
    let (names, batches) = table();
    let counted = EncodeOptions {
        rejects: Rejects::Keep,
        ..EncodeOptions::default()
    };
    let kept = EncodeOptions {
        keep_sample: true,
        ..counted.clone()
    };
    let whole = encode_table(&enc, &names, &batches, "<rows>", &counted, &none).unwrap();
    assert!(whole.sample.is_none());
    let stats = whole.manifest.pair_stats.clone().unwrap();
    assert!(stats.random_records > 0);
    let sampled = encode_table(&enc, &names, &batches, "<rows>", &kept, &none).unwrap();
    assert_eq!(sampled.records, whole.records);
    assert_eq!(sampled.manifest.pair_stats, None);
    let sample = sampled.sample.unwrap();
    assert_eq!(
        sample.finish(enc.schema(), enc.features(), None).unwrap(),
        stats
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let to_file = EncodeOptions {
        rejects: Rejects::File(dir.path().join("rejects.csv")),
        keep_sample: true,
        ..EncodeOptions::default()
    };
    let err = encode_table_file(&enc, &names, &batches, "<rows>", &out, &to_file, &none);
    assert!(matches!(err, Err(Error::Invalid(m)) if m.contains("runs into memory")));
    assert!(!out.exists());
}

#[test]
fn without_keeping_rejects_the_first_bad_row_is_an_error_naming_line_and_field() {
    let enc = encoder();
    let (names, batches) = table();
    let options = EncodeOptions::default();
    let none = RunControl::default();
    let err = encode_table(&enc, &names, &batches, "<rows>", &options, &none).unwrap_err();
    match err {
        Error::Input { location, message } => {
            assert_eq!(location.line, Some(4));
            assert_eq!(location.field.as_deref(), Some("record_id"));
            assert!(location.file.is_none());
            assert!(message.contains("keep rejected rows"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn cancelled_runs_stop_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, CSV).unwrap();
    let enc = encoder();
    let cancel = AtomicBool::new(true);
    let options = EncodeOptions {
        rejects: Rejects::Keep,
        ..EncodeOptions::default()
    };
    let cancelled = RunControl::new().cancel(&cancel);
    assert!(matches!(
        encode_csv(&enc, &input, &options, &cancelled),
        Err(Error::Cancelled)
    ));
    let (names, batches) = table();
    assert!(matches!(
        encode_table(&enc, &names, &batches, "<rows>", &options, &cancelled),
        Err(Error::Cancelled)
    ));
    let encoded = encode_csv(&enc, &input, &options, &RunControl::default()).unwrap();
    let out = dir.path().join("out.csv");
    let written = write_encoded(
        &encoded.records,
        &encoded.rejected,
        &encoded.manifest,
        enc.layout(),
        &out,
        None,
        &cancelled,
    );
    assert!(matches!(written, Err(Error::Cancelled)));
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("in.csv")]);
    assert!(!Path::new(&out).exists());
}

/// A run that stops early (a bad row without rejects, a cancel) must not wait for the reader
/// thread, which is blocked sending the next chunks: it once hung forever.
#[test]
fn stopping_early_in_a_long_file_returns_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("long.csv");
    let mut text = String::from("record_id,first_name\n,empty id on line 2\n");
    for i in 0..100_000 {
        text.push_str(&format!("r{i},Ann\n"));
    }
    std::fs::write(&input, text).unwrap();
    let enc = encoder();
    let (tx, rx) = std::sync::mpsc::channel();
    let input2 = input.clone();
    std::thread::spawn(move || {
        let out = input2.with_extension("out");
        let (options, none) = (EncodeOptions::default(), RunControl::default());
        let file = encode_file(&enc, &input2, &out, &options, &none);
        let memory = encode_csv(&enc, &input2, &options, &none);
        let _ = tx.send((file.is_err(), memory.is_err()));
    });
    let got = rx.recv_timeout(std::time::Duration::from_secs(60));
    assert_eq!(got.ok(), Some((true, true)), "the run did not return");
    assert!(!input.with_extension("out").exists());
}

/// A file of more rows than the reader's pool of chunks holds, so that every chunk is refilled
/// in place several times: rows of varying lengths (a short row read into a record that held a
/// long one must leave nothing of it behind), rows with invalid UTF-8 in a column the schema
/// reads and in one it ignores, wrong cell counts and duplicate ids, spread over the chunks.
/// Each encoded row is checked against the row encoded on its own, and each reject by line.
#[test]
fn rows_refilled_in_recycled_chunks_encode_like_rows_encoded_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let mut text = b"record_id,first_name,last_name,date_of_birth,notes\n".to_vec();
    let mut expected_rejects = Vec::new();
    let mut accepted: Vec<(String, String, String, String)> = Vec::new();
    let rows = 6 * rows::CHUNK_ROWS + 123;
    for i in 0..rows {
        let line = i as u64 + 2;
        let first = "ab".repeat(1 + (i * 7) % 23);
        let last = if i % 3 == 0 {
            "O'Neil, Jr".to_string()
        } else {
            format!("L{}", i % 101)
        };
        let dob = format!("{:04}-{:02}-{:02}", 1950 + i % 60, 1 + i % 12, 1 + i % 28);
        if i % 7001 == 5 {
            text.extend_from_slice(format!("r{i},").as_bytes());
            text.extend_from_slice(b"bad\xffname,X,2000-01-01,\n");
            expected_rejects.push((line, "invalid_utf8"));
        } else if i % 9001 == 7 {
            text.extend_from_slice(format!("r{i},{first}\n").as_bytes());
            expected_rejects.push((line, "wrong_field_count"));
        } else if i % 10007 == 9 && i > 10 {
            text.extend_from_slice(format!("r1,{first},\"{last}\",{dob},\n").as_bytes());
            expected_rejects.push((line, "duplicate_record_id"));
        } else {
            // Invalid UTF-8 in the ignored column: the row is kept.
            let notes: &[u8] = if i % 5003 == 11 { b"\xfe\xff" } else { b"n" };
            text.extend_from_slice(format!("r{i},{first},\"{last}\",{dob},").as_bytes());
            text.extend_from_slice(notes);
            text.push(b'\n');
            accepted.push((format!("r{i}"), first, last, dob));
        }
    }
    std::fs::write(&input, &text).unwrap();
    let enc = encoder();
    let out = dir.path().join("out.csv");
    let rejects = dir.path().join("rejects.csv");
    let options = EncodeOptions {
        rejects: Rejects::File(rejects.clone()),
        ..EncodeOptions::default()
    };
    let manifest = encode_file(&enc, &input, &out, &options, &RunControl::default()).unwrap();
    assert_eq!(manifest.counts.rows_read, rows as u64);
    assert_eq!(manifest.counts.encoded, accepted.len() as u64);
    assert_eq!(manifest.counts.rejected, expected_rejects.len() as u64);

    let written = std::fs::read(&out).unwrap();
    let mut lines = written.split(|&b| b == b'\n');
    lines.next(); // the header
    let mut scratch = enc.scratch();
    for (id, first, last, dob) in &accepted {
        let values = [id.as_str(), first, "", last, dob, "", "", "", ""];
        let (record, _) = enc.encode_values(&values, &mut scratch).unwrap();
        let mut want = Vec::new();
        record.write_csv_row(enc.layout(), &mut want);
        assert_eq!(lines.next(), Some(&want[..]), "row {id}");
    }
    assert_eq!(lines.next(), Some(&b""[..]));
    assert_eq!(lines.next(), None);

    let rejects = std::fs::read_to_string(&rejects).unwrap();
    let got: Vec<(u64, String)> = rejects
        .lines()
        .skip(1)
        .map(|l| {
            let mut cells = l.split(',');
            let line = cells.next().unwrap().parse().unwrap();
            let reason = cells.next().unwrap().to_string();
            (line, reason)
        })
        .collect();
    let want: Vec<(u64, String)> = expected_rejects
        .iter()
        .map(|(l, r)| (*l, r.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn tables_encoded_to_a_file_are_what_encode_table_then_write_encoded_writes() {
    let dir = tempfile::tempdir().unwrap();
    let enc = encoder();
    let (names, batches) = table();
    let in_memory = encode_table(
        &enc,
        &names,
        &batches,
        "<rows>",
        &EncodeOptions {
            rejects: Rejects::Keep,
            ..EncodeOptions::default()
        },
        &RunControl::default(),
    )
    .unwrap();
    let (a, a_rejects) = (dir.path().join("a.csv"), dir.path().join("a.rej.csv"));
    let written = write_encoded(
        &in_memory.records,
        &in_memory.rejected,
        &in_memory.manifest,
        enc.layout(),
        &a,
        Some(&a_rejects),
        &RunControl::default(),
    )
    .unwrap();
    let (b, b_rejects) = (dir.path().join("b.csv"), dir.path().join("b.rej.csv"));
    let direct = encode_table_file(
        &enc,
        &names,
        &batches,
        "<rows>",
        &b,
        &EncodeOptions {
            rejects: Rejects::File(b_rejects.clone()),
            ..EncodeOptions::default()
        },
        &RunControl::default(),
    )
    .unwrap();
    assert_same_files((&b, &b_rejects, &direct), (&a, &a_rejects, &written));
    let on_disk = std::fs::read_to_string(crate::io::manifest::manifest_path(&b)).unwrap();
    assert_eq!(on_disk.trim_end(), direct.to_json());
    assert_eq!(direct.counts.rejected, 2);
}

#[test]
fn a_table_to_a_file_without_rejects_stops_at_the_first_bad_row_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let enc = encoder();
    let (names, batches) = table();
    let out = dir.path().join("out.csv");
    let run = |options: &EncodeOptions, control: &RunControl<'_>| {
        encode_table_file(&enc, &names, &batches, "<rows>", &out, options, control)
    };
    let none = RunControl::default();
    match run(&EncodeOptions::default(), &none).unwrap_err() {
        Error::Input { location, message } => {
            assert_eq!(location.line, Some(4));
            assert_eq!(location.field.as_deref(), Some("record_id"));
            assert!(message.contains("pass a rejects file"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    // Refused: the id check's options of CSV files; cancelled: stops.
    let err = run(
        &EncodeOptions {
            id_memory: Some(1 << 20),
            ..EncodeOptions::default()
        },
        &none,
    )
    .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    let cancel = AtomicBool::new(true);
    let cancelled = run(
        &EncodeOptions {
            rejects: Rejects::File(dir.path().join("rej.csv")),
            ..EncodeOptions::default()
        },
        &RunControl::new().cancel(&cancel),
    );
    assert!(matches!(cancelled, Err(Error::Cancelled)));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn one_options_struct_refuses_what_its_run_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, CSV).unwrap();
    let enc = encoder();
    let none = RunControl::default();
    let out = dir.path().join("out.csv");
    // Rows kept in memory by a run to a file; a rejects file for a run into memory; the id
    // check's options for a run into memory.
    let keep = EncodeOptions {
        rejects: Rejects::Keep,
        ..EncodeOptions::default()
    };
    let file = EncodeOptions {
        rejects: Rejects::File(dir.path().join("rej.csv")),
        ..EncodeOptions::default()
    };
    let budget = EncodeOptions {
        id_memory: Some(1 << 20),
        ..EncodeOptions::default()
    };
    let (names, batches) = table();
    let errors = [
        encode_file(&enc, &input, &out, &keep, &none).unwrap_err(),
        encode_table_file(&enc, &names, &batches, "t", &out, &keep, &none).unwrap_err(),
        encode_csv(&enc, &input, &file, &none).unwrap_err(),
        encode_table(&enc, &names, &batches, "t", &file, &none).unwrap_err(),
        encode_csv(&enc, &input, &budget, &none).unwrap_err(),
        encode_table(&enc, &names, &batches, "t", &budget, &none).unwrap_err(),
    ];
    for e in errors {
        assert!(matches!(e, Error::Invalid(_)), "{e:?}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn the_run_control_reports_progress_and_times_the_stages() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, CSV).unwrap();
    let enc = encoder();
    let rows = std::sync::Mutex::new(Vec::new());
    let progress = |p: Progress| rows.lock().unwrap().push((p.rows, p.bytes_read));
    let timings = Timings::new();
    let control = RunControl::new().progress(&progress).timings(&timings);
    let options = EncodeOptions {
        rejects: Rejects::File(dir.path().join("rej.csv")),
        ..EncodeOptions::default()
    };
    let out = dir.path().join("out.csv");
    let m = encode_file(&enc, &input, &out, &options, &control).unwrap();
    assert_eq!(m.counts.rows_read, m.counts.encoded + m.counts.rejected);
    let size = CSV.len() as u64;
    assert_eq!(rows.lock().unwrap().last(), Some(&(5, size)));
    let stages: Vec<&str> = timings.stages().iter().map(|(s, _)| *s).collect();
    assert_eq!(stages, ["encoding", "pair statistics", "writing"]);
}

/// The files of `core/src/run` use each other without a cycle: a source, the checks, the
/// encoder and a sink, each using only those below it. `mod.rs` only declares and re-exports;
/// test modules may use anything.
#[test]
fn run_modules_form_no_cycle() {
    use std::collections::{BTreeMap, BTreeSet};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/run");
    let code = |name: &str| {
        let text = std::fs::read_to_string(dir.join(format!("{name}.rs"))).unwrap();
        let text = match text.find("#[cfg(test)]\nmod tests") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        // Doc comments name items without using them.
        text.lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut modules: BTreeSet<String> = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(m) = name.strip_suffix(".rs") {
            if m != "mod" && m != "tests" {
                modules.insert(m.to_string());
            }
        }
    }
    // Items re-exported by mod.rs, by the module that defines them.
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    let root = code("mod");
    for statement in root.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let (module, items) = rest.split_once("::").unwrap();
        for item in items.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if !item.is_empty() {
                owner.insert(item.to_string(), module.to_string());
            }
        }
    }
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in &modules {
        let text = code(m);
        let mut used = BTreeSet::new();
        for prefix in ["super::", "crate::run::"] {
            for (i, _) in text.match_indices(prefix) {
                let rest = &text[i + prefix.len()..];
                // `super::{a, b::c}` names several.
                let names: Vec<&str> = match rest.strip_prefix('{') {
                    Some(group) => group[..group.find('}').unwrap()]
                        .split(',')
                        .map(|n| n.trim().split("::").next().unwrap())
                        .collect(),
                    None => vec![rest
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .unwrap()],
                };
                for name in names {
                    let target = if modules.contains(name) {
                        Some(name.to_string())
                    } else {
                        owner.get(name).cloned()
                    };
                    if let Some(t) = target.filter(|t| t != m) {
                        used.insert(t);
                    }
                }
            }
        }
        uses.insert(m.clone(), used);
    }
    // Depth-first search for a cycle.
    fn visit(
        m: &str,
        uses: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(at) = path.iter().position(|p| p == m) {
            panic!(
                "a cycle among core/src/run: {} -> {m}",
                path[at..].join(" -> ")
            );
        }
        if done.contains(m) {
            return;
        }
        path.push(m.to_string());
        for next in &uses[m] {
            visit(next, uses, path, done);
        }
        path.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    for m in &modules {
        visit(m, &uses, &mut Vec::new(), &mut done);
    }
    // The pipeline's shape: the lower stages do not know the ones that use them.
    for (low, high) in [
        ("source", "check"),
        ("source", "pipeline"),
        ("ids", "source"),
        ("check", "source"),
        ("encoder", "check"),
        ("sink", "check"),
        ("sink", "pipeline"),
    ] {
        assert!(!uses[low].contains(high), "{low} uses {high}");
    }
    assert!(uses["pipeline"].contains("source"), "{uses:?}");
}
