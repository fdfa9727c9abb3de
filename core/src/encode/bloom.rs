//! Bloom filters of padded q-grams with keyed bit positions.
//!
//! A value such as `anna` is padded with `q - 1` `_` characters on each side (`_anna_`) and cut into
//! q-grams (`_a an nn na a_` for q = 2). Each q-gram sets `hashes` bit positions taken from the
//! extended output of keyed BLAKE3 of the q-gram (4 bytes little-endian per position, reduced modulo
//! the filter length): no double hashing, so positions cannot be recovered without the key.
//! Filters are stored as packed `u64` words and written as standard base64 of their little-endian
//! bytes.

use base64::Engine as _;
use rustc_hash::FxHashMap;

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
        let mut stack = [0u8; 1024];
        let mut heap = Vec::new();
        let bytes: &mut [u8] = if self.0.len() * 8 <= stack.len() {
            &mut stack[..self.0.len() * 8]
        } else {
            heap.resize(self.0.len() * 8, 0);
            &mut heap
        };
        for (chunk, w) in bytes.chunks_exact_mut(8).zip(self.0.iter()) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        let start = out.len();
        let len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
        out.resize(start + len, 0);
        let written = base64::engine::general_purpose::STANDARD
            .encode_slice(&*bytes, &mut out[start..])
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
/// The cache is keyed by the q-gram's bytes packed into a `u128` (a q-gram of at most 4
/// characters is at most 16 bytes of UTF-8) and is bounded: it is cleared when it holds more than
/// [`BloomBuilder::MAX_CACHED`] q-grams, so memory does not grow with the input.
pub struct BloomBuilder<'k> {
    key: &'k DerivedKey,
    spec: BloomSpec,
    cache: FxHashMap<(u128, u8), Box<[u32]>>,
    values: Option<FxHashMap<Box<str>, Bloom>>,
}

impl<'k> BloomBuilder<'k> {
    /// Largest number of q-grams kept in the position cache.
    pub const MAX_CACHED: usize = 50_000;

    /// Largest number of whole values kept in the filter cache.
    pub const MAX_CACHED_VALUES: usize = 100_000;

    /// A builder for filters of `spec` under `key`.
    pub fn new(key: &'k DerivedKey, spec: BloomSpec) -> Self {
        BloomBuilder {
            key,
            spec,
            cache: FxHashMap::default(),
            values: None,
        }
    }

    /// Also caches whole filters by value: worth it for fields whose values repeat a lot
    /// (names), not for nearly unique ones (addresses).
    #[must_use]
    pub fn caching_values(mut self) -> Self {
        self.values = Some(FxHashMap::default());
        self
    }

    /// The filter of a normalised value: its q-grams after padding with `q - 1` underscores on
    /// each side.
    pub fn build(&mut self, value: &str) -> Bloom {
        let mut bloom = Bloom::empty(self.spec.bits);
        self.build_into(value, &mut bloom);
        bloom
    }

    /// Like [`build`](Self::build), overwriting `bloom` (reusing its memory).
    pub fn build_into(&mut self, value: &str, bloom: &mut Bloom) {
        if let Some(cached) = self.values.as_ref().and_then(|v| v.get(value)) {
            bloom.0.clone_from(&cached.0);
            return;
        }
        self.build_grams(value, bloom);
        if let Some(values) = self.values.as_mut() {
            if values.len() >= Self::MAX_CACHED_VALUES {
                values.clear();
            }
            values.insert(value.into(), bloom.clone());
        }
    }

    fn build_grams(&mut self, value: &str, bloom: &mut Bloom) {
        let words = (self.spec.bits / 64) as usize;
        if bloom.0.len() == words {
            bloom.0.fill(0);
        } else {
            *bloom = Bloom::empty(self.spec.bits);
        }
        let q = usize::from(self.spec.q);
        // A sliding window of the last q characters' UTF-8 bytes.
        let mut window: [[u8; 4]; 4] = [[0; 4]; 4];
        let mut lens = [0u8; 4];
        let mut filled = 0usize;
        let pad = std::iter::repeat_n('_', q - 1);
        for c in pad.clone().chain(value.chars()).chain(pad) {
            window.copy_within(1..4, 0);
            lens.copy_within(1..4, 0);
            let mut buf = [0u8; 4];
            let len = c.encode_utf8(&mut buf).len();
            window[3] = buf;
            lens[3] = len as u8;
            filled += 1;
            if filled < q {
                continue;
            }
            let mut gram = [0u8; 16];
            let mut n = 0usize;
            for k in (4 - q)..4 {
                let l = usize::from(lens[k]);
                gram[n..n + l].copy_from_slice(&window[k][..l]);
                n += l;
            }
            for &pos in self.positions(&gram[..n]).iter() {
                bloom.set(pos);
            }
        }
    }

    fn positions(&mut self, gram: &[u8]) -> &[u32] {
        let mut packed = [0u8; 16];
        packed[..gram.len()].copy_from_slice(gram);
        let key = (u128::from_le_bytes(packed), gram.len() as u8);
        if self.cache.len() >= Self::MAX_CACHED && !self.cache.contains_key(&key) {
            self.cache.clear();
        }
        let (k, spec) = (self.key, self.spec);
        self.cache
            .entry(key)
            .or_insert_with(|| bit_positions(k, spec, gram))
    }
}

/// The bit positions one q-gram sets (uncached; the reference definition).
pub fn bit_positions(key: &DerivedKey, spec: BloomSpec, gram: &[u8]) -> Box<[u32]> {
    let mut reader = key.hasher().update(gram).finalize_xof();
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
            for p in bit_positions(&key, spec(), g.as_bytes()).iter() {
                expected.set(*p);
            }
        }
        assert_eq!(f, expected);
        assert_eq!(b.build("ab"), expected);
    }

    #[test]
    fn multibyte_qgrams_match_the_reference() {
        let secret = Secret::from_bytes(&[3u8; 32]).unwrap();
        let key = secret.derive_key("bloom", "name");
        for q in 1u8..=4 {
            let spec = BloomSpec {
                bits: 256,
                q,
                hashes: 7,
            };
            let value = "zoë 王ab";
            let padded: Vec<char> = std::iter::repeat_n('_', usize::from(q) - 1)
                .chain(value.chars())
                .chain(std::iter::repeat_n('_', usize::from(q) - 1))
                .collect();
            let mut expected = Bloom::empty(256);
            for w in padded.windows(usize::from(q)) {
                let gram: String = w.iter().collect();
                for p in bit_positions(&key, spec, gram.as_bytes()).iter() {
                    expected.set(*p);
                }
            }
            assert_eq!(
                BloomBuilder::new(&key, spec).build(value),
                expected,
                "q = {q}"
            );
            let mut cached = BloomBuilder::new(&key, spec).caching_values();
            assert_eq!(cached.build(value), expected);
            assert_eq!(cached.build(value), expected, "from the value cache");
        }
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
