//! The attacker's public knowledge: a reference population and dictionaries of candidate values.
//!
//! The **reference population** is "another draw of the same population": cleartext rows with
//! the schema's columns, from which the attacker reads the frequencies of names, dates,
//! postcodes and their parts, overall and within groups (a year of birth, a district). It comes
//! from the caller, as a CSV file ([`Reference::from_csv`]) or as rows in memory
//! ([`Reference::from_rows`]); the library holds no population of its own. (`pseudolink audit`'s
//! default is agency A's extract of an independent synthetic population, made by the
//! `pseudolink-synth` crate with a fixed seed, never the benchmark's.)
//!
//! A **dictionary** lists candidate values of one field (a public address register, a list of
//! names); the filter attacks build the filter of every candidate. By default a field's
//! dictionary is the reference's distinct values. A dictionary file holds one value per line
//! (for a CSV, the first column); a first line naming the field or reading `value` is a header.
//! A CSV whose header names the field's input column among others (a cleartext extract, a
//! register with several columns) is read from that column.

use std::path::Path;

use crate::encode::Value;
use crate::error::{Error, Location, Result};
use crate::schema::Schema;

use super::cleartext::{normalisers, Cleartext};

/// The reference population.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Its normalised rows.
    pub table: Cleartext,
}

impl Reference {
    /// Reads a reference population (a CSV file with the schema's input columns; a record id
    /// column is not needed).
    pub fn from_csv(path: &Path, schema: &Schema) -> Result<Reference> {
        let table = Cleartext::read(path, schema, false)?;
        if table.is_empty() {
            return Err(Error::input(
                Location::at(Some(path), 1),
                "the reference population holds no rows",
            ));
        }
        Ok(Reference { table })
    }

    /// A reference population from rows in memory: `header` names the columns of every row,
    /// as a CSV file's header would (the schema's input columns, in any order; absent columns
    /// are missing in every row, other columns are ignored); `source` says where the rows came
    /// from, for the report. Rows without the schema's record id column are numbered from 1.
    /// Unlike [`Reference::from_csv`], rows none of whose columns the schema reads are accepted
    /// (every value missing); only an empty set of rows is an error.
    pub fn from_rows<R, S>(
        schema: &Schema,
        header: &[&str],
        rows: impl IntoIterator<Item = R>,
        source: &str,
    ) -> Result<Reference>
    where
        R: AsRef<[S]>,
        S: AsRef<str>,
    {
        let find = |name: &str| header.iter().position(|h| *h == name);
        let id_col = find(&schema.record_id);
        let columns: Vec<Option<usize>> = schema.fields.iter().map(|f| find(f.column())).collect();
        let rows: Vec<R> = rows.into_iter().collect();
        if rows.is_empty() {
            return Err(Error::Invalid(format!(
                "{source}: the reference population holds no rows"
            )));
        }
        let numbers: Vec<String> = match id_col {
            Some(_) => Vec::new(),
            None => (1..=rows.len()).map(|n| n.to_string()).collect(),
        };
        let table = Cleartext::from_rows(
            schema,
            rows.iter().enumerate().map(|(n, row)| {
                let row = row.as_ref();
                let cell = |c: Option<usize>| c.and_then(|c| row.get(c)).map_or("", |v| v.as_ref());
                let id = match id_col {
                    Some(c) => cell(Some(c)),
                    None => numbers[n].as_str(),
                };
                (id, columns.iter().map(|&c| cell(c)).collect())
            }),
            source,
        );
        Ok(Reference { table })
    }

    /// Where it came from.
    pub fn source(&self) -> &str {
        &self.table.source
    }
}

/// Candidate values of one field.
#[derive(Debug, Clone)]
pub struct Dictionary {
    /// Index of the field in the schema.
    pub field: usize,
    /// The distinct normalised values.
    pub values: Vec<Value>,
    /// Where they came from.
    pub source: String,
}

