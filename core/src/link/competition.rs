//! Competing links: evidence from a pair's neighbours in the scored graph (`link.competition`).
//!
//! The Fellegi-Sunter weight of a pair reads the two records alone. But a record of one source
//! that already links strongly to another record of the other source is, most of the time,
//! someone else's: two extracts hold one record per person, duplicates aside. On the
//! synthetic heavy-error profile, of the pairs scored between 0.5 and 0.9, 96% of those whose
//! records have no other plausible partner are true, and 22% of those outranked by another pair
//! of one of their records.
//!
//! So each pair at or above the review threshold gets a **standing** among the other such pairs
//! of its two records (a pair `(a, b)` of sources `A` and `B` looks at `a`'s pairs with records
//! of `B` and `b`'s pairs with records of `A`):
//! - [`Standing::Alone`]: neither record has another;
//! - [`Standing::Ahead`]: there are others, none of higher match weight;
//! - [`Standing::Outranked`]: another has a higher match weight.
//!
//! Its m and u are estimated like a comparison's, by one EM step over the same pairs: m from
//! their match probabilities, u from one minus them, each with half a pair for a standing never
//! seen; the weight `log2(m / u)` is added to the pair's match weight, once (the standings are
//! read from the weights before it). The model keeps the three weights, so that a run given the
//! model (`--model`) adds the same. Deduplicating (one source) has no standing: a person's
//! duplicates are expected there.

use serde::{Deserialize, Serialize};

use super::pool::{unpack_pair, Pool};
use super::probability::{clamp_probability, probability};

/// Where a pair stands among the other pairs of its two records (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Neither record has another pair at or above the review threshold with the other's source.
    Alone,
    /// There are such pairs, none of higher match weight.
    Ahead,
    /// Another pair of one of the two records has a higher match weight.
    Outranked,
}

impl Standing {
    /// All standings, in the order of [`Competition::levels`].
    pub const ALL: [Standing; 3] = [Standing::Alone, Standing::Ahead, Standing::Outranked];

    /// Its name in the model file.
    pub fn name(self) -> &'static str {
        match self {
            Standing::Alone => "alone",
            Standing::Ahead => "ahead",
            Standing::Outranked => "outranked",
        }
    }

    /// Its position in [`Standing::ALL`] (and in [`Competition::levels`]).
    pub fn index(self) -> usize {
        match self {
            Standing::Alone => 0,
            Standing::Ahead => 1,
            Standing::Outranked => 2,
        }
    }

    /// The standing at `index` in [`Standing::ALL`], if any.
    pub fn from_index(index: usize) -> Option<Standing> {
        Standing::ALL.get(index).copied()
    }

    /// The standing of a pair of match weight `weight` from its two records' neighbours: for
    /// each record (either order), the highest match weight and the number of its pairs at or
    /// above the review threshold with records of the other record's source, this pair
    /// included. What [`standings`] gives, from aggregates a distributed engine can compute
    /// (a group by record and other source): there are others when either record has more than
    /// this pair; the pair is outranked when either record's best weight is higher than its own
    /// (a tie outranks nothing). Deduplicating has no standing: do not call it there.
    pub fn from_neighbours(weight: f64, neighbours: [(f64, u64); 2]) -> Standing {
        let others = neighbours.iter().any(|&(_, n)| n > 1);
        // A record with this pair alone has this weight as its best, which is not higher.
        let higher = neighbours.iter().any(|&(best, n)| n > 1 && best > weight);
        match (others, higher) {
            (false, _) => Standing::Alone,
            (true, false) => Standing::Ahead,
            (true, true) => Standing::Outranked,
        }
    }
}

/// m, u and weight of one standing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandingModel {
    /// [`Standing::name`].
    pub standing: String,
    /// Share of the matches among the pairs (weighted by match probability) with this standing.
    pub m: f64,
    /// Share of the non-matches likewise.
    pub u: f64,
    /// `log2(m / u)`: added to the match weight.
    pub weight: f64,
}

/// The competing-links evidence of a model (in the model file as `competition`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Competition {
    /// One per [`Standing::ALL`], in that order.
    pub levels: Vec<StandingModel>,
    /// Pairs the estimate read (those at or above the review threshold).
    pub pairs: u64,
}

impl Competition {
    /// The weight added for `standing` (0 when the model file lacks it).
    pub fn weight(&self, standing: Standing) -> f64 {
        self.level(standing).map_or(0.0, |l| l.weight)
    }

