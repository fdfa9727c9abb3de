//! Writing a generated population as CSV files.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use crate::{SynthData, SynthError, RECORD_HEADER};

fn io_error(path: &Path, source: std::io::Error) -> SynthError {
    SynthError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn csv_error(path: &Path, error: csv::Error) -> SynthError {
    match error.into_kind() {
        csv::ErrorKind::Io(source) => io_error(path, source),
        other => SynthError::Csv {
            path: path.to_path_buf(),
            message: format!("{other:?}"),
        },
    }
}

/// Writes a CSV file with `header` and one line per row.
fn write_csv<R, I>(path: &Path, header: &[&str], rows: I) -> Result<(), SynthError>
where
    I: IntoIterator<Item = R>,
    R: serde::Serialize,
{
    let file = File::create(path).map_err(|e| io_error(path, e))?;
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .buffer_capacity(1 << 16)
        .from_writer(file);
    w.write_record(header).map_err(|e| csv_error(path, e))?;
    for row in rows {
        w.serialize(row).map_err(|e| csv_error(path, e))?;
    }
    w.flush().map_err(|e| io_error(path, e))
}

/// The letter of an agency name (`agency_c` -> `c`).
fn short_name(name: &str) -> &str {
    name.strip_prefix("agency_").unwrap_or(name)
}

/// Writes `DIR/agency_a.csv`, `DIR/agency_b.csv`, ..., `DIR/truth.csv`
/// (`left_id,right_id` for agency_a x agency_b), `DIR/truth_<x>_<y>.csv`
/// for every other pair of agencies when there are more than two (e.g.
/// `truth_a_c.csv`), and `DIR/clusters.csv` (`agency,record_id,person_id`
/// for every record).
/// Creates DIR if needed and returns the paths written, in that order.
pub fn write(data: &SynthData, dir: &Path) -> Result<Vec<PathBuf>, SynthError> {
    fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let mut written = Vec::new();
    for (name, records) in &data.extracts {
        let path = dir.join(format!("{name}.csv"));
        write_csv(&path, &RECORD_HEADER, records)?;
        written.push(path);
    }
    let n = data.extracts.len();
    for left in 0..n {
        for right in left + 1..n {
            let file = if (left, right) == (0, 1) {
                "truth.csv".to_string()
            } else {
                let name = |k: usize| data.extracts.get(k).map_or("", |e| short_name(&e.0));
                format!("truth_{}_{}.csv", name(left), name(right))
            };
            let path = dir.join(file);
            write_csv(
                &path,
                &["left_id", "right_id"],
                data.true_pairs(left, right),
            )?;
            written.push(path);
        }
    }
    let path = dir.join("clusters.csv");
    let rows = data
        .extracts
        .iter()
        .enumerate()
        .flat_map(|(k, (name, records))| {
            let persons = data.person_ids(k).unwrap_or(&[]);
            records
                .iter()
                .zip(persons.iter())
                .map(move |(r, p)| (name.as_str(), r.record_id.as_str(), *p))
        });
    write_csv(&path, &["agency", "record_id", "person_id"], rows)?;
    written.push(path);
    Ok(written)
}
