//! Measuring an attack: its guesses against the truth, beyond a blind guess.
//!
//! An attack produces, for one attribute, a guess per record ([`NONE`] when it has none). Its
//! [`Score`] counts the records with a true value (the known records excluded: an insider
//! already knows them), those guessed, those guessed right, and those a **blind guess** gets
//! right: the single most frequent reference value, given to everyone. What the verdict judges
//! is the share guessed right beyond the blind guess.
//!
//! Attacks report every variant (which column, which groups, which bridges); the [`Board`] keeps
//! per attack family, attribute and number of known records the variant that measured
//! strongest (for the report: the worst case) and, per scenario, the variant that the
//! *attacker* would pick without the truth: the one most often right on the known records it
//! can check itself (for the combined attack).

use serde::Serialize;

use super::columns::NONE;
use super::values::{AttributeValues, KnownSet};

/// Counts of one attack on one attribute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Score {
    /// Records with a true value that the attacker did not know.
    pub records: u64,
    /// Of those, records the attack made a guess for.
    pub guessed: u64,
    /// Records guessed right.
    pub correct: u64,
    /// Records the blind guess gets right.
    pub blind: u64,
}

impl Score {
    /// Measures `guesses` (one per record) against the truth of `values`, over the records not
    /// in `known`.
    pub fn measure(values: &AttributeValues, guesses: &[u32], known: Option<&KnownSet>) -> Score {
        let blind = values.blind();
        let mut s = Score::default();
        for (r, &t) in values.truth.iter().enumerate() {
            if t == NONE || known.is_some_and(|k| k.known[r]) {
                continue;
            }
            s.records += 1;
            let g = guesses.get(r).copied().unwrap_or(NONE);
            if g != NONE {
                s.guessed += 1;
                if g == t {
                    s.correct += 1;
                }
            }
            if t == blind {
                s.blind += 1;
            }
        }
        s
    }

    /// Share of the records guessed right.
    pub fn share(&self) -> f64 {
        ratio(self.correct, self.records)
    }

    /// Share guessed right beyond the blind guess (at least 0): what the encoded file adds.
    pub fn beyond_blind(&self) -> f64 {
        ratio(self.correct.saturating_sub(self.blind), self.records)
    }

    /// Share of the guesses that were right.
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.guessed)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The attacker's own check of a variant: how often it is right on the known records (each
/// guessed without its own cleartext), with a Laplace correction so that a few lucky guesses do
/// not outrank many good ones. `attribute` indexes [`KnownSet::values`].
pub fn known_accuracy(attribute: usize, guesses: &[u32], known: &KnownSet) -> f64 {
    let Some(values) = known.values.get(attribute) else {
        return 0.0;
    };
    let (mut right, mut tried) = (0u64, 0u64);
    for &r in &known.list {
        let k = values[r];
        let g = guesses.get(r).copied().unwrap_or(NONE);
        if k != NONE && g != NONE {
            tried += 1;
            if g == k {
                right += 1;
            }
        }
    }
    (right as f64 + 1.0) / (tried as f64 + 2.0)
}

/// The families of attacks (docs/attacks.md describes each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// 1. Classes of one column ranked by size against reference frequencies.
    FrequencyAlignment,
    /// 2. Components of every column that determines the attribute, ranked likewise.
    BridgedAlignment,
    /// 3. A known record's value given to every record of its bridged component.
    KnownBridged,
    /// 3b. A known record's value given to records sharing a suggesting class.
    KnownSuggested,
    /// 4a. q-gram bits learnt from known filters; dictionary filters looked up.
    KnownFilterLookup,
    /// 4b. The value of the most similar known filter.
    NearestKnown,
    /// 5. Frequent bit patterns aligned with frequent q-grams; dictionary lookup.
    PatternMining,
    /// 6. Similarity graph of the encodings matched with that of the reference.
    GraphMatching,
    /// The most frequent reference value consistent with the parts recovered.
    Inference,
    /// Per record, the guess of the family most often right on the known records.
    Combined,
}

impl Family {
    /// Every family, in the order of the report.
    pub const ALL: [Family; 10] = [
        Family::FrequencyAlignment,
        Family::BridgedAlignment,
        Family::KnownBridged,
        Family::KnownSuggested,
        Family::KnownFilterLookup,
        Family::NearestKnown,
        Family::PatternMining,
        Family::GraphMatching,
        Family::Inference,
        Family::Combined,
    ];

    /// A short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::FrequencyAlignment => "frequency alignment",
            Family::BridgedAlignment => "bridged alignment",
            Family::KnownBridged => "known plaintext, bridged",
            Family::KnownSuggested => "known plaintext, suggested",
            Family::KnownFilterLookup => "known plaintext, filter lookup",
            Family::NearestKnown => "nearest known filter",
            Family::PatternMining => "pattern mining",
            Family::GraphMatching => "graph matching",
            Family::Inference => "inference from parts",
            Family::Combined => "combined",
        }
    }

    /// Whether the family uses known records.
    pub fn uses_known(self) -> bool {
        matches!(
            self,
            Family::KnownBridged
                | Family::KnownSuggested
                | Family::KnownFilterLookup
                | Family::NearestKnown
        )
    }
}

