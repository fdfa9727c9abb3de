//! Pair statistics: how often two records of one extract agree on each key, counted by the
//! agency while it encodes, for the linkage unit's u probabilities.
//!
//! The linkage unit cannot estimate u itself: every token of the default schema holds two or
//! more keys (a first name *with* a date of birth), so it never sees whether two random records
//! share a first name. The agency can, on its own cleartext: it samples records, compares every
//! pair of the sample on every key the schema's tokens use ([`Features`]), and counts the
//! distinct **agreement patterns** (which keys agree, which crossed keys agree, which fields
//! both records have, and the Dice coefficient of each filter). The counts go into the
//! manifest; they are aggregates (how many pairs of a few thousand records share a first name),
//! never a value. From them the linker computes the u of any comparison level built on those
//! keys, so the linkage settings can change without re-encoding (`docs/linking.md`).
//!
//! Two samples, both chosen by hashes so that the result does not depend on the order of the
//! rows or the number of threads:
//! - **random pairs**: the [`RANDOM_SAMPLE`] records of smallest keyed id hash ([`rank_of`]: the
//!   linkage unit cannot tell which records were sampled), every pair of them;
//! - **household pairs**: the records whose household key (the schema's `household` keys, e.g.
//!   house number, street and postcode) hashes below a threshold halved until at most
//!   [`HOUSEHOLD_SAMPLE`] records remain; every pair of records of one household.
//!
//! Values are reduced to unkeyed 64-bit hashes as soon as a record is sampled; no cleartext is
//! kept.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::schema::{Key, Schema};

use super::bloom::Bloom;
use super::value::Value;

/// Records in the random sample (every pair of them is compared: about 3.1 million pairs).
pub const RANDOM_SAMPLE: usize = 2500;

/// Most records in the household sample.
pub const HOUSEHOLD_SAMPLE: usize = 20_000;

/// Resolution of the Dice coefficients in patterns: hundredths.
pub const DICE_STEPS: u8 = 100;

/// Dice coefficients below this many [`DICE_STEPS`] (0.5) enter a pattern as 0. Random pairs
/// of values mostly fall below it, and at hundredths their coefficients would make nearly every
/// pair of a schema with several filters a pattern of its own: 3 million patterns of 31
/// features for the FEBRL4 schema's five filters, a manifest of 478 MB that took minutes to
/// read, publishing close to each sampled pair's agreements. A Dice level needs a threshold of
/// at least 0.5 (`Schema` validation), so no level reads below it.
pub const DICE_FLOOR: u8 = 50;

/// Most distinct patterns kept per sample. Past it, the Dice steps at or above [`DICE_FLOOR`]
/// are coarsened (to twentieths, tenths, quarters, then all to the floor) until the patterns
/// fit: a Dice level then reads its threshold against the step below, which can only
/// under-count agreeing pairs by the width of a step. Bits alone (present, agree, cross) are
/// never merged; a schema of 31 features gives some hundreds of bit patterns.
pub const MAX_PATTERNS: usize = 100_000;

/// The widths tried in turn when a sample has more than [`MAX_PATTERNS`] patterns.
const COARSER: [u8; 4] = [5, 10, 25, DICE_STEPS - DICE_FLOOR + 1];

/// What is compared in a pair: the schema's fields (both present?), its keys (agree?), its
/// crossed keys (agree either way round?) and its filters (Dice coefficient).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Features {
    /// Every key a token column uses, in a fixed order.
    pub keys: Vec<Key>,
    /// Pairs of keys hashed alike in otherwise equal token columns (`first_name` and
    /// `last_name` with `date_of_birth`): comparable crosswise.
    pub crosses: Vec<(Key, Key)>,
    /// The positions of each crossed pair's keys in `keys`.
    cross_at: Vec<(usize, usize)>,
    /// Number of fields.
    pub fields: usize,
    /// Number of filters.
    pub filters: usize,
}

