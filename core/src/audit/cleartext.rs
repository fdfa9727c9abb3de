//! Cleartext tables, normalised as the encoder normalises: the agency's own extract (the truth),
//! the records an insider knows, and the attacker's reference population.
//!
//! A table is a CSV file with a header naming the schema's input columns, in any order; absent
//! columns are missing in every row, and columns the schema does not read are ignored. Each
//! value goes through the schema's normaliser of its field, so every comparison in the audit is
//! between normalised values (a value that does not normalise is missing).

use std::collections::HashMap;
use std::path::Path;

use crate::encode::value::FieldNormaliser;
use crate::encode::Value;
use crate::error::{Error, Location, Result};
use crate::normalise::date::today_utc;
use crate::schema::Schema;

/// Normalised rows, one value per schema field, with their record ids.
#[derive(Debug, Clone, Default)]
pub struct Cleartext {
    /// Record id of each row (the row number, from 1, when the file has no record id column).
    pub ids: Vec<String>,
    /// Per row, the normalised value of each schema field (`None`: missing or not normalisable).
    pub rows: Vec<Vec<Option<Value>>>,
    /// Where the rows came from, for reports.
    pub source: String,
}

/// The schema's normalisers, in field order.
pub fn normalisers(schema: &Schema) -> Vec<FieldNormaliser> {
    let today = today_utc();
    schema
        .fields
        .iter()
        .map(|f| FieldNormaliser::new(f, today))
        .collect()
}

impl Cleartext {
    /// Reads a table. With `require_id` the schema's record id column must be present (the
    /// truth and known records are matched to encoded records by it); rows with an empty id are
    /// then skipped, and a repeated id keeps its first row.
    pub fn read(path: &Path, schema: &Schema, require_id: bool) -> Result<Cleartext> {
        let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let loc = |line: u64| Location::at(Some(path), line);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| Error::input(loc(1), format!("malformed CSV: {e}")))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        let find = |name: &str| header.iter().position(|h| h == name);
        let id_col = find(&schema.record_id);
        if require_id && id_col.is_none() {
            return Err(Error::input(
                loc(1),
                format!("the record id column '{}' is missing", schema.record_id),
            ));
        }
        let columns: Vec<Option<usize>> = schema.fields.iter().map(|f| find(f.column())).collect();
        if columns.iter().all(Option::is_none) {
            return Err(Error::input(
                loc(1),
                "none of the schema's input columns is in the header",
            ));
        }
        let normalisers = normalisers(schema);
        let mut table = Cleartext {
            source: path.display().to_string(),
            ..Cleartext::default()
        };
        let mut seen: HashMap<String, ()> = HashMap::new();
        for (n, row) in reader.records().enumerate() {
            let row = row.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                Error::input(loc(line), format!("malformed CSV: {e}"))
            })?;
            let id = match id_col {
                Some(c) => match row.get(c).map(str::trim).filter(|id| !id.is_empty()) {
                    Some(id) => id.to_string(),
                    None => continue,
                },
                None => (n + 1).to_string(),
            };
            if require_id && seen.insert(id.clone(), ()).is_some() {
                continue;
            }
            table.push(id, &normalisers, |i| {
                columns.get(i).copied().flatten().and_then(|c| row.get(c))
            });
        }
        Ok(table)
    }

    /// A table of rows given as raw values in schema field order.
    pub fn from_rows<'a>(
        schema: &Schema,
        rows: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>,
        source: &str,
    ) -> Cleartext {
        let normalisers = normalisers(schema);
        let mut table = Cleartext {
            source: source.to_string(),
            ..Cleartext::default()
        };
        for (id, raw) in rows {
            table.push(id.to_string(), &normalisers, |i| raw.get(i).copied());
        }
        table
    }

    fn push<'r>(
        &mut self,
        id: String,
        normalisers: &[FieldNormaliser],
        raw: impl Fn(usize) -> Option<&'r str>,
    ) {
        let values = normalisers
            .iter()
            .enumerate()
            .map(|(i, n)| raw(i).and_then(|v| n.normalise(v).ok()))
            .collect();
        self.ids.push(id);
        self.rows.push(values);
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Row index of each record id.
    pub fn index(&self) -> HashMap<&str, usize> {
        let mut map = HashMap::with_capacity(self.ids.len());
        for (i, id) in self.ids.iter().enumerate() {
            map.entry(id.as_str()).or_insert(i);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_normalised_by_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(
            &path,
            "\u{feff}last_name,record_id,first_name,date_of_birth,extra\nSMITH-Jones,A1, Zoë ,9/3/14,x\nx,,y,,\nLee,A1,Ann,,\n",
        )
        .unwrap();
        let schema = Schema::example();
        let t = Cleartext::read(&path, &schema, true).unwrap();
        assert_eq!(t.ids, ["A1"]);
        assert_eq!(t.rows[0][0], Some(Value::Text("zoe".into())));
        assert_eq!(t.rows[0][2], Some(Value::Text("smith jones".into())));
        assert_eq!(
            t.rows[0][3].as_ref().map(|v| v.canonical().to_string()),
            Some("2014-03-09".to_string())
        );
        assert!(t.rows[0][5].is_none());
        // Without ids (a reference population), rows are numbered.
        std::fs::write(&path, "first_name\nAnn\nBob\n").unwrap();
        let t = Cleartext::read(&path, &schema, false).unwrap();
        assert_eq!(t.ids, ["1", "2"]);
        assert!(Cleartext::read(&path, &schema, true).is_err());
        std::fs::write(&path, "colour\nred\n").unwrap();
        assert!(Cleartext::read(&path, &schema, false).is_err());
    }
}
