//! Running one step on its host: the marker check, the action, its output
//! (masked, appended to the host's log, kept as last lines, sent as events)
//! and the bytes it streamed. Retries and timeouts are the runner's.

use super::command::{Command, MASK, Secret, quote};
use super::event::{Event, EventKind, FailCause, Stream};
use super::plan::{Action, HostId, Phase, Step};
use super::source;
use super::transport::{ByteStream, Transport, TransportError};
use crate::fsutil::write_private;
use chrono::Local;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc::UnboundedSender;

/// What an attempt did.
pub(super) enum Acted {
    /// The marker held: nothing to do.
    Skipped,
    /// The action ran to its end with this exit code, sending this many bytes.
    Ran { code: i32, bytes: u64 },
}

/// Sends events about one step.
#[derive(Clone, Copy)]
pub(super) struct Emitter<'a> {
    /// The run's event channel.
    pub events: &'a UnboundedSender<Event>,
    /// The stage's phase.
    pub phase: Phase,
    /// The step the events are about.
    pub step: &'a Step,
}

impl Emitter<'_> {
    /// Send an event about this step.
    pub fn emit(self, kind: EventKind) {
        // A front-end that stopped listening does not stop the run.
        let _ = self.events.send(Event {
            at: Local::now(),
            host: self.step.host.clone(),
            phase: self.phase,
            step: self.step.id.clone(),
            kind,
        });
    }

    /// Send an event of this step about another host (the health wait
    /// tells each host's state from master0's step).
    pub fn emit_for(self, host: &HostId, kind: EventKind) {
        let _ = self.events.send(Event {
            at: Local::now(),
            host: host.clone(),
            phase: self.phase,
            step: self.step.id.clone(),
            kind,
        });
    }
}

/// Where one step's output goes: masked, to the host's log, the last
/// lines kept for an error, and as events.
pub(super) struct Output<'a> {
    /// Events about the step.
    pub em: Emitter<'a>,
    /// The host's log file.
    pub log: &'a Mutex<File>,
    /// Values to mask in every line.
    pub secrets: Vec<Secret>,
    /// The last lines, for a failure report.
    pub last: VecDeque<String>,
    /// How many last lines to keep.
    pub keep: usize,
}

impl Output<'_> {
    /// Append a line to the host's log file.
    pub fn log(&self, line: &str) {
        let mut f = self.log.lock().unwrap_or_else(|p| p.into_inner());
        // A full log disk must not fail the install; the events still carry every line.
        let _ = writeln!(f, "{line}");
    }

    /// Replace every secret in `line` with the mask.
    pub fn mask(&self, line: &str) -> String {
        self.secrets
            .iter()
            .map(Secret::expose)
            .filter(|s| !s.is_empty())
            .fold(line.to_string(), |l, s| l.replace(s, MASK))
    }

    /// A line about `host` learnt by this step: made safe and masked, logged
    /// as `[host] line` in this step's host's log, kept as a last line, and
    /// sent as an event about `host`.
    pub fn note_for(&mut self, host: &HostId, raw: &str) {
        let line = self.mask(&crate::sanitize::terminal_safe(raw));
        let logged = format!("[{host}] {line}");
        self.log(&logged);
        self.keep_last(logged);
        self.em.emit_for(
            host,
            EventKind::Log {
                stream: Stream::Stdout,
                line,
            },
        );
    }

    fn keep_last(&mut self, line: String) {
        if self.keep > 0 {
            if self.last.len() == self.keep {
                self.last.pop_front();
            }
            self.last.push_back(line);
        }
    }

    fn line(&mut self, stream: Stream, raw: &str) {
        // Host output never drives the terminal, the log or failure text.
        let line = self.mask(&crate::sanitize::terminal_safe(raw));
        self.log(&line);
        self.keep_last(line.clone());
        self.em.emit(EventKind::Log { stream, line });
    }
}

/// Why an attempt did not produce an exit code.
pub(super) enum ActError {
    /// The transport failed (retried when it is a connection error).
    Transport(TransportError),
    /// Something on the jump host failed: not worth a retry.
    Local(String),
}

impl ActError {
    /// The failure as a report shows it.
    pub fn cause(self) -> FailCause {
        let safe = |e: String| crate::sanitize::terminal_safe(&e).into_owned();
        match self {
            ActError::Transport(TransportError::Connection(e)) => FailCause::Connection(safe(e)),
            ActError::Transport(e) => FailCause::Other(safe(e.to_string())),
            ActError::Local(e) => FailCause::Other(e),
        }
    }
}

