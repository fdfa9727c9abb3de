//! Keys: a field's normalised value, or a value derived from it (a *transform*), as named in
//! token specs, comparison levels and blocking rules: `first_name`, `date_of_birth.year`,
//! `last_name.deletions`.
//!
//! A transform is a function of one field's normalised value. Most give one value
//! (`postcode.sector` is `CV1 2`); **set transforms** give several (`first_name.deletions`, the
//! name with each one character left out, and the name itself), and two records agree on a set
//! transform when their sets share a value. Equal values have equal transforms, so a record pair
//! that agrees on a field also agrees on every transform of it ([`Key::implied_by`]).

use serde::{Deserialize, Serialize};

use super::FieldKind;

/// A value derived from one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// A date with day and month exchanged (none when the day is above 12; a date whose day
    /// equals its month is its own swap).
    /// Hashed in the same domain as the date itself, so that a swapped date can be compared with
    /// the other record's date.
    Swapped,
    /// Year and month of a date (`2014-03`).
    YearMonth,
    /// Year of a date (`2014`).
    Year,
    /// A date with its day and month in ascending order (`2014-03-09` and `2014-09-03` both give
    /// `2014-03-09`): equal for equal dates and for dates whose day and month were swapped.
    Unordered,
    /// Set: the eight digits of a date (`yyyymmdd`), each one in turn replaced by a wildcard.
    /// Two dates that differ in at most one digit share one of them.
    DigitMasks,
    /// Postcode sector (`CV1 2`).
    Sector,
    /// Postcode district (`CV1`).
    District,
    /// Postcode area (`CV`).
    Area,
    /// American Soundex code of a name (`R163`).
    Soundex,
    /// First letter of a name.
    Initial,
    /// Set: a name with each of its first [`MAX_DELETIONS`] characters left out in turn, and the
    /// name itself. Two names within one edit (one letter added, left out, changed, or two
    /// neighbours exchanged) share one of them.
    Deletions,
    /// The house number and street of an address line: from its last word holding a digit to the
    /// end (`flat 3 45 far gosford street` gives `45 far gosford street`), so flat numbers and
    /// `3/45` styles do not matter; the whole line when it has no digit.
    NumberStreet,
    /// Set of [`NICKNAME_SET_SIZE`]: a name, the formal names it is a nickname of
    /// (from a public list, `core/data/nicknames.csv`: `peggy` gives `peggy` and
    /// `margaret`), and padding values that equal no name, so that every name's set has the same
    /// size and the size says nothing. Two names agree when one is a nickname of the other or
    /// both are nicknames of one formal name (`maggie`, `peggy`).
    Nickname,
}

/// Values in a [`Transform::Nickname`] set: the name and up to
/// 8 formal names, padded.
pub const NICKNAME_SET_SIZE: usize = 1 + crate::normalise::nickname::MAX_FORMAL_NAMES;

/// Characters of a name whose deletion is a [`Transform::Deletions`] value (longer names keep
/// their first this many).
pub const MAX_DELETIONS: usize = 15;

impl Transform {
    /// Every transform, in a fixed order.
    pub const ALL: [Transform; 13] = [
        Transform::Swapped,
        Transform::YearMonth,
        Transform::Year,
        Transform::Unordered,
        Transform::DigitMasks,
        Transform::Sector,
        Transform::District,
        Transform::Area,
        Transform::Soundex,
        Transform::Initial,
        Transform::Deletions,
        Transform::NumberStreet,
        Transform::Nickname,
    ];

    /// The name used in keys and column names (`year_month`).
    pub fn as_str(self) -> &'static str {
        match self {
            Transform::Swapped => "swapped",
            Transform::YearMonth => "year_month",
            Transform::Year => "year",
            Transform::Unordered => "unordered",
            Transform::DigitMasks => "digit_masks",
            Transform::Sector => "sector",
            Transform::District => "district",
            Transform::Area => "area",
            Transform::Soundex => "soundex",
            Transform::Initial => "initial",
            Transform::Deletions => "deletions",
            Transform::NumberStreet => "number_street",
            Transform::Nickname => "nickname",
        }
    }

    /// The transform called `name`.
    pub fn parse(name: &str) -> Option<Transform> {
        Transform::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The kind of field it applies to.
    pub fn kind(self) -> FieldKind {
        match self {
            Transform::Swapped
            | Transform::YearMonth
            | Transform::Year
            | Transform::Unordered
            | Transform::DigitMasks => FieldKind::Date,
            Transform::Sector | Transform::District | Transform::Area => FieldKind::Postcode,
            Transform::Soundex
            | Transform::Initial
            | Transform::Deletions
            | Transform::Nickname => FieldKind::Name,
            Transform::NumberStreet => FieldKind::Text,
        }
    }

    /// Whether it gives a set of values.
    pub fn is_set(self) -> bool {
        matches!(
            self,
            Transform::DigitMasks | Transform::Deletions | Transform::Nickname
        )
    }

    /// The hash domain of its values: values of one domain and key group are hashed alike, so
    /// they can be compared with each other (a swapped date with a date).
    pub fn domain(self) -> &'static str {
        match self {
            Transform::Swapped => "value",
            other => other.as_str(),
        }
    }
}

/// A parsed key: a field (by index in the schema) and an optional transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Index of the field in the schema.
    pub field: usize,
    /// The transform, or `None` for the field's normalised value.
    pub transform: Option<Transform>,
}

impl Key {
    /// Whether the key gives a set of values.
    pub fn is_set(self) -> bool {
        self.transform.is_some_and(Transform::is_set)
    }

    /// The hash domain of its values (`value` for the field itself).
    pub fn domain(self) -> &'static str {
        self.transform.map_or("value", Transform::domain)
    }

    /// Whether agreement on `other` implies agreement on `self`: a key is implied by itself, and
    /// a transform by its field's value (equal values have equal transforms).
    pub fn implied_by(self, other: Key) -> bool {
        self == other || (other.transform.is_none() && self.field == other.field)
    }
}

/// Splits `field.transform` into its parts (`None` transform for a bare field name).
pub fn split_key(key: &str) -> (&str, Option<&str>) {
    match key.split_once('.') {
        Some((f, t)) => (f, Some(t)),
        None => (key, None),
    }
}
