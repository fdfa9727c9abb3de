//! Training the model: one EM session per blocking rule for m, then λ over all candidates (see
//! [`em`](super::em) for why).

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
}

/// The compared fields (indices into `comparator.fields()`) that rule `r`'s keys use.
fn rule_fields(schema: &Schema, comparator: &Comparator, r: usize) -> Vec<usize> {
    let Some(rule) = schema.blocking.get(r) else {
        return Vec::new();
    };
    rule.keys
        .iter()
        .filter_map(|k| schema.parse_key(k))
        .filter_map(|k| comparator.fields().iter().position(|f| f.field == k.field))
        .collect()
}

/// Trains m and λ over `patterns` (aggregated with rule bits) with u fixed.
pub fn train(
    schema: &Schema,
    comparator: &Comparator,
    patterns: &Patterns,
    u: &[Vec<f64>],
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
    let tol = schema.link.em_tolerance;
    let max = schema.link.em_max_iterations;
    for r in 0..schema.blocking.len().min(64) {
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
        let mut names = Vec::new();
        for f in (0..nf).filter(|f| session.estimated[*f]) {
            for (s, m) in sums[f].iter_mut().zip(&fit.m[f]) {
                *s += m;
            }
            estimates[f] += 1;
            names.push(comparator.fields()[f].name.clone());
        }
        sessions.push(SessionReport {
            rule: schema.blocking[r].name.clone(),
            pairs,
            fields_estimated: names,
            lambda: fit.lambda,
            iterations: fit.iterations as u64,
            converged: fit.converged,
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
    // λ over every candidate pair, with m and u fixed.
    let lambda_session = Session {
        rule: None,
        used: vec![true; nf],
        estimated: vec![false; nf],
    };
    let total = patterns.total();
    let fit = em::fit(
        patterns,
        u,
        &m,
        lambda_guess(total),
        &lambda_session,
        tol,
        max,
    );
    sessions.push(SessionReport {
        rule: "all candidates".into(),
        pairs: total,
        fields_estimated: Vec::new(),
        lambda: fit.lambda,
        iterations: fit.iterations as u64,
        converged: fit.converged,
    });
    Trained {
        fit: EmFit { m, ..fit },
        sessions,
        not_estimated,
    }
}
