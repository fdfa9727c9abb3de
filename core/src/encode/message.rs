//! The messages hashed for tokens and Bloom filter positions, and batches of them.
//!
//! Every token and every q-gram's bit positions come from keyed BLAKE3 of a *message*: the input,
//! zeros, and the input's length as 4 bytes little-endian at the very end, in the smallest whole
//! number of 64-byte blocks that holds them ([`message`]). The length makes the padding
//! unambiguous. An input of at most 60 bytes (every q-gram, nearly every token) is a one-block
//! message, and one-block messages under one key are hashed side by side
//! ([`DerivedKey::hash_blocks`]): a [`HashBatch`] collects them while records are encoded and
//! hashes them together at the end.

use crate::secret::DerivedKey;

/// Longest input whose message is a single 64-byte block.
pub const ONE_BLOCK_INPUT: usize = 60;

/// Writes the message of `input` into `out` (see the module documentation).
///
/// ```
/// let mut m = Vec::new();
/// pseudolink::internals::encode::message::message(b"ab", &mut m);
/// assert_eq!(m.len(), 64);
/// assert_eq!(&m[..2], b"ab");
/// assert_eq!(&m[60..], &[2, 0, 0, 0]);
/// pseudolink::internals::encode::message::message(&[7; 61], &mut m);
/// assert_eq!(m.len(), 128);
/// ```
pub fn message(input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(input);
    let total = (input.len() + 4).div_ceil(64) * 64;
    out.resize(total - 4, 0);
    out.extend_from_slice(&length(input).to_le_bytes());
}

/// The message of `input` when it is a single block (`input` at most [`ONE_BLOCK_INPUT`] bytes).
#[inline]
pub fn one_block(input: &[u8]) -> Option<[u8; 64]> {
    if input.len() > ONE_BLOCK_INPUT {
        return None;
    }
    let mut block = [0u8; 64];
    block[..input.len()].copy_from_slice(input);
    block[ONE_BLOCK_INPUT..].copy_from_slice(&length(input).to_le_bytes());
    Some(block)
}

/// How many blocks to hash for `n`: `n` with its last group of fewer than 16 rounded up to 4, 8
/// or 16 where that is cheaper. `blake3`'s many-input hashing takes 16 inputs at a time with
/// AVX-512, then 8, then 4, then one at a time; measured on this machine, one block took 73 ns, 3
/// blocks 131 ns and 4 blocks 97 ns, 7 blocks 221 ns and 8 blocks 106 ns, 15 blocks 302 ns and
/// 16 blocks 171 ns.
fn padded_count(n: usize) -> usize {
    let rest = n % 16;
    n - rest
        + match rest {
            0..=2 => rest,
            3..=4 => 4,
            5..=8 => 8,
            _ => 16,
        }
}

/// Writes the input length `len` into the last four bytes of `block`.
#[inline]
fn set_length(block: &mut [u8; 64], len: usize) {
    block[ONE_BLOCK_INPUT..].copy_from_slice(&length_of(len).to_le_bytes());
}

