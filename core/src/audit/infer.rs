//! What the attacker makes of all its attacks together.
//!
//! - **Combined**: per record, the guess of the family the attacker trusts most that has one.
//!   With known records it ranks the families by how often each was right on them (each known
//!   record guessed without its own cleartext); without, by a fixed order from exact to
//!   statistical (known bridges, filter lookups, pattern mining, nearest known filter, suggested
//!   classes, inference, bridged alignment, column alignment, graph matching).
//! - **Inference from parts**: the most frequent reference value consistent with the parts the
//!   combined attack recovered (a first name from its Soundex code and initial, with the year of
//!   birth and sex), backing off to fewer parts when the reference has no such value.
//! - **Whole record**: the combined guesses of every name, the date of birth and the postcode
//!   all right.

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::schema::FieldKind;

use super::classify::Classifier;
use super::columns::NONE;
use super::meaning::{Attribute, Part};
use super::score::{known_accuracy, Board, Family, Finding, Score};
use super::target::Target;
use super::values::KnownSet;

/// The fixed order of trust without known records.
const ORDER: [Family; 9] = [
    Family::KnownBridged,
    Family::KnownFilterLookup,
    Family::PatternMining,
    Family::NearestKnown,
    Family::KnownSuggested,
    Family::Inference,
    Family::BridgedAlignment,
    Family::FrequencyAlignment,
    Family::GraphMatching,
];

/// Whole-record re-identification in one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WholeRecord {
    /// Known records (`None`: none).
    pub k: Option<usize>,
    /// What a record must have right.
    pub attributes: Vec<String>,
    /// The count.
    pub score: Score,
}

fn combine(
    target: &Target<'_>,
    board: &Board,
    a: usize,
    scenario: Option<usize>,
    families: &[Family],
) -> (Vec<u32>, Vec<String>) {
    let mut picks: Vec<(Family, &super::score::Pick)> = families
        .iter()
        .filter_map(|&f| board.pick(f, a, scenario).map(|p| (f, p)))
        .filter(|(_, p)| p.guessed > 0)
        .collect();
    if scenario.is_some() {
        picks.sort_by(|x, y| {
            y.1.accuracy
                .unwrap_or(0.0)
                .total_cmp(&x.1.accuracy.unwrap_or(0.0))
                .then(
                    ORDER
                        .iter()
                        .position(|f| *f == x.0)
                        .cmp(&ORDER.iter().position(|f| *f == y.0)),
                )
        });
    }
    let n = target.columns.records();
    let mut out = vec![NONE; n];
    for (_, p) in &picks {
        for (r, o) in out.iter_mut().enumerate() {
            if *o == NONE {
                *o = p.guesses.get(r);
            }
        }
    }
    (
        out,
        picks.iter().map(|(f, _)| f.as_str().to_string()).collect(),
    )
}

/// The conditions used to infer attribute `a`: its field's other parts (finest first), then
/// the year of birth and sex.
fn conditions(target: &Target<'_>, a: usize) -> Vec<usize> {
    let values = target.values;
    let attr = values.attributes[a].attribute;
    let Some(field) = target.schema.fields.get(attr.field) else {
        return Vec::new();
    };
    let mut out: Vec<usize> = Part::of_kind(field.kind)
        .iter()
        .filter(|&&p| p != attr.part)
        .filter_map(|&part| {
            values.position(Attribute {
                field: attr.field,
                part,
            })
        })
        .collect();
    for (i, v) in values.attributes.iter().enumerate() {
        let kind = target.schema.fields.get(v.attribute.field).map(|f| f.kind);
        let wanted = matches!(
            (kind, v.attribute.part),
            (Some(FieldKind::Date), Part::Year) | (Some(FieldKind::Sex), Part::Whole)
        );
        if wanted && v.attribute.field != attr.field {
            out.push(i);
        }
    }
    out
}

/// Conditions at most in one inference.
const MAX_CONDITIONS: usize = 6;

/// A key of condition values.
type Key = [u32; MAX_CONDITIONS];

/// Per list of condition attributes: the most frequent value (and its count) for each key of
/// their reference values.
type Tables = FxHashMap<Vec<usize>, FxHashMap<Key, (u32, u64)>>;

fn table(target: &Target<'_>, a: usize, conds: &[usize]) -> FxHashMap<Key, (u32, u64)> {
    let values = target.values;
    let attr = &values.attributes[a];
    let mut counts: FxHashMap<(Key, u32), u64> = FxHashMap::default();
    'rows: for row in 0..values.reference_rows {
        let v = attr.reference[row];
        if v == NONE {
            continue;
        }
        let mut key = [NONE; MAX_CONDITIONS];
        for (k, &c) in key.iter_mut().zip(conds) {
            *k = values.attributes[c].reference[row];
            if *k == NONE {
                continue 'rows;
            }
        }
        *counts.entry((key, v)).or_default() += 1;
    }
    let mut best: FxHashMap<Key, (u32, u64)> = FxHashMap::default();
    for ((key, v), c) in counts {
        let e = best.entry(key).or_insert((v, c));
        let better = c > e.1
            || (c == e.1 && attr.vocab.strings[v as usize] < attr.vocab.strings[e.0 as usize]);
        if better {
            *e = (v, c);
        }
    }
    best
}

