//! Normalisation of person-record fields before they are hashed.
//!
//! Every agency taking part in a linkage runs its records through these
//! functions before hashing them with the shared secret, so two records that
//! describe the same person in slightly different ways (case, accents,
//! spacing, punctuation, date formats, ...) produce the same normalised value
//! and therefore the same hash.
//!
//! All normalisers share these properties:
//!
//! * **Deterministic**: the output depends only on the input (and, for dates,
//!   on the [`date::DateOptions`] passed in), never on locale, time zone or
//!   platform. Unicode behaviour is fixed by the Unicode tables of the Rust
//!   standard library and of the `unicode-normalization` crate that the build
//!   uses, so all agencies must use the same pseudolink release.
//! * **Idempotent**: normalising an already-normalised value returns it
//!   unchanged (for the string-valued normalisers, `f(f(x)) == f(x)`).
//! * **Total**: they never panic, whatever `&str` they are given. A value that
//!   cannot be used is reported as `Err(`[`MissingReason`]`)`, which says why
//!   it was treated as missing.
//!
//! | field | function | output |
//! |---|---|---|
//! | names | [`name::normalise_name`] | lower-case, accent-free, single-spaced words |
//! | dates | [`date::normalise_date`] | a validated [`date::Date`] |
//! | postcodes | [`postcode::normalise_postcode`] | a validated [`postcode::Postcode`] such as `CV1 2AB` |
//! | NHS numbers | [`nhs::normalise_nhs_number`] | 10 digits with a valid check digit |
//! | sex | [`sex::normalise_sex`] | [`sex::Sex::Male`] or [`sex::Sex::Female`] |
//! | free text (address line 1) | [`text::normalise_text`] | like names, digits kept, street abbreviations expanded |
//!
//! Leading and trailing whitespace (any Unicode white space, including tabs
//! and no-break spaces) and invisible characters such as a byte-order mark
//! (U+FEFF) or zero-width space (U+200B) are ignored by every normaliser; a
//! value made only of them is [`MissingReason::Empty`].

pub mod date;
pub mod name;
pub mod nhs;
pub mod nickname;
pub mod postcode;
pub mod sex;
pub mod text;

use std::fmt;

/// Why a value was treated as missing.
///
/// Serialised (with serde) as the same snake-case strings that
/// [`MissingReason::as_str`] returns.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MissingReason {
    /// Blank (empty or only white space), or nothing was left after
    /// normalisation (for example a name made only of digits or punctuation,
    /// or only of titles).
    Empty,
    /// The value does not parse: wrong format, wrong length, a character that
    /// is not allowed, or a failed check digit.
    Invalid,
    /// A date that has the shape of an accepted format but cannot exist,
    /// such as `31/02/2014` or month 13.
    Impossible,
    /// A real date that cannot be right for a person record: after the
    /// configured "today", or before the configured minimum year.
    Implausible,
    /// An explicit "unknown" code, such as sex `U`, `0`, `9` or `Not known`.
    Unknown,
    /// Set by the encoder, never by a normaliser: the value was valid but the field is salted
    /// (see the schema's `salt`) and the record's salt value is missing, so nothing of the field
    /// was written rather than an unsalted encoding.
    SaltMissing,
}

impl MissingReason {
    /// The reason as a stable lower-case string: `"empty"`, `"invalid"`,
    /// `"impossible"`, `"implausible"`, `"unknown"` or `"salt_missing"`.
    ///
    /// ```
    /// use pseudolink::internals::normalise::MissingReason;
    /// assert_eq!(MissingReason::Impossible.as_str(), "impossible");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            MissingReason::Empty => "empty",
            MissingReason::Invalid => "invalid",
            MissingReason::Impossible => "impossible",
            MissingReason::Implausible => "implausible",
            MissingReason::Unknown => "unknown",
            MissingReason::SaltMissing => "salt_missing",
        }
    }
}

impl fmt::Display for MissingReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for MissingReason {}

