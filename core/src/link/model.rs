//! The Fellegi-Sunter model: per comparison and level the m and u probabilities (and, for
//! household-aware comparisons, the u among pairs of one household), and the prior λ; its JSON
//! form (`--save-model`, `--model`); and scoring.
//!
//! A pair's match weight is
//!
//! ```text
//! w = log2(λ / (1 - λ)) + Σ_comparisons log2(m_c(level) / u_c(level))
//! ```
//!
//! where a comparison `missing` or `unknown` adds 0 (see the `compare` stage). When the
//! pair's household comparison reaches a level meaning one household (the default: the same
//! address and postcode), the comparisons marked `household` use their **household u**: the
//! chance that two *different* people of one household agree at that level (a shared surname is
//! no evidence there; a shared date of birth is the evidence of twins, about 2%, not of two
//! strangers, 1 in 20,000). In cleartext mode, exact agreement on a term-frequency comparison
//! uses the value's frequency for u (see the `term_frequency` stage). The match
//! probability is `2^w / (1 + 2^w)`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;
use crate::schema::Schema;

use super::compare::Comparator;
use super::em::EmFit;
use super::levels::is_uncompared;
use super::probability::{clamp_probability, PSEUDO_COUNT, P_MAX};
use super::sample::UEstimate;
use super::term_frequency::TermFrequencies;
use super::train::Trained;

pub use super::train::SessionReport;

/// Value of [`Model::format`].
pub const MODEL_FORMAT: &str = "pseudolink-model";
/// Version of the model file format. Version 3: comparisons of keys over token columns, u from
/// the extracts' pair statistics, household u (older models are refused).
pub const MODEL_FORMAT_VERSION: u32 = 3;

/// Which comparators a model was trained with: its levels differ between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonMode {
    /// Encoded extracts: token and filter comparisons.
    Encoded,
    /// Cleartext extracts: every level seen, string similarities, term frequencies.
    Clear,
}

/// A trained model (the model JSON file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Always [`MODEL_FORMAT`].
    pub format: String,
    /// [`MODEL_FORMAT_VERSION`].
    pub format_version: u32,
    /// The pseudolink version that trained it.
    pub library_version: String,
    /// The encoding fingerprint of the schema it was trained under.
    pub schema_fingerprint: crate::schema::SchemaFingerprint,
    /// The fingerprint of the schema's linkage settings.
    pub link_fingerprint: String,
    /// The comparators it was trained with.
    pub comparison: ComparisonMode,
    /// λ: the probability that two random records match.
    pub lambda: f64,
    /// `log2(λ / (1 - λ))`.
    pub prior_weight: f64,
    /// The comparisons.
    pub comparisons: Vec<ComparisonModel>,
    /// How it was trained.
    pub training: Training,
    /// The competing-links weights, when the schema's `link.competition` is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub competition: Option<super::competition::Competition>,
}

/// The parameters of one comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComparisonModel {
    /// The comparison's name.
    pub comparison: String,
    /// Whether its u are a household's when the pair is one household.
    pub household: bool,
    /// Whether exact agreement is weighed by the value's frequency (cleartext mode).
    pub term_frequency: bool,
    /// Its levels.
    pub levels: Vec<LevelModel>,
}

/// The parameters of one level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelModel {
    /// The level's name.
    pub level: String,
    /// P(level | match).
    pub m: f64,
    /// P(level | non-match).
    pub u: f64,
    /// `log2(m / u)`.
    pub weight: f64,
    /// P(level | two people of one household), for household comparisons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u_household: Option<f64>,
    /// `log2(m / u_household)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_household: Option<f64>,
}

