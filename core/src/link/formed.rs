//! The share of matches that blocking forms, estimated from the model itself.
//!
//! λ counts the matches among the candidate pairs; a match that shares no blocking token is never
//! compared, so it is not counted. The model can say how many such matches there are: under its
//! own assumption (comparisons independent given a match), the chance that a match satisfies a
//! set of blocking rules is a product over the comparisons.
//!
//! **Conditions.** A blocking rule holds for a pair when it agrees on every key of the rule's
//! token. A crossed rule (`first_name|last_name+date_of_birth`) joins on the unordered pair of
//! its two columns, so it holds when both columns agree (its keys and its crossed key) or when
//! they meet crosswise (the crossed level, and its other keys): two conditions.
//!
//! **Each comparison's share of a condition.** Each key of a condition is read by the first
//! comparison with a level implying it ([`Comparator::levels_implying`]; a crossing, by a crossed
//! level of the two keys). For one comparison, a match:
//! - is missing (no field on both sides) with the probability estimated below: then every
//!   condition with a key of this comparison fails;
//! - else reaches level `l` with probability m(`l`) (the atomic levels: the tested levels and
//!   `else`): a condition's keys of this comparison all agree when `l` implies each of them.
//!
//! A level that does not imply a key may still agree on it (a first name one edit away often has
//! the same Soundex code): counted as not agreeing, so the share errs low and the total high, by
//! little when other rules form such pairs anyway. A key that no comparison reads is taken to
//! agree for every match, and said so in [`Formed::assumptions`].
//!
//! **Missing.** m describes the pairs whose comparison has a field on both sides; how often a
//! match has none is estimated from the candidate pairs, each weighted by its match probability,
//! among the pairs formed by some rule that reads none of the comparison's fields (so that
//! blocking did not select them for having it). A comparison with no such rule is taken to be
//! present in every match, and said so.
//!
//! **The share** is the probability that at least one condition holds: the distribution of the set
//! of conditions holding (a bit mask) is built one comparison at a time, each outcome of a
//! comparison keeping the conditions it allows, which needs no inclusion-exclusion over the
//! subsets of rules and is exact under the independence assumption.

use std::collections::BTreeMap;

use crate::schema::{Key, Schema};

use super::compare::Comparator;
use super::em::Patterns;
use super::levels::MISSING;

/// Most condition sets the computation keeps apart before giving up (an estimate of 1 then).
const MAX_STATES: usize = 1 << 20;

/// The share of matches blocking forms, and what it assumed.
#[derive(Debug, Clone, PartialEq)]
pub struct Formed {
    /// The estimated probability that a match satisfies some blocking rule, in (0, 1].
    pub share: f64,
    /// What the estimate had to assume, one sentence each.
    pub assumptions: Vec<String>,
}

/// What one key of a condition asks of a pair.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Need {
    /// Agreement on a key.
    Agree(Key),
    /// The two keys meet crosswise.
    Cross(Key, Key),
}

/// The conditions of the blocking rules (rules beyond the 64th are not tracked by the patterns
/// and are left out, as training leaves them out).
fn conditions(schema: &Schema) -> Vec<Vec<Need>> {
    let mut out = Vec::new();
    for rule in schema.link.blocking.iter().take(64) {
        let keys: Vec<Key> = rule
            .keys
            .iter()
            .filter_map(|k| schema.parse_key(k))
            .collect();
        match &rule.cross {
            Some([a, b]) => {
                let (Some(a), Some(b)) = (schema.parse_key(a), schema.parse_key(b)) else {
                    continue;
                };
                let mut both: Vec<Need> = keys.iter().map(|k| Need::Agree(*k)).collect();
                both.push(Need::Agree(b));
                out.push(both);
                let mut crossed: Vec<Need> = keys
                    .iter()
                    .filter(|k| **k != a)
                    .map(|k| Need::Agree(*k))
                    .collect();
                crossed.push(Need::Cross(a, b));
                out.push(crossed);
            }
            None => out.push(keys.into_iter().map(Need::Agree).collect()),
        }
    }
    out
}

/// The fields each blocking rule reads (bits), for the first 64 rules.
fn rule_fields(schema: &Schema) -> Vec<u32> {
    schema
        .link
        .blocking
        .iter()
        .take(64)
        .map(|rule| {
            rule.keys
                .iter()
                .chain(rule.cross.iter().flatten())
                .filter_map(|k| schema.parse_key(k))
                .fold(0u32, |m, k| m | super::pool::bit(k.field))
        })
        .collect()
}

