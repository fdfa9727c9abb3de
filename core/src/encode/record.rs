//! The record encoder: raw values in, tokens and filters out.

use crate::error::{Error, Result};
use crate::normalise::date::{today_utc, Date};
use crate::normalise::MissingReason;
use crate::schema::{BloomSpec, KeyRef, Level, Schema};
use crate::secret::{DerivedKey, Secret};

use super::bloom::{
    batchable, finish_filter, for_each_gram, gram_input, salt_prefix, xof_positions, Bloom,
    Hardening,
};
use super::gram_table::GramTable;
use super::layout::{Layout, Slot};
use super::message::{put, HashBatch, ONE_BLOCK_INPUT};
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

/// Index of a key in [`Encoder`]'s key list (a [`HashBatch`] groups messages by it).
type KeyId = usize;

struct FieldKeys {
    token: KeyId,
    bloom: KeyId,
    levels: Vec<(Level, KeyId)>,
    /// The salt reference of a salted field.
    salt: Option<KeyRef>,
}

/// Keys and settings of the record-level filter.
struct RecordKeys {
    /// Per contributing field: its index, its key and its filter settings.
    fields: Vec<(usize, KeyId, BloomSpec)>,
}

/// Where a batched hash goes.
#[derive(Clone, Copy)]
enum Target {
    /// Token slot `slot` of record `row` of the batch.
    Token { row: u32, slot: u32 },
    /// The bit positions of a q-gram, into raw filter `raw` of the batch.
    Bits { raw: u32, spec: BloomSpec },
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

/// The q-gram tables of the encoder's keys, indexed like `hash_keys` (see [`GramTable`]): one
/// for each unsalted filter, a field's or the record-level filter's, that can have one.
fn gram_tables(
    schema: &Schema,
    keys: &[FieldKeys],
    record_keys: Option<&RecordKeys>,
    hash_keys: &[DerivedKey],
) -> Vec<Option<GramTable>> {
    let mut tables: Vec<Option<GramTable>> = hash_keys.iter().map(|_| None).collect();
    let field_filters = schema
        .fields
        .iter()
        .zip(keys)
        .filter_map(|(f, k)| Some((f, k.bloom, f.bloom?)));
    let record_filters = record_keys
        .into_iter()
        .flat_map(|r| &r.fields)
        .filter_map(|&(index, key, spec)| Some((schema.fields.get(index)?, key, spec)));
    for (field, key, spec) in field_filters.chain(record_filters) {
        if field.salt.is_some() {
            continue;
        }
        if let (Some(slot @ None), Some(k)) = (tables.get_mut(key), hash_keys.get(key)) {
            *slot = GramTable::new(k, spec);
        }
    }
    tables
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
    /// Every key that tokens and filters are hashed under; the others refer to them by index.
    hash_keys: Vec<DerivedKey>,
    keys: Vec<FieldKeys>,
    record_keys: Option<RecordKeys>,
    block_keys: Vec<(KeyId, Vec<KeyRef>)>,
    /// Per Bloom slot: the length of its filter before hardening, and the hardening.
    filters: Vec<(u32, Option<Hardening>)>,
    /// Per key (as `hash_keys`): the bits of every short q-gram, for the keys of unsalted filters
    /// that can have a table ([`GramTable::new`]).
    gram_tables: Vec<Option<GramTable>>,
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

/// Per-thread working memory of an [`Encoder`]: the batch of messages waiting to be hashed, the
/// raw filters of the records being encoded, and buffers.
pub struct Scratch<'e> {
    batch: HashBatch<Target>,
    /// Raw filters (before hardening) of the batch, `row * bloom slots + slot`.
    raws: Vec<Bloom>,
    /// Whether each raw filter has a value.
    present: Vec<bool>,
    values: Vec<Option<Value>>,
    /// Per field, memory for its next text value (taken back from `values` record by record).
    texts: Vec<String>,
    /// What goes before each hashed input of the value being staged (its salt).
    prefix: Vec<u8>,
    input: Vec<u8>,
    gram: Vec<u8>,
    message: Vec<u8>,
    _encoder: std::marker::PhantomData<&'e Encoder>,
}

/// Records per batch in the file pipeline: every token key then has two full rounds of the 16
/// SIMD lanes, and a batch's messages stay in the CPU cache (32 measured 3% faster than 64, as
/// fast as 16, and 256 was 10% slower).
pub const BATCH_ROWS: usize = 32;

impl Encoder {
    /// An encoder for `schema` under `secret`, judging dates against today's date.
    pub fn new(schema: &Schema, secret: &Secret) -> Encoder {
        Encoder::with_today(schema, secret, today_utc())
    }

