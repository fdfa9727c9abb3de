//! A field value after normalisation, and how a raw string becomes one.

use std::ops::Deref;

use crate::normalise::date::{Date, DateOptions};
use crate::normalise::name::NameOptions;
use crate::normalise::nickname;
use crate::normalise::postcode::Postcode;
use crate::normalise::sex::Sex;
use crate::normalise::{date, name, nhs, postcode, sex, text, Normalised};
use crate::schema::keys::{MAX_DELETIONS, NICKNAME_SET_SIZE};
use crate::schema::{FieldKind, FieldSpec, Transform, DEFAULT_CENTURY_PIVOT, DEFAULT_MIN_YEAR};

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

/// Text of a value or one of its levels: borrowed from the value, or short enough (at most 16
/// bytes) to live inline, so encoding allocates nothing for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text<'a> {
    /// Borrowed from the value.
    Borrowed(&'a str),
    /// Built inline: the bytes and their length.
    Inline([u8; 16], u8),
}

impl Text<'_> {
    fn digits(parts: &[(u32, usize)]) -> Text<'static> {
        let mut buf = [0u8; 16];
        let mut n = 0usize;
        for (i, &(value, width)) in parts.iter().enumerate() {
            if i > 0 {
                buf[n] = b'-';
                n += 1;
            }
            let mut v = value;
            for k in (0..width).rev() {
                buf[n + k] = b'0' + (v % 10) as u8;
                v /= 10;
            }
            n += width;
        }
        Text::Inline(buf, n as u8)
    }

    fn date(d: &Date) -> Text<'static> {
        Text::digits(&[
            (u32::from(d.year), 4),
            (u32::from(d.month), 2),
            (u32::from(d.day), 2),
        ])
    }
}

impl Text<'_> {
    /// The bytes of the text (what is hashed), without checking them again as UTF-8.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Text::Borrowed(s) => s.as_bytes(),
            Text::Inline(buf, len) => &buf[..usize::from(*len).min(16)],
        }
    }
}

impl Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Text::Borrowed(s) => s,
            Text::Inline(buf, len) => std::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or(""),
        }
    }
}

