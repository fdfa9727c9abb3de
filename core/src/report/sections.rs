//! The numbers behind the report's sections, computed from the links, summary and manifests; the
//! charts and tables of `html` show exactly these.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::io::manifest::Manifest;
use crate::link::evaluate::Pair;
use crate::link::Band;

use super::links::LinkRow;

/// The match weight of probability `p`: `log2(p / (1 - p))`, clamped to ±60.
pub(crate) fn weight_of(p: f64) -> f64 {
    let p = p.clamp(1e-18, 1.0 - 1e-18);
    (p / (1.0 - p)).log2().clamp(-60.0, 60.0)
}

/// One field of one source: values present, and treated as missing by reason.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldQuality {
    pub field: String,
    pub present: u64,
    pub missing: Vec<(String, u64)>,
}

/// Per field of `fields` (the schema's, in order; a field only the manifest names comes after):
/// present = encoded rows − missing values.
pub(crate) fn quality(manifest: &Manifest, fields: &[String]) -> Vec<FieldQuality> {
    let mut names: Vec<String> = fields.to_vec();
    for f in manifest.missing.keys() {
        if !names.contains(f) {
            names.push(f.clone());
        }
    }
    names
        .into_iter()
        .map(|field| {
            let missing: Vec<(String, u64)> = manifest
                .missing
                .get(&field)
                .map(|m| m.iter().map(|(r, c)| (r.clone(), *c)).collect())
                .unwrap_or_default();
            let total: u64 = missing.iter().map(|m| m.1).sum();
            FieldQuality {
                present: manifest.counts.encoded.saturating_sub(total),
                field,
                missing,
            }
        })
        .collect()
}

/// A histogram bin of match weights: pairs per band (`match`, `review`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WeightBin {
    pub from: f64,
    pub to: f64,
    pub links: u64,
    pub review: u64,
}

/// The match weights of `links` in bins of one unit (wider when the range is over 40 units).
pub(crate) fn weight_bins(links: &[LinkRow]) -> Vec<WeightBin> {
    if links.is_empty() {
        return Vec::new();
    }
    let lo = links.iter().map(|l| l.weight).fold(f64::INFINITY, f64::min);
    let hi = links
        .iter()
        .map(|l| l.weight)
        .fold(f64::NEG_INFINITY, f64::max);
    let width = ((hi - lo) / 40.0).ceil().max(1.0);
    let start = (lo / width).floor() * width;
    let n = (((hi - start) / width).floor() as usize + 1).min(200);
    let mut bins: Vec<WeightBin> = (0..n)
        .map(|i| WeightBin {
            from: start + i as f64 * width,
            to: start + (i + 1) as f64 * width,
            links: 0,
            review: 0,
        })
        .collect();
    for l in links {
        let i = (((l.weight - start) / width).floor().max(0.0) as usize).min(n - 1);
        match l.band {
            Band::Match => bins[i].links += 1,
            Band::Review => bins[i].review += 1,
        }
    }
    bins
}

/// Precision, recall and F1 at one probability threshold, each pair of the links file at or above
/// it taken as a link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ThresholdPoint {
    pub threshold: f64,
    pub predicted: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// The thresholds the threshold chart is drawn at: 24 steps of match weight from the review
/// threshold to the highest weight in the file, and the run's two thresholds.
pub(crate) fn threshold_grid(links: &[LinkRow], review: f64, matched: f64) -> Vec<f64> {
    let lo = weight_of(review);
    let hi = links
        .iter()
        .map(|l| l.weight)
        .fold(weight_of(matched), f64::max);
    let mut grid: Vec<f64> = (0..24)
        .map(|i| lo + (hi - lo) * f64::from(i) / 24.0)
        .map(|w| 1.0 / (1.0 + (-w).exp2()))
        .chain([review, matched])
        .collect();
    grid.sort_by(f64::total_cmp);
    grid.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
    grid
}

fn key(l: &str, r: &str, unordered: bool) -> Pair {
    if unordered && r < l {
        (r.to_string(), l.to_string())
    } else {
        (l.to_string(), r.to_string())
    }
}

