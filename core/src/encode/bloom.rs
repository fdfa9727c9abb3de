//! Bloom filters of padded q-grams with keyed bit positions.
//!
//! A value such as `anna` is padded with `q - 1` `_` characters on each side (`_anna_`) and cut into
//! q-grams (`_a an nn na a_` for q = 2). Each q-gram sets `hashes` bit positions read from the
//! keyed BLAKE3 output of the q-gram's [`message`](super::message) (the q-gram, zeros and its
//! length, a whole number of 64-byte blocks): successive little-endian words of 2 bytes (when the
//! filter length divides 2^16, as every power of two up to 8192 does) or 4 bytes (otherwise), a
//! word `w` of `b` bits giving position `w * length / 2^b` (rounded down). No double hashing, so positions cannot be recovered without
//! the key. One-block messages whose positions fit in 32 bytes (the default schema's filters) are
//! hashed in batches ([`DerivedKey::hash_blocks`]).
//! Filters are stored as packed `u64` words and written as standard base64 of their little-endian
//! bytes.
//!
//! Hardening (see `docs/security.md`): a *salted* q-gram is hashed as the salt's length (4 bytes
//! little-endian), the salt and the q-gram, so the same name sets different bits under different
//! salts; [`Hardening`] then optionally XOR-folds the filter in half and balances it (appends its
//! complement and applies a keyed permutation).

use crate::schema::BloomSpec;
use crate::secret::DerivedKey;

use super::message::one_block;

/// A Bloom filter as packed 64-bit words (bit `i` is bit `i % 64` of word `i / 64`).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Bloom(pub Box<[u64]>);

impl Bloom {
    /// An empty filter of `bits` bits (a multiple of 64).
    pub fn empty(bits: u32) -> Bloom {
        Bloom(vec![0u64; (bits / 64) as usize].into_boxed_slice())
    }

    /// Makes this an empty filter of `bits` bits (a multiple of 64), reusing its memory when it
    /// already has that length.
    pub fn clear_to(&mut self, bits: u32) {
        if self.0.len() * 64 == bits as usize {
            self.0.fill(0);
        } else {
            *self = Bloom::empty(bits);
        }
    }