/// How a model was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    /// Candidate pairs compared.
    pub candidate_pairs: u64,
    /// Distinct comparison patterns among them.
    pub distinct_patterns: u64,
    /// Where the u came from (`pair statistics of N extracts`, `random pairs`).
    pub u_source: String,
    /// Random pairs behind the u.
    pub u_pairs: u64,
    /// Pairs of one household behind the household u.
    pub household_pairs: u64,
    /// The household comparison and its levels, when household-aware.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<crate::schema::HouseholdSpec>,
    /// The matches the model implies among the inputs: `candidate_matches` divided by
    /// `blocking_formed_share` (in models saved before those two fields, λ times the possible
    /// pairs).
    pub implied_matches: f64,
    /// The matches λ implies among the candidate pairs (λ times the possible pairs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_matches: Option<f64>,
    /// The estimated share of matches that blocking forms (that satisfy some blocking rule),
    /// from the model's m: the rest are never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking_formed_share: Option<f64>,
    /// What that estimate assumed, one sentence each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocking_formed_assumptions: Vec<String>,
    /// Pairs the inputs can form.
    pub possible_pairs: f64,
    /// Seed of the random sampling.
    pub seed: u64,
    /// Total EM iterations.
    pub em_iterations: u64,
    /// Whether every used session converged.
    pub em_converged: bool,
    /// EM's tolerance.
    pub em_tolerance: f64,
    /// EM's iteration limit.
    pub em_max_iterations: u64,
    /// Pseudo-count added to every level in the M-step.
    pub pseudo_count: f64,
    /// One entry per EM session, and the λ estimate.
    pub sessions: Vec<SessionReport>,
    /// Comparisons no session estimated (their m are the starting values).
    pub comparisons_not_estimated: Vec<String>,
}

