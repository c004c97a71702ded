//! The SSH layer against real OpenSSH test hosts: auth methods, host key
//! trust, streamed exec, sudo, uploads, reconnects and clear errors.

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use secrecy::SecretString;
use sha2::Digest;
use support::hosts::{Host, Hosts, SUDO_USER, keygen, random_hex};
use tug::ssh::{Auth, Exit, HostKeyPolicy, KnownHosts, Line, Session, SshError, Stream, Target};

fn root(h: &Host) -> Target {
    Target::new(
        &h.ip,
        "root",
        Auth::Key {
            path: h.key.clone(),
            passphrase: None,
        },
    )
    .port(h.port)
}

fn sudo_user(h: &Host, password: &str) -> Target {
    Target::new(
        &h.ip,
        SUDO_USER,
        Auth::Password(SecretString::from(password)),
    )
    .port(h.port)
}

fn known(hosts: &Hosts) -> KnownHosts {
    KnownHosts::with_files(known_file(hosts), vec![])
}

fn known_file(hosts: &Hosts) -> PathBuf {
    hosts.dir().join("tug-home/known_hosts")
}

async fn connect(t: Target, hosts: &Hosts) -> Session {
    Session::connect(t, known(hosts), HostKeyPolicy::AcceptNew)
        .await
        .expect("connect")
}

fn texts(lines: &[Line], stream: Stream) -> Vec<&str> {
    lines
        .iter()
        .filter(|l| l.stream == stream)
        .map(|l| l.text.as_str())
        .collect()
}

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
    wrong.sudo_password = Some(SecretString::from(bad.as_str()));
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

#[tokio::test]
async fn passphrase_protected_key() {
    let hosts = Hosts::start(1);
    let h = &hosts[0];
    let path = hosts.dir().join("locked_key");
    let pass = random_hex(8);
    keygen(&path, &pass);
    h.authorize(&std::fs::read_to_string(path.with_extension("pub")).unwrap());
    let with = |p: Option<&str>| {
        Target::new(
            &h.ip,
            "root",
            Auth::Key {
                path: path.clone(),
                passphrase: p.map(SecretString::from),
            },
        )
        .port(h.port)
    };
    let s = connect(with(Some(&pass)), &hosts).await;
    assert!(s.output("true").await.unwrap().0.success());
    for (p, says) in [(None, "no passphrase"), (Some("wrong"), "wrong passphrase")] {
        let err = Session::connect(with(p), known(&hosts), HostKeyPolicy::AcceptNew)
            .await
            .err()
            .unwrap();
        assert!(matches!(err, SshError::Key { .. }), "{err}");
        assert!(
            err.to_string().contains(says) && err.to_string().contains(&h.addr()),
            "{err}"
        );
        assert!(!err.to_string().contains(&pass));
    }
}

#[tokio::test]
async fn unknown_key_is_recorded_then_trusted() {
    let hosts = Hosts::start(1);
    let h = &hosts[0];
    let first = connect(root(h), &hosts).await;
    let new = first.new_host_key().expect("first use reports the key");
    assert_eq!(new.fingerprint, h.fingerprint());
    assert_eq!(new.addr, h.addr());
    let file = std::fs::read_to_string(known_file(&hosts)).unwrap();
    assert!(file.contains(h.host_public_key().as_str()), "{file}");
    let again = Session::connect(root(h), known(&hosts), HostKeyPolicy::Strict)
        .await
        .unwrap();
    assert_eq!(again.new_host_key(), None);
    assert_eq!(
        std::fs::read_to_string(known_file(&hosts)).unwrap(),
        file,
        "recorded twice"
    );
}

