//! An external sort of fixed-size values in bounded memory: values are gathered in a buffer of a
//! set length, each full buffer is sorted and written to an anonymous temporary file (a run), and
//! the runs are merged, `fan_in` at a time, into one sorted stream. Runs are merged as they come,
//! like the digits of a counter in base `fan_in` (whenever `fan_in` runs of one level are on disk
//! they become one run of the next level), so at most `fan_in - 1` runs per level are open, a few
//! file descriptors whatever the input's size, and each value is rewritten once per level.
//!
//! Temporary files are created with [`tempfile::tempfile_in`]: readable by their owner only, and
//! unlinked from the start (never under a name another process could open), so the operating
//! system reclaims them when they are closed: on success, on error, on cancel, and when the
//! process is killed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::slice::ParallelSliceMut;

use crate::error::{Error, Result};

/// How often, in values, a long loop looks at the cancel flag.
const CANCEL_EVERY: u64 = 1 << 16;

/// A value that sorts and has a fixed-size little-endian form on disk.
pub(super) trait Fixed: Copy + Ord + Send {
    /// Writes the value.
    fn put(self, out: &mut impl Write) -> std::io::Result<()>;
    /// Reads one value.
    fn get(input: &mut impl Read) -> std::io::Result<Self>;
}

impl Fixed for u64 {
    fn put(self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(&self.to_le_bytes())
    }
    fn get(input: &mut impl Read) -> std::io::Result<Self> {
        let mut b = [0u8; 8];
        input.read_exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
}

/// Where and how the runs are written.
#[derive(Clone)]
pub(super) struct Disk<'a> {
    /// Folder of the temporary files.
    pub(super) dir: PathBuf,
    /// Runs merged at once (at least 2).
    pub(super) fan_in: usize,
    /// Buffer of each run reader and writer, in bytes.
    pub(super) io_buffer: usize,
    /// Set to stop: [`Error::Cancelled`].
    pub(super) cancel: Option<&'a AtomicBool>,
}

impl Disk<'_> {
    fn cancelled(&self) -> Result<()> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(Error::Cancelled);
        }
        Ok(())
    }

    fn error(&self, action: &'static str) -> impl Fn(std::io::Error) -> Error + '_ {
        move |e| Error::io(action, temp_place(&self.dir), e)
    }
}

/// How a temporary file is named in errors: its folder (it has no name of its own).
fn temp_place(dir: &Path) -> PathBuf {
    dir.join("(temporary file)")
}

/// A sorted run on disk.
struct Run {
    file: File,
    len: u64,
    /// 0 for a run written from the buffer, `n + 1` for a merge of runs of level `n`.
    level: u32,
}

/// Writes one sorted run.
struct RunWriter<'d, 'a> {
    out: BufWriter<File>,
    len: u64,
    disk: &'d Disk<'a>,
}

impl<'d, 'a> RunWriter<'d, 'a> {
    fn new(disk: &'d Disk<'a>) -> Result<Self> {
        let file = tempfile::tempfile_in(&disk.dir).map_err(disk.error("create"))?;
        Ok(RunWriter {
            out: BufWriter::with_capacity(disk.io_buffer, file),
            len: 0,
            disk,
        })
    }

    fn push<T: Fixed>(&mut self, value: T) -> Result<()> {
        value.put(&mut self.out).map_err(self.disk.error("write"))?;
        self.len += 1;
        if self.len.is_multiple_of(CANCEL_EVERY) {
            self.disk.cancelled()?;
        }
        Ok(())
    }

    fn finish(self, level: u32) -> Result<Run> {
        let error = self.disk.error("write");
        let mut file = self.out.into_inner().map_err(|e| error(e.into_error()))?;
        file.rewind().map_err(&error)?;
        Ok(Run {
            file,
            len: self.len,
            level,
        })
    }
}

/// Reads a run back.
struct RunReader {
    input: BufReader<File>,
    left: u64,
}

impl RunReader {
    fn new(run: Run, io_buffer: usize) -> Self {
        RunReader {
            input: BufReader::with_capacity(io_buffer, run.file),
            left: run.len,
        }
    }

    fn next<T: Fixed>(&mut self, disk: &Disk<'_>) -> Result<Option<T>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        T::get(&mut self.input)
            .map(Some)
            .map_err(disk.error("read"))
    }
}

