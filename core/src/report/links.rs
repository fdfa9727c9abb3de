//! Links files read in full (every column `pseudolink link` writes), for the report and the
//! review pack; `link::evaluate::read_links` reads only what evaluation needs, and both check
//! the cells they share with `link::evaluate::link_cells`.

use std::path::Path;

use crate::error::{Error, Location, Result};
use crate::io::table::Table;
use crate::link::evaluate::link_cells;
use crate::link::{Band, Linkage};

/// One row of a links file.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRow {
    /// Left record id.
    pub left_id: String,
    /// Right record id.
    pub right_id: String,
    /// Source of the left record (three or more inputs), else `None`.
    pub left_source: Option<String>,
    /// Source of the right record (three or more inputs), else `None`.
    pub right_source: Option<String>,
    /// Match weight.
    pub weight: f64,
    /// Match probability.
    pub probability: f64,
    /// Band.
    pub band: Band,
    /// Cluster (or one-to-one pair) number; `None` for review rows.
    pub cluster: Option<u32>,
}

/// The columns of a links file, in order; two more follow with three or more inputs.
pub(crate) const COLUMNS: [&str; 6] = [
    "left_id",
    "right_id",
    "match_weight",
    "match_probability",
    "band",
    "cluster_id",
];
/// The source columns of a links file of three or more inputs.
pub(crate) const SOURCE_COLUMNS: [&str; 2] = ["left_source", "right_source"];

/// The rows of a linkage, as its links file holds them (weights and probabilities rounded as
/// it writes them).
pub fn rows_of(linkage: &Linkage) -> Vec<LinkRow> {
    let names = linkage.pool().source_names();
    let many = names.len() > 2;
    let source = |r: u32| {
        many.then(|| {
            names
                .get(usize::from(linkage.source_of(r)))
                .cloned()
                .unwrap_or_default()
        })
    };
    linkage
        .links()
        .iter()
        .map(|l| LinkRow {
            left_id: linkage.record_id(l.left).to_string(),
            right_id: linkage.record_id(l.right).to_string(),
            left_source: source(l.left),
            right_source: source(l.right),
            // As the links file writes them, so that a report made in memory (Python) and one
            // made from the file give the same tables.
            weight: format!("{:.6}", l.weight).parse().unwrap_or(l.weight),
            probability: crate::run::link::round_probability(l.probability)
                .parse()
                .unwrap_or(l.probability),
            band: l.band,
            cluster: (l.band == Band::Match && l.cluster > 0).then_some(l.cluster),
        })
        .collect()
}

/// Reads a links file written by `pseudolink link` or `dedupe` (or `review --apply`): every
/// column, checked, errors naming the file, line and field.
pub fn read_link_rows(path: &Path) -> Result<Vec<LinkRow>> {
    let table = Table::open(path)?;
    let idx = table.columns(&COLUMNS, "is this a links file of `pseudolink link`?")?;
    let sources = match (
        table.column(SOURCE_COLUMNS[0]),
        table.column(SOURCE_COLUMNS[1]),
    ) {
        (Some(l), Some(r)) => Some((l, r)),
        _ => None,
    };
    let mut out = Vec::new();
    table.for_each_row(|line, row| {
        let loc = |f: &str| Location::at(Some(path), line).field(f);
        let cell = |i: usize| row.get(idx[i]).unwrap_or("").trim();
        let (left_id, right_id, probability, band) =
            link_cells(path, line, [cell(0), cell(1), cell(3), cell(4)])?;
        let weight = cell(2)
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                Error::input(loc(COLUMNS[2]), format!("'{}' is not a number", cell(2)))
            })?;
        let cluster = match cell(5) {
            "" => None,
            c => Some(c.parse::<u32>().map_err(|_| {
                Error::input(loc("cluster_id"), format!("'{c}' is not a cluster number"))
            })?),
        };
        let (left_source, right_source) = match sources {
            Some((l, r)) => (
                Some(row.get(l).unwrap_or("").to_string()),
                Some(row.get(r).unwrap_or("").to_string()),
            ),
            None => (None, None),
        };
        out.push(LinkRow {
            left_id: left_id.to_string(),
            right_id: right_id.to_string(),
            left_source,
            right_source,
            weight,
            probability,
            band,
            cluster,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Writes `rows` as a links file (the columns of `pseudolink link`, with the source columns when
/// the rows have sources), atomically.
pub fn write_link_rows(path: &Path, rows: &[LinkRow]) -> Result<()> {
    let sources = rows.iter().any(|r| r.left_source.is_some());
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let csv_err = |e: csv::Error| Error::Invalid(format!("could not write CSV: {e}"));
    let mut header: Vec<&str> = COLUMNS.to_vec();
    if sources {
        header.extend(SOURCE_COLUMNS);
    }
    w.write_record(&header).map_err(csv_err)?;
    for r in rows {
        let mut cells = vec![
            r.left_id.clone(),
            r.right_id.clone(),
            format!("{:.6}", r.weight),
            crate::run::link::round_probability(r.probability),
            r.band.as_str().to_string(),
            r.cluster.map(|c| c.to_string()).unwrap_or_default(),
        ];
        if sources {
            cells.push(r.left_source.clone().unwrap_or_default());
            cells.push(r.right_source.clone().unwrap_or_default());
        }
        w.write_record(&cells).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Invalid(format!("could not write CSV: {e}")))?;
    crate::io::atomic::write_atomic(path, &bytes)
}
