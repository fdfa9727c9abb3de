//! The manifest that travels beside every encoded extract (`OUT.csv.manifest.json`).
//!
//! It says what was read, what was rejected and why, what was produced, under which schema, secret
//! (by key check value) and agreement, by whom and when: the record a data protection officer reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result};

/// Version of the encoded-extract file format (columns and manifest): 2 since encoding version 3
/// (token columns of several keys, token sets, pair statistics; no cleartext path, user or host).
pub const FORMAT_VERSION: u32 = 2;
/// Value of [`Manifest::format`].
pub const FORMAT_NAME: &str = "pseudolink-encoded-extract";

/// Row counts of one run; `rows_read == encoded + rejected` always.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// Data rows read (the header is not a row; blank lines are not rows).
    pub rows_read: u64,
    /// Rows written to the encoded extract.
    pub encoded: u64,
    /// Rows written to the rejects file.
    pub rejected: u64,
}

/// A file that was read or written, with its size and a hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRecord {
    /// File name as given.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// BLAKE3 of the contents (hex). For cleartext inputs it is keyed with a key derived from the
    /// secret, so only holders of the secret can confirm which file was encoded.
    pub blake3: String,
}

/// Who ran a step, where and when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// User name of the operator (from the environment), if known. Not in manifests, which go
    /// to the linkage unit: see [`user_keyed`](Self::user_keyed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Host name, if known. Not in manifests: see [`host_keyed`](Self::host_keyed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// In manifests: a keyed BLAKE3 (key derived from the secret) of the operator's user name,
    /// so that an agency can confirm who encoded an extract and the linkage unit cannot read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_keyed: Option<String>,
    /// In manifests: a keyed BLAKE3 of the host name, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_keyed: Option<String>,
    /// Start time (UTC, RFC 3339).
    pub started_at: String,
    /// End time (UTC, RFC 3339).
    pub finished_at: String,
    /// The Information Sharing Agreement reference, if given.
    pub agreement: Option<String>,
    /// The purpose of processing, if given.
    pub purpose: Option<String>,
}

impl RunRecord {
    /// A record of a run starting now.
    pub fn start(agreement: Option<String>, purpose: Option<String>) -> Self {
        RunRecord {
            user: user_name(),
            host: host_name(),
            user_keyed: None,
            host_keyed: None,
            started_at: crate::timestamp::now_rfc3339(),
            finished_at: String::new(),
            agreement,
            purpose,
        }
    }

    /// Marks the run finished now.
    pub fn finish(&mut self) {
        self.finished_at = crate::timestamp::now_rfc3339();
    }

    /// Replaces the user and host names by their keyed hashes under `hasher` (a keyed BLAKE3
    /// whose key derives from the secret), as manifests hold them.
    pub fn keyed(mut self, hasher: &blake3::Hasher) -> Self {
        let hash = |s: &str| {
            let mut h = hasher.clone();
            h.update(b"pseudolink run record ");
            h.update(s.as_bytes());
            h.finalize().to_hex()[..32].to_string()
        };
        self.user_keyed = self.user.take().map(|u| hash(&u));
        self.host_keyed = self.host.take().map(|h| hash(&h));
        self
    }
}

/// The cleartext input of an encoded extract, as its manifest records it: no name, only its
/// size and keyed hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputRecord {
    /// Size in bytes.
    pub bytes: u64,
    /// BLAKE3 of the contents, keyed with a key derived from the secret: only holders of the
    /// secret can confirm which file was encoded.
    pub blake3: String,
    /// Keyed BLAKE3 of the file name as given (an agency can confirm it; the linkage unit cannot
    /// read it).
    pub path_keyed: String,
    /// The text encoding the input was read in (`utf-8`, `windows-1252`, `latin-1`,
    /// `utf-16le`, `utf-16be`): the one asked for, or its byte order mark's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_encoding: Option<String>,
    /// The delimiter of a CSV input (`,` `;` `tab` `|`); absent for a table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// The column mapping used: schema column to the input's column name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub column_map: BTreeMap<String, String>,
    /// The kind of input when it is not CSV text: `xlsx` or `parquet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The sheet read, for an Excel workbook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
}

/// The operator: from the environment (`USER`, `LOGNAME`, `USERNAME`), else, as under cron,
/// systemd or in a container where none is set, the name of the account the process runs as.
fn user_name() -> Option<String> {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .or_else(account_name)
}

/// The account the process runs as: its name in `/etc/passwd`, else `uid N` (Linux: the owner
/// of `/proc/self` is the process's user).
#[cfg(unix)]
fn account_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let named = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let mut parts = line.split(':');
                let name = parts.next()?;
                let id = parts.nth(1)?;
                (id.parse::<u32>().ok()? == uid && !name.is_empty()).then(|| name.to_string())
            })
        });
    Some(named.unwrap_or_else(|| format!("uid {uid}")))
}

#[cfg(not(unix))]
fn account_name() -> Option<String> {
    None
}

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
}

