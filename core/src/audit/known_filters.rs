//! Known plaintext on filters (attack 4), per salt group.
//!
//! - **Lookup** (4a): each q-gram's bits are learnt as the AND of the known filters holding it;
//!   the predicted filter of every candidate (the dictionary and the known values) is looked up
//!   in every filter, exactly or as the nearest by Dice among candidates whose learnt q-grams are
//!   all present (one q-gram never seen may be missing).
//! - **Nearest known record** (4b): the value of the known filter most similar to the filter.
//!
//! A Dice guess is made only above a threshold the attacker calibrates on its own known records,
//! leaving each out in turn ([`calibrate`]): never on the truth.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::columns::{Classes, NONE};
use super::filters::FilterColumn;
use super::grams::{calibrate, Lookup, Scratch, Table};
use super::lsh::{dice_of, intersection, Index, MinHash};
use super::score::{Board, Family};
use super::target::Target;
use super::values::KnownSet;

/// Known records tried leave-one-out to calibrate the lookup's threshold.
pub const CALIBRATION_SAMPLE: usize = 300;

/// Groups with more known records than this use LSH for the nearest known record.
const BRUTE_FORCE_KNOWN: usize = 256;

/// One guess: record, candidate or known record, Dice, exact.
type Hit = (u32, u32, f64, bool);

/// The first record of every class among `members` that pass `keep`, and for each of them the
/// other records of its class (equal filters need one lookup).
fn distinct(
    classes: &Classes,
    members: &[u32],
    keep: impl Fn(u32) -> bool,
) -> (Vec<u32>, FxHashMap<u32, Vec<u32>>) {
    let mut first: FxHashMap<u32, u32> = FxHashMap::default();
    let mut firsts = Vec::new();
    let mut copies: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for &r in members.iter().filter(|&&r| keep(r)) {
        let c = classes.single(r as usize);
        match first.get(&c) {
            Some(&f) if c != NONE => copies.entry(f).or_default().push(r),
            _ => {
                first.insert(c, r);
                firsts.push(r);
            }
        }
    }
    (firsts, copies)
}

/// The hits of the first records given to the other records of their class.
fn spread<T: Copy>(
    found: &[(u32, u32, T, bool)],
    copies: &FxHashMap<u32, Vec<u32>>,
) -> Vec<(u32, u32, T, bool)> {
    let mut out = Vec::with_capacity(found.len());
    for &(r, c, d, e) in found {
        out.push((r, c, d, e));
        if let Some(list) = copies.get(&r) {
            out.extend(list.iter().map(|&o| (o, c, d, e)));
        }
    }
    out
}

/// Runs 4a and 4b on every filter column for every known set.
pub fn run(target: &Target<'_>, board: &mut Board) {
    for c in 0..target.meanings.columns.len() {
        let Some(base) = FilterColumn::new(target, c) else {
            continue;
        };
        for known in target.knowns {
            let mut col = base.clone();
            lookup(target, &mut col, known, board);
            nearest(target, &col, known, board);
        }
    }
}

