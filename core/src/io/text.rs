//! The text form of a raw CSV extract: its character encoding and its delimiter.
//!
//! Councils' systems export UTF-8, Windows-1252 (or Latin-1), or, from Excel's "Unicode text",
//! UTF-16 with tabs. A file in any of them is decoded to UTF-8 as it is read (by `encoding_rs`),
//! so the same records give the same encoded extract byte for byte whatever the file's form. A
//! byte order mark decides the encoding whatever was asked (it cannot be mistaken); without
//! one, the encoding asked for (UTF-8 by default) is used. UTF-8 input is not decoded at all:
//! each row's UTF-8 is checked as before, and a row that is not valid UTF-8 is rejected with a
//! hint to give the encoding.

use std::io::Read;

use encoding_rs::{Decoder, DecoderResult, Encoding};

use crate::error::{Error, Result};

/// The character encoding of a raw extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TextEncoding {
    /// UTF-8 (a byte order mark is allowed and skipped). The default.
    #[default]
    Utf8,
    /// Windows-1252 (Western European Windows, the "ANSI" of a UK Excel or legacy system).
    Windows1252,
    /// ISO-8859-1 (Latin-1). Decoded as Windows-1252, as browsers and the WHATWG encoding standard
    /// do: the two differ only in bytes 0x80 to 0x9F, control characters in Latin-1 that no text
    /// holds, which exporters that say "Latin-1" use for `€`, `‘` and `’`.
    Latin1,
    /// UTF-16, little-endian unless a byte order mark says otherwise (Excel's "Unicode text").
    Utf16,
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
}

impl TextEncoding {
    /// Every encoding, with the names [`parse`](Self::parse) accepts first.
    pub const ALL: [TextEncoding; 6] = [
        TextEncoding::Utf8,
        TextEncoding::Windows1252,
        TextEncoding::Latin1,
        TextEncoding::Utf16,
        TextEncoding::Utf16Le,
        TextEncoding::Utf16Be,
    ];

    /// The encoding's name, as the manifest records it and [`parse`](Self::parse) reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Windows1252 => "windows-1252",
            TextEncoding::Latin1 => "latin-1",
            TextEncoding::Utf16 => "utf-16",
            TextEncoding::Utf16Le => "utf-16le",
            TextEncoding::Utf16Be => "utf-16be",
        }
    }

    /// The encoding called `name` (case and `-`/`_` ignored; `cp1252` and `iso-8859-1` are
    /// accepted too).
    ///
    /// ```
    /// use pseudolink::io::text::TextEncoding;
    /// assert_eq!(TextEncoding::parse("Windows-1252").unwrap(), TextEncoding::Windows1252);
    /// assert!(TextEncoding::parse("ebcdic").is_err());
    /// ```
    pub fn parse(name: &str) -> Result<TextEncoding> {
        let key: String = name
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        Ok(match key.as_str() {
            "utf8" => TextEncoding::Utf8,
            "windows1252" | "cp1252" | "ansi" => TextEncoding::Windows1252,
            "latin1" | "iso88591" => TextEncoding::Latin1,
            "utf16" => TextEncoding::Utf16,
            "utf16le" => TextEncoding::Utf16Le,
            "utf16be" => TextEncoding::Utf16Be,
            _ => {
                let names: Vec<&str> = Self::ALL.iter().map(|e| e.as_str()).collect();
                return Err(Error::Invalid(format!(
                    "unknown text encoding '{name}': expected one of {}",
                    names.join(", ")
                )));
            }
        })
    }

    /// The decoder of this encoding, `None` for UTF-8 (read as it is).
    fn decoder(self) -> Option<&'static Encoding> {
        match self {
            TextEncoding::Utf8 => None,
            TextEncoding::Windows1252 | TextEncoding::Latin1 => Some(encoding_rs::WINDOWS_1252),
            TextEncoding::Utf16 | TextEncoding::Utf16Le => Some(encoding_rs::UTF_16LE),
            TextEncoding::Utf16Be => Some(encoding_rs::UTF_16BE),
        }
    }

    /// The encoding to read a file starting with `head` in, when `self` was asked for: the one
    /// its byte order mark names, if it has one, else `self` (`utf-16` read as little-endian).
    pub fn for_file(self, head: &[u8]) -> TextEncoding {
        match Encoding::for_bom(head) {
            Some((e, _)) if e == encoding_rs::UTF_8 => TextEncoding::Utf8,
            Some((e, _)) if e == encoding_rs::UTF_16LE => TextEncoding::Utf16Le,
            Some((e, _)) if e == encoding_rs::UTF_16BE => TextEncoding::Utf16Be,
            _ if self == TextEncoding::Utf16 => TextEncoding::Utf16Le,
            _ => self,
        }
    }
}

