//! Comparison vectors: for each compared field of a pair, the index of the best level reached.
//!
//! The levels of a field, best first, are:
//!
//! 1. `exact`: the exact tokens are equal (when the field has a token);
//! 2. one band per threshold, best first: the Dice coefficient of the Bloom filters (`dice>=0.9`),
//!    or in cleartext mode the string similarity of the normalised values (`jaro_winkler>=0.94`)
//!    when the field has a `compare.clear` comparator;
//! 3. the level tokens of `compare.levels`, in order: `swapped` agrees when one record's swapped
//!    date equals the other's exact token (either way round); other levels when both level tokens
//!    are present and equal;
//! 4. `crosswise` (with `cross_with`): this field's token equals the other record's `cross_with`
//!    token, either way round (first name recorded as last name);
//! 5. `else`.
//!
//! A field missing on either side gets [`MISSING`], which carries no weight. A field is present when
//! its exact token is (or, without a token, its Bloom filter, or else any of its level tokens).
//!
//! **Salted fields are compared only within equal salts.** A field with a `salt` (the default
//! schema salts the names with `date_of_birth.year_month`) has tokens, level tokens and filters
//! that can agree only when the two records' salts agree: under different salts its Dice
//! coefficient is noise and its tokens never agree, whatever the names. So when the salt tokens of
//! a pair differ the field gets [`SALT_DIFFERS`]: like [`MISSING`] it carries no weight and is left
//! out of EM and of the u sample; the u of a salted field is estimated among random pairs *with
//! equal salts* (see [`sample`](super::sample)), so its agreement no longer counts the salt's
//! agreement a second time. A field compared within a salt is not term-frequency adjusted
//! (`compare.term_frequency` is ignored for it): a salted token differs per salt by design, so its
//! frequency can only be counted among the records of one salt value (about 30 per month of birth
//! in 20,000 people, 2,000 in 1.4 million), where the pair's own two records weigh heavily, and
//! the field's u among pairs with equal salts is already the average agreement within a salt. The salt token is the salt field's exact token (`salt: "field"`) or its
//! level token (`salt: "field.level"`), both in every encoded extract. The record-level filter is
//! gated the same way when every field in it has one and the same salt. In cleartext mode a field
//! compared with a string comparator (`compare.clear`) is not gated: its similarity is measured on
//! the normalised values, which the salt does not change.

use crate::encode::layout::Layout;
use crate::error::{Error, Result};
use crate::schema::{ClearMetric, Level, Schema};

use super::dice;
use super::pool::{Pool, Row};

/// The level index of a field missing on either side.
pub const MISSING: u8 = u8::MAX;

/// The level index of a salted field whose two salts differ: not compared, no weight (see the
/// module documentation).
pub const SALT_DIFFERS: u8 = u8::MAX - 1;

/// Whether `level` is one of the two levels that carry no weight and no information:
/// [`MISSING`] or [`SALT_DIFFERS`].
#[inline]
pub fn is_uncompared(level: u8) -> bool {
    level >= SALT_DIFFERS
}

/// Largest number of levels a field may have (level indices are `u8`; [`MISSING`] and
/// [`SALT_DIFFERS`] are reserved).
pub const MAX_LEVELS: usize = 64;

/// What one comparison level tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LevelKind {
    /// Exact tokens equal.
    Exact,
    /// Dice coefficient of the Bloom filters at least this.
    Dice(f64),
    /// Cleartext similarity at least `threshold`.
    Similarity {
        /// The string comparator.
        metric: ClearMetric,
        /// The threshold.
        threshold: f64,
    },
    /// Level tokens agree.
    Token(Level),
    /// Crosswise agreement with the `cross_with` field.
    Cross,
    /// None of the above.
    Else,
}

impl LevelKind {
    /// The level's name in models, summaries and explanations (`exact`, `dice>=0.9`, `swapped`).
    pub fn name(&self) -> String {
        match self {
            LevelKind::Exact => "exact".into(),
            LevelKind::Dice(t) => format!("dice>={t}"),
            LevelKind::Similarity { metric, threshold } => {
                format!("{}>={threshold}", metric_name(*metric))
            }
            LevelKind::Token(l) => l.as_str().into(),
            LevelKind::Cross => "crosswise".into(),
            LevelKind::Else => "else".into(),
        }
    }
}

/// The schema name of a cleartext metric.
pub fn metric_name(m: ClearMetric) -> &'static str {
    match m {
        ClearMetric::JaroWinkler => "jaro_winkler",
        ClearMetric::DamerauLevenshtein => "damerau_levenshtein",
        ClearMetric::Levenshtein => "levenshtein",
    }
}

