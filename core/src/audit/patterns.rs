//! Pattern mining on Bloom filters (attack 5), after Christen, Ranbaduge, Vatsalan and Schnell
//! (2018), "Precise and fast cryptanalysis for Bloom filter based privacy-preserving record
//! linkage" (and the PAKDD 2018 pattern-mining attack by Christen, Vidanage, Ranbaduge and
//! Schnell), without known records.
//!
//! Every filter holding a q-gram has all of that q-gram's positions set, so the positions of the
//! most frequent q-gram of the reference form the most frequent *set* of positions of similar
//! support in the filters. The attack works on partitions of the filters (all of them at first):
//!
//! 1. take the most frequent q-grams of the reference values of the partition;
//! 2. grow the set of positions greedily, each time adding the position that keeps most of the
//!    filters holding all positions so far, while that support stays above the q-grams'
//!    frequency (a maximal frequent itemset, as the Apriori step of the paper finds it),
//!    starting from each of the most frequent positions and keeping the set whose support is
//!    nearest the q-grams' frequency;
//! 3. q-grams about as frequent as the most frequent one (`ro`, `oa`, `ad`, `d_` of *road*)
//!    cannot be told apart (the paper stops there); they are taken together, as one pattern of
//!    about `m * hashes` positions, when the reference values holding all of them have the
//!    support of the pattern in the filters;
//! 4. the filters are split into those holding the pattern and the others, the reference values
//!    likewise, and both halves are mined again, down to a minimum size.
//!
//! Each value is then re-identified from the patterns its filter holds: the candidates (the
//! dictionary) whose q-grams hold exactly those patterns' q-grams, the most frequent first.
//! Salted filters are mined within salt groups large enough for frequencies to show.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::columns::NONE;
use super::filters::FilterColumn;
use super::score::{Board, Family};
use super::target::Target;

/// Partitions smaller than this are not mined further.
pub const MIN_PARTITION: usize = 200;

/// Patterns mined per column at most.
pub const MAX_PATTERNS: usize = 400;

/// q-grams with at least this share of the most frequent one's support are taken together
/// (they occur in the same values: the paper's stopping rule stops where they cannot be told
/// apart, this attack takes them as one pattern).
pub const PLATEAU: f64 = 0.9;

/// At most this many q-grams in one pattern.
pub const MAX_TOGETHER: usize = 12;

/// Positions tried as the start of a pattern.
const SEEDS: usize = 8;

/// A mined pattern: positions and the q-grams assigned to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The positions.
    pub positions: Vec<u32>,
    /// The q-grams (sorted).
    pub grams: Vec<u32>,
}

/// Records as a bitset.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Set(Vec<u64>);

impl Set {
    fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }
    fn and_count(&self, other: &[u64]) -> usize {
        self.0
            .iter()
            .zip(other)
            .map(|(a, b)| (a & b).count_ones() as usize)
            .sum()
    }
    fn and(&self, other: &[u64]) -> Set {
        Set(self.0.iter().zip(other).map(|(a, b)| a & b).collect())
    }
    fn and_not(&self, other: &Set) -> Set {
        Set(self.0.iter().zip(&other.0).map(|(a, b)| a & !b).collect())
    }
}

/// Keeps only the records of `part` in `columns` (renumbered in order): deep partitions are
/// mined on short bitsets.
fn compact(columns: &[Vec<u64>], part: &Set) -> (Vec<Vec<u64>>, Set) {
    let mut idx = Vec::new();
    for (w, &word) in part.0.iter().enumerate() {
        let mut x = word;
        while x != 0 {
            idx.push(w * 64 + x.trailing_zeros() as usize);
            x &= x - 1;
        }
    }
    let words = idx.len().div_ceil(64);
    let out = columns
        .iter()
        .map(|col| {
            let mut c = vec![0u64; words];
            for (j, &i) in idx.iter().enumerate() {
                if col[i / 64] & (1 << (i % 64)) != 0 {
                    c[j / 64] |= 1 << (j % 64);
                }
            }
            c
        })
        .collect();
    (out, full(idx.len()))
}

/// A set of the first `n` records.
fn full(n: usize) -> Set {
    let mut all = vec![u64::MAX; n.div_ceil(64)];
    if !n.is_multiple_of(64) {
        if let Some(last) = all.last_mut() {
            *last = (1u64 << (n % 64)) - 1;
        }
    }
    Set(all)
}