impl std::fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TextEncoding {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        TextEncoding::parse(s)
    }
}

/// The delimiters a raw extract may use.
pub const DELIMITERS: [(u8, &str); 4] = [(b',', ","), (b';', ";"), (b'\t', "tab"), (b'|', "|")];

/// The delimiter called `name`: `,` `;` `|`, or a tab (`tab`, `\t` or the character itself).
///
/// ```
/// assert_eq!(pseudolink::io::text::parse_delimiter("tab").unwrap(), b'\t');
/// assert!(pseudolink::io::text::parse_delimiter(":").is_err());
/// ```
pub fn parse_delimiter(name: &str) -> Result<u8> {
    match name {
        "," | "comma" => Ok(b','),
        ";" | "semicolon" => Ok(b';'),
        "\t" | "\\t" | "tab" | "TAB" => Ok(b'\t'),
        "|" | "pipe" => Ok(b'|'),
        _ => Err(Error::Invalid(format!(
            "unknown delimiter '{}': expected one of ',', ';', 'tab' or '|'",
            name.escape_default()
        ))),
    }
}

/// The name of `delimiter` as the manifest records it (`tab` for a tab).
pub fn delimiter_name(delimiter: u8) -> String {
    DELIMITERS
        .iter()
        .find(|(d, _)| *d == delimiter)
        .map_or_else(|| char::from(delimiter).to_string(), |(_, n)| n.to_string())
}

/// A reader that decodes its input from a legacy encoding or UTF-16 into UTF-8 as it is read.
///
/// Bytes that are not valid in the encoding (an unpaired UTF-16 surrogate, a file cut in the
/// middle of a character) are an [`std::io::ErrorKind::InvalidData`] error naming the line
/// (counted in the decoded text), never replaced silently.
pub struct DecodingReader<R> {
    inner: R,
    decoder: Decoder,
    encoding: TextEncoding,
    input: Vec<u8>,
    in_start: usize,
    in_end: usize,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
    eof: bool,
    /// Line of the decoded text reached so far (1-based).
    line: u64,
}

impl<R: Read> DecodingReader<R> {
    /// Decodes `inner` from `encoding` (its byte order mark, if it starts with one, skipped).
    /// `encoding` must not be UTF-8, which is read as it is.
    pub fn new(inner: R, encoding: TextEncoding) -> Self {
        let decoder = encoding
            .decoder()
            .unwrap_or(encoding_rs::UTF_8)
            .new_decoder_with_bom_removal();
        DecodingReader {
            inner,
            decoder,
            encoding,
            input: vec![0; 64 << 10],
            in_start: 0,
            in_end: 0,
            output: vec![0; 3 * (64 << 10) + 16],
            out_start: 0,
            out_end: 0,
            eof: false,
            line: 1,
        }
    }