/// The similarity of two normalised strings under `metric`, in 0..=1.
pub fn similarity(metric: ClearMetric, a: &str, b: &str) -> f64 {
    match metric {
        ClearMetric::JaroWinkler => strsim::jaro_winkler(a, b),
        ClearMetric::DamerauLevenshtein => strsim::normalized_damerau_levenshtein(a, b),
        ClearMetric::Levenshtein => strsim::normalized_levenshtein(a, b),
    }
}

/// How the similarity bands of a field are measured.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bands {
    None,
    Dice { slot: usize },
    Clear { metric: ClearMetric },
}

/// The comparison of one schema field.
#[derive(Debug, Clone)]
pub struct FieldComparator {
    /// Index of the field in the schema ([`RECORD_FILTER`] for the record-level filter).
    pub field: usize,
    /// Field name (`record` for the record-level filter).
    pub name: String,
    /// The schema fields (indices) whose values this comparison depends on: the field itself, or
    /// every field of the record-level filter. EM leaves it out of the sessions of blocking rules
    /// with a key on any of them.
    pub sources: Vec<usize>,
    /// The levels, best first ([`MISSING`] is not among them).
    pub levels: Vec<LevelKind>,
    /// Whether exact agreement is term-frequency adjusted (never for a field compared within a
    /// salt).
    pub term_frequency: bool,
    /// The salt (`field` or `field.level`) within whose equal values this comparison is made, if
    /// it is gated (see the module documentation).
    pub salt: Option<String>,
    salt_slot: Option<usize>,
    token: Option<usize>,
    presence: Presence,
    bands: Bands,
    thresholds: Vec<f64>,
    token_levels: Vec<(Level, usize)>,
    swapped_of_token: Option<usize>,
    cross_token: Option<usize>,
}

#[derive(Debug, Clone)]
enum Presence {
    Token(usize),
    Bloom(usize),
    Levels(Vec<usize>),
}

impl FieldComparator {
    /// The index of the `exact` level, if the field has one.
    pub fn exact_level(&self) -> Option<u8> {
        self.token.map(|_| 0)
    }

    /// The token slot of the field's exact token.
    pub fn token_slot(&self) -> Option<usize> {
        self.token
    }

    /// The token slot of the salt this comparison is gated on, if it is gated.
    pub fn salt_slot(&self) -> Option<usize> {
        self.salt_slot
    }

    /// Whether the field has a value in row `r`.
    #[inline]
    fn present(&self, r: &Row<'_>) -> bool {
        match &self.presence {
            Presence::Token(s) => r.id(*s) != 0,
            Presence::Bloom(s) => r.has_bloom(*s),
            Presence::Levels(slots) => slots.iter().any(|s| r.id(*s) != 0),
        }
    }

