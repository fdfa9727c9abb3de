//! Checks of a parsed schema that serde cannot express, each reported with its JSON path.

use std::collections::HashSet;

use super::{FieldKind, LevelSpec, Schema, SCHEMA_VERSION};
use crate::error::{Error, Result};

/// Whether `s` is a name: a lower-case letter, then lower-case letters, digits and `_`, at most
/// 64 characters.
pub(super) fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && s.as_bytes().first().is_some_and(|b| b.is_ascii_lowercase())
}

/// Whether `t` is a threshold: greater than 0 and at most 1.
fn is_threshold(t: f64) -> bool {
    t.is_finite() && t > 0.0 && t <= 1.0
}

/// Checks the shared settings of a filter at JSON path `path`.
pub(super) fn check_bloom(path: &str, bits: u32, q: u8, xor_fold: bool) -> Result<()> {
    if bits == 0 || !bits.is_multiple_of(64) || bits > 8192 {
        return Err(Error::schema(
            format!("{path}.bits"),
            format!("{bits} bits: a filter must be a multiple of 64 bits, from 64 to 8192"),
        ));
    }
    if !(1..=4).contains(&q) {
        return Err(Error::schema(format!("{path}.q"), "q must be from 1 to 4"));
    }
    if xor_fold && !bits.is_multiple_of(128) {
        return Err(Error::schema(
            format!("{path}.xor_fold"),
            format!("{bits} bits cannot be folded: a folded filter needs a multiple of 128 bits"),
        ));
    }
    Ok(())
}

/// Most fields a schema may have (the pair statistics keep which fields a record has in 32 bits).
const MAX_FIELDS: usize = 32;

/// Most bits of an agreement pattern of the pair statistics: fields, token keys and crossed keys.
const MAX_PATTERN_BITS: usize = 128;

/// The error of a schema of format version `version`, which this library does not read.
pub(super) fn unsupported_version(version: u64) -> Error {
    Error::schema(
        "version",
        format!(
            "unsupported schema version {version}; this pseudolink reads versions 1 and {SCHEMA_VERSION}"
        ),
    )
}

