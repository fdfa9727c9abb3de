//! Pair statistics of an extract encoded in parts (the partitions of a Spark job): each part
//! keeps its own [`Sampler`], hands on the records it kept as bytes
//! ([`SampledRecord::to_bytes`]), and the job picks the sample of the whole from their union
//! ([`SampleCut`]) without gathering every part's records in one place.
//!
//! The samples are chosen by hashes only (the smallest ranks; the households under a limit
//! halved until at most [`HOUSEHOLD_SAMPLE`] records remain), so the sample of the whole is the
//! one a single sampler offered every record would keep, and the statistics equal those of
//! `pseudolink encode` over the same rows, whatever the partitioning.
//!
//! The bytes hold a record's unkeyed value hashes and its filters, as the sampler does in
//! memory: they are for the agency's own job (the cluster that holds its cleartext) and are
//! never part of an encoded extract.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::schema::Schema;

use super::bloom::Bloom;
use super::pair_stats::{
    household_level, FeatureValues, Features, PairStats, SampledRecord, Sampler, HOUSEHOLD_SAMPLE,
    RANDOM_SAMPLE,
};

/// First byte of a sampled record's bytes: their layout's version.
const BYTES_VERSION: u8 = 1;

impl SampledRecord {
    /// The record as bytes, for another process of the same job ([`SampledRecord::from_bytes`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![BYTES_VERSION];
        out.extend_from_slice(&self.rank.to_le_bytes());
        put_option(&mut out, self.household.map(|h| vec![h]).as_deref());
        put_len(&mut out, self.values.present.len());
        out.extend(self.values.present.iter().map(|&p| u8::from(p)));
        put_len(&mut out, self.values.keys.len());
        for key in &self.values.keys {
            put_option(&mut out, key.as_deref());
        }
        put_len(&mut out, self.values.blooms.len());
        for bloom in &self.values.blooms {
            put_option(&mut out, bloom.as_ref().map(|b| &b.0[..]));
        }
        out
    }

    /// Reads what [`SampledRecord::to_bytes`] wrote; an error for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<SampledRecord> {
        let mut r = Reader { bytes };
        if r.take(1)? != [BYTES_VERSION] {
            return Err(bad("an unknown layout version"));
        }
        let rank = r.u64()?;
        let household = r.option()?.map(|h| h.first().copied()).unwrap_or_default();
        let present = (0..r.len()?)
            .map(|_| Ok(r.take(1)?[0] != 0))
            .collect::<Result<Vec<bool>>>()?;
        let keys = (0..r.len()?)
            .map(|_| r.option())
            .collect::<Result<Vec<_>>>()?;
        let blooms = (0..r.len()?)
            .map(|_| Ok(r.option()?.map(|w| Bloom(w.into_boxed_slice()))))
            .collect::<Result<Vec<_>>>()?;
        if !r.bytes.is_empty() {
            return Err(bad("bytes after its end"));
        }
        Ok(SampledRecord {
            rank,
            household,
            values: FeatureValues {
                present,
                keys,
                blooms,
            },
        })
    }
}

