//! The record encoder: raw values in, tokens and filters out.

use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::normalise::date::{today_utc, Date};
use crate::normalise::MissingReason;
use crate::schema::{BloomSpec, FieldKind, KeyRef, Level, Schema};
use crate::secret::{DerivedKey, Secret};

use super::bloom::{salted_gram, Bloom, BloomBuilder, Hardening};
use super::layout::{Layout, Slot};
use super::token::Token;
use super::value::{FieldNormaliser, Value};

/// One encoded record: the agency's record id, token slots and Bloom slots (see [`Layout`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncodedRecord {
    /// The agency's own record id (not encoded: it is how results are returned to the agency).
    pub id: String,
    /// Token slots; `None` is a missing value.
    pub tokens: Vec<Option<Token>>,
    /// Bloom slots; `None` is a missing value.
    pub blooms: Vec<Option<Bloom>>,
}

impl EncodedRecord {
    /// Appends this record as one CSV row (no newline) in the layout's column order.
    pub fn write_csv_row(&self, layout: &Layout, out: &mut Vec<u8>) {
        write_csv_cell(&self.id, out);
        for col in &layout.columns {
            out.push(b',');
            match col.slot {
                Slot::Token(i) => {
                    if let Some(Some(t)) = self.tokens.get(i) {
                        t.write_hex(out);
                    }
                }
                Slot::Bloom { index, .. } => {
                    if let Some(Some(b)) = self.blooms.get(index) {
                        b.write_base64(out);
                    }
                }
            }
        }
    }
}

/// Appends `value` as a CSV cell, quoted when it holds a comma, quote, CR or LF.
pub fn write_csv_cell(value: &str, out: &mut Vec<u8>) {
    if value
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        || value.starts_with(' ')
    {
        out.push(b'"');
        for b in value.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(value.as_bytes());
    }
}

/// What happened to each field of one record.
pub type FieldOutcomes = Vec<Option<MissingReason>>;

struct FieldKeys {
    token: DerivedKey,
    bloom: DerivedKey,
    levels: Vec<(Level, DerivedKey)>,
    /// The salt reference of a salted field.
    salt: Option<KeyRef>,
    /// Folding and balancing of the field's filter.
    hardening: Option<Hardening>,
}

/// Keys and settings of the record-level filter.
struct RecordKeys {
    bits: u32,
    /// Per contributing field: its index, its key and its filter settings.
    fields: Vec<(usize, DerivedKey, BloomSpec)>,
    hardening: Option<Hardening>,
}

/// The purpose string of a key: salted fields use their own purposes (`salted token`...), so a
/// salted encoding can never equal an unsalted one.
fn purpose(salted: bool, base: &str) -> String {
    if salted {
        format!("salted {base}")
    } else {
        base.to_string()
    }
}

/// Encodes records under one schema and secret. Keys are derived once, here.
///
/// ```
/// use pseudolink::{Encoder, Schema, Secret};
/// let schema = Schema::example();
/// let secret = Secret::from_hex(&"0f".repeat(32)).unwrap();
/// let encoder = Encoder::new(&schema, &secret);
/// let mut scratch = encoder.scratch();
/// let values = ["r1", "Zoë", "", "O'Neil", "09/03/2014", "F", "cv1 2ab", "1 High St", "943 476 5919"];
/// let (record, outcomes) = encoder.encode_values(&values, &mut scratch).unwrap();
/// assert_eq!(record.id, "r1");
/// assert_eq!(outcomes[1], Some(pseudolink::normalise::MissingReason::Empty)); // no middle name
/// let again = encoder.encode_values(&values, &mut scratch).unwrap().0;
/// assert_eq!(record, again); // deterministic
/// ```
pub struct Encoder {
    schema: Schema,
    layout: Layout,
    normalisers: Vec<FieldNormaliser>,
    keys: Vec<FieldKeys>,
    record_keys: Option<RecordKeys>,
    block_keys: Vec<(DerivedKey, Vec<KeyRef>)>,
    audit_key: DerivedKey,
    check_value: String,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("schema_fingerprint", &self.schema.fingerprint())
            .field("key_check_value", &self.check_value)
            .finish_non_exhaustive()
    }
}

/// Per-thread working memory of an [`Encoder`] (Bloom position caches, token cache, buffers).
pub struct Scratch<'e> {
    builders: Vec<Option<BloomBuilder<'e>>>,
    record_builders: Vec<BloomBuilder<'e>>,
    record_raw: Bloom,
    tokens: TokenCache,
    values: Vec<Option<Value>>,
    block_buf: Vec<u8>,
    salted: Vec<u8>,
}