impl Model {
    /// The model of a training.
    pub fn new(
        schema: &Schema,
        comparator: &Comparator,
        u: &UEstimate,
        trained: &Trained,
        candidate_pairs: u64,
        distinct_patterns: u64,
    ) -> Model {
        let fit: &EmFit = &trained.fit;
        let lambda = fit.lambda.clamp(super::train::LAMBDA_MIN, P_MAX);
        let comparisons = comparator
            .rules()
            .iter()
            .enumerate()
            .map(|(c, rule)| ComparisonModel {
                comparison: rule.name.clone(),
                household: rule.household && comparator.household().is_some(),
                term_frequency: rule.term_frequency.is_some(),
                levels: rule
                    .level_names
                    .iter()
                    .enumerate()
                    .map(|(l, name)| {
                        let m = fit
                            .m
                            .get(c)
                            .and_then(|x| x.get(l))
                            .copied()
                            .map_or(0.5, clamp_probability);
                        let u_l =
                            u.u.get(c)
                                .and_then(|x| x.get(l))
                                .copied()
                                .map_or(0.5, clamp_probability);
                        let hh = u
                            .u_household
                            .get(c)
                            .and_then(|x| x.as_ref())
                            .and_then(|x| x.get(l))
                            .copied()
                            .map(clamp_probability);
                        LevelModel {
                            level: name.clone(),
                            m,
                            u: u_l,
                            weight: (m / u_l).log2(),
                            u_household: hh,
                            weight_household: hh.map(|h| (m / h).log2()),
                        }
                    })
                    .collect(),
            })
            .collect();
        Model {
            format: MODEL_FORMAT.into(),
            format_version: MODEL_FORMAT_VERSION,
            library_version: crate::VERSION.into(),
            schema_fingerprint: schema.fingerprint(),
            link_fingerprint: schema.link_fingerprint(),
            comparison: if comparator.is_clear() {
                ComparisonMode::Clear
            } else {
                ComparisonMode::Encoded
            },
            lambda,
            prior_weight: (lambda / (1.0 - lambda)).log2(),
            comparisons,
            training: Training {
                candidate_pairs,
                distinct_patterns,
                u_source: u.source.clone(),
                u_pairs: u.pairs,
                household_pairs: u.household_pairs,
                household: schema.link.household.clone(),
                implied_matches: trained.implied_matches,
                candidate_matches: Some(trained.candidate_matches),
                blocking_formed_share: Some(trained.formed_share),
                blocking_formed_assumptions: trained.formed_assumptions.clone(),
                possible_pairs: trained.possible_pairs,
                seed: schema.link.seed,
                em_iterations: trained.sessions.iter().map(|s| s.iterations).sum(),
                em_converged: trained
                    .sessions
                    .iter()
                    .filter(|s| s.used)
                    .all(|s| s.converged),
                em_tolerance: schema.link.em_tolerance,
                em_max_iterations: schema.link.em_max_iterations as u64,
                pseudo_count: PSEUDO_COUNT,
                sessions: trained.sessions.clone(),
                comparisons_not_estimated: trained.not_estimated.clone(),
            },
            competition: None,
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses and checks a model.
    pub fn from_json(text: &str) -> Result<Model> {
        // The version first, so an old model is refused for its version rather than for a field.
        let head: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::Model(format!("not a valid pseudolink model: {e}")))?;
        let version = head
            .get("format_version")
            .and_then(serde_json::Value::as_u64);
        if head.get("format").and_then(serde_json::Value::as_str) == Some(MODEL_FORMAT)
            && version.is_some_and(|v| v < u64::from(MODEL_FORMAT_VERSION))
        {
            return Err(Error::Model(format!(
                "format '{MODEL_FORMAT}' version {} was trained by an older pseudolink on another encoding; train a new model (--save-model) with this pseudolink, which reads version {MODEL_FORMAT_VERSION}",
                version.unwrap_or(0)
            )));
        }
        let model: Model = serde_json::from_value(head)
            .map_err(|e| Error::Model(format!("not a valid pseudolink model: {e}")))?;
        if model.format != MODEL_FORMAT || model.format_version != MODEL_FORMAT_VERSION {
            return Err(Error::Model(format!(
                "format '{}' version {}; this pseudolink reads '{MODEL_FORMAT}' version {MODEL_FORMAT_VERSION}",
                model.format, model.format_version
            )));
        }
        let valid = |p: f64| p.is_finite() && p > 0.0 && p < 1.0;
        if !valid(model.lambda) {
            return Err(Error::Model(format!(
                "lambda {} is not a probability strictly between 0 and 1",
                model.lambda
            )));
        }
        for c in &model.comparisons {
            for l in &c.levels {
                if !valid(l.m) || !valid(l.u) || l.u_household.is_some_and(|h| !valid(h)) {
                    return Err(Error::Model(format!(
                        "comparison '{}' level '{}': m and u must be strictly between 0 and 1",
                        c.comparison, l.level
                    )));
                }
            }
        }
        Ok(model)
    }

    /// Reads a model file.
    pub fn read(path: &Path) -> Result<Model> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        Model::from_json(&text).map_err(|e| match e {
            Error::Model(m) => Error::Model(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Writes the model file (atomically).
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut json = self.to_json();
        json.push('\n');
        write_atomic(path, json.as_bytes())
    }

    /// Checks that this model can score pairs of `comparator` under `schema`: the same encoding,
    /// the same comparisons and levels.
    pub fn check_fits(&self, schema: &Schema, comparator: &Comparator) -> Result<()> {
        if self.schema_fingerprint != schema.fingerprint() {
            return Err(Error::Model(format!(
                "the model was trained on extracts encoded under schema {} but this run uses schema {}; train a new model (--save-model) or use the schema it was trained with",
                self.schema_fingerprint,
                schema.fingerprint()
            )));
        }
        let want = if comparator.is_clear() {
            ComparisonMode::Clear
        } else {
            ComparisonMode::Encoded
        };
        if self.comparison != want {
            return Err(Error::Model(format!(
                "the model was trained in {} mode but this run compares {}: the levels differ; train a new model",
                mode_name(self.comparison),
                mode_name(want)
            )));
        }
        let names = comparator.level_names();
        let ok = self.comparisons.len() == names.len()
            && self
                .comparisons
                .iter()
                .zip(&names)
                .zip(comparator.rules())
                .all(|((c, n), r)| {
                    c.comparison == r.name
                        && c.levels.len() == n.len()
                        && c.levels.iter().zip(n).all(|(l, name)| &l.level == name)
                });
        if !ok {
            return Err(Error::Model(
                "the model's comparisons and levels do not match the schema's (link.comparisons): train a new model, or link with the schema it was trained with".into(),
            ));
        }
        Ok(())
    }
}

fn mode_name(m: ComparisonMode) -> &'static str {
    match m {
        ComparisonMode::Encoded => "encoded",
        ComparisonMode::Clear => "cleartext",
    }
}

/// Scores comparison vectors with a model and term frequencies.
#[derive(Debug, Clone)]
pub(crate) struct Scorer {
    prior: f64,
    weights: Vec<Vec<f64>>,
    /// Per comparison: the weights under one household, for household comparisons.
    weights_household: Vec<Option<Vec<f64>>>,
    m: Vec<Vec<f64>>,
    u: Vec<Vec<f64>>,
    u_household: Vec<Option<Vec<f64>>>,
    household: Option<(usize, u64)>,
    /// Per comparison: the level weighed by term frequency (its first), when adjusted.
    exact: Vec<Option<u8>>,
    tf: TermFrequencies,
}

/// What one comparison adds to a pair's match weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    /// The comparison.
    pub comparison: String,
    /// The level reached.
    pub level: String,
    /// m of the level (none for missing and unknown).
    pub m: Option<f64>,
    /// u of the level, or the household u, or the value's frequency.
    pub u: Option<f64>,
    /// Whether u is the household's (the pair is one household).
    pub household: bool,
    /// Whether u is the value's frequency.
    pub term_frequency_adjusted: bool,
    /// `log2(m / u)`.
    pub weight: f64,
}

impl Scorer {
    /// The scorer of `model` for pairs compared by `comparator`.
    pub fn new(model: &Model, comparator: &Comparator, tf: TermFrequencies) -> Scorer {
        let levels = |f: &dyn Fn(&LevelModel) -> f64| -> Vec<Vec<f64>> {
            model
                .comparisons
                .iter()
                .map(|c| c.levels.iter().map(|l| clamp_probability(f(l))).collect())
                .collect()
        };
        let m = levels(&|l| l.m);
        let u = levels(&|l| l.u);
        let u_household: Vec<Option<Vec<f64>>> = model
            .comparisons
            .iter()
            .map(|c| {
                c.household.then(|| {
                    c.levels
                        .iter()
                        .map(|l| clamp_probability(l.u_household.unwrap_or(l.u)))
                        .collect()
                })
            })
            .collect();
        let ratio = |m: &[f64], u: &[f64]| -> Vec<f64> {
            m.iter().zip(u).map(|(m, u)| (m / u).log2()).collect()
        };
        let weights = m.iter().zip(&u).map(|(m, u)| ratio(m, u)).collect();
        let weights_household = m
            .iter()
            .zip(&u_household)
            .map(|(m, h)| h.as_ref().map(|h| ratio(m, h)))
            .collect();
        let lambda = model.lambda.clamp(super::train::LAMBDA_MIN, P_MAX);
        Scorer {
            prior: (lambda / (1.0 - lambda)).log2(),
            weights,
            weights_household,
            m,
            u,
            u_household,
            household: comparator.household(),
            exact: comparator
                .rules()
                .iter()
                .map(|r| r.term_frequency.map(|_| 0u8))
                .collect(),
            tf,
        }
    }

