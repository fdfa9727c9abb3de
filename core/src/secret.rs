//! The shared secret agreed under the Information Sharing Agreement, and the keys derived from it.
//!
//! A [`Secret`] is 32 random bytes. It is never printed: `Debug` shows `Secret(<redacted>)`, there is
//! no `Display`, and the bytes are zeroized when the value is dropped. Per-field, per-purpose keys
//! are derived with [`blake3::derive_key`] and a context string naming the encoding version, the
//! purpose and the key group, so a token of a date of birth can never equal a token of a postcode.
//!
//! ```
//! use pseudolink::Secret;
//! let secret = Secret::from_hex(&"ab".repeat(32)).unwrap();
//! assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
//! assert_eq!(secret.check_value().len(), 16);
//! ```

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};

/// Length of a secret in bytes (256 bits).
pub const SECRET_LEN: usize = 32;

/// Version of the encoding, part of every key-derivation context. Changing how values are
/// normalised or encoded in an incompatible way means a new version, so old and new encodings can
/// never be confused.
pub const ENCODING_VERSION: u32 = 3;

/// The 256-bit secret shared by the agencies (never by the linkage unit).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret {
    bytes: [u8; SECRET_LEN],
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Secret {
    /// A new secret from the operating system's random number generator.
    pub fn generate() -> Result<Self> {
        let mut bytes = [0u8; SECRET_LEN];
        getrandom::getrandom(&mut bytes).map_err(|e| {
            Error::Secret(format!("the operating system gave no random bytes: {e}"))
        })?;
        Ok(Secret { bytes })
    }

    /// A secret from exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; SECRET_LEN] = bytes.try_into().map_err(|_| {
            Error::Secret(format!(
                "a secret must be exactly {SECRET_LEN} bytes, got {}",
                bytes.len()
            ))
        })?;
        Ok(Secret { bytes: arr })
    }

    /// A secret from 64 hexadecimal characters (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.len() != SECRET_LEN * 2 {
            return Err(Error::Secret(format!(
                "a secret must be {} hexadecimal characters (256 bits), got {} characters",
                SECRET_LEN * 2,
                text.chars().count()
            )));
        }
        let mut bytes = Zeroizing::new([0u8; SECRET_LEN]);
        for (i, pair) in text.as_bytes().chunks_exact(2).enumerate() {
            let hi = hex_value(pair[0]);
            let lo = hex_value(pair[1]);
            match (hi, lo, bytes.get_mut(i)) {
                (Some(h), Some(l), Some(b)) => *b = (h << 4) | l,
                _ => {
                    return Err(Error::Secret(
                        "a secret must contain only hexadecimal characters 0-9 and a-f".into(),
                    ))
                }
            }
        }
        Ok(Secret { bytes: *bytes })
    }

    /// Loads a secret file written by `pseudolink keygen` (64 hex characters, optional newline).
    ///
    /// The file's contents never appear in the error message.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = Zeroizing::new(read_small(path)?);
        let path = shown(path);
        if text.is_empty() {
            return Err(Error::Secret(format!(
                "secret file {} is empty",
                path.display()
            )));
        }
        let text = std::str::from_utf8(&text).map_err(|_| {
            Error::Secret(format!(
                "secret file {} is not text: expected 64 hexadecimal characters",
                path.display()
            ))
        })?;
        Secret::from_hex(text)
            .map_err(|e| Error::Secret(format!("secret file {}: {}", path.display(), strip(e))))
    }

    /// The secret as 64 lower-case hex characters, for writing a key file. Handle with care: the
    /// returned string is zeroized when dropped.
    pub fn to_hex(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(SECRET_LEN * 2));
        for b in self.bytes {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 15)]));
        }
        s
    }

    /// Derives a 32-byte key for `purpose` and key `group` (usually a field name).
    ///
    /// The context string is `pseudolink encoding v<ENCODING_VERSION> <purpose> <group>` (v3 today).
    pub fn derive_key(&self, purpose: &str, group: &str) -> DerivedKey {
        let context = format!("pseudolink encoding v{ENCODING_VERSION} {purpose} {group}");
        DerivedKey {
            key: blake3::derive_key(&context, &self.bytes),
        }
    }

    /// The key check value: 16 hex characters (64 bits) of a keyed hash of a fixed label.
    ///
    /// Parties compare check values to confirm they hold the same secret without revealing it.
    /// A secret's check value never changes: its key is derived with the context of encoding
    /// version 1 (when check values were introduced) whatever the current encoding version, so
    /// a check value written into an agreement stays valid across upgrades.
    pub fn check_value(&self) -> String {
        let key = DerivedKey {
            key: blake3::derive_key("pseudolink encoding v1 key-check-value ", &self.bytes),
        };
        let hash = blake3::keyed_hash(&key.key, b"pseudolink key check value");
        to_hex(&hash.as_bytes()[..8])
    }
}

