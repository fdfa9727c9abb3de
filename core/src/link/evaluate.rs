//! Evaluation against known true pairs: precision, recall, F1 and the precision-recall curve.
//!
//! A link is predicted when its band is `match`. A pair is identified by `(left_id, right_id)`;
//! with `unordered` (deduplication, where either record may come first) by the unordered pair.
//! Links whose ids are absent from the truth are simply false positives. Precision is 0 when
//! nothing is predicted, recall 0 when the truth is empty, F1 0 when both are 0.
//!
//! ```
//! use pseudolink::link::evaluate::{evaluate, ScoredLink};
//! use pseudolink::link::Band;
//! let links = vec![
//!     ScoredLink { left_id: "a1".into(), right_id: "b1".into(), probability: 0.99, band: Band::Match },
//!     ScoredLink { left_id: "a2".into(), right_id: "b9".into(), probability: 0.95, band: Band::Match },
//! ];
//! let truth = [("a1".to_string(), "b1".to_string()), ("a3".to_string(), "b3".to_string())].into();
//! let e = evaluate(&links, &truth, false);
//! assert_eq!((e.true_positives, e.false_positives, e.false_negatives), (1, 1, 1));
//! assert_eq!(e.f1, 0.5);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Location, Result};
use crate::io::atomic::AtomicFile;
use crate::io::table::Table;

use super::outcome::Band;

/// A pair as read back from a links file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredLink {
    /// Left record id.
    pub left_id: String,
    /// Right record id.
    pub right_id: String,
    /// Match probability.
    pub probability: f64,
    /// Band.
    pub band: Band,
}

/// Precision, recall and F1 with their counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    /// `tp / (tp + fp)`.
    pub precision: f64,
    /// `tp / (tp + fn)`.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Predicted pairs that are true.
    pub true_positives: u64,
    /// Predicted pairs that are not true.
    pub false_positives: u64,
    /// True pairs not predicted.
    pub false_negatives: u64,
}

impl Evaluation {
    fn from_counts(tp: u64, fp: u64, fn_: u64) -> Evaluation {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Evaluation {
            precision,
            recall,
            f1,
            true_positives: tp,
            false_positives: fp,
            false_negatives: fn_,
        }
    }
}

/// One point of the precision-recall curve: the pairs with probability at or above `threshold`
/// (whatever their band) taken as predicted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CurvePoint {
    /// The probability threshold.
    pub threshold: f64,
    /// Evaluation at it.
    #[serde(flatten)]
    pub evaluation: Evaluation,
}

/// A true pair: (left id, right id).
pub type Pair = (String, String);

fn key(l: &str, r: &str, unordered: bool) -> Pair {
    if unordered && r < l {
        (r.to_string(), l.to_string())
    } else {
        (l.to_string(), r.to_string())
    }
}

/// Precision, recall and F1 of the `match` links against `truth`.
pub fn evaluate(links: &[ScoredLink], truth: &BTreeSet<Pair>, unordered: bool) -> Evaluation {
    let truth: BTreeSet<Pair> = truth.iter().map(|(l, r)| key(l, r, unordered)).collect();
    let predicted: BTreeSet<Pair> = links
        .iter()
        .filter(|l| l.band == Band::Match)
        .map(|l| key(&l.left_id, &l.right_id, unordered))
        .collect();
    let tp = predicted.intersection(&truth).count() as u64;
    let fp = predicted.len() as u64 - tp;
    let fn_ = truth.len() as u64 - tp;
    Evaluation::from_counts(tp, fp, fn_)
}

