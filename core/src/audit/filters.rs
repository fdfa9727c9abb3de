//! What the filter attacks share: a filter column prepared with its candidate values, their
//! q-grams, and the salt group of every record.
//!
//! **Salt groups.** A salted filter sets different bits for the same q-gram under different salt
//! values, so bits can only be learnt within one salt value. The attacker can tell which records
//! share a salt when some column determines the salt's attributes (the unsalted year-and-month
//! token for a name salted by year and month of birth): records are grouped by their bridged
//! components of the context attributes. Records whose salt cannot be told get no group.

use rustc_hash::FxHashMap;

use super::columns::{Filters, NONE};
use super::grams::{Candidates, GramVocab};
use super::meaning::{Attribute, FilterMeaning};
use super::target::Target;
use super::values::KnownSet;

/// One filter column, ready for the filter attacks.
#[derive(Debug, Clone)]
pub struct FilterColumn<'t> {
    /// Index of the column.
    pub column: usize,
    /// Its name.
    pub name: String,
    /// Its settings.
    pub meaning: &'t FilterMeaning,
    /// Its filters.
    pub filters: &'t Filters,
    /// Per field slot, the attribute (index in the values) of the field's whole value.
    pub slots: Vec<usize>,
    /// q-gram numbers.
    pub vocab: GramVocab,
    /// The candidates from the dictionaries (known values are added per scenario).
    pub candidates: Candidates,
    /// Per record, its salt group ([`NONE`]: cannot be told); 0 for everyone when unsalted.
    pub salt_group: Vec<u32>,
    /// Whether the column is salted.
    pub salted: bool,
}

impl<'t> FilterColumn<'t> {
    /// Prepares column `column` (a filter column), or `None` when it is not one or none of its
    /// fields has values.
    pub fn new(target: &'t Target<'_>, column: usize) -> Option<FilterColumn<'t>> {
        let m = &target.meanings.columns[column];
        let meaning = m.filter()?;
        let filters = target.columns.columns[column].filters.as_ref()?;
        let values = target.values;
        let slots: Vec<usize> = meaning
            .fields
            .iter()
            .map(|(f, _)| values.position(Attribute::whole(*f)))
            .collect::<Option<_>>()?;
        let mut vocab = GramVocab::default();
        let mut candidates = Candidates::default();
        if let [slot] = slots[..] {
            let field = meaning.fields[0].0;
            let attr = &values.attributes[slot];
            if let Some((ids, _)) = &values.dictionaries[field] {
                for &id in ids {
                    let text = &attr.vocab.strings[id as usize];
                    let grams = vocab.set_of(&[(0, text)], meaning.q);
                    let w = attr.counts.get(id as usize).copied().unwrap_or(0);
                    candidates.push(vec![id], grams, w);
                }
            }
        } else {
            // A record-level filter: the reference's distinct tuples.
            let mut seen: FxHashMap<Vec<u32>, usize> = FxHashMap::default();
            for row in 0..values.reference_rows {
                let tuple: Vec<u32> = slots
                    .iter()
                    .map(|&s| values.attributes[s].reference[row])
                    .collect();
                if tuple.iter().all(|&v| v == NONE) {
                    continue;
                }
                match seen.get(&tuple) {
                    Some(&c) => candidates.weight[c] += 1,
                    None => {
                        let parts: Vec<(u8, &str)> = tuple
                            .iter()
                            .enumerate()
                            .filter(|(_, &v)| v != NONE)
                            .map(|(i, &v)| {
                                (
                                    i as u8,
                                    values.attributes[slots[i]].vocab.strings[v as usize].as_str(),
                                )
                            })
                            .collect();
                        let grams = vocab.set_of(&parts, meaning.q);
                        seen.insert(tuple.clone(), candidates.len());
                        candidates.push(tuple, grams, 1);
                    }
                }
            }
        }
        let salted = !m.context.is_empty();
        let salt_group = if salted {
            let parts: Vec<&Vec<u32>> = m
                .context
                .iter()
                .filter_map(|a| values.position(*a))
                .map(|i| &target.components[i])
                .collect();
            let mut index: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
            (0..target.columns.records())
                .map(|r| {
                    let key: Vec<u32> = parts.iter().map(|p| p[r]).collect();
                    if parts.is_empty() || key.contains(&NONE) {
                        return NONE;
                    }
                    let next = index.len() as u32;
                    *index.entry(key).or_insert(next)
                })
                .collect()
        } else {
            vec![0; target.columns.records()]
        };
        Some(FilterColumn {
            column,
            name: m.name.clone(),
            meaning,
            filters,
            slots,
            vocab,
            candidates,
            salt_group,
            salted,
        })
    }

    /// The q-grams of record `r` as `known` knows it (`None` when it knows none of its fields).
    pub fn known_grams(
        &mut self,
        target: &Target<'_>,
        known: &KnownSet,
        r: usize,
    ) -> Option<Vec<u32>> {
        let parts: Vec<(u8, String)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, &s)| {
                let v = known.values[s][r];
                (v != NONE).then(|| {
                    (
                        i as u8,
                        target.values.attributes[s].vocab.strings[v as usize].clone(),
                    )
                })
            })
            .collect();
        if parts.is_empty() {
            return None;
        }
        let refs: Vec<(u8, &str)> = parts.iter().map(|(i, s)| (*i, s.as_str())).collect();
        Some(self.vocab.set_of(&refs, self.meaning.q))
    }

    /// The known tuple of record `r`.
    pub fn known_tuple(&self, known: &KnownSet, r: usize) -> Vec<u32> {
        self.slots.iter().map(|&s| known.values[s][r]).collect()
    }

    /// The records of each salt group, in order (groups numbered as [`salt_group`](Self::salt_group)).
    pub fn groups(&self) -> Vec<Vec<u32>> {
        let n = self
            .salt_group
            .iter()
            .filter(|&&g| g != NONE)
            .max()
            .map_or(0, |&m| m as usize + 1);
        let mut out = vec![Vec::new(); n];
        for (r, &g) in self.salt_group.iter().enumerate() {
            if g != NONE && self.filters.get(r).is_some() {
                out[g as usize].push(r as u32);
            }
        }
        out
    }

    /// Guesses per field slot from a guessed tuple per record.
    pub fn split(&self, tuples: &[Option<Vec<u32>>]) -> Vec<Vec<u32>> {
        (0..self.slots.len())
            .map(|i| {
                tuples
                    .iter()
                    .map(|t| t.as_ref().map_or(NONE, |t| t[i]))
                    .collect()
            })
            .collect()
    }
}
