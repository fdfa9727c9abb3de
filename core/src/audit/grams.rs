//! q-grams as the encoder cuts them, tables of the bits each q-gram sets (learnt from known
//! filters or mined from frequent patterns), and the lookup of candidate values in a filter.
//!
//! The attacker knows the encoding from the public documentation and the schema: a filter holds
//! the q-grams of the value padded with `q - 1` underscores (`formats.md`), each setting some
//! positions. Without the secret it cannot compute the positions, but it can learn them: the
//! bits set in *every* filter holding a q-gram include that q-gram's positions. With such a
//! [`Table`] it predicts the filter of any candidate value (the union of its q-grams' bits) and
//! looks it up ([`Lookup`]): exactly, or as the candidate whose predicted filter is nearest by
//! Dice among those whose known q-grams are all present.

use rustc_hash::FxHashMap;

use crate::encode::bloom::for_each_gram;

use super::lsh::intersection;

/// q-grams numbered: `(field slot in the filter, bytes, length)`.
#[derive(Debug, Clone, Default)]
pub struct GramVocab {
    index: FxHashMap<(u8, [u8; 16], u8), u32>,
}

impl GramVocab {
    /// Appends the numbers of the q-grams of `value` (as the encoder pads and cuts them) for
    /// field slot `slot` of a filter with q-grams of length `q`.
    pub fn grams(&mut self, slot: u8, value: &str, q: u8, out: &mut Vec<u32>) {
        for_each_gram(value, q, |bytes, n| {
            let key = (slot, *bytes, n as u8);
            let next = self.index.len() as u32;
            out.push(*self.index.entry(key).or_insert(next));
        });
    }

    /// The distinct q-grams of a value (or tuple), sorted.
    pub fn set_of(&mut self, parts: &[(u8, &str)], q: u8) -> Vec<u32> {
        let mut out = Vec::new();
        for (slot, v) in parts {
            self.grams(*slot, v, q, &mut out);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Number of q-grams.
    pub fn len(&self) -> usize {
        self.index.len()
    }
}

/// The candidate values of one filter column: values (a tuple of them for a record-level
/// filter), their q-grams, and their prior weight (reference frequency) for ties.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// Per candidate, the value number of each field slot ([`NONE`](super::columns::NONE) when absent).
    pub values: Vec<Vec<u32>>,
    /// Per candidate, its distinct q-grams, sorted.
    pub grams: Vec<Vec<u32>>,
    /// Per candidate, its prior weight.
    pub weight: Vec<u64>,
    /// Per q-gram, the candidates holding it.
    pub postings: Vec<Vec<u32>>,
}

impl Candidates {
    /// Adds a candidate (a tuple already seen is not added again).
    pub fn push(&mut self, values: Vec<u32>, grams: Vec<u32>, weight: u64) {
        self.values.push(values);
        self.grams.push(grams);
        self.weight.push(weight);
    }

    /// Builds the postings (after the last [`push`](Self::push)).
    pub fn index(&mut self, grams: usize) {
        self.postings = vec![Vec::new(); grams];
        for (c, gs) in self.grams.iter().enumerate() {
            for &g in gs {
                if let Some(p) = self.postings.get_mut(g as usize) {
                    p.push(c as u32);
                }
            }
        }
    }

    /// Number of candidates.
    pub fn len(&self) -> usize {
        self.values.len()
    }
}

/// The bits of one q-gram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GramBits {
    /// The bits, as words.
    pub words: Box<[u64]>,
    /// The same bits as positions.
    pub positions: Box<[u32]>,
    /// How many filters it was learnt from.
    pub support: u32,
}

impl GramBits {
    /// The bits of `words`.
    pub fn new(words: Box<[u64]>, support: u32) -> GramBits {
        let mut positions = Vec::new();
        for (i, w) in words.iter().enumerate() {
            let mut x = *w;
            while x != 0 {
                positions.push(i as u32 * 64 + x.trailing_zeros());
                x &= x - 1;
            }
        }
        GramBits {
            words,
            positions: positions.into_boxed_slice(),
            support,
        }
    }

    /// Whether the q-gram may be in `filter`: all its bits are, or (when more bits were learnt
    /// than one q-gram sets, because other q-grams always came with it in the known filters)
    /// at least `own` of them.
    #[inline]
    pub fn within(&self, filter: &[u64], own: usize) -> bool {
        let need = self.positions.len().min(own.max(1));
        let mut misses_left = self.positions.len() - need;
        for &p in self.positions.iter() {
            let set = filter
                .get(p as usize / 64)
                .is_some_and(|w| w & (1 << (p % 64)) != 0);
            if !set {
                if misses_left == 0 {
                    return false;
                }
                misses_left -= 1;
            }
        }
        true
    }
}