/// The manifest of an encoded extract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// File format version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Encoding version (part of every key derivation).
    pub encoding_version: u32,
    /// Version of pseudolink that wrote the file.
    pub library_version: String,
    /// The agency's name for the extract's source (`encode --source council`): links name
    /// their sources by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Fingerprint of the schema used.
    pub schema_fingerprint: crate::schema::SchemaFingerprint,
    /// Key check value of the secret used.
    pub key_check_value: crate::secret::KeyCheckValue,
    /// The columns of the extract, in order.
    pub columns: Vec<String>,
    /// The cleartext input that was encoded (no path: see [`InputRecord`]).
    pub input: InputRecord,
    /// The encoded extract this manifest describes.
    pub output: FileRecord,
    /// The rejects file, if rows were rejected to one.
    pub rejects: Option<String>,
    /// Row counts.
    pub counts: Counts,
    /// Rejected rows per reason.
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// Values treated as missing, per field and reason.
    pub missing: BTreeMap<String, BTreeMap<String, u64>>,
    /// Input columns the schema does not use (not read, not encoded).
    pub ignored_columns: Vec<String>,
    /// Schema fields whose column was absent from the input (all treated as missing).
    pub absent_columns: Vec<String>,
    /// Who (keyed), when, under which agreement.
    pub run: RunRecord,
    /// Agreement statistics of sampled pairs of the agency's own records, for the linkage unit's
    /// u probabilities (see `encode::pair_stats`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair_stats: Option<crate::encode::pair_stats::PairStats>,
}

/// Path of the manifest of the extract at `extract`.
pub fn manifest_path(extract: &Path) -> PathBuf {
    let mut s = extract.as_os_str().to_os_string();
    s.push(".manifest.json");
    PathBuf::from(s)
}

impl Manifest {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads the manifest of the extract at `extract`.
    pub fn read_for(extract: &Path) -> Result<Manifest> {
        let path = manifest_path(extract);
        let bytes = std::fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::input(
                    Location { file: Some(path.clone()), ..Location::default() },
                    format!(
                        "the manifest of {} is missing; an encoded extract must travel with its manifest",
                        extract.display()
                    ),
                )
            } else {
                Error::io("read", &path, e)
            }
        })?;
        let bad = |e: serde_json::Error| {
            Error::input(
                Location {
                    file: Some(path.clone()),
                    line: Some(e.line() as u64),
                    field: None,
                },
                format!("not a valid pseudolink manifest: {e}"),
            )
        };
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(bad)?;
        if let Some(e) = older_format(extract, &value) {
            return Err(e);
        }
        let m: Manifest = serde_json::from_value(value).map_err(|e| {
            Error::input(
                Location {
                    file: Some(path.clone()),
                    line: Some(e.line() as u64),
                    field: None,
                },
                format!("not a valid pseudolink manifest: {e}"),
            )
        })?;
        if m.format != FORMAT_NAME || m.format_version != FORMAT_VERSION {
            return Err(Error::Mismatch(format!(
                "{} is format '{}' version {}; this pseudolink reads '{FORMAT_NAME}' version {FORMAT_VERSION}",
                path.display(),
                m.format,
                m.format_version
            )));
        }
        Ok(m)
    }
}

/// The refusal of an extract whose manifest says an older pseudolink wrote it (an extract
/// format version below [`FORMAT_VERSION`]): its tokens can never agree with this version's.
fn older_format(extract: &Path, value: &serde_json::Value) -> Option<Error> {
    let version = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)?;
    if value.get("format").and_then(serde_json::Value::as_str) != Some(FORMAT_NAME)
        || version >= u64::from(FORMAT_VERSION)
    {
        return None;
    }
    Some(Error::Mismatch(format!(
        "{} was written by an older pseudolink (extract format version {}, encoding version {}); this pseudolink links only extracts of encoding version {}, whose tokens resist the attacks described in docs/security.md: ask the agency to encode the extract again from its cleartext with this version",
        extract.display(),
        version,
        value.get("encoding_version").and_then(serde_json::Value::as_u64).unwrap_or(0),
        crate::secret::ENCODING_VERSION
    )))
}

/// The refusal of the extract at `extract` if its manifest, read leniently, says an older
/// pseudolink wrote it; `None` when it does not, or cannot be read. Reading unverified
/// (`allow_unverified`) lets an unusable manifest through, never this: linking such an extract
/// would find no match in it, without an error.
pub(crate) fn older_format_of(extract: &Path) -> Option<Error> {
    let bytes = std::fs::read(manifest_path(extract)).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    older_format(extract, &value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn the_operator_is_known_even_without_user_in_the_environment() {
        let name = account_name().expect("an account");
        assert!(!name.is_empty());
        // The process runs as the owner of the files it creates.
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let uid = std::fs::metadata(dir.path()).unwrap().uid();
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let listed = passwd.lines().any(|l| {
            l.split(':').nth(2) == Some(&uid.to_string()) && l.starts_with(&format!("{name}:"))
        });
        assert!(
            listed || name == format!("uid {uid}"),
            "{name} is not uid {uid}"
        );
        assert!(RunRecord::start(None, None).user.is_some());
    }

    /// Found by the `encoded_reader` fuzz target: a manifest that is not UTF-8 was reported as an
    /// I/O error ("cannot read", exit 7) although the file was read; it is malformed input.
    #[test]
    fn a_manifest_that_is_not_utf8_is_an_input_error() {
        let dir = tempfile::tempdir().unwrap();
        let extract = dir.path().join("x.csv");
        std::fs::write(manifest_path(&extract), b"{\"format\": \"\xff\xfe\"}").unwrap();
        let e = Manifest::read_for(&extract).unwrap_err();
        assert!(matches!(e, Error::Input { .. }), "{e:?}");
        assert!(
            e.to_string().contains("not a valid pseudolink manifest"),
            "{e}"
        );
    }
}
