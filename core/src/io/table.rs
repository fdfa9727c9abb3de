//! Small CSV tables the tools read back (links files, truth files, review decisions): the header
//! checked for the columns a reader needs, then every row with its line number, every error
//! naming the file, the line and, for a missing column, the column.

use std::io::BufReader;
use std::path::Path;

use crate::error::{Error, Location, Result};

/// An open CSV table: its reader, its header's names (trimmed, byte-order mark removed).
pub(crate) struct Table {
    path: std::path::PathBuf,
    reader: csv::Reader<BufReader<std::fs::File>>,
    names: Vec<String>,
}

impl Table {
    /// Opens `path` and reads its header.
    pub(crate) fn open(path: &Path) -> Result<Table> {
        let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(BufReader::new(file));
        let names = reader
            .headers()
            .map_err(|e| crate::io::raw::csv_error(path, &e))?
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .collect();
        Ok(Table {
            path: path.to_path_buf(),
            reader,
            names,
        })
    }

    /// The index of column `name`, if the header has it.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|h| h == name)
    }

    /// The indices of the columns `needed`, in order; a missing one is an error at line 1 naming
    /// it and listing the header, followed by `hint` (what file was expected) when not empty.
    pub(crate) fn columns(&self, needed: &[&str], hint: &str) -> Result<Vec<usize>> {
        needed
            .iter()
            .map(|n| {
                self.column(n).ok_or_else(|| {
                    let sep = if hint.is_empty() { "" } else { ": " };
                    Error::input(
                        Location::at(Some(&self.path), 1).field(*n),
                        format!(
                            "no '{n}' column in the header (found: {}){sep}{hint}",
                            self.names.join(", ")
                        ),
                    )
                })
            })
            .collect()
    }

    /// Calls `each(line, row)` for every row, in order (the header is line 1); stops at the first
    /// error, its own or the reader's.
    pub(crate) fn for_each_row(
        mut self,
        mut each: impl FnMut(u64, &csv::StringRecord) -> Result<()>,
    ) -> Result<()> {
        let mut row = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut row) {
                Ok(true) => each(row.position().map_or(0, |p| p.line()), &row)?,
                Ok(false) => return Ok(()),
                Err(e) => return Err(crate::io::raw::csv_error(&self.path, &e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_with_their_lines_and_a_missing_column_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "\u{feff}a, b\n1,2\n3,4\n").unwrap();
        let table = Table::open(&path).unwrap();
        assert_eq!(table.columns(&["b", "a"], "").unwrap(), vec![1, 0]);
        match table.columns(&["c"], "a hint") {
            Err(Error::Input { location, message }) => {
                assert_eq!(location.line, Some(1));
                assert_eq!(location.field.as_deref(), Some("c"));
                assert!(message.contains("found: a, b): a hint"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let mut seen = Vec::new();
        table
            .for_each_row(|line, row| {
                seen.push((line, row.get(0).unwrap().to_string()));
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, vec![(2, "1".to_string()), (3, "3".to_string())]);
        std::fs::write(&path, "a,b\n1,2\n3\n").unwrap();
        let err = Table::open(&path)
            .unwrap()
            .for_each_row(|_, _| Ok(()))
            .unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
    }
}
