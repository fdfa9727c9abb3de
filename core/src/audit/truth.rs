//! The truth behind an encoded extract: the agency's own cleartext, normalised as it was encoded.
//!
//! Only an agency (or a test) has it. With it, `pseudolink audit --cleartext` measures how many
//! records the attack really re-identifies instead of estimating it.

use std::collections::HashMap;
use std::path::Path;

use crate::encode::value::FieldNormaliser;
use crate::encode::{EncodedRecord, Value};
use crate::error::{Error, Location, Result};
use crate::normalise::date::today_utc;
use crate::schema::{Schema, Transform as Level};

/// Normalised field values of a cleartext extract, by record id.
#[derive(Debug, Default)]
pub struct Truth {
    by_id: HashMap<String, Vec<Option<Value>>>,
}

impl Truth {
    /// Reads the cleartext CSV at `path` (the file that was encoded) and normalises every field.
    pub fn read(path: &Path, schema: &Schema) -> Result<Truth> {
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
        let id_col = find(&schema.record_id).ok_or_else(|| {
            Error::input(
                loc(1),
                format!("the record id column '{}' is missing", schema.record_id),
            )
        })?;
        let columns: Vec<Option<usize>> = schema.fields.iter().map(|f| find(f.column())).collect();
        let mut truth = Truth::default();
        let normalisers = normalisers(schema);
        for row in reader.records() {
            let row = row.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                Error::input(loc(line), format!("malformed CSV: {e}"))
            })?;
            let Some(id) = row.get(id_col).filter(|id| !id.is_empty()) else {
                continue;
            };
            truth.insert(id, &normalisers, |i| {
                columns.get(i).copied().flatten().and_then(|c| row.get(c))
            });
        }
        Ok(truth)
    }

    /// The truth of records given as raw values in schema field order, by record id.
    pub fn from_rows<'a>(
        schema: &Schema,
        rows: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>,
    ) -> Truth {
        let normalisers = normalisers(schema);
        let mut truth = Truth::default();
        for (id, raw) in rows {
            truth.insert(id, &normalisers, |i| raw.get(i).copied());
        }
        truth
    }

    fn insert<'r>(
        &mut self,
        id: &str,
        normalisers: &[FieldNormaliser],
        raw: impl Fn(usize) -> Option<&'r str>,
    ) {
        let values = normalisers
            .iter()
            .enumerate()
            .map(|(i, n)| raw(i).and_then(|v| n.normalise(v).ok()))
            .collect();
        self.by_id.entry(id.to_string()).or_insert(values);
    }

    /// The true text of field `field` (or its `level`) for each record, `None` where unknown.
    pub fn values(
        &self,
        records: &[EncodedRecord],
        field: usize,
        level: Option<Level>,
    ) -> Vec<Option<String>> {
        records
            .iter()
            .map(|r| {
                let v = self.by_id.get(&r.id)?.get(field)?.as_ref()?;
                match level {
                    None => Some(v.canonical().to_string()),
                    Some(l) => v.level(l).map(|t| t.to_string()),
                }
            })
            .collect()
    }

    /// Number of records read.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no record was read.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

fn normalisers(schema: &Schema) -> Vec<FieldNormaliser> {
    let today = today_utc();
    schema
        .fields
        .iter()
        .map(|f| FieldNormaliser::new(f, today))
        .collect()
}
