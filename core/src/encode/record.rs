//! The record encoder: raw values in, tokens, token sets and filters out.

use crate::error::{Error, Result};
use crate::normalise::date::{today_utc, Date};
use crate::normalise::MissingReason;
use crate::schema::{BloomSpec, Key, Schema};
use crate::secret::{DerivedKey, Secret};

use super::bloom::{
    batchable, finish_filter, for_each_gram, gram_input, salt_prefix, xof_positions, Bloom,
    Hardening,
};
use super::gram_table::GramTable;
use super::layout::{Layout, Slot};
use super::message::HashBatch;
use super::pair_stats::{household_of, rank_of, Features, SampleLimits, SampledRecord};
use super::token::Token;
use super::value::{FieldNormaliser, Value};

/// One encoded record: the agency's record id, token slots, token-set slots and Bloom slots (see
/// [`Layout`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncodedRecord {
    /// The agency's own record id (not encoded: it is how results are returned to the agency).
    pub id: String,
    /// Token slots; `None` is a missing value.
    pub tokens: Vec<Option<Token>>,
    /// Token-set slots: distinct 64-bit tokens in ascending order; empty is a missing value.
    pub sets: Vec<Vec<u64>>,
    /// Bloom slots; `None` is a missing value.
    pub blooms: Vec<Option<Bloom>>,
}

impl EncodedRecord {
    /// Appends this record as one CSV row (no newline) in the layout's column order.
    pub fn write_csv_row(&self, layout: &Layout, out: &mut Vec<u8>) {
        write_csv_cell(&self.id, out);
        for col in &layout.columns {
            out.push(b',');
            self.write_cell(col.slot, out);
        }
    }

    /// Appends the text of the cell in `slot` as an extract holds it (32 hex characters for a
    /// token, 16 per element of a token set, base64 for a filter); returns whether the record
    /// has a value there (nothing is appended when not).
    pub fn write_cell(&self, slot: Slot, out: &mut Vec<u8>) -> bool {
        match slot {
            Slot::Token(i) => match self.tokens.get(i) {
                Some(Some(t)) => {
                    t.write_hex(out);
                    true
                }
                _ => false,
            },
            Slot::Set(i) => match self.sets.get(i) {
                Some(set) if !set.is_empty() => {
                    for v in set {
                        write_set_element(*v, out);
                    }
                    true
                }
                _ => false,
            },
            Slot::Bloom { index, .. } => match self.blooms.get(index) {
                Some(Some(b)) => {
                    b.write_base64(out);
                    true
                }
                _ => false,
            },
        }
    }
}

/// Characters of one element of a token set in a CSV cell.
pub const SET_ELEMENT_HEX: usize = 16;