    /// Number of bits set.
    #[inline]
    pub fn count_ones(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    /// Whether bit `pos` is set (false beyond the filter).
    #[inline]
    pub fn get(&self, pos: usize) -> bool {
        self.0
            .get(pos / 64)
            .is_some_and(|w| w & (1u64 << (pos % 64)) != 0)
    }

    /// Length in bits.
    pub fn bits(&self) -> usize {
        self.0.len() * 64
    }

    /// Sets bit `pos`; positions beyond the filter are ignored.
    #[inline]
    pub fn set(&mut self, pos: u32) {
        if let Some(w) = self.0.get_mut((pos / 64) as usize) {
            *w |= 1u64 << (pos % 64);
        }
    }

    /// Sets the positions of one q-gram held in `output`, a hash of the batched path (read as
    /// [`for_each_position`] reads them).
    #[inline]
    pub(crate) fn set_positions(&mut self, spec: BloomSpec, output: &[u8; 32]) {
        if position_bytes(spec.bits) != 2 {
            for_each_position(spec, output, |p| self.set(p));
            return;
        }
        // All sixteen positions at once (the compiler vectorises this), then the bits.
        let bits = spec.bits;
        let positions: [u32; 16] = std::array::from_fn(|i| {
            let w = u32::from(u16::from_le_bytes([output[2 * i], output[2 * i + 1]]));
            // w < 2^16 and bits <= 2^16, so the product fits in 32 bits.
            (w * bits) >> 16
        });
        for &p in positions.iter().take(usize::from(spec.hashes)) {
            self.set(p);
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
        // 48 words (384 bytes, a multiple of 3) at a time: their base64 has no padding, so the
        // pieces put together are the base64 of the whole.
        const WORDS: usize = 48;
        for words in self.0.chunks(WORDS) {
            let mut bytes = [0u8; WORDS * 8];
            for (chunk, w) in bytes.chunks_exact_mut(8).zip(words) {
                chunk.copy_from_slice(&w.to_le_bytes());
            }
            base64_simd::STANDARD.encode_append(&bytes[..words.len() * 8], out);
        }
    }

    /// Parses base64 written by [`write_base64`](Self::write_base64); `bits` must match.
    pub fn from_base64(text: &[u8], bits: u32) -> Option<Bloom> {
        // Strict, as written: padding required, no other characters, unused bits zero.
        let bytes = base64_simd::STANDARD.decode_to_vec(text).ok()?;
        Bloom::from_le_bytes(&bytes, bits)
    }

    /// The filter of `bits` bits whose little-endian bytes are `bytes` (as a Parquet extract
    /// holds it); `None` when their length is not `bits / 8`.
    pub fn from_le_bytes(bytes: &[u8], bits: u32) -> Option<Bloom> {
        if bytes.len() * 8 != bits as usize || !bytes.len().is_multiple_of(8) {
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

/// XOR folding and balancing of a filter, applied after its q-grams are hashed in.
#[derive(Clone)]
pub struct Hardening {
    xor_fold: bool,
    permutation: Option<Box<[u32]>>,
}

impl Hardening {
    /// The hardening of `spec`; `balance_key` keys the permutation of a balanced filter. `None`
    /// when the filter is written as built.
    pub fn new(spec: BloomSpec, balance_key: &DerivedKey) -> Option<Hardening> {
        if !spec.xor_fold && !spec.balanced {
            return None;
        }
        let folded = if spec.xor_fold {
            spec.bits / 2
        } else {
            spec.bits
        };
        Some(Hardening {
            xor_fold: spec.xor_fold,
            permutation: spec
                .balanced
                .then(|| keyed_permutation(balance_key, folded * 2)),
        })
    }

    /// Writes the hardened form of `raw` into `out`.
    pub fn apply(&self, raw: &Bloom, out: &mut Bloom) {
        let folded;
        let source = if self.xor_fold {
            folded = xor_fold(raw);
            &folded
        } else {
            raw
        };
        match &self.permutation {
            Some(p) => balance_into(source, p, out),
            None => out.0.clone_from(&source.0),
        }
    }
}

/// The filter folded in half: bit `i` of the result is bit `i` XOR bit `i + n/2` of `bloom`.
/// A filter of an odd number of words is returned unchanged.
pub fn xor_fold(bloom: &Bloom) -> Bloom {
    let words = bloom.0.len();
    if !words.is_multiple_of(2) {
        return bloom.clone();
    }
    let (lo, hi) = bloom.0.split_at(words / 2);
    Bloom(lo.iter().zip(hi).map(|(a, b)| a ^ b).collect())
}

/// The balanced form of `bloom` (n bits): the 2n bits of the filter followed by its complement,
/// where output bit `j` is bit `permutation[j]` of that concatenation. Exactly n bits are set.
pub fn balance(bloom: &Bloom, permutation: &[u32]) -> Bloom {
    let mut out = Bloom::default();
    balance_into(bloom, permutation, &mut out);
    out
}

fn balance_into(bloom: &Bloom, permutation: &[u32], out: &mut Bloom) {
    let n = bloom.0.len() * 64;
    let words = n * 2 / 64;
    if out.0.len() == words {
        out.0.fill(0);
    } else {
        *out = Bloom(vec![0u64; words].into_boxed_slice());
    }
    for (j, &src) in permutation.iter().enumerate().take(2 * n) {
        let src = src as usize;
        let bit = if src < n {
            bloom.get(src)
        } else {
            !bloom.get(src - n)
        };
        if bit {
            out.set(j as u32);
        }
    }
}

/// A permutation of `0..n` drawn by Fisher-Yates from the extended output of keyed BLAKE3 of a
/// fixed label: for `i` from `n - 1` down to 1, swap `i` with a uniform `j` in `0..=i` (unbiased
/// 32-bit draws, rejecting the top remainder). The same key always gives the same permutation.
pub fn keyed_permutation(key: &DerivedKey, n: u32) -> Box<[u32]> {
    let mut reader = key
        .hasher()
        .update(b"pseudolink balanced filter permutation")
        .finalize_xof();
    let mut next = || {
        let mut b = [0u8; 4];
        reader.fill(&mut b);
        u32::from_le_bytes(b)
    };
    let mut p: Vec<u32> = (0..n).collect();
    for i in (1..n as usize).rev() {
        let bound = i as u64 + 1;
        let zone = (1u64 << 32) - ((1u64 << 32) % bound);
        let j = loop {
            let x = u64::from(next());
            if x < zone {
                break (x % bound) as usize;
            }
        };
        p.swap(i, j);
    }
    p.into_boxed_slice()
}

/// Builds filters for one field, one value at a time (the [`Encoder`](super::Encoder) batches
/// the q-grams of many records instead).
///
/// ```
/// use pseudolink::internals::encode::bloom::BloomBuilder;
/// use pseudolink::schema::BloomSpec;
/// let secret = pseudolink::Secret::from_bytes(&[3; 32]).unwrap();
/// let key = secret.derive_key("bloom", "name");
/// let spec = BloomSpec { bits: 512, q: 2, hashes: 15, xor_fold: false, balanced: false };
/// let mut builder = BloomBuilder::new(&key, spec);
/// let (a, b) = (builder.build("jonathan"), builder.build("johnathan"));
/// assert!(a.dice(&b) > 0.8);
/// ```
pub struct BloomBuilder<'k> {
    key: &'k DerivedKey,
    spec: BloomSpec,
    hardening: Option<Hardening>,
    raw: Bloom,
    input: Vec<u8>,
    message: Vec<u8>,
    blocks: Vec<[u8; 64]>,
    hashes: Vec<[u8; 32]>,
}

impl<'k> BloomBuilder<'k> {
    /// A builder for filters of `spec` under `key`, without folding or balancing (those are
    /// added by [`hardened`](Self::hardened)).
    pub fn new(key: &'k DerivedKey, spec: BloomSpec) -> Self {
        BloomBuilder {
            key,
            spec,
            hardening: None,
            raw: Bloom::empty(spec.bits),
            input: Vec::new(),
            message: Vec::new(),
            blocks: Vec::new(),
            hashes: Vec::new(),
        }
    }

    /// Applies `hardening` (XOR folding, balancing) to every filter built.
    #[must_use]
    pub fn hardened(mut self, hardening: Option<Hardening>) -> Self {
        self.hardening = hardening;
        self
    }

    /// The filter of a normalised value: its q-grams after padding with `q - 1` underscores on
    /// each side.
    pub fn build(&mut self, value: &str) -> Bloom {
        let mut bloom = Bloom::empty(self.spec.output_bits());
        self.build_into(value, None, &mut bloom);
        bloom
    }

    /// The filter of a value under `salt` (`None`: unsalted), overwriting `bloom` (reusing its
    /// memory).
    pub fn build_into(&mut self, value: &str, salt: Option<&str>, bloom: &mut Bloom) {
        let mut raw = std::mem::take(&mut self.raw);
        raw.clear_to(self.spec.bits);
        self.add_into(value, salt, &mut raw);
        finish_filter(self.hardening.as_ref(), &raw, bloom);
        self.raw = raw;
    }

    /// Sets the bits of the q-grams of `value` (under `salt`) in `raw`, a filter of the spec's
    /// `bits` before any folding or balancing.
    pub fn add_into(&mut self, value: &str, salt: Option<&str>, raw: &mut Bloom) {
        let (key, spec) = (self.key, self.spec);
        let batched = batchable(spec);
        let (blocks, message) = (&mut self.blocks, &mut self.message);
        blocks.clear();
        let input = &mut self.input;
        for_each_gram(value, spec.q, |bytes, n| {
            let gram = gram_input(salt, &bytes[..n], input);
            match one_block(gram) {
                Some(block) if batched => blocks.push(block),
                _ => xof_positions(key, spec, gram, message, |p| raw.set(p)),
            }
        });
        self.hashes.resize(blocks.len(), [0; 32]);
        key.hash_blocks(blocks, &mut self.hashes);
        for hash in &self.hashes {
            for_each_position(spec, hash, |pos| raw.set(pos));
        }
    }
}

/// Writes the filter built from `raw` into `out`: hardened, or a copy.
pub(crate) fn finish_filter(hardening: Option<&Hardening>, raw: &Bloom, out: &mut Bloom) {
    match hardening {
        Some(h) => h.apply(raw, out),
        None => out.0.clone_from(&raw.0),
    }
}

/// Calls `f` with each q-gram of `value` padded with `q - 1` underscores on each side: its UTF-8
/// bytes (at most 16: four characters of at most 4 bytes), zero-padded to 16, and their number.
pub(crate) fn for_each_gram(value: &str, q: u8, mut f: impl FnMut(&[u8; 16], usize)) {
    let q = usize::from(q).clamp(1, 4);
    if value.is_ascii() && value.len() <= 120 {
        // One byte per character: the q-grams are the windows of the padded bytes.
        let mut padded = [b'_'; 128];
        padded[q - 1..q - 1 + value.len()].copy_from_slice(value.as_bytes());
        for window in padded[..value.len() + 2 * (q - 1)].windows(q) {
            let mut gram = [0u8; 16];
            // At most four bytes: copied one by one, not by a call to `memcpy`.
            for (g, b) in gram.iter_mut().zip(window.iter().take(4)) {
                *g = *b;
            }
            f(&gram, q);
        }
        return;
    }
    // A sliding window of the last q characters' UTF-8 bytes.
    let mut window: [[u8; 4]; 4] = [[0; 4]; 4];
    let mut lens = [0u8; 4];
    let mut filled = 0usize;
    let pad = std::iter::repeat_n('_', q - 1);
    for c in pad.clone().chain(value.chars()).chain(pad) {
        window.copy_within(1..4, 0);
        lens.copy_within(1..4, 0);
        let mut bytes = [0u8; 4];
        let len = c.encode_utf8(&mut bytes).len();
        window[3] = bytes;
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
        f(&gram, n);
    }
}

/// The hashed input of q-gram `gram`: the q-gram itself, or under `salt` what [`salted_gram`]
/// makes of it (written into `buf`).
#[inline]
pub(crate) fn gram_input<'b>(salt: Option<&str>, gram: &'b [u8], buf: &'b mut Vec<u8>) -> &'b [u8] {
    match salt {
        None => gram,
        Some(s) => {
            salted_gram(s, gram, buf);
            buf
        }
    }
}

/// The hashed input of a salted q-gram (or token): the salt's length as 4 bytes little-endian,
/// the salt, then `data`. Written into `out`.
pub fn salted_gram(salt: &str, data: &[u8], out: &mut Vec<u8>) {
    salt_prefix(Some(salt), out);
    out.extend_from_slice(data);
}

/// What [`salted_gram`] puts before the data: the salt's length as 4 bytes little-endian and the
/// salt; nothing without a salt. Written into `out`.
pub(crate) fn salt_prefix(salt: Option<&str>, out: &mut Vec<u8>) {
    out.clear();
    if let Some(salt) = salt {
        let len = u32::try_from(salt.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(salt.as_bytes());
    }
}

/// Whether the positions of one q-gram of `spec` fit in one 32-byte hash, so that one-block
/// q-grams can be hashed in a batch.
#[inline]
pub(crate) fn batchable(spec: BloomSpec) -> bool {
    usize::from(spec.hashes) * position_bytes(spec.bits) <= 32
}

/// Bytes of hash output per bit position: 2 when `bits` divides 2^16 (so the reduction to
/// `0..bits` has no bias), otherwise 4.
#[inline]
fn position_bytes(bits: u32) -> usize {
    // A divisor of 2^16 is a power of two up to 2^16 (no division on this hot path).
    if bits.is_power_of_two() && bits <= 65_536 {
        2
    } else {
        4
    }
}

/// Calls `set` with each of the `spec.hashes` positions held in `output` (hash output, long
/// enough for them): a word `w` of `8 * width` bits gives position `w * bits / 2^(8 * width)`
/// (rounded down), a multiplication where a remainder would need a division.
#[inline]
pub(crate) fn for_each_position(spec: BloomSpec, output: &[u8], mut set: impl FnMut(u32)) {
    let bits = u64::from(spec.bits);
    let take = usize::from(spec.hashes);
    if position_bytes(spec.bits) == 2 {
        for word in output.chunks_exact(2).take(take) {
            let w = u64::from(u16::from_le_bytes([word[0], word[1]]));
            set(((w * bits) >> 16) as u32);
        }
    } else {
        for word in output.chunks_exact(4).take(take) {
            let w = u64::from(u32::from_le_bytes([word[0], word[1], word[2], word[3]]));
            set(((w * bits) >> 32) as u32);
        }
    }
}

/// The bit positions one q-gram sets (the reference definition: extended output of keyed BLAKE3
/// of the [`message`](super::message::message) of `input`, read one position at a time).
pub fn bit_positions(key: &DerivedKey, spec: BloomSpec, input: &[u8]) -> Box<[u32]> {
    let mut positions = Vec::with_capacity(usize::from(spec.hashes));
    xof_positions(key, spec, input, &mut Vec::new(), |pos| positions.push(pos));
    positions.into_boxed_slice()
}

/// Calls `set` with the positions of `input` from the extended output (for messages longer than
/// a block, or more positions than one hash holds); `message` is working memory.
pub(crate) fn xof_positions(
    key: &DerivedKey,
    spec: BloomSpec,
    input: &[u8],
    message: &mut Vec<u8>,
    set: impl FnMut(u32),
) {
    // At most 64 hashes (the schema refuses more), 4 bytes each.
    let mut output = [0u8; 256];
    let n = usize::from(spec.hashes).min(64) * position_bytes(spec.bits);
    super::message::message(input, message);
    key.hasher()
        .update(message)
        .finalize_xof()
        .fill(&mut output[..n]);
    for_each_position(spec, &output[..n], set);
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
            xor_fold: false,
            balanced: false,
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
                xor_fold: false,
                balanced: false,
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
            let mut reused = BloomBuilder::new(&key, spec);
            assert_eq!(reused.build(value), expected);
            assert_eq!(reused.build(value), expected, "a reused builder");
        }
    }

    fn hardened_spec(xor_fold: bool, balanced: bool) -> BloomSpec {
        BloomSpec {
            xor_fold,
            balanced,
            ..spec()
        }
    }

    /// The filter of `value` by the definition: every padded q-gram, salted, through
    /// [`bit_positions`] (the extended output, one q-gram at a time).
    fn reference_filter(
        key: &DerivedKey,
        spec: BloomSpec,
        value: &str,
        salt: Option<&str>,
    ) -> Bloom {
        let q = usize::from(spec.q);
        let padded: Vec<char> = std::iter::repeat_n('_', q - 1)
            .chain(value.chars())
            .chain(std::iter::repeat_n('_', q - 1))
            .collect();
        let mut expected = Bloom::empty(spec.bits);
        for w in padded.windows(q) {
            let gram: String = w.iter().collect();
            let mut input = Vec::new();
            let input = gram_input(salt, gram.as_bytes(), &mut input);
            for p in bit_positions(key, spec, input).iter() {
                expected.set(*p);
            }
        }
        expected
    }

    proptest::proptest! {
        #[test]
        fn filters_match_the_definition_on_every_path(
            ascii in "[ -~]{0,130}",
            other in "\\PC{0,40}",
            use_ascii in proptest::bool::ANY,
            q in 1u8..=4,
            hashes in 1u16..=40,
            bits_index in 0usize..22,
            salt in proptest::option::of("[0-9-]{0,50}"),
        ) {
            // ASCII and other values (two ways of cutting q-grams), batched and one-by-one
            // hashing (more positions than one hash holds, salts too long for one block),
            // 2- and 4-byte positions (lengths that do or do not divide 2^16).
            let value = if use_ascii { ascii } else { other };
            let bits = match bits_index {
                20 => 512,
                21 => 8192,
                k => (k as u32 + 1) * 64,
            };
            let secret = Secret::from_bytes(&[6u8; 32]).unwrap();
            let key = secret.derive_key("bloom", "name");
            let spec = BloomSpec { bits, q, hashes, xor_fold: false, balanced: false };
            let mut out = Bloom::default();
            BloomBuilder::new(&key, spec).build_into(&value, salt.as_deref(), &mut out);
            proptest::prop_assert_eq!(out, reference_filter(&key, spec, &value, salt.as_deref()));
        }

        #[test]
        fn balanced_filters_have_exactly_half_their_bits_set(value in "\\PC{0,20}", fold in proptest::bool::ANY) {
            let secret = Secret::from_bytes(&[5u8; 32]).unwrap();
            let key = secret.derive_key("bloom", "name");
            let balance_key = secret.derive_key("balance", "name");
            let spec = hardened_spec(fold, true);
            let mut b = BloomBuilder::new(&key, spec).hardened(Hardening::new(spec, &balance_key));
            let f = b.build(&value);
            proptest::prop_assert_eq!(f.bits(), spec.output_bits() as usize);
            proptest::prop_assert_eq!(f.count_ones() as usize, f.bits() / 2);
        }

        #[test]
        fn xor_folding_halves_the_length_and_xors_the_halves(value in "\\PC{0,20}") {
            let secret = Secret::from_bytes(&[5u8; 32]).unwrap();
            let key = secret.derive_key("bloom", "name");
            let plain = BloomBuilder::new(&key, spec()).build(&value);
            let spec = hardened_spec(true, false);
            let folded = BloomBuilder::new(&key, spec)
                .hardened(Hardening::new(spec, &key))
                .build(&value);
            proptest::prop_assert_eq!(folded.bits(), plain.bits() / 2);
            for i in 0..folded.bits() {
                proptest::prop_assert_eq!(folded.get(i), plain.get(i) ^ plain.get(i + plain.bits() / 2));
            }
        }

        #[test]
        fn balancing_keeps_the_information_of_the_filter(value in "\\PC{0,12}") {
            // Every original bit appears once as itself and once complemented.
            let secret = Secret::from_bytes(&[5u8; 32]).unwrap();
            let key = secret.derive_key("bloom", "name");
            let plain = BloomBuilder::new(&key, spec()).build(&value);
            let p = keyed_permutation(&key, 1024);
            let balanced = balance(&plain, &p);
            for (j, &src) in p.iter().enumerate() {
                let src = src as usize;
                let expected = if src < 512 { plain.get(src) } else { !plain.get(src - 512) };
                proptest::prop_assert_eq!(balanced.get(j), expected);
            }
        }
    }

    #[test]
    fn keyed_permutations_are_permutations_and_depend_on_the_key() {
        let a = Secret::from_bytes(&[1u8; 32])
            .unwrap()
            .derive_key("balance", "x");
        let b = Secret::from_bytes(&[2u8; 32])
            .unwrap()
            .derive_key("balance", "x");
        let pa = keyed_permutation(&a, 1024);
        let mut sorted = pa.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1024).collect::<Vec<u32>>());
        assert_eq!(pa, keyed_permutation(&a, 1024));
        assert_ne!(pa, keyed_permutation(&b, 1024));
        // Not the identity, nor close to it.
        let fixed = pa
            .iter()
            .enumerate()
            .filter(|(i, &p)| *i as u32 == p)
            .count();
        assert!(fixed < 10, "{fixed} fixed points");
    }

    #[test]
    fn balanced_dice_still_ranks_similar_names_above_different_ones() {
        let secret = Secret::from_bytes(&[3u8; 32]).unwrap();
        let key = secret.derive_key("bloom", "name");
        for (fold, balanced) in [(true, false), (false, true), (true, true)] {
            let spec = hardened_spec(fold, balanced);
            let mut b = BloomBuilder::new(&key, spec).hardened(Hardening::new(spec, &key));
            let (jon, jon2, other) = (b.build("jonathan"), b.build("johnathan"), b.build("priya"));
            assert_eq!(jon.dice(&jon), 1.0);
            assert!(
                jon.dice(&jon2) > jon.dice(&other) + 0.05,
                "fold {fold} balanced {balanced}: {} vs {}",
                jon.dice(&jon2),
                jon.dice(&other)
            );
        }
    }

    #[test]
    fn salted_filters_differ_across_salts_and_agree_within_one() {
        let secret = Secret::from_bytes(&[3u8; 32]).unwrap();
        let key = secret.derive_key("salted bloom", "name");
        let mut b = BloomBuilder::new(&key, spec());
        let mut f = |value: &str, salt: Option<&str>| {
            let mut out = Bloom::default();
            b.build_into(value, salt, &mut out);
            out
        };
        let a1 = f("oliver", Some("2015"));
        let a2 = f("oliver", Some("2015"));
        let b1 = f("oliver", Some("2016"));
        let unsalted = f("oliver", None);
        assert_eq!(a1, a2);
        assert!(a1.dice(&b1) < 0.3, "{}", a1.dice(&b1));
        assert!(a1.dice(&unsalted) < 0.3);
        // Similar names under one salt stay similar.
        let c = f("olivier", Some("2015"));
        assert!(a1.dice(&c) > 0.7, "{}", a1.dice(&c));
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
        // 64 bytes end in one byte and "==": that last character's four unused bits must be
        // zero ("A" and "Q" have them clear, "B" not), and the padding must be there.
        let n = out.len();
        assert_eq!(&out[n - 2..], b"==");
        for (last, ok) in [(b'A', true), (b'Q', true), (b'B', false), (b'P', false)] {
            let mut text = out.clone();
            text[n - 3] = last;
            assert_eq!(
                Bloom::from_base64(&text, 512).is_some(),
                ok,
                "{}",
                last as char
            );
            assert_eq!(reference_from_base64(&text, 512).is_some(), ok);
        }
        assert_eq!(Bloom::from_base64(&out[..n - 2], 512), None);
        assert_eq!(Bloom::from_base64(&[&out[..], b"\n"].concat(), 512), None);
    }

    /// The filter of `text` by the `base64` crate's strict standard decoder (the reference for
    /// `from_base64`).
    fn reference_from_base64(text: &[u8], bits: u32) -> Option<Bloom> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?;
        if bytes.len() * 8 != bits as usize {
            return None;
        }
        let words = bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        Some(Bloom(words))
    }