impl Dictionary {
    /// Reads the dictionary of field `field_name` from `path` (see the module documentation).
    pub fn read(schema: &Schema, field_name: &str, path: &Path) -> Result<Dictionary> {
        let field = schema.field_index(field_name).ok_or_else(|| {
            Error::Invalid(format!(
                "--dictionary {field_name}=...: '{field_name}' is not a field of the schema"
            ))
        })?;
        let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(file);
        let normaliser = &normalisers(schema)[field];
        let column_name = schema.fields[field].column();
        let mut values = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut column = 0;
        for (n, row) in reader.records().enumerate() {
            let row = row.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                Error::input(
                    Location::at(Some(path), line),
                    format!("malformed CSV: {e}"),
                )
            })?;
            if n == 0 {
                let header: Vec<&str> = row
                    .iter()
                    .map(|c| c.trim_start_matches('\u{feff}').trim())
                    .collect();
                if let Some(c) = header
                    .iter()
                    .position(|c| *c == column_name || *c == field_name || *c == "value")
                {
                    column = c;
                    continue;
                }
            }
            let cell = row.get(column).unwrap_or("").trim();
            if let Ok(v) = normaliser.normalise(cell) {
                if seen.insert(v.canonical().to_string()) {
                    values.push(v);
                }
            }
        }
        if values.is_empty() {
            return Err(Error::input(
                Location::at(Some(path), 1),
                "the dictionary holds no value that normalises",
            ));
        }
        Ok(Dictionary {
            field,
            values,
            source: path.display().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_in_memory_read_like_a_csv_file() {
        let schema = Schema::example();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(
            &path,
            "nickname,last_name,record_id,first_name\nx,SMITH,R1,Zoë\ny,Jones,R2,\n",
        )
        .unwrap();
        let from_file = Reference::from_csv(&path, &schema).unwrap();
        let header = ["nickname", "last_name", "record_id", "first_name"];
        let rows = [["x", "SMITH", "R1", "Zoë"], ["y", "Jones", "R2", ""]];
        let from_rows = Reference::from_rows(&schema, &header, rows, "test").unwrap();
        assert_eq!(from_rows.table.rows, from_file.table.rows);
        assert_eq!(from_rows.table.ids, from_file.table.ids);
        assert_eq!(from_rows.source(), "test");
        if let Some(Value::Text(t)) = &from_rows.table.rows[0][0] {
            assert_eq!(t, &t.to_lowercase());
        }
        // Without a record id column the rows are numbered; short rows are missing values.
        let rows = vec![vec!["SMITH".to_string()], vec![]];
        let numbered = Reference::from_rows(&schema, &["last_name"], &rows, "t").unwrap();
        assert_eq!(numbered.table.ids, ["1", "2"]);
        assert!(numbered.table.rows[1].iter().all(Option::is_none));
        let none: [[&str; 1]; 0] = [];
        assert!(Reference::from_rows(&schema, &["last_name"], none, "t").is_err());
        let colours = Reference::from_rows(&schema, &["colour"], [["red"]], "t").unwrap();
        assert!(colours.table.rows[0].iter().all(Option::is_none));
    }

    #[test]
    fn dictionaries_skip_their_header_and_repeats() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(
            &path,
            "address_line_1\n12 High St\n12 HIGH STREET\n\"Flat 3, 4 Low Rd\",x\n",
        )
        .unwrap();
        let schema = Schema::example();
        let d = Dictionary::read(&schema, "address_line_1", &path).unwrap();
        assert_eq!(d.field, 6);
        assert_eq!(d.values.len(), 2);
        assert!(Dictionary::read(&schema, "colour", &path).is_err());
        // A cleartext extract: the field's column.
        std::fs::write(
            &path,
            "record_id,address_line_1,postcode\nA,9 Elm Road,CV1 1AA\nB,9 ELM RD,CV1 1AA\n",
        )
        .unwrap();
        let d = Dictionary::read(&schema, "address_line_1", &path).unwrap();
        assert_eq!(d.values.len(), 1);
        assert_eq!(&*d.values[0].canonical(), "9 elm road");
        std::fs::write(&path, "value\n\n").unwrap();
        assert!(Dictionary::read(&schema, "first_name", &path).is_err());
    }
}
