//! What a step does on its host: run a command, write a file, stream local
//! bytes into a command, fetch a small file. Actions are plain data; each
//! feeds its inputs into its step's id and prints itself for plans.

use super::command::{Command, CommandError, Value};
use crate::image::digest::Hasher;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How a stream is compressed on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// As it is (the data is already compressed, like image layers).
    None,
    /// gzip; every host's tar can read it.
    Gzip,
    /// zstd, for hosts that have the tool.
    Zstd,
}

/// A local file streamed as it is.
#[derive(Clone, Debug)]
pub struct LocalFile {
    /// Where it is on the jump host.
    pub path: PathBuf,
    /// Its size, for progress and disk checks.
    pub size: u64,
    /// What it is (a blob's digest): the step's identity for resume.
    pub identity: String,
}

/// Where the bytes of a [`Action::Send`] come from; opened only when the
/// step runs, streamed, never held in memory.
#[derive(Clone, Debug)]
pub enum Source {
    /// Files one after another (e.g. compressed layer blobs from the store).
    Files(Vec<LocalFile>),
    /// A tar of `paths` (relative to `dir`, or all of it when empty), made
    /// on the fly.
    Tar {
        /// The local dir the paths are under.
        dir: PathBuf,
        /// What to include; empty means everything.
        paths: Vec<PathBuf>,
        /// How the tar is compressed on the wire.
        compress: Compression,
        /// What the tree is (an image digest plus subset): the identity for resume.
        identity: String,
    },
    /// One local file compressed on the fly (a plain-tar layer holding
    /// files that shrink, sent to a host whose tar reads gzip).
    Compressed {
        /// The file.
        file: LocalFile,
        /// How it is compressed on the wire.
        with: Compression,
    },
    /// A mixed layer without its registry data, for a host that runs no
    /// registry: made once on the jump host when a step first needs it
    /// ([`crate::engine::layer_split`]) and kept in `cache` by the layer's
    /// digest. It is gzipped.
    WithoutRegistry {
        /// The layer blob.
        file: LocalFile,
        /// How the blob is compressed.
        stored: Compression,
        /// Where the derived file is kept.
        cache: PathBuf,
    },
    /// A small local file made earlier in the same run (e.g. fetched from
    /// another host), so its size is not known when the plan is made.
    Fetched {
        /// Where it will be on the jump host.
        path: PathBuf,
        /// What it is: the identity for resume.
        identity: String,
    },
    /// The jump host's clock when the step starts, as `<unix seconds>\n`:
    /// lets a host compare its clock with the jump host's.
    Clock,
}

impl Source {
    /// The bytes the stream will carry, when known before it runs.
    pub fn size(&self) -> Option<u64> {
        match self {
            Source::Files(files) => Some(files.iter().map(|f| f.size).sum()),
            Source::Tar { .. }
            | Source::Compressed { .. }
            | Source::WithoutRegistry { .. }
            | Source::Fetched { .. }
            | Source::Clock => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::Files(files) => {
                let size = bytesize::ByteSize(self.size().unwrap_or(0));
                match files.as_slice() {
                    [one] => format!("{} ({size})", one.identity),
                    many => format!("{} files ({size})", many.len()),
                }
            }
            Source::Tar {
                dir,
                paths,
                compress,
                ..
            } => {
                let what = if paths.is_empty() {
                    dir.display().to_string()
                } else {
                    let names: Vec<String> =
                        paths.iter().map(|p| p.display().to_string()).collect();
                    format!("{} [{}]", dir.display(), names.join(", "))
                };
                match compress {
                    Compression::None => format!("tar of {what}"),
                    Compression::Gzip => format!("tar.gz of {what}"),
                    Compression::Zstd => format!("tar.zst of {what}"),
                }
            }
            Source::Compressed { file, with } => {
                let size = bytesize::ByteSize(file.size);
                format!("{} ({size}, {with:?} on the wire)", file.identity)
            }
            Source::WithoutRegistry { file, .. } => {
                let size = bytesize::ByteSize(file.size);
                format!(
                    "{} ({size}) without registry/, gzip on the wire",
                    file.identity
                )
            }
            Source::Fetched { path, .. } => path.display().to_string(),
            Source::Clock => "the clock of the machine running tug".to_string(),
        }
    }
}

