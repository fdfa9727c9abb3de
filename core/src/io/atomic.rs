//! Output files written under a temporary name and renamed into place on success, so a crash,
//! an error or Ctrl-C never leaves a half-written file that looks complete.
//!
//! Every output (extracts, manifests, rejects, links, summaries, models) is created readable and
//! writable by its owner only (mode 0600 on Unix, whatever the umask: they hold pseudonymised
//! personal data), under a temporary name with 96 random bits in it, created exclusively, so
//! another user cannot predict it to plant a link or read the data as it is written. On
//! Windows the file inherits the folder's access list: write outputs into a folder that only the
//! service account can read (docs/security.md).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file being written; it appears at its final path only after [`commit`](Self::commit).
/// Dropping it uncommitted deletes the temporary file.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    writer: Option<BufWriter<File>>,
    /// Bytes written so far (buffered or not).
    written: u64,
}

impl AtomicFile {
    /// Starts writing `path` (the temporary file sits beside it).
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut random = [0u8; 12];
        getrandom::getrandom(&mut random)
            .map_err(|e| Error::io("create", path, std::io::Error::other(e.to_string())))?;
        let tmp = path.with_file_name(format!(
            ".{name}.{}.partial",
            crate::secret::to_hex(&random)
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(&tmp)
            .map_err(|e| Error::io("create", path, e))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            // Small writes are gathered; a write of at least this much (a part of an encoded
            // extract) goes to the file without being copied into the buffer first.
            writer: Some(BufWriter::with_capacity(128 << 10, file)),
            written: 0,
        })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        match self.writer.as_mut() {
            Some(w) => {
                w.write_all(bytes)
                    .map_err(|e| Error::io("write", &self.path, e))?;
                self.written += bytes.len() as u64;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// The bytes written so far (after [`flush`](Self::flush), all of them in the file).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes what is buffered to the file (not yet to disk).
    pub fn flush(&mut self) -> Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.flush().map_err(|e| Error::io("write", &self.path, e)),
            None => Ok(()),
        }
    }

    /// A [`WriteBack`] on the file being written, for a thread that sends its data to disk while
    /// this one goes on writing (so that the sync at [`commit`](Self::commit) has little left to
    /// wait for); `None` once committed.
    pub fn write_back(&self) -> Result<Option<WriteBack>> {
        self.writer
            .as_ref()
            .map(|w| w.get_ref().try_clone().map(WriteBack::new))
            .transpose()
            .map_err(|e| Error::io("write", &self.path, e))
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        if let Some(w) = self.writer.take() {
            let file = w
                .into_inner()
                .map_err(|e| Error::io("write", &self.path, e.into_error()))?;
            file.sync_all()
                .map_err(|e| Error::io("write", &self.path, e))?;
        }
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io("rename", &self.path, e))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Output bytes written between two calls of [`WriteBack::advance`]. On Linux each call only
/// starts the disk writes of those bytes (and waits for the step before), so a small step keeps
/// the data flowing to disk evenly and leaves the sync at [`AtomicFile::commit`] one step to wait
/// for; elsewhere each call syncs the file, which costs a journal commit, so the steps are longer.
pub const WRITE_BACK_STEP: usize = if cfg!(target_os = "linux") {
    8 << 20
} else {
    64 << 20
};

/// Sends the data of a file being written to disk, step by step, from a thread of its own (it
/// may wait for the disk). Durability still comes from the sync at [`AtomicFile::commit`]; this
/// makes that sync short and keeps the disk busy while the file is written.
#[derive(Debug)]
pub struct WriteBack {
    file: File,
    /// Bytes whose writes have been started.
    started: u64,
    /// The range started by the call before the last, still to be waited for.
    in_flight: Option<(u64, u64)>,
    /// Whether `sync_file_range` is used (Linux, until it fails once).
    ranges: bool,
}

impl WriteBack {
    fn new(file: File) -> WriteBack {
        WriteBack {
            file,
            started: 0,
            in_flight: None,
            ranges: cfg!(target_os = "linux"),
        }
    }