    /// An encoder that treats dates after `today` as implausible (for reproducible tests).
    pub fn with_today(schema: &Schema, secret: &Secret, today: Date) -> Encoder {
        let mut hash_keys = Vec::new();
        let mut key = |purpose: &str, group: &str| -> KeyId {
            hash_keys.push(secret.derive_key(purpose, group));
            hash_keys.len() - 1
        };
        let keys: Vec<FieldKeys> = schema
            .fields
            .iter()
            .map(|f| {
                let salted = f.salt.is_some();
                let group = f.key_group();
                FieldKeys {
                    token: key(&purpose(salted, "token"), group),
                    bloom: key(&purpose(salted, "bloom"), group),
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
                            (*l, key(&purpose(salted, &base), group))
                        })
                        .collect(),
                    salt: f.salt.as_deref().and_then(|k| schema.parse_key(k)),
                }
            })
            .collect();
        let record_keys = schema.record_bloom.as_ref().map(|r| RecordKeys {
            fields: r
                .fields
                .iter()
                .filter_map(|rf| {
                    let index = schema.field_index(&rf.field)?;
                    let salted = schema.fields[index].salt.is_some();
                    Some((
                        index,
                        key(&purpose(salted, "record bloom"), &rf.field),
                        r.bloom_for(rf),
                    ))
                })
                .collect(),
        });
        let block_keys = schema
            .blocking
            .iter()
            .map(|r| {
                let refs = r.keys.iter().filter_map(|k| schema.parse_key(k)).collect();
                (key("block", &r.name), refs)
            })
            .collect();
        let layout = Layout::new(schema);
        let mut filters = vec![(0, None); layout.n_blooms];
        for (f, slots) in schema.fields.iter().zip(&layout.fields) {
            if let (Some(spec), Some(slot)) = (f.bloom, slots.bloom) {
                let hardening = Hardening::new(spec, &secret.derive_key("balance", f.key_group()));
                filters[slot] = (spec.bits, hardening);
            }
        }
        if let (Some(r), Some(slot)) = (&schema.record_bloom, layout.record_bloom) {
            let spec = r.bloom_for(&crate::schema::RecordBloomField {
                field: String::new(),
                hashes: 1,
            });
            let hardening = Hardening::new(spec, &secret.derive_key("balance", "record"));
            filters[slot] = (r.bits, hardening);
        }
        let gram_tables = gram_tables(schema, &keys, record_keys.as_ref(), &hash_keys);
        Encoder {
            layout,
            normalisers: schema
                .fields
                .iter()
                .map(|f| FieldNormaliser::new(f, today))
                .collect(),
            hash_keys,
            keys,
            record_keys,
            block_keys,
            filters,
            gram_tables,
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
            batch: HashBatch::new(self.hash_keys.len()),
            raws: Vec::new(),
            present: Vec::new(),
            values: Vec::with_capacity(self.schema.fields.len()),
            texts: Vec::new(),
            prefix: Vec::new(),
            input: Vec::new(),
            gram: Vec::new(),
            message: Vec::new(),
            _encoder: std::marker::PhantomData,
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
    /// `outcomes`.
    pub fn encode_fields_into<'a>(
        &self,
        id: &str,
        raw: impl Fn(usize) -> Option<&'a str>,
        scratch: &mut Scratch<'_>,
        record: &mut EncodedRecord,
        outcomes: &mut FieldOutcomes,
    ) {
        self.encode_batch_into(
            |_| id,
            |_, i| raw(i),
            scratch,
            std::slice::from_mut(record),
            std::slice::from_mut(outcomes),
        );
    }

