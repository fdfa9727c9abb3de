//! Schema format version 1 (pseudolink 0.1): read for compatibility and translated into the
//! current form by [`Schema::to_v2`]. Each field carried its own token, levels, filter, salt
//! and comparison; blocking rules had tokens of their own.

#[path = "v1_validate.rs"]
mod validate;

use serde::{Deserialize, Serialize};

use super::keys::Transform as Level;
use super::{BloomSpec, ClearMetric, FieldKind, NormaliseSpec};
use crate::error::{Error, Result};

/// The schema format version read here.
pub(super) const SCHEMA_VERSION: u32 = 1;

/// The default schema of version 1.
pub(super) const EXAMPLE_JSON: &str = include_str!("example_v1.json");

/// A validated linkage schema (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// Schema format version; must be 1.
    pub version: u32,
    /// Free text for people; not part of the fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Name of the input column holding each agency's own record id.
    pub record_id: String,
    /// The fields, in output order.
    pub fields: Vec<FieldSpec>,
    /// Blocking rules: a pair of records is a candidate if it agrees on every key of any rule.
    #[serde(default)]
    pub blocking: Vec<BlockingRule>,
    /// Settings of the linkage step.
    #[serde(default)]
    pub link: LinkSpec,
    /// A record-level Bloom filter (CLK): the q-grams of several fields in one filter, written as
    /// the column `record.bloom`. An alternative to field-level filters (see `docs/security.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_bloom: Option<RecordBloomSpec>,
}

/// The levels (transforms) a version 1 field of `kind` could carry.
fn allowed_levels(kind: FieldKind) -> &'static [Level] {
    match kind {
        FieldKind::Name => &[Level::Soundex, Level::Initial],
        FieldKind::Date => &[Level::Swapped, Level::YearMonth, Level::Year],
        FieldKind::Postcode => &[Level::Sector, Level::District, Level::Area],
        FieldKind::Text | FieldKind::NhsNumber | FieldKind::Sex => &[],
    }
}

/// One field of the schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Field name, used in output column names: lower-case letters, digits and `_`.
    pub name: String,
    /// Input column; defaults to the field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What the field holds.
    pub kind: FieldKind,
    /// Normaliser options.
    #[serde(default)]
    pub normalise: NormaliseSpec,
    /// Fields with the same key group share their keys, so that their tokens and filters can be
    /// compared crosswise (first name against last name). Defaults to the field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_group: Option<String>,
    /// Write an exact-match token (keyed BLAKE3, 128 bits).
    #[serde(default = "default_true")]
    pub token: bool,
    /// Write a Bloom filter of q-grams, for approximate comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bloom: Option<BloomSpec>,
    /// Level tokens to write (see `allowed_levels`).
    #[serde(default)]
    pub levels: Vec<Level>,
    /// How the linkage step compares this field; absent means the field is not compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<CompareSpec>,
    /// Salt this field's token, filter and level tokens with another field's value: a blocking-key
    /// style reference, `field` or `field.level` (e.g. `date_of_birth.year`). Equal values then
    /// give equal encodings only within records of equal salt, which defeats frequency attacks
    /// across the whole file. A record whose salt is missing gets no encoding of this field (it
    /// is counted as missing with reason `salt_missing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
}

impl FieldSpec {
    /// The input column name.
    pub fn column(&self) -> &str {
        self.column.as_deref().unwrap_or(&self.name)
    }

    /// The key group (defaults to the field name).
    pub fn key_group(&self) -> &str {
        self.key_group.as_deref().unwrap_or(&self.name)
    }
}

fn default_true() -> bool {
    true
}

