//! The bad-input corpus (`tests/bad_inputs/cases.json`) through the `pseudolink` binary.
//!
//! Every case runs with a time limit (a hang fails the test); its exit code, error kind and message
//! must be the expected ones, it must not panic, a failed run must leave no output (complete or
//! partial), and wherever rows were read the counts must add up: the manifest's
//! `rows_read == encoded + rejected`, with `encoded` rows in the encoded extract, `rejected` rows in
//! the rejects file, and `rows_read` equal to the rows the case says the file holds.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Longest a case may run (the generated 10 MB and million-row files included, in a debug build).
const TIME_LIMIT: Duration = Duration::from_secs(300);

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/bad_inputs")
}

fn load() -> Value {
    let text = std::fs::read_to_string(corpus_dir().join("cases.json")).expect("cases.json");
    serde_json::from_str(&text).expect("cases.json is JSON")
}

/// Writes a `generate` recipe (text parts, each repeated) to `path`.
fn generate(recipe: &Value, path: &Path) {
    use std::io::Write;
    let file = std::fs::File::create(path).expect("create a generated input");
    let mut w = std::io::BufWriter::new(file);
    for part in recipe.as_array().expect("generate is a list") {
        let text = part["text"].as_str().expect("a part has text");
        let repeat = part.get("repeat").and_then(Value::as_u64).unwrap_or(1);
        for _ in 0..repeat {
            w.write_all(text.as_bytes()).expect("write");
        }
    }
    w.flush().expect("flush");
}

/// A file argument: a path in the corpus, or a file generated into `tmp`.
fn file_arg(v: &Value, name: &str, tmp: &Path) -> PathBuf {
    match v {
        Value::String(s) => corpus_dir().join(s),
        Value::Object(o) => {
            let p = tmp.join(format!("{name}.generated.csv"));
            generate(&o["generate"], &p);
            p
        }
        other => panic!("bad file argument {other}"),
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

fn run_with_limit(args: &[String], dir: &Path) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pseudolink"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the pseudolink binary starts");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("pseudolink {args:?} still running after {TIME_LIMIT:?}: a hang");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code,
        stdout: String::from_utf8_lossy(&t_out.join().expect("stdout thread")).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().expect("stderr thread")).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// Data rows of a CSV file with a header.
fn csv_rows(path: &Path) -> u64 {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .expect("open");
    let mut n = 0;
    let mut row = csv::ByteRecord::new();
    while reader.read_byte_record(&mut row).expect("a CSV row") {
        n += 1;
    }
    n
}

fn partial_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read the work folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect()
}