impl Features {
    /// The features of `schema`.
    pub fn new(schema: &Schema) -> Features {
        let specs: Vec<Vec<Key>> = (0..schema.tokens.len())
            .map(|i| schema.token_keys(i))
            .collect();
        let mut keys: Vec<Key> = specs.iter().flatten().copied().collect();
        keys.sort();
        keys.dedup();
        let mut crosses = Vec::new();
        for (i, a) in specs.iter().enumerate() {
            for b in &specs[i + 1..] {
                if a.len() != b.len() || schema.signature(a) != schema.signature(b) {
                    continue;
                }
                let differ: Vec<(Key, Key)> = a
                    .iter()
                    .zip(b)
                    .filter(|(x, y)| x != y)
                    .map(|(x, y)| (*x, *y))
                    .collect();
                if let [(x, y)] = differ[..] {
                    if x.is_set() || y.is_set() {
                        continue;
                    }
                    let pair = if x < y { (x, y) } else { (y, x) };
                    if !crosses.contains(&pair) {
                        crosses.push(pair);
                    }
                }
            }
        }
        crosses.sort();
        let cross_at = crosses
            .iter()
            .filter_map(|(x, y)| {
                Some((
                    keys.iter().position(|k| k == x)?,
                    keys.iter().position(|k| k == y)?,
                ))
            })
            .collect();
        Features {
            keys,
            crosses,
            cross_at,
            fields: schema.fields.len(),
            filters: schema.filters.len(),
        }
    }

    /// Features of no keys: `fields` fields and `filters` filters (for tests of the sampling).
    #[cfg(test)]
    pub(crate) fn bare(fields: usize, filters: usize) -> Features {
        Features {
            keys: Vec::new(),
            crosses: Vec::new(),
            cross_at: Vec::new(),
            fields,
            filters,
        }
    }

    /// Features of exactly `keys` (no crosses, no filters): what cleartext linking compares.
    pub fn for_keys(schema: &Schema, keys: Vec<Key>) -> Features {
        Features {
            keys,
            crosses: Vec::new(),
            cross_at: Vec::new(),
            fields: schema.fields.len(),
            filters: 0,
        }
    }

    /// The names of the bits of a pattern, in order: `present:<field>`, then the keys, then
    /// `cross:<key>~<key>`.
    pub fn names(&self, schema: &Schema) -> Vec<String> {
        let mut out: Vec<String> = schema
            .fields
            .iter()
            .map(|f| format!("present:{}", f.name))
            .collect();
        out.extend(self.keys.iter().map(|k| schema.key_name(*k)));
        out.extend(
            self.crosses
                .iter()
                .map(|(a, b)| format!("cross:{}~{}", schema.key_name(*a), schema.key_name(*b))),
        );
        out
    }

    /// Number of bits of a pattern.
    pub fn bits(&self) -> usize {
        self.fields + self.keys.len() + self.crosses.len()
    }

    /// The hashed feature values of one record's normalised values (`None` for a missing one).
    pub fn values(&self, values: &[Option<Value>]) -> FeatureValues {
        let mut buf = Vec::new();
        let keys = self
            .keys
            .iter()
            .map(|k| {
                let v = values.get(k.field).and_then(Option::as_ref)?;
                let mut hashes = Vec::new();
                match k.transform {
                    None => hashes.push(hash64(v.canonical().as_bytes())),
                    Some(t) if t.is_set() => {
                        v.for_each_in_set(t, &mut buf, |b| hashes.push(hash64(b)));
                        hashes.sort_unstable();
                        hashes.dedup();
                    }
                    Some(t) => hashes.push(hash64(v.level(t)?.as_bytes())),
                }
                (!hashes.is_empty()).then_some(hashes)
            })
            .collect();
        FeatureValues {
            present: values.iter().map(Option::is_some).collect(),
            keys,
            blooms: Vec::new(),
        }
    }

    /// The bits of the agreement pattern of sampled records `a` and `b` (see [`Packed`]).
    #[inline]
    fn packed_bits(&self, p: &Packed, a: usize, b: usize) -> u128 {
        let mut bits = u128::from(p.present[a] & p.present[b]) & ((1u128 << self.fields) - 1);
        let mut n = self.fields;
        for k in 0..self.keys.len() {
            if p.agree(a, b, k) {
                bits |= 1 << n;
            }
            n += 1;
        }
        for &(i, j) in &self.cross_at {
            if p.agree_across(a, i, b, j) || p.agree_across(a, j, b, i) {
                bits |= 1 << n;
            }
            n += 1;
        }
        bits
    }

    /// The Dice hundredths of every filter of two records: 0 below [`DICE_FLOOR`], 255 when a
    /// side has none.
    fn dice(&self, a: &FeatureValues, b: &FeatureValues) -> Vec<u8> {
        (0..self.filters)
            .map(|f| match (a.blooms.get(f), b.blooms.get(f)) {
                (Some(Some(x)), Some(Some(y))) => dice_step(x.dice(y)),
                _ => u8::MAX,
            })
            .collect()
    }

