//! How much of an encoded extract could an attacker re-identify? (`pseudolink audit`)
//!
//! The attacker holds the encoded file and a public list of name frequencies ([`public`]). For
//! every name column (exact token, Bloom filter, Soundex and initial tokens) the audit runs the
//! frequency-alignment attack of [`attack`] on the whole file and within each group of records
//! that share a low-cardinality token (a year of birth, a sex: the likely salts), and estimates
//! the share of records it re-identifies; with the agency's cleartext ([`truth`]) it also measures
//! it. It reports the concentration of every token column and the bit statistics of every filter
//! column ([`stats`]), and a verdict against a risk limit. `docs/security.md` explains the attack
//! and the hardening options that defeat it.
//!
//! ```
//! use pseudolink::audit::attack::{estimate, ranked};
//! // Five records of one name, three of another: ranked counts line up with the public list.
//! let counts: Vec<u64> = ranked([1u128, 1, 1, 1, 1, 2, 2, 2]).iter().map(|c| c.1).collect();
//! let public = vec![("oliver".to_string(), 50), ("amelia".to_string(), 30)];
//! assert!(estimate(&counts, &public) > 4.0);
//! ```

pub mod attack;
pub mod public;
mod report;
pub mod stats;
pub mod truth;

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::encode::layout::{Layout, Slot};
use crate::error::Result;
use crate::io::encoded::{read_encoded, EncodedExtract, ReadOptions};
use crate::schema::{Schema, Transform as Level};

use attack::{blind_share, estimate, estimate_grouped, measure, measure_grouped, ranked, Key};
use public::{NameKind, PublicNames};
use stats::{filter_key, BitStats, Concentration};
use truth::Truth;

/// Default risk limit: the audit fails when more than this share of the records could be
/// re-identified by name.
pub const DEFAULT_MAX_RISK: f64 = 0.01;

/// Token columns with at most this many distinct values are tried as groups.
pub const MAX_GROUPS: u64 = 2000;

/// ... and only if their groups hold this many records on average: in smaller groups
/// frequencies show nothing, and a guess is blind.
pub const MIN_GROUP_SIZE: u64 = 20;

/// Settings of an audit.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// The attacker's public name list.
    pub names: PublicNames,
    /// The audit fails above this estimated (or measured) share of re-identified records.
    pub max_risk: f64,
}

/// One attacked column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttackColumn {
    /// The column of the encoded extract.
    pub column: String,
    /// The public list it was aligned with (`first` or `last`).
    pub list: String,
    /// The level the column holds (`soundex`, `initial`), if not the whole name.
    pub level: Option<String>,
    /// Whether the column encodes the whole name (the verdict is about these).
    pub full_name: bool,
    /// Records with a value in the column.
    pub records: u64,
    /// Estimated share of those records the attack re-identifies beyond a blind guess (the
    /// most frequent public name for everyone).
    pub estimated_share: f64,
    /// How: `whole file` or `within groups of <column>`.
    pub estimated_by: String,
    /// Measured share re-identified beyond a blind guess, when the cleartext was given.
    pub measured_share: Option<f64>,
    /// Measured share re-identified in all (including what a blind guess gets right).
    pub measured_raw_share: Option<f64>,
    /// How the measured share was reached.
    pub measured_by: Option<String>,
}

/// One token column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenColumn {
    /// The column.
    pub column: String,
    /// Its concentration.
    pub concentration: Concentration,
}

/// One filter column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilterColumn {
    /// The column.
    pub column: String,
    /// Concentration of whole filters.
    pub concentration: Concentration,
    /// Bit statistics, if any filter was present.
    pub bits: Option<BitStats>,
}

/// The result of an audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    /// The encoded extract.
    pub input: String,
    /// Records in it.
    pub records: u64,
    /// Its schema's fingerprint.
    pub schema_fingerprint: String,
    /// Where the public name list came from.
    pub public_names: String,
    /// Whether the truth was known (`--cleartext`).
    pub measured: bool,
    /// The attacked columns.
    pub attacks: Vec<AttackColumn>,
    /// Every token column.
    pub tokens: Vec<TokenColumn>,
    /// Every filter column.
    pub filters: Vec<FilterColumn>,
    /// The risk: the largest estimated (or, when known, measured) share of records
    /// re-identified by whole name.
    pub risk: f64,
    /// The column behind [`risk`](Self::risk).
    pub riskiest_column: Option<String>,
    /// The limit.
    pub max_risk: f64,
    /// `risk <= max_risk`.
    pub pass: bool,
    /// Things to know (an unverified manifest...).
    pub warnings: Vec<String>,
}

