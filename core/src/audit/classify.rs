//! Classes classified by likelihood: each class of records known to share a value gets the
//! value that best explains it (a variant of frequency alignment that tolerates fragments).
//!
//! The score of value `v` for a class of `s` records is
//! `log P(v) + w Σ_records Σ_groups log P(label | v) + log P(X ≥ s)`, `X ~ Poisson(λ_v)`:
//! the reference prior, the records' labels in every group column the attacker is told (year
//! of birth, sex, district...; naive Bayes, smoothed, tempered so that a class counts as at most
//! 30 records, `w = min(1, 30 / s)`), and the chance that the value's class holds at least `s`
//! records (`λ_v` what is left of its expected count; a Chernoff bound). A class may be a
//! fragment of its value's class, so only a class *larger* than expected is penalised. Classes
//! of 20 records or more are assigned largest first, each using up its value's expected count,
//! as rank alignment does; smaller ones then share what is left.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::columns::NONE;
use super::target::Target;

/// Attributes with more reference values than this are not classified (dates, addresses).
pub const MAX_VALUES: usize = 5000;

/// Smoothing of the label probabilities.
const ALPHA: f64 = 2.0;

/// The most frequent values are always candidates.
const ALWAYS: usize = 50;

/// A class's profile counts at most this many records.
const CAP: f64 = 30.0;

/// Classes of at least this many records are assigned one after the other, largest first,
/// against what is left of each value's expected count.
const BIG: u32 = 20;

/// A value's expected count may be exceeded by this factor (sampling noise).
const SLACK: f64 = 1.15;

/// Group columns with at least this many labels narrow the candidates of a class whose
/// records all have one label.
const NARROWING_LABELS: usize = 8;

/// A group column and log P(label | value), labels x candidates.
type Model = (usize, Vec<f32>);

/// Per label, the candidates seen with it (for group columns with many labels).
type Support = Option<Vec<Vec<u32>>>;

/// The reference model of one attribute: candidates, prior, and per allowed group column the
/// log-probability of each label given each value.
#[derive(Debug)]
pub struct Classifier {
    a: usize,
    cands: Vec<u32>,
    index: Vec<usize>,
    total: f64,
    prior: Vec<f64>,
    /// (group, log P(label | value) as labels x candidates).
    models: Vec<Model>,
    /// Per model with many labels: per label, the candidates seen with it in the reference.
    support: Vec<Support>,
}

impl Classifier {
    /// The model of attribute `a`; `None` when it has too many values.
    pub fn new(target: &Target<'_>, a: usize) -> Option<Classifier> {
        let values = &target.values.attributes[a];
        if values.ranked.is_empty() || values.ranked.len() > MAX_VALUES {
            return None;
        }
        let cands = values.ranked.clone();
        let nc = cands.len();
        let mut index = vec![usize::MAX; values.vocab.len()];
        for (j, &v) in cands.iter().enumerate() {
            index[v as usize] = j;
        }
        let total: f64 = cands
            .iter()
            .map(|&v| values.counts[v as usize] as f64)
            .sum();
        let prior: Vec<f64> = cands
            .iter()
            .map(|&v| (values.counts[v as usize] as f64 / total).ln())
            .collect();
        let groups: Vec<usize> = (0..target.groups.len())
            .filter(|&g| target.group_allowed(g, a))
            .collect();
        let built: Vec<(Model, Support)> = groups
            .par_iter()
            .map(|&g| {
                let group = &target.groups[g];
                let labels = group.label_count();
                let mut counts = vec![0f32; labels * nc];
                let mut per_value = vec![0f64; nc];
                let mut per_label = vec![0f64; labels];
                for (row, &label) in group.label_of_row.iter().enumerate() {
                    let v = values.reference[row];
                    if label == NONE || v == NONE || index[v as usize] == usize::MAX {
                        continue;
                    }
                    let j = index[v as usize];
                    counts[label as usize * nc + j] += 1.0;
                    per_value[j] += 1.0;
                    per_label[label as usize] += 1.0;
                }
                let support = (labels >= NARROWING_LABELS).then(|| {
                    (0..labels)
                        .map(|l| {
                            (0..nc as u32)
                                .filter(|&j| counts[l * nc + j as usize] > 0.0)
                                .collect()
                        })
                        .collect()
                });
                let n: f64 = per_label.iter().sum();
                let inv: Vec<f64> = per_value.iter().map(|p| 1.0 / (p + ALPHA)).collect();
                for l in 0..labels {
                    let pl = ALPHA * (per_label[l] + 1.0) / (n + labels as f64);
                    let row = &mut counts[l * nc..(l + 1) * nc];
                    for (c, i) in row.iter_mut().zip(&inv) {
                        *c = ((f64::from(*c) + pl) * i).ln() as f32;
                    }
                }
                ((g, counts), support)
            })
            .collect();
        let (models, support) = built.into_iter().unzip();
        Some(Classifier {
            a,
            cands,
            index,
            total,
            prior,
            models,
            support,
        })
    }

