//! Comparison vectors: for each comparison of the schema, the level a pair reaches.
//!
//! **What a pair agrees on.** Every token column holds one or more keys hashed together
//! (`first_name+date_of_birth`). Two records share a token only if they agree on every key of
//! it, so each shared token tells the linker that a set of keys agree: the pair's **agreed keys**
//! `E` are the union of the keys of its shared tokens (and of the companions of a crossed pair,
//! below), closed under implication (agreeing on a field means agreeing on each of its
//! transforms). In cleartext mode `E` is computed from the normalised values themselves.
//!
//! **Levels.** A comparison's levels are tried best first; a level of keys holds when all its
//! keys are in `E`; a crossed level (`cross: [first_name, last_name]`) when one record's first
//! key equals the other's second, either way round (the two tokens hashed alike: the same
//! companions, the same key group); a Dice level when the pair's filters reach the coefficient
//! (and their salt, the filter's context, is in `E`); a similarity level (cleartext only) when
//! the string similarity reaches its threshold.
//!
//! **Seen or not.** When no level holds, the linker can only say "else" for the levels it could
//! see: a level is *seen* when, for each of its keys, a token column holding it is present in
//! both records and the token's other keys (the key's companions) are in `E`. The name of a pair
//! that agrees on its date of birth can be compared (its `first_name+date_of_birth` tokens
//! differ only if the names do); a pair that agrees on nothing shows nothing. So:
//! - `missing`: no field of the comparison is present in both records (no weight);
//! - `unknown`: no level could be seen (no weight; the pair's other comparisons speak);
//! - `else`: no level holds and every level was seen;
//! - `else (not seen: ...)`: no level holds among those seen, the others could not be seen. Each
//!   such combination is its own level with its own m and u.
//!
//! This is what lets the default schema compare each field whenever one of its companions
//! agrees, without ever letting the linkage unit see one field alone (`docs/linking.md`).

use crate::encode::layout::Layout;
use crate::encode::pair_stats::FeatureValues;
use crate::error::{Error, Result};
use crate::schema::{ClearMetric, Key, LevelSpec, Schema};

use super::dice;
use super::levels::{MISSING, UNKNOWN};
use super::pool::{bit, Pool, Row};

/// Largest number of levels a comparison may have, else levels included.
pub const MAX_LEVELS: usize = 200;

/// The most keys a schema's tokens and comparisons may use together.
pub const MAX_KEYS: usize = 128;

