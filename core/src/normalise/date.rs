//! Date normalisation (dates of birth and similar).
//!
//! # Accepted formats
//!
//! Leading and trailing white space is ignored. Inside the value, any
//! Unicode white space counts as a space and any Unicode dash (such as the
//! en dash `–` that spreadsheets substitute) counts as `-`.
//!
//! | format | examples |
//! |---|---|
//! | ISO 8601, year first | `2014-03-09`, `2014-3-9` |
//! | year first with `/` or `.` | `2014/03/09`, `2014.03.09` |
//! | UK numeric, **always day first**, separator `/`, `-` or `.` (the same one twice) | `09/03/2014`, `9/3/2014`, `9/3/14`, `09-03-2014`, `09.03.2014` |
//! | day, month name, year | `9 Mar 2014`, `9 March 2014`, `09-Mar-2014`, `09-MAR-14`, `9th March 2014`, `9th of March 2014`, `9 Mar. 2014` |
//! | month name, day, year | `March 9, 2014`, `Mar 9th 2014` |
//! | compact `yyyymmdd` (exactly 8 digits) | `20140309` |
//!
//! Numeric dates are never read month first: `03/09/2014` is 3 September
//! 2014. A first group of four digits is a year (`2014/03/09`), since no day
//! has four digits.
//!
//! Month names are English, in any case, full or abbreviated to three
//! letters, and `Sept` is accepted; a trailing dot is allowed. Days are one
//! or two digits and may carry an ordinal suffix `st`, `nd`, `rd` or `th`
//! (not checked against the number). In month-name formats the parts may be
//! separated by any mix of spaces, `-`, `/`, `.` and `,`.
//!
//! Any of these may be followed by a **time of day**, separated by a space
//! (or, for the ISO `yyyy-mm-dd` form only, by `T`), which is checked and
//! then ignored: `H:MM` or `HH:MM`, optionally `:SS`, optionally a fraction
//! of a second (`.000`), optionally `Z` or a UTC offset (`+01:00`, `+0100`,
//! `-05`). So `2014-03-09T00:00:00Z`, `2014-03-09 00:00:00` and
//! `09/03/2014 00:00` are all 9 March 2014. The date is taken as written;
//! an offset never moves it to another day.
//!
//! **Two-digit years**: `yy <= century_pivot` means `20yy`, otherwise `19yy`.
//! With `century_pivot = 24`, `9/3/14` is 2014 and `9/3/50` is 1950.
//!
//! # Outcomes
//!
//! | outcome | when | examples |
//! |---|---|---|
//! | `Ok(date)` | a real date between `min_year` and `today` (inclusive) | `09/03/2014` |
//! | [`MissingReason::Empty`] | blank | `""`, `"   "` |
//! | [`MissingReason::Impossible`] | has the shape of an accepted format but no such day exists (Gregorian calendar, years 1 to 9999) | `31/02/2014`, `29/02/2023`, `01/13/2014`, `00/01/2014`, `20140230` |
//! | [`MissingReason::Implausible`] | a real date after `today`, or with a year before `min_year` | `01/01/2999`, `01/01/1066` |
//! | [`MissingReason::Invalid`] | anything else | `44927` (Excel serial), `2014-3` (partial), `Mar 2014`, `2014-03-09 25:00`, `9/3/2014 4pm`, `yesterday` |
//!
//! ```
//! use pseudolink::internals::normalise::date::{normalise_date, Date, DateOptions};
//! use pseudolink::internals::normalise::MissingReason;
//! let opts = DateOptions {
//!     century_pivot: 24,
//!     min_year: 1900,
//!     today: Date::new(2024, 6, 1).unwrap(),
//! };
//! let d = normalise_date("9th March 2014", &opts).unwrap();
//! assert_eq!(d.iso(), "2014-03-09");
//! assert_eq!(normalise_date("09/03/14", &opts), Ok(d));
//! assert_eq!(normalise_date("31/02/2014", &opts), Err(MissingReason::Impossible));
//! assert_eq!(normalise_date("01/01/2030", &opts), Err(MissingReason::Implausible));
//! assert_eq!(normalise_date("44927", &opts), Err(MissingReason::Invalid));
//! ```

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::normalise::{is_dash, is_invisible, trim_field, MissingReason, Normalised};

