//! The records being linked, pooled from every source and addressed by compact `u32` indices.
//!
//! Records keep their source (the extract they came from) and their order: source 0 first, then
//! source 1, and so on, so a pair `(i, j)` with `i < j` always has its "left" record first.
//!
//! **Comparison rows.** Before linking, [`Pool::prepare`] copies what comparison and blocking read
//! into one contiguous row per record (a fixed stride of `u64` words), so comparing a pair touches
//! two short runs of memory instead of a dozen heap allocations:
//!
//! - every token slot as a `u32` **id**: tokens are only ever tested for equality, so each is
//!   replaced by its rank among the distinct tokens of its slot (1, 2, ...; 0 when missing). Slots
//!   whose tokens are compared with each other (a date's `swapped` token with the exact token, a
//!   field's token with its `cross_with` field's) share one numbering. Ids are exact: two ids are
//!   equal exactly when the tokens are, with no hashing and no collision;
//! - the popcount of every Bloom filter plus one (0 when missing), for the Dice bound;
//! - the filters' words.
//!
//! For the default schema that is 432 bytes per record instead of about a kilobyte of tokens and
//! filters as read.

use rayon::prelude::*;

use crate::encode::layout::Layout;
use crate::encode::EncodedRecord;
use crate::error::{Error, Result};
use crate::schema::{Level, Schema};

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

/// The comparison rows (see the module documentation). Row layout, in `u64` words: the token ids
/// (two `u32` per word), the filters' popcounts plus one (two `u32` per word), then the filters.
#[derive(Debug, Clone, Default)]
struct Rows {
    stride: usize,
    n_tokens: usize,
    n_blooms: usize,
    count_at: usize,
    bloom_offsets: Vec<(usize, usize)>,
    words: Vec<u64>,
}

