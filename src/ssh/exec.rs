//! Running one command on an open channel: optional stdin streamed from an
//! `AsyncRead` (bounded memory: one buffer in flight, the channel window
//! throttles us), stdout and stderr cut into lines for the caller, and the
//! exit status. For non-root users the command runs under sudo, with the
//! password fed on stdin before the caller's input. A [`Script`] goes to
//! `bash -s` on stdin after that password line, so what it holds (exports
//! of secret values) is on no command line on the host.

use crate::secret::Secret;
use russh::ChannelMsg;
use russh::client::Msg;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use zeroize::Zeroizing;

use super::SshError;

/// Longest line handed out; longer runs (binary output) are cut into pieces.
const MAX_LINE: usize = 64 * 1024;
/// Bytes read from the caller's input per channel write.
const CHUNK: usize = 256 * 1024;

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line of a command's output, without its newline (UTF-8, lossily).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Where it came from.
    pub stream: Stream,
    /// The text.
    pub text: String,
}

/// How a remote command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(u32),
    /// A signal killed it (`TERM`, `KILL`, …).
    Signal(String),
}

impl Exit {
    /// Whether it exited with code 0.
    pub fn success(&self) -> bool {
        *self == Exit::Code(0)
    }
}

/// A shell script for `bash -s`, read from stdin before any input: its text
/// may hold secrets, so it is a [`Secret`]; `shown` is the masked form errors
/// name it by.
pub struct Script {
    /// What `bash -s` reads. It must be one complete command ending in a
    /// newline (e.g. `{ …\n}; exit $?\n`): bash then runs it before reading
    /// further, and whatever input follows is the command's own stdin.
    pub text: Secret,
    /// The command as it may be shown (secrets masked).
    pub shown: String,
}

/// The command line that runs a [`Script`]: bash reading its program from stdin.
pub(super) const SCRIPT_SHELL: &str = "bash -s";

/// How to run the command with privileges.
pub(super) enum Sudo<'a> {
    /// Logged in as root: run as is.
    No,
    /// `sudo -n`: fails at once if sudo wants a password.
    NoPassword,
    /// `sudo -k -S -p ''` with this password on stdin first (only when sudo asks for one).
    Password(&'a Secret),
}

/// The command line sent to the host for `command` under `sudo`.
pub(super) fn wrap(command: &str, sudo: &Sudo) -> String {
    match sudo {
        Sudo::No => command.to_string(),
        Sudo::NoPassword => format!("sudo -n -- sh -c {}", quote(command)),
        // -k: ignore cached credentials, so sudo surely reads the password we send.
        Sudo::Password(_) => format!("sudo -k -S -p '' -- sh -c {}", quote(command)),
    }
}

/// POSIX shell single-quoting.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Where a command's input comes from and where its output goes.
pub(super) struct Io<'a, 'i> {
    /// Written to stdin first (after the sudo password), e.g. a [`Script`]'s text.
    pub preface: Option<&'a Secret>,
    /// Streamed to stdin, then EOF.
    pub input: Option<&'a mut (dyn AsyncRead + Unpin + Send + 'i)>,
    /// Gets stderr lines, and stdout lines unless `stdout` is set.
    pub on_line: &'a mut (dyn FnMut(Line) + Send),
    /// Collect stdout bytes here instead, failing beyond this many.
    pub stdout: Option<(&'a mut Vec<u8>, usize)>,
}

/// Run the command line `line` on `channel` (already opened) and wait for
/// its exit; `addr` and `user` name the host and login in errors, `shown`
/// the command (never holding a secret).
pub(super) async fn run(
    channel: russh::Channel<Msg>,
    (addr, user): (&str, &str),
    (line, shown): (&str, &str),
    sudo: Sudo<'_>,
    io: Io<'_, '_>,
) -> Result<Exit, SshError> {
    let Io {
        preface,
        input,
        on_line,
        mut stdout,
    } = io;
    let sent = wrap(line, &sudo);
    let (mut read, write) = channel.split();
    let write = std::sync::Arc::new(write);
    let start_err = |reason: String| SshError::Start {
        addr: addr.into(),
        command: shown.into(),
        reason,
    };
    write
        .exec(true, sent)
        .await
        .map_err(|e| start_err(e.to_string()))?;
    let mut abandon = Abandon(Some(write.clone()));

    let password = match &sudo {
        Sudo::Password(pw) => Some(*pw),
        _ => None,
    };
    let feed = feed(&write, [password, preface], input);
    tokio::pin!(feed);
    let mut feeding = true;
    let (mut out, mut err) = (Splitter::new(Stream::Stdout), Splitter::new(Stream::Stderr));
    let mut exit = None;
    let mut sudo_said = None;
    loop {
        tokio::select! {
            fed = &mut feed, if feeding => {
                feeding = false;
                if let Err(source) = fed {
                    // Try to stop the command before it sees the input end. OpenSSH refuses
                    // signals for root sessions, so it may still get EOF: commands fed this
                    // way must detect a truncated input themselves (tar does).
                    abandon.0 = None;
                    let _ = write.signal(russh::Sig::TERM).await;
                    let _ = write.close().await;
                    return Err(SshError::Input { addr: addr.into(), command: shown.into(), source });
                }
            }
            msg = read.wait() => match msg {
                Some(ChannelMsg::Data { data }) => match &mut stdout {
                    None => out.push(&data, on_line),
                    Some((buf, limit)) if buf.len() + data.len() <= *limit => buf.extend_from_slice(&data),
                    Some((_, limit)) => {
                        abandon.0 = None;
                        let _ = write.close().await;
                        return Err(SshError::TooLarge { addr: addr.into(), command: shown.into(), limit: *limit });
                    }
                },
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) => err.push(&data, &mut |line: Line| {
                    sudo_said = sudo_said.take().or_else(|| sudo_failure(&line.text));
                    on_line(line)
                }),
                Some(ChannelMsg::Failure) => {
                    abandon.0 = None;
                    return Err(start_err("the server refused to run it".into()));
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => exit = Some(Exit::Code(exit_status)),
                Some(ChannelMsg::ExitSignal { signal_name, .. }) => exit = Some(Exit::Signal(format!("{signal_name:?}"))),
                Some(_) => {}
                None => break,
            },
        }
    }
    abandon.0 = None;
    out.finish(on_line);
    err.finish(on_line);
    let exit = exit.ok_or_else(|| SshError::Lost {
        addr: addr.into(),
        command: shown.into(),
    })?;
    match (sudo, sudo_said, &exit) {
        (Sudo::No, ..) | (_, None, _) => Ok(exit),
        (_, Some(_), Exit::Code(0)) => Ok(exit),
        (Sudo::NoPassword, Some(_), _) => Err(SshError::SudoNeedsPassword {
            addr: addr.into(),
            user: user.into(),
        }),
        (Sudo::Password(_), Some(_), _) => Err(SshError::SudoRejected {
            addr: addr.into(),
            user: user.into(),
        }),
    }
}

