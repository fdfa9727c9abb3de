//! Output files written under a temporary name and renamed into place on success, so a crash,
//! an error or Ctrl-C never leaves a half-written file that looks complete.

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
}

impl AtomicFile {
    /// Starts writing `path` (the temporary file sits beside it).
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.{}.partial", std::process::id()));
        let file = File::create(&tmp).map_err(|e| Error::io("create", path, e))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            // Small writes are gathered; a write of at least this much (a part of an encoded
            // extract) goes to the file without being copied into the buffer first.
            writer: Some(BufWriter::with_capacity(128 << 10, file)),
        })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        match self.writer.as_mut() {
            Some(w) => w
                .write_all(bytes)
                .map_err(|e| Error::io("write", &self.path, e)),
            None => Ok(()),
        }
    }

    /// Writes what is buffered to the file (not yet to disk).
    pub fn flush(&mut self) -> Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.flush().map_err(|e| Error::io("write", &self.path, e)),
            None => Ok(()),
        }
    }

    /// A second handle on the file being written, for a thread that syncs its data to disk while
    /// this one goes on writing (so that the sync at [`commit`](Self::commit) has little left to
    /// wait for); `None` once committed.
    pub fn sync_handle(&self) -> Result<Option<File>> {
        self.writer
            .as_ref()
            .map(|w| w.get_ref().try_clone())
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
}
