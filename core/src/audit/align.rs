//! Frequency alignment (attacks 1 and 2): equal encodings are equal values, so the attacker
//! ranks classes of equal cells by size and gives the i-th largest the i-th most frequent
//! reference value (Kuzu et al. 2011; Christen et al. 2017).
//!
//! - **Column alignment** (1): the classes of one column that determines the attribute (a token,
//!   a whole filter), on the whole file and within each group of a low-cardinality column
//!   (aligned with that group's reference frequencies, the group's label being told).
//! - **Bridged alignment** (2): the components of every column that determines the attribute
//!   ([`bridges`](super::bridges)), likewise.
//!
//! Classes beyond the last reference value, and the many small fragments that bridges leave
//! when they do not join a whole class, get the part's most frequent value. A second way to
//! align ([`classify`](super::classify)) gives each class the value most likely to have produced it: its size
//! must fit the value's expected count (a class cannot be larger than its value's class), and
//! the labels of its records in every group column (their years of birth, sex, districts...,
//! told to the attacker) must fit the value's profile in the reference (naive Bayes). Fragments
//! of one value then all get that value, where rank alignment gives most of them a wrong one.

use rustc_hash::FxHashMap;

use super::classify::Classifier;
use super::columns::NONE;
use super::score::{Board, Family};
use super::target::Target;

/// Gives each class the value of its rank: within each part (`parts[r]`, [`NONE`] for records
/// outside every part), classes are ranked by their number of records there (ties by class
/// number) and aligned with `ranking(part)`, or with `global` when the part has none.
pub fn align<'r>(
    classes: &[u32],
    parts: Option<&[u32]>,
    ranking: impl Fn(u32) -> Option<&'r [u32]>,
    global: &'r [u32],
) -> Vec<u32> {
    let part_of = |r: usize| parts.map_or(NONE, |p| p.get(r).copied().unwrap_or(NONE));
    let mut counts: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    for (r, &c) in classes.iter().enumerate() {
        if c != NONE {
            *counts.entry((part_of(r), c)).or_default() += 1;
        }
    }
    let mut ordered: Vec<(u32, u32, u32)> =
        counts.into_iter().map(|((p, c), n)| (p, c, n)).collect();
    ordered.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.2.cmp(&a.2)).then(a.1.cmp(&b.1)));
    let mut value: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    let mut i = 0;
    while i < ordered.len() {
        let part = ordered[i].0;
        let list = if part == NONE {
            global
        } else {
            ranking(part).unwrap_or(global)
        };
        let mut rank = 0;
        while i < ordered.len() && ordered[i].0 == part {
            // Past the last value, the most frequent one is the best guess.
            if let Some(&v) = list.get(rank).or(list.first()) {
                value.insert((part, ordered[i].1), v);
            }
            rank += 1;
            i += 1;
        }
    }
    classes
        .iter()
        .enumerate()
        .map(|(r, &c)| {
            if c == NONE {
                NONE
            } else {
                value.get(&(part_of(r), c)).copied().unwrap_or(NONE)
            }
        })
        .collect()
}

/// Runs column and bridged alignment against every attribute, on the whole file and within
/// every allowed group.
pub fn run(target: &Target<'_>, board: &mut Board) {
    for (a, values) in target.values.attributes.iter().enumerate() {
        if values.records_with_truth() == 0 || values.ranked.is_empty() {
            continue;
        }
        let global = values.ranked.as_slice();
        let classifier = Classifier::new(target, a);
        // (family, how, columns, classes)
        let mut sources: Vec<(Family, String, Vec<String>, &[u32])> = Vec::new();
        for c in target.meanings.determining(values.attribute) {
            if target.singles[c].is_empty() {
                continue;
            }
            let name = target.meanings.columns[c].name.clone();
            sources.push((
                Family::FrequencyAlignment,
                format!("classes of {name}"),
                vec![name],
                &target.singles[c],
            ));
        }
        if target.bridges[a].len() + target.extra_bridges[a].len() > 1 {
            sources.push((
                Family::BridgedAlignment,
                "components of every determining column".to_string(),
                target.bridge_names(a),
                &target.components[a],
            ));
        }
        let bridged = sources.iter().any(|s| s.0 == Family::BridgedAlignment);
        for (family, how, cols, classes) in sources {
            // Classification is costly: of the bridged components (which contain every
            // column's classes), or of the one column when nothing bridges.
            let classified = family == Family::BridgedAlignment || !bridged;
            // Without known records to check its variants, the attacker prefers rank
            // alignment when there are about as many classes as values, and classification
            // when the classes are fragments (many more classes than values).
            let n_classes = {
                let mut seen: Vec<u32> = classes.iter().copied().filter(|&c| c != NONE).collect();
                seen.sort_unstable();
                seen.dedup();
                seen.len()
            };
            let fragmented = n_classes > 2 * global.len();
            let (whole_prior, grouped_prior, classified_prior) =
                if fragmented { (1, 2, 3) } else { (3, 2, 1) };
            let guesses = align(classes, None, |_| None, global);
            let mut f = target.finding(
                family,
                a,
                None,
                format!("{how}, whole file"),
                cols.clone(),
                &guesses,
            );
            f.prior = whole_prior;
            target.record_unknowing(board, f, guesses);
            if let Some(guesses) = classifier
                .as_ref()
                .filter(|_| classified)
                .map(|c| c.classify(target, classes, &[]))
            {
                let groups: Vec<String> = target
                    .groups
                    .iter()
                    .enumerate()
                    .filter(|(g, _)| target.group_allowed(*g, a))
                    .map(|(_, g)| g.name.clone())
                    .collect();
                let mut f = target.finding(
                    family,
                    a,
                    None,
                    format!("{how}, each classified by its size and its records' groups"),
                    cols.iter().cloned().chain(groups).collect(),
                    &guesses,
                );
                f.prior = classified_prior;
                target.record_unknowing(board, f, guesses);
            }
            for (g, group) in target.groups.iter().enumerate() {
                if !target.group_allowed(g, a) || cols.contains(&group.name) {
                    continue;
                }
                let guesses = align(
                    classes,
                    Some(&group.of_record),
                    |p| {
                        let label = group
                            .label_of_group
                            .get(p as usize)
                            .copied()
                            .unwrap_or(NONE);
                        if label == NONE {
                            None
                        } else {
                            target.ranking(g, a, label)
                        }
                    },
                    global,
                );
                let mut f = target.finding(
                    family,
                    a,
                    None,
                    format!("{how}, within groups of {}", group.name),
                    cols.iter().cloned().chain([group.name.clone()]).collect(),
                    &guesses,
                );
                f.prior = grouped_prior;
                target.record_unknowing(board, f, guesses);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_aligned_by_size_within_parts() {
        // Class 5 is the largest overall; within part 1, class 6 is.
        let classes = [5, 5, 5, 6, 6, NONE, 6, 5];
        let parts = [0, 0, 0, 1, 1, 1, 1, 1];
        let global = [10u32, 20];
        let g = align(&classes, None, |_| None, &global);
        assert_eq!(g, vec![10, 10, 10, 20, 20, NONE, 20, 10]);
        let part1 = [30u32, 40];
        let g = align(
            &classes,
            Some(&parts),
            |p| if p == 1 { Some(&part1[..]) } else { None },
            &global,
        );
        assert_eq!(g, vec![10, 10, 10, 30, 30, NONE, 30, 40]);
        // More classes than values: the rest get the most frequent value.
        let g = align(&[0, 1, 2], None, |_| None, &global);
        assert_eq!(g, vec![10, 20, 10]);
    }
}