/// What one comparison level tests.
#[derive(Debug, Clone, PartialEq)]
pub enum LevelKind {
    /// Every key of the mask is agreed on (bits of [`Comparator::keys`]).
    Keys(u128),
    /// One of these crossed pairs agrees (indices into the comparator's crosses).
    Cross(Vec<usize>),
    /// The Dice coefficient of a filter (Bloom slot) reaches the threshold.
    Dice {
        /// The Bloom slot.
        slot: usize,
        /// The filter's context keys (bits): its salt must agree.
        context: u128,
        /// The threshold.
        threshold: f64,
    },
    /// Cleartext only: the string similarity of a field's values reaches the threshold.
    Similarity {
        /// The field.
        field: usize,
        /// The string comparator.
        metric: ClearMetric,
        /// The threshold.
        threshold: f64,
    },
    /// None of the levels seen holds; the levels of the mask (bits of level indices) were not
    /// seen (0: every level was).
    Else(u64),
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

/// One comparison of the schema, ready to compare pairs.
#[derive(Debug, Clone)]
pub struct ComparisonRule {
    /// Its name.
    pub name: String,
    /// Its levels, best first, then `else` and the `else (not seen: ...)` variants.
    pub levels: Vec<LevelKind>,
    /// Their names.
    pub level_names: Vec<String>,
    /// How many of `levels` are tested levels (the rest are else levels).
    pub tested: usize,
    /// Per level, the *atomic* levels it stands for (bits): a tested level itself (bit `i`), the
    /// plain `else` (bit `tested`), and an `else (not seen: ...)` level its unseen levels and
    /// `else` (the pair is at one of them, which one is not known). The model's m and u of such a
    /// level are the sums of its atomic levels' (see the `em` module).
    pub members: Vec<u64>,
    /// The fields it reads (bit mask): missing when none is present on both sides.
    pub fields: u32,
    /// Whether its u are a household's when the household comparison says one household.
    pub household: bool,
    /// Cleartext only: its first level, when it is a single whole field, weighed by the value's
    /// frequency (the field).
    pub term_frequency: Option<usize>,
}

impl ComparisonRule {
    /// The index of the level holding when every level was seen and none holds.
    pub fn else_level(&self) -> u8 {
        self.tested as u8
    }
}

/// One token column as the comparator sees it.
#[derive(Debug, Clone)]
struct Column {
    /// Its keys (bits).
    keys: u128,
}

/// Two token columns hashed alike whose keys differ in one place (`first_name` against
/// `last_name`, the other keys the same): compared crosswise.
#[derive(Debug, Clone)]
struct Crossed {
    a: usize,
    b: usize,
    /// The two differing keys (bits).
    key_a: u128,
    key_b: u128,
    /// The keys both columns hold besides (bits).
    rest: u128,
}

/// Compares pairs of records on every comparison of a schema.
#[derive(Debug, Clone)]
pub struct Comparator {
    rules: Vec<ComparisonRule>,
    /// The key universe: bit `i` of a mask is `keys[i]`.
    keys: Vec<Key>,
    columns: Vec<Column>,
    crosses: Vec<Crossed>,
    /// Per key: the keys agreeing on it implies (itself and, for a field, its transforms).
    implied: Vec<u128>,
    /// Per key: the token columns holding it, with the other keys of each.
    seen_by: Vec<Vec<(usize, u128)>>,
    /// Per key: the field it reads (bit).
    key_field: Vec<u32>,
    /// Per filter (Bloom slot): the fields it holds (bits).
    filter_fields: Vec<u32>,
    clear: bool,
    /// The household comparison and its levels meaning one household (bits).
    household: Option<(usize, u64)>,
}

impl Comparator {
    /// The comparator of `schema`; `clear` for cleartext mode (similarity levels, and every
    /// level seen whenever its fields are present).
    pub fn new(schema: &Schema, clear: bool) -> Result<Comparator> {
        let layout = Layout::new(schema);
        let mut keys: Vec<Key> = layout.tokens.iter().flat_map(|t| t.keys.clone()).collect();
        for c in &schema.link.comparisons {
            for l in &c.levels {
                keys.extend(l.keys.iter().flatten().filter_map(|k| schema.parse_key(k)));
                keys.extend(l.cross.iter().flatten().filter_map(|k| schema.parse_key(k)));
            }
        }
        for f in &schema.filters {
            keys.extend(f.context.iter().filter_map(|k| schema.parse_key(k)));
        }
        keys.sort();
        keys.dedup();
        if keys.len() > MAX_KEYS {
            return Err(Error::schema(
                "tokens",
                format!(
                    "{} keys in all; at most {MAX_KEYS} are supported",
                    keys.len()
                ),
            ));
        }
        let mask_of = |ks: &[Key]| -> u128 {
            ks.iter()
                .filter_map(|k| keys.iter().position(|x| x == k))
                .fold(0u128, |m, i| m | (1u128 << i))
        };
        let columns: Vec<Column> = layout
            .tokens
            .iter()
            .map(|t| Column {
                keys: mask_of(&t.keys),
            })
            .collect();
        let implied = keys
            .iter()
            .map(|k| {
                keys.iter()
                    .enumerate()
                    .filter(|(_, x)| x.implied_by(*k))
                    .fold(0u128, |m, (i, _)| m | (1u128 << i))
            })
            .collect();
        let seen_by = (0..keys.len())
            .map(|i| {
                columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.keys & (1u128 << i) != 0)
                    .map(|(c, col)| (c, col.keys & !(1u128 << i)))
                    .collect()
            })
            .collect();
        let key_field = keys.iter().map(|k| bit(k.field)).collect();
        // Crossed pairs: columns of one signature whose keys differ in exactly one place.
        let mut crosses = Vec::new();
        for (a, ta) in layout.tokens.iter().enumerate() {
            for (b, tb) in layout.tokens.iter().enumerate().skip(a + 1) {
                if ta.signature != tb.signature || ta.keys.len() != tb.keys.len() {
                    continue;
                }
                let differ: Vec<(Key, Key)> = ta
                    .keys
                    .iter()
                    .zip(&tb.keys)
                    .filter(|(x, y)| x != y)
                    .map(|(x, y)| (*x, *y))
                    .collect();
                // One-valued keys only (crossed set keys would have no pair statistics).
                if let [(x, y)] = differ[..] {
                    if x.is_set() || y.is_set() {
                        continue;
                    }
                    let rest: Vec<Key> = ta.keys.iter().copied().filter(|k| *k != x).collect();
                    crosses.push(Crossed {
                        a,
                        b,
                        key_a: mask_of(&[x]),
                        key_b: mask_of(&[y]),
                        rest: mask_of(&rest),
                    });
                }
            }
        }
        // Cleartext mode compares crossed keys by their values: a crossed level needs no two
        // token columns there (such a pair has no columns, `a` and `b` out of range, and no
        // companions).
        if clear {
            for l in schema.link.comparisons.iter().flat_map(|c| &c.levels) {
                let Some([x, y]) = &l.cross else { continue };
                let (Some(x), Some(y)) = (schema.parse_key(x), schema.parse_key(y)) else {
                    continue;
                };
                let (kx, ky) = (mask_of(&[x]), mask_of(&[y]));
                let known = crosses.iter().any(|c: &Crossed| {
                    (c.key_a == kx && c.key_b == ky) || (c.key_a == ky && c.key_b == kx)
                });
                if !known {
                    crosses.push(Crossed {
                        a: usize::MAX,
                        b: usize::MAX,
                        key_a: kx,
                        key_b: ky,
                        rest: 0,
                    });
                }
            }
        }
        let filter_fields = schema
            .filters
            .iter()
            .map(|f| {
                f.fields
                    .iter()
                    .filter_map(|ff| schema.field_index(&ff.field))
                    .fold(0u32, |m, i| m | bit(i))
            })
            .collect();
        let mut comparator = Comparator {
            rules: Vec::new(),
            keys,
            columns,
            crosses,
            implied,
            seen_by,
            key_field,
            filter_fields,
            clear,
            household: None,
        };
        for (ci, c) in schema.link.comparisons.iter().enumerate() {
            let mut levels = Vec::new();
            let mut names = Vec::new();
            let mut fields = 0u32;
            for l in &c.levels {
                let Some(kind) = comparator.level_kind(schema, &layout, l)? else {
                    continue;
                };
                fields |= comparator.level_fields(&kind);
                levels.push(kind);
                names.push(l.name.clone());
            }
            if levels.is_empty() {
                return Err(Error::schema(
                    format!("link.comparisons[{ci}]"),
                    "no level of this comparison applies in this mode (only similarity levels, which need --clear)",
                ));
            }
            let tested = levels.len();
            let term_frequency = c
                .term_frequency
                .then(|| match (clear, levels.first()) {
                    (true, Some(LevelKind::Keys(m))) if m.count_ones() == 1 => {
                        let k = comparator.keys[m.trailing_zeros() as usize];
                        k.transform.is_none().then_some(k.field)
                    }
                    _ => None,
                })
                .flatten();
            let mut rule = ComparisonRule {
                name: c.name.clone(),
                levels,
                level_names: names,
                tested,
                members: (0..tested).map(|i| 1u64 << i).collect(),
                fields,
                household: c.household,
                term_frequency,
            };
            for unseen in comparator.else_variants(&rule) {
                let name = if unseen == 0 {
                    "else".to_string()
                } else {
                    let missing: Vec<&str> = (0..rule.tested)
                        .filter(|i| unseen & (1u64 << i) != 0)
                        .map(|i| rule.level_names[i].as_str())
                        .collect();
                    format!("else (not seen: {})", missing.join(", "))
                };
                rule.levels.push(LevelKind::Else(unseen));
                rule.level_names.push(name);
                rule.members.push(unseen | (1u64 << tested));
            }
            if rule.tested >= 63 || rule.levels.len() > MAX_LEVELS {
                return Err(Error::schema(
                    format!("link.comparisons[{ci}]"),
                    format!(
                        "{} levels; at most {MAX_LEVELS} are supported",
                        rule.levels.len()
                    ),
                ));
            }
            comparator.rules.push(rule);
        }
        if comparator.rules.is_empty() {
            return Err(Error::schema(
                "link.comparisons",
                "the schema compares nothing: add comparisons to link.comparisons",
            ));
        }
        if let Some(h) = &schema.link.household {
            if let Some(ci) = comparator.rules.iter().position(|r| r.name == h.comparison) {
                let rule = &comparator.rules[ci];
                let mask = h
                    .levels
                    .iter()
                    .filter_map(|l| rule.level_names.iter().position(|n| n == l))
                    .fold(0u64, |m, i| m | (1u64 << i.min(63)));
                comparator.household = Some((ci, mask));
            }
        }
        Ok(comparator)
    }

