//! The records being linked, pooled from every source and addressed by compact `u32` indices.
//!
//! Records keep their source (the extract they came from) and their order: source 0 first, then
//! source 1, and so on, so a pair `(i, j)` with `i < j` always has its "left" record first.
//!
//! **Comparison rows.** Before linking, [`Pool::prepare`] copies what comparison and blocking read
//! into one contiguous row per record (a fixed stride of `u64` words), so comparing a pair touches
//! two short runs of memory instead of a dozen heap allocations:
//!
//! - every token column as a `u32` **id**: tokens are only ever tested for equality, so each is
//!   replaced by its rank among the distinct tokens of the columns it can be compared with
//!   (columns of one hash signature, such as `first_name+date_of_birth` and
//!   `last_name+date_of_birth`, share a numbering; 1, 2, ...; 0 when missing). Ids are exact: two
//!   ids are equal exactly when the tokens are, with no hashing and no collision;
//! - every token-set column as its elements' ids in ascending order, in a fixed width (the
//!   largest set of that column), padded with 0;
//! - the fields the record has a value of, as a bit mask: a field is present when some token
//!   or filter holding it is (the extract says no more than that);
//! - the popcount of every Bloom filter plus one (0 when missing), for the Dice bound, and the
//!   filters' words.

use rayon::prelude::*;

use crate::encode::layout::{Layout, Slot};
use crate::encode::EncodedRecord;
use crate::error::{Error, Result};
use crate::schema::Schema;

use super::dice;

/// Records from one or more sources, ready to be blocked and compared.
#[derive(Debug, Clone)]
pub struct Pool {
    records: Vec<EncodedRecord>,
    sources: Vec<u16>,
    source_names: Vec<String>,
    n_blooms: usize,
    clear: Option<ClearValues>,
    rows: Rows,
}

/// Where one token column sits in a row, in `u32` units from the row's start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ColumnAt {
    /// First `u32` of the column.
    pub at: usize,
    /// Its width: 1 for a single token, the largest set for a token set.
    pub width: usize,
    /// Whether it is a token set.
    pub set: bool,
}

/// The comparison rows (see the module documentation). Row layout, in `u32` units: the columns'
/// ids, the presence mask, the filters' popcounts plus one; then, in whole `u64` words, the
/// filters.
#[derive(Debug, Clone, Default)]
struct Rows {
    stride: usize,
    columns: Vec<ColumnAt>,
    presence_at: usize,
    count_at: usize,
    n_blooms: usize,
    bloom_offsets: Vec<(usize, usize)>,
    words: Vec<u64>,
}

/// The ids of the tokens of the single-token `slots` (see the module documentation): per slot,
/// one id per record.
fn number_tokens(records: &[EncodedRecord], slots: &[usize]) -> Vec<Vec<u32>> {
    let mut keyed: Vec<([u64; 2], u32, u32)> = Vec::new();
    for (k, &s) in slots.iter().enumerate() {
        keyed.extend(records.iter().enumerate().filter_map(|(i, r)| {
            let t = r.tokens.get(s).copied().flatten()?;
            let v = u128::from_le_bytes(t.0);
            Some(([(v >> 64) as u64, v as u64], k as u32, i as u32))
        }));
    }
    keyed.par_sort_unstable_by_key(|x| x.0);
    let mut ids = vec![vec![0u32; records.len()]; slots.len()];
    let mut next = 0u32;
    let mut last = None;
    for (t, k, i) in keyed {
        if last != Some(t) {
            next += 1;
            last = Some(t);
        }
        ids[k as usize][i as usize] = next;
    }
    ids
}

/// The ids of the elements of the token-set `slots`, numbered together (ascending values get
/// ascending ids, so each record's ids stay ascending): per slot, per record, its ids.
fn number_sets(records: &[EncodedRecord], slots: &[usize]) -> Vec<Vec<Vec<u32>>> {
    let mut keyed: Vec<(u64, u32, u32, u32)> = Vec::new();
    for (k, &s) in slots.iter().enumerate() {
        for (i, r) in records.iter().enumerate() {
            for (e, v) in r.sets.get(s).into_iter().flatten().enumerate() {
                keyed.push((*v, k as u32, i as u32, e as u32));
            }
        }
    }
    keyed.par_sort_unstable_by_key(|x| x.0);
    let mut ids: Vec<Vec<Vec<u32>>> = slots
        .iter()
        .map(|&s| {
            records
                .iter()
                .map(|r| vec![0u32; r.sets.get(s).map_or(0, Vec::len)])
                .collect()
        })
        .collect();
    let mut next = 0u32;
    let mut last = None;
    for (v, k, i, e) in keyed {
        if last != Some(v) {
            next += 1;
            last = Some(v);
        }
        ids[k as usize][i as usize][e as usize] = next;
    }
    ids
}

