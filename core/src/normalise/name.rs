//! Person-name normalisation (given names, family names, other names).
//!
//! # Rules
//!
//! A name is folded exactly as described in the
//! [folding rules](crate::normalise::text#folding-rules), with digits removed:
//!
//! 1. mojibake repaired (`JosÃ©` → `José`, `Å\u{9e}` → `Ş`), only when the
//!    re-decoded bytes are valid, plausible UTF-8;
//! 2. apostrophes deleted (`O'Neil`, `O’Neil` → `oneil`);
//! 3. Unicode NFKC;
//! 4. full Unicode lower-case;
//! 5. diacritics removed (`Zoë` → `zoe`, `Şükrü` → `sukru`);
//! 6. letters that do not decompose transliterated (`ŁUKASZ` → `lukasz`,
//!    `Øyvind` → `oyvind`, `Đorđe` → `dorde`, `Strauß` → `strauss`,
//!    `Æsa` → `aesa`, `Þór` → `thor`, ...);
//! 7. digits deleted (`J0hn` → `jhn`); hyphens, dots, commas, slashes,
//!    underscores, other punctuation, symbols and white space separate words
//!    (`Smith-Jones` → `smith jones`); letters of every script are kept and
//!    lower-cased (`محمد`, `王芳`, `ИВАН` → `иван`);
//! 8. words joined by single spaces, trimmed;
//! 9. NFC.
//!
//! Then, when [`NameOptions::drop_titles`] is set (the default), **leading
//! titles** are removed: while the first word is one of `mr`, `mrs`, `ms`,
//! `miss`, `mx`, `dr`, `prof`, `rev`, `sir`, `dame`, `master`, `lady`,
//! `lord`, it is dropped (`  Mr  John  ` → `john`, `Dr. Prof. Ann Lee` →
//! `ann lee`). Titles are matched only as whole words after folding, and only
//! at the start (`John Lord` keeps `lord`, `Mrjohn` is not a title). If
//! nothing but titles is left, the result is [`MissingReason::Empty`]. A
//! family-name field can legitimately be `Lord`, `Master` or `Lady`; use
//! `drop_titles: false` for fields that never carry a title.
//!
//! An empty result (blank input, or only digits, punctuation or titles) is
//! [`MissingReason::Empty`]. Normalisation is idempotent:
//! `normalise_name(n) == Ok(n)` for every `n` it returns.
//!
//! ```
//! use pseudolink::internals::normalise::name::{normalise_name, NameOptions};
//! let opts = NameOptions::default();
//! assert_eq!(normalise_name("  Mr  John  ", &opts).unwrap(), "john");
//! assert_eq!(normalise_name("O'Neil", &opts).unwrap(), "oneil");
//! assert_eq!(normalise_name("Smith-Jones", &opts).unwrap(), "smith jones");
//! assert_eq!(normalise_name("ŁUKASZ", &opts).unwrap(), "lukasz");
//! assert_eq!(normalise_name("JosÃ©", &opts).unwrap(), "jose");
//! ```

use crate::normalise::text::{fold_into, Digits};
use crate::normalise::{MissingReason, Normalised};

/// Options for [`normalise_name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameOptions {
    /// Remove leading title words (`mr`, `mrs`, `ms`, `miss`, `mx`, `dr`,
    /// `prof`, `rev`, `sir`, `dame`, `master`, `lady`, `lord`). Default: `true`.
    pub drop_titles: bool,
}

impl Default for NameOptions {
    /// `drop_titles: true`.
    fn default() -> Self {
        NameOptions { drop_titles: true }
    }
}

/// Normalises a person's name.
///
/// See the [module documentation](self) for the rules.
///
/// ```
/// use pseudolink::internals::normalise::name::{normalise_name, NameOptions};
/// use pseudolink::internals::normalise::MissingReason;
/// let opts = NameOptions::default();
/// assert_eq!(normalise_name("Strauß", &opts).unwrap(), "strauss");
/// assert_eq!(normalise_name("Miss", &opts), Err(MissingReason::Empty));
/// let keep = NameOptions { drop_titles: false };
/// assert_eq!(normalise_name("Miss", &keep).unwrap(), "miss");
/// ```
pub fn normalise_name(raw: &str, opts: &NameOptions) -> Normalised<String> {
    let mut out = String::new();
    normalise_name_into(raw, opts, &mut out).map(|()| out)
}

