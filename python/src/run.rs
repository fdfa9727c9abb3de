//! Running core work without the GIL while the calling thread watches for Ctrl-C and shows
//! progress.
//!
//! The work runs on a scoped worker thread (which may use rayon's pool); the calling thread waits
//! for it in slices of [`POLL`] with the GIL released, and between slices takes the GIL to run
//! Python's signal handlers. A `KeyboardInterrupt` sets the core's cancel flag, which the core
//! checks between chunks of rows, so the call ends within a second, its partial files removed,
//! and the `KeyboardInterrupt` is raised.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use pseudolink::run::{Progress, RunControl};
use pyo3::prelude::*;

use crate::errors::to_py;

/// How often the waiting thread checks for signals and updates progress.
const POLL: Duration = Duration::from_millis(50);

/// What the work can see: the cancel flag and a row counter for progress.
pub struct Control {
    /// Set when the caller pressed Ctrl-C.
    pub cancel: AtomicBool,
    /// Work done so far: rows encoding, candidate pairs linking.
    pub rows: AtomicU64,
    /// How far the duplicate record id check's second reading of the input has got, in bytes
    /// (zero when it is not reading).
    pub id_scan_bytes: AtomicU64,
}

impl Control {
    /// Calls `f` with the core's control of a run: this cancel flag, and a progress callback that
    /// stores the work done (rows encoding, pairs linking) and the id check's reading.
    pub fn with_run_control<T>(&self, f: impl FnOnce(&RunControl<'_>) -> T) -> T {
        let progress = |p: Progress| {
            self.rows.store(p.done, Ordering::Relaxed);
            self.id_scan_bytes.store(p.id_scan_bytes, Ordering::Relaxed);
        };
        f(&RunControl::new().cancel(&self.cancel).progress(&progress))
    }

    /// The progress line: rows so far, and the id check's second reading while it runs.
    fn line(&self, label: &str) -> String {
        let rows = self.rows.load(Ordering::Relaxed);
        match self.id_scan_bytes.load(Ordering::Relaxed) {
            0 => format!("{label}: {rows} rows"),
            bytes => format!(
                "{label}: {rows} rows, checking record ids: input read again up to {} MiB",
                bytes >> 20
            ),
        }
    }
}

/// Runs `work` off the GIL. `label` names the work in the progress line, shown on `sys.stderr`
/// only when `progress` is true.
pub fn detached<T, F>(py: Python<'_>, label: &str, progress: bool, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Control) -> pseudolink::Result<T> + Send,
{
    let control = Control {
        cancel: AtomicBool::new(false),
        rows: AtomicU64::new(0),
        id_scan_bytes: AtomicU64::new(0),
    };
    let mut interrupted: Option<PyErr> = None;
    let mut shown = None;
    let finished = (Mutex::new(false), Condvar::new());
    let result = std::thread::scope(|scope| {
        let control = &control;
        let finished_ref = &finished;
        let worker = scope.spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(control)));
            let (lock, cvar) = finished_ref;
            *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
            cvar.notify_all();
            r
        });
        loop {
            let done = py.detach(|| {
                let (lock, cvar) = &finished;
                let guard = lock.lock().unwrap_or_else(|p| p.into_inner());
                match cvar.wait_timeout_while(guard, POLL, |done| !*done) {
                    Ok((g, _)) => *g,
                    Err(p) => *p.into_inner().0,
                }
            });
            if done {
                break;
            }
            if interrupted.is_none() {
                if let Err(e) = py.check_signals() {
                    control.cancel.store(true, Ordering::SeqCst);
                    interrupted = Some(e);
                }
            }
            if progress {
                let line = control.line(label);
                if shown.as_ref() != Some(&line) {
                    // Spaces cover what a longer line before left on the terminal.
                    let width = shown.as_ref().map_or(0, String::len);
                    show(py, &format!("\r{line:width$}"));
                    shown = Some(line);
                }
            }
        }
        worker.join()
    });
    if let (true, Some(last)) = (progress, &shown) {
        let rows = control.rows.load(Ordering::Relaxed);
        let line = format!("{label}: {rows} rows, done");
        show(py, &format!("\r{line:width$}\n", width = last.len()));
    }
    let result = match result {
        Ok(Ok(r)) => r,
        Ok(Err(panic)) | Err(panic) => std::panic::resume_unwind(panic),
    };
    match (result, interrupted) {
        (_, Some(e)) => Err(e),
        (Ok(v), None) => Ok(v),
        (Err(e), None) => Err(to_py(e)),
    }
}

/// Writes `text` to Python's `sys.stderr` (so notebooks show it), ignoring failures.
fn show(py: Python<'_>, text: &str) {
    let _ = py
        .import("sys")
        .and_then(|sys| sys.getattr("stderr"))
        .and_then(|err| {
            err.call_method1("write", (text,))?;
            err.call_method0("flush")
        });
}
