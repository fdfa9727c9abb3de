//! Sex normalisation.
//!
//! # Rules
//!
//! The value is trimmed and compared case-insensitively; inside it, any run
//! of white space, underscores and dashes counts as one space (so
//! `Not_Known`, `not-known` and `NOT   KNOWN` are all `not known`).
//!
//! | input | result |
//! |---|---|
//! | `M`, `Male`, `Man`, `Boy`, `1` | `Ok(`[`Sex::Male`]`)` |
//! | `F`, `Female`, `Woman`, `Girl`, `2` | `Ok(`[`Sex::Female`]`)` |
//! | `U`, `Unknown`, `Not known`, `Not stated`, `Not specified`, `Indeterminate`, `X`, `0`, `9` | [`MissingReason::Unknown`] |
//! | blank | [`MissingReason::Empty`] |
//! | anything else | [`MissingReason::Invalid`] |
//!
//! The codes `0`, `1`, `2`, `9` and `X` are those of the NHS Data Dictionary
//! (person stated gender / phenotypic sex: 1 male, 2 female, 9 indeterminate
//! or not specified, 0 and X not known).
//!
//! ```
//! use pseudolink::internals::normalise::sex::{normalise_sex, Sex};
//! use pseudolink::internals::normalise::MissingReason;
//! assert_eq!(normalise_sex(" female "), Ok(Sex::Female));
//! assert_eq!(normalise_sex("1"), Ok(Sex::Male));
//! assert_eq!(normalise_sex("Not known"), Err(MissingReason::Unknown));
//! assert_eq!(normalise_sex("yes"), Err(MissingReason::Invalid));
//! ```

use std::fmt;

use crate::normalise::{is_dash, trim_field, MissingReason, Normalised};

/// A person's recorded sex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Male.
    Male,
    /// Female.
    Female,
}

impl Sex {
    /// The normalised code: `"m"` for [`Sex::Male`], `"f"` for
    /// [`Sex::Female`].
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "m",
            Sex::Female => "f",
        }
    }
}

impl fmt::Display for Sex {
    /// Formats as [`Sex::as_str`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longer than any accepted spelling (`not specified`, `indeterminate`).
const MAX_LEN: usize = 16;

/// Normalises a sex value. See the [module documentation](self) for the
/// rules.
///
/// ```
/// use pseudolink::internals::normalise::sex::{normalise_sex, Sex};
/// assert_eq!(normalise_sex("M").map(Sex::as_str), Ok("m"));
/// ```
pub fn normalise_sex(raw: &str) -> Normalised<Sex> {
    let trimmed = trim_field(raw);
    if trimmed.is_empty() {
        return Err(MissingReason::Empty);
    }
    // Lower-case and collapse separators into a small stack buffer.
    let mut buf = [0u8; MAX_LEN];
    let mut n = 0;
    let mut pending_space = false;
    for c in trimmed.chars() {
        if c.is_whitespace() || c == '_' || is_dash(c) {
            pending_space = true;
            continue;
        }
        if !c.is_ascii() {
            return Err(MissingReason::Invalid);
        }
        if pending_space {
            *buf.get_mut(n).ok_or(MissingReason::Invalid)? = b' ';
            n += 1;
            pending_space = false;
        }
        let b = u8::try_from(c.to_ascii_lowercase()).map_err(|_| MissingReason::Invalid)?;
        *buf.get_mut(n).ok_or(MissingReason::Invalid)? = b;
        n += 1;
    }
    match buf.get(..n).unwrap_or_default() {
        b"m" | b"male" | b"man" | b"boy" | b"1" => Ok(Sex::Male),
        b"f" | b"female" | b"woman" | b"girl" | b"2" => Ok(Sex::Female),
        b"u" | b"unknown" | b"not known" | b"not stated" | b"not specified" | b"indeterminate"
        | b"x" | b"0" | b"9" => Err(MissingReason::Unknown),
        // Only separators (such as "-" or "_"): nothing was recorded.
        b"" => Err(MissingReason::Empty),
        _ => Err(MissingReason::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn male_female() {
        for s in [
            "M", "m", "Male", "MALE", "man", "Boy", "1", " m ", "\tMale\n",
        ] {
            assert_eq!(normalise_sex(s), Ok(Sex::Male), "{s:?}");
        }
        for s in ["F", "f", "Female", "FEMALE", "Woman", "girl", "2", " F "] {
            assert_eq!(normalise_sex(s), Ok(Sex::Female), "{s:?}");
        }
        assert_eq!(Sex::Male.as_str(), "m");
        assert_eq!(Sex::Female.as_str(), "f");
        assert_eq!(Sex::Female.to_string(), "f");
    }

    #[test]
    fn unknown_codes() {
        for s in [
            "U",
            "u",
            "Unknown",
            "UNKNOWN",
            "Not known",
            "NOT KNOWN",
            "not  known",
            "Not_Known",
            "not-known",
            "Not stated",
            "Not Specified",
            "Indeterminate",
            "X",
            "x",
            "0",
            "9",
        ] {
            assert_eq!(normalise_sex(s), Err(MissingReason::Unknown), "{s:?}");
        }
    }

    #[test]
    fn empty_and_invalid() {
        for s in ["", "   ", "\t", "\u{FEFF}", "-", "_ _"] {
            assert_eq!(normalise_sex(s), Err(MissingReason::Empty), "{s:?}");
        }
        for s in [
            "3",
            "mf",
            "males",
            "yes",
            "M.",
            "notknown",
            "Ｍ",
            "männlich",
            "a very long value that is not a sex",
            "10",
            "01",
        ] {
            assert_eq!(normalise_sex(s), Err(MissingReason::Invalid), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = normalise_sex(&s);
        }

        #[test]
        fn idempotent_through_as_str(s in "[ MmFfAaLlEeIiNnOoWw12_-]{0,8}") {
            if let Ok(sex) = normalise_sex(&s) {
                prop_assert_eq!(normalise_sex(sex.as_str()), Ok(sex));
            }
        }
    }
}
