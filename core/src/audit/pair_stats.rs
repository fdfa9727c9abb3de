//! The pair statistics of the manifest as attack surface (encoding v3).
//!
//! The manifest the linkage unit receives holds, per extract, the counts of the **agreement
//! patterns** of every pair of a random sample of records (`encode::pair_stats`): which keys
//! agree *one by one* (the first name alone, sex alone, the postcode alone), which the tokens
//! never show, since every token holds several keys together. Two things make them more than
//! aggregates:
//!
//! - the random sample is the records of smallest **unkeyed** hash of their record id, and the
//!   ids are in the extract: the attacker knows exactly which records were sampled;
//! - a pattern says which token columns agree (a token agrees when all its keys do), and the
//!   attacker sees which token columns agree on every sampled pair.
//!
//! So the attacker sorts the sampled pairs by the token columns they agree on (their
//! *profile*), and the patterns by the profile they imply. Where every pattern of a profile has
//! some key agreeing, every pair of that profile agrees on that key: a **revealed agreement**
//! the tokens did not show (two records of one first name without the same date of birth, the
//! same sex...). Those pairs join the bridges of the key's attribute, and every attack uses
//! them. The counts of pairs of each profile check the inference: they equal the sum of its
//! patterns' counts when the attacker has placed the sample right.
//!
//! The household sample is chosen by a hash of the cleartext address, which the attacker cannot
//! compute per record; its patterns are only counted (small cells) in the report.

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::encode::pair_stats::{rank_of, Features, PairStats};
use crate::schema::Schema;

use super::columns::{Columns, NONE};
use super::meaning::{key_determines, Meanings};
use super::target::{Bridge, ExtraBridges};
use super::values::Values;

/// The classes of the sampled records in one column.
enum Cells<'a> {
    /// Single-valued: a class each ([`NONE`] when missing).
    Single(Vec<u32>),
    /// Set-valued: the classes of each.
    Sets(Vec<&'a [u32]>),
}

/// Pattern counts below this are small cells (a handful of pairs).
pub const SMALL_CELL: u64 = 5;

/// What the pair statistics of one extract gave away.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairStatsAttack {
    /// The extract (its position among the inputs).
    pub input: usize,
    /// Records in the random sample, as the manifest says.
    pub random_records: u64,
    /// Records the attacker placed in it by the unkeyed hash of their ids.
    pub placed_records: u64,
    /// Pairs of the random sample.
    pub random_pairs: u64,
    /// Distinct patterns in the random sample and in the household sample.
    pub patterns: u64,
    /// Patterns counted fewer than `SMALL_CELL` times.
    pub small_cells: u64,
    /// Profiles whose pairs the attacker counts as the patterns say (the placement checks).
    pub consistent_profiles: u64,
    /// Profiles in all.
    pub profiles: u64,
    /// Sampled pairs with an agreement revealed that no agreeing token column shows.
    pub revealed_pairs: u64,
    /// Per attribute: pairs bridged by a revealed agreement.
    pub revealed: Vec<(String, u64)>,
    /// Of the revealed pairs whose truth is known, the share that truly agree.
    pub truly_agree: Option<f64>,
    /// Why nothing was attempted, if so.
    pub skipped: Option<String>,
}

/// Per token column: the pattern bits of its keys (`None` when a key is not a feature).
fn column_bits(
    schema: &Schema,
    meanings: &Meanings,
    features: &Features,
) -> Vec<Option<Vec<usize>>> {
    meanings
        .columns
        .iter()
        .map(|m| {
            if m.keys.is_empty() {
                return None;
            }
            m.keys
                .iter()
                .map(|k| {
                    features
                        .keys
                        .iter()
                        .position(|f| f == k)
                        .map(|i| schema.fields.len() + i)
                })
                .collect()
        })
        .collect()
}

/// The profile a pattern implies: bit `i` set when the `i`-th token column agrees.
fn implied(bits: u128, cols: &[(usize, Vec<usize>)]) -> u128 {
    let mut out = 0u128;
    for (i, (_, keys)) in cols.iter().enumerate() {
        if keys.iter().all(|&b| bits >> b & 1 == 1) {
            out |= 1 << i;
        }
    }
    out
}

