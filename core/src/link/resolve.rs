//! Resolution: from scored pairs to decisions.
//!
//! **Clusters** (the default). Pairs whose match probability reaches the threshold are taken in
//! descending match weight (ties by the ids of the first, then the second record) and their
//! clusters are merged, union-find style, so each cluster is one person, over all sources, and
//! may hold two records of one source. The guard against chaining: a merge of clusters `A` and
//! `B` is refused unless more than `support` (default 0.5, so a strict majority) of the pairs
//! `(a, b)` across them that may be compared (different sources, unless deduplicating) were scored
//! at or above the review threshold (pairs never scored count as unsupported). One strong link from a record to a person whose other records it does not resemble
//! then no longer pulls two people into one cluster. This is the density check of
//! "merge only well-connected components" used in entity resolution; `support = 0` gives plain
//! single-linkage (connected components).
//!
//! **One-to-one** (`--one-to-one`, two sources known to be free of duplicates): pairs at or above
//! the threshold are taken greedily by descending match weight, ties broken by the left id and
//! then the right id (lexicographically); a pair is accepted when neither record is linked yet.

use std::cmp::Ordering;

use super::pool::{unpack_pair, Pool};
use super::probability::probability;

/// Default share of supported cross pairs a merge needs (see the module documentation).
pub const DEFAULT_CLUSTER_SUPPORT: f64 = 0.5;

/// Scored candidate pairs: packed pairs (sorted) and their match weights, index-aligned; the
/// probabilities are computed from the weights when needed.
#[derive(Debug, Clone, Copy)]
pub struct ScoredPairs<'a> {
    /// Packed pairs, sorted ascending.
    pub pairs: &'a [u64],
    /// Match weights.
    pub weights: &'a [f64],
}

impl ScoredPairs<'_> {
    /// The match probability of pair `k`.
    #[inline]
    pub fn probability(&self, k: usize) -> f64 {
        self.weights.get(k).map_or(0.0, |w| probability(*w))
    }

    /// Indices of the pairs at or above `threshold`, by descending weight, ties by ids.
    fn edges(&self, pool: &Pool, threshold: f64) -> Vec<usize> {
        let mut edges: Vec<usize> = (0..self.pairs.len())
            .filter(|&k| self.probability(k) >= threshold)
            .collect();
        edges.sort_by(|&x, &y| {
            self.weights[y]
                .partial_cmp(&self.weights[x])
                .unwrap_or(Ordering::Equal)
                .then_with(|| id_order(pool, self.pairs[x], self.pairs[y]))
        });
        edges
    }
}

fn id_order(pool: &Pool, x: u64, y: u64) -> Ordering {
    let (a1, b1) = unpack_pair(x);
    let (a2, b2) = unpack_pair(y);
    pool.record(a1)
        .id
        .cmp(&pool.record(a2).id)
        .then_with(|| pool.record(b1).id.cmp(&pool.record(b2).id))
        .then_with(|| x.cmp(&y))
}

/// The clusters found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clusters {
    /// Per record: 0 when alone, else its cluster's number (1, 2, ... in order of each cluster's
    /// first record in the pool).
    pub cluster_of: Vec<u32>,
    /// Clusters of two or more records.
    pub clusters: u64,
    /// Merges made.
    pub merges: u64,
    /// Merges refused by the guard.
    pub refused_merges: u64,
}

/// Pairs scored at or above the review threshold, as adjacency lists (both directions).
struct Supported {
    offsets: Vec<usize>,
    neighbours: Vec<u32>,
}