/// Copies `src` into `block` at `at` (nothing if it does not fit) with at most two fixed-size
/// copies that may overlap, as `memcpy` does inside, but without calling it: these inputs are a
/// few bytes long and there are about a hundred of them per record.
#[inline]
pub(crate) fn put(block: &mut [u8; 64], at: usize, src: &[u8]) {
    fn two<const N: usize>(dst: &mut [u8], src: &[u8]) {
        if let (Some(d), Some(s)) = (dst.first_chunk_mut::<N>(), src.first_chunk::<N>()) {
            *d = *s;
        }
        if let (Some(d), Some(s)) = (dst.last_chunk_mut::<N>(), src.last_chunk::<N>()) {
            *d = *s;
        }
    }
    let n = src.len();
    let Some(dst) = block.get_mut(at..at + n) else {
        return;
    };
    match n {
        0 => {}
        1..=3 => {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
        4..=7 => two::<4>(dst, src),
        8..=15 => two::<8>(dst, src),
        16..=31 => two::<16>(dst, src),
        _ => two::<32>(dst, src),
    }
}

fn length(input: &[u8]) -> u32 {
    length_of(input.len())
}

fn length_of(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Keyed BLAKE3 of the message of `input` (32 bytes): what a [`HashBatch`] gives for it.
pub fn hash(key: &DerivedKey, input: &[u8]) -> [u8; 32] {
    match one_block(input) {
        Some(block) => *key.hash(&block).as_bytes(),
        None => {
            let mut m = Vec::new();
            message(input, &mut m);
            *key.hash(&m).as_bytes()
        }
    }
}

/// One-block messages waiting to be hashed, grouped by key, each with where its hash goes.
///
/// ```
/// use pseudolink::internals::encode::message::{hash, one_block, HashBatch};
/// let secret = pseudolink::Secret::from_bytes(&[1; 32]).unwrap();
/// let keys = [secret.derive_key("a", "x"), secret.derive_key("b", "x")];
/// let mut batch = HashBatch::new(keys.len());
/// batch.push(1, one_block(b"anna").unwrap(), "anna under b");
/// batch.push(0, one_block(b"anna").unwrap(), "anna under a");
/// let mut got = Vec::new();
/// batch.flush(&keys, |target, h| got.push((target, *h)));
/// assert_eq!(got, [("anna under a", hash(&keys[0], b"anna")), ("anna under b", hash(&keys[1], b"anna"))]);
/// ```
pub struct HashBatch<T> {
    pending: Vec<Pending<T>>,
    hashes: Vec<[u8; 32]>,
}

struct Pending<T> {
    blocks: Vec<[u8; 64]>,
    targets: Vec<T>,
}

impl<T: Copy> HashBatch<T> {
    /// An empty batch for keys `0..keys`.
    pub fn new(keys: usize) -> Self {
        HashBatch {
            pending: (0..keys)
                .map(|_| Pending {
                    blocks: Vec::new(),
                    targets: Vec::new(),
                })
                .collect(),
            hashes: Vec::new(),
        }
    }

    /// Queues `block` for hashing under key number `key`; its hash goes to `target`. A key
    /// number beyond the batch's keys is ignored.
    #[inline]
    pub fn push(&mut self, key: usize, block: [u8; 64], target: T) {
        if let Some(p) = self.pending.get_mut(key) {
            p.blocks.push(block);
            p.targets.push(target);
        }
    }

    /// Queues the message of the input made of `parts` (concatenated) for hashing under key
    /// number `key`, written straight into the batch, when it is one block; its hash goes to
    /// `target`. Returns `false` and queues nothing when the input is longer than
    /// [`ONE_BLOCK_INPUT`] bytes. A key number beyond the batch's keys is ignored.
    ///
    /// ```
    /// use pseudolink::internals::encode::message::{hash, HashBatch};
    /// let secret = pseudolink::Secret::from_bytes(&[1; 32]).unwrap();
    /// let keys = [secret.derive_key("a", "x")];
    /// let mut batch = HashBatch::new(1);
    /// assert!(batch.push_parts(0, &[b"an", b"na"], 7));
    /// assert!(!batch.push_parts(0, &[&[0; 40], &[0; 21]], 8));
    /// let mut got = Vec::new();
    /// batch.flush(&keys, |target, h| got.push((target, *h)));
    /// assert_eq!(got, [(7, hash(&keys[0], b"anna"))]);
    /// ```
    #[inline]
    pub fn push_parts(&mut self, key: usize, parts: &[&[u8]], target: T) -> bool {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len > ONE_BLOCK_INPUT {
            return false;
        }
        if let Some(block) = self.next_block(key, target) {
            let mut at = 0;
            for part in parts {
                put(block, at, part);
                at += part.len();
            }
            set_length(block, len);
        }
        true
    }

    /// Queues a zero block under key number `key` for `target` and returns it to be written in
    /// place; `None` for a key number beyond the batch's keys.
    #[inline]
    fn next_block(&mut self, key: usize, target: T) -> Option<&mut [u8; 64]> {
        let p = self.pending.get_mut(key)?;
        p.blocks.push([0; 64]);
        p.targets.push(target);
        p.blocks.last_mut()
    }

    /// Hashes every queued block under its key (`keys[key]`) and calls `deliver` with each
    /// target and hash, key by key in key order and in queue order within a key; empties the
    /// batch.
    pub fn flush(&mut self, keys: &[DerivedKey], mut deliver: impl FnMut(T, &[u8; 32])) {
        for (p, key) in self.pending.iter_mut().zip(keys) {
            if p.blocks.is_empty() {
                continue;
            }
            // Zero blocks fill the last group up to the next SIMD width: hashed and dropped,
            // they cost less than the narrower passes the remainder would take.
            let real = p.blocks.len();
            p.blocks.resize(padded_count(real), [0; 64]);
            self.hashes.resize(p.blocks.len(), [0; 32]);
            key.hash_blocks(&p.blocks, &mut self.hashes);
            // `targets` has only the real blocks' targets.
            debug_assert_eq!(p.targets.len(), real);
            for (target, h) in p.targets.iter().zip(&self.hashes) {
                deliver(*target, h);
            }
            p.blocks.clear();
            p.targets.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn batched_hashes_equal_one_at_a_time(
            inputs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..=60), 0..40),
        ) {
            let secret = Secret::from_bytes(&[9u8; 32]).unwrap();
            let keys = [secret.derive_key("p", "x"), secret.derive_key("q", "y")];
            let mut batch = HashBatch::new(keys.len());
            for (i, input) in inputs.iter().enumerate() {
                batch.push(i % 2, one_block(input).unwrap(), i);
            }
            let mut seen = vec![false; inputs.len()];
            batch.flush(&keys, |i, h| {
                assert_eq!(*h, hash(&keys[i % 2], &inputs[i]), "input {i}");
                seen[i] = true;
            });
            prop_assert!(seen.iter().all(|s| *s));
        }

        #[test]
        fn one_block_is_the_message_and_messages_are_unambiguous(
            a in proptest::collection::vec(any::<u8>(), 0..150),
            b in proptest::collection::vec(any::<u8>(), 0..150),
        ) {
            let (mut ma, mut mb) = (Vec::new(), Vec::new());
            message(&a, &mut ma);
            message(&b, &mut mb);
            prop_assert_eq!(ma.len() % 64, 0);
            prop_assert_eq!(ma == mb, a == b);
            if let Some(block) = one_block(&a) {
                prop_assert_eq!(&block[..], &ma[..]);
            } else {
                prop_assert!(a.len() > ONE_BLOCK_INPUT);
            }
        }
    }

    proptest! {
        #[test]
        fn put_copies_like_copy_from_slice(
            src in proptest::collection::vec(any::<u8>(), 0..=64),
            at in 0usize..=64,
        ) {
            let mut got = [0xa5u8; 64];
            put(&mut got, at, &src);
            let mut want = [0xa5u8; 64];
            if at + src.len() <= 64 {
                want[at..at + src.len()].copy_from_slice(&src);
            }
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn padding_adds_fewer_than_a_group_and_ends_on_a_simd_width() {
        for n in 0..200 {
            let p = padded_count(n);
            assert!(p >= n && p - n < 8, "{n} -> {p}");
            assert!([0, 1, 2, 4, 8].contains(&(p % 16)), "{n} -> {p}");
        }
    }

    #[test]
    fn hash_blocks_is_keyed_blake3_of_each_block() {
        // Against the public API directly (not through this module's `hash`), for every count
        // up to three rounds of the 16 lanes.
        let secret = Secret::from_bytes(&[4u8; 32]).unwrap();
        let key = secret.derive_key("token", "first_name");
        for n in 0..=48usize {
            let blocks: Vec<[u8; 64]> = (0..n)
                .map(|i| std::array::from_fn(|j| (i * 64 + j) as u8))
                .collect();
            let mut out = vec![[0u8; 32]; n];
            key.hash_blocks(&blocks, &mut out);
            for (b, o) in blocks.iter().zip(&out) {
                assert_eq!(o, key.hash(b).as_bytes(), "{n} blocks");
            }
        }
    }
}
