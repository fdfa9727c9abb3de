//! Expectation-maximisation of the m probabilities and the prior match rate λ over the candidate
//! pairs, with the u probabilities held fixed (estimated from random pairs, see
//! [`sample`](super::sample)).
//!
//! Identical comparison vectors (with the set of blocking rules the pair satisfies) are first
//! aggregated into [`Patterns`] (a few thousand), so each iteration costs O(patterns × fields),
//! not O(pairs).
//!
//! **Why u is fixed.** Random pairs are almost all non-matches, so their level frequencies estimate
//! u directly and well; EM then has only the match class to fit, which avoids label switching.
//!
//! **Why one EM session per blocking rule.** Candidate pairs agree on their blocking keys by
//! construction, so on those fields even non-matches look like matches to a u taken from random
//! pairs, and a single EM over all candidates drifts to λ ≈ 1. As Splink does, m is therefore
//! estimated in one session per blocking rule, over the candidate pairs that agree on that rule's
//! keys, leaving out of the likelihood (and out of the estimate) every field the rule's keys use.
//! Each field's m is the mean over the sessions that estimated it (a field used by every rule
//! keeps its starting values, and the model says so). λ is then derived from the sessions (see
//! [`train`](super::train)).
//!
//! Each M-step adds a pseudo-count of [`PSEUDO_COUNT`] pairs to every level of every estimated
//! field (additive smoothing), so a level never seen among the likely matches keeps a small
//! non-zero m, and every probability is clamped to [`P_MIN`, `P_MAX`]. A field missing on either
//! side, or salted with different salts (see [`compare`](super::compare)), contributes to neither
//! class. A session stops when no parameter moves by more than the
//! tolerance, or at the iteration limit.

use std::collections::HashMap;

use rayon::prelude::*;

use super::compare::is_uncompared;

/// Smallest probability a model holds.
pub const P_MIN: f64 = 1e-6;
/// Largest probability a model holds.
pub const P_MAX: f64 = 1.0 - 1e-6;
/// Pseudo-count added to each level in each M-step and in the u estimate.
pub const PSEUDO_COUNT: f64 = 0.5;

/// Clamps a probability to [`P_MIN`, `P_MAX`] (NaN becomes `P_MIN`).
#[inline]
pub fn clamp_probability(p: f64) -> f64 {
    if p.is_nan() {
        P_MIN
    } else {
        p.clamp(P_MIN, P_MAX)
    }
}

/// Distinct comparison vectors and how many pairs have each, sorted by vector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patterns {
    /// Comparison vector length.
    pub n_fields: usize,
    /// The vectors, `n_fields` bytes each, concatenated in ascending order.
    pub vectors: Vec<u8>,
    /// Per pattern, the blocking rules (bit `r` for rule `r`) its pairs satisfy.
    pub rules: Vec<u64>,
    /// Number of pairs with each vector.
    pub counts: Vec<u64>,
}

impl Patterns {
    /// Aggregates the comparison vectors in `levels` (`n_fields` bytes each), each with the rule
    /// bits of its pair in `rules` (or 0 for all when `rules` is empty).
    pub fn aggregate(levels: &[u8], rules: &[u64], n_fields: usize) -> Patterns {
        if n_fields == 0 {
            return Patterns::default();
        }
        const CHUNK: usize = 4096;
        let rule_of = |i: usize| rules.get(i).copied().unwrap_or(0);
        let merged = levels
            .par_chunks(CHUNK * n_fields)
            .enumerate()
            .fold(HashMap::<(&[u8], u64), u64>::new, |mut map, (c, part)| {
                for (i, v) in part.chunks_exact(n_fields).enumerate() {
                    *map.entry((v, rule_of(c * CHUNK + i))).or_insert(0) += 1;
                }
                map
            })
            .reduce(HashMap::new, |mut a, b| {
                for (k, v) in b {
                    *a.entry(k).or_insert(0) += v;
                }
                a
            });
        let mut entries: Vec<((&[u8], u64), u64)> = merged.into_iter().collect();
        entries.sort_unstable();
        let mut p = Patterns {
            n_fields,
            vectors: Vec::with_capacity(entries.len() * n_fields),
            rules: Vec::with_capacity(entries.len()),
            counts: Vec::with_capacity(entries.len()),
        };
        for ((k, r), c) in entries {
            p.vectors.extend_from_slice(k);
            p.rules.push(r);
            p.counts.push(c);
        }
        p
    }