/// The bits learnt for each q-gram.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// q-gram -> its bits.
    pub bits: FxHashMap<u32, GramBits>,
    /// q-gram -> the filters (records) it was learnt from, for leave-one-out.
    pub postings: FxHashMap<u32, Vec<u32>>,
    /// Record -> its q-grams.
    pub grams_of: FxHashMap<u32, Vec<u32>>,
    /// Words per filter.
    pub words: usize,
}

/// The AND of `filters`, with how many there were.
fn and_all(filters: impl Iterator<Item = Vec<u64>>) -> Option<(Vec<u64>, u32)> {
    let mut acc: Option<Vec<u64>> = None;
    let mut n = 0;
    for f in filters {
        n += 1;
        match &mut acc {
            None => acc = Some(f),
            Some(a) => a.iter_mut().zip(&f).for_each(|(x, y)| *x &= y),
        }
    }
    acc.map(|a| (a, n))
}

impl Table {
    /// Learns the bits of every q-gram as the AND of the filters holding it: `known` gives, per
    /// known record, its number, filter and q-grams. A q-gram seen in one filter only would get
    /// that whole filter; the bits its record's other, better learnt q-grams set are taken out.
    pub fn learn<'f>(
        words: usize,
        known: impl IntoIterator<Item = (u32, &'f [u64], &'f [u32])>,
    ) -> Table {
        let mut acc: FxHashMap<u32, (Vec<u64>, u32)> = FxHashMap::default();
        let mut postings: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        let mut grams_of: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for (r, filter, grams) in known {
            for &g in grams {
                let e = acc.entry(g).or_insert_with(|| (filter.to_vec(), 0));
                for (a, f) in e.0.iter_mut().zip(filter) {
                    *a &= f;
                }
                e.1 += 1;
                postings.entry(g).or_default().push(r);
            }
            grams_of.insert(r, grams.to_vec());
        }
        let mut table = Table {
            bits: FxHashMap::default(),
            postings,
            grams_of,
            words,
        };
        let single: Vec<u32> = acc
            .iter()
            .filter(|(_, e)| e.1 == 1)
            .map(|(g, _)| *g)
            .collect();
        for g in single {
            let owner = table.postings[&g][0];
            let mut w = acc[&g].0.clone();
            table.refine(&mut w, g, owner, |h| {
                acc.get(&h).filter(|e| e.1 >= 2).map(|e| e.0.as_slice())
            });
            acc.insert(g, (w, 1));
        }
        table.bits = acc
            .into_iter()
            .map(|(g, (w, n))| (g, GramBits::new(w.into_boxed_slice(), n)))
            .collect();
        table
    }

    /// Takes out of `bits` (learnt for `g` from `owner`'s filter alone) the bits that `owner`'s
    /// other q-grams set, where those are learnt from two filters or more.
    fn refine<'b>(
        &self,
        bits: &mut [u64],
        g: u32,
        owner: u32,
        learnt: impl Fn(u32) -> Option<&'b [u64]>,
    ) {
        let Some(others) = self.grams_of.get(&owner) else {
            return;
        };
        let before: u32 = bits.iter().map(|w| w.count_ones()).sum();
        let mut out = bits.to_vec();
        for &h in others {
            if h == g {
                continue;
            }
            if let Some(hb) = learnt(h) {
                out.iter_mut().zip(hb).for_each(|(x, y)| *x &= !y);
            }
        }
        // Keep the refinement only when something is left of the q-gram.
        let after: u32 = out.iter().map(|w| w.count_ones()).sum();
        if after > 0 && after < before {
            bits.copy_from_slice(&out);
        }
    }

    /// The bits of `grams` learnt without record `r` (`None` for a q-gram only `r` held):
    /// what the attacker would know had it not known `r`.
    pub fn without(
        &self,
        r: u32,
        grams: &[u32],
        filter_of: impl Fn(u32) -> Option<Vec<u64>>,
    ) -> FxHashMap<u32, Option<GramBits>> {
        let mut out = FxHashMap::default();
        for &g in grams {
            let Some(list) = self.postings.get(&g) else {
                continue;
            };
            let others: Vec<u32> = list.iter().copied().filter(|&o| o != r).collect();
            let learnt = and_all(others.iter().filter_map(|&o| filter_of(o))).map(|(mut w, n)| {
                if let [owner] = others[..] {
                    self.refine(&mut w, g, owner, |h| {
                        self.bits
                            .get(&h)
                            .filter(|b| b.support >= 2 && !grams.contains(&h))
                            .map(|b| &*b.words)
                    });
                }
                GramBits::new(w.into_boxed_slice(), n)
            });
            out.insert(g, learnt);
        }
        out
    }
}

