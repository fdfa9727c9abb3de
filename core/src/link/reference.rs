//! The oracle: an all-pairs linker, slow and written straight from the definitions in the
//! module documentation of [`compare`](super::compare), [`block`](super::block),
//! [`model`](super::model) and [`term_frequency`](super::term_frequency). It shares no
//! comparison, blocking or scoring code with the fast path: no token ids, no comparison rows,
//! no key masks, no popcount bound, no pattern tables. It reads the [`EncodedRecord`]s (tokens
//! as bytes, token sets as `u64`s, filters through [`Bloom::dice`]) and, in cleartext mode, the
//! normalised [`Value`]s, and works on sets of [`Key`]s and level *names*.
//!
//! What it takes from elsewhere is only what defines the data: the column layout
//! ([`Layout`]: where a token spec's values sit in a record), the canonical key order of a
//! token ([`Schema::token_keys`]) and its hash signature ([`Schema::signature`]), which say
//! which tokens are hashed alike, and the transforms of a value ([`Value::level`],
//! [`Value::for_each_in_set`]).
//!
//! Its reading of the rules, where the documentation leaves a choice:
//! - A field is *present* in a record (encoded): some token column holding a key of it, or some
//!   filter holding it, has a value (`pool`'s definition). Cleartext: its normalised value
//!   exists.
//! - A level of keys is *seen* (encoded) when each key is held by a token column present in both
//!   records whose other keys are agreed; (cleartext) when the field of each key is present in
//!   both.
//! - A crossed level is seen (encoded) when a crossed pair of columns for its keys has its
//!   common keys agreed and is present one way round (the first column in one record and the
//!   second in the other); (cleartext) when one record has the first key's field and the other
//!   the second's, either way round.
//! - A Dice level holds, and is seen, only when the filter's context (its salt) is agreed, in
//!   cleartext mode too: the filters are salted alike in both modes, and filters of two salts
//!   are noise to each other. It is seen when both records have the filter; a similarity level
//!   when both records have the field.

use std::collections::{BTreeMap, BTreeSet};

use crate::encode::layout::{Layout, Slot};
use crate::encode::{Bloom, EncodedRecord, Value};
use crate::schema::{ClearMetric, Key, LevelSpec, Schema};

use super::model::Model;

/// The name of a comparison whose fields are missing.
pub(crate) const MISSING: &str = "missing";
/// The name of a comparison nothing of which was seen.
pub(crate) const UNKNOWN: &str = "unknown";

/// One token column: its keys (in the order they are hashed) and where it sits.
#[derive(Debug, Clone)]
struct Column {
    keys: Vec<Key>,
    signature: String,
    slot: Slot,
}

/// Two columns hashed alike whose keys differ in one place only: `x` in `a`, `y` in `b`, the
/// other keys (`rest`) the same and in the same places.
#[derive(Debug, Clone)]
struct Crossed {
    a: usize,
    b: usize,
    x: Key,
    y: Key,
    rest: Vec<Key>,
}

/// The records of one run, as the oracle reads them.
pub(crate) struct Oracle<'a> {
    schema: &'a Schema,
    clear: bool,
    records: &'a [EncodedRecord],
    sources: &'a [u16],
    n_sources: usize,
    /// Cleartext mode: each record's normalised values, per field.
    values: Option<&'a [Vec<Option<Value>>]>,
    columns: Vec<Column>,
    crossed: Vec<Crossed>,
}

/// The values of one key of a normalised value: one, or a set, or none.
fn key_values(v: &Value, k: Key) -> BTreeSet<Vec<u8>> {
    let mut out = BTreeSet::new();
    match k.transform {
        None => {
            out.insert(v.canonical().as_bytes().to_vec());
        }
        Some(t) if t.is_set() => {
            let mut buf = Vec::new();
            v.for_each_in_set(t, &mut buf, |b| {
                out.insert(b.to_vec());
            });
        }
        Some(t) => {
            if let Some(x) = v.level(t) {
                out.insert(x.as_bytes().to_vec());
            }
        }
    }
    out
}

