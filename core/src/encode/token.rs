//! Exact-match tokens: 128 bits of keyed BLAKE3 of the value's
//! [`message`](super::message), written as 32 lower-case hex characters.

use std::fmt;

use crate::secret::DerivedKey;

/// A 128-bit keyed-hash token. Equal tokens mean equal normalised values under the same key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Token(pub [u8; 16]);

impl Token {
    /// The token of `data` under `key`: the first 16 bytes of keyed BLAKE3 of the
    /// [`message`](super::message::message) of `data`.
    #[inline]
    pub fn of(key: &DerivedKey, data: &[u8]) -> Token {
        Token::from_hash(&super::message::hash(key, data))
    }

    /// The token held in a message's hash (its first 16 bytes).
    #[inline]
    pub fn from_hash(hash: &[u8; 32]) -> Token {
        let mut out = [0u8; 16];
        out.copy_from_slice(&hash[..16]);
        Token(out)
    }

    /// Appends the 32 hex characters to `out`.
    #[inline]
    pub fn write_hex(&self, out: &mut Vec<u8>) {
        let mut hex = [0u8; 32];
        for (half, bytes) in hex.chunks_exact_mut(16).zip(self.0.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(bytes);
            half.copy_from_slice(&hex16(u64::from_be_bytes(b)));
        }
        out.extend_from_slice(&hex);
    }

    /// Parses 32 hex characters (either case).
    pub fn from_hex(text: &[u8]) -> Option<Token> {
        if text.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
            *o = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Some(Token(out))
    }

    /// The token as a `u64` (its first 8 bytes), for hashing into tables.
    #[inline]
    pub fn prefix_u64(&self) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(b)
    }
}

/// The 16 lower-case hex characters of `x`, most significant first, computed in one `u128`
/// (nibbles spread one per byte, then `'0'` or `'a' - 10` added) instead of a table lookup per byte.
#[inline]
fn hex16(x: u64) -> [u8; 16] {
    const LOW_NIBBLES: u128 = 0x0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f;
    const ONES: u128 = 0x0101_0101_0101_0101_0101_0101_0101_0101;
    // Byte 2i of the result (counting from the most significant) is the high nibble of byte i.
    let mut v = u128::from(x);
    v = (v | (v << 32)) & 0x0000_0000_ffff_ffff_0000_0000_ffff_ffff;
    v = (v | (v << 16)) & 0x0000_ffff_0000_ffff_0000_ffff_0000_ffff;
    v = (v | (v << 8)) & 0x00ff_00ff_00ff_00ff_00ff_00ff_00ff_00ff;
    v = ((v << 4) | v) & LOW_NIBBLES;
    // 1 in each byte whose nibble is 10 or more.
    let letters = ((v + 6 * ONES) >> 4) & ONES;
    (v + 0x30 * ONES + letters * 0x27).to_be_bytes()
}

/// The two lower-case hex characters of every byte (the reference `hex16` is tested against).
#[cfg(test)]
const HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    table
};

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = Vec::with_capacity(32);
        self.write_hex(&mut v);
        write!(f, "Token({})", String::from_utf8_lossy(&v))
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = Vec::with_capacity(32);
        self.write_hex(&mut v);
        f.write_str(&String::from_utf8_lossy(&v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn hex_round_trip(bytes in proptest::array::uniform16(any::<u8>())) {
            let t = Token(bytes);
            let mut v = Vec::new();
            t.write_hex(&mut v);
            prop_assert_eq!(Token::from_hex(&v), Some(t));
            prop_assert_eq!(t.to_string().len(), 32);
        }
    }

    proptest! {
        #[test]
        fn hex16_matches_the_table(x in any::<u64>()) {
            let expected: Vec<u8> = x.to_be_bytes().iter().flat_map(|b| HEX_PAIRS[usize::from(*b)]).collect();
            prop_assert_eq!(hex16(x).to_vec(), expected);
        }
    }

    #[test]
    fn bad_hex_is_refused() {
        assert!(Token::from_hex(b"00").is_none());
        assert!(Token::from_hex(&[b'g'; 32]).is_none());
    }
}
