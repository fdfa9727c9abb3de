//! The clerical review pack: the review band's pairs with what each comparison found (levels and
//! weights, never a value), and the reviewers' decisions taken back into the links.
//!
//! The pack holds record ids and comparison levels only: each agency joins its own ids to its
//! own data to look at the people. Reviewers fill its `decision` column with `match`,
//! `non-match` or leave it empty (undecided); [`apply_decisions`] then moves decided pairs out of
//! the review band: a `match` becomes a link (joining or merging clusters), a `non-match` leaves
//! the file. The filled-in pack is also a labels file: `pseudolink evaluate --truth` reads its
//! `match` rows as true pairs.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::error::{Error, Location, Result};
use crate::io::table::Table;
use crate::link::competition::StandingModel;
pub use crate::link::evaluate::Decision;
use crate::link::model::Contribution;
use crate::link::{Band, Linkage};

use super::links::LinkRow;

/// One pair of the review pack.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewRow {
    /// The pair as in the links file (band `review`).
    pub link: LinkRow,
    /// What each comparison found: level, m, u, weight (no value).
    pub comparisons: Vec<Contribution>,
    /// The pair's competing-links standing and its weight, when the model weighs them.
    pub competition: Option<StandingModel>,
}

/// The review-band pairs of `linkage`, in links-file order, each compared again for its levels.
pub fn review_rows(linkage: &Linkage) -> Vec<ReviewRow> {
    let rows = super::links::rows_of(linkage);
    let scorer = linkage.scorer();
    let mut levels = vec![0u8; linkage.comparator.n_fields()];
    linkage
        .links()
        .iter()
        .zip(rows)
        .filter(|(l, _)| l.band == Band::Review)
        .map(|(l, row)| {
            let (first, second) = if l.left < l.right {
                (l.left, l.right)
            } else {
                (l.right, l.left)
            };
            linkage
                .comparator
                .compare(&linkage.pool, first, second, &mut levels);
            ReviewRow {
                link: row,
                comparisons: scorer.contributions(&linkage.comparator, &levels, first),
                competition: linkage.standing_of(first, second).cloned(),
            }
        })
        .collect()
}

/// Writes the review pack: `left_id,right_id` (and the sources with three or more inputs),
/// `match_weight,match_probability`, then `COMPARISON_level,COMPARISON_weight` per comparison,
/// then `competing_links_standing,competing_links_weight` when a row has a standing, then
/// `decision,note` (empty, for the reviewers), atomically.
pub fn write_review(path: &Path, comparisons: &[String], rows: &[ReviewRow]) -> Result<()> {
    let sources = rows.iter().any(|r| r.link.left_source.is_some());
    let csv_err = |e: csv::Error| Error::Invalid(format!("could not write CSV: {e}"));
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let mut header: Vec<String> = vec!["left_id".into(), "right_id".into()];
    if sources {
        header.extend(["left_source".into(), "right_source".into()]);
    }
    header.extend(["match_weight".into(), "match_probability".into()]);
    for c in comparisons {
        header.push(format!("{c}_level"));
        header.push(format!("{c}_weight"));
    }
    let competition = rows.iter().any(|r| r.competition.is_some());
    if competition {
        header.extend([
            "competing_links_standing".into(),
            "competing_links_weight".into(),
        ]);
    }
    header.extend(["decision".into(), "note".into()]);
    w.write_record(&header).map_err(csv_err)?;
    for r in rows {
        let l = &r.link;
        let mut cells = vec![l.left_id.clone(), l.right_id.clone()];
        if sources {
            cells.push(l.left_source.clone().unwrap_or_default());
            cells.push(l.right_source.clone().unwrap_or_default());
        }
        cells.push(format!("{:.6}", l.weight));
        cells.push(crate::run::link::round_probability(l.probability));
        for name in comparisons {
            match r.comparisons.iter().find(|c| &c.comparison == name) {
                Some(c) => {
                    cells.push(c.level.clone());
                    cells.push(format!("{:.3}", c.weight));
                }
                None => cells.extend([String::new(), String::new()]),
            }
        }
        if competition {
            match &r.competition {
                Some(c) => cells.extend([c.standing.clone(), format!("{:.3}", c.weight)]),
                None => cells.extend([String::new(), String::new()]),
            }
        }
        cells.extend([String::new(), String::new()]);
        w.write_record(&cells).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Invalid(format!("could not write CSV: {e}")))?;
    crate::io::atomic::write_atomic(path, &bytes)
}

/// What applying decisions did. `rows_in` = `rows_out` + `removed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecisionCounts {
    /// Rows of the links file read.
    pub rows_in: u64,
    /// Rows written.
    pub rows_out: u64,
    /// Review pairs decided `match`, now links.
    pub matched: u64,
    /// Review pairs decided `non-match`, removed.
    pub removed: u64,
    /// Review pairs left undecided (with or without a row in the decisions file).
    pub undecided: u64,
}

type PairKey = (String, String, String, String);

fn pair_key(l: &LinkRow) -> PairKey {
    (
        l.left_source.clone().unwrap_or_default(),
        l.left_id.clone(),
        l.right_source.clone().unwrap_or_default(),
        l.right_id.clone(),
    )
}