fn lookup(target: &Target<'_>, col: &mut FilterColumn<'_>, known: &KnownSet, board: &mut Board) {
    // Known records with their q-grams; their values become candidates too.
    let mut known_grams: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    let mut tuples: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
    for (i, v) in col.candidates.values.iter().enumerate() {
        tuples.entry(v.clone()).or_insert(i as u32);
    }
    for &r in &known.list {
        if col.filters.get(r).is_none() || col.salt_group[r] == NONE {
            continue;
        }
        let Some(grams) = col.known_grams(target, known, r) else {
            continue;
        };
        let tuple = col.known_tuple(known, r);
        if !tuples.contains_key(&tuple) {
            tuples.insert(tuple.clone(), col.candidates.len() as u32);
            col.candidates.push(tuple, grams.clone(), 0);
        }
        known_grams.insert(r as u32, grams);
    }
    col.candidates.index(col.vocab.len());
    let groups = col.groups();
    let words = col.filters.words;
    let col = &*col;
    let classes = &target.columns.columns[col.column].classes;
    // The bits a q-gram adds to a filter of average fill: its positions not already set.
    let present: Vec<f64> = (0..col.filters.len())
        .filter(|&r| col.filters.get(r).is_some())
        .map(|r| f64::from(col.filters.weight[r]))
        .collect();
    let fill = present.iter().sum::<f64>() / (present.len().max(1) * col.filters.bits()) as f64;
    let hashes = col
        .meaning
        .fields
        .iter()
        .map(|f| f64::from(f.1))
        .sum::<f64>()
        / col.meaning.fields.len().max(1) as f64;
    let unknown_bits = hashes * (1.0 - fill);
    // Distinct positions of one q-gram (its positions may collide), rounded down.
    let raw = f64::from(col.meaning.raw_bits);
    let own_bits = (raw * (1.0 - (1.0 - 1.0 / raw).powf(hashes))).floor() as usize;
    // Per group: the table, the guesses of unknown records, and leave-one-out trials.
    let sample_every = (known_grams.len() / CALIBRATION_SAMPLE).max(1);
    let results: Vec<(Vec<Hit>, Vec<Hit>)> = groups
        .par_iter()
        .map(|members| {
            let learnt: Vec<u32> = members
                .iter()
                .copied()
                .filter(|r| known_grams.contains_key(r))
                .collect();
            if learnt.is_empty() {
                return (Vec::new(), Vec::new());
            }
            let table = Table::learn(
                words,
                learnt.iter().filter_map(|&r| {
                    Some((r, col.filters.get(r as usize)?, known_grams[&r].as_slice()))
                }),
            );
            let lookup = Lookup::new(&table, &col.candidates, 2, own_bits, unknown_bits);
            // Equal filters (a household's address) are looked up once.
            let (firsts, copies) = distinct(classes, members, |r| !known.known[r as usize]);
            let found: Vec<Hit> = firsts
                .par_iter()
                .map_init(Scratch::default, |scratch, &r| {
                    let f = col.filters.get(r as usize)?;
                    let m = lookup.best(&table, f, None, scratch)?;
                    Some((r, m.candidate, m.dice, m.exact))
                })
                .flatten()
                .collect();
            let hits = spread(&found, &copies);
            let sample: Vec<u32> = learnt
                .iter()
                .copied()
                .filter(|&r| (r as usize).is_multiple_of(sample_every))
                .collect();
            let trials: Vec<Hit> = sample
                .par_iter()
                .map_init(Scratch::default, |scratch, &r| {
                    let f = col.filters.get(r as usize)?;
                    let changed = table.without(r, &known_grams[&r], |o| {
                        col.filters.get(o as usize).map(<[u64]>::to_vec)
                    });
                    let m = lookup.best(&table, f, Some(&changed), scratch)?;
                    Some((r, m.candidate, m.dice, m.exact))
                })
                .flatten()
                .collect();
            (hits, trials)
        })
        .collect();
    let truth_of = |r: u32| col.known_tuple(known, r as usize);
    let mut trials: Vec<(f64, bool)> = results
        .iter()
        .flat_map(|(_, t)| t.iter())
        .map(|&(r, c, d, exact)| {
            let right = col.candidates.values[c as usize] == truth_of(r);
            (if exact { 2.0 } else { d }, right)
        })
        .collect();
    let threshold = calibrate(&mut trials);
    let n = target.columns.records();
    let mut guessed: Vec<Option<Vec<u32>>> = vec![None; n];
    for (hits, loo) in &results {
        for &(r, c, d, exact) in hits.iter().chain(loo.iter()) {
            if exact || d >= threshold {
                guessed[r as usize] = Some(col.candidates.values[c as usize].clone());
            }
        }
    }
    let tables = results.iter().filter(|(h, _)| !h.is_empty()).count();
    let how = format!(
        "q-gram bits learnt from known filters in {tables} salt group(s); {} candidates; exact, or best fit >= {} (calibrated leave-one-out on {} known records)",
        col.candidates.len(),
        if threshold > 1.0 { "none".to_string() } else { format!("{threshold:.2}") },
        trials.len()
    );
    for (i, guesses) in col.split(&guessed).into_iter().enumerate() {
        let a = col.slots[i];
        let f = target.finding(
            Family::KnownFilterLookup,
            a,
            Some(known),
            how.clone(),
            vec![col.name.clone()],
            &guesses,
        );
        target.record_knowing(board, known, f, guesses);
    }
}

