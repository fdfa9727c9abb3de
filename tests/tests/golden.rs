//! The committed golden vectors match what the code produces now, and every cell of them follows
//! the documented definitions, re-derived here from each case's normalised values with the
//! `blake3` crate alone (no pseudolink encoding code), so that the vectors check the definition
//! and not just the code.

use std::collections::{BTreeMap, BTreeSet};

use pseudolink_tests::{generate, vectors_path, Case, Vectors};
use serde_json::Value;

fn committed() -> Vectors {
    let text = std::fs::read_to_string(vectors_path()).expect("tests/vectors/encode.json exists");
    serde_json::from_str(&text).expect("valid vectors JSON")
}

fn same_cases(what: &str, committed: &[Case], now: &[Case]) {
    assert_eq!(committed.len(), now.len(), "{what}: number of cases");
    for (c, n) in committed.iter().zip(now) {
        assert_eq!(c.values, n.values, "{what}: {}", c.note);
        assert_eq!(
            c.normalised, n.normalised,
            "{what}: normalisation changed for case '{}'",
            c.note
        );
        assert_eq!(
            c.row, n.row,
            "{what}: encoding changed for case '{}'",
            c.note
        );
        assert_eq!(
            c.missing, n.missing,
            "{what}: missing reasons changed for case '{}'",
            c.note
        );
    }
}

#[test]
fn committed_vectors_match_the_code() {
    let committed = committed();
    let now = generate().expect("vectors generate");
    assert_eq!(committed.encoding_version, now.encoding_version);
    assert_eq!(committed.secret_hex, now.secret_hex);
    assert_eq!(committed.key_check_value, now.key_check_value);
    assert_eq!(committed.schema_json, now.schema_json);
    assert_eq!(committed.schema_fingerprint, now.schema_fingerprint);
    assert_eq!(committed.header, now.header);
    same_cases("default schema", &committed.cases, &now.cases);
    assert_eq!(committed.schemas.len(), now.schemas.len());
    for (c, n) in committed.schemas.iter().zip(&now.schemas) {
        assert_eq!(c.name, n.name);
        assert_eq!(c.schema_json, n.schema_json, "{}", c.name);
        assert_eq!(
            c.translated_json, n.translated_json,
            "{}: the schema as read changed",
            c.name
        );
        assert_eq!(c.schema_fingerprint, n.schema_fingerprint, "{}", c.name);
        assert_eq!(c.header, n.header, "{}", c.name);
        same_cases(&c.name, &c.cases, &n.cases);
    }
    // The whole file, so that nothing else drifts either.
    assert_eq!(
        committed, now,
        "run `make vectors` if the change is intended"
    );
}

#[test]
fn vectors_cover_every_missing_reason() {
    let now = generate().expect("vectors generate");
    let reasons: BTreeSet<&str> = now
        .cases
        .iter()
        .flat_map(|c| c.missing.values().map(String::as_str))
        .collect();
    for r in ["empty", "invalid", "impossible", "implausible", "unknown"] {
        assert!(reasons.contains(r), "no vector exercises '{r}'");
    }
}

// ---------------------------------------------------------------------------------------------
// The definitions, written out (docs/formats.md)

/// Every transform, in the order keys of one field are hashed in (`Transform::ALL`).
const TRANSFORMS: [&str; 13] = [
    "swapped",
    "year_month",
    "year",
    "unordered",
    "digit_masks",
    "sector",
    "district",
    "area",
    "soundex",
    "initial",
    "deletions",
    "number_street",
    "nickname",
];

fn secret() -> Vec<u8> {
    (0..32)
        .map(|i| {
            u8::from_str_radix(&pseudolink_tests::TEST_SECRET_HEX[2 * i..2 * i + 2], 16)
                .expect("the test secret is hex")
        })
        .collect()
}

/// `blake3::derive_key("pseudolink encoding v3 <purpose> <group>", secret)`.
fn derived(purpose: &str, group: &str) -> [u8; 32] {
    blake3::derive_key(
        &format!("pseudolink encoding v3 {purpose} {group}"),
        &secret(),
    )
}

/// The message of `input`: the input, zeros, and its length as 4 bytes little-endian at the very
/// end, in whole 64-byte blocks.
fn message(input: &[u8]) -> Vec<u8> {
    let mut m = input.to_vec();
    let total = (input.len() + 4).div_ceil(64) * 64;
    m.resize(total - 4, 0);
    m.extend_from_slice(&(input.len() as u32).to_le_bytes());
    m
}