    /// The most likely value of every class (`classes[r]` is record `r`'s class); `None` when the
    /// attribute has too many values. `constraints` are parts already recovered: `(b, guesses)`
    /// restricts each class to values whose attribute `b` is the class's most common guess (when
    /// some value is).
    pub fn classify(
        &self,
        target: &Target<'_>,
        classes: &[u32],
        constraints: &[(usize, &[u32])],
    ) -> Vec<u32> {
        let a = self.a;
        let values = &target.values.attributes[a];
        let (cands, index, total, prior, models) = (
            &self.cands,
            &self.index,
            self.total,
            &self.prior,
            &self.models,
        );
        let nc = cands.len();
        // Per class: its size and its records' labels.
        let mut triples: Vec<(u32, u32, u32)> = Vec::new();
        let mut size: FxHashMap<u32, u32> = FxHashMap::default();
        for (r, &c) in classes.iter().enumerate() {
            if c == NONE {
                continue;
            }
            *size.entry(c).or_default() += 1;
            for (m, (g, _)) in models.iter().enumerate() {
                let group = &target.groups[*g];
                let k = group.of_record[r];
                if k == NONE {
                    continue;
                }
                let label = group.label_of_group[k as usize];
                if label != NONE {
                    triples.push((c, m as u32, label));
                }
            }
        }
        triples.sort_unstable();
        let present: f64 = size.values().map(|&s| f64::from(s)).sum();
        let lambda: Vec<f64> = cands
            .iter()
            .map(|&v| present * values.counts[v as usize] as f64 / total)
            .collect();
        let mut class_list: Vec<u32> = size.keys().copied().collect();
        class_list.sort_unstable();
        // Constraints: each candidate's value of attribute b (from the reference rows), and each
        // class's most common guess of it.
        let part_of: Vec<Vec<u32>> = constraints
            .iter()
            .map(|&(b, _)| {
                let other = &target.values.attributes[b];
                let mut map = vec![NONE; nc];
                for row in 0..target.values.reference_rows {
                    let v = values.reference[row];
                    if v != NONE
                        && index[v as usize] != usize::MAX
                        && map[index[v as usize]] == NONE
                    {
                        map[index[v as usize]] = other.reference[row];
                    }
                }
                map
            })
            .collect();
        let class_guess: Vec<FxHashMap<u32, u32>> = constraints
            .iter()
            .map(|&(_, guesses)| {
                let mut tally: FxHashMap<(u32, u32), u32> = FxHashMap::default();
                for (r, &c) in classes.iter().enumerate() {
                    let g = guesses.get(r).copied().unwrap_or(NONE);
                    if c != NONE && g != NONE {
                        *tally.entry((c, g)).or_default() += 1;
                    }
                }
                let mut best: FxHashMap<u32, (u32, u32)> = FxHashMap::default();
                for ((c, g), n) in tally {
                    let e = best.entry(c).or_insert((g, n));
                    if n > e.1 || (n == e.1 && g < e.0) {
                        *e = (g, n);
                    }
                }
                best.into_iter().map(|(c, (g, _))| (c, g)).collect()
            })
            .collect();
        // The slice of `triples` of each class.
        let mut starts: FxHashMap<u32, (usize, usize)> = FxHashMap::default();
        let mut i = 0;
        while i < triples.len() {
            let c = triples[i].0;
            let start = i;
            while i < triples.len() && triples[i].0 == c {
                i += 1;
            }
            starts.insert(c, (start, i));
        }
        let choose = |c: u32, lambda: &[f64]| -> usize {
            let s = f64::from(size[&c]);
            // The profile counts at most CAP records (naive Bayes over-counts correlated
            // labels, and the reference is another draw of the population).
            let temper = (CAP / s).min(1.0);
            // The class's (model, label, records) runs.
            let mut runs: Vec<(usize, usize, f64)> = Vec::new();
            if let Some(&(a, b)) = starts.get(&c) {
                let mut k = a;
                while k < b {
                    let (_, m, label) = triples[k];
                    let mut n = 0.0;
                    while k < b && triples[k].1 == m && triples[k].2 == label {
                        n += 1.0;
                        k += 1;
                    }
                    runs.push((m as usize, label as usize, n * temper));
                }
            }
            // Candidates: when all the class's records share a label of a fine group column,
            // the values seen with that label in the reference (others are very unlikely), with
            // the most frequent values; else every candidate.
            let mut narrow: Option<&Vec<u32>> = None;
            for (m, support) in self.support.iter().enumerate() {
                let Some(support) = support else { continue };
                let mut labels = runs.iter().filter(|r| r.0 == m);
                if let (Some(first), None) = (labels.next(), labels.next()) {
                    let list = &support[first.1];
                    if narrow.is_none_or(|n| list.len() < n.len()) {
                        narrow = Some(list);
                    }
                }
            }
            let all: Vec<u32>;
            let list: &[u32] = match narrow {
                Some(n) => n,
                None => {
                    all = (0..nc as u32).collect();
                    &all
                }
            };
            let score = |j: usize| -> f64 {
                let l = lambda[j].max(0.5);
                let tail = if s > l {
                    -(s * (s / l).ln() - s + l)
                } else {
                    0.0
                };
                let mut sc = prior[j] + tail;
                for &(m, label, n) in &runs {
                    sc += n * f64::from(models[m].1[label * nc + j]);
                }
                sc
            };
            let allowed = |j: usize| {
                part_of
                    .iter()
                    .zip(&class_guess)
                    .all(|(map, guess)| guess.get(&c).is_none_or(|&g| map[j] == g))
            };
            let pick = |list: &mut dyn Iterator<Item = usize>, constrained: bool| {
                list.filter(|&j| !constrained || allowed(j))
                    .map(|j| (score(j), j))
                    .max_by(|x, y| x.0.total_cmp(&y.0).then(y.1.cmp(&x.1)))
                    .map(|x| x.1)
            };
            let among = |constrained: bool| {
                let head = (0..nc.min(ALWAYS)).chain(list.iter().map(|&j| j as usize));
                pick(&mut head.into_iter(), constrained)
            };
            among(true)
                .or_else(|| pick(&mut (0..nc), true))
                .or_else(|| among(false))
                .unwrap_or(0)
        };
        // Large classes first, one after the other, each taking its records out of its value's
        // expected count (a value cannot hold two large classes); then the small ones, against
        // what is left.
        let mut order = class_list.clone();
        order.sort_unstable_by(|a, b| size[b].cmp(&size[a]).then(a.cmp(b)));
        let split = order.partition_point(|c| size[c] >= BIG);
        let mut remaining: Vec<f64> = lambda.iter().map(|l| l * SLACK).collect();
        let mut best: FxHashMap<u32, u32> = FxHashMap::default();
        for &c in &order[..split] {
            let j = choose(c, &remaining);
            remaining[j] = (remaining[j] - f64::from(size[&c])).max(0.0);
            best.insert(c, cands[j]);
        }
        // Small classes with the same size, labels and constrained guesses get the same value
        // (`remaining` no longer changes): each such profile is chosen once.
        // Size, (model, label, records) runs, and the constrained guesses.
        type Profile = (u32, Vec<(u32, u32, u32)>, Vec<u32>);
        let profile = |c: u32| -> Profile {
            let mut runs = Vec::new();
            if let Some(&(a, b)) = starts.get(&c) {
                for &(_, m, label) in &triples[a..b] {
                    match runs.last_mut() {
                        Some((pm, pl, n)) if *pm == m && *pl == label => *n += 1,
                        _ => runs.push((m, label, 1)),
                    }
                }
            }
            let guesses = class_guess
                .iter()
                .map(|g| g.get(&c).copied().unwrap_or(NONE))
                .collect();
            (size[&c], runs, guesses)
        };
        let mut first_of: FxHashMap<Profile, usize> = FxHashMap::default();
        let mut reps: Vec<u32> = Vec::new();
        let which: Vec<usize> = order[split..]
            .iter()
            .map(|&c| {
                let next = reps.len();
                let i = *first_of.entry(profile(c)).or_insert(next);
                if i == next {
                    reps.push(c);
                }
                i
            })
            .collect();
        let picked: Vec<u32> = reps
            .par_iter()
            .map(|&c| cands[choose(c, &remaining)])
            .collect();
        best.extend(
            order[split..]
                .iter()
                .zip(&which)
                .map(|(&c, &i)| (c, picked[i])),
        );
        classes
            .iter()
            .map(|&c| if c == NONE { NONE } else { best[&c] })
            .collect()
    }
}