/// Against known true pairs (`unordered` when deduplicating).
pub(crate) fn against_truth(
    links: &[LinkRow],
    truth: &BTreeSet<Pair>,
    unordered: bool,
    grid: &[f64],
) -> Vec<ThresholdPoint> {
    let truth: BTreeSet<Pair> = truth.iter().map(|(l, r)| key(l, r, unordered)).collect();
    let is_true: Vec<bool> = links
        .iter()
        .map(|l| truth.contains(&key(&l.left_id, &l.right_id, unordered)))
        .collect();
    grid.iter()
        .map(|&t| {
            let (mut predicted, mut tp) = (0u64, 0u64);
            for (l, t_) in links.iter().zip(&is_true) {
                if l.probability >= t {
                    predicted += 1;
                    tp += u64::from(*t_);
                }
            }
            let precision = if predicted == 0 {
                0.0
            } else {
                tp as f64 / predicted as f64
            };
            let recall = if truth.is_empty() {
                0.0
            } else {
                tp as f64 / truth.len() as f64
            };
            ThresholdPoint {
                threshold: t,
                predicted,
                precision,
                recall,
                f1: f1(precision, recall),
            }
        })
        .collect()
}

/// What the model expects without truth: a pair of probability p is a match with probability p,
/// so at threshold t the expected true links are Σ p over pairs at or above t; precision is that
/// over the pairs, recall that over the matches the model expects in all (`expected_matches`,
/// λ times the possible pairs; the file's Σ p when that is smaller).
pub(crate) fn expected(
    links: &[LinkRow],
    expected_matches: f64,
    grid: &[f64],
) -> Vec<ThresholdPoint> {
    let all: f64 = links.iter().map(|l| l.probability).sum();
    let matches = expected_matches.max(all);
    grid.iter()
        .map(|&t| {
            let (mut predicted, mut tp) = (0u64, 0.0f64);
            for l in links.iter().filter(|l| l.probability >= t) {
                predicted += 1;
                tp += l.probability;
            }
            let precision = if predicted == 0 {
                0.0
            } else {
                tp / predicted as f64
            };
            let recall = if matches > 0.0 { tp / matches } else { 0.0 };
            ThresholdPoint {
                threshold: t,
                predicted,
                precision,
                recall,
                f1: f1(precision, recall),
            }
        })
        .collect()
}

/// A record of a cluster: (source, id).
type Member = (String, String);
/// A link within a cluster: (left id, right id, probability).
type Edge = (String, String, f64);

/// One cluster: its records (source and id) and the links within it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusterShape {
    pub id: u32,
    pub members: Vec<(String, String)>,
    pub pairs: Vec<(String, String, f64)>,
}

/// Clusters of the links file: how many of each size, and the largest.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Clusters {
    pub sizes: BTreeMap<usize, u64>,
    pub largest: Vec<ClusterShape>,
}