    /// `log2(λ / (1 - λ))`.
    pub fn prior_weight(&self) -> f64 {
        self.prior
    }

    /// Whether the pair of comparison vector `levels` is one household.
    #[inline]
    pub fn one_household(&self, levels: &[u8]) -> bool {
        self.household.is_some_and(|(c, mask)| {
            levels
                .get(c)
                .is_some_and(|&l| !is_uncompared(l) && l < 64 && mask & (1u64 << l) != 0)
        })
    }

    /// The weight comparison `c` adds at `level` (`household`: under one household); `a` is the
    /// first record of the pair (for term frequencies).
    #[inline]
    pub fn comparison_weight(&self, c: usize, level: u8, household: bool, a: u32) -> f64 {
        if is_uncompared(level) {
            return 0.0;
        }
        if self.exact.get(c).copied().flatten() == Some(level) && !household {
            if let Some(freq) = self.tf.get(c, a) {
                let m = self.m[c][usize::from(level)];
                return (m / clamp_probability(freq)).log2();
            }
        }
        let table = match (household, self.weights_household.get(c)) {
            (true, Some(Some(w))) => w,
            _ => match self.weights.get(c) {
                Some(w) => w,
                None => return 0.0,
            },
        };
        table.get(usize::from(level)).copied().unwrap_or(0.0)
    }