impl Supported {
    fn new(n: usize, scored: ScoredPairs<'_>, review_threshold: f64) -> Supported {
        let mut degree = vec![0usize; n + 1];
        let keep = |k: usize| scored.probability(k) >= review_threshold;
        for (k, p) in scored.pairs.iter().enumerate() {
            if keep(k) {
                let (a, b) = unpack_pair(*p);
                degree[a as usize] += 1;
                degree[b as usize] += 1;
            }
        }
        let mut offsets = vec![0usize; n + 1];
        for i in 0..n {
            offsets[i + 1] = offsets[i] + degree[i];
        }
        let mut fill = offsets.clone();
        let mut neighbours = vec![0u32; offsets[n]];
        for (k, p) in scored.pairs.iter().enumerate() {
            if keep(k) {
                let (a, b) = unpack_pair(*p);
                neighbours[fill[a as usize]] = b;
                fill[a as usize] += 1;
                neighbours[fill[b as usize]] = a;
                fill[b as usize] += 1;
            }
        }
        Supported {
            offsets,
            neighbours,
        }
    }

    fn of(&self, i: u32) -> &[u32] {
        let i = i as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => self.neighbours.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// A cluster's members and how many of them each source holds (sorted by source).
#[derive(Default)]
struct Members {
    records: Vec<u32>,
    per_source: Vec<(u16, u64)>,
}

/// Pairs that may be compared across two clusters: all of them when deduplicating, else those
/// whose records come from different sources.
fn comparable_across(pool: &Pool, a: &Members, b: &Members) -> u64 {
    let all = a.records.len() as u64 * b.records.len() as u64;
    if pool.is_dedupe() {
        return all;
    }
    let same: u64 = a
        .per_source
        .iter()
        .map(|(s, n)| {
            b.per_source
                .iter()
                .find(|(t, _)| t == s)
                .map_or(0, |(_, m)| n * m)
        })
        .sum();
    all - same
}

/// Clusters the pool (see the module documentation).
///
/// The support of a merge is counted from the adjacency lists of the smaller cluster's records,
/// and the smaller cluster is merged into the larger, so the whole run costs
/// O(pairs log records) whatever the cluster sizes.
pub fn cluster(
    pool: &Pool,
    scored: ScoredPairs<'_>,
    threshold: f64,
    review_threshold: f64,
    support: f64,
) -> Clusters {
    cluster_seeded(pool, scored, threshold, review_threshold, support, &[])
}

/// [`cluster`], starting from the clusters of `seed` instead of single records: `seed[i]` is
/// record `i`'s starting group (0 for none; records with one nonzero number start as one
/// cluster; records past the end of `seed` start alone). Seeded clusters are only ever merged,
/// never split: what the person index (`crate::index`) needs to keep its ids.
pub fn cluster_seeded(
    pool: &Pool,
    scored: ScoredPairs<'_>,
    threshold: f64,
    review_threshold: f64,
    support: f64,
    seed: &[u32],
) -> Clusters {
    let n = pool.len();
    let supported = Supported::new(n, scored, review_threshold);
    let mut parent: Vec<u32> = (0..n as u32).collect();
    let mut members: Vec<Members> = (0..n).map(|_| Members::default()).collect();
    let mut root_of_group: rustc_hash::FxHashMap<u32, u32> = rustc_hash::FxHashMap::default();
    for (i, &g) in seed.iter().enumerate().take(n) {
        if g == 0 {
            continue;
        }
        let i = i as u32;
        let root = *root_of_group.entry(g).or_insert(i);
        parent[i as usize] = root;
        let m = &mut members[root as usize];
        m.records.push(i);
        let s = pool.source(i);
        match m.per_source.iter_mut().find(|(t, _)| *t == s) {
            Some((_, c)) => *c += 1,
            None => m.per_source.push((s, 1)),
        }
    }
    let get = |members: &mut Vec<Members>, r: u32| -> Members {
        let m = std::mem::take(&mut members[r as usize]);
        if m.records.is_empty() {
            Members {
                records: vec![r],
                per_source: vec![(pool.source(r), 1)],
            }
        } else {
            m
        }
    };
    let mut merges = 0u64;
    let mut refused = 0u64;
    for k in scored.edges(pool, threshold) {
        let (a, b) = unpack_pair(scored.pairs[k]);
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra == rb {
            continue;
        }
        let ma = get(&mut members, ra);
        let mb = get(&mut members, rb);
        let (big_root, small_root, mut big, small) = if ma.records.len() >= mb.records.len() {
            (ra, rb, ma, mb)
        } else {
            (rb, ra, mb, ma)
        };
        let total = comparable_across(pool, &big, &small);
        let mut hits = 0u64;
        for &x in &small.records {
            for &y in supported.of(x) {
                if find(&mut parent, y) == big_root && pool.pair_allowed(x, y) {
                    hits += 1;
                }
            }
        }
        if (hits as f64) <= support * total as f64 {
            refused += 1;
            members[big_root as usize] = big;
            members[small_root as usize] = small;
            continue;
        }
        big.records.extend_from_slice(&small.records);
        for (s, c) in small.per_source {
            match big.per_source.iter_mut().find(|(t, _)| *t == s) {
                Some((_, m)) => *m += c,
                None => big.per_source.push((s, c)),
            }
        }
        parent[small_root as usize] = big_root;
        members[big_root as usize] = big;
        merges += 1;
    }
    let mut cluster_of = vec![0u32; n];
    let mut number_of_root = vec![0u32; n];
    let mut next = 0u32;
    for i in 0..n as u32 {
        let r = find(&mut parent, i);
        if members[r as usize].records.len() < 2 {
            continue;
        }
        if number_of_root[r as usize] == 0 {
            next += 1;
            number_of_root[r as usize] = next;
        }
        cluster_of[i as usize] = number_of_root[r as usize];
    }
    Clusters {
        cluster_of,
        clusters: u64::from(next),
        merges,
        refused_merges: refused,
    }
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let p = parent[i as usize];
        parent[i as usize] = parent[p as usize];
        i = p;
    }
    i
}

/// One-to-one assignment (see the module documentation): whether each scored pair is accepted.
pub fn one_to_one(pool: &Pool, scored: ScoredPairs<'_>, threshold: f64) -> Vec<bool> {
    let mut used = vec![false; pool.len()];
    let mut accepted = vec![false; scored.pairs.len()];
    for k in scored.edges(pool, threshold) {
        let (a, b) = unpack_pair(scored.pairs[k]);
        if !used[a as usize] && !used[b as usize] {
            used[a as usize] = true;
            used[b as usize] = true;
            accepted[k] = true;
        }
    }
    accepted
}

#[cfg(test)]
mod tests {
    use super::super::pool::pack_pair;
    use super::*;
    use crate::encode::EncodedRecord;
    use proptest::prelude::*;

