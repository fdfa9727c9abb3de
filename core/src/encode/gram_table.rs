//! The bits every ASCII q-gram of one or two characters sets in one unsalted filter, computed
//! once per [`Encoder`](super::Encoder).
//!
//! An unsalted filter's q-grams repeat from record to record (an address line's `st`, `re`,
//! `ro`...), so its encoder hashes all 128 (q = 1) or 16,384 (q = 2) ASCII q-grams when it is
//! made (about 1 ms) and keeps, for each, the filter words with its bits set. Encoding then ORs
//! those words into the filter instead of hashing the q-gram and setting its bits one by one: the
//! same bits ([`Bloom::set_positions`] of the same hash builds each entry), for a third of the
//! work of the default schema's address filter. A table is built only while it takes at most
//! 2 MiB (q = 2 and filters up to 1024 bits; any q = 1 filter) and the q-gram's positions fit in
//! one hash; other filters are hashed as before.
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

/// The bits every ASCII q-gram of `q` characters (1 or 2) sets in a filter of one spec under
/// one key.
pub(crate) struct GramTable {
    spec: BloomSpec,
    /// Words per filter.
    words: usize,
    /// The bits of q-gram `[a]` at entry `a`, of `[a, b]` at entry `a * 128 + b`: `words` words
    /// each.
    masks: Zeroizing<Vec<u64>>,
}

impl GramTable {
    /// The table of `spec`'s q-grams under `key`; `None` unless `spec.q` is 1 or 2, the positions
    /// of a q-gram fit in one hash and the table in [`MAX_BYTES`].
    pub(crate) fn new(key: &DerivedKey, spec: BloomSpec) -> Option<GramTable> {
        let count = match spec.q {
            1 => 128,
            2 => 128 * 128,
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
                // Both characters are below 128, so the casts are exact.
                let gram = [(index / 128) as u8, (index % 128) as u8];
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

    /// The bits of `gram` when it is an ASCII q-gram of the table's length, as words of the
    /// filter; `None` otherwise (to be hashed the usual way).
    #[inline]
    pub(crate) fn get(&self, gram: &[u8]) -> Option<&[u64]> {
        let index = match (self.spec.q, gram) {
            (1, &[a]) if a < 128 => usize::from(a),
            (2, &[a, b]) if a < 128 && b < 128 => usize::from(a) * 128 + usize::from(b),
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
            let grams: Vec<Vec<u8>> = if spec.q == 1 {
                (0u8..128).map(|a| vec![a]).collect()
            } else {
                (0u8..128)
                    .flat_map(|a| (0u8..128).map(move |b| vec![a, b]))
                    .collect()
            };
            for gram in grams {
                assert_eq!(table.get(&gram), Some(&*reference(&key, spec, &gram).0));
            }
        }
        // Not ASCII, or not of the table's length: not in the table.
        let two = GramTable::new(&key, spec(1024, 2, 10)).unwrap();
        for gram in [
            &[0x80u8][..],
            &[b'a', 0xc3],
            &[0xc3, 0xa9],
            b"abc",
            b"a",
            &[],
        ] {
            assert_eq!(two.get(gram), None);
        }
        let one = GramTable::new(&key, spec(64, 1, 4)).unwrap();
        assert_eq!(one.get(b"ab"), None);
        assert_eq!(one.get(&[200]), None);
    }

    #[test]
    fn no_table_where_it_would_not_serve() {
        let key = Secret::from_bytes(&[3; 32])
            .unwrap()
            .derive_key("bloom", "x");
        // q-grams of three characters; positions that need more than one hash; over 2 MiB.
        assert!(GramTable::new(&key, spec(1024, 3, 10)).is_none());
        assert!(GramTable::new(&key, spec(1024, 2, 17)).is_none());
        assert!(GramTable::new(&key, spec(960, 2, 9)).is_none());
        assert!(GramTable::new(&key, spec(2048, 2, 10)).is_none());
        assert!(GramTable::new(&key, spec(1024, 2, 16)).is_some());
    }
}