/// Sorts values pushed in any order, in at most `capacity` values of memory plus the run
/// buffers.
pub(super) struct Sorter<'a, T> {
    buffer: Vec<T>,
    capacity: usize,
    runs: Vec<Run>,
    disk: Disk<'a>,
}

impl<'a, T: Fixed> Sorter<'a, T> {
    /// A sorter that keeps at most `capacity` values (at least 2) in memory. The buffer grows
    /// as values come, never past `capacity`.
    pub(super) fn new(capacity: usize, disk: Disk<'a>) -> Self {
        Sorter {
            buffer: Vec::new(),
            capacity: capacity.max(2),
            runs: Vec::new(),
            disk,
        }
    }

    /// Adds a value.
    pub(super) fn push(&mut self, value: T) -> Result<()> {
        let len = self.buffer.len();
        if len >= self.capacity {
            self.spill()?;
        } else if len == self.buffer.capacity() {
            // Double, up to the capacity; an allocation failure is an error, not an abort.
            let more = len.max(1024).min(self.capacity - len);
            self.buffer.try_reserve_exact(more).map_err(|_| {
                Error::Invalid(format!(
                    "out of memory for the record id check's buffer of {} values; give it less \
                     memory (--id-memory)",
                    len + more
                ))
            })?;
        }
        self.buffer.push(value);
        Ok(())
    }

    /// Runs on disk now.
    #[cfg(test)]
    pub(super) fn runs(&self) -> usize {
        self.runs.len()
    }

    fn spill(&mut self) -> Result<()> {
        // The encoders wait while the id check sorts: the sort can use every core.
        self.buffer.par_sort_unstable();
        let mut w = RunWriter::new(&self.disk)?;
        for v in self.buffer.drain(..) {
            w.push(v)?;
        }
        self.runs.push(w.finish(0)?);
        // Levels never increase along `runs`, so runs of one level are at its end.
        let fan_in = self.disk.fan_in.max(2);
        while let Some(start) = self.runs.len().checked_sub(fan_in) {
            let Some(level) = self.runs.last().map(|r| r.level) else {
                break;
            };
            if self.runs.get(start).is_none_or(|r| r.level != level) {
                break;
            }
            let group = self.runs.split_off(start);
            let merged = merge_runs::<T>(group, &self.disk, level + 1)?;
            self.runs.push(merged);
        }
        Ok(())
    }

    /// Every value pushed, in order. Without runs on disk, straight from memory; otherwise the
    /// buffer is freed and the runs are merged down to at most `fan_in`, then streamed.
    pub(super) fn finish(mut self) -> Result<Sorted<'a, T>> {
        if self.runs.is_empty() {
            self.buffer.par_sort_unstable();
            return Ok(Sorted::Memory(self.buffer.into_iter()));
        }
        if !self.buffer.is_empty() {
            self.spill()?;
        }
        self.buffer = Vec::new();
        let disk = self.disk;
        let fan_in = disk.fan_in.max(2);
        let mut runs = self.runs;
        while runs.len() > fan_in {
            let mut merged = Vec::with_capacity(runs.len().div_ceil(fan_in));
            let mut rest = runs.into_iter();
            loop {
                let group: Vec<Run> = rest.by_ref().take(fan_in).collect();
                if group.len() <= 1 {
                    merged.extend(group);
                    break;
                }
                let level = group.iter().map(|r| r.level).max().unwrap_or(0) + 1;
                merged.push(merge_runs::<T>(group, &disk, level)?);
            }
            runs = merged;
        }
        let merge = Merge::new(runs, &disk)?;
        Ok(Sorted::Disk { merge, disk })
    }
}

/// Merges `runs` into one run of `level`.
fn merge_runs<T: Fixed>(runs: Vec<Run>, disk: &Disk<'_>, level: u32) -> Result<Run> {
    let mut from = Merge::<T>::new(runs, disk)?;
    let mut w = RunWriter::new(disk)?;
    while let Some(v) = from.next(disk)? {
        w.push(v)?;
    }
    w.finish(level)
}

/// Merges sorted runs.
pub(super) struct Merge<T> {
    readers: Vec<RunReader>,
    heads: BinaryHeap<Reverse<(T, usize)>>,
}