    /// The reader underneath.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Decodes more input into the empty output buffer; false at the end.
    fn fill(&mut self) -> std::io::Result<bool> {
        loop {
            if self.in_start == self.in_end && !self.eof {
                self.in_start = 0;
                self.in_end = loop {
                    match self.inner.read(&mut self.input) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                };
                self.eof = self.in_end == 0;
            }
            let src = self.input.get(self.in_start..self.in_end).unwrap_or(&[]);
            let (result, read, written) =
                self.decoder
                    .decode_to_utf8_without_replacement(src, &mut self.output, self.eof);
            self.in_start += read;
            self.out_start = 0;
            self.out_end = written;
            if let DecoderResult::Malformed(_, _) = result {
                let decoded = self.output.get(..written).unwrap_or(&[]);
                let line = self.line + decoded.iter().filter(|&&b| b == b'\n').count() as u64;
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "line {line}: the text is not valid {} (an unpaired surrogate, or a character cut short); check the file's encoding",
                        self.encoding
                    ),
                ));
            }
            if written > 0 {
                let decoded = self.output.get(..written).unwrap_or(&[]);
                self.line += decoded.iter().filter(|&&b| b == b'\n').count() as u64;
                return Ok(true);
            }
            if self.eof && matches!(result, DecoderResult::InputEmpty) {
                return Ok(false);
            }
        }
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.out_start == self.out_end && !self.fill()? {
            return Ok(0);
        }
        let pending = self.output.get(self.out_start..self.out_end).unwrap_or(&[]);
        let n = pending.len().min(buf.len());
        if let (Some(to), Some(from)) = (buf.get_mut(..n), pending.get(..n)) {
            to.copy_from_slice(from);
        }
        self.out_start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], encoding: TextEncoding) -> std::io::Result<String> {
        let mut out = String::new();
        DecodingReader::new(bytes, encoding).read_to_string(&mut out)?;
        Ok(out)
    }

    #[test]
    fn windows_1252_and_latin_1_decode_pound_accents_and_curly_quotes() {
        let bytes = b"Zo\xeb O\x92Brien \xa3 \x80";
        for e in [TextEncoding::Windows1252, TextEncoding::Latin1] {
            assert_eq!(decode(bytes, e).unwrap(), "Zoë O’Brien £ €");
        }
    }

    #[test]
    fn utf16_decodes_either_order_and_skips_the_bom() {
        let text = "record_id\tfirst_name\r\nA1\tZoë\r\n";
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(TextEncoding::Utf8.for_file(&le), TextEncoding::Utf16Le);
        assert_eq!(TextEncoding::Utf16.for_file(&be), TextEncoding::Utf16Le);
        assert_eq!(decode(&le, TextEncoding::Utf16Le).unwrap(), text);
        assert_eq!(decode(&be, TextEncoding::Utf16Be).unwrap(), text);
        // Larger than the buffers, so that decoding goes on across reads.
        let long: String = text.repeat(20_000);
        let bytes: Vec<u8> = long.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode(&bytes, TextEncoding::Utf16).unwrap(), long);
    }

    #[test]
    fn an_unpaired_surrogate_is_an_error_naming_its_line() {
        let mut bytes: Vec<u8> = "a\nb\nc"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        bytes.extend_from_slice(&0xD800u16.to_le_bytes());
        bytes.extend_from_slice(&u16::from(b'x').to_le_bytes());
        let e = decode(&bytes, TextEncoding::Utf16Le).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("line 3: the text is not valid utf-16le"),
            "{e}"
        );
        // An odd number of bytes: a character cut short.
        let e = decode(&[b'a', 0, b'b'], TextEncoding::Utf16Le).unwrap_err();
        assert!(e.to_string().contains("not valid utf-16le"), "{e}");
    }

    #[test]
    fn names_parse_and_unknown_ones_are_refused() {
        for e in TextEncoding::ALL {
            assert_eq!(TextEncoding::parse(e.as_str()).unwrap(), e);
        }
        assert_eq!(
            TextEncoding::parse("ISO-8859-1").unwrap(),
            TextEncoding::Latin1
        );
        assert!(TextEncoding::parse("koi8-r")
            .unwrap_err()
            .to_string()
            .contains("expected one of utf-8, windows-1252"));
        for (d, name) in DELIMITERS {
            assert_eq!(parse_delimiter(name).unwrap(), d);
            assert_eq!(delimiter_name(d), name);
        }
        assert!(parse_delimiter("::").is_err());
    }
}
