//! Known plaintext on tokens (attack 3): an insider who knows the cleartext of some records
//! gives each known value to every record that is provably equal on the attribute (its bridged
//! component), and, failing that, to records that share a class that only *suggests* it.
//!
//! - **Bridged** (3a): the component of a known record (records joined through every column that
//!   determines the attribute) shares its value; with several known records in a component the
//!   majority wins.
//! - **Suggested** (3b): classes that make the attribute likely without determining it: the
//!   bridged components of the field's coarser parts (the Soundex class of a name, the district
//!   of a postcode), the classes of columns that suggest it (set-valued variants), and the
//!   record's *profile* (its components of those parts together with its year of birth and sex).
//!   A record takes the majority known value of its smallest such class that holds a known
//!   record.
//!
//! Known records are guessed too, each without its own cleartext (leave-one-out), so that the
//! attacker can check the attack on them.

use rustc_hash::FxHashMap;

use super::columns::NONE;
use super::meaning::{Attribute, Part};
use super::score::{Board, Family};
use super::target::Target;
use super::values::KnownSet;

/// Per class, the known values with their counts (classes with no known record absent).
type Tally = FxHashMap<u32, Vec<(u32, u32)>>;

fn tally(classes: &[u32], known: &KnownSet, a: usize) -> Tally {
    let mut t: Tally = FxHashMap::default();
    for &r in &known.list {
        let (c, v) = (classes[r], known.values[a][r]);
        if c == NONE || v == NONE {
            continue;
        }
        let list = t.entry(c).or_default();
        match list.iter_mut().find(|(x, _)| *x == v) {
            Some(e) => e.1 += 1,
            None => list.push((v, 1)),
        }
    }
    t
}

/// The majority of `list` (ties by value number), leaving out one occurrence of `without`.
fn majority(list: &[(u32, u32)], without: u32) -> Option<(u32, u32)> {
    list.iter()
        .map(|&(v, n)| (v, if v == without { n - 1 } else { n }))
        .filter(|&(_, n)| n > 0)
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
}

/// Each record's majority known value of its class (leave-one-out for known records).
fn propagate(classes: &[u32], known: &KnownSet, a: usize) -> Vec<u32> {
    let t = tally(classes, known, a);
    classes
        .iter()
        .enumerate()
        .map(|(r, &c)| {
            let own = if known.known[r] {
                known.values[a][r]
            } else {
                NONE
            };
            t.get(&c)
                .and_then(|list| majority(list, own))
                .map_or(NONE, |m| m.0)
        })
        .collect()
}

/// The class systems that suggest attribute `a`: (name, class of each record).
fn suggesting(target: &Target<'_>, a: usize) -> Vec<(String, Vec<u32>)> {
    let values = target.values;
    let attr = values.attributes[a].attribute;
    let Some(field) = target.schema.fields.get(attr.field) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut coarser = Vec::new();
    for &part in Part::of_kind(field.kind) {
        let b = Attribute {
            field: attr.field,
            part,
        };
        // Only parts that do not determine `a` (those are bridges already).
        if b == attr || b.closure(target.schema).contains(&attr) {
            continue;
        }
        if let Some(i) = values.position(b) {
            out.push((
                format!("components of {}", values.attributes[i].name),
                target.components[i].clone(),
            ));
            coarser.push(i);
        }
    }
    for c in target.meanings.suggesting(attr) {
        let m = &target.meanings.columns[c];
        if !m.single_valued() {
            // A set-valued cell: each record's smallest class.
            let classes = &target.columns.columns[c].classes;
            let smallest = (0..target.columns.records())
                .map(|r| {
                    classes
                        .of(r)
                        .iter()
                        .copied()
                        .min_by_key(|&k| (classes.sizes[k as usize], k))
                        .unwrap_or(NONE)
                })
                .collect();
            out.push((format!("classes of {}", m.name), smallest));
        }
    }
    // The profile: the coarser parts' components with the year of birth and sex.
    let mut profile_parts = coarser;
    for (i, v) in values.attributes.iter().enumerate() {
        let kind = target.schema.fields.get(v.attribute.field).map(|f| f.kind);
        let useful = matches!(
            (kind, v.attribute.part),
            (Some(crate::schema::FieldKind::Date), Part::Year)
                | (Some(crate::schema::FieldKind::Sex), Part::Whole)
        );
        if useful && v.attribute.field != attr.field {
            profile_parts.push(i);
        }
    }
    if profile_parts.len() > 1 {
        let mut index: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
        let profile = (0..target.columns.records())
            .map(|r| {
                let key: Vec<u32> = profile_parts
                    .iter()
                    .map(|&i| target.components[i][r])
                    .collect();
                if key.iter().all(|&k| k == NONE) {
                    return NONE;
                }
                let next = index.len() as u32;
                *index.entry(key).or_insert(next)
            })
            .collect();
        let names: Vec<&str> = profile_parts
            .iter()
            .map(|&i| values.attributes[i].name.as_str())
            .collect();
        out.push((format!("profile of {}", names.join(" + ")), profile));
    }
    out
}