/// A calendar date in the proleptic Gregorian calendar.
///
/// Dates made by [`Date::new`] and [`normalise_date`] are always real dates
/// with a year from 1 to 9999. The fields are public for convenience; a
/// `Date` built directly from fields is not checked.
///
/// Dates order chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    /// The year, 1 to 9999.
    pub year: u16,
    /// The month, 1 to 12.
    pub month: u8,
    /// The day of the month, 1 to 31.
    pub day: u8,
}

impl Date {
    /// The date, or `None` if it does not exist: year outside 1 to 9999,
    /// month outside 1 to 12, or day outside the month (leap years follow
    /// the Gregorian rule: every fourth year, except centuries not divisible
    /// by 400).
    ///
    /// ```
    /// use pseudolink::internals::normalise::date::Date;
    /// assert!(Date::new(2000, 2, 29).is_some());
    /// assert!(Date::new(1900, 2, 29).is_none());
    /// assert!(Date::new(2014, 13, 1).is_none());
    /// ```
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        if !(1..=9999).contains(&year) || day == 0 || day > days_in_month(year, month)? {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// The date as ISO 8601 `yyyy-mm-dd`, for example `"2014-03-09"`.
    ///
    /// ```
    /// use pseudolink::internals::normalise::date::Date;
    /// assert_eq!(Date::new(2014, 3, 9).unwrap().iso(), "2014-03-09");
    /// ```
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// The date with day and month exchanged, or `None` if that is not a
    /// real date. Useful for matching records where one agency read a date
    /// month first. A date whose day equals its month is its own swap.
    ///
    /// ```
    /// use pseudolink::internals::normalise::date::Date;
    /// let d = Date::new(2014, 3, 9).unwrap();
    /// assert_eq!(d.swapped(), Date::new(2014, 9, 3));
    /// assert_eq!(Date::new(2014, 3, 13).unwrap().swapped(), None);
    /// ```
    pub fn swapped(&self) -> Option<Date> {
        Date::new(self.year, self.day, self.month)
    }

    /// The year and month as `yyyy-mm`, for example `"2014-03"`.
    ///
    /// ```
    /// use pseudolink::internals::normalise::date::Date;
    /// assert_eq!(Date::new(2014, 3, 9).unwrap().year_month(), "2014-03");
    /// ```
    pub fn year_month(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

impl fmt::Display for Date {
    /// Formats as ISO 8601 `yyyy-mm-dd`, like [`Date::iso`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Options for [`normalise_date`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateOptions {
    /// Two-digit years `yy` up to and including this value are read as
    /// `20yy`, larger ones as `19yy`. Typically the current two-digit year.
    /// A value of 99 or more reads every two-digit year as `20yy`.
    pub century_pivot: u8,
    /// Dates with an earlier year are [`MissingReason::Implausible`].
    pub min_year: u16,
    /// Dates after this day are [`MissingReason::Implausible`]; this day
    /// itself is accepted. Usually [`today_utc()`].
    pub today: Date,
}

/// Longest value (in bytes, after trimming) that is parsed at all; any
/// accepted format is much shorter.
const MAX_LEN: usize = 64;

/// Normalises a date. See the [module documentation](self) for the formats
/// and outcomes.
///
/// ```
/// use pseudolink::internals::normalise::date::{normalise_date, Date, DateOptions};
/// let opts = DateOptions { century_pivot: 24, min_year: 1900, today: Date::new(2024, 6, 1).unwrap() };
/// for s in ["2014-03-09", "09/03/2014", "9.3.14", "09-MAR-14", "March 9, 2014", "20140309"] {
///     assert_eq!(normalise_date(s, &opts).unwrap().iso(), "2014-03-09");
/// }
/// ```
pub fn normalise_date(raw: &str, opts: &DateOptions) -> Normalised<Date> {
    let trimmed = trim_field(raw);
    if trimmed.is_empty() {
        return Err(MissingReason::Empty);
    }
    if trimmed.len() > MAX_LEN {
        return Err(MissingReason::Invalid);
    }
    let mapped;
    let s = if trimmed.is_ascii() {
        trimmed
    } else {
        mapped = map_to_ascii(trimmed).ok_or(MissingReason::Invalid)?;
        mapped.as_str()
    };
    let fields = parse(s, opts.century_pivot)?;
    let date = fields.to_date().ok_or(MissingReason::Impossible)?;
    if date.year < opts.min_year || date > opts.today {
        return Err(MissingReason::Implausible);
    }
    Ok(date)
}

/// Today's date in UTC, from the system clock.
///
/// Computed with the civil-from-days algorithm, without a calendar
/// dependency. If the clock is before 1970 the result is 1970-01-01.
pub fn today_utc() -> Date {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    date_from_days(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// The date `days` days after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`), clamped to years 1 to 9999.
fn date_from_days(days: i64) -> Date {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe
        .saturating_add(era.saturating_mul(400))
        .saturating_add(i64::from(month <= 2));
    let clamp = |lo: Date, hi: Date| {
        if year < 1 {
            lo
        } else {
            hi
        }
    };
    let min = Date {
        year: 1,
        month: 1,
        day: 1,
    };
    let max = Date {
        year: 9999,
        month: 12,
        day: 31,
    };
    match (u16::try_from(year), u8::try_from(month), u8::try_from(day)) {
        (Ok(y), Ok(m), Ok(d)) => Date::new(y, m, d).unwrap_or_else(|| clamp(min, max)),
        _ => clamp(min, max),
    }
}

/// Number of days in a month, `None` for a month outside 1 to 12.
fn days_in_month(year: u16, month: u8) -> Option<u8> {
    Some(match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => return None,
    })
}

fn is_leap(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// Replaces Unicode white space with `' '` and Unicode dashes with `'-'`,
/// and drops invisible characters; `None` if anything else is not ASCII.
fn map_to_ascii(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else if c.is_whitespace() {
            out.push(' ');
        } else if is_dash(c) {
            out.push('-');
        } else if !is_invisible(c) {
            return None;
        }
    }
    Some(out)
}

/// Year, month and day as read, before checking that the date exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fields {
    year: u32,
    month: u32,
    day: u32,
}

impl Fields {
    fn to_date(self) -> Option<Date> {
        Date::new(
            u16::try_from(self.year).ok()?,
            u8::try_from(self.month).ok()?,
            u8::try_from(self.day).ok()?,
        )
    }
}

/// Which accepted format the date part had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `yyyy-mm-dd`, the only one that may be followed by `T` and a time.
    IsoDash,
    /// Every other format.
    Other,
}

/// What separated the date from a time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeSep {
    Space,
    T,
}

/// Parses an ASCII value into its fields; `Err(Invalid)` if it has none of
/// the accepted shapes.
fn parse(s: &str, pivot: u8) -> Result<Fields, MissingReason> {
    let (date_part, sep) = split_time(s).ok_or(MissingReason::Invalid)?;
    let (fields, format) = parse_date_part(date_part, pivot).ok_or(MissingReason::Invalid)?;
    if sep == Some(TimeSep::T) && format != Format::IsoDash {
        return Err(MissingReason::Invalid);
    }
    Ok(fields)
}

/// Splits off and checks a trailing time of day. `None` if there is a time
/// (a `:`) but it is malformed.
fn split_time(s: &str) -> Option<(&str, Option<TimeSep>)> {
    let Some(colon) = s.find(':') else {
        return Some((s, None));
    };
    let head = s.get(..colon)?;
    let at = head.rfind([' ', 'T', 't'])?;
    let sep = if head.as_bytes().get(at) == Some(&b' ') {
        TimeSep::Space
    } else {
        TimeSep::T
    };
    let date = s.get(..at)?.trim_end();
    let time = s.get(at + 1..)?;
    valid_time(time).then_some((date, Some(sep)))
}

/// A position in an ASCII byte string.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor {
            bytes: s.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn done(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Reads a run of `min..=max` ASCII digits; `None` if the run is shorter
    /// or longer.
    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let mut value: u32 = 0;
        let mut count = 0;
        while let Some(b) = self.peek().filter(u8::is_ascii_digit) {
            count += 1;
            if count > max {
                return None;
            }
            value = value * 10 + u32::from(b - b'0');
            self.pos += 1;
        }
        (count >= min).then_some(value)
    }

