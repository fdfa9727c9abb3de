//! Singling out (attack 7): the share of records that their encodings alone make unique, with
//! every token column together and column by column. A unique record can be followed across
//! extracts and linked with outside knowledge even when none of its values is recovered.

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::columns::NONE;
use super::target::Target;

/// Unique records of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnUniqueness {
    /// The column.
    pub column: String,
    /// Records with a value.
    pub records: u64,
    /// Distinct values.
    pub distinct: u64,
    /// Share of the records with a value whose value no other record has.
    pub unique_share: f64,
    /// Share of the records holding the most frequent value.
    pub top_share: f64,
}

/// What singling out found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SinglingOut {
    /// Share of all records unique on all their token columns together.
    pub all_tokens_unique_share: f64,
    /// Share unique on all their token and filter columns together.
    pub all_columns_unique_share: f64,
    /// Per column.
    pub columns: Vec<ColumnUniqueness>,
}

fn unique_share(keys: impl Iterator<Item = Vec<u32>>) -> f64 {
    let mut counts: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
    let mut n = 0u64;
    let mut all = Vec::new();
    for k in keys {
        n += 1;
        *counts.entry(k.clone()).or_default() += 1;
        all.push(k);
    }
    if n == 0 {
        return 0.0;
    }
    all.iter().filter(|k| counts[*k] == 1).count() as f64 / n as f64
}

/// Measures singling out over the records of the audited extract (the first one).
pub fn measure(target: &Target<'_>) -> SinglingOut {
    let records: Vec<usize> = (0..target.columns.records())
        .filter(|&r| target.columns.input[r] == 0)
        .collect();
    let cols = &target.columns.columns;
    let key = |r: usize, filters_too: bool| -> Vec<u32> {
        target
            .meanings
            .columns
            .iter()
            .enumerate()
            .filter(|(_, m)| filters_too || m.filter().is_none())
            .flat_map(|(c, _)| {
                let of = cols[c].classes.of(r);
                if of.is_empty() {
                    vec![NONE]
                } else {
                    of.to_vec()
                }
            })
            .collect()
    };
    let all_tokens_unique_share = unique_share(records.iter().map(|&r| key(r, false)));
    let all_columns_unique_share = unique_share(records.iter().map(|&r| key(r, true)));
    let columns = target
        .meanings
        .columns
        .iter()
        .enumerate()
        .map(|(c, m)| {
            let classes = &cols[c].classes;
            let mut counts: FxHashMap<u32, u64> = FxHashMap::default();
            let mut with = 0u64;
            for &r in &records {
                let of = classes.of(r);
                if !of.is_empty() {
                    with += 1;
                }
                for &k in of {
                    *counts.entry(k).or_default() += 1;
                }
            }
            let unique = records
                .iter()
                .filter(|&&r| {
                    let of = classes.of(r);
                    !of.is_empty() && of.iter().all(|k| counts[k] == 1)
                })
                .count() as f64;
            let top = counts.values().copied().max().unwrap_or(0) as f64;
            let share = |x: f64| if with == 0 { 0.0 } else { x / with as f64 };
            ColumnUniqueness {
                column: m.name.clone(),
                records: with,
                distinct: counts.len() as u64,
                unique_share: share(unique),
                top_share: share(top),
            }
        })
        .collect();
    SinglingOut {
        all_tokens_unique_share,
        all_columns_unique_share,
        columns,
    }
}