/// A bounded cache of tokens of short values (at most 16 bytes), keyed by which key and the
/// value's bytes. Names, dates, postcode parts and levels repeat a lot; hashing is the costliest
/// step of encoding, and a lookup is far cheaper. Cleared when it holds [`TokenCache::MAX`] entries.
#[derive(Default)]
struct TokenCache {
    map: FxHashMap<(u32, u128, u8), Token>,
}

impl TokenCache {
    const MAX: usize = 200_000;

    #[inline]
    fn token(&mut self, id: u32, key: &DerivedKey, data: &[u8]) -> Token {
        if data.len() > 16 {
            return Token::of(key, data);
        }
        let mut packed = [0u8; 16];
        packed[..data.len()].copy_from_slice(data);
        let k = (id, u128::from_le_bytes(packed), data.len() as u8);
        if let Some(t) = self.map.get(&k) {
            return *t;
        }
        if self.map.len() >= Self::MAX {
            self.map.clear();
        }
        let t = Token::of(key, data);
        self.map.insert(k, t);
        t
    }
}

impl Encoder {
    /// An encoder for `schema` under `secret`, judging dates against today's date.
    pub fn new(schema: &Schema, secret: &Secret) -> Encoder {
        Encoder::with_today(schema, secret, today_utc())
    }

    /// An encoder that treats dates after `today` as implausible (for reproducible tests).
    pub fn with_today(schema: &Schema, secret: &Secret, today: Date) -> Encoder {
        let keys = schema
            .fields
            .iter()
            .map(|f| {
                let salted = f.salt.is_some();
                let group = f.key_group();
                FieldKeys {
                    token: secret.derive_key(&purpose(salted, "token"), group),
                    bloom: secret.derive_key(&purpose(salted, "bloom"), group),
                    levels: f
                        .levels
                        .iter()
                        .map(|l| {
                            // A swapped date is compared against the other side's exact token,
                            // so it is tokenised under the same key.
                            let base = if *l == Level::Swapped {
                                "token".to_string()
                            } else {
                                format!("level {}", l.as_str())
                            };
                            (*l, secret.derive_key(&purpose(salted, &base), group))
                        })
                        .collect(),
                    salt: f.salt.as_deref().and_then(|k| schema.parse_key(k)),
                    hardening: f.bloom.and_then(|spec| {
                        Hardening::new(spec, &secret.derive_key("balance", group))
                    }),
                }
            })
            .collect();
        let record_keys = schema.record_bloom.as_ref().map(|r| RecordKeys {
            bits: r.bits,
            fields: r
                .fields
                .iter()
                .filter_map(|rf| {
                    let index = schema.field_index(&rf.field)?;
                    let salted = schema.fields[index].salt.is_some();
                    Some((
                        index,
                        secret.derive_key(&purpose(salted, "record bloom"), &rf.field),
                        r.bloom_for(rf),
                    ))
                })
                .collect(),
            hardening: Hardening::new(
                r.bloom_for(&crate::schema::RecordBloomField {
                    field: String::new(),
                    hashes: 1,
                }),
                &secret.derive_key("balance", "record"),
            ),
        });
        let block_keys = schema
            .blocking
            .iter()
            .map(|r| {
                let refs = r.keys.iter().filter_map(|k| schema.parse_key(k)).collect();
                (secret.derive_key("block", &r.name), refs)
            })
            .collect();
        Encoder {
            layout: Layout::new(schema),
            normalisers: schema
                .fields
                .iter()
                .map(|f| FieldNormaliser::new(f, today))
                .collect(),
            keys,
            record_keys,
            block_keys,
            audit_key: secret.derive_key("audit", "input-file"),
            check_value: secret.check_value(),
            schema: schema.clone(),
        }
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The column layout of the output.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The key check value of the secret.
    pub fn check_value(&self) -> &str {
        &self.check_value
    }

    /// A hasher keyed for audit hashes of cleartext input files: only holders of the secret can
    /// confirm which file was encoded.
    pub fn audit_hasher(&self) -> blake3::Hasher {
        self.audit_key.hasher()
    }

    /// The normaliser of field `index`.
    pub fn normaliser(&self, index: usize) -> Option<&FieldNormaliser> {
        self.normalisers.get(index)
    }

    /// Fresh working memory for one thread.
    pub fn scratch(&self) -> Scratch<'_> {
        Scratch {
            builders: self
                .schema
                .fields
                .iter()
                .zip(&self.keys)
                .map(|(f, k)| {
                    f.bloom.map(|spec| {
                        let builder =
                            BloomBuilder::new(&k.bloom, spec).hardened(k.hardening.clone());
                        if f.kind == FieldKind::Name {
                            builder.caching_values()
                        } else {
                            builder
                        }
                    })
                })
                .collect(),
            record_builders: self
                .record_keys
                .iter()
                .flat_map(|r| &r.fields)
                .map(|(_, key, spec)| BloomBuilder::new(key, *spec))
                .collect(),
            record_raw: Bloom::default(),
            tokens: TokenCache::default(),
            values: Vec::with_capacity(self.schema.fields.len()),
            block_buf: Vec::new(),
            salted: Vec::new(),
        }
    }