fn default_q() -> u8 {
    2
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A record-level Bloom filter (cryptographic long-term key, CLK): the q-grams of every listed
/// field hashed into one filter, each field with its own key and number of positions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordBloomSpec {
    /// Filter length in bits before folding and balancing: a multiple of 64 from 64 to 8192.
    pub bits: u32,
    /// q-gram length, 1 to 4 (default 2).
    #[serde(default = "default_q")]
    pub q: u8,
    /// Fold by XOR of the two halves, as [`BloomSpec::xor_fold`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub xor_fold: bool,
    /// Balance, as [`BloomSpec::balanced`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub balanced: bool,
    /// The fields whose q-grams go into the filter, with the positions each q-gram sets.
    pub fields: Vec<RecordBloomField>,
    /// How the linkage step compares the record filters; absent means not compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<RecordCompareSpec>,
}

/// One field of the record-level filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordBloomField {
    /// The field's name (a `name` or `text` field).
    pub field: String,
    /// Bit positions each of its q-grams sets, 1 to 64.
    pub hashes: u16,
}

/// How the linkage step compares record-level filters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordCompareSpec {
    /// Dice-coefficient thresholds, strictly descending, in (0, 1].
    pub dice: Vec<f64>,
}

/// How the linkage step compares a field. The comparison levels, best first, are: exact token
/// equality; the Dice bands; the level tokens in the order given; crosswise agreement; else.
/// A value missing on either side is its own level that carries no weight.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareSpec {
    /// Dice-coefficient thresholds on the Bloom filters, strictly descending, in (0, 1].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dice: Vec<f64>,
    /// Level tokens to compare, in order; each must be among the field's `levels`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<Level>,
    /// Compare crosswise with another field of the same key group (swapped first and last names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_with: Option<String>,
    /// Term-frequency adjustment of exact agreement: a common value counts for less.
    #[serde(default)]
    pub term_frequency: bool,
    /// String comparator used instead of the Dice bands in cleartext mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear: Option<ClearCompareSpec>,
}

/// A cleartext string comparator and its similarity thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearCompareSpec {
    /// The comparator.
    pub metric: ClearMetric,
    /// Similarity thresholds, strictly descending, in (0, 1].
    pub thresholds: Vec<f64>,
}

/// A blocking rule: records agreeing on every key are candidate pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingRule {
    /// Rule name, used in the column `block.<name>` and in reports.
    pub name: String,
    /// Keys: `field` (its normalised value) or `field.level` (e.g. `date_of_birth.year`).
    pub keys: Vec<String>,
}

/// Settings of the linkage step that belong with the schema (both sides must agree on them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Blocks with more records than this on either side are skipped and reported, never exploded
    /// into billions of pairs.
    #[serde(default = "default_max_block")]
    pub max_block_size: usize,
    /// Random pairs sampled to estimate u probabilities.
    #[serde(default = "default_u_sample")]
    pub u_sample_pairs: usize,
    /// Largest number of EM iterations.
    #[serde(default = "default_em_iterations")]
    pub em_max_iterations: usize,
    /// EM stops when no parameter moves by more than this.
    #[serde(default = "default_em_tolerance")]
    pub em_tolerance: f64,
    /// Seed of the random sampling, so runs are reproducible.
    #[serde(default)]
    pub seed: u64,
    /// The blocking rules whose candidate pairs train the m probabilities, one EM session each.
    /// Absent: every rule none of whose keys is a postcode or free-text field (households share
    /// those, so EM on such pairs learns households rather than people).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_rules: Option<Vec<String>>,
}

fn default_max_block() -> usize {
    1000
}
fn default_u_sample() -> usize {
    1_000_000
}
fn default_em_iterations() -> usize {
    100
}
fn default_em_tolerance() -> f64 {
    1e-6
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            max_block_size: default_max_block(),
            u_sample_pairs: default_u_sample(),
            em_max_iterations: default_em_iterations(),
            em_tolerance: default_em_tolerance(),
            seed: 0,
            training_rules: None,
        }
    }
}

/// A reference to a field value or one of its level tokens, as used in blocking keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    /// Index of the field in [`Schema::fields`].
    pub field: usize,
    /// The level, or `None` for the field's own value.
    pub level: Option<Level>,
}