/// The best candidate for one filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// The candidate.
    pub candidate: u32,
    /// How well the candidate explains the filter, 1 for a perfect fit: `1 / (1 + misfit)`,
    /// the misfit being how far the bits of the filter that none of its learnt q-grams sets are
    /// from what its unlearnt q-grams would set. (Learnt bits may include bits of q-grams that
    /// always came with them: predicted bits the filter lacks are no evidence against.)
    pub dice: f64,
    /// Whether its predicted filter is the filter and all its q-grams were learnt.
    pub exact: bool,
}

/// Candidates prepared for lookups with one table.
#[derive(Debug)]
pub struct Lookup<'c> {
    candidates: &'c Candidates,
    /// Candidate -> (predicted filter, its weight, q-grams not in the table), for usable ones.
    predicted: FxHashMap<u32, (Box<[u64]>, u32, u8)>,
    /// Predicted filter -> candidates (exact lookups).
    exact: FxHashMap<Box<[u64]>, Vec<u32>>,
    /// (q-gram, [(second q-gram, candidate)]): each candidate under its two rarest learnt
    /// q-grams (precise ones first), so only candidates with both present are examined.
    anchor: Vec<(u32, Vec<(u32, u32)>)>,
    max_unknown: usize,
    /// Bits a q-gram not learnt is expected to add to a filter.
    unknown_bits: f64,
    /// Distinct positions one q-gram sets (fewer than its positions when they collide).
    own_bits: usize,
}

/// Working memory of [`Lookup::best`], one per thread.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Per q-gram: 0 not tested, 1 absent, 2 present, 3 not learnt.
    state: Vec<u8>,
    touched: Vec<u32>,
    seen: Vec<u32>,
    /// Per candidate, the call that last collected it.
    mark: Vec<u32>,
    call: u32,
}

/// The number of candidates holding each q-gram of the table, for choosing anchors.
fn rarity(candidates: &Candidates, g: u32) -> usize {
    candidates.postings.get(g as usize).map_or(0, Vec::len)
}

