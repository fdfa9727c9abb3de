//! Helpers: run the binary, write files.

use std::path::{Path, PathBuf};
use std::process::Output;

/// Runs `pseudolink` with `args` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pseudolink"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the pseudolink binary runs")
}

/// stdout + stderr as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A temp dir with the example schema (`s.json`) and the golden-vector secret (`k.hex`, 0600).
pub fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().to_path_buf();
    std::fs::write(p.join("s.json"), pseudolink::Schema::example_json()).expect("write schema");
    write_secret(&p.join("k.hex"), pseudolink_tests::TEST_SECRET_HEX);
    (dir, p)
}

/// Writes a secret file with mode 0600.
pub fn write_secret(path: &Path, hex: &str) {
    std::fs::write(path, format!("{hex}\n")).expect("write secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

/// The arguments of `pseudolink encode` with the workspace's schema (`s.json`) and secret
/// (`k.hex`), from `input` to `output`; callers append what their test needs.
pub fn encode_args<'a>(input: &'a str, output: &'a str) -> Vec<&'a str> {
    vec![
        "encode",
        "--schema",
        "s.json",
        "--secret-file",
        "k.hex",
        "--input",
        input,
        "--output",
        output,
    ]
}

/// The CSV text of records given as value arrays, with the standard header.
pub fn csv_of(rows: &[Vec<String>]) -> String {
    let mut out = String::from(
        "record_id,first_name,middle_name,last_name,date_of_birth,sex,postcode,address_line_1,nhs_number\n",
    );
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .map(|v| {
                if v.contains([',', '"', '\n']) {
                    format!("\"{}\"", v.replace('"', "\"\""))
                } else {
                    v.clone()
                }
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}
