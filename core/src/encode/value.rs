//! A field value after normalisation, and how a raw string becomes one.

use std::borrow::Cow;

use crate::normalise::date::{Date, DateOptions};
use crate::normalise::name::NameOptions;
use crate::normalise::postcode::Postcode;
use crate::normalise::sex::Sex;
use crate::normalise::{date, name, nhs, postcode, sex, text, Normalised};
use crate::schema::{FieldKind, FieldSpec, Level, DEFAULT_CENTURY_PIVOT, DEFAULT_MIN_YEAR};

use super::levels;

/// A normalised field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A name, a free-text value or an NHS number, as its normalised string.
    Text(String),
    /// A date.
    Date(Date),
    /// A postcode.
    Postcode(Postcode),
    /// Sex.
    Sex(Sex),
}

impl Value {
    /// The canonical string that is tokenised and cut into q-grams.
    pub fn canonical(&self) -> Cow<'_, str> {
        match self {
            Value::Text(s) => Cow::Borrowed(s),
            Value::Date(d) => Cow::Owned(d.iso()),
            Value::Postcode(p) => Cow::Borrowed(p.as_str()),
            Value::Sex(s) => Cow::Borrowed(s.as_str()),
        }
    }

    /// The string of a level of this value, `None` when the level does not exist for it.
    pub fn level(&self, level: Level) -> Option<String> {
        match (self, level) {
            (Value::Date(d), Level::Swapped) => d.swapped().map(|s| s.iso()),
            (Value::Date(d), Level::YearMonth) => Some(levels::year_month(d)),
            (Value::Date(d), Level::Year) => Some(levels::year(d)),
            (Value::Postcode(p), Level::Sector) => Some(p.sector().to_string()),
            (Value::Postcode(p), Level::District) => Some(p.district().to_string()),
            (Value::Postcode(p), Level::Area) => Some(p.area().to_string()),
            (Value::Text(s), Level::Soundex) => levels::soundex(s),
            (Value::Text(s), Level::Initial) => levels::initial(s),
            _ => None,
        }
    }
}

/// Normalises raw strings for one field according to its schema entry.
#[derive(Debug, Clone)]
pub struct FieldNormaliser {
    kind: FieldKind,
    name: NameOptions,
    date: DateOptions,
}

impl FieldNormaliser {
    /// The normaliser of `spec`; `today` bounds plausible dates.
    pub fn new(spec: &FieldSpec, today: Date) -> Self {
        FieldNormaliser {
            kind: spec.kind,
            name: NameOptions {
                drop_titles: spec.normalise.drop_titles.unwrap_or(true),
            },
            date: DateOptions {
                century_pivot: spec
                    .normalise
                    .century_pivot
                    .unwrap_or(DEFAULT_CENTURY_PIVOT),
                min_year: spec.normalise.min_year.unwrap_or(DEFAULT_MIN_YEAR),
                today,
            },
        }
    }

    /// Normalises one raw value.
    pub fn normalise(&self, raw: &str) -> Normalised<Value> {
        match self.kind {
            FieldKind::Name => name::normalise_name(raw, &self.name).map(Value::Text),
            FieldKind::Text => text::normalise_text(raw).map(Value::Text),
            FieldKind::Date => date::normalise_date(raw, &self.date).map(Value::Date),
            FieldKind::Postcode => postcode::normalise_postcode(raw).map(Value::Postcode),
            FieldKind::NhsNumber => nhs::normalise_nhs_number(raw).map(Value::Text),
            FieldKind::Sex => sex::normalise_sex(raw).map(Value::Sex),
        }
    }
}