    fn pool(left: usize, right: usize) -> Pool {
        let rec = |p: &str, i: usize| EncodedRecord {
            id: format!("{p}{i:03}"),
            ..EncodedRecord::default()
        };
        Pool::new(
            vec![
                ("l".into(), (0..left).map(|i| rec("a", i)).collect()),
                ("r".into(), (0..right).map(|i| rec("b", i)).collect()),
            ],
            0,
        )
        .unwrap()
    }

    fn scored(
        pool: &Pool,
        raw: &[(usize, usize, f64)],
        left: usize,
    ) -> (Vec<u64>, Vec<f64>, Vec<f64>) {
        let mut v: Vec<(u64, f64)> = raw
            .iter()
            .map(|(a, b, w)| (pack_pair(*a as u32, (left + *b) as u32), *w))
            .collect();
        v.sort_by_key(|x| x.0);
        v.dedup_by(|x, y| x.0 == y.0);
        let _ = pool;
        let pairs = v.iter().map(|x| x.0).collect();
        let weights: Vec<f64> = v.iter().map(|x| x.1).collect();
        let probs = weights
            .iter()
            .map(|w| super::super::probability::probability(*w))
            .collect();
        (pairs, weights, probs)
    }

    proptest! {
        #[test]
        fn one_to_one_never_links_a_record_twice(raw in proptest::collection::vec((0usize..6, 0usize..6, -10.0f64..10.0), 0..40)) {
            let p = pool(6, 6);
            let (pairs, w, pr) = scored(&p, &raw, 6);
            let s = ScoredPairs { pairs: &pairs, weights: &w };
            let acc = one_to_one(&p, s, 0.9);
            let mut seen = std::collections::HashSet::new();
            for (k, ok) in acc.iter().enumerate() {
                if *ok {
                    let (a, b) = unpack_pair(pairs[k]);
                    prop_assert!(pr[k] >= 0.9);
                    prop_assert!(seen.insert(a) && seen.insert(b));
                }
            }
            // Greedy is maximal: every pair above the threshold has a linked end.
            for k in 0..pairs.len() {
                if pr[k] >= 0.9 && !acc[k] {
                    let (a, b) = unpack_pair(pairs[k]);
                    prop_assert!(seen.contains(&a) || seen.contains(&b));
                }
            }
        }

        #[test]
        fn clusters_partition_the_records(raw in proptest::collection::vec((0usize..6, 0usize..6, -10.0f64..10.0), 0..40),
                                          support in 0.0f64..=1.0) {
            let p = pool(6, 6);
            let (pairs, w, pr) = scored(&p, &raw, 6);
            let s = ScoredPairs { pairs: &pairs, weights: &w };
            let c = cluster(&p, s, 0.9, 0.5, support);
            prop_assert_eq!(c.cluster_of.len(), 12);
            // Numbers are 1..=clusters, each used by at least two records.
            for k in 1..=c.clusters as u32 {
                prop_assert!(c.cluster_of.iter().filter(|x| **x == k).count() >= 2);
            }
            prop_assert!(c.cluster_of.iter().all(|x| *x as u64 <= c.clusters));
            // Every multi-record cluster is connected by accepted edges, so records linked at or above
            // the threshold with support 0 share a cluster.
            if support == 0.0 {
                for k in 0..pairs.len() {
                    if pr[k] >= 0.9 {
                        let (a, b) = unpack_pair(pairs[k]);
                        prop_assert_eq!(c.cluster_of[a as usize], c.cluster_of[b as usize]);
                        prop_assert!(c.cluster_of[a as usize] > 0);
                    }
                }
            }
        }
    }