/// The precision-recall curve over every distinct probability in `links`, highest first.
pub fn curve(links: &[ScoredLink], truth: &BTreeSet<Pair>, unordered: bool) -> Vec<CurvePoint> {
    let truth: BTreeSet<Pair> = truth.iter().map(|(l, r)| key(l, r, unordered)).collect();
    // Highest probability per distinct pair.
    let mut best: BTreeMap<Pair, f64> = BTreeMap::new();
    for l in links {
        let k = key(&l.left_id, &l.right_id, unordered);
        let e = best.entry(k).or_insert(l.probability);
        if l.probability > *e {
            *e = l.probability;
        }
    }
    let mut scored: Vec<(f64, bool)> = best
        .into_iter()
        .map(|(k, p)| (p, truth.contains(&k)))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut points = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    let total = truth.len() as u64;
    let mut i = 0;
    while i < scored.len() {
        let t = scored[i].0;
        while i < scored.len() && scored[i].0 == t {
            if scored[i].1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        points.push(CurvePoint {
            threshold: t,
            evaluation: Evaluation::from_counts(tp, fp, total - tp),
        });
    }
    points
}

/// Writes the curve as CSV: `threshold,precision,recall,f1,true_positives,false_positives,false_negatives`.
pub fn write_curve(path: &Path, points: &[CurvePoint]) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(b"threshold,precision,recall,f1,true_positives,false_positives,false_negatives\n")?;
    for p in points {
        let e = &p.evaluation;
        f.write_all(
            format!(
                "{},{},{},{},{},{},{}\n",
                p.threshold,
                e.precision,
                e.recall,
                e.f1,
                e.true_positives,
                e.false_positives,
                e.false_negatives
            )
            .as_bytes(),
        )?;
    }
    f.commit()
}

/// A reviewer's decision on a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// The same person: the pair becomes a link.
    Match,
    /// Not the same person: the pair leaves the links file.
    NonMatch,
    /// Not decided: the pair stays for review.
    Undecided,
}

impl Decision {
    /// Reads a decision cell: `match` (or `same`, `yes`, `y`); `non-match` (or `nonmatch`,
    /// `no-match`, `not match`, `different`, `no`, `n`); empty (or `unsure`, `review`) for
    /// undecided. Case and surrounding spaces do not matter.
    pub fn parse(cell: &str) -> Option<Decision> {
        match cell.trim().to_ascii_lowercase().as_str() {
            "match" | "same" | "yes" | "y" => Some(Decision::Match),
            "non-match" | "nonmatch" | "non_match" | "no-match" | "not match" | "different"
            | "no" | "n" => Some(Decision::NonMatch),
            "" | "unsure" | "review" | "undecided" => Some(Decision::Undecided),
            _ => None,
        }
    }
}

/// The cells every links file has, read and checked: the two record ids (trimmed, not empty),
/// the match probability (a number from 0 to 1) and the band. `cells` holds them in that order;
/// errors name the file, line and field. Shared by [`read_links`] and the report's reader of
/// every column, so that both accept and refuse the same files.
pub(crate) fn link_cells<'a>(
    path: &Path,
    line: u64,
    [left, right, probability, band]: [&'a str; 4],
) -> Result<(&'a str, &'a str, f64, Band)> {
    let loc = |f: &str| Location::at(Some(path), line).field(f);
    let (left, right) = (left.trim(), right.trim());
    for (id, field) in [(left, "left_id"), (right, "right_id")] {
        if id.is_empty() {
            return Err(Error::input(loc(field), "empty record id"));
        }
    }
    let probability = probability
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            Error::input(
                loc("match_probability"),
                format!("'{probability}' is not a number"),
            )
        })?;
    if !(0.0..=1.0).contains(&probability) {
        return Err(Error::input(
            loc("match_probability"),
            format!("{probability} is not a probability from 0 to 1"),
        ));
    }
    let band = match band.trim() {
        "match" => Band::Match,
        "review" => Band::Review,
        other => {
            return Err(Error::input(
                loc("band"),
                format!("band '{other}' is neither 'match' nor 'review'"),
            ))
        }
    };
    Ok((left, right, probability, band))
}

