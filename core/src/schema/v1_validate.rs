//! Checks of a parsed schema that serde cannot express, each reported with its JSON path.

use std::collections::HashSet;

use super::{FieldKind, Schema, SCHEMA_VERSION};
use crate::error::{Error, Result};
use crate::schema::validate::{check_bloom, is_identifier};

fn check_thresholds(path: &str, values: &[f64]) -> Result<()> {
    for (i, t) in values.iter().enumerate() {
        if !(t.is_finite() && *t > 0.0 && *t <= 1.0) {
            return Err(Error::schema(
                format!("{path}[{i}]"),
                format!("threshold {t} must be greater than 0 and at most 1"),
            ));
        }
        if i > 0 && values[i - 1] <= *t {
            return Err(Error::schema(
                format!("{path}[{i}]"),
                "thresholds must be strictly descending (best band first)",
            ));
        }
    }
    Ok(())
}

impl Schema {
    /// Checks everything serde cannot: versions, names, ranges and cross-references.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.version != SCHEMA_VERSION {
            return Err(Error::schema(
                "version",
                format!(
                    "unsupported schema version {}; this pseudolink reads version {SCHEMA_VERSION}",
                    self.version
                ),
            ));
        }
        if self.record_id.trim().is_empty() {
            return Err(Error::schema(
                "record_id",
                "the record id column name must not be empty",
            ));
        }
        if self.fields.is_empty() {
            return Err(Error::schema("fields", "a schema needs at least one field"));
        }
        let mut names = HashSet::new();
        let mut columns = HashSet::from([self.record_id.as_str()]);
        for (i, f) in self.fields.iter().enumerate() {
            let p = format!("fields[{i}]");
            if !is_identifier(&f.name) {
                return Err(Error::schema(
                    format!("{p}.name"),
                    format!(
                        "field name '{}' must start with a lower-case letter and hold only a-z, 0-9 and _ (at most 64)",
                        f.name
                    ),
                ));
            }
            if !names.insert(f.name.as_str()) {
                return Err(Error::schema(
                    format!("{p}.name"),
                    format!("field '{}' is defined twice", f.name),
                ));
            }
            if f.column().trim().is_empty() {
                return Err(Error::schema(
                    format!("{p}.column"),
                    "the column name must not be empty",
                ));
            }
            if !columns.insert(f.column()) {
                return Err(Error::schema(
                    format!("{p}.column"),
                    format!(
                        "column '{}' is used twice (or is the record id column)",
                        f.column()
                    ),
                ));
            }
            if let Some(g) = &f.key_group {
                if !is_identifier(g) {
                    return Err(Error::schema(
                        format!("{p}.key_group"),
                        "a key group must start with a lower-case letter and hold only a-z, 0-9 and _",
                    ));
                }
            }
            self.validate_normalise(&p, i)?;
            if let Some(b) = &f.bloom {
                check_bloom(&format!("{p}.bloom"), b.bits, b.q, b.xor_fold)?;
                if !(1..=64).contains(&b.hashes) {
                    return Err(Error::schema(
                        format!("{p}.bloom.hashes"),
                        "hashes must be from 1 to 64",
                    ));
                }
                if matches!(f.kind, FieldKind::Sex) {
                    return Err(Error::schema(
                        format!("{p}.bloom"),
                        "a Bloom filter of a sex field makes no sense",
                    ));
                }
            }
            let mut seen = HashSet::new();
            for (j, level) in f.levels.iter().enumerate() {
                if !super::allowed_levels(f.kind).contains(level) {
                    let allowed: Vec<&str> = super::allowed_levels(f.kind)
                        .iter()
                        .map(|l| l.as_str())
                        .collect();
                    return Err(Error::schema(
                        format!("{p}.levels[{j}]"),
                        format!(
                            "level '{}' does not apply to a {:?} field (allowed: {})",
                            level.as_str(),
                            f.kind,
                            if allowed.is_empty() {
                                "none".to_string()
                            } else {
                                allowed.join(", ")
                            }
                        ),
                    ));
                }
                if !seen.insert(*level) {
                    return Err(Error::schema(
                        format!("{p}.levels[{j}]"),
                        "level listed twice",
                    ));
                }
            }
            if !f.token && f.bloom.is_none() && f.levels.is_empty() {
                return Err(Error::schema(
                    p,
                    format!(
                        "field '{}' encodes nothing: enable token, bloom or levels, or remove it",
                        f.name
                    ),
                ));
            }
            self.validate_compare(&p, i)?;
        }
        // Salts refer to other fields: checked once every field is known to be valid itself.
        for i in 0..self.fields.len() {
            self.validate_salt(&format!("fields[{i}]"), i)?;
        }
        self.validate_blocking()?;
        self.validate_record_bloom()?;
        if let Some(rules) = &self.link.training_rules {
            for (i, name) in rules.iter().enumerate() {
                if !self.blocking.iter().any(|r| &r.name == name) {
                    return Err(Error::schema(
                        format!("link.training_rules[{i}]"),
                        format!("no blocking rule named '{name}'"),
                    ));
                }
            }
        }
        if self.link.max_block_size < 2 {
            return Err(Error::schema("link.max_block_size", "must be at least 2"));
        }
        if !(self.link.em_tolerance.is_finite() && self.link.em_tolerance > 0.0) {
            return Err(Error::schema(
                "link.em_tolerance",
                "must be a positive number",
            ));
        }
        if self.link.em_max_iterations == 0 {
            return Err(Error::schema(
                "link.em_max_iterations",
                "must be at least 1",
            ));
        }
        Ok(())
    }

    fn validate_normalise(&self, p: &str, i: usize) -> Result<()> {
        let f = &self.fields[i];
        let n = &f.normalise;
        if n.drop_titles.is_some() && f.kind != FieldKind::Name {
            return Err(Error::schema(
                format!("{p}.normalise.drop_titles"),
                "applies only to name fields",
            ));
        }
        if (n.century_pivot.is_some() || n.min_year.is_some()) && f.kind != FieldKind::Date {
            return Err(Error::schema(
                format!("{p}.normalise"),
                "century_pivot and min_year apply only to date fields",
            ));
        }
        if n.century_pivot.is_some_and(|c| c > 99) {
            return Err(Error::schema(
                format!("{p}.normalise.century_pivot"),
                "must be from 0 to 99",
            ));
        }
        if n.min_year.is_some_and(|y| !(1000..=9999).contains(&y)) {
            return Err(Error::schema(
                format!("{p}.normalise.min_year"),
                "must be a four-digit year",
            ));
        }
        Ok(())
    }

    fn validate_compare(&self, p: &str, i: usize) -> Result<()> {
        let f = &self.fields[i];
        let Some(c) = &f.compare else { return Ok(()) };
        let p = format!("{p}.compare");
        if !c.dice.is_empty() && f.bloom.is_none() {
            return Err(Error::schema(
                format!("{p}.dice"),
                "Dice bands need a Bloom filter: add \"bloom\" to the field",
            ));
        }
        check_thresholds(&format!("{p}.dice"), &c.dice)?;
        for (j, level) in c.levels.iter().enumerate() {
            if !f.levels.contains(level) {
                return Err(Error::schema(
                    format!("{p}.levels[{j}]"),
                    format!(
                        "level '{}' is compared but not encoded: add it to the field's levels",
                        level.as_str()
                    ),
                ));
            }
        }
        if c.term_frequency && !f.token {
            return Err(Error::schema(
                format!("{p}.term_frequency"),
                "term-frequency adjustment needs the exact token",
            ));
        }
        if let Some(other) = &c.cross_with {
            let Some(o) = self.field_index(other) else {
                return Err(Error::schema(
                    format!("{p}.cross_with"),
                    format!("no field named '{other}'"),
                ));
            };
            let o = &self.fields[o];
            if o.name == f.name {
                return Err(Error::schema(
                    format!("{p}.cross_with"),
                    "a field cannot be crossed with itself",
                ));
            }
            if o.key_group() != f.key_group() || o.kind != f.kind {
                return Err(Error::schema(
                    format!("{p}.cross_with"),
                    format!("'{}' and '{}' must have the same kind and key_group to be compared crosswise", f.name, o.name),
                ));
            }
            if !(f.token && o.token) {
                return Err(Error::schema(
                    format!("{p}.cross_with"),
                    "crosswise comparison needs exact tokens on both fields",
                ));
            }
            if o.salt != f.salt {
                return Err(Error::schema(
                    format!("{p}.cross_with"),
                    format!(
                        "'{}' and '{}' are compared crosswise, so they must have the same salt",
                        f.name, o.name
                    ),
                ));
            }
        }
        if let Some(clear) = &c.clear {
            if clear.thresholds.is_empty() {
                return Err(Error::schema(
                    format!("{p}.clear.thresholds"),
                    "give at least one threshold",
                ));
            }
            check_thresholds(&format!("{p}.clear.thresholds"), &clear.thresholds)?;
        }
        Ok(())
    }

    fn validate_salt(&self, p: &str, i: usize) -> Result<()> {
        let f = &self.fields[i];
        let Some(salt) = &f.salt else { return Ok(()) };
        let p = format!("{p}.salt");
        let Some(key) = self.parse_key(salt) else {
            return Err(Error::schema(
                p,
                format!(
                    "'{salt}' is not a field, or not 'field.level' with a level the field encodes"
                ),
            ));
        };
        if key.field == i {
            return Err(Error::schema(p, "a field cannot be salted with itself"));
        }
        if self.fields[key.field].salt.is_some() {
            return Err(Error::schema(
                p,
                format!(
                    "the salt field '{}' is itself salted; salt with an unsalted field",
                    self.fields[key.field].name
                ),
            ));
        }
        Ok(())
    }

    fn validate_record_bloom(&self) -> Result<()> {
        let Some(r) = &self.record_bloom else {
            return Ok(());
        };
        let p = "record_bloom";
        check_bloom(p, r.bits, r.q, r.xor_fold)?;
        if self.field_index("record").is_some() {
            return Err(Error::schema(
                p,
                "a field named 'record' would clash with the column record.bloom: rename it",
            ));
        }
        if r.fields.is_empty() {
            return Err(Error::schema(
                format!("{p}.fields"),
                "a record-level filter needs at least one field",
            ));
        }
        let mut seen = HashSet::new();
        for (j, rf) in r.fields.iter().enumerate() {
            let fp = format!("{p}.fields[{j}]");
            let Some(index) = self.field_index(&rf.field) else {
                return Err(Error::schema(
                    format!("{fp}.field"),
                    format!("no field named '{}'", rf.field),
                ));
            };
            if !matches!(self.fields[index].kind, FieldKind::Name | FieldKind::Text) {
                return Err(Error::schema(
                    format!("{fp}.field"),
                    format!(
                        "'{}' is a {:?} field; only name and text fields go into a record-level filter",
                        rf.field, self.fields[index].kind
                    ),
                ));
            }
            if !seen.insert(rf.field.as_str()) {
                return Err(Error::schema(
                    format!("{fp}.field"),
                    format!("field '{}' is listed twice", rf.field),
                ));
            }
            if !(1..=64).contains(&rf.hashes) {
                return Err(Error::schema(
                    format!("{fp}.hashes"),
                    "hashes must be from 1 to 64",
                ));
            }
        }
        if let Some(c) = &r.compare {
            if c.dice.is_empty() {
                return Err(Error::schema(
                    format!("{p}.compare.dice"),
                    "give at least one Dice threshold",
                ));
            }
            check_thresholds(&format!("{p}.compare.dice"), &c.dice)?;
        }
        Ok(())
    }

    fn validate_blocking(&self) -> Result<()> {
        let mut names = HashSet::new();
        for (i, rule) in self.blocking.iter().enumerate() {
            let p = format!("blocking[{i}]");
            if !is_identifier(&rule.name) {
                return Err(Error::schema(
                    format!("{p}.name"),
                    "a rule name must start with a lower-case letter and hold only a-z, 0-9 and _",
                ));
            }
            if !names.insert(rule.name.as_str()) {
                return Err(Error::schema(
                    format!("{p}.name"),
                    format!("rule '{}' is defined twice", rule.name),
                ));
            }
            if rule.keys.is_empty() {
                return Err(Error::schema(
                    format!("{p}.keys"),
                    "a rule needs at least one key",
                ));
            }
            for (j, key) in rule.keys.iter().enumerate() {
                if self.parse_key(key).is_none() {
                    return Err(Error::schema(
                        format!("{p}.keys[{j}]"),
                        format!("'{key}' is not a field, or not 'field.level' with a level the field encodes"),
                    ));
                }
            }
        }
        Ok(())
    }
}