/// [`normalise_name`] into `out` (its previous text replaced; its memory reused).
pub(crate) fn normalise_name_into(
    raw: &str,
    opts: &NameOptions,
    out: &mut String,
) -> Normalised<()> {
    fold_into(raw, Digits::Remove, out);
    if opts.drop_titles {
        drop_leading_titles(out);
    }
    if out.is_empty() {
        Err(MissingReason::Empty)
    } else {
        Ok(())
    }
}

/// Whether a folded word is a title.
fn is_title(word: &str) -> bool {
    matches!(
        word,
        "mr" | "mrs"
            | "ms"
            | "miss"
            | "mx"
            | "dr"
            | "prof"
            | "rev"
            | "sir"
            | "dame"
            | "master"
            | "lady"
            | "lord"
    )
}

/// Removes leading title words from a folded value, in place.
fn drop_leading_titles(s: &mut String) {
    let mut cut = 0;
    // Words found byte by byte: most names have no title, and `split` costs more to set up.
    while let Some(rest) = s.get(cut..) {
        let word = rest
            .bytes()
            .position(|b| b == b' ')
            .and_then(|end| rest.get(..end))
            .unwrap_or(rest);
        if !is_title(word) {
            break;
        }
        cut += word.len() + 1;
    }
    if cut == 0 {
        return;
    }
    if cut >= s.len() {
        s.clear();
    } else if s.is_char_boundary(cut) {
        s.drain(..cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::text::repair_mojibake;
    use proptest::prelude::*;

    fn n(s: &str) -> String {
        match normalise_name(s, &NameOptions::default()) {
            Ok(v) => v,
            Err(e) => format!("<{e}>"),
        }
    }

    fn keep_titles(s: &str) -> String {
        match normalise_name(s, &NameOptions { drop_titles: false }) {
            Ok(v) => v,
            Err(e) => format!("<{e}>"),
        }
    }

    #[test]
    fn default_options() {
        assert!(NameOptions::default().drop_titles);
    }

    #[test]
    fn basic_rules() {
        assert_eq!(n("O'Neil"), "oneil");
        assert_eq!(n("O’Neil"), "oneil");
        assert_eq!(n("D‘Arcy"), "darcy");
        assert_eq!(n("D`Arcy"), "darcy");
        assert_eq!(n("D´Arcy"), "darcy");
        assert_eq!(n("DʼArcy"), "darcy");
        assert_eq!(n("Smith-Jones"), "smith jones");
        assert_eq!(n("Smith–Jones"), "smith jones");
        assert_eq!(n("Smith.Jones,Ann/Lee_Roe"), "smith jones ann lee roe");
        assert_eq!(n("St. John"), "st john");
        assert_eq!(n("  Mr  John  "), "john");
        assert_eq!(n("JOHN\u{A0}\tSMITH"), "john smith");
        assert_eq!(n("John2 Smith 3rd"), "john smith rd");
        assert_eq!(n("J0hn"), "jhn");
        assert_eq!(n("Mary (Polly)"), "mary polly");
        assert_eq!(n("Anne-Marie"), "anne marie");
    }

    #[test]
    fn diacritics_and_transliteration() {
        assert_eq!(n("ŁUKASZ"), "lukasz");
        assert_eq!(n("Łukasz Wałęsa"), "lukasz walesa");
        assert_eq!(n("Øyvind"), "oyvind");
        assert_eq!(n("Đorđe"), "dorde");
        assert_eq!(n("Strauß"), "strauss");
        assert_eq!(n("STRAUSS"), "strauss");
        assert_eq!(n("Æsa"), "aesa");
        assert_eq!(n("Œdipe"), "oedipe");
        assert_eq!(n("Þór"), "thor");
        assert_eq!(n("Guðrún"), "gudrun");
        assert_eq!(n("Yıldız"), "yildiz");
        assert_eq!(n("İLKAY"), "ilkay");
        assert_eq!(n("Ħamrun"), "hamrun");
        assert_eq!(n("ŀ"), "l");
        assert_eq!(n("Ŧ"), "t");
        assert_eq!(n("ĸ"), "k");
        assert_eq!(n("Zoë"), "zoe");
        assert_eq!(n("José"), "jose");
        assert_eq!(n("Jose\u{301}"), "jose");
        assert_eq!(n("Şükrü"), "sukru");
        assert_eq!(n("Renée"), "renee");
        assert_eq!(n("Nguyễn"), "nguyen");
        assert_eq!(n("Ștefan Țurcanu"), "stefan turcanu");
        assert_eq!(n("Ｊｏｈｎ"), "john");
    }

    #[test]
    fn mojibake_cases() {
        assert_eq!(n("JosÃ©"), "jose");
        assert_eq!(n("Å\u{9e}ahin"), "sahin");
        assert_eq!(n("Åžahin"), "sahin");
        assert_eq!(n("Oâ€™Neil"), "oneil");
        assert_eq!(n("Ã˜yvind"), "oyvind");
        assert_eq!(n("Å\u{81}UKASZ"), "lukasz");
        assert_eq!(n("StrauÃŸ"), "strauss");
        assert_eq!(n("JosÃƒÂ©"), "jose");
        assert_eq!(n("Ð˜Ð²Ð°Ð½"), "иван");
        // Not mojibake: left as is, then folded.
        assert_eq!(n("ANDRÉ\u{A0}SMITH"), "andre smith");
    }

    #[test]
    fn other_scripts_are_kept() {
        assert_eq!(n("محمد"), "محمد");
        assert_eq!(n("مُحَمَّد علي"), "محمد علي");
        assert_eq!(n("王芳"), "王芳");
        assert_eq!(n("李 小龙"), "李 小龙");
        assert_eq!(n("ИВАН"), "иван");
        assert_eq!(n("Ελένη"), "ελενη");
        assert_eq!(n("김민준"), "김민준");
    }

    #[test]
    fn titles() {
        for t in [
            "Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Rev", "Sir", "Dame", "Master", "Lady",
            "Lord",
        ] {
            assert_eq!(n(&format!("{t} Ann")), "ann", "{t}");
            assert_eq!(n(&format!("{}. Ann", t.to_uppercase())), "ann", "{t}");
            assert_eq!(n(t), "<empty>", "{t}");
            assert_eq!(keep_titles(t), t.to_lowercase(), "{t}");
        }
        assert_eq!(n("Dr. Prof. Ann Lee"), "ann lee");
        assert_eq!(n("Mr & Mrs Smith"), "smith");
        assert_eq!(n("Mr Mrs"), "<empty>");
        assert_eq!(n("John Lord"), "john lord");
        assert_eq!(n("Mrjohn"), "mrjohn");
        assert_eq!(n("Mr. J. Smith"), "j smith");
        assert_eq!(n("Mr 2"), "<empty>");
        assert_eq!(keep_titles("  Mr  John  "), "mr john");
    }

    #[test]
    fn empty_results() {
        for s in [
            "", "   ", "\t\u{A0}", "1234", "--", "'", "\u{FEFF}", "!!!", "£$%",
        ] {
            assert_eq!(n(s), "<empty>", "{s:?}");
        }
    }

    #[test]
    fn idempotent_on_every_single_character_and_pairs() {
        let opts = NameOptions::default();
        for c in (0u32..=0x10FFFF).filter_map(char::from_u32) {
            for s in [c.to_string(), format!("A{c}"), format!("{c}b")] {
                if let Ok(once) = normalise_name(&s, &opts) {
                    assert_eq!(normalise_name(&once, &opts), Ok(once.clone()), "{s:?}");
                }
            }
        }
    }

    fn name_like() -> impl Strategy<Value = String> {
        let parts = prop::sample::select(vec![
            "Mr",
            "MRS.",
            "Dr",
            "miss",
            "Lord",
            "John",
            "Mary",
            "O'Neil",
            "O’Neil",
            "Smith",
            "-Jones",
            "Łukasz",
            "ŁUKASZ",
            "Øyvind",
            "Đorđe",
            "Strauß",
            "Æsa",
            "Þór",
            "Yıldız",
            "İlkay",
            "Zoë",
            "José",
            "Jose\u{301}",
            "Şükrü",
            "محمد",
            "王芳",
            "Иван",
            "Ελένη",
            "김",
            " ",
            "  ",
            "\t",
            "\u{A0}",
            ".",
            ",",
            "-",
            "/",
            "_",
            "'",
            "2",
            "3rd",
            "(",
            ")",
            "ŉ",
            "ǅ",
            "ﬁ",
            "Ŀ",
            "·",
            "´",
            "\u{200B}",
            "Ǆ",
            "ς",
            "ΣΑΣ",
        ]);
        prop::collection::vec(parts, 0..8).prop_map(|v| v.concat())
    }

    /// Realistic names: words separated by spaces, so that letters of
    /// other scripts never touch ASCII letters.
    fn name_like_spaced() -> impl Strategy<Value = String> {
        let parts = prop::sample::select(vec![
            "Mr",
            "MRS.",
            "Dr",
            "John",
            "O'Neil",
            "O’Neil",
            "Smith-Jones",
            "Łukasz",
            "ŁUKASZ",
            "Øyvind",
            "Đorđe",
            "Strauß",
            "Æsa",
            "Þór",
            "Yıldız",
            "İlkay",
            "Zoë",
            "José",
            "Jose\u{301}",
            "Şükrü",
            "Ștefan",
            "محمد",
            "王芳",
            "Иван",
            "Ελένη",
            "김",
            "D´Arcy",
            "Col·lecció",
            "Nguyễn",
            "Ơn",
            "Ǎ",
            "ŉ",
            "ﬁ",
            "\u{A0}",
            "3rd",
        ]);
        prop::collection::vec(parts, 0..6).prop_map(|v| v.join(" "))
    }

    fn mojibake_of(s: &str) -> String {
        crate::normalise::text::tests::to_mojibake(s)
    }

    proptest! {
        #[test]
        fn idempotent_arbitrary(s in any::<String>(), drop in any::<bool>()) {
            let opts = NameOptions { drop_titles: drop };
            if let Ok(once) = normalise_name(&s, &opts) {
                prop_assert_eq!(normalise_name(&once, &opts), Ok(once.clone()));
            }
        }

        #[test]
        fn idempotent_name_like(s in name_like(), drop in any::<bool>()) {
            let opts = NameOptions { drop_titles: drop };
            if let Ok(once) = normalise_name(&s, &opts) {
                prop_assert!(!once.is_empty());
                prop_assert_eq!(normalise_name(&once, &opts), Ok(once.clone()));
            }
        }

        #[test]
        fn idempotent_mojibake_name_like(s in name_like()) {
            let opts = NameOptions::default();
            let m = mojibake_of(&s);
            if let Ok(once) = normalise_name(&m, &opts) {
                prop_assert_eq!(normalise_name(&once, &opts), Ok(once.clone()));
            }
        }

        #[test]
        fn mojibake_is_undone(s in name_like_spaced()) {
            // Only for names that are not themselves repairable text.
            if repair_mojibake(&s) != s {
                return Ok(());
            }
            let opts = NameOptions::default();
            let m = mojibake_of(&s);
            prop_assert_eq!(normalise_name(&m, &opts), normalise_name(&s, &opts));
        }

        #[test]
        fn case_insensitive_ascii(s in "[A-Za-z' .-]{0,30}") {
            let opts = NameOptions::default();
            prop_assert_eq!(normalise_name(&s.to_uppercase(), &opts), normalise_name(&s.to_lowercase(), &opts));
        }
    }
}
