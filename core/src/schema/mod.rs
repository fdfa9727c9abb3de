//! The linkage schema: which columns are read and how each field is normalised (the fields),
//! what is encoded (token specs and filters), and how the linkage unit compares and blocks
//! (the `link` part).
//!
//! A schema is a versioned JSON document that holds no secret. Every agency and the linkage unit
//! use the same one. Its **encoding fingerprint** ([`Schema::fingerprint`]) covers only what
//! changes the encoded bytes (fields, tokens, filters, the household key), travels in every
//! manifest, and is checked when extracts are linked, so the linkage settings can change without
//! re-encoding. The full reference is `docs/schema.md`.
//!
//! Everything an extract holds is a **token** of a list of keys (`["first_name",
//! "date_of_birth"]`: a keyed hash of both values together) or a Bloom filter. A token of
//! several keys reveals that two records agree on all of them together, never on one alone:
//! that is how the default schema keeps every value out of reach of frequency and
//! known-plaintext attacks (see `docs/security.md`) while the linkage unit can still compare
//! each field whenever one of its companions agrees (see `docs/linking.md`).
//!
//! Schemas of format version 1 are still read: they are translated into this form
//! (`pseudolink schema upgrade` prints the translation).
//!
//! ```
//! use pseudolink::Schema;
//! let schema = Schema::example();
//! assert_eq!(schema.record_id, "record_id");
//! let again = Schema::from_json(&schema.to_json_pretty()).unwrap();
//! assert_eq!(schema.fingerprint(), again.fingerprint());
//! assert!(Schema::from_json(r#"{"version": 2, "record_id": "id", "fields": [], "colour": 1}"#).is_err());
//! ```

pub mod keys;
mod v1;
mod validate;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A schema's encoding fingerprint ([`Schema::fingerprint`]): 32 hex characters. Manifests, models
/// and run summaries record it; linking compares it, as this type, never as free text. Serialized
/// as the plain string (`serde(transparent)`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SchemaFingerprint(String);

impl SchemaFingerprint {
    /// The fingerprint as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for SchemaFingerprint {
    fn from(text: String) -> Self {
        SchemaFingerprint(text)
    }
}

impl From<&str> for SchemaFingerprint {
    fn from(text: &str) -> Self {
        SchemaFingerprint(text.to_string())
    }
}

impl PartialEq<&str> for SchemaFingerprint {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl std::fmt::Display for SchemaFingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub use keys::{Key, Transform};

/// The schema format version this library writes (it also reads version 1).
pub const SCHEMA_VERSION: u32 = 2;

const EXAMPLE_JSON: &str = include_str!("example.json");

/// A validated linkage schema (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// Schema format version; 2.
    pub version: u32,
    /// Free text for people; not part of the fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Name of the input column holding each agency's own record id.
    pub record_id: String,
    /// The fields: the input columns read and how each is normalised.
    pub fields: Vec<FieldSpec>,
    /// The token columns of an encoded extract, each a list of keys hashed together.
    #[serde(default)]
    pub tokens: Vec<TokenSpec>,
    /// The Bloom-filter columns of an encoded extract.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<FilterSpec>,
    /// The keys that make two records one household (`["address_line_1.number_street",
    /// "postcode"]`): encoding samples pairs of records of one household for the statistics the
    /// model's household-aware evidence needs. Empty: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub household: Vec<String>,
    /// How the linkage unit compares, blocks and trains (not part of the fingerprint).
    #[serde(default)]
    pub link: LinkSpec,
}

/// What kind of value a field holds; decides its normaliser and the transforms it has.
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
    /// The transforms this kind of field has.
    pub fn transforms(self) -> impl Iterator<Item = Transform> {
        Transform::ALL.into_iter().filter(move |t| t.kind() == self)
    }
}

/// One field: an input column and its normaliser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Field name, used in keys and column names: lower-case letters, digits and `_`.
    pub name: String,
    /// Input column; defaults to the field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What the field holds.
    pub kind: FieldKind,
    /// Normaliser options.
    #[serde(default)]
    pub normalise: NormaliseSpec,
    /// Fields of one key group are hashed alike, so that their tokens can be compared with each
    /// other (a first name recorded as the last name). Defaults to the field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_group: Option<String>,
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