    /// The agreement pattern of two records.
    pub fn pattern(&self, a: &FeatureValues, b: &FeatureValues) -> Pattern {
        let mut bits = 0u128;
        let mut n = 0;
        for i in 0..self.fields {
            if a.present.get(i).copied().unwrap_or(false)
                && b.present.get(i).copied().unwrap_or(false)
            {
                bits |= 1 << n;
            }
            n += 1;
        }
        for i in 0..self.keys.len() {
            if let (Some(Some(x)), Some(Some(y))) = (a.keys.get(i), b.keys.get(i)) {
                if intersect(x, y) {
                    bits |= 1 << n;
                }
            }
            n += 1;
        }
        fn value(r: &FeatureValues, k: usize) -> Option<&[u64]> {
            r.keys.get(k).and_then(|v| v.as_deref())
        }
        let agree = |p: Option<&[u64]>, q: Option<&[u64]>| match (p, q) {
            (Some(p), Some(q)) => intersect(p, q),
            _ => false,
        };
        for &(i, j) in &self.cross_at {
            if agree(value(a, i), value(b, j)) || agree(value(a, j), value(b, i)) {
                bits |= 1 << n;
            }
            n += 1;
        }
        Pattern {
            bits,
            dice: self.dice(a, b),
        }
    }
}

/// A Dice coefficient as it enters a pattern: the floor of its hundredths (nudged so that a
/// Dice of exactly 0.93 is step 93), or 0 below [`DICE_FLOOR`].
pub fn dice_step(dice: f64) -> u8 {
    let step = ((dice * f64::from(DICE_STEPS)) + 1e-9)
        .floor()
        .clamp(0.0, f64::from(DICE_STEPS)) as u8;
    if step < DICE_FLOOR {
        0
    } else {
        step
    }
}

/// Coarsens the Dice steps of `patterns` (see [`MAX_PATTERNS`]) until at most that many remain.
fn fit_patterns(mut patterns: BTreeMap<Pattern, u64>) -> BTreeMap<Pattern, u64> {
    for width in COARSER {
        if patterns.len() <= MAX_PATTERNS {
            break;
        }
        let mut coarse = BTreeMap::new();
        for (mut p, count) in patterns {
            for d in &mut p.dice {
                if *d != u8::MAX && *d >= DICE_FLOOR {
                    *d = DICE_FLOOR + (*d - DICE_FLOOR) / width * width;
                }
            }
            *coarse.entry(p).or_default() += count;
        }
        patterns = coarse;
    }
    patterns
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

/// First 8 bytes of the (unkeyed) BLAKE3 of `bytes`.
fn hash64(bytes: &[u8]) -> u64 {
    let h = blake3::hash(bytes);
    let mut b = [0u8; 8];
    b.copy_from_slice(&h.as_bytes()[..8]);
    u64::from_le_bytes(b)
}

/// One sampled record's features: hashed values, never cleartext.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureValues {
    /// Per field: whether it has a value.
    pub present: Vec<bool>,
    /// Per feature key: its hashed value(s), sorted.
    pub keys: Vec<Option<Vec<u64>>>,
    /// Per filter: the record's filter.
    pub blooms: Vec<Option<Bloom>>,
}

/// The sampled records packed for fast comparison: per record its presence mask, its one-valued
/// keys' hashes (0 when missing) and its set keys' hashes, each set sorted.
struct Packed {
    /// Per key: whether it is a set key, and its position among the one-valued or set keys.
    slots: Vec<(bool, usize)>,
    n_single: usize,
    n_sets: usize,
    present: Vec<u32>,
    singles: Vec<u64>,
    /// Per record and set key: start and end in `elements`.
    ranges: Vec<(u32, u32)>,
    /// Per record and set key: a 256-bit signature (bit `e % 256` of each element), so that
    /// two sets without a common bit are known to be disjoint without a merge.
    signatures: Vec<[u64; 4]>,
    elements: Vec<u64>,
}