    /// Whether scoring `levels` reads a term frequency (its weight then depends on the pair, not
    /// only on the pattern).
    pub fn uses_term_frequency(&self, levels: &[u8]) -> bool {
        !self.one_household(levels)
            && levels.iter().enumerate().any(|(c, &l)| {
                self.exact.get(c).copied().flatten() == Some(l) && self.tf.is_adjusted(c)
            })
    }

    /// The match weight of comparison vector `levels`; `a` is the pair's first record.
    #[inline]
    pub fn weight(&self, levels: &[u8], a: u32) -> f64 {
        let hh = self.one_household(levels);
        self.prior
            + levels
                .iter()
                .enumerate()
                .map(|(c, &l)| self.comparison_weight(c, l, hh, a))
                .sum::<f64>()
    }

    /// The natural log of u of comparison `c` at `level` for a pair of vector `levels` (the
    /// household u when the pair is one household): what EM uses.
    #[inline]
    pub fn u_of(&self, c: usize, level: usize, household: bool) -> f64 {
        let table = match (household, self.u_household.get(c)) {
            (true, Some(Some(h))) => h,
            _ => &self.u[c],
        };
        table.get(level).copied().unwrap_or(0.5)
    }

    /// What each comparison adds to the weight of comparison vector `levels`.
    pub fn contributions(
        &self,
        comparator: &Comparator,
        levels: &[u8],
        a: u32,
    ) -> Vec<Contribution> {
        let hh = self.one_household(levels);
        comparator
            .rules()
            .iter()
            .zip(levels)
            .enumerate()
            .map(|(c, (rule, &level))| {
                let name = super::compare::level_name(rule, level);
                if is_uncompared(level) {
                    return Contribution {
                        comparison: rule.name.clone(),
                        level: name,
                        m: None,
                        u: None,
                        household: false,
                        term_frequency_adjusted: false,
                        weight: 0.0,
                    };
                }
                let l = usize::from(level);
                let adjusted = !hh
                    && self.exact.get(c).copied().flatten() == Some(level)
                    && self.tf.get(c, a).is_some();
                let household = hh && matches!(self.u_household.get(c), Some(Some(_)));
                let u = if adjusted {
                    self.tf.get(c, a).map(clamp_probability)
                } else {
                    Some(self.u_of(c, l, household))
                };
                Contribution {
                    comparison: rule.name.clone(),
                    level: name,
                    m: self.m.get(c).and_then(|x| x.get(l)).copied(),
                    u,
                    household,
                    term_frequency_adjusted: adjusted,
                    weight: self.comparison_weight(c, level, hh, a),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_and_old_models_are_refused() {
        assert!(matches!(Model::from_json("{}"), Err(Error::Model(_))));
        let old = r#"{"format": "pseudolink-model", "format_version": 2}"#;
        let e = Model::from_json(old).unwrap_err().to_string();
        assert!(e.contains("train a new model"), "{e}");
    }
}
