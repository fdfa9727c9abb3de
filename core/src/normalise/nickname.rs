//! Nicknames: the formal first names a normalised name may be short for (`peggy` → `margaret`),
//! from a public list, for the `nickname` transform of name fields.
//!
//! # The list
//!
//! `core/data/nicknames.csv` is the file `names.csv` of the public, hand-curated
//! [nicknames](https://github.com/carltonnorthern/nicknames) project (Old Dominion University,
//! Apache License 2.0, `core/data/nicknames-LICENSE.txt`), commit `21d7505` of June 2026, unchanged:
//! triples `name1,has_nickname,name2`, 2,691 of them over about 1,100 formal names. It was chosen
//! because it is public and maintained, not fitted to any data this project tests on; it is
//! English-centred (it does not know `Raj` for `Rajinder`).
//!
//! # Forms of a name
//!
//! [`formal_names`] gives, for a normalised name, the formal names it is a nickname of, in
//! alphabetical order, at most [`MAX_FORMAL_NAMES`] of them (entries holding other characters than
//! `a` to `z`, such as the initials `l.r.`, are left out) (the first that many when the list
//! has more: `al`, `chris` and `ann` have 14 to 18). A name that is nobody's nickname has none.
//!
//! ```
//! use pseudolink::internals::normalise::nickname::formal_names;
//! assert!(formal_names("peggy").contains(&"margaret"));
//! assert!(formal_names("lottie").contains(&"charlotte"));
//! assert!(formal_names("zainab").is_empty());
//! ```

use std::collections::HashMap;
use std::sync::LazyLock;

/// The list, as published (see the [module documentation](self)).
pub const NICKNAME_LIST: &str = include_str!("../../data/nicknames.csv");

/// The most formal names kept for one nickname.
pub const MAX_FORMAL_NAMES: usize = 8;

/// Each nickname's formal names, sorted, at most [`MAX_FORMAL_NAMES`].
static FORMAL: LazyLock<HashMap<&'static str, Vec<&'static str>>> = LazyLock::new(|| {
    let mut map: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
    for line in NICKNAME_LIST.lines().skip(1) {
        let mut parts = line.trim_end_matches('\r').split(',');
        let (Some(formal), Some("has_nickname"), Some(nick)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        // Entries of other characters than a to z (initials such as `l.r.`) can never equal a
        // normalised name: left out.
        let plain = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase());
        if !plain(formal) || !plain(nick) || formal == nick {
            continue;
        }
        map.entry(nick).or_default().push(formal);
    }
    for formals in map.values_mut() {
        formals.sort_unstable();
        formals.dedup();
        formals.truncate(MAX_FORMAL_NAMES);
    }
    map
});

/// The formal names `name` (normalised: lower case, accents removed) is a nickname of, sorted; at
/// most [`MAX_FORMAL_NAMES`]; empty when it is nobody's nickname.
pub fn formal_names(name: &str) -> &'static [&'static str] {
    FORMAL.get(name).map_or(&[], Vec::as_slice)
}

/// A short identifier of the list (16 hex characters of BLAKE3 over its bytes), part of the
/// encoding fingerprint of a schema that uses the `nickname` transform: another list would give
/// other encodings.
pub fn list_id() -> &'static str {
    static ID: LazyLock<String> =
        LazyLock::new(|| blake3::hash(NICKNAME_LIST.as_bytes()).to_hex()[..16].to_string());
    &ID
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_read_whole() {
        assert!(FORMAL.len() > 1_000, "{} nicknames", FORMAL.len());
        assert!(FORMAL
            .values()
            .all(|f| !f.is_empty() && f.len() <= MAX_FORMAL_NAMES));
        assert!(FORMAL.values().all(|f| f.windows(2).all(|w| w[0] < w[1])));
    }

    #[test]
    fn common_english_nicknames_are_known() {
        assert!(formal_names("peggy").contains(&"margaret"));
        assert!(formal_names("liz").contains(&"elizabeth"));
        assert!(formal_names("bill").contains(&"william"));
        assert!(formal_names("chris").len() == MAX_FORMAL_NAMES);
        assert!(formal_names("").is_empty());
        assert!(formal_names("rajinder").is_empty());
    }

    #[test]
    fn every_name_in_the_list_is_a_normalised_name() {
        use crate::normalise::name::{normalise_name, NameOptions};
        for (nick, formals) in FORMAL.iter() {
            for n in std::iter::once(nick).chain(formals) {
                assert_eq!(
                    normalise_name(n, &NameOptions { drop_titles: false }).as_deref(),
                    Ok(*n)
                );
            }
        }
    }
}
