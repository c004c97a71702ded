//! One run per cluster at a time. Two `apply` of the same cluster would
//! send every layer twice; an `apply` beside a `reset` would say "ready"
//! while the hosts are wiped. A run holds an exclusive `flock` on `lock` in
//! the cluster's state dir for as long as it runs; the kernel drops it when
//! the holder exits, however it exits, so a lock whose holder is gone is
//! simply taken over. The holder writes who it is (pid, command, since
//! when) into the file, so a second run can say who is in its way.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The lock file in a cluster's state dir.
const LOCK_FILE: &str = "lock";

/// Why the cluster could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another run holds it.
    #[error(
        "cluster {cluster} is busy: {holder} is running on it; wait for it to end (or stop it) and run again"
    )]
    Held {
        /// The cluster's name.
        cluster: String,
        /// Who holds it, as it wrote itself down.
        holder: String,
    },
    /// The lock file could not be opened or written.
    #[error("cannot lock cluster {cluster} ({})", path.display())]
    Io {
        /// The cluster's name.
        cluster: String,
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The held lock of one cluster; dropping it lets the next run in.
#[derive(Debug)]
pub struct ClusterLock {
    _file: File,
}

impl ClusterLock {
    /// Lock cluster `name` whose state dir is `dir` for `command` (e.g.
    /// `tug apply`), or say who holds it. Never blocks.
    pub fn take(dir: &Path, name: &str, command: &str) -> Result<ClusterLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            cluster: name.to_string(),
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(LockError::Held {
                    cluster: name.to_string(),
                    holder: if holder.is_empty() {
                        "another tug".into()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let since = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
        let me = format!("pid {} ({command}) since {since}", std::process::id());
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(me.as_bytes()))
            .map_err(io)?;
        Ok(ClusterLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_told_who_holds_it_and_gets_it_once_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = ClusterLock::take(dir.path(), "c1", "tug apply").unwrap();
        let e = ClusterLock::take(dir.path(), "c1", "tug reset").unwrap_err();
        let text = e.to_string();
        let pid = format!("pid {} (tug apply) since ", std::process::id());
        assert!(
            text.starts_with("cluster c1 is busy: ") && text.contains(&pid),
            "{text}"
        );
        drop(first);
        let again = ClusterLock::take(dir.path(), "c1", "tug reset").unwrap();
        let written = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert!(written.contains("(tug reset)"), "{written}");
        drop(again);
    }
}
