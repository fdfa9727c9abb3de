//! The bits every q-gram of one or two characters sets in one unsalted filter, computed once per
//! [`Encoder`](super::Encoder).
//!
//! An unsalted filter's q-grams repeat from record to record (an address line's `st`, `re`,
//! `ro`...), so its encoder hashes every q-gram of one or two characters of [`ALPHABET`] (the
//! characters of normalised names and text, and the padding: 38 or 1,444 q-grams) when it is made
//! and keeps, for each, the filter words with its bits set. Encoding then ORs those words into
//! the filter instead of hashing the q-gram and setting its bits one by one: the same bits
//! ([`Bloom::set_positions`] of the same hash builds each entry). The default schema's address
//! table takes 185 KB. A table is built when the q-gram's positions fit in one hash and the
//! table in 2 MiB (every filter length the schema allows); other filters, and q-grams with other
//! characters, are hashed as before.
//!
//! With a table anyone could read off which bits each q-gram sets, the very thing the key
//! protects, so it is treated like the key: never shown by `Debug` and zeroized when dropped.

use zeroize::Zeroizing;

use crate::schema::BloomSpec;
use crate::secret::DerivedKey;

use super::bloom::Bloom;
use super::message::one_block;

/// Hashes per round of the table's construction (bounds the memory of the messages).
const ROUND: usize = 1024;

/// The most memory a table may take; tables of longer filters are not built.
const MAX_BYTES: usize = 2 << 20;

/// The characters of the table's q-grams: those of normalised names and free text, and the
/// padding. Q-grams with any other character are hashed as usual.
pub(crate) const ALPHABET: &[u8; 38] = b"abcdefghijklmnopqrstuvwxyz0123456789 _";

/// Not in [`ALPHABET`].
const NONE: u8 = u8::MAX;