/// Result of normalising one value: the normalised value, or why it was
/// treated as missing.
pub type Normalised<T> = Result<T, MissingReason>;

/// Characters that are invisible in practice and carry no information in a
/// field: soft hyphen, combining grapheme joiner, Arabic letter mark,
/// Mongolian variation selectors, zero-width space/joiners, directional
/// marks and embeddings, word joiner and invisible operators, variation
/// selectors, byte-order mark, and tag characters.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{34F}'
            | '\u{61C}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Dashes: every character of Unicode general category Pd, plus the minus
/// sign U+2212.
pub(crate) fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{58A}' | '\u{5BE}' | '\u{1400}' | '\u{1806}' | '\u{2010}'
            ..='\u{2015}'
                | '\u{2212}'
                | '\u{2E17}'
                | '\u{2E1A}'
                | '\u{2E3A}'
                | '\u{2E3B}'
                | '\u{2E40}'
                | '\u{2E5D}'
                | '\u{301C}'
                | '\u{3030}'
                | '\u{30A0}'
                | '\u{FE31}'
                | '\u{FE32}'
                | '\u{FE58}'
                | '\u{FE63}'
                | '\u{FF0D}'
                | '\u{10EAD}'
    )
}

/// Trims white space and invisible characters from both ends of a field.
pub(crate) fn trim_field(raw: &str) -> &str {
    match (raw.as_bytes().first(), raw.as_bytes().last()) {
        // Most fields start and end with a visible ASCII character: nothing to trim.
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => raw,
        _ => raw.trim_matches(|c: char| c.is_whitespace() || is_invisible(c)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_reason_strings() {
        let all = [
            (MissingReason::Empty, "empty"),
            (MissingReason::Invalid, "invalid"),
            (MissingReason::Impossible, "impossible"),
            (MissingReason::Implausible, "implausible"),
            (MissingReason::Unknown, "unknown"),
        ];
        for (reason, s) in all {
            assert_eq!(reason.as_str(), s);
            assert_eq!(reason.to_string(), s);
        }
    }

    #[test]
    fn missing_reason_deserialises_from_snake_case() {
        use serde::de::value::{Error, StrDeserializer};
        use serde::de::IntoDeserializer;
        use serde::Deserialize;
        for reason in [
            MissingReason::Empty,
            MissingReason::Invalid,
            MissingReason::Impossible,
            MissingReason::Implausible,
            MissingReason::Unknown,
        ] {
            let de: StrDeserializer<'_, Error> = reason.as_str().into_deserializer();
            assert_eq!(MissingReason::deserialize(de), Ok(reason));
        }
        let de: StrDeserializer<'_, Error> = "Empty".into_deserializer();
        assert!(MissingReason::deserialize(de).is_err());
    }

    #[test]
    fn trim_field_strips_invisible_and_whitespace() {
        assert_eq!(trim_field("\u{FEFF} \t x y\u{A0}\u{200B}"), "x y");
        assert_eq!(trim_field("\u{FEFF}\u{200B}  "), "");
        assert_eq!(trim_field("x\u{AD}"), "x");
        assert_eq!(trim_field("\tx y"), "x y");
    }

    proptest::proptest! {
        /// The shortcut for values starting and ending with a visible ASCII character trims
        /// what trimming character by character trims.
        #[test]
        fn trim_field_is_trimming_every_character(
            s in "[ \t\r\n\u{A0}\u{AD}\u{200B}\u{FEFF}\u{3000}a-z~!\x7f\x00-\x1f]{0,6}",
        ) {
            proptest::prop_assert_eq!(
                trim_field(&s),
                s.trim_matches(|c: char| c.is_whitespace() || is_invisible(c))
            );
        }
    }

    #[test]
    fn dashes() {
        for c in [
            '-', '\u{2010}', '\u{2013}', '\u{2014}', '\u{2212}', '\u{FF0D}',
        ] {
            assert!(is_dash(c), "{c:?}");
        }
        assert!(!is_dash('_'));
        assert!(!is_dash('.'));
    }
}
