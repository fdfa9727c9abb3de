//! The one place that reads encoded records: every column of one or more extracts as classes of
//! equal cells, and filter columns as packed bits.
//!
//! The attacks need only two things from an encoded column: which records are *equal* on it
//! (classes: a class id per cell, dense from 0) and, for a filter column, the bits. Each cell may
//! hold **several** values (a set-valued column: one-edit deletion variants of a name, masked
//! digits of a date): [`Classes`] keeps, per record, a slice of class ids, empty when the cell is
//! missing. A new column kind needs a new way to read its cells here, nothing else.
//!
//! Records of every extract given are put one after the other ([`Columns::input`] says which
//! extract each came from): the keys are shared, so equal tokens match across extracts too.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::encode::layout::Slot;
use crate::io::encoded::EncodedExtract;

use super::meaning::Meanings;

/// No value (a missing cell, no class, no guess).
pub const NONE: u32 = u32::MAX;

/// The classes of equal cells of one column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classes {
    /// `ids[offsets[r]..offsets[r + 1]]` are the classes of record `r`'s cell.
    offsets: Vec<u32>,
    ids: Vec<u32>,
    /// Number of records in each class.
    pub sizes: Vec<u32>,
}

impl Classes {
    /// Classes of cells given as keys (any hashable value), one slice per record.
    pub fn from_cells<K: std::hash::Hash + Eq + Copy>(
        cells: impl IntoIterator<Item = impl IntoIterator<Item = K>>,
    ) -> Classes {
        Classes::keyed(cells).0
    }

    /// As [`Classes::from_cells`], with the key of each class.
    pub fn keyed<K: std::hash::Hash + Eq + Copy>(
        cells: impl IntoIterator<Item = impl IntoIterator<Item = K>>,
    ) -> (Classes, Vec<K>) {
        let mut keys = Vec::new();
        let mut index: FxHashMap<K, u32> = FxHashMap::default();
        let mut out = Classes {
            offsets: vec![0],
            ..Classes::default()
        };
        for cell in cells {
            let start = out.ids.len();
            for key in cell {
                let next = index.len() as u32;
                let id = *index.entry(key).or_insert(next);
                if id == next {
                    out.sizes.push(0);
                    keys.push(key);
                }
                // A key repeated within one cell counts once.
                if !out.ids[start..].contains(&id) {
                    out.ids.push(id);
                    out.sizes[id as usize] += 1;
                }
            }
            out.offsets.push(out.ids.len() as u32);
        }
        (out, keys)
    }

