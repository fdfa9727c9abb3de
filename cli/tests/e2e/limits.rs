//! Resource limits and safe outputs: a pathological block is capped with a warning, in bounded
//! memory and time; an interrupted, killed or failed run never leaves a complete-looking output.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{encode_args, run, text, workspace};

/// Records per side of the pathological linkage (50,000 in all).
const PER_SIDE: usize = 25_000;

/// The `i`-th valid NHS number (nine digits from 100000000 + i, skipping numbers whose check
/// digit would be 10).
fn nhs_numbers(n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    let mut base = 100_000_000u64;
    while out.len() < n {
        let digits: Vec<u64> = base
            .to_string()
            .bytes()
            .map(|b| u64::from(b - b'0'))
            .collect();
        let sum: u64 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
        let check = match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            c => Some(c),
        };
        if let Some(c) = check {
            out.push(format!("{base}{c}"));
        }
        base += 1;
    }
    out
}

/// Two extracts in which every record has the same name, date of birth, sex and postcode, so
/// every blocking rule but the NHS number puts all 50,000 records in one block; the NHS numbers of
/// the first 20,000 records on each side are shared.
fn write_pathological(p: &Path) {
    let nhs = nhs_numbers(PER_SIDE * 2);
    for (side, offset) in [("a", 0), ("b", 5_000)] {
        let mut s = String::from(
            "record_id,first_name,middle_name,last_name,date_of_birth,sex,postcode,address_line_1,nhs_number\n",
        );
        for i in 0..PER_SIDE {
            // Side b's record i has the NHS number of side a's record i + 5,000.
            let k = (i + offset) % (PER_SIDE * 2);
            s.push_str(&format!(
                "{side}{i},Anna,,Smith,2000-01-01,F,CV1 2AB,1 High St,{}\n",
                nhs[k]
            ));
        }
        std::fs::write(p.join(format!("{side}.csv")), s).expect("write an extract");
    }
}

/// Peak resident memory of a running process, in kB (Linux; 0 elsewhere).
fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_pseudolink"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the pseudolink binary starts")
}