    /// Patterns from counts of `(vector, rule bits)`, sorted.
    pub fn from_counts(n_fields: usize, counts: HashMap<(Vec<u8>, u64), u64>) -> Patterns {
        let mut entries: Vec<((Vec<u8>, u64), u64)> = counts
            .into_iter()
            .filter(|((v, _), _)| v.len() == n_fields)
            .collect();
        entries.sort_unstable();
        let mut p = Patterns {
            n_fields,
            vectors: Vec::with_capacity(entries.len() * n_fields),
            rules: Vec::with_capacity(entries.len()),
            counts: Vec::with_capacity(entries.len()),
        };
        for ((v, r), c) in entries {
            p.vectors.extend_from_slice(&v);
            p.rules.push(r);
            p.counts.push(c);
        }
        p
    }

    /// Number of distinct vectors.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// True when there is no pattern.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Total number of pairs.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The vector of pattern `i`.
    pub fn vector(&self, i: usize) -> &[u8] {
        self.vectors
            .get(i * self.n_fields..(i + 1) * self.n_fields)
            .unwrap_or(&[])
    }
}

/// The result of EM.
#[derive(Debug, Clone, PartialEq)]
pub struct EmFit {
    /// Prior match rate among the candidate pairs.
    pub lambda: f64,
    /// m per field per level.
    pub m: Vec<Vec<f64>>,
    /// Iterations run.
    pub iterations: usize,
    /// Whether the largest parameter change fell below the tolerance.
    pub converged: bool,
    /// The largest parameter change in the last iteration.
    pub max_change: f64,
}

/// Starting m values for a field with `n` levels: 0.9 on the best level, the remaining 0.1 halving
/// from level to level (the `else` level, last, gets the least).
pub fn starting_m(n: usize) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![P_MAX];
    }
    let rest: Vec<f64> = (1..n).map(|i| 0.5f64.powi(i as i32)).collect();
    let sum: f64 = rest.iter().sum();
    std::iter::once(0.9)
        .chain(rest.iter().map(|r| 0.1 * r / sum))
        .map(clamp_probability)
        .collect()
}

/// What one EM session fits.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Only patterns satisfying this blocking rule (bit index), or all.
    pub rule: Option<u32>,
    /// Per field: whether it enters the likelihood.
    pub used: Vec<bool>,
    /// Per field: whether its m is re-estimated (only fields that are used).
    pub estimated: Vec<bool>,
}

impl Session {
    /// A session over every pattern that uses and estimates every field.
    pub fn all(n_fields: usize) -> Session {
        Session {
            rule: None,
            used: vec![true; n_fields],
            estimated: vec![true; n_fields],
        }
    }
}

/// u probabilities as EM reads them: per comparison and level, and for household comparisons
/// the household u, used for the patterns whose household comparison says one household.
#[derive(Debug, Clone, Copy)]
pub struct UTable<'a> {
    /// Per comparison, per level.
    pub u: &'a [Vec<f64>],
    /// Per comparison (household ones), per level.
    pub u_household: &'a [Option<Vec<f64>>],
    /// The household comparison and its levels meaning one household (bits).
    pub household: Option<(usize, u64)>,
}