    /// Encodes `records.len()` records at once (the file pipeline's way, [`BATCH_ROWS`] at a
    /// time): `id(k)` is the record id of record `k` and `raw(k, i)` the raw value of its field
    /// `i` (`None` if the column is absent). Each record and its outcomes are written into
    /// `records[k]` and `outcomes[k]` (reusing their memory); the result is the same as
    /// encoding the records one by one, only faster, as the messages of many records are hashed
    /// side by side.
    ///
    /// ```
    /// use pseudolink::{EncodedRecord, Encoder, Schema, Secret};
    /// let encoder = Encoder::new(&Schema::example(), &Secret::from_hex(&"0f".repeat(32)).unwrap());
    /// let rows = [
    ///     ["r1", "Zoë", "", "O'Neil", "09/03/2014", "F", "cv1 2ab", "1 High St", ""],
    ///     ["r2", "Adam", "J", "Smith", "1990-12-01", "M", "", "", "943 476 5919"],
    /// ];
    /// let mut scratch = encoder.scratch();
    /// let mut records = vec![EncodedRecord::default(); rows.len()];
    /// let mut outcomes = vec![Vec::new(); rows.len()];
    /// encoder.encode_batch_into(
    ///     |k| rows[k][0],
    ///     |k, i| Some(rows[k][i + 1]),
    ///     &mut scratch,
    ///     &mut records,
    ///     &mut outcomes,
    /// );
    /// for (row, record) in rows.iter().zip(&records) {
    ///     assert_eq!(record, &encoder.encode_values(row, &mut scratch).unwrap().0);
    /// }
    /// ```
    pub fn encode_batch_into<'a>(
        &self,
        id: impl Fn(usize) -> &'a str,
        raw: impl Fn(usize, usize) -> Option<&'a str>,
        scratch: &mut Scratch<'_>,
        records: &mut [EncodedRecord],
        outcomes: &mut [FieldOutcomes],
    ) {
        let rows = records.len().min(outcomes.len());
        let n_blooms = self.layout.n_blooms;
        if scratch.raws.len() < rows * n_blooms {
            scratch.raws.resize_with(rows * n_blooms, Bloom::default);
        }
        scratch.present.clear();
        scratch.present.resize(rows * n_blooms, false);
        for (row, (record, outcomes)) in records.iter_mut().zip(outcomes.iter_mut()).enumerate() {
            self.stage_record(row, id(row), |i| raw(row, i), scratch, record, outcomes);
        }
        let Scratch {
            batch,
            raws,
            present,
            ..
        } = scratch;
        batch.flush(&self.hash_keys, |target, hash| match target {
            Target::Token { row, slot } => {
                if let Some(t) = records
                    .get_mut(row as usize)
                    .and_then(|r| r.tokens.get_mut(slot as usize))
                {
                    *t = Some(Token::from_hash(hash));
                }
            }
            Target::Bits { raw, spec } => {
                if let Some(raw) = raws.get_mut(raw as usize) {
                    raw.set_positions(spec, hash);
                }
            }
        });
        for (row, record) in records.iter_mut().enumerate().take(rows) {
            for (slot, out) in record.blooms.iter_mut().enumerate() {
                let index = row * n_blooms + slot;
                if !present.get(index).copied().unwrap_or(false) {
                    *out = None;
                    continue;
                }
                let hardening = self.filters.get(slot).and_then(|(_, h)| h.as_ref());
                if let Some(raw) = raws.get(index) {
                    finish_filter(hardening, raw, out.get_or_insert_with(Bloom::default));
                }
            }
        }
    }

    /// Normalises record `row` of a batch and queues its messages; tokens of messages longer
    /// than a block are written at once.
    fn stage_record<'a>(
        &self,
        row: usize,
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
        let mut values = std::mem::take(&mut scratch.values);
        let texts = &mut scratch.texts;
        texts.resize_with(self.normalisers.len(), String::new);
        // The text values of the record before give their memory back.
        for (value, text) in values.drain(..).zip(texts.iter_mut()) {
            if let Some(buffer) = value.and_then(Value::into_buffer) {
                *text = buffer;
            }
        }
        for ((i, normaliser), text) in self.normalisers.iter().enumerate().zip(texts.iter_mut()) {
            let value = match raw(i) {
                None => Err(MissingReason::Empty),
                Some(s) => normaliser.normalise_reusing(s, text),
            };
            match value {
                Ok(v) => {
                    outcomes.push(None);
                    values.push(Some(v));
                }
                Err(reason) => {
                    outcomes.push(Some(reason));
                    values.push(None);
                }
            }
        }
        // Salts may come from later fields, so values are encoded once all are normalised.
        for (i, value) in values.iter().enumerate() {
            match (value, self.salt_of(i, &values)) {
                (Some(v), Ok(salt)) => {
                    self.stage_value(row, i, v, salt.as_deref(), record, scratch);
                }
                (Some(_), Err(())) => {
                    if let Some(o) = outcomes.get_mut(i) {
                        *o = Some(MissingReason::SaltMissing);
                    }
                }
                (None, _) => {}
            }
        }
        self.stage_record_bloom(row, &values, scratch);
        self.stage_block_keys(row, &values, record, scratch);
        scratch.values = values;
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

    /// Queues the token of the input made of `parts` (concatenated) under `key` for token slot
    /// `slot` of record `row`, or writes it at once when its message is longer than a block.
    fn stage_token(
        &self,
        row: usize,
        slot: usize,
        key: KeyId,
        parts: &[&[u8]],
        record: &mut EncodedRecord,
        batch: &mut HashBatch<Target>,
    ) {
        let target = Target::Token {
            row: row as u32,
            slot: slot as u32,
        };
        if batch.push_parts(key, parts, target) {
            return;
        }
        if let (Some(t), Some(k)) = (record.tokens.get_mut(slot), self.hash_keys.get(key)) {
            *t = Some(Token::of(k, &parts.concat()));
        }
    }

    /// Empties raw filter `slot` of record `row` and marks it present.
    fn start_filter(&self, row: usize, slot: usize, scratch: &mut Scratch<'_>) -> usize {
        let index = row * self.layout.n_blooms + slot;
        let bits = self.filters.get(slot).map_or(64, |(b, _)| *b);
        if let (Some(raw), Some(p)) = (scratch.raws.get_mut(index), scratch.present.get_mut(index))
        {
            raw.clear_to(bits);
            *p = true;
        }
        index
    }

    /// Queues the q-grams of `value` (under `salt`) under `key` for raw filter `index`; q-grams
    /// found in the key's [`GramTable`] or that cannot be batched set their bits at once.
    fn stage_filter(
        &self,
        index: usize,
        key: KeyId,
        spec: BloomSpec,
        value: &str,
        salt: Option<&str>,
        scratch: &mut Scratch<'_>,
    ) {
        let Some(k) = self.hash_keys.get(key) else {
            return;
        };
        let Scratch {
            batch,
            raws,
            prefix,
            gram,
            message,
            ..
        } = scratch;
        let target = Target::Bits {
            raw: index as u32,
            spec,
        };
        let batched = batchable(spec);
        let table = match (salt, self.gram_tables.get(key)) {
            (None, Some(Some(t))) if t.spec() == spec => Some(t),
            _ => None,
        };
        if let (Some(t), Some(raw)) = (table, raws.get_mut(index)) {
            if t.or_value(value, &mut raw.0) {
                return;
            }
        }
        salt_prefix(salt, prefix);
        for_each_gram(value, spec.q, |bytes, n| {
            let qgram = bytes.get(..n).unwrap_or_default();
            if let Some(mask) = table.and_then(|t| t.get(qgram)) {
                if let Some(raw) = raws.get_mut(index) {
                    for (w, m) in raw.0.iter_mut().zip(mask) {
                        *w |= m;
                    }
                }
                return;
            }
            if batched && batch.push_parts(key, &[prefix, qgram], target) {
                return;
            }
            if let Some(raw) = raws.get_mut(index) {
                let input = gram_input(salt, qgram, gram);
                xof_positions(k, spec, input, message, |p| raw.set(p));
            }
        });
    }

    fn stage_record_bloom(&self, row: usize, values: &[Option<Value>], scratch: &mut Scratch<'_>) {
        let (Some(keys), Some(slot)) = (&self.record_keys, self.layout.record_bloom) else {
            return;
        };
        let mut index = None;
        for &(field, key, spec) in &keys.fields {
            let Some(v) = values.get(field).and_then(Option::as_ref) else {
                continue;
            };
            let Ok(salt) = self.salt_of(field, values) else {
                continue;
            };
            let index = *index.get_or_insert_with(|| self.start_filter(row, slot, scratch));
            self.stage_filter(index, key, spec, &v.canonical(), salt.as_deref(), scratch);
        }
    }

    fn stage_block_keys(
        &self,
        row: usize,
        values: &[Option<Value>],
        record: &mut EncodedRecord,
        scratch: &mut Scratch<'_>,
    ) {
        // Each part is its length (4 bytes little-endian) and its text, written straight into
        // a block while the input fits one, into a buffer once it does not.
        for (rule, (key, refs)) in self.block_keys.iter().enumerate() {
            let Some(&slot) = self.layout.blocks.get(rule) else {
                continue;
            };
            let mut block = [0u8; 64];
            let mut len = 0usize;
            let mut long = false;
            let mut complete = true;
            scratch.input.clear();
            for r in refs {
                let value = values.get(r.field).and_then(Option::as_ref);
                let part = match (value, r.level) {
                    (Some(v), None) => Some(v.canonical()),
                    (Some(v), Some(l)) => v.level(l),
                    (None, _) => None,
                };
                let Some(p) = part else {
                    complete = false;
                    break;
                };
                let text = p.as_bytes();
                let prefix = u32::try_from(text.len()).unwrap_or(u32::MAX).to_le_bytes();
                if !long && len + 4 + text.len() <= ONE_BLOCK_INPUT {
                    put(&mut block, len, &prefix);
                    put(&mut block, len + 4, text);
                } else {
                    if !long {
                        long = true;
                        scratch.input.extend_from_slice(&block[..len]);
                    }
                    scratch.input.extend_from_slice(&prefix);
                    scratch.input.extend_from_slice(text);
                }
                len += 4 + text.len();
            }
            if !complete {
                continue;
            }
            if long {
                let input = std::mem::take(&mut scratch.input);
                self.stage_token(row, slot, *key, &[&input], record, &mut scratch.batch);
                scratch.input = input;
            } else {
                let target = Target::Token {
                    row: row as u32,
                    slot: slot as u32,
                };
                scratch.batch.push_filled(*key, block, len, target);
            }
        }
    }

    fn stage_value(
        &self,
        row: usize,
        i: usize,
        v: &Value,
        salt: Option<&str>,
        record: &mut EncodedRecord,
        scratch: &mut Scratch<'_>,
    ) {
        let slots = &self.layout.fields[i];
        let keys = &self.keys[i];
        let canonical = v.canonical();
        salt_prefix(salt, &mut scratch.prefix);
        let (prefix, batch) = (&scratch.prefix, &mut scratch.batch);
        if let Some(s) = slots.token {
            self.stage_token(
                row,
                s,
                keys.token,
                &[prefix, canonical.as_bytes()],
                record,
                batch,
            );
        }
        for ((level, slot), (_, key)) in slots.levels.iter().zip(&keys.levels) {
            if let Some(text) = v.level(*level) {
                self.stage_token(row, *slot, *key, &[prefix, text.as_bytes()], record, batch);
            }
        }
        if let (Some(s), Some(spec)) = (slots.bloom, self.schema.fields[i].bloom) {
            let index = self.start_filter(row, s, scratch);
            self.stage_filter(index, keys.bloom, spec, &canonical, salt, scratch);
        }
    }
}