/// The string similarity of two values, straight from `strsim`.
fn similarity(metric: ClearMetric, a: &str, b: &str) -> f64 {
    match metric {
        ClearMetric::JaroWinkler => strsim::jaro_winkler(a, b),
        ClearMetric::DamerauLevenshtein => strsim::normalized_damerau_levenshtein(a, b),
        ClearMetric::Levenshtein => strsim::normalized_levenshtein(a, b),
    }
}

/// Whether `k` is agreed given the agreed keys `e`: agreed itself, or its field's value is
/// (equal values have equal transforms).
fn agreed_in(e: &BTreeSet<Key>, k: Key) -> bool {
    e.contains(&k)
        || e.contains(&Key {
            field: k.field,
            transform: None,
        })
}

impl<'a> Oracle<'a> {
    /// The oracle of `records` (with the source of each) under `schema`; `values` in cleartext
    /// mode.
    pub(crate) fn new(
        schema: &'a Schema,
        records: &'a [EncodedRecord],
        sources: &'a [u16],
        values: Option<&'a [Vec<Option<Value>>]>,
    ) -> Oracle<'a> {
        let layout = Layout::new(schema);
        let columns: Vec<Column> = (0..schema.tokens.len())
            .map(|i| {
                let keys = schema.token_keys(i);
                Column {
                    signature: schema.signature(&keys),
                    keys,
                    slot: layout.tokens[i].slot,
                }
            })
            .collect();
        let mut crossed = Vec::new();
        for (a, ca) in columns.iter().enumerate() {
            for (b, cb) in columns.iter().enumerate().skip(a + 1) {
                if ca.signature != cb.signature || ca.keys.len() != cb.keys.len() {
                    continue;
                }
                let differ: Vec<usize> = (0..ca.keys.len())
                    .filter(|&i| ca.keys[i] != cb.keys[i])
                    .collect();
                if let [i] = differ[..] {
                    let (x, y) = (ca.keys[i], cb.keys[i]);
                    if x.is_set() || y.is_set() {
                        continue;
                    }
                    let rest = ca.keys.iter().copied().filter(|k| *k != x).collect();
                    crossed.push(Crossed { a, b, x, y, rest });
                }
            }
        }
        let n_sources = sources
            .iter()
            .copied()
            .max()
            .map_or(0, |s| usize::from(s) + 1);
        Oracle {
            schema,
            clear: values.is_some(),
            records,
            sources,
            n_sources,
            values,
            columns,
            crossed,
        }
    }

    /// Number of records.
    pub(crate) fn len(&self) -> u32 {
        self.records.len() as u32
    }

    /// Whether `a` and `b` (`a < b`) may form a pair: from different sources, or from the one
    /// source being deduplicated.
    pub(crate) fn allowed(&self, a: u32, b: u32) -> bool {
        a != b && (self.n_sources == 1 || self.sources[a as usize] != self.sources[b as usize])
    }

    /// The tokens of column `c` of record `r` (a single token as its 128 bits, a set's elements
    /// as theirs): empty when missing.
    fn tokens(&self, r: u32, c: usize) -> BTreeSet<u128> {
        let rec = &self.records[r as usize];
        match self.columns[c].slot {
            Slot::Token(s) => rec
                .tokens
                .get(s)
                .copied()
                .flatten()
                .map(|t| u128::from_le_bytes(t.0))
                .into_iter()
                .collect(),
            Slot::Set(s) => rec
                .sets
                .get(s)
                .into_iter()
                .flatten()
                .map(|v| u128::from(*v))
                .collect(),
            Slot::Bloom { .. } => BTreeSet::new(),
        }
    }

    fn has(&self, r: u32, c: usize) -> bool {
        !self.tokens(r, c).is_empty()
    }

    /// Whether column `c` of `a` and column `d` of `b` share a token.
    fn share(&self, a: u32, c: usize, b: u32, d: usize) -> bool {
        !self.tokens(a, c).is_disjoint(&self.tokens(b, d))
    }

    /// The filter (by index among the schema's filters) of record `r`.
    fn bloom(&self, r: u32, f: usize) -> Option<&Bloom> {
        let layout = Layout::new(self.schema);
        let slot = *layout.filters.get(f)?;
        self.records[r as usize].blooms.get(slot)?.as_ref()
    }

    fn value(&self, r: u32, field: usize) -> Option<&Value> {
        self.values?.get(r as usize)?.get(field)?.as_ref()
    }

    /// Whether record `r` has field `field` (see the module documentation).
    fn present(&self, r: u32, field: usize) -> bool {
        if self.clear {
            return self.value(r, field).is_some();
        }
        let by_token = self
            .columns
            .iter()
            .enumerate()
            .any(|(c, col)| col.keys.iter().any(|k| k.field == field) && self.has(r, c));
        let by_filter = self.schema.filters.iter().enumerate().any(|(f, spec)| {
            spec.fields
                .iter()
                .any(|ff| self.schema.field_index(&ff.field) == Some(field))
                && self.bloom(r, f).is_some()
        });
        by_token || by_filter
    }

    fn present_in_both(&self, a: u32, b: u32, field: usize) -> bool {
        self.present(a, field) && self.present(b, field)
    }

    /// Every key a token, level or filter context names.
    fn all_keys(&self) -> BTreeSet<Key> {
        let s = self.schema;
        let mut keys: BTreeSet<Key> = self.columns.iter().flat_map(|c| c.keys.clone()).collect();
        for c in &s.link.comparisons {
            for l in &c.levels {
                for k in l.keys.iter().flatten().chain(l.cross.iter().flatten()) {
                    keys.extend(s.parse_key(k));
                }
            }
        }
        for f in &s.filters {
            keys.extend(f.context.iter().filter_map(|k| s.parse_key(k)));
        }
        keys
    }

    /// The agreed keys `E` of a pair (not closed: see [`agreed_in`]). Encoded: the keys of the
    /// shared tokens and the common keys of the crossed pairs that agree across. Cleartext: the
    /// keys whose values agree.
    pub(crate) fn agreed(&self, a: u32, b: u32) -> BTreeSet<Key> {
        let mut e = BTreeSet::new();
        if self.clear {
            for k in self.all_keys() {
                if let (Some(x), Some(y)) = (self.value(a, k.field), self.value(b, k.field)) {
                    if !key_values(x, k).is_disjoint(&key_values(y, k)) {
                        e.insert(k);
                    }
                }
            }
            return e;
        }
        for (c, col) in self.columns.iter().enumerate() {
            if self.share(a, c, b, c) {
                e.extend(col.keys.iter().copied());
            }
        }
        for x in &self.crossed {
            if self.share(a, x.a, b, x.b) || self.share(a, x.b, b, x.a) {
                e.extend(x.rest.iter().copied());
            }
        }
        e
    }

    /// Whether one record's `x` equals the other's `y`, either way round, in cleartext.
    fn cross_clear(&self, a: u32, b: u32, x: Key, y: Key) -> bool {
        let vals = |r: u32, k: Key| {
            self.value(r, k.field)
                .map(|v| key_values(v, k))
                .unwrap_or_default()
        };
        !vals(a, x).is_disjoint(&vals(b, y)) || !vals(a, y).is_disjoint(&vals(b, x))
    }

    /// The crossed column pairs of the crossed keys `x` and `y` (either order).
    fn crosses_of(&self, x: Key, y: Key) -> impl Iterator<Item = &Crossed> {
        self.crossed
            .iter()
            .filter(move |c| (c.x == x && c.y == y) || (c.x == y && c.y == x))
    }

    /// The levels of comparison `c` in this mode (similarity levels only in cleartext).
    fn levels_of(&self, c: usize) -> Vec<&'a LevelSpec> {
        self.schema.link.comparisons[c]
            .levels
            .iter()
            .filter(|l| self.clear || l.similarity.is_none())
            .collect()
    }

    fn key(&self, name: &str) -> Key {
        match self.schema.parse_key(name) {
            Some(k) => k,
            None => panic!("key {name} of a valid schema does not parse"),
        }
    }

    fn filter_index(&self, name: &str) -> usize {
        match self.schema.filters.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => panic!("no filter {name}"),
        }
    }

    /// The fields a level reads.
    fn level_fields(&self, l: &LevelSpec) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        for k in l.keys.iter().flatten().chain(l.cross.iter().flatten()) {
            out.insert(self.key(k).field);
        }
        if let Some(f) = &l.filter {
            for ff in &self.schema.filters[self.filter_index(f)].fields {
                out.extend(self.schema.field_index(&ff.field));
            }
        }
        if let Some(s) = &l.similarity {
            out.extend(self.schema.field_index(&s.field));
        }
        out
    }

    /// Whether level `l` holds for `(a, b)` with agreed keys `e`.
    fn holds(&self, l: &LevelSpec, a: u32, b: u32, e: &BTreeSet<Key>) -> bool {
        if let Some(keys) = &l.keys {
            return keys.iter().all(|k| agreed_in(e, self.key(k)));
        }
        if let Some([x, y]) = &l.cross {
            let (x, y) = (self.key(x), self.key(y));
            if self.clear {
                return self.cross_clear(a, b, x, y);
            }
            return self
                .crosses_of(x, y)
                .any(|c| self.share(a, c.a, b, c.b) || self.share(a, c.b, b, c.a));
        }
        if let (Some(f), Some(t)) = (&l.filter, l.dice) {
            let fi = self.filter_index(f);
            let context_agreed = self.schema.filters[fi]
                .context
                .iter()
                .all(|k| agreed_in(e, self.key(k)));
            return context_agreed
                && match (self.bloom(a, fi), self.bloom(b, fi)) {
                    (Some(x), Some(y)) => x.dice(y) >= t,
                    _ => false,
                };
        }
        if let Some(s) = &l.similarity {
            let field = self.schema.field_index(&s.field).unwrap_or(usize::MAX);
            return match (self.value(a, field), self.value(b, field)) {
                (Some(x), Some(y)) => {
                    similarity(s.metric, &x.canonical(), &y.canonical()) >= s.threshold
                }
                _ => false,
            };
        }
        false
    }

    /// Whether level `l` could be seen for `(a, b)` (see the module documentation).
    fn seen(&self, l: &LevelSpec, a: u32, b: u32, e: &BTreeSet<Key>) -> bool {
        if let Some(keys) = &l.keys {
            return keys.iter().all(|k| {
                let k = self.key(k);
                if self.clear {
                    return self.present_in_both(a, b, k.field);
                }
                self.columns.iter().enumerate().any(|(c, col)| {
                    col.keys.contains(&k)
                        && self.has(a, c)
                        && self.has(b, c)
                        && col
                            .keys
                            .iter()
                            .filter(|o| **o != k)
                            .all(|o| agreed_in(e, *o))
                })
            });
        }
        if let Some([x, y]) = &l.cross {
            let (x, y) = (self.key(x), self.key(y));
            if self.clear {
                let p = |r: u32, k: Key| self.present(r, k.field);
                return (p(a, x) && p(b, y)) || (p(a, y) && p(b, x));
            }
            return self.crosses_of(x, y).any(|c| {
                c.rest.iter().all(|k| agreed_in(e, *k))
                    && ((self.has(a, c.a) && self.has(b, c.b))
                        || (self.has(a, c.b) && self.has(b, c.a)))
            });
        }
        if let Some(f) = &l.filter {
            let fi = self.filter_index(f);
            let context_agreed = self.schema.filters[fi]
                .context
                .iter()
                .all(|k| agreed_in(e, self.key(k)));
            return self.bloom(a, fi).is_some() && self.bloom(b, fi).is_some() && context_agreed;
        }
        if let Some(s) = &l.similarity {
            let field = self.schema.field_index(&s.field).unwrap_or(usize::MAX);
            return self.present_in_both(a, b, field);
        }
        false
    }

    /// The level (by name) each comparison of `link.comparisons` reaches for the pair `(a, b)`:
    /// `missing` when no field it reads is present in both records; else the first level that
    /// holds; else `unknown` when no level was seen; `else` when every level was; and `else (not
    /// seen: ...)` naming the levels not seen otherwise.
    pub(crate) fn levels(&self, a: u32, b: u32) -> Vec<String> {
        let e = self.agreed(a, b);
        (0..self.schema.link.comparisons.len())
            .map(|c| {
                let levels = self.levels_of(c);
                let fields: BTreeSet<usize> =
                    levels.iter().flat_map(|l| self.level_fields(l)).collect();
                if !fields.iter().any(|&f| self.present_in_both(a, b, f)) {
                    return MISSING.to_string();
                }
                if let Some(l) = levels.iter().find(|l| self.holds(l, a, b, &e)) {
                    return l.name.clone();
                }
                let unseen: Vec<&str> = levels
                    .iter()
                    .filter(|l| !self.seen(l, a, b, &e))
                    .map(|l| l.name.as_str())
                    .collect();
                if unseen.len() == levels.len() {
                    UNKNOWN.to_string()
                } else if unseen.is_empty() {
                    "else".to_string()
                } else {
                    format!("else (not seen: {})", unseen.join(", "))
                }
            })
            .collect()
    }

    /// Whether the household comparison of `levels` is at a level meaning one household.
    pub(crate) fn one_household(&self, levels: &[String]) -> bool {
        let Some(h) = &self.schema.link.household else {
            return false;
        };
        self.schema
            .link
            .comparisons
            .iter()
            .position(|c| c.name == h.comparison)
            .is_some_and(|c| h.levels.contains(&levels[c]))
    }

    /// The field of comparison `c`'s first level when it is weighed by term frequency:
    /// cleartext mode, `term_frequency` set, and a first level of one whole field.
    fn term_frequency_field(&self, c: usize) -> Option<usize> {
        let comparison = &self.schema.link.comparisons[c];
        if !self.clear || !comparison.term_frequency {
            return None;
        }
        match self.levels_of(c).first()?.keys.as_deref() {
            Some([k]) => {
                let k = self.key(k);
                k.transform.is_none().then_some(k.field)
            }
            _ => None,
        }
    }

    /// The share of records (all sources) whose value of `field` is record `a`'s, among those
    /// that have the field, as the linker stores it (a 32-bit float).
    fn frequency(&self, field: usize, a: u32) -> f64 {
        let mine = self.value(a, field).map(|v| v.canonical().to_string());
        let (mut same, mut present) = (0u32, 0u32);
        for r in 0..self.len() {
            if let Some(v) = self.value(r, field) {
                present += 1;
                if Some(v.canonical().to_string()) == mine {
                    same += 1;
                }
            }
        }
        (f64::from(same) / f64::from(present.max(1))) as f32 as f64
    }

    /// The match weight of `(a, b)` at `levels` under `model`: `log2(λ / (1 - λ))` plus
    /// `log2(m / u)` of each comparison compared, with the household u of household comparisons
    /// when the pair is one household, and the value's frequency for u at the first level of a
    /// term-frequency comparison (cleartext, not one household).
    pub(crate) fn weight(&self, model: &Model, a: u32, levels: &[String]) -> f64 {
        let clamp = |p: f64| p.clamp(1e-6, 1.0 - 1e-6);
        let lambda = model.lambda.clamp(1e-15, 1.0 - 1e-6);
        let prior = (lambda / (1.0 - lambda)).log2();
        let household = self.one_household(levels);
        let mut parts = Vec::new();
        for (c, comparison) in self.schema.link.comparisons.iter().enumerate() {
            let level = &levels[c];
            if level == MISSING || level == UNKNOWN {
                parts.push(0.0);
                continue;
            }
            let cm = &model.comparisons[c];
            assert_eq!(cm.comparison, comparison.name);
            let Some(lm) = cm.levels.iter().find(|l| &l.level == level) else {
                panic!("the model has no level {level} of {}", comparison.name);
            };
            let m = clamp(lm.m);
            let hh_comparison = comparison.household && self.schema.link.household.is_some();
            let first = self.levels_of(c).first().map(|l| l.name.as_str());
            let u = if household && hh_comparison {
                clamp(lm.u_household.unwrap_or(lm.u))
            } else if let (Some(field), false, true) = (
                self.term_frequency_field(c),
                household,
                first == Some(level.as_str()),
            ) {
                clamp(self.frequency(field, a))
            } else {
                clamp(lm.u)
            };
            parts.push((m / u).log2());
        }
        prior + parts.iter().sum::<f64>()
    }

    /// The blocks of blocking rule `r` that can form a pair (two records, of two sources unless
    /// deduplicating): per block, its records, its size per source and whether it is skipped (a
    /// source holds more than `max_block_size` of its records).
    pub(crate) fn blocks(&self, r: usize) -> Vec<(Vec<u32>, Vec<u64>, bool)> {
        let rule = &self.schema.link.blocking[r];
        let column = |keys: &[String]| {
            let mut want: Vec<Key> = keys.iter().map(|k| self.key(k)).collect();
            want.sort();
            let Some(c) = self.columns.iter().position(|col| {
                let mut have = col.keys.clone();
                have.sort();
                have == want
            }) else {
                panic!("no token column for rule {}", rule.name());
            };
            c
        };
        let columns: Vec<usize> = std::iter::once(rule.keys.clone())
            .chain(rule.crossed_keys())
            .map(|keys| column(&keys))
            .collect();
        // A crossed rule joins on the record's two tokens as an unordered pair.
        let mut by_token: BTreeMap<Vec<u128>, Vec<u32>> = BTreeMap::new();
        for i in 0..self.len() {
            if let [c, d] = columns[..] {
                let (x, y) = (self.tokens(i, c), self.tokens(i, d));
                if let (Some(&x), Some(&y), 1, 1) = (x.first(), y.first(), x.len(), y.len()) {
                    by_token
                        .entry(vec![x.min(y), x.max(y)])
                        .or_default()
                        .push(i);
                }
                continue;
            }
            for t in self.tokens(i, columns[0]) {
                by_token.entry(vec![t]).or_default().push(i);
            }
        }
        let max = self.schema.link.max_block_size as u64;
        by_token
            .into_values()
            .filter_map(|members| {
                let mut sizes = vec![0u64; self.n_sources];
                for &i in &members {
                    sizes[usize::from(self.sources[i as usize])] += 1;
                }
                let pairs = if self.n_sources == 1 {
                    members.len() >= 2
                } else {
                    sizes.iter().filter(|s| **s > 0).count() >= 2
                };
                let skipped = sizes.iter().any(|s| *s > max);
                pairs.then_some((members, sizes, skipped))
            })
            .collect()
    }

    /// The pairs blocking rule `r` forms: those sharing one of its tokens in a block that is not
    /// skipped.
    pub(crate) fn rule_pairs(&self, r: usize) -> BTreeSet<(u32, u32)> {
        let mut out = BTreeSet::new();
        for (members, _, skipped) in self.blocks(r) {
            if skipped {
                continue;
            }
            for (i, &a) in members.iter().enumerate() {
                for &b in &members[i + 1..] {
                    if self.allowed(a, b) {
                        out.insert((a.min(b), a.max(b)));
                    }
                }
            }
        }
        out
    }

    /// The candidate pairs: the union of every rule's pairs.
    pub(crate) fn candidates(&self) -> BTreeSet<(u32, u32)> {
        (0..self.schema.link.blocking.len())
            .flat_map(|r| self.rule_pairs(r))
            .collect()
    }
}
