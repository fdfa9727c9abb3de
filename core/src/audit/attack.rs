//! The frequency-alignment attack, measured and estimated.
//!
//! The attacker holds an encoded extract and a public list of name frequencies. Equal values give
//! equal encodings (under one salt), so the attacker ranks the encodings of a column by how often
//! they occur, ranks the public names the same way, and guesses that the i-th most frequent
//! encoding is the i-th most frequent name. Against a grouped file (salted by year of birth, say)
//! the attacker first splits the records by another column and aligns within each part.
//!
//! [`measure`] counts the records whose name was guessed right, which needs the truth (tests,
//! benchmarks, or an agency auditing its own extract against its cleartext). [`estimate`] predicts
//! the same count from the frequencies alone, for an extract whose truth is unknown.

use std::collections::HashMap;
use std::hash::Hash;

/// An encoding (token or hashed filter) as a number.
pub type Key = u128;

/// Counts of each distinct item, most frequent first; ties are broken by the item so the order
/// is deterministic.
pub fn ranked<K: Copy + Ord + Hash>(items: impl IntoIterator<Item = K>) -> Vec<(K, u64)> {
    let mut counts: HashMap<K, u64> = HashMap::new();
    for k in items {
        *counts.entry(k).or_default() += 1;
    }
    let mut out: Vec<(K, u64)> = counts.into_iter().collect();
    out.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// The result of a measured attack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    /// Records attacked (with an encoding and a known true value).
    pub records: u64,
    /// Records whose true value the attacker guessed.
    pub correct: u64,
    /// Records a blind guess would get right: those whose true value is the most frequent
    /// name of the public list the attacker used (no encoded file needed for that).
    pub blind: u64,
}

impl Outcome {
    /// Share of the attacked records that were re-identified (0 when none were attacked).
    pub fn share(&self) -> f64 {
        if self.records == 0 {
            0.0
        } else {
            self.correct as f64 / self.records as f64
        }
    }

    /// Share re-identified beyond a blind guess: `(correct - blind) / records`, at least 0.
    /// This is what the encoded file adds to the public list, and what the audit judges.
    pub fn advantage(&self) -> f64 {
        if self.records == 0 {
            0.0
        } else {
            self.correct.saturating_sub(self.blind) as f64 / self.records as f64
        }
    }

    fn add(&mut self, other: Outcome) {
        self.records += other.records;
        self.correct += other.correct;
        self.blind += other.blind;
    }
}

/// The attacker's guesses: the i-th most frequent key gets the i-th most frequent public name.
pub fn align<'p>(keys: &[(Key, u64)], public: &'p [(String, u64)]) -> HashMap<Key, &'p str> {
    keys.iter()
        .zip(public)
        .map(|((k, _), (name, _))| (*k, name.as_str()))
        .collect()
}

/// The attack on the whole column: `keys[r]` is record r's encoding, `truth[r]` its true value.
pub fn measure(
    keys: &[Option<Key>],
    truth: &[Option<String>],
    public: &[(String, u64)],
) -> Outcome {
    let rows: Vec<usize> = (0..keys.len()).collect();
    measure_rows(keys, truth, &rows, public)
}

fn measure_rows(
    keys: &[Option<Key>],
    truth: &[Option<String>],
    rows: &[usize],
    public: &[(String, u64)],
) -> Outcome {
    let counted = ranked(rows.iter().filter_map(|&r| keys.get(r).copied().flatten()));
    let guesses = align(&counted, public);
    let top = public.first().map(|(name, _)| name.as_str());
    let mut out = Outcome::default();
    for &r in rows {
        if let (Some(Some(k)), Some(Some(t))) = (keys.get(r), truth.get(r)) {
            out.records += 1;
            if guesses.get(k).is_some_and(|g| *g == t.as_str()) {
                out.correct += 1;
            }
            if top == Some(t.as_str()) {
                out.blind += 1;
            }
        }
    }
    out
}

