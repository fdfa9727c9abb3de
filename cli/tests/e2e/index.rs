//! `pseudolink index`: create, add, export, remove, compact through the binary, and crash safety (the
//! process killed in the middle of `add` leaves the previous state readable).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{encode_args, run, text, workspace, write_secret};

/// Synthetic data: agency a encoded whole, agency b in halves b1 and b2.
fn data(dir: &Path) {
    let o = run(
        dir,
        &["synth", "--people", "1500", "--seed", "3", "--out", "data"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let b = std::fs::read_to_string(dir.join("data/agency_b.csv")).expect("agency b");
    let mut lines = b.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.collect();
    let half = rows.len() / 2;
    for (name, part) in [("b1", &rows[..half]), ("b2", &rows[half..])] {
        let mut s = format!("{header}\n");
        for r in part {
            s.push_str(r);
            s.push('\n');
        }
        std::fs::write(dir.join(format!("{name}.csv")), s).expect("write half");
    }
    std::fs::copy(dir.join("data/agency_a.csv"), dir.join("a.csv")).expect("copy a");
    for name in ["a", "b1", "b2"] {
        let (input, output) = (format!("{name}.csv"), format!("{name}.enc.csv"));
        let o = run(dir, &encode_args(&input, &output));
        assert!(o.status.success(), "{}", text(&o));
    }
}

fn create(dir: &Path) {
    let o = run(
        dir,
        &[
            "index",
            "create",
            "--schema",
            "s.json",
            "--input",
            "a.enc.csv",
            "--input",
            "b1.enc.csv",
            "--source",
            "a",
            "--source",
            "b",
            "--output",
            "idx",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
}

fn export(dir: &Path) -> String {
    let o = run(
        dir,
        &[
            "index",
            "export",
            "--index",
            "idx",
            "--output",
            "persons.csv",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    std::fs::read_to_string(dir.join("persons.csv")).expect("export")
}

fn add_command(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pseudolink"));
    c.args([
        "index",
        "add",
        "--index",
        "idx",
        "--input",
        "b2.enc.csv",
        "--source",
        "b",
        "--output",
        "assigned.csv",
    ])
    .current_dir(dir);
    c
}

#[test]
fn create_add_export_remove() {
    let (_t, dir) = workspace();
    data(&dir);
    create(&dir);
    let before = export(&dir);
    let n_before = before.lines().count() - 1;
    let o = add_command(&dir).output().expect("add runs");
    assert!(o.status.success(), "{}", text(&o));
    let assigned = std::fs::read_to_string(dir.join("assigned.csv")).expect("assigned");
    assert!(assigned
        .starts_with("record_id,source,person_id,match_probability,band,candidate_person_id\n"));
    let n_b2 = std::fs::read_to_string(dir.join("b2.csv"))
        .expect("b2")
        .lines()
        .count()
        - 1;
    assert_eq!(assigned.lines().count() - 1, n_b2);
    assert!(assigned.contains(",match,"));
    let after = export(&dir);
    assert_eq!(after.lines().count() - 1, n_before + n_b2);
    // The same extract again: refused, named, nothing changes (exit 3, an input error).
    let o = add_command(&dir).output().expect("add runs");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("b2.enc.csv, line 2"), "{}", text(&o));
    assert_eq!(export(&dir), after);
    // Again with --rejects: every row set aside, counted, nothing added.
    let o = add_command(&dir)
        .args(["--rejects", "rejects.csv"])
        .output()
        .expect("add runs");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "read {n_b2} rows from b2.enc.csv: 0 assigned + {n_b2} rejected = {n_b2}"
        )),
        "{}",
        text(&o)
    );
    let rejects = std::fs::read_to_string(dir.join("rejects.csv")).expect("rejects");
    assert!(rejects
        .starts_with("line,reason,field,message,record_id\n2,duplicate_record_id,record_id,"));
    assert_eq!(rejects.lines().count() - 1, n_b2);
    assert_eq!(export(&dir), after);
    // Withdraw one record.
    let line = after
        .lines()
        .find(|l| l.starts_with("b,"))
        .expect("a b record");
    let id = line.split(',').nth(1).expect("id");
    let o = run(
        &dir,
        &[
            "index",
            "remove",
            "--index",
            "idx",
            "--source",
            "b",
            "--record-id",
            id,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let gone = export(&dir);
    assert_eq!(gone.lines().count(), after.lines().count() - 1);
    assert!(!gone.contains(&format!("b,{id},")));
}

#[test]
fn an_extract_of_another_secret_is_refused() {
    let (_t, dir) = workspace();
    data(&dir);
    create(&dir);
    write_secret(
        &dir.join("other.hex"),
        "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eff",
    );
    let o = run(
        &dir,
        &[
            "encode",
            "--schema",
            "s.json",
            "--secret-file",
            "other.hex",
            "--input",
            "b2.csv",
            "--output",
            "foreign.enc.csv",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let before = export(&dir);
    let o = run(
        &dir,
        &[
            "index",
            "add",
            "--index",
            "idx",
            "--input",
            "foreign.enc.csv",
            "--output",
            "x.csv",
        ],
    );
    assert_eq!(o.status.code(), Some(6), "{}", text(&o));
    assert!(text(&o).contains("key check value"), "{}", text(&o));
    assert!(!dir.join("x.csv").exists());
    assert_eq!(export(&dir), before);
}

#[test]
fn a_process_killed_during_add_leaves_the_previous_state_readable() {
    let (_t, dir) = workspace();
    data(&dir);
    create(&dir);
    let before = export(&dir);
    // Killed with everything written into the transaction but not committed.
    let mut child = add_command(&dir)
        .env("PSEUDOLINK_INDEX_TEST_PAUSE", "before-commit")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("add starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut line = String::new();
    BufReader::new(stderr)
        .read_line(&mut line)
        .expect("read stderr");
    assert!(line.contains("paused at before-commit"), "{line}");
    child.kill().expect("kill");
    let _ = child.wait();
    assert_eq!(export(&dir), before, "the killed add changed the index");
    assert!(!dir.join("assigned.csv").exists());
    // Killed at arbitrary moments: the index is always the old state or the new one, whole.
    let n_before = before.lines().count();
    let mut finished = false;
    for delay in [20u64, 60, 120, 250, 400, 700] {
        let mut child = add_command(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("add starts");
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        let now = export(&dir);
        if now != before {
            assert!(now.lines().count() > n_before, "a partial add is visible");
            finished = true;
            break;
        }
    }
    if !finished {
        let o = add_command(&dir).output().expect("add runs");
        assert!(o.status.success(), "{}", text(&o));
    }
    let after = export(&dir);
    let n_b2 = std::fs::read_to_string(dir.join("b2.csv"))
        .expect("b2")
        .lines()
        .count()
        - 1;
    assert_eq!(after.lines().count(), n_before + n_b2);
}

#[test]
fn compact_moves_recent_keys_changes_no_person_and_survives_a_kill() {
    let (_t, dir) = workspace();
    data(&dir);
    create(&dir);
    // Nothing added yet: nothing to compact.
    let o = run(&dir, &["index", "compact", "--index", "idx"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("nothing to compact"), "{}", text(&o));
    let o = add_command(&dir).output().expect("add runs");
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("index compact"), "{}", text(&o));
    let added = export(&dir);
    // Killed before its commit: the index is as it was.
    let mut child = Command::new(env!("CARGO_BIN_EXE_pseudolink"))
        .args(["index", "compact", "--index", "idx"])
        .current_dir(&dir)
        .env("PSEUDOLINK_INDEX_TEST_PAUSE", "before-compact-commit")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("compact starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut line = String::new();
    BufReader::new(stderr)
        .read_line(&mut line)
        .expect("read stderr");
    assert!(line.contains("paused at before-compact-commit"), "{line}");
    child.kill().expect("kill");
    let _ = child.wait();
    assert_eq!(export(&dir), added);
    // Run whole: moves the recent entries, same persons; a second run has nothing to do.
    let o = run(&dir, &["index", "compact", "--index", "idx"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("compacted idx: moved "), "{out}");
    assert!(!out.contains("moved 0 "), "{out}");
    assert_eq!(export(&dir), added);
    let o = run(&dir, &["index", "compact", "--index", "idx"]);
    assert!(text(&o).contains("nothing to compact"), "{}", text(&o));
    // A folder without an index: an error, named.
    let o = run(&dir, &["index", "compact", "--index", "nowhere"]);
    assert!(!o.status.success(), "{}", text(&o));
}
