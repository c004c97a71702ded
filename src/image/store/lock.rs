//! flock-based locks on the store's lock files: one for index.json changes,
//! one that keeps gc away from writers.

use super::error::{Result, io_err};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// An flock held on one of the store's lock files; released on drop.
pub(super) struct FileLock(File);

impl FileLock {
    pub(super) fn acquire(path: &Path, exclusive: bool) -> Result<FileLock> {
        use std::os::fd::AsRawFd;
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io_err("open", path))?;
        let op = if exclusive {
            libc::LOCK_EX
        } else {
            libc::LOCK_SH
        };
        // SAFETY: flock on an fd we own.
        if unsafe { libc::flock(f.as_raw_fd(), op) } != 0 {
            return Err(io_err("lock", path)(io::Error::last_os_error()));
        }
        Ok(FileLock(f))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on an fd we own; unlocking cannot violate memory safety.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

/// Held by anything that adds blobs before it names them (pull, load,
/// build): while any is held, [`Store::gc`] waits, so it never removes a
/// blob that is about to be named.
pub struct WriteGuard {
    _lock: FileLock,
}

impl WriteGuard {
    /// A shared hold on the gc lock file at `path`.
    pub(super) fn shared(path: &Path) -> Result<WriteGuard> {
        FileLock::acquire(path, false).map(|l| WriteGuard { _lock: l })
    }
}
