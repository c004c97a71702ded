//! Writing the entries of one uncompressed layer tar into a directory, with
//! OCI whiteout semantics ([`whiteout`]) and without ever following a symlink.

mod whiteout;

use super::LayerError;
use super::sys::{cstr, set_mtime_nofollow};
use std::cell::Cell;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, SystemTime};
use tar::EntryType;
use whiteout::{OPAQUE, WHITEOUT};

/// Apply every entry of an uncompressed layer tar to `target`, then read the
/// stream to its end. `layer` names the layer in errors.
pub fn apply_tar(tar: impl Read, layer: &str, target: &Path) -> Result<(), LayerError> {
    let mut a = Applier {
        root: target,
        layer,
        entry: String::new(),
        is_root: unsafe { libc::geteuid() } == 0,
        written: HashSet::new(),
        real_dirs: HashSet::new(),
        dir_times: Vec::new(),
        buf: vec![0; 256 << 10],
    };
    let eof = Rc::new(Cell::new(false));
    let mut archive = tar::Archive::new(SeesEof {
        inner: tar,
        eof: eof.clone(),
    });
    let read_err = |source| LayerError::Read {
        layer: layer.to_string(),
        source,
    };
    for entry in archive.entries().map_err(read_err)? {
        let mut entry = match entry {
            Ok(e) => e,
            // Some writers (umoci 0.4.7) end the stream right after the last
            // entry's data, without padding or end blocks. Every entry so far
            // was complete (copy checks sizes) and the diff_id still covers
            // the bytes, so this is the end of the layer, not damage.
            Err(_) if eof.get() => break,
            Err(e) => return Err(read_err(e)),
        };
        a.entry = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        a.apply(&mut entry)?;
    }
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(read_err)?;
    for (dir, mtime) in a.dir_times.iter().rev() {
        let p = a.root.join(dir);
        set_mtime_nofollow(&p, *mtime).map_err(a.io("set the time of", &p))?;
    }
    Ok(())
}

/// A reader that notes when its source reached the end.
struct SeesEof<R> {
    inner: R,
    eof: Rc<Cell<bool>>,
}

impl<R: Read> Read for SeesEof<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.eof.set(true);
        }
        Ok(n)
    }
}

struct Applier<'a> {
    root: &'a Path,
    layer: &'a str,
    /// The entry being applied, for error messages.
    entry: String,
    is_root: bool,
    /// Paths this layer wrote: whiteouts only hide what lower layers wrote.
    written: HashSet<PathBuf>,
    /// Directories checked to be real (not symlinks) during this layer.
    real_dirs: HashSet<PathBuf>,
    /// Directory mtimes, set last (writing inside a directory changes it).
    dir_times: Vec<(PathBuf, u64)>,
    buf: Vec<u8>,
}

