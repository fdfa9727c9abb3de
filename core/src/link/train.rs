//! Training: m by EM, one session per training rule, and λ.
//!
//! **m.** Candidate pairs agree on their blocking token by construction, so on the comparisons
//! that token speaks for even non-matches look like matches. As Splink does, m is estimated in
//! one EM session per training rule, over the candidate pairs that share that rule's token,
//! leaving out of the likelihood and of the estimate every comparison reading a field of the
//! rule's keys. Each comparison's m is the mean over the sessions that estimated it; one that no
//! session estimates keeps its starting values and is listed (`comparisons_not_estimated`). A
//! session whose EM finds more matches than the inputs can hold (twice the smaller source per
//! pair of sources, or the records when deduplicating) fitted something else than matches and is
//! left out (`used: false`).
//!
//! **λ**, the probability that two random records match (the u describe random pairs, so the
//! prior must too), is the fixed point of `M = Σ over candidate pairs P(match | pair, λ = M /
//! possible pairs)`: the number of matches the model itself finds among the candidate pairs,
//! iterated from the sessions' median estimate until it moves by less than half a match. Matches
//! that blocking missed are not counted, so λ is slightly low (by the blocking's miss rate,
//! about 1% on the benchmarks, 6% with heavy errors): probabilities err on the side of fewer
//! links. λ stays so (scores do not depend on blocking); the **implied matches** reported add
//! an estimate of the matches blocking missed: the candidate pairs' matches divided by the share
//! of matches blocking forms, estimated from the model (`formed`).

use serde::{Deserialize, Serialize};

use crate::schema::Schema;

use super::compare::Comparator;
use super::em::{self, starting_m, EmFit, Patterns, Session, UTable};
use super::formed;
use super::probability::{clamp_probability, P_MAX, P_MIN};

/// One EM session, as the model records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionReport {
    /// The training rule (a blocking rule's name), or the λ estimate.
    pub rule: String,
    /// Candidate pairs it fitted.
    pub pairs: u64,
    /// The comparisons whose m it estimated.
    pub comparisons_estimated: Vec<String>,
    /// Its λ: the share of matches among its pairs.
    pub lambda: f64,
    /// EM iterations.
    pub iterations: u64,
    /// Whether EM converged.
    pub converged: bool,
    /// Whether its estimates were used (see the module documentation).
    #[serde(default = "used_default")]
    pub used: bool,
}

fn used_default() -> bool {
    true
}

/// The outcome of training.
#[derive(Debug, Clone, PartialEq)]
pub struct Trained {
    /// λ and the m.
    pub fit: EmFit,
    /// The sessions, then the λ estimate.
    pub sessions: Vec<SessionReport>,
    /// Comparisons no session estimated.
    pub not_estimated: Vec<String>,
    /// The matches the model implies among the inputs: `candidate_matches` divided by
    /// `formed_share`.
    pub implied_matches: f64,
    /// The matches λ implies among the candidate pairs (λ times the possible pairs).
    pub candidate_matches: f64,
    /// The estimated share of matches blocking forms (see the `formed` module).
    pub formed_share: f64,
    /// What that estimate assumed, one sentence each.
    pub formed_assumptions: Vec<String>,
    /// Pairs the inputs can form.
    pub possible_pairs: f64,
}

/// The comparisons a rule's pairs cannot train: those reading a field of its token's keys.
fn rule_comparisons(schema: &Schema, comparator: &Comparator, r: usize) -> Vec<usize> {
    let Some(rule) = schema.link.blocking.get(r) else {
        return Vec::new();
    };
    let fields = rule
        .keys
        .iter()
        .chain(rule.cross.iter().flatten())
        .filter_map(|k| schema.parse_key(k))
        .fold(0u32, |m, k| m | super::pool::bit(k.field));
    comparator
        .rules()
        .iter()
        .enumerate()
        .filter(|(_, c)| c.fields & fields != 0)
        .map(|(i, _)| i)
        .collect()
}

/// Smallest λ (so that `log2(λ / (1 - λ))` stays finite).
pub const LAMBDA_MIN: f64 = 1e-15;