fn keyed(key: &[u8; 32], input: &[u8]) -> blake3::Hasher {
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(&message(input));
    h
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// American Soundex of the ASCII letters of a name: the first letter, then the digits of the
/// following letters, a digit equal to the one before left out unless a vowel (or y) came
/// between, h and w separating nothing; padded with zeros to four characters.
fn soundex(name: &str) -> Option<String> {
    let digit = |c: char| match c {
        'b' | 'f' | 'p' | 'v' => Some('1'),
        'c' | 'g' | 'j' | 'k' | 'q' | 's' | 'x' | 'z' => Some('2'),
        'd' | 't' => Some('3'),
        'l' => Some('4'),
        'm' | 'n' => Some('5'),
        'r' => Some('6'),
        _ => None,
    };
    let letters: Vec<char> = name
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let (&first, rest) = letters.split_first()?;
    let mut out = first.to_ascii_uppercase().to_string();
    let mut last = digit(first);
    for &c in rest {
        if c == 'h' || c == 'w' {
            continue;
        }
        let d = digit(c);
        if let Some(x) = d {
            if d != last && out.len() < 4 {
                out.push(x);
            }
        }
        last = d;
    }
    while out.len() < 4 {
        out.push('0');
    }
    Some(out)
}

/// The values of transform `t` of a field's canonical text (one for most, several for set
/// transforms); empty when it does not exist for this value.
fn transform(kind: &str, value: &str, t: Option<&str>) -> Vec<String> {
    let Some(t) = t else {
        return vec![value.to_string()];
    };
    let date = || {
        let (y, m, d) = (&value[..4], &value[5..7], &value[8..10]);
        (y.to_string(), m.to_string(), d.to_string())
    };
    match (kind, t) {
        ("date", "swapped") => {
            let (y, m, d) = date();
            // A real date only when the day can be a month; day = month is its own swap.
            if d.parse::<u8>().expect("a day") <= 12 {
                vec![format!("{y}-{d}-{m}")]
            } else {
                vec![]
            }
        }
        ("date", "year_month") => vec![value[..7].to_string()],
        ("date", "year") => vec![value[..4].to_string()],
        ("date", "unordered") => {
            let (y, m, d) = date();
            let (lo, hi) = if m <= d { (m, d) } else { (d, m) };
            vec![format!("{y}-{lo}-{hi}")]
        }
        ("date", "digit_masks") => {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            (0..digits.len())
                .map(|i| format!("{}_{}", &digits[..i], &digits[i + 1..]))
                .collect()
        }
        ("postcode", "district") => vec![value.split(' ').next().unwrap_or("").to_string()],
        ("postcode", "sector") => vec![value[..value.find(' ').expect("a space") + 2].to_string()],
        ("postcode", "area") => vec![value
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect()],
        ("name", "soundex") => soundex(value).into_iter().collect(),
        ("name", "initial") => value.chars().next().map(String::from).into_iter().collect(),
        ("name", "deletions") => {
            let chars: Vec<char> = value.chars().collect();
            let mut out = vec![value.to_string()];
            for i in 0..chars.len().min(15) {
                let mut c = chars.clone();
                c.remove(i);
                out.push(c.into_iter().collect());
            }
            out
        }
        ("name", "nickname") => {
            // The name, the formal names it is a nickname of in core/data/nicknames.csv (sorted,
            // the first 8), then pads (the name, a zero byte, the place) up to 9 values.
            let list = include_str!("../../core/data/nicknames.csv");
            let mut formal: Vec<&str> = list
                .lines()
                .skip(1)
                .filter_map(|l| {
                    let p: Vec<&str> = l.trim_end().split(',').collect();
                    let plain =
                        |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase());
                    (p.len() == 3
                        && p[1] == "has_nickname"
                        && p[2] == value
                        && p[0] != value
                        && plain(p[0])
                        && plain(p[2]))
                    .then_some(p[0])
                })
                .collect();
            formal.sort_unstable();
            formal.dedup();
            formal.truncate(8);
            let mut out = vec![value.to_string()];
            out.extend(formal.iter().map(|f| f.to_string()));
            let mut place = out.len();
            let mut pads = Vec::new();
            while place < 9 {
                let mut pad = value.as_bytes().to_vec();
                pad.extend_from_slice(&[0, place as u8]);
                pads.push(String::from_utf8(pad).expect("UTF-8"));
                place += 1;
            }
            out.extend(pads);
            out
        }
        ("text", "number_street") => {
            // From the last word holding a digit to the end; the whole line without one.
            let words: Vec<&str> = value.split(' ').collect();
            let start = words
                .iter()
                .rposition(|w| w.bytes().any(|b| b.is_ascii_digit()))
                .unwrap_or(0);
            vec![words[start..].join(" ")]
        }
        other => panic!("no transform {other:?}"),
    }
}