    /// Estimates the standings' m and u from `weights` of `pairs` (packed, pool indices).
    pub fn estimate(pool: &Pool, pairs: &[u64], weights: &[f64]) -> Competition {
        Competition::from_standings(&standings(pool, pairs, weights), weights)
    }

    /// [`Competition::estimate`] from the pairs' `standings` already read (one per weight).
    pub fn from_standings(standings: &[Standing], weights: &[f64]) -> Competition {
        // Each sum starts at the half pair, then adds the pairs in order.
        let mut m = [PRIOR; 3];
        let mut u = [PRIOR; 3];
        for (s, w) in standings.iter().zip(weights) {
            let p = probability(*w);
            m[s.index()] += p;
            u[s.index()] += 1.0 - p;
        }
        Competition::from_totals(m, u, weights.len() as u64)
    }

    /// The competition of sums over the pairs at or above the review threshold, per standing
    /// (in the order of [`Standing::ALL`]): `m_sums` of their match probabilities (from the
    /// match weights before any standing weight), `u_sums` of one minus them, `pairs` their
    /// number. What [`Competition::estimate`] computes, from sums a distributed engine can
    /// aggregate; the half pair for a standing never seen is added here.
    pub fn from_sums(m_sums: [f64; 3], u_sums: [f64; 3], pairs: u64) -> Competition {
        Competition::from_totals(m_sums.map(|s| PRIOR + s), u_sums.map(|s| PRIOR + s), pairs)
    }

    /// m and u from the sums with the half pair included.
    fn from_totals(m: [f64; 3], u: [f64; 3], pairs: u64) -> Competition {
        let (tm, tu): (f64, f64) = (m.iter().sum(), u.iter().sum());
        let levels = Standing::ALL
            .iter()
            .map(|s| {
                let mi = clamp_probability(m[s.index()] / tm);
                let ui = clamp_probability(u[s.index()] / tu);
                StandingModel {
                    standing: s.name().into(),
                    m: mi,
                    u: ui,
                    weight: (mi / ui).log2(),
                }
            })
            .collect();
        Competition { levels, pairs }
    }

    /// Adds each pair's standing weight to `weights` (standings read before any is added), and
    /// returns the standings.
    pub fn apply(&self, pool: &Pool, pairs: &[u64], weights: &mut [f64]) -> Vec<Standing> {
        let standings = standings(pool, pairs, weights);
        self.add_weights(&standings, weights);
        standings
    }

    /// Adds the weight of each pair's standing (already read, one per weight) to `weights`.
    pub fn add_weights(&self, standings: &[Standing], weights: &mut [f64]) {
        for (w, s) in weights.iter_mut().zip(standings) {
            *w += self.weight(*s);
        }
    }

    /// The m, u and weight of `standing` (`None` when the model file lacks it).
    pub fn level(&self, standing: Standing) -> Option<&StandingModel> {
        self.levels.iter().find(|l| l.standing == standing.name())
    }
}

/// The pseudo-count of each standing: half a pair.
const PRIOR: f64 = 0.5;

