//! What the caller of a run controls and hears back while it runs: a cancel flag, a progress
//! callback and the time each stage took. One [`RunControl`] goes to every stage of an encoding
//! run ([`crate::run::encode_file`]...) and of a linking run ([`crate::run::link()`]) instead
//! of separate cancel and progress arguments.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Progress of a run: the stage it is in and how far it has got.
///
/// An encoding run reports after each chunk (and, while the duplicate record id check reads the
/// input a second time, every 65,536 rows of that reading and once at its end), with `stage`
/// `encoding`, `done` the rows processed and the encoding fields below. A linking run reports
/// each stage (`blocking`, `comparing`, `u sample`, `EM`, `scoring`, `resolving`) as it starts and
/// as it goes, with `done` of `total` units of work (candidate pairs, sampled pairs) and the
/// encoding fields zero.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Progress {
    /// The stage of the run.
    pub stage: &'static str,
    /// Work done in this stage: rows encoding, pairs linking.
    pub done: u64,
    /// Total work of this stage (0 when unknown, as for the rows of a file being encoded).
    pub total: u64,
    /// Encoding: bytes of input read so far (zero for in-memory tables).
    pub bytes_read: u64,
    /// Encoding: rows processed so far (the same as `done`).
    pub rows: u64,
    /// Encoding: whether the duplicate record id check went to disk: its ids outgrew
    /// [`EncodeOptions::id_memory`](crate::run::EncodeOptions::id_memory), so the input was read
    /// a second time.
    pub ids_on_disk: bool,
    /// Encoding: while the duplicate record id check reads the input a second time (when it goes
    /// to disk, part way through the run), how far that reading has got, in bytes of the input;
    /// zero the rest of the time. Encoding waits meanwhile, so a progress bar can show this
    /// reading.
    pub id_scan_bytes: u64,
}

impl Progress {
    /// The progress of a linking stage: `done` of `total` (0: unknown).
    pub(crate) fn stage(stage: &'static str, done: u64, total: u64) -> Self {
        Progress {
            stage,
            done,
            total,
            ..Progress::default()
        }
    }

    /// The progress of an encoding run.
    pub(crate) fn encoding(
        bytes_read: u64,
        rows: u64,
        ids_on_disk: bool,
        id_scan_bytes: u64,
    ) -> Self {
        Progress {
            stage: "encoding",
            done: rows,
            total: 0,
            bytes_read,
            rows,
            ids_on_disk,
            id_scan_bytes,
        }
    }
}

/// How long each stage of a run took, filled in as the run goes (wall-clock time).
#[derive(Debug, Default)]
pub struct Timings(Mutex<Vec<(&'static str, Duration)>>);

impl Timings {
    /// A new, empty record.
    pub fn new() -> Self {
        Timings::default()
    }

    /// The stages timed so far, in the order they ended, with their durations. Encoding:
    /// `encoding` (reading, checking, encoding and writing the rows), `record id check on disk`
    /// (the second reading and the sort, when the check went to disk; encoding waits meanwhile and
    /// its time is counted in `encoding` too), `pair statistics` and `writing` (the manifest, and
    /// every file put in place). Linking: `reading`, `blocking`, `comparing`, `u sample`, `EM`,
    /// `scoring`, `resolving` (the stages of the run summary's `timings`).
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
/// use pseudolink::control::{Progress, RunControl, Timings};
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

    /// Set `flag` to stop the run: its outputs are removed (or never written) and
    /// [`Error::Cancelled`](crate::Error::Cancelled) returned. It is looked at between chunks of
    /// rows (encoding) or of blocking tasks (linking).
    pub fn cancel(mut self, flag: &'a AtomicBool) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Called as the run advances (see [`Progress`]): encoding, after each chunk of rows, from
    /// the thread that runs the run; linking, as each stage starts and between its chunks.
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
    /// statistics, blocking, the u sample).
    pub(crate) fn cancel_flag(&self) -> Option<&'a AtomicBool> {
        self.cancel
    }

    /// Tells the caller how the run goes.
    pub(crate) fn report(&self, progress: Progress) {
        if let Some(p) = self.progress {
            p(progress);
        }
    }

    /// Records that stage `name` took `took`.
    pub(crate) fn record(&self, name: &'static str, took: Duration) {
        if let Some(t) = self.timings {
            t.add(name, took);
        }
    }

    /// Stops with [`Error::Cancelled`](crate::Error::Cancelled) if the caller asked.
    pub(crate) fn check_cancel(&self) -> crate::Result<()> {
        if self.cancelled() {
            Err(crate::Error::Cancelled)
        } else {
            Ok(())
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