/// Writes a new random secret to `path` as 64 hex characters and a newline, with file mode 0600
/// on Unix. Refuses to overwrite an existing file. Returns the new secret's key check value.
pub fn write_new_secret_file(path: &Path) -> Result<String> {
    use std::io::Write;
    let secret = Secret::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let shown_path = shown(path);
    let mut file = options.open(path).map_err(|e| {
        let path = shown_path.as_ref();
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Secret(format!(
                "{} already exists; pseudolink never overwrites a secret file",
                path.display()
            ))
        } else {
            Error::io("create", path, e)
        }
    })?;
    let mut text = secret.to_hex();
    text.push('\n');
    file.write_all(text.as_bytes())
        .map_err(|e| Error::io("write", shown_path.as_ref(), e))?;
    file.sync_all()
        .map_err(|e| Error::io("write", shown_path.as_ref(), e))?;
    Ok(secret.check_value())
}

/// A warning when the secret file at `path` can be read by users other than its owner (Unix).
pub fn file_permission_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        let path = shown(path);
        if mode & 0o077 != 0 {
            return Some(format!(
                "secret file {} can be read by other users (mode {:o}); restrict it with: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    None
}

/// A secret loaded with [`load_secret_file`], and what the user should be told about its file.
#[derive(Debug)]
pub struct LoadedSecret {
    /// The secret.
    pub secret: Secret,
    /// Warnings about the file (today: other users can read it). Every front end shows them: the
    /// CLI on stderr, Python as a `SecretPermissionWarning`, C through `pl_last_warning_message`.
    pub warnings: Vec<String>,
}

/// Loads a secret file as every front end does: [`Secret::from_file`], with a warning when users
/// other than its owner can read the file ([`file_permission_warning`]). With `strict` that
/// warning is an [`Error::Secret`] instead, and the file is not read.
pub fn load_secret_file(path: &Path, strict: bool) -> Result<LoadedSecret> {
    let mut warnings = Vec::new();
    if let Some(w) = file_permission_warning(path) {
        if strict {
            return Err(Error::Secret(format!("{w} (refused in strict mode)")));
        }
        warnings.push(w);
    }
    Ok(LoadedSecret {
        secret: Secret::from_file(path)?,
        warnings,
    })
}

/// Longest secret file read, in bytes: a keygen file is 65; anything far longer is the wrong file.
const MAX_SECRET_FILE_BYTES: u64 = 4096;

/// Reads at most [`MAX_SECRET_FILE_BYTES`] of `path`, refusing a longer file (a data file or a
/// device given by mistake is never read whole).
fn read_small(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| Error::io("read", shown(path), e))?;
    let path = shown(path);
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path.as_ref(), e))?;
    if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
        bytes.zeroize();
        return Err(Error::Secret(format!(
            "secret file {} is longer than {MAX_SECRET_FILE_BYTES} bytes: a secret file holds 64 hexadecimal characters; is this the right file?",
            path.display()
        )));
    }
    Ok(bytes)
}

/// What messages show in place of a path that looks like key material.
pub const HIDDEN_PATH: &str =
    "<a path that looks like a secret itself, not the name of its file: not shown>";

/// How a secret file's path appears in messages: as given, unless it looks like key material (a
/// secret pasted where the name of its file belongs), which is never shown.
fn shown(path: &Path) -> Cow<'_, Path> {
    if looks_like_key_material(&path.to_string_lossy()) {
        Cow::Owned(HIDDEN_PATH.into())
    } else {
        Cow::Borrowed(path)
    }
}

/// True when `text` holds what could be a secret or half of one: a run of 32 or more hexadecimal
/// digits, or (as a whole, surrounding whitespace aside) the base64 of 32 bytes. No file name
/// pseudolink suggests looks like that.
pub fn looks_like_key_material(text: &str) -> bool {
    use base64::Engine as _;
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_hexdigit() { run + 1 } else { 0 };
        if run >= SECRET_LEN {
            return true;
        }
    }
    let t = text.trim();
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines.iter().any(|e| {
        e.decode(t)
            .map(|mut b| {
                let is = b.len() == SECRET_LEN;
                b.zeroize();
                is
            })
            .unwrap_or(false)
    })
}

fn strip(e: Error) -> String {
    match e {
        Error::Secret(m) => m,
        other => other.to_string(),
    }
}

/// A key derived from the secret for one purpose and field. Zeroized on drop, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DerivedKey {
    key: [u8; 32],
}

