//! The audit trail: every encode and link run writes a manifest or summary a data protection
//! officer can read (inputs and their fingerprints, schema fingerprint, key check value, counts,
//! who ran it, agreement and purpose, start and end time), even when `USER` is not set.

use std::path::Path;

use serde_json::Value;

use crate::common::{encode_args, text, workspace};

/// Runs `pseudolink` in `dir`, with `USER`, `LOGNAME` and `USERNAME` removed when `bare`.
fn run_env(dir: &Path, args: &[&str], bare: bool) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pseudolink"));
    cmd.args(args).current_dir(dir);
    if bare {
        cmd.env_remove("USER")
            .env_remove("LOGNAME")
            .env_remove("USERNAME");
    }
    let out = cmd.output().expect("the pseudolink binary runs");
    assert!(out.status.success(), "{args:?}: {}", text(&out));
}

fn json(p: &Path, file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p.join(file)).expect("read")).expect("JSON")
}

/// `keyed`: an encode manifest, sent to the linkage unit, holds the user and host keyed; a link
/// summary, the linkage unit's own record, holds them as they are.
fn check_run(run: &Value, agreement: Option<&str>, purpose: Option<&str>, keyed: bool) {
    let s = |k: &str| run[k].as_str().unwrap_or_default().to_string();
    if keyed {
        assert_eq!(s("user_keyed").len(), 32, "{run}");
        assert_eq!(s("host_keyed").len(), 32, "{run}");
        assert!(
            run.get("user").is_none() && run.get("host").is_none(),
            "{run}"
        );
    } else {
        assert!(!s("user").is_empty(), "{run}");
        assert!(!s("host").is_empty(), "{run}");
    }
    assert!(
        s("started_at").ends_with('Z') && s("finished_at").ends_with('Z'),
        "{run}"
    );
    assert!(s("started_at") <= s("finished_at"), "{run}");
    assert_eq!(run["agreement"].as_str(), agreement);
    assert_eq!(run["purpose"].as_str(), purpose);
}

#[test]
fn every_encode_and_link_run_records_who_what_when_and_why() {
    let (_d, p) = workspace();
    let kcv = pseudolink::Secret::from_hex(pseudolink_tests::TEST_SECRET_HEX)
        .unwrap()
        .check_value();
    let fingerprint = pseudolink::Schema::example().fingerprint();
    run_env(
        &p,
        &["synth", "--people", "200", "--seed", "4", "--out", "synth"],
        false,
    );
    for (agency, bare) in [("agency_a", false), ("agency_b", true)] {
        let (input, output) = (format!("synth/{agency}.csv"), format!("{agency}.enc.csv"));
        let rejects = format!("{agency}.rejects.csv");
        let mut args = encode_args(&input, &output);
        args.extend_from_slice(&["--rejects", &rejects]);
        args.extend_from_slice(&["--agreement", "ISA-7", "--purpose", "Early Help"]);
        run_env(&p, &args, bare);
        let m = json(&p, &format!("{agency}.enc.csv.manifest.json"));
        assert_eq!(m["key_check_value"], kcv.as_str());
        assert_eq!(m["schema_fingerprint"], fingerprint.as_str());
        // The input's path is keyed (it may hold a name); the manifest never carries it.
        assert!(m["input"].get("path").is_none(), "{m}");
        assert_eq!(m["input"]["path_keyed"].as_str().unwrap().len(), 32, "{m}");
        assert!(!m.to_string().contains(&format!("{agency}.csv\"")), "{m}");
        assert_eq!(
            m["input"]["bytes"].as_u64(),
            Some(
                std::fs::metadata(p.join(format!("synth/{agency}.csv")))
                    .unwrap()
                    .len()
            )
        );
        assert_eq!(m["input"]["blake3"].as_str().unwrap().len(), 64);
        assert_eq!(m["output"]["blake3"].as_str().unwrap().len(), 64);
        let c = &m["counts"];
        assert!(c["encoded"].as_u64().unwrap() > 100);
        assert_eq!(
            c["rows_read"].as_u64(),
            Some(c["encoded"].as_u64().unwrap() + c["rejected"].as_u64().unwrap())
        );
        check_run(&m["run"], Some("ISA-7"), Some("Early Help"), true);
    }
    let link = |output: &str, extra: &[&str], bare: bool| {
        let mut args = vec![
            "link",
            "--schema",
            "s.json",
            "--left",
            "agency_a.enc.csv",
            "--right",
            "agency_b.enc.csv",
            "--output",
            output,
        ];
        args.extend_from_slice(extra);
        run_env(&p, &args, bare);
        json(&p, &format!("{output}.summary.json"))
    };
    let s = link(
        "links.csv",
        &["--agreement", "ISA-7", "--purpose", "Early Help"],
        true,
    );
    check_run(&s["run"], Some("ISA-7"), Some("Early Help"), false);
    assert_eq!(s["schema_fingerprint"], fingerprint.as_str());
    for (i, agency) in ["agency_a", "agency_b"].iter().enumerate() {
        let input = &s["inputs"][i];
        let m = json(&p, &format!("{agency}.enc.csv.manifest.json"));
        assert_eq!(input["file"]["blake3"], m["output"]["blake3"]);
        assert_eq!(input["key_check_value"], kcv.as_str());
        assert_eq!(input["schema_fingerprint"], fingerprint.as_str());
        assert_eq!(input["agreement"], "ISA-7");
        assert_eq!(input["records"], m["counts"]["encoded"]);
    }
    assert!(s["counts"]["links"].as_u64().unwrap() > 50);
    assert_eq!(s["outputs"]["links"]["blake3"].as_str().unwrap().len(), 64);
    // Without --agreement and --purpose they are recorded as absent.
    let s = link("plain.csv", &[], false);
    check_run(&s["run"], None, None, false);
}