impl Applier<'_> {
    fn refuse(&self, reason: impl Into<String>) -> LayerError {
        LayerError::Refused {
            layer: self.layer.to_string(),
            entry: self.entry.clone(),
            reason: reason.into(),
        }
    }

    /// An error mapper for a failed filesystem call (allocates only on failure).
    fn io<'s>(
        &'s self,
        action: &'static str,
        path: &'s Path,
    ) -> impl FnOnce(io::Error) -> LayerError + 's {
        move |source| LayerError::Io {
            layer: self.layer.to_string(),
            entry: self.entry.clone(),
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    fn apply<R: Read>(&mut self, e: &mut tar::Entry<'_, R>) -> Result<(), LayerError> {
        let kind = e.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            return Ok(());
        }
        let rel = self.clean(&e.path_bytes())?;
        let Some(name) = rel.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return Ok(()); // the root itself ("./")
        };
        let parent = rel.parent().unwrap_or(Path::new("")).to_path_buf();
        if name == OPAQUE {
            self.ensure_dir(&parent)?;
            return self.clear_lower(&parent);
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT) {
            return self.whiteout(&parent, hidden);
        }
        self.ensure_dir(&parent)?;
        let path = self.root.join(&rel);
        let mode = e.header().mode().unwrap_or(0o644) & 0o7777;
        let mtime = e.header().mtime().unwrap_or(0);
        let (uid, gid) = (e.header().uid().unwrap_or(0), e.header().gid().unwrap_or(0));
        match kind {
            EntryType::Directory => {
                match fs::symlink_metadata(&path) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => self.remove(&path)?,
                    Err(_) => {}
                }
                if !path.is_dir() {
                    fs::create_dir(&path).map_err(self.io("create directory", &path))?;
                }
                self.owner(&path, uid, gid)?;
                fs::set_permissions(&path, Permissions::from_mode(mode))
                    .map_err(self.io("chmod", &path))?;
                self.real_dirs.insert(rel.clone());
                self.dir_times.push((rel.clone(), mtime));
            }
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let mut f = self.create_file(&path)?;
                let size = if kind == EntryType::GNUSparse {
                    0
                } else {
                    e.size()
                };
                self.copy(e, size, &mut f, &path)?;
                if self.is_root {
                    std::os::unix::fs::fchown(&f, Some(uid as u32), Some(gid as u32))
                        .map_err(self.io("chown", &path))?;
                }
                f.set_permissions(Permissions::from_mode(mode))
                    .map_err(self.io("chmod", &path))?;
                f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(mtime))
                    .map_err(self.io("set the time of", &path))?;
            }
            EntryType::Symlink => {
                let to = e
                    .link_name_bytes()
                    .ok_or_else(|| self.refuse("symlink without a target"))?;
                self.remove(&path)?;
                std::os::unix::fs::symlink(OsStr::from_bytes(&to), &path)
                    .map_err(self.io("create symlink", &path))?;
                self.owner(&path, uid, gid)?;
                set_mtime_nofollow(&path, mtime).map_err(self.io("set the time of", &path))?;
            }
            EntryType::Link => {
                let to = e
                    .link_name_bytes()
                    .ok_or_else(|| self.refuse("hard link without a target"))?;
                let src_rel = self.clean(&to).map_err(|_| {
                    self.refuse(format!(
                        "hard link to {:?} points outside the target",
                        String::from_utf8_lossy(&to)
                    ))
                })?;
                self.ensure_dir(src_rel.parent().unwrap_or(Path::new("")))?;
                let src = self.root.join(&src_rel);
                match fs::symlink_metadata(&src) {
                    Ok(m) if m.is_dir() => return Err(self.refuse("hard link to a directory")),
                    Ok(_) => {}
                    Err(_) => {
                        return Err(
                            self.refuse(format!("hard link to {src_rel:?}, which does not exist"))
                        );
                    }
                }
                if src_rel != rel {
                    self.remove(&path)?;
                    fs::hard_link(&src, &path).map_err(self.io("create hard link", &path))?;
                }
            }
            EntryType::Fifo | EntryType::Char | EntryType::Block => {
                let fmt = match kind {
                    EntryType::Fifo => libc::S_IFIFO,
                    EntryType::Char => libc::S_IFCHR,
                    _ => libc::S_IFBLK,
                };
                if fmt != libc::S_IFIFO && !self.is_root {
                    return Ok(()); // device nodes need root; skipped like rootless unpackers do
                }
                let major = e.header().device_major().ok().flatten().unwrap_or(0);
                let minor = e.header().device_minor().ok().flatten().unwrap_or(0);
                self.remove(&path)?;
                let c = cstr(&path);
                // SAFETY: a valid NUL-terminated path; mknod does not touch our memory.
                let rc =
                    unsafe { libc::mknod(c.as_ptr(), fmt | mode, libc::makedev(major, minor)) };
                if rc != 0 {
                    return Err(self.io("create node", &path)(io::Error::last_os_error()));
                }
                self.owner(&path, uid, gid)?;
            }
            other => return Err(self.refuse(format!("unsupported tar entry type {other:?}"))),
        }
        self.mark_written(rel);
        Ok(())
    }

    /// Create a regular file, never through a symlink: O_EXCL|O_NOFOLLOW, and
    /// whatever is in the way (file, symlink, directory) is removed first.
    fn create_file(&mut self, path: &Path) -> Result<File, LayerError> {
        let open = || {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
        };
        match open() {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                self.remove(path)?;
                open().map_err(self.io("create", path))
            }
            r => r.map_err(self.io("create", path)),
        }
    }

    /// Record a path (and the directories above it) as written by this layer.
    fn mark_written(&mut self, rel: PathBuf) {
        let mut cur = Some(rel.as_path());
        while let Some(p) = cur.filter(|p| !p.as_os_str().is_empty()) {
            if !self.written.insert(p.to_path_buf()) {
                break;
            }
            cur = p.parent();
        }
    }

    /// The entry path as a relative path of plain components; `..` and
    /// absolute paths are refused.
    fn clean(&self, raw: &[u8]) -> Result<PathBuf, LayerError> {
        let mut out = PathBuf::new();
        for c in Path::new(OsStr::from_bytes(raw)).components() {
            match c {
                Component::Normal(n) => out.push(n),
                Component::CurDir => {}
                Component::ParentDir => {
                    return Err(self.refuse("a `..` component would leave the target"));
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(self.refuse("absolute path"));
                }
            }
        }
        Ok(out)
    }

    /// Make sure `rel` (relative to the root) is a real directory, creating
    /// missing parts; a symlink or file on the way is refused.
    fn ensure_dir(&mut self, rel: &Path) -> Result<(), LayerError> {
        let mut cur = PathBuf::new();
        for c in rel.components() {
            cur.push(c);
            if self.real_dirs.contains(&cur) {
                continue;
            }
            let p = self.root.join(&cur);
            match fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(self.refuse(format!(
                        "its parent {} is a symlink; tug never writes through symlinks",
                        cur.display()
                    )));
                }
                Ok(_) => {
                    return Err(
                        self.refuse(format!("its parent {} is not a directory", cur.display()))
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::create_dir(&p).map_err(self.io("create directory", &p))?;
                }
                Err(e) => return Err(self.io("inspect", &p)(e)),
            }
            self.real_dirs.insert(cur.clone());
        }
        Ok(())
    }

    /// Remove whatever is at `path` (a directory with its contents); absent is fine.
    fn remove(&mut self, path: &Path) -> Result<(), LayerError> {
        let r = match fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => {
                self.real_dirs.clear();
                fs::remove_dir_all(path)
            }
            Ok(_) => fs::remove_file(path),
            Err(_) => return Ok(()),
        };
        r.map_err(self.io("remove", path))
    }

    fn owner(&self, path: &Path, uid: u64, gid: u64) -> Result<(), LayerError> {
        if self.is_root {
            std::os::unix::fs::lchown(path, Some(uid as u32), Some(gid as u32))
                .map_err(self.io("chown", path))?;
        }
        Ok(())
    }

    /// Copy an entry's data; fewer bytes than its header says is a truncated layer.
    fn copy(
        &mut self,
        from: &mut impl Read,
        size: u64,
        to: &mut File,
        path: &Path,
    ) -> Result<(), LayerError> {
        let mut copied = 0u64;
        loop {
            let n = match from.read(&mut self.buf) {
                Ok(0) if copied < size => {
                    return Err(LayerError::Read {
                        layer: self.layer.to_string(),
                        source: io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("entry {:?} ends after {copied} of {size} bytes", self.entry),
                        ),
                    });
                }
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(LayerError::Read {
                        layer: self.layer.to_string(),
                        source,
                    });
                }
            };
            copied += n as u64;
            to.write_all(&self.buf[..n])
                .map_err(self.io("write", path))?;
        }
    }
}
