//! The Fellegi-Sunter model: per field and level the m and u probabilities, and the prior match
//! rate λ; its JSON form (`--save-model`, `--model`); and scoring.
//!
//! A pair's match weight is
//!
//! ```text
//! w = log2(λ / (1 - λ)) + Σ_fields log2(m_f(level) / u_f(level))
//! ```
//!
//! where a field missing on either side, or salted with different salts on the two sides, adds 0
//! (see [`compare`](super::compare)), and exact agreement on a term-frequency field uses
//! the value's frequency for u (see [`term_frequency`](super::term_frequency)). The match
//! probability is `2^w / (1 + 2^w)`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;
use crate::schema::Schema;

use super::compare::{is_uncompared, Comparator};
use super::em::{clamp_probability, EmFit, PSEUDO_COUNT, P_MAX};
use super::sample::USample;
use super::term_frequency::TermFrequencies;
use super::train::{SessionReport, Trained};

/// Value of [`Model::format`].
pub const MODEL_FORMAT: &str = "pseudolink-model";
/// Version of the model file format. Version 2: salted fields are compared only within equal
/// salts, so their u are shares among random pairs with equal salts (version 1 models hold u among
/// all random pairs, which mean something else, and are refused).
pub const MODEL_FORMAT_VERSION: u32 = 2;

/// Which comparators a model was trained with: its levels differ between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonMode {
    /// Encoded extracts: Dice bands on Bloom filters.
    Encoded,
    /// Cleartext (`--clear`): string similarities where the schema gives them.
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
    /// Version of pseudolink that trained it.
    pub library_version: String,
    /// Fingerprint of the schema it was trained under.
    pub schema_fingerprint: String,
    /// Encoded or cleartext comparison.
    pub comparison: ComparisonMode,
    /// Prior match rate: the probability that two random records (from different sources) match.
    pub lambda: f64,
    /// `log2(λ / (1 - λ))`.
    pub prior_weight: f64,
    /// Per compared field, in schema order.
    pub fields: Vec<FieldModel>,
    /// How the model was trained.
    pub training: Training,
}

/// The parameters of one compared field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldModel {
    /// Field name.
    pub field: String,
    /// Whether exact agreement is term-frequency adjusted when scoring.
    pub term_frequency: bool,
    /// The salt (`field` or `field.level`) the field is compared within: a pair whose salts
    /// differ gets the level `salts differ` (weight 0), and u is the level shares among random pairs
    /// with equal salts. Absent for an unsalted field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// The levels, best first (`missing` and `salts differ`, weight 0, are not listed).
    pub levels: Vec<LevelModel>,
}

/// The parameters of one level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelModel {
    /// Level name (`exact`, `dice>=0.9`, `swapped`, `else`...).
    pub level: String,
    /// P(level | match).
    pub m: f64,
    /// P(level | non-match).
    pub u: f64,
    /// `log2(m / u)`.
    pub weight: f64,
}

/// How a model was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    /// Candidate pairs EM ran over.
    pub candidate_pairs: u64,
    /// Distinct comparison vectors among them.
    pub distinct_patterns: u64,
    /// Random pairs compared for u.
    pub u_sample_pairs: u64,
    /// Per salt that fields are compared within: the sample of pairs with equal salts that gave
    /// their u (see [`sample`](super::sample)).
    pub equal_salt_samples: Vec<EqualSaltSample>,
    /// Times the model was trained again with the u of the salted fields corrected for the
    /// matches among pairs with equal salts.
    pub salted_u_corrections: u64,
    /// Seed of the random sample.
    pub seed: u64,
    /// EM iterations run, over all sessions.
    pub em_iterations: u64,
    /// Whether every EM session converged within the tolerance.
    pub em_converged: bool,
    /// Largest parameter change in the last iteration of the λ session.
    pub em_max_change: f64,
    /// The tolerance.
    pub em_tolerance: f64,
    /// The iteration limit.
    pub em_max_iterations: u64,
    /// Pseudo-count added per level.
    pub pseudo_count: f64,
    /// The EM sessions: one per blocking rule (m of the fields its keys do not use), then λ.
    pub sessions: Vec<SessionReport>,
    /// Compared fields no session could estimate (used by every blocking rule): their m are the
    /// starting values.
    pub fields_not_estimated: Vec<String>,
}

/// The sample of pairs with equal salts behind the u of the fields compared within one salt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EqualSaltSample {
    /// The salt (`field` or `field.level`).
    pub salt: String,
    /// Pairs with equal salts the inputs can form.
    pub possible_pairs: u64,
    /// Of them, compared for u.
    pub sampled_pairs: u64,
    /// The model's share of matches among them, taken out of u.
    pub match_share: f64,
}

