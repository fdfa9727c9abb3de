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

    /// Appends the 32 lower-case hex characters to `out` (with SIMD where the CPU has it, by the
    /// `hex-simd` crate).
    #[inline]
    pub fn write_hex(&self, out: &mut Vec<u8>) {
        hex_simd::encode_append(self.0, out, hex_simd::AsciiCase::Lower);
    }

    /// Parses 32 hex characters (either case).
    pub fn from_hex(text: &[u8]) -> Option<Token> {
        if text.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        hex_simd::decode(text, hex_simd::Out::from_slice(&mut out)).ok()?;
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

/// The two lower-case hex characters of every byte (the reference `write_hex` is tested against).
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
    use crate::secret::hex_value;
    use proptest::prelude::*;

    /// A token read pair by pair from hex of either case (the reference for `from_hex`).
    fn reference_from_hex(text: &[u8]) -> Option<Token> {
        if text.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
            *o = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
        }
        Some(Token(out))
    }

    proptest! {
        #[test]
        fn reading_hex_accepts_and_refuses_what_the_reference_does(
            bytes in proptest::array::uniform16(any::<u8>()),
            upper in any::<bool>(),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
            len in 30usize..34,
        ) {
            // A token's hex (either case), characters replaced by any byte, any length near 32.
            let mut text = Vec::new();
            Token(bytes).write_hex(&mut text);
            if upper {
                text.make_ascii_uppercase();
            }
            for (at, byte) in edits {
                let at = at % text.len();
                text[at] = byte;
            }
            text.resize(len, b'0');
            prop_assert_eq!(Token::from_hex(&text), reference_from_hex(&text));
        }

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
        fn write_hex_matches_the_table(
            bytes in proptest::array::uniform16(any::<u8>()),
            before in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            // Appended after whatever `out` holds, byte i as the two characters of the table.
            let mut out = before.clone();
            Token(bytes).write_hex(&mut out);
            let mut expected = before;
            expected.extend(bytes.iter().flat_map(|b| HEX_PAIRS[usize::from(*b)]));
            prop_assert_eq!(out, expected);
        }
    }

    #[test]
    fn bad_hex_is_refused() {
        assert!(Token::from_hex(b"00").is_none());
        assert!(Token::from_hex(&[b'g'; 32]).is_none());
    }
}