impl<'a> UTable<'a> {
    /// u without household u.
    pub fn plain(u: &'a [Vec<f64>]) -> UTable<'a> {
        UTable {
            u,
            u_household: &[],
            household: None,
        }
    }

    /// Whether a pattern is one household.
    pub fn one_household(&self, v: &[u8]) -> bool {
        self.household.is_some_and(|(c, mask)| {
            v.get(c)
                .is_some_and(|&l| !is_uncompared(l) && l < 64 && mask & (1u64 << l) != 0)
        })
    }
}

/// When EM stops: the largest parameter change falls below `tolerance`, or after
/// `max_iterations`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stop {
    /// Largest parameter change that counts as converged.
    pub tolerance: f64,
    /// Iterations at most.
    pub max_iterations: usize,
}

/// Fits λ and the estimated m by EM over the patterns of `session`, u fixed, starting from
/// `m0` and `lambda0`.
pub fn fit(
    patterns: &Patterns,
    u: &UTable<'_>,
    members: &[Vec<u64>],
    (m0, lambda0): (&[Vec<f64>], f64),
    session: &Session,
    stop: Stop,
) -> EmFit {
    let Stop {
        tolerance,
        max_iterations,
    } = stop;
    let mut m: Vec<Vec<f64>> = m0.to_vec();
    let mut lambda = clamp_probability(lambda0);
    let ln = |t: &[Vec<f64>]| -> Vec<Vec<f64>> {
        t.iter()
            .map(|l| l.iter().map(|p| clamp_probability(*p).ln()).collect())
            .collect()
    };
    let ln_u = ln(u.u);
    let ln_u_household: Vec<Option<Vec<f64>>> = u
        .u_household
        .iter()
        .map(|h| {
            h.as_ref()
                .map(|h| h.iter().map(|p| clamp_probability(*p).ln()).collect())
        })
        .collect();
    let used = |f: usize| session.used.get(f).copied().unwrap_or(false);
    let estimated = |f: usize| used(f) && session.estimated.get(f).copied().unwrap_or(false);
    let selected: Vec<usize> = (0..patterns.len())
        .filter(|&i| {
            session.rule.is_none_or(|r| {
                r < 64 && patterns.rules.get(i).is_some_and(|b| b & (1u64 << r) != 0)
            })
        })
        .collect();
    let mut fit = EmFit {
        lambda,
        m: m.clone(),
        iterations: 0,
        converged: false,
        max_change: f64::INFINITY,
    };
    if selected.is_empty() {
        return fit;
    }
    // The atomic levels each level stands for (one, or several for an unseen-level `else`): a
    // level's m is the sum of its atomic levels' m, and its mass is shared among them in
    // proportion to their m (EM for an observation known only to fall in a set).
    let member_list: Vec<Vec<Vec<usize>>> = m
        .iter()
        .enumerate()
        .map(|(f, levels)| {
            (0..levels.len())
                .map(|l| match members.get(f).and_then(|x| x.get(l)) {
                    Some(&bits) if bits != 0 => {
                        (0..64).filter(|i| bits & (1u64 << i) != 0).collect()
                    }
                    _ => vec![l],
                })
                .collect()
        })
        .collect();
    let atomic = |f: usize| -> usize {
        member_list[f]
            .iter()
            .flatten()
            .copied()
            .max()
            .map_or(0, |x| x + 1)
    };
    derive_sets(&mut m, &member_list);
    let mut previous_ll = f64::NEG_INFINITY;
    for iteration in 1..=max_iterations {
        let ln_m: Vec<Vec<f64>> = m
            .iter()
            .map(|l| l.iter().map(|p| clamp_probability(*p).ln()).collect())
            .collect();
        let prior = (lambda / (1.0 - lambda)).ln();
        let mut match_mass = 0.0;
        let mut total = 0.0;
        let mut log_likelihood = 0.0;
        let mut level_mass: Vec<Vec<f64>> = m.iter().map(|l| vec![0.0; l.len()]).collect();
        for &i in &selected {
            let v = patterns.vector(i);
            let hh = u.one_household(v);
            let mut llr = prior;
            let mut ln_pu = 0.0;
            for (f, &level) in v.iter().enumerate() {
                if is_uncompared(level) || !used(f) {
                    continue;
                }
                let l = usize::from(level);
                let table = match (hh, ln_u_household.get(f)) {
                    (true, Some(Some(h))) => h,
                    _ => &ln_u[f],
                };
                if let (Some(a), Some(b)) = (ln_m.get(f).and_then(|x| x.get(l)), table.get(l)) {
                    llr += a - b;
                    ln_pu += b;
                }
            }
            let g = 1.0 / (1.0 + (-llr).exp());
            let c = patterns.counts[i] as f64;
            // ln P(pattern) = ln((1 - λ) P_u) + ln(1 + e^llr), computed without overflow.
            log_likelihood +=
                c * (ln_pu + (1.0 - lambda).ln() + llr.max(0.0) + (-llr.abs()).exp().ln_1p());
            match_mass += c * g;
            total += c;
            for (f, &level) in v.iter().enumerate() {
                if is_uncompared(level) {
                    continue;
                }
                let Some(parts) = member_list.get(f).and_then(|x| x.get(usize::from(level))) else {
                    continue;
                };
                let sum: f64 = parts
                    .iter()
                    .map(|&a| m[f].get(a).copied().unwrap_or(0.0))
                    .sum();
                for &a in parts {
                    let share = if parts.len() == 1 || sum <= 0.0 {
                        1.0 / parts.len() as f64
                    } else {
                        m[f].get(a).copied().unwrap_or(0.0) / sum
                    };
                    if let Some(x) = level_mass.get_mut(f).and_then(|x| x.get_mut(a)) {
                        *x += c * g * share;
                    }
                }
            }
        }
        let new_lambda = clamp_probability(match_mass / total.max(1.0));
        let mut change = (new_lambda - lambda).abs();
        for (f, (mf, mass)) in m.iter_mut().zip(&level_mass).enumerate() {
            if !estimated(f) {
                continue;
            }
            let n = atomic(f).min(mf.len());
            let denom: f64 = mass.iter().take(n).sum::<f64>() + PSEUDO_COUNT * n as f64;
            for (p, x) in mf.iter_mut().zip(mass).take(n) {
                let new = clamp_probability((x + PSEUDO_COUNT) / denom);
                change = change.max((new - *p).abs());
                *p = new;
            }
        }
        derive_sets(&mut m, &member_list);
        lambda = new_lambda;
        // Converged when no parameter moves more than the tolerance, or when the mean
        // log-likelihood per pair rises by less than it: EM creeping along a flat ridge (an
        // m approaching its bound, a split among unseen levels the data cannot tell apart)
        // changes no score that matters.
        let gain = (log_likelihood - previous_ll) / total.max(1.0);
        previous_ll = log_likelihood;
        fit = EmFit {
            lambda,
            m: m.clone(),
            iterations: iteration,
            converged: change <= tolerance || gain.abs() <= tolerance,
            max_change: change,
        };
        if fit.converged {
            break;
        }
    }
    fit
}

