//! NHS number normalisation.
//!
//! # Rules
//!
//! 1. White space (any Unicode white space: spaces, tabs, no-break spaces,
//!    line breaks), dashes (any Unicode dash such as `-`, `‐`, `–`, `—`, and
//!    the minus sign `−`) and invisible characters (byte-order mark,
//!    zero-width space, soft hyphen) are removed wherever they are:
//!    `943 476 5919`, `943-476-5919` and `9434765919` are the same number.
//!    No other character is removed: dots, slashes, letters or non-ASCII
//!    digits make the value [`MissingReason::Invalid`].
//! 2. What is left must be exactly 10 ASCII digits, otherwise
//!    [`MissingReason::Invalid`]; if nothing is left the value is
//!    [`MissingReason::Empty`].
//! 3. The last digit must be the **modulus 11 check digit** of the first
//!    nine: multiply them by the weights 10, 9, 8, 7, 6, 5, 4, 3, 2, add the
//!    products, take the remainder on division by 11, and subtract it from
//!    11. A result of 11 means a check digit of 0; a result of 10 means that
//!    no valid NHS number starts with those nine digits. A failed check is
//!    [`MissingReason::Invalid`].
//! 4. Numbers made of one repeated digit (`0000000000`, `1111111111`, ...,
//!    `9999999999`) are placeholders, not real numbers, and are
//!    [`MissingReason::Invalid`] even though they pass the check.
//!
//! The result is the 10 digits, without spaces.
//!
//! ```
//! use pseudolink::internals::normalise::nhs::normalise_nhs_number;
//! use pseudolink::internals::normalise::MissingReason;
//! assert_eq!(normalise_nhs_number("943 476 5919").unwrap(), "9434765919");
//! assert_eq!(normalise_nhs_number("943 476 5918"), Err(MissingReason::Invalid));
//! assert_eq!(normalise_nhs_number("1111111111"), Err(MissingReason::Invalid));
//! ```

use crate::normalise::{is_dash, is_invisible, MissingReason, Normalised};

/// Number of digits in an NHS number.
const LEN: usize = 10;

/// Normalises and validates an NHS number. See the
/// [module documentation](self) for the rules.
///
/// ```
/// use pseudolink::internals::normalise::nhs::normalise_nhs_number;
/// assert_eq!(normalise_nhs_number(" 401-023-2137 ").unwrap(), "4010232137");
/// ```
pub fn normalise_nhs_number(raw: &str) -> Normalised<String> {
    let mut out = String::new();
    normalise_nhs_number_into(raw, &mut out).map(|()| out)
}

/// [`normalise_nhs_number`] into `out` (its previous text replaced; its memory reused).
pub(crate) fn normalise_nhs_number_into(raw: &str, out: &mut String) -> Normalised<()> {
    let mut digits = [0u8; LEN];
    let mut n = 0;
    for c in raw.chars() {
        if c.is_whitespace() || is_dash(c) || is_invisible(c) {
            continue;
        }
        if !c.is_ascii_digit() {
            return Err(MissingReason::Invalid);
        }
        let slot = digits.get_mut(n).ok_or(MissingReason::Invalid)?;
        *slot = u8::try_from(c).map_err(|_| MissingReason::Invalid)?;
        n += 1;
    }
    if n == 0 {
        return Err(MissingReason::Empty);
    }
    if n != LEN || !check_digit_valid(&digits) || is_repeated_digit(&digits) {
        return Err(MissingReason::Invalid);
    }
    out.clear();
    out.extend(digits.iter().map(|&b| char::from(b)));
    Ok(())
}

/// Whether `digits` is exactly 10 ASCII digits whose last digit is the
/// correct modulus 11 check digit of the first nine (see the
/// [module documentation](self)).
///
/// This checks only the check digit: placeholder numbers such as
/// `0000000000` pass it (but are rejected by [`normalise_nhs_number`]), and
/// no spaces are allowed.
///
/// ```
/// use pseudolink::internals::normalise::nhs::nhs_check_digit_valid;
/// assert!(nhs_check_digit_valid("9434765919"));
/// assert!(!nhs_check_digit_valid("9434765918"));
/// assert!(!nhs_check_digit_valid("943 476 5919"));
/// ```
pub fn nhs_check_digit_valid(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    bytes.len() == LEN && bytes.iter().all(u8::is_ascii_digit) && check_digit_valid(bytes)
}

/// The check digit for the first nine digits of `digits` (ASCII digits),
/// or `None` when the computation gives 10 (no valid number).
fn check_digit(first_nine: &[u8]) -> Option<u8> {
    let sum: u32 = first_nine
        .iter()
        .take(LEN - 1)
        .zip((2..=10u32).rev())
        .map(|(&b, w)| u32::from(b.wrapping_sub(b'0')) * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => u8::try_from(c).ok(),
    }
}

/// `digits` holds 10 ASCII digits.
fn check_digit_valid(digits: &[u8]) -> bool {
    match (check_digit(digits), digits.get(LEN - 1)) {
        (Some(check), Some(&last)) => last.wrapping_sub(b'0') == check,
        _ => false,
    }
}