/// Waits for `child` at most `limit`, tracking its peak memory; returns (exit code, output, peak kB).
fn wait_tracking(mut child: Child, limit: Duration) -> (Option<i32>, String, u64) {
    let started = Instant::now();
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut peak = 0;
    let code = loop {
        peak = peak.max(peak_rss_kb(child.id()));
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let output = format!(
        "{}{}",
        t_out.join().expect("stdout"),
        t_err.join().expect("stderr")
    );
    (code, output, peak)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn encode(p: &Path, input: &str, output: &str) {
    let out = run(p, &encode_args(input, output));
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_pathological_block_is_capped_with_a_warning_in_bounded_memory_and_time() {
    let (_d, p) = workspace();
    write_pathological(&p);
    encode(&p, "a.csv", "a.enc.csv");
    encode(&p, "b.csv", "b.enc.csv");
    let child = spawn(
        &p,
        &[
            "link",
            "--schema",
            "s.json",
            "--left",
            "a.enc.csv",
            "--right",
            "b.enc.csv",
            "--output",
            "links.csv",
        ],
    );
    let started = Instant::now();
    let (code, output, peak_kb) = wait_tracking(child, Duration::from_secs(600));
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(code, Some(0), "{output}");
    assert!(
        output.contains("blocks larger than max_block_size (1000) were skipped"),
        "{output}"
    );
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.join("links.csv.summary.json")).expect("summary"),
    )
    .expect("JSON");
    let b = &summary["blocking"];
    // Eleven rules (all but the NHS number; the crossed rule too) form one block of 25,000 +
    // 25,000 records each, the digit masks of the date eight (one per masked digit): 18 blocks.
    assert_eq!(b["skipped_blocks"], 18, "{b}");
    for s in b["largest_skipped"].as_array().expect("listed") {
        assert_eq!(s["sizes"], serde_json::json!([PER_SIDE, PER_SIDE]), "{s}");
    }
    // Only the NHS-number rule forms pairs: the 20,000 shared numbers. Unbounded, the 18
    // blocks would have been 18 x 625,000,000 pairs (90 GB of pair indices alone).
    assert_eq!(b["candidate_pairs"], 20_000, "{b}");
    assert!(
        summary["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("were skipped"))),
        "{summary}"
    );
    // Bounded: well under what even one of the skipped blocks would need.
    if peak_kb > 0 {
        assert!(peak_kb < 1024 * 1024, "peak memory {peak_kb} kB");
    }
    eprintln!(
        "pathological block: {secs:.1} s, peak {} MB",
        peak_kb / 1024
    );
}

/// A raw extract big enough that encoding it takes a while even in a release build.
fn write_big(p: &Path, rows: usize) {
    use std::io::Write;
    let f = std::fs::File::create(p.join("big.csv")).expect("create");
    let mut w = std::io::BufWriter::new(f);
    writeln!(
        w,
        "record_id,first_name,middle_name,last_name,date_of_birth,sex,postcode,address_line_1,nhs_number"
    )
    .expect("write");
    for i in 0..rows {
        writeln!(
            w,
            "r{i},Anna{},,Smith{},2000-01-{:02},F,CV{} 2AB,{i} High St,",
            i % 97,
            i % 89,
            i % 28 + 1,
            i % 9 + 1
        )
        .expect("write");
    }
    w.flush().expect("flush");
}

/// Waits until a `.partial` file appears in `dir` (the run is writing), at most 60 s.
fn wait_for_partial(dir: &Path, child: &mut Child) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if files_in(dir).iter().any(|n| n.ends_with(".partial")) {
            return true;
        }
        if child.try_wait().expect("wait").is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

/// Sends `sig` with the shell's built-in `kill` (bash is always there; `/bin/kill` may not be).
fn signal(child: &Child, sig: &str) {
    let ok = Command::new("bash")
        .args(["-c", &format!("kill {sig} {}", child.id())])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill {sig}");
}

const ENCODE_BIG: &[&str] = &[
    "encode",
    "--schema",
    "s.json",
    "--secret-file",
    "k.hex",
    "--input",
    "big.csv",
    "--output",
    "out.csv",
    "--rejects",
    "rejects.csv",
];

#[cfg(unix)]
#[test]
fn an_interrupted_encode_leaves_no_output_and_no_partial_file() {
    let (_d, p) = workspace();
    write_big(&p, 400_000);
    let before = files_in(&p);
    let mut child = spawn(&p, ENCODE_BIG);
    assert!(
        wait_for_partial(&p, &mut child),
        "the encode ended before it could be interrupted"
    );
    signal(&child, "-INT");
    let (code, output, _) = wait_tracking(child, Duration::from_secs(120));
    if code == Some(0) {
        panic!("the encode finished before the interrupt took effect; make the input bigger");
    }
    assert_eq!(code, Some(130), "{output}");
    assert!(output.contains("cancelled"), "{output}");
    assert_eq!(files_in(&p), before, "nothing left behind");
}

#[cfg(unix)]
#[test]
fn a_killed_encode_leaves_nothing_under_the_final_names() {
    let (_d, p) = workspace();
    write_big(&p, 400_000);
    let mut child = spawn(&p, ENCODE_BIG);
    assert!(
        wait_for_partial(&p, &mut child),
        "the encode ended too soon"
    );
    signal(&child, "-KILL");
    let (code, _, _) = wait_tracking(child, Duration::from_secs(60));
    assert_eq!(code, None, "killed by a signal");
    let left = files_in(&p);
    for name in ["out.csv", "out.csv.manifest.json", "rejects.csv"] {
        assert!(!left.iter().any(|n| n == name), "{name} exists: {left:?}");
    }
    // What a crash leaves is hidden and named for what it is.
    for n in &left {
        assert!(
            ["big.csv", "k.hex", "s.json"].contains(&n.as_str())
                || (n.starts_with('.') && n.ends_with(".partial")),
            "unexpected {n}"
        );
    }
}

#[test]
fn a_failed_link_leaves_no_links_file() {
    let (_d, p) = workspace();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/bad_inputs/encoded/raw-a.csv"),
        p.join("a.csv"),
    )
    .expect("copy");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/bad_inputs/encoded/raw-b.csv"),
        p.join("b.csv"),
    )
    .expect("copy");
    encode(&p, "a.csv", "a.enc.csv");
    encode(&p, "b.csv", "b.enc.csv");
    let before = files_in(&p);
    // The model cannot be saved (no such folder): the run fails after linking, and before this
    // branch it left a complete links file without its summary.
    let out = run(
        &p,
        &[
            "link",
            "--schema",
            "s.json",
            "--left",
            "a.enc.csv",
            "--right",
            "b.enc.csv",
            "--output",
            "links.csv",
            "--save-model",
            "no-such-folder/model.json",
        ],
    );
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    assert_eq!(files_in(&p), before, "nothing written");
}

#[cfg(unix)]
#[test]
fn an_interrupted_link_leaves_no_links_file() {
    let (_d, p) = workspace();
    write_pathological(&p);
    encode(&p, "a.csv", "a.enc.csv");
    encode(&p, "b.csv", "b.enc.csv");
    let before = files_in(&p);
    let mut child = spawn(
        &p,
        &[
            "link",
            "--schema",
            "s.json",
            "--left",
            "a.enc.csv",
            "--right",
            "b.enc.csv",
            "--output",
            "links.csv",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the link ended before it could be interrupted"
    );
    signal(&child, "-INT");
    let (code, output, _) = wait_tracking(child, Duration::from_secs(300));
    if code == Some(0) {
        panic!("the link finished before the interrupt took effect: {output}");
    }
    assert_eq!(code, Some(130), "{output}");
    assert_eq!(files_in(&p), before, "nothing written");
}
