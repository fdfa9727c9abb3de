//! Key check values are a type, `pseudolink::secret::KeyCheckValue`, whose `==` runs in constant
//! time (`subtle::ConstantTimeEq`): manifests, run summaries and the linker's check hold that
//! type, so no code compares them as strings. (This replaced a test that grepped the sources for
//! `==` near `check_value`.) Here: equality is equality, and the serialized form is the string.

use pseudolink::io::Manifest;
use pseudolink::schema::SchemaFingerprint;
use pseudolink::secret::KeyCheckValue;
use pseudolink::{Schema, Secret};

fn kcv(text: &str) -> KeyCheckValue {
    KeyCheckValue::from(text)
}

#[test]
fn the_comparison_is_equality() {
    assert_eq!(kcv("a59663ef41e946a2"), kcv("a59663ef41e946a2"));
    assert_ne!(kcv("a59663ef41e946a2"), kcv("a59663ef41e946a3"));
    assert_ne!(kcv("b59663ef41e946a2"), kcv("a59663ef41e946a2"));
    assert_ne!(kcv("a59663ef41e946a2"), kcv("a59663ef41e946a"));
    assert_ne!(kcv(""), kcv("a"));
    assert_eq!(kcv(""), kcv(""));
    assert!(kcv("a59663ef41e946a2") == "a59663ef41e946a2");
    assert!(kcv("a59663ef41e946a2") != "a59663ef41e946a3");
}

#[test]
fn secrets_have_equal_check_values_exactly_when_equal() {
    let a = Secret::from_bytes(&[1; 32]).expect("a secret");
    let a2 = Secret::from_bytes(&[1; 32]).expect("a secret");
    let b = Secret::from_bytes(&[2; 32]).expect("a secret");
    assert_eq!(a.check_value(), a2.check_value());
    assert_ne!(a.check_value(), b.check_value());
    assert_eq!(a.check_value().as_str().len(), 16);
    assert_eq!(a.check_value().to_string(), a.check_value().as_str());
}

#[test]
fn both_types_serialize_as_the_plain_string() {
    let v = kcv("a59663ef41e946a2");
    assert_eq!(
        serde_json::to_string(&v).expect("json"),
        "\"a59663ef41e946a2\""
    );
    let back: KeyCheckValue = serde_json::from_str("\"a59663ef41e946a2\"").expect("json");
    assert_eq!(back, v);
    let f = Schema::example().fingerprint();
    assert_eq!(
        serde_json::to_string(&f).expect("json"),
        format!("\"{}\"", f.as_str())
    );
    let back: SchemaFingerprint = serde_json::from_str(&format!("\"{f}\"")).expect("json");
    assert_eq!(back, f);
    assert_ne!(f, SchemaFingerprint::from("0000"));
}

#[test]
fn manifests_hold_the_types() {
    // A compile-time check as much as a run-time one: the manifest's fields are the types, so the
    // linker's comparison of two manifests' check values is the constant-time one.
    fn fields(m: &Manifest) -> (&KeyCheckValue, &SchemaFingerprint) {
        (&m.key_check_value, &m.schema_fingerprint)
    }
    let _ = fields;
}
