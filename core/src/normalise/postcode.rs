//! UK postcode normalisation.
//!
//! # Rules
//!
//! 1. All white space is removed (anywhere in the value, any Unicode white
//!    space, plus invisible characters such as a byte-order mark), and
//!    letters are upper-cased. Any other character that is not an ASCII
//!    letter or digit (a dash, a dot, an accented letter) makes the value
//!    [`MissingReason::Invalid`].
//! 2. The last three characters are the **inward code**, the rest the
//!    **outward code**; the result is the outward code, one space, and the
//!    inward code: `cv12ab`, ` CV1  2AB `, `C V 1 2 A B` all become `CV1 2AB`.
//! 3. The result must have the official UK format, otherwise it is
//!    [`MissingReason::Invalid`] (`A` = letter, `9` = digit):
//!
//!    | outward | example |
//!    |---|---|
//!    | `A9` | `M1 1AE` |
//!    | `A99` | `M60 1NW` |
//!    | `AA9` | `CR2 6XH` |
//!    | `AA99` | `DN55 1PT` |
//!    | `A9A` | `W1A 1HQ` |
//!    | `AA9A` | `EC1A 1BB` |
//!
//!    with these letter restrictions (from the UK Government Data Standards
//!    Catalogue postcode rules):
//!    * the first letter is not `Q`, `V` or `X`;
//!    * the second letter (in `AA9`, `AA99`, `AA9A`) is not `I`, `J` or `Z`;
//!    * the final letter of `A9A` is one of `A B C D E F G H J K P S T U W`;
//!    * the final letter of `AA9A` is one of `A B E H M N P R V W X Y`;
//!    * the inward code is a digit and two letters, neither of which is
//!      `C`, `I`, `K`, `M`, `O` or `V`.
//!
//!    The special postcode `GIR 0AA` is also accepted. Other non-standard
//!    codes (British Forces `BFPO`, overseas territories such as `ASCN 1ZZ`)
//!    are not. The format is checked, not whether the postcode exists.
//! 4. A blank value is [`MissingReason::Empty`].
//!
//! ```
//! use pseudolink::internals::normalise::postcode::normalise_postcode;
//! use pseudolink::internals::normalise::MissingReason;
//! let p = normalise_postcode(" cv1  2ab ").unwrap();
//! assert_eq!(p.as_str(), "CV1 2AB");
//! assert_eq!(p.outward(), "CV1");
//! assert_eq!(p.sector(), "CV1 2");
//! assert_eq!(p.area(), "CV");
//! assert_eq!(normalise_postcode("CV1 2AC"), Err(MissingReason::Invalid));
//! ```

use std::fmt;

use crate::normalise::{is_invisible, MissingReason, Normalised};

/// A valid, normalised UK postcode such as `CV1 2AB`.
///
/// Only [`normalise_postcode`] makes one, so it always has the official
/// format, upper-case, with exactly one space before the inward code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Postcode {
    /// The normalised postcode, for example `"CV1 2AB"`.
    value: String,
    /// Byte index of the space (the length of the outward code).
    split: usize,
}

impl Postcode {
    /// The whole postcode, for example `"CV1 2AB"`.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The outward code (postcode district), for example `"CV1"`.
    pub fn outward(&self) -> &str {
        self.value.get(..self.split).unwrap_or_default()
    }

    /// The postcode district, the same as [`Postcode::outward`]: `"CV1"`.
    pub fn district(&self) -> &str {
        self.outward()
    }

    /// The postcode sector: the outward code, a space and the digit of the
    /// inward code, for example `"CV1 2"`.
    pub fn sector(&self) -> &str {
        self.value.get(..self.split + 2).unwrap_or_default()
    }

    /// The postcode area: the leading letters of the outward code, for
    /// example `"CV"` (or `"M"` for `M1 1AE`, `"GIR"` for `GIR 0AA`).
    pub fn area(&self) -> &str {
        let outward = self.outward();
        let letters = outward
            .bytes()
            .position(|b| !b.is_ascii_alphabetic())
            .unwrap_or(outward.len());
        outward.get(..letters).unwrap_or_default()
    }
}

