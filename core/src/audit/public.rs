//! The attacker's public knowledge: a list of name frequencies.
//!
//! A CSV file with the header `kind,name,count` and an optional fourth column `group`: `kind` is
//! `first` or `last`, `name` any spelling (it is normalised as pseudolink normalises names), and
//! `count` how often the name occurs. `group` narrows a row to a part of the population (the
//! built-in list uses the year of birth, `2014`), for attackers who know per-year statistics.
//!
//! Without a file, [`PublicNames::synthetic`] is used: the names of an independent synthetic
//! population (the generator of `pseudolink synth`, another seed), which plays the part of
//! published name statistics for the synthetic extracts.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Location, Result};
use crate::normalise::date::{normalise_date, DateOptions};
use crate::normalise::name::{normalise_name, NameOptions};
use crate::schema::{FieldKind, FieldSpec, Transform as Level};
use crate::synth::{generate, SynthConfig};

/// Seed of the built-in public list's population (independent of `pseudolink synth`'s default).
pub const PUBLIC_SEED: u64 = 0x005e_ed0f_7075_6c69;
/// Size of the built-in public list's population.
pub const PUBLIC_PEOPLE: usize = 50_000;

/// Which list a name field is aligned with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameKind {
    /// Given names (first and middle names).
    First,
    /// Family names.
    Last,
}

impl NameKind {
    /// `first` or `last`.
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::First => "first",
            NameKind::Last => "last",
        }
    }

    /// The list a schema field is attacked with: fields whose name holds `last`, `surname` or
    /// `family` are family names, other name fields given names.
    pub fn of_field(field: &FieldSpec) -> Option<NameKind> {
        if field.kind != FieldKind::Name {
            return None;
        }
        let n = field.name.as_str();
        if n.contains("last") || n.contains("surname") || n.contains("family") {
            Some(NameKind::Last)
        } else {
            Some(NameKind::First)
        }
    }
}

/// Name frequencies, by kind, normalised name and group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicNames {
    /// `(kind, group, name) -> count`; the group is `""` when none was given.
    counts: BTreeMap<(NameKind, String, String), u64>,
    /// The groups present per kind.
    groups: std::collections::BTreeSet<(NameKind, String)>,
    /// Where the list came from, for reports.
    pub source: String,
}

impl PublicNames {
    /// Adds `count` occurrences of a normalised name.
    pub fn add(&mut self, kind: NameKind, group: &str, name: &str, count: u64) {
        *self
            .counts
            .entry((kind, group.to_string(), name.to_string()))
            .or_default() += count;
        if !group.is_empty() && !self.groups.contains(&(kind, group.to_string())) {
            self.groups.insert((kind, group.to_string()));
        }
    }

    /// Whether the list has rows of `kind` in `group`.
    pub fn has_group(&self, kind: NameKind, group: &str) -> bool {
        self.groups.contains(&(kind, group.to_string()))
    }

    /// Whether the list has per-group rows.
    pub fn has_groups(&self) -> bool {
        !self.groups.is_empty()
    }

    /// Number of distinct names of `kind`.
    pub fn distinct(&self, kind: NameKind) -> usize {
        self.ranked(kind, None, None).len()
    }