/// One variant of an attack, measured.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The family.
    pub family: Family,
    /// Index of the attribute in [`Values::attributes`](super::values::Values::attributes).
    #[serde(skip)]
    pub attribute: usize,
    /// Known records (`None` for attacks that use none).
    pub k: Option<usize>,
    /// What was done (`within groups of date_of_birth.year`...).
    pub how: String,
    /// The columns it read.
    pub columns: Vec<String>,
    /// Its score.
    pub score: Score,
    /// The attacker's prior preference for this variant among its family's, when it has no
    /// known record to check them (higher is preferred).
    #[serde(skip)]
    pub prior: u8,
}

/// Guesses, one per record: dense, or as (record, value) pairs when few records are guessed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guesses {
    /// One value per record.
    Dense(Vec<u32>),
    /// The guessed records only, sorted by record.
    Sparse(Vec<(u32, u32)>),
}

impl Guesses {
    /// Stores `guesses` compactly.
    pub fn new(guesses: Vec<u32>) -> Guesses {
        let guessed = guesses.iter().filter(|&&g| g != NONE).count();
        if guessed * 4 < guesses.len() {
            Guesses::Sparse(
                guesses
                    .iter()
                    .enumerate()
                    .filter(|(_, &g)| g != NONE)
                    .map(|(r, &g)| (r as u32, g))
                    .collect(),
            )
        } else {
            Guesses::Dense(guesses)
        }
    }

    /// The guess for record `r` ([`NONE`] without one).
    pub fn get(&self, r: usize) -> u32 {
        match self {
            Guesses::Dense(v) => v.get(r).copied().unwrap_or(NONE),
            Guesses::Sparse(v) => v
                .binary_search_by_key(&(r as u32), |p| p.0)
                .map_or(NONE, |i| v[i].1),
        }
    }
}

/// The variant an attacker would use, in one scenario (a number of known records).
#[derive(Debug, Clone)]
pub struct Pick {
    /// Its accuracy on the known records (the attacker's own check), when it has known records.
    pub accuracy: Option<f64>,
    /// Records it guesses.
    pub guessed: u64,
    /// The attacker's prior preference without known records (higher is preferred).
    pub prior: u8,
    /// Its guesses.
    pub guesses: std::sync::Arc<Guesses>,
}

/// The key of a pick: family, attribute, scenario (known records).
pub type PickKey = (Family, usize, Option<usize>);

/// The best variants of every family, attribute and number of known records.
#[derive(Debug, Default)]
pub struct Board {
    /// Strongest measured variant per (family, attribute, k).
    pub strongest: Vec<Finding>,
    /// The variant the attacker would pick per (family, attribute, scenario).
    pub picks: std::collections::BTreeMap<PickKey, Pick>,
    /// Number of variants tried.
    pub variants: usize,
}

impl Board {
    /// Records a variant with its guesses. `scenarios` lists the scenarios (numbers of known
    /// records, `None` for none) in which the attacker could use it, each with its accuracy on
    /// that scenario's known records.
    pub fn add(
        &mut self,
        finding: Finding,
        guesses: Vec<u32>,
        scenarios: &[(Option<usize>, Option<f64>)],
    ) {
        self.variants += 1;
        let mut shared: Option<std::sync::Arc<Guesses>> = None;
        for &(scenario, accuracy) in scenarios {
            let key = (finding.family, finding.attribute, scenario);
            let better = match self.picks.get(&key) {
                None => true,
                Some(old) => match (accuracy, old.accuracy) {
                    (Some(a), Some(b)) => a > b,
                    // Without known records, the attacker goes by its prior preference (the
                    // variant that uses most information), then by how many it guesses.
                    _ => (finding.prior, finding.score.guessed) > (old.prior, old.guessed),
                },
            };
            if better {
                let g = shared
                    .get_or_insert_with(|| std::sync::Arc::new(Guesses::new(guesses.clone())))
                    .clone();
                self.picks.insert(
                    key,
                    Pick {
                        accuracy,
                        guessed: finding.score.guessed,
                        prior: finding.prior,
                        guesses: g,
                    },
                );
            }
        }
        let k = (finding.family, finding.attribute, finding.k);
        let stronger = |old: &Finding| {
            (finding.score.beyond_blind(), finding.score.correct)
                > (old.score.beyond_blind(), old.score.correct)
        };
        match self
            .strongest
            .iter_mut()
            .find(|f| (f.family, f.attribute, f.k) == k)
        {
            Some(old) if stronger(old) => *old = finding,
            Some(_) => {}
            None => self.strongest.push(finding),
        }
    }

    /// The picked variant of `family` for attribute `a` in `scenario`.
    pub fn pick(&self, family: Family, a: usize, scenario: Option<usize>) -> Option<&Pick> {
        self.picks.get(&(family, a, scenario))
    }
}
