//! Free-text normalisation (for example address line 1), and the text
//! "folding" shared with [`crate::normalise::name`].
//!
//! # Folding rules
//!
//! Names ([`crate::normalise::name::normalise_name`]) and free text
//! ([`normalise_text`]) go through the same steps, in this order:
//!
//! 1. **Mojibake repair.** Text whose UTF-8 bytes were wrongly decoded as
//!    Windows-1252 or Latin-1 is repaired: `JosÃ©` becomes `José`,
//!    `Å\u{9e}` or `Åž` becomes `Ş`, `Oâ€™Neil` becomes `O’Neil`. The repair
//!    is made only when *all* of these hold, otherwise the text is left as it
//!    is:
//!    * every character of the value is ASCII, Latin-1 (U+0000 to U+00FF) or
//!      one of the 27 characters that Windows-1252 puts at bytes 0x80 to 0x9F
//!      (such as `€`, `’`, `ž`), so that each can be turned back into one byte;
//!    * those bytes contain at least one multi-byte sequence and are, as a
//!      whole, valid UTF-8;
//!    * the decoded text is plausible: every decoded character is in
//!      U+0080 to U+017F (Latin-1 Supplement, Latin Extended-A), or is one of
//!      the Latin Extended-B letters used in Romanian (`ș ț Ș Ț`), Vietnamese
//!      (`ơ ư Ơ Ư`) or Pinyin (`ǎ ǐ ǒ ǔ ǖ ǘ ǚ ǜ` and capitals), or is `ʻ`
//!      or `ʼ`, or is a combining accent (U+0300 to U+036F) following a
//!      letter, or is a letter of another script (U+0370 to U+07FF: Greek,
//!      Cyrillic, Armenian, Hebrew, Arabic, ...) that is not next to an ASCII
//!      letter, or is at U+0800 or above (such as `’`, `€`, Chinese).
//!      This rejects false repairs of genuine text such as `ANDRÉ` followed by
//!      a no-break space (which would otherwise decode to `ANDRɠ`).
//!
//!    The repair is repeated (up to three times) so that text that was
//!    mis-decoded twice (`JosÃƒÂ©`) is also repaired.
//! 2. **Apostrophes removed.** These characters are deleted outright, so
//!    `O'Neil` becomes `oneil`: `'` `‘` `’` `‛` `` ` `` `´` `′` `‵` `ʹ` `ʻ`
//!    `ʼ` `ʽ` `ʾ` `ʿ` `՚` `׳` `Ꞌ` `ꞌ` `＇` `｀`. The middle dot `·` (as in
//!    Catalan `l·l`) is deleted too.
//! 3. **Unicode NFKC** (compatibility composition): full-width letters and
//!    digits become ASCII, ligatures are split (`ﬁ` → `fi`), `ĳ` → `ij`, and
//!    so on.
//! 4. **Lower-case**, using the full Unicode lower-case mapping of each
//!    character (`İ` → `i̇`, `Σ` → `σ`).
//! 5. **Diacritics removed.** The text is decomposed (NFD) and these
//!    combining marks are dropped:
//!    * every mark in the generic combining-diacritics blocks (U+0300–U+036F,
//!      U+1AB0–U+1AFF, U+1DC0–U+1DFF, U+20D0–U+20FF, U+FE20–U+FE2F): the
//!      accents, cedillas, ogoneks, carons, horns, Greek tonos and so on of
//!      Latin, Greek and Cyrillic letters (`é` → `e`, `ș` → `s`, `ά` → `α`,
//!      `й` → `и`);
//!    * Hebrew points and cantillation marks (U+0591–U+05C7) and Arabic
//!      harakat and Quranic marks (U+0610–U+061A, U+064B–U+065F, U+0670,
//!      U+06D6–U+06ED, U+08CA–U+08FF), which are optional vowel signs
//!      (`مُحَمَّد` → `محمد`).
//!
//!    Other combining marks are an essential part of their letter and are
//!    kept: vowel signs and viramas of Indic scripts, Thai and Lao vowel and
//!    tone marks, Japanese (han)dakuten (`が` stays `が`), and so on.
//! 6. **Transliteration** of letters that do not decompose:
//!
//!    | letter | becomes |  | letter | becomes |
//!    |---|---|---|---|---|
//!    | `ł Ł` | `l` | | `þ Þ` | `th` |
//!    | `ø Ø` | `o` | | `ð Ð` | `d` |
//!    | `đ Đ` | `d` | | `ı` | `i` |
//!    | `ß ẞ` | `ss` | | `ħ Ħ` | `h` |
//!    | `æ Æ` | `ae` | | `ŀ Ŀ` | `l` |
//!    | `œ Œ` | `oe` | | `ŧ Ŧ` | `t` |
//!    | `ĸ` | `k` | | `ς` (final sigma) | `σ` |
//!
//!    Other letters without a decomposition (such as `ŋ`, `ə`, `ɛ`) are kept
//!    as they are.
//! 7. **Classification** of each remaining character:
//!    * letters (Unicode `Alphabetic`, any script) are kept, as are the
//!      combining marks kept in step 5;
//!    * digits and other numeric characters are removed in names and kept
//!      in free text;
//!    * invisible characters (soft hyphen, zero-width space and joiners,
//!      directional marks, byte-order mark, variation selectors) are removed;
//!    * everything else (white space of any kind, hyphens, dots, commas,
//!      slashes, underscores, brackets, other punctuation and symbols,
//!      control characters) separates words.
//! 8. **Spacing**: words are joined by exactly one ASCII space, with none at
//!    the start or end.
//! 9. The result is put in Unicode NFC (this matters only for scripts such
//!    as Korean Hangul, whose syllables step 5 took apart).
//!
//! Values that are pure ASCII skip steps 1, 3, 5, 6 and 9, which cannot change
//! them; the result is the same as through the full path.
//!
//! # Free-text rules
//!
//! [`normalise_text`] folds as above, keeping digits, and then expands these
//! street abbreviations when they are a whole word:
//!
//! | word | becomes | condition |
//! |---|---|---|
//! | `rd` | `road` | |
//! | `st` | `street` | not the first word, and the word before it contains no digit (so `St Mary's Road` and `12 St Mary's Road` keep `st`, `12 High St` gets `street`) |
//! | `ave`, `av` | `avenue` | |
//! | `ln` | `lane` | |
//! | `cres` | `crescent` | |
//! | `cl` | `close` | |
//! | `ct` | `court` | |
//! | `dr` | `drive` | same condition as `st` |
//! | `gdns` | `gardens` | |
//! | `pl` | `place` | |
//! | `sq` | `square` | |
//! | `terr`, `ter` | `terrace` | |
//! | `grv` | `grove` | |
//!
//! An empty result is [`MissingReason::Empty`].
//!
//! ```
//! use pseudolink::internals::normalise::text::normalise_text;
//! assert_eq!(normalise_text("Flat 2, 14 O'Connell St.").unwrap(), "flat 2 14 oconnell street");
//! assert_eq!(normalise_text("St. Mary's Rd").unwrap(), "st marys road");
//! assert_eq!(normalise_text("3 Château Gdns").unwrap(), "3 chateau gardens");
//! ```