impl Packed {
    fn new(features: &Features, records: &[&FeatureValues]) -> Packed {
        let mut slots = Vec::with_capacity(features.keys.len());
        let (mut n_single, mut n_sets) = (0, 0);
        for k in &features.keys {
            if k.is_set() {
                slots.push((true, n_sets));
                n_sets += 1;
            } else {
                slots.push((false, n_single));
                n_single += 1;
            }
        }
        let mut p = Packed {
            slots,
            n_single,
            n_sets,
            present: Vec::with_capacity(records.len()),
            singles: vec![0; records.len() * n_single],
            ranges: vec![(0, 0); records.len() * n_sets],
            signatures: vec![[0; 4]; records.len() * n_sets],
            elements: Vec::new(),
        };
        for (r, v) in records.iter().enumerate() {
            let mask = v
                .present
                .iter()
                .enumerate()
                .filter(|(_, p)| **p)
                .fold(0u32, |m, (i, _)| m | (1u32 << i.min(31)));
            p.present.push(mask);
            for (k, &(set, at)) in p.slots.iter().enumerate() {
                let Some(Some(values)) = v.keys.get(k) else {
                    continue;
                };
                if set {
                    let start = p.elements.len() as u32;
                    p.elements.extend_from_slice(values);
                    p.ranges[r * n_sets + at] = (start, p.elements.len() as u32);
                    let sig = &mut p.signatures[r * n_sets + at];
                    for v in values {
                        let b = (v % 256) as usize;
                        sig[b / 64] |= 1u64 << (b % 64);
                    }
                } else {
                    // 0 stands for missing: a value hashing to 0 becomes 1.
                    p.singles[r * n_single + at] = values.first().copied().unwrap_or(0).max(1);
                }
            }
        }
        p
    }

    /// Whether records `a` and `b` agree on key `k`.
    #[inline]
    fn agree(&self, a: usize, b: usize, k: usize) -> bool {
        self.agree_across(a, k, b, k)
    }

    /// Whether key `ka` of record `a` agrees with key `kb` of record `b` (keys of one kind).
    #[inline]
    fn agree_across(&self, a: usize, ka: usize, b: usize, kb: usize) -> bool {
        let ((sa, pa), (sb, pb)) = (self.slots[ka], self.slots[kb]);
        match (sa, sb) {
            (false, false) => {
                let x = self.singles[a * self.n_single + pa];
                x != 0 && x == self.singles[b * self.n_single + pb]
            }
            (true, true) => {
                let (x, y) = (
                    self.signatures[a * self.n_sets + pa],
                    self.signatures[b * self.n_sets + pb],
                );
                if (x[0] & y[0]) | (x[1] & y[1]) | (x[2] & y[2]) | (x[3] & y[3]) == 0 {
                    return false;
                }
                let (s, e) = self.ranges[a * self.n_sets + pa];
                let (t, f) = self.ranges[b * self.n_sets + pb];
                intersect(
                    &self.elements[s as usize..e as usize],
                    &self.elements[t as usize..f as usize],
                )
            }
            _ => false,
        }
    }
}

/// An agreement pattern: the bits of [`Features::names`], and per filter the Dice coefficient
/// in hundredths (255 when a side has no filter).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pattern {
    /// Fields present on both sides, keys and crossed keys agreeing.
    pub bits: u128,
    /// Per filter.
    pub dice: Vec<u8>,
}

/// A sampled record: its rank (hash of its record id), its household hash, its features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampledRecord {
    /// Hash of the record id: the random sample keeps the smallest.
    pub rank: u64,
    /// Hash of the household key's values, when every one is present.
    pub household: Option<u64>,
    /// The features.
    pub values: FeatureValues,
}

/// Collects the two samples while records stream past, in bounded memory.
#[derive(Debug, Clone, Default)]
pub struct Sampler {
    random: BTreeMap<(u64, u64), SampledRecord>,
    household: BTreeMap<(u64, u64), SampledRecord>,
    /// Household hashes at or above this are not kept (halved when the sample is full).
    household_limit: u64,
    seq: u64,
}

impl Sampler {
    /// An empty sampler.
    pub fn new() -> Sampler {
        Sampler {
            household_limit: u64::MAX,
            ..Sampler::default()
        }
    }

    /// Whether a record of rank `rank` and household hash `household` would be kept now (so
    /// that an encoder computes features only for those).
    pub fn wants(&self, rank: u64, household: Option<u64>) -> bool {
        let random = self.random.len() < RANDOM_SAMPLE
            || self
                .random
                .keys()
                .next_back()
                .is_some_and(|&(r, _)| rank < r);
        random || household.is_some_and(|h| h < self.household_limit)
    }