/// A schema as the vectors hold it (format version 2), read with serde_json alone.
struct Fields {
    /// Per field: name, kind, key group.
    fields: Vec<(String, String, String)>,
}

/// A parsed key: field index and transform.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Key {
    field: usize,
    transform: Option<usize>,
}

impl Fields {
    fn of(schema: &Value) -> Fields {
        let fields = schema["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| {
                let name = f["name"].as_str().expect("a name").to_string();
                let group = f["key_group"].as_str().unwrap_or(&name).to_string();
                (name, f["kind"].as_str().expect("a kind").to_string(), group)
            })
            .collect();
        Fields { fields }
    }

    fn key(&self, text: &str) -> Key {
        let (field, t) = match text.split_once('.') {
            Some((f, t)) => (f, Some(t)),
            None => (text, None),
        };
        Key {
            field: self
                .fields
                .iter()
                .position(|f| f.0 == field)
                .expect("a field"),
            transform: t.map(|t| {
                TRANSFORMS
                    .iter()
                    .position(|x| *x == t)
                    .expect("a transform")
            }),
        }
    }

    fn transform_name(k: Key) -> Option<&'static str> {
        k.transform.map(|t| TRANSFORMS[t])
    }

    /// The hash domain: `value` for the field and its swap, else the transform's name.
    fn domain(k: Key) -> &'static str {
        match Self::transform_name(k) {
            None | Some("swapped") => "value",
            Some(t) => t,
        }
    }

    /// Keys in the order their values are hashed: key group, domain, field, transform.
    fn canonical(&self, mut keys: Vec<Key>) -> Vec<Key> {
        keys.sort_by(|a, b| {
            (
                &self.fields[a.field].2,
                Self::domain(*a),
                a.field,
                a.transform,
            )
                .cmp(&(
                    &self.fields[b.field].2,
                    Self::domain(*b),
                    b.field,
                    b.transform,
                ))
        });
        keys
    }

    /// `group:domain` of each key, joined with spaces.
    fn signature(&self, keys: &[Key]) -> String {
        keys.iter()
            .map(|k| format!("{}:{}", self.fields[k.field].2, Self::domain(*k)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The values of key `k` for a case (empty when missing or not defined).
    fn values(&self, case: &Case, k: Key) -> Vec<String> {
        let (name, kind, _) = &self.fields[k.field];
        match case.normalised.get(name) {
            Some(v) => transform(kind, v, Self::transform_name(k)),
            None => vec![],
        }
    }

    fn is_set(k: Key) -> bool {
        matches!(
            Self::transform_name(k),
            Some("deletions" | "digit_masks" | "nickname")
        )
    }
}

/// The cell of a token column: each key's text after its length (4 bytes little-endian), in
/// canonical order, hashed under `token <signature>`; a token is 16 bytes of the hash in hex, a
/// token set the first 8 bytes of the hash of each value of its set key, as little-endian
/// numbers, ascending and distinct, each written as its 8 bytes in hex.
fn token_cell(schema: &Fields, keys: &[String], case: &Case) -> String {
    let keys = schema.canonical(keys.iter().map(|k| schema.key(k)).collect());
    let key = derived("token", &schema.signature(&keys));
    let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
    for &k in &keys {
        let values = schema.values(case, k);
        if values.is_empty() {
            return String::new();
        }
        assert!(Fields::is_set(k) || values.len() == 1);
        inputs = inputs
            .iter()
            .flat_map(|input| {
                values.iter().map(move |v| {
                    let mut x = input.clone();
                    x.extend_from_slice(&(v.len() as u32).to_le_bytes());
                    x.extend_from_slice(v.as_bytes());
                    x
                })
            })
            .collect();
    }
    let hashes: Vec<[u8; 32]> = inputs
        .iter()
        .map(|i| *keyed(&key, i).finalize().as_bytes())
        .collect();
    if keys.iter().any(|k| Fields::is_set(*k)) {
        let set: BTreeSet<u64> = hashes
            .iter()
            .map(|h| u64::from_le_bytes(h[..8].try_into().expect("8 bytes")))
            .collect();
        set.iter().map(|v| hex(&v.to_le_bytes())).collect()
    } else {
        hex(&hashes[0][..16])
    }
}

/// The padded q-grams of a value: `q - 1` underscores each side, windows of `q` characters.
fn grams(value: &str, q: usize) -> Vec<String> {
    let pad = "_".repeat(q - 1);
    let chars: Vec<char> = format!("{pad}{value}{pad}").chars().collect();
    chars.windows(q).map(|w| w.iter().collect()).collect()
}

/// The permutation of `0..n` of a balanced filter: Fisher-Yates from `n - 1` down to 1, `i`
/// swapped with `x mod (i + 1)`, `x` the next little-endian u32 of the extended output of keyed
/// BLAKE3 of `pseudolink balanced filter permutation`, rejected at or above the largest multiple
/// of `i + 1` below 2^32.
fn permutation(key: &[u8; 32], n: usize) -> Vec<usize> {
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(b"pseudolink balanced filter permutation");
    let mut xof = h.finalize_xof();
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let bound = i as u64 + 1;
        let zone = (1u64 << 32) - (1u64 << 32) % bound;
        let j = loop {
            let mut b = [0u8; 4];
            xof.fill(&mut b);
            let x = u64::from(u32::from_le_bytes(b));
            if x < zone {
                break (x % bound) as usize;
            }
        };
        p.swap(i, j);
    }
    p
}

/// The cell of a filter column: standard base64 of its little-endian 64-bit words; empty when a
/// context key or every field is missing.
fn filter_cell(schema: &Fields, filter: &Value, case: &Case) -> String {
    let bits = filter["bits"].as_u64().expect("bits") as usize;
    let q = filter.get("q").and_then(Value::as_u64).unwrap_or(2) as usize;
    let flag = |name: &str| filter.get(name).and_then(Value::as_bool).unwrap_or(false);
    let context: Vec<String> = filter
        .get("context")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .map(|k| k.as_str().expect("a key").to_string())
                .collect()
        })
        .unwrap_or_default();
    let context = schema.canonical(context.iter().map(|k| schema.key(k)).collect());
    // The salt: each context key's text after its length in decimal and a colon.
    let mut salt = String::new();
    for &k in &context {
        let Some(v) = schema.values(case, k).pop() else {
            return String::new();
        };
        salt.push_str(&format!("{}:{v}", v.len()));
    }
    let purpose = if context.is_empty() {
        "bloom".to_string()
    } else {
        format!("bloom in {}", schema.signature(&context))
    };
    let mut raw = vec![false; bits];
    let mut any = false;
    for f in filter["fields"].as_array().expect("fields") {
        let k = schema.key(f["field"].as_str().expect("a field"));
        let Some(value) = schema.values(case, k).pop() else {
            continue;
        };
        any = true;
        let hashes = f["hashes"].as_u64().expect("hashes") as usize;
        let key = derived(&purpose, &schema.fields[k.field].2);
        // Two bytes per position when `bits` divides 2^16, else four; w * bits / 2^(8 * width).
        let width = if bits.is_power_of_two() { 2 } else { 4 };
        for gram in grams(&value, q) {
            let mut input = Vec::new();
            if !context.is_empty() {
                input.extend_from_slice(&(salt.len() as u32).to_le_bytes());
                input.extend_from_slice(salt.as_bytes());
            }
            input.extend_from_slice(gram.as_bytes());
            let mut out = vec![0u8; hashes * width];
            keyed(&key, &input).finalize_xof().fill(&mut out);
            for w in out.chunks_exact(width) {
                let w = w
                    .iter()
                    .rev()
                    .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
                raw[((w * bits as u64) >> (8 * width)) as usize] = true;
            }
        }
    }
    if !any {
        return String::new();
    }
    // XOR folding: bit i of the written filter is bit i XOR bit i + n/2.
    let folded: Vec<bool> = if flag("xor_fold") {
        (0..bits / 2).map(|i| raw[i] ^ raw[i + bits / 2]).collect()
    } else {
        raw
    };
    // Balancing: the bits then their complement, permuted.
    let written: Vec<bool> = if flag("balanced") {
        let n = folded.len();
        let c: Vec<bool> = folded
            .iter()
            .copied()
            .chain(folded.iter().map(|b| !b))
            .collect();
        let name = filter["name"].as_str().expect("a name");
        permutation(&derived("balance", name), 2 * n)
            .iter()
            .map(|&p| c[p])
            .collect()
    } else {
        folded
    };
    let bytes: Vec<u8> = written
        .chunks(64)
        .flat_map(|word| {
            word.iter()
                .enumerate()
                .fold(0u64, |acc, (i, &b)| acc | (u64::from(b) << i))
                .to_le_bytes()
        })
        .collect();
    base64(&bytes)
}

