//! Expectation-maximisation of the m probabilities and the prior match rate λ over the candidate
//! pairs, with the u probabilities held fixed (estimated from random pairs, see
//! [`sample`](super::sample)).
//!
//! Identical comparison vectors are first aggregated into [`Patterns`] (a few thousand at most),
//! so each iteration costs O(patterns × fields), not O(pairs).
//!
//! Holding u fixed is the usual choice (Splink does the same): random pairs are almost all
//! non-matches, so their level frequencies estimate u directly and well, and EM then has only one
//! latent class to fit, which avoids the label switching and the drift of u towards the matches
//! that a fully free two-class EM shows on blocked pairs (where matches are not rare).
//!
//! Each M-step adds a pseudo-count of [`PSEUDO_COUNT`] pairs to every level of every field
//! (additive smoothing), so a level never seen among the likely matches keeps a small non-zero m,
//! and every probability is clamped to [`P_MIN`, `P_MAX`]. A field missing on either side
//! contributes to neither class.

use std::collections::HashMap;

use rayon::prelude::*;

use super::compare::MISSING;

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
    /// Number of pairs with each vector.
    pub counts: Vec<u64>,
}

impl Patterns {
    /// Aggregates the comparison vectors in `levels` (`n_fields` bytes each).
    pub fn aggregate(levels: &[u8], n_fields: usize) -> Patterns {
        if n_fields == 0 {
            return Patterns::default();
        }
        let chunk = (4096 * n_fields).max(n_fields);
        let merged = levels
            .par_chunks(chunk)
            .fold(HashMap::<&[u8], u64>::new, |mut map, part| {
                for v in part.chunks_exact(n_fields) {
                    *map.entry(v).or_insert(0) += 1;
                }
                map
            })
            .reduce(HashMap::new, |mut a, b| {
                for (k, v) in b {
                    *a.entry(k).or_insert(0) += v;
                }
                a
            });
        let mut entries: Vec<(&[u8], u64)> = merged.into_iter().collect();
        entries.sort_unstable();
        let mut p = Patterns {
            n_fields,
            vectors: Vec::with_capacity(entries.len() * n_fields),
            counts: Vec::with_capacity(entries.len()),
        };
        for (k, c) in entries {
            p.vectors.extend_from_slice(k);
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

/// Fits λ and m by EM over `patterns`, u fixed. `lambda0` is the starting prior.
pub fn fit(
    patterns: &Patterns,
    u: &[Vec<f64>],
    lambda0: f64,
    tolerance: f64,
    max_iterations: usize,
) -> EmFit {
    let mut m: Vec<Vec<f64>> = u.iter().map(|levels| starting_m(levels.len())).collect();
    let mut lambda = clamp_probability(lambda0);
    let ln_u: Vec<Vec<f64>> = u
        .iter()
        .map(|l| l.iter().map(|p| clamp_probability(*p).ln()).collect())
        .collect();
    let mut fit = EmFit {
        lambda,
        m: m.clone(),
        iterations: 0,
        converged: false,
        max_change: f64::INFINITY,
    };
    if patterns.is_empty() {
        return fit;
    }
    for iteration in 1..=max_iterations {
        let ln_m: Vec<Vec<f64>> = m
            .iter()
            .map(|l| l.iter().map(|p| p.ln()).collect())
            .collect();
        let prior = (lambda / (1.0 - lambda)).ln();
        let mut match_mass = 0.0;
        let mut total = 0.0;
        let mut level_mass: Vec<Vec<f64>> = m.iter().map(|l| vec![0.0; l.len()]).collect();
        for (i, &count) in patterns.counts.iter().enumerate() {
            let v = patterns.vector(i);
            let mut llr = prior;
            for (f, &level) in v.iter().enumerate() {
                if level == MISSING {
                    continue;
                }
                let l = usize::from(level);
                if let (Some(a), Some(b)) = (
                    ln_m.get(f).and_then(|x| x.get(l)),
                    ln_u.get(f).and_then(|x| x.get(l)),
                ) {
                    llr += a - b;
                }
            }
            let g = 1.0 / (1.0 + (-llr).exp());
            let c = count as f64;
            match_mass += c * g;
            total += c;
            for (f, &level) in v.iter().enumerate() {
                if let Some(x) = level_mass
                    .get_mut(f)
                    .and_then(|x| x.get_mut(usize::from(level)))
                {
                    *x += c * g;
                }
            }
        }
        let new_lambda = clamp_probability(match_mass / total.max(1.0));
        let mut change = (new_lambda - lambda).abs();
        for (mf, mass) in m.iter_mut().zip(&level_mass) {
            let denom: f64 = mass.iter().sum::<f64>() + PSEUDO_COUNT * mass.len() as f64;
            for (p, x) in mf.iter_mut().zip(mass) {
                let new = clamp_probability((x + PSEUDO_COUNT) / denom);
                change = change.max((new - *p).abs());
                *p = new;
            }
        }
        lambda = new_lambda;
        fit = EmFit {
            lambda,
            m: m.clone(),
            iterations: iteration,
            converged: change <= tolerance,
            max_change: change,
        };
        if fit.converged {
            break;
        }
    }
    fit
}

#[cfg(test)]
mod tests {
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
        let patterns = Patterns::aggregate(&levels, 4);
        assert_eq!(patterns.total(), n as u64);
        let fit = fit(&patterns, &u_true, 0.05, 1e-7, 500);
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
        let p = Patterns::aggregate(&levels, 2);
        assert_eq!(p.vectors, vec![0, 1, 2, MISSING]);
        assert_eq!(p.counts, vec![3, 1]);
        assert_eq!(p.vector(1), &[2, MISSING]);
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
        let p = Patterns::aggregate(&[0u8; 100], 1);
        let fit = fit(&p, &[vec![0.01, 0.99]], 0.5, 1e-9, 200);
        assert!(fit.m[0][1] > 0.0 && fit.m[0][1] < 0.05, "{:?}", fit.m);
    }
}