use std::borrow::Cow;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use crate::normalise::{is_invisible, MissingReason, Normalised};

/// Normalises free text such as an address line.
///
/// See the [module documentation](self) for the rules.
///
/// ```
/// use pseudolink::internals::normalise::{text::normalise_text, MissingReason};
/// assert_eq!(normalise_text("  12A  High St ").unwrap(), "12a high street");
/// assert_eq!(normalise_text("--- "), Err(MissingReason::Empty));
/// ```
pub fn normalise_text(raw: &str) -> Normalised<String> {
    let mut out = String::new();
    normalise_text_into(raw, &mut out).map(|()| out)
}

/// [`normalise_text`] into `out` (its previous text replaced; its memory reused).
pub(crate) fn normalise_text_into(raw: &str, out: &mut String) -> Normalised<()> {
    fold_into(raw, Digits::Keep, out);
    expand_abbreviations(out);
    if out.is_empty() {
        Err(MissingReason::Empty)
    } else {
        Ok(())
    }
}

/// What folding does with digits and other numeric characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Digits {
    /// Delete them (names).
    Remove,
    /// Keep them as word characters (free text).
    Keep,
}

/// Room reserved beyond the input length so that abbreviation expansion
/// rarely has to reallocate.
const SPARE_CAPACITY: usize = 8;