    /// The similarity used for the bands, `None` when it cannot reach the lowest band (Dice bound)
    /// or a side lacks the value.
    #[inline]
    fn band_similarity(
        &self,
        pool: &Pool,
        (a, ra): (u32, &Row<'_>),
        (b, rb): (u32, &Row<'_>),
    ) -> Option<f64> {
        match self.bands {
            Bands::None => None,
            Bands::Dice { slot } => {
                if !ra.has_bloom(slot) || !rb.has_bloom(slot) {
                    return None;
                }
                let (ca, cb) = (ra.bloom_count(slot), rb.bloom_count(slot));
                let lowest = self.thresholds.last().copied().unwrap_or(1.0);
                if dice::upper_bound(ca, cb) < lowest {
                    return None;
                }
                let both = dice::intersection_count(ra.bloom(slot), rb.bloom(slot));
                Some(dice::dice(both, ca, cb))
            }
            Bands::Clear { metric } => {
                let va = pool.clear_value(a, self.field)?;
                let vb = pool.clear_value(b, self.field)?;
                Some(similarity(metric, va, vb))
            }
        }
    }

    /// The level index of the pair `(a, b)` on this field.
    #[inline]
    pub fn compare(&self, pool: &Pool, a: u32, b: u32) -> u8 {
        self.compare_rows(pool, (a, &pool.row(a)), (b, &pool.row(b)))
    }

    /// The level index of the pair `(a, b)` on this field, given their rows.
    #[inline]
    pub fn compare_rows(&self, pool: &Pool, a: (u32, &Row<'_>), b: (u32, &Row<'_>)) -> u8 {
        let (ra, rb) = (a.1, b.1);
        if !self.present(ra) || !self.present(rb) {
            return MISSING;
        }
        if let Some(s) = self.salt_slot {
            if !both_equal(ra.id(s), rb.id(s)) {
                return SALT_DIFFERS;
            }
        }
        let mut level = 0usize;
        if let Some(s) = self.token {
            if both_equal(ra.id(s), rb.id(s)) {
                return 0;
            }
            level += 1;
        }
        if !self.thresholds.is_empty() {
            if let Some(sim) = self.band_similarity(pool, a, b) {
                if let Some(k) = self.thresholds.iter().position(|t| sim >= *t) {
                    return to_level(level + k);
                }
            }
            level += self.thresholds.len();
        }
        for (l, slot) in &self.token_levels {
            let agree = if *l == Level::Swapped {
                match (self.swapped_of_token, self.token) {
                    (Some(sw), Some(t)) => {
                        both_equal(ra.id(*slot), rb.id(t)) || both_equal(ra.id(t), rb.id(sw))
                    }
                    _ => false,
                }
            } else {
                both_equal(ra.id(*slot), rb.id(*slot))
            };
            if agree {
                return to_level(level);
            }
            level += 1;
        }
        if let (Some(c), Some(t)) = (self.cross_token, self.token) {
            if both_equal(ra.id(t), rb.id(c)) || both_equal(ra.id(c), rb.id(t)) {
                return to_level(level);
            }
            level += 1;
        }
        to_level(level)
    }
}

#[inline]
fn to_level(i: usize) -> u8 {
    u8::try_from(i).unwrap_or(SALT_DIFFERS - 1)
}

/// Whether two token ids are equal and present.
#[inline]
fn both_equal(a: u32, b: u32) -> bool {
    a != 0 && a == b
}

/// [`FieldComparator::field`] of the record-level filter (`record_bloom` in the schema), which
/// belongs to no single field.
pub const RECORD_FILTER: usize = usize::MAX;

/// [`FieldComparator::name`] of the record-level filter, as in its column `record.bloom`.
pub const RECORD_FILTER_NAME: &str = "record";

/// Compares pairs of records on every compared field of a schema (and on the record-level filter
/// when the schema has one with `compare`).
#[derive(Debug, Clone)]
pub struct Comparator {
    fields: Vec<FieldComparator>,
    clear: bool,
}

impl Comparator {
    /// The comparator of `schema`; `clear` selects the cleartext string comparators where the
    /// schema gives one (`compare.clear`), Dice bands elsewhere.
    ///
    /// Errors when no field is compared or a field has more than [`MAX_LEVELS`] levels.
    pub fn new(schema: &Schema, clear: bool) -> Result<Comparator> {
        let layout = Layout::new(schema);
        let mut fields = Vec::new();
        for (i, f) in schema.fields.iter().enumerate() {
            let Some(c) = &f.compare else { continue };
            let slots = &layout.fields[i];
            let mut levels = Vec::new();
            if slots.token.is_some() {
                levels.push(LevelKind::Exact);
            }
            let (bands, thresholds) = match (&c.clear, slots.bloom) {
                (Some(cl), _) if clear => {
                    (Bands::Clear { metric: cl.metric }, cl.thresholds.clone())
                }
                (_, Some(slot)) if !c.dice.is_empty() => (Bands::Dice { slot }, c.dice.clone()),
                _ => (Bands::None, Vec::new()),
            };
            for t in &thresholds {
                levels.push(match bands {
                    Bands::Clear { metric } => LevelKind::Similarity {
                        metric,
                        threshold: *t,
                    },
                    _ => LevelKind::Dice(*t),
                });
            }
            let mut token_levels = Vec::new();
            for l in &c.levels {
                if let Some(slot) = slots.level(*l) {
                    token_levels.push((*l, slot));
                    levels.push(LevelKind::Token(*l));
                }
            }
            let cross_token = match &c.cross_with {
                Some(other) => schema
                    .field_index(other)
                    .and_then(|o| layout.fields.get(o))
                    .and_then(|s| s.token),
                None => None,
            };
            if cross_token.is_some() && slots.token.is_some() {
                levels.push(LevelKind::Cross);
            }
            levels.push(LevelKind::Else);
            if levels.len() > MAX_LEVELS {
                return Err(Error::schema(
                    format!("fields[{i}].compare"),
                    format!(
                        "{} comparison levels; at most {MAX_LEVELS} are supported",
                        levels.len()
                    ),
                ));
            }
            // Gated on the salt unless compared in cleartext by a string comparator.
            let gated = !matches!(bands, Bands::Clear { .. });
            let salt = f.salt.clone().filter(|_| gated);
            let salt_slot = salt
                .as_deref()
                .and_then(|k| salt_token_slot(schema, &layout, k));
            let presence = if let Some(t) = slots.token {
                Presence::Token(t)
            } else if let Some(b) = slots.bloom {
                Presence::Bloom(b)
            } else {
                Presence::Levels(slots.levels.iter().map(|(_, s)| *s).collect())
            };
            fields.push(FieldComparator {
                field: i,
                name: f.name.clone(),
                sources: vec![i],
                levels,
                // Not within a salt: see the module documentation.
                term_frequency: c.term_frequency && slots.token.is_some() && salt_slot.is_none(),
                salt: salt.filter(|_| salt_slot.is_some()),
                salt_slot,
                token: slots.token,
                presence,
                bands,
                thresholds,
                swapped_of_token: slots.level(Level::Swapped),
                token_levels,
                cross_token: if slots.token.is_some() {
                    cross_token
                } else {
                    None
                },
            });
        }
        if let (Some(rb), Some(slot)) = (&schema.record_bloom, layout.record_bloom) {
            if let Some(c) = rb.compare.as_ref().filter(|c| !c.dice.is_empty()) {
                let mut levels: Vec<LevelKind> =
                    c.dice.iter().map(|t| LevelKind::Dice(*t)).collect();
                levels.push(LevelKind::Else);
                if levels.len() > MAX_LEVELS {
                    return Err(Error::schema(
                        "record_bloom.compare.dice",
                        format!(
                            "{} comparison levels; at most {MAX_LEVELS} are supported",
                            levels.len()
                        ),
                    ));
                }
                let sources: Vec<usize> = rb
                    .fields
                    .iter()
                    .filter_map(|f| schema.field_index(&f.field))
                    .collect();
                // Gated when every field in the filter has one and the same salt: then the filters
                // of two records with different salts share no q-gram bits but by chance.
                let salts: Vec<Option<&String>> = sources
                    .iter()
                    .map(|i| schema.fields[*i].salt.as_ref())
                    .collect();
                let salt = match salts.first() {
                    Some(Some(first)) if salts.iter().all(|s| *s == Some(*first)) => {
                        Some((*first).clone())
                    }
                    _ => None,
                };
                let salt_slot = salt
                    .as_deref()
                    .and_then(|k| salt_token_slot(schema, &layout, k));
                fields.push(FieldComparator {
                    field: RECORD_FILTER,
                    name: RECORD_FILTER_NAME.into(),
                    sources,
                    levels,
                    term_frequency: false,
                    salt: salt.filter(|_| salt_slot.is_some()),
                    salt_slot,
                    token: None,
                    presence: Presence::Bloom(slot),
                    bands: Bands::Dice { slot },
                    thresholds: c.dice.clone(),
                    swapped_of_token: None,
                    token_levels: Vec::new(),
                    cross_token: None,
                });
            }
        }
        if fields.is_empty() {
            return Err(Error::schema(
                "fields",
                "no field has \"compare\": nothing to link on",
            ));
        }
        Ok(Comparator { fields, clear })
    }

    /// The compared fields, in schema order.
    pub fn fields(&self) -> &[FieldComparator] {
        &self.fields
    }

    /// Number of compared fields (the length of a comparison vector).
    pub fn n_fields(&self) -> usize {
        self.fields.len()
    }

    /// Whether this comparator uses the cleartext string comparators.
    pub fn is_clear(&self) -> bool {
        self.clear
    }

    /// Writes the comparison vector of `(a, b)` into `out` (one level per compared field). The
    /// pool must be prepared ([`Pool::prepare`]).
    #[inline]
    pub fn compare(&self, pool: &Pool, a: u32, b: u32, out: &mut [u8]) {
        self.compare_rows(pool, (a, &pool.row(a)), (b, &pool.row(b)), out);
    }

    /// [`Comparator::compare`] given the two records' rows.
    #[inline]
    pub fn compare_rows(
        &self,
        pool: &Pool,
        a: (u32, &Row<'_>),
        b: (u32, &Row<'_>),
        out: &mut [u8],
    ) {
        for (o, f) in out.iter_mut().zip(&self.fields) {
            *o = f.compare_rows(pool, a, b);
        }
    }

    /// The level names of every compared field (`MISSING` not included).
    pub fn level_names(&self) -> Vec<Vec<String>> {
        self.fields
            .iter()
            .map(|f| f.levels.iter().map(LevelKind::name).collect())
            .collect()
    }
}

/// The token slot of salt `key` (`field` or `field.level`): the field's exact token or its level
/// token, `None` when the extract has no such token.
pub fn salt_token_slot(schema: &Schema, layout: &Layout, key: &str) -> Option<usize> {
    let k = schema.parse_key(key)?;
    let slots = layout.fields.get(k.field)?;
    match k.level {
        None => slots.token,
        Some(l) => slots.level(l),
    }
}

/// The name of the level of a salted field whose salts differ.
pub const SALT_DIFFERS_NAME: &str = "salts differ";

/// The name of level `level` of field comparator `f` (`missing` for [`MISSING`], `salts differ`
/// for [`SALT_DIFFERS`]).
pub fn level_name(f: &FieldComparator, level: u8) -> String {
    if level == MISSING {
        return "missing".into();
    }
    if level == SALT_DIFFERS {
        return SALT_DIFFERS_NAME.into();
    }
    f.levels
        .get(usize::from(level))
        .map_or_else(|| format!("level {level}"), LevelKind::name)
}
