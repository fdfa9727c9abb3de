//! How the stages see a chunk of input rows, whatever the source: the row checks, the duplicate
//! id check and the encoder read cells through [`Rows`], by the row's index in its chunk.

use crate::io::raw::Rejection;

/// Rows per chunk handed from a source to the stages.
pub(super) const CHUNK_ROWS: usize = 16_384;
/// Rows per parallel task within a chunk.
pub(super) const TASK_ROWS: usize = 512;

/// A chunk of input rows, in input order.
pub(super) trait Rows: Sync {
    /// How many rows.
    fn count(&self) -> usize;
    /// The 1-based line where row `k` starts (for a table: its position + 2, its line in a CSV
    /// export with a header).
    fn line(&self, k: usize) -> u64;
    /// The (trimmed) record id of row `k`.
    fn id(&self, k: usize) -> &str;
    /// The record id of row `k` as read, for the rejects.
    fn raw_id(&self, k: usize) -> String;
    /// The row checks of row `k` but the duplicate id check: cell count, UTF-8, record id.
    fn check(&self, k: usize) -> Result<(), Rejection>;
    /// The raw value of schema field `i` in row `k`, `None` when its column is absent or the
    /// cell null.
    fn field(&self, k: usize, i: usize) -> Option<&str>;
}

/// What a source gives its chunks to (the run's stages), in input order.
pub(super) trait Chunks {
    /// How the stages stop a run.
    type Error: From<crate::Error>;
    /// Takes the next chunk. `Ok(false)` stops the reading (the run's output failed: its error is
    /// the run's).
    fn take<R: Rows>(&mut self, rows: &R) -> Result<bool, Self::Error>;
}
