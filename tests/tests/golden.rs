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

/// The keyed BLAKE3 of the message of `input` (`docs/formats.md`): input, zeros, input length as
/// 4 bytes little-endian, whole 64-byte blocks. Written here from the definition, with only the
/// `blake3` crate's public API, so that the vectors check the definition and not just the code.
fn message_hasher(key: &[u8; 32], input: &[u8]) -> blake3::Hasher {
    let mut m = input.to_vec();
    let total = (input.len() + 4).div_ceil(64) * 64;
    m.resize(total - 4, 0);
    m.extend_from_slice(&(input.len() as u32).to_le_bytes());
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(&m);
    h
}

fn derived(purpose: &str, group: &str) -> [u8; 32] {
    let secret: Vec<u8> = (0..32)
        .map(|i| {
            u8::from_str_radix(&pseudolink_tests::TEST_SECRET_HEX[2 * i..2 * i + 2], 16)
                .expect("the test secret is hex")
        })
        .collect();
    blake3::derive_key(
        &format!("pseudolink encoding v2 {purpose} {group}"),
        &secret,
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn vectors_follow_the_documented_definition() {
    let text = std::fs::read_to_string(vectors_path()).expect("tests/vectors/encode.json exists");
    let committed: Vectors = serde_json::from_str(&text).expect("valid vectors JSON");
    let header: Vec<&str> = committed.header.split(',').collect();
    let case = &committed.cases[0];
    assert_eq!(case.values[3], "Smith");
    let cells: Vec<&str> = case.row.split(',').collect();
    let cell = |name: &str| {
        cells[header
            .iter()
            .position(|h| *h == name)
            .expect("column in header")]
    };

    // An unsalted token: 128 bits of keyed BLAKE3 of the message of the normalised value.
    let postcode = message_hasher(&derived("token", "postcode"), b"CV1 2AB").finalize();
    assert_eq!(cell("postcode"), hex(&postcode.as_bytes()[..16]));

    // A salted token: the message of (salt length, salt, value), under the salted purpose.
    let mut salted = 7u32.to_le_bytes().to_vec();
    salted.extend_from_slice(b"2014-03smith");
    let last = message_hasher(&derived("salted token", "name"), &salted).finalize();
    assert_eq!(cell("last_name"), hex(&last.as_bytes()[..16]));

    // An unsalted filter (1024 bits, q = 2, 10 positions per q-gram): each q-gram's positions
    // are 16-bit little-endian words w of its hash, position w * 1024 / 2^16.
    let key = derived("bloom", "address_line_1");
    let padded: Vec<char> = "_12 high street_".chars().collect();
    let mut words = [0u64; 16];
    for gram in padded.windows(2) {
        let gram: String = gram.iter().collect();
        let hash = message_hasher(&key, gram.as_bytes()).finalize();
        for w in hash.as_bytes().chunks_exact(2).take(10) {
            let pos = (u64::from(u16::from_le_bytes([w[0], w[1]])) * 1024) >> 16;
            words[(pos / 64) as usize] |= 1 << (pos % 64);
        }
    }
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let filter =
        pseudolink::encode::Bloom::from_base64(cell("address_line_1.bloom").as_bytes(), 1024)
            .expect("a 1024-bit filter");
    let expected: Vec<u8> = filter.0.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(bytes, expected);
}