/// Groups of token columns of one kind (single or set) and one hash signature: numbered together.
fn groups(layout: &Layout, set: bool) -> Vec<Vec<usize>> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (c, t) in layout.tokens.iter().enumerate() {
        if matches!(t.slot, Slot::Set(_)) != set {
            continue;
        }
        match groups.iter_mut().find(|(sig, _)| *sig == t.signature) {
            Some((_, g)) => g.push(c),
            None => groups.push((t.signature.clone(), vec![c])),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

/// The presence bit of field `i` (fields past 31 share the last bit).
#[inline]
pub fn bit(i: usize) -> u32 {
    1u32 << i.min(31)
}

/// Per token column and per filter, the mask of the fields it holds.
fn field_masks(schema: &Schema, layout: &Layout) -> (Vec<u32>, Vec<u32>) {
    let token = layout
        .tokens
        .iter()
        .map(|t| t.keys.iter().fold(0u32, |m, k| m | bit(k.field)))
        .collect();
    let filter = schema
        .filters
        .iter()
        .map(|f| {
            f.fields
                .iter()
                .filter_map(|ff| schema.field_index(&ff.field))
                .fold(0u32, |m, i| m | bit(i))
        })
        .collect();
    (token, filter)
}

/// The slot of token column `c` in an [`EncodedRecord`] (`tokens` or `sets`).
fn slot_index(layout: &Layout, c: usize) -> usize {
    match layout.tokens[c].slot {
        Slot::Token(s) | Slot::Set(s) => s,
        Slot::Bloom { index, .. } => index,
    }
}

impl Rows {
    fn new(records: &[EncodedRecord], schema: &Schema) -> Rows {
        let layout = Layout::new(schema);
        let n_blooms = layout.n_blooms;
        let mut bloom_words = vec![0usize; n_blooms];
        for r in records {
            for (w, b) in bloom_words.iter_mut().zip(&r.blooms) {
                if let Some(b) = b {
                    *w = (*w).max(b.0.len());
                }
            }
        }
        // Per column: its place in the row; a set as wide as its largest.
        let mut columns = Vec::with_capacity(layout.tokens.len());
        let mut at = 0usize;
        for t in &layout.tokens {
            let (width, set) = match t.slot {
                Slot::Set(s) => (
                    records
                        .iter()
                        .map(|r| r.sets.get(s).map_or(0, Vec::len))
                        .max()
                        .unwrap_or(0)
                        .max(1),
                    true,
                ),
                _ => (1, false),
            };
            columns.push(ColumnAt { at, width, set });
            at += width;
        }
        let presence_at = at;
        let count_at = at + 1;
        let mut offset = (count_at + n_blooms).div_ceil(2);
        let mut bloom_offsets = Vec::with_capacity(n_blooms);
        for w in &bloom_words {
            bloom_offsets.push((offset, *w));
            offset += w;
        }
        let stride = offset.max(1);
        // Ids, group by group.
        let mut single: Vec<Vec<u32>> = vec![Vec::new(); layout.tokens.len()];
        for g in groups(&layout, false) {
            let slots: Vec<usize> = g.iter().map(|&c| slot_index(&layout, c)).collect();
            for (c, ids) in g.into_iter().zip(number_tokens(records, &slots)) {
                single[c] = ids;
            }
        }
        let mut sets: Vec<Vec<Vec<u32>>> = vec![Vec::new(); layout.tokens.len()];
        for g in groups(&layout, true) {
            let slots: Vec<usize> = g.iter().map(|&c| slot_index(&layout, c)).collect();
            for (c, ids) in g.into_iter().zip(number_sets(records, &slots)) {
                sets[c] = ids;
            }
        }
        let (token_fields, filter_fields) = field_masks(schema, &layout);
        let mut rows = Rows {
            stride,
            columns,
            presence_at,
            count_at,
            n_blooms,
            bloom_offsets,
            words: vec![0u64; stride * records.len()],
        };
        let offsets = rows.bloom_offsets.clone();
        let cols = rows.columns.clone();
        rows.words
            .par_chunks_mut(stride)
            .zip(records.par_iter())
            .enumerate()
            .for_each(|(i, (row, r))| {
                let mut presence = 0u32;
                let mut ids = vec![0u32; count_at + n_blooms];
                for (c, col) in cols.iter().enumerate() {
                    if col.set {
                        let set = sets[c].get(i).map_or(&[][..], Vec::as_slice);
                        for (e, &id) in set.iter().take(col.width).enumerate() {
                            ids[col.at + e] = id;
                        }
                        if !set.is_empty() {
                            presence |= token_fields[c];
                        }
                    } else {
                        let id = single[c].get(i).copied().unwrap_or(0);
                        ids[col.at] = id;
                        if id != 0 {
                            presence |= token_fields[c];
                        }
                    }
                }
                for (b, bloom) in r.blooms.iter().enumerate() {
                    let (Some(bloom), Some(&(at, len))) = (bloom, offsets.get(b)) else {
                        continue;
                    };
                    let n = bloom.0.len().min(len);
                    row[at..at + n].copy_from_slice(&bloom.0[..n]);
                    ids[count_at + b] = dice::popcount(&row[at..at + n]) + 1;
                    presence |= filter_fields.get(b).copied().unwrap_or(0);
                }
                ids[presence_at] = presence;
                for (pos, v) in ids.into_iter().enumerate() {
                    row[pos / 2] |= u64::from(v) << (32 * (pos % 2));
                }
            });
        rows
    }
}

/// One record's comparison row (see the module documentation), read with the accessors below.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    words: &'a [u64],
    rows: &'a Rows,
}

impl<'a> Row<'a> {
    /// The `u32` at position `pos` of the row.
    #[inline]
    fn at(&self, pos: usize) -> u32 {
        self.words
            .get(pos / 2)
            .map_or(0, |w| (w >> (32 * (pos % 2))) as u32)
    }

    /// The id of single-token column `column` (0 when missing or when it is a set).
    #[inline]
    pub fn id(&self, column: usize) -> u32 {
        match self.rows.columns.get(column) {
            Some(c) if !c.set => self.at(c.at),
            _ => 0,
        }
    }

    /// The ids of token column `column`, ascending (a single token: one id; none when missing).
    #[inline]
    pub fn ids(&self, column: usize) -> impl Iterator<Item = u32> + '_ {
        let (at, width) = self
            .rows
            .columns
            .get(column)
            .map_or((0, 0), |c| (c.at, c.width));
        (at..at + width)
            .map(|p| self.at(p))
            .take_while(|&id| id != 0)
    }

    /// Whether column `column` has a value.
    #[inline]
    pub fn has(&self, column: usize) -> bool {
        self.rows
            .columns
            .get(column)
            .is_some_and(|c| self.at(c.at) != 0)
    }

    /// Whether this row's column `a` and `other`'s column `b` share a token: equal ids, or a
    /// common element of two sets.
    #[inline]
    pub fn shares(&self, a: usize, other: &Row<'_>, b: usize) -> bool {
        self.first_shared(a, other, b).is_some()
    }

    /// The smallest id this row's column `a` and `other`'s column `b` share.
    #[inline]
    pub fn first_shared(&self, a: usize, other: &Row<'_>, b: usize) -> Option<u32> {
        let (Some(ca), Some(cb)) = (self.rows.columns.get(a), other.rows.columns.get(b)) else {
            return None;
        };
        if !ca.set && !cb.set {
            let x = self.at(ca.at);
            return (x != 0 && x == other.at(cb.at)).then_some(x);
        }
        let (mut i, mut j) = (0, 0);
        while i < ca.width && j < cb.width {
            let (x, y) = (self.at(ca.at + i), other.at(cb.at + j));
            if x == 0 || y == 0 {
                return None;
            }
            match x.cmp(&y) {
                std::cmp::Ordering::Equal => return Some(x),
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
            }
        }
        None
    }

    /// The fields the record has a value of (bit `i` for field `i`, see [`bit`]).
    #[inline]
    pub fn presence(&self) -> u32 {
        self.at(self.rows.presence_at)
    }

    /// The popcount of Bloom slot `slot` plus one (0 when missing).
    #[inline]
    fn count_plus_one(&self, slot: usize) -> u32 {
        if slot >= self.rows.n_blooms {
            return 0;
        }
        self.at(self.rows.count_at + slot)
    }

    /// Whether the record has a filter in Bloom slot `slot`.
    #[inline]
    pub fn has_bloom(&self, slot: usize) -> bool {
        self.count_plus_one(slot) != 0
    }

    /// The popcount of the filter in Bloom slot `slot` (0 when missing).
    #[inline]
    pub fn bloom_count(&self, slot: usize) -> u32 {
        self.count_plus_one(slot).saturating_sub(1)
    }

    /// The words of Bloom slot `slot` (zeros when missing).
    #[inline]
    pub fn bloom(&self, slot: usize) -> &'a [u64] {
        match self.rows.bloom_offsets.get(slot) {
            Some(&(at, len)) => self.words.get(at..at + len).unwrap_or(&[]),
            None => &[],
        }
    }
}

