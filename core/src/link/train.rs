//! Training the model: one EM session per training rule for m (see [`em`] for why),
//! then λ, the probability that two random records (from different sources) match.
//!
//! **λ is the match rate among all pairs, not among candidate pairs**, because u comes from random
//! pairs: the weights `log2(m/u)` say how much more likely a comparison vector is among matches
//! than among random pairs, so the prior they are added to must be that of a random pair too.
//! (Taking λ among candidates instead double-counts the blocking: candidate pairs already agree on
//! their keys, and on synthetic data with households that prior made λ ≈ 0.2 and precision 0.3.)
//!
//! Each session `r` estimates by EM the share `λ_r` of matches among the pairs agreeing on its
//! keys; those pairs hold a share `recall_r` of all matches, the product over the rule's keys of
//! P(key agrees | match) from the fitted m (for `field`: m of `exact`; for `field.level`: the m of
//! every level down to that level token, or of `exact` and the similarity bands when that level is
//! not compared). So the matches number `λ_r · pairs_r / recall_r`; λ is the median of that over
//! the sessions, divided by the number of pairs the inputs can form.
//!
//! A session whose EM finds more matches (`λ_r · pairs_r`) than the inputs can hold
//! (`max_matches`) has fitted some other group (e.g. a household) and is left out of both m and λ
//! (`used: false` in its report), unless no session is plausible, when all are used.

use serde::{Deserialize, Serialize};

use crate::schema::Schema;

use super::compare::Comparator;
use super::em::{self, starting_m, EmFit, Patterns, Session};

/// What one EM session did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionReport {
    /// The blocking rule whose pairs the session ran over (`all candidates` for the λ session).
    pub rule: String,
    /// Candidate pairs in the session.
    pub pairs: u64,
    /// Fields whose m the session estimated.
    pub fields_estimated: Vec<String>,
    /// λ within the session's pairs.
    pub lambda: f64,
    /// Iterations run.
    pub iterations: u64,
    /// Whether it converged.
    pub converged: bool,
    /// Whether its estimates were used: a session whose EM finds more matches than the inputs can
    /// hold (`max_matches`) has fitted something other than matches (a group of non-matches that
    /// agree on many fields, such as a household) and is left out, unless every session is.
    /// Models saved before this field existed read as `true`.
    #[serde(default = "used_default")]
    pub used: bool,
}

fn used_default() -> bool {
    true
}

/// The outcome of training.
#[derive(Debug, Clone, PartialEq)]
pub struct Trained {
    /// m per field per level (mean over sessions) and λ over all candidates; its iterations and
    /// convergence are those of the λ session.
    pub fit: EmFit,
    /// Every session, the per-rule ones first and the λ one last.
    pub sessions: Vec<SessionReport>,
    /// Compared fields used by every blocking rule, whose m kept the starting values.
    pub not_estimated: Vec<String>,
    /// Times training ran again with corrected u of the salted fields (set by the caller).
    pub u_corrections: u64,
}

/// The compared fields (indices into `comparator.fields()`) that rule `r`'s keys use.
fn rule_fields(schema: &Schema, comparator: &Comparator, r: usize) -> Vec<usize> {
    let Some(rule) = schema.blocking.get(r) else {
        return Vec::new();
    };
    rule.keys
        .iter()
        .filter_map(|k| schema.parse_key(k))
        .flat_map(|k| {
            comparator
                .fields()
                .iter()
                .enumerate()
                .filter(move |(_, f)| f.sources.contains(&k.field))
                .map(|(i, _)| i)
        })
        .collect()
}

/// P(rule `r`'s keys all agree | match) from the fitted `m`.
fn rule_recall(schema: &Schema, comparator: &Comparator, m: &[Vec<f64>], r: usize) -> f64 {
    let Some(rule) = schema.blocking.get(r) else {
        return 1.0;
    };
    let mut recall = 1.0;
    for key in rule.keys.iter().filter_map(|k| schema.parse_key(k)) {
        recall *= key_recall(comparator, m, key);
    }
    recall
}