/// Trains m (EM sessions) and λ (fixed point) on `patterns`, u fixed.
pub fn train(
    schema: &Schema,
    comparator: &Comparator,
    patterns: &Patterns,
    u: &UTable<'_>,
    possible_pairs: u128,
    max_matches: f64,
    lambda_guess: impl Fn(u64) -> f64,
) -> Trained {
    let nf = comparator.n_fields();
    let members: Vec<Vec<u64>> = comparator
        .rules()
        .iter()
        .map(|r| r.members.clone())
        .collect();
    // Starting m over the atomic levels (the tested ones and else); the others are sums.
    let m0: Vec<Vec<f64>> = comparator
        .rules()
        .iter()
        .map(|r| {
            let mut m = starting_m(r.tested + 1);
            m.resize(r.levels.len(), 0.0);
            m
        })
        .collect();
    let mut sums: Vec<Vec<f64>> = m0.iter().map(|l| vec![0.0; l.len()]).collect();
    let mut estimates = vec![0usize; nf];
    let mut sessions = Vec::new();
    let mut session_matches: Vec<f64> = Vec::new();
    let mut fits = Vec::new();
    let tol = schema.link.em_tolerance;
    let max = schema.link.em_max_iterations;
    for r in schema
        .training_rule_indices()
        .into_iter()
        .filter(|r| *r < 64)
    {
        let excluded = rule_comparisons(schema, comparator, r);
        let used: Vec<bool> = (0..nf).map(|f| !excluded.contains(&f)).collect();
        if !used.iter().any(|u| *u) {
            continue;
        }
        let pairs: u64 = patterns
            .rules
            .iter()
            .zip(&patterns.counts)
            .filter(|(b, _)| *b & (1u64 << r) != 0)
            .map(|(_, c)| c)
            .sum();
        if pairs == 0 {
            continue;
        }
        let session = Session {
            rule: Some(r as u32),
            estimated: used.clone(),
            used,
        };
        let fit = em::fit(
            patterns,
            u,
            &members,
            (&m0, lambda_guess(pairs)),
            &session,
            em::Stop {
                tolerance: tol,
                max_iterations: max,
            },
        );
        fits.push((r, pairs, session, fit));
    }
    let plausible = |pairs: u64, fit: &EmFit| fit.lambda * pairs as f64 <= max_matches;
    let any_plausible = fits.iter().any(|(_, pairs, _, fit)| plausible(*pairs, fit));
    for (r, pairs, session, fit) in fits {
        let used = !any_plausible || plausible(pairs, &fit);
        let mut names = Vec::new();
        for f in (0..nf).filter(|f| session.estimated[*f] && used) {
            for (s, m) in sums[f].iter_mut().zip(&fit.m[f]) {
                *s += m;
            }
            estimates[f] += 1;
            names.push(comparator.rules()[f].name.clone());
        }
        if used {
            session_matches.push(fit.lambda * pairs as f64);
        }
        sessions.push(SessionReport {
            rule: schema.link.blocking[r].name(),
            pairs,
            comparisons_estimated: names,
            lambda: fit.lambda,
            iterations: fit.iterations as u64,
            converged: fit.converged,
            used,
        });
    }
    let m: Vec<Vec<f64>> = (0..nf)
        .map(|f| {
            let rule = &comparator.rules()[f];
            let atomic: Vec<f64> = if estimates[f] == 0 {
                m0[f].clone()
            } else {
                sums[f].iter().map(|s| s / estimates[f] as f64).collect()
            };
            rule.members
                .iter()
                .map(|bits| {
                    (0..=rule.tested)
                        .filter(|i| bits & (1u64 << i) != 0)
                        .map(|i| atomic.get(i).copied().unwrap_or(0.0))
                        .sum::<f64>()
                        .clamp(P_MIN, P_MAX)
                })
                .collect()
        })
        .collect();
    let not_estimated = (0..nf)
        .filter(|f| estimates[*f] == 0)
        .map(|f| comparator.rules()[f].name.clone())
        .collect();
    let possible = (possible_pairs.max(1)) as f64;
    session_matches.sort_by(f64::total_cmp);
    let start = session_matches
        .get(session_matches.len() / 2)
        .copied()
        .unwrap_or(1.0)
        .max(1.0);
    let ratios = pattern_ratios(patterns, u, &m);
    let (matches, steps) = fixed_point_matches(&ratios, possible, start);
    let lambda = (matches / possible).clamp(LAMBDA_MIN, 0.5);
    let prior = (lambda / (1.0 - lambda)).ln();
    let posterior: Vec<f64> = ratios
        .iter()
        .map(|(llr, _)| 1.0 / (1.0 + (-(prior + llr)).exp()))
        .collect();
    let formed = formed::formed_share(schema, comparator, patterns, &m, &posterior);
    sessions.push(SessionReport {
        rule: format!(
            "all candidate pairs: {matches:.0} matches among {possible_pairs} possible pairs ({steps} steps from the sessions' median, {start:.0})"
        ),
        pairs: patterns.total(),
        comparisons_estimated: Vec::new(),
        lambda,
        iterations: steps,
        converged: true,
        used: true,
    });
    Trained {
        fit: EmFit {
            lambda,
            m,
            iterations: 0,
            converged: true,
            max_change: 0.0,
        },
        sessions,
        not_estimated,
        implied_matches: matches / formed.share,
        candidate_matches: matches,
        formed_share: formed.share,
        formed_assumptions: formed.assumptions,
        possible_pairs: possible,
    }
}

/// Each pattern's log likelihood ratio without the prior (natural log), and its count.
fn pattern_ratios(patterns: &Patterns, u: &UTable<'_>, m: &[Vec<f64>]) -> Vec<(f64, f64)> {
    let ln = |p: f64| clamp_probability(p).ln();
    (0..patterns.len())
        .map(|i| {
            let v = patterns.vector(i);
            let hh = u.one_household(v);
            let mut llr = 0.0;
            for (f, &level) in v.iter().enumerate() {
                if super::levels::is_uncompared(level) {
                    continue;
                }
                let l = usize::from(level);
                let uu = match (hh, u.u_household.get(f)) {
                    (true, Some(Some(h))) => h.get(l).copied(),
                    _ => u.u.get(f).and_then(|x| x.get(l)).copied(),
                };
                if let (Some(mm), Some(uu)) = (m.get(f).and_then(|x| x.get(l)), uu) {
                    llr += ln(*mm) - ln(uu);
                }
            }
            (llr, patterns.counts[i] as f64)
        })
        .collect()
}

/// The fixed point `M = Σ count × P(match | pattern, λ = M / possible)` over every pattern's
/// `ratios` (see [`pattern_ratios`]), from `start`; returns it and the steps taken (at most 200).
fn fixed_point_matches(ratios: &[(f64, f64)], possible: f64, start: f64) -> (f64, u64) {
    let mut matches = start.min(possible / 2.0);
    for step in 1..=200u64 {
        let lambda = (matches / possible).clamp(LAMBDA_MIN, 0.5);
        let prior = (lambda / (1.0 - lambda)).ln();
        let next: f64 = ratios
            .iter()
            .map(|(llr, c)| c / (1.0 + (-(prior + llr)).exp()))
            .sum();
        let next = next.max(1.0);
        if (next - matches).abs() < 0.5 {
            return (next, step);
        }
        matches = next;
    }
    (matches, 200)
}