/// Normalised cleartext values (cleartext mode only): `n_records * n_fields` cells.
#[derive(Debug, Clone, Default)]
pub struct ClearValues {
    /// Number of schema fields per record.
    pub n_fields: usize,
    /// The normalised value of each field of each record, `None` when missing.
    pub values: Vec<Option<Box<str>>>,
    /// Per record: its feature values over the comparator's keys
    /// ([`Comparator::keys`](super::compare::Comparator::keys)).
    pub features: Vec<crate::encode::pair_stats::FeatureValues>,
    /// The positions, among those keys, of the schema's household keys.
    pub household: Vec<usize>,
}

impl Pool {
    /// Pools `sources` (name and records each), in order. With one source the pool is deduplicated
    /// (pairs within it); with several, only pairs from different sources are formed.
    ///
    /// Errors when there is no source, more than 65,535 sources or more than `u32::MAX - 1` records.
    pub fn new(sources: Vec<(String, Vec<EncodedRecord>)>, n_blooms: usize) -> Result<Pool> {
        if sources.is_empty() {
            return Err(Error::Invalid("nothing to link: no input".into()));
        }
        if sources.len() > usize::from(u16::MAX) {
            return Err(Error::Invalid("too many inputs (at most 65535)".into()));
        }
        let total: usize = sources.iter().map(|(_, r)| r.len()).sum();
        if total >= u32::MAX as usize {
            return Err(Error::Invalid(format!(
                "{total} records is more than one run can index ({})",
                u32::MAX - 1
            )));
        }
        let mut records = Vec::with_capacity(total);
        let mut source_of = Vec::with_capacity(total);
        let mut names = Vec::with_capacity(sources.len());
        for (s, (name, recs)) in sources.into_iter().enumerate() {
            let s = u16::try_from(s).unwrap_or(u16::MAX);
            source_of.extend(std::iter::repeat_n(s, recs.len()));
            records.extend(recs);
            names.push(name);
        }
        Ok(Pool {
            records,
            sources: source_of,
            source_names: names,
            n_blooms,
            clear: None,
            rows: Rows::default(),
        })
    }

