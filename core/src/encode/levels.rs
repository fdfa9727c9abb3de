//! Derived values that get their own tokens: date parts, postcode parts, name codes.

use crate::normalise::date::Date;

/// American Soundex of the ASCII letters of `name` (`robert` and `rupert` give `R163`).
///
/// Non-letters are skipped; `None` when there is no ASCII letter.
pub fn soundex(name: &str) -> Option<String> {
    soundex_code(name).and_then(|c| String::from_utf8(c.to_vec()).ok())
}

/// The Soundex class of a byte: 0 for a non-letter (skipped), otherwise the letter's digit, with
/// `b'0'` for vowels and y (which separate equal codes) and `b'h'` for h and w (which do not).
const fn soundex_class(c: u8) -> u8 {
    match c.to_ascii_lowercase() {
        b'b' | b'f' | b'p' | b'v' => b'1',
        b'c' | b'g' | b'j' | b'k' | b'q' | b's' | b'x' | b'z' => b'2',
        b'd' | b't' => b'3',
        b'l' => b'4',
        b'm' | b'n' => b'5',
        b'r' => b'6',
        b'h' | b'w' => b'h',
        b'a' | b'e' | b'i' | b'o' | b'u' | b'y' => b'0',
        _ => 0,
    }
}

/// [`soundex`] as four ASCII bytes, without allocating.
pub fn soundex_code(name: &str) -> Option<[u8; 4]> {
    /// [`soundex_class`] of every byte.
    const CODES: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut c = 0;
        while c < 256 {
            t[c] = soundex_class(c as u8);
            c += 1;
        }
        t
    };
    let bytes = name.as_bytes();
    let start = bytes.iter().position(|&c| CODES[usize::from(c)] != 0)?;
    let first = bytes[start];
    let mut out = [b'0'; 4];
    out[0] = first.to_ascii_uppercase();
    let mut n = 1;
    let mut last = CODES[usize::from(first)];
    for &c in &bytes[start + 1..] {
        let k = CODES[usize::from(c)];
        if k == 0 || k == b'h' {
            continue; // not a letter; h and w do not separate equal codes
        }
        if k != b'0' && k != last {
            out[n] = k;
            n += 1;
            if n == 4 {
                break;
            }
        }
        last = k;
    }
    Some(out)
}

/// First character of a normalised name.
pub fn initial(name: &str) -> Option<String> {
    name.chars().next().map(String::from)
}

/// `2014-03` of a date.
pub fn year_month(d: &Date) -> String {
    d.year_month()
}

/// `2014` of a date.
pub fn year(d: &Date) -> String {
    format!("{:04}", d.year)
}

/// The house number and street of a normalised address line: from its last word holding a digit
/// to the end (`flat 3 45 far gosford street` gives `45 far gosford street`); the whole line when
/// no word holds a digit.
pub fn number_street(line: &str) -> &str {
    let mut start = 0;
    let mut word = 0;
    for (i, b) in line.bytes().enumerate() {
        if b == b' ' {
            word = i + 1;
        } else if b.is_ascii_digit() {
            start = word;
        }
    }
    line.get(start..).unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules applied one letter at a time, as before the lookup table.
    fn soundex_by_rules(name: &str) -> Option<[u8; 4]> {
        let mut letters = name.bytes().filter(u8::is_ascii_alphabetic);
        let first = letters.next()?;
        let mut out = [b'0'; 4];
        out[0] = first.to_ascii_uppercase();
        let mut n = 1;
        let mut last = soundex_class(first);
        for c in letters {
            let k = soundex_class(c);
            if k == b'h' {
                continue;
            }
            if k != b'0' && k != last {
                out[n] = k;
                n += 1;
                if n == 4 {
                    break;
                }
            }
            last = k;
        }
        Some(out)
    }

    proptest::proptest! {
        #[test]
        fn the_table_follows_the_rules(name in "[a-zA-Z '\\-0-9éß]{0,20}") {
            proptest::prop_assert_eq!(soundex_code(&name), soundex_by_rules(&name));
        }
    }

    #[test]
    fn soundex_reference_values() {
        assert_eq!(soundex("robert").as_deref(), Some("R163"));
        assert_eq!(soundex("rupert").as_deref(), Some("R163"));
        assert_eq!(soundex("ashcraft").as_deref(), Some("A261"));
        assert_eq!(soundex("tymczak").as_deref(), Some("T522"));
        assert_eq!(soundex("pfister").as_deref(), Some("P236"));
        assert_eq!(soundex("lee").as_deref(), Some("L000"));
        assert_eq!(soundex("smith jones").as_deref(), Some("S532"));
        assert_eq!(soundex("محمد"), None);
    }

    #[test]
    fn number_street_starts_at_the_last_word_with_a_digit() {
        assert_eq!(
            number_street("flat 3 45 far gosford street"),
            "45 far gosford street"
        );
        assert_eq!(
            number_street("3 45 far gosford street"),
            "45 far gosford street"
        );
        assert_eq!(
            number_street("45a far gosford street"),
            "45a far gosford street"
        );
        assert_eq!(number_street("the maltings"), "the maltings");
        assert_eq!(number_street(""), "");
    }
}