fn bad(what: &str) -> Error {
    Error::Invalid(format!(
        "a sampled record's bytes hold {what}: they come from another version of pseudolink or were damaged"
    ))
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

/// `0` for none, else `1`, the number of words and the words.
fn put_option(out: &mut Vec<u8>, words: Option<&[u64]>) {
    match words {
        None => out.push(0),
        Some(words) => {
            out.push(1);
            put_len(out, words.len());
            for w in words {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() < n {
            return Err(bad("too few bytes"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    fn len(&mut self) -> Result<usize> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        let n = u32::from_le_bytes(b) as usize;
        // Each element takes at least one byte: a longer count is damage, not a huge record.
        if n > self.bytes.len() {
            return Err(bad("a count larger than what follows"));
        }
        Ok(n)
    }

    fn option(&mut self) -> Result<Option<Vec<u64>>> {
        match self.take(1)?[0] {
            0 => Ok(None),
            1 => {
                let n = self.len()?;
                if n.saturating_mul(8) > self.bytes.len() {
                    return Err(bad("a count larger than what follows"));
                }
                (0..n)
                    .map(|_| self.u64())
                    .collect::<Result<Vec<u64>>>()
                    .map(Some)
            }
            _ => Err(bad("a flag other than 0 or 1")),
        }
    }
}

/// A rank as an `i64` that sorts as the rank does (for an engine whose integers are signed,
/// such as Spark's `LongType`).
pub fn rank_key(rank: u64) -> i64 {
    (rank ^ (1 << 63)) as i64
}

/// The rank of a [`rank_key`].
pub fn rank_of_key(key: i64) -> u64 {
    (key as u64) ^ (1 << 63)
}

/// Which of the records handed on by the parts' samplers make up the sample of the whole
/// extract: the [`RANDOM_SAMPLE`] smallest ranks, and the households at or above the level
/// where at most [`HOUSEHOLD_SAMPLE`] records remain.
///
/// A part's sampler keeps every record of its part whose household is at or above its own
/// level, and its records of smallest rank; the whole's level is at least every part's (a part
/// that halved its limit had too many records below it on its own), and from the highest part
/// level up the parts' records count the whole's households exactly.
///
/// ```
/// use std::collections::BTreeMap;
/// use pseudolink::internals::encode::sample_parts::SampleCut;
///
/// // Two parts, neither of which halved its limit: 3 records of household level 0, 2 of
/// // level 5; ranks 7, 9 and 30 among them.
/// let levels = BTreeMap::from([(0, 3), (5, 2)]);
/// let cut = SampleCut::new(0, &[7, 9, 30], &levels);
/// assert_eq!(cut.household_level(), 0); // 5 records: keep every household
/// assert_eq!(cut.rank(), Some(30)); // fewer than 2,500 records: keep every rank
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleCut {
    rank: Option<u64>,
    household_level: u32,
}

impl SampleCut {
    /// The cut from the highest household level of any part's sampler
    /// ([`Sampler::household_level`]), the smallest ranks among the parts' records (the
    /// [`RANDOM_SAMPLE`] smallest, or all of them; in any order) and how many of the parts'
    /// records have each household level ([`household_level`]).
    pub fn new(parts_level: u32, smallest_ranks: &[u64], levels: &BTreeMap<u32, u64>) -> Self {
        let mut ranks = smallest_ranks.to_vec();
        ranks.sort_unstable();
        ranks.truncate(RANDOM_SAMPLE);
        let at_or_above = |k: u32| levels.range(k..).map(|(_, n)| n).sum::<u64>();
        let household_level = (parts_level..64)
            .find(|&k| at_or_above(k) <= HOUSEHOLD_SAMPLE as u64)
            .unwrap_or(64);
        SampleCut {
            rank: ranks.last().copied(),
            household_level,
        }
    }

    /// The cut that keeps ranks up to `rank` and households from `household_level` up (what
    /// [`SampleCut::rank`] and [`SampleCut::household_level`] of a cut give back).
    pub fn at(rank: Option<u64>, household_level: u32) -> Self {
        SampleCut {
            rank,
            household_level,
        }
    }

    /// The largest rank in the random sample (`None`: no records).
    pub fn rank(&self) -> Option<u64> {
        self.rank
    }

    /// The household level of the whole: households of this level or more are sampled.
    pub fn household_level(&self) -> u32 {
        self.household_level
    }

    /// Whether the record is in the sample of the whole.
    pub fn keeps(&self, record: &SampledRecord) -> bool {
        self.rank.is_some_and(|r| record.rank <= r)
            || record
                .household
                .and_then(household_level)
                .is_some_and(|k| k >= self.household_level)
    }
}

impl PairStats {
    /// The statistics of the records of an extract encoded in parts that `cut` keeps
    /// ([`SampleCut::keeps`]; others are left out here too), in any order: what
    /// [`Sampler::finish`] gives for the whole extract.
    pub fn of_parts(
        schema: &Schema,
        cut: &SampleCut,
        records: impl IntoIterator<Item = SampledRecord>,
    ) -> PairStats {
        let mut sampler = Sampler::at_household_level(cut.household_level);
        for record in records {
            if cut.keeps(&record) {
                sampler.offer(record);
            }
        }
        sampler
            .finish(schema, &Features::new(schema), None)
            .expect("not cancelled")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record with one key (its value `v`), a household and a rank from `i`.
    fn record(i: u64, households: u64) -> SampledRecord {
        let mix = |x: u64| {
            let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        SampledRecord {
            rank: mix(i),
            household: (!i.is_multiple_of(7)).then(|| mix(1_000_000 + i % households)),
            values: FeatureValues {
                present: vec![true, !i.is_multiple_of(3)],
                keys: vec![
                    Some(vec![i % 11]),
                    (!i.is_multiple_of(5)).then(|| vec![i % 4, 9]),
                ],
                blooms: vec![i
                    .is_multiple_of(2)
                    .then(|| Bloom(vec![i, i >> 2].into_boxed_slice()))],
            },
        }
    }

    #[test]
    fn bytes_give_back_the_record_and_refuse_damage() {
        for i in 0..50 {
            let r = record(i, 10);
            let bytes = r.to_bytes();
            assert_eq!(SampledRecord::from_bytes(&bytes).unwrap(), r);
            for cut in 0..bytes.len() {
                assert!(SampledRecord::from_bytes(&bytes[..cut]).is_err());
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(SampledRecord::from_bytes(&longer).is_err());
        }
        assert!(SampledRecord::from_bytes(&[2]).is_err());
        // A count of 4 billion words is refused, not allocated.
        let mut huge = vec![BYTES_VERSION];
        huge.extend_from_slice(&0u64.to_le_bytes());
        huge.extend_from_slice(&[1, 255, 255, 255, 255]);
        assert!(SampledRecord::from_bytes(&huge).is_err());
    }

    #[test]
    fn rank_keys_sort_as_ranks() {
        let ranks = [
            0u64,
            1,
            1 << 62,
            (1 << 63) - 1,
            1 << 63,
            u64::MAX - 1,
            u64::MAX,
        ];
        for w in ranks.windows(2) {
            assert!(rank_key(w[0]) < rank_key(w[1]));
        }
        for r in ranks {
            assert_eq!(rank_of_key(rank_key(r)), r);
        }
    }

    #[test]
    fn levels_are_the_halvings_that_keep_a_household() {
        assert_eq!(household_level(u64::MAX), None);
        assert_eq!(household_level(u64::MAX - 1), Some(0));
        assert_eq!(household_level(0), Some(63));
        for h in [
            1u64,
            2,
            3,
            1 << 40,
            (1 << 63) - 2,
            (1 << 63) - 1,
            1 << 63,
            12345,
        ] {
            let k = household_level(h).unwrap();
            assert!(h < u64::MAX >> k, "{h}");
            assert!(k == 63 || h >= u64::MAX >> (k + 1), "{h}");
        }
    }

    /// The statistics of `parts` handed on as bytes, cut and counted, with `features`.
    fn through_parts(schema: &Schema, features: &Features, parts: Vec<Sampler>) -> PairStats {
        let parts_level = parts.iter().map(Sampler::household_level).max().unwrap();
        let records: Vec<SampledRecord> = parts
            .into_iter()
            .flat_map(Sampler::into_records)
            .map(|r| SampledRecord::from_bytes(&r.to_bytes()).unwrap())
            .collect();
        let mut ranks: Vec<u64> = records.iter().map(|r| r.rank).collect();
        ranks.sort_unstable();
        ranks.truncate(RANDOM_SAMPLE);
        let mut levels = BTreeMap::new();
        for k in records
            .iter()
            .filter_map(|r| r.household.and_then(household_level))
        {
            *levels.entry(k).or_default() += 1;
        }
        let cut = SampleCut::new(parts_level, &ranks, &levels);
        // of_parts counts with the schema's own features; count with the test's here.
        let mut sampler = Sampler::at_household_level(cut.household_level());
        for r in records.into_iter().rev() {
            if cut.keeps(&r) {
                sampler.offer(r);
            }
        }
        sampler.finish(schema, features, None).unwrap()
    }

    /// Records in four parts, each through its own sampler then bytes, cut and counted, give
    /// the statistics of one sampler offered every record: with more than enough records to
    /// fill both samples, so that every part's limit and the cut matter. One part alone too:
    /// its kept households are then fewer than the sample holds at every level below its own,
    /// so a cut that ignored the parts' level would take in its random records' households.
    #[test]
    fn parts_give_the_statistics_of_the_whole() {
        let schema = Schema::example();
        let features = Features::bare(2, 1);
        let n = 4 * HOUSEHOLD_SAMPLE as u64;
        let mut whole = Sampler::new();
        let mut alone = Sampler::new();
        let mut parts = vec![
            Sampler::new(),
            Sampler::new(),
            Sampler::new(),
            Sampler::new(),
        ];
        for i in 0..n {
            whole.offer(record(i, n / 3));
            alone.offer(record(i, n / 3));
            // Parts of unequal sizes, records out of order.
            let part = [0usize, 0, 0, 1, 2, 2, 3][(i % 7) as usize];
            parts[part].offer(record(i, n / 3));
        }
        assert!(
            parts.iter().any(|p| p.household_level() > 0),
            "a part halved its limit"
        );
        let expected = whole.finish(&schema, &features, None).unwrap();
        assert!(expected.household_records > 0);
        assert!(expected.household_records <= HOUSEHOLD_SAMPLE as u64);
        assert_eq!(expected.random_records, RANDOM_SAMPLE as u64);
        assert_eq!(through_parts(&schema, &features, parts), expected);
        assert_eq!(through_parts(&schema, &features, vec![alone]), expected);
    }

    #[test]
    fn merged_samplers_keep_what_one_sampler_keeps() {
        let schema = Schema::example();
        let features = Features::bare(2, 1);
        let n = 2 * HOUSEHOLD_SAMPLE as u64 + 3_000;
        let mut whole = Sampler::new();
        let mut merged = Sampler::new();
        let mut batch = Sampler::new();
        for i in 0..n {
            whole.offer(record(i, n / 2));
            batch.offer(record(i, n / 2));
            if i % 9_999 == 0 {
                merged.merge(std::mem::replace(&mut batch, Sampler::new()));
            }
        }
        merged.merge(batch);
        assert_eq!(merged.household_level(), whole.household_level());
        assert_eq!(
            merged.finish(&schema, &features, None).unwrap(),
            whole.finish(&schema, &features, None).unwrap()
        );
    }
}