    /// The thresholds a parallel encoder can copy: records outside them are not wanted.
    pub fn limits(&self) -> SampleLimits {
        SampleLimits {
            rank: if self.random.len() < RANDOM_SAMPLE {
                u64::MAX
            } else {
                self.random.keys().next_back().map_or(u64::MAX, |&(r, _)| r)
            },
            household: self.household_limit,
        }
    }

    /// Offers one record. Offer records in file order: ties between equal hashes are broken by
    /// the order of offering, so the samples do not depend on threads.
    pub fn offer(&mut self, record: SampledRecord) {
        self.seq += 1;
        let rank = record.rank;
        if let Some(h) = record.household.filter(|h| *h < self.household_limit) {
            self.household.insert((h, self.seq), record.clone());
            while self.household.len() > HOUSEHOLD_SAMPLE {
                self.household_limit /= 2;
                let limit = self.household_limit;
                self.household.retain(|&(h, _), _| h < limit);
            }
        }
        if self.random.len() < RANDOM_SAMPLE
            || self
                .random
                .keys()
                .next_back()
                .is_some_and(|&(r, _)| rank < r)
        {
            self.random.insert((rank, self.seq), record);
            if self.random.len() > RANDOM_SAMPLE {
                self.random.pop_last();
            }
        }
    }

    /// A sampler whose household sample starts at `level` halvings of its limit (see
    /// [`Sampler::household_level`]): the sampler of a whole extract encoded in parts, once the
    /// level of the whole is known ([`super::sample_parts::SampleCut`]).
    pub fn at_household_level(level: u32) -> Sampler {
        Sampler {
            household_limit: u64::MAX.checked_shr(level).unwrap_or(0),
            ..Sampler::default()
        }
    }

    /// How many times the household sample's limit has been halved: it keeps the households
    /// whose [`household_level`] is at least this.
    pub fn household_level(&self) -> u32 {
        self.household_limit.leading_zeros()
    }

    /// Takes in the records of `other`, a sampler of other records of the same extract: the
    /// result keeps what one sampler offered both streams would keep (the random sample is the
    /// records of smallest rank of both; the household limit is the lower of the two, halved
    /// again while the sample is too large), whatever the order of the merges.
    pub fn merge(&mut self, other: Sampler) {
        if other.household_limit < self.household_limit {
            let limit = other.household_limit;
            self.household_limit = limit;
            self.household.retain(|&(h, _), _| h < limit);
        }
        for record in other.into_records() {
            self.offer(record);
        }
    }

    /// The records this sampler keeps (each once, though it may be in both samples), in the
    /// order they were offered: what a part of an extract encoded in parts hands on
    /// ([`super::sample_parts`]).
    pub fn into_records(self) -> Vec<SampledRecord> {
        let mut by_seq: BTreeMap<u64, SampledRecord> = BTreeMap::new();
        for ((_, seq), record) in self.household.into_iter().chain(self.random) {
            by_seq.entry(seq).or_insert(record);
        }
        by_seq.into_values().collect()
    }

    /// Counts the patterns of every pair of the random sample and every pair of one household.
    ///
    /// Returns `None` as soon as `cancel` is set: the count takes a few seconds on one core.
    pub fn finish(
        self,
        schema: &Schema,
        features: &Features,
        cancel: Option<&std::sync::atomic::AtomicBool>,
    ) -> Option<PairStats> {
        let cancelled = || cancel.is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed));
        let sample: Vec<&FeatureValues> = self.random.values().map(|r| &r.values).collect();
        let random_pairs = (sample.len() * sample.len().saturating_sub(1) / 2) as u64;
        let packed = Packed::new(features, &sample);
        let with_dice = features.filters > 0;
        let random: BTreeMap<Pattern, u64> = (0..sample.len())
            .into_par_iter()
            .fold(
                rustc_hash::FxHashMap::<Pattern, u64>::default,
                |mut map, i| {
                    if cancelled() {
                        return map;
                    }
                    for j in i + 1..sample.len() {
                        let pattern = Pattern {
                            bits: features.packed_bits(&packed, i, j),
                            dice: if with_dice {
                                features.dice(sample[i], sample[j])
                            } else {
                                Vec::new()
                            },
                        };
                        *map.entry(pattern).or_default() += 1;
                    }
                    map
                },
            )
            .reduce(rustc_hash::FxHashMap::default, |mut x, y| {
                for (k, v) in y {
                    *x.entry(k).or_default() += v;
                }
                x
            })
            .into_iter()
            .collect();
        if cancelled() {
            return None;
        }
        let mut household: BTreeMap<Pattern, u64> = BTreeMap::new();
        let mut household_pairs = 0u64;
        let members: Vec<(u64, &FeatureValues)> = self
            .household
            .iter()
            .map(|(&(h, _), r)| (h, &r.values))
            .collect();
        let mut start = 0;
        while start < members.len() {
            let h = members[start].0;
            let end = members[start..]
                .iter()
                .position(|(x, _)| *x != h)
                .map_or(members.len(), |p| start + p);
            for i in start..end {
                for j in i + 1..end {
                    *household
                        .entry(features.pattern(members[i].1, members[j].1))
                        .or_default() += 1;
                    household_pairs += 1;
                }
            }
            start = end;
        }
        let random = fit_patterns(random);
        let household = fit_patterns(household);
        let pack = |m: BTreeMap<Pattern, u64>| {
            m.into_iter()
                .map(|(p, count)| PatternCount {
                    bits: format!("{:x}", p.bits),
                    dice: p.dice,
                    count,
                })
                .collect()
        };
        Some(PairStats {
            features: features.names(schema),
            random_records: sample.len() as u64,
            random_pairs,
            random: pack(random),
            household_records: members.len() as u64,
            household_pairs,
            household: pack(household),
        })
    }
}