/// Reads a links file (columns `left_id`, `right_id`, `match_probability`, `band`; others ignored).
pub fn read_links(path: &Path) -> Result<Vec<ScoredLink>> {
    let table = Table::open(path)?;
    let idx = table.columns(&["left_id", "right_id", "match_probability", "band"], "")?;
    let mut out = Vec::new();
    table.for_each_row(|line, row| {
        let (l, r, probability, band) = link_cells(
            path,
            line,
            [0, 1, 2, 3].map(|i| row.get(idx[i]).unwrap_or("")),
        )?;
        out.push(ScoredLink {
            left_id: l.to_string(),
            right_id: r.to_string(),
            probability,
            band,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Reads a truth file (columns `left_id`, `right_id`; others ignored). A file with a `decision`
/// column (the review pack of `pseudolink review`, filled in) is a labels file: only its rows
/// whose decision is `match` are true pairs.
pub fn read_truth(path: &Path) -> Result<BTreeSet<Pair>> {
    let table = Table::open(path)?;
    let idx = table.columns(&["left_id", "right_id"], "")?;
    let decision = table.column("decision");
    let mut out = BTreeSet::new();
    table.for_each_row(|line, row| {
        if let Some(d) = decision {
            if Decision::parse(row.get(d).unwrap_or("")) != Some(Decision::Match) {
                return Ok(());
            }
        }
        let (l, r) = (
            row.get(idx[0]).unwrap_or("").trim(),
            row.get(idx[1]).unwrap_or("").trim(),
        );
        if l.is_empty() || r.is_empty() {
            return Err(Error::input(
                Location::at(Some(path), line),
                "empty record id in a true pair",
            ));
        }
        out.insert((l.to_string(), r.to_string()));
        Ok(())
    })?;
    Ok(out)
}

/// The true pairs given in memory (by a binding), checked as [`read_truth`] checks a file's: ids
/// are trimmed and an empty one is an [`Error::Invalid`] naming the pair (counted from 0).
pub fn truth_from_pairs(pairs: Vec<Pair>) -> Result<BTreeSet<Pair>> {
    let mut out = BTreeSet::new();
    for (i, (l, r)) in pairs.into_iter().enumerate() {
        let (l, r) = (l.trim(), r.trim());
        if l.is_empty() || r.is_empty() {
            return Err(Error::Invalid(format!(
                "true pair {i}: empty record id in a true pair"
            )));
        }
        out.insert((l.to_string(), r.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_from_pairs_trims_and_refuses_empty_ids() {
        let p = |l: &str, r: &str| (l.to_string(), r.to_string());
        let t = truth_from_pairs(vec![p(" a ", "x"), p("a", "x"), p("b", "y")]).unwrap();
        assert_eq!(t.len(), 2);
        assert!(t.contains(&p("a", "x")));
        let e = truth_from_pairs(vec![p("a", "x"), p("b", " ")]).unwrap_err();
        assert!(matches!(e, Error::Invalid(_)), "{e:?}");
        assert!(
            e.to_string().contains("true pair 1: empty record id"),
            "{e}"
        );
    }

    fn link(l: &str, r: &str, p: f64, band: Band) -> ScoredLink {
        ScoredLink {
            left_id: l.into(),
            right_id: r.into(),
            probability: p,
            band,
        }
    }

    #[test]
    fn counts_and_curve() {
        let links = vec![
            link("a", "x", 0.99, Band::Match),
            link("b", "y", 0.95, Band::Match),
            link("c", "z", 0.6, Band::Review),
        ];
        let truth: BTreeSet<Pair> = [("a", "x"), ("c", "z"), ("d", "w")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let e = evaluate(&links, &truth, false);
        assert_eq!(
            (e.true_positives, e.false_positives, e.false_negatives),
            (1, 1, 2)
        );
        assert_eq!(e.precision, 0.5);
        assert!((e.recall - 1.0 / 3.0).abs() < 1e-12);
        let c = curve(&links, &truth, false);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].evaluation.true_positives, 1);
        assert_eq!(c[2].evaluation.true_positives, 2);
        assert_eq!(c[2].evaluation.false_positives, 1);
        // Unordered keys match reversed truth pairs.
        let rev: BTreeSet<Pair> = [("x".to_string(), "a".to_string())].into();
        assert_eq!(evaluate(&links, &rev, true).true_positives, 1);
        assert_eq!(evaluate(&links, &rev, false).true_positives, 0);
        let none = evaluate(&[], &BTreeSet::new(), false);
        assert_eq!((none.precision, none.recall, none.f1), (0.0, 0.0, 0.0));
    }

    #[test]
    fn bad_files_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("links.csv");
        std::fs::write(
            &p,
            "left_id,right_id,match_weight,match_probability,band\na,b,1,0.9,match\na,c,1,x,match\n",
        )
        .unwrap();
        let e = read_links(&p).unwrap_err().to_string();
        assert!(e.contains("links.csv") && e.contains("line 3"), "{e}");
        std::fs::write(&p, "left,right\n").unwrap();
        let e = read_truth(&p).unwrap_err().to_string();
        assert!(e.contains("left_id"), "{e}");
        std::fs::write(&p, "left_id,right_id\na,b\nc\n").unwrap();
        let e = read_truth(&p).unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");
    }
}
