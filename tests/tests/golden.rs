//! The committed golden vectors match what the code produces now.

use pseudolink_tests::{generate, vectors_path, Vectors};

#[test]
fn committed_vectors_match_the_code() {
    let text = std::fs::read_to_string(vectors_path()).expect("tests/vectors/encode.json exists");
    let committed: Vectors = serde_json::from_str(&text).expect("valid vectors JSON");
    let now = generate().expect("vectors generate");
    assert_eq!(committed.secret_hex, now.secret_hex);
    assert_eq!(committed.key_check_value, now.key_check_value);
    assert_eq!(committed.schema_fingerprint, now.schema_fingerprint);
    assert_eq!(committed.header, now.header);
    assert_eq!(committed.cases.len(), now.cases.len());
    for (c, n) in committed.cases.iter().zip(&now.cases) {
        assert_eq!(c.values, n.values, "{}", c.note);
        assert_eq!(c.row, n.row, "encoding changed for case '{}'", c.note);
        assert_eq!(
            c.missing, n.missing,
            "missing reasons changed for case '{}'",
            c.note
        );
    }
}

#[test]
fn vectors_cover_every_missing_reason() {
    let now = generate().expect("vectors generate");
    let reasons: std::collections::BTreeSet<&str> = now
        .cases
        .iter()
        .flat_map(|c| c.missing.values().map(String::as_str))
        .collect();
    for r in ["empty", "invalid", "impossible", "implausible", "unknown"] {
        assert!(reasons.contains(r), "no vector exercises '{r}'");
    }
}
