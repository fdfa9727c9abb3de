//! The records being linked, pooled from every source and addressed by compact `u32` indices.
//!
//! Records keep their source (the extract they came from) and their order: source 0 first, then
//! source 1, and so on, so a pair `(i, j)` with `i < j` always has its "left" record first. The
//! popcount of every Bloom filter is computed once here, for the Dice kernel's bound.
//!
//! For comparison, every record's tokens, filters, filter popcounts and presence bits are also
//! copied into one contiguous row of `u64` words (a fixed stride per record), so comparing a pair
//! touches two short runs of memory instead of a dozen scattered heap allocations: comparison is
//! bound by memory latency, and this layout lets the hardware prefetcher help.

use crate::encode::EncodedRecord;

use super::dice;
use crate::error::{Error, Result};

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

/// The compact rows (see the module documentation). Row layout, in `u64` words: presence bits
/// (token slots, then Bloom slots), Bloom popcounts (two `u32` per word), tokens (two words each),
/// then the filters' words.
#[derive(Debug, Clone, Default)]
struct Rows {
    stride: usize,
    n_tokens: usize,
    mask_words: usize,
    count_words: usize,
    bloom_offsets: Vec<(usize, usize)>,
    words: Vec<u64>,
}

impl Rows {
    fn new(records: &[EncodedRecord], n_blooms: usize) -> Rows {
        let n_tokens = records.iter().map(|r| r.tokens.len()).max().unwrap_or(0);
        let mut bloom_words = vec![0usize; n_blooms];
        for r in records {
            for (w, b) in bloom_words.iter_mut().zip(&r.blooms) {
                if let Some(b) = b {
                    *w = (*w).max(b.0.len());
                }
            }
        }
        let mask_words = (n_tokens + n_blooms).div_ceil(64);
        let count_words = n_blooms.div_ceil(2);
        let mut offset = mask_words + count_words + 2 * n_tokens;
        let mut bloom_offsets = Vec::with_capacity(n_blooms);
        for w in &bloom_words {
            bloom_offsets.push((offset, *w));
            offset += w;
        }
        let stride = offset.max(1);
        let mut rows = Rows {
            stride,
            n_tokens,
            mask_words,
            count_words,
            bloom_offsets,
            words: vec![0u64; stride * records.len()],
        };
        use rayon::prelude::*;
        let (tn, mw, cw) = (n_tokens, mask_words, count_words);
        let offsets = rows.bloom_offsets.clone();
        rows.words
            .par_chunks_mut(stride)
            .zip(records.par_iter())
            .for_each(|(row, r)| {
                for (t, tok) in r.tokens.iter().enumerate() {
                    if let Some(tok) = tok {
                        row[t / 64] |= 1u64 << (t % 64);
                        let v = u128::from_le_bytes(tok.0);
                        row[mw + cw + 2 * t] = v as u64;
                        row[mw + cw + 2 * t + 1] = (v >> 64) as u64;
                    }
                }
                for (b, bloom) in r.blooms.iter().enumerate() {
                    let (Some(bloom), Some(&(at, len))) = (bloom, offsets.get(b)) else {
                        continue;
                    };
                    let bit = tn + b;
                    row[bit / 64] |= 1u64 << (bit % 64);
                    let n = bloom.0.len().min(len);
                    row[at..at + n].copy_from_slice(&bloom.0[..n]);
                    let count = u64::from(dice::popcount(&row[at..at + n]));
                    row[mw + b / 2] |= count << (32 * (b % 2));
                }
            });
        rows
    }

    #[inline]
    fn row(&self, i: u32) -> &[u64] {
        let start = i as usize * self.stride;
        self.words.get(start..start + self.stride).unwrap_or(&[])
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
        let rows = Rows::new(&records, n_blooms);
        Ok(Pool {
            records,
            sources: source_of,
            source_names: names,
            n_blooms,
            clear: None,
            rows,
        })
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

    /// The popcount of Bloom slot `slot` of record `i` (0 when missing).
    #[inline]
    pub fn bloom_count(&self, i: u32, slot: usize) -> u32 {
        if slot >= self.n_blooms {
            return 0;
        }
        let row = self.rows.row(i);
        row.get(self.rows.mask_words + slot / 2)
            .map_or(0, |w| (w >> (32 * (slot % 2))) as u32)
    }

    /// Token slot `slot` of record `i` as two words, `None` when missing.
    #[inline]
    pub fn token(&self, i: u32, slot: usize) -> Option<[u64; 2]> {
        let row = self.rows.row(i);
        if slot >= self.rows.n_tokens || row.get(slot / 64)? & (1u64 << (slot % 64)) == 0 {
            return None;
        }
        let at = self.rows.mask_words + self.rows.count_words + 2 * slot;
        Some([*row.get(at)?, *row.get(at + 1)?])
    }

    /// The words of Bloom slot `slot` of record `i`, `None` when missing.
    #[inline]
    pub fn bloom(&self, i: u32, slot: usize) -> Option<&[u64]> {
        let row = self.rows.row(i);
        let bit = self.rows.n_tokens + slot;
        if slot >= self.n_blooms || row.get(bit / 64)? & (1u64 << (bit % 64)) == 0 {
            return None;
        }
        let &(at, len) = self.rows.bloom_offsets.get(slot)?;
        row.get(at..at + len)
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
}