/// The place of each ASCII character in [`ALPHABET`], [`NONE`] for the others.
const PLACES: [u8; 128] = {
    let mut places = [NONE; 128];
    let mut i = 0;
    while i < ALPHABET.len() {
        places[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    places
};

/// The place of `c` in [`ALPHABET`].
#[inline]
fn place(c: u8) -> Option<usize> {
    PLACES
        .get(usize::from(c))
        .copied()
        .filter(|&p| p != NONE)
        .map(usize::from)
}

/// The bits every q-gram of one or two [`ALPHABET`] characters sets in a filter of one spec under
/// one key.
pub(crate) struct GramTable {
    spec: BloomSpec,
    /// Words per filter.
    words: usize,
    /// The bits of q-gram `[a]` at entry `place(a)`, of `[a, b]` at entry `place(a) * 38 +
    /// place(b)`: `words` words each.
    masks: Zeroizing<Vec<u64>>,
}

impl GramTable {
    /// The table of `spec`'s q-grams under `key`; `None` unless `spec.q` is 1 or 2, the positions
    /// of a q-gram fit in one hash and the table in [`MAX_BYTES`].
    pub(crate) fn new(key: &DerivedKey, spec: BloomSpec) -> Option<GramTable> {
        let n = ALPHABET.len();
        let count = match spec.q {
            1 => n,
            2 => n * n,
            _ => return None,
        };
        let words = (spec.bits / 64) as usize;
        if !super::bloom::batchable(spec) || count * words * 8 > MAX_BYTES {
            return None;
        }
        let mut masks = Zeroizing::new(vec![0u64; count * words]);
        let mut blocks = Zeroizing::new(Vec::with_capacity(ROUND));
        let mut hashes = Zeroizing::new(vec![[0u8; 32]; ROUND]);
        let mut filter = Bloom::empty(spec.bits);
        for start in (0..count).step_by(ROUND) {
            let end = (start + ROUND).min(count);
            blocks.clear();
            for index in start..end {
                let gram = [ALPHABET[index / n], ALPHABET[index % n]];
                blocks.push(one_block(&gram[2 - usize::from(spec.q)..])?);
            }
            key.hash_blocks(&blocks, &mut hashes);
            for (index, hash) in (start..end).zip(hashes.iter()) {
                filter.0.fill(0);
                filter.set_positions(spec, hash);
                masks
                    .get_mut(index * words..(index + 1) * words)?
                    .copy_from_slice(&filter.0);
            }
        }
        filter.0.fill(0);
        Some(GramTable { spec, words, masks })
    }

    /// The filter settings of the table.
    #[inline]
    pub(crate) fn spec(&self) -> BloomSpec {
        self.spec
    }

    /// ORs into `filter` the bits of every q-gram of `value` (padded as
    /// [`for_each_gram`](super::bloom::for_each_gram) pads it) when every character of `value`
    /// is in [`ALPHABET`] and `filter` has the table's length: `true`. Otherwise `false`, with
    /// `filter` untouched, for the caller to go q-gram by q-gram.
    pub(crate) fn or_value(&self, value: &str, filter: &mut [u64]) -> bool {
        let bytes = value.as_bytes();
        if filter.len() != self.words
            || !matches!(self.spec.q, 1 | 2)
            || !bytes.iter().all(|&b| place(b).is_some())
        {
            return false;
        }
        // The default address filter (1,024 bits) in registers: one fixed-size array that the
        // compiler keeps in vector registers while the q-grams' words are ORed in.
        match <&mut [u64; 16]>::try_from(&mut *filter) {
            Ok(words) => {
                let mut acc = *words;
                self.each_entry(bytes, |mask| {
                    if let Ok(mask) = <&[u64; 16]>::try_from(mask) {
                        for (w, m) in acc.iter_mut().zip(mask) {
                            *w |= m;
                        }
                    }
                });
                *words = acc;
            }
            Err(_) => self.each_entry(bytes, |mask| {
                for (w, m) in filter.iter_mut().zip(mask) {
                    *w |= m;
                }
            }),
        }
        true
    }

    /// Calls `f` with the entry of each q-gram of `bytes` (padded), every byte in [`ALPHABET`]
    /// and the table's q-grams of one or two characters.
    #[inline]
    fn each_entry(&self, bytes: &[u8], mut f: impl FnMut(&[u64])) {
        let place = |b: u8| place(b).unwrap_or_default();
        let mut entry = |index: usize| {
            if let Some(mask) = self.masks.get(index * self.words..(index + 1) * self.words) {
                f(mask);
            }
        };
        if self.spec.q == 1 {
            for &b in bytes {
                entry(place(b));
            }
            return;
        }
        let n = ALPHABET.len();
        let mut before = place(b'_');
        for &b in bytes {
            let p = place(b);
            entry(before * n + p);
            before = p;
        }
        entry(before * n + place(b'_'));
    }

    /// The bits of `gram` when it is a q-gram of the table's length over [`ALPHABET`], as words
    /// of the filter; `None` otherwise (to be hashed the usual way).
    #[inline]
    pub(crate) fn get(&self, gram: &[u8]) -> Option<&[u64]> {
        let index = match (self.spec.q, gram) {
            (1, &[a]) => place(a)?,
            (2, &[a, b]) => place(a)? * ALPHABET.len() + place(b)?,
            _ => return None,
        };
        self.masks.get(index * self.words..(index + 1) * self.words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::bloom::bit_positions;
    use crate::Secret;

    fn spec(bits: u32, q: u8, hashes: u16) -> BloomSpec {
        BloomSpec {
            bits,
            q,
            hashes,
            xor_fold: false,
            balanced: false,
        }
    }

    /// The filter of one q-gram by the definition (extended output, one position at a time).
    fn reference(key: &DerivedKey, spec: BloomSpec, gram: &[u8]) -> Bloom {
        let mut filter = Bloom::empty(spec.bits);
        for &p in bit_positions(key, spec, gram).iter() {
            filter.set(p);
        }
        filter
    }

    #[test]
    fn entries_are_the_bits_of_their_qgrams() {
        let key = Secret::from_bytes(&[3; 32])
            .unwrap()
            .derive_key("bloom", "x");
        // The default address filter; a unigram table of 4-byte positions (960 bits).
        for spec in [spec(1024, 2, 10), spec(960, 1, 8)] {
            let table = GramTable::new(&key, spec).unwrap();
            assert_eq!(table.spec(), spec);
            // Every q-gram of one or two bytes: in the table with its bits when all its
            // characters are in the alphabet, otherwise not.
            let grams: Vec<Vec<u8>> = if spec.q == 1 {
                (0u8..=255).map(|a| vec![a]).collect()
            } else {
                (0u8..=255)
                    .flat_map(|a| (0u8..=255).map(move |b| vec![a, b]))
                    .collect()
            };
            let mut found = 0;
            for gram in grams {
                if gram.iter().all(|c| ALPHABET.contains(c)) {
                    assert_eq!(table.get(&gram), Some(&*reference(&key, spec, &gram).0));
                    found += 1;
                } else {
                    assert_eq!(table.get(&gram), None, "{gram:?}");
                }
            }
            assert_eq!(found, ALPHABET.len().pow(u32::from(spec.q)));
        }
        // Not of the table's length: not in the table.
        let two = GramTable::new(&key, spec(1024, 2, 10)).unwrap();
        for gram in [&b"abc"[..], b"a", &[]] {
            assert_eq!(two.get(gram), None);
        }
        let one = GramTable::new(&key, spec(64, 1, 4)).unwrap();
        assert_eq!(one.get(b"ab"), None);
    }

    #[test]
    fn no_table_where_it_would_not_serve() {
        let key = Secret::from_bytes(&[3; 32])
            .unwrap()
            .derive_key("bloom", "x");
        // q-grams of three characters; positions that need more than one hash.
        assert!(GramTable::new(&key, spec(1024, 3, 10)).is_none());
        assert!(GramTable::new(&key, spec(1024, 2, 17)).is_none());
        assert!(GramTable::new(&key, spec(960, 2, 9)).is_none());
        // The longest filters the schema allows fit (38 * 38 entries of 1 KiB).
        assert!(GramTable::new(&key, spec(8192, 2, 16)).is_some());
        assert!(GramTable::new(&key, spec(1024, 2, 16)).is_some());
    }

    proptest::proptest! {
        /// A whole value ORed in at once sets exactly the bits of its padded q-grams, for the
        /// fixed-size 1,024-bit path and other lengths, q-grams of one and two characters; a
        /// value with a character outside the alphabet, or a filter of another length, is left
        /// to the caller untouched.
        #[test]
        fn a_value_ored_in_sets_the_bits_of_its_qgrams(
            value in "[a-z0-9 _]{0,30}|[a-z é-]{0,8}",
            which in 0usize..4,
            start in proptest::collection::vec(proptest::num::u64::ANY, 16),
        ) {
            let key = Secret::from_bytes(&[5; 32]).unwrap().derive_key("bloom", "y");
            let spec = [spec(1024, 2, 10), spec(512, 2, 15), spec(1024, 1, 10), spec(960, 1, 8)][which];
            let table = GramTable::new(&key, spec).unwrap();
            let words = (spec.bits / 64) as usize;
            let mut filter = start[..words.min(16)].to_vec();
            filter.resize(words, 0x0123_4567_89ab_cdef);
            let before = filter.clone();
            let done = table.or_value(&value, &mut filter);
            proptest::prop_assert_eq!(done, value.bytes().all(|b| ALPHABET.contains(&b)));
            let mut expected = before.clone();
            if done {
                crate::encode::bloom::for_each_gram(&value, spec.q, |gram, n| {
                    for (w, m) in expected.iter_mut().zip(reference(&key, spec, &gram[..n]).0.iter()) {
                        *w |= m;
                    }
                });
            }
            proptest::prop_assert_eq!(&filter, &expected);
            // Another length: untouched.
            let mut other = vec![0u64; words + 1];
            proptest::prop_assert!(!table.or_value(&value, &mut other));
            proptest::prop_assert!(other.iter().all(|&w| w == 0));
        }
    }
}