    /// Sends the file's bytes up to `written` (written to the file, not only buffered) to disk.
    /// On Linux it starts the writes of the bytes not yet started and waits for those of the
    /// call before, so at most two steps are in flight; a file system that does not take such
    /// requests gets a sync instead, as elsewhere. Errors are the disk's.
    pub fn advance(&mut self, written: u64) -> std::io::Result<()> {
        if written <= self.started {
            return Ok(());
        }
        let range = (self.started, written - self.started);
        self.started = written;
        if self.ranges {
            if sync_file_range(&self.file, range, ranges::START).is_ok() {
                let wait = self.in_flight.replace(range);
                return match wait {
                    Some(before) => sync_file_range(&self.file, before, ranges::WAIT),
                    None => Ok(()),
                };
            }
            self.ranges = false;
        }
        self.file.sync_data()
    }
}

#[cfg(target_os = "linux")]
mod ranges {
    /// Start writing the range's dirty pages.
    pub(super) const START: u32 = libc::SYNC_FILE_RANGE_WRITE;
    /// Wait for writes in flight, start the others, wait for them all.
    pub(super) const WAIT: u32 = libc::SYNC_FILE_RANGE_WAIT_BEFORE
        | libc::SYNC_FILE_RANGE_WRITE
        | libc::SYNC_FILE_RANGE_WAIT_AFTER;
}

#[cfg(not(target_os = "linux"))]
mod ranges {
    pub(super) const START: u32 = 0;
    pub(super) const WAIT: u32 = 0;
}

/// `sync_file_range(2)` of `(offset, length)` in `file`.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn sync_file_range(file: &File, (offset, len): (u64, u64), flags: u32) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return Err(std::io::ErrorKind::InvalidInput.into());
    };
    // SAFETY: the call reads and writes no memory of this process: its arguments are a
    // descriptor (open while `file` is borrowed), two integers and flags.
    let r = unsafe { libc::sync_file_range(file.as_raw_fd(), offset, len, flags) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Not available: the caller syncs instead.
#[cfg(not(target_os = "linux"))]
fn sync_file_range(_: &File, _: (u64, u64), _: u32) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn outputs_are_private_and_their_temporary_names_unpredictable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let a = AtomicFile::create(&path).unwrap();
        let b = AtomicFile::create(&path).unwrap();
        assert_ne!(a.tmp, b.tmp, "two writers of one path get different names");
        let name = a.tmp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".out.csv.") && name.ends_with(".partial"),
            "{name}"
        );
        assert_eq!(name.len(), ".out.csv.".len() + 24 + ".partial".len());
        let mode = std::fs::metadata(&a.tmp).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        drop(b);
        a.commit().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the committed file keeps its mode");
    }

    #[test]
    fn uncommitted_files_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"half").unwrap();
        }
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        write_atomic(&path, b"whole").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
    }

    #[test]
    fn data_is_sent_to_disk_step_by_step() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut f = AtomicFile::create(&path).unwrap();
        let mut back = f.write_back().unwrap().unwrap();
        let mut expected = Vec::new();
        for step in 0..5u8 {
            let bytes = vec![b'a' + step; 10_000 + usize::from(step)];
            f.write_all(&bytes).unwrap();
            expected.extend_from_slice(&bytes);
            f.flush().unwrap();
            assert_eq!(f.written(), expected.len() as u64);
            back.advance(f.written()).unwrap();
            assert_eq!(back.started, f.written());
            // Nothing new: nothing to do.
            back.advance(f.written()).unwrap();
            back.advance(1).unwrap();
            assert_eq!(back.started, f.written());
        }
        // On Linux the ranges are taken (the test's file system takes them); the step before
        // the last waits to be waited for.
        assert_eq!(back.ranges, cfg!(target_os = "linux"));
        if back.ranges {
            let last = 10_004;
            assert_eq!(back.in_flight, Some((f.written() - last, last)));
        }
        f.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), expected);
        assert!(AtomicFile::create(&dir.path().join("x"))
            .unwrap()
            .write_back()
            .unwrap()
            .is_some());
    }

    #[test]
    #[cfg(unix)]
    fn without_ranges_each_step_is_a_sync() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = AtomicFile::create(&dir.path().join("out.csv")).unwrap();
        let mut back = f.write_back().unwrap().unwrap();
        back.ranges = false;
        f.write_all(b"abc").unwrap();
        f.flush().unwrap();
        back.advance(f.written()).unwrap();
        assert_eq!((back.started, back.in_flight), (3, None));
        // A file refusing ranges (a pipe: ESPIPE) switches to syncs for good, and the error is
        // the sync's (a pipe cannot be synced either).
        let (_reader, writer) = std::io::pipe().unwrap();
        let mut refused = WriteBack::new(File::from(std::os::fd::OwnedFd::from(writer)));
        let result = refused.advance(3);
        assert!(!refused.ranges);
        assert!(result.is_err() || !cfg!(target_os = "linux"));
    }
}
