//! Where `create` writes: a directory or one tar, always under a temp name
//! beside the target that is renamed into place only when complete, and
//! removed when anything fails (or the job is cancelled, or dropped).

use super::checksums::Hashing;
use super::{BundleError, Job};
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A bundle being written.
pub(super) struct Output {
    target: PathBuf,
    tmp: PathBuf,
    tar: Option<Tar>,
    done: bool,
}

struct Tar {
    builder: tar::Builder<BufWriter<File>>,
    /// The top directory inside the tar (the tar's name without `.tar`).
    prefix: String,
}

/// Remove what an earlier `create` of the same bundle left when it was
/// killed outright (`.NAME.partial-PID` of a process that is gone), so a
/// re-run repairs it. Best effort: what cannot be removed stays.
fn remove_stale_partials(target: &Path, name: &str) {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = format!(".{name}.partial-");
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(pid) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let alive = pid
            .parse::<u32>()
            .is_ok_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let path = entry.path();
            let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
        }
    }
}

/// Whether `path` asks for a tar rather than a directory.
pub(super) fn is_tar(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "tar")
}

impl Output {
    /// Start writing the bundle `target` (a tar when it ends in `.tar`).
    pub(super) fn begin(target: &Path) -> Result<Output, BundleError> {
        if fs::symlink_metadata(target).is_ok() {
            return Err(BundleError::Exists(target.to_path_buf()));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| BundleError::Io {
                path: target.to_path_buf(),
                action: "write a bundle there (it names no file or directory)",
                source: std::io::ErrorKind::InvalidInput.into(),
            })?;
        remove_stale_partials(target, &name);
        let tmp = target.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        let io = BundleError::io(target, "create the bundle");
        let mut out = Output {
            target: target.to_path_buf(),
            tmp: tmp.clone(),
            tar: None,
            done: false,
        };
        if is_tar(target) {
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .open(&tmp)
                .map_err(&io)?;
            let mut builder = tar::Builder::new(BufWriter::with_capacity(1 << 20, file));
            let prefix = name.trim_end_matches(".tar").to_string();
            let mut h = header(0o755, 0);
            h.set_entry_type(tar::EntryType::Directory);
            let appended = builder.append_data(&mut h, format!("{prefix}/"), std::io::empty());
            out.tar = Some(Tar { builder, prefix });
            appended.map_err(&io)?;
        } else {
            fs::DirBuilder::new()
                .mode(0o755)
                .create(&tmp)
                .map_err(&io)?;
        }
        Ok(out)
    }

    /// Write one file of the bundle: `body` writes its content; returns the
    /// content's hex SHA-256.
    pub(super) fn file(
        &mut self,
        name: &str,
        mode: u32,
        job: Job<'_>,
        body: impl FnOnce(&mut dyn Write) -> Result<(), BundleError>,
    ) -> Result<String, BundleError> {
        let shown = self.target.join(name);
        let io = |action| BundleError::io(&shown, action);
        let outcome = match &mut self.tar {
            Some(tar) => {
                let mut h = header(mode, 0);
                let path = format!("{}/{name}", tar.prefix);
                let entry = tar
                    .builder
                    .append_writer(&mut h, path)
                    .map_err(io("write"))?;
                let mut w = Hashing::new(entry, job);
                body(&mut w).and_then(|()| {
                    let (entry, hex) = w.finish();
                    entry.finish().map_err(io("write"))?;
                    Ok(hex)
                })
            }
            None => {
                let path = self.tmp.join(name);
                let file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(mode)
                    .open(&path)
                    .map_err(io("create"))?;
                let mut w = Hashing::new(BufWriter::with_capacity(1 << 20, file), job);
                body(&mut w).and_then(|()| {
                    let (buf, hex) = w.finish();
                    let file = buf.into_inner().map_err(|e| io("write")(e.into_error()))?;
                    file.sync_all().map_err(io("write"))?;
                    Ok(hex)
                })
            }
        };
        match outcome {
            Err(_) if job.cancelled() => Err(BundleError::Cancelled),
            other => other,
        }
    }

    /// Finish the bundle and move it to its name.
    pub(super) fn commit(mut self) -> Result<(), BundleError> {
        let target = self.target.clone();
        let io = |action| BundleError::io(&target, action);
        if let Some(tar) = self.tar.take() {
            let buf = tar.builder.into_inner().map_err(io("write"))?;
            let file = buf.into_inner().map_err(|e| io("write")(e.into_error()))?;
            file.sync_all().map_err(io("write"))?;
        } else {
            File::open(&self.tmp)
                .and_then(|d| d.sync_all())
                .map_err(io("write"))?;
        }
        if fs::symlink_metadata(&self.target).is_ok() {
            return Err(BundleError::Exists(self.target.clone()));
        }
        fs::rename(&self.tmp, &self.target).map_err(io("move the finished bundle into place"))?;
        self.done = true;
        if let Some(parent) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = File::open(parent).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.tar = None;
        let _ = if self.tmp.is_dir() {
            fs::remove_dir_all(&self.tmp)
        } else {
            fs::remove_file(&self.tmp)
        };
    }
}

fn header(mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_mode(mode);
    h.set_size(size);
    h.set_uid(0);
    h.set_gid(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    h.set_mtime(now);
    h
}