/// The attack within groups: records are split by `groups[r]` (records without a group form one
/// more part) and each part is aligned with `public_for(group)`.
pub fn measure_grouped(
    keys: &[Option<Key>],
    truth: &[Option<String>],
    groups: &[Option<Key>],
    public_for: impl Fn(Option<Key>) -> Vec<(String, u64)>,
) -> Outcome {
    let mut parts: HashMap<Option<Key>, Vec<usize>> = HashMap::new();
    for r in 0..keys.len() {
        parts
            .entry(groups.get(r).copied().flatten())
            .or_default()
            .push(r);
    }
    let mut parts: Vec<(Option<Key>, Vec<usize>)> = parts.into_iter().collect();
    parts.sort_unstable_by_key(|(g, _)| *g);
    let mut out = Outcome::default();
    for (g, rows) in parts {
        out.add(measure_rows(keys, truth, &rows, &public_for(g)));
    }
    out
}

/// Ranks on each side of a rank whose order against it is considered by [`estimate`].
pub const NEIGHBOURS: usize = 4;

/// The share of records a blind guess gets right: the share of the most frequent public name.
pub fn blind_share(public: &[(String, u64)]) -> f64 {
    let total: u64 = public.iter().map(|(_, n)| n).sum();
    match public.first() {
        Some((_, n)) if total > 0 => *n as f64 / total as f64,
        _ => 0.0,
    }
}

/// The expected number of records the attack re-identifies, from the frequencies alone.
///
/// `counts` are the encodings' counts, most frequent first; `public` the public list. Rank i
/// (share `f_i` of the records) is credited with probability `shape_i * stable_i`, where
/// `shape_i = √min(f_i / p_i, p_i / f_i)` compares its share with the public share `p_i` of the
/// name it is aligned with (a salted column's shares are far below any name's), and `stable_i`
/// is the probability that sampling noise has swapped it with none of its [`NEIGHBOURS`] nearest
/// ranks, in the file or in the public list (counts `a` and `b` swap with probability
/// `Φ(-|a - b| / √(a + b))`). Checked against [`measure`] in the tests: an estimate, not a bound.
pub fn estimate(counts: &[u64], public: &[(String, u64)]) -> f64 {
    let total: u64 = counts.iter().sum();
    let public_total: u64 = public.iter().map(|(_, n)| n).sum();
    if total == 0 || public_total == 0 {
        return 0.0;
    }
    let public_counts: Vec<u64> = public.iter().map(|(_, n)| *n).collect();
    let stable = |list: &[u64], i: usize| -> f64 {
        let lo = i.saturating_sub(NEIGHBOURS);
        let hi = (i + NEIGHBOURS + 1).min(list.len());
        (lo..hi)
            .filter(|&j| j != i)
            .map(|j| 1.0 - swap_probability(list[i], list[j]))
            .product()
    };
    let mut expected = 0.0;
    for (i, (&c, &p)) in counts.iter().zip(&public_counts).enumerate() {
        let f = c as f64 / total as f64;
        let p = p as f64 / public_total as f64;
        let shape = if f > 0.0 && p > 0.0 {
            (f / p).min(p / f).sqrt()
        } else {
            0.0
        };
        expected += c as f64 * shape * stable(counts, i) * stable(&public_counts, i);
    }
    expected
}

/// Probability that two Poisson counts `a >= b` come out in the other order.
fn swap_probability(a: u64, b: u64) -> f64 {
    let (a, b) = (a as f64, b as f64);
    if a + b == 0.0 {
        return 0.5;
    }
    normal_cdf(-(a - b).abs() / (a + b).sqrt()).max(if a == b { 0.5 } else { 0.0 })
}

/// The standard normal distribution function (Abramowitz and Stegun 7.1.26, error < 1.5e-7).
fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-z * z).exp();
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