/// Where a column's values come from.
struct ColumnInfo {
    name: String,
    field: Option<usize>,
    level: Option<Level>,
    is_block: bool,
    keys: Vec<Option<Key>>,
}

fn columns(layout: &Layout, extract: &EncodedExtract) -> Vec<ColumnInfo> {
    // A column of one key belongs to that key's field (and level); a filter of one field to it.
    let mut owner: HashMap<(bool, usize), (usize, Option<Level>)> = HashMap::new();
    for t in &layout.tokens {
        if let (Slot::Token(slot), [key]) = (t.slot, t.keys.as_slice()) {
            owner.insert((false, slot), (key.field, key.transform));
        }
    }
    let _ = &mut owner;
    layout
        .columns
        .iter()
        .map(|c| {
            let (is_bloom, slot) = match c.slot {
                Slot::Token(i) => (false, i),
                Slot::Set(i) => (false, usize::MAX - i),
                Slot::Bloom { index, .. } => (true, index),
            };
            let keys = extract
                .records
                .iter()
                .map(|r| {
                    if is_bloom {
                        r.blooms.get(slot)?.as_ref().map(filter_key)
                    } else {
                        r.tokens.get(slot)?.map(|t| u128::from_le_bytes(t.0))
                    }
                })
                .collect();
            let own = owner.get(&(is_bloom, slot));
            ColumnInfo {
                name: c.name.clone(),
                field: own.map(|o| o.0),
                level: own.and_then(|o| o.1),
                is_block: false,
                keys,
            }
        })
        .collect()
}

/// Audits the encoded extract at `path` (its manifest is checked when present); with
/// `cleartext`, the attack is also measured against the truth.
pub fn audit_file(
    path: &Path,
    schema: &Schema,
    cleartext: Option<&Path>,
    options: &AuditOptions,
) -> Result<AuditReport> {
    let extract = read_encoded(
        path,
        schema,
        ReadOptions {
            allow_unverified: true,
        },
    )?;
    let truth = cleartext.map(|p| Truth::read(p, schema)).transpose()?;
    Ok(audit_extract(&extract, schema, truth.as_ref(), options))
}

/// Audits an extract already in memory.
pub fn audit_extract(
    extract: &EncodedExtract,
    schema: &Schema,
    truth: Option<&Truth>,
    options: &AuditOptions,
) -> AuditReport {
    let layout = Layout::new(schema);
    let cols = columns(&layout, extract);
    let concentrations: Vec<Concentration> =
        cols.iter().map(|c| Concentration::of(&c.keys)).collect();
    let total = extract.records.len() as u64;
    let groups: Vec<usize> = cols
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            let k = &concentrations[*i];
            !c.is_block
                && c.field.is_some()
                && !layout.columns[*i].name.ends_with(".bloom")
                && (2..=MAX_GROUPS).contains(&k.distinct)
                && k.records * 2 >= total
                && k.records >= MIN_GROUP_SIZE * k.distinct
        })
        .map(|(i, _)| i)
        .collect();
    let mut attacks = Vec::new();
    let mut lists = Lists::default();
    for c in &cols {
        let Some(field) = c.field else { continue };
        let Some(kind) = NameKind::of_field(&schema.fields[field]) else {
            continue;
        };
        attacks.push(attack_column(
            c, &cols, &groups, kind, field, truth, extract, options, &mut lists,
        ));
    }
    let tokens = cols
        .iter()
        .zip(&concentrations)
        .zip(&layout.columns)
        .filter(|(_, col)| matches!(col.slot, Slot::Token(_)))
        .map(|((c, k), _)| TokenColumn {
            column: c.name.clone(),
            concentration: k.clone(),
        })
        .collect();
    let filters = layout
        .columns
        .iter()
        .zip(&concentrations)
        .filter_map(|(col, k)| match col.slot {
            Slot::Bloom { index, .. } => Some(FilterColumn {
                column: col.name.clone(),
                concentration: k.clone(),
                bits: BitStats::of(
                    extract
                        .records
                        .iter()
                        .filter_map(|r| r.blooms.get(index).and_then(Option::as_ref)),
                ),
            }),
            Slot::Token(_) | Slot::Set(_) => None,
        })
        .collect();
    let (risk, riskiest_column) = attacks
        .iter()
        .filter(|a: &&AttackColumn| a.full_name)
        .map(|a| {
            (
                a.measured_share.unwrap_or(0.0).max(a.estimated_share),
                &a.column,
            )
        })
        .fold((0.0, None), |(r, c), (s, col)| {
            if s > r {
                (s, Some(col.clone()))
            } else {
                (r, c)
            }
        });
    AuditReport {
        input: extract.path.display().to_string(),
        records: total,
        schema_fingerprint: schema.fingerprint().to_string(),
        public_names: options.names.source.clone(),
        measured: truth.is_some(),
        attacks,
        tokens,
        filters,
        risk,
        riskiest_column,
        max_risk: options.max_risk,
        pass: risk <= options.max_risk,
        warnings: extract.warnings.clone(),
    }
}