/// P(key agrees | match) from the fitted `m` (for `field`: m of `exact`; for `field.level`: the m
/// of every level down to that level token, or of `exact` and the similarity bands when that
/// level is not compared), clamped to [1e-6, 1]; 1 when the key's field is not compared.
pub fn key_recall(comparator: &Comparator, m: &[Vec<f64>], key: crate::schema::KeyRef) -> f64 {
    use super::compare::LevelKind;
    let Some(c) = comparator
        .fields()
        .iter()
        .position(|f| f.field == key.field)
    else {
        return 1.0;
    };
    let levels = &comparator.fields()[c].levels;
    let m = &m[c];
    let p: f64 = match key.level {
        None => levels
            .iter()
            .zip(m)
            .filter(|(l, _)| matches!(l, LevelKind::Exact))
            .map(|(_, p)| p)
            .sum(),
        Some(level) => match levels
            .iter()
            .position(|l| matches!(l, LevelKind::Token(t) if *t == level))
        {
            Some(idx) => m.iter().take(idx + 1).sum::<f64>(),
            None => levels
                .iter()
                .zip(m)
                .filter(|(l, _)| {
                    matches!(
                        l,
                        LevelKind::Exact | LevelKind::Dice(_) | LevelKind::Similarity { .. }
                    )
                })
                .map(|(_, p)| p)
                .sum(),
        },
    };
    p.clamp(1e-6, 1.0)
}

/// Smallest λ a model holds (two random records of a city-sized pair of extracts match with
/// probability around 1e-6).
pub const LAMBDA_MIN: f64 = 1e-15;

/// Trains m and λ over `patterns` (aggregated with rule bits) with u fixed. `possible_pairs` is
/// the number of pairs the inputs can form, `max_matches` the most matches they can plausibly
/// hold; `lambda_guess` gives a starting λ for a session of
/// that many candidate pairs.
pub fn train(
    schema: &Schema,
    comparator: &Comparator,
    patterns: &Patterns,
    u: &[Vec<f64>],
    possible_pairs: u128,
    max_matches: f64,
    lambda_guess: impl Fn(u64) -> f64,
) -> Trained {
    let nf = comparator.n_fields();
    let m0: Vec<Vec<f64>> = comparator
        .fields()
        .iter()
        .map(|f| starting_m(f.levels.len()))
        .collect();
    let mut sums: Vec<Vec<f64>> = m0.iter().map(|l| vec![0.0; l.len()]).collect();
    let mut estimates = vec![0usize; nf];
    let mut sessions = Vec::new();
    let mut session_matches: Vec<(usize, f64)> = Vec::new();
    let mut fits = Vec::new();
    let tol = schema.link.em_tolerance;
    let max = schema.link.em_max_iterations;
    for r in schema
        .training_rule_indices()
        .into_iter()
        .filter(|r| *r < 64)
    {
        let excluded = rule_fields(schema, comparator, r);
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
        let fit = em::fit(patterns, u, &m0, lambda_guess(pairs), &session, tol, max);
        fits.push((r, pairs, session, fit));
    }
    // A session is plausible when the matches it finds fit in the inputs; if none is, all are used
    // (the guard must not leave the model without estimates).
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
            names.push(comparator.fields()[f].name.clone());
        }
        if used {
            session_matches.push((r, fit.lambda * pairs as f64));
        }
        sessions.push(SessionReport {
            rule: schema.blocking[r].name.clone(),
            pairs,
            fields_estimated: names,
            lambda: fit.lambda,
            iterations: fit.iterations as u64,
            converged: fit.converged,
            used,
        });
    }
    let m: Vec<Vec<f64>> = (0..nf)
        .map(|f| {
            if estimates[f] == 0 {
                m0[f].clone()
            } else {
                sums[f].iter().map(|s| s / estimates[f] as f64).collect()
            }
        })
        .collect();
    let not_estimated = (0..nf)
        .filter(|f| estimates[*f] == 0)
        .map(|f| comparator.fields()[f].name.clone())
        .collect();
    // λ: matches implied by each session, median, over all possible pairs.
    let mut implied: Vec<f64> = session_matches
        .iter()
        .map(|(r, matches)| matches / rule_recall(schema, comparator, &m, *r))
        .filter(|x| x.is_finite())
        .collect();
    implied.sort_by(f64::total_cmp);
    let matches = match implied.len() {
        0 => 0.0,
        n if n % 2 == 1 => implied[n / 2],
        n => (implied[n / 2 - 1] + implied[n / 2]) / 2.0,
    };
    let lambda = (matches / (possible_pairs.max(1) as f64)).clamp(LAMBDA_MIN, 0.5);
    let fit = EmFit {
        lambda,
        m: m.clone(),
        iterations: 0,
        converged: true,
        max_change: 0.0,
    };
    sessions.push(SessionReport {
        rule: format!(
            "all pairs: median of {} session estimates, {:.0} matches among {} pairs",
            implied.len(),
            matches,
            possible_pairs
        ),
        pairs: patterns.total(),
        fields_estimated: Vec::new(),
        lambda,
        iterations: 0,
        converged: true,
        used: true,
    });
    Trained {
        fit: EmFit { m, ..fit },
        sessions,
        not_estimated,
        u_corrections: 0,
    }
}