fn cells(row: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(row.as_bytes());
    let record = reader.records().next().expect("a row").expect("a CSV row");
    record.iter().map(String::from).collect()
}

/// Checks every cell of every case of one schema; returns the number of cells checked.
fn rederive(what: &str, schema_json: &str, header: &str, cases: &[Case]) -> usize {
    let schema: Value = serde_json::from_str(schema_json).expect("schema JSON");
    assert_eq!(
        schema["version"], 2,
        "{what}: the vectors hold version 2 schemas"
    );
    let fields = Fields::of(&schema);
    let tokens: Vec<Vec<String>> = schema["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .map(|t| {
            t.as_array()
                .expect("a token is a list of keys")
                .iter()
                .map(|k| k.as_str().expect("a key").to_string())
                .collect()
        })
        .collect();
    let no_filters = Vec::new();
    let filters = schema
        .get("filters")
        .and_then(Value::as_array)
        .unwrap_or(&no_filters);
    // The layout: record_id, the tokens in order (keys joined with +), the filters.
    let mut expected = vec!["record_id".to_string()];
    expected.extend(tokens.iter().map(|t| t.join("+")));
    expected.extend(
        filters
            .iter()
            .map(|f| format!("{}.bloom", f["name"].as_str().expect("a name"))),
    );
    assert_eq!(header, expected.join(","), "{what}: header");
    let mut checked = 0;
    for case in cases {
        let got = cells(&case.row);
        assert_eq!(got.len(), expected.len(), "{what}: {}", case.note);
        assert_eq!(got[0], case.values[0], "{what}: the record id");
        for (t, cell) in tokens.iter().zip(&got[1..]) {
            assert_eq!(
                *cell,
                token_cell(&fields, t, case),
                "{what}: case '{}', column {}",
                case.note,
                t.join("+")
            );
            checked += 1;
        }
        for (f, cell) in filters.iter().zip(&got[1 + tokens.len()..]) {
            assert_eq!(
                *cell,
                filter_cell(&fields, f, case),
                "{what}: case '{}', filter {}",
                case.note,
                f["name"]
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn every_cell_follows_the_documented_definition() {
    let v = committed();
    assert_eq!(v.encoding_version, 3);
    let mut checked = rederive("default schema", &v.schema_json, &v.header, &v.cases);
    for s in &v.schemas {
        checked += rederive(&s.name, &s.translated_json, &s.header, &s.cases);
    }
    // Not vacuous: every suite has cells with values, sets and filters among them.
    assert!(checked > 1500, "only {checked} cells checked");
}

#[test]
fn the_vectors_cover_every_transform_and_filter_option() {
    let v = committed();
    let mut schemas: Vec<Value> = vec![serde_json::from_str(&v.schema_json).expect("JSON")];
    schemas.extend(
        v.schemas
            .iter()
            .map(|s| serde_json::from_str(&s.translated_json).expect("JSON")),
    );
    let mut keys = BTreeSet::new();
    let mut options = BTreeSet::new();
    for s in &schemas {
        for t in s["tokens"].as_array().expect("tokens") {
            let t = t.as_array().expect("keys");
            options.insert(format!("{} keys", t.len().min(4)));
            for k in t {
                if let Some((_, tr)) = k.as_str().expect("a key").split_once('.') {
                    keys.insert(tr.to_string());
                }
            }
        }
        for f in s
            .get("filters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for o in ["xor_fold", "balanced"] {
                if f[o] == true {
                    options.insert(o.to_string());
                }
            }
            options.insert(format!(
                "q={}",
                f.get("q").and_then(Value::as_u64).unwrap_or(2)
            ));
            let bits = f["bits"].as_u64().expect("bits");
            options.insert(
                if bits.is_power_of_two() {
                    "2-byte positions"
                } else {
                    "4-byte positions"
                }
                .into(),
            );
            if f["fields"].as_array().expect("fields").len() > 1 {
                options.insert("several fields".into());
            }
            if f["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .any(|x| x["hashes"].as_u64().expect("hashes") * 2 > 32)
            {
                options.insert("more positions than one hash holds".into());
            }
            match f
                .get("context")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
            {
                0 => options.insert("unsalted".into()),
                1 => options.insert("salted".into()),
                _ => options.insert("salted by several keys".into()),
            };
        }
    }
    assert_eq!(
        keys,
        TRANSFORMS.iter().map(|t| t.to_string()).collect(),
        "every transform in some token column"
    );
    for o in [
        "1 keys",
        "2 keys",
        "3 keys",
        "4 keys",
        "xor_fold",
        "balanced",
        "q=1",
        "q=2",
        "q=3",
        "2-byte positions",
        "4-byte positions",
        "several fields",
        "more positions than one hash holds",
        "unsalted",
        "salted",
        "salted by several keys",
    ] {
        assert!(options.contains(o), "no vector schema has {o}");
    }
    // Inputs longer than one block (a token of four keys with a long address; salted q-grams).
    let long = v.cases.iter().any(|c| {
        c.normalised
            .get("address_line_1")
            .is_some_and(|a| a.len() + 40 > 60)
    });
    assert!(long, "no case has a token input longer than one block");
}

/// The default schema's tokens do what they are for, on the twin cases.
#[test]
fn the_default_tokens_join_what_they_should() {
    let v = committed();
    let header: Vec<&str> = v.header.split(',').collect();
    let rows: BTreeMap<String, Vec<String>> = v
        .cases
        .iter()
        .map(|c| (c.values[0].clone(), cells(&c.row)))
        .collect();
    let cell = |id: &str, column: &str| -> String {
        let at = header
            .iter()
            .position(|h| *h == column)
            .unwrap_or_else(|| panic!("no column {column}"));
        rows[id][at].clone()
    };
    let set = |id: &str, column: &str| -> BTreeSet<String> {
        let c = cell(id, column);
        assert!(!c.is_empty() && c.len() % 16 == 0, "{id} {column}: {c}");
        (0..c.len() / 16)
            .map(|i| c[16 * i..16 * i + 16].to_string())
            .collect()
    };
    let share = |a: &str, b: &str, column: &str| !set(a, column).is_disjoint(&set(b, column));
    // Day and month swapped: the unordered date agrees, the date does not.
    assert_eq!(
        cell("v01", "date_of_birth.unordered+first_name"),
        cell("v22", "date_of_birth.unordered+first_name")
    );
    assert_ne!(
        cell("v01", "first_name+date_of_birth"),
        cell("v22", "first_name+date_of_birth")
    );
    // One edit in the first name: the deletion sets share a value, the names do not.
    assert!(share("v01", "v26", "first_name.deletions+date_of_birth"));
    assert_ne!(
        cell("v01", "first_name+date_of_birth"),
        cell("v26", "first_name+date_of_birth")
    );
    assert!(!share("v01", "v25", "first_name.deletions+date_of_birth"));
    // One digit of the date: the digit masks share a value.
    assert!(share(
        "v01",
        "v27",
        "date_of_birth.digit_masks+first_name+last_name"
    ));
    assert!(!share(
        "v01",
        "v22",
        "date_of_birth.digit_masks+first_name+last_name"
    ));
    // A flat number before the address: the number and street agree, the line does not.
    assert_eq!(
        cell("v01", "address_line_1.number_street+date_of_birth"),
        cell("v28", "address_line_1.number_street+date_of_birth")
    );
    assert_ne!(
        cell("v01", "address_line_1+date_of_birth"),
        cell("v28", "address_line_1+date_of_birth")
    );
    // Names exchanged: one key group, so the first name's token is the other's last name's.
    assert_eq!(
        cell("v29", "first_name+date_of_birth"),
        cell("v01", "last_name+date_of_birth")
    );
    // A nickname: Jack and John share a value of their nickname sets, not their names; every
    // nickname set has 9 values whatever the name.
    assert!(share("v01", "v30", "first_name.nickname+date_of_birth"));
    assert_ne!(
        cell("v01", "first_name+date_of_birth"),
        cell("v30", "first_name+date_of_birth")
    );
    assert!(!share("v01", "v29", "first_name.nickname+date_of_birth"));
    for case in ["v01", "v23", "v24", "v25", "v30"] {
        assert_eq!(set(case, "first_name.nickname+date_of_birth").len(), 9);
    }
    // Doubled letters: the equal deletions of "anna" are listed once (5 values, 4 distinct).
    assert_eq!(set("v25", "first_name.deletions+date_of_birth").len(), 4);
    // Long names: the name and its first 15 deletions (the first name is 15 letters, the last 24).
    assert_eq!(set("v23", "first_name.deletions+date_of_birth").len(), 16);
    assert_eq!(set("v23", "last_name.deletions+date_of_birth").len(), 16);
}