fn sizes(classes: &[u32]) -> FxHashMap<u32, u32> {
    let mut s = FxHashMap::default();
    for &c in classes {
        if c != NONE {
            *s.entry(c).or_default() += 1;
        }
    }
    s
}

/// Runs known plaintext on tokens for every known set and attribute.
pub fn run(target: &Target<'_>, board: &mut Board) {
    for known in target.knowns {
        for (a, values) in target.values.attributes.iter().enumerate() {
            if values.records_with_truth() == 0 {
                continue;
            }
            // 3a: bridged components.
            let bridged = propagate(&target.components[a], known, a);
            let f = target.finding(
                Family::KnownBridged,
                a,
                Some(known),
                "a known value given to its bridged component".to_string(),
                target.bridge_names(a),
                &bridged,
            );
            target.record_knowing(board, known, f, bridged);
            // 3b: the smallest suggesting class with a known record.
            let systems = suggesting(target, a);
            if systems.is_empty() {
                continue;
            }
            let tallies: Vec<Tally> = systems
                .iter()
                .map(|(_, classes)| tally(classes, known, a))
                .collect();
            let class_sizes: Vec<FxHashMap<u32, u32>> =
                systems.iter().map(|(_, c)| sizes(c)).collect();
            let n = target.columns.records();
            let guesses: Vec<u32> = (0..n)
                .map(|r| {
                    let own = if known.known[r] {
                        known.values[a][r]
                    } else {
                        NONE
                    };
                    let mut best: Option<(u32, u32)> = None; // (size, value)
                    for (s, (_, classes)) in systems.iter().enumerate() {
                        let c = classes[r];
                        if c == NONE {
                            continue;
                        }
                        let Some(m) = tallies[s].get(&c).and_then(|l| majority(l, own)) else {
                            continue;
                        };
                        let size = class_sizes[s].get(&c).copied().unwrap_or(u32::MAX);
                        if best.is_none_or(|b| size < b.0) {
                            best = Some((size, m.0));
                        }
                    }
                    best.map_or(NONE, |b| b.1)
                })
                .collect();
            let f = target.finding(
                Family::KnownSuggested,
                a,
                Some(known),
                "majority known value of the smallest suggesting class".to_string(),
                systems.iter().map(|s| s.0.clone()).collect(),
                &guesses,
            );
            target.record_knowing(board, known, f, guesses);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(values: Vec<u32>) -> KnownSet {
        let list: Vec<usize> = (0..values.len()).filter(|&r| values[r] != NONE).collect();
        KnownSet {
            label: String::new(),
            k: list.len(),
            known: values.iter().map(|&v| v != NONE).collect(),
            list,
            values: vec![values],
        }
    }

    #[test]
    fn known_values_spread_to_their_class_by_majority_leaving_one_out() {
        // Class 0: records 0-3, two known as 7 and one as 8. Class 1: records 4-5, one known.
        let classes = [0, 0, 0, 0, 1, 1, NONE];
        let k = known(vec![7, 7, 8, NONE, 9, NONE, 9]);
        let g = propagate(&classes, &k, 0);
        // Record 0 (known 7): the others are 7 and 8, a tie broken by the smaller value.
        assert_eq!(g, vec![7, 7, 7, 7, NONE, 9, NONE]);
        assert_eq!(majority(&[(3, 1)], 3), None);
        assert_eq!(majority(&[(3, 2), (4, 2)], NONE), Some((3, 2)));
    }
}
