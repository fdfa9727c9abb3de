//! The linkage schema: which columns are read, how each field is normalised, encoded and compared,
//! and how candidate pairs are blocked.
//!
//! A schema is a versioned JSON document that holds no secret. Every agency and the linkage unit use
//! the same one; its [`fingerprint`](Schema::fingerprint) travels in every manifest so that extracts
//! encoded under different schemas are never linked by mistake. The full reference is
//! `docs/schema.md`.
//!
//! ```
//! use pseudolink::Schema;
//! let schema = Schema::example();
//! assert_eq!(schema.record_id, "record_id");
//! let again = Schema::from_json(&schema.to_json_pretty()).unwrap();
//! assert_eq!(schema.fingerprint(), again.fingerprint());
//! assert!(Schema::from_json(r#"{"version": 1, "record_id": "id", "fields": [], "colour": 1}"#).is_err());
//! ```

mod validate;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The schema format version this library reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

const EXAMPLE_JSON: &str = include_str!("example.json");

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

/// What kind of value a field holds; decides its normaliser and the level tokens it can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A personal name (first, middle, last): see `normalise::name`.
    Name,
    /// Free text such as an address line: see `normalise::text`.
    Text,
    /// A date (of birth): see `normalise::date`.
    Date,
    /// A UK postcode: see `normalise::postcode`.
    Postcode,
    /// An NHS number with its modulus-11 check digit: see `normalise::nhs`.
    NhsNumber,
    /// Sex: see `normalise::sex`.
    Sex,
}

impl FieldKind {
    /// The level tokens this kind of field can carry.
    pub fn allowed_levels(self) -> &'static [Level] {
        match self {
            FieldKind::Name => &[Level::Soundex, Level::Initial],
            FieldKind::Date => &[Level::Swapped, Level::YearMonth, Level::Year],
            FieldKind::Postcode => &[Level::Sector, Level::District, Level::Area],
            FieldKind::Text | FieldKind::NhsNumber | FieldKind::Sex => &[],
        }
    }
}

/// A derived value of a field that is tokenised too, so that near agreement can be seen without
/// cleartext (e.g. the same year of birth, the same postcode sector).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Date with day and month exchanged; tokenised with the field's exact-token key so that
    /// it can be compared with the other record's exact token.
    Swapped,
    /// Year and month of a date (`2014-03`).
    YearMonth,
    /// Year of a date (`2014`).
    Year,
    /// Postcode sector (`CV1 2`).
    Sector,
    /// Postcode district (`CV1`).
    District,
    /// Postcode area (`CV`).
    Area,
    /// American Soundex code of a name (`R163`), for blocking on names with typos.
    Soundex,
    /// First letter of a name.
    Initial,
}

impl Level {
    /// The name used in schema JSON and in column names (`year_month`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Swapped => "swapped",
            Level::YearMonth => "year_month",
            Level::Year => "year",
            Level::Sector => "sector",
            Level::District => "district",
            Level::Area => "area",
            Level::Soundex => "soundex",
            Level::Initial => "initial",
        }
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
    /// Level tokens to write (see [`FieldKind::allowed_levels`]).
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

/// Options of the normalisers. Each applies only to the kinds named.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormaliseSpec {
    /// Names: drop leading titles (Mr, Mrs, Dr...). Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_titles: Option<bool>,
    /// Dates: two-digit years `yy <= century_pivot` are 20yy, others 19yy. Default 26.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub century_pivot: Option<u8>,
    /// Dates: years before this are implausible and treated as missing. Default 1900.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_year: Option<u16>,
}

/// Default two-digit-year pivot (see [`NormaliseSpec::century_pivot`]).
pub const DEFAULT_CENTURY_PIVOT: u8 = 26;
/// Default earliest plausible year (see [`NormaliseSpec::min_year`]).
pub const DEFAULT_MIN_YEAR: u16 = 1900;

/// A Bloom filter of padded q-grams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BloomSpec {
    /// Filter length in bits: a multiple of 64 from 64 to 8192.
    pub bits: u32,
    /// q-gram length, 1 to 4 (default 2).
    #[serde(default = "default_q")]
    pub q: u8,
    /// Bit positions set per q-gram, 1 to 64.
    pub hashes: u16,
    /// Fold the filter in half by XOR of its two halves (the written filter has `bits / 2` bits;
    /// `bits` must then be a multiple of 128). Done before balancing.
    #[serde(default, skip_serializing_if = "is_false")]
    pub xor_fold: bool,
    /// Balance the filter (Schnell): append its complement and permute the bits with a keyed
    /// permutation, so every filter has exactly half its bits set and its weight no longer
    /// reveals the length of the value. The written filter is twice as long.
    #[serde(default, skip_serializing_if = "is_false")]
    pub balanced: bool,
}