impl<T: Fixed> Merge<T> {
    fn new(runs: Vec<Run>, disk: &Disk<'_>) -> Result<Self> {
        let mut readers: Vec<RunReader> = runs
            .into_iter()
            .map(|r| RunReader::new(r, disk.io_buffer))
            .collect();
        let mut heads = BinaryHeap::with_capacity(readers.len());
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(v) = r.next(disk)? {
                heads.push(Reverse((v, i)));
            }
        }
        Ok(Merge { readers, heads })
    }

    fn next(&mut self, disk: &Disk<'_>) -> Result<Option<T>> {
        let Some(Reverse((v, i))) = self.heads.pop() else {
            return Ok(None);
        };
        if let Some(r) = self.readers.get_mut(i) {
            if let Some(w) = r.next(disk)? {
                self.heads.push(Reverse((w, i)));
            }
        }
        Ok(Some(v))
    }
}

/// The sorted values of a [`Sorter`].
pub(super) enum Sorted<'a, T> {
    /// Everything fitted in memory.
    Memory(std::vec::IntoIter<T>),
    /// Merged from runs on disk.
    Disk { merge: Merge<T>, disk: Disk<'a> },
}

impl<T: Fixed> Sorted<'_, T> {
    /// The next value, `None` at the end.
    pub(super) fn next(&mut self) -> Result<Option<T>> {
        match self {
            Sorted::Memory(values) => Ok(values.next()),
            Sorted::Disk { merge, disk } => merge.next(disk),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn disk(dir: &Path, fan_in: usize) -> Disk<'static> {
        Disk {
            dir: dir.to_path_buf(),
            fan_in,
            io_buffer: 64,
            cancel: None,
        }
    }

    fn sort(values: &[u64], capacity: usize, fan_in: usize) -> (Vec<u64>, usize) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Sorter::new(capacity, disk(dir.path(), fan_in));
        for &v in values {
            s.push(v).unwrap();
        }
        let runs = s.runs();
        let mut sorted = s.finish().unwrap();
        let mut out = Vec::new();
        while let Some(v) = sorted.next().unwrap() {
            out.push(v);
        }
        // The runs are anonymous: nothing is left in the folder, even before they are closed.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        (out, runs)
    }

    #[test]
    fn many_runs_merge_as_they_come_and_few_stay_open() {
        let values: Vec<u64> = (0..1000u64).map(|i| (i * 7919) % 1009).collect();
        // 143 runs of 7 (the last one in memory): 142 = 0b10001110 in base 2 leaves 4 on disk.
        let (out, runs) = sort(&values, 7, 2);
        assert_eq!(runs, 4);
        let (_, runs) = sort(&values, 7, 3);
        // 142 = 12021 in base 3: 6 runs.
        assert_eq!(runs, 6);
        let mut expected = values.clone();
        expected.sort_unstable();
        assert_eq!(out, expected);
    }

    #[test]
    fn a_cancel_stops_writing_a_run() {
        let dir = tempfile::tempdir().unwrap();
        static CANCEL: AtomicBool = AtomicBool::new(false);
        let mut d = disk(dir.path(), 2);
        d.cancel = Some(&CANCEL);
        let mut s = Sorter::new(1 << 17, d);
        for v in (0..(1u64 << 18)).rev() {
            s.push(v).unwrap();
        }
        CANCEL.store(true, Ordering::Relaxed);
        assert!(matches!(s.push(0), Err(Error::Cancelled)));
    }

    #[test]
    fn a_missing_folder_is_an_io_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let mut s = Sorter::new(2, disk(&gone, 2));
        s.push(1u64).unwrap();
        s.push(2u64).unwrap();
        let e = s.push(3u64).unwrap_err();
        assert!(e.to_string().contains("gone"), "{e}");
    }

    proptest! {
        #[test]
        fn sorts_like_sort_unstable(
            values in proptest::collection::vec(0u64..50, 0..300),
            capacity in 0usize..20,
            fan_in in 0usize..5,
        ) {
            let (out, _) = sort(&values, capacity, fan_in);
            let mut expected = values.clone();
            expected.sort_unstable();
            prop_assert_eq!(out, expected);
        }
    }
}