    proptest::proptest! {
        #[test]
        fn reading_base64_accepts_and_refuses_what_the_strict_decoder_does(
            words in proptest::collection::vec(proptest::num::u64::ANY, 1..20),
            edits in proptest::collection::vec((proptest::num::usize::ANY, proptest::num::u8::ANY), 0..3),
            cut in 0usize..3,
            bits_off in proptest::bool::ANY,
        ) {
            // A filter's base64, then characters replaced by any byte (other letters, padding in
            // the wrong place, unused bits set, not base64 at all) or the end cut off.
            let bloom = Bloom(words.into_boxed_slice());
            let mut text = Vec::new();
            bloom.write_base64(&mut text);
            for (at, byte) in edits {
                let at = at % text.len();
                text[at] = byte;
            }
            text.truncate(text.len() - cut.min(text.len()));
            let bits = bloom.bits() as u32 + if bits_off { 64 } else { 0 };
            proptest::prop_assert_eq!(Bloom::from_base64(&text, bits), reference_from_base64(&text, bits));
        }

        #[test]
        fn base64_is_the_standard_base64_of_the_little_endian_bytes(
            words in proptest::collection::vec(proptest::num::u64::ANY, 1..130),
            before in proptest::collection::vec(proptest::num::u8::ANY, 0..20),
        ) {
            // Any length (pieces of 48 words and a padded end), appended after what `out` holds.
            use base64::Engine as _;
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            let mut expected = before.clone();
            expected.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(&bytes).as_bytes());
            let mut out = before;
            Bloom(words.into_boxed_slice()).write_base64(&mut out);
            proptest::prop_assert_eq!(out, expected);
        }
    }
}
