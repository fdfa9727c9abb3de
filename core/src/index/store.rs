//! The person index's tables in its redb file, and the conversions in and out of them.
//!
//! | table | key | value |
//! | --- | --- | --- |
//! | `meta` | `settings`, `counters` | JSON ([`Settings`], [`Counters`]) |
//! | `records` | record number | (person number, source number, record id, encoded CSV row) |
//! | `ids` | (source number, record id) | record number |
//! | `persons` (multimap) | person number | record numbers |
//! | `blocks` (multimap) | block key ([`block_keys`]) | record numbers |
//! | `recent_blocks` (multimap) | block key | record numbers added since the last merge into `blocks` |
//! | `merges`, `splits` | sequence number | JSON ([`Merge`], [`Split`]) |
//!
//! A key's records are those of `blocks` and `recent_blocks` together. `create` fills `blocks`;
//! `add` inserts into the small `recent_blocks`, whose few pages its hashed keys dirty (in the
//! large `blocks`, the keys of 10,000 records land on almost every leaf, and the commit writes
//! and syncs them all). `compact` moves it into `blocks` (an add recommends it once it holds
//! more than [`RECENT_BLOCKS_BOUND`] entries, and does it itself only past
//! [`RECENT_BLOCKS_LIMIT`]); a rewrite (after a withdrawal) moves it too.
//!
//! Every change is one write transaction: redb commits it whole or not at all, so a crash leaves
//! the state of the last commit.

use std::path::Path;

use redb::{MultimapTableDefinition, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::encode::layout::{Layout, Slot};
use crate::encode::EncodedRecord;
use crate::error::{Error, Result};
use crate::schema::{Schema, SchemaFingerprint};
use crate::secret::KeyCheckValue;

pub(crate) const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
pub(crate) const RECORDS: TableDefinition<u64, (u64, u16, &str, &[u8])> =
    TableDefinition::new("records");
pub(crate) const IDS: TableDefinition<(u16, &str), u64> = TableDefinition::new("ids");
pub(crate) const PERSONS: MultimapTableDefinition<u64, u64> =
    MultimapTableDefinition::new("persons");
pub(crate) const BLOCKS: MultimapTableDefinition<u64, u64> = MultimapTableDefinition::new("blocks");
pub(crate) const RECENT_BLOCKS: MultimapTableDefinition<u64, u64> =
    MultimapTableDefinition::new("recent_blocks");
pub(crate) const MERGES: TableDefinition<u64, &str> = TableDefinition::new("merges");
pub(crate) const SPLITS: TableDefinition<u64, &str> = TableDefinition::new("splits");

/// Name of the index's format, in its settings.
pub const INDEX_FORMAT: &str = "pseudolink-person-index";
/// Version of the index's format: 2 added the `recent_blocks` table. An index of version 1 is
/// moved to version 2 when it is opened (the table is created, empty).
pub const INDEX_FORMAT_VERSION: u32 = 2;

/// Entries of the index's table of recent block keys (those of the records added since the last
/// compaction) above which an add recommends
/// [`PersonIndex::compact`](crate::index::PersonIndex::compact): about five monthly adds of
/// 10,000 records (about 200,000 block keys each). The add itself does not move them (see
/// [`RECENT_BLOCKS_LIMIT`]).
pub const RECENT_BLOCKS_BOUND: u64 = 1 << 20;

/// Entries of the table of recent block keys above which an add compacts the index itself
/// before it commits (8 times [`RECENT_BLOCKS_BOUND`], about forty monthly adds of 10,000
/// records): a safety bound for indexes whose owners never compact, so that lookups, which read
/// that table too, stay fast. Below it, adds never pay for the move.
pub const RECENT_BLOCKS_LIMIT: u64 = 8 * RECENT_BLOCKS_BOUND;

/// What an index was made with; fixed at creation except `sources`, which grows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Settings {
    pub format: String,
    pub format_version: u32,
    pub library_version: String,
    pub created_at: String,
    /// The schema document (JSON).
    pub schema: String,
    pub schema_fingerprint: SchemaFingerprint,
    /// The model (JSON, as `Model::to_json` writes it).
    pub model: String,
    pub key_check_value: KeyCheckValue,
    pub encoding_version: u32,
    pub extract_format_version: u32,
    /// Created from one extract: every pair may be compared (deduplication).
    pub dedupe: bool,
    /// Source names, by source number.
    pub sources: Vec<String>,
    pub threshold: f64,
    pub review_threshold: f64,
    pub cluster_support: f64,
}

/// Counters, updated in the same transactions as the tables.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(crate) struct Counters {
    pub next_person: u64,
    pub next_record: u64,
    pub next_log: u64,
}

/// One pair of records given as evidence: `source:id`, `source:id`, match probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The first record, as `source:record_id`.
    pub a: String,
    /// The second record, as `source:record_id`.
    pub b: String,
    /// The pair's match probability.
    pub probability: f64,
}

/// Two persons found to be one: the younger id is retired, the older survives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Merge {
    /// The retired person id.
    pub retired: String,
    /// The surviving (older) person id.
    pub surviving: String,
    /// When (UTC, RFC 3339).
    pub when: String,
    /// The pairs at or above the match threshold that joined them (at most [`MAX_EVIDENCE`]).
    pub evidence: Vec<Evidence>,
}

