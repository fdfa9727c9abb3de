//! The records being linked, pooled from every source and addressed by compact `u32` indices.
//!
//! Records keep their source (the extract they came from) and their order: source 0 first, then
//! source 1, and so on, so a pair `(i, j)` with `i < j` always has its "left" record first. The
//! popcount of every Bloom filter is computed once here, for the Dice kernel's bound.

use crate::encode::EncodedRecord;
use crate::error::{Error, Result};

/// Records from one or more sources, ready to be blocked and compared.
#[derive(Debug, Clone)]
pub struct Pool {
    records: Vec<EncodedRecord>,
    sources: Vec<u16>,
    source_names: Vec<String>,
    n_blooms: usize,
    bloom_counts: Vec<u32>,
    clear: Option<ClearValues>,
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
        let mut bloom_counts = vec![0u32; total * n_blooms];
        for (r, counts) in records
            .iter()
            .zip(bloom_counts.chunks_exact_mut(n_blooms.max(1)))
        {
            for (c, b) in counts.iter_mut().zip(r.blooms.iter()) {
                *c = b.as_ref().map_or(0, |b| b.count_ones());
            }
        }
        Ok(Pool {
            records,
            sources: source_of,
            source_names: names,
            n_blooms,
            bloom_counts,
            clear: None,
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
        self.bloom_counts
            .get(i as usize * self.n_blooms + slot)
            .copied()
            .unwrap_or(0)
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