impl Value {
    /// The memory of a text value, to build another in
    /// ([`FieldNormaliser::normalise_reusing`]).
    pub(crate) fn into_buffer(self) -> Option<String> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The canonical string that is tokenised and cut into q-grams (dates as `YYYY-MM-DD`).
    pub fn canonical(&self) -> Text<'_> {
        match self {
            Value::Text(s) => Text::Borrowed(s),
            Value::Date(d) => Text::date(d),
            Value::Postcode(p) => Text::Borrowed(p.as_str()),
            Value::Sex(s) => Text::Borrowed(s.as_str()),
        }
    }

    /// The string of a one-valued transform of this value, `None` when it does not exist for it
    /// (or is a set transform: see [`for_each_in_set`](Self::for_each_in_set)).
    pub fn level(&self, level: Transform) -> Option<Text<'_>> {
        match (self, level) {
            (Value::Date(d), Transform::Swapped) => d.swapped().map(|s| Text::date(&s)),
            (Value::Date(d), Transform::YearMonth) => Some(Text::digits(&[
                (u32::from(d.year), 4),
                (u32::from(d.month), 2),
            ])),
            (Value::Date(d), Transform::Year) => Some(Text::digits(&[(u32::from(d.year), 4)])),
            (Value::Date(d), Transform::Unordered) => Some(Text::digits(&[
                (u32::from(d.year), 4),
                (u32::from(d.month.min(d.day)), 2),
                (u32::from(d.month.max(d.day)), 2),
            ])),
            (Value::Postcode(p), Transform::Sector) => Some(Text::Borrowed(p.sector())),
            (Value::Postcode(p), Transform::District) => Some(Text::Borrowed(p.district())),
            (Value::Postcode(p), Transform::Area) => Some(Text::Borrowed(p.area())),
            (Value::Text(s), Transform::Soundex) => levels::soundex_code(s).map(|c| {
                let mut buf = [0u8; 16];
                buf[..4].copy_from_slice(&c);
                Text::Inline(buf, 4)
            }),
            (Value::Text(s), Transform::Initial) => s
                .char_indices()
                .nth(1)
                .map(|(i, _)| &s[..i])
                .or(Some(s.as_str()))
                .filter(|t| !t.is_empty())
                .map(Text::Borrowed),
            (Value::Text(s), Transform::NumberStreet) => {
                Some(Text::Borrowed(levels::number_street(s)))
            }
            _ => None,
        }
    }

    /// Calls `f` with each value of a set transform of this value (in a fixed order, possibly
    /// repeated), built in `buf`; nothing when the transform does not apply.
    pub fn for_each_in_set(&self, level: Transform, buf: &mut Vec<u8>, mut f: impl FnMut(&[u8])) {
        match (self, level) {
            (Value::Text(s), Transform::Deletions) => {
                f(s.as_bytes());
                for (n, (i, c)) in s.char_indices().enumerate() {
                    if n == MAX_DELETIONS {
                        break;
                    }
                    buf.clear();
                    buf.extend_from_slice(&s.as_bytes()[..i]);
                    buf.extend_from_slice(&s.as_bytes()[i + c.len_utf8()..]);
                    f(buf);
                }
            }
            (Value::Text(s), Transform::Nickname) => {
                f(s.as_bytes());
                let formal = nickname::formal_names(s);
                for name in formal {
                    f(name.as_bytes());
                }
                // Padding: the name, a zero byte (which no normalised name holds) and the
                // value's place, so each pad equals no name and no other name's pad.
                for place in 1 + formal.len()..NICKNAME_SET_SIZE {
                    buf.clear();
                    buf.extend_from_slice(s.as_bytes());
                    buf.push(0);
                    buf.push(place as u8);
                    f(buf);
                }
            }
            (Value::Date(d), Transform::DigitMasks) => {
                let date = Text::date(d);
                let mut digits = [0u8; 8];
                let mut n = 0;
                for &b in date.as_bytes() {
                    if b.is_ascii_digit() && n < digits.len() {
                        digits[n] = b;
                        n += 1;
                    }
                }
                for i in 0..n {
                    let mut masked = digits;
                    masked[i] = b'_';
                    f(&masked[..n]);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_text_matches_the_date_formats() {
        let d = Date::new(2014, 3, 9).unwrap();
        let v = Value::Date(d);
        assert_eq!(&*v.canonical(), d.iso());
        assert_eq!(
            &*v.level(Transform::YearMonth).unwrap(),
            levels::year_month(&d)
        );
        assert_eq!(&*v.level(Transform::Year).unwrap(), levels::year(&d));
        assert_eq!(&*v.level(Transform::Swapped).unwrap(), "2014-09-03");
        assert!(Value::Date(Date::new(2014, 3, 13).unwrap())
            .level(Transform::Swapped)
            .is_none());
        let n = Value::Text("zoë".into());
        assert_eq!(&*n.level(Transform::Initial).unwrap(), "z");
        assert_eq!(
            &*Value::Text("ł".into()).level(Transform::Initial).unwrap(),
            "ł"
        );
        assert_eq!(&*n.level(Transform::Soundex).unwrap(), "Z000");
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
        self.normalise_reusing(raw, &mut String::new())
    }

    /// [`normalise`](Self::normalise), building a text value in `buffer`'s memory: the value
    /// takes the buffer (leaving it empty) and gives it back through
    /// [`into_buffer`](Value::into_buffer), so a thread encoding many records allocates no text.
    pub(crate) fn normalise_reusing(&self, raw: &str, buffer: &mut String) -> Normalised<Value> {
        let taken = |done: Normalised<()>, buffer: &mut String| {
            done.map(|()| Value::Text(std::mem::take(buffer)))
        };
        match self.kind {
            FieldKind::Name => taken(name::normalise_name_into(raw, &self.name, buffer), buffer),
            FieldKind::Text => taken(text::normalise_text_into(raw, buffer), buffer),
            FieldKind::NhsNumber => taken(nhs::normalise_nhs_number_into(raw, buffer), buffer),
            FieldKind::Date => date::normalise_date(raw, &self.date).map(Value::Date),
            FieldKind::Postcode => postcode::normalise_postcode(raw).map(Value::Postcode),
            FieldKind::Sex => sex::normalise_sex(raw).map(Value::Sex),
        }
    }
}