/// The share of matches blocking forms, given the model's m (per comparison, per level) and each
/// pattern's match probability `posterior`.
pub fn formed_share(
    schema: &Schema,
    comparator: &Comparator,
    patterns: &Patterns,
    m: &[Vec<f64>],
    posterior: &[f64],
) -> Formed {
    let conds = conditions(schema);
    let mut assumptions = Vec::new();
    if conds.is_empty() || conds.len() > 128 {
        return Formed {
            share: 1.0,
            assumptions: vec!["no blocking rule could be read: every match taken as formed".into()],
        };
    }
    let rules = comparator.rules();
    // Per comparison, per condition: the tested levels allowing it (None: no key of it here).
    let mut allowed: Vec<Vec<Option<u64>>> = vec![vec![None; conds.len()]; rules.len()];
    for (j, cond) in conds.iter().enumerate() {
        for need in cond {
            let reading = rules.iter().enumerate().find_map(|(c, rule)| {
                let bits = match *need {
                    Need::Agree(k) => comparator.levels_implying(rule, k),
                    Need::Cross(a, b) => comparator.levels_crossing(rule, a, b),
                };
                (bits != 0).then_some((c, bits))
            });
            match reading {
                Some((c, bits)) => {
                    let slot = &mut allowed[c][j];
                    *slot = Some(slot.unwrap_or(u64::MAX) & bits);
                }
                None => {
                    let name = match *need {
                        Need::Agree(k) => schema.key_name(k),
                        Need::Cross(a, b) => {
                            format!("{} crosswise {}", schema.key_name(a), schema.key_name(b))
                        }
                    };
                    let note = format!(
                        "{name}: no comparison level implies it, taken to agree for every match"
                    );
                    if !assumptions.contains(&note) {
                        assumptions.push(note);
                    }
                }
            }
        }
    }
    let fields = rule_fields(schema);
    let all: u128 = if conds.len() == 128 {
        u128::MAX
    } else {
        (1u128 << conds.len()) - 1
    };
    let mut states: BTreeMap<u128, f64> = BTreeMap::from([(all, 1.0)]);
    for (c, rule) in rules.iter().enumerate() {
        if allowed[c].iter().all(Option::is_none) {
            continue;
        }
        let missing = match missing_share(patterns, posterior, &fields, c, rule.fields) {
            Some(p) => p,
            None => {
                assumptions.push(format!(
                    "{}: every blocking rule reads its fields, so how often a match lacks them cannot be estimated; taken as present in every match",
                    rule.name
                ));
                0.0
            }
        };
        // Outcomes: each atomic level (tested levels, then else) and missing.
        let atomic: Vec<f64> = (0..=rule.tested)
            .map(|l| m.get(c).and_then(|x| x.get(l)).copied().unwrap_or(0.0))
            .collect();
        let total: f64 = atomic.iter().sum();
        let mut outcomes: BTreeMap<u128, f64> = BTreeMap::new();
        for (l, p) in atomic.iter().enumerate() {
            let keeps = allowed[c]
                .iter()
                .enumerate()
                .filter(|(_, a)| a.is_none_or(|bits| l < rule.tested && bits & (1u64 << l) != 0))
                .fold(0u128, |mask, (j, _)| mask | (1u128 << j));
            let share = if total > 0.0 { p / total } else { 0.0 };
            *outcomes.entry(keeps).or_insert(0.0) += (1.0 - missing) * share;
        }
        let keeps_missing = allowed[c]
            .iter()
            .enumerate()
            .filter(|(_, a)| a.is_none())
            .fold(0u128, |mask, (j, _)| mask | (1u128 << j));
        *outcomes.entry(keeps_missing).or_insert(0.0) += missing;
        let mut next: BTreeMap<u128, f64> = BTreeMap::new();
        for (s, p) in &states {
            for (o, q) in &outcomes {
                *next.entry(s & o).or_insert(0.0) += p * q;
            }
        }
        if next.len() > MAX_STATES {
            return Formed {
                share: 1.0,
                assumptions: vec![
                    "too many combinations of blocking rules to follow: every match taken as formed"
                        .into(),
                ],
            };
        }
        states = next;
    }
    let share: f64 = states
        .iter()
        .filter(|(s, _)| **s != 0)
        .map(|(_, p)| p)
        .sum();
    // Tiny or undefined shares would blow the total up: keep the candidate count then.
    let share = if share.is_finite() && share > 1e-3 {
        share.min(1.0)
    } else {
        assumptions.push(format!(
            "the estimated share ({share}) is too small to scale by: every match taken as formed"
        ));
        1.0
    };
    Formed { share, assumptions }
}