impl Schema {
    /// Parses and validates a version 1 schema. Errors carry the JSON path of the problem.
    pub fn from_json(json: &str) -> Result<Schema> {
        let de = &mut serde_json::Deserializer::from_str(json);
        let schema: Schema = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." || path == "?" {
                "$".to_string()
            } else {
                path
            };
            Error::schema(path, e.into_inner().to_string())
        })?;
        schema.validate()?;
        Ok(schema)
    }

    /// Index of the field called `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Parses a blocking key such as `date_of_birth.year`.
    pub fn parse_key(&self, key: &str) -> Option<KeyRef> {
        let (field, level) = match key.split_once('.') {
            Some((f, l)) => (f, Some(l)),
            None => (key, None),
        };
        let index = self.field_index(field)?;
        let level = match level {
            None => None,
            Some(l) => Some(
                *self.fields[index]
                    .levels
                    .iter()
                    .find(|lv| lv.as_str() == l)?,
            ),
        };
        Some(KeyRef {
            field: index,
            level,
        })
    }

    /// Indices of the blocking rules that trained the model in version 1: the named ones, or
    /// every rule none of whose keys is a postcode or free-text field.
    fn training_rule_indices(&self) -> Vec<usize> {
        match &self.link.training_rules {
            Some(names) => self
                .blocking
                .iter()
                .enumerate()
                .filter(|(_, r)| names.contains(&r.name))
                .map(|(i, _)| i)
                .collect(),
            None => self
                .blocking
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    r.keys.iter().filter_map(|k| self.parse_key(k)).all(|k| {
                        !matches!(
                            self.fields[k.field].kind,
                            FieldKind::Postcode | FieldKind::Text
                        )
                    })
                })
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// The same schema in the current form: each field's token, level tokens and filter become
    /// token columns and filters salted with the field's salt, its comparison a comparison with
    /// the same levels (cleartext comparators as cleartext-only similarity levels), and each
    /// blocking rule a token column and a rule on it.
    pub fn to_v2(&self) -> Result<super::Schema> {
        use super::{
            BlockingRule, Comparison, FieldSpec as F2, FilterField, FilterSpec, LevelSpec,
            LinkSpec as L2, Similarity, TokenSpec,
        };
        let mut tokens: Vec<TokenSpec> = Vec::new();
        let mut add_token = |keys: Vec<String>| {
            let mut sorted = keys.clone();
            sorted.sort();
            if !tokens.iter().any(|t| {
                let mut have = t.keys.clone();
                have.sort();
                have == sorted
            }) {
                tokens.push(TokenSpec { keys });
            }
        };
        let mut filters = Vec::new();
        let mut comparisons = Vec::new();
        let level = |name: String| LevelSpec {
            name,
            keys: None,
            cross: None,
            filter: None,
            dice: None,
            similarity: None,
        };
        for f in &self.fields {
            let ctx: Vec<String> = f.salt.iter().cloned().collect();
            let with_ctx = |key: String| -> Vec<String> {
                std::iter::once(key).chain(ctx.iter().cloned()).collect()
            };
            if f.token {
                add_token(with_ctx(f.name.clone()));
            }
            for l in &f.levels {
                add_token(with_ctx(format!("{}.{}", f.name, l.as_str())));
            }
            if let Some(b) = f.bloom {
                filters.push(FilterSpec {
                    name: f.name.clone(),
                    fields: vec![FilterField {
                        field: f.name.clone(),
                        hashes: b.hashes,
                    }],
                    context: ctx.clone(),
                    bits: b.bits,
                    q: b.q,
                    xor_fold: b.xor_fold,
                    balanced: b.balanced,
                });
            }
            let Some(c) = &f.compare else { continue };
            let mut levels = Vec::new();
            if f.token {
                levels.push(LevelSpec {
                    keys: Some(vec![f.name.clone()]),
                    ..level("exact".into())
                });
            }
            for t in &c.dice {
                levels.push(LevelSpec {
                    filter: Some(f.name.clone()),
                    dice: Some(*t),
                    ..level(format!("dice>={t}"))
                });
            }
            if let Some(clear) = &c.clear {
                for t in &clear.thresholds {
                    let metric = crate::link::compare::metric_name(clear.metric);
                    levels.push(LevelSpec {
                        similarity: Some(Similarity {
                            field: f.name.clone(),
                            metric: clear.metric,
                            threshold: *t,
                        }),
                        ..level(format!("{metric}>={t}"))
                    });
                }
            }
            for l in &c.levels {
                let key = format!("{}.{}", f.name, l.as_str());
                levels.push(if *l == Level::Swapped {
                    LevelSpec {
                        cross: Some([f.name.clone(), key]),
                        ..level("swapped".into())
                    }
                } else {
                    LevelSpec {
                        keys: Some(vec![key]),
                        ..level(l.as_str().into())
                    }
                });
            }
            if let Some(other) = &c.cross_with {
                levels.push(LevelSpec {
                    cross: Some([f.name.clone(), other.clone()]),
                    ..level("crosswise".into())
                });
            }
            comparisons.push(Comparison {
                name: f.name.clone(),
                levels,
                household: false,
                term_frequency: c.term_frequency,
            });
        }
        if let Some(r) = &self.record_bloom {
            let salts: Vec<Option<&String>> = r
                .fields
                .iter()
                .filter_map(|rf| self.field_index(&rf.field))
                .map(|i| self.fields[i].salt.as_ref())
                .collect();
            let context = match salts.first() {
                Some(Some(s)) if salts.iter().all(|x| *x == Some(*s)) => vec![(*s).clone()],
                _ => Vec::new(),
            };
            filters.push(FilterSpec {
                name: "record".into(),
                fields: r
                    .fields
                    .iter()
                    .map(|rf| FilterField {
                        field: rf.field.clone(),
                        hashes: rf.hashes,
                    })
                    .collect(),
                context,
                bits: r.bits,
                q: r.q,
                xor_fold: r.xor_fold,
                balanced: r.balanced,
            });
            if let Some(c) = &r.compare {
                comparisons.push(Comparison {
                    name: "record".into(),
                    levels: c
                        .dice
                        .iter()
                        .map(|t| LevelSpec {
                            filter: Some("record".into()),
                            dice: Some(*t),
                            ..level(format!("dice>={t}"))
                        })
                        .collect(),
                    household: false,
                    term_frequency: false,
                });
            }
        }
        let mut blocking = Vec::new();
        for rule in &self.blocking {
            add_token(rule.keys.clone());
            blocking.push(BlockingRule::new(rule.keys.clone()));
        }
        let training_rules = Some(
            self.training_rule_indices()
                .into_iter()
                .map(|i| self.blocking[i].keys.join("+"))
                .collect(),
        );
        let schema = super::Schema {
            version: super::SCHEMA_VERSION,
            description: self.description.clone(),
            record_id: self.record_id.clone(),
            fields: self
                .fields
                .iter()
                .map(|f| F2 {
                    name: f.name.clone(),
                    column: f.column.clone(),
                    kind: f.kind,
                    normalise: f.normalise.clone(),
                    key_group: f.key_group.clone(),
                })
                .collect(),
            tokens,
            filters,
            household: Vec::new(),
            link: L2 {
                comparisons,
                blocking,
                household: None,
                max_block_size: self.link.max_block_size,
                u_sample_pairs: self.link.u_sample_pairs,
                em_max_iterations: self.link.em_max_iterations,
                em_tolerance: self.link.em_tolerance,
                seed: self.link.seed,
                training_rules,
                competition: false,
            },
        };
        schema.validate()?;
        Ok(schema)
    }
}

#[cfg(test)]
#[path = "v1_tests.rs"]
mod tests;