/// The miner of one group of filters.
struct Miner<'a> {
    /// Per reference value: its q-grams and count.
    reference: &'a [(Vec<u32>, u64)],
    hashes: usize,
    min_partition: usize,
    patterns: Vec<Pattern>,
}

impl Miner<'_> {
    fn mine(
        &mut self,
        columns: &[Vec<u64>],
        part: Set,
        values: Vec<usize>,
        excluded: Vec<u32>,
        assigned: Vec<u32>,
    ) {
        if self.patterns.len() >= MAX_PATTERNS {
            return;
        }
        let size = part.count();
        if size < self.min_partition || values.is_empty() {
            return;
        }
        if size * 2 < part.0.len() * 64 {
            let (cols, part) = compact(columns, &part);
            return self.mine(&cols, part, values, excluded, assigned);
        }
        // Reference q-gram support within the partition's values.
        let total: u64 = values.iter().map(|&v| self.reference[v].1).sum();
        if total == 0 {
            return;
        }
        let mut support: FxHashMap<u32, u64> = FxHashMap::default();
        for &v in &values {
            for &g in &self.reference[v].0 {
                if !assigned.contains(&g) {
                    *support.entry(g).or_default() += self.reference[v].1;
                }
            }
        }
        let mut ranked: Vec<(u32, u64)> = support.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let Some(&(_, top)) = ranked.first() else {
            return;
        };
        // The q-grams about as frequent as the most frequent one go together (`ro`, `oa`, `ad`,
        // `d_` of *road*): their positions form one pattern.
        let plateau: Vec<(u32, u64)> = ranked
            .iter()
            .copied()
            .take_while(|g| g.1 as f64 >= PLATEAU * top as f64)
            .collect();
        let m = plateau.len();
        if m > MAX_TOGETHER {
            return;
        }
        let lowest = plateau.last().map_or(top, |g| g.1) as f64 / total as f64;
        // Grow the most frequent position set whose support stays near the q-grams'.
        let min_count = (lowest * size as f64 * 0.8).max(1.0) as usize;
        let max_len = (m * self.hashes * 13).div_ceil(10);
        // Greedy growth from each of the most frequent positions (a position two q-grams share
        // looks more frequent than either): the set whose support is nearest the q-grams'.
        let mut seeds: Vec<(usize, u32)> = (0..columns.len() as u32)
            .filter(|p| !excluded.contains(p))
            .map(|p| (part.and_count(&columns[p as usize]), p))
            .collect();
        seeds.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let target = lowest * size as f64;
        let mut found: Option<(f64, Vec<u32>, Set)> = None;
        for &(count, seed) in seeds.iter().take(SEEDS) {
            if count < min_count {
                break;
            }
            let mut chosen = vec![seed];
            let mut rows = part.and(&columns[seed as usize]);
            while chosen.len() < max_len {
                let best = (0..columns.len() as u32)
                    .filter(|p| !chosen.contains(p) && !excluded.contains(p))
                    .map(|p| (rows.and_count(&columns[p as usize]), p))
                    .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
                match best {
                    Some((count, p)) if count >= min_count => {
                        rows = rows.and(&columns[p as usize]);
                        chosen.push(p);
                    }
                    _ => break,
                }
            }
            if chosen.len() * 2 < m * self.hashes {
                continue;
            }
            let miss = (rows.count() as f64 - target).abs();
            if found.as_ref().is_none_or(|f| miss < f.0) {
                found = Some((miss, chosen, rows));
            }
        }
        let Some((_, mut chosen, rows)) = found else {
            return;
        };
        chosen.sort_unstable();
        let with = rows;
        let with_share = with.count() as f64 / size as f64;
        let grams: Vec<u32> = plateau.iter().map(|g| g.0).collect();
        let holds = |v: usize| {
            grams
                .iter()
                .all(|g| self.reference[v].0.binary_search(g).is_ok())
        };
        let (values_with, values_without): (Vec<usize>, Vec<usize>) =
            values.iter().partition(|&&v| holds(v));
        let ref_share = values_with
            .iter()
            .map(|&v| self.reference[v].1)
            .sum::<u64>() as f64
            / total as f64;
        if (ref_share - with_share).abs() > 0.25 * ref_share.max(with_share) {
            return;
        }
        let mut sorted_grams = grams.clone();
        sorted_grams.sort_unstable();
        self.patterns.push(Pattern {
            positions: chosen.clone(),
            grams: sorted_grams,
        });
        let without = part.and_not(&with);
        let mut excluded2 = excluded;
        excluded2.extend_from_slice(&chosen);
        let mut assigned2 = assigned;
        assigned2.extend_from_slice(&grams);
        self.mine(
            columns,
            with,
            values_with,
            excluded2.clone(),
            assigned2.clone(),
        );
        self.mine(columns, without, values_without, excluded2, assigned2);
    }
}

