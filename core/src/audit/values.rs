//! Attribute values as numbers: the truth of each record, the reference population's values and
//! frequencies, the dictionaries and what an insider knows, all interned per attribute so that
//! attacks compare `u32`s.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rustc_hash::FxHashMap;

use crate::encode::Value;
use crate::schema::Schema;

use super::cleartext::Cleartext;
use super::columns::{Columns, NONE};
use super::meaning::{Attribute, Meanings, Part};
use super::reference::{Dictionary, Reference};

/// Distinct texts of one attribute, numbered from 0.
#[derive(Debug, Clone, Default)]
pub struct Vocab {
    index: FxHashMap<String, u32>,
    /// The texts, by number.
    pub strings: Vec<String>,
}

impl Vocab {
    /// The number of `text`, added when new.
    pub fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.index.get(text) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(text.to_string());
        self.index.insert(text.to_string(), id);
        id
    }

    /// The number of `text`, if known.
    pub fn get(&self, text: &str) -> Option<u32> {
        self.index.get(text).copied()
    }

    /// Number of texts.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

/// Everything known about one attribute.
#[derive(Debug, Clone)]
pub struct AttributeValues {
    /// The attribute.
    pub attribute: Attribute,
    /// Its name (`first_name.initial`).
    pub name: String,
    /// Whole value (bound 1%) or partial (bound 5%).
    pub whole_value: bool,
    /// Its texts.
    pub vocab: Vocab,
    /// The true value of each record ([`NONE`] when unknown or missing).
    pub truth: Vec<u32>,
    /// The value of each reference row.
    pub reference: Vec<u32>,
    /// Reference rows holding each value, by value number.
    pub counts: Vec<u64>,
    /// Values present in the reference, most frequent first (ties by text).
    pub ranked: Vec<u32>,
}

impl AttributeValues {
    /// The blind guess: the most frequent reference value ([`NONE`] without any).
    pub fn blind(&self) -> u32 {
        self.ranked.first().copied().unwrap_or(NONE)
    }

    /// The texts of `ids`, with the counts of the reference, most frequent first, restricted to
    /// reference rows for which `keep` holds.
    pub fn ranked_where(&self, keep: impl Fn(usize) -> bool) -> Vec<u32> {
        let mut counts: FxHashMap<u32, u64> = FxHashMap::default();
        for (row, &v) in self.reference.iter().enumerate() {
            if v != NONE && keep(row) {
                *counts.entry(v).or_default() += 1;
            }
        }
        self.rank(counts.into_iter())
    }

    /// Values ordered by count (descending), ties by text.
    pub fn rank(&self, counts: impl Iterator<Item = (u32, u64)>) -> Vec<u32> {
        let mut v: Vec<(u32, u64)> = counts.filter(|c| c.1 > 0).collect();
        v.sort_unstable_by(|a, b| {
            b.1.cmp(&a.1).then_with(|| {
                self.vocab.strings[a.0 as usize].cmp(&self.vocab.strings[b.0 as usize])
            })
        });
        v.into_iter().map(|(id, _)| id).collect()
    }

    /// Number of records with a true value.
    pub fn records_with_truth(&self) -> usize {
        self.truth.iter().filter(|&&t| t != NONE).count()
    }
}

/// What an insider knows: the cleartext of some records.
#[derive(Debug, Clone)]
pub struct KnownSet {
    /// How they were chosen, for reports.
    pub label: String,
    /// Number of known records.
    pub k: usize,
    /// Per record, whether it is known.
    pub known: Vec<bool>,
    /// The known records, in order.
    pub list: Vec<usize>,
    /// Per attribute (as [`Values::attributes`]) and record, the known value ([`NONE`] when the
    /// record is not known or the value is missing).
    pub values: Vec<Vec<u32>>,
}

impl KnownSet {}

/// The values of every attribute the audit attacks, and the dictionaries.
#[derive(Debug, Clone)]
pub struct Values {
    /// One per attribute of [`Meanings::attributes`] whose field is in the schema.
    pub attributes: Vec<AttributeValues>,
    index: HashMap<Attribute, usize>,
    /// Per field, the dictionary's values as numbers of the field's whole-value attribute and
    /// where they came from (`None` for fields no filter holds).
    pub dictionaries: Vec<Option<(Vec<u32>, String)>>,
    /// Number of reference rows.
    pub reference_rows: usize,
}

fn text_of(v: Option<&Value>, part: Part) -> Option<String> {
    v.and_then(|v| part.text(v))
}

