//! The columns of an encoded extract, derived from the schema.
//!
//! In order: `record_id`; then for each field `<field>` (exact token, if enabled),
//! `<field>.bloom` (if a filter is configured) and `<field>.<level>` for each level; then
//! `record.bloom` (if the schema has a record-level filter); then `block.<rule>` for each blocking
//! rule. Tokens are 32 hex characters, filters base64, and an empty
//! cell means the value was missing.

use crate::schema::{Level, Schema};

/// Where a column's value lives in an [`EncodedRecord`](super::EncodedRecord).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Index into `tokens`.
    Token(usize),
    /// Index into `blooms`, with the filter length in bits.
    Bloom {
        /// Index into `blooms`.
        index: usize,
        /// Filter length in bits.
        bits: u32,
    },
}

/// One output column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name in the header.
    pub name: String,
    /// Where its value lives.
    pub slot: Slot,
}

/// The slots of one schema field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSlots {
    /// Token slot of the exact token.
    pub token: Option<usize>,
    /// Bloom slot.
    pub bloom: Option<usize>,
    /// Token slots of the level tokens, in schema order.
    pub levels: Vec<(Level, usize)>,
}

impl FieldSlots {
    /// Token slot of `level`.
    pub fn level(&self, level: Level) -> Option<usize> {
        self.levels
            .iter()
            .find(|(l, _)| *l == level)
            .map(|(_, s)| *s)
    }
}

/// Column layout of the encoded extract for one schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Columns after `record_id`, in file order.
    pub columns: Vec<Column>,
    /// Slots per schema field.
    pub fields: Vec<FieldSlots>,
    /// Bloom slot of the record-level filter (`record.bloom`), if the schema has one.
    pub record_bloom: Option<usize>,
    /// Token slot of each blocking rule's key.
    pub blocks: Vec<usize>,
    /// Number of token slots.
    pub n_tokens: usize,
    /// Number of Bloom slots.
    pub n_blooms: usize,
}

/// Name of the first column of every encoded extract.
pub const RECORD_ID_COLUMN: &str = "record_id";

/// Name of the column of the record-level filter.
pub const RECORD_BLOOM_COLUMN: &str = "record.bloom";

impl Layout {
    /// The layout for `schema`.
    pub fn new(schema: &Schema) -> Layout {
        let mut columns = Vec::new();
        let mut fields = Vec::new();
        let (mut nt, mut nb) = (0usize, 0usize);
        for f in &schema.fields {
            let mut slots = FieldSlots::default();
            if f.token {
                slots.token = Some(nt);
                columns.push(Column {
                    name: f.name.clone(),
                    slot: Slot::Token(nt),
                });
                nt += 1;
            }
            if let Some(b) = f.bloom {
                slots.bloom = Some(nb);
                columns.push(Column {
                    name: format!("{}.bloom", f.name),
                    slot: Slot::Bloom {
                        index: nb,
                        bits: b.output_bits(),
                    },
                });
                nb += 1;
            }
            for level in &f.levels {
                slots.levels.push((*level, nt));
                columns.push(Column {
                    name: format!("{}.{}", f.name, level.as_str()),
                    slot: Slot::Token(nt),
                });
                nt += 1;
            }
            fields.push(slots);
        }
        let record_bloom = schema.record_bloom.as_ref().map(|r| {
            columns.push(Column {
                name: RECORD_BLOOM_COLUMN.to_string(),
                slot: Slot::Bloom {
                    index: nb,
                    bits: r.output_bits(),
                },
            });
            nb += 1;
            nb - 1
        });
        let mut blocks = Vec::new();
        for rule in &schema.blocking {
            blocks.push(nt);
            columns.push(Column {
                name: format!("block.{}", rule.name),
                slot: Slot::Token(nt),
            });
            nt += 1;
        }
        Layout {
            columns,
            fields,
            record_bloom,
            blocks,
            n_tokens: nt,
            n_blooms: nb,
        }
    }

    /// The header line's names, `record_id` first.
    pub fn header(&self) -> Vec<&str> {
        std::iter::once(RECORD_ID_COLUMN)
            .chain(self.columns.iter().map(|c| c.name.as_str()))
            .collect()
    }
}