/// How often a match lacks comparison `c` (none of `fields` on both sides): the share of missing
/// among the candidate pairs formed by some rule reading none of `fields`, each weighted by its
/// match probability; `None` when no such rule holds a likely match.
fn missing_share(
    patterns: &Patterns,
    posterior: &[f64],
    rule_fields: &[u32],
    c: usize,
    fields: u32,
) -> Option<f64> {
    let others = rule_fields
        .iter()
        .enumerate()
        .filter(|(_, f)| **f & fields == 0)
        .fold(0u64, |mask, (r, _)| mask | (1u64 << r));
    let (mut missing, mut all) = (0.0, 0.0);
    for (i, (&rules, &count)) in patterns.rules.iter().zip(&patterns.counts).enumerate() {
        if rules & others == 0 {
            continue;
        }
        let w = posterior.get(i).copied().unwrap_or(0.0) * count as f64;
        all += w;
        if patterns.vector(i).get(c) == Some(&MISSING) {
            missing += w;
        }
    }
    (all >= 1.0).then(|| missing / all)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// The example schema blocking on `rules` only.
    fn schema(rules: serde_json::Value) -> Schema {
        let mut json: serde_json::Value = serde_json::from_str(Schema::example_json()).unwrap();
        json["link"]["blocking"] = rules;
        Schema::from_json(&json.to_string()).unwrap()
    }

    /// m putting `exact` of each named comparison at the given probability, the rest on `else`.
    fn m_of(comparator: &Comparator, exact: &[(&str, f64)]) -> Vec<Vec<f64>> {
        comparator
            .rules()
            .iter()
            .map(|r| {
                let p = exact
                    .iter()
                    .find(|(n, _)| *n == r.name)
                    .map_or(0.5, |(_, p)| *p);
                let mut m = vec![0.0; r.levels.len()];
                m[0] = p;
                m[r.tested] = 1.0 - p;
                m
            })
            .collect()
    }

    #[test]
    fn the_share_is_the_chance_some_rule_holds() {
        let schema = schema(serde_json::json!([
            ["nhs_number"],
            ["last_name", "date_of_birth"]
        ]));
        let comparator = Comparator::new(&schema, false).unwrap();
        let nf = comparator.n_fields();
        let nhs = comparator
            .rules()
            .iter()
            .position(|r| r.name == "nhs_number")
            .unwrap();
        // Half the matches formed by the second rule (which reads no NHS number) lack one.
        let mut without = vec![0u8; nf];
        without[nhs] = MISSING;
        let counts = HashMap::from([((without, 0b10), 100u64), ((vec![0u8; nf], 0b11), 100)]);
        let patterns = Patterns::from_counts(nf, counts);
        let m = m_of(
            &comparator,
            &[
                ("nhs_number", 0.9),
                ("last_name", 0.8),
                ("date_of_birth", 0.7),
            ],
        );
        let formed = formed_share(&schema, &comparator, &patterns, &m, &[1.0, 1.0]);
        // P(NHS number present and equal) = 0.5 × 0.9; P(surname and date equal) = 0.8 × 0.7.
        let expected = 1.0 - (1.0 - 0.5 * 0.9) * (1.0 - 0.8 * 0.7);
        assert!((formed.share - expected).abs() < 1e-12, "{formed:?}");
        assert!(formed.assumptions.is_empty(), "{formed:?}");
        // Unlikely matches weigh nothing in the missing share: when the pairs lacking the number
        // (the second pattern, patterns being sorted) are not matches, no match lacks it.
        let formed = formed_share(&schema, &comparator, &patterns, &m, &[1.0, 0.0]);
        let expected = 1.0 - (1.0 - 0.9) * (1.0 - 0.8 * 0.7);
        assert!((formed.share - expected).abs() < 1e-12, "{formed:?}");
    }

    #[test]
    fn a_crossed_rule_holds_straight_or_crosswise() {
        let schema = schema(serde_json::json!([
            {"keys": ["first_name", "date_of_birth"], "cross": ["first_name", "last_name"]}
        ]));
        let comparator = Comparator::new(&schema, false).unwrap();
        let nf = comparator.n_fields();
        let patterns = Patterns::from_counts(nf, HashMap::from([((vec![0u8; nf], 1), 10u64)]));
        let first = comparator
            .rules()
            .iter()
            .find(|r| r.name == "first_name")
            .unwrap();
        let crosswise = first
            .level_names
            .iter()
            .position(|n| n == "crosswise")
            .unwrap();
        let mut m = m_of(
            &comparator,
            &[
                ("first_name", 0.6),
                ("last_name", 0.5),
                ("date_of_birth", 0.9),
            ],
        );
        let f = comparator
            .rules()
            .iter()
            .position(|r| r.name == "first_name")
            .unwrap();
        m[f][crosswise] = 0.1;
        m[f][first.tested] = 0.3;
        let formed = formed_share(&schema, &comparator, &patterns, &m, &[1.0]);
        // Date of birth, and either both names (0.6 × 0.5) or the names crossed (0.1).
        let expected = 0.9 * (0.6 * 0.5 + 0.1);
        assert!((formed.share - expected).abs() < 1e-12, "{formed:?}");
    }
}
