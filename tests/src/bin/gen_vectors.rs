//! Writes `tests/vectors/encode.json` from the current code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let vectors = match pseudolink_tests::generate() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("gen-vectors: {e}");
            return ExitCode::FAILURE;
        }
    };
    let path = pseudolink_tests::vectors_path();
    let mut json = serde_json::to_string_pretty(&vectors).unwrap_or_default();
    json.push('\n');
    if let Err(e) = std::fs::write(&path, json) {
        eprintln!("gen-vectors: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!("wrote {} ({} cases)", path.display(), vectors.cases.len());
    ExitCode::SUCCESS
}