impl<'c> Lookup<'c> {
    /// Prepares `candidates` for `table`: a candidate is usable when at least one of its q-grams
    /// and all but `max_unknown` of them were learnt; a q-gram sets `own_bits` distinct
    /// positions, and one not learnt is expected to add `unknown_bits` bits to a filter.
    pub fn new(
        table: &Table,
        candidates: &'c Candidates,
        max_unknown: usize,
        own_bits: usize,
        unknown_bits: f64,
    ) -> Lookup<'c> {
        let mut known_count: FxHashMap<u32, u32> = FxHashMap::default();
        for &g in table.bits.keys() {
            if let Some(p) = candidates.postings.get(g as usize) {
                for &c in p {
                    *known_count.entry(c).or_default() += 1;
                }
            }
        }
        let mut usable: Vec<u32> = known_count
            .iter()
            .filter(|(c, n)| candidates.grams[**c as usize].len() <= **n as usize + max_unknown)
            .map(|(c, _)| *c)
            .collect();
        usable.sort_unstable();
        let mut predicted = FxHashMap::default();
        let mut exact: FxHashMap<Box<[u64]>, Vec<u32>> = FxHashMap::default();
        let mut anchor: FxHashMap<u32, Vec<(u32, u32)>> = FxHashMap::default();
        for c in usable {
            let grams = &candidates.grams[c as usize];
            let mut pred = vec![0u64; table.words];
            let mut unknown = 0u8;
            // The anchors: q-grams learnt precisely (no more bits than one q-gram sets, so a
            // filter without them rarely seems to hold them), the rarest among candidates.
            let mut keys: Vec<(bool, usize, u32)> = Vec::with_capacity(grams.len());
            for &g in grams {
                match table.bits.get(&g) {
                    Some(b) => {
                        pred.iter_mut()
                            .zip(b.words.iter())
                            .for_each(|(p, w)| *p |= w);
                        keys.push((b.positions.len() > own_bits + 1, rarity(candidates, g), g));
                    }
                    None => unknown = unknown.saturating_add(1),
                }
            }
            keys.sort_unstable();
            let Some(&(_, _, a)) = keys.first() else {
                continue;
            };
            let second = keys.get(1).map_or(a, |k| k.2);
            let weight = pred.iter().map(|w| w.count_ones()).sum();
            let pred = pred.into_boxed_slice();
            if unknown == 0 {
                exact.entry(pred.clone()).or_default().push(c);
            }
            anchor.entry(a).or_default().push((second, c));
            predicted.insert(c, (pred, weight, unknown));
        }
        let mut anchor: Vec<(u32, Vec<(u32, u32)>)> = anchor.into_iter().collect();
        anchor.sort_unstable();
        for (_, list) in &mut anchor {
            list.sort_unstable();
        }
        Lookup {
            candidates,
            predicted,
            exact,
            anchor,
            max_unknown,
            unknown_bits,
            own_bits,
        }
    }

    /// See [`Match::dice`]: `both` bits in common, `pw` predicted, `weight` in the filter,
    /// `unknown` q-grams of the candidate not learnt.
    fn fit(&self, both: u32, _pw: u32, weight: u32, unknown: usize) -> f64 {
        let unexplained = f64::from(weight - both);
        let misfit = (unexplained - unknown as f64 * self.unknown_bits).abs();
        1.0 / (1.0 + misfit)
    }

    fn prefer(&self, a: u32, b: u32) -> bool {
        let (wa, wb) = (
            self.candidates.weight[a as usize],
            self.candidates.weight[b as usize],
        );
        wa > wb || (wa == wb && a < b)
    }

    /// The best candidate for `filter` with the table, or with the table overridden for some
    /// q-grams by `changed` (leave-one-out: `None` means not learnt).
    pub fn best(
        &self,
        table: &Table,
        filter: &[u64],
        changed: Option<&FxHashMap<u32, Option<GramBits>>>,
        scratch: &mut Scratch,
    ) -> Option<Match> {
        let weight: u32 = filter.iter().map(|w| w.count_ones()).sum();
        if changed.is_none() {
            if let Some(list) = self.exact.get(filter) {
                let best = list
                    .iter()
                    .copied()
                    .reduce(|a, b| if self.prefer(a, b) { a } else { b })?;
                return Some(Match {
                    candidate: best,
                    dice: 1.0,
                    exact: true,
                });
            }
        }
        let bits_of = |g: u32| -> Option<&GramBits> {
            match changed.and_then(|c| c.get(&g)) {
                Some(over) => over.as_ref(),
                None => table.bits.get(&g),
            }
        };
        scratch.call = scratch.call.wrapping_add(1);
        if scratch.mark.len() < self.candidates.len() {
            scratch.mark.resize(self.candidates.len(), u32::MAX);
        }
        let Scratch {
            state,
            touched,
            seen,
            mark,
            call,
        } = scratch;
        let mut is_present = |g: u32| -> Option<bool> {
            let i = g as usize;
            if i >= state.len() {
                state.resize(i + 1, 0);
            }
            if state[i] == 0 {
                state[i] = match bits_of(g) {
                    None => 3,
                    Some(b) if b.within(filter, self.own_bits) => 2,
                    Some(_) => 1,
                };
                touched.push(g);
            }
            match state[i] {
                2 => Some(true),
                1 => Some(false),
                _ => None,
            }
        };
        seen.clear();
        for (a, list) in &self.anchor {
            if is_present(*a) != Some(true) {
                continue;
            }
            let mut i = 0;
            while i < list.len() {
                let second = list[i].0;
                let present = second == *a || is_present(second) != Some(false);
                while i < list.len() && list[i].0 == second {
                    if present {
                        let c = list[i].1;
                        let m = &mut mark[c as usize];
                        if *m != *call {
                            *m = *call;
                            seen.push(c);
                        }
                    }
                    i += 1;
                }
            }
        }
        let mut best: Option<Match> = None;
        for &c in seen.iter() {
            let grams = &self.candidates.grams[c as usize];
            let touched_by = changed.is_some_and(|ch| grams.iter().any(|g| ch.contains_key(g)));
            let mut unknown = 0usize;
            let mut ok = true;
            for &g in grams {
                match is_present(g) {
                    Some(true) => {}
                    Some(false) => {
                        ok = false;
                        break;
                    }
                    None => unknown += 1,
                }
            }
            if !ok || unknown > self.max_unknown {
                continue;
            }
            let (dice, exact) = if touched_by {
                let mut pred = vec![0u64; filter.len()];
                for &g in grams {
                    if let Some(b) = bits_of(g) {
                        pred.iter_mut()
                            .zip(b.words.iter())
                            .for_each(|(p, w)| *p |= w);
                    }
                }
                let pw: u32 = pred.iter().map(|w| w.count_ones()).sum();
                (
                    self.fit(intersection(&pred, filter), pw, weight, unknown),
                    unknown == 0 && pred.as_slice() == filter,
                )
            } else {
                let Some((pred, pw, unk)) = self.predicted.get(&c) else {
                    continue;
                };
                (
                    self.fit(intersection(pred, filter), *pw, weight, unknown),
                    *unk == 0 && unknown == 0 && &pred[..] == filter,
                )
            };
            let better = match best {
                None => true,
                Some(b) => {
                    dice > b.dice + 1e-12
                        || ((dice - b.dice).abs() <= 1e-12 && self.prefer(c, b.candidate))
                }
            };
            if better {
                best = Some(Match {
                    candidate: c,
                    dice,
                    exact,
                });
            }
        }
        for &g in touched.iter() {
            state[g as usize] = 0;
        }
        touched.clear();
        best
    }
}