impl Model {
    /// Assembles a model from the u estimate and the EM fit.
    pub fn new(
        schema: &Schema,
        comparator: &Comparator,
        u: &USample,
        trained: &Trained,
        candidate_pairs: u64,
        distinct_patterns: u64,
    ) -> Model {
        let fit: &EmFit = &trained.fit;
        let lambda = fit.lambda.clamp(super::train::LAMBDA_MIN, P_MAX);
        let fields = comparator
            .fields()
            .iter()
            .enumerate()
            .map(|(f, c)| FieldModel {
                field: c.name.clone(),
                term_frequency: c.term_frequency,
                salt: c.salt.clone(),
                levels: c
                    .levels
                    .iter()
                    .enumerate()
                    .map(|(l, kind)| {
                        let m = fit
                            .m
                            .get(f)
                            .and_then(|x| x.get(l))
                            .copied()
                            .map_or(0.5, clamp_probability);
                        let u =
                            u.u.get(f)
                                .and_then(|x| x.get(l))
                                .copied()
                                .map_or(0.5, clamp_probability);
                        LevelModel {
                            level: kind.name(),
                            m,
                            u,
                            weight: (m / u).log2(),
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
            comparison: if comparator.is_clear() {
                ComparisonMode::Clear
            } else {
                ComparisonMode::Encoded
            },
            lambda,
            prior_weight: (lambda / (1.0 - lambda)).log2(),
            fields,
            training: Training {
                candidate_pairs,
                distinct_patterns,
                u_sample_pairs: u.pairs,
                equal_salt_samples: u
                    .salts
                    .iter()
                    .map(|s| EqualSaltSample {
                        salt: s.salt.clone(),
                        possible_pairs: u64::try_from(s.possible_pairs).unwrap_or(u64::MAX),
                        sampled_pairs: s.sampled_pairs,
                        match_share: s.match_share,
                    })
                    .collect(),
                salted_u_corrections: trained.u_corrections,
                seed: schema.link.seed,
                em_iterations: trained.sessions.iter().map(|s| s.iterations).sum(),
                em_converged: trained
                    .sessions
                    .iter()
                    .filter(|s| s.used)
                    .all(|s| s.converged),
                em_max_change: if fit.max_change.is_finite() {
                    fit.max_change
                } else {
                    0.0
                },
                em_tolerance: schema.link.em_tolerance,
                em_max_iterations: schema.link.em_max_iterations as u64,
                pseudo_count: PSEUDO_COUNT,
                sessions: trained.sessions.clone(),
                fields_not_estimated: trained.not_estimated.clone(),
            },
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses a model from JSON, checking its format and probabilities.
    pub fn from_json(text: &str) -> Result<Model> {
        // The version first, so an old model is refused for its version rather than for a field.
        let head: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::Model(format!("not a valid pseudolink model: {e}")))?;
        let version = head
            .get("format_version")
            .and_then(serde_json::Value::as_u64);
        if head.get("format").and_then(serde_json::Value::as_str) == Some(MODEL_FORMAT)
            && version == Some(1)
        {
            return Err(Error::Model(format!(
                "format '{MODEL_FORMAT}' version 1 was trained before salted fields were compared only within equal salts, so its u probabilities mean something else; train a new model (--save-model) with this pseudolink, which reads version {MODEL_FORMAT_VERSION}"
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
        for f in &model.fields {
            for l in &f.levels {
                if !valid(l.m) || !valid(l.u) {
                    return Err(Error::Model(format!(
                        "field '{}' level '{}': m and u must be strictly between 0 and 1",
                        f.field, l.level
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

    /// Writes the model to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut json = self.to_json();
        json.push('\n');
        write_atomic(path, json.as_bytes())
    }

    /// Checks that this model fits `schema` and `comparator`: same schema fingerprint, same
    /// comparison mode, same fields and levels.
    pub fn check_fits(&self, schema: &Schema, comparator: &Comparator) -> Result<()> {
        if self.schema_fingerprint != schema.fingerprint() {
            return Err(Error::Model(format!(
                "the model was trained under schema {} but this run uses schema {}; train a new model (--save-model) or use the schema it was trained with",
                self.schema_fingerprint,
                schema.fingerprint()
            )));
        }
        let mode = if comparator.is_clear() {
            ComparisonMode::Clear
        } else {
            ComparisonMode::Encoded
        };
        if self.comparison != mode {
            return Err(Error::Model(format!(
                "the model was trained for {:?} comparison but this run is {:?} (--clear must match)",
                self.comparison, mode
            )));
        }
        let names = comparator.level_names();
        let ok = self.fields.len() == names.len()
            && self
                .fields
                .iter()
                .zip(&names)
                .zip(comparator.fields())
                .all(|((f, n), c)| {
                    f.field == c.name
                        && f.salt == c.salt
                        && f.levels.len() == n.len()
                        && f.levels.iter().zip(n).all(|(l, name)| &l.level == name)
                });
        if !ok {
            return Err(Error::Model(
                "the model's fields and levels do not match the schema's comparisons".into(),
            ));
        }
        Ok(())
    }
}

/// `2^w / (1 + 2^w)`, computed without overflow.
#[inline]
pub fn probability(weight: f64) -> f64 {
    if weight >= 0.0 {
        1.0 / (1.0 + (-weight).exp2())
    } else {
        let e = weight.exp2();
        e / (1.0 + e)
    }
}

/// Scores comparison vectors with a model and term frequencies.
#[derive(Debug, Clone)]
pub struct Scorer {
    prior: f64,
    weights: Vec<Vec<f64>>,
    m: Vec<Vec<f64>>,
    u: Vec<Vec<f64>>,
    exact: Vec<Option<u8>>,
    tf: TermFrequencies,
}

/// What one field adds to a pair's match weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    /// Field name.
    pub field: String,
    /// Level reached (`missing` when a side lacks the value, `salts differ` when the field is
    /// salted and the two salts differ: not compared).
    pub level: String,
    /// m of the level (absent for `missing` and `salts differ`).
    pub m: Option<f64>,
    /// u of the level, or the term frequency when adjusted (absent for `missing` and
    /// `salts differ`).
    pub u: Option<f64>,
    /// Whether u is the value's term frequency.
    pub term_frequency_adjusted: bool,
    /// `log2(m / u)`, or 0 for `missing` and `salts differ`.
    pub weight: f64,
}

impl Scorer {
    /// A scorer for `model` (which must fit `comparator`) with term frequencies `tf`.
    pub fn new(model: &Model, comparator: &Comparator, tf: TermFrequencies) -> Scorer {
        let m: Vec<Vec<f64>> = model
            .fields
            .iter()
            .map(|f| f.levels.iter().map(|l| clamp_probability(l.m)).collect())
            .collect();
        let u: Vec<Vec<f64>> = model
            .fields
            .iter()
            .map(|f| f.levels.iter().map(|l| clamp_probability(l.u)).collect())
            .collect();
        let weights = m
            .iter()
            .zip(&u)
            .map(|(m, u)| m.iter().zip(u).map(|(m, u)| (m / u).log2()).collect())
            .collect();
        let lambda = model.lambda.clamp(super::train::LAMBDA_MIN, P_MAX);
        Scorer {
            prior: (lambda / (1.0 - lambda)).log2(),
            weights,
            m,
            u,
            exact: comparator
                .fields()
                .iter()
                .map(|f| f.exact_level().filter(|_| f.term_frequency))
                .collect(),
            tf,
        }
    }

    /// The prior weight `log2(λ / (1 - λ))`.
    pub fn prior_weight(&self) -> f64 {
        self.prior
    }

    /// The weight compared field `f` adds at `level` for a pair whose first record is `a`.
    #[inline]
    pub fn field_weight(&self, f: usize, level: u8, a: u32) -> f64 {
        if is_uncompared(level) {
            return 0.0;
        }
        if self.exact.get(f).copied().flatten() == Some(level) {
            if let Some(freq) = self.tf.get(f, a) {
                let m = self.m[f][usize::from(level)];
                return (m / clamp_probability(freq)).log2();
            }
        }
        self.weights
            .get(f)
            .and_then(|w| w.get(usize::from(level)))
            .copied()
            .unwrap_or(0.0)
    }

    /// Whether the weight of comparison vector `levels` depends on the pair's first record: some
    /// term-frequency adjusted field is at its exact level.
    pub fn uses_term_frequency(&self, levels: &[u8]) -> bool {
        levels.iter().enumerate().any(|(f, &l)| {
            self.exact.get(f).copied().flatten() == Some(l) && self.tf.is_adjusted(f)
        })
    }

    /// The match weight of comparison vector `levels` of a pair whose first record is `a`.
    #[inline]
    pub fn weight(&self, levels: &[u8], a: u32) -> f64 {
        self.prior
            + levels
                .iter()
                .enumerate()
                .map(|(f, &l)| self.field_weight(f, l, a))
                .sum::<f64>()
    }

    /// Per-field contributions of a comparison vector (see [`Contribution`]).
    pub fn contributions(
        &self,
        comparator: &Comparator,
        levels: &[u8],
        a: u32,
    ) -> Vec<Contribution> {
        comparator
            .fields()
            .iter()
            .zip(levels)
            .enumerate()
            .map(|(f, (c, &level))| {
                let name = super::compare::level_name(c, level);
                if is_uncompared(level) {
                    return Contribution {
                        field: c.name.clone(),
                        level: name,
                        m: None,
                        u: None,
                        term_frequency_adjusted: false,
                        weight: 0.0,
                    };
                }
                let l = usize::from(level);
                let adjusted = self.exact.get(f).copied().flatten() == Some(level)
                    && self.tf.get(f, a).is_some();
                let u = if adjusted {
                    self.tf.get(f, a).map(clamp_probability)
                } else {
                    self.u.get(f).and_then(|x| x.get(l)).copied()
                };
                Contribution {
                    field: c.name.clone(),
                    level: name,
                    m: self.m.get(f).and_then(|x| x.get(l)).copied(),
                    u,
                    term_frequency_adjusted: adjusted,
                    weight: self.field_weight(f, level, a),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_is_the_logistic_of_base_two() {
        assert_eq!(probability(0.0), 0.5);
        assert!((probability(1.0) - 2.0 / 3.0).abs() < 1e-12);
        assert!((probability(-1.0) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(probability(5000.0), 1.0);
        assert_eq!(probability(-5000.0), 0.0);
    }

    #[test]
    fn bad_models_are_refused() {
        assert!(matches!(Model::from_json("{}"), Err(Error::Model(_))));
    }
}