/// Reads a decisions file (the review pack filled in: `left_id`, `right_id`, `decision`, and the
/// source columns when the links have them; other columns ignored).
pub fn read_decisions(path: &Path, sources: bool) -> Result<Vec<(u64, PairKey, Decision)>> {
    let table = Table::open(path)?;
    let mut needed = vec!["left_id", "right_id", "decision"];
    if sources {
        needed.extend(["left_source", "right_source"]);
    }
    let idx = table.columns(
        &needed,
        "give the review pack of `pseudolink review`, filled in",
    )?;
    let mut out = Vec::new();
    table.for_each_row(|line, row| {
        let cell = |i: usize| row.get(idx[i]).unwrap_or("").trim().to_string();
        let decision = Decision::parse(&cell(2)).ok_or_else(|| {
            Error::input(
                Location::at(Some(path), line).field("decision"),
                format!(
                    "'{}' is not a decision: write match, non-match, or leave it empty",
                    cell(2)
                ),
            )
        })?;
        let (ls, rs) = if sources {
            (cell(3), cell(4))
        } else {
            (String::new(), String::new())
        };
        out.push((line, (ls, cell(0), rs, cell(1)), decision));
        Ok(())
    })?;
    Ok(out)
}

/// Takes the decisions of the file at `decisions` into `links` (the rows of a links file):
/// each decided pair must be a review pair of the links. `dedupe`: the links deduplicate one
/// input (clusters join records of either side); `one_to_one`: a pair decided `match` gets a
/// pair number of its own. Returns the new rows, in the same order, and the counts.
pub fn apply_decisions(
    links: &[LinkRow],
    decisions: &Path,
    dedupe: bool,
    one_to_one: bool,
) -> Result<(Vec<LinkRow>, DecisionCounts)> {
    let sources = links.iter().any(|l| l.left_source.is_some());
    let index: HashMap<PairKey, usize> = links
        .iter()
        .enumerate()
        .map(|(i, l)| (pair_key(l), i))
        .collect();
    let mut decided: BTreeMap<usize, Decision> = BTreeMap::new();
    let mut seen_at: HashMap<usize, u64> = HashMap::new();
    for (line, key, d) in read_decisions(decisions, sources)? {
        let at = Location::at(Some(decisions), line);
        let i = *index.get(&key).ok_or_else(|| {
            Error::input(
                at.clone().field("left_id"),
                format!("the pair '{}', '{}' is not in the links file", key.1, key.3),
            )
        })?;
        if links[i].band != Band::Review {
            return Err(Error::input(
                at.field("decision"),
                format!(
                    "the pair '{}', '{}' is already a link, not a review pair",
                    key.1, key.3
                ),
            ));
        }
        if let Some(first) = seen_at.insert(i, line) {
            return Err(Error::input(
                at.field("left_id"),
                format!(
                    "the pair '{}', '{}' was already decided on line {first}",
                    key.1, key.3
                ),
            ));
        }
        decided.insert(i, d);
    }
    let mut out: Vec<LinkRow> = links.to_vec();
    let record = |source: &Option<String>, id: &str, left: bool| -> (String, String) {
        let side = match (source, dedupe, left) {
            (Some(s), _, _) => s.clone(),
            (None, true, _) => String::new(),
            (None, false, true) => "left".into(),
            (None, false, false) => "right".into(),
        };
        (side, id.to_string())
    };
    let mut next = out.iter().filter_map(|l| l.cluster).max().unwrap_or(0);
    let mut cluster_of: HashMap<(String, String), u32> = HashMap::new();
    for l in out.iter().filter(|l| l.band == Band::Match) {
        if let Some(c) = l.cluster {
            cluster_of.insert(record(&l.left_source, &l.left_id, true), c);
            cluster_of.insert(record(&l.right_source, &l.right_id, false), c);
        }
    }
    let mut counts = DecisionCounts {
        rows_in: links.len() as u64,
        ..DecisionCounts::default()
    };
    for (&i, &d) in &decided {
        match d {
            Decision::Match => {
                counts.matched += 1;
                let a = record(&out[i].left_source, &out[i].left_id, true);
                let b = record(&out[i].right_source, &out[i].right_id, false);
                let (ca, cb) = (cluster_of.get(&a).copied(), cluster_of.get(&b).copied());
                let id = match (one_to_one, ca, cb) {
                    (false, Some(x), Some(y)) if x != y => {
                        let (keep, gone) = (x.min(y), x.max(y));
                        for l in out.iter_mut().filter(|l| l.cluster == Some(gone)) {
                            l.cluster = Some(keep);
                        }
                        for c in cluster_of.values_mut().filter(|c| **c == gone) {
                            *c = keep;
                        }
                        keep
                    }
                    (false, Some(x), _) | (false, None, Some(x)) => x,
                    _ => {
                        next += 1;
                        next
                    }
                };
                if !one_to_one {
                    cluster_of.insert(a, id);
                    cluster_of.insert(b, id);
                }
                out[i].band = Band::Match;
                out[i].cluster = Some(id);
            }
            Decision::NonMatch => counts.removed += 1,
            Decision::Undecided => {}
        }
    }
    let removed: Vec<bool> = (0..out.len())
        .map(|i| decided.get(&i) == Some(&Decision::NonMatch))
        .collect();
    let out: Vec<LinkRow> = out
        .into_iter()
        .zip(removed)
        .filter_map(|(l, r)| (!r).then_some(l))
        .collect();
    counts.undecided = out.iter().filter(|l| l.band == Band::Review).count() as u64;
    counts.rows_out = out.len() as u64;
    Ok((out, counts))
}