impl fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DerivedKey(<redacted>)")
    }
}

impl DerivedKey {
    /// A key anyone can derive from `context` alone, with no secret: for hashes that need
    /// BLAKE3's collision resistance and batching but no secrecy (the duplicate record id
    /// check's).
    pub(crate) fn public(context: &str) -> DerivedKey {
        DerivedKey {
            key: blake3::derive_key(context, b""),
        }
    }

    /// Keyed BLAKE3 of `data` under this key.
    #[inline]
    pub fn hash(&self, data: &[u8]) -> blake3::Hash {
        blake3::keyed_hash(&self.key, data)
    }

    /// A keyed BLAKE3 hasher, for inputs built in pieces or for extended output.
    #[inline]
    pub fn hasher(&self) -> blake3::Hasher {
        blake3::Hasher::new_keyed(&self.key)
    }

    /// Keyed BLAKE3 of many 64-byte messages at once: `out[i]` is the 32-byte
    /// [`hash`](Self::hash) of `blocks[i]`; `out` must be at least as long as `blocks`.
    ///
    /// A message of exactly one block is one BLAKE3 compression, and the `blake3` crate compresses
    /// up to 16 of them side by side with SIMD (`hash_many`, the routine it uses for the chunks of
    /// long inputs): about 11 ns per message on this project's machine against about 60 ns for
    /// [`hash`](Self::hash) one at a time. `hash_many` sits in the crate's undocumented
    /// `platform` module, so the workspace pins the crate's exact version and a test checks every
    /// result against [`hash`](Self::hash).
    ///
    /// ```
    /// let secret = pseudolink::Secret::from_bytes(&[7; 32]).unwrap();
    /// let key = secret.derive_key("token", "example");
    /// let blocks = [[1u8; 64], [2u8; 64], [3u8; 64]];
    /// let mut out = [[0u8; 32]; 3];
    /// key.hash_blocks(&blocks, &mut out);
    /// assert_eq!(&out[2], key.hash(&blocks[2]).as_bytes());
    /// ```
    pub fn hash_blocks(&self, blocks: &[[u8; 64]], out: &mut [[u8; 32]]) {
        // BLAKE3 domain flags (BLAKE3 specification, section 2.1): a one-block message is a
        // chunk's first and last block and the root of the tree.
        const CHUNK_START: u8 = 1;
        const CHUNK_END: u8 = 1 << 1;
        const ROOT: u8 = 1 << 3;
        const KEYED_HASH: u8 = 1 << 4;
        const LANES: usize = 16;
        static EMPTY: [u8; 64] = [0; 64];
        let platform = blake3::platform::Platform::detect();
        let key = zeroize::Zeroizing::new(blake3::platform::words_from_le_bytes_32(&self.key));
        for (blocks, out) in blocks.chunks(LANES).zip(out.chunks_mut(LANES)) {
            let mut refs = [&EMPTY; LANES];
            for (r, b) in refs.iter_mut().zip(blocks) {
                *r = b;
            }
            let n = blocks.len().min(out.len());
            platform.hash_many(
                &refs[..n],
                &key,
                0,
                blake3::IncrementCounter::No,
                KEYED_HASH,
                CHUNK_START,
                CHUNK_END | ROOT,
                &mut out.as_flattened_mut()[..32 * n],
            );
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The value of one hex digit of either case.
pub(crate) fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// Constant-time equality of two key check values (or any two strings of public length).
pub fn check_values_equal(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_errors() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
        let s = Secret::from_hex(hex).unwrap();
        assert_eq!(s.to_hex().as_str(), hex.to_lowercase());
        assert!(Secret::from_hex("abc").is_err());
        assert!(Secret::from_hex(&"zz".repeat(32)).is_err());
        assert!(Secret::from_bytes(&[1u8; 31]).is_err());
    }

    #[test]
    fn error_messages_never_contain_the_secret() {
        let almost = format!("{}g", "a1".repeat(31));
        let err = Secret::from_hex(&format!("{almost}0"))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("a1a1"), "{err}");
    }

    #[test]
    fn derived_keys_are_separated_by_purpose_and_group() {
        let s = Secret::from_bytes(&[7u8; 32]).unwrap();
        let a = s.derive_key("token", "date_of_birth").hash(b"x");
        let b = s.derive_key("token", "postcode").hash(b"x");
        let c = s.derive_key("bloom", "date_of_birth").hash(b"x");
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn a_secret_given_as_its_own_path_is_never_shown() {
        use base64::Engine as _;
        let raw = [0x5au8; 32];
        let hex = to_hex(&raw);
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        let dir = tempfile::tempdir().unwrap();
        let dir_text = dir.path().display().to_string();
        let cases = [
            hex.clone(),
            hex.to_uppercase(),
            format!("{dir_text}/{hex}"),
            format!("{}\n", &hex[..40]),
            b64.clone(),
            url.clone(),
        ];
        for given in &cases {
            assert!(looks_like_key_material(given), "{given}");
            let e = Secret::from_file(Path::new(given)).unwrap_err();
            let text = format!("{e} {e:?}");
            for form in [
                &hex,
                &hex.to_uppercase(),
                &b64,
                &url,
                &hex[..32].to_string(),
            ] {
                assert!(!text.contains(form.as_str()), "{text}");
            }
            assert!(text.contains(HIDDEN_PATH), "{text}");
            let e = write_new_secret_file(Path::new(&format!("/nonexistent/{hex}"))).unwrap_err();
            assert!(!e.to_string().contains(&hex), "{e}");
        }
        // Ordinary names are shown, so the operator knows which file is wrong.
        for ordinary in [
            "partnership.secret.hex",
            "/srv/pseudolink/keys/early-help-2026/secret.hex",
            "/home/a/2024-01-01/k.hex",
            "deadbeef.hex",
        ] {
            assert!(!looks_like_key_material(ordinary), "{ordinary}");
            let e = Secret::from_file(Path::new(ordinary)).unwrap_err();
            assert!(e.to_string().contains(ordinary), "{e}");
        }
    }

    #[test]
    fn check_values_do_not_change_with_the_encoding_version() {
        // The value pseudolink has always given for this public test secret (docs/python.md).
        let bytes: Vec<u8> = (0u8..32).collect();
        let secret = Secret::from_bytes(&bytes).unwrap();
        assert_eq!(secret.check_value(), "a59663ef41e946a2");
    }

    #[test]
    fn check_value_differs_between_secrets() {
        let a = Secret::from_bytes(&[1u8; 32]).unwrap();
        let b = Secret::from_bytes(&[2u8; 32]).unwrap();
        assert_ne!(a.check_value(), b.check_value());
        assert!(check_values_equal(&a.check_value(), &a.check_value()));
        assert!(!check_values_equal(&a.check_value(), &b.check_value()));
    }

    #[test]
    fn keygen_writes_0600_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.hex");
        let kcv = write_new_secret_file(&path).unwrap();
        assert_eq!(Secret::from_file(&path).unwrap().check_value(), kcv);
        assert!(file_permission_warning(&path).is_none());
        assert!(matches!(
            write_new_secret_file(&path),
            Err(Error::Secret(_))
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(file_permission_warning(&path)
                .unwrap()
                .contains("chmod 600"));
        }
    }

    #[cfg(unix)]
    #[test]
    fn load_secret_file_warns_or_refuses_a_file_others_can_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.hex");
        let kcv = write_new_secret_file(&path).unwrap();
        for strict in [false, true] {
            let loaded = load_secret_file(&path, strict).unwrap();
            assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
            assert_eq!(loaded.secret.check_value(), kcv);
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let loaded = load_secret_file(&path, false).unwrap();
        assert_eq!(loaded.secret.check_value(), kcv);
        assert_eq!(loaded.warnings.len(), 1);
        assert!(loaded.warnings[0].contains("can be read by other users (mode 640)"));
        assert!(loaded.warnings[0].contains("chmod 600"));
        let e = load_secret_file(&path, true).unwrap_err();
        assert!(matches!(e, Error::Secret(_)), "{e:?}");
        let m = e.to_string();
        assert!(
            m.contains("can be read by other users") && m.contains("strict"),
            "{m}"
        );
        // Strict refuses before reading: a file that is not a secret gives the permission error.
        std::fs::write(&path, "not a secret").unwrap();
        let m = load_secret_file(&path, true).unwrap_err().to_string();
        assert!(m.contains("can be read by other users"), "{m}");
    }

    #[test]
    fn generated_secrets_differ() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_ne!(a.to_hex().as_str(), b.to_hex().as_str());
    }

    /// Found while building the bad-input corpus: a secret path naming a large file (a data
    /// extract given by mistake, a device) used to be read whole into memory before being refused.
    #[test]
    fn a_long_file_is_refused_without_being_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.csv");
        std::fs::write(&p, "record_id,first_name\n".repeat(1000)).unwrap();
        let e = Secret::from_file(&p).unwrap_err();
        assert!(matches!(e, Error::Secret(_)), "{e:?}");
        assert!(e.to_string().contains("longer than 4096 bytes"), "{e}");
        let ok = dir.path().join("k.hex");
        std::fs::write(&ok, format!("{}\n", "ab".repeat(32))).unwrap();
        assert!(Secret::from_file(&ok).is_ok());
    }
}