/// Runs the attack on every extract whose manifest brings pair statistics.
pub fn attack(
    schema: &Schema,
    meanings: &Meanings,
    columns: &Columns,
    values: &Values,
    stats: &[Option<&PairStats>],
) -> (ExtraBridges, Vec<PairStatsAttack>) {
    let mut extra = ExtraBridges::default();
    let mut out = Vec::new();
    for (e, stats) in stats.iter().enumerate() {
        let Some(stats) = stats else {
            continue;
        };
        out.push(one(schema, meanings, columns, values, e, stats, &mut extra));
    }
    (extra, out)
}

fn one(
    schema: &Schema,
    meanings: &Meanings,
    columns: &Columns,
    values: &Values,
    e: usize,
    stats: &PairStats,
    extra: &mut ExtraBridges,
) -> PairStatsAttack {
    let features = Features::new(schema);
    let mut report = PairStatsAttack {
        input: e,
        random_records: stats.random_records,
        placed_records: 0,
        random_pairs: stats.random_pairs,
        patterns: (stats.random.len() + stats.household.len()) as u64,
        small_cells: stats
            .random
            .iter()
            .chain(&stats.household)
            .filter(|p| p.count < SMALL_CELL)
            .count() as u64,
        consistent_profiles: 0,
        profiles: 0,
        revealed_pairs: 0,
        revealed: Vec::new(),
        truly_agree: None,
        skipped: None,
    };
    if features.names(schema) != stats.features {
        report.skipped = Some("the pattern bits are not the schema's features".into());
        return report;
    }
    // The token columns, at most 128 (one profile bit each).
    let cols: Vec<(usize, Vec<usize>)> = column_bits(schema, meanings, &features)
        .into_iter()
        .enumerate()
        .filter_map(|(c, b)| Some((c, b?)))
        .take(128)
        .collect();
    // The sample: the records of smallest id hash.
    let mut members: Vec<(u64, u32)> = (0..columns.records())
        .filter(|&r| columns.input[r] as usize == e)
        .map(|r| (rank_of(&columns.ids[r]), r as u32))
        .collect();
    members.sort_unstable();
    members.truncate(stats.random_records as usize);
    let sample: Vec<u32> = members.into_iter().map(|(_, r)| r).collect();
    report.placed_records = sample.len() as u64;
    let n = sample.len();
    // Per column, the classes of each sampled record: one (single-valued; NONE when missing)
    // or a slice (sets).
    let cells: Vec<Cells<'_>> = cols
        .iter()
        .map(|(c, _)| {
            let cl = &columns.columns[*c].classes;
            if meanings.columns[*c].single_valued() {
                Cells::Single(sample.iter().map(|&r| cl.single(r as usize)).collect())
            } else {
                Cells::Sets(sample.iter().map(|&r| cl.of(r as usize)).collect())
            }
        })
        .collect();
    let profile = |i: usize, j: usize| -> u128 {
        let mut p = 0u128;
        for (bit, cell) in cells.iter().enumerate() {
            let agree = match cell {
                Cells::Single(v) => v[i] != NONE && v[i] == v[j],
                Cells::Sets(v) => v[i].iter().any(|x| v[j].contains(x)),
            };
            if agree {
                p |= 1 << bit;
            }
        }
        p
    };
    // Pairs per observed profile; the pairs that agree on some column, kept (few).
    let (observed, agreeing) = (0..n)
        .into_par_iter()
        .fold(
            || (FxHashMap::<u128, u64>::default(), Vec::new()),
            |(mut m, mut keep), i| {
                for j in i + 1..n {
                    let p = profile(i, j);
                    *m.entry(p).or_default() += 1;
                    if p != 0 {
                        keep.push((i as u32, j as u32, p));
                    }
                }
                (m, keep)
            },
        )
        .reduce(
            || (FxHashMap::default(), Vec::new()),
            |(mut a, mut ka), (b, kb)| {
                for (k, v) in b {
                    *a.entry(k).or_default() += v;
                }
                ka.extend(kb);
                (a, ka)
            },
        );
    let mut agreeing = agreeing;
    agreeing.sort_unstable();
    // Patterns per implied profile: their count and the bits all of them set.
    let mut implied_by: FxHashMap<u128, (u64, u128)> = FxHashMap::default();
    for p in &stats.random {
        let bits = p.bits();
        let e = implied_by
            .entry(implied(bits, &cols))
            .or_insert((0, u128::MAX));
        e.0 += p.count;
        e.1 &= bits;
    }
    report.profiles = implied_by.len() as u64;
    // Keys revealed per consistent profile: set in every pattern, not shown by a token column
    // that agrees.
    let key_base = schema.fields.len();
    let mut revealing: FxHashMap<u128, Vec<usize>> = FxHashMap::default();
    for (&prof, &(count, all)) in &implied_by {
        if observed.get(&prof).copied() != Some(count) {
            continue;
        }
        report.consistent_profiles += 1;
        let shown: Vec<usize> = cols
            .iter()
            .enumerate()
            .filter(|(i, _)| prof >> i & 1 == 1)
            .flat_map(|(_, (_, keys))| keys.iter().copied())
            .collect();
        let keys: Vec<usize> = (0..features.keys.len())
            .filter(|&k| all >> (key_base + k) & 1 == 1 && !shown.contains(&(key_base + k)))
            .filter(|&k| key_determines(features.keys[k]).is_some())
            .collect();
        if !keys.is_empty() {
            revealing.insert(prof, keys);
        }
    }
    if revealing.is_empty() {
        return report;
    }
    // The attributes each revealed key bridges, with the columns that already show them.
    let mut bridges: FxHashMap<usize, Vec<(u32, u32)>> = FxHashMap::default();
    let mut truly = (0u64, 0u64);
    let mut revealed_pairs = 0u64;
    // Every pair of a revealing profile: those kept, or all of them when no agreement at all
    // reveals something (never seen).
    let pairs: Box<dyn Iterator<Item = (usize, usize, u128)> + '_> = if revealing.contains_key(&0) {
        Box::new((0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j, profile(i, j)))))
    } else {
        Box::new(
            agreeing
                .iter()
                .map(|&(i, j, p)| (i as usize, j as usize, p)),
        )
    };
    for (i, j, prof) in pairs {
        let Some(keys) = revealing.get(&prof) else {
            continue;
        };
        let (a, b) = (sample[i], sample[j]);
        let mut new = false;
        for &k in keys {
            let Some(attr) = key_determines(features.keys[k]) else {
                continue;
            };
            for at in attr.closure(schema) {
                let Some(pos) = values.position(at) else {
                    continue;
                };
                // Already shown by an agreeing column that determines it?
                let shown = cols.iter().enumerate().any(|(bit, (c, _))| {
                    prof >> bit & 1 == 1 && meanings.columns[*c].determines(at)
                });
                if shown {
                    continue;
                }
                new = true;
                bridges.entry(pos).or_default().push((a, b));
                if at == attr {
                    let t = &values.attributes[pos].truth;
                    let (x, y) = (t[a as usize], t[b as usize]);
                    if x != NONE && y != NONE {
                        truly.1 += 1;
                        if x == y {
                            truly.0 += 1;
                        }
                    }
                }
            }
        }
        if new {
            revealed_pairs += 1;
        }
    }
    report.revealed_pairs = revealed_pairs;
    if truly.1 > 0 {
        report.truly_agree = Some(truly.0 as f64 / truly.1 as f64);
    }
    let mut revealed: Vec<(usize, Vec<(u32, u32)>)> = bridges.into_iter().collect();
    revealed.sort_unstable_by_key(|(p, _)| *p);
    for (pos, pairs) in revealed {
        let attribute = values.attributes[pos].attribute;
        report
            .revealed
            .push((values.attributes[pos].name.clone(), pairs.len() as u64));
        extra.edges.push(Bridge {
            attribute,
            pairs,
            how: format!("pair statistics of input {}", e + 1),
        });
    }
    report
}