/// Sets the m of every level standing for several atomic levels to the sum of theirs.
fn derive_sets(m: &mut [Vec<f64>], members: &[Vec<Vec<usize>>]) {
    for (levels, parts) in m.iter_mut().zip(members) {
        for (l, p) in parts.iter().enumerate() {
            if p.len() > 1 || p.first().is_some_and(|&a| a != l) {
                let sum: f64 = p
                    .iter()
                    .map(|&a| levels.get(a).copied().unwrap_or(0.0))
                    .sum();
                if let Some(x) = levels.get_mut(l) {
                    *x = clamp_probability(sum);
                }
            }
        }
    }
}

/// The members of comparisons whose every level stands for itself (no unseen-level `else`).
pub fn identity_members(levels: &[usize]) -> Vec<Vec<u64>> {
    levels
        .iter()
        .map(|&n| (0..n.min(64)).map(|i| 1u64 << i).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::compare::MISSING;
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn draw(rng: &mut ChaCha8Rng, probs: &[f64]) -> u8 {
        let x: f64 = rng.gen();
        let mut acc = 0.0;
        for (i, p) in probs.iter().enumerate() {
            acc += p;
            if x < acc {
                return i as u8;
            }
        }
        (probs.len() - 1) as u8
    }

    #[test]
    fn recovers_known_m_and_lambda() {
        let m_true = vec![
            vec![0.85, 0.1, 0.05],
            vec![0.9, 0.1],
            vec![0.7, 0.2, 0.1],
            vec![0.95, 0.05],
        ];
        let u_true = vec![
            vec![0.01, 0.04, 0.95],
            vec![0.05, 0.95],
            vec![0.02, 0.08, 0.9],
            vec![0.001, 0.999],
        ];
        let lambda_true = 0.2;
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 200_000;
        let mut levels = Vec::with_capacity(n * 4);
        for _ in 0..n {
            let is_match = rng.gen::<f64>() < lambda_true;
            let table = if is_match { &m_true } else { &u_true };
            for probs in table {
                // A few missing values, which must not bias the estimates.
                if rng.gen::<f64>() < 0.05 {
                    levels.push(MISSING);
                } else {
                    levels.push(draw(&mut rng, probs));
                }
            }
        }
        let patterns = Patterns::aggregate(&levels, &[], 4);
        assert_eq!(patterns.total(), n as u64);
        let m0: Vec<Vec<f64>> = u_true.iter().map(|l| starting_m(l.len())).collect();
        let members = identity_members(&[3, 2, 3, 2]);
        let fit = fit(
            &patterns,
            &UTable::plain(&u_true),
            &members,
            (&m0, 0.05),
            &Session::all(4),
            Stop {
                tolerance: 1e-7,
                max_iterations: 500,
            },
        );
        assert!(fit.converged, "{fit:?}");
        assert!((fit.lambda - lambda_true).abs() < 0.01, "{}", fit.lambda);
        for (got, want) in fit.m.iter().zip(&m_true) {
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 0.02, "m {g} vs {w}");
            }
        }
    }

    #[test]
    fn aggregation_is_exact_and_sorted() {
        let levels = [0u8, 1, 0, 1, 2, MISSING, 0, 1];
        let p = Patterns::aggregate(&levels, &[1, 2, 1, 1], 2);
        assert_eq!(p.vectors, vec![0, 1, 0, 1, 2, MISSING]);
        assert_eq!(p.rules, vec![1, 2, 1]);
        assert_eq!(p.counts, vec![2, 1, 1]);
        assert_eq!(p.vector(2), &[2, MISSING]);
    }

    #[test]
    fn starting_values_decrease_and_sum_to_one() {
        let m = starting_m(5);
        assert!(m.windows(2).all(|w| w[0] > w[1]));
        assert!((m.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert_eq!(clamp_probability(0.0), P_MIN);
        assert_eq!(clamp_probability(f64::NAN), P_MIN);
        assert_eq!(clamp_probability(1.0), P_MAX);
    }

    #[test]
    fn unseen_levels_keep_a_small_positive_m() {
        // Only level 0 is ever seen; level 1 must stay above zero.
        let p = Patterns::aggregate(&[0u8; 100], &[], 1);
        let fit = fit(
            &p,
            &UTable::plain(&[vec![0.01, 0.99]]),
            &identity_members(&[2]),
            (&[starting_m(2)], 0.5),
            &Session::all(1),
            Stop {
                tolerance: 1e-9,
                max_iterations: 200,
            },
        );
        assert!(fit.m[0][1] > 0.0 && fit.m[0][1] < 0.05, "{:?}", fit.m);
    }
}
