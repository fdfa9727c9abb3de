//! Corruption functions applied to each agency's copy of a person, and the
//! default probability of each kind of error.

use crate::date::Date;
use crate::names::NICKNAMES;
use crate::random::Rand;
use crate::ErrorProbability;

macro_rules! probabilities {
    ($( $(#[$doc:meta])* $field:ident = $value:expr, $what:literal; )*) => {
        /// Per-copy probability of each kind of error.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub(crate) struct Probs {
            $( $(#[$doc])* pub(crate) $field: f64, )*
        }

        impl Probs {
            /// The realistic defaults (`error_rate` = 1.0).
            pub(crate) const DEFAULT: Probs = Probs { $( $field: $value, )* };

            /// Every default multiplied by `factor` (in 0..=[`crate::MAX_ERROR_RATE`]), capped at 1.
            pub(crate) fn scaled(factor: f64) -> Probs {
                let d = Self::DEFAULT;
                Probs { $( $field: (d.$field * factor).min(1.0), )* }
            }

            /// The defaults as a documented table.
            pub(crate) fn table() -> Vec<ErrorProbability> {
                vec![ $( ErrorProbability {
                    name: stringify!($field),
                    default: $value,
                    description: $what,
                }, )* ]
            }
        }
    };
}

probabilities! {
    /// Typo in the first name.
    first_name_typo = 0.03,
        "first name: one typing error (insertion, deletion, keyboard-neighbour substitution or transposition)";
    /// Nickname or variant.
    first_name_variant = 0.08,
        "first name: nickname, short form or spelling variant (Elizabeth -> Liz, Mohammed -> Muhammad), when the name has one";
    /// Middle name blank.
    middle_name_missing = 0.30,
        "middle name left blank, when the person has one";
    /// Middle name used as first name.
    middle_name_as_first = 0.02,
        "middle name recorded as the first name (the person goes by it), when the person has one";
    /// First and last names swapped.
    names_swapped = 0.01,
        "first and last names swapped";
    /// Accents removed.
    diacritics_dropped = 0.40,
        "accents dropped from every name of the record (Zoë -> Zoe, Łukasz -> Lukasz), when there are any";
    /// Typo in the surname.
    last_name_typo = 0.03,
        "last name: one typing error";
    /// Part of a compound surname dropped.
    hyphen_part_dropped = 0.30,
        "one half of a hyphenated or two-word surname dropped, or the hyphen written as a space, when there is one";
    /// An earlier surname.
    previous_surname = 0.15,
        "adult recorded under an earlier surname (before marriage, or after divorce), when they have one";
    /// First name blank.
    first_name_missing = 0.005,
        "first name left blank";
    /// Last name blank.
    last_name_missing = 0.002,
        "last name left blank";
    /// Day and month swapped.
    dob_day_month_swapped = 0.01,
        "date of birth with day and month swapped, when that is a different valid date";
    /// One digit wrong.
    dob_digit_wrong = 0.01,
        "date of birth with one digit of the day, month or year wrong (still a valid date)";
    /// Year off by one.
    dob_year_off_by_one = 0.005,
        "date of birth with the year one too high or too low";
    /// Date of birth blank.
    dob_missing = 0.01,
        "date of birth left blank";
    /// Sex recorded wrongly.
    sex_wrong = 0.003,
        "sex recorded as the other value";
    /// Sex blank.
    sex_missing = 0.01,
        "sex left blank";
    /// Another address of the household.
    moved_house = 0.08,
        "an earlier or later address and postcode of the household (house move)";
    /// Address written differently.
    address_variant = 0.10,
        "address written differently: Road -> Rd, Street -> St, flat as 3/45 or left out";
    /// Typo in the address.
    address_typo = 0.03,
        "address line: one typing error";
    /// Address blank.
    address_missing = 0.02,
        "address line left blank";
    /// Typo in the postcode.
    postcode_typo = 0.02,
        "postcode: one character replaced by a keyboard neighbour or look-alike (0/O, 1/I, 5/S)";
    /// Postcode formatting.
    postcode_format = 0.05,
        "postcode without its space, in lower case or with a double space";
    /// Postcode blank.
    postcode_missing = 0.02,
        "postcode left blank";
    /// NHS number mistyped.
    nhs_number_transcription = 0.01,
        "NHS number (where recorded): one digit changed or two adjacent digits swapped";
    /// Whitespace and punctuation.
    whitespace_noise = 0.02,
        "per text field: leading, trailing or doubled spaces, stray full stop or comma, apostrophe or hyphen lost";
    /// Names typed in lower case.
    lowercase_entry = 0.01,
        "per record: names typed all in lower case";
}

/// Characters next to `c` on a UK QWERTY keyboard (lower-case letters and
/// digits; empty for anything else).
pub(crate) fn keyboard_neighbours(c: char) -> &'static str {
    match c {
        'q' => "wa",
        'w' => "qeas",
        'e' => "wrds",
        'r' => "etdf",
        't' => "ryfg",
        'y' => "tugh",
        'u' => "yihj",
        'i' => "uojk",
        'o' => "ipkl",
        'p' => "ol",
        'a' => "qwsz",
        's' => "awedxz",
        'd' => "serfcx",
        'f' => "drtgvc",
        'g' => "ftyhbv",
        'h' => "gyujnb",
        'j' => "huikmn",
        'k' => "jiolm",
        'l' => "kop",
        'z' => "asx",
        'x' => "zsdc",
        'c' => "xdfv",
        'v' => "cfgb",
        'b' => "vghn",
        'n' => "bhjm",
        'm' => "njk",
        '1' => "2",
        '2' => "13",
        '3' => "24",
        '4' => "35",
        '5' => "46",
        '6' => "57",
        '7' => "68",
        '8' => "79",
        '9' => "80",
        '0' => "9",
        _ => "",
    }
}

/// A keyboard neighbour of `c`, keeping its case.
fn neighbour(rng: &mut Rand, c: char) -> Option<char> {
    let lower = c.to_ascii_lowercase();
    let options: Vec<char> = keyboard_neighbours(lower).chars().collect();
    let n = rng.pick(&options)?;
    Some(if c.is_ascii_uppercase() {
        n.to_ascii_uppercase()
    } else {
        n
    })
}

/// One typing error: an inserted character (a neighbour of the one typed,
/// or a doubled letter), a deleted character, a character replaced by a
/// keyboard neighbour, or two adjacent characters transposed. The result
/// always differs from a non-empty input.
pub(crate) fn typo(rng: &mut Rand, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    let pos = rng.index(chars.len());
    let c = chars.get(pos).copied().unwrap_or(' ');
    match rng.below(4) {
        0 => {
            let extra = neighbour(rng, c).unwrap_or(c);
            chars.insert(pos + 1, extra);
        }
        1 => {
            chars.remove(pos);
        }
        2 => {
            // Substitute: pick an alphanumeric position with a neighbour.
            let candidates: Vec<usize> = (0..chars.len())
                .filter(|&i| chars.get(i).is_some_and(|ch| ch.is_ascii_alphanumeric()))
                .collect();
            match rng.pick(&candidates) {
                Some(i) => {
                    if let Some(slot) = chars.get_mut(i) {
                        if let Some(n) = neighbour(rng, *slot) {
                            *slot = n;
                        }
                    }
                }
                None => {
                    chars.remove(pos);
                }
            }
        }
        _ => {
            let candidates: Vec<usize> = (0..chars.len().saturating_sub(1))
                .filter(|&i| chars.get(i) != chars.get(i + 1))
                .collect();
            match rng.pick(&candidates) {
                Some(i) => chars.swap(i, i + 1),
                None => {
                    chars.remove(pos);
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// The ASCII letters for a lower-case accented letter, if it is one.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ą' | 'ā' | 'ă' => "a",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ę' | 'ě' | 'ē' | 'ė' => "e",
        'ğ' | 'ģ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ı' | 'ī' | 'į' => "i",
        'ķ' => "k",
        'ł' | 'ľ' | 'ļ' | 'ĺ' => "l",
        'ñ' | 'ń' | 'ň' | 'ņ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ő' => "o",
        'ř' | 'ŕ' => "r",
        'ś' | 'š' | 'ş' | 'ș' => "s",
        'ť' | 'ţ' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ů' | 'ű' | 'ū' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        _ => return None,
    })
}

/// Removes accents as an ASCII-only system or a hurried clerk would:
/// `Zoë` -> `Zoe`, `ŁUKASZ` -> `LUKASZ`, `Dvořák` -> `Dvorak`.
pub(crate) fn strip_diacritics(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else if c == 'İ' {
            out.push('I');
        } else if let Some(f) = fold(c) {
            out.push_str(f);
        } else if let Some(f) = c.to_lowercase().next().and_then(fold) {
            out.push_str(&f.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Another form of a first name from the nickname table, if it has one:
/// from the formal name to a short form, and mostly back from a short form
/// to the formal name.
pub(crate) fn name_variant(rng: &mut Rand, name: &str) -> Option<&'static str> {
    if let Some(group) = NICKNAMES.iter().find(|g| g.first() == Some(&name)) {
        let others = group.get(1..).unwrap_or(&[]);
        return rng.pick(others);
    }
    let groups: Vec<&&[&str]> = NICKNAMES.iter().filter(|g| g.contains(&name)).collect();
    let group = rng.pick(&groups)?;
    let others: Vec<&'static str> = group.iter().copied().filter(|n| *n != name).collect();
    if rng.chance(0.8) {
        group.first().copied()
    } else {
        rng.pick(&others)
    }
}

/// For a compound surname (`Smith-Jones`, `Ó Briain`, `van den Berg`), a
/// form with one part dropped or the hyphen turned into a space; `None` for
/// single-word surnames.
pub(crate) fn compound_surname_variant(rng: &mut Rand, surname: &str) -> Option<String> {
    if surname.contains('-') {
        let parts: Vec<&str> = surname.split('-').filter(|p| !p.is_empty()).collect();
        if parts.len() < 2 {
            return None;
        }
        return Some(match rng.below(4) {
            // Arabic-style prefixes ("Al-", "El-") are never kept alone.
            0 if parts.first().is_some_and(|p| p.chars().count() > 3) => {
                parts.first().copied().unwrap_or(surname).to_string()
            }
            0 | 1 => parts.get(1..).unwrap_or(&[]).join("-"),
            2 => parts.join(" "),
            _ => parts.concat(),
        });
    }
    let words: Vec<&str> = surname.split(' ').filter(|p| !p.is_empty()).collect();
    if words.len() < 2 {
        return None;
    }
    Some(if rng.chance(0.5) {
        words.last().copied().unwrap_or(surname).to_string()
    } else {
        words.concat()
    })
}

/// The date with day and month swapped, when that is a different valid date.
pub(crate) fn swap_day_month(date: Date) -> Option<Date> {
    if date.day == date.month {
        return None;
    }
    Date::new(date.year, date.day, date.month)
}

/// A valid date differing from `date` in one digit of `DD/MM/YYYY` (the
/// day, the month or the last two digits of the year).
pub(crate) fn wrong_digit(rng: &mut Rand, date: Date) -> Date {
    let digits = format!("{:02}{:02}{:04}", date.day, date.month, date.year);
    let digits: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    for _ in 0..20 {
        let pos = [0usize, 1, 2, 3, 6, 7][rng.index(6)];
        let mut d = digits.clone();
        if let Some(slot) = d.get_mut(pos) {
            let old = *slot;
            *slot = (old + 1 + rng.below(9)) % 10;
        }
        let num = |a: usize, b: usize| {
            d.get(a..b)
                .map_or(0, |s| s.iter().fold(0, |n, x| n * 10 + x))
        };
        let year = i32::try_from(num(4, 8)).unwrap_or(date.year);
        if let Some(new) = Date::new(year, num(2, 4), num(0, 2)) {
            if new != date {
                return new;
            }
        }
    }
    let delta = if rng.chance(0.5) { 1 } else { -1 };
    Date::from_days(date.to_days() + delta)
}

/// The same day a year earlier or later (29 February becomes the 28th).
pub(crate) fn year_off_by_one(rng: &mut Rand, date: Date) -> Date {
    let year = if rng.chance(0.5) {
        date.year + 1
    } else {
        date.year - 1
    };
    Date::new(year, date.month, date.day).unwrap_or(Date {
        year,
        month: date.month,
        day: 28,
    })
}

/// An NHS number as a clerk might mistype it: one digit changed, or two
/// adjacent different digits swapped. Usually breaks the check digit.
pub(crate) fn nhs_transcription(rng: &mut Rand, number: &str) -> String {
    let mut digits: Vec<char> = number.chars().collect();
    if digits.is_empty() {
        return String::new();
    }
    let swaps: Vec<usize> = (0..digits.len().saturating_sub(1))
        .filter(|&i| digits.get(i) != digits.get(i + 1))
        .collect();
    if rng.chance(0.5) {
        if let Some(i) = rng.pick(&swaps) {
            digits.swap(i, i + 1);
            return digits.into_iter().collect();
        }
    }
    let pos = rng.index(digits.len());
    if let Some(slot) = digits.get_mut(pos) {
        let old = slot.to_digit(10).unwrap_or(0);
        let new = (old + 1 + rng.below(9)) % 10;
        *slot = char::from_digit(new, 10).unwrap_or('0');
    }
    digits.into_iter().collect()
}

/// Stray whitespace or punctuation: a leading or trailing space, a doubled
/// inner space, a trailing full stop or comma, or an apostrophe or hyphen
/// lost. Empty fields are left empty.
pub(crate) fn whitespace_noise(rng: &mut Rand, s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    match rng.below(5) {
        0 => format!(" {s}"),
        1 => format!("{s}  "),
        2 if s.contains(' ') => s.replacen(' ', "  ", 1),
        3 => format!("{s}{}", if rng.chance(0.5) { "." } else { "," }),
        4 if s.contains(['\'', '-']) => {
            let sep = if rng.chance(0.5) { "" } else { " " };
            s.replace(['\'', '-'], sep)
        }
        _ => format!("{s} "),
    }
}

/// The postcode without its space, in lower case, or with a double space.
pub(crate) fn postcode_format(rng: &mut Rand, postcode: &str) -> String {
    match rng.below(3) {
        0 => postcode.replace(' ', ""),
        1 => postcode.to_lowercase(),
        _ => postcode.replacen(' ', "  ", 1),
    }
}

/// One character of the postcode replaced by a look-alike (0/O, 1/I, 5/S,
/// 8/B, 2/Z) or a keyboard neighbour.
pub(crate) fn postcode_typo(rng: &mut Rand, postcode: &str) -> String {
    let mut chars: Vec<char> = postcode.chars().collect();
    let candidates: Vec<usize> = (0..chars.len())
        .filter(|&i| chars.get(i).is_some_and(|c| c.is_ascii_alphanumeric()))
        .collect();
    let Some(i) = rng.pick(&candidates) else {
        return postcode.to_string();
    };
    if let Some(slot) = chars.get_mut(i) {
        let lookalike = match *slot {
            '0' => Some('O'),
            'O' => Some('0'),
            '1' => Some('I'),
            'I' => Some('1'),
            '5' => Some('S'),
            'S' => Some('5'),
            '8' => Some('B'),
            'B' => Some('8'),
            '2' => Some('Z'),
            'Z' => Some('2'),
            _ => None,
        };
        let new = match lookalike {
            Some(l) if rng.chance(0.5) => Some(l),
            _ => neighbour(rng, *slot).or(lookalike),
        };
        if let Some(n) = new {
            *slot = n;
        }
    }
    chars.into_iter().collect()
}

/// The address written another way: street type abbreviated (`Road` ->
/// `Rd`), a flat written `3/45 ...` or `45 ... Flat 3`, or the flat left out.
pub(crate) fn address_variant(rng: &mut Rand, address: &str) -> String {
    const ABBREVIATIONS: &[(&str, &str)] = &[
        (" Road", " Rd"),
        (" Street", " St"),
        (" Avenue", " Ave"),
        (" Close", " Cl"),
        (" Lane", " Ln"),
        (" Drive", " Dr"),
        (" Crescent", " Cres"),
        (" Gardens", " Gdns"),
        (" Court", " Ct"),
        (" Grove", " Gr"),
    ];
    if let Some(rest) = address.strip_prefix("Flat ") {
        if let Some((flat, building)) = rest.split_once(", ") {
            if rng.chance(0.7) {
                return match rng.below(3) {
                    0 => format!("{flat}/{building}"),
                    1 => format!("{building} Flat {flat}"),
                    _ => building.to_string(),
                };
            }
        }
    }
    for (long, short) in ABBREVIATIONS {
        if address.ends_with(long) || address.contains(&format!("{long} ")) {
            return address.replacen(long, short, 1);
        }
    }
    address.replacen(' ', ", ", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> Rand {
        Rand::new(42, 9)
    }

    #[test]
    fn defaults_are_probabilities() {
        let table = Probs::table();
        assert!(table.len() >= 25);
        assert!(table
            .iter()
            .all(|p| (0.0..=1.0).contains(&p.default) && !p.description.is_empty()));
        let zero = Probs::scaled(0.0);
        assert_eq!(zero.first_name_typo, 0.0);
        assert_eq!(Probs::scaled(1.0), Probs::DEFAULT);
        assert_eq!(
            Probs::scaled(0.5).moved_house,
            Probs::DEFAULT.moved_house * 0.5
        );
    }

    #[test]
    fn typo_always_changes_the_string() {
        let mut r = rng();
        for s in [
            "Smith",
            "Jo",
            "a",
            "ANNA",
            "Zoë",
            "O'Neil",
            "aa",
            "12 Holyhead Road",
        ] {
            for _ in 0..200 {
                let t = typo(&mut r, s);
                assert_ne!(t, s);
                let (a, b) = (s.chars().count(), t.chars().count());
                assert!(a.abs_diff(b) <= 1, "{s} -> {t}");
            }
        }
        assert_eq!(typo(&mut r, ""), "");
    }

    #[test]
    fn typo_uses_keyboard_neighbours() {
        let mut r = rng();
        let mut seen_sub = false;
        for _ in 0..500 {
            let t = typo(&mut r, "sam");
            if t.len() == 3 && t != "asm" && t != "sma" {
                let diff: Vec<(char, char)> = "sam"
                    .chars()
                    .zip(t.chars())
                    .filter(|(a, b)| a != b)
                    .collect();
                assert_eq!(diff.len(), 1, "{t}");
                let (a, b) = diff[0];
                assert!(keyboard_neighbours(a).contains(b), "{a}->{b}");
                seen_sub = true;
            }
        }
        assert!(seen_sub);
    }

    #[test]
    fn diacritics() {
        assert_eq!(strip_diacritics("Zoë"), "Zoe");
        assert_eq!(strip_diacritics("Łukasz"), "Lukasz");
        assert_eq!(strip_diacritics("MAŁGORZATA"), "MALGORZATA");
        assert_eq!(strip_diacritics("Dvořák"), "Dvorak");
        assert_eq!(strip_diacritics("Ó Briain"), "O Briain");
        assert_eq!(strip_diacritics("Müller"), "Muller");
        assert_eq!(strip_diacritics("Ayşe Yılmaz"), "Ayse Yilmaz");
        assert_eq!(strip_diacritics("Smith"), "Smith");
    }

    #[test]
    fn nicknames() {
        let mut r = rng();
        for _ in 0..50 {
            let v = name_variant(&mut r, "Elizabeth");
            assert!(matches!(
                v,
                Some("Liz" | "Beth" | "Lizzie" | "Eliza" | "Betty" | "Libby")
            ));
            let m = name_variant(&mut r, "Mohammed");
            assert!(m.is_some_and(|m| m != "Mohammed" && m.starts_with('M')));
            assert!(name_variant(&mut r, "Aleksandra").is_some());
        }
        assert!((0..50).any(|_| name_variant(&mut r, "Liz") == Some("Elizabeth")));
        assert!((0..50).any(|_| name_variant(&mut r, "Aleksandra") == Some("Ola")));
        assert_eq!(name_variant(&mut r, "Xqzt"), None);
    }

    #[test]
    fn compound_surnames() {
        let mut r = rng();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let v = compound_surname_variant(&mut r, "Smith-Jones").expect("compound");
            seen.insert(v);
        }
        for expected in ["Smith", "Jones", "Smith Jones", "SmithJones"] {
            assert!(seen.contains(expected), "{seen:?}");
        }
        for _ in 0..50 {
            let v = compound_surname_variant(&mut r, "Al-Hashimi").expect("compound");
            assert_ne!(v, "Al");
            let w = compound_surname_variant(&mut r, "Ó Briain").expect("compound");
            assert!(w == "Briain" || w == "ÓBriain");
        }
        assert_eq!(compound_surname_variant(&mut r, "Smith"), None);
    }

    #[test]
    fn date_errors() {
        let d = Date::new(2014, 3, 9).expect("valid");
        assert_eq!(swap_day_month(d), Date::new(2014, 9, 3));
        assert_eq!(swap_day_month(Date::new(2014, 3, 3).expect("valid")), None);
        assert_eq!(swap_day_month(Date::new(2014, 3, 13).expect("valid")), None);
        let mut r = rng();
        for _ in 0..500 {
            let w = wrong_digit(&mut r, d);
            assert_ne!(w, d);
            assert!(Date::new(w.year, w.month, w.day).is_some());
            let diff = format!("{:02}{:02}{:04}", w.day, w.month, w.year)
                .chars()
                .zip("09032014".chars())
                .filter(|(a, b)| a != b)
                .count();
            assert!(diff <= 2, "{w:?}");
            let y = year_off_by_one(&mut r, d);
            assert_eq!((y.month, y.day), (3, 9));
            assert_eq!(y.year.abs_diff(2014), 1);
        }
        let leap = Date::new(2012, 2, 29).expect("valid");
        let y = year_off_by_one(&mut r, leap);
        assert_eq!((y.month, y.day), (2, 28));
    }

    #[test]
    fn nhs_errors() {
        let mut r = rng();
        for _ in 0..200 {
            let t = nhs_transcription(&mut r, "9434765919");
            assert_eq!(t.len(), 10);
            assert_ne!(t, "9434765919");
            assert!(t.chars().all(|c| c.is_ascii_digit()));
        }
        assert_eq!(nhs_transcription(&mut r, ""), "");
    }

    #[test]
    fn noise_and_postcodes() {
        let mut r = rng();
        for _ in 0..100 {
            let n = whitespace_noise(&mut r, "O'Neil");
            assert_ne!(n, "O'Neil");
            let p = postcode_format(&mut r, "CV3 4FJ");
            assert!(["CV34FJ", "cv3 4fj", "CV3  4FJ"].contains(&p.as_str()));
            let t = postcode_typo(&mut r, "CV3 4FJ");
            assert_ne!(t, "CV3 4FJ");
            assert_eq!(t.chars().count(), 7);
        }
        assert_eq!(whitespace_noise(&mut r, ""), "");
    }

    #[test]
    fn address_variants() {
        let mut r = rng();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            seen.insert(address_variant(&mut r, "Flat 3, 45 Far Gosford Street"));
            assert_eq!(
                address_variant(&mut r, "12 Holyhead Road"),
                "12 Holyhead Rd"
            );
        }
        for expected in [
            "3/45 Far Gosford Street",
            "45 Far Gosford Street Flat 3",
            "45 Far Gosford Street",
            "Flat 3, 45 Far Gosford St",
        ] {
            assert!(seen.contains(expected), "{seen:?}");
        }
    }
}