fn is_repeated_digit(digits: &[u8]) -> bool {
    digits.windows(2).all(|w| w.first() == w.get(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nhs(s: &str) -> String {
        match normalise_nhs_number(s) {
            Ok(v) => v,
            Err(e) => format!("<{e}>"),
        }
    }

    #[test]
    fn known_valid_numbers() {
        // Published examples of valid NHS numbers.
        for s in ["9434765919", "4010232137", "9434765870"] {
            assert!(nhs_check_digit_valid(s), "{s}");
            assert_eq!(nhs(s), s);
        }
        // Check digit 0 (11 - 0 = 11 -> 0).
        assert!(nhs_check_digit_valid("1000000060"));
        assert_eq!(nhs("1000000060"), "1000000060");
    }

    #[test]
    fn separators_removed() {
        for s in [
            "943 476 5919",
            "943-476-5919",
            "943\u{2013}476\u{2014}5919",
            "943\u{2212}476\u{2010}5919",
            " 9434765919\t",
            "943\t476\t5919",
            "943\u{A0}476\u{A0}5919",
            "\u{FEFF}9434765919",
            "9 4 3 4 7 6 5 9 1 9",
        ] {
            assert_eq!(nhs(s), "9434765919", "{s:?}");
        }
    }

    #[test]
    fn invalid_numbers() {
        for s in [
            "9434765918",
            "943.476.5919",
            "943/476/5919",
            "943476591",
            "94347659190",
            "NHS9434765919",
            "９４３４７６５９１９",
            "943_476_5919",
            "+9434765919",
            "x",
        ] {
            assert_eq!(nhs(s), "<invalid>", "{s:?}");
        }
        // First nine digits whose check digit would be 10.
        let bad = (0..1000u32)
            .map(|i| format!("{:09}", 100_000_000 + i))
            .find(|p| check_digit(p.as_bytes()).is_none())
            .unwrap_or_default();
        assert_eq!(bad.len(), 9);
        for last in 0..=9 {
            assert_eq!(nhs(&format!("{bad}{last}")), "<invalid>");
        }
    }

    #[test]
    fn placeholders_rejected() {
        for d in b'0'..=b'9' {
            let s = char::from(d).to_string().repeat(LEN);
            assert!(nhs_check_digit_valid(&s), "{s}");
            assert_eq!(nhs(&s), "<invalid>", "{s}");
        }
    }

    #[test]
    fn empty_values() {
        for s in ["", "  ", "\t", "- -", "\u{2013}"] {
            assert_eq!(nhs(s), "<empty>", "{s:?}");
        }
    }

    #[test]
    fn check_digit_valid_requires_plain_digits() {
        assert!(!nhs_check_digit_valid(""));
        assert!(!nhs_check_digit_valid("943476591"));
        assert!(!nhs_check_digit_valid("94347659190"));
        assert!(!nhs_check_digit_valid("943476591a"));
        assert!(!nhs_check_digit_valid("943-476-5919"));
        assert!(!nhs_check_digit_valid("９４３４７６５９１９"));
    }

    proptest! {
        #[test]
        fn appended_check_digit_is_valid_and_single_changes_are_caught(
            first in "[0-9]{9}",
            pos in 0usize..LEN,
            delta in 1u8..=9,
        ) {
            let Some(check) = check_digit(first.as_bytes()) else {
                return Ok(());
            };
            let number = format!("{first}{check}");
            prop_assert!(nhs_check_digit_valid(&number));
            if is_repeated_digit(number.as_bytes()) {
                prop_assert_eq!(normalise_nhs_number(&number), Err(MissingReason::Invalid));
            } else {
                prop_assert_eq!(normalise_nhs_number(&number), Ok(number.clone()));
            }
            let mut changed = number.clone().into_bytes();
            if let Some(b) = changed.get_mut(pos) {
                *b = b'0' + (*b - b'0' + delta) % 10;
            }
            let changed = String::from_utf8(changed).unwrap_or_default();
            prop_assert_ne!(&changed, &number);
            prop_assert!(!nhs_check_digit_valid(&changed));
            prop_assert_eq!(normalise_nhs_number(&changed), Err(MissingReason::Invalid));
        }

        #[test]
        fn idempotent_and_never_panics(s in any::<String>()) {
            if let Ok(n) = normalise_nhs_number(&s) {
                prop_assert_eq!(normalise_nhs_number(&n), Ok(n.clone()));
                prop_assert!(nhs_check_digit_valid(&n));
            }
            let _ = nhs_check_digit_valid(&s);
        }

        #[test]
        fn spacing_does_not_matter(first in "[0-9]{9}", spaces in prop::collection::vec(0usize..10, 0..4)) {
            let Some(check) = check_digit(first.as_bytes()) else {
                return Ok(());
            };
            let number = format!("{first}{check}");
            let mut spaced = number.clone();
            for at in spaces {
                if spaced.is_char_boundary(at) {
                    spaced.insert(at, ' ');
                }
            }
            prop_assert_eq!(normalise_nhs_number(&spaced), normalise_nhs_number(&number));
        }
    }
}