impl fmt::Display for Postcode {
    /// Formats as [`Postcode::as_str`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// Longest postcode without spaces (`AA9A9AA`).
const MAX_CHARS: usize = 7;
/// Shortest postcode without spaces (`A99AA`).
const MIN_CHARS: usize = 5;

/// Normalises and validates a UK postcode. See the
/// [module documentation](self) for the rules.
///
/// ```
/// use pseudolink::internals::normalise::postcode::normalise_postcode;
/// assert_eq!(normalise_postcode("sw1a1aa").unwrap().as_str(), "SW1A 1AA");
/// assert_eq!(normalise_postcode("M1 1AE").unwrap().area(), "M");
/// ```
pub fn normalise_postcode(raw: &str) -> Normalised<Postcode> {
    let mut buf = [0u8; MAX_CHARS];
    let mut n = 0;
    for c in raw.chars() {
        if c.is_whitespace() || is_invisible(c) {
            continue;
        }
        if !c.is_ascii_alphanumeric() {
            return Err(MissingReason::Invalid);
        }
        let slot = buf.get_mut(n).ok_or(MissingReason::Invalid)?;
        // `c` is ASCII, so this conversion cannot fail.
        *slot = u8::try_from(c.to_ascii_uppercase()).map_err(|_| MissingReason::Invalid)?;
        n += 1;
    }
    if n == 0 {
        return Err(MissingReason::Empty);
    }
    let chars = buf.get(..n).ok_or(MissingReason::Invalid)?;
    if n < MIN_CHARS {
        return Err(MissingReason::Invalid);
    }
    let split = n - 3;
    let (outward, inward) = chars.split_at(split);
    if !(valid_inward(inward) && valid_outward(outward) || chars == b"GIR0AA") {
        return Err(MissingReason::Invalid);
    }
    let mut value = String::with_capacity(n + 1);
    value.extend(outward.iter().map(|&b| char::from(b)));
    value.push(' ');
    value.extend(inward.iter().map(|&b| char::from(b)));
    Ok(Postcode { value, split })
}

/// Letters allowed in the two letters of the inward code.
fn inward_letter(b: u8) -> bool {
    b.is_ascii_uppercase() && !matches!(b, b'C' | b'I' | b'K' | b'M' | b'O' | b'V')
}

fn valid_inward(inward: &[u8]) -> bool {
    matches!(inward, [d, a, b] if d.is_ascii_digit() && inward_letter(*a) && inward_letter(*b))
}

fn valid_outward(outward: &[u8]) -> bool {
    let first = |b: u8| b.is_ascii_uppercase() && !matches!(b, b'Q' | b'V' | b'X');
    let second = |b: u8| b.is_ascii_uppercase() && !matches!(b, b'I' | b'J' | b'Z');
    let digit = |b: u8| b.is_ascii_digit();
    match *outward {
        // A9
        [a, d] => first(a) && digit(d),
        // A99, AA9, A9A
        [a, b, c] if digit(b) => first(a) && (digit(c) || b"ABCDEFGHJKPSTUW".contains(&c)),
        [a, b, d] => first(a) && second(b) && digit(d),
        // AA99, AA9A
        [a, b, d, e] => {
            first(a) && second(b) && digit(d) && (digit(e) || b"ABEHMNPRVWXY".contains(&e))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> String {
        match normalise_postcode(s) {
            Ok(v) => v.as_str().to_string(),
            Err(e) => format!("<{e}>"),
        }
    }

    #[test]
    fn spacing_and_case() {
        assert_eq!(p("CV1 2AB"), "CV1 2AB");
        assert_eq!(p("cv12ab"), "CV1 2AB");
        assert_eq!(p("  cv1   2ab "), "CV1 2AB");
        assert_eq!(p("C V 1 2 A B"), "CV1 2AB");
        assert_eq!(p("CV1\t2AB"), "CV1 2AB");
        assert_eq!(p("CV1\u{A0}2AB"), "CV1 2AB");
        assert_eq!(p("\u{FEFF}CV12AB\n"), "CV1 2AB");
    }

    #[test]
    fn all_outward_shapes() {
        assert_eq!(p("M1 1AE"), "M1 1AE");
        assert_eq!(p("M60 1NW"), "M60 1NW");
        assert_eq!(p("CR2 6XH"), "CR2 6XH");
        assert_eq!(p("DN55 1PT"), "DN55 1PT");
        assert_eq!(p("W1A 1HQ"), "W1A 1HQ");
        assert_eq!(p("EC1A 1BB"), "EC1A 1BB");
        assert_eq!(p("SW1A 2AA"), "SW1A 2AA");
        assert_eq!(p("WC2B 4AA"), "WC2B 4AA");
        assert_eq!(p("B33 8TH"), "B33 8TH");
        assert_eq!(p("GIR 0AA"), "GIR 0AA");
        assert_eq!(p("gir0aa"), "GIR 0AA");
        assert_eq!(p("BX1 1LT"), "BX1 1LT");
        assert_eq!(p("JE2 3AB"), "JE2 3AB");
    }

    #[test]
    fn accessors() {
        let cases = [
            ("CV1 2AB", "CV1", "CV1 2", "CV"),
            ("M1 1AE", "M1", "M1 1", "M"),
            ("EC1A 1BB", "EC1A", "EC1A 1", "EC"),
            ("W1A 1HQ", "W1A", "W1A 1", "W"),
            ("DN55 1PT", "DN55", "DN55 1", "DN"),
            ("GIR 0AA", "GIR", "GIR 0", "GIR"),
        ];
        for (s, outward, sector, area) in cases {
            let Ok(pc) = normalise_postcode(s) else {
                panic!("{s} rejected");
            };
            assert_eq!(pc.as_str(), s);
            assert_eq!(pc.to_string(), s);
            assert_eq!(pc.outward(), outward);
            assert_eq!(pc.district(), outward);
            assert_eq!(pc.sector(), sector);
            assert_eq!(pc.area(), area);
        }
    }

    #[test]
    fn letter_restrictions() {
        // First position: not Q, V, X.
        for s in ["Q1 1AA", "V1 1AA", "X1 1AA", "QA1 1AA"] {
            assert_eq!(p(s), "<invalid>", "{s}");
        }
        // Second position: not I, J, Z.
        for s in ["AI1 1AA", "AJ1 1AA", "AZ1 1AA", "AZ11 1AA", "AI1A 1AA"] {
            assert_eq!(p(s), "<invalid>", "{s}");
        }
        // Third position of A9A.
        for c in b'A'..=b'Z' {
            let s = format!("W1{} 1AA", char::from(c));
            let ok = b"ABCDEFGHJKPSTUW".contains(&c);
            assert_eq!(p(&s) == s, ok, "{s}");
        }
        // Fourth position of AA9A.
        for c in b'A'..=b'Z' {
            let s = format!("EC1{} 1AA", char::from(c));
            let ok = b"ABEHMNPRVWXY".contains(&c);
            assert_eq!(p(&s) == s, ok, "{s}");
        }
        // Inward letters: not C I K M O V.
        for c in b'A'..=b'Z' {
            let ok = !b"CIKMOV".contains(&c);
            let s1 = format!("CV1 2{}B", char::from(c));
            let s2 = format!("CV1 2A{}", char::from(c));
            assert_eq!(p(&s1) == s1, ok, "{s1}");
            assert_eq!(p(&s2) == s2, ok, "{s2}");
        }
    }

    #[test]
    fn invalid_and_empty() {
        for s in ["", "  ", "\t", "\u{FEFF}"] {
            assert_eq!(p(s), "<empty>", "{s:?}");
        }
        for s in [
            "CV1-2AB",
            "CV1 2A",
            "CV1",
            "2AB",
            "CV123 2AB",
            "CV1 22B",
            "CV1 AAB",
            "1V1 2AB",
            "CVV 2AB",
            "C1V1 2AB",
            "CV1 2AB X",
            "ČV1 2AB",
            "ＣＶ１ ２ＡＢ",
            "BFPO 123",
            "ASCN 1ZZ",
            "GIR 0AB",
            "not known",
            "CV1.2AB",
            "AAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(p(s), "<invalid>", "{s:?}");
        }
    }

    fn postcode_like() -> impl Strategy<Value = String> {
        "[A-Za-z]{1,2}[0-9][0-9A-Za-z]? ?[0-9][A-Za-z]{2}|[ A-Za-z0-9]{0,10}"
    }

    proptest! {
        #[test]
        fn idempotent(s in postcode_like()) {
            if let Ok(pc) = normalise_postcode(&s) {
                prop_assert_eq!(normalise_postcode(pc.as_str()), Ok(pc.clone()));
                let lower = pc.as_str().to_lowercase();
                prop_assert_eq!(normalise_postcode(&lower), Ok(pc.clone()));
                prop_assert_eq!(pc.as_str().len(), pc.outward().len() + 4);
                prop_assert!(pc.sector().starts_with(pc.outward()));
                prop_assert!(pc.outward().starts_with(pc.area()));
                prop_assert!(!pc.area().is_empty());
            }
        }

        #[test]
        fn never_panics(s in any::<String>()) {
            if let Ok(pc) = normalise_postcode(&s) {
                prop_assert_eq!(normalise_postcode(pc.as_str()), Ok(pc));
            }
        }
    }
}