/// Runs one case; returns what went wrong, if anything.
fn run_case(case: &Value, defaults: &Value, kinds: &Value) -> Vec<String> {
    let id = case["id"].as_str().expect("id");
    let op = case["op"].as_str().expect("op");
    let args = &case["args"];
    let expect = &case["expect"];
    let arg = |k: &str| {
        args.get(k)
            .or_else(|| defaults.get(k))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = tmp.path();
    let secret = || {
        let src = file_arg(&arg("secret"), "secret", t);
        let dst = t.join("secret.hex");
        if let Ok(bytes) = std::fs::read(&src) {
            std::fs::write(&dst, bytes).expect("copy the secret");
            let mode = u32::from_str_radix(arg("secret_mode").as_str().unwrap_or("0600"), 8)
                .expect("an octal mode");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode))
                    .expect("chmod");
            }
            let _ = mode;
            dst
        } else {
            src
        }
    };
    let s = |p: PathBuf| p.display().to_string();
    let out = t.join("out.csv");
    let rejects = t.join("rejects.csv");
    let links = t.join("links.csv");
    let mut cli: Vec<String> = Vec::new();
    match op {
        "encode" => {
            cli.extend([
                "encode".into(),
                "--schema".into(),
                s(file_arg(&arg("schema"), "schema", t)),
            ]);
            cli.extend(["--secret-file".into(), s(secret())]);
            cli.extend(["--input".into(), s(file_arg(&arg("input"), "input", t))]);
            cli.extend(["--output".into(), s(out.clone())]);
            if arg("rejects").as_bool().unwrap_or(false) {
                cli.extend(["--rejects".into(), s(rejects.clone())]);
            }
        }
        "schema_check" => {
            cli.extend([
                "schema".into(),
                "check".into(),
                s(file_arg(&arg("schema"), "schema", t)),
            ]);
        }
        "check_key" => cli.extend(["check-key".into(), "--secret-file".into(), s(secret())]),
        "link" => {
            cli.extend([
                "link".into(),
                "--schema".into(),
                s(file_arg(&arg("schema"), "schema", t)),
            ]);
            cli.extend(["--left".into(), s(file_arg(&arg("left"), "left", t))]);
            cli.extend(["--right".into(), s(file_arg(&arg("right"), "right", t))]);
            cli.extend(["--output".into(), s(links.clone())]);
            if arg("allow_unverified").as_bool().unwrap_or(false) {
                cli.push("--allow-unverified".into());
            }
            if !arg("model").is_null() {
                cli.extend(["--model".into(), s(file_arg(&arg("model"), "model", t))]);
            }
        }
        "evaluate" => {
            cli.extend([
                "evaluate".into(),
                "--links".into(),
                s(file_arg(&arg("links"), "links", t)),
            ]);
            cli.extend(["--truth".into(), s(file_arg(&arg("truth"), "truth", t))]);
        }
        other => return vec![format!("{id}: unknown op {other}")],
    }
    let run = run_with_limit(&cli, t);
    let mut problems = Vec::new();
    let mut fail = |m: String| problems.push(format!("{id}: {m}"));
    let kind = expect["kind"].as_str().expect("kind");
    let exit = expect["exit"].as_i64().expect("exit");
    if kinds[kind].as_i64() != Some(exit) {
        fail(format!(
            "kind {kind} does not go with exit {exit} in the manifest"
        ));
    }
    let all = format!("{}{}", run.stdout, run.stderr);
    if all.contains("panicked") || run.code == Some(101) || run.code.is_none() {
        fail(format!("crashed ({:?}): {all}", run.code));
    }
    if run.code != Some(exit as i32) {
        fail(format!("exit {:?}, expected {exit}: {all}", run.code));
    }
    if let Some(m) = expect.get("message").and_then(Value::as_str) {
        if !all.contains(m) {
            fail(format!("message lacks {m:?}: {all}"));
        }
    }
    let is_ok = kind.starts_with("ok");
    if !is_ok {
        if !run.stderr.contains("pseudolink: error: ") {
            fail(format!("no error line on stderr: {}", run.stderr));
        }
        if let Some(line) = expect.get("line").and_then(Value::as_u64) {
            if !run.stderr.contains(&format!("line {line}")) {
                fail(format!("error does not name line {line}: {}", run.stderr));
            }
        }
        for p in [&out, &rejects, &links] {
            let mut m = p.as_os_str().to_owned();
            m.push(".manifest.json");
            if p.exists() || Path::new(&m).exists() {
                fail(format!("a failed run left {}", p.display()));
            }
        }
    }
    let partial = partial_files(t);
    if !partial.is_empty() {
        fail(format!("partial files left: {partial:?}"));
    }
    if op == "encode" && is_ok {
        let manifest: Value = serde_json::from_str(
            &std::fs::read_to_string(t.join("out.csv.manifest.json")).unwrap_or_default(),
        )
        .unwrap_or(Value::Null);
        let c = &manifest["counts"];
        let n = |k: &str| c[k].as_u64().unwrap_or(u64::MAX);
        let (read, encoded, rejected) = (n("rows_read"), n("encoded"), n("rejected"));
        if read != encoded.wrapping_add(rejected) {
            fail(format!("counts do not add up: {c}"));
        }
        if let Some(want) = expect.get("counts") {
            if c != want {
                fail(format!("counts {c}, expected {want}"));
            }
        }
        if csv_rows(&out) != encoded {
            fail(format!(
                "{} rows in the extract, manifest says {encoded}",
                csv_rows(&out)
            ));
        }
        let listed = if rejects.exists() {
            csv_rows(&rejects)
        } else {
            0
        };
        if listed != rejected {
            fail(format!(
                "{listed} rows in the rejects file, manifest says {rejected}"
            ));
        }
        if (kind == "ok_with_rejections") != (rejected > 0) {
            fail(format!("kind {kind} but {rejected} rows rejected"));
        }
        let summary = format!("{encoded} encoded + {rejected} rejected = {read}");
        if !run.stdout.contains(&summary) {
            fail(format!("stdout lacks {summary:?}: {}", run.stdout));
        }
        let by_reason = manifest["rejected_by_reason"].clone();
        let want = expect
            .get("rejected_by_reason")
            .cloned()
            .unwrap_or(Value::Object(Default::default()));
        if by_reason != want {
            fail(format!("rejected_by_reason {by_reason}, expected {want}"));
        }
        if let Some(want) = expect.get("missing").and_then(Value::as_object) {
            for (field, reasons) in want {
                if manifest["missing"][field] != *reasons {
                    fail(format!(
                        "missing.{field} is {}, expected {reasons}",
                        manifest["missing"][field]
                    ));
                }
            }
        }
        if let Some(want) = expect.get("ignored_columns") {
            if manifest["ignored_columns"] != *want {
                fail(format!(
                    "ignored_columns {}, expected {want}",
                    manifest["ignored_columns"]
                ));
            }
        }
    }
    if op == "evaluate" && is_ok {
        let got: Value = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
        if let Some(want) = expect.get("evaluation").and_then(Value::as_object) {
            for (k, v) in want {
                if got[k] != *v {
                    fail(format!("evaluation {k} = {}, expected {v}", got[k]));
                }
            }
        }
    }
    if run.elapsed > Duration::from_secs(60) {
        eprintln!("note: case {id} took {:.1} s", run.elapsed.as_secs_f64());
    }
    problems
}

