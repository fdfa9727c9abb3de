//! Key check values are compared in constant time everywhere: through
//! `pseudolink::secret::check_values_equal` (`subtle::ConstantTimeEq`), never with `==` or `!=`.
//! A source guard over every crate that could compare them, and the comparison's own behaviour.

use std::path::{Path, PathBuf};

use pseudolink::secret::check_values_equal;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_key_check_value_is_compared_with_eq() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in ["core/src", "cli/src", "ffi/src", "python/src"] {
        rust_files(&root.join(krate), &mut files);
    }
    assert!(files.len() > 50, "only {} source files found", files.len());
    let mut offending = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read source");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("check_value") && (code.contains("==") || code.contains("!=")) {
                offending.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "compare key check values with secret::check_values_equal:\n{}",
        offending.join("\n")
    );
    // The linker's check is the constant-time one.
    let link = std::fs::read_to_string(root.join("core/src/run/link.rs")).expect("read link.rs");
    assert!(link.contains("check_values_equal(&fm.key_check_value, &om.key_check_value)"));
    let secret = std::fs::read_to_string(root.join("core/src/secret.rs")).expect("read secret.rs");
    assert!(secret.contains("use subtle::ConstantTimeEq;"));
}

#[test]
fn the_comparison_is_equality() {
    assert!(check_values_equal("a59663ef41e946a2", "a59663ef41e946a2"));
    assert!(!check_values_equal("a59663ef41e946a2", "a59663ef41e946a3"));
    assert!(!check_values_equal("b59663ef41e946a2", "a59663ef41e946a2"));
    assert!(!check_values_equal("a59663ef41e946a2", "a59663ef41e946a"));
    assert!(!check_values_equal("", "a"));
    assert!(check_values_equal("", ""));
}
