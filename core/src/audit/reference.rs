//! The attacker's public knowledge: a reference population and dictionaries of candidate values.
//!
//! The **reference population** is "another draw of the same population": cleartext rows with
//! the schema's columns, from which the attacker reads the frequencies of names, dates,
//! postcodes and their parts, overall and within groups (a year of birth, a district). The
//! default is [`Reference::synthetic`]: agency A's extract of an independent synthetic
//! population (the generator of `pseudolink synth`, seed [`REFERENCE_SEED`], never the
//! benchmark's), with the same kinds of errors as the extracts it stands for.
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
use crate::synth::{generate, SynthConfig, SynthRecord, RECORD_HEADER};

use super::cleartext::{normalisers, Cleartext};

/// Seed of the default reference population (never the benchmarks' seed).
pub const REFERENCE_SEED: u64 = 0x005e_ed0f_7075_6c69;
/// People in the default reference population (its agency A holds about 70% of them).
pub const REFERENCE_PEOPLE: usize = 100_000;

/// The reference population.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Its normalised rows.
    pub table: Cleartext,
}

/// The raw values of a synthetic record for each schema field (by input column name).
fn synth_values<'r>(schema: &Schema, r: &'r SynthRecord) -> Vec<&'r str> {
    let all = [
        r.first_name.as_str(),
        &r.middle_name,
        &r.last_name,
        &r.date_of_birth,
        &r.sex,
        &r.postcode,
        &r.address_line_1,
        &r.nhs_number,
    ];
    let header = &RECORD_HEADER[1..];
    schema
        .fields
        .iter()
        .map(|f| {
            header
                .iter()
                .position(|h| *h == f.column())
                .map_or("", |i| all[i])
        })
        .collect()
}

/// Agency A's records of a synthetic population of `people` (seed `seed`).
pub fn synthetic_records(people: usize, seed: u64) -> Result<Vec<SynthRecord>> {
    let mut data = generate(&SynthConfig {
        people,
        seed,
        ..SynthConfig::default()
    })
    .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(data.extracts.swap_remove(0).1)
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

    /// Agency A's extract of a synthetic population of `people` with seed `seed`, normalised.
    pub fn synthetic(schema: &Schema, people: usize, seed: u64) -> Result<Reference> {
        let records = synthetic_records(people, seed)?;
        let source = format!(
            "built-in: agency A of a synthetic population of {people} (seed {seed:#x}), {} rows",
            records.len()
        );
        let table = Cleartext::from_rows(
            schema,
            records
                .iter()
                .map(|r| (r.record_id.as_str(), synth_values(schema, r))),
            &source,
        );
        Ok(Reference { table })
    }

    /// The default reference ([`REFERENCE_PEOPLE`], [`REFERENCE_SEED`]).
    pub fn default_for(schema: &Schema) -> Result<Reference> {
        Reference::synthetic(schema, REFERENCE_PEOPLE, REFERENCE_SEED)
    }

    /// Where it came from.
    pub fn source(&self) -> &str {
        &self.table.source
    }
}

/// The default reference population as CSV text (the synthetic extract's own columns), for
/// `pseudolink audit --export-reference`.
pub fn default_reference_csv() -> Result<String> {
    let records = synthetic_records(REFERENCE_PEOPLE, REFERENCE_SEED)?;
    let mut out = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let io = |e: csv::Error| Error::Invalid(format!("cannot write the reference: {e}"));
        // The header comes from the record's field names, which are RECORD_HEADER.
        for r in &records {
            w.serialize(r).map_err(io)?;
        }
        w.flush()
            .map_err(|e| Error::Invalid(format!("cannot write the reference: {e}")))?;
    }
    String::from_utf8(out).map_err(|e| Error::Invalid(e.to_string()))
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
    fn the_synthetic_reference_is_deterministic_and_normalised() {
        let schema = Schema::example();
        let a = Reference::synthetic(&schema, 500, 3).unwrap();
        let b = Reference::synthetic(&schema, 500, 3).unwrap();
        assert_eq!(a.table.rows, b.table.rows);
        assert!(a.table.len() > 250);
        let named = a.table.rows.iter().filter(|r| r[0].is_some()).count();
        assert!(named * 10 > a.table.len() * 9);
        for r in &a.table.rows {
            if let Some(Value::Text(t)) = &r[0] {
                assert_eq!(t, &t.to_lowercase());
            }
        }
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