/// The threshold an attacker sets from its own leave-one-out trials `(dice, right)`: the
/// lowest Dice at which guessing from there up gains most (right minus wrong guesses); above 1
/// when no threshold gains.
pub fn calibrate(trials: &mut [(f64, bool)]) -> f64 {
    trials.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut gain, mut best, mut threshold) = (0i64, 0i64, 1.01);
    let mut i = 0;
    while i < trials.len() {
        let d = trials[i].0;
        while i < trials.len() && trials[i].0 == d {
            gain += if trials[i].1 { 1 } else { -1 };
            i += 1;
        }
        if gain > 0 && gain >= best {
            best = gain;
            threshold = d;
        }
    }
    threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Filters built by a known random position table: the attacker never sees the table.
    fn filter_of(grams: &[u32], positions: &FxHashMap<u32, Vec<u32>>, words: usize) -> Vec<u64> {
        let mut f = vec![0u64; words];
        for g in grams {
            for &p in &positions[g] {
                f[p as usize / 64] |= 1 << (p % 64);
            }
        }
        f
    }

    #[test]
    fn learnt_bits_predict_filters_of_values_never_seen() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut vocab = GramVocab::default();
        let words = [
            "anna", "anne", "hannah", "nathan", "ethan", "hat", "hana", "nate", "nat", "pat", "tea",
        ];
        let sets: Vec<Vec<u32>> = words.iter().map(|w| vocab.set_of(&[(0, w)], 2)).collect();
        let mut positions = FxHashMap::default();
        for g in 0..vocab.len() as u32 {
            positions.insert(g, (0..8).map(|_| rng.gen_range(0..16384)).collect());
        }
        // Long filters: the AND of two filters then holds no chance bit.
        let filters: Vec<Vec<u64>> = sets.iter().map(|s| filter_of(s, &positions, 256)).collect();
        // Known: all but "hana" (whose q-grams all occur elsewhere).
        let table = Table::learn(
            256,
            (0..words.len())
                .filter(|&i| words[i] != "hana")
                .map(|i| (i as u32, &filters[i][..], &sets[i][..])),
        );
        let mut cands = Candidates::default();
        for (i, s) in sets.iter().enumerate() {
            cands.push(vec![i as u32], s.clone(), 1);
        }
        cands.index(vocab.len());
        let lookup = Lookup::new(&table, &cands, 0, 8, 8.0);
        let hana = words.iter().position(|w| *w == "hana").unwrap();
        let mut scratch = Scratch::default();
        let m = lookup
            .best(&table, &filters[hana], None, &mut scratch)
            .unwrap();
        assert_eq!(m.candidate as usize, hana);
        assert!(m.exact);
        // Leave-one-out on "nat": each of its q-grams is held by two other known words.
        let nat = words.iter().position(|w| *w == "nat").unwrap();
        let changed = table.without(nat as u32, &sets[nat], |o| {
            Some(filters[o as usize].clone())
        });
        let m = lookup
            .best(&table, &filters[nat], Some(&changed), &mut scratch)
            .unwrap();
        assert_eq!(m.candidate as usize, nat);
    }

    #[test]
    fn calibration_keeps_what_gains() {
        let mut t = vec![
            (1.0, true),
            (0.9, true),
            (0.8, false),
            (0.7, true),
            (0.6, false),
            (0.5, false),
            (0.4, false),
        ];
        assert_eq!(calibrate(&mut t), 0.7);
        let mut none = vec![(0.9, false)];
        assert!(calibrate(&mut none) > 1.0);
    }
}