impl Schema {
    /// Checks everything serde cannot: versions, names, ranges and cross-references.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.version != SCHEMA_VERSION {
            return Err(unsupported_version(u64::from(self.version)));
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
        self.validate_fields()?;
        self.validate_tokens()?;
        self.validate_sizes()?;
        self.validate_filters()?;
        for (i, key) in self.household.iter().enumerate() {
            self.check_key(&format!("household[{i}]"), key)?;
        }
        self.validate_link()
    }

    fn validate_fields(&self) -> Result<()> {
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

    /// Checks that `key` names a field, and a transform of its kind.
    fn check_key(&self, path: &str, key: &str) -> Result<()> {
        if self.parse_key(key).is_some() {
            return Ok(());
        }
        let (field, transform) = super::keys::split_key(key);
        let Some(index) = self.field_index(field) else {
            return Err(Error::schema(
                path,
                format!("'{key}': no field named '{field}'"),
            ));
        };
        let kind = self.fields[index].kind;
        let allowed: Vec<&str> = kind.transforms().map(|t| t.as_str()).collect();
        Err(Error::schema(
            path,
            format!(
                "'{key}': '{}' is not a transform of a {kind:?} field (allowed: {})",
                transform.unwrap_or_default(),
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    allowed.join(", ")
                }
            ),
        ))
    }

    fn validate_tokens(&self) -> Result<()> {
        let mut seen: Vec<Vec<super::Key>> = Vec::new();
        for (i, t) in self.tokens.iter().enumerate() {
            let p = format!("tokens[{i}]");
            if t.keys.is_empty() {
                return Err(Error::schema(p, "a token needs at least one key"));
            }
            for (j, k) in t.keys.iter().enumerate() {
                self.check_key(&format!("{p}[{j}]"), k)?;
            }
            let mut keys: Vec<super::Key> =
                t.keys.iter().filter_map(|k| self.parse_key(k)).collect();
            keys.sort();
            if keys.windows(2).any(|w| w[0] == w[1]) {
                return Err(Error::schema(p, "a key is listed twice"));
            }
            if keys.iter().filter(|k| k.is_set()).count() > 1 {
                return Err(Error::schema(
                    p,
                    "at most one key of a token may be a set transform (deletions, digit_masks)",
                ));
            }
            if seen.contains(&keys) {
                return Err(Error::schema(
                    p,
                    format!("a token of the keys {:?} is already defined", t.keys),
                ));
            }
            seen.push(keys);
        }
        Ok(())
    }

    /// The sizes the pair statistics can hold: which fields a record has is kept in 32 bits,
    /// and an agreement pattern (fields, keys, crossed keys) in 128.
    fn validate_sizes(&self) -> Result<()> {
        if self.fields.len() > MAX_FIELDS {
            return Err(Error::schema(
                "fields",
                format!(
                    "{} fields; at most {MAX_FIELDS} are supported",
                    self.fields.len()
                ),
            ));
        }
        let bits = crate::encode::pair_stats::Features::new(self).bits();
        if bits > MAX_PATTERN_BITS {
            return Err(Error::schema(
                "tokens",
                format!(
                    "{bits} fields, token keys and crossed keys in all; at most {MAX_PATTERN_BITS} are supported (the pair statistics keep one bit for each)"
                ),
            ));
        }
        Ok(())
    }

    fn validate_filters(&self) -> Result<()> {
        let mut names = HashSet::new();
        for (i, f) in self.filters.iter().enumerate() {
            let p = format!("filters[{i}]");
            if !is_identifier(&f.name) {
                return Err(Error::schema(
                    format!("{p}.name"),
                    "a filter name must start with a lower-case letter and hold only a-z, 0-9 and _",
                ));
            }
            if !names.insert(f.name.as_str()) {
                return Err(Error::schema(
                    format!("{p}.name"),
                    format!("filter '{}' is defined twice", f.name),
                ));
            }
            check_bloom(&p, f.bits, f.q, f.xor_fold)?;
            if f.fields.is_empty() {
                return Err(Error::schema(
                    format!("{p}.fields"),
                    "a filter needs at least one field",
                ));
            }
            let mut seen = HashSet::new();
            for (j, ff) in f.fields.iter().enumerate() {
                let fp = format!("{p}.fields[{j}]");
                let Some(index) = self.field_index(&ff.field) else {
                    return Err(Error::schema(
                        format!("{fp}.field"),
                        format!("no field named '{}'", ff.field),
                    ));
                };
                if !matches!(self.fields[index].kind, FieldKind::Name | FieldKind::Text) {
                    return Err(Error::schema(
                        format!("{fp}.field"),
                        format!(
                            "'{}' is a {:?} field; only name and text fields go into a filter",
                            ff.field, self.fields[index].kind
                        ),
                    ));
                }
                if !seen.insert(ff.field.as_str()) {
                    return Err(Error::schema(
                        format!("{fp}.field"),
                        format!("field '{}' is listed twice", ff.field),
                    ));
                }
                if !(1..=64).contains(&ff.hashes) {
                    return Err(Error::schema(
                        format!("{fp}.hashes"),
                        "hashes must be from 1 to 64",
                    ));
                }
            }
            for (j, k) in f.context.iter().enumerate() {
                self.check_key(&format!("{p}.context[{j}]"), k)?;
                if self.parse_key(k).is_some_and(|k| k.is_set()) {
                    return Err(Error::schema(
                        format!("{p}.context[{j}]"),
                        "a set transform cannot salt a filter",
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_link(&self) -> Result<()> {
        let link = &self.link;
        let mut names = HashSet::new();
        for (i, c) in link.comparisons.iter().enumerate() {
            let p = format!("link.comparisons[{i}]");
            if !is_identifier(&c.name) {
                return Err(Error::schema(
                    format!("{p}.name"),
                    "a comparison name must start with a lower-case letter and hold only a-z, 0-9 and _",
                ));
            }
            if !names.insert(c.name.as_str()) {
                return Err(Error::schema(
                    format!("{p}.name"),
                    format!("comparison '{}' is defined twice", c.name),
                ));
            }
            if c.levels.is_empty() {
                return Err(Error::schema(
                    format!("{p}.levels"),
                    "a comparison needs at least one level",
                ));
            }
            let mut level_names = HashSet::new();
            for (j, l) in c.levels.iter().enumerate() {
                let lp = format!("{p}.levels[{j}]");
                if l.name.is_empty()
                    || l.name.len() > 64
                    || matches!(l.name.as_str(), "else" | "missing" | "unknown")
                {
                    return Err(Error::schema(
                        format!("{lp}.name"),
                        "a level needs a name of at most 64 characters other than else, missing and unknown",
                    ));
                }
                if !level_names.insert(l.name.as_str()) {
                    return Err(Error::schema(
                        format!("{lp}.name"),
                        format!("level '{}' is defined twice", l.name),
                    ));
                }
                self.validate_level(&lp, l)?;
            }
            if c.household && link.household.is_none() {
                return Err(Error::schema(
                    format!("{p}.household"),
                    "household-aware u needs link.household (the comparison and levels that mean one household)",
                ));
            }
        }
        if let Some(h) = &link.household {
            let Some(c) = link.comparisons.iter().find(|c| c.name == h.comparison) else {
                return Err(Error::schema(
                    "link.household.comparison",
                    format!("no comparison named '{}'", h.comparison),
                ));
            };
            if h.levels.is_empty() {
                return Err(Error::schema(
                    "link.household.levels",
                    "give the levels that mean one household",
                ));
            }
            for (j, l) in h.levels.iter().enumerate() {
                if !c.levels.iter().any(|x| &x.name == l) {
                    return Err(Error::schema(
                        format!("link.household.levels[{j}]"),
                        format!("comparison '{}' has no level '{l}'", c.name),
                    ));
                }
            }
        }
        let mut rules = HashSet::new();
        for (i, r) in link.blocking.iter().enumerate() {
            let p = format!("link.blocking[{i}]");
            for (j, k) in r.keys.iter().enumerate() {
                self.check_key(&format!("{p}[{j}]"), k)?;
            }
            if self.token_index(&r.keys).is_none() {
                return Err(Error::schema(
                    p,
                    format!(
                        "no token of the keys {:?}: a blocking rule joins on a token column; add it to tokens",
                        r.keys
                    ),
                ));
            }
            if let Some([a, b]) = &r.cross {
                self.check_key(&format!("{p}.cross[0]"), a)?;
                self.check_key(&format!("{p}.cross[1]"), b)?;
                if !r.keys.contains(a) || r.keys.contains(b) {
                    return Err(Error::schema(
                        format!("{p}.cross"),
                        format!("cross[0] ('{a}') must be one of the rule's keys and cross[1] ('{b}') must not"),
                    ));
                }
                self.check_crossed(&format!("{p}.cross"), a, b)?;
                let crossed = r.crossed_keys().unwrap_or_default();
                if self.token_index(&crossed).is_none() {
                    return Err(Error::schema(
                        format!("{p}.cross"),
                        format!("no token of the crossed keys {crossed:?}: add it to tokens"),
                    ));
                }
                let signature = |keys: &[String]| {
                    self.token_index(keys)
                        .map(|t| self.signature(&self.token_keys(t)))
                };
                if signature(&crossed) != signature(&r.keys) {
                    return Err(Error::schema(
                        format!("{p}.cross"),
                        format!(
                            "the tokens of {:?} and {crossed:?} are hashed differently, so they cannot meet",
                            r.keys
                        ),
                    ));
                }
            }
            if !rules.insert(r.name()) {
                return Err(Error::schema(
                    p,
                    format!("rule '{}' is listed twice", r.name()),
                ));
            }
        }
        if let Some(train) = &link.training_rules {
            for (i, name) in train.iter().enumerate() {
                if !link.blocking.iter().any(|r| &r.name() == name) {
                    return Err(Error::schema(
                        format!("link.training_rules[{i}]"),
                        format!("no blocking rule named '{name}'"),
                    ));
                }
            }
        }
        if link.max_block_size < 2 {
            return Err(Error::schema("link.max_block_size", "must be at least 2"));
        }
        if !(link.em_tolerance.is_finite() && link.em_tolerance > 0.0) {
            return Err(Error::schema(
                "link.em_tolerance",
                "must be a positive number",
            ));
        }
        if link.em_max_iterations == 0 {
            return Err(Error::schema(
                "link.em_max_iterations",
                "must be at least 1",
            ));
        }
        if link.u_sample_pairs == 0 {
            return Err(Error::schema("link.u_sample_pairs", "must be at least 1"));
        }
        Ok(())
    }

    fn validate_level(&self, p: &str, l: &LevelSpec) -> Result<()> {
        let kinds = [
            l.keys.is_some(),
            l.cross.is_some(),
            l.dice.is_some() || l.filter.is_some(),
            l.similarity.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(Error::schema(
                p,
                "a level needs exactly one of keys, cross, dice (with filter) or similarity",
            ));
        }
        if let Some(keys) = &l.keys {
            if keys.is_empty() {
                return Err(Error::schema(format!("{p}.keys"), "give at least one key"));
            }
            for (j, k) in keys.iter().enumerate() {
                self.check_key(&format!("{p}.keys[{j}]"), k)?;
            }
        }
        if let Some([a, b]) = &l.cross {
            self.check_key(&format!("{p}.cross[0]"), a)?;
            self.check_key(&format!("{p}.cross[1]"), b)?;
            self.check_crossed(&format!("{p}.cross"), a, b)?;
        }
        if l.dice.is_some() || l.filter.is_some() {
            let (Some(t), Some(f)) = (l.dice, &l.filter) else {
                return Err(Error::schema(p, "a Dice level needs both filter and dice"));
            };
            let floor = f64::from(crate::encode::pair_stats::DICE_FLOOR)
                / f64::from(crate::encode::pair_stats::DICE_STEPS);
            if !(is_threshold(t) && t >= floor) {
                return Err(Error::schema(
                    format!("{p}.dice"),
                    format!(
                        "threshold {t} must be at least {floor} and at most 1 (random pairs \
                         of values reach Dice coefficients below {floor})"
                    ),
                ));
            }
            if !self.filters.iter().any(|x| &x.name == f) {
                return Err(Error::schema(
                    format!("{p}.filter"),
                    format!("no filter named '{f}'"),
                ));
            }
        }
        if let Some(s) = &l.similarity {
            let Some(index) = self.field_index(&s.field) else {
                return Err(Error::schema(
                    format!("{p}.similarity.field"),
                    format!("no field named '{}'", s.field),
                ));
            };
            if !matches!(self.fields[index].kind, FieldKind::Name | FieldKind::Text) {
                return Err(Error::schema(
                    format!("{p}.similarity.field"),
                    "string similarity applies to name and text fields",
                ));
            }
            if !is_threshold(s.threshold) {
                return Err(Error::schema(
                    format!("{p}.similarity.threshold"),
                    format!(
                        "threshold {} must be greater than 0 and at most 1",
                        s.threshold
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Crossed keys `a` and `b` must differ and be hashed alike (one key group, one kind of
    /// value), so that a token of one can equal a token of the other.
    fn check_crossed(&self, p: &str, a: &str, b: &str) -> Result<()> {
        let (ka, kb) = (self.parse_key(a), self.parse_key(b));
        if let (Some(ka), Some(kb)) = (ka, kb) {
            if ka == kb {
                return Err(Error::schema(p, "a key cannot be crossed with itself"));
            }
            let group = |k: super::Key| self.fields[k.field].key_group();
            if group(ka) != group(kb) || ka.domain() != kb.domain() {
                return Err(Error::schema(
                    p,
                    format!(
                        "'{a}' and '{b}' are hashed differently: crossed keys need one key_group and one kind of value"
                    ),
                ));
            }
        }
        Ok(())
    }
}