    /// Reads exactly `n` ASCII digits, whatever follows them.
    fn fixed(&mut self, n: usize) -> Option<u32> {
        let mut value: u32 = 0;
        for _ in 0..n {
            let b = self.peek().filter(u8::is_ascii_digit)?;
            value = value * 10 + u32::from(b - b'0');
            self.pos += 1;
        }
        Some(value)
    }
}

/// `H:MM` or `HH:MM`, then optionally `:SS`, a fraction, and `Z` or an
/// offset.
fn valid_time(t: &str) -> bool {
    let mut c = Cursor::new(t);
    let check = |c: &mut Cursor<'_>| -> Option<()> {
        let hour = c.number(1, 2)?;
        c.eat(b':').then_some(())?;
        let minute = c.number(2, 2)?;
        if c.eat(b':') {
            let second = c.number(2, 2)?;
            if second > 60 {
                return None;
            }
            if c.eat(b'.') || c.eat(b',') {
                c.number(1, 9)?;
            }
        }
        if c.eat(b'Z') || c.eat(b'z') {
        } else if c.eat(b'+') || c.eat(b'-') {
            let oh = c.fixed(2)?;
            let om = if c.eat(b':') || !c.done() {
                c.fixed(2)?
            } else {
                0
            };
            if oh > 23 || om > 59 {
                return None;
            }
        }
        (c.done() && hour <= 23 && minute <= 59).then_some(())
    };
    check(&mut c).is_some()
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Value of a short all-digit string (at most 9 digits).
fn digits_value(s: &str) -> Option<u32> {
    if !all_digits(s) || s.len() > 9 {
        return None;
    }
    s.parse().ok()
}