    #[test]
    fn the_guard_stops_a_chain_through_one_weak_link() {
        // a0-b0 strong, b0-a1 strong, but a1's partner b1 and a0 do not match: a1-b1 strong,
        // a0-b1 unscored. Without the guard, all four join; with it, the last merge is refused.
        let p = pool(2, 2);
        let raw = [(0, 0, 20.0), (1, 1, 19.0), (1, 0, 10.0)];
        let (pairs, w, _) = scored(&p, &raw, 2);
        let s = ScoredPairs {
            pairs: &pairs,
            weights: &w,
        };
        let chained = cluster(&p, s, 0.9, 0.5, 0.0);
        assert_eq!(chained.clusters, 1);
        let guarded = cluster(&p, s, 0.9, 0.5, 0.5);
        assert_eq!(guarded.clusters, 2);
        assert_eq!(guarded.refused_merges, 1);
    }

    #[test]
    fn one_to_one_ties_break_by_left_then_right_id() {
        let p = pool(2, 2);
        let raw = [(1, 0, 5.0), (0, 1, 5.0), (0, 0, 5.0)];
        let (pairs, w, _) = scored(&p, &raw, 2);
        let s = ScoredPairs {
            pairs: &pairs,
            weights: &w,
        };
        let acc = one_to_one(&p, s, 0.9);
        let taken: Vec<(u32, u32)> = (0..pairs.len())
            .filter(|k| acc[*k])
            .map(|k| unpack_pair(pairs[k]))
            .collect();
        // a000-b000 wins the tie (smallest left id, then right id); then a001 can only take b001,
        // which it did not score with, so it stays alone.
        assert_eq!(taken, vec![(0, 2)]);
    }
}
