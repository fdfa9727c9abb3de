//! The secret never leaks: every command is run with a known secret and every byte it prints or
//! writes is scanned for the secret in raw, hex (both cases) and base64 form. `--strict` refuses a
//! secret file other users can read.

use std::path::Path;
use std::process::Output;

use base64::Engine as _;

use crate::common::{encode_args, run, text, workspace};

/// Every form of a secret that must appear nowhere.
fn forms(hex: &str) -> Vec<Vec<u8>> {
    let secret = pseudolink::Secret::from_hex(hex).expect("a valid secret");
    let raw: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut out = vec![
        hex.to_lowercase().into_bytes(),
        hex.to_uppercase().into_bytes(),
        b64.encode(&raw).into_bytes(),
        b64.encode(&raw).trim_end_matches('=').as_bytes().to_vec(),
        url.encode(&raw).into_bytes(),
        // Any 12 consecutive bytes of the hex (a partial leak is a leak).
        secret.to_hex().as_bytes()[10..34].to_vec(),
    ];
    out.push(raw);
    out
}

fn assert_clean(what: &str, haystack: &[u8], forms: &[Vec<u8>]) {
    for f in forms {
        assert!(
            !haystack.windows(f.len()).any(|w| w == f.as_slice()),
            "a form of the secret appears in {what}"
        );
    }
}

/// Scans the output of a command and every file under `dir` except the secret files.
fn scan_all(dir: &Path, outputs: &[(String, Output)], forms: &[Vec<u8>]) -> usize {
    for (cmd, out) in outputs {
        assert_clean(&format!("the stdout of {cmd}"), &out.stdout, forms);
        assert_clean(&format!("the stderr of {cmd}"), &out.stderr, forms);
    }
    let mut files = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let p = entry.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_none_or(|e| e != "hex") {
                assert_clean(
                    &p.display().to_string(),
                    &std::fs::read(&p).expect("read file"),
                    forms,
                );
                files += 1;
            }
        }
    }
    files
}

#[test]
fn the_secret_appears_in_no_output_of_any_command() {
    let (_d, p) = workspace();
    let forms = forms(pseudolink_tests::TEST_SECRET_HEX);
    let mut outputs: Vec<(String, Output)> = Vec::new();
    let mut go = |args: &[&str], ok: bool| {
        let out = run(&p, args);
        assert_eq!(out.status.success(), ok, "{args:?}: {}", text(&out));
        outputs.push((args.join(" "), out));
    };
    go(
        &["synth", "--people", "300", "--seed", "3", "--out", "synth"],
        true,
    );
    go(&["schema", "example"], true);
    go(&["schema", "check", "s.json"], true);
    go(&["check-key", "--secret-file", "k.hex"], true);
    go(&["check-key", "--secret-file", "k.hex", "--strict"], true);
    for agency in ["agency_a", "agency_b"] {
        let (input, output) = (format!("synth/{agency}.csv"), format!("{agency}.enc.csv"));
        let rejects = format!("{agency}.rejects.csv");
        let mut args = encode_args(&input, &output);
        args.extend_from_slice(&["--rejects", &rejects]);
        args.extend_from_slice(&["--agreement", "ISA-1", "--purpose", "test", "--strict"]);
        go(&args, true);
    }
    go(
        &[
            "link",
            "--schema",
            "s.json",
            "--left",
            "agency_a.enc.csv",
            "--right",
            "agency_b.enc.csv",
            "--output",
            "links.csv",
            "--save-model",
            "model.json",
            "--agreement",
            "ISA-1",
            "--purpose",
            "test",
        ],
        true,
    );
    go(
        &[
            "dedupe",
            "--schema",
            "s.json",
            "--input",
            "agency_a.enc.csv",
            "--output",
            "dups.csv",
        ],
        true,
    );
    go(
        &[
            "evaluate",
            "--links",
            "links.csv",
            "--truth",
            "synth/truth.csv",
            "--curve",
            "curve.csv",
        ],
        true,
    );
    // Errors must not echo the secret either: a wrong input, a wrong schema.
    go(
        &[
            "encode",
            "--schema",
            "s.json",
            "--secret-file",
            "k.hex",
            "--input",
            "nope.csv",
            "--output",
            "x.csv",
        ],
        false,
    );
    go(
        &[
            "audit",
            "--input",
            "agency_a.enc.csv",
            "--schema",
            "s.json",
            "--cleartext",
            "synth/agency_a.csv",
            "--reference",
            "reference.csv",
        ],
        false,
    );
    go(&["audit", "--export-reference", "reference.csv"], true);
    go(
        &[
            "audit",
            "--input",
            "agency_a.enc.csv",
            "--schema",
            "s.json",
            "--cleartext",
            "synth/agency_a.csv",
            "--reference",
            "synth/agency_b.csv",
            "--known-count",
            "20,50",
            "--max-whole",
            "1",
            "--max-partial",
            "1",
            "--json",
        ],
        true,
    );
    go(&["keygen", "--output", "new.hex"], true);
    // The secret pasted where the name of its file belongs is not echoed back either.
    let hex = pseudolink_tests::TEST_SECRET_HEX;
    let upper = hex.to_uppercase();
    go(&["check-key", "--secret-file", hex], false);
    go(&["check-key", "--secret-file", &upper, "--strict"], false);
    go(
        &[
            "encode",
            "--schema",
            "s.json",
            "--secret-file",
            hex,
            "--input",
            "synth/agency_a.csv",
            "--output",
            "pasted.csv",
        ],
        false,
    );
    let files = scan_all(&p, &outputs, &forms);
    assert!(files >= 8, "only {files} files scanned");
    // The secret made by keygen leaks nowhere either (its own file aside).
    let new = std::fs::read_to_string(p.join("new.hex")).unwrap();
    scan_all(&p, &outputs, &self::forms(new.trim()));
}

#[cfg(unix)]
#[test]
fn strict_refuses_a_secret_others_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let (_d, p) = workspace();
    std::fs::write(
        p.join("in.csv"),
        crate::common::csv_of(&[vec!["A".into(), "Ann".into()]
            .into_iter()
            .chain(std::iter::repeat_n(String::new(), 7))
            .collect()]),
    )
    .unwrap();
    std::fs::set_permissions(p.join("k.hex"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = run(&p, &["check-key", "--secret-file", "k.hex", "--strict"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(text(&out).contains("chmod 600"));
    let args = [
        "encode",
        "--schema",
        "s.json",
        "--secret-file",
        "k.hex",
        "--input",
        "in.csv",
        "--output",
        "o.csv",
    ];
    let out = run(&p, &[&args[..], &["--strict"]].concat());
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(!p.join("o.csv").exists());
    // Without --strict it is a warning and the run goes on.
    let out = run(&p, &args);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning"));
}