/// One token column: the keys hashed together. Written in JSON as the list of keys
/// (`["first_name", "date_of_birth"]`); the column is named by them joined with `+`
/// (`first_name+date_of_birth`). At most one key may be a set transform: the column then holds
/// one token per value of the set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenSpec {
    /// The keys, as written.
    pub keys: Vec<String>,
}

impl TokenSpec {
    /// The column name: the keys joined with `+`.
    pub fn name(&self) -> String {
        self.keys.join("+")
    }
}

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
    /// permutation, so every filter has exactly half its bits set. The written filter is twice
    /// as long.
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

/// A Bloom-filter column: the q-grams of one or more name or text fields, each field under its
/// own key and number of positions, salted with the values of the `context` keys (equal values
/// give equal filters only between records that agree on the context).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    /// Name; the column is `<name>.bloom`.
    pub name: String,
    /// The fields whose q-grams go into the filter.
    pub fields: Vec<FilterField>,
    /// Keys whose values salt every q-gram (empty: unsalted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
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
}

impl FilterSpec {
    /// The filter settings for the q-grams of one of its fields.
    pub fn bloom_for(&self, field: &FilterField) -> BloomSpec {
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
        self.bloom_for(&FilterField {
            field: String::new(),
            hashes: 1,
        })
        .output_bits()
    }

    /// The column name (`<name>.bloom`).
    pub fn column(&self) -> String {
        format!("{}.bloom", self.name)
    }
}

/// One field of a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterField {
    /// The field's name (a `name` or `text` field).
    pub field: String,
    /// Bit positions each of its q-grams sets, 1 to 64.
    pub hashes: u16,
}

/// The linkage unit's settings: comparisons, blocking, training. Not part of the encoding
/// fingerprint: changing them needs no re-encoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// The comparisons: one level per pair each, the evidence of the model.
    #[serde(default)]
    pub comparisons: Vec<Comparison>,
    /// Blocking rules: a pair of records is a candidate if it shares a token of any of them.
    #[serde(default)]
    pub blocking: Vec<BlockingRule>,
    /// Household-aware evidence: which levels of which comparison mean "one household".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<HouseholdSpec>,
    /// Blocks with more records than this on either side are skipped and reported.
    #[serde(default = "default_max_block")]
    pub max_block_size: usize,
    /// Random pairs sampled to estimate u probabilities in cleartext mode (encoded extracts
    /// bring theirs in their manifests).
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
    /// The blocking rules (by name) whose candidate pairs train m, one EM session each; absent:
    /// every rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_rules: Option<Vec<String>>,
    /// Competing links (linking two or more sources): a pair outranked by another pair of one of
    /// its records weighs less, a pair whose records have no other plausible partner weighs
    /// more, by weights estimated from the run (`docs/linking.md`). Off when absent.
    #[serde(default, skip_serializing_if = "is_false")]
    pub competition: bool,
}

fn default_max_block() -> usize {
    1000
}
fn default_u_sample() -> usize {
    1_000_000
}
fn default_em_iterations() -> usize {
    1000
}
fn default_em_tolerance() -> f64 {
    1e-6
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            comparisons: Vec::new(),
            blocking: Vec::new(),
            household: None,
            max_block_size: default_max_block(),
            u_sample_pairs: default_u_sample(),
            em_max_iterations: default_em_iterations(),
            em_tolerance: default_em_tolerance(),
            seed: 0,
            training_rules: None,
            competition: false,
        }
    }
}