/// Mines the filters of `members` against the reference `reference` (q-gram sets with
/// counts): the patterns found.
pub fn mine(
    col: &FilterColumn<'_>,
    members: &[u32],
    reference: &[(Vec<u32>, u64)],
    hashes: usize,
) -> Vec<Pattern> {
    let words = members.len().div_ceil(64);
    let bits = col.filters.bits();
    let mut columns = vec![vec![0u64; words]; bits];
    for (i, &r) in members.iter().enumerate() {
        if let Some(f) = col.filters.get(r as usize) {
            for (w, &word) in f.iter().enumerate() {
                let mut x = word;
                while x != 0 {
                    let b = x.trailing_zeros() as usize;
                    columns[w * 64 + b][i / 64] |= 1 << (i % 64);
                    x &= x - 1;
                }
            }
        }
    }
    let mut miner = Miner {
        reference,
        hashes: hashes.max(1),
        min_partition: MIN_PARTITION.max(members.len() / 400),
        patterns: Vec::new(),
    };
    miner.mine(
        &columns,
        full(members.len()),
        (0..reference.len()).collect(),
        Vec::new(),
        Vec::new(),
    );
    miner.patterns
}

/// The candidate with each signature (the set of patterns its q-grams hold), the most
/// frequent first.
fn signatures(col: &FilterColumn<'_>, patterns: &[Pattern]) -> FxHashMap<Vec<u16>, u32> {
    let mut best: FxHashMap<Vec<u16>, u32> = FxHashMap::default();
    for (c, grams) in col.candidates.grams.iter().enumerate() {
        let sig: Vec<u16> = patterns
            .iter()
            .enumerate()
            .filter(|(_, p)| p.grams.iter().all(|g| grams.binary_search(g).is_ok()))
            .map(|(i, _)| i as u16)
            .collect();
        if sig.is_empty() {
            continue;
        }
        let w = col.candidates.weight[c];
        best.entry(sig)
            .and_modify(|b| {
                if w > col.candidates.weight[*b as usize] {
                    *b = c as u32;
                }
            })
            .or_insert(c as u32);
    }
    best
}

/// The candidate for a filter: the one whose signature is the filter's, or the filter's with
/// one pattern left out (a pattern set by chance by other q-grams).
fn decode(f: &[u64], patterns: &[Pattern], sigs: &FxHashMap<Vec<u16>, u32>, weight: &[u64]) -> u32 {
    let sig: Vec<u16> = patterns
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p.positions.iter().all(|&q| {
                f.get(q as usize / 64)
                    .is_some_and(|w| w & (1 << (q % 64)) != 0)
            })
        })
        .map(|(i, _)| i as u16)
        .collect();
    if sig.is_empty() {
        return NONE;
    }
    if let Some(&c) = sigs.get(&sig) {
        return c;
    }
    let mut best = NONE;
    for skip in 0..sig.len() {
        let sub: Vec<u16> = sig
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, s)| *s)
            .collect();
        if let Some(&c) = sigs.get(&sub) {
            if best == NONE || weight[c as usize] > weight[best as usize] {
                best = c;
            }
        }
    }
    best
}