/// The most frequent value of `a` among reference rows agreeing with every guessed condition,
/// dropping the last conditions until some row agrees.
fn infer(
    target: &Target<'_>,
    a: usize,
    conds: &[usize],
    guesses: &[Vec<u32>],
    tables: &mut Tables,
) -> Vec<u32> {
    let conds = &conds[..conds.len().min(MAX_CONDITIONS)];
    let n = target.columns.records();
    (0..n)
        .map(|r| {
            let known: Vec<usize> = (0..conds.len())
                .filter(|&i| guesses[i][r] != NONE)
                .collect();
            for keep in (1..=known.len()).rev() {
                let used: Vec<usize> = known[..keep].iter().map(|&i| conds[i]).collect();
                let mut key = [NONE; MAX_CONDITIONS];
                for (k, &i) in key.iter_mut().zip(&known[..keep]) {
                    *k = guesses[i][r];
                }
                let t = tables
                    .entry(used)
                    .or_insert_with_key(|used| table(target, a, used));
                if let Some(&(v, _)) = t.get(&key) {
                    return v;
                }
            }
            NONE
        })
        .collect()
}

/// Runs the combined attack and inference for every scenario; returns the whole-record results.
pub fn run(target: &Target<'_>, board: &mut Board) -> Vec<WholeRecord> {
    let mut scenarios: Vec<Option<&KnownSet>> = vec![None];
    scenarios.extend(target.knowns.iter().map(Some));
    let attrs = target.values.attributes.len();
    let allowed = |known: Option<&KnownSet>, with_inference: bool| -> Vec<Family> {
        ORDER
            .iter()
            .copied()
            .filter(|f| {
                (with_inference || *f != Family::Inference) && (known.is_some() || !f.uses_known())
            })
            .collect()
    };
    // What each scenario recovered of every attribute before inference.
    let partial: Vec<Vec<Vec<u32>>> = scenarios
        .iter()
        .map(|known| {
            let families = allowed(*known, false);
            (0..attrs)
                .map(|a| combine(target, board, a, known.map(|k| k.k), &families).0)
                .collect()
        })
        .collect();
    // Attributes in parallel; their findings are recorded in attribute order.
    type Found = (Finding, Vec<u32>, Option<usize>, Option<f64>);
    let found: Vec<Vec<Found>> = (0..attrs)
        .into_par_iter()
        .map(|a| {
        let mut out: Vec<Found> = Vec::new();
        let values = &target.values.attributes[a];
        if values.attribute.part != Part::Whole || values.records_with_truth() == 0 {
            return out;
        }
        let conds = conditions(target, a);
        if conds.is_empty() {
            return out;
        }
        let classifier = Classifier::new(target, a);
        let mut tables = Tables::default();
        // Every subset of the field's other parts (a recovered part may be unreliable, and the
        // attacker cannot tell without known records), with the year of birth and sex.
        let (same, other): (Vec<usize>, Vec<usize>) = conds
            .iter()
            .partition(|&&c| target.values.attributes[c].attribute.field == values.attribute.field);
        // A part implied by another of the subset adds nothing (a Soundex code holds its
        // initial): such subsets are left out.
        let implied = |x: usize, y: usize| {
            let (ax, ay) = (
                target.values.attributes[x].attribute,
                target.values.attributes[y].attribute,
            );
            x != y && ax.closure(target.schema).contains(&ay)
        };
        let subsets: Vec<Vec<usize>> = (1u32..(1 << same.len()))
            .map(|mask| -> Vec<usize> {
                same.iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, &c)| c)
                    .collect()
            })
            .filter(|s| !s.iter().any(|&x| s.iter().any(|&y| implied(x, y))))
            .collect();
        // Inference needs a recovered part of the field itself (the year of birth and sex alone
        // say little of a name, nothing of an address).
        if subsets.is_empty() {
            return out;
        }
        for (known, partial) in scenarios.iter().zip(&partial) {
            let scenario = known.map(|k| k.k);
            for subset in &subsets {
                // Without known records, the attacker trusts coarse recovered parts (an
                // initial, at most 100 values) more than fine ones (a Soundex code).
                let coarse = subset
                    .iter()
                    .all(|&c| target.values.attributes[c].ranked.len() <= 100);
                let mut record = |how: String, columns: Vec<String>, guesses: Vec<u32>| {
                    let mut f =
                        target.finding(Family::Inference, a, *known, how, columns, &guesses);
                    f.prior = u8::from(coarse);
                    let accuracy = known.map(|k| known_accuracy(a, &guesses, k));
                    out.push((f, guesses, scenario, accuracy));
                };
                let names = |list: &[usize]| -> Vec<String> {
                    list.iter()
                        .map(|&c| target.values.attributes[c].name.clone())
                        .collect()
                };
                if let (Some(classifier), false) = (&classifier, subset.is_empty()) {
                    // The components classified among values with the recovered parts (the
                    // review's "whole first name within year of birth, after the initial").
                    let constraints: Vec<(usize, &[u32])> =
                        subset.iter().map(|&c| (c, partial[c].as_slice())).collect();
                    let guesses = classifier.classify(target, &target.components[a], &constraints);
                    record(
                        format!(
                            "bridged components classified by size and groups among values with the recovered {}",
                            names(subset).join(", ")
                        ),
                        target.bridge_names(a),
                        guesses,
                    );
                }
                let used: Vec<usize> = subset.iter().chain(&other).copied().collect();
                let cond_guesses: Vec<Vec<u32>> =
                    used.iter().map(|&c| partial[c].clone()).collect();
                let guesses = infer(target, a, &used, &cond_guesses, &mut tables);
                record(
                    format!(
                        "most frequent reference value given the recovered {}",
                        names(&used).join(", ")
                    ),
                    names(&used),
                    guesses,
                );
            }
        }
        out
        })
        .collect();
    for (f, guesses, scenario, accuracy) in found.into_iter().flatten() {
        board.add(f, guesses, &[(scenario, accuracy)]);
    }
    let mut whole = Vec::new();
    for known in &scenarios {
        let scenario = known.map(|k| k.k);
        let families = allowed(*known, true);
        let mut combined: Vec<Vec<u32>> = Vec::with_capacity(attrs);
        for a in 0..attrs {
            let (guesses, used) = combine(target, board, a, scenario, &families);
            if target.values.attributes[a].records_with_truth() > 0 && !used.is_empty() {
                let f = target.finding(
                    Family::Combined,
                    a,
                    *known,
                    format!("per record, the first guess of: {}", used.join(" > ")),
                    Vec::new(),
                    &guesses,
                );
                board.add(f, guesses.clone(), &[]);
            }
            combined.push(guesses);
        }
        whole.push(whole_record(target, *known, &combined));
    }
    whole
}

