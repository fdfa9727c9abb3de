//! Explanations: why a pair got its match weight, comparison by comparison.

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};

use super::competition::StandingModel;
use super::linkage::Linkage;
use super::model::Contribution;
use super::outcome::Band;
use super::pool::pack_pair;
use super::probability::probability;

/// The per-field contributions to one pair's match weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// Source of the left record.
    pub left_source: String,
    /// Id of the left record.
    pub left_id: String,
    /// Source of the right record.
    pub right_source: String,
    /// Id of the right record.
    pub right_id: String,
    /// Whether blocking made the pair a candidate (only candidates are scored in a run).
    pub candidate: bool,
    /// `log2(λ / (1 - λ))`.
    pub prior_weight: f64,
    /// Per compared field.
    pub comparisons: Vec<Contribution>,
    /// Competing links (`link.competition`): the pair's standing among the other pairs of its
    /// records, with its m, u and weight. Only pairs at or above the review threshold have one,
    /// and only when the model weighs competing links.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub competition: Option<StandingModel>,
    /// The match weight: the prior plus every field's weight, plus the standing's.
    pub match_weight: f64,
    /// `2^w / (1 + 2^w)`.
    pub match_probability: f64,
    /// The pair's band in the output, if it is there.
    pub band: Option<Band>,
}

impl Linkage {
    /// The competing-links standing of the pair of records `a` and `b` (pool indices, any order),
    /// with its m, u and weight: `None` below the review threshold or when the model does not
    /// weigh competing links.
    pub(crate) fn standing_of(&self, a: u32, b: u32) -> Option<&StandingModel> {
        let i = self.review_pairs.binary_search(&pack_pair(a, b)).ok()?;
        let standing = self.review_standings.get(i)?;
        self.model.competition.as_ref()?.level(*standing)
    }

    /// Explains the pair of records `left_id` and `right_id`: with two sources the left id is
    /// looked up in the first and the right id in the second; deduplicating, both in the one
    /// source; with more sources, the left id in the first source that has it and the right id in
    /// another. Works for any pair, candidate or not.
    pub fn explain(&self, left_id: &str, right_id: &str) -> Result<Explanation> {
        let pool = &self.pool;
        let names = pool.source_names();
        let missing = |id: &str, where_: &str| {
            Error::Invalid(format!("no record with id '{id}' in {where_}"))
        };
        let a = if names.len() == 2 {
            pool.find(0, left_id)
        } else {
            pool.find_any(left_id)
        }
        .ok_or_else(|| missing(left_id, names.first().map_or("the input", |s| s.as_str())))?;
        let b = if pool.is_dedupe() {
            pool.find(0, right_id)
        } else {
            (0..names.len())
                .filter_map(|s| u16::try_from(s).ok())
                .filter(|s| *s != pool.source(a))
                .find_map(|s| pool.find(s, right_id))
        }
        .ok_or_else(|| {
            missing(
                right_id,
                if names.len() == 2 {
                    names[1].as_str()
                } else {
                    "the other inputs"
                },
            )
        })?;
        if !pool.pair_allowed(a, b) {
            return Err(Error::Invalid(format!(
                "'{left_id}' and '{right_id}' are not a pair that is compared"
            )));
        }
        let (first, second) = if a < b { (a, b) } else { (b, a) };
        let mut levels = vec![0u8; self.comparator.n_fields()];
        self.comparator.compare(pool, first, second, &mut levels);
        let scorer = self.scorer();
        let comparisons = scorer.contributions(&self.comparator, &levels, first);
        let mut weight = scorer.weight(&levels, first);
        let competition = self.standing_of(first, second).cloned();
        if let Some(c) = &competition {
            weight += c.weight;
        }
        let candidate = self
            .blocking
            .plan
            .is_candidate(&pool.row(first), &pool.row(second));
        let band = self
            .links
            .iter()
            .find(|l| l.left == first && l.right == second)
            .map(|l| l.band);
        Ok(Explanation {
            left_source: names
                .get(usize::from(pool.source(a)))
                .cloned()
                .unwrap_or_default(),
            left_id: left_id.to_string(),
            right_source: names
                .get(usize::from(pool.source(b)))
                .cloned()
                .unwrap_or_default(),
            right_id: right_id.to_string(),
            candidate,
            prior_weight: scorer.prior_weight(),
            comparisons,
            competition,
            match_weight: weight,
            match_probability: probability(weight),
            band,
        })
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} ({}) vs {} ({}){}",
            self.left_id,
            self.left_source,
            self.right_id,
            self.right_source,
            if self.candidate {
                ""
            } else {
                "  [not a candidate pair: no blocking rule brings them together]"
            }
        )?;
        writeln!(
            f,
            "  {:<20} {:<26} {:>10} {:>10} {:>8}",
            "comparison", "level", "m", "u", "weight"
        )?;
        writeln!(
            f,
            "  {:<20} {:<26} {:>10} {:>10} {:>8.3}",
            "(prior)", "", "", "", self.prior_weight
        )?;
        for c in &self.comparisons {
            let num = |x: Option<f64>| x.map_or_else(String::new, |v| format!("{v:.6}"));
            let level = if c.level == "unknown" {
                "not seen (unknown)".to_string()
            } else {
                c.level.clone()
            };
            writeln!(
                f,
                "  {:<20} {:<26} {:>10} {:>10} {:>8.3}{}",
                c.comparison,
                level,
                num(c.m),
                num(c.u),
                c.weight,
                if c.term_frequency_adjusted {
                    "  (u = term frequency)"
                } else if c.household {
                    "  (u = one household)"
                } else {
                    ""
                }
            )?;
        }
        if let Some(c) = &self.competition {
            writeln!(
                f,
                "  {:<20} {:<26} {:>10.6} {:>10.6} {:>8.3}",
                "(competing links)", c.standing, c.m, c.u, c.weight
            )?;
        }
        write!(
            f,
            "  match weight {:.3}, match probability {:.6}, band {}",
            self.match_weight,
            self.match_probability,
            self.band.map_or("none", Band::as_str)
        )
    }
}