/// Reads a two- or four-digit year.
fn year_value(s: &str, pivot: u8) -> Option<u32> {
    let y = digits_value(s)?;
    match s.len() {
        4 => Some(y),
        2 if y <= u32::from(pivot) => Some(2000 + y),
        2 => Some(1900 + y),
        _ => None,
    }
}

fn parse_date_part(s: &str, pivot: u8) -> Option<(Fields, Format)> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        // Compact yyyymmdd.
        if s.len() != 8 {
            return None;
        }
        let fields = Fields {
            year: digits_value(s.get(0..4)?)?,
            month: digits_value(s.get(4..6)?)?,
            day: digits_value(s.get(6..8)?)?,
        };
        return Some((fields, Format::Other));
    }
    if s.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'/' | b'-' | b'.'))
    {
        return parse_numeric(s, pivot);
    }
    parse_month_name(s, pivot).map(|f| (f, Format::Other))
}

/// `a SEP b SEP c` with digits only and one separator character.
fn parse_numeric(s: &str, pivot: u8) -> Option<(Fields, Format)> {
    let sep = s.bytes().find(|b| !b.is_ascii_digit())?;
    let mut parts = s.split(char::from(sep));
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || ![a, b, c].iter().all(|p| all_digits(p)) {
        return None;
    }
    match (a.len(), b.len(), c.len()) {
        (4, 1..=2, 1..=2) => {
            let fields = Fields {
                year: digits_value(a)?,
                month: digits_value(b)?,
                day: digits_value(c)?,
            };
            let format = if sep == b'-' {
                Format::IsoDash
            } else {
                Format::Other
            };
            Some((fields, format))
        }
        (1..=2, 1..=2, 2 | 4) => Some((
            Fields {
                year: year_value(c, pivot)?,
                month: digits_value(b)?,
                day: digits_value(a)?,
            },
            Format::Other,
        )),
        _ => None,
    }
}