/// Thresholds of a [`Sampler`] at one moment (see [`Sampler::limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleLimits {
    /// Records of rank at or above this are not wanted for the random sample.
    pub rank: u64,
    /// Households hashing at or above this are not wanted.
    pub household: u64,
}

impl SampleLimits {
    /// Whether a record may be wanted.
    pub fn wants(&self, rank: u64, household: Option<u64>) -> bool {
        rank < self.rank || household.is_some_and(|h| h < self.household)
    }
}

/// The hash a record is ranked by: a keyed hash of its record id, under a key derived from the
/// secret ([`crate::Encoder::sample_key`]). The ids are in the extract, so an unkeyed hash would
/// let the linkage unit tell which records were sampled and read agreements of theirs that no
/// token shows (the red team's pair-statistics attack, docs/attacks.md).
pub fn rank_of(key: &crate::secret::DerivedKey, id: &str) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&key.hasher().update(id.as_bytes()).finalize().as_bytes()[..8]);
    u64::from_le_bytes(b)
}

/// The hash of a record's household key, when all its values are present.
pub fn household_of(keys: &[Key], values: &[Option<Value>]) -> Option<u64> {
    if keys.is_empty() {
        return None;
    }
    let mut hasher = blake3::Hasher::new();
    for k in keys {
        let v = values.get(k.field).and_then(Option::as_ref)?;
        let text = match k.transform {
            None => Some(v.canonical()),
            Some(t) => v.level(t),
        }?;
        hasher.update(&(text.len() as u32).to_le_bytes());
        hasher.update(text.as_bytes());
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&hasher.finalize().as_bytes()[..8]);
    Some(u64::from_le_bytes(b))
}

/// The household level of a household hash: how many halvings of the household sample's limit
/// (from `u64::MAX`) still keep it (`h < u64::MAX >> level`); `None` for `u64::MAX`, which no
/// limit keeps. A sampler at level `k` ([`Sampler::household_level`]) keeps the households of
/// level `k` or more.
pub fn household_level(h: u64) -> Option<u32> {
    h.checked_add(1).map(u64::leading_zeros)
}

/// One agreement pattern and how many sampled pairs had it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatternCount {
    /// The bits (see [`Features::names`]), in hex.
    pub bits: String,
    /// Per filter, the Dice coefficient in hundredths, 0 below [`DICE_FLOOR`] (255: a side had
    /// none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dice: Vec<u8>,
    /// Pairs.
    pub count: u64,
}

impl PatternCount {
    /// The bits as a number.
    pub fn bits(&self) -> u128 {
        u128::from_str_radix(&self.bits, 16).unwrap_or(0)
    }
}

/// The pair statistics of one extract (in its manifest as `pair_stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairStats {
    /// The names of the pattern bits ([`Features::names`]), so that a reader can check them.
    pub features: Vec<String>,
    /// Records in the random sample.
    pub random_records: u64,
    /// Pairs compared among them.
    pub random_pairs: u64,
    /// Their patterns.
    pub random: Vec<PatternCount>,
    /// Records in the household sample.
    pub household_records: u64,
    /// Pairs of one household compared.
    pub household_pairs: u64,
    /// Their patterns.
    pub household: Vec<PatternCount>,
}