/// Ranked public lists by kind, group and level, computed once each.
type Lists = HashMap<(NameKind, Option<String>, Option<Level>), Vec<(String, u64)>>;

fn list<'l>(
    lists: &'l mut Lists,
    names: &PublicNames,
    kind: NameKind,
    group: Option<&str>,
    level: Option<Level>,
) -> &'l Vec<(String, u64)> {
    let group = group.filter(|g| names.has_group(kind, g));
    lists
        .entry((kind, group.map(str::to_string), level))
        .or_insert_with(|| names.ranked(kind, group, level))
}

#[allow(clippy::too_many_arguments)]
fn attack_column(
    c: &ColumnInfo,
    cols: &[ColumnInfo],
    groups: &[usize],
    kind: NameKind,
    field: usize,
    truth: Option<&Truth>,
    extract: &EncodedExtract,
    options: &AuditOptions,
    lists: &mut Lists,
) -> AttackColumn {
    let names = &options.names;
    let public = list(lists, names, kind, None, c.level).clone();
    let records = c.keys.iter().flatten().count() as u64;
    let blind = blind_share(&public);
    let share = |x: f64| {
        if records == 0 {
            0.0
        } else {
            (x / records as f64 - blind).max(0.0)
        }
    };
    let counts: Vec<u64> = ranked(c.keys.iter().flatten().copied())
        .iter()
        .map(|x| x.1)
        .collect();
    let mut est = (share(estimate(&counts, &public)), "whole file".to_string());
    let candidates: Vec<&ColumnInfo> = groups
        .iter()
        .map(|&g| &cols[g])
        .filter(|g| g.field != Some(field))
        .collect();
    for g in &candidates {
        let e = share(estimate_grouped(&c.keys, &g.keys, &public));
        if e > est.0 {
            est = (e, format!("within groups of {}", g.name));
        }
    }
    let measured = truth.map(|t| {
        let values = t.values(&extract.records, field, c.level);
        let global = measure(&c.keys, &values, &public);
        let mut best = (global.advantage(), global.share(), "whole file".to_string());
        for g in &candidates {
            // The strongest attacker: one who knows which group is which (the true year of
            // each year token) and holds the public list of that group when it has one.
            let mut label: HashMap<Key, String> = HashMap::new();
            if let Some(gf) = g.field {
                for (k, v) in g.keys.iter().zip(t.values(&extract.records, gf, g.level)) {
                    if let (Some(k), Some(v)) = (k, v) {
                        label.entry(*k).or_insert(v);
                    }
                }
            }
            let lists: HashMap<Key, Vec<(String, u64)>> = label
                .iter()
                .map(|(k, v)| (*k, list(lists, names, kind, Some(v), c.level).clone()))
                .collect();
            let o = measure_grouped(&c.keys, &values, &g.keys, |gk| {
                gk.and_then(|k| lists.get(&k).cloned())
                    .unwrap_or_else(|| public.clone())
            });
            if o.advantage() > best.0 {
                best = (
                    o.advantage(),
                    o.share(),
                    format!("within groups of {}", g.name),
                );
            }
        }
        best
    });
    AttackColumn {
        column: c.name.clone(),
        list: kind.as_str().to_string(),
        level: c.level.map(|l| l.as_str().to_string()),
        full_name: c.level.is_none(),
        records,
        estimated_share: est.0,
        estimated_by: est.1,
        measured_share: measured.as_ref().map(|m| m.0),
        measured_raw_share: measured.as_ref().map(|m| m.1),
        measured_by: measured.map(|m| m.2),
    }
}

impl AuditReport {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