    /// The level a level spec becomes in this mode (`None`: skipped, a similarity level when
    /// encoded).
    fn level_kind(
        &self,
        schema: &Schema,
        layout: &Layout,
        l: &LevelSpec,
    ) -> Result<Option<LevelKind>> {
        let mask = |ks: &[String]| -> u128 {
            ks.iter()
                .filter_map(|k| schema.parse_key(k))
                .filter_map(|k| self.keys.iter().position(|x| *x == k))
                .fold(0u128, |m, i| m | (1u128 << i))
        };
        if let Some(ks) = &l.keys {
            return Ok(Some(LevelKind::Keys(mask(ks))));
        }
        if let Some([x, y]) = &l.cross {
            let (kx, ky) = (mask(std::slice::from_ref(x)), mask(std::slice::from_ref(y)));
            let found: Vec<usize> = self
                .crosses
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    (c.key_a == kx && c.key_b == ky) || (c.key_a == ky && c.key_b == kx)
                })
                .map(|(i, _)| i)
                .collect();
            if found.is_empty() && !self.clear {
                return Err(Error::schema(
                    "link.comparisons",
                    format!("crossed level '{}': no two token columns hold '{x}' and '{y}' with the same other keys, so they cannot be compared crosswise", l.name),
                ));
            }
            return Ok(Some(LevelKind::Cross(found)));
        }
        if let (Some(f), Some(t)) = (&l.filter, l.dice) {
            let Some(i) = schema.filters.iter().position(|x| &x.name == f) else {
                return Ok(None);
            };
            let context = mask(&schema.filters[i].context);
            return Ok(Some(LevelKind::Dice {
                slot: layout.filters[i],
                context,
                threshold: t,
            }));
        }
        if let Some(s) = &l.similarity {
            if !self.clear {
                return Ok(None);
            }
            let Some(field) = schema.field_index(&s.field) else {
                return Ok(None);
            };
            return Ok(Some(LevelKind::Similarity {
                field,
                metric: s.metric,
                threshold: s.threshold,
            }));
        }
        Ok(None)
    }

    /// The fields a level reads (bits).
    fn level_fields(&self, kind: &LevelKind) -> u32 {
        match kind {
            LevelKind::Keys(m) => self.fields_of(*m),
            LevelKind::Cross(ids) => ids
                .iter()
                .filter_map(|&i| self.crosses.get(i))
                .fold(0, |f, c| f | self.fields_of(c.key_a | c.key_b)),
            LevelKind::Dice { slot, .. } => self.filter_fields.get(*slot).copied().unwrap_or(0),
            LevelKind::Similarity { field, .. } => bit(*field),
            LevelKind::Else(_) => 0,
        }
    }

    /// The fields of the keys of `mask` (bits).
    fn fields_of(&self, mask: u128) -> u32 {
        (0..self.keys.len())
            .filter(|i| mask & (1u128 << i) != 0)
            .fold(0, |f, i| f | self.key_field[i])
    }

    /// Every combination of unseen levels a pair can have without missing the comparison (0:
    /// all seen; the combination where none is seen is `unknown`, not an else level), found by
    /// trying every set of agreed companions, of present fields and of crossed pairs and
    /// filters present.
    ///
    /// A crossed pair's presence is tried on its own: it is present when one record has the
    /// first column and the other the second, which the fields present in *both* records do not
    /// say (neither of two records without a middle name has it, yet the first name of one and
    /// the middle name of the other are absent too, so `middle_as_first` is not seen while
    /// `crosswise` is).
    fn else_variants(&self, rule: &ComparisonRule) -> Vec<u64> {
        let mut rests: Vec<u128> = Vec::new();
        for l in &rule.levels {
            match l {
                LevelKind::Keys(m) => {
                    for i in 0..self.keys.len() {
                        if m & (1u128 << i) != 0 {
                            rests.extend(self.seen_by[i].iter().map(|(_, r)| *r));
                        }
                    }
                }
                LevelKind::Cross(ids) => rests.extend(
                    ids.iter()
                        .filter_map(|&i| self.crosses.get(i))
                        .map(|c| c.rest),
                ),
                LevelKind::Dice { context, .. } => rests.push(*context),
                _ => {}
            }
        }
        rests.sort_unstable();
        rests.dedup();
        rests.truncate(12);
        let fields: Vec<u32> = (0..32)
            .map(|i| 1u32 << i)
            .filter(|b| rule.fields & b != 0)
            .collect();
        let fields = &fields[..fields.len().min(8)];
        // The crossed pairs and filters whose presence is tried on its own: `(true, cross)` or
        // `(false, Bloom slot)`.
        let mut apart: Vec<(bool, usize)> = rule
            .levels
            .iter()
            .flat_map(|l| match l {
                LevelKind::Cross(ids) => ids.iter().map(|&i| (true, i)).collect(),
                LevelKind::Dice { slot, .. } => vec![(false, *slot)],
                _ => Vec::new(),
            })
            .collect();
        apart.sort_unstable();
        apart.dedup();
        apart.truncate(5);
        let mut out = vec![0u64];
        for r in 0..(1u32 << rests.len()) {
            let agreed = rests
                .iter()
                .enumerate()
                .filter(|(i, _)| r & (1 << i) != 0)
                .fold(0u128, |m, (_, x)| m | x);
            for p in 1..(1u32 << fields.len()) {
                let present = fields
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| p & (1 << i) != 0)
                    .fold(0u32, |m, (_, f)| m | f);
                for x in 0..(1u32 << apart.len()) {
                    let on = |kind: bool, i: usize| {
                        apart
                            .iter()
                            .position(|c| *c == (kind, i))
                            .is_some_and(|k| x & (1 << k) != 0)
                    };
                    let seen = self.seen_levels(
                        rule,
                        self.close(agreed),
                        present,
                        |_| true,
                        |i| on(true, i),
                        |s| on(false, s),
                    );
                    let all = (1u64 << rule.tested) - 1;
                    if seen != 0 {
                        out.push(all & !seen);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// `e` closed under implication.
    #[inline]
    fn close(&self, e: u128) -> u128 {
        let mut out = e;
        let mut rest = e;
        while rest != 0 {
            let i = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            out |= self.implied.get(i).copied().unwrap_or(0);
        }
        out
    }

    /// The tested levels of `rule` seen (bits), given the agreed keys `e`, the fields present in
    /// both records, and which token columns, crossed pairs and filters (Bloom slots) are
    /// present in both.
    fn seen_levels(
        &self,
        rule: &ComparisonRule,
        e: u128,
        present: u32,
        column_present: impl Fn(usize) -> bool,
        cross_present: impl Fn(usize) -> bool,
        filter_present: impl Fn(usize) -> bool,
    ) -> u64 {
        let mut seen = 0u64;
        for (li, l) in rule.levels.iter().take(rule.tested).enumerate() {
            let ok = match l {
                LevelKind::Keys(m) => {
                    let mut all = true;
                    let mut rest = *m;
                    while rest != 0 && all {
                        let i = rest.trailing_zeros() as usize;
                        rest &= rest - 1;
                        all = present & self.key_field[i] != 0
                            && (self.clear
                                || self.seen_by[i]
                                    .iter()
                                    .any(|(c, r)| r & !e == 0 && column_present(*c)));
                    }
                    all
                }
                LevelKind::Cross(ids) => {
                    if self.clear {
                        ids.is_empty() || ids.iter().any(|&i| cross_present(i))
                    } else {
                        ids.iter().any(|&i| {
                            self.crosses
                                .get(i)
                                .is_some_and(|c| c.rest & !e == 0 && cross_present(i))
                        })
                    }
                }
                // Compared only when both records have the filter: one of its fields present
                // in both (perhaps through another filter or a token) says nothing of that.
                // Filters of two salts are noise to each other, in cleartext mode too (its
                // filters are salted as an extract's).
                LevelKind::Dice { slot, context, .. } => filter_present(*slot) && context & !e == 0,
                LevelKind::Similarity { field, .. } => present & bit(*field) != 0,
                LevelKind::Else(_) => false,
            };
            if ok {
                seen |= 1u64 << li;
            }
        }
        seen
    }

    /// The tested levels of `rule` (bits of level indices) that imply agreement on `key`: key
    /// levels whose keys, closed under implication, hold it (`first_name` and `soundex` imply
    /// `first_name.soundex`; `one_edit` does not, though such a pair may agree on it too).
    pub fn levels_implying(&self, rule: &ComparisonRule, key: Key) -> u64 {
        let Some(i) = self.keys.iter().position(|k| *k == key) else {
            return 0;
        };
        rule.levels
            .iter()
            .take(rule.tested)
            .enumerate()
            .filter(|(_, l)| matches!(l, LevelKind::Keys(m) if self.close(*m) & (1u128 << i) != 0))
            .fold(0u64, |bits, (li, _)| bits | (1u64 << li))
    }

    /// The tested levels of `rule` (bits) that are crossed levels of keys `a` and `b` (either
    /// way round).
    pub fn levels_crossing(&self, rule: &ComparisonRule, a: Key, b: Key) -> u64 {
        let mask = |k: Key| {
            self.keys
                .iter()
                .position(|x| *x == k)
                .map_or(0, |i| 1u128 << i)
        };
        let (ka, kb) = (mask(a), mask(b));
        if ka == 0 || kb == 0 {
            return 0;
        }
        rule.levels
            .iter()
            .take(rule.tested)
            .enumerate()
            .filter(|(_, l)| {
                matches!(l, LevelKind::Cross(ids) if ids.iter().filter_map(|&i| self.crosses.get(i)).any(|c| {
                    (c.key_a == ka && c.key_b == kb) || (c.key_a == kb && c.key_b == ka)
                }))
            })
            .fold(0u64, |bits, (li, _)| bits | (1u64 << li))
    }

    /// The comparisons.
    pub fn rules(&self) -> &[ComparisonRule] {
        &self.rules
    }

    /// The number of comparisons.
    pub fn n_fields(&self) -> usize {
        self.rules.len()
    }

    /// Whether this is the cleartext comparator.
    pub fn is_clear(&self) -> bool {
        self.clear
    }

    /// The household comparison and its levels meaning one household (bits of level indices).
    pub fn household(&self) -> Option<(usize, u64)> {
        self.household
    }

    /// The key universe.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The names of every level of every comparison.
    pub fn level_names(&self) -> Vec<Vec<String>> {
        self.rules.iter().map(|r| r.level_names.clone()).collect()
    }

    /// The comparison vector of records `a` and `b` of `pool`.
    pub fn compare(&self, pool: &Pool, a: u32, b: u32, out: &mut [u8]) {
        self.compare_rows(pool, (a, &pool.row(a)), (b, &pool.row(b)), out);
    }

    /// The comparison vector of a pair given their rows, into `out` (one level per comparison).
    pub fn compare_rows(
        &self,
        pool: &Pool,
        (a, ra): (u32, &Row<'_>),
        (b, rb): (u32, &Row<'_>),
        out: &mut [u8],
    ) {
        // Cleartext: the fields each record has a value of; encoded, what its tokens and filters
        // say (see `pool`).
        let (pa, pb) = if self.clear {
            (clear_presence(pool, a), clear_presence(pool, b))
        } else {
            (ra.presence(), rb.presence())
        };
        let present = pa & pb;
        let (e, cross_ok) = if self.clear {
            self.agreed_clear(pool, a, b)
        } else {
            self.agreed(ra, rb)
        };
        let column_present = |c: usize| ra.has(c) && rb.has(c);
        // Present one way round: the first column (cleartext: key) in one record and the second
        // in the other.
        let cross_present = |i: usize| {
            self.crosses.get(i).is_some_and(|c| {
                if self.clear {
                    let field = |m: u128| self.key_field[m.trailing_zeros() as usize];
                    let (fa, fb) = (field(c.key_a), field(c.key_b));
                    (pa & fa != 0 && pb & fb != 0) || (pa & fb != 0 && pb & fa != 0)
                } else {
                    (ra.has(c.a) && rb.has(c.b)) || (ra.has(c.b) && rb.has(c.a))
                }
            })
        };
        for (rule, slot) in self.rules.iter().zip(out.iter_mut()) {
            *slot = self.level_of(
                rule,
                pool,
                (a, ra),
                (b, rb),
                e,
                cross_ok,
                present,
                &column_present,
                &cross_present,
            );
        }
    }

    /// The agreed keys (closed) and crossed pairs of an encoded pair, from its shared tokens.
    #[inline]
    fn agreed(&self, ra: &Row<'_>, rb: &Row<'_>) -> (u128, u64) {
        let mut e = 0u128;
        for (c, col) in self.columns.iter().enumerate() {
            if ra.shares(c, rb, c) {
                e |= col.keys;
            }
        }
        let mut cross_ok = 0u64;
        for (i, x) in self.crosses.iter().enumerate().take(64) {
            if ra.shares(x.a, rb, x.b) || ra.shares(x.b, rb, x.a) {
                cross_ok |= 1u64 << i;
                e |= x.rest;
            }
        }
        (self.close(e), cross_ok)
    }

    /// The agreed keys (closed) and crossed pairs of a pair in cleartext mode, from the
    /// records' feature values (computed over this comparator's keys, see [`Pool::features`]).
    fn agreed_clear(&self, pool: &Pool, a: u32, b: u32) -> (u128, u64) {
        let (Some(fa), Some(fb)) = (pool.features(a), pool.features(b)) else {
            return (0, 0);
        };
        fn value(f: &FeatureValues, k: usize) -> Option<&[u64]> {
            f.keys.get(k)?.as_deref()
        }
        let mut e = 0u128;
        for k in 0..self.keys.len() {
            if let (Some(x), Some(y)) = (value(fa, k), value(fb, k)) {
                if intersect(x, y) {
                    e |= 1u128 << k;
                }
            }
        }
        let mut cross_ok = 0u64;
        for (i, c) in self.crosses.iter().enumerate().take(64) {
            let (ka, kb) = (
                c.key_a.trailing_zeros() as usize,
                c.key_b.trailing_zeros() as usize,
            );
            let agree = |p: Option<&[u64]>, q: Option<&[u64]>| match (p, q) {
                (Some(p), Some(q)) => intersect(p, q),
                _ => false,
            };
            if agree(value(fa, ka), value(fb, kb)) || agree(value(fa, kb), value(fb, ka)) {
                cross_ok |= 1u64 << i;
            }
        }
        (self.close(e), cross_ok)
    }

    /// The level of one comparison.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn level_of(
        &self,
        rule: &ComparisonRule,
        pool: &Pool,
        (a, ra): (u32, &Row<'_>),
        (b, rb): (u32, &Row<'_>),
        e: u128,
        cross_ok: u64,
        present: u32,
        column_present: &impl Fn(usize) -> bool,
        cross_present: &impl Fn(usize) -> bool,
    ) -> u8 {
        if rule.fields & present == 0 {
            return MISSING;
        }
        for (li, l) in rule.levels.iter().take(rule.tested).enumerate() {
            let holds = match l {
                LevelKind::Keys(m) => m & !e == 0,
                LevelKind::Cross(ids) => ids.iter().any(|&i| i < 64 && cross_ok & (1u64 << i) != 0),
                LevelKind::Dice {
                    slot,
                    context,
                    threshold,
                } => {
                    context & !e == 0 && ra.has_bloom(*slot) && rb.has_bloom(*slot) && {
                        let (ca, cb) = (ra.bloom_count(*slot), rb.bloom_count(*slot));
                        dice::upper_bound(ca, cb) >= *threshold && {
                            let both = dice::intersection_count(ra.bloom(*slot), rb.bloom(*slot));
                            dice::dice(both, ca, cb) >= *threshold
                        }
                    }
                }
                LevelKind::Similarity {
                    field,
                    metric,
                    threshold,
                } => match (pool.clear_value(a, *field), pool.clear_value(b, *field)) {
                    (Some(x), Some(y)) => similarity(*metric, x, y) >= *threshold,
                    _ => false,
                },
                LevelKind::Else(_) => false,
            };
            if holds {
                return li as u8;
            }
        }
        let seen = self.seen_levels(rule, e, present, column_present, cross_present, |s| {
            ra.has_bloom(s) && rb.has_bloom(s)
        });
        if seen == 0 {
            return UNKNOWN;
        }
        let unseen = ((1u64 << rule.tested) - 1) & !seen;
        rule.levels
            .iter()
            .position(|l| matches!(l, LevelKind::Else(x) if *x == unseen))
            .map_or(UNKNOWN, |i| i as u8)
    }

    /// The level a pair reaches on a comparison given only its agreement pattern from the pair
    /// statistics (every level seen, as an agency compares its own records): `None` when the
    /// comparison is missing. `bits` are the pattern's bits over `names` (see
    /// [`crate::encode::pair_stats::Features::names`]) and `dice` its Dice hundredths.
    pub fn level_of_pattern(
        &self,
        rule: &ComparisonRule,
        schema: &Schema,
        names: &[String],
        bits: u128,
        dice: &[u8],
    ) -> Option<u8> {
        let pattern = PatternView::new(self, schema, names, bits, dice);
        if rule.fields & pattern.present == 0 {
            return None;
        }
        Some(
            (0..rule.tested)
                .find(|&l| self.holds_in(rule, l, &pattern, schema))
                .map_or(rule.else_level(), |l| l as u8),
        )
    }

    /// Whether tested level `l` of `rule` holds for a pattern of the pair statistics.
    pub fn level_holds_in_pattern(
        &self,
        rule: &ComparisonRule,
        l: usize,
        schema: &Schema,
        names: &[String],
        bits: u128,
        dice: &[u8],
    ) -> bool {
        let pattern = PatternView::new(self, schema, names, bits, dice);
        self.holds_in(rule, l, &pattern, schema)
    }

    fn holds_in(
        &self,
        rule: &ComparisonRule,
        l: usize,
        p: &PatternView<'_>,
        schema: &Schema,
    ) -> bool {
        match rule.levels.get(l) {
            Some(LevelKind::Keys(m)) => m & !p.e == 0,
            Some(LevelKind::Cross(ids)) => {
                ids.iter().filter_map(|&i| self.crosses.get(i)).any(|c| {
                    let name = |m: u128| schema.key_name(self.keys[m.trailing_zeros() as usize]);
                    let (x, y) = (name(c.key_a), name(c.key_b));
                    p.has(&format!("cross:{x}~{y}")) || p.has(&format!("cross:{y}~{x}"))
                })
            }
            Some(LevelKind::Dice {
                slot, threshold, ..
            }) => p.dice.get(*slot).is_some_and(|&d| {
                d != u8::MAX
                    && f64::from(d)
                        >= (threshold * f64::from(crate::encode::pair_stats::DICE_STEPS) + 1e-9)
                            .floor()
            }),
            _ => false,
        }
    }
}

/// A pattern of the pair statistics, read against a comparator's keys.
struct PatternView<'a> {
    names: &'a [String],
    bits: u128,
    dice: &'a [u8],
    present: u32,
    e: u128,
}

impl<'a> PatternView<'a> {
    fn new(
        comparator: &Comparator,
        schema: &Schema,
        names: &'a [String],
        bits: u128,
        dice: &'a [u8],
    ) -> PatternView<'a> {
        let mut view = PatternView {
            names,
            bits,
            dice,
            present: 0,
            e: 0,
        };
        view.present = (0..schema.fields.len())
            .filter(|&i| view.has(&format!("present:{}", schema.fields[i].name)))
            .fold(0u32, |m, i| m | bit(i));
        let mut e = 0u128;
        for (k, key) in comparator.keys.iter().enumerate() {
            if view.has(&schema.key_name(*key)) {
                e |= 1u128 << k;
            }
        }
        view.e = comparator.close(e);
        view
    }

    fn has(&self, name: &str) -> bool {
        self.names
            .iter()
            .position(|n| n == name)
            .is_some_and(|i| i < 128 && self.bits & (1u128 << i) != 0)
    }
}

/// The fields record `i` has a value of (cleartext mode), as a mask of [`bit`]s.
fn clear_presence(pool: &Pool, i: u32) -> u32 {
    pool.features(i).map_or(0, |f| {
        f.present
            .iter()
            .enumerate()
            .filter(|(_, p)| **p)
            .fold(0u32, |m, (field, _)| m | bit(field))
    })
}

/// Whether two sorted lists share a value.
fn intersect(a: &[u64], b: &[u64]) -> bool {
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.cmp(y) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    false
}

/// The name of level `level` of `rule` (`missing`, `unknown` or the level's name).
pub fn level_name(rule: &ComparisonRule, level: u8) -> String {
    match level {
        MISSING => "missing".into(),
        UNKNOWN => "unknown".into(),
        l => rule
            .level_names
            .get(usize::from(l))
            .cloned()
            .unwrap_or_else(|| format!("level {l}")),
    }
}