/// The standing of every pair of `pairs` (packed, any order) among the others, by `weights`.
/// Deduplicating (every record of one source): every pair is [`Standing::Alone`].
pub fn standings(pool: &Pool, pairs: &[u64], weights: &[f64]) -> Vec<Standing> {
    // Per record and other source: the best and second-best weights of its pairs.
    let n_sources = pool.source_sizes().len();
    if n_sources < 2 || pool.is_dedupe() {
        return vec![Standing::Alone; pairs.len()];
    }
    let slot = |record: u32, other: u16| record as usize * n_sources + usize::from(other);
    let mut best = vec![(f64::NEG_INFINITY, f64::NEG_INFINITY, 0u32); pool.len() * n_sources];
    let mut note = |record: u32, other: u16, w: f64| {
        let b = &mut best[slot(record, other)];
        if w > b.0 {
            b.1 = b.0;
            b.0 = w;
        } else if w > b.1 {
            b.1 = w;
        }
        b.2 += 1;
    };
    for (&p, &w) in pairs.iter().zip(weights) {
        let (a, b) = unpack_pair(p);
        note(a, pool.source(b), w);
        note(b, pool.source(a), w);
    }
    pairs
        .iter()
        .zip(weights)
        .map(|(&p, &w)| {
            let (a, b) = unpack_pair(p);
            let mut others = false;
            let mut higher = false;
            for e in [best[slot(a, pool.source(b))], best[slot(b, pool.source(a))]] {
                if e.2 > 1 {
                    others = true;
                    // The best other pair: the second best when this pair is the best.
                    let other = if e.0 > w { e.0 } else { e.1 };
                    higher |= other > w;
                }
            }
            match (others, higher) {
                (false, _) => Standing::Alone,
                (true, false) => Standing::Ahead,
                (true, true) => Standing::Outranked,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::EncodedRecord;
    use crate::link::pool::pack_pair;

    /// Two sources of three records each (indices 0-2 and 3-5), or one when `dedupe`.
    fn pool(dedupe: bool) -> Pool {
        let rec = |p: &str, i: usize| EncodedRecord {
            id: format!("{p}{i}"),
            ..EncodedRecord::default()
        };
        let sources = if dedupe {
            vec![("d".into(), (0..6).map(|i| rec("d", i)).collect())]
        } else {
            vec![
                ("l".into(), (0..3).map(|i| rec("a", i)).collect()),
                ("r".into(), (0..3).map(|i| rec("b", i)).collect()),
            ]
        };
        Pool::new(sources, 0).unwrap()
    }

    /// a0-b0, a0-b1, a1-b1, a2-b2 of [`pool`]'s two sources.
    fn four_pairs() -> [u64; 4] {
        [
            pack_pair(0, 3),
            pack_pair(0, 4),
            pack_pair(1, 4),
            pack_pair(2, 5),
        ]
    }

    #[test]
    fn standings_read_the_other_pairs_of_both_records() {
        let pool = pool(false);
        // a0-b0 strong, a0-b1 weaker (outranked through a0), a1-b1 weaker still (outranked
        // through b1), a2-b2 alone; a1-b1 outranks nothing.
        let pairs = four_pairs();
        let weights = [20.0, 5.0, 2.0, 1.0];
        assert_eq!(
            standings(&pool, &pairs, &weights),
            vec![
                Standing::Ahead,
                Standing::Outranked,
                Standing::Outranked,
                Standing::Alone
            ]
        );
        // Ties outrank neither.
        let tied = [7.0, 7.0, 1.0, 1.0];
        assert_eq!(
            standings(&pool, &pairs[..2], &tied[..2]),
            vec![Standing::Ahead, Standing::Ahead]
        );
        // Deduplicating: no standing.
        let one = super::super::pool::Pool::new(vec![("d".into(), Vec::new())], 0).unwrap();
        assert!(standings(&one, &[], &[]).is_empty());
        let dedupe = self::pool(true);
        assert_eq!(
            standings(&dedupe, &pairs, &weights),
            vec![Standing::Alone; 4]
        );
    }

    #[test]
    fn estimated_weights_follow_where_the_matches_stand_and_apply_once() {
        let pool = pool(false);
        let pairs = four_pairs();
        let weights = [20.0, -3.0, -4.0, 10.0];
        let c = Competition::estimate(&pool, &pairs, &weights);
        assert_eq!(c.pairs, 4);
        assert_eq!(c.levels.len(), 3);
        // The outranked pairs are unlikely matches, the others likely ones.
        assert!(c.weight(Standing::Outranked) < 0.0);
        assert!(c.weight(Standing::Alone) > 0.0);
        assert!(c.weight(Standing::Ahead) > 0.0);
        for l in &c.levels {
            assert!((l.weight - (l.m / l.u).log2()).abs() < 1e-12);
        }
        let mut adjusted = weights;
        c.apply(&pool, &pairs, &mut adjusted);
        assert_eq!(adjusted[0], 20.0 + c.weight(Standing::Ahead));
        assert_eq!(adjusted[1], -3.0 + c.weight(Standing::Outranked));
        assert_eq!(adjusted[3], 10.0 + c.weight(Standing::Alone));
        // A model file without a standing adds nothing for it.
        let mut partial = c.clone();
        partial.levels.retain(|l| l.standing != "alone");
        assert_eq!(partial.weight(Standing::Alone), 0.0);
    }

    /// Three sources of four records each (indices 0-3, 4-7, 8-11).
    fn three_sources() -> Pool {
        let rec = |s: usize, i: usize| EncodedRecord {
            id: format!("s{s}r{i}"),
            ..EncodedRecord::default()
        };
        Pool::new(
            (0..3)
                .map(|s| (format!("s{s}"), (0..4).map(|i| rec(s, i)).collect()))
                .collect(),
            0,
        )
        .unwrap()
    }

    /// [`Standing::from_neighbours`] from each record's best weight and pair count per other
    /// source, as an engine aggregates them.
    fn from_aggregates(pool: &Pool, pairs: &[u64], weights: &[f64]) -> Vec<Standing> {
        let mut agg: std::collections::HashMap<(u32, u16), (f64, u64)> = Default::default();
        for (&p, &w) in pairs.iter().zip(weights) {
            let (a, b) = unpack_pair(p);
            for key in [(a, pool.source(b)), (b, pool.source(a))] {
                let e = agg.entry(key).or_insert((f64::NEG_INFINITY, 0));
                e.0 = e.0.max(w);
                e.1 += 1;
            }
        }
        pairs
            .iter()
            .zip(weights)
            .map(|(&p, &w)| {
                let (a, b) = unpack_pair(p);
                let n = [agg[&(a, pool.source(b))], agg[&(b, pool.source(a))]];
                Standing::from_neighbours(w, n)
            })
            .collect()
    }

    #[test]
    fn neighbours_give_the_standings_of_four_pairs() {
        let pool = pool(false);
        let pairs = four_pairs();
        for weights in [
            [20.0, 5.0, 2.0, 1.0],
            [7.0, 7.0, 1.0, 1.0],
            [1.0, 2.0, 2.0, 3.0],
        ] {
            assert_eq!(
                from_aggregates(&pool, &pairs, &weights),
                standings(&pool, &pairs, &weights)
            );
        }
        assert_eq!(
            Standing::from_neighbours(1.0, [(1.0, 1), (1.0, 1)]),
            Standing::Alone
        );
        assert_eq!(
            Standing::from_neighbours(1.0, [(1.0, 2), (1.0, 1)]),
            Standing::Ahead
        );
        assert_eq!(
            Standing::from_neighbours(1.0, [(1.0, 1), (1.5, 3)]),
            Standing::Outranked
        );
        for s in Standing::ALL {
            assert_eq!(Standing::from_index(s.index()), Some(s));
        }
        assert_eq!(Standing::from_index(3), None);
    }

    proptest::proptest! {
        /// Over random pairs of three sources (weights from a few values, so that ties are
        /// common), the standings from the aggregates are those [`standings`] reads.
        #[test]
        fn neighbours_agree_with_standings(
            raw in proptest::collection::vec((0u32..12, 0u32..12, 0usize..5), 0..40)
        ) {
            let pool = three_sources();
            let values = [-2.0, 0.5, 1.0, 3.0, 9.25];
            let mut seen = std::collections::HashSet::new();
            let mut pairs = Vec::new();
            let mut weights = Vec::new();
            for (a, b, w) in raw {
                if pool.source(a) == pool.source(b) || !seen.insert(pack_pair(a, b)) {
                    continue;
                }
                pairs.push(pack_pair(a, b));
                weights.push(values[w]);
            }
            proptest::prop_assert_eq!(
                from_aggregates(&pool, &pairs, &weights),
                standings(&pool, &pairs, &weights)
            );
        }
    }

    #[test]
    fn sums_give_the_estimate() {
        let pool = pool(false);
        let pairs = four_pairs();
        let weights = [20.0, -3.0, -4.0, 10.0];
        let c = Competition::estimate(&pool, &pairs, &weights);
        // The sums per standing, added in another order (as an engine's aggregation may).
        let mut m = [0.0; 3];
        let mut u = [0.0; 3];
        let s = standings(&pool, &pairs, &weights);
        for k in (0..4).rev() {
            let p = probability(weights[k]);
            m[s[k].index()] += p;
            u[s[k].index()] += 1.0 - p;
        }
        let d = Competition::from_sums(m, u, 4);
        assert_eq!(d.pairs, c.pairs);
        for (x, y) in c.levels.iter().zip(&d.levels) {
            assert_eq!(x.standing, y.standing);
            assert!((x.weight - y.weight).abs() < 1e-12, "{x:?} {y:?}");
            assert!((x.m - y.m).abs() < 1e-15 && (x.u - y.u).abs() < 1e-15);
        }
        // No pair: every standing has its half pair only.
        let none = Competition::from_sums([0.0; 3], [0.0; 3], 0);
        assert!(none.levels.iter().all(|l| l.weight.abs() < 1e-12));
    }
}