    /// The classes of record `r` (empty when its cell is missing).
    #[inline]
    pub fn of(&self, r: usize) -> &[u32] {
        match (self.offsets.get(r), self.offsets.get(r + 1)) {
            (Some(&a), Some(&b)) => &self.ids[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The class of record `r` in a single-valued column, [`NONE`] when missing.
    #[inline]
    pub fn single(&self, r: usize) -> u32 {
        self.of(r).first().copied().unwrap_or(NONE)
    }

    /// The first class of every record ([`NONE`] when missing).
    pub fn singles(&self) -> Vec<u32> {
        (0..self.records()).map(|r| self.single(r)).collect()
    }

    /// Number of records.
    pub fn records(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    /// Records with a value.
    pub fn present(&self) -> usize {
        (0..self.records())
            .filter(|&r| !self.of(r).is_empty())
            .count()
    }
}

/// The filters of one filter column, packed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// 64-bit words per filter.
    pub words: usize,
    data: Vec<u64>,
    present: Vec<bool>,
    /// Bits set in each filter (0 when missing).
    pub weight: Vec<u32>,
}

impl Filters {
    /// Packs `filters` (one per record, `None` when missing) of `words` words each; a filter of
    /// another length counts as missing.
    pub fn new<'a>(words: usize, filters: impl IntoIterator<Item = Option<&'a [u64]>>) -> Filters {
        let mut out = Filters {
            words,
            ..Filters::default()
        };
        for f in filters {
            match f.filter(|f| f.len() == words) {
                Some(f) => {
                    out.data.extend_from_slice(f);
                    out.present.push(true);
                    out.weight.push(f.iter().map(|w| w.count_ones()).sum());
                }
                None => {
                    out.data.extend(std::iter::repeat_n(0, words));
                    out.present.push(false);
                    out.weight.push(0);
                }
            }
        }
        out
    }

    /// Record `r`'s filter.
    #[inline]
    pub fn get(&self, r: usize) -> Option<&[u64]> {
        if *self.present.get(r)? {
            self.data.get(r * self.words..(r + 1) * self.words)
        } else {
            None
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.present.len()
    }

    /// Length in bits.
    pub fn bits(&self) -> usize {
        self.words * 64
    }
}

/// One column: its classes and, for a filter column, its filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Column {
    /// Classes of equal cells.
    pub classes: Classes,
    /// The filters of a filter column.
    pub filters: Option<Filters>,
    /// For a token column comparable with others (equal signature,
    /// [`Meanings::comparable`]): the id of each class's token among the tokens of every column
    /// of its signature, so that equal ids in two columns are equal tokens. Empty otherwise.
    pub shared: Vec<u32>,
}

/// Every column of the extracts, in the order of [`Meanings::columns`].
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// Record ids, in order (extract after extract).
    pub ids: Vec<String>,
    /// Which extract (index in the list given) each record came from.
    pub input: Vec<u32>,
    /// The columns.
    pub columns: Vec<Column>,
}

impl Columns {
    /// Reads the columns of `extracts` (all encoded under the schema of `meanings`).
    pub fn new(meanings: &Meanings, extracts: &[&EncodedExtract]) -> Columns {
        let records: Vec<(u32, &crate::encode::EncodedRecord)> = extracts
            .iter()
            .enumerate()
            .flat_map(|(i, e)| e.records.iter().map(move |r| (i as u32, r)))
            .collect();
        let read: Vec<(Column, Vec<u128>)> = meanings
            .columns
            .par_iter()
            .map(|m| match m.slot {
                Slot::Token(t) => {
                    let (classes, keys) = Classes::keyed(records.iter().map(|(_, r)| {
                        r.tokens
                            .get(t)
                            .copied()
                            .flatten()
                            .map(|tok| u128::from_le_bytes(tok.0))
                    }));
                    (
                        Column {
                            classes,
                            ..Column::default()
                        },
                        keys,
                    )
                }
                Slot::Set(s) => {
                    let (classes, keys) = Classes::keyed(records.iter().map(|(_, r)| {
                        r.sets
                            .get(s)
                            .map(Vec::as_slice)
                            .unwrap_or_default()
                            .iter()
                            .map(|&v| u128::from(v))
                    }));
                    (
                        Column {
                            classes,
                            ..Column::default()
                        },
                        keys,
                    )
                }
                Slot::Bloom { index, bits } => {
                    let words = bits as usize / 64;
                    let filters = Filters::new(
                        words,
                        records.iter().map(|(_, r)| {
                            r.blooms.get(index).and_then(|b| b.as_ref()).map(|b| &*b.0)
                        }),
                    );
                    let classes = Classes::from_cells((0..filters.len()).map(|r| {
                        filters.get(r).map(|f| {
                            let mut h = blake3::Hasher::new();
                            for w in f {
                                h.update(&w.to_le_bytes());
                            }
                            let mut b = [0u8; 16];
                            b.copy_from_slice(&h.finalize().as_bytes()[..16]);
                            u128::from_le_bytes(b)
                        })
                    }));
                    (
                        Column {
                            classes,
                            filters: Some(filters),
                            shared: Vec::new(),
                        },
                        Vec::new(),
                    )
                }
            })
            .collect();
        let (mut columns, keys): (Vec<Column>, Vec<Vec<u128>>) = read.into_iter().unzip();
        // Shared ids within each signature that more than one column has.
        let mut by_signature: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
        for &(a, b) in &meanings.comparable {
            for c in [a, b] {
                if let Some(s) = meanings.columns[c].signature.as_deref() {
                    let list = by_signature.entry(s).or_default();
                    if !list.contains(&c) {
                        list.push(c);
                    }
                }
            }
        }
        for list in by_signature.values() {
            let mut index: FxHashMap<u128, u32> = FxHashMap::default();
            for &c in list {
                columns[c].shared = keys[c]
                    .iter()
                    .map(|k| {
                        let next = index.len() as u32;
                        *index.entry(*k).or_insert(next)
                    })
                    .collect();
            }
        }
        Columns {
            ids: records.iter().map(|(_, r)| r.id.clone()).collect(),
            input: records.iter().map(|(i, _)| *i).collect(),
            columns,
        }
    }

    /// Number of records.
    pub fn records(&self) -> usize {
        self.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_of_single_and_set_valued_cells() {
        let single = Classes::from_cells([Some(7u128), None, Some(3), Some(7)]);
        assert_eq!(single.singles(), vec![0, NONE, 1, 0]);
        assert_eq!(single.sizes, vec![2, 1]);
        assert_eq!(single.present(), 3);
        let multi = Classes::from_cells(vec![vec![1u32, 2, 2], vec![], vec![2, 5]]);
        assert_eq!(multi.of(0), &[0, 1]);
        assert_eq!(multi.of(1), &[] as &[u32]);
        assert_eq!(multi.of(2), &[1, 2]);
        assert_eq!(multi.sizes, vec![1, 2, 1]);
        assert_eq!(multi.of(9), &[] as &[u32]);
    }

    #[test]
    fn filters_are_packed_with_their_weight() {
        let a = [0b1011u64, 0];
        let b = [1u64];
        let f = Filters::new(2, [Some(&a[..]), None, Some(&b[..])]);
        assert_eq!(f.get(0), Some(&a[..]));
        assert_eq!(f.get(1), None);
        assert_eq!(f.get(2), None, "wrong length counts as missing");
        assert_eq!(f.weight, vec![3, 0, 0]);
        assert_eq!(f.bits(), 128);
    }
}