/// [`estimate`] within groups: the sum over the parts of `groups` of the estimate of each part
/// (a part smaller than [`MIN_GROUP_SIZE`](super::MIN_GROUP_SIZE) gets the blind-guess rate).
pub fn estimate_grouped(
    keys: &[Option<Key>],
    groups: &[Option<Key>],
    public: &[(String, u64)],
) -> f64 {
    let mut parts: HashMap<Option<Key>, Vec<Key>> = HashMap::new();
    for (r, k) in keys.iter().enumerate() {
        if let Some(k) = k {
            parts
                .entry(groups.get(r).copied().flatten())
                .or_default()
                .push(*k);
        }
    }
    let mut parts: Vec<(Option<Key>, Vec<Key>)> = parts.into_iter().collect();
    parts.sort_unstable_by_key(|(g, _)| *g);
    parts
        .into_iter()
        .map(|(_, ks)| {
            if (ks.len() as u64) < super::MIN_GROUP_SIZE {
                // Too few records for frequencies to show anything: a blind guess.
                return ks.len() as f64 * blind_share(public);
            }
            let counts: Vec<u64> = ranked(ks).into_iter().map(|(_, n)| n).collect();
            estimate(&counts, public)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[(&str, u64)]) -> Vec<(String, u64)> {
        names.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    }

    #[test]
    fn normal_cdf_reference_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((normal_cdf(-1.0) - 0.158_655).abs() < 1e-5);
    }

    #[test]
    fn unsalted_frequencies_are_aligned_and_salted_ones_are_not() {
        let public = list(&[("oliver", 50), ("george", 30), ("harry", 15), ("jack", 5)]);
        // 100 records, each name encoded by one key: key = rank.
        let mut keys = Vec::new();
        let mut truth = Vec::new();
        for (k, (name, n)) in public.iter().enumerate() {
            for _ in 0..*n {
                keys.push(Some(k as Key));
                truth.push(Some(name.clone()));
            }
        }
        let o = measure(&keys, &truth, &public);
        assert_eq!(
            o,
            Outcome {
                records: 100,
                correct: 100,
                blind: 50
            }
        );
        assert_eq!(o.advantage(), 0.5);
        assert_eq!(blind_share(&public), 0.5);
        let counts: Vec<u64> = ranked(keys.iter().flatten().copied())
            .iter()
            .map(|x| x.1)
            .collect();
        assert!(
            estimate(&counts, &public) > 80.0,
            "{}",
            estimate(&counts, &public)
        );
        // Salting: each record gets a key of its own salt; 10 salts spread evenly.
        let salted: Vec<Option<Key>> = keys
            .iter()
            .enumerate()
            .map(|(r, k)| k.map(|k| k * 100 + (r % 10) as Key))
            .collect();
        let global = measure(&salted, &truth, &public);
        assert!(global.share() < 0.6, "{global:?}");
        let counts: Vec<u64> = ranked(salted.iter().flatten().copied())
            .iter()
            .map(|x| x.1)
            .collect();
        assert!(estimate(&counts, &public) < 30.0);
        // Grouping by the salt restores the attack here: the groups are big and the public list
        // fits every group.
        let groups: Vec<Option<Key>> = (0..100).map(|r| Some((r % 10) as Key)).collect();
        let grouped = measure_grouped(&salted, &truth, &groups, |_| public.clone());
        assert!(
            grouped.share() > global.share(),
            "{grouped:?} vs {global:?}"
        );
        assert!(estimate_grouped(&salted, &groups, &public) > 40.0);
    }

    #[test]
    fn unique_encodings_defeat_the_attack() {
        let public = list(&[("a", 10), ("b", 9), ("c", 8)]);
        let keys: Vec<Option<Key>> = (0..27).map(|r| Some(r as Key)).collect();
        let truth: Vec<Option<String>> = (0..27)
            .map(|r| Some(["a", "b", "c"][r % 3].to_string()))
            .collect();
        assert!(measure(&keys, &truth, &public).correct <= 3);
        let counts = vec![1u64; 27];
        assert!(estimate(&counts, &public) < 1.0);
    }

    #[test]
    fn ranking_is_deterministic() {
        let a = ranked([3u128, 1, 3, 2, 1, 3]);
        assert_eq!(a, vec![(3, 3), (1, 2), (2, 1)]);
        let b = ranked([5u128, 4]);
        assert_eq!(b, vec![(4, 1), (5, 1)]);
    }
}