/// Appends one token-set element as 16 lower-case hex characters (its 8 bytes, little-endian).
pub fn write_set_element(value: u64, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in value.to_le_bytes() {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
}

/// The token-set element of a hash: its first 8 bytes, little-endian.
fn set_element(hash: &[u8; 32]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&hash[..8]);
    u64::from_le_bytes(b)
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

/// How one token column is built.
struct TokenPlan {
    /// Its keys, in canonical order.
    keys: Vec<Key>,
    /// The key it is hashed under (shared by columns of one signature).
    key: KeyId,
    /// Where it goes.
    slot: Slot,
}

/// How one filter column is built.
struct FilterPlan {
    /// Its Bloom slot.
    slot: usize,
    /// Per field: its index, key and filter settings.
    fields: Vec<(usize, KeyId, BloomSpec)>,
    /// Keys whose values salt its q-grams.
    context: Vec<Key>,
}

/// Where a batched hash goes.
#[derive(Clone, Copy)]
enum Target {
    /// Token slot `slot` of record `row` of the batch.
    Token { row: u32, slot: u32 },
    /// One element of token-set slot `slot` of record `row` of the batch.
    SetElement { row: u32, slot: u32 },
    /// The bit positions of a q-gram, into raw filter `raw` of the batch.
    Bits { raw: u32, spec: BloomSpec },
}

/// The q-gram tables of the encoder's keys, indexed like `hash_keys` (see [`GramTable`]): one
/// for each key of an unsalted filter.
fn gram_tables(filters: &[FilterPlan], hash_keys: &[DerivedKey]) -> Vec<Option<GramTable>> {
    let mut tables: Vec<Option<GramTable>> = hash_keys.iter().map(|_| None).collect();
    for plan in filters.iter().filter(|p| p.context.is_empty()) {
        for &(_, key, spec) in &plan.fields {
            if let (Some(slot @ None), Some(k)) = (tables.get_mut(key), hash_keys.get(key)) {
                *slot = GramTable::new(k, spec);
            }
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
/// assert_eq!(outcomes[1], Some(pseudolink::MissingReason::Empty)); // no middle name
/// let again = encoder.encode_values(&values, &mut scratch).unwrap().0;
/// assert_eq!(record, again); // deterministic
/// ```
pub struct Encoder {
    schema: Schema,
    layout: Layout,
    normalisers: Vec<FieldNormaliser>,
    /// Every key that tokens and filters are hashed under; the others refer to them by index.
    hash_keys: Vec<DerivedKey>,
    tokens: Vec<TokenPlan>,
    filter_plans: Vec<FilterPlan>,
    /// Per Bloom slot: the length of its filter before hardening, and the hardening.
    filters: Vec<(u32, Option<Hardening>)>,
    /// Per key (as `hash_keys`): the bits of every short q-gram, for the keys of unsalted filters
    /// that can have a table ([`GramTable::new`]).
    gram_tables: Vec<Option<GramTable>>,
    audit_key: DerivedKey,
    sample_key: DerivedKey,
    check_value: crate::secret::KeyCheckValue,
    features: Features,
    household: Vec<Key>,
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
    /// A set transform's value being built.
    element: Vec<u8>,
    /// That value after its length, as hashed.
    part: Vec<u8>,
    /// Records wanted by the pair statistics' sampler, when sampling.
    sample_limits: Option<SampleLimits>,
    /// Sampled records (with their row in the batch until their filters are attached).
    samples: Vec<(usize, SampledRecord)>,
    _encoder: std::marker::PhantomData<&'e Encoder>,
}

/// Records per batch in the file pipeline: every token key then has two full rounds of the 16
/// SIMD lanes, and a batch's messages stay in the CPU cache (32 measured 3% faster than 64, as
/// fast as 16, and 256 was 10% slower).
pub const BATCH_ROWS: usize = 32;

impl Scratch<'_> {
    /// Samples records for the pair statistics from now on: those `limits` wants (`None`: stop).
    pub fn sample_with(&mut self, limits: Option<SampleLimits>) {
        self.sample_limits = limits;
    }

    /// The records sampled so far, in the order they were encoded.
    pub fn take_samples(&mut self) -> Vec<SampledRecord> {
        self.samples.drain(..).map(|(_, s)| s).collect()
    }
}

impl Encoder {
    /// An encoder for `schema` under `secret`, judging dates against today's date.
    pub fn new(schema: &Schema, secret: &Secret) -> Encoder {
        Encoder::with_today(schema, secret, today_utc())
    }

    /// An encoder that treats dates after `today` as implausible (for reproducible tests).
    pub fn with_today(schema: &Schema, secret: &Secret, today: Date) -> Encoder {
        let mut hash_keys: Vec<DerivedKey> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        // One key per purpose and group: token columns of one signature share theirs.
        let mut key = |purpose: &str, group: &str| -> KeyId {
            let name = format!("{purpose}\u{0}{group}");
            if let Some(i) = names.iter().position(|n| *n == name) {
                return i;
            }
            names.push(name);
            hash_keys.push(secret.derive_key(purpose, group));
            hash_keys.len() - 1
        };
        let layout = Layout::new(schema);
        let tokens = layout
            .tokens
            .iter()
            .map(|t| TokenPlan {
                keys: t.keys.clone(),
                key: key("token", &t.signature),
                slot: t.slot,
            })
            .collect();
        let filter_plans: Vec<FilterPlan> = schema
            .filters
            .iter()
            .zip(&layout.filters)
            .map(|(f, &slot)| {
                let context: Vec<Key> = schema.canonical_keys(
                    f.context
                        .iter()
                        .filter_map(|k| schema.parse_key(k))
                        .collect(),
                );
                let purpose = if context.is_empty() {
                    "bloom".to_string()
                } else {
                    format!("bloom in {}", schema.signature(&context))
                };
                FilterPlan {
                    slot,
                    fields: f
                        .fields
                        .iter()
                        .filter_map(|ff| {
                            let index = schema.field_index(&ff.field)?;
                            let group = schema.fields[index].key_group();
                            Some((index, key(&purpose, group), f.bloom_for(ff)))
                        })
                        .collect(),
                    context,
                }
            })
            .collect();
        let mut filters = vec![(0, None); layout.n_blooms];
        for (f, &slot) in schema.filters.iter().zip(&layout.filters) {
            let spec = f.bloom_for(&crate::schema::FilterField {
                field: String::new(),
                hashes: 1,
            });
            let hardening = Hardening::new(spec, &secret.derive_key("balance", &f.name));
            if let Some(x) = filters.get_mut(slot) {
                *x = (f.bits, hardening);
            }
        }
        let gram_tables = gram_tables(&filter_plans, &hash_keys);
        Encoder {
            normalisers: schema
                .fields
                .iter()
                .map(|f| FieldNormaliser::new(f, today))
                .collect(),
            layout,
            hash_keys,
            tokens,
            filter_plans,
            filters,
            gram_tables,
            audit_key: secret.derive_key("audit", "input-file"),
            sample_key: secret.derive_key("pair statistics", "sample"),
            check_value: secret.check_value(),
            features: Features::new(schema),
            household: schema.household_keys(),
            schema: schema.clone(),
        }
    }

    /// What the pair statistics compare ([`super::pair_stats`]).
    pub fn features(&self) -> &Features {
        &self.features
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
    pub fn check_value(&self) -> &crate::secret::KeyCheckValue {
        &self.check_value
    }

    /// A hasher keyed for audit hashes of cleartext input files: only holders of the secret can
    /// confirm which file was encoded.
    pub fn audit_hasher(&self) -> blake3::Hasher {
        self.audit_key.hasher()
    }

    /// The key the pair statistics' sample is drawn under (records ranked by a keyed hash of
    /// their id: [`crate::encode::pair_stats::rank_of`]).
    pub fn sample_key(&self) -> &DerivedKey {
        &self.sample_key
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
            element: Vec::new(),
            part: Vec::new(),
            sample_limits: None,
            samples: Vec::new(),
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

    /// Encodes `records.len()` records at once (the file pipeline's way, `BATCH_ROWS` at a
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
        let first_sample = scratch.samples.len();
        for (row, (record, outcomes)) in records.iter_mut().zip(outcomes.iter_mut()).enumerate() {
            self.stage_record(row, id(row), |i| raw(row, i), scratch, record, outcomes);
        }
        let Scratch {
            batch,
            raws,
            present,
            samples,
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
            Target::SetElement { row, slot } => {
                if let Some(set) = records
                    .get_mut(row as usize)
                    .and_then(|r| r.sets.get_mut(slot as usize))
                {
                    set.push(set_element(hash));
                }
            }
            Target::Bits { raw, spec } => {
                if let Some(raw) = raws.get_mut(raw as usize) {
                    raw.set_positions(spec, hash);
                }
            }
        });
        for (row, record) in records.iter_mut().enumerate().take(rows) {
            for set in &mut record.sets {
                set.sort_unstable();
                set.dedup();
            }
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
        if n_blooms > 0 {
            for (row, sampled) in samples.iter_mut().skip(first_sample) {
                if let Some(r) = records.get(*row) {
                    sampled.values.blooms = r.blooms.clone();
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
        record.sets.resize_with(self.layout.n_sets, Vec::new);
        for set in &mut record.sets {
            set.clear();
        }
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
        if let Some(limits) = scratch.sample_limits {
            let rank = rank_of(&self.sample_key, id);
            let household = household_of(&self.household, &values);
            if limits.wants(rank, household) {
                let sampled = SampledRecord {
                    rank,
                    household,
                    values: self.features.values(&values),
                };
                scratch.samples.push((row, sampled));
            }
        }
        for plan in &self.tokens {
            self.stage_token_column(row, plan, &values, record, scratch);
        }
        for plan in &self.filter_plans {
            self.stage_filter_column(row, plan, &values, scratch);
        }
        scratch.values = values;
    }

    /// Queues the token (or each token of the set) of one token column of record `row`; nothing
    /// when one of its keys has no value.
    fn stage_token_column(
        &self,
        row: usize,
        plan: &TokenPlan,
        values: &[Option<Value>],
        record: &mut EncodedRecord,
        scratch: &mut Scratch<'_>,
    ) {
        // The input: each key's text after its length (4 bytes, little-endian), in canonical
        // order; a set key's place is filled by each of its values in turn.
        let mut input = std::mem::take(&mut scratch.input);
        input.clear();
        let mut set_at: Option<(usize, Key)> = None;
        for key in &plan.keys {
            let Some(value) = values.get(key.field).and_then(Option::as_ref) else {
                scratch.input = input;
                return;
            };
            if key.is_set() {
                set_at = Some((input.len(), *key));
                continue;
            }
            let text = match key.transform {
                None => Some(value.canonical()),
                Some(t) => value.level(t),
            };
            let Some(text) = text else {
                scratch.input = input;
                return;
            };
            put_part(&mut input, text.as_bytes());
        }
        match (set_at, plan.slot) {
            (None, Slot::Token(slot)) => {
                let target = Target::Token {
                    row: row as u32,
                    slot: slot as u32,
                };
                if !scratch.batch.push_parts(plan.key, &[&input], target) {
                    if let (Some(t), Some(k)) =
                        (record.tokens.get_mut(slot), self.hash_keys.get(plan.key))
                    {
                        *t = Some(Token::of(k, &input));
                    }
                }
            }
            (Some((at, key)), Slot::Set(slot)) => {
                let Some(value) = values.get(key.field).and_then(Option::as_ref) else {
                    scratch.input = input;
                    return;
                };
                let Some(transform) = key.transform else {
                    scratch.input = input;
                    return;
                };
                let target = Target::SetElement {
                    row: row as u32,
                    slot: slot as u32,
                };
                let (head, tail) = input.split_at(at);
                let mut part = std::mem::take(&mut scratch.part);
                let mut element = std::mem::take(&mut scratch.element);
                let batch = &mut scratch.batch;
                value.for_each_in_set(transform, &mut element, |bytes| {
                    part.clear();
                    put_part(&mut part, bytes);
                    if !batch.push_parts(plan.key, &[head, &part, tail], target) {
                        if let (Some(set), Some(k)) =
                            (record.sets.get_mut(slot), self.hash_keys.get(plan.key))
                        {
                            let whole = [head, &part, tail].concat();
                            set.push(set_element(&super::message::hash(k, &whole)));
                        }
                    }
                });
                scratch.element = element;
                scratch.part = part;
            }
            _ => {}
        }
        scratch.input = input;
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

    /// Queues the q-grams of the fields of one filter column of record `row`, salted with its
    /// context; nothing when the context or every field is missing.
    fn stage_filter_column(
        &self,
        row: usize,
        plan: &FilterPlan,
        values: &[Option<Value>],
        scratch: &mut Scratch<'_>,
    ) {
        let mut salt = String::new();
        for key in &plan.context {
            let Some(value) = values.get(key.field).and_then(Option::as_ref) else {
                return;
            };
            let text = match key.transform {
                None => Some(value.canonical()),
                Some(t) => value.level(t),
            };
            let Some(text) = text else { return };
            salt.push_str(&text.len().to_string());
            salt.push(':');
            salt.push_str(&text);
        }
        let salt = (!plan.context.is_empty()).then_some(salt.as_str());
        let mut index = None;
        for &(field, key, spec) in &plan.fields {
            let Some(v) = values.get(field).and_then(Option::as_ref) else {
                continue;
            };
            let index = *index.get_or_insert_with(|| self.start_filter(row, plan.slot, scratch));
            self.stage_filter(index, key, spec, &v.canonical(), salt, scratch);
        }
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
}

/// Appends `text` after its length (4 bytes, little-endian).
fn put_part(out: &mut Vec<u8>, text: &[u8]) {
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(text);
}