/// One attempt of `step`: check its marker, then do its action.
pub(super) async fn attempt(
    t: &dyn Transport,
    out: &mut Output<'_>,
    fetch_limit: u64,
) -> Result<Acted, ActError> {
    let step = out.em.step;
    if let Some(marker) = &step.skip_when {
        let check = marker.check();
        let code = t
            .run(&check, &mut |_, _| {})
            .await
            .map_err(ActError::Transport)?;
        if code == 0 {
            return Ok(Acted::Skipped);
        }
    }
    match &step.action {
        Action::Run { cmd, .. } => {
            let code = t
                .run(cmd, &mut |s, l| out.line(s, l))
                .await
                .map_err(ActError::Transport)?;
            Ok(Acted::Ran { code, bytes: 0 })
        }
        Action::WriteFile {
            path,
            mode,
            content,
        } => {
            let cmd = write_file_command(path, *mode);
            let data: ByteStream<'_> = Box::new(content.expose().as_bytes());
            let code = t
                .send(data, &cmd, &mut |s, l| out.line(s, l))
                .await
                .map_err(ActError::Transport)?;
            Ok(Acted::Ran { code, bytes: 0 })
        }
        Action::Send { source, to } => {
            let total = source.size();
            let data = source::open(source)
                .await
                .map_err(|e| ActError::Local(format!("opening what to send: {e}")))?;
            let counted = AtomicU64::new(0);
            let reader = Counting {
                inner: data,
                done: 0,
                reported: 0,
                counted: &counted,
                em: out.em,
                total,
            };
            let code = t
                .send(Box::new(reader), to, &mut |s, l| out.line(s, l))
                .await
                .map_err(ActError::Transport)?;
            Ok(Acted::Ran {
                code,
                bytes: counted.load(Ordering::Relaxed),
            })
        }
        Action::WaitReady(w) => super::health::wait(t, w, out).await,
        Action::Fetch { path, to_local } => {
            let bytes = t
                .fetch(path, fetch_limit)
                .await
                .map_err(ActError::Transport)?;
            write_private(to_local, &bytes)
                .map_err(|e| ActError::Local(format!("writing {}: {e}", to_local.display())))?;
            Ok(Acted::Ran { code: 0, bytes: 0 })
        }
    }
}

/// `cat` stdin into a fresh temp file beside `path` (made by `mktemp`, so
/// never through a planted link; 0600 while written), then set the mode and
/// rename over `path` (a link there is replaced, not followed): readers
/// never see half a file. In `<tree>/./<rel>` (a file in an image's tree)
/// no directory of `<rel>` may be a symlink: the image could have planted
/// one to steer the write outside its tree.
fn write_file_command(path: &str, mode: u32) -> Command {
    let (checked, full) = match path.split_once("/./") {
        Some((root, rel)) => {
            let dirs = rel
                .match_indices('/')
                .map(|(i, _)| format!("{root}/{}", &rel[..i]))
                .collect();
            (dirs, format!("{root}/{rel}"))
        }
        None => (Vec::new(), path.to_string()),
    };
    let dir = match full.rsplit_once('/') {
        Some(("", _)) => "/".to_string(),
        Some((dir, _)) => dir.to_string(),
        None => ".".to_string(),
    };
    let guard = if checked.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = checked.iter().map(|p| quote(p)).collect();
        format!(
            "for p in {}; do if [ -L \"$p\" ]; then echo \"tug: $p is a symbolic link; not writing through it\" >&2; exit 1; fi; done && ",
            list.join(" ")
        )
    };
    Command::shell(format!(
        "{guard}umask 077 && mkdir -p -- {d} && t=$(mktemp -- {tmpl}) && {{ cat > \"$t\" && chmod {mode:o} -- \"$t\" && mv -f -T -- \"$t\" {p} || {{ rm -f -- \"$t\"; exit 1; }}; }}",
        d = quote(&dir),
        tmpl = quote(&format!("{dir}/.tug-XXXXXX")),
        p = quote(&full),
    ))
}

/// Counts the bytes read through it and reports progress every MiB and at the end.
struct Counting<'a> {
    inner: ByteStream<'a>,
    done: u64,
    reported: u64,
    counted: &'a AtomicU64,
    em: Emitter<'a>,
    total: Option<u64>,
}

const REPORT_EVERY: u64 = 1 << 20;

impl AsyncRead for Counting<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            let n = (buf.filled().len() - before) as u64;
            self.done += n;
            self.counted.store(self.done, Ordering::Relaxed);
            if (n == 0 && self.done > self.reported) || self.done - self.reported >= REPORT_EVERY {
                self.reported = self.done;
                self.em.emit(EventKind::Progress {
                    done: self.done,
                    total: self.total,
                });
            }
        }
        poll
    }
}

#[cfg(test)]
mod tests {
    use super::write_file_command;
    use std::io::Write;
    use std::process::{Command, Stdio};

    fn write(path: &str, text: &str) -> bool {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(write_file_command(path, 0o640).render().unwrap())
            .stdin(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // A refused write exits before reading: the pipe may be closed.
        let _ = child.stdin.take().unwrap().write_all(text.as_bytes());
        child.wait().unwrap().success()
    }

    #[test]
    fn writes_in_an_image_tree_never_follow_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let (root, outside) = (dir.path().join("root"), dir.path().join("outside"));
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir(&outside).unwrap();
        let r = root.display();
        // A link at the output is replaced, and a planted temp name is not used.
        std::os::unix::fs::symlink(outside.join("a"), root.join("etc/a")).unwrap();
        std::os::unix::fs::symlink(outside.join("t"), root.join("etc/a.tug-tmp")).unwrap();
        assert!(write(&format!("{r}/./etc/a"), "one"));
        assert_eq!(std::fs::read_to_string(root.join("etc/a")).unwrap(), "one");
        assert!(!root.join("etc/a").is_symlink());
        // A link among the directories refuses the write.
        std::os::unix::fs::symlink(&outside, root.join("conf")).unwrap();
        assert!(!write(&format!("{r}/./conf/b"), "two"));
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        let mode = std::fs::metadata(root.join("etc/a")).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::mode(&mode.permissions());
        assert_eq!(mode & 0o777, 0o640);
    }
}