/// A word of a month-name date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// Digits, with whether an ordinal suffix followed.
    Number {
        digits: &'a str,
        ordinal: bool,
    },
    Month(u32),
    Of,
}

const MONTHS: [(&str, u32); 25] = [
    ("jan", 1),
    ("january", 1),
    ("feb", 2),
    ("february", 2),
    ("mar", 3),
    ("march", 3),
    ("apr", 4),
    ("april", 4),
    ("may", 5),
    ("jun", 6),
    ("june", 6),
    ("jul", 7),
    ("july", 7),
    ("aug", 8),
    ("august", 8),
    ("sep", 9),
    ("sept", 9),
    ("september", 9),
    ("oct", 10),
    ("october", 10),
    ("nov", 11),
    ("november", 11),
    ("dec", 12),
    ("december", 12),
    ("of", 0),
];

fn token(word: &str) -> Option<Token<'_>> {
    let split = word
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(word.len());
    let (digits, rest) = (word.get(..split)?, word.get(split..)?);
    if !digits.is_empty() {
        let ordinal = !rest.is_empty();
        if ordinal
            && !["st", "nd", "rd", "th"]
                .iter()
                .any(|sfx| rest.eq_ignore_ascii_case(sfx))
        {
            return None;
        }
        return Some(Token::Number { digits, ordinal });
    }
    MONTHS
        .iter()
        .find(|(name, _)| word.eq_ignore_ascii_case(name))
        .map(|&(_, m)| if m == 0 { Token::Of } else { Token::Month(m) })
}

/// Most words a month-name date can have (`9th of March 2014`).
const MAX_TOKENS: usize = 4;