impl Values {
    /// Interns the truth (for records of the first extract), the reference and the dictionaries
    /// (given ones, else the reference's distinct values for fields that a filter holds).
    pub fn new(
        schema: &Schema,
        meanings: &Meanings,
        columns: &Columns,
        truth: Option<&Cleartext>,
        reference: &Reference,
        dictionaries: &[Dictionary],
    ) -> Values {
        let truth_rows: Vec<Option<&Vec<Option<Value>>>> = match truth {
            Some(t) => {
                let index = t.index();
                columns
                    .ids
                    .iter()
                    .zip(&columns.input)
                    .map(|(id, &input)| {
                        if input == 0 {
                            index.get(id.as_str()).map(|&i| &t.rows[i])
                        } else {
                            None
                        }
                    })
                    .collect()
            }
            None => vec![None; columns.records()],
        };
        let mut attributes = Vec::new();
        let mut index = HashMap::new();
        for &a in &meanings.attributes {
            if a.field >= schema.fields.len() {
                continue;
            }
            let mut vocab = Vocab::default();
            let mut intern = |v: Option<&Value>| match text_of(v, a.part) {
                Some(t) => vocab.intern(&t),
                None => NONE,
            };
            let truth: Vec<u32> = truth_rows
                .iter()
                .map(|row| intern(row.and_then(|r| r[a.field].as_ref())))
                .collect();
            let reference_ids: Vec<u32> = reference
                .table
                .rows
                .iter()
                .map(|row| intern(row[a.field].as_ref()))
                .collect();
            let mut counts = vec![0u64; vocab.len()];
            for &v in &reference_ids {
                if v != NONE {
                    counts[v as usize] += 1;
                }
            }
            let mut values = AttributeValues {
                attribute: a,
                name: a.name(schema),
                whole_value: a.is_whole_value(schema),
                vocab,
                truth,
                reference: reference_ids,
                counts,
                ranked: Vec::new(),
            };
            values.ranked = values.rank(
                values
                    .counts
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| (i as u32, c)),
            );
            index.insert(a, attributes.len());
            attributes.push(values);
        }
        let mut out = Values {
            attributes,
            index,
            dictionaries: vec![None; schema.fields.len()],
            reference_rows: reference.table.len(),
        };
        let filter_fields: Vec<usize> = meanings
            .columns
            .iter()
            .filter_map(|c| c.filter())
            .flat_map(|f| f.fields.iter().map(|(field, _)| *field))
            .collect();
        for field in filter_fields {
            let Some(&i) = out.index.get(&Attribute::whole(field)) else {
                continue;
            };
            if out.dictionaries[field].is_some() {
                continue;
            }
            let given = dictionaries.iter().rfind(|d| d.field == field);
            let attr = &mut out.attributes[i];
            let (ids, source) = match given {
                Some(d) => {
                    let mut ids: Vec<u32> = d
                        .values
                        .iter()
                        .map(|v| attr.vocab.intern(&v.canonical()))
                        .collect();
                    ids.sort_unstable();
                    ids.dedup();
                    (ids, d.source.clone())
                }
                None => (
                    attr.ranked.clone(),
                    "the reference population's distinct values".to_string(),
                ),
            };
            attr.counts.resize(attr.vocab.len(), 0);
            out.dictionaries[field] = Some((ids, source));
        }
        out
    }

    /// Index of `attribute` in [`attributes`](Self::attributes).
    pub fn position(&self, attribute: Attribute) -> Option<usize> {
        self.index.get(&attribute).copied()
    }

    /// Records with a true value of some attribute (the records an audit measures).
    pub fn audited(&self) -> Vec<usize> {
        let n = self.attributes.first().map_or(0, |a| a.truth.len());
        (0..n)
            .filter(|&r| self.attributes.iter().any(|a| a.truth[r] != NONE))
            .collect()
    }

    /// The `k` records an insider knows: the first `k` audited records after a shuffle seeded
    /// by `seed` (so a smaller set is part of a larger one), with their true values.
    pub fn known_sample(&self, k: usize, seed: u64) -> KnownSet {
        let mut audited = self.audited();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        audited.shuffle(&mut rng);
        audited.truncate(k);
        let n = self.attributes.first().map_or(0, |a| a.truth.len());
        let mut known = vec![false; n];
        for &r in &audited {
            known[r] = true;
        }
        let values = self
            .attributes
            .iter()
            .map(|a| {
                (0..n)
                    .map(|r| if known[r] { a.truth[r] } else { NONE })
                    .collect()
            })
            .collect();
        audited.sort_unstable();
        KnownSet {
            label: format!(
                "{} random records of the cleartext (seed {seed})",
                audited.len()
            ),
            k: audited.len(),
            known,
            list: audited,
            values,
        }
    }

    /// The records of `table` (matched to encoded records by record id, in any extract) as an
    /// insider's knowledge, their values taken from the table.
    pub fn known_from(&mut self, table: &Cleartext, columns: &Columns) -> KnownSet {
        let index = table.index();
        let n = columns.records();
        let rows: Vec<Option<usize>> = columns
            .ids
            .iter()
            .map(|id| index.get(id.as_str()).copied())
            .collect();
        let known: Vec<bool> = rows.iter().map(Option::is_some).collect();
        let values = self
            .attributes
            .iter_mut()
            .map(|a| {
                (0..n)
                    .map(|r| match rows[r] {
                        Some(i) => match text_of(
                            table.rows[i][a.attribute.field].as_ref(),
                            a.attribute.part,
                        ) {
                            Some(t) => {
                                let id = a.vocab.intern(&t);
                                if a.counts.len() < a.vocab.len() {
                                    a.counts.resize(a.vocab.len(), 0);
                                }
                                id
                            }
                            None => NONE,
                        },
                        None => NONE,
                    })
                    .collect()
            })
            .collect();
        let list: Vec<usize> = (0..n).filter(|&r| known[r]).collect();
        KnownSet {
            label: format!("{} records of {}", list.len(), table.source),
            k: list.len(),
            known,
            list,
            values,
        }
    }
}