/// The combined guesses of each record, attribute by attribute.
fn combined_by_record(combined: &[Vec<u32>], n: usize) -> impl Iterator<Item = Vec<u32>> + '_ {
    (0..n).map(move |r| combined.iter().map(|g| g[r]).collect())
}

fn whole_record(
    target: &Target<'_>,
    known: Option<&KnownSet>,
    combined: &[Vec<u32>],
) -> WholeRecord {
    let values = target.values;
    let parts: Vec<usize> = values
        .attributes
        .iter()
        .enumerate()
        .filter(|(_, v)| {
            v.attribute.part == Part::Whole
                && matches!(
                    target.schema.fields.get(v.attribute.field).map(|f| f.kind),
                    Some(FieldKind::Name | FieldKind::Date | FieldKind::Postcode)
                )
        })
        .map(|(i, _)| i)
        .collect();
    let needed: Vec<usize> = parts
        .iter()
        .copied()
        .filter(|&i| {
            matches!(
                target
                    .schema
                    .fields
                    .get(values.attributes[i].attribute.field)
                    .map(|f| f.kind),
                Some(FieldKind::Date | FieldKind::Postcode)
            )
        })
        .collect();
    // The blind guess: the most frequent reference combination.
    let mut combos: FxHashMap<Vec<u32>, u64> = FxHashMap::default();
    for row in 0..values.reference_rows {
        let key: Vec<u32> = parts
            .iter()
            .map(|&i| values.attributes[i].reference[row])
            .collect();
        *combos.entry(key).or_default() += 1;
    }
    let blind = combos
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|x| x.0)
        .unwrap_or_default();
    let mut s = Score::default();
    for (r, row) in combined_by_record(combined, target.columns.records()).enumerate() {
        if known.is_some_and(|k| k.known[r]) {
            continue;
        }
        let truth: Vec<u32> = parts
            .iter()
            .map(|&i| values.attributes[i].truth[r])
            .collect();
        let has_name = parts
            .iter()
            .zip(&truth)
            .any(|(&i, &t)| t != NONE && !needed.contains(&i));
        if !has_name
            || needed
                .iter()
                .any(|&i| values.attributes[i].truth[r] == NONE)
        {
            continue;
        }
        s.records += 1;
        let mut guessed = true;
        let mut right = true;
        for (&i, &t) in parts.iter().zip(&truth) {
            if t == NONE {
                continue;
            }
            let g = row[i];
            guessed &= g != NONE;
            right &= g == t;
        }
        s.guessed += u64::from(guessed);
        s.correct += u64::from(right);
        let blind_right = parts
            .iter()
            .zip(&truth)
            .zip(&blind)
            .all(|((_, &t), &b)| t == NONE || t == b);
        s.blind += u64::from(blind_right);
    }
    WholeRecord {
        k: known.map(|k| k.k),
        attributes: parts
            .iter()
            .map(|&i| values.attributes[i].name.clone())
            .collect(),
        score: s,
    }
}