fn parse_month_name(s: &str, pivot: u8) -> Option<Fields> {
    let mut tokens = [Token::Of; MAX_TOKENS];
    let mut n = 0;
    for word in s
        .split([' ', '\t', '-', '/', '.', ','])
        .filter(|w| !w.is_empty())
    {
        let slot = tokens.get_mut(n)?;
        *slot = token(word)?;
        n += 1;
    }
    let day = |t: Token<'_>| match t {
        Token::Number { digits, .. } if (1..=2).contains(&digits.len()) => digits_value(digits),
        _ => None,
    };
    let year = |t: Token<'_>| match t {
        Token::Number {
            digits,
            ordinal: false,
        } => year_value(digits, pivot),
        _ => None,
    };
    let (d, m, y) = match tokens.get(..n)? {
        [d, Token::Month(m), y] | [d, Token::Of, Token::Month(m), y] => (day(*d)?, *m, year(*y)?),
        [Token::Month(m), d, y] => (day(*d)?, *m, year(*y)?),
        _ => return None,
    };
    Some(Fields {
        year: y,
        month: m,
        day: d,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn opts() -> DateOptions {
        DateOptions {
            century_pivot: 24,
            min_year: 1900,
            today: Date {
                year: 2024,
                month: 6,
                day: 1,
            },
        }
    }

    fn d(s: &str) -> String {
        match normalise_date(s, &opts()) {
            Ok(v) => v.iso(),
            Err(e) => format!("<{e}>"),
        }
    }

    const MAR9: &str = "2014-03-09";

    #[test]
    fn iso_formats() {
        assert_eq!(d("2014-03-09"), MAR9);
        assert_eq!(d("  2014-03-09\t"), MAR9);
        assert_eq!(d("2014-3-9"), MAR9);
        assert_eq!(d("2014-03-09T00:00:00"), MAR9);
        assert_eq!(d("2014-03-09T00:00:00Z"), MAR9);
        assert_eq!(d("2014-03-09T23:59:59.999Z"), MAR9);
        assert_eq!(d("2014-03-09t00:00"), MAR9);
        assert_eq!(d("2014-03-09 00:00:00"), MAR9);
        assert_eq!(d("2014-03-09 00:00:00.000"), MAR9);
        assert_eq!(d("2014-03-09T00:00:00+01:00"), MAR9);
        assert_eq!(d("2014-03-09T00:00:00-0500"), MAR9);
        assert_eq!(d("2014-03-09T00:00+01"), MAR9);
        assert_eq!(d("2014/03/09"), MAR9);
        assert_eq!(d("2014.03.09"), MAR9);
        assert_eq!(d("\u{FEFF}2014-03-09"), MAR9);
    }

    #[test]
    fn uk_numeric_formats() {
        for s in [
            "09/03/2014",
            "9/3/2014",
            "9/3/14",
            "09/03/14",
            "09-03-2014",
            "9-3-14",
            "09.03.2014",
            "9.3.14",
            "09/03/2014 00:00",
            "09/03/2014 00:00:00",
            "09/03/2014  12:34:56",
            "09-03-2014 00:00",
            "09.03.2014 0:00",
            "09\u{2013}03\u{2013}2014",
            "09/03/2014\u{A0}00:00",
        ] {
            assert_eq!(d(s), MAR9, "{s}");
        }
        // Always day first.
        assert_eq!(d("03/09/2014"), "2014-09-03");
        assert_eq!(d("12/11/2010"), "2010-11-12");
    }

    #[test]
    fn month_name_formats() {
        for s in [
            "9 Mar 2014",
            "9 March 2014",
            "09 march 2014",
            "9 MARCH 2014",
            "09-Mar-2014",
            "09-MAR-14",
            "9-mar-14",
            "9th March 2014",
            "9TH MARCH 2014",
            "9th of March 2014",
            "9 of March 2014",
            "9 Mar. 2014",
            "9 March, 2014",
            "March 9, 2014",
            "March 9 2014",
            "Mar 9th, 2014",
            "mar. 9, 2014",
            "9 Mar 2014 00:00",
            "9/Mar/2014",
        ] {
            assert_eq!(d(s), MAR9, "{s}");
        }
        let months = [
            ("Jan", 1),
            ("February", 2),
            ("Apr", 4),
            ("April", 4),
            ("May", 5),
            ("Jun", 6),
            ("July", 7),
            ("Aug", 8),
            ("Sep", 9),
            ("Sept", 9),
            ("Sept.", 9),
            ("September", 9),
            ("oct", 10),
            ("NOV", 11),
            ("December", 12),
        ];
        for (name, m) in months {
            assert_eq!(
                d(&format!("1 {name} 2010")),
                format!("2010-{m:02}-01"),
                "{name}"
            );
        }
        assert_eq!(d("1st Jan 2010"), "2010-01-01");
        assert_eq!(d("2nd Jan 2010"), "2010-01-02");
        assert_eq!(d("3rd Jan 2010"), "2010-01-03");
        assert_eq!(d("22nd Jan 2010"), "2010-01-22");
    }

    #[test]
    fn compact_format() {
        assert_eq!(d("20140309"), MAR9);
        assert_eq!(d("20140230"), "<impossible>");
        assert_eq!(d("09032014"), "<impossible>");
        assert_eq!(d("2014039"), "<invalid>");
        assert_eq!(d("201403090"), "<invalid>");
    }

    #[test]
    fn two_digit_years_use_the_pivot() {
        assert_eq!(d("9/3/14"), MAR9);
        assert_eq!(d("9/3/24"), "2024-03-09");
        assert_eq!(d("9/3/25"), "1925-03-09");
        assert_eq!(d("9/3/50"), "1950-03-09");
        assert_eq!(d("9/3/00"), "2000-03-09");
        assert_eq!(d("9/3/99"), "1999-03-09");
        let o = DateOptions {
            century_pivot: 10,
            ..opts()
        };
        assert_eq!(normalise_date("9/3/14", &o).map(|d| d.year), Ok(1914));
        let o = DateOptions {
            century_pivot: 99,
            today: Date::new(2200, 1, 1).unwrap_or(o.today),
            ..opts()
        };
        assert_eq!(normalise_date("9/3/99", &o).map(|d| d.year), Ok(2099));
    }

    #[test]
    fn impossible_dates() {
        for s in [
            "31/02/2014",
            "30/02/2000",
            "29/02/2023",
            "29/02/1900",
            "01/13/2014",
            "00/01/2014",
            "01/00/2014",
            "32/01/2014",
            "31/04/2014",
            "99/99/9999",
            "2014-02-30",
            "2014-13-01",
            "0000-01-01",
            "31 Feb 2014",
            "0 Mar 2014",
            "February 30, 2014",
            "20141301",
            "30-FEB-14",
        ] {
            assert_eq!(d(s), "<impossible>", "{s}");
        }
        assert_eq!(d("29/02/2000"), "2000-02-29");
        assert_eq!(d("29/02/2024"), "2024-02-29");
        assert_eq!(d("29/02/2016"), "2016-02-29");
    }

    #[test]
    fn implausible_dates() {
        assert_eq!(d("02/06/2024"), "<implausible>");
        assert_eq!(d("01/06/2024"), "2024-06-01");
        assert_eq!(d("01/01/2999"), "<implausible>");
        assert_eq!(d("31/12/1899"), "<implausible>");
        assert_eq!(d("01/01/1900"), "1900-01-01");
        assert_eq!(d("1066-10-14"), "<implausible>");
        // A two-digit year in the future of `today`.
        assert_eq!(d("01/12/24"), "<implausible>");
    }

    #[test]
    fn invalid_and_empty() {
        for s in ["", "   ", "\t\u{A0}", "\u{FEFF}"] {
            assert_eq!(d(s), "<empty>", "{s:?}");
        }
        for s in [
            "44927",
            "44927.0",
            "2014-3",
            "2014-03",
            "03/2014",
            "Mar 2014",
            "March",
            "9 Mar",
            "2014",
            "9/3/214",
            "09/03-2014",
            "9//3/2014",
            "123/3/2014",
            "9/3/2014/1",
            "2014-03-09T",
            "2014-03-09 25:00",
            "2014-03-09 12:60",
            "2014-03-09 12:00:61",
            "2014-03-09 12",
            "2014-03-09Z",
            "2014-03-0900:00",
            "09/03/2014T00:00",
            "9/3/2014 4pm",
            "9/3/2014 12:00 AM",
            "2014-03-09T00:00:00+25:00",
            "yesterday",
            "9 Marc 2014",
            "9xx March 2014",
            "9th March 14th",
            "9 March 2014 extra",
            "of 9 March 2014",
            "009 Mar 2014",
            "9 Mar 02014",
            "+2014-03-09",
            "2014-03-09.",
            "٢٠١٤-٠٣-٠٩",
            "09/03/2014 00:00:00 +",
            "::::",
            "1:1",
        ] {
            assert_eq!(d(s), "<invalid>", "{s:?}");
        }
        let long = "9".repeat(100);
        assert_eq!(d(&long), "<invalid>");
    }

    #[test]
    fn date_methods() {
        let date = Date::new(2014, 3, 9).unwrap_or(Date {
            year: 0,
            month: 0,
            day: 0,
        });
        assert_eq!(date.iso(), MAR9);
        assert_eq!(date.to_string(), MAR9);
        assert_eq!(date.year_month(), "2014-03");
        assert_eq!(date.swapped(), Date::new(2014, 9, 3));
        assert_eq!(Date::new(2014, 1, 31).and_then(|d| d.swapped()), None);
        assert_eq!(
            Date::new(2014, 5, 5).and_then(|d| d.swapped()),
            Date::new(2014, 5, 5)
        );
        assert_eq!(
            Date::new(1, 1, 1).map(|d| d.iso()),
            Some("0001-01-01".to_string())
        );
        assert_eq!(Date::new(10000, 1, 1), None);
        assert_eq!(Date::new(0, 1, 1), None);
        assert_eq!(Date::new(2014, 0, 1), None);
        assert_eq!(Date::new(2014, 1, 0), None);
        assert!(Date::new(2014, 1, 31) < Date::new(2014, 2, 1));
        assert!(Date::new(2013, 12, 31) < Date::new(2014, 1, 1));
        // Unchecked dates never panic.
        let junk = Date {
            year: 65535,
            month: 200,
            day: 255,
        };
        assert_eq!(junk.iso(), "65535-200-255");
        assert_eq!(junk.swapped(), None);
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`), to check
    /// `date_from_days` against.
    fn days_from_civil(date: Date) -> i64 {
        let m = i64::from(date.month);
        let y = i64::from(date.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(date.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    #[test]
    fn civil_from_days_known_values() {
        let cases = [
            (0, (1970, 1, 1)),
            (-1, (1969, 12, 31)),
            (59, (1970, 3, 1)),
            (10_957, (2000, 1, 1)),
            (11_016, (2000, 2, 29)),
            (16_138, (2014, 3, 9)),
            (19_723, (2024, 1, 1)),
            (2_932_896, (9999, 12, 31)),
            (-719_162, (1, 1, 1)),
        ];
        for (days, (y, m, dd)) in cases {
            assert_eq!(
                date_from_days(days),
                Date {
                    year: y,
                    month: m,
                    day: dd
                },
                "{days}"
            );
        }
        assert_eq!(date_from_days(i64::MAX).year, 9999);
        assert_eq!(date_from_days(i64::MIN).year, 1);
        assert_eq!(date_from_days(3_000_000).year, 9999);
        assert_eq!(date_from_days(-800_000).year, 1);
    }

    #[test]
    fn today_is_sensible() {
        let today = today_utc();
        assert!(today.year >= 2024 && today.year < 2200, "{today}");
        assert_eq!(Date::new(today.year, today.month, today.day), Some(today));
    }

    fn valid_date() -> impl Strategy<Value = Date> {
        (1u16..=9999, 1u8..=12, 1u8..=31)
            .prop_filter_map("real date", |(y, m, dd)| Date::new(y, m, dd))
    }

    proptest! {
        #[test]
        fn iso_round_trips(date in valid_date()) {
            let o = DateOptions {
                century_pivot: 24,
                min_year: 1,
                today: Date { year: 9999, month: 12, day: 31 },
            };
            prop_assert_eq!(normalise_date(&date.iso(), &o), Ok(date));
            prop_assert_eq!(normalise_date(&format!("{}T00:00:00Z", date.iso()), &o), Ok(date));
            let uk = format!("{:02}/{:02}/{:04}", date.day, date.month, date.year);
            prop_assert_eq!(normalise_date(&uk, &o), Ok(date));
            let compact = format!("{:04}{:02}{:02}", date.year, date.month, date.day);
            prop_assert_eq!(normalise_date(&compact, &o), Ok(date));
        }

        #[test]
        fn swapped_twice_is_identity(date in valid_date()) {
            if let Some(s) = date.swapped() {
                prop_assert_eq!(s.swapped(), Some(date));
            }
        }

        #[test]
        fn days_round_trip(days in -719_162i64..=2_932_896) {
            prop_assert_eq!(days_from_civil(date_from_days(days)), days);
        }

        #[test]
        fn never_panics(s in any::<String>(), pivot in any::<u8>(), min_year in any::<u16>()) {
            let o = DateOptions { century_pivot: pivot, min_year, today: Date { year: 2024, month: 6, day: 1 } };
            let _ = normalise_date(&s, &o);
        }

        #[test]
        fn never_panics_date_like(s in "[0-9 /.:,TZ+-]{0,24}|[0-9]{1,2}(st|th)? ?(of)? ?[A-Za-z]{0,9}[ ,.-]{0,2}[0-9]{0,5}") {
            if let Ok(date) = normalise_date(&s, &opts()) {
                prop_assert_eq!(Date::new(date.year, date.month, date.day), Some(date));
                prop_assert!(date <= opts().today && date.year >= opts().min_year);
            }
        }

        #[test]
        fn normalised_iso_is_a_fixed_point(s in "[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2,4}") {
            if let Ok(date) = normalise_date(&s, &opts()) {
                prop_assert_eq!(normalise_date(&date.iso(), &opts()), Ok(date));
            }
        }
    }
}
