//! Locality-sensitive hashing of Bloom filters, to find similar filters without comparing all
//! pairs: each of `tables` keys is the `r` set positions that come first in a random order of
//! the positions (a bottom-`r` MinHash), so two filters with Jaccard similarity `J` share a key
//! with probability about `J^r` per table.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rustc_hash::FxHashMap;

use super::columns::Filters;

/// Dice coefficient of two filters of equal length.
#[cfg(test)]
pub fn dice(a: &[u64], b: &[u64]) -> f64 {
    let (mut x, mut y, mut both) = (0u32, 0u32, 0u32);
    for (p, q) in a.iter().zip(b) {
        x += p.count_ones();
        y += q.count_ones();
        both += (p & q).count_ones();
    }
    if x + y == 0 {
        0.0
    } else {
        2.0 * f64::from(both) / f64::from(x + y)
    }
}

/// Dice coefficient from the weights and the intersection.
#[inline]
pub fn dice_of(both: u32, wa: u32, wb: u32) -> f64 {
    if wa + wb == 0 {
        0.0
    } else {
        2.0 * f64::from(both) / f64::from(wa + wb)
    }
}

/// Bits set in both filters.
#[inline]
pub fn intersection(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(p, q)| (p & q).count_ones()).sum()
}

/// The MinHash tables.
#[derive(Debug, Clone)]
pub struct MinHash {
    /// Per table, the positions in their random order.
    orders: Vec<Vec<u32>>,
    r: usize,
}

impl MinHash {
    /// `tables` random orders of `bits` positions, keys of `r` positions (seeded: deterministic).
    pub fn new(bits: usize, tables: usize, r: usize, seed: u64) -> MinHash {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let orders = (0..tables)
            .map(|_| {
                let mut o: Vec<u32> = (0..bits as u32).collect();
                o.shuffle(&mut rng);
                o
            })
            .collect();
        MinHash { orders, r }
    }

    /// The keys of `filter`, one per table (`None` for a table when it has fewer than `r` bits).
    pub fn keys(&self, filter: &[u64], out: &mut Vec<Option<u64>>) {
        out.clear();
        for (t, order) in self.orders.iter().enumerate() {
            let mut key = (t as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut found = 0;
            for &p in order {
                if filter
                    .get(p as usize / 64)
                    .is_some_and(|w| w & (1 << (p % 64)) != 0)
                {
                    key = (key ^ u64::from(p)).wrapping_mul(0x0100_0000_01b3);
                    found += 1;
                    if found == self.r {
                        break;
                    }
                }
            }
            out.push((found == self.r).then_some(key));
        }
    }

    /// Number of tables.
    pub fn tables(&self) -> usize {
        self.orders.len()
    }
}

/// An index of some filters of a column by their MinHash keys.
#[derive(Debug, Clone)]
pub struct Index {
    buckets: Vec<FxHashMap<u64, Vec<u32>>>,
    /// Buckets larger than this are not scanned (frequent patterns): recall is traded for time.
    pub max_bucket: usize,
}

impl Index {
    /// Indexes records `members` of `filters`.
    pub fn new(hash: &MinHash, filters: &Filters, members: &[u32], max_bucket: usize) -> Index {
        let mut buckets = vec![FxHashMap::default(); hash.tables()];
        let mut keys = Vec::new();
        for &r in members {
            let Some(f) = filters.get(r as usize) else {
                continue;
            };
            hash.keys(f, &mut keys);
            for (t, k) in keys.iter().enumerate() {
                if let Some(k) = k {
                    buckets[t].entry(*k).or_insert_with(Vec::new).push(r);
                }
            }
        }
        Index {
            buckets,
            max_bucket,
        }
    }

    /// Calls `f` with every indexed record sharing a key with `filter` (a record may come more
    /// than once).
    pub fn candidates(
        &self,
        hash: &MinHash,
        filter: &[u64],
        keys: &mut Vec<Option<u64>>,
        mut f: impl FnMut(u32),
    ) {
        hash.keys(filter, keys);
        for (t, k) in keys.iter().enumerate() {
            let Some(k) = k else { continue };
            if let Some(list) = self.buckets[t].get(k) {
                if list.len() <= self.max_bucket {
                    list.iter().for_each(|&r| f(r));
                }
            }
        }
    }

    /// Every pair of indexed records sharing a key (each pair once, smaller record first).
    pub fn pairs(&self) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for table in &self.buckets {
            for list in table.values() {
                if list.len() > self.max_bucket {
                    continue;
                }
                for (i, &a) in list.iter().enumerate() {
                    for &b in &list[i + 1..] {
                        out.push((a.min(b), a.max(b)));
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_filters_share_keys_and_random_ones_rarely_do() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        use rand::Rng;
        let random = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<u64> {
            (0..8)
                .map(|_| rng.gen::<u64>() & rng.gen::<u64>() & rng.gen::<u64>())
                .collect()
        };
        let a = random(&mut rng);
        let mut b = a.clone();
        b[0] ^= 1 << 7; // one bit differs
        let c = random(&mut rng);
        let filters = Filters::new(8, [Some(&a[..]), Some(&b[..]), Some(&c[..])]);
        let hash = MinHash::new(512, 16, 3, 7);
        let index = Index::new(&hash, &filters, &[0, 2], 100);
        let mut seen = Vec::new();
        let mut keys = Vec::new();
        index.candidates(&hash, &b, &mut keys, |r| seen.push(r));
        assert!(seen.iter().filter(|&&r| r == 0).count() >= 10, "{seen:?}");
        assert!(seen.iter().filter(|&&r| r == 2).count() <= 2, "{seen:?}");
        let all = Index::new(&hash, &filters, &[0, 1, 2], 100);
        assert!(all.pairs().contains(&(0, 1)));
        assert!((dice(&a, &a) - 1.0).abs() < 1e-12);
        assert_eq!(dice_of(intersection(&a, &c), 0, 0), 0.0);
    }
}
