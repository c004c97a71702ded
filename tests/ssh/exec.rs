//! Running commands over the SSH layer: streamed lines and exit codes,
//! sudo, uploads through stdin, fetching bytes, broken input, reconnects.

use std::path::PathBuf;
use std::sync::Arc;

use sha2::Digest;
use tug::secret::Secret;
use tug::ssh::{Auth, Exit, SshError, Stream, Target};

use super::support::hosts::{Hosts, SUDO_USER, random_hex};
use super::{connect, root, sudo_user, texts};

#[tokio::test]
async fn key_auth_streams_lines_and_exit_codes() {
    let hosts = Hosts::start(1);
    let s = connect(root(&hosts[0]), &hosts).await;
    let (exit, lines) = s
        .output("echo out1; echo err1 >&2; printf 'out2\\nlast'; exit 3")
        .await
        .unwrap();
    assert_eq!(exit, Exit::Code(3));
    assert_eq!(texts(&lines, Stream::Stdout), ["out1", "out2", "last"]);
    assert_eq!(texts(&lines, Stream::Stderr), ["err1"]);
    // Concurrent commands share the one connection, more than sshd's 10 sessions wait.
    let commands: Vec<String> = (0..25).map(|i| format!("sleep 0.2; echo {i}")).collect();
    let many = commands.iter().map(|c| s.output(c));
    for (i, r) in futures_util::future::join_all(many)
        .await
        .into_iter()
        .enumerate()
    {
        assert_eq!(texts(&r.unwrap().1, Stream::Stdout), [i.to_string()]);
    }
    let (a, b) = tokio::join!(s.output("hostname"), s.output("id -u"));
    assert_eq!(
        texts(&a.unwrap().1, Stream::Stdout),
        [hosts[0].hostname.as_str()]
    );
    assert_eq!(texts(&b.unwrap().1, Stream::Stdout), ["0"]);
    assert_eq!(
        s.output("kill -9 $$").await.unwrap().0,
        Exit::Signal("KILL".into())
    );
}
#[tokio::test]
async fn sudo_user_with_password_runs_as_root_and_never_shows_it() {
    let hosts = Hosts::start(1);
    let h = &hosts[0];
    let s = connect(sudo_user(h, &h.password), &hosts).await;
    let (exit, lines) = s.output("id -u; echo to-stderr >&2; whoami").await.unwrap();
    assert!(exit.success(), "{lines:?}");
    assert_eq!(texts(&lines, Stream::Stdout), ["0", "root"]);
    assert!(
        lines.iter().all(|l| !l.text.contains(&h.password)),
        "{lines:?}"
    );

    let mut wrong = sudo_user(h, &h.password);
    let bad = format!("bad-{}", random_hex(4));
    wrong.sudo_password = Some(Secret::from(bad.as_str()));
    let s = connect(wrong, &hosts).await;
    let err = s.output("id -u").await.unwrap_err();
    assert!(matches!(err, SshError::SudoRejected { .. }), "{err}");
    assert!(
        err.to_string().contains(&h.addr()) && !err.to_string().contains(&bad),
        "{err}"
    );

    let keyed = Target::new(
        &h.ip,
        SUDO_USER,
        Auth::Key {
            path: h.key.clone(),
            passphrase: None,
        },
    )
    .port(h.port);
    let err = connect(keyed, &hosts)
        .await
        .output("true")
        .await
        .unwrap_err();
    assert!(matches!(err, SshError::SudoNeedsPassword { .. }), "{err}");

    // With NOPASSWD, sudo does not read a password: it must not reach the command's stdin.
    h.exec(&format!(
        "echo '{SUDO_USER} ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/{SUDO_USER}"
    ));
    let s = connect(sudo_user(h, &h.password), &hosts).await;
    let mut input: &[u8] = b"payload\n";
    let exit = s
        .exec("cat > /root/got", Some(&mut input), |_| {})
        .await
        .unwrap();
    assert!(exit.success());
    assert_eq!(
        h.exec("cat /root/got; stat -c %U /root/got"),
        "payload\nroot\n"
    );
}
/// A tar of a few MiB (incompressible) written to disk, and its members' sha256.
fn make_tar(dir: &std::path::Path) -> (PathBuf, Vec<(String, String)>) {
    let path = dir.join("upload.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let mut sums = Vec::new();
    for (name, size) in [
        ("a.bin", 3 << 20),
        ("sub/b.bin", (1 << 20) + 7),
        ("c.txt", 5),
    ] {
        let data: Vec<u8> = (0..size)
            .map(|i: usize| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        b.append_data(&mut header, name, data.as_slice()).unwrap();
        let sum = sha2::Sha256::digest(&data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        sums.push((name.to_string(), sum));
    }
    b.finish().unwrap();
    (path, sums)
}

#[tokio::test]
async fn tar_streamed_to_stdin_lands_on_that_host_only() {
    let hosts = Hosts::start(2);
    let (tar, sums) = make_tar(hosts.dir());
    for (i, target) in [root(&hosts[0]), sudo_user(&hosts[1], &hosts[1].password)]
        .into_iter()
        .enumerate()
    {
        let s = connect(target, &hosts).await;
        let mut input = tokio::fs::File::open(&tar).await.unwrap();
        let exit = s
            .exec(
                "mkdir -p /opt/up && tar -x -C /opt/up",
                Some(&mut input),
                |_| {},
            )
            .await
            .unwrap();
        assert!(exit.success());
        for (name, sum) in &sums {
            let got = hosts[i].exec(&format!("sha256sum /opt/up/{name}"));
            assert!(got.starts_with(sum.as_str()), "{name} on host {i}: {got}");
        }
        assert_eq!(hosts[i].exec("stat -c %U /opt/up/a.bin"), "root\n");
    }
    // And back: a binary file fetched as bytes, with a bound on memory.
    let s = connect(root(&hosts[0]), &hosts).await;
    let (exit, bytes, _) = s.capture("cat /opt/up/a.bin", 4 << 20).await.unwrap();
    assert!(exit.success());
    let sum: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(sum, sums[0].1);
    let err = s.capture("cat /opt/up/a.bin", 1 << 20).await.unwrap_err();
    assert!(
        matches!(err, SshError::TooLarge { limit: 1048576, .. }),
        "{err}"
    );
    assert!(s.output("true").await.unwrap().0.success());
    hosts[0].exec("rm -r /opt/up");
    assert!(!hosts[0].exec_output("test -e /opt/up").status.success());
    assert!(
        hosts[1]
            .exec_output("test -e /opt/up/a.bin")
            .status
            .success()
    );
    assert!(!std::path::Path::new("/opt/up").exists());
}

#[tokio::test]
async fn failing_input_is_an_error_and_the_session_stays_usable() {
    let hosts = Hosts::start(1);
    let s = Arc::new(connect(root(&hosts[0]), &hosts).await);
    // Input that breaks once the command runs, like a local file that cannot be read further.
    let (feed, chunks) = tokio::sync::mpsc::unbounded_channel::<std::io::Result<&'static [u8]>>();
    feed.send(Ok(b"partial data\n")).unwrap();
    let stream =
        futures_util::stream::unfold(
            chunks,
            |mut rx| async move { rx.recv().await.map(|c| (c, rx)) },
        );
    let mut input = tokio_util::io::StreamReader::new(Box::pin(stream));
    // Sessions are shared across tasks by the engine.
    let task = tokio::spawn({
        let s = s.clone();
        async move {
            let cmd = "echo ready; cat > /dev/null";
            s.exec(cmd, Some(&mut input), move |l| {
                if l.text == "ready" {
                    let _ = feed.send(Err(std::io::Error::other("disk read error")));
                }
            })
            .await
        }
    });
    let err = task.await.unwrap().unwrap_err();
    assert!(matches!(err, SshError::Input { .. }), "{err}");
    assert!(
        err.to_string().contains("disk read error") && err.to_string().contains(&hosts[0].addr())
    );
    assert!(s.output("true").await.unwrap().0.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_sshd_restart() {
    let mut hosts = Hosts::start(1);
    let s = connect(root(&hosts[0]), &hosts).await;
    let addr = hosts[0].addr();
    // The host goes down while a command runs: that command is lost, not retried.
    let (started, mut wait_started) = tokio::sync::mpsc::unbounded_channel();
    let running = s.exec("echo started; sleep 60", None, move |l| {
        let _ = started.send(l);
    });
    let kill = async {
        wait_started.recv().await;
        tokio::task::block_in_place(|| hosts[0].kill());
    };
    let (err, ()) = tokio::join!(running, kill);
    let err = err.unwrap_err();
    assert!(matches!(err, SshError::Lost { .. }), "{err}");
    assert!(
        err.to_string().contains(&addr) && err.to_string().contains("sleep 60"),
        "{err}"
    );
    let err = s.output("true").await.unwrap_err();
    assert!(matches!(err, SshError::Connect { .. }), "{err}");
    hosts[0].restart();
    let (exit, lines) = s.output("hostname").await.unwrap();
    assert!(exit.success());
    assert_eq!(texts(&lines, Stream::Stdout), ["node1"]);
}