/// Groups the `match` rows by cluster number; a record is its source (`left_names`/`right_names`
/// roles when the file has no source columns) and id. `largest`: how many to describe.
pub(crate) fn clusters(links: &[LinkRow], dedupe: bool, largest: usize) -> Clusters {
    let mut by_id: BTreeMap<u32, (BTreeSet<Member>, Vec<Edge>)> = BTreeMap::new();
    let side = |source: &Option<String>, default: &str| {
        source.clone().unwrap_or_else(|| default.to_string())
    };
    let (l_role, r_role) = if dedupe {
        ("input", "input")
    } else {
        ("left", "right")
    };
    for l in links.iter().filter(|l| l.band == Band::Match) {
        let Some(c) = l.cluster else { continue };
        let e = by_id.entry(c).or_default();
        e.0.insert((side(&l.left_source, l_role), l.left_id.clone()));
        e.0.insert((side(&l.right_source, r_role), l.right_id.clone()));
        e.1.push((l.left_id.clone(), l.right_id.clone(), l.probability));
    }
    let mut sizes: BTreeMap<usize, u64> = BTreeMap::new();
    for (members, _) in by_id.values() {
        *sizes.entry(members.len()).or_default() += 1;
    }
    let mut order: Vec<(&u32, usize)> = by_id.iter().map(|(k, v)| (k, v.0.len())).collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let picked: HashMap<u32, usize> = order
        .iter()
        .take(largest)
        .enumerate()
        .map(|(i, (k, _))| (**k, i))
        .collect();
    let mut shapes: Vec<(usize, ClusterShape)> = by_id
        .into_iter()
        .filter_map(|(id, (members, pairs))| {
            picked.get(&id).map(|&rank| {
                (
                    rank,
                    ClusterShape {
                        id,
                        members: members.into_iter().collect(),
                        pairs,
                    },
                )
            })
        })
        .collect();
    shapes.sort_by_key(|s| s.0);
    Clusters {
        sizes,
        largest: shapes.into_iter().map(|s| s.1).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn row(l: &str, r: &str, p: f64, band: Band, cluster: Option<u32>) -> LinkRow {
        LinkRow {
            left_id: l.into(),
            right_id: r.into(),
            left_source: None,
            right_source: None,
            weight: weight_of(p),
            probability: p,
            band,
            cluster,
        }
    }

    #[test]
    fn weight_of_inverts_the_probability() {
        assert!((weight_of(0.5)).abs() < 1e-12);
        assert!((weight_of(0.8) - 2.0).abs() < 1e-12);
        assert_eq!(weight_of(1.0), 60.0);
        assert!(weight_of(0.0) < -59.0);
    }

    #[test]
    fn bins_count_every_pair_once_by_band() {
        let links = vec![
            row("a", "b", 0.99, Band::Match, Some(1)),
            row("c", "d", 0.95, Band::Match, Some(2)),
            row("e", "f", 0.6, Band::Review, None),
        ];
        let bins = weight_bins(&links);
        let (m, r): (u64, u64) = bins
            .iter()
            .fold((0, 0), |(m, r), b| (m + b.links, r + b.review));
        assert_eq!((m, r), (2, 1));
        for l in &links {
            let b = bins
                .iter()
                .find(|b| b.from <= l.weight && l.weight < b.to)
                .unwrap();
            assert!(b.links + b.review > 0);
        }
        assert!(weight_bins(&[]).is_empty());
    }

    #[test]
    fn truth_and_expectation_at_thresholds() {
        let links = vec![
            row("a", "b", 0.99, Band::Match, Some(1)),
            row("c", "x", 0.95, Band::Match, Some(2)),
            row("e", "f", 0.6, Band::Review, None),
        ];
        let truth: BTreeSet<Pair> = [("a", "b"), ("e", "f"), ("g", "h")]
            .iter()
            .map(|(l, r)| (l.to_string(), r.to_string()))
            .collect();
        let p = against_truth(&links, &truth, false, &[0.5, 0.9, 0.999]);
        assert_eq!(p[0].predicted, 3);
        assert!((p[0].precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((p[0].recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((p[1].precision - 0.5).abs() < 1e-12 && (p[1].recall - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!((p[2].predicted, p[2].precision, p[2].f1), (0, 0.0, 0.0));
        // Deduplicating, the order within a pair does not matter.
        let swapped: BTreeSet<Pair> = [("b".to_string(), "a".to_string())].into();
        assert_eq!(against_truth(&links, &swapped, true, &[0.9])[0].recall, 1.0);
        assert_eq!(
            against_truth(&links, &swapped, false, &[0.9])[0].recall,
            0.0
        );

        let e = expected(&links, 4.0, &[0.5, 0.9]);
        assert!((e[0].precision - (0.99 + 0.95 + 0.6) / 3.0).abs() < 1e-12);
        assert!((e[0].recall - (0.99 + 0.95 + 0.6) / 4.0).abs() < 1e-12);
        assert!((e[1].recall - (0.99 + 0.95) / 4.0).abs() < 1e-12);
        // Never above 1: the file's own sum bounds the expected matches from below.
        assert!(expected(&links, 0.1, &[0.5])[0].recall <= 1.0);
    }

    #[test]
    fn grid_spans_review_to_the_top_and_holds_both_thresholds() {
        let links = vec![row("a", "b", 0.999, Band::Match, Some(1))];
        let g = threshold_grid(&links, 0.5, 0.9);
        assert!(g.contains(&0.5) && g.contains(&0.9));
        assert!(g.windows(2).all(|w| w[0] < w[1]));
        assert!(*g.last().unwrap() <= 0.999 + 1e-9);
    }

    #[test]
    fn clusters_by_size_and_largest_first() {
        let links = vec![
            row("a1", "b1", 0.99, Band::Match, Some(1)),
            row("a1", "b2", 0.98, Band::Match, Some(1)),
            row("a3", "b3", 0.97, Band::Match, Some(2)),
            row("a4", "b4", 0.7, Band::Review, None),
        ];
        let c = clusters(&links, false, 1);
        assert_eq!(c.sizes, BTreeMap::from([(2, 1), (3, 1)]));
        assert_eq!(c.largest.len(), 1);
        assert_eq!(c.largest[0].id, 1);
        assert_eq!(c.largest[0].members.len(), 3);
        assert_eq!(c.largest[0].pairs.len(), 2);
        // Deduplicating, a1 on the left and on the right is one record.
        let d = vec![
            row("a1", "a2", 0.99, Band::Match, Some(1)),
            row("a2", "a3", 0.99, Band::Match, Some(1)),
        ];
        assert_eq!(clusters(&d, true, 5).sizes, BTreeMap::from([(3, 1)]));
    }
}