/// A comparison: the levels a pair can reach, best first. A pair gets the first level that
/// holds; `else` when none holds and every level could be seen; `missing` when a field is
/// missing; `unknown` when nothing of it could be seen (no token of its keys agrees on its
/// context). See `docs/linking.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// Name (in models, summaries and explanations).
    pub name: String,
    /// The levels, best first.
    pub levels: Vec<LevelSpec>,
    /// Whether its u probabilities are those of one household when the pair's household
    /// comparison says one household (see [`LinkSpec::household`]).
    #[serde(default, skip_serializing_if = "is_false")]
    pub household: bool,
    /// Cleartext mode: exact agreement weighed by the value's frequency (a common value counts
    /// for less).
    #[serde(default, skip_serializing_if = "is_false")]
    pub term_frequency: bool,
}

/// One comparison level: exactly one of `keys`, `cross`, `dice` (with `filter`) or
/// `similarity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelSpec {
    /// Name (`exact`, `one_edit`).
    pub name: String,
    /// The level holds when the pair agrees on every one of these keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
    /// The level holds when one record's first key equals the other's second, either way round
    /// (`["first_name", "last_name"]`: names exchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross: Option<[String; 2]>,
    /// The filter (by name) of a Dice level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The level holds when the Dice coefficient of the pair's filters is at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dice: Option<f64>,
    /// Cleartext mode only: the level holds when the string similarity of a field's normalised
    /// values reaches the threshold. Skipped when linking encoded extracts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<Similarity>,
}

/// A cleartext similarity level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Similarity {
    /// The field compared.
    pub field: String,
    /// The string comparator.
    pub metric: ClearMetric,
    /// The similarity threshold, in (0, 1].
    pub threshold: f64,
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

/// A blocking rule: records sharing a token of this token column are candidate pairs. Written
/// as the token's keys (`["first_name", "date_of_birth"]`); named as the column.
///
/// A **crossed** rule (`{"keys": ["first_name", "date_of_birth"], "cross": ["first_name",
/// "last_name"]}`) joins on two single-token columns hashed alike, the rule's and the one with
/// the first crossed key replaced by the second (`last_name+date_of_birth`): two records are a
/// candidate pair when their two tokens are the same two, in either order, so a first name and
/// surname recorded the other way round still meet. (Requiring both is deliberate: a pair where
/// only one record's first name is the other's surname, born the same day, is at city scale
/// mostly two people named like Mason Brown and Teddy Mason.) It is named
/// `first_name|last_name+date_of_birth`. Both columns are already in the extracts: a crossed
/// rule changes only the linkage settings, never the encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingRule {
    /// The keys of the token column.
    pub keys: Vec<String>,
    /// The crossed keys: `cross[0]` (one of `keys`) may meet `cross[1]`.
    pub cross: Option<[String; 2]>,
}

impl BlockingRule {
    /// A rule joining on the token column of `keys`.
    pub fn new(keys: Vec<String>) -> BlockingRule {
        BlockingRule { keys, cross: None }
    }

    /// The rule's name: its token column's name, with a crossed key written `a|b`.
    pub fn name(&self) -> String {
        self.keys
            .iter()
            .map(|k| match &self.cross {
                Some([a, b]) if a == k => format!("{a}|{b}"),
                _ => k.clone(),
            })
            .collect::<Vec<_>>()
            .join("+")
    }

    /// The keys of the crossed column (the rule's keys with `cross[0]` replaced by `cross[1]`).
    pub fn crossed_keys(&self) -> Option<Vec<String>> {
        let [a, b] = self.cross.as_ref()?;
        Some(
            self.keys
                .iter()
                .map(|k| if k == a { b.clone() } else { k.clone() })
                .collect(),
        )
    }
}

/// How a blocking rule is written: its keys alone, or keys and crossed keys.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum BlockingRuleRepr {
    Keys(Vec<String>),
    Crossed(CrossedRuleRepr),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CrossedRuleRepr {
    keys: Vec<String>,
    cross: [String; 2],
}

impl Serialize for BlockingRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match &self.cross {
            None => BlockingRuleRepr::Keys(self.keys.clone()),
            Some(cross) => BlockingRuleRepr::Crossed(CrossedRuleRepr {
                keys: self.keys.clone(),
                cross: cross.clone(),
            }),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for BlockingRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(match BlockingRuleRepr::deserialize(d)? {
            BlockingRuleRepr::Keys(keys) => BlockingRule { keys, cross: None },
            BlockingRuleRepr::Crossed(c) => BlockingRule {
                keys: c.keys,
                cross: Some(c.cross),
            },
        })
    }
}