/// A person whose records the evidence no longer holds together: listed for review, never split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// The person id.
    pub person: String,
    /// When it was listed (UTC, RFC 3339).
    pub when: String,
    /// The groups its records fall into, each as `source:record_id`s.
    pub parts: Vec<Vec<String>>,
}

/// The most pairs a merge lists as evidence.
pub const MAX_EVIDENCE: usize = 10;

/// The text of person number `n`.
pub(crate) fn person_id(n: u64) -> String {
    format!("P{n:08}")
}

/// The store error `e` met on the index at `path`, as an I/O error naming the file.
pub(crate) fn store_error(action: &'static str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(action, path, std::io::Error::other(e.to_string()))
}

/// The block keys of `record`: per blocking rule, one per token (or token-set element) it holds
/// (a crossed rule: one for its two tokens as an unordered pair), a 64-bit keyed hash of the rule
/// number and the token. Two records share a key when they share
/// the rule's token (or, with odds of 2^-64, by chance: blocking then compares the pair and finds
/// no shared token, so a collision costs nothing).
pub(crate) fn block_keys(schema: &Schema, layout: &Layout, record: &EncodedRecord) -> Vec<u64> {
    BlockKeys::new(schema, layout).of(record)
}

/// [`block_keys`] with the schema's blocking rules resolved to the record's slots once, for
/// many records.
pub(crate) struct BlockKeys {
    /// Per rule: its number, and the slots of its token (or token set) and crossed token.
    rules: Vec<(u32, Option<Slot>, Option<Slot>, bool)>,
}

impl BlockKeys {
    /// The rules of `schema` in the slots of `layout`.
    pub(crate) fn new(schema: &Schema, layout: &Layout) -> BlockKeys {
        let slot =
            |column: Option<usize>| column.and_then(|c| layout.tokens.get(c).map(|t| t.slot));
        let rules = schema
            .link
            .blocking
            .iter()
            .enumerate()
            .filter_map(|(r, rule)| {
                let column = schema.token_index(&rule.keys)?;
                let crossed = rule.crossed_keys();
                let other = crossed.as_ref().and_then(|c| slot(schema.token_index(c)));
                Some((r as u32, slot(Some(column)), other, crossed.is_some()))
            })
            .collect();
        BlockKeys { rules }
    }

    /// The block keys of `record`, sorted, without repeats.
    pub(crate) fn of(&self, record: &EncodedRecord) -> Vec<u64> {
        let mut keys = Vec::with_capacity(self.rules.len() + 4);
        let key = |r: u32, bytes: &[u8]| {
            let mut h = blake3::Hasher::new_derive_key("pseudolink person index block key v1");
            h.update(&r.to_le_bytes());
            h.update(bytes);
            let out = h.finalize();
            let mut b = [0u8; 8];
            b.copy_from_slice(&out.as_bytes()[..8]);
            u64::from_le_bytes(b)
        };
        let token = |slot: Option<Slot>| match slot {
            Some(Slot::Token(s)) => record.tokens.get(s).copied().flatten(),
            _ => None,
        };
        for &(r, slot, other, crossed) in &self.rules {
            // A crossed rule: the two tokens as an unordered pair, as `link` joins them.
            if crossed {
                if let (Some(a), Some(b)) = (token(slot), token(other)) {
                    let (lo, hi) = if a.0 <= b.0 { (a, b) } else { (b, a) };
                    keys.push(key(r, &[lo.0, hi.0].concat()));
                }
                continue;
            }
            match slot {
                Some(Slot::Token(s)) => {
                    if let Some(Some(t)) = record.tokens.get(s) {
                        keys.push(key(r, &t.0));
                    }
                }
                Some(Slot::Set(s)) => {
                    for v in record.sets.get(s).into_iter().flatten() {
                        keys.push(key(r, &v.to_le_bytes()));
                    }
                }
                _ => {}
            }
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

/// The encoded CSV row of `record`.
pub(crate) fn row_of(layout: &Layout, record: &EncodedRecord) -> Vec<u8> {
    let mut out = Vec::new();
    record.write_csv_row(layout, &mut out);
    out
}

/// Parses stored rows back into records (one CSV reader over all of them).
pub(crate) fn parse_rows(
    layout: &Layout,
    rows: &[Vec<u8>],
    path: &Path,
) -> Result<Vec<EncodedRecord>> {
    let mut joined = Vec::with_capacity(rows.iter().map(|r| r.len() + 1).sum());
    for r in rows {
        joined.extend_from_slice(r);
        joined.push(b'\n');
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(joined.as_slice());
    let mut out = Vec::with_capacity(rows.len());
    let mut row = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut row)
        .map_err(|e| store_error("read", path, e))?
    {
        let record = crate::io::encoded::parse_row(layout, &row).map_err(|(field, msg)| {
            store_error(
                "read",
                path,
                format!("a stored record is damaged ({field}: {msg})"),
            )
        })?;
        out.push(record);
    }
    if out.len() != rows.len() {
        return Err(store_error(
            "read",
            path,
            "a stored record is damaged (row count)",
        ));
    }
    Ok(out)
}