    /// Builds the comparison rows for `schema` (see the module documentation): what comparison,
    /// blocking, the u sample and term frequencies read. [`link_pool`](super::link_pool) calls it;
    /// until then every token reads as missing.
    pub fn prepare(&mut self, schema: &Schema) {
        self.rows = Rows::new(&self.records, schema);
        self.n_blooms = self.rows.n_blooms;
    }

    /// Attaches normalised cleartext values (cleartext mode); `values` must hold
    /// `len() * n_fields` cells.
    pub fn with_clear(mut self, clear: ClearValues) -> Result<Pool> {
        if clear.values.len() != self.records.len() * clear.n_fields {
            return Err(Error::Invalid(
                "cleartext values do not match the records".into(),
            ));
        }
        self.clear = Some(clear);
        Ok(self)
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when the pool holds no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// True when there is one source, whose pairs are formed within it.
    pub fn is_dedupe(&self) -> bool {
        self.source_names.len() == 1
    }

    /// The record at `i`.
    #[inline]
    pub fn record(&self, i: u32) -> &EncodedRecord {
        &self.records[i as usize]
    }

    /// All records, in pool order.
    pub fn records(&self) -> &[EncodedRecord] {
        &self.records
    }

    /// The source index of record `i`.
    #[inline]
    pub fn source(&self, i: u32) -> u16 {
        self.sources[i as usize]
    }

    /// The names of the sources, in order.
    pub fn source_names(&self) -> &[String] {
        &self.source_names
    }

    /// Number of records of each source.
    pub fn source_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0usize; self.source_names.len()];
        for &s in &self.sources {
            if let Some(n) = sizes.get_mut(usize::from(s)) {
                *n += 1;
            }
        }
        sizes
    }

    /// Whether records `i` and `j` may form a pair: different records, and from different sources
    /// unless the pool is a single source being deduplicated.
    #[inline]
    pub fn pair_allowed(&self, i: u32, j: u32) -> bool {
        i != j && (self.is_dedupe() || self.source(i) != self.source(j))
    }

    /// The comparison row of record `i` (see [`Pool::prepare`]).
    #[inline]
    pub fn row(&self, i: u32) -> Row<'_> {
        let start = i as usize * self.rows.stride;
        Row {
            words: self
                .rows
                .words
                .get(start..start + self.rows.stride)
                .unwrap_or(&[]),
            rows: &self.rows,
        }
    }

    /// The id of token slot `slot` of record `i` (0 when missing; see the module documentation).
    /// Where each token column sits in the rows (after [`prepare`](Self::prepare)).
    pub fn columns(&self) -> &[ColumnAt] {
        &self.rows.columns
    }

    /// The popcount of Bloom slot `slot` of record `i` (0 when missing).
    #[inline]
    pub fn bloom_count(&self, i: u32, slot: usize) -> u32 {
        self.row(i).bloom_count(slot)
    }

    /// The words of Bloom slot `slot` of record `i`, `None` when missing.
    #[inline]
    pub fn bloom(&self, i: u32, slot: usize) -> Option<&[u64]> {
        let row = self.row(i);
        row.has_bloom(slot).then(|| row.bloom(slot))
    }

    /// Number of Bloom slots.
    pub fn n_blooms(&self) -> usize {
        self.n_blooms
    }

    /// The normalised cleartext value of field `field` of record `i` (cleartext mode only).
    #[inline]
    pub fn clear_value(&self, i: u32, field: usize) -> Option<&str> {
        let c = self.clear.as_ref()?;
        c.values
            .get(i as usize * c.n_fields + field)
            .and_then(|v| v.as_deref())
    }

    /// The feature values of record `i` (cleartext mode).
    #[inline]
    pub fn features(&self, i: u32) -> Option<&crate::encode::pair_stats::FeatureValues> {
        self.clear.as_ref()?.features.get(i as usize)
    }

    /// The positions of the household keys among the feature keys (cleartext mode, when the
    /// schema has household keys).
    pub fn household_keys(&self) -> Option<&[usize]> {
        self.clear
            .as_ref()
            .map(|c| c.household.as_slice())
            .filter(|k| !k.is_empty())
    }

    /// A hash of record `i`'s household key values, `None` when one is missing.
    pub fn household_hash(&self, i: u32, keys: &[usize]) -> Option<u64> {
        let f = self.features(i)?;
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &k in keys {
            let v = f.keys.get(k)?.as_ref()?.first()?;
            h = (h ^ v).wrapping_mul(0x0100_0000_01b3);
        }
        Some(h)
    }

    /// True when cleartext values are attached.
    pub fn has_clear(&self) -> bool {
        self.clear.is_some()
    }

    /// The pool index of the record of source `source` with id `id`.
    pub fn find(&self, source: u16, id: &str) -> Option<u32> {
        self.records
            .iter()
            .zip(&self.sources)
            .position(|(r, s)| *s == source && r.id == id)
            .and_then(|i| u32::try_from(i).ok())
    }

    /// The pool index of the first record with id `id` in any source.
    pub fn find_any(&self, id: &str) -> Option<u32> {
        self.records
            .iter()
            .position(|r| r.id == id)
            .and_then(|i| u32::try_from(i).ok())
    }
}