/// Which levels of which comparison say that the two records live in one household: the
/// comparisons marked `household` then take their u probabilities among pairs of one household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdSpec {
    /// The comparison (e.g. `location`).
    pub comparison: String,
    /// Its levels that mean one household (e.g. `["same"]`).
    pub levels: Vec<String>,
}

/// The format-version field alone, read first to choose the parser.
#[derive(Deserialize)]
struct VersionOnly {
    version: Option<serde_json::Value>,
}

impl Schema {
    /// Parses and validates a schema (format version 2, or 1 translated). Errors carry the JSON
    /// path of the problem.
    pub fn from_json(json: &str) -> Result<Schema> {
        let version = serde_json::from_str::<VersionOnly>(json)
            .ok()
            .and_then(|v| v.version)
            .and_then(|v| v.as_u64());
        if version == Some(1) {
            return v1::Schema::from_json(json)?.to_v2();
        }
        // Before the fields are read: a schema of a newer version would otherwise be refused for
        // its first unknown field.
        if let Some(v) = version.filter(|&v| v != u64::from(SCHEMA_VERSION)) {
            return Err(validate::unsupported_version(v));
        }
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

    /// The default schema of format version 1 (pseudolink 0.1's default, translated): names
    /// salted with the month of birth, field-level filters, unsalted blocking tokens. Kept to
    /// measure the privacy and quality of the old encoding against the new (benchmarks).
    pub fn example_v1() -> Schema {
        match Schema::from_json(v1::EXAMPLE_JSON) {
            Ok(s) => s,
            Err(e) => unreachable!("the bundled version 1 example schema is invalid: {e}"),
        }
    }

    /// Pretty JSON of this schema (defaults filled in).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The **encoding fingerprint**: 32 hex characters of BLAKE3 over the canonical JSON (sorted
    /// keys, defaults filled in) of what changes the encoded bytes: the version, record id,
    /// fields, tokens, filters and household keys. Equal for schemas that differ only in layout,
    /// key order, description or `link`; every manifest records it and linking checks it.
    pub fn fingerprint(&self) -> SchemaFingerprint {
        let mut value = serde_json::json!({
            "version": self.version,
            "record_id": self.record_id,
            "fields": self.fields,
            "tokens": self.tokens,
            "filters": self.filters,
            "household": self.household,
        });
        // The nickname list decides a `nickname` key's values: another list, another encoding.
        // Only schemas that use it carry its id, so other fingerprints are unchanged.
        let nickname = Transform::Nickname.as_str();
        let uses_nickname = self
            .tokens
            .iter()
            .flat_map(|t| t.keys.iter())
            .chain(self.household.iter())
            .any(|k| keys::split_key(k).1 == Some(nickname));
        if let (true, Some(map)) = (uses_nickname, value.as_object_mut()) {
            map.insert(
                "nickname_list".into(),
                crate::normalise::nickname::list_id().into(),
            );
        }
        SchemaFingerprint(hash_canonical(&value))
    }

    /// A fingerprint of the linkage settings (`link`): models record it.
    pub fn link_fingerprint(&self) -> String {
        hash_canonical(&serde_json::to_value(&self.link).unwrap_or(serde_json::Value::Null))
    }

    /// Index of the field called `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Parses a key such as `date_of_birth.year` (the field must exist and the transform apply to
    /// its kind).
    pub fn parse_key(&self, key: &str) -> Option<Key> {
        let (field, transform) = keys::split_key(key);
        let index = self.field_index(field)?;
        let transform = match transform {
            None => None,
            Some(t) => {
                let t = Transform::parse(t)?;
                if t.kind() != self.fields[index].kind {
                    return None;
                }
                Some(t)
            }
        };
        Some(Key {
            field: index,
            transform,
        })
    }

    /// The name of a key (`date_of_birth.year`).
    pub fn key_name(&self, key: Key) -> String {
        let field = self.fields.get(key.field).map_or("?", |f| f.name.as_str());
        match key.transform {
            None => field.to_string(),
            Some(t) => format!("{field}.{}", t.as_str()),
        }
    }

    /// The parsed keys of token spec `index`, in the canonical order they are hashed in (see
    /// [`Schema::canonical_keys`]).
    pub fn token_keys(&self, index: usize) -> Vec<Key> {
        let keys: Vec<Key> = self
            .tokens
            .get(index)
            .map(|t| t.keys.iter().filter_map(|k| self.parse_key(k)).collect())
            .unwrap_or_default();
        self.canonical_keys(keys)
    }

    /// `keys` in the order their values are hashed: by key group, then hash domain, then field.
    /// Two token columns whose keys differ only in fields of one key group (`first_name` and
    /// `last_name` with `date_of_birth`) are hashed alike, so they can be compared crosswise.
    pub fn canonical_keys(&self, mut keys: Vec<Key>) -> Vec<Key> {
        keys.sort_by(|a, b| {
            let group = |k: &Key| self.fields.get(k.field).map(FieldSpec::key_group);
            (group(a), a.domain(), a.field, a.transform).cmp(&(
                group(b),
                b.domain(),
                b.field,
                b.transform,
            ))
        });
        keys
    }

    /// The hash signature of a token of `keys` (in canonical order): the key group and hash
    /// domain of each, e.g. `date_of_birth:value name:value`. Tokens of equal signature are
    /// hashed under one key and can be compared with each other.
    pub fn signature(&self, keys: &[Key]) -> String {
        keys.iter()
            .map(|k| {
                let group = self.fields.get(k.field).map_or("?", FieldSpec::key_group);
                format!("{group}:{}", k.domain())
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Index of the token spec whose keys are `keys` (as a set).
    pub fn token_index(&self, keys: &[String]) -> Option<usize> {
        let mut want: Vec<Key> = keys.iter().filter_map(|k| self.parse_key(k)).collect();
        if want.len() != keys.len() {
            return None;
        }
        want.sort();
        (0..self.tokens.len()).find(|&i| {
            let mut have = self.token_keys(i);
            have.sort();
            have == want
        })
    }

    /// The token columns blocking rule `r` joins on: its own, then its crossed column.
    pub fn blocking_columns(&self, r: usize) -> Vec<usize> {
        let Some(rule) = self.link.blocking.get(r) else {
            return Vec::new();
        };
        std::iter::once(Some(rule.keys.clone()))
            .chain(std::iter::once(rule.crossed_keys()))
            .flatten()
            .filter_map(|keys| self.token_index(&keys))
            .collect()
    }

    /// The parsed household keys.
    pub fn household_keys(&self) -> Vec<Key> {
        self.household
            .iter()
            .filter_map(|k| self.parse_key(k))
            .collect()
    }

    /// Indices of the blocking rules that train the model (see [`LinkSpec::training_rules`]).
    pub fn training_rule_indices(&self) -> Vec<usize> {
        match &self.link.training_rules {
            Some(names) => self
                .link
                .blocking
                .iter()
                .enumerate()
                .filter(|(_, r)| names.contains(&r.name()))
                .map(|(i, _)| i)
                .collect(),
            None => (0..self.link.blocking.len()).collect(),
        }
    }

    /// The input columns in schema order, record id first (the order `pl_encode_record` takes).
    pub fn input_columns(&self) -> Vec<&str> {
        std::iter::once(self.record_id.as_str())
            .chain(self.fields.iter().map(FieldSpec::column))
            .collect()
    }
}

/// 32 hex characters of BLAKE3 over the canonical (sorted-key) JSON of `value`.
fn hash_canonical(value: &serde_json::Value) -> String {
    let canonical = serde_json::to_string(value).unwrap_or_default();
    let hash = blake3::hash(canonical.as_bytes());
    crate::secret::to_hex(&hash.as_bytes()[..16])
}

#[cfg(test)]
mod tests;