/// Stops the command and closes its channel when [`run`] is dropped before
/// the command ends (a cancelled transfer), so nothing keeps waiting on the
/// host for input that will never come.
struct Abandon(Option<std::sync::Arc<russh::ChannelWriteHalf<Msg>>>);

impl Drop for Abandon {
    fn drop(&mut self) {
        if let Some(write) = self.0.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(async move {
                let _ = write.signal(russh::Sig::TERM).await;
                let _ = write.close().await;
            });
        }
    }
}

/// sudo's own complaint about the password, if this stderr line is one.
fn sudo_failure(line: &str) -> Option<()> {
    let l = line.trim();
    (l == "sudo: a password is required"
        || l == "Sorry, try again."
        || l.contains("incorrect password attempt"))
    .then_some(())
}

/// Write the sudo password line and the script, then the caller's input,
/// then EOF. Errors reading the input are returned; a channel that stops
/// taking data (the command exited) just ends feeding.
async fn feed(
    write: &russh::ChannelWriteHalf<Msg>,
    [password, preface]: [Option<&Secret>; 2],
    input: Option<&mut (dyn AsyncRead + Unpin + Send + '_)>,
) -> std::io::Result<()> {
    let mut w = write.make_writer();
    if let Some(pw) = password {
        let mut line = Zeroizing::new(pw.expose().as_bytes().to_vec());
        line.push(b'\n');
        if w.write_all(&line).await.is_err() {
            return Ok(());
        }
    }
    if let Some(script) = preface
        && w.write_all(script.expose().as_bytes()).await.is_err()
    {
        return Ok(());
    }
    if let Some(input) = input {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = input.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            if w.write_all(&buf[..n]).await.is_err() {
                return Ok(());
            }
        }
    }
    let _ = w.flush().await;
    let _ = write.eof().await;
    Ok(())
}

/// Cuts a byte stream into lines.
struct Splitter {
    stream: Stream,
    buf: Vec<u8>,
}

impl Splitter {
    fn new(stream: Stream) -> Splitter {
        Splitter {
            stream,
            buf: Vec::new(),
        }
    }

    fn push(&mut self, data: &[u8], on_line: &mut (dyn FnMut(Line) + Send)) {
        for &b in data {
            if b == b'\n' {
                self.emit(on_line);
            } else {
                self.buf.push(b);
                if self.buf.len() >= MAX_LINE {
                    self.emit(on_line);
                }
            }
        }
    }

    fn finish(&mut self, on_line: &mut (dyn FnMut(Line) + Send)) {
        if !self.buf.is_empty() {
            self.emit(on_line);
        }
    }

    fn emit(&mut self, on_line: &mut (dyn FnMut(Line) + Send)) {
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        self.buf.clear();
        on_line(Line {
            stream: self.stream,
            text,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_quotes_for_sudo() {
        assert_eq!(wrap("echo 'a b'", &Sudo::No), "echo 'a b'");
        assert_eq!(
            wrap("echo 'a b'", &Sudo::NoPassword),
            r"sudo -n -- sh -c 'echo '\''a b'\'''"
        );
        let pw = Secret::from("pw");
        assert!(!wrap("id", &Sudo::Password(&pw)).contains("pw"));
    }

    #[test]
    fn splitter_cuts_lines_across_chunks() {
        let mut lines = Vec::new();
        let mut s = Splitter::new(Stream::Stdout);
        let mut sink = |l: Line| lines.push(l.text);
        s.push(b"one\ntw", &mut sink);
        s.push(b"o\r\nthree", &mut sink);
        s.finish(&mut sink);
        assert_eq!(lines, ["one", "two", "three"]);
    }
}