/// Groups of token slots numbered together: slots compared with each other share ids.
fn id_groups(schema: &Schema, layout: &Layout) -> Vec<Vec<usize>> {
    let n = layout.n_tokens;
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut union = |a: usize, b: usize| {
        if a < n && b < n {
            let (x, y) = (find(&mut parent, a), find(&mut parent, b));
            parent[x.max(y)] = x.min(y);
        }
    };
    for (i, f) in schema.fields.iter().enumerate() {
        let slots = &layout.fields[i];
        let Some(token) = slots.token else { continue };
        if let Some(sw) = slots.level(Level::Swapped) {
            union(token, sw);
        }
        let cross = f.compare.as_ref().and_then(|c| c.cross_with.as_ref());
        if let Some(other) = cross.and_then(|o| schema.field_index(o)) {
            if let Some(t) = layout.fields.get(other).and_then(|s| s.token) {
                union(token, t);
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n];
    for s in 0..n {
        let r = find(&mut parent, s);
        groups[r].push(s);
    }
    groups.retain(|g| !g.is_empty());
    groups
}

/// The ids of the tokens of `slots` (see the module documentation): per slot, one id per record.
fn number_tokens(records: &[EncodedRecord], slots: &[usize]) -> Vec<Vec<u32>> {
    let mut keyed: Vec<([u64; 2], u32, u32)> = Vec::new();
    for (k, &s) in slots.iter().enumerate() {
        keyed.extend(records.iter().enumerate().filter_map(|(i, r)| {
            let t = r.tokens.get(s).copied().flatten()?;
            let v = u128::from_le_bytes(t.0);
            Some(([v as u64, (v >> 64) as u64], k as u32, i as u32))
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

impl Rows {
    fn new(records: &[EncodedRecord], schema: &Schema) -> Rows {
        let layout = Layout::new(schema);
        let n_tokens = layout.n_tokens;
        let n_blooms = layout.n_blooms;
        let mut bloom_words = vec![0usize; n_blooms];
        for r in records {
            for (w, b) in bloom_words.iter_mut().zip(&r.blooms) {
                if let Some(b) = b {
                    *w = (*w).max(b.0.len());
                }
            }
        }
        // Ids per slot, numbered group by group.
        let groups = id_groups(schema, &layout);
        let numbered: Vec<(Vec<usize>, Vec<Vec<u32>>)> = groups
            .into_par_iter()
            .map(|g| {
                let ids = number_tokens(records, &g);
                (g, ids)
            })
            .collect();
        let mut ids: Vec<Vec<u32>> = vec![Vec::new(); n_tokens];
        for (g, per_slot) in numbered {
            for (s, v) in g.into_iter().zip(per_slot) {
                ids[s] = v;
            }
        }
        let count_at = n_tokens.div_ceil(2);
        let mut offset = count_at + n_blooms.div_ceil(2);
        let mut bloom_offsets = Vec::with_capacity(n_blooms);
        for w in &bloom_words {
            bloom_offsets.push((offset, *w));
            offset += w;
        }
        let stride = offset.max(1);
        let mut rows = Rows {
            stride,
            n_tokens,
            n_blooms,
            count_at,
            bloom_offsets,
            words: vec![0u64; stride * records.len()],
        };
        let offsets = rows.bloom_offsets.clone();
        rows.words
            .par_chunks_mut(stride)
            .zip(records.par_iter())
            .enumerate()
            .for_each(|(i, (row, r))| {
                for (t, slot_ids) in ids.iter().enumerate() {
                    let id = slot_ids.get(i).copied().unwrap_or(0);
                    row[t / 2] |= u64::from(id) << (32 * (t % 2));
                }
                for (b, bloom) in r.blooms.iter().enumerate() {
                    let (Some(bloom), Some(&(at, len))) = (bloom, offsets.get(b)) else {
                        continue;
                    };
                    let n = bloom.0.len().min(len);
                    row[at..at + n].copy_from_slice(&bloom.0[..n]);
                    let count = u64::from(dice::popcount(&row[at..at + n])) + 1;
                    row[count_at + b / 2] |= count << (32 * (b % 2));
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
    /// The id of token slot `slot` (0 when missing).
    #[inline]
    pub fn id(&self, slot: usize) -> u32 {
        self.words
            .get(slot / 2)
            .map_or(0, |w| (w >> (32 * (slot % 2))) as u32)
    }

    /// The popcount of Bloom slot `slot` plus one (0 when missing).
    #[inline]
    fn count_plus_one(&self, slot: usize) -> u32 {
        self.words
            .get(self.rows.count_at + slot / 2)
            .map_or(0, |w| (w >> (32 * (slot % 2))) as u32)
    }

    /// Whether Bloom slot `slot` holds a filter.
    #[inline]
    pub fn has_bloom(&self, slot: usize) -> bool {
        self.count_plus_one(slot) != 0
    }

    /// The popcount of Bloom slot `slot` (0 when missing).
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
    #[inline]
    pub fn id(&self, i: u32, slot: usize) -> u32 {
        if slot >= self.rows.n_tokens {
            return 0;
        }
        self.row(i).id(slot)
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

    #[test]
    fn ids_are_equal_exactly_when_tokens_are_and_compared_slots_share_them() {
        use crate::encode::Token;
        let schema = Schema::example();
        let layout = Layout::new(&schema);
        let t = |x: u8| Some(Token([x; 16]));
        let rec = |id: &str, f: &[(usize, Option<Token>)]| {
            let mut r = EncodedRecord {
                id: id.into(),
                tokens: vec![None; layout.n_tokens],
                blooms: vec![None; layout.n_blooms],
            };
            for (s, v) in f {
                r.tokens[*s] = *v;
            }
            r
        };
        let first = layout.fields[0].token.unwrap();
        let last = layout.fields[2].token.unwrap();
        let dob = layout.fields[3].token.unwrap();
        let swapped = layout.fields[3].level(Level::Swapped).unwrap();
        let sex = layout.fields[4].token.unwrap();
        let mut pool = Pool::new(
            vec![(
                "a".into(),
                vec![
                    rec(
                        "0",
                        &[(first, t(1)), (last, t(2)), (dob, t(3)), (sex, t(1))],
                    ),
                    rec(
                        "1",
                        &[(first, t(2)), (last, t(1)), (swapped, t(3)), (sex, t(1))],
                    ),
                    rec("2", &[(first, t(1)), (sex, t(9))]),
                ],
            )],
            layout.n_blooms,
        )
        .unwrap();
        pool.prepare(&schema);
        // Equal tokens, equal ids; different tokens, different ids; missing, 0.
        assert_eq!(pool.id(0, first), pool.id(2, first));
        assert_ne!(pool.id(0, first), pool.id(1, first));
        assert_eq!(pool.id(2, last), 0);
        assert_ne!(pool.id(0, first), 0);
        // Crosswise and swapped slots share a numbering with the slots they are compared with.
        assert_eq!(pool.id(0, first), pool.id(1, last));
        assert_eq!(pool.id(0, last), pool.id(1, first));
        assert_eq!(pool.id(0, dob), pool.id(1, swapped));
        // Unrelated slots number on their own (the same token in two slots need not agree).
        assert_eq!(pool.id(0, sex), pool.id(1, sex));
        assert_ne!(pool.id(0, sex), pool.id(2, sex));
    }
}