/// [`fold_into`] a new string (for tests).
#[cfg(test)]
pub(crate) fn fold(raw: &str, digits: Digits) -> String {
    let mut out = String::new();
    fold_into(raw, digits, &mut out);
    out
}

/// Folds `raw` following the module's folding rules (steps 1 to 9) into `out`, replacing its
/// text (its memory is reused).
///
/// The result contains only words separated by single ASCII spaces, with no
/// leading or trailing space; it may be empty.
pub(crate) fn fold_into(raw: &str, digits: Digits, out: &mut String) {
    out.clear();
    out.reserve(raw.len() + SPARE_CAPACITY);
    let mut w = Writer {
        out,
        pending_space: false,
    };
    if raw.is_ascii() {
        for b in raw.bytes() {
            w.ascii(b, digits);
        }
        return;
    }
    let repaired = repair_mojibake(raw);
    let chars = repaired
        .chars()
        .filter(|&c| !is_apostrophe(c))
        .nfkc()
        .flat_map(char::to_lowercase)
        .nfd();
    for c in chars {
        if is_stripped_mark(c) {
            continue;
        }
        match transliterate(c) {
            Some(t) => {
                for tc in t.chars() {
                    w.keep(tc);
                }
            }
            None => w.classify(c, digits),
        }
    }
    let out = w.out;
    if !out.is_ascii() && is_nfc_quick(out.chars()) != IsNormalized::Yes {
        *out = out.chars().nfc().collect();
    }
}

/// Builds the folded string, collapsing separators into single spaces.
struct Writer<'o> {
    out: &'o mut String,
    pending_space: bool,
}

impl Writer<'_> {
    /// Appends a word character.
    #[inline]
    fn keep(&mut self, c: char) {
        if self.pending_space {
            if !self.out.is_empty() {
                self.out.push(' ');
            }
            self.pending_space = false;
        }
        self.out.push(c);
    }

    /// Marks a word boundary.
    #[inline]
    fn separate(&mut self) {
        self.pending_space = true;
    }

    /// The whole pipeline for one byte of an all-ASCII value.
    #[inline]
    fn ascii(&mut self, b: u8, digits: Digits) {
        match b {
            b'a'..=b'z' => self.keep(char::from(b)),
            b'A'..=b'Z' => self.keep(char::from(b.to_ascii_lowercase())),
            b'0'..=b'9' => {
                if digits == Digits::Keep {
                    self.keep(char::from(b));
                }
            }
            b'\'' | b'`' => {}
            _ => self.separate(),
        }
    }

    /// Step 7 for a character that has been through steps 1 to 6.
    #[inline]
    fn classify(&mut self, c: char, digits: Digits) {
        if is_apostrophe(c) || is_invisible(c) {
            return;
        }
        if c.is_numeric() {
            if digits == Digits::Keep {
                self.keep(c);
            }
            return;
        }
        if c.is_alphabetic() || is_combining_mark(c) {
            self.keep(c);
        } else {
            self.separate();
        }
    }
}

/// Apostrophe-like characters, deleted outright (plus the middle dot).
pub(crate) fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\''
            | '`'
            | '\u{B4}'   // ´ acute accent
            | '\u{B7}'   // · middle dot (Catalan l·l)
            | '\u{2018}' // ‘
            | '\u{2019}' // ’
            | '\u{201B}' // ‛
            | '\u{2032}' // ′ prime
            | '\u{2035}' // ‵ reversed prime
            | '\u{2B9}'  // ʹ
            | '\u{2BB}'  // ʻ
            | '\u{2BC}'  // ʼ
            | '\u{2BD}'  // ʽ
            | '\u{2BE}'  // ʾ
            | '\u{2BF}'  // ʿ
            | '\u{55A}'  // ՚ Armenian apostrophe
            | '\u{5F3}'  // ׳ Hebrew geresh
            | '\u{A78B}' // Ꞌ saltillo
            | '\u{A78C}' // ꞌ saltillo
            | '\u{FF07}' // ＇ full-width apostrophe
            | '\u{FF40}' // ｀ full-width grave
    )
}