/// A pair of pool indices packed into one `u64`: `(i << 32) | j` with `i < j`.
#[inline]
pub fn pack_pair(i: u32, j: u32) -> u64 {
    let (a, b) = if i < j { (i, j) } else { (j, i) };
    (u64::from(a) << 32) | u64::from(b)
}

/// The two pool indices of a packed pair.
#[inline]
pub fn unpack_pair(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, (p & 0xFFFF_FFFF) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_pack_in_order() {
        assert_eq!(unpack_pair(pack_pair(7, 3)), (3, 7));
        assert_eq!(unpack_pair(pack_pair(u32::MAX - 1, 0)), (0, u32::MAX - 1));
        assert!(pack_pair(0, 5) < pack_pair(1, 2));
    }

    #[test]
    fn sources_decide_which_pairs_are_allowed() {
        let rec = |id: &str| EncodedRecord {
            id: id.into(),
            ..EncodedRecord::default()
        };
        let pool = Pool::new(
            vec![
                ("a".into(), vec![rec("1"), rec("2")]),
                ("b".into(), vec![rec("1")]),
            ],
            0,
        )
        .unwrap();
        assert!(!pool.is_dedupe());
        assert!(!pool.pair_allowed(0, 1));
        assert!(pool.pair_allowed(0, 2));
        assert_eq!(pool.find(1, "1"), Some(2));
        assert_eq!(pool.source_sizes(), vec![2, 1]);
        let one = Pool::new(vec![("a".into(), vec![rec("1"), rec("2")])], 0).unwrap();
        assert!(one.is_dedupe() && one.pair_allowed(0, 1) && !one.pair_allowed(1, 1));
        assert!(Pool::new(vec![], 0).is_err());
    }
}
