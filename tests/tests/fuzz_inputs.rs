//! Every committed fuzz input (the seed corpora `fuzz/corpus/<target>/seed-*` and the crash
//! inputs kept as regressions, `fuzz/regressions/<target>/*`) run through its target's check, so
//! a crash the fuzzer once found stays fixed, without the fuzzer.

use std::path::{Path, PathBuf};

use pseudolink_tests::fuzz::{check, TARGETS};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn run_all(kind: &str, prefix: &str) -> usize {
    let mut n = 0;
    for (target, _) in TARGETS {
        let dir = fuzz_dir().join(kind).join(target);
        for file in files(&dir, prefix) {
            let data = std::fs::read(&file).expect("read the input");
            let f = check(target).expect("a check per target");
            if std::panic::catch_unwind(|| f(&data)).is_err() {
                panic!(
                    "fuzz target {target} fails on {}; replay with `cargo fuzz run {target} {}`",
                    file.display(),
                    file.display()
                );
            }
            n += 1;
        }
    }
    n
}

#[test]
fn every_seed_passes_its_check() {
    for (target, _) in TARGETS {
        let seeds = files(&fuzz_dir().join("corpus").join(target), "seed-");
        assert!(
            !seeds.is_empty(),
            "fuzz target {target} has no committed seed"
        );
    }
    assert!(run_all("corpus", "seed-") >= TARGETS.len());
}

#[test]
fn every_past_crash_input_passes_its_check() {
    run_all("regressions", "");
}

#[test]
fn the_fuzz_crate_builds_exactly_these_targets() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let mut bins: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "pseudolink-fuzz")
        .collect();
    bins.sort_unstable();
    let mut names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    assert_eq!(bins, names);
    for n in names {
        let src = fuzz_dir().join("fuzz_targets").join(format!("{n}.rs"));
        let text = std::fs::read_to_string(&src).expect("a source file per target");
        assert!(
            text.contains(&format!("pseudolink_tests::fuzz::{n}(")),
            "{} must call pseudolink_tests::fuzz::{n}",
            src.display()
        );
    }
}