    /// Encodes one record given as strings in [`Schema::input_columns`] order (record id first).
    ///
    /// An empty string is a missing value. Errors when the count of values is wrong or the record
    /// id is empty.
    pub fn encode_values<S: AsRef<str>>(
        &self,
        values: &[S],
        scratch: &mut Scratch<'_>,
    ) -> Result<(EncodedRecord, FieldOutcomes)> {
        let expected = self.schema.fields.len() + 1;
        if values.len() != expected {
            return Err(Error::Invalid(format!(
                "expected {expected} values (record id and {} fields), got {}",
                expected - 1,
                values.len()
            )));
        }
        let id = values[0].as_ref();
        if id.trim().is_empty() {
            return Err(Error::Invalid("the record id is empty".into()));
        }
        Ok(self.encode_fields(id, |i| values.get(i + 1).map(|v| v.as_ref()), scratch))
    }

    /// Encodes one record: `raw(i)` gives the raw value of field `i`, `None` if the column is absent.
    pub fn encode_fields<'a>(
        &self,
        id: &str,
        raw: impl Fn(usize) -> Option<&'a str>,
        scratch: &mut Scratch<'_>,
    ) -> (EncodedRecord, FieldOutcomes) {
        let mut record = EncodedRecord::default();
        let mut outcomes = Vec::new();
        self.encode_fields_into(id, raw, scratch, &mut record, &mut outcomes);
        (record, outcomes)
    }

    /// Like [`encode_fields`](Self::encode_fields), reusing the memory of `record` and
    /// `outcomes` (the file pipeline encodes millions of rows through one of each).
    pub fn encode_fields_into<'a>(
        &self,
        id: &str,
        raw: impl Fn(usize) -> Option<&'a str>,
        scratch: &mut Scratch<'_>,
        record: &mut EncodedRecord,
        outcomes: &mut FieldOutcomes,
    ) {
        record.id.clear();
        record.id.push_str(id);
        record.tokens.clear();
        record.tokens.resize(self.layout.n_tokens, None);
        record.blooms.resize(self.layout.n_blooms, None);
        outcomes.clear();
        scratch.values.clear();
        for (i, normaliser) in self.normalisers.iter().enumerate() {
            let value = match raw(i) {
                None => Err(MissingReason::Empty),
                Some(s) => normaliser.normalise(s),
            };
            match value {
                Ok(v) => {
                    outcomes.push(None);
                    scratch.values.push(Some(v));
                }
                Err(reason) => {
                    outcomes.push(Some(reason));
                    scratch.values.push(None);
                }
            }
        }
        // Salts may come from later fields, so values are encoded once all are normalised.
        let values = std::mem::take(&mut scratch.values);
        for (i, value) in values.iter().enumerate() {
            let salt = self.salt_of(i, &values);
            match (value, salt) {
                (Some(v), Ok(salt)) => self.encode_value(i, v, salt.as_deref(), record, scratch),
                (Some(_), Err(())) => {
                    if let Some(o) = outcomes.get_mut(i) {
                        *o = Some(MissingReason::SaltMissing);
                    }
                    self.clear_bloom(i, record);
                }
                (None, _) => self.clear_bloom(i, record),
            }
        }
        self.encode_record_bloom(&values, record, scratch);
        scratch.values = values;
        for (rule, (key, refs)) in self.block_keys.iter().enumerate() {
            scratch.block_buf.clear();
            let mut complete = true;
            for r in refs {
                let value = scratch.values.get(r.field).and_then(Option::as_ref);
                let part = match (value, r.level) {
                    (Some(v), None) => Some(v.canonical()),
                    (Some(v), Some(l)) => v.level(l),
                    (None, _) => None,
                };
                match part {
                    Some(p) => {
                        let len = u32::try_from(p.len()).unwrap_or(u32::MAX);
                        scratch.block_buf.extend_from_slice(&len.to_le_bytes());
                        scratch.block_buf.extend_from_slice(p.as_bytes());
                    }
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
            if complete {
                if let Some(slot) = self
                    .layout
                    .blocks
                    .get(rule)
                    .and_then(|s| record.tokens.get_mut(*s))
                {
                    *slot = Some(Token::of(key, &scratch.block_buf));
                }
            }
        }
    }

    /// The salt of field `i` in a record: `Ok(None)` for an unsalted field, `Err(())` when the
    /// field is salted but the record's salt value is missing.
    fn salt_of<'v>(
        &self,
        i: usize,
        values: &'v [Option<Value>],
    ) -> std::result::Result<Option<super::value::Text<'v>>, ()> {
        let Some(r) = self.keys.get(i).and_then(|k| k.salt) else {
            return Ok(None);
        };
        let v = values.get(r.field).and_then(Option::as_ref).ok_or(())?;
        match r.level {
            None => Ok(Some(v.canonical())),
            Some(l) => v.level(l).map(Some).ok_or(()),
        }
    }

    fn clear_bloom(&self, i: usize, record: &mut EncodedRecord) {
        if let Some(b) = self.layout.fields.get(i).and_then(|f| f.bloom) {
            record.blooms[b] = None;
        }
    }

    fn encode_record_bloom(
        &self,
        values: &[Option<Value>],
        record: &mut EncodedRecord,
        scratch: &mut Scratch<'_>,
    ) {
        let (Some(keys), Some(slot)) = (&self.record_keys, self.layout.record_bloom) else {
            return;
        };
        let raw = &mut scratch.record_raw;
        if raw.bits() == keys.bits as usize {
            raw.0.fill(0);
        } else {
            *raw = Bloom::empty(keys.bits);
        }
        let mut any = false;
        for ((field, _, _), builder) in keys.fields.iter().zip(scratch.record_builders.iter_mut()) {
            let Some(v) = values.get(*field).and_then(Option::as_ref) else {
                continue;
            };
            let Ok(salt) = self.salt_of(*field, values) else {
                continue;
            };
            builder.add_into(&v.canonical(), salt.as_deref(), raw);
            any = true;
        }
        if !any {
            record.blooms[slot] = None;
            return;
        }
        match (&keys.hardening, &mut record.blooms[slot]) {
            (Some(h), Some(out)) => h.apply(raw, out),
            (Some(h), empty) => {
                let mut out = Bloom::default();
                h.apply(raw, &mut out);
                *empty = Some(out);
            }
            (None, Some(out)) => out.0.clone_from(&raw.0),
            (None, empty) => *empty = Some(raw.clone()),
        }
    }

    fn encode_value(
        &self,
        i: usize,
        v: &Value,
        salt: Option<&str>,
        record: &mut EncodedRecord,
        scratch: &mut Scratch<'_>,
    ) {
        let slots = &self.layout.fields[i];
        let keys = &self.keys[i];
        let canonical = v.canonical();
        // NHS numbers are unique per person: caching their tokens would only cost.
        let cache = self.schema.fields[i].kind != FieldKind::NhsNumber;
        let id = (i as u32) << 5;
        let (salted, tokens) = (&mut scratch.salted, &mut scratch.tokens);
        let mut token = |id: u32, key: &DerivedKey, text: &str, cache: bool| -> Token {
            let data: &[u8] = match salt {
                Some(s) => {
                    salted_gram(s, text.as_bytes(), salted);
                    salted
                }
                None => text.as_bytes(),
            };
            if cache {
                tokens.token(id, key, data)
            } else {
                Token::of(key, data)
            }
        };
        if let Some(s) = slots.token {
            record.tokens[s] = Some(token(id, &keys.token, &canonical, cache));
        }
        if let (Some(s), Some(Some(builder))) = (slots.bloom, scratch.builders.get_mut(i)) {
            match &mut record.blooms[s] {
                Some(bloom) => builder.build_into(&canonical, salt, bloom),
                empty => {
                    let mut bloom = Bloom::default();
                    builder.build_into(&canonical, salt, &mut bloom);
                    *empty = Some(bloom);
                }
            }
        }
        for (j, ((level, slot), (_, key))) in slots.levels.iter().zip(&keys.levels).enumerate() {
            if let Some(text) = v.level(*level) {
                record.tokens[*slot] = Some(token(id + 1 + j as u32, key, &text, true));
            }
        }
    }
}