impl BloomSpec {
    /// Length in bits of the filter as written: halved by XOR folding, doubled by balancing.
    pub fn output_bits(&self) -> u32 {
        let folded = if self.xor_fold {
            self.bits / 2
        } else {
            self.bits
        };
        if self.balanced {
            folded * 2
        } else {
            folded
        }
    }
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

impl RecordBloomSpec {
    /// The filter settings for the q-grams of one of its fields.
    pub fn bloom_for(&self, field: &RecordBloomField) -> BloomSpec {
        BloomSpec {
            bits: self.bits,
            q: self.q,
            hashes: field.hashes,
            xor_fold: self.xor_fold,
            balanced: self.balanced,
        }
    }

    /// Length in bits of the filter as written.
    pub fn output_bits(&self) -> u32 {
        BloomSpec {
            bits: self.bits,
            q: self.q,
            hashes: 1,
            xor_fold: self.xor_fold,
            balanced: self.balanced,
        }
        .output_bits()
    }
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

/// String comparators for cleartext mode (similarities in 0..=1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClearMetric {
    /// Jaro-Winkler similarity.
    JaroWinkler,
    /// Normalised Damerau-Levenshtein similarity (1 - distance / longer length).
    DamerauLevenshtein,
    /// Normalised Levenshtein similarity.
    Levenshtein,
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
    /// Parses and validates a schema. Errors carry the JSON path of the problem.
    pub fn from_json(json: &str) -> Result<Schema> {
        let de = &mut serde_json::Deserializer::from_str(json);
        let schema: Schema = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            // "." is the root; "?" is where a JSON syntax error leaves no path (the message
            // gives its line and column).
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

    /// Reads, parses and validates a schema file.
    pub fn from_file(path: &Path) -> Result<Schema> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
        // A byte order mark, as Windows editors write, is not part of the JSON.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let text = std::str::from_utf8(bytes).map_err(|e| {
            Error::schema(
                "$",
                format!(
                    "the file is not UTF-8 text (byte {}); save it as UTF-8 (in {})",
                    e.valid_up_to() + 1,
                    path.display()
                ),
            )
        })?;
        Schema::from_json(text).map_err(|e| match e {
            Error::Schema { path: p, message } => {
                Error::schema(p, format!("{message} (in {})", path.display()))
            }
            other => other,
        })
    }

    /// The default schema for UK person records (`pseudolink schema example`).
    pub fn example() -> Schema {
        // The example is a checked-in file validated by a unit test, so this cannot fail.
        match Schema::from_json(EXAMPLE_JSON) {
            Ok(s) => s,
            Err(e) => unreachable!("the bundled example schema is invalid: {e}"),
        }
    }

    /// The bundled example schema as written, with its key order and layout.
    pub fn example_json() -> &'static str {
        EXAMPLE_JSON
    }

    /// Pretty JSON of this schema (defaults filled in).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A stable fingerprint: 32 hex characters of BLAKE3 over the canonical JSON (sorted keys,
    /// defaults filled in, `description` left out). Equal schemas give equal fingerprints whatever
    /// their layout or key order.
    pub fn fingerprint(&self) -> String {
        let mut copy = self.clone();
        copy.description = None;
        let value = serde_json::to_value(&copy).unwrap_or(serde_json::Value::Null);
        let canonical = serde_json::to_string(&value).unwrap_or_default();
        let hash = blake3::hash(canonical.as_bytes());
        crate::secret::to_hex(&hash.as_bytes()[..16])
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

    /// Indices of the blocking rules that train the model (see [`LinkSpec::training_rules`]).
    pub fn training_rule_indices(&self) -> Vec<usize> {
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

    /// The input columns in schema order, record id first (the order `pl_encode_record` takes).
    pub fn input_columns(&self) -> Vec<&str> {
        std::iter::once(self.record_id.as_str())
            .chain(self.fields.iter().map(FieldSpec::column))
            .collect()
    }
}

#[cfg(test)]
mod tests;