#[tokio::test]
async fn changed_host_key_is_refused_naming_both_fingerprints() {
    let mut hosts = Hosts::start(1);
    drop(connect(root(&hosts[0]), &hosts).await);
    let old = hosts[0].fingerprint();
    hosts[0].regenerate_host_key();
    let new = hosts[0].fingerprint();
    for policy in [HostKeyPolicy::AcceptNew, HostKeyPolicy::Strict] {
        let err = Session::connect(root(&hosts[0]), known(&hosts), policy)
            .await
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(
            matches!(err, SshError::HostKeyChanged { line: 1, .. }),
            "{msg}"
        );
        assert!(
            msg.contains(&old) && msg.contains(&new) && msg.contains(&hosts[0].addr()),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn strict_and_ask_policies_for_unknown_keys() {
    let hosts = Hosts::start(1);
    let h = &hosts[0];
    let err = Session::connect(root(h), known(&hosts), HostKeyPolicy::Strict)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, SshError::HostKeyUnknown { .. }), "{err}");
    assert!(err.to_string().contains(&h.fingerprint()) && err.to_string().contains(&h.addr()));
    assert!(!known_file(&hosts).exists());

    let asked = Arc::new(AtomicUsize::new(0));
    let mut slow = root(h);
    slow.connect_timeout = std::time::Duration::from_secs(1);
    let root = |_: &Host| slow.clone();
    let ask = |answer: bool| {
        let (asked, fp) = (asked.clone(), h.fingerprint());
        HostKeyPolicy::Ask(Arc::new(move |k| {
            assert_eq!(k.fingerprint, fp);
            asked.fetch_add(1, Ordering::SeqCst);
            // A human takes longer than the connect timeout; that must not fail the connect.
            Box::pin(async move {
                tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
                answer
            })
        }))
    };
    assert!(
        Session::connect(root(h), known(&hosts), ask(false))
            .await
            .is_err()
    );
    assert!(!known_file(&hosts).exists());
    Session::connect(root(h), known(&hosts), ask(true))
        .await
        .unwrap();
    Session::connect(root(h), known(&hosts), ask(true))
        .await
        .unwrap();
    assert_eq!(
        asked.load(Ordering::SeqCst),
        2,
        "asked again for a recorded key"
    );
}

#[tokio::test]
async fn unreachable_host_and_wrong_password_name_the_host() {
    let mut hosts = Hosts::start(1);
    let pw = hosts[0].password.clone();
    let err = Session::connect(
        sudo_user(&hosts[0], "not-it"),
        known(&hosts),
        HostKeyPolicy::AcceptNew,
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, SshError::Auth { .. }), "{err}");
    assert!(
        err.to_string().contains(&hosts[0].addr()) && !err.to_string().contains("not-it"),
        "{err}"
    );
    assert!(!err.to_string().contains(&pw));
    hosts[0].kill();
    let err = Session::connect(root(&hosts[0]), known(&hosts), HostKeyPolicy::AcceptNew)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, SshError::Connect { .. }), "{err}");
    assert!(err.to_string().contains(&hosts[0].addr()), "{err}");

    // Something that takes the TCP connection but never speaks SSH.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut mute = root(&hosts[0]).port(silent.local_addr().unwrap().port());
    mute.host = "127.0.0.1".into();
    mute.connect_timeout = std::time::Duration::from_secs(1);
    let addr = mute.addr();
    let err = Session::connect(mute, known(&hosts), HostKeyPolicy::AcceptNew)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, SshError::Timeout { secs: 1, .. }), "{err}");
    assert!(err.to_string().contains(&addr), "{err}");
}

#[tokio::test]
async fn agent_keys() {
    let hosts = Hosts::start(1);
    let sock = hosts.dir().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .spawn()
        .unwrap();
    let up = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        sock.exists()
    });
    assert!(up, "ssh-agent did not start");
    let agent_auth = Auth::Agent {
        socket: Some(sock.clone()),
    };
    let target = Target::new(&hosts[0].ip, "root", agent_auth).port(hosts[0].port);
    let empty = Session::connect(target.clone(), known(&hosts), HostKeyPolicy::AcceptNew)
        .await
        .err()
        .unwrap();
    assert!(matches!(empty, SshError::Auth { .. }), "{empty}");
    support::sh(
        std::process::Command::new("ssh-add")
            .arg(&hosts.key)
            .env("SSH_AUTH_SOCK", &sock),
    );
    let s = connect(target, &hosts).await;
    assert_eq!(
        texts(&s.output("id -u").await.unwrap().1, Stream::Stdout),
        ["0"]
    );
    agent.kill().unwrap();
    agent.wait().unwrap();
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
