//! What the caller of a run controls and hears back while it runs: a cancel flag, a progress
//! callback and the time each stage took. One [`RunControl`] goes to every stage instead of
//! separate cancel and progress arguments.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Progress of a run, reported after each chunk (and, while the duplicate record id check reads
/// the input a second time, every 65,536 rows of that reading and once at its end).
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes of input read so far (zero for in-memory tables).
    pub bytes_read: u64,
    /// Rows processed so far.
    pub rows: u64,
    /// Whether the duplicate record id check went to disk: its ids outgrew
    /// [`EncodeOptions::id_memory`](super::EncodeOptions::id_memory), so the input was read a
    /// second time.
    pub ids_on_disk: bool,
    /// While the duplicate record id check reads the input a second time (when it goes to disk,
    /// part way through the run): how far that reading has got, in bytes of the input; zero the
    /// rest of the time. Encoding waits meanwhile, so a progress bar can show this reading.
    pub id_scan_bytes: u64,
}

/// How long each stage of a run took, filled in as the run goes (wall-clock time).
#[derive(Debug, Default)]
pub struct Timings(Mutex<Vec<(&'static str, Duration)>>);

impl Timings {
    /// A new, empty record.
    pub fn new() -> Self {
        Timings::default()
    }

    /// The stages timed so far, in the order they ended, with their durations: `encoding`
    /// (reading, checking, encoding and writing the rows), `record id check on disk` (the second
    /// reading and the sort, when the check went to disk; encoding waits meanwhile and its time is
    /// counted in `encoding` too), `pair statistics` and `writing` (the manifest, and every file
    /// put in place).
    pub fn stages(&self) -> Vec<(&'static str, Duration)> {
        match self.0.lock() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn add(&self, stage: &'static str, took: Duration) {
        match self.0.lock() {
            Ok(mut v) => v.push((stage, took)),
            Err(poisoned) => poisoned.into_inner().push((stage, took)),
        }
    }
}

/// The control of one run: whether to stop, whom to tell how it goes, where to record how long
/// its stages took. All three are optional; [`RunControl::default`] has none.
///
/// ```
/// use std::sync::atomic::AtomicBool;
/// use pseudolink::run::{Progress, RunControl, Timings};
///
/// let cancel = AtomicBool::new(false);
/// let progress = |p: Progress| eprintln!("{} rows", p.rows);
/// let timings = Timings::new();
/// let control = RunControl::new()
///     .cancel(&cancel)
///     .progress(&progress)
///     .timings(&timings);
/// assert!(!control.cancelled());
/// ```
#[derive(Clone, Copy, Default)]
pub struct RunControl<'a> {
    cancel: Option<&'a AtomicBool>,
    progress: Option<&'a (dyn Fn(Progress) + Sync)>,
    timings: Option<&'a Timings>,
}

impl std::fmt::Debug for RunControl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunControl")
            .field("cancel", &self.cancel)
            .field("progress", &self.progress.is_some())
            .field("timings", &self.timings)
            .finish()
    }
}

impl<'a> RunControl<'a> {
    /// No cancel flag, no progress, no timings.
    pub fn new() -> Self {
        RunControl::default()
    }

    /// Set `flag` to stop the run: its outputs are removed and [`Error::Cancelled`](crate::Error::Cancelled)
    /// returned. It is looked at between chunks of rows.
    pub fn cancel(mut self, flag: &'a AtomicBool) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Called after each chunk of rows, from the thread that runs the run.
    pub fn progress(mut self, progress: &'a (dyn Fn(Progress) + Sync)) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Where to record how long each stage took.
    pub fn timings(mut self, timings: &'a Timings) -> Self {
        self.timings = Some(timings);
        self
    }

    /// Whether the caller asked the run to stop.
    pub fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// The cancel flag, for the parts that look at it themselves (the sorts on disk, the pair
    /// statistics).
    pub(crate) fn cancel_flag(&self) -> Option<&'a AtomicBool> {
        self.cancel
    }

    /// Tells the caller how the run goes.
    pub(crate) fn report(&self, progress: Progress) {
        if let Some(p) = self.progress {
            p(progress);
        }
    }

    /// Runs `stage`, recording how long it took under `name`.
    pub(crate) fn time<T>(&self, name: &'static str, stage: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let value = stage();
        if let Some(t) = self.timings {
            t.add(name, started.elapsed());
        }
        value
    }
}