/// Runs pattern mining on every filter column (within salt groups when salted).
pub fn run(target: &Target<'_>, board: &mut Board) {
    for c in 0..target.meanings.columns.len() {
        let Some(mut col) = FilterColumn::new(target, c) else {
            continue;
        };
        col.candidates.index(col.vocab.len());
        let hashes = col
            .meaning
            .fields
            .iter()
            .map(|(_, h)| usize::from(*h))
            .max()
            .unwrap_or(1);
        // The reference values' q-grams with their counts, per candidate.
        let reference: Vec<(Vec<u32>, u64)> = col
            .candidates
            .grams
            .iter()
            .zip(&col.candidates.weight)
            .filter(|(_, &w)| w > 0)
            .map(|(g, &w)| (g.clone(), w))
            .collect();
        let groups: Vec<Vec<u32>> = col
            .groups()
            .into_iter()
            .filter(|g| g.len() >= MIN_PARTITION * 2)
            .collect();
        if groups.is_empty() || reference.is_empty() {
            continue;
        }
        let col = &col;
        let mined: Vec<(Vec<u32>, Vec<Pattern>)> = groups
            .par_iter()
            .map(|members| (members.clone(), mine(col, members, &reference, hashes)))
            .collect();
        let n = target.columns.records();
        let mut guessed: Vec<Option<Vec<u32>>> = vec![None; n];
        let mut patterns_found = 0;
        for (members, patterns) in &mined {
            patterns_found += patterns.len();
            if patterns.is_empty() {
                continue;
            }
            let sigs = signatures(col, patterns);
            let found: Vec<(u32, u32)> = members
                .par_iter()
                .filter_map(|&r| {
                    let f = col.filters.get(r as usize)?;
                    let cand = decode(f, patterns, &sigs, &col.candidates.weight);
                    (cand != NONE).then_some((r, cand))
                })
                .collect();
            for (r, cand) in found {
                guessed[r as usize] = Some(col.candidates.values[cand as usize].clone());
            }
        }
        let how = format!(
            "{patterns_found} frequent bit patterns aligned with frequent q-grams in {} group(s) of at least {} filters; values re-identified against {} candidates",
            mined.len(),
            MIN_PARTITION * 2,
            col.candidates.len()
        );
        for (i, guesses) in col.split(&guessed).into_iter().enumerate() {
            let a = col.slots[i];
            let f = target.finding(
                Family::PatternMining,
                a,
                None,
                how.clone(),
                vec![col.name.clone()],
                &guesses,
            );
            target.record_unknowing(board, f, guesses);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Filters of values whose q-grams set random positions (unknown to the miner).
    #[test]
    fn frequent_patterns_are_the_frequent_q_grams() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (bits, hashes) = (512usize, 10usize);
        // Values: q-gram sets with counts; q-gram 0 is in 60% of values, 1 in 30%, 2 in 15%.
        let grams_of = |i: usize| -> Vec<u32> {
            let mut g = vec![3 + (i % 40) as u32, 50 + (i % 7) as u32];
            if i % 10 < 6 {
                g.push(0);
            }
            if i % 10 >= 7 {
                g.push(1);
            }
            if i % 20 == 3 || i % 20 == 9 || i % 20 == 13 {
                g.push(2);
            }
            g.sort_unstable();
            g.dedup();
            g
        };
        let positions: Vec<Vec<u32>> = (0..60)
            .map(|_| (0..hashes).map(|_| rng.gen_range(0..bits as u32)).collect())
            .collect();
        let n = 4000;
        let filters: Vec<Vec<u64>> = (0..n)
            .map(|i| {
                let mut f = vec![0u64; bits / 64];
                for g in grams_of(i) {
                    for &p in &positions[g as usize] {
                        f[p as usize / 64] |= 1 << (p % 64);
                    }
                }
                f
            })
            .collect();
        let mut columns = vec![vec![0u64; n.div_ceil(64)]; bits];
        for (i, f) in filters.iter().enumerate() {
            for p in 0..bits {
                if f[p / 64] & (1 << (p % 64)) != 0 {
                    columns[p][i / 64] |= 1 << (i % 64);
                }
            }
        }
        let reference: Vec<(Vec<u32>, u64)> = (0..280).map(|i| (grams_of(i), 1)).collect();
        let mut miner = Miner {
            reference: &reference,
            hashes,
            min_partition: 200,
            patterns: Vec::new(),
        };
        miner.mine(
            &columns,
            full(n),
            (0..reference.len()).collect(),
            Vec::new(),
            Vec::new(),
        );
        let first = miner.patterns.first().expect("a pattern");
        assert_eq!(first.grams, vec![0]);
        let mut truth = positions[0].clone();
        truth.sort_unstable();
        truth.dedup();
        assert!(
            truth.iter().all(|p| first.positions.contains(p)),
            "{:?} vs {truth:?}",
            first.positions
        );
        // Every q-gram assigned is one of the frequent ones, with its own positions.
        for p in &miner.patterns {
            for g in &p.grams {
                let own = &positions[*g as usize];
                assert!(own.iter().filter(|q| p.positions.contains(q)).count() >= hashes / 2);
            }
        }
    }

    #[test]
    fn set_operations() {
        let a = Set(vec![0b1111, 0b1]);
        let b = [0b0101u64, 0];
        assert_eq!(a.count(), 5);
        assert_eq!(a.and_count(&b), 2);
        assert_eq!(a.and(&b).count(), 2);
        assert_eq!(a.and_not(&a.and(&b)).count(), 3);
    }
}
