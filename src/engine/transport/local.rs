//! The jump host itself as a host: commands run as scripts the local
//! `bash -s` reads on stdin (the data of a send follows the script), in
//! their own process group so a timeout or cancel stops all of them.
//! Used when a host's address is one of the jump host's own, and by tests.

use super::{BoxFuture, ByteStream, LineSink, LineSplitter, Transport, TransportError};
use crate::engine::command::Command;
use crate::engine::event::Stream;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// Runs steps on this machine.
#[derive(Debug, Default, Clone)]
pub struct LocalTransport {
    dir: Option<PathBuf>,
}

impl LocalTransport {
    /// Commands run in the current dir.
    pub fn new() -> Self {
        Self::default()
    }

    /// Commands run in `dir`, and relative fetch paths resolve there
    /// (tests give each simulated host its own dir).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        LocalTransport {
            dir: Some(dir.into()),
        }
    }

    async fn exec(
        &self,
        cmd: &Command,
        data: Option<ByteStream<'_>>,
        out: LineSink<'_>,
    ) -> Result<i32, TransportError> {
        let script = cmd.script()?;
        let mut c = tokio::process::Command::new("bash");
        c.arg("-s")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(dir) = &self.dir {
            c.current_dir(dir);
        }
        let mut child = c.spawn().map_err(|source| TransportError::Local {
            what: "cannot start bash",
            source,
        })?;
        let mut group = Group(child.id().and_then(|p| i32::try_from(p).ok()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let feed = async {
            let Some(stdin) = stdin else { return Ok(()) };
            let data: ByteStream<'_> = data.unwrap_or_else(|| Box::new(tokio::io::empty()));
            let script: ByteStream<'_> = Box::new(script.expose().as_bytes());
            let fed = feed(Box::new(script.chain(data)), stdin).await;
            if fed.is_err() {
                // Never let the command see a clean end of a truncated stream.
                group.kill();
            }
            fed
        };
        let (fed, read) = tokio::join!(feed, read_both(stdout, stderr, out));
        fed?;
        read.map_err(|source| TransportError::Local {
            what: "reading output",
            source,
        })?;
        let status = child.wait().await.map_err(|source| TransportError::Local {
            what: "waiting for bash",
            source,
        })?;
        group.0 = None;
        Ok(status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
    }
}

/// Kills the whole process group unless disarmed: dropping a running
/// command's future (timeout, cancel) leaves nothing behind.
struct Group(Option<i32>);

impl Group {
    fn kill(&mut self) {
        if let Some(pid) = self.0 {
            // SAFETY: kill(2) with a negative pid signals the process group we
            // created for this child; it has not been reaped yet.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Copy `data` into the command's stdin; a command that stops reading
/// (exits early) ends the copy without error, its exit code tells.
async fn feed(
    mut data: ByteStream<'_>,
    mut stdin: tokio::process::ChildStdin,
) -> Result<(), TransportError> {
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = data.read(&mut buf).await.map_err(TransportError::Source)?;
        if n == 0 {
            break;
        }
        if stdin.write_all(&buf[..n]).await.is_err() {
            return Ok(());
        }
    }
    let _ = stdin.shutdown().await;
    Ok(())
}

/// Read stdout and stderr together until both end, line by line.
async fn read_both(
    stdout: Option<impl AsyncRead + Unpin>,
    stderr: Option<impl AsyncRead + Unpin>,
    out: LineSink<'_>,
) -> std::io::Result<()> {
    let (Some(mut so), Some(mut se)) = (stdout, stderr) else {
        return Ok(());
    };
    let (mut lo, mut le) = (LineSplitter::default(), LineSplitter::default());
    let (mut bo, mut be) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    let (mut open_o, mut open_e) = (true, true);
    while open_o || open_e {
        tokio::select! {
            n = so.read(&mut bo), if open_o => {
                let n = n?;
                if n == 0 {
                    open_o = false;
                    lo.finish(|l| out(Stream::Stdout, l));
                } else {
                    lo.feed(&bo[..n], |l| out(Stream::Stdout, l));
                }
            }
            n = se.read(&mut be), if open_e => {
                let n = n?;
                if n == 0 {
                    open_e = false;
                    le.finish(|l| out(Stream::Stderr, l));
                } else {
                    le.feed(&be[..n], |l| out(Stream::Stderr, l));
                }
            }
        }
    }
    Ok(())
}

impl Transport for LocalTransport {
    fn run<'a>(
        &'a self,
        cmd: &'a Command,
        out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>> {
        Box::pin(self.exec(cmd, None, out))
    }

    fn send<'a>(
        &'a self,
        data: ByteStream<'a>,
        cmd: &'a Command,
        out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>> {
        Box::pin(self.exec(cmd, Some(data), out))
    }

    fn fetch<'a>(
        &'a self,
        path: &'a str,
        limit: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, TransportError>> {
        Box::pin(async move {
            let full = match &self.dir {
                Some(dir) => dir.join(path),
                None => PathBuf::from(path),
            };
            let fail = |e: std::io::Error| TransportError::Unreadable {
                path: path.to_string(),
                reason: e.to_string(),
            };
            let file = tokio::fs::File::open(&full).await.map_err(fail)?;
            let mut bytes = Vec::new();
            file.take(limit + 1)
                .read_to_end(&mut bytes)
                .await
                .map_err(fail)?;
            if bytes.len() as u64 > limit {
                return Err(TransportError::TooLarge {
                    path: path.to_string(),
                    limit,
                });
            }
            Ok(bytes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::command::{EXEC_ENTRY_MAX, Secret};

    async fn output(t: &LocalTransport, cmd: &Command, data: Option<&[u8]>) -> (i32, Vec<String>) {
        let mut lines = Vec::new();
        let mut sink = |_: Stream, l: &str| lines.push(l.to_string());
        let code = match data {
            Some(d) => t.send(Box::new(d), cmd, &mut sink).await,
            None => t.run(cmd, &mut sink).await,
        }
        .unwrap();
        (code, lines)
    }

    #[tokio::test]
    async fn the_shell_s_command_line_holds_no_value_and_children_get_the_env() {
        let t = LocalTransport::new();
        let cmd = Command::shell(
            "tr '\\0' ' ' < /proc/$$/cmdline; echo; bash -c 'printf \"%s\\n\" \"$registryPassword\"'; exit 3",
        )
        .env("registryPassword", Secret::new("s3cr3t 'q'"));
        let (code, lines) = output(&t, &cmd, None).await;
        assert_eq!(code, 3);
        assert_eq!(lines, ["bash -s ", "s3cr3t 'q'"]);
    }

    #[tokio::test]
    async fn sent_data_follows_the_script_byte_for_byte() {
        let t = LocalTransport::new();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let cmd = Command::new("wc").arg("-c").env("A", "x\ny");
        let (code, lines) = output(&t, &cmd, Some(&data)).await;
        assert_eq!((code, lines), (0, vec!["300000".to_string()]));
        // A command that reads nothing leaves the data unread, not run as shell.
        let cmd = Command::shell("head -c 3; echo").env("B", "1");
        let (code, lines) = output(&t, &cmd, Some(b"abcecho pwned\nexit 9\n")).await;
        assert_eq!((code, lines), (0, vec!["abc".to_string()]));
    }

    #[tokio::test]
    async fn an_env_value_too_long_to_export_reaches_bash_children_whole() {
        let dir = tempfile::tempdir().unwrap();
        let t = LocalTransport::in_dir(dir.path());
        let big: String = (0..200_000)
            .map(|i| (b'a' + (i % 26) as u8) as char)
            .collect();
        assert!(big.len() > EXEC_ENTRY_MAX);
        let cmd = Command::shell(
            "echo \"outer ${#BIG}\"; bash -c 'echo \"child ${#BIG} $SMALL\"; printf %s \"$BIG\" | cksum'; \
             printf %s \"$BASH_ENV\" > env-file",
        )
        .env("BIG", big.clone() + "'\n$(touch pwned)")
        .env("SMALL", "s");
        let (code, lines) = output(&t, &cmd, None).await;
        let want = big.len() + 16;
        let sum = std::process::Command::new("cksum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin
                    .take()
                    .unwrap()
                    .write_all(format!("{big}'\n$(touch pwned)").as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        let sum = String::from_utf8(sum.stdout).unwrap();
        assert_eq!(code, 0, "{lines:?}");
        assert_eq!(
            lines,
            [
                format!("outer {want}"),
                format!("child {want} s"),
                sum.trim().to_string()
            ]
        );
        assert!(!dir.path().join("pwned").exists());
        let file = std::fs::read_to_string(dir.path().join("env-file")).unwrap();
        assert!(
            !file.is_empty() && !std::path::Path::new(&file).exists(),
            "{file} removed"
        );
    }
}
