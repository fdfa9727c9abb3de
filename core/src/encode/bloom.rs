//! Bloom filters of padded q-grams with keyed bit positions.
//!
//! A value such as `anna` is padded with `q - 1` `_` characters on each side (`_anna_`) and cut into
//! q-grams (`_a an nn na a_` for q = 2). Each q-gram sets `hashes` bit positions taken from the
//! extended output of keyed BLAKE3 of the q-gram (4 bytes little-endian per position, reduced modulo
//! the filter length): no double hashing, so positions cannot be recovered without the key.
//! Filters are stored as packed `u64` words and written as standard base64 of their little-endian
//! bytes.

use std::collections::HashMap;

use base64::Engine as _;

use crate::schema::BloomSpec;
use crate::secret::DerivedKey;

/// A Bloom filter as packed 64-bit words (bit `i` is bit `i % 64` of word `i / 64`).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Bloom(pub Box<[u64]>);

impl Bloom {
    /// An empty filter of `bits` bits (a multiple of 64).
    pub fn empty(bits: u32) -> Bloom {
        Bloom(vec![0u64; (bits / 64) as usize].into_boxed_slice())
    }

    /// Number of bits set.
    #[inline]
    pub fn count_ones(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    /// Sets bit `pos`; positions beyond the filter are ignored.
    #[inline]
    pub fn set(&mut self, pos: u32) {
        if let Some(w) = self.0.get_mut((pos / 64) as usize) {
            *w |= 1u64 << (pos % 64);
        }
    }

    /// Dice coefficient `2|A∩B| / (|A|+|B|)`; 0 when both are empty or lengths differ.
    pub fn dice(&self, other: &Bloom) -> f64 {
        if self.0.len() != other.0.len() {
            return 0.0;
        }
        let (mut a, mut b, mut both) = (0u32, 0u32, 0u32);
        for (x, y) in self.0.iter().zip(other.0.iter()) {
            a += x.count_ones();
            b += y.count_ones();
            both += (x & y).count_ones();
        }
        if a + b == 0 {
            0.0
        } else {
            2.0 * f64::from(both) / f64::from(a + b)
        }
    }

    /// Appends the base64 (standard alphabet, padded) of the little-endian bytes to `out`.
    pub fn write_base64(&self, out: &mut Vec<u8>) {
        let mut bytes = Vec::with_capacity(self.0.len() * 8);
        for w in self.0.iter() {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        let start = out.len();
        let len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
        out.resize(start + len, 0);
        let written = base64::engine::general_purpose::STANDARD
            .encode_slice(&bytes, &mut out[start..])
            .unwrap_or(0);
        out.truncate(start + written);
    }

    /// Parses base64 written by [`write_base64`](Self::write_base64); `bits` must match.
    pub fn from_base64(text: &[u8], bits: u32) -> Option<Bloom> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?;
        if bytes.len() * 8 != bits as usize {
            return None;
        }
        let words: Vec<u64> = bytes
            .chunks_exact(8)
            .map(|c| {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                u64::from_le_bytes(b)
            })
            .collect();
        Some(Bloom(words.into_boxed_slice()))
    }
}

/// Builds filters for one field, caching the bit positions of each q-gram it has seen.
///
/// The cache is bounded: it is cleared when it holds more than [`BloomBuilder::MAX_CACHED`]
/// q-grams, so memory does not grow with the input.
pub struct BloomBuilder<'k> {
    key: &'k DerivedKey,
    spec: BloomSpec,
    cache: HashMap<Box<str>, Box<[u32]>>,
    buf: String,
}

impl<'k> BloomBuilder<'k> {
    /// Largest number of q-grams kept in the position cache.
    pub const MAX_CACHED: usize = 50_000;

    /// A builder for filters of `spec` under `key`.
    pub fn new(key: &'k DerivedKey, spec: BloomSpec) -> Self {
        BloomBuilder {
            key,
            spec,
            cache: HashMap::new(),
            buf: String::new(),
        }
    }

    /// The filter of a normalised value.
    pub fn build(&mut self, value: &str) -> Bloom {
        let mut bloom = Bloom::empty(self.spec.bits);
        let q = usize::from(self.spec.q);
        self.buf.clear();
        for _ in 1..q {
            self.buf.push('_');
        }
        self.buf.push_str(value);
        for _ in 1..q {
            self.buf.push('_');
        }
        let padded = std::mem::take(&mut self.buf);
        let starts: Vec<usize> = padded
            .char_indices()
            .map(|(i, _)| i)
            .chain([padded.len()])
            .collect();
        for w in starts.windows(q + 1) {
            let (Some(&a), Some(&b)) = (w.first(), w.last()) else {
                continue;
            };
            let gram = &padded[a..b];
            for &pos in self.positions(gram).iter() {
                bloom.set(pos);
            }
        }
        self.buf = padded;
        bloom
    }

    fn positions(&mut self, gram: &str) -> &[u32] {
        if !self.cache.contains_key(gram) {
            if self.cache.len() >= Self::MAX_CACHED {
                self.cache.clear();
            }
            let positions = bit_positions(self.key, self.spec, gram);
            self.cache.insert(gram.into(), positions);
        }
        self.cache.get(gram).map(|b| &b[..]).unwrap_or(&[])
    }
}

/// The bit positions one q-gram sets (uncached; the reference definition).
pub fn bit_positions(key: &DerivedKey, spec: BloomSpec, gram: &str) -> Box<[u32]> {
    let mut reader = key.hasher().update(gram.as_bytes()).finalize_xof();
    let mut bytes = vec![0u8; usize::from(spec.hashes) * 4];
    reader.fill(&mut bytes);
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) % spec.bits)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;

    fn spec() -> BloomSpec {
        BloomSpec {
            bits: 512,
            q: 2,
            hashes: 15,
        }
    }

    #[test]
    fn similar_names_have_high_dice_and_different_names_low() {
        let secret = Secret::from_bytes(&[3u8; 32]).unwrap();
        let key = secret.derive_key("bloom", "name");
        let mut b = BloomBuilder::new(&key, spec());
        let jon = b.build("jonathan");
        let jon2 = b.build("johnathan");
        let other = b.build("priya");
        assert!(jon.dice(&jon2) > 0.8, "{}", jon.dice(&jon2));
        assert!(jon.dice(&other) < 0.3, "{}", jon.dice(&other));
        assert_eq!(jon.dice(&jon), 1.0);
    }

    #[test]
    fn cached_and_uncached_positions_agree() {
        let secret = Secret::from_bytes(&[3u8; 32]).unwrap();
        let key = secret.derive_key("bloom", "name");
        let mut b = BloomBuilder::new(&key, spec());
        let f = b.build("ab");
        let mut expected = Bloom::empty(512);
        for g in ["_a", "ab", "b_"] {
            for p in bit_positions(&key, spec(), g).iter() {
                expected.set(*p);
            }
        }
        assert_eq!(f, expected);
        assert_eq!(b.build("ab"), expected);
    }

    #[test]
    fn base64_round_trip() {
        let secret = Secret::from_bytes(&[3u8; 32]).unwrap();
        let key = secret.derive_key("bloom", "name");
        let f = BloomBuilder::new(&key, spec()).build("zoë");
        let mut out = Vec::new();
        f.write_base64(&mut out);
        assert_eq!(Bloom::from_base64(&out, 512), Some(f));
        assert_eq!(Bloom::from_base64(&out, 1024), None);
    }
}