#[test]
fn the_corpus_holds_at_least_forty_files_and_cases_with_unique_ids() {
    let doc = load();
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut ids = BTreeMap::new();
    for c in cases {
        let id = c["id"].as_str().expect("id");
        assert!(ids.insert(id, ()).is_none(), "case {id} twice");
        for key in ["what", "op", "args", "expect", "decision"] {
            assert!(c.get(key).is_some(), "case {id} lacks {key}");
        }
        // `skip` names the bindings that cannot express a case, with the reason; the CLI runs
        // every case, so it is never named.
        if let Some(skip) = c.get("skip") {
            let skip = skip.as_object().expect("skip maps a binding to a reason");
            for (binding, reason) in skip {
                assert!(
                    binding == "python" || binding == "c",
                    "case {id} skips unknown binding {binding}"
                );
                assert!(
                    reason.as_str().is_some_and(|r| !r.trim().is_empty()),
                    "case {id} skips {binding} without a reason"
                );
            }
        }
    }
    let mut files = 0;
    let mut stack = vec![corpus_dir()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("common") {
                    stack.push(p);
                }
            } else if p
                .extension()
                .is_some_and(|x| x == "csv" || x == "json" || x == "hex")
            {
                files += 1;
            }
        }
    }
    assert!(files >= 40, "{files} input files");
}

#[test]
fn the_common_schema_is_the_bundled_example() {
    let common = std::fs::read_to_string(corpus_dir().join("common/schema.json")).expect("read");
    assert_eq!(
        common,
        pseudolink::Schema::example_json(),
        "regenerate the corpus fixtures: copy the example schema and run tests/bad_inputs/make_fixtures.sh"
    );
    let secret = std::fs::read_to_string(corpus_dir().join("common/secret.hex")).expect("read");
    assert_eq!(secret.trim(), pseudolink_tests::TEST_SECRET_HEX);
}

#[test]
fn every_bad_input_gives_its_expected_outcome() {
    let doc = load();
    let defaults = &doc["defaults"];
    let kinds = &doc["kinds"];
    let cases = doc["cases"].as_array().expect("cases");
    let only = std::env::var("BAD_INPUT_CASE").ok();
    let problems: Vec<String> = cases
        .iter()
        .filter(|c| only.as_deref().is_none_or(|o| c["id"] == o))
        .flat_map(|c| run_case(c, defaults, kinds))
        .collect();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn docs_robustness_lists_every_case() {
    let doc = std::fs::read_to_string(corpus_dir().join("../../docs/robustness.md"))
        .expect("docs/robustness.md");
    for c in load()["cases"].as_array().expect("cases") {
        let id = c["id"].as_str().expect("id");
        assert!(
            doc.contains(&format!("| `{id}` |")),
            "docs/robustness.md does not list case {id}"
        );
    }
}