impl PairStats {
    /// Statistics of `records` (features of every record, in order), as a stream of offers
    /// would give them: for in-memory extracts.
    pub fn of_records<'a>(
        schema: &Schema,
        sample_key: &crate::secret::DerivedKey,
        records: impl IntoIterator<Item = (&'a str, Option<u64>, FeatureValues)>,
    ) -> PairStats {
        let features = Features::new(schema);
        let mut sampler = Sampler::new();
        for (id, household, values) in records {
            sampler.offer(SampledRecord {
                rank: rank_of(sample_key, id),
                household,
                values,
            });
        }
        sampler
            .finish(schema, &features, None)
            .expect("not cancelled")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dice_steps_are_hundredths_from_the_floor_up() {
        assert_eq!(dice_step(0.0), 0);
        assert_eq!(dice_step(0.31), 0);
        assert_eq!(dice_step(0.499), 0);
        assert_eq!(dice_step(0.5), 50);
        assert_eq!(dice_step(0.93), 93);
        assert_eq!(dice_step(1.0), 100);
    }

    /// Features of five filters and no keys, over the example schema's fields.
    fn filters_only(schema: &Schema, filters: usize) -> Features {
        Features {
            keys: Vec::new(),
            crosses: Vec::new(),
            cross_at: Vec::new(),
            fields: schema.fields.len(),
            filters,
        }
    }

    /// A filter of 1,024 bits with each bit set with probability 3/10 (a xorshift stream).
    fn random_bloom(state: &mut u64) -> Bloom {
        let words = (0..16)
            .map(|_| {
                (0..64).fold(0u64, |w, bit| {
                    *state ^= *state << 13;
                    *state ^= *state >> 7;
                    *state ^= *state << 17;
                    if *state % 10 < 3 {
                        w | (1 << bit)
                    } else {
                        w
                    }
                })
            })
            .collect();
        Bloom(words)
    }

    #[test]
    fn random_filters_do_not_make_every_pair_its_own_pattern() {
        // The FEBRL4 regression: five filters per record, Dice of random pairs about 0.3. At
        // hundredths nearly every one of the 3.1 million pairs was a pattern of its own.
        let schema = Schema::example();
        let features = filters_only(&schema, 5);
        let mut sampler = Sampler::new();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..RANDOM_SAMPLE as u64 {
            let blooms = (0..5).map(|_| Some(random_bloom(&mut state))).collect();
            sampler.offer(SampledRecord {
                rank: i,
                household: None,
                values: FeatureValues {
                    present: vec![true; schema.fields.len()],
                    keys: Vec::new(),
                    blooms,
                },
            });
        }
        let stats = sampler.finish(&schema, &features, None).unwrap();
        assert_eq!(stats.random_pairs, 3_123_750);
        assert_eq!(stats.random.len(), 1, "{:?}", &stats.random[..2]);
        assert_eq!(stats.random[0].dice, vec![0; 5]);
        assert_eq!(stats.random[0].count, 3_123_750);
    }

    #[test]
    fn too_many_patterns_coarsen_the_dice_steps_and_keep_every_pair() {
        let mut patterns = BTreeMap::new();
        for a in DICE_FLOOR..=DICE_STEPS {
            for b in DICE_FLOOR..=DICE_STEPS {
                for c in DICE_FLOOR..=DICE_STEPS {
                    patterns.insert(
                        Pattern {
                            bits: 1,
                            dice: vec![a, b, c, u8::MAX],
                        },
                        2u64,
                    );
                }
            }
        }
        let before = patterns.len();
        assert!(before > MAX_PATTERNS);
        let fitted = fit_patterns(patterns);
        assert_eq!(fitted.len(), 11 * 11 * 11);
        assert_eq!(fitted.values().sum::<u64>(), 2 * before as u64);
        for p in fitted.keys() {
            assert!(p.dice[..3]
                .iter()
                .all(|d| (d - DICE_FLOOR).is_multiple_of(5)));
            assert_eq!(p.dice[3], u8::MAX);
        }
        // Few enough: unchanged.
        let small: BTreeMap<Pattern, u64> = [(
            Pattern {
                bits: 3,
                dice: vec![93],
            },
            1,
        )]
        .into();
        assert_eq!(fit_patterns(small.clone()), small);
    }
}