fn nearest(target: &Target<'_>, col: &FilterColumn<'_>, known: &KnownSet, board: &mut Board) {
    let groups = col.groups();
    let classes = &target.columns.columns[col.column].classes;
    let filters = col.filters;
    let hash = MinHash::new(filters.bits(), 24, 3, 0x4e45_4152);
    let results: Vec<Vec<(u32, u32, f64)>> = groups
        .par_iter()
        .map(|members| {
            let known_members: Vec<u32> = members
                .iter()
                .copied()
                .filter(|&r| {
                    known.known[r as usize]
                        && col
                            .slots
                            .iter()
                            .any(|&s| known.values[s][r as usize] != NONE)
                })
                .collect();
            if known_members.is_empty() {
                return Vec::new();
            }
            let index = (known_members.len() > BRUTE_FORCE_KNOWN)
                .then(|| Index::new(&hash, filters, &known_members, 100));
            // Unknown records with equal filters need one search; known ones each their own
            // (leave-one-out).
            let (firsts, copies) = distinct(classes, members, |r| !known.known[r as usize]);
            let queries: Vec<u32> = firsts
                .iter()
                .copied()
                .chain(known_members.iter().copied())
                .collect();
            let found: Vec<(u32, u32, f64, bool)> = queries
                .par_iter()
                .map_init(
                    || (Vec::new(), Vec::new()),
                    |(keys, cands): &mut (Vec<Option<u64>>, Vec<u32>), &r| {
                        let f = filters.get(r as usize)?;
                        let wr = filters.weight[r as usize];
                        cands.clear();
                        match &index {
                            Some(ix) => {
                                ix.candidates(&hash, f, keys, |o| cands.push(o));
                                cands.sort_unstable();
                                cands.dedup();
                            }
                            None => cands.extend_from_slice(&known_members),
                        }
                        let mut best: Option<(u32, f64)> = None;
                        for &o in cands.iter() {
                            if o == r {
                                continue;
                            }
                            let Some(g) = filters.get(o as usize) else {
                                continue;
                            };
                            let d = dice_of(intersection(f, g), wr, filters.weight[o as usize]);
                            if best.is_none_or(|b| d > b.1 || (d == b.1 && o < b.0)) {
                                best = Some((o, d));
                            }
                        }
                        best.map(|(o, d)| (r, o, d, false))
                    },
                )
                .flatten()
                .collect();
            spread(&found, &copies)
                .into_iter()
                .map(|(r, o, d, _)| (r, o, d))
                .collect()
        })
        .collect();
    let mut trials: Vec<(f64, bool)> = results
        .iter()
        .flatten()
        .filter(|(r, _, _)| known.known[*r as usize])
        .map(|&(r, o, d)| {
            (
                d,
                col.known_tuple(known, r as usize) == col.known_tuple(known, o as usize),
            )
        })
        .collect();
    let threshold = calibrate(&mut trials);
    let n = target.columns.records();
    let mut guessed: Vec<Option<Vec<u32>>> = vec![None; n];
    for &(r, o, d) in results.iter().flatten() {
        if d >= threshold {
            guessed[r as usize] = Some(col.known_tuple(known, o as usize));
        }
    }
    let how = format!(
        "value of the most similar known filter in the salt group, Dice >= {} (calibrated leave-one-out on {} known records)",
        if threshold > 1.0 { "none".to_string() } else { format!("{threshold:.2}") },
        trials.len()
    );
    for (i, guesses) in col.split(&guessed).into_iter().enumerate() {
        let a = col.slots[i];
        let f = target.finding(
            Family::NearestKnown,
            a,
            Some(known),
            how.clone(),
            vec![col.name.clone()],
            &guesses,
        );
        target.record_knowing(board, known, f, guesses);
    }
}