/// What a step does on its host.
#[derive(Clone, Debug)]
pub enum Action {
    /// Run a command line; a non-zero exit fails the step.
    Run {
        /// The command.
        cmd: Command,
        /// Overrides the runner's default step timeout.
        timeout: Option<Duration>,
    },
    /// Write a file atomically (temp file, then rename) with this mode.
    WriteFile {
        /// The path on the host; `<tree>/./<rel>` marks a file in an
        /// image's tree, where no directory of `<rel>` may be a symlink.
        path: String,
        /// Its permission bits, e.g. 0o600.
        mode: u32,
        /// Its content; secret content is masked in plans and logs.
        content: Value,
    },
    /// Stream local bytes into a command's stdin on the host (`tar -x -C dir`).
    Send {
        /// Where the bytes come from.
        source: Source,
        /// The command on the host that reads them.
        to: Command,
    },
    /// Ask the API server (kubectl on this host) until every node named is
    /// Ready, telling each one's state; fails when one is not in time.
    WaitReady(super::health::wait_ready::WaitReady),
    /// Copy a small file from the host to the jump host (mode 0600).
    Fetch {
        /// The path on the host.
        path: String,
        /// Where to write it locally.
        to_local: PathBuf,
    },
}

impl Action {
    /// Every command line the action sends, for validation.
    pub(super) fn commands(&self) -> Vec<&Command> {
        match self {
            Action::Run { cmd, .. } => vec![cmd],
            Action::Send { to, .. } => vec![to],
            Action::WriteFile { .. } | Action::Fetch { .. } | Action::WaitReady(_) => Vec::new(),
        }
    }

    pub(super) fn feed(&self, h: &mut Feed) -> Result<(), CommandError> {
        match self {
            Action::Run { cmd, .. } => {
                h.field("run");
                h.field(&cmd.render()?);
            }
            Action::WriteFile {
                path,
                mode,
                content,
            } => {
                h.field("write");
                h.field(path);
                h.field(&format!("{mode:o}"));
                h.field(content.expose());
            }
            Action::Send { source, to } => {
                h.field("send");
                match source {
                    Source::Files(files) => {
                        for f in files {
                            h.field(&f.identity);
                            h.field(&f.size.to_string());
                        }
                    }
                    Source::Tar {
                        identity, compress, ..
                    } => {
                        h.field(identity);
                        h.field(&format!("{compress:?}"));
                    }
                    Source::Compressed { file, with } => {
                        h.field(&file.identity);
                        h.field(&file.size.to_string());
                        h.field(&format!("{with:?}"));
                    }
                    Source::WithoutRegistry { file, .. } => {
                        h.field(&file.identity);
                        h.field(&file.size.to_string());
                        h.field("without-registry");
                    }
                    Source::Fetched { identity, .. } => h.field(identity),
                    Source::Clock => h.field("clock"),
                }
                h.field(&to.render()?);
            }
            Action::WaitReady(w) => {
                // What is waited for, not how long: a longer --wait is the same step.
                h.field("wait-ready");
                for n in &w.nodes {
                    h.field(n.host.as_str());
                    h.field(&n.ip.to_string());
                }
            }
            Action::Fetch { path, to_local } => {
                h.field("fetch");
                h.field(path);
                h.field(&to_local.display().to_string());
            }
        }
        Ok(())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Run { cmd, .. } => write!(f, "run: {cmd}"),
            Action::WriteFile {
                path,
                mode,
                content,
            } => {
                let size = bytesize::ByteSize(content.expose().len() as u64);
                let secret = if content.secret().is_some() {
                    ", secret"
                } else {
                    ""
                };
                write!(f, "write {path} (mode {mode:o}, {size}{secret})")
            }
            Action::Send { source, to } => write!(f, "send {} | {to}", source.describe()),
            Action::WaitReady(w) => write!(f, "{w}"),
            Action::Fetch { path, to_local } => {
                write!(f, "fetch {path} -> {}", to_local.display())
            }
        }
    }
}

/// Length-prefixed hashing, so two different inputs never feed the same bytes.
pub(super) struct Feed(pub(super) Hasher);

impl Feed {
    pub(super) fn field(&mut self, s: &str) {
        self.0.update(&(s.len() as u64).to_le_bytes());
        self.0.update(s.as_bytes());
    }
}
