//! The options of an encoding run: one struct for every source and sink.

use std::path::PathBuf;

use crate::io::raw::ColumnMap;
use crate::io::text::TextEncoding;

/// What to do with rows that fail a check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Rejects {
    /// The first rejected row stops the run with an error naming its line and field.
    #[default]
    Fail,
    /// Keep them in [`Encoded::rejected`](super::Encoded::rejected) (runs into memory).
    Keep,
    /// Write them to this file (runs to a file). It holds record ids: keep it with the cleartext.
    File(PathBuf),
}

impl From<Option<PathBuf>> for Rejects {
    /// A rejects file when there is one; otherwise the first rejected row is an error.
    fn from(path: Option<PathBuf>) -> Self {
        path.map_or(Rejects::Fail, Rejects::File)
    }
}

impl Rejects {
    /// [`Rejects::Keep`] when `keep`, otherwise [`Rejects::Fail`].
    pub fn keep(keep: bool) -> Self {
        if keep {
            Rejects::Keep
        } else {
            Rejects::Fail
        }
    }
}

/// Options of an encoding run ([`encode_file`](super::encode_file), [`encode_csv`](super::encode_csv),
/// [`encode_table`](super::encode_table), [`encode_table_file`](super::encode_table_file)). Cancel
/// and progress are the [`RunControl`](super::RunControl)'s.
#[derive(Debug, Clone, Default)]
pub struct EncodeOptions {
    /// Rejected rows: an error (the default), kept in memory (runs into memory) or written to a
    /// file (runs to a file).
    pub rejects: Rejects,
    /// Information Sharing Agreement reference, recorded in the manifest.
    pub agreement: Option<String>,
    /// Purpose of processing, recorded in the manifest.
    pub purpose: Option<String>,
    /// CSV file to file only: memory budget of the duplicate record id check, in bytes; `None`
    /// for [`DEFAULT_ID_MEMORY`](super::DEFAULT_ID_MEMORY) (64 MiB, about 1.8 million distinct
    /// ids). Past it the check reads the input a second time and sorts id hashes on disk, in
    /// bounded memory, with the same result.
    pub id_memory: Option<usize>,
    /// CSV file to file only: folder of the check's temporary files when it goes to disk; `None`
    /// for the output's folder. They are anonymous (removed when closed, even on a crash) and
    /// hold id hashes and row numbers, 24 bytes per row.
    pub temp_dir: Option<PathBuf>,
    /// CSV text only: the text encoding (UTF-8 by default). A byte order mark at the start of
    /// the file overrides it. Recorded in the manifest.
    pub encoding: TextEncoding,
    /// CSV text only: the delimiter, one of `,` `;` tab `|` (`None`: a comma). Recorded in the
    /// manifest.
    pub delimiter: Option<u8>,
    /// Excel workbooks only: the sheet to read (`None`: the first). Recorded in the manifest,
    /// as is the first sheet's name when none was given.
    pub sheet: Option<String>,
    /// The input's names for the schema's columns, where they differ (`first_name` ->
    /// `forename`). Recorded in the manifest.
    pub columns: ColumnMap,
    /// The agency's name for this source (`council`), recorded in the manifest; links name
    /// their sources by it.
    pub source: Option<String>,
    /// Runs into memory only: keep the pair statistics' sample in [`Encoded::sample`](super::Encoded::sample)
    /// instead of counting its pairs into the manifest (which then has no `pair_stats`). For an
    /// engine that encodes one extract in parts and counts once for the whole
    /// ([`crate::internals::encode::sample_parts`]).
    pub keep_sample: bool,
}
