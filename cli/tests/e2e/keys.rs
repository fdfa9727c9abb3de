//! keygen, check-key, and secrets never leaking.

use crate::common::{encode_args, run, text, workspace};

#[test]
fn keygen_writes_a_private_file_and_never_overwrites() {
    let (_d, p) = workspace();
    let out = run(&p, &["keygen", "--output", "new.hex"]);
    assert!(out.status.success(), "{}", text(&out));
    let hex = std::fs::read_to_string(p.join("new.hex")).unwrap();
    assert_eq!(hex.trim().len(), 64);
    assert!(
        !text(&out).contains(hex.trim()),
        "keygen printed the secret"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(p.join("new.hex"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = run(&p, &["keygen", "--output", "new.hex"]);
    assert_eq!(again.status.code(), Some(5));
    assert!(text(&again).contains("already exists"));
    assert_eq!(std::fs::read_to_string(p.join("new.hex")).unwrap(), hex);
}

#[test]
fn check_key_prints_the_check_value_only() {
    let (_d, p) = workspace();
    let out = run(&p, &["check-key", "--secret-file", "k.hex"]);
    assert!(out.status.success());
    let kcv = pseudolink::Secret::from_hex(pseudolink_tests::TEST_SECRET_HEX)
        .unwrap()
        .check_value();
    assert!(text(&out).contains(kcv.as_str()));
}

#[test]
fn bad_secret_files_are_refused_without_echoing_them() {
    let (_d, p) = workspace();
    std::fs::write(p.join("in.csv"), "record_id\nA\n").unwrap();
    for (name, content) in [
        ("empty.hex", "".to_string()),
        ("short.hex", "abcdef".to_string()),
        ("nothex.hex", "zz".repeat(32)),
        ("long.hex", "ab".repeat(33)),
    ] {
        crate::common::write_secret(&p.join(name), &content);
        let out = run(
            &p,
            &[
                "encode",
                "--schema",
                "s.json",
                "--secret-file",
                name,
                "--input",
                "in.csv",
                "--output",
                "o.csv",
            ],
        );
        assert_eq!(out.status.code(), Some(5), "{name}: {}", text(&out));
        if content.len() > 4 {
            assert!(
                !text(&out).contains(&content[..6]),
                "{name}: message echoes the secret"
            );
        }
        assert!(!p.join("o.csv").exists());
    }
}

#[test]
fn world_readable_secret_gives_a_warning() {
    let (_d, p) = workspace();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p.join("k.hex"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = run(&p, &["check-key", "--secret-file", "k.hex"]);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
    }
}

#[test]
fn the_secret_appears_in_no_output_of_encode() {
    use base64::Engine as _;
    let (_d, p) = workspace();
    let rows: Vec<Vec<String>> = pseudolink_tests::inputs()
        .iter()
        .map(|(_, v)| v.iter().map(|s| s.to_string()).collect())
        .collect();
    std::fs::write(p.join("in.csv"), crate::common::csv_of(&rows)).unwrap();
    let out = run(
        &p,
        &[&encode_args("in.csv", "o.csv")[..], &["--rejects", "r.csv"]].concat(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let secret = pseudolink::Secret::from_hex(pseudolink_tests::TEST_SECRET_HEX).unwrap();
    let raw: Vec<u8> = (0u8..32).collect();
    let forms = [
        pseudolink_tests::TEST_SECRET_HEX.to_string(),
        pseudolink_tests::TEST_SECRET_HEX.to_uppercase(),
        base64::engine::general_purpose::STANDARD.encode(&raw),
        secret.to_hex().to_string()[..24].to_string(),
    ];
    let mut haystacks = vec![text(&out).into_bytes()];
    for f in ["o.csv", "o.csv.manifest.json", "r.csv"] {
        haystacks.push(std::fs::read(p.join(f)).unwrap());
    }
    for h in &haystacks {
        let s = String::from_utf8_lossy(h);
        for f in &forms {
            assert!(!s.contains(f.as_str()), "secret form found in output");
        }
        assert!(
            !h.windows(raw.len()).any(|w| w == raw.as_slice()),
            "raw secret bytes found"
        );
    }
}