/// Combining marks removed in step 5.
fn is_stripped_mark(c: char) -> bool {
    matches!(
        c,
        '\u{300}'..='\u{36F}'
            | '\u{591}'..='\u{5C7}'
            | '\u{610}'..='\u{61A}'
            | '\u{64B}'..='\u{65F}'
            | '\u{670}'
            | '\u{6D6}'..='\u{6ED}'
            | '\u{8CA}'..='\u{8FF}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE20}'..='\u{FE2F}'
    ) && is_combining_mark(c)
}

/// Step 6: letters that do not decompose into a base letter and marks.
fn transliterate(c: char) -> Option<&'static str> {
    Some(match c {
        'ł' | 'Ł' => "l",
        'ø' | 'Ø' => "o",
        'đ' | 'Đ' => "d",
        'ß' | 'ẞ' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'þ' | 'Þ' => "th",
        'ð' | 'Ð' => "d",
        'ı' => "i",
        'ħ' | 'Ħ' => "h",
        'ŀ' | 'Ŀ' => "l",
        'ŧ' | 'Ŧ' => "t",
        'ĸ' => "k",
        'ς' => "σ",
        _ => return None,
    })
}

/// How many times mojibake repair may be applied to one value.
const MAX_MOJIBAKE_ROUNDS: usize = 3;

/// Step 1: repairs UTF-8 text that was decoded as Windows-1252 / Latin-1.
pub(crate) fn repair_mojibake(s: &str) -> Cow<'_, str> {
    let mut current = Cow::Borrowed(s);
    for _ in 0..MAX_MOJIBAKE_ROUNDS {
        match repair_once(&current) {
            Some(fixed) => current = Cow::Owned(fixed),
            None => break,
        }
    }
    current
}

/// The byte that Windows-1252 (or, for 0x80 to 0x9F, Latin-1) decodes to `c`.
fn cp1252_byte(c: char) -> Option<u8> {
    if let Ok(b) = u8::try_from(u32::from(c)) {
        return Some(b);
    }
    Some(match c {
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        _ => return None,
    })
}

/// One round of mojibake repair; `None` when the text is left as it is.
fn repair_once(s: &str) -> Option<String> {
    // Cheap structural pre-check, without allocating: every character maps
    // to a byte, and the bytes have the shape of UTF-8 with at least one
    // multi-byte sequence.
    let mut multibyte = false;
    let mut continuations = 0u8;
    for c in s.chars() {
        let b = cp1252_byte(c)?;
        if continuations > 0 {
            if (0x80..=0xBF).contains(&b) {
                continuations -= 1;
                continue;
            }
            return None;
        }
        continuations = match b {
            0x00..=0x7F => 0,
            0xC2..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF4 => 3,
            _ => return None,
        };
        multibyte |= continuations > 0;
    }
    if continuations > 0 || !multibyte {
        return None;
    }
    let bytes: Vec<u8> = s.chars().filter_map(cp1252_byte).collect();
    let decoded = String::from_utf8(bytes).ok()?;
    plausible(&decoded).then_some(decoded)
}

/// Whether every non-ASCII character of a repaired value is plausible.
fn plausible(decoded: &str) -> bool {
    let mut prev: Option<char> = None;
    let mut chars = decoded.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let ok = match u32::from(c) {
            0..=0x17F => true,
            0x180..=0x24F => matches!(
                c,
                'Ơ' | 'ơ' | 'Ư' | 'ư' | '\u{1CD}'..='\u{1DC}' | '\u{218}'..='\u{21B}'
            ),
            0x250..=0x2FF => matches!(c, 'ʻ' | 'ʼ'),
            0x300..=0x36F => prev.is_some_and(char::is_alphabetic),
            0x370..=0x7FF => {
                !(prev.is_some_and(|p| p.is_ascii_alphabetic())
                    || next.is_some_and(|n| n.is_ascii_alphabetic()))
            }
            _ => true,
        };
        if !ok {
            return false;
        }
        prev = Some(c);
    }
    true
}