    /// The names of `kind`, most frequent first (ties by name), summed over groups unless
    /// `group` is given, and mapped through `level` (e.g. to Soundex codes) when given.
    /// A group absent from the list gives the whole list.
    pub fn ranked(
        &self,
        kind: NameKind,
        group: Option<&str>,
        level: Option<Level>,
    ) -> Vec<(String, u64)> {
        let in_group = group.filter(|g| self.has_group(kind, g));
        let mut sums: BTreeMap<String, u64> = BTreeMap::new();
        for ((k, g, name), n) in &self.counts {
            if *k != kind || in_group.is_some_and(|want| want != g) {
                continue;
            }
            let key = match level {
                None => Some(name.clone()),
                Some(l) => crate::encode::Value::Text(name.clone())
                    .level(l)
                    .map(|t| t.to_string()),
            };
            if let Some(key) = key {
                *sums.entry(key).or_default() += n;
            }
        }
        let mut out: Vec<(String, u64)> = sums.into_iter().collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// Reads a list (see the module documentation). Names that normalise to nothing are skipped.
    pub fn from_csv(path: &Path) -> Result<PublicNames> {
        let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let loc = |line: u64| Location::at(Some(path), line);
        let header = reader
            .headers()
            .map_err(|e| Error::input(loc(1), format!("malformed CSV: {e}")))?
            .clone();
        let cols: Vec<&str> = header.iter().map(str::trim).collect();
        if cols.get(..3) != Some(&["kind", "name", "count"][..]) {
            return Err(Error::input(
                loc(1),
                "a name list starts with the header kind,name,count (and optionally ,group)",
            ));
        }
        let options = NameOptions { drop_titles: false };
        let mut list = PublicNames {
            source: path.display().to_string(),
            ..PublicNames::default()
        };
        for row in reader.records() {
            let row = row.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                Error::input(loc(line), format!("malformed CSV: {e}"))
            })?;
            let line = row.position().map(|p| p.line()).unwrap_or(0);
            let kind = match row.get(0).map(str::trim) {
                Some("first") => NameKind::First,
                Some("last") => NameKind::Last,
                other => {
                    return Err(Error::input(
                        loc(line).field("kind"),
                        format!(
                            "kind must be 'first' or 'last', not '{}'",
                            other.unwrap_or("")
                        ),
                    ))
                }
            };
            let count: u64 = row
                .get(2)
                .map(str::trim)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| {
                    Error::input(loc(line).field("count"), "count must be a whole number")
                })?;
            let group = row.get(3).map(str::trim).unwrap_or("");
            if let Ok(name) = normalise_name(row.get(1).unwrap_or(""), &options) {
                list.add(kind, group, &name, count);
            }
        }
        if list.counts.is_empty() {
            return Err(Error::input(loc(1), "the name list holds no names"));
        }
        Ok(list)
    }

    /// The list as CSV text (`kind,name,count,group`), in a stable order.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("kind,name,count,group\n");
        for ((kind, group, name), n) in &self.counts {
            let mut cell = Vec::new();
            crate::encode::record::write_csv_cell(name, &mut cell);
            out.push_str(&format!(
                "{},{},{n},{group}\n",
                kind.as_str(),
                String::from_utf8_lossy(&cell)
            ));
        }
        out
    }

    /// The built-in list: first, middle and last names of a synthetic population of
    /// [`PUBLIC_PEOPLE`] (seed [`PUBLIC_SEED`]), grouped by year of birth.
    pub fn synthetic() -> Result<PublicNames> {
        PublicNames::synthetic_of(PUBLIC_PEOPLE, PUBLIC_SEED)
    }

    /// Like [`synthetic`](Self::synthetic) for another size and seed.
    pub fn synthetic_of(people: usize, seed: u64) -> Result<PublicNames> {
        let data = generate(&SynthConfig {
            people,
            seed,
            coverage: 0.0,
            ..SynthConfig::default()
        })?;
        let options = NameOptions { drop_titles: false };
        let Some(today) = crate::normalise::date::Date::new(2026, 1, 1) else {
            return Err(Error::Invalid(
                "the synthetic reference date is invalid".into(),
            ));
        };
        let dates = DateOptions {
            century_pivot: crate::schema::DEFAULT_CENTURY_PIVOT,
            min_year: crate::schema::DEFAULT_MIN_YEAR,
            today,
        };
        let mut list = PublicNames {
            source: format!(
                "built-in: names of a synthetic population of {people} (seed {seed:#x})"
            ),
            ..PublicNames::default()
        };
        for person in 0..data.people() as u64 {
            let Some(r) = data.clean_record(person) else {
                continue;
            };
            let year = normalise_date(&r.date_of_birth, &dates)
                .map(|d| format!("{:04}", d.year))
                .unwrap_or_default();
            for (kind, raw) in [
                (NameKind::First, &r.first_name),
                (NameKind::First, &r.middle_name),
                (NameKind::Last, &r.last_name),
            ] {
                if let Ok(name) = normalise_name(raw, &options) {
                    list.add(kind, &year, &name, 1);
                }
            }
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip_and_ranking() {
        let mut list = PublicNames::default();
        list.add(NameKind::First, "2014", "oliver", 5);
        list.add(NameKind::First, "2015", "oliver", 4);
        list.add(NameKind::First, "2015", "amelia", 7);
        list.add(NameKind::Last, "", "smith", 3);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("names.csv");
        std::fs::write(&path, list.to_csv()).unwrap();
        let back = PublicNames::from_csv(&path).unwrap();
        assert_eq!(back.counts, list.counts);
        assert_eq!(
            list.ranked(NameKind::First, None, None),
            vec![("oliver".to_string(), 9), ("amelia".to_string(), 7)]
        );
        assert_eq!(
            list.ranked(NameKind::First, Some("2015"), None)[0].0,
            "amelia"
        );
        assert_eq!(list.ranked(NameKind::First, Some("1999"), None).len(), 2);
        assert_eq!(
            list.ranked(NameKind::First, None, Some(Level::Initial)),
            vec![("o".to_string(), 9), ("a".to_string(), 7)]
        );
        assert!(list.has_groups());
    }

    #[test]
    fn bad_lists_are_refused_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("names.csv");
        for (text, want) in [
            ("name,count\nx,1\n", "header"),
            ("kind,name,count\nmiddle,x,1\n", "line 2"),
            ("kind,name,count\nfirst,x,lots\n", "whole number"),
            ("kind,name,count\n", "no names"),
        ] {
            std::fs::write(&path, text).unwrap();
            let e = PublicNames::from_csv(&path).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn the_built_in_list_is_deterministic_and_zipf_like() {
        let a = PublicNames::synthetic_of(3000, 1).unwrap();
        let b = PublicNames::synthetic_of(3000, 1).unwrap();
        assert_eq!(a, b);
        let first = a.ranked(NameKind::First, None, None);
        assert!(first.len() > 100);
        assert!(first[0].1 > 10 * first[first.len() - 1].1);
        assert!(a.has_groups());
    }
}