/// The expansion of a street abbreviation, if `word` is one.
///
/// `first` is whether the word is the first of the value; `after_number`
/// whether the word before it contains a digit.
fn expansion(word: &str, first: bool, after_number: bool) -> Option<&'static str> {
    Some(match word {
        "rd" => "road",
        "st" if !first && !after_number => "street",
        "ave" | "av" => "avenue",
        "ln" => "lane",
        "cres" => "crescent",
        "cl" => "close",
        "ct" => "court",
        "dr" if !first && !after_number => "drive",
        "gdns" => "gardens",
        "pl" => "place",
        "sq" => "square",
        "terr" | "ter" => "terrace",
        "grv" => "grove",
        _ => return None,
    })
}

/// Expands street abbreviations in a folded value, in place.
fn expand_abbreviations(s: &mut String) {
    let mut start = 0;
    let mut first = true;
    let mut after_number = false;
    while start < s.len() {
        let Some(rest) = s.get(start..) else { return };
        // Found byte by byte: words are short, and `str::find` costs more to set up.
        let end = rest
            .bytes()
            .position(|b| b == b' ')
            .map_or(s.len(), |p| start + p);
        let Some(word) = s.get(start..end) else {
            return;
        };
        let has_digit = word.chars().any(char::is_numeric);
        let next_start = match expansion(word, first, after_number) {
            Some(full) => {
                s.replace_range(start..end, full);
                start + full.len() + 1
            }
            None => end + 1,
        };
        first = false;
        after_number = has_digit;
        start = next_start;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> String {
        match normalise_text(s) {
            Ok(v) => v,
            Err(e) => format!("<{e}>"),
        }
    }

    /// Encodes `s` as UTF-8 and decodes the bytes as Windows-1252 (with
    /// Latin-1 for the bytes Windows-1252 leaves undefined).
    pub(crate) fn to_mojibake(s: &str) -> String {
        let mut table = [char::from(0u8); 256];
        for (b, slot) in table.iter_mut().enumerate() {
            *slot = char::from(u8::try_from(b).unwrap_or(0));
        }
        for c in (0x100u32..0x2200).filter_map(char::from_u32) {
            if let Some(b) = cp1252_byte(c) {
                table[usize::from(b)] = c;
            }
        }
        s.bytes().map(|b| table[usize::from(b)]).collect()
    }

    #[test]
    fn mojibake_helper_round_trips() {
        assert_eq!(to_mojibake("José"), "JosÃ©");
        assert_eq!(to_mojibake("O’Neil"), "Oâ€™Neil");
        assert_eq!(to_mojibake("Ş"), "Åž");
        assert_eq!(to_mojibake("Ł"), "Å\u{81}");
    }

    #[test]
    fn mojibake_repairs() {
        assert_eq!(repair_mojibake("JosÃ©"), "José");
        assert_eq!(repair_mojibake("Å\u{9e}"), "Ş");
        assert_eq!(repair_mojibake("Åž"), "Ş");
        assert_eq!(repair_mojibake("Oâ€™Neil"), "O’Neil");
        assert_eq!(repair_mojibake("Ã˜yvind"), "Øyvind");
        assert_eq!(repair_mojibake("Å\u{81}ukasz"), "Łukasz");
        assert_eq!(repair_mojibake("MÃ¼ller"), "Müller");
        assert_eq!(repair_mojibake("È™tefan"), "ștefan");
        assert_eq!(repair_mojibake("Ð˜Ð²Ð°Ð½"), "Иван");
        assert_eq!(repair_mojibake("çŽ‹èŠ³"), "王芳");
        assert_eq!(repair_mojibake("Ù…Ø\u{AD}Ù…Ø¯"), "محمد");
        assert_eq!(repair_mojibake("Jose\u{301}"), "Jose\u{301}");
        assert_eq!(repair_mojibake("JoseÌ\u{81}"), "Jose\u{301}");
        // Twice mis-decoded.
        assert_eq!(repair_mojibake("JosÃƒÂ©"), "José");
        assert_eq!(repair_mojibake(&to_mojibake(&to_mojibake("Zoë"))), "Zoë");
    }

    #[test]
    fn mojibake_leaves_genuine_text_alone() {
        for s in [
            "José",
            "JOSÉ",
            "Müller",
            "MÄKELÄ\u{A0}JUSSI",
            "ANDRÉ\u{A0}SMITH",
            "RENÉ’S",
            "CHLOÉ–JONES",
            "Ãx",
            "Ã",
            "Ş",
            "plain",
            "£5",
            "Łukasz Ã©",
            "é’",
        ] {
            assert_eq!(repair_mojibake(s), s, "{s:?}");
        }
        // Bytes that are not valid UTF-8 (overlong, surrogate, too large).
        for s in [
            "\u{C0}\u{80}",
            "í\u{A0}\u{80}",
            "ô\u{90}\u{80}\u{80}",
            "à\u{80}\u{80}",
        ] {
            assert_eq!(repair_mojibake(s), s, "{s:?}");
        }
    }

    #[test]
    fn folding_rules() {
        assert_eq!(fold("  Hello,   World!! ", Digits::Keep), "hello world");
        assert_eq!(fold("O'Neil", Digits::Keep), "oneil");
        assert_eq!(
            fold("O’Neil O‘Neil O`Neil O´Neil OʼNeil", Digits::Keep),
            "oneil oneil oneil oneil oneil"
        );
        assert_eq!(fold("Smith-Jones", Digits::Keep), "smith jones");
        assert_eq!(
            fold("a.b,c/d_e\\f(g)h&i+j", Digits::Keep),
            "a b c d e f g h i j"
        );
        assert_eq!(
            fold("a\u{A0}\tb\u{3000}c\u{2003}d\ne", Digits::Keep),
            "a b c d e"
        );
        assert_eq!(fold("R2D2", Digits::Remove), "rd");
        assert_eq!(fold("R2D2", Digits::Keep), "r2d2");
        assert_eq!(fold("Ｆｕｌｌ　ｗｉｄｔｈ１", Digits::Keep), "full width1");
        assert_eq!(fold("ﬁnn", Digits::Keep), "finn");
        assert_eq!(fold("Col·lecció", Digits::Keep), "colleccio");
        assert_eq!(fold("ĿLUÍS", Digits::Keep), "lluis");
        assert_eq!(fold("Smith\u{AD}Jones\u{200B}", Digits::Keep), "smithjones");
        assert_eq!(fold("ΟΔΥΣΣΕΥΣ", Digits::Keep), "οδυσσευσ");
        assert_eq!(fold("Οδυσσεύς", Digits::Keep), "οδυσσευσ");
        assert_eq!(
            fold("İstanbul ISTANBUL ıstanbul", Digits::Keep),
            "istanbul istanbul istanbul"
        );
        assert_eq!(
            fold("Ñandú Çelik Šárka Ærø", Digits::Keep),
            "nandu celik sarka aero"
        );
        assert_eq!(fold("Nguyễn Thị Ơn", Digits::Keep), "nguyen thi on");
        assert_eq!(fold("Jose\u{301}", Digits::Keep), "jose");
        assert_eq!(fold("JosÃ©", Digits::Keep), "jose");
    }

    #[test]
    fn non_latin_scripts_are_kept() {
        assert_eq!(fold("محمد", Digits::Keep), "محمد");
        // Arabic harakat (vowel points) are dropped.
        assert_eq!(fold("مُحَمَّد", Digits::Keep), "محمد");
        assert_eq!(fold("王芳", Digits::Keep), "王芳");
        assert_eq!(fold("Иван ПЕТРОВ", Digits::Keep), "иван петров");
        assert_eq!(fold("김민준", Digits::Keep), "김민준");
        assert_eq!(fold("राम", Digits::Keep), "राम");
        assert_eq!(fold("שָׁלוֹם", Digits::Keep), "שלום");
        // Marks that are part of the letter are kept.
        assert_eq!(fold("がっこう ｶﾞｯｺｳ", Digits::Keep), "がっこう ガッコウ");
        assert_eq!(fold("क्षत्रिय", Digits::Keep), "क्षत्रिय");
        assert_eq!(fold("สมศักดิ์", Digits::Keep), "สมศักดิ์");
        assert_eq!(fold("Йорк ЁЛКА", Digits::Keep), "иорк елка");
        assert_eq!(fold("Άννα", Digits::Keep), "αννα");
    }

    #[test]
    fn transliteration_table() {
        let cases = [
            ("ł Ł", "l l"),
            ("ø Ø", "o o"),
            ("đ Đ", "d d"),
            ("ß ẞ", "ss ss"),
            ("æ Æ", "ae ae"),
            ("œ Œ", "oe oe"),
            ("þ Þ", "th th"),
            ("ð Ð", "d d"),
            ("ı", "i"),
            ("ħ Ħ", "h h"),
            ("ŀ Ŀ", "l l"),
            ("ŧ Ŧ", "t t"),
            ("ĸ", "k"),
        ];
        for (input, want) in cases {
            assert_eq!(fold(input, Digits::Keep), want, "{input}");
        }
    }

    #[test]
    fn text_keeps_digits_and_expands_abbreviations() {
        assert_eq!(t("12 High St"), "12 high street");
        assert_eq!(t("12 High St."), "12 high street");
        assert_eq!(t("St Mary's Road"), "st marys road");
        assert_eq!(t("12 St Mary's Road"), "12 st marys road");
        assert_eq!(t("Flat 3, 12a St Johns Rd"), "flat 3 12a st johns road");
        assert_eq!(t("Kings Dr"), "kings drive");
        assert_eq!(t("Dr Johnson Way"), "dr johnson way");
        assert_eq!(t("4 Dr Martens Way"), "4 dr martens way");
        assert_eq!(t("1 Park Ave"), "1 park avenue");
        assert_eq!(t("1 Park Av"), "1 park avenue");
        assert_eq!(t("Mill Ln"), "mill lane");
        assert_eq!(t("Moon Cres"), "moon crescent");
        assert_eq!(t("Oak Cl"), "oak close");
        assert_eq!(t("Elm Ct"), "elm court");
        assert_eq!(t("Rose Gdns"), "rose gardens");
        assert_eq!(t("Queens Pl"), "queens place");
        assert_eq!(t("Market Sq"), "market square");
        assert_eq!(t("Albion Terr"), "albion terrace");
        assert_eq!(t("Albion Ter"), "albion terrace");
        assert_eq!(t("Ash Grv"), "ash grove");
        assert_eq!(t("Rd"), "road");
        assert_eq!(t("Street"), "street");
        assert_eq!(t("Stn Rd"), "stn road");
        assert_eq!(t("Rd St"), "road street");
        assert_eq!(t("Hôtel de Ville, 5"), "hotel de ville 5");
        assert_eq!(t("   "), "<empty>");
        assert_eq!(t(""), "<empty>");
        assert_eq!(t("'''"), "<empty>");
    }

    #[test]
    fn ascii_path_matches_general_path() {
        // Force the general path by appending a character that folds to
        // nothing (a zero-width space).
        for s in [
            "O'Neil",
            "  Mr  John  ",
            "a`b",
            "x\x7fy\x00z",
            "12-b St. Rd",
        ] {
            let forced = format!("{s}\u{200B}");
            assert_eq!(fold(s, Digits::Keep), fold(&forced, Digits::Keep));
            assert_eq!(fold(s, Digits::Remove), fold(&forced, Digits::Remove));
        }
    }

    #[test]
    fn fold_is_idempotent_on_every_single_character() {
        let mut failures = Vec::new();
        for c in (0u32..=0x10FFFF).filter_map(char::from_u32) {
            let s = c.to_string();
            for digits in [Digits::Keep, Digits::Remove] {
                let once = fold(&s, digits);
                let twice = fold(&once, digits);
                if once != twice {
                    failures.push((c, once, twice));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures: {:?}",
            failures.len(),
            &failures[..failures.len().min(20)]
        );
    }

    /// Characters most likely to interact across folding steps: Latin-1,
    /// Windows-1252 extras, Latin Extended-A/B, IPA and modifier letters,
    /// combining marks, Greek, Cyrillic, Hebrew, Arabic, Devanagari, Hangul
    /// jamo, kana with (han)dakuten, compatibility forms.
    fn interesting_chars() -> Vec<char> {
        let ranges = [
            (0x20u32, 0x24F),
            (0x250, 0x36F),
            (0x370, 0x3FF),
            (0x400, 0x45F),
            (0x591, 0x5F4),
            (0x610, 0x670),
            (0x900, 0x97F),
            (0x1100, 0x1112),
            (0x1161, 0x1175),
            (0x11A8, 0x11C2),
            (0x1E00, 0x1EFF),
            (0x2010, 0x2044),
            (0x3040, 0x30FF),
            (0xFB00, 0xFB06),
            (0xFF01, 0xFF5E),
            (0xFF61, 0xFF9F),
        ];
        let mut v: Vec<char> = ranges
            .iter()
            .flat_map(|&(a, b)| (a..=b).filter_map(char::from_u32))
            .collect();
        v.extend("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ\u{200B}\u{200D}\u{FEFF}".chars());
        v
    }

    #[test]
    fn fold_is_idempotent_on_pairs_of_interesting_characters() {
        let chars = interesting_chars();
        let step = 3; // every third character as the first of the pair
        let mut failures = Vec::new();
        for &a in chars.iter().step_by(step) {
            for &b in &chars {
                let s: String = [a, b].iter().collect();
                let once = fold(&s, Digits::Keep);
                let twice = fold(&once, Digits::Keep);
                if once != twice {
                    failures.push((s, once, twice));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures: {:?}",
            failures.len(),
            &failures[..failures.len().min(20)]
        );
    }

    fn text_like() -> impl Strategy<Value = String> {
        let parts = prop::sample::select(vec![
            "12",
            "3a",
            "Flat",
            "High",
            "St",
            "St.",
            "Rd",
            "Dr",
            "Ave",
            "Gdns",
            " ",
            "  ",
            ",",
            "-",
            "'",
            "’",
            "O'Connell",
            "Château",
            "Straße",
            "Łódź",
            "\u{A0}",
            "\t",
            "محمد",
            "王",
            "JosÃ©",
            "Ã",
            "©",
            "É",
            "\u{301}",
            "ς",
            "Σ",
            "İ",
            "ŉ",
            "ǅ",
            "Ŀ",
            "·",
            "´",
        ]);
        prop::collection::vec(parts, 0..10).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn text_idempotent_arbitrary(s in any::<String>()) {
            if let Ok(once) = normalise_text(&s) {
                prop_assert_eq!(normalise_text(&once), Ok(once.clone()));
            }
        }

        #[test]
        fn text_idempotent_text_like(s in text_like()) {
            if let Ok(once) = normalise_text(&s) {
                prop_assert_eq!(normalise_text(&once), Ok(once.clone()));
            }
        }

        #[test]
        fn fold_idempotent_interesting(v in prop::collection::vec(prop::sample::select(interesting_chars()), 0..8)) {
            let s: String = v.into_iter().collect();
            for digits in [Digits::Keep, Digits::Remove] {
                let once = fold(&s, digits);
                prop_assert_eq!(fold(&once, digits), once.clone());
            }
        }

        #[test]
        fn fold_output_shape(s in any::<String>()) {
            let out = fold(&s, Digits::Keep);
            prop_assert!(!out.starts_with(' ') && !out.ends_with(' ') && !out.contains("  "));
            prop_assert!(!out.chars().any(|c| c.is_whitespace() && c != ' '));
        }

        #[test]
        fn ascii_fast_path_agrees(s in "[ -~\t\n]{0,40}") {
            let forced = format!("{s}\u{200B}");
            prop_assert_eq!(fold(&s, Digits::Keep), fold(&forced, Digits::Keep));
            prop_assert_eq!(fold(&s, Digits::Remove), fold(&forced, Digits::Remove));
        }

        #[test]
        fn mojibake_never_panics(s in "[\\x00-\\xFF€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]{0,12}") {
            let _ = repair_mojibake(&s);
            let _ = normalise_text(&s);
        }
    }
}
